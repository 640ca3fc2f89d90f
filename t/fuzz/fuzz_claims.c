/* Claim validation: the input is the payload of a correctly signed HS256
 * token, so every byte reaches the JSON parser and the claim checks. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static apr_array_header_t *auds;
    static apr_array_header_t *issuers;
    jwt_policy_t pol = { 1u << JWT_ALG_HS256, NULL, NULL, NULL, 30, NULL };
    apr_pool_t *p;
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0;
    const char *input, *token;
    jwt_t *jwt;
    jwt_error_t err;
    static const unsigned char secret[64] =
        "fuzzing-secret-fuzzing-secret-fuzzing-secret-fuzzing-secret-0123";

    pol.keys = fuzz_keys();
    if (!auds) {
        auds = apr_array_make(fuzz_root, 2, sizeof(const char *));
        APR_ARRAY_PUSH(auds, const char *) = "aud";
        APR_ARRAY_PUSH(auds, const char *) = "web";
    }
    pol.audiences = (size & 1) ? auds : NULL;
    if (!issuers) {
        issuers = apr_array_make(fuzz_root, 2, sizeof(const char *));
        APR_ARRAY_PUSH(issuers, const char *) = "iss";
        APR_ARRAY_PUSH(issuers, const char *) = "other";
    }
    pol.issuers = (size & 2) ? issuers : NULL;
    apr_pool_create(&p, fuzz_root);
    input = apr_pstrcat(p, "eyJhbGciOiJIUzI1NiIsImtpZCI6ImhzIn0.",
                        jwt_b64url_encode(p, data, size), NULL);
    if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret,
                   sizeof(secret), (const unsigned char *)input,
                   strlen(input), mac, sizeof(mac), &maclen)) {
        abort();
    }
    token = apr_pstrcat(p, input, ".", jwt_b64url_encode(p, mac, maclen),
                        NULL);
    if (jwt_verify(&jwt, p, token, strlen(token), &pol, 1700000000, &err)) {
        /* accepted: then the payload is a JSON object to jansson too,
         * and exp a number in the future */
        json_t *claims = json_loadb((const char *)data, size,
                                    JSON_REJECT_DUPLICATES, NULL);
        json_t *exp = json_object_get(claims, "exp");

        if (!json_is_object(claims) || !json_is_number(exp)
            || json_number_value(exp) <= 1700000000 - 30) {
            abort();
        }
        json_decref(claims);
    }
    else if (err.code == JWT_ERR_SIGNATURE || err.code == JWT_ERR_KEY
             || err.code == JWT_ERR_ALG) {
        abort();                /* the signature was right */
    }
    apr_pool_destroy(p);
    return 0;
}
