/*
 * claims.c: decisions on the claims of a token that passed its
 * signature check: the registered claims (RFC 7519 section 4.1) against
 * a policy.
 *
 * No httpd header: APR and jansson.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "claims.h"


/* A NumericDate claim (RFC 7519 §2): an integer or a finite real.
 * Returns 1 and *value when present and numeric, 0 when absent,
 * -1 when present with another type. */
static int numeric_date(const jwt_claims_t *c, const char *name,
                        double *value)
{
    const jwt_member_t *m = jwt_claims_get(c, name);

    if (!m) {
        return 0;
    }
    return jwt_member_number(c, m, value) ? 1 : -1;
}

/* Is s (len bytes) a GUID: 8-4-4-4-12 hex digits? */
static int is_guid(const char *s, size_t len)
{
    size_t i;

    if (len != 36) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23
            ? s[i] != '-' : !apr_isxdigit(s[i])) {
            return 0;
        }
    }
    return 1;
}

#define TENANT "{tenantid}"
#define TENANT_LEN (sizeof(TENANT) - 1)

int jwt_issuer_matches(const jwt_claims_t *claims, const jwt_member_t *iss,
                       const char *want)
{
    const jwt_member_t *tid;
    const char *v, *t, *w = want;
    size_t vlen, tlen;

    if (!iss || iss->type != JWT_JSON_STRING) {
        return 0;
    }
    if (!strstr(want, TENANT)) {
        return jwt_member_has_string(claims, iss, want);
    }
    tid = jwt_claims_get(claims, "tid");
    if (!tid || tid->type != JWT_JSON_STRING
        || !is_guid(claims->base + tid->value, tid->value_len)) {
        return 0;
    }
    t = claims->base + tid->value;
    tlen = tid->value_len;
    v = claims->base + iss->value;
    vlen = iss->value_len;
    /* walk the template: each "{tenantid}" stands for the tid's bytes */
    while (*w) {
        if (!strncmp(w, TENANT, TENANT_LEN)) {
            if (vlen < tlen || memcmp(v, t, tlen)) {
                return 0;
            }
            v += tlen;
            vlen -= tlen;
            w += TENANT_LEN;
        }
        else {
            if (vlen == 0 || *v != *w) {
                return 0;
            }
            v++;
            vlen--;
            w++;
        }
    }
    return vlen == 0;
}

int jwt_claims_times(const jwt_claims_t *claims, jwt_times_t *t,
                     jwt_error_t *err)
{
    /* exp is required: a token that never expires is refused */
    int rc = numeric_date(claims, "exp", &t->exp);

    if (rc == 0) {
        jwt_set_err(err, JWT_ERR_MISSING, "no exp claim");
        return 0;
    }
    if (rc < 0) {
        jwt_set_err(err, JWT_ERR_CLAIM, "exp is not a NumericDate");
        return 0;
    }
    if ((rc = numeric_date(claims, "nbf", &t->nbf)) < 0) {
        jwt_set_err(err, JWT_ERR_CLAIM, "nbf is not a NumericDate");
        return 0;
    }
    t->has_nbf = rc > 0;
    if ((rc = numeric_date(claims, "iat", &t->iat)) < 0) {
        jwt_set_err(err, JWT_ERR_CLAIM, "iat is not a NumericDate");
        return 0;
    }
    t->has_iat = rc > 0;
    return 1;
}

int jwt_check_times(const jwt_times_t *t, apr_int64_t leeway,
                    apr_int64_t now, jwt_error_t *err)
{
    double lo = (double)now - (double)leeway,
           hi = (double)now + (double)leeway;

    if (t->exp <= lo) {
        jwt_set_err(err, JWT_ERR_EXPIRED, "token expired");
        return 0;
    }
    if (t->has_nbf && t->nbf > hi) {
        jwt_set_err(err, JWT_ERR_NOT_YET, "token not yet valid (nbf)");
        return 0;
    }
    if (t->has_iat && t->iat > hi) {
        jwt_set_err(err, JWT_ERR_NOT_YET, "token issued in the future (iat)");
        return 0;
    }
    return 1;
}

