/* Server connection engine without sockets: golden client frames in, the
 * server's frames out, compared with the golden server frames byte for byte
 * (PROTOCOL.md, golden/INDEX.md). Also refusals, hostile input, deferred
 * read/write hooks, outstanding-request limit. */
#include "t.h"
#include "test_server_fixture.h"
#include "server/server_internal.h"
#include "iso/iso_conn.h"
#include "net/loop.h"

/* Our ServicesSupportedCalled: status, getNameList, identify, read, write,
 * GVAA, informationReport, conclude. */
static const uint8_t our_services[11] = {0xee, 0x1c, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x10};

static i61_server *new_server(void)
{
    i61_server *s = i61_server_new(fx_golden_model());
    T_CHECK(s != NULL);
    T_EQ_INT(i61_server_set_identity(s, "GoldVendor", "GoldModel", "1.0"), 0);
    T_EQ_INT(i61_server_set_write_access(s, I61_FC_DC, 1), 0);
    return s;
}

/* Feeds a golden frame; the engine must not ask to close. */
static void feed(i61_sconn *c, const char *golden)
{
    size_t len;
    uint8_t *f = t_golden(golden, &len);
    T_EQ_INT(i61_sconn_feed(c, f, len), 0);
    free(f);
}

/* The engine's output must be exactly `golden`; consumes it. */
static void expect(i61_sconn *c, const char *golden)
{
    size_t len;
    uint8_t *f = t_golden(golden, &len);
    T_EQ_MEM(c->out.data, c->out.len, f, len);
    if (c->out.len != len || memcmp(c->out.data, f, len) != 0)
        fprintf(stderr, "  (%s)\n", golden);
    free(f);
    i61_sconn_consume_out(c, c->out.len);
}

static void exchange(i61_sconn *c, const char *req, const char *resp)
{
    feed(c, req);
    expect(c, resp);
}

/* The golden initiate response with our services octets. */
static void expect_initiate(i61_sconn *c, const char *golden)
{
    size_t len;
    uint8_t *f = t_golden(golden, &len);
    static const uint8_t server_services[] = {0x82, 0x0c, 0x03, 0xee, 0x1c, 0x00, 0x00, 0x00,
                                              0x02, 0x00, 0x00, 0x40, 0xed, 0x18};
    uint8_t *at = memmem(f, len, server_services, sizeof server_services);
    T_CHECK(at != NULL);
    if (at)
        memcpy(at + 3, our_services, sizeof our_services);
    T_EQ_MEM(c->out.data, c->out.len, f, len);
    free(f);
    i61_sconn_consume_out(c, c->out.len);
}

static void associate(i61_sconn *c)
{
    exchange(c, "001_cotp_cr", "002_cotp_cc");
    feed(c, "003_initiate_request");
    expect_initiate(c, "004_initiate_response");
    T_EQ_INT(c->state, I61_SC_ASSOCIATED);
    T_EQ_INT(c->max_pdu, 65000);
    T_EQ_INT(c->max_outstanding, 5);
}

/* MMS PDU of the engine's single output frame. */
static const uint8_t *out_mms(i61_sconn *c, size_t *len)
{
    return fx_mms_pdu(c->out.data, c->out.len, len);
}

/* --------------------------------------------------------- golden session */

static void test_golden_connection_a(void)
{
    i61_server *s = new_server();
    i61_sconn c;
    i61_sconn_init(&c, s, 1, false);
    associate(&c);
    exchange(&c, "005_identify_request", "006_identify_response");
    exchange(&c, "007_getnamelist_domains_request", "008_getnamelist_domains_response");

    /* 010: same 158 names, same frame size (libiec61850 lists urcbBig before urcb01) */
    feed(&c, "009_getnamelist_variables_request");
    size_t glen;
    uint8_t *g = t_golden("010_getnamelist_variables_response", &glen);
    T_EQ_INT(c.out.len, glen);
    T_EQ_MEM(c.out.data, 0x29, g, 0x29);                 /* headers up to the first name */
    T_EQ_MEM(c.out.data + glen - 3, 3, g + glen - 3, 3);  /* moreFollows FALSE */
    free(g);
    i61_sconn_consume_out(&c, c.out.len);

    /* 012: no named variable lists yet -> an empty list */
    feed(&c, "011_getnamelist_nvl_request");
    size_t ml = 0;
    const uint8_t *m = out_mms(&c, &ml);
    static const uint8_t empty_list[] = {0xa1, 0x0a, 0x02, 0x01, 0x04, 0xa1, 0x05, 0xa0, 0x00,
                                         0x81, 0x01, 0x00};
    T_EQ_MEM(m, ml, empty_list, sizeof empty_list);
    i61_sconn_consume_out(&c, c.out.len);

    exchange(&c, "013_gvaa_mv_request", "014_gvaa_mv_response");
    exchange(&c, "015_read_float_request", "016_read_float_response");
    exchange(&c, "017_read_struct_mv_request", "018_read_struct_mv_response");
    exchange(&c, "019_read_struct_sps_request", "020_read_struct_sps_response");
    exchange(&c, "021_read_multi_request", "022_read_multi_response");
    exchange(&c, "023_write_string_request", "024_write_string_response");
    exchange(&c, "025_write_float_request", "026_write_float_response");
    exchange(&c, "027_write_denied_request", "028_write_denied_response");
    exchange(&c, "029_write_nonexistent_request", "030_write_nonexistent_response");
    exchange(&c, "031_read_nonexistent_request", "032_read_nonexistent_response");

    /* data set read: not supported yet -> confirmed-Error access/object-non-existent */
    feed(&c, "033_read_dataset_request");
    m = out_mms(&c, &ml);
    static const uint8_t nvl_err[] = {0xa2, 0x0a, 0x80, 0x01, 0x11, 0xa2, 0x05, 0xa0, 0x03,
                                      0x87, 0x01, 0x02};
    T_EQ_MEM(m, ml, nvl_err, sizeof nvl_err);
    i61_sconn_consume_out(&c, c.out.len);

    exchange(&c, "049_gvaa_urcb_request", "050_gvaa_urcb_response");
    exchange(&c, "051_gvaa_brcb_request", "052_gvaa_brcb_response");
    exchange(&c, "053_gvaa_oper_request", "054_gvaa_oper_response");
    exchange(&c, "055_gvaa_sbow_request", "056_gvaa_sbow_response");
    exchange(&c, "057_gvaa_cancel_request", "058_gvaa_cancel_response");
    exchange(&c, "059_gvaa_lln0_request", "060_gvaa_lln0_response");
    exchange(&c, "085_read_ctlmodel_request", "086_read_ctlmodel_response");
    exchange(&c, "087_gvaa_co_spc_request", "088_gvaa_co_spc_response");
    exchange(&c, "089_gvaa_co_spc_sbo_request", "090_gvaa_co_spc_sbo_response");
    exchange(&c, "116_filerename_request", "117_filerename_reject");
    exchange(&c, "132_status_request", "133_status_response");
    exchange(&c, "151_unsupported_service_request", "152_reject_unrecognized_service");

    /* 153: a request without a service element gets a reject (libiec61850 was silent) */
    feed(&c, "153_malformed_request_no_reply");
    m = out_mms(&c, &ml);
    static const uint8_t rej153[] = {0xa4, 0x06, 0x80, 0x01, 0x64, 0x85, 0x01, 0x01};
    T_EQ_MEM(m, ml, rej153, sizeof rej153);
    i61_sconn_consume_out(&c, c.out.len);

    exchange(&c, "134_conclude_request", "135_conclude_response");
    exchange(&c, "136_release_rlrq", "137_release_rlre");
    T_CHECK(c.close_after_flush);
    T_EQ_INT(c.state, I61_SC_CLOSING);
    T_EQ_INT(c.outstanding, 0);
    i61_sconn_free(&c);
    i61_server_free(s);
}

