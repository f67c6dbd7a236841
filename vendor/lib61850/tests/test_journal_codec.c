/* ReadJournal codec (mms_journal.h):
 *  - golden 130 (QueryLogByTime request) decodes on the server side to the
 *    captured journal name and times and re-encodes byte for byte; golden 131
 *    (no such log) is I61_ERR_OBJECT_DOES_NOT_EXIST;
 *  - TimeOfDay <-> ms at the edges (1984 epoch, 4-octet form, year 2163);
 *  - JournalEntry: byte layout of a hand-checked entry, round trips with the
 *    IEC 61850 value + ReasonCode pairs, an empty entry, libiec61850's
 *    originatingApplication, annotation, additionalDetail and event parts;
 *  - ReadJournal responses: entries + moreFollows both ways, empty and absent
 *    lists, the size helper against real encodings, append semantics;
 *  - request forms: startingEntry, numberOfEntries, listOfVariables,
 *    entryToStartAfter, and the ones to refuse;
 *  - malformed input: every truncation and every single-octet change of a
 *    response and of golden 130 decodes or fails cleanly (ASan watches). */
#include "t.h"
#include "ber/ber.h"
#include "mms/mms_data.h"
#include "mms/mms_journal.h"
#include "mms/mms_pdu.h"

/* The MMS PDU of a golden frame (TPKT, COTP DT, session GT+DT, presentation
 * 61 { 30 { 02 ctx, a0 <MMS> } }): a malloc'd copy. */
static uint8_t *g_pdu(const char *name, size_t *len)
{
    size_t fl;
    uint8_t *f = t_golden(name, &fl);
    size_t p = 4 + 1 + (size_t)f[4] + 4;
    i61_ber_tlv t, c;
    i61_ber_reader r;
    if (i61_ber_parse(f + p, fl - p, &t, NULL) != 0 || t.id != 0x61) goto bad;
    i61_ber_reader_sub(&r, &t);
    if (i61_ber_next(&r, &t) != 0 || t.id != 0x30) goto bad;
    i61_ber_reader_sub(&r, &t);
    if (i61_ber_next(&r, &c) != 0 || c.id != 0x02) goto bad;
    if (i61_ber_next(&r, &c) != 0 || c.id != 0xa0) goto bad;
    uint8_t *out = malloc(c.len);
    memcpy(out, c.val, c.len);
    *len = c.len;
    free(f);
    return out;
bad:
    fprintf(stderr, "%s: no presentation data\n", name);
    exit(2);
}

static void dump(const char *what, const uint8_t *p, size_t n)
{
    fprintf(stderr, "  %s ", what);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%02x", p[i]);
    fprintf(stderr, "\n");
}

#define MS_1984 441763200000LL          /* 1984-01-01 00:00:00 UTC */
#define G130_START 1699999000000LL      /* 2023-11-14 21:56:40 UTC */
#define G130_END 1700001000000LL        /* 2023-11-14 22:30:00 UTC */

/* Data encoding of v (for comparing values). */
static int same_value(const i61_value *a, const i61_value *b)
{
    i61_buf x, y;
    i61_buf_init(&x);
    i61_buf_init(&y);
    int ok = a && b && i61_mms_data_encode(&x, a) == 0 && i61_mms_data_encode(&y, b) == 0
             && x.len == y.len && memcmp(x.data, y.data, x.len) == 0;
    i61_buf_free(&x);
    i61_buf_free(&y);
    return ok;
}

/* ------------------------------------------------------------ goldens */

static void test_golden_130_request(void)
{
    size_t n;
    uint8_t *pdu = g_pdu("130_readjournal_request", &n);
    i61_mms_request rq;
    T_EQ_INT(i61_mms_dec_request(pdu, n, &rq), I61_OK);
    T_EQ_INT(rq.service, I61_MMS_SVC_READ_JOURNAL);
    T_EQ_INT(rq.invoke_id, 61);
    i61_mms_journal_req q;
    T_EQ_INT(i61_mms_dec_read_journal_req(&rq, &q), I61_OK);
    T_EQ_INT(q.journal.scope, I61_MMS_SCOPE_DOMAIN);
    T_CHECK(strcmp(q.journal.domain, "IED1LD1") == 0);
    T_CHECK(strcmp(q.journal.item, "LLN0$EventLog") == 0);
    T_CHECK(q.has_start_time && !q.has_start_entry);
    T_EQ_INT(q.start_ms, G130_START);
    T_CHECK(q.has_end_time && !q.has_num_entries);
    T_EQ_INT(q.end_ms, G130_END);
    T_CHECK(!q.has_after);

    /* decode -> encode gives the captured octets */
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_enc_read_journal_req(&b, rq.invoke_id, &q), I61_OK);
    T_EQ_MEM(b.data, b.len, pdu, n);

    /* and from parameters, as the client builds it */
    i61_mms_journal_req c;
    memset(&c, 0, sizeof c);
    c.journal.scope = I61_MMS_SCOPE_DOMAIN;
    strcpy(c.journal.domain, "IED1LD1");
    strcpy(c.journal.item, "LLN0$EventLog");
    c.has_start_time = true;
    c.start_ms = G130_START;
    c.has_end_time = true;
    c.end_ms = G130_END;
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_read_journal_req(&b, 61, &c), I61_OK);
    T_EQ_MEM(b.data, b.len, pdu, n);
    i61_buf_free(&b);
    free(pdu);
}

static void test_golden_131_error(void)
{
    size_t n;
    uint8_t *pdu = g_pdu("131_readjournal_error", &n);
    i61_mms_journal_list l;
    i61_mms_journal_list_init(&l);
    bool more = true;
    i61_mms_error e;
    T_EQ_INT(i61_mms_dec_read_journal_resp(pdu, n, &l, &more, &e), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(e.kind, I61_MMS_KIND_ERROR);
    T_EQ_INT(e.cls, 7);
    T_EQ_INT(e.code, 2);
    T_EQ_INT(l.count, 0);
    T_CHECK(more);                        /* untouched on failure */
    /* without the optional error detail */
    T_EQ_INT(i61_mms_dec_read_journal_resp(pdu, n, &l, NULL, NULL), I61_ERR_OBJECT_DOES_NOT_EXIST);
    i61_mms_journal_list_clear(&l);
    free(pdu);
}

static void test_reject(void)
{
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_enc_reject_pdu(&b, true, 9, I61_MMS_REJECT_CONFIRMED_REQUEST,
                                    I61_MMS_REJECT_UNRECOGNIZED_SERVICE), I61_OK);
    i61_mms_journal_list l;
    i61_mms_journal_list_init(&l);
    i61_mms_error e;
    T_EQ_INT(i61_mms_dec_read_journal_resp(b.data, b.len, &l, NULL, &e),
             I61_ERR_SERVICE_NOT_SUPPORTED);
    T_EQ_INT(e.kind, I61_MMS_KIND_REJECT);
    i61_buf_free(&b);
}