int jwt_check_claims(const jwt_claims_t *claims, const jwt_policy_t *pol,
                     apr_int64_t now, jwt_error_t *err)
{
    const jwt_member_t *v;
    jwt_times_t t;
    int i;

    if (!jwt_claims_times(claims, &t, err)
        || !jwt_check_times(&t, pol->leeway, now, err)) {
        return 0;
    }
    if (pol->issuers && pol->issuers->nelts > 0) {
        if (!(v = jwt_claims_get(claims, "iss"))) {
            jwt_set_err(err, JWT_ERR_MISSING, "no iss claim");
            return 0;
        }
        for (i = 0; v->type == JWT_JSON_STRING && i < pol->issuers->nelts;
             i++) {
            if (jwt_issuer_matches(claims, v, APR_ARRAY_IDX(
                                       pol->issuers, i, const char *))) {
                break;
            }
        }
        if (v->type != JWT_JSON_STRING || i == pol->issuers->nelts) {
            jwt_set_err(err, JWT_ERR_ISSUER, "iss does not match");
            return 0;
        }
    }
    if (pol->audiences && pol->audiences->nelts > 0) {
        if (!(v = jwt_claims_get(claims, "aud"))) {
            jwt_set_err(err, JWT_ERR_MISSING, "no aud claim");
            return 0;
        }
        if (v->type != JWT_JSON_STRING && v->type != JWT_JSON_ARRAY) {
            jwt_set_err(err, JWT_ERR_CLAIM, "aud is neither string nor array");
            return 0;
        }
        for (i = 0; i < pol->audiences->nelts; i++) {
            if (jwt_member_has_string(claims, v,
                                      APR_ARRAY_IDX(pol->audiences, i,
                                                    const char *))) {
                break;
            }
        }
        if (i == pol->audiences->nelts) {
            jwt_set_err(err, JWT_ERR_AUDIENCE, "aud does not match");
            return 0;
        }
    }
    return 1;
}


/* ---------------------------------------------------------------- */
/* the user, Require jwt-claim                                      */

