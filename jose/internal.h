/*
 * internal.h: what the lower parts of the JOSE core (alg, keys, sig,
 * policy, jws) share and nobody else sees: the algorithm table and the
 * key structure.
 */
#ifndef JOSE_INTERNAL_H
#define JOSE_INTERNAL_H

#include <openssl/evp.h>

#include "alg.h"
#include "keys.h"

typedef struct {
    const char *name;           /* RFC 7518 / RFC 8037 name */
    jwt_kty_e kty;
    const char *digest;         /* OpenSSL digest name; NULL for EdDSA */
    size_t size;                /* HMAC output, or the length of one ECDSA
                                 * coordinate (R and S each), or 64 */
    int pss;                    /* RSASSA-PSS rather than PKCS#1 v1.5 */
    const char *group;          /* EC group / OKP curve for this alg */
    const char *crv;            /* its JWK "crv" (RFC 7518 6.2.1.1) */
} jwt_alg_info_t;

extern const jwt_alg_info_t jwt_algs[JWT_ALG_COUNT];

struct jwt_key {
    jwt_kty_e kty;
    const char *kid;            /* the configured kid, or NULL */
    const char *thumbprint;     /* RFC 7638, for asymmetric keys */
    const char *public_jwk;     /* compact public JWK, NULL for oct */
    unsigned algs;              /* JWT_ALG_BIT() of the algs it may run */
    int is_private;             /* can sign */
    /* oct: one keyed HMAC context per permitted HS algorithm; each use
     * works on a duplicate, so these are only read while serving */
    EVP_MAC_CTX *mac[JWT_ALG_COUNT];
    EVP_PKEY *pkey;             /* RSA, EC, OKP */
    /* a stable name for the key's material that gives nothing of it
     * away, the same in every process and on every machine: SHA-256 of
     * the thumbprint, or for an HMAC key an HMAC of a fixed label */
    unsigned char fp[32];
};

#endif /* JOSE_INTERNAL_H */
