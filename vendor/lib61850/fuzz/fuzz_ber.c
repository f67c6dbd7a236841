/* libFuzzer target: the BER reader and writer.
 * Walks every TLV of the input (depth-bounded), runs every content decoder on
 * each primitive, rebuilds the input with the writer (open/close for
 * constructed TLVs) and checks that the rebuild parses to the same tree and
 * that rebuilding the rebuild is byte-identical (the writer is canonical for
 * lengths). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ber/ber.h"

static void i61_fz_primitive(const i61_ber_tlv *t)
{
    bool b;
    int64_t i64;
    uint64_t u64;
    uint32_t u32;
    int32_t i32;
    char s[32];
    (void)i61_ber_get_bool(t, &b);
    (void)i61_ber_get_int64(t, &i64);
    (void)i61_ber_get_uint64(t, &u64);
    (void)i61_ber_get_uint32(t, &u32);
    (void)i61_ber_get_int32(t, &i32);
    (void)i61_ber_get_str(t, s, sizeof s);
    if (i61_ber_get_int64(t, &i64) == 0) {
        /* a decoded INTEGER re-encodes minimally and decodes to the same value */
        i61_buf b2;
        i61_buf_init(&b2);
        i61_ber_put_int64(&b2, 0x02, i64);
        i61_ber_tlv r;
        size_t used;
        int64_t back;
        if (b2.oom || i61_ber_parse(b2.data, b2.len, &r, &used) != 0 ||
            i61_ber_get_int64(&r, &back) != 0 || back != i64 || r.len > t->len)
            abort();
        i61_buf_free(&b2);
    }
    if (i61_ber_get_uint64(t, &u64) == 0) {
        i61_buf b2;
        i61_buf_init(&b2);
        i61_ber_put_uint64(&b2, 0x86, u64);
        i61_ber_tlv r;
        size_t used;
        uint64_t back;
        if (b2.oom || i61_ber_parse(b2.data, b2.len, &r, &used) != 0 ||
            i61_ber_get_uint64(&r, &back) != 0 || back != u64)
            abort();
        i61_buf_free(&b2);
    }
}

/* Walks p[0..len) and writes its rebuild to out; returns the TLV count or -1. */
static long i61_fz_walk(const uint8_t *p, size_t len, int depth, i61_buf *out)
{
    i61_ber_reader r;
    i61_ber_tlv t;
    long n = 0;
    int rc;
    i61_ber_reader_init(&r, p, len);
    while ((rc = i61_ber_next(&r, &t)) == I61_BER_OK) {
        if (t.val < p || t.val + t.len > p + len)
            abort();                          /* content outside the bound */
        n++;
        if (t.constructed && depth < I61_BER_MAX_DEPTH) {
            size_t m = i61_ber_open(out, t.id);
            long k = i61_fz_walk(t.val, t.len, depth + 1, out);
            if (k < 0)
                return -1;
            i61_ber_close(out, m);
            n += k;
        } else {
            if (!t.constructed)
                i61_fz_primitive(&t);
            i61_ber_put_tlv(out, t.id, t.val, t.len);
        }
    }
    return rc == I61_BER_END ? n : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    i61_buf a, b;
    i61_buf_init(&a);
    i61_buf_init(&b);
    long n = i61_fz_walk(data, size, 0, &a);
    if (n >= 0 && !a.oom) {
        long n2 = i61_fz_walk(a.data, a.len, 0, &b);
        if (n2 != n || b.oom || a.len > size || b.len != a.len ||
            (a.len && memcmp(a.data, b.data, a.len) != 0))
            abort();
    }
    i61_buf_free(&a);
    i61_buf_free(&b);
    return 0;
}
