/*
 * config.c: mod_jwtauth's configuration: the per-directory record, its
 * create and merge (and the policy derived from it), the directive
 * handlers and table.  The startup checks are startup.c's.
 */
#include <string.h>
#include <strings.h>
#include <errno.h>

#include "apr_strings.h"
#include "apr_file_io.h"
#include "apr_lib.h"
#include "apr_uri.h"

#include "ap_config.h"
#include "ap_provider.h"
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "mod_auth.h"

#include <openssl/crypto.h>

#include "glue.h"

#define DEFAULT_HEADER       "x-access-token"
#define DEFAULT_USER_CLAIM   "sub"
#define DEFAULT_LIFETIME     1800
#define DEFAULT_SESSION_LIFETIME 86400
#define MAX_KEY_FILE         65536
#define MAX_SKIP_LINES       16
#define MAX_LEEWAY           86400
#define MAX_LIFETIME         (366 * 86400)
#define DEFAULT_CACHE_ENTRIES 0
#define MAX_CACHE_ENTRIES    65536
#define MAX_KEYS_SECONDS     (366 * 86400)
#define MAX_KEYS_TIMEOUT     300
#define DEFAULT_CACHE_SIZE   ((apr_int64_t)32 << 20)
#define MAX_CACHE_SIZE       ((apr_int64_t)1 << 40)

/* JWTAuthCacheEntries (main server): slots of each thread's own cache,
 * in front of the process's (none by default: measured, a hit there saves
 * about 110 instructions over the process's cache, and with many users
 * it mostly misses and copies every process hit into a slot) */
static size_t cache_entries = DEFAULT_CACHE_ENTRIES;
/* JWTAuthCacheSize (main server): bytes of each process's cache */
static size_t cache_size = DEFAULT_CACHE_SIZE;
/* bumped by every configuration load, so that a reload inside one
 * process (httpd -X) can never match an entry of the old configuration */
static apr_uint64_t cache_generation;

size_t jwtauth_cache_entries(void)
{
    return cache_entries;
}

size_t jwtauth_cache_size(void)
{
    return cache_size;
}

apr_uint64_t jwtauth_cache_generation(void)
{
    return cache_generation;
}

void jwtauth_next_generation(void)
{
    cache_generation++;
}

/* ---------------------------------------------------------------- */
/* configuration records                                            */

/* the policy the core checks tokens against, from a (merged) record;
 * every member of jwt_policy_t is set here, from the record alone */
void jwtauth_derive_policy(jwtauth_dir_conf *conf)
{
    int i;

    /* all bytes set (padding too): a cache entry's copy compares with
     * one memcmp (jwt_policy_same) */
    memset(&conf->policy, 0, sizeof(conf->policy));
    /* unset: every algorithm the scope's keys can run (each key is bound
     * to its own, so this never lets one key run another's); merges run
     * per request, so the keys are only walked when needed */
    conf->policy.algs = conf->algs;
    for (i = 0; !conf->algs && conf->keys && i < conf->keys->nelts; i++) {
        conf->policy.algs |= jwt_key_algs(APR_ARRAY_IDX(conf->keys, i,
                                                        jwt_key_t *));
    }
    if (!conf->algs && conf->key_urls) {
        conf->policy.algs |= jwtauth_keys_remote_algs();
    }
    conf->policy.keys = conf->keys;
    conf->policy.sources = conf->key_urls;
    /* the kid index made with the keys (jws.c uses it only while it
     * covers exactly this array) */
    conf->policy.key_index = conf->key_index;
    conf->policy.typ = conf->typ;
    /* JWTAuthDiscovery's issuers are accepted beside JWTAuthIssuer's */
    conf->policy.issuers = conf->accepted_issuers ? conf->accepted_issuers
                           : conf->issuers ? conf->issuers
                           : conf->discovery_issuers;
    conf->policy.audiences = conf->audiences;
    conf->policy.leeway = conf->leeway == UNSET ? 0 : conf->leeway;
    conf->policy.user_claim = conf->user_claim ? conf->user_claim
                                               : DEFAULT_USER_CLAIM;
    conf->policy.token_header = jwtauth_conf_header(conf);
}

