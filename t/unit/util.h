/*
 * util.h: the few helpers that several unit tests of the core share (a
 * file read whole, a memory BIO's text, an array of one or two keys,
 * the heap's bytes in use).
 * Each takes the test's pool; what it returns lives in that pool.  Static
 * inline, so that a test using only some of them compiles without an
 * unused-function warning.
 */
#ifndef JWT_TEST_UTIL_H
#define JWT_TEST_UTIL_H

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <openssl/bio.h>

#include "jose.h"

#define UTIL_SLURP_MAX 65535

/* A file, whole and NUL-terminated; exits when it cannot be read or is
 * longer than UTIL_SLURP_MAX bytes (a test must not read half a file). */
static inline char *slurp(apr_pool_t *p, const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = apr_palloc(p, UTIL_SLURP_MAX + 1);
    size_t n;

    if (!f) {
        printf("# cannot open %s\n", path);
        exit(1);
    }
    n = fread(buf, 1, UTIL_SLURP_MAX, f);
    if (n == UTIL_SLURP_MAX && fgetc(f) != EOF) {
        printf("# %s is longer than %d bytes\n", path, UTIL_SLURP_MAX);
        exit(1);
    }
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* What a memory BIO holds, as a string of p. */
static inline char *bio_text(apr_pool_t *p, BIO *b)
{
    char *data;
    long n = BIO_get_mem_data(b, &data);

    return apr_pstrmemdup(p, data, (apr_size_t)n);
}

/* An array of a (and of b unless NULL), as a policy's keys member. */
static inline apr_array_header_t *keys_of(apr_pool_t *p, jwt_key_t *a,
                                          jwt_key_t *b)
{
    apr_array_header_t *keys = apr_array_make(p, 2, sizeof(jwt_key_t *));

    APR_ARRAY_PUSH(keys, jwt_key_t *) = a;
    if (b) {
        APR_ARRAY_PUSH(keys, jwt_key_t *) = b;
    }
    return keys;
}

/* The bytes malloc has handed out: glibc's count, or ASan's under
 * SANITIZE=1 (its allocator replaces glibc's, whose count is then 0). */
#if defined(__SANITIZE_ADDRESS__)
/* libasan's (sanitizer/allocator_interface.h, not always installed) */
size_t __sanitizer_get_current_allocated_bytes(void);
static inline size_t heap_in_use(void)
{
    return __sanitizer_get_current_allocated_bytes();
}
#else
static inline size_t heap_in_use(void)
{
    return mallinfo2().uordblks;
}
#endif

#endif
