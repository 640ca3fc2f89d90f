/*
 * policy.h: what a scope accepts, and the one definition of when two
 * policies are the same (policy.c).  No httpd header: APR, OpenSSL.
 *
 * Every member below is part of the policy's identity: jwt_policy_same()
 * and jwt_policy_fingerprint() both walk one table of the members
 * (policy.c), so the thread cache, the shared cache tier and the
 * module's reuse of a result across subrequests can never disagree on
 * what makes two policies the same.  A member added here is added to
 * that table, and to the test rows of t/unit/test_policy.c.
 */
#ifndef JOSE_POLICY_H
#define JOSE_POLICY_H

#include <apr_tables.h>

#include "keys.h"
#include "keyset.h"

/* Built once at configuration time (or per request, from pointers made
 * at configuration time); only read while serving. */
typedef struct {
    unsigned algs;                      /* JWT_ALG_BIT() allow-list */
    const apr_array_header_t *keys;     /* of jwt_key_t *: each with its
                                         * algorithms and kid */
    const apr_array_header_t *issuers;  /* of const char *: the accepted
                                         * iss values, or NULL (any) */
    const apr_array_header_t *audiences; /* of const char *, or NULL */
    apr_int64_t leeway;                 /* seconds of clock skew */
    const char *typ;                    /* required typ (RFC 8725 §3.11),
                                         * or NULL */
    /* Read by the module, not by jwt_verify(), yet part of what a
     * result was decided under: */
    const char *user_claim;             /* the claim that names the user */
    const char *token_header;           /* the request header the token
                                         * is read from */
    const apr_array_header_t *sources;  /* of jwt_keysource_t (keyset.h):
                                         * remote sets, tried after keys;
                                         * NULL or empty: none */
    /* Not a member of the identity but derived from keys: their kid
     * index, made by jwt_policy_index_keys() (keyset.h); NULL: none. */
    const jwt_keyindex_t *key_index;
} jwt_policy_t;

/* Do a and b accept exactly the same tokens with the same outcome?
 * Compared by value, member by member (keys by their material,
 * algorithms and kid; sources by their ring, the same object, and bound
 * issuer, not by what the ring holds now: see jwt_policy_keys_version);
 * pointers equal means equal. */
int jwt_policy_same(const jwt_policy_t *a, const jwt_policy_t *b);

/* SHA-256 over the same members, for a comparison across processes and
 * machines (the shared cache tier): equal for policies that
 * jwt_policy_same() calls the same.  A source counts with its bound
 * issuer and the digest of the set its ring holds at the call (each ring
 * acquired for that), so an entry stored under another set never
 * matches.  1, or 0 when OpenSSL fails (out is
 * then zeroed). */
int jwt_policy_fingerprint(unsigned char out[32], const jwt_policy_t *pol);

/* The kid index of the policy's static keys (policy->keys), made in p and
 * set in policy->key_index: call it once at configuration time, after
 * the last change to policy->keys.  Without it (or when policy->keys was
 * replaced or grown since) verification walks the keys as before.  1, or
 * 0 when memory is short. */
int jwt_policy_index_keys(jwt_policy_t *policy, apr_pool_t *p);

/* The sum of jwt_keyring_version() over the policy's sources: it changes
 * whenever any of its rings gets another set.  For the thread cache
 * (jose/cache.c), whose hits compare policies with jwt_policy_same()
 * (ring pointers, not what the rings hold): read it before verifying,
 * keep it with the entry, and take a hit only while it is unchanged, so
 * that a token whose key has left the set is never served from there.
 * 0 for a policy without sources. */
apr_uint64_t jwt_policy_keys_version(const jwt_policy_t *policy);

#endif /* JOSE_POLICY_H */
