/*
 * jwt_core.c: compact JWS (RFC 7515) and JWT (RFC 7519) for mod_jwtauth.
 *
 * No httpd header here: APR, jansson and OpenSSL 3 (EVP only).  See
 * jwt_core.h for the API and ownership rules.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rsa.h>

#include "jwt_internal.h"

/* Upper bound of a compact token we look at; httpd's own request header
 * limit (8190 bytes) is well below it. */
#define JWT_MAX_TOKEN 65536

const jwt_alg_info_t jwt_algs[JWT_ALG_COUNT] = {
    [JWT_ALG_UNKNOWN] = { NULL, 0, NULL, 0, 0, NULL },
    [JWT_ALG_HS256] = { "HS256", JWT_KTY_OCT, "SHA256", 32, 0, NULL },
    [JWT_ALG_HS384] = { "HS384", JWT_KTY_OCT, "SHA384", 48, 0, NULL },
    [JWT_ALG_HS512] = { "HS512", JWT_KTY_OCT, "SHA512", 64, 0, NULL },
    [JWT_ALG_RS256] = { "RS256", JWT_KTY_RSA, "SHA256", 0, 0, NULL },
    [JWT_ALG_RS384] = { "RS384", JWT_KTY_RSA, "SHA384", 0, 0, NULL },
    [JWT_ALG_RS512] = { "RS512", JWT_KTY_RSA, "SHA512", 0, 0, NULL },
    [JWT_ALG_PS256] = { "PS256", JWT_KTY_RSA, "SHA256", 0, 1, NULL },
    [JWT_ALG_PS384] = { "PS384", JWT_KTY_RSA, "SHA384", 0, 1, NULL },
    [JWT_ALG_PS512] = { "PS512", JWT_KTY_RSA, "SHA512", 0, 1, NULL },
    [JWT_ALG_ES256] = { "ES256", JWT_KTY_EC, "SHA256", 32, 0, "prime256v1",
                        "P-256" },
    [JWT_ALG_ES384] = { "ES384", JWT_KTY_EC, "SHA384", 48, 0, "secp384r1",
                        "P-384" },
    [JWT_ALG_ES512] = { "ES512", JWT_KTY_EC, "SHA512", 66, 0, "secp521r1",
                        "P-521" },
    [JWT_ALG_ES256K] = { "ES256K", JWT_KTY_EC, "SHA256", 32, 0,
                         "secp256k1", "secp256k1" },
    [JWT_ALG_EDDSA] = { "EdDSA", JWT_KTY_OKP, NULL, 64, 0, "ED25519",
                        "Ed25519" },
};

void jwt_set_err(jwt_error_t *err, jwt_errcode_e code, const char *reason)
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
/* signatures                                                       */

/* HMAC of data with key under alg into mac (at least EVP_MAX_MD_SIZE). */
static int hmac_compute(const jwt_key_t *key, jwt_alg_e alg,
                        const unsigned char *data, size_t len,
                        unsigned char *mac, size_t *maclen)
{
    EVP_MAC_CTX *ctx;
    int ok;

    if (!key->mac[alg] || !(ctx = EVP_MAC_CTX_dup(key->mac[alg]))) {
        return 0;
    }
    ok = EVP_MAC_update(ctx, data, len)
         && EVP_MAC_final(ctx, mac, maclen, EVP_MAX_MD_SIZE);
    EVP_MAC_CTX_free(ctx);
    return ok;
}

/* A digest-sign/verify context for alg with pkey, PSS set up as RFC 7518
 * section 3.5 says (MGF1 with the same hash, salt as long as the hash). */
static EVP_MD_CTX *pkey_ctx(const jwt_key_t *key, jwt_alg_e alg, int sign)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok;

    if (!md) {
        return NULL;
    }
    ok = sign ? EVP_DigestSignInit_ex(md, &pctx, jwt_algs[alg].digest, NULL,
                                      NULL, key->pkey, NULL)
              : EVP_DigestVerifyInit_ex(md, &pctx, jwt_algs[alg].digest, NULL,
                                        NULL, key->pkey, NULL);
    if (ok && jwt_algs[alg].pss) {
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0
             && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
                                                 RSA_PSS_SALTLEN_DIGEST) > 0;
    }
    else if (ok && key->kty == JWT_KTY_RSA) {
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0;
    }
    if (!ok) {
        EVP_MD_CTX_free(md);
        return NULL;
    }
    return md;
}

