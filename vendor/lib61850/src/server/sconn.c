/* Server connection engine: TPKT reassembly, COTP class 0 responder (CR -> CC,
 * or DR when refused), session/presentation/ACSE responder (CN -> AC, or a
 * refusal), then the data phase (MMS PDUs, release, abort).
 * Pure protocol logic over buffers: the net glue feeds received octets and
 * sends what accumulates in c->out. */
#include <stdlib.h>
#include <string.h>

#include "server_internal.h"
#include "srv_file.h"
#include "../iso/iso_conn.h"
#include "../mms/initiate.h"
#include "../net/loop.h"

#define I61_SC_CR_FRAME_MAX 1024u      /* a CR is small: reject garbage early */
#define I61_SC_CONNECT_TSDU_MAX 16384u /* CN + CP + AARQ + initiate */
#define I61_SC_TSDU_SLACK 1024u        /* session + presentation headers above the MMS PDU */
#define I61_SC_RX_CHUNK 4096u
#define I61_SC_OUR_REF 1

int i61_sconn_init(i61_sconn *c, i61_server *s, uint32_t id, bool refuse)
{
    memset(c, 0, sizeof *c);
    c->srv = s;
    c->id = id;
    c->state = I61_SC_WAIT_CR;
    c->refuse = refuse;
    c->tpdu_size = 128;
    c->max_pdu = s->max_pdu;
    c->max_outstanding = s->max_outstanding;
    c->mms_ctx = I61_PRES_CTX_MMS;
    c->acse_ctx = I61_PRES_CTX_ACSE;
    i61_cotp_reasm_init(&c->reasm, I61_SC_CONNECT_TSDU_MAX);
    i61_buf_init(&c->out);
    i61_buf_init(&c->pdu);
    i61_buf_init(&c->tsdu);
    return I61_OK;
}

void i61_sconn_free(i61_sconn *c)
{
    i61_srv_file_conn_gone(c->srv, c);             /* no-op when already done */
    free(c->rx);
    c->rx = NULL;
    c->rx_len = c->rx_cap = 0;
    i61_cotp_reasm_free(&c->reasm);
    i61_buf_free(&c->out);
    i61_buf_free(&c->pdu);
    i61_buf_free(&c->tsdu);
}

/* Largest TPKT frame accepted in the current state: a small CR first, then
 * (from the CC on) one TPDU of the negotiated size plus the TPKT header. */
static size_t i61_sc_max_frame(const i61_sconn *c)
{
    if (c->state == I61_SC_WAIT_CR)
        return I61_SC_CR_FRAME_MAX;
    size_t m = (size_t)c->tpdu_size + I61_TPKT_HDR;
    return m < I61_TPKT_MAX ? m : I61_TPKT_MAX;
}

uint8_t *i61_sconn_rx_space(i61_sconn *c, size_t *avail)
{
    size_t target = c->rx_len + I61_SC_RX_CHUNK;
    if (c->rx_len >= I61_TPKT_HDR) {
        size_t flen = (size_t)c->rx[2] << 8 | c->rx[3];
        if (flen > target && flen <= i61_sc_max_frame(c))   /* no room for a frame refused anyway */
            target = flen;
    }
    if (c->rx_cap < target) {
        size_t nc = c->rx_cap ? c->rx_cap : I61_SC_RX_CHUNK;
        while (nc < target)
            nc *= 2;
        uint8_t *p = realloc(c->rx, nc);
        if (!p) {
            if (c->rx_cap > c->rx_len) {
                *avail = c->rx_cap - c->rx_len;
                return c->rx + c->rx_len;
            }
            *avail = 0;
            return NULL;
        }
        c->rx = p;
        c->rx_cap = nc;
    }
    *avail = c->rx_cap - c->rx_len;
    return c->rx + c->rx_len;
}

void i61_sconn_consume_out(i61_sconn *c, size_t n)
{
    if (n >= c->out.len) {
        c->out.len = 0;
        return;
    }
    memmove(c->out.data, c->out.data + n, c->out.len - n);
    c->out.len -= n;
}

/* ---------------------------------------------------------------- sending */

/* A whole TSDU in c->tsdu as DT frames. */
static int i61_sc_send_tsdu(i61_sconn *c)
{
    if (c->tsdu.oom ||
        i61_cotp_write_data(&c->out, c->tpdu_size, c->tsdu.data, c->tsdu.len, NULL, 0) != I61_OK ||
        c->out.oom) {
        c->close_now = true;
        return -1;
    }
    return 0;
}

