/*
 * test_core.c: unit tests of the JOSE core (jwt_core.c), TAP output.
 *
 * Tokens are built here with OpenSSL's one-shot HMAC (EVP_Q_mac), not with
 * the core's own signer, so that a bug in jwt_sign cannot hide one in
 * jwt_verify.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <openssl/evp.h>

#include "jose.h"
#include "tap.h"
#include "fake_socache.h"

#define NOW ((apr_int64_t)1700000000)

static apr_pool_t *pool;

static const unsigned char key64[64] =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static jwt_key_t *make_key(const unsigned char *secret, size_t len,
                           const char *kid)
{
    jwt_key_t *key = NULL;
    jwt_error_t err;

    if (!jwt_key_hmac_create(&key, pool, secret, len, kid, &err)) {
        printf("# key: %s\n", err.reason);
        return NULL;
    }
    return key;
}

/* A list of strings (a policy's issuers or audiences), NULL-ended. */
static const apr_array_header_t *list(const char *first, ...)
{
    apr_array_header_t *arr = apr_array_make(pool, 2, sizeof(const char *));
    const char *s;
    va_list ap;

    va_start(ap, first);
    for (s = first; s; s = va_arg(ap, const char *)) {
        APR_ARRAY_PUSH(arr, const char *) = s;
    }
    va_end(ap);
    return arr;
}

static const char *b64(const char *s)
{
    return jwt_b64url_encode(pool, (const unsigned char *)s, strlen(s));
}

/* header.payload.HMAC(secret) with the digest named. */
static const char *token_raw(const char *hdr_b64, const char *pay_b64,
                             const char *digest, const unsigned char *secret,
                             size_t slen)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0;
    const char *input = apr_pstrcat(pool, hdr_b64, ".", pay_b64, NULL);

    if (!EVP_Q_mac(NULL, "HMAC", NULL, digest, NULL, secret, slen,
                   (const unsigned char *)input, strlen(input), mac,
                   sizeof(mac), &maclen)) {
        abort();
    }
    return apr_pstrcat(pool, input, ".", jwt_b64url_encode(pool, mac, maclen),
                       NULL);
}

static const char *token(const char *hdr, const char *payload)
{
    return token_raw(b64(hdr), b64(payload), "SHA256", key64, sizeof(key64));
}

static int verify_code(const char *tok, const jwt_policy_t *pol)
{
    jwt_t *jwt = NULL;
    jwt_error_t err = { JWT_OK, NULL };
    int ok = jwt_verify(&jwt, pool, tok, strlen(tok), pol, NOW, &err);

    if (ok != (err.code == JWT_OK)) {
        return -1;              /* return value and code disagree */
    }
    if (ok && (!jwt || !jwt->claims.base || !jwt->header)) {
        return -2;
    }
    return err.code;
}

static void test_b64url(void)
{
    static const struct { const char *plain, *enc; } v[] = {
        /* RFC 4648 section 10, in the URL alphabet without padding */
        { "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
        { "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" },
        { "\xfb\xff", "-_8" },
    };
    static const char *const bad[] = {
        "Z", "Zg=", "Zg==", "Zh", "Zm9=", "Zm+v", "Zm/v", "Zm9v\n", " Zm9v",
        "Zm 9v", "Zm9vY", "Zm9", "-_9", "Zm9v\x80",
    };
    unsigned char *out;
    size_t len, i;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        ok(!strcmp(b64(v[i].plain), v[i].enc), "b64url encode '%s'", v[i].enc);
        ok(jwt_b64url_decode(&out, &len, pool, v[i].enc, strlen(v[i].enc))
           && len == strlen(v[i].plain) && !memcmp(out, v[i].plain, len),
           "b64url decode '%s'", v[i].enc);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ok(!jwt_b64url_decode(&out, &len, pool, bad[i], strlen(bad[i])),
           "b64url refuses bad input #%d", (int)i);
    }
    {
        /* every byte value: accepted exactly when it is in the alphabet,
         * in a full quantum and in each position of a partial one */
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
                                       "klmnopqrstuvwxyz0123456789-_";
        int c, wrong = 0;

        for (c = 0; c < 256; c++) {
            char q[4] = { 'A', 'A', (char)c, 'A' };
            char r[3] = { (char)c, 'A', 'A' };
            int in = c && strchr(alphabet, c) != NULL;

            if (jwt_b64url_decode(&out, &len, pool, q, 4) != in
                || jwt_b64url_decode(&out, &len, pool, r, 3) != in) {
                wrong++;
                printf("# byte %d\n", c);
            }
        }
        ok(wrong == 0, "b64url: all 256 byte values classified right");
    }
}

