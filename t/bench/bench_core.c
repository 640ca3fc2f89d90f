/*
 * bench_core.c: the core's verification cost beside its floor and libjwt.
 *
 *   bench_core rate DIR            verifications per second, every row
 *   bench_core ir DIR IMPL ALG N   N verifications inside callgrind's
 *                                  instrumented window (run it under
 *                                  valgrind --tool=callgrind
 *                                  --instr-atstart=no)
 *
 * IMPL: core (jwt_verify_cached with a cache of header slots only, as
 * the module verifies a token its thread has not seen: header (parsed
 * once), signature, JSON claims, exp/iss/aud),
 * floor (the bare OpenSSL primitive on the same bytes plus the base64url
 * decode of the signature), libjwt (jwt_decode + reading exp).
 * ALG: HS256 RS256 ES256 EdDSA.  DIR holds hs.key (32 bytes), rsa.pem,
 * rsa.pub, ec.pem, ec.pub, ed.pem, ed.pub (t/bench/run.sh makes them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <valgrind/callgrind.h>

#include "jose.h"
#include "bench_libjwt.h"

static apr_pool_t *root;

typedef struct {
    const char *alg;
    jwt_alg_e id;
    const char *priv, *pub;     /* file names in DIR */
    const char *token;
    jwt_policy_t pol;
    EVP_PKEY *pkey;             /* floor */
    EVP_MAC_CTX *mac;           /* floor, HS256 */
    unsigned char *der;         /* floor, ES256: the signature as DER */
    size_t derlen;
    const char *input;          /* signing input */
    size_t inlen;
    unsigned char *keybytes;    /* libjwt */
    int keylen;
} row_t;

static row_t rows[] = {
    { .alg = "HS256", .id = JWT_ALG_HS256, .priv = "hs.key",
      .pub = "hs.key" },
    { .alg = "RS256", .id = JWT_ALG_RS256, .priv = "rsa.pem",
      .pub = "rsa.pub" },
    { .alg = "ES256", .id = JWT_ALG_ES256, .priv = "ec.pem",
      .pub = "ec.pub" },
    { .alg = "EdDSA", .id = JWT_ALG_EDDSA, .priv = "ed.pem",
      .pub = "ed.pub" },
};

static char *slurp(const char *dir, const char *name, size_t *len)
{
    char *path = apr_pstrcat(root, dir, "/", name, NULL);
    FILE *f = fopen(path, "rb");
    char *buf = apr_palloc(root, 65536);

    if (!f) {
        perror(path);
        exit(2);
    }
    *len = fread(buf, 1, 65535, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static void setup(row_t *r, const char *dir)
{
    apr_array_header_t *keys = apr_array_make(root, 1, sizeof(jwt_key_t *));
    apr_array_header_t *auds = apr_array_make(root, 1, sizeof(char *));
    apr_array_header_t *issuers = apr_array_make(root, 1, sizeof(char *));
    jwt_key_t *signer;
    jwt_error_t err;
    size_t len, plen;
    char *priv = slurp(dir, r->priv, &len);
    char *pub = slurp(dir, r->pub, &plen);
    json_t *claims = jwt_json_pool(root, json_pack(
        "{s:s, s:I, s:I, s:s, s:s, s:s, s:i, s:b, s:[s,s]}",
        "sub", "daehan", "iat", (json_int_t)time(NULL),
        "exp", (json_int_t)time(NULL) + 1800,
        "jti", "wgCxb-3vV-idTvcQxEj_dg", "iss", "https://login.example",
        "aud", "api", "id", 1, "admin", 1, "roles", "reader", "editor"));
    const char *dot;
    unsigned char *sig;
    size_t siglen;

    APR_ARRAY_PUSH(auds, const char *) = "api";
    if (r->id == JWT_ALG_HS256) {
        if (!jwt_key_hmac_create(&signer, root, (unsigned char *)priv, len,
                                 NULL, &err)) {
            fprintf(stderr, "%s\n", err.reason);
            exit(2);
        }
        APR_ARRAY_PUSH(keys, jwt_key_t *) = signer;
    }
    else {
        apr_array_header_t *s = apr_array_make(root, 1, sizeof(jwt_key_t *));
        if (!jwt_keys_load(s, root, priv, len, NULL, 1, &err)
            || !jwt_keys_load(keys, root, pub, plen, NULL, 0, &err)) {
            fprintf(stderr, "%s: %s\n", r->alg, err.reason);
            exit(2);
        }
        signer = APR_ARRAY_IDX(s, 0, jwt_key_t *);
    }
    if (!jwt_sign(&r->token, root, signer, r->id, claims, &err)) {
        fprintf(stderr, "sign %s: %s\n", r->alg, err.reason);
        exit(2);
    }
    r->pol.algs = JWT_ALG_BIT(r->id);
    r->pol.keys = keys;
    APR_ARRAY_PUSH(issuers, const char *) = "https://login.example";
    r->pol.issuers = issuers;
    r->pol.audiences = auds;
    r->pol.leeway = 0;

    /* the floor's objects, made up front like the core's keys */
    dot = strrchr(r->token, '.');
    r->input = r->token;
    r->inlen = (size_t)(dot - r->token);
    if (r->id == JWT_ALG_HS256) {
        EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                             "SHA256", 0),
            OSSL_PARAM_construct_end()
        };
        r->mac = EVP_MAC_CTX_new(mac);
        EVP_MAC_init(r->mac, (unsigned char *)priv, len, params);
        EVP_MAC_free(mac);
        r->keybytes = (unsigned char *)priv;
        r->keylen = (int)len;
    }
    else {
        BIO *bio = BIO_new_mem_buf(pub, (int)plen);
        r->pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        BIO_free(bio);
        r->keybytes = (unsigned char *)pub;
        r->keylen = (int)plen;
    }
    if (r->id == JWT_ALG_ES256) {
        ECDSA_SIG *es = ECDSA_SIG_new();
        jwt_b64url_decode(&sig, &siglen, root, dot + 1, strlen(dot + 1));
        ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL),
                       BN_bin2bn(sig + 32, 32, NULL));
        r->der = NULL;
        r->derlen = (size_t)i2d_ECDSA_SIG(es, &r->der);
        ECDSA_SIG_free(es);
    }
}