void *create_jwtauth_dir_config(apr_pool_t *p, char *dir)
{
    jwtauth_dir_conf *conf = apr_pcalloc(p, sizeof(*conf));

    conf->enabled = UNSET;
    conf->cors_preflight = UNSET;
    conf->cache = UNSET;
    conf->leeway = UNSET;
    conf->lifetime = UNSET;
    conf->sign_alg = JWT_ALG_UNKNOWN;
    conf->forward_token = UNSET;
    conf->session_lifetime = UNSET;
    conf->throttle_failures = UNSET;
    conf->throttle_seconds = UNSET;
    conf->throttle_addr_failures = UNSET;
    conf->keys_refresh = UNSET;
    conf->keys_max_stale = UNSET;
    conf->keys_timeout = UNSET;
    jwtauth_derive_policy(conf);
    return conf;
}

#define MERGE_PTR(f) conf->f = add->f ? add->f : base->f

void *merge_jwtauth_dir_config(apr_pool_t *p, void *basev, void *addv)
{
    jwtauth_dir_conf *base = basev, *add = addv;
    jwtauth_dir_conf *conf = apr_palloc(p, sizeof(*conf));

    conf->enabled = add->enabled != UNSET ? add->enabled : base->enabled;
    conf->cors_preflight = add->cors_preflight != UNSET ? add->cors_preflight
                                                        : base->cors_preflight;
    MERGE_PTR(header);
    MERGE_PTR(keys);
    conf->key_source = add->keys ? add->key_source : base->key_source;
    conf->key_index = add->keys ? add->key_index : base->key_index;
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
    MERGE_PTR(issuers);
    MERGE_PTR(audiences);
    conf->leeway = add->leeway != UNSET ? add->leeway : base->leeway;
    MERGE_PTR(user_claim);
    conf->providers = add->providers ? add->providers : base->providers;
    conf->provider_names = add->providers ? add->provider_names
                                          : base->provider_names;
    conf->lifetime = add->lifetime != UNSET ? add->lifetime : base->lifetime;
    MERGE_PTR(login_claims);
    /* RFC 9728: JWTAuthResource, JWTAuthScopes, JWTAuthResourceMetadata */
    MERGE_PTR(resource);
    MERGE_PTR(scopes);
    MERGE_PTR(resource_metadata);
    conf->claim_headers = jwtauth_merge_claim_headers(p, base->claim_headers,
                                                      add->claim_headers);
    conf->forward_token = add->forward_token != UNSET ? add->forward_token
                                                      : base->forward_token;
    /* JWTAuthCookie, JWTAuthCookieAttributes, JWTAuthTrustedOrigin */
    MERGE_PTR(cookie);
    MERGE_PTR(cookie_attrs);
    MERGE_PTR(trusted_origins);
    MERGE_PTR(login_page);
    /* JWTAuthSessionLifetime; JWTAuthLoginThrottle, its three numbers
     * together */
    conf->session_lifetime = add->session_lifetime != UNSET
                             ? add->session_lifetime : base->session_lifetime;
    if (add->throttle_failures != UNSET) {
        conf->throttle_failures = add->throttle_failures;
        conf->throttle_seconds = add->throttle_seconds;
        conf->throttle_addr_failures = add->throttle_addr_failures;
    }
    else {
        conf->throttle_failures = base->throttle_failures;
        conf->throttle_seconds = base->throttle_seconds;
        conf->throttle_addr_failures = base->throttle_addr_failures;
    }
    /* remote key sets: a section's JWTAuthKeysURL and JWTAuthDiscovery
     * lines replace the inherited ones (as its key files do) */
    MERGE_PTR(key_urls);
    conf->discovery_issuers = add->key_urls ? add->discovery_issuers
                                            : base->discovery_issuers;
    conf->accepted_issuers = jwtauth_keys_issuers(p, conf);
    conf->keys_refresh = add->keys_refresh != UNSET ? add->keys_refresh
                                                    : base->keys_refresh;
    conf->keys_max_stale = add->keys_max_stale != UNSET
                           ? add->keys_max_stale : base->keys_max_stale;
    conf->keys_timeout = add->keys_timeout != UNSET ? add->keys_timeout
                                                    : base->keys_timeout;
    MERGE_PTR(keys_ca);
    jwtauth_derive_policy(conf);
    return conf;
}

const char *jwtauth_conf_header(const jwtauth_dir_conf *conf)
{
    return conf->header ? conf->header : DEFAULT_HEADER;
}

