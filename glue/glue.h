/*
 * glue.h: what the rooms of mod_jwtauth's httpd glue share.
 *
 * The glue turns httpd's configuration and requests into calls of the
 * JOSE core (jose/, which knows nothing of httpd).  One file a concern:
 *   config.c   records, create/merge, directives
 *   startup.c  the startup checks
 *   access.c   token sources, validation, refusals, claim export
 *   authz.c    the jwt-claim and jwt-scope authz providers, their 403
 *   expr.c     the jwt_claim and jwt_claims expression functions
 *   login.c    the jwtauth-login handler
 *   jwks.c     the jwtauth-jwks handler
 *   resource.c the jwtauth-resource-metadata handler (RFC 9728) and the
 *              resource_metadata parameter of the Bearer challenges
 *   socache.c  the module's socache instances, and on them the shared
 *              cache tier
 *   session.c  JWTAuthSessionStore: revocation, the jwtauth-logout and
 *              jwtauth-refresh handlers, JWTAuthLoginThrottle
 *   metrics.c  the counters, the jwtauth-metrics handler, mod_status
 *   headers.c  claims to request headers, the token kept from backends
 *   browser.c  browsers: Accept, the local return_to, JWTAuthLoginPage
 *   keysurl.c  JWK Sets from identity providers: JWTAuthKeysURL,
 *              JWTAuthDiscovery, the fetcher, the store, each child's
 *              switch to a new set
 * and mod_jwtauth.c the module record, register_hooks and the init hooks.
 * Arrows: mod_jwtauth.c -> rooms -> config.c -> jose/.
 */
#ifndef JWTAUTH_GLUE_H
#define JWTAUTH_GLUE_H

#include "apr_tables.h"

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "ap_expr.h"
#include "mod_auth.h"

#include "jose/alg.h"
#include "jose/cache.h"
#include "jose/claims.h"
#include "jose/keys.h"
#include "jose/keyset.h"
#include "jose/policy.h"

/* The .so exports this and nothing else: everything is compiled with
 * -fvisibility=hidden, and httpd loads modules with RTLD_GLOBAL. */
#if defined(__GNUC__)
#define JWTAUTH_EXPORT __attribute__((visibility("default")))
#else
#define JWTAUTH_EXPORT
#endif

extern JWTAUTH_EXPORT module AP_MODULE_DECLARE_DATA jwtauth_module;

/* log lines name the module (mod_jwtauth.c declares it itself) */
#ifndef JWTAUTH_MODULE_RECORD
APLOG_USE_MODULE(jwtauth);
#endif

#define UNSET -1

#define MSG_MISSING "{\"message\": \"Token is missing!\"}"
#define MSG_INVALID "{\"message\": \"Token is invalid!\"}"
#define MSG_BAD_REQUEST "{\"message\": \"Bad request!\"}"
#define MSG_CSRF "{\"message\": \"Cross-site request refused!\"}"
#define MSG_KEYS_UNAVAILABLE "{\"message\": \"Token keys are unavailable!\"}"

/* the attributes of the JWTAuthCookie that /login sets, after its value
 * (Max-Age follows them) */
#define DEFAULT_COOKIE_ATTRS "Path=/; HttpOnly; Secure; SameSite=Lax"

/* JWTAuth: enabled is UNSET, JWTAUTH_OFF, JWTAUTH_ON or JWTAUTH_OPTIONAL */
#define JWTAUTH_OFF      0
#define JWTAUTH_ON       1
#define JWTAUTH_OPTIONAL 2

/* one JWTAuthLoginClaim */
typedef struct {
    const char *name;
    ap_expr_info_t *expr;
    jwt_value_type_e type;
} jwtauth_login_claim;

/* one JWTAuthClaimHeader */
typedef struct {
    const jwt_path_t *path;
    const char *name;
} jwtauth_claim_header;

