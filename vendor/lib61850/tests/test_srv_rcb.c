/* Server report control blocks and the reporting engine, driven through the
 * connection engine (no sockets): the golden URCB/BRCB sessions (049-084)
 * replayed and compared byte for byte (TimeOfEntry and EntryID come from the
 * clock: patched), then the RCB rules (reservation, writes while enabled,
 * types, DatSet), BufTm, IntgPd, GI, segmentation, BRCB buffering, resync,
 * PurgeBuf, overflow, data sets held by an enabled RCB, connection loss. */
#include "t.h"
#include "test_server_fixture.h"
#include "server/server_internal.h"
#include "server/srv_rcb.h"
#include "mms/mms_report.h"
#include "mms/mms_pdu.h"
#include "net/loop.h"

static const uint8_t t_ind[8] = {0x65, 0x53, 0xf1, 0x00, 0x74, 0xbc, 0x6a, 0x8a};
static const uint8_t t_anin[8] = {0x65, 0x53, 0xf1, 0x00, 0x1f, 0x7c, 0xed, 0x8a};

/* The golden model (golden/INDEX.md) with its RCBs made by i61_model_add_rcb
 * instead of plain nodes, and the data sets Events and Big. AnIn1 keeps
 * mag 0 and t 0: the tests set them once BRCBs buffer (golden 077). */
static i61_model *rcb_model(uint32_t brcb_buffer)
{
    i61_model *m = i61_model_new("IED1");
    i61_mnode *ld = NULL, *lln0 = NULL, *ggio = NULL, *ptoc = NULL;
    FX_OK(i61_model_add_ld(m, "LD1", NULL, &ld));
    FX_OK(i61_model_add_ln(ld, "LLN0", &lln0));
    fx_st_triplet(fx_do(lln0, "Mod"), I61_TYPE_INTEGER, 8);
    fx_st_triplet(fx_do(lln0, "Beh"), I61_TYPE_INTEGER, 8);
    fx_st_triplet(fx_do(lln0, "Health"), I61_TYPE_INTEGER, 8);
    i61_mnode *np = fx_do(lln0, "NamPlt");
    fx_da(np, "vendor", I61_FC_DC, I61_TYPE_VISIBLE_STRING, -255);
    fx_da(np, "swRev", I61_FC_DC, I61_TYPE_VISIBLE_STRING, -255);
    FX_OK(i61_model_add_ln(ld, "GGIO1", &ggio));
    i61_mnode *ind = fx_do(ggio, "Ind1");
    fx_st_triplet(ind, I61_TYPE_BOOLEAN, 0);
    fx_da(ind, "d", I61_FC_DC, I61_TYPE_VISIBLE_STRING, -255);
    i61_mnode *an = fx_do(ggio, "AnIn1");
    i61_mnode *mag = fx_da(an, "mag", I61_FC_MX, I61_TYPE_STRUCTURE, 0);
    fx_da(mag, "f", I61_FC_NONE, I61_TYPE_FLOAT, 32);
    fx_da(an, "q", I61_FC_MX, I61_TYPE_BIT_STRING, -13);
    fx_da(an, "t", I61_FC_MX, I61_TYPE_UTC_TIME, 0);
    fx_spc(ggio, "SPCSO1", 0);
    fx_spc(ggio, "SPCSO2", 1);
    fx_spc(ggio, "SPCSO3", 0);
    FX_OK(i61_model_add_ln(ld, "PTOC1", &ptoc));
    i61_mnode *sv = fx_do(ptoc, "StrVal");
    i61_mnode *sm = fx_da(sv, "setMag", I61_FC_SP, I61_TYPE_STRUCTURE, 0);
    fx_da(sm, "f", I61_FC_NONE, I61_TYPE_FLOAT, 32);
    fx_set(m, "IED1LD1/GGIO1.Ind1.t", I61_FC_ST, i61_value_new_utc_time(t_ind));
    fx_set(m, "IED1LD1/LLN0.NamPlt.vendor", I61_FC_DC, i61_value_new_visible_string("GoldVendor"));
    fx_set(m, "IED1LD1/GGIO1.SPCSO1.ctlModel", I61_FC_CF, i61_value_new_integer(1));
    fx_set(m, "IED1LD1/GGIO1.SPCSO2.ctlModel", I61_FC_CF, i61_value_new_integer(4));
    fx_set(m, "IED1LD1/GGIO1.SPCSO3.ctlModel", I61_FC_CF, i61_value_new_integer(3));

    static const char *const events[] = {"IED1LD1/GGIO1.Ind1[ST]", "IED1LD1/GGIO1.AnIn1[MX]",
                                         "IED1LD1/GGIO1.SPCSO1.stVal[ST]"};
    FX_OK(i61_model_add_dataset(m, "IED1LD1/LLN0.Events", events, 3));
    static const char *const big[] = {
        "IED1LD1/LLN0$ST$Mod", "IED1LD1/LLN0$ST$Beh", "IED1LD1/LLN0$ST$Health",
        "IED1LD1/LLN0$DC$NamPlt", "IED1LD1/GGIO1$ST$Ind1", "IED1LD1/GGIO1$MX$AnIn1",
        "IED1LD1/GGIO1$ST$SPCSO1", "IED1LD1/GGIO1$ST$SPCSO2", "IED1LD1/GGIO1$ST$SPCSO3",
        "IED1LD1/GGIO1$CF$SPCSO1", "IED1LD1/GGIO1$CF$SPCSO2", "IED1LD1/PTOC1$SP$StrVal"};
    FX_OK(i61_model_add_dataset(m, "IED1LD1/LLN0$Big", big, 12));

    i61_rcb_config u = {0};
    u.rpt_id = "urcb01RptID";
    u.dataset = "IED1LD1/LLN0$Events";
    u.conf_rev = 1;
    u.opt_flds = I61_OPT_SEQ_NUM | I61_OPT_TIME_STAMP | I61_OPT_REASON | I61_OPT_DATA_SET |
                 I61_OPT_CONF_REV;
    u.trg_ops = I61_TRG_DCHG | I61_TRG_QCHG | I61_TRG_INTEGRITY | I61_TRG_GI;
    u.buf_tm = 50;
    FX_OK(i61_model_add_rcb(m, "IED1LD1/LLN0", "urcb01", 0, &u));
    u.rpt_id = "urcbBigRptID";
    u.dataset = "IED1LD1/LLN0.Big";
    u.opt_flds |= I61_OPT_DATA_REF;
    FX_OK(i61_model_add_rcb(m, "IED1LD1/LLN0", "urcbBig", 0, &u));
    i61_rcb_config b = u;
    b.rpt_id = "brcb01RptID";
    b.dataset = "IED1LD1/LLN0$Events";
    b.opt_flds = 0xff;                         /* 7f80: bits 1-8 */
    b.with_resv_tms = 1;
    b.buffer_size = brcb_buffer;
    FX_OK(i61_model_add_rcb(m, "IED1LD1/LLN0", "brcb01", 1, &b));
    return m;
}

/* ------------------------------------------------------------- plumbing */

static void feed(i61_sconn *c, const char *golden)
{
    size_t len;
    uint8_t *f = t_golden(golden, &len);
    T_EQ_INT(i61_sconn_feed(c, f, len), 0);
    free(f);
}

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

