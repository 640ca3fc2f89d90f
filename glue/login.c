/*
 * login.c: SetHandler jwtauth-login, the seed's /login: credentials from
 * HTTP Basic, a form or a JSON body (parsed by the core, jose/creds.c),
 * checked by httpd's authn providers, answered with a signed token.
 */
#include <string.h>
#include <strings.h>

#include "apr_strings.h"

#include "ap_config.h"
#include "ap_provider.h"
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_auth.h"
#include "mod_core.h"

#include "glue.h"
#include "jose/creds.h"
#include "jose/jws.h"

#define DEFAULT_LOGIN_REALM  "Login required!"

/* 401 with the seed's Basic challenge and body.  An admin's ErrorDocument
 * 401 wins: the status is returned and httpd's ap_die() sends it, with
 * the challenge from err_headers_out. */
static int login_refused(request_rec *r)
{
    const char *realm = ap_auth_name(r) ? ap_auth_name(r)
                                        : DEFAULT_LOGIN_REALM;

    apr_table_setn(r->subprocess_env, JWTAUTH_ERROR_VAR, "credentials");
    jwtauth_metrics_login(0);
    apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                   apr_psprintf(r->pool, "Basic realm=\"%s\"",
                                ap_escape_quotes(r->pool, realm)));
    if (ap_response_code_string(r, ap_index_of_response(HTTP_UNAUTHORIZED))) {
        return HTTP_UNAUTHORIZED;
    }
    r->status = HTTP_UNAUTHORIZED;
    ap_set_content_type(r, "text/plain; charset=utf-8");
    ap_rputs("Could not verify", r);
    return OK;
}

/* Read at most JWT_CREDS_MAX_BODY bytes of request body.  Returns OK,
 * HTTP_REQUEST_ENTITY_TOO_LARGE, or an error status (session.c too). */
