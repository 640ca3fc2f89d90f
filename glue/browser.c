/*
 * browser.c: what a browser needs beside an API client: whether a
 * request prefers a page (Accept), one field of a login or logout form,
 * the local return_to of such a form, and the 303 to JWTAuthLoginPage
 * that a browser gets instead of the JSON 401.
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

/* One field of a form body s[0..len), read within len alone: the field
 * is "name=value" or a bare "name" (the value ""), name compared as sent
 * (undecoded), fields split at '&'.  A field given twice is refused, so
 * that neither the first nor the last wins; so is a value with a NUL
 * byte, raw (ap_unescape_urlencoded would stop at it) or as %00. */
int jwtauth_form_field(apr_pool_t *p, const char *s, apr_size_t len,
                       const char *name, const char **value)
{
    const char *end = s + len, *got = NULL;
    size_t nlen = strlen(name);

    while (s < end) {
        const char *amp = memchr(s, '&', (size_t)(end - s));
        const char *fe = amp ? amp : end;
        size_t flen = (size_t)(fe - s);

        if (flen >= nlen && !memcmp(s, name, nlen)
            && (flen == nlen || s[nlen] == '=')) {
            const char *v = flen > nlen ? s + nlen + 1 : fe;
            char *d;

            if (got || memchr(v, '\0', (size_t)(fe - v))) {
                return -1;
            }
            /* '+' and %XX; a bad escape and %00 are refused */
            d = apr_pstrmemdup(p, v, (size_t)(fe - v));
            if (ap_unescape_urlencoded(d) != OK) {
                return -1;
            }
            got = d;
        }
        s = amp ? amp + 1 : end;
    }
    if (!got) {
        return 0;
    }
    *value = got;
    return 1;
}

/* One qvalue (RFC 9110 section 12.4.2): "0", "0.5", "1.000", in
 * thousandths; -1 when s[0..len) is none. */
static int qvalue(const char *s, size_t len)
{
    int q, scale = 100;
    size_t i;

    if (!len || (s[0] != '0' && s[0] != '1')) {
        return -1;
    }
    q = (s[0] - '0') * 1000;
    if (len == 1) {
        return q;
    }
    if (s[1] != '.' || len > 5) {
        return -1;
    }
    for (i = 2; i < len; i++, scale /= 10) {
        if (!apr_isdigit(s[i])) {
            return -1;
        }
        q += (s[i] - '0') * scale;
    }
    return q > 1000 ? -1 : q;
}

/* Does r's Accept prefer an HTML page to JSON?  text/html (or text/ *)
 * must have a higher q than application/json gets (from its own range,
 * application/ * or * / *, the most specific one that names it, RFC 9110
 * section 12.5.1) and than * / *.  A browser's navigation ("text/html,
 * ...,* / *;q=0.8") does; curl's "* / *", an API client's
 * "application/json" or no Accept at all do not; neither does a tie.  A
 * media range whose q is no qvalue is left out. */
int jwtauth_prefers_html(const request_rec *r)
{
    const char *s = apr_table_get(r->headers_in, "Accept");
    int html = -1, html_spec = -1, json = -1, json_spec = -1, any = -1;

    while (s && *s) {
        const char *end = strchr(s, ','), *semi, *p;
        size_t len = end ? (size_t)(end - s) : strlen(s), tlen;
        int q = 1000;

        while (len && (*s == ' ' || *s == '\t')) {
            s++;
            len--;
        }
        semi = memchr(s, ';', len);
        tlen = semi ? (size_t)(semi - s) : len;
        while (tlen && (s[tlen - 1] == ' ' || s[tlen - 1] == '\t')) {
            tlen--;
        }
        /* the parameters: only q counts */
        for (p = semi; p && p < s + len; ) {
            const char *next = memchr(p + 1, ';', (size_t)(s + len - p - 1));
            const char *pe = next ? next : s + len;

            p++;
            while (p < pe && (*p == ' ' || *p == '\t')) {
                p++;
            }
            if (pe - p >= 2 && (*p == 'q' || *p == 'Q') && p[1] == '=') {
                const char *v = p + 2, *ve = pe;

                while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) {
                    ve--;
                }
                q = qvalue(v, (size_t)(ve - v));
            }
            p = next;
        }
        if (q >= 0) {
#define RANGE_IS(t) (tlen == sizeof(t) - 1 && !strncasecmp(s, t, tlen))
            if (RANGE_IS("text/html") && html_spec < 2) {
                html = q;
                html_spec = 2;
            }
            else if (RANGE_IS("text/*") && html_spec < 1) {
                html = q;
                html_spec = 1;
            }
            else if (RANGE_IS("application/json") && json_spec < 2) {
                json = q;
                json_spec = 2;
            }
            else if (RANGE_IS("application/*") && json_spec < 1) {
                json = q;
                json_spec = 1;
            }
            else if (RANGE_IS("*/*")) {
                any = q;
                if (json_spec < 0) {
                    json = q;
                    json_spec = 0;
                }
            }
#undef RANGE_IS
        }
        s = end ? end + 1 : NULL;
    }
    return html > 0 && html > json && html > any;
}

/* s percent-encoded as one query component: all but unreserved
 * characters (RFC 3986 section 2.3) and '/' escaped. */
const char *jwtauth_query_escape(apr_pool_t *p, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *buf = apr_palloc(p, 3 * strlen(s) + 1), *o = buf;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (apr_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~'
            || c == '/') {
            *o++ = (char)c;
        }
        else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    return buf;
}

/* JWTAuthLoginPage with query appended ('&' when it has a query of its
 * own). */
const char *jwtauth_login_page_url(request_rec *r,
                                   const jwtauth_dir_conf *conf,
                                   const char *query)
{
    return apr_pstrcat(r->pool, conf->login_page,
                       strchr(conf->login_page, '?') ? "&" : "?", query,
                       NULL);
}

/* The path and query the browser asked for: those of the request that
 * came in (an internal redirect's first request), as it sent them. */
static const char *asked_for(request_rec *r)
{
    while (r->prev) {
        r = r->prev;
    }
    while (r->main) {
        r = r->main;
    }
    if (!r->parsed_uri.path) {
        return "/";
    }
    return r->parsed_uri.query
           ? apr_pstrcat(r->pool, r->parsed_uri.path, "?",
                         r->parsed_uri.query, NULL)
           : r->parsed_uri.path;
}

/* A browser's refusal: 303 to the login page with the return_to it
 * asked for (a local path: jwtauth_local_return_to, as the login form
 * will check it again).  Not cached, and varying with Accept, since an
 * API client gets the JSON 401 at the same URL. */
int jwtauth_login_page_redirect(request_rec *r, const jwtauth_dir_conf *conf)
{
    if (r->main || !conf->cookie || !conf->login_page
        || !jwtauth_prefers_html(r)) {
        return DECLINED;
    }
    apr_table_setn(r->headers_out, "Location", jwtauth_login_page_url(
        r, conf, apr_pstrcat(r->pool, "return_to=", jwtauth_query_escape(
            r->pool, jwtauth_local_return_to(r->pool, asked_for(r))),
            NULL)));
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    apr_table_mergen(r->err_headers_out, "Vary", "Accept");
    return HTTP_SEE_OTHER;
}
