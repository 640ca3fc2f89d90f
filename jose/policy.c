/*
 * policy.c: the one definition of a policy's identity.
 *
 * members[] lists every member of jwt_policy_t with how it is compared;
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

typedef enum {
    KIND_BITS,                  /* unsigned */
    KIND_INT64,                 /* apr_int64_t */
    KIND_STRING,                /* const char *, NULL allowed */
    KIND_STRINGS,               /* apr_array_header_t * of const char * */
    KIND_KEYS                   /* apr_array_header_t * of jwt_key_t *:
                                 * material, algorithms, kid */
} kind_e;

typedef struct {
    const char *name;
    size_t offset;
    kind_e kind;
} member_t;

#define MEMBER(m, k) { #m, offsetof(jwt_policy_t, m), k }

/* One line a member (t/unit/policy_drop.sh deletes them one by one). */
static const member_t members[] = {
    MEMBER(algs, KIND_BITS),
    MEMBER(keys, KIND_KEYS),
    MEMBER(issuer, KIND_STRING),
    MEMBER(audiences, KIND_STRINGS),
    MEMBER(leeway, KIND_INT64),
    MEMBER(typ, KIND_STRING),
    MEMBER(user_claim, KIND_STRING),
    MEMBER(token_header, KIND_STRING),
};

#define FIELD(pol, m, type) (*(type const *)((const char *)(pol) \
                                             + (m)->offset))

static int same_string(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

static int nelts(const apr_array_header_t *arr)
{
    return arr ? arr->nelts : 0;
}

static int same_key(const jwt_key_t *a, const jwt_key_t *b)
{
    return a == b
        || (a->kty == b->kty && a->algs == b->algs
            && !memcmp(a->fp, b->fp, sizeof(a->fp))
            && same_string(a->kid, b->kid));
}

static int same_member(const jwt_policy_t *a, const jwt_policy_t *b,
                       const member_t *m)
{
    const apr_array_header_t *x, *y;
    int i;

    switch (m->kind) {
    case KIND_BITS:
        return FIELD(a, m, unsigned) == FIELD(b, m, unsigned);
    case KIND_INT64:
        return FIELD(a, m, apr_int64_t) == FIELD(b, m, apr_int64_t);
    case KIND_STRING:
        return same_string(FIELD(a, m, const char *),
                           FIELD(b, m, const char *));
    case KIND_STRINGS:
    case KIND_KEYS:
        x = FIELD(a, m, const apr_array_header_t *);
        y = FIELD(b, m, const apr_array_header_t *);
        if (x == y) {
            return 1;
        }
        if (nelts(x) != nelts(y)) {
            return 0;
        }
        for (i = 0; i < nelts(x); i++) {
            if (m->kind == KIND_KEYS
                ? !same_key(APR_ARRAY_IDX(x, i, const jwt_key_t *),
                            APR_ARRAY_IDX(y, i, const jwt_key_t *))
                : !same_string(APR_ARRAY_IDX(x, i, const char *),
                               APR_ARRAY_IDX(y, i, const char *))) {
                return 0;
            }
        }
        return 1;
    }
    return 0;
}

int jwt_policy_same(const jwt_policy_t *a, const jwt_policy_t *b)
{
    size_t i;

    if (a == b) {
        return 1;
    }
    for (i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
        if (!same_member(a, b, &members[i])) {
            return 0;
        }
    }
    return 1;
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

static void fp_member(EVP_MD_CTX *md, const jwt_policy_t *pol,
                      const member_t *m)
{
    const apr_array_header_t *arr;
    int i;

    fp_string(md, m->name);
    switch (m->kind) {
    case KIND_BITS:
        fp_uint64(md, FIELD(pol, m, unsigned));
        break;
    case KIND_INT64:
        fp_uint64(md, (apr_uint64_t)FIELD(pol, m, apr_int64_t));
        break;
    case KIND_STRING:
        fp_string(md, FIELD(pol, m, const char *));
        break;
    case KIND_STRINGS:
    case KIND_KEYS:
        arr = FIELD(pol, m, const apr_array_header_t *);
        fp_uint64(md, (apr_uint64_t)nelts(arr));
        for (i = 0; i < nelts(arr); i++) {
            if (m->kind == KIND_STRINGS) {
                fp_string(md, APR_ARRAY_IDX(arr, i, const char *));
            }
            else {
                const jwt_key_t *k = APR_ARRAY_IDX(arr, i, const jwt_key_t *);

                fp_uint64(md, (apr_uint64_t)k->kty);
                fp_bytes(md, k->fp, sizeof(k->fp));
                fp_uint64(md, k->algs);
                fp_string(md, k->kid);
            }
        }
        break;
    }
}

int jwt_policy_fingerprint(unsigned char out[32], const jwt_policy_t *pol)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    size_t i;
    int ok;

    ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    if (ok) {
        fp_string(md, "mod_jwtauth policy v2");
        for (i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
            fp_member(md, pol, &members[i]);
        }
        ok = EVP_DigestFinal_ex(md, out, NULL);
    }
    EVP_MD_CTX_free(md);
    if (!ok) {
        memset(out, 0, 32);
    }
    return ok;
}
