/*
 * test_header_cache.c: the parsed-header cache a jwt_cache_t keeps
 * (jwt_headers_t, jose/jws_private.h and jose/jws.c), TAP output.
 *
 * - 100, 200 and 300 distinct headers (HS256 keys k000...) cycled
 *   through one cache: after a warm-up pass, later passes parse none of
 *   them (300 needs the second choice of set: one choice of 64 x 8 keeps
 *   296), and through jwt_verify_cached (a jwt_cache_t without a token
 *   table, as JWTAuthCache Off) too; parses are counted through the test
 *   hook of jws_private.h.
 * - two segments of the same length and the same hash (found among
 *   300,000 candidates: the hash is 32 bits) each get their own header.
 * - a segment that is not base64url, not JSON, not an object, or whose
 *   signature does not verify is never kept and always refused the same
 *   way; one of 514 bytes verifies and is never kept, one of 512 is.
 * - the bound: thousands of distinct headers keep at most
 *   JWT_HEADER_SETS x JWT_HEADER_WAYS entries, the heap does not grow
 *   and early entries are replaced.
 * - jwt_headers_clear frees everything (run under valgrind's memcheck:
 *   valgrind --leak-check=full t/unit/test_header_cache; valgrind's
 *   malloc reports no mallinfo2 figures, so there its leak check stands
 *   in for the heap rows).
 */
#include <stdlib.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "jose.h"
#include "jws_private.h"
#include "tap.h"
#include "util.h"

#define NOW ((apr_int64_t)1700000000)
#define NKEYS 300

static apr_pool_t *pool;
static jwt_key_t *keys[NKEYS];
static jwt_policy_t pol;

/* header segments parsed, counted through jwt_test_header_parsed */
static int parses;

static void count_parse(const char *seg, size_t len)
{
    (void)seg;
    (void)len;
    parses++;
}

/* An HS256 key of its own secret (made from the kid) named kid. */
static jwt_key_t *hmac(const char *kid)
{
    const char *secret = apr_psprintf(pool, "the secret of %-18s", kid);
    jwt_key_t *key = NULL;
    jwt_error_t err;

    if (!jwt_key_hmac_create(&key, pool, (const unsigned char *)secret,
                             strlen(secret), kid, &err)) {
        printf("# hmac key %s: %s\n", kid, err.reason);
        exit(1);
    }
    return key;
}

/* The policy of the given keys: HS256, indexed by kid. */
static jwt_policy_t policy_of(jwt_key_t **k, int n)
{
    jwt_policy_t p;
    apr_array_header_t *a = apr_array_make(pool, n, sizeof(jwt_key_t *));
    int i;

    memset(&p, 0, sizeof(p));
    for (i = 0; i < n; i++) {
        APR_ARRAY_PUSH(a, jwt_key_t *) = k[i];
    }
    p.algs = JWT_ALG_BIT(JWT_ALG_HS256);
    p.keys = a;
    if (!jwt_policy_index_keys(&p, pool)) {
        printf("# cannot index keys\n");
        exit(1);
    }
    return p;
}

/* A token with the given header (JSON text), signed with key under
 * HS256; bad_sig flips a bit of the signature. */
static const char *sign_raw(const jwt_key_t *key, const char *header,
                            int bad_sig)
{
    static const char claims[] = "{\"sub\":\"daehan\",\"exp\":1700000300}";
    const char *h, *c, *input;
    unsigned char *sig;
    size_t siglen;

    h = jwt_b64url_encode(pool, (const unsigned char *)header,
                          strlen(header));
    c = jwt_b64url_encode(pool, (const unsigned char *)claims,
                          strlen(claims));
    input = apr_pstrcat(pool, h, ".", c, NULL);
    if (!jwt_key_sign(pool, key, JWT_ALG_HS256,
                      (const unsigned char *)input, strlen(input), &sig,
                      &siglen)) {
        printf("# cannot sign\n");
        exit(1);
    }
    sig[0] ^= bad_sig ? 1 : 0;
    return apr_pstrcat(pool, input, ".", jwt_b64url_encode(pool, sig,
                                                           siglen), NULL);
}

/* The usual header of key i: {"alg":"HS256","typ":"JWT","kid":"k042"}. */
static const char *kid_token(int i)
{
    return sign_raw(keys[i], apr_psprintf(pool, "{\"alg\":\"HS256\","
                                          "\"typ\":\"JWT\",\"kid\":"
                                          "\"k%03d\"}", i), 0);
}

