/*
 * jwt_cache.c: the validated-token cache of mod_jwtauth's core.
 *
 * One small direct-mapped table per thread (no lock, no sharing), keyed
 * by the exact token bytes together with the policy it was accepted under
 * (compared member by member) and a configuration generation.  A hit skips the signature check and the
 * JSON parsing, never the claim checks: exp, nbf, iat, iss and aud are
 * checked again against the current time on every hit, so a cached token
 * never outlives its validity, and a token accepted under one policy is
 * never accepted from the cache under another.
 *
 * No httpd header: APR, jansson, C11 thread-local storage.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "jwt_internal.h"

typedef struct {
    char *token;                /* malloc'd copy, NULL when empty */
    size_t len;
    jwt_policy_t policy;        /* the policy it was accepted under */
    apr_uint64_t generation;
    jwt_alg_e alg;
    char *kid;                  /* malloc'd, or NULL */
    json_t *claims;             /* one reference held */
} cache_entry_t;

typedef struct {
    size_t size;                /* a power of two */
    cache_entry_t *e;
} cache_t;

static _Thread_local cache_t *thread_cache;

static void entry_clear(cache_entry_t *e)
{
    free(e->token);
    free(e->kid);
    json_decref(e->claims);
    memset(e, 0, sizeof(*e));
}

/* This thread's table, made on first use; NULL if memory is short. */
static cache_t *cache_get(size_t entries)
{
    size_t size = 1;

    if (thread_cache) {
        return thread_cache;
    }
    while (size < entries && size < (1u << 20)) {
        size <<= 1;
    }
    thread_cache = calloc(1, sizeof(*thread_cache));
    if (thread_cache && !(thread_cache->e = calloc(size,
                                                   sizeof(cache_entry_t)))) {
        free(thread_cache);
        thread_cache = NULL;
    }
    if (thread_cache) {
        thread_cache->size = size;
    }
    return thread_cache;
}

/* Is b the very policy a was (same configuration-time objects, same
 * algorithm list and leeway)?  Compared member by member, no hashing. */
static int same_policy(const jwt_policy_t *a, const jwt_policy_t *b)
{
    return a->keys == b->keys && a->issuer == b->issuer
        && a->audiences == b->audiences && a->typ == b->typ
        && a->algs == b->algs && a->leeway == b->leeway;
}

static size_t slot_of(const cache_t *c, const char *token, size_t len,
                      const jwt_policy_t *pol)
{
    apr_ssize_t klen = (apr_ssize_t)len;
    unsigned int h = apr_hashfunc_default(token, &klen);

    h ^= (unsigned int)((apr_uintptr_t)pol->keys >> 4);
    return (size_t)h & (c->size - 1);
}

int jwt_verify_cached(jwt_t **out, apr_pool_t *p, const char *token,
                      size_t len, const jwt_policy_t *pol, apr_int64_t now,
                      size_t entries, apr_uint64_t generation,
                      int *hit, jwt_error_t *err)
{
    cache_t *c = entries ? cache_get(entries) : NULL;
    cache_entry_t *e = NULL;
    jwt_t *jwt;

    *hit = 0;
    if (c && len <= JWT_CACHE_MAX_TOKEN) {
        e = &c->e[slot_of(c, token, len, pol)];
        if (e->token && e->len == len && same_policy(&e->policy, pol)
            && e->generation == generation && !memcmp(e->token, token, len)) {
            /* the signature held for these very bytes under this very
             * policy: only the time-dependent checks can change */
            if (!jwt_check_claims(e->claims, pol, now, err)) {
                entry_clear(e);
                return 0;
            }
            jwt = apr_palloc(p, sizeof(*jwt));
            jwt->alg = e->alg;
            jwt->kid = e->kid ? apr_pstrdup(p, e->kid) : NULL;
            jwt->header = NULL;
            jwt->claims = jwt_json_pool(p, json_incref(e->claims));
            *out = jwt;
            *hit = 1;
            jwt_set_err(err, JWT_OK, NULL);
            return 1;
        }
    }
    if (!jwt_verify(out, p, token, len, pol, now, err)) {
        return 0;
    }
    if (e) {
        entry_clear(e);
        e->token = malloc(len);
        e->kid = (*out)->kid ? strdup((*out)->kid) : NULL;
        if (!e->token || ((*out)->kid && !e->kid)) {
            entry_clear(e);
            return 1;
        }
        memcpy(e->token, token, len);
        e->len = len;
        e->policy = *pol;
        e->generation = generation;
        e->alg = (*out)->alg;
        e->claims = json_incref((*out)->claims);
    }
    return 1;
}
