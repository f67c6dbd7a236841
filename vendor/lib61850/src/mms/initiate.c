/* MMS Initiate and Conclude PDUs: see initiate.h. */
#include "initiate.h"

#include <string.h>

#define MALFORMED I61_ERR_MALFORMED_MESSAGE

static const uint8_t i61_cbb_61850[2] = { 0xf1, 0x00 };
static const uint8_t i61_services_client[11] = { 0xee, 0x1c, 0x00, 0x00, 0x04, 0x08,
                                                 0x00, 0x00, 0x79, 0xef, 0x18 };
static const uint8_t i61_services_server[11] = { 0xee, 0x1c, 0x00, 0x00, 0x00, 0x02,
                                                 0x00, 0x00, 0x40, 0xed, 0x18 };

static void i61_initiate_init(i61_initiate *i, const uint8_t *services)
{
    memset(i, 0, sizeof *i);
    i->has_local_detail = 1;
    i->local_detail = 65000;
    i->max_serv_outstanding_calling = 5;
    i->max_serv_outstanding_called = 5;
    i->has_nesting_level = 1;
    i->nesting_level = 10;
    i->version = 1;
    memcpy(i->param_cbb, i61_cbb_61850, sizeof i61_cbb_61850);
    i->param_cbb_bits = 11;
    memcpy(i->services, services, I61_MMS_SERVICES_OCTETS);
    i->services_bits = 85;
}

void i61_initiate_init_client(i61_initiate *i)
{
    i61_initiate_init(i, i61_services_client);
}

void i61_initiate_init_server(i61_initiate *i)
{
    i61_initiate_init(i, i61_services_server);
}

static int32_t i61_min32(int32_t a, int32_t b)
{
    return a < b ? a : b;
}

int i61_initiate_negotiate(const i61_initiate *req, const i61_initiate *server, i61_initiate *resp)
{
    if (req->version < 1)
        return I61_MMS_INIT_ERR_VERSION;
    if (req->max_serv_outstanding_calling < 1)
        return I61_MMS_INIT_ERR_MAX_CALLING;
    if (req->max_serv_outstanding_called < 1)
        return I61_MMS_INIT_ERR_MAX_CALLED;
    *resp = *server;
    if (req->has_local_detail)
        resp->local_detail = server->has_local_detail ? i61_min32(req->local_detail, server->local_detail)
                                                      : req->local_detail;
    resp->has_local_detail = req->has_local_detail || server->has_local_detail;
    resp->max_serv_outstanding_calling =
        i61_min32(req->max_serv_outstanding_calling, server->max_serv_outstanding_calling);
    resp->max_serv_outstanding_called =
        i61_min32(req->max_serv_outstanding_called, server->max_serv_outstanding_called);
    if (req->has_nesting_level)
        resp->nesting_level = server->has_nesting_level ? i61_min32(req->nesting_level, server->nesting_level)
                                                        : req->nesting_level;
    resp->has_nesting_level = req->has_nesting_level || server->has_nesting_level;
    resp->version = i61_min32(req->version, server->version);
    for (int k = 0; k < I61_MMS_CBB_OCTETS; k++)
        resp->param_cbb[k] = (uint8_t)(req->param_cbb[k] & server->param_cbb[k]);
    resp->param_cbb_bits = server->param_cbb_bits;
    return I61_OK;
}

/* ---------------------------------------------------------------- writer */

static void i61_put_bits(i61_buf *b, i61_ber_id id, const uint8_t *v, int bits)
{
    size_t n = (size_t)(bits + 7) / 8;
    uint8_t o[1 + I61_MMS_SERVICES_OCTETS];
    o[0] = (uint8_t)((8 - bits % 8) % 8);
    memcpy(o + 1, v, n);
    if (n)
        o[n] &= (uint8_t)(0xff << o[0]);    /* unused bits are zero */
    i61_ber_put_tlv(b, id, o, n + 1);
}

