/*
 * authz.c: "Require jwt-claim path value..." and "Require jwt-scope
 * scope...", authz providers of mod_authz_core, and the 403 a valid
 * token gets when the Require rules deny it.  The decisions are the
 * core's (jwt_path_matches, jwt_scopes_grant); this room parses each
 * Require line once, at startup, and finds the request's result.
 */
#include "apr_strings.h"
#include "util_filter.h"

#include "ap_config.h"
#include "ap_provider.h"
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_auth.h"
#include "mod_core.h"

#include "glue.h"

/* access.c's default, for the same challenge */
#define DEFAULT_BEARER_REALM "jwtauth"

#define MSG_DENIED "{\"message\": \"Access denied!\"}"
#define MSG_SCOPE  "{\"message\": \"Insufficient scope!\"}"

/* r->notes: the scopes a denying Require jwt-scope asked for; the
 * challenge it set; that the Require rules let the request through */
#define NOTE_SCOPE     "jwtauth-insufficient-scope"
#define NOTE_CHALLENGE "jwtauth-scope-challenge"
#define NOTE_PASSED    "jwtauth-authz-passed"

#define FILTER_403 "JWTAUTH_403"

/* The request's result when it holds a valid token, else NULL. */
static const jwtauth_result *valid_result(request_rec *r)
{
    const jwtauth_result *res = ap_get_module_config(r->request_config,
                                                     &jwtauth_module);

    return res && res->result == RESULT_VALID ? res : NULL;
}

/* ---------------------------------------------------------------- */
/* Require jwt-claim                                                */

typedef struct {
    const jwt_path_t *path;
    apr_array_header_t *values;
} claim_require_t;

static const char *claim_parse_config(cmd_parms *cmd, const char *line,
                                      const void **parsed)
{
    claim_require_t *req = apr_pcalloc(cmd->pool, sizeof(*req));
    const char *w, *name, *err = NULL;

    name = ap_getword_conf(cmd->pool, &line);
    req->values = apr_array_make(cmd->pool, 2, sizeof(const char *));
    while (*(w = ap_getword_conf(cmd->pool, &line))) {
        APR_ARRAY_PUSH(req->values, const char *) = w;
    }
    if (!*name || req->values->nelts == 0) {
        return "Require jwt-claim needs a claim name and at least one value";
    }
    if (!(req->path = jwt_path_parse(cmd->pool, name, &err))) {
        return apr_pstrcat(cmd->pool, "Require jwt-claim: ", err, NULL);
    }
    *parsed = req;
    return NULL;
}

static authz_status claim_check_authorization(request_rec *r,
                                              const char *line,
                                              const void *parsed)
{
    const claim_require_t *req = parsed;
    const jwtauth_result *res = valid_result(r);

    if (!res) {
        return r->user ? AUTHZ_DENIED : AUTHZ_DENIED_NO_USER;
    }
    return jwt_path_matches(r->pool, &res->jwt->claims, req->path,
                            req->values) ? AUTHZ_GRANTED : AUTHZ_DENIED;
}

const authz_provider jwtauth_claim_provider = {
    &claim_check_authorization,
    &claim_parse_config,
};

/* ---------------------------------------------------------------- */
/* Require jwt-scope                                                */

typedef struct {
    apr_array_header_t *scopes;
    const char *text;           /* them, space-delimited, for the
                                 * challenge */
} scope_require_t;

/* RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ),
 * which also keeps the challenge's quoted string intact.  Shared with
 * JWTAuthScopes (config.c). */
int jwtauth_scope_token(const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;

        if (ch < 0x21 || ch > 0x7e || ch == '"' || ch == '\\') {
            return 0;
        }
    }
    return 1;
}

static const char *scope_parse_config(cmd_parms *cmd, const char *line,
                                      const void **parsed)
{
    scope_require_t *req = apr_pcalloc(cmd->pool, sizeof(*req));
    const char *w;

    req->scopes = apr_array_make(cmd->pool, 2, sizeof(const char *));
    req->text = "";
    while (*(w = ap_getword_conf(cmd->pool, &line))) {
        if (!jwtauth_scope_token(w)) {
            return apr_psprintf(cmd->pool, "Require jwt-scope: \"%s\" is "
                                "not a scope (RFC 6749: printable ASCII "
                                "but blank, '\"' and '\\')", w);
        }
        APR_ARRAY_PUSH(req->scopes, const char *) = w;
        req->text = *req->text ? apr_pstrcat(cmd->pool, req->text, " ", w,
                                             NULL) : w;
    }
    if (req->scopes->nelts == 0) {
        return "Require jwt-scope needs at least one scope";
    }
    *parsed = req;
    return NULL;
}

/* A denial remembers the scopes for the 403 and sets the challenge
 * (RFC 6750 section 3.1) in err_headers_out, where an ErrorDocument
 * keeps it; the fixup below takes it back when another rule grants. */