static void test_keys(void)
{
    jwt_key_t *k;
    jwt_error_t err;

    ok(!jwt_key_hmac_create(&k, pool, key64, 31, NULL, &err)
       && err.code == JWT_ERR_KEY, "31-byte HMAC key refused (RFC 7518 3.2)");
    ok(!jwt_key_hmac_create(&k, pool, key64, 0, NULL, &err),
       "empty HMAC key refused");
    k = make_key(key64, 32, NULL);
    ok(k && jwt_key_algs(k) == JWT_ALG_BIT(JWT_ALG_HS256),
       "32-byte key: HS256 only");
    k = make_key(key64, 48, NULL);
    ok(k && jwt_key_algs(k) == (JWT_ALG_BIT(JWT_ALG_HS256)
                                | JWT_ALG_BIT(JWT_ALG_HS384)),
       "48-byte key: HS256 and HS384");
    k = make_key(key64, 64, "k1");
    ok(k && jwt_key_algs(k) == (JWT_ALG_BIT(JWT_ALG_HS256)
                                | JWT_ALG_BIT(JWT_ALG_HS384)
                                | JWT_ALG_BIT(JWT_ALG_HS512)),
       "64-byte key: every HS alg");
    ok(k && !strcmp(jwt_key_kid(k), "k1") && jwt_key_kty(k) == JWT_KTY_OCT,
       "kid and kty kept");
    ok(jwt_alg_from_name("HS256", 5) == JWT_ALG_HS256
       && jwt_alg_from_name("HS2560", 6) == JWT_ALG_UNKNOWN
       && jwt_alg_from_name("HS25", 4) == JWT_ALG_UNKNOWN
       && jwt_alg_from_name("none", 4) == JWT_ALG_UNKNOWN
       && jwt_alg_from_name("hs256", 5) == JWT_ALG_UNKNOWN,
       "alg names match exactly, whole length, case-sensitive");
}

/* RFC 7515 Appendix A.1: the HS256 example JWS and its JWK. */
static void test_rfc7515_a1(void)
{
    static const char k[] = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0"
                            "gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
    static const char jws[] =
        "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
        ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
        "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
        ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    unsigned char *secret;
    size_t slen;
    jwt_key_t *key;
    apr_array_header_t *keys = apr_array_make(pool, 1, sizeof(jwt_key_t *));
    jwt_policy_t pol = { JWT_ALG_BIT(JWT_ALG_HS256), NULL, NULL, NULL, 0 };
    jwt_t *jwt;
    jwt_error_t err;
    char *flipped;
    size_t i;
    int all_fail = 1;

    ok(jwt_b64url_decode(&secret, &slen, pool, k, strlen(k)) && slen == 64,
       "A.1 key decodes to 64 bytes");
    key = make_key(secret, slen, NULL);
    APR_ARRAY_PUSH(keys, jwt_key_t *) = key;
    pol.keys = keys;
    pol.issuers = list("joe", NULL);
    ok(jwt_verify(&jwt, pool, jws, strlen(jws), &pol, 1300819300, &err),
       "RFC 7515 A.1 verifies before its exp");
    ok(jwt && !strcmp(jwt_claim_text(pool, &jwt->claims,
                                     "http://example.com/is_root"), "true"),
       "A.1 claims decoded");
    ok(!jwt_verify(&jwt, pool, jws, strlen(jws), &pol, 1300819380, &err)
       && err.code == JWT_ERR_EXPIRED, "A.1 refused at its exp");
    /* a flipped bit anywhere must fail (lowest bit of each character's
     * value, staying inside the alphabet) */
    for (i = 0; i < strlen(jws); i++) {
        if (jws[i] == '.') {
            continue;
        }
        flipped = apr_pstrdup(pool, jws);
        flipped[i] ^= 1;
        if (jwt_verify(&jwt, pool, flipped, strlen(flipped), &pol,
                       1300819300, &err)) {
            all_fail = 0;
            printf("# flip at %d verified\n", (int)i);
        }
    }
    ok(all_fail, "A.1 with any one character changed fails");
}

