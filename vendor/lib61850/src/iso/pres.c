/* Presentation layer PPDUs: see pres.h. */
#include "pres.h"

#include <string.h>

const uint8_t i61_oid_acse_as[4] = { 0x52, 0x01, 0x00, 0x01 };
const uint8_t i61_oid_mms_as[5] = { 0x28, 0xca, 0x22, 0x02, 0x01 };
const uint8_t i61_oid_ber[2] = { 0x51, 0x01 };

#define MALFORMED I61_ERR_MALFORMED_MESSAGE

void i61_pres_connect_init_default(i61_pres_connect *c)
{
    memset(c, 0, sizeof *c);
    static const uint8_t psel[4] = { 0, 0, 0, 1 };
    c->has_calling_psel = 1;
    memcpy(c->calling_psel, psel, 4);
    c->calling_psel_len = 4;
    c->has_called_psel = 1;
    memcpy(c->called_psel, psel, 4);
    c->called_psel_len = 4;
    c->n_ctx = 2;
    c->ctx[0].id = I61_PRES_CTX_ACSE;
    memcpy(c->ctx[0].abstract_syntax, i61_oid_acse_as, sizeof i61_oid_acse_as);
    c->ctx[0].abstract_syntax_len = sizeof i61_oid_acse_as;
    c->ctx[0].ber = 1;
    c->ctx[0].provider_reason = -1;
    c->ctx[1].id = I61_PRES_CTX_MMS;
    memcpy(c->ctx[1].abstract_syntax, i61_oid_mms_as, sizeof i61_oid_mms_as);
    c->ctx[1].abstract_syntax_len = sizeof i61_oid_mms_as;
    c->ctx[1].ber = 1;
    c->ctx[1].provider_reason = -1;
    c->provider_reason = -1;
    c->ud_ctx = I61_PRES_CTX_ACSE;
}

/* ------------------------------------------------------------ user data */

static size_t i61_len_octets(uint8_t *o, size_t len)
{
    if (len < 0x80) {
        o[0] = (uint8_t)len;
        return 1;
    }
    size_t n = 0;
    for (size_t v = len; v && n < 4; v >>= 8)
        n++;                             /* lengths above 2^32 - 1 are not produced (callers bound them) */
    o[0] = (uint8_t)(0x80 | n);
    for (size_t k = 0; k < n; k++)
        o[1 + k] = (uint8_t)(len >> (8 * (n - 1 - k)));
    return n + 1;
}

static size_t i61_len_size(size_t len)
{
    uint8_t o[5];
    return i61_len_octets(o, len);
}

