/* libFuzzer target: the server connection engine (TPKT/COTP/session/
 * presentation/ACSE responder and the MMS services) fed with arbitrary octets,
 * starting fresh, after the COTP handshake, or associated. A read hook and a
 * write hook defer some requests; they are completed, timed out or orphaned
 * at the end. The engine must never crash, leak or read out of bounds, and
 * must end in a defined state.
 *
 * Input: if it starts with 03 (a TPKT, like the golden seed frames) the start
 * state is chosen from the frame (CR -> fresh, session CN -> after CC, else
 * associated); otherwise the first octet selects the state and the second the
 * chunk size used to feed the rest. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iso/iso_conn.h"
#include "mms/initiate.h"
#include "server/server_internal.h"

static i61_server *i61_fz_srv;
static uint64_t i61_fz_tokens[64];
static size_t i61_fz_ntok;

static int i61_fz_read_hook(void *ud, uint64_t token, uint32_t conn, const char *ref, int fc)
{
    (void)ud; (void)conn; (void)ref; (void)fc;
    if (i61_fz_ntok < 64)
        i61_fz_tokens[i61_fz_ntok++] = token;
    return I61_HOOK_DEFER;
}

static int i61_fz_write_hook(void *ud, uint64_t token, uint32_t conn, const char *ref, int fc,
                             const i61_value *v)
{
    (void)ud; (void)conn; (void)ref; (void)fc; (void)v;
    if ((token & 1) && i61_fz_ntok < 64) {
        i61_fz_tokens[i61_fz_ntok++] = token;
        return I61_HOOK_DEFER;
    }
    return I61_HOOK_ACCEPT;
}

static void i61_fz_da(i61_mnode *p, const char *n, int fc, int type, int size, int count,
                      i61_mnode **out)
{
    if (i61_model_add_da(p, n, fc, type, size, count, out) != 0)
        abort();
}

static i61_model *i61_fz_model(void)
{
    i61_model *m = i61_model_new("IED1");
    i61_mnode *ld, *lln0, *ggio, *ptoc, *d, *s;
    if (!m || i61_model_add_ld(m, "LD1", NULL, &ld) || i61_model_add_ln(ld, "LLN0", &lln0) ||
        i61_model_add_ln(ld, "GGIO1", &ggio) || i61_model_add_ln(ld, "PTOC1", &ptoc))
        abort();
    if (i61_model_add_do(lln0, "NamPlt", &d))
        abort();
    i61_fz_da(d, "vendor", I61_FC_DC, I61_TYPE_VISIBLE_STRING, -255, 0, NULL);
    if (i61_model_add_do(ggio, "Ind1", &d))
        abort();
    i61_fz_da(d, "stVal", I61_FC_ST, I61_TYPE_BOOLEAN, 0, 0, NULL);
    i61_fz_da(d, "q", I61_FC_ST, I61_TYPE_BIT_STRING, -13, 0, NULL);
    i61_fz_da(d, "t", I61_FC_ST, I61_TYPE_UTC_TIME, 0, 0, NULL);
    i61_fz_da(d, "d", I61_FC_DC, I61_TYPE_VISIBLE_STRING, -255, 0, NULL);
    if (i61_model_add_do(ggio, "AnIn1", &d))
        abort();
    i61_fz_da(d, "mag", I61_FC_MX, I61_TYPE_STRUCTURE, 0, 0, &s);
    i61_fz_da(s, "f", I61_FC_NONE, I61_TYPE_FLOAT, 32, 0, NULL);
    i61_fz_da(d, "q", I61_FC_MX, I61_TYPE_BIT_STRING, -13, 0, NULL);
    i61_fz_da(d, "t", I61_FC_MX, I61_TYPE_UTC_TIME, 0, 0, NULL);
    if (i61_model_add_do(ggio, "Crv", &d))
        abort();
    i61_fz_da(d, "pts", I61_FC_SP, I61_TYPE_STRUCTURE, 0, 3, &s);
    i61_fz_da(s, "x", I61_FC_NONE, I61_TYPE_FLOAT, 32, 0, NULL);
    i61_fz_da(s, "y", I61_FC_NONE, I61_TYPE_INTEGER, 16, 0, NULL);
    i61_fz_da(d, "vals", I61_FC_SP, I61_TYPE_UNSIGNED, 8, 4, NULL);
    if (i61_model_add_do(ptoc, "StrVal", &d))
        abort();
    i61_fz_da(d, "setMag", I61_FC_SP, I61_TYPE_STRUCTURE, 0, 0, &s);
    i61_fz_da(s, "f", I61_FC_NONE, I61_TYPE_FLOAT, 32, 0, NULL);
    return m;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    i61_fz_srv = i61_server_new(i61_fz_model());
    if (!i61_fz_srv)
        abort();
    i61_server_set_write_access(i61_fz_srv, I61_FC_DC, 1);
    i61_server_set_read_hook(i61_fz_srv, "IED1LD1/GGIO1.AnIn1", I61_FC_MX, i61_fz_read_hook, NULL);
    i61_server_set_write_hook(i61_fz_srv, "IED1LD1/PTOC1.StrVal", I61_FC_SP, i61_fz_write_hook, NULL);
    i61_server_set_queued_read_hook(i61_fz_srv, "IED1LD1/GGIO1.Ind1", I61_FC_ST, 1, NULL);
    i61_server_set_queued_write_hook(i61_fz_srv, "IED1LD1/GGIO1.Ind1.d", I61_FC_DC, 1, NULL);
    i61_server_set_event_queue_size(i61_fz_srv, 8);
    return 0;
}

/* CR and CN+initiate built with our own client-side codecs. */
static void i61_fz_handshake(i61_sconn *c, int upto)
{
    i61_iso_addr addr;
    i61_iso_addr_init_default(&addr);
    i61_buf b;
    i61_buf_init(&b);
    i61_iso_write_cr(&b, &addr, 8192, 1);
    i61_sconn_feed(c, b.data, b.len);
    if (upto >= 2) {
        i61_buf init, tsdu;
        i61_buf_init(&init);
        i61_buf_init(&tsdu);
        i61_initiate ini;
        i61_initiate_init_client(&ini);
        ini.local_detail = 4000;
        i61_initiate_write_request(&init, &ini);
        i61_iso_write_connect_tsdu(&tsdu, &addr, init.data, init.len);
        i61_buf_reset(&b);
        i61_cotp_write_data(&b, 8192, tsdu.data, tsdu.len, NULL, 0);
        i61_sconn_feed(c, b.data, b.len);
        i61_buf_free(&init);
        i61_buf_free(&tsdu);
    }
    i61_buf_free(&b);
    i61_sconn_consume_out(c, c->out.len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int start;
    size_t chunk = 0;
    if (size >= 8 && data[0] == 0x03) {
        if (data[5] == 0xe0)
            start = 0;
        else if (data[7] == 0x0d)
            start = 1;
        else
            start = 2;
    } else {
        if (size < 2)
            return 0;
        start = data[0] % 3;
        chunk = data[1];
        data += 2;
        size -= 2;
    }
    i61_fz_ntok = 0;
    i61_sconn c;
    i61_sconn_init(&c, i61_fz_srv, 1, false);
    if (start > 0)
        i61_fz_handshake(&c, start);
    size_t off = 0;
    while (off < size && !c.close_now) {
        size_t k = chunk ? chunk : size - off;
        if (k > size - off)
            k = size - off;
        i61_sconn_feed(&c, data + off, k);
        off += k;
        if (c.out.len > (1u << 22))
            i61_sconn_consume_out(&c, c.out.len);   /* a peer that reads everything */
    }
    /* settle the deferred requests: complete some, time out the rest, or orphan them */
    for (size_t i = 0; i < i61_fz_ntok; i++) {
        if (i % 3 == 0)
            i61_server_complete_read(i61_fz_srv, i61_fz_tokens[i], I61_HOOK_ACCEPT);
        else if (i % 3 == 1)
            i61_server_complete_write(i61_fz_srv, i61_fz_tokens[i], (int)(i % 12));
    }
    i61_server_event *ev = NULL;
    for (int k = 0; i61_server_next_event(i61_fz_srv, 0, &ev) == 0; k++) {
        if (k & 1)
            i61_server_complete_read(i61_fz_srv, ev->token, k % 13 == 12 ? I61_HOOK_ACCEPT : k % 12);
        else
            i61_server_complete_write(i61_fz_srv, ev->token, I61_HOOK_ACCEPT);
        i61_server_event_free(ev);
    }
    i61_srv_run_ready(i61_fz_srv);
    if (size & 1)
        i61_srv_sweep_timeouts(i61_fz_srv, UINT64_MAX / 2);
    i61_srv_conn_gone(i61_fz_srv, &c);
    i61_srv_sweep_timeouts(i61_fz_srv, UINT64_MAX / 2);
    if (c.outstanding < 0 || c.state < I61_SC_WAIT_CR || c.state > I61_SC_CLOSING)
        abort();
    i61_sconn_free(&c);
    return 0;
}
