/*
 * session.c: sessions that end.  JWTAuthSessionStore is a socache
 * instance (socache.c's shared part: shmcb on one server, redis or
 * memcache across a fleet) that keeps three kinds of entries, each
 * under a fixed-size key (SHA-256 of a type tag and what it concerns,
 * never a raw token) and each expiring with what it concerns:
 *   a revoked token: its iss and jti, until its exp (plus leeway);
 *   a logout everywhere: its iss and sub, the cutoff before which that
 *   sub's tokens were issued, for as long as one of them may live;
 *   a failed-login counter: a user name or a client address, for the
 *   JWTAuthLoginThrottle window.
 * Every validated token is checked against the first two (access.c
 * calls jwtauth_session_refused), SetHandler jwtauth-logout writes them,
 * jwtauth-refresh exchanges a token for a new one, and jwtauth-login
 * asks the throttle before it checks a password.
 *
 * A store that cannot be reached: apr-util's redis and memcache clients
 * answer a lookup on a server they have marked dead as "not found", like
 * a real miss.  So a miss is trusted only while a canary entry holds:
 * looked up (and written again when missing: a write to a dead server
 * fails) at most once a second per process, and taken as lost at once
 * when any operation of the store fails.
 */
#include <string.h>

#include "apr_atomic.h"
#include "apr_lib.h"
#include "apr_strings.h"

#include "ap_config.h"
#include "ap_socache.h"
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_core.h"
#include "util_mutex.h"


#include "glue.h"
#include "jose/creds.h"
#include "jose/digest.h"

#define SESSION_MUTEX "jwtauth-session-store"
#define KEY_LEN       32                /* SHA-256 */
#define SESSION_NS    "jwtauth-session"
#define MSG_LOGGED_OUT "{\"message\": \"Logged out\"}"
/* what a 503 asks the client to wait: the canary is looked at again
 * within a second, apr-util retries a dead server every 5 */
#define RETRY_AFTER   "5"
/* the default per-address limit: this many times the per-user one */
#define ADDR_FACTOR   4
/* how long the canary lives in the store (it is written again when it
 * is missing) */
#define CANARY_LIFE   86400

/* the type tags of the keys */
#define TAG_JTI     'J'
#define TAG_SUB     'S'
#define TAG_USER    'U'
#define TAG_ADDR    'A'
#define TAG_CANARY  'C'

static jwtauth_socache *store;
static int fail_open;                   /* JWTAuthSessionStoreFailure */
static const char *throttle_where;      /* the first JWTAuthLoginThrottle */

/* This process's view of the store (the threads share it): whether the
 * canary held at the last look, when to look again (seconds), who is
 * looking, when the open mode last warned. */
static apr_uint32_t canary_ok;
static apr_uint32_t canary_seen;        /* it held once: a loss is news */
static apr_uint32_t canary_next;
static apr_uint32_t canary_busy;
static apr_uint32_t open_warned_at;

/* ---- directives ---- */

/* JWTAuthSessionStore provider[:args] */
const char *jwtauth_set_session_store(cmd_parms *cmd, void *dconf,
                                      const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    return err ? err : jwtauth_socache_make(&store, cmd, arg, SESSION_MUTEX);
}

/* JWTAuthSessionStoreFailure open|closed */
const char *jwtauth_set_store_failure(cmd_parms *cmd, void *dconf,
                                      const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    if (err) {
        return err;
    }
    if (!strcasecmp(arg, "open")) {
        fail_open = 1;
    }
    else if (!strcasecmp(arg, "closed")) {
        fail_open = 0;
    }
    else {
        return apr_psprintf(cmd->pool, "%s: '%s' is neither open nor closed",
                            cmd->cmd->name, arg);
    }
    return NULL;
}

/* One whole number of JWTAuthLoginThrottle, 1 to max. */
static const char *throttle_number(cmd_parms *cmd, const char *arg,
                                   const char *what, int max, int *out)
{
    char *end;
    apr_int64_t v = apr_strtoi64(arg, &end, 10);

    if (!apr_isdigit(*arg) || *end || v < 1 || v > max) {
        return apr_psprintf(cmd->pool, "%s: %s '%s' is not a whole number "
                            "from 1 to %d", cmd->cmd->name, what, arg, max);
    }
    *out = (int)v;
    return NULL;
}

/* JWTAuthLoginThrottle failures seconds [address-failures] */
const char *jwtauth_set_login_throttle(cmd_parms *cmd, void *dconf,
                                       int argc, char *const argv[])
{
    jwtauth_dir_conf *conf = dconf;
    const char *err;

    if (argc < 2 || argc > 3) {
        return apr_psprintf(cmd->pool, "%s takes failures, seconds and "
                            "optionally the failures per address",
                            cmd->cmd->name);
    }
    if ((err = throttle_number(cmd, argv[0], "failures", 1000000,
                               &conf->throttle_failures))
        || (err = throttle_number(cmd, argv[1], "seconds", 86400 * 366,
                                  &conf->throttle_seconds))) {
        return err;
    }
    if (argc == 3) {
        err = throttle_number(cmd, argv[2], "address-failures", 100000000,
                              &conf->throttle_addr_failures);
    }
    else {
        conf->throttle_addr_failures = conf->throttle_failures * ADDR_FACTOR;
    }
    if (!throttle_where && !err) {
        throttle_where = apr_psprintf(cmd->pool, "%s:%d",
                                      cmd->directive->filename,
                                      cmd->directive->line_num);
    }
    return err;
}

