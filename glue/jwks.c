/*
 * jwks.c: SetHandler jwtauth-jwks, the scope's public keys as a JWK Set
 * (RFC 7517 section 5) for the services that check our tokens.
 */
#include <string.h>

#include "apr_strings.h"

#include "httpd.h"
#include "http_config.h"
#include "http_protocol.h"
#include "http_request.h"

#include "glue.h"

/* SetHandler jwtauth-jwks: the public keys of the scope (the signing
 * key's public half first, then the verification keys) as a JWK Set.
 * HMAC keys are never published; each JWK was made at startup. */
int jwtauth_jwks_handler(request_rec *r)
{
    const jwtauth_dir_conf *conf;
    apr_array_header_t *parts;
    const char *jwk, *first = NULL;
    int i;

    if (!r->handler || strcmp(r->handler, "jwtauth-jwks")) {
        return DECLINED;
    }
    ap_allow_methods(r, REPLACE_ALLOW, "GET", NULL);
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    conf = ap_get_module_config(r->per_dir_config, &jwtauth_module);
    parts = apr_array_make(r->pool, 4, sizeof(const char *));
    if (conf->signing_key && (first = jwt_key_public_jwk(conf->signing_key))) {
        APR_ARRAY_PUSH(parts, const char *) = first;
    }
    for (i = 0; conf->keys && i < conf->keys->nelts; i++) {
        jwk = jwt_key_public_jwk(APR_ARRAY_IDX(conf->keys, i, jwt_key_t *));
        if (jwk && (!first || strcmp(jwk, first))) {
            APR_ARRAY_PUSH(parts, const char *) = jwk;
        }
    }
    ap_set_content_type(r, "application/jwk-set+json");
    apr_table_setn(r->headers_out, "Cache-Control", "public, max-age=300");
    ap_rprintf(r, "{\"keys\":[%s]}", apr_array_pstrcat(r->pool, parts, ','));
    return OK;
}