typedef struct {
    int enabled;                        /* JWTAuth, UNSET or JWTAUTH_* */
    int cors_preflight;                 /* JWTAuthCORSPreflight, UNSET/0/1 */
    const char *header;                 /* JWTAuthHeader */
    apr_array_header_t *keys;           /* jwt_key_t *: JWTAuthSecretFile,
                                         * JWTAuthKeyFile */
    const char *key_source;             /* the last file keys came from */
    const jwt_keyindex_t *key_index;    /* the kid index of keys, made by
                                         * add_keys (jose/keyset.h) */
    const jwt_key_t *signing_key;       /* JWTAuthSigningKeyFile */
    const char *signing_source;         /* and its file */
    const char *typ;                    /* JWTAuthType */
    int cache;                          /* JWTAuthCache, UNSET/0/1 */
    unsigned algs;                      /* JWTAuthAlgorithms, 0 = unset */
    jwt_alg_e sign_alg;                 /* the first of them */
    apr_array_header_t *issuers;        /* JWTAuthIssuer: const char *; the
                                         * first goes into /login tokens */
    apr_array_header_t *audiences;      /* JWTAuthAudience */
    apr_int64_t leeway;                 /* JWTAuthLeeway, UNSET */
    const char *user_claim;             /* JWTAuthUserClaim */
    apr_array_header_t *providers;      /* JWTAuthProvider: authn_provider * */
    apr_array_header_t *provider_names; /* and their names */
    apr_int64_t lifetime;               /* JWTAuthTokenLifetime, UNSET */
    apr_array_header_t *login_claims;   /* JWTAuthLoginClaim */
    const char *resource;               /* JWTAuthResource */
    apr_array_header_t *scopes;         /* JWTAuthScopes: const char * */
    const char *resource_metadata;      /* JWTAuthResourceMetadata */
    apr_array_header_t *claim_headers;  /* JWTAuthClaimHeader:
                                         * jwtauth_claim_header */
    int forward_token;                  /* JWTAuthForwardToken, UNSET/0/1 */
    const char *cookie;                 /* JWTAuthCookie: its name */
    const char *cookie_attrs;           /* JWTAuthCookieAttributes */
    apr_array_header_t *trusted_origins; /* JWTAuthTrustedOrigin:
                                          * const char * */
    const char *login_page;             /* JWTAuthLoginPage */
    apr_int64_t session_lifetime;       /* JWTAuthSessionLifetime, UNSET */
    int throttle_failures;              /* JWTAuthLoginThrottle, UNSET: */
    int throttle_seconds;               /* the window, */
    int throttle_addr_failures;         /* the limit per client address */
    apr_array_header_t *key_urls;       /* jwt_keysource_t: JWTAuthKeysURL
                                         * and JWTAuthDiscovery (keysurl.c) */
    apr_array_header_t *discovery_issuers; /* const char *: the issuers of
                                            * its JWTAuthDiscovery lines */
    const apr_array_header_t *accepted_issuers; /* issuers and
                                         * discovery_issuers together (merge,
                                         * or jwtauth_keys_issuers) */
    apr_int64_t keys_refresh;           /* JWTAuthKeysRefresh, UNSET */
    apr_int64_t keys_max_stale;         /* JWTAuthKeysMaxStale, UNSET */
    apr_int64_t keys_timeout;           /* JWTAuthKeysTimeout, UNSET */
    const char *keys_ca;                /* JWTAuthKeysCAFile */
    jwt_policy_t policy;                /* derived in merge */
} jwtauth_dir_conf;

/* Whether tokens are checked in this scope (JWTAuth On or Optional):
 * a token sent here is validated, and a valid one names the user. */
static APR_INLINE int jwtauth_checks(const jwtauth_dir_conf *conf)
{
    return conf->enabled == JWTAUTH_ON || conf->enabled == JWTAUTH_OPTIONAL;
}

/* Whether a token is required here (JWTAuth On); under Optional a
 * request without one goes on anonymously. */
static APR_INLINE int jwtauth_requires(const jwtauth_dir_conf *conf)
{
    return conf->enabled == JWTAUTH_ON;
}

/* ---- config.c ---- */

extern const command_rec jwtauth_cmds[];

void *create_jwtauth_dir_config(apr_pool_t *p, char *dir);
void *merge_jwtauth_dir_config(apr_pool_t *p, void *basev, void *addv);

/* the defaults of unset members */
const char *jwtauth_conf_header(const jwtauth_dir_conf *conf);
apr_int64_t jwtauth_conf_lifetime(const jwtauth_dir_conf *conf);
apr_int64_t jwtauth_conf_session_lifetime(const jwtauth_dir_conf *conf);