/* Verify tok through h in a scratch pool; 1 when accepted.  *kid gets
 * the kid of the header the token was verified with (NULL if none). */
static int verify(jwt_headers_t *h, const char *tok, const jwt_policy_t *p,
                  jwt_error_t *err, const char **kid)
{
    apr_pool_t *sp;
    jwt_t *jwt;
    int rc;

    apr_pool_create(&sp, pool);
    rc = jwt_verify_with(&jwt, sp, h, tok, strlen(tok), p, NOW, err);
    if (kid) {
        *kid = rc && jwt->kid ? apr_pstrdup(pool, jwt->kid) : NULL;
    }
    apr_pool_destroy(sp);
    return rc;
}

/* entries held, over all sets */
static int entries(const jwt_headers_t *h)
{
    int i, n = 0;

    for (i = 0; i < JWT_HEADER_SETS; i++) {
        n += h->set[i].used;
    }
    return n;
}

/* ---- many headers ---- */

/* n tokens of n kids cycled: pass 1 parses each once, passes 2 and 3
 * (the other way round) none, and each token is verified with its own
 * header every time. */
static void test_cycle(int n)
{
    jwt_headers_t *h = calloc(1, sizeof(*h));
    const char **toks = apr_palloc(pool, n * sizeof(*toks));
    int i, pass, bad = 0, parsed[3];

    for (i = 0; i < n; i++) {
        toks[i] = kid_token(i);
    }
    for (pass = 0; pass < 3; pass++) {
        parses = 0;
        for (i = 0; i < n; i++) {
            int j = pass == 2 ? n - 1 - i : i;
            const char *kid;
            jwt_error_t err;

            if (!verify(h, toks[j], &pol, &err, &kid)
                || strcmp(kid, apr_psprintf(pool, "k%03d", j))) {
                bad++;
            }
        }
        parsed[pass] = parses;
    }
    ok(bad == 0, "%d kids: every token verified with its own header "
       "(%d not)", n, bad);
    ok(parsed[0] == n, "%d kids: the warm-up pass parses each header once "
       "(got %d, want %d)", n, parsed[0], n);
    ok(parsed[1] == 0 && parsed[2] == 0, "%d kids: the second and a "
       "reversed third pass parse none (got %d, %d)", n, parsed[1],
       parsed[2]);
    ok(entries(h) == n, "%d kids: %d entries held (want %d)", n,
       entries(h), n);
    jwt_headers_clear(h);
    ok(entries(h) == 0, "%d kids: none after jwt_headers_clear (got %d)",
       n, entries(h));
    free(h);
}

/* The module's path: jwt_verify_cached through a jwt_cache_t with no
 * token table (JWTAuthCache Off), 100 kids. */
static void test_through_cache(void)
{
    jwt_cache_t *c = jwt_cache_create(0);
    int i, pass, bad = 0, hits = 0, parsed[2];

    for (pass = 0; pass < 2; pass++) {
        parses = 0;
        for (i = 0; i < 100; i++) {
            const char *tok = kid_token(i);
            apr_pool_t *sp;
            jwt_error_t err;
            jwt_t *jwt;
            int hit;

            apr_pool_create(&sp, pool);
            if (!jwt_verify_cached(&jwt, sp, c, tok, strlen(tok), &pol, NOW,
                                   1, NULL, &hit, &err)) {
                bad++;
            }
            hits += hit != JWT_CACHE_MISS;
            apr_pool_destroy(sp);
        }
        parsed[pass] = parses;
    }
    ok(bad == 0 && hits == 0, "jwt_verify_cached without a token table: "
       "200 verified in full (%d refused, %d token hits)", bad, hits);
    ok(parsed[0] == 100 && parsed[1] == 0, "jwt_verify_cached: 100 kids "
       "parsed once, then never (got %d, then %d)", parsed[0], parsed[1]);
    jwt_cache_destroy(c);
}

/* ---- a forced collision ---- */

typedef struct {
    apr_uint32_t hash;
    int n;
} cand_t;

static int cand_cmp(const void *a, const void *b)
{
    const cand_t *x = a, *y = b;

    if (x->hash != y->hash) {
        return x->hash < y->hash ? -1 : 1;
    }
    return x->n - y->n;
}

static const char *coll_header(int n)
{
    return apr_psprintf(pool, "{\"alg\":\"HS256\",\"kid\":\"c%07d\"}", n);
}

