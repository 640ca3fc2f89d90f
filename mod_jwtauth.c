/*
 * mod_jwtauth.c: JWT bearer-token authentication for Apache httpd 2.4.
 *
 * The httpd glue of mod_jwtauth: directives, the access-checker hook that
 * validates tokens on protected scopes, the "jwt-claim" authz provider
 * and the "jwtauth-login" handler that issues tokens.  All JOSE work is
 * done by the core in jwt_core.c, which knows nothing of httpd.
 */
#include <string.h>
#include <strings.h>
#include <errno.h>

#include "apr_strings.h"
#include "apr_file_io.h"
#include "apr_lib.h"

#include "ap_config.h"
#include "ap_provider.h"
#include "ap_expr.h"
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_auth.h"
#include "ap_socache.h"
#include "util_mutex.h"
#include "apr_global_mutex.h"

#include <openssl/crypto.h>

#include "jwt_core.h"
#include "jwt_creds.h"

module AP_MODULE_DECLARE_DATA jwtauth_module;

#define UNSET -1

#define DEFAULT_HEADER       "x-access-token"
#define DEFAULT_USER_CLAIM   "sub"
#define DEFAULT_LIFETIME     1800
#define DEFAULT_LOGIN_REALM  "Login required!"
#define DEFAULT_BEARER_REALM "jwtauth"
#define MAX_KEY_FILE         65536
#define MAX_LEEWAY           86400
#define MAX_LIFETIME         (366 * 86400)
#define DEFAULT_CACHE_ENTRIES 256
#define MAX_CACHE_ENTRIES    65536

/* JWTAuthCacheEntries (main server): slots of each thread's cache */
static size_t cache_entries = DEFAULT_CACHE_ENTRIES;
/* bumped by every configuration load, so that a reload inside one
 * process (httpd -X) can never match an entry of the old configuration */
static apr_uint64_t cache_generation;

/* JWTAuthSharedCache: the socache tier shared by every process (shmcb)
 * or machine (memcache, redis), and what authenticates its entries */
#define SHARED_MUTEX "jwtauth-shared-cache"
static const ap_socache_provider_t *shared_provider;
static ap_socache_instance_t *shared_instance;
static const char *shared_spec;
static apr_global_mutex_t *shared_mutex;
static unsigned char shared_secret[64];
static apr_size_t shared_secret_len;
static const char *shared_secret_path;

#define MSG_MISSING "{\"message\": \"Token is missing!\"}"
#define MSG_INVALID "{\"message\": \"Token is invalid!\"}"

typedef enum {
    CLAIM_STRING,
    CLAIM_INT,
    CLAIM_BOOL
} claim_type_e;

/* one JWTAuthLoginClaim */
typedef struct {
    const char *name;
    ap_expr_info_t *expr;
    claim_type_e type;
} login_claim_t;

typedef struct {
    int enabled;                        /* JWTAuth, UNSET/0/1 */
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
    const char *issuer;                 /* JWTAuthIssuer */
    apr_array_header_t *audiences;      /* JWTAuthAudience */
    apr_int64_t leeway;                 /* JWTAuthLeeway, UNSET */
    const char *user_claim;             /* JWTAuthUserClaim */
    apr_array_header_t *providers;      /* JWTAuthProvider: authn_provider * */
    apr_array_header_t *provider_names; /* and their names */
    apr_int64_t lifetime;               /* JWTAuthTokenLifetime, UNSET */
    apr_array_header_t *login_claims;   /* JWTAuthLoginClaim */
    jwt_policy_t policy;                /* derived in merge */
} jwtauth_dir_conf;

/* The outcome of validation for one request, kept in its request_config
 * so that subrequests and internal redirects under the same policy reuse
 * it instead of validating again. */
typedef enum {
    RESULT_MISSING,
    RESULT_INVALID,
    RESULT_VALID
} result_e;

typedef struct {
    result_e result;
    const jwtauth_dir_conf *conf;       /* the scope it was decided for */
    jwt_t *jwt;                         /* when valid */
    const char *user;                   /* when valid */
} jwtauth_result;

/* ---------------------------------------------------------------- */
/* configuration records                                            */

/* the policy the core checks tokens against, from a (merged) record */
static void derive_policy(jwtauth_dir_conf *conf)
{
    int i;

    /* unset: every algorithm the scope's keys can run (each key is bound
     * to its own, so this never lets one key run another's); merges run
     * per request, so the keys are only walked when needed */
    conf->policy.algs = conf->algs;
    for (i = 0; !conf->algs && conf->keys && i < conf->keys->nelts; i++) {
        conf->policy.algs |= jwt_key_algs(APR_ARRAY_IDX(conf->keys, i,
                                                        jwt_key_t *));
    }
    conf->policy.keys = conf->keys;
    conf->policy.typ = conf->typ;
    conf->policy.issuer = conf->issuer;
    conf->policy.audiences = conf->audiences;
    conf->policy.leeway = conf->leeway == UNSET ? 0 : conf->leeway;
}

static void *create_jwtauth_dir_config(apr_pool_t *p, char *dir)
{
    jwtauth_dir_conf *conf = apr_pcalloc(p, sizeof(*conf));

    conf->enabled = UNSET;
    conf->cache = UNSET;
    conf->leeway = UNSET;
    conf->lifetime = UNSET;
    conf->sign_alg = JWT_ALG_UNKNOWN;
    derive_policy(conf);
    return conf;
}

#define MERGE_PTR(f) conf->f = add->f ? add->f : base->f

static void *merge_jwtauth_dir_config(apr_pool_t *p, void *basev, void *addv)
{
    jwtauth_dir_conf *base = basev, *add = addv;
    jwtauth_dir_conf *conf = apr_palloc(p, sizeof(*conf));

    conf->enabled = add->enabled != UNSET ? add->enabled : base->enabled;
    MERGE_PTR(header);
    MERGE_PTR(keys);
    conf->key_source = add->keys ? add->key_source : base->key_source;
    MERGE_PTR(signing_key);
    conf->signing_source = add->signing_key ? add->signing_source
                                            : base->signing_source;
    MERGE_PTR(typ);
    conf->cache = add->cache != UNSET ? add->cache : base->cache;
    if (add->algs) {
        conf->algs = add->algs;
        conf->sign_alg = add->sign_alg;
    }
    else {
        conf->algs = base->algs;
        conf->sign_alg = base->sign_alg;
    }
    MERGE_PTR(issuer);
    MERGE_PTR(audiences);
    conf->leeway = add->leeway != UNSET ? add->leeway : base->leeway;
    MERGE_PTR(user_claim);
    conf->providers = add->providers ? add->providers : base->providers;
    conf->provider_names = add->providers ? add->provider_names
                                          : base->provider_names;
    conf->lifetime = add->lifetime != UNSET ? add->lifetime : base->lifetime;
    MERGE_PTR(login_claims);
    derive_policy(conf);
    return conf;
}

static const char *conf_header(const jwtauth_dir_conf *conf)
{
    return conf->header ? conf->header : DEFAULT_HEADER;
}

static const char *conf_user_claim(const jwtauth_dir_conf *conf)
{
    return conf->user_claim ? conf->user_claim : DEFAULT_USER_CLAIM;
}

