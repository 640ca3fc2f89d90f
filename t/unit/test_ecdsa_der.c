/*
 * test_ecdsa_der.c: jose/sig.c writes the DER of an ECDSA signature's
 * R || S itself (no BIGNUM); TAP output.
 *
 * 800 signatures a curve (P-256, P-384, P-521) each verify: among them
 * halves with the high bit set (a zero byte before them), with leading
 * zero bytes (dropped: about 6 of 800 have one), and for P-521 the DER
 * length in its long form (over 127 bytes).  Zero R or S, and R || S one
 * byte short, are refused.
 */
#include <stdlib.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "jose.h"
#include "tap.h"

#define NOW ((apr_int64_t)1700000000)
#define N 800

static apr_pool_t *pool;

static jwt_key_t *ec_key(const char *curve)
{
    EVP_PKEY *pk = EVP_EC_gen(curve);
    BIO *b = BIO_new(BIO_s_mem());
    apr_array_header_t *keys = apr_array_make(pool, 1, sizeof(jwt_key_t *));
    jwt_error_t err;
    char *data;
    long n;

    if (!pk || !PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL)) {
        printf("# no %s key\n", curve);
        exit(1);
    }
    n = BIO_get_mem_data(b, &data);
    /* NUL-terminated: the PEM reader looks for its markers with strstr */
    data = apr_pstrmemdup(pool, data, (apr_size_t)n);
    if (!jwt_keys_load(keys, pool, data, (size_t)n, NULL, 1, &err)) {
        printf("# key: %s\n", err.reason);
        exit(1);
    }
    BIO_free(b);
    EVP_PKEY_free(pk);
    return APR_ARRAY_IDX(keys, 0, jwt_key_t *);
}

/* the signature's bytes of a compact token */
static unsigned char *sig_of(const char *tok, size_t *len)
{
    unsigned char *sig;

    jwt_b64url_decode(&sig, len, pool, strrchr(tok, '.') + 1,
                      strlen(strrchr(tok, '.') + 1));
    return sig;
}

/* tok with its signature replaced by sig (len bytes) */
static const char *with_sig(const char *tok, const unsigned char *sig,
                            size_t len)
{
    return apr_pstrcat(pool, apr_pstrmemdup(pool, tok, (apr_size_t)(
                           strrchr(tok, '.') - tok + 1)),
                       jwt_b64url_encode(pool, sig, len), NULL);
}

int main(void)
{
    static const struct {
        const char *curve;
        jwt_alg_e alg;
        size_t half;
        int high;       /* the high-bit case is met (never for P-521: its
                         * top byte holds one bit), else leading zeros */
    } rows[] = {
        { "P-256", JWT_ALG_ES256, 32, 1 },
        { "P-384", JWT_ALG_ES384, 48, 1 },
        { "P-521", JWT_ALG_ES512, 66, 0 },
    };
    size_t r;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    for (r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        jwt_key_t *key = ec_key(rows[r].curve);
        apr_array_header_t *keys = apr_array_make(pool, 1,
                                                  sizeof(jwt_key_t *));
        jwt_policy_t pol;
        int i, verified = 0, high = 0, zero = 0;
        const char *tok = NULL;
        unsigned char *sig;
        size_t len;
        jwt_t *jwt;
        jwt_error_t err;

        APR_ARRAY_PUSH(keys, jwt_key_t *) = key;
        memset(&pol, 0, sizeof(pol));
        pol.algs = JWT_ALG_BIT(rows[r].alg);
        pol.keys = keys;
        for (i = 0; i < N; i++) {
            json_t *claims = json_pack("{s:s, s:I, s:i}", "sub", "der",
                                       "exp", (json_int_t)NOW + 60, "n", i);

            if (!jwt_sign(&tok, pool, key, rows[r].alg, claims, &err)) {
                printf("# sign: %s\n", err.reason);
                exit(1);
            }
            json_decref(claims);
            sig = sig_of(tok, &len);
            high += (sig[0] & 0x80) || (sig[rows[r].half] & 0x80);
            zero += sig[0] == 0 || sig[rows[r].half] == 0;
            verified += jwt_verify(&jwt, pool, tok, strlen(tok), &pol, NOW,
                                   &err);
        }
        ok(verified == N, "%s: %d of %d signatures verify (%d with a high "
           "bit, %d with a leading zero byte)", rows[r].curve, verified, N,
           high, zero);
        if (rows[r].high) {
            ok(high > N / 2, "%s: the high-bit case was met (%d)",
               rows[r].curve, high);
        }
        else {
            ok(zero > N / 2, "%s: the leading-zero case was met (%d), and "
               "the long form of the DER length in every one",
               rows[r].curve, zero);
        }

        /* zero R, zero S: refused before OpenSSL */
        sig = sig_of(tok, &len);
        memset(sig, 0, rows[r].half);
        ok(!jwt_verify(&jwt, pool, with_sig(tok, sig, len),
                       strlen(with_sig(tok, sig, len)), &pol, NOW, &err),
           "%s: zero R refused", rows[r].curve);
        sig = sig_of(tok, &len);
        memset(sig + rows[r].half, 0, rows[r].half);
        ok(!jwt_verify(&jwt, pool, with_sig(tok, sig, len),
                       strlen(with_sig(tok, sig, len)), &pol, NOW, &err),
           "%s: zero S refused", rows[r].curve);
        sig = sig_of(tok, &len);
        ok(!jwt_verify(&jwt, pool, with_sig(tok, sig, len - 1),
                       strlen(with_sig(tok, sig, len - 1)), &pol, NOW, &err),
           "%s: R || S a byte short refused", rows[r].curve);
    }
    apr_pool_destroy(pool);
    apr_terminate();
    return done_testing();
}
