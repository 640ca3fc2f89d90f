/*
 * keyset.h: verification keys that arrive while serving (keyset.c): a
 * JWK Set fetched from an identity provider, the lock-free ring through
 * which the one writer (the fetcher) hands a new set to the threads that
 * verify tokens, and the kid index that finds a token's key without
 * trying the others, for remote sets and for a policy's static keys
 * alike.  No httpd header: APR, jansson, OpenSSL.
 *
 * The API is the one of the brief, with additions only (no change):
 * jwt_keyset_key(), jwt_keyset_live(), the kid index (jwt_keyindex_*,
 * which jws.c uses), and in policy.h jwt_policy_index_keys() (the static
 * keys' kid index, made once at configuration time) and
 * jwt_policy_keys_version() (for the thread cache); and
 * jwt_keyring_release() accepts the ticket of an empty acquire.  This
 * header does not include policy.h (policy.h includes it: the arrows of
 * t/unit/layout.t have no cycle).
 *
 * Which keys a token is tried with (jws.c, in this order):
 * - a token with a kid: every key whose kid (or, for a key without one,
 *   its RFC 7638 thumbprint) is that kid and that may run the token's
 *   alg: the static keys first, then each source's current set in the
 *   order of policy->sources.  Found through the indexes: O(log n)
 *   string comparisons a set, and only those keys are tried, so a set
 *   of 100 keys costs what a set of 1 does.  When no key anywhere has
 *   that kid, the static keys without a kid are tried (as before remote
 *   sets existed); a set's keys are reached by kid only.
 * - a token without a kid: every static key (as before), then the keys
 *   of each set that have no kid of their own.  A set's keys with kids
 *   are never tried for a token without one: a set of 10,000 keys costs
 *   such a token nothing.
 * - issuer binding: a key of a source bound to an issuer verifies only
 *   tokens whose iss matches that issuer (exactly, or its {tenantid}
 *   template); for another iss the search goes on with the sources after
 *   that one (the same key may be published for several bound issuers),
 *   and ends in JWT_ERR_ISSUER "signed by a key bound to another issuer".
 *   Static keys and unbound sources serve every accepted issuer.
 * - JWT_ERR_KEY ("no key for this alg/kid") when no key was tried at
 *   all, JWT_ERR_SIGNATURE when some were and none verified.  So a kid
 *   that no current key has (the IdP rotated: the glue asks for an early
 *   fetch) is JWT_ERR_KEY, and so is any token when the policy has no
 *   static key and every ring is empty (the glue answers 503 then).
 */
#ifndef JOSE_KEYSET_H
#define JOSE_KEYSET_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "keys.h"
#include "util.h"

/* A kid in a JWK Set longer than this makes that key skipped. */
#define JWT_KEYSET_MAX_KID 512

/* A document longer than this is refused unread (the fetcher caps its
 * responses far below). */
#define JWT_KEYSET_MAX_DOC (16 * 1024 * 1024)

/* An immutable set of verification keys parsed from one JWK Set document. */
typedef struct jwt_keyset jwt_keyset_t;

/* Parse with the same strict loader as key files (jwt_keys_load_ex: keys
 * for other uses, unknown kty/crv/alg, too weak are skipped and reported
 * in *skipped, made in p; a set with no usable key is refused).  The set
 * lives in a pool of its own (unmanaged or with its own allocator, so that
 * any thread may free it later), freed by jwt_keyset_free.  Builds the kid
 * index.  The digest is SHA-256 over the keys in a canonical form (e.g.
 * the sorted RFC 7638 thumbprints with their kids and algorithms), so the
 * same keys in another order or layout give the same digest.
 * Beyond key files: the text must be a JWK Set (a JSON object with a
 * "keys" array; not PEM, not a single JWK) of at most 20,000 keys and
 * JWT_KEYSET_MAX_DOC bytes; an "oct" key (a secret: never taken from a
 * remote document), a key whose kid is longer than JWT_KEYSET_MAX_KID,
 * and an RSA key over 16384 bits (OpenSSL would never verify
 * with it) are skipped too.  The skip records' kid and reason are fit
 * for a log line (visible ASCII, '?' for other bytes, the reason at most
 * 160 bytes): the document is hostile input.  *skipped (when skipped is not
 * NULL) is set on failure as well; err->reason is in p.  Returns 1, or 0
 * and *err (JWT_ERR_KEY, or JWT_ERR_INTERNAL when memory or OpenSSL
 * fails). */
