/*
 * test_b64_diff.c: jwt_b64url_decode (the table-driven decoder that
 * reads a group of 4 characters through 4 lookups and one store)
 * against the decoder it replaced, copied here unchanged as the
 * reference: on random and hostile inputs both must accept the same
 * texts and give the same bytes.  Covers every character value, lengths
 * 0..600, '=' padding, whitespace, '+' and '/' (base64, not base64url)
 * and the non-canonical low bits of the last character (RFC 4648 3.5,
 * RFC 7515 section 2), exhaustively for the last 2 characters.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "tap.h"
#include "util.h"

/* ---- the reference: jose/util.c's decoder before the change ---- */

static const unsigned char ref_values[256] = {
#define X64 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64
    X64, X64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 62, 64, 64,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 64, 64, 64, 64, 64, 64,
    64,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 64, 64, 64, 64, 63,
    64, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 64, 64, 64, 64, 64,
    X64, X64, X64, X64, X64, X64, X64, X64
#undef X64
};

static int ref_decode(unsigned char **out, size_t *outlen, apr_pool_t *p,
                      const char *in, size_t len)
{
    const unsigned char *s = (const unsigned char *)in;
    unsigned char *buf, *o;
    size_t i, full = len / 4 * 4, rem = len % 4;
    unsigned a, b, c, d;

    if (rem == 1) {
        return 0;
    }
    buf = o = apr_palloc(p, len / 4 * 3 + 3);
    for (i = 0; i < full; i += 4) {
        a = ref_values[s[i]];
        b = ref_values[s[i + 1]];
        c = ref_values[s[i + 2]];
        d = ref_values[s[i + 3]];
        if ((a | b | c | d) & 64) {
            return 0;
        }
        *o++ = (unsigned char)(a << 2 | b >> 4);
        *o++ = (unsigned char)(b << 4 | c >> 2);
        *o++ = (unsigned char)(c << 6 | d);
    }
    if (rem) {
        a = ref_values[s[i]];
        b = ref_values[s[i + 1]];
        c = rem == 3 ? ref_values[s[i + 2]] : 0;
        if ((a | b | c) & 64) {
            return 0;
        }
        if ((rem == 2 && (b & 15)) || (rem == 3 && (c & 3))) {
            return 0;
        }
        *o++ = (unsigned char)(a << 2 | b >> 4);
        if (rem == 3) {
            *o++ = (unsigned char)(b << 4 | c >> 2);
        }
    }
    *o = '\0';
    *out = buf;
    *outlen = (size_t)(o - buf);
    return 1;
}

/* ---- the comparison ---- */

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char hostile[] = "=+/ \t\r\n.%\"\\~";

static unsigned long seed = 20261201;

static unsigned rnd(void)
{
    seed = seed * 6364136223846793005UL + 1442695040888963407UL;
    return (unsigned)(seed >> 33);
}

/* Do both decoders agree on in?  The new one decodes from a private
 * copy of exactly len bytes (valgrind and ASan see any read past it). */
static int agree(apr_pool_t *p, const char *in, size_t len, int *accepted)
{
    unsigned char *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    char *copy = malloc(len ? len : 1);
    int ra, rb;

    memcpy(copy, in, len);
    ra = jwt_b64url_decode(&a, &alen, p, copy, len);
    rb = ref_decode(&b, &blen, p, in, len);
    free(copy);
    *accepted = ra;
    if (ra != rb) {
        return 0;
    }
    return !ra || (alen == blen && !memcmp(a, b, alen) && a[alen] == '\0');
}

/* A random text of len characters: mostly the alphabet, and with
 * probability bad/1000 per character a hostile or any byte. */
static void random_text(char *t, size_t len, unsigned bad)
{
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned r = rnd() % 1000;

        if (r < bad / 2) {
            t[i] = hostile[rnd() % (sizeof(hostile) - 1)];
        }
        else if (r < bad) {
            t[i] = (char)(rnd() % 256);
        }
        else {
            t[i] = alphabet[rnd() % 64];
        }
    }
    /* a quarter of them end in '=' padding, as base64 would */
    if (len >= 2 && rnd() % 4 == 0) {
        t[len - 1] = '=';
        if (rnd() % 2) {
            t[len - 2] = '=';
        }
    }
}

