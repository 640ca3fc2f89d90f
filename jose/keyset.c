/*
 * keyset.c: JWK Sets that arrive while serving: parsing one into an
 * immutable set with its kid index and digest, the left-right ring that
 * hands a new set from the one writer to the readers without a lock, and
 * the kid index itself (also made for a policy's static keys).
 *
 * No httpd header: APR, jansson and OpenSSL.  The atomics are the
 * compiler's (__atomic, sequentially consistent where the protocol needs
 * it): APR's would need apr_atomic_init() on platforms without them.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <apr_time.h>

#include <openssl/evp.h>

#include "internal.h"
#include "keyset.h"

/* The largest RSA modulus a remote set may bring: OpenSSL refuses to
 * verify with more anyway (OPENSSL_RSA_MAX_MODULUS_BITS), so such a key
 * would only ever fail, after costing its parse. */
#define MAX_RSA_BITS 16384

/* The longest skip reason kept: the loader's reasons may quote a value
 * of the document (an unknown kty), and the glue logs them. */
#define MAX_REASON 160

/* Most keys one document may hold: enough for any provider (they publish
 * a handful), and a bound on the work a hostile document can cause. */
#define MAX_KEYS 20000

/* ---------------------------------------------------------------- */
/* the kid index                                                    */

struct jwt_keyindex {
    const apr_array_header_t *from;     /* the array it was made from */
    int from_n;                         /* and its length then */
    int n;                              /* keys with a kid or thumbprint */
    const char **kid;                   /* sorted */
    const jwt_key_t **by_kid;           /* by_kid[i] has kid[i] */
    int n_nokid;
    const jwt_key_t **nokid;            /* keys without a kid of their own */
};

typedef struct {
    const char *kid;
    const jwt_key_t *key;
    int order;
} kid_entry_t;

/* by kid, then by the keys' order (duplicate kids stay in it) */
static int entry_cmp(const void *a, const void *b)
{
    const kid_entry_t *x = a, *y = b;
    int c = strcmp(x->kid, y->kid);

    return c ? c : (x->order > y->order) - (x->order < y->order);
}

jwt_keyindex_t *jwt_keyindex_make(apr_pool_t *p,
                                  const apr_array_header_t *keys)
{
    jwt_keyindex_t *ix = apr_pcalloc(p, sizeof(*ix));
    int i, n = keys ? keys->nelts : 0;
    kid_entry_t *e;

    ix->from = keys;
    ix->from_n = n;
    if (n == 0) {
        return ix;
    }
    e = malloc(sizeof(*e) * (size_t)n);
    ix->kid = apr_palloc(p, sizeof(*ix->kid) * (size_t)n);
    ix->by_kid = apr_palloc(p, sizeof(*ix->by_kid) * (size_t)n);
    ix->nokid = apr_palloc(p, sizeof(*ix->nokid) * (size_t)n);
    if (!e) {
        return NULL;
    }
    for (i = 0; i < n; i++) {
        const jwt_key_t *key = APR_ARRAY_IDX(keys, i, const jwt_key_t *);
        const char *kid = jwt_key_sign_kid(key);

        if (kid) {
            e[ix->n].kid = kid;
            e[ix->n].key = key;
            e[ix->n].order = i;
            ix->n++;
        }
        if (!key->kid) {
            ix->nokid[ix->n_nokid++] = key;
        }
    }
    qsort(e, (size_t)ix->n, sizeof(*e), entry_cmp);
    for (i = 0; i < ix->n; i++) {
        ix->kid[i] = e[i].kid;
        ix->by_kid[i] = e[i].key;
    }
    free(e);
    return ix;
}

int jwt_keyindex_covers(const jwt_keyindex_t *ix,
                        const apr_array_header_t *keys)
{
    return ix && ix->from == keys && ix->from_n == (keys ? keys->nelts : 0);
}

