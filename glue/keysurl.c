/*
 * keysurl.c: JWK Sets from identity providers.  JWTAuthKeysURL and
 * JWTAuthDiscovery name remote sources; each URL is one source for the
 * whole server (a registry made while the configuration is read), shared
 * by every scope and virtual host that names it, with one ring (jose/
 * keyset.h) per process that requests read without a lock.
 *
 * One fetcher for the whole server: a callback of a singleton mod_watchdog
 * instance, so it runs in one child at a time (as mod_md's renewals and
 * mod_proxy_hcheck's checks).  It fetches each source with libcurl when
 * due (JWTAuthKeysRefresh; early, at most once per 10 s, when a token
 * named a kid no key has), and writes a good document to the store
 * (JWTAuthKeysStore: temp file and rename) and bumps the source's version
 * in a small anonymous shared memory segment.  Every child's own,
 * non-singleton watchdog callback looks at the versions each second, and
 * on a change reads the store document, parses it once and publishes it
 * into its ring; the ring frees the old set when its last reader leaves.
 * Nothing of this runs on a request's path.
 *
 * A failed fetch (any kind) leaves the last good set serving until
 * JWTAuthKeysMaxStale after the last good fetch, retried with backoff and
 * logged once per failure streak; then the rings are emptied and the
 * scopes that have no other key answer 503 (access.c).
 *
 * At startup (post_config of the real start: apachectl -t never comes
 * here) each source is read from the store; those with nothing there are
 * fetched once, all of them within one timeout (the longest of theirs):
 * a source whose turn comes after that is left to the fetcher.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/types.h>

#include "apr_atomic.h"
#include "apr_file_io.h"
#include "apr_lib.h"
#include "apr_optional.h"
#include "apr_shm.h"
#include "apr_strings.h"
#include "apr_uri.h"

#include "ap_config.h"
#include "ap_mpm.h"
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "mod_watchdog.h"
#include "unixd.h"

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "glue.h"

#define KEYS_REFRESH      300
#define KEYS_MAX_STALE    86400
#define KEYS_TIMEOUT      10
#define KEYS_STORE        "jwtauth-keys"
#define MAX_DOCUMENT         (1024 * 1024)
#define REFETCH_INTERVAL     apr_time_from_sec(10)
#define FIRST_BACKOFF        5
#define MAX_SKIP_LINES       16
#define FETCH_WATCHDOG       "jwtauth-keys-fetch"
#define POLL_WATCHDOG        "jwtauth-keys-poll"

/* A source's state shared by all processes of one generation: the
 * fetcher writes it, every child reads it. */
typedef struct {
    volatile apr_uint32_t version;      /* +1 per new document stored */
    volatile apr_uint32_t refetch;      /* a request asks for a fetch */
    volatile apr_uint32_t failures;     /* of the current streak */
    volatile apr_uint32_t stale_logged; /* emptied, said once */
    volatile apr_uint64_t last_ok;      /* apr_time_t of the last good
                                         * fetch (the store's mtime); 0 */
    volatile apr_uint64_t last_try;     /* of the last attempt */
    volatile apr_uint64_t next_try;     /* when the next one is due */
    unsigned char digest[32];           /* of the stored set */
    volatile apr_uint32_t have;         /* digest is set */
} keys_slot;

#define SLOT_SIZE APR_ALIGN(sizeof(keys_slot), 64)

/* Where a source was named, for its settings. */
typedef struct {
    jwtauth_dir_conf *conf;             /* the record holding the line */
    server_rec *s;                      /* its server */
    const char *file;
    int line;
} keys_naming;

/* One remote source of the whole server. */
typedef struct {
    const char *id;                     /* what makes it this source */
    const char *url;                    /* the JWK Set or metadata URL */
    const char *issuer;                 /* JWTAuthDiscovery: the issuer
                                         * its metadata must name; NULL */
    jwt_keyring_t *ring;                /* this process's current set */
    apr_array_header_t *namings;        /* keys_naming */
    /* resolved at check_config from the first naming */
    apr_interval_time_t refresh, max_stale, timeout;
    const char *ca;
    const char *store_path;             /* post_config */
    int slot;
    /* this process (its poller) */
    apr_uint32_t seen;                  /* the version it holds */
    int emptied;                        /* emptied as stale */
} keys_source;

/* The registry of this reading of the configuration (in pconf). */
static apr_array_header_t *sources;     /* keys_source * */
static const char *store_dir;           /* JWTAuthKeysStore */
static char *slots;                     /* the shared segment */
/* +1 at every publish that changes what a ring holds in this process:
 * folded into the validated-token cache's generation */
static volatile apr_uint32_t keys_epoch;
static int curl_ready;

static keys_slot *slot_of(const keys_source *src)
{
    return (keys_slot *)(slots + (apr_size_t)src->slot * SLOT_SIZE);
}

static apr_status_t registry_reset(void *data)
{
    sources = NULL;
    store_dir = NULL;
    slots = NULL;
    return APR_SUCCESS;
}

/* ---------------------------------------------------------------- */
/* configuration                                                    */

/* Is host a loopback name or address (localhost, 127.0.0.0/8, ::1)? */
static int loopback(const char *host)
{
    return !strcasecmp(host, "localhost") || !strcmp(host, "::1")
           || (!strncmp(host, "127.", 4)
               && strspn(host, "0123456789.") == strlen(host));
}

