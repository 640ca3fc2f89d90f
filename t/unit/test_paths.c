/*
 * test_paths.c: claim paths and scopes of jose/claims.c (Require
 * jwt-claim path, Require jwt-scope, the jwt_claim and jwt_claims
 * expression functions), TAP output.  Paths come from configuration,
 * claims from the token: the tables hold the shapes Keycloak, Entra ID,
 * Auth0 and Okta issue, then hostile claims.  Claims are read by the
 * scanner (jwt_claims_parse) as the module reads them; each row prints
 * what it got beside what it expected.
 */
#include <stdlib.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "jose.h"
#include "tap.h"

static apr_pool_t *pool;

/* The claims of text, or NULL (and a failed test) when it is refused. */
static const jwt_claims_t *parse(const char *text)
{
    jwt_claims_t *c = apr_pcalloc(pool, sizeof(*c));

    if (!jwt_claims_parse(c, pool, text, strlen(text))) {
        ok(0, "claims parse: %.60s", text);
        return NULL;
    }
    return c;
}

/* A path that must parse. */
static const jwt_path_t *path(const char *text)
{
    const char *err = NULL;
    const jwt_path_t *pa = jwt_path_parse(pool, text, &err);

    if (!pa) {
        ok(0, "path parse %s: %s", text, err);
    }
    return pa;
}

/* words separated by '|' ("" is none) */
static apr_array_header_t *words(const char *s)
{
    apr_array_header_t *a = apr_array_make(pool, 4, sizeof(const char *));
    char *copy = apr_pstrdup(pool, s), *last, *w;

    for (w = apr_strtok(copy, "|", &last); w; w = apr_strtok(NULL, "|",
                                                             &last)) {
        APR_ARRAY_PUSH(a, const char *) = w;
    }
    return a;
}

static const char *joined(const apr_array_header_t *a)
{
    const char *s = "";
    int i;

    for (i = 0; i < a->nelts; i++) {
        s = apr_pstrcat(pool, s, i ? "|" : "",
                        APR_ARRAY_IDX(a, i, const char *), NULL);
    }
    return s;
}

/* The shapes of the issuers' tokens. */
#define KEYCLOAK "{\"sub\":\"k\",\"realm_access\":{\"roles\":" \
    "[\"offline_access\",\"admin\"]},\"resource_access\":{\"account\":" \
    "{\"roles\":[\"manage-account\",\"view-profile\"]},\"api\":" \
    "{\"roles\":[\"writer\"]}},\"scope\":\"openid profile email\"}"
#define ENTRA "{\"sub\":\"e\",\"scp\":\"User.Read Files.ReadWrite\"," \
    "\"roles\":[\"Task.Write\",\"Task.Read\"],\"tid\":\"t1\"}"
#define AUTH0 "{\"sub\":\"a\",\"https://example.com/roles\":[\"editor\"]," \
    "\"https://example\":{\"com/roles\":[\"nested\"]}," \
    "\"permissions\":[\"read:reports\"],\"scope\":\"openid read:reports\"}"
#define OKTA "{\"sub\":\"o\",\"scp\":[\"openid\",\"email\"]," \
    "\"groups\":[\"Everyone\",\"Admins\"]}"

/* ---------------------------------------------------------------- */
/* jwt_path_parse                                                   */

static void test_parse(void)
{
    static const struct {
        const char *text;
        int nseg;               /* 0: refused */
        const char *err;        /* a part of the error */
    } rows[] = {
        { "roles", 1, NULL },
        { "realm_access.roles", 2, NULL },
        { "resource_access.account.roles", 3, NULL },
        { "https://example.com/roles", 2, NULL },
        { "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.A.B.C.D.E.F",
          32, NULL },
        { "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.A.B.C.D.E.F.G",
          0, "more than 32 segments" },
        { "", 0, "empty claim path" },
        { "a..b", 0, "empty segment" },
        { ".a", 0, "empty segment" },
        { "a.", 0, "empty segment" },
        { ".", 0, "empty segment" },
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *err = NULL;
        const jwt_path_t *pa = jwt_path_parse(pool, rows[i].text, &err);
        int got = pa ? pa->nseg : 0;

        ok(got == rows[i].nseg
           && (pa ? !strcmp(pa->text, rows[i].text)
               : err && strstr(err, rows[i].err) != NULL),
           "parse \"%s\": got %d segments (%s), want %d (%s)", rows[i].text,
           got, err ? err : "-", rows[i].nseg,
           rows[i].err ? rows[i].err : "-");
    }
    ok(jwt_path_parse(pool, NULL, &(const char *){ NULL }) == NULL,
       "parse NULL: refused");
}

