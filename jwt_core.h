/*
 * jwt_core.h: the JOSE/JWT core of mod_jwtauth.
 *
 * base64url, compact JWS parsing, signing and verification, and the
 * RFC 7519 claim checks.  This file and jwt_core.c include no httpd
 * header: only APR, jansson and OpenSSL, so that the same objects link
 * into the module, the unit tests and the fuzzers.
 *
 * Ownership: every pointer returned lives in the pool passed in; jansson
 * and OpenSSL objects are released by cleanups registered on that pool.
 */
#ifndef JWT_CORE_H
#define JWT_CORE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

/* Algorithms known to the core ("none" is deliberately absent). */
typedef enum {
    JWT_ALG_UNKNOWN = 0,
    JWT_ALG_HS256,
    JWT_ALG_HS384,
    JWT_ALG_HS512,
    JWT_ALG_COUNT
} jwt_alg_e;

#define JWT_ALG_BIT(a) (1u << (unsigned)(a))

/* Key families: an algorithm only ever runs with a key of its family. */
typedef enum {
    JWT_KTY_OCT = 1             /* HMAC secret (RFC 7518 §3.2) */
} jwt_kty_e;

/* Why a verification failed.  The text never holds token bytes, key
 * material or a signature: it is safe to log. */
typedef enum {
    JWT_OK = 0,
    JWT_ERR_MALFORMED,          /* not a compact JWS / not JSON objects */
    JWT_ERR_ALG,                /* alg missing, none, unknown, not allowed */
    JWT_ERR_HEADER,             /* crit, bad kid, ... */
    JWT_ERR_KEY,                /* no key fits the alg/kid */
    JWT_ERR_SIGNATURE,          /* signature does not verify */
    JWT_ERR_EXPIRED,            /* exp in the past (after leeway) */
    JWT_ERR_NOT_YET,            /* nbf or iat in the future */
    JWT_ERR_CLAIM,              /* a registered claim of the wrong type */
    JWT_ERR_MISSING,            /* a required claim is absent */
    JWT_ERR_ISSUER,             /* iss does not match */
    JWT_ERR_AUDIENCE,           /* aud does not match */
    JWT_ERR_INTERNAL            /* out of memory, OpenSSL failure */
} jwt_errcode_e;

typedef struct {
    jwt_errcode_e code;
    const char *reason;         /* static or pool text, safe to log */
} jwt_error_t;

/* A key usable for signing and/or verification.  Opaque to callers but
 * for kid, kty and algs. */
typedef struct jwt_key jwt_key_t;

/* What a scope accepts.  Built once at configuration time. */
typedef struct {
    unsigned algs;                      /* JWT_ALG_BIT() allow-list */
    const apr_array_header_t *keys;     /* of jwt_key_t * */
    const char *issuer;                 /* required iss, or NULL */
    const apr_array_header_t *audiences; /* of const char *, or NULL */
    apr_int64_t leeway;                 /* seconds of clock skew */
} jwt_policy_t;

/* A token that passed every check. */
typedef struct {
    jwt_alg_e alg;
    const char *kid;                    /* NULL when the header has none */
    json_t *header;                     /* borrowed from the pool */
    json_t *claims;                     /* borrowed from the pool */
} jwt_t;

/* ---- algorithms ---- */

/* Exact, case-sensitive lookup of an RFC 7518 name; JWT_ALG_UNKNOWN for
 * anything else, "none" included. */
jwt_alg_e jwt_alg_from_name(const char *name, size_t len);
const char *jwt_alg_name(jwt_alg_e alg);
jwt_kty_e jwt_alg_kty(jwt_alg_e alg);

/* ---- base64url (RFC 7515 §2, no padding) ---- */

/* Strict decode: only A-Z a-z 0-9 - _, no '=', no whitespace, and the
 * unused low bits of the last character must be zero (canonical form).
 * *out is NUL-terminated for convenience (not counted in *outlen). */
int jwt_b64url_decode(unsigned char **out, size_t *outlen, apr_pool_t *p,
                      const char *in, size_t len);
char *jwt_b64url_encode(apr_pool_t *p, const unsigned char *in, size_t len);

/* ---- keys ---- */

/* An HMAC key from raw secret bytes.  The key is bound to every HS
 * algorithm whose hash output it is at least as long as (RFC 7518 §3.2);
 * a secret shorter than 32 bytes is refused.  The caller may wipe its
 * copy of the secret afterwards. */
int jwt_key_hmac_create(jwt_key_t **out, apr_pool_t *p,
                        const unsigned char *secret, size_t len,
                        const char *kid, jwt_error_t *err);

jwt_kty_e jwt_key_kty(const jwt_key_t *key);
const char *jwt_key_kid(const jwt_key_t *key);
unsigned jwt_key_algs(const jwt_key_t *key);   /* JWT_ALG_BIT() mask */

/* ---- tokens ---- */

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

/* Parse JSON text into an object, refusing duplicate member names and
 * trailing bytes; the result is released with the pool.  NULL when the
 * text is not a single JSON object. */
json_t *jwt_json_object(apr_pool_t *p, const char *text, size_t len);

/* Tie a jansson reference to a pool: released when the pool is. */
json_t *jwt_json_pool(apr_pool_t *p, json_t *json);

/* A claim value as text: strings raw, everything else as compact JSON.
 * NULL when the claim is absent. */
const char *jwt_claim_text(apr_pool_t *p, const json_t *claims,
                           const char *name);

#endif /* JWT_CORE_H */
