/* The /login credential parsers, one per build: FUZZ_CREDS is basic,
 * form or json.  Whatever they accept is a non-empty user and password
 * without NUL. */
#include "fuzz_common.h"
#include "creds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *user = NULL, *pw = NULL;
    int ok;

    fuzz_init();
    apr_pool_create(&p, fuzz_root);
#if FUZZ_CREDS == 1
    ok = jwt_creds_basic(&user, &pw, p, apr_pstrmemdup(p, (const char *)data,
                                                       size));
#elif FUZZ_CREDS == 2
    ok = jwt_creds_form(&user, &pw, p, (const char *)data, size);
#else
    ok = jwt_creds_json(&user, &pw, p, (const char *)data, size);
#endif
    if (ok && (!user || !pw || !*user || !*pw)) {
        abort();
    }
    apr_pool_destroy(p);
    return 0;
}
