/* ISO layers (TPKT, COTP, session, presentation, ACSE) against the golden frames:
 * build 001, 003, 134, 136, 138 (and the server-side 002, 004, 137) byte for byte
 * from parameters, decode 002, 004, 135, 137, reassemble 155+156, and make sure
 * truncated or damaged input gives an error, never a crash. */
#include "t.h"
#include "iso/iso_conn.h"
#include "mms/initiate.h"

/* Golden frame -> COTP TPDU (checks the TPKT header on the way). */
static int frame_tpdu(const uint8_t *f, size_t n, i61_cotp_tpdu *t)
{
    size_t flen;
    if (i61_tpkt_check(f, n, I61_TPKT_MAX, &flen) != 1 || flen != n)
        return -1;
    return i61_cotp_decode(f + 4, n - 4, t);
}

static void test_cr_001(void)
{
    size_t n;
    uint8_t *g = t_golden("001_cotp_cr", &n);
    i61_iso_addr a;
    i61_iso_addr_init_default(&a);
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_iso_write_cr(&b, &a, 8192, 1), I61_OK);
    T_EQ_MEM(b.data, b.len, g, n);

    i61_cotp_tpdu t;
    T_EQ_INT(frame_tpdu(g, n, &t), I61_OK);
    T_EQ_INT(t.code, I61_COTP_CR);
    T_EQ_INT(t.dst_ref, 0);
    T_EQ_INT(t.src_ref, 1);
    T_EQ_INT(t.class_option, 0);
    T_EQ_INT(i61_cotp_size_from_code(t.tpdu_size_code), 8192);
    T_CHECK(t.has_calling_tsel && t.calling_tsel_len == 2 && t.calling_tsel[1] == 1);
    T_CHECK(t.has_called_tsel && t.called_tsel_len == 2 && t.called_tsel[1] == 1);
    T_EQ_INT(t.data_len, 0);
    i61_buf_free(&b);
    free(g);
}

static void test_cc_002(void)
{
    size_t n;
    uint8_t *g = t_golden("002_cotp_cc", &n);
    i61_cotp_tpdu t;
    T_EQ_INT(frame_tpdu(g, n, &t), I61_OK);
    T_EQ_INT(t.code, I61_COTP_CC);
    T_EQ_INT(t.dst_ref, 1);
    T_EQ_INT(t.src_ref, 1);
    T_EQ_INT(t.class_option, 0);
    T_EQ_INT(t.tpdu_size_code, 0x0d);
    T_CHECK(t.has_calling_tsel && t.has_called_tsel);

    /* the server role builds the same frame from the CR's parameters */
    i61_cotp_conn_params p = { 1, 1, 0, 0x0d, t.calling_tsel, 2, t.called_tsel, 2 };
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_cotp_write_cc(&b, &p), I61_OK);
    T_EQ_MEM(b.data, b.len, g, n);
    i61_buf_free(&b);
    free(g);
}

/* A CC echoing two maximum-length TSELs (what a server does for a CR that
 * carries them) fits its header buffer and decodes back: regression for a
 * stack overflow of 4 octets in the connection TPDU writer. */
static void test_cc_max_tsels(void)
{
    uint8_t calling[I61_TSEL_MAX], called[I61_TSEL_MAX];
    memset(calling, 'A', sizeof calling);
    memset(called, 'B', sizeof called);
    i61_cotp_conn_params p = { 1, 1, 0, 0x0d, calling, sizeof calling, called, sizeof called };
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_cotp_write_cc(&b, &p), I61_OK);
    T_EQ_INT(b.len, 4 + 7 + 3 + 2 * (2 + I61_TSEL_MAX));
    i61_cotp_tpdu t;
    T_EQ_INT(frame_tpdu(b.data, b.len, &t), I61_OK);
    T_EQ_INT(t.code, I61_COTP_CC);
    T_EQ_MEM(t.calling_tsel, t.calling_tsel_len, calling, sizeof calling);
    T_EQ_MEM(t.called_tsel, t.called_tsel_len, called, sizeof called);
    i61_buf_reset(&b);
    T_EQ_INT(i61_cotp_write_cr(&b, &p), I61_OK);
    T_EQ_INT(b.len, 4 + 7 + 3 + 2 * (2 + I61_TSEL_MAX));
    i61_buf_free(&b);
}

static void test_dr_er(void)
{
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_cotp_write_dr(&b, 1, 2, I61_COTP_DR_NEGOTIATION_FAILED), I61_OK);
    static const uint8_t dr[] = { 3, 0, 0, 11, 6, 0x80, 0, 1, 0, 2, 130 };
    T_EQ_MEM(b.data, b.len, dr, sizeof dr);
    i61_cotp_tpdu t;
    T_EQ_INT(frame_tpdu(b.data, b.len, &t), I61_OK);
    T_EQ_INT(t.code, I61_COTP_DR);
    T_EQ_INT(t.reason, 130);
    T_EQ_INT(t.src_ref, 2);
    i61_buf_reset(&b);
    T_EQ_INT(i61_cotp_write_er(&b, 7, 3), I61_OK);
    T_EQ_INT(frame_tpdu(b.data, b.len, &t), I61_OK);
    T_EQ_INT(t.code, I61_COTP_ER);
    T_EQ_INT(t.dst_ref, 7);
    T_EQ_INT(t.reason, 3);
    /* a DR with an unknown parameter (e0 additional information) still decodes */
    static const uint8_t dr2[] = { 9, 0x80, 0, 1, 0, 2, 0, 0xe0, 1, 0x55 };
    T_EQ_INT(i61_cotp_decode(dr2, sizeof dr2, &t), I61_OK);
    T_EQ_INT(t.reason, 0);
    i61_buf_free(&b);
}

