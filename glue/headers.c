/*
 * headers.c: what the backend receives of the token: JWTAuthClaimHeader
 * copies claims into request headers (and removes whatever the client
 * sent under those names), JWTAuthForwardToken Off removes the token.
 * Both act on r->headers_in in a fixup: after authentication and
 * authorization, before the handler (mod_proxy, mod_cgi(d) and
 * mod_include's subrequests read it), and before mod_headers'
 * RequestHeader (APR_HOOK_LAST), so that an admin's rule still wins.
 */
#include <string.h>
#include <strings.h>

#include "apr_lib.h"
#include "apr_strings.h"
#include "apr_tables.h"

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_request.h"

#include "glue.h"

/* Do two header names name the same field for a backend?  Without case
 * (RFC 9110 section 5.1), and with '-' and '_' alike: CGI, FastCGI and
 * many frameworks map both to '_' (HTTP_X_USER), so a client's X_User
 * could stand in for X-User. */
static int same_name(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a == '_' ? '-' : (char)apr_tolower(*a);
        char y = *b == '_' ? '-' : (char)apr_tolower(*b);

        if (x != y) {
            return 0;
        }
    }
    return *a == *b;
}

/* Names a claim may never be written into, each with its reason: the
 * message's framing and routing, hop-by-hop fields, credentials, and
 * what mod_proxy tells its backends about the client.  A name that
 * begins with a prefix of the second list is refused as well. */
static const char *const refused_names[] = {
    "Host", "framing",
    "Content-Length", "framing",
    "Transfer-Encoding", "framing",
    "Expect", "framing",
    "Connection", "hop-by-hop",
    "Keep-Alive", "hop-by-hop",
    "Proxy-Connection", "hop-by-hop",
    "TE", "hop-by-hop",
    "Trailer", "hop-by-hop",
    "Upgrade", "hop-by-hop",
    "Authorization", "credentials",
    "Proxy-Authorization", "credentials",
    "Cookie", "credentials",
    "Forwarded", "set by mod_proxy",
    NULL
};
static const char *const refused_prefixes[] = {
    "Content-", "X-Forwarded-", NULL
};

/* JWTAuthClaimHeader's name in the section conf (its own record, not
 * merged): NULL when accepted, else why not. */
const char *jwtauth_claim_header_refused(apr_pool_t *p,
                                         const jwtauth_dir_conf *conf,
                                         const char *name)
{
    int i;

    if (!jwtauth_is_header_name(name)) {
        return "is not a header name";
    }
    for (i = 0; refused_names[i]; i += 2) {
        if (same_name(name, refused_names[i])) {
            return apr_psprintf(p, "is not for claims (%s)",
                                refused_names[i + 1]);
        }
    }
    for (i = 0; refused_prefixes[i]; i++) {
        size_t n = strlen(refused_prefixes[i]);

        if (strlen(name) >= n
            && same_name(apr_pstrmemdup(p, name, n), refused_prefixes[i])) {
            return apr_psprintf(p, "is not for claims (%s*)",
                                refused_prefixes[i]);
        }
    }
    if (same_name(name, jwtauth_conf_header(conf))) {
        return "carries the token (JWTAuthHeader)";
    }
    for (i = 0; conf->claim_headers && i < conf->claim_headers->nelts; i++) {
        if (same_name(name, APR_ARRAY_IDX(conf->claim_headers, i,
                                          jwtauth_claim_header).name)) {
            return "is given twice in this section";
        }
    }
    return NULL;
}

apr_array_header_t *jwtauth_merge_claim_headers(apr_pool_t *p,
                                                apr_array_header_t *base,
                                                apr_array_header_t *add)
{
    apr_array_header_t *out;
    int i, j;

    if (!base || !add) {
        return add ? add : base;
    }
    out = apr_array_make(p, base->nelts + add->nelts,
                         sizeof(jwtauth_claim_header));
    for (i = 0; i < base->nelts; i++) {
        const jwtauth_claim_header *b = &APR_ARRAY_IDX(base, i,
                                                       jwtauth_claim_header);

        for (j = 0; j < add->nelts; j++) {
            if (same_name(b->name, APR_ARRAY_IDX(add, j,
                                                 jwtauth_claim_header).name)) {
                break;
            }
        }
        if (j == add->nelts) {
            APR_ARRAY_PUSH(out, jwtauth_claim_header) = *b;
        }
    }
    apr_array_cat(out, add);
    return out;
}

/* The CGI variable httpd makes of a header name (util_script.c: HTTP_
 * and the name in capitals, '-' as '_'; a name with any other character
 * gets none), '_' taken as '-' as same_name() does; NULL when none. */
static const char *env_name(apr_pool_t *p, const char *name)
{
    char *env = apr_pstrcat(p, "HTTP_", name, NULL), *s;

    for (s = env + 5; *s; s++) {
        if (*s == '-' || *s == '_') {
            *s = '_';
        }
        else if (apr_isalnum(*s)) {
            *s = apr_toupper(*s);
        }
        else {
            return NULL;
        }
    }
    return env;
}

/* Remove every header of r->headers_in that same_name() matches with
 * name (every occurrence, in any case and either spelling), and its CGI
 * variable from r->subprocess_env: a subrequest starts with a copy of
 * its parent's, where mod_include has put the parent's headers, and
 * httpd only adds to it. */