static apr_int64_t conf_lifetime(const jwtauth_dir_conf *conf)
{
    return conf->lifetime == UNSET ? DEFAULT_LIFETIME : conf->lifetime;
}

/* The key that signs at /login and its algorithm: JWTAuthSigningKeyFile,
 * else the first private (HMAC) key of the scope that can run the first
 * JWTAuthAlgorithms entry; with JWTAuthAlgorithms unset, the key's own
 * first algorithm.  NULL when the scope has none. */
static const jwt_key_t *conf_signer(const jwtauth_dir_conf *conf,
                                    jwt_alg_e *alg)
{
    const jwt_key_t *key = conf->signing_key;
    int i;

    for (i = 0; !key && conf->keys && i < conf->keys->nelts; i++) {
        const jwt_key_t *k = APR_ARRAY_IDX(conf->keys, i, jwt_key_t *);

        if (jwt_key_is_private(k)
            && (conf->sign_alg == JWT_ALG_UNKNOWN
                || (jwt_key_algs(k) & JWT_ALG_BIT(conf->sign_alg)))) {
            key = k;
        }
    }
    if (!key) {
        return NULL;
    }
    *alg = conf->sign_alg != JWT_ALG_UNKNOWN ? conf->sign_alg
                                             : jwt_key_default_alg(key);
    return (jwt_key_algs(key) & JWT_ALG_BIT(*alg)) ? key : NULL;
}

/* ---------------------------------------------------------------- */
/* directive handlers                                               */

/* a whole number in [min, max], or an error naming the directive */
static const char *parse_whole(cmd_parms *cmd, const char *arg,
                                 apr_int64_t min, apr_int64_t max,
                                 apr_int64_t *out)
{
    char *end;
    apr_int64_t v;

    errno = 0;
    v = apr_strtoi64(arg, &end, 10);
    if (errno || end == arg || *end || v < min || v > max) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a whole number "
                            "from %" APR_INT64_T_FMT " to %" APR_INT64_T_FMT,
                            cmd->cmd->name, arg, min, max);
    }
    *out = v;
    return NULL;
}

static const char *set_leeway(cmd_parms *cmd, void *dconf, const char *arg)
{
    return parse_whole(cmd, arg, 0, MAX_LEEWAY,
                         &((jwtauth_dir_conf *)dconf)->leeway);
}

static const char *set_cache_entries(cmd_parms *cmd, void *dconf,
                                     const char *arg)
{
    apr_int64_t n;
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    if (err) {
        return err;
    }
    if (!(err = parse_whole(cmd, arg, 0, MAX_CACHE_ENTRIES, &n))) {
        cache_entries = (size_t)n;
    }
    return err;
}

static const char *set_lifetime(cmd_parms *cmd, void *dconf, const char *arg)
{
    return parse_whole(cmd, arg, 1, MAX_LIFETIME,
                         &((jwtauth_dir_conf *)dconf)->lifetime);
}

/* An HTTP field name is a token (RFC 9110 §5.1). */
static const char *set_header(cmd_parms *cmd, void *dconf, const char *arg)
{
    const char *s;

    for (s = arg; *s; s++) {
        if (!apr_isalnum(*s) && !strchr("!#$%&'*+-.^_`|~", *s)) {
            break;
        }
    }
    if (!*arg || *s) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a header name",
                            cmd->cmd->name, arg);
    }
    ((jwtauth_dir_conf *)dconf)->header = arg;
    return NULL;
}

/* Read a key file whole (at most MAX_KEY_FILE bytes) into *buf, from the
 * temp pool and NUL-terminated.  *world_readable tells whether every user
 * of the machine may read it.  An error names the directive, the path and
 * the OS error. */
static const char *read_key_file(cmd_parms *cmd, const char *arg,
                                 const char **path, unsigned char **buf,
                                 apr_size_t *len, int *world_readable)
{
    apr_file_t *f = NULL;
    apr_finfo_t finfo;
    apr_status_t rv;
    char ebuf[256];
    const char *msg = NULL;

    *path = ap_server_root_relative(cmd->pool, arg);
    if (!*path) {
        return apr_psprintf(cmd->pool, "%s: invalid path '%s'",
                            cmd->cmd->name, arg);
    }
    rv = apr_file_open(&f, *path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                       APR_OS_DEFAULT, cmd->temp_pool);
    if (rv == APR_SUCCESS) {
        rv = apr_file_info_get(&finfo, APR_FINFO_SIZE | APR_FINFO_PROT, f);
    }
    if (rv == APR_SUCCESS && finfo.size > MAX_KEY_FILE) {
        msg = apr_psprintf(cmd->pool, "%s: %s is larger than %d bytes",
                           cmd->cmd->name, *path, MAX_KEY_FILE);
        goto cleanup;
    }
    if (rv == APR_SUCCESS) {
        *buf = apr_palloc(cmd->temp_pool, (apr_size_t)finfo.size + 1);
        rv = apr_file_read_full(f, *buf, (apr_size_t)finfo.size, len);
        if (rv == APR_EOF) {
            rv = APR_SUCCESS;
        }
    }
    if (rv != APR_SUCCESS) {
        msg = apr_psprintf(cmd->pool, "%s: cannot read %s: %s",
                           cmd->cmd->name, *path,
                           apr_strerror(rv, ebuf, sizeof(ebuf)));
        goto cleanup;
    }
    (*buf)[*len] = '\0';
    *world_readable = (finfo.protection & APR_FPROT_WREAD) != 0;

cleanup:
    if (f) {
        apr_file_close(f);
    }
    return msg;
}

static void warn_readable(cmd_parms *cmd, const char *path)
{
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, cmd->server,
                 "%s: %s is readable by every user of this machine; make it "
                 "readable by root only (chmod 600)", cmd->cmd->name, path);
}

/* read_key_file for a file that holds a secret: warn when every user of
 * the machine can read it. */
static const char *read_secret_file(cmd_parms *cmd, const char *arg,
                                    const char **path, unsigned char **buf,
                                    apr_size_t *len)
{
    int open;
    const char *msg = read_key_file(cmd, arg, path, buf, len, &open);

    if (!msg && open) {
        warn_readable(cmd, *path);
    }
    return msg;
}

/* Append keys to the scope's verification keys. */
static void add_keys(cmd_parms *cmd, jwtauth_dir_conf *conf,
                     const apr_array_header_t *keys, const char *path)
{
    if (!conf->keys) {
        conf->keys = apr_array_make(cmd->pool, 2, sizeof(jwt_key_t *));
    }
    apr_array_cat(conf->keys, keys);
    conf->key_source = path;
}