static void test_tpkt(void)
{
    size_t fl;
    static const uint8_t ok[] = { 3, 0, 0, 7, 2, 0xf0, 0x80 };
    T_EQ_INT(i61_tpkt_check(ok, 0, 100, &fl), 0);
    T_EQ_INT(i61_tpkt_check(ok, 3, 100, &fl), 0);
    T_EQ_INT(i61_tpkt_check(ok, 4, 100, &fl), 0);
    T_EQ_INT(fl, 7);
    T_EQ_INT(i61_tpkt_check(ok, 7, 100, &fl), 1);
    T_EQ_INT(i61_tpkt_check(ok, 7, 6, &fl), -I61_ERR_MALFORMED_MESSAGE);        /* too large */
    static const uint8_t badv[] = { 2, 0, 0, 7 };
    T_EQ_INT(i61_tpkt_check(badv, 1, 100, &fl), -I61_ERR_MALFORMED_MESSAGE);
    static const uint8_t badr[] = { 3, 1, 0, 7 };
    T_EQ_INT(i61_tpkt_check(badr, 2, 100, &fl), -I61_ERR_MALFORMED_MESSAGE);
    static const uint8_t shortl[] = { 3, 0, 0, 6 };
    T_EQ_INT(i61_tpkt_check(shortl, 4, 100, &fl), -I61_ERR_MALFORMED_MESSAGE);
    uint8_t h[4];
    i61_tpkt_put_header(h, 8196);
    T_EQ_INT(h[2], 0x20);
    T_EQ_INT(h[3], 0x04);
}

/* MMS initiate-Request of 003 built from parameters. */
static void build_initiate_request(i61_buf *b, int32_t local_detail)
{
    i61_initiate ini;
    i61_initiate_init_client(&ini);
    ini.local_detail = local_detail;
    T_EQ_INT(i61_initiate_write_request(b, &ini), I61_OK);
}

static void build_connect_frame(i61_buf *frame, int32_t local_detail)
{
    i61_buf mms, tsdu;
    i61_buf_init(&mms);
    i61_buf_init(&tsdu);
    build_initiate_request(&mms, local_detail);
    i61_iso_addr a;
    i61_iso_addr_init_default(&a);
    T_EQ_INT(i61_iso_write_connect_tsdu(&tsdu, &a, mms.data, mms.len), I61_OK);
    T_EQ_INT(i61_cotp_write_data(frame, 8192, tsdu.data, tsdu.len, NULL, 0), I61_OK);
    i61_buf_free(&mms);
    i61_buf_free(&tsdu);
}

static void test_connect_003(void)
{
    size_t n;
    uint8_t *g = t_golden("003_initiate_request", &n);
    T_EQ_INT(n, 187);
    i61_buf f;
    i61_buf_init(&f);
    build_connect_frame(&f, 65000);
    T_EQ_MEM(f.data, f.len, g, n);
    i61_buf_free(&f);

    /* and 139: the same with localDetailCalling 512 */
    uint8_t *g139 = t_golden("139_initiate_small_request", &n);
    i61_buf_init(&f);
    build_connect_frame(&f, 512);
    T_EQ_MEM(f.data, f.len, g139, n);
    i61_buf_free(&f);
    free(g139);

    /* server role: decode the CN */
    n = 187;
    i61_cotp_tpdu t;
    T_EQ_INT(frame_tpdu(g, n, &t), I61_OK);
    T_EQ_INT(t.code, I61_COTP_DT);
    T_EQ_INT(t.eot, 1);
    i61_iso_ind ind;
    T_EQ_INT(i61_iso_decode_tsdu(t.data, t.data_len, &ind), I61_OK);
    T_EQ_INT(ind.type, I61_ISO_IND_CONNECT);
    T_CHECK(ind.spdu.has_calling_ssel && ind.spdu.calling_ssel_len == 2);
    T_CHECK(ind.spdu.has_called_ssel && ind.spdu.called_ssel[1] == 1);
    T_EQ_INT(ind.spdu.version, 2);
    T_EQ_INT(ind.spdu.user_requirements, 2);
    T_CHECK(ind.has_pres);
    T_EQ_INT(ind.pres.n_ctx, 2);
    T_EQ_INT(ind.pres.ctx[0].id, 1);
    T_EQ_MEM(ind.pres.ctx[0].abstract_syntax, ind.pres.ctx[0].abstract_syntax_len, i61_oid_acse_as, 4);
    T_EQ_INT(ind.pres.ctx[1].id, 3);
    T_EQ_MEM(ind.pres.ctx[1].abstract_syntax, ind.pres.ctx[1].abstract_syntax_len, i61_oid_mms_as, 5);
    T_CHECK(ind.pres.ctx[0].ber && ind.pres.ctx[1].ber);
    T_EQ_INT(ind.pres.calling_psel_len, 4);
    T_CHECK(ind.has_acse);
    T_EQ_INT(ind.acse.type, I61_ACSE_AARQ);
    T_EQ_MEM(ind.acse.app_ctx, ind.acse.app_ctx_len, i61_oid_mms_context, 5);
    T_EQ_INT(ind.acse.called.ae_qualifier, 12);
    T_EQ_INT(ind.acse.calling.ap_title_len, 4);
    T_CHECK(!ind.acse.has_auth);
    T_EQ_INT(ind.ctx, 3);
    T_EQ_INT(ind.pdu_len, 40);
    T_EQ_INT(ind.pdu[0], 0xa8);
    free(g);
}