static void open_conn(i61_sconn *c, i61_server *s, uint32_t id, const char *peer,
                      const char *initiate)
{
    i61_sconn_init(c, s, id, false);
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    feed(c, "001_cotp_cr");
    i61_sconn_consume_out(c, c->out.len);
    feed(c, initiate);
    i61_sconn_consume_out(c, c->out.len);
    T_EQ_INT(c->state, I61_SC_ASSOCIATED);
}

static void close_conn(i61_server *s, i61_sconn *c)
{
    i61_srv_conn_gone(s, c);
    i61_sconn_free(c);
}

/* Runs the engine as if `ahead` ms had passed. */
static uint64_t run(i61_server *s, uint64_t ahead)
{
    return i61_srv_rcb_run(s, i61_mono_ms() + ahead);
}

/* Every TPKT frame of c->out: its MMS PDU into pdus[] (copied), consumes out. */
#define MAX_PDUS 64
typedef struct pdus {
    size_t n;
    uint8_t *p[MAX_PDUS];
    size_t len[MAX_PDUS];
} pdus;

static void take(i61_sconn *c, pdus *out)
{
    memset(out, 0, sizeof *out);
    size_t off = 0;
    while (off + 4 <= c->out.len && out->n < MAX_PDUS) {
        size_t fl = (size_t)c->out.data[off + 2] << 8 | c->out.data[off + 3];
        if (fl < 4 || off + fl > c->out.len)
            break;
        size_t ml = 0;
        const uint8_t *m = fx_mms_pdu(c->out.data + off, fl, &ml);
        T_CHECK(m != NULL);
        if (m) {
            out->p[out->n] = malloc(ml);
            memcpy(out->p[out->n], m, ml);
            out->len[out->n++] = ml;
        }
        off += fl;
    }
    T_EQ_INT(off, c->out.len);
    i61_sconn_consume_out(c, c->out.len);
}

static void pdus_free(pdus *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->p[i]);
    p->n = 0;
}

/* Decodes report PDU i of p (must be a report). */
static int decode(const pdus *p, size_t i, i61_rpt *r)
{
    memset(r, 0, sizeof *r);
    if (i >= p->n)
        return -1;
    T_CHECK(i61_mms_is_report(p->p[i], p->len[i]));
    int rc = i61_mms_decode_report(p->p[i], p->len[i], r);
    T_EQ_INT(rc, 0);
    return rc;
}

/* Our report PDU equals the golden one once the clock-dependent fields
 * (TimeOfEntry 8c 06 .., EntryID 89 08 ..) are copied from ours. */
static void expect_report(const uint8_t *ours, size_t ol, const char *golden)
{
    size_t gl, wl = 0;
    uint8_t *g = t_golden(golden, &gl);
    const uint8_t *w0 = fx_mms_pdu(g, gl, &wl);
    T_CHECK(w0 != NULL);
    if (!w0) {
        free(g);
        return;
    }
    uint8_t *w = malloc(wl);
    memcpy(w, w0, wl);
    if (ol == wl) {
        for (size_t i = 0; i + 2 <= wl; i++) {
            if (w[i] == 0x8c && w[i + 1] == 0x06 && i + 8 <= wl && ours[i] == 0x8c) {
                memcpy(w + i + 2, ours + i + 2, 6);
                i += 7;
            } else if (w[i] == 0x89 && w[i + 1] == 0x08 && i + 10 <= wl && ours[i] == 0x89) {
                memcpy(w + i + 2, ours + i + 2, 8);
                i += 9;
            }
        }
    }
    T_EQ_MEM(ours, ol, w, wl);
    if (ol != wl || memcmp(ours, w, wl) != 0) {
        fprintf(stderr, "  (%s)\n   ours:", golden);
        for (size_t i = 0; i < ol; i++)
            fprintf(stderr, " %02x", ours[i]);
        fprintf(stderr, "\n golden:");
        for (size_t i = 0; i < wl; i++)
            fprintf(stderr, " %02x", w[i]);
        fprintf(stderr, "\n");
    }
    free(w);
    free(g);
}

/* One MMS request PDU in; its answer PDU copied to ans (reports before it
 * are skipped into *rpts when given). */
static size_t call(i61_sconn *c, i61_buf *b, uint8_t *ans, size_t cap)
{
    i61_srv_mms_pdu(c, b->data, b->len);
    i61_buf_reset(b);
    pdus p;
    take(c, &p);
    size_t ml = 0;
    if (p.n > 0) {
        ml = p.len[p.n - 1];
        T_CHECK(ml <= cap);
        if (ml <= cap)
            memcpy(ans, p.p[p.n - 1], ml);
        else
            ml = 0;
    }
    pdus_free(&p);
    return ml;
}

static i61_mms_var var_of(const char *item)
{
    i61_mms_var v;
    memset(&v, 0, sizeof v);
    v.name.scope = I61_MMS_SCOPE_DOMAIN;
    strcpy(v.name.domain, "IED1LD1");
    snprintf(v.name.item, sizeof v.name.item, "%s", item);
    return v;
}

/* Writes one variable: -1 success or the DataAccessError. Takes value. */
static int wr(i61_sconn *c, const char *item, i61_value *value)
{
    i61_buf b;
    i61_buf_init(&b);
    i61_mms_var v = var_of(item);
    i61_mms_access_spec spec = {false, {0}, &v, 1};
    const i61_value *vals[1] = {value};
    T_EQ_INT(i61_mms_enc_write_req(&b, 9, &spec, vals, 1), 0);
    i61_value_free(value);
    /* the answer is the last PDU; reports flushed before it are dropped */
    i61_srv_mms_pdu(c, b.data, b.len);
    i61_buf_free(&b);
    pdus p;
    take(c, &p);
    int dae = -99;
    T_CHECK(p.n >= 1);
    if (p.n >= 1) {
        T_EQ_INT(i61_mms_dec_write_resp(p.p[p.n - 1], p.len[p.n - 1], &dae, 1, NULL), 0);
    }
    pdus_free(&p);
    return dae;
}

/* Reads one variable: new value or NULL. */
static i61_value *rd(i61_sconn *c, const char *item)
{
    i61_buf b;
    i61_buf_init(&b);
    i61_mms_var v = var_of(item);
    i61_mms_access_spec spec = {false, {0}, &v, 1};
    T_EQ_INT(i61_mms_enc_read_req(&b, 8, false, &spec), 0);
    uint8_t ans[4096];
    size_t al = call(c, &b, ans, sizeof ans);
    i61_buf_free(&b);
    i61_value *out = NULL;
    if (i61_mms_dec_read_resp_n(ans, al, &out, 1, NULL, NULL) != 0)
        return NULL;
    return out;
}

static int64_t rd_int(i61_sconn *c, const char *item)
{
    i61_value *v = rd(c, item);
    int64_t x = -12345;
    if (v && i61_value_type(v) == I61_TYPE_BOOLEAN) {
        int b = 0;
        i61_value_get_boolean(v, &b);
        x = b;
    } else if (v) {
        i61_value_get_int64(v, &x);
    }
    i61_value_free(v);
    return x;
}

static void set_bool(i61_server *s, const char *ref, int fc, int b)
{
    i61_value *v = i61_value_new_boolean(b);
    T_EQ_INT(i61_model_set_value(i61_server_model(s), ref, fc, v), 0);
    i61_value_free(v);
}

static void set_float(i61_server *s, const char *ref, float f)
{
    i61_value *v = i61_value_new_float(f);
    T_EQ_INT(i61_model_set_value(i61_server_model(s), ref, I61_FC_NONE, v), 0);
    i61_value_free(v);
}

