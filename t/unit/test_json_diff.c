/*
 * test_json_diff.c: the claims scanner (jose/json.c) and the claims'
 * environment variables (jwt_claims_env, jose/claims.c) against the code
 * they replaced, kept unchanged in t/unit/ref/ and compiled in here with
 * their public names renamed ref_*.  On random claims sets (names that
 * clash in case, share 8-byte prefixes, hold escapes or bytes no
 * variable name may; every kind of value, integers at 18, 19 and 20
 * digits and at the 64-bit limits, reals that overflow, -0, escapes,
 * UTF-8, nested duplicates, blanks; more than 32 members, where both
 * duplicate and clash checks switch to a hash) and on hostile mutations
 * of them (bytes flipped, inserted, deleted), both must give the same
 * verdict and, when they accept, the same members, the same text of
 * every value, the same lookups and the same variables in the same
 * order, byte for byte.  A share of the texts also goes to jansson
 * (t/json_oracle.h).
 */
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "jose.h"
#include "tap.h"
#include "../json_oracle.h"

/* ---- the reference: the code before the change, renamed ---- */
#define jwt_claims_parse      ref_claims_parse
#define jwt_claims_get        ref_claims_get
#define jwt_json_real         ref_json_real
#define jwt_member_int        ref_member_int
#define jwt_member_number     ref_member_number
#define jwt_member_json       ref_member_json
#define jwt_member_text       ref_member_text
#define jwt_claim_text        ref_claim_text
#define jwt_member_has_string ref_member_has_string
#define jwt_claims_blob_size  ref_claims_blob_size
#define jwt_claims_copy       ref_claims_copy
#define jwt_claims_env        ref_claims_env
/* used before its definition there (json.h, already included, declared
 * it under its real name) */
int ref_json_real(const char *text, size_t len, double *out);
#include "ref/json_before.c"
#include "ref/claims_env_before.c"
#undef jwt_claims_parse
#undef jwt_claims_get
#undef jwt_json_real
#undef jwt_member_int
#undef jwt_member_number
#undef jwt_member_json
#undef jwt_member_text
#undef jwt_claim_text
#undef jwt_member_has_string
#undef jwt_claims_blob_size
#undef jwt_claims_copy
#undef jwt_claims_env

/* ---- random claims ---- */

static unsigned long seed = 20261201;

static unsigned rnd(unsigned n)
{
    seed = seed * 6364136223846793005UL + 1442695040888963407UL;
    return (unsigned)(seed >> 33) % n;
}

typedef struct {
    char *t;
    size_t len, cap;
} buf_t;

static void put(buf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = 2 * (b->len + n + 1);
        b->t = realloc(b->t, b->cap);
    }
    memcpy(b->t + b->len, s, n);
    b->len += n;
    b->t[b->len] = '\0';
}

static void puts_(buf_t *b, const char *s)
{
    put(b, s, strlen(s));
}

/* blanks between tokens, now and then */
static void blank(buf_t *b)
{
    static const char *const ws[] = { " ", "\n", "\r", "\t", "  \n\t" };

    if (rnd(6) == 0) {
        puts_(b, ws[rnd(5)]);
    }
}

/* names: the usual claims, case variants, names sharing their first 8
 * bytes, escapes, bytes no variable name may hold */
static const char *const names[] = {
    "sub", "exp", "iat", "nbf", "iss", "aud", "jti", "scope", "scp",
    "roles", "org", "SUB", "Sub", "EXP", "role", "ROLE", "Role",
    "a_b", "a-b", "A_B", "a1", "A1", "_", "__", "0", "123", "",
    "x=y", "a b", "a.b", "\xc3\xa9", "\xc3\x89", "\\u0073ub",
    "\\u0072ole", "a\\u002db", "\\\"q", "a\\\\b", "a\\nb", "\\/",
    "abcdefgh", "abcdefgh1", "abcdefgh2", "ABCDEFGH1", "abcdefghij",
    "abcdefgi", "abcdefgh_very_long_name_1", "abcdefgh_very_long_name_2",
    "ABCDEFGH_VERY_LONG_NAME_1", "https://example.com/roles",
    "\\u00e9", "\\ud83d\\ude00x"
};

