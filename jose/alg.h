/*
 * alg.h: the JWS algorithms the core knows (RFC 7518, RFC 8037) and the
 * key families they run with.  No httpd header.
 */
#ifndef JOSE_ALG_H
#define JOSE_ALG_H

#include <stddef.h>

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

/* Exact, case-sensitive lookup of an RFC 7518 name; JWT_ALG_UNKNOWN for
 * anything else, "none" included. */
jwt_alg_e jwt_alg_from_name(const char *name, size_t len);
const char *jwt_alg_name(jwt_alg_e alg);
jwt_kty_e jwt_alg_kty(jwt_alg_e alg);

#endif /* JOSE_ALG_H */
