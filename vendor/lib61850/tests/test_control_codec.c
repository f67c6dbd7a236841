/* Control model codec (mms_control.h):
 *  - Oper / SBOw / Cancel structures built from parameters, written as the
 *    Write requests of golden 091 / 093 / 095 / 100 byte for byte (same T,
 *    origin and invoke id), and read back from those frames;
 *  - CommandTermination+ (097), CommandTermination- (104) and LastApplError
 *    (106) decoded and re-encoded byte for byte;
 *  - UtcTime <-> ms, and malformed input: every truncation and every single
 *    octet change of the control reports decodes or fails cleanly. */
#include "t.h"
#include "ber/ber.h"
#include "mms/mms_control.h"
#include "mms/mms_data.h"
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

static void hex8(const char *s, uint8_t out[8])
{
    for (int i = 0; i < 8; i++) {
        unsigned v;
        sscanf(s + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

/* Builds the command and the Write request exactly as golden `name`. */
static void check_write(const char *name, uint32_t invoke_id, const char *item, int which,
                        int ctl_val, int ctl_num, const char *t_hex)
{
    i61_value *cv = i61_value_new_boolean(ctl_val);
    i61_ctl_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.ctl_val = cv;
    cmd.or_cat = I61_OR_CAT_REMOTE_CONTROL;
    cmd.or_ident = (const uint8_t *)"gold-client";
    cmd.or_ident_len = 11;
    cmd.ctl_num = (uint8_t)ctl_num;
    hex8(t_hex, cmd.t);
    cmd.has_check = true;            /* ignored for Cancel */
    i61_value *oper = NULL;
    T_EQ_INT(i61_ctl_build(which, &cmd, &oper), I61_OK);
    T_EQ_INT(i61_value_count(oper), which == I61_CTL_CANCEL ? 5 : 6);

    i61_mms_var var;
    memset(&var, 0, sizeof var);
    var.name.scope = I61_MMS_SCOPE_DOMAIN;
    strcpy(var.name.domain, "IED1LD1");
    strcpy(var.name.item, item);
    i61_mms_access_spec spec = { false, { 0, "", "" }, &var, 1 };
    const i61_value *vals[1] = { oper };
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_enc_write_req(&b, invoke_id, &spec, vals, 1), I61_OK);
    size_t gl;
    uint8_t *g = g_pdu(name, &gl);
    T_EQ_MEM(b.data, b.len, g, gl);

    /* and back: the server's view of the same frame */
    i61_mms_request rq;
    i61_mms_access_spec got;
    i61_value **wv = NULL;
    size_t nv = 0;
    T_EQ_INT(i61_mms_dec_request(g, gl, &rq), I61_OK);
    T_EQ_INT(i61_mms_dec_write_req(&rq, &got, &wv, &nv), I61_OK);
    T_EQ_INT(nv, 1);
    if (nv == 1) {
        i61_ctl_cmd p;
        T_EQ_INT(i61_ctl_parse(wv[0], &p), I61_OK);
        int b2 = -1;
        T_EQ_INT(i61_value_get_boolean(p.ctl_val, &b2), I61_OK);
        T_EQ_INT(b2, ctl_val);
        T_CHECK(!p.has_oper_tm);
        T_EQ_INT(p.or_cat, 3);
        T_EQ_MEM(p.or_ident, p.or_ident_len, "gold-client", 11);
        T_EQ_INT(p.ctl_num, ctl_num);
        T_EQ_MEM(p.t, 8, cmd.t, 8);
        T_CHECK(!p.test);
        T_EQ_INT(p.has_check, which != I61_CTL_CANCEL);
        T_CHECK(!p.synchro_check && !p.interlock_check);
    }
    i61_mms_values_free(wv, nv);
    i61_mms_access_spec_clear(&got);
    free(g);
    i61_buf_free(&b);
    i61_value_free(oper);
    i61_value_free(cv);
}

static void test_operate_direct_091(void)
{
    check_write("091_operate_direct_request", 44, "GGIO1$CO$SPCSO1$Oper", I61_CTL_OPER, 1, 1,
                "6b0144c5d4fdf300");
}

static void test_select_sbow_093(void)
{
    check_write("093_select_sbow_request", 45, "GGIO1$CO$SPCSO2$SBOw", I61_CTL_SBOW, 1, 1,
                "6b0144c66e978d00");
}

static void test_operate_sbo_095(void)
{
    check_write("095_operate_sbo_request", 46, "GGIO1$CO$SPCSO2$Oper", I61_CTL_OPER, 1, 1,
                "6b0144c6f0624d00");
}

static void test_select_sbow_2_098(void)
{
    check_write("098_select_sbow_2_request", 47, "GGIO1$CO$SPCSO2$SBOw", I61_CTL_SBOW, 0, 2,
                "6b0144c7f1eb8500");
}

static void test_cancel_100(void)
{
    check_write("100_cancel_request", 48, "GGIO1$CO$SPCSO2$Cancel", I61_CTL_CANCEL, 0, 2,
                "6b0144c8722d0e00");
}

/* operTm, Test, Check bits, an APC ctlVal; parse finds everything again. */
static void test_build_parse_full(void)
{
    i61_value *av = i61_value_new_structure(1);
    i61_value_set_element(av, 0, i61_value_new_float(12.5f));
    i61_ctl_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.ctl_val = av;
    cmd.has_oper_tm = true;
    i61_utc_time_from_ms(1700000000123ull, 0x0a, cmd.oper_tm);
    cmd.or_cat = I61_OR_CAT_STATION_CONTROL;
    cmd.ctl_num = 255;
    i61_utc_time_from_ms(1700000000000ull, 0, cmd.t);
    cmd.test = true;
    cmd.has_check = true;
    cmd.synchro_check = true;
    cmd.interlock_check = true;
    i61_value *v = NULL;
    T_EQ_INT(i61_ctl_build(I61_CTL_SBOW, &cmd, &v), I61_OK);
    T_EQ_INT(i61_value_count(v), 7);
    const i61_value *chk = i61_value_element(v, 6);
    size_t bl = 0;
    const uint8_t *bits = i61_value_get_bytes(chk, &bl);
    T_EQ_INT(i61_value_bit_size(chk), 2);
    T_CHECK(bits && bits[0] == 0xc0);
    /* empty orIdent is an empty OCTET STRING */
    size_t il = 99;
    i61_value_get_bytes(i61_value_element(i61_value_element(v, 2), 1), &il);
    T_EQ_INT(il, 0);

    i61_ctl_cmd p;
    T_EQ_INT(i61_ctl_parse(v, &p), I61_OK);
    T_CHECK(p.has_oper_tm);
    T_EQ_INT(i61_utc_time_to_ms(p.oper_tm), 1700000000123ll);
    T_EQ_INT(p.oper_tm[7], 0x0a);
    T_EQ_INT(p.or_cat, 2);
    T_EQ_INT(p.or_ident_len, 0);
    T_EQ_INT(p.ctl_num, 255);
    T_CHECK(p.test && p.has_check && p.synchro_check && p.interlock_check);
    T_EQ_INT(i61_value_type(p.ctl_val), I61_TYPE_STRUCTURE);
    i61_value_free(v);

    /* Cancel never carries Check, keeps operTm */
    T_EQ_INT(i61_ctl_build(I61_CTL_CANCEL, &cmd, &v), I61_OK);
    T_EQ_INT(i61_value_count(v), 6);
    T_EQ_INT(i61_ctl_parse(v, &p), I61_OK);
    T_CHECK(p.has_oper_tm && !p.has_check);
    i61_value_free(v);

    /* bad input */
    cmd.or_ident_len = 65;
    cmd.or_ident = (const uint8_t *)"x";
    T_EQ_INT(i61_ctl_build(I61_CTL_OPER, &cmd, &v), I61_ERR_INVALID_ARGUMENT);
    T_CHECK(v == NULL);
    cmd.or_ident_len = 0;
    T_EQ_INT(i61_ctl_build(7, &cmd, &v), I61_ERR_INVALID_ARGUMENT);
    cmd.ctl_val = NULL;
    T_EQ_INT(i61_ctl_build(I61_CTL_OPER, &cmd, &v), I61_ERR_INVALID_ARGUMENT);
    i61_value_free(av);
}

/* Shapes i61_ctl_parse must refuse. */
static void test_parse_refuses(void)
{
    i61_ctl_cmd p;
    i61_value *b = i61_value_new_boolean(1);
    T_EQ_INT(i61_ctl_parse(b, &p), I61_ERR_TYPE_INCONSISTENT);
    i61_value_free(b);

    i61_value *cv = i61_value_new_boolean(1);
    i61_ctl_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.ctl_val = cv;
    cmd.has_check = true;
    i61_value *v = NULL;
    T_EQ_INT(i61_ctl_build(I61_CTL_OPER, &cmd, &v), I61_OK);
    /* ctlNum out of range */
    i61_value_set_element(v, 2, i61_value_new_unsigned(256));
    T_EQ_INT(i61_ctl_parse(v, &p), I61_ERR_TYPE_INCONSISTENT);
    i61_value_set_element(v, 2, i61_value_new_unsigned(7));
    T_EQ_INT(i61_ctl_parse(v, &p), I61_OK);
    /* Test not a boolean */
    i61_value_set_element(v, 4, i61_value_new_integer(1));
    T_EQ_INT(i61_ctl_parse(v, &p), I61_ERR_TYPE_INCONSISTENT);
    i61_value_set_element(v, 4, i61_value_new_boolean(0));
    /* orIdent of 65 octets */
    uint8_t big[65] = { 0 };
    i61_value_set_element(i61_value_element(v, 1), 1, i61_value_new_octet_string(big, 65));
    T_EQ_INT(i61_ctl_parse(v, &p), I61_ERR_TYPE_INCONSISTENT);
    i61_value_set_element(i61_value_element(v, 1), 1, i61_value_new_octet_string(big, 64));
    T_EQ_INT(i61_ctl_parse(v, &p), I61_OK);
    /* a 1-bit Check */
    uint8_t one = 0x80;
    i61_value_set_element(v, 5, i61_value_new_bit_string(1, &one));
    T_EQ_INT(i61_ctl_parse(v, &p), I61_ERR_TYPE_INCONSISTENT);
    /* T as Ed1 BinaryTime: converted */
    i61_value_set_element(v, 5, i61_value_new_bit_string(2, &one));
    uint8_t bt[6] = { 0x02, 0x93, 0x2e, 0x00, 0x00, 0x01 };   /* 12:00:00, 1984-01-02 */
    i61_value_set_element(v, 3, i61_value_new_binary_time(bt, 6));
    T_EQ_INT(i61_ctl_parse(v, &p), I61_OK);
    T_EQ_INT(i61_utc_time_to_ms(p.t), (5113LL + 1) * 86400000LL + 12 * 3600000LL);
    T_CHECK(p.synchro_check && !p.interlock_check);
    i61_value_free(v);
    i61_value_free(cv);
}

static void test_utc_time(void)
{
    uint8_t t[8], g[8];
    hex8("6b0144c5d4fdf300", g);
    uint64_t ms = i61_utc_time_to_ms(g);
    T_EQ_INT(ms, 1795245253832ull);          /* 2026-11-21 07:14:13.832 */
    i61_utc_time_from_ms(ms, 0, t);
    T_EQ_MEM(t, 8, g, 8);
    for (uint64_t m = 0; m < 1000; m++) {  /* every millisecond survives the round trip */
        i61_utc_time_from_ms(1600000000000ull + m, 0, t);
        T_EQ_INT(i61_utc_time_to_ms(t), 1600000000000ull + m);
    }
    i61_utc_time_from_ms(0, 0x8a, t);
    T_EQ_INT(t[0] | t[1] | t[2] | t[3] | t[4] | t[5] | t[6], 0);
    T_EQ_INT(t[7], 0x8a);
}

/* ------------------------------------------------------------ reports */

static void test_cmdterm_positive_097(void)
{
    size_t gl;
    uint8_t *g = g_pdu("097_cmdterm_positive_report", &gl);
    T_CHECK(i61_mms_is_control_report(g, gl));
    i61_ctl_rpt r;
    T_EQ_INT(i61_mms_decode_control_report(g, gl, &r), I61_OK);
    T_EQ_INT(r.kind, I61_CTL_RPT_TERM_POS);
    T_EQ_INT(r.oper.scope, I61_MMS_SCOPE_DOMAIN);
    T_CHECK(strcmp(r.oper.domain, "IED1LD1") == 0);
    T_CHECK(strcmp(r.oper.item, "GGIO1$CO$SPCSO2$Oper") == 0);
    i61_ctl_cmd p;
    T_EQ_INT(i61_ctl_parse(r.oper_value, &p), I61_OK);
    T_EQ_INT(p.ctl_num, 1);
    T_EQ_MEM(p.or_ident, p.or_ident_len, "gold-client", 11);

    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_encode_cmd_term(&b, r.oper.domain, r.oper.item, r.oper_value, NULL), I61_OK);
    T_EQ_MEM(b.data, b.len, g, gl);
    i61_buf_free(&b);
    i61_mms_control_report_clear(&r);
    free(g);
}

static void test_cmdterm_negative_104(void)
{
    size_t gl;
    uint8_t *g = g_pdu("104_cmdterm_negative_report", &gl);
    T_CHECK(i61_mms_is_control_report(g, gl));
    i61_ctl_rpt r;
    T_EQ_INT(i61_mms_decode_control_report(g, gl, &r), I61_OK);
    T_EQ_INT(r.kind, I61_CTL_RPT_TERM_NEG);
    T_CHECK(strcmp(r.lae.control_object, "IED1LD1/GGIO1$CO$SPCSO3$Oper") == 0);
    T_EQ_INT(r.lae.error, 0);
    T_EQ_INT(r.lae.or_cat, 3);
    T_EQ_MEM(r.lae.or_ident, r.lae.or_ident_len, "gold-client", 11);
    T_EQ_INT(r.lae.ctl_num, 1);
    T_EQ_INT(r.lae.add_cause, 0);
    T_CHECK(strcmp(r.oper.item, "GGIO1$CO$SPCSO3$Oper") == 0);
    T_EQ_INT(i61_value_count(r.oper_value), 6);

    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_encode_cmd_term(&b, r.oper.domain, r.oper.item, r.oper_value, &r.lae),
             I61_OK);
    T_EQ_MEM(b.data, b.len, g, gl);
    i61_buf_free(&b);
    i61_mms_control_report_clear(&r);
    T_CHECK(r.oper_value == NULL);
    free(g);
}

