/*
 * test_keysets.c: JWK Sets as identity providers publish them, through
 * jwt_keys_load_ex (jose/keys.c), TAP.
 *
 * - t/vectors/idp: sets in the member layout of Keycloak, Entra ID,
 *   Auth0, Okta and Google each load with the expected keys and skips
 *   (Keycloak's RSA-OAEP "use": "enc" key is skipped, with its reason);
 *   tokens in the shapes each provider issues, signed with the matching
 *   test-only private keys, verify, the key chosen by kid.
 * - Hostile sets, a row each: what loads, what is skipped and why, what
 *   is refused; x5c is never the key (n/e win over a certificate that
 *   disagrees); keys sharing a kid all serve.
 */
#include <stdlib.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "jose.h"
#include "tap.h"
#include "util.h"

#define NOW ((apr_int64_t)1700000000)
#define RSA_ALGS (JWT_ALG_BIT(JWT_ALG_RS256) | JWT_ALG_BIT(JWT_ALG_RS384) \
                  | JWT_ALG_BIT(JWT_ALG_RS512) | JWT_ALG_BIT(JWT_ALG_PS256) \
                  | JWT_ALG_BIT(JWT_ALG_PS384) | JWT_ALG_BIT(JWT_ALG_PS512))

static apr_pool_t *pool;
static const char *dir = "t/vectors/idp";

/* A file of t/vectors/idp, whole and NUL-terminated; exits if absent. */
static char *idp_file(const char *name)
{
    return slurp(pool, apr_pstrcat(pool, dir, "/", name, NULL));
}

/* The keys of a text, or NULL with err set; *skipped as the core gives. */
static apr_array_header_t *load(const char *text, int want_private,
                                apr_array_header_t **skipped,
                                jwt_error_t *err)
{
    apr_array_header_t *keys = apr_array_make(pool, 2, sizeof(jwt_key_t *));

    *skipped = NULL;
    err->reason = "";
    if (!jwt_keys_load_ex(keys, pool, text, strlen(text), NULL,
                          want_private, skipped, err)) {
        return NULL;
    }
    return keys;
}

/* The private test key of a provider, named kid as the set names it. */
static jwt_key_t *private_key(const char *name, const char *kid)
{
    apr_array_header_t *keys = apr_array_make(pool, 1, sizeof(jwt_key_t *));
    const char *pem = idp_file(apr_pstrcat(pool, "test-only-", name, ".key",
                                           NULL));
    jwt_error_t err;

    if (!jwt_keys_load(keys, pool, pem, strlen(pem), kid, 1, &err)) {
        printf("# %s: %s\n", name, err.reason);
        exit(1);
    }
    return APR_ARRAY_IDX(keys, 0, jwt_key_t *);
}

/* A compact JWS of header and payload (JSON texts, used as they are)
 * signed by key under alg. */
static const char *sign(jwt_key_t *key, jwt_alg_e alg, const char *header,
                        const char *payload)
{
    const char *input = apr_pstrcat(pool,
        jwt_b64url_encode(pool, (const unsigned char *)header,
                          strlen(header)), ".",
        jwt_b64url_encode(pool, (const unsigned char *)payload,
                          strlen(payload)), NULL);
    unsigned char *sig;
    size_t siglen;

    if (!jwt_key_sign(pool, key, alg, (const unsigned char *)input,
                      strlen(input), &sig, &siglen)) {
        printf("# cannot sign\n");
        exit(1);
    }
    return apr_pstrcat(pool, input, ".", jwt_b64url_encode(pool, sig, siglen),
                       NULL);
}

/* Does token verify under keys (RSA algorithms allowed)?  *why is the
 * reason when not. */
static int verifies(const char *token, const apr_array_header_t *keys,
                    const char *typ, const char **why)
{
    jwt_policy_t pol = { RSA_ALGS, NULL, NULL, NULL, 0, NULL };
    jwt_t *jwt;
    jwt_error_t err;

    pol.keys = keys;
    pol.typ = typ;
    *why = "verifies";
    if (!jwt_verify(&jwt, pool, token, strlen(token), &pol, NOW, &err)) {
        *why = err.reason;
        return 0;
    }
    return 1;
}

