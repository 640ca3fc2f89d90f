/*
 * keys.c: keys for mod_jwtauth's JOSE core: HMAC secrets, PEM keys
 * and certificates, JWKs and JWK Sets (RFC 7517, RFC 8037), their
 * binding to algorithms, public JWK export and RFC 7638 thumbprints.
 *
 * No httpd header: APR, jansson and OpenSSL 3 (EVP, OSSL_DECODER,
 * OSSL_PARAM_BLD).  Keys are built at configuration time; the only thing
 * read while serving is the finished jwt_key_t.
 */
#include <string.h>

#include <apr_strings.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "internal.h"

#define RSA_MIN_BITS 2048

/* ---------------------------------------------------------------- */
/* the key object                                                   */

static apr_status_t key_cleanup(void *data)
{
    jwt_key_t *key = data;
    int i;

    for (i = 0; i < JWT_ALG_COUNT; i++) {
        EVP_MAC_CTX_free(key->mac[i]);
        key->mac[i] = NULL;
    }
    EVP_PKEY_free(key->pkey);
    key->pkey = NULL;
    return APR_SUCCESS;
}

static jwt_key_t *key_new(apr_pool_t *p, jwt_kty_e kty, const char *kid)
{
    jwt_key_t *key = apr_pcalloc(p, sizeof(*key));

    key->kty = kty;
    key->kid = kid ? apr_pstrdup(p, kid) : NULL;
    apr_pool_cleanup_register(p, key, key_cleanup, apr_pool_cleanup_null);
    return key;
}

jwt_kty_e jwt_key_kty(const jwt_key_t *key)
{
    return key->kty;
}

const char *jwt_key_kid(const jwt_key_t *key)
{
    return key->kid;
}

unsigned jwt_key_algs(const jwt_key_t *key)
{
    return key->algs;
}

int jwt_key_is_private(const jwt_key_t *key)
{
    return key->is_private;
}

const char *jwt_key_sign_kid(const jwt_key_t *key)
{
    return key->kid ? key->kid : key->thumbprint;
}

const char *jwt_key_public_jwk(const jwt_key_t *key)
{
    return key->public_jwk;
}

jwt_alg_e jwt_key_default_alg(const jwt_key_t *key)
{
    int i;

    for (i = 1; i < JWT_ALG_COUNT; i++) {
        if (key->algs & JWT_ALG_BIT(i)) {
            return (jwt_alg_e)i;
        }
    }
    return JWT_ALG_UNKNOWN;
}

/* ---------------------------------------------------------------- */
/* HMAC                                                             */

int jwt_key_hmac_create(jwt_key_t **out, apr_pool_t *p,
                        const unsigned char *secret, size_t len,
                        const char *kid, jwt_error_t *err)
{
    jwt_key_t *key;
    EVP_MAC *mac = NULL;
    OSSL_PARAM params[2];
    int i, ok = 0;

    if (len < jwt_algs[JWT_ALG_HS256].size) {
        jwt_set_err(err, JWT_ERR_KEY, apr_psprintf(p,
                    "HMAC key is %" APR_SIZE_T_FMT " bytes; HS256 needs at "
                    "least 32 (RFC 7518 section 3.2)", len));
        return 0;
    }
    key = key_new(p, JWT_KTY_OCT, kid);
    key->is_private = 1;
    if (!(mac = EVP_MAC_fetch(NULL, "HMAC", NULL))) {
        jwt_set_err(err, JWT_ERR_INTERNAL, "OpenSSL has no HMAC");
        goto cleanup;
    }
    for (i = 1; i < JWT_ALG_COUNT; i++) {
        if (jwt_algs[i].kty != JWT_KTY_OCT || len < jwt_algs[i].size) {
            continue;
        }
        params[0] = OSSL_PARAM_construct_utf8_string(
                        OSSL_MAC_PARAM_DIGEST, (char *)jwt_algs[i].digest, 0);
        params[1] = OSSL_PARAM_construct_end();
        key->mac[i] = EVP_MAC_CTX_new(mac);
        if (!key->mac[i] || !EVP_MAC_init(key->mac[i], secret, len, params)) {
            jwt_set_err(err, JWT_ERR_INTERNAL, "cannot set up HMAC");
            goto cleanup;
        }
        key->algs |= JWT_ALG_BIT(i);
    }
    {
        static const char label[] = "mod_jwtauth shared-cache key id";
        EVP_MAC_CTX *c = EVP_MAC_CTX_dup(key->mac[JWT_ALG_HS256]);
        size_t fplen = 0;

        if (!c || !EVP_MAC_update(c, (const unsigned char *)label,
                                  sizeof(label) - 1)
            || !EVP_MAC_final(c, key->fp, &fplen, sizeof(key->fp))) {
            EVP_MAC_CTX_free(c);
            jwt_set_err(err, JWT_ERR_INTERNAL, "cannot name the HMAC key");
            goto cleanup;
        }
        EVP_MAC_CTX_free(c);
    }
    *out = key;
    ok = 1;

cleanup:
    EVP_MAC_free(mac);
    return ok;
}

