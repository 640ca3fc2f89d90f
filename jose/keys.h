/*
 * keys.h: keys and what they do (keys.c loads them, sig.c signs and
 * verifies bytes with them).  No httpd header: APR, jansson, OpenSSL.
 *
 * Ownership: a key lives in the pool it was made in; its OpenSSL objects
 * are freed by a cleanup on that pool.  Keys are only read once made, so
 * any number of threads may use one at a time.
 */
#ifndef JOSE_KEYS_H
#define JOSE_KEYS_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

#include "alg.h"
#include "util.h"

/* A key usable for signing and/or verification.  Opaque to callers but
 * for kid, kty and algs. */
typedef struct jwt_key jwt_key_t;

/* An HMAC key from raw secret bytes.  The key is bound to every HS
 * algorithm whose hash output it is at least as long as (RFC 7518 §3.2);
 * a secret shorter than 32 bytes is refused.  The caller may wipe its
 * copy of the secret afterwards. */
int jwt_key_hmac_create(jwt_key_t **out, apr_pool_t *p,
                        const unsigned char *secret, size_t len,
                        const char *kid, jwt_error_t *err);

/* Keys from the text of a key file, appended to keys:
 * - PEM: a public key (SubjectPublicKeyInfo or PKCS#1 RSA), a
 *   certificate (its public key), or, with want_private, a private key;
 * - JSON: one JWK or a JWK Set {"keys": [...]} (RFC 7517).
 * kid names the key of a PEM file or single JWK (it overrides the JWK's
 * own); a JWK Set keeps its own kids and refuses kid.  Each key is bound
 * to the algorithms its type, size or curve allows, narrowed by a JWK's
 * alg, use and key_ops.  RSA under 2048 bits, other curves and other
 * key types are refused.  A JWK's other members (x5c, x5t, x5t#S256,
 * x5u, issuer, ...) are ignored: the key is its n/e, x/y, x or k alone,
 * a certificate in x5c is never read nor anything fetched.
 * In a JWK Set, a key that a single JWK would be refused for (use not
 * "sig", key_ops without "verify" - or "sign" with want_private -, an
 * unknown kty, crv or alg, too weak, malformed, not an object) is
 * skipped and the others load; the set is refused when no key is usable
 * (or when OpenSSL fails).  Keys sharing a kid all load (RFC 7517 section
 * 4.5 allows it): a token naming that kid is tried with each.  Nothing
 * is appended unless the call succeeds.
 * Returns 1, or 0 and *err. */
int jwt_keys_load(apr_array_header_t *keys, apr_pool_t *p,
                  const char *text, size_t len, const char *kid,
                  int want_private, jwt_error_t *err);

/* A key of a JWK Set that jwt_keys_load_ex left out, and why. */
typedef struct {
    size_t index;               /* its place in "keys", from 0 */
    const char *kid;            /* its kid; NULL if none or not a string */
    const char *reason;         /* safe to log: never key material */
} jwt_key_skip_t;

/* jwt_keys_load, and in *skipped (when skipped is not NULL; made in p,
 * set on failure too) the jwt_key_skip_t of each key of a JWK Set that
 * was skipped, in the set's order: the caller logs them. */
int jwt_keys_load_ex(apr_array_header_t *keys, apr_pool_t *p,
                     const char *text, size_t len, const char *kid,
                     int want_private, apr_array_header_t **skipped,
                     jwt_error_t *err);

/* One key from a parsed JWK (see jwt_keys_load). */
int jwt_key_from_jwk(jwt_key_t **out, apr_pool_t *p, const json_t *jwk,
                     const char *kid, int want_private, jwt_error_t *err);

jwt_kty_e jwt_key_kty(const jwt_key_t *key);
const char *jwt_key_kid(const jwt_key_t *key);
unsigned jwt_key_algs(const jwt_key_t *key);   /* JWT_ALG_BIT() mask */
int jwt_key_is_private(const jwt_key_t *key);

/* The kid a token signed with this key carries: the configured kid,
 * else the RFC 7638 thumbprint; NULL for an HMAC key without kid. */
const char *jwt_key_sign_kid(const jwt_key_t *key);

/* The public JWK of an asymmetric key as compact JSON, with kid (as for
 * signing), "use": "sig" and, for a key bound to one algorithm, "alg".
 * NULL for an HMAC key: secrets are never published. */
const char *jwt_key_public_jwk(const jwt_key_t *key);

/* The first algorithm (in the table's order) the key can run. */
jwt_alg_e jwt_key_default_alg(const jwt_key_t *key);

/* Raw signature check of data under alg with key (the JWS signing input
 * and decoded signature, R || S for ECDSA).  1 when it verifies. */
int jwt_key_verify(const jwt_key_t *key, jwt_alg_e alg,
                   const unsigned char *data, size_t len,
                   const unsigned char *sig, size_t siglen);

/* The JWS signature of data with key under alg (R || S for ECDSA), in
 * the pool.  1, or 0 when the key cannot sign. */
int jwt_key_sign(apr_pool_t *p, const jwt_key_t *key, jwt_alg_e alg,
                 const unsigned char *data, size_t len,
                 unsigned char **sig, size_t *siglen);

#endif /* JOSE_KEYS_H */
