/*
 * cache.c: the validated-token cache of mod_jwtauth's core.
 *
 * Three tiers, each keyed by the exact token bytes together with the
 * policy it was accepted under (jwt_policy_same) and a configuration
 * generation:
 *   - a jwt_cache_t, one thread's own (no lock, no sharing): its parsed
 *     token headers (a hashed cache of 512, jws_private.h) and,
 *     optionally, a small direct-mapped table;
 *   - a jwt_pcache_t, one per process: a hash table in shards, each with
 *     its own mutex, its own LRU list and its share of the byte budget;
 *   - optionally a tier shared by processes or machines through
 *     callbacks (httpd's socache in the module), whose entries are keyed
 *     by the policy's fingerprint and the token and authenticated with an
 *     HMAC.
 * A hit skips the signature check (and, from the first two, all JSON
 * parsing), never the claim checks: exp, nbf, iat, iss and aud are
 * checked again against the current time on every hit, so a cached token
 * never outlives its validity, and a token accepted under one policy is
 * never accepted from the cache under another.
 *
 * Why shards with a mutex each, not a read-mostly scheme: a hit writes
 * anyway (its place in the LRU list, the counters), a lookup holds the
 * lock for a few hundred instructions (compare, copy the claims), and
 * with 64 shards two of 32 threads meet on one lock rarely: the
 * contended count (jwt_pcache_stats) measures it.  An RCU-like scheme
 * would need deferred freeing that APR does not offer.
 *
 * No httpd header: APR, jansson, OpenSSL.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cache.h"
#include "claims.h"
#include "jws_private.h"
#include "digest.h"

/* ---------------------------------------------------------------- */
/* the thread's own tier                                            */

typedef struct {
    char *token;                /* malloc'd copy, NULL when empty */
    size_t len;
    jwt_policy_t policy;        /* the policy it was accepted under */
    apr_uint64_t generation;
    jwt_alg_e alg;
    char *kid;                  /* malloc'd, or NULL */
    void *blob;                 /* malloc'd: the claims' text and spans */
    jwt_claims_t claims;        /* pointing into blob */
    jwt_times_t times;          /* its exp, nbf, iat, read once */
} cache_entry_t;

struct jwt_cache {
    size_t size;                /* a power of two, or 0 */
    cache_entry_t *e;
    jwt_headers_t headers;
    jwt_pcache_t *pc;           /* behind it, or NULL */
    const apr_array_header_t *env; /* of the last answer, or NULL */
    const unsigned char *extra; /* of the last answer, or NULL */
};

static void entry_clear(cache_entry_t *e)
{
    free(e->token);
    free(e->kid);
    free(e->blob);
    memset(e, 0, sizeof(*e));
}

jwt_cache_t *jwt_cache_create(size_t entries)
{
    jwt_cache_t *c = calloc(1, sizeof(*c));
    size_t size = 1;

    if (!c || !entries) {
        return c;
    }
    while (size < entries && size < (1u << 20)) {
        size <<= 1;
    }
    if (!(c->e = calloc(size, sizeof(cache_entry_t)))) {
        free(c);
        return NULL;
    }
    c->size = size;
    return c;
}

const apr_array_header_t *jwt_cache_env(const jwt_cache_t *c)
{
    return c ? c->env : NULL;
}

const unsigned char *jwt_cache_extra(const jwt_cache_t *c)
{
    return c ? c->extra : NULL;
}

void jwt_cache_attach(jwt_cache_t *c, jwt_pcache_t *pc)
{
    if (c) {
        c->pc = pc;
    }
}

void jwt_cache_destroy(jwt_cache_t *c)
{
    size_t i;

    if (!c) {
        return;
    }
    for (i = 0; i < c->size; i++) {
        entry_clear(&c->e[i]);
    }
    free(c->e);
    jwt_headers_clear(&c->headers);
    free(c);
}

