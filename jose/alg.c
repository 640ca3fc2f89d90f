/*
 * alg.c: the JWS algorithms (RFC 7518, RFC 8037) the core knows, one
 * table of what each needs.
 *
 * No httpd header.
 */
#include <string.h>

#include "alg.h"
#include "internal.h"

const jwt_alg_info_t jwt_algs[JWT_ALG_COUNT] = {
    [JWT_ALG_UNKNOWN] = { NULL, 0, NULL, 0, 0, NULL },
    [JWT_ALG_HS256] = { "HS256", JWT_KTY_OCT, "SHA256", 32, 0, NULL },
    [JWT_ALG_HS384] = { "HS384", JWT_KTY_OCT, "SHA384", 48, 0, NULL },
    [JWT_ALG_HS512] = { "HS512", JWT_KTY_OCT, "SHA512", 64, 0, NULL },
    [JWT_ALG_RS256] = { "RS256", JWT_KTY_RSA, "SHA256", 0, 0, NULL },
    [JWT_ALG_RS384] = { "RS384", JWT_KTY_RSA, "SHA384", 0, 0, NULL },
    [JWT_ALG_RS512] = { "RS512", JWT_KTY_RSA, "SHA512", 0, 0, NULL },
    [JWT_ALG_PS256] = { "PS256", JWT_KTY_RSA, "SHA256", 0, 1, NULL },
    [JWT_ALG_PS384] = { "PS384", JWT_KTY_RSA, "SHA384", 0, 1, NULL },
    [JWT_ALG_PS512] = { "PS512", JWT_KTY_RSA, "SHA512", 0, 1, NULL },
    [JWT_ALG_ES256] = { "ES256", JWT_KTY_EC, "SHA256", 32, 0, "prime256v1",
                        "P-256" },
    [JWT_ALG_ES384] = { "ES384", JWT_KTY_EC, "SHA384", 48, 0, "secp384r1",
                        "P-384" },
    [JWT_ALG_ES512] = { "ES512", JWT_KTY_EC, "SHA512", 66, 0, "secp521r1",
                        "P-521" },
    [JWT_ALG_ES256K] = { "ES256K", JWT_KTY_EC, "SHA256", 32, 0,
                         "secp256k1", "secp256k1" },
    [JWT_ALG_EDDSA] = { "EdDSA", JWT_KTY_OKP, NULL, 64, 0, "ED25519",
                        "Ed25519" },
};

jwt_alg_e jwt_alg_from_name(const char *name, size_t len)
{
    int i;

    for (i = 1; i < JWT_ALG_COUNT; i++) {
        if (strlen(jwt_algs[i].name) == len
            && memcmp(jwt_algs[i].name, name, len) == 0) {
            return (jwt_alg_e)i;
        }
    }
    return JWT_ALG_UNKNOWN;
}

const char *jwt_alg_name(jwt_alg_e alg)
{
    return (alg > JWT_ALG_UNKNOWN && alg < JWT_ALG_COUNT)
           ? jwt_algs[alg].name : NULL;
}

jwt_kty_e jwt_alg_kty(jwt_alg_e alg)
{
    return (alg > JWT_ALG_UNKNOWN && alg < JWT_ALG_COUNT)
           ? jwt_algs[alg].kty : 0;
}

