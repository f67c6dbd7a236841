/* BER (X.690) TLV reader and writer. See ber.h for the contract.
 *
 * Reader: definite lengths only (short form, or long form with 1..4 length
 * octets), tag numbers up to 21 bits (at most 3 subsequent identifier octets).
 * Every access is checked against the reader's bound; nothing is allocated.
 *
 * Writer: a growable buffer that records allocation failure in `oom` and then
 * ignores further writes, so encoders need to check for failure only once. */
#include "ber.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ reader */

void i61_ber_reader_init(i61_ber_reader *r, const uint8_t *p, size_t len)
{
    r->p = p;
    r->len = p ? len : 0;
    r->pos = 0;
}

void i61_ber_reader_sub(i61_ber_reader *r, const i61_ber_tlv *t)
{
    i61_ber_reader_init(r, t->val, t->len);
}

int i61_ber_parse(const uint8_t *p, size_t len, i61_ber_tlv *t, size_t *used)
{
    size_t i = 0;
    if (!p || len < 2)
        return I61_BER_ERR;

    /* identifier octets */
    uint8_t first = p[i++];
    uint32_t id = first;
    uint32_t tag = first & 0x1fu;
    if (tag == 0x1f) {
        tag = 0;
        int n = 0;
        for (;;) {
            if (i >= len)
                return I61_BER_ERR;
            uint8_t o = p[i++];
            if (n == 0 && o == 0x80)
                return I61_BER_ERR;          /* X.690 8.1.2.4.2 c: no leading zero group */
            if (++n > 3)
                return I61_BER_ERR;          /* tag number above 2^21 */
            id = (id << 8) | o;
            tag = (tag << 7) | (o & 0x7fu);
            if (!(o & 0x80))
                break;
        }
    }

    /* length octets */
    if (i >= len)
        return I61_BER_ERR;
    uint8_t l0 = p[i++];
    size_t clen;
    if (l0 < 0x80) {
        clen = l0;
    } else {
        unsigned n = l0 & 0x7fu;
        if (n == 0 || n > 4)                 /* 0x80 indefinite, 0xff reserved, > 4 octets */
            return I61_BER_ERR;
        if (len - i < n)
            return I61_BER_ERR;
        uint32_t v = 0;
        for (unsigned k = 0; k < n; k++)
            v = (v << 8) | p[i++];
        clen = v;
    }
    if (clen > len - i)
        return I61_BER_ERR;

    t->id = id;
    t->cls = (uint8_t)(first >> 6);
    t->constructed = (first & 0x20) != 0;
    t->tag = tag;
    t->val = p + i;
    t->len = clen;
    t->hdr_len = i;
    if (used)
        *used = i + clen;
    return I61_BER_OK;
}

int i61_ber_next(i61_ber_reader *r, i61_ber_tlv *t)
{
    if (r->pos >= r->len)
        return I61_BER_END;
    size_t used = 0;
    int rc = i61_ber_parse(r->p + r->pos, r->len - r->pos, t, &used);
    if (rc != I61_BER_OK) {
        r->pos = r->len;                     /* a broken reader stays broken: no retry loops */
        return I61_BER_ERR;
    }
    r->pos += used;
    return I61_BER_OK;
}

int i61_ber_get_bool(const i61_ber_tlv *t, bool *out)
{
    if (t->len != 1)
        return I61_BER_ERR;
    *out = t->val[0] != 0;
    return 0;
}

int i61_ber_get_int64(const i61_ber_tlv *t, int64_t *out)
{
    if (t->len < 1 || t->len > 8)
        return I61_BER_ERR;
    uint64_t v = (t->val[0] & 0x80) ? UINT64_MAX : 0;   /* sign extension */
    for (size_t k = 0; k < t->len; k++)
        v = (v << 8) | t->val[k];
    /* two's complement reinterpretation without implementation-defined casts */
    if (v > (uint64_t)INT64_MAX)
        *out = -(int64_t)(UINT64_MAX - v) - 1;
    else
        *out = (int64_t)v;
    return 0;
}

int i61_ber_get_uint64(const i61_ber_tlv *t, uint64_t *out)
{
    if (t->len < 1 || t->len > 9)
        return I61_BER_ERR;
    const uint8_t *c = t->val;
    size_t n = t->len;
    if (c[0] & 0x80)
        return I61_BER_ERR;                  /* negative */
    if (n == 9) {
        if (c[0] != 0)
            return I61_BER_ERR;              /* > 2^64 - 1 */
        c++;
        n--;
    }
    uint64_t v = 0;
    for (size_t k = 0; k < n; k++)
        v = (v << 8) | c[k];
    *out = v;
    return 0;
}

int i61_ber_get_uint32(const i61_ber_tlv *t, uint32_t *out)
{
    uint64_t v;
    if (i61_ber_get_uint64(t, &v) != 0 || v > UINT32_MAX)
        return I61_BER_ERR;
    *out = (uint32_t)v;
    return 0;
}

int i61_ber_get_int32(const i61_ber_tlv *t, int32_t *out)
{
    int64_t v;
    if (i61_ber_get_int64(t, &v) != 0 || v < INT32_MIN || v > INT32_MAX)
        return I61_BER_ERR;
    *out = (int32_t)v;
    return 0;
}

