/* Server control engine, driven through the connection engine (no sockets):
 * the golden control exchanges (091-107) replayed byte for byte, then every
 * control model's success and refusal paths, handlers answering through the
 * event queue (at once and later), select timeout, operate-once/-many,
 * cancel, two associations competing, time-activated operate, test mode,
 * hook timeout, connection loss, and the model updates (stVal, t, ctlNum,
 * origin, stSeld; Dbpos for DPC, mxVal for APC). */
#include <pthread.h>
#include <time.h>
#include "t.h"
#include "test_server_fixture.h"
#include "server/server_internal.h"
#include "server/srv_control.h"
#include "mms/mms_control.h"
#include "mms/mms_pdu.h"
#include "net/loop.h"

/* ------------------------------------------------------------ the model */

/* A CO command structure: ctlVal of (type, size) (STRUCTURE: AnalogueValue
 * {f}), [operTm], origin, ctlNum, T, Test, [Check]. */
static void ctl_struct(i61_mnode *d, const char *name, int type, int size, int oper_tm,
                       int check)
{
    i61_mnode *s = fx_da(d, name, I61_FC_CO, I61_TYPE_STRUCTURE, 0);
    i61_mnode *cv = fx_da(s, "ctlVal", I61_FC_NONE, type, size);
    if (type == I61_TYPE_STRUCTURE)
        fx_da(cv, "f", I61_FC_NONE, I61_TYPE_FLOAT, 32);
    if (oper_tm)
        fx_da(s, "operTm", I61_FC_NONE, I61_TYPE_UTC_TIME, 0);
    fx_origin(s, I61_FC_CO);
    fx_da(s, "ctlNum", I61_FC_NONE, I61_TYPE_UNSIGNED, 8);
    fx_da(s, "T", I61_FC_NONE, I61_TYPE_UTC_TIME, 0);
    fx_da(s, "Test", I61_FC_NONE, I61_TYPE_BOOLEAN, 0);
    if (check)
        fx_da(s, "Check", I61_FC_NONE, I61_TYPE_BIT_STRING, -2);
}

static void ctl_cf(i61_mnode *d, int with_sbo)
{
    fx_da(d, "ctlModel", I61_FC_CF, I61_TYPE_INTEGER, 8);
    if (with_sbo) {
        fx_da(d, "sboTimeout", I61_FC_CF, I61_TYPE_UNSIGNED, 32);
        fx_da(d, "sboClass", I61_FC_CF, I61_TYPE_INTEGER, 8);
    }
}

static void set_int(i61_model *m, const char *ref, int fc, int64_t v)
{
    fx_set(m, ref, fc, i61_value_new_integer(v));
}

/* The golden model (SPCSO1 direct-normal, SPCSO2 sbo-enhanced, SPCSO3
 * direct-enhanced) plus SPCSO4 sbo-normal (SBO, stSeld, sboTimeout 1000 ms),
 * SPCSO5 sbo-enhanced operate-many, SPCSO6 status-only with an Oper, Pos
 * (DPC, direct-normal), ISCSO1 (INC with operTm, direct-enhanced), AnOut1
 * (APC, direct-normal). */
static i61_model *ctl_model(void)
{
    i61_model *m = fx_golden_model();
    i61_mnode *g = NULL;
    FX_OK(i61_model_find(m, "IED1LD1/GGIO1", I61_FC_NONE, &g, NULL));

    i61_mnode *d = fx_do(g, "SPCSO4");
    fx_origin(d, I61_FC_ST);
    fx_da(d, "ctlNum", I61_FC_ST, I61_TYPE_UNSIGNED, 8);
    fx_st_triplet(d, I61_TYPE_BOOLEAN, 0);
    fx_da(d, "stSeld", I61_FC_ST, I61_TYPE_BOOLEAN, 0);
    fx_da(d, "SBO", I61_FC_CO, I61_TYPE_VISIBLE_STRING, -129);
    ctl_struct(d, "Oper", I61_TYPE_BOOLEAN, 0, 0, 1);
    ctl_struct(d, "Cancel", I61_TYPE_BOOLEAN, 0, 0, 0);
    ctl_cf(d, 1);

    d = fx_do(g, "SPCSO5");
    fx_st_triplet(d, I61_TYPE_BOOLEAN, 0);
    ctl_struct(d, "SBOw", I61_TYPE_BOOLEAN, 0, 0, 1);
    ctl_struct(d, "Oper", I61_TYPE_BOOLEAN, 0, 0, 1);
    ctl_struct(d, "Cancel", I61_TYPE_BOOLEAN, 0, 0, 0);
    ctl_cf(d, 1);

    d = fx_do(g, "SPCSO6");
    fx_st_triplet(d, I61_TYPE_BOOLEAN, 0);
    ctl_struct(d, "Oper", I61_TYPE_BOOLEAN, 0, 0, 1);
    ctl_cf(d, 0);

    d = fx_do(g, "Pos");
    fx_st_triplet(d, I61_TYPE_BIT_STRING, 2);
    ctl_struct(d, "Oper", I61_TYPE_BOOLEAN, 0, 0, 1);
    ctl_cf(d, 0);

    d = fx_do(g, "ISCSO1");
    fx_st_triplet(d, I61_TYPE_INTEGER, 32);
    ctl_struct(d, "Oper", I61_TYPE_INTEGER, 32, 1, 1);
    ctl_cf(d, 0);

    d = fx_do(g, "AnOut1");
    i61_mnode *mx = fx_da(d, "mxVal", I61_FC_MX, I61_TYPE_STRUCTURE, 0);
    fx_da(mx, "f", I61_FC_NONE, I61_TYPE_FLOAT, 32);
    fx_da(d, "q", I61_FC_MX, I61_TYPE_BIT_STRING, -13);
    fx_da(d, "t", I61_FC_MX, I61_TYPE_UTC_TIME, 0);
    ctl_struct(d, "Oper", I61_TYPE_STRUCTURE, 0, 0, 1);
    ctl_cf(d, 0);

    set_int(m, "IED1LD1/GGIO1.SPCSO4.ctlModel", I61_FC_CF, 2);
    fx_set(m, "IED1LD1/GGIO1.SPCSO4.sboTimeout", I61_FC_CF, i61_value_new_unsigned(1000));
    set_int(m, "IED1LD1/GGIO1.SPCSO5.ctlModel", I61_FC_CF, 4);
    fx_set(m, "IED1LD1/GGIO1.SPCSO5.sboTimeout", I61_FC_CF, i61_value_new_unsigned(1000));
    set_int(m, "IED1LD1/GGIO1.SPCSO5.sboClass", I61_FC_CF, 1);
    set_int(m, "IED1LD1/GGIO1.SPCSO6.ctlModel", I61_FC_CF, 0);
    set_int(m, "IED1LD1/GGIO1.Pos.ctlModel", I61_FC_CF, 1);
    set_int(m, "IED1LD1/GGIO1.ISCSO1.ctlModel", I61_FC_CF, 3);
    set_int(m, "IED1LD1/GGIO1.AnOut1.ctlModel", I61_FC_CF, 1);
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

/* c->out holds exactly the golden frames, in order; consumes them. */
static void expect_frames(i61_sconn *c, const char *const *golden, size_t n)
{
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        uint8_t *f = t_golden(golden[i], &len);
        size_t have = c->out.len > off ? c->out.len - off : 0;
        size_t cmp = have < len ? have : len;
        T_EQ_MEM(c->out.data + off, cmp, f, len);
        if (cmp != len || memcmp(c->out.data + off, f, len) != 0)
            fprintf(stderr, "  (%s)\n", golden[i]);
        off += cmp;
        free(f);
    }
    T_EQ_INT(c->out.len, off);
    i61_sconn_consume_out(c, c->out.len);
}

/* c->out holds exactly the golden frame with octet `at` replaced by `v`. */
static void expect_patched(i61_sconn *c, const char *golden, size_t at, uint8_t v)
{
    size_t len;
    uint8_t *f = t_golden(golden, &len);
    T_CHECK(at < len);
    if (at < len)
        f[at] = v;
    T_EQ_MEM(c->out.data, c->out.len, f, len);
    free(f);
    i61_sconn_consume_out(c, c->out.len);
}

static void exchange(i61_sconn *c, const char *req, const char *resp)
{
    feed(c, req);
    const char *g[1] = {resp};
    expect_frames(c, g, 1);
}

