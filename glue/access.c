/*
 * access.c: the token check of every protected request: where the token
 * comes from, its validation through the JOSE core (and this thread's
 * cache), the 401 refusals, and the user and claims a valid token gives
 * the rest of the request.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apr_strings.h"
#include "apr_thread_proc.h"

#include "ap_config.h"
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_auth.h"
#include "mod_core.h"

#include "glue.h"

#define DEFAULT_BEARER_REALM "jwtauth"
#define CLAIM_PREFIX         "JWT_CLAIM_"

/* The result already reached for this request, its parent or the request
 * it was redirected from, under the same policy. */
static jwtauth_result *find_result(request_rec *r,
                                   const jwtauth_dir_conf *conf)
{
    request_rec *rr;

    for (rr = r; rr; rr = rr->main ? rr->main : rr->prev) {
        jwtauth_result *res = ap_get_module_config(rr->request_config,
                                                   &jwtauth_module);
        if (res && jwt_policy_same(&res->conf->policy, &conf->policy)) {
            return res;
        }
    }
    return NULL;
}

/* The token the client sent, or NULL when it sent none. */
static const char *find_token(request_rec *r, const jwtauth_dir_conf *conf)
{
    const char *v = apr_table_get(r->headers_in, conf->policy.token_header);

    if (!v || !*v) {
        v = apr_table_get(r->headers_in, "Authorization");
        if (!v || strncasecmp(v, "Bearer", 6) != 0
            || (v[6] != ' ' && v[6] != '\0')) {
            return NULL;
        }
        v += 6;
    }
    while (*v == ' ' || *v == '\t') {
        v++;
    }
    return *v ? v : NULL;
}

/* Each thread's caches: one with token slots (JWTAuthCache On) and one
 * with header slots only (Off: every token is verified afresh, its
 * header need not be parsed afresh).  Made on the thread's first
 * request, destroyed when the thread exits (the key's destructor). */
typedef struct {
    jwt_cache_t *tokens;
    jwt_cache_t *headers;
} thread_caches;

static apr_threadkey_t *caches_key;

static void caches_destroy(void *data)
{
    thread_caches *tc = data;

    jwt_cache_destroy(tc->tokens);
    jwt_cache_destroy(tc->headers);
    free(tc);
}

static apr_status_t caches_key_delete(void *data)
{
    apr_threadkey_private_delete(caches_key);
    caches_key = NULL;
    return APR_SUCCESS;
}

void jwtauth_access_child_init(apr_pool_t *p, server_rec *s)
{
    apr_status_t rv = apr_threadkey_private_create(&caches_key,
                                                   caches_destroy, p);

    if (rv != APR_SUCCESS) {
        caches_key = NULL;
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, "JWTAuth: no "
                     "thread-local key: tokens are verified without the "
                     "validated-token cache in this process");
        return;
    }
    apr_pool_cleanup_register(p, NULL, caches_key_delete,
                              apr_pool_cleanup_null);
}

/* This thread's cache for a scope with JWTAuthCache on or off; NULL when
 * memory is short or child_init made no key (the token is then verified
 * in full). */
static jwt_cache_t *thread_cache(int tokens)
{
    thread_caches *tc = NULL;

    if (!caches_key) {
        return NULL;
    }
    if (apr_threadkey_private_get((void **)&tc, caches_key) != APR_SUCCESS
        || !tc) {
        if (!(tc = calloc(1, sizeof(*tc)))) {
            return NULL;
        }
        tc->tokens = jwt_cache_create(jwtauth_cache_entries());
        tc->headers = jwt_cache_create(0);
        if (apr_threadkey_private_set(tc, caches_key) != APR_SUCCESS) {
            caches_destroy(tc);
            return NULL;
        }
    }
    return tokens ? tc->tokens : tc->headers;
}

