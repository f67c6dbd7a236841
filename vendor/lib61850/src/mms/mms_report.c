/* InformationReport "RPT" codec (see mms_report.h, PROTOCOL.md section 11).
 *
 * Layout of the unconfirmed PDU:
 *   a3 L                                   unconfirmed-PDU
 *     a0 L                                 informationReport
 *       a1 05 80 03 "RPT"                  variableListName, vmd-specific
 *       a0 L                               listOfAccessResult
 *         RptID OptFlds [SeqNum] [TimeOfEntry] [DatSet] [BufOvfl] [EntryID]
 *         [ConfRev] [SubSeqNum MoreSegmentsFollow] Inclusion
 *         [ref...] value... [reason...]
 *
 * The encoder computes every length first (no memmove of finished content)
 * and shares its size arithmetic with i61_mms_report_size, so the two cannot
 * disagree. The decoder walks the list once, never recurses itself (Data
 * decoding is depth-limited by mms_data.c) and frees what it built on error.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "mms_report.h"
#include "mms_data.h"

#define MALFORMED I61_ERR_MALFORMED_MESSAGE

/* OptFlds is sent as 10 bits (bit 0 reserved, 1..9 the options). */
#define I61_RPT_OPT_BITS 10
/* ReasonCode: 6 bits (bit 0 reserved, 1..5), 7 with application-trigger. */
#define I61_RPT_REASON_BITS 6
#define I61_RPT_REASON_BITS_APP 7

/* Days from 1970-01-01 to 1984-01-01 (14 years, 3 of them leap years). */
#define I61_DAYS_1970_TO_1984 5113
#define I61_MS_PER_DAY 86400000LL

static const uint8_t i61_rpt_name[] = {0xa1, 0x05, 0x80, 0x03, 'R', 'P', 'T'};

/* ------------------------------------------------------------ size helpers */

/* Octets of the BER length field for a content of len octets (0 when too long). */
static size_t i61_len_size(size_t len)
{
    if (len < 0x80)
        return 1;
    size_t n = 0;
    for (size_t v = len; v; v >>= 8)
        n++;
    return n > 4 ? 0 : n + 1;
}

/* Whole TLV with a one-octet identifier. */
static size_t i61_tlv_size(size_t content)
{
    return 1 + i61_len_size(content) + content;
}

/* Content octets of an unsigned in INTEGER encoding (as i61_ber_put_uint64). */
static size_t i61_uint_octets(uint64_t v)
{
    size_t n = 1;
    while (n < 8 && (v >> (8 * n)) != 0)
        n++;
    if ((v >> (8 * n - 1)) & 1)
        n++;                                 /* leading 00: the top bit would read as a sign */
    return n;
}

/* Content octets of a bit string of nbits bits (unused-bits octet included). */
static size_t i61_bits_octets(uint32_t nbits)
{
    return 1 + ((size_t)nbits + 7) / 8;
}

static uint32_t i61_reason_bits(int reason)
{
    return (reason & I61_REASON_APP_TRIGGER) ? I61_RPT_REASON_BITS_APP : I61_RPT_REASON_BITS;
}

/* Validates the encoder input; 0 or I61_ERR_INVALID_ARGUMENT. */
static int i61_rpt_check(const i61_rpt_hdr *h, const i61_rpt_enc_member *m, size_t n)
{
    if (!h || !h->rpt_id || (n && !m))
        return I61_ERR_INVALID_ARGUMENT;
    if ((h->opt_flds & I61_OPT_DATA_SET) && !h->dataset)
        return I61_ERR_INVALID_ARGUMENT;
    if (n > h->dataset_size)
        return I61_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < n; i++) {
        if (m[i].index >= h->dataset_size || (i && m[i].index <= m[i - 1].index))
            return I61_ERR_INVALID_ARGUMENT;
        if (!m[i].data || m[i].data_len == 0)
            return I61_ERR_INVALID_ARGUMENT;
        if ((h->opt_flds & I61_OPT_DATA_REF) && !m[i].ref)
            return I61_ERR_INVALID_ARGUMENT;
    }
    return 0;
}

