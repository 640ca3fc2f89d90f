/*
 * mint.c: many distinct tokens for the bench's many-users rows, one a
 * line on stdout, signed by the core's jwt_sign.
 *
 *   mint [-k KID] [-s FIRST] ALG KEYFILE N [SECONDS]
 *
 * ALG: HS256 (KEYFILE: the secret file, its bytes as they are, as
 * JWTAuthSecretFile reads it), RS256, PS256, ES256, EdDSA (KEYFILE: a PEM
 * private key), or HS256-SET (KEYFILE: a JWK Set of oct keys with kids:
 * token i is signed with key i modulo the set's size and names its kid).
 * Tokens carry no kid but in HS256-SET (mod_auth_openidc's key from a
 * certificate file has none to match) and with -k, which names KID in
 * every header (the remote JWK Set row: an identity provider's keys have
 * kids, and a token's kid picks its key).  Token i (i from FIRST, default
 * 0, to FIRST + N - 1: -s gives tokens that are not in another file)
 * carries sub "user<i>", jti "bench-<i>", iss "bench", roles [reader,
 * editor], scope "read write", a nested org {"team": {"name": "core"}},
 * iat now and exp now + SECONDS (default a week): about the claims of the
 * single-token rows, the same size whatever i is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_file_io.h>

#include "jose.h"

static void die(const char *what, const char *why)
{
    fprintf(stderr, "mint: %s: %s\n", what, why);
    exit(1);
}

int main(int argc, char **argv)
{
    apr_pool_t *p, *iter;
    apr_array_header_t *keys;
    jwt_key_t *key = NULL;
    jwt_alg_e alg;
    jwt_error_t err;
    char *text;
    apr_size_t len;
    apr_file_t *f;
    long n, i;
    apr_int64_t now = (apr_int64_t)time(NULL), life = 7 * 86400;
    int set = 0;
    const char *hdr, *kid = NULL;
    long first = 0;

    while (argc > 2 && argv[1][0] == '-') {
        if (!strcmp(argv[1], "-k")) {
            kid = argv[2];
        }
        else if (!strcmp(argv[1], "-s")) {
            first = atol(argv[2]);
        }
        else {
            break;
        }
        argc -= 2;
        argv += 2;
    }
    if (argc < 4 || argv[1][0] == '-') {
        die("usage", "mint [-k KID] [-s FIRST] ALG KEYFILE N [SECONDS]");
    }
    n = atol(argv[3]);
    if (argc > 4) {
        life = atol(argv[4]);
    }
    apr_initialize();
    apr_pool_create(&p, NULL);
    apr_pool_create(&iter, p);
    if (apr_file_open(&f, argv[2], APR_READ, 0, p) != APR_SUCCESS) {
        die(argv[2], "cannot open");
    }
    text = apr_palloc(p, 1 << 20);
    len = (1 << 20) - 1;
    apr_file_read(f, text, &len);
    text[len] = '\0';
    keys = apr_array_make(p, 1, sizeof(jwt_key_t *));
    if (!strcmp(argv[1], "HS256") || !strcmp(argv[1], "HS256-SET")) {
        alg = JWT_ALG_HS256;
        if (!strcmp(argv[1], "HS256")) {
            if (!jwt_key_hmac_create(&key, p, (unsigned char *)text, len,
                                     NULL, &err)) {
                die(argv[2], err.reason);
            }
            APR_ARRAY_PUSH(keys, jwt_key_t *) = key;
        }
        else if (!jwt_keys_load(keys, p, text, len, NULL, 1, &err)) {
            die(argv[2], err.reason);
        }
        else {
            set = 1;
        }
    }
    else {
        alg = !strcmp(argv[1], "RS256") ? JWT_ALG_RS256
              : !strcmp(argv[1], "PS256") ? JWT_ALG_PS256
              : !strcmp(argv[1], "ES256") ? JWT_ALG_ES256
              : !strcmp(argv[1], "EdDSA") ? JWT_ALG_EDDSA : JWT_ALG_UNKNOWN;
        if (alg == JWT_ALG_UNKNOWN) {
            die(argv[1], "not HS256, HS256-SET, RS256, PS256, ES256 or "
                "EdDSA");
        }
        if (!jwt_keys_load(keys, p, text, len, NULL, 1, &err)) {
            die(argv[2], err.reason);
        }
    }
    if (set && kid) {
        die("-k", "not with HS256-SET (its keys name their own kids)");
    }
    /* kid comes from the command line: kept to a plain name, so that it
     * needs no JSON escaping */
    if (kid && (!*kid || strspn(kid, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "abcdefghijklmnopqrstuvwxyz0123456789-_.")
                         != strlen(kid))) {
        die("-k", "a kid of A-Z a-z 0-9 - _ . only");
    }
    hdr = kid ? apr_psprintf(p, "{\"alg\":\"%s\",\"typ\":\"JWT\","
                             "\"kid\":\"%s\"}", jwt_alg_name(alg), kid)
          : apr_psprintf(p, "{\"alg\":\"%s\",\"typ\":\"JWT\"}",
                         jwt_alg_name(alg));
    for (i = first; i < first + n; i++) {
        json_t *claims = json_pack(
            "{s:s, s:I, s:I, s:s, s:s, s:[ss], s:s, s:{s:{s:s}}}",
            "sub", apr_psprintf(iter, "user%08ld", i),
            "exp", (json_int_t)(now + life), "iat", (json_int_t)now,
            "iss", "bench", "jti", apr_psprintf(iter, "bench-%08ld", i),
            "roles", "reader", "editor", "scope", "read write",
            "org", "team", "name", "core");
        const char *tok;

        key = APR_ARRAY_IDX(keys, i % keys->nelts, jwt_key_t *);
        if (!claims) {
            die("sign", "json_pack");
        }
        if (set) {
            if (!jwt_sign(&tok, iter, key, alg, claims, &err)) {
                die("sign", err.reason);
            }
        }
        else {
            /* jwt_sign would name the key's thumbprint in kid */
            char *body = json_dumps(claims, JSON_COMPACT);
            const char *input = apr_pstrcat(
                iter, jwt_b64url_encode(iter, (unsigned char *)hdr,
                                        strlen(hdr)), ".",
                jwt_b64url_encode(iter, (unsigned char *)body, strlen(body)),
                NULL);
            unsigned char *sig;
            size_t siglen;

            free(body);
            if (!jwt_key_sign(iter, key, alg, (const unsigned char *)input,
                              strlen(input), &sig, &siglen)) {
                die("sign", "jwt_key_sign failed");
            }
            tok = apr_pstrcat(iter, input, ".",
                              jwt_b64url_encode(iter, sig, siglen), NULL);
        }
        json_decref(claims);
        puts(tok);
        apr_pool_clear(iter);
    }
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
