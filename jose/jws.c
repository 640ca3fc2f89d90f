/*
 * jws.c: compact JWS (RFC 7515) and JWT (RFC 7519): verify a token
 * against a policy, sign one with a key.
 *
 * No httpd header: APR, jansson and OpenSSL.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include <openssl/crypto.h>

#include "internal.h"
#include "jws_private.h"
#include "claims.h"
#include "keyset.h"


/* Upper bound of a compact token we look at; httpd's own request header
 * limit (8190 bytes) is well below it. */
#define JWT_MAX_TOKEN 65536

/* ---------------------------------------------------------------- */
/* verify and sign                                                  */

/* Check the protected header; on success *alg and *kid are set. */
static int check_header(const json_t *hdr, const jwt_policy_t *pol,
                        jwt_alg_e *alg, const char **kid, jwt_error_t *err)
{
    json_t *v = json_object_get(hdr, "alg");

    if (!json_is_string(v)) {
        jwt_set_err(err, JWT_ERR_ALG, "alg missing or not a string");
        return 0;
    }
    *alg = jwt_alg_from_name(json_string_value(v), json_string_length(v));
    if (*alg == JWT_ALG_UNKNOWN) {
        jwt_set_err(err, JWT_ERR_ALG, "alg unknown or none");
        return 0;
    }
    if (!(pol->algs & JWT_ALG_BIT(*alg))) {
        jwt_set_err(err, JWT_ERR_ALG, "alg not allowed here");
        return 0;
    }
    /* we implement no extension, so any crit is one we do not
     * understand (RFC 7515 §4.1.11) */
    if (json_object_get(hdr, "crit")) {
        jwt_set_err(err, JWT_ERR_HEADER, "crit header present");
        return 0;
    }
    /* typ (RFC 8725 section 3.11), when required: a media type, compared
     * without case and with or without its "application/" prefix */
    if (pol->typ) {
        const char *t, *w = pol->typ;

        v = json_object_get(hdr, "typ");
        t = json_is_string(v) ? json_string_value(v) : NULL;
        if (t && !strncasecmp(t, "application/", 12)) {
            t += 12;
        }
        if (!strncasecmp(w, "application/", 12)) {
            w += 12;
        }
        if (!t || strlen(t) != strlen(w) || strcasecmp(t, w)
            || strlen(json_string_value(v)) != json_string_length(v)) {
            jwt_set_err(err, JWT_ERR_HEADER, "typ missing or not the "
                        "required one");
            return 0;
        }
    }
    *kid = NULL;
    if ((v = json_object_get(hdr, "kid"))) {
        if (!json_is_string(v)) {
            jwt_set_err(err, JWT_ERR_HEADER, "kid is not a string");
            return 0;
        }
        *kid = json_string_value(v);
    }
    return 1;
}

void (*jwt_test_key_tried)(const jwt_key_t *key);

/* One signature check: what it is tried with and how many keys were. */
typedef struct {
    jwt_alg_e alg;
    const unsigned char *input;
    size_t ilen;
    const unsigned char *sig;
    size_t siglen;
    int tried;
} attempt_t;

/* Try n keys in turn (those that may run the alg); 1 when one verifies. */
static int try_keys(attempt_t *a, const jwt_key_t *const *keys, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        const jwt_key_t *key = keys[i];

        if (!(key->algs & JWT_ALG_BIT(a->alg))) {
            continue;
        }
        a->tried++;
        if (jwt_test_key_tried) {
            jwt_test_key_tried(key);
        }
        if (jwt_key_verify(key, a->alg, a->input, a->ilen, a->sig,
                           a->siglen)) {
            return 1;
        }
    }
    return 0;
}

/* The static keys of pol for kid (all of them when kid is NULL; with
 * nokid, those without a kid of their own): through the index made at
 * configuration time when it covers the keys, else by walking them. */