/* FNV-1a over the token's last 32 bytes (its signature, which differs
 * from token to token) and its length, from seed.  Only a choice of slot
 * or bucket: a hit still needs the whole token equal and the same policy
 * (jwt_policy_same), so tokens made to share one only evict each other
 * or make a chain longer (the process cache's seed is random per
 * process, so which tokens share a chain cannot be planned). */
static apr_uint64_t token_hash(apr_uint64_t seed, const char *token,
                               size_t len)
{
    const unsigned char *s = (const unsigned char *)token
                             + (len > 32 ? len - 32 : 0);
    const unsigned char *e = (const unsigned char *)token + len;
    apr_uint64_t h = seed ^ len;

    while (s < e) {
        h = (h ^ *s++) * 1099511628211ULL;
    }
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    return h ^ (h >> 32);
}

#define FNV_BASIS 14695981039346656037ULL

static void thread_store(cache_entry_t *e, const char *token, size_t len,
                         const jwt_policy_t *pol, apr_uint64_t generation,
                         const jwt_t *jwt)
{
    jwt_error_t err;

    entry_clear(e);
    if (!jwt_claims_times(&jwt->claims, &e->times, &err)) {
        return;
    }
    e->token = malloc(len);
    e->kid = jwt->kid ? strdup(jwt->kid) : NULL;
    e->blob = malloc(jwt_claims_blob_size(&jwt->claims));
    if (!e->token || (jwt->kid && !e->kid) || !e->blob) {
        entry_clear(e);
        return;
    }
    jwt_claims_copy(&e->claims, e->blob, &jwt->claims);
    memcpy(e->token, token, len);
    e->len = len;
    memcpy(&e->policy, pol, sizeof(e->policy)); /* padding too */
    e->generation = generation;
    e->alg = jwt->alg;
}

/* A jwt in p from what a cache entry holds: p's own copy of the claims
 * and kid (the entry may be reused or freed once the lock is gone). */
static jwt_t *jwt_from(apr_pool_t *p, jwt_alg_e alg, const char *kid,
                       const jwt_claims_t *claims)
{
    jwt_t *jwt = apr_palloc(p, sizeof(*jwt));

    jwt->alg = alg;
    jwt->kid = kid ? apr_pstrdup(p, kid) : NULL;
    jwt->header = NULL;
    jwt_claims_copy(&jwt->claims,
                    apr_palloc(p, jwt_claims_blob_size(claims)), claims);
    return jwt;
}

/* ---------------------------------------------------------------- */
/* the process-wide tier                                            */

/* One entry, one malloc: this record, then the token, the kid and its
 * NUL, then (aligned) the claims' blob, then the environment variables'
 * names and values, each NUL-terminated, one after the other, then the
 * extra bytes (jwt_pcache_extra). */
typedef struct pentry {
    struct pentry *next;        /* in its bucket */
    struct pentry *newer, *older; /* in its shard's LRU list */
    apr_uint64_t hash;
    size_t bytes;               /* what it counts against the budget */
    size_t len;
    apr_uint64_t generation;
    jwt_policy_t policy;
    jwt_alg_e alg;
    const char *kid;            /* in the block, or NULL */
    jwt_claims_t claims;        /* in the block */
    jwt_times_t times;          /* its exp, nbf, iat, read once */
    const char *env;            /* in the block: nenv name, value pairs,
                                 * then pc->extra_len bytes */
    size_t envlen;
    int nenv;                   /* -1: none kept */
    char token[1];
} pentry_t;

/* glibc's malloc adds 8 bytes to a request and rounds up to 16: counted
 * as 16 more, rounded up to 16 */
#define MALLOC_COST(n) ((((n) + 16) + 15) & ~(size_t)15)
/* what an APR mutex costs (its record in the pool, pthread's inside) */
#define MUTEX_COST 128

