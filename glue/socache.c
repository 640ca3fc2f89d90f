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

/* One socache instance of the module: its provider, the instance the
 * directive made, the directive's argument (for log lines) and the
 * global mutex it needs when the provider is not safe across processes
 * (made in post_config, reopened in child_init). */
struct jwtauth_socache {
    const ap_socache_provider_t *provider;
    ap_socache_instance_t *instance;
    const char *spec;
    const char *mutex_name;
    apr_global_mutex_t *mutex;
    server_rec *s;
    int off;                    /* this child could not reopen the mutex */
};

const char *jwtauth_socache_make(jwtauth_socache **out, cmd_parms *cmd,
                                 const char *arg, const char *mutex_name)
{
    const char *sep = ap_strchr_c(arg, ':');
    const char *name = sep ? apr_pstrmemdup(cmd->pool, arg, sep - arg) : arg;
    jwtauth_socache *c = apr_pcalloc(cmd->pool, sizeof(*c));
    const char *err;

    c->provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                                     AP_SOCACHE_PROVIDER_VERSION);
    if (!c->provider) {
        return apr_psprintf(cmd->pool, "%s: unknown socache provider '%s' "
                            "(is mod_socache_%s loaded?)", cmd->cmd->name,
                            name, name);
    }
    err = c->provider->create(&c->instance, sep ? sep + 1 : NULL,
                              cmd->temp_pool, cmd->pool);
    if (err) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, err);
    }
    c->spec = arg;
    c->mutex_name = mutex_name;
    *out = c;
    return NULL;
}

const char *jwtauth_socache_spec(const jwtauth_socache *c)
{
    return c->spec;
}

static apr_status_t socache_destroy(void *data)
{
    jwtauth_socache *c = data;

    if (c->instance) {
        c->provider->destroy(c->instance, c->s);
    }
    c->instance = NULL;
    return APR_SUCCESS;
}

apr_status_t jwtauth_socache_open(jwtauth_socache *c, const char *ns,
                                  const struct ap_socache_hints *hints,
                                  apr_pool_t *pconf, server_rec *s)
{
    apr_status_t rv;

    c->s = s;
    if (c->provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE) {
        rv = ap_global_mutex_create(&c->mutex, NULL, c->mutex_name, NULL, s,
                                    pconf, 0);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    if ((rv = c->provider->init(c->instance, ns, hints, s, pconf))
        != APR_SUCCESS) {
        return rv;
    }
    apr_pool_cleanup_register(pconf, c, socache_destroy,
                              apr_pool_cleanup_null);
    return APR_SUCCESS;
}

apr_status_t jwtauth_socache_reopen(jwtauth_socache *c, apr_pool_t *p)
{
    apr_status_t rv;

    if (!c->mutex) {
        return APR_SUCCESS;
    }
    rv = apr_global_mutex_child_init(&c->mutex,
                                     apr_global_mutex_lockfile(c->mutex), p);
    c->off = rv != APR_SUCCESS;
    return rv;
}

int jwtauth_socache_usable(const jwtauth_socache *c)
{
    return c && c->instance && !c->off;
}

apr_status_t jwtauth_socache_get(jwtauth_socache *c, server_rec *s,
                                 const unsigned char *key, unsigned int klen,
                                 unsigned char *val, unsigned int *vlen,
                                 apr_pool_t *p, int *lock_failed)
{
    apr_status_t rv;

    if (c->mutex && (rv = apr_global_mutex_lock(c->mutex)) != APR_SUCCESS) {
        if (lock_failed) {
            *lock_failed = 1;
        }
        return rv;
    }
    rv = c->provider->retrieve(c->instance, s, key, klen, val, vlen, p);
    if (c->mutex) {
        apr_global_mutex_unlock(c->mutex);
    }
    return rv;
}

apr_status_t jwtauth_socache_put(jwtauth_socache *c, server_rec *s,
                                 const unsigned char *key, unsigned int klen,
                                 apr_time_t expiry, const unsigned char *val,
                                 unsigned int vlen, apr_pool_t *p,
                                 int *lock_failed)
{
    apr_status_t rv;

    if (c->mutex && (rv = apr_global_mutex_lock(c->mutex)) != APR_SUCCESS) {
        if (lock_failed) {
            *lock_failed = 1;
        }
        return rv;
    }
    rv = c->provider->store(c->instance, s, key, klen, expiry,
                            (unsigned char *)val, vlen, p);
    if (c->mutex) {
        apr_global_mutex_unlock(c->mutex);
    }
    return rv;
}

apr_status_t jwtauth_socache_del(jwtauth_socache *c, server_rec *s,
                                 const unsigned char *key, unsigned int klen,
                                 apr_pool_t *p)
{
    apr_status_t rv;

    if (c->mutex && (rv = apr_global_mutex_lock(c->mutex)) != APR_SUCCESS) {
        return rv;
    }
    rv = c->provider->remove(c->instance, s, key, klen, p);
    if (c->mutex) {
        apr_global_mutex_unlock(c->mutex);
    }
    return rv;
}

/* JWTAuthSharedCache: the socache tier shared by every process (shmcb)
 * or machine (memcache, redis), and what authenticates its entries */
#define SHARED_MUTEX "jwtauth-shared-cache"
static jwtauth_socache *shared;
static unsigned char shared_secret[64];
static apr_size_t shared_secret_len;
static const char *shared_secret_path;

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
                     "without the tier)", jwtauth_socache_spec(shared),
                     fail_what[kind]);
    }
}