/* ---------------------------------------------------------------- */
/* jwt_path_matches                                                 */

static void test_matches(void)
{
    static const struct {
        const char *json, *path, *values;
        int want;
    } rows[] = {
        /* Keycloak */
        { KEYCLOAK, "realm_access.roles", "admin", 1 },
        { KEYCLOAK, "realm_access.roles", "user|offline_access", 1 },
        { KEYCLOAK, "realm_access.roles", "user", 0 },
        { KEYCLOAK, "resource_access.account.roles", "view-profile", 1 },
        { KEYCLOAK, "resource_access.account.roles", "writer", 0 },
        { KEYCLOAK, "resource_access.api.roles", "writer", 1 },
        { KEYCLOAK, "resource_access.missing.roles", "writer", 0 },
        { KEYCLOAK, "realm_access", "admin", 0 },
        { KEYCLOAK, "realm_access.roles.admin", "admin", 0 },
        { KEYCLOAK, "roles", "admin", 0 },
        /* Entra ID */
        { ENTRA, "roles", "Task.Read", 1 },
        { ENTRA, "roles", "Task", 0 },
        { ENTRA, "tid", "t1", 1 },
        { ENTRA, "scp", "User.Read", 0 },          /* a string, not words */
        { ENTRA, "scp", "User.Read Files.ReadWrite", 1 },
        /* Auth0: the exact top-level name wins over the nested walk */
        { AUTH0, "https://example.com/roles", "editor", 1 },
        { AUTH0, "https://example.com/roles", "nested", 0 },
        { "{\"https://example\":{\"com/roles\":[\"nested\"]}}",
          "https://example.com/roles", "nested", 1 },
        { AUTH0, "permissions", "read:reports", 1 },
        /* Okta */
        { OKTA, "groups", "Admins", 1 },
        { OKTA, "groups", "admins", 0 },
        /* a top-level name with dots wins even when the walk would
         * reach something else */
        { "{\"a.b\":\"top\",\"a\":{\"b\":\"nested\"}}", "a.b", "top", 1 },
        { "{\"a.b\":\"top\",\"a\":{\"b\":\"nested\"}}", "a.b", "nested", 0 },
        /* scalars as their JSON text, as jwt_claim_matches */
        { "{\"a\":{\"n\":1}}", "a.n", "1", 1 },
        { "{\"a\":{\"n\":1.0}}", "a.n", "1", 0 },
        { "{\"a\":{\"t\":true}}", "a.t", "true", 1 },
        { "{\"a\":{\"t\":false}}", "a.t", "true", 0 },
        { "{\"a\":{\"z\":null}}", "a.z", "null", 1 },
        { "{\"a\":{\"o\":{\"x\":1}}}", "a.o", "{\"x\":1}", 0 },
        /* arrays on the way fan out, one level a step */
        { "{\"groups\":[{\"name\":\"ops\"},{\"name\":\"dev\"}]}",
          "groups.name", "dev", 1 },
        { "{\"groups\":[{\"name\":\"ops\"},{\"name\":\"dev\"}]}",
          "groups.name", "qa", 0 },
        { "{\"g\":[{\"n\":[\"a\",\"b\"]},{\"n\":[\"c\"]}]}", "g.n", "c", 1 },
        { "{\"g\":[[{\"n\":\"a\"}]]}", "g.n", "a", 0 },
        { "{\"g\":[1,\"x\",null,{\"n\":\"a\"}]}", "g.n", "a", 1 },
        { "{\"a\":{\"b\":[[\"x\"]]}}", "a.b", "x", 0 },
        /* non-objects on the path reach nothing */
        { "{\"a\":\"b.c\"}", "a.b", "c", 0 },
        { "{\"a\":1}", "a.b", "1", 0 },
        { "{\"a\":null}", "a.b", "null", 0 },
        { "{\"a\":{\"b\":\"x\"}}", "a.b.c", "x", 0 },
        /* names compare exactly */
        { "{\"a\":{\"B\":\"x\"}}", "a.b", "x", 0 },
        /* only the top-level name is tried whole: a nested name with a
         * dot is out of reach */
        { "{\"a\":{\"b.c\":\"x\"}}", "a.b.c", "x", 0 },
        { "{\"a\":{\"b\":{\"c\":\"x\"}}}", "a.b.c", "x", 1 },
        { "{}", "a", "x", 0 },
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const jwt_claims_t *c = parse(rows[i].json);
        const jwt_path_t *pa = path(rows[i].path);
        int got;

        if (!c || !pa) {
            continue;
        }
        got = jwt_path_matches(pool, c, pa, words(rows[i].values));
        ok(got == rows[i].want, "match %s = %s in %.50s: got %d, want %d",
           rows[i].path, rows[i].values, rows[i].json, got, rows[i].want);
    }
}

