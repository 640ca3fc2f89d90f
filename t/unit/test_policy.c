/*
 * test_policy.c: the one definition of a policy's identity
 * (jose/policy.c), TAP output.
 *
 * A row per member of jwt_policy_t (and per part of a key's identity):
 * a policy that differs from the base in that member alone must not be
 * the same (jwt_policy_same), must not share a fingerprint, and must not
 * take a result that the thread cache, the process cache or the shared
 * tier holds for the base.  A copy made of new objects with equal values
 * must be the same in all five places.  t/unit/policy_drop.sh deletes
 * each member from the table in turn and checks that this program then
 * fails.  Remote sets (sources): the ring, its bound issuer and their
 * number are rows; the ring's current set is in the fingerprint (the
 * same keys again: the same; another key or none: another).
 */
#include <stdlib.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "jose.h"
#include "tap.h"
#include "util.h"
#include "fake_socache.h"

#define NOW ((apr_int64_t)1700000000)
#define ALGS (JWT_ALG_BIT(JWT_ALG_HS256) | JWT_ALG_BIT(JWT_ALG_RS256) \
              | JWT_ALG_BIT(JWT_ALG_PS256))

static apr_pool_t *pool;

static const unsigned char secret[64] =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
static const unsigned char other_secret[64] =
    "another secret, sixty-four bytes long, for another HMAC key.....";

static char *rsa_private_pem, *rsa_public_pem, *rsa_jwk_ps256;

/* remote sets: the base's ring and another, each holding a set of its
 * own RSA key */
static jwt_keyring_t *ring_a, *ring_b;

static jwt_key_t *hmac(const unsigned char *s, const char *kid)
{
    jwt_key_t *key = NULL;
    jwt_error_t err;

    if (!jwt_key_hmac_create(&key, pool, s, 64, kid, &err)) {
        printf("# hmac key: %s\n", err.reason);
        exit(1);
    }
    return key;
}

static jwt_key_t *load(const char *text, int want_private)
{
    apr_array_header_t *keys = apr_array_make(pool, 1, sizeof(jwt_key_t *));
    jwt_error_t err;

    if (!jwt_keys_load(keys, pool, text, strlen(text), NULL, want_private,
                       &err) || keys->nelts != 1) {
        printf("# key: %s\n", err.reason);
        exit(1);
    }
    return APR_ARRAY_IDX(keys, 0, jwt_key_t *);
}

/* A fresh RSA key as PEM (private, public) and as a public JWK bound to
 * PS256 alone, without kid: the same material, other algorithms. */
static void make_rsa(void)
{
    EVP_PKEY *pk = EVP_RSA_gen(2048);
    BIO *b1 = BIO_new(BIO_s_mem()), *b2 = BIO_new(BIO_s_mem());
    json_t *jwk;
    char *text;

    if (!pk || !PEM_write_bio_PrivateKey(b1, pk, NULL, NULL, 0, NULL, NULL)
        || !PEM_write_bio_PUBKEY(b2, pk)) {
        printf("# cannot make an RSA key\n");
        exit(1);
    }
    rsa_private_pem = bio_text(pool, b1);
    rsa_public_pem = bio_text(pool, b2);
    jwk = json_loads(jwt_key_public_jwk(load(rsa_public_pem, 0)), 0, NULL);
    json_object_del(jwk, "kid");
    json_object_set_new(jwk, "alg", json_string("PS256"));
    text = json_dumps(jwk, JSON_COMPACT);
    rsa_jwk_ps256 = apr_pstrdup(pool, text);
    free(text);
    json_decref(jwk);
    BIO_free(b1);
    BIO_free(b2);
    EVP_PKEY_free(pk);
}

static apr_array_header_t *strings(const char *a, const char *b)
{
    apr_array_header_t *arr = apr_array_make(pool, 2, sizeof(const char *));

    APR_ARRAY_PUSH(arr, const char *) = apr_pstrdup(pool, a);
    if (b) {
        APR_ARRAY_PUSH(arr, const char *) = apr_pstrdup(pool, b);
    }
    return arr;
}