apr_int64_t jwtauth_conf_lifetime(const jwtauth_dir_conf *conf)
{
    return conf->lifetime == UNSET ? DEFAULT_LIFETIME : conf->lifetime;
}

apr_int64_t jwtauth_conf_session_lifetime(const jwtauth_dir_conf *conf)
{
    return conf->session_lifetime == UNSET ? DEFAULT_SESSION_LIFETIME
                                           : conf->session_lifetime;
}

/* The key that signs at /login and its algorithm: JWTAuthSigningKeyFile,
 * else the first private (HMAC) key of the scope that can run the first
 * JWTAuthAlgorithms entry; with JWTAuthAlgorithms unset, the key's own
 * first algorithm.  NULL when the scope has none. */
const jwt_key_t *jwtauth_conf_signer(const jwtauth_dir_conf *conf,
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

/* JWTAuth On|Off|Optional */
static const char *set_enabled(cmd_parms *cmd, void *dconf, const char *arg)
{
    jwtauth_dir_conf *conf = dconf;

    if (!strcasecmp(arg, "On")) {
        conf->enabled = JWTAUTH_ON;
    }
    else if (!strcasecmp(arg, "Off")) {
        conf->enabled = JWTAUTH_OFF;
    }
    else if (!strcasecmp(arg, "Optional")) {
        conf->enabled = JWTAUTH_OPTIONAL;
    }
    else {
        return apr_psprintf(cmd->pool, "%s: '%s' is not On, Off or Optional",
                            cmd->cmd->name, arg);
    }
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
        if (n == 0) {
            /* it used to turn the cache off; the process's cache now
             * answers without the threads' slots */
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0,
                         cmd->server, "JWTAuthCacheEntries 0 no longer "
                         "turns the validated-token cache off: it leaves "
                         "the threads without slots of their own, and the "
                         "process's cache (JWTAuthCacheSize) still "
                         "answers; JWTAuthCacheSize 0 or JWTAuthCache Off "
                         "turns it off");
        }
    }
    return err;
}

/* JWTAuthKeysRefresh, JWTAuthKeysMaxStale, JWTAuthKeysTimeout: seconds
 * into the member at cmd->info */
static const char *set_keys_seconds(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    apr_size_t off = (apr_size_t)cmd->info;
    apr_int64_t max = off == APR_OFFSETOF(jwtauth_dir_conf, keys_timeout)
                      ? MAX_KEYS_TIMEOUT : MAX_KEYS_SECONDS;

    return parse_whole(cmd, arg, 1, max,
                       (apr_int64_t *)((char *)dconf + off));
}

/* JWTAuthKeysCAFile path: a file that exists now */
static const char *set_keys_ca(cmd_parms *cmd, void *dconf, const char *arg)
{
    const char *path = ap_server_root_relative(cmd->pool, arg);
    apr_finfo_t fi;

    if (!path || apr_stat(&fi, path, APR_FINFO_TYPE, cmd->temp_pool)
                 != APR_SUCCESS || fi.filetype != APR_REG) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a readable file",
                            cmd->cmd->name, arg);
    }
    ((jwtauth_dir_conf *)dconf)->keys_ca = path;
    return NULL;
}

/* JWTAuthCacheSize bytes[K|M|G]: 0, or from JWT_PCACHE_MIN_BYTES up */
static const char *set_cache_size(cmd_parms *cmd, void *dconf,
                                  const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    char *end;
    apr_int64_t v, unit = 1;

    if (err) {
        return err;
    }
    errno = 0;
    v = apr_strtoi64(arg, &end, 10);
    if (*end && !end[1]) {
        unit = *end == 'K' || *end == 'k' ? 1024
               : *end == 'M' || *end == 'm' ? 1024 * 1024
               : *end == 'G' || *end == 'g' ? 1024 * 1024 * 1024 : 0;
        end++;
    }
    if (errno || end == arg || *end || !unit || v < 0
        || v > MAX_CACHE_SIZE / unit
        || (v && v * unit < (apr_int64_t)JWT_PCACHE_MIN_BYTES)) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not 0 or a size from "
                            "%" APR_SIZE_T_FMT " bytes (64K) to 1024G "
                            "(a whole number, K, M or G after it)",
                            cmd->cmd->name, arg, JWT_PCACHE_MIN_BYTES);
    }
    cache_size = (size_t)(v * unit);
    return NULL;
}