/* ---- init hooks ---- */

int jwtauth_session_pre_config(apr_pool_t *pconf)
{
    store = NULL;
    fail_open = 0;
    throttle_where = NULL;
    return ap_mutex_register(pconf, SESSION_MUTEX, NULL, APR_LOCK_DEFAULT, 0);
}

/* What needs a store is refused without one (apachectl -t too). */
int jwtauth_session_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                                 apr_pool_t *ptemp, server_rec *s)
{
    if (throttle_where && !store) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s,
                     "JWTAuthLoginThrottle (%s) needs JWTAuthSessionStore: "
                     "the counters live there", throttle_where);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

/* Without a store, each SetHandler jwtauth-logout of the configuration
 * is named in the log with its section: logout there clears the cookie
 * and nothing more. */
static void log_storeless_logout(apr_pool_t *p, server_rec *s,
                                 const ap_directive_t *d)
{
    for (; d; d = d->next) {
        const char *args = d->args;

        if (!strcasecmp(d->directive, "SetHandler") && args
            && !strcasecmp(ap_getword_conf(p, &args), "jwtauth-logout")) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "JWTAuth: "
                         "SetHandler jwtauth-logout in %s %s (%s:%d) without "
                         "JWTAuthSessionStore: logout there only clears the "
                         "cookie, the token stays valid until its exp",
                         d->parent ? d->parent->directive : "the server",
                         d->parent ? d->parent->args : "", d->filename,
                         d->line_num);
        }
        log_storeless_logout(p, s, d->first_child);
    }
}

int jwtauth_session_post_config(apr_pool_t *pconf, server_rec *s)
{
    static const struct ap_socache_hints hints = { 32, 32,
                                                   apr_time_from_sec(60) };
    apr_status_t rv;

    /* the first reading of the configuration only checks it */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    canary_ok = canary_seen = canary_next = canary_busy = 0;
    open_warned_at = 0;
    if (!store) {
        log_storeless_logout(pconf, s, ap_conftree);
        return OK;
    }
    rv = jwtauth_socache_open(store, SESSION_NS, &hints, pconf, s);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, "JWTAuthSessionStore "
                     "%s: cannot initialise the store",
                     jwtauth_socache_spec(store));
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

void jwtauth_session_child_init(apr_pool_t *p, server_rec *s)
{
    apr_status_t rv;

    if (store && (rv = jwtauth_socache_reopen(store, p)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, "JWTAuthSessionStore %s: "
                     "cannot reopen its mutex in this child: the store is "
                     "unavailable here", jwtauth_socache_spec(store));
    }
}

/* ---- the store ---- */

/* The key of an entry: SHA-256 of a prefix, its tag, then each part
 * with its length before it (so that no two lists of parts give the
 * same bytes). */
static void entry_key(apr_pool_t *p, unsigned char key[KEY_LEN], char tag,
                      const char *a, const char *b)
{
    const char *parts[2] = { a, b };
    size_t n[2] = { a ? strlen(a) : 0, b ? strlen(b) : 0 };
    unsigned char *buf = apr_palloc(p, 16 + 8 + n[0] + n[1]), *o = buf;
    const void *data;
    size_t len;
    int i;

    memcpy(o, "jwtauth-session", 15);
    o += 15;
    *o++ = (unsigned char)tag;
    for (i = 0; i < 2; i++) {
        *o++ = (unsigned char)(n[i] >> 24);
        *o++ = (unsigned char)(n[i] >> 16);
        *o++ = (unsigned char)(n[i] >> 8);
        *o++ = (unsigned char)n[i];
        memcpy(o, parts[i] ? parts[i] : "", n[i]);
        o += n[i];
    }
    len = (size_t)(o - buf);
    data = buf;
    if (!jwt_sha256(key, &data, &len, 1)) {
        /* cannot happen with a working libcrypto; a key of zeros then
         * only makes entries collide, which refuses rather than lets
         * in */
        memset(key, 0, KEY_LEN);
    }
}

/* The store has failed: no miss is trusted until the canary holds
 * again (looked at within a second). */
static void store_failed(void)
{
    apr_atomic_set32(&canary_ok, 0);
}

/* Look the canary up (write it again when it is missing) when a second
 * has passed since the last look, one thread of the process at a time;
 * 1 while it holds. */