static void open_conn(i61_sconn *c, i61_server *s, uint32_t id, const char *peer)
{
    i61_sconn_init(c, s, id, false);
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    feed(c, "001_cotp_cr");
    i61_sconn_consume_out(c, c->out.len);
    feed(c, "003_initiate_request");
    i61_sconn_consume_out(c, c->out.len);
    T_EQ_INT(c->state, I61_SC_ASSOCIATED);
}

static void close_conn(i61_server *s, i61_sconn *c)
{
    i61_srv_conn_gone(s, c);
    i61_sconn_free(c);
}

/* What the server sent: the PDUs of c->out classified. */
#define MAX_PDUS 16
typedef struct answer {
    int n;                          /* PDUs */
    int dae;                        /* write response: -1 success, else DAE; -100 none */
    bool has_read;
    char text[200];                 /* read response: the visible string */
    int resp_at;                    /* index of the response PDU, -1 none */
    int lae_n, lae_at;              /* LastApplError alone reports, index of the first */
    i61_last_appl_error lae;
    int term_pos, term_neg;
    i61_last_appl_error term_lae;   /* of a CommandTermination- */
    char term_item[270];
} answer;

static void take(i61_sconn *c, answer *a)
{
    memset(a, 0, sizeof *a);
    a->dae = -100;
    a->resp_at = -1;
    a->lae_at = -1;
    size_t off = 0;
    while (off + 4 <= c->out.len && a->n < MAX_PDUS) {
        size_t fl = (size_t)c->out.data[off + 2] << 8 | c->out.data[off + 3];
        if (fl < 4 || off + fl > c->out.len)
            break;
        size_t ml = 0;
        const uint8_t *p = fx_mms_pdu(c->out.data + off, fl, &ml);
        T_CHECK(p != NULL);
        if (p && ml > 0 && p[0] == 0xa3) {
            i61_ctl_rpt r;
            T_EQ_INT(i61_mms_decode_control_report(p, ml, &r), 0);
            if (r.kind == I61_CTL_RPT_LAST_APPL_ERROR) {
                if (a->lae_n++ == 0)
                    a->lae_at = a->n;
                a->lae = r.lae;
            } else if (r.kind == I61_CTL_RPT_TERM_POS) {
                a->term_pos++;
                snprintf(a->term_item, sizeof a->term_item, "%s/%s", r.oper.domain, r.oper.item);
            } else {
                a->term_neg++;
                a->term_lae = r.lae;
                snprintf(a->term_item, sizeof a->term_item, "%s/%s", r.oper.domain, r.oper.item);
            }
            i61_mms_control_report_clear(&r);
        } else if (p && ml > 0) {
            int dae = -100;
            i61_value *v = NULL;
            a->resp_at = a->n;
            if (i61_mms_dec_write_resp(p, ml, &dae, 1, NULL) == 0) {
                a->dae = dae;
            } else if (i61_mms_dec_read_resp_n(p, ml, &v, 1, NULL, NULL) == 0) {
                a->has_read = true;
                size_t l = 0;
                const uint8_t *b = i61_value_get_bytes(v, &l);
                if (i61_value_type(v) != I61_TYPE_VISIBLE_STRING)
                    snprintf(a->text, sizeof a->text, "<type %d>", i61_value_type(v));
                else if (b && l < sizeof a->text)
                    memcpy(a->text, b, l);
                i61_value_free(v);
            } else {
                T_CHECK(!"unexpected PDU");
            }
        }
        a->n++;
        off += fl;
    }
    T_EQ_INT(off, c->out.len);
    i61_sconn_consume_out(c, c->out.len);
}

static i61_value *cmd(int which, i61_value *ctl_val, int ctl_num, int or_cat, const char *ident,
                      int test, int interlock, const uint8_t *oper_tm)
{
    i61_ctl_cmd k;
    memset(&k, 0, sizeof k);
    k.ctl_val = ctl_val;
    k.or_cat = or_cat;
    k.or_ident = (const uint8_t *)ident;
    k.or_ident_len = strlen(ident);
    k.ctl_num = (uint8_t)ctl_num;
    i61_utc_time_from_ms(1700000000000ull, 0x0a, k.t);
    k.test = test != 0;
    k.has_check = which != I61_CTL_CANCEL;
    k.interlock_check = interlock != 0;
    if (oper_tm) {
        k.has_oper_tm = true;
        memcpy(k.oper_tm, oper_tm, 8);
    }
    i61_value *out = NULL;
    T_EQ_INT(i61_ctl_build(which, &k, &out), 0);
    i61_value_free(ctl_val);
    return out;
}

