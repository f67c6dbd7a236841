/* Server GOOSE and sampled value control blocks as data (srv_gocb.c): the
 * model (attribute names, order, types, first values), the MMS write rules
 * driven through the connection engine (enable, configuration only while
 * disabled, DatSet checks and ConfRev, DstAddress ranges, read-only
 * attributes, USVCB reservation and its end), and the blocks read and
 * written over TCP with our client's control block object. */
#include "t.h"
#include "test_server_fixture.h"
#include "server/server_internal.h"
#include "server/srv_gocb.h"
#include "mms/mms_pdu.h"
#include "mms/mms_data.h"
#include "mms/value_internal.h"

#define DOM "IED1LD1"

static const uint8_t MAC1[6] = {0x01, 0x0c, 0xcd, 0x01, 0x00, 0x01};
static const uint8_t MAC4[6] = {0x01, 0x0c, 0xcd, 0x04, 0x00, 0x01};

/* ------------------------------------------------------------ the model */

/* IED1LD1: LLN0 with data sets Events and Other (GGIO1 members), GoCB
 * gcbEvents (GoID "TESTGoose", Events, ConfRev 1, 01-0C-CD-01-00-01 prio 4
 * VID 5 APPID 0x1001, 4/1000 ms), GoCB gcbPlain (defaults, no data set),
 * GoCB gcbNds (NdsCom TRUE), MSVCB svcbMeas (TESTMeas, Events, 80 samples
 * per period, OptFlds refresh-time + sample-rate, noASDU 1), USVCB usvcb1. */
static i61_model *cb_model(void)
{
    i61_model *m = i61_model_new("IED1");
    i61_mnode *ld, *ln, *d;
    FX_OK(i61_model_add_ld(m, "LD1", NULL, &ld));
    FX_OK(i61_model_add_ln(ld, "LLN0", &ln));
    d = fx_do(ln, "Mod");
    fx_da(d, "stVal", I61_FC_ST, I61_TYPE_INTEGER, 8);
    FX_OK(i61_model_add_ln(ld, "GGIO1", &ln));
    d = fx_do(ln, "Ind1");
    fx_st_triplet(d, I61_TYPE_BOOLEAN, 0);
    d = fx_do(ln, "Ind2");
    fx_st_triplet(d, I61_TYPE_BOOLEAN, 0);
    const char *ev[] = {DOM "/GGIO1$ST$Ind1"};
    const char *ot[] = {DOM "/GGIO1$ST$Ind2"};
    FX_OK(i61_model_add_dataset(m, DOM "/LLN0$Events", ev, 1));
    FX_OK(i61_model_add_dataset(m, DOM "/LLN0.Other", ot, 1));

    i61_gocb_config g;
    memset(&g, 0, sizeof g);
    g.go_id = "TESTGoose";
    g.dataset = DOM "/LLN0.Events";
    g.conf_rev = 1;
    g.min_time = 4;
    g.max_time = 1000;
    memcpy(g.dst.mac, MAC1, 6);
    g.dst.priority = 4;
    g.dst.vid = 5;
    g.dst.appid = 0x1001;
    FX_OK(i61_model_add_gocb(m, DOM "/LLN0", "gcbEvents", &g));
    FX_OK(i61_model_add_gocb(m, DOM "/LLN0", "gcbPlain", NULL));
    g.nds_com = 1;
    g.go_id = NULL;
    FX_OK(i61_model_add_gocb(m, DOM "/LLN0", "gcbNds", &g));

    i61_svcb_config sv;
    memset(&sv, 0, sizeof sv);
    sv.sv_id = "TESTMeas";
    sv.dataset = DOM "/LLN0$Events";
    sv.conf_rev = 2;
    sv.smp_rate = 80;
    sv.opt_flds = 1u | 4u;                          /* refresh-time, sample-rate */
    sv.smp_mod = 0;
    sv.no_asdu = 1;
    memcpy(sv.dst.mac, MAC4, 6);
    sv.dst.priority = 4;
    sv.dst.appid = 0x4001;
    FX_OK(i61_model_add_svcb(m, DOM "/LLN0", "svcbMeas", 1, &sv));
    sv.sv_id = "TESTUni";
    sv.smp_mod = 1;
    FX_OK(i61_model_add_svcb(m, DOM "/LLN0", "usvcb1", 0, &sv));
    return m;
}

