/* Server setting group control blocks (srv_sgcb.c): the model (SGCB
 * attributes, SE twins, per-group values), the MMS services driven through
 * the connection engine (SelectActiveSG, SelectEditSG, SE writes,
 * ConfirmEditSGValues, their refusals), two associations competing for the
 * edit reservation, its end (EditSG 0, association closed, ResvTms),
 * handlers answering through the event queue (accept, refuse, hook timeout,
 * connection loss, full queue), and the whole thing over TCP with our
 * client. */
#include <pthread.h>
#include <time.h>
#include "t.h"
#include "test_server_fixture.h"
#include "server/server_internal.h"
#include "server/srv_sgcb.h"
#include "server/srv_rcb.h"
#include "mms/mms_report.h"
#include "mms/mms_pdu.h"
#include "mms/mms_data.h"
#include "mms/mms_control.h"
#include "mms/value_internal.h"
#include "net/loop.h"

#define DOM "IED1LD1"

/* ------------------------------------------------------------ the model */

static i61_value *f32(float f)
{
    return i61_value_new_float(f);
}

static i61_value *i32(int64_t v)
{
    return i61_value_new_integer_sized(v, 32);
}

static i61_value *u8(uint64_t v)
{
    return i61_value_new_unsigned_sized(v, 8);
}

static void set_sg(i61_model *m, const char *ref, int sg, i61_value *v)
{
    T_EQ_INT(i61_model_set_sg_value(m, ref, sg, v), 0);
    i61_value_free(v);
}

/* IED1LD1: LLN0 (Mod), PTOC1 with StrVal.setMag.f [SG] (FLOAT32),
 * OpDlTmms.setVal [SG] (INT32), TmMult.setVal [SP]; SGCB 3 groups, group 1
 * active; StrVal 1.5/2.5/3.5, OpDlTmms 100/200/300. IED1LD2: GGIO1 with an
 * FC SG attribute but no SGCB. */
static i61_model *sg_model(uint32_t resv_s)
{
    i61_model *m = i61_model_new("IED1");
    i61_mnode *ld, *ln, *d, *s;
    FX_OK(i61_model_add_ld(m, "LD1", NULL, &ld));
    FX_OK(i61_model_add_ln(ld, "LLN0", &ln));
    d = fx_do(ln, "Mod");
    fx_da(d, "stVal", I61_FC_ST, I61_TYPE_INTEGER, 8);
    FX_OK(i61_model_add_ln(ld, "PTOC1", &ln));
    d = fx_do(ln, "StrVal");
    s = fx_da(d, "setMag", I61_FC_SG, I61_TYPE_STRUCTURE, 0);
    fx_da(s, "f", I61_FC_NONE, I61_TYPE_FLOAT, 32);
    d = fx_do(ln, "OpDlTmms");
    fx_da(d, "setVal", I61_FC_SG, I61_TYPE_INTEGER, 32);
    d = fx_do(ln, "TmMult");
    fx_da(d, "setVal", I61_FC_SP, I61_TYPE_INTEGER, 32);
    FX_OK(i61_model_add_ld(m, "LD2", NULL, &ld));
    FX_OK(i61_model_add_ln(ld, "GGIO1", &ln));
    d = fx_do(ln, "Set");
    fx_da(d, "setVal", I61_FC_SG, I61_TYPE_INTEGER, 32);
    FX_OK(i61_model_add_sgcb(m, DOM "/LLN0", 3, 1, resv_s));
    for (int g = 1; g <= 3; g++) {
        set_sg(m, DOM "/PTOC1.StrVal.setMag.f", g, f32(0.5f + (float)g));
        set_sg(m, DOM "/PTOC1.OpDlTmms.setVal", g, i32(100 * g));
    }
    return m;
}

static double get_f(i61_model *m, const char *ref, int fc)
{
    i61_value *v = NULL;
    double d = -1e9;
    if (i61_model_get_value(m, ref, fc, &v) == 0)
        i61_value_get_double(v, &d);
    i61_value_free(v);
    return d;
}

static int64_t get_i(i61_model *m, const char *ref, int fc)
{
    i61_value *v = NULL;
    int64_t x = -12345;
    if (i61_model_get_value(m, ref, fc, &v) != 0)
        return x;
    int b = 0;
    uint64_t u = 0;
    if (i61_value_get_boolean(v, &b) == 0)
        x = b;
    else if (i61_value_get_int64(v, &x) != 0 && i61_value_get_uint64(v, &u) == 0)
        x = (int64_t)u;
    i61_value_free(v);
    return x;
}

static double sg_f(i61_model *m, const char *ref, int sg)
{
    i61_value *v = NULL;
    double d = -1e9;
    if (i61_model_get_sg_value(m, ref, sg, &v) == 0)
        i61_value_get_double(v, &d);
    i61_value_free(v);
    return d;
}

