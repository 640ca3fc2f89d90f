/*
 * test_json.c: the claims scanner (jwt_json.c), TAP output.  Every row
 * of the table is read by the scanner and by jansson (t/json_oracle.h):
 * both must give the row's verdict and, when they accept, the same
 * members.  Then the values a caller reads.
 */
#include <apr_general.h>
#include <apr_strings.h>

#include "jose.h"
#include "tap.h"
#include "../json_oracle.h"

static apr_pool_t *pool;

static void test_table(void)
{
    static const struct { const char *name, *text; int ok; } rows[] = {
        { "empty object", "{}", 1 },
        { "blanks around", " \t\r\n{ } \n", 1 },
        { "usual claims", "{\"sub\":\"daehan\",\"iat\":1700000000,"
          "\"exp\":1700001800,\"aud\":[\"api\",\"web\"],\"admin\":true,"
          "\"x\":null,\"f\":false,\"r\":1.5e3,\"o\":{\"a\":[{}]}}", 1 },
        { "empty name", "{\"\":1}", 1 },
        { "escapes", "{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}", 1 },
        { "escaped name", "{\"\\u0065xp\":1}", 1 },
        { "BMP escape", "{\"s\":\"\\u00e9\\u20AC\"}", 1 },
        { "surrogate pair", "{\"s\":\"\\ud83d\\ude00\"}", 1 },
        { "raw UTF-8", "{\"s\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}", 1 },
        { "DEL is no control", "{\"s\":\"\x7f\"}", 1 },
        { "-0", "{\"i\":-0}", 1 },
        { "INT64_MIN", "{\"i\":-9223372036854775808}", 1 },
        { "INT64_MAX", "{\"i\":9223372036854775807}", 1 },
        { "above INT64_MAX", "{\"i\":9223372036854775808}", 0 },
        { "below INT64_MIN", "{\"i\":-9223372036854775809}", 0 },
        { "big but real", "{\"i\":9223372036854775808.0}", 1 },
        { "real underflows", "{\"r\":1e-400}", 1 },
        { "real overflows", "{\"r\":1e400}", 0 },
        { "negative overflow", "{\"r\":-1.7e309}", 0 },
        { "exponent forms", "{\"a\":1E5,\"b\":1e+5,\"c\":-1.25e-2}", 1 },
        { "leading zero", "{\"i\":01}", 0 },
        { "minus alone", "{\"i\":-}", 0 },
        { "minus letter", "{\"i\":-a}", 0 },
        { "dot without digits", "{\"i\":1.}", 0 },
        { "dot first", "{\"i\":.5}", 0 },
        { "exponent without digits", "{\"i\":1e}", 0 },
        { "plus sign", "{\"i\":+1}", 0 },
        { "hex", "{\"i\":0x10}", 0 },
        { "NaN", "{\"i\":NaN}", 0 },
        { "Infinity", "{\"i\":Infinity}", 0 },
        { "short literal", "{\"b\":tru}", 0 },
        { "long literal", "{\"b\":truex}", 0 },
        { "capital literal", "{\"b\":True}", 0 },
        { "top-level array", "[1]", 0 },
        { "top-level string", "\"a\"", 0 },
        { "top-level number", "1", 0 },
        { "nothing", "", 0 },
        { "blanks only", "  ", 0 },
        { "two objects", "{}{}", 0 },
        { "trailing garbage", "{\"a\":1}x", 0 },
        { "unclosed", "{\"a\":1", 0 },
        { "unclosed string", "{\"a\":\"b}", 0 },
        { "trailing comma", "{\"a\":1,}", 0 },
        { "trailing comma in array", "{\"a\":[1,]}", 0 },
        { "missing comma", "{\"a\":1 \"b\":2}", 0 },
        { "missing colon", "{\"a\" 1}", 0 },
        { "name not a string", "{a:1}", 0 },
        { "single quotes", "{'a':1}", 0 },
        { "number as name", "{1:1}", 0 },
        { "comment", "{\"a\":1 /* c */}", 0 },
        { "duplicate name", "{\"exp\":1,\"exp\":2}", 0 },
        { "duplicate once escaped", "{\"exp\":1,\"\\u0065xp\":2}", 0 },
        { "duplicate nested", "{\"o\":{\"b\":1,\"b\":2}}", 0 },
        { "same name in two objects", "{\"b\":{\"b\":{\"b\":1}}}", 1 },
        { "control character", "{\"s\":\"a\x01\"}", 0 },
        { "raw tab in string", "{\"s\":\"\t\"}", 0 },
        { "raw newline in string", "{\"s\":\"\n\"}", 0 },
        { "\\u0000 in a value", "{\"s\":\"\\u0000\"}", 0 },
        { "\\u0000 in a name", "{\"\\u0000\":1}", 0 },
        { "lone high surrogate", "{\"s\":\"\\ud800\"}", 0 },
        { "lone low surrogate", "{\"s\":\"\\udc00\"}", 0 },
        { "high then not low", "{\"s\":\"\\ud800\\u0041\"}", 0 },
        { "high then other escape", "{\"s\":\"\\ud800\\n\"}", 0 },
        { "two highs", "{\"s\":\"\\ud800\\ud800\"}", 0 },
        { "short \\u", "{\"s\":\"\\u12\"}", 0 },
        { "bad hex", "{\"s\":\"\\u12g4\"}", 0 },
        { "unknown escape", "{\"s\":\"\\x41\"}", 0 },
        { "escaped quote at end", "{\"s\":\"\\\"}", 0 },
        { "overlong 2-byte", "{\"s\":\"\xc0\xaf\"}", 0 },
        { "overlong 3-byte", "{\"s\":\"\xe0\x80\xaf\"}", 0 },
        { "overlong 4-byte", "{\"s\":\"\xf0\x80\x80\xaf\"}", 0 },
        { "UTF-8 surrogate", "{\"s\":\"\xed\xa0\x80\"}", 0 },
        { "above U+10FFFF", "{\"s\":\"\xf4\x90\x80\x80\"}", 0 },
        { "U+10FFFF", "{\"s\":\"\xf4\x8f\xbf\xbf\"}", 1 },
        { "lone continuation", "{\"s\":\"\x80\"}", 0 },
        { "truncated sequence", "{\"s\":\"\xe2\x82\"}", 0 },
        { "0xff", "{\"s\":\"\xff\"}", 0 },
        { "UTF-8 outside strings", "{\"s\":1\xc3\xa9}", 0 },
        { "BOM", "\xef\xbb\xbf{}", 0 },
        { "form feed is no blank", "{\f}", 0 },
        { "nested arrays", "{\"a\":[[],[[]],[1,[2,[3]]]]}", 1 },
        { "array of objects", "{\"a\":[{\"b\":1},{\"b\":1}]}", 1 },
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        size_t len = strlen(rows[i].text);
        const char *why = json_oracle(pool, rows[i].text, len);
        jwt_claims_t c;

        ok(!why && jwt_claims_parse(&c, pool, rows[i].text, len)
           == rows[i].ok, "%s: %s%s", rows[i].name,
           rows[i].ok ? "accepted" : "refused", why ? why : "");
    }
    /* a NUL byte counts like any other: refused where jansson refuses */
    ok(!json_oracle(pool, "{\"a\":1}\0", 8)
       && !jwt_claims_parse(&(jwt_claims_t){ 0 }, pool, "{\"a\":1}\0", 8),
       "NUL after the object: refused");
    ok(!json_oracle(pool, "{\"a\":\"\0\"}", 9), "NUL in a string: refused");
    /* jansson drops a NUL after a number or literal; we do not */
    ok(!json_oracle(pool, "{\"a\":2\0}", 8)
       && !jwt_claims_parse(&(jwt_claims_t){ 0 }, pool, "{\"a\":2\0}", 8),
       "NUL after a number: refused (jansson skips it)");
    ok(!json_oracle(pool, "{\"a\":true\0,\"b\":1}", 18)
       && !jwt_claims_parse(&(jwt_claims_t){ 0 }, pool,
                            "{\"a\":true\0,\"b\":1}", 18),
       "NUL after a literal: refused (jansson skips it)");
}

