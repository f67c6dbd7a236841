/* MMS Initiate / Conclude codec against golden 003, 004, 134, 135, 139, 140. */
#include "t.h"
#include "iso/iso_conn.h"
#include "mms/initiate.h"

/* The MMS PDU inside a golden frame (initiate in the ACSE user information, or
 * a data-phase PDU). */
static const uint8_t *mms_of(const uint8_t *g, size_t n, size_t *len, i61_iso_ind *ind)
{
    i61_cotp_tpdu t;
    if (i61_cotp_decode(g + 4, n - 4, &t) != I61_OK)
        return NULL;
    if (i61_iso_decode_tsdu(t.data, t.data_len, ind) != I61_OK)
        return NULL;
    *len = ind->pdu_len;
    return ind->pdu;
}

static void test_request_003(void)
{
    size_t n, pl;
    uint8_t *g = t_golden("003_initiate_request", &n);
    i61_iso_ind ind;
    const uint8_t *pdu = mms_of(g, n, &pl, &ind);
    T_CHECK(pdu != NULL);
    if (!pdu) {
        free(g);
        return;
    }
    int kind = -1;
    i61_initiate ini;
    T_EQ_INT(i61_initiate_decode(pdu, pl, &kind, &ini, NULL, NULL), I61_OK);
    T_EQ_INT(kind, I61_MMS_INITIATE_REQUEST);
    T_CHECK(ini.has_local_detail);
    T_EQ_INT(ini.local_detail, 65000);
    T_EQ_INT(ini.max_serv_outstanding_calling, 5);
    T_EQ_INT(ini.max_serv_outstanding_called, 5);
    T_CHECK(ini.has_nesting_level);
    T_EQ_INT(ini.nesting_level, 10);
    T_EQ_INT(ini.version, 1);
    T_EQ_INT(ini.param_cbb_bits, 11);
    T_EQ_INT(ini.param_cbb[0], 0xf1);
    T_EQ_INT(ini.param_cbb[1], 0x00);
    T_EQ_INT(ini.services_bits, 85);
    static const uint8_t cli[11] = { 0xee, 0x1c, 0, 0, 0x04, 0x08, 0, 0, 0x79, 0xef, 0x18 };
    T_EQ_MEM(ini.services, 11, cli, 11);
    /* re-encode byte for byte, and from the defaults */
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_initiate_write_request(&b, &ini), I61_OK);
    T_EQ_MEM(b.data, b.len, pdu, pl);
    i61_buf_reset(&b);
    i61_initiate d;
    i61_initiate_init_client(&d);
    T_EQ_INT(i61_initiate_write_request(&b, &d), I61_OK);
    T_EQ_MEM(b.data, b.len, pdu, pl);
    i61_buf_free(&b);
    free(g);
}

static void test_response_004(void)
{
    size_t n, pl;
    uint8_t *g = t_golden("004_initiate_response", &n);
    i61_iso_ind ind;
    const uint8_t *pdu = mms_of(g, n, &pl, &ind);
    T_CHECK(pdu != NULL);
    if (!pdu) {
        free(g);
        return;
    }
    int kind = -1;
    i61_initiate ini;
    T_EQ_INT(i61_initiate_decode(pdu, pl, &kind, &ini, NULL, NULL), I61_OK);
    T_EQ_INT(kind, I61_MMS_INITIATE_RESPONSE);
    T_EQ_INT(ini.local_detail, 65000);
    T_EQ_INT(ini.max_serv_outstanding_calling, 5);
    T_EQ_INT(ini.max_serv_outstanding_called, 5);
    T_EQ_INT(ini.nesting_level, 10);
    T_EQ_INT(ini.version, 1);
    static const uint8_t srv[11] = { 0xee, 0x1c, 0, 0, 0, 0x02, 0, 0, 0x40, 0xed, 0x18 };
    T_EQ_MEM(ini.services, 11, srv, 11);
    /* services bits: read (4), write (5), fileDirectory (77), informationReport (79) */
    T_CHECK(ini.services[0] & 0x08);
    T_CHECK(ini.services[0] & 0x04);
    T_CHECK(ini.services[9] & (0x80 >> (77 % 8)));
    T_CHECK(ini.services[9] & (0x80 >> (79 % 8)));
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_initiate_write_response(&b, &ini), I61_OK);
    T_EQ_MEM(b.data, b.len, pdu, pl);
    i61_buf_reset(&b);
    i61_initiate d;
    i61_initiate_init_server(&d);
    T_EQ_INT(i61_initiate_write_response(&b, &d), I61_OK);
    T_EQ_MEM(b.data, b.len, pdu, pl);
    i61_buf_free(&b);
    free(g);
}