static const char *set_secret_file(cmd_parms *cmd, void *dconf,
                                   const char *arg)
{
    apr_array_header_t *keys = apr_array_make(cmd->pool, 1,
                                              sizeof(jwt_key_t *));
    const char *path, *msg;
    unsigned char *buf;
    apr_size_t len = 0, size;
    jwt_key_t *key;
    jwt_error_t err;

    if ((msg = read_secret_file(cmd, arg, &path, &buf, &len))) {
        return msg;
    }
    size = len;
    /* one trailing newline is the editor's, not the key's */
    if (len > 0 && buf[len - 1] == '\n') {
        len--;
    }
    if (!jwt_key_hmac_create(&key, cmd->pool, buf, len, NULL, &err)) {
        msg = apr_psprintf(cmd->pool, "%s: %s: %s", cmd->cmd->name, path,
                           err.reason);
    }
    OPENSSL_cleanse(buf, size);
    if (msg) {
        return msg;
    }
    APR_ARRAY_PUSH(keys, jwt_key_t *) = key;
    add_keys(cmd, dconf, keys, path);
    return NULL;
}

/* Read a key file and load its keys (jwt_keys_load) into a new array;
 * an error names the directive and the path.  *world_readable as for
 * read_key_file.  The file's bytes are wiped once parsed. */
static const char *load_key_file(cmd_parms *cmd, const char *arg,
                                 const char *kid, int want_private,
                                 apr_array_header_t **keys, const char **path,
                                 int *world_readable)
{
    const char *msg;
    unsigned char *buf;
    apr_size_t len = 0;
    jwt_error_t err;

    if ((msg = read_key_file(cmd, arg, path, &buf, &len, world_readable))) {
        return msg;
    }
    *keys = apr_array_make(cmd->pool, 2, sizeof(jwt_key_t *));
    if (!jwt_keys_load(*keys, cmd->pool, (const char *)buf, len, kid,
                       want_private, &err)) {
        msg = apr_psprintf(cmd->pool, "%s: %s: %s", cmd->cmd->name, *path,
                           err.reason);
    }
    OPENSSL_cleanse(buf, len);
    return msg;
}

/* JWTAuthKeyFile path [kid]: PEM public key or certificate, JWK, JWKS */
static const char *set_key_file(cmd_parms *cmd, void *dconf, const char *arg,
                                const char *kid)
{
    apr_array_header_t *keys;
    const char *path, *msg;
    int open, i;

    if ((msg = load_key_file(cmd, arg, kid, 0, &keys, &path, &open))) {
        return msg;
    }
    /* a JWK Set may hold HMAC secrets */
    for (i = 0; open && i < keys->nelts; i++) {
        if (jwt_key_kty(APR_ARRAY_IDX(keys, i, jwt_key_t *)) == JWT_KTY_OCT) {
            warn_readable(cmd, path);
            break;
        }
    }
    add_keys(cmd, dconf, keys, path);
    return NULL;
}

/* JWTAuthSigningKeyFile path [kid]: the private key /login signs with */
static const char *set_signing_key_file(cmd_parms *cmd, void *dconf,
                                        const char *arg, const char *kid)
{
    jwtauth_dir_conf *conf = dconf;
    apr_array_header_t *keys;
    const char *path, *msg;
    int open = 0;

    /* the warning stands whether or not the key parses */
    msg = load_key_file(cmd, arg, kid, 1, &keys, &path, &open);
    if (open) {
        warn_readable(cmd, path);
    }
    if (msg) {
        return msg;
    }
    if (keys->nelts != 1) {
        return apr_psprintf(cmd->pool, "%s: %s holds %d keys; give the one "
                            "that signs", cmd->cmd->name, path, keys->nelts);
    }
    conf->signing_key = APR_ARRAY_IDX(keys, 0, jwt_key_t *);
    conf->signing_source = path;
    return NULL;
}

/* JWTAuthSharedCache provider[:args] */
static const char *set_shared_cache(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    const char *sep = ap_strchr_c(arg, ':');
    const char *name = sep ? apr_pstrmemdup(cmd->pool, arg, sep - arg) : arg;

    if (err) {
        return err;
    }
    shared_provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                                         AP_SOCACHE_PROVIDER_VERSION);
    if (!shared_provider) {
        return apr_psprintf(cmd->pool, "%s: unknown socache provider '%s' "
                            "(is mod_socache_%s loaded?)", cmd->cmd->name,
                            name, name);
    }
    err = shared_provider->create(&shared_instance, sep ? sep + 1 : NULL,
                                  cmd->temp_pool, cmd->pool);
    if (err) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, err);
    }
    shared_spec = arg;
    return NULL;
}

/* JWTAuthSharedCacheSecretFile path: the MAC key of shared entries */
static const char *set_shared_secret(cmd_parms *cmd, void *dconf,
                                     const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    const char *path;
    unsigned char *buf;
    apr_size_t len = 0;

    if (err || (err = read_secret_file(cmd, arg, &path, &buf, &len))) {
        return err;
    }
    if (len > 0 && buf[len - 1] == '\n') {
        len--;
    }
    if (len < 32 || len > sizeof(shared_secret)) {
        OPENSSL_cleanse(buf, len);
        return apr_psprintf(cmd->pool, "%s: %s holds %" APR_SIZE_T_FMT
                            " bytes; 32 to 64 are needed", cmd->cmd->name,
                            path, len);
    }
    memcpy(shared_secret, buf, len);
    shared_secret_len = len;
    shared_secret_path = path;
    OPENSSL_cleanse(buf, len);
    return NULL;
}

static const char *set_algorithms(cmd_parms *cmd, void *dconf, int argc,
                                  char *const argv[])
{
    jwtauth_dir_conf *conf = dconf;
    int i;

    if (argc < 1) {
        return apr_psprintf(cmd->pool, "%s needs at least one algorithm",
                            cmd->cmd->name);
    }
    conf->algs = 0;
    for (i = 0; i < argc; i++) {
        jwt_alg_e alg = jwt_alg_from_name(argv[i], strlen(argv[i]));

        if (!strcasecmp(argv[i], "none")) {
            return apr_psprintf(cmd->pool, "%s: 'none' is never accepted "
                                "(RFC 8725 section 3.1)", cmd->cmd->name);
        }
        if (alg == JWT_ALG_UNKNOWN) {
            return apr_psprintf(cmd->pool, "%s: unknown algorithm '%s' "
                                "(supported: HS256 HS384 HS512 RS256 RS384 "
                                "RS512 PS256 PS384 PS512 ES256 ES384 ES512 "
                                "ES256K EdDSA)", cmd->cmd->name, argv[i]);
        }
        if (i == 0) {
            conf->sign_alg = alg;
        }
        conf->algs |= JWT_ALG_BIT(alg);
    }
    return NULL;
}

static const char *set_audience(cmd_parms *cmd, void *dconf, int argc,
                                char *const argv[])
{
    jwtauth_dir_conf *conf = dconf;
    int i;

    if (argc < 1) {
        return apr_psprintf(cmd->pool, "%s needs at least one audience",
                            cmd->cmd->name);
    }
    conf->audiences = apr_array_make(cmd->pool, argc, sizeof(const char *));
    for (i = 0; i < argc; i++) {
        APR_ARRAY_PUSH(conf->audiences, const char *) = argv[i];
    }
    return NULL;
}