static void test_verify_table(void)
{
    static const char *const H = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    const char *P = apr_psprintf(pool, "{\"sub\":\"daehan\",\"exp\":%" APR_INT64_T_FMT "}",
                                 NOW + 60);
    jwt_key_t *key = make_key(key64, 64, NULL);
    apr_array_header_t *keys = apr_array_make(pool, 1, sizeof(jwt_key_t *));
    jwt_policy_t pol = { JWT_ALG_BIT(JWT_ALG_HS256), NULL, NULL, NULL, 0 };
    char deep[6000];
    const char *good, *good512;
    size_t i;
    struct { const char *name, *hdr, *payload; int want; } rows[] = {
        { "valid HS256", H, P, JWT_OK },
        { "alg none", "{\"alg\":\"none\"}", P, JWT_ERR_ALG },
        { "alg None", "{\"alg\":\"None\"}", P, JWT_ERR_ALG },
        { "alg NONE", "{\"alg\":\"NONE\"}", P, JWT_ERR_ALG },
        { "alg none, JSON-escaped", "{\"alg\":\"\\u006eone\"}", P,
          JWT_ERR_ALG },
        { "alg HS256 JSON-escaped is still HS256",
          "{\"alg\":\"\\u0048S256\"}", P, JWT_OK },
        { "alg missing", "{\"typ\":\"JWT\"}", P, JWT_ERR_ALG },
        { "alg a number", "{\"alg\":256}", P, JWT_ERR_ALG },
        { "alg null", "{\"alg\":null}", P, JWT_ERR_ALG },
        { "alg lower case", "{\"alg\":\"hs256\"}", P, JWT_ERR_ALG },
        { "alg with trailing blank", "{\"alg\":\"HS256 \"}", P, JWT_ERR_ALG },
        { "alg outside the allow-list", "{\"alg\":\"HS512\"}", P,
          JWT_ERR_ALG },
        { "alg RS256 (no such key)", "{\"alg\":\"RS256\"}", P, JWT_ERR_ALG },
        { "alg with NUL", "{\"alg\":\"HS256\\u0000\"}", P, JWT_ERR_MALFORMED },
        { "crit header", "{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}",
          P, JWT_ERR_HEADER },
        { "kid not a string", "{\"alg\":\"HS256\",\"kid\":1}", P,
          JWT_ERR_HEADER },
        { "header an array", "[\"HS256\"]", P, JWT_ERR_MALFORMED },
        { "header a string", "\"HS256\"", P, JWT_ERR_MALFORMED },
        { "header not JSON", "{alg:HS256}", P, JWT_ERR_MALFORMED },
        { "header truncated", "{\"alg\":\"HS256\"", P, JWT_ERR_MALFORMED },
        { "header trailing bytes", "{\"alg\":\"HS256\"} x", P,
          JWT_ERR_MALFORMED },
        { "header UTF-8 BOM", "\xef\xbb\xbf{\"alg\":\"HS256\"}", P,
          JWT_ERR_MALFORMED },
        { "duplicate alg, valid first", "{\"alg\":\"HS256\",\"alg\":\"none\"}",
          P, JWT_ERR_MALFORMED },
        { "duplicate alg, valid last", "{\"alg\":\"none\",\"alg\":\"HS256\"}",
          P, JWT_ERR_MALFORMED },
        { "payload an array", H, "[1]", JWT_ERR_MALFORMED },
        { "payload not JSON", H, "exp=1", JWT_ERR_MALFORMED },
        { "payload empty object", H, "{}", JWT_ERR_MISSING },
        { "payload duplicate exp, valid first", H,
          apr_psprintf(pool, "{\"exp\":%" APR_INT64_T_FMT ",\"exp\":1}", NOW + 60),
          JWT_ERR_MALFORMED },
        { "payload duplicate exp, valid last", H,
          apr_psprintf(pool, "{\"exp\":1,\"exp\":%" APR_INT64_T_FMT "}", NOW + 60),
          JWT_ERR_MALFORMED },
        { "payload trailing bytes", H,
          apr_psprintf(pool, "{\"exp\":%" APR_INT64_T_FMT "}{}", NOW + 60),
          JWT_ERR_MALFORMED },
        { "no exp", H, "{\"sub\":\"x\"}", JWT_ERR_MISSING },
        { "exp a string", H, "{\"exp\":\"99999999999\"}", JWT_ERR_CLAIM },
        { "exp true", H, "{\"exp\":true}", JWT_ERR_CLAIM },
        { "exp null", H, "{\"exp\":null}", JWT_ERR_CLAIM },
        { "exp an array", H, "{\"exp\":[99999999999]}", JWT_ERR_CLAIM },
        { "exp an object", H, "{\"exp\":{}}", JWT_ERR_CLAIM },
        { "exp 1e400", H, "{\"exp\":1e400}", JWT_ERR_MALFORMED },
        { "exp 2^63", H, "{\"exp\":9223372036854775808}", JWT_ERR_MALFORMED },
        { "exp 2^63-1", H, "{\"exp\":9223372036854775807}", JWT_OK },
        { "exp -1", H, "{\"exp\":-1}", JWT_ERR_EXPIRED },
        { "exp -0", H, "{\"exp\":-0}", JWT_ERR_EXPIRED },
        { "exp -0.0", H, "{\"exp\":-0.0}", JWT_ERR_EXPIRED },
        { "exp now", H, apr_psprintf(pool, "{\"exp\":%" APR_INT64_T_FMT "}", NOW),
          JWT_ERR_EXPIRED },
        { "exp now+1", H, apr_psprintf(pool, "{\"exp\":%" APR_INT64_T_FMT "}", NOW + 1),
          JWT_OK },
        { "exp a float in the future", H,
          apr_psprintf(pool, "{\"exp\":%" APR_INT64_T_FMT ".5}", NOW + 60), JWT_OK },
        { "exp a float just past", H,
          apr_psprintf(pool, "{\"exp\":%" APR_INT64_T_FMT ".5}", NOW - 1), JWT_ERR_EXPIRED },
        { "nbf in the future", H,
          apr_psprintf(pool, "{\"exp\":%" APR_INT64_T_FMT ",\"nbf\":%" APR_INT64_T_FMT "}", NOW + 60,
                       NOW + 30), JWT_ERR_NOT_YET },
        { "nbf an hour ahead", H,
          apr_psprintf(pool, "{\"exp\":%" APR_INT64_T_FMT ",\"nbf\":%" APR_INT64_T_FMT "}", NOW + 7200,
                       NOW + 3600), JWT_ERR_NOT_YET },
        { "nbf now", H, apr_psprintf(pool, "{\"exp\":%" APR_INT64_T_FMT ",\"nbf\":%" APR_INT64_T_FMT "}",
                                     NOW + 60, NOW), JWT_OK },
        { "nbf a string", H,
          apr_psprintf(pool, "{\"exp\":%" APR_INT64_T_FMT ",\"nbf\":\"0\"}", NOW + 60),
          JWT_ERR_CLAIM },
        { "iat in the future", H,
          apr_psprintf(pool, "{\"exp\":%" APR_INT64_T_FMT ",\"iat\":%" APR_INT64_T_FMT "}", NOW + 60,
                       NOW + 30), JWT_ERR_NOT_YET },
        { "iat a string", H,
          apr_psprintf(pool, "{\"exp\":%" APR_INT64_T_FMT ",\"iat\":\"x\"}", NOW + 60),
          JWT_ERR_CLAIM },
        { "iat 1e400", H,
          apr_psprintf(pool, "{\"exp\":%" APR_INT64_T_FMT ",\"iat\":1e400}", NOW + 60),
          JWT_ERR_MALFORMED },
        { "deeply nested payload", H, deep, JWT_ERR_MALFORMED },
    };

    APR_ARRAY_PUSH(keys, jwt_key_t *) = key;
    pol.keys = keys;
    memset(deep, '[', sizeof(deep) - 1);
    deep[0] = '{';
    memcpy(deep + 1, "\"a\":", 4);
    deep[sizeof(deep) - 1] = '\0';

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int got = verify_code(token(rows[i].hdr, rows[i].payload), &pol);
        ok(got == rows[i].want, "%s: code %d, want %d", rows[i].name, got,
           rows[i].want);
    }

    /* raw token shapes */
    good = token(H, P);
    {
        const char *dot2 = strrchr(good, '.');
        size_t siglen = strlen(dot2 + 1);
        char *noncanon = apr_pstrdup(pool, good);
        char last = noncanon[strlen(noncanon) - 1];
        struct { const char *name, *tok; int want; } raw[] = {
            { "empty", "", JWT_ERR_MALFORMED },
            { "one part", "abc", JWT_ERR_MALFORMED },
            { "two parts", "abc.def", JWT_ERR_MALFORMED },
            { "four parts", apr_pstrcat(pool, good, ".x", NULL),
              JWT_ERR_MALFORMED },
            { "five parts", apr_pstrcat(pool, good, ".x.y", NULL),
              JWT_ERR_MALFORMED },
            { "dots only", "..", JWT_ERR_MALFORMED },
            /* an empty payload is a JWS (RFC 7515), never a JWT */
            { "empty payload, another token's signature",
              apr_pstrcat(pool, b64(H), "..", dot2 + 1, NULL),
              JWT_ERR_SIGNATURE },
            { "empty payload, signed", token_raw(b64(H), "", "SHA256",
                                                 key64, 64),
              JWT_ERR_MALFORMED },
            { "empty signature",
              apr_pstrndup(pool, good, (size_t)(dot2 - good) + 1),
              JWT_ERR_MALFORMED },
            { "= padding on signature", apr_pstrcat(pool, good, "=", NULL),
              JWT_ERR_MALFORMED },
            { "blank inside the header", apr_pstrcat(pool, " ", good, NULL),
              JWT_ERR_MALFORMED },
            { "line break in signature",
              apr_pstrcat(pool, apr_pstrndup(pool, good, strlen(good) - 5),
                          "\n", good + strlen(good) - 5, NULL),
              JWT_ERR_MALFORMED },
            { "standard base64 '+'",
              apr_pstrcat(pool, apr_pstrndup(pool, good, strlen(good) - 1),
                          "+", NULL), JWT_ERR_MALFORMED },
            { "signature cut short",
              apr_pstrndup(pool, good, strlen(good) - 7), JWT_ERR_SIGNATURE },
            { "signature of HS384 length", token_raw(b64(H), b64(P), "SHA384",
                                                     key64, 64),
              JWT_ERR_SIGNATURE },
            { "wrong key", token_raw(b64(H), b64(P), "SHA256",
                                     (const unsigned char *)"another secret, "
                                     "32 bytes or more!", 34),
              JWT_ERR_SIGNATURE },
            { "payload changed, signature kept",
              apr_pstrcat(pool, b64(H), ".",
                          b64(apr_psprintf(pool, "{\"sub\":\"admin\","
                                           "\"exp\":%" APR_INT64_T_FMT "}", NOW + 60)),
                          dot2, NULL), JWT_ERR_SIGNATURE },
            { "non-canonical base64url tail", NULL, JWT_ERR_MALFORMED },
        };
        /* HS256's 32-byte MAC is 43 characters: the last carries 2 unused
         * bits; setting the lowest keeps the alphabet but not the form */
        ok(siglen == 43, "HS256 signature is 43 characters");
        noncanon[strlen(noncanon) - 1] = (char)(last == 'A' ? 'B' :
                                                last == 'w' ? 'x' : last + 1);
        raw[sizeof(raw) / sizeof(raw[0]) - 1].tok = noncanon;
        for (i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
            int got = verify_code(raw[i].tok, &pol);
            ok(got == raw[i].want, "%s: code %d, want %d", raw[i].name, got,
               raw[i].want);
        }
    }

    /* a wider allow-list takes HS512 with the same key */
    pol.algs |= JWT_ALG_BIT(JWT_ALG_HS512);
    good512 = token_raw(b64("{\"alg\":\"HS512\"}"), b64(P), "SHA512",
                        key64, 64);
    ok(verify_code(good512, &pol) == JWT_OK, "HS512 allowed and verified");
    ok(verify_code(token_raw(b64("{\"alg\":\"HS512\"}"), b64(P), "SHA256",
                             key64, 64), &pol) == JWT_ERR_SIGNATURE,
       "HS512 header over an HS256 MAC refused");
}