/* Content size of the listOfAccessResult [0]; 0 when something is too large. */
static size_t i61_rpt_list_size(const i61_rpt_hdr *h, const i61_rpt_enc_member *m, size_t n)
{
    uint32_t o = h->opt_flds;
    size_t s = 0;
    s += i61_tlv_size(strlen(h->rpt_id));
    s += i61_tlv_size(i61_bits_octets(I61_RPT_OPT_BITS));
    if (o & I61_OPT_SEQ_NUM)
        s += i61_tlv_size(i61_uint_octets(h->seq_num));
    if (o & I61_OPT_TIME_STAMP)
        s += i61_tlv_size(6);
    if (o & I61_OPT_DATA_SET)
        s += i61_tlv_size(strlen(h->dataset));
    if (o & I61_OPT_BUF_OVFL)
        s += i61_tlv_size(1);
    if (o & I61_OPT_ENTRY_ID)
        s += i61_tlv_size(8);
    if (o & I61_OPT_CONF_REV)
        s += i61_tlv_size(i61_uint_octets(h->conf_rev));
    if (o & I61_OPT_SEGMENTATION) {
        s += i61_tlv_size(i61_uint_octets(h->sub_seq_num));
        s += i61_tlv_size(1);
    }
    s += i61_tlv_size(i61_bits_octets(h->dataset_size));
    for (size_t i = 0; i < n; i++) {
        if (o & I61_OPT_DATA_REF)
            s += i61_tlv_size(strlen(m[i].ref));
        s += m[i].data_len;
        if (o & I61_OPT_REASON)
            s += i61_tlv_size(i61_bits_octets(i61_reason_bits(m[i].reason)));
    }
    return s;
}

/* Sizes of the three nested envelopes around the list; 0 on overflow. */
static size_t i61_rpt_total(size_t list, size_t *report_content, size_t *pdu_content)
{
    if (!i61_len_size(list))
        return 0;
    size_t rc = sizeof i61_rpt_name + i61_tlv_size(list);
    if (!i61_len_size(rc))
        return 0;
    size_t pc = i61_tlv_size(rc);
    if (!i61_len_size(pc))
        return 0;
    if (report_content)
        *report_content = rc;
    if (pdu_content)
        *pdu_content = pc;
    return i61_tlv_size(pc);
}

size_t i61_mms_report_size(const i61_rpt_hdr *h, const i61_rpt_enc_member *m, size_t n)
{
    if (i61_rpt_check(h, m, n) != 0)
        return 0;
    return i61_rpt_total(i61_rpt_list_size(h, m, n), NULL, NULL);
}

/* ------------------------------------------------------------------ encode */

/* Bit string TLV of nbits bits from (nbits + 7) / 8 content octets. */
static void i61_put_bits(i61_buf *b, uint32_t nbits, const uint8_t *octets)
{
    size_t no = ((size_t)nbits + 7) / 8;
    i61_ber_put_id(b, 0x84);
    i61_ber_put_len(b, 1 + no);
    i61_buf_put_u8(b, (uint8_t)(no * 8 - nbits));
    if (no)
        i61_buf_put(b, octets, no);
}

/* A mask whose bit (k - 1) stands for IEC bit k, as an nbits bit string. */
static void i61_put_mask_bits(i61_buf *b, uint32_t mask, uint32_t nbits)
{
    uint8_t o[2] = {0, 0};
    for (uint32_t k = 1; k < nbits && k < 16; k++)
        if (mask & (1u << (k - 1)))
            o[k / 8] |= (uint8_t)(0x80 >> (k % 8));
    i61_put_bits(b, nbits, o);
}

static void i61_put_reason(i61_buf *b, int reason)
{
    uint32_t r = (uint32_t)reason & 0x1f;    /* IEC bits 1..5 */
    if (reason & I61_REASON_APP_TRIGGER)
        r |= 1u << 5;                        /* IEC bit 6 */
    i61_put_mask_bits(b, r, i61_reason_bits(reason));
}

