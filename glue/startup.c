/*
 * startup.c: the startup checks (check_config) that refuse, already at
 * apachectl -t, a scope which can never validate a token: each
 * <Location> and <Directory> section merged along the nesting a request
 * for its own path gets, every JWTAuthAlgorithms list against the keys
 * of the whole configuration, and a warning where JWTAuth On (or
 * Optional) meets the legacy Satisfy Any.  What only a request can tell
 * is left to it (access.c answers 500).
 */
#include <string.h>
#include <strings.h>

#include "apr_strings.h"
#include "apr_fnmatch.h"
#include "apr_hash.h"
#include "apr_optional.h"

#include "ap_config.h"
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "mod_auth.h"
#include "mod_proxy.h"

#include "glue.h"

/* How a log line names a scope's JWTAuth that checks tokens. */
static const char *enabled_name(const jwtauth_dir_conf *conf)
{
    return jwtauth_requires(conf) ? "On" : "Optional";
}

/* Cross-directive checks of one (merged) scope; NULL when sound. */
static const char *check_scope(apr_pool_t *p, const jwtauth_dir_conf *conf)
{
    unsigned have = 0;
    int hmac = 0;
    jwt_alg_e alg;
    int i;

    /* Optional validates every token it is sent: it needs keys too (a
     * remote set's are not known before it is fetched) */
    if (jwtauth_checks(conf) && (!conf->keys || conf->keys->nelts == 0)
        && !conf->key_urls) {
        return apr_psprintf(p, "JWTAuth %s but no key: add "
                            "JWTAuthSecretFile, JWTAuthKeyFile, "
                            "JWTAuthKeysURL or JWTAuthDiscovery",
                            enabled_name(conf));
    }
    if (conf->signing_key && !jwtauth_conf_signer(conf, &alg)) {
        return apr_psprintf(p, "JWTAuthAlgorithms %s: the key in %s "
                            "(JWTAuthSigningKeyFile) cannot sign it",
                            jwt_alg_name(conf->sign_alg),
                            conf->signing_source);
    }
    if (!conf->keys || !conf->algs) {
        return NULL;
    }
    for (i = 0; i < conf->keys->nelts; i++) {
        const jwt_key_t *k = APR_ARRAY_IDX(conf->keys, i, jwt_key_t *);

        have |= jwt_key_algs(k);
        hmac |= jwt_key_kty(k) == JWT_KTY_OCT;
    }
    /* an HS algorithm listed beside an HMAC secret too short for it is a
     * key the RFC refuses (RFC 7518 section 3.2); other algorithms may be
     * listed server-wide for scopes that have their keys (check_algs) */
    for (i = 1; hmac && i < JWT_ALG_COUNT; i++) {
        if ((conf->algs & JWT_ALG_BIT(i)) && !(have & JWT_ALG_BIT(i))
            && jwt_alg_kty((jwt_alg_e)i) == JWT_KTY_OCT) {
            return apr_psprintf(p, "JWTAuthAlgorithms %s: the HMAC key of "
                                "this scope is shorter than its hash (RFC "
                                "7518 section 3.2; last key file %s)",
                                jwt_alg_name((jwt_alg_e)i), conf->key_source);
        }
    }
    if (jwtauth_checks(conf) && !(conf->algs & have) && !conf->key_urls) {
        return apr_psprintf(p, "JWTAuth %s, but no algorithm of "
                            "JWTAuthAlgorithms can run with this scope's "
                            "keys (last key file %s)", enabled_name(conf),
                            conf->key_source);
    }
    return NULL;
}

/* Every algorithm the keys of one record (JWTAuthSecretFile,
 * JWTAuthKeyFile, JWTAuthSigningKeyFile) can run. */
static unsigned record_key_algs(const jwtauth_dir_conf *conf)
{
    unsigned algs = conf->signing_key ? jwt_key_algs(conf->signing_key) : 0;
    int i;

    /* a remote set may bring any of these */
    if (conf->key_urls) {
        algs |= jwtauth_keys_remote_algs();
    }
    for (i = 0; conf->keys && i < conf->keys->nelts; i++) {
        algs |= jwt_key_algs(APR_ARRAY_IDX(conf->keys, i, jwt_key_t *));
    }
    return algs;
}

/* Whether a section sets anything the startup checks look at. */
static int record_matters(const jwtauth_dir_conf *conf)
{
    return conf && (conf->enabled != UNSET || conf->keys || conf->algs
                    || conf->signing_key || conf->key_urls);
}