static void scrub(request_rec *r, const char *name)
{
    const apr_array_header_t *arr = apr_table_elts(r->headers_in);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    apr_array_header_t *keys = NULL;
    const char *env = env_name(r->pool, name);
    int i;

    /* collected first: the table must not change under its walk */
    for (i = 0; i < arr->nelts; i++) {
        if (e[i].key && same_name(e[i].key, name)) {
            if (!keys) {
                keys = apr_array_make(r->pool, 2, sizeof(const char *));
            }
            APR_ARRAY_PUSH(keys, const char *) = e[i].key;
        }
    }
    for (i = 0; keys && i < keys->nelts; i++) {
        apr_table_unset(r->headers_in, APR_ARRAY_IDX(keys, i, const char *));
    }
    if (env) {
        apr_table_unset(r->subprocess_env, env);
    }
}

/* Authorization with the Bearer scheme (any case, RFC 6750 section
 * 2.1), whatever follows it: Basic and the other schemes are kept. */
static int bearer(const char *v)
{
    return v && !strncasecmp(v, "Bearer", 6)
           && (v[6] == '\0' || v[6] == ' ' || v[6] == '\t');
}

/* v without its cookie pairs named name (RFC 6265 section 4.2.1), the
 * others joined by "; "; NULL when none is left.  Split at ';' and at
 * ',' (no cookie-value holds either; httpd joins two Cookie headers
 * with ", "), so that no spelling keeps the token. */
static const char *without_cookie(apr_pool_t *p, const char *v,
                                  const char *name)
{
    size_t nlen = strlen(name);
    char *out = NULL;

    while (*v) {
        size_t len = strcspn(v, ";,");
        const char *pair = v;

        v += len;
        if (*v) {
            v++;
        }
        while (len && (*pair == ' ' || *pair == '\t')) {
            pair++;
            len--;
        }
        while (len && (pair[len - 1] == ' ' || pair[len - 1] == '\t')) {
            len--;
        }
        if (!len || (len >= nlen && !strncmp(pair, name, nlen)
                     && (len == nlen || pair[nlen] == '='
                         || pair[nlen] == ' '))) {
            continue;
        }
        out = out ? apr_pstrcat(p, out, "; ", apr_pstrmemdup(p, pair, len),
                                NULL)
                  : apr_pstrmemdup(p, pair, len);
    }
    return out;
}

/* JWTAuthForwardToken Off with a JWTAuthCookie: that cookie leaves every
 * Cookie header (and HTTP_COOKIE inherited from a parent's environment);
 * the other cookies go on. */
static void scrub_cookie(request_rec *r, const char *name)
{
    const char *v = apr_table_get(r->headers_in, "Cookie");
    const char *rest;

    if (v) {
        /* every Cookie header, merged into one first */
        v = apr_table_getm(r->pool, r->headers_in, "Cookie");
        if ((rest = without_cookie(r->pool, v, name))) {
            apr_table_setn(r->headers_in, "Cookie", rest);
        }
        else {
            apr_table_unset(r->headers_in, "Cookie");
        }
    }
    if ((v = apr_table_get(r->subprocess_env, "HTTP_COOKIE"))) {
        if ((rest = without_cookie(r->pool, v, name))) {
            apr_table_setn(r->subprocess_env, "HTTP_COOKIE", rest);
        }
        else {
            apr_table_unset(r->subprocess_env, "HTTP_COOKIE");
        }
    }
}

/* fixups: in every scope of JWTAuthClaimHeader, the configured names
 * are removed from the request whatever its token, then set from a
 * valid one's claims; JWTAuthForwardToken Off removes the token. */
static int headers_fixup(request_rec *r)
{
    const jwtauth_dir_conf *conf = ap_get_module_config(r->per_dir_config,
                                                        &jwtauth_module);
    const char *token_header = jwtauth_conf_header(conf);
    const jwtauth_result *res;
    int i;

    if (conf->forward_token == 0) {
        scrub(r, token_header);
        if (bearer(apr_table_get(r->headers_in, "Authorization"))) {
            apr_table_unset(r->headers_in, "Authorization");
        }
        if (bearer(apr_table_get(r->subprocess_env, "HTTP_AUTHORIZATION"))) {
            apr_table_unset(r->subprocess_env, "HTTP_AUTHORIZATION");
        }
        if (conf->cookie) {
            scrub_cookie(r, conf->cookie);
        }
    }
    if (!conf->claim_headers) {
        return DECLINED;
    }
    for (i = 0; i < conf->claim_headers->nelts; i++) {
        scrub(r, APR_ARRAY_IDX(conf->claim_headers, i,
                               jwtauth_claim_header).name);
    }
    if (!(res = jwtauth_applied_result(r)) || res->result != RESULT_VALID) {
        return DECLINED;
    }
    for (i = 0; i < conf->claim_headers->nelts; i++) {
        const jwtauth_claim_header *ch = &APR_ARRAY_IDX(
            conf->claim_headers, i, jwtauth_claim_header);
        const char *v;

        /* a section below may rename the token's header after the
         * directive was checked: never write a claim into the token */
        if (same_name(ch->name, token_header)) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "JWTAuthClaimHeader "
                          "%s: the token's header here (JWTAuthHeader); not "
                          "set", ch->name);
            continue;
        }
        if ((v = jwt_header_value(r->pool, &res->jwt->claims, ch->path))) {
            apr_table_setn(r->headers_in, ch->name, v);
        }
    }
    return DECLINED;
}

void jwtauth_headers_hooks(apr_pool_t *p)
{
    ap_hook_fixups(headers_fixup, NULL, NULL, APR_HOOK_MIDDLE);
}