/* An absolute https URL, or http to a loopback host, with no userinfo
 * and no fragment: NULL, else why not.  *plain tells http. */
static const char *remote_url_refused(apr_pool_t *p, const char *url,
                                      int *plain)
{
    apr_uri_t uri;
    const char *s;

    for (s = url; *s; s++) {
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e) {
            return "holds a blank, a control character or a non-ASCII "
                   "byte (percent-encode it)";
        }
    }
    if (apr_uri_parse(p, url, &uri) != APR_SUCCESS || !uri.scheme
        || !uri.hostname || !*uri.hostname
        || strncmp(url + strlen(uri.scheme), "://", 3)
        || (strcasecmp(uri.scheme, "https")
            && (strcasecmp(uri.scheme, "http") || !loopback(uri.hostname)))) {
        return "is not an absolute https URL (http only for localhost, "
               "127.0.0.0/8 and [::1])";
    }
    if (uri.user || uri.password || strchr(url, '#')) {
        return "has userinfo or a fragment";
    }
    *plain = !strcasecmp(uri.scheme, "http");
    return NULL;
}

/* The source of id, made on its first naming; the line is noted. */
static keys_source *source_for(cmd_parms *cmd, void *dconf, const char *id,
                               const char *url, const char *issuer)
{
    keys_source *src = NULL;
    keys_naming *n;
    int i;

    if (!sources) {
        sources = apr_array_make(cmd->pool, 4, sizeof(keys_source *));
        apr_pool_cleanup_register(cmd->pool, NULL, registry_reset,
                                  apr_pool_cleanup_null);
    }
    for (i = 0; i < sources->nelts && !src; i++) {
        keys_source *s = APR_ARRAY_IDX(sources, i, keys_source *);

        if (!strcmp(s->id, id)) {
            src = s;
        }
    }
    if (!src) {
        src = apr_pcalloc(cmd->pool, sizeof(*src));
        src->id = id;
        src->url = url;
        src->issuer = issuer;
        src->ring = jwt_keyring_create(cmd->pool);
        src->namings = apr_array_make(cmd->pool, 2, sizeof(keys_naming));
        src->slot = sources->nelts;
        APR_ARRAY_PUSH(sources, keys_source *) = src;
    }
    n = apr_array_push(src->namings);
    n->conf = dconf;
    n->s = cmd->server;
    n->file = cmd->directive ? cmd->directive->filename : "?";
    n->line = cmd->directive ? cmd->directive->line_num : 0;
    return src;
}

/* Append a source to the record's list (a record's own lines add up; a
 * section's list replaces the inherited one in merge). */
static void add_source(cmd_parms *cmd, jwtauth_dir_conf *conf,
                       keys_source *src, const char *bound)
{
    jwt_keysource_t *ks;
    int i;

    if (!conf->key_urls) {
        conf->key_urls = apr_array_make(cmd->pool, 2,
                                        sizeof(jwt_keysource_t));
    }
    for (i = 0; i < conf->key_urls->nelts; i++) {
        ks = &APR_ARRAY_IDX(conf->key_urls, i, jwt_keysource_t);
        if (ks->ring == src->ring
            && (ks->issuer == bound
                || (ks->issuer && bound && !strcmp(ks->issuer, bound)))) {
            return;
        }
    }
    ks = apr_array_push(conf->key_urls);
    ks->ring = src->ring;
    ks->issuer = bound;
}

const char *jwtauth_set_keys_url(cmd_parms *cmd, void *dconf,
                                 const char *url, const char *iss)
{
    const char *why;
    int plain;

    if ((why = remote_url_refused(cmd->temp_pool, url, &plain))) {
        return apr_psprintf(cmd->pool, "%s: '%s' %s", cmd->cmd->name, url,
                            why);
    }
    if (iss && !*iss) {
        return apr_psprintf(cmd->pool, "%s: an empty issuer",
                            cmd->cmd->name);
    }
    add_source(cmd, dconf, source_for(cmd, dconf, url, url, NULL), iss);
    return NULL;
}

const char *jwtauth_set_discovery(cmd_parms *cmd, void *dconf,
                                  const char *issuer, const char *url)
{
    jwtauth_dir_conf *conf = dconf;
    const char *why;
    int plain, i;

    /* the issuer is an https URL itself (OpenID Connect Discovery 1.0
     * section 3, RFC 8414 section 2); a template's braces are fine */
    if ((why = remote_url_refused(cmd->temp_pool, issuer, &plain))) {
        return apr_psprintf(cmd->pool, "%s: the issuer '%s' %s",
                            cmd->cmd->name, issuer, why);
    }
    if (!url) {
        size_t len = strlen(issuer);

        url = apr_pstrcat(cmd->pool, issuer,
                          len && issuer[len - 1] == '/' ? "" : "/",
                          ".well-known/openid-configuration", NULL);
    }
    if ((why = remote_url_refused(cmd->temp_pool, url, &plain))) {
        return apr_psprintf(cmd->pool, "%s: '%s' %s", cmd->cmd->name, url,
                            why);
    }
    add_source(cmd, conf, source_for(cmd, dconf,
                                     apr_pstrcat(cmd->pool, url, " ",
                                                 issuer, NULL),
                                     url, issuer), issuer);
    if (!conf->discovery_issuers) {
        conf->discovery_issuers = apr_array_make(cmd->pool, 2,
                                                 sizeof(const char *));
    }
    for (i = 0; i < conf->discovery_issuers->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(conf->discovery_issuers, i, const char *),
                    issuer)) {
            return NULL;
        }
    }
    APR_ARRAY_PUSH(conf->discovery_issuers, const char *) = issuer;
    return NULL;
}

