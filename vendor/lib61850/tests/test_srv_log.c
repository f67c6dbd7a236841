/* Server logs: the builder (logs, LCBs and their MMS variables), entries
 * made by data set member changes (references, values, reason codes,
 * merging within one store, dupd, disabled LCBs), the bounded ring, export
 * and import (a restart), log events, IntgPd, LCB writes over MMS (the
 * rules of i61_server.h), GetNameList of journals, ReadJournal (by time,
 * after an entry, numberOfEntries, paging by PDU size, unknown journals,
 * malformed requests), the Initiate services bit, and our client against
 * our server over TCP with updates from another thread. */
#include <pthread.h>
#include <time.h>
#include "t.h"
#include "test_server_fixture.h"
#include "server/server_internal.h"
#include "server/srv_log.h"
#include "mms/initiate.h"
#include "mms/mms_journal.h"
#include "mms/mms_pdu.h"
#include "mms/value_internal.h"
#include "net/loop.h"

#define LOG_REF "IED1LD1/LLN0$EventLog"
#define IND1 "IED1LD1/GGIO1.Ind1.stVal"
#define IND1_Q "IED1LD1/GGIO1.Ind1.q"
#define IND1_T "IED1LD1/GGIO1.Ind1.t"
#define MAG "IED1LD1/GGIO1.AnIn1.mag.f"
#define TAG_IND1 "IED1LD1/GGIO1$ST$Ind1"
#define TAG_ANIN1 "IED1LD1/GGIO1$MX$AnIn1"

typedef struct log_opts {
    uint32_t max;
    uint32_t trg;
    uint32_t intg_pd;
    int reason_code;
    int log_ena;
} log_opts;

static const log_opts defaults = {0, I61_TRG_DCHG | I61_TRG_QCHG, 0, 1, 1};

/* IED1/LD1: LLN0 (Mod), GGIO1 (Ind1 ST, AnIn1 MX); data sets Events
 * {Ind1[ST], AnIn1[MX]} and Other {Mod[ST]}; log EventLog on LLN0 and log
 * Second on GGIO1; LCB EventLog on LLN0 writing to EventLog. */
static i61_model *log_model(const log_opts *o)
{
    i61_model *m = i61_model_new("IED1");
    i61_mnode *ld = NULL, *lln0 = NULL, *ggio = NULL;
    FX_OK(i61_model_add_ld(m, "LD1", NULL, &ld));
    FX_OK(i61_model_add_ln(ld, "LLN0", &lln0));
    fx_st_triplet(fx_do(lln0, "Mod"), I61_TYPE_INTEGER, 8);
    FX_OK(i61_model_add_ln(ld, "GGIO1", &ggio));
    fx_st_triplet(fx_do(ggio, "Ind1"), I61_TYPE_BOOLEAN, 0);
    i61_mnode *an = fx_do(ggio, "AnIn1");
    i61_mnode *mag = fx_da(an, "mag", I61_FC_MX, I61_TYPE_STRUCTURE, 0);
    fx_da(mag, "f", I61_FC_NONE, I61_TYPE_FLOAT, 32);
    fx_da(an, "q", I61_FC_MX, I61_TYPE_BIT_STRING, -13);
    fx_da(an, "t", I61_FC_MX, I61_TYPE_UTC_TIME, 0);
    static const char *const ev[] = {"IED1LD1/GGIO1.Ind1[ST]", "IED1LD1/GGIO1.AnIn1[MX]"};
    FX_OK(i61_model_add_dataset(m, "IED1LD1/LLN0.Events", ev, 2));
    static const char *const other[] = {"IED1LD1/LLN0.Mod[ST]"};
    FX_OK(i61_model_add_dataset(m, "IED1LD1/LLN0.Other", other, 1));
    FX_OK(i61_model_add_log(m, "IED1LD1/LLN0", "EventLog", o->max));
    FX_OK(i61_model_add_log(m, "IED1LD1/GGIO1", "Second", 0));
    i61_lcb_config cfg = {0};
    cfg.dataset = "IED1LD1/LLN0.Events";
    cfg.log_ref = "IED1LD1/LLN0.EventLog";
    cfg.trg_ops = o->trg;
    cfg.intg_pd = o->intg_pd;
    cfg.log_ena = o->log_ena;
    cfg.reason_code = o->reason_code;
    FX_OK(i61_model_add_lcb(m, "IED1LD1/LLN0", "EventLog", &cfg));
    return m;
}