static int try_static(attempt_t *a, const jwt_policy_t *pol,
                      const char *kid, int nokid)
{
    const jwt_key_t *const *keys;
    int i, n;

    if (!pol->keys || pol->keys->nelts == 0) {
        return 0;
    }
    if (!kid) {
        return try_keys(a, (const jwt_key_t *const *)pol->keys->elts,
                        pol->keys->nelts);
    }
    if (jwt_keyindex_covers(pol->key_index, pol->keys)) {
        n = nokid ? jwt_keyindex_nokid(pol->key_index, &keys)
                  : jwt_keyindex_find(pol->key_index, kid, &keys);
        return try_keys(a, keys, n);
    }
    for (i = 0; i < pol->keys->nelts; i++) {
        const jwt_key_t *key = APR_ARRAY_IDX(pol->keys, i, const jwt_key_t *);
        const char *k = jwt_key_sign_kid(key);

        if (nokid ? !key->kid : (k && !strcmp(kid, k))) {
            if (try_keys(a, &key, 1)) {
                return 1;
            }
        }
    }
    return 0;
}

/* The keys of each source's current set for kid (with no kid: the set's
 * keys without one), from source *from on; on success *bound is the
 * issuer of the source whose key verified and *from the source after it
 * (where a search resumes).  Each set is held for its keys' checks
 * only. */
static int try_sources(attempt_t *a, const jwt_policy_t *pol,
                       const char *kid, int *from, const char **bound)
{
    int i, n;

    for (i = *from; pol->sources && i < pol->sources->nelts; i++) {
        const jwt_keysource_t *src = &APR_ARRAY_IDX(pol->sources, i,
                                                    jwt_keysource_t);
        const jwt_key_t *const *keys;
        const jwt_keyset_t *set;
        unsigned ticket;
        int ok;

        if (!(set = jwt_keyring_acquire(src->ring, &ticket))) {
            continue;
        }
        n = kid ? jwt_keyindex_find(jwt_keyset_index(set), kid, &keys)
                : jwt_keyindex_nokid(jwt_keyset_index(set), &keys);
        ok = try_keys(a, keys, n);
        jwt_keyring_release(src->ring, ticket);
        if (ok) {
            *bound = src->issuer;
            *from = i + 1;
            return 1;
        }
    }
    return 0;
}

/* Try the keys that may run alg (and match kid, when given): the static
 * keys, then the sources' sets (keyset.h says which, in which order).
 * *from is -1 for a new search (the static keys first), or the source a
 * search resumes at; *bound is the issuer the verifying key is bound to,
 * or NULL. */
static int verify_signature(const jwt_policy_t *pol, jwt_alg_e alg,
                            const char *kid, const char *input, size_t ilen,
                            const unsigned char *sig, size_t siglen,
                            int *from, const char **bound, jwt_error_t *err)
{
    attempt_t a = { alg, (const unsigned char *)input, ilen, sig, siglen,
                    0 };
    int resumed = *from >= 0;

    *bound = NULL;
    if (!resumed) {
        *from = 0;
        if (try_static(&a, pol, kid, 0)) {
            return 1;
        }
    }
    if (try_sources(&a, pol, kid, from, bound)) {
        return 1;
    }
    /* a kid no key has: the static keys configured without a kid, as
     * before remote sets (a set's keys are reached by kid only) */
    if (!resumed && kid && a.tried == 0 && try_static(&a, pol, kid, 1)) {
        return 1;
    }
    if (resumed) {
        /* a key verified, and was bound to another issuer */
        jwt_set_err(err, JWT_ERR_ISSUER, "signed by a key bound to another "
                    "issuer");
    }
    else {
        jwt_set_err(err, a.tried ? JWT_ERR_SIGNATURE : JWT_ERR_KEY,
                    a.tried ? "signature does not verify"
                            : "no key for this alg/kid");
    }
    return 0;
}

void (*jwt_test_header_parsed)(const char *seg, size_t len);

#define HEADER_MIX 0xbf58476d1ce4e5b9ULL

/* A word-at-a-time multiply-xorshift hash: about one multiplication per
 * 8 bytes (a typical segment is 60-150), computed once per token.  Only
 * the choice of sets and a filter before memcmp: equal hashes never make
 * a hit, so it need not resist anyone (and only verified headers are
 * kept, by key holders). */