static int store_trusted(request_rec *r)
{
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    unsigned char key[KEY_LEN], val[8];
    unsigned int vlen = sizeof(val);
    apr_status_t rv;
    int ok;

    if (!jwtauth_socache_usable(store)) {
        return 0;
    }
    /* one thread looks, the others take the last answer; before the
     * first answer of this process every thread may look */
    if (now < apr_atomic_read32(&canary_next)) {
        return apr_atomic_read32(&canary_ok);
    }
    if (apr_atomic_cas32(&canary_busy, 1, 0) != 0
        && apr_atomic_read32(&canary_next)) {
        return apr_atomic_read32(&canary_ok);
    }
    entry_key(r->pool, key, TAG_CANARY, NULL, NULL);
    rv = jwtauth_socache_get(store, r->server, key, sizeof(key), val, &vlen,
                             r->pool, NULL);
    ok = rv == APR_SUCCESS;
    if (APR_STATUS_IS_NOTFOUND(rv)) {
        /* missing: a dead server, or a store that lost its entries (a
         * restart without persistence) or was never written; a write
         * tells them apart */
        rv = jwtauth_socache_put(store, r->server, key, sizeof(key),
                                 apr_time_now()
                                 + apr_time_from_sec(CANARY_LIFE),
                                 (const unsigned char *)"1", 1, r->pool,
                                 NULL);
        ok = rv == APR_SUCCESS;
        if (ok && apr_atomic_read32(&canary_seen)) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          "JWTAuthSessionStore %s: the store lost its "
                          "entries (restarted?): revocations and login "
                          "counters made before are gone",
                          jwtauth_socache_spec(store));
        }
    }
    if (!ok && apr_atomic_read32(&canary_ok)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "JWTAuthSessionStore "
                      "%s: the store cannot be reached (%s)",
                      jwtauth_socache_spec(store),
                      fail_open ? "failing open: tokens count as not "
                                  "revoked, logins as not throttled"
                                : "failing closed: 503");
    }
    else if (ok && !apr_atomic_read32(&canary_ok)
             && apr_atomic_read32(&canary_seen)) {
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, "JWTAuthSessionStore "
                      "%s: the store answers again",
                      jwtauth_socache_spec(store));
    }
    if (ok) {
        apr_atomic_set32(&canary_seen, 1);
    }
    apr_atomic_set32(&canary_ok, ok);
    apr_atomic_set32(&canary_next, now + 1);
    apr_atomic_set32(&canary_busy, 0);
    return ok;
}

/* Look an entry up: APR_SUCCESS (found, val holds *vlen bytes),
 * APR_NOTFOUND (a miss the canary vouches for), or APR_EGENERAL (the
 * store cannot say). */
static apr_status_t store_get(request_rec *r, const unsigned char *key,
                              unsigned char *val, unsigned int *vlen)
{
    apr_status_t rv = jwtauth_socache_get(store, r->server, key,
                                          KEY_LEN, val, vlen,
                                          r->pool, NULL);

    if (rv == APR_SUCCESS) {
        return rv;
    }
    if (!APR_STATUS_IS_NOTFOUND(rv)) {
        store_failed();
        return APR_EGENERAL;
    }
    return store_trusted(r) ? APR_NOTFOUND : APR_EGENERAL;
}

/* Keep an entry until expiry (seconds): 1, or 0 when the store failed. */
static int store_put(request_rec *r, const unsigned char *key,
                     apr_int64_t expiry, const char *val)
{
    apr_status_t rv;

    if (!jwtauth_socache_usable(store)) {
        return 0;
    }
    rv = jwtauth_socache_put(store, r->server, key, KEY_LEN,
                             apr_time_from_sec(expiry),
                             (const unsigned char *)val,
                             (unsigned int)strlen(val), r->pool, NULL);
    if (rv != APR_SUCCESS) {
        store_failed();
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "JWTAuthSessionStore "
                      "%s: cannot store an entry",
                      jwtauth_socache_spec(store));
        return 0;
    }
    return 1;
}

/* Under JWTAuthSessionStoreFailure open: go on, with a warning at most
 * once a minute per process.  1 when open. */
static int fails_open(request_rec *r, const char *what)
{
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    apr_uint32_t last = apr_atomic_read32(&open_warned_at);

    if (!fail_open) {
        return 0;
    }
    if ((!last || now - last >= 60)
        && apr_atomic_cas32(&open_warned_at, now, last) == last) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "JWTAuthSessionStore "
                      "%s is unavailable: %s (JWTAuthSessionStoreFailure "
                      "open; logged at most once a minute)",
                      jwtauth_socache_spec(store), what);
    }
    return 1;
}

/* An integer claim: 1 and *out, or 0. */
static int claim_int(const jwt_t *jwt, const char *name, apr_int64_t *out)
{
    const jwt_member_t *m = jwt_claims_get(&jwt->claims, name);

    return m && jwt_member_int(&jwt->claims, m, out);
}

/* A string claim as it is, else NULL (absent or another type: a jti
 * of another type is no identifier we key on). */
static const char *claim_string(apr_pool_t *p, const jwt_t *jwt,
                                const char *name)
{
    const jwt_member_t *m = jwt_claims_get(&jwt->claims, name);

    return m && m->type == JWT_JSON_STRING
           ? jwt_member_text(p, &jwt->claims, m) : NULL;
}