static i61_server *log_server(const log_opts *o)
{
    i61_server *s = i61_server_new(log_model(o));
    T_CHECK(s != NULL);
    i61_srv_log_activate(s);                   /* what i61_server_start does */
    return s;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_val(i61_server *s, const char *ref, int fc, i61_value *v)
{
    T_EQ_INT(i61_model_set_value(i61_server_model(s), ref, fc, v), 0);
    i61_value_free(v);
}

static void set_ind(i61_server *s, int b)
{
    set_val(s, IND1, I61_FC_ST, i61_value_new_boolean(b));
}

static void set_mag(i61_server *s, float f)
{
    set_val(s, MAG, I61_FC_NONE, i61_value_new_float(f));
}

static i61_value *bits13(uint8_t hi)
{
    uint8_t b[2] = {hi, 0};
    return i61_value_new_bit_string(13, b);
}

/* ---------------------------------------------------------- entries */

#define MAX_ENTS 256
typedef struct ents {
    size_t n;
    i61_mms_journal_entry e[MAX_ENTS];
} ents;

static void ents_free(ents *x)
{
    for (size_t i = 0; i < x->n; i++)
        i61_mms_journal_entry_clear(&x->e[i]);
    x->n = 0;
}

/* Decodes consecutive JournalEntry TLVs (appends to x). */
static void ents_decode(ents *x, const uint8_t *p, size_t len)
{
    size_t off = 0;
    while (off < len && x->n < MAX_ENTS) {
        size_t used = 0;
        memset(&x->e[x->n], 0, sizeof x->e[x->n]);
        int rc = i61_mms_dec_journal_entry(p + off, len - off, &used, &x->e[x->n]);
        T_EQ_INT(rc, 0);
        if (rc != 0 || used == 0)
            return;
        x->n++;
        off += used;
    }
    T_EQ_INT(off, len);
}

/* Every entry of the log after after_id (one export). */
static void export_all(i61_server *s, uint64_t after_id, ents *x)
{
    memset(x, 0, sizeof *x);
    static uint8_t buf[1 << 16];
    size_t used = 0, n = 0;
    uint64_t last = 0;
    T_EQ_INT(i61_server_log_export(s, LOG_REF, after_id, buf, sizeof buf, &used, &n, &last), 0);
    ents_decode(x, buf, used);
    T_EQ_INT(x->n, n);
}

static uint64_t eid(const i61_mms_journal_entry *e)
{
    uint64_t v = 0;
    for (size_t i = 0; i < e->id_len; i++)
        v = v << 8 | e->id[i];
    return e->id_len == 8 ? v : 0;
}

/* ReasonCode value -> i61_reason mask (-1 when not a 7-bit bit string). */
static int reason_of(const i61_value *v)
{
    if (!v || i61_value_type(v) != I61_TYPE_BIT_STRING || i61_value_bit_size(v) != 7)
        return -1;
    size_t len = 0;
    const uint8_t *p = i61_value_get_bytes(v, &len);
    int r = 0;
    for (int bit = 1; bit < 7 && p && len >= 1; bit++)
        if (p[bit / 8] & (0x80 >> (bit % 8)))
            r |= bit == 6 ? I61_REASON_APP_TRIGGER : 1 << (bit - 1);
    return r;
}

static int elem_bool(const i61_value *st, size_t i)
{
    int b = -1;
    const i61_value *e = st ? i61_value_element(st, i) : NULL;
    if (e)
        i61_value_get_boolean(e, &b);
    return b;
}

static double elem_float(const i61_value *v)
{
    /* AnIn1[MX] = {mag {f}, q, t} */
    const i61_value *mag = v ? i61_value_element(v, 0) : NULL;
    const i61_value *f = mag ? i61_value_element(mag, 0) : NULL;
    double d = -1e9;
    if (f)
        i61_value_get_double(f, &d);
    return d;
}

/* ---------------------------------------------------------- builder */

static void test_builder(void)
{
    log_opts o = defaults;
    i61_model *m = log_model(&o);
    /* bad names, unknown LN, duplicates */
    T_EQ_INT(i61_model_add_log(m, "IED1LD1/LLN0", "Bad-Name", 0), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_model_add_log(m, "IED1LD1/LLN0", "", 0), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_model_add_log(m, "IED1LD1/NOPE1", "L", 0), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_model_add_log(m, "IED1LD1/LLN0", "EventLog", 0), I61_ERR_OBJECT_EXISTS);
    T_EQ_INT(i61_model_add_log(m, "IED1LD1/LLN0",
                               "L123456789012345678901234567890123456789012345678901234567890", 0),
             I61_ERR_INVALID_ARGUMENT);
    i61_lcb_config cfg = {0};
    cfg.log_ref = "IED1LD1/LLN0$NoSuchLog";
    T_EQ_INT(i61_model_add_lcb(m, "IED1LD1/LLN0", "L2", &cfg), I61_ERR_OBJECT_DOES_NOT_EXIST);
    cfg.log_ref = LOG_REF;
    cfg.dataset = "IED1LD1/LLN0$NoSuchSet";
    T_EQ_INT(i61_model_add_lcb(m, "IED1LD1/LLN0", "L2", &cfg), I61_ERR_OBJECT_DOES_NOT_EXIST);
    cfg.dataset = "nodomain";
    T_EQ_INT(i61_model_add_lcb(m, "IED1LD1/LLN0", "L2", &cfg), I61_ERR_INVALID_ARGUMENT);
    cfg.dataset = NULL;
    T_EQ_INT(i61_model_add_lcb(m, "IED1LD1/LLN0", "EventLog", &cfg), I61_ERR_OBJECT_EXISTS);
    T_EQ_INT(i61_model_add_lcb(m, "IED1LD1/LLN0", "Mod", &cfg), I61_ERR_OBJECT_EXISTS);
    /* an LCB without data set, writing to the GGIO1 log: fine */
    cfg.log_ref = "IED1LD1/GGIO1.Second";
    T_EQ_INT(i61_model_add_lcb(m, "IED1LD1/GGIO1", "Second", &cfg), 0);

    /* the LCB is an MMS variable LLN0$LG$EventLog with the 8-1 components */
    i61_typespec *ts = NULL;
    T_EQ_INT(i61_model_get_typespec(m, "IED1LD1/LLN0$LG$EventLog", I61_FC_NONE, &ts), 0);
    static const char *const names[] = {"LogEna", "LogRef", "DatSet", "OldEntrTm", "NewEntrTm",
                                        "OldEnt", "NewEnt", "TrgOps", "IntgPd"};
    static const int types[] = {I61_TYPE_BOOLEAN, I61_TYPE_VISIBLE_STRING, I61_TYPE_VISIBLE_STRING,
                                I61_TYPE_BINARY_TIME, I61_TYPE_BINARY_TIME, I61_TYPE_OCTET_STRING,
                                I61_TYPE_OCTET_STRING, I61_TYPE_BIT_STRING, I61_TYPE_UNSIGNED};
    static const int sizes[] = {0, -129, -129, 6, 6, 8, 8, -6, 32};
    T_EQ_INT(i61_typespec_kind(ts), I61_TYPE_STRUCTURE);
    T_EQ_INT(i61_typespec_count(ts), 9);
    for (size_t i = 0; i < 9 && i < i61_typespec_count(ts); i++) {
        const i61_typespec *k = i61_typespec_child(ts, i);
        T_CHECK(strcmp(i61_typespec_name(k), names[i]) == 0);
        T_EQ_INT(i61_typespec_kind(k), types[i]);
        if (types[i] != I61_TYPE_BOOLEAN)
            T_EQ_INT(i61_typespec_size(k), sizes[i]);
    }
    i61_typespec_free(ts);

    /* values as configured (LogRef/DatSet in the "$" form) */
    i61_value *v = NULL;
    T_EQ_INT(i61_model_get_value(m, "IED1LD1/LLN0$LG$EventLog", I61_FC_NONE, &v), 0);
    int b = 0;
    i61_value_get_boolean(i61_value_element(v, 0), &b);
    T_EQ_INT(b, 1);
    size_t len = 0;
    T_CHECK(strcmp((const char *)i61_value_get_bytes(i61_value_element(v, 1), &len), LOG_REF) == 0);
    T_CHECK(strcmp((const char *)i61_value_get_bytes(i61_value_element(v, 2), &len),
                   "IED1LD1/LLN0$Events") == 0);
    const uint8_t *p = i61_value_get_bytes(i61_value_element(v, 6), &len);
    static const uint8_t zero8[8];
    T_EQ_MEM(p, len, zero8, 8);
    uint64_t u = 0;
    i61_value_get_uint64(i61_value_element(v, 8), &u);
    T_EQ_INT(u, 0);
    i61_value_free(v);

    /* LCB values belong to the log engine */
    v = i61_value_new_boolean(0);
    T_EQ_INT(i61_model_set_value(m, "IED1LD1/LLN0$LG$EventLog$LogEna", I61_FC_NONE, v),
             I61_ERR_ACCESS_DENIED);
    i61_mnode *n = NULL;
    T_EQ_INT(i61_model_find(m, "IED1LD1/LLN0$LG$EventLog$LogEna", I61_FC_NONE, &n, NULL), 0);
    T_EQ_INT(i61_model_set_node_value(m, n, I61_FC_LG, v), I61_ERR_ACCESS_DENIED);
    i61_value_free(v);

    /* no server: log functions need one; the model frees everything */
    i61_model_free(m);
}

/* ---------------------------------------------------------- entries */

static void test_entries(void)
{
    log_opts o = defaults;
    o.trg = I61_TRG_DCHG | I61_TRG_QCHG;
    i61_model *m = log_model(&o);
    i61_server *s = i61_server_new(m);
    /* before the server starts nothing is logged */
    set_ind(s, 1);
    i61_log_info info;
    T_EQ_INT(i61_server_log_info(s, LOG_REF, &info), 0);
    T_EQ_INT(info.count, 0);
    T_EQ_INT(info.newest_id, 0);
    i61_srv_log_activate(s);

    int64_t t0 = wall_ms();
    set_ind(s, 0);                             /* dchg */
    int64_t t1 = wall_ms();
    set_val(s, IND1_Q, I61_FC_ST, bits13(0x40));   /* qchg */
    static const uint8_t t8[8] = {0x65, 0x53, 0xf1, 0, 0, 0, 0, 0x0a};
    set_val(s, IND1_T, I61_FC_ST, i61_value_new_utc_time(t8));   /* t: no trigger */
    set_ind(s, 0);                             /* the same value: no dupd in TrgOps */
    set_mag(s, 3.5f);                          /* AnIn1 dchg */
    /* stVal and q in one store: one entry, both reasons */
    i61_value *st = NULL;
    T_EQ_INT(i61_model_get_value(i61_server_model(s), "IED1LD1/GGIO1.Ind1", I61_FC_ST, &st), 0);
    i61_value_set_element(st, 0, i61_value_new_boolean(1));
    i61_value_set_element(st, 1, bits13(0x00));
    set_val(s, "IED1LD1/GGIO1.Ind1", I61_FC_ST, st);
    /* a data attribute outside the data set: nothing */
    set_val(s, "IED1LD1/LLN0.Mod.stVal", I61_FC_ST, i61_value_new_integer(3));

    T_EQ_INT(i61_server_log_info(s, LOG_REF, &info), 0);
    T_EQ_INT(info.count, 4);
    T_EQ_INT(info.oldest_id, 1);
    T_EQ_INT(info.newest_id, 4);
    T_EQ_INT(info.dropped, 0);
    T_CHECK(info.oldest_ms >= t0 && info.oldest_ms <= t1);

    ents x;
    export_all(s, 0, &x);
    T_EQ_INT(x.n, 4);
    static const int reasons[] = {I61_REASON_DCHG, I61_REASON_QCHG, I61_REASON_DCHG,
                                  I61_REASON_DCHG | I61_REASON_QCHG};
    static const char *const tags[] = {TAG_IND1, TAG_IND1, TAG_ANIN1, TAG_IND1};
    for (size_t i = 0; i < x.n && i < 4; i++) {
        const i61_mms_journal_entry *e = &x.e[i];
        T_EQ_INT(e->id_len, 8);
        T_EQ_INT(eid(e), i + 1);
        T_EQ_INT(e->nvars, 2);
        if (e->nvars != 2)
            continue;
        T_CHECK(strcmp(e->vars[0].tag, tags[i]) == 0);
        T_CHECK(strcmp(e->vars[1].tag, "ReasonCode") == 0);
        T_EQ_INT(reason_of(e->vars[1].value), reasons[i]);
    }
    T_CHECK(x.e[0].time_ms >= t0 && x.e[0].time_ms <= t1);
    /* values at the change: Ind1 {FALSE, q, t}, then q 0x40, AnIn1 3.5, Ind1 TRUE */
    T_EQ_INT(elem_bool(x.e[0].vars[0].value, 0), 0);
    size_t ql = 0;
    const uint8_t *qb = i61_value_get_bytes(i61_value_element(x.e[1].vars[0].value, 1), &ql);
    T_CHECK(qb && ql == 2 && qb[0] == 0x40);
    T_CHECK(elem_float(x.e[2].vars[0].value) == 3.5);
    T_EQ_INT(elem_bool(x.e[3].vars[0].value, 0), 1);
    ents_free(&x);

    /* export after an id */
    export_all(s, 2, &x);
    T_EQ_INT(x.n, 2);
    T_EQ_INT(eid(&x.e[0]), 3);
    ents_free(&x);
    export_all(s, 4, &x);
    T_EQ_INT(x.n, 0);

    /* the LCB shows the log: OldEnt 1, NewEnt 4, NewEntrTm = newest time */
    i61_value *v = NULL;
    T_EQ_INT(i61_model_get_value(i61_server_model(s), "IED1LD1/LLN0$LG$EventLog", I61_FC_NONE, &v),
             0);
    size_t len = 0;
    const uint8_t *p = i61_value_get_bytes(i61_value_element(v, 5), &len);
    static const uint8_t one[8] = {0, 0, 0, 0, 0, 0, 0, 1}, four[8] = {0, 0, 0, 0, 0, 0, 0, 4};
    T_EQ_MEM(p, len, one, 8);
    p = i61_value_get_bytes(i61_value_element(v, 6), &len);
    T_EQ_MEM(p, len, four, 8);
    p = i61_value_get_bytes(i61_value_element(v, 4), &len);
    T_EQ_INT(len, 6);
    if (p && len == 6) {
        /* binary time: ms of day, days since 1984 */
        int64_t ms = (int64_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
                               p[3]);
        int64_t days = (int64_t)(p[4] << 8 | p[5]);
        T_EQ_INT((days + 5113) * 86400000LL + ms, info.newest_ms);
    }
    i61_value_free(v);

    /* unknown log */
    T_EQ_INT(i61_server_log_info(s, "IED1LD1/LLN0$Nope", &info), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_server_log_info(s, "garbage", &info), I61_ERR_OBJECT_DOES_NOT_EXIST);
    /* the other log got nothing; "." form of the reference works */
    T_EQ_INT(i61_server_log_info(s, "IED1LD1/GGIO1.Second", &info), 0);
    T_EQ_INT(info.count, 0);
    i61_server_free(s);
}

static void test_dupd_and_no_reason(void)
{
    log_opts o = defaults;
    o.trg = I61_TRG_DUPD;
    o.reason_code = 0;
    i61_server *s = log_server(&o);
    i61_mnode *n = NULL;
    T_EQ_INT(i61_model_find(i61_server_model(s), IND1, I61_FC_ST, &n, NULL), 0);
    T_EQ_INT(i61_model_set_trigger_options(n, I61_FC_ST, I61_TRG_DCHG | I61_TRG_DUPD), 0);
    set_ind(s, 0);                             /* same value: dupd */
    set_ind(s, 1);                             /* a change: dchg, not in TrgOps */
    set_mag(s, 1.0f);                          /* dchg only: not logged */
    ents x;
    export_all(s, 0, &x);
    T_EQ_INT(x.n, 1);
    T_EQ_INT(x.e[0].nvars, 1);                 /* no ReasonCode variable */
    if (x.e[0].nvars == 1)
        T_CHECK(strcmp(x.e[0].vars[0].tag, TAG_IND1) == 0);
    ents_free(&x);
    i61_server_free(s);
}

static void test_ring(void)
{
    log_opts o = defaults;
    o.max = 5;
    i61_server *s = log_server(&o);
    for (int i = 0; i < 8; i++)
        set_mag(s, (float)i + 1.0f);
    i61_log_info info;
    T_EQ_INT(i61_server_log_info(s, LOG_REF, &info), 0);
    T_EQ_INT(info.count, 5);
    T_EQ_INT(info.oldest_id, 4);
    T_EQ_INT(info.newest_id, 8);
    T_EQ_INT(info.dropped, 3);
    ents x;
    export_all(s, 0, &x);
    T_EQ_INT(x.n, 5);
    for (size_t i = 0; i < x.n; i++) {
        T_EQ_INT(eid(&x.e[i]), i + 4);
        T_CHECK(elem_float(x.e[i].vars[0].value) == (double)(i + 4));
    }
    ents_free(&x);

    /* export into small buffers: whole entries only */
    uint8_t big[4096];
    size_t used = 0, n = 0, one = 0;
    uint64_t last = 0;
    T_EQ_INT(i61_server_log_export(s, LOG_REF, 0, big, sizeof big, &used, &n, &last), 0);
    one = used / 5;                            /* entries of this log have equal sizes */
    T_EQ_INT(one * 5, used);
    T_EQ_INT(i61_server_log_export(s, LOG_REF, 0, big, one * 2 + one / 2, &used, &n, &last), 0);
    T_EQ_INT(n, 2);
    T_EQ_INT(used, one * 2);
    T_EQ_INT(last, 5);
    T_EQ_INT(i61_server_log_export(s, LOG_REF, last, big, one - 1, &used, &n, &last),
             I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(used, one);                       /* the size it needs */
    T_EQ_INT(n, 0);
    T_EQ_INT(last, 5);
    T_EQ_INT(i61_server_log_export(s, LOG_REF, 8, NULL, 0, &used, &n, &last), 0);
    T_EQ_INT(n, 0);
    T_EQ_INT(last, 8);
    T_EQ_INT(i61_server_log_export(s, LOG_REF, 0, NULL, 10, &used, &n, &last),
             I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_server_log_export(s, "IED1LD1/LLN0$X", 0, big, 10, &used, &n, &last),
             I61_ERR_OBJECT_DOES_NOT_EXIST);
    i61_server_free(s);
}

static void test_import_restart(void)
{
    log_opts o = defaults;
    o.max = 6;
    i61_server *s = log_server(&o);
    for (int i = 0; i < 4; i++)
        set_mag(s, (float)i + 10.0f);
    static uint8_t saved[8192];
    size_t used = 0, n = 0;
    uint64_t last = 0;
    T_EQ_INT(i61_server_log_export(s, LOG_REF, 0, saved, sizeof saved, &used, &n, &last), 0);
    T_EQ_INT(n, 4);
    i61_server_free(s);

    /* a new server with the same model reloads the stored entries */
    s = i61_server_new(log_model(&o));
    size_t added = 0;
    T_EQ_INT(i61_server_log_import(s, LOG_REF, saved, used, &added), 0);
    T_EQ_INT(added, 4);
    i61_srv_log_activate(s);
    set_mag(s, 99.0f);
    i61_log_info info;
    T_EQ_INT(i61_server_log_info(s, LOG_REF, &info), 0);
    T_EQ_INT(info.count, 5);
    T_EQ_INT(info.oldest_id, 1);
    T_EQ_INT(info.newest_id, 5);               /* ids continue */
    ents x;
    export_all(s, 0, &x);
    T_EQ_INT(x.n, 5);
    if (x.n == 5) {
        T_CHECK(elem_float(x.e[0].vars[0].value) == 10.0);
        T_CHECK(elem_float(x.e[4].vars[0].value) == 99.0);
    }
    ents_free(&x);
    /* the same entries again: skipped (ids not above the newest) */
    T_EQ_INT(i61_server_log_import(s, LOG_REF, saved, used, &added), 0);
    T_EQ_INT(added, 0);
    /* a truncated batch: the whole entries before it stay */
    i61_server_free(s);
    s = i61_server_new(log_model(&o));
    T_EQ_INT(i61_server_log_import(s, LOG_REF, saved, used - 3, &added),
             I61_ERR_MALFORMED_MESSAGE);
    T_EQ_INT(added, 3);
    static const uint8_t junk[] = {0x30, 0x03, 0x80, 0x01, 0x01};
    T_EQ_INT(i61_server_log_import(s, LOG_REF, junk, sizeof junk, &added),
             I61_ERR_MALFORMED_MESSAGE);
    T_EQ_INT(added, 0);
    static const uint8_t junk2[] = {0xff, 0xff, 0xff, 0xff};
    T_EQ_INT(i61_server_log_import(s, LOG_REF, junk2, sizeof junk2, &added),
             I61_ERR_MALFORMED_MESSAGE);
    T_EQ_INT(i61_server_log_import(s, LOG_REF, NULL, 0, &added), 0);
    T_EQ_INT(i61_server_log_import(s, "IED1LD1/LLN0$Nope", saved, used, &added),
             I61_ERR_OBJECT_DOES_NOT_EXIST);
    /* more than the log holds: the oldest go */
    i61_server_free(s);
    o.max = 2;
    s = i61_server_new(log_model(&o));
    T_EQ_INT(i61_server_log_import(s, LOG_REF, saved, used, &added), 0);
    T_EQ_INT(added, 4);
    T_EQ_INT(i61_server_log_info(s, LOG_REF, &info), 0);
    T_EQ_INT(info.count, 2);
    T_EQ_INT(info.oldest_id, 3);
    T_EQ_INT(info.dropped, 2);
    i61_server_free(s);
}

static void test_events(void)
{
    log_opts o = defaults;
    i61_server *s = log_server(&o);
    int tag = 7;
    T_EQ_INT(i61_server_set_log_events(s, LOG_REF, 1, &tag), 0);
    T_EQ_INT(i61_server_set_log_events(s, "IED1LD1/LLN0$No", 1, &tag),
             I61_ERR_OBJECT_DOES_NOT_EXIST);
    i61_server_event *e = NULL;
    T_EQ_INT(i61_server_next_event(s, 0, &e), I61_ERR_TIMEOUT);
    set_mag(s, 1.0f);
    set_mag(s, 2.0f);
    T_EQ_INT(i61_server_next_event(s, 0, &e), 0);
    if (e) {
        T_EQ_INT(e->kind, I61_SEV_LOG);
        T_CHECK(e->userdata == &tag);
        T_CHECK(strcmp(e->ref, LOG_REF) == 0);
        i61_server_event_free(e);
    }
    /* one pending event per log until it is exported */
    T_EQ_INT(i61_server_next_event(s, 0, &e), I61_ERR_TIMEOUT);
    set_mag(s, 3.0f);
    T_EQ_INT(i61_server_next_event(s, 0, &e), I61_ERR_TIMEOUT);
    ents x;
    export_all(s, 0, &x);
    T_EQ_INT(x.n, 3);
    ents_free(&x);
    set_mag(s, 4.0f);
    T_EQ_INT(i61_server_next_event(s, 0, &e), 0);
    i61_server_event_free(e);
    /* off: no more events */
    export_all(s, 0, &x);
    ents_free(&x);
    T_EQ_INT(i61_server_set_log_events(s, LOG_REF, 0, NULL), 0);
    set_mag(s, 5.0f);
    T_EQ_INT(i61_server_next_event(s, 0, &e), I61_ERR_TIMEOUT);
    i61_server_free(s);
}

static void test_integrity(void)
{
    log_opts o = defaults;
    o.trg = I61_TRG_INTEGRITY;
    o.intg_pd = 100;
    i61_server *s = log_server(&o);
    set_mag(s, 6.0f);                          /* dchg not in TrgOps */
    uint64_t now = i61_mono_ms();
    uint64_t next = i61_srv_log_run(s, now);
    T_EQ_INT(next, now + 100);
    T_EQ_INT(i61_srv_log_run(s, now + 50), now + 100);
    i61_log_info info;
    T_EQ_INT(i61_server_log_info(s, LOG_REF, &info), 0);
    T_EQ_INT(info.count, 0);
    T_EQ_INT(i61_srv_log_run(s, now + 100), now + 200);
    T_EQ_INT(i61_srv_log_run(s, now + 1000), now + 1100);   /* fell behind: one entry, no burst */
    ents x;
    export_all(s, 0, &x);
    T_EQ_INT(x.n, 2);
    if (x.n >= 1) {
        const i61_mms_journal_entry *e = &x.e[0];
        T_EQ_INT(e->nvars, 4);                 /* both members, each with its ReasonCode */
        if (e->nvars == 4) {
            T_CHECK(strcmp(e->vars[0].tag, TAG_IND1) == 0);
            T_EQ_INT(reason_of(e->vars[1].value), I61_REASON_INTEGRITY);
            T_CHECK(strcmp(e->vars[2].tag, TAG_ANIN1) == 0);
            T_CHECK(elem_float(e->vars[2].value) == 6.0);
            T_EQ_INT(reason_of(e->vars[3].value), I61_REASON_INTEGRITY);
        }
    }
    ents_free(&x);
    i61_server_free(s);
}

/* ------------------------------------------------------- over MMS */

static void feed(i61_sconn *c, const char *golden)
{
    size_t len;
    uint8_t *f = t_golden(golden, &len);
    T_EQ_INT(i61_sconn_feed(c, f, len), 0);
    free(f);
}

static void open_conn(i61_sconn *c, i61_server *s, uint32_t id)
{
    i61_sconn_init(c, s, id, false);
    snprintf(c->peer, sizeof c->peer, "10.0.0.9:4000");
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

/* One request PDU in; the (single) answer PDU copied to ans. */
static size_t call(i61_sconn *c, i61_buf *b, uint8_t *ans, size_t cap)
{
    i61_srv_mms_pdu(c, b->data, b->len);
    i61_buf_reset(b);
    size_t ml = 0;
    const uint8_t *m = c->out.len > 4 ? fx_mms_pdu(c->out.data, c->out.len, &ml) : NULL;
    T_CHECK(m != NULL);
    size_t fl = c->out.len >= 4 ? ((size_t)c->out.data[2] << 8 | c->out.data[3]) : 0;
    T_EQ_INT(fl, c->out.len);                  /* one frame */
    if (!m || ml > cap)
        ml = 0;
    else
        memcpy(ans, m, ml);
    i61_sconn_consume_out(c, c->out.len);
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

/* Writes LLN0$LG$EventLog$attr: -1 success or the DataAccessError. Takes value. */
static int wr(i61_sconn *c, const char *attr, i61_value *value)
{
    i61_buf b;
    i61_buf_init(&b);
    char item[80];
    snprintf(item, sizeof item, "LLN0$LG$EventLog$%s", attr);
    i61_mms_var v = var_of(item);
    i61_mms_access_spec spec = {false, {0}, &v, 1};
    const i61_value *vals[1] = {value};
    T_EQ_INT(i61_mms_enc_write_req(&b, 9, &spec, vals, 1), 0);
    i61_value_free(value);
    uint8_t ans[512];
    size_t al = call(c, &b, ans, sizeof ans);
    i61_buf_free(&b);
    int dae = -99;
    T_EQ_INT(i61_mms_dec_write_resp(ans, al, &dae, 1, NULL), 0);
    return dae;
}

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

static const char *rd_str(i61_sconn *c, const char *attr, char *buf, size_t cap)
{
    char item[80];
    snprintf(item, sizeof item, "LLN0$LG$EventLog$%s", attr);
    i61_value *v = rd(c, item);
    size_t len = 0;
    const uint8_t *p = v ? i61_value_get_bytes(v, &len) : NULL;
    snprintf(buf, cap, "%s", p ? (const char *)p : "?");
    i61_value_free(v);
    return buf;
}

static int64_t rd_num(i61_sconn *c, const char *attr)
{
    char item[80];
    snprintf(item, sizeof item, "LLN0$LG$EventLog$%s", attr);
    i61_value *v = rd(c, item);
    int64_t x = -12345;
    if (v && i61_value_type(v) == I61_TYPE_BOOLEAN) {
        int b = 0;
        i61_value_get_boolean(v, &b);
        x = b;
    } else if (v && i61_value_type(v) == I61_TYPE_BIT_STRING) {
        size_t len = 0;
        const uint8_t *p = i61_value_get_bytes(v, &len);
        x = 0;
        for (int bit = 1; bit < 6 && p && len; bit++)
            if (p[0] & (0x80 >> bit))
                x |= 1 << (bit - 1);
    } else if (v) {
        i61_value_get_int64(v, &x);
    }
    i61_value_free(v);
    return x;
}

static i61_value *trg_bits(uint32_t mask)
{
    uint8_t b[1] = {0};
    for (int k = 0; k < 5; k++)
        if (mask & (1u << k))
            b[0] |= (uint8_t)(0x80 >> (k + 1));
    return i61_value_new_bit_string(6, b);
}

static void test_lcb_writes(void)
{
    log_opts o = defaults;
    i61_server *s = log_server(&o);
    i61_sconn c;
    open_conn(&c, s, 1);
    char buf[160];
    T_EQ_INT(rd_num(&c, "LogEna"), 1);
    T_CHECK(strcmp(rd_str(&c, "LogRef", buf, sizeof buf), LOG_REF) == 0);
    T_CHECK(strcmp(rd_str(&c, "DatSet", buf, sizeof buf), "IED1LD1/LLN0$Events") == 0);
    T_EQ_INT(rd_num(&c, "TrgOps"), I61_TRG_DCHG | I61_TRG_QCHG);
    /* the whole LCB reads as a structure of 9 */
    i61_value *all = rd(&c, "LLN0$LG$EventLog");
    T_EQ_INT(i61_value_count(all), 9);
    i61_value_free(all);

    /* configuration only while disabled */
    T_EQ_INT(wr(&c, "DatSet", i61_value_new_visible_string("IED1LD1/LLN0$Other")), 2);
    T_EQ_INT(wr(&c, "TrgOps", trg_bits(I61_TRG_DUPD)), 2);
    T_EQ_INT(wr(&c, "IntgPd", i61_value_new_unsigned_sized(1000, 32)), 2);
    T_EQ_INT(wr(&c, "LogRef", i61_value_new_visible_string("IED1LD1/GGIO1$Second")), 2);
    /* never writable */
    T_EQ_INT(wr(&c, "OldEnt", i61_value_new_octet_string((const uint8_t *)"12345678", 8)), 3);
    T_EQ_INT(wr(&c, "NewEntrTm", i61_value_new_binary_time((const uint8_t *)"\0\0\0\0\0\0", 6)),
             3);
    /* wrong type */
    T_EQ_INT(wr(&c, "LogEna", i61_value_new_integer(1)), 7);
    T_EQ_INT(wr(&c, "LogEna", i61_value_new_boolean(1)), -1);   /* already on: fine */

    T_EQ_INT(wr(&c, "LogEna", i61_value_new_boolean(0)), -1);
    T_EQ_INT(rd_num(&c, "LogEna"), 0);
    set_mag(s, 42.0f);                         /* disabled: not logged */
    i61_log_info info;
    T_EQ_INT(i61_server_log_info(s, LOG_REF, &info), 0);
    T_EQ_INT(info.count, 0);

    T_EQ_INT(wr(&c, "DatSet", i61_value_new_visible_string("IED1LD1/LLN0$Nope")), 11);
    T_EQ_INT(wr(&c, "DatSet", i61_value_new_visible_string("@aa")), 11);
    T_EQ_INT(wr(&c, "LogRef", i61_value_new_visible_string("IED1LD1/LLN0$Nope")), 11);
    T_EQ_INT(wr(&c, "LogRef", i61_value_new_visible_string("")), 11);
    T_EQ_INT(wr(&c, "LogRef", i61_value_new_visible_string("IED1LD1/GGIO1.Second")), -1);
    T_CHECK(strcmp(rd_str(&c, "LogRef", buf, sizeof buf), "IED1LD1/GGIO1$Second") == 0);
    T_EQ_INT(wr(&c, "DatSet", i61_value_new_visible_string("IED1LD1/LLN0.Other")), -1);
    T_CHECK(strcmp(rd_str(&c, "DatSet", buf, sizeof buf), "IED1LD1/LLN0$Other") == 0);
    T_EQ_INT(wr(&c, "TrgOps", trg_bits(I61_TRG_DCHG | I61_TRG_INTEGRITY)), -1);
    T_EQ_INT(rd_num(&c, "TrgOps"), I61_TRG_DCHG | I61_TRG_INTEGRITY);
    T_EQ_INT(wr(&c, "IntgPd", i61_value_new_unsigned_sized(250, 32)), -1);
    T_EQ_INT(rd_num(&c, "IntgPd"), 250);
    T_EQ_INT(wr(&c, "LogEna", i61_value_new_boolean(1)), -1);
    set_val(s, "IED1LD1/LLN0.Mod.stVal", I61_FC_ST, i61_value_new_integer(2));
    set_mag(s, 43.0f);                         /* no longer in the data set */
    T_EQ_INT(i61_server_log_info(s, "IED1LD1/GGIO1$Second", &info), 0);
    T_EQ_INT(info.count, 1);
    T_EQ_INT(i61_server_log_info(s, LOG_REF, &info), 0);
    T_EQ_INT(info.count, 0);
    /* the LCB now shows the GGIO1 log */
    i61_value *ne = rd(&c, "LLN0$LG$EventLog$NewEnt");
    size_t len = 0;
    const uint8_t *p = i61_value_get_bytes(ne, &len);
    static const uint8_t one[8] = {0, 0, 0, 0, 0, 0, 0, 1};
    T_EQ_MEM(p, len, one, 8);
    i61_value_free(ne);
    /* IntgPd is due after 250 ms */
    uint64_t now = i61_mono_ms();
    uint64_t next = i61_srv_log_run(s, now);
    T_CHECK(next >= now + 250 && next <= now + 260);
    i61_srv_log_run(s, next);
    T_EQ_INT(i61_server_log_info(s, "IED1LD1/GGIO1$Second", &info), 0);
    T_EQ_INT(info.count, 2);

    /* enabling without a data set: temporarily-unavailable */
    T_EQ_INT(wr(&c, "LogEna", i61_value_new_boolean(0)), -1);
    T_EQ_INT(i61_srv_log_run(s, now), 0);      /* nothing to time any more */
    T_EQ_INT(wr(&c, "DatSet", i61_value_new_visible_string("")), -1);
    T_EQ_INT(wr(&c, "LogEna", i61_value_new_boolean(1)), 2);
    T_EQ_INT(rd_num(&c, "LogEna"), 0);
    close_conn(s, &c);
    i61_server_free(s);
}

static int journal_names(i61_sconn *c, const char *domain, const char *after, i61_mms_idlist *out)
{
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_enc_get_name_list_req(&b, 3, I61_MMS_CLASS_JOURNAL, I61_MMS_SCOPE_DOMAIN,
                                           domain, after),
             0);
    uint8_t ans[1024];
    size_t al = call(c, &b, ans, sizeof ans);
    i61_buf_free(&b);
    bool more = true;
    i61_mms_idlist_init(out);
    i61_mms_error err;
    memset(&err, 0, sizeof err);
    int rc = i61_mms_dec_get_name_list_resp(ans, al, out, &more, &err);
    if (rc == 0)
        T_CHECK(!more);
    return rc;
}

static void test_journal_names(void)
{
    log_opts o = defaults;
    i61_server *s = log_server(&o);
    i61_sconn c;
    open_conn(&c, s, 1);
    i61_mms_idlist l;
    T_EQ_INT(journal_names(&c, "IED1LD1", NULL, &l), 0);
    T_EQ_INT(l.count, 2);
    if (l.count == 2) {
        T_CHECK(strcmp(l.items[0], "GGIO1$Second") == 0);
        T_CHECK(strcmp(l.items[1], "LLN0$EventLog") == 0);
    }
    i61_mms_idlist_clear(&l);
    T_EQ_INT(journal_names(&c, "IED1LD1", "GGIO1$Second", &l), 0);
    T_EQ_INT(l.count, 1);
    i61_mms_idlist_clear(&l);
    T_EQ_INT(journal_names(&c, "IED1LD1", "LLN0$EventLog", &l), 0);
    T_EQ_INT(l.count, 0);
    i61_mms_idlist_clear(&l);
    T_EQ_INT(journal_names(&c, "NOPE", NULL, &l), I61_ERR_OBJECT_DOES_NOT_EXIST);
    i61_mms_idlist_clear(&l);
    /* the named variables of LLN0 include the LCB */
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_enc_get_name_list_req(&b, 4, I61_MMS_CLASS_NAMED_VARIABLE,
                                           I61_MMS_SCOPE_DOMAIN, "IED1LD1", NULL),
             0);
    uint8_t ans[8192];
    size_t al = call(&c, &b, ans, sizeof ans);
    i61_buf_free(&b);
    bool more = false;
    i61_mms_idlist_init(&l);
    T_EQ_INT(i61_mms_dec_get_name_list_resp(ans, al, &l, &more, NULL), 0);
    int found = 0;
    for (size_t i = 0; i < l.count; i++)
        found += strcmp(l.items[i], "LLN0$LG$EventLog$OldEntrTm") == 0 ||
                 strcmp(l.items[i], "LLN0$LG") == 0;
    T_EQ_INT(found, 2);
    i61_mms_idlist_clear(&l);
    close_conn(s, &c);
    i61_server_free(s);
}

/* ReadJournal over the engine: entries (appended to x), more, rc. */
static int read_journal(i61_sconn *c, const i61_mms_journal_req *q, ents *x, bool *more)
{
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_enc_read_journal_req(&b, 77, q), 0);
    static uint8_t ans[70000];
    size_t al = call(c, &b, ans, sizeof ans);
    i61_buf_free(&b);
    i61_mms_journal_list l;
    i61_mms_journal_list_init(&l);
    *more = false;
    int rc = i61_mms_dec_read_journal_resp(ans, al, &l, more, NULL);
    for (size_t i = 0; i < l.count && x->n < MAX_ENTS; i++) {
        x->e[x->n++] = l.items[i];
        memset(&l.items[i], 0, sizeof l.items[i]);
    }
    i61_mms_journal_list_clear(&l);
    return rc;
}

static i61_mms_journal_req jreq(const char *domain, const char *item)
{
    i61_mms_journal_req q;
    memset(&q, 0, sizeof q);
    q.journal.scope = I61_MMS_SCOPE_DOMAIN;
    snprintf(q.journal.domain, sizeof q.journal.domain, "%s", domain);
    snprintf(q.journal.item, sizeof q.journal.item, "%s", item);
    return q;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_read_journal(void)
{
    log_opts o = defaults;
    i61_server *s = log_server(&o);
    int64_t t_before = wall_ms();
    for (int i = 1; i <= 10; i++)
        set_mag(s, (float)i);
    sleep_ms(5);
    int64_t t_mid = wall_ms();
    sleep_ms(5);
    for (int i = 11; i <= 20; i++)
        set_mag(s, (float)i);
    int64_t t_end = wall_ms();
    i61_sconn c;
    open_conn(&c, s, 1);
    ents x;
    memset(&x, 0, sizeof x);
    bool more = true;

    /* by time: everything, then each half */
    i61_mms_journal_req q = jreq("IED1LD1", "LLN0$EventLog");
    q.has_start_time = true;
    q.start_ms = t_before;
    q.has_end_time = true;
    q.end_ms = t_end;
    T_EQ_INT(read_journal(&c, &q, &x, &more), 0);
    T_EQ_INT(x.n, 20);
    T_CHECK(!more);
    for (size_t i = 0; i < x.n; i++) {
        T_EQ_INT(eid(&x.e[i]), i + 1);
        T_EQ_INT(x.e[i].nvars, 2);
        if (x.e[i].nvars == 2) {
            T_CHECK(strcmp(x.e[i].vars[0].tag, TAG_ANIN1) == 0);
            T_CHECK(elem_float(x.e[i].vars[0].value) == (double)(i + 1));
            T_EQ_INT(reason_of(x.e[i].vars[1].value), I61_REASON_DCHG);
        }
    }
    ents_free(&x);
    q.end_ms = t_mid;
    T_EQ_INT(read_journal(&c, &q, &x, &more), 0);
    T_EQ_INT(x.n, 10);
    ents_free(&x);
    q.start_ms = t_mid;
    q.has_end_time = false;                    /* no end */
    T_EQ_INT(read_journal(&c, &q, &x, &more), 0);
    T_EQ_INT(x.n, 10);
    if (x.n)
        T_EQ_INT(eid(&x.e[0]), 11);
    ents_free(&x);

    /* after an entry (as libiec61850 sends it: both parts) */
    q = jreq("IED1LD1", "LLN0$EventLog");
    q.has_after = true;
    q.after_ms = t_before;
    q.after_entry_len = 8;
    memset(q.after_entry, 0, 8);
    q.after_entry[7] = 17;
    T_EQ_INT(read_journal(&c, &q, &x, &more), 0);
    T_EQ_INT(x.n, 3);
    if (x.n == 3)
        T_EQ_INT(eid(&x.e[0]), 18);
    ents_free(&x);
    /* after the newest: nothing */
    q.after_entry[7] = 20;
    T_EQ_INT(read_journal(&c, &q, &x, &more), 0);
    T_EQ_INT(x.n, 0);
    T_CHECK(!more);
    /* after an id too large for 64 bits: nothing */
    q.after_entry_len = 9;
    memset(q.after_entry, 0xff, 9);
    T_EQ_INT(read_journal(&c, &q, &x, &more), 0);
    T_EQ_INT(x.n, 0);
    /* startingEntry + numberOfEntries */
    q = jreq("IED1LD1", "LLN0$EventLog");
    q.has_start_entry = true;
    q.start_entry_len = 8;
    q.start_entry[7] = 5;
    q.has_num_entries = true;
    q.num_entries = 3;
    T_EQ_INT(read_journal(&c, &q, &x, &more), 0);
    T_EQ_INT(x.n, 3);
    if (x.n == 3) {
        T_EQ_INT(eid(&x.e[0]), 5);
        T_EQ_INT(eid(&x.e[2]), 7);
    }
    ents_free(&x);
    q.num_entries = 0;
    T_EQ_INT(read_journal(&c, &q, &x, &more), 0);
    T_EQ_INT(x.n, 0);
    /* no range at all: the whole log */
    q = jreq("IED1LD1", "LLN0$EventLog");
    T_EQ_INT(read_journal(&c, &q, &x, &more), 0);
    T_EQ_INT(x.n, 20);
    ents_free(&x);

    /* a small PDU: pages with moreFollows, continued after the last entry,
     * cover every entry exactly once */
    c.max_pdu = 300;
    q = jreq("IED1LD1", "LLN0$EventLog");
    q.has_start_time = true;
    q.start_ms = t_before;
    int pages = 0;
    uint64_t expect = 1;
    for (;;) {
        size_t before = x.n;
        T_EQ_INT(read_journal(&c, &q, &x, &more), 0);
        pages++;
        T_CHECK(x.n > before || !more);
        for (size_t i = before; i < x.n; i++)
            T_EQ_INT(eid(&x.e[i]), expect++);
        if (!more || x.n == before || pages > 50)
            break;
        const i61_mms_journal_entry *last = &x.e[x.n - 1];
        q.has_after = true;
        q.after_ms = last->time_ms;
        memcpy(q.after_entry, last->id, 8);
        q.after_entry_len = 8;
    }
    T_EQ_INT(x.n, 20);
    T_CHECK(pages >= 4);
    ents_free(&x);
    c.max_pdu = 65000;

    /* unknown journal, other scopes: access/object-non-existent (golden 131) */
    q = jreq("IED1LD1", "LLN0$Nope");
    T_EQ_INT(read_journal(&c, &q, &x, &more), I61_ERR_OBJECT_DOES_NOT_EXIST);
    q = jreq("NODOMAIN", "LLN0$EventLog");
    T_EQ_INT(read_journal(&c, &q, &x, &more), I61_ERR_OBJECT_DOES_NOT_EXIST);
    q = jreq("IED1LD1", "LLN0$EventLog");
    q.journal.scope = I61_MMS_SCOPE_VMD;
    q.journal.domain[0] = 0;
    T_EQ_INT(read_journal(&c, &q, &x, &more), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(x.n, 0);

    /* the golden ReadJournal request (130: IED1LD1/LLN0$EventLog by time)
     * on this server: answered with exactly the entries in its range */
    size_t gl = 0;
    uint8_t *g = t_golden("130_readjournal_request", &gl);
    size_t ml = 0;
    const uint8_t *gm = fx_mms_pdu(g, gl, &ml);
    T_CHECK(gm != NULL);
    if (gm) {
        i61_mms_request rq;
        i61_mms_journal_req gq;
        T_EQ_INT(i61_mms_dec_request(gm, ml, &rq), 0);
        T_EQ_INT(i61_mms_dec_read_journal_req(&rq, &gq), 0);
        T_CHECK(gq.has_start_time && gq.has_end_time);
        ents all;
        export_all(s, 0, &all);
        size_t in_range = 0;
        for (size_t i = 0; i < all.n; i++)
            in_range += all.e[i].time_ms >= gq.start_ms && all.e[i].time_ms <= gq.end_ms;
        ents_free(&all);
        i61_srv_mms_pdu(&c, gm, ml);
        size_t al = 0;
        const uint8_t *a = fx_mms_pdu(c.out.data, c.out.len, &al);
        i61_mms_journal_list l;
        i61_mms_journal_list_init(&l);
        T_EQ_INT(i61_mms_dec_read_journal_resp(a, al, &l, &more, NULL), 0);
        T_EQ_INT(l.count, in_range);
        for (size_t i = 0; i < l.count; i++)
            T_CHECK(l.items[i].time_ms >= gq.start_ms && l.items[i].time_ms <= gq.end_ms);
        i61_mms_journal_list_clear(&l);
        i61_sconn_consume_out(&c, c.out.len);
    }
    free(g);

    /* a malformed ReadJournal: reject invalid-argument, never silence */
    static const uint8_t bad[] = {0xa0, 0x06, 0x02, 0x01, 0x05, 0xbf, 0x41, 0x00};
    i61_srv_mms_pdu(&c, bad, sizeof bad);
    size_t al = 0;
    const uint8_t *a = fx_mms_pdu(c.out.data, c.out.len, &al);
    T_CHECK(a != NULL && al > 0 && a[0] == 0xa4);
    i61_sconn_consume_out(&c, c.out.len);
    close_conn(s, &c);
    i61_server_free(s);
}

/* An entry larger than the association's PDU is skipped, not a stall. */
static void test_oversized_entry(void)
{
    i61_model *m = i61_model_new("IED1");
    i61_mnode *ld = NULL, *lln0 = NULL;
    FX_OK(i61_model_add_ld(m, "LD1", NULL, &ld));
    FX_OK(i61_model_add_ln(ld, "LLN0", &lln0));
    i61_mnode *d = fx_do(lln0, "Txt");
    fx_da(d, "v", I61_FC_ST, I61_TYPE_VISIBLE_STRING, -255);
    static const char *const ds[] = {"IED1LD1/LLN0.Txt.v[ST]"};
    FX_OK(i61_model_add_dataset(m, "IED1LD1/LLN0.S", ds, 1));
    FX_OK(i61_model_add_log(m, "IED1LD1/LLN0", "L", 0));
    i61_lcb_config cfg = {0};
    cfg.dataset = "IED1LD1/LLN0$S";
    cfg.log_ref = "IED1LD1/LLN0$L";
    cfg.trg_ops = I61_TRG_DCHG;
    cfg.log_ena = 1;
    FX_OK(i61_model_add_lcb(m, "IED1LD1/LLN0", "L", &cfg));
    i61_server *s = i61_server_new(m);
    i61_srv_log_activate(s);
    char big[250];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    set_val(s, "IED1LD1/LLN0.Txt.v", I61_FC_ST, i61_value_new_visible_string("a"));
    set_val(s, "IED1LD1/LLN0.Txt.v", I61_FC_ST, i61_value_new_visible_string(big));
    set_val(s, "IED1LD1/LLN0.Txt.v", I61_FC_ST, i61_value_new_visible_string("b"));
    i61_sconn c;
    open_conn(&c, s, 1);
    c.max_pdu = 200;
    ents x;
    memset(&x, 0, sizeof x);
    bool more = true;
    i61_mms_journal_req q = jreq("IED1LD1", "LLN0$L");
    T_EQ_INT(read_journal(&c, &q, &x, &more), 0);
    T_EQ_INT(x.n, 2);
    T_CHECK(!more);
    if (x.n == 2) {
        T_EQ_INT(eid(&x.e[0]), 1);
        T_EQ_INT(eid(&x.e[1]), 3);
    }
    ents_free(&x);
    close_conn(s, &c);
    i61_server_free(s);
}

static void test_initiate_services(void)
{
    for (int with_log = 0; with_log < 2; with_log++) {
        i61_server *s;
        if (with_log) {
            log_opts o = defaults;
            s = log_server(&o);
        } else {
            s = i61_server_new(fx_golden_model());
        }
        i61_sconn c;
        i61_sconn_init(&c, s, 1, false);
        i61_initiate rq, resp;
        i61_initiate_init_client(&rq);
        i61_buf b, out;
        i61_buf_init(&b);
        i61_buf_init(&out);
        T_EQ_INT(i61_initiate_write_request(&b, &rq), 0);
        T_EQ_INT(i61_srv_initiate(&c, b.data, b.len, &out), 0);
        int kind = 0;
        T_EQ_INT(i61_initiate_decode(out.data, out.len, &kind, &resp, NULL, NULL), 0);
        T_EQ_INT(kind, I61_MMS_INITIATE_RESPONSE);
        int bit65 = (resp.services[65 / 8] & (0x80 >> (65 % 8))) != 0;
        T_EQ_INT(bit65, with_log);
        i61_buf_free(&b);
        i61_buf_free(&out);
        i61_sconn_free(&c);
        i61_server_free(s);
    }
}

/* ---------------------------------------------------------- over TCP */

typedef struct producer {
    i61_model *m;
    int n;
} producer;

static void *produce(void *arg)
{
    producer *p = arg;
    for (int i = 0; i < p->n; i++) {
        i61_value *v = i61_value_new_float((float)i);
        i61_model_set_value(p->m, MAG, I61_FC_NONE, v);
        i61_value_free(v);
    }
    return NULL;
}

static void test_tcp(void)
{
    log_opts o = defaults;
    o.max = 100000;
    i61_server *s = i61_server_new(log_model(&o));
    T_EQ_INT(i61_server_start(s, "127.0.0.1", 0), 0);
    i61_client *c = i61_client_new();
    i61_client_set_request_timeout(c, 5000);
    T_EQ_INT(i61_client_connect(c, "127.0.0.1", i61_server_port(s)), 0);

    /* LCB attributes through the client's ordinary reads/writes */
    i61_value *v = NULL;
    T_EQ_INT(i61_client_read_value(c, "IED1LD1/LLN0.EventLog.LogEna", I61_FC_LG, &v), 0);
    int b = 0;
    i61_value_get_boolean(v, &b);
    T_EQ_INT(b, 1);
    i61_value_free(v);
    v = i61_value_new_unsigned_sized(10, 32);
    T_EQ_INT(i61_client_write_value(c, "IED1LD1/LLN0.EventLog.IntgPd", I61_FC_LG, v),
             I61_ERR_TEMPORARILY_UNAVAILABLE);
    i61_value_free(v);

    /* updates from another thread while the client queries the log */
    producer p = {i61_server_model(s), 2000};
    pthread_t th;
    T_EQ_INT(pthread_create(&th, NULL, produce, &p), 0);
    int queries = 0;
    for (int i = 0; i < 20; i++) {
        i61_journal *j = NULL;
        int more = 0;
        int rc = i61_client_read_journal(c, LOG_REF, 0, -1, NULL, 0, 0, &j, &more);
        T_EQ_INT(rc, 0);
        queries += rc == 0;
        i61_journal_free(j);
    }
    pthread_join(th, NULL);
    T_EQ_INT(queries, 20);

    /* then page through the whole log: 2000 entries (the first value 0.0
     * equals the start value: no change, no entry) */
    i61_log_info info;
    T_EQ_INT(i61_server_log_info(s, LOG_REF, &info), 0);
    T_EQ_INT(info.count, 1999);
    uint8_t after[8];
    size_t after_len = 0;
    int64_t after_ms = 0;
    uint64_t expect = 1;
    int pages = 0, more = 1;
    while (more && pages < 1000) {
        i61_journal *j = NULL;
        int rc = i61_client_read_journal(c, LOG_REF, after_len ? -1 : 0, -1,
                                         after_len ? after : NULL, after_len, after_ms, &j, &more);
        T_EQ_INT(rc, 0);
        if (rc != 0)
            break;
        pages++;
        size_t n = i61_journal_count(j);
        for (size_t i = 0; i < n; i++) {
            size_t il = 0;
            const uint8_t *id = i61_journal_entry_id(j, i, &il);
            uint64_t x = 0;
            for (size_t k = 0; k < il; k++)
                x = x << 8 | id[k];
            T_EQ_INT(x, expect);
            expect++;
            T_EQ_INT(i61_journal_var_count(j, i), 1);
            T_CHECK(strcmp(i61_journal_var_ref(j, i, 0), TAG_ANIN1) == 0);
            T_EQ_INT(i61_journal_var_reason(j, i, 0), I61_REASON_DCHG);
            if (i + 1 == n) {
                memcpy(after, id, il < 8 ? il : 8);
                after_len = il < 8 ? il : 8;
                after_ms = i61_journal_entry_time_ms(j, i);
            }
        }
        i61_journal_free(j);
        if (n == 0)
            break;
    }
    T_EQ_INT(expect, 2000);
    T_CHECK(pages > 1);                        /* 1999 entries do not fit one PDU */

    /* IntgPd driven by the server's own timer: reconfigure over MMS */
    v = i61_value_new_boolean(0);
    T_EQ_INT(i61_client_write_value(c, "IED1LD1/LLN0.EventLog.LogEna", I61_FC_LG, v), 0);
    i61_value_free(v);
    v = trg_bits(I61_TRG_INTEGRITY);
    T_EQ_INT(i61_client_write_value(c, "IED1LD1/LLN0.EventLog.TrgOps", I61_FC_LG, v), 0);
    i61_value_free(v);
    v = i61_value_new_unsigned_sized(40, 32);
    T_EQ_INT(i61_client_write_value(c, "IED1LD1/LLN0.EventLog.IntgPd", I61_FC_LG, v), 0);
    i61_value_free(v);
    v = i61_value_new_boolean(1);
    T_EQ_INT(i61_client_write_value(c, "IED1LD1/LLN0.EventLog.LogEna", I61_FC_LG, v), 0);
    i61_value_free(v);
    sleep_ms(300);
    i61_log_info info2;
    T_EQ_INT(i61_server_log_info(s, LOG_REF, &info2), 0);
    T_CHECK(info2.newest_id >= 2000 + 4 && info2.newest_id <= 2000 + 9);
    i61_journal *j = NULL;
    uint8_t last_id[8];
    for (int k = 7; k >= 0; k--)
        last_id[k] = (uint8_t)((uint64_t)1999 >> (8 * (7 - k)));
    T_EQ_INT(i61_client_read_journal(c, LOG_REF, -1, -1, last_id, 8, 0, &j, &more), 0);
    T_CHECK(i61_journal_count(j) >= 4);
    for (size_t i = 0; i < i61_journal_count(j); i++) {
        T_EQ_INT(i61_journal_var_count(j, i), 2);   /* Ind1 and AnIn1 */
        T_EQ_INT(i61_journal_var_reason(j, i, 0), I61_REASON_INTEGRITY);
        T_CHECK(strcmp(i61_journal_var_ref(j, i, 1), TAG_ANIN1) == 0);
    }
    i61_journal_free(j);

    /* the journal names over the client */
    i61_strlist *names = NULL;
    T_EQ_INT(i61_client_get_journal_names(c, "IED1LD1", &names), 0);
    T_EQ_INT(i61_strlist_count(names), 2);
    i61_strlist_free(names);
    i61_client_free(c);
    i61_server_stop(s);
    i61_server_free(s);
}

T_MAIN(T_CASE(test_builder), T_CASE(test_entries), T_CASE(test_dupd_and_no_reason),
       T_CASE(test_ring), T_CASE(test_import_restart), T_CASE(test_events),
       T_CASE(test_integrity), T_CASE(test_lcb_writes), T_CASE(test_journal_names),
       T_CASE(test_read_journal), T_CASE(test_oversized_entry), T_CASE(test_initiate_services),
       T_CASE(test_tcp))
