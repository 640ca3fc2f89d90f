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
 * - threads verifying while one thread publishes thousands of sets
 *   (KEYSET_PUBLISHES=n in the environment: n instead of 2000, for
 *   valgrind's tools).
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
#include "util.h"

#define NOW ((apr_int64_t)1700000000)
#define ES256 JWT_ALG_BIT(JWT_ALG_ES256)
#define ALGS (ES256 | JWT_ALG_BIT(JWT_ALG_RS256) | JWT_ALG_BIT(JWT_ALG_EDDSA))

static apr_pool_t *pool;

/* ---- helpers ---- */

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
    key = private_key(bio_text(pool, b), kid);
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

static void add_source(apr_array_header_t *s, jwt_keyring_t *ring,
                       const char *issuer)
{
    jwt_keysource_t *src = apr_array_push(s);

    src->ring = ring;
    src->issuer = issuer;
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

/* A token with the given header (JSON text) and claims (NULL: iss
 * https://idp.example, exp in 5 minutes), signed with key under ES256. */
static const char *sign_raw(const jwt_key_t *key, const char *header,
                            const char *claims)
{
    const char *h, *c, *input;
    unsigned char *sig;
    size_t siglen;

    if (!claims) {
        claims = apr_psprintf(pool, "{\"iss\":\"https://idp.example\","
                              "\"exp\":%" APR_INT64_T_FMT "}", NOW + 300);
    }
    h = jwt_b64url_encode(pool, (const unsigned char *)header,
                          strlen(header));
    c = jwt_b64url_encode(pool, (const unsigned char *)claims,
                          strlen(claims));
    input = apr_pstrcat(pool, h, ".", c, NULL);
    if (!jwt_key_sign(pool, key, JWT_ALG_ES256,
                      (const unsigned char *)input, strlen(input), &sig,
                      &siglen)) {
        printf("# cannot sign\n");
        exit(1);
    }
    return apr_pstrcat(pool, input, ".", jwt_b64url_encode(pool, sig,
                                                           siglen), NULL);
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
        const char *doc = slurp(pool, apr_pstrcat(pool, "t/vectors/idp/",
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
        if (rc && rows[i].skipped && skipped->nelts) {
            jwt_key_skip_t *s = &APR_ARRAY_IDX(skipped, 0, jwt_key_skip_t);

            ok(s->index == 0 && s->kid
               && !strcmp(s->kid,
                          "E3UUEYufXlSbao26MsqkVNhSM28vZGnw4kIggE02PQE")
               && strstr(s->reason, "use"),
               "%s: the enc key #0 is skipped with its kid and reason (got "
               "#%d, %s: %s)", rows[i].file, (int)s->index,
               s->kid ? s->kid : "(none)", s->reason);
        }
        jwt_keyset_free(set);
    }
}

/* The JWK text with one member set (a JSON value's text), or removed
 * when value is NULL; re-laid with sorted members and indentation when
 * relay is set. */
static const char *jwk_with(const char *jwk, const char *name,
                            const char *value, int relay)
{
    json_t *j = json_loads(jwk, 0, NULL);
    char *text;
    const char *out;

    if (name && value) {
        json_object_set_new(j, name, json_loads(value, JSON_DECODE_ANY,
                                                NULL));
    }
    else if (name) {
        json_object_del(j, name);
    }
    text = json_dumps(j, relay ? JSON_SORT_KEYS | JSON_INDENT(3)
                               : JSON_COMPACT);
    out = apr_pstrdup(pool, text);
    free(text);
    json_decref(j);
    return out;
}

static jwt_key_t *rsa_private;
static const char *rsa_jwk;

static void make_rsa(void)
{
    EVP_PKEY *pk = EVP_RSA_gen(2048);
    BIO *b = BIO_new(BIO_s_mem());

    if (!pk || !PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL)) {
        printf("# cannot make an RSA key\n");
        exit(1);
    }
    rsa_private = private_key(bio_text(pool, b), "rsa1");
    rsa_jwk = jwt_key_public_jwk(rsa_private);
    BIO_free(b);
    EVP_PKEY_free(pk);
}

static void test_digest(void)
{
    const char *a, *b, *two[2], *rev[2], *one[1];
    jwt_error_t err;
    jwt_keyset_t *base, *other;
    static const struct {
        const char *what;
        int same;
    } expect[] = {
        { "the same keys in the other order", 1 },
        { "the same keys re-laid (members sorted, indented, x5t added)", 1 },
        { "a key's kid changed", 0 },
        { "one key fewer", 0 },
        { "another key", 0 },
        { "a key narrowed to one alg (PS256)", 0 },
    };
    const char *docs[6];
    size_t i;

    ec_key("d1", &a);
    ec_key("d2", &b);
    two[0] = a;
    two[1] = rsa_jwk;
    rev[0] = rsa_jwk;
    rev[1] = a;
    docs[0] = set_doc(rev, 2);
    rev[0] = jwk_with(a, "x5t", "\"dGh1bWJwcmludA\"", 1);
    rev[1] = jwk_with(rsa_jwk, NULL, NULL, 1);
    docs[1] = set_doc(rev, 2);
    rev[0] = jwk_with(a, "kid", "\"d1-renamed\"", 0);
    rev[1] = rsa_jwk;
    docs[2] = set_doc(rev, 2);
    one[0] = a;
    docs[3] = set_doc(one, 1);
    rev[0] = b;
    rev[1] = rsa_jwk;
    docs[4] = set_doc(rev, 2);
    rev[0] = a;
    rev[1] = jwk_with(rsa_jwk, "alg", "\"PS256\"", 0);
    docs[5] = set_doc(rev, 2);

    base = parse(set_doc(two, 2), &err);
    for (i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
        int same;

        other = parse(docs[i], &err);
        if (!base || !other) {
            ok(0, "digest: %s: parses (%s)", expect[i].what, err.reason);
            continue;
        }
        same = !memcmp(jwt_keyset_digest(base), jwt_keyset_digest(other),
                       32);
        ok(same == expect[i].same, "digest: %s: %s digest (got %s)",
           expect[i].what, expect[i].same ? "the same" : "another",
           same ? "the same" : "another");
        jwt_keyset_free(other);
    }
    jwt_keyset_free(base);
}

/* Documents refused or with keys skipped, a row each. */
static void test_hostile(void)
{
    const char *ec, *big_kid;
    char *huge, *many, *at;
    size_t n, i;
    struct {
        const char *what;
        const char *doc;
        size_t len;                     /* 0: strlen */
        int rc, keys, skipped;
        const char *reason;             /* in err (refused) or the first
                                         * skip */
    } rows[24];
    int r = 0;
    unsigned char nbytes[2056];
    char *longkty;

    ec_key("h1", &ec);
    big_kid = apr_palloc(pool, 100001);
    memset((char *)big_kid, 'k', 100000);
    ((char *)big_kid)[100000] = '\0';
    big_kid = apr_pstrcat(pool, "\"", big_kid, "\"", NULL);
#define ROW(w, d, l, c, k, s, re) \
    rows[r].what = w; rows[r].doc = d; rows[r].len = l; rows[r].rc = c; \
    rows[r].keys = k; rows[r].skipped = s; rows[r].reason = re; r++
    ROW("not JSON", "hello", 0, 0, 0, 0, "not a JSON object");
    ROW("a PEM key", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC "
        "KEY-----\n", 0, 0, 0, 0, "not a JSON object");
    ROW("a JSON array", "[]", 0, 0, 0, 0, "not a JSON object");
    ROW("a single JWK, not a set", ec, 0, 0, 0, 0, "not a JWK Set");
    ROW("\"keys\" an object", "{\"keys\":{}}", 0, 0, 0, 0, "not a JWK Set");
    ROW("\"keys\" empty", "{\"keys\":[]}", 0, 0, 0, 0, "not a JWK Set");
    ROW("trailing bytes", apr_pstrcat(pool, "{\"keys\":[", ec, "]} x",
        NULL), 0, 0, 0, 0, "not a JSON object");
    ROW("duplicate member", apr_pstrcat(pool, "{\"keys\":[", ec, "],"
        "\"keys\":[]}", NULL), 0, 0, 0, 0, "not a JSON object");
    ROW("no object among the keys", "{\"keys\":[1,\"x\",null,[]]}", 0, 0, 0,
        4, "no usable key");
    ROW("an oct key beside an EC key", apr_pstrcat(pool, "{\"keys\":[{"
        "\"kty\":\"oct\",\"kid\":\"s\",\"k\":\"c2VjcmV0LXNlY3JldC1zZWNyZXQt"
        "c2VjcmV0LXNlY3JldC0xMjM0NTY3OA\"},", ec, "]}", NULL), 0, 1, 1, 1,
        "oct");
    ROW("a kid of 100,000 bytes beside an EC key", apr_pstrcat(pool,
        "{\"keys\":[", jwk_with(ec, "kid", big_kid, 0), ",", ec, "]}", NULL),
        0, 1, 1, 1, "kid longer than 512");
    ROW("only a kid of 100,000 bytes", apr_pstrcat(pool, "{\"keys\":[",
        jwk_with(ec, "kid", big_kid, 0), "]}", NULL), 0, 0, 0, 1,
        "no usable key");
    ROW("x5c, x5t, x5t#S256, issuer members: ignored", apr_pstrcat(pool,
        "{\"keys\":[", jwk_with(jwk_with(jwk_with(jwk_with(ec, "x5c",
        "[\"bm90IGEgY2VydGlmaWNhdGU=\"]", 0), "x5t", "\"eA\"", 0),
        "x5t#S256", "\"eQ\"", 0), "issuer", "\"https://idp.example\"", 0),
        "]}", NULL), 0, 1, 1, 0, NULL);
    /* jansson refuses \u0000 unless asked: a NUL never reaches a kid */
    ROW("a kid holding a NUL", apr_pstrcat(pool, "{\"keys\":[{\"kty\":"
        "\"EC\",\"kid\":\"k\\u0000x\"},", ec, "]}", NULL), 0, 0, 0, 0,
        "not a JSON object");
    /* an unknown kty of 1,000 bytes with a control character: the
     * loader's reason quotes it, the record keeps it short and visible */
    longkty = apr_palloc(pool, 1100);
    memset(longkty, 'A', 1000);
    longkty[1000] = '\0';
    longkty = apr_pstrcat(pool, "\"\\u0007", longkty, "\"", NULL);
    ROW("an unknown kty of 1,000 bytes beside an EC key", apr_pstrcat(pool,
        "{\"keys\":[", jwk_with(ec, "kty", longkty, 0), ",", ec, "]}",
        NULL), 0, 1, 1, 1, "JWK kty '?AAAA");
    memset(nbytes, 0xff, sizeof(nbytes));
    ROW("an RSA key of 16,448 bits beside an EC key", apr_pstrcat(pool,
        "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"big\",\"e\":\"AQAB\","
        "\"n\":\"", jwt_b64url_encode(pool, nbytes, sizeof(nbytes)), "\"},",
        ec, "]}", NULL), 0, 1, 1, 1, "RSA key over 16384 bits");
    /* more keys than a document may hold: refused before any is made */
    n = 20001;
    many = apr_palloc(pool, 16 + 5 * n);
    at = many + sprintf(many, "{\"keys\":[");
    for (i = 0; i < n; i++) {
        at += sprintf(at, i ? ",null" : "null");
    }
    strcpy(at, "]}");
    ROW("20,001 keys", many, 0, 0, 0, 0, "more than 20000 keys");
    /* longer than any document may be: refused unread */
    huge = apr_palloc(pool, JWT_KEYSET_MAX_DOC + 2);
    memset(huge, ' ', JWT_KEYSET_MAX_DOC + 1);
    huge[JWT_KEYSET_MAX_DOC + 1] = '\0';
    ROW("16 MB + 1 byte", huge, JWT_KEYSET_MAX_DOC + 1, 0, 0, 0,
        "too long");
#undef ROW

    for (i = 0; i < (size_t)r; i++) {
        apr_array_header_t *skipped = NULL;
        jwt_keyset_t *set = NULL;
        jwt_error_t err = { 0, NULL };
        size_t len = rows[i].len ? rows[i].len : strlen(rows[i].doc);
        int rc = jwt_keyset_parse(&set, pool, rows[i].doc, len, &skipped,
                                  &err);
        const char *why = rc ? (skipped->nelts ? APR_ARRAY_IDX(skipped, 0,
                                jwt_key_skip_t).reason : "")
                             : err.reason;

        ok(rc == rows[i].rc && (!rc || jwt_keyset_count(set) == rows[i].keys)
           && skipped && skipped->nelts == rows[i].skipped
           && (!rows[i].reason || (why && strstr(why, rows[i].reason))),
           "%s: %s, %d key(s), %d skipped, '%s' (got rc %d, %d, %d, '%s')",
           rows[i].what, rows[i].rc ? "parses" : "refused", rows[i].keys,
           rows[i].skipped, rows[i].reason ? rows[i].reason : "",
           rc, rc ? jwt_keyset_count(set) : 0,
           skipped ? skipped->nelts : -1, why ? why : "(null)");
        if (rc && skipped->nelts) {
            const jwt_key_skip_t *sk = &APR_ARRAY_IDX(skipped, 0,
                                                      jwt_key_skip_t);

            size_t c;
            int visible = 1;

            for (c = 0; c < strlen(sk->reason); c++) {
                visible = visible && sk->reason[c] >= 0x20
                          && sk->reason[c] < 0x7f;
            }
            ok((!sk->kid || strlen(sk->kid) <= JWT_KEYSET_MAX_KID)
               && strlen(sk->reason) <= 163 && visible,
               "%s: the skip record is fit for a log line (kid %d bytes, "
               "reason %d bytes, visible %d)", rows[i].what,
               sk->kid ? (int)strlen(sk->kid) : 0, (int)strlen(sk->reason),
               visible);
        }
        jwt_keyset_free(set);
    }
    ok(jwt_keyset_live() == 0, "hostile documents: no set left behind "
       "(live %u)", jwt_keyset_live());
}

/* 10,000 Ed25519 keys (one key's material under 10,000 kids) in about
 * 1 MB: parsed in bounded time, and a token of the last kid costs one
 * key tried, as in a set of 1. */
static void test_big(void)
{
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    BIO *b = BIO_new(BIO_s_mem());
    jwt_key_t *priv;
    const char *x, *one[1];
    char *doc, *at;
    json_t *j;
    jwt_keyset_t *set = NULL, *small;
    jwt_keyring_t *ring = jwt_keyring_create(pool), *ring1;
    jwt_policy_t pol, pol1;
    apr_array_header_t *skipped;
    jwt_error_t err;
    apr_time_t t0, t1;
    double took[2];
    size_t len = 0;
    int i, n, rc = 0;

    PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL);
    priv = private_key(bio_text(pool, b), "k09999");
    BIO_free(b);
    EVP_PKEY_free(pk);
    j = json_loads(jwt_key_public_jwk(priv), 0, NULL);
    x = apr_pstrdup(pool, json_string_value(json_object_get(j, "x")));
    json_decref(j);
    /* the same document of 1,000 keys first: 10 times the keys must cost
     * about 10 times the time (a ratio, so that valgrind's slowness or a
     * loaded machine does not matter; quadratic work would give 100) */
    for (n = 1000; n <= 10000; n *= 10) {
        doc = at = apr_palloc(pool, (apr_size_t)n * 128 + 64);
        at += sprintf(at, "{\"keys\":[");
        for (i = 0; i < n; i++) {
            at += sprintf(at, "%s{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                          "\"use\":\"sig\",\"alg\":\"EdDSA\",\"kid\":"
                          "\"k%05d\",\"x\":\"%s\"}", i ? "," : "", i, x);
        }
        at += sprintf(at, "]}");
        len = (size_t)(at - doc);
        jwt_keyset_free(set);
        set = NULL;
        t0 = apr_time_now();
        rc = jwt_keyset_parse(&set, pool, doc, len, &skipped, &err);
        t1 = apr_time_now();
        took[n == 1000 ? 0 : 1] = (double)(t1 - t0) / 1e6;
    }
    ok(rc && jwt_keyset_count(set) == 10000 && len > 1000000,
       "10,000 keys in %" APR_SIZE_T_FMT " bytes parse (got rc %d, %d keys: "
       "%s)", len, rc, rc ? jwt_keyset_count(set) : 0, rc ? "" : err.reason);
    ok(took[1] < 30 * (took[0] + 0.001), "in time linear in the keys: "
       "1,000 keys %.3f s, 10,000 keys %.3f s (ratio under 30)", took[0],
       took[1]);
    if (!rc) {
        return;
    }
    jwt_keyring_publish(ring, set);
    pol = policy_of(sources_of(ring, NULL));
    rc = verify(sign_claims(priv, JWT_ALG_EDDSA, apr_psprintf(pool,
                "{\"sub\":\"a\",\"exp\":%" APR_INT64_T_FMT "}", NOW + 60)),
                &pol, &err);
    ok(rc && tried == 1, "a set of 10,000: the token of kid k09999 tries "
       "one key (got rc %d, tried %d)", rc, tried);

    one[0] = jwt_key_public_jwk(priv);
    small = parse(set_doc(one, 1), &err);
    ring1 = jwt_keyring_create(pool);
    jwt_keyring_publish(ring1, small);
    pol1 = policy_of(sources_of(ring1, NULL));
    rc = verify(sign_claims(priv, JWT_ALG_EDDSA, apr_psprintf(pool,
                "{\"sub\":\"a\",\"exp\":%" APR_INT64_T_FMT "}", NOW + 60)),
                &pol1, &err);
    ok(rc && tried == 1, "a set of 1: the same token tries one key too "
       "(got rc %d, tried %d)", rc, tried);
    jwt_keyring_publish(ring, NULL);
    jwt_keyring_publish(ring1, NULL);
}

/* Which keys a token is tried with (keyset.h's rules), a row each. */
static void test_kid_rules(void)
{
    const char *jwk[100], *j_nokid, *j_dup1, *j_dup2, *j_static;
    jwt_key_t *k[100], *nokid, *dup1, *dup2, *stat, *stranger;
    (void)dup1;
    jwt_keyring_t *ring = jwt_keyring_create(pool);
    jwt_keyring_t *ring2 = jwt_keyring_create(pool);
    apr_array_header_t *src = sources_of(ring, NULL);
    jwt_policy_t pol;
    jwt_error_t err;
    const char *tok, *thumb;
    int i, rc;

    for (i = 0; i < 100; i++) {
        k[i] = ec_key(apr_psprintf(pool, "key-%02d", i), &jwk[i]);
    }
    jwt_keyring_publish(ring, parse(set_doc(jwk, 100), &err));
    pol = policy_of(src);

    for (i = 0; i < 100; i += 33) {
        rc = verify(sign_es(k[i]), &pol, &err);
        ok(rc && tried == 1, "a set of 100: key-%02d's token tries one key "
           "(got rc %d, tried %d)", i, rc, tried);
    }
    rc = verify(sign_es(k[99]), &pol, &err);
    ok(rc && tried == 1, "a set of 100: the last key's token tries one key "
       "(got rc %d, tried %d)", rc, tried);

    stranger = ec_key("key-07", &j_static);
    rc = verify(sign_es(stranger), &pol, &err);
    ok(!rc && err.code == JWT_ERR_SIGNATURE && tried == 1,
       "a known kid, another key's signature: JWT_ERR_SIGNATURE after one "
       "key (got rc %d, code %d, tried %d)", rc, err.code, tried);
    stranger = ec_key("key-new", &j_static);
    rc = verify(sign_es(stranger), &pol, &err);
    ok(!rc && err.code == JWT_ERR_KEY && tried == 0,
       "a kid no key has: JWT_ERR_KEY, nothing tried (the glue refetches; "
       "got rc %d, code %d, tried %d)", rc, err.code, tried);

    /* a token without kid never tries a set's keys with kids */
    tok = sign_raw(k[5], "{\"alg\":\"ES256\"}", NULL);
    rc = verify(tok, &pol, &err);
    ok(!rc && err.code == JWT_ERR_KEY && tried == 0,
       "no kid, a set whose keys all have kids: JWT_ERR_KEY, nothing tried "
       "(got rc %d, code %d, tried %d)", rc, err.code, tried);

    /* a set with a key without kid, beside the 100 */
    nokid = ec_key(NULL, &j_nokid);
    thumb = jwt_key_sign_kid(nokid);
    jwk[0] = jwk_with(j_nokid, "kid", NULL, 0);
    jwt_keyring_publish(ring2, parse(set_doc(jwk, 100), &err));
    pol = policy_of(sources_of(ring2, NULL));
    rc = verify(sign_raw(nokid, "{\"alg\":\"ES256\"}", NULL), &pol, &err);
    ok(rc && tried == 1, "no kid: the set's one key without kid is tried, "
       "the 99 with kids are not (got rc %d, tried %d)", rc, tried);
    rc = verify(sign_raw(k[7], "{\"alg\":\"ES256\",\"kid\":\"key-new\"}",
                         NULL), &pol, &err);
    ok(!rc && err.code == JWT_ERR_KEY && tried == 0,
       "a kid no key has, a set with a key without kid: that key is not "
       "tried, JWT_ERR_KEY (got rc %d, code %d, tried %d)", rc, err.code,
       tried);
    rc = verify(sign_es(nokid), &pol, &err);
    ok(rc && tried == 1 && thumb, "kid = the RFC 7638 thumbprint of the "
       "key without kid: found by the index (got rc %d, tried %d)", rc,
       tried);

    /* duplicate kids: each tried, in a set and across static and set */
    dup1 = ec_key("dup", &j_dup1);
    dup2 = ec_key("dup", &j_dup2);
    jwk[0] = j_dup1;
    jwk[1] = j_dup2;
    jwt_keyring_publish(ring2, parse(set_doc(jwk, 3), &err));
    rc = verify(sign_es(dup2), &pol, &err);
    ok(rc && tried == 2, "two keys of kid 'dup' in a set: the second's "
       "token verifies after both are tried (got rc %d, tried %d)", rc,
       tried);
    stat = ec_key("dup", &j_static);
    pol.keys = keys_of(pool, stat, NULL);
    rc = verify(sign_es(dup2), &pol, &err);
    ok(rc && tried == 3, "kid 'dup' static and twice in the set: static "
       "first, then the set (got rc %d, tried %d)", rc, tried);
    rc = verify(sign_es(stat), &pol, &err);
    ok(rc && tried == 1, "kid 'dup': the static key's token after one try "
       "(got rc %d, tried %d)", rc, tried);

    /* an unknown kid falls back to the static keys without kid only */
    stat = ec_key(NULL, &j_static);
    pol.keys = keys_of(pool, stat, NULL);
    rc = verify(sign_raw(stat, "{\"alg\":\"ES256\",\"kid\":\"unknown\"}",
                         NULL), &pol, &err);
    ok(rc && tried == 1, "a kid no key has: the static key without kid "
       "verifies it, as before remote sets (got rc %d, tried %d)", rc,
       tried);
    rc = verify(sign_raw(k[9], "{\"alg\":\"ES256\",\"kid\":\"unknown\"}",
                         NULL), &pol, &err);
    ok(!rc && err.code == JWT_ERR_SIGNATURE && tried == 1,
       "a kid no key has, a static key without kid: that key tried, "
       "JWT_ERR_SIGNATURE (got rc %d, code %d, tried %d)", rc, err.code,
       tried);

    /* the static keys' index */
    {
        apr_array_header_t *keys = apr_array_make(pool, 100,
                                                  sizeof(jwt_key_t *));
        jwt_key_t *swapped;
        const char *j;

        for (i = 0; i < 100; i++) {
            APR_ARRAY_PUSH(keys, jwt_key_t *) = k[i];
        }
        pol = policy_of(NULL);
        pol.keys = keys;
        ok(jwt_policy_index_keys(&pol, pool) && pol.key_index,
           "jwt_policy_index_keys makes the index");
        rc = verify(sign_es(k[99]), &pol, &err);
        ok(rc && tried == 1, "100 static keys, indexed: the last one's "
           "token tries one key (got rc %d, tried %d)", rc, tried);
        rc = verify(sign_raw(k[3], "{\"alg\":\"ES256\"}", NULL), &pol, &err);
        ok(rc && tried == 4, "100 static keys, a token without kid: every "
           "static key in order, as before (got rc %d, tried %d)", rc,
           tried);
        /* a key put in place behind the index's back is not seen: so the
         * index is what verification reads */
        swapped = ec_key("key-50", &j);
        APR_ARRAY_IDX(keys, 50, jwt_key_t *) = swapped;
        rc = verify(sign_es(swapped), &pol, &err);
        ok(!rc && err.code == JWT_ERR_SIGNATURE && tried == 1,
           "the index answers kid lookups: a key swapped behind it is not "
           "seen (got rc %d, code %d, tried %d)", rc, err.code, tried);
        /* grown since: the index no longer covers the keys, they are
         * walked */
        APR_ARRAY_PUSH(keys, jwt_key_t *) = k[0];
        rc = verify(sign_es(swapped), &pol, &err);
        ok(rc && tried == 1, "keys grown after indexing: walked, the "
           "swapped key found (got rc %d, tried %d)", rc, tried);
    }
    jwt_keyring_publish(ring, NULL);
    jwt_keyring_publish(ring2, NULL);
}

/* Issuer binding (issue 10, behaviour 7), a row each. */
static void test_binding(void)
{
    const char *ja, *jb, *jw;
    jwt_key_t *ka = ec_key("ka", &ja), *kb = ec_key("kb", &jb);
    jwt_key_t *ks = ec_key("ks", &jw);
    jwt_keyring_t *ra = jwt_keyring_create(pool);
    jwt_keyring_t *rb = jwt_keyring_create(pool);
    jwt_keyring_t *rb2 = jwt_keyring_create(pool);
    jwt_keyring_t *ru = jwt_keyring_create(pool);
    apr_array_header_t *src = sources_of(ra, "https://a.example");
    apr_array_header_t *srcs[4];
    const char *both[2], *jws;
    jwt_policy_t pol;
    jwt_error_t err;
    size_t i;
    static const struct {
        const char *what;
        int sources;                    /* 0: A's ring (bound A), B's (bound
                                         * B); 1: an unbound ring of kb;
                                         * 2: B's, then that unbound one;
                                         * 3: B's, then kb bound to A */
        int signer;                     /* 0 ka, 1 kb, 2 ks (static) */
        const char *iss;                /* NULL: none */
        int accepted;                   /* policy->issuers A and B */
        int rc;
        jwt_errcode_e code;
    } rows[] = {
        { "A's key, iss A", 0, 0, "https://a.example", 0, 1, JWT_OK },
        { "B's key, iss B", 0, 1, "https://b.example", 0, 1, JWT_OK },
        { "B's key, iss A", 0, 1, "https://a.example", 0, 0, JWT_ERR_ISSUER },
        { "B's key, iss A, both accepted", 0, 1, "https://a.example", 1, 0,
          JWT_ERR_ISSUER },
        { "A's key, iss A, both accepted", 0, 0, "https://a.example", 1, 1,
          JWT_OK },
        { "A's key, iss A with a slash more", 0, 0, "https://a.example/", 0,
          0, JWT_ERR_ISSUER },
        { "A's key, no iss", 0, 0, NULL, 0, 0, JWT_ERR_ISSUER },
        { "static key, iss B", 0, 2, "https://b.example", 0, 1, JWT_OK },
        { "unbound set's key, iss A", 1, 1, "https://a.example", 0, 1,
          JWT_OK },
        { "unbound set's key, iss C, A and B accepted", 1, 1,
          "https://c.example", 1, 0, JWT_ERR_ISSUER },
        { "kb bound to B and unbound: iss A through the unbound copy", 2, 1,
          "https://a.example", 0, 1, JWT_OK },
        { "kb bound to B, then to A: iss A through the second", 3, 1,
          "https://a.example", 0, 1, JWT_OK },
        { "kb bound to B, then to A: iss C refused", 3, 1,
          "https://c.example", 0, 0, JWT_ERR_ISSUER },
    };

    add_source(src, rb, "https://b.example");
    srcs[0] = src;
    srcs[1] = sources_of(ru, NULL);
    srcs[2] = sources_of(rb, "https://b.example");
    add_source(srcs[2], ru, NULL);
    srcs[3] = sources_of(rb, "https://b.example");
    add_source(srcs[3], rb2, "https://a.example");
    both[0] = ja;
    jwt_keyring_publish(ra, parse(set_doc(both, 1), &err));
    both[0] = jb;
    jwt_keyring_publish(rb, parse(set_doc(both, 1), &err));
    jwt_keyring_publish(rb2, parse(set_doc(both, 1), &err));
    jwt_keyring_publish(ru, parse(set_doc(both, 1), &err));
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const jwt_key_t *k = rows[i].signer == 0 ? ka : rows[i].signer == 2
                             ? ks : kb;
        const char *claims = rows[i].iss
            ? apr_psprintf(pool, "{\"iss\":\"%s\",\"exp\":%" APR_INT64_T_FMT
                           "}", rows[i].iss, NOW + 60)
            : apr_psprintf(pool, "{\"exp\":%" APR_INT64_T_FMT "}", NOW + 60);
        const char *tok = sign_raw(k, apr_psprintf(pool, "{\"alg\":\"ES256\","
                                   "\"kid\":\"%s\"}", jwt_key_kid(k)),
                                   claims);
        int rc;

        pol = policy_of(srcs[rows[i].sources]);
        pol.keys = keys_of(pool, ks, NULL);
        if (rows[i].accepted) {
            apr_array_header_t *iss = apr_array_make(pool, 2,
                                                     sizeof(char *));

            APR_ARRAY_PUSH(iss, const char *) = "https://a.example";
            APR_ARRAY_PUSH(iss, const char *) = "https://b.example";
            pol.issuers = iss;
        }
        rc = verify(tok, &pol, &err);
        ok(rc == rows[i].rc && (rc || err.code == rows[i].code),
           "binding: %s: %s (got rc %d, code %d: %s)", rows[i].what,
           rows[i].rc ? "accepted" : jwt_error_name(rows[i].code), rc,
           rc ? 0 : err.code, rc ? "" : err.reason);
        if (!rc && rows[i].code == JWT_ERR_ISSUER && !rows[i].accepted) {
            ok(!strcmp(err.reason, "signed by a key bound to another issuer"),
               "binding: %s: the reason names no key (got '%s')",
               rows[i].what, err.reason);
        }
    }
    /* jwt_jws_verify holds the binding too */
    pol = policy_of(src);
    {
        jwt_jws_t *out;
        const char *tok = sign_raw(kb, "{\"alg\":\"ES256\",\"kid\":\"kb\"}",
                                   apr_psprintf(pool, "{\"iss\":\"https://a."
                                   "example\",\"exp\":%" APR_INT64_T_FMT "}",
                                   NOW + 60));
        int rc;

        rc = jwt_jws_verify(&out, pool, tok, strlen(tok), &pol, &err);
        ok(!rc && err.code == JWT_ERR_ISSUER, "jwt_jws_verify: B's key, iss "
           "A: JWT_ERR_ISSUER (got rc %d, code %d)", rc, rc ? 0 : err.code);
        jws = sign_raw(kb, "{\"alg\":\"ES256\",\"kid\":\"kb\"}", "{\"iss\":"
                       "\"https://b.example\"}");
        rc = jwt_jws_verify(&out, pool, jws, strlen(jws), &pol, &err);
        ok(rc, "jwt_jws_verify: B's key, iss B: verifies (got rc %d)", rc);
    }
    jwt_keyring_publish(ra, NULL);
    jwt_keyring_publish(rb, NULL);
    jwt_keyring_publish(rb2, NULL);
    jwt_keyring_publish(ru, NULL);
}