/* ---------------------------------------------------------------- */
/* asymmetric keys: binding, export, thumbprint                      */

/* base64url of a big number's big-endian bytes, left-padded to pad
 * bytes when pad > 0 (EC coordinates), minimal otherwise (RSA n, e). */
static char *bn_b64(apr_pool_t *p, const BIGNUM *bn, int pad)
{
    int n = pad > 0 ? pad : BN_num_bytes(bn);
    unsigned char *buf = apr_palloc(p, (apr_size_t)n + 1);

    if (BN_bn2binpad(bn, buf, n) != n) {
        return NULL;
    }
    return jwt_b64url_encode(p, buf, (size_t)n);
}

/* The members of the public JWK that RFC 7638 hashes, in its order; NULL
 * on failure.  Also used, with kid/use/alg added, for publishing. */
static json_t *public_members(apr_pool_t *p, const jwt_key_t *key)
{
    BIGNUM *a = NULL, *b = NULL;
    json_t *jwk = NULL;
    const char *s1, *s2;
    unsigned char raw[64];
    size_t rawlen = sizeof(raw);
    int i;

    switch (key->kty) {
    case JWT_KTY_RSA:
        if (EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_RSA_E, &a)
            && EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_RSA_N, &b)
            && (s1 = bn_b64(p, a, 0)) && (s2 = bn_b64(p, b, 0))) {
            jwk = json_pack("{s:s, s:s, s:s}", "e", s1, "kty", "RSA",
                            "n", s2);
        }
        break;
    case JWT_KTY_EC:
        for (i = 1; i < JWT_ALG_COUNT; i++) {
            if (key->algs & JWT_ALG_BIT(i)) {
                break;
            }
        }
        if (i < JWT_ALG_COUNT
            && EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_EC_PUB_X, &a)
            && EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &b)
            && (s1 = bn_b64(p, a, (int)jwt_algs[i].size))
            && (s2 = bn_b64(p, b, (int)jwt_algs[i].size))) {
            jwk = json_pack("{s:s, s:s, s:s, s:s}",
                            "crv", jwt_algs[i].crv, "kty", "EC",
                            "x", s1, "y", s2);
        }
        break;
    case JWT_KTY_OKP:
        if (EVP_PKEY_get_raw_public_key(key->pkey, raw, &rawlen)) {
            jwk = json_pack("{s:s, s:s, s:s}",
                            "crv", jwt_algs[JWT_ALG_EDDSA].crv, "kty", "OKP",
                            "x", jwt_b64url_encode(p, raw, rawlen));
        }
        break;
    default:
        break;
    }
    BN_free(a);
    BN_free(b);
    return jwt_json_pool(p, jwk);
}