/* The kinds of section, and what a walk over them gathers. */
typedef enum {
    SEC_SERVER, SEC_LOCATION, SEC_DIRECTORY, SEC_FILES, SEC_IF, SEC_PROXY
} section_kind_e;

typedef struct {
    apr_pool_t *p;
    server_rec *s;
    unsigned key_algs;          /* what some key of the walk can run */
    int unknown;                /* a <Files>, <If> or <Proxy> sets some */
    int locations;              /* a <Location> sets some */
    int directories;            /* a <Directory> sets some */
    int dir_patterns;           /* a wildcard or regex <Directory> does */
    int refused;                /* check_algs refused a list */
} config_walk;

typedef void (*section_fn)(config_walk *w, ap_conf_vector_t *v,
                           section_kind_e kind);

/* How a log line names a section. */
static const char *section_name(ap_conf_vector_t *v, section_kind_e kind)
{
    core_dir_config *core = ap_get_core_module_config(v);

    if (kind == SEC_IF) {
        return "<If>";
    }
    return core && core->d ? core->d : "?";
}

/* fn on the <Files> and <If> sections inside v, at any depth. */
static void walk_nested(config_walk *w, ap_conf_vector_t *v, section_fn fn)
{
    core_dir_config *core = ap_get_core_module_config(v);
    apr_array_header_t *arr[2];
    int a, i;

    if (!core) {
        return;
    }
    arr[0] = core->sec_file;
    arr[1] = core->sec_if;
    for (a = 0; a < 2; a++) {
        for (i = 0; arr[a] && i < arr[a]->nelts; i++) {
            ap_conf_vector_t *sub = APR_ARRAY_IDX(arr[a], i,
                                                  ap_conf_vector_t *);

            fn(w, sub, a == 0 ? SEC_FILES : SEC_IF);
            walk_nested(w, sub, fn);
        }
    }
}

/* The <Proxy> sections of a server (mod_proxy keeps them), or NULL. */
static apr_array_header_t *proxy_sections(server_rec *s)
{
    module *proxy = ap_find_linked_module("mod_proxy.c");
    proxy_server_conf *conf;

    if (!proxy) {
        return NULL;
    }
    conf = ap_get_module_config(s->module_config, proxy);
    return conf ? conf->sec_proxy : NULL;
}

/* fn on every record of a server: its defaults, each <Location>,
 * <Directory> and <Proxy>, and the <Files> and <If> inside them. */
static void walk_server(config_walk *w, server_rec *s, section_fn fn)
{
    core_server_config *sconf = ap_get_core_module_config(s->module_config);
    apr_array_header_t *arr[3];
    static const section_kind_e kinds[3] = {
        SEC_LOCATION, SEC_DIRECTORY, SEC_PROXY
    };
    int a, i;

    w->s = s;
    fn(w, s->lookup_defaults, SEC_SERVER);
    walk_nested(w, s->lookup_defaults, fn);
    arr[0] = sconf->sec_url;
    arr[1] = sconf->sec_dir;
    arr[2] = proxy_sections(s);
    for (a = 0; a < 3; a++) {
        for (i = 0; arr[a] && i < arr[a]->nelts; i++) {
            ap_conf_vector_t *v = APR_ARRAY_IDX(arr[a], i,
                                                ap_conf_vector_t *);

            fn(w, v, kinds[a]);
            walk_nested(w, v, fn);
        }
    }
}

/* section_fn: what the sections of a server set */
static void gather(config_walk *w, ap_conf_vector_t *v, section_kind_e kind)
{
    jwtauth_dir_conf *conf = ap_get_module_config(v, &jwtauth_module);
    core_dir_config *core = ap_get_core_module_config(v);

    if (!record_matters(conf)) {
        return;
    }
    w->key_algs |= record_key_algs(conf);
    switch (kind) {
    case SEC_SERVER:
        break;
    case SEC_LOCATION:
        w->locations = 1;
        break;
    case SEC_DIRECTORY:
        w->directories = 1;
        if (core && (core->r || core->d_is_fnmatch)) {
            w->dir_patterns = 1;
        }
        break;
    default:
        w->unknown = 1;
        break;
    }
}

/* section_fn: each JWTAuthAlgorithms entry needs a key somewhere in the
 * configuration that can run it (w->key_algs, from every server); a list
 * set server-wide may name algorithms that only some sections' keys
 * run, so this is not a check of the scope's own keys. */