static void test_leeway_iss_aud(void)
{
    static const char *const H = "{\"alg\":\"HS256\"}";
    jwt_key_t *key = make_key(key64, 64, NULL);
    apr_array_header_t *keys = apr_array_make(pool, 1, sizeof(jwt_key_t *));
    apr_array_header_t *auds = apr_array_make(pool, 2, sizeof(const char *));
    jwt_policy_t pol = { JWT_ALG_BIT(JWT_ALG_HS256), NULL, NULL, NULL, 30 };
    size_t i;
    struct { const char *name, *claims; int want; } rows[] = {
        { "leeway: exp 10 s past", "\"exp\":%" APR_INT64_T_FMT "", JWT_OK },
        { "leeway: nbf 10 s ahead", "\"exp\":%" APR_INT64_T_FMT ",\"nbf\":%" APR_INT64_T_FMT "", JWT_OK },
        { "leeway: iat 10 s ahead", "\"exp\":%" APR_INT64_T_FMT ",\"iat\":%" APR_INT64_T_FMT "", JWT_OK },
    };
    struct { const char *name, *claims; int want; } ia[] = {
        { "iss and aud match", "\"iss\":\"me\",\"aud\":\"api\"", JWT_OK },
        { "aud array, one matches", "\"iss\":\"me\",\"aud\":[\"x\",\"web\"]",
          JWT_OK },
        { "aud array, none matches", "\"iss\":\"me\",\"aud\":[\"x\",\"y\"]",
          JWT_ERR_AUDIENCE },
        { "aud empty array", "\"iss\":\"me\",\"aud\":[]", JWT_ERR_AUDIENCE },
        { "aud a prefix", "\"iss\":\"me\",\"aud\":\"ap\"", JWT_ERR_AUDIENCE },
        { "aud longer", "\"iss\":\"me\",\"aud\":\"api2\"", JWT_ERR_AUDIENCE },
        { "aud a number", "\"iss\":\"me\",\"aud\":1", JWT_ERR_CLAIM },
        { "aud missing", "\"iss\":\"me\"", JWT_ERR_MISSING },
        { "iss other", "\"iss\":\"you\",\"aud\":\"api\"", JWT_ERR_ISSUER },
        { "iss a prefix", "\"iss\":\"m\",\"aud\":\"api\"", JWT_ERR_ISSUER },
        { "iss an array", "\"iss\":[\"me\"],\"aud\":\"api\"",
          JWT_ERR_ISSUER },
        { "iss missing", "\"aud\":\"api\"", JWT_ERR_MISSING },
        { "iss with NUL", "\"iss\":\"me\\u0000x\",\"aud\":\"api\"",
          JWT_ERR_MALFORMED },
    };

    APR_ARRAY_PUSH(keys, jwt_key_t *) = key;
    pol.keys = keys;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *p = apr_psprintf(pool, apr_pstrcat(pool, "{", rows[i].claims,
                                                       "}", NULL),
                                     i == 0 ? NOW - 10 : NOW + 60, NOW + 10);
        int got = verify_code(token(H, p), &pol);
        ok(got == rows[i].want, "%s: code %d", rows[i].name, got);
    }
    ok(verify_code(token(H, apr_psprintf(pool, "{\"exp\":%" APR_INT64_T_FMT "}", NOW - 31)),
                   &pol) == JWT_ERR_EXPIRED, "leeway: exp 31 s past refused");
    ok(verify_code(token(H, apr_psprintf(pool, "{\"exp\":%" APR_INT64_T_FMT ",\"nbf\":%" APR_INT64_T_FMT "}",
                                         NOW + 60, NOW + 31)), &pol)
       == JWT_ERR_NOT_YET, "leeway: nbf 31 s ahead refused");

    pol.leeway = 0;
    pol.issuers = list("me", NULL);
    APR_ARRAY_PUSH(auds, const char *) = "api";
    APR_ARRAY_PUSH(auds, const char *) = "web";
    pol.audiences = auds;
    for (i = 0; i < sizeof(ia) / sizeof(ia[0]); i++) {
        const char *p = apr_psprintf(pool, "{\"exp\":%" APR_INT64_T_FMT ",%s}", NOW + 60,
                                     ia[i].claims);
        int got = verify_code(token(H, p), &pol);
        ok(got == ia[i].want, "%s: code %d, want %d", ia[i].name, got,
           ia[i].want);
    }

    /* JWTAuthIssuer a b: either, exactly, as a string */
    {
        static const struct {
            const char *name, *iss;
            jwt_errcode_e want;
        } mi[] = {
            { "issuers a b: a", "\"iss\":\"https://a\"", JWT_OK },
            { "issuers a b: b", "\"iss\":\"https://b\"", JWT_OK },
            { "issuers a b: c", "\"iss\":\"https://c\"", JWT_ERR_ISSUER },
            { "issuers a b: a prefix of a", "\"iss\":\"https://\"",
              JWT_ERR_ISSUER },
            { "issuers a b: [a] is no string", "\"iss\":[\"https://a\"]",
              JWT_ERR_ISSUER },
            { "issuers a b: none", "\"sub\":\"x\"", JWT_ERR_MISSING },
        };

        pol.issuers = list("https://a", "https://b", NULL);
        pol.audiences = NULL;
        for (i = 0; i < sizeof(mi) / sizeof(mi[0]); i++) {
            const char *p = apr_psprintf(pool, "{\"exp\":%" APR_INT64_T_FMT
                                         ",%s}", NOW + 60, mi[i].iss);
            int got = verify_code(token(H, p), &pol);

            ok(got == (int)mi[i].want, "%s: code %d, want %d", mi[i].name,
               got, mi[i].want);
        }
    }
}