int jwt_keyindex_find(const jwt_keyindex_t *ix, const char *kid,
                      const jwt_key_t *const **first)
{
    int lo = 0, hi = ix->n, start;

    /* the first entry not below kid */
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;

        if (strcmp(ix->kid[mid], kid) < 0) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    start = lo;
    while (lo < ix->n && !strcmp(ix->kid[lo], kid)) {
        lo++;
    }
    *first = ix->by_kid + start;
    return lo - start;
}

int jwt_keyindex_nokid(const jwt_keyindex_t *ix,
                       const jwt_key_t *const **first)
{
    *first = ix->nokid;
    return ix->n_nokid;
}

/* ---------------------------------------------------------------- */
/* the set                                                          */

struct jwt_keyset {
    apr_pool_t *pool;                   /* its own: everything below */
    apr_array_header_t *keys;           /* jwt_key_t *, document order */
    jwt_keyindex_t *index;
    unsigned char digest[32];
};

static apr_uint32_t live_sets;

apr_uint32_t jwt_keyset_live(void)
{
    return __atomic_load_n(&live_sets, __ATOMIC_SEQ_CST);
}

/* One key's canonical record for the digest: its material's name (fp,
 * which names its type too), its algorithms and its kid. */
typedef struct {
    unsigned char fp[32];
    unsigned char algs[4];
    const char *kid;
} digest_rec_t;

static int rec_cmp(const void *a, const void *b)
{
    const digest_rec_t *x = a, *y = b;
    int c = memcmp(x->fp, y->fp, sizeof(x->fp));

    if (!c) {
        c = memcmp(x->algs, y->algs, sizeof(x->algs));
    }
    if (!c && x->kid != y->kid) {
        c = !x->kid ? -1 : !y->kid ? 1 : strcmp(x->kid, y->kid);
    }
    return c;
}

static void put_len(EVP_MD_CTX *md, size_t len)
{
    unsigned char n[4] = { (unsigned char)(len >> 24),
                           (unsigned char)(len >> 16),
                           (unsigned char)(len >> 8), (unsigned char)len };

    EVP_DigestUpdate(md, n, sizeof(n));
}

/* SHA-256 over the sorted records, each item length-prefixed: the same
 * keys in any order or layout give the same digest. */
static int set_digest(jwt_keyset_t *set)
{
    int i, n = set->keys->nelts, ok;
    digest_rec_t *r = malloc(sizeof(*r) * (size_t)n);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    static const char label[] = "mod_jwtauth keyset v1";

    ok = r && md && EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    for (i = 0; ok && i < n; i++) {
        const jwt_key_t *key = APR_ARRAY_IDX(set->keys, i, const jwt_key_t *);

        memcpy(r[i].fp, key->fp, 32);
        r[i].algs[0] = (unsigned char)(key->algs >> 24);
        r[i].algs[1] = (unsigned char)(key->algs >> 16);
        r[i].algs[2] = (unsigned char)(key->algs >> 8);
        r[i].algs[3] = (unsigned char)key->algs;
        r[i].kid = key->kid;
    }
    if (ok) {
        qsort(r, (size_t)n, sizeof(*r), rec_cmp);
        put_len(md, sizeof(label) - 1);
        EVP_DigestUpdate(md, label, sizeof(label) - 1);
        put_len(md, (size_t)n);
        for (i = 0; i < n; i++) {
            EVP_DigestUpdate(md, r[i].fp, 32);
            EVP_DigestUpdate(md, r[i].algs, 4);
            if (r[i].kid) {
                put_len(md, strlen(r[i].kid));
                EVP_DigestUpdate(md, r[i].kid, strlen(r[i].kid));
            }
            else {
                /* no length is this long: "no kid" is not kid "" */
                EVP_DigestUpdate(md, "\xff\xff\xff\xff", 4);
            }
        }
        ok = EVP_DigestFinal_ex(md, set->digest, NULL);
    }
    EVP_MD_CTX_free(md);
    free(r);
    return ok;
}

