/*
 * creds.c: credential parsers for the /login handler (see creds.h).
 */
#include <string.h>
#include <strings.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include "creds.h"
#include "util.h"

#define MAX_USER 256
#define MAX_PASSWORD 1024

/* A user name is printable UTF-8 and not too long (it becomes the
 * token's sub, a JSON string); a password is not empty, not too long
 * and holds no NUL (the caller checked lengths with the NUL-free
 * length). */
static int acceptable(const char *user, size_t ulen, const char *pw,
                      size_t plen)
{
    size_t i;

    if (ulen == 0 || ulen > MAX_USER || plen == 0 || plen > MAX_PASSWORD) {
        return 0;
    }
    if (memchr(pw, '\0', plen)) {
        return 0;
    }
    for (i = 0; i < ulen; i++) {
        unsigned char c = (unsigned char)user[i];
        if (c < 0x20 || c == 0x7f) {
            return 0;
        }
    }
    return jwt_utf8_valid(user, ulen);
}

int jwt_creds_basic(const char **user, const char **password, apr_pool_t *p,
                    const char *header)
{
    const char *s = header;
    char *b64u, *colon;
    unsigned char *dec;
    size_t len, pad = 0, i, declen;

    if (!header || strncasecmp(s, "Basic", 5) != 0 || (s[5] != ' ')) {
        return 0;
    }
    s += 5;
    while (*s == ' ') {
        s++;
    }
    len = strlen(s);
    /* RFC 4648 §4 base64 with its padding, translated to base64url so
     * that the one strict decoder of the core does the work */
    if (len == 0 || len % 4 != 0 || len > 4 * (MAX_USER + MAX_PASSWORD)) {
        return 0;
    }
    while (pad < 2 && s[len - 1 - pad] == '=') {
        pad++;
    }
    b64u = apr_pstrmemdup(p, s, len - pad);
    for (i = 0; i < len - pad; i++) {
        if (b64u[i] == '+') {
            b64u[i] = '-';
        }
        else if (b64u[i] == '/') {
            b64u[i] = '_';
        }
        else if (b64u[i] == '-' || b64u[i] == '_') {
            return 0;
        }
    }
    if (!jwt_b64url_decode(&dec, &declen, p, b64u, len - pad)) {
        return 0;
    }
    colon = memchr(dec, ':', declen);
    if (!colon) {
        return 0;
    }
    if (!acceptable((char *)dec, (size_t)(colon - (char *)dec), colon + 1,
                    declen - (size_t)(colon + 1 - (char *)dec))) {
        return 0;
    }
    *colon = '\0';
    *user = (const char *)dec;
    *password = colon + 1;
    return 1;
}

/* Decode one form component (%XX and '+'), NUL-terminated; 0 on a bad
 * escape. */
static int form_unescape(char **out, size_t *outlen, apr_pool_t *p,
                         const char *in, size_t len)
{
    char *buf = apr_palloc(p, len + 1), *o = buf;
    size_t i;

    for (i = 0; i < len; i++) {
        if (in[i] == '+') {
            *o++ = ' ';
        }
        else if (in[i] == '%') {
            if (i + 2 >= len || !apr_isxdigit(in[i + 1])
                || !apr_isxdigit(in[i + 2])) {
                return 0;
            }
            {
                char hex[3] = { in[i + 1], in[i + 2], '\0' };
                *o++ = (char)strtol(hex, NULL, 16);
            }
            i += 2;
        }
        else {
            *o++ = in[i];
        }
    }
    *o = '\0';
    *out = buf;
    *outlen = (size_t)(o - buf);
    return 1;
}

int jwt_creds_form(const char **user, const char **password, apr_pool_t *p,
                   const char *body, size_t len)
{
    const char *s = body, *end = body + len;
    char *u = NULL, *pw = NULL;
    size_t ulen = 0, plen = 0;

    if (len == 0 || len > JWT_CREDS_MAX_BODY) {
        return 0;
    }
    while (s < end) {
        const char *amp = memchr(s, '&', (size_t)(end - s));
        const char *pe = amp ? amp : end;
        const char *eq = memchr(s, '=', (size_t)(pe - s));
        char **slot = NULL;
        size_t *slotlen = NULL;

        if (eq) {
            if (eq - s == 8 && !memcmp(s, "username", 8)) {
                slot = &u;
                slotlen = &ulen;
            }
            else if (eq - s == 8 && !memcmp(s, "password", 8)) {
                slot = &pw;
                slotlen = &plen;
            }
        }
        if (slot) {
            if (*slot) {
                return 0;           /* each field exactly once */
            }
            if (!form_unescape(slot, slotlen, p, eq + 1,
                               (size_t)(pe - eq - 1))) {
                return 0;
            }
        }
        s = amp ? amp + 1 : end;
    }
    if (!u || !pw || !acceptable(u, ulen, pw, plen)) {
        return 0;
    }
    *user = u;
    *password = pw;
    return 1;
}

int jwt_creds_json(const char **user, const char **password, apr_pool_t *p,
                   const char *body, size_t len)
{
    json_t *obj, *u, *pw;

    if (len == 0 || len > JWT_CREDS_MAX_BODY) {
        return 0;
    }
    if (!(obj = jwt_json_object(p, body, len))) {
        return 0;
    }
    u = json_object_get(obj, "username");
    pw = json_object_get(obj, "password");
    if (!json_is_string(u) || !json_is_string(pw)
        || !acceptable(json_string_value(u), json_string_length(u),
                       json_string_value(pw), json_string_length(pw))) {
        return 0;
    }
    *user = apr_pstrdup(p, json_string_value(u));
    *password = apr_pstrdup(p, json_string_value(pw));
    return 1;
}