/* Connection C: max PDU 512, GetNameList continuation (141-146). */
static void test_golden_continuation_c(void)
{
    i61_server *s = new_server();
    i61_sconn c;
    i61_sconn_init(&c, s, 3, false);
    exchange(&c, "001_cotp_cr", "002_cotp_cc");
    feed(&c, "139_initiate_small_request");
    expect_initiate(&c, "140_initiate_small_response");
    T_EQ_INT(c.max_pdu, 512);
    exchange(&c, "141_getnamelist_cont1_request", "142_getnamelist_cont1_response");
    exchange(&c, "143_getnamelist_cont2_request", "144_getnamelist_cont2_response");
    exchange(&c, "145_getnamelist_cont8_request", "146_getnamelist_cont8_response");
    i61_sconn_free(&c);
    i61_server_free(s);
}

/* Connection B: abort. */
static void test_abort_b(void)
{
    i61_server *s = new_server();
    i61_sconn c;
    i61_sconn_init(&c, s, 2, false);
    associate(&c);
    size_t len;
    uint8_t *f = t_golden("138_abort_abrt", &len);
    T_EQ_INT(i61_sconn_feed(&c, f, len), -1);
    T_CHECK(c.close_now);
    T_EQ_INT(c.out.len, 0);                              /* an abort is not answered */
    free(f);
    i61_sconn_free(&c);
    i61_server_free(s);
}

/* A response larger than one TPDU is split into DTs (EOT only on the last). */
static void test_cotp_segmentation(void)
{
    i61_model *m = i61_model_new("IEDS");
    i61_mnode *ld, *ln;
    FX_OK(i61_model_add_ld(m, "LD", NULL, &ld));
    FX_OK(i61_model_add_ln(ld, "GGIO2", &ln));
    char name[16];
    for (int i = 1; i <= 160; i++) {
        snprintf(name, sizeof name, "Ind%d", i);
        fx_st_triplet(fx_do(ln, name), I61_TYPE_BOOLEAN, 0);
    }
    i61_server *s = i61_server_new(m);
    i61_sconn c;
    i61_sconn_init(&c, s, 1, false);
    associate(&c);
    i61_buf req;
    i61_buf_init(&req);
    T_EQ_INT(i61_mms_enc_get_name_list_req(&req, 1, 0, 1, "IEDSLD", NULL), 0);
    i61_buf fr;
    i61_buf_init(&fr);
    uint8_t hdr[I61_ISO_DATA_HDR_MAX];
    size_t hl = i61_iso_data_header(hdr, req.len);
    T_EQ_INT(i61_cotp_write_data(&fr, 8192, hdr, hl, req.data, req.len), 0);
    T_EQ_INT(i61_sconn_feed(&c, fr.data, fr.len), 0);
    /* 642 names, > 8189 octets: several frames, each at most 8196 octets */
    size_t off = 0, frames = 0, total = 0;
    int last_eot = 0;
    while (off + 7 <= c.out.len) {
        size_t flen = (size_t)c.out.data[off + 2] << 8 | c.out.data[off + 3];
        T_CHECK(flen <= 8196);
        last_eot = c.out.data[off + 6] == 0x80;
        if (off + flen < c.out.len)
            T_EQ_INT(c.out.data[off + 6], 0x00);
        total += flen - 7;
        off += flen;
        frames++;
    }
    T_EQ_INT(off, c.out.len);
    T_CHECK(frames >= 2);
    T_CHECK(last_eot);
    T_CHECK(total > 8189);
    i61_buf_free(&req);
    i61_buf_free(&fr);
    i61_sconn_free(&c);
    i61_server_free(s);
}

/* ---------------------------------------------------------- refusals */

static uint8_t *patched(const char *golden, size_t *len, const uint8_t *find, size_t flen,
                        size_t at, uint8_t v)
{
    uint8_t *f = t_golden(golden, len);
    uint8_t *p = memmem(f, *len, find, flen);
    T_CHECK(p != NULL);
    if (p)
        p[at] = v;
    return f;
}