int i61_mms_encode_report(i61_buf *b, const i61_rpt_hdr *h, const i61_rpt_enc_member *m,
                          size_t n)
{
    if (!b)
        return I61_ERR_INVALID_ARGUMENT;
    int rc = i61_rpt_check(h, m, n);
    if (rc != 0)
        return rc;
    size_t list = i61_rpt_list_size(h, m, n), report_content, pdu_content;
    size_t total = i61_rpt_total(list, &report_content, &pdu_content);
    if (total == 0)
        return I61_ERR_INVALID_ARGUMENT;
    size_t start = b->len;
    if (i61_buf_reserve(b, total) != 0)
        return I61_ERR_UNKNOWN;

    uint32_t o = h->opt_flds;
    i61_ber_put_id(b, 0xa3);
    i61_ber_put_len(b, pdu_content);
    i61_ber_put_id(b, 0xa0);
    i61_ber_put_len(b, report_content);
    i61_buf_put(b, i61_rpt_name, sizeof i61_rpt_name);
    i61_ber_put_id(b, 0xa0);
    i61_ber_put_len(b, list);

    i61_ber_put_str(b, 0x8a, h->rpt_id);
    i61_put_mask_bits(b, o & 0x1ff, I61_RPT_OPT_BITS);
    if (o & I61_OPT_SEQ_NUM)
        i61_ber_put_uint64(b, 0x86, h->seq_num);
    if (o & I61_OPT_TIME_STAMP)
        i61_ber_put_tlv(b, 0x8c, h->time, 6);
    if (o & I61_OPT_DATA_SET)
        i61_ber_put_str(b, 0x8a, h->dataset);
    if (o & I61_OPT_BUF_OVFL)
        i61_ber_put_bool(b, 0x83, h->buf_ovfl);
    if (o & I61_OPT_ENTRY_ID)
        i61_ber_put_tlv(b, 0x89, h->entry_id, 8);
    if (o & I61_OPT_CONF_REV)
        i61_ber_put_uint64(b, 0x86, h->conf_rev);
    if (o & I61_OPT_SEGMENTATION) {
        i61_ber_put_uint64(b, 0x86, h->sub_seq_num);
        i61_ber_put_bool(b, 0x83, h->more_segments);
    }

    /* inclusion bit string: written octet by octet, members are ascending */
    size_t no = ((size_t)h->dataset_size + 7) / 8;
    i61_ber_put_id(b, 0x84);
    i61_ber_put_len(b, 1 + no);
    i61_buf_put_u8(b, (uint8_t)(no * 8 - h->dataset_size));
    size_t next = 0;
    for (size_t k = 0; k < no; k++) {
        uint8_t oct = 0;
        while (next < n && m[next].index / 8 == k) {
            oct |= (uint8_t)(0x80 >> (m[next].index % 8));
            next++;
        }
        i61_buf_put_u8(b, oct);
    }

    if (o & I61_OPT_DATA_REF)
        for (size_t i = 0; i < n; i++)
            i61_ber_put_str(b, 0x8a, m[i].ref);
    for (size_t i = 0; i < n; i++)
        i61_buf_put(b, m[i].data, m[i].data_len);
    if (o & I61_OPT_REASON)
        for (size_t i = 0; i < n; i++)
            i61_put_reason(b, m[i].reason);

    if (b->oom) {
        b->len = start;
        return I61_ERR_UNKNOWN;
    }
    return 0;
}

/* ------------------------------------------------------------------ decode */

bool i61_mms_is_report(const uint8_t *pdu, size_t len)
{
    i61_ber_tlv t;
    i61_ber_reader r;
    if (!pdu || i61_ber_parse(pdu, len, &t, NULL) != I61_BER_OK || t.id != 0xa3)
        return false;
    i61_ber_reader_sub(&r, &t);
    if (i61_ber_next(&r, &t) != I61_BER_OK || t.id != 0xa0)
        return false;
    i61_ber_reader_sub(&r, &t);
    if (i61_ber_next(&r, &t) != I61_BER_OK || t.id != 0xa1)
        return false;
    return t.hdr_len + t.len == sizeof i61_rpt_name &&
           memcmp(t.val - t.hdr_len, i61_rpt_name, sizeof i61_rpt_name) == 0;
}

/* Number of bits of a bit-string TLV (0x84), or -1 if it is not one. */
static long i61_bits_count(const i61_ber_tlv *t)
{
    if (t->id != 0x84 || t->len < 1 || t->val[0] > 7 || (t->len == 1 && t->val[0] != 0))
        return -1;
    return (long)((t->len - 1) * 8) - t->val[0];
}

static bool i61_bit_at(const i61_ber_tlv *t, size_t k)
{
    return (t->val[1 + k / 8] & (0x80 >> (k % 8))) != 0;
}

/* Mask (bit k-1 = IEC bit k) of IEC bits 1..maxbit of a bit string. */
static int i61_get_mask(const i61_ber_tlv *t, uint32_t maxbit, uint32_t *mask)
{
    long nbits = i61_bits_count(t);
    if (nbits < 0)
        return MALFORMED;
    uint32_t m = 0;
    for (uint32_t k = 1; k <= maxbit && (long)k < nbits; k++)
        if (i61_bit_at(t, k))
            m |= 1u << (k - 1);
    *mask = m;
    return 0;
}