/* ECDSA in JWS is R || S, each exactly the curve's size (RFC 7518
 * section 3.4); OpenSSL speaks DER.  Refuses zero R or S outright
 * (CVE-2022-21449) before OpenSSL would. */
static unsigned char *ecdsa_rs_to_der(const unsigned char *sig, size_t n,
                                      int *derlen)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, (int)n, NULL);
    BIGNUM *s = BN_bin2bn(sig + n, (int)n, NULL);
    unsigned char *der = NULL;

    *derlen = 0;
    if (es && r && s && !BN_is_zero(r) && !BN_is_zero(s)
        && ECDSA_SIG_set0(es, r, s)) {
        r = s = NULL;                   /* owned by es now */
        *derlen = i2d_ECDSA_SIG(es, &der);
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return *derlen > 0 ? der : NULL;
}

int jwt_key_verify(const jwt_key_t *key, jwt_alg_e alg,
                   const unsigned char *data, size_t len,
                   const unsigned char *sig, size_t siglen)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned char *der = NULL;
    size_t maclen = 0;
    EVP_MD_CTX *md;
    int derlen, ok = 0;

    if (alg <= JWT_ALG_UNKNOWN || alg >= JWT_ALG_COUNT
        || !(key->algs & JWT_ALG_BIT(alg))) {
        return 0;
    }
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
    case JWT_KTY_EC:
        /* the fixed length also turns away DER-encoded signatures */
        if (siglen != 2 * jwt_algs[alg].size
            || !(der = ecdsa_rs_to_der(sig, jwt_algs[alg].size, &derlen))) {
            return 0;
        }
        sig = der;
        siglen = (size_t)derlen;
        break;
    case JWT_KTY_RSA:
        if (siglen != (size_t)EVP_PKEY_get_size(key->pkey)) {
            return 0;
        }
        break;
    case JWT_KTY_OKP:
        if (siglen != jwt_algs[alg].size) {
            return 0;
        }
        break;
    }
    if ((md = pkey_ctx(key, alg, 0))) {
        ok = EVP_DigestVerify(md, sig, siglen, data, len) == 1;
        EVP_MD_CTX_free(md);
    }
    OPENSSL_free(der);
    return ok;
}

/* The JWS signature of data with key under alg, in JWS form. */
static int key_sign(apr_pool_t *p, const jwt_key_t *key, jwt_alg_e alg,
                    const unsigned char *data, size_t len,
                    unsigned char **sig, size_t *siglen)
{
    EVP_MD_CTX *md;
    ECDSA_SIG *es = NULL;
    unsigned char *buf;
    const unsigned char *q;
    size_t n = 0;
    int ok = 0;

    if (key->kty == JWT_KTY_OCT) {
        *sig = apr_palloc(p, EVP_MAX_MD_SIZE);
        return hmac_compute(key, alg, data, len, *sig, siglen);
    }
    if (!key->is_private || !(md = pkey_ctx(key, alg, 1))) {
        return 0;
    }
    if (EVP_DigestSign(md, NULL, &n, data, len) == 1) {
        buf = apr_palloc(p, n);
        ok = EVP_DigestSign(md, buf, &n, data, len) == 1;
    }
    EVP_MD_CTX_free(md);
    if (!ok) {
        return 0;
    }
    if (key->kty != JWT_KTY_EC) {
        *sig = buf;
        *siglen = n;
        return 1;
    }
    /* DER to R || S, each left-padded to the curve's size */
    q = buf;
    ok = 0;
    if ((es = d2i_ECDSA_SIG(NULL, &q, (long)n))) {
        size_t half = jwt_algs[alg].size;

        *sig = apr_palloc(p, 2 * half);
        ok = BN_bn2binpad(ECDSA_SIG_get0_r(es), *sig, (int)half) == (int)half
             && BN_bn2binpad(ECDSA_SIG_get0_s(es), *sig + half, (int)half)
                == (int)half;
        *siglen = 2 * half;
        ECDSA_SIG_free(es);
    }
    return ok;
}

/* ---------------------------------------------------------------- */
/* claims                                                           */