static void test_small_139_140(void)
{
    size_t n, pl;
    uint8_t *g = t_golden("139_initiate_small_request", &n);
    i61_iso_ind ind;
    const uint8_t *pdu = mms_of(g, n, &pl, &ind);
    T_CHECK(pdu != NULL);
    int kind;
    i61_initiate req, resp, own;
    if (pdu) {
        T_EQ_INT(i61_initiate_decode(pdu, pl, &kind, &req, NULL, NULL), I61_OK);
        T_EQ_INT(req.local_detail, 512);
    }
    free(g);
    g = t_golden("140_initiate_small_response", &n);
    pdu = mms_of(g, n, &pl, &ind);
    T_CHECK(pdu != NULL);
    if (pdu) {
        T_EQ_INT(i61_initiate_decode(pdu, pl, &kind, &resp, NULL, NULL), I61_OK);
        T_EQ_INT(resp.local_detail, 512);
        /* the server's negotiation gives this response */
        i61_initiate neg;
        i61_initiate_init_server(&own);
        T_EQ_INT(i61_initiate_negotiate(&req, &own, &neg), I61_OK);
        i61_buf b;
        i61_buf_init(&b);
        T_EQ_INT(i61_initiate_write_response(&b, &neg), I61_OK);
        T_EQ_MEM(b.data, b.len, pdu, pl);
        i61_buf_free(&b);
    }
    free(g);
}

static void test_negotiate(void)
{
    i61_initiate req, own, resp;
    i61_initiate_init_client(&req);
    i61_initiate_init_server(&own);
    req.local_detail = 100000;
    req.max_serv_outstanding_calling = 20;
    req.max_serv_outstanding_called = 2;
    req.nesting_level = 4;
    T_EQ_INT(i61_initiate_negotiate(&req, &own, &resp), I61_OK);
    T_EQ_INT(resp.local_detail, 65000);
    T_EQ_INT(resp.max_serv_outstanding_calling, 5);
    T_EQ_INT(resp.max_serv_outstanding_called, 2);
    T_EQ_INT(resp.nesting_level, 4);
    req.version = 0;
    T_EQ_INT(i61_initiate_negotiate(&req, &own, &resp), I61_MMS_INIT_ERR_VERSION);
    req.version = 1;
    req.max_serv_outstanding_calling = 0;
    T_EQ_INT(i61_initiate_negotiate(&req, &own, &resp), I61_MMS_INIT_ERR_MAX_CALLING);
    /* a request without localDetail / nesting */
    i61_initiate_init_client(&req);
    req.has_local_detail = 0;
    req.has_nesting_level = 0;
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_initiate_write_request(&b, &req), I61_OK);
    int kind;
    i61_initiate d;
    T_EQ_INT(i61_initiate_decode(b.data, b.len, &kind, &d, NULL, NULL), I61_OK);
    T_CHECK(!d.has_local_detail);
    T_CHECK(!d.has_nesting_level);
    T_EQ_INT(b.data[2], 0x81);
    i61_buf_free(&b);
}

static void test_error(void)
{
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_initiate_write_error(&b, I61_MMS_INIT_ERR_MAX_SEGMENT), I61_OK);
    static const uint8_t want[] = { 0xaa, 0x05, 0xa0, 0x03, 0x88, 0x01, 0x02 };
    T_EQ_MEM(b.data, b.len, want, sizeof want);
    int kind = -1, cls = -1, code = -1;
    i61_initiate d;
    T_EQ_INT(i61_initiate_decode(b.data, b.len, &kind, &d, &cls, &code), I61_OK);
    T_EQ_INT(kind, I61_MMS_INITIATE_ERROR);
    T_EQ_INT(cls, 8);
    T_EQ_INT(code, 2);
    /* with additionalCode */
    static const uint8_t more[] = { 0xaa, 0x08, 0xa0, 0x03, 0x88, 0x01, 0x01, 0x81, 0x01, 0x07 };
    T_EQ_INT(i61_initiate_decode(more, sizeof more, &kind, &d, &cls, &code), I61_OK);
    T_EQ_INT(code, 1);
    i61_buf_free(&b);
}