static int i61_initiate_write(i61_buf *b, i61_ber_id tag, const i61_initiate *i)
{
    if (i->param_cbb_bits < 0 || i->param_cbb_bits > 8 * I61_MMS_CBB_OCTETS ||
        i->services_bits < 0 || i->services_bits > 8 * I61_MMS_SERVICES_OCTETS ||
        i->max_serv_outstanding_calling < 0 || i->max_serv_outstanding_called < 0)
        return I61_ERR_INVALID_ARGUMENT;
    size_t m = i61_ber_open(b, tag);
    if (i->has_local_detail)
        i61_ber_put_int64(b, 0x80, i->local_detail);
    i61_ber_put_int64(b, 0x81, i->max_serv_outstanding_calling);
    i61_ber_put_int64(b, 0x82, i->max_serv_outstanding_called);
    if (i->has_nesting_level)
        i61_ber_put_int64(b, 0x83, i->nesting_level);
    size_t md = i61_ber_open(b, 0xa4);
    i61_ber_put_int64(b, 0x80, i->version);
    i61_put_bits(b, 0x81, i->param_cbb, i->param_cbb_bits);
    i61_put_bits(b, 0x82, i->services, i->services_bits);
    i61_ber_close(b, md);
    i61_ber_close(b, m);
    return b->oom ? I61_ERR_UNKNOWN : I61_OK;
}

int i61_initiate_write_request(i61_buf *b, const i61_initiate *i)
{
    return i61_initiate_write(b, 0xa8, i);
}

int i61_initiate_write_response(i61_buf *b, const i61_initiate *i)
{
    return i61_initiate_write(b, 0xa9, i);
}

static int i61_service_error_write(i61_buf *b, i61_ber_id tag, int cls, int code)
{
    if (code < 0 || cls < 0 || cls > 12)
        return I61_ERR_INVALID_ARGUMENT;
    size_t m = i61_ber_open(b, tag);
    size_t mc = i61_ber_open(b, 0xa0);
    i61_ber_put_int64(b, (i61_ber_id)(0x80 | cls), code);
    i61_ber_close(b, mc);
    i61_ber_close(b, m);
    return b->oom ? I61_ERR_UNKNOWN : I61_OK;
}

int i61_initiate_write_error(i61_buf *b, int code)
{
    return i61_service_error_write(b, 0xaa, 8, code);
}

int i61_conclude_write_request(i61_buf *b)
{
    i61_ber_put_null(b, 0x8b);
    return b->oom ? I61_ERR_UNKNOWN : I61_OK;
}

int i61_conclude_write_response(i61_buf *b)
{
    i61_ber_put_null(b, 0x8c);
    return b->oom ? I61_ERR_UNKNOWN : I61_OK;
}

int i61_conclude_write_error(i61_buf *b, int code)
{
    return i61_service_error_write(b, 0xad, 9, code);
}

/* ---------------------------------------------------------------- reader */

static int i61_get_bits(const i61_ber_tlv *t, uint8_t *out, size_t cap, int *bits)
{
    if (t->constructed || t->len < 1 || t->val[0] > 7 || (t->len == 1 && t->val[0] != 0))
        return MALFORMED;
    size_t n = t->len - 1;
    size_t total = n * 8 - t->val[0];
    memset(out, 0, cap);
    if (n > cap) {                      /* longer than we know: keep the known part */
        n = cap;
        total = cap * 8;
    }
    memcpy(out, t->val + 1, n);
    *bits = (int)total;
    return I61_OK;
}

static int i61_get_nonneg(const i61_ber_tlv *t, int32_t *v)
{
    if (t->constructed || i61_ber_get_int32(t, v) != 0 || *v < 0)
        return MALFORMED;
    return I61_OK;
}