typedef struct {
    apr_thread_mutex_t *lock;
    pentry_t **bucket;
    size_t mask;                /* buckets - 1 */
    pentry_t *newest, *oldest;
    size_t bytes, budget;       /* of the entries */
    size_t entries;
    apr_uint64_t hits, misses, stores, evictions, locks, contended;
} shard_t;

/* shards on cache lines of their own: two threads on two shards do not
 * pull one line back and forth */
#define SHARD_ALIGN 128
typedef union {
    shard_t s;
    char pad[((sizeof(shard_t) + SHARD_ALIGN - 1) / SHARD_ALIGN)
             * SHARD_ALIGN];
} shard_slot_t;

#define MAX_SHARDS 64
/* at least this many bytes of entries a shard */
#define MIN_SHARD_BYTES ((size_t)32 * 1024)
/* buckets: one per this many bytes of a shard's budget */
#define BYTES_PER_BUCKET 512

struct jwt_pcache {
    shard_slot_t *slot;         /* aligned, inside mem */
    void *mem;
    unsigned nshards;           /* a power of two */
    size_t limit, fixed;
    apr_uint64_t seed;
    const char *env_prefix;     /* jwt_pcache_env_prefix, or NULL */
    size_t extra_len;           /* jwt_pcache_extra: 0, or its bytes */
    jwt_extra_fn extra_fn;
    void *extra_ctx;
};

void jwt_pcache_extra(jwt_pcache_t *pc, size_t len, jwt_extra_fn fn,
                      void *ctx)
{
    if (pc) {
        pc->extra_len = fn ? len : 0;
        pc->extra_fn = fn;
        pc->extra_ctx = ctx;
    }
}

void jwt_pcache_env_prefix(jwt_pcache_t *pc, const char *prefix)
{
    if (pc) {
        pc->env_prefix = prefix ? strdup(prefix) : NULL;
    }
}

static void shard_lock(shard_t *s)
{
    apr_status_t rv = apr_thread_mutex_trylock(s->lock);

    if (APR_STATUS_IS_EBUSY(rv)) {
        apr_thread_mutex_lock(s->lock);
        s->contended++;
    }
    s->locks++;
}

static void lru_unlink(shard_t *s, pentry_t *e)
{
    if (e->newer) {
        e->newer->older = e->older;
    }
    else {
        s->newest = e->older;
    }
    if (e->older) {
        e->older->newer = e->newer;
    }
    else {
        s->oldest = e->newer;
    }
    e->newer = e->older = NULL;
}

static void lru_push(shard_t *s, pentry_t *e)
{
    e->older = s->newest;
    e->newer = NULL;
    if (s->newest) {
        s->newest->newer = e;
    }
    else {
        s->oldest = e;
    }
    s->newest = e;
}

/* Take e out of its bucket (pp points at the link to it) and its LRU
 * list and onto *dead, to be freed once the lock is released. */
static void shard_remove(shard_t *s, pentry_t **pp, pentry_t *e,
                         pentry_t **dead)
{
    *pp = e->next;
    lru_unlink(s, e);
    s->bytes -= e->bytes;
    s->entries--;
    e->next = *dead;
    *dead = e;
}

/* The link to e in its bucket. */
static pentry_t **bucket_link(shard_t *s, pentry_t *e)
{
    pentry_t **pp = &s->bucket[(e->hash >> 32) & s->mask];

    while (*pp != e) {
        pp = &(*pp)->next;
    }
    return pp;
}

static void free_dead(pentry_t *dead)
{
    while (dead) {
        pentry_t *n = dead->next;

        free(dead);
        dead = n;
    }
}

static apr_status_t pcache_cleanup(void *data)
{
    jwt_pcache_t *pc = data;
    unsigned i;

    for (i = 0; i < pc->nshards; i++) {
        shard_t *s = &pc->slot[i].s;
        pentry_t *e = s->newest;

        while (e) {
            pentry_t *o = e->older;

            free(e);
            e = o;
        }
        free(s->bucket);
    }
    free(pc->mem);
    free((void *)pc->env_prefix);
    return APR_SUCCESS;
}

