/*
 * jwt_core.c: compact JWS (RFC 7515) and JWT (RFC 7519) for mod_jwtauth.
 *
 * No httpd header here: APR, jansson and OpenSSL 3 (EVP only).  See
 * jwt_core.h for the API and ownership rules.
 */
#include <string.h>
#include <math.h>

#include <apr_strings.h>

#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "jwt_core.h"

/* Upper bound of a compact token we look at; httpd's own request header
 * limit (8190 bytes) is well below it. */
#define JWT_MAX_TOKEN 65536

typedef struct {
    const char *name;
    jwt_kty_e kty;
    const char *digest;         /* OpenSSL digest name */
    size_t size;                /* MAC / hash output in bytes */
} jwt_alg_info_t;

static const jwt_alg_info_t jwt_algs[JWT_ALG_COUNT] = {
    [JWT_ALG_UNKNOWN] = { NULL, 0, NULL, 0 },
    [JWT_ALG_HS256] = { "HS256", JWT_KTY_OCT, "SHA256", 32 },
    [JWT_ALG_HS384] = { "HS384", JWT_KTY_OCT, "SHA384", 48 },
    [JWT_ALG_HS512] = { "HS512", JWT_KTY_OCT, "SHA512", 64 },
};

struct jwt_key {
    jwt_kty_e kty;
    const char *kid;
    unsigned algs;
    /* one keyed HMAC context per permitted HS algorithm; each use works
     * on a duplicate, so these are only ever read while serving */
    EVP_MAC_CTX *mac[JWT_ALG_COUNT];
};

static void set_err(jwt_error_t *err, jwt_errcode_e code, const char *reason)
{
    if (err) {
        err->code = code;
        err->reason = reason;
    }
}

jwt_alg_e jwt_alg_from_name(const char *name, size_t len)
{
    int i;

    for (i = 1; i < JWT_ALG_COUNT; i++) {
        if (strlen(jwt_algs[i].name) == len
            && memcmp(jwt_algs[i].name, name, len) == 0) {
            return (jwt_alg_e)i;
        }
    }
    return JWT_ALG_UNKNOWN;
}

const char *jwt_alg_name(jwt_alg_e alg)
{
    return (alg > JWT_ALG_UNKNOWN && alg < JWT_ALG_COUNT)
           ? jwt_algs[alg].name : NULL;
}

jwt_kty_e jwt_alg_kty(jwt_alg_e alg)
{
    return (alg > JWT_ALG_UNKNOWN && alg < JWT_ALG_COUNT)
           ? jwt_algs[alg].kty : 0;
}

/* ---------------------------------------------------------------- */
/* base64url                                                        */

static const char b64url_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* value of a base64url character, or -1 */
static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

