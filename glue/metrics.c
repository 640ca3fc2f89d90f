/*
 * metrics.c: SetHandler jwtauth-metrics, the module's counters in the
 * Prometheus text exposition format (version 0.0.4), and the same
 * figures as a section of mod_status's page.
 *
 * Each process counts into a slot of its own in anonymous shared memory
 * (made in post_config, inherited by every child) with one atomic
 * increment, no lock; a scrape sums the slots.  A child that finds no
 * free slot takes over one of a dead child, counts and all, so that the
 * sums never go down while the server runs.  A restart makes a new
 * segment: the counters start again at zero, as Prometheus expects.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "apr_atomic.h"
#include "apr_shm.h"
#include "apr_strings.h"

#include "ap_mpm.h"
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_status.h"

#include "glue.h"

/* The counters.  The request outcomes are "accepted" and every reason
 * code of validate() and token_phase() (README, "Reason codes"). */
enum {
    C_REQ_ACCEPTED,
    C_REQ_MISSING,
    C_REQ_MALFORMED,
    C_REQ_ALG,
    C_REQ_HEADER,
    C_REQ_KEY,
    C_REQ_SIGNATURE,
    C_REQ_EXPIRED,
    C_REQ_NOT_YET_VALID,
    C_REQ_CLAIM,
    C_REQ_ISSUER,
    C_REQ_AUDIENCE,
    C_REQ_USER,
    C_REQ_KEYS_UNAVAILABLE,
    C_REQ_INTERNAL,
    C_REQ_INVALID_REQUEST,
    C_REQ_SCOPE,
    C_REQ_CSRF,
    C_REQ_REVOKED,
    C_REQ_STORE_UNAVAILABLE,
    C_REQ_SESSION_EXPIRED,
    C_CACHE_THREAD_HIT,
    C_CACHE_THREAD_MISS,
    C_CACHE_SHARED_HIT,
    C_CACHE_SHARED_MISS,
    C_LOGIN_SUCCESS,
    C_LOGIN_FAILURE,
    C_LOGIN_THROTTLED,
    C_FETCH_OK,
    C_FETCH_UNCHANGED,
    C_FETCH_ERROR,
    COUNTERS
};

/* The metric families, each with its HELP text. */
static const struct {
    const char *name;
    const char *help;
} families[] = {
    { "jwtauth_requests_total",
      "Requests whose token was checked, by outcome: accepted, or the "
      "reason code of the refusal" },
    { "jwtauth_cache_lookups_total",
      "Validated-token cache lookups, by tier and result" },
    { "jwtauth_logins_total",
      "Logins at jwtauth-login, by result" },
    { "jwtauth_key_fetches_total",
      "Fetches of remote JWK Sets (JWTAuthKeysURL, JWTAuthDiscovery), by "
      "result: a new set, the same keys again, or a failure" },
};

/* Each counter: its family, its labels in the exposition format, its
 * name in mod_status's ?auto lines, and for a request outcome the reason
 * code that selects it. */
static const struct {
    int family;
    const char *labels;
    const char *key;
    const char *reason;
} counters[COUNTERS] = {
    [C_REQ_ACCEPTED] = { 0, "result=\"accepted\"", "requests_accepted",
                         NULL },
#define REQ(C, code) [C] = { 0, "result=\"" code "\"", "requests_" code, code }
    REQ(C_REQ_MISSING, "missing"),
    REQ(C_REQ_MALFORMED, "malformed"),
    REQ(C_REQ_ALG, "alg"),
    REQ(C_REQ_HEADER, "header"),
    REQ(C_REQ_KEY, "key"),
    REQ(C_REQ_SIGNATURE, "signature"),
    REQ(C_REQ_EXPIRED, "expired"),
    REQ(C_REQ_NOT_YET_VALID, "not_yet_valid"),
    REQ(C_REQ_CLAIM, "claim"),
    REQ(C_REQ_ISSUER, "issuer"),
    REQ(C_REQ_AUDIENCE, "audience"),
    REQ(C_REQ_USER, "user"),
    REQ(C_REQ_KEYS_UNAVAILABLE, "keys_unavailable"),
    REQ(C_REQ_INTERNAL, "internal"),
    REQ(C_REQ_INVALID_REQUEST, "invalid_request"),
    REQ(C_REQ_SCOPE, "scope"),
    REQ(C_REQ_CSRF, "csrf"),
    REQ(C_REQ_REVOKED, "revoked"),
    REQ(C_REQ_STORE_UNAVAILABLE, "store_unavailable"),
    REQ(C_REQ_SESSION_EXPIRED, "session_expired"),
#undef REQ
    [C_CACHE_THREAD_HIT] = { 1, "tier=\"thread\",result=\"hit\"",
                             "cache_thread_hits", NULL },
    [C_CACHE_THREAD_MISS] = { 1, "tier=\"thread\",result=\"miss\"",
                              "cache_thread_misses", NULL },
    [C_CACHE_SHARED_HIT] = { 1, "tier=\"shared\",result=\"hit\"",
                             "cache_shared_hits", NULL },
    [C_CACHE_SHARED_MISS] = { 1, "tier=\"shared\",result=\"miss\"",
                              "cache_shared_misses", NULL },
    [C_LOGIN_SUCCESS] = { 2, "result=\"success\"", "logins_success", NULL },
    [C_LOGIN_FAILURE] = { 2, "result=\"failure\"", "logins_failure", NULL },
    [C_LOGIN_THROTTLED] = { 2, "result=\"throttled\"", "logins_throttled",
                            NULL },
    [C_FETCH_OK] = { 3, "result=\"ok\"", "key_fetches_ok", NULL },
    [C_FETCH_UNCHANGED] = { 3, "result=\"unchanged\"",
                            "key_fetches_unchanged", NULL },
    [C_FETCH_ERROR] = { 3, "result=\"error\"", "key_fetches_error", NULL },
};

