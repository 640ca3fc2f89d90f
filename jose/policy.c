/*
 * policy.c: the one definition of a policy's identity.
 *
 * members[] lists every member of jwt_policy_t with how it is compared
 * (and key_members[] what makes two keys of a policy the same);
 * jwt_policy_same() and jwt_policy_fingerprint() both walk it, so the
 * thread cache (same), the shared tier (fingerprint) and the module's
 * reuse of a result across subrequests (same) agree by construction.
 * t/unit/test_policy.c has a row per member, and t/unit/policy_drop.sh
 * shows that each row fails when its member is left out of the table.
 *
 * No httpd header: APR, OpenSSL.
 */
#include <stddef.h>
#include <string.h>

#include <openssl/evp.h>

#include "internal.h"
#include "policy.h"
#include "digest.h"

typedef enum {
    KIND_BITS,                  /* unsigned */
    KIND_INT64,                 /* apr_int64_t */
    KIND_FP,                    /* unsigned char[32] */
    KIND_STRING,                /* const char *, NULL allowed */
    KIND_STRINGS,               /* apr_array_header_t * of const char * */
    KIND_KEYS,                  /* apr_array_header_t * of jwt_key_t *,
                                 * each compared by key_members[] */
    KIND_SOURCES                /* apr_array_header_t * of
                                 * jwt_keysource_t: the same ring and bound
                                 * issuer; fingerprinted by the issuer and
                                 * the digest of the ring's current set */
} kind_e;

typedef struct {
    const char *name;
    size_t offset;
    kind_e kind;
} member_t;

#define MEMBER(t, m, k) { #m, offsetof(t, m), k }
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* One line a member (t/unit/policy_drop.sh deletes them one by one). */
static const member_t members[] = {
    MEMBER(jwt_policy_t, algs, KIND_BITS),
    MEMBER(jwt_policy_t, keys, KIND_KEYS),
    MEMBER(jwt_policy_t, issuers, KIND_STRINGS),
    MEMBER(jwt_policy_t, audiences, KIND_STRINGS),
    MEMBER(jwt_policy_t, leeway, KIND_INT64),
    MEMBER(jwt_policy_t, typ, KIND_STRING),
    MEMBER(jwt_policy_t, user_claim, KIND_STRING),
    MEMBER(jwt_policy_t, token_header, KIND_STRING),
    MEMBER(jwt_policy_t, sources, KIND_SOURCES),
};

/* What makes a key of a policy the same key: its material (fp names it,
 * and its type with it, without giving it away), the algorithms it is
 * bound to and its configured kid. */
static const member_t key_members[] = {
    MEMBER(struct jwt_key, fp, KIND_FP),
    MEMBER(struct jwt_key, algs, KIND_BITS),
    MEMBER(struct jwt_key, kid, KIND_STRING),
};

#define FIELD(obj, m, type) (*(type const *)((const char *)(obj) \
                                             + (m)->offset))

static int nelts(const apr_array_header_t *arr)
{
    return arr ? arr->nelts : 0;
}

static int same_string(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

static int same_fields(const void *a, const void *b, const member_t *table,
                       size_t n);

/* Element i of the arrays x and y of a KIND_STRINGS, KIND_KEYS or
 * KIND_SOURCES member the same? */
static int same_element(kind_e kind, const apr_array_header_t *x,
                        const apr_array_header_t *y, int i)
{
    const void *p, *q;

    if (kind == KIND_SOURCES) {
        const jwt_keysource_t *s = &APR_ARRAY_IDX(x, i, jwt_keysource_t);
        const jwt_keysource_t *t = &APR_ARRAY_IDX(y, i, jwt_keysource_t);

        return s->ring == t->ring && same_string(s->issuer, t->issuer);
    }
    p = APR_ARRAY_IDX(x, i, const void *);
    q = APR_ARRAY_IDX(y, i, const void *);
    return kind == KIND_KEYS
           ? p == q || same_fields(p, q, key_members, COUNT(key_members))
           : same_string(p, q);
}

static int same_member(const void *a, const void *b, const member_t *m)
{
    const apr_array_header_t *x, *y;
    int i;

    switch (m->kind) {
    case KIND_BITS:
        return FIELD(a, m, unsigned) == FIELD(b, m, unsigned);
    case KIND_INT64:
        return FIELD(a, m, apr_int64_t) == FIELD(b, m, apr_int64_t);
    case KIND_FP:
        return !memcmp((const char *)a + m->offset,
                       (const char *)b + m->offset, 32);
    case KIND_STRING:
        return same_string(FIELD(a, m, const char *),
                           FIELD(b, m, const char *));
    case KIND_STRINGS:
    case KIND_KEYS:
    case KIND_SOURCES:
        x = FIELD(a, m, const apr_array_header_t *);
        y = FIELD(b, m, const apr_array_header_t *);
        if (x == y) {
            return 1;
        }
        if (nelts(x) != nelts(y)) {
            return 0;
        }
        for (i = 0; i < nelts(x); i++) {
            if (!same_element(m->kind, x, y, i)) {
                return 0;
            }
        }
        return 1;
    }
    return 0;
}

static int same_fields(const void *a, const void *b, const member_t *table,
                       size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (!same_member(a, b, &table[i])) {
            return 0;
        }
    }
    return 1;
}