/* The key that signs at /login and its algorithm, or NULL. */
const jwt_key_t *jwtauth_conf_signer(const jwtauth_dir_conf *conf,
                                     jwt_alg_e *alg);

/* JWTAuthCacheEntries, JWTAuthCacheSize, and the generation of the
 * configuration (one more at every load: startup.c) */
size_t jwtauth_cache_entries(void);
size_t jwtauth_cache_size(void);
apr_uint64_t jwtauth_cache_generation(void);
void jwtauth_next_generation(void);

/* The keys each key file gave at configuration time (metrics.c). */
typedef struct {
    const char *source;
    int n;
} jwtauth_key_source;
const apr_array_header_t *jwtauth_key_sources(void);

/* Every member of conf->policy from the record (merge does it; the
 * server's own record is done at startup). */
void jwtauth_derive_policy(jwtauth_dir_conf *conf);

/* A secret file read whole into the temp pool (warns when every user
 * may read it); an error names the directive. */
const char *jwtauth_read_secret_file(cmd_parms *cmd, const char *arg,
                                     const char **path, unsigned char **buf,
                                     apr_size_t *len);

/* Is s an HTTP field name, a token (RFC 9110 sections 5.1, 5.6.2)? */
int jwtauth_is_header_name(const char *s);

/* ---- startup.c ---- */

/* check_config: refuse what can never work (apachectl -t) */
int jwtauth_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                         apr_pool_t *ptemp, server_rec *s);

/* ---- access.c ---- */

/* The outcome of validation for one request, kept in its request_config
 * so that subrequests and internal redirects under the same policy reuse
 * it instead of validating again. */
typedef enum {
    RESULT_MISSING,
    RESULT_INVALID,
    RESULT_BAD_REQUEST,                 /* RFC 6750 invalid_request: 400 */
    RESULT_CSRF,                        /* a valid cookie, cross-site: 403 */
    RESULT_UNAVAILABLE,                 /* the session store cannot say
                                         * whether it is revoked: 503 */
    RESULT_NO_KEYS,                     /* a scope whose only keys are
                                         * remote sets, all empty: 503 */
    RESULT_VALID
} jwtauth_result_e;

typedef struct {
    jwtauth_result_e result;
    const jwtauth_dir_conf *conf;       /* the scope it was decided for */
    jwt_t *jwt;                         /* when valid */
    const apr_array_header_t *env;      /* its JWT_CLAIM_* as the process
                                         * cache kept them, or NULL */
    const char *user;                   /* when valid */
    const char *reason;                 /* when not: JWTAUTH_ERROR */
} jwtauth_result;

/* The variable a refused request carries its reason in (README). */
#define JWTAUTH_ERROR_VAR "JWTAUTH_ERROR"

/* child_init: the key of each thread's caches */
void jwtauth_access_child_init(apr_pool_t *p, server_rec *s);

/* The result that applies to r: its own, else that of the request whose
 * user httpd took over without running the access hooks (a subrequest
 * or redirect in the same section); NULL outside a checked scope. */
const jwtauth_result *jwtauth_applied_result(const request_rec *r);

/* CSRF (README "A browser setup"): NULL when a POST, PUT, PATCH or
 * DELETE may pass (its Origin is the request's own or a
 * JWTAuthTrustedOrigin, or without Origin Sec-Fetch-Site: same-origin;
 * other methods always), else why not (for the log).  The cookie-
 * authenticated requests and the login form's POST (login.c). */
const char *jwtauth_cross_site(request_rec *r, const jwtauth_dir_conf *conf);

/* The 403 {"message": "Cross-site request refused!"} (an ErrorDocument
 * 403 wins; a subrequest gets the status only). */
int jwtauth_csrf_refused(request_rec *r);
/* The result of r's token under conf: the one the access hooks reached
 * for r (or its parent, under the same policy), else decided now (the
 * handlers that take a token in a scope without JWTAuth: session.c). */
const jwtauth_result *jwtauth_token_result(request_rec *r,
                                           const jwtauth_dir_conf *conf);

int jwtauth_check_access(request_rec *r);
int jwtauth_check_access_any(request_rec *r);
int jwtauth_check_user(request_rec *r);

/* ---- authz.c ---- */

extern const authz_provider jwtauth_claim_provider;
extern const authz_provider jwtauth_scope_provider;

/* Is s an RFC 6749 scope-token (printable ASCII but blank, '"', '\\')? */
int jwtauth_scope_token(const char *s);

