/* libFuzzer target: the server control engine. The input is a script of
 * operations on three associations: Oper/SBOw/Cancel writes built from
 * fuzzed parameters (ctlVal type, ctlNum, orCat, orIdent, Test, Check,
 * operTm), writes of arbitrary Data decoded from the input, SBO reads,
 * handler registrations, answers to queued control events (accept, refuse,
 * bad tokens, late answers), declared control models, clock steps (hook
 * timeouts, operTm, sboTimeout) and connection loss. Everything must stay
 * within bounds, never leave a negative outstanding count, and be freed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server/server_internal.h"
#include "server/srv_control.h"
#include "mms/mms_control.h"
#include "mms/mms_data.h"
#include "mms/mms_pdu.h"
#include "net/loop.h"

static i61_mnode *da(i61_mnode *p, const char *n, int fc, int type, int size)
{
    i61_mnode *x = NULL;
    if (i61_model_add_da(p, n, fc, type, size, 0, &x))
        abort();
    return x;
}

static void co(i61_mnode *d, const char *name, int type, int size, int oper_tm, int check)
{
    i61_mnode *s = da(d, name, I61_FC_CO, I61_TYPE_STRUCTURE, 0);
    i61_mnode *cv = da(s, "ctlVal", I61_FC_NONE, type, size);
    if (type == I61_TYPE_STRUCTURE)
        da(cv, "f", I61_FC_NONE, I61_TYPE_FLOAT, 32);
    if (oper_tm)
        da(s, "operTm", I61_FC_NONE, I61_TYPE_UTC_TIME, 0);
    i61_mnode *o = da(s, "origin", I61_FC_NONE, I61_TYPE_STRUCTURE, 0);
    da(o, "orCat", I61_FC_NONE, I61_TYPE_INTEGER, 8);
    da(o, "orIdent", I61_FC_NONE, I61_TYPE_OCTET_STRING, -64);
    da(s, "ctlNum", I61_FC_NONE, I61_TYPE_UNSIGNED, 8);
    da(s, "T", I61_FC_NONE, I61_TYPE_UTC_TIME, 0);
    da(s, "Test", I61_FC_NONE, I61_TYPE_BOOLEAN, 0);
    if (check)
        da(s, "Check", I61_FC_NONE, I61_TYPE_BIT_STRING, -2);
}

static const char *const objs[] = {"C0", "C1", "C2", "C3", "C4", "Inc", "Apc"};

static i61_model *mk(void)
{
    i61_model *m = i61_model_new("IED1");
    i61_mnode *ld, *ggio, *d;
    if (i61_model_add_ld(m, "LD1", NULL, &ld) || i61_model_add_ln(ld, "GGIO1", &ggio))
        abort();
    for (int k = 0; k < 5; k++) {                /* SPC in models 0..4 */
        if (i61_model_add_do(ggio, objs[k], &d))
            abort();
        da(d, "stVal", I61_FC_ST, I61_TYPE_BOOLEAN, 0);
        da(d, "t", I61_FC_ST, I61_TYPE_UTC_TIME, 0);
        da(d, "stSeld", I61_FC_ST, I61_TYPE_BOOLEAN, 0);
        da(d, "ctlNum", I61_FC_ST, I61_TYPE_UNSIGNED, 8);
        if (k == 2)
            da(d, "SBO", I61_FC_CO, I61_TYPE_VISIBLE_STRING, -129);
        if (k == 4)
            co(d, "SBOw", I61_TYPE_BOOLEAN, 0, 0, 1);
        co(d, "Oper", I61_TYPE_BOOLEAN, 0, 0, 1);
        co(d, "Cancel", I61_TYPE_BOOLEAN, 0, 0, 0);
        da(d, "ctlModel", I61_FC_CF, I61_TYPE_INTEGER, 8);
        da(d, "sboTimeout", I61_FC_CF, I61_TYPE_UNSIGNED, 32);
        da(d, "sboClass", I61_FC_CF, I61_TYPE_INTEGER, 8);
    }
    if (i61_model_add_do(ggio, "Inc", &d))
        abort();
    da(d, "stVal", I61_FC_ST, I61_TYPE_INTEGER, 32);
    co(d, "Oper", I61_TYPE_INTEGER, 32, 1, 1);
    co(d, "Cancel", I61_TYPE_INTEGER, 32, 1, 0);
    da(d, "ctlModel", I61_FC_CF, I61_TYPE_INTEGER, 8);
    if (i61_model_add_do(ggio, "Apc", &d))
        abort();
    i61_mnode *mx = da(d, "mxVal", I61_FC_MX, I61_TYPE_STRUCTURE, 0);
    da(mx, "f", I61_FC_NONE, I61_TYPE_FLOAT, 32);
    co(d, "Oper", I61_TYPE_STRUCTURE, 0, 0, 1);
    da(d, "ctlModel", I61_FC_CF, I61_TYPE_INTEGER, 8);
    for (int k = 0; k < 5; k++) {
        char ref[64];
        snprintf(ref, sizeof ref, "IED1LD1/GGIO1.%s.ctlModel", objs[k]);
        i61_value *v = i61_value_new_integer(k);
        i61_model_set_value(m, ref, I61_FC_CF, v);
        i61_value_free(v);
        snprintf(ref, sizeof ref, "IED1LD1/GGIO1.%s.sboTimeout", objs[k]);
        v = i61_value_new_unsigned(50);
        i61_model_set_value(m, ref, I61_FC_CF, v);
        i61_value_free(v);
    }
    i61_value *v = i61_value_new_integer(3);
    i61_model_set_value(m, "IED1LD1/GGIO1.Inc.ctlModel", I61_FC_CF, v);
    i61_value_free(v);
    return m;
}