static i61_value *bits(int n, uint32_t mask)
{
    uint8_t b[2] = {0, 0};
    for (int k = 0; k + 1 < n; k++)
        if (mask & (1u << k))
            b[(k + 1) / 8] |= (uint8_t)(0x80 >> ((k + 1) % 8));
    return i61_value_new_bit_string(n, b);
}

#define IND1 "IED1LD1/GGIO1.Ind1.stVal"
#define MAG "IED1LD1/GGIO1.AnIn1.mag.f"

/* After the BRCBs buffer: AnIn1 12.5 with t still 0 (golden 077's entry),
 * then AnIn1.t set (t triggers nothing). */
static void golden_anin(i61_server *s)
{
    set_float(s, MAG, 12.5f);
    i61_value *t = i61_value_new_utc_time(t_anin);
    T_EQ_INT(i61_model_set_value(i61_server_model(s), "IED1LD1/GGIO1.AnIn1.t", I61_FC_MX, t), 0);
    i61_value_free(t);
}

/* ---------------------------------------------------- golden sessions */

static void test_golden_types_and_reads(void)
{
    i61_server *s = i61_server_new(rcb_model(0));
    T_CHECK(s != NULL);
    i61_sconn c;
    open_conn(&c, s, 1, "10.0.0.5:40000", "003_initiate_request");
    exchange(&c, "049_gvaa_urcb_request", "050_gvaa_urcb_response");
    exchange(&c, "051_gvaa_brcb_request", "052_gvaa_brcb_response");
    exchange(&c, "059_gvaa_lln0_request", "060_gvaa_lln0_response");
    exchange(&c, "061_read_urcb_request", "062_read_urcb_response");

    /* 010: the same names as the golden server (length and framing) */
    feed(&c, "009_getnamelist_variables_request");
    size_t glen;
    uint8_t *g = t_golden("010_getnamelist_variables_response", &glen);
    T_EQ_INT(c.out.len, glen);
    T_EQ_MEM(c.out.data + glen - 3, 3, g + glen - 3, 3);
    const char *names[] = {"LLN0$RP$urcb01$RptID", "LLN0$BR$brcb01$TimeofEntry",
                           "LLN0$BR$brcb01$ResvTms", "LLN0$RP"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        T_CHECK(memmem(c.out.data, c.out.len, names[i], strlen(names[i])) != NULL);
    free(g);
    i61_sconn_consume_out(&c, c.out.len);
    close_conn(s, &c);
    i61_server_free(s);
}

static void test_golden_urcb_session(void)
{
    i61_server *s = i61_server_new(rcb_model(0));
    i61_srv_rcb_activate(s);
    golden_anin(s);
    i61_sconn c;
    open_conn(&c, s, 1, "10.0.0.5:40000", "003_initiate_request");
    exchange(&c, "061_read_urcb_request", "062_read_urcb_response");
    exchange(&c, "063_write_urcb_enable_request", "064_write_urcb_enable_response");
    T_EQ_INT(c.out.len, 0);
    run(s, 0);
    T_EQ_INT(c.out.len, 0);                    /* nothing changed yet */

    set_bool(s, IND1, I61_FC_ST, 1);
    run(s, 10);
    T_EQ_INT(c.out.len, 0);                    /* BufTm 50 not over */
    run(s, 60);
    pdus p;
    take(&c, &p);
    T_EQ_INT(p.n, 1);
    if (p.n == 1)
        expect_report(p.p[0], p.len[0], "065_report_urcb_dchg");
    pdus_free(&p);

    exchange(&c, "066_write_urcb_gi_request", "067_write_urcb_gi_response");
    run(s, 0);
    take(&c, &p);
    T_EQ_INT(p.n, 1);
    if (p.n == 1)
        expect_report(p.p[0], p.len[0], "068_report_urcb_gi");
    pdus_free(&p);
    T_EQ_INT(rd_int(&c, "LLN0$RP$urcb01$GI"), 0);      /* GI reads back FALSE */
    T_EQ_INT(rd_int(&c, "LLN0$RP$urcb01$SqNum"), 2);
    exchange(&c, "069_write_urcb_disable_request", "070_write_urcb_disable_response");
    T_EQ_INT(i61_server_reports_sent(s), 2);
    close_conn(s, &c);
    i61_server_free(s);
}

static void test_golden_brcb_session(void)
{
    i61_server *s = i61_server_new(rcb_model(0));
    i61_srv_rcb_activate(s);
    golden_anin(s);
    run(s, 100);                                /* BufTm over: entry 1 buffered */
    set_bool(s, IND1, I61_FC_ST, 1);
    run(s, 100);                                /* entry 2 */
    i61_sconn c;
    open_conn(&c, s, 1, "10.0.0.5:40000", "003_initiate_request");

    /* 072 except the clock-dependent EntryID/TimeofEntry (last entry buffered) */
    feed(&c, "071_read_brcb_request");
    pdus p;
    take(&c, &p);
    T_EQ_INT(p.n, 1);
    if (p.n == 1)
        expect_report(p.p[0], p.len[0], "072_read_brcb_response");
    pdus_free(&p);

    exchange(&c, "073_write_brcb_optflds_request", "074_write_brcb_optflds_response");
    exchange(&c, "075_write_brcb_rptena_request", "076_write_brcb_rptena_response");
    run(s, 0);
    take(&c, &p);
    T_EQ_INT(p.n, 2);
    if (p.n == 2) {
        expect_report(p.p[0], p.len[0], "077_report_brcb_buffered_1");
        expect_report(p.p[1], p.len[1], "078_report_brcb_buffered_2");
        i61_rpt a, b;
        decode(&p, 0, &a);
        decode(&p, 1, &b);
        T_CHECK(a.buf_ovfl && !b.buf_ovfl);
        T_CHECK(memcmp(a.entry_id, b.entry_id, 8) < 0);   /* increasing */
        i61_mms_report_clear(&a);
        i61_mms_report_clear(&b);
    }
    pdus_free(&p);
    exchange(&c, "079_write_brcb_gi_request", "080_write_brcb_gi_response");
    run(s, 0);
    take(&c, &p);
    T_EQ_INT(p.n, 1);
    if (p.n == 1)
        expect_report(p.p[0], p.len[0], "081_report_brcb_gi");
    pdus_free(&p);
    set_float(s, MAG, 42.25f);
    run(s, 100);
    take(&c, &p);
    T_EQ_INT(p.n, 1);
    if (p.n == 1)
        expect_report(p.p[0], p.len[0], "082_report_brcb_dchg");
    pdus_free(&p);
    exchange(&c, "083_write_brcb_disable_request", "084_write_brcb_disable_response");
    T_EQ_INT(i61_server_reports_sent(s), 4);
    close_conn(s, &c);
    i61_server_free(s);
}


/* ------------------------------------------------------------- the rules */

#define U "LLN0$RP$urcb01$"
#define B "LLN0$BR$brcb01$"

static void test_rules(void)
{
    i61_server *s = i61_server_new(rcb_model(0));
    i61_srv_rcb_activate(s);
    i61_sconn a, b;
    open_conn(&a, s, 1, "10.0.0.5:40000", "003_initiate_request");
    open_conn(&b, s, 2, "10.0.0.6:40001", "003_initiate_request");

    T_EQ_INT(wr(&a, U "GI", i61_value_new_boolean(1)), 2);      /* disabled */
    T_EQ_INT(wr(&a, U "Resv", i61_value_new_boolean(1)), -1);
    T_EQ_INT(rd_int(&b, U "Resv"), 1);
    T_EQ_INT(wr(&b, U "RptID", i61_value_new_visible_string("x")), 2);
    T_EQ_INT(wr(&b, U "RptEna", i61_value_new_boolean(1)), 2);
    T_EQ_INT(wr(&b, U "Resv", i61_value_new_boolean(0)), 2);
    T_EQ_INT(wr(&a, U "RptEna", i61_value_new_integer(1)), 7);  /* type-inconsistent */
    T_EQ_INT(wr(&a, U "OptFlds", bits(12, 1)), 7);
    T_EQ_INT(wr(&a, U "DatSet", i61_value_new_visible_string("IED1LD1/LLN0$Nope")), 11);
    T_EQ_INT(rd_int(&a, U "ConfRev"), 1);
    T_EQ_INT(wr(&a, U "DatSet", i61_value_new_visible_string("IED1LD1/LLN0$Big")), -1);
    T_EQ_INT(rd_int(&a, U "ConfRev"), 2);                       /* DatSet changed */
    T_EQ_INT(wr(&a, U "DatSet", i61_value_new_visible_string("IED1LD1/LLN0$Big")), -1);
    T_EQ_INT(rd_int(&a, U "ConfRev"), 2);                       /* same: unchanged */
    T_EQ_INT(wr(&a, U "DatSet", i61_value_new_visible_string("IED1LD1/LLN0$Events")), -1);
    T_EQ_INT(wr(&a, U "ConfRev", i61_value_new_unsigned(7)), 3); /* read-only */
    T_EQ_INT(wr(&a, U "SqNum", i61_value_new_unsigned(7)), 3);
    T_EQ_INT(wr(&a, U "RptEna", i61_value_new_boolean(1)), -1);
    T_EQ_INT(rd_int(&b, U "RptEna"), 1);
    /* live values through LN$RP and the whole LN too */
    i61_value *rp = rd(&b, "LLN0$RP");
    i61_value *u1 = rp ? i61_value_element(rp, 0) : NULL;
    int ena = -1;
    if (u1 && i61_value_element(u1, 1))
        i61_value_get_boolean(i61_value_element(u1, 1), &ena);
    T_EQ_INT(ena, 1);
    T_CHECK(rp && i61_value_count(rp) == 2);            /* urcb01, urcbBig */
    i61_value_free(rp);
    i61_value *ln = rd(&b, "LLN0");
    T_CHECK(ln && i61_value_count(ln) == 4);            /* ST, DC, RP, BR */
    i61_value *lrp = ln ? i61_value_element(ln, 2) : NULL;
    u1 = lrp ? i61_value_element(lrp, 0) : NULL;
    ena = -1;
    if (u1 && i61_value_element(u1, 1))
        i61_value_get_boolean(i61_value_element(u1, 1), &ena);
    T_EQ_INT(ena, 1);
    i61_value_free(ln);
    T_EQ_INT(wr(&a, U "BufTm", i61_value_new_unsigned(0)), 2);  /* enabled */
    T_EQ_INT(wr(&a, U "Resv", i61_value_new_boolean(0)), 2);
    T_EQ_INT(wr(&a, U "ConfRev", i61_value_new_unsigned(7)), 2);
    T_EQ_INT(wr(&a, U "RptEna", i61_value_new_boolean(1)), 2);  /* already enabled */
    T_EQ_INT(wr(&b, U "GI", i61_value_new_boolean(1)), 2);
    T_EQ_INT(wr(&a, U "GI", i61_value_new_boolean(1)), -1);
    run(s, 0);
    pdus p;
    take(&a, &p);
    T_EQ_INT(p.n, 1);
    i61_rpt r;
    if (decode(&p, 0, &r) == 0) {
        T_EQ_INT(r.n, 3);
        T_EQ_INT(r.seq_num, 0);
        T_EQ_INT(r.conf_rev, 3);
        T_CHECK(r.n == 3 && r.members[0].reason == I61_REASON_GI);
    }
    i61_mms_report_clear(&r);
    pdus_free(&p);
    take(&b, &p);
    T_EQ_INT(p.n, 0);                                           /* only the owner */
    pdus_free(&p);
    /* the engine owns the RCB values */
    i61_value *v = i61_value_new_visible_string("x");
    T_EQ_INT(i61_model_set_value(i61_server_model(s), "IED1LD1/LLN0$RP$urcb01$RptID", I61_FC_NONE, v),
             I61_ERR_ACCESS_DENIED);
    i61_value_free(v);
    /* a whole RCB or LN$RP is not writable */
    T_EQ_INT(wr(&a, "LLN0$RP$urcb01", i61_value_new_boolean(1)), 3);

    /* the owner goes away: released, disabled */
    close_conn(s, &a);
    T_EQ_INT(rd_int(&b, U "RptEna"), 0);
    T_EQ_INT(rd_int(&b, U "Resv"), 0);
    T_EQ_INT(wr(&b, U "Resv", i61_value_new_boolean(1)), -1);
    T_EQ_INT(wr(&b, U "Resv", i61_value_new_boolean(0)), -1);
    T_EQ_INT(wr(&b, U "RptID", i61_value_new_visible_string("")), -1);
    i61_value *id = rd(&b, U "RptID");
    size_t l = 0;
    const uint8_t *idp = id ? i61_value_get_bytes(id, &l) : NULL;
    T_EQ_MEM(idp, l, "IED1LD1/LLN0$RP$urcb01", 22);             /* empty = the reference */
    i61_value_free(id);
    close_conn(s, &b);
    i61_server_free(s);
}

static void test_owner_attribute(void)
{
    i61_model *m = rcb_model(0);
    i61_rcb_config cfg = {0};
    cfg.dataset = "IED1LD1/LLN0$Events";
    cfg.trg_ops = I61_TRG_DCHG;
    cfg.with_owner = 1;
    FX_OK(i61_model_add_rcb(m, "IED1LD1/GGIO1", "own", 0, &cfg));
    i61_server *s = i61_server_new(m);
    i61_sconn a, b;
    open_conn(&a, s, 1, "10.0.0.5:40000", "003_initiate_request");
    open_conn(&b, s, 2, "[2001:db8::7]:40001", "003_initiate_request");
    i61_value *o = rd(&a, "GGIO1$RP$own$Owner");
    size_t l = 99;
    T_CHECK(o && i61_value_get_bytes(o, &l) && l == 0);
    i61_value_free(o);
    T_EQ_INT(wr(&a, "GGIO1$RP$own$RptEna", i61_value_new_boolean(1)), -1);
    T_EQ_INT(wr(&a, "GGIO1$RP$own$Owner", i61_value_new_octet_string(NULL, 0)), 2);
    o = rd(&b, "GGIO1$RP$own$Owner");
    const uint8_t *p = o ? i61_value_get_bytes(o, &l) : NULL;
    static const uint8_t v4[] = {10, 0, 0, 5};
    T_EQ_MEM(p, l, v4, 4);
    i61_value_free(o);
    T_EQ_INT(wr(&a, "GGIO1$RP$own$RptEna", i61_value_new_boolean(0)), -1);
    T_EQ_INT(wr(&a, "GGIO1$RP$own$Owner", i61_value_new_octet_string(NULL, 0)), 3);
    T_EQ_INT(wr(&a, "GGIO1$RP$own$Resv", i61_value_new_boolean(0)), -1);
    T_EQ_INT(wr(&b, "GGIO1$RP$own$Resv", i61_value_new_boolean(1)), -1);
    o = rd(&a, "GGIO1$RP$own$Owner");
    p = o ? i61_value_get_bytes(o, &l) : NULL;
    static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
    T_EQ_MEM(p, l, v6, 16);
    i61_value_free(o);
    /* whole RCB read: 12 components, live */
    o = rd(&a, "GGIO1$RP$own");
    T_CHECK(o && i61_value_count(o) == 12);
    i61_value_free(o);
    close_conn(s, &a);
    close_conn(s, &b);
    i61_server_free(s);
}

/* Enables urcb01 for c with TrgOps/BufTm/IntgPd and OptFlds incl. reasons. */
static void urcb_enable(i61_sconn *c, uint32_t trg, uint32_t buf_tm, uint32_t intg_pd)
{
    T_EQ_INT(wr(c, U "TrgOps", bits(6, trg)), -1);
    T_EQ_INT(wr(c, U "BufTm", i61_value_new_unsigned(buf_tm)), -1);
    T_EQ_INT(wr(c, U "IntgPd", i61_value_new_unsigned(intg_pd)), -1);
    T_EQ_INT(wr(c, U "OptFlds", bits(10, I61_OPT_SEQ_NUM | I61_OPT_REASON | I61_OPT_DATA_REF)),
             -1);
    T_EQ_INT(wr(c, U "RptEna", i61_value_new_boolean(1)), -1);
}

/* stVal (BOOLEAN) of a decoded Ind1 member value {stVal, q, t} */
static int ind_stval(const i61_value *v)
{
    int b = -1;
    i61_value *e = v ? i61_value_element(v, 0) : NULL;
    if (e)
        i61_value_get_boolean(e, &b);
    return b;
}

static void test_buftm(void)
{
    i61_server *s = i61_server_new(rcb_model(0));
    i61_sconn a;
    open_conn(&a, s, 1, "10.0.0.5:40000", "003_initiate_request");
    urcb_enable(&a, I61_TRG_DCHG | I61_TRG_QCHG, 100, 0);
    set_bool(s, IND1, I61_FC_ST, 1);
    set_float(s, MAG, 3.5f);
    uint64_t next = run(s, 10);
    T_CHECK(next != 0);                                 /* the BufTm deadline */
    T_EQ_INT(a.out.len, 0);
    run(s, 150);
    pdus p;
    take(&a, &p);
    T_EQ_INT(p.n, 1);
    i61_rpt r;
    if (decode(&p, 0, &r) == 0) {
        T_EQ_INT(r.n, 2);                               /* both members, one report */
        T_CHECK(r.n == 2 && r.members[0].index == 0 && r.members[1].index == 1);
        T_CHECK(r.n == 2 && r.members[0].reason == I61_REASON_DCHG);
        T_CHECK(r.n == 2 && r.members[0].ref && strcmp(r.members[0].ref, "IED1LD1/GGIO1$ST$Ind1") == 0);
    }
    i61_mms_report_clear(&r);
    pdus_free(&p);
    /* the same member again within BufTm: the pending report goes first */
    set_bool(s, IND1, I61_FC_ST, 0);
    set_bool(s, IND1, I61_FC_ST, 1);
    run(s, 10);
    take(&a, &p);
    T_EQ_INT(p.n, 1);
    if (decode(&p, 0, &r) == 0) {
        T_EQ_INT(r.seq_num, 1);
        T_EQ_INT(ind_stval(r.n ? r.members[0].value : NULL), 0);
    }
    i61_mms_report_clear(&r);
    pdus_free(&p);
    run(s, 150);
    take(&a, &p);
    T_EQ_INT(p.n, 1);
    if (decode(&p, 0, &r) == 0) {
        T_EQ_INT(r.seq_num, 2);
        T_EQ_INT(ind_stval(r.n ? r.members[0].value : NULL), 1);
    }
    i61_mms_report_clear(&r);
    pdus_free(&p);
    /* disabling sends what was collected, before the write response */
    set_float(s, MAG, 4.5f);
    T_EQ_INT(wr(&a, U "RptEna", i61_value_new_boolean(0)), -1);
    T_EQ_INT(i61_server_reports_sent(s), 4);
    close_conn(s, &a);
    i61_server_free(s);
}

static void test_buftm0_one_store(void)
{
    i61_server *s = i61_server_new(rcb_model(0));
    i61_sconn a;
    open_conn(&a, s, 1, "10.0.0.5:40000", "003_initiate_request");
    urcb_enable(&a, I61_TRG_DCHG | I61_TRG_QCHG, 0, 0);
    /* stVal and q of Ind1 in one store: one report, reasons merged */
    i61_value *st = i61_value_new_structure(3);
    static const uint8_t q[2] = {0x40, 0};
    i61_value_set_element(st, 0, i61_value_new_boolean(1));
    i61_value_set_element(st, 1, i61_value_new_bit_string(13, q));
    i61_value_set_element(st, 2, i61_value_new_utc_time(t_ind));
    T_EQ_INT(i61_model_set_value(i61_server_model(s), "IED1LD1/GGIO1.Ind1", I61_FC_ST, st), 0);
    i61_value_free(st);
    set_bool(s, IND1, I61_FC_ST, 0);                   /* a second store: a second report */
    set_bool(s, IND1, I61_FC_ST, 0);                   /* same value, no dupd: nothing */
    run(s, 0);
    pdus p;
    take(&a, &p);
    T_EQ_INT(p.n, 2);
    i61_rpt r;
    if (decode(&p, 0, &r) == 0) {
        T_EQ_INT(r.n, 1);
        T_CHECK(r.n == 1 && r.members[0].reason == (I61_REASON_DCHG | I61_REASON_QCHG));
    }
    i61_mms_report_clear(&r);
    if (decode(&p, 1, &r) == 0)
        T_CHECK(r.n == 1 && r.members[0].reason == I61_REASON_DCHG);
    i61_mms_report_clear(&r);
    pdus_free(&p);
    close_conn(s, &a);
    i61_server_free(s);
}

static void test_dupd(void)
{
    i61_server *s = i61_server_new(rcb_model(0));
    i61_model *m = i61_server_model(s);
    i61_mnode *n = NULL;
    int fc = 0;
    T_EQ_INT(i61_model_find(m, IND1, I61_FC_ST, &n, &fc), 0);
    T_EQ_INT(i61_model_set_trigger_options(n, I61_FC_NONE, I61_TRG_DCHG | I61_TRG_DUPD), 0);
    T_EQ_INT(i61_model_set_trigger_options(n, I61_FC_ST, 64), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_model_set_trigger_options(n, I61_FC_MX, I61_TRG_DCHG), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_model_set_trigger_options(NULL, I61_FC_MX, 0), I61_ERR_INVALID_ARGUMENT);
    i61_sconn a;
    open_conn(&a, s, 1, "10.0.0.5:40000", "003_initiate_request");
    urcb_enable(&a, I61_TRG_DUPD, 0, 0);
    set_bool(s, IND1, I61_FC_ST, 0);                   /* same value: dupd */
    set_bool(s, IND1, I61_FC_ST, 1);                   /* changed: dchg, not in TrgOps */
    run(s, 0);
    pdus p;
    take(&a, &p);
    T_EQ_INT(p.n, 1);
    i61_rpt r;
    if (decode(&p, 0, &r) == 0)
        T_CHECK(r.n == 1 && r.members[0].reason == I61_REASON_DUPD);
    i61_mms_report_clear(&r);
    pdus_free(&p);
    /* the DO level: every holder below it; t triggers nothing by default */
    i61_mnode *d = NULL;
    T_EQ_INT(i61_model_find(m, "IED1LD1/GGIO1.AnIn1", I61_FC_MX, &d, &fc), 0);
    T_EQ_INT(i61_model_set_trigger_options(d, I61_FC_MX, 0), 0);
    T_EQ_INT(wr(&a, U "RptEna", i61_value_new_boolean(0)), -1);
    urcb_enable(&a, I61_TRG_DCHG | I61_TRG_QCHG | I61_TRG_DUPD, 0, 0);
    set_float(s, MAG, 9.0f);
    i61_value *t = i61_value_new_utc_time(t_anin);
    T_EQ_INT(i61_model_set_value(m, "IED1LD1/GGIO1.Ind1.t", I61_FC_ST, t), 0);
    i61_value_free(t);
    run(s, 0);
    take(&a, &p);
    T_EQ_INT(p.n, 0);
    pdus_free(&p);
    close_conn(s, &a);
    i61_server_free(s);
}

static void test_integrity(void)
{
    i61_server *s = i61_server_new(rcb_model(0));
    i61_sconn a;
    open_conn(&a, s, 1, "10.0.0.5:40000", "003_initiate_request");
    urcb_enable(&a, I61_TRG_INTEGRITY | I61_TRG_DCHG, 0, 100);
    uint64_t now = i61_mono_ms();
    uint64_t next = i61_srv_rcb_run(s, now);
    T_CHECK(next >= now + 90 && next <= now + 110);
    T_EQ_INT(a.out.len, 0);
    i61_srv_rcb_run(s, now + 150);
    pdus p;
    take(&a, &p);
    T_EQ_INT(p.n, 1);
    i61_rpt r;
    if (decode(&p, 0, &r) == 0) {
        T_EQ_INT(r.n, 3);
        for (size_t i = 0; i < r.n; i++)
            T_EQ_INT(r.members[i].reason, I61_REASON_INTEGRITY);
    }
    i61_mms_report_clear(&r);
    pdus_free(&p);
    i61_srv_rcb_run(s, now + 160);
    T_EQ_INT(a.out.len, 0);                            /* next one 100 ms later */
    i61_srv_rcb_run(s, now + 260);
    take(&a, &p);
    T_EQ_INT(p.n, 1);
    pdus_free(&p);
    close_conn(s, &a);
    i61_server_free(s);
}

static void test_segmentation(void)
{
    i61_server *s = i61_server_new(rcb_model(0));
    i61_sconn c;
    open_conn(&c, s, 1, "10.0.0.5:40000", "139_initiate_small_request");
    T_EQ_INT(c.max_pdu, 512);
    exchange(&c, "147_write_urcbbig_request", "148_write_urcbbig_response");
    run(s, 0);
    pdus p;
    take(&c, &p);
    T_CHECK(p.n >= 2);
    size_t members = 0;
    for (size_t i = 0; i < p.n; i++) {
        T_CHECK(p.len[i] <= 512);
        i61_rpt r;
        if (decode(&p, i, &r) == 0) {
            T_EQ_INT(r.seq_num, 0);
            T_EQ_INT(r.sub_seq_num, i);
            T_EQ_INT(r.more_segments, i + 1 < p.n);
            T_CHECK(r.opt_flds & I61_OPT_SEGMENTATION);
            T_EQ_INT(r.dataset_size, 12);
            for (size_t k = 0; k < r.n; k++)
                T_EQ_INT(r.members[k].index, members + k);
            members += r.n;
        }
        i61_mms_report_clear(&r);
    }
    T_EQ_INT(members, 12);
    i61_rpt r0;
    if (decode(&p, 0, &r0) == 0)
        T_EQ_INT(r0.n, 8);                             /* as golden 149: 8 + 4 */
    i61_mms_report_clear(&r0);
    T_EQ_INT(i61_server_reports_sent(s), p.n);
    pdus_free(&p);
    close_conn(s, &c);
    i61_server_free(s);
}

/* EntryIDs of the reports in p (up to 16). */
static size_t entry_ids(const pdus *p, uint8_t ids[][8], bool *ovfl)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n && n < 16; i++) {
        i61_rpt r;
        if (decode(p, i, &r) == 0) {
            T_CHECK(r.has_entry_id);
            memcpy(ids[n], r.entry_id, 8);
            if (ovfl)
                ovfl[n] = r.buf_ovfl;
            n++;
        }
        i61_mms_report_clear(&r);
    }
    return n;
}

