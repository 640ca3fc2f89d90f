/*
 * json_oracle.h: hold the claims scanner (jwt_json.c) to jansson.
 *
 * json_oracle() reads the same bytes with jwt_claims_parse() and with
 * json_loadb(JSON_REJECT_DUPLICATES), and returns NULL when they agree:
 * both refuse, or both accept an object with the same members in the
 * same order, each with the same name, type, text (jwt_member_text()
 * against jansson's string or compact dump), number, jansson value, and
 * array membership of every string element; a copy made with
 * jwt_claims_copy() must read the same.  Otherwise it returns what
 * differed.  One difference is allowed: jansson skips a NUL byte after
 * a number or literal, the scanner refuses it.  Used by t/unit/test_json.c on its table and by
 * t/fuzz/fuzz_scan.c on anything.
 */
#ifndef JWT_JSON_ORACLE_H
#define JWT_JSON_ORACLE_H

#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <jansson.h>

#include "jose.h"

static jwt_json_type_e oracle_type(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:  return JWT_JSON_STRING;
    case JSON_INTEGER: return JWT_JSON_INTEGER;
    case JSON_REAL:    return JWT_JSON_REAL;
    case JSON_TRUE:    return JWT_JSON_TRUE;
    case JSON_FALSE:   return JWT_JSON_FALSE;
    case JSON_NULL:    return JWT_JSON_NULL;
    case JSON_ARRAY:   return JWT_JSON_ARRAY;
    default:           return JWT_JSON_OBJECT;
    }
}

/* The members of c against the jansson object o. */
static const char *oracle_members(apr_pool_t *p, const jwt_claims_t *c,
                                  json_t *o)
{
    const char *name;
    json_t *v, *e;
    int i = 0;
    size_t k;

    if ((size_t)c->n != json_object_size(o)) {
        return "member count differs";
    }
    json_object_foreach(o, name, v) {
        const jwt_member_t *m = &c->m[i++];
        const char *text;
        char *dump;
        double d;
        json_t *mine;

        if (m->name_len != strlen(name)
            || memcmp(c->base + m->name, name, m->name_len)) {
            return "a name differs";
        }
        if (jwt_claims_get(c, name) != m) {
            return "jwt_claims_get() finds another member";
        }
        if (m->type != oracle_type(v)) {
            return "a type differs";
        }
        text = jwt_member_text(p, c, m);
        if (json_is_string(v)) {
            if (!text || strlen(text) != json_string_length(v)
                || memcmp(text, json_string_value(v), strlen(text))) {
                return "a string differs";
            }
        }
        else {
            dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            k = !text || !dump || strcmp(text, dump);
            free(dump);
            if (k) {
                return "a value's text differs";
            }
        }
        if (json_is_number(v) != jwt_member_number(c, m, &d)
            || (json_is_number(v) && d != json_number_value(v))) {
            return "a number differs";
        }
        mine = jwt_member_json(p, c, m);
        if (!mine || !json_equal(mine, v)) {
            return "jwt_member_json() differs";
        }
        if (json_is_string(v)
            && !jwt_member_has_string(c, m, json_string_value(v))) {
            return "a string is not found in itself";
        }
        if (json_is_array(v)) {
            json_array_foreach(v, k, e) {
                if (json_is_string(e)
                    && !jwt_member_has_string(c, m, json_string_value(e))) {
                    return "an array's string is not found";
                }
            }
        }
    }
    return NULL;
}

static const char *json_oracle(apr_pool_t *p, const char *text, size_t len)
{
    jwt_claims_t c, copy;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    int theirs = json_is_object(o);
    int mine = jwt_claims_parse(&c, p, text, len);
    const char *why = NULL;

    if (mine != theirs && !mine && memchr(text, '\0', len)) {
        /* jansson 2.14 drops a NUL byte that follows a number or a
         * literal (its lexer takes a pushed-back NUL for an empty read
         * buffer); the scanner refuses any NUL outside a string.  That
         * is the whole difference if jansson refuses the same text with
         * each NUL made a character it cannot skip. */
        char *x = apr_pmemdup(p, text, len);
        size_t i;
        json_t *o2;

        for (i = 0; i < len; i++) {
            if (!x[i]) {
                x[i] = 'x';
            }
        }
        o2 = json_loadb(x, len, JSON_REJECT_DUPLICATES, NULL);
        if (o2) {
            why = "the scanner refuses what jansson accepts";
        }
        json_decref(o2);
    }
    else if (mine != theirs) {
        why = mine ? "the scanner accepts what jansson refuses"
                   : "the scanner refuses what jansson accepts";
    }
    else if (mine) {
        why = oracle_members(p, &c, o);
        if (!why) {
            jwt_claims_copy(&copy, apr_palloc(p, jwt_claims_blob_size(&c)),
                            &c);
            why = oracle_members(p, &copy, o);
        }
    }
    json_decref(o);
    return why;
}

#endif /* JWT_JSON_ORACLE_H */