static const char *set_providers(cmd_parms *cmd, void *dconf, int argc,
                                 char *const argv[])
{
    jwtauth_dir_conf *conf = dconf;
    int i;

    if (argc < 1) {
        return apr_psprintf(cmd->pool, "%s needs at least one provider",
                            cmd->cmd->name);
    }
    conf->providers = apr_array_make(cmd->pool, argc,
                                     sizeof(const authn_provider *));
    conf->provider_names = apr_array_make(cmd->pool, argc,
                                          sizeof(const char *));
    for (i = 0; i < argc; i++) {
        const authn_provider *prov = ap_lookup_provider(
            AUTHN_PROVIDER_GROUP, argv[i], AUTHN_PROVIDER_VERSION);

        if (!prov) {
            return apr_psprintf(cmd->pool, "%s: unknown authn provider '%s' "
                                "(is mod_authn_%s loaded?)", cmd->cmd->name,
                                argv[i], argv[i]);
        }
        if (!prov->check_password) {
            return apr_psprintf(cmd->pool, "%s: provider '%s' cannot check "
                                "passwords", cmd->cmd->name, argv[i]);
        }
        APR_ARRAY_PUSH(conf->providers, const authn_provider *) = prov;
        APR_ARRAY_PUSH(conf->provider_names, const char *) = argv[i];
    }
    return NULL;
}

static const char *set_login_claim(cmd_parms *cmd, void *dconf,
                                   const char *name, const char *expr,
                                   const char *type)
{
    static const char *const reserved[] = {
        "sub", "iat", "exp", "nbf", "jti", "iss", "aud", NULL
    };
    jwtauth_dir_conf *conf = dconf;
    login_claim_t *lc;
    const char *err = NULL;
    int i;

    for (i = 0; reserved[i]; i++) {
        if (!strcmp(name, reserved[i])) {
            return apr_psprintf(cmd->pool, "%s: '%s' is set by the module "
                                "itself", cmd->cmd->name, name);
        }
    }
    if (!*name) {
        return apr_psprintf(cmd->pool, "%s: empty claim name",
                            cmd->cmd->name);
    }
    if (!conf->login_claims) {
        conf->login_claims = apr_array_make(cmd->pool, 4,
                                            sizeof(login_claim_t));
    }
    lc = apr_array_push(conf->login_claims);
    lc->name = name;
    if (!type || !strcasecmp(type, "string")) {
        lc->type = CLAIM_STRING;
    }
    else if (!strcasecmp(type, "int")) {
        lc->type = CLAIM_INT;
    }
    else if (!strcasecmp(type, "bool")) {
        lc->type = CLAIM_BOOL;
    }
    else {
        return apr_psprintf(cmd->pool, "%s: type '%s' is not string, int "
                            "or bool", cmd->cmd->name, type);
    }
    lc->expr = ap_expr_parse_cmd(cmd, expr, AP_EXPR_FLAG_STRING_RESULT,
                                 &err, NULL);
    if (err) {
        return apr_psprintf(cmd->pool, "%s: cannot parse '%s': %s",
                            cmd->cmd->name, expr, err);
    }
    return NULL;
}

static const command_rec jwtauth_cmds[] = {
    AP_INIT_FLAG("JWTAuth", ap_set_flag_slot,
                 (void *)APR_OFFSETOF(jwtauth_dir_conf, enabled), OR_AUTHCFG,
                 "On to require a valid JWT in this scope"),
    AP_INIT_TAKE1("JWTAuthHeader", set_header, NULL, RSRC_CONF | ACCESS_CONF,
                  "request header that carries the token"),
    AP_INIT_TAKE1("JWTAuthSecretFile", set_secret_file, NULL,
                  RSRC_CONF | ACCESS_CONF, "file holding the HMAC secret"),
    AP_INIT_TAKE12("JWTAuthKeyFile", set_key_file, NULL,
                   RSRC_CONF | ACCESS_CONF,
                   "PEM public key or certificate, JWK or JWK Set [kid]"),
    AP_INIT_TAKE12("JWTAuthSigningKeyFile", set_signing_key_file, NULL,
                   RSRC_CONF | ACCESS_CONF,
                   "private key (PEM or JWK) that signs at /login [kid]"),
    AP_INIT_TAKE1("JWTAuthType", ap_set_string_slot,
                  (void *)APR_OFFSETOF(jwtauth_dir_conf, typ),
                  RSRC_CONF | ACCESS_CONF, "required typ header value"),
    AP_INIT_TAKE_ARGV("JWTAuthAlgorithms", set_algorithms, NULL,
                      RSRC_CONF | ACCESS_CONF,
                      "accepted alg values; the first one signs"),
    AP_INIT_TAKE1("JWTAuthIssuer", ap_set_string_slot,
                  (void *)APR_OFFSETOF(jwtauth_dir_conf, issuer),
                  RSRC_CONF | ACCESS_CONF, "iss issued and required"),
    AP_INIT_TAKE_ARGV("JWTAuthAudience", set_audience, NULL,
                      RSRC_CONF | ACCESS_CONF, "aud issued and required"),
    AP_INIT_TAKE1("JWTAuthLeeway", set_leeway, NULL, RSRC_CONF | ACCESS_CONF,
                  "seconds of clock skew allowed for exp, nbf and iat"),
    AP_INIT_TAKE1("JWTAuthUserClaim", ap_set_string_slot,
                  (void *)APR_OFFSETOF(jwtauth_dir_conf, user_claim),
                  RSRC_CONF | ACCESS_CONF, "claim that names the user"),
    AP_INIT_TAKE_ARGV("JWTAuthProvider", set_providers, NULL, ACCESS_CONF,
                      "authn providers that check login credentials"),
    AP_INIT_FLAG("JWTAuthCache", ap_set_flag_slot,
                 (void *)APR_OFFSETOF(jwtauth_dir_conf, cache),
                 RSRC_CONF | ACCESS_CONF,
                 "Off to verify every presentation of a token afresh"),
    AP_INIT_TAKE1("JWTAuthCacheEntries", set_cache_entries, NULL, RSRC_CONF,
                  "validated-token cache slots per thread (0: none)"),
    AP_INIT_TAKE1("JWTAuthSharedCache", set_shared_cache, NULL, RSRC_CONF,
                  "socache provider[:args] shared by processes or machines"),
    AP_INIT_TAKE1("JWTAuthSharedCacheSecretFile", set_shared_secret, NULL,
                  RSRC_CONF, "MAC key of shared cache entries (32-64 bytes)"),
    AP_INIT_TAKE1("JWTAuthTokenLifetime", set_lifetime, NULL,
                  RSRC_CONF | ACCESS_CONF, "lifetime of issued tokens"),
    AP_INIT_TAKE23("JWTAuthLoginClaim", set_login_claim, NULL, ACCESS_CONF,
                   "claim name, ap_expr value and type string|int|bool"),
    { NULL }
};

/* ---------------------------------------------------------------- */
/* startup checks                                                   */

