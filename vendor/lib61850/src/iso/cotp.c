/* TPKT framing and COTP class 0 TPDUs: see cotp.h. */
#include "cotp.h"

#include <string.h>

/* ------------------------------------------------------------------ TPKT */

int i61_tpkt_check(const uint8_t *p, size_t avail, size_t max_frame, size_t *frame_len)
{
    *frame_len = 0;
    if (avail >= 1 && p[0] != 3)
        return -I61_ERR_MALFORMED_MESSAGE;
    if (avail >= 2 && p[1] != 0)
        return -I61_ERR_MALFORMED_MESSAGE;
    if (avail < I61_TPKT_HDR)
        return 0;
    size_t n = ((size_t)p[2] << 8) | p[3];
    /* smallest useful frame: header + LI + code + one octet (a DT header) */
    if (n < I61_TPKT_HDR + 3 || n > max_frame)
        return -I61_ERR_MALFORMED_MESSAGE;
    *frame_len = n;
    return avail >= n ? 1 : 0;
}

void i61_tpkt_put_header(uint8_t out[4], size_t frame_len)
{
    out[0] = 3;
    out[1] = 0;
    out[2] = (uint8_t)(frame_len >> 8);
    out[3] = (uint8_t)frame_len;
}

/* ------------------------------------------------------------------ COTP */

uint32_t i61_cotp_size_from_code(uint8_t code)
{
    if (code < 7 || code > 13)
        return 0;
    return 1u << code;
}

uint8_t i61_cotp_code_for_size(uint32_t octets)
{
    uint8_t c = 7;
    while (c < 13 && (1u << (c + 1)) <= octets)
        c++;
    return c;
}

static int i61_cotp_params(const uint8_t *v, size_t n, i61_cotp_tpdu *t)
{
    size_t i = 0;
    while (i < n) {
        if (n - i < 2)
            return I61_ERR_MALFORMED_MESSAGE;
        uint8_t code = v[i], plen = v[i + 1];
        const uint8_t *pv = v + i + 2;
        if ((size_t)plen > n - i - 2)
            return I61_ERR_MALFORMED_MESSAGE;
        switch (code) {
        case 0xc0:
            if (plen != 1 || i61_cotp_size_from_code(pv[0]) == 0)
                return I61_ERR_MALFORMED_MESSAGE;
            t->tpdu_size_code = pv[0];
            break;
        case 0xf0: {
            if (plen < 1 || plen > 4)
                return I61_ERR_MALFORMED_MESSAGE;
            uint32_t s = 0;
            for (uint8_t k = 0; k < plen; k++)
                s = (s << 8) | pv[k];
            if (s > (UINT32_MAX >> 7))
                return I61_ERR_MALFORMED_MESSAGE;
            t->pref_tpdu_size = s * 128u;
            break;
        }
        case 0xc1:
            if (plen > I61_TSEL_MAX)
                return I61_ERR_MALFORMED_MESSAGE;
            memcpy(t->calling_tsel, pv, plen);
            t->calling_tsel_len = plen;
            t->has_calling_tsel = 1;
            break;
        case 0xc2:
            if (plen > I61_TSEL_MAX)
                return I61_ERR_MALFORMED_MESSAGE;
            memcpy(t->called_tsel, pv, plen);
            t->called_tsel_len = plen;
            t->has_called_tsel = 1;
            break;
        default:
            break;                         /* version, checksum, additional options...: ignored */
        }
        i += 2u + plen;
    }
    return I61_OK;
}

