/*
 * jws_private.h: what jws.c lends cache.c and nobody else sees: the
 * parsed-header cache that a jwt_cache_t keeps, and verification through
 * them.
 */
#ifndef JOSE_JWS_PRIVATE_H
#define JOSE_JWS_PRIVATE_H

#include <jansson.h>

#include "jws.h"

/* Parsed token headers, keyed by the exact header segment: a service's
 * tokens share a header per key (per kid, alg and typ), so each one's
 * decoding and parsing is done once per cache.  Part of a jwt_cache_t,
 * used by one thread at a time; zeroed memory is an empty cache.
 *
 * Set-associative with two choices: a 32-bit hash of the segment picks
 * two of JWT_HEADER_SETS sets (its bits 0-5 and 6-11), a header is kept
 * in the less full one, and a lookup looks in both.  A hit needs the
 * stored hash, the length and every byte equal, so segments made to
 * share a hash (or the whole hash) only compete for ways, never get
 * each other's header.  Replacement in a full set is round-robin.  The
 * entry last found or kept is compared first, before any hashing: one
 * service's tokens mostly share one header, and that hit then costs
 * what a hit in the first of the old four slots did (a length check and
 * a memcmp).  Why these numbers: real IdPs publish 2-10 keys at once
 * and a service trusts several; two choices of 64 sets of 8 ways hold
 * 300 arbitrary headers without one evicting another (simulated with
 * random hashes: 2000 runs of 2000), where 64 sets of 4 ways with one
 * choice hold 100 only one time in five; 512 entries in all.
 *
 * Only a header whose token's signature verified is kept (jws.c), so a
 * client without a key can neither fill the cache nor evict from it;
 * segments longer than JWT_HEADER_MAX_SEGMENT, or not base64url of a
 * JSON object, are never kept.  Each kept segment is malloc'd to its
 * length (about 60-150 bytes in practice; 512 inline would make the
 * table 270 KB, and a set's hashes and lengths stay 48 contiguous bytes
 * this way).  Memory per thread: the table, 64 x 184 + 8 = 11,784
 * bytes, plus at most 512 segments of at most 512 bytes and their
 * parsed objects; a header of 55 bytes costs about 770 bytes of heap
 * with its object (t/unit/test_header_cache.c prints it), so a cache
 * full of such headers about 400 KB (only key holders' headers fill
 * it).  For 2 processes x 32 threads: 754 KB of tables, and with a
 * dozen headers in use about 10 KB more per thread.
 *
 * The objects are only read after parsing (jansson's reference counts
 * are atomic), so a request may keep one after its entry has moved on. */
#define JWT_HEADER_SETS 64             /* a power of two */
#define JWT_HEADER_WAYS 8
#define JWT_HEADER_MAX_SEGMENT 512

typedef struct {
    apr_uint32_t hash[JWT_HEADER_WAYS];
    apr_uint16_t len[JWT_HEADER_WAYS];
    unsigned char used;                 /* ways 0..used-1 hold a header */
    unsigned char next;                 /* the next way to replace */
    char *seg[JWT_HEADER_WAYS];         /* malloc'd, len bytes */
    json_t *hdr[JWT_HEADER_WAYS];
} jwt_header_set_t;

typedef struct {
    jwt_header_set_t set[JWT_HEADER_SETS];
    unsigned short last_set;            /* the entry last found or kept, */
    unsigned char last_way;             /* tried first, before hashing */
} jwt_headers_t;

/* Release what the cache holds: it is empty (and usable) again. */
void jwt_headers_clear(jwt_headers_t *h);

/* The hash a header segment is kept under (the sets are its low bits).
 * For tests (t/unit/test_header_cache.c finds segments that share it). */
apr_uint32_t jwt_header_hash(const char *seg, size_t len);

/* jwt_verify with parsed headers from h (NULL: none). */
int jwt_verify_with(jwt_t **out, apr_pool_t *p, jwt_headers_t *h,
                    const char *token, size_t len, const jwt_policy_t *pol,
                    apr_int64_t now, jwt_error_t *err);

/* Tests only: when set, called with each key a signature is tried with
 * (t/unit/test_keyset.c counts them).  Set it before any thread
 * verifies; NULL (as it is) costs one load per key tried. */
extern void (*jwt_test_key_tried)(const jwt_key_t *key);

/* Tests only: when set, called each time a header segment is decoded
 * and parsed, that is each time the cache cannot answer
 * (t/unit/test_header_cache.c counts them).  NULL (as it is) costs one
 * load per parse, none on a hit. */
extern void (*jwt_test_header_parsed)(const char *seg, size_t len);

#endif /* JOSE_JWS_PRIVATE_H */