static void test_accept_004(void)
{
    size_t n;
    uint8_t *g = t_golden("004_initiate_response", &n);
    i61_cotp_tpdu t;
    T_EQ_INT(frame_tpdu(g, n, &t), I61_OK);
    i61_iso_ind ind;
    T_EQ_INT(i61_iso_decode_tsdu(t.data, t.data_len, &ind), I61_OK);
    T_EQ_INT(ind.type, I61_ISO_IND_ACCEPT);
    T_EQ_INT(ind.spdu.si, I61_SPDU_AC);
    T_CHECK(!ind.spdu.has_calling_ssel);
    T_CHECK(ind.has_pres);
    T_EQ_INT(ind.pres.n_ctx, 2);
    T_EQ_INT(ind.pres.ctx[0].result, I61_PRES_ACCEPT);
    T_EQ_INT(ind.pres.ctx[1].result, I61_PRES_ACCEPT);
    T_CHECK(ind.pres.ctx[1].ber);
    T_CHECK(ind.has_acse);
    T_EQ_INT(ind.acse.type, I61_ACSE_AARE);
    T_EQ_INT(ind.acse.result, I61_ACSE_ACCEPTED);
    T_EQ_INT(ind.acse.diag_source, I61_ACSE_DIAG_USER);
    T_EQ_INT(ind.acse.diag, 0);
    T_EQ_INT(ind.ctx, 3);
    int kind = -1;
    i61_initiate ini;
    T_EQ_INT(i61_initiate_decode(ind.pdu, ind.pdu_len, &kind, &ini, NULL, NULL), I61_OK);
    T_EQ_INT(kind, I61_MMS_INITIATE_RESPONSE);
    T_EQ_INT(ini.local_detail, 65000);
    T_EQ_INT(ini.max_serv_outstanding_calling, 5);
    T_EQ_INT(ini.max_serv_outstanding_called, 5);
    T_EQ_INT(ini.nesting_level, 10);
    T_EQ_INT(ini.version, 1);
    static const uint8_t srv[11] = { 0xee, 0x1c, 0, 0, 0, 0x02, 0, 0, 0x40, 0xed, 0x18 };
    T_EQ_MEM(ini.services, 11, srv, 11);
    T_EQ_INT(ini.services_bits, 85);

    /* server role: answer the decoded 003 with the same bytes */
    size_t n3;
    uint8_t *g3 = t_golden("003_initiate_request", &n3);
    i61_cotp_tpdu t3;
    i61_iso_ind cn;
    T_EQ_INT(frame_tpdu(g3, n3, &t3), I61_OK);
    T_EQ_INT(i61_iso_decode_tsdu(t3.data, t3.data_len, &cn), I61_OK);
    i61_initiate req, own, resp;
    T_EQ_INT(i61_initiate_decode(cn.pdu, cn.pdu_len, &kind, &req, NULL, NULL), I61_OK);
    i61_initiate_init_server(&own);
    T_EQ_INT(i61_initiate_negotiate(&req, &own, &resp), I61_OK);
    i61_buf mms, tsdu, f;
    i61_buf_init(&mms);
    i61_buf_init(&tsdu);
    i61_buf_init(&f);
    T_EQ_INT(i61_initiate_write_response(&mms, &resp), I61_OK);
    T_EQ_INT(i61_iso_write_accept_tsdu(&tsdu, &cn, I61_ACSE_ACCEPTED, I61_ACSE_DIAG_NULL, mms.data, mms.len), I61_OK);
    T_EQ_INT(i61_cotp_write_data(&f, 8192, tsdu.data, tsdu.len, NULL, 0), I61_OK);
    T_EQ_MEM(f.data, f.len, g, n);
    i61_buf_free(&mms);
    i61_buf_free(&tsdu);
    i61_buf_free(&f);
    free(g3);
    free(g);
}

static void build_data_frame(i61_buf *f, const uint8_t *pdu, size_t len)
{
    i61_buf tsdu;
    i61_buf_init(&tsdu);
    T_EQ_INT(i61_iso_write_data_tsdu(&tsdu, pdu, len), I61_OK);
    T_EQ_INT(i61_cotp_write_data(f, 8192, tsdu.data, tsdu.len, NULL, 0), I61_OK);
    i61_buf_free(&tsdu);
}

static void test_conclude_134_135(void)
{
    size_t n;
    uint8_t *g = t_golden("134_conclude_request", &n);
    i61_buf mms, f;
    i61_buf_init(&mms);
    i61_buf_init(&f);
    T_EQ_INT(i61_conclude_write_request(&mms), I61_OK);
    build_data_frame(&f, mms.data, mms.len);
    T_EQ_MEM(f.data, f.len, g, n);
    free(g);

    /* the data-frame header written for writev equals the built frame's prefix */
    uint8_t h[I61_ISO_DATA_HDR_MAX];
    size_t hl = i61_iso_data_header(h, 2);
    T_EQ_MEM(h, hl, f.data + 7, f.len - 7 - 2);

    g = t_golden("135_conclude_response", &n);
    i61_cotp_tpdu t;
    T_EQ_INT(frame_tpdu(g, n, &t), I61_OK);
    const uint8_t *pdu;
    size_t pl;
    int32_t ctx = 0;
    T_EQ_INT(i61_iso_decode_data(t.data, t.data_len, &pdu, &pl, &ctx), 1);
    T_EQ_INT(ctx, 3);
    int kind = -1;
    T_EQ_INT(i61_conclude_decode(pdu, pl, &kind), I61_OK);
    T_EQ_INT(kind, I61_MMS_CONCLUDE_RESPONSE);
    i61_iso_ind ind;
    T_EQ_INT(i61_iso_decode_tsdu(t.data, t.data_len, &ind), I61_OK);
    T_EQ_INT(ind.type, I61_ISO_IND_DATA);
    T_CHECK(ind.spdu.gt);
    T_EQ_INT(ind.pdu_len, 2);
    i61_buf_free(&mms);
    i61_buf_free(&f);
    free(g);
}