/* {"a": [[...[1]...]]} with n arrays: jansson stops at depth 2048 */
static void test_depth(void)
{
    int n;

    for (n = 2045; n <= 2048; n++) {
        char *t = apr_palloc(pool, 2 * (size_t)n + 16), *s = t;
        jwt_claims_t c;
        int i;

        s += sprintf(s, "{\"a\":");
        for (i = 0; i < n; i++) {
            *s++ = '[';
        }
        *s++ = '1';
        for (i = 0; i < n; i++) {
            *s++ = ']';
        }
        *s++ = '}';
        ok(!json_oracle(pool, t, (size_t)(s - t))
           && jwt_claims_parse(&c, pool, t, (size_t)(s - t)) == (n <= 2046),
           "%d nested arrays: %s like jansson", n,
           n <= 2046 ? "accepted" : "refused");
    }
}

/* Many members: the duplicate check goes through its table. */
static void test_many(void)
{
    char *t;
    int i, dup;

    for (dup = 0; dup <= 1; dup++) {
        t = "{";
        for (i = 0; i < 300; i++) {
            t = apr_psprintf(pool, "%s\"m%d\":%d,", t, i, i);
        }
        t = apr_psprintf(pool, "%s\"m%d\":0}", t, dup ? 17 : 300);
        ok(!json_oracle(pool, t, strlen(t))
           && jwt_claims_parse(&(jwt_claims_t){ 0 }, pool, t, strlen(t))
              == !dup, "301 members%s: %s", dup ? ", one repeated" : "",
           dup ? "refused" : "accepted");
    }
}