jwt_pcache_t *jwt_pcache_create(apr_pool_t *p, size_t bytes)
{
    jwt_pcache_t *pc;
    unsigned n = MAX_SHARDS, i;
    size_t nbuckets = 16, fixed, per;

    if (bytes < JWT_PCACHE_MIN_BYTES || !(pc = apr_pcalloc(p, sizeof(*pc)))) {
        return NULL;
    }
    while (n > 1 && bytes / n < MIN_SHARD_BYTES) {
        n >>= 1;
    }
    while (nbuckets < bytes / n / BYTES_PER_BUCKET && nbuckets < (1u << 24)) {
        nbuckets <<= 1;
    }
    fixed = MALLOC_COST(sizeof(*pc)) + MALLOC_COST(n * sizeof(shard_slot_t)
                                                   + SHARD_ALIGN)
            + n * (MALLOC_COST(nbuckets * sizeof(pentry_t *)) + MUTEX_COST);
    if (fixed >= bytes / 2) {
        return NULL;
    }
    per = (bytes - fixed) / n;
    if (!(pc->mem = calloc(1, n * sizeof(shard_slot_t) + SHARD_ALIGN))) {
        return NULL;
    }
    pc->slot = (shard_slot_t *)(((apr_uintptr_t)pc->mem + SHARD_ALIGN - 1)
                                & ~(apr_uintptr_t)(SHARD_ALIGN - 1));
    pc->nshards = n;
    pc->limit = bytes;
    pc->fixed = fixed;
    if (RAND_bytes((unsigned char *)&pc->seed, sizeof(pc->seed)) != 1) {
        pc->seed = FNV_BASIS ^ (apr_uint64_t)(apr_uintptr_t)pc;
    }
    /* from here on the cleanup frees whatever was made */
    apr_pool_cleanup_register(p, pc, pcache_cleanup, apr_pool_cleanup_null);
    for (i = 0; i < n; i++) {
        shard_t *s = &pc->slot[i].s;

        if (!(s->bucket = calloc(nbuckets, sizeof(pentry_t *)))
            || apr_thread_mutex_create(&s->lock, APR_THREAD_MUTEX_DEFAULT,
                                       p) != APR_SUCCESS) {
            apr_pool_cleanup_run(p, pc, pcache_cleanup);
            return NULL;
        }
        s->mask = nbuckets - 1;
        s->budget = per;
    }
    return pc;
}

void jwt_pcache_stats(jwt_pcache_t *pc, jwt_pcache_stats_t *st)
{
    unsigned i;

    memset(st, 0, sizeof(*st));
    if (!pc) {
        return;
    }
    st->limit = pc->limit;
    st->bytes = pc->fixed;
    st->shards = pc->nshards;
    for (i = 0; i < pc->nshards; i++) {
        shard_t *s = &pc->slot[i].s;

        apr_thread_mutex_lock(s->lock);
        st->bytes += s->bytes;
        st->entries += s->entries;
        st->hits += s->hits;
        st->misses += s->misses;
        st->stores += s->stores;
        st->evictions += s->evictions;
        st->locks += s->locks;
        st->contended += s->contended;
        apr_thread_mutex_unlock(s->lock);
    }
}

/* p's copy of an entry's variables: one allocation for the array's
 * header, its n elements and the pairs they point into (a hit's path:
 * apr_array_make, a copy and n pushes cost ~300 instructions more).  The
 * array is an ordinary one of p: pushing onto it grows it as usual. */
