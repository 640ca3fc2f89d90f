/*
 * util.h: errors, base64url, UTF-8 and jansson helpers of the JOSE core.
 *
 * The bottom of the core: every other part may use this one, it uses
 * none of them.  No httpd header: APR and jansson.
 *
 * Ownership: every pointer returned lives in the pool passed in; jansson
 * values are released by cleanups registered on that pool.
 */
#ifndef JOSE_UTIL_H
#define JOSE_UTIL_H

#include <apr_pools.h>
#include <jansson.h>

/* Why an operation of the core failed.  The text never holds token
 * bytes, key material or a signature: it is safe to log. */
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

/* The short, stable name of a code for logs and JWTAUTH_ERROR:
 * "malformed", "alg", "header", "key", "signature", "expired",
 * "not_yet_valid", "claim" (a registered claim absent or of the wrong
 * type), "issuer", "audience", "internal"; "ok" for JWT_OK. */
const char *jwt_error_name(jwt_errcode_e code);

/* Set *err (when err is not NULL); reason is static or pool text. */
void jwt_set_err(jwt_error_t *err, jwt_errcode_e code, const char *reason);

/* ---- base64url (RFC 7515 §2, no padding) ---- */

/* Strict decode: only A-Z a-z 0-9 - _, no '=', no whitespace, and the
 * unused low bits of the last character must be zero (canonical form).
 * *out is NUL-terminated for convenience (not counted in *outlen). */
int jwt_b64url_decode(unsigned char **out, size_t *outlen, apr_pool_t *p,
                      const char *in, size_t len);
char *jwt_b64url_encode(apr_pool_t *p, const unsigned char *in, size_t len);

/* ---- UTF-8 (RFC 3629, as jansson checks it) ---- */

/* The length of the one UTF-8 sequence at s (s[0] >= 0x80, s < end):
 * no overlong form, no surrogate, nothing above U+10FFFF; 0 when it is
 * none of those. */
int jwt_utf8_seq(const unsigned char *s, const unsigned char *end);

/* Is text well-formed UTF-8 throughout? */
int jwt_utf8_valid(const char *text, size_t len);

/* ---- jansson ---- */

/* Parse JSON text into an object, refusing duplicate member names and
 * trailing bytes; the result is released with the pool.  NULL when the
 * text is not a single JSON object. */
json_t *jwt_json_object(apr_pool_t *p, const char *text, size_t len);

/* Any jansson value as compact JSON text in the pool; NULL when memory
 * is short. */
char *jwt_json_dump(apr_pool_t *p, const json_t *v);

/* Tie a jansson reference to a pool: released when the pool is. */
json_t *jwt_json_pool(apr_pool_t *p, json_t *json);

#endif /* JOSE_UTIL_H */