static char *coll_segment(apr_pool_t *p, int n)
{
    const char *hdr = coll_header(n);

    return jwt_b64url_encode(p, (const unsigned char *)hdr, strlen(hdr));
}

/* Two headers of kids c<a> and c<b>: segments of one length whose
 * jwt_header_hash is equal (so they share both sets and the stored
 * hash), each signed by its own key.  Each must be verified with its own
 * header, first seen or from the cache, and A's segment signed with B's
 * key refused. */
static void test_collision(void)
{
    enum { NCAND = 300000 };
    cand_t *c = malloc(NCAND * sizeof(*c));
    jwt_headers_t *h = calloc(1, sizeof(*h));
    apr_pool_t *sp;
    int i, a = -1, b = -1, parsed;
    const char *ta, *tb, *kid_a, *kid_b, *got[2], *forged;
    int r[2];
    char *sa, *sb;
    jwt_key_t *k[2];
    jwt_policy_t p;
    jwt_error_t err;

    apr_pool_create(&sp, pool);
    for (i = 0; i < NCAND; i++) {
        char *seg = coll_segment(sp, i);

        c[i].hash = jwt_header_hash(seg, strlen(seg));
        c[i].n = i;
        if (i % 4096 == 0) {
            apr_pool_clear(sp);
        }
    }
    qsort(c, NCAND, sizeof(*c), cand_cmp);
    for (i = 1; i < NCAND && a < 0; i++) {
        if (c[i].hash == c[i - 1].hash) {
            a = c[i - 1].n;
            b = c[i].n;
        }
    }
    free(c);
    ok(a >= 0, "a pair of segments sharing a 32-bit hash among %d "
       "(c%07d, c%07d)", NCAND, a, b);
    if (a < 0) {
        free(h);
        return;
    }
    sa = coll_segment(pool, a);
    sb = coll_segment(pool, b);
    ok(strlen(sa) == strlen(sb) && strcmp(sa, sb)
       && jwt_header_hash(sa, strlen(sa)) == jwt_header_hash(sb, strlen(sb)),
       "the two segments: %d and %d bytes, different, hash %08x and %08x",
       (int)strlen(sa), (int)strlen(sb), jwt_header_hash(sa, strlen(sa)),
       jwt_header_hash(sb, strlen(sb)));
    kid_a = apr_psprintf(pool, "c%07d", a);
    kid_b = apr_psprintf(pool, "c%07d", b);
    k[0] = hmac(kid_a);
    k[1] = hmac(kid_b);
    p = policy_of(k, 2);
    ta = sign_raw(k[0], coll_header(a), 0);
    tb = sign_raw(k[1], coll_header(b), 0);

    parses = 0;
    r[0] = verify(h, ta, &p, &err, &got[0]);
    r[1] = verify(h, tb, &p, &err, &got[1]);
    ok(r[0] && !strcmp(got[0], kid_a), "A verified with its header (kid "
       "%s, want %s)", got[0] ? got[0] : "-", kid_a);
    ok(r[1] && !strcmp(got[1], kid_b), "B, A's hash and length, after A "
       "was kept: its own header (kid %s, want %s)",
       got[1] ? got[1] : "-", kid_b);
    ok(parses == 2 && entries(h) == 2, "both parsed once and kept (%d "
       "parses, %d entries)", parses, entries(h));
    parsed = parses;
    r[0] = verify(h, ta, &p, &err, &got[0]);
    r[1] = verify(h, tb, &p, &err, &got[1]);
    ok(r[0] && !strcmp(got[0], kid_a) && r[1] && !strcmp(got[1], kid_b)
       && parses == parsed, "A and B again from the cache, each its own "
       "(kids %s, %s; %d more parses)", got[0] ? got[0] : "-",
       got[1] ? got[1] : "-", parses - parsed);
    /* A's header, signed with B's key: had the cache served B's header
     * for A's segment, B's key would verify it */
    forged = sign_raw(k[1], coll_header(a), 0);
    r[0] = verify(h, forged, &p, &err, NULL);
    ok(!r[0] && err.code == JWT_ERR_SIGNATURE, "A's segment signed with "
       "B's key: refused (%s, want signature)",
       r[0] ? "accepted" : jwt_error_name(err.code));
    jwt_headers_clear(h);
    free(h);
}

/* ---- what is never kept ---- */

/* A header of exactly len segment bytes (len a multiple of 4), kid k000,
 * padded with an "x" member. */