/* JWTAuthSharedCache provider[:args] */
const char *jwtauth_set_shared_cache(cmd_parms *cmd, void *dconf,
                                     const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    return err ? err : jwtauth_socache_make(&shared, cmd, arg, SHARED_MUTEX);
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
    int lock_failed = 0;
    apr_status_t rv = jwtauth_socache_get(shared, r->server, key, 32, val,
                                          vlen, r->pool, &lock_failed);

    /* APR_NOTFOUND is a plain miss */
    if (rv != APR_SUCCESS && !APR_STATUS_IS_NOTFOUND(rv)) {
        shared_failed(lock_failed ? FAIL_LOCK_LOOKUP : FAIL_RETRIEVE, rv,
                      r->server);
    }
    return rv == APR_SUCCESS;
}

static void shared_store(void *ctx, const unsigned char *key,
                         apr_int64_t expiry, const unsigned char *val,
                         unsigned int vlen)
{
    request_rec *r = ctx;
    int lock_failed = 0;
    apr_status_t rv = jwtauth_socache_put(shared, r->server, key, 32,
                                          apr_time_from_sec(expiry), val,
                                          vlen, r->pool, &lock_failed);

    if (rv != APR_SUCCESS) {
        shared_failed(lock_failed ? FAIL_LOCK_STORE : FAIL_STORE, rv,
                      r->server);
    }
}

const jwt_shared_cache_t *jwtauth_shared_tier(request_rec *r,
                                              jwt_shared_cache_t *sh)
{
    if (!jwtauth_socache_usable(shared) || !shared_secret_len) {
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
    shared = NULL;
    shared_secret_len = 0;
    shared_secret_path = NULL;
    return ap_mutex_register(pconf, SHARED_MUTEX, NULL, APR_LOCK_DEFAULT, 0);
}

/* Open the shared tier in the parent: its mutex when the provider needs
 * one, and a fresh random secret unless a file gave one. */
int jwtauth_socache_post_config(apr_pool_t *pconf, server_rec *s)
{
    static const struct ap_socache_hints hints = { 32, 600,
                                                   apr_time_from_sec(60) };
    apr_status_t rv;

    if (!shared) {
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
    rv = jwtauth_socache_open(shared, "jwtauth", &hints, pconf, s);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, "JWTAuthSharedCache %s: "
                     "cannot initialise the cache",
                     jwtauth_socache_spec(shared));
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

/* Reopen the mutex in a child; without it the tier is off in that
 * child (logged), the requests served as without a shared tier. */
void jwtauth_socache_child_init(apr_pool_t *p, server_rec *s)
{
    apr_status_t rv;

    if (shared && (rv = jwtauth_socache_reopen(shared, p)) != APR_SUCCESS) {
        shared_failed(FAIL_CHILD_INIT, rv, s);
    }
}