static void test_release_136_137(void)
{
    size_t n;
    uint8_t *g = t_golden("136_release_rlrq", &n);
    i61_buf tsdu, f;
    i61_buf_init(&tsdu);
    i61_buf_init(&f);
    T_EQ_INT(i61_iso_write_release_request_tsdu(&tsdu), I61_OK);
    T_EQ_INT(i61_cotp_write_data(&f, 8192, tsdu.data, tsdu.len, NULL, 0), I61_OK);
    T_EQ_MEM(f.data, f.len, g, n);
    i61_iso_ind ind;
    i61_cotp_tpdu t;
    T_EQ_INT(frame_tpdu(g, n, &t), I61_OK);
    T_EQ_INT(i61_iso_decode_data(t.data, t.data_len, NULL, NULL, NULL), 0);
    T_EQ_INT(i61_iso_decode_tsdu(t.data, t.data_len, &ind), I61_OK);
    T_EQ_INT(ind.type, I61_ISO_IND_RELEASE_REQUEST);
    T_CHECK(ind.has_acse);
    T_EQ_INT(ind.acse.type, I61_ACSE_RLRQ);
    T_EQ_INT(ind.acse.reason, 0);
    free(g);

    g = t_golden("137_release_rlre", &n);
    T_EQ_INT(frame_tpdu(g, n, &t), I61_OK);
    T_EQ_INT(i61_iso_decode_tsdu(t.data, t.data_len, &ind), I61_OK);
    T_EQ_INT(ind.type, I61_ISO_IND_RELEASE_RESPONSE);
    T_CHECK(ind.has_acse);
    T_EQ_INT(ind.acse.type, I61_ACSE_RLRE);
    T_EQ_INT(ind.acse.reason, -1);
    /* server role */
    i61_buf_reset(&tsdu);
    i61_buf_reset(&f);
    T_EQ_INT(i61_iso_write_release_response_tsdu(&tsdu), I61_OK);
    T_EQ_INT(i61_cotp_write_data(&f, 8192, tsdu.data, tsdu.len, NULL, 0), I61_OK);
    T_EQ_MEM(f.data, f.len, g, n);
    i61_buf_free(&tsdu);
    i61_buf_free(&f);
    free(g);
}

static void test_abort_138(void)
{
    size_t n;
    uint8_t *g = t_golden("138_abort_abrt", &n);
    i61_buf tsdu, f;
    i61_buf_init(&tsdu);
    i61_buf_init(&f);
    T_EQ_INT(i61_iso_write_abort_tsdu(&tsdu), I61_OK);
    T_EQ_INT(i61_cotp_write_data(&f, 8192, tsdu.data, tsdu.len, NULL, 0), I61_OK);
    T_EQ_MEM(f.data, f.len, g, n);
    i61_cotp_tpdu t;
    i61_iso_ind ind;
    T_EQ_INT(frame_tpdu(g, n, &t), I61_OK);
    T_EQ_INT(i61_iso_decode_tsdu(t.data, t.data_len, &ind), I61_OK);
    T_EQ_INT(ind.type, I61_ISO_IND_ABORT);
    T_CHECK(ind.spdu.has_transport_disconnect);
    T_EQ_INT(ind.spdu.transport_disconnect, 0x0b);
    T_CHECK(ind.has_acse);
    T_EQ_INT(ind.acse.type, I61_ACSE_ABRT);
    T_EQ_INT(ind.acse.abort_source, 0);
    i61_buf_free(&tsdu);
    i61_buf_free(&f);
    free(g);
}

/* ARP-PPDU (provider abort, ISO 8823 normal mode): SEQUENCE { [0] reason, [1] event }.
 * The stack never sends one, but a peer may. */
static void test_arp_decode(void)
{
    static const uint8_t arp[] = { 0x30, 0x06, 0x80, 0x01, 0x05, 0x81, 0x01, 0x02 };
    static const uint8_t arp_empty[] = { 0x30, 0x00 };
    static const uint8_t arp_negative[] = { 0x30, 0x03, 0x80, 0x01, 0xff };
    static const uint8_t arp_unknown[] = { 0x30, 0x03, 0x82, 0x01, 0x00 };
    i61_pres_abort pa;
    T_EQ_INT(i61_pres_decode_abort(arp, sizeof arp, &pa), I61_OK);
    T_EQ_INT(pa.aru, 0);
    T_EQ_INT(pa.provider_reason, 5);
    T_CHECK(pa.user_data == NULL);
    T_EQ_INT(i61_pres_decode_abort(arp_empty, sizeof arp_empty, &pa), I61_OK);
    T_EQ_INT(pa.aru, 0);
    T_EQ_INT(pa.provider_reason, -1);
    T_EQ_INT(i61_pres_decode_abort(arp_negative, sizeof arp_negative, &pa), I61_ERR_MALFORMED_MESSAGE);
    T_EQ_INT(i61_pres_decode_abort(arp_unknown, sizeof arp_unknown, &pa), I61_ERR_MALFORMED_MESSAGE);
    T_EQ_INT(i61_pres_decode_abort(arp, sizeof arp - 1, &pa), I61_ERR_MALFORMED_MESSAGE);
}