/* Does a cutoff entry's value (decimal seconds) leave iat (has_iat: the
 * token has one) standing?  A value that does not read refuses. */
static int before_cutoff(const unsigned char *val, unsigned int vlen,
                         int has_iat, apr_int64_t iat)
{
    char buf[24], *end;
    apr_int64_t cutoff;

    if (vlen == 0 || vlen >= sizeof(buf)) {
        return 1;
    }
    memcpy(buf, val, vlen);
    buf[vlen] = '\0';
    cutoff = apr_strtoi64(buf, &end, 10);
    if (*end || !apr_isdigit(*buf)) {
        return 1;
    }
    /* a token without iat cannot show it came after: refused */
    return !has_iat || iat < cutoff;
}

/* What the revocation checks of one token look up: its two entry keys
 * and its iat.  Made from the claims on a token's first verification in
 * a process and kept with it in the process's cache (session_extra), so
 * that its later requests hash nothing (two SHA-256 a request were most
 * of what the checks cost). */
typedef struct {
    unsigned char jti[KEY_LEN];         /* when has_jti */
    unsigned char sub[KEY_LEN];         /* when has_sub */
    apr_int64_t iat;                    /* when has_iat */
    unsigned char has_jti, has_sub, has_iat;
} session_keys;

static void make_keys(apr_pool_t *p, const jwt_t *jwt, session_keys *k)
{
    const char *iss = claim_string(p, jwt, "iss"),
               *jti = claim_string(p, jwt, "jti"),
               *sub = claim_string(p, jwt, "sub");

    memset(k, 0, sizeof(*k));
    if ((k->has_jti = jti != NULL)) {
        entry_key(p, k->jti, TAG_JTI, iss, jti);
    }
    if ((k->has_sub = sub != NULL)) {
        entry_key(p, k->sub, TAG_SUB, iss, sub);
    }
    k->has_iat = (unsigned char)claim_int(jwt, "iat", &k->iat);
}

/* jwt_extra_fn: the keys, kept with the token in the process's cache */
static void session_extra(void *ctx, apr_pool_t *p, const jwt_t *jwt,
                          unsigned char *out)
{
    session_keys k;

    make_keys(p, jwt, &k);
    memcpy(out, &k, sizeof(k));
}

void jwtauth_session_cache_keys(jwt_pcache_t *pc)
{
    if (store) {
        jwt_pcache_extra(pc, sizeof(session_keys), session_extra, NULL);
    }
}

int jwtauth_session_refused(request_rec *r, jwtauth_result *res,
                            const unsigned char *kept)
{
    const char *why = NULL;
    unsigned char val[24];
    unsigned int vlen;
    session_keys own;
    const session_keys *k;
    int down = 0;
    apr_status_t rv;

    if (!store) {
        return 0;
    }
    /* the process's cache hands them over (in the pool, aligned) */
    if (kept) {
        k = (const session_keys *)kept;
    }
    else {
        make_keys(r->pool, res->jwt, &own);
        k = &own;
    }
    if (k->has_jti) {
        vlen = sizeof(val);
        rv = store_get(r, k->jti, val, &vlen);
        if (rv == APR_SUCCESS) {
            why = "its jti was revoked at logout or refresh";
        }
        down |= rv == APR_EGENERAL;
    }
    if (!why && k->has_sub) {
        vlen = sizeof(val);
        rv = store_get(r, k->sub, val, &vlen);
        if (rv == APR_SUCCESS
            && before_cutoff(val, vlen, k->has_iat, k->iat)) {
            why = k->has_iat ? "issued before its sub logged out everywhere"
                             : "no iat, and its sub logged out everywhere";
        }
        down |= rv == APR_EGENERAL;
    }
    if (why) {
        res->result = RESULT_INVALID;
        res->reason = "revoked";
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "JWTAuth: token refused "
                      "(revoked): %s (user %s)", why,
                      ap_escape_logitem(r->pool, res->user));
        return 1;
    }
    if (!down || fails_open(r, "tokens count as not revoked")) {
        return 0;
    }
    res->result = RESULT_UNAVAILABLE;
    res->reason = "store_unavailable";
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "JWTAuth: request refused "
                  "(store_unavailable): JWTAuthSessionStore %s cannot say "
                  "whether the token of user %s is revoked "
                  "(JWTAuthSessionStoreFailure closed)",
                  jwtauth_socache_spec(store),
                  ap_escape_logitem(r->pool, res->user));
    return 1;
}

/* A JSON refusal of a handler or hook: an admin's ErrorDocument for the
 * status wins (the status is returned, httpd sends it); a subrequest
 * gets the status only. */
static int json_refusal(request_rec *r, int status, const char *body)
{
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    if (r->main || ap_response_code_string(r, ap_index_of_response(status))) {
        return status;
    }
    r->status = status;
    ap_set_content_type(r, "application/json");
    ap_rputs(body, r);
    return DONE;
}