/* the 403 of a valid token that the Require rules deny: its error
 * filter and the fixup that tells the handler's 403 apart */
void jwtauth_authz_hooks(apr_pool_t *p);

/* ---- expr.c ---- */

/* expr_lookup: the functions jwt_claim and jwt_claims */
int jwtauth_expr_lookup(ap_expr_lookup_parms *parms);

/* ---- headers.c ---- */

/* JWTAuthClaimHeader: NULL when name may carry a claim in the section
 * conf (its own record), else the reason it may not (after the name) */
const char *jwtauth_claim_header_refused(apr_pool_t *p,
                                         const jwtauth_dir_conf *conf,
                                         const char *name);

/* merge: the JWTAuthClaimHeader lists of a section and its parent: every
 * name of both (each is scrubbed), a name that both give with the
 * section's path */
apr_array_header_t *jwtauth_merge_claim_headers(apr_pool_t *p,
                                                apr_array_header_t *base,
                                                apr_array_header_t *add);

/* fixups: JWTAuthClaimHeader and JWTAuthForwardToken on r->headers_in */
void jwtauth_headers_hooks(apr_pool_t *p);

/* ---- keysurl.c ---- */

/* JWTAuthKeysURL url [iss], JWTAuthDiscovery issuer [metadata-url],
 * JWTAuthKeysStore dir (server) */
const char *jwtauth_set_keys_url(cmd_parms *cmd, void *dconf,
                                 const char *url, const char *iss);
const char *jwtauth_set_discovery(cmd_parms *cmd, void *dconf,
                                  const char *issuer, const char *url);
const char *jwtauth_set_keys_store(cmd_parms *cmd, void *dconf,
                                   const char *arg);

/* The accepted issuers of a record that has both JWTAuthIssuer and
 * JWTAuthDiscovery lines: both lists, made in p (merge; startup for the
 * servers' own records); NULL unless both are set. */
const apr_array_header_t *jwtauth_keys_issuers(apr_pool_t *p,
                                               const jwtauth_dir_conf *conf);

/* The algorithms a remote set's keys may run when JWTAuthAlgorithms is
 * unset: every asymmetric one (a remote document never gives a secret). */
unsigned jwtauth_keys_remote_algs(void);

/* check_config: each source's settings from the lines that name it;
 * post_config: the store, the shared memory, the first sets, the
 * watchdog callbacks */
int jwtauth_keys_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *s);
int jwtauth_keys_post_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                             server_rec *s);
void jwtauth_keys_child_init(apr_pool_t *p, server_rec *s);

/* The request path (lock-free): does some source of the policy hold a
 * set now; ask for an early fetch of the policy's sources (a kid no key
 * has); the seconds a 503 asks the client to wait; the validated-token
 * cache generation with the keys epoch of this process folded in. */
int jwtauth_keys_available(const jwt_policy_t *policy);
void jwtauth_keys_refetch(const jwt_policy_t *policy);
int jwtauth_keys_retry_after(const jwt_policy_t *policy);
apr_uint64_t jwtauth_keys_generation(void);

/* The keys each remote source holds in this process now (metrics.c),
 * made in p: jwtauth_key_source, source = its URL. */
apr_array_header_t *jwtauth_keys_remote_counts(apr_pool_t *p);

/* ---- login.c, jwks.c ---- */

int jwtauth_login_handler(request_rec *r);
int jwtauth_jwks_handler(request_rec *r);

/* ---- browser.c ---- */

/* The target of a login or logout form's return_to: value itself when it
 * is a path of this server (one leading '/', no "//host" or "/\\host", no
 * backslash, control character, space or non-ASCII byte, neither as it
 * is nor after its %XX escapes are undone), else "/" (also for NULL or
 * ""). */
const char *jwtauth_local_return_to(apr_pool_t *p, const char *value);

/* The field name of an application/x-www-form-urlencoded body of len
 * bytes (nothing past them is read): 1 with *value decoded ('+' and %XX,
 * in p), 0 when absent, -1 when it is there twice (neither wins), does
 * not decode, or holds a NUL byte (raw or %00); *value is set on 1 only. */
int jwtauth_form_field(apr_pool_t *p, const char *body, apr_size_t len,
                       const char *name, const char **value);