static void check_algs(config_walk *w, ap_conf_vector_t *v,
                       section_kind_e kind)
{
    jwtauth_dir_conf *conf = ap_get_module_config(v, &jwtauth_module);
    const char *names = NULL;
    int i;

    if (w->refused || !conf || !conf->algs) {
        return;
    }
    for (i = 1; i < JWT_ALG_COUNT; i++) {
        if ((conf->algs & JWT_ALG_BIT(i)) && !(w->key_algs & JWT_ALG_BIT(i))) {
            names = names ? apr_pstrcat(w->p, names, " ",
                                        jwt_alg_name((jwt_alg_e)i), NULL)
                          : jwt_alg_name((jwt_alg_e)i);
        }
    }
    if (!names) {
        return;
    }
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, w->s,
                 "mod_jwtauth: %s%s%sJWTAuthAlgorithms %s: no key of the "
                 "configuration can run it (JWTAuthSecretFile, "
                 "JWTAuthKeyFile, JWTAuthSigningKeyFile)",
                 kind == SEC_SERVER ? "" : "in the section for ",
                 kind == SEC_SERVER ? "" : section_name(v, kind),
                 kind == SEC_SERVER ? "" : ": ", names);
    w->refused = 1;
}

/* Whether mod_access_compat says Satisfy Any, for some method, in a
 * merged scope.  It keeps Satisfy in a record of its own and tells it
 * only through this optional function, which reads nothing of the
 * request but per_dir_config and method_number (core retrieves the
 * function only at post_config, so ap_satisfies() cannot be used yet). */
static int satisfies_any(apr_pool_t *p, server_rec *s, ap_conf_vector_t *v)
{
    APR_OPTIONAL_FN_TYPE(access_compat_ap_satisfies) *sat =
        APR_RETRIEVE_OPTIONAL_FN(access_compat_ap_satisfies);
    request_rec *r;
    int m;

    if (!sat) {
        return 0;
    }
    r = apr_pcalloc(p, sizeof(*r));
    r->pool = p;
    r->server = s;
    r->per_dir_config = v;
    for (m = 0; m < METHODS; m++) {
        r->method_number = m;
        if (sat(r) == SATISFY_ANY) {
            return 1;
        }
    }
    return 0;
}

/* Satisfy Any lets mod_access_compat's host rules (which pass every host
 * when there are none) skip the Require rules: say so once per section
 * where it meets JWTAuth On or Optional, that section setting one of the
 * two. */
static void warn_satisfy(apr_pool_t *p, server_rec *s, apr_hash_t *warned,
                         ap_conf_vector_t *sec, ap_conf_vector_t *merged,
                         section_kind_e kind)
{
    jwtauth_dir_conf *own = ap_get_module_config(sec, &jwtauth_module);
    jwtauth_dir_conf *conf = ap_get_module_config(merged, &jwtauth_module);

    /* a virtual host repeats the main server's sections */
    if (apr_hash_get(warned, &sec, sizeof(sec))) {
        return;
    }
    if (conf && jwtauth_checks(conf) && satisfies_any(p, s, merged)
        && ((own && jwtauth_checks(own)) || satisfies_any(p, s, sec))) {
        apr_hash_set(warned, apr_pmemdup(p, &sec, sizeof(sec)), sizeof(sec),
                     sec);
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, s,
                     "mod_jwtauth: in the section for %s: JWTAuth %s with "
                     "Satisfy Any: the Require rules may then not be "
                     "checked: a valid token passes as soon as the host "
                     "rules do (with no Allow/Deny rule, every host does); "
                     "prefer <RequireAny>",
                     section_name(sec, kind), enabled_name(conf));
    }
}

/* A path a request can carry as it is: absolute, no empty, "." or ".."
 * segment (httpd would normalise those away first). */
static int plain_path(const char *d)
{
    const char *s;

    if (!d || d[0] != '/') {
        return 0;
    }
    for (s = d; (s = strchr(s, '/')); s++) {
        if (s[1] == '/' || (s[1] == '.' && (!s[2] || s[2] == '/'
                            || (s[2] == '.' && (!s[3] || s[3] == '/'))))) {
            return 0;
        }
    }
    return 1;
}

/* The scope a request for uri gets from the <Location> sections: each
 * that ap_location_walk would match against it, in configuration order,
 * merged onto base.  A literal path matches the URIs it prefixes at a
 * segment boundary, or any when it ends with '/'. */