int jwt_b64url_decode(unsigned char **out, size_t *outlen, apr_pool_t *p,
                      const char *in, size_t len)
{
    unsigned char *buf, *o;
    apr_uint32_t acc = 0;
    size_t i, rem = len % 4;
    int bits = 0, v;

    /* one leftover character carries only 6 bits: never valid */
    if (rem == 1) {
        return 0;
    }
    buf = o = apr_palloc(p, len / 4 * 3 + 3);
    for (i = 0; i < len; i++) {
        if ((v = b64url_value((unsigned char)in[i])) < 0) {
            return 0;
        }
        acc = (acc << 6) | (apr_uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *o++ = (unsigned char)(acc >> bits);
        }
    }
    /* canonical form: the bits left over must be zero */
    if (bits && (acc & ((1u << bits) - 1)) != 0) {
        return 0;
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

const char *jwt_claim_text(apr_pool_t *p, const json_t *claims,
                           const char *name)
{
    json_t *v = json_object_get(claims, name);
    char *text;
    const char *copy;

    if (!v) {
        return NULL;
    }
    if (json_is_string(v)) {
        return json_string_value(v);
    }
    text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text) {
        return NULL;
    }
    copy = apr_pstrdup(p, text);
    free(text);
    return copy;
}

/* ---------------------------------------------------------------- */
/* keys                                                             */

static apr_status_t key_cleanup(void *data)
{
    jwt_key_t *key = data;
    int i;

    for (i = 0; i < JWT_ALG_COUNT; i++) {
        EVP_MAC_CTX_free(key->mac[i]);
        key->mac[i] = NULL;
    }
    return APR_SUCCESS;
}

int jwt_key_hmac_create(jwt_key_t **out, apr_pool_t *p,
                        const unsigned char *secret, size_t len,
                        const char *kid, jwt_error_t *err)
{
    jwt_key_t *key;
    EVP_MAC *mac = NULL;
    OSSL_PARAM params[2];
    int i, ok = 0;

    if (len < jwt_algs[JWT_ALG_HS256].size) {
        set_err(err, JWT_ERR_KEY, apr_psprintf(p,
                "HMAC key is %" APR_SIZE_T_FMT " bytes; HS256 needs at "
                "least 32 (RFC 7518 section 3.2)", len));
        return 0;
    }
    key = apr_pcalloc(p, sizeof(*key));
    key->kty = JWT_KTY_OCT;
    key->kid = kid ? apr_pstrdup(p, kid) : NULL;
    apr_pool_cleanup_register(p, key, key_cleanup, apr_pool_cleanup_null);

    if (!(mac = EVP_MAC_fetch(NULL, "HMAC", NULL))) {
        set_err(err, JWT_ERR_INTERNAL, "OpenSSL has no HMAC");
        goto cleanup;
    }
    for (i = 1; i < JWT_ALG_COUNT; i++) {
        if (jwt_algs[i].kty != JWT_KTY_OCT || len < jwt_algs[i].size) {
            continue;
        }
        params[0] = OSSL_PARAM_construct_utf8_string(
                        OSSL_MAC_PARAM_DIGEST, (char *)jwt_algs[i].digest, 0);
        params[1] = OSSL_PARAM_construct_end();
        key->mac[i] = EVP_MAC_CTX_new(mac);
        if (!key->mac[i] || !EVP_MAC_init(key->mac[i], secret, len, params)) {
            set_err(err, JWT_ERR_INTERNAL, "cannot set up HMAC");
            goto cleanup;
        }
        key->algs |= JWT_ALG_BIT(i);
    }
    *out = key;
    ok = 1;

cleanup:
    EVP_MAC_free(mac);
    return ok;
}

jwt_kty_e jwt_key_kty(const jwt_key_t *key)
{
    return key->kty;
}

const char *jwt_key_kid(const jwt_key_t *key)
{
    return key->kid;
}

unsigned jwt_key_algs(const jwt_key_t *key)
{
    return key->algs;
}

/* HMAC of data with key under alg into mac (at least EVP_MAX_MD_SIZE). */
static int hmac_compute(const jwt_key_t *key, jwt_alg_e alg,
                        const char *data, size_t len,
                        unsigned char *mac, size_t *maclen)
{
    EVP_MAC_CTX *ctx;
    int ok;

    if (!key->mac[alg] || !(ctx = EVP_MAC_CTX_dup(key->mac[alg]))) {
        return 0;
    }
    ok = EVP_MAC_update(ctx, (const unsigned char *)data, len)
         && EVP_MAC_final(ctx, mac, maclen, EVP_MAX_MD_SIZE);
    EVP_MAC_CTX_free(ctx);
    return ok;
}

/* Does sig verify over signing input data with key under alg? */
static int key_verify(const jwt_key_t *key, jwt_alg_e alg,
                      const char *data, size_t len,
                      const unsigned char *sig, size_t siglen)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0;
    int ok;

    switch (key->kty) {
    case JWT_KTY_OCT:
        if (siglen != jwt_algs[alg].size
            || !hmac_compute(key, alg, data, len, mac, &maclen)
            || maclen != siglen) {
            return 0;
        }
        ok = CRYPTO_memcmp(mac, sig, siglen) == 0;
        OPENSSL_cleanse(mac, sizeof(mac));
        return ok;
    }
    return 0;
}

/* ---------------------------------------------------------------- */
/* claims                                                           */

/* A NumericDate claim (RFC 7519 §2): an integer or a finite real.
 * Returns 1 and *value when present and numeric, 0 when absent,
 * -1 when present with another type. */
static int numeric_date(const json_t *claims, const char *name, double *value)
{
    json_t *v = json_object_get(claims, name);

    if (!v) {
        return 0;
    }
    if (json_is_integer(v)) {
        *value = (double)json_integer_value(v);
        return 1;
    }
    if (json_is_real(v) && isfinite(json_real_value(v))) {
        *value = json_real_value(v);
        return 1;
    }
    return -1;
}

static int string_equals(const json_t *v, const char *want)
{
    size_t len;

    if (!json_is_string(v)) {
        return 0;
    }
    len = json_string_length(v);
    return strlen(want) == len && memcmp(json_string_value(v), want, len) == 0;
}

static int audience_matches(const json_t *aud, const apr_array_header_t *want)
{
    size_t i;
    int j;
    json_t *v;

    for (j = 0; j < want->nelts; j++) {
        const char *w = APR_ARRAY_IDX(want, j, const char *);

        if (json_is_string(aud)) {
            if (string_equals(aud, w)) {
                return 1;
            }
        }
        else {
            json_array_foreach(aud, i, v) {
                if (string_equals(v, w)) {
                    return 1;
                }
            }
        }
    }
    return 0;
}

