/* Whole-token parse and verify against keys of every type, every
 * algorithm allowed, iss/aud/typ required. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static apr_array_header_t *auds;
    static apr_array_header_t *issuers;
    jwt_policy_t pol = { (1u << JWT_ALG_COUNT) - 2, NULL, NULL, NULL, 5,
                         NULL };
    apr_pool_t *p;
    jwt_t *jwt;
    jwt_error_t err;

    pol.keys = fuzz_keys();
    if (!auds) {
        auds = apr_array_make(fuzz_root, 1, sizeof(const char *));
        APR_ARRAY_PUSH(auds, const char *) = "aud";
    }
    pol.audiences = auds;
    if (!issuers) {
        issuers = apr_array_make(fuzz_root, 1, sizeof(const char *));
        APR_ARRAY_PUSH(issuers, const char *) = "iss";
    }
    pol.issuers = issuers;
    pol.typ = (size & 1) ? "JWT" : NULL;
    apr_pool_create(&p, fuzz_root);
    if (jwt_verify(&jwt, p, (const char *)data, size, &pol, 1700000000,
                   &err) && (!jwt || !jwt->claims.base)) {
        abort();
    }
    apr_pool_destroy(p);
    return 0;
}