static void test_kid(void)
{
    static const unsigned char ka[] = "key A: thirty-two bytes at least!!";
    static const unsigned char kb[] = "key B: thirty-two bytes at least!!";
    apr_array_header_t *keys = apr_array_make(pool, 2, sizeof(jwt_key_t *));
    jwt_policy_t pol = { JWT_ALG_BIT(JWT_ALG_HS256), NULL, NULL, NULL, 0 };
    const char *P = b64(apr_psprintf(pool, "{\"exp\":%" APR_INT64_T_FMT "}", NOW + 60));

    APR_ARRAY_PUSH(keys, jwt_key_t *) = make_key(ka, sizeof(ka) - 1, "a");
    APR_ARRAY_PUSH(keys, jwt_key_t *) = make_key(kb, sizeof(kb) - 1, "b");
    pol.keys = keys;
    ok(verify_code(token_raw(b64("{\"alg\":\"HS256\",\"kid\":\"b\"}"), P,
                             "SHA256", kb, sizeof(kb) - 1), &pol) == JWT_OK,
       "kid b picks key b");
    ok(verify_code(token_raw(b64("{\"alg\":\"HS256\",\"kid\":\"a\"}"), P,
                             "SHA256", kb, sizeof(kb) - 1), &pol)
       == JWT_ERR_SIGNATURE, "kid a with key b's MAC refused");
    ok(verify_code(token_raw(b64("{\"alg\":\"HS256\",\"kid\":\"c\"}"), P,
                             "SHA256", kb, sizeof(kb) - 1), &pol)
       == JWT_ERR_KEY, "unknown kid refused");
    ok(verify_code(token_raw(b64("{\"alg\":\"HS256\",\"kid\":\"../b\"}"), P,
                             "SHA256", kb, sizeof(kb) - 1), &pol)
       == JWT_ERR_KEY, "kid is an opaque name, not a path");
    ok(verify_code(token_raw(b64("{\"alg\":\"HS256\"}"), P, "SHA256", kb,
                             sizeof(kb) - 1), &pol) == JWT_OK,
       "no kid: every fitting key is tried");
}