/* ------------------------------------------------------------ TimeOfDay */

static void test_time_of_day(void)
{
    uint8_t t[6];
    int64_t ms = 0;
    T_CHECK(i61_mms_time_of_day_enc(MS_1984, t));
    T_EQ_MEM(t, 6, "\0\0\0\0\0\0", 6);
    T_CHECK(!i61_mms_time_of_day_enc(MS_1984 - 1, t));
    T_CHECK(!i61_mms_time_of_day_enc(INT64_MIN, t));
    T_CHECK(i61_mms_time_of_day_enc(G130_START, t));
    T_EQ_MEM(t, 6, "\x04\xb5\x71\xc0\x38\xe2", 6);
    T_CHECK(i61_mms_time_of_day_dec(t, 6, &ms));
    T_EQ_INT(ms, G130_START);
    /* last representable instant: day 65535, 23:59:59.999 */
    int64_t last = MS_1984 + 65536LL * 86400000LL - 1;
    T_CHECK(i61_mms_time_of_day_enc(last, t));
    T_EQ_MEM(t, 6, "\x05\x26\x5b\xff\xff\xff", 6);
    T_CHECK(i61_mms_time_of_day_dec(t, 6, &ms));
    T_EQ_INT(ms, last);
    T_CHECK(!i61_mms_time_of_day_enc(last + 1, t));
    T_CHECK(!i61_mms_time_of_day_enc(INT64_MAX, t));
    /* 4 octets: time of day on 1984-01-01 */
    T_CHECK(i61_mms_time_of_day_dec((const uint8_t *)"\x00\x00\x03\xe8", 4, &ms));
    T_EQ_INT(ms, MS_1984 + 1000);
    /* ms of day beyond the day, other lengths */
    T_CHECK(!i61_mms_time_of_day_dec((const uint8_t *)"\x05\x26\x5c\x00\x00\x00", 6, &ms));
    T_CHECK(!i61_mms_time_of_day_dec(t, 5, &ms));
    T_CHECK(!i61_mms_time_of_day_dec(t, 8, &ms));
    T_CHECK(!i61_mms_time_of_day_dec(NULL, 6, &ms));
    /* 1 ms steps across a day boundary */
    for (int64_t x = G130_START + 7800000 - 2; x < G130_START + 7800000 + 2; x++) {
        T_CHECK(i61_mms_time_of_day_enc(x, t));
        T_CHECK(i61_mms_time_of_day_dec(t, 6, &ms));
        T_EQ_INT(ms, x);
    }
}

/* ------------------------------------------------------------ entries */

/* One IEC 61850 log entry: a float value and its ReasonCode (dchg). */
static void make_entry(i61_mms_journal_entry *e, uint8_t idbyte, int64_t time_ms, float f)
{
    memset(e, 0, sizeof *e);
    for (int i = 0; i < 8; i++)
        e->id[i] = (uint8_t)(i == 7 ? idbyte : 0);
    e->id_len = 8;
    e->time_ms = time_ms;
    e->nvars = 2;
    e->vars = calloc(2, sizeof *e->vars);
    e->vars[0].tag = strdup("TESTGenericIO/GGIO1$MX$AnIn1$mag$f");
    e->vars[0].value = i61_value_new_float(f);
    e->vars[1].tag = strdup("ReasonCode");
    uint8_t rc = 0x40;                    /* bit 1: data-change */
    e->vars[1].value = i61_value_new_bit_string(7, &rc);
}

static void check_same_entry(const i61_mms_journal_entry *a, const i61_mms_journal_entry *b)
{
    T_EQ_MEM(a->id, a->id_len, b->id, b->id_len);
    T_EQ_INT(a->time_ms, b->time_ms);
    T_EQ_INT(a->nvars, b->nvars);
    for (size_t i = 0; i < a->nvars && i < b->nvars; i++) {
        T_CHECK(strcmp(a->vars[i].tag, b->vars[i].tag) == 0);
        T_CHECK(same_value(a->vars[i].value, b->vars[i].value));
    }
}

static void test_entry_layout(void)
{
    /* id 01, time G130_START, one variable "X" = BOOLEAN TRUE */
    i61_mms_journal_entry e;
    memset(&e, 0, sizeof e);
    e.id[0] = 1;
    e.id_len = 1;
    e.time_ms = G130_START;
    i61_mms_journal_var v = { (char *)"X", i61_value_new_boolean(1) };
    e.vars = &v;
    e.nvars = 1;
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_enc_journal_entry(&b, &e), I61_OK);
    static const uint8_t exp[] = {
        0x30, 0x1d,
        0x80, 0x01, 0x01,                                   /* entryIdentifier */
        0xa1, 0x00,                                         /* originatingApplication */
        0xa2, 0x16,                                         /* entryContent */
        0x80, 0x06, 0x04, 0xb5, 0x71, 0xc0, 0x38, 0xe2,     /* occurrenceTime */
        0xa2, 0x0c, 0xa1, 0x0a,                             /* data { listOfVariables */
        0x30, 0x08, 0x80, 0x01, 'X', 0xa1, 0x03, 0x83, 0x01, 0x01
    };
    T_EQ_MEM(b.data, b.len, exp, sizeof exp);
    if (b.len != sizeof exp)
        dump("got", b.data, b.len);
    i61_value_free(v.value);
    i61_buf_free(&b);
}