const char *jwtauth_set_keys_store(cmd_parms *cmd, void *dconf,
                                   const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    if (err) {
        return err;
    }
    if (!(store_dir = ap_server_root_relative(cmd->pool, arg))) {
        return apr_psprintf(cmd->pool, "%s: invalid path '%s'",
                            cmd->cmd->name, arg);
    }
    /* the next reading of the configuration starts from the default */
    apr_pool_cleanup_register(cmd->pool, NULL, registry_reset,
                              apr_pool_cleanup_null);
    return NULL;
}

const apr_array_header_t *jwtauth_keys_issuers(apr_pool_t *p,
                                               const jwtauth_dir_conf *conf)
{
    apr_array_header_t *all;
    int i, j;

    if (!conf->issuers || !conf->discovery_issuers) {
        return NULL;
    }
    all = apr_array_copy(p, conf->issuers);
    for (i = 0; i < conf->discovery_issuers->nelts; i++) {
        const char *iss = APR_ARRAY_IDX(conf->discovery_issuers, i,
                                        const char *);

        for (j = 0; j < conf->issuers->nelts; j++) {
            if (!strcmp(iss, APR_ARRAY_IDX(conf->issuers, j, const char *))) {
                break;
            }
        }
        if (j == conf->issuers->nelts) {
            APR_ARRAY_PUSH(all, const char *) = iss;
        }
    }
    return all;
}

unsigned jwtauth_keys_remote_algs(void)
{
    static unsigned algs;
    unsigned a = 0;
    int i;

    if (!algs) {
        for (i = 1; i < JWT_ALG_COUNT; i++) {
            if (jwt_alg_kty((jwt_alg_e)i) != JWT_KTY_OCT) {
                a |= JWT_ALG_BIT(i);
            }
        }
        algs = a;
    }
    return algs;
}

/* A setting of one naming: its own record's, else its server's, else the
 * default (seconds). */
static apr_int64_t naming_int(const keys_naming *n, apr_size_t off,
                              apr_int64_t def)
{
    const jwtauth_dir_conf *srv = ap_get_module_config(n->s->lookup_defaults,
                                                       &jwtauth_module);
    apr_int64_t v = *(const apr_int64_t *)((const char *)n->conf + off);

    if (v == UNSET && srv) {
        v = *(const apr_int64_t *)((const char *)srv + off);
    }
    return v == UNSET ? def : v;
}

static const char *naming_ca(const keys_naming *n)
{
    const jwtauth_dir_conf *srv = ap_get_module_config(n->s->lookup_defaults,
                                                       &jwtauth_module);

    return n->conf->keys_ca ? n->conf->keys_ca : srv ? srv->keys_ca : NULL;
}

/* check_config: each source takes JWTAuthKeysRefresh, JWTAuthKeysMaxStale
 * and JWTAuthKeysTimeout from the first line naming it (the line's own
 * section, else its server); a later line whose section says otherwise
 * gets a warning.  Two CA files for one URL are refused: trusting what
 * one scope does not was never meant. */
int jwtauth_keys_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *s)
{
    int i, j;

    for (i = 0; sources && i < sources->nelts; i++) {
        keys_source *src = APR_ARRAY_IDX(sources, i, keys_source *);
        const keys_naming *first = &APR_ARRAY_IDX(src->namings, 0,
                                                  keys_naming);

        src->refresh = apr_time_from_sec(naming_int(first,
            APR_OFFSETOF(jwtauth_dir_conf, keys_refresh), KEYS_REFRESH));
        src->max_stale = apr_time_from_sec(naming_int(first,
            APR_OFFSETOF(jwtauth_dir_conf, keys_max_stale),
            KEYS_MAX_STALE));
        src->timeout = apr_time_from_sec(naming_int(first,
            APR_OFFSETOF(jwtauth_dir_conf, keys_timeout), KEYS_TIMEOUT));
        src->ca = naming_ca(first);
        for (j = 1; j < src->namings->nelts; j++) {
            const keys_naming *n = &APR_ARRAY_IDX(src->namings, j,
                                                  keys_naming);
            const char *ca = naming_ca(n);

            if ((ca || src->ca) && (!ca || !src->ca || strcmp(ca, src->ca))) {
                ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s,
                             "mod_jwtauth: %s:%d names %s with "
                             "JWTAuthKeysCAFile %s, %s:%d with %s: one URL "
                             "is one source, fetched with one CA file",
                             n->file, n->line, src->url, ca ? ca : "unset",
                             first->file, first->line,
                             src->ca ? src->ca : "unset");
                return HTTP_INTERNAL_SERVER_ERROR;
            }
            if (apr_time_from_sec(naming_int(n, APR_OFFSETOF(jwtauth_dir_conf,
                    keys_refresh), KEYS_REFRESH)) != src->refresh
                || apr_time_from_sec(naming_int(n, APR_OFFSETOF(
                    jwtauth_dir_conf, keys_max_stale), KEYS_MAX_STALE))
                   != src->max_stale
                || apr_time_from_sec(naming_int(n, APR_OFFSETOF(
                    jwtauth_dir_conf, keys_timeout), KEYS_TIMEOUT))
                   != src->timeout) {
                ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, s,
                             "mod_jwtauth: %s:%d names %s with other "
                             "JWTAuthKeysRefresh, JWTAuthKeysMaxStale or "
                             "JWTAuthKeysTimeout than %s:%d, the first line "
                             "naming it, whose settings apply", n->file,
                             n->line, src->url, first->file, first->line);
            }
        }
    }
    return OK;
}