static const char *sized_header(size_t seglen)
{
    const char *base = "{\"alg\":\"HS256\",\"kid\":\"k000\",\"x\":\"\"}";
    size_t text = seglen / 4 * 3 + (seglen % 4 ? seglen % 4 - 1 : 0);
    size_t pad = text - strlen(base);
    char *x = apr_palloc(pool, pad + 1);

    memset(x, 'x', pad);
    x[pad] = '\0';
    return apr_psprintf(pool, "{\"alg\":\"HS256\",\"kid\":\"k000\","
                        "\"x\":\"%s\"}", x);
}

static const char *with_segment(const char *seg)
{
    /* any payload and signature of a valid token */
    const char *tok = kid_token(0);

    return apr_pstrcat(pool, seg, strchr(tok, '.'), NULL);
}

static const char *b64(const char *text)
{
    return jwt_b64url_encode(pool, (const unsigned char *)text,
                             strlen(text));
}

static void test_never_kept(void)
{
    const struct {
        const char *what;
        const char *tok;
        jwt_errcode_e code;
    } rows[] = {
        { "not base64url", with_segment("eyJhbGciOi!!!"), JWT_ERR_MALFORMED },
        { "base64url of no JSON", with_segment(b64("{\"alg\":\"HS256\"")),
          JWT_ERR_MALFORMED },
        { "a JSON array", with_segment(b64("[\"HS256\"]")),
          JWT_ERR_MALFORMED },
        { "a JSON string", with_segment(b64("\"HS256\"")),
          JWT_ERR_MALFORMED },
        { "duplicate members", with_segment(b64("{\"alg\":\"HS256\","
                                                "\"alg\":\"none\"}")),
          JWT_ERR_MALFORMED },
        { "a wrong signature", sign_raw(keys[0], "{\"alg\":\"HS256\","
                                        "\"kid\":\"k000\"}", 1),
          JWT_ERR_SIGNATURE },
        { "an unknown kid", sign_raw(keys[0], "{\"alg\":\"HS256\","
                                     "\"kid\":\"nobody\"}", 0),
          JWT_ERR_KEY },
        { "alg none", sign_raw(keys[0], "{\"alg\":\"none\","
                               "\"kid\":\"k000\"}", 0), JWT_ERR_ALG },
    };
    jwt_headers_t *h = calloc(1, sizeof(*h));
    const char *t512, *t514, *seg;
    size_t i;
    int round, n;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        jwt_error_t e1, e2, e3;
        int r1, r2, r3;

        parses = 0;
        r1 = verify(h, rows[i].tok, &pol, &e1, NULL);
        r2 = verify(h, rows[i].tok, &pol, &e2, NULL);
        r3 = verify(h, rows[i].tok, &pol, &e3, NULL);
        ok(!r1 && !r2 && !r3 && e1.code == rows[i].code
           && e2.code == e1.code && e3.code == e1.code
           && !strcmp(e1.reason, e2.reason)
           && !strcmp(e1.reason, e3.reason),
           "%s: refused three times the same way (%s: %s / %s: %s / %s: "
           "%s; want %s)", rows[i].what, jwt_error_name(e1.code),
           e1.reason, jwt_error_name(e2.code), e2.reason,
           jwt_error_name(e3.code), e3.reason,
           jwt_error_name(rows[i].code));
        ok(parses == 3 && entries(h) == 0, "%s: parsed each time, never "
           "kept (%d parses, %d entries)", rows[i].what, parses,
           entries(h));
    }
    /* the bound on a kept segment: 512 bytes kept, 514 not (base64url
     * without padding has no 513) */
    t512 = sign_raw(keys[0], sized_header(512), 0);
    t514 = sign_raw(keys[0], sized_header(514), 0);
    ok(strchr(t512, '.') - t512 == 512 && strchr(t514, '.') - t514 == 514,
       "segments of %d and %d bytes", (int)(strchr(t512, '.') - t512),
       (int)(strchr(t514, '.') - t514));
    for (round = 0; round < 2; round++) {
        const char *tok = round ? t514 : t512;
        jwt_error_t err;
        int r = 1;

        parses = 0;
        n = entries(h);
        for (i = 0; i < 3; i++) {
            r &= verify(h, tok, &pol, &err, NULL);
        }
        ok(r && parses == (round ? 3 : 1)
           && entries(h) == n + (round ? 0 : 1),
           "a %d-byte header: verified 3 times, %d parses (want %d), "
           "%d entries added (want %d)", round ? 514 : 512, parses,
           round ? 3 : 1, entries(h) - n, round ? 0 : 1);
    }
    /* a wrong signature leaves nothing behind for the right one */
    seg = "{\"alg\":\"HS256\",\"kid\":\"k001\"}";
    parses = 0;
    {
        jwt_error_t err;
        int r1 = verify(h, sign_raw(keys[1], seg, 1), &pol, &err, NULL);
        int r2 = verify(h, sign_raw(keys[1], seg, 0), &pol, &err, NULL);
        int r3 = verify(h, sign_raw(keys[1], seg, 0), &pol, &err, NULL);

        ok(!r1 && r2 && r3 && parses == 2, "the same header refused "
           "(bad signature), then verified twice: %d parses (want 2: "
           "kept after it verified)", parses);
    }
    jwt_headers_clear(h);
    free(h);
}

