/* InformationReport "RPT" codec against the golden captures 065-082 and
 * 149/150: every header field and member decoded, each report re-encoded
 * from its decoded content byte for byte, size function exact, malformed
 * reports (truncated, mutated, hand-broken) rejected without leaks. */
#include "t.h"
#include "mms/mms_report.h"
#include "mms/mms_data.h"
#include "ber/ber.h"

typedef struct golden {
    uint8_t *frame;
    size_t frame_len;
    const uint8_t *mms;
    size_t len;
} golden;

/* TPKT, COTP DT, session GT+DT, then presentation 61 { 30 { 02 ctx, a0 <MMS> } }. */
static golden g_load(const char *name)
{
    golden g;
    memset(&g, 0, sizeof g);
    g.frame = t_golden(name, &g.frame_len);
    size_t p = 4;
    if (g.frame_len < 16) { fprintf(stderr, "%s: short\n", name); exit(2); }
    p += (size_t)g.frame[p] + 1;
    p += 4;
    i61_ber_tlv t, c;
    i61_ber_reader r;
    if (i61_ber_parse(g.frame + p, g.frame_len - p, &t, NULL) != 0 || t.id != 0x61) goto bad;
    i61_ber_reader_sub(&r, &t);
    if (i61_ber_next(&r, &t) != 0 || t.id != 0x30) goto bad;
    i61_ber_reader_sub(&r, &t);
    if (i61_ber_next(&r, &c) != 0 || c.id != 0x02) goto bad;
    if (i61_ber_next(&r, &c) != 0 || c.id != 0xa0) goto bad;
    g.mms = c.val;
    g.len = c.len;
    return g;
bad:
    fprintf(stderr, "%s: no presentation data\n", name);
    exit(2);
}