/* A NumericDate claim (RFC 7519 §2): an integer or a finite real.
 * Returns 1 and *value when present and numeric, 0 when absent,
 * -1 when present with another type. */
static int numeric_date(const jwt_claims_t *c, const char *name,
                        double *value)
{
    const jwt_member_t *m = jwt_claims_get(c, name);

    if (!m) {
        return 0;
    }
    return jwt_member_number(c, m, value) ? 1 : -1;
}

int jwt_check_claims(const jwt_claims_t *claims, const jwt_policy_t *pol,
                     apr_int64_t now, jwt_error_t *err)
{
    double t, lo = (double)now - (double)pol->leeway,
           hi = (double)now + (double)pol->leeway;
    const jwt_member_t *v;
    int i, rc;

    /* exp is required: a token that never expires is refused */
    rc = numeric_date(claims, "exp", &t);
    if (rc == 0) {
        jwt_set_err(err, JWT_ERR_MISSING, "no exp claim");
        return 0;
    }
    if (rc < 0) {
        jwt_set_err(err, JWT_ERR_CLAIM, "exp is not a NumericDate");
        return 0;
    }
    if (t <= lo) {
        jwt_set_err(err, JWT_ERR_EXPIRED, "token expired");
        return 0;
    }
    rc = numeric_date(claims, "nbf", &t);
    if (rc < 0) {
        jwt_set_err(err, JWT_ERR_CLAIM, "nbf is not a NumericDate");
        return 0;
    }
    if (rc > 0 && t > hi) {
        jwt_set_err(err, JWT_ERR_NOT_YET, "token not yet valid (nbf)");
        return 0;
    }
    rc = numeric_date(claims, "iat", &t);
    if (rc < 0) {
        jwt_set_err(err, JWT_ERR_CLAIM, "iat is not a NumericDate");
        return 0;
    }
    if (rc > 0 && t > hi) {
        jwt_set_err(err, JWT_ERR_NOT_YET, "token issued in the future (iat)");
        return 0;
    }
    if (pol->issuer) {
        if (!(v = jwt_claims_get(claims, "iss"))) {
            jwt_set_err(err, JWT_ERR_MISSING, "no iss claim");
            return 0;
        }
        if (v->type != JWT_JSON_STRING
            || !jwt_member_has_string(claims, v, pol->issuer)) {
            jwt_set_err(err, JWT_ERR_ISSUER, "iss does not match");
            return 0;
        }
    }
    if (pol->audiences && pol->audiences->nelts > 0) {
        if (!(v = jwt_claims_get(claims, "aud"))) {
            jwt_set_err(err, JWT_ERR_MISSING, "no aud claim");
            return 0;
        }
        if (v->type != JWT_JSON_STRING && v->type != JWT_JSON_ARRAY) {
            jwt_set_err(err, JWT_ERR_CLAIM, "aud is neither string nor array");
            return 0;
        }
        for (i = 0; i < pol->audiences->nelts; i++) {
            if (jwt_member_has_string(claims, v,
                                      APR_ARRAY_IDX(pol->audiences, i,
                                                    const char *))) {
                break;
            }
        }
        if (i == pol->audiences->nelts) {
            jwt_set_err(err, JWT_ERR_AUDIENCE, "aud does not match");
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
        jwt_set_err(err, JWT_ERR_ALG, "alg missing or not a string");
        return 0;
    }
    *alg = jwt_alg_from_name(json_string_value(v), json_string_length(v));
    if (*alg == JWT_ALG_UNKNOWN) {
        jwt_set_err(err, JWT_ERR_ALG, "alg unknown or none");
        return 0;
    }
    if (!(pol->algs & JWT_ALG_BIT(*alg))) {
        jwt_set_err(err, JWT_ERR_ALG, "alg not allowed here");
        return 0;
    }
    /* we implement no extension, so any crit is one we do not
     * understand (RFC 7515 §4.1.11) */
    if (json_object_get(hdr, "crit")) {
        jwt_set_err(err, JWT_ERR_HEADER, "crit header present");
        return 0;
    }
    /* typ (RFC 8725 section 3.11), when required: a media type, compared
     * without case and with or without its "application/" prefix */
    if (pol->typ) {
        const char *t, *w = pol->typ;

        v = json_object_get(hdr, "typ");
        t = json_is_string(v) ? json_string_value(v) : NULL;
        if (t && !strncasecmp(t, "application/", 12)) {
            t += 12;
        }
        if (!strncasecmp(w, "application/", 12)) {
            w += 12;
        }
        if (!t || strlen(t) != strlen(w) || strcasecmp(t, w)
            || strlen(json_string_value(v)) != json_string_length(v)) {
            jwt_set_err(err, JWT_ERR_HEADER, "typ missing or not the "
                        "required one");
            return 0;
        }
    }
    *kid = NULL;
    if ((v = json_object_get(hdr, "kid"))) {
        if (!json_is_string(v)) {
            jwt_set_err(err, JWT_ERR_HEADER, "kid is not a string");
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

    /* first pass: keys named by kid (configured, or the thumbprint of a
     * key configured without one); second pass (only when no key carries
     * that kid, or the token has none): keys configured without a kid */
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; pol->keys && i < pol->keys->nelts; i++) {
            const jwt_key_t *key = APR_ARRAY_IDX(pol->keys, i,
                                                 const jwt_key_t *);
            if (!(key->algs & JWT_ALG_BIT(alg))) {
                continue;
            }
            if (pass == 0 && !(kid && jwt_key_sign_kid(key)
                               && !strcmp(kid, jwt_key_sign_kid(key)))) {
                continue;
            }
            if (pass == 1 && kid && key->kid) {
                continue;
            }
            tried++;
            if (jwt_key_verify(key, alg, (const unsigned char *)input, ilen,
                               sig, siglen)) {
                return 1;
            }
        }
        if (tried && pass == 0) {
            break;
        }
    }
    jwt_set_err(err, tried ? JWT_ERR_SIGNATURE : JWT_ERR_KEY,
            tried ? "signature does not verify" : "no key for this alg/kid");
    return 0;
}

/* A few parsed headers per thread, keyed by the exact header segment:
 * a service's tokens share one header, so its decoding and parsing are
 * done once per thread.  The objects are only ever read after parsing
 * (jansson's reference counts are atomic), so a request may keep one
 * after its slot has moved on. */
#define HEADER_SLOTS 4
#define HEADER_MAX_SEGMENT 512

typedef struct {
    size_t len;
    char seg[HEADER_MAX_SEGMENT];
    json_t *hdr;
} header_slot_t;

static _Thread_local header_slot_t *header_cache;
static _Thread_local unsigned header_next;

/* The header segment's JSON object: from this thread's cache, or decoded,
 * parsed and kept.  NULL with *err when it is not base64url of a JSON
 * object (such segments are never kept). */
static json_t *header_json(apr_pool_t *p, const char *seg, size_t len,
                           jwt_error_t *err)
{
    header_slot_t *slot;
    unsigned char *buf;
    size_t blen;
    json_t *hdr;
    int i;

    if (len <= HEADER_MAX_SEGMENT && !header_cache) {
        header_cache = calloc(HEADER_SLOTS, sizeof(*header_cache));
    }
    for (i = 0; header_cache && len <= HEADER_MAX_SEGMENT
                && i < HEADER_SLOTS; i++) {
        slot = &header_cache[i];
        if (slot->hdr && slot->len == len && !memcmp(slot->seg, seg, len)) {
            return jwt_json_pool(p, json_incref(slot->hdr));
        }
    }
    if (!jwt_b64url_decode(&buf, &blen, p, seg, len)) {
        jwt_set_err(err, JWT_ERR_MALFORMED, "header not base64url");
        return NULL;
    }
    if (!(hdr = jwt_json_object(p, (const char *)buf, blen))) {
        jwt_set_err(err, JWT_ERR_MALFORMED, "header is not a JSON object");
        return NULL;
    }
    if (header_cache && len <= HEADER_MAX_SEGMENT) {
        slot = &header_cache[header_next++ % HEADER_SLOTS];
        json_decref(slot->hdr);
        memcpy(slot->seg, seg, len);
        slot->len = len;
        slot->hdr = json_incref(hdr);
    }
    return hdr;
}

int jwt_jws_verify(jwt_jws_t **out, apr_pool_t *p, const char *token,
                   size_t len, const jwt_policy_t *pol, jwt_error_t *err)
{
    const char *dot1, *dot2;
    unsigned char *pbuf, *sig;
    size_t plen, siglen;
    json_t *hdr;
    jwt_alg_e alg;
    const char *kid;
    jwt_jws_t *jws;

    if (len == 0 || len > JWT_MAX_TOKEN) {
        jwt_set_err(err, JWT_ERR_MALFORMED, "token empty or too long");
        return 0;
    }
    dot1 = memchr(token, '.', len);
    dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token))
                : NULL;
    if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token))) {
        jwt_set_err(err, JWT_ERR_MALFORMED, "not three dot-separated parts");
        return 0;
    }
    /* an empty payload is a valid JWS (RFC 7515), never a valid JWT */
    if (dot1 == token || dot2 + 1 == token + len) {
        jwt_set_err(err, JWT_ERR_MALFORMED, "empty header or signature");
        return 0;
    }
    if (!jwt_b64url_decode(&sig, &siglen, p, dot2 + 1,
                           len - (size_t)(dot2 + 1 - token))) {
        jwt_set_err(err, JWT_ERR_MALFORMED, "signature not base64url");
        return 0;
    }
    if (!(hdr = header_json(p, token, (size_t)(dot1 - token), err))) {
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
        jwt_set_err(err, JWT_ERR_MALFORMED, "payload not base64url");
        return 0;
    }
    jws = apr_palloc(p, sizeof(*jws));
    jws->alg = alg;
    jws->kid = kid;
    jws->header = hdr;
    jws->payload = pbuf;
    jws->payload_len = plen;
    *out = jws;
    jwt_set_err(err, JWT_OK, NULL);
    return 1;
}