int i61_cotp_decode(const uint8_t *p, size_t len, i61_cotp_tpdu *t)
{
    memset(t, 0, sizeof *t);
    if (!p || len < 2)
        return I61_ERR_MALFORMED_MESSAGE;
    size_t li = p[0];
    if (li < 1 || li == 255 || li + 1 > len)
        return I61_ERR_MALFORMED_MESSAGE;
    t->code = p[1] & 0xf0;
    t->cdt = p[1] & 0x0f;
    const uint8_t *h = p + 2;          /* fixed part after the code octet */
    size_t hl = li - 1;                /* octets of fixed + variable part */
    size_t fixed;
    switch (t->code) {
    case I61_COTP_DT:
        if (hl < 1)
            return I61_ERR_MALFORMED_MESSAGE;
        t->eot = (h[0] & 0x80) ? 1 : 0;
        t->tpdu_nr = h[0] & 0x7f;
        fixed = 1;
        break;
    case I61_COTP_CR:
    case I61_COTP_CC:
        if (hl < 5)
            return I61_ERR_MALFORMED_MESSAGE;
        t->dst_ref = (uint16_t)(h[0] << 8 | h[1]);
        t->src_ref = (uint16_t)(h[2] << 8 | h[3]);
        t->class_option = h[4];
        fixed = 5;
        break;
    case I61_COTP_DR:
        if (hl < 5)
            return I61_ERR_MALFORMED_MESSAGE;
        t->dst_ref = (uint16_t)(h[0] << 8 | h[1]);
        t->src_ref = (uint16_t)(h[2] << 8 | h[3]);
        t->reason = h[4];
        fixed = 5;
        break;
    case I61_COTP_DC:
        if (hl < 4)
            return I61_ERR_MALFORMED_MESSAGE;
        t->dst_ref = (uint16_t)(h[0] << 8 | h[1]);
        t->src_ref = (uint16_t)(h[2] << 8 | h[3]);
        fixed = 4;
        break;
    case I61_COTP_ER:
        if (hl < 3)
            return I61_ERR_MALFORMED_MESSAGE;
        t->dst_ref = (uint16_t)(h[0] << 8 | h[1]);
        t->reason = h[2];
        fixed = 3;
        break;
    default:
        return I61_ERR_MALFORMED_MESSAGE;
    }
    if (t->code != I61_COTP_DT && t->cdt != 0 && t->code != I61_COTP_CR && t->code != I61_COTP_CC)
        return I61_ERR_MALFORMED_MESSAGE;
    int rc = i61_cotp_params(h + fixed, hl - fixed, t);
    if (rc != I61_OK)
        return rc;
    t->data = p + li + 1;
    t->data_len = len - li - 1;
    return I61_OK;
}

static int i61_cotp_write_conn(i61_buf *b, uint8_t code, const i61_cotp_conn_params *p)
{
    if (!p || (p->calling_tsel && p->calling_tsel_len > I61_TSEL_MAX) ||
        (p->called_tsel && p->called_tsel_len > I61_TSEL_MAX) ||
        (p->tpdu_size_code && i61_cotp_size_from_code(p->tpdu_size_code) == 0))
        return I61_ERR_INVALID_ARGUMENT;
    /* TPKT header + LI + fixed part (6) + TPDU size (3) + two TSEL parameters */
    uint8_t h[I61_TPKT_HDR + 7 + 3 + 2 * (2 + I61_TSEL_MAX)];
    _Static_assert(I61_TPKT_HDR + 7 + 3 + 2 * (2 + I61_TSEL_MAX) - I61_TPKT_HDR - 1 <= 254,
                   "COTP connection header must fit the one-octet LI");
    size_t n = I61_TPKT_HDR;           /* TPKT header written last */
    h[n++] = 0;                        /* LI, patched below */
    h[n++] = code;
    h[n++] = (uint8_t)(p->dst_ref >> 8);
    h[n++] = (uint8_t)p->dst_ref;
    h[n++] = (uint8_t)(p->src_ref >> 8);
    h[n++] = (uint8_t)p->src_ref;
    h[n++] = p->class_option;
    if (p->tpdu_size_code) {
        h[n++] = 0xc0;
        h[n++] = 1;
        h[n++] = p->tpdu_size_code;
    }
    if (p->called_tsel) {
        h[n++] = 0xc2;
        h[n++] = (uint8_t)p->called_tsel_len;
        memcpy(h + n, p->called_tsel, p->called_tsel_len);
        n += p->called_tsel_len;
    }
    if (p->calling_tsel) {
        h[n++] = 0xc1;
        h[n++] = (uint8_t)p->calling_tsel_len;
        memcpy(h + n, p->calling_tsel, p->calling_tsel_len);
        n += p->calling_tsel_len;
    }
    h[4] = (uint8_t)(n - 5);
    i61_tpkt_put_header(h, n);
    i61_buf_put(b, h, n);
    return b->oom ? I61_ERR_UNKNOWN : I61_OK;
}

int i61_cotp_write_cr(i61_buf *b, const i61_cotp_conn_params *p)
{
    return i61_cotp_write_conn(b, I61_COTP_CR, p);
}

