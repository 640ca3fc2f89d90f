/*
 * digest.h: SHA-256 with the digest fetched once per process (digest.c).
 * No httpd header: OpenSSL.
 *
 * OpenSSL 3 looks a digest up in its provider tables on every call that
 * names it by EVP_sha256() (an implicit fetch: about 2,300 instructions
 * here, more than hashing a short key); the keys made on a request's path
 * (the session store's, the shared cache tier's) hash through this
 * instead.
 */
#ifndef JOSE_DIGEST_H
#define JOSE_DIGEST_H

#include <stddef.h>

#include <openssl/evp.h>

/* SHA-256, fetched at the first call (thread-safe); NULL when libcrypto
 * cannot give it. */
const EVP_MD *jwt_md_sha256(void);

/* out = SHA-256 of the n parts (data[i], len[i]) one after the other;
 * 1 on success. */
int jwt_sha256(unsigned char out[32], const void *const *data,
               const size_t *len, int n);

#endif /* JOSE_DIGEST_H */