static void test_conclude(void)
{
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_conclude_write_request(&b), I61_OK);
    static const uint8_t rq[] = { 0x8b, 0x00 }, rs[] = { 0x8c, 0x00 };
    T_EQ_MEM(b.data, b.len, rq, 2);
    int kind = -1;
    T_EQ_INT(i61_conclude_decode(b.data, b.len, &kind), I61_OK);
    T_EQ_INT(kind, I61_MMS_CONCLUDE_REQUEST);
    i61_buf_reset(&b);
    T_EQ_INT(i61_conclude_write_response(&b), I61_OK);
    T_EQ_MEM(b.data, b.len, rs, 2);
    T_EQ_INT(i61_conclude_decode(b.data, b.len, &kind), I61_OK);
    T_EQ_INT(kind, I61_MMS_CONCLUDE_RESPONSE);
    i61_buf_reset(&b);
    T_EQ_INT(i61_conclude_write_error(&b, 1), I61_OK);
    T_EQ_INT(b.data[0], 0xad);
    T_EQ_INT(b.data[4], 0x89);
    T_EQ_INT(i61_conclude_decode(b.data, b.len, &kind), I61_OK);
    T_EQ_INT(kind, I61_MMS_CONCLUDE_ERROR);
    /* golden 134/135 carry exactly these */
    size_t n, pl;
    uint8_t *g = t_golden("135_conclude_response", &n);
    i61_iso_ind ind;
    const uint8_t *pdu = mms_of(g, n, &pl, &ind);
    T_CHECK(pdu && pl == 2 && memcmp(pdu, rs, 2) == 0);
    free(g);
    i61_buf_free(&b);
}

static void test_malformed(void)
{
    int kind;
    i61_initiate d;
    /* missing mmsInitRequestDetail */
    static const uint8_t a[] = { 0xa8, 0x06, 0x81, 0x01, 0x05, 0x82, 0x01, 0x05 };
    T_EQ_INT(i61_initiate_decode(a, sizeof a, &kind, &d, NULL, NULL), I61_ERR_MALFORMED_MESSAGE);
    /* unused-bits octet > 7 */
    static const uint8_t b[] = { 0xa8, 0x13, 0x81, 0x01, 0x05, 0x82, 0x01, 0x05, 0xa4, 0x0b, 0x80, 0x01, 0x01,
                                 0x81, 0x03, 0x09, 0xf1, 0x00, 0x82, 0x01, 0x00 };
    T_EQ_INT(i61_initiate_decode(b, sizeof b, &kind, &d, NULL, NULL), I61_ERR_MALFORMED_MESSAGE);
    /* negative size */
    static const uint8_t c[] = { 0xa8, 0x16, 0x80, 0x01, 0xff, 0x81, 0x01, 0x05, 0x82, 0x01, 0x05, 0xa4, 0x0b,
                                 0x80, 0x01, 0x01, 0x81, 0x03, 0x05, 0xf1, 0x00, 0x82, 0x01, 0x00 };
    T_EQ_INT(i61_initiate_decode(c, sizeof c, &kind, &d, NULL, NULL), I61_ERR_MALFORMED_MESSAGE);
    /* the same with 00 instead of ff decodes (an empty services bit string) */
    uint8_t c2[sizeof c];
    memcpy(c2, c, sizeof c);
    c2[4] = 0;
    T_EQ_INT(i61_initiate_decode(c2, sizeof c2, &kind, &d, NULL, NULL), I61_OK);
    T_EQ_INT(d.services_bits, 0);
    /* trailing octets, wrong tags */
    static const uint8_t e[] = { 0x8c, 0x00, 0x00 };
    T_EQ_INT(i61_conclude_decode(e, sizeof e, &kind), I61_ERR_MALFORMED_MESSAGE);
    static const uint8_t f[] = { 0x8c, 0x01, 0x00 };
    T_EQ_INT(i61_conclude_decode(f, sizeof f, &kind), I61_ERR_MALFORMED_MESSAGE);
    static const uint8_t h[] = { 0xa1, 0x00 };
    T_EQ_INT(i61_initiate_decode(h, sizeof h, &kind, &d, NULL, NULL), I61_ERR_MALFORMED_MESSAGE);
    /* every prefix of 003's initiate is refused */
    size_t n, pl;
    uint8_t *g = t_golden("003_initiate_request", &n);
    i61_iso_ind ind;
    const uint8_t *pdu = mms_of(g, n, &pl, &ind);
    int accepted = 0;
    for (size_t m = 0; pdu && m < pl; m++) {
        uint8_t *cp = malloc(m ? m : 1);
        memcpy(cp, pdu, m);
        if (i61_initiate_decode(cp, m, &kind, &d, NULL, NULL) == I61_OK)
            accepted++;
        free(cp);
    }
    T_EQ_INT(accepted, 0);
    free(g);
}

T_MAIN(T_CASE(test_request_003), T_CASE(test_response_004), T_CASE(test_small_139_140),
       T_CASE(test_negotiate), T_CASE(test_error), T_CASE(test_conclude), T_CASE(test_malformed))