static const char *set_lifetime(cmd_parms *cmd, void *dconf, const char *arg)
{
    return parse_whole(cmd, arg, 1, MAX_LIFETIME,
                         &((jwtauth_dir_conf *)dconf)->lifetime);
}

/* JWTAuthSessionLifetime seconds: as long as a token may live, or more */
static const char *set_session_lifetime(cmd_parms *cmd, void *dconf,
                                        const char *arg)
{
    return parse_whole(cmd, arg, 1, MAX_LIFETIME,
                       &((jwtauth_dir_conf *)dconf)->session_lifetime);
}

/* An HTTP field name is a token (RFC 9110 §5.1, §5.6.2). */
int jwtauth_is_header_name(const char *arg)
{
    const char *s;

    for (s = arg; *s; s++) {
        if (!apr_isalnum(*s) && !strchr("!#$%&'*+-.^_`|~", *s)) {
            break;
        }
    }
    return *arg && !*s;
}

static const char *set_header(cmd_parms *cmd, void *dconf, const char *arg)
{
    if (!jwtauth_is_header_name(arg)) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a header name",
                            cmd->cmd->name, arg);
    }
    ((jwtauth_dir_conf *)dconf)->header = arg;
    return NULL;
}

/* JWTAuthClaimHeader path Header-Name: the path parsed once, here; the
 * name checked by headers.c (a token, not one it refuses, once a
 * section). */
