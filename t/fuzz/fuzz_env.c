/*
 * fuzz_env.c: the claims exported as environment variables
 * (jwt_claims_env) on any claims the scanner accepts, against an
 * independent model: a claim is exported as JWT_CLAIM_<name> exactly when
 * its name is one or more of A-Z a-z 0-9 _ and no other claim's name
 * equals it ignoring ASCII case; every other claim is in the skipped
 * list.  Exported names never equal each other ignoring case, and each
 * value is the claim's jwt_member_text.  Then jwt_claims_user and
 * jwt_claim_matches on a few names, checked where their answer is
 * certain.  Any difference aborts.
 */
#include <stdio.h>

#include "fuzz_common.h"

#define PREFIX "JWT_CLAIM_"

static int name_char(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')
           || (ch >= '0' && ch <= '9') || ch == '_';
}

static unsigned char lower(unsigned char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (unsigned char)(ch + 'a' - 'A') : ch;
}

/* Equal ignoring ASCII case, as httpd's tables compare names. */
static int same_name(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t i;

    if (alen != blen) {
        return 0;
    }
    for (i = 0; i < alen; i++) {
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) {
            return 0;
        }
    }
    return 1;
}

/* The model's verdict on member i: exported or not. */
static int should_export(const jwt_claims_t *c, int i)
{
    const jwt_member_t *m = &c->m[i];
    const char *name = c->base + m->name;
    size_t k;
    int j;

    if (m->name_len == 0) {
        return 0;
    }
    for (k = 0; k < m->name_len; k++) {
        if (!name_char((unsigned char)name[k])) {
            return 0;
        }
    }
    for (j = 0; j < c->n; j++) {
        if (j != i && same_name(name, m->name_len, c->base + c->m[j].name,
                                c->m[j].name_len)) {
            return 0;
        }
    }
    return 1;
}

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "jwt_claims_env: %s: %s\n", what, detail ? detail : "");
    abort();
}

static void check_env(apr_pool_t *p, const jwt_claims_t *c)
{
    apr_array_header_t *skipped = NULL, *vars, *again;
    int i, j, e = 0, s = 0;

    vars = jwt_claims_env(p, c, PREFIX, &skipped);
    if (!skipped || vars->nelts + skipped->nelts != c->n) {
        fail("exported + skipped is not the number of claims", NULL);
    }
    for (i = 0; i < vars->nelts; i++) {
        const jwt_env_t *v = &APR_ARRAY_IDX(vars, i, jwt_env_t);
        const char *n = v->name + sizeof(PREFIX) - 1;
        size_t k, len;

        if (strncmp(v->name, PREFIX, sizeof(PREFIX) - 1) || !*n) {
            fail("name without the prefix or empty", v->name);
        }
        len = strlen(n);
        for (k = 0; k < len; k++) {
            if (!name_char((unsigned char)n[k])) {
                fail("name outside [A-Za-z0-9_]", v->name);
            }
        }
        for (j = 0; j < i; j++) {
            const char *o = APR_ARRAY_IDX(vars, j, jwt_env_t).name;

            if (same_name(o, strlen(o), v->name, strlen(v->name))) {
                fail("two names equal ignoring case", v->name);
            }
        }
    }
    /* in document order, each claim where the model puts it */
    for (i = 0; i < c->n; i++) {
        const jwt_member_t *m = &c->m[i];
        const char *name = c->base + m->name;

        if (should_export(c, i)) {
            const jwt_env_t *v;
            const char *text = jwt_member_text(p, c, m);

            if (e >= vars->nelts) {
                fail("claim not exported", apr_pstrmemdup(p, name,
                                                          m->name_len));
            }
            v = &APR_ARRAY_IDX(vars, e, jwt_env_t);
            e++;
            if (strlen(v->name) != sizeof(PREFIX) - 1 + m->name_len
                || memcmp(v->name + sizeof(PREFIX) - 1, name, m->name_len)) {
                fail("exported under another name", v->name);
            }
            if (!text || strcmp(v->value, text)) {
                fail("value is not jwt_member_text", v->name);
            }
        }
        else {
            const char *sk;

            if (s >= skipped->nelts) {
                fail("claim neither exported nor skipped",
                     apr_pstrmemdup(p, name, m->name_len));
            }
            sk = APR_ARRAY_IDX(skipped, s, const char *);
            s++;
            if (strlen(sk) != m->name_len || memcmp(sk, name, m->name_len)) {
                fail("skipped list names another claim", sk);
            }
        }
    }
    /* without the list: the same variables */
    again = jwt_claims_env(p, c, PREFIX, NULL);
    if (again->nelts != vars->nelts) {
        fail("another result without the skipped list", NULL);
    }
    for (i = 0; i < vars->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(again, i, jwt_env_t).name,
                   APR_ARRAY_IDX(vars, i, jwt_env_t).name)
            || strcmp(APR_ARRAY_IDX(again, i, jwt_env_t).value,
                      APR_ARRAY_IDX(vars, i, jwt_env_t).value)) {
            fail("another variable without the skipped list",
                 APR_ARRAY_IDX(vars, i, jwt_env_t).name);
        }
    }
}

/* jwt_claims_user and jwt_claim_matches on the claim called name. */
static void check_name(apr_pool_t *p, const jwt_claims_t *c, const char *name)
{
    const jwt_member_t *m = jwt_claims_get(c, name);
    apr_array_header_t *none = apr_array_make(p, 1, sizeof(const char *));
    apr_array_header_t *one = apr_array_make(p, 1, sizeof(const char *));
    const char *user = jwt_claims_user(p, c, name), *text;

    if (jwt_claim_matches(p, c, name, none)) {
        fail("matches with no value", name);
    }
    if (!m) {
        APR_ARRAY_PUSH(one, const char *) = "x";
        if (user || jwt_claim_matches(p, c, name, one)) {
            fail("an absent claim gives a user or matches", name);
        }
        return;
    }
    text = jwt_member_text(p, c, m);
    APR_ARRAY_PUSH(one, const char *) = text ? text : "";
    switch (m->type) {
    case JWT_JSON_STRING:
    case JWT_JSON_INTEGER:
        if (m->type == JWT_JSON_STRING && m->value_len == 0 ? user != NULL
            : (!user || strcmp(user, text))) {
            fail("user is not the claim's text", name);
        }
        /* fall through */
    case JWT_JSON_TRUE:
    case JWT_JSON_FALSE:
    case JWT_JSON_NULL:
        if (!jwt_claim_matches(p, c, name, one)) {
            fail("a scalar does not match its own text", name);
        }
        break;
    case JWT_JSON_REAL:
    case JWT_JSON_OBJECT:
        if (jwt_claim_matches(p, c, name, one)) {
            fail("a real or object matches", name);
        }
        break;
    default:
        jwt_claim_matches(p, c, name, one);     /* must not crash */
        break;
    }
    if (m->type != JWT_JSON_STRING && m->type != JWT_JSON_INTEGER && user) {
        fail("a user from neither string nor integer", name);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    jwt_claims_t c;

    fuzz_init();
    apr_pool_create(&p, fuzz_root);
    if (jwt_claims_parse(&c, p, (const char *)data, size)) {
        check_env(p, &c);
        check_name(p, &c, "role");
        check_name(p, &c, "sub");
        if (c.n > 0) {
            check_name(p, &c, apr_pstrmemdup(p, c.base + c.m[0].name,
                                             c.m[0].name_len));
            check_name(p, &c, apr_pstrmemdup(p, c.base + c.m[c.n - 1].name,
                                             c.m[c.n - 1].name_len));
        }
    }
    apr_pool_destroy(p);
    return 0;
}