static void test_refuse_class2_cr(void)
{
    i61_server *s = new_server();
    i61_sconn c;
    i61_sconn_init(&c, s, 1, false);
    size_t len;
    static const uint8_t cr_hdr[] = {0x11, 0xe0, 0x00, 0x00, 0x00, 0x01, 0x00};
    uint8_t *f = patched("001_cotp_cr", &len, cr_hdr, sizeof cr_hdr, 6, 0x20);
    T_EQ_INT(i61_sconn_feed(&c, f, len), 0);
    free(f);
    /* DR: dst-ref 1 (peer's), src-ref ours, reason 130 negotiation failed */
    static const uint8_t dr[] = {0x03, 0x00, 0x00, 0x0b, 0x06, 0x80, 0x00, 0x01, 0x00, 0x01, 0x82};
    T_EQ_MEM(c.out.data, c.out.len, dr, sizeof dr);
    T_CHECK(c.close_after_flush);
    i61_sconn_free(&c);
    i61_server_free(s);
}

static void test_refuse_over_limit(void)
{
    i61_server *s = new_server();
    i61_sconn c;
    i61_sconn_init(&c, s, 1, true);
    feed(&c, "001_cotp_cr");
    static const uint8_t dr[] = {0x03, 0x00, 0x00, 0x0b, 0x06, 0x80, 0x00, 0x01, 0x00, 0x01, 0x01};
    T_EQ_MEM(c.out.data, c.out.len, dr, sizeof dr);
    T_CHECK(c.close_after_flush);
    i61_sconn_free(&c);
    i61_server_free(s);
}

/* AARE result of an AC frame: returns the result value or -1. */
static int aare_result(i61_sconn *c)
{
    static const uint8_t aare_res[] = {0xa2, 0x03, 0x02, 0x01};
    uint8_t *p = memmem(c->out.data, c->out.len, aare_res, sizeof aare_res);
    return p ? p[4] : -1;
}

static void test_refuse_bad_association(void)
{
    size_t len;
    /* wrong application context 1.0.9506.2.9 -> AARE rejected-permanent, diag 2 */
    {
        i61_server *s = new_server();
        i61_sconn c;
        i61_sconn_init(&c, s, 1, false);
        exchange(&c, "001_cotp_cr", "002_cotp_cc");
        static const uint8_t ctx[] = {0xa1, 0x07, 0x06, 0x05, 0x28, 0xca, 0x22, 0x02, 0x03};
        uint8_t *f = patched("003_initiate_request", &len, ctx, sizeof ctx, 8, 0x09);
        T_EQ_INT(i61_sconn_feed(&c, f, len), 0);
        free(f);
        T_EQ_INT(c.out.data[7], 0x0e);                   /* session AC */
        T_EQ_INT(aare_result(&c), 1);
        static const uint8_t diag2[] = {0xa3, 0x05, 0xa1, 0x03, 0x02, 0x01, 0x02};
        T_CHECK(memmem(c.out.data, c.out.len, diag2, sizeof diag2) != NULL);
        T_CHECK(c.close_after_flush);
        T_CHECK(c.state != I61_SC_ASSOCIATED);
        i61_sconn_free(&c);
        i61_server_free(s);
    }
    /* unknown MMS abstract syntax -> context provider-rejected + AARE rejected */
    {
        i61_server *s = new_server();
        i61_sconn c;
        i61_sconn_init(&c, s, 1, false);
        exchange(&c, "001_cotp_cr", "002_cotp_cc");
        static const uint8_t as[] = {0x02, 0x01, 0x03, 0x06, 0x05, 0x28, 0xca, 0x22, 0x02, 0x01};
        uint8_t *f = patched("003_initiate_request", &len, as, sizeof as, 9, 0x09);
        T_EQ_INT(i61_sconn_feed(&c, f, len), 0);
        free(f);
        T_EQ_INT(c.out.data[7], 0x0e);
        T_EQ_INT(aare_result(&c), 1);
        /* result provider-rejection, reason abstract-syntax-not-supported */
        static const uint8_t rejected[] = {0x30, 0x06, 0x80, 0x01, 0x02, 0x82, 0x01, 0x01};
        T_CHECK(memmem(c.out.data, c.out.len, rejected, sizeof rejected) != NULL);
        T_CHECK(c.close_after_flush);
        i61_sconn_free(&c);
        i61_server_free(s);
    }
    /* initiate proposing 0 outstanding calls -> initiate-Error inside a rejecting AARE */
    {
        i61_server *s = new_server();
        i61_sconn c;
        i61_sconn_init(&c, s, 1, false);
        exchange(&c, "001_cotp_cr", "002_cotp_cc");
        static const uint8_t outst[] = {0x81, 0x01, 0x05, 0x82, 0x01, 0x05};
        uint8_t *f = patched("003_initiate_request", &len, outst, sizeof outst, 2, 0x00);
        T_EQ_INT(i61_sconn_feed(&c, f, len), 0);
        free(f);
        T_EQ_INT(aare_result(&c), 1);
        static const uint8_t ierr[] = {0xaa};              /* initiate-ErrorPDU */
        size_t alen = c.out.len;
        T_CHECK(alen > 0 && memmem(c.out.data, alen, ierr, 1) != NULL);
        T_CHECK(c.close_after_flush);
        i61_sconn_free(&c);
        i61_server_free(s);
    }
    /* no ACSE context at all -> session RF */
    {
        i61_server *s = new_server();
        i61_sconn c;
        i61_sconn_init(&c, s, 1, false);
        exchange(&c, "001_cotp_cr", "002_cotp_cc");
        static const uint8_t acse_as[] = {0x06, 0x04, 0x52, 0x01, 0x00, 0x01};
        uint8_t *f = patched("003_initiate_request", &len, acse_as, sizeof acse_as, 5, 0x07);
        T_EQ_INT(i61_sconn_feed(&c, f, len), 0);
        free(f);
        T_EQ_INT(c.out.data[7], 0x0c);                   /* session RF */
        T_CHECK(c.close_after_flush);
        i61_sconn_free(&c);
        i61_server_free(s);
    }
}

/* ---------------------------------------------------------- hostile input */

