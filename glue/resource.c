/*
 * resource.c: SetHandler jwtauth-resource-metadata, the scope's OAuth 2.0
 * Protected Resource Metadata (RFC 9728) for the clients that find their
 * authorization server from it (MCP clients among them), and the
 * resource_metadata parameter of every Bearer challenge (section 5.1).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "apr_strings.h"

#include "ap_expr.h"
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"

#include "glue.h"
#include "jose/util.h"

#define METADATA_HANDLER "jwtauth-resource-metadata"
#define JWKS_HANDLER     "jwtauth-jwks"

/* JWTAuthResourceMetadata holds no blank, quote, backslash or control
 * character (config.c refuses them), so it goes into the quoted-string
 * as it is. */
const char *jwtauth_challenge_resource(request_rec *r)
{
    const jwtauth_dir_conf *conf = ap_get_module_config(r->per_dir_config,
                                                        &jwtauth_module);

    if (!conf || !conf->resource_metadata) {
        return "";
    }
    return apr_pstrcat(r->pool, ", resource_metadata=\"",
                       conf->resource_metadata, "\"", NULL);
}

/* The handler a section's SetHandler gives r, or NULL.  httpd 2.4's
 * SetHandler is a string expression (core->expr_handler, a literal name
 * its simplest case); it is evaluated for this request as core's fixup
 * would, but without adding to the response's Vary (vary_this NULL).
 * core->handler is what other directives force. */
static const char *section_handler(request_rec *r, ap_conf_vector_t *sec)
{
    core_dir_config *core = ap_get_core_module_config(sec);
    ap_expr_eval_ctx_t ctx;
    const char *err = NULL, *val = NULL;

    if (!core->expr_handler) {
        return core->handler;
    }
    memset(&ctx, 0, sizeof(ctx));
    ctx.r = r;
    ctx.c = r->connection;
    ctx.s = r->server;
    ctx.p = r->pool;
    ctx.err = &err;
    ctx.info = core->expr_handler;
    ctx.result_string = &val;
    if (ap_expr_exec_ctx(&ctx) < 0 || err) {
        return NULL;
    }
    return val;
}

/* Where this server publishes a JWK Set: the first <Location> of r's
 * virtual host (core puts the main server's before its own)
 * with a literal path whose SetHandler gives jwtauth-jwks, made absolute
 * with the origin (scheme and authority) of resource.  NULL when there
 * is none. */
static const char *jwks_uri(request_rec *r, const char *resource)
{
    core_server_config *sconf = ap_get_core_module_config(
                                    r->server->module_config);
    const char *authority = strstr(resource, "://");
    size_t origin;
    int i;

    if (!authority) {
        return NULL;
    }
    authority += 3;
    origin = (size_t)(authority - resource) + strcspn(authority, "/?");
    for (i = 0; sconf->sec_url && i < sconf->sec_url->nelts; i++) {
        ap_conf_vector_t *sec = APR_ARRAY_IDX(sconf->sec_url, i,
                                              ap_conf_vector_t *);
        core_dir_config *core = ap_get_core_module_config(sec);
        const char *handler;

        if (core->r || core->d_is_fnmatch || !core->d || core->d[0] != '/') {
            continue;
        }
        handler = section_handler(r, sec);
        if (handler && !strcmp(handler, JWKS_HANDLER)) {
            /* a <Location> path is the decoded form: encode it again */
            return apr_pstrcat(r->pool,
                               apr_pstrmemdup(r->pool, resource, origin),
                               ap_escape_uri(r->pool, core->d), NULL);
        }
    }
    return NULL;
}

/* The metadata document of a scope, as compact JSON, or NULL when a
 * value does not go into JSON (a JWTAuthIssuer that is not UTF-8). */
static char *metadata(request_rec *r, const jwtauth_dir_conf *conf)
{
    json_t *doc = jwt_json_pool(r->pool, json_object());
    json_t *list = NULL;
    const apr_array_header_t *issuers = conf->policy.issuers;
    const char *jwks = jwks_uri(r, conf->resource);
    char *text, *copy;
    int i, bad;

    bad = !doc || json_object_set_new(doc, "resource",
                                      json_string(conf->resource));
    /* the scope's accepted issuers (JWTAuthIssuer and JWTAuthDiscovery) */
    for (i = 0; !bad && issuers && i < issuers->nelts; i++) {
        if (!i) {
            list = json_array();
            bad = json_object_set_new(doc, "authorization_servers", list);
        }
        bad = bad || json_array_append_new(list, json_string(APR_ARRAY_IDX(
                                               issuers, i, const char *)));
    }
    if (!bad && jwks) {
        bad = json_object_set_new(doc, "jwks_uri", json_string(jwks));
    }
    if (!bad && conf->scopes) {
        list = json_array();
        bad = json_object_set_new(doc, "scopes_supported", list);
        for (i = 0; !bad && i < conf->scopes->nelts; i++) {
            bad = json_array_append_new(list, json_string(APR_ARRAY_IDX(
                                            conf->scopes, i, const char *)));
        }
    }
    /* the token is read from request headers only (access.c) */
    if (!bad) {
        list = json_array();
        bad = json_object_set_new(doc, "bearer_methods_supported", list)
              || json_array_append_new(list, json_string("header"));
    }
    if (bad || !(text = json_dumps(doc, JSON_COMPACT))) {
        return NULL;
    }
    copy = apr_pstrdup(r->pool, text);
    free(text);
    return copy;
}

/* SetHandler jwtauth-resource-metadata: the scope's JWTAuthResource,
 * JWTAuthIssuer, JWTAuthScopes and jwks_uri as RFC 9728 section 2
 * metadata, GET and HEAD only.  Without JWTAuthResource (REQUIRED by
 * section 2) the scope is misconfigured: 500 and a log line. */
int jwtauth_resource_handler(request_rec *r)
{
    const jwtauth_dir_conf *conf;
    char *doc;
    apr_size_t len;

    if (!r->handler || strcmp(r->handler, METADATA_HANDLER)) {
        return DECLINED;
    }
    ap_allow_methods(r, REPLACE_ALLOW, "GET", NULL);
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    conf = ap_get_module_config(r->per_dir_config, &jwtauth_module);
    if (!conf->resource) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, METADATA_HANDLER ": "
                      "JWTAuthResource is not set in the scope of %s (RFC "
                      "9728: resource is required)",
                      ap_escape_logitem(r->pool, r->uri));
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!(doc = metadata(r, conf))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, METADATA_HANDLER ": "
                      "cannot encode the metadata of %s (is JWTAuthIssuer "
                      "UTF-8?)", ap_escape_logitem(r->pool, r->uri));
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ap_discard_request_body(r);
    len = strlen(doc);
    ap_set_content_type(r, "application/json");
    apr_table_setn(r->headers_out, "Cache-Control", "public, max-age=300");
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only) {
        ap_rwrite(doc, (int)len, r);
    }
    return OK;
}
