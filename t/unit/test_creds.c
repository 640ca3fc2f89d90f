/*
 * test_creds.c: unit tests of the /login credential parsers, TAP output.
 */
#include <apr_general.h>
#include <apr_strings.h>

#include "creds.h"
#include "tap.h"

static apr_pool_t *pool;

typedef int (*body_parser)(const char **, const char **, apr_pool_t *,
                           const char *, size_t);

static void check(int got_ok, const char *u, const char *p, const char *wu,
                  const char *wp, const char *name)
{
    if (wu) {
        ok(got_ok && !strcmp(u, wu) && !strcmp(p, wp), "%s: accepted", name);
    }
    else {
        ok(!got_ok, "%s: refused", name);
    }
}

static void test_basic(void)
{
    static const struct { const char *name, *hdr, *user, *pw; } rows[] = {
        { "seed's user", "Basic ZGFlaGFuOjEyMzQ=", "daehan", "1234" },
        { "scheme case", "bAsIc ZGFlaGFuOjEyMzQ=", "daehan", "1234" },
        { "several blanks", "Basic   ZGFlaGFuOjEyMzQ=", "daehan", "1234" },
        { "colon in password", "Basic dTpwOnE=", "u", "p:q" },
        { "no padding needed", "Basic YWJjOmRlZmc=", "abc", "defg" },
        { "no header", NULL, NULL, NULL },
        { "empty", "", NULL, NULL },
        { "scheme only", "Basic", NULL, NULL },
        { "scheme and blank", "Basic ", NULL, NULL },
        { "other scheme", "Bearer ZGFlaGFuOjEyMzQ=", NULL, NULL },
        { "Digest", "Digest username=\"daehan\"", NULL, NULL },
        { "scheme glued", "BasicZGFlaGFuOjEyMzQ=", NULL, NULL },
        { "bad base64 char", "Basic ZGFlaGFu*jEyMzQ=", NULL, NULL },
        { "base64url alphabet", "Basic ZGFlaGFu-jEyMzQ=", NULL, NULL },
        { "missing padding", "Basic ZGFlaGFuOjEyMzQ", NULL, NULL },
        { "too much padding", "Basic ZGFlaGFuOjEyMzQ==", NULL, NULL },
        { "trailing garbage", "Basic ZGFlaGFuOjEyMzQ= x", NULL, NULL },
        { "no colon", "Basic ZGFlaGFu", NULL, NULL },
        { "empty user", "Basic OjEyMzQ=", NULL, NULL },
        { "empty password", "Basic ZGFlaGFuOg==", NULL, NULL },
        { "both empty", "Basic Og==", NULL, NULL },
        { "NUL in user", "Basic ZGEAaGFuOjEyMzQ=", NULL, NULL },
        { "NUL in password", "Basic ZGFlaGFuOjEyADQ=", NULL, NULL },
        { "newline in user", "Basic ZGEKaGFuOjEyMzQ=", NULL, NULL },
        /* the user becomes a JSON string: well-formed UTF-8 only */
        { "UTF-8 user Jos\xc3\xa9", "Basic Sm9zw6k6MTIzNA==",
          "Jos\xc3\xa9", "1234" },
        { "UTF-8 user U+1F511 (4 bytes)", "Basic 8J+UkToxMjM0",
          "\xf0\x9f\x94\x91", "1234" },
        { "UTF-8 user U+10FFFF, the last", "Basic 9I+/vzoxMjM0",
          "\xf4\x8f\xbf\xbf", "1234" },
        { "UTF-8 user U+D7FF, below the surrogates", "Basic 7Z+/OjEyMzQ=",
          "\xed\x9f\xbf", "1234" },
        { "UTF-8 user U+E000, above the surrogates", "Basic 7oCAOjEyMzQ=",
          "\xee\x80\x80", "1234" },
        { "user \\xff", "Basic /zoxMjM0", NULL, NULL },
        { "user \\x80 (stray continuation)", "Basic gDoxMjM0", NULL, NULL },
        { "user \\xc0\\xaf (overlong '/')", "Basic wK86MTIzNA==",
          NULL, NULL },
        { "user \\xe0\\x80\\xaf (overlong, 3 bytes)", "Basic 4ICvOjEyMzQ=",
          NULL, NULL },
        { "user \\xf0\\x80\\x80\\xaf (overlong, 4 bytes)",
          "Basic 8ICArzoxMjM0", NULL, NULL },
        { "user \\xed\\xa0\\x80 (surrogate U+D800)", "Basic 7aCAOjEyMzQ=",
          NULL, NULL },
        { "user \\xf4\\x90\\x80\\x80 (above U+10FFFF)",
          "Basic 9JCAgDoxMjM0", NULL, NULL },
        { "user Jos\\xc3 (truncated sequence)", "Basic Sm9zwzoxMjM0",
          NULL, NULL },
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *u = NULL, *p = NULL;
        int r = jwt_creds_basic(&u, &p, pool, rows[i].hdr);
        check(r, u, p, rows[i].user, rows[i].pw, rows[i].name);
    }
}