static void test_entry_round_trip(void)
{
    i61_mms_journal_entry e, d;
    make_entry(&e, 5, G130_START + 123, 1.5f);
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_enc_journal_entry(&b, &e), I61_OK);
    size_t used = 0;
    /* trailing octets after the TLV are not part of it (storage reads one by one) */
    i61_buf_put(&b, "\x30\x00", 2);
    T_EQ_INT(i61_mms_dec_journal_entry(b.data, b.len, &used, &d), I61_OK);
    T_EQ_INT(used, b.len - 2);
    check_same_entry(&e, &d);
    T_EQ_INT(i61_value_type(d.vars[0].value), I61_TYPE_FLOAT);
    T_EQ_INT(i61_value_type(d.vars[1].value), I61_TYPE_BIT_STRING);
    T_EQ_INT(i61_value_bit_size(d.vars[1].value), 7);
    /* re-encoding the decoded entry gives the same octets */
    i61_buf c;
    i61_buf_init(&c);
    T_EQ_INT(i61_mms_enc_journal_entry(&c, &d), I61_OK);
    T_EQ_MEM(c.data, c.len, b.data, used);
    i61_mms_journal_entry_clear(&d);
    T_EQ_INT(d.nvars, 0);
    T_CHECK(d.vars == NULL);
    i61_mms_journal_entry_clear(&d);      /* twice is harmless */

    /* an entry without variables and an empty id */
    i61_mms_journal_entry z;
    memset(&z, 0, sizeof z);
    z.time_ms = MS_1984;
    i61_buf_reset(&c);
    T_EQ_INT(i61_mms_enc_journal_entry(&c, &z), I61_OK);
    T_EQ_INT(i61_mms_dec_journal_entry(c.data, c.len, &used, &d), I61_OK);
    T_EQ_INT(used, c.len);
    T_EQ_INT(d.id_len, 0);
    T_EQ_INT(d.nvars, 0);
    T_EQ_INT(d.time_ms, MS_1984);
    i61_mms_journal_entry_clear(&d);

    /* a large structured value and a 16-octet id */
    i61_mms_journal_entry s;
    memset(&s, 0, sizeof s);
    memset(s.id, 0xab, 16);
    s.id_len = 16;
    s.time_ms = G130_END;
    i61_value *st = i61_value_new_structure(3);
    i61_value_set_element(st, 0, i61_value_new_float(2.5f));
    i61_value_set_element(st, 1, i61_value_new_bit_string(13, (const uint8_t *)"\0\0"));
    uint8_t ut[8] = { 0x65, 0x53, 0xf1, 0x00, 0x80, 0, 0, 0x0a };
    i61_value_set_element(st, 2, i61_value_new_utc_time(ut));
    i61_mms_journal_var sv = { (char *)"TESTGenericIO/GGIO1$MX$AnIn1", st };
    s.vars = &sv;
    s.nvars = 1;
    i61_buf_reset(&c);
    T_EQ_INT(i61_mms_enc_journal_entry(&c, &s), I61_OK);
    T_EQ_INT(i61_mms_dec_journal_entry(c.data, c.len, &used, &d), I61_OK);
    check_same_entry(&s, &d);
    i61_mms_journal_entry_clear(&d);
    i61_value_free(st);

    i61_mms_journal_entry_clear(&e);
    i61_buf_free(&b);
    i61_buf_free(&c);
}