static jwtauth_result *validate(request_rec *r, const jwtauth_dir_conf *conf)
{
    jwtauth_result *res = apr_pcalloc(r->pool, sizeof(*res));
    const char *token = find_token(r, conf);
    jwt_shared_cache_t shared;
    jwt_cache_t *tc = thread_cache(conf->cache != 0);
    const jwt_shared_cache_t *sh = conf->cache == 0 ? NULL
                                   : jwtauth_shared_tier(r, &shared);
    jwt_error_t err;
    int hit = 0;

    res->conf = conf;
    if (!token) {
        res->result = RESULT_MISSING;
        res->reason = "missing";
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "JWTAuth: no token in %s or Authorization",
                      conf->policy.token_header);
    }
    else if (!jwt_verify_cached(&res->jwt, r->pool, tc, token,
                                strlen(token), &conf->policy,
                                apr_time_sec(apr_time_now()),
                                jwtauth_cache_generation(), sh, &hit,
                                &err)) {
        res->result = RESULT_INVALID;
        res->reason = jwt_error_name(err.code);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "JWTAuth: token refused (%s): %s", res->reason,
                      err.reason);
    }
    else if (!(res->user = jwt_claims_user(r->pool, &res->jwt->claims,
                                           conf->policy.user_claim))) {
        res->result = RESULT_INVALID;
        res->reason = "user";
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "JWTAuth: token refused (user): claim '%s' "
                      "(JWTAuthUserClaim) "
                      "is missing or not a string or integer",
                      conf->policy.user_claim);
    }
    else {
        res->result = RESULT_VALID;
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "JWTAuth: token accepted (alg %s, user %s%s)",
                      jwt_alg_name(res->jwt->alg), res->user,
                      hit == JWT_CACHE_THREAD ? ", cached"
                      : hit == JWT_CACHE_SHARED ? ", shared cache" : "");
    }
    if (token) {
        jwtauth_metrics_cache(conf->cache != 0 && tc
                              && jwtauth_cache_entries(), sh != NULL,
                              strlen(token), hit);
    }
    jwtauth_metrics_request(res->result == RESULT_VALID ? NULL : res->reason);
    ap_set_module_config(r->request_config, &jwtauth_module, res);
    return res;
}

/* Export the claims as JWT_CLAIM_<name> (jwt_claims_env: only names
 * that reach CGI unchanged, and none that another claim shares without
 * case); what is left out is logged once per request. */
static void export_claims(request_rec *r, const jwt_claims_t *claims)
{
    apr_array_header_t *skipped = NULL;
    apr_array_header_t *vars = jwt_claims_env(r->pool, claims, CLAIM_PREFIX,
                                              APLOGrinfo(r) ? &skipped
                                                            : NULL);
    int i;

    for (i = 0; i < vars->nelts; i++) {
        const jwt_env_t *v = &APR_ARRAY_IDX(vars, i, jwt_env_t);

        apr_table_setn(r->subprocess_env, v->name, v->value);
    }
    if (skipped && skipped->nelts) {
        const char *names = "";

        /* each name quoted and escaped: a name may hold anything */
        for (i = 0; i < skipped->nelts; i++) {
            names = apr_pstrcat(r->pool, names, i ? ", \"" : "\"",
                                ap_escape_logitem(r->pool, APR_ARRAY_IDX(
                                    skipped, i, const char *)), "\"", NULL);
        }
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "JWTAuth: claims not "
                      "exported as " CLAIM_PREFIX "*: %s (a name must be "
                      "A-Z a-z 0-9 _ and differ from every other claim's "
                      "in more than case)", names);
    }
}

/* Is an ErrorDocument (or ap_custom_response) set for 401 here?  Then the
 * refusal goes to httpd's error path, which sends it. */
static int custom_401(request_rec *r)
{
    return ap_response_code_string(r, ap_index_of_response(HTTP_UNAUTHORIZED))
           != NULL;
}

/* Refuse with 401 and the Bearer challenge at once, never reading or
 * inviting the body: r->status is 401 before httpd discards the body at
 * the end of the request, and under an error status its input filter
 * neither sends 100 Continue nor waits for a body that the client holds
 * back for it (the connection is then closed), as after mod_auth_basic.
 *
 * An admin's ErrorDocument 401 wins: the status is returned and httpd's
 * ap_die() sends it.  Else the seed's JSON body is written here, as
 * httpd's error path would send a custom string as text/html.
 * Subrequests only get the status: their output would land in the main
 * response. */
static int deny(request_rec *r, int invalid)
{
    const char *realm = ap_auth_name(r) ? ap_auth_name(r)
                                        : DEFAULT_BEARER_REALM;

    apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                   apr_psprintf(r->pool, "Bearer realm=\"%s\"%s%s",
                                ap_escape_quotes(r->pool, realm),
                                invalid ? ", error=\"invalid_token\"" : "",
                                jwtauth_challenge_resource(r)));
    if (r->main) {
        return HTTP_UNAUTHORIZED;
    }
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    if (custom_401(r)) {
        return HTTP_UNAUTHORIZED;
    }
    r->status = HTTP_UNAUTHORIZED;
    ap_set_content_type(r, "application/json");
    ap_rputs(invalid ? MSG_INVALID : MSG_MISSING, r);
    return DONE;
}