static const apr_array_header_t *env_from(apr_pool_t *p, const char *pairs,
                                          size_t len, int n)
{
    size_t head = APR_ALIGN_DEFAULT(sizeof(apr_array_header_t));
    size_t elts = APR_ALIGN_DEFAULT((size_t)n * sizeof(jwt_env_t));
    char *block = apr_palloc(p, head + elts + len);
    apr_array_header_t *vars = (apr_array_header_t *)block;
    jwt_env_t *v = (jwt_env_t *)(block + head);
    const char *q = memcpy(block + head + elts, pairs, len);
    int i;

    vars->pool = p;
    vars->elt_size = sizeof(jwt_env_t);
    vars->nelts = n;
    vars->nalloc = n;
    vars->elts = (char *)v;
    for (i = 0; i < n; i++) {
        v[i].name = q;
        q += strlen(q) + 1;
        v[i].value = q;
        q += strlen(q) + 1;
    }
    return vars;
}

/* The shard of a hash: its low bits (the bucket takes the high ones). */
static shard_t *shard_of(jwt_pcache_t *pc, apr_uint64_t h)
{
    return &pc->slot[h & (pc->nshards - 1)].s;
}

/* The entry for token under pol and generation: 1 and *out (p's copy),
 * 0 when absent, -1 and *err when present but its claims fail at now
 * (the entry is dropped).  An entry of the same token under another
 * generation is dropped when met: it can never be served again, and its
 * policy's pointers may point into a configuration that is gone (so the
 * generation is compared before the policy). */
static int pcache_lookup(jwt_t **out, const apr_array_header_t **env,
                         const unsigned char **extra,
                         apr_pool_t *p, jwt_pcache_t *pc,
                         apr_uint64_t h, const char *token, size_t len,
                         const jwt_policy_t *pol, apr_int64_t now,
                         apr_uint64_t generation, jwt_error_t *err)
{
    shard_t *s = shard_of(pc, h);
    pentry_t **pp, *e, *dead = NULL;
    int rc = 0;

    shard_lock(s);
    pp = &s->bucket[(h >> 32) & s->mask];
    while ((e = *pp)) {
        if (e->hash != h || e->len != len || memcmp(e->token, token, len)) {
            pp = &e->next;
            continue;
        }
        if (e->generation != generation) {
            shard_remove(s, pp, e, &dead);
            s->evictions++;
            continue;
        }
        if (!jwt_policy_same(&e->policy, pol)) {
            pp = &e->next;
            continue;
        }
        /* the signature held for these very bytes under this very
         * policy: only the time-dependent checks can change */
        if (!jwt_check_times(&e->times, pol->leeway, now, err)) {
            shard_remove(s, pp, e, &dead);
            s->evictions++;
            rc = -1;
            break;
        }
        *out = jwt_from(p, e->alg, e->kid, &e->claims);
        *env = e->nenv >= 0 ? env_from(p, e->env, e->envlen, e->nenv) : NULL;
        *extra = pc->extra_len ? apr_pmemdup(p, e->env + e->envlen,
                                             pc->extra_len) : NULL;
        lru_unlink(s, e);
        lru_push(s, e);
        rc = 1;
        break;
    }
    if (rc == 1) {
        s->hits++;
    }
    else {
        s->misses++;
    }
    apr_thread_mutex_unlock(s->lock);
    free_dead(dead);
    return rc;
}

/* Keep jwt, verified for token under pol and generation: the entry is
 * made outside the lock; under it, an equal entry (another thread raced
 * us to it) gives way, and the oldest entries go until it fits. */
/* Keep jwt, verified for token under pol and generation.  The variables
 * and extra bytes it makes for the entry are the caller's too (*env,
 * *extra, in p; NULL when pc keeps none), kept or not: the request that
 * verified the token needs them as much as later hits. */