static i61_value *oper_b(int b, int ctl_num)
{
    return cmd(I61_CTL_OPER, i61_value_new_boolean(b), ctl_num, 3, "tester", 0, 0, NULL);
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

/* Writes `value` (taken) to GGIO1$CO$<obj>$<var>; what came back in *a. */
static void wr(i61_sconn *c, const char *obj, const char *var, i61_value *value, answer *a)
{
    char item[80];
    snprintf(item, sizeof item, "GGIO1$CO$%s$%s", obj, var);
    i61_buf b;
    i61_buf_init(&b);
    i61_mms_var v = var_of(item);
    i61_mms_access_spec spec = {false, {0}, &v, 1};
    const i61_value *vals[1] = {value};
    T_EQ_INT(i61_mms_enc_write_req(&b, 9, &spec, vals, 1), 0);
    i61_value_free(value);
    i61_srv_mms_pdu(c, b.data, b.len);
    i61_buf_free(&b);
    take(c, a);
}

static void rd_sbo(i61_sconn *c, const char *obj, answer *a)
{
    char item[80];
    snprintf(item, sizeof item, "GGIO1$CO$%s$SBO", obj);
    i61_buf b;
    i61_buf_init(&b);
    i61_mms_var v = var_of(item);
    i61_mms_access_spec spec = {false, {0}, &v, 1};
    T_EQ_INT(i61_mms_enc_read_req(&b, 8, false, &spec), 0);
    i61_srv_mms_pdu(c, b.data, b.len);
    i61_buf_free(&b);
    take(c, a);
}

/* A refusal: LastApplError (cause) first, then the Write response (dae). */
static void expect_refusal(const answer *a, int cause, int dae)
{
    T_EQ_INT(a->n, 2);
    T_EQ_INT(a->lae_n, 1);
    T_EQ_INT(a->lae_at, 0);
    T_EQ_INT(a->resp_at, 1);
    T_EQ_INT(a->lae.add_cause, cause);
    T_EQ_INT(a->dae, dae);
}

static void expect_ok(const answer *a)
{
    T_EQ_INT(a->n, 1);
    T_EQ_INT(a->dae, -1);
}

static int64_t get_int(i61_server *s, const char *ref, int fc)
{
    i61_value *v = NULL;
    int64_t x = -12345;
    if (i61_model_get_value(i61_server_model(s), ref, fc, &v) != 0)
        return x;
    if (i61_value_type(v) == I61_TYPE_BOOLEAN) {
        int b = 0;
        i61_value_get_boolean(v, &b);
        x = b;
    } else if (i61_value_type(v) == I61_TYPE_BIT_STRING) {
        size_t l = 0;
        const uint8_t *p = i61_value_get_bytes(v, &l);
        x = l ? p[0] : -1;
    } else if (i61_value_get_int64(v, &x) != 0) {
        uint64_t u = 0;
        if (i61_value_get_uint64(v, &u) == 0)
            x = (int64_t)u;
    }
    i61_value_free(v);
    return x;
}

static i61_server_event *next_ev(i61_server *s)
{
    i61_server_event *e = NULL;
    T_EQ_INT(i61_server_next_event(s, 0, &e), 0);
    return e;
}

static void no_event(i61_server *s)
{
    i61_server_event *e = NULL;
    T_EQ_INT(i61_server_next_event(s, 0, &e), I61_ERR_TIMEOUT);
    i61_server_event_free(e);
}

static uint64_t run(i61_server *s, uint64_t ahead)
{
    return i61_srv_ctl_run(s, i61_mono_ms() + ahead);
}

/* ---------------------------------------------------- golden exchanges */

static void test_golden_direct_normal(void)
{
    i61_server *s = i61_server_new(ctl_model());
    i61_sconn c;
    open_conn(&c, s, 1, "10.0.0.5:40000");
    exchange(&c, "091_operate_direct_request", "092_operate_direct_response");
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO1.stVal", I61_FC_ST), 1);
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO1.ctlNum", I61_FC_ST), 1);
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO1.origin.orCat", I61_FC_ST), 3);
    i61_value *id = NULL;
    T_EQ_INT(i61_model_get_value(i61_server_model(s), "IED1LD1/GGIO1.SPCSO1.origin.orIdent",
                                 I61_FC_ST, &id), 0);
    size_t l = 0;
    const uint8_t *b = i61_value_get_bytes(id, &l);
    T_EQ_MEM(b, l, "gold-client", 11);
    i61_value_free(id);
    i61_value *t = NULL;
    T_EQ_INT(i61_model_get_value(i61_server_model(s), "IED1LD1/GGIO1.SPCSO1.t", I61_FC_ST, &t), 0);
    b = i61_value_get_bytes(t, &l);
    T_CHECK(l == 8 && (b[0] | b[1] | b[2] | b[3]) != 0);     /* set to now */
    i61_value_free(t);
    close_conn(s, &c);
    i61_server_free(s);
}

static void test_golden_sbo_enhanced(void)
{
    i61_server *s = i61_server_new(ctl_model());
    i61_sconn c;
    open_conn(&c, s, 1, "10.0.0.5:40000");
    exchange(&c, "093_select_sbow_request", "094_select_sbow_response");
    feed(&c, "095_operate_sbo_request");
    const char *g1[] = {"096_operate_sbo_response", "097_cmdterm_positive_report"};
    expect_frames(&c, g1, 2);
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO2.stVal", I61_FC_ST), 1);
    /* operate-once: the selection ended; a second select works, then Cancel */
    exchange(&c, "098_select_sbow_2_request", "099_select_sbow_2_response");
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO2.ctlNum", I61_FC_ST), 2);
    exchange(&c, "100_cancel_request", "101_cancel_response");
    /* operate without selection: LastApplError 18 before the negative response */
    feed(&c, "105_operate_unselected_request");
    const char *g2[] = {"106_lastapplerror_report", "107_operate_unselected_response"};
    expect_frames(&c, g2, 2);
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO2.stVal", I61_FC_ST), 1);
    close_conn(s, &c);
    i61_server_free(s);
}

static void test_golden_direct_enhanced_failure(void)
{
    i61_server *s = i61_server_new(ctl_model());
    int ud = 7;
    T_EQ_INT(i61_server_set_control_handler(s, "IED1LD1/GGIO1.SPCSO3", I61_CONTROL_STAGE_OPERATE,
                                            1, &ud), 0);
    i61_sconn c;
    open_conn(&c, s, 1, "10.0.0.5:40000");
    /* accepted (CHECK and WAIT without handlers): the positive response first */
    exchange(&c, "102_operate_direct_enh_request", "103_operate_direct_enh_response");
    i61_server_event *e = next_ev(s);
    T_CHECK(e != NULL);
    if (e) {
        T_EQ_INT(e->kind, I61_SEV_CONTROL_OPERATE);
        T_CHECK(strcmp(e->ref, "IED1LD1/GGIO1.SPCSO3") == 0);
        T_CHECK(e->userdata == &ud);
        T_EQ_INT(e->conn_id, 1);
        T_EQ_INT(e->fc, I61_FC_CO);
        T_EQ_INT(e->ctl.ctl_model, 3);
        T_EQ_INT(e->ctl.ctl_num, 1);
        T_EQ_INT(e->ctl.or_cat, 3);
        T_EQ_MEM(e->ctl.or_ident, e->ctl.or_ident_len, "gold-client", 11);
        T_EQ_INT(e->ctl.test, 0);
        T_EQ_INT(e->ctl.is_select, 0);
        T_CHECK(strcmp(e->ctl.peer, "10.0.0.5:40000") == 0);
        int b = 0;
        T_EQ_INT(i61_value_get_boolean(e->value, &b), 0);
        T_EQ_INT(b, 1);
        T_EQ_INT(c.out.len, 0);                   /* nothing until the handler answers */
        T_EQ_INT(i61_server_complete_control(s, e->token, 0), 0);
        T_EQ_INT(i61_server_complete_control(s, e->token, 0), I61_ERR_OBJECT_DOES_NOT_EXIST);
        i61_server_event_free(e);
    }
    run(s, 0);
    /* golden 104 but for LastApplError.Error (frame octet 0x7b): we send 1 unknown in a
     * CommandTermination-, libiec61850 sent 0 */
    expect_patched(&c, "104_cmdterm_negative_report", 0x7b, 1);
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO3.stVal", I61_FC_ST), 0);   /* refused: unchanged */
    close_conn(s, &c);
    i61_server_free(s);
}

/* --------------------------------------------------------------- models */

static void test_status_only(void)
{
    i61_server *s = i61_server_new(ctl_model());
    i61_sconn c;
    open_conn(&c, s, 1, "10.0.0.5:40000");
    answer a;
    wr(&c, "SPCSO6", "Oper", oper_b(1, 1), &a);
    T_EQ_INT(a.n, 1);                             /* no LastApplError */
    T_EQ_INT(a.dae, 3);                           /* object-access-denied */
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO6.stVal", I61_FC_ST), 0);
    T_EQ_INT(i61_server_control_model(s, "IED1LD1/GGIO1.SPCSO6"), 0);
    /* the application makes SPCSO1 status-only through the model */
    set_int(i61_server_model(s), "IED1LD1/GGIO1.SPCSO1.ctlModel", I61_FC_CF, 0);
    feed(&c, "091_operate_direct_request");
    take(&c, &a);
    T_EQ_INT(a.n, 1);
    T_EQ_INT(a.dae, 3);
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO1.stVal", I61_FC_ST), 0);
    close_conn(s, &c);
    i61_server_free(s);
}

static void test_sbo_normal(void)
{
    i61_server *s = i61_server_new(ctl_model());
    i61_sconn a, b;
    open_conn(&a, s, 1, "10.0.0.5:40000");
    open_conn(&b, s, 2, "10.0.0.6:40001");
    answer r;
    wr(&a, "SPCSO4", "Oper", oper_b(1, 1), &r);   /* not selected */
    expect_refusal(&r, 18, 3);
    T_CHECK(strcmp(r.lae.control_object, "IED1LD1/GGIO1$CO$SPCSO4$Oper") == 0);
    T_EQ_INT(r.lae.ctl_num, 1);
    T_EQ_INT(r.lae.or_cat, 3);
    T_EQ_MEM(r.lae.or_ident, r.lae.or_ident_len, "tester", 6);

    rd_sbo(&a, "SPCSO4", &r);
    T_CHECK(r.has_read && strcmp(r.text, "IED1LD1/GGIO1$CO$SPCSO4$SBO") == 0);
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO4.stSeld", I61_FC_ST), 1);
    rd_sbo(&b, "SPCSO4", &r);                     /* selected by a */
    T_CHECK(r.has_read && r.text[0] == 0);
    rd_sbo(&a, "SPCSO4", &r);                     /* already selected */
    T_CHECK(r.has_read && r.text[0] == 0);
    wr(&b, "SPCSO4", "Oper", oper_b(1, 4), &r);
    expect_refusal(&r, 27, 2);                    /* locked by the other client */
    wr(&b, "SPCSO4", "Cancel",
       cmd(I61_CTL_CANCEL, i61_value_new_boolean(1), 4, 3, "tester", 0, 0, NULL), &r);
    expect_refusal(&r, 27, 2);
    wr(&a, "SPCSO4", "Oper", oper_b(1, 2), &r);
    expect_ok(&r);
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO4.stVal", I61_FC_ST), 1);
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO4.stSeld", I61_FC_ST), 0);   /* operate-once */
    wr(&a, "SPCSO4", "Oper", oper_b(0, 3), &r);
    expect_refusal(&r, 18, 3);
    /* SBO of an object that is not sbo-normal: "" */
    T_EQ_INT(i61_model_set_control(i61_server_model(s), "IED1LD1/GGIO1.SPCSO4", 1, 0, 0), 0);
    rd_sbo(&a, "SPCSO4", &r);
    T_CHECK(r.has_read && r.text[0] == 0);
    close_conn(s, &a);
    close_conn(s, &b);
    i61_server_free(s);
}

static void test_sbo_timeout(void)
{
    i61_server *s = i61_server_new(ctl_model());
    i61_sconn c;
    open_conn(&c, s, 1, "10.0.0.5:40000");
    answer r;
    rd_sbo(&c, "SPCSO4", &r);
    T_CHECK(r.text[0] != 0);
    uint64_t next = run(s, 500);                  /* sboTimeout 1000: still selected */
    T_CHECK(next > 0);
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO4.stSeld", I61_FC_ST), 1);
    T_EQ_INT(run(s, 1500), 0);                    /* expired: nothing left to wait for */
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO4.stSeld", I61_FC_ST), 0);
    T_EQ_INT(c.out.len, 0);                       /* a deselection sends nothing */
    wr(&c, "SPCSO4", "Oper", oper_b(1, 1), &r);
    expect_refusal(&r, 18, 3);
    /* sboTimeout from the model: 50 ms now */
    fx_set(i61_server_model(s), "IED1LD1/GGIO1.SPCSO4.sboTimeout", I61_FC_CF,
           i61_value_new_unsigned(50));
    rd_sbo(&c, "SPCSO4", &r);
    T_CHECK(r.text[0] != 0);
    run(s, 100);
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO4.stSeld", I61_FC_ST), 0);
    close_conn(s, &c);
    i61_server_free(s);
}

static void test_sbo_enhanced_rules(void)
{
    i61_server *s = i61_server_new(ctl_model());
    i61_sconn a, b;
    open_conn(&a, s, 1, "10.0.0.5:40000");
    open_conn(&b, s, 2, "10.0.0.6:40001");
    answer r;
    i61_value *sel = cmd(I61_CTL_SBOW, i61_value_new_boolean(1), 5, 3, "tester", 0, 0, NULL);
    wr(&a, "SPCSO2", "SBOw", sel, &r);
    expect_ok(&r);
    /* a second select, by anyone: object-already-selected */
    wr(&b, "SPCSO2", "SBOw", cmd(I61_CTL_SBOW, i61_value_new_boolean(1), 1, 3, "b", 0, 0, NULL),
       &r);
    expect_refusal(&r, 19, 2);
    T_CHECK(strcmp(r.lae.control_object, "IED1LD1/GGIO1$CO$SPCSO2$SBOw") == 0);
    wr(&a, "SPCSO2", "SBOw", cmd(I61_CTL_SBOW, i61_value_new_boolean(1), 6, 3, "tester", 0, 0,
                                 NULL), &r);
    expect_refusal(&r, 19, 2);
    /* an Oper whose ctlNum differs from the SBOw: inconsistent-parameters, deselected */
    wr(&a, "SPCSO2", "Oper", oper_b(1, 6), &r);
    expect_refusal(&r, 26, 7);
    wr(&a, "SPCSO2", "Oper", oper_b(1, 5), &r);
    expect_refusal(&r, 18, 3);
    /* ctlVal differs */
    wr(&a, "SPCSO2", "SBOw", cmd(I61_CTL_SBOW, i61_value_new_boolean(1), 7, 3, "tester", 0, 0,
                                 NULL), &r);
    expect_ok(&r);
    wr(&a, "SPCSO2", "Oper", oper_b(0, 7), &r);
    expect_refusal(&r, 26, 7);
    /* origin differs */
    wr(&a, "SPCSO2", "SBOw", cmd(I61_CTL_SBOW, i61_value_new_boolean(1), 8, 3, "tester", 0, 0,
                                 NULL), &r);
    expect_ok(&r);
    wr(&a, "SPCSO2", "Oper", cmd(I61_CTL_OPER, i61_value_new_boolean(1), 8, 2, "tester", 0, 0,
                                 NULL), &r);
    expect_refusal(&r, 26, 7);
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO2.stVal", I61_FC_ST), 0);
    /* SBOw on an object that is not sbo-enhanced: access denied, no LastApplError */
    wr(&a, "SPCSO5", "SBOw", cmd(I61_CTL_SBOW, i61_value_new_boolean(1), 1, 3, "x", 0, 0, NULL),
       &r);
    expect_ok(&r);                                /* SPCSO5 is sbo-enhanced */
    T_EQ_INT(i61_model_set_control(i61_server_model(s), "IED1LD1/GGIO1.SPCSO5", 3, 0, 0), 0);
    wr(&b, "SPCSO5", "SBOw", cmd(I61_CTL_SBOW, i61_value_new_boolean(1), 1, 3, "x", 0, 0, NULL),
       &r);
    T_EQ_INT(r.n, 1);
    T_EQ_INT(r.dae, 3);
    close_conn(s, &a);
    close_conn(s, &b);
    i61_server_free(s);
}

static void test_operate_many_and_cancel(void)
{
    i61_server *s = i61_server_new(ctl_model());
    i61_sconn c;
    open_conn(&c, s, 1, "10.0.0.5:40000");
    answer r;
    wr(&c, "SPCSO5", "SBOw", cmd(I61_CTL_SBOW, i61_value_new_boolean(1), 9, 3, "op", 0, 0, NULL),
       &r);
    expect_ok(&r);
    for (int k = 0; k < 3; k++) {                 /* operate-many: stays selected */
        wr(&c, "SPCSO5", "Oper", cmd(I61_CTL_OPER, i61_value_new_boolean(1), 9, 3, "op", 0, 0,
                                     NULL), &r);
        T_EQ_INT(r.n, 2);
        T_EQ_INT(r.dae, -1);
        T_EQ_INT(r.term_pos, 1);
        T_CHECK(strcmp(r.term_item, "IED1LD1/GGIO1$CO$SPCSO5$Oper") == 0);
    }
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO5.stVal", I61_FC_ST), 1);
    wr(&c, "SPCSO5", "Cancel", cmd(I61_CTL_CANCEL, i61_value_new_boolean(1), 9, 3, "op", 0, 0,
                                   NULL), &r);
    expect_ok(&r);
    wr(&c, "SPCSO5", "Oper", cmd(I61_CTL_OPER, i61_value_new_boolean(1), 9, 3, "op", 0, 0, NULL),
       &r);
    expect_refusal(&r, 18, 3);
    /* Cancel with nothing selected succeeds (SBO models); direct models refuse it */
    wr(&c, "SPCSO5", "Cancel", cmd(I61_CTL_CANCEL, i61_value_new_boolean(1), 9, 3, "op", 0, 0,
                                   NULL), &r);
    expect_ok(&r);
    close_conn(s, &c);
    i61_server_free(s);
}

static void test_competing_associations(void)
{
    i61_server *s = i61_server_new(ctl_model());
    i61_sconn a, b;
    open_conn(&a, s, 1, "10.0.0.5:40000");
    open_conn(&b, s, 2, "10.0.0.6:40001");
    answer r;
    wr(&a, "SPCSO2", "SBOw", cmd(I61_CTL_SBOW, i61_value_new_boolean(1), 1, 3, "a", 0, 0, NULL),
       &r);
    expect_ok(&r);
    wr(&b, "SPCSO2", "SBOw", cmd(I61_CTL_SBOW, i61_value_new_boolean(1), 1, 3, "b", 0, 0, NULL),
       &r);
    expect_refusal(&r, 19, 2);
    wr(&b, "SPCSO2", "Oper", cmd(I61_CTL_OPER, i61_value_new_boolean(1), 1, 3, "a", 0, 0, NULL),
       &r);
    expect_refusal(&r, 27, 2);
    /* a goes away: its selection ends, b may select */
    close_conn(s, &a);
    wr(&b, "SPCSO2", "SBOw", cmd(I61_CTL_SBOW, i61_value_new_boolean(0), 2, 3, "b", 0, 0, NULL),
       &r);
    expect_ok(&r);
    wr(&b, "SPCSO2", "Oper", cmd(I61_CTL_OPER, i61_value_new_boolean(0), 2, 3, "b", 0, 0, NULL),
       &r);
    T_EQ_INT(r.dae, -1);
    T_EQ_INT(r.term_pos, 1);
    T_EQ_INT(r.resp_at, 0);                       /* response, then CommandTermination+ */
    close_conn(s, &b);
    i61_server_free(s);
}

/* -------------------------------------------------------------- handlers */

static void test_check_refused_interlock(void)
{
    i61_server *s = i61_server_new(ctl_model());
    T_EQ_INT(i61_server_set_control_handler(s, "IED1LD1/GGIO1.SPCSO1", I61_CONTROL_STAGE_CHECK,
                                            1, NULL), 0);
    i61_sconn c;
    open_conn(&c, s, 1, "10.0.0.5:40000");
    answer r;
    i61_value *op = cmd(I61_CTL_OPER, i61_value_new_boolean(1), 4, 2, "station", 0, 1, NULL);
    wr(&c, "SPCSO1", "Oper", op, &r);
    T_EQ_INT(r.n, 0);                             /* waiting for the handler */
    i61_server_event *e = next_ev(s);
    if (e) {
        T_EQ_INT(e->kind, I61_SEV_CONTROL_CHECK);
        T_EQ_INT(e->ctl.interlock_check, 1);
        T_EQ_INT(e->ctl.synchro_check, 0);
        T_EQ_INT(e->ctl.or_cat, 2);
        T_EQ_INT(e->ctl.ctl_num, 4);
        T_EQ_INT(e->ctl.ctl_model, 1);
        /* another command meanwhile: command-already-in-execution */
        answer r2;
        wr(&c, "SPCSO1", "Oper", oper_b(1, 5), &r2);
        expect_refusal(&r2, 12, 2);
        T_EQ_INT(i61_server_complete_control(s, e->token, 10), 0);   /* blocked-by-interlocking */
        i61_server_event_free(e);
    }
    no_event(s);
    run(s, 0);
    take(&c, &r);
    expect_refusal(&r, 10, 3);
    T_EQ_INT(r.lae.ctl_num, 4);
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO1.stVal", I61_FC_ST), 0);
    T_EQ_INT(c.outstanding, 0);
    close_conn(s, &c);
    i61_server_free(s);
}

static void test_wait_refused_synchrocheck(void)
{
    i61_server *s = i61_server_new(ctl_model());
    T_EQ_INT(i61_server_set_control_handler(s, "IED1LD1/GGIO1.SPCSO3",
                                            I61_CONTROL_STAGE_CHECK | I61_CONTROL_STAGE_WAIT, 1,
                                            NULL), 0);
    i61_sconn c;
    open_conn(&c, s, 1, "10.0.0.5:40000");
    answer r;
    wr(&c, "SPCSO3", "Oper", oper_b(1, 1), &r);
    T_EQ_INT(r.n, 0);
    i61_server_event *e = next_ev(s);
    T_CHECK(e && e->kind == I61_SEV_CONTROL_CHECK);
    if (e) {
        T_EQ_INT(i61_server_complete_control(s, e->token, -1), 0);
        i61_server_event_free(e);
    }
    run(s, 0);
    take(&c, &r);                                 /* enhanced: Oper_rsp+ after CHECK */
    T_EQ_INT(r.n, 1);
    T_EQ_INT(r.dae, -1);
    e = next_ev(s);
    T_CHECK(e && e->kind == I61_SEV_CONTROL_WAIT);
    if (e) {
        T_EQ_INT(i61_server_complete_control(s, e->token, 11), 0);
        i61_server_event_free(e);
    }
    run(s, 0);
    take(&c, &r);                                 /* the dynamic test failed: CT- */
    T_EQ_INT(r.n, 1);
    T_EQ_INT(r.term_neg, 1);
    T_EQ_INT(r.term_lae.add_cause, 11);
    T_EQ_INT(r.term_lae.error, 1);
    T_EQ_INT(r.term_lae.ctl_num, 1);
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO3.stVal", I61_FC_ST), 0);
    /* accepted WAIT, refused OPERATE: positive response then CommandTermination- */
    T_EQ_INT(i61_server_set_control_handler(s, "IED1LD1/GGIO1.SPCSO3",
                                            I61_CONTROL_STAGE_OPERATE, 1, NULL), 0);
    wr(&c, "SPCSO3", "Oper", oper_b(1, 2), &r);
    T_EQ_INT(r.n, 1);
    T_EQ_INT(r.dae, -1);
    e = next_ev(s);
    if (e) {
        T_EQ_INT(e->kind, I61_SEV_CONTROL_OPERATE);
        T_EQ_INT(i61_server_complete_control(s, e->token, 22), 0);
        i61_server_event_free(e);
    }
    run(s, 0);
    take(&c, &r);
    T_EQ_INT(r.n, 1);
    T_EQ_INT(r.term_neg, 1);
    T_EQ_INT(r.term_lae.add_cause, 22);
    T_EQ_INT(r.term_lae.ctl_num, 2);
    T_CHECK(strcmp(r.term_lae.control_object, "IED1LD1/GGIO1$CO$SPCSO3$Oper") == 0);
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO3.stVal", I61_FC_ST), 0);
    close_conn(s, &c);
    i61_server_free(s);
}

static void test_deferred_operate_normal(void)
{
    i61_server *s = i61_server_new(ctl_model());
    T_EQ_INT(i61_server_set_control_handler(s, "IED1LD1/GGIO1.SPCSO1", I61_CONTROL_STAGE_OPERATE,
                                            0, NULL), 0);
    i61_sconn c;
    open_conn(&c, s, 1, "10.0.0.5:40000");
    answer r;
    wr(&c, "SPCSO1", "Oper", oper_b(1, 1), &r);
    T_EQ_INT(r.n, 0);                             /* normal: answered after OPERATE */
    T_EQ_INT(c.outstanding, 1);
    i61_server_event *e = next_ev(s);
    if (e) {
        T_EQ_INT(e->kind, I61_SEV_CONTROL_OPERATE);
        T_EQ_INT(i61_server_complete_control(s, e->token, -1), 0);
        i61_server_event_free(e);
    }
    run(s, 0);
    take(&c, &r);
    expect_ok(&r);
    T_EQ_INT(c.outstanding, 0);
    /* auto_update off: the handler owns stVal */
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO1.stVal", I61_FC_ST), 0);
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO1.ctlNum", I61_FC_ST), 1);
    /* with auto_update */
    T_EQ_INT(i61_server_set_control_handler(s, "IED1LD1/GGIO1.SPCSO1", I61_CONTROL_STAGE_OPERATE,
                                            1, NULL), 0);
    wr(&c, "SPCSO1", "Oper", oper_b(1, 2), &r);
    e = next_ev(s);
    if (e) {
        T_EQ_INT(i61_server_complete_control(s, e->token, -1), 0);
        i61_server_event_free(e);
    }
    run(s, 0);
    take(&c, &r);
    expect_ok(&r);
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO1.stVal", I61_FC_ST), 1);
    /* refused OPERATE in a normal model: LastApplError + negative response */
    wr(&c, "SPCSO1", "Oper", oper_b(0, 3), &r);
    e = next_ev(s);
    if (e) {
        T_EQ_INT(i61_server_complete_control(s, e->token, 9), 0);
        i61_server_event_free(e);
    }
    run(s, 0);
    take(&c, &r);
    expect_refusal(&r, 9, 3);
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO1.stVal", I61_FC_ST), 1);
    /* handlers removed: accepted at once again */
    T_EQ_INT(i61_server_set_control_handler(s, "IED1LD1/GGIO1.SPCSO1", 0, 1, NULL), 0);
    wr(&c, "SPCSO1", "Oper", oper_b(0, 4), &r);
    expect_ok(&r);
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO1.stVal", I61_FC_ST), 0);
    no_event(s);
    close_conn(s, &c);
    i61_server_free(s);
}

static void test_select_check_handler(void)
{
    i61_server *s = i61_server_new(ctl_model());
    T_EQ_INT(i61_server_set_control_handler(s, "IED1LD1/GGIO1.SPCSO4", I61_CONTROL_STAGE_CHECK, 1,
                                            NULL), 0);
    T_EQ_INT(i61_server_set_control_handler(s, "IED1LD1/GGIO1.SPCSO2", I61_CONTROL_STAGE_CHECK, 1,
                                            NULL), 0);
    i61_sconn c;
    open_conn(&c, s, 1, "10.0.0.5:40000");
    answer r;
    rd_sbo(&c, "SPCSO4", &r);
    T_EQ_INT(r.n, 0);
    i61_server_event *e = next_ev(s);
    if (e) {
        T_EQ_INT(e->kind, I61_SEV_CONTROL_CHECK);
        T_EQ_INT(e->ctl.is_select, 1);
        T_CHECK(e->value == NULL);                /* a Read carries no value */
        T_EQ_INT(e->ctl.ctl_model, 2);
        T_EQ_INT(i61_server_complete_control(s, e->token, 3), 0);
        i61_server_event_free(e);
    }
    run(s, 0);
    take(&c, &r);
    T_CHECK(r.has_read && r.text[0] == 0);        /* refused: "" */
    T_EQ_INT(r.lae_n, 0);
    rd_sbo(&c, "SPCSO4", &r);
    e = next_ev(s);
    if (e) {
        T_EQ_INT(i61_server_complete_control(s, e->token, -1), 0);
        i61_server_event_free(e);
    }
    run(s, 0);
    take(&c, &r);
    T_CHECK(strcmp(r.text, "IED1LD1/GGIO1$CO$SPCSO4$SBO") == 0);
    /* SBOw: CHECK with is_select and the value; refused -> LastApplError + 3 */
    wr(&c, "SPCSO2", "SBOw", cmd(I61_CTL_SBOW, i61_value_new_boolean(1), 3, 3, "x", 1, 0, NULL),
       &r);
    e = next_ev(s);
    if (e) {
        T_EQ_INT(e->ctl.is_select, 1);
        T_EQ_INT(e->ctl.test, 1);
        T_CHECK(e->value != NULL);
        T_EQ_INT(i61_server_complete_control(s, e->token, 10), 0);
        i61_server_event_free(e);
    }
    run(s, 0);
    take(&c, &r);
    expect_refusal(&r, 10, 3);
    T_CHECK(strcmp(r.lae.control_object, "IED1LD1/GGIO1$CO$SPCSO2$SBOw") == 0);
    close_conn(s, &c);
    i61_server_free(s);
}

static void test_hook_timeout_and_connection_loss(void)
{
    i61_server *s = i61_server_new(ctl_model());
    i61_server_set_hook_timeout(s, 50);
    T_EQ_INT(i61_server_set_control_handler(s, "IED1LD1/GGIO1.SPCSO1", I61_CONTROL_STAGE_CHECK,
                                            1, NULL), 0);
    i61_sconn c;
    open_conn(&c, s, 1, "10.0.0.5:40000");
    answer r;
    wr(&c, "SPCSO1", "Oper", oper_b(1, 1), &r);
    i61_server_event *e = next_ev(s);
    uint64_t next = run(s, 10);
    T_CHECK(next > 0);                            /* the hook deadline */
    T_EQ_INT(c.out.len, 0);
    run(s, 100);
    take(&c, &r);
    expect_refusal(&r, 16, 3);                    /* time-limit-over */
    if (e) {
        T_EQ_INT(i61_server_complete_control(s, e->token, -1), I61_ERR_OBJECT_DOES_NOT_EXIST);
        i61_server_event_free(e);
    }
    /* the association goes away while a handler decides */
    wr(&c, "SPCSO1", "Oper", oper_b(1, 2), &r);
    e = next_ev(s);
    close_conn(s, &c);
    if (e) {
        T_EQ_INT(i61_server_complete_control(s, e->token, -1), I61_ERR_CONNECTION_LOST);
        i61_server_event_free(e);
    }
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO1.stVal", I61_FC_ST), 0);
    T_EQ_INT(i61_server_complete_control(s, 12345, -1), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_server_complete_control(s, 1, 256), I61_ERR_INVALID_ARGUMENT);
    /* a full event queue refuses at once (AddCause 0 unknown) */
    i61_server_set_event_queue_size(s, 1);
    T_EQ_INT(i61_server_set_control_handler(s, "IED1LD1/GGIO1.SPCSO3", I61_CONTROL_STAGE_CHECK,
                                            1, NULL), 0);
    open_conn(&c, s, 2, "10.0.0.5:40001");
    wr(&c, "SPCSO1", "Oper", oper_b(1, 3), &r);
    T_EQ_INT(r.n, 0);
    wr(&c, "SPCSO3", "Oper", oper_b(1, 3), &r);
    expect_refusal(&r, 0, 3);
    T_CHECK(i61_server_events_dropped(s) >= 1);
    e = next_ev(s);
    if (e) {
        T_EQ_INT(i61_server_complete_control(s, e->token, -1), 0);
        i61_server_event_free(e);
    }
    run(s, 0);
    take(&c, &r);
    expect_ok(&r);
    close_conn(s, &c);
    i61_server_free(s);
}

static void test_test_mode(void)
{
    i61_server *s = i61_server_new(ctl_model());
    i61_sconn c;
    open_conn(&c, s, 1, "10.0.0.5:40000");
    answer r;
    wr(&c, "SPCSO1", "Oper", cmd(I61_CTL_OPER, i61_value_new_boolean(1), 1, 3, "t", 1, 0, NULL),
       &r);
    expect_ok(&r);
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO1.stVal", I61_FC_ST), 0);   /* test: not executed */
    wr(&c, "SPCSO3", "Oper", cmd(I61_CTL_OPER, i61_value_new_boolean(1), 1, 3, "t", 1, 0, NULL),
       &r);
    T_EQ_INT(r.dae, -1);
    T_EQ_INT(r.term_pos, 1);
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO3.stVal", I61_FC_ST), 0);
    /* the handler sees the flag */
    T_EQ_INT(i61_server_set_control_handler(s, "IED1LD1/GGIO1.SPCSO1", I61_CONTROL_STAGE_OPERATE,
                                            1, NULL), 0);
    wr(&c, "SPCSO1", "Oper", cmd(I61_CTL_OPER, i61_value_new_boolean(1), 2, 3, "t", 1, 0, NULL),
       &r);
    i61_server_event *e = next_ev(s);
    if (e) {
        T_EQ_INT(e->ctl.test, 1);
        T_EQ_INT(i61_server_complete_control(s, e->token, -1), 0);
        i61_server_event_free(e);
    }
    run(s, 0);
    take(&c, &r);
    expect_ok(&r);
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO1.stVal", I61_FC_ST), 0);
    close_conn(s, &c);
    i61_server_free(s);
}

static uint64_t real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)(ts.tv_nsec / 1000000);
}