/* Minimal two's complement content of a non-negative ctx id; returns octets. */
static size_t i61_ctx_octets(uint8_t o[5], int32_t ctx)
{
    uint32_t v = (uint32_t)ctx;
    uint8_t t[5] = { 0, (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    size_t s = 0;
    while (s < 4 && t[s] == 0 && !(t[s + 1] & 0x80))
        s++;
    memcpy(o, t + s, 5 - s);
    return 5 - s;
}

size_t i61_pres_data_header(uint8_t out[I61_PRES_DATA_HDR_MAX], int32_t ctx, size_t pdu_len)
{
    uint8_t c[5];
    size_t cn = i61_ctx_octets(c, ctx);
    size_t l3 = pdu_len;                                   /* a0 content */
    size_t l2 = 2 + cn + 1 + i61_len_size(l3) + l3;        /* 30 content */
    size_t l1 = 1 + i61_len_size(l2) + l2;                 /* 61 content */
    size_t n = 0;
    out[n++] = 0x61;
    n += i61_len_octets(out + n, l1);
    out[n++] = 0x30;
    n += i61_len_octets(out + n, l2);
    out[n++] = 0x02;
    out[n++] = (uint8_t)cn;
    memcpy(out + n, c, cn);
    n += cn;
    out[n++] = 0xa0;
    n += i61_len_octets(out + n, l3);
    return n;
}

int i61_pres_write_user_data(i61_buf *b, int32_t ctx, const uint8_t *pdu, size_t len)
{
    if (ctx <= 0 || (len && !pdu) || len > 0xffffffu)
        return I61_ERR_INVALID_ARGUMENT;
    uint8_t h[I61_PRES_DATA_HDR_MAX];
    size_t n = i61_pres_data_header(h, ctx, len);
    i61_buf_put(b, h, n);
    i61_buf_put(b, pdu, len);
    return b->oom ? I61_ERR_UNKNOWN : I61_OK;
}

/* Content of a fully-encoded-data TLV (tag 61 already checked). */
static int i61_pres_fed(const i61_ber_tlv *fed, int32_t *ctx, const uint8_t **pdu, size_t *pdu_len)
{
    i61_ber_reader r, rp;
    i61_ber_tlv pdv, e;
    i61_ber_reader_sub(&r, fed);
    if (i61_ber_next(&r, &pdv) != I61_BER_OK || pdv.id != 0x30)
        return MALFORMED;
    i61_ber_reader_sub(&rp, &pdv);
    int have_ctx = 0, have_val = 0;
    int rc;
    while ((rc = i61_ber_next(&rp, &e)) == I61_BER_OK) {
        if (e.id == 0x06 && !have_ctx) {
            continue;                                /* transfer-syntax-name */
        } else if (e.id == 0x02 && !have_ctx) {
            if (i61_ber_get_int32(&e, ctx) != 0 || *ctx <= 0)
                return MALFORMED;
            have_ctx = 1;
        } else if ((e.id == 0xa0 || e.id == 0x81) && have_ctx && !have_val) {
            *pdu = e.val;
            *pdu_len = e.len;
            have_val = 1;
        } else {
            return MALFORMED;
        }
    }
    if (rc == I61_BER_ERR || !have_ctx || !have_val)
        return MALFORMED;
    return I61_OK;
}

int i61_pres_decode_user_data(const uint8_t *p, size_t len, int32_t *ctx,
                              const uint8_t **pdu, size_t *pdu_len)
{
    i61_ber_tlv t;
    size_t used;
    if (i61_ber_parse(p, len, &t, &used) != I61_BER_OK || t.id != 0x61 || used != len)
        return MALFORMED;
    return i61_pres_fed(&t, ctx, pdu, pdu_len);
}

/* --------------------------------------------------------------- connect */

static int i61_pres_put_ctx_list(i61_buf *b, const i61_pres_connect *c)
{
    size_t ml = i61_ber_open(b, 0xa4);
    for (size_t k = 0; k < c->n_ctx; k++) {
        const i61_pres_ctx *x = &c->ctx[k];
        if (x->id <= 0 || x->abstract_syntax_len == 0 || x->abstract_syntax_len > I61_OID_MAX)
            return I61_ERR_INVALID_ARGUMENT;
        size_t ms = i61_ber_open(b, 0x30);
        i61_ber_put_int64(b, 0x02, x->id);
        i61_ber_put_tlv(b, 0x06, x->abstract_syntax, x->abstract_syntax_len);
        size_t mt = i61_ber_open(b, 0x30);
        i61_ber_put_tlv(b, 0x06, i61_oid_ber, sizeof i61_oid_ber);
        i61_ber_close(b, mt);
        i61_ber_close(b, ms);
    }
    i61_ber_close(b, ml);
    return I61_OK;
}

static void i61_pres_put_result_list(i61_buf *b, const i61_pres_connect *c)
{
    size_t ml = i61_ber_open(b, 0xa5);
    for (size_t k = 0; k < c->n_ctx; k++) {
        const i61_pres_ctx *x = &c->ctx[k];
        size_t ms = i61_ber_open(b, 0x30);
        i61_ber_put_int64(b, 0x80, x->result);
        if (x->result == I61_PRES_ACCEPT)
            i61_ber_put_tlv(b, 0x81, i61_oid_ber, sizeof i61_oid_ber);
        if (x->provider_reason >= 0)
            i61_ber_put_int64(b, 0x82, x->provider_reason);
        i61_ber_close(b, ms);
    }
    i61_ber_close(b, ml);
}

static int i61_pres_check(const i61_pres_connect *c)
{
    if (c->n_ctx > I61_PRES_MAX_CTX || c->calling_psel_len > I61_PSEL_MAX ||
        c->called_psel_len > I61_PSEL_MAX || (c->user_data && c->ud_ctx <= 0))
        return I61_ERR_INVALID_ARGUMENT;
    return I61_OK;
}

static void i61_pres_put_mode(i61_buf *b)
{
    size_t m = i61_ber_open(b, 0xa0);
    i61_ber_put_int64(b, 0x80, 1);          /* normal-mode */
    i61_ber_close(b, m);
}

int i61_pres_write_cp(i61_buf *b, const i61_pres_connect *c)
{
    int rc = i61_pres_check(c);
    if (rc != I61_OK)
        return rc;
    size_t mset = i61_ber_open(b, 0x31);
    i61_pres_put_mode(b);
    size_t mn = i61_ber_open(b, 0xa2);
    if (c->has_calling_psel)
        i61_ber_put_tlv(b, 0x81, c->calling_psel, c->calling_psel_len);
    if (c->has_called_psel)
        i61_ber_put_tlv(b, 0x82, c->called_psel, c->called_psel_len);
    if (c->n_ctx && (rc = i61_pres_put_ctx_list(b, c)) != I61_OK)
        return rc;
    if (c->user_data && (rc = i61_pres_write_user_data(b, c->ud_ctx, c->user_data, c->user_data_len)) != I61_OK)
        return rc;
    i61_ber_close(b, mn);
    i61_ber_close(b, mset);
    return b->oom ? I61_ERR_UNKNOWN : I61_OK;
}

int i61_pres_write_cpa(i61_buf *b, const i61_pres_connect *c)
{
    int rc = i61_pres_check(c);
    if (rc != I61_OK)
        return rc;
    size_t mset = i61_ber_open(b, 0x31);
    i61_pres_put_mode(b);
    size_t mn = i61_ber_open(b, 0xa2);
    if (c->has_called_psel)
        i61_ber_put_tlv(b, 0x83, c->called_psel, c->called_psel_len);
    if (c->n_ctx)
        i61_pres_put_result_list(b, c);
    if (c->user_data && (rc = i61_pres_write_user_data(b, c->ud_ctx, c->user_data, c->user_data_len)) != I61_OK)
        return rc;
    i61_ber_close(b, mn);
    i61_ber_close(b, mset);
    return b->oom ? I61_ERR_UNKNOWN : I61_OK;
}

int i61_pres_write_cpr(i61_buf *b, const i61_pres_connect *c)
{
    int rc = i61_pres_check(c);
    if (rc != I61_OK)
        return rc;
    size_t ms = i61_ber_open(b, 0x30);
    if (c->has_called_psel)
        i61_ber_put_tlv(b, 0x83, c->called_psel, c->called_psel_len);
    if (c->n_ctx)
        i61_pres_put_result_list(b, c);
    if (c->provider_reason >= 0)
        i61_ber_put_int64(b, 0x8a, c->provider_reason);
    if (c->user_data && (rc = i61_pres_write_user_data(b, c->ud_ctx, c->user_data, c->user_data_len)) != I61_OK)
        return rc;
    i61_ber_close(b, ms);
    return b->oom ? I61_ERR_UNKNOWN : I61_OK;
}

static int i61_pres_get_psel(const i61_ber_tlv *e, uint8_t *out, size_t *len, int *has)
{
    if (e->constructed || e->len > I61_PSEL_MAX)
        return MALFORMED;
    memcpy(out, e->val, e->len);
    *len = e->len;
    *has = 1;
    return I61_OK;
}

static int i61_pres_ctx_list(const i61_ber_tlv *t, i61_pres_connect *c)
{
    i61_ber_reader r, rs, rt;
    i61_ber_tlv s, e, ts;
    int rc;
    i61_ber_reader_sub(&r, t);
    while ((rc = i61_ber_next(&r, &s)) == I61_BER_OK) {
        if (s.id != 0x30 || c->n_ctx >= I61_PRES_MAX_CTX)
            return MALFORMED;
        i61_pres_ctx *x = &c->ctx[c->n_ctx++];
        memset(x, 0, sizeof *x);
        x->provider_reason = -1;
        int got = 0;
        i61_ber_reader_sub(&rs, &s);
        while ((rc = i61_ber_next(&rs, &e)) == I61_BER_OK) {
            if (e.id == 0x02 && got == 0) {
                if (i61_ber_get_int32(&e, &x->id) != 0 || x->id <= 0)
                    return MALFORMED;
                got = 1;
            } else if (e.id == 0x06 && got == 1) {
                if (e.len == 0 || e.len > I61_OID_MAX)
                    return MALFORMED;
                memcpy(x->abstract_syntax, e.val, e.len);
                x->abstract_syntax_len = e.len;
                got = 2;
            } else if (e.id == 0x30 && got == 2) {
                i61_ber_reader_sub(&rt, &e);
                while ((rc = i61_ber_next(&rt, &ts)) == I61_BER_OK) {
                    if (ts.id != 0x06)
                        return MALFORMED;
                    if (ts.len == sizeof i61_oid_ber && memcmp(ts.val, i61_oid_ber, ts.len) == 0)
                        x->ber = 1;
                }
                if (rc == I61_BER_ERR)
                    return MALFORMED;
                got = 3;
            } else {
                return MALFORMED;
            }
        }
        if (rc == I61_BER_ERR || got != 3)
            return MALFORMED;
    }
    return rc == I61_BER_ERR ? MALFORMED : I61_OK;
}

static int i61_pres_result_list(const i61_ber_tlv *t, i61_pres_connect *c)
{
    i61_ber_reader r, rs;
    i61_ber_tlv s, e;
    int rc;
    i61_ber_reader_sub(&r, t);
    while ((rc = i61_ber_next(&r, &s)) == I61_BER_OK) {
        if (s.id != 0x30 || c->n_ctx >= I61_PRES_MAX_CTX)
            return MALFORMED;
        i61_pres_ctx *x = &c->ctx[c->n_ctx++];
        memset(x, 0, sizeof *x);
        x->provider_reason = -1;
        x->result = -1;
        i61_ber_reader_sub(&rs, &s);
        while ((rc = i61_ber_next(&rs, &e)) == I61_BER_OK) {
            int32_t v;
            if (e.id == 0x80) {
                if (i61_ber_get_int32(&e, &v) != 0 || v < 0 || v > 2)
                    return MALFORMED;
                x->result = v;
            } else if (e.id == 0x81) {
                if (e.len == sizeof i61_oid_ber && memcmp(e.val, i61_oid_ber, e.len) == 0)
                    x->ber = 1;
            } else if (e.id == 0x82) {
                if (i61_ber_get_int32(&e, &v) != 0 || v < 0)
                    return MALFORMED;
                x->provider_reason = v;
            } else {
                return MALFORMED;
            }
        }
        if (rc == I61_BER_ERR || x->result < 0)
            return MALFORMED;
    }
    return rc == I61_BER_ERR ? MALFORMED : I61_OK;
}

static int i61_pres_user_data_elem(const i61_ber_tlv *e, i61_pres_connect *c)
{
    if (e->id != 0x61 || c->user_data)
        return MALFORMED;
    return i61_pres_fed(e, &c->ud_ctx, &c->user_data, &c->user_data_len);
}

/* Parses the outer element of a PPDU; the whole buffer must be that element. */
static int i61_pres_outer(const uint8_t *p, size_t len, i61_ber_id id, i61_ber_tlv *t)
{
    size_t used;
    if (i61_ber_parse(p, len, t, &used) != I61_BER_OK || t->id != id || used != len)
        return MALFORMED;
    return I61_OK;
}

static void i61_pres_clear(i61_pres_connect *c)
{
    memset(c, 0, sizeof *c);
    c->provider_reason = -1;
}

static int i61_pres_mode(const i61_ber_tlv *e)
{
    i61_ber_reader r;
    i61_ber_tlv m;
    int32_t v;
    i61_ber_reader_sub(&r, e);
    if (i61_ber_next(&r, &m) != I61_BER_OK || m.id != 0x80 || i61_ber_get_int32(&m, &v) != 0 ||
        v != 1 || i61_ber_next(&r, &m) != I61_BER_END)
        return MALFORMED;
    return I61_OK;
}

/* CP-type and CPA-PPDU share the outer SET { mode-selector [0], normal [2] }. */
static int i61_pres_decode_set(const uint8_t *p, size_t len, i61_pres_connect *c, int cpa)
{
    i61_ber_tlv t, e, f;
    i61_ber_reader r, rn;
    int rc;
    i61_pres_clear(c);
    if (i61_pres_outer(p, len, 0x31, &t) != I61_OK)
        return MALFORMED;
    int have_mode = 0, have_normal = 0;
    i61_ber_reader_sub(&r, &t);
    while ((rc = i61_ber_next(&r, &e)) == I61_BER_OK) {
        if (e.id == 0xa0 && !have_mode) {
            if (i61_pres_mode(&e) != I61_OK)
                return MALFORMED;
            have_mode = 1;
        } else if (e.id == 0xa2 && !have_normal) {
            have_normal = 1;
            i61_ber_reader_sub(&rn, &e);
            while ((rc = i61_ber_next(&rn, &f)) == I61_BER_OK) {
                int r2 = I61_OK;
                if (f.id == 0x80 || f.id == 0x88 || f.id == 0x89 || f.id == 0x8b)
                    continue;                        /* version, requirements, options */
                if (!cpa && f.id == 0x81)
                    r2 = i61_pres_get_psel(&f, c->calling_psel, &c->calling_psel_len, &c->has_calling_psel);
                else if (!cpa && f.id == 0x82)
                    r2 = i61_pres_get_psel(&f, c->called_psel, &c->called_psel_len, &c->has_called_psel);
                else if (cpa && f.id == 0x83)
                    r2 = i61_pres_get_psel(&f, c->called_psel, &c->called_psel_len, &c->has_called_psel);
                else if (!cpa && f.id == 0xa4 && c->n_ctx == 0)
                    r2 = i61_pres_ctx_list(&f, c);
                else if (cpa && f.id == 0xa5 && c->n_ctx == 0)
                    r2 = i61_pres_result_list(&f, c);
                else if (!cpa && (f.id == 0xa6 || f.id == 0x8c || f.id == 0xae))
                    continue;                        /* default context, nominated context, extensions */
                else if (cpa && f.id == 0x8d)
                    continue;
                else if (f.id == 0x61)
                    r2 = i61_pres_user_data_elem(&f, c);
                else
                    r2 = MALFORMED;
                if (r2 != I61_OK)
                    return MALFORMED;
            }
            if (rc == I61_BER_ERR)
                return MALFORMED;
        } else {
            return MALFORMED;                        /* x.410 mode or junk */
        }
    }
    if (rc == I61_BER_ERR || !have_mode || !have_normal)
        return MALFORMED;
    return I61_OK;
}

int i61_pres_decode_cp(const uint8_t *p, size_t len, i61_pres_connect *c)
{
    return i61_pres_decode_set(p, len, c, 0);
}

int i61_pres_decode_cpa(const uint8_t *p, size_t len, i61_pres_connect *c)
{
    return i61_pres_decode_set(p, len, c, 1);
}

int i61_pres_decode_cpr(const uint8_t *p, size_t len, i61_pres_connect *c)
{
    i61_ber_tlv t, f;
    i61_ber_reader r;
    int rc;
    i61_pres_clear(c);
    if (i61_pres_outer(p, len, 0x30, &t) != I61_OK)
        return MALFORMED;
    i61_ber_reader_sub(&r, &t);
    while ((rc = i61_ber_next(&r, &f)) == I61_BER_OK) {
        int r2 = I61_OK;
        int32_t v;
        if (f.id == 0x80 || f.id == 0x87 || f.id == 0xa7)
            continue;
        if (f.id == 0x83)
            r2 = i61_pres_get_psel(&f, c->called_psel, &c->called_psel_len, &c->has_called_psel);
        else if (f.id == 0xa5 && c->n_ctx == 0)
            r2 = i61_pres_result_list(&f, c);
        else if (f.id == 0x8a) {
            if (i61_ber_get_int32(&f, &v) != 0 || v < 0)
                return MALFORMED;
            c->provider_reason = v;
        } else if (f.id == 0x61)
            r2 = i61_pres_user_data_elem(&f, c);
        else
            r2 = MALFORMED;
        if (r2 != I61_OK)
            return MALFORMED;
    }
    return rc == I61_BER_ERR ? MALFORMED : I61_OK;
}

/* ----------------------------------------------------------------- abort */

int i61_pres_write_aru(i61_buf *b, int32_t ctx, const uint8_t *apdu, size_t len)
{
    if (ctx <= 0 || (len && !apdu))
        return I61_ERR_INVALID_ARGUMENT;
    size_t m = i61_ber_open(b, 0xa0);
    int rc = i61_pres_write_user_data(b, ctx, apdu, len);
    if (rc != I61_OK)
        return rc;
    i61_ber_close(b, m);
    return b->oom ? I61_ERR_UNKNOWN : I61_OK;
}

int i61_pres_decode_abort(const uint8_t *p, size_t len, i61_pres_abort *a)
{
    i61_ber_tlv t, f;
    i61_ber_reader r;
    size_t used;
    int rc;
    memset(a, 0, sizeof *a);
    a->provider_reason = -1;
    if (i61_ber_parse(p, len, &t, &used) != I61_BER_OK || used != len)
        return MALFORMED;
    i61_ber_reader_sub(&r, &t);
    if (t.id == 0xa0) {
        a->aru = 1;
        while ((rc = i61_ber_next(&r, &f)) == I61_BER_OK) {
            if (f.id == 0xa0 && !a->user_data)
                continue;                        /* presentation-context-identifier-list */
            if (f.id != 0x61 || a->user_data)
                return MALFORMED;
            if (i61_pres_fed(&f, &a->ud_ctx, &a->user_data, &a->user_data_len) != I61_OK)
                return MALFORMED;
        }
        return rc == I61_BER_ERR ? MALFORMED : I61_OK;
    }
    if (t.id == 0x30) {
        while ((rc = i61_ber_next(&r, &f)) == I61_BER_OK) {
            int32_t v;
            if (f.id == 0x80) {
                if (i61_ber_get_int32(&f, &v) != 0 || v < 0)
                    return MALFORMED;
                a->provider_reason = v;
            } else if (f.id != 0x81) {
                return MALFORMED;
            }
        }
        return rc == I61_BER_ERR ? MALFORMED : I61_OK;
    }
    return MALFORMED;
}
