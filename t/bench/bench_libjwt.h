#ifndef BENCH_LIBJWT_H
#define BENCH_LIBJWT_H
/* 1 when libjwt verifies token with key (a secret, or a PEM public key) */
int bench_libjwt_verify(const char *token, const unsigned char *key,
                        int keylen);
#endif
