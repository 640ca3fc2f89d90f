/*
 * mod_jwtauth.c: JWT bearer-token authentication for Apache httpd 2.4.
 *
 * The module record, register_hooks and the init hooks.  The glue that
 * does the work lives in glue/, one room per concern (glue/glue.h lists
 * them); all JOSE work is done by the core in jose/, which knows nothing
 * of httpd.
 */
#include <string.h>

#include "ap_config.h"
#include "ap_provider.h"
#include "httpd.h"
#include "http_config.h"
#include "http_request.h"
#include "mod_auth.h"
#include "mod_status.h"

#define JWTAUTH_MODULE_RECORD
#include "glue/glue.h"

static int jwtauth_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp)
{
    int rv = jwtauth_socache_pre_config(pconf);

    return rv != OK ? rv : jwtauth_session_pre_config(pconf);
}

static int jwtauth_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                               apr_pool_t *ptemp, server_rec *s)
{
    int rv = jwtauth_metrics_post_config(pconf, s);

    if (rv == OK) {
        rv = jwtauth_socache_post_config(pconf, s);
    }
    if (rv == OK) {
        rv = jwtauth_session_post_config(pconf, s);
    }
    return rv != OK ? rv : jwtauth_keys_post_config(pconf, ptemp, s);
}

static void jwtauth_child_init(apr_pool_t *p, server_rec *s)
{
    jwtauth_metrics_child_init(p, s);
    jwtauth_socache_child_init(p, s);
    jwtauth_session_child_init(p, s);
    jwtauth_access_child_init(p, s);
    jwtauth_keys_child_init(p, s);
}

/* The module's handlers (SetHandler jwtauth-*) behind one hook: every
 * request httpd serves asks each handler hook in turn, so a request for
 * anything else pays one look at r->handler here rather than one call
 * into each of the six.  Each handler still checks its own name. */
static int jwtauth_handler(request_rec *r)
{
    static int (*const handlers[])(request_rec *) = {
        jwtauth_login_handler, jwtauth_jwks_handler,
        jwtauth_resource_handler, jwtauth_metrics_handler,
        jwtauth_logout_handler, jwtauth_refresh_handler
    };
    int i, rv;

    if (!r->handler || strncmp(r->handler, "jwtauth-", 8)) {
        return DECLINED;
    }
    for (i = 0; i < (int)(sizeof(handlers) / sizeof(handlers[0])); i++) {
        if ((rv = handlers[i](r)) != DECLINED) {
            return rv;
        }
    }
    return DECLINED;
}

static void register_hooks(apr_pool_t *p)
{
    /* child_init before mod_watchdog's starts the threads: the child's
     * first look at the key sets must not race its poller (a ring has
     * one writer) */
    static const char *const before_watchdog[] = { "mod_watchdog.c", NULL };

    ap_hook_pre_config(jwtauth_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(jwtauth_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(jwtauth_session_check_config, NULL, NULL,
                         APR_HOOK_MIDDLE);
    ap_hook_check_config(jwtauth_keys_check_config, NULL, NULL,
                         APR_HOOK_MIDDLE);
    ap_hook_post_config(jwtauth_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(jwtauth_child_init, NULL, before_watchdog,
                       APR_HOOK_MIDDLE);
    /* first, so that a missing or invalid token ends the request before
     * mod_authz_core (APR_HOOK_LAST) looks at the Require rules */
    ap_hook_check_access_ex(jwtauth_check_access, NULL, NULL, APR_HOOK_FIRST,
                            AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_check_access(jwtauth_check_access_any, NULL, NULL, APR_HOOK_FIRST,
                         AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_check_authn(jwtauth_check_user, NULL, NULL, APR_HOOK_FIRST,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "jwt-claim",
                              AUTHZ_PROVIDER_VERSION,
                              &jwtauth_claim_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "jwt-scope",
                              AUTHZ_PROVIDER_VERSION,
                              &jwtauth_scope_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    jwtauth_authz_hooks(p);
    jwtauth_headers_hooks(p);
    ap_hook_expr_lookup(jwtauth_expr_lookup, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(jwtauth_handler, NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ap, status_hook, jwtauth_metrics_status, NULL, NULL,
                      APR_HOOK_MIDDLE);
}

/* the one exported symbol (JWTAUTH_EXPORT, glue/glue.h) */
JWTAUTH_EXPORT AP_DECLARE_MODULE(jwtauth) = {
    STANDARD20_MODULE_STUFF,
    create_jwtauth_dir_config,  /* per-directory config creator */
    merge_jwtauth_dir_config,   /* per-directory config merger */
    NULL,                       /* server config creator */
    NULL,                       /* server config merger */
    jwtauth_cmds,               /* command table */
    register_hooks              /* hook registration */
};