/* A ring holding a set of one fresh RSA key. */
static jwt_keyring_t *ring_of_new_key(void)
{
    EVP_PKEY *pk = EVP_RSA_gen(2048);
    BIO *b = BIO_new(BIO_s_mem());
    jwt_keyring_t *ring = jwt_keyring_create(pool);
    jwt_keyset_t *set;
    jwt_error_t err;
    const char *doc;

    if (!pk || !PEM_write_bio_PUBKEY(b, pk)) {
        printf("# cannot make an RSA key\n");
        exit(1);
    }
    doc = apr_pstrcat(pool, "{\"keys\":[",
                      jwt_key_public_jwk(load(bio_text(pool, b), 0)), "]}",
                      NULL);
    if (!jwt_keyset_parse(&set, pool, doc, strlen(doc), NULL, &err)) {
        printf("# key set: %s\n", err.reason);
        exit(1);
    }
    jwt_keyring_publish(ring, set);
    BIO_free(b);
    EVP_PKEY_free(pk);
    return ring;
}

static apr_array_header_t *sources(jwt_keyring_t *r1, const char *iss1,
                                   jwt_keyring_t *r2)
{
    apr_array_header_t *arr = apr_array_make(pool, 2,
                                             sizeof(jwt_keysource_t));
    jwt_keysource_t *s = apr_array_push(arr);

    s->ring = r1;
    s->issuer = iss1 ? apr_pstrdup(pool, iss1) : NULL;
    if (r2) {
        s = apr_array_push(arr);
        s->ring = r2;
        s->issuer = NULL;
    }
    return arr;
}

/* The base policy, made of new objects at every call: two calls give
 * policies equal in value and distinct in memory. */
static jwt_policy_t base(void)
{
    jwt_policy_t p;

    memset(&p, 0, sizeof(p));
    p.algs = ALGS;
    p.keys = keys_of(pool, hmac(secret, NULL), load(rsa_public_pem, 0));
    p.issuers = strings("https://issuer.example", NULL);
    p.audiences = strings("api", NULL);
    p.leeway = 10;
    p.typ = apr_pstrdup(pool, "JWT");
    p.user_claim = apr_pstrdup(pool, "sub");
    p.token_header = apr_pstrdup(pool, "x-access-token");
    p.sources = sources(ring_a, NULL, NULL);
    return p;
}

static const char *claims_json(void)
{
    return apr_psprintf(pool, "{\"sub\":\"alice\",\"id\":7,\"iss\":"
                        "\"https://issuer.example\",\"aud\":\"api\","
                        "\"exp\":%" APR_INT64_T_FMT "}", NOW + 300);
}

static const char *sign(const jwt_key_t *key, jwt_alg_e alg)
{
    json_t *claims = jwt_json_object(pool, claims_json(),
                                     strlen(claims_json()));
    const char *tok;
    jwt_error_t err;

    if (!claims || !jwt_sign(&tok, pool, key, alg, claims, &err)) {
        printf("# sign: %s\n", claims ? err.reason : "claims");
        exit(1);
    }
    return tok;
}

static const unsigned char shared_secret[32] =
    "shared tier secret of 32 bytes!";
static const jwt_shared_cache_t shared = {
    fake_lookup, fake_store, NULL, shared_secret, 32
};

/* How the caches answer token under q after it was accepted under p:
 * JWT_CACHE_* of the thread cache and of the shared tier, each tried
 * alone.  -1 when p itself does not accept the token. */
static int thread_answer(const jwt_policy_t *p, const jwt_policy_t *q,
                         const char *tok)
{
    jwt_cache_t *c = jwt_cache_create(16);
    jwt_error_t err;
    jwt_t *jwt;
    int hit = -1;

    if (jwt_verify_cached(&jwt, pool, c, tok, strlen(tok), p, NOW, 1, NULL,
                          &hit, &err)) {
        jwt_verify_cached(&jwt, pool, c, tok, strlen(tok), q, NOW, 1, NULL,
                          &hit, &err);
    }
    else {
        printf("# base refused the token: %s\n", err.reason);
        hit = -1;
    }
    jwt_cache_destroy(c);
    return hit;
}