static void test_hostile_frames(void)
{
    /* garbage before CR: closed at once */
    {
        i61_server *s = new_server();
        i61_sconn c;
        i61_sconn_init(&c, s, 1, false);
        const char *http = "GET / HTTP/1.1\r\n\r\n";
        T_EQ_INT(i61_sconn_feed(&c, (const uint8_t *)http, strlen(http)), -1);
        T_EQ_INT(c.out.len, 0);
        i61_sconn_free(&c);
        i61_server_free(s);
    }
    /* half a TPKT: waits without output, then the rest completes it */
    {
        i61_server *s = new_server();
        i61_sconn c;
        i61_sconn_init(&c, s, 1, false);
        size_t len;
        uint8_t *f = t_golden("001_cotp_cr", &len);
        for (size_t i = 0; i < len; i++) {
            T_EQ_INT(i61_sconn_feed(&c, f + i, 1), 0);
            if (i + 1 < len)
                T_EQ_INT(c.out.len, 0);
        }
        free(f);
        expect(&c, "002_cotp_cc");
        i61_sconn_free(&c);
        i61_server_free(s);
    }
    /* data before the association: DR protocol error */
    {
        i61_server *s = new_server();
        i61_sconn c;
        i61_sconn_init(&c, s, 1, false);
        exchange(&c, "001_cotp_cr", "002_cotp_cc");
        feed(&c, "015_read_float_request");
        T_EQ_INT(c.out.data[5], 0x80);                   /* DR */
        T_EQ_INT(c.out.data[10], 133);
        T_CHECK(c.close_after_flush);
        i61_sconn_free(&c);
        i61_server_free(s);
    }
    /* associated: a bad TPKT version aborts (session AB) */
    {
        i61_server *s = new_server();
        i61_sconn c;
        i61_sconn_init(&c, s, 1, false);
        associate(&c);
        static const uint8_t bad[] = {0x05, 0x00, 0x00, 0x08, 0x02, 0xf0, 0x80, 0x00};
        T_EQ_INT(i61_sconn_feed(&c, bad, sizeof bad), 0);
        T_EQ_INT(c.out.data[7], 0x19);                   /* session AB */
        T_CHECK(c.close_after_flush);
        i61_sconn_free(&c);
        i61_server_free(s);
    }
    /* associated: MMS garbage inside a good frame gets a reject, the association stays */
    {
        i61_server *s = new_server();
        i61_sconn c;
        i61_sconn_init(&c, s, 1, false);
        associate(&c);
        static const uint8_t junk[] = {0x0c, 0x03, 0x01, 0x02, 0x03};
        uint8_t hdr[I61_ISO_DATA_HDR_MAX];
        size_t hl = i61_iso_data_header(hdr, sizeof junk);
        i61_buf fr;
        i61_buf_init(&fr);
        T_EQ_INT(i61_cotp_write_data(&fr, 8192, hdr, hl, junk, sizeof junk), 0);
        T_EQ_INT(i61_sconn_feed(&c, fr.data, fr.len), 0);
        size_t ml = 0;
        const uint8_t *m = out_mms(&c, &ml);
        static const uint8_t rej[] = {0xa4, 0x03, 0x85, 0x01, 0x00};   /* pdu-error unknown-pdu-type */
        T_EQ_MEM(m, ml, rej, sizeof rej);
        T_EQ_INT(c.state, I61_SC_ASSOCIATED);
        i61_sconn_consume_out(&c, c.out.len);
        exchange(&c, "015_read_float_request", "016_read_float_response");
        i61_buf_free(&fr);
        i61_sconn_free(&c);
        i61_server_free(s);
    }
    /* associated: a TSDU beyond the negotiated size aborts */
    {
        i61_server *s = new_server();
        i61_sconn c;
        i61_sconn_init(&c, s, 1, false);
        exchange(&c, "001_cotp_cr", "002_cotp_cc");
        feed(&c, "139_initiate_small_request");
        i61_sconn_consume_out(&c, c.out.len);
        uint8_t big[8000];
        memset(big, 0x30, sizeof big);
        i61_buf fr;
        i61_buf_init(&fr);
        T_EQ_INT(i61_cotp_write_data(&fr, 8192, big, sizeof big, NULL, 0), 0);
        T_EQ_INT(i61_sconn_feed(&c, fr.data, fr.len), 0);
        T_EQ_INT(c.out.data[7], 0x19);
        T_CHECK(c.close_after_flush);
        i61_buf_free(&fr);
        i61_sconn_free(&c);
        i61_server_free(s);
    }
}

/* Every truncation of every golden client frame, fed to fresh engines in
 * every state: never crashes (run under ASan), always ends in a defined state. */
static void test_truncations(void)
{
    static const char *frames[] = {"001_cotp_cr", "003_initiate_request", "015_read_float_request",
                                   "021_read_multi_request", "025_write_float_request",
                                   "063_write_urcb_enable_request", "141_getnamelist_cont1_request",
                                   "136_release_rlrq", "138_abort_abrt"};
    i61_server *s = new_server();
    for (size_t k = 0; k < sizeof frames / sizeof frames[0]; k++) {
        size_t len;
        uint8_t *f = t_golden(frames[k], &len);
        for (size_t cut = 4; cut < len; cut++) {
            uint8_t *g = malloc(len);
            memcpy(g, f, len);
            /* announce the cut length in TPKT so that the frame is "complete" */
            g[2] = (uint8_t)(cut >> 8);
            g[3] = (uint8_t)cut;
            for (int st = 0; st < 2; st++) {
                i61_sconn c;
                i61_sconn_init(&c, s, 1, false);
                if (st == 1)
                    associate(&c);
                i61_sconn_feed(&c, g, cut);
                T_CHECK(c.close_now || c.close_after_flush || c.state == I61_SC_ASSOCIATED ||
                        c.state == I61_SC_WAIT_CR || c.state == I61_SC_WAIT_CN);
                i61_sconn_free(&c);
            }
            free(g);
        }
        free(f);
    }
    i61_server_free(s);
}

/* ------------------------------------------------------- deferred hooks */

typedef struct hook_rec {
    int calls;
    uint64_t token;
    char ref[130];
    int fc;
    int answer;
    double value;
} hook_rec;