int i61_sconn_send_pdu(i61_sconn *c, const uint8_t *pdu, size_t len)
{
    uint8_t hdr[I61_ISO_DATA_HDR_MAX];
    memcpy(hdr, i61_session_data_prefix, I61_SESSION_DATA_PREFIX_LEN);
    size_t hl = I61_SESSION_DATA_PREFIX_LEN +
                i61_pres_data_header(hdr + I61_SESSION_DATA_PREFIX_LEN, c->mms_ctx, len);
    if (i61_cotp_write_data(&c->out, c->tpdu_size, hdr, hl, pdu, len) != I61_OK || c->out.oom) {
        c->close_now = true;
        return -1;
    }
    return 0;
}

/* Session AB + ABRT, then close: for protocol errors in the data phase. */
static void i61_sc_abort(i61_sconn *c)
{
    i61_buf_reset(&c->tsdu);
    if (i61_iso_write_abort_tsdu_ctx(&c->tsdu, c->acse_ctx) == I61_OK)
        i61_sc_send_tsdu(c);
    c->state = I61_SC_CLOSING;
    c->close_after_flush = true;
}

/* COTP DR, then close. */
static void i61_sc_disconnect(i61_sconn *c, uint8_t reason)
{
    if (i61_cotp_write_dr(&c->out, c->peer_ref, I61_SC_OUR_REF, reason) != I61_OK || c->out.oom)
        c->close_now = true;
    c->state = I61_SC_CLOSING;
    c->close_after_flush = true;
}

/* ------------------------------------------------------------ COTP CR */

static void i61_sc_on_cr(i61_sconn *c, const i61_cotp_tpdu *t)
{
    c->peer_ref = t->src_ref;
    if (c->refuse) {
        i61_sc_disconnect(c, 1);                       /* congestion at TSAP */
        return;
    }
    if ((t->class_option >> 4) != 0) {
        i61_sc_disconnect(c, I61_COTP_DR_NEGOTIATION_FAILED);   /* only class 0 */
        return;
    }
    uint8_t code = t->tpdu_size_code ? t->tpdu_size_code : 7;     /* absent: 128 */
    if (code > 13)
        code = 13;
    if (code < 7)
        code = 7;
    i61_cotp_conn_params p;
    memset(&p, 0, sizeof p);
    p.dst_ref = t->src_ref;
    p.src_ref = I61_SC_OUR_REF;
    p.class_option = 0;
    p.tpdu_size_code = code;
    if (t->has_calling_tsel) {
        p.calling_tsel = t->calling_tsel;
        p.calling_tsel_len = t->calling_tsel_len;
    }
    if (t->has_called_tsel) {
        p.called_tsel = t->called_tsel;
        p.called_tsel_len = t->called_tsel_len;
    }
    if (i61_cotp_write_cc(&c->out, &p) != I61_OK || c->out.oom) {
        c->close_now = true;
        return;
    }
    c->tpdu_size = i61_cotp_size_from_code(code);
    c->state = I61_SC_WAIT_CN;
}

/* ------------------------------------------------------- association */

static bool i61_oid_eq(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    return al == bl && memcmp(a, b, al) == 0;
}

/* Session RF (+ CPR): the presentation connection cannot be made at all. */
static void i61_sc_refuse(i61_sconn *c, int provider_reason)
{
    i61_buf_reset(&c->tsdu);
    i61_buf cpr;
    i61_buf_init(&cpr);
    i61_pres_connect pc;
    memset(&pc, 0, sizeof pc);
    pc.provider_reason = provider_reason;
    int rc = i61_pres_write_cpr(&cpr, &pc);
    if (rc == I61_OK && !cpr.oom) {
        i61_spdu s;
        memset(&s, 0, sizeof s);
        s.si = I61_SPDU_RF;
        s.has_transport_disconnect = 1;
        s.transport_disconnect = 1;
        s.has_reason = 1;
        s.reason = I61_SESSION_RF_USER_DATA;
        s.user_data = cpr.data;
        s.user_data_len = cpr.len;
        rc = i61_session_write(&c->tsdu, &s);
    } else {
        rc = i61_iso_write_refuse_tsdu(&c->tsdu, I61_SESSION_RF_USER_REJECT);
    }
    i61_buf_free(&cpr);
    if (rc == I61_OK)
        i61_sc_send_tsdu(c);
    else
        c->close_now = true;
    c->state = I61_SC_CLOSING;
    c->close_after_flush = true;
}