static int check_claims(const json_t *claims, const jwt_policy_t *pol,
                        apr_int64_t now, jwt_error_t *err)
{
    double t, lo = (double)now - (double)pol->leeway,
           hi = (double)now + (double)pol->leeway;
    json_t *v;
    int rc;

    /* exp is required: a token that never expires is refused */
    rc = numeric_date(claims, "exp", &t);
    if (rc == 0) {
        set_err(err, JWT_ERR_MISSING, "no exp claim");
        return 0;
    }
    if (rc < 0) {
        set_err(err, JWT_ERR_CLAIM, "exp is not a NumericDate");
        return 0;
    }
    if (t <= lo) {
        set_err(err, JWT_ERR_EXPIRED, "token expired");
        return 0;
    }
    rc = numeric_date(claims, "nbf", &t);
    if (rc < 0) {
        set_err(err, JWT_ERR_CLAIM, "nbf is not a NumericDate");
        return 0;
    }
    if (rc > 0 && t > hi) {
        set_err(err, JWT_ERR_NOT_YET, "token not yet valid (nbf)");
        return 0;
    }
    rc = numeric_date(claims, "iat", &t);
    if (rc < 0) {
        set_err(err, JWT_ERR_CLAIM, "iat is not a NumericDate");
        return 0;
    }
    if (rc > 0 && t > hi) {
        set_err(err, JWT_ERR_NOT_YET, "token issued in the future (iat)");
        return 0;
    }
    if (pol->issuer) {
        if (!(v = json_object_get(claims, "iss"))) {
            set_err(err, JWT_ERR_MISSING, "no iss claim");
            return 0;
        }
        if (!string_equals(v, pol->issuer)) {
            set_err(err, JWT_ERR_ISSUER, "iss does not match");
            return 0;
        }
    }
    if (pol->audiences && pol->audiences->nelts > 0) {
        if (!(v = json_object_get(claims, "aud"))) {
            set_err(err, JWT_ERR_MISSING, "no aud claim");
            return 0;
        }
        if (!json_is_string(v) && !json_is_array(v)) {
            set_err(err, JWT_ERR_CLAIM, "aud is neither string nor array");
            return 0;
        }
        if (!audience_matches(v, pol->audiences)) {
            set_err(err, JWT_ERR_AUDIENCE, "aud does not match");
            return 0;
        }
    }
    return 1;
}

/* ---------------------------------------------------------------- */
/* verify and sign                                                  */

/* Check the protected header; on success *alg and *kid are set. */
static int check_header(const json_t *hdr, const jwt_policy_t *pol,
                        jwt_alg_e *alg, const char **kid, jwt_error_t *err)
{
    json_t *v = json_object_get(hdr, "alg");

    if (!json_is_string(v)) {
        set_err(err, JWT_ERR_ALG, "alg missing or not a string");
        return 0;
    }
    *alg = jwt_alg_from_name(json_string_value(v), json_string_length(v));
    if (*alg == JWT_ALG_UNKNOWN) {
        set_err(err, JWT_ERR_ALG, "alg unknown or none");
        return 0;
    }
    if (!(pol->algs & JWT_ALG_BIT(*alg))) {
        set_err(err, JWT_ERR_ALG, "alg not allowed here");
        return 0;
    }
    /* we implement no extension, so any crit is one we do not
     * understand (RFC 7515 §4.1.11) */
    if (json_object_get(hdr, "crit")) {
        set_err(err, JWT_ERR_HEADER, "crit header present");
        return 0;
    }
    *kid = NULL;
    if ((v = json_object_get(hdr, "kid"))) {
        if (!json_is_string(v)) {
            set_err(err, JWT_ERR_HEADER, "kid is not a string");
            return 0;
        }
        *kid = json_string_value(v);
    }
    return 1;
}

/* Try the policy's keys that may run alg (and match kid, when given). */
static int verify_signature(const jwt_policy_t *pol, jwt_alg_e alg,
                            const char *kid, const char *input, size_t ilen,
                            const unsigned char *sig, size_t siglen,
                            jwt_error_t *err)
{
    int i, pass, tried = 0;

    /* first pass: keys named by kid; second pass (only when no key
     * carries that kid, or the token has none): keys without a kid */
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; pol->keys && i < pol->keys->nelts; i++) {
            const jwt_key_t *key = APR_ARRAY_IDX(pol->keys, i,
                                                 const jwt_key_t *);
            if (!(key->algs & JWT_ALG_BIT(alg))) {
                continue;
            }
            if (pass == 0 && !(kid && key->kid && !strcmp(kid, key->kid))) {
                continue;
            }
            if (pass == 1 && kid && key->kid) {
                continue;
            }
            tried++;
            if (key_verify(key, alg, input, ilen, sig, siglen)) {
                return 1;
            }
        }
        if (tried && pass == 0) {
            break;
        }
    }
    set_err(err, tried ? JWT_ERR_SIGNATURE : JWT_ERR_KEY,
            tried ? "signature does not verify" : "no key for this alg/kid");
    return 0;
}

