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
    JWT_ALG_RS256,
    JWT_ALG_RS384,
    JWT_ALG_RS512,
    JWT_ALG_PS256,
    JWT_ALG_PS384,
    JWT_ALG_PS512,
    JWT_ALG_ES256,
    JWT_ALG_ES384,
    JWT_ALG_ES512,
    JWT_ALG_ES256K,
    JWT_ALG_EDDSA,
    JWT_ALG_COUNT
} jwt_alg_e;

#define JWT_ALG_BIT(a) (1u << (unsigned)(a))

/* Key families: an algorithm only ever runs with a key of its family. */
typedef enum {
    JWT_KTY_OCT = 1,            /* HMAC secret (RFC 7518 §3.2) */
    JWT_KTY_RSA,                /* RS*, PS*: 2048 bits or more */
    JWT_KTY_EC,                 /* ES256 P-256, ES384 P-384, ES512 P-521,
                                 * ES256K secp256k1 */
    JWT_KTY_OKP                 /* EdDSA with Ed25519 (RFC 8037) */
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
    const char *typ;                    /* required typ (RFC 8725 §3.11),
                                         * or NULL */
} jwt_policy_t;

/* A JWS whose header and signature passed (its payload is not JSON-
 * checked: RFC 7515 alone). */
typedef struct {
    jwt_alg_e alg;
    const char *kid;
    json_t *header;
    const unsigned char *payload;       /* decoded, NUL-terminated */
    size_t payload_len;
} jwt_jws_t;

/* JSON types of claim values. */
typedef enum {
    JWT_JSON_STRING = 1,
    JWT_JSON_INTEGER,
    JWT_JSON_REAL,
    JWT_JSON_TRUE,
    JWT_JSON_FALSE,
    JWT_JSON_NULL,
    JWT_JSON_ARRAY,
    JWT_JSON_OBJECT
} jwt_json_type_e;

/* One top-level member of a claims set, as offsets into its base: the
 * name and a string value are their decoded bytes (escapes resolved,
 * never a NUL, not NUL-terminated); any other value is its JSON text. */
typedef struct {
    apr_uint32_t name, name_len;
    apr_uint32_t value, value_len;
    jwt_json_type_e type;
} jwt_member_t;

/* The claims of a token, read in one pass (jwt_json.c): no tree. */
typedef struct {
    const char *base;           /* the JSON text, then decoded strings */
    size_t len;                 /* length of the JSON text */
    size_t size;                /* bytes of base in use */
    const jwt_member_t *m;      /* in document order */
    int n;
} jwt_claims_t;

/* A token that passed every check. */
typedef struct {
    jwt_alg_e alg;
    const char *kid;                    /* NULL when the header has none */
    json_t *header;                     /* borrowed from the pool, NULL
                                         * for a cached token */
    jwt_claims_t claims;                /* in the pool */
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

/* Keys from the text of a key file, appended to keys:
 * - PEM: a public key (SubjectPublicKeyInfo or PKCS#1 RSA), a
 *   certificate (its public key), or, with want_private, a private key;
 * - JSON: one JWK or a JWK Set {"keys": [...]} (RFC 7517).
 * kid names the key of a PEM file or single JWK (it overrides the JWK's
 * own); a JWK Set keeps its own kids and refuses kid.  Each key is bound
 * to the algorithms its type, size or curve allows, narrowed by a JWK's
 * alg, use and key_ops.  RSA under 2048 bits, other curves and other
 * key types are refused; so is a JWK Set in which no key is usable.
 * Returns 1, or 0 and *err (naming the key's index in a set). */
int jwt_keys_load(apr_array_header_t *keys, apr_pool_t *p,
                  const char *text, size_t len, const char *kid,
                  int want_private, jwt_error_t *err);

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
 * and decoded signature): for the Wycheproof primitive vectors. */
int jwt_key_verify(const jwt_key_t *key, jwt_alg_e alg,
                   const unsigned char *data, size_t len,
                   const unsigned char *sig, size_t siglen);

/* ---- tokens ---- */

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

/* Tokens longer than this are never cached. */
#define JWT_CACHE_MAX_TOKEN 8192