/* Cross-directive checks of one (merged) scope; NULL when sound. */
static const char *check_scope(apr_pool_t *p, const jwtauth_dir_conf *conf)
{
    unsigned have = 0;
    int hmac = 0;
    jwt_alg_e alg;
    int i;

    if (conf->enabled == 1 && (!conf->keys || conf->keys->nelts == 0)) {
        return "JWTAuth On but no key: add JWTAuthSecretFile or "
               "JWTAuthKeyFile";
    }
    if (conf->signing_key && !conf_signer(conf, &alg)) {
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
     * listed server-wide for scopes that have their keys */
    for (i = 1; hmac && i < JWT_ALG_COUNT; i++) {
        if ((conf->algs & JWT_ALG_BIT(i)) && !(have & JWT_ALG_BIT(i))
            && jwt_alg_kty((jwt_alg_e)i) == JWT_KTY_OCT) {
            return apr_psprintf(p, "JWTAuthAlgorithms %s: the HMAC key of "
                                "this scope is shorter than its hash (RFC "
                                "7518 section 3.2; last key file %s)",
                                jwt_alg_name((jwt_alg_e)i), conf->key_source);
        }
    }
    if (conf->enabled == 1 && !(conf->algs & have)) {
        return apr_psprintf(p, "JWTAuth On, but no algorithm of "
                            "JWTAuthAlgorithms can run with this scope's "
                            "keys (last key file %s)", conf->key_source);
    }
    return NULL;
}

static int check_sections(apr_pool_t *p, server_rec *s,
                          const jwtauth_dir_conf *base,
                          apr_array_header_t *sections)
{
    ap_conf_vector_t **sec = (ap_conf_vector_t **)sections->elts;
    int i;

    for (i = 0; i < sections->nelts; i++) {
        core_dir_config *core = ap_get_core_module_config(sec[i]);
        jwtauth_dir_conf *add = ap_get_module_config(sec[i], &jwtauth_module);
        const char *err;

        if (!add) {
            continue;
        }
        err = check_scope(p, merge_jwtauth_dir_config(p, (void *)base, add));
        if (err) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s,
                         "mod_jwtauth: in the section for %s: %s",
                         core->d ? core->d : "?", err);
            return 0;
        }
    }
    return 1;
}

/* Walk every server and its <Location>/<Directory> sections, merged onto
 * the server defaults, so that apachectl -t already refuses a scope that
 * could never validate a token. */
static int jwtauth_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                                apr_pool_t *ptemp, server_rec *s)
{
    cache_generation++;
    for (; s; s = s->next) {
        core_server_config *sconf = ap_get_core_module_config(
                                        s->module_config);
        jwtauth_dir_conf *base = ap_get_module_config(s->lookup_defaults,
                                                      &jwtauth_module);
        const char *err;

        /* the directive handlers leave the derived policy to here; a
         * request that no section matches uses this record unmerged */
        derive_policy(base);
        err = check_scope(ptemp, base);

        if (err) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s,
                         "mod_jwtauth: %s", err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if (!check_sections(ptemp, s, base, sconf->sec_url)
            || !check_sections(ptemp, s, base, sconf->sec_dir)) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}

/* ---------------------------------------------------------------- */
/* validation                                                       */

/* Would a result decided under 'a' hold under 'b'? */
static int same_policy(const jwtauth_dir_conf *a, const jwtauth_dir_conf *b)
{
    return a == b
        || (a->keys == b->keys && a->policy.algs == b->policy.algs
            && a->issuer == b->issuer && a->audiences == b->audiences
            && a->policy.leeway == b->policy.leeway && a->typ == b->typ
            && conf_header(a) == conf_header(b)
            && conf_user_claim(a) == conf_user_claim(b));
}

/* The result already reached for this request, its parent or the request
 * it was redirected from, under the same policy. */
static jwtauth_result *find_result(request_rec *r,
                                   const jwtauth_dir_conf *conf)
{
    request_rec *rr;

    for (rr = r; rr; rr = rr->main ? rr->main : rr->prev) {
        jwtauth_result *res = ap_get_module_config(rr->request_config,
                                                   &jwtauth_module);
        if (res && same_policy(res->conf, conf)) {
            return res;
        }
    }
    return NULL;
}

/* The token the client sent, or NULL when it sent none. */
static const char *find_token(request_rec *r, const jwtauth_dir_conf *conf)
{
    const char *v = apr_table_get(r->headers_in, conf_header(conf));

    if (!v || !*v) {
        v = apr_table_get(r->headers_in, "Authorization");
        if (!v || strncasecmp(v, "Bearer", 6) != 0
            || (v[6] != ' ' && v[6] != '\0')) {
            return NULL;
        }
        v += 6;
    }
    while (*v == ' ' || *v == '\t') {
        v++;
    }
    return *v ? v : NULL;
}

/* r->user from the configured claim: a non-empty string or an integer. */
static const char *user_from_claims(request_rec *r,
                                    const jwt_claims_t *claims,
                                    const char *name)
{
    const jwt_member_t *v = jwt_claims_get(claims, name);

    if (!v || (v->type == JWT_JSON_STRING ? v->value_len == 0
                                          : v->type != JWT_JSON_INTEGER)) {
        return NULL;
    }
    return jwt_member_text(r->pool, claims, v);
}

/* The shared tier's callbacks for this request, or NULL without one. */
static const jwt_shared_cache_t *shared_tier(request_rec *r,
                                             jwt_shared_cache_t *sh);

static jwtauth_result *validate(request_rec *r, const jwtauth_dir_conf *conf)
{
    jwtauth_result *res = apr_pcalloc(r->pool, sizeof(*res));
    const char *token = find_token(r, conf);
    jwt_shared_cache_t shared;
    jwt_error_t err;
    int hit = 0;

    res->conf = conf;
    if (!token) {
        res->result = RESULT_MISSING;
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "JWTAuth: no token in %s or Authorization",
                      conf_header(conf));
    }
    else if (!jwt_verify_cached(&res->jwt, r->pool, token, strlen(token),
                                &conf->policy, apr_time_sec(apr_time_now()),
                                conf->cache == 0 ? 0 : cache_entries,
                                cache_generation,
                                conf->cache == 0 ? NULL : shared_tier(r,
                                                                      &shared),
                                &hit, &err)) {
        res->result = RESULT_INVALID;
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "JWTAuth: token refused: %s", err.reason);
    }
    else if (!(res->user = user_from_claims(r, &res->jwt->claims,
                                            conf_user_claim(conf)))) {
        res->result = RESULT_INVALID;
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "JWTAuth: token refused: claim '%s' (JWTAuthUserClaim) "
                      "is missing or not a string or integer",
                      conf_user_claim(conf));
    }
    else {
        res->result = RESULT_VALID;
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "JWTAuth: token accepted (alg %s, user %s%s)",
                      jwt_alg_name(res->jwt->alg), res->user,
                      hit == JWT_CACHE_THREAD ? ", cached"
                      : hit == JWT_CACHE_SHARED ? ", shared cache" : "");
    }
    ap_set_module_config(r->request_config, &jwtauth_module, res);
    return res;
}

/* Export every top-level claim as JWT_CLAIM_<name>. */
static void export_claims(request_rec *r, const jwt_claims_t *claims)
{
    int i;

    for (i = 0; i < claims->n; i++) {
        const jwt_member_t *m = &claims->m[i];
        const char *text = jwt_member_text(r->pool, claims, m);
        char *name;

        if (text) {
            name = apr_palloc(r->pool, sizeof("JWT_CLAIM_") + m->name_len);
            memcpy(name, "JWT_CLAIM_", sizeof("JWT_CLAIM_") - 1);
            memcpy(name + sizeof("JWT_CLAIM_") - 1, claims->base + m->name,
                   m->name_len);
            name[sizeof("JWT_CLAIM_") - 1 + m->name_len] = '\0';
            apr_table_setn(r->subprocess_env, name, text);
        }
    }
}

