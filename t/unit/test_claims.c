/*
 * test_claims.c: the claim decisions of jose/claims.c but the registered
 * claims (test_core.c has those), TAP output: the user a claim names,
 * Require jwt-claim, the claims exported as environment variables and
 * the typed values of issued claims.  Claims are read by the scanner
 * (jwt_claims_parse) as the module reads them, and each row prints what
 * it got beside what it expected.
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
        ok(0, "claims parse: %s", text);
        return NULL;
    }
    return c;
}

/* s printable on one TAP line: controls and bytes above 0x7e as \xNN. */
static const char *vis(const char *s)
{
    char *out = apr_palloc(pool, 4 * strlen(s) + 1), *o = out;

    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;

        if (ch < 0x20 || ch > 0x7e) {
            o += sprintf(o, "\\x%02x", ch);
        }
        else {
            *o++ = (char)ch;
        }
    }
    *o = '\0';
    return out;
}

static const char *show(const char *s)
{
    return s ? apr_pstrcat(pool, "\"", vis(s), "\"", NULL) : "NULL";
}

static int same(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

/* ---------------------------------------------------------------- */
/* jwt_claims_user                                                  */

static void test_user(void)
{
    static const struct { const char *json, *name, *want; } rows[] = {
        { "{\"sub\":\"daehan\"}", "sub", "daehan" },
        { "{\"sub\":\"d\\u00e9\\/x\"}", "sub", "d\xc3\xa9/x" },
        { "{\"sub\":\" \"}", "sub", " " },
        { "{\"sub\":\"\"}", "sub", NULL },
        { "{\"id\":42}", "id", "42" },
        { "{\"id\":-7}", "id", "-7" },
        { "{\"id\":0}", "id", "0" },
        { "{\"id\":-0}", "id", "0" },
        { "{\"id\":9223372036854775807}", "id", "9223372036854775807" },
        { "{\"id\":1.5}", "id", NULL },
        { "{\"id\":1.0}", "id", NULL },
        { "{\"id\":1e2}", "id", NULL },
        { "{\"sub\":true}", "sub", NULL },
        { "{\"sub\":false}", "sub", NULL },
        { "{\"sub\":null}", "sub", NULL },
        { "{\"sub\":[\"daehan\"]}", "sub", NULL },
        { "{\"sub\":{\"n\":\"daehan\"}}", "sub", NULL },
        { "{\"id\":1}", "sub", NULL },
        { "{\"Sub\":\"daehan\"}", "sub", NULL },
        { "{}", "sub", NULL },
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const jwt_claims_t *c = parse(rows[i].json);
        const char *got;

        if (!c) {
            continue;
        }
        got = jwt_claims_user(pool, c, rows[i].name);
        ok(same(got, rows[i].want), "user %s of %s: got %s, want %s",
           rows[i].name, vis(rows[i].json), show(got), show(rows[i].want));
    }
}

/* ---------------------------------------------------------------- */
/* jwt_claim_matches                                                */

/* values: the Require line's words separated by '|' ("" is no word,
 * "|" one empty word). */
static apr_array_header_t *words(const char *list)
{
    apr_array_header_t *a = apr_array_make(pool, 4, sizeof(const char *));
    const char *s = list, *bar;

    if (!*list) {
        return a;
    }
    for (;;) {
        bar = strchr(s, '|');
        APR_ARRAY_PUSH(a, const char *) =
            bar ? apr_pstrmemdup(pool, s, (apr_size_t)(bar - s))
                : apr_pstrdup(pool, s);
        if (!bar) {
            return a;
        }
        s = bar + 1;
    }
}

static void test_matches(void)
{
    static const struct {
        const char *json, *name, *values;
        int want;
    } rows[] = {
        /* strings: exactly */
        { "{\"role\":\"user\"}", "role", "user", 1 },
        { "{\"role\":\"user\"}", "role", "admin|user", 1 },
        { "{\"role\":\"user\"}", "role", "admin", 0 },
        { "{\"role\":\"user\"}", "role", "User", 0 },
        { "{\"role\":\"user\"}", "role", "use", 0 },
        { "{\"role\":\"user\"}", "role", "users", 0 },
        { "{\"role\":\"user\"}", "role", "user ", 0 },
        { "{\"role\":\"user\"}", "role", "", 0 },
        { "{\"role\":\"\"}", "role", "|", 1 },
        { "{\"role\":\"\"}", "role", "x", 0 },
        { "{\"role\":\"\\u0075ser\"}", "role", "user", 1 },
        { "{\"role\":\"\\u0075ser\"}", "role", "\\u0075ser", 0 },
        { "{\"n\":\"\\u00e9\"}", "n", "\xc3\xa9", 1 },
        { "{\"role\":\"1\"}", "role", "1", 1 },
        { "{\"role\":\"true\"}", "role", "true", 1 },
        /* the claim's name is exact too */
        { "{\"Role\":\"user\"}", "role", "user", 0 },
        { "{\"role\":\"user\"}", "ROLE", "user", 0 },
        { "{}", "role", "user", 0 },
        { "{\"\\u0072ole\":\"user\"}", "role", "user", 1 },
        /* integers, true, false, null: their JSON text */
        { "{\"id\":1}", "id", "1", 1 },
        { "{\"id\":1}", "id", "2|1", 1 },
        { "{\"id\":1}", "id", "01", 0 },
        { "{\"id\":1}", "id", "1.0", 0 },
        { "{\"id\":1}", "id", "+1", 0 },
        { "{\"id\":1}", "id", " 1", 0 },
        { "{\"id\":-5}", "id", "-5", 1 },
        { "{\"id\":-0}", "id", "0", 1 },
        { "{\"id\":-0}", "id", "-0", 0 },
        { "{\"id\":9223372036854775807}", "id", "9223372036854775807", 1 },
        { "{\"id\":-9223372036854775808}", "id", "-9223372036854775808", 1 },
        { "{\"a\":true}", "a", "true", 1 },
        { "{\"a\":true}", "a", "TRUE", 0 },
        { "{\"a\":true}", "a", "1", 0 },
        { "{\"a\":true}", "a", "yes", 0 },
        { "{\"a\":false}", "a", "false", 1 },
        { "{\"a\":false}", "a", "0", 0 },
        { "{\"a\":false}", "a", "|", 0 },
        { "{\"a\":null}", "a", "null", 1 },
        { "{\"a\":null}", "a", "|", 0 },
        /* reals and objects never */
        { "{\"r\":1.5}", "r", "1.5", 0 },
        { "{\"r\":1.0}", "r", "1.0|1", 0 },
        { "{\"r\":1e2}", "r", "1e2|100|100.0", 0 },
        { "{\"o\":{}}", "o", "{}", 0 },
        { "{\"o\":{\"a\":1}}", "o", "{\"a\":1}", 0 },
        /* arrays: any element, one level */
        { "{\"roles\":[\"a\",\"b\"]}", "roles", "b", 1 },
        { "{\"roles\":[\"a\",\"b\"]}", "roles", "c|a", 1 },
        { "{\"roles\":[\"a\",\"b\"]}", "roles", "c", 0 },
        { "{\"roles\":[\"a\",\"b\"]}", "roles", "[\"a\",\"b\"]", 0 },
        { "{\"roles\":[\"a\",\"b\"]}", "roles", "a,b", 0 },
        { "{\"roles\":[]}", "roles", "|[]", 0 },
        { "{\"roles\":[1,true,null]}", "roles", "1", 1 },
        { "{\"roles\":[1,true,null]}", "roles", "true", 1 },
        { "{\"roles\":[1,true,null]}", "roles", "null", 1 },
        { "{\"roles\":[1,true,null]}", "roles", "false", 0 },
        { "{\"roles\":[false]}", "roles", "false", 1 },
        { "{\"roles\":[[\"a\"]]}", "roles", "a|[\"a\"]", 0 },
        { "{\"roles\":[{\"a\":1}]}", "roles", "a|1|{\"a\":1}", 0 },
        { "{\"roles\":[1.5]}", "roles", "1.5", 0 },
        { "{\"roles\":[1.5,\"x\"]}", "roles", "x", 1 },
        { "{\"roles\":[\"\\u0061\"]}", "roles", "a", 1 },
        /* no value at all */
        { "{\"role\":\"user\"}", "role", "", 0 },
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const jwt_claims_t *c = parse(rows[i].json);
        int got;

        if (!c) {
            continue;
        }
        got = jwt_claim_matches(pool, c, rows[i].name, words(rows[i].values));
        ok(got == rows[i].want, "Require jwt-claim %s [%s] on %s: got %d, "
           "want %d", rows[i].name, vis(rows[i].values), vis(rows[i].json), got,
           rows[i].want);
    }

    /* A string holding a NUL never matches, not even its first part.  The
     * scanner refuses "\u0000", so these claims are made by hand, as a
     * caller handing claims from elsewhere (a cache blob) could. */
    {
        static const char base[] = "s" "a\0b" "l" "[\"a\\u0000b\"]";
        const jwt_member_t m[2] = {
            { 0, 1, 1, 3, JWT_JSON_STRING },
            { 4, 1, 5, sizeof(base) - 1 - 5, JWT_JSON_ARRAY },
        };
        jwt_claims_t c = { base, sizeof(base) - 1, sizeof(base) - 1, m, 2 };

        ok(!jwt_claim_matches(pool, &c, "s", words("a")),
           "string \"a\\0b\" does not match a");
        ok(!jwt_claim_matches(pool, &c, "l", words("a")),
           "array element \"a\\u0000b\" does not match a");
    }
}

/* ---------------------------------------------------------------- */
/* jwt_claims_env                                                   */

/* The variables as "N=V N=V", the skipped names as "[n][n]". */
static const char *vars_text(const apr_array_header_t *vars)
{
    const char *s = "";
    int i;

    for (i = 0; i < vars->nelts; i++) {
        const jwt_env_t *v = &APR_ARRAY_IDX(vars, i, jwt_env_t);

        s = apr_pstrcat(pool, s, i ? " " : "", v->name, "=", v->value, NULL);
    }
    return s;
}

static const char *skipped_text(const apr_array_header_t *skipped)
{
    const char *s = "";
    int i;

    for (i = 0; i < skipped->nelts; i++) {
        s = apr_pstrcat(pool, s, "[", APR_ARRAY_IDX(skipped, i, const char *),
                        "]", NULL);
    }
    return s;
}

static void test_env(void)
{
    static const struct { const char *what, *json, *vars, *skipped; } rows[] = {
        { "plain names", "{\"a\":1,\"b\":\"x\"}",
          "JWT_CLAIM_a=1 JWT_CLAIM_b=x", "" },
        { "no claims", "{}", "", "" },
        { "usual claims in document order",
          "{\"sub\":\"daehan\",\"exp\":1700000000,\"Admin_2\":true}",
          "JWT_CLAIM_sub=daehan JWT_CLAIM_exp=1700000000 "
          "JWT_CLAIM_Admin_2=true", "" },
        { "role and ROLE: neither",
          "{\"role\":\"user\",\"ROLE\":\"admin\",\"sub\":\"d\"}",
          "JWT_CLAIM_sub=d", "[role][ROLE]" },
        { "ROLE before role: neither either",
          "{\"ROLE\":\"admin\",\"role\":\"user\"}", "", "[ROLE][role]" },
        { "three spellings of role: none",
          "{\"Role\":1,\"role\":2,\"x\":3,\"ROLE\":4}", "JWT_CLAIM_x=3",
          "[Role][role][ROLE]" },
        { "a-b is not exportable, a_b is its own",
          "{\"a-b\":\"dash\",\"a_b\":\"under\"}", "JWT_CLAIM_a_b=under",
          "[a-b]" },
        { "a_b before a-b", "{\"a_b\":\"under\",\"a-b\":\"dash\"}",
          "JWT_CLAIM_a_b=under", "[a-b]" },
        { "x=y is not a name", "{\"x=y\":\"z\",\"x\":\"w\"}",
          "JWT_CLAIM_x=w", "[x=y]" },
        { "x= and =y", "{\"x=\":1,\"=y\":2,\"=\":3}", "", "[x=][=y][=]" },
        { "empty name", "{\"\":1,\"a\":2}", "JWT_CLAIM_a=2", "[]" },
        { "non-ASCII name, raw", "{\"\xc3\xa9\":1}", "", "[\xc3\xa9]" },
        { "non-ASCII name, escaped", "{\"r\\u00f4le\":1}", "",
          "[r\xc3\xb4le]" },
        { "e acute and E acute", "{\"\xc3\xa9\":1,\"\xc3\x89\":2}", "",
          "[\xc3\xa9][\xc3\x89]" },
        { "space, dot, dollar, slash, colon",
          "{\"a b\":1,\"a.b\":2,\"$x\":3,\"a$\":4,\"a/b\":5,\"a:b\":6}",
          "", "[a b][a.b][$x][a$][a/b][a:b]" },
        { "tab, newline, quote, backslash in a name",
          "{\"a\\tb\":1,\"a\\nb\":2,\"a\\\"b\":3,\"a\\\\b\":4}",
          "", "[a\tb][a\nb][a\"b][a\\b]" },
        { "escaped name decoded: \\u0072ole is role",
          "{\"\\u0072ole\":\"user\"}", "JWT_CLAIM_role=user", "" },
        { "escaped role and ROLE: neither",
          "{\"\\u0072ole\":\"user\",\"ROLE\":\"admin\"}", "",
          "[role][ROLE]" },
        { "escaped dash: not exportable", "{\"a\\u002db\":1}", "",
          "[a-b]" },
        { "both spellings not exportable, each once",
          "{\"A-B\":1,\"a-b\":2}", "", "[A-B][a-b]" },
        { "digits only", "{\"123\":\"a\",\"0\":0}",
          "JWT_CLAIM_123=a JWT_CLAIM_0=0", "" },
        { "underscores only", "{\"_\":1,\"__\":2}",
          "JWT_CLAIM__=1 JWT_CLAIM___=2", "" },
        { "case of digits and _: no case, no clash",
          "{\"a_1\":1,\"a1\":2,\"A_2\":3}",
          "JWT_CLAIM_a_1=1 JWT_CLAIM_a1=2 JWT_CLAIM_A_2=3", "" },
        { "same letters, other length: no clash", "{\"ab\":1,\"AB_\":2}",
          "JWT_CLAIM_ab=1 JWT_CLAIM_AB_=2", "" },
        { "nested names do not clash", "{\"o\":{\"O\":1,\"o-p\":2}}",
          "JWT_CLAIM_o={\"O\":1,\"o-p\":2}", "" },
        { "values as text",
          "{\"arr\":[1, \"a\", {\"b\" : null}],\"obj\":{ \"k\":[true,false]},"
          "\"n\":-0,\"m\":-12,\"r\":1.5,\"e\":1e2,\"t\":true,\"f\":false,"
          "\"z\":null,\"s\":\"x y\",\"u\":\"\\u00e9\\/\",\"v\":\"a=b\","
          "\"w\":\"\"}",
          "JWT_CLAIM_arr=[1,\"a\",{\"b\":null}] "
          "JWT_CLAIM_obj={\"k\":[true,false]} JWT_CLAIM_n=0 JWT_CLAIM_m=-12 "
          "JWT_CLAIM_r=1.5 JWT_CLAIM_e=100.0 JWT_CLAIM_t=true "
          "JWT_CLAIM_f=false JWT_CLAIM_z=null JWT_CLAIM_s=x y "
          "JWT_CLAIM_u=\xc3\xa9/ JWT_CLAIM_v=a=b JWT_CLAIM_w=", "" },
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const jwt_claims_t *c = parse(rows[i].json);
        apr_array_header_t *skipped = NULL, *vars;
        const char *gv, *gs;

        if (!c) {
            continue;
        }
        vars = jwt_claims_env(pool, c, "JWT_CLAIM_", &skipped);
        gv = vars_text(vars);
        gs = skipped ? skipped_text(skipped) : "(no list)";
        ok(!strcmp(gv, rows[i].vars) && !strcmp(gs, rows[i].skipped),
           "env, %s: got '%s' skipped '%s', want '%s' skipped '%s'",
           rows[i].what, vis(gv), vis(gs), vis(rows[i].vars),
           vis(rows[i].skipped));
        /* without a list for the skipped names, the same variables */
        gv = vars_text(jwt_claims_env(pool, c, "JWT_CLAIM_", NULL));
        ok(!strcmp(gv, rows[i].vars), "env, %s, no skipped list: got '%s'",
           rows[i].what, vis(gv));
    }

    /* the prefix is the caller's */
    {
        const jwt_claims_t *c = parse("{\"a\":1,\"b-c\":2}");
        apr_array_header_t *skipped;
        const char *gv;

        if (c) {
            gv = vars_text(jwt_claims_env(pool, c, "P_", &skipped));
            ok(!strcmp(gv, "P_a=1") && skipped->nelts == 1,
               "env with prefix P_: got '%s'", gv);
            gv = vars_text(jwt_claims_env(pool, c, "", &skipped));
            ok(!strcmp(gv, "a=1"), "env with no prefix: got '%s'", gv);
        }
    }

    /* many claims: every one exported, the last two clash */
    {
        const char *t = "{", *gv;
        const jwt_claims_t *c;
        apr_array_header_t *vars, *skipped;
        int i;

        for (i = 0; i < 300; i++) {
            t = apr_psprintf(pool, "%s\"m%d\":%d,", t, i, i);
        }
        t = apr_pstrcat(pool, t, "\"zz\":1,\"ZZ\":2}", NULL);
        if ((c = parse(t))) {
            vars = jwt_claims_env(pool, c, "JWT_CLAIM_", &skipped);
            gv = vars->nelts == 300
                 ? APR_ARRAY_IDX(vars, 299, jwt_env_t).name : "";
            ok(vars->nelts == 300 && !strcmp(gv, "JWT_CLAIM_m299")
               && !strcmp(skipped_text(skipped), "[zz][ZZ]"),
               "env of 302 claims: %d exported (last %s), skipped %s",
               vars->nelts, gv, skipped_text(skipped));
        }
    }
}

/* ---------------------------------------------------------------- */
/* jwt_value_type, jwt_typed_value                                  */

static void test_value_type(void)
{
    static const struct {
        const char *name;
        int ok;
        jwt_value_type_e type;
    } rows[] = {
        { NULL, 1, JWT_VALUE_STRING },
        { "string", 1, JWT_VALUE_STRING },
        { "STRING", 1, JWT_VALUE_STRING },
        { "int", 1, JWT_VALUE_INT },
        { "Int", 1, JWT_VALUE_INT },
        { "bool", 1, JWT_VALUE_BOOL },
        { "BOOL", 1, JWT_VALUE_BOOL },
        { "", 0, 0 },
        { "integer", 0, 0 },
        { "boolean", 0, 0 },
        { "str", 0, 0 },
        { "int ", 0, 0 },
        { "number", 0, 0 },
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        jwt_value_type_e t = (jwt_value_type_e)99;
        int got = jwt_value_type(&t, rows[i].name);

        ok(got == rows[i].ok && (!got || t == rows[i].type),
           "value type %s: got %d (%d), want %d (%d)", show(rows[i].name),
           got, (int)t, rows[i].ok, (int)rows[i].type);
    }
}

static void test_typed_value(void)
{
    static const struct {
        const char *text;
        jwt_value_type_e type;
        const char *want;       /* compact JSON, or NULL */
    } rows[] = {
        { "0", JWT_VALUE_INT, "0" },
        { "42", JWT_VALUE_INT, "42" },
        { "-42", JWT_VALUE_INT, "-42" },
        { "007", JWT_VALUE_INT, "7" },
        { "-0", JWT_VALUE_INT, "0" },
        { "9223372036854775807", JWT_VALUE_INT, "9223372036854775807" },
        { "-9223372036854775808", JWT_VALUE_INT, "-9223372036854775808" },
        { "9223372036854775808", JWT_VALUE_INT, NULL },
        { "-9223372036854775809", JWT_VALUE_INT, NULL },
        { "99999999999999999999999", JWT_VALUE_INT, NULL },
        { "+1", JWT_VALUE_INT, NULL },
        { " 1", JWT_VALUE_INT, NULL },
        { "\t1", JWT_VALUE_INT, NULL },
        { "1 ", JWT_VALUE_INT, NULL },
        { "1\n", JWT_VALUE_INT, NULL },
        { "- 1", JWT_VALUE_INT, NULL },
        { "--1", JWT_VALUE_INT, NULL },
        { "-", JWT_VALUE_INT, NULL },
        { "", JWT_VALUE_INT, NULL },
        { "1.0", JWT_VALUE_INT, NULL },
        { "1e3", JWT_VALUE_INT, NULL },
        { "0x10", JWT_VALUE_INT, NULL },
        { "12a", JWT_VALUE_INT, NULL },
        { "one", JWT_VALUE_INT, NULL },
        { "1", JWT_VALUE_BOOL, "true" },
        { "true", JWT_VALUE_BOOL, "true" },
        { "TRUE", JWT_VALUE_BOOL, "true" },
        { "True", JWT_VALUE_BOOL, "true" },
        { "on", JWT_VALUE_BOOL, "true" },
        { "ON", JWT_VALUE_BOOL, "true" },
        { "yes", JWT_VALUE_BOOL, "true" },
        { "Yes", JWT_VALUE_BOOL, "true" },
        { "0", JWT_VALUE_BOOL, "false" },
        { "false", JWT_VALUE_BOOL, "false" },
        { "FALSE", JWT_VALUE_BOOL, "false" },
        { "off", JWT_VALUE_BOOL, "false" },
        { "Off", JWT_VALUE_BOOL, "false" },
        { "no", JWT_VALUE_BOOL, "false" },
        { "NO", JWT_VALUE_BOOL, "false" },
        { "", JWT_VALUE_BOOL, "false" },
        { "2", JWT_VALUE_BOOL, NULL },
        { "-1", JWT_VALUE_BOOL, NULL },
        { "00", JWT_VALUE_BOOL, NULL },
        { "01", JWT_VALUE_BOOL, NULL },
        { "t", JWT_VALUE_BOOL, NULL },
        { "f", JWT_VALUE_BOOL, NULL },
        { "y", JWT_VALUE_BOOL, NULL },
        { "n", JWT_VALUE_BOOL, NULL },
        { " true", JWT_VALUE_BOOL, NULL },
        { "true ", JWT_VALUE_BOOL, NULL },
        { "yess", JWT_VALUE_BOOL, NULL },
        { "maybe", JWT_VALUE_BOOL, NULL },
        { "abc", JWT_VALUE_STRING, "\"abc\"" },
        { "", JWT_VALUE_STRING, "\"\"" },
        { "42", JWT_VALUE_STRING, "\"42\"" },
        { "true", JWT_VALUE_STRING, "\"true\"" },
        { "a\"b\\c", JWT_VALUE_STRING, "\"a\\\"b\\\\c\"" },
        { "\xc3\xa9", JWT_VALUE_STRING, "\"\xc3\xa9\"" },
        { "\xff", JWT_VALUE_STRING, NULL },
        { "a\xc3", JWT_VALUE_STRING, NULL },
        { "\xc0\xaf", JWT_VALUE_STRING, NULL },
        { "\xed\xa0\x80", JWT_VALUE_STRING, NULL },
    };
    static const char *const type_name[] = { "string", "int", "bool" };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        json_t *v = jwt_typed_value(rows[i].text, rows[i].type);
        char *dump = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        const char *got = dump ? apr_pstrdup(pool, dump) : NULL;

        free(dump);
        json_decref(v);
        ok(same(got, rows[i].want) && (v != NULL) == (rows[i].want != NULL),
           "%s value %s: got %s, want %s", type_name[rows[i].type],
           show(rows[i].text), show(got), show(rows[i].want));
    }
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_user();
    test_matches();
    test_env();
    test_value_type();
    test_typed_value();
    apr_pool_destroy(pool);
    return done_testing();
}