static const char *set_claim_header(cmd_parms *cmd, void *dconf,
                                    const char *path, const char *name)
{
    jwtauth_dir_conf *conf = dconf;
    jwtauth_claim_header *ch;
    const jwt_path_t *pa;
    const char *err = NULL;

    if (!(pa = jwt_path_parse(cmd->pool, path, &err))) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, err);
    }
    if ((err = jwtauth_claim_header_refused(cmd->temp_pool, conf, name))) {
        return apr_psprintf(cmd->pool, "%s: '%s' %s", cmd->cmd->name, name,
                            err);
    }
    if (!conf->claim_headers) {
        conf->claim_headers = apr_array_make(cmd->pool, 2,
                                             sizeof(jwtauth_claim_header));
    }
    ch = apr_array_push(conf->claim_headers);
    ch->path = pa;
    ch->name = name;
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
const char *jwtauth_read_secret_file(cmd_parms *cmd, const char *arg,
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

/* The keys each file gave, in the order of first load (metrics.c shows
 * them); made afresh at every reading of the configuration. */
static apr_array_header_t *key_sources;

static apr_status_t key_sources_reset(void *data)
{
    key_sources = NULL;
    return APR_SUCCESS;
}

static void note_key_source(apr_pool_t *pconf, const char *source, int n)
{
    jwtauth_key_source *ks;
    int i;

    if (!key_sources) {
        key_sources = apr_array_make(pconf, 4, sizeof(jwtauth_key_source));
        apr_pool_cleanup_register(pconf, NULL, key_sources_reset,
                                  apr_pool_cleanup_null);
    }
    for (i = 0; i < key_sources->nelts; i++) {
        ks = &APR_ARRAY_IDX(key_sources, i, jwtauth_key_source);
        if (!strcmp(ks->source, source)) {
            ks->n = n;
            return;
        }
    }
    ks = apr_array_push(key_sources);
    ks->source = apr_pstrdup(pconf, source);
    ks->n = n;
}

const apr_array_header_t *jwtauth_key_sources(void)
{
    return key_sources;
}

/* Append keys to the scope's verification keys, and make their kid index
 * again (at configuration time, once per key file). */
static void add_keys(cmd_parms *cmd, jwtauth_dir_conf *conf,
                     const apr_array_header_t *keys, const char *path)
{
    jwt_policy_t ix;

    if (!conf->keys) {
        conf->keys = apr_array_make(cmd->pool, 2, sizeof(jwt_key_t *));
    }
    apr_array_cat(conf->keys, keys);
    conf->key_source = path;
    memset(&ix, 0, sizeof(ix));
    ix.keys = conf->keys;
    conf->key_index = jwt_policy_index_keys(&ix, cmd->pool) ? ix.key_index
                                                           : NULL;
    note_key_source(cmd->pool, path, keys->nelts);
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

    if ((msg = jwtauth_read_secret_file(cmd, arg, &path, &buf, &len))) {
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

/* Read a key file and load its keys (jwt_keys_load_ex) into a new
 * array; an error names the directive and the path.  Each key of a JWK
 * Set the core skipped gets one info line, whether or not the set
 * loads.  *world_readable as for read_key_file.  The file's bytes are
 * wiped once parsed. */
static const char *load_key_file(cmd_parms *cmd, const char *arg,
                                 const char *kid, int want_private,
                                 apr_array_header_t **keys, const char **path,
                                 int *world_readable)
{
    const char *msg;
    unsigned char *buf;
    apr_size_t len = 0;
    apr_array_header_t *skipped = NULL;
    jwt_error_t err;
    int ok, i;

    if ((msg = read_key_file(cmd, arg, path, &buf, &len, world_readable))) {
        return msg;
    }
    *keys = apr_array_make(cmd->pool, 2, sizeof(jwt_key_t *));
    ok = jwt_keys_load_ex(*keys, cmd->pool, (const char *)buf, len, kid,
                          want_private, &skipped, &err);
    OPENSSL_cleanse(buf, len);
    /* kid and reason come from the file: escaped; a file of junk keys
     * gets MAX_SKIP_LINES lines and a count, not one line a key */
    for (i = 0; skipped && i < skipped->nelts && i < MAX_SKIP_LINES; i++) {
        const jwt_key_skip_t *sk = &APR_ARRAY_IDX(skipped, i,
                                                  jwt_key_skip_t);

        ap_log_error(APLOG_MARK, APLOG_INFO, 0, cmd->server,
                     "%s %s: key #%" APR_SIZE_T_FMT " (%s%s) skipped: %s",
                     cmd->cmd->name, *path, sk->index,
                     sk->kid ? "kid " : "no kid",
                     sk->kid ? ap_escape_logitem(cmd->temp_pool, sk->kid)
                             : "",
                     ap_escape_logitem(cmd->temp_pool, sk->reason));
    }
    if (skipped && skipped->nelts > MAX_SKIP_LINES) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, cmd->server,
                     "%s %s: %d more keys skipped", cmd->cmd->name, *path,
                     skipped->nelts - MAX_SKIP_LINES);
    }
    if (!ok) {
        msg = apr_psprintf(cmd->pool, "%s: %s: %s", cmd->cmd->name, *path,
                           err.reason);
    }
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
    note_key_source(cmd->pool, path, 1);
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

/* JWTAuthIssuer and JWTAuthAudience: a list of one or more values into
 * the member at cmd->info, replacing an inherited one */
static const char *set_list(cmd_parms *cmd, void *dconf, int argc,
                            char *const argv[])
{
    apr_array_header_t **list = (apr_array_header_t **)
                                ((char *)dconf + (apr_size_t)cmd->info);
    int i;

    if (argc < 1) {
        return apr_psprintf(cmd->pool, "%s needs at least one value",
                            cmd->cmd->name);
    }
    *list = apr_array_make(cmd->pool, argc, sizeof(const char *));
    for (i = 0; i < argc; i++) {
        APR_ARRAY_PUSH(*list, const char *) = argv[i];
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
        "sub", "iat", "exp", "nbf", "jti", "iss", "aud", "auth_time", NULL
    };
    jwtauth_dir_conf *conf = dconf;
    jwtauth_login_claim *lc;
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
                                            sizeof(jwtauth_login_claim));
    }
    lc = apr_array_push(conf->login_claims);
    lc->name = name;
    if (!jwt_value_type(&lc->type, type)) {
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

/* ---- RFC 9728: JWTAuthResource, JWTAuthScopes, JWTAuthResourceMetadata */

/* Is host a loopback name or address (localhost, 127.0.0.0/8, ::1)? */
static int loopback_host(const char *host)
{
    return !strcasecmp(host, "localhost") || !strcmp(host, "::1")
           || (!strncmp(host, "127.", 4)
               && strspn(host, "0123456789.") == strlen(host));
}

/* An absolute https URL (http only on loopback) with a host, no
 * userinfo and no fragment, of printable ASCII but quotes and
 * backslashes: the value goes into a quoted-string of the Bearer
 * challenge as it is, and a client compares it byte for byte (RFC 9728
 * section 3.3), so anything else must be percent-encoded in the
 * configuration. */
static const char *check_url(cmd_parms *cmd, const char *arg)
{
    apr_uri_t uri;
    const char *s;

    for (s = arg; *s; s++) {
        unsigned char ch = (unsigned char)*s;

        if (ch < 0x21 || ch > 0x7e || ch == '"' || ch == '\\') {
            return apr_psprintf(cmd->pool, "%s: '%s' holds a blank, a "
                                "control character, a quote, a backslash "
                                "or a non-ASCII byte (percent-encode it)",
                                cmd->cmd->name, arg);
        }
    }
    if (apr_uri_parse(cmd->temp_pool, arg, &uri) != APR_SUCCESS
        || !uri.scheme || !uri.hostname || !*uri.hostname
        || !uri.is_initialized || strncmp(arg + strlen(uri.scheme), "://", 3)
        || (strcasecmp(uri.scheme, "https")
            && (strcasecmp(uri.scheme, "http")
                || !loopback_host(uri.hostname)))) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not an absolute https "
                            "URL (http only for localhost, 127.0.0.0/8 "
                            "and [::1])", cmd->cmd->name, arg);
    }
    if (uri.user || uri.password || strchr(arg, '#')) {
        return apr_psprintf(cmd->pool, "%s: '%s': a URL here has no "
                            "userinfo and no fragment", cmd->cmd->name, arg);
    }
    return NULL;
}