static void test_entry_refused(void)
{
    i61_buf b;
    i61_buf_init(&b);
    i61_buf_put(&b, "\x99", 1);           /* something already in the buffer stays */
    i61_mms_journal_entry e;
    memset(&e, 0, sizeof e);
    e.time_ms = MS_1984 - 1;              /* before 1984 */
    T_EQ_INT(i61_mms_enc_journal_entry(&b, &e), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(b.len, 1);
    e.time_ms = G130_START;
    e.id_len = I61_MMS_JOURNAL_ID_MAX + 1;
    T_EQ_INT(i61_mms_enc_journal_entry(&b, &e), I61_ERR_INVALID_ARGUMENT);
    e.id_len = 8;
    i61_mms_journal_var v = { (char *)"X", NULL };
    e.vars = &v;
    e.nvars = 1;
    T_EQ_INT(i61_mms_enc_journal_entry(&b, &e), I61_ERR_INVALID_ARGUMENT);
    v.value = i61_value_new_data_access_error(10);    /* no Data encoding */
    T_EQ_INT(i61_mms_enc_journal_entry(&b, &e), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(b.len, 1);
    i61_value_free(v.value);
    v.value = i61_value_new_boolean(0);
    v.tag = NULL;
    T_EQ_INT(i61_mms_enc_journal_entry(&b, &e), I61_ERR_INVALID_ARGUMENT);
    char longtag[300];
    memset(longtag, 'a', 299);
    longtag[299] = 0;
    v.tag = longtag;
    T_EQ_INT(i61_mms_enc_journal_entry(&b, &e), I61_ERR_INVALID_ARGUMENT);
    longtag[255] = 0;                     /* 255 is the MMS255String limit */
    T_EQ_INT(i61_mms_enc_journal_entry(&b, &e), I61_OK);
    i61_value_free(v.value);
    T_EQ_INT(i61_mms_enc_journal_entry(NULL, &e), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_mms_enc_journal_entry(&b, NULL), I61_ERR_INVALID_ARGUMENT);
    i61_buf_free(&b);
}

/* Entries as other stacks send them. */
static void test_entry_foreign_forms(void)
{
    i61_mms_journal_entry d;
    size_t used;
    /* libiec61850's shape: originatingApplication a1 02 30 00, 8-octet id,
     * each value followed by a 7-bit ReasonCode */
    i61_buf b;
    i61_buf_init(&b);
    {
        size_t m = i61_ber_open(&b, 0x30);
        i61_ber_put_tlv(&b, 0x80, "\x03\0\0\0\0\0\0\0", 8);
        i61_ber_put_tlv(&b, 0xa1, "\x30\x00", 2);
        size_t c = i61_ber_open(&b, 0xa2);
        i61_ber_put_tlv(&b, 0x80, "\x04\xb5\x71\xc0\x38\xe2", 6);
        size_t dd = i61_ber_open(&b, 0xa2);
        size_t l = i61_ber_open(&b, 0xa1);
        size_t v = i61_ber_open(&b, 0x30);
        i61_ber_put_str(&b, 0x80, "IED1LD1/GGIO1$ST$Ind1$stVal");
        i61_ber_put_tlv(&b, 0xa1, "\x83\x01\x01", 3);
        i61_ber_close(&b, v);
        v = i61_ber_open(&b, 0x30);
        i61_ber_put_str(&b, 0x80, "ReasonCode");
        i61_ber_put_tlv(&b, 0xa1, "\x84\x02\x01\x40", 4);
        i61_ber_close(&b, v);
        i61_ber_close(&b, l);
        i61_ber_close(&b, dd);
        i61_ber_close(&b, c);
        i61_ber_close(&b, m);
    }
    T_EQ_INT(i61_mms_dec_journal_entry(b.data, b.len, &used, &d), I61_OK);
    T_EQ_INT(used, b.len);
    T_EQ_INT(d.id_len, 8);
    T_EQ_INT(d.id[0], 3);
    T_EQ_INT(d.time_ms, G130_START);
    T_EQ_INT(d.nvars, 2);
    if (d.nvars == 2) {
        T_CHECK(strcmp(d.vars[0].tag, "IED1LD1/GGIO1$ST$Ind1$stVal") == 0);
        int bv = 0;
        T_EQ_INT(i61_value_get_boolean(d.vars[0].value, &bv), I61_OK);
        T_EQ_INT(bv, 1);
        T_CHECK(strcmp(d.vars[1].tag, "ReasonCode") == 0);
        T_EQ_INT(i61_value_bit_size(d.vars[1].value), 7);
    }
    i61_mms_journal_entry_clear(&d);

    /* additionalDetail [1] and event [0] present: skipped */
    i61_buf_reset(&b);
    {
        size_t m = i61_ber_open(&b, 0x30);
        i61_ber_put_tlv(&b, 0x80, "\x07", 1);
        i61_ber_put_tlv(&b, 0xa1, NULL, 0);
        size_t c = i61_ber_open(&b, 0xa2);
        i61_ber_put_tlv(&b, 0x80, "\x00\x00\x00\x00", 4);        /* 4-octet TimeOfDay */
        i61_ber_put_tlv(&b, 0xa1, "\x30\x00", 2);                 /* additionalDetail */
        size_t dd = i61_ber_open(&b, 0xa2);
        i61_ber_put_tlv(&b, 0xa0, "\x80\x01\x01", 3);             /* event */
        size_t l = i61_ber_open(&b, 0xa1);
        size_t v = i61_ber_open(&b, 0x30);
        i61_ber_put_str(&b, 0x80, "Y");
        i61_ber_put_tlv(&b, 0xa1, "\x85\x01\x07", 3);
        i61_ber_close(&b, v);
        i61_ber_close(&b, l);
        i61_ber_close(&b, dd);
        i61_ber_close(&b, c);
        i61_ber_close(&b, m);
    }
    T_EQ_INT(i61_mms_dec_journal_entry(b.data, b.len, &used, &d), I61_OK);
    T_EQ_INT(d.time_ms, MS_1984);
    T_EQ_INT(d.nvars, 1);
    i61_mms_journal_entry_clear(&d);

    /* annotation [3]: an entry without variables; data without variables */
    i61_buf_reset(&b);
    {
        size_t m = i61_ber_open(&b, 0x30);
        i61_ber_put_tlv(&b, 0x80, "\x08", 1);
        i61_ber_put_tlv(&b, 0xa1, NULL, 0);
        size_t c = i61_ber_open(&b, 0xa2);
        i61_ber_put_tlv(&b, 0x80, "\x04\xb5\x71\xc0\x38\xe2", 6);
        i61_ber_put_str(&b, 0x83, "power on");
        i61_ber_close(&b, c);
        i61_ber_close(&b, m);
    }
    T_EQ_INT(i61_mms_dec_journal_entry(b.data, b.len, &used, &d), I61_OK);
    T_EQ_INT(d.nvars, 0);
    T_EQ_INT(d.id[0], 8);
    i61_mms_journal_entry_clear(&d);
    i61_buf_reset(&b);
    i61_ber_put_tlv(&b, 0x30, "\x80\x00\xa1\x00\xa2\x0a\x80\x06\x04\xb5\x71\xc0\x38\xe2\xa2\x00", 16);
    T_EQ_INT(i61_mms_dec_journal_entry(b.data, b.len, &used, &d), I61_OK);
    T_EQ_INT(d.nvars, 0);
    i61_mms_journal_entry_clear(&d);
    i61_buf_free(&b);
}

/* Hex text (spaces allowed) -> octets appended to b. */
static void put_hex(i61_buf *b, const char *h)
{
    int hi = -1;
    for (; *h; h++) {
        int v;
        if (*h >= '0' && *h <= '9') v = *h - '0';
        else if (*h >= 'a' && *h <= 'f') v = *h - 'a' + 10;
        else continue;
        if (hi < 0) { hi = v; continue; }
        i61_buf_put_u8(b, (uint8_t)(hi << 4 | v));
        hi = -1;
    }
}

#define TIME6 "800604b571c038e2"

/* A JournalEntry with correct lengths around hex parts: the entry's own
 * elements (id, originatingApplication) as hex, then the entryContent
 * elements as hex, then the data [2] content (NULL: no data element) as
 * hex; an entry identifier tag other than 30 with outer_id. */
static void build_entry(i61_buf *b, uint32_t outer_id, const char *head, const char *content,
                        const char *data)
{
    size_t m = i61_ber_open(b, outer_id);
    put_hex(b, head);
    size_t c = i61_ber_open(b, 0xa2);
    put_hex(b, content);
    if (data) {
        size_t d = i61_ber_open(b, 0xa2);
        put_hex(b, data);
        i61_ber_close(b, d);
    }
    i61_ber_close(b, c);
    i61_ber_close(b, m);
}

/* Entries the decoder must refuse. */
static void test_entry_malformed(void)
{
    static const struct {
        const char *why;
        uint32_t outer;
        const char *head, *content, *data;
    } bad[] = {
        { "not a SEQUENCE", 0x31, "800100 a100", TIME6, "" },
        { "id longer than 16", 0x30, "8011 0000000000000000000000000000000000 a100", TIME6, "" },
        { "id constructed", 0x30, "a000 a100", TIME6, "" },
        { "no originatingApplication", 0x30, "800100", TIME6, "" },
        { "originatingApplication primitive", 0x30, "800100 8100", TIME6, "" },
        { "elements swapped", 0x30, "a100 800100", TIME6, "" },
        { "time 5 octets", 0x30, "800100 a100", "800504b571c038", "" },
        { "ms of day too large", 0x30, "800100 a100", "80060526 5c000000", "" },
        { "time constructed", 0x30, "800100 a100", "a0060526 5b000000", "" },
        { "no time", 0x30, "800100 a100", "", "" },
        { "no entry form", 0x30, "800100 a100", TIME6, NULL },
        { "data primitive", 0x30, "800100 a100", TIME6 "8200", NULL },
        { "annotation constructed", 0x30, "800100 a100", TIME6 "a300", NULL },
        { "unknown entry form", 0x30, "800100 a100", TIME6 "a400", NULL },
        { "two entry forms", 0x30, "800100 a100", TIME6 "8300 a200", NULL },
        { "variables primitive", 0x30, "800100 a100", TIME6, "8100" },
        { "event primitive", 0x30, "800100 a100", TIME6, "8000" },
        { "variables then event", 0x30, "800100 a100", TIME6, "a100 a000" },
        { "unknown data element", 0x30, "800100 a100", TIME6, "a200" },
        { "variable not a SEQUENCE", 0x30, "800100 a100", TIME6, "a107 3105 800158 a100" },
        { "variable without value", 0x30, "800100 a100", TIME6, "a105 3003 800158" },
        { "variable tag constructed", 0x30, "800100 a100", TIME6, "a109 3007 a000 a103830101" },
        { "value not explicit", 0x30, "800100 a100", TIME6, "a108 3006 800158 830101" },
        { "value two Data", 0x30, "800100 a100", TIME6, "a10d 300b 800158 a106 830101 830100" },
        { "value empty", 0x30, "800100 a100", TIME6, "a107 3005 800158 a100" },
        { "unknown Data tag", 0x30, "800100 a100", TIME6, "a108 3006 800158 a1029e00" },
        { "truncated Data", 0x30, "800100 a100", TIME6, "a109 3007 800158 a103830201" },
        { "bad boolean", 0x30, "800100 a100", TIME6, "a10a 3008 800158 a10483020101" },
        { "tag with NUL", 0x30, "800100 a100", TIME6, "a10b 3009 80025800 a103830101" },
        { "extra element in variable", 0x30, "800100 a100", TIME6, "a10c 300a 800158 a103830101 8000" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        i61_buf b;
        i61_buf_init(&b);
        build_entry(&b, bad[i].outer, bad[i].head, bad[i].content, bad[i].data);
        i61_mms_journal_entry d;
        size_t used = 999;
        int rc = i61_mms_dec_journal_entry(b.data, b.len, &used, &d);
        if (rc != I61_ERR_MALFORMED_MESSAGE) {
            fprintf(stderr, "  case '%s': rc %d\n", bad[i].why, rc);
            dump("entry", b.data, b.len);
        }
        T_EQ_INT(rc, I61_ERR_MALFORMED_MESSAGE);
        T_EQ_INT(d.nvars, 0);
        T_CHECK(d.vars == NULL);
        T_EQ_INT(used, 999);
        i61_buf_free(&b);
    }
    /* the good entry the cases above are variations of, with and without event */
    {
        i61_buf b;
        i61_buf_init(&b);
        build_entry(&b, 0x30, "800100 a100", TIME6, "a10a 3008 800158 a103830101");
        i61_mms_journal_entry d;
        size_t used;
        T_EQ_INT(i61_mms_dec_journal_entry(b.data, b.len, &used, &d), I61_OK);
        T_EQ_INT(d.nvars, 1);
        i61_mms_journal_entry_clear(&d);
        i61_buf_reset(&b);
        build_entry(&b, 0x30, "800100 a100", TIME6, "a005 8001ff 0500 a10a 3008 800158 a103830101");
        T_EQ_INT(i61_mms_dec_journal_entry(b.data, b.len, &used, &d), I61_OK);
        T_EQ_INT(d.nvars, 1);
        i61_mms_journal_entry_clear(&d);
        i61_buf_free(&b);
    }
    /* more variables than allowed */
    i61_buf b;
    i61_buf_init(&b);
    size_t m = i61_ber_open(&b, 0x30);
    i61_ber_put_tlv(&b, 0x80, "\x01", 1);
    i61_ber_put_tlv(&b, 0xa1, NULL, 0);
    size_t c = i61_ber_open(&b, 0xa2);
    i61_ber_put_tlv(&b, 0x80, "\x04\xb5\x71\xc0\x38\xe2", 6);
    size_t dd = i61_ber_open(&b, 0xa2);
    size_t l = i61_ber_open(&b, 0xa1);
    for (unsigned i = 0; i < I61_MMS_JOURNAL_MAX_VARS + 1; i++)
        i61_buf_put(&b, "\x30\x07\x80\x00\xa1\x03\x83\x01\x00", 9);
    i61_ber_close(&b, l);
    i61_ber_close(&b, dd);
    i61_ber_close(&b, c);
    i61_ber_close(&b, m);
    i61_mms_journal_entry d;
    size_t used;
    T_EQ_INT(i61_mms_dec_journal_entry(b.data, b.len, &used, &d), I61_ERR_MALFORMED_MESSAGE);
    T_EQ_INT(d.nvars, 0);
    /* exactly the limit is fine */
    i61_buf_reset(&b);
    m = i61_ber_open(&b, 0x30);
    i61_ber_put_tlv(&b, 0x80, "\x01", 1);
    i61_ber_put_tlv(&b, 0xa1, NULL, 0);
    c = i61_ber_open(&b, 0xa2);
    i61_ber_put_tlv(&b, 0x80, "\x04\xb5\x71\xc0\x38\xe2", 6);
    dd = i61_ber_open(&b, 0xa2);
    l = i61_ber_open(&b, 0xa1);
    for (unsigned i = 0; i < I61_MMS_JOURNAL_MAX_VARS; i++)
        i61_buf_put(&b, "\x30\x07\x80\x00\xa1\x03\x83\x01\x00", 9);
    i61_ber_close(&b, l);
    i61_ber_close(&b, dd);
    i61_ber_close(&b, c);
    i61_ber_close(&b, m);
    T_EQ_INT(i61_mms_dec_journal_entry(b.data, b.len, &used, &d), I61_OK);
    T_EQ_INT(d.nvars, I61_MMS_JOURNAL_MAX_VARS);
    i61_mms_journal_entry_clear(&d);
    T_EQ_INT(i61_mms_dec_journal_entry(NULL, 0, &used, &d), I61_ERR_MALFORMED_MESSAGE);
    T_EQ_INT(i61_mms_dec_journal_entry(b.data, b.len, &used, NULL), I61_ERR_INVALID_ARGUMENT);
    i61_buf_free(&b);
}

/* ------------------------------------------------------------ responses */

/* Two encoded entries (ids 1 and 2) into *out. */
static void two_entries(i61_buf *out)
{
    i61_mms_journal_entry e1, e2;
    make_entry(&e1, 1, G130_START, 1.0f);
    make_entry(&e2, 2, G130_START + 1, 2.0f);
    T_EQ_INT(i61_mms_enc_journal_entry(out, &e1), I61_OK);
    T_EQ_INT(i61_mms_enc_journal_entry(out, &e2), I61_OK);
    i61_mms_journal_entry_clear(&e1);
    i61_mms_journal_entry_clear(&e2);
}

static void test_response_round_trip(void)
{
    i61_buf ents, b;
    i61_buf_init(&ents);
    i61_buf_init(&b);
    two_entries(&ents);
    for (int more = 0; more < 2; more++) {
        i61_buf_reset(&b);
        T_EQ_INT(i61_mms_enc_read_journal_resp(&b, 300, ents.data, ents.len, more), I61_OK);
        /* envelope: a1 .. 02 02 01 2c bf 41 .. a0 .. */
        T_EQ_INT(b.data[0], 0xa1);
        i61_mms_journal_list l;
        i61_mms_journal_list_init(&l);
        bool mf = !more;
        T_EQ_INT(i61_mms_dec_read_journal_resp(b.data, b.len, &l, &mf, NULL), I61_OK);
        T_EQ_INT(mf, more);
        T_EQ_INT(l.count, 2);
        if (l.count == 2) {
            T_EQ_INT(l.items[0].id[7], 1);
            T_EQ_INT(l.items[1].id[7], 2);
            T_EQ_INT(l.items[1].time_ms, G130_START + 1);
            double f = 0;
            T_EQ_INT(i61_value_get_double(l.items[1].vars[0].value, &f), I61_OK);
            T_CHECK(f == 2.0);
        }
        /* a second page appends */
        T_EQ_INT(i61_mms_dec_read_journal_resp(b.data, b.len, &l, NULL, NULL), I61_OK);
        T_EQ_INT(l.count, 4);
        /* a bad page leaves the list as it was */
        T_EQ_INT(i61_mms_dec_read_journal_resp(b.data, b.len - 1, &l, NULL, NULL),
                 I61_ERR_MALFORMED_MESSAGE);
        T_EQ_INT(l.count, 4);
        i61_mms_journal_list_clear(&l);
        T_EQ_INT(l.count, 0);
    }
    /* moreFollows TRUE goes as 81 01 01 at the end */
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_read_journal_resp(&b, 1, NULL, 0, true), I61_OK);
    T_EQ_MEM(b.data, b.len, "\xa1\x0b\x02\x01\x01\xbf\x41\x05\xa0\x00\x81\x01\x01", 13);
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_read_journal_resp(&b, 1, NULL, 0, false), I61_OK);
    T_EQ_MEM(b.data, b.len, "\xa1\x08\x02\x01\x01\xbf\x41\x02\xa0\x00", 10);
    i61_mms_journal_list l;
    i61_mms_journal_list_init(&l);
    bool mf = true;
    T_EQ_INT(i61_mms_dec_read_journal_resp(b.data, b.len, &l, &mf, NULL), I61_OK);
    T_EQ_INT(l.count, 0);
    T_CHECK(!mf);
    /* absent list, moreFollows FALSE spelled out */
    T_EQ_INT(i61_mms_dec_read_journal_resp((const uint8_t *)"\xa1\x09\x02\x01\x01\xbf\x41\x03\x81\x01\x00",
                                           11, &l, &mf, NULL), I61_OK);
    T_CHECK(!mf);
    T_EQ_INT(l.count, 0);
    /* wrong service, primitive body, junk after moreFollows, list after moreFollows */
    T_EQ_INT(i61_mms_dec_read_journal_resp((const uint8_t *)"\xa1\x08\x02\x01\x01\xbf\x42\x02\xa0\x00",
                                           10, &l, &mf, NULL), I61_ERR_MALFORMED_MESSAGE);
    T_EQ_INT(i61_mms_dec_read_journal_resp((const uint8_t *)"\xa1\x06\x02\x01\x01\x9f\x41\x00",
                                           8, &l, &mf, NULL), I61_ERR_MALFORMED_MESSAGE);
    T_EQ_INT(i61_mms_dec_read_journal_resp((const uint8_t *)"\xa1\x0d\x02\x01\x01\xbf\x41\x07\xa0\x00\x81\x01\x01\x05\x00",
                                           15, &l, &mf, NULL), I61_ERR_MALFORMED_MESSAGE);
    T_EQ_INT(i61_mms_dec_read_journal_resp((const uint8_t *)"\xa1\x0b\x02\x01\x01\xbf\x41\x05\x81\x01\x01\xa0\x00",
                                           13, &l, &mf, NULL), I61_ERR_MALFORMED_MESSAGE);
    T_EQ_INT(i61_mms_dec_read_journal_resp(b.data, b.len, NULL, &mf, NULL), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_mms_enc_read_journal_resp(&b, 1, NULL, 5, false), I61_ERR_INVALID_ARGUMENT);
    i61_mms_journal_list_clear(&l);
    i61_buf_free(&ents);
    i61_buf_free(&b);
}

static void test_response_size(void)
{
    static const size_t lens[] = { 0, 1, 100, 115, 116, 117, 120, 127, 128, 200, 250, 251,
                                   252, 255, 256, 1000, 65000, 65531, 65536, 70000 };
    static const uint32_t ids[] = { 0, 1, 127, 128, 255, 256, 65535, 0x7fffffffu, 0xffffffffu };
    i61_buf b;
    i61_buf_init(&b);
    uint8_t *junk = calloc(1, 70000);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
            i61_buf_reset(&b);
            T_EQ_INT(i61_mms_enc_read_journal_resp(&b, ids[k], junk, lens[i], true), I61_OK);
            T_EQ_INT(i61_mms_read_journal_resp_size(ids[k], lens[i]), b.len);
            /* without moreFollows it is 3 octets less at most */
            i61_buf_reset(&b);
            T_EQ_INT(i61_mms_enc_read_journal_resp(&b, ids[k], junk, lens[i], false), I61_OK);
            T_CHECK(b.len <= i61_mms_read_journal_resp_size(ids[k], lens[i]));
        }
    }
    free(junk);
    i61_buf_free(&b);
}