int jwt_keyset_parse(jwt_keyset_t **out, apr_pool_t *p, const char *text,
                     size_t len, apr_array_header_t **skipped,
                     jwt_error_t *err);
void jwt_keyset_free(jwt_keyset_t *set);       /* NULL is fine */
int jwt_keyset_count(const jwt_keyset_t *set);
const unsigned char *jwt_keyset_digest(const jwt_keyset_t *set); /* 32 */

/* The i-th key of the set (0 <= i < count), in the document's order. */
const jwt_key_t *jwt_keyset_key(const jwt_keyset_t *set, int i);

/* The current set of one remote source: one writer swaps it while any
 * number of threads read, with no lock (left-right: two slots, each with
 * an atomic reader count; readers increment, re-check the active slot,
 * use, decrement; the writer fills the idle slot only when its count is
 * 0, flips, waits for the old slot's readers to leave, frees the old
 * set).  Readers hold a set for one signature check only. */
typedef struct jwt_keyring jwt_keyring_t;
jwt_keyring_t *jwt_keyring_create(apr_pool_t *p); /* a cleanup on p frees
                                                   * the sets it holds */
void jwt_keyring_publish(jwt_keyring_t *ring, jwt_keyset_t *set);
                      /* takes ownership; NULL empties the ring (a set
                       * stale past its limit); one writer at a time;
                       * returns once the replaced set is freed */
const jwt_keyset_t *jwt_keyring_acquire(jwt_keyring_t *ring,
                                        unsigned *ticket); /* NULL: empty */
void jwt_keyring_release(jwt_keyring_t *ring, unsigned ticket);
                      /* exactly once per acquire; a no-op for the
                       * ticket of an acquire that returned NULL (which
                       * holds nothing), so calling it always is safe */
apr_uint32_t jwt_keyring_version(const jwt_keyring_t *ring); /* +1 per
                                                   * publish */

/* Tests only: when set, called by jwt_keyring_acquire between reading the
 * active slot and registering in it (the window the re-check closes).
 * NULL (as it is) costs one load per acquire. */
extern void (*jwt_test_ring_stall)(void);

/* A remote set as a policy uses it: its ring and the issuer its keys are
 * bound to (NULL: unbound, serves every accepted issuer). */
typedef struct {
    jwt_keyring_t *ring;
    const char *issuer;
} jwt_keysource_t;

/* A kid index over an array of keys (jwt_key_t *), made once and only
 * read afterwards: keys by kid (a key without a kid under its RFC 7638
 * thumbprint) in a sorted array, found by binary search, and the keys
 * without a kid of their own in their order. */
typedef struct jwt_keyindex jwt_keyindex_t;

/* The index of keys (NULL or empty: an empty index), made in p; it keeps
 * the array pointer and length it was made from.  NULL when memory is
 * short. */
jwt_keyindex_t *jwt_keyindex_make(apr_pool_t *p,
                                  const apr_array_header_t *keys);

/* Was ix made from this very array as it is now (pointer and length)? */
int jwt_keyindex_covers(const jwt_keyindex_t *ix,
                        const apr_array_header_t *keys);

/* The keys whose kid is kid: their number, and in *first the first of
 * them (contiguous, in their array's order).  O(log n) comparisons. */
int jwt_keyindex_find(const jwt_keyindex_t *ix, const char *kid,
                      const jwt_key_t *const **first);

/* The keys without a kid of their own, in their array's order. */
int jwt_keyindex_nokid(const jwt_keyindex_t *ix,
                       const jwt_key_t *const **first);

/* The index of a set's keys (made by jwt_keyset_parse). */
const jwt_keyindex_t *jwt_keyset_index(const jwt_keyset_t *set);

/* How many sets have been parsed and not yet freed, in this process (for
 * tests, and for a status page: it stays flat over rotations). */
apr_uint32_t jwt_keyset_live(void);

#endif /* JOSE_KEYSET_H */