static void i61_sc_on_connect(i61_sconn *c, const i61_iso_ind *ind)
{
    /* presentation: we need the ACSE and the MMS abstract syntaxes, both BER */
    int32_t mms_ctx = -1;
    bool acse_ok = false;
    for (size_t k = 0; k < ind->pres.n_ctx; k++) {
        const i61_pres_ctx *x = &ind->pres.ctx[k];
        if (!x->ber)
            continue;
        if (i61_oid_eq(x->abstract_syntax, x->abstract_syntax_len, i61_oid_acse_as,
                       sizeof i61_oid_acse_as))
            acse_ok = true;
        else if (i61_oid_eq(x->abstract_syntax, x->abstract_syntax_len, i61_oid_mms_as,
                            sizeof i61_oid_mms_as))
            mms_ctx = x->id;
    }
    if (!acse_ok) {
        i61_sc_refuse(c, 0);                           /* reason-not-specified */
        return;
    }
    int32_t acse_ctx = i61_iso_find_ctx(&ind->pres, i61_oid_acse_as, sizeof i61_oid_acse_as);
    c->acse_ctx = acse_ctx > 0 ? acse_ctx : I61_PRES_CTX_ACSE;
    int result = I61_ACSE_ACCEPTED, diag = I61_ACSE_DIAG_NULL, irc = -1;
    i61_buf mms;
    i61_buf_init(&mms);
    if (mms_ctx < 0) {
        result = I61_ACSE_REJECTED_PERMANENT;
        diag = I61_ACSE_DIAG_NO_REASON;
    } else if (!i61_oid_eq(ind->acse.app_ctx, ind->acse.app_ctx_len, i61_oid_mms_context,
                           sizeof i61_oid_mms_context)) {
        result = I61_ACSE_REJECTED_PERMANENT;
        diag = I61_ACSE_DIAG_APP_CTX_NOT_SUPPORTED;
    } else if (!ind->pdu || ind->ctx != mms_ctx) {
        result = I61_ACSE_REJECTED_PERMANENT;
        diag = I61_ACSE_DIAG_NO_REASON;
    } else {
        irc = i61_srv_initiate(c, ind->pdu, ind->pdu_len, &mms);
        if (irc != 0) {
            result = I61_ACSE_REJECTED_PERMANENT;
            diag = I61_ACSE_DIAG_NO_REASON;
        }
    }
    i61_buf_reset(&c->tsdu);
    int rc = i61_iso_write_accept_tsdu(&c->tsdu, ind, result, diag, mms.len ? mms.data : NULL,
                                       mms.len);
    i61_buf_free(&mms);
    if (rc != I61_OK || i61_sc_send_tsdu(c) != 0) {
        c->close_now = true;
        return;
    }
    if (result != I61_ACSE_ACCEPTED) {
        c->state = I61_SC_CLOSING;
        c->close_after_flush = true;
        return;
    }
    c->state = I61_SC_ASSOCIATED;
    c->mms_ctx = mms_ctx;
    i61_cotp_reasm_free(&c->reasm);
    i61_cotp_reasm_init(&c->reasm, (size_t)c->max_pdu + I61_SC_TSDU_SLACK);
}

/* ------------------------------------------------------------ TSDUs */

static void i61_sc_on_tsdu(i61_sconn *c, const uint8_t *tsdu, size_t len)
{
    if (c->state == I61_SC_ASSOCIATED) {
        const uint8_t *pdu;
        size_t plen;
        int32_t ctx;
        int r = i61_iso_decode_data(tsdu, len, &pdu, &plen, &ctx);
        if (r == 1) {
            if (ctx != c->mms_ctx)
                i61_sc_abort(c);                   /* data in another context */
            else
                i61_srv_mms_pdu(c, pdu, plen);
            return;
        }
        if (r < 0) {
            i61_sc_abort(c);
            return;
        }
    }
    i61_iso_ind ind;
    int rc = i61_iso_decode_tsdu(tsdu, len, &ind);
    if (c->state == I61_SC_WAIT_CN) {
        if (rc == I61_OK && ind.type == I61_ISO_IND_CONNECT) {
            i61_sc_on_connect(c, &ind);
        } else if (len > 0 && tsdu[0] == I61_SPDU_CN) {
            i61_sc_refuse(c, 6);                       /* user-data-not-readable */
        } else if (rc == I61_OK && ind.type == I61_ISO_IND_ABORT) {
            c->close_now = true;
        } else {
            i61_sc_disconnect(c, I61_COTP_DR_PROTOCOL_ERROR);
        }
        return;
    }
    /* associated, not a plain data TSDU */
    if (rc != I61_OK) {
        i61_sc_abort(c);
        return;
    }
    switch (ind.type) {
    case I61_ISO_IND_DATA:
        if (ind.pdu && ind.ctx == c->mms_ctx)
            i61_srv_mms_pdu(c, ind.pdu, ind.pdu_len);
        else
            i61_sc_abort(c);
        break;
    case I61_ISO_IND_RELEASE_REQUEST: {
        /* the RLRE travels in the presentation context the RLRQ came in (the
         * client's ACSE context id, not necessarily 1) */
        int32_t actx = I61_PRES_CTX_ACSE;
        const uint8_t *apdu;
        size_t alen;
        if (ind.spdu.user_data_len == 0 ||
            i61_pres_decode_user_data(ind.spdu.user_data, ind.spdu.user_data_len, &actx, &apdu,
                                      &alen) != I61_OK ||
            actx <= 0)
            actx = I61_PRES_CTX_ACSE;
        i61_buf_reset(&c->tsdu);
        if (i61_iso_write_release_response_tsdu_ctx(&c->tsdu, actx) == I61_OK)
            i61_sc_send_tsdu(c);
        c->state = I61_SC_CLOSING;
        c->close_after_flush = true;
        break;
    }
    case I61_ISO_IND_ABORT:
        c->close_now = true;
        break;
    default:
        i61_sc_abort(c);
        break;
    }
}

