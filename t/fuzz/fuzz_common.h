/*
 * fuzz_common.h: what the libFuzzer harnesses of the core share: one APR
 * pool per input (so LeakSanitizer sees anything the core forgets to tie
 * to it) and a key set of every type, made once.
 */
#ifndef JWT_FUZZ_COMMON_H
#define JWT_FUZZ_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sanitizer/lsan_interface.h>

#include "jose.h"

static apr_pool_t *fuzz_root;

static void fuzz_init(void)
{
    if (!fuzz_root) {
        apr_initialize();
        apr_pool_create(&fuzz_root, NULL);
    }
}

/* A private PEM of a fresh key, as jwt_keys_load reads it. */
static const char *fuzz_pem(EVP_PKEY *pkey)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data;
    long n;
    const char *pem;

    if (!pkey || !PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL,
                                           NULL)) {
        abort();
    }
    n = BIO_get_mem_data(bio, &data);
    pem = apr_pstrndup(fuzz_root, data, (apr_size_t)n);
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    return pem;
}

/* HMAC (64 bytes, every HS alg), RSA 2048, EC P-256 and Ed25519. */
static const apr_array_header_t *fuzz_keys(void)
{
    static apr_array_header_t *keys;
    static const unsigned char secret[64] =
        "fuzzing-secret-fuzzing-secret-fuzzing-secret-fuzzing-secret-0123";
    const char *pems[3];
    jwt_key_t *k;
    jwt_error_t err;
    int i;

    if (keys) {
        return keys;
    }
    fuzz_init();
    /* made once and kept for the whole run, in pool memory that APR may
     * take from mmap, where LeakSanitizer does not look */
    __lsan_disable();
    keys = apr_array_make(fuzz_root, 4, sizeof(jwt_key_t *));
    if (!jwt_key_hmac_create(&k, fuzz_root, secret, sizeof(secret), "hs",
                             &err)) {
        abort();
    }
    APR_ARRAY_PUSH(keys, jwt_key_t *) = k;
    pems[0] = fuzz_pem(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048));
    pems[1] = fuzz_pem(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
    pems[2] = fuzz_pem(EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"));
    for (i = 0; i < 3; i++) {
        if (!jwt_keys_load(keys, fuzz_root, pems[i], strlen(pems[i]), NULL,
                           1, &err)) {
            abort();
        }
    }
    __lsan_enable();
    return keys;
}

#endif