static void test_sign(void)
{
    jwt_key_t *k32 = make_key(key64, 32, NULL), *k64 = make_key(key64, 64,
                                                                "main");
    apr_array_header_t *keys = apr_array_make(pool, 1, sizeof(jwt_key_t *));
    jwt_policy_t pol = { 0, NULL, NULL, NULL, 0 };
    json_t *claims = jwt_json_pool(pool, json_pack("{s:s, s:I, s:b}", "sub",
                                                   "daehan", "exp",
                                                   (json_int_t)NOW + 60,
                                                   "admin", 1));
    const char *tok, *dot;
    jwt_error_t err;
    jwt_t *jwt;
    int alg;

    APR_ARRAY_PUSH(keys, jwt_key_t *) = k64;
    pol.keys = keys;
    for (alg = JWT_ALG_HS256; alg <= JWT_ALG_HS512; alg++) {
        pol.algs = JWT_ALG_BIT(alg);
        ok(jwt_sign(&tok, pool, k64, (jwt_alg_e)alg, claims, &err)
           && jwt_verify(&jwt, pool, tok, strlen(tok), &pol, NOW, &err)
           && (int)jwt->alg == alg && jwt->kid && !strcmp(jwt->kid, "main")
           && !strcmp(jwt_claim_text(pool, &jwt->claims, "admin"), "true"),
           "%s: signed token verifies with kid and claims",
           jwt_alg_name((jwt_alg_e)alg));
    }
    ok(jwt_sign(&tok, pool, k64, JWT_ALG_HS256, claims, &err)
       && (dot = strchr(tok, '.'))
       && !strncmp(tok, b64("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":"
                            "\"main\"}"), (size_t)(dot - tok)),
       "header is {alg, typ, kid}");
    ok(!jwt_sign(&tok, pool, k32, JWT_ALG_HS512, claims, &err)
       && err.code == JWT_ERR_KEY, "32-byte key never signs HS512");
    ok(!jwt_sign(&tok, pool, k64, JWT_ALG_UNKNOWN, claims, &err),
       "unknown alg never signs");
}

/* The validated-token cache: hits re-check time and need the very
 * policy and generation; misses verify in full. */