#define TENANT_T "https://login.microsoftonline.com/{tenantid}/v2.0"
#define TID "72f988bf-86f1-41af-91ab-2d7cd011db47"
#define TID2 "9188040d-6c67-4c5b-b112-36a304b66dad"

/* Entra ID's {tenantid} template (behaviour 8), in policy->issuers and
 * as a source's bound issuer, a row each. */
static void test_tenant(void)
{
    const char *j;
    jwt_key_t *key = ec_key("t1", &j);
    apr_array_header_t *iss = apr_array_make(pool, 1, sizeof(char *));
    jwt_policy_t pol = policy_of(NULL);
    jwt_error_t err;
    size_t i;
    static const struct {
        const char *what;
        const char *issuer;             /* the configured template */
        const char *claims;             /* %s: exp */
        int rc;
    } rows[] = {
        { "the token's own tid", TENANT_T,
          "\"iss\":\"https://login.microsoftonline.com/" TID "/v2.0\","
          "\"tid\":\"" TID "\"", 1 },
        { "upper-case hex tid", TENANT_T,
          "\"iss\":\"https://login.microsoftonline.com/72F988BF-86F1-41AF-"
          "91AB-2D7CD011DB47/v2.0\",\"tid\":\"72F988BF-86F1-41AF-91AB-"
          "2D7CD011DB47\"", 1 },
        { "iss of another tenant than tid", TENANT_T,
          "\"iss\":\"https://login.microsoftonline.com/" TID2 "/v2.0\","
          "\"tid\":\"" TID "\"", 0 },
        { "tid missing", TENANT_T,
          "\"iss\":\"https://login.microsoftonline.com/" TID "/v2.0\"", 0 },
        { "tid a number", TENANT_T,
          "\"iss\":\"https://login.microsoftonline.com/7/v2.0\","
          "\"tid\":7", 0 },
        { "tid an array", TENANT_T,
          "\"iss\":\"https://login.microsoftonline.com/" TID "/v2.0\","
          "\"tid\":[\"" TID "\"]", 0 },
        { "tid not a GUID", TENANT_T,
          "\"iss\":\"https://login.microsoftonline.com/common/v2.0\","
          "\"tid\":\"common\"", 0 },
        { "tid with hyphens misplaced", TENANT_T,
          "\"iss\":\"https://login.microsoftonline.com/72f988bf8-6f1-41af-"
          "91ab-2d7cd011db47/v2.0\",\"tid\":\"72f988bf8-6f1-41af-91ab-"
          "2d7cd011db47\"", 0 },
        { "tid a GUID with a non-hex digit", TENANT_T,
          "\"iss\":\"https://login.microsoftonline.com/72f988bf-86f1-41af-"
          "91ab-2d7cd011db4g/v2.0\",\"tid\":\"72f988bf-86f1-41af-91ab-"
          "2d7cd011db4g\"", 0 },
        { "iss the literal template", TENANT_T,
          "\"iss\":\"" TENANT_T "\",\"tid\":\"" TID "\"", 0 },
        { "iss the template filled, and more", TENANT_T,
          "\"iss\":\"https://login.microsoftonline.com/" TID "/v2.0/x\","
          "\"tid\":\"" TID "\"", 0 },
        { "iss the template filled, shorter", TENANT_T,
          "\"iss\":\"https://login.microsoftonline.com/" TID "/v2\","
          "\"tid\":\"" TID "\"", 0 },
        { "{tenantid} twice, both filled", "https://x.example/{tenantid}/"
          "{tenantid}",
          "\"iss\":\"https://x.example/" TID "/" TID "\",\"tid\":\"" TID "\"",
          1 },
        { "{tenantid} twice, one other tenant", "https://x.example/"
          "{tenantid}/{tenantid}",
          "\"iss\":\"https://x.example/" TID "/" TID2 "\",\"tid\":\"" TID
          "\"", 0 },
        { "no template: exact, tid or not", "https://sts.example",
          "\"iss\":\"https://sts.example\",\"tid\":\"" TID "\"", 1 },
    };

    APR_ARRAY_PUSH(iss, const char *) = NULL;
    pol.issuers = iss;
    pol.keys = keys_of(pool, key, NULL);
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *claims = apr_psprintf(pool, "{%s,\"exp\":%"
                                          APR_INT64_T_FMT "}",
                                          rows[i].claims, NOW + 60);
        const char *tok = sign_raw(key, "{\"alg\":\"ES256\",\"kid\":\"t1\"}",
                                   claims);
        int rc;

        APR_ARRAY_IDX(iss, 0, const char *) = rows[i].issuer;
        rc = verify(tok, &pol, &err);
        ok(rc == rows[i].rc && (rc || err.code == JWT_ERR_ISSUER),
           "tenant template in JWTAuthIssuer: %s: %s (got rc %d, code %d)",
           rows[i].what, rows[i].rc ? "accepted" : "issuer", rc,
           rc ? 0 : err.code);
    }

    /* as a bound issuer: Entra ID's own set and token shapes */
    {
        const char *doc = slurp(pool, "t/vectors/idp/entra.json");
        const char *pem = slurp(pool,
                                "t/vectors/idp/test-only-entra-2.key");
        jwt_key_t *signer = private_key(pem, "W8hipmbBNzopQp7GcbI3DjH8BIM");
        jwt_keyring_t *ring = jwt_keyring_create(pool);
        const char *claims[2];
        int rc, n;

        jwt_keyring_publish(ring, parse(doc, &err));
        pol = policy_of(sources_of(ring, TENANT_T));
        claims[0] = "\"iss\":\"https://login.microsoftonline.com/" TID
                    "/v2.0\",\"tid\":\"" TID "\"";
        claims[1] = "\"iss\":\"https://login.microsoftonline.com/" TID2
                    "/v2.0\",\"tid\":\"" TID "\"";
        for (n = 0; n < 2; n++) {
            const char *tok = sign_claims(signer, JWT_ALG_RS256,
                                          apr_psprintf(pool, "{%s,\"exp\":%"
                                          APR_INT64_T_FMT "}", claims[n],
                                          NOW + 60));

            rc = verify(tok, &pol, &err);
            ok(n == 0 ? rc && tried == 1
                      : !rc && err.code == JWT_ERR_ISSUER,
               "Entra ID set bound to the template: %s (got rc %d, code %d, "
               "tried %d)", n == 0 ? "the tenant's own token verifies"
                                   : "iss of another tenant: JWT_ERR_ISSUER",
               rc, rc ? 0 : err.code, tried);
        }
        jwt_keyring_publish(ring, NULL);
    }
}