int i61_cotp_write_cc(i61_buf *b, const i61_cotp_conn_params *p)
{
    return i61_cotp_write_conn(b, I61_COTP_CC, p);
}

int i61_cotp_write_dr(i61_buf *b, uint16_t dst_ref, uint16_t src_ref, uint8_t reason)
{
    uint8_t h[11] = { 3, 0, 0, 11, 6, I61_COTP_DR, (uint8_t)(dst_ref >> 8), (uint8_t)dst_ref,
                      (uint8_t)(src_ref >> 8), (uint8_t)src_ref, reason };
    i61_buf_put(b, h, sizeof h);
    return b->oom ? I61_ERR_UNKNOWN : I61_OK;
}

int i61_cotp_write_er(i61_buf *b, uint16_t dst_ref, uint8_t cause)
{
    uint8_t h[9] = { 3, 0, 0, 9, 4, I61_COTP_ER, (uint8_t)(dst_ref >> 8), (uint8_t)dst_ref, cause };
    i61_buf_put(b, h, sizeof h);
    return b->oom ? I61_ERR_UNKNOWN : I61_OK;
}

void i61_cotp_put_dt_header(uint8_t out[7], size_t user_len, int eot)
{
    i61_tpkt_put_header(out, user_len + I61_DATA_FRAME_HDR);
    out[4] = 2;
    out[5] = I61_COTP_DT;
    out[6] = eot ? 0x80 : 0x00;
}

int i61_cotp_write_data(i61_buf *b, uint32_t tpdu_size, const uint8_t *part1, size_t len1,
                        const uint8_t *part2, size_t len2)
{
    if (tpdu_size > I61_TPKT_MAX - I61_TPKT_HDR)
        tpdu_size = I61_TPKT_MAX - I61_TPKT_HDR;
    if (tpdu_size < 128 || (len1 && !part1) || (len2 && !part2))
        return I61_ERR_INVALID_ARGUMENT;
    size_t chunk = tpdu_size - I61_COTP_DT_HDR;
    size_t total = len1 + len2;
    size_t nseg = total ? (total + chunk - 1) / chunk : 1;
    if (i61_buf_reserve(b, total + nseg * I61_DATA_FRAME_HDR) != 0)
        return I61_ERR_UNKNOWN;
    size_t off = 0;
    do {
        size_t n = total - off < chunk ? total - off : chunk;
        uint8_t h[7];
        i61_cotp_put_dt_header(h, n, off + n == total);
        i61_buf_put(b, h, sizeof h);
        /* copy [off, off+n) of part1 ++ part2 */
        size_t a = off, e = off + n;
        if (a < len1) {
            size_t m = (e < len1 ? e : len1) - a;
            i61_buf_put(b, part1 + a, m);
            a += m;
        }
        if (a < e)
            i61_buf_put(b, part2 + (a - len1), e - a);
        off += n;
    } while (off < total);
    return b->oom ? I61_ERR_UNKNOWN : I61_OK;
}

/* ----------------------------------------------------------- reassembly */

void i61_cotp_reasm_init(i61_cotp_reasm *r, size_t max)
{
    i61_buf_init(&r->buf);
    r->max = max;
}

void i61_cotp_reasm_free(i61_cotp_reasm *r)
{
    i61_buf_free(&r->buf);
}

void i61_cotp_reasm_reset(i61_cotp_reasm *r)
{
    i61_buf_reset(&r->buf);
}

int i61_cotp_reasm_push(i61_cotp_reasm *r, const uint8_t *data, size_t len, int eot,
                        const uint8_t **tsdu, size_t *tsdu_len)
{
    if (r->buf.len == 0 && eot) {
        if (len > r->max)
            return -I61_ERR_MALFORMED_MESSAGE;
        *tsdu = data;
        *tsdu_len = len;
        return 1;
    }
    if (len > r->max || r->buf.len > r->max - len) {
        i61_buf_reset(&r->buf);
        return -I61_ERR_MALFORMED_MESSAGE;
    }
    i61_buf_put(&r->buf, data, len);
    if (r->buf.oom) {
        i61_buf_free(&r->buf);
        return -I61_ERR_UNKNOWN;
    }
    if (!eot)
        return 0;
    *tsdu = r->buf.data;
    *tsdu_len = r->buf.len;
    r->buf.len = 0;                    /* content stays valid until the next push */
    return 1;
}
