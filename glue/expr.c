/*
 * expr.c: the ap_expr functions jwt_claim (a string) and jwt_claims (a
 * list) on the claims of the request's valid token, for Require expr,
 * mod_rewrite, mod_headers' expr=, SSI and every other expression httpd
 * evaluates once the token has been checked.  The paths are the core's
 * (jwt_path_parse, jwt_path_text, jwt_path_list), as Require jwt-claim
 * spells them.
 */
#include <string.h>

#include "apr_strings.h"

#include "ap_config.h"
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"

#include "glue.h"

#define FUNC_CLAIM  "jwt_claim"
#define FUNC_CLAIMS "jwt_claims"

/* The claims of the request's valid token, or NULL: outside a checked
 * scope (before the access phase, as in <If>; or under JWTAuth Off)
 * there are none. */
static const jwt_claims_t *request_claims(const ap_expr_eval_ctx_t *ctx)
{
    const jwtauth_result *res;

    if (!ctx->r) {
        return NULL;
    }
    res = jwtauth_applied_result(ctx->r);
    return res && res->result == RESULT_VALID ? &res->jwt->claims : NULL;
}

/* The path parsed at startup (data), or the argument parsed now when it
 * was not a literal; NULL, logged, when that one is no path. */
static const jwt_path_t *eval_path(ap_expr_eval_ctx_t *ctx,
                                   const void *data, const char *arg,
                                   const char *func)
{
    const jwt_path_t *path = data;
    const char *err = NULL;

    if (path) {
        return path;
    }
    if (!(path = jwt_path_parse(ctx->p, arg, &err))) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, ctx->r, "JWTAuth: %s: %s",
                      func, ap_escape_logitem(ctx->p, err));
    }
    return path;
}

static const char *claim_func(ap_expr_eval_ctx_t *ctx, const void *data,
                              const char *arg)
{
    const jwt_claims_t *c = request_claims(ctx);
    const jwt_path_t *path;

    if (!c || !(path = eval_path(ctx, data, arg, FUNC_CLAIM))) {
        return "";
    }
    return jwt_path_text(ctx->p, c, path);
}

static apr_array_header_t *claims_func(ap_expr_eval_ctx_t *ctx,
                                       const void *data, const char *arg)
{
    const jwt_claims_t *c = request_claims(ctx);
    const jwt_path_t *path;

    if (!c || !(path = eval_path(ctx, data, arg, FUNC_CLAIMS))) {
        return apr_array_make(ctx->p, 0, sizeof(const char *));
    }
    return jwt_path_list(ctx->p, c, path);
}

int jwtauth_expr_lookup(ap_expr_lookup_parms *parms)
{
    const jwt_path_t *path = NULL;
    const char *err = NULL;
    int list;

    if (parms->type == AP_EXPR_FUNC_STRING
        && !strcmp(parms->name, FUNC_CLAIM)) {
        list = 0;
    }
    else if (parms->type == AP_EXPR_FUNC_LIST
             && !strcmp(parms->name, FUNC_CLAIMS)) {
        list = 1;
    }
    else {
        return DECLINED;
    }
    /* a literal argument is parsed once, now: a bad path stops startup */
    if (parms->arg
        && !(path = jwt_path_parse(parms->pool, parms->arg, &err))) {
        *parms->err = apr_psprintf(parms->ptemp, "%s: %s", parms->name,
                                   err);
        return !OK;
    }
    *parms->func = list ? (const void *)claims_func
                        : (const void *)claim_func;
    *parms->data = path;
    return OK;
}