static void pcache_store(jwt_pcache_t *pc, apr_pool_t *p, apr_uint64_t h,
                         const char *token, size_t len,
                         const jwt_policy_t *pol, apr_uint64_t generation,
                         const jwt_t *jwt, const apr_array_header_t **env,
                         const unsigned char **extra)
{
    shard_t *s = shard_of(pc, h);
    size_t kidlen = jwt->kid ? strlen(jwt->kid) : 0;
    size_t head = APR_ALIGN_DEFAULT(offsetof(pentry_t, token) + len
                                    + kidlen + 1);
    size_t blob = jwt_claims_blob_size(&jwt->claims), envlen = 0, size, cost;
    apr_array_header_t *vars = pc->env_prefix
        ? jwt_claims_env(p, &jwt->claims, pc->env_prefix, NULL) : NULL;
    unsigned char *x = NULL;
    pentry_t *e, *o, **pp, *dead = NULL;
    jwt_times_t times;
    jwt_error_t err;
    char *q;
    int i;

    if (pc->extra_len) {
        /* from the claims just verified, outside the lock */
        x = apr_palloc(p, pc->extra_len);
        pc->extra_fn(pc->extra_ctx, p, jwt, x);
    }
    *env = vars;
    *extra = x;
    if (!jwt_claims_times(&jwt->claims, &times, &err)) {
        return;
    }
    for (i = 0; vars && i < vars->nelts; i++) {
        const jwt_env_t *v = &APR_ARRAY_IDX(vars, i, jwt_env_t);

        envlen += strlen(v->name) + strlen(v->value) + 2;
    }
    size = head + blob + envlen + pc->extra_len;
    cost = MALLOC_COST(size);
    if (cost > s->budget || !(e = malloc(size))) {
        return;
    }
    memset(e, 0, offsetof(pentry_t, token));
    e->times = times;
    e->hash = h;
    e->bytes = cost;
    e->len = len;
    e->generation = generation;
    memcpy(&e->policy, pol, sizeof(e->policy)); /* padding too */
    e->alg = jwt->alg;
    memcpy(e->token, token, len);
    if (jwt->kid) {
        memcpy(e->token + len, jwt->kid, kidlen + 1);
        e->kid = e->token + len;
    }
    jwt_claims_copy(&e->claims, (char *)e + head, &jwt->claims);
    e->nenv = vars ? vars->nelts : -1;
    e->env = q = (char *)e + head + blob;
    e->envlen = envlen;
    for (i = 0; vars && i < vars->nelts; i++) {
        const jwt_env_t *v = &APR_ARRAY_IDX(vars, i, jwt_env_t);
        size_t nl = strlen(v->name) + 1, vl = strlen(v->value) + 1;

        memcpy(q, v->name, nl);
        memcpy(q + nl, v->value, vl);
        q += nl + vl;
    }
    if (x) {
        memcpy(q, x, pc->extra_len);
    }

    shard_lock(s);
    pp = &s->bucket[(h >> 32) & s->mask];
    while ((o = *pp)) {
        if (o->hash == h && o->len == len && !memcmp(o->token, token, len)
            && (o->generation != generation
                || jwt_policy_same(&o->policy, pol))) {
            shard_remove(s, pp, o, &dead);
            continue;
        }
        pp = &o->next;
    }
    while (s->bytes + cost > s->budget && s->oldest) {
        o = s->oldest;
        shard_remove(s, bucket_link(s, o), o, &dead);
        s->evictions++;
    }
    pp = &s->bucket[(h >> 32) & s->mask];
    e->next = *pp;
    *pp = e;
    lru_push(s, e);
    s->bytes += cost;
    s->entries++;
    s->stores++;
    apr_thread_mutex_unlock(s->lock);
    free_dead(dead);
}

/* ---------------------------------------------------------------- */
/* the shared tier                                                  */

/* entry: "J1" | HMAC(secret, key | rest) | alg | kid length (2) | kid |
 * the claims' JSON text */
#define ENTRY_HEAD (2 + 32 + 1 + 2)

static int entry_mac(unsigned char mac[32], const jwt_shared_cache_t *sh,
                     const unsigned char *key, const unsigned char *rest,
                     size_t restlen)
{
    unsigned char *in = malloc(32 + restlen);
    size_t maclen = 0;
    int ok;

    if (!in) {
        return 0;
    }
    memcpy(in, key, 32);
    memcpy(in + 32, rest, restlen);
    ok = EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, sh->secret,
                   sh->secret_len, in, 32 + restlen, mac, 32, &maclen)
         != NULL && maclen == 32;
    free(in);
    return ok;
}