/* ---- the bound ---- */

/* Header number i of a stream of distinct ones, all of key k000 and of
 * one length. */
static const char *stream_token(int i)
{
    return sign_raw(keys[0], apr_psprintf(pool, "{\"alg\":\"HS256\","
                                          "\"kid\":\"k000\",\"n\":"
                                          "\"%06d\"}", i), 0);
}

static void test_bound(void)
{
    enum { WARM = 1500, MORE = 4000 };
    int cap = JWT_HEADER_SETS * JWT_HEADER_WAYS;
    jwt_headers_t *h = calloc(1, sizeof(*h));
    size_t before, warm = 0, after, seglen;
    const char *t0;
    apr_pool_t *tp;
    apr_pool_t *saved = pool;
    int i, bad = 0, maxn = 0, over = 0;
    jwt_error_t err;

    /* tokens in a pool of their own, cleared as we go: the heap then
     * measures the cache */
    apr_pool_create(&tp, saved);
    /* the pools' own blocks first, without the cache */
    for (i = 0; i < 10; i++) {
        pool = tp;
        verify(NULL, stream_token(i), &pol, &err, NULL);
        pool = saved;
        apr_pool_clear(tp);
    }
    before = heap_in_use();
    for (i = 0; i < WARM + MORE; i++) {
        pool = tp;
        if (!verify(h, stream_token(i), &pol, &err, NULL)) {
            bad++;
        }
        pool = saved;
        apr_pool_clear(tp);
        if (entries(h) > maxn) {
            maxn = entries(h);
        }
        over += entries(h) > cap;
        if (i == WARM - 1) {
            warm = heap_in_use();
        }
    }
    after = heap_in_use();
    ok(bad == 0, "%d distinct headers verified (%d not)", WARM + MORE, bad);
    ok(over == 0 && maxn == cap, "never more than %d entries (most %d, "
       "%d times over)", cap, maxn, over);
    ok(after <= warm + 8192, "the heap does not grow once full: %zu bytes "
       "in use after %d headers, %zu after %d more (%+ld)", warm, WARM,
       after, MORE, (long)after - (long)warm);
    t0 = stream_token(0);
    seglen = (size_t)(strchr(t0, '.') - t0);
    printf("# the cache full of %d headers of %zu bytes: %zu bytes of heap "
           "beyond the table (%zu each)\n", cap, seglen, warm - before,
           (warm - before) / cap);
    /* the first headers were replaced: seen again, they are parsed */
    parses = 0;
    for (i = 0; i < 100; i++) {
        verify(h, stream_token(i), &pol, &err, NULL);
    }
    ok(parses == 100, "the first 100 headers were replaced: parsed again "
       "(%d of 100)", parses);
    jwt_headers_clear(h);
    ok(entries(h) == 0 && heap_in_use() <= before + 4096,
       "jwt_headers_clear: no entry (%d) and the heap back to %zu (from "
       "%zu)", entries(h), heap_in_use(), before);
    apr_pool_destroy(tp);
    free(h);
}

int main(void)
{
    int i;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    for (i = 0; i < NKEYS; i++) {
        keys[i] = hmac(apr_psprintf(pool, "k%03d", i));
    }
    pol = policy_of(keys, NKEYS);
    jwt_test_header_parsed = count_parse;

    printf("# jwt_headers_t: %d sets x %d ways, %zu bytes\n",
           JWT_HEADER_SETS, JWT_HEADER_WAYS, sizeof(jwt_headers_t));
    test_cycle(100);
    test_cycle(200);
    test_cycle(300);
    test_through_cache();
    test_collision();
    test_never_kept();
    test_bound();

    apr_pool_destroy(pool);
    apr_terminate();
    return done_testing();
}
