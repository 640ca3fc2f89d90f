/*
 * cache.h: the validated-token cache (cache.c).  No httpd header: APR,
 * jansson, OpenSSL.
 *
 * A jwt_cache_t is a small direct-mapped table of tokens already
 * verified, and a few parsed token headers, for one thread at a time:
 * no lock.  The module makes one per thread and destroys it with the
 * thread.  Behind it, optionally, a tier shared by processes or machines
 * through callbacks (httpd's socache in the module).
 */
#ifndef JOSE_CACHE_H
#define JOSE_CACHE_H

#include <apr_pools.h>

#include "jws.h"
#include "policy.h"
#include "util.h"

/* Tokens longer than this are never cached. */
#define JWT_CACHE_MAX_TOKEN 8192

typedef struct jwt_cache jwt_cache_t;

/* A cache of 'entries' token slots (rounded up to a power of two; 0: no
 * token slots, only the header slots).  malloc'd, not tied to a pool:
 * free it with jwt_cache_destroy().  NULL when memory is short. */
jwt_cache_t *jwt_cache_create(size_t entries);

/* Free c and everything it holds (NULL is fine). */
void jwt_cache_destroy(jwt_cache_t *c);

/* A second cache tier shared between processes or machines.  The core
 * only hands it opaque entries: a 32-byte key (SHA-256 of the policy's
 * fingerprint and the token) and a value that carries the claims under an
 * HMAC with 'secret', so that whoever can write to the store still cannot
 * vouch for a token: an entry whose MAC does not verify is ignored. */
typedef struct {
    /* copy at most *vlen bytes of the entry for key into val, set *vlen;
     * 1 when found */
    int (*lookup)(void *ctx, const unsigned char *key, unsigned char *val,
                  unsigned int *vlen);
    /* keep val for key until 'expiry' (seconds since the epoch) */
    void (*store)(void *ctx, const unsigned char *key, apr_int64_t expiry,
                  const unsigned char *val, unsigned int vlen);
    void *ctx;
    const unsigned char *secret;        /* at least 32 bytes */
    size_t secret_len;
} jwt_shared_cache_t;

/* Largest shared entry (claims JSON included). */
#define JWT_SHARED_MAX_ENTRY 8192

/* How jwt_verify_cached answered. */
#define JWT_CACHE_MISS   0              /* verified in full */
#define JWT_CACHE_THREAD 1              /* the jwt_cache_t */
#define JWT_CACHE_SHARED 2              /* the shared tier */

/* jwt_verify through the cache c (NULL: none), then the shared tier
 * (NULL: none).  A hit in c needs the same token bytes, the same
 * generation (bump it when the configuration is reloaded in-process)
 * and the same policy (jwt_policy_same); a shared hit needs the same
 * token and policy fingerprint and an entry whose MAC verifies.  Hits
 * skip the signature check, never the claim checks, which run again at
 * 'now'.  *hit is one of JWT_CACHE_*.  The returned jwt has no header on
 * a hit.  Returns as jwt_verify. */
int jwt_verify_cached(jwt_t **out, apr_pool_t *p, jwt_cache_t *c,
                      const char *token, size_t len,
                      const jwt_policy_t *policy, apr_int64_t now,
                      apr_uint64_t generation,
                      const jwt_shared_cache_t *shared, int *hit,
                      jwt_error_t *err);

#endif /* JOSE_CACHE_H */
