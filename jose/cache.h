/*
 * cache.h: the validated-token cache (cache.c).  No httpd header: APR,
 * jansson, OpenSSL.
 *
 * Three tiers, each optional, looked at in this order:
 *   - a jwt_cache_t: one thread's own, no lock: its parsed token headers
 *     (a hashed cache of 512) and, optionally, a small direct-mapped
 *     table of tokens;
 *   - a jwt_pcache_t: one per process, shared by all its threads, bounded
 *     in bytes, in shards with a lock each (no lock common to all);
 *   - a tier shared by processes or machines through callbacks (httpd's
 *     socache in the module).
 * The module makes one jwt_pcache_t per process (child_init) and one
 * jwt_cache_t per thread, attached to it.
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
typedef struct jwt_pcache jwt_pcache_t;

/* A cache of 'entries' token slots (rounded up to a power of two; 0: no
 * token slots, only the header slots).  malloc'd, not tied to a pool:
 * free it with jwt_cache_destroy().  NULL when memory is short.  Used by
 * one thread at a time. */
jwt_cache_t *jwt_cache_create(size_t entries);

/* Put the process-wide cache pc (NULL: none) behind c: a token that c's
 * own slots do not hold is looked for in pc, and a token verified
 * through c is kept in pc.  pc must outlive every use of c. */
void jwt_cache_attach(jwt_cache_t *c, jwt_pcache_t *pc);

/* Free c and everything it holds (NULL is fine); not its jwt_pcache_t. */
void jwt_cache_destroy(jwt_cache_t *c);

/* The smallest process-wide cache: its fixed part (shards, buckets) must
 * leave room for entries. */
#define JWT_PCACHE_MIN_BYTES ((size_t)64 * 1024)

/* A process-wide cache holding at most 'bytes' bytes in all: every
 * entry counts its token, kid and claims (text and index) and its own
 * record plus malloc's overhead, and the shards and buckets are counted
 * too.  Entries are malloc'd; everything is freed with p (a cleanup on
 * p).  NULL when bytes < JWT_PCACHE_MIN_BYTES or memory or a mutex is
 * short.  Safe for any number of threads at once. */
jwt_pcache_t *jwt_pcache_create(apr_pool_t *p, size_t bytes);

/* Keep with each entry of pc the claims as environment variables,
 * jwt_claims_env(claims, prefix) (prefix copied; NULL: none), so that a
 * hit hands them over (jwt_cache_env) instead of building them again:
 * the claims of a hit are those of its entry.  Set it before the first
 * lookup. */
void jwt_pcache_env_prefix(jwt_pcache_t *pc, const char *prefix);

/* Keep with each entry of pc len bytes that fn makes from the verified
 * token when the entry is made (fn(ctx, p, jwt, out): p the pool of
 * that call, out len bytes), so that a hit hands them over
 * (jwt_cache_extra) instead of the caller making them again from the
 * claims: the module keeps the session store's keys of the token there.
 * The bytes count against the cache's size.  Set it before the first
 * lookup; fn must depend on the token's claims only. */
typedef void (*jwt_extra_fn)(void *ctx, apr_pool_t *p, const jwt_t *jwt,
                             unsigned char *out);
void jwt_pcache_extra(jwt_pcache_t *pc, size_t len, jwt_extra_fn fn,
                      void *ctx);

/* The extra bytes (jwt_pcache_extra; the pool of the call's copy) of the
 * answer the last jwt_verify_cached through c gave, when the process's
 * cache gave it or made them to keep it; else NULL (make them from the
 * claims). */
const unsigned char *jwt_cache_extra(const jwt_cache_t *c);

/* The variables (jwt_env_t, in the pool of the call) of the answer the
 * last jwt_verify_cached through c gave, when the process's cache keeps
 * them and gave the answer or made them to keep it; else NULL (compute
 * them with jwt_claims_env).  The array is the caller's; c only points
 * at it until its next call. */
const apr_array_header_t *jwt_cache_env(const jwt_cache_t *c);

/* What a jwt_pcache_t holds and has done (each shard's lock taken in
 * turn: not for the request path). */
typedef struct {
    size_t limit;                       /* the bytes it was made with */
    size_t bytes;                       /* counted now, fixed part too */
    size_t entries;
    unsigned shards;
    apr_uint64_t hits, misses, stores, evictions;
    apr_uint64_t locks;                 /* shard locks taken */
    apr_uint64_t contended;             /* of them, held by another
                                         * thread when asked for */
} jwt_pcache_stats_t;

void jwt_pcache_stats(jwt_pcache_t *pc, jwt_pcache_stats_t *st);

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
#define JWT_CACHE_MISS    0             /* verified in full */
#define JWT_CACHE_THREAD  1             /* the jwt_cache_t's own slots */
#define JWT_CACHE_SHARED  2             /* the shared tier */
#define JWT_CACHE_PROCESS 3             /* the jwt_pcache_t */

/* jwt_verify through the cache c (NULL: none) and the process-wide cache
 * attached to it, then the shared tier (NULL: none).  A hit in c or its
 * process cache needs the same token bytes, the same generation (bump it
 * when the configuration or a key set changes in-process: an entry of
 * another generation is never served) and the same policy
 * (jwt_policy_same); a shared hit needs the same token and policy
 * fingerprint and an entry whose MAC verifies.  Hits skip the signature
 * check, never the claim checks, which run again at 'now'.  *hit is one
 * of JWT_CACHE_*.  The returned jwt has no header on a hit, and its
 * claims are p's own copy.  Returns as jwt_verify. */
int jwt_verify_cached(jwt_t **out, apr_pool_t *p, jwt_cache_t *c,
                      const char *token, size_t len,
                      const jwt_policy_t *policy, apr_int64_t now,
                      apr_uint64_t generation,
                      const jwt_shared_cache_t *shared, int *hit,
                      jwt_error_t *err);

#endif /* JOSE_CACHE_H */