static int64_t get_i(i61_model *m, const char *ref)
{
    i61_value *v = NULL;
    int64_t x = -12345;
    if (i61_model_get_value(m, ref, I61_FC_NONE, &v) != 0)
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

/* The bytes of a string/octet/bit string attribute equal (p, n). */
static int bytes_are(i61_model *m, const char *ref, const void *p, size_t n)
{
    i61_value *v = NULL;
    if (i61_model_get_value(m, ref, I61_FC_NONE, &v) != 0)
        return 0;
    size_t l = 0;
    const uint8_t *b = i61_value_get_bytes(v, &l);
    int same = b && l == n && memcmp(b, p, n) == 0;
    i61_value_free(v);
    return same;
}

static int str_is(i61_model *m, const char *ref, const char *s)
{
    return bytes_are(m, ref, s, strlen(s));
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

/* Writes value (taken) to DOM/item; the Write response's DAE (-1 success,
 * -100 none). */
static int wr(i61_sconn *c, const char *item, i61_value *value)
{
    i61_mms_var v;
    memset(&v, 0, sizeof v);
    v.name.scope = I61_MMS_SCOPE_DOMAIN;
    snprintf(v.name.domain, sizeof v.name.domain, "%s", DOM);
    snprintf(v.name.item, sizeof v.name.item, "%s", item);
    i61_buf b;
    i61_buf_init(&b);
    i61_mms_access_spec spec = {false, {0}, &v, 1};
    const i61_value *vals[1] = {value};
    T_EQ_INT(i61_mms_enc_write_req(&b, 7, &spec, vals, 1), 0);
    i61_value_free(value);
    i61_srv_mms_pdu(c, b.data, b.len);
    i61_buf_free(&b);
    int dae = -100;
    size_t ml = 0;
    const uint8_t *p = c->out.len ? fx_mms_pdu(c->out.data, c->out.len, &ml) : NULL;
    if (p)
        T_EQ_INT(i61_mms_dec_write_resp(p, ml, &dae, 1, NULL), 0);
    i61_sconn_consume_out(c, c->out.len);
    return dae;
}

static i61_value *vstr(const char *s)
{
    return i61_value_new_visible_string(s);
}

static i61_value *dst(const uint8_t mac[6], uint64_t prio, uint64_t vid, uint64_t appid)
{
    i61_value *s = i61_value_new_structure(4);
    i61_value_set_element(s, 0, i61_value_new_octet_string(mac, 6));
    i61_value_set_element(s, 1, i61_value_new_unsigned_sized(prio, 8));
    i61_value_set_element(s, 2, i61_value_new_unsigned_sized(vid, 16));
    i61_value_set_element(s, 3, i61_value_new_unsigned_sized(appid, 16));
    return s;
}

/* --------------------------------------------------------------- model */

typedef struct comp_t {
    const char *name;
    int kind;
    int size;                   /* 0: not checked */
} comp_t;

static void expect_layout(i61_model *m, const char *ref, const comp_t *c, size_t n)
{
    i61_typespec *ts = NULL;
    T_EQ_INT(i61_model_get_typespec(m, ref, I61_FC_NONE, &ts), 0);
    T_EQ_INT(i61_typespec_count(ts), n);
    for (size_t i = 0; i < n && i < i61_typespec_count(ts); i++) {
        const i61_typespec *k = i61_typespec_child(ts, i);
        T_CHECK(strcmp(i61_typespec_name(k), c[i].name) == 0);
        T_EQ_INT(i61_typespec_kind(k), c[i].kind);
        if (c[i].size)
            T_EQ_INT(i61_typespec_size(k), c[i].size);
        if (!strcmp(c[i].name, "DstAddress")) {
            static const comp_t d[] = {{"Addr", I61_TYPE_OCTET_STRING, 6},
                                       {"PRIORITY", I61_TYPE_UNSIGNED, 8},
                                       {"VID", I61_TYPE_UNSIGNED, 16},
                                       {"APPID", I61_TYPE_UNSIGNED, 16}};
            T_EQ_INT(i61_typespec_count(k), 4);
            for (size_t j = 0; j < 4 && j < i61_typespec_count(k); j++) {
                const i61_typespec *e = i61_typespec_child(k, j);
                T_CHECK(strcmp(i61_typespec_name(e), d[j].name) == 0);
                T_EQ_INT(i61_typespec_kind(e), d[j].kind);
                T_EQ_INT(i61_typespec_size(e), d[j].size);
            }
        }
    }
    i61_typespec_free(ts);
}

static void test_layout(void)
{
    i61_model *m = cb_model();
    static const comp_t go[] = {
        {"GoEna", I61_TYPE_BOOLEAN, 0},       {"GoID", I61_TYPE_VISIBLE_STRING, -129},
        {"DatSet", I61_TYPE_VISIBLE_STRING, -129}, {"ConfRev", I61_TYPE_UNSIGNED, 32},
        {"NdsCom", I61_TYPE_BOOLEAN, 0},      {"DstAddress", I61_TYPE_STRUCTURE, 0},
        {"MinTime", I61_TYPE_UNSIGNED, 32},   {"MaxTime", I61_TYPE_UNSIGNED, 32},
        {"FixedOffs", I61_TYPE_BOOLEAN, 0}};
    expect_layout(m, DOM "/LLN0$GO$gcbEvents", go, 9);
    static const comp_t ms[] = {
        {"SvEna", I61_TYPE_BOOLEAN, 0},       {"MsvID", I61_TYPE_VISIBLE_STRING, -129},
        {"DatSet", I61_TYPE_VISIBLE_STRING, -129}, {"ConfRev", I61_TYPE_UNSIGNED, 32},
        {"SmpRate", I61_TYPE_UNSIGNED, 16},   {"OptFlds", I61_TYPE_BIT_STRING, 5},
        {"SmpMod", I61_TYPE_INTEGER, 8},      {"DstAddress", I61_TYPE_STRUCTURE, 0},
        {"noASDU", I61_TYPE_UNSIGNED, 16}};
    expect_layout(m, DOM "/LLN0$MS$svcbMeas", ms, 9);
    static const comp_t us[] = {
        {"SvEna", I61_TYPE_BOOLEAN, 0},       {"Resv", I61_TYPE_BOOLEAN, 0},
        {"UsvID", I61_TYPE_VISIBLE_STRING, -129}, {"DatSet", I61_TYPE_VISIBLE_STRING, -129},
        {"ConfRev", I61_TYPE_UNSIGNED, 32},   {"SmpRate", I61_TYPE_UNSIGNED, 16},
        {"OptFlds", I61_TYPE_BIT_STRING, 5},  {"SmpMod", I61_TYPE_INTEGER, 8},
        {"DstAddress", I61_TYPE_STRUCTURE, 0}, {"noASDU", I61_TYPE_UNSIGNED, 16}};
    expect_layout(m, DOM "/LLN0$US$usvcb1", us, 10);

    /* first values */
    T_EQ_INT(get_i(m, DOM "/LLN0$GO$gcbEvents$GoEna"), 0);
    T_CHECK(str_is(m, DOM "/LLN0$GO$gcbEvents$GoID", "TESTGoose"));
    T_CHECK(str_is(m, DOM "/LLN0$GO$gcbEvents$DatSet", DOM "/LLN0$Events"));   /* '.' -> '$' */
    T_EQ_INT(get_i(m, DOM "/LLN0$GO$gcbEvents$ConfRev"), 1);
    T_EQ_INT(get_i(m, DOM "/LLN0$GO$gcbEvents$NdsCom"), 0);
    T_CHECK(bytes_are(m, DOM "/LLN0$GO$gcbEvents$DstAddress$Addr", MAC1, 6));
    T_EQ_INT(get_i(m, DOM "/LLN0$GO$gcbEvents$DstAddress$PRIORITY"), 4);
    T_EQ_INT(get_i(m, DOM "/LLN0$GO$gcbEvents$DstAddress$VID"), 5);
    T_EQ_INT(get_i(m, DOM "/LLN0$GO$gcbEvents$DstAddress$APPID"), 0x1001);
    T_EQ_INT(get_i(m, DOM "/LLN0$GO$gcbEvents$MinTime"), 4);
    T_EQ_INT(get_i(m, DOM "/LLN0$GO$gcbEvents$MaxTime"), 1000);
    T_EQ_INT(get_i(m, DOM "/LLN0$GO$gcbEvents$FixedOffs"), 0);
    T_CHECK(str_is(m, DOM "/LLN0$GO$gcbPlain$GoID", DOM "/LLN0.gcbPlain"));   /* default */
    T_CHECK(str_is(m, DOM "/LLN0$GO$gcbPlain$DatSet", ""));
    T_EQ_INT(get_i(m, DOM "/LLN0$GO$gcbNds$NdsCom"), 1);
    T_CHECK(str_is(m, DOM "/LLN0$MS$svcbMeas$MsvID", "TESTMeas"));
    T_EQ_INT(get_i(m, DOM "/LLN0$MS$svcbMeas$SmpRate"), 80);
    T_EQ_INT(get_i(m, DOM "/LLN0$MS$svcbMeas$ConfRev"), 2);
    T_EQ_INT(get_i(m, DOM "/LLN0$MS$svcbMeas$SmpMod"), 0);
    T_EQ_INT(get_i(m, DOM "/LLN0$MS$svcbMeas$noASDU"), 1);
    uint8_t opt = 0xa0;                            /* bits 0 and 2 of 5 */
    T_CHECK(bytes_are(m, DOM "/LLN0$MS$svcbMeas$OptFlds", &opt, 1));
    T_EQ_INT(get_i(m, DOM "/LLN0$MS$svcbMeas$DstAddress$APPID"), 0x4001);
    T_EQ_INT(get_i(m, DOM "/LLN0$US$usvcb1$Resv"), 0);
    T_EQ_INT(get_i(m, DOM "/LLN0$US$usvcb1$SmpMod"), 1);
    T_CHECK(str_is(m, DOM "/LLN0$US$usvcb1$UsvID", "TESTUni"));

    /* builder errors */
    i61_gocb_config g;
    memset(&g, 0, sizeof g);
    T_EQ_INT(i61_model_add_gocb(m, DOM "/LLN0", "gcbEvents", &g), I61_ERR_OBJECT_EXISTS);
    T_EQ_INT(i61_model_add_gocb(m, DOM "/LLN0", "bad name", &g), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_model_add_gocb(m, DOM "/NOPE1", "g", &g), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_model_add_gocb(NULL, DOM "/LLN0", "g", &g), I61_ERR_INVALID_ARGUMENT);
    g.dataset = DOM "/LLN0$Missing";
    T_EQ_INT(i61_model_add_gocb(m, DOM "/LLN0", "g", &g), I61_ERR_OBJECT_DOES_NOT_EXIST);
    g.dataset = NULL;
    g.dst.priority = 8;
    T_EQ_INT(i61_model_add_gocb(m, DOM "/LLN0", "g", &g), I61_ERR_INVALID_ARGUMENT);
    g.dst.priority = 0;
    g.dst.vid = 4096;
    T_EQ_INT(i61_model_add_gocb(m, DOM "/LLN0", "g", &g), I61_ERR_INVALID_ARGUMENT);
    g.dst.vid = 0;
    char longid[200];
    memset(longid, 'x', sizeof longid - 1);
    longid[sizeof longid - 1] = 0;
    g.go_id = longid;
    T_EQ_INT(i61_model_add_gocb(m, DOM "/LLN0", "g", &g), I61_ERR_INVALID_ARGUMENT);
    /* a name whose components no longer fit an MMS name (64): refused, nothing left */
    const char *longname = "gcb_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    T_EQ_INT(i61_model_add_gocb(m, DOM "/LLN0", longname, NULL), I61_ERR_INVALID_ARGUMENT);
    i61_mnode *n = NULL;
    char ref[128];
    snprintf(ref, sizeof ref, DOM "/LLN0$GO$%s", longname);
    T_EQ_INT(i61_model_find(m, ref, I61_FC_NONE, &n, NULL), I61_ERR_OBJECT_DOES_NOT_EXIST);
    i61_svcb_config sv;
    memset(&sv, 0, sizeof sv);
    sv.smp_mod = 3;
    T_EQ_INT(i61_model_add_svcb(m, DOM "/LLN0", "sv2", 1, &sv), I61_ERR_INVALID_ARGUMENT);
    sv.smp_mod = 0;
    sv.opt_flds = 0x20;
    T_EQ_INT(i61_model_add_svcb(m, DOM "/LLN0", "sv2", 1, &sv), I61_ERR_INVALID_ARGUMENT);
    /* engine-owned values */
    i61_value *t = i61_value_new_boolean(1);
    T_EQ_INT(i61_model_set_value(m, DOM "/LLN0$GO$gcbEvents$GoEna", I61_FC_NONE, t),
             I61_ERR_ACCESS_DENIED);
    T_EQ_INT(i61_model_set_value(m, DOM "/LLN0$MS$svcbMeas$DstAddress$VID", I61_FC_NONE, t),
             I61_ERR_ACCESS_DENIED);
    i61_value_free(t);
    i61_model_free(m);
}

/* -------------------------------------------------------------- writes */

static void test_gocb_writes(void)
{
    i61_server *s = i61_server_new(cb_model());
    i61_model *m = i61_server_model(s);
    i61_sconn c;
    open_conn(&c, s, 1, "10.0.0.5:40000");
    const char *gb = "LLN0$GO$gcbEvents$";
    char it[96];
#define IT(x) (snprintf(it, sizeof it, "%s%s", gb, x), it)
    /* enabled: only GoEna may change */
    T_EQ_INT(wr(&c, IT("GoEna"), i61_value_new_boolean(1)), -1);
    T_EQ_INT(get_i(m, DOM "/LLN0$GO$gcbEvents$GoEna"), 1);
    T_EQ_INT(wr(&c, IT("GoID"), vstr("X")), 2);
    T_EQ_INT(wr(&c, IT("DatSet"), vstr(DOM "/LLN0$Other")), 2);
    T_EQ_INT(wr(&c, IT("DstAddress"), dst(MAC1, 1, 1, 1)), 2);
    T_EQ_INT(wr(&c, IT("DstAddress$APPID"), i61_value_new_unsigned_sized(7, 16)), 2);
    T_EQ_INT(wr(&c, IT("GoEna"), i61_value_new_boolean(1)), -1);      /* again: fine */
    T_EQ_INT(wr(&c, IT("GoEna"), i61_value_new_boolean(0)), -1);
    /* disabled: configuration */
    T_EQ_INT(wr(&c, IT("GoID"), vstr("NewId")), -1);
    T_CHECK(str_is(m, DOM "/LLN0$GO$gcbEvents$GoID", "NewId"));
    T_EQ_INT(wr(&c, IT("DatSet"), vstr(DOM "/LLN0$Missing")), 11);
    T_EQ_INT(wr(&c, IT("DatSet"), vstr("garbage")), 11);
    T_EQ_INT(get_i(m, DOM "/LLN0$GO$gcbEvents$ConfRev"), 1);
    T_EQ_INT(wr(&c, IT("DatSet"), vstr(DOM "/LLN0$Other")), -1);
    T_CHECK(str_is(m, DOM "/LLN0$GO$gcbEvents$DatSet", DOM "/LLN0$Other"));
    T_EQ_INT(get_i(m, DOM "/LLN0$GO$gcbEvents$ConfRev"), 2);        /* a new data set */
    T_EQ_INT(wr(&c, IT("DatSet"), vstr(DOM "/LLN0$Other")), -1);
    T_EQ_INT(get_i(m, DOM "/LLN0$GO$gcbEvents$ConfRev"), 2);        /* the same: unchanged */
    T_EQ_INT(wr(&c, IT("DstAddress"), dst(MAC4, 7, 4095, 0x2002)), -1);
    T_CHECK(bytes_are(m, DOM "/LLN0$GO$gcbEvents$DstAddress$Addr", MAC4, 6));
    T_EQ_INT(get_i(m, DOM "/LLN0$GO$gcbEvents$DstAddress$PRIORITY"), 7);
    T_EQ_INT(get_i(m, DOM "/LLN0$GO$gcbEvents$DstAddress$VID"), 4095);
    T_EQ_INT(get_i(m, DOM "/LLN0$GO$gcbEvents$DstAddress$APPID"), 0x2002);
    T_EQ_INT(wr(&c, IT("DstAddress"), dst(MAC4, 8, 1, 1)), 11);
    T_EQ_INT(wr(&c, IT("DstAddress"), dst(MAC4, 1, 4096, 1)), 11);
    T_EQ_INT(wr(&c, IT("DstAddress$PRIORITY"), i61_value_new_unsigned_sized(9, 8)), 11);
    T_EQ_INT(wr(&c, IT("DstAddress$VID"), i61_value_new_unsigned_sized(5000, 16)), 11);
    T_EQ_INT(wr(&c, IT("DstAddress$VID"), i61_value_new_unsigned_sized(10, 16)), -1);
    T_EQ_INT(get_i(m, DOM "/LLN0$GO$gcbEvents$DstAddress$VID"), 10);
    T_EQ_INT(wr(&c, IT("DstAddress$Addr"), i61_value_new_octet_string(MAC1, 6)), -1);
    T_EQ_INT(wr(&c, IT("DstAddress$Addr"), i61_value_new_octet_string(MAC1, 5)), 7);
    T_CHECK(bytes_are(m, DOM "/LLN0$GO$gcbEvents$DstAddress$Addr", MAC1, 6));
    /* read-only attributes and type mismatches */
    T_EQ_INT(wr(&c, IT("ConfRev"), i61_value_new_unsigned_sized(9, 32)), 3);
    T_EQ_INT(wr(&c, IT("NdsCom"), i61_value_new_boolean(1)), 3);
    T_EQ_INT(wr(&c, IT("MinTime"), i61_value_new_unsigned_sized(9, 32)), 3);
    T_EQ_INT(wr(&c, IT("MaxTime"), i61_value_new_unsigned_sized(9, 32)), 3);
    T_EQ_INT(wr(&c, IT("FixedOffs"), i61_value_new_boolean(1)), 3);
    T_EQ_INT(wr(&c, IT("GoEna"), i61_value_new_integer(1)), 7);
    T_EQ_INT(wr(&c, IT("GoID"), i61_value_new_boolean(1)), 7);
    i61_value *whole = NULL;
    T_EQ_INT(i61_model_get_value(m, DOM "/LLN0$GO$gcbEvents", I61_FC_NONE, &whole), 0);
    T_EQ_INT(wr(&c, "LLN0$GO$gcbEvents", whole), 3);
    T_EQ_INT(i61_model_get_value(m, DOM "/LLN0$GO", I61_FC_NONE, &whole), 0);
    T_EQ_INT(wr(&c, "LLN0$GO", whole), 3);
    /* enabling needs a data set that exists and NdsCom FALSE */
    T_EQ_INT(wr(&c, IT("DatSet"), vstr("")), -1);
    T_EQ_INT(wr(&c, IT("GoEna"), i61_value_new_boolean(1)), 11);
    T_EQ_INT(get_i(m, DOM "/LLN0$GO$gcbEvents$GoEna"), 0);
    T_EQ_INT(wr(&c, "LLN0$GO$gcbPlain$GoEna", i61_value_new_boolean(1)), 11);
    T_EQ_INT(wr(&c, "LLN0$GO$gcbNds$GoEna", i61_value_new_boolean(1)), 11);
    T_EQ_INT(wr(&c, "LLN0$GO$gcbNds$GoEna", i61_value_new_boolean(0)), -1);
    T_EQ_INT(wr(&c, IT("DatSet"), vstr(DOM "/LLN0$Events")), -1);
    T_EQ_INT(wr(&c, IT("GoEna"), i61_value_new_boolean(1)), -1);
#undef IT
    close_conn(s, &c);
    i61_server_free(s);
}

static void test_svcb_writes(void)
{
    i61_server *s = i61_server_new(cb_model());
    i61_model *m = i61_server_model(s);
    i61_sconn a, b;
    open_conn(&a, s, 1, "10.0.0.5:40000");
    open_conn(&b, s, 2, "10.0.0.6:40001");
    /* MSVCB: SvEna, MsvID, DatSet, DstAddress writable; the rest not */
    T_EQ_INT(wr(&a, "LLN0$MS$svcbMeas$MsvID", vstr("M2")), -1);
    T_EQ_INT(wr(&a, "LLN0$MS$svcbMeas$SmpRate", i61_value_new_unsigned_sized(4000, 16)), 3);
    T_EQ_INT(wr(&a, "LLN0$MS$svcbMeas$OptFlds", i61_value_new_bit_string(5, NULL)), 3);
    T_EQ_INT(wr(&a, "LLN0$MS$svcbMeas$SmpMod", i61_value_new_integer_sized(1, 8)), 3);
    T_EQ_INT(wr(&a, "LLN0$MS$svcbMeas$noASDU", i61_value_new_unsigned_sized(2, 16)), 3);
    T_EQ_INT(wr(&a, "LLN0$MS$svcbMeas$ConfRev", i61_value_new_unsigned_sized(2, 32)), 3);
    T_EQ_INT(wr(&a, "LLN0$MS$svcbMeas$SvEna", i61_value_new_boolean(1)), -1);
    T_EQ_INT(wr(&b, "LLN0$MS$svcbMeas$MsvID", vstr("M3")), 2);      /* enabled */
    T_EQ_INT(wr(&b, "LLN0$MS$svcbMeas$SvEna", i61_value_new_boolean(0)), -1);
    T_CHECK(str_is(m, DOM "/LLN0$MS$svcbMeas$MsvID", "M2"));

    /* USVCB: Resv keeps the other association out until released or gone */
    T_EQ_INT(wr(&a, "LLN0$US$usvcb1$Resv", i61_value_new_boolean(1)), -1);
    T_EQ_INT(get_i(m, DOM "/LLN0$US$usvcb1$Resv"), 1);
    T_EQ_INT(wr(&b, "LLN0$US$usvcb1$SvEna", i61_value_new_boolean(1)), 2);
    T_EQ_INT(wr(&b, "LLN0$US$usvcb1$Resv", i61_value_new_boolean(1)), 2);
    T_EQ_INT(wr(&b, "LLN0$US$usvcb1$UsvID", vstr("B")), 2);
    T_EQ_INT(wr(&a, "LLN0$US$usvcb1$UsvID", vstr("A")), -1);
    T_EQ_INT(wr(&a, "LLN0$US$usvcb1$SvEna", i61_value_new_boolean(1)), -1);
    T_EQ_INT(wr(&a, "LLN0$US$usvcb1$SmpRate", i61_value_new_unsigned_sized(1, 16)), 3);
    T_EQ_INT(wr(&a, "LLN0$US$usvcb1$Resv", i61_value_new_boolean(0)), -1);
    T_EQ_INT(wr(&b, "LLN0$US$usvcb1$Resv", i61_value_new_boolean(1)), -1);
    T_EQ_INT(wr(&a, "LLN0$US$usvcb1$SvEna", i61_value_new_boolean(0)), 2);
    close_conn(s, &b);                             /* its reservation ends */
    T_EQ_INT(get_i(m, DOM "/LLN0$US$usvcb1$Resv"), 0);
    T_EQ_INT(wr(&a, "LLN0$US$usvcb1$SvEna", i61_value_new_boolean(0)), -1);
    T_CHECK(str_is(m, DOM "/LLN0$US$usvcb1$UsvID", "A"));
    close_conn(s, &a);
    i61_server_free(s);
}

/* ----------------------------------------------------------------- TCP */

static void test_over_tcp(void)
{
    i61_server *s = i61_server_new(cb_model());
    T_EQ_INT(i61_server_start(s, "127.0.0.1", 0), 0);
    i61_client *c = i61_client_new();
    T_EQ_INT(i61_client_connect(c, "127.0.0.1", i61_server_port(s)), 0);

    i61_strlist *names = NULL;
    T_EQ_INT(i61_client_get_variable_names(c, DOM, &names), 0);
    int seen = 0;
    for (size_t i = 0; names && i < i61_strlist_count(names); i++) {
        const char *n = i61_strlist_get(names, i);
        if (!strcmp(n, "LLN0$GO$gcbEvents$DstAddress$APPID") || !strcmp(n, "LLN0$MS$svcbMeas") ||
            !strcmp(n, "LLN0$US$usvcb1$Resv"))
            seen++;
    }
    T_EQ_INT(seen, 3);
    i61_strlist_free(names);

    i61_cb *g = NULL;
    T_EQ_INT(i61_client_read_cb(c, DOM "/LLN0.gcbEvents", I61_CB_GOCB, &g), 0);
    if (g) {
        for (int a = 0; a < I61_GOCB_ATTR_COUNT; a++)
            T_CHECK(i61_cb_has(g, a));
        size_t l = 0;
        const uint8_t *p = i61_value_get_bytes(i61_cb_get(g, I61_GOCB_GO_ID), &l);
        T_EQ_MEM(p, l, "TESTGoose", 9);
        const i61_value *d = i61_cb_get(g, I61_GOCB_DST_ADDRESS);
        T_EQ_INT(i61_value_count(d), 4);
        p = i61_value_get_bytes(i61_value_element(d, 0), &l);
        T_EQ_MEM(p, l, MAC1, 6);
        /* configure and enable in one request: GoEna goes last */
        i61_value *id = vstr("Renamed");
        T_EQ_INT(i61_cb_set(g, I61_GOCB_GO_ID, id), 0);
        i61_value_free(id);
        i61_value *on = i61_value_new_boolean(1);
        T_EQ_INT(i61_cb_set(g, I61_GOCB_GO_ENA, on), 0);
        i61_value_free(on);
        int failed = -5;
        T_EQ_INT(i61_client_set_cb(c, g, 1, &failed), 0);
        T_EQ_INT(i61_client_update_cb(c, g), 0);
        int b = 0;
        i61_value_get_boolean(i61_cb_get(g, I61_GOCB_GO_ENA), &b);
        T_EQ_INT(b, 1);
        p = i61_value_get_bytes(i61_cb_get(g, I61_GOCB_GO_ID), &l);
        T_EQ_MEM(p, l, "Renamed", 7);
        /* enabled: a read-only attribute and a configuration change fail */
        i61_value *rev = i61_value_new_unsigned_sized(5, 32);
        T_EQ_INT(i61_cb_set(g, I61_GOCB_CONF_REV, rev), 0);
        i61_value_free(rev);
        T_EQ_INT(i61_client_set_cb(c, g, 0, &failed), I61_ERR_ACCESS_DENIED);
        T_EQ_INT(failed, I61_GOCB_CONF_REV);
        i61_cb_free(g);
    }
    i61_cb *u = NULL;
    T_EQ_INT(i61_client_read_cb(c, DOM "/LLN0.US.usvcb1", I61_CB_USVCB, &u), 0);
    if (u) {
        T_CHECK(i61_cb_has(u, I61_SVCB_RESV));
        uint64_t rate = 0;
        i61_value_get_uint64(i61_cb_get(u, I61_SVCB_SMP_RATE), &rate);
        T_EQ_INT(rate, 80);
        i61_cb_free(u);
    }
    i61_cb *ms = NULL;
    T_EQ_INT(i61_client_read_cb(c, DOM "/LLN0.svcbMeas", I61_CB_MSVCB, &ms), 0);
    if (ms) {
        T_CHECK(!i61_cb_has(ms, I61_SVCB_RESV));
        size_t l = 0;
        const uint8_t *p = i61_value_get_bytes(i61_cb_get(ms, I61_SVCB_SV_ID), &l);
        T_EQ_MEM(p, l, "TESTMeas", 8);
        i61_cb_free(ms);
    }
    i61_client_free(c);
    i61_server_free(s);
}

T_MAIN(T_CASE(test_layout), T_CASE(test_gocb_writes), T_CASE(test_svcb_writes),
       T_CASE(test_over_tcp))
