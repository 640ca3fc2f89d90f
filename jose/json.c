/*
 * json.c: the claims of a token, read in one pass without building
 * a tree.
 *
 * jwt_claims_parse() validates the whole payload as jansson would with
 * JSON_REJECT_DUPLICATES (strict RFC 8259 grammar, UTF-8 checked, no
 * \u0000, no lone surrogates, integers within 64 bits, no real that
 * overflows, duplicate names refused in every object, nesting depth
 * 2048) and records each top-level member as offsets: names and string
 * values as their decoded bytes, other values as their JSON text.  The
 * registered claims are then checked on those spans; a value is turned
 * into a jansson value only when a caller asks for one (Require
 * jwt-claim, a real, array or object exported as text).
 *
 * One deviation, stricter: jansson 2.14 skips a NUL byte that follows a
 * number or a literal; the scanner refuses a NUL outside a string.
 * t/fuzz/fuzz_scan.c holds the scanner to jansson's verdict and values
 * (t/json_oracle.h), t/unit/test_json.c to a table.
 *
 * No httpd header: APR, jansson.
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_tables.h>
#include <apr_strings.h>

#include "json.h"

#define MAX_DEPTH 2048          /* jansson's JSON_PARSER_MAX_DEPTH */
#define MAX_TEXT  (1u << 30)    /* offsets are 32 bits; tokens are small */

/* bytes that end the fast path through a string: controls, '"', '\\'
 * and everything from 0x80 (UTF-8, checked apart) */
static const unsigned char str_stop[256] = {
#define X16 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
#define O16 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
    X16, X16,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,     /* '"' */
    O16, O16,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,     /* '\\' */
    O16, O16,
    X16, X16, X16, X16, X16, X16, X16, X16
#undef X16
#undef O16
};

/* the byte b in each of a word's 8 bytes */
#define ALL(b) ((apr_uint64_t)(b) * APR_UINT64_C(0x0101010101010101))

typedef struct {
    apr_uint32_t off, len;      /* decoded bytes, offsets into base */
} span_t;

/* A name of an object being scanned, with its length, first and last
 * byte as one number: two names can be equal only when their keys are. */
typedef struct {
    span_t span;
    apr_uint32_t key;
} name_t;

typedef struct {
    const unsigned char *s, *end;   /* cursor and end of the text */
    const unsigned char *text;
    apr_size_t len;
    apr_pool_t *p;
    char *base;                 /* text then decoded strings, or NULL
                                 * while nothing needed decoding */
    apr_size_t used;            /* bytes of base in use */
    name_t *names;              /* a stack of the names of the objects
                                 * being scanned, for duplicates */
    int nnames, cap;
    jwt_member_t *members;      /* the top level's, in document order */
    int nmembers, mcap;
} scan_t;

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* s past one digit or more, or NULL when there is none */
static const unsigned char *digits(const unsigned char *s,
                                   const unsigned char *end)
{
    if (!(s < end && is_digit(*s))) {
        return NULL;
    }
    while (s < end && is_digit(*s)) {
        s++;
    }
    return s;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The 4 hex digits at s, or -1. */
static long hex4(const unsigned char *s)
{
    long v = 0;
    int i, h;

    for (i = 0; i < 4; i++) {
        if ((h = hexval(s[i])) < 0) {
            return -1;
        }
        v = v << 4 | h;
    }
    return v;
}

static void skip_blanks(scan_t *sc)
{
    while (sc->s < sc->end && (*sc->s == ' ' || *sc->s == '\n'
                               || *sc->s == '\r' || *sc->s == '\t')) {
        sc->s++;
    }
}

/* compact JSON has no blank: one test, inline, says so */
#define skip_ws(sc) do {                                                   \
        if (!((sc)->s < (sc)->end && *(sc)->s > ' ')) {                    \
            skip_blanks(sc);                                               \
        }                                                                  \
    } while (0)