static const char *set_resource(cmd_parms *cmd, void *dconf, const char *arg)
{
    const char *err = check_url(cmd, arg);

    if (!err) {
        ((jwtauth_dir_conf *)dconf)->resource = arg;
    }
    return err;
}

static const char *set_resource_metadata(cmd_parms *cmd, void *dconf,
                                         const char *arg)
{
    const char *err = check_url(cmd, arg);

    if (!err) {
        ((jwtauth_dir_conf *)dconf)->resource_metadata = arg;
    }
    return err;
}

/* JWTAuthCookie name: an RFC 6265 cookie-name, a token */
static const char *set_cookie(cmd_parms *cmd, void *dconf, const char *arg)
{
    if (!jwtauth_is_header_name(arg)) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a cookie name (RFC "
                            "6265: a token)", cmd->cmd->name, arg);
    }
    ((jwtauth_dir_conf *)dconf)->cookie = arg;
    return NULL;
}

/* JWTAuthCookieAttributes "attrs": no CR, LF or other control byte (they
 * would split the Set-Cookie header); a cookie that scripts can read is
 * allowed but warned about. */
static const char *set_cookie_attrs(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    const char *s;

    for (s = arg; *s; s++) {
        if (apr_iscntrl(*s)) {
            return apr_psprintf(cmd->pool, "%s: a control character (CR, "
                                "LF...) is not allowed", cmd->cmd->name);
        }
    }
    if (!ap_strcasestr(arg, "HttpOnly")) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, cmd->server, "%s without "
                     "HttpOnly: scripts can read the token cookie (%s:%d)",
                     cmd->cmd->name, cmd->directive->filename,
                     cmd->directive->line_num);
    }
    ((jwtauth_dir_conf *)dconf)->cookie_attrs = arg;
    return NULL;
}

/* JWTAuthTrustedOrigin origin...: each a serialized origin, scheme://host
 * [:port] (RFC 6454 section 6.2), compared exactly with Origin */
static const char *set_trusted_origins(cmd_parms *cmd, void *dconf, int argc,
                                       char *const argv[])
{
    jwtauth_dir_conf *conf = dconf;
    int i;

    if (argc < 1) {
        return apr_psprintf(cmd->pool, "%s needs at least one origin",
                            cmd->cmd->name);
    }
    conf->trusted_origins = apr_array_make(cmd->pool, argc,
                                           sizeof(const char *));
    for (i = 0; i < argc; i++) {
        apr_uri_t u;

        if (apr_uri_parse(cmd->pool, argv[i], &u) != APR_SUCCESS
            || !u.scheme || !u.hostname || !*u.hostname
            || (strcasecmp(u.scheme, "http") && strcasecmp(u.scheme, "https"))
            || u.user || u.password || u.query || u.fragment
            || (u.path && *u.path)) {
            return apr_psprintf(cmd->pool, "%s: \"%s\" is not an origin "
                                "(scheme://host[:port], http or https, no "
                                "path)", cmd->cmd->name, argv[i]);
        }
        APR_ARRAY_PUSH(conf->trusted_origins, const char *) = argv[i];
    }
    return NULL;
}

