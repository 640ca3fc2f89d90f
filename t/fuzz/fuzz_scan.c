/*
 * fuzz_scan.c: the claims scanner (jwt_json.c) against jansson on any
 * bytes: the same verdict, and for an accepted object the same members,
 * types, texts and numbers (t/json_oracle.h).  Any difference aborts.
 */
#include <stdio.h>

#include "fuzz_common.h"
#include "../json_oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *why;

    fuzz_init();
    apr_pool_create(&p, fuzz_root);
    why = json_oracle(p, (const char *)data, size);
    if (why) {
        fprintf(stderr, "scanner and jansson differ: %s\n", why);
        abort();
    }
    apr_pool_destroy(p);
    return 0;
}