static i61_value *oper_int(int64_t v, int ctl_num, uint64_t at_ms)
{
    uint8_t tm[8];
    i61_utc_time_from_ms(at_ms, 0x0a, tm);
    return cmd(I61_CTL_OPER, i61_value_new_integer(v), ctl_num, 3, "timer", 0, 0, tm);
}

static void test_time_activated(void)
{
    i61_server *s = i61_server_new(ctl_model());
    T_EQ_INT(i61_server_set_control_handler(s, "IED1LD1/GGIO1.ISCSO1", I61_CONTROL_STAGE_WAIT, 1,
                                            NULL), 0);
    i61_sconn c;
    open_conn(&c, s, 1, "10.0.0.5:40000");
    answer r;
    /* operTm 0: not time-activated; answered, then WAIT and OPERATE */
    wr(&c, "ISCSO1", "Oper", oper_int(5, 1, 0), &r);
    expect_ok(&r);
    i61_server_event *e = next_ev(s);
    if (e) {
        T_EQ_INT(e->kind, I61_SEV_CONTROL_WAIT);
        T_EQ_INT(e->ctl.has_oper_tm, 1);
        T_EQ_INT(i61_server_complete_control(s, e->token, -1), 0);
        i61_server_event_free(e);
    }
    run(s, 0);
    take(&c, &r);
    T_EQ_INT(r.n, 1);
    T_EQ_INT(r.term_pos, 1);
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.ISCSO1.stVal", I61_FC_ST), 5);
    /* operTm 2 s ahead: answered now, executed then */
    wr(&c, "ISCSO1", "Oper", oper_int(42, 2, real_ms() + 2000), &r);
    expect_ok(&r);
    no_event(s);
    uint64_t next = run(s, 100);
    T_CHECK(next > i61_mono_ms() + 1000);
    T_EQ_INT(c.out.len, 0);
    /* a second command meanwhile: busy */
    wr(&c, "ISCSO1", "Oper", oper_int(1, 3, 0), &r);
    expect_refusal(&r, 12, 2);
    run(s, 2500);                                 /* operTm reached: WAIT */
    e = next_ev(s);
    if (e) {
        T_EQ_INT(e->ctl.ctl_num, 2);
        T_EQ_INT(i61_server_complete_control(s, e->token, -1), 0);
        i61_server_event_free(e);
    }
    run(s, 2500);
    take(&c, &r);
    T_EQ_INT(r.n, 1);
    T_EQ_INT(r.term_pos, 1);                      /* CommandTermination+ after execution */
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.ISCSO1.stVal", I61_FC_ST), 42);
    /* failing at operTm: CommandTermination- */
    wr(&c, "ISCSO1", "Oper", oper_int(7, 4, real_ms() + 1000), &r);
    expect_ok(&r);
    run(s, 1500);
    e = next_ev(s);
    if (e) {
        T_EQ_INT(i61_server_complete_control(s, e->token, 11), 0);
        i61_server_event_free(e);
    }
    run(s, 1500);
    take(&c, &r);
    T_EQ_INT(r.term_neg, 1);
    T_EQ_INT(r.term_lae.add_cause, 11);
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.ISCSO1.stVal", I61_FC_ST), 42);
    /* Cancel of a waiting time-activated operate */
    wr(&c, "ISCSO1", "Oper", oper_int(9, 5, real_ms() + 1000), &r);
    expect_ok(&r);
    wr(&c, "ISCSO1", "Cancel", cmd(I61_CTL_CANCEL, i61_value_new_integer(9), 5, 3, "timer", 0, 0,
                                   NULL), &r);
    T_EQ_INT(r.n, 1);                             /* ISCSO1 has no Cancel: object-non-existent */
    T_EQ_INT(r.dae, 10);
    close_conn(s, &c);
    i61_server_free(s);
}