int main(void)
{
    apr_pool_t *root, *p;
    char text[700];
    unsigned long n, bad = 0, accepted = 0, acc;
    int ok_all, a;
    unsigned x, y, z;
    size_t len;

    apr_initialize();
    apr_pool_create(&root, NULL);

    /* 100,000 random texts, lengths 0..600 */
    for (n = 0, ok_all = 1; n < 100000; n++) {
        apr_pool_create(&p, root);
        len = rnd() % 601;
        random_text(text, len, n % 3 == 0 ? 0 : n % 3 == 1 ? 2 : 30);
        if (!agree(p, text, len, &a)) {
            ok_all = 0;
            bad++;
            if (bad < 5) {
                printf("# differs on a text of %zu characters\n", len);
            }
        }
        accepted += (unsigned long)a;
        apr_pool_destroy(p);
    }
    ok(ok_all, "100,000 random texts: the same verdict and bytes "
       "(%lu differ)", bad);
    /* the random inputs must exercise both verdicts */
    ok(accepted > 10000 && accepted < 90000,
       "random texts both accepted and refused (%lu accepted)", accepted);

    /* every byte value at every place of a group and after */
    apr_pool_create(&p, root);
    for (len = 1, ok_all = 1, acc = 0; len <= 9; len++) {
        size_t pos;

        for (pos = 0; pos < len; pos++) {
            for (x = 0; x < 256; x++) {
                memset(text, 'Q', len);
                text[pos] = (char)x;
                ok_all &= agree(p, text, len, &a);
                acc += (unsigned long)a;
            }
        }
    }
    ok(ok_all && acc > 0, "every byte at every position of texts of 1..9 "
       "characters (%lu accepted)", acc);

    /* the last 2 characters, all 65,536 pairs, after 0, 1 and 2 groups
     * and after a lone character: the canonical-bits rule of 2 and 3
     * leftover characters */
    for (z = 0, ok_all = 1, acc = 0; z < 4; z++) {
        size_t pre = z < 3 ? z * 4 : 5;

        memset(text, 'A', pre);
        for (x = 0; x < 256; x++) {
            for (y = 0; y < 256; y++) {
                text[pre] = (char)x;
                text[pre + 1] = (char)y;
                ok_all &= agree(p, text, pre + 2, &a);
                acc += (unsigned long)a;
            }
        }
    }
    ok(ok_all && acc == 3 * 64 * 4 + 64 * 16,
       "all last-two-character pairs: canonical bits as before "
       "(%lu accepted)", acc);

    /* 3 leftover characters: the third's low 2 bits */
    for (x = 0, ok_all = 1, acc = 0; x < 256; x++) {
        memcpy(text, "abcdAB", 6);
        text[6] = (char)x;
        ok_all &= agree(p, text, 7, &a);
        acc += (unsigned long)a;
    }
    ok(ok_all && acc == 16, "the third leftover character: %lu of 256 "
       "accepted (the 16 with zero low bits)", acc);

    /* empty, whitespace, padding alone, a long valid text */
    {
        static const char *const fixed[] = {
            "", "=", "==", "A=", "AA==", "AAA=", " AAAA", "AAAA ",
            "AA\nAA", "AAAA\n", "AA AA", "AAAA====", "+/+/", "-_-_",
            "____", "----", "AAAA.AAAA", NULL
        };
        int i;

        for (i = 0, ok_all = 1; fixed[i]; i++) {
            ok_all &= agree(p, fixed[i], strlen(fixed[i]), &a);
        }
        ok(ok_all, "fixed edge cases: empty, padding, whitespace, '+/'");
    }
    for (len = 0; len < 600; len++) {
        text[len] = alphabet[len % 64];
    }
    for (len = 0, ok_all = 1; len <= 600; len++) {
        ok_all &= agree(p, text, len, &a);
    }
    ok(ok_all, "the alphabet cycled, every length 0..600");
    apr_pool_destroy(p);
    apr_pool_destroy(root);
    apr_terminate();
    return done_testing();
}