static void assoc(i61_sconn *c, i61_server *s, uint32_t id)
{
    i61_sconn_init(c, s, id, false);
    snprintf(c->peer, sizeof c->peer, "10.0.0.%u:1", (unsigned)id);
    c->state = I61_SC_ASSOCIATED;
    c->max_pdu = 65000;
    c->max_outstanding = 5;
    c->tpdu_size = 8192;
}

static void check(const i61_sconn *c)
{
    if (c->outstanding < 0)
        abort();
}

static i61_mms_var var_of(const char *obj, const char *attr)
{
    i61_mms_var v;
    memset(&v, 0, sizeof v);
    v.name.scope = I61_MMS_SCOPE_DOMAIN;
    strcpy(v.name.domain, "IED1LD1");
    snprintf(v.name.item, sizeof v.name.item, "GGIO1$CO$%s$%s", obj, attr);
    return v;
}

static void write_value(i61_sconn *c, i61_buf *b, const char *obj, const char *attr,
                        const i61_value *val)
{
    i61_mms_var v = var_of(obj, attr);
    i61_mms_access_spec spec = {false, {0}, &v, 1};
    const i61_value *vals[1] = {val};
    i61_buf_reset(b);
    if (i61_mms_enc_write_req(b, 1, &spec, vals, 1) == 0)
        i61_srv_mms_pdu(c, b->data, b->len);
}

