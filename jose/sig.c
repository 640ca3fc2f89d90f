/*
 * sig.c: signing and verifying bytes with one key under one algorithm
 * (HMAC, RSASSA-PKCS1-v1_5, RSASSA-PSS, ECDSA, EdDSA) through OpenSSL 3's
 * EVP interfaces.
 *
 * No httpd header: APR and OpenSSL.
 */
#include <string.h>

#include <apr_pools.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "internal.h"


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

/* The largest half of an ECDSA signature (P-521: 66 bytes), and the
 * largest DER of one: a SEQUENCE (3 bytes of header at most) of two
 * INTEGERs (2 bytes of header, a zero byte, 66 bytes each). */
#define EC_MAX_HALF 66
#define EC_MAX_DER (3 + 2 * (3 + EC_MAX_HALF))

/* One DER INTEGER of the n big-endian bytes at v into out: leading zero
 * bytes dropped, a zero byte before a set high bit (DER's minimal
 * form, as i2d_ECDSA_SIG writes it).  Its length, or 0 when v is zero. */
static size_t der_integer(unsigned char *out, const unsigned char *v,
                          size_t n)
{
    size_t i = 0, pad;

    while (i < n && v[i] == 0) {
        i++;
    }
    if (i == n) {
        return 0;
    }
    pad = (v[i] & 0x80) ? 1 : 0;
    out[0] = 0x02;
    out[1] = (unsigned char)(n - i + pad);
    out[2] = 0;
    memcpy(out + 2 + pad, v + i, n - i);
    return 2 + pad + n - i;
}

/* ECDSA in JWS is R || S, each exactly the curve's size (RFC 7518
 * section 3.4); OpenSSL speaks DER, written here into der (EC_MAX_DER
 * bytes) without BIGNUMs: BN_bin2bn, i2d_ECDSA_SIG and their
 * allocations cost an ES256 verification some 8,400 instructions.  Refuses zero R or S
 * outright (CVE-2022-21449) before OpenSSL would.  The DER's length, or
 * 0. */
static int ecdsa_rs_to_der(unsigned char *der, const unsigned char *sig,
                           size_t n)
{
    unsigned char body[2 * (3 + EC_MAX_HALF)];
    size_t a, b, head;

    if (n > EC_MAX_HALF || !(a = der_integer(body, sig, n))
        || !(b = der_integer(body + a, sig + n, n))) {
        return 0;
    }
    der[0] = 0x30;
    if (a + b < 128) {
        der[1] = (unsigned char)(a + b);
        head = 2;
    }
    else {
        der[1] = 0x81;
        der[2] = (unsigned char)(a + b);
        head = 3;
    }
    memcpy(der + head, body, a + b);
    return (int)(head + a + b);
}

int jwt_key_verify(const jwt_key_t *key, jwt_alg_e alg,
                   const unsigned char *data, size_t len,
                   const unsigned char *sig, size_t siglen)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned char der[EC_MAX_DER];
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
            || !(derlen = ecdsa_rs_to_der(der, sig, jwt_algs[alg].size))) {
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
    return ok;
}

/* The JWS signature of data with key under alg, in JWS form. */
int jwt_key_sign(apr_pool_t *p, const jwt_key_t *key, jwt_alg_e alg,
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

