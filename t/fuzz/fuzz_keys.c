/* Key files: PEM, JWK and JWK Set text, public and private readings. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    apr_array_header_t *keys;
    jwt_error_t err;
    const char *text;
    int i;

    fuzz_init();
    apr_pool_create(&p, fuzz_root);
    keys = apr_array_make(p, 2, sizeof(jwt_key_t *));
    text = apr_pstrmemdup(p, (const char *)data, size);
    if (jwt_keys_load(keys, p, text, size, NULL, size & 1, &err)) {
        for (i = 0; i < keys->nelts; i++) {
            const jwt_key_t *k = APR_ARRAY_IDX(keys, i, jwt_key_t *);
            if (!jwt_key_algs(k)) {
                abort();        /* a loaded key always runs something */
            }
        }
    }
    apr_pool_destroy(p);
    return 0;
}