/* Thumbprint (RFC 7638) and published JWK of an asymmetric key. */
static int describe_key(jwt_key_t *key, apr_pool_t *p, jwt_error_t *err)
{
    json_t *jwk = public_members(p, key);
    unsigned char md[32];
    unsigned int mdlen = 0;
    char *text;
    jwt_alg_e only = JWT_ALG_UNKNOWN;
    int i, n = 0;

    if (!jwk || !(text = json_dumps(jwk, JSON_COMPACT))) {
        jwt_set_err(err, JWT_ERR_INTERNAL, "cannot export the public key");
        return 0;
    }
    if (!EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL)) {
        free(text);
        jwt_set_err(err, JWT_ERR_INTERNAL, "cannot hash the public key");
        return 0;
    }
    free(text);
    key->thumbprint = jwt_b64url_encode(p, md, mdlen);
    EVP_Digest(key->thumbprint, strlen(key->thumbprint), key->fp, NULL,
               EVP_sha256(), NULL);
    for (i = 1; i < JWT_ALG_COUNT; i++) {
        if (key->algs & JWT_ALG_BIT(i)) {
            only = (jwt_alg_e)i;
            n++;
        }
    }
    json_object_set_new(jwk, "kid", json_string(jwt_key_sign_kid(key)));
    json_object_set_new(jwk, "use", json_string("sig"));
    if (n == 1) {
        json_object_set_new(jwk, "alg", json_string(jwt_algs[only].name));
    }
    if (!(text = json_dumps(jwk, JSON_COMPACT))) {
        jwt_set_err(err, JWT_ERR_INTERNAL, "cannot export the public key");
        return 0;
    }
    key->public_jwk = apr_pstrdup(p, text);
    free(text);
    return 1;
}

/* Bind an EVP_PKEY to the algorithms its type allows; the key takes
 * ownership of pkey whatever happens. */
static int key_from_pkey(jwt_key_t **out, apr_pool_t *p, EVP_PKEY *pkey,
                         const char *kid, int is_private, jwt_error_t *err)
{
    jwt_key_t *key = key_new(p, 0, kid);
    char group[64];
    int i;

    key->pkey = pkey;
    key->is_private = is_private;
    if (EVP_PKEY_is_a(pkey, "RSA") || EVP_PKEY_is_a(pkey, "RSA-PSS")) {
        int bits = EVP_PKEY_get_bits(pkey);

        if (bits < RSA_MIN_BITS) {
            jwt_set_err(err, JWT_ERR_KEY, apr_psprintf(p, "RSA key is %d "
                        "bits; at least %d are required (RFC 7518 section "
                        "3.3)", bits, RSA_MIN_BITS));
            return 0;
        }
        key->kty = JWT_KTY_RSA;
        for (i = JWT_ALG_RS256; i <= JWT_ALG_PS512; i++) {
            /* a key restricted to PSS never does PKCS#1 v1.5 */
            if (jwt_algs[i].pss || !EVP_PKEY_is_a(pkey, "RSA-PSS")) {
                key->algs |= JWT_ALG_BIT(i);
            }
        }
    }
    else if (EVP_PKEY_is_a(pkey, "EC")) {
        key->kty = JWT_KTY_EC;
        if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                            group, sizeof(group), NULL)) {
            group[0] = '\0';
        }
        for (i = JWT_ALG_ES256; i <= JWT_ALG_ES256K; i++) {
            if (!strcmp(group, jwt_algs[i].group)) {
                key->algs = JWT_ALG_BIT(i);
            }
        }
        if (!key->algs) {
            jwt_set_err(err, JWT_ERR_KEY, apr_psprintf(p, "EC curve '%s' is "
                        "none of P-256, P-384, P-521, secp256k1", group));
            return 0;
        }
    }
    else if (EVP_PKEY_is_a(pkey, "ED25519")) {
        key->kty = JWT_KTY_OKP;
        key->algs = JWT_ALG_BIT(JWT_ALG_EDDSA);
    }
    else {
        jwt_set_err(err, JWT_ERR_KEY, apr_psprintf(p, "key type %s is not "
                    "supported (RSA, EC, Ed25519 or an HMAC secret)",
                    EVP_PKEY_get0_type_name(pkey)));
        return 0;
    }
    if (!describe_key(key, p, err)) {
        return 0;
    }
    *out = key;
    return 1;
}

/* ---------------------------------------------------------------- */
/* PEM                                                              */

/* Does text (len bytes, not NUL-terminated: a file's or a fetched
 * document's bytes) hold s?  Only its len bytes are read. */
static int contains(const char *text, size_t len, const char *s)
{
    size_t n = strlen(s), i;

    for (i = 0; n <= len && i <= len - n; i++) {
        if (!memcmp(text + i, s, n)) {
            return 1;
        }
    }
    return 0;
}

