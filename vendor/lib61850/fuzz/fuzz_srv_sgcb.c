/* libFuzzer target: setting group, GOOSE and SV control blocks on the
 * server. The input is a script of operations on three associations:
 * writes of SGCB components, SE/SG values, GoCB/MSVCB/USVCB attributes and
 * whole LNs with values built from the input (typed as expected or not) or
 * decoded from it as arbitrary Data, reads of the same variables, handler
 * registrations, answers to queued setting group events (accept, refuse,
 * bad tokens, late answers), hook timeouts, connection loss, and the local
 * API (select_active_sg, set/get_sg_value). Everything must stay within
 * bounds, the SGCB state must stay consistent, and all must be freed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server/server_internal.h"
#include "mms/mms_data.h"
#include "mms/mms_pdu.h"
#include "mms/value_internal.h"
#include "net/loop.h"

static i61_mnode *da(i61_mnode *p, const char *n, int fc, int type, int size, int count)
{
    i61_mnode *x = NULL;
    if (i61_model_add_da(p, n, fc, type, size, count, &x))
        abort();
    return x;
}

static i61_mnode *dobj(i61_mnode *p, const char *n)
{
    i61_mnode *x = NULL;
    if (i61_model_add_do(p, n, &x))
        abort();
    return x;
}

static i61_model *mk(void)
{
    i61_model *m = i61_model_new("IED1");
    i61_mnode *ld, *lln0, *ptoc, *d, *s;
    if (!m || i61_model_add_ld(m, "LD1", NULL, &ld) || i61_model_add_ln(ld, "LLN0", &lln0) ||
        i61_model_add_ln(ld, "PTOC1", &ptoc))
        abort();
    d = dobj(lln0, "Mod");
    da(d, "stVal", I61_FC_ST, I61_TYPE_INTEGER, 8, 0);
    d = dobj(lln0, "Sp");
    da(d, "setVal", I61_FC_SP, I61_TYPE_INTEGER, 32, 0);
    d = dobj(ptoc, "StrVal");
    s = da(d, "setMag", I61_FC_SG, I61_TYPE_STRUCTURE, 0, 0);
    da(s, "f", I61_FC_NONE, I61_TYPE_FLOAT, 32, 0);
    d = dobj(ptoc, "Crv");
    s = da(d, "pts", I61_FC_SG, I61_TYPE_STRUCTURE, 0, 2);
    da(s, "x", I61_FC_NONE, I61_TYPE_FLOAT, 32, 0);
    da(s, "y", I61_FC_NONE, I61_TYPE_INTEGER, 16, 0);
    d = dobj(ptoc, "Name");
    da(d, "setVal", I61_FC_SG, I61_TYPE_VISIBLE_STRING, -16, 0);
    const char *members[] = {"IED1LD1/LLN0$ST$Mod"};
    if (i61_model_add_dataset(m, "IED1LD1/LLN0$Ds", members, 1) ||
        i61_model_add_sgcb(m, "IED1LD1/LLN0", 3, 1, 1))
        abort();
    i61_gocb_config g;
    memset(&g, 0, sizeof g);
    g.dataset = "IED1LD1/LLN0$Ds";
    i61_svcb_config sv;
    memset(&sv, 0, sizeof sv);
    sv.dataset = "IED1LD1/LLN0$Ds";
    if (i61_model_add_gocb(m, "IED1LD1/LLN0", "gcb", &g) ||
        i61_model_add_svcb(m, "IED1LD1/LLN0", "msv", 1, &sv) ||
        i61_model_add_svcb(m, "IED1LD1/LLN0", "usv", 0, &sv))
        abort();
    return m;
}

static const char *const items[] = {
    "LLN0$SP$SGCB$ActSG", "LLN0$SP$SGCB$EditSG", "LLN0$SP$SGCB$CnfEdit",
    "LLN0$SP$SGCB$NumOfSG", "LLN0$SP$SGCB", "LLN0$SP",
    "PTOC1$SE$StrVal$setMag$f", "PTOC1$SE$StrVal", "PTOC1$SE$Crv$pts", "PTOC1$SE$Name$setVal",
    "PTOC1$SG$StrVal$setMag$f", "PTOC1$SE", "LLN0$GO$gcb$GoEna", "LLN0$GO$gcb$DatSet",
    "LLN0$GO$gcb$DstAddress", "LLN0$GO$gcb$DstAddress$VID", "LLN0$MS$msv$SvEna",
    "LLN0$US$usv$Resv", "LLN0$US$usv$SvEna", "LLN0$US$usv$UsvID", "LLN0$GO$gcb",
    "LLN0$SP$Sp$setVal"};
#define NITEMS (sizeof items / sizeof items[0])

static const char *const refs[] = {"IED1LD1/PTOC1.StrVal.setMag.f", "IED1LD1/PTOC1.StrVal",
                                   "IED1LD1/PTOC1.Crv.pts", "IED1LD1/PTOC1.Name.setVal",
                                   "IED1LD1/PTOC1$SG$StrVal$setMag"};

static void assoc(i61_sconn *c, i61_server *s, uint32_t id)
{
    i61_sconn_init(c, s, id, false);
    snprintf(c->peer, sizeof c->peer, "10.0.0.%u:1", (unsigned)(id % 250));
    c->state = I61_SC_ASSOCIATED;
    c->max_pdu = 65000;
    c->max_outstanding = 5;
    c->tpdu_size = 8192;
}

static i61_mms_var var_of(const char *item, uint8_t alt)
{
    i61_mms_var v;
    memset(&v, 0, sizeof v);
    v.name.scope = I61_MMS_SCOPE_DOMAIN;
    strcpy(v.name.domain, "IED1LD1");
    snprintf(v.name.item, sizeof v.name.item, "%s", item);
    if ((alt & 7) == 7) {
        v.has_index = true;
        v.index = alt >> 3;
    }
    return v;
}

/* A value for an attribute: usually the right shape, sometimes not. */
static i61_value *mkval(uint8_t k, uint8_t x)
{
    switch (k % 10) {
    case 0: return i61_value_new_unsigned_sized(x % 5, 8);
    case 1: return i61_value_new_boolean(x & 1);
    case 2: return i61_value_new_float((float)x / 4.0f);
    case 3: return i61_value_new_integer(x);
    case 4: {
        i61_value *s = i61_value_new_structure(1);
        if (s)
            i61_value_set_element(s, 0, i61_value_new_float((float)x));
        return s;
    }
    case 5: return i61_value_new_visible_string((x & 1) ? "IED1LD1/LLN0$Ds" : "nope");
    case 6: {
        i61_value *s = i61_value_new_structure(4);
        uint8_t mac[6] = {1, 0x0c, 0xcd, 1, 0, x};
        if (s) {
            i61_value_set_element(s, 0, i61_value_new_octet_string(mac, 6));
            i61_value_set_element(s, 1, i61_value_new_unsigned_sized(x % 10, 8));
            i61_value_set_element(s, 2, i61_value_new_unsigned_sized((uint64_t)x * 20, 16));
            i61_value_set_element(s, 3, i61_value_new_unsigned_sized(x, 16));
        }
        return s;
    }
    case 7: return i61_value_new_unsigned_sized((uint64_t)x * 20, 16);
    case 8: {
        i61_value *a = i61_value_new_array(2);
        for (size_t i = 0; a && i < 2; i++) {
            i61_value *s = i61_value_new_structure(2);
            if (s) {
                i61_value_set_element(s, 0, i61_value_new_float((float)x));
                i61_value_set_element(s, 1, i61_value_new_integer_sized(x, 16));
            }
            i61_value_set_element(a, i, s);
        }
        return a;
    }
    default: return i61_value_new_visible_string("abc");
    }
}

