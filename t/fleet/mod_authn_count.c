/*
 * mod_authn_count.c: a test-only authn provider "count" for t/25_fleet.t.
 * Every password check logs one line ("authn_count: check for <user>"),
 * so a test counts the checks a server really made; the password
 * "right" is granted, anything else denied.  Built by the test with
 * apxs into its own directory; never installed.
 */
#include <string.h>

#include "ap_provider.h"
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_request.h"
#include "mod_auth.h"

module AP_MODULE_DECLARE_DATA authn_count_module;

static authn_status count_check(request_rec *r, const char *user,
                                const char *password)
{
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r,
                  "authn_count: check for %s", user);
    return strcmp(password, "right") ? AUTH_DENIED : AUTH_GRANTED;
}

static const authn_provider count_provider = { count_check, NULL };

static void register_hooks(apr_pool_t *p)
{
    ap_register_auth_provider(p, AUTHN_PROVIDER_GROUP, "count",
                              AUTHN_PROVIDER_VERSION, &count_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
}

AP_DECLARE_MODULE(authn_count) = {
    STANDARD20_MODULE_STUFF, NULL, NULL, NULL, NULL, NULL, register_hooks
};