/* Equal bytes are equal members (what a cache entry's copy of the
 * request's policy usually is: the same pointers and numbers), so the
 * table is walked only when some differ; padding that differs only
 * sends the comparison to the walk. */
int jwt_policy_same(const jwt_policy_t *a, const jwt_policy_t *b)
{
    return a == b || !memcmp(a, b, sizeof(*a))
           || same_fields(a, b, members, COUNT(members));
}

/* ---------------------------------------------------------------- */
/* the fingerprint: every item length-prefixed, so no two policies   */
/* give the same byte stream                                         */

static void fp_bytes(EVP_MD_CTX *md, const void *data, size_t len)
{
    unsigned char n[4] = { (unsigned char)(len >> 24),
                           (unsigned char)(len >> 16),
                           (unsigned char)(len >> 8), (unsigned char)len };

    EVP_DigestUpdate(md, n, sizeof(n));
    EVP_DigestUpdate(md, data, len);
}

static void fp_uint64(EVP_MD_CTX *md, apr_uint64_t v)
{
    unsigned char b[8];
    int i;

    for (i = 0; i < 8; i++) {
        b[i] = (unsigned char)(v >> (56 - 8 * i));
    }
    fp_bytes(md, b, sizeof(b));
}

static void fp_string(EVP_MD_CTX *md, const char *s)
{
    if (s) {
        fp_bytes(md, "s", 1);
        fp_bytes(md, s, strlen(s));
    }
    else {
        fp_bytes(md, "-", 1);
    }
}

static void fp_fields(EVP_MD_CTX *md, const void *obj,
                      const member_t *table, size_t n)
{
    const apr_array_header_t *arr;
    size_t j;
    int i;

    for (j = 0; j < n; j++) {
        const member_t *m = &table[j];

        fp_string(md, m->name);
        switch (m->kind) {
        case KIND_BITS:
            fp_uint64(md, FIELD(obj, m, unsigned));
            break;
        case KIND_INT64:
            fp_uint64(md, (apr_uint64_t)FIELD(obj, m, apr_int64_t));
            break;
        case KIND_FP:
            fp_bytes(md, (const char *)obj + m->offset, 32);
            break;
        case KIND_STRING:
            fp_string(md, FIELD(obj, m, const char *));
            break;
        case KIND_STRINGS:
        case KIND_KEYS:
            arr = FIELD(obj, m, const apr_array_header_t *);
            fp_uint64(md, (apr_uint64_t)nelts(arr));
            for (i = 0; i < nelts(arr); i++) {
                const void *e = APR_ARRAY_IDX(arr, i, const void *);

                if (m->kind == KIND_KEYS) {
                    fp_fields(md, e, key_members, COUNT(key_members));
                }
                else {
                    fp_string(md, e);
                }
            }
            break;
        case KIND_SOURCES:
            arr = FIELD(obj, m, const apr_array_header_t *);
            fp_uint64(md, (apr_uint64_t)nelts(arr));
            for (i = 0; i < nelts(arr); i++) {
                const jwt_keysource_t *s = &APR_ARRAY_IDX(arr, i,
                                                          jwt_keysource_t);
                const jwt_keyset_t *set;
                unsigned ticket;

                fp_string(md, s->issuer);
                /* what the ring holds now: an entry made under another
                 * set never matches (the ring's address would mean
                 * nothing in another process) */
                set = jwt_keyring_acquire(s->ring, &ticket);
                if (set) {
                    fp_bytes(md, jwt_keyset_digest(set), 32);
                }
                else {
                    fp_string(md, NULL);
                }
                jwt_keyring_release(s->ring, ticket);
            }
            break;
        }
    }
}

int jwt_policy_index_keys(jwt_policy_t *pol, apr_pool_t *p)
{
    jwt_keyindex_t *ix = jwt_keyindex_make(p, pol->keys);

    pol->key_index = ix;
    return ix != NULL;
}

apr_uint64_t jwt_policy_keys_version(const jwt_policy_t *pol)
{
    apr_uint64_t v = 0;
    int i;

    for (i = 0; i < nelts(pol->sources); i++) {
        v += jwt_keyring_version(APR_ARRAY_IDX(pol->sources, i,
                                               jwt_keysource_t).ring);
    }
    return v;
}

int jwt_policy_fingerprint(unsigned char out[32], const jwt_policy_t *pol)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok;

    /* a NULL digest (none to be had) fails the init */
    ok = md && EVP_DigestInit_ex(md, jwt_md_sha256(), NULL);
    if (ok) {
        fp_string(md, "mod_jwtauth policy v2");
        fp_fields(md, pol, members, COUNT(members));
        ok = EVP_DigestFinal_ex(md, out, NULL);
    }
    EVP_MD_CTX_free(md);
    if (!ok) {
        memset(out, 0, 32);
    }
    return ok;
}