static int run_core(row_t *r, apr_pool_t *p)
{
    static jwt_cache_t *headers;
    jwt_t *jwt;
    jwt_error_t err;
    int hit;

    if (!headers && !(headers = jwt_cache_create(0))) {
        return 0;
    }
    return jwt_verify_cached(&jwt, p, headers, r->token, strlen(r->token),
                             &r->pol, (apr_int64_t)time(NULL), 1, NULL, &hit,
                             &err);
}

static int run_floor(row_t *r, apr_pool_t *p)
{
    const char *dot = r->input + r->inlen;
    unsigned char *sig, mac[EVP_MAX_MD_SIZE];
    size_t siglen, maclen;
    int ok = 0;

    if (!jwt_b64url_decode(&sig, &siglen, p, dot + 1, strlen(dot + 1))) {
        return 0;
    }
    if (r->mac) {
        EVP_MAC_CTX *c = EVP_MAC_CTX_dup(r->mac);
        ok = EVP_MAC_update(c, (const unsigned char *)r->input, r->inlen)
             && EVP_MAC_final(c, mac, &maclen, sizeof(mac))
             && maclen == siglen && !CRYPTO_memcmp(mac, sig, siglen);
        EVP_MAC_CTX_free(c);
    }
    else {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        const char *digest = r->id == JWT_ALG_EDDSA ? NULL : "SHA256";

        if (r->der) {
            sig = r->der;
            siglen = r->derlen;
        }
        ok = EVP_DigestVerifyInit_ex(md, NULL, digest, NULL, NULL, r->pkey,
                                     NULL)
             && EVP_DigestVerify(md, sig, siglen,
                                 (const unsigned char *)r->input,
                                 r->inlen) == 1;
        EVP_MD_CTX_free(md);
    }
    return ok;
}

static int run_libjwt(row_t *r, apr_pool_t *p)
{
    (void)p;
    return bench_libjwt_verify(r->token, r->keybytes, r->keylen);
}

typedef int (*impl_fn)(row_t *, apr_pool_t *);

static impl_fn impl_by_name(const char *name)
{
    return !strcmp(name, "core") ? run_core
         : !strcmp(name, "floor") ? run_floor
         : !strcmp(name, "libjwt") ? run_libjwt : NULL;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    static const char *const impls[] = { "core", "floor", "libjwt" };
    apr_pool_t *p;
    size_t i, k;

    if (argc < 3) {
        fprintf(stderr, "usage: bench_core rate DIR | ir DIR IMPL ALG N\n");
        return 2;
    }
    apr_initialize();
    apr_pool_create(&root, NULL);
    apr_pool_create(&p, root);
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        setup(&rows[i], argv[2]);
    }
    if (!strcmp(argv[1], "ir") && argc == 6) {
        impl_fn f = impl_by_name(argv[3]);
        long n = atol(argv[5]), j, good = 0;

        for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
            if (!strcmp(rows[i].alg, argv[4])) {
                break;
            }
        }
        if (!f || i == sizeof(rows) / sizeof(rows[0])) {
            return 2;
        }
        good += f(&rows[i], p);         /* warm: first-use lookups */
        apr_pool_clear(p);
        CALLGRIND_START_INSTRUMENTATION;
        for (j = 0; j < n; j++) {
            good += f(&rows[i], p);
            apr_pool_clear(p);
        }
        CALLGRIND_STOP_INSTRUMENTATION;
        return good == n + 1 ? 0 : 1;
    }
    printf("%-6s %-7s %12s %9s\n", "alg", "impl", "verify/s", "token B");
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        for (k = 0; k < 3; k++) {
            impl_fn f = impl_by_name(impls[k]);
            long n = 0, good = 0;
            double t0 = now_s(), t;

            do {
                good += f(&rows[i], p);
                apr_pool_clear(p);
                n++;
            } while ((t = now_s() - t0) < 0.5);
            if (good != n) {
                printf("%-6s %-7s %12s %9zu\n", rows[i].alg, impls[k],
                       "fails", strlen(rows[i].token));
            }
            else {
                printf("%-6s %-7s %12.0f %9zu\n", rows[i].alg, impls[k],
                       (double)n / t, strlen(rows[i].token));
            }
        }
    }
    return 0;
}