static int i61_initiate_body(const i61_ber_tlv *t, i61_initiate *o)
{
    i61_ber_reader r, rd;
    i61_ber_tlv e, f;
    int rc, have_calling = 0, have_called = 0, have_detail = 0;
    i61_ber_reader_sub(&r, t);
    while ((rc = i61_ber_next(&r, &e)) == I61_BER_OK) {
        int r2 = I61_OK;
        switch (e.id) {
        case 0x80: r2 = i61_get_nonneg(&e, &o->local_detail); o->has_local_detail = 1; break;
        case 0x81: r2 = i61_get_nonneg(&e, &o->max_serv_outstanding_calling); have_calling = 1; break;
        case 0x82: r2 = i61_get_nonneg(&e, &o->max_serv_outstanding_called); have_called = 1; break;
        case 0x83: r2 = i61_get_nonneg(&e, &o->nesting_level); o->has_nesting_level = 1; break;
        case 0xa4: {
            int have_v = 0, have_c = 0, have_s = 0;
            i61_ber_reader_sub(&rd, &e);
            while ((rc = i61_ber_next(&rd, &f)) == I61_BER_OK && r2 == I61_OK) {
                if (f.id == 0x80) {
                    r2 = i61_get_nonneg(&f, &o->version);
                    have_v = 1;
                } else if (f.id == 0x81) {
                    r2 = i61_get_bits(&f, o->param_cbb, sizeof o->param_cbb, &o->param_cbb_bits);
                    have_c = 1;
                } else if (f.id == 0x82) {
                    r2 = i61_get_bits(&f, o->services, sizeof o->services, &o->services_bits);
                    have_s = 1;
                } else {
                    r2 = MALFORMED;
                }
            }
            if (rc == I61_BER_ERR || !have_v || !have_c || !have_s)
                r2 = MALFORMED;
            have_detail = 1;
            break;
        }
        default:
            r2 = MALFORMED;
            break;
        }
        if (r2 != I61_OK)
            return MALFORMED;
    }
    if (rc == I61_BER_ERR || !have_calling || !have_called || !have_detail)
        return MALFORMED;
    return I61_OK;
}

/* ServiceError: errorClass [0] { <class> INTEGER } ... */
static int i61_service_error(const i61_ber_tlv *t, int *cls, int *code)
{
    i61_ber_reader r;
    i61_ber_tlv e, c;
    size_t used;
    int32_t v;
    i61_ber_reader_sub(&r, t);
    if (i61_ber_next(&r, &e) != I61_BER_OK || e.id != 0xa0)
        return MALFORMED;
    if (i61_ber_parse(e.val, e.len, &c, &used) != I61_BER_OK || used != e.len || c.cls != 2 ||
        c.constructed || c.tag > 12 || i61_ber_get_int32(&c, &v) != 0)
        return MALFORMED;
    /* additionalCode [1], additionalDescription [2], serviceSpecificInformation [3] */
    int rc;
    while ((rc = i61_ber_next(&r, &e)) == I61_BER_OK) {
        if (e.cls != 2 || e.tag < 1 || e.tag > 3)
            return MALFORMED;
    }
    if (rc == I61_BER_ERR)
        return MALFORMED;
    if (cls)
        *cls = (int)c.tag;
    if (code)
        *code = v;
    return I61_OK;
}

int i61_initiate_decode(const uint8_t *p, size_t len, int *kind, i61_initiate *out,
                        int *err_class, int *err_code)
{
    i61_ber_tlv t;
    size_t used;
    memset(out, 0, sizeof *out);
    if (i61_ber_parse(p, len, &t, &used) != I61_BER_OK || used != len)
        return MALFORMED;
    if (t.id == 0xa8 || t.id == 0xa9) {
        *kind = t.id == 0xa8 ? I61_MMS_INITIATE_REQUEST : I61_MMS_INITIATE_RESPONSE;
        int rc = i61_initiate_body(&t, out);
        if (rc != I61_OK)
            memset(out, 0, sizeof *out);
        return rc;
    }
    if (t.id == 0xaa) {
        *kind = I61_MMS_INITIATE_ERROR;
        return i61_service_error(&t, err_class, err_code);
    }
    return MALFORMED;
}

int i61_conclude_decode(const uint8_t *p, size_t len, int *kind)
{
    i61_ber_tlv t;
    size_t used;
    if (i61_ber_parse(p, len, &t, &used) != I61_BER_OK || used != len)
        return MALFORMED;
    if (t.id == 0x8b && t.len == 0) {
        *kind = I61_MMS_CONCLUDE_REQUEST;
        return I61_OK;
    }
    if (t.id == 0x8c && t.len == 0) {
        *kind = I61_MMS_CONCLUDE_RESPONSE;
        return I61_OK;
    }
    if (t.id == 0xad) {
        *kind = I61_MMS_CONCLUDE_ERROR;
        return i61_service_error(&t, NULL, NULL);
    }
    return MALFORMED;
}
