/*
 * browser.c: what a browser needs beside an API client: whether a
 * request prefers a page (Accept), the local return_to of a login or
 * logout form, and the 303 to JWTAuthLoginPage that a browser gets
 * instead of the JSON 401.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apr_lib.h"
#include "apr_strings.h"

#include "ap_config.h"
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"

#include "glue.h"

/* The longest return_to kept; a longer one goes to "/".  Far beyond any
 * page of ours, short of httpd's LimitRequestLine. */
#define RETURN_TO_MAX 2048

/* Decode %XX in s[0..len) into a new string, once; a bad escape is kept
 * as it is (a browser keeps it too). */
static char *percent_decode(apr_pool_t *p, const char *s, size_t len)
{
    char *buf = apr_palloc(p, len + 1), *o = buf;
    size_t i;

    for (i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len && apr_isxdigit(s[i + 1])
            && apr_isxdigit(s[i + 2])) {
            char hex[3] = { s[i + 1], s[i + 2], '\0' };

            *o++ = (char)strtol(hex, NULL, 16);
            i += 2;
        }
        else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return buf;
}

/* Is s, as a browser would resolve it against this server, a path of
 * this server?  It must begin with exactly one '/' (never "//host",
 * which is another host, nor "/\host", which browsers read as "//"),
 * hold no backslash (browsers turn it into '/'), and only printable
 * ASCII (the URL parser drops tabs and newlines, so "/\t/evil" would be
 * "//evil"; a space or a byte above 0x7e has no place in a Location). */
static int local_path(const char *s)
{
    const unsigned char *c;

    if (s[0] != '/' || s[1] == '/' || s[1] == '\\') {
        return 0;
    }
    for (c = (const unsigned char *)s; *c; c++) {
        if (*c <= 0x20 || *c >= 0x7f || *c == '\\') {
            return 0;
        }
    }
    return 1;
}

/* The target of a return_to: value when it is a local path, and remains
 * one however often its %XX escapes are undone ("/%2F%2Fevil" and
 * "/%5Cevil" are "//evil" and "/\evil" to a server or browser that
 * decodes them, "/%252F..." after two rounds), else "/".  NULL or empty
 * is "/" too.  The value itself is returned, not a decoded form. */
const char *jwtauth_local_return_to(apr_pool_t *p, const char *value)
{
    const char *s = value;
    size_t len;
    int round;

    if (!value || !(len = strlen(value)) || len > RETURN_TO_MAX) {
        return "/";
    }
    for (round = 0; round < 4; round++) {
        const char *d;

        if (!local_path(s)) {
            return "/";
        }
        if (!strchr(s, '%')) {
            return value;
        }
        d = percent_decode(p, s, strlen(s));
        if (!strcmp(d, s)) {
            return value;
        }
        s = d;
    }
    /* still escapes after four rounds of decoding: nobody means that */
    return "/";
}