int jwtauth_read_body(request_rec *r, const char **body, apr_size_t *len)
{
    char *buf = apr_palloc(r->pool, JWT_CREDS_MAX_BODY + 1);
    apr_size_t got = 0;
    long n;
    int rc;

    if ((rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK) {
        return rc;
    }
    if (ap_should_client_block(r)) {
        while ((n = ap_get_client_block(r, buf + got,
                                        JWT_CREDS_MAX_BODY + 1 - got)) > 0) {
            got += (apr_size_t)n;
            if (got > JWT_CREDS_MAX_BODY) {
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
        }
        if (n < 0) {
            return HTTP_BAD_REQUEST;
        }
    }
    buf[got] = '\0';
    *body = buf;
    *len = got;
    return OK;
}

/* Does the Content-Type's media type equal want (parameters ignored)? */
static int media_type_is(const char *ctype, const char *want)
{
    size_t n = strlen(want);

    return ctype && !strncasecmp(ctype, want, n)
        && (ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ');
}

/* Credentials from Basic, a form or a JSON body.  OK with *user set to
 * NULL when the client sent none we can read; another status for a body
 * we refuse outright. */
static int read_credentials(request_rec *r, const char **user,
                            const char **password)
{
    const char *authz = apr_table_get(r->headers_in, "Authorization");
    const char *ctype = apr_table_get(r->headers_in, "Content-Type");
    const char *body;
    apr_size_t len;
    int rc;

    *user = NULL;
    if (authz) {
        if (!jwt_creds_basic(user, password, r->pool, authz)) {
            *user = NULL;
        }
        return ap_discard_request_body(r);
    }
    if (r->method_number != M_POST) {
        return ap_discard_request_body(r);
    }
    if (!media_type_is(ctype, "application/x-www-form-urlencoded")
        && !media_type_is(ctype, "application/json")) {
        return HTTP_UNSUPPORTED_MEDIA_TYPE;
    }
    if ((rc = jwtauth_read_body(r, &body, &len)) != OK) {
        return rc;
    }
    if (media_type_is(ctype, "application/json")
        ? !jwt_creds_json(user, password, r->pool, body, len)
        : !jwt_creds_form(user, password, r->pool, body, len)) {
        *user = NULL;
    }
    return OK;
}

/* Run the providers in order; the first that knows the user decides. */
static authn_status check_password(request_rec *r,
                                   const jwtauth_dir_conf *conf,
                                   const char *user, const char *password)
{
    authn_status st = AUTH_USER_NOT_FOUND;
    int i;

    r->user = (char *)user;
    if (!conf->providers) {
        const authn_provider *prov = ap_lookup_provider(
            AUTHN_PROVIDER_GROUP, AUTHN_DEFAULT_PROVIDER,
            AUTHN_PROVIDER_VERSION);
        if (!prov || !prov->check_password) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "JWTAuth login: no "
                          "authn provider '" AUTHN_DEFAULT_PROVIDER
                          "' (load mod_authn_file or set JWTAuthProvider)");
            return AUTH_GENERAL_ERROR;
        }
        apr_table_setn(r->notes, AUTHN_PROVIDER_NAME_NOTE,
                       AUTHN_DEFAULT_PROVIDER);
        return prov->check_password(r, user, password);
    }
    for (i = 0; i < conf->providers->nelts; i++) {
        const authn_provider *prov = APR_ARRAY_IDX(conf->providers, i,
                                                   const authn_provider *);
        apr_table_setn(r->notes, AUTHN_PROVIDER_NAME_NOTE,
                       APR_ARRAY_IDX(conf->provider_names, i, const char *));
        st = prov->check_password(r, user, password);
        if (st != AUTH_USER_NOT_FOUND) {
            break;
        }
    }
    apr_table_unset(r->notes, AUTHN_PROVIDER_NAME_NOTE);
    return st;
}

/* A JWTAuthLoginClaim value converted to its type; NULL and a log line
 * when it does not convert. */
static json_t *login_claim_value(request_rec *r,
                                 const jwtauth_login_claim *lc)
{
    const char *err = NULL, *s;
    json_t *v;

    s = ap_expr_str_exec(r, lc->expr, &err);
    if (err || !s) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "JWTAuthLoginClaim %s: "
                      "cannot evaluate: %s", lc->name, err ? err : "no value");
        return NULL;
    }
    if (!(v = jwt_typed_value(s, lc->type))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "JWTAuthLoginClaim %s: "
                      "value is not %s", lc->name,
                      lc->type == JWT_VALUE_INT ? "a whole number"
                      : lc->type == JWT_VALUE_BOOL ? "a boolean"
                      : "valid UTF-8");
    }
    return v;
}

/* The claims of a token for user, or NULL (logged) on failure. */
static json_t *login_claims(request_rec *r, const jwtauth_dir_conf *conf,
                            const char *user, apr_int64_t now)
{
    json_t *claims = jwt_json_pool(r->pool, json_object());
    unsigned char rnd[16];
    int i;

    if (!claims || apr_generate_random_bytes(rnd, sizeof(rnd))) {
        return NULL;
    }
    if (json_object_set_new(claims, "sub", json_string(user))
        || json_object_set_new(claims, "iat", json_integer(now))
        /* the time of the login itself (OpenID Connect Core 1.0 section
         * 2): a refresh keeps it */
        || json_object_set_new(claims, "auth_time", json_integer(now))
        || json_object_set_new(claims, "exp",
                               json_integer(now + jwtauth_conf_lifetime(conf)))
        || json_object_set_new(claims, "jti", json_string(
               jwt_b64url_encode(r->pool, rnd, sizeof(rnd))))) {
        return NULL;
    }
    if (conf->issuers && json_object_set_new(claims, "iss", json_string(
            APR_ARRAY_IDX(conf->issuers, 0, const char *)))) {
        return NULL;
    }
    if (conf->audiences) {
        json_t *aud;

        if (conf->audiences->nelts == 1) {
            aud = json_string(APR_ARRAY_IDX(conf->audiences, 0,
                                            const char *));
        }
        else {
            aud = json_array();
            for (i = 0; aud && i < conf->audiences->nelts; i++) {
                json_array_append_new(aud, json_string(APR_ARRAY_IDX(
                    conf->audiences, i, const char *)));
            }
        }
        if (json_object_set_new(claims, "aud", aud)) {
            return NULL;
        }
    }
    for (i = 0; conf->login_claims && i < conf->login_claims->nelts; i++) {
        const jwtauth_login_claim *lc = &APR_ARRAY_IDX(conf->login_claims,
                                                       i,
                                                       jwtauth_login_claim);
        json_t *v = login_claim_value(r, lc);

        if (!v || json_object_set_new(claims, lc->name, v)) {
            return NULL;
        }
    }
    return claims;
}

