/* libFuzzer target for every ISO-layer decoder (TPKT, COTP, session,
 * presentation, ACSE, the composed TSDU decoders, COTP reassembly) and the MMS
 * Initiate/Conclude decoder.
 *
 * The input is treated as a TCP byte stream from a peer: it is framed by TPKT
 * like the association does, every TPDU goes through COTP decode and
 * reassembly, every TSDU through the session/presentation/ACSE decoders, and
 * every MMS PDU found through the initiate/conclude decoders. In addition each
 * decoder is run on the raw input at a few offsets, so that the golden frames
 * (TPKT frames: `03 00 ...`) are good seeds for all of them. Whatever decodes
 * is re-encoded where an encoder exists, to exercise the writers with
 * decoder-produced values. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "iso/iso_conn.h"
#include "mms/initiate.h"

static void i61_fz_mms(const uint8_t *p, size_t n)
{
    int kind, cls, code;
    i61_initiate ini;
    if (i61_initiate_decode(p, n, &kind, &ini, &cls, &code) == I61_OK && kind != I61_MMS_INITIATE_ERROR) {
        i61_buf b;
        i61_buf_init(&b);
        i61_initiate_write_response(&b, &ini);
        i61_initiate srv, neg;
        i61_initiate_init_server(&srv);
        if (i61_initiate_negotiate(&ini, &srv, &neg) == I61_OK)
            i61_initiate_write_response(&b, &neg);
        i61_buf_free(&b);
    }
    i61_conclude_decode(p, n, &kind);
}

static void i61_fz_tsdu(const uint8_t *p, size_t n)
{
    const uint8_t *pdu;
    size_t pl;
    int32_t ctx;
    if (i61_iso_decode_data(p, n, &pdu, &pl, &ctx) == 1)
        i61_fz_mms(pdu, pl);
    i61_iso_ind ind;
    if (i61_iso_decode_tsdu(p, n, &ind) == I61_OK) {
        if (ind.pdu)
            i61_fz_mms(ind.pdu, ind.pdu_len);
        if (ind.type == I61_ISO_IND_CONNECT) {
            /* the server's answer to whatever was accepted */
            i61_buf b;
            i61_buf_init(&b);
            i61_iso_write_accept_tsdu(&b, &ind, I61_ACSE_ACCEPTED, I61_ACSE_DIAG_NULL, ind.pdu, ind.pdu_len);
            i61_buf_free(&b);
        }
        if (ind.has_acse) {
            i61_buf b;
            i61_buf_init(&b);
            i61_acse_write(&b, &ind.acse);
            i61_buf_free(&b);
        }
    }
}

static void i61_fz_layers(const uint8_t *p, size_t n)
{
    i61_cotp_tpdu t;
    i61_spdu s;
    i61_pres_connect c;
    i61_pres_abort pa;
    i61_acse_apdu a;
    const uint8_t *pdu;
    size_t pl;
    int32_t ctx;
    i61_cotp_decode(p, n, &t);
    if (i61_session_decode(p, n, &s) == I61_OK) {
        i61_buf b;
        i61_buf_init(&b);
        i61_session_write(&b, &s);
        i61_buf_free(&b);
    }
    if (i61_pres_decode_cp(p, n, &c) == I61_OK) {
        i61_buf b;
        i61_buf_init(&b);
        i61_pres_write_cp(&b, &c);
        i61_buf_free(&b);
    }
    i61_pres_decode_cpa(p, n, &c);
    i61_pres_decode_cpr(p, n, &c);
    i61_pres_decode_abort(p, n, &pa);
    i61_pres_decode_user_data(p, n, &ctx, &pdu, &pl);
    i61_acse_decode(p, n, &a);
    i61_fz_tsdu(p, n);
    i61_fz_mms(p, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* raw decoders at the offsets of the TPDU (4), TSDU (7) and data-phase
     * presentation PDU (11) of a golden frame */
    static const size_t offs[] = { 0, 4, 7, 11 };
    for (size_t k = 0; k < sizeof offs / sizeof offs[0]; k++)
        if (size >= offs[k])
            i61_fz_layers(data + offs[k], size - offs[k]);

    /* the byte stream as the association sees it */
    i61_cotp_reasm r;
    i61_cotp_reasm_init(&r, 65000 + 64);
    size_t off = 0;
    while (off < size) {
        size_t flen;
        int c = i61_tpkt_check(data + off, size - off, I61_TPKT_HDR + 8192, &flen);
        if (c != 1)
            break;
        i61_cotp_tpdu t;
        if (i61_cotp_decode(data + off + 4, flen - 4, &t) == I61_OK && t.code == I61_COTP_DT) {
            const uint8_t *tsdu;
            size_t tl;
            if (i61_cotp_reasm_push(&r, t.data, t.data_len, t.eot, &tsdu, &tl) == 1)
                i61_fz_tsdu(tsdu, tl);
        }
        off += flen;
    }
    i61_cotp_reasm_free(&r);
    return 0;
}
