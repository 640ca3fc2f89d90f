/*
 * socache.c: the shared tier of the validated-token cache on httpd's
 * socache providers (shmcb on one machine, memcache or redis across
 * many), as mod_authn_socache uses them: the provider and its instance
 * made by the directive, initialised in post_config with a global mutex
 * when the provider is not safe across processes, and the core's
 * lookup/store callbacks.  The tier only saves work: when it fails, the
 * request goes on without it, and the failure is logged once per process
 * and kind.
 */
#include <string.h>

#include "apr_atomic.h"
#include "apr_strings.h"
#include "apr_global_mutex.h"

#include "ap_config.h"
#include "ap_provider.h"
#include "ap_socache.h"
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "util_mutex.h"

#include <openssl/crypto.h>

#include "glue.h"

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
/* this child could not reopen the mutex: no tier here (a provider that
 * is not safe across processes, used without its lock, corrupts it) */
static int shared_off;

/* What can fail while serving, each logged once per process: enough for
 * an operator to see that the tier does not work, without a line per
 * request.  Never a key or an entry in the message. */
typedef enum {
    FAIL_CHILD_INIT,
    FAIL_LOCK_LOOKUP,
    FAIL_LOCK_STORE,
    FAIL_RETRIEVE,
    FAIL_STORE,
    FAIL_KINDS
} shared_fail_e;

static const char *const fail_what[FAIL_KINDS] = {
    "cannot reopen its mutex in this child; the tier is off in it",
    "cannot take its mutex to look an entry up",
    "cannot take its mutex to store an entry",
    "the provider failed to look an entry up",
    "the provider failed to store an entry",
};
static apr_uint32_t fail_logged[FAIL_KINDS];

/* Log a failure of the given kind, the first time in this process only
 * (atomically: the threads of a child race for it). */
static void shared_failed(shared_fail_e kind, apr_status_t rv, server_rec *s)
{
    if (apr_atomic_xchg32(&fail_logged[kind], 1) == 0) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, "JWTAuthSharedCache "
                     "%s: %s (logged once per process; tokens are verified "
                     "without the tier)", shared_spec, fail_what[kind]);
    }
}

/* JWTAuthSharedCache provider[:args] */
const char *jwtauth_set_shared_cache(cmd_parms *cmd, void *dconf,
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
const char *jwtauth_set_shared_secret(cmd_parms *cmd, void *dconf,
                                      const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    const char *path;
    unsigned char *buf;
    apr_size_t len = 0;

    if (err || (err = jwtauth_read_secret_file(cmd, arg, &path, &buf, &len))) {
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

static int shared_lookup(void *ctx, const unsigned char *key,
                         unsigned char *val, unsigned int *vlen)
{
    request_rec *r = ctx;
    apr_status_t rv;

    if (shared_mutex
        && (rv = apr_global_mutex_lock(shared_mutex)) != APR_SUCCESS) {
        shared_failed(FAIL_LOCK_LOOKUP, rv, r->server);
        return 0;
    }
    rv = shared_provider->retrieve(shared_instance, r->server, key, 32, val,
                                   vlen, r->pool);
    if (shared_mutex) {
        apr_global_mutex_unlock(shared_mutex);
    }
    /* APR_NOTFOUND is a plain miss */
    if (rv != APR_SUCCESS && !APR_STATUS_IS_NOTFOUND(rv)) {
        shared_failed(FAIL_RETRIEVE, rv, r->server);
    }
    return rv == APR_SUCCESS;
}

static void shared_store(void *ctx, const unsigned char *key,
                         apr_int64_t expiry, const unsigned char *val,
                         unsigned int vlen)
{
    request_rec *r = ctx;
    apr_status_t rv;

    if (shared_mutex
        && (rv = apr_global_mutex_lock(shared_mutex)) != APR_SUCCESS) {
        shared_failed(FAIL_LOCK_STORE, rv, r->server);
        return;
    }
    rv = shared_provider->store(shared_instance, r->server, key, 32,
                                apr_time_from_sec(expiry),
                                (unsigned char *)val, vlen, r->pool);
    if (shared_mutex) {
        apr_global_mutex_unlock(shared_mutex);
    }
    if (rv != APR_SUCCESS) {
        shared_failed(FAIL_STORE, rv, r->server);
    }
}

const jwt_shared_cache_t *jwtauth_shared_tier(request_rec *r,
                                              jwt_shared_cache_t *sh)
{
    if (!shared_provider || !shared_instance || !shared_secret_len
        || shared_off) {
        return NULL;
    }
    sh->lookup = shared_lookup;
    sh->store = shared_store;
    sh->ctx = r;
    sh->secret = shared_secret;
    sh->secret_len = shared_secret_len;
    return sh;
}

int jwtauth_socache_pre_config(apr_pool_t *pconf)
{
    shared_provider = NULL;
    shared_instance = NULL;
    shared_spec = NULL;
    shared_mutex = NULL;
    shared_secret_len = 0;
    shared_secret_path = NULL;
    shared_off = 0;
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
int jwtauth_socache_post_config(apr_pool_t *pconf, server_rec *s)
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

/* Reopen the mutex in a child; without it the tier is off in that
 * child (logged), the requests served as without a shared tier. */
void jwtauth_socache_child_init(apr_pool_t *p, server_rec *s)
{
    const char *lockfile;
    apr_status_t rv;

    if (!shared_mutex) {
        return;
    }
    lockfile = apr_global_mutex_lockfile(shared_mutex);
    rv = apr_global_mutex_child_init(&shared_mutex, lockfile, p);
    if (rv != APR_SUCCESS) {
        shared_off = 1;
        shared_failed(FAIL_CHILD_INIT, rv, s);
    }
}

