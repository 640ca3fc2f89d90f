/*
 * creds.h: parsers for the credentials a client sends to /login.
 *
 * HTTP Basic (RFC 7617), an application/x-www-form-urlencoded body and a
 * JSON body, each giving a user name and a password.  Pure functions of
 * their input: no httpd header, so the fuzzers link them as they are.
 * Every parser refuses empty fields, NUL and other control characters
 * in the user name, a user name that is not well-formed UTF-8 (it
 * becomes a JSON string, the token's sub), and anything it cannot read
 * exactly.
 */
#ifndef JOSE_CREDS_H
#define JOSE_CREDS_H

#include <apr_pools.h>

/* Upper bound of a login request body we read. */
#define JWT_CREDS_MAX_BODY 8192

/* "Basic <base64(user:password)>"; the scheme is case-insensitive. */
int jwt_creds_basic(const char **user, const char **password, apr_pool_t *p,
                    const char *header);

/* "username=...&password=..." with %XX and '+' decoding; each field
 * exactly once, other fields ignored. */
int jwt_creds_form(const char **user, const char **password, apr_pool_t *p,
                   const char *body, size_t len);

/* {"username": "...", "password": "..."}: one object, string members,
 * no duplicates. */
int jwt_creds_json(const char **user, const char **password, apr_pool_t *p,
                   const char *body, size_t len);

#endif /* JOSE_CREDS_H */