apr_uint32_t jwt_header_hash(const char *seg, size_t len)
{
    const unsigned char *s = (const unsigned char *)seg;
    apr_uint64_t h = 0x9e3779b97f4a7c15ULL ^ len, w;
    size_t i;

    if (len < 8) {
        for (i = 0; i < len; i++) {
            h = (h ^ s[i]) * HEADER_MIX;
        }
    }
    else {
        for (i = 0; i + 8 <= len; i += 8) {
            memcpy(&w, s + i, 8);
            h = (h ^ w) * HEADER_MIX;
            h ^= h >> 29;
        }
        if (i < len) {
            /* the last 8 bytes, overlapping: len is in h already */
            memcpy(&w, s + len - 8, 8);
            h = (h ^ w) * HEADER_MIX;
            h ^= h >> 29;
        }
    }
    h ^= h >> 32;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return (apr_uint32_t)h;
}

/* The two sets a hash may be kept in (the same one when its two 6-bit
 * fields are equal). */
static unsigned header_set(apr_uint32_t hash, int second)
{
    return (second ? hash / JWT_HEADER_SETS : hash) % JWT_HEADER_SETS;
}

/* The header kept in set n for exactly these bytes (remembered as the
 * last one found), or NULL. */
static json_t *set_find(jwt_headers_t *h, unsigned n, apr_uint32_t hash,
                        const char *seg, size_t len)
{
    const jwt_header_set_t *s = &h->set[n];
    unsigned i;

    for (i = 0; i < s->used; i++) {
        if (s->hash[i] == hash && s->len[i] == len
            && !memcmp(s->seg[i], seg, len)) {
            h->last_set = (unsigned short)n;
            h->last_way = (unsigned char)i;
            return s->hdr[i];
        }
    }
    return NULL;
}

/* Keep hdr, parsed from seg, in the less full of its two sets; when both
 * are full, a hash bit picks which one replaces its next way.  Nothing
 * is kept when memory is short. */
static void header_keep(jwt_headers_t *h, apr_uint32_t hash,
                        const char *seg, size_t len, json_t *hdr)
{
    jwt_header_set_t *a = &h->set[header_set(hash, 0)];
    jwt_header_set_t *b = &h->set[header_set(hash, 1)];
    jwt_header_set_t *s = b->used < a->used ? b : a;
    char *copy = malloc(len);
    unsigned w;

    if (!copy) {
        return;
    }
    memcpy(copy, seg, len);
    if (s->used < JWT_HEADER_WAYS) {
        w = s->used++;
    }
    else {
        s = (hash >> 12) & 1 ? b : a;
        w = s->next++ % JWT_HEADER_WAYS;
        json_decref(s->hdr[w]);
        free(s->seg[w]);
    }
    s->hash[w] = hash;
    s->len[w] = (apr_uint16_t)len;
    s->seg[w] = copy;
    s->hdr[w] = json_incref(hdr);
    h->last_set = (unsigned short)(s - h->set);
    h->last_way = (unsigned char)w;
}

/* The header segment's JSON object: from this thread's cache, or decoded
 * and parsed.  NULL with *err when it is not base64url of a JSON object.
 * *keep is set when the caller may keep it once the token's signature
 * has verified (header_keep with *hash): a miss in a cache, within
 * JWT_HEADER_MAX_SEGMENT. */
static json_t *header_json(apr_pool_t *p, jwt_headers_t *h,
                           const char *seg, size_t len, apr_uint32_t *hash,
                           int *keep, jwt_error_t *err)
{
    unsigned char *buf;
    size_t blen;
    json_t *hdr;

    *keep = 0;
    if (h && len <= JWT_HEADER_MAX_SEGMENT) {
        const jwt_header_set_t *last = &h->set[h->last_set];
        unsigned w = h->last_way;

        if (w < last->used && last->len[w] == len
            && !memcmp(last->seg[w], seg, len)) {
            return jwt_json_pool(p, json_incref(last->hdr[w]));
        }
        *hash = jwt_header_hash(seg, len);
        if ((hdr = set_find(h, header_set(*hash, 0), *hash, seg, len))
            || (hdr = set_find(h, header_set(*hash, 1), *hash, seg, len))) {
            return jwt_json_pool(p, json_incref(hdr));
        }
        *keep = 1;
    }
    if (jwt_test_header_parsed) {
        jwt_test_header_parsed(seg, len);
    }
    if (!jwt_b64url_decode(&buf, &blen, p, seg, len)) {
        jwt_set_err(err, JWT_ERR_MALFORMED, "header not base64url");
        return NULL;
    }
    if (!(hdr = jwt_json_object(p, (const char *)buf, blen))) {
        jwt_set_err(err, JWT_ERR_MALFORMED, "header is not a JSON object");
        return NULL;
    }
    return hdr;
}