int jwtauth_session_unavailable(request_rec *r)
{
    apr_table_setn(r->err_headers_out, "Retry-After", RETRY_AFTER);
    return json_refusal(r, HTTP_SERVICE_UNAVAILABLE, MSG_UNAVAILABLE);
}

/* ---- JWTAuthLoginThrottle ---- */

/* A counter's entry: "<failures> <window start>". */
typedef struct {
    apr_int64_t failures;
    apr_int64_t start;
} counter;

/* The counter under key: 1 and *c when it is found and reads and its
 * window is still open at now; 0 for none; -1 when the store cannot
 * say. */
static int counter_get(request_rec *r, const unsigned char *key,
                       const jwtauth_dir_conf *conf, apr_int64_t now,
                       counter *c)
{
    unsigned char val[48];
    unsigned int vlen = sizeof(val) - 1;
    char *end;
    apr_status_t rv = store_get(r, key, val, &vlen);

    if (rv == APR_EGENERAL) {
        return -1;
    }
    if (rv != APR_SUCCESS) {
        return 0;
    }
    val[vlen] = '\0';
    c->failures = apr_strtoi64((char *)val, &end, 10);
    if (*end != ' ') {
        return 0;
    }
    c->start = apr_strtoi64(end + 1, &end, 10);
    return !*end && c->failures > 0 && c->start <= now
           && now < c->start + conf->throttle_seconds;
}

/* The key of a counter: the user name (addr 0) or the client address
 * (1), and the window: scopes with the same window share counters, one
 * with another window keeps its own. */
static void throttle_key(request_rec *r, const jwtauth_dir_conf *conf,
                         unsigned char key[KEY_LEN], int addr,
                         const char *user)
{
    entry_key(r->pool, key, addr ? TAG_ADDR : TAG_USER,
              addr ? r->useragent_ip : user,
              apr_itoa(r->pool, conf->throttle_seconds));
}

int jwtauth_throttle_check(request_rec *r, const jwtauth_dir_conf *conf,
                           const char *user)
{
    apr_int64_t now = apr_time_sec(apr_time_now());
    unsigned char key[KEY_LEN];
    counter c;
    int found, i, down = 0;

    if (conf->throttle_failures == UNSET || !store) {
        return OK;
    }
    for (i = 0; i < 2; i++) {
        int limit = i ? conf->throttle_addr_failures
                      : conf->throttle_failures;

        throttle_key(r, conf, key, i, user);
        found = counter_get(r, key, conf, now, &c);
        down |= found < 0;
        if (found > 0 && c.failures >= limit) {
            apr_int64_t wait = c.start + conf->throttle_seconds - now;

            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "JWTAuth login: "
                          "throttled: %" APR_INT64_T_FMT " failed logins "
                          "for %s %s within %d s (JWTAuthLoginThrottle); "
                          "the password is not checked", c.failures,
                          i ? "the address" : "the user name",
                          i ? r->useragent_ip : user,
                          conf->throttle_seconds);
            apr_table_setn(r->subprocess_env, JWTAUTH_ERROR_VAR, "throttled");
            jwtauth_metrics_login_throttled();
            r->user = NULL;
            apr_table_setn(r->err_headers_out, "Retry-After",
                           apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                                        wait > 0 ? wait : 1));
            ap_discard_request_body(r);
            return json_refusal(r, HTTP_TOO_MANY_REQUESTS, MSG_THROTTLED);
        }
    }
    if (!down || fails_open(r, "logins count as not throttled")) {
        return OK;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "JWTAuth login: refused "
                  "(store_unavailable): JWTAuthSessionStore %s cannot give "
                  "the failed-login counters (JWTAuthSessionStoreFailure "
                  "closed)", jwtauth_socache_spec(store));
    apr_table_setn(r->subprocess_env, JWTAUTH_ERROR_VAR, "store_unavailable");
    return jwtauth_session_unavailable(r);
}

void jwtauth_throttle_failed(request_rec *r, const jwtauth_dir_conf *conf,
                             const char *user)
{
    apr_int64_t now = apr_time_sec(apr_time_now());
    unsigned char key[KEY_LEN];
    counter c;
    int i;

    if (conf->throttle_failures == UNSET || !store) {
        return;
    }
    /* read, add one, write: without a compare-and-set in socache two
     * failures at the same moment may count as one */
    for (i = 0; i < 2; i++) {
        throttle_key(r, conf, key, i, user);
        if (counter_get(r, key, conf, now, &c) <= 0) {
            c.failures = 0;
            c.start = now;
        }
        store_put(r, key, c.start + conf->throttle_seconds,
                  apr_psprintf(r->pool, "%" APR_INT64_T_FMT " %"
                               APR_INT64_T_FMT, c.failures + 1, c.start));
    }
}

/* ---- jwtauth-logout, jwtauth-refresh ---- */

/* Set-Cookie for the scope's JWTAuthCookie: value with Max-Age (0 with
 * an empty value clears it), the attributes /login sets it with. */
