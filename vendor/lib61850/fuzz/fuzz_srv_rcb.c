/* libFuzzer target: the server report engine. The input is a script of
 * operations on two associations (RCB attribute writes with fuzzed values,
 * value updates that trigger reports, clock steps that run BufTm/IntgPd,
 * reads of RCBs and the whole LN, "@" data set definitions, connection
 * loss and reconnection with another PDU size). Everything must stay within
 * bounds and be freed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "server/server_internal.h"
#include "server/srv_rcb.h"
#include "mms/mms_pdu.h"
#include "net/loop.h"

static void da(i61_mnode *p, const char *n, int fc, int type, int size)
{ if (i61_model_add_da(p, n, fc, type, size, 0, NULL)) abort(); }

static i61_model *mk(void)
{
    i61_model *m = i61_model_new("IED1");
    i61_mnode *ld, *lln0, *ggio, *d, *mag;
    if (i61_model_add_ld(m, "LD1", NULL, &ld) || i61_model_add_ln(ld, "LLN0", &lln0) ||
        i61_model_add_ln(ld, "GGIO1", &ggio)) abort();
    i61_model_add_do(ggio, "Ind1", &d);
    da(d, "stVal", I61_FC_ST, I61_TYPE_BOOLEAN, 0);
    da(d, "q", I61_FC_ST, I61_TYPE_BIT_STRING, -13);
    da(d, "t", I61_FC_ST, I61_TYPE_UTC_TIME, 0);
    i61_model_add_do(ggio, "AnIn1", &d);
    i61_model_add_da(d, "mag", I61_FC_MX, I61_TYPE_STRUCTURE, 0, 0, &mag);
    da(mag, "f", I61_FC_NONE, I61_TYPE_FLOAT, 32);
    i61_model_add_do(ggio, "Arr", &d);
    if (i61_model_add_da(d, "v", I61_FC_MX, I61_TYPE_INTEGER, 32, 4, NULL)) abort();
    static const char *const ds[] = {"IED1LD1/GGIO1.Ind1[ST]", "IED1LD1/GGIO1.AnIn1[MX]", "IED1LD1/GGIO1.Ind1.stVal[ST]", "IED1LD1/GGIO1[MX]"};
    if (i61_model_add_dataset(m, "IED1LD1/LLN0.Events", ds, 4)) abort();
    static const char *const ds2[] = {"IED1LD1/GGIO1.Arr.v[MX]"};
    if (i61_model_add_dataset(m, "IED1LD1/LLN0.Arr", ds2, 1)) abort();
    i61_rcb_config c = {0};
    c.dataset = "IED1LD1/LLN0$Events"; c.opt_flds = 0x1ff; c.trg_ops = 0x1f; c.with_owner = 1;
    if (i61_model_add_rcb(m, "IED1LD1/LLN0", "u", 0, &c)) abort();
    c.with_resv_tms = 1; c.buffer_size = 2000; c.buf_tm = 10;
    if (i61_model_add_rcb(m, "IED1LD1/LLN0", "b", 1, &c)) abort();
    return m;
}

static const char *const attrs[] = {"RptID","RptEna","Resv","DatSet","ConfRev","OptFlds","BufTm","SqNum","TrgOps","IntgPd","GI","PurgeBuf","EntryID","TimeofEntry","ResvTms","Owner"};

static i61_value *mkval(const uint8_t *p, size_t n)
{
    uint8_t k = n ? p[0] : 0;
    uint32_t x = n > 1 ? p[1] : 0;
    static const char *const dss[] = {"IED1LD1/LLN0$Events", "IED1LD1/LLN0$Arr", "@aa", "", "IED1LD1/LLN0$No", "/x"};
    switch (k % 9) {
    case 0: return i61_value_new_boolean(x & 1);
    case 1: return i61_value_new_unsigned(x * 7);
    case 2: { uint8_t b[2] = {(uint8_t)x, (uint8_t)(x * 3)}; return i61_value_new_bit_string((int)(x % 12), b); }
    case 3: return i61_value_new_visible_string(dss[x % 6]);
    case 4: { uint8_t b[8] = {0}; if (n > 9) memcpy(b, p + 2, 8); return i61_value_new_octet_string(b, x % 9); }
    case 5: return i61_value_new_integer((int)x - 100);
    case 6: return i61_value_new_float((float)x);
    case 7: return i61_value_new_unsigned(x % 3);
    default: return i61_value_new_visible_string("rid");
    }
}

static void assoc(i61_sconn *c, i61_server *s, uint32_t id, const char *peer, uint32_t pdu)
{
    i61_sconn_init(c, s, id, false);
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    c->state = I61_SC_ASSOCIATED;
    c->max_pdu = pdu;
    c->tpdu_size = 8192;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    i61_server *s = i61_server_new(mk());
    i61_srv_rcb_activate(s);
    i61_sconn c[2];
    assoc(&c[0], s, 1, "10.0.0.1:1", 300);
    assoc(&c[1], s, 2, "10.0.0.2:1", 1000);
    uint64_t now = i61_mono_ms();
    i61_buf b; i61_buf_init(&b);
    size_t i = 0;
    while (i + 3 <= size) {
        uint8_t op = data[i], a1 = data[i + 1], a2 = data[i + 2];
        i += 3;
        int ci = op & 1;
        switch ((op >> 1) % 6) {
        case 0: case 1: {
            i61_mms_var v; memset(&v, 0, sizeof v);
            v.name.scope = I61_MMS_SCOPE_DOMAIN; strcpy(v.name.domain, "IED1LD1");
            snprintf(v.name.item, sizeof v.name.item, "LLN0$%s$%s$%s", (a1 & 1) ? "BR" : "RP", (a1 & 1) ? "b" : "u", attrs[(a1 >> 1) % 16]);
            size_t vl = size - i < 12 ? size - i : 12;
            i61_value *val = mkval(data + i, vl);
            i += vl;
            i61_mms_access_spec spec = {false, {0}, &v, 1};
            const i61_value *vals[1] = {val};
            i61_buf_reset(&b);
            if (i61_mms_enc_write_req(&b, 1, &spec, vals, 1) == 0)
                i61_srv_mms_pdu(&c[ci], b.data, b.len);
            i61_value_free(val);
            break;
        }
        case 2: {
            i61_value *v = i61_value_new_boolean(a2 & 1);
            i61_model_set_value(i61_server_model(s), "IED1LD1/GGIO1.Ind1.stVal", I61_FC_ST, v);
            i61_value_free(v);
            v = i61_value_new_float(a1);
            i61_model_set_value(i61_server_model(s), "IED1LD1/GGIO1.AnIn1.mag.f", I61_FC_NONE, v);
            i61_value_free(v);
            break;
        }
        case 3:
            now += a1;
            i61_srv_rcb_run(s, now);
            break;
        case 4: {
            i61_mms_var v; memset(&v, 0, sizeof v);
            v.name.scope = I61_MMS_SCOPE_DOMAIN; strcpy(v.name.domain, "IED1LD1");
            strcpy(v.name.item, (a1 & 1) ? "LLN0$BR$b" : "LLN0");
            i61_mms_access_spec spec = {false, {0}, &v, 1};
            i61_buf_reset(&b);
            if (i61_mms_enc_read_req(&b, 2, false, &spec) == 0)
                i61_srv_mms_pdu(&c[ci], b.data, b.len);
            if (a2 & 1) {
                i61_mms_name n; memset(&n, 0, sizeof n); n.scope = I61_MMS_SCOPE_AA; strcpy(n.item, "aa");
                i61_mms_var mv; memset(&mv, 0, sizeof mv); mv.name.scope = I61_MMS_SCOPE_DOMAIN;
                strcpy(mv.name.domain, "IED1LD1"); strcpy(mv.name.item, "GGIO1$MX$AnIn1");
                i61_buf_reset(&b);
                if (i61_mms_enc_define_nvl_req(&b, 3, &n, &mv, 1) == 0)
                    i61_srv_mms_pdu(&c[ci], b.data, b.len);
            }
            break;
        }
        default:
            i61_srv_conn_gone(s, &c[ci]);
            i61_sconn_free(&c[ci]);
            assoc(&c[ci], s, 10 + (uint32_t)i, ci ? "10.0.0.2:2" : "10.0.0.1:2", 300 + a1 * 4u);
            break;
        }
        for (int k = 0; k < 2; k++)
            i61_sconn_consume_out(&c[k], c[k].out.len);
    }
    i61_srv_rcb_run(s, now + 100000);
    for (int k = 0; k < 2; k++) {
        i61_srv_conn_gone(s, &c[k]);
        i61_sconn_free(&c[k]);
    }
    i61_buf_free(&b);
    i61_server_free(s);
    return 0;
}
