/*
 * access.c: the token check of every protected request: where the token
 * comes from, its validation through the JOSE core (and this thread's
 * cache), the 401 refusals, and the user and claims a valid token gives
 * the rest of the request.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apr_lib.h"
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

/* Where a request's token was looked for: none sent, one found, or an
 * invalid_request (RFC 6750 section 3.1). */
typedef enum {
    TOKEN_NONE,
    TOKEN_FOUND,
    TOKEN_BAD,
    TOKEN_MALFORMED                     /* a cookie that is no JWS: 401 */
} token_e;

/* RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" /
 * "~" / "+" / "/" ) *"=", the whole of s[0..len). */
static int b64token(const char *s, size_t len)
{
    size_t i = 0;

    while (i < len && (apr_isalnum(s[i]) || strchr("-._~+/", s[i]))) {
        i++;
    }
    if (i == 0) {
        return 0;
    }
    while (i < len && s[i] == '=') {
        i++;
    }
    return i == len;
}

/* The token of "Authorization: Bearer <b64token>" (RFC 6750 section
 * 2.1; the scheme without case, RFC 9110 section 11.1).  TOKEN_NONE
 * without the header or under another scheme (Basic goes to whoever
 * reads it); TOKEN_BAD, *why saying how, for Bearer credentials that
 * are empty, not after one SP, or more or other than one b64token. */
static token_e bearer_token(request_rec *r, const char **token,
                            const char **why)
{
    const char *v = apr_table_get(r->headers_in, "Authorization");
    const char *s;
    size_t len;

    if (!v) {
        return TOKEN_NONE;
    }
    /* the scheme is a token: it ends at the first byte no tchar is */
    for (s = v; *s && (apr_isalnum(*s) || strchr("!#$%&'*+-.^_`|~", *s));
         s++) {
    }
    if (s - v != 6 || strncasecmp(v, "Bearer", 6)) {
        return TOKEN_NONE;
    }
    if (*s != ' ') {
        *why = *s ? "Authorization: no space after the Bearer scheme"
                  : "Authorization: Bearer without credentials";
        return TOKEN_BAD;
    }
    while (*s == ' ') {
        s++;
    }
    len = strlen(s);
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t')) {
        len--;
    }
    if (!len) {
        *why = "Authorization: Bearer without credentials";
        return TOKEN_BAD;
    }
    if (!b64token(s, len)) {
        *why = "Authorization: the Bearer credentials are not one b64token "
               "(RFC 6750 section 2.1)";
        return TOKEN_BAD;
    }
    *token = s[len] ? apr_pstrmemdup(r->pool, s, len) : s;
    return TOKEN_FOUND;
}

/* The result that applies to r: its own (access.c stores the one it
 * decided or reused on each request it runs for), else that of the
 * request whose configuration httpd found identical and whose user it
 * took without running the access hooks (ap_process_request_internal:
 * a subrequest of the same section as its parent, a redirect). */
const jwtauth_result *jwtauth_applied_result(const request_rec *r)
{
    const jwtauth_result *res;

    while (!(res = ap_get_module_config(r->request_config,
                                        &jwtauth_module))) {
        if (r->prev && r->prev->per_dir_config == r->per_dir_config) {
            r = r->prev;
        }
        else if (r->main && r->main->per_dir_config == r->per_dir_config) {
            r = r->main;
        }
        else {
            return NULL;
        }
    }
    return res;
}

/* Is s a JWS compact serialization by its shape: three runs of
 * base64url characters (RFC 7515 section 7.1), the first two non-empty,
 * joined by two dots? */
static int compact_jws(const char *s)
{
    int dots = 0;
    size_t run = 0;

    for (; *s; s++) {
        if (*s == '.') {
            if (!run || ++dots > 2) {
                return 0;
            }
            run = 0;
        }
        else if (apr_isalnum(*s) || *s == '-' || *s == '_') {
            run++;
        }
        else {
            return 0;
        }
    }
    return dots == 2;
}

/* The token of the JWTAuthCookie, from the Cookie header parsed strictly
 * as RFC 6265 section 4.2.1 says browsers send it: name=value pairs
 * joined by "; ".  Only a pair whose name is exactly the cookie's counts
 * (other pairs are not ours to judge).  An empty value is no token (what
 * a cookie cleared at logout leaves); two pairs of that name are
 * TOKEN_BAD (a cookie set at two paths or domains: which one is meant is
 * not for the server to guess); a value that is no compact JWS is
 * TOKEN_MALFORMED. */
