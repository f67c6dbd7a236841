/* BER (X.690) TLV reader and writer: bounds-checked, no allocation while reading. */
#ifndef I61_BER_H
#define I61_BER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Identifier octets packed big-endian into an integer, e.g. 0x02 INTEGER,
 * 0xa0 [0] constructed, 0x9f49 [73] primitive, 0xbf4d [77] constructed.
 * Tag numbers up to 2^21 fit (class/constructed octet + 3 subsequent octets). */
typedef uint32_t i61_ber_id;

#define I61_BER_MAX_DEPTH 32

typedef struct i61_ber_tlv {
    i61_ber_id id;          /* identifier octets as above */
    uint8_t cls;            /* 0 universal, 1 application, 2 context, 3 private */
    bool constructed;
    uint32_t tag;           /* tag number */
    const uint8_t *val;     /* content octets (inside the reader's buffer) */
    size_t len;             /* content length */
    size_t hdr_len;         /* identifier + length octets */
} i61_ber_tlv;

typedef struct i61_ber_reader {
    const uint8_t *p;
    size_t len;
    size_t pos;
} i61_ber_reader;

/* Results of the reader. */
#define I61_BER_OK 0
#define I61_BER_END 1      /* no more TLVs in this reader */
#define I61_BER_ERR (-1)   /* malformed: truncated, bad length, indefinite form, tag too large */

void i61_ber_reader_init(i61_ber_reader *r, const uint8_t *p, size_t len);
/* Reader over the content of a TLV. */
void i61_ber_reader_sub(i61_ber_reader *r, const i61_ber_tlv *t);
/* Next TLV at this level; never reads past the reader's bound. */
int i61_ber_next(i61_ber_reader *r, i61_ber_tlv *t);
/* Parse exactly one TLV at p; *used = octets consumed. */
int i61_ber_parse(const uint8_t *p, size_t len, i61_ber_tlv *t, size_t *used);

/* Content decoders; return 0 or I61_BER_ERR (bad length / out of range). */
int i61_ber_get_bool(const i61_ber_tlv *t, bool *out);                 /* any non-zero = true */
int i61_ber_get_int64(const i61_ber_tlv *t, int64_t *out);             /* 1..8 octets */
int i61_ber_get_uint64(const i61_ber_tlv *t, uint64_t *out);           /* INTEGER-encoded unsigned, 1..9 octets */
int i61_ber_get_uint32(const i61_ber_tlv *t, uint32_t *out);
int i61_ber_get_int32(const i61_ber_tlv *t, int32_t *out);
/* Copies content into a NUL-terminated buffer of cap octets (fails if it does not fit). */
int i61_ber_get_str(const i61_ber_tlv *t, char *out, size_t cap);

/* ---- writer ---- */

/* Growable output buffer. On allocation failure (or a length above 2^32 - 1)
 * `oom` is set and further writes are ignored; check it once at the end.
 * i61_buf_reset clears it. */
typedef struct i61_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    int oom;
} i61_buf;

void i61_buf_init(i61_buf *b);
void i61_buf_free(i61_buf *b);
void i61_buf_reset(i61_buf *b);                 /* len = 0, keeps memory */
int i61_buf_reserve(i61_buf *b, size_t extra);   /* 0 or -1 */
void i61_buf_put(i61_buf *b, const void *p, size_t n);
void i61_buf_put_u8(i61_buf *b, uint8_t v);

/* Identifier octets of `id` (1 to 4 octets, leading zero octets dropped). */
void i61_ber_put_id(i61_buf *b, i61_ber_id id);
void i61_ber_put_len(i61_buf *b, size_t len);
void i61_ber_put_tlv(i61_buf *b, i61_ber_id id, const void *val, size_t len);
void i61_ber_put_bool(i61_buf *b, i61_ber_id id, bool v);         /* TRUE = 01, as the peers send */
void i61_ber_put_null(i61_buf *b, i61_ber_id id);
void i61_ber_put_int64(i61_buf *b, i61_ber_id id, int64_t v);     /* minimal two's complement */
void i61_ber_put_uint64(i61_buf *b, i61_ber_id id, uint64_t v);   /* INTEGER encoding (leading 00 if top bit set) */
void i61_ber_put_str(i61_buf *b, i61_ber_id id, const char *s);   /* content = strlen(s) octets */

/* Constructed TLV whose length is not known in advance:
 *   size_t m = i61_ber_open(b, 0xa0); ...children...; i61_ber_close(b, m);
 * close writes the definite length (short or long form, moving the content). */
size_t i61_ber_open(i61_buf *b, i61_ber_id id);
void i61_ber_close(i61_buf *b, size_t mark);

#endif
