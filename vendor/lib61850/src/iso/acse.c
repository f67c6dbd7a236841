/* ACSE APDUs: see acse.h. */
#include "acse.h"

#include <string.h>

#define MALFORMED I61_ERR_MALFORMED_MESSAGE

const uint8_t i61_oid_mms_context[5] = { 0x28, 0xca, 0x22, 0x02, 0x03 };
const uint8_t i61_oid_auth_password[3] = { 0x52, 0x03, 0x01 };

void i61_acse_init(i61_acse_apdu *a, uint8_t type)
{
    memset(a, 0, sizeof *a);
    a->type = type;
    a->reason = -1;
    a->abort_source = -1;
    a->abort_diag = -1;
}

void i61_acse_init_aarq_default(i61_acse_apdu *a)
{
    static const uint8_t called[5] = { 0x29, 0x01, 0x87, 0x67, 0x01 };   /* 1.1.1.999.1 */
    static const uint8_t calling[4] = { 0x29, 0x01, 0x87, 0x67 };        /* 1.1.1.999 */
    i61_acse_init(a, I61_ACSE_AARQ);
    memcpy(a->app_ctx, i61_oid_mms_context, sizeof i61_oid_mms_context);
    a->app_ctx_len = sizeof i61_oid_mms_context;
    a->called.has_ap_title = 1;
    memcpy(a->called.ap_title, called, sizeof called);
    a->called.ap_title_len = sizeof called;
    a->called.has_ae_qualifier = 1;
    a->called.ae_qualifier = 12;
    a->calling.has_ap_title = 1;
    memcpy(a->calling.ap_title, calling, sizeof calling);
    a->calling.ap_title_len = sizeof calling;
    a->calling.has_ae_qualifier = 1;
    a->calling.ae_qualifier = 12;
    a->ui_ctx = I61_PRES_CTX_MMS;
}

/* ---------------------------------------------------------------- writer */

static void i61_acse_put_oid_explicit(i61_buf *b, i61_ber_id id, const uint8_t *oid, size_t len)
{
    size_t m = i61_ber_open(b, id);
    i61_ber_put_tlv(b, 0x06, oid, len);
    i61_ber_close(b, m);
}

static void i61_acse_put_int_explicit(i61_buf *b, i61_ber_id id, int64_t v)
{
    size_t m = i61_ber_open(b, id);
    i61_ber_put_int64(b, 0x02, v);
    i61_ber_close(b, m);
}

static void i61_acse_put_ap(i61_buf *b, const i61_acse_ap *ap, i61_ber_id title, i61_ber_id qual)
{
    if (ap->has_ap_title)
        i61_acse_put_oid_explicit(b, title, ap->ap_title, ap->ap_title_len);
    if (ap->has_ae_qualifier)
        i61_acse_put_int_explicit(b, qual, ap->ae_qualifier);
}

static void i61_acse_put_auth(i61_buf *b, const i61_acse_apdu *a, i61_ber_id req, i61_ber_id mech,
                              i61_ber_id val)
{
    static const uint8_t auth_bit[2] = { 0x07, 0x80 };   /* BIT STRING {authentication (0)} */
    i61_ber_put_tlv(b, req, auth_bit, sizeof auth_bit);
    i61_ber_put_tlv(b, mech, a->mechanism, a->mechanism_len);
    size_t m = i61_ber_open(b, val);
    i61_ber_put_tlv(b, 0x80, a->password, a->password_len);
    i61_ber_close(b, m);
}

static void i61_acse_put_user_info(i61_buf *b, const i61_acse_apdu *a)
{
    size_t mu = i61_ber_open(b, 0xbe);
    size_t me = i61_ber_open(b, 0x28);
    i61_ber_put_int64(b, 0x02, a->ui_ctx);
    size_t mv = i61_ber_open(b, 0xa0);
    i61_buf_put(b, a->user_info, a->user_info_len);
    i61_ber_close(b, mv);
    i61_ber_close(b, me);
    i61_ber_close(b, mu);
}

static int i61_acse_check_ap(const i61_acse_ap *ap)
{
    return ap->has_ap_title && (ap->ap_title_len == 0 || ap->ap_title_len > I61_OID_MAX) ? -1 : 0;
}