/* ---------------------------------------------------------------- */
/* jwt_path_text and jwt_path_list                                  */

static void test_text_list(void)
{
    static const struct {
        const char *json, *path, *text, *list;
    } rows[] = {
        { KEYCLOAK, "realm_access.roles", "[\"offline_access\",\"admin\"]",
          "offline_access|admin" },
        { KEYCLOAK, "resource_access.account.roles",
          "[\"manage-account\",\"view-profile\"]",
          "manage-account|view-profile" },
        { KEYCLOAK, "scope", "openid profile email",
          "openid|profile|email" },
        { KEYCLOAK, "sub", "k", "k" },
        { KEYCLOAK, "nothing", "", "" },
        { KEYCLOAK, "realm_access.nothing", "", "" },
        { ENTRA, "scp", "User.Read Files.ReadWrite",
          "User.Read|Files.ReadWrite" },
        { ENTRA, "roles", "[\"Task.Write\",\"Task.Read\"]",
          "Task.Write|Task.Read" },
        { AUTH0, "https://example.com/roles", "[\"editor\"]", "editor" },
        { OKTA, "scp", "[\"openid\",\"email\"]", "openid|email" },
        /* a string element is one item, not split */
        { "{\"a\":[\"x y\",\"z\"]}", "a", "[\"x y\",\"z\"]", "x y|z" },
        /* other values as compact JSON */
        { "{\"a\":{\"n\":12,\"t\":true}}", "a", "{\"n\":12,\"t\":true}",
          "{\"n\":12,\"t\":true}" },
        { "{\"a\":{\"n\":12}}", "a.n", "12", "12" },
        { "{\"a\":{\"o\":{\"p\":[1, 2]}}}", "a.o", "{\"p\":[1,2]}",
          "{\"p\":[1,2]}" },
        { "{\"a\":[1,{\"b\":2},null]}", "a", "[1,{\"b\":2},null]",
          "1|{\"b\":2}|null" },
        { "{\"a\":{\"s\":\"x\\u00e9\"}}", "a.s", "x\xc3\xa9", "x\xc3\xa9" },
        /* a fan-out reaching several: their array */
        { "{\"g\":[{\"n\":\"ops\"},{\"n\":\"dev\"}]}", "g.n",
          "[\"ops\",\"dev\"]", "ops|dev" },
        { "{\"g\":[{\"n\":\"a b\"},{\"n\":[\"c\"]}]}", "g.n",
          "[\"a b\",[\"c\"]]", "a|b|c" },
        { "{\"g\":[{\"n\":\"ops\"},{\"x\":1}]}", "g.n", "ops", "ops" },
        /* blanks around words */
        { "{\"s\":\"  a   b  \"}", "s", "  a   b  ", "a|b" },
        { "{\"s\":\"\"}", "s", "", "" },
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const jwt_claims_t *c = parse(rows[i].json);
        const jwt_path_t *pa = path(rows[i].path);
        const char *text, *list;

        if (!c || !pa) {
            continue;
        }
        text = jwt_path_text(pool, c, pa);
        list = joined(jwt_path_list(pool, c, pa));
        ok(!strcmp(text, rows[i].text), "jwt_claim %s in %.50s: got '%s', "
           "want '%s'", rows[i].path, rows[i].json, text, rows[i].text);
        ok(!strcmp(list, rows[i].list), "jwt_claims %s in %.50s: got '%s', "
           "want '%s'", rows[i].path, rows[i].json, list, rows[i].list);
    }
}