static void test_last_appl_error_106(void)
{
    size_t gl;
    uint8_t *g = g_pdu("106_lastapplerror_report", &gl);
    T_CHECK(i61_mms_is_control_report(g, gl));
    i61_ctl_rpt r;
    T_EQ_INT(i61_mms_decode_control_report(g, gl, &r), I61_OK);
    T_EQ_INT(r.kind, I61_CTL_RPT_LAST_APPL_ERROR);
    T_CHECK(strcmp(r.lae.control_object, "IED1LD1/GGIO1$CO$SPCSO2$Oper") == 0);
    T_EQ_INT(r.lae.ctl_num, 2);
    T_EQ_INT(r.lae.add_cause, I61_ADD_CAUSE_OBJECT_NOT_SELECTED);
    T_CHECK(r.oper_value == NULL);

    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_encode_last_appl_error(&b, &r.lae), I61_OK);
    T_EQ_MEM(b.data, b.len, g, gl);

    /* the encoder refuses what it cannot write, and leaves the buffer as it was */
    i61_last_appl_error e = r.lae;
    e.ctl_num = 256;
    size_t before = b.len;
    T_EQ_INT(i61_mms_encode_last_appl_error(&b, &e), I61_ERR_INVALID_ARGUMENT);
    e = r.lae;
    memset(e.control_object, 'x', sizeof e.control_object);   /* no NUL */
    T_EQ_INT(i61_mms_encode_last_appl_error(&b, &e), I61_ERR_INVALID_ARGUMENT);
    e = r.lae;
    e.or_ident_len = 65;
    T_EQ_INT(i61_mms_encode_last_appl_error(&b, &e), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_mms_encode_cmd_term(&b, "LD", "", NULL, NULL), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(b.len, before);
    /* an AddCause outside the list, a negative Error: passed through */
    e = r.lae;
    e.add_cause = 1000;
    e.error = -1;
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_encode_last_appl_error(&b, &e), I61_OK);
    i61_ctl_rpt r2;
    T_EQ_INT(i61_mms_decode_control_report(b.data, b.len, &r2), I61_OK);
    T_EQ_INT(r2.lae.add_cause, 1000);
    T_EQ_INT(r2.lae.error, -1);
    i61_mms_control_report_clear(&r2);
    i61_buf_free(&b);
    i61_mms_control_report_clear(&r);
    free(g);
}