/* ---- threads ---- */

/* A reader stalled between reading the active slot and registering in
 * it, while the writer publishes: it must come back with the new set
 * (without the re-check it would take the slot just emptied). */
static volatile int stall_state;        /* 0 run, 1 stalled, 2 go */

static void stall_once(void)
{
    if (__atomic_load_n(&stall_state, __ATOMIC_SEQ_CST) != 0) {
        return;
    }
    __atomic_store_n(&stall_state, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&stall_state, __ATOMIC_SEQ_CST) != 2) {
        apr_sleep(1000);
    }
}

typedef struct {
    jwt_keyring_t *ring;
    const jwt_keyset_t *got;
} stalled_t;

static void *APR_THREAD_FUNC stalled_reader(apr_thread_t *t, void *data)
{
    stalled_t *s = data;
    unsigned ticket;

    s->got = jwt_keyring_acquire(s->ring, &ticket);
    jwt_keyring_release(s->ring, ticket);
    return NULL;
}

static void test_stall(void)
{
    const char *j1, *j2;
    jwt_keyring_t *ring = jwt_keyring_create(pool);
    jwt_keyset_t *s1, *s2;
    apr_thread_t *th;
    apr_status_t rv;
    stalled_t st;
    jwt_error_t err;

    ec_key("s1", &j1);
    ec_key("s2", &j2);
    s1 = parse(set_doc(&j1, 1), &err);
    s2 = parse(set_doc(&j2, 1), &err);
    jwt_keyring_publish(ring, s1);
    st.ring = ring;
    st.got = NULL;
    stall_state = 0;
    jwt_test_ring_stall = stall_once;
    apr_thread_create(&th, NULL, stalled_reader, &st, pool);
    while (__atomic_load_n(&stall_state, __ATOMIC_SEQ_CST) != 1) {
        apr_sleep(1000);
    }
    /* the reader has read the active slot and is not yet counted there:
     * this publish frees s1 and empties that slot */
    jwt_keyring_publish(ring, s2);
    __atomic_store_n(&stall_state, 2, __ATOMIC_SEQ_CST);
    apr_thread_join(&rv, th);
    jwt_test_ring_stall = NULL;
    ok(st.got == s2, "a reader stalled across a publish gets the new set "
       "(got %s)", st.got == s2 ? "the new set" : st.got ? "another set"
                                                         : "none");
    jwt_keyring_publish(ring, NULL);
}

