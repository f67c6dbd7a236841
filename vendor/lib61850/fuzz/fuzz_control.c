/* libFuzzer target: the control model codec (mms/mms_control.h) and the
 * client's reception of control reports.
 *
 * Input: one MMS PDU, or a whole golden TPKT frame (03 00 ...), whose MMS PDU
 * is used, so the golden frames seed this target directly (097, 104 and 106
 * are control reports, 091-105 carry command structures).
 *
 *  - A control report that decodes is encoded again from its content; that
 *    must decode to the same content and encode to the same octets.
 *  - Its Oper structure, and the value of a Write request if the input is
 *    one, go through i61_ctl_parse; a structure that parses is built again
 *    from the parsed parameters and must parse to the same parameters.
 *  - Every BER element of the input is fed to a client's unconfirmed-PDU
 *    handler as the I/O thread would, and the control events queued are
 *    checked and freed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_internal.h"
#include "mms/mms_control.h"
#include "mms/mms_data.h"
#include "mms/mms_pdu.h"

/* MMS PDU inside TPKT / COTP DT / session GT+DT / presentation user data. */
static int i61_fz_unwrap(const uint8_t **p, size_t *len)
{
    const uint8_t *d = *p;
    size_t n = *len;
    if (n < 8 || d[0] != 0x03 || d[1] != 0x00)
        return 0;
    size_t pos = 4 + 1 + (size_t)d[4] + 4;
    if (pos >= n)
        return -1;
    i61_ber_tlv t, c;
    i61_ber_reader r;
    if (i61_ber_parse(d + pos, n - pos, &t, NULL) != I61_BER_OK || t.id != 0x61)
        return -1;
    i61_ber_reader_sub(&r, &t);
    if (i61_ber_next(&r, &t) != I61_BER_OK || t.id != 0x30)
        return -1;
    i61_ber_reader_sub(&r, &t);
    if (i61_ber_next(&r, &c) != I61_BER_OK || c.id != 0x02)
        return -1;
    if (i61_ber_next(&r, &c) != I61_BER_OK || c.id != 0xa0)
        return -1;
    *p = c.val;
    *len = c.len;
    return 0;
}

static void i61_fz_same_cmd(const i61_ctl_cmd *a, const i61_ctl_cmd *b)
{
    if (a->has_oper_tm != b->has_oper_tm || (a->has_oper_tm && memcmp(a->oper_tm, b->oper_tm, 8)) ||
        a->or_cat != b->or_cat || a->or_ident_len != b->or_ident_len ||
        (a->or_ident_len && memcmp(a->or_ident, b->or_ident, a->or_ident_len)) ||
        a->ctl_num != b->ctl_num || memcmp(a->t, b->t, 8) != 0 || a->test != b->test ||
        a->has_check != b->has_check || a->synchro_check != b->synchro_check ||
        a->interlock_check != b->interlock_check)
        abort();
    i61_buf x, y;
    i61_buf_init(&x);
    i61_buf_init(&y);
    if (i61_mms_data_encode(&x, a->ctl_val) != 0 || i61_mms_data_encode(&y, b->ctl_val) != 0 ||
        x.len != y.len || memcmp(x.data, y.data, x.len) != 0)
        abort();
    i61_buf_free(&x);
    i61_buf_free(&y);
}

/* Parse, build again, parse again. */
static void i61_fz_command(const i61_value *v)
{
    i61_ctl_cmd p;
    if (i61_ctl_parse(v, &p) != I61_OK)
        return;
    /* a BinaryTime T came back converted: the rebuilt value has a UtcTime */
    i61_value *again = NULL;
    int which = p.has_check ? I61_CTL_OPER : I61_CTL_CANCEL;
    if (i61_ctl_build(which, &p, &again) != I61_OK)
        abort();
    i61_ctl_cmd q;
    if (i61_ctl_parse(again, &q) != I61_OK)
        abort();
    i61_fz_same_cmd(&p, &q);
    i61_value_free(again);
}