static void test_cache(void)
{
    jwt_cache_t *c64 = jwt_cache_create(64);
    jwt_key_t *key = make_key(key64, 64, NULL), *other = make_key(
        (const unsigned char *)"another key, thirty-two bytes long!!", 36,
        NULL);
    apr_array_header_t *keys = apr_array_make(pool, 1, sizeof(jwt_key_t *));
    apr_array_header_t *keys2 = apr_array_make(pool, 1, sizeof(jwt_key_t *));
    jwt_policy_t pol = { JWT_ALG_BIT(JWT_ALG_HS256), NULL, NULL, NULL, 0,
                         NULL };
    jwt_policy_t pol2;
    const char *tok = token("{\"alg\":\"HS256\"}", apr_psprintf(pool,
                            "{\"sub\":\"x\",\"exp\":%" APR_INT64_T_FMT "}",
                            NOW + 10));
    char *bad = apr_pstrdup(pool, tok);
    jwt_t *jwt;
    jwt_error_t err;
    int hit;

    APR_ARRAY_PUSH(keys, jwt_key_t *) = key;
    APR_ARRAY_PUSH(keys2, jwt_key_t *) = other;
    pol.keys = keys;
    ok(jwt_verify_cached(&jwt, pool, c64, tok, strlen(tok), &pol, NOW, 1, NULL, &hit, &err) && !hit, "cache: first use verifies");
    ok(jwt_verify_cached(&jwt, pool, c64, tok, strlen(tok), &pol, NOW, 1, NULL, &hit, &err) && hit
       && !strcmp(jwt_claim_text(pool, &jwt->claims, "sub"), "x"),
       "cache: second use is a hit with the claims");
    ok(!jwt_verify_cached(&jwt, pool, c64, tok, strlen(tok), &pol, NOW + 10, 1, NULL, &hit, &err) && err.code == JWT_ERR_EXPIRED,
       "cache: a cached token still expires");
    ok(jwt_verify_cached(&jwt, pool, c64, tok, strlen(tok), &pol, NOW, 1, NULL, &hit, &err) && !hit,
       "cache: the expired entry was dropped (verified afresh)");
    pol2 = pol;
    pol2.keys = keys2;
    ok(!jwt_verify_cached(&jwt, pool, c64, tok, strlen(tok), &pol2, NOW, 1, NULL, &hit, &err) && !hit && err.code == JWT_ERR_SIGNATURE,
       "cache: another key set never takes the cached result");
    pol2 = pol;
    pol2.issuers = list("someone", NULL);
    ok(!jwt_verify_cached(&jwt, pool, c64, tok, strlen(tok), &pol2, NOW, 1, NULL, &hit, &err) && err.code == JWT_ERR_MISSING,
       "cache: another iss rule never takes the cached result");
    ok(jwt_verify_cached(&jwt, pool, c64, tok, strlen(tok), &pol, NOW, 2, NULL, &hit, &err) && !hit,
       "cache: a new generation misses");
    bad[strlen(bad) - 2] = bad[strlen(bad) - 2] == 'A' ? 'B' : 'A';
    ok(!jwt_verify_cached(&jwt, pool, c64, bad, strlen(bad), &pol, NOW, 2, NULL, &hit, &err) && !hit,
       "cache: a changed signature misses and fails");
    ok(jwt_verify_cached(&jwt, pool, NULL, tok, strlen(tok), &pol, NOW, 2, NULL, &hit, &err) && !hit,
       "cache: no cache never hits");
    jwt_cache_destroy(c64);
}

/* The shared tier: a second process finds what the first verified; an
 * entry that does not carry our MAC, or belongs to other keys, is not
 * believed; claims are still checked at every hit. */