const char *jwt_claims_user(apr_pool_t *p, const jwt_claims_t *c,
                            const char *name)
{
    const jwt_member_t *v = jwt_claims_get(c, name);

    if (!v || (v->type == JWT_JSON_STRING ? v->value_len == 0
                                          : v->type != JWT_JSON_INTEGER)) {
        return NULL;
    }
    return jwt_member_text(p, c, v);
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

static int value_matches(apr_pool_t *p, const json_t *v,
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

int jwt_claim_matches(apr_pool_t *p, const jwt_claims_t *c,
                      const char *name, const apr_array_header_t *values)
{
    const jwt_member_t *m = jwt_claims_get(c, name);
    json_t *v, *e;
    size_t i;

    if (!m || !(v = jwt_member_json(p, c, m))) {
        return 0;
    }
    if (json_is_array(v)) {
        json_array_foreach(v, i, e) {
            if (value_matches(p, e, values)) {
                return 1;
            }
        }
        return 0;
    }
    return value_matches(p, v, values);
}

/* ---------------------------------------------------------------- */
/* claim paths                                                      */

jwt_path_t *jwt_path_parse(apr_pool_t *p, const char *text,
                           const char **err)
{
    jwt_path_t *path;
    const char **seg;
    const char *s, *dot;
    int n = 1;

    if (!text || !*text) {
        *err = "empty claim path";
        return NULL;
    }
    for (s = text; *s; s++) {
        n += *s == '.';
    }
    if (n > JWT_PATH_MAX_SEGMENTS) {
        *err = apr_psprintf(p, "claim path \"%s\" has more than %d "
                            "segments", text, JWT_PATH_MAX_SEGMENTS);
        return NULL;
    }
    path = apr_pcalloc(p, sizeof(*path));
    path->text = apr_pstrdup(p, text);
    seg = apr_palloc(p, n * sizeof(*seg));
    for (s = path->text, n = 0; ; s = dot + 1) {
        dot = strchr(s, '.');
        if ((dot ? (size_t)(dot - s) : strlen(s)) == 0) {
            *err = apr_psprintf(p, "claim path \"%s\" has an empty "
                                "segment (a leading, trailing or "
                                "doubled dot)", text);
            return NULL;
        }
        seg[n++] = dot ? apr_pstrmemdup(p, s, dot - s) : s;
        if (!dot) {
            break;
        }
    }
    path->seg = seg;
    path->nseg = n;
    return path;
}

/* Walk v from segment i on, pushing what the last segment reaches.  An
 * array before the end fans out once (fanned: v is an element of one);
 * the recursion is at most two frames a segment deep. */
static void walk(const json_t *v, const jwt_path_t *path, int i, int fanned,
                 apr_array_header_t *out)
{
    const json_t *e;
    size_t k;

    if (i == path->nseg) {
        APR_ARRAY_PUSH(out, const json_t *) = v;
    }
    else if (json_is_object(v)) {
        if ((e = json_object_get(v, path->seg[i]))) {
            walk(e, path, i + 1, 0, out);
        }
    }
    else if (json_is_array(v) && !fanned) {
        for (k = 0; k < json_array_size(v); k++) {
            walk(json_array_get(v, k), path, i, 1, out);
        }
    }
}

/* The top-level member a path starts from: the one named by its whole
 * text, else (*nested set) the one named by its first segment when the
 * path has more and that member can hold them. */
static const jwt_member_t *path_start(const jwt_claims_t *c,
                                      const jwt_path_t *path, int *nested)
{
    const jwt_member_t *m = jwt_claims_get(c, path->text);

    *nested = 0;
    if (m || path->nseg == 1) {
        return m;
    }
    m = jwt_claims_get(c, path->seg[0]);
    if (!m || (m->type != JWT_JSON_OBJECT && m->type != JWT_JSON_ARRAY)) {
        return NULL;
    }
    *nested = 1;
    return m;
}

int jwt_path_values(apr_pool_t *p, const jwt_claims_t *c,
                    const jwt_path_t *path, apr_array_header_t *out)
{
    int nested, before = out->nelts;
    const jwt_member_t *m = path_start(c, path, &nested);
    json_t *v;

    if (!m || !(v = jwt_member_json(p, c, m))) {
        return 0;
    }
    if (nested) {
        walk(v, path, 1, 0, out);
    }
    else {
        APR_ARRAY_PUSH(out, const json_t *) = v;
    }
    return out->nelts - before;
}

int jwt_path_matches(apr_pool_t *p, const jwt_claims_t *c,
                     const jwt_path_t *path,
                     const apr_array_header_t *values)
{
    apr_array_header_t *reached = apr_array_make(p, 1, sizeof(json_t *));
    const json_t *v, *e;
    size_t k;
    int i;

    jwt_path_values(p, c, path, reached);
    for (i = 0; i < reached->nelts; i++) {
        v = APR_ARRAY_IDX(reached, i, const json_t *);
        if (!json_is_array(v)) {
            if (value_matches(p, v, values)) {
                return 1;
            }
            continue;
        }
        for (k = 0; k < json_array_size(v); k++) {
            e = json_array_get(v, k);
            if (value_matches(p, e, values)) {
                return 1;
            }
        }
    }
    return 0;
}

/* A string without a NUL as it is, anything else as compact JSON; NULL
 * for a string holding a NUL (or when memory is short). */
static const char *value_text(apr_pool_t *p, const json_t *v)
{
    if (json_is_string(v)) {
        return memchr(json_string_value(v), '\0', json_string_length(v))
               ? NULL : json_string_value(v);
    }
    return jwt_json_dump(p, v);
}

/* The text of what a path reaches (jwt_path_text's rules), or NULL when
 * it reaches nothing, when the one string reached holds a NUL, or when
 * memory is short. */
static const char *path_text(apr_pool_t *p, const jwt_claims_t *c,
                             const jwt_path_t *path)
{
    apr_array_header_t *reached;
    const jwt_member_t *m;
    json_t *all;
    int nested, i;

    /* a top-level claim as JWT_CLAIM_* has it, without a tree */
    if ((m = path_start(c, path, &nested)) && !nested) {
        return jwt_member_text(p, c, m);
    }
    if (!m) {
        return NULL;
    }
    reached = apr_array_make(p, 1, sizeof(json_t *));
    if (jwt_path_values(p, c, path, reached) == 1) {
        return value_text(p, APR_ARRAY_IDX(reached, 0, const json_t *));
    }
    if (reached->nelts == 0 || !(all = jwt_json_pool(p, json_array()))) {
        return NULL;
    }
    for (i = 0; i < reached->nelts; i++) {
        json_array_append(all, (json_t *)APR_ARRAY_IDX(reached, i,
                                                       const json_t *));
    }
    return value_text(p, all);
}

const char *jwt_path_text(apr_pool_t *p, const jwt_claims_t *c,
                          const jwt_path_t *path)
{
    const char *text = path_text(p, c, path);

    return text ? text : "";
}

/* ---------------------------------------------------------------- */
/* claims as request headers                                        */

#define ENCODED_PREFIX "=?UTF-8?B?"
#define ENCODED_SUFFIX "?="

/* Standard base64 with padding (RFC 4648 section 4), NUL-terminated. */
static char *base64(apr_pool_t *p, const unsigned char *in, size_t len)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                              "abcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = apr_palloc(p, (len + 2) / 3 * 4 + 1), *o = out;
    size_t i;

    for (i = 0; i + 2 < len; i += 3) {
        *o++ = tab[in[i] >> 2];
        *o++ = tab[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
        *o++ = tab[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
        *o++ = tab[in[i + 2] & 63];
    }
    if (i < len) {
        *o++ = tab[in[i] >> 2];
        if (i + 1 < len) {
            *o++ = tab[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
            *o++ = tab[(in[i + 1] & 15) << 2];
        }
        else {
            *o++ = tab[(in[i] & 3) << 4];
            *o++ = '=';
        }
        *o++ = '=';
    }
    *o = '\0';
    return out;
}

/* Does s go into a header as it is?  Visible ASCII and spaces, but not
 * a space at either end (HTTP drops it: RFC 9110 section 5.5) and not
 * the encoded form's prefix (the backend could not tell them apart). */
static int header_plain(const char *s, size_t len)
{
    size_t i;

    if (len && (s[0] == ' ' || s[len - 1] == ' ')) {
        return 0;
    }
    if (len >= 2 && s[0] == '=' && s[1] == '?') {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) {
            return 0;
        }
    }
    return 1;
}

const char *jwt_header_encode(apr_pool_t *p, const char *s, size_t len)
{
    if (header_plain(s, len)) {
        return apr_pstrmemdup(p, s, len);
    }
    return apr_pstrcat(p, ENCODED_PREFIX,
                       base64(p, (const unsigned char *)s, len),
                       ENCODED_SUFFIX, NULL);
}

const char *jwt_header_value(apr_pool_t *p, const jwt_claims_t *c,
                             const jwt_path_t *path)
{
    const char *text = path_text(p, c, path);

    return text ? jwt_header_encode(p, text, strlen(text)) : NULL;
}

/* Push the space-delimited words of s (len bytes) onto out. */
static void push_words(apr_pool_t *p, const char *s, size_t len,
                       apr_array_header_t *out)
{
    const char *end = s + len, *w;

    while (s < end) {
        while (s < end && *s == ' ') {
            s++;
        }
        for (w = s; s < end && *s != ' '; s++) {
        }
        if (s > w) {
            APR_ARRAY_PUSH(out, const char *) = apr_pstrmemdup(p, w, s - w);
        }
    }
}

/* A string's words (none when it holds a NUL). */
static void push_string_words(apr_pool_t *p, const json_t *v,
                              apr_array_header_t *out)
{
    if (!memchr(json_string_value(v), '\0', json_string_length(v))) {
        push_words(p, json_string_value(v), json_string_length(v), out);
    }
}

apr_array_header_t *jwt_path_list(apr_pool_t *p, const jwt_claims_t *c,
                                  const jwt_path_t *path)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(const char *));
    apr_array_header_t *reached = apr_array_make(p, 1, sizeof(json_t *));
    const json_t *v;
    const char *text;
    size_t k;
    int i;

    jwt_path_values(p, c, path, reached);
    for (i = 0; i < reached->nelts; i++) {
        v = APR_ARRAY_IDX(reached, i, const json_t *);
        if (json_is_string(v)) {
            push_string_words(p, v, out);
        }
        else if (json_is_array(v)) {
            for (k = 0; k < json_array_size(v); k++) {
                if ((text = value_text(p, json_array_get(v, k)))) {
                    APR_ARRAY_PUSH(out, const char *) = text;
                }
            }
        }
        else if ((text = value_text(p, v))) {
            APR_ARRAY_PUSH(out, const char *) = text;
        }
    }
    return out;
}

/* ---------------------------------------------------------------- */
/* scopes                                                           */

apr_array_header_t *jwt_claim_scopes(apr_pool_t *p, const jwt_claims_t *c)
{
    apr_array_header_t *out = apr_array_make(p, 8, sizeof(const char *));
    const jwt_member_t *m;
    json_t *v;
    size_t k;

    /* strings are the scanner's decoded bytes, never holding a NUL */
    if ((m = jwt_claims_get(c, "scope")) && m->type == JWT_JSON_STRING) {
        push_words(p, c->base + m->value, m->value_len, out);
    }
    if (!(m = jwt_claims_get(c, "scp"))) {
        return out;
    }
    if (m->type == JWT_JSON_STRING) {
        push_words(p, c->base + m->value, m->value_len, out);
    }
    else if (m->type == JWT_JSON_ARRAY && (v = jwt_member_json(p, c, m))) {
        for (k = 0; k < json_array_size(v); k++) {
            const json_t *e = json_array_get(v, k);

            /* an element is one scope, as it is: a blank in it cannot
             * equal a required scope (those never hold one) */
            if (json_is_string(e)
                && !memchr(json_string_value(e), '\0',
                           json_string_length(e))) {
                APR_ARRAY_PUSH(out, const char *) = json_string_value(e);
            }
        }
    }
    return out;
}

int jwt_scopes_grant(const apr_array_header_t *granted,
                     const apr_array_header_t *required)
{
    int i, j;

    for (i = 0; i < required->nelts; i++) {
        const char *want = APR_ARRAY_IDX(required, i, const char *);

        for (j = 0; j < granted->nelts; j++) {
            if (!strcmp(want, APR_ARRAY_IDX(granted, j, const char *))) {
                break;
            }
        }
        if (j == granted->nelts) {
            return 0;
        }
    }
    return 1;
}

/* ---------------------------------------------------------------- */
/* environment variables                                            */

/* httpd passes a variable to CGI unchanged only when its name is made of
 * these (ap_create_environment turns anything else into '_'). */
#define NAME_CHAR(c) (((c) >= 'A' && (c) <= 'Z')                           \
                      || ((c) >= 'a' && (c) <= 'z')                        \
                      || ((c) >= '0' && (c) <= '9') || (c) == '_')