static int write_hook(void *ud, uint64_t token, uint32_t conn, const char *ref, int fc,
                      const i61_value *v)
{
    hook_rec *h = ud;
    (void)conn;
    h->calls++;
    h->token = token;
    snprintf(h->ref, sizeof h->ref, "%s", ref);
    h->fc = fc;
    h->value = 0;
    i61_value_get_double(v, &h->value);
    return h->answer;
}

static int read_hook(void *ud, uint64_t token, uint32_t conn, const char *ref, int fc)
{
    hook_rec *h = ud;
    (void)conn;
    h->calls++;
    h->token = token;
    snprintf(h->ref, sizeof h->ref, "%s", ref);
    h->fc = fc;
    return h->answer;
}

static double model_float(i61_server *s, const char *ref)
{
    i61_value *v = NULL;
    double d = -1;
    if (i61_model_get_value(i61_server_model(s), ref, I61_FC_NONE, &v) == 0)
        i61_value_get_double(v, &d);
    i61_value_free(v);
    return d;
}

static void test_deferred_write(void)
{
    i61_server *s = new_server();
    hook_rec h = {0};
    h.answer = I61_HOOK_DEFER;
    T_EQ_INT(i61_server_set_write_hook(s, "IED1LD1/PTOC1.StrVal", I61_FC_SP, write_hook, &h), 0);
    i61_sconn c;
    i61_sconn_init(&c, s, 7, false);
    associate(&c);

    /* deferred, then accepted: the golden success answer, value applied */
    feed(&c, "025_write_float_request");
    T_EQ_INT(h.calls, 1);
    T_CHECK(strcmp(h.ref, "IED1LD1/PTOC1.StrVal.setMag.f") == 0);
    T_EQ_INT(h.fc, I61_FC_SP);
    T_CHECK(h.value == 1.5);
    T_EQ_INT(c.out.len, 0);
    T_EQ_INT(c.outstanding, 1);
    T_CHECK(model_float(s, "IED1LD1/PTOC1.StrVal.setMag.f") == 0.0);
    /* other requests are served meanwhile */
    exchange(&c, "015_read_float_request", "016_read_float_response");
    T_EQ_INT(i61_server_complete_write(s, h.token, I61_HOOK_ACCEPT), 0);
    T_EQ_INT(c.out.len, 0);                              /* answered on the I/O thread */
    i61_srv_run_ready(s);
    expect(&c, "026_write_float_response");
    T_EQ_INT(c.outstanding, 0);
    T_CHECK(model_float(s, "IED1LD1/PTOC1.StrVal.setMag.f") == 1.5);
    T_EQ_INT(i61_server_complete_write(s, h.token, I61_HOOK_ACCEPT), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_server_complete_read(s, h.token, I61_HOOK_ACCEPT), I61_ERR_OBJECT_DOES_NOT_EXIST);

    /* deferred, then refused with object-access-denied: the 028-shaped answer, no change */
    feed(&c, "025_write_float_request");
    T_EQ_INT(h.calls, 2);
    T_EQ_INT(i61_server_complete_write(s, h.token, 42), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_server_complete_write(s, h.token, 3), 0);
    i61_srv_run_ready(s);
    size_t ml = 0;
    const uint8_t *m = out_mms(&c, &ml);
    static const uint8_t denied13[] = {0xa1, 0x08, 0x02, 0x01, 0x0d, 0xa5, 0x03, 0x80, 0x01, 0x03};
    T_EQ_MEM(m, ml, denied13, sizeof denied13);
    i61_sconn_consume_out(&c, c.out.len);

    /* immediate answers from the hook */
    h.answer = 11;
    feed(&c, "025_write_float_request");
    m = out_mms(&c, &ml);
    static const uint8_t invalid13[] = {0xa1, 0x08, 0x02, 0x01, 0x0d, 0xa5, 0x03, 0x80, 0x01, 0x0b};
    T_EQ_MEM(m, ml, invalid13, sizeof invalid13);
    i61_sconn_consume_out(&c, c.out.len);
    h.answer = I61_HOOK_ACCEPT;
    exchange(&c, "025_write_float_request", "026_write_float_response");
    T_EQ_INT(c.outstanding, 0);

    /* hook timeout: temporarily-unavailable */
    h.answer = I61_HOOK_DEFER;
    feed(&c, "025_write_float_request");
    T_EQ_INT(c.out.len, 0);
    i61_srv_sweep_timeouts(s, i61_mono_ms() + 60000);
    m = out_mms(&c, &ml);
    static const uint8_t unavail13[] = {0xa1, 0x08, 0x02, 0x01, 0x0d, 0xa5, 0x03, 0x80, 0x01, 0x02};
    T_EQ_MEM(m, ml, unavail13, sizeof unavail13);
    i61_sconn_consume_out(&c, c.out.len);
    T_EQ_INT(i61_server_complete_write(s, h.token, I61_HOOK_ACCEPT), I61_ERR_OBJECT_DOES_NOT_EXIST);

    /* connection lost while deferred */
    feed(&c, "025_write_float_request");
    i61_srv_conn_gone(s, &c);
    T_EQ_INT(i61_server_complete_write(s, h.token, I61_HOOK_ACCEPT), I61_ERR_CONNECTION_LOST);
    i61_srv_run_ready(s);
    T_EQ_INT(c.out.len, 0);
    T_EQ_INT(i61_server_complete_write(s, h.token, I61_HOOK_ACCEPT), I61_ERR_OBJECT_DOES_NOT_EXIST);
    i61_sconn_free(&c);
    i61_server_free(s);
}