static void insufficient_scope(request_rec *r, const scope_require_t *req)
{
    const char *realm = ap_auth_name(r) ? ap_auth_name(r)
                                        : DEFAULT_BEARER_REALM;
    const char *challenge = apr_psprintf(r->pool, "Bearer realm=\"%s\", "
                                         "error=\"insufficient_scope\", "
                                         "scope=\"%s\"%s",
                                         ap_escape_quotes(r->pool, realm),
                                         req->text,
                                         jwtauth_challenge_resource(r));
    const char *before = apr_table_get(r->notes, NOTE_CHALLENGE);

    apr_table_setn(r->subprocess_env, JWTAUTH_ERROR_VAR, "scope");
    if (before) {
        apr_table_unset(r->err_headers_out, "WWW-Authenticate");
    }
    apr_table_setn(r->notes, NOTE_SCOPE, req->text);
    apr_table_setn(r->notes, NOTE_CHALLENGE, challenge);
    apr_table_setn(r->err_headers_out, "WWW-Authenticate", challenge);
}

static authz_status scope_check_authorization(request_rec *r,
                                              const char *line,
                                              const void *parsed)
{
    const scope_require_t *req = parsed;
    const jwtauth_result *res = valid_result(r);

    if (!res) {
        return r->user ? AUTHZ_DENIED : AUTHZ_DENIED_NO_USER;
    }
    if (jwt_scopes_grant(jwt_claim_scopes(r->pool, &res->jwt->claims),
                         req->scopes)) {
        return AUTHZ_GRANTED;
    }
    insufficient_scope(r, req);
    return AUTHZ_DENIED;
}

const authz_provider jwtauth_scope_provider = {
    &scope_check_authorization,
    &scope_parse_config,
};

/* ---------------------------------------------------------------- */
/* the 403 of a valid token                                         */

/* fixups run only for a request the access and authz phases let
 * through: remember that (a later 403 is the handler's, not ours), and
 * take back a challenge a jwt-scope rule set before another granted.
 * A request redirected to an ErrorDocument has notes of its own, so the
 * challenge of the request it replaces stays. */
static int authz_fixups(request_rec *r)
{
    const jwtauth_dir_conf *conf = ap_get_module_config(r->per_dir_config,
                                                        &jwtauth_module);
    const char *challenge;

    if (!jwtauth_checks(conf)) {
        return DECLINED;
    }
    apr_table_setn(r->notes, NOTE_PASSED, "1");
    if ((challenge = apr_table_get(r->notes, NOTE_CHALLENGE))) {
        const char *sent = apr_table_get(r->err_headers_out,
                                         "WWW-Authenticate");

        if (sent && !strcmp(sent, challenge)) {
            apr_table_unset(r->err_headers_out, "WWW-Authenticate");
        }
        apr_table_unset(r->notes, NOTE_CHALLENGE);
    }
    if (apr_table_get(r->notes, NOTE_SCOPE)) {
        /* another rule granted: no refusal to name */
        apr_table_unset(r->notes, NOTE_SCOPE);
        apr_table_unset(r->subprocess_env, JWTAUTH_ERROR_VAR);
    }
    return DECLINED;
}

/* log_transaction: a request that Require jwt-scope refused counts as
 * "scope" (its token was counted as accepted when it was checked). */
static int authz_log(request_rec *r)
{
    const jwtauth_dir_conf *conf = ap_get_module_config(r->per_dir_config,
                                                        &jwtauth_module);

    if (jwtauth_checks(conf) && r->status == HTTP_FORBIDDEN
        && apr_table_get(r->notes, NOTE_SCOPE)) {
        jwtauth_metrics_request("scope");
    }
    return DECLINED;
}

/* In place of httpd's HTML 403 page: the JSON body (f->ctx) as
 * application/json.  httpd's error path sets text/html and writes its
 * page after the error filters are inserted; this filter drops that
 * page and sends the body in its place, once. */
static apr_status_t error_403_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    apr_bucket *b, *next;

    for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb); b = next) {
        next = APR_BUCKET_NEXT(b);
        if (!APR_BUCKET_IS_METADATA(b)) {
            apr_bucket_delete(b);
        }
    }
    if (f->ctx) {
        const char *body = f->ctx;

        ap_set_content_type(f->r, "application/json");
        APR_BRIGADE_INSERT_HEAD(bb, apr_bucket_immortal_create(
                                    body, strlen(body), bb->bucket_alloc));
        f->ctx = NULL;
    }
    return ap_pass_brigade(f->next, bb);
}

/* insert_error_filter: a 403 for a valid token that the Require rules
 * denied gets the JSON body, unless an ErrorDocument 403 is set here
 * (then httpd sends the admin's).  Subrequests only get the status. */
static void authz_insert_error_filter(request_rec *r)
{
    const jwtauth_dir_conf *conf = ap_get_module_config(r->per_dir_config,
                                                        &jwtauth_module);

    if (r->status != HTTP_FORBIDDEN || r->main || !jwtauth_checks(conf)
        || !valid_result(r) || apr_table_get(r->notes, NOTE_PASSED)
        || ap_response_code_string(r, ap_index_of_response(HTTP_FORBIDDEN))) {
        return;
    }
    ap_add_output_filter(FILTER_403, (void *)(apr_table_get(r->notes,
                                                            NOTE_SCOPE)
                                              ? MSG_SCOPE : MSG_DENIED),
                         r, r->connection);
}

void jwtauth_authz_hooks(apr_pool_t *p)
{
    ap_register_output_filter(FILTER_403, error_403_filter, NULL,
                              AP_FTYPE_CONTENT_SET);
    ap_hook_insert_error_filter(authz_insert_error_filter, NULL, NULL,
                                APR_HOOK_MIDDLE);
    ap_hook_fixups(authz_fixups, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_log_transaction(authz_log, NULL, NULL, APR_HOOK_MIDDLE);
}