#define N4(n)   NAME_CHAR(n), NAME_CHAR((n) + 1), NAME_CHAR((n) + 2),         \
                NAME_CHAR((n) + 3)
#define N16(n)  N4(n), N4((n) + 4), N4((n) + 8), N4((n) + 12)
#define N64(n)  N16(n), N16((n) + 16), N16((n) + 32), N16((n) + 48)

static const unsigned char name_chars[256] = {
    N64(0), N64(64), N64(128), N64(192)
};

static int exportable(const char *name, size_t len)
{
    const unsigned char *s = (const unsigned char *)name, *e = s + len;

    while (s < e && name_chars[*s]) {
        s++;
    }
    return s == e && len > 0;
}

/* Would httpd's tables take exportable name a (of len bytes) and the
 * name b for one key?  They compare without ASCII case; on exportable
 * names, setting bit 0x20 folds exactly that, and b is exportable too
 * when it matches. */
static int same_variable(const char *a, const char *b, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if ((a[i] | 0x20) != (b[i] | 0x20)) {
            return 0;
        }
    }
    return exportable(b, len);
}

/* Beyond this many claims the clashes are found through a hash of the
 * folded names instead of comparing every pair. */
#define ENV_PAIRWISE_MAX 32

/* The folded (bit 0x20 set) copies of the names ok[] marks (the
 * exportable ones), counted. */
