/*
 * test_cache.c: the process-wide validated-token cache (jwt_pcache_t,
 * jose/cache.c) behind the threads' own caches, TAP output.
 *
 * What one thread verified another finds; a hit re-checks the time
 * claims at now, needs the very bytes, the same policy and the same
 * generation; the byte bound holds (counted by the cache and measured
 * on the heap); the oldest entries go first; and threads that look up,
 * store and evict at once each get their own token's claims back.
 */
#include <stdlib.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "jose.h"
#include "tap.h"
#include "util.h"

#define NOW ((apr_int64_t)1700000000)

static apr_pool_t *pool;
static jwt_policy_t pol;

static const unsigned char secret[64] =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
static const unsigned char other_secret[64] =
    "another secret, sixty-four bytes long, for another HMAC key.....";

static jwt_key_t *hmac(const unsigned char *s)
{
    jwt_key_t *key = NULL;
    jwt_error_t err;

    if (!jwt_key_hmac_create(&key, pool, s, 64, NULL, &err)) {
        printf("# hmac key: %s\n", err.reason);
        exit(1);
    }
    return key;
}

static jwt_policy_t policy_of(jwt_key_t *key)
{
    jwt_policy_t p;
    apr_array_header_t *keys = apr_array_make(pool, 1, sizeof(jwt_key_t *));

    memset(&p, 0, sizeof(p));
    APR_ARRAY_PUSH(keys, jwt_key_t *) = key;
    p.algs = JWT_ALG_BIT(JWT_ALG_HS256);
    p.keys = keys;
    p.user_claim = "sub";
    p.token_header = "x-access-token";
    return p;
}

/* An HS256 token for sub u<i>, valid until exp, under the base key, in
 * the pool: about 200 bytes, six claims. */
static const char *token(int i, apr_int64_t exp)
{
    json_t *claims = json_pack("{s:s, s:I, s:I, s:s, s:s, s:[ss]}",
                               "sub", apr_psprintf(pool, "u%d", i),
                               "exp", (json_int_t)exp, "iat",
                               (json_int_t)NOW, "iss", "bench",
                               "jti", apr_psprintf(pool, "jti-%08d", i),
                               "roles", "reader", "editor");
    const char *tok;
    jwt_error_t err;

    if (!claims || !jwt_sign(&tok, pool, APR_ARRAY_IDX(pol.keys, 0,
                                                       jwt_key_t *),
                             JWT_ALG_HS256, claims, &err)) {
        printf("# sign: %s\n", claims ? err.reason : "json_pack");
        exit(1);
    }
    json_decref(claims);
    return tok;
}

/* jwt_extra_fn: "sub=<sub>" in 16 bytes, counting the calls */
static void extra_sub(void *ctx, apr_pool_t *p, const jwt_t *jwt,
                      unsigned char *out)
{
    const char *sub = jwt_claims_user(p, &jwt->claims, "sub");

    ++*(int *)ctx;
    memset(out, 0, 16);
    snprintf((char *)out, 16, "sub=%s", sub ? sub : "?");
}

static int verify(jwt_cache_t *c, const char *tok, const jwt_policy_t *p,
                  apr_int64_t now, apr_uint64_t gen, int *hit,
                  jwt_error_t *err, const char **sub)
{
    jwt_t *jwt;
    int ok = jwt_verify_cached(&jwt, pool, c, tok, strlen(tok), p, now, gen,
                               NULL, hit, err);

    if (sub) {
        *sub = ok ? jwt_claims_user(pool, &jwt->claims, "sub") : NULL;
    }
    return ok;
}

/* what one thread saw and whether each answer was its own token's */
typedef struct {
    jwt_pcache_t *pc;
    const char **toks;
    int ntoks, rounds, offset;
    int failures, wrong, hits;
} worker_t;