static int i61_get_reason(const i61_ber_tlv *t, int *reason)
{
    uint32_t m;
    if (i61_get_mask(t, 6, &m) != 0)
        return MALFORMED;
    int r = (int)(m & 0x1f);
    if (m & (1u << 5))
        r |= I61_REASON_APP_TRIGGER;
    *reason = r;
    return 0;
}

static char *i61_dup_vstring(const i61_ber_tlv *t)
{
    if (t->id != 0x8a)
        return NULL;
    char *s = malloc(t->len + 1);
    if (!s)
        return NULL;
    if (t->len)
        memcpy(s, t->val, t->len);
    s[t->len] = '\0';
    return s;
}

/* Next element of the list with the expected identifier. */
static int i61_next_is(i61_ber_reader *r, i61_ber_tlv *t, i61_ber_id id)
{
    if (i61_ber_next(r, t) != I61_BER_OK || t->id != id)
        return MALFORMED;
    return 0;
}

static int i61_decode_list_body(i61_ber_reader *r, i61_rpt *out)
{
    i61_ber_tlv t;
    uint32_t o;
    bool b;

    if (i61_next_is(r, &t, 0x8a) != 0)
        return MALFORMED;
    if (!(out->rpt_id = i61_dup_vstring(&t)))
        return I61_ERR_UNKNOWN;
    if (i61_next_is(r, &t, 0x84) != 0 || i61_get_mask(&t, 9, &o) != 0)
        return MALFORMED;
    out->opt_flds = o;
    if (o & I61_OPT_SEQ_NUM) {
        if (i61_next_is(r, &t, 0x86) != 0 || i61_ber_get_uint32(&t, &out->seq_num) != 0)
            return MALFORMED;
    }
    if (o & I61_OPT_TIME_STAMP) {
        if (i61_next_is(r, &t, 0x8c) != 0 || t.len != 6)
            return MALFORMED;
        memcpy(out->time, t.val, 6);
        out->has_time = true;
    }
    if (o & I61_OPT_DATA_SET) {
        if (i61_next_is(r, &t, 0x8a) != 0)
            return MALFORMED;
        if (!(out->dataset = i61_dup_vstring(&t)))
            return I61_ERR_UNKNOWN;
    }
    if (o & I61_OPT_BUF_OVFL) {
        if (i61_next_is(r, &t, 0x83) != 0 || i61_ber_get_bool(&t, &b) != 0)
            return MALFORMED;
        out->buf_ovfl = b;
    }
    if (o & I61_OPT_ENTRY_ID) {
        if (i61_next_is(r, &t, 0x89) != 0 || t.len != 8)
            return MALFORMED;
        memcpy(out->entry_id, t.val, 8);
        out->has_entry_id = true;
    }
    if (o & I61_OPT_CONF_REV) {
        if (i61_next_is(r, &t, 0x86) != 0 || i61_ber_get_uint32(&t, &out->conf_rev) != 0)
            return MALFORMED;
    }
    if (o & I61_OPT_SEGMENTATION) {
        if (i61_next_is(r, &t, 0x86) != 0 || i61_ber_get_uint32(&t, &out->sub_seq_num) != 0)
            return MALFORMED;
        if (i61_next_is(r, &t, 0x83) != 0 || i61_ber_get_bool(&t, &b) != 0)
            return MALFORMED;
        out->more_segments = b;
    }

    /* inclusion */
    i61_ber_tlv inc;
    if (i61_next_is(r, &inc, 0x84) != 0)
        return MALFORMED;
    long nbits = i61_bits_count(&inc);
    if (nbits < 0 || nbits > (long)UINT32_MAX)
        return MALFORMED;
    out->dataset_size = (uint32_t)nbits;
    size_t n = 0;
    for (size_t k = 0; k < (size_t)nbits; k++)
        n += i61_bit_at(&inc, k);

    /* the rest of the list must hold exactly the per-member elements */
    size_t per = 1 + ((o & I61_OPT_DATA_REF) ? 1 : 0) + ((o & I61_OPT_REASON) ? 1 : 0);
    i61_ber_reader probe = *r;
    size_t rest = 0;
    int rc;
    while ((rc = i61_ber_next(&probe, &t)) == I61_BER_OK)
        rest++;
    if (rc != I61_BER_END || rest != n * per)
        return MALFORMED;
    if (n == 0)
        return 0;

    out->members = calloc(n, sizeof *out->members);
    if (!out->members)
        return I61_ERR_UNKNOWN;
    out->n = n;
    size_t j = 0;
    for (size_t k = 0; k < (size_t)nbits; k++)
        if (i61_bit_at(&inc, k)) {
            out->members[j].index = (uint32_t)k;
            out->members[j].reason = -1;
            j++;
        }

    if (o & I61_OPT_DATA_REF)
        for (size_t i = 0; i < n; i++) {
            if (i61_next_is(r, &t, 0x8a) != 0)
                return MALFORMED;
            if (!(out->members[i].ref = i61_dup_vstring(&t)))
                return I61_ERR_UNKNOWN;
        }
    for (size_t i = 0; i < n; i++) {
        if (i61_ber_next(r, &t) != I61_BER_OK)
            return MALFORMED;
        rc = i61_mms_data_decode(&t, 0, &out->members[i].value);
        if (rc != 0)
            return rc;
    }
    if (o & I61_OPT_REASON)
        for (size_t i = 0; i < n; i++) {
            if (i61_next_is(r, &t, 0x84) != 0 || i61_get_reason(&t, &out->members[i].reason) != 0)
                return MALFORMED;
        }
    return 0;
}