/* The longest an entry lives in the shared tier.  The cache only saves
 * work, so a day is plenty; it also keeps the expiry handed to the
 * store (and the provider's microseconds, apr_time_from_sec) far inside
 * int64 whatever the token's exp says (1e300 converted to an integer is
 * undefined behaviour). */
#define SHARED_MAX_LIFE ((apr_int64_t)86400)

/* Keep the verified jwt for key until min(exp, now + a day); nothing
 * when exp is already past (only the leeway let the token in). */
static void shared_store(const jwt_shared_cache_t *sh,
                         const unsigned char *key, const jwt_t *jwt,
                         apr_int64_t now)
{
    const jwt_claims_t *c = &jwt->claims;
    const jwt_member_t *m = jwt_claims_get(c, "exp");
    size_t kidlen = jwt->kid ? strlen(jwt->kid) : 0;
    size_t vlen = ENTRY_HEAD + kidlen + c->len;
    unsigned char *v;
    apr_int64_t expiry = now + SHARED_MAX_LIFE;
    double exp;

    /* compared as doubles, converted only once known to be in range:
     * !(exp > now) also refuses a NaN */
    if (!m || !jwt_member_number(c, m, &exp) || !(exp > (double)now)
        || kidlen > 0xffff || vlen > JWT_SHARED_MAX_ENTRY) {
        return;
    }
    if (exp < (double)expiry) {
        expiry = (apr_int64_t)exp;
    }
    if (!(v = malloc(vlen))) {
        return;
    }
    v[0] = 'J';
    v[1] = '1';
    v[34] = (unsigned char)jwt->alg;
    v[35] = (unsigned char)(kidlen >> 8);
    v[36] = (unsigned char)kidlen;
    memcpy(v + ENTRY_HEAD, jwt->kid ? jwt->kid : "", kidlen);
    memcpy(v + ENTRY_HEAD + kidlen, c->base, c->len);
    if (entry_mac(v + 2, sh, key, v + 34, vlen - 34)) {
        sh->store(sh->ctx, key, expiry, v, (unsigned int)vlen);
    }
    free(v);
}

/* The entry for key, checked: MAC, alg allowed, claims valid at now. */
static int shared_lookup(jwt_t **out, apr_pool_t *p,
                         const jwt_shared_cache_t *sh,
                         const unsigned char *key, const jwt_policy_t *pol,
                         apr_int64_t now, jwt_error_t *err)
{
    unsigned char *v = apr_palloc(p, JWT_SHARED_MAX_ENTRY), mac[32];
    unsigned int vlen = JWT_SHARED_MAX_ENTRY;
    size_t kidlen;
    jwt_alg_e alg;
    jwt_claims_t claims;
    jwt_t *jwt;

    if (!sh->lookup(sh->ctx, key, v, &vlen) || vlen < ENTRY_HEAD
        || vlen > JWT_SHARED_MAX_ENTRY || v[0] != 'J' || v[1] != '1'
        || !entry_mac(mac, sh, key, v + 34, vlen - 34)
        || CRYPTO_memcmp(mac, v + 2, 32) != 0) {
        return 0;               /* absent, or not ours: a plain miss */
    }
    alg = (jwt_alg_e)v[34];
    kidlen = (size_t)v[35] << 8 | v[36];
    if (alg <= JWT_ALG_UNKNOWN || alg >= JWT_ALG_COUNT
        || !(pol->algs & JWT_ALG_BIT(alg)) || ENTRY_HEAD + kidlen > vlen
        || !jwt_claims_parse(&claims, p, (const char *)v + ENTRY_HEAD
                             + kidlen, vlen - ENTRY_HEAD - kidlen)) {
        return 0;
    }
    if (!jwt_check_claims(&claims, pol, now, err)) {
        return -1;
    }
    jwt = apr_palloc(p, sizeof(*jwt));
    jwt->claims = claims;
    jwt->alg = alg;
    jwt->kid = kidlen ? apr_pstrmemdup(p, (const char *)v + ENTRY_HEAD,
                                       kidlen) : NULL;
    jwt->header = NULL;
    *out = jwt;
    return 1;
}

