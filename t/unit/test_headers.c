/*
 * test_headers.c: claims as request headers (JWTAuthClaimHeader,
 * jose/claims.c: jwt_header_encode, jwt_header_value), TAP output.
 * What reaches a header must fit one header line and say what the claim
 * said: visible ASCII as it is, anything else as one encoded-word whose
 * base64 decodes to the claim's bytes.  Each row prints what it got
 * beside what it expected.
 */
#include <stdlib.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "jose.h"
#include "tap.h"

static apr_pool_t *pool;

/* jwt_header_encode: text (len bytes) -> header value */
static const struct {
    const char *in;
    size_t len;
    const char *want;
    const char *why;
} encode_rows[] = {
    { "daehan", 6, "daehan", "visible ASCII as it is" },
    { "Jane Doe", 8, "Jane Doe", "an inner space as it is" },
    { "", 0, "", "the empty string stays empty" },
    { "[\"a\",\"b\"]", 9, "[\"a\",\"b\"]", "JSON punctuation as it is" },
    { "a\r\nX-Injected: 1", 16, "=?UTF-8?B?YQ0KWC1JbmplY3RlZDogMQ==?=",
      "CR LF encoded: no second header" },
    { "a\nb", 3, "=?UTF-8?B?YQpi?=", "a lone LF encoded" },
    { "a\rb", 3, "=?UTF-8?B?YQ1i?=", "a lone CR encoded" },
    { "a\0b", 3, "=?UTF-8?B?YQBi?=", "a NUL encoded, not cut" },
    { "a\tb", 3, "=?UTF-8?B?YQli?=", "a tab encoded" },
    { "a\x7f", 2, "=?UTF-8?B?YX8=?=", "DEL encoded" },
    { "Jos\xc3\xa9", 5, "=?UTF-8?B?Sm9zw6k=?=", "non-ASCII UTF-8 encoded" },
    { " admin", 6, "=?UTF-8?B?IGFkbWlu?=", "a leading space encoded" },
    { "admin ", 6, "=?UTF-8?B?YWRtaW4g?=", "a trailing space encoded" },
    { "=?UTF-8?B?QQ==?=", 16, "=?UTF-8?B?PT9VVEYtOD9CP1FRPT0/PQ==?=",
      "text that looks encoded is encoded" },
    { "=", 1, "=", "a lone = as it is" },
    { "abc", 3, "abc", "no padding case" },
    { "\x01", 1, "=?UTF-8?B?AQ==?=", "two padding characters" },
    { "\x01\x02", 2, "=?UTF-8?B?AQI=?=", "one padding character" },
    { "\xff\xfe\xfd", 3, "=?UTF-8?B?//79?=", "the top of the alphabet" },
};

/* jwt_header_value: claims, path -> header value (NULL: no header) */
#define KEYCLOAK "{\"sub\":\"k\",\"realm_access\":{\"roles\":" \
    "[\"offline_access\",\"admin\"]},\"resource_access\":{\"api\":" \
    "{\"roles\":[\"writer\"]}},\"name\":\"Jos\\u00e9\"," \
    "\"groups\":[{\"name\":\"a\"},{\"name\":\"b\\nc\"}]," \
    "\"n\":42,\"r\":1.5,\"t\":true,\"f\":false,\"z\":null," \
    "\"e\":\"\",\"crlf\":\"a\\r\\nX-Injected: 1\"," \
    "\"o\":{\"k\":\"v\",\"u\":\"\\u00fc\"},\"https://x.example/r\":[\"e\"]}"