/* the valid ones first: a clean set takes only those */
#define STRINGS_VALID 19
static const char *const strings[] = {
    "", "daehan", "user00000001", "read write", " lead", "trail ",
    "a=b", "\\u00e9\\/", "\\\"\\\\\\b\\f\\n\\r\\t", "\\ud83d\\ude00",
    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\x7f", "=?x", "api", "web",
    "reader", "editor", "very long string value with some words to run "
    "past eight bytes at a time", "\\\\u0000",
    "a\\u0000b", "\\ud800", "\\udc00", "\xc0\xaf",
    "\xed\xa0\x80", "\xf4\x90\x80\x80", "x\x01y"
};

#define NUMBERS_VALID 20
static const char *const numbers[] = {
    "0", "-0", "1", "-1", "1700000000", "123456789012345678",
    "-123456789012345678", "1234567890123456789", "9223372036854775807",
    "-9223372036854775808", "1.5", "-0.0", "1e2", "1E5", "1e+5",
    "-1.25e-2", "1e-400", "9223372036854775808.0", "-1234567890123456789",
    "100000000000000000",
    "9223372036854775808", "-9223372036854775809", "12345678901234567890",
    "99999999999999999999", "1e400", "-1.7e309", "01", "1.", ".5", "+1",
    "-", "1e"
};

/* a set of more than 32 members: valid values and mostly distinct
 * names, so that the scanner accepts it and the hash paths run */
static int clean;

static void value(buf_t *b, int depth);

static void string(buf_t *b)
{
    puts_(b, "\"");
    puts_(b, strings[rnd(clean ? STRINGS_VALID
                             : sizeof(strings) / sizeof(strings[0]))]);
    puts_(b, "\"");
}

static void object(buf_t *b, int depth, int n)
{
    int i;

    puts_(b, "{");
    blank(b);
    for (i = 0; i < n; i++) {
        if (i) {
            puts_(b, ",");
            blank(b);
        }
        puts_(b, "\"");
        if (rnd(8) == 0 || (clean && depth == 1 && rnd(40))) {
            char gen[16];

            /* many distinct names, some differing only in case */
            snprintf(gen, sizeof(gen), rnd(3) ? "m%u" : "M%u",
                     rnd(clean ? 5000 : 200));
            puts_(b, gen);
        }
        else {
            puts_(b, names[rnd(sizeof(names) / sizeof(names[0]))]);
        }
        puts_(b, "\"");
        blank(b);
        puts_(b, ":");
        blank(b);
        value(b, depth + 1);
        blank(b);
    }
    puts_(b, "}");
}

static void value(buf_t *b, int depth)
{
    unsigned r = rnd(depth > 3 ? 7 : 9);
    int i, n;

    switch (r) {
    case 0:
    case 1:
        string(b);
        break;
    case 2:
    case 3:
        puts_(b, numbers[rnd(clean ? NUMBERS_VALID
                             : sizeof(numbers) / sizeof(numbers[0]))]);
        break;
    case 4:
        puts_(b, "true");
        break;
    case 5:
        puts_(b, rnd(2) ? "false" : "null");
        break;
    case 6:
        puts_(b, rnd(8) || clean ? "\"bench\"" : "tru");
        break;
    case 7:
        puts_(b, "[");
        blank(b);
        for (i = 0, n = (int)rnd(5); i < n; i++) {
            if (i) {
                puts_(b, ",");
                blank(b);
            }
            value(b, depth + 1);
            blank(b);
        }
        puts_(b, "]");
        break;
    default:
        object(b, depth, (int)rnd(4));
        break;
    }
}

/* a claims set of a few members, or of more than 32 now and then */
static void claims(buf_t *b)
{
    b->len = 0;
    clean = rnd(10) == 0;
    blank(b);
    object(b, 1, clean ? 33 + (int)rnd(30) : (int)rnd(12));
    blank(b);
}

/* one to three hostile edits: a byte flipped, inserted or deleted */
static void mutate(buf_t *b)
{
    static const char bytes[] = "{}[]\",:\\ \t0-.eE\x80\xff\x00u";
    int k, edits = 1 + (int)rnd(3);

    for (k = 0; k < edits && b->len; k++) {
        size_t at = rnd((unsigned)b->len);
        char ch = rnd(3) ? bytes[rnd(sizeof(bytes) - 1)] : (char)rnd(256);

        switch (rnd(3)) {
        case 0:
            b->t[at] = ch;
            break;
        case 1:
            put(b, "", 1);              /* room for one more byte */
            b->len--;
            memmove(b->t + at + 1, b->t + at, b->len - at);
            b->t[at] = ch;
            b->len++;
            break;
        default:
            memmove(b->t + at, b->t + at + 1, b->len - at - 1);
            b->len--;
            break;
        }
    }
}