static void *APR_THREAD_FUNC worker(apr_thread_t *t, void *data)
{
    worker_t *w = data;
    jwt_cache_t *c = jwt_cache_create(0);
    apr_pool_t *p;
    int r, i;

    apr_pool_create_unmanaged_ex(&p, NULL, NULL);
    jwt_cache_attach(c, w->pc);
    for (r = 0; r < w->rounds; r++) {
        for (i = 0; i < w->ntoks; i++) {
            int k = (i + w->offset) % w->ntoks, hit;
            const char *tok = w->toks[k];
            char want[16];
            jwt_t *jwt;
            jwt_error_t err;
            const char *sub;

            if (!jwt_verify_cached(&jwt, p, c, tok, strlen(tok), &pol, NOW,
                                   1, NULL, &hit, &err)) {
                w->failures++;
                continue;
            }
            apr_snprintf(want, sizeof(want), "u%d", k);
            sub = jwt_claims_user(p, &jwt->claims, "sub");
            if (!sub || strcmp(sub, want)) {
                w->wrong++;
            }
            w->hits += hit == JWT_CACHE_PROCESS;
            apr_pool_clear(p);
        }
    }
    jwt_cache_destroy(c);
    apr_pool_destroy(p);
    /* returned, not apr_thread_exit(): ASan (gcc 12) reports its own
     * sigaltstack at pthread_exit as a stack-use-after-scope */
    return NULL;
}

/* nthreads threads over ntoks tokens, rounds times each, all at once */
static void run_threads(jwt_pcache_t *pc, const char **toks, int ntoks,
                        int nthreads, int rounds, int *failures, int *wrong,
                        int *hits)
{
    apr_thread_t *th[16];
    worker_t w[16];
    int i;

    *failures = *wrong = *hits = 0;
    for (i = 0; i < nthreads; i++) {
        w[i].pc = pc;
        w[i].toks = toks;
        w[i].ntoks = ntoks;
        w[i].rounds = rounds;
        w[i].offset = i * 37;
        w[i].failures = w[i].wrong = w[i].hits = 0;
        if (apr_thread_create(&th[i], NULL, worker, &w[i], pool)
            != APR_SUCCESS) {
            printf("# apr_thread_create failed\n");
            exit(1);
        }
    }
    for (i = 0; i < nthreads; i++) {
        apr_status_t rv;

        apr_thread_join(&rv, th[i]);
        *failures += w[i].failures;
        *wrong += w[i].wrong;
        *hits += w[i].hits;
    }
}