/* Why a key of a remote set is not even handed to the key loader, or
 * NULL: a secret is never taken from a document fetched over the
 * network (anyone who can read the URL could forge tokens), and a kid
 * longer than any provider's is hostile (it would reach the logs). */
static const char *remote_refusal(const json_t *jwk, char *buf, size_t n)
{
    json_t *kty = json_object_get(jwk, "kty");
    json_t *kid = json_object_get(jwk, "kid");

    if (!json_is_object(jwk)) {
        return "JWK is not a JSON object";
    }
    if (json_is_string(kty) && !strcmp(json_string_value(kty), "oct")) {
        return "an oct (secret) key in a JWK Set from a URL is never used";
    }
    if (json_is_string(kid) && json_string_length(kid) > JWT_KEYSET_MAX_KID) {
        apr_snprintf(buf, n, "kid longer than %d bytes", JWT_KEYSET_MAX_KID);
        return buf;
    }
    return NULL;
}

/* s made fit for a log line: visible ASCII and spaces as they are, any
 * other byte as '?', at most max bytes (then "..."). */
static const char *loggable(apr_pool_t *p, const char *s, size_t max)
{
    size_t i, n = strlen(s);
    char *out = apr_palloc(p, (n > max ? max + 3 : n) + 1);

    for (i = 0; i < n && i < max; i++) {
        out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    }
    if (n > max) {
        memcpy(out + i, "...", 3);
        i += 3;
    }
    out[i] = '\0';
    return out;
}

static void record_skip(apr_array_header_t *skipped, apr_pool_t *p,
                        size_t index, const json_t *jwk, const char *reason)
{
    jwt_key_skip_t *skip = apr_array_push(skipped);
    json_t *kid = json_object_get(jwk, "kid");

    skip->index = index;
    /* a kid too long to log is left out of the record too */
    skip->kid = json_is_string(kid)
                && json_string_length(kid) <= JWT_KEYSET_MAX_KID
                ? loggable(p, json_string_value(kid), JWT_KEYSET_MAX_KID)
                : NULL;
    skip->reason = loggable(p, reason, MAX_REASON);
}

static int fail(jwt_error_t *err, apr_pool_t *p, jwt_errcode_e code,
                const char *reason)
{
    jwt_set_err(err, code, apr_pstrdup(p, reason));
    return 0;
}