static void test_deferred_read_and_limits(void)
{
    i61_server *s = new_server();
    hook_rec h = {0};
    h.answer = I61_HOOK_DEFER;
    T_EQ_INT(i61_server_set_read_hook(s, "IED1LD1/GGIO1.AnIn1.mag", I61_FC_MX, read_hook, &h), 0);
    i61_sconn c;
    i61_sconn_init(&c, s, 9, false);
    associate(&c);
    /* a read of a variable containing the hooked object (018 reads AnIn1) */
    feed(&c, "017_read_struct_mv_request");
    T_EQ_INT(h.calls, 1);
    T_CHECK(strcmp(h.ref, "IED1LD1/GGIO1.AnIn1") == 0);
    T_EQ_INT(h.fc, I61_FC_MX);
    T_EQ_INT(c.out.len, 0);
    /* the application updates the value while the read waits */
    i61_value *v = i61_value_new_float(12.5f);
    T_EQ_INT(i61_model_set_value(i61_server_model(s), "IED1LD1/GGIO1.AnIn1.mag.f", I61_FC_MX, v), 0);
    i61_value_free(v);
    T_EQ_INT(i61_server_complete_read(s, h.token, I61_HOOK_ACCEPT), 0);
    i61_srv_run_ready(s);
    expect(&c, "018_read_struct_mv_response");
    /* refused read: per-element DataAccessError in a normal Read response */
    feed(&c, "015_read_float_request");
    T_EQ_INT(i61_server_complete_read(s, h.token, 3), 0);
    i61_srv_run_ready(s);
    size_t ml = 0;
    const uint8_t *m = out_mms(&c, &ml);
    static const uint8_t den8[] = {0xa1, 0x0a, 0x02, 0x01, 0x08, 0xa4, 0x05, 0xa1, 0x03, 0x80,
                                   0x01, 0x03};
    T_EQ_MEM(m, ml, den8, sizeof den8);
    i61_sconn_consume_out(&c, c.out.len);
    /* unrelated variables do not wait */
    exchange(&c, "019_read_struct_sps_request", "020_read_struct_sps_response");

    /* outstanding limit: 5 negotiated, the 6th deferred request is rejected */
    uint64_t tokens[5];
    for (int i = 0; i < 5; i++) {
        feed(&c, "015_read_float_request");
        tokens[i] = h.token;
    }
    T_EQ_INT(c.outstanding, 5);
    T_EQ_INT(c.out.len, 0);
    feed(&c, "015_read_float_request");
    m = out_mms(&c, &ml);
    static const uint8_t rej6[] = {0xa4, 0x06, 0x80, 0x01, 0x08, 0x81, 0x01, 0x06};
    T_EQ_MEM(m, ml, rej6, sizeof rej6);
    i61_sconn_consume_out(&c, c.out.len);
    /* Conclude while requests are outstanding: conclude-Error
     * further-communication-required, the association stays */
    feed(&c, "134_conclude_request");
    m = out_mms(&c, &ml);
    static const uint8_t concl_err[] = {0xad, 0x05, 0xa0, 0x03, 0x89, 0x01, 0x01};
    T_EQ_MEM(m, ml, concl_err, sizeof concl_err);
    T_EQ_INT(c.state, I61_SC_ASSOCIATED);
    i61_sconn_consume_out(&c, c.out.len);
    for (int i = 0; i < 5; i++)
        T_EQ_INT(i61_server_complete_read(s, tokens[i], I61_HOOK_ACCEPT), 0);
    i61_srv_run_ready(s);
    /* five identical answers */
    size_t one;
    uint8_t *g = t_golden("016_read_float_response", &one);
    T_EQ_INT(c.out.len, 5 * one);
    for (int i = 0; i < 5 && c.out.len == 5 * one; i++)
        T_EQ_MEM(c.out.data + i * one, one, g, one);
    free(g);
    i61_sconn_consume_out(&c, c.out.len);
    T_EQ_INT(c.outstanding, 0);
    /* removing the hook restores the fast path */
    T_EQ_INT(i61_server_set_read_hook(s, "IED1LD1/GGIO1.AnIn1.mag", I61_FC_MX, NULL, NULL), 0);
    exchange(&c, "015_read_float_request", "016_read_float_response");
    /* a request that waits while the server is freed: no leak (ASan) */
    T_EQ_INT(i61_server_set_read_hook(s, "IED1LD1/GGIO1.AnIn1.mag", I61_FC_MX, read_hook, &h), 0);
    feed(&c, "015_read_float_request");
    i61_srv_conn_gone(s, &c);
    i61_sconn_free(&c);
    i61_server_free(s);
}

/* One MMS PDU from the client in a data frame; returns the answer's MMS PDU. */
static const uint8_t *feed_mms(i61_sconn *c, const uint8_t *pdu, size_t len, size_t *ml)
{
    uint8_t hdr[I61_ISO_DATA_HDR_MAX];
    size_t hl = i61_iso_data_header(hdr, len);
    i61_buf fr;
    i61_buf_init(&fr);
    T_EQ_INT(i61_cotp_write_data(&fr, 8192, hdr, hl, pdu, len), 0);
    T_EQ_INT(i61_sconn_feed(c, fr.data, fr.len), 0);
    i61_buf_free(&fr);
    *ml = 0;
    return c->out.len ? out_mms(c, ml) : NULL;
}

/* A confirmed-Response / -Error the server never asked for: RejectPDU in the
 * confirmed-responsePDU [2] / confirmed-errorPDU [3] class with reason
 * invalid-invokeID (2) (ISO 9506-2), echoing the invokeID. */
static void test_unexpected_responses(void)
{
    i61_server *s = new_server();
    i61_sconn c;
    i61_sconn_init(&c, s, 1, false);
    associate(&c);
    size_t ml;
    static const uint8_t resp[] = {0xa1, 0x05, 0x02, 0x01, 0x07, 0x82, 0x00};
    const uint8_t *m = feed_mms(&c, resp, sizeof resp, &ml);
    static const uint8_t rej_resp[] = {0xa4, 0x06, 0x80, 0x01, 0x07, 0x82, 0x01, 0x02};
    T_EQ_MEM(m, ml, rej_resp, sizeof rej_resp);
    i61_sconn_consume_out(&c, c.out.len);
    static const uint8_t err[] = {0xa2, 0x0a, 0x80, 0x01, 0x09, 0xa2, 0x05, 0xa0, 0x03,
                                  0x87, 0x01, 0x02};
    m = feed_mms(&c, err, sizeof err, &ml);
    static const uint8_t rej_err[] = {0xa4, 0x06, 0x80, 0x01, 0x09, 0x83, 0x01, 0x02};
    T_EQ_MEM(m, ml, rej_err, sizeof rej_err);
    i61_sconn_consume_out(&c, c.out.len);
    T_EQ_INT(c.state, I61_SC_ASSOCIATED);
    /* no outstanding requests: Conclude is answered normally */
    exchange(&c, "134_conclude_request", "135_conclude_response");
    i61_sconn_free(&c);
    i61_server_free(s);
}