int main(void)
{
    jwt_pcache_t *pc;
    jwt_pcache_stats_t st;
    jwt_cache_t *a, *b;
    jwt_policy_t copy, other;
    jwt_error_t err;
    const char *tok, *sub, **toks;
    char *bad;
    int hit, i, failures, wrong, hits, pass;
    size_t before = 0, grown, limit;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    pol = policy_of(hmac(secret));

    ok(jwt_pcache_create(pool, JWT_PCACHE_MIN_BYTES - 1) == NULL,
       "a cache under %zu bytes is refused", JWT_PCACHE_MIN_BYTES);

    /* two threads' caches, no slots of their own, one process cache */
    pc = jwt_pcache_create(pool, 1 << 20);
    a = jwt_cache_create(0);
    b = jwt_cache_create(0);
    jwt_cache_attach(a, pc);
    jwt_cache_attach(b, pc);
    tok = token(1, NOW + 60);
    pass = pc && verify(a, tok, &pol, NOW, 1, &hit, &err, &sub)
       && hit == JWT_CACHE_MISS;
    ok(pass, "thread a: first use verifies (hit %d)",
       hit);
    pass = verify(b, tok, &pol, NOW, 1, &hit, &err, &sub)
       && hit == JWT_CACHE_PROCESS && !strcmp(sub, "u1");
    ok(pass,
       "thread b: a process-cache hit with the claims (hit %d, sub %s)",
       hit, sub ? sub : "(none)");
    jwt_pcache_stats(pc, &st);
    ok(st.entries == 1 && st.hits == 1 && st.stores == 1,
       "stats: 1 entry, 1 hit, 1 store (got %zu, %" APR_UINT64_T_FMT ", %"
       APR_UINT64_T_FMT ")", st.entries, st.hits, st.stores);

    /* a hit re-checks time: past exp (no leeway) it is refused */
    pass = !verify(b, tok, &pol, NOW + 60, 1, &hit, &err, NULL)
       && err.code == JWT_ERR_EXPIRED;
    ok(pass, "a cached token still expires "
       "(code %d, expected %d)", err.code, JWT_ERR_EXPIRED);
    jwt_pcache_stats(pc, &st);
    ok(st.entries == 0, "the expired entry was dropped (entries %zu)",
       st.entries);
    pass = verify(a, tok, &pol, NOW, 1, &hit, &err, NULL) && hit == 0;
    ok(pass,
       "then verified afresh (hit %d)", hit);

    /* the policy's identity: an equal copy hits, another key does not */
    copy = policy_of(hmac(secret));
    pass = verify(b, tok, &copy, NOW, 1, &hit, &err, NULL)
       && hit == JWT_CACHE_PROCESS;
    ok(pass, "an equal policy in other objects: "
       "hit (%d)", hit);
    other = policy_of(hmac(other_secret));
    pass = !verify(b, tok, &other, NOW, 1, &hit, &err, NULL) && hit == 0
       && err.code == JWT_ERR_SIGNATURE;
    ok(pass, "another key: never the cached "
       "result (hit %d, code %d)", hit, err.code);
    other = pol;
    other.leeway = 5;
    pass = verify(b, tok, &other, NOW, 1, &hit, &err, NULL) && hit == 0;
    ok(pass,
       "another leeway: verified, not taken from the cache (hit %d)", hit);
    pass = verify(a, tok, &pol, NOW, 1, &hit, &err, NULL)
       && hit == JWT_CACHE_PROCESS;
    ok(pass, "one token under two policies: two "
       "entries, the first still there (hit %d)", hit);

    /* the generation: another is never served, and its entry goes */
    pass = verify(a, tok, &pol, NOW, 2, &hit, &err, NULL) && hit == 0;
    ok(pass,
       "a new generation misses (hit %d)", hit);
    jwt_pcache_stats(pc, &st);
    ok(st.entries == 1, "both entries of the old generation were dropped "
       "when met, the new one stored: 1 entry (got %zu)", st.entries);
    pass = verify(b, tok, &pol, NOW, 2, &hit, &err, NULL)
       && hit == JWT_CACHE_PROCESS;
    ok(pass, "the new generation's entry: hit (%d)",
       hit);

    /* every byte: one changed signature character is verified, fails */
    bad = apr_pstrdup(pool, tok);
    bad[strlen(bad) - 2] = bad[strlen(bad) - 2] == 'A' ? 'B' : 'A';
    pass = !verify(b, bad, &pol, NOW, 2, &hit, &err, NULL) && hit == 0;
    ok(pass,
       "a changed signature byte: a miss, refused (hit %d)", hit);
    bad = apr_pstrdup(pool, tok);
    bad[3] = bad[3] == 'a' ? 'b' : 'a';
    pass = !verify(b, bad, &pol, NOW, 2, &hit, &err, NULL) && hit == 0;
    ok(pass,
       "a changed header byte (same signature): a miss, refused (hit %d)",
       hit);

    /* the claims' variables kept with the entry: a process hit hands over
     * what jwt_claims_env gives for its claims, a miss nothing */
    {
        jwt_pcache_t *pe;
        jwt_cache_t *c = jwt_cache_create(0);
        apr_pool_t *cp;
        const apr_array_header_t *env, *want;
        const char *t2 = token(7, NOW + 60);
        jwt_t *jwt;
        int same = 1;

        apr_pool_create(&cp, pool);
        pe = jwt_pcache_create(cp, 1 << 20);
        jwt_pcache_env_prefix(pe, "JWT_CLAIM_");
        jwt_cache_attach(c, pe);
        jwt_verify_cached(&jwt, pool, c, t2, strlen(t2), &pol, NOW, 1, NULL,
                          &hit, &err);
        env = jwt_cache_env(c);
        ok(hit == 0 && env && env->nelts == 6
           && !strcmp(APR_ARRAY_IDX(env, 0, jwt_env_t).value, "u7"),
           "env: a miss hands over the variables it made for the entry "
           "(hit %d, got %d, expected 6)", hit, env ? env->nelts : -1);
        pass = jwt_verify_cached(&jwt, pool, c, t2, strlen(t2), &pol, NOW, 1,
                                 NULL, &hit, &err);
        env = jwt_cache_env(c);
        want = jwt_claims_env(pool, &jwt->claims, "JWT_CLAIM_", NULL);
        for (i = 0; env && i < want->nelts && i < env->nelts; i++) {
            const jwt_env_t *x = &APR_ARRAY_IDX(env, i, jwt_env_t);
            const jwt_env_t *y = &APR_ARRAY_IDX(want, i, jwt_env_t);

            same = same && !strcmp(x->name, y->name)
                   && !strcmp(x->value, y->value);
        }
        ok(pass && hit == JWT_CACHE_PROCESS && env
           && env->nelts == want->nelts && want->nelts == 6 && same,
           "env: a hit hands over the 6 variables jwt_claims_env makes, "
           "equal (got %d)", env ? env->nelts : -1);
        ok(env && !strcmp(APR_ARRAY_IDX(env, 0, jwt_env_t).name,
                          "JWT_CLAIM_sub")
           && !strcmp(APR_ARRAY_IDX(env, 0, jwt_env_t).value, "u7"),
           "env: JWT_CLAIM_sub=u7 first");
        pass = jwt_verify_cached(&jwt, pool, c, "a.b.c", 5, &pol, NOW, 1,
                                 NULL, &hit, &err);
        ok(!pass && jwt_cache_env(c) == NULL, "env: the next call (a "
           "refused token) forgets it");
        jwt_cache_destroy(c);
        apr_pool_destroy(cp);
    }

    /* extra bytes kept with each entry: made once, when the entry is
     * made, from the verified claims; handed over then and on hits */
    {
        jwt_pcache_t *px;
        jwt_cache_t *c = jwt_cache_create(0);
        apr_pool_t *cp;
        const unsigned char *x;
        const char *t3 = token(8, NOW + 60), *t4 = token(9, NOW + 60);
        jwt_t *jwt;
        int made = 0;

        apr_pool_create(&cp, pool);
        px = jwt_pcache_create(cp, 1 << 20);
        jwt_pcache_extra(px, 16, extra_sub, &made);
        jwt_cache_attach(c, px);
        pass = jwt_verify_cached(&jwt, pool, c, t3, strlen(t3), &pol, NOW, 1,
                                 NULL, &hit, &err);
        x = jwt_cache_extra(c);
        ok(pass && hit == 0 && x && !strcmp((const char *)x, "sub=u8")
           && made == 1, "extra: a miss hands over the bytes it made for "
           "the entry, once (got \"%s\", made %d; expected \"sub=u8\", 1)",
           x ? (const char *)x : "(none)", made);
        pass = jwt_verify_cached(&jwt, pool, c, t3, strlen(t3), &pol, NOW, 1,
                                 NULL, &hit, &err);
        x = jwt_cache_extra(c);
        ok(pass && hit == JWT_CACHE_PROCESS && x
           && !memcmp(x, "sub=u8\0\0\0\0\0\0\0\0\0", 16) && made == 1,
           "extra: a hit hands over the entry's bytes, not made again "
           "(got \"%.16s\", made %d; expected \"sub=u8\", 1)",
           x ? (const char *)x : "(none)", made);
        pass = jwt_verify_cached(&jwt, pool, c, t4, strlen(t4), &pol, NOW, 1,
                                 NULL, &hit, &err)
               && jwt_verify_cached(&jwt, pool, c, t4, strlen(t4), &pol, NOW,
                                    1, NULL, &hit, &err);
        x = jwt_cache_extra(c);
        ok(pass && x && !strcmp((const char *)x, "sub=u9") && made == 2,
           "extra: each token its own (got \"%s\", expected \"sub=u9\")",
           x ? (const char *)x : "(none)");
        jwt_verify_cached(&jwt, pool, c, "a.b.c", 5, &pol, NOW, 1, NULL,
                          &hit, &err);
        ok(jwt_cache_extra(c) == NULL, "extra: a refused token's call "
           "forgets the last");
        jwt_cache_destroy(c);
        apr_pool_destroy(cp);
    }

    /* the thread's own slots in front: they answer first */
    jwt_cache_destroy(a);
    a = jwt_cache_create(16);
    jwt_cache_attach(a, pc);
    pass = verify(a, tok, &pol, NOW, 2, &hit, &err, NULL)
       && hit == JWT_CACHE_PROCESS;
    ok(pass, "slots in front: first from the "
       "process cache (hit %d)", hit);
    pass = verify(a, tok, &pol, NOW, 2, &hit, &err, NULL)
       && hit == JWT_CACHE_THREAD;
    ok(pass, "then from the thread's slot (hit %d)",
       hit);
    jwt_cache_destroy(a);
    jwt_cache_destroy(b);

    /* the byte bound: 3,000 tokens of ~330 bytes (about 1 KB an entry)
     * through a 256 KB cache; counted by the cache, and measured on the
     * heap against a run that warmed everything else (pool blocks,
     * OpenSSL) first */
    toks = apr_palloc(pool, 3000 * sizeof(*toks));
    for (i = 0; i < 3000; i++) {
        toks[i] = token(i, NOW + 3600);
    }
    limit = 256 * 1024;
    {
        apr_pool_t *sub_pool, *cpool;
        jwt_cache_t *c = jwt_cache_create(0);
        jwt_t *jwt;
        int round;

        apr_pool_create(&sub_pool, pool);
        apr_pool_create(&cpool, pool);
        for (round = 0; round < 2; round++) {
            if (round == 1) {
                before = heap_in_use();
                pc = jwt_pcache_create(cpool, limit);
                jwt_cache_attach(c, pc);
            }
            for (i = 0; i < 3000; i++) {
                jwt_verify_cached(&jwt, sub_pool, c, toks[i],
                                  strlen(toks[i]), &pol, NOW, 1, NULL, &hit,
                                  &err);
                apr_pool_clear(sub_pool);
            }
        }
        grown = heap_in_use() - before;
        jwt_pcache_stats(pc, &st);
        ok(st.limit == limit && st.bytes <= limit,
           "byte bound: %zu counted of %zu", st.bytes, st.limit);
        ok(grown <= limit, "byte bound: the heap grew %zu bytes for a "
           "%zu-byte cache", grown, limit);
        ok(grown >= limit / 2 && st.bytes >= limit * 3 / 4,
           "byte bound: and the cache filled (heap %zu, counted %zu)",
           grown, st.bytes);
        ok(st.evictions > 0 && st.entries > 0
           && st.entries + st.evictions == 3000,
           "eviction: %zu kept, %" APR_UINT64_T_FMT " evicted of 3000",
           st.entries, st.evictions);

        /* the oldest went first: the last ones are there, the first not */
        pass = verify(c, toks[2999], &pol, NOW, 1, &hit, &err, NULL)
           && hit == JWT_CACHE_PROCESS;
        ok(pass, "eviction: the newest is a hit "
           "(%d)", hit);
        pass = verify(c, toks[0], &pol, NOW, 1, &hit, &err, NULL) && hit == 0;
        ok(pass,
           "eviction: the oldest was evicted (hit %d)", hit);
        /* a hit makes an entry the newest: token 1, looked up between
         * every two others, is verified once and then always found
         * (first in, first out would drop it every 400 tokens or so) */
        hits = 0;
        for (i = 1; i < 3000; i++) {
            verify(c, toks[1], &pol, NOW, 1, &hit, &err, NULL);
            hits += hit == JWT_CACHE_PROCESS;
            verify(c, toks[i], &pol, NOW, 1, &hit, &err, NULL);
        }
        ok(hits == 2999 - 1, "eviction: least recently used first: a "
           "token in use stays (%d hits of 2999, expected 2998)", hits);
        jwt_cache_destroy(c);
        apr_pool_destroy(cpool);
        ok(heap_in_use() <= before + 4096, "destroyed with its pool: the "
           "heap is back (%zu over)", heap_in_use() > before
           ? heap_in_use() - before : 0);
    }

    /* 8 threads at once over 500 tokens (all fit): every answer is the
     * token's own, most are hits; then 8 threads over 3,000 tokens in a
     * cache too small for them, so that entries are evicted and freed
     * while others look up */
    pc = jwt_pcache_create(pool, 4 << 20);
    run_threads(pc, toks, 500, 8, 20, &failures, &wrong, &hits);
    jwt_pcache_stats(pc, &st);
    ok(failures == 0 && wrong == 0, "8 threads, 500 tokens: no failure "
       "(%d), no other token's claims (%d)", failures, wrong);
    ok(hits >= 8 * 500 * 20 - 8 * 500, "8 threads, 500 tokens: %d of %d "
       "from the process cache", hits, 8 * 500 * 20);
    printf("# contended %" APR_UINT64_T_FMT " of %" APR_UINT64_T_FMT
           " shard locks (%u shards)\n", st.contended, st.locks, st.shards);
    pc = jwt_pcache_create(pool, 128 * 1024);
    run_threads(pc, toks, 3000, 8, 3, &failures, &wrong, &hits);
    jwt_pcache_stats(pc, &st);
    ok(failures == 0 && wrong == 0 && st.evictions > 0
       && st.bytes <= st.limit, "8 threads, 3,000 tokens, 128 KB: no "
       "failure (%d), no wrong claims (%d), %" APR_UINT64_T_FMT
       " evictions, %zu of %zu bytes", failures, wrong, st.evictions,
       st.bytes, st.limit);

    apr_pool_destroy(pool);
    apr_terminate();
    return done_testing();
}
