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
 * we refuse outright.  *form is the body of a form (its return_to is read
 * later), else NULL. */
static int read_credentials(request_rec *r, const char **user,
                            const char **password, const char **form)
{
    const char *authz = apr_table_get(r->headers_in, "Authorization");
    const char *ctype = apr_table_get(r->headers_in, "Content-Type");
    const char *body;
    apr_size_t len;
    int rc;

    *user = NULL;
    *form = NULL;
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
    if (!media_type_is(ctype, "application/json")) {
        *form = body;
    }
    return OK;
}

/* Is r the POST of a login form (a body any page may send cross-site,
 * unlike a JSON body, which needs a CORS preflight, or Authorization,
 * which a page cannot set on another origin)? */
static int form_post(request_rec *r)
{
    return r->method_number == M_POST
           && !apr_table_get(r->headers_in, "Authorization")
           && media_type_is(apr_table_get(r->headers_in, "Content-Type"),
                            "application/x-www-form-urlencoded");
}

/* The value of the form field return_to, decoded (%XX and '+'), when the
 * form has it exactly once (a bare "return_to" counts); else NULL (the
 * caller's "/").  The form is read as far as its first NUL, as the login
 * handler always read it. */
static const char *form_return_to(request_rec *r, const char *form)
{
    const char *v;

    return jwtauth_form_field(r->pool, form, strlen(form), "return_to",
                              &v) == 1 ? v : NULL;
}

/* A browser's answer: 303 to location, with a short page for whoever
 * does not follow it; nothing of it may be cached. */
static int see_other(request_rec *r, const char *location)
{
    apr_table_setn(r->headers_out, "Location", location);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_mergen(r->headers_out, "Vary", "Accept");
    r->status = HTTP_SEE_OTHER;
    ap_set_content_type(r, "text/html; charset=utf-8");
    ap_rvputs(r, "<!doctype html><title>See other</title><a href=\"",
              ap_escape_html(r->pool, location), "\">continue</a>\n", NULL);
    return OK;
}

/* A browser's failed login: 303 to JWTAuthLoginPage?error=1 (with the
 * return_to it came with), or the 401 of every client without a login
 * page.  A GET without credentials is no failure: the plain login
 * page. */
static int browser_refused(request_rec *r, const jwtauth_dir_conf *conf,
                           const char *return_to, int attempted)
{
    const char *q;

    if (!conf->login_page) {
        return login_refused(r);
    }
    apr_table_setn(r->subprocess_env, JWTAUTH_ERROR_VAR, "credentials");
    jwtauth_metrics_login(0);
    q = attempted ? "error=1" : NULL;
    if (strcmp(return_to, "/")) {
        const char *rt = apr_pstrcat(r->pool, "return_to=",
                                     jwtauth_query_escape(r->pool,
                                                          return_to), NULL);
        q = q ? apr_pstrcat(r->pool, q, "&", rt, NULL) : rt;
    }
    return see_other(r, q ? jwtauth_login_page_url(r, conf, q)
                          : conf->login_page);
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

/* SetHandler jwtauth-login.  With JWTAuthCookie set and an Accept that
 * prefers text/html the client is a browser (README "A browser setup"):
 * a success is 303 to the form's local return_to with the cookie, a
 * failure 303 to JWTAuthLoginPage?error=1; every other client gets the
 * JSON token or the 401 as before.  In a cookie scope a form POST must
 * pass the CSRF check first (login CSRF: a foreign page would log the
 * victim in as the attacker), before any password is checked. */
int jwtauth_login_handler(request_rec *r)
{
    const jwtauth_dir_conf *conf;
    const jwt_key_t *key;
    jwt_alg_e alg = JWT_ALG_UNKNOWN;
    const char *user, *password, *token, *form, *csrf;
    const char *return_to = "/";
    apr_int64_t now = apr_time_sec(apr_time_now());
    json_t *claims;
    int rc, browser;

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
    if (conf->cookie && form_post(r)
        && (csrf = jwtauth_cross_site(r, conf))) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "JWTAuth login: "
                      "cross-site login form refused (csrf): %s", csrf);
        apr_table_setn(r->subprocess_env, JWTAUTH_ERROR_VAR, "csrf");
        jwtauth_metrics_login(0);
        return jwtauth_csrf_refused(r);
    }
    /* a browser: its login form, or its navigation to the login URL;
     * Basic and JSON are API clients' */
    browser = conf->cookie && jwtauth_prefers_html(r)
              && (form_post(r) || (r->method_number == M_GET
                                   && !apr_table_get(r->headers_in,
                                                     "Authorization")));
    if ((rc = read_credentials(r, &user, &password, &form)) != OK) {
        return rc;
    }
    if (browser && form) {
        return_to = jwtauth_local_return_to(r->pool,
                                            form_return_to(r, form));
    }
    if (!user) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "JWTAuth login: no readable credentials");
        return browser ? browser_refused(r, conf, return_to,
                                         r->method_number == M_POST)
                       : login_refused(r);
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
        return browser ? browser_refused(r, conf, return_to, 1)
                       : login_refused(r);
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
    if (browser) {
        return see_other(r, return_to);
    }
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "Pragma", "no-cache");
    ap_set_content_type(r, "application/json");
    ap_rprintf(r, "{\"token\": \"%s\", \"token_type\": \"Bearer\", "
               "\"expires_in\": %" APR_INT64_T_FMT "}", token,
               jwtauth_conf_lifetime(conf));
    return OK;
}