static token_e cookie_token(request_rec *r, const char *name,
                            const char **token, const char **why)
{
    const char *v = apr_table_get(r->headers_in, "Cookie");
    size_t nlen = strlen(name);
    const char *found = NULL;

    while (v && *v) {
        const char *end = strstr(v, "; ");
        size_t len = end ? (size_t)(end - v) : strlen(v);

        if (len > nlen && v[nlen] == '=' && !strncmp(v, name, nlen)) {
            if (found) {
                *why = apr_pstrcat(r->pool, "two cookies named ", name,
                                   NULL);
                return TOKEN_BAD;
            }
            found = apr_pstrmemdup(r->pool, v + nlen + 1, len - nlen - 1);
        }
        v = end ? end + 2 : NULL;
    }
    if (!found || !*found) {
        return TOKEN_NONE;
    }
    if (!compact_jws(found)) {
        *why = apr_pstrcat(r->pool, "the cookie ", name, " is not a JWS "
                           "compact serialization", NULL);
        return TOKEN_MALFORMED;
    }
    *token = found;
    return TOKEN_FOUND;
}

/* The token the client sent, from JWTAuthHeader or "Authorization:
 * Bearer", else from the JWTAuthCookie (*cookie then set).  The header's
 * value is taken as it is (leading blanks skipped; empty is none), as
 * the seed did.  Malformed Bearer credentials, or a token in each header
 * that differ, are TOKEN_BAD: which one the client meant is not for the
 * server to guess.  A token in a header wins over the cookie, which is
 * then not read: the cookie is ambient (a stale one beside a fresh
 * header token is ordinary), the header is what the client chose. */
static token_e find_token(request_rec *r, const jwtauth_dir_conf *conf,
                          const char **token, const char **why, int *cookie)
{
    const char *h = NULL, *b = NULL;

    *token = NULL;
    *cookie = 0;
    if (bearer_token(r, &b, why) == TOKEN_BAD) {
        return TOKEN_BAD;
    }
    /* JWTAuthHeader Authorization: that header is the Bearer one */
    if (strcasecmp(conf->policy.token_header, "Authorization")) {
        h = apr_table_get(r->headers_in, conf->policy.token_header);
        while (h && (*h == ' ' || *h == '\t')) {
            h++;
        }
        if (h && !*h) {
            h = NULL;
        }
    }
    if (h && b && strcmp(h, b)) {
        *why = apr_pstrcat(r->pool, "different tokens in ",
                           conf->policy.token_header, " and Authorization",
                           NULL);
        return TOKEN_BAD;
    }
    *token = h ? h : b;
    if (!*token && conf->cookie) {
        *cookie = 1;
        return cookie_token(r, conf->cookie, token, why);
    }
    return *token ? TOKEN_FOUND : TOKEN_NONE;
}

/* The request's own origin (RFC 6454 section 6.2): scheme://host[:port]
 * as httpd names this server for the request (ap_construct_url: the
 * Host header under UseCanonicalName Off, the port left out when it is
 * the scheme's default). */
static const char *own_origin(request_rec *r)
{
    return ap_construct_url(r->pool, "", r);
}

/* CSRF: a state-changing request (POST, PUT, PATCH, DELETE, as the
 * request that came in named it) that only a cookie authenticates must
 * come from this origin or a JWTAuthTrustedOrigin: Origin says so, or
 * without it Sec-Fetch-Site: same-origin.  "Origin: null" (a sandbox,
 * a redirect across origins) matches nothing.  NULL when it may pass,
 * else why not. */
const char *jwtauth_cross_site(request_rec *r, const jwtauth_dir_conf *conf)
{
    const request_rec *m = r;
    const char *origin, *site;
    int i;

    while (m->main) {
        m = m->main;
    }
    if (m->method_number != M_POST && m->method_number != M_PUT
        && m->method_number != M_PATCH && m->method_number != M_DELETE) {
        return NULL;
    }
    if (!(origin = apr_table_get(r->headers_in, "Origin"))) {
        site = apr_table_get(r->headers_in, "Sec-Fetch-Site");
        if (site && !strcmp(site, "same-origin")) {
            return NULL;
        }
        return site ? apr_pstrcat(r->pool, "Sec-Fetch-Site: ",
                                  ap_escape_logitem(r->pool, site), NULL)
                    : "neither Origin nor Sec-Fetch-Site";
    }
    if (!strcasecmp(origin, own_origin(r))) {
        return NULL;
    }
    for (i = 0; conf->trusted_origins && i < conf->trusted_origins->nelts;
         i++) {
        if (!strcasecmp(origin, APR_ARRAY_IDX(conf->trusted_origins, i,
                                              const char *))) {
            return NULL;
        }
    }
    return apr_pstrcat(r->pool, "Origin ", ap_escape_logitem(r->pool, origin),
                       " is neither ", own_origin(r),
                       " nor a JWTAuthTrustedOrigin", NULL);
}