static int64_t sg_i(i61_model *m, const char *ref, int sg)
{
    i61_value *v = NULL;
    int64_t x = -12345;
    if (i61_model_get_sg_value(m, ref, sg, &v) == 0)
        i61_value_get_int64(v, &x);
    i61_value_free(v);
    return x;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------- plumbing */

static void feed(i61_sconn *c, const char *golden)
{
    size_t len;
    uint8_t *f = t_golden(golden, &len);
    T_EQ_INT(i61_sconn_feed(c, f, len), 0);
    free(f);
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

static i61_mms_var var_of(const char *dom, const char *item)
{
    i61_mms_var v;
    memset(&v, 0, sizeof v);
    v.name.scope = I61_MMS_SCOPE_DOMAIN;
    snprintf(v.name.domain, sizeof v.name.domain, "%s", dom);
    snprintf(v.name.item, sizeof v.name.item, "%s", item);
    return v;
}

/* The one MMS PDU in c->out (consumed): *len octets; NULL if none. */
static uint8_t *take_pdu(i61_sconn *c, size_t *len)
{
    *len = 0;
    if (c->out.len == 0)
        return NULL;
    size_t fl = c->out.len >= 4 ? ((size_t)c->out.data[2] << 8 | c->out.data[3]) : 0;
    T_EQ_INT(fl, c->out.len);                      /* exactly one frame */
    size_t ml = 0;
    const uint8_t *p = fx_mms_pdu(c->out.data, c->out.len, &ml);
    uint8_t *copy = p && ml ? malloc(ml) : NULL;
    if (copy) {
        memcpy(copy, p, ml);
        *len = ml;
    }
    i61_sconn_consume_out(c, c->out.len);
    return copy;
}

/* The Write response in c->out: -1 success, a DAE, -100 none. */
static int take_write(i61_sconn *c)
{
    size_t ml = 0;
    uint8_t *p = take_pdu(c, &ml);
    int dae = -100;
    if (p)
        T_EQ_INT(i61_mms_dec_write_resp(p, ml, &dae, 1, NULL), 0);
    free(p);
    return dae;
}

static void send_write(i61_sconn *c, const i61_mms_var *v, i61_value *value)
{
    i61_buf b;
    i61_buf_init(&b);
    i61_mms_access_spec spec = {false, {0}, (i61_mms_var *)v, 1};
    const i61_value *vals[1] = {value};
    T_EQ_INT(i61_mms_enc_write_req(&b, 7, &spec, vals, 1), 0);
    i61_value_free(value);
    i61_srv_mms_pdu(c, b.data, b.len);
    i61_buf_free(&b);
}

/* Writes value (taken) to DOM/item: the answer now (-100: none yet). */
static int wr(i61_sconn *c, const char *item, i61_value *value)
{
    i61_mms_var v = var_of(DOM, item);
    send_write(c, &v, value);
    return take_write(c);
}

/* Reads DOM/item: the value (caller frees), NULL with *dae on an error. */
static i61_value *rd(i61_sconn *c, const char *item, int *dae)
{
    i61_buf b;
    i61_buf_init(&b);
    i61_mms_var v = var_of(DOM, item);
    i61_mms_access_spec spec = {false, {0}, &v, 1};
    T_EQ_INT(i61_mms_enc_read_req(&b, 8, false, &spec), 0);
    i61_srv_mms_pdu(c, b.data, b.len);
    i61_buf_free(&b);
    size_t ml = 0;
    uint8_t *p = take_pdu(c, &ml);
    i61_value *val = NULL;
    *dae = -100;
    if (p && i61_mms_dec_read_resp_n(p, ml, &val, 1, NULL, NULL) == 0) {
        *dae = i61_value_get_data_access_error(val);
        if (*dae >= 0) {
            i61_value_free(val);
            val = NULL;
        }
    }
    free(p);
    return val;
}

static double rd_f(i61_sconn *c, const char *item)
{
    int dae;
    i61_value *v = rd(c, item, &dae);
    double d = -1e9;
    if (v)
        i61_value_get_double(v, &d);
    i61_value_free(v);
    return d;
}

static int64_t rd_i(i61_sconn *c, const char *item)
{
    int dae;
    i61_value *v = rd(c, item, &dae);
    int64_t x = -12345;
    int b;
    uint64_t u;
    if (v && i61_value_get_boolean(v, &b) == 0)
        x = b;
    else if (v && i61_value_get_int64(v, &x) != 0 && i61_value_get_uint64(v, &u) == 0)
        x = (int64_t)u;
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

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* -------------------------------------------------------------- model */

static void test_model_layout(void)
{
    i61_model *m = sg_model(0);
    /* the SGCB: components in order with their types */
    i61_typespec *ts = NULL;
    T_EQ_INT(i61_model_get_typespec(m, DOM "/LLN0$SP$SGCB", I61_FC_NONE, &ts), 0);
    static const char *names[] = {"NumOfSG", "ActSG", "EditSG", "CnfEdit", "LActTm", "ResvTms"};
    static const int kinds[] = {I61_TYPE_UNSIGNED, I61_TYPE_UNSIGNED, I61_TYPE_UNSIGNED,
                                I61_TYPE_BOOLEAN, I61_TYPE_UTC_TIME, I61_TYPE_UNSIGNED};
    static const int sizes[] = {8, 8, 8, 0, 0, 16};
    T_EQ_INT(i61_typespec_count(ts), 6);
    for (size_t i = 0; i < 6 && i < i61_typespec_count(ts); i++) {
        const i61_typespec *c = i61_typespec_child(ts, i);
        T_CHECK(strcmp(i61_typespec_name(c), names[i]) == 0);
        T_EQ_INT(i61_typespec_kind(c), kinds[i]);
        if (sizes[i])
            T_EQ_INT(i61_typespec_size(c), sizes[i]);
    }
    i61_typespec_free(ts);
    /* first values */
    T_EQ_INT(get_i(m, DOM "/LLN0.SGCB.NumOfSG", I61_FC_SP), 3);
    T_EQ_INT(get_i(m, DOM "/LLN0.SGCB.ActSG", I61_FC_SP), 1);
    T_EQ_INT(get_i(m, DOM "/LLN0.SGCB.EditSG", I61_FC_SP), 0);
    T_EQ_INT(get_i(m, DOM "/LLN0.SGCB.CnfEdit", I61_FC_SP), 0);
    T_EQ_INT(get_i(m, DOM "/LLN0.SGCB.ResvTms", I61_FC_SP), 60);   /* 0 = 60 s */
    i61_value *lact = NULL;
    T_EQ_INT(i61_model_get_value(m, DOM "/LLN0.SGCB.LActTm", I61_FC_SP, &lact), 0);
    size_t l = 0;
    const uint8_t *o = i61_value_get_bytes(lact, &l);
    T_EQ_INT(l, 8);
    int64_t at = o ? (int64_t)i61_utc_time_to_ms(o) : 0;
    T_CHECK(at > wall_ms() - 60000 && at <= wall_ms() + 1000);
    i61_value_free(lact);

    /* SE twins: same names and types, MMS style and client style with FC SE */
    i61_typespec *sg = NULL, *se = NULL;
    T_EQ_INT(i61_model_get_typespec(m, DOM "/PTOC1$SG$StrVal", I61_FC_NONE, &sg), 0);
    T_EQ_INT(i61_model_get_typespec(m, DOM "/PTOC1$SE$StrVal", I61_FC_NONE, &se), 0);
    i61_buf a, b;
    i61_buf_init(&a);
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_typespec_encode(&a, sg), 0);
    T_EQ_INT(i61_mms_typespec_encode(&b, se), 0);
    T_EQ_MEM(a.data, a.len, b.data, b.len);
    i61_buf_free(&a);
    i61_buf_free(&b);
    i61_typespec_free(sg);
    i61_typespec_free(se);
    i61_mnode *n = NULL;
    int fc = -5;
    T_EQ_INT(i61_model_find(m, DOM "/PTOC1.StrVal.setMag.f", I61_FC_SE, &n, &fc), 0);
    T_EQ_INT(fc, I61_FC_SE);
    T_EQ_INT(i61_mnode_fc(n), I61_FC_SE);
    T_EQ_INT(i61_model_find(m, DOM "/PTOC1.StrVal.setMag.f", I61_FC_SG, &n, &fc), 0);
    T_EQ_INT(i61_mnode_fc(n), I61_FC_SG);
    T_EQ_INT(i61_model_find(m, DOM "/PTOC1.OpDlTmms.setVal", I61_FC_NONE, &n, &fc), 0);
    T_EQ_INT(fc, I61_FC_SG);                       /* without an FC: the setting itself */
    T_EQ_INT(i61_model_find(m, DOM "/PTOC1.OpDlTmms", I61_FC_NONE, &n, &fc),
             I61_ERR_OBJECT_REFERENCE_INVALID);    /* the DO has SG and SE now */
    T_EQ_INT(i61_model_find(m, DOM "/PTOC1$SE$OpDlTmms$setVal", I61_FC_NONE, &n, &fc), 0);
    T_EQ_INT(fc, I61_FC_SE);
    /* no twin for SP attributes, nor in an LD without SGCB */
    T_EQ_INT(i61_model_find(m, DOM "/PTOC1$SE$TmMult$setVal", I61_FC_NONE, &n, &fc),
             I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_model_find(m, "IED1LD2/GGIO1$SE$Set$setVal", I61_FC_NONE, &n, &fc),
             I61_ERR_OBJECT_DOES_NOT_EXIST);
    /* SE shows the active values while nobody edits */
    T_CHECK(get_f(m, DOM "/PTOC1.StrVal.setMag.f", I61_FC_SE) == 1.5);
    T_EQ_INT(get_i(m, DOM "/PTOC1.OpDlTmms.setVal", I61_FC_SE), 100);

    /* builder errors */
    T_EQ_INT(i61_model_add_sgcb(m, DOM "/LLN0", 3, 1, 0), I61_ERR_OBJECT_EXISTS);
    T_EQ_INT(i61_model_add_sgcb(m, "IED1LD2/GGIO1", 0, 1, 0), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_model_add_sgcb(m, "IED1LD2/GGIO1", 2, 3, 0), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_model_add_sgcb(m, "IED1LD2/GGIO1", 256, 1, 0), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_model_add_sgcb(m, "IED1LD9/LLN0", 2, 1, 0), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_model_add_sgcb(m, "IED1LD2/NOPE1", 2, 1, 0), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_model_add_sgcb(NULL, DOM "/LLN0", 2, 1, 0), I61_ERR_INVALID_ARGUMENT);
    /* engine-owned values: the application cannot write them */
    i61_value *v = u8(2);
    T_EQ_INT(i61_model_set_value(m, DOM "/LLN0.SGCB.ActSG", I61_FC_SP, v), I61_ERR_ACCESS_DENIED);
    T_EQ_INT(i61_model_find(m, DOM "/LLN0.SGCB.ActSG", I61_FC_SP, &n, NULL), 0);
    T_EQ_INT(i61_model_set_node_value(m, n, I61_FC_SP, v), I61_ERR_ACCESS_DENIED);
    i61_value_free(v);
    i61_model_free(m);
}

static void test_group_values(void)
{
    i61_model *m = sg_model(0);
    const char *f = DOM "/PTOC1.StrVal.setMag.f", *iv = DOM "/PTOC1.OpDlTmms.setVal";
    for (int g = 1; g <= 3; g++) {
        T_CHECK(sg_f(m, f, g) == 0.5 + g);
        T_EQ_INT(sg_i(m, iv, g), 100 * g);
    }
    /* the active group is the model's SG value */
    T_CHECK(get_f(m, f, I61_FC_SG) == 1.5);
    T_EQ_INT(get_i(m, iv, I61_FC_SG), 100);
    set_sg(m, iv, 1, i32(111));
    T_EQ_INT(get_i(m, iv, I61_FC_SG), 111);
    fx_set(m, iv, I61_FC_SG, i32(112));            /* the application writes SG directly */
    T_EQ_INT(sg_i(m, iv, 1), 112);
    /* values keep the model's width */
    i61_value *v = NULL;
    set_sg(m, iv, 2, i61_value_new_integer(-7));
    T_EQ_INT(i61_model_get_sg_value(m, iv, 2, &v), 0);
    T_EQ_INT(i61_value_bit_size(v), 32);
    i61_value_free(v);
    /* whole constructed attribute and whole DO (FC SG) */
    i61_value *st = i61_value_new_structure(1);
    i61_value_set_element(st, 0, f32(4.25f));
    set_sg(m, DOM "/PTOC1.StrVal.setMag", 3, st);
    T_CHECK(sg_f(m, f, 3) == 4.25);
    T_EQ_INT(i61_model_get_sg_value(m, DOM "/PTOC1$SG$StrVal", 3, &v), 0);
    T_EQ_INT(i61_value_type(v), I61_TYPE_STRUCTURE);
    T_EQ_INT(i61_value_count(v), 1);
    i61_value_free(v);
    i61_value *d = i61_value_new_structure(1);
    i61_value *sm = i61_value_new_structure(1);
    i61_value_set_element(sm, 0, f32(5.75f));
    i61_value_set_element(d, 0, sm);
    set_sg(m, DOM "/PTOC1$SG$StrVal", 2, d);
    T_CHECK(sg_f(m, f, 2) == 5.75);
    T_CHECK(get_f(m, f, I61_FC_SG) == 1.5);        /* group 1 untouched */

    /* errors */
    v = f32(1.0f);
    T_EQ_INT(i61_model_set_sg_value(m, f, 0, v), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_model_set_sg_value(m, f, 4, v), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_model_set_sg_value(m, iv, 2, v), I61_ERR_TYPE_INCONSISTENT);
    T_EQ_INT(i61_model_set_sg_value(m, "IED1LD2/GGIO1.Set.setVal", 1, v),
             I61_ERR_OBJECT_DOES_NOT_EXIST);       /* no SGCB in that LD */
    T_EQ_INT(i61_model_set_sg_value(m, DOM "/PTOC1.TmMult.setVal", 1, v),
             I61_ERR_OBJECT_DOES_NOT_EXIST);       /* SP, not SG */
    T_EQ_INT(i61_model_set_sg_value(m, DOM "/PTOC1.Nope.setVal", 1, v),
             I61_ERR_OBJECT_DOES_NOT_EXIST);
    i61_value_free(v);
    T_EQ_INT(i61_model_get_sg_value(m, f, 9, &v), I61_ERR_INVALID_ARGUMENT);
    T_CHECK(v == NULL);

    /* local switch: the group's values become the SG values */
    i61_server *s = i61_server_new(m);
    i61_sgcb_state st0;
    T_EQ_INT(i61_server_get_sgcb(s, DOM, &st0), 0);
    T_EQ_INT(st0.num_of_sg, 3);
    T_EQ_INT(st0.act_sg, 1);
    T_EQ_INT(st0.edit_sg, 0);
    T_EQ_INT(st0.resv_tms_s, 60);
    T_EQ_INT(st0.edit_conn_id, 0);
    T_EQ_INT(i61_server_select_active_sg(s, DOM "/LLN0", 2), 0);
    T_CHECK(get_f(m, f, I61_FC_SG) == 5.75);
    T_EQ_INT(get_i(m, iv, I61_FC_SG), -7);
    T_EQ_INT(get_i(m, DOM "/LLN0.SGCB.ActSG", I61_FC_SP), 2);
    T_CHECK(sg_f(m, f, 1) == 1.5);                 /* group 1 kept its values */
    T_EQ_INT(sg_i(m, iv, 1), 112);
    i61_sgcb_state st1;
    T_EQ_INT(i61_server_get_sgcb(s, DOM "/LLN0", &st1), 0);
    T_EQ_INT(st1.act_sg, 2);
    T_CHECK(st1.lact_tm_ms >= st0.lact_tm_ms);
    T_EQ_INT(i61_server_select_active_sg(s, DOM, 1), 0);
    T_CHECK(get_f(m, f, I61_FC_SG) == 1.5);
    T_EQ_INT(i61_server_select_active_sg(s, DOM, 4), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_server_select_active_sg(s, "IED1LD2", 1), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_server_get_sgcb(s, DOM "/PTOC1", &st1), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_server_get_sgcb(s, "IED1LD2", &st1), I61_ERR_OBJECT_DOES_NOT_EXIST);
    i61_server_free(s);
}

/* ------------------------------------------------------------ services */

static void test_select_active(void)
{
    i61_server *s = i61_server_new(sg_model(0));
    i61_model *m = i61_server_model(s);
    i61_sconn c;
    open_conn(&c, s, 1, "10.0.0.5:40000");
    T_EQ_INT(wr(&c, "LLN0$SP$SGCB$ActSG", u8(2)), -1);
    T_EQ_INT(rd_i(&c, "LLN0$SP$SGCB$ActSG"), 2);
    T_CHECK(rd_f(&c, "PTOC1$SG$StrVal$setMag$f") == 2.5);
    T_EQ_INT(rd_i(&c, "PTOC1$SG$OpDlTmms$setVal"), 200);
    T_CHECK(rd_f(&c, "PTOC1$SE$StrVal$setMag$f") == 2.5);   /* SE = active while not editing */
    /* the whole SGCB reads as one structure of 6 */
    int dae;
    i61_value *all = rd(&c, "LLN0$SP$SGCB", &dae);
    T_CHECK(all != NULL);
    T_EQ_INT(i61_value_count(all), 6);
    i61_value_free(all);
    /* the same group again: success, nothing changes */
    i61_sgcb_state st;
    i61_server_get_sgcb(s, DOM, &st);
    T_EQ_INT(wr(&c, "LLN0$SP$SGCB$ActSG", u8(2)), -1);
    i61_sgcb_state st2;
    i61_server_get_sgcb(s, DOM, &st2);
    T_EQ_INT(st2.lact_tm_ms, st.lact_tm_ms);
    /* refusals */
    T_EQ_INT(wr(&c, "LLN0$SP$SGCB$ActSG", u8(0)), 11);                /* object-value-invalid */
    T_EQ_INT(wr(&c, "LLN0$SP$SGCB$ActSG", u8(4)), 11);
    T_EQ_INT(wr(&c, "LLN0$SP$SGCB$ActSG", i32(1)), 7);                /* INT32: type-inconsistent */
    T_EQ_INT(wr(&c, "LLN0$SP$SGCB$NumOfSG", u8(2)), 3);               /* object-access-denied */
    T_EQ_INT(wr(&c, "LLN0$SP$SGCB$ResvTms", i61_value_new_unsigned_sized(5, 16)), 3);
    i61_value *t = NULL;
    i61_model_get_value(m, DOM "/LLN0.SGCB.LActTm", I61_FC_SP, &t);
    T_EQ_INT(wr(&c, "LLN0$SP$SGCB$LActTm", t), 3);
    i61_value *whole = NULL;
    T_EQ_INT(i61_model_get_value(m, DOM "/LLN0$SP$SGCB", I61_FC_NONE, &whole), 0);
    T_EQ_INT(wr(&c, "LLN0$SP$SGCB", i61_value_clone(whole)), 3);
    i61_value_free(whole);
    T_EQ_INT(i61_model_get_value(m, DOM "/LLN0$SP", I61_FC_NONE, &whole), 0);
    T_EQ_INT(wr(&c, "LLN0$SP", whole), 3);                          /* LLN0$SP holds the SGCB */
    /* alternate access into the SGCB */
    i61_mms_var v = var_of(DOM, "LLN0$SP$SGCB$ActSG");
    v.has_index = true;
    send_write(&c, &v, u8(1));
    T_EQ_INT(take_write(&c), 3);
    T_EQ_INT(get_i(m, DOM "/LLN0.SGCB.ActSG", I61_FC_SP), 2);
    /* SG values are not writable by MMS (default policy) */
    T_EQ_INT(wr(&c, "PTOC1$SG$OpDlTmms$setVal", i32(5)), 3);
    /* a list of variables: each element answered on its own */
    i61_buf b;
    i61_buf_init(&b);
    i61_mms_var vars[2] = {var_of(DOM, "LLN0$SP$SGCB$ActSG"), var_of(DOM, "LLN0$SP$SGCB$NumOfSG")};
    i61_mms_access_spec spec = {false, {0}, vars, 2};
    i61_value *a1 = u8(3), *a2 = u8(1);
    const i61_value *vals[2] = {a1, a2};
    T_EQ_INT(i61_mms_enc_write_req(&b, 9, &spec, vals, 2), 0);
    i61_value_free(a1);
    i61_value_free(a2);
    i61_srv_mms_pdu(&c, b.data, b.len);
    i61_buf_free(&b);
    size_t ml = 0;
    uint8_t *p = take_pdu(&c, &ml);
    int daes[2] = {0, 0};
    T_CHECK(p != NULL);
    if (p)
        T_EQ_INT(i61_mms_dec_write_resp(p, ml, daes, 2, NULL), 0);
    free(p);
    T_EQ_INT(daes[0], -1);
    T_EQ_INT(daes[1], 3);
    T_CHECK(rd_f(&c, "PTOC1$SG$StrVal$setMag$f") == 3.5);
    close_conn(s, &c);
    i61_server_free(s);
}

static void test_edit_and_confirm(void)
{
    i61_server *s = i61_server_new(sg_model(0));
    i61_model *m = i61_server_model(s);
    i61_sconn a, b;
    open_conn(&a, s, 1, "10.0.0.5:40000");
    open_conn(&b, s, 2, "10.0.0.6:40001");
    const char *sef = "PTOC1$SE$StrVal$setMag$f", *sei = "PTOC1$SE$OpDlTmms$setVal";
    /* SE writes need an edit reservation */
    T_EQ_INT(wr(&a, sef, f32(9.0f)), 2);
    /* A selects group 3 for editing: SE shows group 3 */
    T_EQ_INT(wr(&a, "LLN0$SP$SGCB$EditSG", u8(3)), -1);
    T_EQ_INT(rd_i(&a, "LLN0$SP$SGCB$EditSG"), 3);
    T_EQ_INT(rd_i(&a, "LLN0$SP$SGCB$CnfEdit"), 0);
    T_CHECK(rd_f(&b, sef) == 3.5);
    T_EQ_INT(rd_i(&b, sei), 300);
    i61_sgcb_state st;
    T_EQ_INT(i61_server_get_sgcb(s, DOM, &st), 0);
    T_EQ_INT(st.edit_sg, 3);
    T_EQ_INT(st.edit_conn_id, 1);
    /* only A edits */
    T_EQ_INT(wr(&a, sef, f32(9.5f)), -1);
    T_EQ_INT(wr(&b, sef, f32(1.0f)), 2);
    T_EQ_INT(wr(&b, "LLN0$SP$SGCB$EditSG", u8(1)), 2);
    T_EQ_INT(wr(&b, "LLN0$SP$SGCB$EditSG", u8(0)), 2);
    T_EQ_INT(wr(&b, "LLN0$SP$SGCB$CnfEdit", i61_value_new_boolean(1)), 3);
    T_EQ_INT(wr(&a, "LLN0$SP$SGCB$CnfEdit", i61_value_new_boolean(0)), 11);
    T_EQ_INT(wr(&a, "LLN0$SP$SGCB$EditSG", u8(4)), 11);
    T_EQ_INT(wr(&a, sef, i32(1)), 7);                               /* type still checked */
    T_CHECK(sg_f(m, DOM "/PTOC1.StrVal.setMag.f", 3) == 3.5);       /* not before the confirm */
    /* confirm: group 3 gets the SE values; the active group 1 is untouched */
    T_EQ_INT(wr(&a, "LLN0$SP$SGCB$CnfEdit", i61_value_new_boolean(1)), -1);
    T_EQ_INT(rd_i(&a, "LLN0$SP$SGCB$CnfEdit"), 1);
    T_CHECK(sg_f(m, DOM "/PTOC1.StrVal.setMag.f", 3) == 9.5);
    T_EQ_INT(sg_i(m, DOM "/PTOC1.OpDlTmms.setVal", 3), 300);
    T_CHECK(rd_f(&b, "PTOC1$SG$StrVal$setMag$f") == 1.5);
    /* the confirm ends the reservation: EditSG 0, no more SE writes or confirms */
    T_EQ_INT(rd_i(&b, "LLN0$SP$SGCB$EditSG"), 0);
    T_EQ_INT(wr(&a, sei, i32(333)), 2);
    T_EQ_INT(wr(&a, "LLN0$SP$SGCB$CnfEdit", i61_value_new_boolean(1)), 3);
    T_EQ_INT(sg_i(m, DOM "/PTOC1.OpDlTmms.setVal", 3), 300);
    /* editing the active group changes the SG values at the confirm */
    T_EQ_INT(wr(&a, "LLN0$SP$SGCB$EditSG", u8(1)), -1);
    T_EQ_INT(rd_i(&a, "LLN0$SP$SGCB$CnfEdit"), 0);
    T_CHECK(rd_f(&a, sef) == 1.5);
    T_EQ_INT(wr(&a, sef, f32(7.25f)), -1);
    T_CHECK(rd_f(&b, "PTOC1$SG$StrVal$setMag$f") == 1.5);
    T_EQ_INT(wr(&a, "LLN0$SP$SGCB$CnfEdit", i61_value_new_boolean(1)), -1);
    T_CHECK(rd_f(&b, "PTOC1$SG$StrVal$setMag$f") == 7.25);
    T_CHECK(sg_f(m, DOM "/PTOC1.StrVal.setMag.f", 1) == 7.25);
    /* an unconfirmed edit is dropped with the release */
    T_EQ_INT(wr(&a, "LLN0$SP$SGCB$EditSG", u8(2)), -1);
    T_EQ_INT(wr(&a, sef, f32(8.0f)), -1);
    T_EQ_INT(wr(&a, "LLN0$SP$SGCB$EditSG", u8(0)), -1);
    T_EQ_INT(rd_i(&b, "LLN0$SP$SGCB$EditSG"), 0);
    T_CHECK(sg_f(m, DOM "/PTOC1.StrVal.setMag.f", 2) == 2.5);
    T_CHECK(rd_f(&b, sef) == 7.25);                /* SE shows the active group again */
    T_EQ_INT(wr(&a, sef, f32(8.0f)), 2);
    T_EQ_INT(wr(&a, "LLN0$SP$SGCB$CnfEdit", i61_value_new_boolean(1)), 3);
    /* now B may edit; A's EditSG 0 while B holds it: refused */
    T_EQ_INT(wr(&b, "LLN0$SP$SGCB$EditSG", u8(2)), -1);
    T_EQ_INT(wr(&a, "LLN0$SP$SGCB$EditSG", u8(0)), 2);
    /* B's association closes: the reservation ends */
    close_conn(s, &b);
    T_EQ_INT(get_i(m, DOM "/LLN0.SGCB.EditSG", I61_FC_SP), 0);
    T_EQ_INT(i61_server_get_sgcb(s, DOM, &st), 0);
    T_EQ_INT(st.edit_conn_id, 0);
    T_EQ_INT(wr(&a, "LLN0$SP$SGCB$EditSG", u8(2)), -1);
    /* an SE write in an LD without SGCB follows the ordinary rules */
    i61_mms_var v = var_of("IED1LD2", "GGIO1$SG$Set$setVal");
    send_write(&a, &v, i32(5));
    T_EQ_INT(take_write(&a), 3);
    close_conn(s, &a);
    i61_server_free(s);
}

static void test_reservation_time(void)
{
    i61_server *s = i61_server_new(sg_model(1));   /* ResvTms 1 s */
    i61_model *m = i61_server_model(s);
    i61_sconn a, b;
    open_conn(&a, s, 1, "10.0.0.5:40000");
    open_conn(&b, s, 2, "10.0.0.6:40001");
    T_EQ_INT(rd_i(&a, "LLN0$SP$SGCB$ResvTms"), 1);
    T_EQ_INT(wr(&a, "LLN0$SP$SGCB$EditSG", u8(2)), -1);
    T_EQ_INT(wr(&a, "PTOC1$SE$OpDlTmms$setVal", i32(222)), -1);
    T_EQ_INT(wr(&b, "LLN0$SP$SGCB$EditSG", u8(2)), 2);
    sleep_ms(1100);
    /* ResvTms passed without a confirm: released, the edit is lost */
    T_EQ_INT(rd_i(&b, "LLN0$SP$SGCB$EditSG"), 0);
    T_EQ_INT(rd_i(&b, "PTOC1$SE$OpDlTmms$setVal"), 100);
    T_EQ_INT(wr(&a, "LLN0$SP$SGCB$CnfEdit", i61_value_new_boolean(1)), 3);
    T_EQ_INT(sg_i(m, DOM "/PTOC1.OpDlTmms.setVal", 2), 200);
    T_EQ_INT(wr(&b, "LLN0$SP$SGCB$EditSG", u8(2)), -1);
    /* expiry seen by the application API too */
    sleep_ms(1100);
    i61_sgcb_state st;
    T_EQ_INT(i61_server_get_sgcb(s, DOM, &st), 0);
    T_EQ_INT(st.edit_sg, 0);
    T_EQ_INT(st.edit_conn_id, 0);
    close_conn(s, &a);
    close_conn(s, &b);
    i61_server_free(s);
}

/* ------------------------------------------------------------ handlers */

static int ud_tag;

static void test_handlers(void)
{
    i61_server *s = i61_server_new(sg_model(0));
    i61_model *m = i61_server_model(s);
    T_EQ_INT(i61_server_set_sg_handler(s, DOM, 4, NULL), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_server_set_sg_handler(s, "IED1LD2", 1, NULL), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_server_set_sg_handler(s, DOM "/LLN0", 3, &ud_tag), 0);
    i61_sconn c;
    open_conn(&c, s, 7, "10.0.0.5:40000");

    /* ACTIVATE accepted later: the Write is answered after the handler */
    T_EQ_INT(wr(&c, "LLN0$SP$SGCB$ActSG", u8(2)), -100);
    i61_server_event *e = next_ev(s);
    if (e) {
        T_EQ_INT(e->kind, I61_SEV_SG_ACTIVATE);
        T_EQ_INT(e->conn_id, 7);
        T_CHECK(e->userdata == &ud_tag);
        T_CHECK(strcmp(e->ref, DOM "/LLN0") == 0);
        uint64_t g = 0;
        T_EQ_INT(i61_value_get_uint64(e->value, &g), 0);
        T_EQ_INT(g, 2);
        T_EQ_INT(get_i(m, DOM "/LLN0.SGCB.ActSG", I61_FC_SP), 1);   /* not yet */
        T_EQ_INT(i61_server_complete_sg(s, e->token, I61_HOOK_ACCEPT), 0);
        T_EQ_INT(i61_server_complete_sg(s, e->token, I61_HOOK_ACCEPT),
                 I61_ERR_OBJECT_DOES_NOT_EXIST);   /* once */
        i61_server_event_free(e);
    }
    i61_srv_run_ready(s);
    T_EQ_INT(take_write(&c), -1);
    T_EQ_INT(get_i(m, DOM "/LLN0.SGCB.ActSG", I61_FC_SP), 2);
    T_CHECK(get_f(m, DOM "/PTOC1.StrVal.setMag.f", I61_FC_SG) == 2.5);

    /* refused: object-access-denied as the handler said; nothing changes */
    T_EQ_INT(wr(&c, "LLN0$SP$SGCB$ActSG", u8(3)), -100);
    e = next_ev(s);
    if (e) {
        T_EQ_INT(i61_server_complete_sg(s, e->token, 3), 0);
        i61_server_event_free(e);
    }
    i61_srv_run_ready(s);
    T_EQ_INT(take_write(&c), 3);
    T_EQ_INT(get_i(m, DOM "/LLN0.SGCB.ActSG", I61_FC_SP), 2);
    /* range and same-group checks come before the handler */
    T_EQ_INT(wr(&c, "LLN0$SP$SGCB$ActSG", u8(9)), 11);
    T_EQ_INT(wr(&c, "LLN0$SP$SGCB$ActSG", u8(2)), -1);
    no_event(s);

    /* CONFIRM: the event carries EditSG; refused keeps the group */
    T_EQ_INT(wr(&c, "LLN0$SP$SGCB$EditSG", u8(3)), -1);
    no_event(s);                                   /* SelectEditSG has no handler */
    T_EQ_INT(wr(&c, "PTOC1$SE$StrVal$setMag$f", f32(6.5f)), -1);
    T_EQ_INT(wr(&c, "LLN0$SP$SGCB$CnfEdit", i61_value_new_boolean(1)), -100);
    e = next_ev(s);
    if (e) {
        T_EQ_INT(e->kind, I61_SEV_SG_CONFIRM);
        uint64_t g = 0;
        i61_value_get_uint64(e->value, &g);
        T_EQ_INT(g, 3);
        /* the handler sees the values being confirmed */
        T_CHECK(get_f(m, DOM "/PTOC1.StrVal.setMag.f", I61_FC_SE) == 6.5);
        T_EQ_INT(i61_server_complete_sg(s, e->token, 3), 0);
        i61_server_event_free(e);
    }
    i61_srv_run_ready(s);
    T_EQ_INT(take_write(&c), 3);
    T_CHECK(sg_f(m, DOM "/PTOC1.StrVal.setMag.f", 3) == 3.5);
    T_EQ_INT(wr(&c, "LLN0$SP$SGCB$CnfEdit", i61_value_new_boolean(1)), -100);
    e = next_ev(s);
    if (e) {
        T_EQ_INT(i61_server_complete_sg(s, e->token, I61_HOOK_ACCEPT), 0);
        i61_server_event_free(e);
    }
    i61_srv_run_ready(s);
    T_EQ_INT(take_write(&c), -1);
    T_CHECK(sg_f(m, DOM "/PTOC1.StrVal.setMag.f", 3) == 6.5);

    /* the hook timeout answers temporarily-unavailable; a late answer finds nothing */
    i61_server_set_hook_timeout(s, 50);
    T_EQ_INT(wr(&c, "LLN0$SP$SGCB$ActSG", u8(1)), -100);
    e = next_ev(s);
    T_CHECK(i61_srv_sweep_timeouts(s, i61_mono_ms() + 10) > 0);   /* still waiting */
    T_EQ_INT(c.out.len, 0);
    i61_srv_sweep_timeouts(s, i61_mono_ms() + 100);
    T_EQ_INT(take_write(&c), 2);
    if (e) {
        T_EQ_INT(i61_server_complete_sg(s, e->token, I61_HOOK_ACCEPT),
                 I61_ERR_OBJECT_DOES_NOT_EXIST);
        i61_server_event_free(e);
    }
    T_EQ_INT(get_i(m, DOM "/LLN0.SGCB.ActSG", I61_FC_SP), 2);
    i61_server_set_hook_timeout(s, 10000);

    /* bad answers */
    T_EQ_INT(i61_server_complete_sg(s, 12345, I61_HOOK_ACCEPT), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_server_complete_sg(s, 1, 12), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_server_complete_sg(s, 1, -2), I61_ERR_INVALID_ARGUMENT);
    /* a write-hook token is not a setting group token, and the other way round */
    T_EQ_INT(i61_server_set_queued_write_hook(s, DOM "/PTOC1.TmMult.setVal", I61_FC_SP, 1, NULL),
             0);
    T_EQ_INT(wr(&c, "PTOC1$SP$TmMult$setVal", i32(4)), -100);
    e = next_ev(s);
    if (e) {
        T_EQ_INT(e->kind, I61_SEV_WRITE);
        T_EQ_INT(i61_server_complete_sg(s, e->token, I61_HOOK_ACCEPT),
                 I61_ERR_OBJECT_DOES_NOT_EXIST);
        T_EQ_INT(i61_server_complete_write(s, e->token, I61_HOOK_ACCEPT), 0);
        i61_server_event_free(e);
    }
    i61_srv_run_ready(s);
    T_EQ_INT(take_write(&c), -1);

    /* the association goes away while the handler decides */
    T_EQ_INT(wr(&c, "LLN0$SP$SGCB$ActSG", u8(1)), -100);
    e = next_ev(s);
    close_conn(s, &c);
    if (e) {
        T_EQ_INT(i61_server_complete_sg(s, e->token, I61_HOOK_ACCEPT), I61_ERR_CONNECTION_LOST);
        i61_server_event_free(e);
    }
    i61_srv_run_ready(s);
    T_EQ_INT(get_i(m, DOM "/LLN0.SGCB.ActSG", I61_FC_SP), 2);   /* nothing applied */

    /* a full event queue refuses at once */
    open_conn(&c, s, 8, "10.0.0.5:40002");
    i61_server_set_event_queue_size(s, 1);
    T_EQ_INT(wr(&c, "PTOC1$SP$TmMult$setVal", i32(5)), -100);   /* fills the queue */
    T_EQ_INT(wr(&c, "LLN0$SP$SGCB$ActSG", u8(1)), 2);
    T_CHECK(i61_server_events_dropped(s) >= 1);
    e = next_ev(s);
    if (e) {
        i61_server_complete_write(s, e->token, I61_HOOK_ACCEPT);
        i61_server_event_free(e);
    }
    i61_srv_run_ready(s);
    T_EQ_INT(take_write(&c), -1);
    /* handlers removed: answered at once */
    T_EQ_INT(i61_server_set_sg_handler(s, DOM, 0, NULL), 0);
    T_EQ_INT(wr(&c, "LLN0$SP$SGCB$ActSG", u8(1)), -1);
    T_EQ_INT(get_i(m, DOM "/LLN0.SGCB.ActSG", I61_FC_SP), 1);
    close_conn(s, &c);
    i61_server_free(s);
}

/* ----------------------------------------------------------- reporting */

/* The report PDUs in c->out (consumed), decoded into r[0..*n). */
static void take_reports(i61_sconn *c, i61_rpt *r, size_t max, size_t *n)
{
    *n = 0;
    size_t off = 0;
    while (off + 4 <= c->out.len) {
        size_t fl = (size_t)c->out.data[off + 2] << 8 | c->out.data[off + 3];
        if (fl < 4 || off + fl > c->out.len)
            break;
        size_t ml = 0;
        const uint8_t *p = fx_mms_pdu(c->out.data + off, fl, &ml);
        T_CHECK(p && i61_mms_is_report(p, ml));
        if (p && *n < max) {
            T_EQ_INT(i61_mms_decode_report(p, ml, &r[*n]), 0);
            (*n)++;
        }
        off += fl;
    }
    T_EQ_INT(off, c->out.len);
    i61_sconn_consume_out(c, c->out.len);
}

/* A data set of ActSG and an SE value reported by a URCB: SGCB changes and
 * edits come out as data changes. */
static void test_reports(void)
{
    i61_model *m = sg_model(0);
    const char *members[] = {DOM "/LLN0$SP$SGCB$ActSG", DOM "/PTOC1$SE$StrVal$setMag$f"};
    FX_OK(i61_model_add_dataset(m, DOM "/LLN0$SgDs", members, 2));
    i61_rcb_config rc;
    memset(&rc, 0, sizeof rc);
    rc.dataset = DOM "/LLN0$SgDs";
    rc.trg_ops = I61_TRG_DCHG;
    rc.opt_flds = I61_OPT_REASON;
    FX_OK(i61_model_add_rcb(m, DOM "/LLN0", "urcb", 0, &rc));
    i61_server *s = i61_server_new(m);
    i61_sconn c;
    open_conn(&c, s, 1, "10.0.0.5:40000");
    T_EQ_INT(wr(&c, "LLN0$RP$urcb$RptEna", i61_value_new_boolean(1)), -1);
    i61_rpt r[4];
    size_t n = 0;

    T_EQ_INT(wr(&c, "LLN0$SP$SGCB$ActSG", u8(2)), -1);
    i61_srv_rcb_run(s, i61_mono_ms());
    take_reports(&c, r, 4, &n);
    T_EQ_INT(n, 1);
    if (n == 1) {
        T_EQ_INT(r[0].n, 1);
        uint64_t g = 0;
        if (r[0].n == 1) {
            T_EQ_INT(r[0].members[0].index, 0);
            i61_value_get_uint64(r[0].members[0].value, &g);
        }
        T_EQ_INT(g, 2);
    }
    for (size_t k = 0; k < n; k++)
        i61_mms_report_clear(&r[k]);

    T_CHECK(rd_f(&c, "PTOC1$SE$StrVal$setMag$f") == 2.5);
    T_EQ_INT(wr(&c, "LLN0$SP$SGCB$EditSG", u8(3)), -1);
    T_EQ_INT(wr(&c, "PTOC1$SE$StrVal$setMag$f", f32(4.5f)), -1);
    i61_srv_rcb_run(s, i61_mono_ms());
    take_reports(&c, r, 4, &n);
    T_EQ_INT(n, 2);                                /* group 3 loaded, then the edit */
    double seen[2] = {0, 0};
    for (size_t k = 0; k < n && k < 2; k++) {
        T_EQ_INT(r[k].n, 1);
        if (r[k].n == 1) {
            T_EQ_INT(r[k].members[0].index, 1);
            i61_value_get_double(r[k].members[0].value, &seen[k]);
        }
    }
    T_CHECK(seen[0] == 3.5);
    T_CHECK(seen[1] == 4.5);
    for (size_t k = 0; k < n; k++)
        i61_mms_report_clear(&r[k]);
    T_EQ_INT(wr(&c, "LLN0$SP$SGCB$CnfEdit", i61_value_new_boolean(1)), -1);
    T_CHECK(sg_f(m, DOM "/PTOC1.StrVal.setMag.f", 3) == 4.5);
    /* the association goes away: its reservation ends */
    close_conn(s, &c);
    T_EQ_INT(get_i(m, DOM "/LLN0.SGCB.EditSG", I61_FC_SP), 0);
    i61_server_free(s);
}

/* ----------------------------------------------------------------- TCP */

typedef struct dispatcher {
    i61_server *s;
    int stop;                   /* atomics: read by both threads */
    int handled;
} dispatcher;

/* Answers setting group events from its own thread: group 3 is refused. */
static void *dispatch(void *arg)
{
    dispatcher *d = arg;
    while (!__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE)) {
        i61_server_event *e = NULL;
        if (i61_server_next_event(d->s, 50, &e) != I61_OK)
            continue;
        if (e->kind == I61_SEV_SG_ACTIVATE || e->kind == I61_SEV_SG_CONFIRM) {
            uint64_t g = 0;
            i61_value_get_uint64(e->value, &g);
            __atomic_add_fetch(&d->handled, 1, __ATOMIC_ACQ_REL);
            i61_server_complete_sg(d->s, e->token,
                                   g == 3 && e->kind == I61_SEV_SG_ACTIVATE ? 3 : I61_HOOK_ACCEPT);
        }
        i61_server_event_free(e);
    }
    return NULL;
}

static double cl_f(i61_client *c, const char *ref, int fc)
{
    double d = -1e9;
    if (i61_client_read_double(c, ref, fc, &d) != I61_OK)
        return -1e9;
    return d;
}

static void test_over_tcp(void)
{
    i61_server *s = i61_server_new(sg_model(0));
    T_EQ_INT(i61_server_set_sg_handler(s, DOM, 3, NULL), 0);
    T_EQ_INT(i61_server_start(s, "127.0.0.1", 0), 0);
    dispatcher d = {s, 0, 0};
    pthread_t th;
    T_EQ_INT(pthread_create(&th, NULL, dispatch, &d), 0);
    i61_client *c = i61_client_new();
    i61_client *c2 = i61_client_new();
    T_EQ_INT(i61_client_connect(c, "127.0.0.1", i61_server_port(s)), 0);
    T_EQ_INT(i61_client_connect(c2, "127.0.0.1", i61_server_port(s)), 0);

    /* the names a browser sees */
    i61_strlist *names = NULL;
    T_EQ_INT(i61_client_get_variable_names(c, DOM, &names), 0);
    int seen = 0;
    for (size_t i = 0; names && i < i61_strlist_count(names); i++) {
        const char *n = i61_strlist_get(names, i);
        if (!strcmp(n, "LLN0$SP$SGCB") || !strcmp(n, "LLN0$SP$SGCB$EditSG") ||
            !strcmp(n, "PTOC1$SE$StrVal$setMag$f") || !strcmp(n, "PTOC1$SG$StrVal$setMag$f"))
            seen++;
    }
    T_EQ_INT(seen, 4);
    i61_strlist_free(names);

    /* the SGCB through the client's control block object */
    i61_cb *cb = NULL;
    T_EQ_INT(i61_client_read_cb(c, DOM, I61_CB_SGCB, &cb), 0);
    uint64_t u = 0;
    if (cb) {
        for (int a = 0; a < I61_SGCB_ATTR_COUNT; a++)
            T_CHECK(i61_cb_has(cb, a));
        i61_value_get_uint64(i61_cb_get(cb, I61_SGCB_NUM_OF_SG), &u);
        T_EQ_INT(u, 3);
        i61_value_get_uint64(i61_cb_get(cb, I61_SGCB_ACT_SG), &u);
        T_EQ_INT(u, 1);
        i61_value_get_uint64(i61_cb_get(cb, I61_SGCB_RESV_TMS), &u);
        T_EQ_INT(u, 60);
    }

    /* SelectActiveSG: accepted by the handler thread, group 3 refused by it */
    T_EQ_INT(i61_client_select_active_sg(c, DOM, 2), 0);
    T_CHECK(cl_f(c, DOM "/PTOC1.StrVal.setMag.f", I61_FC_SG) == 2.5);
    T_EQ_INT(i61_client_select_active_sg(c, DOM, 3), I61_ERR_ACCESS_DENIED);
    T_EQ_INT(i61_client_select_active_sg(c, DOM, 7), I61_ERR_OBJECT_VALUE_INVALID);
    T_EQ_INT(__atomic_load_n(&d.handled, __ATOMIC_ACQUIRE), 2);
    if (cb) {
        T_EQ_INT(i61_client_update_cb(c, cb), 0);
        i61_value_get_uint64(i61_cb_get(cb, I61_SGCB_ACT_SG), &u);
        T_EQ_INT(u, 2);
    }

    /* edit group 1 (not active) from c; c2 is locked out meanwhile */
    T_EQ_INT(i61_client_select_edit_sg(c, DOM, 1), 0);
    T_EQ_INT(i61_client_select_edit_sg(c2, DOM, 1), I61_ERR_TEMPORARILY_UNAVAILABLE);
    T_CHECK(cl_f(c2, DOM "/PTOC1.StrVal.setMag.f", I61_FC_SE) == 1.5);
    i61_value *v = f32(11.5f);
    T_EQ_INT(i61_client_write_value(c, DOM "/PTOC1.StrVal.setMag.f", I61_FC_SE, v), 0);
    T_EQ_INT(i61_client_write_value(c2, DOM "/PTOC1.StrVal.setMag.f", I61_FC_SE, v),
             I61_ERR_TEMPORARILY_UNAVAILABLE);
    i61_value_free(v);
    T_EQ_INT(i61_client_confirm_edit_sg(c2, DOM), I61_ERR_ACCESS_DENIED);
    T_EQ_INT(i61_client_confirm_edit_sg(c, DOM), 0);
    T_EQ_INT(__atomic_load_n(&d.handled, __ATOMIC_ACQUIRE), 3);
    T_EQ_INT(i61_client_select_active_sg(c, DOM, 1), 0);
    T_CHECK(cl_f(c2, DOM "/PTOC1.StrVal.setMag.f", I61_FC_SG) == 11.5);
    /* c goes away without releasing: c2 can edit now */
    i61_client_free(c);
    int rc = I61_ERR_TEMPORARILY_UNAVAILABLE;
    for (int k = 0; k < 100 && rc == I61_ERR_TEMPORARILY_UNAVAILABLE; k++) {
        rc = i61_client_select_edit_sg(c2, DOM, 2);
        if (rc == I61_ERR_TEMPORARILY_UNAVAILABLE)
            sleep_ms(10);
    }
    T_EQ_INT(rc, 0);
    T_EQ_INT(i61_client_select_edit_sg(c2, DOM, 0), 0);
    i61_cb_free(cb);
    i61_client_free(c2);
    __atomic_store_n(&d.stop, 1, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    i61_server_free(s);
}

T_MAIN(T_CASE(test_model_layout), T_CASE(test_group_values), T_CASE(test_select_active),
       T_CASE(test_edit_and_confirm), T_CASE(test_reservation_time), T_CASE(test_handlers),
       T_CASE(test_reports), T_CASE(test_over_tcp))