/* The same through the process-wide cache: accepted under p by one
 * thread's cache, looked up under q by another's (no slots of their own:
 * only the jwt_pcache_t behind both can answer). */
static int process_answer(const jwt_policy_t *p, const jwt_policy_t *q,
                          const char *tok)
{
    apr_pool_t *cp;
    jwt_pcache_t *pc;
    jwt_cache_t *a = jwt_cache_create(0), *b = jwt_cache_create(0);
    jwt_error_t err;
    jwt_t *jwt;
    int hit = -1;

    apr_pool_create(&cp, pool);
    pc = jwt_pcache_create(cp, 1 << 20);
    jwt_cache_attach(a, pc);
    jwt_cache_attach(b, pc);
    if (pc && jwt_verify_cached(&jwt, pool, a, tok, strlen(tok), p, NOW, 1,
                                NULL, &hit, &err)) {
        jwt_verify_cached(&jwt, pool, b, tok, strlen(tok), q, NOW, 1, NULL,
                          &hit, &err);
    }
    else {
        printf("# base refused the token, or no process cache\n");
        hit = -1;
    }
    jwt_cache_destroy(a);
    jwt_cache_destroy(b);
    apr_pool_destroy(cp);
    return hit;
}

static int shared_answer(const jwt_policy_t *p, const jwt_policy_t *q,
                         const char *tok)
{
    jwt_error_t err;
    jwt_t *jwt;
    int hit = -1;

    fake_reset();
    if (!jwt_verify_cached(&jwt, pool, NULL, tok, strlen(tok), p, NOW, 1,
                           &shared, &hit, &err) || fake_stores != 1) {
        printf("# base refused or did not store the token\n");
        return -1;
    }
    jwt_verify_cached(&jwt, pool, NULL, tok, strlen(tok), q, NOW, 1,
                      &shared, &hit, &err);
    return hit;
}

/* ---- the rows ---- */

static const char *hs_token, *rs_token;

typedef struct {
    const char *member;
    void (*change)(jwt_policy_t *q);
    int rsa;                    /* use the RS256 token */
} row_t;

static void ch_algs(jwt_policy_t *q)
{
    q->algs |= JWT_ALG_BIT(JWT_ALG_HS384);
}

static void ch_key_material(jwt_policy_t *q)
{
    q->keys = keys_of(pool, hmac(other_secret, NULL), load(rsa_public_pem, 0));
}

static void ch_key_count(jwt_policy_t *q)
{
    q->keys = keys_of(pool, hmac(secret, NULL), NULL);
}

/* the case: the same RSA key as a PEM and as a JWK that binds
 * it to PS256 */
static void ch_key_algs(jwt_policy_t *q)
{
    q->keys = keys_of(pool, hmac(secret, NULL), load(rsa_jwk_ps256, 0));
}

static void ch_key_kid(jwt_policy_t *q)
{
    q->keys = keys_of(pool, hmac(secret, "k1"), load(rsa_public_pem, 0));
}

static void ch_issuer(jwt_policy_t *q)
{
    q->issuers = strings("https://other.example", NULL);
}

/* a second accepted issuer is another policy too */
static void ch_issuer_added(jwt_policy_t *q)
{
    q->issuers = strings("https://issuer.example", "https://other.example");
}

static void ch_audiences(jwt_policy_t *q)
{
    q->audiences = strings("api", "web");
}

static void ch_leeway(jwt_policy_t *q)
{
    q->leeway = 11;
}

static void ch_typ(jwt_policy_t *q)
{
    q->typ = NULL;
}

static void ch_user_claim(jwt_policy_t *q)
{
    q->user_claim = "id";
}