/* Each thread's caches: one with token slots (JWTAuthCache On) and one
 * with header slots only (Off: every token is verified afresh, its
 * header need not be parsed afresh).  Made on the thread's first
 * request, destroyed when the thread exits (the key's destructor).  The
 * first has the process's cache behind it. */
typedef struct {
    jwt_cache_t *tokens;
    jwt_cache_t *headers;
} thread_caches;

static apr_threadkey_t *caches_key;
/* the cache all threads of this process share (JWTAuthCacheSize), made
 * in child_init and freed with the child's pool; NULL with size 0 */
static jwt_pcache_t *process_cache;

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

/* The child's pool is going: what the process cache held and did, for
 * the log (LogLevel jwtauth:info; the bench reads the contention). */
static apr_status_t process_cache_report(void *data)
{
    server_rec *s = data;
    jwt_pcache_stats_t st;

    jwt_pcache_stats(process_cache, &st);
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "JWTAuth: process cache: "
                 "%" APR_SIZE_T_FMT " entries, %" APR_SIZE_T_FMT " of %"
                 APR_SIZE_T_FMT " bytes, %" APR_UINT64_T_FMT " hits, %"
                 APR_UINT64_T_FMT " misses, %" APR_UINT64_T_FMT
                 " evictions, %" APR_UINT64_T_FMT " of %" APR_UINT64_T_FMT
                 " shard locks contended", st.entries, st.bytes, st.limit,
                 st.hits, st.misses, st.evictions, st.contended, st.locks);
    process_cache = NULL;
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
    process_cache = NULL;
    if (jwtauth_cache_size()) {
        if (!(process_cache = jwt_pcache_create(p, jwtauth_cache_size()))) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "JWTAuth: no "
                         "memory for the process's validated-token cache "
                         "(JWTAuthCacheSize %" APR_SIZE_T_FMT ")",
                         jwtauth_cache_size());
        }
        else {
            jwt_pcache_env_prefix(process_cache, CLAIM_PREFIX);
            jwtauth_session_cache_keys(process_cache);
            /* registered after the cache's own cleanup: runs before it */
            apr_pool_cleanup_register(p, s, process_cache_report,
                                      apr_pool_cleanup_null);
        }
    }
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
        jwt_cache_attach(tc->tokens, process_cache);
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
    const char *token, *why = NULL, *csrf;
    int cookie;
    token_e found = find_token(r, conf, &token, &why, &cookie);
    jwt_shared_cache_t shared;
    jwt_cache_t *tc = thread_cache(conf->cache != 0);
    const jwt_shared_cache_t *sh = conf->cache == 0 ? NULL
                                   : jwtauth_shared_tier(r, &shared);
    jwt_error_t err;
    size_t len = token ? strlen(token) : 0;
    int hit = 0;

    res->conf = conf;
    if (found == TOKEN_BAD) {
        res->result = RESULT_BAD_REQUEST;
        res->reason = "invalid_request";
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "JWTAuth: request refused (invalid_request): %s", why);
    }
    else if (found == TOKEN_MALFORMED) {
        res->result = RESULT_INVALID;
        res->reason = "malformed";
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "JWTAuth: token refused (malformed): %s", why);
    }
    else if (!token) {
        res->result = RESULT_MISSING;
        res->reason = "missing";
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "JWTAuth: no token in %s or Authorization%s%s",
                      conf->policy.token_header,
                      conf->cookie ? " or the cookie " : "",
                      conf->cookie ? conf->cookie : "");
    }
    else if (!jwt_verify_cached(&res->jwt, r->pool, tc, token,
                                len, &conf->policy,
                                apr_time_sec(apr_time_now()),
                                jwtauth_keys_generation(), sh, &hit,
                                &err)) {
        res->result = RESULT_INVALID;
        res->reason = jwt_error_name(err.code);
        /* a kid no current key has: the IdP may have rotated; and when
         * the scope's only keys are remote sets that are all empty,
         * nothing was tried: the fault is not the token's (503).  Asked
         * here, on the failure path only, not on every request. */
        if (err.code == JWT_ERR_KEY && conf->policy.sources) {
            jwtauth_keys_refetch(&conf->policy);
            if ((!conf->keys || !conf->keys->nelts)
                && !jwtauth_keys_available(&conf->policy)) {
                res->result = RESULT_NO_KEYS;
                res->reason = "keys_unavailable";
            }
        }
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
    else if (jwtauth_session_refused(r, res, jwt_cache_extra(tc))) {
        /* revoked, or the session store cannot say (logged there) */
    }
    else if (cookie && (csrf = jwtauth_cross_site(r, conf))) {
        /* the token is good, the page that sent it is not */
        res->result = RESULT_CSRF;
        res->reason = "csrf";
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "JWTAuth: cross-site request refused (csrf): %s %s "
                      "authenticated by the cookie %s alone: %s",
                      r->method, ap_escape_logitem(r->pool, r->uri),
                      conf->cookie, csrf);
    }
    else {
        res->result = RESULT_VALID;
        /* a process-cache hit hands over the claims' variables too */
        res->env = jwt_cache_env(tc);
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "JWTAuth: token accepted (alg %s, user %s%s)",
                      jwt_alg_name(res->jwt->alg), res->user,
                      hit == JWT_CACHE_THREAD || hit == JWT_CACHE_PROCESS
                      ? ", cached"
                      : hit == JWT_CACHE_SHARED ? ", shared cache" : "");
    }
    if (token) {
        /* tier="thread" counts the process's own tiers, the thread's
         * slots and the process cache behind them, as one */
        jwtauth_metrics_cache(conf->cache != 0 && tc
                              && (jwtauth_cache_entries() || process_cache),
                              sh != NULL, len,
                              hit == JWT_CACHE_PROCESS ? JWT_CACHE_THREAD
                                                       : hit);
    }
    jwtauth_metrics_request(res->result == RESULT_VALID ? NULL : res->reason);
    ap_set_module_config(r->request_config, &jwtauth_module, res);
    return res;
}

