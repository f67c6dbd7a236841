/* libFuzzer target: the InformationReport "RPT" decoder (mms/mms_report.h)
 * and the client's report reception (segment joining, the queue).
 *
 * Input: one MMS PDU, or a whole golden TPKT frame (03 00 ...), in which case
 * the MMS PDU inside the presentation PDV is used, so the golden frames seed
 * this target directly. A report that decodes is encoded again from its
 * decoded content; that encoding must have the size i61_mms_report_size
 * announces, decode to the same content and encode to the same octets.
 *
 * The input is also read as a sequence of BER elements (several unconfirmed
 * PDUs back to back, e.g. the two segments of golden 149/150) and fed to the
 * client's unconfirmed handler as the I/O thread would; the reports that come
 * out of the queue must be consistent. Everything is freed (leaks are
 * reported by the sanitizer). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_internal.h"
#include "mms/mms_data.h"
#include "mms/mms_report.h"

/* MMS PDU inside TPKT / COTP DT / session GT+DT / presentation user data. */
static int i61_fz_unwrap(const uint8_t **p, size_t *len)
{
    const uint8_t *d = *p;
    size_t n = *len;
    if (n < 8 || d[0] != 0x03 || d[1] != 0x00)
        return 0;
    size_t pos = 4 + 1 + (size_t)d[4] + 4;     /* TPKT, COTP (LI + header), 2 session SPDUs */
    if (pos >= n)
        return -1;
    i61_ber_tlv t, c;
    i61_ber_reader r;
    if (i61_ber_parse(d + pos, n - pos, &t, NULL) != I61_BER_OK || t.id != 0x61)
        return -1;
    i61_ber_reader_sub(&r, &t);
    if (i61_ber_next(&r, &t) != I61_BER_OK || t.id != 0x30)
        return -1;
    i61_ber_reader_sub(&r, &t);
    if (i61_ber_next(&r, &c) != I61_BER_OK || c.id != 0x02)
        return -1;
    if (i61_ber_next(&r, &c) != I61_BER_OK || c.id != 0xa0)
        return -1;
    *p = c.val;
    *len = c.len;
    return 0;
}

/* Encodes r (values through i61_mms_data_encode) and checks the announced size. */
static int i61_fz_encode(const i61_rpt *r, i61_buf *out)
{
    i61_rpt_hdr h;
    memset(&h, 0, sizeof h);
    h.rpt_id = r->rpt_id;
    h.opt_flds = r->opt_flds;
    h.seq_num = r->seq_num;
    memcpy(h.time, r->time, 6);
    h.dataset = r->dataset;
    h.buf_ovfl = r->buf_ovfl;
    memcpy(h.entry_id, r->entry_id, 8);
    h.conf_rev = r->conf_rev;
    h.sub_seq_num = r->sub_seq_num;
    h.more_segments = r->more_segments;
    h.dataset_size = r->dataset_size;
    size_t n = r->n;
    i61_rpt_enc_member *m = calloc(n ? n : 1, sizeof *m);
    i61_buf *vals = calloc(n ? n : 1, sizeof *vals);
    if (!m || !vals)
        abort();
    for (size_t i = 0; i < n; i++) {
        i61_buf_init(&vals[i]);
        if (i61_mms_data_encode(&vals[i], r->members[i].value) != 0)
            abort();                          /* decoded Data always encodes */
        m[i].index = r->members[i].index;
        m[i].ref = r->members[i].ref;
        m[i].data = vals[i].data;
        m[i].data_len = vals[i].len;
        m[i].reason = r->members[i].reason < 0 ? 0 : r->members[i].reason;
    }
    size_t expect = i61_mms_report_size(&h, m, n);
    int rc = i61_mms_encode_report(out, &h, m, n);
    if (rc == 0 && out->len != expect)
        abort();
    for (size_t i = 0; i < n; i++)
        i61_buf_free(&vals[i]);
    free(vals);
    free(m);
    return rc;
}