/* ---------------------------------------------------------------- */
/* scopes                                                           */

static void test_scopes(void)
{
    static const struct {
        const char *json, *granted, *required;
        int want;
    } rows[] = {
        { KEYCLOAK, "openid|profile|email", "profile", 1 },
        { KEYCLOAK, "openid|profile|email", "email|openid", 1 },
        { KEYCLOAK, "openid|profile|email", "email|admin", 0 },
        { ENTRA, "User.Read|Files.ReadWrite", "Files.ReadWrite", 1 },
        { ENTRA, "User.Read|Files.ReadWrite", "Files.Read", 0 },
        { AUTH0, "openid|read:reports", "read:reports", 1 },
        { OKTA, "openid|email", "email", 1 },
        { OKTA, "openid|email", "profile", 0 },
        /* both claims: the union */
        { "{\"scope\":\"a b\",\"scp\":[\"c\"]}", "a|b|c", "a|c", 1 },
        { "{\"scope\":\"a\",\"scp\":\"b  c\"}", "a|b|c", "c|a", 1 },
        /* no scope at all: nothing is granted */
        { "{}", "", "a", 0 },
        { "{\"scope\":\"\"}", "", "a", 0 },
        /* wrong types grant nothing */
        { "{\"scope\":[\"a\"]}", "", "a", 0 },
        { "{\"scope\":{\"a\":1}}", "", "a", 0 },
        { "{\"scp\":1}", "", "1", 0 },
        { "{\"scp\":[1,true,null,{\"a\":1},[\"a\"],\"b\"]}", "b", "a", 0 },
        /* an array element is one scope, not split */
        { "{\"scp\":[\"a b\"]}", "a b", "a", 0 },
        /* exact comparison */
        { "{\"scope\":\"Read\"}", "Read", "read", 0 },
        { "{\"scope\":\"reader\"}", "reader", "read", 0 },
        { "{\"scope\":\"read\\twrite\"}", "read\twrite", "read", 0 },
        /* a nested scope claim is not looked at */
        { "{\"realm\":{\"scope\":\"a\"}}", "", "a", 0 },
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const jwt_claims_t *c = parse(rows[i].json);
        apr_array_header_t *granted;
        const char *got;
        int grant;

        if (!c) {
            continue;
        }
        granted = jwt_claim_scopes(pool, c);
        got = joined(granted);
        grant = jwt_scopes_grant(granted, words(rows[i].required));
        ok(!strcmp(got, rows[i].granted) && grant == rows[i].want,
           "scopes of %.50s: got '%s' %s '%s' (%d), want '%s' (%d)",
           rows[i].json, got, grant ? "grants" : "refuses",
           rows[i].required, grant, rows[i].granted, rows[i].want);
    }
}

/* ---------------------------------------------------------------- */
/* hostile claims                                                   */

/* Build a string of n copies of piece between head and tail. */
static char *repeat(const char *head, const char *piece, int n,
                    const char *tail)
{
    size_t hl = strlen(head), pl = strlen(piece), tl = strlen(tail);
    char *s = apr_palloc(pool, hl + pl * n + tl + 1), *o = s;
    int i;

    memcpy(o, head, hl);
    o += hl;
    for (i = 0; i < n; i++, o += pl) {
        memcpy(o, piece, pl);
    }
    memcpy(o, tail, tl + 1);
    return s;
}