/* A client whose MMS presentation context is 5 instead of 3: answers use 5. */
static void test_other_mms_context_id(void)
{
    i61_server *s = new_server();
    i61_sconn c;
    i61_sconn_init(&c, s, 1, false);
    exchange(&c, "001_cotp_cr", "002_cotp_cc");
    size_t len;
    static const uint8_t def[] = {0x02, 0x01, 0x03, 0x06, 0x05, 0x28, 0xca, 0x22, 0x02, 0x01};
    uint8_t *f = patched("003_initiate_request", &len, def, sizeof def, 2, 0x05);
    static const uint8_t ext[] = {0x28, 0x2d, 0x02, 0x01, 0x03};
    uint8_t *p = memmem(f, len, ext, sizeof ext);
    T_CHECK(p != NULL);
    if (p)
        p[4] = 0x05;
    T_EQ_INT(i61_sconn_feed(&c, f, len), 0);
    free(f);
    T_EQ_INT(aare_result(&c), 0);
    T_EQ_INT(c.state, I61_SC_ASSOCIATED);
    T_EQ_INT(c.mms_ctx, 5);
    i61_sconn_consume_out(&c, c.out.len);
    uint8_t *rq = t_golden("015_read_float_request", &len);
    T_EQ_INT(rq[0x11], 0x03);
    rq[0x11] = 0x05;
    T_EQ_INT(i61_sconn_feed(&c, rq, len), 0);
    free(rq);
    uint8_t *rs = t_golden("016_read_float_response", &len);
    rs[0x11] = 0x05;
    T_EQ_MEM(c.out.data, c.out.len, rs, len);
    free(rs);
    i61_sconn_consume_out(&c, c.out.len);
    /* data in context 3 (not negotiated for MMS here) aborts */
    feed(&c, "015_read_float_request");
    T_EQ_INT(c.out.data[7], 0x19);
    i61_sconn_free(&c);
    i61_server_free(s);
}


/* A client numbering its contexts ACSE = 5, MMS = 7 (borrowed from test_iso's
 * test_other_context_ids, with the golden initiate-Request inside): the AARE,
 * the data and the release answer all use the client's ids. */
static void feed_tsdu(i61_sconn *c, const uint8_t *tsdu, size_t len, int expect_rc)
{
    i61_buf fr;
    i61_buf_init(&fr);
    T_EQ_INT(i61_cotp_write_data(&fr, 8192, tsdu, len, NULL, 0), 0);
    T_EQ_INT(i61_sconn_feed(c, fr.data, fr.len), expect_rc);
    i61_buf_free(&fr);
}

/* The single TSDU in the engine's output (one DT with EOT), decoded. */
static void out_tsdu(i61_sconn *c, i61_iso_ind *ind)
{
    T_CHECK(c->out.len > 7);
    T_EQ_INT(c->out.data[6], 0x80);
    int rc = c->out.len > 7 ? i61_iso_decode_tsdu(c->out.data + 7, c->out.len - 7, ind) : -1;
    T_EQ_INT(rc, I61_OK);
}

static void associate_ctx_5_7(i61_sconn *c)
{
    exchange(c, "001_cotp_cr", "002_cotp_cc");
    /* the initiate-Request of golden 003 */
    size_t len;
    uint8_t *g = t_golden("003_initiate_request", &len);
    i61_iso_ind gi;
    T_EQ_INT(i61_iso_decode_tsdu(g + 7, len - 7, &gi), I61_OK);
    T_CHECK(gi.pdu != NULL && gi.pdu_len > 0);
    i61_acse_apdu aarq;
    i61_acse_init_aarq_default(&aarq);
    aarq.ui_ctx = 7;
    aarq.user_info = gi.pdu;
    aarq.user_info_len = gi.pdu_len;
    i61_buf acse, pres, tsdu;
    i61_buf_init(&acse);
    i61_buf_init(&pres);
    i61_buf_init(&tsdu);
    T_EQ_INT(i61_acse_write(&acse, &aarq), I61_OK);
    i61_pres_connect cp;
    i61_pres_connect_init_default(&cp);
    cp.ctx[0].id = 5;
    cp.ctx[1].id = 7;
    cp.ud_ctx = 5;
    cp.user_data = acse.data;
    cp.user_data_len = acse.len;
    T_EQ_INT(i61_pres_write_cp(&pres, &cp), I61_OK);
    i61_spdu sp;
    memset(&sp, 0, sizeof sp);
    sp.si = I61_SPDU_CN;
    sp.user_data = pres.data;
    sp.user_data_len = pres.len;
    T_EQ_INT(i61_session_write(&tsdu, &sp), I61_OK);
    feed_tsdu(c, tsdu.data, tsdu.len, 0);
    T_EQ_INT(c->state, I61_SC_ASSOCIATED);
    T_EQ_INT(c->mms_ctx, 7);
    i61_iso_ind ac;
    out_tsdu(c, &ac);
    T_EQ_INT(ac.type, I61_ISO_IND_ACCEPT);
    T_EQ_INT(ac.pres.ud_ctx, 5);                     /* AARE in the client's ACSE context */
    T_EQ_INT(ac.ctx, 7);
    i61_sconn_consume_out(c, c->out.len);
    free(g);
    i61_buf_free(&acse);
    i61_buf_free(&pres);
    i61_buf_free(&tsdu);
}