/* ------------------------------------------------------------ frames */

static void i61_sc_on_frame(i61_sconn *c, const uint8_t *tpdu, size_t len)
{
    i61_cotp_tpdu t;
    if (i61_cotp_decode(tpdu, len, &t) != I61_OK) {
        if (c->state == I61_SC_ASSOCIATED)
            i61_sc_abort(c);
        else
            c->close_now = true;
        return;
    }
    if (c->state == I61_SC_WAIT_CR) {
        if (t.code == I61_COTP_CR)
            i61_sc_on_cr(c, &t);
        else
            c->close_now = true;
        return;
    }
    switch (t.code) {
    case I61_COTP_DT: {
        const uint8_t *tsdu;
        size_t tlen;
        int r = i61_cotp_reasm_push(&c->reasm, t.data, t.data_len, t.eot, &tsdu, &tlen);
        if (r == 1)
            i61_sc_on_tsdu(c, tsdu, tlen);
        else if (r < 0) {
            if (c->state == I61_SC_ASSOCIATED)
                i61_sc_abort(c);                   /* TSDU beyond the negotiated size */
            else
                i61_sc_disconnect(c, I61_COTP_DR_PROTOCOL_ERROR);
        }
        break;
    }
    case I61_COTP_DR:
    case I61_COTP_ER:
    case I61_COTP_DC:
        c->close_now = true;
        break;
    default:                                       /* CR/CC again, unknown */
        if (c->state == I61_SC_ASSOCIATED)
            i61_sc_abort(c);
        else
            i61_sc_disconnect(c, I61_COTP_DR_PROTOCOL_ERROR);
        break;
    }
}

int i61_sconn_rx_commit(i61_sconn *c, size_t n)
{
    c->rx_len += n;
    size_t off = 0;
    while (!c->close_now && c->state != I61_SC_CLOSING) {
        size_t flen = 0;
        int r = i61_tpkt_check(c->rx + off, c->rx_len - off, i61_sc_max_frame(c), &flen);
        if (r == 0)
            break;
        if (r < 0) {
            if (c->state == I61_SC_ASSOCIATED)
                i61_sc_abort(c);
            else
                c->close_now = true;
            break;
        }
        i61_sc_on_frame(c, c->rx + off + I61_TPKT_HDR, flen - I61_TPKT_HDR);
        off += flen;
    }
    if (c->close_now || c->state == I61_SC_CLOSING) {
        c->rx_len = 0;                             /* input after the end is ignored */
    } else if (off > 0) {
        memmove(c->rx, c->rx + off, c->rx_len - off);
        c->rx_len -= off;
    }
    return c->close_now ? -1 : 0;
}

int i61_sconn_feed(i61_sconn *c, const uint8_t *p, size_t n)
{
    while (n > 0) {
        size_t avail;
        uint8_t *dst = i61_sconn_rx_space(c, &avail);
        if (!dst || avail == 0) {
            c->close_now = true;
            return -1;
        }
        size_t k = n < avail ? n : avail;
        memcpy(dst, p, k);
        p += k;
        n -= k;
        if (i61_sconn_rx_commit(c, k) != 0)
            return -1;
    }
    return 0;
}
