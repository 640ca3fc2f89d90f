/*
 * bench_libjwt.c: Debian's libjwt (1.x) decoding a token, for
 * bench_core.c.  Its own translation unit: libjwt's jwt.h and the core's
 * jwt_core.h both name a jwt_t.
 */
#include <jwt.h>

#include "bench_libjwt.h"

int bench_libjwt_verify(const char *token, const unsigned char *key,
                        int keylen)
{
    jwt_t *jwt = NULL;
    int rc = jwt_decode(&jwt, token, key, keylen);

    /* a fair comparison also reads the expiry */
    if (rc == 0 && jwt_get_grant_int(jwt, "exp") <= 0) {
        rc = -1;
    }
    jwt_free(jwt);
    return rc == 0;
}