static void test_cancel_time_activated(void)
{
    i61_model *m = ctl_model();
    i61_mnode *d = NULL;
    FX_OK(i61_model_find(m, "IED1LD1/GGIO1.ISCSO1", I61_FC_CO, &d, NULL));
    ctl_struct(d, "Cancel", I61_TYPE_INTEGER, 32, 1, 0);
    i61_server *s = i61_server_new(m);
    i61_sconn a, b;
    open_conn(&a, s, 1, "10.0.0.5:40000");
    open_conn(&b, s, 2, "10.0.0.6:40001");
    answer r;
    wr(&a, "ISCSO1", "Oper", oper_int(9, 5, real_ms() + 1000), &r);
    expect_ok(&r);
    uint8_t tm[8] = {0};
    wr(&b, "ISCSO1", "Cancel", cmd(I61_CTL_CANCEL, i61_value_new_integer(9), 5, 3, "timer", 0, 0,
                                   tm), &r);
    expect_refusal(&r, 27, 2);                    /* not b's command */
    wr(&a, "ISCSO1", "Cancel", cmd(I61_CTL_CANCEL, i61_value_new_integer(9), 5, 3, "timer", 0, 0,
                                   tm), &r);
    expect_ok(&r);
    T_EQ_INT(run(s, 1500), 0);
    T_EQ_INT(a.out.len, 0);                       /* no termination: aborted */
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.ISCSO1.stVal", I61_FC_ST), 0);
    /* a direct model with nothing to cancel: access denied */
    wr(&a, "ISCSO1", "Cancel", cmd(I61_CTL_CANCEL, i61_value_new_integer(9), 6, 3, "timer", 0, 0,
                                   tm), &r);
    T_EQ_INT(r.n, 1);
    T_EQ_INT(r.dae, 3);
    close_conn(s, &a);
    close_conn(s, &b);
    i61_server_free(s);
}