/* ---------------------------------------------------------------- */
/* fetching                                                         */

/* While post_config fetches (one thread, before any child exists): when
 * the startup's time for fetching ends; 0 otherwise. */
static apr_time_t startup_deadline;

typedef struct {
    apr_pool_t *p;
    char *data;
    apr_size_t len, cap;
    int big;
} fetch_body;

/* libcurl's write callback: the body in memory, at most MAX_DOCUMENT
 * bytes (more ends the transfer). */
static size_t body_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    fetch_body *b = ud;
    size_t add = size * nmemb;

    if (add > MAX_DOCUMENT - b->len) {
        b->big = 1;
        return 0;
    }
    if (b->len + add + 1 > b->cap) {
        apr_size_t cap = b->cap ? b->cap : 16384;
        char *d;

        while (cap < b->len + add + 1) {
            cap *= 2;
        }
        d = apr_palloc(b->p, cap);
        if (b->len) {
            memcpy(d, b->data, b->len);
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, add);
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

/* GET url: peer and host name verified, no redirect followed, no cookie,
 * the body capped, the source's timeout for connect and transfer, a
 * proxy only from the standard environment variables (libcurl's
 * default).  NULL and the body, else why not (no secret in it). */
static const char *http_get(apr_pool_t *p, const keys_source *src,
                            const char *url, char **doc, apr_size_t *len)
{
    CURL *c;
    CURLcode rc;
    struct curl_slist *hdrs = NULL;
    char ebuf[CURL_ERROR_SIZE];
    fetch_body body;
    const char *why;
    long status = 0;
    int plain = 0;
    apr_interval_time_t timeout = src->timeout;

    if ((why = remote_url_refused(p, url, &plain))) {
        return apr_psprintf(p, "%s %s", url, why);
    }
    if (startup_deadline) {
        apr_interval_time_t left = startup_deadline - apr_time_now();

        if (left < apr_time_from_msec(1)) {
            return apr_psprintf(p, "%s: not fetched at startup, whose time "
                                "for fetches (the longest "
                                "JWTAuthKeysTimeout) is spent; the fetcher "
                                "tries it next", url);
        }
        timeout = left < timeout ? left : timeout;
    }
    if (!(c = curl_easy_init())) {
        return "libcurl: no handle";
    }
    memset(&body, 0, sizeof(body));
    body.p = p;
    ebuf[0] = '\0';
    hdrs = curl_slist_append(hdrs, "Accept: application/json, "
                             "application/jwk-set+json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, plain ? "http" : "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (src->ca) {
        curl_easy_setopt(c, CURLOPT_CAINFO, src->ca);
    }
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                     (long)apr_time_as_msec(timeout));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)apr_time_as_msec(timeout));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                     (curl_off_t)MAX_DOCUMENT);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "mod_jwtauth");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    if (body.big || rc == CURLE_FILESIZE_EXCEEDED) {
        return apr_psprintf(p, "%s: the response is larger than %d bytes",
                            url, MAX_DOCUMENT);
    }
    if (rc != CURLE_OK) {
        return apr_psprintf(p, "%s: %s", url,
                            ebuf[0] ? ebuf : curl_easy_strerror(rc));
    }
    if (status >= 300 && status < 400) {
        return apr_psprintf(p, "%s: HTTP %ld: redirects are refused", url,
                            status);
    }
    if (status != 200) {
        return apr_psprintf(p, "%s: HTTP %ld", url, status);
    }
    *doc = body.data ? body.data : "";
    *len = body.len;
    return NULL;
}

/* The jwks_uri of a discovery document whose issuer is exactly the
 * configured one (RFC 8414 section 3.3), or NULL and *why. */
static const char *discover(apr_pool_t *p, const keys_source *src,
                            const char **why)
{
    char *doc;
    apr_size_t len;
    json_t *root, *iss, *uri;
    json_error_t jerr;
    const char *jwks = NULL;
    int plain;

    if ((*why = http_get(p, src, src->url, &doc, &len))) {
        return NULL;
    }
    if (!(root = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &jerr))
        || !json_is_object(root)) {
        *why = apr_psprintf(p, "%s: not a JSON object", src->url);
    }
    else if (!(iss = json_object_get(root, "issuer")) || !json_is_string(iss)
             || json_string_length(iss) != strlen(src->issuer)
             || memcmp(json_string_value(iss), src->issuer,
                       strlen(src->issuer))) {
        *why = apr_psprintf(p, "%s: its issuer is not exactly %s (RFC "
                            "8414 section 3.3)", src->url, src->issuer);
    }
    else if (!(uri = json_object_get(root, "jwks_uri"))
             || !json_is_string(uri)
             || strlen(json_string_value(uri)) != json_string_length(uri)) {
        *why = apr_psprintf(p, "%s: no jwks_uri string", src->url);
    }
    else if ((*why = remote_url_refused(p, json_string_value(uri), &plain))) {
        *why = apr_psprintf(p, "%s: its jwks_uri %s", src->url, *why);
    }
    else {
        jwks = apr_pstrdup(p, json_string_value(uri));
    }
    json_decref(root);
    return jwks;
}

