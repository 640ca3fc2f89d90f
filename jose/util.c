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
#define B64V(c) ((c) >= 'A' && (c) <= 'Z' ? (c) - 'A'                    \
                 : (c) >= 'a' && (c) <= 'z' ? (c) - 'a' + 26             \
                 : (c) >= '0' && (c) <= '9' ? (c) - '0' + 52             \
                 : (c) == '-' ? 62 : (c) == '_' ? 63 : 64)

/* F(0) ... F(255), for tables computed by the compiler */
#define R4(F, n)   F(n), F((n) + 1), F((n) + 2), F((n) + 3)
#define R16(F, n)  R4(F, n), R4(F, (n) + 4), R4(F, (n) + 8), R4(F, (n) + 12)
#define R64(F, n)  R16(F, n), R16(F, (n) + 16), R16(F, (n) + 32),            \
                   R16(F, (n) + 48)
#define R256(F)    R64(F, 0), R64(F, 64), R64(F, 128), R64(F, 192)

static const unsigned char b64url_values[256] = { R256(B64V) };

/* One group of 4 characters decodes through one lookup each: the
 * character's 6 bits already in their place among the group's 3 bytes,
 * laid out as a little-endian word holds them (byte 0 first), and a
 * character outside the alphabet sets bit 24, which no valid one does. */
#define B64BAD 0x01000000u
#define B64D(c, expr) (B64V(c) == 64 ? B64BAD : (apr_uint32_t)(expr))
#define D0(c) B64D(c, B64V(c) << 2)
#define D1(c) B64D(c, B64V(c) >> 4 | (B64V(c) & 15) << 12)
#define D2(c) B64D(c, B64V(c) >> 2 << 8 | (B64V(c) & 3) << 22)
#define D3(c) B64D(c, B64V(c) << 16)

static const apr_uint32_t b64url_d[4][256] = {
    { R256(D0) }, { R256(D1) }, { R256(D2) }, { R256(D3) }
};

int jwt_b64url_decode(unsigned char **out, size_t *outlen, apr_pool_t *p,
                      const char *in, size_t len)
{
    const unsigned char *s = (const unsigned char *)in, *end;
    unsigned char *buf, *o;
    size_t rem = len % 4;
    unsigned a, b, c;
    apr_uint32_t w;

    /* one leftover character carries only 6 bits: never valid */
    if (rem == 1) {
        return 0;
    }
    /* room for the 3 bytes of each group, the last one's 4-byte store
     * (its fourth byte is overwritten after) and the NUL */
    buf = o = apr_palloc(p, len / 4 * 3 + 3);
    for (end = s + (len - rem); s < end; s += 4, o += 3) {
        w = b64url_d[0][s[0]] | b64url_d[1][s[1]] | b64url_d[2][s[2]]
            | b64url_d[3][s[3]];
        if (w & B64BAD) {
            return 0;
        }
#if APR_IS_BIGENDIAN
        o[0] = (unsigned char)w;
        o[1] = (unsigned char)(w >> 8);
        o[2] = (unsigned char)(w >> 16);
#else
        memcpy(o, &w, 4);
#endif
    }
    if (rem) {
        a = b64url_values[s[0]];
        b = b64url_values[s[1]];
        c = rem == 3 ? b64url_values[s[2]] : 0;
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