#define READERS 2

/* KEYSET_PUBLISHES in the environment: fewer for valgrind's tools */
static int publishes(void)
{
    const char *e = getenv("KEYSET_PUBLISHES");

    return e && atoi(e) > 0 ? atoi(e) : 2000;
}

typedef struct {
    const jwt_policy_t *pol;
    const char *tok_both;               /* a key in both sets */
    const char *tok_one;                /* a key in one set only */
    volatile int *stop;
    long verified, failed, other_codes;
} reader_t;

static void *APR_THREAD_FUNC reader(apr_thread_t *t, void *data)
{
    reader_t *r = data;
    apr_pool_t *p;

    apr_pool_create_unmanaged_ex(&p, NULL, NULL);
    while (!__atomic_load_n(r->stop, __ATOMIC_SEQ_CST)) {
        jwt_error_t err;
        jwt_t *jwt;

        if (jwt_verify(&jwt, p, r->tok_both, strlen(r->tok_both), r->pol,
                       NOW, &err)) {
            r->verified++;
        }
        else {
            r->failed++;
        }
        /* in one set only: accepted or JWT_ERR_KEY, nothing else */
        if (!jwt_verify(&jwt, p, r->tok_one, strlen(r->tok_one), r->pol,
                        NOW, &err) && err.code != JWT_ERR_KEY) {
            r->other_codes++;
        }
        apr_pool_clear(p);
    }
    apr_pool_destroy(p);
    /* returns rather than apr_thread_exit(): pthread_exit trips a false
     * stack-buffer-overflow report of gcc 12's ASan in sigaltstack */
    return NULL;
}