/* Other unconfirmed PDUs are not control reports. */
static void test_not_control_reports(void)
{
    size_t gl;
    uint8_t *g = g_pdu("065_report_urcb_dchg", &gl);
    T_CHECK(!i61_mms_is_control_report(g, gl));
    i61_ctl_rpt r;
    T_EQ_INT(i61_mms_decode_control_report(g, gl, &r), I61_ERR_MALFORMED_MESSAGE);
    i61_mms_control_report_clear(&r);
    free(g);
    g = g_pdu("091_operate_direct_request", &gl);
    T_CHECK(!i61_mms_is_control_report(g, gl));
    free(g);
    T_CHECK(!i61_mms_is_control_report(NULL, 0));

    /* a domain-specific name not ending in $Oper, and a third variable */
    i61_value *cv = i61_value_new_boolean(1);
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_encode_cmd_term(&b, "LD", "GGIO1$CO$SPCSO1$SBOw", cv, NULL), I61_OK);
    T_CHECK(!i61_mms_is_control_report(b.data, b.len));
    T_EQ_INT(i61_mms_decode_control_report(b.data, b.len, &r), I61_ERR_MALFORMED_MESSAGE);
    i61_mms_control_report_clear(&r);
    /* CommandTermination whose Oper value is not a structure */
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_encode_cmd_term(&b, "LD", "GGIO1$CO$SPCSO1$Oper", cv, NULL), I61_OK);
    T_CHECK(i61_mms_is_control_report(b.data, b.len));
    T_EQ_INT(i61_mms_decode_control_report(b.data, b.len, &r), I61_ERR_MALFORMED_MESSAGE);
    i61_mms_control_report_clear(&r);
    i61_buf_free(&b);
    i61_value_free(cv);
}