/* The result for this request: reused from its parent or the request it
 * was redirected from when the policy is the same, else decided now. */
static jwtauth_result *request_result(request_rec *r,
                                      const jwtauth_dir_conf *conf)
{
    jwtauth_result *res = find_result(r, conf);

    if (!res) {
        return validate(r, conf);
    }
    ap_set_module_config(r->request_config, &jwtauth_module, res);
    return res;
}

/* A valid token: its user and claims for the rest of the request. */
static void apply_result(request_rec *r, const jwtauth_result *res)
{
    r->user = (char *)res->user;
    r->ap_auth_type = "Bearer";
    export_claims(r, &res->jwt->claims);
}

/* JWTAuth On in a scope without a key (a <Files>, <If>, .htaccess or
 * regex section the startup checks cannot place): no token can pass, and
 * the fault is the server's.  Logged once per request: the Satisfy Any
 * phase fails silently and leaves the answer to check_access_ex. */
static int no_key(request_rec *r, const jwtauth_dir_conf *conf,
                  int any_phase)
{
    if (conf->keys && conf->keys->nelts > 0) {
        return OK;
    }
    if (!any_phase) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "JWTAuth On but no key "
                      "in the scope of %s: add JWTAuthSecretFile or "
                      "JWTAuthKeyFile", ap_escape_logitem(r->pool, r->uri));
    }
    return any_phase ? HTTP_UNAUTHORIZED : HTTP_INTERNAL_SERVER_ERROR;
}

/* The token check of both access hooks.  A valid token sets r->user and
 * the claims and leaves the Require rules to mod_authz_core.
 *
 * access_checker_ex (any_phase 0): a missing or invalid token ends the
 * request here with the seed's 401.
 *
 * access_checker (any_phase 1), for legacy "Satisfy Any" only: there a
 * host rule that passes (mod_access_compat passes every host when it has
 * no rules) would skip check_access_ex and with it the token.  A missing
 * or invalid token fails this phase too, so the request reaches the
 * check_access_ex hook, which answers; a valid one is applied here, as
 * authz may not run. */
static int token_phase(request_rec *r, int any_phase)
{
    const jwtauth_dir_conf *conf = ap_get_module_config(r->per_dir_config,
                                                        &jwtauth_module);
    jwtauth_result *res;
    int rv;

    if (conf->enabled != 1
        || (any_phase && ap_satisfies(r) != SATISFY_ANY)) {
        return DECLINED;
    }
    if ((rv = no_key(r, conf, any_phase)) != OK) {
        if (!any_phase) {
            jwtauth_metrics_request("keys_unavailable");
        }
        apr_table_setn(r->subprocess_env, JWTAUTH_ERROR_VAR,
                       "keys_unavailable");
        return rv;
    }
    res = request_result(r, conf);
    if (res->result != RESULT_VALID) {
        apr_table_setn(r->subprocess_env, JWTAUTH_ERROR_VAR, res->reason);
        return any_phase ? HTTP_UNAUTHORIZED
                         : deny(r, res->result == RESULT_INVALID);
    }
    apply_result(r, res);
    return DECLINED;
}

int jwtauth_check_access(request_rec *r)
{
    return token_phase(r, 0);
}

int jwtauth_check_access_any(request_rec *r)
{
    return token_phase(r, 1);
}

/* check_user_id: mod_authz_core asks for a user only when a Require rule
 * needs one; the token already named it. */
int jwtauth_check_user(request_rec *r)
{
    const jwtauth_dir_conf *conf = ap_get_module_config(r->per_dir_config,
                                                        &jwtauth_module);
    jwtauth_result *res;

    if (conf->enabled != 1) {
        return DECLINED;
    }
    res = ap_get_module_config(r->request_config, &jwtauth_module);
    if (!res || res->result != RESULT_VALID) {
        return HTTP_UNAUTHORIZED;
    }
    r->user = (char *)res->user;
    r->ap_auth_type = "Bearer";
    return OK;
}