int i61_acse_write(i61_buf *b, const i61_acse_apdu *a)
{
    if (a->app_ctx_len > I61_OID_MAX || i61_acse_check_ap(&a->called) || i61_acse_check_ap(&a->calling) ||
        (a->has_auth && (a->mechanism_len == 0 || a->mechanism_len > I61_OID_MAX ||
                         (a->password_len && !a->password))) ||
        (a->user_info && a->ui_ctx <= 0))
        return I61_ERR_INVALID_ARGUMENT;
    size_t m;
    switch (a->type) {
    case I61_ACSE_AARQ:
        if (a->app_ctx_len == 0)
            return I61_ERR_INVALID_ARGUMENT;
        m = i61_ber_open(b, 0x60);
        i61_acse_put_oid_explicit(b, 0xa1, a->app_ctx, a->app_ctx_len);
        i61_acse_put_ap(b, &a->called, 0xa2, 0xa3);
        i61_acse_put_ap(b, &a->calling, 0xa6, 0xa7);
        if (a->has_auth)
            i61_acse_put_auth(b, a, 0x8a, 0x8b, 0xac);
        if (a->user_info)
            i61_acse_put_user_info(b, a);
        i61_ber_close(b, m);
        break;
    case I61_ACSE_AARE: {
        if (a->app_ctx_len == 0 || a->result < 0 || a->result > 2 ||
            (a->diag_source != I61_ACSE_DIAG_USER && a->diag_source != I61_ACSE_DIAG_PROVIDER))
            return I61_ERR_INVALID_ARGUMENT;
        m = i61_ber_open(b, 0x61);
        i61_acse_put_oid_explicit(b, 0xa1, a->app_ctx, a->app_ctx_len);
        i61_acse_put_int_explicit(b, 0xa2, a->result);
        size_t md = i61_ber_open(b, 0xa3);
        i61_acse_put_int_explicit(b, a->diag_source == I61_ACSE_DIAG_USER ? 0xa1 : 0xa2, a->diag);
        i61_ber_close(b, md);
        i61_acse_put_ap(b, &a->called, 0xa4, 0xa5);
        if (a->has_auth)
            i61_acse_put_auth(b, a, 0x88, 0x89, 0xaa);
        if (a->user_info)
            i61_acse_put_user_info(b, a);
        i61_ber_close(b, m);
        break;
    }
    case I61_ACSE_RLRQ:
    case I61_ACSE_RLRE:
        m = i61_ber_open(b, a->type);
        if (a->reason >= 0)
            i61_ber_put_int64(b, 0x80, a->reason);
        if (a->user_info)
            i61_acse_put_user_info(b, a);
        i61_ber_close(b, m);
        break;
    case I61_ACSE_ABRT:
        if (a->abort_source < 0 || a->abort_source > 1)
            return I61_ERR_INVALID_ARGUMENT;
        m = i61_ber_open(b, 0x64);
        i61_ber_put_int64(b, 0x80, a->abort_source);
        if (a->abort_diag >= 0)
            i61_ber_put_int64(b, 0x81, a->abort_diag);
        if (a->user_info)
            i61_acse_put_user_info(b, a);
        i61_ber_close(b, m);
        break;
    default:
        return I61_ERR_INVALID_ARGUMENT;
    }
    return b->oom ? I61_ERR_UNKNOWN : I61_OK;
}

/* ---------------------------------------------------------------- reader */

/* The single element inside an explicit tag. */
static int i61_acse_inner(const i61_ber_tlv *e, i61_ber_tlv *in)
{
    size_t used;
    if (!e->constructed || i61_ber_parse(e->val, e->len, in, &used) != I61_BER_OK || used != e->len)
        return MALFORMED;
    return I61_OK;
}

static int i61_acse_get_oid(const i61_ber_tlv *e, uint8_t *out, size_t *len)
{
    i61_ber_tlv in;
    if (i61_acse_inner(e, &in) != I61_OK || in.id != 0x06 || in.len == 0 || in.len > I61_OID_MAX)
        return MALFORMED;
    memcpy(out, in.val, in.len);
    *len = in.len;
    return I61_OK;
}