/* ---------------------------------------------------------------- */

int jwt_verify_cached(jwt_t **out, apr_pool_t *p, jwt_cache_t *c,
                      const char *token, size_t len, const jwt_policy_t *pol,
                      apr_int64_t now, apr_uint64_t generation,
                      const jwt_shared_cache_t *shared, int *hit,
                      jwt_error_t *err)
{
    jwt_headers_t *headers = c ? &c->headers : NULL;
    jwt_pcache_t *pc = c ? c->pc : NULL;
    cache_entry_t *e = NULL;
    unsigned char key[32];
    apr_uint64_t h = 0;
    int rc;

    *hit = JWT_CACHE_MISS;
    if (c) {
        c->env = NULL;
        c->extra = NULL;
    }
    if (len > JWT_CACHE_MAX_TOKEN) {
        return jwt_verify_with(out, p, headers, token, len, pol, now, err);
    }
    if (c && c->size) {
        e = &c->e[token_hash(FNV_BASIS, token, len) & (c->size - 1)];
        /* the generation first: an entry of an older configuration holds
         * pointers into memory that may be gone */
        if (e->token && e->len == len && e->generation == generation
            && !memcmp(e->token, token, len)
            && jwt_policy_same(&e->policy, pol)) {
            /* the signature held for these very bytes under this very
             * policy: only the time-dependent checks can change */
            if (!jwt_check_times(&e->times, pol->leeway, now, err)) {
                entry_clear(e);
                return 0;
            }
            /* a copy: a later request on this thread may reuse e */
            *out = jwt_from(p, e->alg, e->kid, &e->claims);
            *hit = JWT_CACHE_THREAD;
            jwt_set_err(err, JWT_OK, NULL);
            return 1;
        }
    }
    if (pc) {
        h = token_hash(pc->seed, token, len);
        if ((rc = pcache_lookup(out, &c->env, &c->extra, p, pc, h, token,
                                len, pol, now, generation, err)) != 0) {
            if (rc < 0) {
                if (e && e->token) {
                    entry_clear(e);
                }
                return 0;
            }
            if (e) {
                thread_store(e, token, len, pol, generation, *out);
            }
            *hit = JWT_CACHE_PROCESS;
            jwt_set_err(err, JWT_OK, NULL);
            return 1;
        }
    }
    if (shared && shared->secret_len >= 32) {
        unsigned char fp[32];
        const void *part[2] = { fp, token };
        size_t plen[2] = { sizeof(fp), len };

        if (!jwt_policy_fingerprint(fp, pol)
            || !jwt_sha256(key, part, plen, 2)) {
            shared = NULL;
        }
        if (shared && (rc = shared_lookup(out, p, shared, key, pol, now,
                                          err)) != 0) {
            if (rc < 0) {
                return 0;
            }
            if (e) {
                thread_store(e, token, len, pol, generation, *out);
            }
            if (pc) {
                pcache_store(pc, p, h, token, len, pol, generation, *out,
                             &c->env, &c->extra);
            }
            *hit = JWT_CACHE_SHARED;
            jwt_set_err(err, JWT_OK, NULL);
            return 1;
        }
    }
    if (!jwt_verify_with(out, p, headers, token, len, pol, now, err)) {
        return 0;
    }
    if (e) {
        thread_store(e, token, len, pol, generation, *out);
    }
    if (pc) {
        pcache_store(pc, p, h, token, len, pol, generation, *out, &c->env,
                     &c->extra);
    }
    if (shared && shared->secret_len >= 32) {
        shared_store(shared, key, *out, now);
    }
    return 1;
}