/* Does t hold a name beginning with prefix (without case, as tables
 * compare names)?  A subrequest's copy of its parent's variables does,
 * and so may what SetEnvIf or a RewriteRule set before this hook. */
static int has_prefixed(const apr_table_t *t, const char *prefix)
{
    const apr_array_header_t *a = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)a->elts;
    size_t n = strlen(prefix);
    int i;

    for (i = 0; i < a->nelts; i++) {
        if (e[i].key && !strncasecmp(e[i].key, prefix, n)) {
            return 1;
        }
    }
    return 0;
}

/* Export the claims as JWT_CLAIM_<name> (jwt_claims_env: only names
 * that reach CGI unchanged, and none that another claim shares without
 * case); what is left out is logged once per request.  cached: the same
 * variables as the process cache kept them with the token (NULL: none),
 * used unless the log wants the names left out. */
static void export_claims(request_rec *r, const jwt_claims_t *claims,
                          const apr_array_header_t *cached)
{
    apr_array_header_t *skipped = NULL;
    const apr_array_header_t *vars = cached && !APLOGrinfo(r) ? cached
        : jwt_claims_env(r->pool, claims, CLAIM_PREFIX,
                         APLOGrinfo(r) ? &skipped : NULL);
    int i, add = vars->nelts && !has_prefixed(r->subprocess_env,
                                              CLAIM_PREFIX);

    /* the names are distinct without case (jwt_claims_env): while the
     * table holds none of them, adding each is setting each, without
     * apr_table_setn's walk over the names before it (they share their
     * first letter and checksum: each walk compared them all) */
    for (i = 0; i < vars->nelts; i++) {
        const jwt_env_t *v = &APR_ARRAY_IDX(vars, i, jwt_env_t);

        if (add) {
            apr_table_addn(r->subprocess_env, v->name, v->value);
        }
        else {
            apr_table_setn(r->subprocess_env, v->name, v->value);
        }
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
    const jwtauth_dir_conf *conf = ap_get_module_config(r->per_dir_config,
                                                        &jwtauth_module);

    /* JWTAuthLoginPage: a browser goes to the login page instead, before
     * an ErrorDocument 401 (which still answers everyone else) */
    if (jwtauth_login_page_redirect(r, conf) == HTTP_SEE_OTHER) {
        return HTTP_SEE_OTHER;
    }
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

/* Refuse with 400 and error="invalid_request" (RFC 6750 section 3.1):
 * two different tokens, or malformed Bearer credentials.  As deny(): an
 * admin's ErrorDocument 400 wins, subrequests only get the status, and
 * the body is never read (httpd closes the connection after a 400). */
static int bad_request(request_rec *r)
{
    const char *realm = ap_auth_name(r) ? ap_auth_name(r)
                                        : DEFAULT_BEARER_REALM;

    apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                   apr_psprintf(r->pool, "Bearer realm=\"%s\", "
                                "error=\"invalid_request\"%s",
                                ap_escape_quotes(r->pool, realm),
                                jwtauth_challenge_resource(r)));
    if (r->main) {
        return HTTP_BAD_REQUEST;
    }
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    if (ap_response_code_string(r, ap_index_of_response(HTTP_BAD_REQUEST))) {
        return HTTP_BAD_REQUEST;
    }
    r->status = HTTP_BAD_REQUEST;
    ap_set_content_type(r, "application/json");
    ap_rputs(MSG_BAD_REQUEST, r);
    return DONE;
}

/* Refuse a cross-site request that a cookie alone authenticates with 403
 * and the JSON body.  As deny(): an admin's ErrorDocument 403 wins,
 * subrequests only get the status, and the body is never read.  No
 * challenge: the token is good, another would not help. */
int jwtauth_csrf_refused(request_rec *r)
{
    if (r->main) {
        return HTTP_FORBIDDEN;
    }
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    if (ap_response_code_string(r, ap_index_of_response(HTTP_FORBIDDEN))) {
        return HTTP_FORBIDDEN;
    }
    r->status = HTTP_FORBIDDEN;
    ap_set_content_type(r, "application/json");
    ap_rputs(MSG_CSRF, r);
    return DONE;
}

/* A CORS preflight (Fetch standard): OPTIONS with Origin and
 * Access-Control-Request-Method.  Browsers never send credentials on
 * it. */
static int cors_preflight(request_rec *r)
{
    return r->method_number == M_OPTIONS
           && apr_table_get(r->headers_in, "Origin")
           && apr_table_get(r->headers_in, "Access-Control-Request-Method");
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

const jwtauth_result *jwtauth_token_result(request_rec *r,
                                           const jwtauth_dir_conf *conf)
{
    return request_result(r, conf);
}

/* A valid token: its user and claims for the rest of the request. */
static void apply_result(request_rec *r, const jwtauth_result *res)
{
    r->user = (char *)res->user;
    r->ap_auth_type = "Bearer";
    export_claims(r, &res->jwt->claims, res->env);
}

/* A scope whose only keys are remote sets, none of which holds a set
 * now (never fetched and nothing in the store, or stale past
 * JWTAuthKeysMaxStale): 503 with Retry-After, not 401, since the token
 * is not at fault.  As deny(): an ErrorDocument 503 wins, subrequests
 * only get the status. */
static int keys_unavailable(request_rec *r, const jwtauth_dir_conf *conf,
                            int any_phase)
{
    if (any_phase) {
        return HTTP_UNAUTHORIZED;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "JWTAuth: no key set of "
                  "the scope of %s is available (keys_unavailable)",
                  ap_escape_logitem(r->pool, r->uri));
    apr_table_setn(r->err_headers_out, "Retry-After",
                   apr_itoa(r->pool, jwtauth_keys_retry_after(
                                         &conf->policy)));
    if (r->main) {
        return HTTP_SERVICE_UNAVAILABLE;
    }
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    if (ap_response_code_string(r, ap_index_of_response(
                                       HTTP_SERVICE_UNAVAILABLE))) {
        return HTTP_SERVICE_UNAVAILABLE;
    }
    r->status = HTTP_SERVICE_UNAVAILABLE;
    ap_set_content_type(r, "application/json");
    ap_rputs(MSG_KEYS_UNAVAILABLE, r);
    return DONE;
}

/* JWTAuth On (or Optional) in a scope without a key (a <Files>, <If>,
 * .htaccess or regex section the startup checks cannot place): no token
 * can pass, and the fault is the server's.  Logged once per request: the
 * Satisfy Any phase fails silently and leaves the answer to
 * check_access_ex. */
static int no_key(request_rec *r, const jwtauth_dir_conf *conf,
                  int any_phase)
{
    if (conf->keys && conf->keys->nelts > 0) {
        return OK;
    }
    if (conf->policy.sources && conf->policy.sources->nelts > 0) {
        /* keys somewhere: whether a set is at hand is asked only when a
         * token finds no key (validate: RESULT_NO_KEYS) */
        return OK;
    }
    if (!any_phase) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "JWTAuth %s but no key "
                      "in the scope of %s: add JWTAuthSecretFile or "
                      "JWTAuthKeyFile", jwtauth_requires(conf) ? "On"
                                                               : "Optional",
                      ap_escape_logitem(r->pool, r->uri));
    }
    return any_phase ? HTTP_UNAUTHORIZED : HTTP_INTERNAL_SERVER_ERROR;
}

