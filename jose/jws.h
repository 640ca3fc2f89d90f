/*
 * jws.h: compact JWS (RFC 7515) and JWT (RFC 7519) verification and
 * signing (jws.c).  No httpd header: APR, jansson, OpenSSL.
 *
 * Ownership: every pointer returned lives in the pool passed in.
 */
#ifndef JOSE_JWS_H
#define JOSE_JWS_H

#include <apr_pools.h>
#include <jansson.h>

#include "alg.h"
#include "json.h"
#include "keys.h"
#include "policy.h"
#include "util.h"

/* A JWS whose header and signature passed (its payload is not JSON-
 * checked: RFC 7515 alone). */
typedef struct {
    jwt_alg_e alg;
    const char *kid;
    json_t *header;
    const unsigned char *payload;       /* decoded, NUL-terminated */
    size_t payload_len;
} jwt_jws_t;

/* A token that passed every check. */
typedef struct {
    jwt_alg_e alg;
    const char *kid;                    /* NULL when the header has none */
    json_t *header;                     /* borrowed from the pool, NULL
                                         * for a cached token */
    jwt_claims_t claims;                /* in the pool */
} jwt_t;

/* Verify a compact JWS against the policy's algorithms, keys and typ,
 * without looking at its payload beyond base64url.  Returns 1 or 0 and
 * *err as jwt_verify. */
int jwt_jws_verify(jwt_jws_t **out, apr_pool_t *p, const char *token,
                   size_t len, const jwt_policy_t *policy, jwt_error_t *err);

/* Verify a compact JWS and its claims against a policy at time 'now'
 * (seconds since the epoch).  Returns 1 and fills *out on success,
 * 0 and fills *err on any failure. */
int jwt_verify(jwt_t **out, apr_pool_t *p, const char *token, size_t len,
               const jwt_policy_t *policy, apr_int64_t now,
               jwt_error_t *err);

/* Sign the claims object with key under alg.  The header carries alg,
 * typ "JWT" and the key's kid when it has one.  Returns 1 and the
 * compact token in *out, or 0 and *err. */
int jwt_sign(const char **out, apr_pool_t *p, const jwt_key_t *key,
             jwt_alg_e alg, json_t *claims, jwt_error_t *err);

#endif /* JOSE_JWS_H */