static void test_bodies(void)
{
    static const struct {
        const char *name;
        int json;
        const char *body, *user, *pw;
    } rows[] = {
        { "form", 0, "username=daehan&password=1234", "daehan", "1234" },
        { "form, other order and fields", 0,
          "x=1&password=1234&username=daehan&y", "daehan", "1234" },
        { "form escapes", 0, "username=da%65han&password=a+b%2Bc%26",
          "daehan", "a b+c&" },
        { "form duplicate user", 0,
          "username=daehan&username=root&password=1234", NULL, NULL },
        { "form missing password", 0, "username=daehan", NULL, NULL },
        { "form empty password", 0, "username=daehan&password=", NULL, NULL },
        { "form bad escape", 0, "username=d%zzhan&password=1234", NULL, NULL },
        { "form truncated escape", 0, "username=daehan&password=12%3",
          NULL, NULL },
        { "form NUL in user", 0, "username=da%00han&password=1234",
          NULL, NULL },
        { "form NUL in password", 0, "username=daehan&password=12%0034",
          NULL, NULL },
        { "form prefix name", 0, "user=daehan&pass=1234", NULL, NULL },
        { "form UTF-8 user", 0, "username=Jos%C3%A9&password=1234",
          "Jos\xc3\xa9", "1234" },
        { "form user %FF", 0, "username=%FF&password=1234", NULL, NULL },
        { "form user %ED%A0%80 (surrogate)", 0,
          "username=%ED%A0%80&password=1234", NULL, NULL },
        { "form empty", 0, "", NULL, NULL },
        { "json", 1, "{\"username\": \"daehan\", \"password\": \"1234\"}",
          "daehan", "1234" },
        { "json escapes", 1, "{\"username\":\"da\\u0065han\",\"password\":"
          "\"1\\\"4\"}", "daehan", "1\"4" },
        { "json number password", 1, "{\"username\":\"daehan\","
          "\"password\":1234}", NULL, NULL },
        { "json duplicate", 1, "{\"username\":\"daehan\",\"username\":"
          "\"root\",\"password\":\"1234\"}", NULL, NULL },
        { "json array", 1, "[\"daehan\",\"1234\"]", NULL, NULL },
        { "json trailing", 1, "{\"username\":\"daehan\",\"password\":"
          "\"1234\"}x", NULL, NULL },
        { "json not json", 1, "username=daehan&password=1234", NULL, NULL },
        { "json NUL", 1, "{\"username\":\"da\\u0000han\",\"password\":"
          "\"1234\"}", NULL, NULL },
        { "json UTF-8 user", 1, "{\"username\":\"Jos\\u00e9\",\"password\":"
          "\"1234\"}", "Jos\xc3\xa9", "1234" },
        { "json user \\xff", 1, "{\"username\":\"\xff\",\"password\":"
          "\"1234\"}", NULL, NULL },
        { "json user \\ud800 (lone surrogate)", 1, "{\"username\":"
          "\"\\ud800\",\"password\":\"1234\"}", NULL, NULL },
        { "json empty user", 1, "{\"username\":\"\",\"password\":\"1234\"}",
          NULL, NULL },
        { "json empty", 1, "", NULL, NULL },
    };
    size_t i;
    char *big;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *u = NULL, *p = NULL;
        body_parser f = rows[i].json ? jwt_creds_json : jwt_creds_form;
        int r = f(&u, &p, pool, rows[i].body, strlen(rows[i].body));
        check(r, u, p, rows[i].user, rows[i].pw, rows[i].name);
    }
    big = apr_palloc(pool, JWT_CREDS_MAX_BODY + 2);
    memset(big, 'a', JWT_CREDS_MAX_BODY + 1);
    memcpy(big, "username=x&password=", 20);
    big[JWT_CREDS_MAX_BODY + 1] = '\0';
    {
        const char *u, *p;
        ok(!jwt_creds_form(&u, &p, pool, big, JWT_CREDS_MAX_BODY + 1),
           "form over the size bound refused");
    }
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_basic();
    test_bodies();
    apr_pool_destroy(pool);
    apr_terminate();
    return done_testing();
}