static ap_conf_vector_t *location_scope(apr_pool_t *p, ap_conf_vector_t *base,
                                        apr_array_header_t *secs,
                                        const char *uri)
{
    ap_conf_vector_t *v = base;
    int i;

    for (i = 0; i < secs->nelts; i++) {
        ap_conf_vector_t *sec = APR_ARRAY_IDX(secs, i, ap_conf_vector_t *);
        core_dir_config *core = ap_get_core_module_config(sec);
        size_t len = strlen(core->d);
        int match;

        if (core->r) {
            match = !ap_regexec(core->r, uri, 0, NULL, 0);
        }
        else if (core->d_is_fnmatch) {
            match = apr_fnmatch(core->d, uri, APR_FNM_PATHNAME)
                    == APR_SUCCESS;
        }
        else {
            match = !strncmp(core->d, uri, len)
                    && (len == 0 || core->d[len - 1] == '/'
                        || uri[len] == '/' || uri[len] == '\0');
        }
        if (match) {
            v = ap_merge_per_dir_configs(p, v, sec);
        }
    }
    return v;
}

/* Whether a .htaccess file may set JWTAuth (AuthConfig) under a scope. */
static int htaccess_may(ap_conf_vector_t *v)
{
    core_dir_config *core = ap_get_core_module_config(v);

    return (core->override & OR_AUTHCFG)
           || (core->override_list && !apr_is_empty_table(core->override_list));
}

/* The scope a request for the directory path itself gets from the
 * literal <Directory> sections: those of path and of its parents, in the
 * order ap_directory_walk merges them (httpd sorted them by depth).
 * *htaccess tells whether a .htaccess on the way may set JWTAuth. */
static ap_conf_vector_t *directory_scope(apr_pool_t *p,
                                         ap_conf_vector_t *base,
                                         apr_array_header_t *secs,
                                         const char *path, int *htaccess)
{
    ap_conf_vector_t *v = base;
    int i;

    *htaccess = htaccess_may(v);
    for (i = 0; i < secs->nelts; i++) {
        ap_conf_vector_t *sec = APR_ARRAY_IDX(secs, i, ap_conf_vector_t *);
        core_dir_config *core = ap_get_core_module_config(sec);

        if (core->r || core->d_is_fnmatch
            || strncmp(core->d, path, strlen(core->d))) {
            continue;
        }
        v = ap_merge_per_dir_configs(p, v, sec);
        *htaccess |= htaccess_may(v);
    }
    return v;
}

/* JWTAuthLoginPage: a local login page that the <Location> sections put
 * under JWTAuth On would send a browser without a token to itself again
 * and again: warned about once per page and server (a <Directory> or
 * .htaccess may still open it, which only a request can tell). */
static void warn_login_page(apr_pool_t *p, server_rec *s, apr_hash_t *warned,
                            ap_conf_vector_t *base, apr_array_header_t *secs,
                            const jwtauth_dir_conf *conf)
{
    const char *page, *key;
    const jwtauth_dir_conf *at;

    if (!conf->login_page || !conf->cookie || conf->login_page[0] != '/') {
        return;
    }
    page = apr_pstrmemdup(p, conf->login_page,
                          strcspn(conf->login_page, "?"));
    key = apr_pstrcat(p, "login page ", page, NULL);
    if (apr_hash_get(warned, key, APR_HASH_KEY_STRING)) {
        return;
    }
    at = ap_get_module_config(location_scope(p, base, secs, page),
                              &jwtauth_module);
    if (jwtauth_requires(at)) {
        apr_hash_set(warned, key, APR_HASH_KEY_STRING, key);
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, s,
                     "mod_jwtauth: JWTAuthLoginPage %s is itself under "
                     "JWTAuth On: a browser without a token would be sent "
                     "to it again and again (add JWTAuth Off for it)",
                     conf->login_page);
    }
}

/* warn_login_page for the login page of the server's own record and of
 * each <Location> and <Directory> section (each merged onto the
 * server's). */