static i61_value *ctl_val(uint8_t k)
{
    switch (k % 5) {
    case 0: return i61_value_new_boolean(k & 8);
    case 1: return i61_value_new_integer((int)k - 100);
    case 2: {
        i61_value *s = i61_value_new_structure(1);
        if (s)
            i61_value_set_element(s, 0, i61_value_new_float((float)k));
        return s;
    }
    case 3: return i61_value_new_float((float)k);
    default: return i61_value_new_unsigned(k);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    i61_server *s = i61_server_new(mk());
    if (!s)
        return 0;
    i61_server_set_event_queue_size(s, 4);
    i61_server_set_hook_timeout(s, 200);
    i61_sconn c[3];
    uint32_t next_id = 1;
    for (int k = 0; k < 3; k++)
        assoc(&c[k], s, next_id++);
    uint64_t now = i61_mono_ms();
    uint64_t tokens[8] = {0};
    size_t ntok = 0;
    i61_buf b;
    i61_buf_init(&b);
    size_t i = 0;
    while (i + 4 <= size) {
        uint8_t op = data[i], a1 = data[i + 1], a2 = data[i + 2], a3 = data[i + 3];
        i += 4;
        i61_sconn *cc = &c[op % 3];
        const char *obj = objs[a1 % 7];
        switch ((op / 3) % 9) {
        case 0: case 1: {                         /* a command built from parameters */
            static const char *const attrs[] = {"Oper", "SBOw", "Cancel"};
            int which = (a1 >> 3) % 3;
            i61_ctl_cmd k;
            memset(&k, 0, sizeof k);
            i61_value *cv = ctl_val(a2);
            k.ctl_val = cv;
            k.ctl_num = (uint8_t)(a3 & 3);
            k.or_cat = (a2 & 0x80) ? (int)(a3 % 12) - 1 : 3;
            static const uint8_t ident[70] = "fuzzer-origin";
            k.or_ident = ident;
            k.or_ident_len = (a3 >> 2) % 3 == 2 ? 65 : (a3 >> 2) % 3;
            k.test = a3 & 0x40;
            k.has_check = !(a3 & 0x20);
            k.interlock_check = a3 & 0x10;
            k.synchro_check = a2 & 0x40;
            if (a1 & 0x80) {
                k.has_oper_tm = true;
                uint64_t at = (a2 & 0x20) ? 0 : (uint64_t)1700000000000ull + a3 * 10u;
                i61_utc_time_from_ms(at, 0, k.oper_tm);
            }
            i61_value *v = NULL;
            if (cv && i61_ctl_build(which == 2 ? I61_CTL_CANCEL : which, &k, &v) == 0)
                write_value(cc, &b, obj, attrs[which], v);
            i61_value_free(v);
            i61_value_free(cv);
            break;
        }
        case 2: {                                 /* arbitrary Data to a control attribute */
            size_t n = a2 % 48;
            if (n > size - i)
                n = size - i;
            i61_ber_tlv t;
            size_t used = 0;
            i61_value *v = NULL;
            if (i61_ber_parse(data + i, n, &t, &used) == 0 && i61_mms_data_decode(&t, 0, &v) == 0) {
                static const char *const attrs[] = {"Oper", "SBOw", "Cancel", "SBO"};
                write_value(cc, &b, obj, attrs[a3 % 4], v);
            }
            i61_value_free(v);
            i += n;
            break;
        }
        case 3: {                                 /* Read SBO (or Oper) */
            i61_mms_var v = var_of(obj, (a2 & 1) ? "Oper" : "SBO");
            i61_mms_access_spec spec = {false, {0}, &v, 1};
            i61_buf_reset(&b);
            if (i61_mms_enc_read_req(&b, 2, (a2 & 2) != 0, &spec) == 0)
                i61_srv_mms_pdu(cc, b.data, b.len);
            break;
        }
        case 4: {                                 /* handlers */
            char ref[64];
            snprintf(ref, sizeof ref, "IED1LD1/GGIO1.%s", obj);
            i61_server_set_control_handler(s, ref, a2 & 7, a3 & 1, NULL);
            break;
        }
        case 5: {                                 /* answer events */
            i61_server_event *e = NULL;
            while (i61_server_next_event(s, 0, &e) == I61_OK) {
                if (ntok < 8)
                    tokens[ntok++] = e->token;
                i61_server_event_free(e);
            }
            if (ntok > 0) {
                size_t k = a2 % ntok;
                int cause = (a3 & 1) ? -1 : (int)(a3 >> 1);
                i61_server_complete_control(s, tokens[k] + (a2 & 0x80 ? 1 : 0), cause);
                tokens[k] = tokens[--ntok];
            }
            break;
        }
        case 6:                                   /* time passes */
            now += (uint64_t)a2 * (a3 & 0x80 ? 40u : 1u);
            i61_srv_ctl_run(s, now);
            break;
        case 7: {                                 /* the application redeclares */
            char ref[64];
            snprintf(ref, sizeof ref, "IED1LD1/GGIO1.%s", obj);
            i61_model_set_control(i61_server_model(s), ref, a2 % 6, a3, (a3 >> 7) & 1);
            break;
        }
        default: {                                /* the association goes away */
            i61_srv_conn_gone(s, cc);
            i61_sconn_free(cc);
            assoc(cc, s, next_id++);
            break;
        }
        }
        for (int k = 0; k < 3; k++) {
            check(&c[k]);
            i61_sconn_consume_out(&c[k], c[k].out.len);
            c[k].close_now = false;
        }
    }
    i61_buf_free(&b);
    for (int k = 0; k < 3; k++) {
        i61_srv_conn_gone(s, &c[k]);
        i61_sconn_free(&c[k]);
    }
    i61_server_free(s);
    return 0;
}
