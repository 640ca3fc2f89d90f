/*
 * internal.h: what the parts of the JOSE core share and nobody else
 * sees: the algorithm table, the key structure, the header slots that a
 * jwt_cache_t lends to verification.
 */
#ifndef JOSE_INTERNAL_H
#define JOSE_INTERNAL_H

#include <openssl/evp.h>

#include "alg.h"
#include "claims.h"
#include "json.h"
#include "jws.h"
#include "keys.h"
#include "policy.h"
#include "util.h"

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

/* Parsed token headers, keyed by the exact header segment: a service's
 * tokens share one header, so its decoding and parsing are done once per
 * cache.  The objects are only read after parsing (jansson's reference
 * counts are atomic), so a request may keep one after its slot has moved
 * on.  Part of a jwt_cache_t. */
#define JWT_HEADER_SLOTS 4
#define JWT_HEADER_MAX_SEGMENT 512

typedef struct {
    size_t len;
    char seg[JWT_HEADER_MAX_SEGMENT];
    json_t *hdr;
} jwt_header_slot_t;

typedef struct {
    jwt_header_slot_t slot[JWT_HEADER_SLOTS];
    unsigned next;
} jwt_headers_t;

/* Release what the slots hold. */
void jwt_headers_clear(jwt_headers_t *h);

/* jwt_verify with parsed headers from h (NULL: none). */
int jwt_verify_with(jwt_t **out, apr_pool_t *p, jwt_headers_t *h,
                    const char *token, size_t len, const jwt_policy_t *pol,
                    apr_int64_t now, jwt_error_t *err);

#endif /* JOSE_INTERNAL_H */