int jwt_verify(jwt_t **out, apr_pool_t *p, const char *token, size_t len,
               const jwt_policy_t *pol, apr_int64_t now, jwt_error_t *err)
{
    jwt_jws_t *jws;
    jwt_t *jwt;

    if (!jwt_jws_verify(&jws, p, token, len, pol, err)) {
        return 0;
    }
    jwt = apr_palloc(p, sizeof(*jwt));
    if (!jwt_claims_parse(&jwt->claims, p, (const char *)jws->payload,
                          jws->payload_len)) {
        jwt_set_err(err, JWT_ERR_MALFORMED, "payload is not a JSON object");
        return 0;
    }
    if (!jwt_check_claims(&jwt->claims, pol, now, err)) {
        return 0;
    }
    jwt->alg = jws->alg;
    jwt->kid = jws->kid;
    jwt->header = jws->header;
    *out = jwt;
    jwt_set_err(err, JWT_OK, NULL);
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
    unsigned char *sig = NULL;
    size_t siglen = 0;
    json_t *hdr;
    const char *kid = jwt_key_sign_kid(key);
    char *h, *c, *input;

    if (alg <= JWT_ALG_UNKNOWN || alg >= JWT_ALG_COUNT
        || !(key->algs & JWT_ALG_BIT(alg)) || !key->is_private) {
        jwt_set_err(err, JWT_ERR_KEY, "key cannot sign with this alg");
        return 0;
    }
    hdr = jwt_json_pool(p, json_pack("{s:s, s:s}", "alg", jwt_algs[alg].name,
                                     "typ", "JWT"));
    if (!hdr || (kid && json_object_set_new(hdr, "kid", json_string(kid)))) {
        jwt_set_err(err, JWT_ERR_INTERNAL, "cannot build header");
        return 0;
    }
    if (!(h = encode_json(p, hdr)) || !(c = encode_json(p, claims))) {
        jwt_set_err(err, JWT_ERR_INTERNAL, "cannot encode JSON");
        return 0;
    }
    input = apr_pstrcat(p, h, ".", c, NULL);
    if (!key_sign(p, key, alg, (const unsigned char *)input, strlen(input),
                  &sig, &siglen)) {
        jwt_set_err(err, JWT_ERR_INTERNAL, "signing failed");
        return 0;
    }
    *out = apr_pstrcat(p, input, ".", jwt_b64url_encode(p, sig, siglen),
                       NULL);
    if (key->kty == JWT_KTY_OCT) {
        OPENSSL_cleanse(sig, siglen);
    }
    return 1;
}
