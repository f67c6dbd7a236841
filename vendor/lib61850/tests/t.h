/* Minimal C test harness for lib61850: one executable per test file.
 *   T_CHECK(cond) records a failure and goes on; T_MAIN runs the listed tests
 *   and prints "N passed, N failed" as its last line (exit 1 on any failure). */
#ifndef I61_T_H
#define I61_T_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

static int t_failures;
static int t_checks;

#define T_CHECK(cond) do { t_checks++; if (!(cond)) { t_failures++; \
    fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define T_EQ_INT(a, b) do { long long t_a_ = (long long)(a), t_b_ = (long long)(b); t_checks++; \
    if (t_a_ != t_b_) { t_failures++; fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", \
    __FILE__, __LINE__, #a, t_a_, #b, t_b_); } } while (0)
#define T_EQ_MEM(a, alen, b, blen) do { t_checks++; if ((size_t)(alen) != (size_t)(blen) || \
    memcmp((a), (b), (size_t)(alen)) != 0) { t_failures++; fprintf(stderr, \
    "%s:%d: %s (%zu octets) differs from %s (%zu octets)\n", __FILE__, __LINE__, #a, \
    (size_t)(alen), #b, (size_t)(blen)); } } while (0)

typedef struct { const char *name; void (*fn)(void); } t_case;

/* Reads golden/<name>.hex into a malloc'd buffer; *len = octets. Aborts the test
 * program if the file is missing (a missing vector is a failure, not a skip). */
static inline uint8_t *t_golden(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.hex", I61_GOLDEN_DIR, name);
    FILE *f = fopen(path, "r");
    if (!f) { fprintf(stderr, "missing golden vector %s\n", path); exit(2); }
    size_t cap = 1024, n = 0;
    uint8_t *out = malloc(cap);
    int hi = -1, ch;
    while (out && (ch = fgetc(f)) != EOF) {
        int v;
        if (ch >= '0' && ch <= '9') v = ch - '0';
        else if (ch >= 'a' && ch <= 'f') v = ch - 'a' + 10;
        else if (ch >= 'A' && ch <= 'F') v = ch - 'A' + 10;
        else continue;
        if (hi < 0) { hi = v; continue; }
        if (n == cap) { uint8_t *p = realloc(out, cap * 2); if (!p) { free(out); out = NULL; break; } out = p; cap *= 2; }
        out[n++] = (uint8_t)(hi << 4 | v);
        hi = -1;
    }
    fclose(f);
    if (!out) { fprintf(stderr, "out of memory\n"); exit(2); }
    *len = n;
    return out;
}

#define T_MAIN(...) int main(void) { t_case cases[] = { __VA_ARGS__ }; \
    int passed = 0, failed = 0; \
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) { int before = t_failures; \
        cases[i].fn(); if (t_failures == before) passed++; else { failed++; \
        fprintf(stderr, "FAILED: %s\n", cases[i].name); } } \
    printf("%d passed, %d failed\n", passed, failed); return failed ? 1 : 0; }
#define T_CASE(fn) { #fn, fn }

#endif