static void test_reassembly_155_156(void)
{
    size_t n1, n2;
    uint8_t *g1 = t_golden("155_cotpseg_getnamelist_response_dt1_eot0", &n1);
    uint8_t *g2 = t_golden("156_cotpseg_getnamelist_response_dt2_eot1", &n2);
    T_EQ_INT(n1, 8196);
    T_EQ_INT(n2, 3997);
    i61_cotp_tpdu t1, t2;
    T_EQ_INT(frame_tpdu(g1, n1, &t1), I61_OK);
    T_EQ_INT(frame_tpdu(g2, n2, &t2), I61_OK);
    T_EQ_INT(t1.eot, 0);
    T_EQ_INT(t2.eot, 1);

    i61_cotp_reasm r;
    i61_cotp_reasm_init(&r, 65000 + 64);
    const uint8_t *tsdu = NULL;
    size_t tl = 0;
    T_EQ_INT(i61_cotp_reasm_push(&r, t1.data, t1.data_len, t1.eot, &tsdu, &tl), 0);
    T_EQ_INT(i61_cotp_reasm_push(&r, t2.data, t2.data_len, t2.eot, &tsdu, &tl), 1);
    T_EQ_INT(tl, 12179);
    const uint8_t *pdu = NULL;
    size_t pl = 0;
    T_EQ_INT(i61_iso_decode_data(tsdu, tl, &pdu, &pl, NULL), 1);
    /* GetNameList confirmed-Response, invoke id 1, ... moreFollows FALSE at the end */
    T_EQ_INT(pl, 12160);
    T_EQ_INT(pdu[0], 0xa1);
    T_EQ_INT(pdu[1], 0x82);
    T_EQ_INT(pdu[4], 0x02);
    T_EQ_INT(pdu[5], 0x01);
    T_EQ_INT(pdu[6], 0x01);
    T_EQ_INT(pdu[7], 0xa1);
    static const uint8_t tail[3] = { 0x81, 0x01, 0x00 };
    T_EQ_MEM(pdu + pl - 3, 3, tail, 3);

    /* segmentation when sending gives the two captured frames back */
    i61_buf f;
    i61_buf_init(&f);
    T_EQ_INT(i61_cotp_write_data(&f, 8192, tsdu, 7, tsdu + 7, tl - 7), I61_OK);
    T_EQ_INT(f.len, n1 + n2);
    T_EQ_MEM(f.data, n1, g1, n1);
    T_EQ_MEM(f.data + n1, f.len - n1, g2, n2);
    /* ... also with the TSDU split as header + PDU at the iso_data_header boundary */
    i61_buf_reset(&f);
    uint8_t h[I61_ISO_DATA_HDR_MAX];
    size_t hl = i61_iso_data_header(h, pl);
    T_EQ_INT(hl, tl - pl);
    T_EQ_INT(i61_cotp_write_data(&f, 8192, h, hl, pdu, pl), I61_OK);
    T_EQ_MEM(f.data, n1, g1, n1);
    i61_buf_free(&f);

    /* keep a copy of the PDU: it lives in the reassembly buffer */
    uint8_t *pdu_copy = malloc(pl);
    memcpy(pdu_copy, pdu, pl);
    pdu = pdu_copy;
    /* a TSDU larger than the bound is refused, and the reassembler recovers */
    i61_cotp_reasm_free(&r);
    i61_cotp_reasm_init(&r, 10000);
    T_EQ_INT(i61_cotp_reasm_push(&r, t1.data, t1.data_len, 0, &tsdu, &tl), 0);
    T_EQ_INT(i61_cotp_reasm_push(&r, t2.data, t2.data_len, 1, &tsdu, &tl), -I61_ERR_MALFORMED_MESSAGE);
    static const uint8_t small[3] = { 1, 2, 3 };
    T_EQ_INT(i61_cotp_reasm_push(&r, small, 3, 1, &tsdu, &tl), 1);
    T_EQ_INT(tl, 3);
    T_EQ_INT(i61_cotp_reasm_push(&r, small, 3, 0, &tsdu, &tl), 0);
    T_EQ_INT(i61_cotp_reasm_push(&r, small, 2, 1, &tsdu, &tl), 1);
    T_EQ_INT(tl, 5);
    i61_cotp_reasm_free(&r);

    /* small TPDU size: many segments, each at most 128 octets */
    i61_buf_init(&f);
    T_EQ_INT(i61_cotp_write_data(&f, 128, pdu, 1000, NULL, 0), I61_OK);
    size_t off = 0, segs = 0, total = 0;
    i61_cotp_reasm_init(&r, 1000);
    int done = 0;
    while (off < f.len) {
        size_t fl;
        T_EQ_INT(i61_tpkt_check(f.data + off, f.len - off, 4 + 128, &fl), 1);
        i61_cotp_tpdu t;
        T_EQ_INT(i61_cotp_decode(f.data + off + 4, fl - 4, &t), I61_OK);
        total += t.data_len;
        done = i61_cotp_reasm_push(&r, t.data, t.data_len, t.eot, &tsdu, &tl);
        off += fl;
        segs++;
    }
    T_EQ_INT(segs, 8);
    T_EQ_INT(total, 1000);
    T_EQ_INT(done, 1);
    T_EQ_MEM(tsdu, tl, pdu, 1000);
    i61_cotp_reasm_free(&r);
    i61_buf_free(&f);
    free(pdu_copy);
    free(g1);
    free(g2);
}