static void test_dpc_apc_values(void)
{
    i61_server *s = i61_server_new(ctl_model());
    i61_sconn c;
    open_conn(&c, s, 1, "10.0.0.5:40000");
    answer r;
    wr(&c, "Pos", "Oper", oper_b(1, 1), &r);
    expect_ok(&r);
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.Pos.stVal", I61_FC_ST), 0x80);   /* Dbpos on = 10 */
    wr(&c, "Pos", "Oper", oper_b(0, 2), &r);
    expect_ok(&r);
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.Pos.stVal", I61_FC_ST), 0x40);   /* off = 01 */
    i61_value *av = i61_value_new_structure(1);
    i61_value_set_element(av, 0, i61_value_new_float(1.5f));
    wr(&c, "AnOut1", "Oper", cmd(I61_CTL_OPER, av, 1, 3, "apc", 0, 0, NULL), &r);
    expect_ok(&r);
    i61_value *f = NULL;
    double x = 0;
    T_EQ_INT(i61_model_get_value(i61_server_model(s), "IED1LD1/GGIO1.AnOut1.mxVal.f", I61_FC_MX,
                                 &f), 0);
    i61_value_get_double(f, &x);
    T_CHECK(x == 1.5);
    i61_value_free(f);
    /* a bare float where the AnalogueValue is expected (the Rust client's APC) */
    wr(&c, "AnOut1", "Oper", cmd(I61_CTL_OPER, i61_value_new_float(2.5f), 2, 3, "apc", 0, 0, NULL),
       &r);
    T_EQ_INT(r.n, 1);
    T_EQ_INT(r.dae, 7);                           /* type-inconsistent, no LastApplError */
    close_conn(s, &c);
    i61_server_free(s);
}