int i61_mms_decode_report(const uint8_t *pdu, size_t len, i61_rpt *out)
{
    if (!out)
        return I61_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (!pdu)
        return I61_ERR_INVALID_ARGUMENT;
    i61_ber_tlv t, rep, name, list;
    i61_ber_reader r;
    size_t used;
    /* a3 { a0 { a1 "RPT", a0 list } }, nothing after any of them */
    if (i61_ber_parse(pdu, len, &t, &used) != I61_BER_OK || used != len || t.id != 0xa3)
        return MALFORMED;
    i61_ber_reader_sub(&r, &t);
    if (i61_ber_next(&r, &rep) != I61_BER_OK || rep.id != 0xa0 || i61_ber_next(&r, &t) != I61_BER_END)
        return MALFORMED;
    i61_ber_reader_sub(&r, &rep);
    if (i61_ber_next(&r, &name) != I61_BER_OK || name.id != 0xa1 ||
        name.hdr_len + name.len != sizeof i61_rpt_name ||
        memcmp(name.val - name.hdr_len, i61_rpt_name, sizeof i61_rpt_name) != 0)
        return MALFORMED;
    if (i61_ber_next(&r, &list) != I61_BER_OK || list.id != 0xa0 || i61_ber_next(&r, &t) != I61_BER_END)
        return MALFORMED;
    i61_ber_reader_sub(&r, &list);
    int rc = i61_decode_list_body(&r, out);
    if (rc != 0) {
        i61_mms_report_clear(out);
        return rc == I61_ERR_UNKNOWN ? rc : MALFORMED;
    }
    return 0;
}

void i61_mms_report_clear(i61_rpt *r)
{
    if (!r)
        return;
    free(r->rpt_id);
    free(r->dataset);
    for (size_t i = 0; i < r->n; i++) {
        free(r->members[i].ref);
        i61_value_free(r->members[i].value);
    }
    free(r->members);
    memset(r, 0, sizeof *r);
}

/* -------------------------------------------------------------- binary time */

int64_t i61_binary_time_to_ms(const uint8_t t[6])
{
    uint32_t ms = (uint32_t)t[0] << 24 | (uint32_t)t[1] << 16 | (uint32_t)t[2] << 8 | t[3];
    uint32_t days = (uint32_t)t[4] << 8 | t[5];
    return ((int64_t)days + I61_DAYS_1970_TO_1984) * I61_MS_PER_DAY + ms;
}

void i61_binary_time_from_ms(int64_t ms, uint8_t t[6])
{
    int64_t since = ms - (int64_t)I61_DAYS_1970_TO_1984 * I61_MS_PER_DAY;
    if (since < 0)
        since = 0;                           /* before 1984: not representable */
    int64_t days = since / I61_MS_PER_DAY;
    int64_t msday = since % I61_MS_PER_DAY;
    if (days > 0xffff) {                     /* after 2163: clamp to the last instant */
        days = 0xffff;
        msday = I61_MS_PER_DAY - 1;
    }
    uint32_t m = (uint32_t)msday;
    t[0] = (uint8_t)(m >> 24);
    t[1] = (uint8_t)(m >> 16);
    t[2] = (uint8_t)(m >> 8);
    t[3] = (uint8_t)m;
    t[4] = (uint8_t)(days >> 8);
    t[5] = (uint8_t)days;
}