static int key_from_pem(jwt_key_t **out, apr_pool_t *p, const char *text,
                        size_t len, const char *kid, int want_private,
                        jwt_error_t *err)
{
    EVP_PKEY *pkey = NULL;
    OSSL_DECODER_CTX *dctx = NULL;
    BIO *bio = NULL;
    X509 *cert = NULL;
    const unsigned char *data = (const unsigned char *)text;
    size_t left = len;
    int is_cert = contains(text, len, "-----BEGIN CERTIFICATE-----");

    if (is_cert && !want_private) {
        if ((bio = BIO_new_mem_buf(text, (int)len))
            && (cert = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
            pkey = X509_get_pubkey(cert);
        }
        X509_free(cert);
        BIO_free(bio);
    }
    else if (!is_cert) {
        dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, NULL,
                                             want_private ? EVP_PKEY_KEYPAIR
                                                          : EVP_PKEY_PUBLIC_KEY,
                                             NULL, NULL);
        if (!dctx || !OSSL_DECODER_from_data(dctx, &data, &left)) {
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
        OSSL_DECODER_CTX_free(dctx);
    }
    if (!pkey) {
        jwt_set_err(err, JWT_ERR_KEY, want_private
                    ? "no PEM private key found"
                    : contains(text, len, "PRIVATE KEY-----")
                    ? "a private key where a public one belongs: give its "
                      "public half (openssl pkey -pubout)"
                    : "no PEM public key or certificate found");
        return 0;
    }
    return key_from_pkey(out, p, pkey, kid, want_private, err);
}

/* ---------------------------------------------------------------- */
/* JWK                                                              */

/* A base64url member of a JWK, decoded; want_len 0 for any length. */
static int jwk_bytes(const json_t *jwk, const char *name, apr_pool_t *p,
                     unsigned char **out, size_t *len, size_t want_len)
{
    json_t *v = json_object_get(jwk, name);

    return json_is_string(v)
        && jwt_b64url_decode(out, len, p, json_string_value(v),
                             json_string_length(v))
        && *len > 0 && (want_len == 0 || *len == want_len);
}

static int push_bn(OSSL_PARAM_BLD *bld, const char *param,
                   const unsigned char *bytes, size_t len, BIGNUM **owned)
{
    BIGNUM *bn = BN_bin2bn(bytes, (int)len, NULL);

    *owned = bn;
    return bn && OSSL_PARAM_BLD_push_BN(bld, param, bn);
}

static EVP_PKEY *pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld,
                               int selection)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY *pkey = NULL;

    if (!ctx || !params || EVP_PKEY_fromdata_init(ctx) <= 0
        || EVP_PKEY_fromdata(ctx, &pkey, selection, params) <= 0) {
        pkey = NULL;
    }
    OSSL_PARAM_free(params);
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