/* ACSE context id of the user data of an answer SPDU (RLRE, ABRT). */
static int32_t answer_acse_ctx(const i61_iso_ind *ind)
{
    int32_t ctx = -1;
    const uint8_t *apdu;
    size_t alen;
    if (ind->type == I61_ISO_IND_ABORT) {
        i61_pres_abort pa;
        if (i61_pres_decode_abort(ind->spdu.user_data, ind->spdu.user_data_len, &pa) != I61_OK)
            return -1;
        return pa.user_data ? pa.ud_ctx : -1;
    }
    if (i61_pres_decode_user_data(ind->spdu.user_data, ind->spdu.user_data_len, &ctx, &apdu,
                                  &alen) != I61_OK)
        return -1;
    return ctx;
}

static void test_other_acse_context_id(void)
{
    i61_server *s = new_server();
    /* data and release */
    {
        i61_sconn c;
        i61_sconn_init(&c, s, 1, false);
        associate_ctx_5_7(&c);
        size_t len;
        uint8_t *rq = t_golden("015_read_float_request", &len);
        rq[0x11] = 0x07;
        T_EQ_INT(i61_sconn_feed(&c, rq, len), 0);
        free(rq);
        uint8_t *rs = t_golden("016_read_float_response", &len);
        rs[0x11] = 0x07;
        T_EQ_MEM(c.out.data, c.out.len, rs, len);
        free(rs);
        i61_sconn_consume_out(&c, c.out.len);
        i61_buf tsdu;
        i61_buf_init(&tsdu);
        T_EQ_INT(i61_iso_write_release_request_tsdu_ctx(&tsdu, 5), I61_OK);
        feed_tsdu(&c, tsdu.data, tsdu.len, 0);
        i61_iso_ind dn;
        out_tsdu(&c, &dn);
        T_EQ_INT(dn.type, I61_ISO_IND_RELEASE_RESPONSE);
        T_EQ_INT(answer_acse_ctx(&dn), 5);
        T_CHECK(c.close_after_flush);
        i61_buf_free(&tsdu);
        i61_sconn_free(&c);
    }
    /* a server-initiated abort (data in a context that is not MMS) uses the client's ACSE id */
    {
        i61_sconn c;
        i61_sconn_init(&c, s, 3, false);
        associate_ctx_5_7(&c);
        size_t len;
        uint8_t *rq = t_golden("015_read_float_request", &len);   /* context 3: not ours here */
        i61_sconn_feed(&c, rq, len);
        free(rq);
        i61_iso_ind ab;
        out_tsdu(&c, &ab);
        T_EQ_INT(ab.type, I61_ISO_IND_ABORT);
        T_EQ_INT(answer_acse_ctx(&ab), 5);
        i61_sconn_free(&c);
    }
    /* the default numbering still answers in context 1 (golden 136 -> 137) */
    {
        i61_sconn c;
        i61_sconn_init(&c, s, 2, false);
        associate(&c);
        exchange(&c, "136_release_rlrq", "137_release_rlre");
        i61_sconn_free(&c);
    }
    i61_server_free(s);
}

/* After the CC, no TPKT frame may exceed the negotiated TPDU size + 4. */
static void test_frame_bounded_by_tpdu_size(void)
{
    i61_server *s = new_server();
    uint8_t *big = calloc(1, 8197);
    T_CHECK(big != NULL);
    /* associated with TPDU size 8192: a frame of 8196 octets is fine, 8197 aborts */
    for (size_t flen = 8196; flen <= 8197; flen++) {
        i61_sconn c;
        i61_sconn_init(&c, s, 1, false);
        associate(&c);
        T_EQ_INT(c.tpdu_size, 8192);
        big[0] = 0x03;
        big[1] = 0x00;
        big[2] = (uint8_t)(flen >> 8);
        big[3] = (uint8_t)flen;
        big[4] = 0x02;
        big[5] = 0xf0;
        big[6] = 0x00;                               /* DT, no EOT: part of a larger TSDU */
        T_EQ_INT(i61_sconn_feed(&c, big, flen), 0);
        if (flen == 8196) {
            T_EQ_INT(c.out.len, 0);
            T_EQ_INT(c.state, I61_SC_ASSOCIATED);
        } else {
            T_CHECK(c.out.len > 7 && c.out.data[7] == 0x19);   /* session AB, then close */
            T_CHECK(c.close_after_flush);
            T_EQ_INT(c.state, I61_SC_CLOSING);
        }
        i61_sconn_free(&c);
    }
    /* TPDU size 1024 negotiated: a 1029-octet frame before the association closes */
    {
        i61_sconn c;
        i61_sconn_init(&c, s, 1, false);
        size_t len;
        static const uint8_t size_par[] = {0xc0, 0x01, 0x0d};
        uint8_t *cr = patched("001_cotp_cr", &len, size_par, sizeof size_par, 2, 0x0a);
        T_EQ_INT(i61_sconn_feed(&c, cr, len), 0);
        free(cr);
        T_EQ_INT(c.state, I61_SC_WAIT_CN);
        T_EQ_INT(c.tpdu_size, 1024);
        i61_sconn_consume_out(&c, c.out.len);
        big[2] = 0x04;
        big[3] = 0x05;                               /* 1029 */
        T_EQ_INT(i61_sconn_feed(&c, big, 1029), -1);
        T_CHECK(c.close_now);
        T_CHECK(c.rx_cap < 8192);                    /* no room was made for it */
        i61_sconn_free(&c);
    }
    free(big);
    i61_server_free(s);
}

T_MAIN(T_CASE(test_golden_connection_a), T_CASE(test_other_acse_context_id),
       T_CASE(test_frame_bounded_by_tpdu_size), T_CASE(test_other_mms_context_id), T_CASE(test_golden_continuation_c),
       T_CASE(test_abort_b), T_CASE(test_cotp_segmentation), T_CASE(test_refuse_class2_cr),
       T_CASE(test_refuse_over_limit), T_CASE(test_refuse_bad_association),
       T_CASE(test_hostile_frames), T_CASE(test_truncations), T_CASE(test_deferred_write),
       T_CASE(test_deferred_read_and_limits), T_CASE(test_unexpected_responses))