int jwt_keyset_parse(jwt_keyset_t **out, apr_pool_t *p, const char *text,
                     size_t len, apr_array_header_t **skipped,
                     jwt_error_t *err)
{
    apr_array_header_t *skips = apr_array_make(p, 1, sizeof(jwt_key_skip_t));
    apr_pool_t *scratch = NULL, *sp = NULL;
    jwt_keyset_t *set;
    json_t *doc, *arr, *jwk;
    char why[64];
    size_t i;
    int rc = 0;

    if (skipped) {
        *skipped = skips;
    }
    if (!text || len > JWT_KEYSET_MAX_DOC) {
        return fail(err, p, JWT_ERR_KEY, text ? "JWK Set document too long"
                                              : "no JWK Set document");
    }
    /* the set's own pool and allocator: the fetcher's thread makes it,
     * whichever thread publishes the next one frees it */
    if (apr_pool_create_unmanaged_ex(&sp, NULL, NULL) != APR_SUCCESS
        || apr_pool_create_unmanaged_ex(&scratch, NULL, NULL)
           != APR_SUCCESS) {
        if (sp) {
            apr_pool_destroy(sp);
        }
        return fail(err, p, JWT_ERR_INTERNAL, "out of memory");
    }
    set = apr_pcalloc(sp, sizeof(*set));
    set->pool = sp;
    /* the document's tree lives in scratch, dropped once the keys are
     * made: a set keeps its keys, not the text they came from */
    if (!(doc = jwt_json_object(scratch, text, len))) {
        fail(err, p, JWT_ERR_KEY, "not a JSON object (JWK Set)");
        goto done;
    }
    arr = json_object_get(doc, "keys");
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        fail(err, p, JWT_ERR_KEY, "not a JWK Set: \"keys\" is not a "
             "non-empty array");
        goto done;
    }
    if (json_array_size(arr) > MAX_KEYS) {
        fail(err, p, JWT_ERR_KEY, apr_psprintf(p, "JWK Set has more than "
             "%d keys", MAX_KEYS));
        goto done;
    }
    set->keys = apr_array_make(sp, (int)json_array_size(arr),
                               sizeof(jwt_key_t *));
    json_array_foreach(arr, i, jwk) {
        const char *refusal = remote_refusal(jwk, why, sizeof(why));
        jwt_error_t kerr;
        jwt_key_t *key;

        if (refusal) {
            record_skip(skips, p, i, jwk, refusal);
            continue;
        }
        /* the key loader of key files, key by key (jwt_keys_load_ex's
         * rules): what it refuses is skipped, an OpenSSL failure (no
         * fault of the key's) refuses the set */
        if (jwt_key_from_jwk(&key, sp, jwk, NULL, 0, &kerr)) {
            if (key->kty == JWT_KTY_RSA
                && EVP_PKEY_get_bits(key->pkey) > MAX_RSA_BITS) {
                apr_snprintf(why, sizeof(why), "RSA key over %d bits",
                             MAX_RSA_BITS);
                record_skip(skips, p, i, jwk, why);
                continue;
            }
            APR_ARRAY_PUSH(set->keys, jwt_key_t *) = key;
            continue;
        }
        if (kerr.code == JWT_ERR_INTERNAL) {
            fail(err, p, JWT_ERR_INTERNAL, apr_psprintf(p, "JWK Set key #%"
                 APR_SIZE_T_FMT ": %s", i, kerr.reason));
            goto done;
        }
        record_skip(skips, p, i, jwk, kerr.reason);
    }
    if (set->keys->nelts == 0) {
        jwt_key_skip_t *s = &APR_ARRAY_IDX(skips, 0, jwt_key_skip_t);

        fail(err, p, JWT_ERR_KEY, apr_psprintf(p, "JWK Set has no usable "
             "key (%d skipped; key #%" APR_SIZE_T_FMT ": %s)", skips->nelts,
             s->index, s->reason));
        goto done;
    }
    if (!(set->index = jwt_keyindex_make(sp, set->keys))) {
        fail(err, p, JWT_ERR_INTERNAL, "out of memory");
        goto done;
    }
    if (!set_digest(set)) {
        fail(err, p, JWT_ERR_INTERNAL, "cannot hash the key set");
        goto done;
    }
    rc = 1;

done:
    apr_pool_destroy(scratch);
    if (!rc) {
        apr_pool_destroy(sp);
        return 0;
    }
    __atomic_add_fetch(&live_sets, 1, __ATOMIC_SEQ_CST);
    *out = set;
    jwt_set_err(err, JWT_OK, NULL);
    return 1;
}

void jwt_keyset_free(jwt_keyset_t *set)
{
    if (set) {
        apr_pool_destroy(set->pool);
        __atomic_sub_fetch(&live_sets, 1, __ATOMIC_SEQ_CST);
    }
}

int jwt_keyset_count(const jwt_keyset_t *set)
{
    return set->keys->nelts;
}

const unsigned char *jwt_keyset_digest(const jwt_keyset_t *set)
{
    return set->digest;
}

const jwt_key_t *jwt_keyset_key(const jwt_keyset_t *set, int i)
{
    return APR_ARRAY_IDX(set->keys, i, const jwt_key_t *);
}

const jwt_keyindex_t *jwt_keyset_index(const jwt_keyset_t *set)
{
    return set->index;
}