static void set_cookie(request_rec *r, const jwtauth_dir_conf *conf,
                       const char *value, apr_int64_t max_age)
{
    if (!conf->cookie) {
        return;
    }
    apr_table_addn(r->err_headers_out, "Set-Cookie",
                   apr_psprintf(r->pool, "%s=%s; %s; Max-Age=%"
                                APR_INT64_T_FMT, conf->cookie, value,
                                conf->cookie_attrs ? conf->cookie_attrs
                                                   : DEFAULT_COOKIE_ATTRS,
                                max_age));
}

/* What a logout asks for, from its body: all (logout everywhere) and a
 * form's return_to (*form set for a form).  OK or a status. */
static int logout_body(request_rec *r, int *all, const char **return_to,
                       int *form)
{
    const char *ctype = apr_table_get(r->headers_in, "Content-Type");
    const char *body, *v = NULL;
    apr_size_t len;
    int rc, n;

    *all = 0;
    *return_to = NULL;
    *form = 0;
    if ((rc = jwtauth_read_body(r, &body, &len)) != OK) {
        return rc;
    }
    *form = ctype && !strncasecmp(ctype, "application/x-www-form-urlencoded",
                                  33);
    if (!len) {
        return OK;
    }
    if (*form) {
        /* a field twice, one that does not decode, a NUL byte: 400 */
        if (strlen(body) != len
            || (n = jwtauth_form_field(r->pool, body, len, "all", &v)) < 0
            || (n && strcmp(v, "1") && strcmp(v, "0"))
            || jwtauth_form_field(r->pool, body, len, "return_to",
                                  return_to) < 0) {
            return HTTP_BAD_REQUEST;
        }
        *all = n && !strcmp(v, "1");
        return OK;
    }
    if (ctype && !strncasecmp(ctype, "application/json", 16)) {
        json_error_t jerr;
        json_t *j = jwt_json_pool(r->pool, json_loadb(body, len,
                                                      JSON_REJECT_DUPLICATES,
                                                      &jerr));
        json_t *a = j ? json_object_get(j, "all") : NULL;

        if (!j || !json_is_object(j) || (a && !json_is_boolean(a))) {
            return HTTP_BAD_REQUEST;
        }
        *all = a && json_is_true(a);
        return OK;
    }
    return HTTP_UNSUPPORTED_MEDIA_TYPE;
}

/* A bad request to a session handler: its status with the JSON body
 * (415 and 413 as httpd names them, in the same shape). */
static int handler_refusal(request_rec *r, int status)
{
    return json_refusal(r, status, status == HTTP_BAD_REQUEST
                        ? MSG_BAD_REQUEST
                        : apr_psprintf(r->pool, "{\"message\": \"%s\"}",
                                       ap_get_status_line(status) + 4));
}

/* The token of a logout or refresh that cannot go on: 401 (missing or
 * invalid, with the Bearer challenge), 403 (cross-site), 503 (the store
 * cannot say), each with the JSON body; logout clears the cookie too
 * except for a cross-site request. */
static int token_refusal(request_rec *r, const jwtauth_dir_conf *conf,
                         const jwtauth_result *res, int clear)
{
    apr_table_setn(r->subprocess_env, JWTAUTH_ERROR_VAR, res->reason);
    if (res->result == RESULT_CSRF) {
        return json_refusal(r, HTTP_FORBIDDEN, MSG_CSRF);
    }
    if (clear) {
        set_cookie(r, conf, "", 0);
    }
    if (res->result == RESULT_UNAVAILABLE) {
        return jwtauth_session_unavailable(r);
    }
    if (res->result == RESULT_NO_KEYS) {
        apr_table_setn(r->err_headers_out, "Retry-After",
                       apr_itoa(r->pool, jwtauth_keys_retry_after(
                                             &conf->policy)));
        return json_refusal(r, HTTP_SERVICE_UNAVAILABLE,
                            MSG_KEYS_UNAVAILABLE);
    }
    if (res->result == RESULT_BAD_REQUEST) {
        return json_refusal(r, HTTP_BAD_REQUEST, MSG_BAD_REQUEST);
    }
    apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                   apr_pstrcat(r->pool, "Bearer realm=\"",
                               ap_escape_quotes(r->pool, ap_auth_name(r)
                                                ? ap_auth_name(r)
                                                : "jwtauth"), "\"",
                               res->result == RESULT_INVALID
                               ? ", error=\"invalid_token\"" : "",
                               jwtauth_challenge_resource(r), NULL));
    return json_refusal(r, HTTP_UNAUTHORIZED,
                        res->result == RESULT_INVALID ? MSG_INVALID
                                                      : MSG_MISSING);
}

/* The latest moment a token of this sub issued before now may still be
 * accepted (its exp, plus the leeway): what a cutoff must outlive. */
static apr_int64_t cutoff_expiry(const jwtauth_dir_conf *conf,
                                 apr_int64_t now, apr_int64_t exp)
{
    apr_int64_t until = now + jwtauth_conf_lifetime(conf);

    return (exp > until ? exp : until) + conf->policy.leeway + 1;
}