/* JWTAuthLoginPage url: a path of this server (what return_to allows,
 * no '#') or an absolute https URL (check_url); the 303s append their
 * query to it, so no fragment either way. */
static const char *set_login_page(cmd_parms *cmd, void *dconf,
                                  const char *arg)
{
    const char *err = NULL;

    if (arg[0] == '/') {
        if (strcmp(jwtauth_local_return_to(cmd->temp_pool, arg), arg)
            || strchr(arg, '#') || strchr(arg, '"')) {
            err = apr_psprintf(cmd->pool, "%s: '%s' is not a local path "
                               "(one leading '/', printable ASCII, no "
                               "backslash, quote or fragment)",
                               cmd->cmd->name, arg);
        }
    }
    else {
        err = check_url(cmd, arg);
    }
    if (!err) {
        ((jwtauth_dir_conf *)dconf)->login_page = arg;
    }
    return err;
}

/* JWTAuthScopes scope...: RFC 6749 scope-tokens, as Require jwt-scope */
static const char *set_scopes(cmd_parms *cmd, void *dconf, int argc,
                              char *const argv[])
{
    jwtauth_dir_conf *conf = dconf;
    int i;

    if (argc < 1) {
        return apr_psprintf(cmd->pool, "%s needs at least one scope",
                            cmd->cmd->name);
    }
    conf->scopes = apr_array_make(cmd->pool, argc, sizeof(const char *));
    for (i = 0; i < argc; i++) {
        if (!*argv[i] || !jwtauth_scope_token(argv[i])) {
            return apr_psprintf(cmd->pool, "%s: \"%s\" is not a scope (RFC "
                                "6749: printable ASCII but blank, '\"' and "
                                "'\\')", cmd->cmd->name, argv[i]);
        }
        APR_ARRAY_PUSH(conf->scopes, const char *) = argv[i];
    }
    return NULL;
}