/* Does r's Accept prefer text/html to application/json and * / * (q
 * values counted)?  A browser's navigation does, curl's * / * not. */
int jwtauth_prefers_html(const request_rec *r);

/* JWTAuthLoginPage with query ("error=1", "return_to=...") appended. */
const char *jwtauth_login_page_url(request_rec *r,
                                   const jwtauth_dir_conf *conf,
                                   const char *query);

/* The refusal of a request without a valid token, for a browser: with
 * JWTAuthCookie and JWTAuthLoginPage set and an Accept that prefers
 * text/html, Location is the login page with return_to=<the path and
 * query asked for> and HTTP_SEE_OTHER is returned; else DECLINED (the
 * JSON 401 follows).  Never for a subrequest. */
int jwtauth_login_page_redirect(request_rec *r, const jwtauth_dir_conf *conf);

/* Percent-encoded as one query component (all but unreserved and '/') */
const char *jwtauth_query_escape(apr_pool_t *p, const char *s);
/* At most JWT_CREDS_MAX_BODY bytes of request body, NUL-terminated:
 * OK, HTTP_REQUEST_ENTITY_TOO_LARGE or another error status. */
int jwtauth_read_body(request_rec *r, const char **body, apr_size_t *len);

/* Sign claims as /login does (the scope's signing key and algorithm):
 * 1 and *token, or 0 (logged). */
int jwtauth_sign_claims(const char **token, request_rec *r,
                        const jwtauth_dir_conf *conf, json_t *claims);

/* ---- resource.c ---- */

/* SetHandler jwtauth-resource-metadata: RFC 9728 Protected Resource
 * Metadata of the scope */
int jwtauth_resource_handler(request_rec *r);

/* The resource_metadata parameter (RFC 9728 section 5.1) that every
 * Bearer challenge of r's scope carries after its other parameters:
 * ", resource_metadata=\"<JWTAuthResourceMetadata>\"", or "" unset. */
const char *jwtauth_challenge_resource(request_rec *r);

/* ---- socache.c ---- */

/* One socache instance (JWTAuthSharedCache, JWTAuthSessionStore): the
 * provider and instance made by the directive (make), its global mutex
 * when the provider is not safe across processes and its init in
 * post_config (open), the mutex reopened in child_init (reopen), and
 * get/put/del under that mutex.  get and put return the provider's
 * status (APR_NOTFOUND for a miss) or the mutex's, then setting
 * *lock_failed (when not NULL). */
typedef struct jwtauth_socache jwtauth_socache;
struct ap_socache_hints;

const char *jwtauth_socache_make(jwtauth_socache **out, cmd_parms *cmd,
                                 const char *arg, const char *mutex_name);
const char *jwtauth_socache_spec(const jwtauth_socache *c);
apr_status_t jwtauth_socache_open(jwtauth_socache *c, const char *ns,
                                  const struct ap_socache_hints *hints,
                                  apr_pool_t *pconf, server_rec *s);
apr_status_t jwtauth_socache_reopen(jwtauth_socache *c, apr_pool_t *p);
int jwtauth_socache_usable(const jwtauth_socache *c);
apr_status_t jwtauth_socache_get(jwtauth_socache *c, server_rec *s,
                                 const unsigned char *key, unsigned int klen,
                                 unsigned char *val, unsigned int *vlen,
                                 apr_pool_t *p, int *lock_failed);
apr_status_t jwtauth_socache_put(jwtauth_socache *c, server_rec *s,
                                 const unsigned char *key, unsigned int klen,
                                 apr_time_t expiry, const unsigned char *val,
                                 unsigned int vlen, apr_pool_t *p,
                                 int *lock_failed);
apr_status_t jwtauth_socache_del(jwtauth_socache *c, server_rec *s,
                                 const unsigned char *key, unsigned int klen,
                                 apr_pool_t *p);

/* JWTAuthSharedCache, the shared tier of the validated-token cache */

const char *jwtauth_set_shared_cache(cmd_parms *cmd, void *dconf,
                                     const char *arg);
const char *jwtauth_set_shared_secret(cmd_parms *cmd, void *dconf,
                                      const char *arg);
int jwtauth_socache_pre_config(apr_pool_t *pconf);
int jwtauth_socache_post_config(apr_pool_t *pconf, server_rec *s);
void jwtauth_socache_child_init(apr_pool_t *p, server_rec *s);