/* One fetch of a source: its document and the set parsed from it, or
 * why not. */
static const char *fetch_source(apr_pool_t *p, const keys_source *src,
                                char **doc, apr_size_t *len,
                                jwt_keyset_t **set,
                                apr_array_header_t **skipped)
{
    const char *url = src->url, *why = NULL;
    jwt_error_t err;

    *skipped = NULL;
    if (src->issuer && !(url = discover(p, src, &why))) {
        return why;
    }
    if ((why = http_get(p, src, url, doc, len))) {
        return why;
    }
    if (!jwt_keyset_parse(set, p, *doc, *len, skipped, &err)) {
        *set = NULL;
        return apr_psprintf(p, "%s: %s", url,
                            ap_escape_logitem(p, err.reason ? err.reason
                                                  : "no usable key"));
    }
    return NULL;
}

/* One info line for each key a new document's set left out (at most
 * MAX_SKIP_LINES, then a count): kid and reason escaped. */
static void log_skipped(apr_pool_t *p, server_rec *s, const keys_source *src,
                        const apr_array_header_t *skipped)
{
    int i;

    for (i = 0; skipped && i < skipped->nelts && i < MAX_SKIP_LINES; i++) {
        const jwt_key_skip_t *sk = &APR_ARRAY_IDX(skipped, i,
                                                  jwt_key_skip_t);

        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "JWTAuth: %s: key #%"
                     APR_SIZE_T_FMT " (%s%s) skipped: %s", src->url,
                     sk->index, sk->kid ? "kid " : "no kid",
                     sk->kid ? ap_escape_logitem(p, sk->kid) : "",
                     ap_escape_logitem(p, sk->reason));
    }
    if (skipped && skipped->nelts > MAX_SKIP_LINES) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "JWTAuth: %s: %d more "
                     "keys skipped", src->url,
                     skipped->nelts - MAX_SKIP_LINES);
    }
}

/* ---------------------------------------------------------------- */
/* the store                                                        */

/* Give a file or directory the child processes' user (they fetch and
 * write); nothing when not root. */
static void chown_to_user(server_rec *s, const char *path)
{
    if (geteuid() == 0 && chown(path, ap_unixd_config.user_id,
                                ap_unixd_config.group_id) != 0) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, errno, s, "JWTAuth: "
                     "cannot give %s to the server's User", path);
    }
}

/* Write a good document: a temp file beside it, then rename (a reader
 * sees the old document or the new one, never a part). */
static const char *store_write(apr_pool_t *p, server_rec *s,
                               const keys_source *src, const char *doc,
                               apr_size_t len)
{
    char *tmp = apr_pstrcat(p, src->store_path, ".XXXXXX", NULL);
    apr_file_t *f;
    apr_status_t rv;
    apr_size_t n;
    char ebuf[128];

    rv = apr_file_mktemp(&f, tmp, APR_FOPEN_CREATE | APR_FOPEN_WRITE
                         | APR_FOPEN_EXCL | APR_FOPEN_BINARY, p);
    if (rv == APR_SUCCESS) {
        rv = apr_file_write_full(f, doc, len, &n);
        if (rv == APR_SUCCESS) {
            rv = apr_file_sync(f);
        }
        apr_file_close(f);
        if (rv == APR_SUCCESS) {
            chown_to_user(s, tmp);
            rv = apr_file_rename(tmp, src->store_path, p);
        }
        if (rv != APR_SUCCESS) {
            apr_file_remove(tmp, p);
        }
    }
    return rv == APR_SUCCESS ? NULL
           : apr_psprintf(p, "cannot write %s: %s", src->store_path,
                          apr_strerror(rv, ebuf, sizeof(ebuf)));
}

/* Read and parse the stored document of a source: 1 and the set (and
 * the file's mtime), else 0 (none, or not usable: *why). */
static int store_read(apr_pool_t *p, const keys_source *src,
                      jwt_keyset_t **set, apr_time_t *mtime,
                      const char **why)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t len = 0;
    char *buf;
    jwt_error_t err;
    apr_status_t rv;

    *why = NULL;
    if (apr_file_open(&f, src->store_path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                      APR_OS_DEFAULT, p) != APR_SUCCESS) {
        return 0;
    }
    rv = apr_file_info_get(&fi, APR_FINFO_SIZE | APR_FINFO_MTIME, f);
    if (rv != APR_SUCCESS || fi.size > MAX_DOCUMENT) {
        apr_file_close(f);
        *why = "unreadable or too large";
        return 0;
    }
    buf = apr_palloc(p, (apr_size_t)fi.size + 1);
    rv = apr_file_read_full(f, buf, (apr_size_t)fi.size, &len);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        *why = "unreadable";
        return 0;
    }
    buf[len] = '\0';
    if (!jwt_keyset_parse(set, p, buf, len, NULL, &err)) {
        *why = err.reason ? err.reason : "no usable key";
        return 0;
    }
    *mtime = fi.mtime;
    return 1;
}

/* ---------------------------------------------------------------- */
/* the fetcher (one child) and each child's switch                  */

/* Publish set (or NULL) into the source's ring of this process; the
 * epoch moves when what the ring holds changes. */