static void write_item(i61_sconn *c, i61_buf *b, const char *item, uint8_t alt,
                       const i61_value *val)
{
    if (!val)
        return;
    i61_mms_var v = var_of(item, alt);
    i61_mms_access_spec spec = {false, {0}, &v, 1};
    const i61_value *vals[1] = {val};
    i61_buf_reset(b);
    if (i61_mms_enc_write_req(b, 1, &spec, vals, 1) == 0)
        i61_srv_mms_pdu(c, b->data, b->len);
    i61_sconn_consume_out(c, c->out.len);
}

static void check(i61_server *s, const i61_sconn *c)
{
    if (c->outstanding < 0)
        abort();
    i61_sgcb_state st;
    if (i61_server_get_sgcb(s, "IED1LD1", &st) != I61_OK || st.num_of_sg != 3 ||
        st.act_sg < 1 || st.act_sg > 3 || st.edit_sg < 0 || st.edit_sg > 3 ||
        (st.edit_sg == 0) != (st.edit_conn_id == 0))
        abort();
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
    uint64_t tokens[8] = {0};
    size_t ntok = 0;
    i61_buf b;
    i61_buf_init(&b);
    size_t i = 0;
    while (i + 4 <= size) {
        uint8_t op = data[i], a1 = data[i + 1], a2 = data[i + 2], a3 = data[i + 3];
        i += 4;
        i61_sconn *cc = &c[op % 3];
        const char *item = items[a1 % NITEMS];
        switch ((op / 3) % 9) {
        case 0: case 1: {                         /* a built value */
            i61_value *v = mkval(a2, a3);
            write_item(cc, &b, item, a1 >> 5, v);
            i61_value_free(v);
            break;
        }
        case 2: {                                 /* arbitrary Data */
            size_t n = a2 % 48;
            if (n > size - i)
                n = size - i;
            i61_ber_tlv t;
            size_t used = 0;
            i61_value *v = NULL;
            if (i61_ber_parse(data + i, n, &t, &used) == 0 && i61_mms_data_decode(&t, 0, &v) == 0)
                write_item(cc, &b, item, a3, v);
            i61_value_free(v);
            i += n;
            break;
        }
        case 3: {                                 /* reads */
            i61_mms_var v = var_of(item, a3);
            i61_mms_access_spec spec = {false, {0}, &v, 1};
            i61_buf_reset(&b);
            if (i61_mms_enc_read_req(&b, 2, (a2 & 2) != 0, &spec) == 0)
                i61_srv_mms_pdu(cc, b.data, b.len);
            i61_sconn_consume_out(cc, cc->out.len);
            break;
        }
        case 4:                                   /* handlers */
            i61_server_set_sg_handler(s, (a2 & 1) ? "IED1LD1" : "IED1LD1/LLN0", a3 & 7, NULL);
            break;
        case 5: {                                 /* answer events */
            i61_server_event *e = NULL;
            while (i61_server_next_event(s, 0, &e) == I61_OK) {
                if (ntok < 8)
                    tokens[ntok++] = e->token;
                i61_server_event_free(e);
            }
            if (ntok > 0) {
                size_t k = a2 % ntok;
                int res = (a3 & 1) ? -1 : (int)(a3 >> 1) % 14;
                i61_server_complete_sg(s, tokens[k] + (a2 & 0x80 ? 1 : 0), res);
                tokens[k] = tokens[--ntok];
            }
            i61_srv_run_ready(s);
            for (int k = 0; k < 3; k++)
                i61_sconn_consume_out(&c[k], c[k].out.len);
            break;
        }
        case 6:                                   /* hook timeouts */
            i61_srv_sweep_timeouts(s, i61_mono_ms() + (uint64_t)a2 * 4u);
            for (int k = 0; k < 3; k++)
                i61_sconn_consume_out(&c[k], c[k].out.len);
            break;
        case 7:                                   /* connection loss, a new association */
            i61_srv_conn_gone(s, cc);
            i61_sconn_free(cc);
            assoc(cc, s, next_id++);
            break;
        default: {                                /* the local API */
            const char *ref = refs[a1 % (sizeof refs / sizeof refs[0])];
            int sg = a2 % 5;
            if (a3 & 1) {
                i61_server_select_active_sg(s, "IED1LD1", sg);
            } else if (a3 & 2) {
                i61_value *v = NULL;
                if (i61_model_get_sg_value(i61_server_model(s), ref, sg, &v) == I61_OK && !v)
                    abort();
                i61_value_free(v);
            } else {
                i61_value *v = mkval(a3 >> 2, a2);
                if (v)
                    i61_model_set_sg_value(i61_server_model(s), ref, sg, v);
                i61_value_free(v);
            }
            break;
        }
        }
        check(s, cc);
    }
    for (int k = 0; k < 3; k++) {
        i61_srv_conn_gone(s, &c[k]);
        i61_sconn_free(&c[k]);
    }
    i61_buf_free(&b);
    i61_server_free(s);
    return 0;
}