void jwt_headers_clear(jwt_headers_t *h)
{
    unsigned i, w;

    for (i = 0; i < JWT_HEADER_SETS; i++) {
        jwt_header_set_t *s = &h->set[i];

        for (w = 0; w < s->used; w++) {
            json_decref(s->hdr[w]);
            free(s->seg[w]);
        }
    }
    memset(h, 0, sizeof(*h));
}

/* jwt_jws_verify with parsed headers from h (NULL: none).  When a key
 * bound to an issuer verifies, the payload is parsed into *claims (and
 * *parsed set) for its iss: another issuer's token goes on to the keys
 * of the sources after that one (the same key may serve several bound
 * issuers: Entra ID's common keys under two tenants), and is refused
 * with JWT_ERR_ISSUER when none of them takes it. */
static int jws_verify(jwt_jws_t **out, apr_pool_t *p, jwt_headers_t *h,
                      const char *token, size_t len, const jwt_policy_t *pol,
                      jwt_claims_t *claims, int *parsed, jwt_error_t *err)
{
    const char *dot1, *dot2, *bound;
    unsigned char *pbuf = NULL, *sig;
    size_t plen = 0, siglen;
    json_t *hdr;
    jwt_alg_e alg;
    const char *kid;
    jwt_jws_t *jws;
    apr_uint32_t hash = 0;
    int from = -1, keep;

    *parsed = 0;
    if (len == 0 || len > JWT_MAX_TOKEN) {
        jwt_set_err(err, JWT_ERR_MALFORMED, "token empty or too long");
        return 0;
    }
    dot1 = memchr(token, '.', len);
    dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token))
                : NULL;
    if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token))) {
        jwt_set_err(err, JWT_ERR_MALFORMED, "not three dot-separated parts");
        return 0;
    }
    /* an empty payload is a valid JWS (RFC 7515), never a valid JWT */
    if (dot1 == token || dot2 + 1 == token + len) {
        jwt_set_err(err, JWT_ERR_MALFORMED, "empty header or signature");
        return 0;
    }
    if (!jwt_b64url_decode(&sig, &siglen, p, dot2 + 1,
                           len - (size_t)(dot2 + 1 - token))) {
        jwt_set_err(err, JWT_ERR_MALFORMED, "signature not base64url");
        return 0;
    }
    if (!(hdr = header_json(p, h, token, (size_t)(dot1 - token), &hash,
                            &keep, err))) {
        return 0;
    }
    if (!check_header(hdr, pol, &alg, &kid, err)) {
        return 0;
    }
    /* the signature is checked before the payload is even decoded */
    for (;;) {
        if (!verify_signature(pol, alg, kid, token, (size_t)(dot2 - token),
                              sig, siglen, &from, &bound, err)) {
            return 0;
        }
        if (!pbuf && !jwt_b64url_decode(&pbuf, &plen, p, dot1 + 1,
                                        (size_t)(dot2 - dot1 - 1))) {
            jwt_set_err(err, JWT_ERR_MALFORMED, "payload not base64url");
            return 0;
        }
        if (!bound) {
            break;
        }
        if (!*parsed) {
            if (!jwt_claims_parse(claims, p, (const char *)pbuf, plen)) {
                jwt_set_err(err, JWT_ERR_MALFORMED, "payload is not a JSON "
                            "object");
                return 0;
            }
            *parsed = 1;
        }
        if (jwt_issuer_matches(claims, jwt_claims_get(claims, "iss"),
                               bound)) {
            break;
        }
    }
    /* kept only now: a header without a verifying key is the sender's
     * own, and parsed again each time */
    if (keep) {
        header_keep(h, hash, token, (size_t)(dot1 - token), hdr);
    }
    jws = apr_palloc(p, sizeof(*jws));
    jws->alg = alg;
    jws->kid = kid;
    jws->header = hdr;
    jws->payload = pbuf;
    jws->payload_len = plen;
    *out = jws;
    jwt_set_err(err, JWT_OK, NULL);
    return 1;
}

