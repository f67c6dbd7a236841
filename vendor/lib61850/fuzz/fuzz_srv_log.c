/* libFuzzer target: the server logs. The input is a script of operations
 * on two associations with different PDU sizes: LCB attribute writes with
 * fuzzed values, ReadJournal requests built from fuzzed fields and raw
 * fuzzed ReadJournal bodies, GetNameList of journals, reads of the LCB,
 * value updates that log entries, clock steps that run IntgPd, export into
 * fuzzed buffer sizes and import of fuzzed octets. Everything must stay
 * within bounds and be freed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server/server_internal.h"
#include "server/srv_log.h"
#include "mms/mms_journal.h"
#include "mms/mms_pdu.h"
#include "mms/value_internal.h"
#include "net/loop.h"

static void da(i61_mnode *p, const char *n, int fc, int type, int size)
{
    if (i61_model_add_da(p, n, fc, type, size, 0, NULL))
        abort();
}

static i61_model *mk(void)
{
    i61_model *m = i61_model_new("IED1");
    i61_mnode *ld, *lln0, *ggio, *d, *mag;
    if (i61_model_add_ld(m, "LD1", NULL, &ld) || i61_model_add_ln(ld, "LLN0", &lln0) ||
        i61_model_add_ln(ld, "GGIO1", &ggio))
        abort();
    i61_model_add_do(ggio, "Ind1", &d);
    da(d, "stVal", I61_FC_ST, I61_TYPE_BOOLEAN, 0);
    da(d, "q", I61_FC_ST, I61_TYPE_BIT_STRING, -13);
    da(d, "t", I61_FC_ST, I61_TYPE_UTC_TIME, 0);
    i61_model_add_do(ggio, "AnIn1", &d);
    i61_model_add_da(d, "mag", I61_FC_MX, I61_TYPE_STRUCTURE, 0, 0, &mag);
    da(mag, "f", I61_FC_NONE, I61_TYPE_FLOAT, 32);
    i61_model_add_do(ggio, "Arr", &d);
    if (i61_model_add_da(d, "v", I61_FC_MX, I61_TYPE_INTEGER, 32, 4, NULL))
        abort();
    static const char *const ds[] = {"IED1LD1/GGIO1.Ind1[ST]", "IED1LD1/GGIO1.AnIn1[MX]",
                                     "IED1LD1/GGIO1.Ind1.stVal[ST]", "IED1LD1/GGIO1[MX]"};
    if (i61_model_add_dataset(m, "IED1LD1/LLN0.Events", ds, 4))
        abort();
    static const char *const ds2[] = {"IED1LD1/GGIO1.Arr.v[MX]"};
    if (i61_model_add_dataset(m, "IED1LD1/LLN0.Arr", ds2, 1))
        abort();
    if (i61_model_add_log(m, "IED1LD1/LLN0", "EventLog", 20) ||
        i61_model_add_log(m, "IED1LD1/GGIO1", "G", 3))
        abort();
    i61_lcb_config c = {0};
    c.dataset = "IED1LD1/LLN0$Events";
    c.log_ref = "IED1LD1/LLN0$EventLog";
    c.trg_ops = 0x1f;
    c.intg_pd = 50;
    c.log_ena = 1;
    c.reason_code = 1;
    if (i61_model_add_lcb(m, "IED1LD1/LLN0", "EventLog", &c))
        abort();
    c.log_ref = "IED1LD1/GGIO1.G";
    c.reason_code = 0;
    c.log_ena = 0;
    if (i61_model_add_lcb(m, "IED1LD1/GGIO1", "G", &c))
        abort();
    return m;
}

static const char *const attrs[] = {"LogEna", "LogRef", "DatSet", "OldEntrTm", "NewEntrTm",
                                    "OldEnt", "NewEnt", "TrgOps", "IntgPd"};

static i61_value *mkval(const uint8_t *p, size_t n)
{
    uint8_t k = n ? p[0] : 0;
    uint32_t x = n > 1 ? p[1] : 0;
    static const char *const strs[] = {"IED1LD1/LLN0$Events", "IED1LD1/LLN0.Arr",
                                       "IED1LD1/LLN0$EventLog", "IED1LD1/GGIO1$G", "",
                                       "IED1LD1/LLN0$No", "/x", "@aa", "a/b.c$d"};
    switch (k % 8) {
    case 0:
        return i61_value_new_boolean(x & 1);
    case 1:
        return i61_value_new_unsigned_sized(x * 3, 32);
    case 2: {
        uint8_t b[2] = {(uint8_t)x, (uint8_t)(x * 5)};
        return i61_value_new_bit_string((int)(x % 12), b);
    }
    case 3:
        return i61_value_new_visible_string(strs[x % 9]);
    case 4: {
        uint8_t b[8] = {0};
        if (n > 9)
            memcpy(b, p + 2, 8);
        return i61_value_new_octet_string(b, x % 9);
    }
    case 5:
        return i61_value_new_integer((int)x - 100);
    case 6: {
        uint8_t t[6] = {0};
        return i61_value_new_binary_time(t, 6);
    }
    default:
        return i61_value_new_float((float)x);
    }
}

static void assoc(i61_sconn *c, i61_server *s, uint32_t id, uint32_t pdu)
{
    i61_sconn_init(c, s, id, false);
    snprintf(c->peer, sizeof c->peer, "10.0.0.%u:1", (unsigned)id % 200);
    c->state = I61_SC_ASSOCIATED;
    c->max_pdu = pdu;
    c->tpdu_size = 8192;
}

static void read_journal(i61_sconn *c, i61_buf *b, const uint8_t *p, size_t n)
{
    i61_mms_journal_req q;
    memset(&q, 0, sizeof q);
    uint8_t f = n ? p[0] : 0;
    q.journal.scope = (f & 0x40) ? I61_MMS_SCOPE_VMD : I61_MMS_SCOPE_DOMAIN;
    if (q.journal.scope == I61_MMS_SCOPE_DOMAIN)
        strcpy(q.journal.domain, (f & 0x80) ? "IED1LD2" : "IED1LD1");
    strcpy(q.journal.item, (f & 0x20) ? "GGIO1$G" : "LLN0$EventLog");
    int64_t base = (int64_t)1700000000000LL;
    int64_t t1 = base + (n > 1 ? (int64_t)p[1] * 86400000LL * 365 : 0);
    int64_t t2 = base + (n > 2 ? (int64_t)p[2] * 86400000LL * 365 : 0);
    if (f & 1) {
        q.has_start_time = true;
        q.start_ms = t1;
    } else if (f & 2) {
        q.has_start_entry = true;
        q.start_entry_len = n > 3 ? p[3] % 10 : 8;
        memset(q.start_entry, 0, sizeof q.start_entry);
        if (q.start_entry_len)
            q.start_entry[q.start_entry_len - 1] = n > 4 ? p[4] : 1;
    }
    if (f & 4) {
        q.has_end_time = true;
        q.end_ms = t2;
    } else if (f & 8) {
        q.has_num_entries = true;
        q.num_entries = n > 5 ? (int32_t)p[5] - 10 : 3;
    }
    if (f & 16) {
        q.has_after = true;
        q.after_ms = t1;
        q.after_entry_len = n > 6 ? p[6] % 12 : 8;
        memset(q.after_entry, n > 7 ? p[7] : 0, sizeof q.after_entry);
        if (q.after_entry_len > 0)
            q.after_entry[q.after_entry_len - 1] = n > 4 ? p[4] : 2;
    }
    i61_buf_reset(b);
    if (i61_mms_enc_read_journal_req(b, 7, &q) == 0)
        i61_srv_mms_pdu(c, b->data, b->len);
}

/* A confirmed request with a raw fuzzed ReadJournal body (bf 41 ...). */
static void raw_journal(i61_sconn *c, i61_buf *b, const uint8_t *p, size_t n)
{
    i61_buf_reset(b);
    size_t mk = i61_ber_open(b, 0xa0);
    i61_ber_put_uint64(b, 0x02, 5);
    size_t body = i61_ber_open(b, 0xbf41);
    i61_buf_put(b, p, n);
    i61_ber_close(b, body);
    i61_ber_close(b, mk);
    if (!b->oom)
        i61_srv_mms_pdu(c, b->data, b->len);
    b->oom = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    i61_server *s = i61_server_new(mk());
    i61_srv_log_activate(s);
    i61_sconn c[2];
    assoc(&c[0], s, 1, 200);
    assoc(&c[1], s, 2, 2000);
    uint64_t now = i61_mono_ms();
    i61_buf b;
    i61_buf_init(&b);
    static uint8_t exp[4096];
    size_t i = 0;
    while (i + 3 <= size) {
        uint8_t op = data[i], a1 = data[i + 1], a2 = data[i + 2];
        i += 3;
        int ci = op & 1;
        switch ((op >> 1) % 9) {
        case 0:
        case 1: {
            i61_mms_var v;
            memset(&v, 0, sizeof v);
            v.name.scope = I61_MMS_SCOPE_DOMAIN;
            strcpy(v.name.domain, "IED1LD1");
            snprintf(v.name.item, sizeof v.name.item, "%s$LG$%s$%s",
                     (a1 & 1) ? "GGIO1" : "LLN0", (a1 & 1) ? "G" : "EventLog",
                     attrs[(a1 >> 1) % 9]);
            size_t vl = size - i < 12 ? size - i : 12;
            i61_value *val = mkval(data + i, vl);
            i += vl;
            i61_mms_access_spec spec = {false, {0}, &v, 1};
            const i61_value *vals[1] = {val};
            i61_buf_reset(&b);
            if (val && i61_mms_enc_write_req(&b, 1, &spec, vals, 1) == 0)
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
            if (a2 & 2) {
                v = i61_value_new_integer(a1);
                i61_model_set_value(i61_server_model(s), "IED1LD1/GGIO1.Arr.v", I61_FC_MX, v);
                i61_value_free(v);
            }
            break;
        }
        case 3:
            now += (uint64_t)a1 * 2;
            i61_srv_log_run(s, now);
            break;
        case 4: {
            size_t vl = size - i < (size_t)(a1 % 24) ? size - i : (size_t)(a1 % 24);
            read_journal(&c[ci], &b, data + i, vl);
            i += vl;
            break;
        }
        case 5: {
            size_t vl = size - i < (size_t)a1 ? size - i : (size_t)a1;
            raw_journal(&c[ci], &b, data + i, vl);
            i += vl;
            break;
        }
        case 6: {
            i61_buf_reset(&b);
            if (i61_mms_enc_get_name_list_req(&b, 3, I61_MMS_CLASS_JOURNAL, I61_MMS_SCOPE_DOMAIN,
                                              (a1 & 1) ? "IED1LD1" : "X",
                                              (a1 & 2) ? "GGIO1$G" : NULL) == 0)
                i61_srv_mms_pdu(&c[ci], b.data, b.len);
            i61_mms_var v;
            memset(&v, 0, sizeof v);
            v.name.scope = I61_MMS_SCOPE_DOMAIN;
            strcpy(v.name.domain, "IED1LD1");
            strcpy(v.name.item, (a2 & 1) ? "LLN0$LG$EventLog" : "LLN0");
            i61_mms_access_spec spec = {false, {0}, &v, 1};
            i61_buf_reset(&b);
            if (i61_mms_enc_read_req(&b, 2, false, &spec) == 0)
                i61_srv_mms_pdu(&c[ci], b.data, b.len);
            break;
        }
        case 7: {
            const char *ref = (a1 & 1) ? "IED1LD1/GGIO1$G" : "IED1LD1/LLN0.EventLog";
            size_t used = 0, n = 0;
            uint64_t last = 0;
            size_t cap = (size_t)a2 * 16 < sizeof exp ? (size_t)a2 * 16 : sizeof exp;
            i61_server_log_export(s, ref, a1 >> 1, exp, cap, &used, &n, &last);
            i61_log_info info;
            i61_server_log_info(s, ref, &info);
            i61_server_set_log_events(s, ref, a2 & 1, NULL);
            break;
        }
        default: {
            /* import fuzzed octets, or what an export gave (ids moved) */
            size_t vl = size - i < (size_t)a1 ? size - i : (size_t)a1;
            size_t n = 0;
            if (a2 & 1) {
                i61_server_log_import(s, (a2 & 2) ? "IED1LD1/GGIO1$G" : "IED1LD1/LLN0$EventLog",
                                      data + i, vl, &n);
            } else {
                size_t used = 0, cnt = 0;
                uint64_t last = 0;
                i61_server_log_export(s, "IED1LD1/LLN0$EventLog", 0, exp, sizeof exp, &used,
                                      &cnt, &last);
                i61_server_log_import(s, "IED1LD1/GGIO1$G", exp, used, &n);
            }
            i += vl;
            break;
        }
        }
        for (int k = 0; k < 2; k++)
            i61_sconn_consume_out(&c[k], c[k].out.len);
        /* drain queued log events */
        i61_server_event *e = NULL;
        while (i61_server_next_event(s, 0, &e) == I61_OK)
            i61_server_event_free(e);
    }
    i61_srv_log_run(s, now + 100000);
    for (int k = 0; k < 2; k++) {
        i61_srv_conn_gone(s, &c[k]);
        i61_sconn_free(&c[k]);
    }
    i61_buf_free(&b);
    i61_server_free(s);
    return 0;
}