static void test_session_forms(void)
{
    /* long LI form (ff xx xx) round trip, user data > 254 */
    uint8_t ud[600];
    for (size_t k = 0; k < sizeof ud; k++)
        ud[k] = (uint8_t)k;
    i61_spdu s, d;
    memset(&s, 0, sizeof s);
    s.si = I61_SPDU_FN;
    s.user_data = ud;
    s.user_data_len = sizeof ud;
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_session_write(&b, &s), I61_OK);
    T_EQ_INT(b.data[1], 0xff);
    T_EQ_INT(b.data[4], 193);
    T_EQ_INT(b.data[5], 0xff);
    T_EQ_INT(i61_session_decode(b.data, b.len, &d), I61_OK);
    T_EQ_INT(d.si, I61_SPDU_FN);
    T_EQ_MEM(d.user_data, d.user_data_len, ud, sizeof ud);

    /* lone DT */
    static const uint8_t lone[] = { 0x01, 0x00, 0x61, 0x09, 0x30, 0x07, 0x02, 0x01, 0x03, 0xa0, 0x02, 0x8c, 0x00 };
    const uint8_t *pdu;
    size_t pl;
    T_EQ_INT(i61_iso_decode_data(lone, sizeof lone, &pdu, &pl, NULL), 1);
    T_EQ_INT(pl, 2);
    T_EQ_INT(i61_session_decode(lone, sizeof lone, &d), I61_OK);
    T_CHECK(!d.gt);
    T_EQ_INT(d.user_data_len, 11);
    /* GT with a token parameter: general path */
    static const uint8_t gtp[] = { 0x01, 0x03, 0x10, 0x01, 0x00, 0x01, 0x00, 0x61, 0x09, 0x30, 0x07, 0x02, 0x01,
                                   0x03, 0xa0, 0x02, 0x8c, 0x00 };
    T_EQ_INT(i61_iso_decode_data(gtp, sizeof gtp, &pdu, &pl, NULL), 0);
    /* a data TSDU with a broken presentation header is an error (negative) */
    static const uint8_t brk[] = { 0x01, 0x00, 0x01, 0x00, 0x61, 0x09, 0x30 };
    T_EQ_INT(i61_iso_decode_data(brk, sizeof brk, &pdu, &pl, NULL), -I61_ERR_MALFORMED_MESSAGE);
    i61_iso_ind ind;
    T_EQ_INT(i61_iso_decode_tsdu(gtp, sizeof gtp, &ind), I61_OK);
    T_EQ_INT(ind.type, I61_ISO_IND_DATA);
    T_EQ_INT(ind.pdu_len, 2);

    /* RF with a reason code */
    i61_buf_reset(&b);
    T_EQ_INT(i61_iso_write_refuse_tsdu(&b, I61_SESSION_RF_SSEL_UNKNOWN), I61_OK);
    T_EQ_INT(i61_iso_decode_tsdu(b.data, b.len, &ind), I61_OK);
    T_EQ_INT(ind.type, I61_ISO_IND_REFUSE);
    T_CHECK(ind.spdu.has_reason);
    T_EQ_INT(ind.spdu.reason, I61_SESSION_RF_SSEL_UNKNOWN);
    T_CHECK(!ind.has_acse);
    /* unknown SI, LI past the end, trailing octets after a CN */
    static const uint8_t bad1[] = { 0x55, 0x00 };
    static const uint8_t bad2[] = { 0x0d, 0x05, 0x05, 0x00 };
    static const uint8_t bad3[] = { 0x1a, 0x00, 0x00 };
    static const uint8_t bad4[] = { 0x0d, 0x04, 0x05, 0x06, 0x13, 0x01 };   /* PGI longer than the SPDU */
    T_EQ_INT(i61_session_decode(bad1, sizeof bad1, &d), I61_ERR_MALFORMED_MESSAGE);
    T_EQ_INT(i61_session_decode(bad2, sizeof bad2, &d), I61_ERR_MALFORMED_MESSAGE);
    T_EQ_INT(i61_session_decode(bad3, sizeof bad3, &d), I61_ERR_MALFORMED_MESSAGE);
    T_EQ_INT(i61_session_decode(bad4, sizeof bad4, &d), I61_ERR_MALFORMED_MESSAGE);
    i61_buf_free(&b);
}