/* A second cache tier shared between processes or machines (httpd's
 * socache providers, in the module).  The core only hands it opaque
 * entries: a 32-byte key (SHA-256 of the policy's fingerprint and the
 * token) and a value that carries the claims under an HMAC with 'secret',
 * so that whoever can write to the store still cannot vouch for a token:
 * an entry whose MAC does not verify is ignored. */
typedef struct {
    /* copy at most *vlen bytes of the entry for key into val, set *vlen;
     * 1 when found */
    int (*lookup)(void *ctx, const unsigned char *key, unsigned char *val,
                  unsigned int *vlen);
    /* keep val for key until 'expiry' (seconds since the epoch) */
    void (*store)(void *ctx, const unsigned char *key, apr_int64_t expiry,
                  const unsigned char *val, unsigned int vlen);
    void *ctx;
    const unsigned char *secret;        /* at least 32 bytes */
    size_t secret_len;
} jwt_shared_cache_t;

/* Largest shared entry (claims JSON included). */
#define JWT_SHARED_MAX_ENTRY 8192

/* How jwt_verify_cached answered. */
#define JWT_CACHE_MISS   0              /* verified in full */
#define JWT_CACHE_THREAD 1              /* this thread's cache */
#define JWT_CACHE_SHARED 2              /* the shared tier */

/* jwt_verify through this thread's validated-token cache of 'entries'
 * slots (0: none), then the shared tier (NULL: none).  A thread-cache hit
 * needs the same token bytes, the same policy (its configuration-time
 * objects, algorithms and leeway) and the same generation (bump it when
 * the configuration is reloaded in-process); a shared hit needs the same
 * token and a policy with the same fingerprint (keys, algorithms, iss,
 * aud, typ, leeway) and an entry whose MAC verifies.  Hits skip the
 * signature check, never the claim checks, which run again at 'now'.
 * *hit is one of JWT_CACHE_*.  The returned jwt has no header on a hit.
 * Returns as jwt_verify. */
int jwt_verify_cached(jwt_t **out, apr_pool_t *p, const char *token,
                      size_t len, const jwt_policy_t *policy,
                      apr_int64_t now, size_t entries,
                      apr_uint64_t generation,
                      const jwt_shared_cache_t *shared, int *hit,
                      jwt_error_t *err);

/* The policy's fingerprint: SHA-256 over its algorithms, leeway, iss,
 * audiences, typ and its keys' fingerprints, in order. */
void jwt_policy_fingerprint(unsigned char out[32], const jwt_policy_t *pol);

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

/* ---- claims (jwt_json.c) ---- */

/* Read a JSON object: 1 when jansson would accept the text with
 * JSON_REJECT_DUPLICATES and it is an object, 0 otherwise.  *c points
 * into text (kept as long as c is used) or into the pool. */
int jwt_claims_parse(jwt_claims_t *c, apr_pool_t *p, const char *text,
                     size_t len);

/* The member called name, or NULL. */
const jwt_member_t *jwt_claims_get(const jwt_claims_t *c, const char *name);

/* An integer value: 1 and *out, or 0 for another type. */
int jwt_member_int(const jwt_claims_t *c, const jwt_member_t *m,
                   apr_int64_t *out);

/* An integer or real value as a double: 1 and *out, or 0. */
int jwt_member_number(const jwt_claims_t *c, const jwt_member_t *m,
                      double *out);

/* Is the value the string want, or an array holding it? */
int jwt_member_has_string(const jwt_claims_t *c, const jwt_member_t *m,
                          const char *want);

/* The value as text: strings decoded, everything else as jansson's
 * compact JSON.  NULL only when memory is short. */
const char *jwt_member_text(apr_pool_t *p, const jwt_claims_t *c,
                            const jwt_member_t *m);

/* jwt_member_text() of the member called name; NULL when absent. */
const char *jwt_claim_text(apr_pool_t *p, const jwt_claims_t *c,
                           const char *name);

/* The value as a jansson value released with the pool. */
json_t *jwt_member_json(apr_pool_t *p, const jwt_claims_t *c,
                        const jwt_member_t *m);

/* Copy claims into one block of jwt_claims_blob_size() bytes, aligned
 * for jwt_member_t; dst then points into blob. */
size_t jwt_claims_blob_size(const jwt_claims_t *c);
void jwt_claims_copy(jwt_claims_t *dst, void *blob, const jwt_claims_t *src);

#endif /* JWT_CORE_H */
