/*
 * digest.c: SHA-256 with the digest fetched once per process.
 *
 * No httpd header: OpenSSL.
 */
#include <openssl/crypto.h>

#include "digest.h"

static CRYPTO_ONCE once = CRYPTO_ONCE_STATIC_INIT;
static EVP_MD *sha256;

/* never freed: one object for the life of the process, as libcrypto's
 * own tables */
static void fetch_sha256(void)
{
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

const EVP_MD *jwt_md_sha256(void)
{
    if (!CRYPTO_THREAD_run_once(&once, fetch_sha256)) {
        return NULL;
    }
    return sha256;
}

int jwt_sha256(unsigned char out[32], const void *const *data,
               const size_t *len, int n)
{
    const EVP_MD *md = jwt_md_sha256();
    EVP_MD_CTX *ctx;
    int i, ok;

    if (!md || !(ctx = EVP_MD_CTX_new())) {
        return 0;
    }
    ok = EVP_DigestInit_ex(ctx, md, NULL);
    for (i = 0; ok && i < n; i++) {
        ok = EVP_DigestUpdate(ctx, data[i], len[i]);
    }
    ok = ok && EVP_DigestFinal_ex(ctx, out, NULL);
    EVP_MD_CTX_free(ctx);
    return ok;
}