static int i61_fz_str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static void i61_fz_same(const i61_rpt *a, const i61_rpt *b)
{
    if (!i61_fz_str_eq(a->rpt_id, b->rpt_id) || a->opt_flds != b->opt_flds ||
        a->seq_num != b->seq_num || a->has_time != b->has_time ||
        memcmp(a->time, b->time, 6) != 0 || !i61_fz_str_eq(a->dataset, b->dataset) ||
        a->buf_ovfl != b->buf_ovfl || a->has_entry_id != b->has_entry_id ||
        memcmp(a->entry_id, b->entry_id, 8) != 0 || a->conf_rev != b->conf_rev ||
        a->sub_seq_num != b->sub_seq_num || a->more_segments != b->more_segments ||
        a->dataset_size != b->dataset_size || a->n != b->n)
        abort();
    for (size_t i = 0; i < a->n; i++)
        if (a->members[i].index != b->members[i].index ||
            !i61_fz_str_eq(a->members[i].ref, b->members[i].ref) ||
            a->members[i].reason != b->members[i].reason)
            abort();
}

/* Feeds every BER element of the input to a client's report reception, then
 * drains its queue. One client for the whole run (never connected: the
 * handler is called directly, as the I/O thread does). */
static void i61_fz_reception(const uint8_t *p, size_t len)
{
    static i61_client *c;
    if (!c && !(c = i61_client_new()))
        abort();
    size_t pos = 0;
    for (int k = 0; k < 64 && pos < len; k++) {
        i61_ber_tlv t;
        size_t used;
        if (i61_ber_parse(p + pos, len - pos, &t, &used) != I61_BER_OK)
            break;
        i61_client_on_unconfirmed(c, p + pos, used);
        pos += used;
    }
    i61_report *out[16];
    size_t n;
    while (i61_client_next_reports(c, 0, out, 16, &n) == I61_OK) {
        for (size_t i = 0; i < n; i++) {
            i61_report *r = out[i];
            size_t cnt = i61_report_count(r);
            if (cnt > i61_report_dataset_size(r) || i61_report_segments(r) < 1 ||
                i61_report_more_segments_follow(r) || !i61_report_rpt_id(r))
                abort();
            for (size_t j = 0; j < cnt; j++)
                if (!i61_report_member_value(r, j) ||
                    (j && i61_report_member_index(r, j) <= i61_report_member_index(r, j - 1)))
                    abort();
            i61_report_free(r);
        }
    }
    /* partial reports must not outlive a new association */
    i61_client_reports_on_state(c, I61_STATE_CLOSED);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *pdu = data;
    size_t len = size;
    if (i61_fz_unwrap(&pdu, &len) != 0)
        return 0;
    i61_fz_reception(pdu, len);
    (void)i61_mms_is_report(pdu, len);
    i61_rpt r;
    if (i61_mms_decode_report(pdu, len, &r) != 0) {
        if (r.rpt_id || r.members || r.dataset)
            abort();                          /* failure leaves nothing behind */
        i61_mms_report_clear(&r);
        return 0;
    }
    if (r.n > r.dataset_size)
        abort();
    for (size_t i = 1; i < r.n; i++)
        if (r.members[i].index <= r.members[i - 1].index)
            abort();

    i61_buf a, b;
    i61_buf_init(&a);
    i61_buf_init(&b);
    if (i61_fz_encode(&r, &a) == 0) {
        i61_rpt r2;
        if (i61_mms_decode_report(a.data, a.len, &r2) != 0)
            abort();
        /* reasons of a report decoded without the option come back as -1 */
        i61_fz_same(&r, &r2);
        if (i61_fz_encode(&r2, &b) != 0 || a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
            abort();
        i61_mms_report_clear(&r2);
    }
    i61_buf_free(&a);
    i61_buf_free(&b);
    i61_mms_report_clear(&r);
    return 0;
}