static void test_brcb_buffer_resync_purge(void)
{
    i61_server *s = i61_server_new(rcb_model(0));
    i61_srv_rcb_activate(s);
    i61_sconn a;
    open_conn(&a, s, 1, "10.0.0.5:40000", "003_initiate_request");
    T_EQ_INT(wr(&a, B "BufTm", i61_value_new_unsigned(0)), -1);
    T_EQ_INT(wr(&a, B "TrgOps", bits(6, I61_TRG_DCHG | I61_TRG_GI)), -1);
    for (int i = 0; i < 3; i++)
        set_bool(s, IND1, I61_FC_ST, i % 2 == 0);
    T_EQ_INT(wr(&a, B "RptEna", i61_value_new_boolean(1)), -1);
    run(s, 0);
    pdus p;
    take(&a, &p);
    uint8_t ids[16][8];
    bool ov[16];
    T_EQ_INT(entry_ids(&p, ids, ov), 3);
    T_CHECK(ov[0] && !ov[1] && !ov[2]);
    pdus_free(&p);
    T_EQ_INT(wr(&a, B "RptEna", i61_value_new_boolean(0)), -1);
    set_bool(s, IND1, I61_FC_ST, 0);
    set_bool(s, IND1, I61_FC_ST, 1);
    /* EntryID reads the last buffered entry while disabled */
    i61_value *e = rd(&a, B "EntryID");
    size_t l = 0;
    T_CHECK(e && i61_value_get_bytes(e, &l) && l == 8);
    i61_value_free(e);
    /* resync after the second entry: entries 3, 4, 5 */
    T_EQ_INT(wr(&a, B "EntryID", i61_value_new_octet_string(ids[1], 8)), -1);
    T_EQ_INT(wr(&a, B "RptEna", i61_value_new_boolean(1)), -1);
    run(s, 0);
    take(&a, &p);
    uint8_t ids2[16][8];
    T_EQ_INT(entry_ids(&p, ids2, ov), 3);
    T_EQ_MEM(ids2[0], 8, ids[2], 8);
    T_CHECK(!ov[0]);
    i61_rpt r;
    if (decode(&p, 0, &r) == 0)
        T_EQ_INT(r.seq_num, 0);                        /* SqNum restarts on enable */
    i61_mms_report_clear(&r);
    pdus_free(&p);
    T_EQ_INT(wr(&a, B "RptEna", i61_value_new_boolean(0)), -1);
    static const uint8_t unknown[8] = {0, 0, 0, 0, 0, 0, 0, 1};
    T_EQ_INT(wr(&a, B "EntryID", i61_value_new_octet_string(unknown, 8)), 11);
    T_EQ_INT(wr(&a, B "EntryID", i61_value_new_octet_string(unknown, 7)), 7);
    /* all zeros: from the start */
    static const uint8_t zero[8];
    T_EQ_INT(wr(&a, B "EntryID", i61_value_new_octet_string(zero, 8)), -1);
    T_EQ_INT(wr(&a, B "RptEna", i61_value_new_boolean(1)), -1);
    run(s, 0);
    take(&a, &p);
    T_EQ_INT(p.n, 5);
    pdus_free(&p);
    /* GI: one report, and it is buffered */
    T_EQ_INT(wr(&a, B "GI", i61_value_new_boolean(1)), -1);
    run(s, 0);
    take(&a, &p);
    T_EQ_INT(p.n, 1);
    pdus_free(&p);
    T_EQ_INT(wr(&a, B "PurgeBuf", i61_value_new_boolean(1)), 2);    /* enabled */
    T_EQ_INT(wr(&a, B "RptEna", i61_value_new_boolean(0)), -1);
    T_EQ_INT(wr(&a, B "PurgeBuf", i61_value_new_boolean(1)), -1);
    T_EQ_INT(wr(&a, B "RptEna", i61_value_new_boolean(1)), -1);
    run(s, 0);
    T_EQ_INT(a.out.len, 0);                            /* nothing left */
    /* a changed DatSet purges too, and increments ConfRev */
    T_EQ_INT(wr(&a, B "RptEna", i61_value_new_boolean(0)), -1);
    set_bool(s, IND1, I61_FC_ST, 0);
    T_EQ_INT(wr(&a, B "DatSet", i61_value_new_visible_string("@x")), 11);
    T_EQ_INT(wr(&a, B "DatSet", i61_value_new_visible_string("IED1LD1/LLN0$Big")), -1);
    T_EQ_INT(rd_int(&a, B "ConfRev"), 2);
    T_EQ_INT(wr(&a, B "RptEna", i61_value_new_boolean(1)), -1);
    run(s, 0);
    T_EQ_INT(a.out.len, 0);
    close_conn(s, &a);
    i61_server_free(s);
}