static const struct {
    const char *claims;
    const char *path;
    const char *want;
    const char *why;
} value_rows[] = {
    { KEYCLOAK, "sub", "k", "a top-level string" },
    { KEYCLOAK, "realm_access.roles", "[\"offline_access\",\"admin\"]",
      "Keycloak realm roles: compact JSON" },
    { KEYCLOAK, "resource_access.api.roles", "[\"writer\"]",
      "Keycloak client roles: compact JSON" },
    { KEYCLOAK, "realm_access", "{\"roles\":[\"offline_access\","
      "\"admin\"]}", "an object: compact JSON" },
    { KEYCLOAK, "n", "42", "a number" },
    { KEYCLOAK, "r", "1.5", "a real" },
    { KEYCLOAK, "t", "true", "true" },
    { KEYCLOAK, "f", "false", "false" },
    { KEYCLOAK, "z", "null", "null" },
    { KEYCLOAK, "e", "", "an empty string: an empty header" },
    { KEYCLOAK, "name", "=?UTF-8?B?Sm9zw6k=?=", "non-ASCII: encoded" },
    { KEYCLOAK, "crlf", "=?UTF-8?B?YQ0KWC1JbmplY3RlZDogMQ==?=",
      "CR LF in a claim: encoded" },
    { KEYCLOAK, "o.u", "=?UTF-8?B?w7w=?=", "a nested non-ASCII string" },
    { KEYCLOAK, "o", "=?UTF-8?B?eyJrIjoidiIsInUiOiLDvCJ9?=",
      "JSON holding non-ASCII: encoded" },
    { KEYCLOAK, "groups.name", "[\"a\",\"b\\nc\"]",
      "a fan-out: a JSON array (the LF escaped by JSON)" },
    { KEYCLOAK, "https://x.example/r", "[\"e\"]",
      "a top-level name with dots wins" },
    { KEYCLOAK, "missing", NULL, "an absent claim: no header" },
    { KEYCLOAK, "realm_access.missing", NULL,
      "an absent nested member: no header" },
    { KEYCLOAK, "sub.x", NULL, "a path through a string: no header" },
    { KEYCLOAK, "groups.none", NULL, "a fan-out reaching nothing" },
};

int main(void)
{
    size_t i;

    apr_initialize();
    apr_pool_create(&pool, NULL);

    for (i = 0; i < sizeof(encode_rows) / sizeof(encode_rows[0]); i++) {
        const char *got = jwt_header_encode(pool, encode_rows[i].in,
                                            encode_rows[i].len);

        ok(got && !strcmp(got, encode_rows[i].want),
           "encode: %s: got '%s', want '%s'", encode_rows[i].why,
           got ? got : "(null)", encode_rows[i].want);
    }

    /* every output is one header line: no byte outside 0x20-0x7E */
    for (i = 0; i < 256; i++) {
        char in[3] = { 'x', (char)i, 'y' };
        const char *got = jwt_header_encode(pool, in, 3);
        const char *s;

        for (s = got; *s >= 0x20 && *s <= 0x7e; s++) {
        }
        if (*s) {
            break;
        }
    }
    ok(i == 256, "encode: every byte value gives visible ASCII only "
       "(first failure at byte %u)", (unsigned)i);

    for (i = 0; i < sizeof(value_rows) / sizeof(value_rows[0]); i++) {
        jwt_claims_t c;
        const char *err = NULL, *got;
        const jwt_path_t *pa = jwt_path_parse(pool, value_rows[i].path,
                                              &err);

        if (!jwt_claims_parse(&c, pool, value_rows[i].claims,
                              strlen(value_rows[i].claims)) || !pa) {
            ok(0, "value: %s: claims or path refused", value_rows[i].why);
            continue;
        }
        got = jwt_header_value(pool, &c, pa);
        ok(value_rows[i].want ? got && !strcmp(got, value_rows[i].want)
                              : got == NULL,
           "value: %s (%s): got '%s', want '%s'", value_rows[i].why,
           value_rows[i].path, got ? got : "(none)",
           value_rows[i].want ? value_rows[i].want : "(none)");
    }

    /* the scanner refuses a claim holding \u0000 (the token is then
     * invalid, no header is ever made of it) */
    {
        jwt_claims_t c;
        const char *nul = "{\"sub\":\"k\",\"name\":\"a\\u0000b\"}";

        ok(!jwt_claims_parse(&c, pool, nul, strlen(nul)),
           "a claim holding \\u0000 is refused by the scanner");
    }

    apr_pool_destroy(pool);
    apr_terminate();
    return done_testing();
}
