/*
 * util.c: what every part of the JOSE core uses: errors, strict
 * base64url (RFC 7515 section 2) and jansson values tied to pools.
 *
 * No httpd header: APR and jansson.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "util.h"

const char *jwt_error_name(jwt_errcode_e code)
{
    static const char *const names[] = {
        [JWT_OK] = "ok",
        [JWT_ERR_MALFORMED] = "malformed",
        [JWT_ERR_ALG] = "alg",
        [JWT_ERR_HEADER] = "header",
        [JWT_ERR_KEY] = "key",
        [JWT_ERR_SIGNATURE] = "signature",
        [JWT_ERR_EXPIRED] = "expired",
        [JWT_ERR_NOT_YET] = "not_yet_valid",
        [JWT_ERR_CLAIM] = "claim",
        [JWT_ERR_MISSING] = "claim",
        [JWT_ERR_ISSUER] = "issuer",
        [JWT_ERR_AUDIENCE] = "audience",
        [JWT_ERR_INTERNAL] = "internal",
    };

    return (unsigned)code < sizeof(names) / sizeof(names[0]) && names[code]
           ? names[code] : "internal";
}

void jwt_set_err(jwt_error_t *err, jwt_errcode_e code, const char *reason)
{
    if (err) {
        err->code = code;
        err->reason = reason;
    }
}

/* ---------------------------------------------------------------- */
/* base64url                                                        */

static const char b64url_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* value of each base64url character, 64 for everything else */
static const unsigned char b64url_values[256] = {
#define X64 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64
    X64, X64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 62, 64, 64,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 64, 64, 64, 64, 64, 64,
    64,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 64, 64, 64, 64, 63,
    64, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 64, 64, 64, 64, 64,
    X64, X64, X64, X64, X64, X64, X64, X64
#undef X64
};

int jwt_b64url_decode(unsigned char **out, size_t *outlen, apr_pool_t *p,
                      const char *in, size_t len)
{
    const unsigned char *s = (const unsigned char *)in;
    unsigned char *buf, *o;
    size_t i, full = len / 4 * 4, rem = len % 4;
    unsigned a, b, c, d;

    /* one leftover character carries only 6 bits: never valid */
    if (rem == 1) {
        return 0;
    }
    buf = o = apr_palloc(p, len / 4 * 3 + 3);
    for (i = 0; i < full; i += 4) {
        a = b64url_values[s[i]];
        b = b64url_values[s[i + 1]];
        c = b64url_values[s[i + 2]];
        d = b64url_values[s[i + 3]];
        if ((a | b | c | d) & 64) {
            return 0;
        }
        *o++ = (unsigned char)(a << 2 | b >> 4);
        *o++ = (unsigned char)(b << 4 | c >> 2);
        *o++ = (unsigned char)(c << 6 | d);
    }
    if (rem) {
        a = b64url_values[s[i]];
        b = b64url_values[s[i + 1]];
        c = rem == 3 ? b64url_values[s[i + 2]] : 0;
        if ((a | b | c) & 64) {
            return 0;
        }
        /* canonical form: the bits past the last whole byte are zero */
        if ((rem == 2 && (b & 15)) || (rem == 3 && (c & 3))) {
            return 0;
        }
        *o++ = (unsigned char)(a << 2 | b >> 4);
        if (rem == 3) {
            *o++ = (unsigned char)(b << 4 | c >> 2);
        }
    }
    *o = '\0';
    *out = buf;
    *outlen = (size_t)(o - buf);
    return 1;
}

char *jwt_b64url_encode(apr_pool_t *p, const unsigned char *in, size_t len)
{
    char *buf = apr_palloc(p, (len + 2) / 3 * 4 + 1), *o = buf;
    size_t i;

    for (i = 0; i + 2 < len; i += 3) {
        *o++ = b64url_chars[in[i] >> 2];
        *o++ = b64url_chars[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
        *o++ = b64url_chars[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
        *o++ = b64url_chars[in[i + 2] & 63];
    }
    if (len - i == 1) {
        *o++ = b64url_chars[in[i] >> 2];
        *o++ = b64url_chars[(in[i] & 3) << 4];
    }
    else if (len - i == 2) {
        *o++ = b64url_chars[in[i] >> 2];
        *o++ = b64url_chars[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
        *o++ = b64url_chars[(in[i + 1] & 15) << 2];
    }
    *o = '\0';
    return buf;
}

/* ---------------------------------------------------------------- */
/* JSON                                                             */

static apr_status_t json_cleanup(void *data)
{
    json_decref((json_t *)data);
    return APR_SUCCESS;
}

char *jwt_json_dump(apr_pool_t *p, const json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY), *copy;

    if (!text) {
        return NULL;
    }
    copy = apr_pstrdup(p, text);
    free(text);
    return copy;
}

json_t *jwt_json_pool(apr_pool_t *p, json_t *json)
{
    if (json) {
        apr_pool_cleanup_register(p, json, json_cleanup,
                                  apr_pool_cleanup_null);
    }
    return json;
}

json_t *jwt_json_object(apr_pool_t *p, const char *text, size_t len)
{
    json_error_t jerr;
    json_t *json;

    /* duplicates refused (RFC 7515 §5.2, RFC 8725 §3.x parser
     * differentials); trailing bytes refused (no DISABLE_EOF_CHECK);
     * \u0000 refused (no ALLOW_NUL) */
    json = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json) {
        return NULL;
    }
    if (!json_is_object(json)) {
        json_decref(json);
        return NULL;
    }
    return jwt_json_pool(p, json);
}

/* ---------------------------------------------------------------- */
/* UTF-8                                                            */

/* One UTF-8 sequence starting at s (s[0] >= 0x80), as jansson checks
 * it: no overlong form, no surrogate, nothing above U+10FFFF.  Returns
 * its length, or 0. */
int jwt_utf8_seq(const unsigned char *s, const unsigned char *end)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    int n, i;

    if (c < 0xc2 || c > 0xf4) {
        return 0;
    }
    n = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    if (end - s < n) {
        return 0;
    }
    if (c == 0xe0) {
        lo = 0xa0;
    }
    else if (c == 0xed) {
        hi = 0x9f;
    }
    else if (c == 0xf0) {
        lo = 0x90;
    }
    else if (c == 0xf4) {
        hi = 0x8f;
    }
    if (s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (i = 2; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
    }
    return n;
}

int jwt_utf8_valid(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text, *end = s + len;
    int n;

    while (s < end) {
        if (*s < 0x80) {
            s++;
        }
        else if ((n = jwt_utf8_seq(s, end))) {
            s += n;
        }
        else {
            return 0;
        }
    }
    return 1;
}