static void test_bad_parameters(void)
{
    i61_server *s = i61_server_new(ctl_model());
    i61_sconn c;
    open_conn(&c, s, 1, "10.0.0.5:40000");
    answer r;
    /* orCat out of range */
    wr(&c, "SPCSO1", "Oper", cmd(I61_CTL_OPER, i61_value_new_boolean(1), 1, 9, "x", 0, 0, NULL),
       &r);
    expect_refusal(&r, 26, 11);
    wr(&c, "SPCSO2", "SBOw", cmd(I61_CTL_SBOW, i61_value_new_boolean(1), 1, -1, "x", 0, 0, NULL),
       &r);
    expect_refusal(&r, 3, 11);
    /* not a command structure at all */
    wr(&c, "SPCSO1", "Oper", i61_value_new_boolean(1), &r);
    T_EQ_INT(r.n, 1);
    T_EQ_INT(r.dae, 7);
    /* Oper without Check where the model has it */
    i61_ctl_cmd k;
    memset(&k, 0, sizeof k);
    i61_value *cv = i61_value_new_boolean(1);
    k.ctl_val = cv;
    k.or_cat = 3;
    i61_value *v = NULL;
    T_EQ_INT(i61_ctl_build(I61_CTL_OPER, &k, &v), 0);
    i61_value_free(cv);
    wr(&c, "SPCSO1", "Oper", v, &r);
    T_EQ_INT(r.dae, 7);
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO1.stVal", I61_FC_ST), 0);
    /* a control attribute inside a larger write is not a command: CO is not writable */
    i61_buf b;
    i61_buf_init(&b);
    i61_mms_var vars[2] = {var_of("GGIO1$CO$SPCSO1$Oper"), var_of("GGIO1$CO$SPCSO1$Oper")};
    i61_mms_access_spec spec = {false, {0}, vars, 2};
    i61_value *o1 = oper_b(1, 1), *o2 = oper_b(1, 1);
    const i61_value *vals[2] = {o1, o2};
    T_EQ_INT(i61_mms_enc_write_req(&b, 9, &spec, vals, 2), 0);
    i61_srv_mms_pdu(&c, b.data, b.len);
    T_EQ_INT(c.out.len > 0, 1);
    i61_sconn_consume_out(&c, c.out.len);
    i61_value_free(o1);
    i61_value_free(o2);
    i61_buf_free(&b);
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO1.stVal", I61_FC_ST), 0);
    /* reading Oper is an ordinary read (no command) */
    i61_buf_init(&b);
    i61_mms_var rv = var_of("GGIO1$CO$SPCSO1$Oper");
    i61_mms_access_spec rs = {false, {0}, &rv, 1};
    T_EQ_INT(i61_mms_enc_read_req(&b, 8, false, &rs), 0);
    i61_srv_mms_pdu(&c, b.data, b.len);
    i61_buf_free(&b);
    take(&c, &r);
    T_EQ_INT(r.n, 1);
    T_EQ_INT(r.lae_n, 0);
    T_CHECK(r.has_read && strcmp(r.text, "<type 1>") == 0);   /* the Oper structure */
    close_conn(s, &c);
    i61_server_free(s);
}