/* The shared tier's callbacks for this request, or NULL without one. */
const jwt_shared_cache_t *jwtauth_shared_tier(request_rec *r,
                                              jwt_shared_cache_t *sh);

/* ---- session.c ---- */

#define MSG_UNAVAILABLE "{\"message\": \"Session store is unavailable!\"}"
#define MSG_THROTTLED "{\"message\": \"Too many failed logins!\"}"

/* JWTAuthSessionStore, JWTAuthSessionStoreFailure (server config),
 * JWTAuthLoginThrottle */
const char *jwtauth_set_session_store(cmd_parms *cmd, void *dconf,
                                      const char *arg);
const char *jwtauth_set_store_failure(cmd_parms *cmd, void *dconf,
                                      const char *arg);
const char *jwtauth_set_login_throttle(cmd_parms *cmd, void *dconf,
                                       int argc, char *const argv[]);

/* the init hooks: the store's mutex registered (pre_config), what needs
 * a store refused without one (check_config), the store opened
 * (post_config), its mutex reopened (child_init) */
int jwtauth_session_pre_config(apr_pool_t *pconf);
int jwtauth_session_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                                 apr_pool_t *ptemp, server_rec *s);
int jwtauth_session_post_config(apr_pool_t *pconf, server_rec *s);
void jwtauth_session_child_init(apr_pool_t *p, server_rec *s);

/* A valid token (res->jwt) against the store: 1 when it is refused,
 * res->result and res->reason then set ("revoked", or
 * "store_unavailable" while the store cannot say and
 * JWTAuthSessionStoreFailure is closed) and the reason logged; 0 when
 * it passes (always without a store).  kept: the token's store keys as
 * the process's cache kept them (jwt_cache_extra), or NULL: made from
 * the claims. */
int jwtauth_session_refused(request_rec *r, jwtauth_result *res,
                            const unsigned char *kept);

/* child_init: the process's cache keeps each token's store keys (when
 * there is a store) */
void jwtauth_session_cache_keys(jwt_pcache_t *pc);

/* 503 with Retry-After and the JSON body (an ErrorDocument 503 wins;
 * a subrequest gets the status only). */
int jwtauth_session_unavailable(request_rec *r);

/* JWTAuthLoginThrottle at jwtauth-login: before the password check
 * (OK, or the status that refused the attempt: 429, 503), and after a
 * failed one (counted for the user name and the client address). */
int jwtauth_throttle_check(request_rec *r, const jwtauth_dir_conf *conf,
                           const char *user);
void jwtauth_throttle_failed(request_rec *r, const jwtauth_dir_conf *conf,
                             const char *user);

int jwtauth_logout_handler(request_rec *r);
int jwtauth_refresh_handler(request_rec *r);

/* ---- metrics.c ---- */

/* post_config (the parent: the counters' shared memory of this
 * generation) and child_init (the process's own slot in it) */
int jwtauth_metrics_post_config(apr_pool_t *pconf, server_rec *s);
void jwtauth_metrics_child_init(apr_pool_t *p, server_rec *s);

/* One decided request: reason NULL when accepted, else its reason code
 * (jwtauth_result.reason).  Lock-free: an atomic increment. */
void jwtauth_metrics_request(const char *reason);

/* The cache tiers one token of len bytes went through: thread_tier and
 * shared_tier are whether each was on for it, hit as jwt_verify_cached
 * set it (JWT_CACHE_*). */
void jwtauth_metrics_cache(int thread_tier, int shared_tier, size_t len,
                           int hit);

/* One answer of jwtauth-login: a token (1) or a refusal (0). */
void jwtauth_metrics_login(int success);

/* One login attempt refused by JWTAuthLoginThrottle. */
void jwtauth_metrics_login_throttled(void);
/* One fetch of a remote key set: JWTAUTH_FETCH_* */
#define JWTAUTH_FETCH_OK        0
#define JWTAUTH_FETCH_UNCHANGED 1
#define JWTAUTH_FETCH_ERROR     2
void jwtauth_metrics_fetch(int result);


int jwtauth_metrics_handler(request_rec *r);

/* mod_status's status_hook */
int jwtauth_metrics_status(request_rec *r, int flags);

#endif /* JWTAUTH_GLUE_H */