static apr_hash_t *folded_counts(apr_pool_t *p, const jwt_claims_t *c,
                                 const unsigned char *ok)
{
    apr_hash_t *h = apr_hash_make(p);
    int i;

    for (i = 0; i < c->n; i++) {
        const jwt_member_t *m = &c->m[i];
        char *f;
        size_t k;
        int *count;

        if (!ok[i]) {
            continue;
        }
        f = apr_pstrmemdup(p, c->base + m->name, m->name_len);
        for (k = 0; k < m->name_len; k++) {
            f[k] |= 0x20;
        }
        if (!(count = apr_hash_get(h, f, (apr_ssize_t)m->name_len))) {
            count = apr_pcalloc(p, sizeof(*count));
            apr_hash_set(h, f, (apr_ssize_t)m->name_len, count);
        }
        (*count)++;
    }
    return h;
}

/* Which claims become variables: ok[i] is 1 when claim i's name is
 * exportable and shares its variable with no other claim's (names are
 * unique, the scanner refuses duplicates, so a clash is another claim
 * spelt with other case), else 0.  Each pair is compared once. */
static void env_verdicts(apr_pool_t *p, const jwt_claims_t *c,
                         unsigned char *ok)
{
    apr_uint32_t key[ENV_PAIRWISE_MAX];
    int i, j;

    for (i = 0; i < c->n; i++) {
        ok[i] = (unsigned char)exportable(c->base + c->m[i].name,
                                          c->m[i].name_len);
    }
    if (c->n > ENV_PAIRWISE_MAX) {
        apr_hash_t *h = folded_counts(p, c, ok);
        char *f = NULL;
        size_t cap = 0, k;

        for (i = 0; i < c->n; i++) {
            const jwt_member_t *m = &c->m[i];

            if (!ok[i]) {
                continue;
            }
            if (m->name_len > cap) {
                cap = 2 * m->name_len;
                f = apr_palloc(p, cap);
            }
            for (k = 0; k < m->name_len; k++) {
                f[k] = c->base[m->name + k] | 0x20;
            }
            ok[i] = *(int *)apr_hash_get(h, f, (apr_ssize_t)m->name_len)
                    == 1;
        }
        return;
    }
    /* each exportable name's length and folded first and last byte as
     * one number: names can clash only when these are equal; 0 for the
     * names that are not exportable, which clash with none */
    for (i = 0; i < c->n; i++) {
        const char *a = c->base + c->m[i].name;
        apr_uint32_t len = c->m[i].name_len;

        key[i] = ok[i] ? len << 16 | (apr_uint32_t)(a[0] | 0x20) << 8
                         | (apr_uint32_t)(a[len - 1] | 0x20) : 0;
    }
    for (i = 0; i < c->n; i++) {
        if (!key[i]) {
            continue;
        }
        for (j = i + 1; j < c->n; j++) {
            if (key[j] == key[i] && c->m[j].name_len == c->m[i].name_len
                && same_variable(c->base + c->m[i].name,
                                 c->base + c->m[j].name,
                                 c->m[i].name_len)) {
                ok[i] = ok[j] = 0;
            }
        }
    }
}

