/*
 * cache.c: the validated-token cache of mod_jwtauth's core.
 *
 * A jwt_cache_t is one small direct-mapped table for one thread at a time
 * (no lock, no sharing), keyed by the exact token bytes together with the
 * policy it was accepted under (jwt_policy_same) and a configuration
 * generation, and a few parsed token headers; behind it,
 * optionally, a tier shared by processes or machines through callbacks
 * (httpd's socache in the module), whose entries are keyed by the
 * policy's fingerprint and the token and authenticated with an HMAC.
 * A hit skips the signature check (and, from the thread's table, all
 * JSON parsing), never the claim checks: exp, nbf, iat, iss and aud are
 * checked again against the current time on every hit, so a cached token
 * never outlives its validity, and a token accepted under one policy is
 * never accepted from the cache under another.
 *
 * No httpd header: APR, jansson, OpenSSL.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "cache.h"
#include "claims.h"
#include "jws_private.h"

typedef struct {
    char *token;                /* malloc'd copy, NULL when empty */
    size_t len;
    jwt_policy_t policy;        /* the policy it was accepted under */
    apr_uint64_t generation;
    jwt_alg_e alg;
    char *kid;                  /* malloc'd, or NULL */
    void *blob;                 /* malloc'd: the claims' text and spans */
    jwt_claims_t claims;        /* pointing into blob */
} cache_entry_t;

struct jwt_cache {
    size_t size;                /* a power of two, or 0 */
    cache_entry_t *e;
    jwt_headers_t headers;
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

/* The slot: FNV-1a over the token's last 32 bytes (its signature, which
 * differs from token to token) and its length.  Only a choice of slot: a
 * hit still needs the whole token equal and the same policy
 * (jwt_policy_same), so tokens made to share a slot only evict each
 * other. */
static size_t slot_of(const jwt_cache_t *c, const char *token, size_t len)
{
    const unsigned char *s = (const unsigned char *)token
                             + (len > 32 ? len - 32 : 0);
    const unsigned char *e = (const unsigned char *)token + len;
    apr_uint64_t h = 14695981039346656037ULL ^ len;

    while (s < e) {
        h = (h ^ *s++) * 1099511628211ULL;
    }
    h ^= h >> 29;
    return (size_t)h & (c->size - 1);
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

static void thread_store(cache_entry_t *e, const char *token, size_t len,
                         const jwt_policy_t *pol, apr_uint64_t generation,
                         const jwt_t *jwt)
{
    entry_clear(e);
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
    e->policy = *pol;
    e->generation = generation;
    e->alg = jwt->alg;
}

int jwt_verify_cached(jwt_t **out, apr_pool_t *p, jwt_cache_t *c,
                      const char *token, size_t len, const jwt_policy_t *pol,
                      apr_int64_t now, apr_uint64_t generation,
                      const jwt_shared_cache_t *shared, int *hit,
                      jwt_error_t *err)
{
    jwt_headers_t *headers = c ? &c->headers : NULL;
    cache_entry_t *e = NULL;
    unsigned char key[32];
    jwt_t *jwt;
    int rc;

    *hit = JWT_CACHE_MISS;
    if (len > JWT_CACHE_MAX_TOKEN) {
        return jwt_verify_with(out, p, headers, token, len, pol, now, err);
    }
    if (c && c->size) {
        e = &c->e[slot_of(c, token, len)];
        /* the generation first: an entry of an older configuration holds
         * pointers into memory that may be gone */
        if (e->token && e->len == len && e->generation == generation
            && !memcmp(e->token, token, len)
            && jwt_policy_same(&e->policy, pol)) {
            /* the signature held for these very bytes under this very
             * policy: only the time-dependent checks can change */
            if (!jwt_check_claims(&e->claims, pol, now, err)) {
                entry_clear(e);
                return 0;
            }
            jwt = apr_palloc(p, sizeof(*jwt));
            jwt->alg = e->alg;
            jwt->kid = e->kid ? apr_pstrdup(p, e->kid) : NULL;
            jwt->header = NULL;
            /* a copy: a later request on this thread may reuse e */
            jwt_claims_copy(&jwt->claims,
                            apr_palloc(p, jwt_claims_blob_size(&e->claims)),
                            &e->claims);
            *out = jwt;
            *hit = JWT_CACHE_THREAD;
            jwt_set_err(err, JWT_OK, NULL);
            return 1;
        }
    }
    if (shared && shared->secret_len >= 32) {
        unsigned char fp[32];
        EVP_MD_CTX *md = EVP_MD_CTX_new();

        if (!jwt_policy_fingerprint(fp, pol) || !md
            || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)
            || !EVP_DigestUpdate(md, fp, sizeof(fp))
            || !EVP_DigestUpdate(md, token, len)
            || !EVP_DigestFinal_ex(md, key, NULL)) {
            shared = NULL;
        }
        EVP_MD_CTX_free(md);
        if (shared && (rc = shared_lookup(out, p, shared, key, pol, now,
                                          err)) != 0) {
            if (rc < 0) {
                return 0;
            }
            if (e) {
                thread_store(e, token, len, pol, generation, *out);
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
    if (shared && shared->secret_len >= 32) {
        shared_store(shared, key, *out, now);
    }
    return 1;
}