/* Every truncation and every single-octet change of the three reports:
 * a clean result, never a crash (ASan/UBSan catch the rest). */
static void test_mutations(void)
{
    const char *names[] = { "097_cmdterm_positive_report", "104_cmdterm_negative_report",
                            "106_lastapplerror_report" };
    for (size_t k = 0; k < 3; k++) {
        size_t gl;
        uint8_t *g = g_pdu(names[k], &gl);
        int ok = 0;
        for (size_t n = 0; n < gl; n++) {
            uint8_t *cut = malloc(n ? n : 1);
            memcpy(cut, g, n);
            i61_ctl_rpt r;
            int rc = i61_mms_decode_control_report(cut, n, &r);
            T_CHECK(rc != I61_OK);
            (void)i61_mms_is_control_report(cut, n);
            i61_mms_control_report_clear(&r);
            free(cut);
        }
        for (size_t i = 0; i < gl; i++) {
            for (int x = 1; x < 256; x <<= 1) {
                g[i] ^= (uint8_t)x;
                i61_ctl_rpt r;
                int rc = i61_mms_decode_control_report(g, gl, &r);
                T_CHECK(rc == I61_OK || rc == I61_ERR_MALFORMED_MESSAGE);
                if (rc == I61_OK) {
                    ok++;
                    T_CHECK(memchr(r.lae.control_object, 0, sizeof r.lae.control_object) != NULL);
                    T_CHECK(r.kind >= 0 && r.kind <= 2);
                    T_CHECK((r.kind == I61_CTL_RPT_LAST_APPL_ERROR) == (r.oper_value == NULL));
                }
                i61_mms_control_report_clear(&r);
                g[i] ^= (uint8_t)x;
            }
        }
        T_CHECK(ok > 0);        /* some flips only change content */
        free(g);
    }
}

T_MAIN(T_CASE(test_operate_direct_091), T_CASE(test_select_sbow_093),
       T_CASE(test_operate_sbo_095), T_CASE(test_select_sbow_2_098), T_CASE(test_cancel_100),
       T_CASE(test_build_parse_full), T_CASE(test_parse_refuses), T_CASE(test_utc_time),
       T_CASE(test_cmdterm_positive_097), T_CASE(test_cmdterm_negative_104),
       T_CASE(test_last_appl_error_106), T_CASE(test_not_control_reports),
       T_CASE(test_mutations))