static EVP_PKEY *rsa_from_jwk(const json_t *jwk, apr_pool_t *p,
                              int want_private, const char **why)
{
    static const char *const names[] = { "n", "e", "d", "p", "q", "dp",
                                         "dq", "qi" };
    static const char *const params[] = {
        OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
        OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
        OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
        OSSL_PKEY_PARAM_RSA_COEFFICIENT1
    };
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *bn[8] = { NULL };
    EVP_PKEY *pkey = NULL;
    unsigned char *b;
    size_t len;
    int i, n = want_private ? 8 : 2;

    for (i = 0; bld && i < n; i++) {
        if (!jwk_bytes(jwk, names[i], p, &b, &len, 0)) {
            /* n, e and d are needed; the CRT members come all or none */
            if (i < 3 || i > 3) {
                *why = apr_psprintf(p, "RSA JWK without a valid '%s'",
                                    names[i]);
                goto cleanup;
            }
            n = 3;
            break;
        }
        if (!push_bn(bld, params[i], b, len, &bn[i])) {
            *why = "cannot build the RSA key";
            goto cleanup;
        }
    }
    pkey = pkey_fromdata("RSA", bld, want_private ? EVP_PKEY_KEYPAIR
                                                  : EVP_PKEY_PUBLIC_KEY);
    if (!pkey) {
        *why = "RSA JWK rejected by OpenSSL";
    }

cleanup:
    for (i = 0; i < 8; i++) {
        BN_clear_free(bn[i]);
    }
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

static EVP_PKEY *ec_from_jwk(const json_t *jwk, apr_pool_t *p,
                             int want_private, const char **why)
{
    json_t *crv = json_object_get(jwk, "crv");
    OSSL_PARAM_BLD *bld = NULL;
    BIGNUM *d = NULL;
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *check = NULL;
    unsigned char *x, *y, *dd, *pub;
    size_t xl, yl, dl, size = 0;
    const char *group = NULL;
    int i;

    for (i = JWT_ALG_ES256; i <= JWT_ALG_ES256K; i++) {
        if (json_is_string(crv)
            && !strcmp(json_string_value(crv), jwt_algs[i].crv)) {
            group = jwt_algs[i].group;
            size = jwt_algs[i].size;
        }
    }
    if (!group) {
        *why = "EC JWK crv is none of P-256, P-384, P-521, secp256k1";
        return NULL;
    }
    /* coordinates are exactly the field size (RFC 7518 section 6.2.1.2) */
    if (!jwk_bytes(jwk, "x", p, &x, &xl, size)
        || !jwk_bytes(jwk, "y", p, &y, &yl, size)) {
        *why = "EC JWK x or y missing or not the curve's size";
        return NULL;
    }
    pub = apr_palloc(p, 1 + 2 * size);
    pub[0] = 0x04;
    memcpy(pub + 1, x, size);
    memcpy(pub + 1 + size, y, size);
    if (!(bld = OSSL_PARAM_BLD_new())
        || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                            group, 0)
        || !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
                                             pub, 1 + 2 * size)) {
        *why = "cannot build the EC key";
        goto cleanup;
    }
    if (want_private) {
        if (!jwk_bytes(jwk, "d", p, &dd, &dl, size)) {
            *why = "EC JWK without a valid 'd'";
            goto cleanup;
        }
        if (!push_bn(bld, OSSL_PKEY_PARAM_PRIV_KEY, dd, dl, &d)) {
            *why = "cannot build the EC key";
            goto cleanup;
        }
    }
    pkey = pkey_fromdata("EC", bld, want_private ? EVP_PKEY_KEYPAIR
                                                 : EVP_PKEY_PUBLIC_KEY);
    /* the point must lie on the curve */
    check = pkey ? EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL) : NULL;
    if (!pkey || !check || EVP_PKEY_public_check(check) != 1) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
        *why = "EC JWK is not a point on its curve";
    }

cleanup:
    EVP_PKEY_CTX_free(check);
    BN_clear_free(d);
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

static EVP_PKEY *okp_from_jwk(const json_t *jwk, apr_pool_t *p,
                              int want_private, const char **why)
{
    json_t *crv = json_object_get(jwk, "crv");
    unsigned char *x, *d;
    size_t xl, dl;
    EVP_PKEY *pkey;

    if (!json_is_string(crv)
        || strcmp(json_string_value(crv), jwt_algs[JWT_ALG_EDDSA].crv)) {
        *why = "OKP JWK crv is not Ed25519";
        return NULL;
    }
    if (!jwk_bytes(jwk, "x", p, &x, &xl, 32)) {
        *why = "Ed25519 JWK x missing or not 32 bytes";
        return NULL;
    }
    if (!want_private) {
        pkey = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, x, xl);
    }
    else if (!jwk_bytes(jwk, "d", p, &d, &dl, 32)) {
        *why = "Ed25519 JWK without a valid 'd'";
        return NULL;
    }
    else {
        unsigned char pub[32];
        size_t publen = sizeof(pub);

        pkey = EVP_PKEY_new_raw_private_key_ex(NULL, "ED25519", NULL, d, dl);
        OPENSSL_cleanse(d, dl);
        /* x must be the public half of d */
        if (pkey && (!EVP_PKEY_get_raw_public_key(pkey, pub, &publen)
                     || publen != 32 || CRYPTO_memcmp(pub, x, 32))) {
            EVP_PKEY_free(pkey);
            *why = "Ed25519 JWK x does not match d";
            return NULL;
        }
    }
    if (!pkey) {
        *why = "Ed25519 JWK rejected by OpenSSL";
    }
    return pkey;
}