/* A response with more entries than the decoder takes. */
static void test_response_too_many(void)
{
    i61_buf ents, b;
    i61_buf_init(&ents);
    i61_buf_init(&b);
    static const uint8_t small[] = { 0x30, 0x10, 0x80, 0x00, 0xa1, 0x00, 0xa2, 0x0a, 0x80, 0x06,
                                     0x04, 0xb5, 0x71, 0xc0, 0x38, 0xe2, 0xa2, 0x00 };
    for (unsigned i = 0; i < I61_MMS_JOURNAL_MAX_ENTRIES + 1; i++)
        i61_buf_put(&ents, small, sizeof small);
    T_EQ_INT(i61_mms_enc_read_journal_resp(&b, 1, ents.data, ents.len, false), I61_OK);
    i61_mms_journal_list l;
    i61_mms_journal_list_init(&l);
    T_EQ_INT(i61_mms_dec_read_journal_resp(b.data, b.len, &l, NULL, NULL), I61_ERR_MALFORMED_MESSAGE);
    T_EQ_INT(l.count, 0);
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_read_journal_resp(&b, 1, ents.data, ents.len - sizeof small, false), I61_OK);
    T_EQ_INT(i61_mms_dec_read_journal_resp(b.data, b.len, &l, NULL, NULL), I61_OK);
    T_EQ_INT(l.count, I61_MMS_JOURNAL_MAX_ENTRIES);
    i61_mms_journal_list_clear(&l);
    i61_buf_free(&ents);
    i61_buf_free(&b);
}

