/*
 * test_robust.c: unit tests of the core against hostile numbers, TAP
 * output: the expiry the shared cache tier is handed for a token whose
 * exp is huge (1e300, beyond 2^63) stays a sane int64, with no
 * out-of-range double-to-integer conversion on the way (build with
 * SANITIZE=1 and -fsanitize=float-cast-overflow to see one).
 */
#include <stdlib.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <openssl/evp.h>

#include "jose.h"
#include "tap.h"
#include "fake_socache.h"

#define NOW ((apr_int64_t)1700000000)
/* the longest life cache.c gives a shared entry */
#define DAY ((apr_int64_t)86400)

static apr_pool_t *pool;

static const unsigned char key64[64] =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/* {"alg":"HS256"}.payload signed under key64 with the core's signer's
 * independent twin: OpenSSL's one-shot HMAC. */
static const char *token(const char *payload)
{
    const char *h = jwt_b64url_encode(pool, (const unsigned char *)
                                      "{\"alg\":\"HS256\"}", 15);
    const char *in = apr_pstrcat(pool, h, ".", jwt_b64url_encode(pool,
                                 (const unsigned char *)payload,
                                 strlen(payload)), NULL);
    unsigned char mac[32];
    size_t maclen = 0;

    if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key64, 64,
                   (const unsigned char *)in, strlen(in), mac, sizeof(mac),
                   &maclen)) {
        abort();
    }
    return apr_pstrcat(pool, in, ".", jwt_b64url_encode(pool, mac, maclen),
                       NULL);
}

/* Each exp through jwt_verify_cached with a shared tier: the token
 * passes, and the entry is stored with the expiry expected (-1: not
 * stored at all). */
static void test_shared_expiry(void)
{
    static const unsigned char secret[32] = "shared-cache secret, 32 bytes!!";
    jwt_shared_cache_t sh = { fake_lookup, fake_store, NULL, secret, 32 };
    jwt_key_t *key = NULL;
    apr_array_header_t *keys = apr_array_make(pool, 1, sizeof(jwt_key_t *));
    jwt_policy_t pol = { JWT_ALG_BIT(JWT_ALG_HS256), NULL, NULL, NULL, 60,
                         NULL };
    jwt_error_t err;
    const struct {
        const char *name, *exp;
        apr_int64_t want;
    } rows[] = {
        { "exp 1e300", "1e300", NOW + DAY },
        { "exp 9.3e18 (beyond 2^63)", "9.3e18", NOW + DAY },
        { "exp 2^63 - 1 (2^63 as a double)", "9223372036854775807",
          NOW + DAY },
        { "exp 1.7e308 (near DBL_MAX)", "1.7e308", NOW + DAY },
        { "exp two days ahead", apr_psprintf(pool, "%" APR_INT64_T_FMT,
                                              NOW + 2 * DAY), NOW + DAY },
        { "exp an hour ahead", apr_psprintf(pool, "%" APR_INT64_T_FMT,
                                             NOW + 3600), NOW + 3600 },
        { "exp a fraction ahead", apr_psprintf(pool, "%" APR_INT64_T_FMT
                                                ".75", NOW + 10), NOW + 10 },
        { "exp past, within leeway", apr_psprintf(pool, "%" APR_INT64_T_FMT,
                                                   NOW - 5), -1 },
    };
    size_t i;

    if (!jwt_key_hmac_create(&key, pool, key64, 64, NULL, &err)) {
        printf("# key: %s\n", err.reason);
        abort();
    }
    APR_ARRAY_PUSH(keys, jwt_key_t *) = key;
    pol.keys = keys;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *tok = token(apr_psprintf(pool, "{\"sub\":\"y\","
                                             "\"exp\":%s}", rows[i].exp));
        jwt_t *jwt = NULL;
        int hit = -1, r;

        fake_reset();
        r = jwt_verify_cached(&jwt, pool, NULL, tok, strlen(tok), &pol, NOW,
                              1, &sh, &hit, &err);
        ok(r && hit == JWT_CACHE_MISS, "%s: accepted (%s)", rows[i].name,
           r ? "ok" : err.reason);
        if (rows[i].want < 0) {
            ok(fake_stores == 0, "%s: not stored (stores %d)", rows[i].name,
               fake_stores);
        }
        else {
            ok(fake_stores == 1 && fake_expiry == rows[i].want,
               "%s: stored once with expiry now + %" APR_INT64_T_FMT
               " (got %d stores, now + %" APR_INT64_T_FMT ")", rows[i].name,
               rows[i].want - NOW, fake_stores, fake_expiry - NOW);
        }
    }
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_shared_expiry();
    apr_pool_destroy(pool);
    apr_terminate();
    return done_testing();
}