/* ---- the comparison ---- */

static const char *env_text(apr_pool_t *p, const apr_array_header_t *v)
{
    const char *s = "";
    int i;

    for (i = 0; i < v->nelts; i++) {
        const jwt_env_t *e = &APR_ARRAY_IDX(v, i, jwt_env_t);

        s = apr_pstrcat(p, s, "\n", e->name, "=", e->value, NULL);
    }
    return s;
}

static const char *list_text(apr_pool_t *p, const apr_array_header_t *v)
{
    const char *s = "";
    int i;

    for (i = 0; i < v->nelts; i++) {
        s = apr_pstrcat(p, s, "\n", APR_ARRAY_IDX(v, i, const char *), NULL);
    }
    return s;
}

static int same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

/* What differs between the old and the new code on text, or NULL.
 * The new scanner reads a private copy of exactly len bytes. */
static const char *differs(apr_pool_t *p, const char *text, size_t len,
                           int *accepted)
{
    static const char *const lookups[] = {
        "sub", "exp", "iat", "SUB", "abcdefgh1", "abcdefgh2", "", "m7",
        "nothere", "abcdefgh_very_long_name_1", "https://example.com/roles"
    };
    static const char *const wants[] = { "api", "web", "", "daehan" };
    jwt_claims_t a, b;
    char *copy = malloc(len ? len : 1);
    int ra, rb, i;
    size_t k;

    memcpy(copy, text, len);
    ra = jwt_claims_parse(&a, p, copy, len);
    rb = ref_claims_parse(&b, p, text, len);
    *accepted = ra;
    if (ra != rb) {
        free(copy);
        return ra ? "accepted, the old scanner refused"
                  : "refused, the old scanner accepted";
    }
    if (!ra) {
        free(copy);
        return NULL;
    }
    if (a.n != b.n || a.len != b.len || a.size != b.size
        || memcmp(a.base + a.len, b.base + b.len, a.size - a.len)) {
        free(copy);
        return "members or decoded strings differ";
    }
    for (i = 0; i < a.n; i++) {
        const jwt_member_t *x = &a.m[i], *y = &b.m[i];
        apr_int64_t ia = 0, ib = 0;
        double da = 0, db = 0;
        int na, nb;

        if (x->type != y->type || x->name_len != y->name_len
            || x->value_len != y->value_len
            || memcmp(a.base + x->name, b.base + y->name, x->name_len)
            || memcmp(a.base + x->value, b.base + y->value, x->value_len)) {
            free(copy);
            return "a member differs";
        }
        if (!same_text(jwt_member_text(p, &a, x),
                       ref_member_text(p, &b, y))) {
            free(copy);
            return "a member's text differs";
        }
        na = jwt_member_int(&a, x, &ia);
        nb = ref_member_int(&b, y, &ib);
        if (na != nb || ia != ib) {
            free(copy);
            return "an integer differs";
        }
        na = jwt_member_number(&a, x, &da);
        nb = ref_member_number(&b, y, &db);
        if (na != nb || memcmp(&da, &db, sizeof(da))) {
            free(copy);
            return "a number differs";
        }
        for (k = 0; k < sizeof(wants) / sizeof(wants[0]); k++) {
            if (jwt_member_has_string(&a, x, wants[k])
                != ref_member_has_string(&b, y, wants[k])) {
                free(copy);
                return "has_string differs";
            }
        }
    }
    /* lookups: of every member's name (when it holds no NUL) and of a
     * few fixed ones */
    for (i = 0; i < a.n; i++) {
        const char *name = apr_pstrmemdup(p, a.base + a.m[i].name,
                                          a.m[i].name_len);
        const jwt_member_t *x = jwt_claims_get(&a, name);
        const jwt_member_t *y = ref_claims_get(&b, name);

        if ((x ? x - a.m : -1) != (y ? y - b.m : -1)) {
            free(copy);
            return "a lookup of a member's name differs";
        }
    }
    for (k = 0; k < sizeof(lookups) / sizeof(lookups[0]); k++) {
        const jwt_member_t *x = jwt_claims_get(&a, lookups[k]);
        const jwt_member_t *y = ref_claims_get(&b, lookups[k]);

        if ((x ? x - a.m : -1) != (y ? y - b.m : -1)) {
            free(copy);
            return "a fixed lookup differs";
        }
    }
    /* the variables, with and without the skipped list */
    {
        apr_array_header_t *sa = NULL, *sb = NULL;
        const char *ea = env_text(p, jwt_claims_env(p, &a, "JWT_CLAIM_",
                                                    &sa));
        const char *eb = env_text(p, ref_claims_env(p, &b, "JWT_CLAIM_",
                                                    &sb));

        if (strcmp(ea, eb) || strcmp(list_text(p, sa), list_text(p, sb))) {
            free(copy);
            return "the variables or the skipped names differ";
        }
        if (strcmp(env_text(p, jwt_claims_env(p, &a, "", NULL)),
                   env_text(p, ref_claims_env(p, &b, "", NULL)))) {
            free(copy);
            return "the variables without a prefix differ";
        }
    }
    free(copy);
    return NULL;
}