int jwt_verify(jwt_t **out, apr_pool_t *p, const char *token, size_t len,
               const jwt_policy_t *pol, apr_int64_t now, jwt_error_t *err)
{
    const char *dot1, *dot2;
    unsigned char *hbuf, *pbuf, *sig;
    size_t hlen, plen, siglen;
    json_t *hdr, *claims;
    jwt_alg_e alg;
    const char *kid;
    jwt_t *jwt;

    if (len == 0 || len > JWT_MAX_TOKEN) {
        set_err(err, JWT_ERR_MALFORMED, "token empty or too long");
        return 0;
    }
    dot1 = memchr(token, '.', len);
    dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token))
                : NULL;
    if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token))) {
        set_err(err, JWT_ERR_MALFORMED, "not three dot-separated parts");
        return 0;
    }
    if (dot1 == token || dot2 == dot1 + 1 || dot2 + 1 == token + len) {
        set_err(err, JWT_ERR_MALFORMED, "empty part");
        return 0;
    }
    if (!jwt_b64url_decode(&hbuf, &hlen, p, token, (size_t)(dot1 - token))
        || !jwt_b64url_decode(&sig, &siglen, p, dot2 + 1,
                              len - (size_t)(dot2 + 1 - token))) {
        set_err(err, JWT_ERR_MALFORMED, "header or signature not base64url");
        return 0;
    }
    if (!(hdr = jwt_json_object(p, (const char *)hbuf, hlen))) {
        set_err(err, JWT_ERR_MALFORMED, "header is not a JSON object");
        return 0;
    }
    if (!check_header(hdr, pol, &alg, &kid, err)) {
        return 0;
    }
    /* the signature is checked before the payload is even decoded */
    if (!verify_signature(pol, alg, kid, token, (size_t)(dot2 - token),
                          sig, siglen, err)) {
        return 0;
    }
    if (!jwt_b64url_decode(&pbuf, &plen, p, dot1 + 1,
                           (size_t)(dot2 - dot1 - 1))) {
        set_err(err, JWT_ERR_MALFORMED, "payload not base64url");
        return 0;
    }
    if (!(claims = jwt_json_object(p, (const char *)pbuf, plen))) {
        set_err(err, JWT_ERR_MALFORMED, "payload is not a JSON object");
        return 0;
    }
    if (!check_claims(claims, pol, now, err)) {
        return 0;
    }
    jwt = apr_palloc(p, sizeof(*jwt));
    jwt->alg = alg;
    jwt->kid = kid;
    jwt->header = hdr;
    jwt->claims = claims;
    *out = jwt;
    set_err(err, JWT_OK, NULL);
    return 1;
}

/* base64url of the compact JSON text of obj */
static char *encode_json(apr_pool_t *p, const json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT);
    char *enc;

    if (!text) {
        return NULL;
    }
    enc = jwt_b64url_encode(p, (const unsigned char *)text, strlen(text));
    free(text);
    return enc;
}

int jwt_sign(const char **out, apr_pool_t *p, const jwt_key_t *key,
             jwt_alg_e alg, json_t *claims, jwt_error_t *err)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0;
    json_t *hdr;
    char *h, *c, *input;

    if (alg <= JWT_ALG_UNKNOWN || alg >= JWT_ALG_COUNT
        || !(key->algs & JWT_ALG_BIT(alg))) {
        set_err(err, JWT_ERR_KEY, "key cannot sign with this alg");
        return 0;
    }
    hdr = jwt_json_pool(p, json_pack("{s:s, s:s}", "alg", jwt_algs[alg].name,
                                     "typ", "JWT"));
    if (!hdr || (key->kid && json_object_set_new(hdr, "kid",
                                                 json_string(key->kid)))) {
        set_err(err, JWT_ERR_INTERNAL, "cannot build header");
        return 0;
    }
    if (!(h = encode_json(p, hdr)) || !(c = encode_json(p, claims))) {
        set_err(err, JWT_ERR_INTERNAL, "cannot encode JSON");
        return 0;
    }
    input = apr_pstrcat(p, h, ".", c, NULL);
    switch (key->kty) {
    case JWT_KTY_OCT:
        if (!hmac_compute(key, alg, input, strlen(input), mac, &maclen)) {
            set_err(err, JWT_ERR_INTERNAL, "HMAC failed");
            return 0;
        }
        break;
    default:
        set_err(err, JWT_ERR_KEY, "unsupported key type");
        return 0;
    }
    *out = apr_pstrcat(p, input, ".", jwt_b64url_encode(p, mac, maclen),
                       NULL);
    OPENSSL_cleanse(mac, sizeof(mac));
    return 1;
}