/* Does an array of strings hold want? */
static int holds(const json_t *arr, const char *want)
{
    size_t i;
    json_t *v;

    json_array_foreach(arr, i, v) {
        if (json_is_string(v) && !strcmp(json_string_value(v), want)) {
            return 1;
        }
    }
    return 0;
}

int jwt_key_from_jwk(jwt_key_t **out, apr_pool_t *p, const json_t *jwk,
                     const char *kid, int want_private, jwt_error_t *err)
{
    json_t *kty = json_object_get(jwk, "kty");
    json_t *alg = json_object_get(jwk, "alg");
    json_t *use = json_object_get(jwk, "use");
    json_t *ops = json_object_get(jwk, "key_ops");
    json_t *jkid = json_object_get(jwk, "kid");
    const char *why = NULL, *t;
    EVP_PKEY *pkey = NULL;
    jwt_key_t *key = NULL;
    jwt_alg_e only = JWT_ALG_UNKNOWN;

    if (!json_is_object(jwk) || !json_is_string(kty)) {
        jwt_set_err(err, JWT_ERR_KEY, "JWK without kty");
        return 0;
    }
    /* a key meant for encryption is never used to verify (RFC 7517
     * sections 4.2 and 4.3) */
    if (use && (!json_is_string(use)
                || strcmp(json_string_value(use), "sig"))) {
        jwt_set_err(err, JWT_ERR_KEY, "JWK use is not \"sig\"");
        return 0;
    }
    if (ops && (!json_is_array(ops)
                || !holds(ops, want_private ? "sign" : "verify"))) {
        jwt_set_err(err, JWT_ERR_KEY, want_private
                    ? "JWK key_ops lacks \"sign\""
                    : "JWK key_ops lacks \"verify\"");
        return 0;
    }
    if (alg) {
        if (!json_is_string(alg)
            || !(only = jwt_alg_from_name(json_string_value(alg),
                                          json_string_length(alg)))) {
            jwt_set_err(err, JWT_ERR_KEY, "JWK alg unknown or none");
            return 0;
        }
    }
    if (jkid && !json_is_string(jkid)) {
        jwt_set_err(err, JWT_ERR_KEY, "JWK kid is not a string");
        return 0;
    }
    if (!kid && jkid) {
        kid = json_string_value(jkid);
    }
    t = json_string_value(kty);
    if (!strcmp(t, "oct")) {
        unsigned char *k;
        size_t kl;

        if (!jwk_bytes(jwk, "k", p, &k, &kl, 0)) {
            jwt_set_err(err, JWT_ERR_KEY, "oct JWK without a valid 'k'");
            return 0;
        }
        if (!jwt_key_hmac_create(&key, p, k, kl, kid, err)) {
            OPENSSL_cleanse(k, kl);
            return 0;
        }
        OPENSSL_cleanse(k, kl);
    }
    else {
        if (!strcmp(t, "RSA")) {
            pkey = rsa_from_jwk(jwk, p, want_private, &why);
        }
        else if (!strcmp(t, "EC")) {
            pkey = ec_from_jwk(jwk, p, want_private, &why);
        }
        else if (!strcmp(t, "OKP")) {
            pkey = okp_from_jwk(jwk, p, want_private, &why);
        }
        else {
            why = apr_psprintf(p, "JWK kty '%s' is not supported", t);
        }
        if (!pkey) {
            jwt_set_err(err, JWT_ERR_KEY, why);
            return 0;
        }
        if (!key_from_pkey(&key, p, pkey, kid, want_private, err)) {
            return 0;
        }
    }
    if (only) {
        if (!(key->algs & JWT_ALG_BIT(only))) {
            jwt_set_err(err, JWT_ERR_KEY, apr_psprintf(p, "JWK alg %s does "
                        "not fit its key", jwt_algs[only].name));
            return 0;
        }
        key->algs = JWT_ALG_BIT(only);
        if (key->kty != JWT_KTY_OCT && !describe_key(key, p, err)) {
            return 0;
        }
    }
    *out = key;
    return 1;
}

/* ---------------------------------------------------------------- */
/* key files                                                        */

int jwt_keys_load(apr_array_header_t *keys, apr_pool_t *p,
                  const char *text, size_t len, const char *kid,
                  int want_private, jwt_error_t *err)
{
    return jwt_keys_load_ex(keys, p, text, len, kid, want_private, NULL,
                            err);
}

