/*
 * jwt_internal.h: what jwt_core.c and jwt_keys.c share and nobody else
 * sees: the algorithm table and the key structure.
 */
#ifndef JWT_INTERNAL_H
#define JWT_INTERNAL_H

#include <openssl/evp.h>

#include "jwt_core.h"

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
    /* a stable name for the key that gives nothing of it away, the same
     * in every process and on every machine: SHA-256 of the thumbprint,
     * or for an HMAC key an HMAC of a fixed label */
    unsigned char fp[32];
};

void jwt_set_err(jwt_error_t *err, jwt_errcode_e code, const char *reason);

/* The claim checks of jwt_verify (exp, nbf, iat, iss, aud) on parsed
 * claims: the cache runs them again on every hit. */
int jwt_check_claims(const jwt_claims_t *claims, const jwt_policy_t *pol,
                     apr_int64_t now, jwt_error_t *err);

/* A JSON real's text as jansson reads it: 0 when it overflows a double
 * (or memory is short), else 1 and *out when out is not NULL. */
int jwt_json_real(const char *text, size_t len, double *out);

#endif /* JWT_INTERNAL_H */