/* ---------------------------------------------------------------- */
/* the ring: left-right                                             */

/* The ticket of an acquire that found the ring empty: holds nothing. */
#define TICKET_NONE 2u

struct jwt_keyring {
    jwt_keyset_t *slot[2];
    apr_uint32_t readers[2];
    apr_uint32_t active;                /* 0 or 1: the slot readers use */
    apr_uint32_t version;
};

static apr_status_t ring_cleanup(void *data)
{
    jwt_keyring_t *ring = data;

    jwt_keyset_free(ring->slot[0]);
    jwt_keyset_free(ring->slot[1]);
    ring->slot[0] = ring->slot[1] = NULL;
    return APR_SUCCESS;
}

jwt_keyring_t *jwt_keyring_create(apr_pool_t *p)
{
    jwt_keyring_t *ring = apr_pcalloc(p, sizeof(*ring));

    apr_pool_cleanup_register(p, ring, ring_cleanup, apr_pool_cleanup_null);
    return ring;
}

/* Until no reader is left in slot i.  Readers hold a set for one
 * signature check, so this is short: yield first, then sleep a little. */
static void wait_readers(jwt_keyring_t *ring, unsigned i)
{
    unsigned spins = 0;

    while (__atomic_load_n(&ring->readers[i], __ATOMIC_SEQ_CST) != 0) {
        if (++spins < 64) {
            apr_thread_yield();
        }
        else {
            apr_sleep(50);
        }
    }
}

void jwt_keyring_publish(jwt_keyring_t *ring, jwt_keyset_t *set)
{
    unsigned old = __atomic_load_n(&ring->active, __ATOMIC_SEQ_CST);
    unsigned idle = 1 - old;
    jwt_keyset_t *gone;

    /* readers that read the flip before last and registered in the idle
     * slot too late see it is not active and leave; none uses it */
    wait_readers(ring, idle);
    __atomic_store_n(&ring->slot[idle], set, __ATOMIC_RELEASE);
    __atomic_store_n(&ring->active, idle, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&ring->version, 1, __ATOMIC_SEQ_CST);
    /* a reader that saw the old slot active after registering there is
     * counted (sequential consistency: its increment comes before its
     * re-check, our flip before this load) */
    wait_readers(ring, old);
    gone = ring->slot[old];
    __atomic_store_n(&ring->slot[old], NULL, __ATOMIC_RELEASE);
    jwt_keyset_free(gone);
}

void (*jwt_test_ring_stall)(void);

const jwt_keyset_t *jwt_keyring_acquire(jwt_keyring_t *ring,
                                        unsigned *ticket)
{
    const jwt_keyset_t *set;
    unsigned i;

    for (;;) {
        i = __atomic_load_n(&ring->active, __ATOMIC_SEQ_CST);
        if (jwt_test_ring_stall) {
            jwt_test_ring_stall();
        }
        __atomic_add_fetch(&ring->readers[i], 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&ring->active, __ATOMIC_SEQ_CST) == i) {
            break;
        }
        /* the writer flipped meanwhile: this slot may be refilled */
        __atomic_sub_fetch(&ring->readers[i], 1, __ATOMIC_SEQ_CST);
    }
    set = __atomic_load_n(&ring->slot[i], __ATOMIC_ACQUIRE);
    if (!set) {
        __atomic_sub_fetch(&ring->readers[i], 1, __ATOMIC_SEQ_CST);
        *ticket = TICKET_NONE;
        return NULL;
    }
    *ticket = i;
    return set;
}

void jwt_keyring_release(jwt_keyring_t *ring, unsigned ticket)
{
    if (ticket < 2) {
        __atomic_sub_fetch(&ring->readers[ticket], 1, __ATOMIC_SEQ_CST);
    }
}

apr_uint32_t jwt_keyring_version(const jwt_keyring_t *ring)
{
    return __atomic_load_n(&ring->version, __ATOMIC_SEQ_CST);
}