static void i61_fz_report(const uint8_t *pdu, size_t len)
{
    (void)i61_mms_is_control_report(pdu, len);
    i61_ctl_rpt r;
    if (i61_mms_decode_control_report(pdu, len, &r) != I61_OK) {
        if (r.oper_value)
            abort();                          /* failure leaves nothing behind */
        i61_mms_control_report_clear(&r);
        return;
    }
    if (!i61_mms_is_control_report(pdu, len) ||
        (r.kind == I61_CTL_RPT_LAST_APPL_ERROR) != (r.oper_value == NULL) ||
        !memchr(r.lae.control_object, 0, sizeof r.lae.control_object))
        abort();
    i61_buf a, b;
    i61_buf_init(&a);
    i61_buf_init(&b);
    int rc = r.kind == I61_CTL_RPT_LAST_APPL_ERROR
                 ? i61_mms_encode_last_appl_error(&a, &r.lae)
                 : i61_mms_encode_cmd_term(&a, r.oper.domain, r.oper.item, r.oper_value,
                                           r.kind == I61_CTL_RPT_TERM_NEG ? &r.lae : NULL);
    if (rc != I61_OK)
        abort();                              /* what decodes, encodes */
    i61_ctl_rpt r2;
    if (i61_mms_decode_control_report(a.data, a.len, &r2) != I61_OK || r2.kind != r.kind ||
        memcmp(&r2.lae, &r.lae, sizeof r.lae) != 0 ||
        strcmp(r2.oper.domain, r.oper.domain) != 0 || strcmp(r2.oper.item, r.oper.item) != 0)
        abort();
    rc = r2.kind == I61_CTL_RPT_LAST_APPL_ERROR
             ? i61_mms_encode_last_appl_error(&b, &r2.lae)
             : i61_mms_encode_cmd_term(&b, r2.oper.domain, r2.oper.item, r2.oper_value,
                                       r2.kind == I61_CTL_RPT_TERM_NEG ? &r2.lae : NULL);
    if (rc != I61_OK || a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
        abort();
    if (r.oper_value)
        i61_fz_command(r.oper_value);
    i61_mms_control_report_clear(&r2);
    i61_buf_free(&a);
    i61_buf_free(&b);
    i61_mms_control_report_clear(&r);
}

/* The value of a one-variable Write request (091, 093, ...). */
static void i61_fz_write(const uint8_t *pdu, size_t len)
{
    i61_mms_request rq;
    if (i61_mms_dec_request(pdu, len, &rq) != I61_OK || rq.service != I61_MMS_SVC_WRITE)
        return;
    i61_mms_access_spec spec;
    i61_value **vals = NULL;
    size_t n = 0;
    if (i61_mms_dec_write_req(&rq, &spec, &vals, &n) == I61_OK) {
        for (size_t i = 0; i < n && i < 4; i++)
            i61_fz_command(vals[i]);
        i61_mms_values_free(vals, n);
    }
    i61_mms_access_spec_clear(&spec);
}

/* The client's handler, as the I/O thread calls it; one client per run. */
static void i61_fz_reception(const uint8_t *p, size_t len)
{
    static i61_client *c;
    if (!c && !(c = i61_client_new()))
        abort();
    size_t pos = 0;
    for (int k = 0; k < 64 && pos < len; k++) {
        i61_ber_tlv t;
        size_t used;
        if (i61_ber_parse(p + pos, len - pos, &t, &used) != I61_BER_OK)
            break;
        i61_client_on_unconfirmed(c, p + pos, used);
        pos += used;
    }
    i61_ctl_event *out[16];
    size_t n;
    while (i61_client_next_control_events(c, 0, out, 16, &n) == I61_OK) {
        for (size_t i = 0; i < n; i++) {
            i61_ctl_event *e = out[i];
            i61_last_appl_error lae;
            const char *ref = i61_ctl_event_reference(e);
            if (!ref || !strchr(ref, '/') || strchr(ref, '$') ||
                i61_value_type(i61_ctl_event_oper(e)) != I61_TYPE_STRUCTURE ||
                !i61_ctl_event_ctl_val(e) ||
                i61_ctl_event_last_appl_error(e, &lae) == i61_ctl_event_success(e))
                abort();
            i61_ctl_event_free(e);
        }
    }
    /* drop reports the same input may have queued */
    i61_report *rp[16];
    while (i61_client_next_reports(c, 0, rp, 16, &n) == I61_OK)
        for (size_t i = 0; i < n; i++)
            i61_report_free(rp[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *pdu = data;
    size_t len = size;
    if (i61_fz_unwrap(&pdu, &len) != 0)
        return 0;
    i61_fz_reception(pdu, len);
    i61_fz_report(pdu, len);
    i61_fz_write(pdu, len);
    return 0;
}