/* Revoke the token of res: its jti until its exp (plus the leeway),
 * and with all the cutoff of its sub.  1, or 0 when the store failed. */
static int revoke_token(request_rec *r, const jwtauth_dir_conf *conf,
                  const jwtauth_result *res, int all, apr_int64_t now)
{
    const char *iss = claim_string(r->pool, res->jwt, "iss");
    const char *jti = claim_string(r->pool, res->jwt, "jti");
    const char *sub = claim_string(r->pool, res->jwt, "sub");
    unsigned char key[KEY_LEN];
    apr_int64_t exp = now;
    int ok = 1;

    claim_int(res->jwt, "exp", &exp);
    if (jti) {
        entry_key(r->pool, key, TAG_JTI, iss, jti);
        ok = store_put(r, key, exp + conf->policy.leeway + 1, "1");
    }
    else if (!all) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "JWTAuth: the token of "
                      "user %s has no jti: it stays valid until its exp "
                      "(only all=1 ends a token without jti)",
                      ap_escape_logitem(r->pool, res->user));
    }
    if (ok && all && sub) {
        entry_key(r->pool, key, TAG_SUB, iss, sub);
        ok = store_put(r, key, cutoff_expiry(conf, now, exp),
                       apr_psprintf(r->pool, "%" APR_INT64_T_FMT, now));
    }
    return ok;
}

/* The method, the scope and the token of a session handler: OK and
 * *res valid, or the status that answered. */
static int session_request(request_rec *r, const char *handler,
                           const jwtauth_dir_conf **conf,
                           const jwtauth_result **res)
{
    if (!r->handler || strcmp(r->handler, handler)) {
        return DECLINED;
    }
    ap_allow_methods(r, REPLACE_ALLOW, "POST", NULL);
    if (r->method_number != M_POST) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    *conf = ap_get_module_config(r->per_dir_config, &jwtauth_module);
    *res = jwtauth_token_result(r, *conf);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    return OK;
}

/* SetHandler jwtauth-logout: POST with the token (header, Bearer or
 * cookie): its jti revoked until its exp (all: every token of its sub
 * issued before now), the cookie cleared, 200 {"message": "Logged out"},
 * or 303 to a local return_to for a form that asks for HTML (also when
 * its token is missing or invalid: a browser is logged out then). */
int jwtauth_logout_handler(request_rec *r)
{
    const jwtauth_dir_conf *conf;
    const jwtauth_result *res;
    const char *return_to;
    apr_int64_t now = apr_time_sec(apr_time_now());
    int rc, all, form, browser;

    if ((rc = session_request(r, "jwtauth-logout", &conf, &res)) != OK) {
        return rc;
    }
    if ((rc = logout_body(r, &all, &return_to, &form)) != OK) {
        return handler_refusal(r, rc);
    }
    browser = form && (return_to || jwtauth_prefers_html(r));
    if (browser && (res->result == RESULT_MISSING
                    || res->result == RESULT_INVALID)) {
        /* a browser whose token has gone already: nothing to revoke,
         * and the page it asked for comes next, the cookie cleared */
        apr_table_setn(r->subprocess_env, JWTAUTH_ERROR_VAR, res->reason);
        set_cookie(r, conf, "", 0);
        apr_table_setn(r->headers_out, "Location",
                       jwtauth_local_return_to(r->pool, return_to));
        return HTTP_SEE_OTHER;
    }
    if (res->result != RESULT_VALID) {
        return token_refusal(r, conf, res, 1);
    }
    set_cookie(r, conf, "", 0);
    if (store && !revoke_token(r, conf, res, all, now)) {
        if (!fails_open(r, "a logout was not recorded")) {
            apr_table_setn(r->subprocess_env, JWTAUTH_ERROR_VAR,
                           "store_unavailable");
            return jwtauth_session_unavailable(r);
        }
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "JWTAuth: user %s logged "
                  "out%s%s", ap_escape_logitem(r->pool, res->user),
                  all ? " everywhere" : "",
                  store ? "" : " (no JWTAuthSessionStore: the cookie is "
                               "cleared, the token stays valid)");
    if (browser) {
        apr_table_setn(r->headers_out, "Location",
                       jwtauth_local_return_to(r->pool, return_to));
        return HTTP_SEE_OTHER;
    }
    ap_set_content_type(r, "application/json");
    ap_rputs(MSG_LOGGED_OUT, r);
    return OK;
}

/* The claims of a refreshed token: those of the old one but iat, exp,
 * nbf and jti, then new ones; exp no later than the session's end.  NULL
 * when memory is short. */