static void test_hostile(void)
{
    const jwt_claims_t *c;
    const jwt_path_t *pa;
    const char *text;
    char *deep, *closing;
    apr_array_header_t *reached;
    int n;

    /* 2,000 nested objects (the scanner's depth): a 32-segment path
     * walks 31 of them and no further */
    closing = repeat("", "}", 2000, "");
    deep = apr_pstrcat(pool, repeat("{", "\"a\":{", 1999, "\"a\":\"end\""),
                       closing, NULL);
    if ((c = parse(deep))
        && (pa = path("a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a"
                      ".a.a.a.a.a.a"))) {
        reached = apr_array_make(pool, 1, sizeof(json_t *));
        n = jwt_path_values(pool, c, pa, reached);
        ok(n == 1 && json_is_object(APR_ARRAY_IDX(reached, 0, json_t *)),
           "2,000-deep objects, 32 segments: one object reached (got %d)",
           n);
        ok(!jwt_path_matches(pool, c, pa, words("end")),
           "2,000-deep objects: the end is out of a path's reach");
    }
    /* a deep array under a member: fanned one level, not entered */
    deep = apr_pstrcat(pool, repeat("{\"a\":", "[", 1500, "{\"b\":1}"),
                       repeat("", "]", 1500, "}"), NULL);
    if ((c = parse(deep)) && (pa = path("a.b"))) {
        ok(!jwt_path_matches(pool, c, pa, words("1")),
           "1,500 nested arrays: not walked into");
        ok(!strcmp(jwt_path_text(pool, c, pa), ""),
           "1,500 nested arrays: jwt_claim is empty");
    }
    /* a huge array of objects: the last element is still reached, each
     * once */
    text = apr_pstrcat(pool, repeat("{\"g\":[", "{\"n\":\"x\"},", 100000,
                                    "{\"n\":\"last\"}]}"), NULL);
    if ((c = parse(text)) && (pa = path("g.n"))) {
        reached = apr_array_make(pool, 1, sizeof(json_t *));
        n = jwt_path_values(pool, c, pa, reached);
        ok(n == 100001, "100,001 objects in an array: each reached once "
           "(got %d)", n);
        ok(jwt_path_matches(pool, c, pa, words("last")),
           "100,001 objects in an array: the last matches");
        ok(jwt_path_list(pool, c, pa)->nelts == 100001,
           "100,001 objects in an array: jwt_claims lists them all");
    }
    /* a huge scp array */
    text = apr_pstrcat(pool, repeat("{\"scp\":[", "\"s\",", 100000,
                                    "\"wanted\"]}"), NULL);
    if ((c = parse(text))) {
        apr_array_header_t *g = jwt_claim_scopes(pool, c);

        ok(g->nelts == 100001 && jwt_scopes_grant(g, words("wanted|s")),
           "100,001 scp elements: the last is granted (got %d)", g->nelts);
    }
    /* a scope string of 100,000 blanks */
    text = apr_pstrcat(pool, repeat("{\"scope\":\"", " ", 100000, "x\"}"),
                       NULL);
    if ((c = parse(text))) {
        apr_array_header_t *g = jwt_claim_scopes(pool, c);

        ok(g->nelts == 1 && jwt_scopes_grant(g, words("x")),
           "100,000 blanks then a scope: one word (got %d)", g->nelts);
    }
    /* a member named like the path's first segment but a string: no
     * walk; a member named by the whole dotted path: taken as it is */
    if ((c = parse("{\"realm_access\":\"{\\\"roles\\\":[\\\"admin\\\"]}\"}"))
        && (pa = path("realm_access.roles"))) {
        ok(!jwt_path_matches(pool, c, pa, words("admin")),
           "a string holding JSON is not walked into");
    }
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_parse();
    test_matches();
    test_text_list();
    test_scopes();
    test_hostile();
    apr_pool_destroy(pool);
    return done_testing();
}
