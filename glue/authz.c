/*
 * authz.c: "Require jwt-claim name value...", an authz provider of
 * mod_authz_core.  The decision itself is the core's
 * (jwt_claim_matches); this room parses the Require line once and
 * finds the request's result.
 */
#include "apr_strings.h"

#include "ap_config.h"
#include "ap_provider.h"
#include "httpd.h"
#include "http_config.h"
#include "http_request.h"
#include "mod_auth.h"

#include "glue.h"

typedef struct {
    const char *name;
    apr_array_header_t *values;
} claim_require_t;

static const char *claim_parse_config(cmd_parms *cmd, const char *line,
                                      const void **parsed)
{
    claim_require_t *req = apr_pcalloc(cmd->pool, sizeof(*req));
    const char *w;

    req->name = ap_getword_conf(cmd->pool, &line);
    req->values = apr_array_make(cmd->pool, 2, sizeof(const char *));
    while (*(w = ap_getword_conf(cmd->pool, &line))) {
        APR_ARRAY_PUSH(req->values, const char *) = w;
    }
    if (!*req->name || req->values->nelts == 0) {
        return "Require jwt-claim needs a claim name and at least one value";
    }
    *parsed = req;
    return NULL;
}

static authz_status claim_check_authorization(request_rec *r,
                                              const char *line,
                                              const void *parsed)
{
    const claim_require_t *req = parsed;
    jwtauth_result *res = ap_get_module_config(r->request_config,
                                               &jwtauth_module);

    if (!res || res->result != RESULT_VALID) {
        return r->user ? AUTHZ_DENIED : AUTHZ_DENIED_NO_USER;
    }
    return jwt_claim_matches(r->pool, &res->jwt->claims, req->name,
                             req->values) ? AUTHZ_GRANTED : AUTHZ_DENIED;
}

const authz_provider jwtauth_claim_provider = {
    &claim_check_authorization,
    &claim_parse_config,
};