static int i61_acse_get_int(const i61_ber_tlv *e, int32_t *v)
{
    i61_ber_tlv in;
    if (i61_acse_inner(e, &in) != I61_OK || in.id != 0x02 || i61_ber_get_int32(&in, v) != 0)
        return MALFORMED;
    return I61_OK;
}

/* AP-title / AE-qualifier: form 2 is decoded; form 1 (directory names) is
 * accepted and ignored. */
static int i61_acse_ap_title(const i61_ber_tlv *e, i61_acse_ap *ap)
{
    i61_ber_tlv in;
    if (i61_acse_inner(e, &in) != I61_OK)
        return MALFORMED;
    if (in.id != 0x06)
        return I61_OK;
    if (in.len == 0 || in.len > I61_OID_MAX)
        return MALFORMED;
    memcpy(ap->ap_title, in.val, in.len);
    ap->ap_title_len = in.len;
    ap->has_ap_title = 1;
    return I61_OK;
}

static int i61_acse_ae_qual(const i61_ber_tlv *e, i61_acse_ap *ap)
{
    i61_ber_tlv in;
    if (i61_acse_inner(e, &in) != I61_OK)
        return MALFORMED;
    if (in.id != 0x02)
        return I61_OK;
    if (i61_ber_get_int32(&in, &ap->ae_qualifier) != 0)
        return MALFORMED;
    ap->has_ae_qualifier = 1;
    return I61_OK;
}

static int i61_acse_user_info(const i61_ber_tlv *e, i61_acse_apdu *a)
{
    i61_ber_reader r, rx;
    i61_ber_tlv x, f;
    int rc;
    if (a->user_info)
        return MALFORMED;
    i61_ber_reader_sub(&r, e);
    if (i61_ber_next(&r, &x) != I61_BER_OK || x.id != 0x28)
        return MALFORMED;
    int have_ref = 0;
    i61_ber_reader_sub(&rx, &x);
    while ((rc = i61_ber_next(&rx, &f)) == I61_BER_OK) {
        if (f.id == 0x06 || f.id == 0x07) {
            continue;                          /* direct-reference, data-value-descriptor */
        } else if (f.id == 0x02 && !have_ref) {
            if (i61_ber_get_int32(&f, &a->ui_ctx) != 0)
                return MALFORMED;
            have_ref = 1;
        } else if ((f.id == 0xa0 || f.id == 0x81) && !a->user_info) {
            a->user_info = f.val;
            a->user_info_len = f.len;
        } else {
            return MALFORMED;
        }
    }
    if (rc == I61_BER_ERR || !a->user_info)
        return MALFORMED;
    /* further EXTERNALs are ignored */
    return I61_OK;
}

static int i61_acse_auth_value(const i61_ber_tlv *e, i61_acse_apdu *a)
{
    i61_ber_tlv in;
    if (i61_acse_inner(e, &in) != I61_OK)
        return MALFORMED;
    if (in.id != 0x80)
        return I61_OK;                         /* bitstring / external / other: not used */
    if (in.len > I61_ACSE_PASSWORD_MAX)
        return MALFORMED;
    a->password = in.val;
    a->password_len = in.len;
    a->has_auth = 1;
    return I61_OK;
}

static int i61_acse_small_int(const i61_ber_tlv *e, int *out)
{
    int32_t v;
    if (e->constructed || i61_ber_get_int32(e, &v) != 0 || v < 0)
        return MALFORMED;
    *out = v;
    return I61_OK;
}