/* Answer 401 with the seed's JSON body.  Subrequests only get the
 * status: their output would land in the main response. */
static int deny(request_rec *r, int invalid)
{
    const char *realm = ap_auth_name(r) ? ap_auth_name(r)
                                        : DEFAULT_BEARER_REALM;

    apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                   apr_psprintf(r->pool, "Bearer realm=\"%s\"%s",
                                ap_escape_quotes(r->pool, realm),
                                invalid ? ", error=\"invalid_token\"" : ""));
    if (r->main) {
        return HTTP_UNAUTHORIZED;
    }
    ap_discard_request_body(r);
    r->status = HTTP_UNAUTHORIZED;
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    ap_set_content_type(r, "application/json");
    ap_rputs(invalid ? MSG_INVALID : MSG_MISSING, r);
    return DONE;
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

/* A valid token: its user and claims for the rest of the request. */
static void apply_result(request_rec *r, const jwtauth_result *res)
{
    r->user = (char *)res->user;
    r->ap_auth_type = "Bearer";
    export_claims(r, &res->jwt->claims);
}

/* The token check of both access hooks.  A valid token sets r->user and
 * the claims and leaves the Require rules to mod_authz_core.
 *
 * access_checker_ex (any_phase 0): a missing or invalid token ends the
 * request here with the seed's 401.
 *
 * access_checker (any_phase 1), for legacy "Satisfy Any" only: there a
 * host rule that passes (mod_access_compat passes every host when it has
 * no rules) would skip check_access_ex and with it the token.  A missing
 * or invalid token fails this phase too, so the request reaches the
 * check_access_ex hook, which answers; a valid one is applied here, as
 * authz may not run. */
static int token_phase(request_rec *r, int any_phase)
{
    const jwtauth_dir_conf *conf = ap_get_module_config(r->per_dir_config,
                                                        &jwtauth_module);
    jwtauth_result *res;

    if (conf->enabled != 1
        || (any_phase && ap_satisfies(r) != SATISFY_ANY)) {
        return DECLINED;
    }
    res = request_result(r, conf);
    if (res->result != RESULT_VALID) {
        return any_phase ? HTTP_UNAUTHORIZED
                         : deny(r, res->result == RESULT_INVALID);
    }
    apply_result(r, res);
    return DECLINED;
}

static int jwtauth_check_access(request_rec *r)
{
    return token_phase(r, 0);
}

static int jwtauth_check_access_any(request_rec *r)
{
    return token_phase(r, 1);
}

/* check_user_id: mod_authz_core asks for a user only when a Require rule
 * needs one; the token already named it. */
static int jwtauth_check_user(request_rec *r)
{
    const jwtauth_dir_conf *conf = ap_get_module_config(r->per_dir_config,
                                                        &jwtauth_module);
    jwtauth_result *res;

    if (conf->enabled != 1) {
        return DECLINED;
    }
    res = ap_get_module_config(r->request_config, &jwtauth_module);
    if (!res || res->result != RESULT_VALID) {
        return HTTP_UNAUTHORIZED;
    }
    r->user = (char *)res->user;
    r->ap_auth_type = "Bearer";
    return OK;
}

/* ---------------------------------------------------------------- */
/* Require jwt-claim name value...                                  */

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

/* A scalar claim value as the text a Require line would spell it. */
static const char *scalar_text(apr_pool_t *p, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return json_string_value(v);
    case JSON_INTEGER:
        return apr_psprintf(p, "%" APR_INT64_T_FMT,
                            (apr_int64_t)json_integer_value(v));
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    case JSON_NULL:
        return "null";
    default:
        return NULL;            /* reals and objects never match */
    }
}

static int claim_value_matches(apr_pool_t *p, const json_t *v,
                               const apr_array_header_t *values)
{
    const char *text = scalar_text(p, v);
    int i;

    if (!text || (json_is_string(v)
                  && strlen(text) != json_string_length(v))) {
        return 0;
    }
    for (i = 0; i < values->nelts; i++) {
        if (!strcmp(text, APR_ARRAY_IDX(values, i, const char *))) {
            return 1;
        }
    }
    return 0;
}

static authz_status claim_check_authorization(request_rec *r,
                                              const char *line,
                                              const void *parsed)
{
    const claim_require_t *req = parsed;
    jwtauth_result *res = ap_get_module_config(r->request_config,
                                               &jwtauth_module);
    const jwt_member_t *m;
    json_t *v, *e;
    size_t i;

    if (!res || res->result != RESULT_VALID) {
        return r->user ? AUTHZ_DENIED : AUTHZ_DENIED_NO_USER;
    }
    m = jwt_claims_get(&res->jwt->claims, req->name);
    if (!m || !(v = jwt_member_json(r->pool, &res->jwt->claims, m))) {
        return AUTHZ_DENIED;
    }
    if (json_is_array(v)) {
        json_array_foreach(v, i, e) {
            if (claim_value_matches(r->pool, e, req->values)) {
                return AUTHZ_GRANTED;
            }
        }
        return AUTHZ_DENIED;
    }
    return claim_value_matches(r->pool, v, req->values) ? AUTHZ_GRANTED
                                                        : AUTHZ_DENIED;
}

static const authz_provider authz_jwt_claim_provider = {
    &claim_check_authorization,
    &claim_parse_config,
};

/* ---------------------------------------------------------------- */
/* the login handler                                                */

/* 401 with the seed's Basic challenge and body. */
static int login_refused(request_rec *r)
{
    const char *realm = ap_auth_name(r) ? ap_auth_name(r)
                                        : DEFAULT_LOGIN_REALM;

    apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                   apr_psprintf(r->pool, "Basic realm=\"%s\"",
                                ap_escape_quotes(r->pool, realm)));
    r->status = HTTP_UNAUTHORIZED;
    ap_set_content_type(r, "text/plain; charset=utf-8");
    ap_rputs("Could not verify", r);
    return OK;
}

/* Read at most JWT_CREDS_MAX_BODY bytes of request body.  Returns OK,
 * HTTP_REQUEST_ENTITY_TOO_LARGE, or an error status. */