static void test_brcb_overflow(void)
{
    i61_server *s = i61_server_new(rcb_model(700));
    i61_srv_rcb_activate(s);
    for (int i = 0; i < 30; i++) {
        set_bool(s, IND1, I61_FC_ST, (i + 1) % 2);
        run(s, 100);                                   /* BufTm 50: one entry each */
    }
    T_CHECK(i61_server_report_entries_overflowed(s) > 0);
    i61_sconn a;
    open_conn(&a, s, 1, "10.0.0.5:40000", "003_initiate_request");
    T_EQ_INT(wr(&a, B "RptEna", i61_value_new_boolean(1)), -1);
    run(s, 0);
    pdus p;
    take(&a, &p);
    T_CHECK(p.n > 0 && p.n < 30);
    T_EQ_INT(p.n + i61_server_report_entries_overflowed(s), 30);
    uint8_t ids[16][8];
    bool ov[16];
    size_t n = entry_ids(&p, ids, ov);
    T_CHECK(n > 1 && ov[0] && !ov[1]);
    pdus_free(&p);
    /* overflow while enabled but not read: BufOvfl in the next report */
    T_EQ_INT(wr(&a, B "RptEna", i61_value_new_boolean(0)), -1);
    for (int i = 0; i < 30; i++) {
        set_bool(s, IND1, I61_FC_ST, i % 2);
        run(s, 100);
    }
    T_EQ_INT(wr(&a, B "EntryID", i61_value_new_octet_string(ids[n - 1], 8)), 11);  /* gone */
    close_conn(s, &a);
    i61_server_free(s);
}