/* ------------------------------------------------------------ requests */

static int dec_req(const i61_buf *b, i61_mms_journal_req *q)
{
    i61_mms_request rq;
    int rc = i61_mms_dec_request(b->data, b->len, &rq);
    if (rc != I61_OK)
        return rc;
    return i61_mms_dec_read_journal_req(&rq, q);
}

static void base_req(i61_mms_journal_req *q)
{
    memset(q, 0, sizeof *q);
    q->journal.scope = I61_MMS_SCOPE_DOMAIN;
    strcpy(q->journal.domain, "TESTGenericIO");
    strcpy(q->journal.item, "LLN0$EventLog");
}

static void test_request_forms(void)
{
    i61_buf b;
    i61_buf_init(&b);
    i61_mms_journal_req q, d;

    /* QueryLogAfter: entryToStartAfter only (libiec61850's form) */
    base_req(&q);
    q.has_after = true;
    q.after_ms = G130_END;
    memcpy(q.after_entry, "\0\0\0\0\0\0\0\x2a", 8);
    q.after_entry_len = 8;
    T_EQ_INT(i61_mms_enc_read_journal_req(&b, 7, &q), I61_OK);
    T_EQ_INT(dec_req(&b, &d), I61_OK);
    T_CHECK(d.has_after && !d.has_start_time && !d.has_end_time);
    T_EQ_INT(d.after_ms, G130_END);
    T_EQ_MEM(d.after_entry, d.after_entry_len, q.after_entry, 8);
    T_CHECK(strcmp(d.journal.domain, "TESTGenericIO") == 0);
    /* layout of the entryToStartAfter part: a5 12 80 06 <time> 81 08 <id> */
    static const uint8_t tail[] = { 0xa5, 0x12, 0x80, 0x06, 0x04, 0xd3, 0xf6, 0x40, 0x38, 0xe2,
                                    0x81, 0x08, 0, 0, 0, 0, 0, 0, 0, 0x2a };
    T_CHECK(b.len > sizeof tail);
    T_EQ_MEM(b.data + b.len - sizeof tail, sizeof tail, tail, sizeof tail);

    /* after + an end time; startingTime without end */
    q.has_end_time = true;
    q.end_ms = G130_END + 5;
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_read_journal_req(&b, 7, &q), I61_OK);
    T_EQ_INT(dec_req(&b, &d), I61_OK);
    T_CHECK(d.has_after && d.has_end_time);
    T_EQ_INT(d.end_ms, G130_END + 5);
    base_req(&q);
    q.has_start_time = true;
    q.start_ms = G130_START;
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_read_journal_req(&b, 7, &q), I61_OK);
    T_EQ_INT(dec_req(&b, &d), I61_OK);
    T_CHECK(d.has_start_time && !d.has_end_time && !d.has_after);

    /* startingEntry and numberOfEntries */
    base_req(&q);
    q.has_start_entry = true;
    memcpy(q.start_entry, "\x01\x02", 2);
    q.start_entry_len = 2;
    q.has_num_entries = true;
    q.num_entries = 100;
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_read_journal_req(&b, 7, &q), I61_OK);
    T_EQ_INT(dec_req(&b, &d), I61_OK);
    T_CHECK(d.has_start_entry && d.has_num_entries && !d.has_start_time && !d.has_end_time);
    T_EQ_MEM(d.start_entry, d.start_entry_len, "\x01\x02", 2);
    T_EQ_INT(d.num_entries, 100);

    /* no range at all */
    base_req(&q);
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_read_journal_req(&b, 7, &q), I61_OK);
    T_EQ_INT(dec_req(&b, &d), I61_OK);
    T_CHECK(!d.has_start_time && !d.has_end_time && !d.has_after && !d.has_start_entry);

    /* refused by the encoder */
    base_req(&q);
    q.has_start_time = q.has_start_entry = true;
    T_EQ_INT(i61_mms_enc_read_journal_req(&b, 7, &q), I61_ERR_INVALID_ARGUMENT);
    base_req(&q);
    q.has_end_time = q.has_num_entries = true;
    q.end_ms = G130_END;
    T_EQ_INT(i61_mms_enc_read_journal_req(&b, 7, &q), I61_ERR_INVALID_ARGUMENT);
    base_req(&q);
    q.has_start_time = true;
    q.start_ms = 0;                       /* 1970: before the TimeOfDay epoch */
    size_t before = b.len;
    T_EQ_INT(i61_mms_enc_read_journal_req(&b, 7, &q), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(b.len, before);
    base_req(&q);
    q.has_after = true;
    q.after_ms = G130_END;
    q.after_entry_len = 17;
    T_EQ_INT(i61_mms_enc_read_journal_req(&b, 7, &q), I61_ERR_INVALID_ARGUMENT);
    base_req(&q);
    q.journal.item[0] = 0;
    T_EQ_INT(i61_mms_enc_read_journal_req(&b, 7, &q), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(b.len, before);
    i61_buf_free(&b);
}

/* Requests the server-side decoder must refuse (hand-built bodies). */
static void test_request_malformed(void)
{
    static const char *const bodies[] = {
        "",                                                        /* no journal name */
        "a100",                                                    /* starts with rangeStart */
        "a01aa1181a0749454431 4c44311a0d4c4c4e30244576656e744c6f67a108",   /* truncated */
        "a003800141a1088006 04b571c038e2a1088006 04b571c038e2",     /* rangeStart twice */
        "a003800141a2088006 04d3f64038e2a1088006 04b571c038e2",     /* out of order */
        "a003800141a1088205 04b571c038",                           /* unknown start choice */
        "a003800141a10a800604b571c038e28000",                      /* two start choices */
        "a003800141a1088005 04b571c038e2",                         /* 5-octet time */
        "a003800141a1068004 05265c00",                             /* 4 octets, bad ms */
        "a003800141a203810500112233 44",                           /* numberOfEntries too long */
        "a003800141a50880060 4b571c038e2",                         /* after without entry */
        "a003800141a50a810800000000000000 01",                      /* after without time */
        "a003800141a5148006 04b571c038e28111000000000000000000000000000000000000", /* id > 16 */
        "a003800141a3020500",                                      /* unknown [3] */
        "a003800141a6020500",                                      /* unknown [6] */
        "a003800141840100",                                        /* listOfVariables primitive */
        "800141",                                                  /* name not wrapped */
        "a0050101ff0500",                                          /* not an ObjectName */
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        uint8_t body[128];
        size_t n = 0;
        int hi = -1;
        for (const char *h = bodies[i]; *h; h++) {
            int v;
            if (*h >= '0' && *h <= '9') v = *h - '0';
            else if (*h >= 'a' && *h <= 'f') v = *h - 'a' + 10;
            else continue;
            if (hi < 0) { hi = v; continue; }
            body[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
        i61_buf b;
        i61_buf_init(&b);
        size_t m = i61_ber_open(&b, 0xa0);
        i61_ber_put_uint64(&b, 0x02, 5);
        i61_ber_put_tlv(&b, 0xbf41, body, n);
        i61_ber_close(&b, m);
        i61_mms_request rq;
        i61_mms_journal_req q;
        int rc = i61_mms_dec_request(b.data, b.len, &rq);
        if (rc == I61_OK)
            rc = i61_mms_dec_read_journal_req(&rq, &q);
        if (rc != I61_ERR_MALFORMED_MESSAGE)
            fprintf(stderr, "  body %zu (%s): rc %d\n", i, bodies[i], rc);
        T_EQ_INT(rc, I61_ERR_MALFORMED_MESSAGE);
        i61_buf_free(&b);
    }
    /* listOfVariables is skipped; a vmd-specific name is fine */
    {
        i61_buf b;
        i61_buf_init(&b);
        size_t m = i61_ber_open(&b, 0xa0);
        i61_ber_put_uint64(&b, 0x02, 5);
        i61_ber_put_tlv(&b, 0xbf41, "\xa0\x03\x80\x01\x41\xa4\x03\x1a\x01\x42", 10);
        i61_ber_close(&b, m);
        i61_mms_request rq;
        i61_mms_journal_req q;
        T_EQ_INT(i61_mms_dec_request(b.data, b.len, &rq), I61_OK);
        T_EQ_INT(i61_mms_dec_read_journal_req(&rq, &q), I61_OK);
        T_EQ_INT(q.journal.scope, I61_MMS_SCOPE_VMD);
        T_CHECK(strcmp(q.journal.item, "A") == 0);
        /* another service is not a ReadJournal */
        rq.service = I61_MMS_SVC_READ;
        T_EQ_INT(i61_mms_dec_read_journal_req(&rq, &q), I61_ERR_MALFORMED_MESSAGE);
        T_EQ_INT(i61_mms_dec_read_journal_req(NULL, &q), I61_ERR_INVALID_ARGUMENT);
        i61_buf_free(&b);
    }
}

/* ------------------------------------------------------------ robustness */

static void mutate_response(const uint8_t *p, size_t n)
{
    uint8_t *m = malloc(n);
    i61_mms_journal_list l;
    i61_mms_journal_list_init(&l);
    /* every truncation */
    for (size_t k = 0; k < n; k++) {
        int rc = i61_mms_dec_read_journal_resp(p, k, &l, NULL, NULL);
        T_CHECK(rc != I61_OK);
        T_EQ_INT(l.count, 0);
    }
    /* every single-octet change: decodes or fails, nothing in between */
    static const uint8_t xs[] = { 0x00, 0x01, 0x7f, 0x80, 0x81, 0xff };
    for (size_t k = 0; k < n; k++) {
        for (size_t x = 0; x < sizeof xs; x++) {
            memcpy(m, p, n);
            m[k] = xs[x];
            size_t before = l.count;
            bool more = false;
            int rc = i61_mms_dec_read_journal_resp(m, n, &l, &more, NULL);
            if (rc != I61_OK)
                T_EQ_INT(l.count, before);
            for (size_t i = before; i < l.count; i++) {
                T_CHECK(l.items[i].id_len <= I61_MMS_JOURNAL_ID_MAX);
                for (size_t v = 0; v < l.items[i].nvars; v++)
                    T_CHECK(l.items[i].vars[v].tag && l.items[i].vars[v].value);
            }
            if (l.count > 1000)
                i61_mms_journal_list_clear(&l);
        }
    }
    i61_mms_journal_list_clear(&l);
    free(m);
}

static void test_malformed_responses(void)
{
    i61_buf ents, b;
    i61_buf_init(&ents);
    i61_buf_init(&b);
    two_entries(&ents);
    T_EQ_INT(i61_mms_enc_read_journal_resp(&b, 77, ents.data, ents.len, true), I61_OK);
    mutate_response(b.data, b.len);
    size_t n;
    uint8_t *g = g_pdu("131_readjournal_error", &n);
    mutate_response(g, n);
    free(g);
    i61_buf_free(&ents);
    i61_buf_free(&b);
}

static void test_malformed_requests(void)
{
    size_t n;
    uint8_t *pdu = g_pdu("130_readjournal_request", &n);
    uint8_t *m = malloc(n);
    for (size_t k = 0; k < n; k++) {
        i61_mms_request rq;
        i61_mms_journal_req q;
        if (i61_mms_dec_request(pdu, k, &rq) == I61_OK)
            T_CHECK(i61_mms_dec_read_journal_req(&rq, &q) != I61_OK);
    }
    int decoded = 0;
    for (size_t k = 0; k < n; k++) {
        for (int x = 0; x < 256; x += 15) {
            memcpy(m, pdu, n);
            m[k] = (uint8_t)x;
            i61_mms_request rq;
            i61_mms_journal_req q;
            if (i61_mms_dec_request(m, n, &rq) != I61_OK || rq.service != I61_MMS_SVC_READ_JOURNAL)
                continue;
            if (i61_mms_dec_read_journal_req(&rq, &q) == I61_OK) {
                decoded++;
                /* whatever decodes encodes again (names from the wire are valid) */
                i61_buf b;
                i61_buf_init(&b);
                int rc = i61_mms_enc_read_journal_req(&b, 1, &q);
                T_CHECK(rc == I61_OK || rc == I61_ERR_INVALID_ARGUMENT);
                i61_buf_free(&b);
            }
        }
    }
    T_CHECK(decoded > 0);
    free(m);
    free(pdu);
}

T_MAIN(T_CASE(test_golden_130_request), T_CASE(test_golden_131_error), T_CASE(test_reject),
       T_CASE(test_time_of_day), T_CASE(test_entry_layout), T_CASE(test_entry_round_trip),
       T_CASE(test_entry_refused), T_CASE(test_entry_foreign_forms),
       T_CASE(test_entry_malformed), T_CASE(test_response_round_trip),
       T_CASE(test_response_size), T_CASE(test_response_too_many),
       T_CASE(test_request_forms), T_CASE(test_request_malformed),
       T_CASE(test_malformed_responses), T_CASE(test_malformed_requests))