static json_t *refresh_claims(request_rec *r, const jwtauth_dir_conf *conf,
                              const jwt_t *old, apr_int64_t now,
                              apr_int64_t end, apr_int64_t *exp)
{
    json_t *claims = jwt_json_pool(r->pool, json_object());
    unsigned char rnd[16];
    int i;

    if (!claims || apr_generate_random_bytes(rnd, sizeof(rnd))) {
        return NULL;
    }
    for (i = 0; i < old->claims.n; i++) {
        const jwt_member_t *m = &old->claims.m[i];
        const char *name = apr_pstrmemdup(r->pool,
                                          old->claims.base + m->name,
                                          m->name_len);
        json_t *v;

        if (!strcmp(name, "iat") || !strcmp(name, "exp")
            || !strcmp(name, "nbf") || !strcmp(name, "jti")) {
            continue;
        }
        if (!(v = jwt_member_json(r->pool, &old->claims, m))
            || json_object_set(claims, name, v)) {
            return NULL;
        }
    }
    *exp = now + jwtauth_conf_lifetime(conf);
    if (*exp > end) {
        *exp = end;
    }
    if (json_object_set_new(claims, "iat", json_integer(now))
        || json_object_set_new(claims, "exp", json_integer(*exp))
        || json_object_set_new(claims, "jti", json_string(
               jwt_b64url_encode(r->pool, rnd, sizeof(rnd))))) {
        return NULL;
    }
    return claims;
}

/* Refresh only what /login here issues: a token of another issuer the
 * scope accepts (an identity provider's) is not ours to extend.  NULL
 * when its iss is the one /login issues (the first JWTAuthIssuer, or
 * none without one), else why not. */
static const char *not_ours(request_rec *r, const jwtauth_dir_conf *conf,
                            const jwt_t *jwt)
{
    const char *want = conf->issuers ? APR_ARRAY_IDX(conf->issuers, 0,
                                                     const char *) : NULL;
    const char *iss = claim_string(r->pool, jwt, "iss");

    if (!jwt_claims_get(&jwt->claims, "iss") ? !want
        : iss && want && !strcmp(iss, want)) {
        return NULL;
    }
    return want ? apr_psprintf(r->pool, "has another iss than %s, the one "
                               "/login issues", want)
                : "has an iss, and /login here issues none";
}

/* A valid token that refresh refuses: 401 as an invalid one, with its
 * reason code (counted; its token check counted as accepted) and why. */
static int refresh_refused(request_rec *r, const jwtauth_dir_conf *conf,
                           const jwtauth_result *res, const char *reason,
                           const char *why)
{
    jwtauth_result refused = *res;

    refused.result = RESULT_INVALID;
    refused.reason = reason;
    jwtauth_metrics_request(reason);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "JWTAuth refresh: refused "
                  "(%s): the token of user %s %s", reason,
                  ap_escape_logitem(r->pool, res->user), why);
    return token_refusal(r, conf, &refused, 0);
}

/* SetHandler jwtauth-refresh: POST with a valid, unrevoked token: a new
 * one for the same login (sub, login claims, auth_time), while
 * auth_time + JWTAuthSessionLifetime has not passed; with a store the
 * presented token is revoked. */
int jwtauth_refresh_handler(request_rec *r)
{
    const jwtauth_dir_conf *conf;
    const jwtauth_result *res;
    const char *token, *why;
    apr_int64_t now = apr_time_sec(apr_time_now()), auth_time, end, exp;
    json_t *claims;
    int rc;

    if ((rc = session_request(r, "jwtauth-refresh", &conf, &res)) != OK) {
        return rc;
    }
    if ((rc = ap_discard_request_body(r)) != OK) {
        return rc;
    }
    if (res->result != RESULT_VALID) {
        return token_refusal(r, conf, res, 0);
    }
    if ((why = not_ours(r, conf, res->jwt))) {
        return refresh_refused(r, conf, res, "issuer", why);
    }
    if (!claim_int(res->jwt, "auth_time", &auth_time)
        || (end = auth_time + jwtauth_conf_session_lifetime(conf)) <= now) {
        return refresh_refused(r, conf, res, "session_expired",
                               claim_int(res->jwt, "auth_time", &auth_time)
                               ? "is past auth_time + JWTAuthSessionLifetime"
                               : "has no auth_time");
    }
    if (!(claims = refresh_claims(r, conf, res->jwt, now, end, &exp))
        || !jwtauth_sign_claims(&token, r, conf, claims)) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* each token refreshes once (two refreshes at the same moment may
     * both pass: socache has no compare-and-set) */
    if (store && !revoke_token(r, conf, res, 0, now)
        && !fails_open(r, "a refreshed token was not revoked")) {
        apr_table_setn(r->subprocess_env, JWTAUTH_ERROR_VAR,
                       "store_unavailable");
        return jwtauth_session_unavailable(r);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "JWTAuth: refreshed the "
                  "token of user %s", ap_escape_logitem(r->pool, res->user));
    set_cookie(r, conf, token, exp - now);
    apr_table_setn(r->headers_out, "Pragma", "no-cache");
    ap_set_content_type(r, "application/json");
    ap_rprintf(r, "{\"token\": \"%s\", \"token_type\": \"Bearer\", "
               "\"expires_in\": %" APR_INT64_T_FMT "}", token, exp - now);
    return OK;
}