static int str_eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static void hex6(const char *h, uint8_t out[6])
{
    for (int i = 0; i < 6; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

/* Encodes `r` again (values through i61_mms_data_encode) and compares with the
 * golden PDU; also checks the size function. */
static void check_reencode(const i61_rpt *r, const golden *g)
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
    i61_rpt_enc_member *m = calloc(r->n ? r->n : 1, sizeof *m);
    i61_buf *vals = calloc(r->n ? r->n : 1, sizeof *vals);
    for (size_t i = 0; i < r->n; i++) {
        i61_buf_init(&vals[i]);
        T_EQ_INT(i61_mms_data_encode(&vals[i], r->members[i].value), 0);
        m[i].index = r->members[i].index;
        m[i].ref = r->members[i].ref;
        m[i].data = vals[i].data;
        m[i].data_len = vals[i].len;
        m[i].reason = r->members[i].reason;
    }
    i61_buf b;
    i61_buf_init(&b);
    i61_buf_put(&b, "xy", 2);   /* the encoder appends */
    T_EQ_INT(i61_mms_encode_report(&b, &h, m, r->n), 0);
    T_EQ_MEM(b.data + 2, b.len - 2, g->mms, g->len);
    T_EQ_INT(i61_mms_report_size(&h, m, r->n), g->len);
    T_CHECK(memcmp(b.data, "xy", 2) == 0);
    i61_buf_free(&b);
    for (size_t i = 0; i < r->n; i++)
        i61_buf_free(&vals[i]);
    free(vals);
    free(m);
}

/* Members of the Events data set in 065..082 reports. */
static void check_ind1(const i61_value *v)
{
    T_EQ_INT(i61_value_type(v), I61_TYPE_STRUCTURE);
    T_EQ_INT(i61_value_count(v), 3);
    int b = 0;
    T_EQ_INT(i61_value_get_boolean(i61_value_element(v, 0), &b), 0);
    T_EQ_INT(b, 1);
    T_EQ_INT(i61_value_bit_size(i61_value_element(v, 1)), 13);
    T_EQ_INT(i61_value_type(i61_value_element(v, 2)), I61_TYPE_UTC_TIME);
}

static void check_anin1(const i61_value *v, double mag)
{
    T_EQ_INT(i61_value_type(v), I61_TYPE_STRUCTURE);
    T_EQ_INT(i61_value_count(v), 3);
    double d = 0;
    T_EQ_INT(i61_value_get_double(i61_value_element(i61_value_element(v, 0), 0), &d), 0);
    T_CHECK(d == mag);
}

static void test_065_urcb_dchg(void)
{
    golden g = g_load("065_report_urcb_dchg");
    T_CHECK(i61_mms_is_report(g.mms, g.len));
    i61_rpt r;
    T_EQ_INT(i61_mms_decode_report(g.mms, g.len, &r), 0);
    T_CHECK(str_eq(r.rpt_id, "urcb01RptID"));
    T_EQ_INT(r.opt_flds, I61_OPT_SEQ_NUM | I61_OPT_TIME_STAMP | I61_OPT_REASON |
             I61_OPT_DATA_SET | I61_OPT_DATA_REF | I61_OPT_CONF_REV);
    T_EQ_INT(r.seq_num, 0);
    T_CHECK(r.has_time);
    T_EQ_INT(i61_binary_time_to_ms(r.time), 1795245248916LL);   /* 2026-11-21 07:14:08.916 */
    T_CHECK(str_eq(r.dataset, "IED1LD1/LLN0$Events"));
    T_CHECK(!r.has_entry_id);
    T_CHECK(!r.buf_ovfl);
    T_EQ_INT(r.conf_rev, 1);
    T_EQ_INT(r.sub_seq_num, 0);
    T_CHECK(!r.more_segments);
    T_EQ_INT(r.dataset_size, 3);
    T_EQ_INT(r.n, 1);
    if (r.n == 1) {
        T_EQ_INT(r.members[0].index, 0);
        T_CHECK(str_eq(r.members[0].ref, "IED1LD1/GGIO1$ST$Ind1"));
        check_ind1(r.members[0].value);
        T_EQ_INT(r.members[0].reason, I61_REASON_DCHG);
    }
    check_reencode(&r, &g);
    i61_mms_report_clear(&r);
    T_CHECK(r.rpt_id == NULL && r.members == NULL && r.n == 0);
    free(g.frame);
}

static void test_068_urcb_gi(void)
{
    golden g = g_load("068_report_urcb_gi");
    i61_rpt r;
    T_EQ_INT(i61_mms_decode_report(g.mms, g.len, &r), 0);
    T_CHECK(str_eq(r.rpt_id, "urcb01RptID"));
    T_EQ_INT(r.seq_num, 1);
    T_CHECK(str_eq(r.dataset, "IED1LD1/LLN0$Events"));
    T_EQ_INT(r.dataset_size, 3);
    T_EQ_INT(r.n, 3);
    if (r.n == 3) {
        const char *refs[] = {"IED1LD1/GGIO1$ST$Ind1", "IED1LD1/GGIO1$MX$AnIn1",
                              "IED1LD1/GGIO1$ST$SPCSO1$stVal"};
        for (int i = 0; i < 3; i++) {
            T_EQ_INT(r.members[i].index, i);
            T_CHECK(str_eq(r.members[i].ref, refs[i]));
            T_EQ_INT(r.members[i].reason, I61_REASON_GI);
        }
        check_ind1(r.members[0].value);
        check_anin1(r.members[1].value, 12.5);
        int b = 1;
        T_EQ_INT(i61_value_get_boolean(r.members[2].value, &b), 0);
        T_EQ_INT(b, 0);
    }
    check_reencode(&r, &g);
    i61_mms_report_clear(&r);
    free(g.frame);
}

static void test_077_078_brcb_buffered(void)
{
    golden g = g_load("077_report_brcb_buffered_1");
    i61_rpt r;
    uint8_t eid[8] = {0x00, 0x00, 0x01, 0xa1, 0xfc, 0xf4, 0x63, 0x64};
    uint8_t t6[6];
    T_EQ_INT(i61_mms_decode_report(g.mms, g.len, &r), 0);
    T_CHECK(str_eq(r.rpt_id, "brcb01RptID"));
    T_EQ_INT(r.opt_flds, 0xff);          /* all but segmentation */
    T_EQ_INT(r.seq_num, 0);
    hex6("018d4b643d31", t6);
    T_EQ_MEM(r.time, 6, t6, 6);
    T_EQ_INT(i61_binary_time_to_ms(r.time), 1795245237092LL);
    T_CHECK(r.buf_ovfl);                 /* libiec61850 flags the first buffered report */
    T_CHECK(r.has_entry_id);
    T_EQ_MEM(r.entry_id, 8, eid, 8);
    T_EQ_INT(r.conf_rev, 1);
    T_EQ_INT(r.dataset_size, 3);
    T_EQ_INT(r.n, 1);
    if (r.n == 1) {
        T_EQ_INT(r.members[0].index, 1);  /* inclusion 010 */
        T_CHECK(str_eq(r.members[0].ref, "IED1LD1/GGIO1$MX$AnIn1"));
        check_anin1(r.members[0].value, 12.5);
        T_EQ_INT(r.members[0].reason, I61_REASON_DCHG);
    }
    check_reencode(&r, &g);
    i61_mms_report_clear(&r);
    free(g.frame);

    g = g_load("078_report_brcb_buffered_2");
    uint8_t eid2[8] = {0x00, 0x00, 0x01, 0xa1, 0xfc, 0xf4, 0x91, 0x94};
    T_EQ_INT(i61_mms_decode_report(g.mms, g.len, &r), 0);
    T_EQ_INT(r.seq_num, 1);
    T_CHECK(!r.buf_ovfl);
    T_EQ_MEM(r.entry_id, 8, eid2, 8);
    T_EQ_INT(r.n, 1);
    if (r.n == 1) {
        T_EQ_INT(r.members[0].index, 0);
        T_CHECK(str_eq(r.members[0].ref, "IED1LD1/GGIO1$ST$Ind1"));
        check_ind1(r.members[0].value);
    }
    check_reencode(&r, &g);
    i61_mms_report_clear(&r);
    free(g.frame);
}

static void test_081_082_brcb(void)
{
    golden g = g_load("081_report_brcb_gi");
    i61_rpt r;
    uint8_t eid[8] = {0x00, 0x00, 0x01, 0xa1, 0xfc, 0xf4, 0x9a, 0x6b};
    T_EQ_INT(i61_mms_decode_report(g.mms, g.len, &r), 0);
    T_CHECK(str_eq(r.rpt_id, "brcb01RptID"));
    T_EQ_INT(r.seq_num, 2);
    T_CHECK(!r.buf_ovfl);
    T_EQ_MEM(r.entry_id, 8, eid, 8);
    T_EQ_INT(r.n, 3);
    if (r.n == 3) {
        for (int i = 0; i < 3; i++) {
            T_EQ_INT(r.members[i].index, i);
            T_EQ_INT(r.members[i].reason, I61_REASON_GI);
        }
        T_CHECK(str_eq(r.members[2].ref, "IED1LD1/GGIO1$ST$SPCSO1$stVal"));
        check_anin1(r.members[1].value, 12.5);
    }
    check_reencode(&r, &g);
    i61_mms_report_clear(&r);
    free(g.frame);

    g = g_load("082_report_brcb_dchg");
    T_EQ_INT(i61_mms_decode_report(g.mms, g.len, &r), 0);
    T_EQ_INT(r.seq_num, 3);
    T_EQ_INT(r.n, 1);
    if (r.n == 1) {
        T_EQ_INT(r.members[0].index, 1);
        check_anin1(r.members[0].value, 42.25);
        T_EQ_INT(r.members[0].reason, I61_REASON_DCHG);
    }
    check_reencode(&r, &g);
    i61_mms_report_clear(&r);
    free(g.frame);
}

static void test_149_150_segmented(void)
{
    golden g = g_load("149_report_segmented_1");
    i61_rpt r;
    T_EQ_INT(i61_mms_decode_report(g.mms, g.len, &r), 0);
    T_CHECK(str_eq(r.rpt_id, "urcbBigRptID"));
    T_EQ_INT(r.opt_flds, I61_OPT_SEQ_NUM | I61_OPT_TIME_STAMP | I61_OPT_REASON |
             I61_OPT_DATA_SET | I61_OPT_DATA_REF | I61_OPT_CONF_REV | I61_OPT_SEGMENTATION);
    T_EQ_INT(r.seq_num, 0);
    T_CHECK(str_eq(r.dataset, "IED1LD1/LLN0$Big"));
    T_EQ_INT(r.conf_rev, 1);
    T_EQ_INT(r.sub_seq_num, 0);
    T_CHECK(r.more_segments);
    T_EQ_INT(r.dataset_size, 12);
    T_EQ_INT(r.n, 8);
    if (r.n == 8) {
        for (int i = 0; i < 8; i++) {
            T_EQ_INT(r.members[i].index, i);
            T_EQ_INT(r.members[i].reason, I61_REASON_GI);
        }
        T_CHECK(str_eq(r.members[0].ref, "IED1LD1/LLN0$ST$Mod"));
        T_CHECK(str_eq(r.members[3].ref, "IED1LD1/LLN0$DC$NamPlt"));
        T_CHECK(str_eq(r.members[7].ref, "IED1LD1/GGIO1$ST$SPCSO2"));
        size_t sl = 0;
        const uint8_t *s = i61_value_get_bytes(i61_value_element(r.members[3].value, 0), &sl);
        T_EQ_MEM(s, sl, "GoldVendor", 10);
    }
    check_reencode(&r, &g);
    i61_mms_report_clear(&r);
    free(g.frame);

    g = g_load("150_report_segmented_2");
    T_EQ_INT(i61_mms_decode_report(g.mms, g.len, &r), 0);
    T_EQ_INT(r.seq_num, 0);
    T_EQ_INT(r.sub_seq_num, 1);
    T_CHECK(!r.more_segments);
    T_EQ_INT(r.dataset_size, 12);
    T_EQ_INT(r.n, 4);
    if (r.n == 4) {
        for (int i = 0; i < 4; i++)
            T_EQ_INT(r.members[i].index, 8 + i);
        T_CHECK(str_eq(r.members[0].ref, "IED1LD1/GGIO1$ST$SPCSO3"));
        T_CHECK(str_eq(r.members[3].ref, "IED1LD1/PTOC1$SP$StrVal"));
        int64_t v = 0;
        T_EQ_INT(i61_value_get_int64(i61_value_element(r.members[2].value, 0), &v), 0);
        T_EQ_INT(v, 4);
    }
    check_reencode(&r, &g);
    i61_mms_report_clear(&r);
    free(g.frame);
}

/* Every strict prefix and every single-octet change: an error or a clean
 * decode, never a crash or a leak (ASan run). */
static void test_truncated_and_mutated(void)
{
    const char *names[] = {"065_report_urcb_dchg", "068_report_urcb_gi", "077_report_brcb_buffered_1",
                           "081_report_brcb_gi", "149_report_segmented_1"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        golden g = g_load(names[k]);
        uint8_t *copy = malloc(g.len);
        i61_rpt r;
        for (size_t n = 0; n < g.len; n++) {
            memcpy(copy, g.mms, n);
            int rc = i61_mms_decode_report(copy, n, &r);
            T_CHECK(rc == I61_ERR_MALFORMED_MESSAGE);
            T_CHECK(r.rpt_id == NULL && r.members == NULL);
            i61_mms_report_clear(&r);
            T_CHECK(!i61_mms_is_report(copy, n) || n >= 9);
        }
        static const uint8_t deltas[] = {0x01, 0x80, 0xff, 0x20};
        for (size_t i = 0; i < g.len; i++)
            for (size_t d = 0; d < sizeof deltas; d++) {
                memcpy(copy, g.mms, g.len);
                copy[i] = (uint8_t)(copy[i] ^ deltas[d]);
                int rc = i61_mms_decode_report(copy, g.len, &r);
                T_CHECK(rc == 0 || rc == I61_ERR_MALFORMED_MESSAGE);
                if (rc == 0)
                    T_CHECK(r.rpt_id != NULL && r.n <= r.dataset_size);
                i61_mms_report_clear(&r);
            }
        free(copy);
        free(g.frame);
    }
}

/* Build a PDU from hand-made list content: a3 { a0 { a1 "RPT", a0 { content } } }. */
static void wrap(i61_buf *b, const uint8_t *content, size_t n)
{
    i61_buf_reset(b);
    size_t m1 = i61_ber_open(b, 0xa3);
    size_t m2 = i61_ber_open(b, 0xa0);
    static const uint8_t name[] = {0xa1, 0x05, 0x80, 0x03, 'R', 'P', 'T'};
    i61_buf_put(b, name, sizeof name);
    i61_ber_put_tlv(b, 0xa0, content, n);
    i61_ber_close(b, m2);
    i61_ber_close(b, m1);
}

static int decode_content(const uint8_t *content, size_t n)
{
    i61_buf b;
    i61_buf_init(&b);
    wrap(&b, content, n);
    i61_rpt r;
    int rc = i61_mms_decode_report(b.data, b.len, &r);
    i61_mms_report_clear(&r);
    i61_buf_free(&b);
    return rc;
}

static void test_hand_broken(void)
{
    /* minimal valid: RptID "a", OptFlds none, inclusion 2 bits "10", one value */
    static const uint8_t ok[] = {0x8a, 0x01, 'a', 0x84, 0x03, 0x06, 0x00, 0x00,
                                 0x84, 0x02, 0x06, 0x80, 0x83, 0x01, 0x01};
    T_EQ_INT(decode_content(ok, sizeof ok), 0);
    /* value missing */
    T_EQ_INT(decode_content(ok, sizeof ok - 3), I61_ERR_MALFORMED_MESSAGE);
    /* one element too many */
    static const uint8_t extra[] = {0x8a, 0x01, 'a', 0x84, 0x03, 0x06, 0x00, 0x00,
                                    0x84, 0x02, 0x06, 0x80, 0x83, 0x01, 0x01, 0x83, 0x01, 0x00};
    T_EQ_INT(decode_content(extra, sizeof extra), I61_ERR_MALFORMED_MESSAGE);
    /* inclusion says two members, one value */
    static const uint8_t two[] = {0x8a, 0x01, 'a', 0x84, 0x03, 0x06, 0x00, 0x00,
                                  0x84, 0x02, 0x06, 0xc0, 0x83, 0x01, 0x01};
    T_EQ_INT(decode_content(two, sizeof two), I61_ERR_MALFORMED_MESSAGE);
    /* OptFlds seq-num set, but an octet string where SeqNum belongs */
    static const uint8_t seq[] = {0x8a, 0x01, 'a', 0x84, 0x03, 0x06, 0x40, 0x00,
                                  0x89, 0x01, 0x00, 0x84, 0x02, 0x06, 0x80, 0x83, 0x01, 0x01};
    T_EQ_INT(decode_content(seq, sizeof seq), I61_ERR_MALFORMED_MESSAGE);
    /* TimeOfEntry of 4 octets, EntryID of 7 octets */
    static const uint8_t tim[] = {0x8a, 0x01, 'a', 0x84, 0x03, 0x06, 0x20, 0x00,
                                  0x8c, 0x04, 0, 0, 0, 1, 0x84, 0x02, 0x06, 0x80, 0x83, 0x01, 0x01};
    T_EQ_INT(decode_content(tim, sizeof tim), I61_ERR_MALFORMED_MESSAGE);
    static const uint8_t eid[] = {0x8a, 0x01, 'a', 0x84, 0x03, 0x06, 0x00, 0x80,
                                  0x89, 0x07, 0, 0, 0, 0, 0, 0, 1, 0x84, 0x02, 0x06, 0x80, 0x83, 0x01, 0x01};
    T_EQ_INT(decode_content(eid, sizeof eid), I61_ERR_MALFORMED_MESSAGE);
    /* inclusion with 8 unused bits */
    static const uint8_t unused[] = {0x8a, 0x01, 'a', 0x84, 0x03, 0x06, 0x00, 0x00,
                                     0x84, 0x02, 0x08, 0x80, 0x83, 0x01, 0x01};
    T_EQ_INT(decode_content(unused, sizeof unused), I61_ERR_MALFORMED_MESSAGE);
    /* a value that is not Data ([0] failure) */
    static const uint8_t fail[] = {0x8a, 0x01, 'a', 0x84, 0x03, 0x06, 0x00, 0x00,
                                   0x84, 0x02, 0x06, 0x80, 0x80, 0x01, 0x03};
    T_EQ_INT(decode_content(fail, sizeof fail), I61_ERR_MALFORMED_MESSAGE);
    /* reasons option: 7-bit reason with application-trigger, and a 1-bit reason string */
    static const uint8_t app[] = {0x8a, 0x01, 'a', 0x84, 0x03, 0x06, 0x10, 0x00,
                                  0x84, 0x02, 0x06, 0x80, 0x83, 0x01, 0x01, 0x84, 0x02, 0x01, 0x02};
    i61_buf b;
    i61_buf_init(&b);
    wrap(&b, app, sizeof app);
    i61_rpt r;
    T_EQ_INT(i61_mms_decode_report(b.data, b.len, &r), 0);
    T_EQ_INT(r.n, 1);
    if (r.n == 1)
        T_EQ_INT(r.members[0].reason, I61_REASON_APP_TRIGGER);
    T_CHECK(r.dataset == NULL && !r.has_time);
    i61_mms_report_clear(&r);
    /* not "RPT": a CommandTermination-like report with a listOfVariable */
    static const uint8_t cmdterm[] = {0xa3, 0x0c, 0xa0, 0x0a, 0xa0, 0x03, 0x30, 0x01, 0x00,
                                      0xa0, 0x03, 0x83, 0x01, 0x01};
    T_CHECK(!i61_mms_is_report(cmdterm, sizeof cmdterm));
    T_EQ_INT(i61_mms_decode_report(cmdterm, sizeof cmdterm, &r), I61_ERR_MALFORMED_MESSAGE);
    i61_mms_report_clear(&r);
    /* trailing octet after the PDU */
    i61_buf_reset(&b);
    wrap(&b, ok, sizeof ok);
    T_CHECK(i61_mms_is_report(b.data, b.len));
    i61_buf_put_u8(&b, 0);
    T_EQ_INT(i61_mms_decode_report(b.data, b.len, &r), I61_ERR_MALFORMED_MESSAGE);
    i61_mms_report_clear(&r);
    i61_buf_free(&b);
}

/* Encoder on its own: every option, long lengths, argument checks. */
static void test_encode_roundtrip_large(void)
{
    enum { N = 2000 };
    i61_rpt_hdr h;
    memset(&h, 0, sizeof h);
    h.rpt_id = "LD0/LLN0.BR.brcbA01";
    h.opt_flds = 0x1ff;
    h.seq_num = 40000;
    i61_binary_time_from_ms(1700000000123LL, h.time);
    h.dataset = "LD0/LLN0$Big";
    h.buf_ovfl = true;
    memcpy(h.entry_id, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    h.conf_rev = 0x80000000u;
    h.sub_seq_num = 3;
    h.more_segments = true;
    h.dataset_size = 7000;
    static i61_rpt_enc_member m[N];
    static char refs[N][40];
    i61_buf vals;
    i61_buf_init(&vals);
    size_t offs[N];
    for (int i = 0; i < N; i++) {
        i61_value *v = i61_value_new_float((float)i);
        offs[i] = vals.len;
        T_EQ_INT(i61_mms_data_encode(&vals, v), 0);
        i61_value_free(v);
        snprintf(refs[i], sizeof refs[i], "LD0/GGIO1$MX$AnIn%d$mag$f", i);
    }
    for (int i = 0; i < N; i++) {
        m[i].index = (uint32_t)(i * 3 + 1);
        m[i].ref = refs[i];
        m[i].data = vals.data + offs[i];
        m[i].data_len = (i + 1 < N ? offs[i + 1] : vals.len) - offs[i];
        m[i].reason = (i % 7 == 0) ? I61_REASON_APP_TRIGGER : (1 << (i % 5));
    }
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_encode_report(&b, &h, m, N), 0);
    T_EQ_INT(i61_mms_report_size(&h, m, N), b.len);
    T_CHECK(b.len > 0x10000);
    i61_rpt r;
    T_EQ_INT(i61_mms_decode_report(b.data, b.len, &r), 0);
    T_CHECK(str_eq(r.rpt_id, h.rpt_id));
    T_EQ_INT(r.opt_flds, 0x1ff);
    T_EQ_INT(r.seq_num, 40000);
    T_EQ_INT(i61_binary_time_to_ms(r.time), 1700000000123LL);
    T_CHECK(str_eq(r.dataset, h.dataset));
    T_CHECK(r.buf_ovfl);
    T_EQ_MEM(r.entry_id, 8, h.entry_id, 8);
    T_EQ_INT(r.conf_rev, 0x80000000u);
    T_EQ_INT(r.sub_seq_num, 3);
    T_CHECK(r.more_segments);
    T_EQ_INT(r.dataset_size, 7000);
    T_EQ_INT(r.n, N);
    if (r.n == N)
        for (int i = 0; i < N; i++) {
            T_EQ_INT(r.members[i].index, i * 3 + 1);
            T_CHECK(str_eq(r.members[i].ref, refs[i]));
            T_EQ_INT(r.members[i].reason, m[i].reason);
            double d = -1;
            i61_value_get_double(r.members[i].value, &d);
            T_CHECK(d == (double)i);
        }
    i61_mms_report_clear(&r);

    /* sizes exact at the short/long length boundaries */
    for (size_t n = 0; n < 40; n++) {
        h.opt_flds = I61_OPT_DATA_REF | I61_OPT_REASON;
        i61_buf_reset(&b);
        T_EQ_INT(i61_mms_encode_report(&b, &h, m, n), 0);
        T_EQ_INT(i61_mms_report_size(&h, m, n), b.len);
        T_EQ_INT(i61_mms_decode_report(b.data, b.len, &r), 0);
        T_EQ_INT(r.n, n);
        T_CHECK(r.dataset == NULL && !r.has_time && !r.has_entry_id);
        i61_mms_report_clear(&r);
    }

    /* argument errors */
    i61_rpt_enc_member bad[2] = {m[1], m[0]};                  /* not ascending */
    size_t before = b.len;
    T_EQ_INT(i61_mms_encode_report(&b, &h, bad, 2), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_mms_report_size(&h, bad, 2), 0);
    bad[0] = m[0];
    bad[0].index = 7000;                                       /* out of range */
    T_EQ_INT(i61_mms_encode_report(&b, &h, bad, 1), I61_ERR_INVALID_ARGUMENT);
    bad[0] = m[0];
    bad[0].ref = NULL;                                         /* ref missing with data-ref */
    T_EQ_INT(i61_mms_encode_report(&b, &h, bad, 1), I61_ERR_INVALID_ARGUMENT);
    h.opt_flds = I61_OPT_DATA_SET;
    h.dataset = NULL;
    T_EQ_INT(i61_mms_encode_report(&b, &h, m, 1), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(b.len, before);
    i61_buf_free(&b);
    i61_buf_free(&vals);
}

static void test_binary_time(void)
{
    uint8_t t[6];
    i61_binary_time_from_ms(441763200000LL, t);              /* 1984-01-01 00:00 */
    static const uint8_t zero[6] = {0};
    T_EQ_MEM(t, 6, zero, 6);
    i61_binary_time_from_ms(1000, t);                         /* before 1984: clamped */
    T_EQ_MEM(t, 6, zero, 6);
    i61_binary_time_from_ms(1795245248916LL, t);
    uint8_t g[6];
    hex6("018d79943d31", g);
    T_EQ_MEM(t, 6, g, 6);
    T_EQ_INT(i61_binary_time_to_ms(g), 1795245248916LL);
}

T_MAIN(T_CASE(test_065_urcb_dchg), T_CASE(test_068_urcb_gi), T_CASE(test_077_078_brcb_buffered),
       T_CASE(test_081_082_brcb), T_CASE(test_149_150_segmented),
       T_CASE(test_truncated_and_mutated), T_CASE(test_hand_broken),
       T_CASE(test_encode_roundtrip_large), T_CASE(test_binary_time))