static void test_declared_control(void)
{
    i61_model *m = ctl_model();
    /* declared before the server exists; Oper is enough for any model */
    T_EQ_INT(i61_model_set_control(m, "IED1LD1/GGIO1.SPCSO1", 4, 0, 0), 0);
    T_EQ_INT(i61_model_set_control(m, "IED1LD1/GGIO1.SPCSO4", 2, 100, 0), 0);
    T_EQ_INT(i61_model_set_control(m, "IED1LD1/GGIO1.SPCSO1", 5, 0, 0), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_model_set_control(m, "IED1LD1/GGIO1.SPCSO1", 1, 0, 2), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_model_set_control(m, "IED1LD1/GGIO1.Nope", 1, 0, 0),
             I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_model_set_control(m, "IED1LD1/GGIO1.Ind1", 1, 0, 0), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_model_set_control(m, "IED1LD1/GGIO1.Ind1", 0, 0, 0), 0);
    T_EQ_INT(i61_model_set_control(m, "IED1LD1/GGIO1", 1, 0, 0), I61_ERR_OBJECT_REFERENCE_INVALID);
    i61_server *s = i61_server_new(m);
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO1.ctlModel", I61_FC_CF), 4);
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO4.sboTimeout", I61_FC_CF), 100);
    T_EQ_INT(i61_server_control_model(s, "IED1LD1/GGIO1.SPCSO1"), 4);
    T_EQ_INT(i61_server_control_model(s, "IED1LD1/GGIO1.SPCSO3"), 3);
    T_EQ_INT(i61_server_control_model(s, "IED1LD1/GGIO1.Ind1"), -1);
    T_EQ_INT(i61_server_control_model(s, "IED1LD1/GGIO1.Nope"), -1);
    T_EQ_INT(i61_server_set_control_handler(s, "IED1LD1/GGIO1.Ind1", 1, 1, NULL),
             I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_server_set_control_handler(s, "IED1LD1/GGIO1.SPCSO1", 8, 1, NULL),
             I61_ERR_INVALID_ARGUMENT);
    /* a declaration wins over a later change of the CF attribute */
    set_int(i61_server_model(s), "IED1LD1/GGIO1.SPCSO3.ctlModel", I61_FC_CF, 1);
    T_EQ_INT(i61_server_control_model(s, "IED1LD1/GGIO1.SPCSO3"), 1);
    set_int(i61_server_model(s), "IED1LD1/GGIO1.SPCSO1.ctlModel", I61_FC_CF, 1);
    T_EQ_INT(i61_server_control_model(s, "IED1LD1/GGIO1.SPCSO1"), 4);
    i61_sconn c;
    open_conn(&c, s, 1, "10.0.0.5:40000");
    answer r;
    feed(&c, "091_operate_direct_request");       /* SPCSO1 is sbo-enhanced now */
    take(&c, &r);
    expect_refusal(&r, 18, 3);
    rd_sbo(&c, "SPCSO4", &r);
    T_CHECK(r.text[0] != 0);
    run(s, 150);                                  /* the declared 100 ms */
    T_EQ_INT(get_int(s, "IED1LD1/GGIO1.SPCSO4.stSeld", I61_FC_ST), 0);
    close_conn(s, &c);
    i61_server_free(s);
}

/* ------------------------------------------------------------ over TCP */

typedef struct dispatcher {
    i61_server *s;
    int stop;                   /* atomics: read by both threads */
    int handled;
} dispatcher;

/* Answers every control event from its own thread (accepts; userdata
 * "ignore" leaves it unanswered). */
static void *dispatch(void *arg)
{
    dispatcher *d = arg;
    while (!__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE)) {
        i61_server_event *e = NULL;
        if (i61_server_next_event(d->s, 50, &e) != I61_OK)
            continue;
        if (e->kind >= I61_SEV_CONTROL_CHECK && e->userdata == NULL) {
            struct timespec ts = {0, 5 * 1000000L};
            nanosleep(&ts, NULL);
            __atomic_add_fetch(&d->handled, 1, __ATOMIC_ACQ_REL);   /* before: the client
                                                                        returns at once */
            i61_server_complete_control(d->s, e->token, -1);
        }
        i61_server_event_free(e);
    }
    return NULL;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int64_t cl_int(i61_client *c, const char *ref, int fc)
{
    i61_value *v = NULL;
    int64_t x = -12345;
    if (i61_client_read_value(c, ref, fc, &v) != I61_OK)
        return x;
    int b = 0;
    if (i61_value_get_boolean(v, &b) == I61_OK)
        x = b;
    else
        i61_value_get_int64(v, &x);
    i61_value_free(v);
    return x;
}

static void test_over_tcp(void)
{
    i61_server *s = i61_server_new(ctl_model());
    static int ignore;
    T_EQ_INT(i61_server_set_control_handler(s, "IED1LD1/GGIO1.SPCSO1",
                                            I61_CONTROL_STAGE_CHECK | I61_CONTROL_STAGE_OPERATE, 1,
                                            NULL), 0);
    T_EQ_INT(i61_server_set_control_handler(s, "IED1LD1/GGIO1.SPCSO3", I61_CONTROL_STAGE_CHECK, 1,
                                            &ignore), 0);
    i61_server_set_hook_timeout(s, 150);
    fx_set(i61_server_model(s), "IED1LD1/GGIO1.SPCSO4.sboTimeout", I61_FC_CF,
           i61_value_new_unsigned(100));
    T_EQ_INT(i61_server_start(s, "127.0.0.1", 0), 0);
    dispatcher d = {s, 0, 0};
    pthread_t th;
    T_EQ_INT(pthread_create(&th, NULL, dispatch, &d), 0);
    i61_client *c = i61_client_new();
    T_EQ_INT(i61_client_connect(c, "127.0.0.1", i61_server_port(s)), 0);

    /* handlers answered from another thread: CHECK then OPERATE */
    i61_value *op = oper_b(1, 1);
    T_EQ_INT(i61_client_write_value(c, "IED1LD1/GGIO1$CO$SPCSO1$Oper", I61_FC_NONE, op), 0);
    i61_value_free(op);
    T_EQ_INT(__atomic_load_n(&d.handled, __ATOMIC_ACQUIRE), 2);
    T_EQ_INT(cl_int(c, "IED1LD1/GGIO1.SPCSO1.stVal", I61_FC_ST), 1);

    /* a handler that never answers: refused after the hook timeout (the sweep timer) */
    op = oper_b(1, 1);
    T_EQ_INT(i61_client_write_value(c, "IED1LD1/GGIO1$CO$SPCSO3$Oper", I61_FC_NONE, op),
             I61_ERR_ACCESS_DENIED);
    i61_value_free(op);

    /* time-activated: answered at once, executed 300 ms later by the loop timer */
    op = oper_int(42, 1, real_ms() + 300);
    T_EQ_INT(i61_client_write_value(c, "IED1LD1/GGIO1$CO$ISCSO1$Oper", I61_FC_NONE, op), 0);
    i61_value_free(op);
    T_EQ_INT(cl_int(c, "IED1LD1/GGIO1.ISCSO1.stVal", I61_FC_ST), 0);
    int64_t v = 0;
    for (int k = 0; k < 100 && v != 42; k++) {
        sleep_ms(20);
        v = cl_int(c, "IED1LD1/GGIO1.ISCSO1.stVal", I61_FC_ST);
    }
    T_EQ_INT(v, 42);

    /* select by reading SBO; the selection times out on the timer */
    i61_value *sbo = NULL;
    T_EQ_INT(i61_client_read_value(c, "IED1LD1/GGIO1$CO$SPCSO4$SBO", I61_FC_NONE, &sbo), 0);
    size_t l = 0;
    const uint8_t *b = i61_value_get_bytes(sbo, &l);
    T_EQ_MEM(b, l, "IED1LD1/GGIO1$CO$SPCSO4$SBO", 27);
    i61_value_free(sbo);
    T_EQ_INT(cl_int(c, "IED1LD1/GGIO1.SPCSO4.stSeld", I61_FC_ST), 1);
    int64_t seld = 1;
    for (int k = 0; k < 100 && seld != 0; k++) {
        sleep_ms(20);
        seld = cl_int(c, "IED1LD1/GGIO1.SPCSO4.stSeld", I61_FC_ST);
    }
    T_EQ_INT(seld, 0);

    i61_client_free(c);
    __atomic_store_n(&d.stop, 1, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    i61_server_free(s);
}

T_MAIN(T_CASE(test_golden_direct_normal), T_CASE(test_golden_sbo_enhanced),
       T_CASE(test_golden_direct_enhanced_failure), T_CASE(test_status_only),
       T_CASE(test_sbo_normal), T_CASE(test_sbo_timeout), T_CASE(test_sbo_enhanced_rules),
       T_CASE(test_operate_many_and_cancel), T_CASE(test_competing_associations),
       T_CASE(test_check_refused_interlock), T_CASE(test_wait_refused_synchrocheck),
       T_CASE(test_deferred_operate_normal), T_CASE(test_select_check_handler),
       T_CASE(test_hook_timeout_and_connection_loss), T_CASE(test_test_mode),
       T_CASE(test_time_activated), T_CASE(test_cancel_time_activated),
       T_CASE(test_dpc_apc_values), T_CASE(test_bad_parameters), T_CASE(test_declared_control),
       T_CASE(test_over_tcp))