/* The kid of key #i of a set's text. */
static const char *set_kid(const char *text, size_t i)
{
    json_t *doc = jwt_json_object(pool, text, strlen(text));

    return json_string_value(json_object_get(
               json_array_get(json_object_get(doc, "keys"), i), "kid"));
}

/* A member of key #i of a set's text, as JSON ("\"n\":\"...\""). */
static const char *set_member(const char *text, size_t i, const char *name)
{
    json_t *doc = jwt_json_object(pool, text, strlen(text));
    json_t *v = json_object_get(json_array_get(json_object_get(doc, "keys"),
                                               i), name);
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    const char *out = apr_psprintf(pool, "\"%s\":%s", name, s);

    free(s);
    return out;
}

static int has_kid(const apr_array_header_t *keys, const char *kid)
{
    int i;

    for (i = 0; keys && i < keys->nelts; i++) {
        const char *k = jwt_key_kid(APR_ARRAY_IDX(keys, i, jwt_key_t *));

        if (k && !strcmp(k, kid)) {
            return 1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- */
/* the providers' sets and tokens                                   */

static void test_providers(void)
{
    static const struct {
        const char *name;
        int keys, skips;        /* loaded; skipped */
        size_t skip_index;
        const char *skip_reason;
        unsigned algs;          /* of every loaded key */
        const char *signer;     /* test-only-<signer>.key */
        size_t signer_index;    /* its place in the set */
        const char *header;     /* %s: the kid */
        const char *payload;
        const char *typ;        /* a required typ, or NULL */
    } rows[] = {
        { "keycloak", 1, 1, 0, "JWK use is not \"sig\"",
          JWT_ALG_BIT(JWT_ALG_RS256), "keycloak-sig", 1,
          "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
          "{\"exp\":1700000300,\"iat\":1700000000,\"jti\":\"2c1a7e4b-0d3f-"
          "4bde-9a55-1f4f8a61c0d2\",\"iss\":\"https://kc.example/realms/"
          "demo\",\"aud\":\"account\",\"sub\":\"5f0c6a2e-8b1d-4c3a-9e7f-"
          "0a1b2c3d4e5f\",\"typ\":\"Bearer\",\"azp\":\"web\",\"scope\":"
          "\"openid profile email\",\"preferred_username\":\"daehan\"}",
          NULL },
        { "entra", 2, 0, 0, NULL, RSA_ALGS, "entra-2", 1,
          /* Entra ID puts the certificate thumbprint beside the kid */
          "{\"typ\":\"JWT\",\"alg\":\"RS256\",\"x5t\":\"%s\",\"kid\":"
          "\"%s\"}",
          "{\"aud\":\"6e74172b-be56-4843-9ff4-e66a39bb12e3\",\"iss\":"
          "\"https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-"
          "2d7cd011db47/v2.0\",\"iat\":1700000000,\"nbf\":1700000000,"
          "\"exp\":1700003600,\"oid\":\"690222be-ff1a-4d56-abd1-"
          "7e4f7d38e474\",\"sub\":\"AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782"
          "bbtaQ\",\"tid\":\"72f988bf-86f1-41af-91ab-2d7cd011db47\","
          "\"ver\":\"2.0\"}", NULL },
        { "auth0", 1, 0, 0, NULL, JWT_ALG_BIT(JWT_ALG_RS256), "auth0", 0,
          /* an access token of the RFC 9068 profile */
          "{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}",
          "{\"iss\":\"https://tenant.eu.auth0.com/\",\"sub\":\"auth0|"
          "64b7f0c2a1e3d4f5a6b7c8d9\",\"aud\":[\"https://api.example\","
          "\"https://tenant.eu.auth0.com/userinfo\"],\"iat\":1700000000,"
          "\"exp\":1700086400,\"scope\":\"openid profile\",\"azp\":"
          "\"q1w2e3r4t5y6u7i8o9p0\",\"client_id\":\"q1w2e3r4t5y6u7i8o9p0\","
          "\"jti\":\"b4c1d2e3\"}", "at+jwt" },
        { "okta", 1, 0, 0, NULL, JWT_ALG_BIT(JWT_ALG_RS256), "okta", 0,
          /* Okta's access tokens carry no typ */
          "{\"kid\":\"%s\",\"alg\":\"RS256\"}",
          "{\"ver\":1,\"jti\":\"AT.8nQnXoZ0Yb\",\"iss\":\"https://dev-1234"
          ".okta.com/oauth2/default\",\"aud\":\"api://default\",\"iat\":"
          "1700000000,\"exp\":1700003600,\"cid\":\"0oa1b2c3d4\",\"uid\":"
          "\"00u1b2c3d4\",\"scp\":[\"openid\",\"email\"],\"auth_time\":"
          "1699999990,\"sub\":\"daehan@example.com\"}", NULL },
        { "google", 2, 0, 0, NULL, JWT_ALG_BIT(JWT_ALG_RS256), "google-2", 1,
          "{\"alg\":\"RS256\",\"kid\":\"%s\",\"typ\":\"JWT\"}",
          "{\"iss\":\"https://accounts.google.com\",\"azp\":\"1234-abc.apps"
          ".googleusercontent.com\",\"aud\":\"1234-abc.apps.googleusercontent"
          ".com\",\"sub\":\"110169484474386276334\",\"email\":\"daehan@"
          "example.com\",\"email_verified\":true,\"iat\":1700000000,"
          "\"exp\":1700003600}", NULL },
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *text = idp_file(apr_pstrcat(pool, rows[i].name, ".json",
                                                NULL));
        apr_array_header_t *keys, *skipped;
        const jwt_key_skip_t *sk;
        jwt_error_t err;
        const char *kid = set_kid(text, rows[i].signer_index), *tok, *why = "";
        int j, v, algs_ok = 1;

        keys = load(text, 0, &skipped, &err);
        ok(keys && keys->nelts == rows[i].keys,
           "%s: %d usable keys (got %d: %s)", rows[i].name, rows[i].keys,
           keys ? keys->nelts : 0, keys ? "loaded" : err.reason);
        if (!keys) {
            continue;
        }
        ok(skipped && skipped->nelts == rows[i].skips,
           "%s: %d skipped (got %d)", rows[i].name, rows[i].skips,
           skipped ? skipped->nelts : -1);
        if (rows[i].skips && skipped && skipped->nelts) {
            sk = &APR_ARRAY_IDX(skipped, 0, jwt_key_skip_t);
            ok(sk->index == rows[i].skip_index
               && !strcmp(sk->reason, rows[i].skip_reason)
               && sk->kid && !strcmp(sk->kid, set_kid(text, sk->index)),
               "%s: key #%d (kid %s) skipped: %s", rows[i].name,
               (int)sk->index, sk->kid ? sk->kid : "none", sk->reason);
            ok(!has_kid(keys, sk->kid), "%s: the skipped key is not among "
               "the keys", rows[i].name);
        }
        for (j = 0; j < keys->nelts; j++) {
            jwt_key_t *k = APR_ARRAY_IDX(keys, j, jwt_key_t *);

            algs_ok &= jwt_key_algs(k) == rows[i].algs
                       && jwt_key_kty(k) == JWT_KTY_RSA;
        }
        ok(algs_ok, "%s: every key is RSA bound to %s", rows[i].name,
           rows[i].algs == RSA_ALGS ? "RS* and PS* (no alg)" : "RS256");
        ok(has_kid(keys, kid), "%s: the signing key keeps its kid %s",
           rows[i].name, kid);

        /* a token as the provider issues it, chosen by kid */
        tok = sign(private_key(rows[i].signer, kid), JWT_ALG_RS256,
                   apr_psprintf(pool, rows[i].header, kid, kid),
                   rows[i].payload);
        v = verifies(tok, keys, rows[i].typ, &why);
        ok(v, "%s: its token verifies: %s", rows[i].name, why);
        /* the same signature under another key's kid of the set */
        if (keys->nelts > 1 || rows[i].skips) {
            const char *other = set_kid(text, 1 - rows[i].signer_index);

            tok = sign(private_key(rows[i].signer, kid), JWT_ALG_RS256,
                       apr_psprintf(pool, rows[i].header, other, other),
                       rows[i].payload);
            v = verifies(tok, keys, rows[i].typ, &why);
            ok(!v && strstr(why, rows[i].skips ? "no key" : "does not verify"),
               "%s: signed by %s but naming kid %s: refused: %s",
               rows[i].name, rows[i].signer, other, why);
        }
    }
}

/* ---------------------------------------------------------------- */
/* hostile sets                                                     */

/* "n":"..","e":".." of a fresh RSA key of bits */
static const char *rsa_members(int bits)
{
    EVP_PKEY *pk = EVP_RSA_gen((unsigned)bits);
    BIGNUM *n = NULL, *e = NULL;
    unsigned char buf[1024];
    const char *out = NULL;
    int nl, el;

    if (pk && EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n)
        && EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e)) {
        nl = BN_bn2bin(n, buf);
        out = apr_pstrcat(pool, "\"n\":\"",
                          jwt_b64url_encode(pool, buf, (size_t)nl), NULL);
        el = BN_bn2bin(e, buf);
        out = apr_pstrcat(pool, out, "\",\"e\":\"",
                          jwt_b64url_encode(pool, buf, (size_t)el), "\"",
                          NULL);
    }
    BN_free(n);
    BN_free(e);
    EVP_PKEY_free(pk);
    if (!out) {
        printf("# cannot make an RSA key\n");
        exit(1);
    }
    return out;
}

static void test_hostile(void)
{
    const char *okta = idp_file("okta.json");
    const char *auth0 = idp_file("auth0.json");
    const char *ne = apr_pstrcat(pool, set_member(okta, 0, "n"), ",",
                                 set_member(okta, 0, "e"), NULL);
    const char *ne1024 = rsa_members(1024);
    const char *ec = "\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg"
        "8vub9tLe1gHMzV76e8Tus9uPHvRVEU\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW"
        "6pCyStikYjKIWI5a0\"";
    const char *oct = "\"kty\":\"oct\",\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwV"
        "MkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow\"";
    const char *good = apr_pstrcat(pool, "{\"kty\":\"RSA\",\"kid\":\"good\",",
                                   ne, "}", NULL);
    struct {
        const char *name;
        const char *text;
        int keys;               /* loaded; -1: refused */
        int skips;
        const char *reason;     /* of the refusal, or of the first skip */
    } rows[] = {
        { "every key unusable: refused, with the first reason",
          apr_pstrcat(pool, "{\"keys\":[{\"kty\":\"RSA\",\"use\":\"enc\",",
                      ne, "},{\"kty\":\"EC\",\"crv\":\"P-192\",\"x\":\"AA\","
                      "\"y\":\"AA\"}]}", NULL), -1, 2,
          "JWK Set has no usable key (2 skipped; key #0: JWK use is not "
          "\"sig\")" },
        { "empty keys: refused", "{\"keys\":[]}", -1, 0,
          "JWK Set \"keys\" is not a non-empty array" },
        { "keys an object: refused", "{\"keys\":{\"kty\":\"RSA\"}}", -1, 0,
          "JWK Set \"keys\" is not a non-empty array" },
        { "keys a string: refused", "{\"keys\":\"x\"}", -1, 0,
          "JWK Set \"keys\" is not a non-empty array" },
        { "members that are not objects: skipped",
          apr_pstrcat(pool, "{\"keys\":[1,\"x\",null,[],", good, "]}", NULL),
          1, 4, "JWK is not a JSON object" },
        { "only non-objects: refused", "{\"keys\":[1,{}]}", -1, 2,
          "JWK Set has no usable key (2 skipped; key #0: JWK is not a JSON "
          "object)" },
        { "x5c and x5u naming URLs: ignored, the key loads",
          apr_pstrcat(pool, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"u\",", ne,
                      ",\"x5c\":[\"https://attacker.example/cert.der\"],"
                      "\"x5u\":\"https://attacker.example/chain.pem\","
                      "\"x5t\":\"not-a-thumbprint\",\"x5t#S256\":7,"
                      "\"issuer\":\"https://login.example/{tenantid}/v2.0\","
                      "\"jku\":\"https://attacker.example/jwks\"}]}", NULL),
          1, 0, NULL },
        { "use enc: skipped", apr_pstrcat(pool, "{\"keys\":[{\"kty\":\"RSA\","
          "\"use\":\"enc\",\"alg\":\"RSA-OAEP\",", ne, "},", good, "]}",
          NULL), 1, 1, "JWK use is not \"sig\"" },
        { "use not a string: skipped", apr_pstrcat(pool, "{\"keys\":[{"
          "\"kty\":\"RSA\",\"use\":[\"sig\"],", ne, "},", good, "]}", NULL),
          1, 1, "JWK use is not \"sig\"" },
        { "key_ops without verify: skipped", apr_pstrcat(pool, "{\"keys\":["
          "{\"kty\":\"RSA\",\"key_ops\":[\"encrypt\",\"wrapKey\"],", ne,
          "},", good, "]}", NULL), 1, 1, "JWK key_ops lacks \"verify\"" },
        { "key_ops with verify: loads", apr_pstrcat(pool, "{\"keys\":[{"
          "\"kty\":\"RSA\",\"key_ops\":[\"verify\"],", ne, "}]}", NULL),
          1, 0, NULL },
        { "alg none: skipped", apr_pstrcat(pool, "{\"keys\":[{\"kty\":"
          "\"RSA\",\"alg\":\"none\",", ne, "},", good, "]}", NULL), 1, 1,
          "JWK alg unknown or none" },
        { "alg RSA-OAEP-256 with use sig: skipped", apr_pstrcat(pool,
          "{\"keys\":[{\"kty\":\"RSA\",\"use\":\"sig\",\"alg\":"
          "\"RSA-OAEP-256\",", ne, "},", good, "]}", NULL), 1, 1,
          "JWK alg unknown or none" },
        { "alg of another family: skipped", apr_pstrcat(pool, "{\"keys\":[{",
          ec, ",\"alg\":\"RS256\"},", good, "]}", NULL), 1, 1,
          "JWK alg RS256 does not fit its key" },
        { "unknown kty: skipped", apr_pstrcat(pool, "{\"keys\":[{\"kty\":"
          "\"PQC\",\"pub\":\"AA\"},", good, "]}", NULL), 1, 1,
          "JWK kty 'PQC' is not supported" },
        { "kty not a string: skipped", apr_pstrcat(pool, "{\"keys\":[{"
          "\"kty\":1},", good, "]}", NULL), 1, 1, "JWK without kty" },
        { "unknown crv: skipped", apr_pstrcat(pool, "{\"keys\":[{\"kty\":"
          "\"EC\",\"crv\":\"P-192\",\"x\":\"AA\",\"y\":\"AA\"},{\"kty\":"
          "\"OKP\",\"crv\":\"X25519\",\"x\":\"AA\"},", good, "]}", NULL),
          1, 2, "EC JWK crv is none of P-256, P-384, P-521, secp256k1" },
        { "RSA 1024: skipped", apr_pstrcat(pool, "{\"keys\":[{\"kty\":"
          "\"RSA\",", ne1024, "},", good, "]}", NULL), 1, 1,
          "RSA key is 1024 bits; at least 2048 are required (RFC 7518 "
          "section 3.3)" },
        { "n not base64url: skipped", apr_pstrcat(pool, "{\"keys\":[{"
          "\"kty\":\"RSA\",\"n\":\"!!not base64!!\",\"e\":\"AQAB\"},", good,
          "]}", NULL), 1, 1, "RSA JWK without a valid 'n'" },
        { "EC point off its curve: skipped", apr_pstrcat(pool, "{\"keys\":["
          "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1g"
          "HMzV76e8Tus9uPHvRVEU\",\"y\":\"x_FEyRu9m36HLN_tue659LNpXW6pCyStik"
          "YjKIWI5a0\"},", good, "]}", NULL), 1, 1,
          "EC JWK is not a point on its curve" },
        { "kid not a string: skipped", apr_pstrcat(pool, "{\"keys\":[{\"kty\""
          ":\"RSA\",\"kid\":5,", ne, "},", good, "]}", NULL), 1, 1,
          "JWK kid is not a string" },
        { "an HMAC secret in a set: kept", apr_pstrcat(pool, "{\"keys\":[{",
          oct, ",\"kid\":\"h\"},", good, "]}", NULL), 2, 0, NULL },
        { "an HMAC secret under 32 bytes: skipped", apr_pstrcat(pool,
          "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2hvcnQ\"},", good, "]}",
          NULL), 1, 1, "HMAC key is 5 bytes; HS256 needs at least 32 (RFC "
          "7518 section 3.2)" },
        { "a single JWK with use enc: refused as before", apr_pstrcat(pool,
          "{\"kty\":\"RSA\",\"use\":\"enc\",", ne, "}", NULL), -1, 0,
          "JWK use is not \"sig\"" },
        { "a single JWK with a broken n: refused as before",
          "{\"kty\":\"RSA\",\"n\":\"!\",\"e\":\"AQAB\"}", -1, 0,
          "RSA JWK without a valid 'n'" },
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        apr_array_header_t *keys, *skipped;
        jwt_error_t err;
        const char *first = NULL;

        keys = load(rows[i].text, 0, &skipped, &err);
        if (skipped && skipped->nelts) {
            first = APR_ARRAY_IDX(skipped, 0, jwt_key_skip_t).reason;
        }
        if (rows[i].keys < 0) {
            ok(!keys && !strcmp(err.reason, rows[i].reason)
               && skipped && skipped->nelts == rows[i].skips,
               "%s: %s (%d skipped)", rows[i].name, err.reason,
               skipped ? skipped->nelts : -1);
        }
        else {
            ok(keys && keys->nelts == rows[i].keys && skipped
               && skipped->nelts == rows[i].skips
               && (!rows[i].reason || !strcmp(first, rows[i].reason)),
               "%s: %d loaded, %d skipped%s%s", rows[i].name,
               keys ? keys->nelts : -1, skipped ? skipped->nelts : -1,
               first ? ": " : "", first ? first : keys ? "" : err.reason);
        }
    }

    {
        /* x5c holds auth0's certificate, n/e are okta's: n/e are the key */
        const char *okta_kid = set_kid(okta, 0), *why = "", *tok;
        const char *pay = "{\"sub\":\"x\",\"exp\":1700000300}";
        const char *hdr = "{\"alg\":\"RS256\",\"kid\":\"mixed\"}";
        const char *t = apr_pstrcat(pool, "{\"keys\":[{\"kty\":\"RSA\","
                                    "\"kid\":\"mixed\",\"use\":\"sig\",", ne,
                                    ",", set_member(auth0, 0, "x5c"), ",",
                                    set_member(auth0, 0, "x5t"), "}]}",
                                    NULL);
        apr_array_header_t *keys, *skipped;
        jwt_error_t err;
        int v;

        keys = load(t, 0, &skipped, &err);
        ok(keys && keys->nelts == 1, "n/e beside another key's x5c: loads");
        tok = sign(private_key("okta", okta_kid), JWT_ALG_RS256, hdr, pay);
        v = keys && verifies(tok, keys, NULL, &why);
        ok(v, "n/e beside another key's x5c: the n/e key verifies: %s",
           why);
        tok = sign(private_key("auth0", NULL), JWT_ALG_RS256, hdr, pay);
        v = keys && !verifies(tok, keys, NULL, &why);
        ok(v && !strcmp(why, "signature does not verify"), "n/e beside "
           "another key's x5c: the certificate's key does not: %s", why);
    }

    {
        /* two keys sharing a kid (RFC 7517 section 4.5): both serve */
        const char *pay = "{\"sub\":\"x\",\"exp\":1700000300}";
        const char *hdr = "{\"alg\":\"RS256\",\"kid\":\"dup\"}";
        const char *t = apr_pstrcat(pool, "{\"keys\":[{\"kty\":\"RSA\","
                                    "\"kid\":\"dup\",", ne, "},{\"kty\":"
                                    "\"RSA\",\"kid\":\"dup\",",
                                    set_member(auth0, 0, "n"), ",",
                                    set_member(auth0, 0, "e"), "}]}", NULL);
        apr_array_header_t *keys, *skipped;
        jwt_error_t err;
        const char *why1 = "", *why2 = "", *why3 = "";
        int v;

        keys = load(t, 0, &skipped, &err);
        ok(keys && keys->nelts == 2 && skipped->nelts == 0,
           "duplicate kids: both keys load");
        v = keys && verifies(sign(private_key("okta", NULL), JWT_ALG_RS256,
                                  hdr, pay), keys, NULL, &why1);
        v = v && verifies(sign(private_key("auth0", NULL), JWT_ALG_RS256, hdr,
                               pay), keys, NULL, &why2);
        ok(v, "duplicate kids: a token of either key verifies: %s, %s", why1,
           why2);
        v = keys && !verifies(sign(private_key("google-2", NULL),
                                   JWT_ALG_RS256, hdr, pay), keys, NULL,
                              &why3);
        ok(v && !strcmp(why3, "signature does not verify"),
           "duplicate kids: a third key's token does not: %s", why3);
    }

    {
        /* want_private: the public keys of a set are skipped */
        apr_array_header_t *keys, *skipped;
        jwt_error_t err;
        const char *t = apr_pstrcat(pool, "{\"keys\":[{", ec, "},{", oct,
                                    "}]}", NULL);

        keys = load(t, 1, &skipped, &err);
        ok(keys && keys->nelts == 1 && skipped->nelts == 1
           && !strcmp(APR_ARRAY_IDX(skipped, 0, jwt_key_skip_t).reason,
                      "EC JWK without a valid 'd'"),
           "want_private: the public EC key is skipped, the secret loads");
    }
}

/* A key file's text is read within its length only: no byte past it
 * decides anything, and a NUL byte is no blank. */
static void test_bounds(void)
{
    static const char pem[] = "junk-----BEGIN PRIVATE KEY-----";
    char jwk[128];
    const char *body = "{\"kty\":\"oct\",\"k\":\""
                       "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\"}";
    apr_array_header_t *keys = apr_array_make(pool, 1, sizeof(jwt_key_t *));
    jwt_error_t err;
    int r;

    memset(&err, 0, sizeof(err));
    r = jwt_keys_load(keys, pool, pem, 4, NULL, 0, &err);
    ok(!r && err.reason
       && !strcmp(err.reason, "no PEM public key or certificate found"),
       "a PEM marker after len is not read: got %s, want 'no PEM public "
       "key or certificate found'", err.reason ? err.reason : "success");
    jwk[0] = '\0';
    memcpy(jwk + 1, body, strlen(body) + 1);
    r = jwt_keys_load(keys, pool, body, strlen(body), NULL, 0, &err);
    ok(r, "control: the JWK loads: %s", r ? "ok" : err.reason);
    memset(&err, 0, sizeof(err));
    r = jwt_keys_load(keys, pool, jwk, strlen(body) + 1, NULL, 0, &err);
    ok(!r, "the same JWK after a NUL byte is refused: got %s, want a "
       "refusal", r ? "loaded" : err.reason);
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_providers();
    test_hostile();
    test_bounds();
    return done_testing();
}