static void test_brcb_reservation_after_loss(void)
{
    i61_server *s = i61_server_new(rcb_model(0));
    i61_srv_rcb_activate(s);
    i61_sconn a, b, c;
    open_conn(&a, s, 1, "10.0.0.5:40000", "003_initiate_request");
    open_conn(&b, s, 2, "10.0.0.6:40001", "003_initiate_request");
    T_EQ_INT(wr(&a, B "RptEna", i61_value_new_boolean(1)), -1);
    T_EQ_INT(rd_int(&b, B "ResvTms"), 30);             /* implicit reservation */
    T_EQ_INT(wr(&b, B "RptEna", i61_value_new_boolean(0)), 2);
    close_conn(s, &a);
    T_EQ_INT(rd_int(&b, B "RptEna"), 0);
    T_EQ_INT(wr(&b, B "RptEna", i61_value_new_boolean(1)), 2);    /* kept for 10.0.0.5 */
    open_conn(&c, s, 3, "10.0.0.5:40002", "003_initiate_request");
    T_EQ_INT(wr(&c, B "RptEna", i61_value_new_boolean(1)), -1);   /* the same client */
    T_EQ_INT(wr(&c, B "RptEna", i61_value_new_boolean(0)), -1);
    T_EQ_INT(wr(&c, B "ResvTms", i61_value_new_integer(-2)), 11);
    T_EQ_INT(wr(&c, B "ResvTms", i61_value_new_integer(0)), -1);  /* release */
    T_EQ_INT(wr(&b, B "RptEna", i61_value_new_boolean(1)), -1);
    close_conn(s, &b);
    close_conn(s, &c);
    i61_server_free(s);
}

