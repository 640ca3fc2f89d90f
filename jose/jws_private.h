/*
 * jws_private.h: what jws.c lends cache.c and nobody else sees: the
 * parsed-header slots that a jwt_cache_t keeps, and verification through
 * them.
 */
#ifndef JOSE_JWS_PRIVATE_H
#define JOSE_JWS_PRIVATE_H

#include <jansson.h>

#include "jws.h"

/* Parsed token headers, keyed by the exact header segment: a service's
 * tokens share one header, so its decoding and parsing are done once per
 * cache.  The objects are only read after parsing (jansson's reference
 * counts are atomic), so a request may keep one after its slot has moved
 * on.  Part of a jwt_cache_t. */
#define JWT_HEADER_SLOTS 4
#define JWT_HEADER_MAX_SEGMENT 512

typedef struct {
    size_t len;
    char seg[JWT_HEADER_MAX_SEGMENT];
    json_t *hdr;
} jwt_header_slot_t;

typedef struct {
    jwt_header_slot_t slot[JWT_HEADER_SLOTS];
    unsigned next;
} jwt_headers_t;

/* Release what the slots hold. */
void jwt_headers_clear(jwt_headers_t *h);

/* jwt_verify with parsed headers from h (NULL: none). */
int jwt_verify_with(jwt_t **out, apr_pool_t *p, jwt_headers_t *h,
                    const char *token, size_t len, const jwt_policy_t *pol,
                    apr_int64_t now, jwt_error_t *err);

/* Tests only: when set, called with each key a signature is tried with
 * (t/unit/test_keyset.c counts them).  Set it before any thread
 * verifies; NULL (as it is) costs one load per key tried. */
extern void (*jwt_test_key_tried)(const jwt_key_t *key);

#endif /* JOSE_JWS_PRIVATE_H */