static void test_cpr_and_rejecting_aare(void)
{
    /* RF carrying CPR carrying a rejecting AARE */
    i61_acse_apdu a;
    i61_acse_init(&a, I61_ACSE_AARE);
    memcpy(a.app_ctx, i61_oid_mms_context, 5);
    a.app_ctx_len = 5;
    a.result = I61_ACSE_REJECTED_PERMANENT;
    a.diag_source = I61_ACSE_DIAG_USER;
    a.diag = I61_ACSE_DIAG_AUTH_FAILURE;
    i61_buf acse, pres, b;
    i61_buf_init(&acse);
    i61_buf_init(&pres);
    i61_buf_init(&b);
    T_EQ_INT(i61_acse_write(&acse, &a), I61_OK);
    i61_pres_connect c;
    memset(&c, 0, sizeof c);
    c.provider_reason = -1;
    c.n_ctx = 2;
    c.ctx[0].result = I61_PRES_ACCEPT;
    c.ctx[0].provider_reason = -1;
    c.ctx[1].result = I61_PRES_USER_REJECTION;
    c.ctx[1].provider_reason = -1;
    c.ud_ctx = 1;
    c.user_data = acse.data;
    c.user_data_len = acse.len;
    T_EQ_INT(i61_pres_write_cpr(&pres, &c), I61_OK);
    i61_spdu s;
    memset(&s, 0, sizeof s);
    s.si = I61_SPDU_RF;
    s.has_reason = 1;
    s.reason = I61_SESSION_RF_USER_DATA;
    s.user_data = pres.data;
    s.user_data_len = pres.len;
    T_EQ_INT(i61_session_write(&b, &s), I61_OK);
    i61_iso_ind ind;
    T_EQ_INT(i61_iso_decode_tsdu(b.data, b.len, &ind), I61_OK);
    T_EQ_INT(ind.type, I61_ISO_IND_REFUSE);
    T_EQ_INT(ind.spdu.reason, I61_SESSION_RF_USER_DATA);
    T_CHECK(ind.has_pres);
    T_EQ_INT(ind.pres.n_ctx, 2);
    T_EQ_INT(ind.pres.ctx[1].result, I61_PRES_USER_REJECTION);
    T_CHECK(ind.has_acse);
    T_EQ_INT(ind.acse.result, I61_ACSE_REJECTED_PERMANENT);
    T_EQ_INT(ind.acse.diag, I61_ACSE_DIAG_AUTH_FAILURE);
    i61_buf_free(&acse);
    i61_buf_free(&pres);
    i61_buf_free(&b);
}

/* A client that numbers its contexts differently: the server's answers echo its ids. */
static void test_other_context_ids(void)
{
    i61_acse_apdu aarq;
    i61_acse_init_aarq_default(&aarq);
    static const uint8_t mms[2] = { 0x05, 0x00 };
    aarq.ui_ctx = 7;
    aarq.user_info = mms;
    aarq.user_info_len = 2;
    i61_buf acse, pres, tsdu, out;
    i61_buf_init(&acse);
    i61_buf_init(&pres);
    i61_buf_init(&tsdu);
    i61_buf_init(&out);
    T_EQ_INT(i61_acse_write(&acse, &aarq), I61_OK);
    i61_pres_connect cp;
    i61_pres_connect_init_default(&cp);
    cp.ctx[0].id = 5;
    cp.ctx[1].id = 7;
    cp.ud_ctx = 5;
    cp.user_data = acse.data;
    cp.user_data_len = acse.len;
    T_EQ_INT(i61_pres_write_cp(&pres, &cp), I61_OK);
    i61_spdu s;
    memset(&s, 0, sizeof s);
    s.si = I61_SPDU_CN;
    s.user_data = pres.data;
    s.user_data_len = pres.len;
    T_EQ_INT(i61_session_write(&tsdu, &s), I61_OK);
    i61_iso_ind cn, ac;
    T_EQ_INT(i61_iso_decode_tsdu(tsdu.data, tsdu.len, &cn), I61_OK);
    T_EQ_INT(i61_iso_find_ctx(&cn.pres, i61_oid_acse_as, 4), 5);
    T_EQ_INT(i61_iso_find_ctx(&cn.pres, i61_oid_mms_as, 5), 7);
    T_EQ_INT(i61_iso_find_ctx(&cn.pres, i61_oid_ber, 2), -1);
    T_EQ_INT(cn.ctx, 7);
    T_EQ_INT(i61_iso_write_accept_tsdu(&out, &cn, I61_ACSE_ACCEPTED, 0, mms, 2), I61_OK);
    T_EQ_INT(i61_iso_decode_tsdu(out.data, out.len, &ac), I61_OK);
    T_EQ_INT(ac.type, I61_ISO_IND_ACCEPT);
    T_EQ_INT(ac.pres.ud_ctx, 5);
    T_EQ_INT(ac.ctx, 7);
    T_EQ_INT(ac.pres.n_ctx, 2);
    /* release / abort in context 5 */
    i61_buf_reset(&out);
    T_EQ_INT(i61_iso_write_release_response_tsdu_ctx(&out, 5), I61_OK);
    T_EQ_INT(i61_iso_decode_tsdu(out.data, out.len, &ac), I61_OK);
    T_EQ_INT(ac.type, I61_ISO_IND_RELEASE_RESPONSE);
    int32_t ctx;
    const uint8_t *apdu;
    size_t alen;
    T_EQ_INT(i61_pres_decode_user_data(ac.spdu.user_data, ac.spdu.user_data_len, &ctx, &apdu, &alen), I61_OK);
    T_EQ_INT(ctx, 5);
    i61_buf_reset(&out);
    T_EQ_INT(i61_iso_write_abort_tsdu_ctx(&out, 5), I61_OK);
    T_EQ_INT(i61_iso_decode_tsdu(out.data, out.len, &ac), I61_OK);
    T_EQ_INT(ac.type, I61_ISO_IND_ABORT);
    T_CHECK(ac.has_acse);
    T_EQ_INT(i61_iso_write_abort_tsdu_ctx(&out, 0), I61_ERR_INVALID_ARGUMENT);
    i61_buf_free(&acse);
    i61_buf_free(&pres);
    i61_buf_free(&tsdu);
    i61_buf_free(&out);
}