/* DefineNamedVariableList / DeleteNamedVariableList through the engine. */
static int define_nvl(i61_sconn *c, int scope, const char *item)
{
    i61_buf b;
    i61_buf_init(&b);
    i61_mms_name n;
    memset(&n, 0, sizeof n);
    n.scope = scope;
    if (scope == I61_MMS_SCOPE_DOMAIN)
        strcpy(n.domain, "IED1LD1");
    strcpy(n.item, item);
    i61_mms_var v = var_of("GGIO1$ST$Ind1");
    T_EQ_INT(i61_mms_enc_define_nvl_req(&b, 7, &n, &v, 1), I61_OK);
    uint8_t ans[256];
    size_t al = call(c, &b, ans, sizeof ans);
    i61_buf_free(&b);
    return i61_mms_dec_define_nvl_resp(ans, al, NULL);
}

static uint32_t delete_nvl(i61_sconn *c, const char *item)
{
    i61_buf b;
    i61_buf_init(&b);
    i61_mms_name n;
    memset(&n, 0, sizeof n);
    n.scope = I61_MMS_SCOPE_DOMAIN;
    strcpy(n.domain, "IED1LD1");
    strcpy(n.item, item);
    T_EQ_INT(i61_mms_enc_delete_nvl_req(&b, 8, &n, 1), I61_OK);
    uint8_t ans[256];
    size_t al = call(c, &b, ans, sizeof ans);
    i61_buf_free(&b);
    uint32_t matched = 0, deleted = 99;
    T_EQ_INT(i61_mms_dec_delete_nvl_resp(ans, al, &matched, &deleted, NULL), 0);
    T_EQ_INT(matched, 1);
    return deleted;
}

