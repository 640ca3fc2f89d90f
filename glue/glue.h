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
 *   socache.c  the shared cache tier on httpd's socache providers
 *   metrics.c  the counters, the jwtauth-metrics handler, mod_status
 *   headers.c  claims to request headers, the token kept from backends
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

/* ---- login.c, jwks.c ---- */

int jwtauth_login_handler(request_rec *r);
int jwtauth_jwks_handler(request_rec *r);

/* ---- resource.c ---- */

/* SetHandler jwtauth-resource-metadata: RFC 9728 Protected Resource
 * Metadata of the scope */
int jwtauth_resource_handler(request_rec *r);

/* The resource_metadata parameter (RFC 9728 section 5.1) that every
 * Bearer challenge of r's scope carries after its other parameters:
 * ", resource_metadata=\"<JWTAuthResourceMetadata>\"", or "" unset. */
const char *jwtauth_challenge_resource(request_rec *r);

/* ---- socache.c ---- */

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


int jwtauth_metrics_handler(request_rec *r);

/* mod_status's status_hook */
int jwtauth_metrics_status(request_rec *r, int flags);

#endif /* JWTAUTH_GLUE_H */
