/*
 * test_keyset.c: remote key sets in the core (jose/keyset.c and their use
 * by jose/jws.c), TAP output.
 *
 * - jwt_keyset_parse: the IdP-shaped vectors of t/vectors/idp (Keycloak's
 *   enc key skipped with its reason), the digest (the same keys in
 *   another order or layout: the same digest; another kid, key or alg:
 *   another), hostile documents refused cleanly, 10,000 keys in about
 *   1 MB.
 * - the ring: empty, publish, acquire/release, versions, every set freed.
 * - verification through policy->sources: the kid index (a set of 100
 *   keys tries one key, as a set of 1 does; counted through the test hook
 *   of jws_private.h), no kid, unknown kid (JWT_ERR_KEY, not
 *   JWT_ERR_SIGNATURE), empty rings (JWT_ERR_KEY), the static index.
 * - issuer binding and Entra ID's {tenantid} template.
 * - threads verifying while one thread publishes thousands of sets.
 */
#include <stdlib.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <apr_time.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "jose.h"
#include "jws_private.h"
#include "tap.h"

#define NOW ((apr_int64_t)1700000000)
#define ES256 JWT_ALG_BIT(JWT_ALG_ES256)
#define ALGS (ES256 | JWT_ALG_BIT(JWT_ALG_RS256) | JWT_ALG_BIT(JWT_ALG_EDDSA))

static apr_pool_t *pool;

/* ---- helpers ---- */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = apr_palloc(pool, 65536);
    size_t n;

    if (!f) {
        printf("# cannot open %s\n", path);
        exit(1);
    }
    n = fread(buf, 1, 65535, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static char *bio_text(BIO *b)
{
    char *data;
    long n = BIO_get_mem_data(b, &data);

    return apr_pstrmemdup(pool, data, (apr_size_t)n);
}

/* A private key of a PEM text, with kid (NULL: none). */
static jwt_key_t *private_key(const char *pem, const char *kid)
{
    apr_array_header_t *keys = apr_array_make(pool, 1, sizeof(jwt_key_t *));
    jwt_error_t err;

    if (!jwt_keys_load(keys, pool, pem, strlen(pem), kid, 1, &err)) {
        printf("# private key: %s\n", err.reason);
        exit(1);
    }
    return APR_ARRAY_IDX(keys, 0, jwt_key_t *);
}

/* A fresh P-256 key: its private half with kid, *jwk its public JWK. */
static jwt_key_t *ec_key(const char *kid, const char **jwk)
{
    EVP_PKEY *pk = EVP_EC_gen("P-256");
    BIO *b = BIO_new(BIO_s_mem());
    jwt_key_t *key;

    if (!pk || !PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL)) {
        printf("# cannot make an EC key\n");
        exit(1);
    }
    key = private_key(bio_text(b), kid);
    BIO_free(b);
    EVP_PKEY_free(pk);
    *jwk = jwt_key_public_jwk(key);
    return key;
}

/* {"keys": [jwks...]} of n JWK texts */
static const char *set_doc(const char **jwks, int n)
{
    const char *doc = "{\"keys\":[";
    int i;

    for (i = 0; i < n; i++) {
        doc = apr_pstrcat(pool, doc, i ? "," : "", jwks[i], NULL);
    }
    return apr_pstrcat(pool, doc, "]}", NULL);
}

static jwt_keyset_t *parse(const char *doc, jwt_error_t *err)
{
    jwt_keyset_t *set = NULL;
    apr_array_header_t *skipped;

    if (!jwt_keyset_parse(&set, pool, doc, strlen(doc), &skipped, err)) {
        return NULL;
    }
    return set;
}

static const char *sign_claims(const jwt_key_t *key, jwt_alg_e alg,
                               const char *claims)
{
    json_t *c = jwt_json_object(pool, claims, strlen(claims));
    const char *tok;
    jwt_error_t err;

    if (!c || !jwt_sign(&tok, pool, key, alg, c, &err)) {
        printf("# sign: %s\n", c ? err.reason : "claims");
        exit(1);
    }
    return tok;
}

static const char *sign_iss(const jwt_key_t *key, const char *iss)
{
    return sign_claims(key, JWT_ALG_ES256, apr_psprintf(pool,
                       "{\"sub\":\"alice\",\"iss\":\"%s\",\"exp\":%"
                       APR_INT64_T_FMT "}", iss, NOW + 300));
}

static const char *sign_es(const jwt_key_t *key)
{
    return sign_iss(key, "https://idp.example");
}

/* A policy over the given sources (of jwt_keysource_t), no static key. */
static jwt_policy_t policy_of(apr_array_header_t *sources)
{
    jwt_policy_t p;

    memset(&p, 0, sizeof(p));
    p.algs = ALGS;
    p.sources = sources;
    return p;
}