static int read_body(request_rec *r, const char **body, apr_size_t *len)
{
    char *buf = apr_palloc(r->pool, JWT_CREDS_MAX_BODY + 1);
    apr_size_t got = 0;
    long n;
    int rc;

    if ((rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK) {
        return rc;
    }
    if (ap_should_client_block(r)) {
        while ((n = ap_get_client_block(r, buf + got,
                                        JWT_CREDS_MAX_BODY + 1 - got)) > 0) {
            got += (apr_size_t)n;
            if (got > JWT_CREDS_MAX_BODY) {
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
        }
        if (n < 0) {
            return HTTP_BAD_REQUEST;
        }
    }
    buf[got] = '\0';
    *body = buf;
    *len = got;
    return OK;
}

/* Does the Content-Type's media type equal want (parameters ignored)? */
static int media_type_is(const char *ctype, const char *want)
{
    size_t n = strlen(want);

    return ctype && !strncasecmp(ctype, want, n)
        && (ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ');
}

/* Credentials from Basic, a form or a JSON body.  OK with *user set to
 * NULL when the client sent none we can read; another status for a body
 * we refuse outright. */
static int read_credentials(request_rec *r, const char **user,
                            const char **password)
{
    const char *authz = apr_table_get(r->headers_in, "Authorization");
    const char *ctype = apr_table_get(r->headers_in, "Content-Type");
    const char *body;
    apr_size_t len;
    int rc;

    *user = NULL;
    if (authz) {
        if (!jwt_creds_basic(user, password, r->pool, authz)) {
            *user = NULL;
        }
        return ap_discard_request_body(r);
    }
    if (r->method_number != M_POST) {
        return ap_discard_request_body(r);
    }
    if (!media_type_is(ctype, "application/x-www-form-urlencoded")
        && !media_type_is(ctype, "application/json")) {
        return HTTP_UNSUPPORTED_MEDIA_TYPE;
    }
    if ((rc = read_body(r, &body, &len)) != OK) {
        return rc;
    }
    if (media_type_is(ctype, "application/json")
        ? !jwt_creds_json(user, password, r->pool, body, len)
        : !jwt_creds_form(user, password, r->pool, body, len)) {
        *user = NULL;
    }
    return OK;
}

/* Run the providers in order; the first that knows the user decides. */
static authn_status check_password(request_rec *r,
                                   const jwtauth_dir_conf *conf,
                                   const char *user, const char *password)
{
    authn_status st = AUTH_USER_NOT_FOUND;
    int i;

    r->user = (char *)user;
    if (!conf->providers) {
        const authn_provider *prov = ap_lookup_provider(
            AUTHN_PROVIDER_GROUP, AUTHN_DEFAULT_PROVIDER,
            AUTHN_PROVIDER_VERSION);
        if (!prov || !prov->check_password) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "JWTAuth login: no "
                          "authn provider '" AUTHN_DEFAULT_PROVIDER
                          "' (load mod_authn_file or set JWTAuthProvider)");
            return AUTH_GENERAL_ERROR;
        }
        apr_table_setn(r->notes, AUTHN_PROVIDER_NAME_NOTE,
                       AUTHN_DEFAULT_PROVIDER);
        return prov->check_password(r, user, password);
    }
    for (i = 0; i < conf->providers->nelts; i++) {
        const authn_provider *prov = APR_ARRAY_IDX(conf->providers, i,
                                                   const authn_provider *);
        apr_table_setn(r->notes, AUTHN_PROVIDER_NAME_NOTE,
                       APR_ARRAY_IDX(conf->provider_names, i, const char *));
        st = prov->check_password(r, user, password);
        if (st != AUTH_USER_NOT_FOUND) {
            break;
        }
    }
    apr_table_unset(r->notes, AUTHN_PROVIDER_NAME_NOTE);
    return st;
}

/* A JWTAuthLoginClaim value converted to its type; NULL and a log line
 * when it does not convert. */
static json_t *login_claim_value(request_rec *r, const login_claim_t *lc)
{
    const char *err = NULL, *s;
    apr_int64_t n;
    char *end;

    s = ap_expr_str_exec(r, lc->expr, &err);
    if (err || !s) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "JWTAuthLoginClaim %s: "
                      "cannot evaluate: %s", lc->name, err ? err : "no value");
        return NULL;
    }
    switch (lc->type) {
    case CLAIM_INT:
        errno = 0;
        n = apr_strtoi64(s, &end, 10);
        if (errno || end == s || *end || apr_isspace(*s) || *s == '+') {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "JWTAuthLoginClaim "
                          "%s: value is not a whole number", lc->name);
            return NULL;
        }
        return json_integer((json_int_t)n);
    case CLAIM_BOOL:
        if (!strcasecmp(s, "1") || !strcasecmp(s, "true")
            || !strcasecmp(s, "on") || !strcasecmp(s, "yes")) {
            return json_true();
        }
        if (!*s || !strcasecmp(s, "0") || !strcasecmp(s, "false")
            || !strcasecmp(s, "off") || !strcasecmp(s, "no")) {
            return json_false();
        }
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "JWTAuthLoginClaim %s: "
                      "value is not a boolean", lc->name);
        return NULL;
    default:
        return json_string(s);
    }
}

/* The claims of a token for user, or NULL (logged) on failure. */
static json_t *login_claims(request_rec *r, const jwtauth_dir_conf *conf,
                            const char *user, apr_int64_t now)
{
    json_t *claims = jwt_json_pool(r->pool, json_object());
    unsigned char rnd[16];
    int i;

    if (!claims || apr_generate_random_bytes(rnd, sizeof(rnd))) {
        return NULL;
    }
    if (json_object_set_new(claims, "sub", json_string(user))
        || json_object_set_new(claims, "iat", json_integer(now))
        || json_object_set_new(claims, "exp",
                               json_integer(now + conf_lifetime(conf)))
        || json_object_set_new(claims, "jti", json_string(
               jwt_b64url_encode(r->pool, rnd, sizeof(rnd))))) {
        return NULL;
    }
    if (conf->issuer && json_object_set_new(claims, "iss",
                                            json_string(conf->issuer))) {
        return NULL;
    }
    if (conf->audiences) {
        json_t *aud;

        if (conf->audiences->nelts == 1) {
            aud = json_string(APR_ARRAY_IDX(conf->audiences, 0,
                                            const char *));
        }
        else {
            aud = json_array();
            for (i = 0; aud && i < conf->audiences->nelts; i++) {
                json_array_append_new(aud, json_string(APR_ARRAY_IDX(
                    conf->audiences, i, const char *)));
            }
        }
        if (json_object_set_new(claims, "aud", aud)) {
            return NULL;
        }
    }
    for (i = 0; conf->login_claims && i < conf->login_claims->nelts; i++) {
        const login_claim_t *lc = &APR_ARRAY_IDX(conf->login_claims, i,
                                                 login_claim_t);
        json_t *v = login_claim_value(r, lc);

        if (!v || json_object_set_new(claims, lc->name, v)) {
            return NULL;
        }
    }
    return claims;
}