const command_rec jwtauth_cmds[] = {
    AP_INIT_TAKE1("JWTAuth", set_enabled, NULL, OR_AUTHCFG,
                  "On to require a valid JWT in this scope, Optional to "
                  "check one only when sent"),
    AP_INIT_TAKE1("JWTAuthHeader", set_header, NULL, RSRC_CONF | ACCESS_CONF,
                  "request header that carries the token"),
    AP_INIT_TAKE2("JWTAuthClaimHeader", set_claim_header, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "claim path and the request header the backend gets it in"),
    AP_INIT_FLAG("JWTAuthForwardToken", ap_set_flag_slot,
                 (void *)APR_OFFSETOF(jwtauth_dir_conf, forward_token),
                 RSRC_CONF | ACCESS_CONF,
                 "Off to keep the token from proxied backends and CGI"),
    AP_INIT_TAKE1("JWTAuthCookie", set_cookie, NULL, RSRC_CONF | ACCESS_CONF,
                  "cookie that may carry the token (and /login sets)"),
    AP_INIT_TAKE1("JWTAuthCookieAttributes", set_cookie_attrs, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "attributes of the cookie /login sets, after its value"),
    AP_INIT_TAKE_ARGV("JWTAuthTrustedOrigin", set_trusted_origins, NULL,
                      RSRC_CONF | ACCESS_CONF,
                      "origins besides the server's own that may send "
                      "cookie-authenticated POST, PUT, PATCH, DELETE"),
    AP_INIT_TAKE1("JWTAuthLoginPage", set_login_page, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "page that browsers without a valid token are sent to "
                  "(303, with return_to)"),
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
    AP_INIT_TAKE_ARGV("JWTAuthIssuer", set_list,
                      (void *)APR_OFFSETOF(jwtauth_dir_conf, issuers),
                      RSRC_CONF | ACCESS_CONF,
                      "accepted iss values; the first is issued"),
    AP_INIT_TAKE_ARGV("JWTAuthAudience", set_list,
                      (void *)APR_OFFSETOF(jwtauth_dir_conf, audiences),
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
    AP_INIT_TAKE1("JWTAuthCacheSize", set_cache_size, NULL, RSRC_CONF,
                  "bytes of each process's validated-token cache, K, M or "
                  "G after the number (0: none)"),
    AP_INIT_TAKE1("JWTAuthSharedCache", jwtauth_set_shared_cache, NULL,
                  RSRC_CONF,
                  "socache provider[:args] shared by processes or machines"),
    AP_INIT_TAKE1("JWTAuthSharedCacheSecretFile",
                  jwtauth_set_shared_secret, NULL,
                  RSRC_CONF, "MAC key of shared cache entries (32-64 bytes)"),
    AP_INIT_TAKE1("JWTAuthTokenLifetime", set_lifetime, NULL,
                  RSRC_CONF | ACCESS_CONF, "lifetime of issued tokens"),
    AP_INIT_TAKE1("JWTAuthSessionLifetime", set_session_lifetime, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "seconds refreshes may extend a login from its auth_time"),
    AP_INIT_TAKE1("JWTAuthSessionStore", jwtauth_set_session_store, NULL,
                  RSRC_CONF, "socache provider[:args] that keeps "
                  "revocations and login counters"),
    AP_INIT_TAKE1("JWTAuthSessionStoreFailure", jwtauth_set_store_failure,
                  NULL, RSRC_CONF,
                  "open or closed: what requests get while the store is "
                  "unreachable"),
    AP_INIT_TAKE_ARGV("JWTAuthLoginThrottle", jwtauth_set_login_throttle,
                      NULL, ACCESS_CONF, "failed logins per user name, the "
                      "window in seconds [, failures per address]"),
    AP_INIT_TAKE23("JWTAuthLoginClaim", set_login_claim, NULL, ACCESS_CONF,
                   "claim name, ap_expr value and type string|int|bool"),
    AP_INIT_FLAG("JWTAuthCORSPreflight", ap_set_flag_slot,
                 (void *)APR_OFFSETOF(jwtauth_dir_conf, cors_preflight),
                 RSRC_CONF | ACCESS_CONF,
                 "On to let a CORS preflight through without a token"),
    AP_INIT_TAKE1("JWTAuthResource", set_resource, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "the resource identifier of the RFC 9728 metadata"),
    AP_INIT_TAKE_ARGV("JWTAuthScopes", set_scopes, NULL,
                      RSRC_CONF | ACCESS_CONF,
                      "scopes_supported of the RFC 9728 metadata"),
    AP_INIT_TAKE1("JWTAuthResourceMetadata", set_resource_metadata, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "URL of the RFC 9728 metadata, named in every challenge"),
    AP_INIT_TAKE12("JWTAuthKeysURL", jwtauth_set_keys_url, NULL,
                   RSRC_CONF | ACCESS_CONF,
                   "URL of a remote JWK Set (https) [the issuer its keys "
                   "are bound to]"),
    AP_INIT_TAKE12("JWTAuthDiscovery", jwtauth_set_discovery, NULL,
                   RSRC_CONF | ACCESS_CONF,
                   "issuer whose discovery document names its JWK Set "
                   "[metadata URL]"),
    AP_INIT_TAKE1("JWTAuthKeysRefresh", set_keys_seconds,
                  (void *)APR_OFFSETOF(jwtauth_dir_conf, keys_refresh),
                  RSRC_CONF | ACCESS_CONF,
                  "seconds between fetches of a remote JWK Set"),
    AP_INIT_TAKE1("JWTAuthKeysMaxStale", set_keys_seconds,
                  (void *)APR_OFFSETOF(jwtauth_dir_conf, keys_max_stale),
                  RSRC_CONF | ACCESS_CONF,
                  "seconds the last good set serves while fetches fail"),
    AP_INIT_TAKE1("JWTAuthKeysTimeout", set_keys_seconds,
                  (void *)APR_OFFSETOF(jwtauth_dir_conf, keys_timeout),
                  RSRC_CONF | ACCESS_CONF,
                  "seconds one fetch may take (connect and transfer)"),
    AP_INIT_TAKE1("JWTAuthKeysCAFile", set_keys_ca, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "CA certificates (PEM) that fetches trust"),
    AP_INIT_TAKE1("JWTAuthKeysStore", jwtauth_set_keys_store, NULL,
                  RSRC_CONF,
                  "directory of the last good remote JWK Sets"),
    { NULL }
};