static void publish(keys_source *src, jwt_keyset_t *set)
{
    unsigned ticket;
    const jwt_keyset_t *cur = jwt_keyring_acquire(src->ring, &ticket);
    int same = (!cur && !set)
               || (cur && set && !memcmp(jwt_keyset_digest(cur),
                                         jwt_keyset_digest(set), 32));

    jwt_keyring_release(src->ring, ticket);
    if (same) {
        jwt_keyset_free(set);
        return;
    }
    jwt_keyring_publish(src->ring, set);
    /* after the publish: a request that read the old epoch may have used
     * the old set, and its cache entry is never matched again */
    apr_atomic_inc32(&keys_epoch);
}

/* The delay after the n-th failure in a row: 5 s doubling, at most the
 * refresh interval (and at least 1 s). */
static apr_interval_time_t backoff(const keys_source *src, apr_uint32_t n)
{
    apr_interval_time_t d = apr_time_from_sec(FIRST_BACKOFF);

    while (--n > 0 && d < src->refresh) {
        d *= 2;
    }
    if (d > src->refresh) {
        d = src->refresh;
    }
    return d < apr_time_from_sec(1) ? apr_time_from_sec(1) : d;
}

/* One fetch and what follows from it: stored and announced, or counted
 * as a failure (warned once a streak). */
static void fetch_now(apr_pool_t *p, server_rec *s, keys_source *src,
                      apr_time_t now)
{
    keys_slot *sl = slot_of(src);
    jwt_keyset_t *set = NULL;
    char *doc = NULL;
    apr_size_t len = 0;
    const char *why;
    apr_uint32_t n;

    apr_array_header_t *skipped;

    apr_atomic_set64(&sl->last_try, (apr_uint64_t)now);
    why = fetch_source(p, src, &doc, &len, &set, &skipped);
    if (!why && sl->have && !memcmp(sl->digest, jwt_keyset_digest(set), 32)) {
        /* the same keys: the store's time says they are fresh */
        apr_file_mtime_set(src->store_path, now, p);
        jwtauth_metrics_fetch(JWTAUTH_FETCH_UNCHANGED);
    }
    else if (!why && !(why = store_write(p, s, src, doc, len))) {
        memcpy(sl->digest, jwt_keyset_digest(set), 32);
        apr_atomic_set32(&sl->have, 1);
        jwtauth_metrics_fetch(JWTAUTH_FETCH_OK);
        log_skipped(p, s, src, skipped);
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "JWTAuth: %s: a new key "
                     "set (%d keys)", src->url, jwt_keyset_count(set));
    }
    jwt_keyset_free(set);
    if (why) {
        n = apr_atomic_inc32(&sl->failures) + 1;
        jwtauth_metrics_fetch(JWTAUTH_FETCH_ERROR);
        ap_log_error(APLOG_MARK, n == 1 ? APLOG_WARNING : APLOG_INFO, 0, s,
                     "JWTAuth: fetching the keys failed (%u in a row; the "
                     "last good set serves, retried with backoff): %s", n,
                     why);
        apr_atomic_set64(&sl->next_try, (apr_uint64_t)(now
                                                       + backoff(src, n)));
        return;
    }
    n = apr_atomic_xchg32(&sl->failures, 0);
    if (n) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, "JWTAuth: %s: fetched "
                     "again after %u failures", src->url, n);
    }
    apr_atomic_set32(&sl->stale_logged, 0);
    apr_atomic_set64(&sl->last_ok, (apr_uint64_t)now);
    apr_atomic_set64(&sl->next_try, (apr_uint64_t)(now + src->refresh));
    /* last: the children read the store when this moves */
    apr_atomic_inc32(&sl->version);
}

/* The singleton's callback: each source that is due, or asked for and
 * not fetched in the last 10 s. */
static apr_status_t fetcher(int state, void *data, apr_pool_t *pool)
{
    server_rec *s = data;
    int i;

    if (state == AP_WATCHDOG_STATE_STOPPING || !slots) {
        return APR_SUCCESS;
    }
    for (i = 0; sources && i < sources->nelts; i++) {
        keys_source *src = APR_ARRAY_IDX(sources, i, keys_source *);
        keys_slot *sl = slot_of(src);
        apr_time_t now = apr_time_now(), last_ok;
        int asked = apr_atomic_read32(&sl->refetch)
                    && now >= (apr_time_t)apr_atomic_read64(&sl->last_try)
                              + REFETCH_INTERVAL;

        if (asked || now >= (apr_time_t)apr_atomic_read64(&sl->next_try)) {
            apr_atomic_set32(&sl->refetch, 0);
            fetch_now(pool, s, src, now);
            apr_pool_clear(pool);
        }
        last_ok = (apr_time_t)apr_atomic_read64(&sl->last_ok);
        if (last_ok && apr_time_now() > last_ok + src->max_stale
            && !apr_atomic_cas32(&sl->stale_logged, 1, 0)) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "JWTAuth: %s: no good "
                         "fetch for %" APR_TIME_T_FMT " s "
                         "(JWTAuthKeysMaxStale): its keys are dropped; "
                         "scopes with no other key answer 503", src->url,
                         apr_time_sec(src->max_stale));
        }
    }
    return APR_SUCCESS;
}

/* Every child's callback, each second: a source whose version moved is
 * read from the store and published; one stale past its limit is
 * emptied; an emptied one that is fresh again is read again. */