/* The token check of both access hooks.  A valid token sets r->user and
 * the claims and leaves the Require rules to mod_authz_core.
 *
 * access_checker_ex (any_phase 0): a missing or invalid token ends the
 * request here with the seed's 401, malformed credentials with 400.
 * Under JWTAuth Optional a request without a token goes on anonymously
 * (DECLINED, no user, no claims): a Require rule that needs a user then
 * brings it to jwtauth_check_user, which refuses it.  So does a CORS
 * preflight under JWTAuthCORSPreflight On: it skips the token check
 * only, never the Require rules.
 *
 * access_checker (any_phase 1), for legacy "Satisfy Any" only: there a
 * host rule that passes (mod_access_compat passes every host when it has
 * no rules) would skip check_access_ex and with it the token.  Anything
 * but a valid token (an anonymous request and a preflight too) fails
 * this phase, so the request reaches the check_access_ex hook, which
 * answers, and the Require rules; a valid one is applied here, as authz
 * may not run. */
static int token_phase(request_rec *r, int any_phase)
{
    const jwtauth_dir_conf *conf = ap_get_module_config(r->per_dir_config,
                                                        &jwtauth_module);
    jwtauth_result *res;
    int rv;

    if (!jwtauth_checks(conf)
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
    if (conf->cors_preflight == 1 && cors_preflight(r)) {
        if (any_phase) {
            return HTTP_UNAUTHORIZED;
        }
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "JWTAuth: CORS "
                      "preflight: no token checked (JWTAuthCORSPreflight)");
        return DECLINED;
    }
    res = request_result(r, conf);
    if (res->result == RESULT_VALID) {
        apply_result(r, res);
        return DECLINED;
    }
    if (res->result == RESULT_MISSING && !jwtauth_requires(conf)) {
        return any_phase ? HTTP_UNAUTHORIZED : DECLINED;
    }
    apr_table_setn(r->subprocess_env, JWTAUTH_ERROR_VAR, res->reason);
    if (any_phase) {
        return HTTP_UNAUTHORIZED;
    }
    if (res->result == RESULT_CSRF) {
        return jwtauth_csrf_refused(r);
    }
    if (res->result == RESULT_UNAVAILABLE) {
        return jwtauth_session_unavailable(r);
    }
    if (res->result == RESULT_NO_KEYS) {
        return keys_unavailable(r, conf, 0);
    }
    return res->result == RESULT_BAD_REQUEST
           ? bad_request(r) : deny(r, res->result == RESULT_INVALID);
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
 * needs one; the token already named it.  Without a valid token (JWTAuth
 * Optional without one, or a CORS preflight, whose token was never
 * checked) the request is refused as JWTAuth On would have. */
int jwtauth_check_user(request_rec *r)
{
    const jwtauth_dir_conf *conf = ap_get_module_config(r->per_dir_config,
                                                        &jwtauth_module);
    jwtauth_result *res;

    if (!jwtauth_checks(conf)) {
        return DECLINED;
    }
    res = ap_get_module_config(r->request_config, &jwtauth_module);
    if (res && res->result == RESULT_VALID) {
        r->user = (char *)res->user;
        r->ap_auth_type = "Bearer";
        return OK;
    }
    if (!res) {
        /* the preflight: counted once, here */
        jwtauth_metrics_request("missing");
    }
    apr_table_setn(r->subprocess_env, JWTAUTH_ERROR_VAR,
                   res ? res->reason : "missing");
    if (res && res->result == RESULT_BAD_REQUEST) {
        return bad_request(r);
    }
    if (res && res->result == RESULT_CSRF) {
        return jwtauth_csrf_refused(r);
    }
    if (res && res->result == RESULT_UNAVAILABLE) {
        return jwtauth_session_unavailable(r);
    }
    if (res && res->result == RESULT_NO_KEYS) {
        return keys_unavailable(r, conf, 0);
    }
    return deny(r, res && res->result == RESULT_INVALID);
}
