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
 * nbf, iat (each a NumericDate), then iss, aud.  1, or 0 and *err. */
int jwt_check_claims(const jwt_claims_t *claims, const jwt_policy_t *pol,
                     apr_int64_t now, jwt_error_t *err);

/* A token's time claims, read once: what a cache entry keeps, so that a
 * hit (the same bytes, accepted under the same policy, whose iss and aud
 * checks cannot answer otherwise) checks only the clock. */
typedef struct {
    double exp, nbf, iat;
    int has_nbf, has_iat;
} jwt_times_t;

/* *t from claims: 1 when exp is a NumericDate and nbf and iat absent or
 * NumericDates, else 0 and *err (as jwt_check_claims). */
int jwt_claims_times(const jwt_claims_t *claims, jwt_times_t *t,
                     jwt_error_t *err);

/* jwt_check_claims' checks of *t at now with leeway seconds of skew. */
int jwt_check_times(const jwt_times_t *t, apr_int64_t leeway,
                    apr_int64_t now, jwt_error_t *err);

/* Does the iss member (NULL: absent) match the issuer want: exactly, a
 * string, or, when want holds "{tenantid}" (Entra ID's multi-tenant
 * template), equal to want with every "{tenantid}" replaced by the
 * token's own tid claim, which must be a string in GUID form (8-4-4-4-12
 * hex digits)?  A template never matches without such a tid. */
int jwt_issuer_matches(const jwt_claims_t *claims, const jwt_member_t *iss,
                       const char *want);

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

/* A claim path from configuration (Require jwt-claim, jwt-scope, the
 * expression functions), parsed once at startup: its whole text and
 * that text split at every dot.  A segment may not be empty ("a..b",
 * ".a", "a." are refused: a typo more likely than a name), and a path
 * has at most JWT_PATH_MAX_SEGMENTS of them. */
#define JWT_PATH_MAX_SEGMENTS 32

typedef struct {
    const char *text;           /* the whole path */
    const char *const *seg;     /* its dot-split segments */
    int nseg;
} jwt_path_t;

/* The path text, or NULL and *err (a sentence naming the fault). */
jwt_path_t *jwt_path_parse(apr_pool_t *p, const char *text,
                           const char **err);

/* The values a path reaches in claims, appended to out (json_t *,
 * released with p).  The top-level claim whose name is the whole text
 * wins (Auth0's "https://example.com/roles"); only when there is none
 * do the segments walk into nested objects from the claim named by the
 * first (its JSON is parsed then, and only then).  An array met before
 * the last segment fans out: each of its elements is walked on (one
 * array level a step: an array inside that array is not entered), so
 * "groups.name" reaches every name in [{"name": ...}, ...].  Each node
 * of the claims is visited at most once.  Returns the number of values
 * reached. */
int jwt_path_values(apr_pool_t *p, const jwt_claims_t *c,
                    const jwt_path_t *path, apr_array_header_t *out);

/* Require jwt-claim path value...: jwt_claim_matches()'s rules on every
 * value the path reaches: one that equals a value, or an array holding
 * an element that does, grants. */
int jwt_path_matches(apr_pool_t *p, const jwt_claims_t *c,
                     const jwt_path_t *path,
                     const apr_array_header_t *values);

/* jwt_claim: the value the path reaches as text: a string as it is,
 * anything else as compact JSON; when a fan-out reaches several, the
 * compact JSON array of them.  "" when absent, or when the one string
 * reached holds a NUL. */
const char *jwt_path_text(apr_pool_t *p, const jwt_claims_t *c,
                          const jwt_path_t *path);

/* JWTAuthClaimHeader: the text of len bytes made safe for one request
 * header line.  Visible ASCII (0x21-0x7E) and spaces go as they are;
 * any other text (a control character, CR, LF, NUL, a byte of 0x7F or
 * above: non-ASCII UTF-8), one with a space at either end (HTTP strips
 * it) and one that begins with "=?" (the encoded form's start) becomes
 * one RFC 2047 encoded-word of standard base64 with padding,
 * "=?UTF-8?B?<base64 of the bytes>?=", however long.  Never NULL. */
const char *jwt_header_encode(apr_pool_t *p, const char *s, size_t len);

/* JWTAuthClaimHeader: the value for the claim at path: the text
 * jwt_path_text gives (a string as it is, anything else as compact
 * JSON, a fan-out as the JSON array of what it reached) through
 * jwt_header_encode.  NULL when the path reaches nothing (no header),
 * or when the one string reached holds a NUL. */
const char *jwt_header_value(apr_pool_t *p, const jwt_claims_t *c,
                             const jwt_path_t *path);

/* jwt_claims: the values the path reaches as a list of strings
 * (const char *): an array gives its elements, a string its
 * space-delimited words, anything else its one compact JSON text;
 * elements that are strings are taken as they are (not split), others
 * as compact JSON.  Strings holding a NUL are left out.  Never NULL. */
apr_array_header_t *jwt_path_list(apr_pool_t *p, const jwt_claims_t *c,
                                  const jwt_path_t *path);

/* The scopes a token grants (const char *): the space-delimited words of
 * "scope" (a string, RFC 8693 / RFC 9068) together with those of "scp"
 * (a space-delimited string, as Entra ID sends it, or an array of
 * strings, as Okta does): when both are present, the union.  A claim of
 * another type, and array elements that are not strings, grant nothing.
 * Never NULL. */
apr_array_header_t *jwt_claim_scopes(apr_pool_t *p, const jwt_claims_t *c);

/* Does granted hold every scope of required (both const char *)?
 * Scopes compare exactly. */
int jwt_scopes_grant(const apr_array_header_t *granted,
                     const apr_array_header_t *required);

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