static void test_shared(void)
{
    static const unsigned char secret[32] = "shared-cache secret, 32 bytes!!";
    static const unsigned char other[32] = "another secret... also 32 bytes";
    jwt_shared_cache_t sh = { fake_lookup, fake_store, NULL, secret, 32 };
    jwt_shared_cache_t sh2 = { fake_lookup, fake_store, NULL, other, 32 };
    jwt_key_t *key = make_key(key64, 64, NULL);
    apr_array_header_t *keys = apr_array_make(pool, 1, sizeof(jwt_key_t *));
    apr_array_header_t *keys2 = apr_array_make(pool, 1, sizeof(jwt_key_t *));
    jwt_policy_t pol = { JWT_ALG_BIT(JWT_ALG_HS256), NULL, NULL, NULL, 0,
                         NULL };
    jwt_policy_t pol2;
    const char *tok = token("{\"alg\":\"HS256\"}", apr_psprintf(pool,
        "{\"sub\":\"y\",\"exp\":%" APR_INT64_T_FMT "}", NOW + 10));
    const char *forged = token_raw(b64("{\"alg\":\"HS256\"}"), b64(
        apr_psprintf(pool, "{\"sub\":\"admin\",\"exp\":%" APR_INT64_T_FMT
                     "}", NOW + 10)), "SHA256",
        (const unsigned char *)"not the key, but 32 bytes long!!", 32);
    unsigned char fp1[32], fp2[32];
    jwt_t *jwt;
    jwt_error_t err;
    int hit, i;

    APR_ARRAY_PUSH(keys, jwt_key_t *) = key;
    pol.keys = keys;
    /* the same key loaded twice (two processes) names itself the same */
    APR_ARRAY_PUSH(keys2, jwt_key_t *) = make_key(key64, 64, NULL);
    pol2 = pol;
    pol2.keys = keys2;
    jwt_policy_fingerprint(fp1, &pol);
    jwt_policy_fingerprint(fp2, &pol2);
    ok(!memcmp(fp1, fp2, 32), "shared: equal policies, equal fingerprints");
    pol2.issuers = list("x", NULL);
    jwt_policy_fingerprint(fp2, &pol2);
    ok(memcmp(fp1, fp2, 32) != 0, "shared: iss changes the fingerprint");

    ok(jwt_verify_cached(&jwt, pool, NULL, tok, strlen(tok), &pol, NOW, 1, &sh, &hit, &err) && hit == JWT_CACHE_MISS
       && fake_stores == 1, "shared: first use verifies and stores");
    pol2 = pol;
    pol2.keys = keys2;
    ok(jwt_verify_cached(&jwt, pool, NULL, tok, strlen(tok), &pol2, NOW, 1, &sh, &hit, &err) && hit == JWT_CACHE_SHARED
       && !strcmp(jwt_claim_text(pool, &jwt->claims, "sub"), "y"),
       "shared: another process finds it, with the claims");
    ok(!jwt_verify_cached(&jwt, pool, NULL, tok, strlen(tok), &pol2, NOW + 10, 1, &sh, &hit, &err) && err.code == JWT_ERR_EXPIRED,
       "shared: a shared hit still expires");
    ok(jwt_verify_cached(&jwt, pool, NULL, tok, strlen(tok), &pol, NOW, 1, &sh2, &hit, &err) && hit == JWT_CACHE_MISS,
       "shared: an entry under another secret is not believed");
    /* an attacker who can write to the store plants an entry for a forged
     * token, with a MAC under a secret of their own */
    fake_reset();
    ok(!jwt_verify_cached(&jwt, pool, NULL, forged, strlen(forged), &pol, NOW, 1, &sh2, &hit, &err) && fake_stores == 0,
       "shared: a forged token fails and is not stored");
    /* a store that answers every key with an honest entry (of another
     * token): the MAC covers the key, so it does not verify there */
    jwt_verify_cached(&jwt, pool, NULL, tok, strlen(tok), &pol, NOW, 1, &sh, &hit, &err);
    fake_any = 1;
    ok(!jwt_verify_cached(&jwt, pool, NULL, forged, strlen(forged), &pol, NOW, 1, &sh, &hit, &err) && hit == JWT_CACHE_MISS
       && err.code == JWT_ERR_SIGNATURE,
       "shared: an honest entry offered for another token is refused");
    fake_any = 0;
    /* one changed byte in a stored entry: not believed */
    memset(fake, 0, sizeof(fake));
    jwt_verify_cached(&jwt, pool, NULL, tok, strlen(tok), &pol, NOW, 1, &sh, &hit, &err);
    for (i = 0; i < 8; i++) {
        if (fake[i].used) {
            fake[i].val[fake[i].len - 3] ^= 1;
        }
    }
    ok(jwt_verify_cached(&jwt, pool, NULL, tok, strlen(tok), &pol, NOW, 1, &sh, &hit, &err) && hit == JWT_CACHE_MISS,
       "shared: a tampered entry is a miss, the token verified afresh");
    pol2 = pol;
    pol2.keys = apr_array_make(pool, 1, sizeof(jwt_key_t *));
    APR_ARRAY_PUSH((apr_array_header_t *)pol2.keys, jwt_key_t *) = make_key(
        (const unsigned char *)"a third key, thirty-two bytes....", 33,
        NULL);
    ok(!jwt_verify_cached(&jwt, pool, NULL, tok, strlen(tok), &pol2, NOW, 1, &sh, &hit, &err) && hit == JWT_CACHE_MISS,
       "shared: a scope with other keys never takes the entry");
}

static void test_claim_text(void)
{
    static const char text[] = "{\"s\":\"x y\",\"i\":1,\"b\":true,"
                               "\"o\":{\"a\":[1, 2]}}";
    jwt_claims_t claims, *c = NULL;

    if (jwt_claims_parse(&claims, pool, text, sizeof(text) - 1)) {
        c = &claims;
    }
    ok(c != NULL, "claims parsed");
    ok(c && !strcmp(jwt_claim_text(pool, c, "s"), "x y"), "string raw");
    ok(c && !strcmp(jwt_claim_text(pool, c, "i"), "1"), "integer as JSON");
    ok(c && !strcmp(jwt_claim_text(pool, c, "b"), "true"), "bool as JSON");
    ok(c && !strcmp(jwt_claim_text(pool, c, "o"), "{\"a\":[1,2]}"),
       "object as compact JSON");
    ok(c && jwt_claim_text(pool, c, "none") == NULL, "absent is NULL");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_b64url();
    test_keys();
    test_rfc7515_a1();
    test_verify_table();
    test_leeway_iss_aud();
    test_kid();
    test_sign();
    test_cache();
    test_shared();
    test_claim_text();
    apr_pool_destroy(pool);
    apr_terminate();
    return done_testing();
}
