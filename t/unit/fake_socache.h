/*
 * fake_socache.h: a stand-in for a socache provider, for the unit tests
 * of the shared cache tier (jwt_shared_cache_t): FAKE_SLOTS entries in
 * memory, each store counted and its expiry kept.
 */
#ifndef JWT_FAKE_SOCACHE_H
#define JWT_FAKE_SOCACHE_H

#include <string.h>

#include "jose.h"

#define FAKE_SLOTS 16

typedef struct {
    unsigned char key[32];
    unsigned char val[JWT_SHARED_MAX_ENTRY];
    unsigned int len;
    int used;
} fake_slot_t;

static fake_slot_t fake[FAKE_SLOTS];
static int fake_stores;                 /* stores since fake_reset() */
static int fake_any;                    /* answer every key with the first
                                         * entry (a store that lies) */
static apr_int64_t fake_expiry;         /* of the last store */

static void fake_reset(void)
{
    memset(fake, 0, sizeof(fake));
    fake_stores = 0;
    fake_any = 0;
    fake_expiry = 0;
}

static int fake_lookup(void *ctx, const unsigned char *key,
                       unsigned char *val, unsigned int *vlen)
{
    int i;

    for (i = 0; i < FAKE_SLOTS; i++) {
        if (fake[i].used && (fake_any || !memcmp(fake[i].key, key, 32))
            && fake[i].len <= *vlen) {
            memcpy(val, fake[i].val, fake[i].len);
            *vlen = fake[i].len;
            return 1;
        }
    }
    return 0;
}

static void fake_store(void *ctx, const unsigned char *key,
                       apr_int64_t expiry, const unsigned char *val,
                       unsigned int vlen)
{
    fake_slot_t *f = &fake[fake_stores++ % FAKE_SLOTS];

    memcpy(f->key, key, 32);
    memcpy(f->val, val, vlen);
    f->len = vlen;
    f->used = 1;
    fake_expiry = expiry;
}

#endif
