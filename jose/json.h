/*
 * json.h: the claims of a token, read in one pass without a tree
 * (json.c).  No httpd header: APR and jansson.
 *
 * Ownership: a jwt_claims_t points into the text it was parsed from and
 * into the pool passed to jwt_claims_parse(); jansson values returned are
 * released with the pool passed in.
 */
#ifndef JOSE_JSON_H
#define JOSE_JSON_H

#include <apr_pools.h>
#include <jansson.h>

#include "util.h"

/* JSON types of claim values. */
typedef enum {
    JWT_JSON_STRING = 1,
    JWT_JSON_INTEGER,
    JWT_JSON_REAL,
    JWT_JSON_TRUE,
    JWT_JSON_FALSE,
    JWT_JSON_NULL,
    JWT_JSON_ARRAY,
    JWT_JSON_OBJECT
} jwt_json_type_e;

/* One top-level member of a claims set, as offsets into its base: the
 * name and a string value are their decoded bytes (escapes resolved,
 * never a NUL, not NUL-terminated); any other value is its JSON text. */
typedef struct {
    apr_uint32_t name, name_len;
    apr_uint32_t value, value_len;
    jwt_json_type_e type;
} jwt_member_t;

/* The claims of a token, read in one pass: no tree. */
typedef struct {
    const char *base;           /* the JSON text, then decoded strings */
    size_t len;                 /* length of the JSON text */
    size_t size;                /* bytes of base in use */
    const jwt_member_t *m;      /* in document order */
    int n;
} jwt_claims_t;

/* Read a JSON object: 1 when jansson would accept the text with
 * JSON_REJECT_DUPLICATES and it is an object, 0 otherwise.  *c points
 * into text (kept as long as c is used) or into the pool. */
int jwt_claims_parse(jwt_claims_t *c, apr_pool_t *p, const char *text,
                     size_t len);

/* The member called name, or NULL. */
const jwt_member_t *jwt_claims_get(const jwt_claims_t *c, const char *name);

/* An integer value: 1 and *out, or 0 for another type. */
int jwt_member_int(const jwt_claims_t *c, const jwt_member_t *m,
                   apr_int64_t *out);

/* An integer or real value as a double: 1 and *out, or 0. */
int jwt_member_number(const jwt_claims_t *c, const jwt_member_t *m,
                      double *out);

/* Is the value the string want, or an array holding it? */
int jwt_member_has_string(const jwt_claims_t *c, const jwt_member_t *m,
                          const char *want);

/* The value as text: strings decoded, everything else as jansson's
 * compact JSON.  NULL only when memory is short. */
const char *jwt_member_text(apr_pool_t *p, const jwt_claims_t *c,
                            const jwt_member_t *m);

/* jwt_member_text() of the member called name; NULL when absent. */
const char *jwt_claim_text(apr_pool_t *p, const jwt_claims_t *c,
                           const char *name);

/* The value as a jansson value released with the pool. */
json_t *jwt_member_json(apr_pool_t *p, const jwt_claims_t *c,
                        const jwt_member_t *m);

/* Copy claims into one block of jwt_claims_blob_size() bytes, aligned
 * for jwt_member_t; dst then points into blob. */
size_t jwt_claims_blob_size(const jwt_claims_t *c);
void jwt_claims_copy(jwt_claims_t *dst, void *blob, const jwt_claims_t *src);

/* A JSON real's text as jansson reads it: 0 when it overflows a double
 * (or memory is short), else 1 and *out when out is not NULL. */
int jwt_json_real(const char *text, size_t len, double *out);

#endif /* JOSE_JSON_H */
