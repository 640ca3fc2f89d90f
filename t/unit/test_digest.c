/*
 * test_digest.c: jose/digest.c's SHA-256 (the FIPS 180-2 vectors, parts
 * hashed as one text, and several threads at once on the one fetched
 * digest).
 */
#include <stdio.h>
#include <string.h>

#include <apr_general.h>
#include <apr_thread_proc.h>

#include "tap.h"
#include "digest.h"

static void hex(char out[65], const unsigned char d[32])
{
    int i;

    for (i = 0; i < 32; i++) {
        sprintf(out + 2 * i, "%02x", d[i]);
    }
}

/* the digest of the parts, as hex; "" when jwt_sha256 fails */
static const char *digest(char out[65], const char *const *parts, int n)
{
    const void *data[8];
    size_t len[8];
    unsigned char d[32];
    int i;

    for (i = 0; i < n; i++) {
        data[i] = parts[i];
        len[i] = strlen(parts[i]);
    }
    if (!jwt_sha256(d, data, len, n)) {
        return "";
    }
    hex(out, d);
    return out;
}

#define ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define LONG "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"

static const struct {
    const char *what;
    const char *parts[4];
    int n;
    const char *want;
} rows[] = {
    { "abc", { "abc" }, 1, ABC },
    { "a, b, c", { "a", "b", "c" }, 3, ABC },
    { "ab, empty, c", { "ab", "", "c" }, 3, ABC },
    { "no part", { NULL }, 0, EMPTY },
    { "one empty part", { "" }, 1, EMPTY },
    { "448 bits, two parts",
      { "abcdbcdecdefdefgefghfghighijhijk", "ijkljklmklmnlmnomnopnopq" }, 2,
      LONG },
};

static volatile int wrong;

static void *APR_THREAD_FUNC hammer(apr_thread_t *t, void *arg)
{
    const char *parts[3] = { "a", "b", "c" };
    char out[65];
    int i;

    for (i = 0; i < 2000; i++) {
        if (strcmp(digest(out, parts, 3), ABC)) {
            wrong++;
        }
    }
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

int main(void)
{
    apr_pool_t *p;
    apr_thread_t *th[4];
    apr_status_t rv;
    char out[65];
    size_t i;

    apr_initialize();
    apr_pool_create(&p, NULL);
    /* the threads first: the first call of all fetches the digest */
    for (i = 0; i < 4; i++) {
        apr_thread_create(&th[i], NULL, hammer, NULL, p);
    }
    for (i = 0; i < 4; i++) {
        apr_thread_join(&rv, th[i]);
    }
    ok(wrong == 0, "4 threads, 8,000 digests from the first call on: "
       "%d wrong (expected 0)", wrong);
    ok(jwt_md_sha256() && jwt_md_sha256() == jwt_md_sha256(),
       "one digest object, fetched once");
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *got = digest(out, rows[i].parts, rows[i].n);

        ok(!strcmp(got, rows[i].want), "%s: got %s, expected %s",
           rows[i].what, got, rows[i].want);
    }
    apr_pool_destroy(p);
    apr_terminate();
    return done_testing();
}