static char *put_utf8(char *o, unsigned long cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    }
    else if (cp < 0x800) {
        *o++ = (char)(0xc0 | cp >> 6);
        *o++ = (char)(0x80 | (cp & 0x3f));
    }
    else if (cp < 0x10000) {
        *o++ = (char)(0xe0 | cp >> 12);
        *o++ = (char)(0x80 | (cp >> 6 & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    }
    else {
        *o++ = (char)(0xf0 | cp >> 18);
        *o++ = (char)(0x80 | (cp >> 12 & 0x3f));
        *o++ = (char)(0x80 | (cp >> 6 & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    }
    return o;
}

/* Decode the contents of a string that scan_string() accepted. */
static size_t decode_string(char *out, const unsigned char *s,
                            const unsigned char *e)
{
    char *o = out;
    unsigned long cp;

    while (s < e) {
        if (*s != '\\') {
            *o++ = (char)*s++;
            continue;
        }
        s++;
        switch (*s++) {
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u':
            cp = (unsigned long)hex4(s);
            s += 4;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                cp = 0x10000 + ((cp - 0xd800) << 10)
                     + ((unsigned long)hex4(s + 2) - 0xdc00);
                s += 6;
            }
            o = put_utf8(o, cp);
            break;
        default:                /* " \ / */
            *o++ = (char)s[-1];
            break;
        }
    }
    return (size_t)(o - out);
}

/* The string at the cursor (on its opening quote).  With span, its
 * decoded bytes are recorded there: in the text when it has no escape,
 * else decoded after the text in base. */
static int scan_string(scan_t *sc, span_t *span)
{
    const unsigned char *s = ++sc->s, *start = s, *end = sc->end;
    int escaped = 0, n;
    long v, w;

    for (;;) {
#if !APR_IS_BIGENDIAN && defined(__GNUC__)
        /* 8 bytes at a time while 8 are left: the lowest byte of the mask
         * that is set is the first stop (a borrow only runs upwards) */
        while (end - s >= 8) {
            apr_uint64_t w, stop;

            memcpy(&w, s, 8);
            stop = ((w ^ ALL(0x22)) - ALL(0x01)) | ((w ^ ALL(0x5c))
                   - ALL(0x01)) | (w - ALL(0x20)) | w;
            if ((stop &= ALL(0x80))) {
                s += __builtin_ctzll(stop) >> 3;
                break;
            }
            s += 8;
        }
#endif
        while (s < end && !str_stop[*s]) {
            s++;
        }
        if (s >= end) {
            return 0;
        }
        if (*s == '"') {
            break;
        }
        if (*s < 0x20) {
            return 0;
        }
        if (*s >= 0x80) {
            if (!(n = jwt_utf8_seq(s, end))) {
                return 0;
            }
            s += n;
            continue;
        }
        /* a backslash */
        escaped = 1;
        if (end - s < 2) {
            return 0;
        }
        switch (s[1]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n':
        case 'r': case 't':
            s += 2;
            continue;
        case 'u':
            break;
        default:
            return 0;
        }
        if (end - s < 6 || (v = hex4(s + 2)) <= 0) {
            return 0;           /* bad hex, or \u0000 */
        }
        s += 6;
        if (v >= 0xdc00 && v <= 0xdfff) {
            return 0;           /* a lone low surrogate */
        }
        if (v >= 0xd800 && v <= 0xdbff) {
            if (end - s < 6 || s[0] != '\\' || s[1] != 'u'
                || (w = hex4(s + 2)) < 0xdc00 || w > 0xdfff) {
                return 0;       /* a high surrogate without its pair */
            }
            s += 6;
        }
    }
    sc->s = s + 1;
    if (!span) {
        return 1;
    }
    if (!escaped) {
        span->off = (apr_uint32_t)(start - sc->text);
        span->len = (apr_uint32_t)(s - start);
        return 1;
    }
    if (!sc->base) {
        /* decoded strings are never longer than their text */
        sc->base = apr_palloc(sc->p, 2 * sc->len);
        memcpy(sc->base, sc->text, sc->len);
        sc->used = sc->len;
    }
    span->off = (apr_uint32_t)sc->used;
    span->len = (apr_uint32_t)decode_string(sc->base + sc->used, start, s);
    sc->used += span->len;
    return 1;
}

/* The number at the cursor, as jansson reads it: an integer must fit in
 * 64 bits, a real must not overflow. */
static int scan_number(scan_t *sc, jwt_json_type_e *type)
{
    const unsigned char *s = sc->s, *end = sc->end, *start = s;
    apr_uint64_t v = 0, limit = APR_INT64_MAX;
    int real = 0;

    if (*s == '-') {
        s++;
        limit = (apr_uint64_t)APR_INT64_MAX + 1;
    }
    if (s < end && *s == '0') {
        s++;
        if (s < end && is_digit(*s)) {
            return 0;
        }
    }
    else if (s < end && is_digit(*s)) {
        /* 18 digits stay below 10^18 < 2^63: no overflow to test */
        const unsigned char *safe = end - s > 18 ? s + 18 : end;

        while (s < safe && is_digit(*s)) {
            v = v * 10 + (unsigned)(*s++ - '0');
        }
        while (s < end && is_digit(*s)) {
            unsigned d = (unsigned)(*s++ - '0');

            if (v > (limit - d) / 10) {
                v = limit + 1;  /* overflow: only an error if integer */
                while (s < end && is_digit(*s)) {
                    s++;
                }
                break;
            }
            v = v * 10 + d;
        }
    }
    else {
        return 0;
    }
    if (s < end && *s == '.') {
        if (!(s = digits(s + 1, end))) {
            return 0;
        }
        real = 1;
    }
    if (s < end && (*s == 'e' || *s == 'E')) {
        s++;
        if (s < end && (*s == '+' || *s == '-')) {
            s++;
        }
        if (!(s = digits(s, end))) {
            return 0;
        }
        real = 1;
    }
    sc->s = s;
    if (!real) {
        *type = JWT_JSON_INTEGER;
        return v <= limit;
    }
    *type = JWT_JSON_REAL;
    return jwt_json_real((const char *)start, (size_t)(s - start), NULL);
}

static int scan_value(scan_t *sc, int depth, jwt_json_type_e *type);

/* The key of a name: its length, first and last byte. */
static apr_uint32_t name_key(const char *b, const span_t *n)
{
    const unsigned char *s = (const unsigned char *)b + n->off;

    return n->len ? n->len << 16 | (apr_uint32_t)s[0] << 8 | s[n->len - 1]
                  : 0;
}

/* Are two names among names[from..to) equal?  Pairwise for the usual
 * handful, through an open-addressed table beyond. */
static int has_duplicate(scan_t *sc, int from, int to)
{
    const char *b = sc->base ? sc->base : (const char *)sc->text;
    int i, j;

    if (to - from > 32) {
        apr_size_t size = 64, h;
        int *tab;

        while (size < 2 * (apr_size_t)(to - from)) {
            size <<= 1;
        }
        tab = apr_pcalloc(sc->p, size * sizeof(*tab));
        for (i = from; i < to; i++) {
            const span_t *a = &sc->names[i].span;
            apr_ssize_t klen = (apr_ssize_t)a->len;

            h = apr_hashfunc_default(b + a->off, &klen) & (size - 1);
            for (; tab[h]; h = (h + 1) & (size - 1)) {
                const span_t *o = &sc->names[tab[h] - 1].span;

                if (o->len == a->len && !memcmp(b + o->off, b + a->off,
                                                a->len)) {
                    return 1;
                }
            }
            tab[h] = i + 1;
        }
        return 0;
    }
    /* the keys from b, the buffer every name's offset points into */
    for (i = from; i < to; i++) {
        sc->names[i].key = name_key(b, &sc->names[i].span);
    }
    for (i = from + 1; i < to; i++) {
        const name_t *a = &sc->names[i];

        for (j = from; j < i; j++) {
            const name_t *o = &sc->names[j];

            if (o->key == a->key && o->span.len == a->span.len
                && (a->span.len <= 2
                    || !memcmp(b + o->span.off + 1, b + a->span.off + 1,
                               a->span.len - 2))) {
                return 1;
            }
        }
    }
    return 0;
}

static name_t *push_name(scan_t *sc)
{
    if (sc->nnames == sc->cap) {
        int cap = sc->cap ? 2 * sc->cap : 16;
        name_t *n = apr_palloc(sc->p, (apr_size_t)cap * sizeof(*n));

        if (sc->nnames) {
            memcpy(n, sc->names, (apr_size_t)sc->nnames * sizeof(*n));
        }
        sc->names = n;
        sc->cap = cap;
    }
    return &sc->names[sc->nnames++];
}

/* A new top-level member; the array grows by doubling. */
static jwt_member_t *push_member(scan_t *sc)
{
    if (sc->nmembers == sc->mcap) {
        int cap = sc->mcap ? 2 * sc->mcap : 16;
        jwt_member_t *m = apr_palloc(sc->p, (apr_size_t)cap * sizeof(*m));

        if (sc->nmembers) {
            memcpy(m, sc->members,
                   (apr_size_t)sc->nmembers * sizeof(*m));
        }
        sc->members = m;
        sc->mcap = cap;
    }
    return &sc->members[sc->nmembers++];
}

/* The object at the cursor.  At the top level (top), each member is
 * recorded in sc->members too. */
static int scan_object(scan_t *sc, int depth, int top)
{
    int first = sc->nnames, ok = 0;

    sc->s++;
    skip_ws(sc);
    if (sc->s < sc->end && *sc->s == '}') {
        sc->s++;
        return 1;
    }
    for (;;) {
        span_t *name;
        jwt_member_t *m = NULL;
        jwt_json_type_e type;
        const unsigned char *v;

        if (sc->s >= sc->end || *sc->s != '"') {
            goto done;
        }
        name = &push_name(sc)->span;
        if (!scan_string(sc, name)) {
            goto done;
        }
        skip_ws(sc);
        if (sc->s >= sc->end || *sc->s != ':') {
            goto done;
        }
        sc->s++;
        skip_ws(sc);
        if (top) {
            m = push_member(sc);
            m->name = name->off;
            m->name_len = name->len;
        }
        v = sc->s;
        if (sc->s < sc->end && *sc->s == '"' && m) {
            span_t str;

            if (!scan_string(sc, &str)) {
                goto done;
            }
            m->type = JWT_JSON_STRING;
            m->value = str.off;
            m->value_len = str.len;
        }
        else {
            if (!scan_value(sc, depth + 1, &type)) {
                goto done;
            }
            if (m) {
                m->type = type;
                m->value = (apr_uint32_t)(v - sc->text);
                m->value_len = (apr_uint32_t)(sc->s - v);
            }
        }
        skip_ws(sc);
        if (sc->s >= sc->end) {
            goto done;
        }
        if (*sc->s == '}') {
            sc->s++;
            break;
        }
        if (*sc->s != ',') {
            goto done;
        }
        sc->s++;
        skip_ws(sc);
    }
    ok = !has_duplicate(sc, first, sc->nnames);
done:
    sc->nnames = first;
    return ok;
}

static int scan_array(scan_t *sc, int depth)
{
    jwt_json_type_e type;

    sc->s++;
    skip_ws(sc);
    if (sc->s < sc->end && *sc->s == ']') {
        sc->s++;
        return 1;
    }
    for (;;) {
        if (!scan_value(sc, depth + 1, &type)) {
            return 0;
        }
        skip_ws(sc);
        if (sc->s >= sc->end) {
            return 0;
        }
        if (*sc->s == ']') {
            sc->s++;
            return 1;
        }
        if (*sc->s != ',') {
            return 0;
        }
        sc->s++;
        skip_ws(sc);
    }
}

static int literal(scan_t *sc, const char *word, size_t n)
{
    if ((size_t)(sc->end - sc->s) < n || memcmp(sc->s, word, n)) {
        return 0;
    }
    sc->s += n;
    return 1;
}

/* The value at the cursor (whitespace already skipped), at depth (the
 * top-level object is 1). */
static int scan_value(scan_t *sc, int depth, jwt_json_type_e *type)
{
    if (depth > MAX_DEPTH || sc->s >= sc->end) {
        return 0;
    }
    switch (*sc->s) {
    case '"':
        *type = JWT_JSON_STRING;
        return scan_string(sc, NULL);
    case '{':
        *type = JWT_JSON_OBJECT;
        return scan_object(sc, depth, 0);
    case '[':
        *type = JWT_JSON_ARRAY;
        return scan_array(sc, depth);
    case 't':
        *type = JWT_JSON_TRUE;
        return literal(sc, "true", 4);
    case 'f':
        *type = JWT_JSON_FALSE;
        return literal(sc, "false", 5);
    case 'n':
        *type = JWT_JSON_NULL;
        return literal(sc, "null", 4);
    default:
        return scan_number(sc, type);
    }
}

int jwt_claims_parse(jwt_claims_t *c, apr_pool_t *p, const char *text,
                     size_t len)
{
    scan_t sc;

    if (len >= MAX_TEXT) {
        return 0;
    }
    memset(&sc, 0, sizeof(sc));
    sc.text = sc.s = (const unsigned char *)text;
    sc.end = sc.s + len;
    sc.len = len;
    sc.p = p;
    skip_ws(&sc);
    if (sc.s >= sc.end || *sc.s != '{'
        || !scan_object(&sc, 1, 1)) {
        return 0;
    }
    skip_ws(&sc);
    if (sc.s != sc.end) {
        return 0;
    }
    c->base = sc.base ? sc.base : text;
    c->len = len;
    c->size = sc.base ? sc.used : len;
    c->m = sc.members;
    c->n = sc.nmembers;
    return 1;
}

/* ---------------------------------------------------------------- */
/* reading the claims                                               */

const jwt_member_t *jwt_claims_get(const jwt_claims_t *c, const char *name)
{
    size_t n = strlen(name), k;
    int i;

    for (i = 0; i < c->n; i++) {
        const jwt_member_t *m = &c->m[i];
        const char *b = c->base + m->name;

        if (m->name_len != n || (n && *b != *name)) {
            continue;
        }
        /* claim names are short: byte by byte, no call */
        for (k = 1; k < n && b[k] == name[k]; k++) {
        }
        if (k >= n) {
            return m;
        }
    }
    return NULL;
}

int jwt_json_real(const char *text, size_t len, double *out)
{
    char small[64], *buf = len < sizeof(small) ? small : malloc(len + 1);
    const char *point = localeconv()->decimal_point;
    char *dot;
    double v;

    if (!buf) {
        return 0;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    if (*point != '.' && (dot = strchr(buf, '.'))) {
        *dot = *point;          /* strtod speaks the locale, as jansson */
    }
    errno = 0;
    v = strtod(buf, NULL);
    if (buf != small) {
        free(buf);
    }
    if ((v == HUGE_VAL || v == -HUGE_VAL) && errno == ERANGE) {
        return 0;
    }
    if (out) {
        *out = v;
    }
    return 1;
}

int jwt_member_int(const jwt_claims_t *c, const jwt_member_t *m,
                   apr_int64_t *out)
{
    const char *s = c->base + m->value, *e = s + m->value_len;
    apr_uint64_t v = 0;
    int neg = 0;

    if (m->type != JWT_JSON_INTEGER) {
        return 0;
    }
    if (*s == '-') {
        neg = 1;
        s++;
    }
    while (s < e) {
        v = v * 10 + (apr_uint64_t)(*s++ - '0');
    }
    /* the scanner kept v within [-2^63, 2^63 - 1] */
    *out = neg ? (apr_int64_t)(0 - v) : (apr_int64_t)v;
    return 1;
}

int jwt_member_number(const jwt_claims_t *c, const jwt_member_t *m,
                      double *out)
{
    apr_int64_t i;

    if (jwt_member_int(c, m, &i)) {
        *out = (double)i;
        return 1;
    }
    if (m->type == JWT_JSON_REAL) {
        return jwt_json_real(c->base + m->value, m->value_len, out);
    }
    return 0;
}

json_t *jwt_member_json(apr_pool_t *p, const jwt_claims_t *c,
                        const jwt_member_t *m)
{
    if (m->type == JWT_JSON_STRING) {
        return jwt_json_pool(p, json_stringn(c->base + m->value,
                                             m->value_len));
    }
    return jwt_json_pool(p, json_loadb(c->base + m->value, m->value_len,
                                       JSON_DECODE_ANY
                                       | JSON_REJECT_DUPLICATES, NULL));
}

/* The bytes compact_text() must look at, in a string (the quote that
 * ends it, a backslash) and outside one (blanks, the quote that opens a
 * string, the characters of reals and of -0); every other byte is
 * copied as it is. */
static const unsigned char in_str_stop[256] = {
    ['"'] = 1, ['\\'] = 1
};
static const unsigned char out_str_stop[256] = {
    [' '] = 1, ['\n'] = 1, ['\r'] = 1, ['\t'] = 1, ['"'] = 1,
    ['.'] = 1, ['e'] = 1, ['E'] = 1, ['-'] = 1
};

/* An array or object's text as jansson's compact dump of it, when that
 * is the text without its blanks: no escape (jansson re-escapes), no
 * real (jansson reformats), no -0.  NULL otherwise. */
static char *compact_text(apr_pool_t *p, const char *v, size_t len)
{
    char *out = apr_palloc(p, len + 1), *o = out;
    const unsigned char *s = (const unsigned char *)v, *e = s + len;

    while (s < e) {
        unsigned char ch = *s;

        if (!out_str_stop[ch]) {
            *o++ = (char)ch;
            s++;
            continue;
        }
        switch (ch) {
        case ' ': case '\n': case '\r': case '\t':
            s++;
            continue;
        case '.':
            return NULL;
        case 'e':
        case 'E':
            /* an exponent follows a digit; elsewhere it is a literal's */
            if (s > (const unsigned char *)v && s[-1] >= '0'
                && s[-1] <= '9') {
                return NULL;
            }
            *o++ = (char)ch;
            s++;
            continue;
        case '-':
            if (s + 1 < e && s[1] == '0') {
                return NULL;
            }
            *o++ = (char)ch;
            s++;
            continue;
        default:                /* '"': copy the string to its end */
            *o++ = (char)*s++;
            while (s < e && !in_str_stop[*s]) {
                *o++ = (char)*s++;
            }
            if (s < e && *s == '\\') {
                return NULL;
            }
            if (s < e) {
                *o++ = (char)*s++;
            }
            continue;
        }
    }
    *o = '\0';
    return out;
}

const char *jwt_member_text(apr_pool_t *p, const jwt_claims_t *c,
                            const jwt_member_t *m)
{
    const char *v = c->base + m->value;
    json_t *json;
    const char *copy;

    switch (m->type) {
    case JWT_JSON_STRING:
    case JWT_JSON_TRUE:
    case JWT_JSON_FALSE:
    case JWT_JSON_NULL:
        return apr_pstrmemdup(p, v, m->value_len);
    case JWT_JSON_INTEGER:
        /* the text of a 64-bit JSON integer is its decimal form, but
         * for "-0" */
        if (m->value_len == 2 && v[0] == '-' && v[1] == '0') {
            return "0";
        }
        return apr_pstrmemdup(p, v, m->value_len);
    default:
        /* reals, arrays and objects: jansson's compact form */
        if (m->type != JWT_JSON_REAL
            && (copy = compact_text(p, v, m->value_len))) {
            return copy;
        }
        json = jwt_member_json(p, c, m);
        return json ? jwt_json_dump(p, json) : NULL;
    }
}

const char *jwt_claim_text(apr_pool_t *p, const jwt_claims_t *c,
                           const char *name)
{
    const jwt_member_t *m = jwt_claims_get(c, name);

    return m ? jwt_member_text(p, c, m) : NULL;
}

/* Walk an array value that jwt_claims_parse() accepted: *cur starts
 * after its '['; each call yields the next element's span and whether
 * it is a string (then the text between its quotes, still escaped).
 * Returns 0 at the end. */
static int array_next(const char **cur, int *is_string, const char **v,
                      size_t *vlen)
{
    const char *s = *cur;
    int depth = 0, in_str = 0;

    while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t'
           || *s == ',') {
        s++;
    }
    if (*s == ']') {
        return 0;
    }
    *v = s;
    switch (*s) {
    case '"':
        *is_string = 1;
        for (s++; *s != '"'; s++) {
            if (*s == '\\') {
                s++;
            }
        }
        *v += 1;
        *vlen = (size_t)(s - *v);
        *cur = s + 1;
        return 1;
    case '[':
    case '{':
        *is_string = 0;
        for (;; s++) {
            if (in_str) {
                if (*s == '\\') {
                    s++;
                }
                else if (*s == '"') {
                    in_str = 0;
                }
            }
            else if (*s == '"') {
                in_str = 1;
            }
            else if (*s == '[' || *s == '{') {
                depth++;
            }
            else if ((*s == ']' || *s == '}') && --depth == 0) {
                break;
            }
        }
        *vlen = (size_t)(s + 1 - *v);
        *cur = s + 1;
        return 1;
    default:
        *is_string = 0;
        while (*s != ',' && *s != ']' && *s != ' ' && *s != '\n'
               && *s != '\r' && *s != '\t') {
            s++;
        }
        *vlen = (size_t)(s - *v);
        *cur = s;
        return 1;
    }
}

int jwt_member_has_string(const jwt_claims_t *c, const jwt_member_t *m,
                          const char *want)
{
    size_t n = strlen(want);
    const char *cur, *v;
    int is_string;
    size_t vlen;

    if (m->type == JWT_JSON_STRING) {
        return m->value_len == n && !memcmp(c->base + m->value, want, n);
    }
    if (m->type != JWT_JSON_ARRAY) {
        return 0;
    }
    cur = c->base + m->value + 1;
    while (array_next(&cur, &is_string, &v, &vlen)) {
        if (!is_string || vlen < n) {
            continue;
        }
        if (memchr(v, '\\', vlen)) {
            char small[256], *dec = vlen <= sizeof(small) ? small
                                                          : malloc(vlen);
            int eq;

            if (!dec) {
                return 0;
            }
            eq = decode_string(dec, (const unsigned char *)v,
                               (const unsigned char *)v + vlen) == n
                 && !memcmp(dec, want, n);
            if (dec != small) {
                free(dec);
            }
            if (eq) {
                return 1;
            }
        }
        else if (vlen == n && !memcmp(v, want, n)) {
            return 1;
        }
    }
    return 0;
}

size_t jwt_claims_blob_size(const jwt_claims_t *c)
{
    return APR_ALIGN_DEFAULT(c->size)
           + (size_t)c->n * sizeof(jwt_member_t);
}

void jwt_claims_copy(jwt_claims_t *dst, void *blob, const jwt_claims_t *src)
{
    char *b = blob;
    jwt_member_t *m = (jwt_member_t *)(b + APR_ALIGN_DEFAULT(src->size));

    memcpy(b, src->base, src->size);
    if (src->n) {
        memcpy(m, src->m, (size_t)src->n * sizeof(*m));
    }
    dst->base = b;
    dst->len = src->len;
    dst->size = src->size;
    dst->m = m;
    dst->n = src->n;
}