/* The bytes a variable's value takes in the one block of
 * jwt_claims_env, with its NUL; 0 when the value is not a plain copy
 * of its text (reals, arrays, objects: jwt_member_text makes it). */
static size_t env_value_size(const jwt_claims_t *c, const jwt_member_t *m)
{
    switch (m->type) {
    case JWT_JSON_STRING:
    case JWT_JSON_TRUE:
    case JWT_JSON_FALSE:
    case JWT_JSON_NULL:
    case JWT_JSON_INTEGER:
        return (size_t)m->value_len + 1;
    default:
        return 0;
    }
}

apr_array_header_t *jwt_claims_env(apr_pool_t *p, const jwt_claims_t *c,
                                   const char *prefix,
                                   apr_array_header_t **skipped)
{
    apr_array_header_t *vars = apr_array_make(p, c->n, sizeof(jwt_env_t));
    unsigned char small[ENV_PAIRWISE_MAX], *ok = small;
    jwt_env_t *v = (jwt_env_t *)vars->elts;
    size_t plen = strlen(prefix), total = 0;
    char *o;
    int i;

    if (skipped) {
        *skipped = apr_array_make(p, 1, sizeof(const char *));
    }
    if (c->n > ENV_PAIRWISE_MAX) {
        ok = apr_palloc(p, (apr_size_t)c->n);
    }
    env_verdicts(p, c, ok);
    /* every name and every plain value in one block */
    for (i = 0; i < c->n; i++) {
        if (ok[i]) {
            total += plen + c->m[i].name_len + 1
                     + env_value_size(c, &c->m[i]);
        }
    }
    o = apr_palloc(p, total ? total : 1);
    for (i = 0; i < c->n; i++) {
        const jwt_member_t *m = &c->m[i];
        const char *name = c->base + m->name;
        size_t size;

        if (!ok[i]) {
            if (skipped) {
                APR_ARRAY_PUSH(*skipped, const char *) =
                    apr_pstrmemdup(p, name, m->name_len);
            }
            continue;
        }
        v->name = o;
        memcpy(o, prefix, plen);
        memcpy(o + plen, name, m->name_len);
        o += plen + m->name_len;
        *o++ = '\0';
        if ((size = env_value_size(c, m))) {
            const char *t = c->base + m->value;

            /* jwt_member_text's rules: the text, but "0" for "-0" */
            v->value = o;
            if (m->type == JWT_JSON_INTEGER && m->value_len == 2
                && t[0] == '-' && t[1] == '0') {
                *o++ = '0';
                *o++ = '\0';
                o += size - 2;
            }
            else {
                memcpy(o, t, size - 1);
                o[size - 1] = '\0';
                o += size;
            }
        }
        else if (!(v->value = jwt_member_text(p, c, m))) {
            continue;
        }
        v++;
    }
    vars->nelts = (int)(v - (jwt_env_t *)vars->elts);
    return vars;
}