int i61_ber_get_str(const i61_ber_tlv *t, char *out, size_t cap)
{
    if (!out || cap == 0 || t->len > cap - 1)
        return I61_BER_ERR;
    if (t->len)
        memcpy(out, t->val, t->len);
    out[t->len] = '\0';
    return 0;
}

/* ------------------------------------------------------------------ writer */

void i61_buf_init(i61_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->oom = 0;
}

void i61_buf_free(i61_buf *b)
{
    free(b->data);
    i61_buf_init(b);
}

void i61_buf_reset(i61_buf *b)
{
    b->len = 0;
    b->oom = 0;
}

int i61_buf_reserve(i61_buf *b, size_t extra)
{
    if (b->oom)
        return -1;
    if (extra <= b->cap - b->len)
        return 0;
    if (extra > SIZE_MAX / 2 - b->len) {
        b->oom = 1;
        return -1;
    }
    size_t need = b->len + extra;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < need)
        ncap *= 2;
    uint8_t *p = realloc(b->data, ncap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->data = p;
    b->cap = ncap;
    return 0;
}

void i61_buf_put(i61_buf *b, const void *p, size_t n)
{
    if (n == 0 || i61_buf_reserve(b, n) != 0)
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void i61_buf_put_u8(i61_buf *b, uint8_t v)
{
    if (i61_buf_reserve(b, 1) != 0)
        return;
    b->data[b->len++] = v;
}

void i61_ber_put_id(i61_buf *b, i61_ber_id id)
{
    uint8_t o[4];
    int n = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
        uint8_t v = (uint8_t)(id >> shift);
        if (n == 0 && v == 0 && shift != 0)
            continue;
        o[n++] = v;
    }
    i61_buf_put(b, o, (size_t)n);
}

/* Length octets of len into o (at most 5 octets); returns the count, 0 if len > 2^32 - 1. */
static int i61_ber_len_octets(size_t len, uint8_t o[5])
{
    if (len < 0x80) {
        o[0] = (uint8_t)len;
        return 1;
    }
    int n = 0;
    for (size_t v = len; v; v >>= 8)
        n++;
    if (n > 4)
        return 0;                            /* above 2^32 - 1: not representable here */
    o[0] = (uint8_t)(0x80 | n);
    for (int k = 0; k < n; k++)
        o[1 + k] = (uint8_t)(len >> (8 * (n - 1 - k)));
    return n + 1;
}

void i61_ber_put_len(i61_buf *b, size_t len)
{
    uint8_t o[5];
    int n = i61_ber_len_octets(len, o);
    if (n == 0) {
        b->oom = 1;                          /* an element this large is a failed encoding */
        return;
    }
    i61_buf_put(b, o, (size_t)n);
}

void i61_ber_put_tlv(i61_buf *b, i61_ber_id id, const void *val, size_t len)
{
    i61_ber_put_id(b, id);
    i61_ber_put_len(b, len);
    if (len)
        i61_buf_put(b, val, len);
}

void i61_ber_put_bool(i61_buf *b, i61_ber_id id, bool v)
{
    uint8_t o = v ? 0x01 : 0x00;             /* what the peers send (033, 027); any non-zero is TRUE */
    i61_ber_put_tlv(b, id, &o, 1);
}

void i61_ber_put_null(i61_buf *b, i61_ber_id id)
{
    i61_ber_put_tlv(b, id, NULL, 0);
}

void i61_ber_put_int64(i61_buf *b, i61_ber_id id, int64_t v)
{
    uint8_t o[8];
    uint64_t u = (uint64_t)v;
    for (int k = 0; k < 8; k++)
        o[k] = (uint8_t)(u >> (56 - 8 * k));
    /* drop leading octets that only repeat the sign of the next one */
    int s = 0;
    while (s < 7 && ((o[s] == 0x00 && !(o[s + 1] & 0x80)) || (o[s] == 0xff && (o[s + 1] & 0x80))))
        s++;
    i61_ber_put_tlv(b, id, o + s, (size_t)(8 - s));
}

void i61_ber_put_uint64(i61_buf *b, i61_ber_id id, uint64_t v)
{
    uint8_t o[9];
    o[0] = 0;
    for (int k = 0; k < 8; k++)
        o[1 + k] = (uint8_t)(v >> (56 - 8 * k));
    int s = 0;
    while (s < 8 && o[s] == 0x00 && !(o[s + 1] & 0x80))
        s++;
    i61_ber_put_tlv(b, id, o + s, (size_t)(9 - s));
}

void i61_ber_put_str(i61_buf *b, i61_ber_id id, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    i61_ber_put_tlv(b, id, s, n);
}

size_t i61_ber_open(i61_buf *b, i61_ber_id id)
{
    i61_ber_put_id(b, id);
    size_t mark = b->len;                    /* position of the length octet */
    i61_buf_put_u8(b, 0);
    return mark;
}

void i61_ber_close(i61_buf *b, size_t mark)
{
    if (b->oom || mark >= b->len)
        return;
    size_t clen = b->len - mark - 1;
    uint8_t o[5];
    int n = i61_ber_len_octets(clen, o);
    if (n == 0) {
        b->oom = 1;
        return;
    }
    if (n > 1) {
        if (i61_buf_reserve(b, (size_t)(n - 1)) != 0)
            return;
        memmove(b->data + mark + n, b->data + mark + 1, clen);
        b->len += (size_t)(n - 1);
    }
    memcpy(b->data + mark, o, (size_t)n);
}