static void test_threads(void)
{
    const char *j1, *j2, *j3, *docs[2], *pair[2];
    jwt_key_t *k1 = ec_key("both", &j1), *k2 = ec_key("only-a", &j2);
    jwt_keyring_t *ring = jwt_keyring_create(pool);
    jwt_policy_t pol = policy_of(sources_of(ring, NULL));
    apr_thread_t *th[READERS];
    reader_t rd[READERS];
    volatile int stop = 0;
    long verified = 0, failed = 0, other = 0;
    apr_uint32_t v0;
    jwt_error_t err;
    apr_status_t rv;
    int i, bad_parse = 0, n = publishes();
    apr_time_t t_parse = 0, t_pub = 0;

    ec_key("only-b", &j3);
    pair[0] = j1;
    pair[1] = j2;
    docs[0] = set_doc(pair, 2);
    pair[1] = j3;
    docs[1] = set_doc(pair, 2);
    /* the hook is a plain counter: off while threads run */
    jwt_test_key_tried = NULL;
    jwt_keyring_publish(ring, parse(docs[0], &err));
    v0 = jwt_keyring_version(ring);
    for (i = 0; i < READERS; i++) {
        rd[i].pol = &pol;
        rd[i].tok_both = sign_es(k1);
        rd[i].tok_one = sign_es(k2);
        rd[i].stop = &stop;
        rd[i].verified = rd[i].failed = rd[i].other_codes = 0;
        apr_thread_create(&th[i], NULL, reader, &rd[i], pool);
    }
    for (i = 0; i < n; i++) {
        apr_time_t t0 = apr_time_now(), t1;
        jwt_keyset_t *set = parse(docs[(i + 1) % 2], &err);

        t1 = apr_time_now();
        t_parse += t1 - t0;
        if (!set) {
            bad_parse++;
            continue;
        }
        jwt_keyring_publish(ring, set);
        t_pub += apr_time_now() - t1;
    }
    /* publishing waits for readers of the old set to leave: a reader
     * descheduled while it holds one (more threads than cores) costs the
     * writer a time slice, never a reader anything */
    printf("# %d parses %.3f s, %d publishes %.3f s\n", n,
           (double)t_parse / 1e6, n, (double)t_pub / 1e6);
    __atomic_store_n(&stop, 1, __ATOMIC_SEQ_CST);
    for (i = 0; i < READERS; i++) {
        apr_thread_join(&rv, th[i]);
        verified += rd[i].verified;
        failed += rd[i].failed;
        other += rd[i].other_codes;
    }
    jwt_test_key_tried = count_tried;
    ok(bad_parse == 0 && jwt_keyring_version(ring) == v0 + (apr_uint32_t)n,
       "%d publishes while %d threads verify (version %u)", n, READERS,
       jwt_keyring_version(ring));
    ok(failed == 0 && verified > 0, "the key in both sets: %ld verified, "
       "%ld failed", verified, failed);
    ok(other == 0, "the key in one set: accepted or JWT_ERR_KEY, never "
       "another failure (%ld other)", other);
    ok(jwt_keyset_live() == 1, "only the current set is alive after %d "
       "rotations (live %u)", n, jwt_keyset_live());
    jwt_keyring_publish(ring, NULL);
    ok(jwt_keyset_live() == 0, "none after the ring is emptied (live %u)",
       jwt_keyset_live());
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    jwt_test_key_tried = count_tried;

    test_vectors();
    make_rsa();
    test_digest();
    test_hostile();
    test_big();
    test_kid_rules();
    test_binding();
    test_tenant();
    test_stall();
    test_threads();

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
    {
        /* the pool's cleanups free the rings' sets and the keys: a
         * sanitizer's leak check then sees what the core leaves */
        int rc = done_testing();

        apr_pool_destroy(pool);
        apr_terminate();
        return rc;
    }
}