/* One process's counters, on cache lines of their own (SLOT_SIZE) so
 * that two processes never write the same line. */
typedef struct {
    volatile apr_uint32_t owner;        /* pid, 0 when free */
    volatile apr_uint64_t count[COUNTERS];
} metrics_slot;

#define SLOT_SIZE APR_ALIGN(sizeof(metrics_slot), 64)

static char *slots;                     /* the segment of this generation */
static int nslots;
static metrics_slot *mine;              /* NULL: this process counts nothing */

static metrics_slot *slot_at(int i)
{
    return (metrics_slot *)(slots + (apr_size_t)i * SLOT_SIZE);
}

static void count(int c)
{
    if (mine) {
        apr_atomic_inc64(&mine->count[c]);
    }
}

void jwtauth_metrics_request(const char *reason)
{
    int c;

    if (!reason) {
        count(C_REQ_ACCEPTED);
        return;
    }
    for (c = C_REQ_MISSING; c <= C_REQ_SESSION_EXPIRED; c++) {
        if (counters[c].reason && !strcmp(reason, counters[c].reason)) {
            count(c);
            return;
        }
    }
    /* a code this table lacks is a bug; still counted as a refusal */
    count(C_REQ_INTERNAL);
}

void jwtauth_metrics_cache(int thread_tier, int shared_tier, size_t len,
                           int hit)
{
    /* jwt_verify_cached looks nothing up for longer tokens */
    if (len > JWT_CACHE_MAX_TOKEN) {
        return;
    }
    if (thread_tier) {
        count(hit == JWT_CACHE_THREAD ? C_CACHE_THREAD_HIT
                                      : C_CACHE_THREAD_MISS);
    }
    /* a thread miss goes on to the shared tier */
    if (shared_tier && hit != JWT_CACHE_THREAD) {
        count(hit == JWT_CACHE_SHARED ? C_CACHE_SHARED_HIT
                                      : C_CACHE_SHARED_MISS);
    }
}

void jwtauth_metrics_login(int success)
{
    count(success ? C_LOGIN_SUCCESS : C_LOGIN_FAILURE);
}

void jwtauth_metrics_login_throttled(void)
{
    count(C_LOGIN_THROTTLED);
}

void jwtauth_metrics_fetch(int result)
{
    count(result == JWTAUTH_FETCH_OK ? C_FETCH_OK
          : result == JWTAUTH_FETCH_UNCHANGED ? C_FETCH_UNCHANGED
          : C_FETCH_ERROR);
}

static apr_status_t slots_reset(void *data)
{
    slots = NULL;
    nslots = 0;
    mine = NULL;
    return APR_SUCCESS;
}

/* The parent makes the segment of this generation: two slots per process
 * the MPM can run, at least 16. */
int jwtauth_metrics_post_config(apr_pool_t *pconf, server_rec *s)
{
    apr_shm_t *shm;
    apr_status_t rv;
    int limit = 0;

    /* the first reading of the configuration only checks it */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    slots_reset(NULL);
    if (ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &limit) != APR_SUCCESS) {
        limit = 0;
    }
    nslots = limit * 2 < 16 ? 16 : limit * 2;
    rv = apr_shm_create(&shm, (apr_size_t)nslots * SLOT_SIZE, NULL, pconf);
    if (rv != APR_SUCCESS) {
        nslots = 0;
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, "JWTAuth: no shared "
                     "memory for the metrics: jwtauth-metrics counts "
                     "nothing");
        return OK;
    }
    slots = apr_shm_baseaddr_get(shm);
    memset(slots, 0, (apr_size_t)nslots * SLOT_SIZE);
    apr_pool_cleanup_register(pconf, NULL, slots_reset,
                              apr_pool_cleanup_null);
    return OK;
}

/* A child (or the one process of httpd -X) claims a free slot, else the
 * slot of a dead process with its counts. */