static void test_aarq_password(void)
{
    i61_iso_addr a;
    i61_iso_addr_init_default(&a);
    a.password = "secret";
    static const uint8_t mms[2] = { 0x05, 0x00 };
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_iso_write_connect_tsdu(&b, &a, mms, 2), I61_OK);
    i61_iso_ind ind;
    T_EQ_INT(i61_iso_decode_tsdu(b.data, b.len, &ind), I61_OK);
    T_CHECK(ind.acse.has_auth);
    T_EQ_MEM(ind.acse.mechanism, ind.acse.mechanism_len, i61_oid_auth_password, 3);
    T_EQ_MEM(ind.acse.password, ind.acse.password_len, "secret", 6);
    /* PROTOCOL.md section 6 layout */
    static const uint8_t req[] = { 0x8a, 0x02, 0x07, 0x80, 0x8b, 0x03, 0x52, 0x03, 0x01, 0xac, 0x08, 0x80, 0x06 };
    int found = 0;
    for (size_t k = 0; k + sizeof req <= b.len; k++)
        if (memcmp(b.data + k, req, sizeof req) == 0)
            found = 1;
    T_CHECK(found);
    i61_buf_free(&b);
}

/* Every decoder over every prefix and over damaged copies of the golden frames:
 * the results are errors or successes, never a crash (ASan checks the reads). */
static int decode_everything(const uint8_t *p, size_t n)
{
    int ok = 0;
    size_t fl;
    i61_cotp_tpdu t;
    i61_spdu s;
    i61_pres_connect c;
    i61_pres_abort pa;
    i61_acse_apdu a;
    i61_iso_ind ind;
    i61_initiate ini;
    int kind, cls, code;
    const uint8_t *pdu;
    size_t pl;
    int32_t ctx;
    ok += i61_tpkt_check(p, n, I61_TPKT_MAX, &fl) == 1;
    if (n > 4)
        ok += i61_cotp_decode(p + 4, n - 4, &t) == I61_OK;
    ok += i61_session_decode(p, n, &s) == I61_OK;
    ok += i61_pres_decode_cp(p, n, &c) == I61_OK;
    ok += i61_pres_decode_cpa(p, n, &c) == I61_OK;
    ok += i61_pres_decode_cpr(p, n, &c) == I61_OK;
    ok += i61_pres_decode_abort(p, n, &pa) == I61_OK;
    ok += i61_pres_decode_user_data(p, n, &ctx, &pdu, &pl) == I61_OK;
    ok += i61_acse_decode(p, n, &a) == I61_OK;
    ok += i61_iso_decode_tsdu(p, n, &ind) == I61_OK;
    ok += i61_iso_decode_data(p, n, &pdu, &pl, &ctx) == 1;
    ok += i61_initiate_decode(p, n, &kind, &ini, &cls, &code) == I61_OK;
    ok += i61_conclude_decode(p, n, &kind) == I61_OK;
    return ok;
}

static void test_truncated_and_garbage(void)
{
    static const char *names[] = { "001_cotp_cr", "002_cotp_cc", "003_initiate_request", "004_initiate_response",
                                   "134_conclude_request", "135_conclude_response", "136_release_rlrq",
                                   "137_release_rlre", "138_abort_abrt", "140_initiate_small_response" };
    uint32_t seed = 12345;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        size_t n;
        uint8_t *g = t_golden(names[k], &n);
        /* every strict prefix of the TSDU must be refused by the full TSDU decoder */
        i61_cotp_tpdu t;
        T_EQ_INT(frame_tpdu(g, n, &t), I61_OK);
        size_t off = (size_t)(t.data - g);
        int bad_prefix_accepted = 0;
        for (size_t m = 0; m < n; m++) {
            uint8_t *c = malloc(m ? m : 1);
            memcpy(c, g, m);
            decode_everything(c, m);
            if (m >= off && t.data_len > 0 && m < n) {
                i61_iso_ind ind;
                if (i61_iso_decode_tsdu(c + off, m - off, &ind) == I61_OK)
                    bad_prefix_accepted++;
            }
            size_t fl;
            if (i61_tpkt_check(c, m, I61_TPKT_MAX, &fl) == 1)
                bad_prefix_accepted++;
            free(c);
        }
        T_EQ_INT(bad_prefix_accepted, 0);
        /* damaged copies: random octets changed */
        for (int round = 0; round < 2000; round++) {
            uint8_t *c = malloc(n);
            memcpy(c, g, n);
            int flips = 1 + round % 4;
            for (int f = 0; f < flips; f++) {
                seed = seed * 1103515245u + 12345u;
                size_t pos = (seed >> 8) % n;
                seed = seed * 1103515245u + 12345u;
                c[pos] = (uint8_t)(seed >> 16);
            }
            decode_everything(c, n);
            decode_everything(c + 7 < c + n ? c + 7 : c, n > 7 ? n - 7 : 0);
            free(c);
        }
        free(g);
    }
    /* all-0xff and all-zero buffers */
    uint8_t z[300];
    memset(z, 0, sizeof z);
    T_EQ_INT(decode_everything(z, sizeof z), 0);
    memset(z, 0xff, sizeof z);
    T_EQ_INT(decode_everything(z, sizeof z), 0);
}

T_MAIN(T_CASE(test_cr_001), T_CASE(test_cc_002), T_CASE(test_cc_max_tsels), T_CASE(test_dr_er), T_CASE(test_tpkt),
       T_CASE(test_connect_003), T_CASE(test_accept_004), T_CASE(test_conclude_134_135),
       T_CASE(test_release_136_137), T_CASE(test_abort_138), T_CASE(test_arp_decode), T_CASE(test_reassembly_155_156),
       T_CASE(test_session_forms), T_CASE(test_cpr_and_rejecting_aare), T_CASE(test_other_context_ids), T_CASE(test_aarq_password),
       T_CASE(test_truncated_and_garbage))