static void ch_token_header(jwt_policy_t *q)
{
    q->token_header = "x-other-token";
}

/* a ring is a source's identity: another ring (here holding another
 * set) is another policy */
static void ch_source_ring(jwt_policy_t *q)
{
    q->sources = sources(ring_b, NULL, NULL);
}

static void ch_source_issuer(jwt_policy_t *q)
{
    q->sources = sources(ring_a, "https://issuer.example", NULL);
}

static void ch_source_count(jwt_policy_t *q)
{
    q->sources = sources(ring_a, NULL, ring_b);
}

static const row_t rows[] = {
    { "algs", ch_algs, 0 },
    { "keys: material", ch_key_material, 0 },
    { "keys: how many", ch_key_count, 0 },
    { "keys: a key's algorithms", ch_key_algs, 1 },
    { "keys: a key's kid", ch_key_kid, 0 },
    { "issuers", ch_issuer, 0 },
    { "issuers: one more", ch_issuer_added, 0 },
    { "audiences", ch_audiences, 0 },
    { "leeway", ch_leeway, 0 },
    { "typ", ch_typ, 0 },
    { "user_claim", ch_user_claim, 0 },
    { "token_header", ch_token_header, 0 },
    { "sources: the ring", ch_source_ring, 0 },
    { "sources: the bound issuer", ch_source_issuer, 0 },
    { "sources: how many", ch_source_count, 1 },
};

static int fingerprints_equal(const jwt_policy_t *a, const jwt_policy_t *b)
{
    unsigned char fa[32], fb[32];

    if (!jwt_policy_fingerprint(fa, a) || !jwt_policy_fingerprint(fb, b)) {
        printf("# fingerprint failed\n");
        return -1;
    }
    return !memcmp(fa, fb, 32);
}