static int jwtauth_login_handler(request_rec *r)
{
    const jwtauth_dir_conf *conf;
    const jwt_key_t *key;
    jwt_alg_e alg = JWT_ALG_UNKNOWN;
    const char *user, *password, *token;
    apr_int64_t now = apr_time_sec(apr_time_now());
    json_t *claims;
    jwt_error_t err;
    int rc;

    if (!r->handler || strcmp(r->handler, "jwtauth-login")) {
        return DECLINED;
    }
    ap_allow_methods(r, REPLACE_ALLOW, "GET", "POST", NULL);
    if (r->method_number != M_GET && r->method_number != M_POST) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    conf = ap_get_module_config(r->per_dir_config, &jwtauth_module);
    if (!(key = conf_signer(conf, &alg))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "JWTAuth login: no key "
                      "can sign here: set JWTAuthSecretFile or "
                      "JWTAuthSigningKeyFile");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if ((rc = read_credentials(r, &user, &password)) != OK) {
        return rc;
    }
    if (!user) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "JWTAuth login: no readable credentials");
        return login_refused(r);
    }
    switch (check_password(r, conf, user, password)) {
    case AUTH_GRANTED:
        break;
    case AUTH_GENERAL_ERROR:
        return HTTP_INTERNAL_SERVER_ERROR;
    default:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "JWTAuth login: user %s: not verified", user);
        r->user = NULL;
        return login_refused(r);
    }
    if (!(claims = login_claims(r, conf, user, now))) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!jwt_sign(&token, r->pool, key, alg, claims, &err)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "JWTAuth login: cannot "
                      "sign: %s", err.reason);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "Pragma", "no-cache");
    ap_set_content_type(r, "application/json");
    ap_rprintf(r, "{\"token\": \"%s\", \"token_type\": \"Bearer\", "
               "\"expires_in\": %" APR_INT64_T_FMT "}", token,
               conf_lifetime(conf));
    return OK;
}

/* ---------------------------------------------------------------- */
/* the shared cache tier                                            */

static int shared_lookup(void *ctx, const unsigned char *key,
                         unsigned char *val, unsigned int *vlen)
{
    request_rec *r = ctx;
    apr_status_t rv;

    if (shared_mutex && apr_global_mutex_lock(shared_mutex) != APR_SUCCESS) {
        return 0;
    }
    rv = shared_provider->retrieve(shared_instance, r->server, key, 32, val,
                                   vlen, r->pool);
    if (shared_mutex) {
        apr_global_mutex_unlock(shared_mutex);
    }
    return rv == APR_SUCCESS;
}

static void shared_store(void *ctx, const unsigned char *key,
                         apr_int64_t expiry, const unsigned char *val,
                         unsigned int vlen)
{
    request_rec *r = ctx;

    if (shared_mutex && apr_global_mutex_lock(shared_mutex) != APR_SUCCESS) {
        return;
    }
    shared_provider->store(shared_instance, r->server, key, 32,
                           apr_time_from_sec(expiry), (unsigned char *)val,
                           vlen, r->pool);
    if (shared_mutex) {
        apr_global_mutex_unlock(shared_mutex);
    }
}

static const jwt_shared_cache_t *shared_tier(request_rec *r,
                                             jwt_shared_cache_t *sh)
{
    if (!shared_provider || !shared_instance || !shared_secret_len) {
        return NULL;
    }
    sh->lookup = shared_lookup;
    sh->store = shared_store;
    sh->ctx = r;
    sh->secret = shared_secret;
    sh->secret_len = shared_secret_len;
    return sh;
}

static int jwtauth_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp)
{
    shared_provider = NULL;
    shared_instance = NULL;
    shared_spec = NULL;
    shared_mutex = NULL;
    shared_secret_len = 0;
    shared_secret_path = NULL;
    return ap_mutex_register(pconf, SHARED_MUTEX, NULL, APR_LOCK_DEFAULT, 0);
}

static apr_status_t shared_destroy(void *data)
{
    if (shared_provider && shared_instance) {
        shared_provider->destroy(shared_instance, (server_rec *)data);
    }
    shared_instance = NULL;
    return APR_SUCCESS;
}

/* Open the shared tier in the parent: its mutex when the provider needs
 * one, and a fresh random secret unless a file gave one. */
static int jwtauth_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                               apr_pool_t *ptemp, server_rec *s)
{
    static const struct ap_socache_hints hints = { 32, 600,
                                                   apr_time_from_sec(60) };
    apr_status_t rv;

    if (!shared_provider || !shared_instance) {
        return OK;
    }
    if (!shared_secret_len) {
        if ((rv = apr_generate_random_bytes(shared_secret, 32))) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, "JWTAuthSharedCache: "
                         "no random secret");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        shared_secret_len = 32;
    }
    if (shared_provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE) {
        rv = ap_global_mutex_create(&shared_mutex, NULL, SHARED_MUTEX, NULL,
                                    s, pconf, 0);
        if (rv != APR_SUCCESS) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    rv = shared_provider->init(shared_instance, "jwtauth", &hints, s, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, "JWTAuthSharedCache %s: "
                     "cannot initialise the cache", shared_spec);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_cleanup_register(pconf, s, shared_destroy,
                              apr_pool_cleanup_null);
    return OK;
}

static void jwtauth_child_init(apr_pool_t *p, server_rec *s)
{
    if (shared_mutex) {
        apr_global_mutex_child_init(&shared_mutex,
                                    apr_global_mutex_lockfile(shared_mutex),
                                    p);
    }
}

/* ---------------------------------------------------------------- */
/* the published key set                                            */

/* SetHandler jwtauth-jwks: the public keys of the scope (the signing
 * key's public half first, then the verification keys) as a JWK Set.
 * HMAC keys are never published; each JWK was made at startup. */
static int jwtauth_jwks_handler(request_rec *r)
{
    const jwtauth_dir_conf *conf;
    apr_array_header_t *parts;
    const char *jwk, *first = NULL;
    int i;

    if (!r->handler || strcmp(r->handler, "jwtauth-jwks")) {
        return DECLINED;
    }
    ap_allow_methods(r, REPLACE_ALLOW, "GET", NULL);
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    conf = ap_get_module_config(r->per_dir_config, &jwtauth_module);
    parts = apr_array_make(r->pool, 4, sizeof(const char *));
    if (conf->signing_key && (first = jwt_key_public_jwk(conf->signing_key))) {
        APR_ARRAY_PUSH(parts, const char *) = first;
    }
    for (i = 0; conf->keys && i < conf->keys->nelts; i++) {
        jwk = jwt_key_public_jwk(APR_ARRAY_IDX(conf->keys, i, jwt_key_t *));
        if (jwk && (!first || strcmp(jwk, first))) {
            APR_ARRAY_PUSH(parts, const char *) = jwk;
        }
    }
    ap_set_content_type(r, "application/jwk-set+json");
    apr_table_setn(r->headers_out, "Cache-Control", "public, max-age=300");
    ap_rprintf(r, "{\"keys\":[%s]}", apr_array_pstrcat(r->pool, parts, ','));
    return OK;
}

/* ---------------------------------------------------------------- */
/* hooks                                                            */

static void register_hooks(apr_pool_t *p)
{
    ap_hook_pre_config(jwtauth_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(jwtauth_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(jwtauth_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(jwtauth_child_init, NULL, NULL, APR_HOOK_MIDDLE);
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
                              &authz_jwt_claim_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_handler(jwtauth_login_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(jwtauth_jwks_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(jwtauth) = {
    STANDARD20_MODULE_STUFF,
    create_jwtauth_dir_config,  /* per-directory config creator */
    merge_jwtauth_dir_config,   /* per-directory config merger */
    NULL,                       /* server config creator */
    NULL,                       /* server config merger */
    jwtauth_cmds,               /* command table */
    register_hooks              /* hook registration */
};