static void test_values(void)
{
    static const char text[] =
        "{\"s\":\"a\\u00e9\\\"b\",\"\\u0069\":-0,\"n\":-9223372036854775808,"
        "\"r\":2.5,\"t\":true,\"aud\":[\"x\", \"a\\/b\", 3, {\"y\":\"z\"},"
        " [\"w\"]],\"o\":{ \"k\" : [1, 2] }}";
    jwt_claims_t c;
    const jwt_member_t *m;
    apr_int64_t i;
    double d;

    ok(jwt_claims_parse(&c, pool, text, sizeof(text) - 1) && c.n == 7,
       "values: parsed, 7 members");
    m = jwt_claims_get(&c, "s");
    ok(m && m->type == JWT_JSON_STRING && m->value_len == 5
       && !memcmp(c.base + m->value, "a\xc3\xa9\"b", 5),
       "escaped string decoded");
    ok(jwt_claims_get(&c, "i") && !strcmp(jwt_claim_text(pool, &c, "i"), "0"),
       "escaped name found; -0 reads 0");
    m = jwt_claims_get(&c, "n");
    ok(m && jwt_member_int(&c, m, &i) && i == APR_INT64_MIN,
       "INT64_MIN read back");
    m = jwt_claims_get(&c, "r");
    ok(m && !jwt_member_int(&c, m, &i) && jwt_member_number(&c, m, &d)
       && d == 2.5, "a real is a number, not an integer");
    m = jwt_claims_get(&c, "t");
    ok(m && !jwt_member_number(&c, m, &d)
       && !strcmp(jwt_member_text(pool, &c, m), "true"), "true");
    m = jwt_claims_get(&c, "aud");
    ok(m && jwt_member_has_string(&c, m, "x")
       && jwt_member_has_string(&c, m, "a/b")
       && !jwt_member_has_string(&c, m, "z")
       && !jwt_member_has_string(&c, m, "w")
       && !jwt_member_has_string(&c, m, "3")
       && !jwt_member_has_string(&c, m, "a\\/b"),
       "array membership: top-level strings only, decoded");
    ok(!strcmp(jwt_claim_text(pool, &c, "o"), "{\"k\":[1,2]}"),
       "object as jansson's compact JSON");
    {
        static const struct { const char *json, *text; } rows[] = {
            { "[ true, {\"a\" : [1, \"x y\", null, false]} ]",
              "[true,{\"a\":[1,\"x y\",null,false]}]" },
            { "[1e2, 2]", "[100.0,2]" },
            { "[-0, 1]", "[0,1]" },
            { "[\"\\u00e9\\/\"]", "[\"\xc3\xa9/\"]" },
            { "{ }", "{}" },
        };
        size_t i;

        for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
            const char *t = apr_pstrcat(pool, "{\"v\":", rows[i].json, "}",
                                        NULL);
            jwt_claims_t v;

            ok(jwt_claims_parse(&v, pool, t, strlen(t))
               && !strcmp(jwt_claim_text(pool, &v, "v"), rows[i].text),
               "text of %s is jansson's compact %s", rows[i].json,
               rows[i].text);
        }
    }
    ok(!jwt_claims_get(&c, "absent") && !jwt_claim_text(pool, &c, "absent"),
       "absent member");
    ok(!jwt_member_has_string(&c, jwt_claims_get(&c, "s"), "a"),
       "a string matches only whole");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_table();
    test_depth();
    test_many();
    test_values();
    apr_pool_destroy(pool);
    return done_testing();
}