void jwtauth_metrics_child_init(apr_pool_t *p, server_rec *s)
{
    apr_uint32_t pid = (apr_uint32_t)getpid(), owner;
    int i;

    mine = NULL;
    if (!slots) {
        return;
    }
    for (i = 0; i < nslots; i++) {
        owner = apr_atomic_cas32(&slot_at(i)->owner, pid, 0);
        if (owner == 0 || owner == pid) {
            mine = slot_at(i);
            return;
        }
    }
    for (i = 0; i < nslots; i++) {
        owner = apr_atomic_read32(&slot_at(i)->owner);
        if (owner && kill((pid_t)owner, 0) == -1 && errno == ESRCH
            && apr_atomic_cas32(&slot_at(i)->owner, pid, owner) == owner) {
            mine = slot_at(i);
            return;
        }
    }
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "JWTAuth: all %d metrics "
                 "slots are held by live processes: process %" APR_PID_T_FMT
                 " counts nothing", nslots, (pid_t)pid);
}

/* The sum of counter c over every slot. */
static apr_uint64_t total(int c)
{
    apr_uint64_t sum = 0;
    int i;

    for (i = 0; i < nslots; i++) {
        sum += apr_atomic_read64(&slot_at(i)->count[c]);
    }
    return sum;
}

/* A label value in the exposition format: \, " and newline escaped. */
static const char *label_escape(apr_pool_t *p, const char *v)
{
    char *out = apr_palloc(p, 2 * strlen(v) + 1), *o = out;

    for (; *v; v++) {
        if (*v == '\\' || *v == '"') {
            *o++ = '\\';
            *o++ = *v;
        }
        else if (*v == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        }
        else {
            *o++ = *v;
        }
    }
    *o = '\0';
    return out;
}

/* SetHandler jwtauth-metrics: every counter (zeros too) and the keys
 * gauge, each family with its HELP and TYPE lines. */
int jwtauth_metrics_handler(request_rec *r)
{
    const apr_array_header_t *key_sources;
    int f, c, i;

    if (!r->handler || strcmp(r->handler, "jwtauth-metrics")) {
        return DECLINED;
    }
    ap_allow_methods(r, REPLACE_ALLOW, "GET", NULL);
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    ap_discard_request_body(r);
    ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (r->header_only) {
        return OK;
    }
    for (f = 0; f < (int)(sizeof(families) / sizeof(families[0])); f++) {
        ap_rprintf(r, "# HELP %s %s\n# TYPE %s counter\n", families[f].name,
                   families[f].help, families[f].name);
        for (c = 0; c < COUNTERS; c++) {
            if (counters[c].family == f) {
                ap_rprintf(r, "%s{%s} %" APR_UINT64_T_FMT "\n",
                           families[f].name, counters[c].labels, total(c));
            }
        }
    }
    ap_rputs("# HELP jwtauth_keys Keys loaded from each key file at "
             "startup, and held now from each remote JWK Set (its URL)\n"
             "# TYPE jwtauth_keys gauge\n", r);
    key_sources = jwtauth_key_sources();
    if (key_sources) {
        key_sources = apr_array_append(r->pool, key_sources,
                                       jwtauth_keys_remote_counts(r->pool));
    }
    else {
        key_sources = jwtauth_keys_remote_counts(r->pool);
    }
    for (i = 0; key_sources && i < key_sources->nelts; i++) {
        const jwtauth_key_source *ks = &APR_ARRAY_IDX(key_sources, i,
                                                      jwtauth_key_source);

        ap_rprintf(r, "jwtauth_keys{source=\"%s\"} %d\n",
                   label_escape(r->pool, ks->source), ks->n);
    }
    return OK;
}

/* mod_status's hook: a table on the page, "jwtauth_<name>: <value>"
 * lines in its ?auto form. */
int jwtauth_metrics_status(request_rec *r, int flags)
{
    const apr_array_header_t *key_sources = jwtauth_key_sources();
    int c, i, keys = 0;

    for (i = 0; key_sources && i < key_sources->nelts; i++) {
        keys += APR_ARRAY_IDX(key_sources, i, jwtauth_key_source).n;
    }
    if (flags & AP_STATUS_SHORT) {
        for (c = 0; c < COUNTERS; c++) {
            ap_rprintf(r, "jwtauth_%s: %" APR_UINT64_T_FMT "\n",
                       counters[c].key, total(c));
        }
        ap_rprintf(r, "jwtauth_keys: %d\n", keys);
        return OK;
    }
    ap_rputs("<hr />\n<h2>mod_jwtauth</h2>\n<table border=\"1\">\n"
             "<tr><th>metric</th><th>labels</th><th>value</th></tr>\n", r);
    for (c = 0; c < COUNTERS; c++) {
        ap_rprintf(r, "<tr><td>%s</td><td>%s</td><td>%" APR_UINT64_T_FMT
                   "</td></tr>\n", families[counters[c].family].name,
                   ap_escape_html(r->pool, counters[c].labels), total(c));
    }
    for (i = 0; key_sources && i < key_sources->nelts; i++) {
        const jwtauth_key_source *ks = &APR_ARRAY_IDX(key_sources, i,
                                                      jwtauth_key_source);

        ap_rprintf(r, "<tr><td>jwtauth_keys</td><td>source=%s</td>"
                   "<td>%d</td></tr>\n",
                   ap_escape_html(r->pool, ks->source), ks->n);
    }
    ap_rputs("</table>\n", r);
    return OK;
}
