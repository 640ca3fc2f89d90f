/*
 * claims.h: decisions on the claims of a token (claims.c): the
 * registered claims against a policy, the user a token names, Require
 * jwt-claim, which claims may become environment variables, and the
 * typed values of issued claims.  No httpd header: APR and jansson.
 *
 * Ownership: results live in the pool passed in.
 */
#ifndef JOSE_CLAIMS_H
#define JOSE_CLAIMS_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

#include "json.h"
#include "policy.h"
#include "util.h"

/* The checks of jwt_verify on parsed claims at time now: exp (required),
 * nbf, iat, iss, aud; the cache runs them again on every hit.  1, or 0
 * and *err. */
int jwt_check_claims(const jwt_claims_t *claims, const jwt_policy_t *pol,
                     apr_int64_t now, jwt_error_t *err);

/* The user the claim called name gives: a non-empty string as it is, an
 * integer as its digits; NULL for anything else or when absent. */
const char *jwt_claims_user(apr_pool_t *p, const jwt_claims_t *c,
                            const char *name);

/* Require jwt-claim name value...: does the claim equal one of values,
 * or hold one of them when it is an array?  Strings compare exactly,
 * integers, true, false and null as their JSON text; reals, objects and
 * strings holding a NUL never match. */
int jwt_claim_matches(apr_pool_t *p, const jwt_claims_t *c,
                      const char *name, const apr_array_header_t *values);

/* One environment variable made from a claim. */
typedef struct {
    const char *name;           /* prefix + claim name */
    const char *value;          /* jwt_member_text() */
} jwt_env_t;

/* The claims as environment variables prefix<name>, of jwt_env_t.  Only
 * names that reach a CGI program unchanged are exported: one or more of
 * A-Z a-z 0-9 _.  httpd's tables ignore case, so claims whose names
 * differ only in case would share one variable: none of them is
 * exported.  *skipped (when not NULL) gets the names of the claims left
 * out, each once, as const char *. */
apr_array_header_t *jwt_claims_env(apr_pool_t *p, const jwt_claims_t *c,
                                   const char *prefix,
                                   apr_array_header_t **skipped);

/* The types an issued claim's value can have (JWTAuthLoginClaim). */
typedef enum {
    JWT_VALUE_STRING = 0,
    JWT_VALUE_INT,
    JWT_VALUE_BOOL
} jwt_value_type_e;

/* "string", "int" or "bool" (any case); NULL means string.  1, or 0
 * for any other name. */
int jwt_value_type(jwt_value_type_e *out, const char *name);

/* text as a JSON value of type: a string as it is; an int in decimal
 * (an optional '-', digits, within 64 bits, nothing else); a bool from
 * 1/true/on/yes or 0/false/off/no/empty (any case).  A new reference,
 * or NULL when text does not convert. */
json_t *jwt_typed_value(const char *text, jwt_value_type_e type);

#endif /* JOSE_CLAIMS_H */