static apr_array_header_t *sources_of(jwt_keyring_t *ring,
                                      const char *issuer)
{
    apr_array_header_t *s = apr_array_make(pool, 2, sizeof(jwt_keysource_t));
    jwt_keysource_t *src = apr_array_push(s);

    src->ring = ring;
    src->issuer = issuer;
    return s;
}

/* keys tried, counted through jwt_test_key_tried */
static volatile int tried;

static void count_tried(const jwt_key_t *key)
{
    (void)key;
    tried++;
}

static int verify(const char *tok, const jwt_policy_t *pol, jwt_error_t *err)
{
    jwt_t *jwt;

    tried = 0;
    return jwt_verify(&jwt, pool, tok, strlen(tok), pol, NOW, err);
}

/* ---- parsing ---- */

static void test_vectors(void)
{
    static const struct {
        const char *file;
        int keys, skipped;
    } rows[] = {
        { "keycloak.json", 1, 1 },
        { "entra.json", 2, 0 },
        { "auth0.json", 1, 0 },
        { "okta.json", 1, 0 },
        { "google.json", 2, 0 },
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *doc = slurp(apr_pstrcat(pool, "t/vectors/idp/",
                                            rows[i].file, NULL));
        apr_array_header_t *skipped = NULL;
        jwt_keyset_t *set = NULL;
        jwt_error_t err = { 0, "" };
        int rc = jwt_keyset_parse(&set, pool, doc, strlen(doc), &skipped,
                                  &err);

        ok(rc && jwt_keyset_count(set) == rows[i].keys
           && skipped && skipped->nelts == rows[i].skipped,
           "%s: %d keys, %d skipped (got rc %d, %d, %d: %s)", rows[i].file,
           rows[i].keys, rows[i].skipped, rc, rc ? jwt_keyset_count(set) : -1,
           skipped ? skipped->nelts : -1, rc ? "" : err.reason);
        if (rc && rows[i].skipped) {
            jwt_key_skip_t *s = &APR_ARRAY_IDX(skipped, 0, jwt_key_skip_t);

            ok(s->index == 0 && s->kid
               && !strcmp(s->kid, "E3UUEYufXlSbao26MsqkVNhSM28vZGnw4kIggE02PQE")
               && strstr(s->reason, "use"),
               "%s: the enc key #0 is skipped with its kid and reason (got "
               "#%d, %s: %s)", rows[i].file, (int)s->index,
               s->kid ? s->kid : "(none)", s->reason);
        }
        jwt_keyset_free(set);
    }
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    jwt_test_key_tried = count_tried;

    test_vectors();

    /* verification through a ring */
    {
        const char *jwk[2];
        jwt_key_t *k1 = ec_key("k1", &jwk[0]);
        jwt_key_t *k2 = ec_key("k2", &jwk[1]);
        jwt_keyring_t *ring = jwt_keyring_create(pool);
        jwt_policy_t pol = policy_of(sources_of(ring, NULL));
        jwt_error_t err;
        jwt_keyset_t *set;
        unsigned ticket;
        int rc;

        ok(jwt_keyring_acquire(ring, &ticket) == NULL,
           "a new ring is empty");
        jwt_keyring_release(ring, ticket);
        rc = verify(sign_es(k1), &pol, &err);
        ok(!rc && err.code == JWT_ERR_KEY, "empty ring: refused with "
           "JWT_ERR_KEY (got rc %d, code %d)", rc, err.code);
        set = parse(set_doc(jwk, 1), &err);
        ok(set != NULL, "a set of k1 parses");
        jwt_keyring_publish(ring, set);
        ok(jwt_keyring_version(ring) == 1, "version 1 after one publish "
           "(got %u)", jwt_keyring_version(ring));
        rc = verify(sign_es(k1), &pol, &err);
        ok(rc && tried == 1, "k1's token verifies through the ring, one key "
           "tried (got rc %d, tried %d)", rc, tried);
        rc = verify(sign_es(k2), &pol, &err);
        ok(!rc && err.code == JWT_ERR_KEY && tried == 0,
           "k2's token before k2 is published: JWT_ERR_KEY, nothing tried "
           "(got rc %d, code %d, tried %d)", rc, err.code, tried);
        jwt_keyring_publish(ring, parse(set_doc(jwk, 2), &err));
        rc = verify(sign_es(k2), &pol, &err);
        ok(rc, "k2's token after the rotation verifies (got rc %d)", rc);
        jwt_keyring_publish(ring, NULL);
        rc = verify(sign_es(k1), &pol, &err);
        ok(!rc && err.code == JWT_ERR_KEY, "emptied ring: JWT_ERR_KEY (got "
           "rc %d, code %d)", rc, err.code);
        ok(jwt_keyset_live() == 0, "every set published and replaced is "
           "freed (live %u)", jwt_keyset_live());
    }
    return done_testing();
}