static void test_dataset_held(void)
{
    i61_server *s = i61_server_new(rcb_model(0));
    i61_srv_rcb_activate(s);
    i61_sconn a;
    open_conn(&a, s, 1, "10.0.0.5:40000", "003_initiate_request");
    T_EQ_INT(define_nvl(&a, I61_MMS_SCOPE_DOMAIN, "LLN0$dyn"), 0);
    T_EQ_INT(define_nvl(&a, I61_MMS_SCOPE_AA, "mine"), 0);
    T_EQ_INT(wr(&a, U "DatSet", i61_value_new_visible_string("IED1LD1/LLN0$dyn")), -1);
    urcb_enable(&a, I61_TRG_DCHG, 0, 0);
    T_EQ_INT(delete_nvl(&a, "LLN0$dyn"), 0);           /* held by the enabled URCB */
    set_bool(s, IND1, I61_FC_ST, 1);
    run(s, 0);
    pdus p;
    take(&a, &p);
    i61_rpt r;
    T_EQ_INT(p.n, 1);
    if (decode(&p, 0, &r) == 0)
        T_EQ_INT(r.dataset_size, 1);
    i61_mms_report_clear(&r);
    pdus_free(&p);
    T_EQ_INT(wr(&a, U "RptEna", i61_value_new_boolean(0)), -1);
    T_EQ_INT(delete_nvl(&a, "LLN0$dyn"), 1);
    /* a BRCB holds its data set even while disabled (it buffers) */
    T_EQ_INT(define_nvl(&a, I61_MMS_SCOPE_DOMAIN, "LLN0$dyn2"), 0);
    T_EQ_INT(wr(&a, B "DatSet", i61_value_new_visible_string("IED1LD1/LLN0$dyn2")), -1);
    T_EQ_INT(delete_nvl(&a, "LLN0$dyn2"), 0);
    T_EQ_INT(wr(&a, B "DatSet", i61_value_new_visible_string("IED1LD1/LLN0$Events")), -1);
    T_EQ_INT(delete_nvl(&a, "LLN0$dyn2"), 1);
    /* the association's own data set: used by its URCB, dropped with it */
    T_EQ_INT(wr(&a, U "DatSet", i61_value_new_visible_string("@mine")), -1);
    T_EQ_INT(wr(&a, U "RptEna", i61_value_new_boolean(1)), -1);
    set_bool(s, IND1, I61_FC_ST, 0);
    run(s, 0);
    take(&a, &p);
    T_EQ_INT(p.n, 1);
    pdus_free(&p);
    close_conn(s, &a);
    set_bool(s, IND1, I61_FC_ST, 1);                   /* nothing bound any more */
    run(s, 0);
    i61_sconn b;
    open_conn(&b, s, 2, "10.0.0.6:40001", "003_initiate_request");
    T_EQ_INT(wr(&b, U "RptEna", i61_value_new_boolean(1)), 2);   /* "@mine" is not b's */
    close_conn(s, &b);
    i61_server_free(s);
}

static void test_slow_client(void)
{
    i61_server *s = i61_server_new(rcb_model(0));
    i61_sconn a;
    open_conn(&a, s, 1, "10.0.0.5:40000", "003_initiate_request");
    urcb_enable(&a, I61_TRG_DCHG, 0, 0);
    /* far more than the URCB queue holds, nobody runs the engine */
    for (int i = 0; i < 60000; i++)
        set_float(s, MAG, (float)(i + 1));
    i61_rcb_stats st;
    i61_srv_rcb_stats(s, &st);
    T_CHECK(st.urcb_dropped > 0);
    run(s, 0);
    T_CHECK(a.rpt_blocked || a.out.len > 0);
    T_CHECK(a.out.len < 2 * I61_RCB_OUT_HIGH);
    size_t first = a.out.len;
    /* the client reads: the rest follows, one batch per drain */
    int rounds = 0;
    do {
        i61_sconn_consume_out(&a, a.out.len);
        a.rpt_blocked = false;
        run(s, 0);
        rounds++;
    } while (a.out.len > 0 && rounds < 100);
    T_CHECK(rounds > 1 && first > 0);
    T_EQ_INT(i61_server_reports_sent(s) + st.urcb_dropped, 60000);
    close_conn(s, &a);
    i61_server_free(s);
}

static void test_builder_errors(void)
{
    i61_model *m = rcb_model(0);
    i61_rcb_config cfg = {0};
    T_EQ_INT(i61_model_add_rcb(m, "IED1LD1/LLN0", "urcb01", 0, &cfg), I61_ERR_OBJECT_EXISTS);
    T_EQ_INT(i61_model_add_rcb(m, "IED1LD1/NOLN", "x", 0, &cfg), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_model_add_rcb(m, "IED1LD1/LLN0", "bad name", 0, &cfg), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_model_add_rcb(m, "IED1LD1/LLN0", "x123456789012345678901234567890123456789012345",
                               0, &cfg), I61_ERR_INVALID_ARGUMENT);
    cfg.dataset = "IED1LD1/LLN0$Nope";
    T_EQ_INT(i61_model_add_rcb(m, "IED1LD1/LLN0", "x", 0, &cfg), I61_ERR_OBJECT_DOES_NOT_EXIST);
    char longid[140];
    memset(longid, 'a', 130);
    longid[130] = 0;
    cfg.dataset = NULL;
    cfg.rpt_id = longid;
    T_EQ_INT(i61_model_add_rcb(m, "IED1LD1/LLN0", "x", 0, &cfg), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_model_add_rcb(m, "IED1LD1/LLN0", "x", 1, NULL), I61_OK);   /* all defaults */
    i61_mnode *n = NULL;
    int fc = 0;
    T_EQ_INT(i61_model_find(m, "IED1LD1/LLN0.x.EntryID", I61_FC_NONE, &n, &fc), 0);
    T_EQ_INT(fc, I61_FC_BR);
    i61_model_free(m);
}

static void test_late_brcb(void)
{
    i61_server *s = i61_server_new(rcb_model(0));
    i61_srv_rcb_activate(s);                           /* the server runs */
    i61_rcb_config cfg = {0};
    cfg.dataset = "IED1LD1/LLN0$Events";
    cfg.trg_ops = I61_TRG_DCHG;
    cfg.opt_flds = I61_OPT_ENTRY_ID;
    FX_OK(i61_model_add_rcb(i61_server_model(s), "IED1LD1/GGIO1", "late", 1, &cfg));
    set_bool(s, IND1, I61_FC_ST, 1);                   /* buffered at once */
    i61_sconn a;
    open_conn(&a, s, 1, "10.0.0.5:40000", "003_initiate_request");
    T_EQ_INT(wr(&a, "GGIO1$BR$late$RptEna", i61_value_new_boolean(1)), -1);
    run(s, 0);
    pdus p;
    take(&a, &p);
    T_EQ_INT(p.n, 1);
    i61_rpt r;
    if (decode(&p, 0, &r) == 0) {
        T_CHECK(r.has_entry_id);
        T_CHECK(strcmp(r.rpt_id, "IED1LD1/GGIO1$BR$late") == 0);   /* RptID empty: the reference */
    }
    i61_mms_report_clear(&r);
    pdus_free(&p);
    close_conn(s, &a);
    i61_server_free(s);
}

T_MAIN(T_CASE(test_golden_types_and_reads), T_CASE(test_golden_urcb_session),
       T_CASE(test_golden_brcb_session), T_CASE(test_rules), T_CASE(test_owner_attribute),
       T_CASE(test_buftm), T_CASE(test_buftm0_one_store), T_CASE(test_dupd), T_CASE(test_integrity),
       T_CASE(test_segmentation), T_CASE(test_brcb_buffer_resync_purge), T_CASE(test_brcb_overflow),
       T_CASE(test_brcb_reservation_after_loss), T_CASE(test_dataset_held), T_CASE(test_slow_client),
       T_CASE(test_builder_errors), T_CASE(test_late_brcb))