int main(void)
{
    apr_pool_t *root, *p;
    buf_t b = { NULL, 0, 0 };
    unsigned long n, bad = 0, acc = 0, mut_acc = 0, big = 0, oracle_bad = 0;
    const char *why;
    int a;

    apr_initialize();
    apr_pool_create(&root, NULL);

    /* generated claims sets, as they are */
    for (n = 0; n < 30000; n++) {
        apr_pool_create(&p, root);
        claims(&b);
        if ((why = differs(p, b.t, b.len, &a))) {
            if (bad++ < 5) {
                printf("# %s on: %s\n", why, b.t);
            }
        }
        acc += (unsigned long)a;
        if (a) {
            jwt_claims_t c;

            big += jwt_claims_parse(&c, p, b.t, b.len) && c.n > 32;
        }
        if (n % 10 == 0 && json_oracle(p, b.t, b.len)) {
            oracle_bad++;
        }
        apr_pool_destroy(p);
    }
    ok(bad == 0, "30,000 generated claims sets: the same verdict, "
       "members, texts, lookups and variables (%lu differ)", bad);
    ok(acc > 3000 && acc < 27000 && big > 100,
       "both verdicts reached (%lu accepted, %lu of them with more than "
       "32 members)", acc, big);

    /* hostile mutations of them */
    for (n = 0, bad = 0; n < 70000; n++) {
        apr_pool_create(&p, root);
        claims(&b);
        mutate(&b);
        if ((why = differs(p, b.t, b.len, &a))) {
            if (bad++ < 5) {
                printf("# %s on a mutated text of %zu bytes\n", why, b.len);
            }
        }
        mut_acc += (unsigned long)a;
        if (n % 10 == 0 && json_oracle(p, b.t, b.len)) {
            oracle_bad++;
        }
        apr_pool_destroy(p);
    }
    ok(bad == 0, "70,000 mutated texts: the same verdict and results "
       "(%lu differ, %lu accepted)", bad, mut_acc);
    ok(oracle_bad == 0, "a tenth of all of them: jansson agrees with the "
       "new scanner (%lu differ)", oracle_bad);

    /* nesting at jansson's depth limit and one past it */
    {
        int depth, ok_all = 1, verdicts = 0;

        for (depth = 2046; depth <= 2050; depth++) {
            int i;

            b.len = 0;
            puts_(&b, "{\"a\":");
            for (i = 1; i < depth; i++) {
                puts_(&b, "[");
            }
            for (i = 1; i < depth; i++) {
                puts_(&b, "]");
            }
            puts_(&b, "}");
            apr_pool_create(&p, root);
            ok_all &= differs(p, b.t, b.len, &a) == NULL;
            verdicts += a;
            apr_pool_destroy(p);
        }
        ok(ok_all && verdicts > 0 && verdicts < 5,
           "nesting 2046..2050: the same verdicts (%d accepted)", verdicts);
    }
    free(b.t);
    apr_pool_destroy(root);
    apr_terminate();
    return done_testing();
}