/* ---------------------------------------------------------------- */
/* typed values of issued claims                                    */

int jwt_value_type(jwt_value_type_e *out, const char *name)
{
    if (!name || !strcasecmp(name, "string")) {
        *out = JWT_VALUE_STRING;
    }
    else if (!strcasecmp(name, "int")) {
        *out = JWT_VALUE_INT;
    }
    else if (!strcasecmp(name, "bool")) {
        *out = JWT_VALUE_BOOL;
    }
    else {
        return 0;
    }
    return 1;
}

json_t *jwt_typed_value(const char *s, jwt_value_type_e type)
{
    static const char *const yes[] = { "1", "true", "on", "yes", NULL };
    static const char *const no[] = { "", "0", "false", "off", "no", NULL };
    apr_int64_t n;
    char *end;
    int i;

    switch (type) {
    case JWT_VALUE_INT:
        errno = 0;
        n = apr_strtoi64(s, &end, 10);
        if (errno || end == s || *end || apr_isspace(*s) || *s == '+') {
            return NULL;
        }
        return json_integer((json_int_t)n);
    case JWT_VALUE_BOOL:
        for (i = 0; yes[i]; i++) {
            if (!strcasecmp(s, yes[i])) {
                return json_true();
            }
        }
        for (i = 0; no[i]; i++) {
            if (!strcasecmp(s, no[i])) {
                return json_false();
            }
        }
        return NULL;
    default:
        return json_string(s);
    }
}