static apr_status_t poller(int state, void *data, apr_pool_t *pool)
{
    server_rec *s = data;
    int i;

    if (state == AP_WATCHDOG_STATE_STOPPING || !slots) {
        return APR_SUCCESS;
    }
    for (i = 0; sources && i < sources->nelts; i++) {
        keys_source *src = APR_ARRAY_IDX(sources, i, keys_source *);
        keys_slot *sl = slot_of(src);
        apr_uint32_t v = apr_atomic_read32(&sl->version);
        apr_time_t last_ok = (apr_time_t)apr_atomic_read64(&sl->last_ok);
        int stale = !last_ok || apr_time_now() > last_ok + src->max_stale;
        jwt_keyset_t *set = NULL;
        apr_time_t mtime;
        const char *why;

        if (v != src->seen || (src->emptied && !stale)) {
            src->seen = v;
            if (store_read(pool, src, &set, &mtime, &why)) {
                src->emptied = 0;
                publish(src, set);
            }
            else {
                ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "JWTAuth: "
                             "%s: the stored set %s is %s: the current one "
                             "stays", src->url, src->store_path,
                             why ? why : "missing");
            }
            apr_pool_clear(pool);
        }
        else if (stale && !src->emptied) {
            src->emptied = 1;
            publish(src, NULL);
        }
    }
    return APR_SUCCESS;
}

/* child_init: a child forked after some rotations starts from the set
 * the parent read at startup; it takes the current one before its first
 * request (never on a request's path).  mod_jwtauth.c runs it before
 * mod_watchdog starts the poller thread: a ring has one writer. */
void jwtauth_keys_child_init(apr_pool_t *p, server_rec *s)
{
    apr_pool_t *tmp;

    if (!slots || !sources || apr_pool_create(&tmp, p) != APR_SUCCESS) {
        return;
    }
    poller(AP_WATCHDOG_STATE_RUNNING, s, tmp);
    apr_pool_destroy(tmp);
}

/* The store's name of a source: the hex SHA-256 of what makes it one. */
static const char *store_name(apr_pool_t *p, const keys_source *src)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    char hex[65];
    int i;

    if (!EVP_Digest(src->id, strlen(src->id), md, &mdlen, EVP_sha256(),
                    NULL) || mdlen != 32) {
        return NULL;
    }
    for (i = 0; i < 32; i++) {
        apr_snprintf(hex + 2 * i, 3, "%02x", md[i]);
    }
    return apr_pstrcat(p, store_dir, "/", hex, ".json", NULL);
}

/* Startup of one source in the parent: the store's set, else one fetch
 * bounded by the timeout; its slot says when the next fetch is due. */
static void source_start(apr_pool_t *pconf, apr_pool_t *ptemp,
                         server_rec *s, keys_source *src)
{
    keys_slot *sl = slot_of(src);
    jwt_keyset_t *set = NULL;
    apr_time_t now = apr_time_now(), mtime = 0;
    const char *why = NULL;
    apr_array_header_t *skipped;
    char *doc;
    apr_size_t len;

    src->seen = 0;
    src->emptied = 0;
    if (store_read(ptemp, src, &set, &mtime, &why)) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "JWTAuth: %s: %d keys "
                     "from the store (%s)", src->url, jwt_keyset_count(set),
                     src->store_path);
        apr_atomic_set64(&sl->last_ok, (apr_uint64_t)mtime);
        apr_atomic_set64(&sl->next_try, (apr_uint64_t)(mtime + src->refresh));
    }
    else {
        if (why) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "JWTAuth: %s: the "
                         "stored set %s is %s", src->url, src->store_path,
                         why);
        }
        why = fetch_source(ptemp, src, &doc, &len, &set, &skipped);
        if (!why) {
            log_skipped(ptemp, s, src, skipped);
            why = store_write(ptemp, s, src, doc, len);
        }
        if (why) {
            jwt_keyset_free(set);
            set = NULL;
            apr_atomic_set32(&sl->failures, 1);
            apr_atomic_set64(&sl->next_try, (apr_uint64_t)now);
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "JWTAuth: no keys "
                         "yet from %s (scopes with no other key answer 503 "
                         "until a fetch succeeds): %s", src->url, why);
        }
        else {
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "JWTAuth: %s: %d "
                         "keys fetched", src->url, jwt_keyset_count(set));
            apr_atomic_set64(&sl->last_ok, (apr_uint64_t)now);
            apr_atomic_set64(&sl->next_try, (apr_uint64_t)(now
                                                           + src->refresh));
        }
    }
    if (set) {
        memcpy(sl->digest, jwt_keyset_digest(set), 32);
        apr_atomic_set32(&sl->have, 1);
        jwt_keyring_publish(src->ring, set);
        apr_atomic_inc32(&keys_epoch);
    }
    else {
        jwt_keyring_publish(src->ring, NULL);
    }
}