int jwtauth_sign_claims(const char **token, request_rec *r,
                        const jwtauth_dir_conf *conf, json_t *claims)
{
    jwt_alg_e alg = JWT_ALG_UNKNOWN;
    const jwt_key_t *key = jwtauth_conf_signer(conf, &alg);
    jwt_error_t err;

    if (!key) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "JWTAuth: no key can "
                      "sign here: set JWTAuthSecretFile or "
                      "JWTAuthSigningKeyFile");
        return 0;
    }
    if (!jwt_sign(token, r->pool, key, alg, claims, &err)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "JWTAuth: cannot sign: "
                      "%s", err.reason);
        return 0;
    }
    return 1;
}

int jwtauth_login_handler(request_rec *r)
{
    const jwtauth_dir_conf *conf;
    const jwt_key_t *key;
    jwt_alg_e alg = JWT_ALG_UNKNOWN;
    const char *user, *password, *token;
    apr_int64_t now = apr_time_sec(apr_time_now());
    json_t *claims;
    int rc;

    if (!r->handler || strcmp(r->handler, "jwtauth-login")) {
        return DECLINED;
    }
    ap_allow_methods(r, REPLACE_ALLOW, "GET", "POST", NULL);
    if (r->method_number != M_GET && r->method_number != M_POST) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    conf = ap_get_module_config(r->per_dir_config, &jwtauth_module);
    if (!(key = jwtauth_conf_signer(conf, &alg))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "JWTAuth login: no key "
                      "can sign here: set JWTAuthSecretFile or "
                      "JWTAuthSigningKeyFile");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if ((rc = read_credentials(r, &user, &password)) != OK) {
        return rc;
    }
    if (!user) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "JWTAuth login: no readable credentials");
        return login_refused(r);
    }
    /* JWTAuthLoginThrottle: no password check past the limit */
    if ((rc = jwtauth_throttle_check(r, conf, user)) != OK) {
        return rc;
    }
    switch (check_password(r, conf, user, password)) {
    case AUTH_GRANTED:
        break;
    case AUTH_GENERAL_ERROR:
        return HTTP_INTERNAL_SERVER_ERROR;
    default:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "JWTAuth login: user %s: not verified", user);
        r->user = NULL;
        jwtauth_throttle_failed(r, conf, user);
        return login_refused(r);
    }
    if (!(claims = login_claims(r, conf, user, now))) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!jwtauth_sign_claims(&token, r, conf, claims)) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    jwtauth_metrics_login(1);
    if (conf->cookie) {
        /* JWTAuthCookie: the browser keeps the token as long as it lives */
        apr_table_addn(r->headers_out, "Set-Cookie",
                       apr_psprintf(r->pool, "%s=%s; %s; Max-Age=%"
                                    APR_INT64_T_FMT, conf->cookie, token,
                                    conf->cookie_attrs ? conf->cookie_attrs
                                                       : DEFAULT_COOKIE_ATTRS,
                                    jwtauth_conf_lifetime(conf)));
    }
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "Pragma", "no-cache");
    ap_set_content_type(r, "application/json");
    ap_rprintf(r, "{\"token\": \"%s\", \"token_type\": \"Bearer\", "
               "\"expires_in\": %" APR_INT64_T_FMT "}", token,
               jwtauth_conf_lifetime(conf));
    return OK;
}