int main(void)
{
    jwt_policy_t p, q;
    size_t i;
    int got;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    make_rsa();
    ring_a = ring_of_new_key();
    ring_b = ring_of_new_key();
    hs_token = sign(hmac(secret, NULL), JWT_ALG_HS256);
    rs_token = sign(load(rsa_private_pem, 1), JWT_ALG_RS256);

    /* the control: equal values in new objects are the same policy */
    p = base();
    q = base();
    ok(jwt_policy_same(&p, &q), "equal copy: same");
    ok(jwt_policy_same(&p, &p), "itself: same");
    got = fingerprints_equal(&p, &q);
    ok(got == 1, "equal copy: equal fingerprints (got %d)", got);
    got = thread_answer(&p, &q, hs_token);
    ok(got == JWT_CACHE_THREAD, "equal copy: thread cache hit (got %d, "
       "expected %d)", got, JWT_CACHE_THREAD);
    got = shared_answer(&p, &q, rs_token);
    ok(got == JWT_CACHE_SHARED, "equal copy: shared tier hit (got %d, "
       "expected %d)", got, JWT_CACHE_SHARED);
    got = process_answer(&p, &q, rs_token);
    ok(got == JWT_CACHE_PROCESS, "equal copy: process cache hit (got %d, "
       "expected %d)", got, JWT_CACHE_PROCESS);

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const row_t *r = &rows[i];
        const char *tok = r->rsa ? rs_token : hs_token;

        p = base();
        q = base();
        r->change(&q);
        ok(!jwt_policy_same(&p, &q), "%s differs: not the same policy",
           r->member);
        got = fingerprints_equal(&p, &q);
        ok(got == 0, "%s differs: fingerprints differ (got equal=%d)",
           r->member, got);
        got = thread_answer(&p, &q, tok);
        ok(got == JWT_CACHE_MISS, "%s differs: the thread cache does not "
           "answer (got %d, expected %d)", r->member, got, JWT_CACHE_MISS);
        got = shared_answer(&p, &q, tok);
        ok(got == JWT_CACHE_MISS, "%s differs: the shared tier does not "
           "answer (got %d, expected %d)", r->member, got, JWT_CACHE_MISS);
        got = process_answer(&p, &q, tok);
        ok(got == JWT_CACHE_MISS, "%s differs: the process cache does not "
           "answer (got %d, expected %d)", r->member, got, JWT_CACHE_MISS);
    }

    /* the case end to end: RS256 accepted under the PEM is not
     * accepted from either cache under the PS256-only JWK */
    {
        jwt_cache_t *c = jwt_cache_create(16);
        jwt_error_t err;
        jwt_t *jwt;
        int hit, accepted;

        p = base();
        q = base();
        ch_key_algs(&q);
        fake_reset();
        jwt_verify_cached(&jwt, pool, c, rs_token, strlen(rs_token), &p, NOW,
                          1, &shared, &hit, &err);
        accepted = jwt_verify_cached(&jwt, pool, c, rs_token,
                                     strlen(rs_token), &q, NOW, 1, &shared,
                                     &hit, &err);
        ok(!accepted && err.code == JWT_ERR_KEY,
           "RS256 under a PS256-only key: refused with 'no key' after the "
           "PEM scope accepted it (got accepted=%d, code %d, expected 0, "
           "%d)", accepted, err.code, JWT_ERR_KEY);
        jwt_cache_destroy(c);
    }

    /* the ring's current set is in the fingerprint: a shared entry made
     * under the set before a rotation never matches after it */
    {
        jwt_keyring_t *ring = ring_of_new_key();
        unsigned char f1[32], f2[32];
        apr_uint64_t v1, v2;
        jwt_keyset_t *set;
        const jwt_keyset_t *cur;
        unsigned ticket;
        jwt_error_t err;
        const char *doc;

        p = base();
        p.sources = sources(ring, NULL, NULL);
        v1 = jwt_policy_keys_version(&p);
        got = jwt_policy_fingerprint(f1, &p);
        /* another set of the same key: the same digest, the same
         * fingerprint */
        cur = jwt_keyring_acquire(ring, &ticket);
        doc = apr_pstrcat(pool, "{\"keys\":[",
                          jwt_key_public_jwk(jwt_keyset_key(cur, 0)), "]}",
                          NULL);
        jwt_keyring_release(ring, ticket);
        jwt_keyset_parse(&set, pool, doc, strlen(doc), NULL, &err);
        jwt_keyring_publish(ring, set);
        got = jwt_policy_fingerprint(f2, &p) && got;
        ok(got && !memcmp(f1, f2, 32), "the same keys published again: "
           "the same fingerprint");
        {
            /* rotated to another key */
            jwt_keyring_t *other = ring_of_new_key();
            unsigned t2;

            cur = jwt_keyring_acquire(other, &t2);
            doc = apr_pstrcat(pool, "{\"keys\":[",
                              jwt_key_public_jwk(jwt_keyset_key(cur, 0)),
                              "]}", NULL);
            jwt_keyring_release(other, t2);
            jwt_keyset_parse(&set, pool, doc, strlen(doc), NULL, &err);
            jwt_keyring_publish(ring, set);
        }
        got = jwt_policy_fingerprint(f2, &p);
        ok(got && memcmp(f1, f2, 32), "the ring rotated to another key: "
           "another fingerprint");
        jwt_keyring_publish(ring, NULL);
        got = jwt_policy_fingerprint(f2, &p);
        ok(got && memcmp(f1, f2, 32), "the ring emptied: another "
           "fingerprint");
        v2 = jwt_policy_keys_version(&p);
        ok(v2 == v1 + 3, "jwt_policy_keys_version counts the publishes "
           "(got %" APR_UINT64_T_FMT ", expected %" APR_UINT64_T_FMT ")",
           v2, v1 + 3);
    }
    {
        /* the pool's cleanups free the rings' sets and the keys: a
         * sanitizer's leak check then sees what the core leaves */
        int rc = done_testing();

        apr_pool_destroy(pool);
        apr_terminate();
        return rc;
    }
}
