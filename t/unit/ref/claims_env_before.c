/*
 * jwt_claims_env and its helpers as they were before the one-block
 * rewrite (jose/claims.c at ace8c06, unchanged below this comment): the
 * reference of t/unit/test_json_diff.c, included there after
 * ref/json_before.c with jwt_claims_env and jwt_member_text renamed
 * ref_*.
 */
/* httpd passes a variable to CGI unchanged only when its name is made of
 * these (ap_create_environment turns anything else into '_'). */
static int exportable(const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];

        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')
              || (ch >= '0' && ch <= '9') || ch == '_')) {
            return 0;
        }
    }
    return len > 0;
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

/* The folded (bit 0x20 set) copies of the exportable names, counted. */
static apr_hash_t *folded_counts(apr_pool_t *p, const jwt_claims_t *c)
{
    apr_hash_t *h = apr_hash_make(p);
    int i;

    for (i = 0; i < c->n; i++) {
        const jwt_member_t *m = &c->m[i];
        char *f;
        size_t k;
        int *count;

        if (!exportable(c->base + m->name, m->name_len)) {
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

/* Does the exportable claim i share its variable with another claim? */
static int clashes(apr_pool_t *p, const jwt_claims_t *c, int i,
                   apr_hash_t **folded)
{
    const jwt_member_t *m = &c->m[i];
    const char *name = c->base + m->name;
    char *f;
    size_t k;
    int j;

    if (c->n <= ENV_PAIRWISE_MAX) {
        for (j = 0; j < c->n; j++) {
            if (j != i && c->m[j].name_len == m->name_len
                && same_variable(name, c->base + c->m[j].name,
                                 m->name_len)) {
                return 1;
            }
        }
        return 0;
    }
    if (!*folded) {
        *folded = folded_counts(p, c);
    }
    f = apr_pstrmemdup(p, name, m->name_len);
    for (k = 0; k < m->name_len; k++) {
        f[k] |= 0x20;
    }
    return *(int *)apr_hash_get(*folded, f, (apr_ssize_t)m->name_len) > 1;
}

apr_array_header_t *jwt_claims_env(apr_pool_t *p, const jwt_claims_t *c,
                                   const char *prefix,
                                   apr_array_header_t **skipped)
{
    apr_array_header_t *vars = apr_array_make(p, c->n, sizeof(jwt_env_t));
    apr_hash_t *folded = NULL;
    size_t plen = strlen(prefix);
    int i;

    if (skipped) {
        *skipped = apr_array_make(p, 1, sizeof(const char *));
    }
    for (i = 0; i < c->n; i++) {
        const jwt_member_t *m = &c->m[i];
        const char *name = c->base + m->name;
        jwt_env_t *v;
        char *n;

        /* names are unique (the scanner refuses duplicates), so a clash
         * is another claim spelt with other case */
        if (!exportable(name, m->name_len) || clashes(p, c, i, &folded)) {
            if (skipped) {
                APR_ARRAY_PUSH(*skipped, const char *) =
                    apr_pstrmemdup(p, name, m->name_len);
            }
            continue;
        }
        n = apr_palloc(p, plen + m->name_len + 1);
        memcpy(n, prefix, plen);
        memcpy(n + plen, name, m->name_len);
        n[plen + m->name_len] = '\0';
        v = apr_array_push(vars);
        v->name = n;
        if (!(v->value = jwt_member_text(p, c, m))) {
            vars->nelts--;
        }
    }
    return vars;
}

