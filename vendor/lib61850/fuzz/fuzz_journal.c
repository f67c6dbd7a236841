/* libFuzzer target: the ReadJournal codec (mms/mms_journal.h).
 *
 * Input: one MMS PDU, or a whole golden TPKT frame (03 00 ...), whose MMS PDU
 * is used, so the golden frames 130/131 seed this target directly.
 *
 *  - As a ReadJournal response: what decodes is encoded again (each entry,
 *    then the response around them) and must decode to entries that encode
 *    to the very same octets; a failed decode leaves the list untouched.
 *  - As a ReadJournal request (server side): what decodes is encoded again
 *    and must decode to the same fields.
 *  - As stored JournalEntry TLVs one after the other (the server's log
 *    storage format): each entry that decodes re-encodes and decodes back
 *    to the same encoding.
 *  - The first 6 octets as a TimeOfDay: decode -> encode is the identity. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mms/mms_journal.h"
#include "mms/mms_pdu.h"

static int i61_fz_unwrap(const uint8_t **p, size_t *len)
{
    const uint8_t *d = *p;
    size_t n = *len;
    if (n < 8 || d[0] != 0x03 || d[1] != 0x00)
        return 0;
    size_t pos = 4 + 1 + (size_t)d[4] + 4;
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

/* Entries of l encoded one after the other into b; aborts if one that the
 * decoder produced cannot be encoded. */
static void i61_fz_encode_all(const i61_mms_journal_list *l, i61_buf *b)
{
    for (size_t i = 0; i < l->count; i++)
        if (i61_mms_enc_journal_entry(b, &l->items[i]) != I61_OK)
            abort();
}

static void i61_fz_response(const uint8_t *p, size_t n)
{
    i61_mms_journal_list l;
    i61_mms_journal_list_init(&l);
    bool more = false;
    i61_mms_error e;
    if (i61_mms_dec_read_journal_resp(p, n, &l, &more, &e) != I61_OK) {
        if (l.count != 0)
            abort();
        i61_mms_journal_list_clear(&l);
        return;
    }
    i61_buf ents, resp, again;
    i61_buf_init(&ents);
    i61_buf_init(&resp);
    i61_buf_init(&again);
    i61_fz_encode_all(&l, &ents);
    if (i61_mms_enc_read_journal_resp(&resp, 9, ents.data, ents.len, more) != I61_OK || resp.oom)
        abort();
    if (more && resp.len != i61_mms_read_journal_resp_size(9, ents.len))
        abort();
    i61_mms_journal_list l2;
    i61_mms_journal_list_init(&l2);
    bool more2 = !more;
    if (i61_mms_dec_read_journal_resp(resp.data, resp.len, &l2, &more2, NULL) != I61_OK)
        abort();
    if (more2 != more || l2.count != l.count)
        abort();
    i61_fz_encode_all(&l2, &again);
    if (again.len != ents.len || (ents.len && memcmp(again.data, ents.data, ents.len) != 0))
        abort();
    i61_mms_journal_list_clear(&l2);
    i61_mms_journal_list_clear(&l);
    i61_buf_free(&ents);
    i61_buf_free(&resp);
    i61_buf_free(&again);
}

static bool i61_fz_same_req(const i61_mms_journal_req *a, const i61_mms_journal_req *b)
{
    if (a->journal.scope != b->journal.scope || strcmp(a->journal.domain, b->journal.domain) != 0
        || strcmp(a->journal.item, b->journal.item) != 0)
        return false;
    if (a->has_start_time != b->has_start_time || (a->has_start_time && a->start_ms != b->start_ms))
        return false;
    if (a->has_start_entry != b->has_start_entry
        || (a->has_start_entry && (a->start_entry_len != b->start_entry_len
                                   || memcmp(a->start_entry, b->start_entry, a->start_entry_len))))
        return false;
    if (a->has_end_time != b->has_end_time || (a->has_end_time && a->end_ms != b->end_ms))
        return false;
    if (a->has_num_entries != b->has_num_entries
        || (a->has_num_entries && a->num_entries != b->num_entries))
        return false;
    if (a->has_after != b->has_after)
        return false;
    if (a->has_after && (a->after_ms != b->after_ms || a->after_entry_len != b->after_entry_len
                         || memcmp(a->after_entry, b->after_entry, a->after_entry_len) != 0))
        return false;
    return true;
}

static void i61_fz_request(const uint8_t *p, size_t n)
{
    i61_mms_request rq;
    i61_mms_journal_req q, q2;
    if (i61_mms_dec_request(p, n, &rq) != I61_OK || rq.service != I61_MMS_SVC_READ_JOURNAL)
        return;
    if (i61_mms_dec_read_journal_req(&rq, &q) != I61_OK)
        return;
    i61_buf b;
    i61_buf_init(&b);
    int rc = i61_mms_enc_read_journal_req(&b, rq.invoke_id, &q);
    if (rc == I61_OK) {
        i61_mms_request rq2;
        if (i61_mms_dec_request(b.data, b.len, &rq2) != I61_OK
            || i61_mms_dec_read_journal_req(&rq2, &q2) != I61_OK || !i61_fz_same_req(&q, &q2))
            abort();
    } else if (rc != I61_ERR_INVALID_ARGUMENT) {      /* e.g. an empty name from the wire */
        abort();
    }
    i61_buf_free(&b);
}

static void i61_fz_stored(const uint8_t *p, size_t n)
{
    size_t pos = 0;
    i61_buf b, c;
    i61_buf_init(&b);
    i61_buf_init(&c);
    while (pos < n) {
        i61_mms_journal_entry e, e2;
        size_t used = 0;
        if (i61_mms_dec_journal_entry(p + pos, n - pos, &used, &e) != I61_OK) {
            if (e.nvars != 0 || e.vars != NULL)
                abort();
            break;
        }
        if (used == 0 || used > n - pos)
            abort();
        pos += used;
        i61_buf_reset(&b);
        i61_buf_reset(&c);
        if (i61_mms_enc_journal_entry(&b, &e) != I61_OK)
            abort();
        size_t u2 = 0;
        if (i61_mms_dec_journal_entry(b.data, b.len, &u2, &e2) != I61_OK || u2 != b.len)
            abort();
        if (i61_mms_enc_journal_entry(&c, &e2) != I61_OK || c.len != b.len
            || memcmp(c.data, b.data, b.len) != 0)
            abort();
        i61_mms_journal_entry_clear(&e);
        i61_mms_journal_entry_clear(&e2);
    }
    i61_buf_free(&b);
    i61_buf_free(&c);
}

static void i61_fz_time(const uint8_t *p, size_t n)
{
    int64_t ms;
    uint8_t t[6];
    if (n < 6 || !i61_mms_time_of_day_dec(p, 6, &ms))
        return;
    if (!i61_mms_time_of_day_enc(ms, t) || memcmp(t, p, 6) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data;
    size_t n = size;
    if (i61_fz_unwrap(&p, &n) != 0)
        return 0;
    i61_fz_response(p, n);
    i61_fz_request(p, n);
    i61_fz_stored(p, n);
    i61_fz_time(data, size);
    return 0;
}