int jwtauth_keys_post_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                             server_rec *s)
{
    APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *wd_get;
    APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *wd_register;
    ap_watchdog_t *wd;
    apr_shm_t *shm;
    apr_status_t rv;
    apr_size_t size;
    apr_interval_time_t budget = 0;
    int i;

    /* the first reading of the configuration only checks it */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG
        || !sources || !sources->nelts) {
        return OK;
    }
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "JWTAuth: libcurl "
                         "does not start");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        curl_ready = 1;
    }
    if (!store_dir) {
        store_dir = ap_server_root_relative(pconf, KEYS_STORE);
    }
    rv = apr_dir_make_recursive(store_dir, APR_FPROT_UREAD | APR_FPROT_UWRITE
                                | APR_FPROT_UEXECUTE, ptemp);
    if (rv != APR_SUCCESS && !APR_STATUS_IS_EEXIST(rv)) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, "JWTAuth: cannot make "
                     "the key store %s (JWTAuthKeysStore)", store_dir);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    chown_to_user(s, store_dir);
    size = (apr_size_t)sources->nelts * SLOT_SIZE;
    if ((rv = apr_shm_create(&shm, size, NULL, pconf)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, "JWTAuth: no shared "
                     "memory for the remote key sets");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    slots = apr_shm_baseaddr_get(shm);
    memset(slots, 0, size);
    /* every fetch of the startup within one timeout, the longest */
    for (i = 0; i < sources->nelts; i++) {
        keys_source *src = APR_ARRAY_IDX(sources, i, keys_source *);

        budget = src->timeout > budget ? src->timeout : budget;
    }
    startup_deadline = apr_time_now() + budget;
    for (i = 0; i < sources->nelts; i++) {
        keys_source *src = APR_ARRAY_IDX(sources, i, keys_source *);

        if (!(src->store_path = store_name(pconf, src))) {
            startup_deadline = 0;
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        source_start(pconf, ptemp, s, src);
    }
    startup_deadline = 0;
    wd_get = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    wd_register = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    if (!wd_get || !wd_register) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "JWTAuth: "
                     "JWTAuthKeysURL and JWTAuthDiscovery need mod_watchdog");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if ((rv = wd_get(&wd, FETCH_WATCHDOG, 0, 1, pconf)) != APR_SUCCESS
        || (rv = wd_register(wd, AP_WD_TM_INTERVAL, s, fetcher))
           != APR_SUCCESS
        || (rv = wd_get(&wd, POLL_WATCHDOG, 0, 0, pconf)) != APR_SUCCESS
        || (rv = wd_register(wd, AP_WD_TM_INTERVAL, s, poller))
           != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, "JWTAuth: cannot "
                     "register the key fetcher with mod_watchdog");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

/* ---------------------------------------------------------------- */
/* the request path                                                 */

/* The source whose ring this is, or NULL. */
static keys_source *source_of(const jwt_keyring_t *ring)
{
    int i;

    for (i = 0; sources && i < sources->nelts; i++) {
        keys_source *src = APR_ARRAY_IDX(sources, i, keys_source *);

        if (src->ring == ring) {
            return src;
        }
    }
    return NULL;
}

int jwtauth_keys_available(const jwt_policy_t *policy)
{
    int i;

    for (i = 0; policy->sources && i < policy->sources->nelts; i++) {
        jwt_keyring_t *ring = APR_ARRAY_IDX(policy->sources, i,
                                            jwt_keysource_t).ring;
        unsigned ticket;
        const jwt_keyset_t *set = jwt_keyring_acquire(ring, &ticket);

        jwt_keyring_release(ring, ticket);
        if (set) {
            return 1;
        }
    }
    return 0;
}

void jwtauth_keys_refetch(const jwt_policy_t *policy)
{
    int i;

    for (i = 0; slots && policy->sources && i < policy->sources->nelts;
         i++) {
        keys_source *src = source_of(APR_ARRAY_IDX(policy->sources, i,
                                                   jwt_keysource_t).ring);

        /* read first: a stream of such tokens writes the line once */
        if (src && !apr_atomic_read32(&slot_of(src)->refetch)) {
            apr_atomic_set32(&slot_of(src)->refetch, 1);
        }
    }
}

int jwtauth_keys_retry_after(const jwt_policy_t *policy)
{
    apr_time_t now = apr_time_now(), next = 0;
    int i;

    for (i = 0; slots && policy->sources && i < policy->sources->nelts;
         i++) {
        keys_source *src = source_of(APR_ARRAY_IDX(policy->sources, i,
                                                   jwt_keysource_t).ring);
        apr_time_t t;

        if (src) {
            t = (apr_time_t)apr_atomic_read64(&slot_of(src)->next_try);
            if (!next || t < next) {
                next = t;
            }
        }
    }
    /* the next attempt, and a second for the children to switch */
    if (next <= now) {
        return 2;
    }
    return next - now > apr_time_from_sec(3600) ? 3600
           : (int)apr_time_sec(next - now) + 2;
}

apr_uint64_t jwtauth_keys_generation(void)
{
    return jwtauth_cache_generation()
           ^ ((apr_uint64_t)apr_atomic_read32(&keys_epoch) << 32);
}

apr_array_header_t *jwtauth_keys_remote_counts(apr_pool_t *p)
{
    apr_array_header_t *out = apr_array_make(p, sources ? sources->nelts : 1,
                                             sizeof(jwtauth_key_source));
    int i;

    for (i = 0; sources && i < sources->nelts; i++) {
        keys_source *src = APR_ARRAY_IDX(sources, i, keys_source *);
        jwtauth_key_source *ks = apr_array_push(out);
        unsigned ticket;
        const jwt_keyset_t *set = jwt_keyring_acquire(src->ring, &ticket);

        ks->source = src->url;
        ks->n = set ? jwt_keyset_count(set) : 0;
        jwt_keyring_release(src->ring, ticket);
    }
    return out;
}
