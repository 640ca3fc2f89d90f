/* base64url: whatever decodes re-encodes to the very same text (the
 * decoder accepts canonical input only), and encoding never overflows. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    unsigned char *out;
    size_t len;

    fuzz_init();
    apr_pool_create(&p, fuzz_root);
    if (jwt_b64url_decode(&out, &len, p, (const char *)data, size)) {
        char *again = jwt_b64url_encode(p, out, len);
        if (strlen(again) != size || memcmp(again, data, size)) {
            abort();
        }
    }
    jwt_b64url_encode(p, data, size);
    apr_pool_destroy(p);
    return 0;
}