/* A JWS verified by a key bound to an issuer must be a JWT of that
 * issuer: its payload is read for iss then, and only then. */
int jwt_jws_verify(jwt_jws_t **out, apr_pool_t *p, const char *token,
                   size_t len, const jwt_policy_t *pol, jwt_error_t *err)
{
    jwt_claims_t claims;
    int parsed;

    return jws_verify(out, p, NULL, token, len, pol, &claims, &parsed, err);
}

int jwt_verify_with(jwt_t **out, apr_pool_t *p, jwt_headers_t *h,
                    const char *token, size_t len, const jwt_policy_t *pol,
                    apr_int64_t now, jwt_error_t *err)
{
    jwt_t *jwt = apr_palloc(p, sizeof(*jwt));
    jwt_jws_t *jws;
    int parsed;

    if (!jws_verify(&jws, p, h, token, len, pol, &jwt->claims, &parsed,
                    err)) {
        return 0;
    }
    if (!parsed && !jwt_claims_parse(&jwt->claims, p,
                                     (const char *)jws->payload,
                                     jws->payload_len)) {
        jwt_set_err(err, JWT_ERR_MALFORMED, "payload is not a JSON object");
        return 0;
    }
    if (!jwt_check_claims(&jwt->claims, pol, now, err)) {
        return 0;
    }
    jwt->alg = jws->alg;
    jwt->kid = jws->kid;
    jwt->header = jws->header;
    *out = jwt;
    jwt_set_err(err, JWT_OK, NULL);
    return 1;
}

int jwt_verify(jwt_t **out, apr_pool_t *p, const char *token, size_t len,
               const jwt_policy_t *pol, apr_int64_t now, jwt_error_t *err)
{
    return jwt_verify_with(out, p, NULL, token, len, pol, now, err);
}

/* base64url of the compact JSON text of obj */
static char *encode_json(apr_pool_t *p, const json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT);
    char *enc;

    if (!text) {
        return NULL;
    }
    enc = jwt_b64url_encode(p, (const unsigned char *)text, strlen(text));
    free(text);
    return enc;
}

int jwt_sign(const char **out, apr_pool_t *p, const jwt_key_t *key,
             jwt_alg_e alg, json_t *claims, jwt_error_t *err)
{
    unsigned char *sig = NULL;
    size_t siglen = 0;
    json_t *hdr;
    const char *kid = jwt_key_sign_kid(key);
    char *h, *c, *input;

    if (alg <= JWT_ALG_UNKNOWN || alg >= JWT_ALG_COUNT
        || !(key->algs & JWT_ALG_BIT(alg)) || !key->is_private) {
        jwt_set_err(err, JWT_ERR_KEY, "key cannot sign with this alg");
        return 0;
    }
    hdr = jwt_json_pool(p, json_pack("{s:s, s:s}", "alg", jwt_algs[alg].name,
                                     "typ", "JWT"));
    if (!hdr || (kid && json_object_set_new(hdr, "kid", json_string(kid)))) {
        jwt_set_err(err, JWT_ERR_INTERNAL, "cannot build header");
        return 0;
    }
    if (!(h = encode_json(p, hdr)) || !(c = encode_json(p, claims))) {
        jwt_set_err(err, JWT_ERR_INTERNAL, "cannot encode JSON");
        return 0;
    }
    input = apr_pstrcat(p, h, ".", c, NULL);
    if (!jwt_key_sign(p, key, alg, (const unsigned char *)input, strlen(input),
                  &sig, &siglen)) {
        jwt_set_err(err, JWT_ERR_INTERNAL, "signing failed");
        return 0;
    }
    *out = apr_pstrcat(p, input, ".", jwt_b64url_encode(p, sig, siglen),
                       NULL);
    if (key->kty == JWT_KTY_OCT) {
        OPENSSL_cleanse(sig, siglen);
    }
    return 1;
}