static void warn_login_pages(apr_pool_t *p, server_rec *s,
                             apr_hash_t *warned, ap_conf_vector_t *base,
                             apr_array_header_t *locs,
                             apr_array_header_t *dirs)
{
    apr_array_header_t *all[2] = { locs, dirs };
    int i, j;

    warn_login_page(p, s, warned, base, locs,
                    ap_get_module_config(base, &jwtauth_module));
    for (j = 0; j < 2; j++) {
        for (i = 0; all[j] && i < all[j]->nelts; i++) {
            ap_conf_vector_t *sec = APR_ARRAY_IDX(all[j], i,
                                                  ap_conf_vector_t *);

            warn_login_page(p, s, warned, base, locs, ap_get_module_config(
                ap_merge_per_dir_configs(p, base, sec), &jwtauth_module));
        }
    }
}

/* Check each <Location> or <Directory> section of a server in the scope
 * a request for its own path gets.  What only a request can tell - a
 * regex or wildcard section, a <Files>, <If> or <Proxy> section or a
 * .htaccess file that may change the scope - is never refused here:
 * such a request fails on its own (token_phase).  Returns 0 when a
 * section is refused. */
static int check_sections(apr_pool_t *p, server_rec *s, const config_walk *w,
                          apr_hash_t *warned, ap_conf_vector_t *base,
                          apr_array_header_t *secs, section_kind_e kind)
{
    int i;

    for (i = 0; i < secs->nelts; i++) {
        ap_conf_vector_t *sec = APR_ARRAY_IDX(secs, i, ap_conf_vector_t *);
        core_dir_config *core = ap_get_core_module_config(sec);
        int literal = !core->r && !core->d_is_fnmatch;
        int htaccess = 0, certain;
        ap_conf_vector_t *merged;
        const char *err;

        if (kind == SEC_LOCATION) {
            literal = literal && plain_path(core->d);
            merged = literal ? location_scope(p, base, secs, core->d)
                             : ap_merge_per_dir_configs(p, base, sec);
            /* <Directory> and <Proxy> merge before <Location> */
            certain = literal && !w->unknown && !w->directories;
        }
        else {
            merged = literal ? directory_scope(p, base, secs, core->d,
                                               &htaccess)
                             : ap_merge_per_dir_configs(p, base, sec);
            /* <Location> merges after <Directory> */
            certain = literal && !htaccess && !w->unknown && !w->locations
                      && !w->dir_patterns;
        }
        warn_satisfy(p, s, warned, sec, merged, kind);
        err = certain ? check_scope(p, ap_get_module_config(merged,
                                                            &jwtauth_module))
                      : NULL;
        if (err) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s,
                         "mod_jwtauth: in the section for %s: %s",
                         section_name(sec, kind), err);
            return 0;
        }
    }
    return 1;
}

/* Walk every server and its <Location>/<Directory> sections, each in the
 * scope a request for its own path gets, so that apachectl -t already
 * refuses a scope that is certain never to validate a token; then every
 * JWTAuthAlgorithms list against the keys of the whole configuration. */
int jwtauth_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                                apr_pool_t *ptemp, server_rec *s)
{
    config_walk all;
    server_rec *first = s;
    apr_hash_t *warned = apr_hash_make(ptemp);

    jwtauth_next_generation();
    memset(&all, 0, sizeof(all));
    all.p = ptemp;
    for (; s; s = s->next) {
        core_server_config *sconf = ap_get_core_module_config(
                                        s->module_config);
        jwtauth_dir_conf *base = ap_get_module_config(s->lookup_defaults,
                                                      &jwtauth_module);
        config_walk w;
        const char *err;

        /* the directive handlers leave the derived policy to here; a
         * request that no section matches uses this record unmerged */
        base->accepted_issuers = jwtauth_keys_issuers(pconf, base);
        jwtauth_derive_policy(base);
        err = check_scope(ptemp, base);

        if (err) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s,
                         "mod_jwtauth: %s", err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        memset(&w, 0, sizeof(w));
        w.p = ptemp;
        walk_server(&w, s, gather);
        all.key_algs |= w.key_algs;
        if (!check_sections(ptemp, s, &w, warned, s->lookup_defaults,
                            sconf->sec_url, SEC_LOCATION)
            || !check_sections(ptemp, s, &w, warned, s->lookup_defaults,
                               sconf->sec_dir, SEC_DIRECTORY)) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        warn_login_pages(ptemp, s, warned, s->lookup_defaults,
                         sconf->sec_url, sconf->sec_dir);
    }
    for (s = first; s && !all.refused; s = s->next) {
        walk_server(&all, s, check_algs);
    }
    return all.refused ? HTTP_INTERNAL_SERVER_ERROR : OK;
}