/* The keys of a JWK Set's "keys" array appended to keys, each unusable
 * one recorded in skipped instead.  Refused when none is usable, or when
 * OpenSSL itself fails (that is no fault of the key's, and skipping it
 * would quietly drop a good key). */
static int load_set(apr_array_header_t *keys, apr_pool_t *p,
                    const json_t *set, int want_private,
                    apr_array_header_t *skipped, jwt_error_t *err)
{
    apr_array_header_t *got = apr_array_make(p, (int)json_array_size(set),
                                             sizeof(jwt_key_t *));
    jwt_key_skip_t *skip;
    jwt_key_t *key;
    json_t *jwk, *jkid;
    size_t i;

    json_array_foreach(set, i, jwk) {
        jwt_error_t kerr;

        /* one key this loader cannot or must not use (an encryption
         * key, an algorithm or curve it does not know, too short, or
         * broken) leaves the set's other keys usable: providers publish
         * such keys beside their signing keys */
        if (jwt_key_from_jwk(&key, p, jwk, NULL, want_private, &kerr)) {
            APR_ARRAY_PUSH(got, jwt_key_t *) = key;
            continue;
        }
        if (kerr.code == JWT_ERR_INTERNAL) {
            jwt_set_err(err, kerr.code, apr_psprintf(p, "JWK Set key #%"
                        APR_SIZE_T_FMT ": %s", i, kerr.reason));
            return 0;
        }
        jkid = json_object_get(jwk, "kid");
        skip = apr_array_push(skipped);
        skip->index = i;
        skip->kid = json_is_string(jkid)
                    ? apr_pstrdup(p, json_string_value(jkid)) : NULL;
        skip->reason = json_is_object(jwk) ? kerr.reason
                                           : "JWK is not a JSON object";
    }
    if (got->nelts == 0) {
        skip = &APR_ARRAY_IDX(skipped, 0, jwt_key_skip_t);
        jwt_set_err(err, JWT_ERR_KEY, apr_psprintf(p, "JWK Set has no "
                    "usable key (%d skipped; key #%" APR_SIZE_T_FMT ": %s)",
                    skipped->nelts, skip->index, skip->reason));
        return 0;
    }
    apr_array_cat(keys, got);
    return 1;
}

int jwt_keys_load_ex(apr_array_header_t *keys, apr_pool_t *p,
                     const char *text, size_t len, const char *kid,
                     int want_private, apr_array_header_t **skipped,
                     jwt_error_t *err)
{
    const char *s = text;
    apr_array_header_t *skips = apr_array_make(p, 1,
                                               sizeof(jwt_key_skip_t));
    jwt_key_t *key;
    json_t *doc, *set;

    if (skipped) {
        *skipped = skips;
    }
    /* (strchr would count a NUL byte as one of them) */
    while (s < text + len && *s && strchr(" \t\r\n", *s)) {
        s++;
    }
    if (s == text + len || *s != '{') {
        if (!key_from_pem(&key, p, text, len, kid, want_private, err)) {
            return 0;
        }
        APR_ARRAY_PUSH(keys, jwt_key_t *) = key;
        return 1;
    }
    if (!(doc = jwt_json_object(p, text, len))) {
        jwt_set_err(err, JWT_ERR_KEY, "not a JSON object (JWK or JWK Set)");
        return 0;
    }
    /* a single JWK is the whole file: unusable, it is refused */
    if (!(set = json_object_get(doc, "keys"))) {
        if (!jwt_key_from_jwk(&key, p, doc, kid, want_private, err)) {
            return 0;
        }
        APR_ARRAY_PUSH(keys, jwt_key_t *) = key;
        return 1;
    }
    if (kid) {
        jwt_set_err(err, JWT_ERR_KEY, "a JWK Set names its keys itself: "
                    "give no kid");
        return 0;
    }
    if (!json_is_array(set) || json_array_size(set) == 0) {
        jwt_set_err(err, JWT_ERR_KEY, "JWK Set \"keys\" is not a non-empty "
                    "array");
        return 0;
    }
    return load_set(keys, p, set, want_private, skips, err);
}