int i61_acse_decode(const uint8_t *p, size_t len, i61_acse_apdu *a)
{
    i61_ber_tlv t, e;
    i61_ber_reader r;
    size_t used;
    int rc;
    i61_acse_init(a, 0);
    a->result = -1;
    if (i61_ber_parse(p, len, &t, &used) != I61_BER_OK || used != len || t.id < 0x60 || t.id > 0x64)
        return MALFORMED;
    a->type = (uint8_t)t.id;
    i61_ber_reader_sub(&r, &t);
    while ((rc = i61_ber_next(&r, &e)) == I61_BER_OK) {
        int r2 = I61_OK;
        if (e.id == 0xbe) {
            r2 = i61_acse_user_info(&e, a);
        } else if (a->type == I61_ACSE_AARQ) {
            switch (e.id) {
            case 0x80: break;                                         /* protocol-version */
            case 0xa1: r2 = i61_acse_get_oid(&e, a->app_ctx, &a->app_ctx_len); break;
            case 0xa2: r2 = i61_acse_ap_title(&e, &a->called); break;
            case 0xa3: r2 = i61_acse_ae_qual(&e, &a->called); break;
            case 0xa4: case 0xa5: case 0xa8: case 0xa9: break;        /* invocation ids */
            case 0xa6: r2 = i61_acse_ap_title(&e, &a->calling); break;
            case 0xa7: r2 = i61_acse_ae_qual(&e, &a->calling); break;
            case 0x8a: break;                                         /* sender-acse-requirements */
            case 0x8b:
                if (e.len == 0 || e.len > I61_OID_MAX) { r2 = MALFORMED; break; }
                memcpy(a->mechanism, e.val, e.len);
                a->mechanism_len = e.len;
                break;
            case 0xac: r2 = i61_acse_auth_value(&e, a); break;
            case 0xbd: case 0x9d: break;                              /* implementation-information */
            default: r2 = MALFORMED; break;
            }
        } else if (a->type == I61_ACSE_AARE) {
            int32_t v = 0;
            i61_ber_tlv d;
            switch (e.id) {
            case 0x80: break;
            case 0xa1: r2 = i61_acse_get_oid(&e, a->app_ctx, &a->app_ctx_len); break;
            case 0xa2:
                r2 = i61_acse_get_int(&e, &v);
                if (r2 == I61_OK && (v < 0 || v > 2))
                    r2 = MALFORMED;
                a->result = v;
                break;
            case 0xa3:
                r2 = i61_acse_inner(&e, &d);
                if (r2 == I61_OK && (d.id == 0xa1 || d.id == 0xa2)) {
                    r2 = i61_acse_get_int(&d, &v);
                    a->diag_source = d.id == 0xa1 ? I61_ACSE_DIAG_USER : I61_ACSE_DIAG_PROVIDER;
                    a->diag = v;
                } else {
                    r2 = MALFORMED;
                }
                break;
            case 0xa4: r2 = i61_acse_ap_title(&e, &a->called); break;
            case 0xa5: r2 = i61_acse_ae_qual(&e, &a->called); break;
            case 0xa6: case 0xa7: break;
            case 0x88: break;
            case 0x89:
                if (e.len == 0 || e.len > I61_OID_MAX) { r2 = MALFORMED; break; }
                memcpy(a->mechanism, e.val, e.len);
                a->mechanism_len = e.len;
                break;
            case 0xaa: r2 = i61_acse_auth_value(&e, a); break;
            case 0xbd: case 0x9d: break;
            default: r2 = MALFORMED; break;
            }
        } else if (a->type == I61_ACSE_RLRQ || a->type == I61_ACSE_RLRE) {
            if (e.id == 0x80)
                r2 = i61_acse_small_int(&e, &a->reason);
            else
                r2 = MALFORMED;
        } else if (a->type == I61_ACSE_ABRT) {
            if (e.id == 0x80)
                r2 = i61_acse_small_int(&e, &a->abort_source);
            else if (e.id == 0x81)
                r2 = i61_acse_small_int(&e, &a->abort_diag);
            else
                r2 = MALFORMED;
        } else {
            r2 = MALFORMED;
        }
        if (r2 != I61_OK)
            return MALFORMED;
    }
    if (rc == I61_BER_ERR)
        return MALFORMED;
    if (a->type == I61_ACSE_AARQ && a->app_ctx_len == 0)
        return MALFORMED;
    if (a->type == I61_ACSE_AARE && (a->app_ctx_len == 0 || a->result < 0 || a->diag_source == 0))
        return MALFORMED;
    if (a->type == I61_ACSE_ABRT && a->abort_source < 0)
        return MALFORMED;
    if (a->has_auth && a->type == I61_ACSE_AARQ && a->mechanism_len == 0)
        a->has_auth = 0;
    return I61_OK;
}
