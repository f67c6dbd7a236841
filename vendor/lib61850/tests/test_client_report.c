/* Client side of reporting against a scripted fake server on loopback:
 *  - RCBs: GetURCBValues / GetBRCBValues requests byte for byte as golden
 *    061 / 071, answers 062 / 072 decoded into attributes; Ed1, Ed2 and odd
 *    RCB structures; SetURCBValues as one Write byte for byte as golden 063,
 *    SetBRCBValues one attribute per Write as 073 / 075 / 079; write order,
 *    refused attributes, local type checks; servers that refuse the Read of
 *    a whole RCB: the attributes read as one list Read instead;
 *  - reports: golden 065 and the segmented pair 149/150 through the queue,
 *    malformed reports and broken segment sequences counted, the bounds on
 *    partial reports, a full queue, batching, timeouts, interrupt/resume,
 *    the close of the connection, and reports interleaved with the answers
 *    to another thread's reads. */
#include "t.h"
#include "client/client_internal.h"
#include "iso/cotp.h"
#include "iso/iso_conn.h"
#include "mms/mms_data.h"
#include "mms/mms_report.h"
#include "net/loop.h"
#include "net/sock.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ golden PDUs */

/* The MMS PDU of a golden frame (TPKT, COTP DT, session GT+DT, presentation
 * 61 { 30 { 02 ctx, a0 <MMS> } }): a malloc'd copy. */
static uint8_t *g_pdu(const char *name, size_t *len)
{
    size_t fl;
    uint8_t *f = t_golden(name, &fl);
    size_t p = 4 + 1 + (size_t)f[4] + 4;
    i61_ber_tlv t, c;
    i61_ber_reader r;
    if (i61_ber_parse(f + p, fl - p, &t, NULL) != 0 || t.id != 0x61) goto bad;
    i61_ber_reader_sub(&r, &t);
    if (i61_ber_next(&r, &t) != 0 || t.id != 0x30) goto bad;
    i61_ber_reader_sub(&r, &t);
    if (i61_ber_next(&r, &c) != 0 || c.id != 0x02) goto bad;
    if (i61_ber_next(&r, &c) != 0 || c.id != 0xa0) goto bad;
    uint8_t *out = malloc(c.len);
    memcpy(out, c.val, c.len);
    *len = c.len;
    free(f);
    return out;
bad:
    fprintf(stderr, "%s: no presentation data\n", name);
    exit(2);
}

/* Invoke id of a confirmed PDU and the octets after it (the service). */
static int pdu_split(const uint8_t *pdu, size_t len, uint32_t *id, const uint8_t **rest,
                     size_t *rest_len)
{
    i61_ber_tlv t, c;
    i61_ber_reader r;
    if (i61_ber_parse(pdu, len, &t, NULL) != 0)
        return -1;
    i61_ber_reader_sub(&r, &t);
    if (i61_ber_next(&r, &c) != 0 || (c.id != 0x02 && c.id != 0x80))
        return -1;
    if (i61_ber_get_uint32(&c, id) != 0)
        return -1;
    *rest = c.val + c.len;
    *rest_len = (size_t)(t.val + t.len - *rest);
    return 0;
}

/* Does request `pdu` equal the golden request but for the invoke id? */
static int same_request(const uint8_t *pdu, size_t len, const char *golden)
{
    size_t gl;
    uint8_t *g = g_pdu(golden, &gl);
    uint32_t a, b;
    const uint8_t *ra, *rb;
    size_t la, lb;
    int ok = pdu_split(pdu, len, &a, &ra, &la) == 0 && pdu_split(g, gl, &b, &rb, &lb) == 0 &&
             pdu[0] == g[0] && la == lb && memcmp(ra, rb, la) == 0;
    if (!ok) {
        fprintf(stderr, "request differs from %s:\n  got ", golden);
        for (size_t i = 0; i < len; i++) fprintf(stderr, "%02x", pdu[i]);
        fprintf(stderr, "\n  exp ");
        for (size_t i = 0; i < gl; i++) fprintf(stderr, "%02x", g[i]);
        fprintf(stderr, "\n");
    }
    free(g);
    return ok;
}

/* Template answer (confirmed response/error PDU) with another invoke id. */
static void with_invoke_id(i61_buf *out, const uint8_t *tpl, size_t tl, uint32_t id)
{
    uint32_t old;
    const uint8_t *rest;
    size_t rl;
    i61_buf_reset(out);
    if (pdu_split(tpl, tl, &old, &rest, &rl) != 0) {
        fprintf(stderr, "bad template\n");
        exit(2);
    }
    size_t m = i61_ber_open(out, tpl[0]);
    i61_ber_put_uint64(out, tpl[0] == 0xa2 ? 0x80 : 0x02, id);
    i61_buf_put(out, rest, rl);
    i61_ber_close(out, m);
}

/* ------------------------------------------------------------ fake server */

#define FS_MAX_TPL 16
#define FS_MAX_REQ 16

typedef struct fs fs;
typedef void (*fs_fn)(fs *s, uint32_t invoke_id, const uint8_t *pdu, size_t len);

struct fs {
    int lfd, port, fd;
    pthread_t th;
    pthread_mutex_t mu;          /* socket writes and the fields below */
    fs_fn fn;                    /* answers confirmed requests (server thread); NULL: templates */
    void *ud;
    uint8_t *tpl[FS_MAX_TPL];    /* answers in order, invoke id patched */
    size_t tpl_len[FS_MAX_TPL];
    int ntpl, next_tpl;
    uint8_t *req[FS_MAX_REQ];    /* the first requests, as received */
    size_t req_len[FS_MAX_REQ];
    int nreq;
    int requests;
    uint32_t counter;            /* for handlers */
};

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t r = send(fd, p, n, MSG_NOSIGNAL);
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int read_exact(int fd, uint8_t *p, size_t n, int timeout_ms)
{
    while (n) {
        struct pollfd pf = { fd, POLLIN, 0 };
        if (poll(&pf, 1, timeout_ms) <= 0)
            return -1;
        ssize_t r = read(fd, p, n);
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int read_frame(int fd, uint8_t *buf, size_t cap, int timeout_ms)
{
    if (read_exact(fd, buf, 4, timeout_ms) != 0)
        return -1;
    size_t n = (size_t)buf[2] << 8 | buf[3];
    if (n < 4 || n > cap || read_exact(fd, buf + 4, n - 4, timeout_ms) != 0)
        return -1;
    return (int)n;
}

/* Sends one MMS PDU (any thread). */
static void fs_send(fs *s, const uint8_t *pdu, size_t len)
{
    i61_buf t, f;
    i61_buf_init(&t);
    i61_buf_init(&f);
    i61_iso_write_data_tsdu(&t, pdu, len);
    i61_cotp_write_data(&f, 8192, t.data, t.len, NULL, 0);
    pthread_mutex_lock(&s->mu);
    if (s->fd >= 0)
        write_all(s->fd, f.data, f.len);
    pthread_mutex_unlock(&s->mu);
    i61_buf_free(&t);
    i61_buf_free(&f);
}

static void fs_send_golden_frame(fs *s, const char *name)
{
    size_t n;
    uint8_t *g = t_golden(name, &n);
    pthread_mutex_lock(&s->mu);
    if (s->fd >= 0)
        write_all(s->fd, g, n);
    pthread_mutex_unlock(&s->mu);
    free(g);
}

/* Queues an answer template (copied). */
static void fs_answer(fs *s, const uint8_t *pdu, size_t len)
{
    pthread_mutex_lock(&s->mu);
    if (s->ntpl < FS_MAX_TPL) {
        s->tpl[s->ntpl] = malloc(len);
        memcpy(s->tpl[s->ntpl], pdu, len);
        s->tpl_len[s->ntpl++] = len;
    }
    pthread_mutex_unlock(&s->mu);
}

static void fs_answer_golden(fs *s, const char *name)
{
    size_t n;
    uint8_t *p = g_pdu(name, &n);
    fs_answer(s, p, n);
    free(p);
}

static void fs_on_request(fs *s, const uint8_t *pdu, size_t len)
{
    uint32_t id;
    const uint8_t *rest;
    size_t rl;
    if (pdu_split(pdu, len, &id, &rest, &rl) != 0)
        return;
    pthread_mutex_lock(&s->mu);
    s->requests++;
    if (s->nreq < FS_MAX_REQ) {
        s->req[s->nreq] = malloc(len);
        memcpy(s->req[s->nreq], pdu, len);
        s->req_len[s->nreq++] = len;
    }
    fs_fn fn = s->fn;
    uint8_t *tpl = NULL;
    size_t tl = 0;
    if (!fn && s->next_tpl < s->ntpl) {
        tpl = s->tpl[s->next_tpl];
        tl = s->tpl_len[s->next_tpl++];
    }
    pthread_mutex_unlock(&s->mu);
    if (fn) {
        fn(s, id, pdu, len);
    } else if (tpl) {
        i61_buf b;
        i61_buf_init(&b);
        with_invoke_id(&b, tpl, tl, id);
        fs_send(s, b.data, b.len);
        i61_buf_free(&b);
    }
}

static void fs_serve(fs *s, int fd)
{
    uint8_t *buf = malloc(70000);
    i61_cotp_reasm ra;
    i61_cotp_reasm_init(&ra, 70000);
    for (;;) {
        int n = read_frame(fd, buf, 70000, 10000);
        if (n < 0)
            break;
        i61_cotp_tpdu t;
        if (i61_cotp_decode(buf + 4, (size_t)n - 4, &t) != I61_OK)
            break;
        if (t.code == I61_COTP_CR) {
            fs_send_golden_frame(s, "002_cotp_cc");
            continue;
        }
        if (t.code != I61_COTP_DT)
            break;
        const uint8_t *tsdu;
        size_t tl;
        int rr = i61_cotp_reasm_push(&ra, t.data, t.data_len, t.eot, &tsdu, &tl);
        if (rr < 0)
            break;
        if (rr == 0)
            continue;
        i61_iso_ind ind;
        if (i61_iso_decode_tsdu(tsdu, tl, &ind) != I61_OK)
            break;
        if (ind.type == I61_ISO_IND_CONNECT) {
            fs_send_golden_frame(s, "004_initiate_response");
            continue;
        }
        if (ind.type == I61_ISO_IND_RELEASE_REQUEST) {
            fs_send_golden_frame(s, "137_release_rlre");
            break;
        }
        if (ind.type != I61_ISO_IND_DATA || ind.pdu_len < 2)
            break;
        if (ind.pdu[0] == 0x8b) {
            fs_send_golden_frame(s, "135_conclude_response");
            continue;
        }
        if (ind.pdu[0] == 0xa0)
            fs_on_request(s, ind.pdu, ind.pdu_len);
    }
    i61_cotp_reasm_free(&ra);
    free(buf);
}

static void *fs_main(void *arg)
{
    fs *s = arg;
    struct pollfd pf = { s->lfd, POLLIN, 0 };
    if (poll(&pf, 1, 10000) == 1) {
        int fd = accept(s->lfd, NULL, NULL);
        if (fd >= 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            pthread_mutex_lock(&s->mu);
            s->fd = fd;
            pthread_mutex_unlock(&s->mu);
            fs_serve(s, fd);
            pthread_mutex_lock(&s->mu);
            s->fd = -1;
            pthread_mutex_unlock(&s->mu);
            close(fd);
        }
    }
    return NULL;
}

static void fs_start(fs *s, fs_fn fn, void *ud)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->fn = fn;
    s->ud = ud;
    pthread_mutex_init(&s->mu, NULL);
    T_EQ_INT(i61_sock_listen("127.0.0.1", 0, 4, &s->lfd, &s->port), 0);
    pthread_create(&s->th, NULL, fs_main, s);
}

/* Ends the TCP connection from the server side (the client sees it closed). */
static void fs_drop(fs *s)
{
    pthread_mutex_lock(&s->mu);
    if (s->fd >= 0)
        shutdown(s->fd, SHUT_RDWR);
    pthread_mutex_unlock(&s->mu);
}

static void fs_stop(fs *s)
{
    fs_drop(s);
    pthread_join(s->th, NULL);
    close(s->lfd);
    for (int i = 0; i < s->ntpl; i++)
        free(s->tpl[i]);
    for (int i = 0; i < s->nreq; i++)
        free(s->req[i]);
    pthread_mutex_destroy(&s->mu);
}

/* Counters and recorded requests, read under the server's lock (TSan). */
static int fs_requests(fs *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->requests;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static int fs_nreq(fs *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->nreq;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* Request i equals the golden request (but for the invoke id). */
static int fs_req_is(fs *s, int i, const char *golden)
{
    if (fs_nreq(s) <= i)
        return 0;
    pthread_mutex_lock(&s->mu);
    const uint8_t *p = s->req[i];
    size_t n = s->req_len[i];
    pthread_mutex_unlock(&s->mu);
    return same_request(p, n, golden);
}

static i61_client *connect_client(fs *s)
{
    i61_client *c = i61_client_new();
    T_CHECK(c != NULL);
    i61_client_set_request_timeout(c, 3000);
    T_EQ_INT(i61_client_connect(c, "127.0.0.1", s->port), I61_OK);
    return c;
}

static void finish(i61_client *c, fs *s)
{
    i61_client_free(c);
    fs_stop(s);
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------------- RCBs */

static int bool_of(const i61_value *v)
{
    int b = -1;
    if (i61_value_get_boolean(v, &b) != I61_OK)
        return -1;
    return b;
}

static long long uint_of(const i61_value *v)
{
    uint64_t u;
    if (i61_value_get_uint64(v, &u) != I61_OK)
        return -1;
    return (long long)u;
}

static int str_is(const i61_value *v, const char *s)
{
    size_t n = 0;
    const uint8_t *p = i61_value_get_bytes(v, &n);
    return p && n == strlen(s) && memcmp(p, s, n) == 0;
}

static int bits_are(const i61_value *v, int nbits, const uint8_t *octets)
{
    size_t n = 0;
    const uint8_t *p = i61_value_get_bytes(v, &n);
    return p && i61_value_bit_size(v) == nbits && n == (size_t)(nbits + 7) / 8 &&
           memcmp(p, octets, n) == 0;
}

static void test_read_urcb(void)
{
    fs s;
    fs_start(&s, NULL, NULL);
    fs_answer_golden(&s, "062_read_urcb_response");
    i61_client *c = connect_client(&s);
    i61_rcb *r = NULL;
    T_EQ_INT(i61_client_read_rcb(c, "IED1LD1/LLN0.RP.urcb01", &r), I61_OK);
    T_CHECK(fs_req_is(&s, 0, "061_read_urcb_request"));
    T_CHECK(r != NULL);
    if (r) {
        T_CHECK(strcmp(i61_rcb_reference(r), "IED1LD1/LLN0.RP.urcb01") == 0);
        T_EQ_INT(i61_rcb_is_buffered(r), 0);
        for (int a = 0; a < I61_RCB_ATTR_COUNT; a++) {
            int expect = a <= I61_RCB_GI;           /* 11 components, no Owner */
            T_EQ_INT(i61_rcb_has(r, a), expect);
            T_CHECK((i61_rcb_get(r, a) != NULL) == expect);
        }
        T_CHECK(str_is(i61_rcb_get(r, I61_RCB_RPT_ID), "urcb01RptID"));
        T_EQ_INT(bool_of(i61_rcb_get(r, I61_RCB_RPT_ENA)), 0);
        T_EQ_INT(bool_of(i61_rcb_get(r, I61_RCB_RESV)), 0);
        T_CHECK(str_is(i61_rcb_get(r, I61_RCB_DATSET), "IED1LD1/LLN0$Events"));
        T_EQ_INT(uint_of(i61_rcb_get(r, I61_RCB_CONF_REV)), 1);
        static const uint8_t opt[] = {0x78, 0x80};
        T_CHECK(bits_are(i61_rcb_get(r, I61_RCB_OPT_FLDS), 10, opt));
        T_EQ_INT(uint_of(i61_rcb_get(r, I61_RCB_BUF_TM)), 50);
        T_EQ_INT(uint_of(i61_rcb_get(r, I61_RCB_SQ_NUM)), 0);
        static const uint8_t trg[] = {0x6c};
        T_CHECK(bits_are(i61_rcb_get(r, I61_RCB_TRG_OPS), 6, trg));
        T_EQ_INT(uint_of(i61_rcb_get(r, I61_RCB_INTG_PD)), 0);
        T_EQ_INT(bool_of(i61_rcb_get(r, I61_RCB_GI)), 0);
        T_EQ_INT(i61_rcb_changed(r), 0);
        T_CHECK(strcmp(i61_rcb_attr_name(I61_RCB_TIME_OF_ENTRY), "TimeofEntry") == 0);
        T_CHECK(i61_rcb_attr_name(I61_RCB_ATTR_COUNT) == NULL);
    }
    i61_rcb_free(r);
    finish(c, &s);
}

static void test_read_brcb(void)
{
    fs s;
    fs_start(&s, NULL, NULL);
    fs_answer_golden(&s, "072_read_brcb_response");
    fs_answer_golden(&s, "072_read_brcb_response");
    i61_client *c = connect_client(&s);
    i61_rcb *r = NULL;
    /* the MMS-style reference reads the same variable */
    T_EQ_INT(i61_client_read_rcb(c, "IED1LD1/LLN0$BR$brcb01", &r), I61_OK);
    T_CHECK(fs_req_is(&s, 0, "071_read_brcb_request"));
    if (r) {
        T_CHECK(strcmp(i61_rcb_reference(r), "IED1LD1/LLN0.BR.brcb01") == 0);
        T_EQ_INT(i61_rcb_is_buffered(r), 1);
        T_EQ_INT(i61_rcb_has(r, I61_RCB_RESV), 0);
        T_EQ_INT(i61_rcb_has(r, I61_RCB_RESV_TMS), 1);
        T_EQ_INT(i61_rcb_has(r, I61_RCB_OWNER), 0);
        T_EQ_INT(i61_rcb_has(r, I61_RCB_PURGE_BUF), 1);
        T_CHECK(str_is(i61_rcb_get(r, I61_RCB_RPT_ID), "brcb01RptID"));
        static const uint8_t opt[] = {0x7f, 0x80};
        T_CHECK(bits_are(i61_rcb_get(r, I61_RCB_OPT_FLDS), 10, opt));
        size_t n = 0;
        const uint8_t *e = i61_value_get_bytes(i61_rcb_get(r, I61_RCB_ENTRY_ID), &n);
        static const uint8_t eid[] = {0x00, 0x00, 0x01, 0xa1, 0xfc, 0xf4, 0x91, 0x94};
        T_EQ_MEM(e, n, eid, 8);
        const uint8_t *toe = i61_value_get_bytes(i61_rcb_get(r, I61_RCB_TIME_OF_ENTRY), &n);
        T_EQ_INT(n, 6);
        T_EQ_INT(i61_binary_time_to_ms(toe), 1795245248916LL);
        int64_t tms = -5;
        T_EQ_INT(i61_value_get_int64(i61_rcb_get(r, I61_RCB_RESV_TMS), &tms), 0);
        T_EQ_INT(tms, 0);
        /* update: reads again and forgets local changes */
        i61_value *f = i61_value_new_boolean(1);
        T_EQ_INT(i61_rcb_set(r, I61_RCB_PURGE_BUF, f), I61_OK);
        i61_value_free(f);
        T_EQ_INT(i61_rcb_changed(r), 1u << I61_RCB_PURGE_BUF);
        T_EQ_INT(i61_client_update_rcb(c, r), I61_OK);
        T_EQ_INT(i61_rcb_changed(r), 0);
        T_EQ_INT(bool_of(i61_rcb_get(r, I61_RCB_PURGE_BUF)), 0);
        T_EQ_INT(fs_requests(&s), 2);
    }
    i61_rcb_free(r);
    finish(c, &s);
}

/* Read answer a1 { id, a4 { a1 { <data> } } } carrying one value. */
static void read_answer(i61_buf *b, const i61_value *v)
{
    i61_buf_reset(b);
    size_t m1 = i61_ber_open(b, 0xa1);
    i61_ber_put_uint64(b, 0x02, 1);
    size_t m2 = i61_ber_open(b, 0xa4);
    size_t m3 = i61_ber_open(b, 0xa1);
    i61_mms_data_encode(b, v);
    i61_ber_close(b, m3);
    i61_ber_close(b, m2);
    i61_ber_close(b, m1);
}

static i61_value *st(size_t n)
{
    return i61_value_new_structure(n);
}

static void put(i61_value *s, size_t i, i61_value *v)
{
    i61_value_set_element(s, i, v);
}

/* A BRCB structure: Ed1 (13), + ResvTms, + Owner, + an unknown extra. */
static i61_value *brcb_struct(int with_resvtms, int with_owner, int extra)
{
    size_t n = 13 + (with_resvtms != 0) + (with_owner != 0) + (extra != 0);
    i61_value *s = st(n);
    uint8_t z[8] = {0};
    size_t i = 0;
    put(s, i++, i61_value_new_visible_string("id"));
    put(s, i++, i61_value_new_boolean(0));
    put(s, i++, i61_value_new_visible_string("LD/LLN0$ds"));
    put(s, i++, i61_value_new_unsigned(1));
    put(s, i++, i61_value_new_bit_string(10, z));
    put(s, i++, i61_value_new_unsigned(0));
    put(s, i++, i61_value_new_unsigned(0));
    put(s, i++, i61_value_new_bit_string(6, z));
    put(s, i++, i61_value_new_unsigned(0));
    put(s, i++, i61_value_new_boolean(0));
    put(s, i++, i61_value_new_boolean(0));
    put(s, i++, i61_value_new_octet_string(z, 8));
    put(s, i++, i61_value_new_binary_time(z, 6));
    if (with_resvtms)
        put(s, i++, i61_value_new_integer(-1));
    if (with_owner)
        put(s, i++, i61_value_new_octet_string((const uint8_t *)"\x7f\x00\x00\x01", 4));
    if (extra)
        put(s, i++, i61_value_new_float(1.0f));
    return s;
}

static void answer_value(fs *s, i61_value *v)
{
    i61_buf b;
    i61_buf_init(&b);
    read_answer(&b, v);
    fs_answer(s, b.data, b.len);
    i61_buf_free(&b);
    i61_value_free(v);
}

static void test_rcb_shapes(void)
{
    fs s;
    fs_start(&s, NULL, NULL);
    answer_value(&s, brcb_struct(0, 0, 0));     /* Ed1 */
    answer_value(&s, brcb_struct(1, 1, 0));     /* Ed2 with both */
    answer_value(&s, brcb_struct(0, 1, 1));     /* Owner only, then an unknown component */
    /* URCB with Owner and no Resv (some servers) */
    i61_value *u = st(11);
    uint8_t z[2] = {0};
    put(u, 0, i61_value_new_visible_string("u"));
    put(u, 1, i61_value_new_boolean(1));
    put(u, 2, i61_value_new_visible_string("LD/LLN0$ds"));
    put(u, 3, i61_value_new_unsigned(1));
    put(u, 4, i61_value_new_bit_string(10, z));
    put(u, 5, i61_value_new_unsigned(0));
    put(u, 6, i61_value_new_unsigned(7));
    put(u, 7, i61_value_new_bit_string(6, z));
    put(u, 8, i61_value_new_unsigned(0));
    put(u, 9, i61_value_new_boolean(0));
    put(u, 10, i61_value_new_octet_string(z, 2));
    answer_value(&s, u);
    answer_value(&s, i61_value_new_boolean(1));                 /* not a structure */
    i61_value *bad = brcb_struct(0, 0, 0);
    put(bad, 3, i61_value_new_visible_string("x"));             /* ConfRev of another type */
    answer_value(&s, bad);
    i61_value *shortb = st(5);
    for (size_t i = 0; i < 5; i++)
        put(shortb, i, i61_value_new_boolean(0));
    answer_value(&s, shortb);
    /* a DataAccessError answer: a1 { id, a4 { a1 { 80 01 0a } } } */
    static const uint8_t dae[] = {0xa1, 0x0a, 0x02, 0x01, 0x01, 0xa4, 0x05, 0xa1, 0x03, 0x80, 0x01, 0x0a};
    fs_answer(&s, dae, sizeof dae);

    i61_client *c = connect_client(&s);
    i61_rcb *r = NULL;
    T_EQ_INT(i61_client_read_rcb(c, "LD/LLN0.BR.b", &r), I61_OK);
    T_CHECK(r && !i61_rcb_has(r, I61_RCB_RESV_TMS) && !i61_rcb_has(r, I61_RCB_OWNER) &&
            i61_rcb_has(r, I61_RCB_TIME_OF_ENTRY));
    i61_rcb_free(r);
    T_EQ_INT(i61_client_read_rcb(c, "LD/LLN0.BR.b", &r), I61_OK);
    T_CHECK(r && i61_rcb_has(r, I61_RCB_RESV_TMS) && i61_rcb_has(r, I61_RCB_OWNER));
    if (r) {
        int64_t v = 0;
        i61_value_get_int64(i61_rcb_get(r, I61_RCB_RESV_TMS), &v);
        T_EQ_INT(v, -1);
        size_t n = 0;
        i61_value_get_bytes(i61_rcb_get(r, I61_RCB_OWNER), &n);
        T_EQ_INT(n, 4);
    }
    i61_rcb_free(r);
    T_EQ_INT(i61_client_read_rcb(c, "LD/LLN0.BR.b", &r), I61_OK);
    T_CHECK(r && !i61_rcb_has(r, I61_RCB_RESV_TMS) && i61_rcb_has(r, I61_RCB_OWNER));
    i61_rcb_free(r);
    T_EQ_INT(i61_client_read_rcb(c, "LD/LLN0.RP.u", &r), I61_OK);
    T_CHECK(r && !i61_rcb_has(r, I61_RCB_RESV) && i61_rcb_has(r, I61_RCB_OWNER) &&
            !i61_rcb_has(r, I61_RCB_PURGE_BUF));
    if (r)
        T_EQ_INT(uint_of(i61_rcb_get(r, I61_RCB_SQ_NUM)), 7);
    i61_rcb_free(r);
    r = (i61_rcb *)1;
    T_EQ_INT(i61_client_read_rcb(c, "LD/LLN0.BR.b", &r), I61_ERR_UNEXPECTED_VALUE);
    T_CHECK(r == NULL);
    T_EQ_INT(i61_client_read_rcb(c, "LD/LLN0.BR.b", &r), I61_ERR_UNEXPECTED_VALUE);
    T_CHECK(strstr(i61_client_last_error_text(c), "ConfRev") != NULL);
    T_EQ_INT(i61_client_read_rcb(c, "LD/LLN0.BR.b", &r), I61_ERR_UNEXPECTED_VALUE);
    T_EQ_INT(i61_client_read_rcb(c, "LD/LLN0.BR.b", &r), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(fs_requests(&s), 8);
    /* references that are not RCB references never reach the wire */
    const char *badrefs[] = {"", "LLN0.RP.u", "LD/LLN0.ST.u", "LD/LLN0.RP", "LD/LLN0.RP.u.RptEna",
                             "LD/LLN0.RP$u", "LD/LLN0$RP.u", "LD/LLN0.RP.u(1)", "LD/LLN0..u",
                             "LD/LL N0.RP.u"};
    for (size_t i = 0; i < sizeof badrefs / sizeof badrefs[0]; i++) {
        T_EQ_INT(i61_client_read_rcb(c, badrefs[i], &r), I61_ERR_OBJECT_REFERENCE_INVALID);
        T_CHECK(r == NULL);
    }
    T_EQ_INT(i61_client_read_rcb(c, NULL, &r), I61_ERR_OBJECT_REFERENCE_INVALID);
    T_EQ_INT(fs_requests(&s), 8);
    finish(c, &s);
}

static void test_rcb_set_local(void)
{
    fs s;
    fs_start(&s, NULL, NULL);
    fs_answer_golden(&s, "062_read_urcb_response");
    fs_answer_golden(&s, "072_read_brcb_response");
    i61_client *c = connect_client(&s);
    i61_rcb *u = NULL, *b = NULL;
    T_EQ_INT(i61_client_read_rcb(c, "IED1LD1/LLN0.RP.urcb01", &u), I61_OK);
    T_EQ_INT(i61_client_read_rcb(c, "IED1LD1/LLN0.BR.brcb01", &b), I61_OK);
    if (!u || !b) {
        i61_rcb_free(u);
        i61_rcb_free(b);
        finish(c, &s);
        return;
    }
    i61_value *v;
    /* widths: an integer for an unsigned attribute, values beyond the width */
    v = i61_value_new_integer(1000);
    T_EQ_INT(i61_rcb_set(u, I61_RCB_BUF_TM, v), I61_OK);
    T_EQ_INT(uint_of(i61_rcb_get(u, I61_RCB_BUF_TM)), 1000);
    T_EQ_INT(i61_value_type(i61_rcb_get(u, I61_RCB_BUF_TM)), I61_TYPE_UNSIGNED);
    T_EQ_INT(i61_value_bit_size(i61_rcb_get(u, I61_RCB_BUF_TM)), 32);
    i61_value_free(v);
    v = i61_value_new_unsigned(300);                     /* URCB SqNum is 8 bits */
    T_EQ_INT(i61_rcb_set(u, I61_RCB_SQ_NUM, v), I61_ERR_OBJECT_VALUE_INVALID);
    T_EQ_INT(i61_rcb_set(b, I61_RCB_SQ_NUM, v), I61_OK);  /* BRCB: 16 bits */
    T_EQ_INT(i61_value_bit_size(i61_rcb_get(b, I61_RCB_SQ_NUM)), 16);
    i61_value_free(v);
    v = i61_value_new_integer(-1);
    T_EQ_INT(i61_rcb_set(u, I61_RCB_INTG_PD, v), I61_ERR_OBJECT_VALUE_INVALID);
    T_EQ_INT(i61_rcb_set(b, I61_RCB_RESV_TMS, v), I61_OK);
    i61_value_free(v);
    v = i61_value_new_unsigned(40000);                   /* ResvTms is INT16 */
    T_EQ_INT(i61_rcb_set(b, I61_RCB_RESV_TMS, v), I61_ERR_OBJECT_VALUE_INVALID);
    i61_value_free(v);
    v = i61_value_new_unsigned(0x100000000ull);
    T_EQ_INT(i61_rcb_set(u, I61_RCB_INTG_PD, v), I61_ERR_OBJECT_VALUE_INVALID);
    i61_value_free(v);
    /* types and sizes */
    v = i61_value_new_boolean(1);
    T_EQ_INT(i61_rcb_set(u, I61_RCB_RPT_ID, v), I61_ERR_TYPE_INCONSISTENT);
    T_EQ_INT(i61_rcb_set(u, I61_RCB_BUF_TM, v), I61_ERR_TYPE_INCONSISTENT);
    T_EQ_INT(i61_rcb_set(u, I61_RCB_PURGE_BUF, v), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_rcb_set(u, I61_RCB_OWNER, v), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_rcb_set(u, 99, v), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_rcb_set(u, I61_RCB_RESV, NULL), I61_ERR_INVALID_ARGUMENT);
    i61_value_free(v);
    uint8_t bits[2] = {0x7c, 0x80};
    v = i61_value_new_bit_string(9, bits);
    T_EQ_INT(i61_rcb_set(u, I61_RCB_OPT_FLDS, v), I61_ERR_TYPE_INCONSISTENT);
    i61_value_free(v);
    v = i61_value_new_mms_string("x");
    T_EQ_INT(i61_rcb_set(u, I61_RCB_DATSET, v), I61_ERR_TYPE_INCONSISTENT);
    i61_value_free(v);
    v = i61_value_new_binary_time((const uint8_t *)"\0\0\0\0", 4);
    T_EQ_INT(i61_rcb_set(b, I61_RCB_TIME_OF_ENTRY, v), I61_ERR_TYPE_INCONSISTENT);
    i61_value_free(v);
    T_EQ_INT(i61_rcb_changed(u), 1u << I61_RCB_BUF_TM);
    T_EQ_INT(i61_rcb_changed(b), (1u << I61_RCB_SQ_NUM) | (1u << I61_RCB_RESV_TMS));
    i61_rcb_clear_changed(u);
    T_EQ_INT(i61_rcb_changed(u), 0);
    /* nothing changed: nothing sent */
    int failed = 7;
    T_EQ_INT(i61_client_set_rcb(c, u, 1, &failed), I61_OK);
    T_EQ_INT(failed, -1);
    T_EQ_INT(fs_requests(&s), 2);
    i61_rcb_free(u);
    i61_rcb_free(b);
    finish(c, &s);
}

static void test_set_urcb_single(void)
{
    fs s;
    fs_start(&s, NULL, NULL);
    fs_answer_golden(&s, "062_read_urcb_response");
    fs_answer_golden(&s, "064_write_urcb_enable_response");
    i61_client *c = connect_client(&s);
    i61_rcb *r = NULL;
    T_EQ_INT(i61_client_read_rcb(c, "IED1LD1/LLN0.RP.urcb01", &r), I61_OK);
    if (!r) {
        finish(c, &s);
        return;
    }
    /* set in another order than the wire order */
    i61_value *t = i61_value_new_boolean(1);
    uint8_t trg = 0x64, opt[2] = {0x7c, 0x80};
    i61_value *tv = i61_value_new_bit_string(6, &trg);
    i61_value *ov = i61_value_new_bit_string(10, opt);
    T_EQ_INT(i61_rcb_set(r, I61_RCB_RPT_ENA, t), I61_OK);
    T_EQ_INT(i61_rcb_set(r, I61_RCB_TRG_OPS, tv), I61_OK);
    T_EQ_INT(i61_rcb_set(r, I61_RCB_OPT_FLDS, ov), I61_OK);
    T_EQ_INT(i61_rcb_set(r, I61_RCB_RESV, t), I61_OK);
    int failed = 7;
    T_EQ_INT(i61_client_set_rcb(c, r, 1, &failed), I61_OK);
    T_EQ_INT(failed, -1);
    T_EQ_INT(fs_nreq(&s), 2);
    T_CHECK(fs_req_is(&s, 1, "063_write_urcb_enable_request"));
    T_EQ_INT(i61_rcb_changed(r), 0);
    i61_value_free(t);
    i61_value_free(tv);
    i61_value_free(ov);
    i61_rcb_free(r);
    finish(c, &s);
}

/* Write answer: n results, dae[i] < 0 success. */
static void write_answer(fs *s, const int *dae, size_t n)
{
    i61_buf b;
    i61_buf_init(&b);
    size_t m1 = i61_ber_open(&b, 0xa1);
    i61_ber_put_uint64(&b, 0x02, 1);
    size_t m2 = i61_ber_open(&b, 0xa5);
    for (size_t i = 0; i < n; i++) {
        if (dae[i] < 0)
            i61_ber_put_null(&b, 0x81);
        else
            i61_ber_put_uint64(&b, 0x80, (uint64_t)dae[i]);
    }
    i61_ber_close(&b, m2);
    i61_ber_close(&b, m1);
    fs_answer(s, b.data, b.len);
    i61_buf_free(&b);
}

/* The item names of a Write request's variables, '|'-joined. */
static void write_items(const uint8_t *pdu, size_t len, char *out, size_t cap)
{
    i61_mms_request rq;
    i61_mms_access_spec spec;
    i61_value **vals = NULL;
    size_t nv = 0;
    out[0] = '\0';
    if (i61_mms_dec_request(pdu, len, &rq) != I61_OK ||
        i61_mms_dec_write_req(&rq, &spec, &vals, &nv) != I61_OK)
        return;
    for (size_t i = 0; i < spec.n_vars; i++) {
        const char *item = spec.vars[i].name.item;
        const char *last = strrchr(item, '$');
        size_t l = strlen(out);
        snprintf(out + l, cap - l, "%s%s", i ? "|" : "", last ? last + 1 : item);
    }
    i61_mms_values_free(vals, nv);
    i61_mms_access_spec_clear(&spec);
}

static void test_set_brcb_per_attribute(void)
{
    fs s;
    fs_start(&s, NULL, NULL);
    fs_answer_golden(&s, "072_read_brcb_response");
    fs_answer_golden(&s, "074_write_brcb_optflds_response");
    fs_answer_golden(&s, "076_write_brcb_rptena_response");
    fs_answer_golden(&s, "080_write_brcb_gi_response");
    i61_client *c = connect_client(&s);
    i61_rcb *r = NULL;
    T_EQ_INT(i61_client_read_rcb(c, "IED1LD1/LLN0.BR.brcb01", &r), I61_OK);
    if (!r) {
        finish(c, &s);
        return;
    }
    i61_value *t = i61_value_new_boolean(1);
    uint8_t opt[2] = {0x7f, 0x80};
    i61_value *ov = i61_value_new_bit_string(10, opt);
    T_EQ_INT(i61_rcb_set(r, I61_RCB_GI, t), I61_OK);
    T_EQ_INT(i61_rcb_set(r, I61_RCB_RPT_ENA, t), I61_OK);
    T_EQ_INT(i61_rcb_set(r, I61_RCB_OPT_FLDS, ov), I61_OK);
    T_EQ_INT(i61_client_set_rcb(c, r, 0, NULL), I61_OK);
    T_EQ_INT(fs_nreq(&s), 4);
    T_CHECK(fs_req_is(&s, 1, "073_write_brcb_optflds_request"));
    T_CHECK(fs_req_is(&s, 2, "075_write_brcb_rptena_request"));
    T_CHECK(fs_req_is(&s, 3, "079_write_brcb_gi_request"));
    i61_value_free(t);
    i61_value_free(ov);
    i61_rcb_free(r);
    finish(c, &s);
}

static void test_set_order_and_failures(void)
{
    fs s;
    fs_start(&s, NULL, NULL);
    answer_value(&s, brcb_struct(1, 0, 0));
    int ok5[5] = {-1, -1, -1, -1, -1};
    write_answer(&s, ok5, 5);
    int fail3[3] = {3, -1, -1};                  /* DatSet refused: object-access-denied */
    write_answer(&s, fail3, 3);
    int ok1[1] = {-1};
    write_answer(&s, ok1, 1);
    int fail1[1] = {7};                          /* type-inconsistent */
    write_answer(&s, fail1, 1);
    i61_client *c = connect_client(&s);
    i61_rcb *r = NULL;
    T_EQ_INT(i61_client_read_rcb(c, "LD/LLN0.BR.b", &r), I61_OK);
    if (!r) {
        finish(c, &s);
        return;
    }
    i61_value *f = i61_value_new_boolean(0), *t = i61_value_new_boolean(1);
    i61_value *ds = i61_value_new_visible_string("LD/LLN0$other");
    i61_value *id = i61_value_new_visible_string("newid");
    i61_value *pd = i61_value_new_unsigned(1000);
    i61_value *rt = i61_value_new_integer(30);
    /* disabling: RptEna FALSE first, then ResvTms, RptID, DatSet, IntgPd */
    T_EQ_INT(i61_rcb_set(r, I61_RCB_INTG_PD, pd), I61_OK);
    T_EQ_INT(i61_rcb_set(r, I61_RCB_DATSET, ds), I61_OK);
    T_EQ_INT(i61_rcb_set(r, I61_RCB_RPT_ID, id), I61_OK);
    T_EQ_INT(i61_rcb_set(r, I61_RCB_RESV_TMS, rt), I61_OK);
    T_EQ_INT(i61_rcb_set(r, I61_RCB_RPT_ENA, f), I61_OK);
    T_EQ_INT(i61_client_set_rcb(c, r, 1, NULL), I61_OK);
    char items[256];
    if (fs_nreq(&s) >= 2) {
        write_items(s.req[1], s.req_len[1], items, sizeof items);
        T_CHECK(strcmp(items, "RptEna|ResvTms|RptID|DatSet|IntgPd") == 0);
    }
    /* a refused attribute in one request: its number, its error; the others
     * of that request were accepted and are no longer marked changed */
    T_EQ_INT(i61_rcb_set(r, I61_RCB_GI, t), I61_OK);
    T_EQ_INT(i61_rcb_set(r, I61_RCB_DATSET, ds), I61_OK);
    T_EQ_INT(i61_rcb_set(r, I61_RCB_RPT_ENA, t), I61_OK);
    int failed = -7;
    T_EQ_INT(i61_client_set_rcb(c, r, 1, &failed), I61_ERR_ACCESS_DENIED);
    T_EQ_INT(failed, I61_RCB_DATSET);
    T_EQ_INT(i61_rcb_changed(r), 1u << I61_RCB_DATSET);
    T_CHECK(strstr(i61_client_last_error_text(c), "DatSet") != NULL);
    if (fs_nreq(&s) >= 3) {
        write_items(s.req[2], s.req_len[2], items, sizeof items);
        T_CHECK(strcmp(items, "DatSet|RptEna|GI") == 0);
    }
    /* one per Write: stops at the first refusal */
    T_EQ_INT(i61_rcb_set(r, I61_RCB_PURGE_BUF, t), I61_OK);
    T_EQ_INT(i61_rcb_set(r, I61_RCB_GI, t), I61_OK);
    failed = -7;
    T_EQ_INT(i61_client_set_rcb(c, r, 0, &failed), I61_ERR_TYPE_INCONSISTENT);
    T_EQ_INT(failed, I61_RCB_PURGE_BUF);
    T_EQ_INT(fs_requests(&s), 5);                     /* DatSet ok, PurgeBuf refused, GI not sent */
    T_EQ_INT(i61_rcb_changed(r), (1u << I61_RCB_PURGE_BUF) | (1u << I61_RCB_GI));
    /* the request as a whole fails (no answer left: the fake server is silent) */
    i61_client_set_request_timeout(c, 200);
    failed = -7;
    T_EQ_INT(i61_client_set_rcb(c, r, 1, &failed), I61_ERR_TIMEOUT);
    T_EQ_INT(failed, -1);
    i61_value_free(f);
    i61_value_free(t);
    i61_value_free(ds);
    i61_value_free(id);
    i61_value_free(pd);
    i61_value_free(rt);
    i61_rcb_free(r);
    finish(c, &s);
}

/* ------------------------------------------- RCBs read attribute by attribute */

/* A server like the iec61850 Rust one: the Read of a whole RCB answers
 * DataAccessError `whole_dae`; a list of attribute variables answers each
 * one (object-non-existent for `absent` ones and unknown names). */
typedef struct parts_srv {
    int whole_dae;
    const char *absent[3];
    const char *wrong;           /* answered as a VisibleString */
    int parts_error;             /* the list Read gets a confirmed-ErrorPDU */
} parts_srv;

static i61_value *part_value(const parts_srv *p, const char *attr)
{
    static const uint8_t eid[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    static const uint8_t toe[6] = {0x01, 0x02, 0x03, 0x04, 0x3a, 0x5c};
    static const uint8_t opt[2] = {0x7c, 0x00};
    static const uint8_t trg[1] = {0x44};
    for (size_t i = 0; i < 3; i++)
        if (p->absent[i] && strcmp(p->absent[i], attr) == 0)
            return i61_value_new_data_access_error(10);
    if (p->wrong && strcmp(p->wrong, attr) == 0)
        return i61_value_new_visible_string("x");
    if (strcmp(attr, "RptID") == 0) return i61_value_new_visible_string("rid");
    if (strcmp(attr, "DatSet") == 0) return i61_value_new_visible_string("LD/LLN0$Meas");
    if (strcmp(attr, "RptEna") == 0 || strcmp(attr, "Resv") == 0 || strcmp(attr, "GI") == 0 ||
        strcmp(attr, "PurgeBuf") == 0)
        return i61_value_new_boolean(strcmp(attr, "RptEna") == 0);
    if (strcmp(attr, "ConfRev") == 0) return i61_value_new_unsigned(3);
    if (strcmp(attr, "BufTm") == 0) return i61_value_new_unsigned(100);
    if (strcmp(attr, "SqNum") == 0) return i61_value_new_unsigned(5);
    if (strcmp(attr, "IntgPd") == 0) return i61_value_new_unsigned(2000);
    if (strcmp(attr, "OptFlds") == 0) return i61_value_new_bit_string(10, opt);
    if (strcmp(attr, "TrgOps") == 0) return i61_value_new_bit_string(6, trg);
    if (strcmp(attr, "EntryID") == 0) return i61_value_new_octet_string(eid, 8);
    if (strcmp(attr, "TimeofEntry") == 0) return i61_value_new_binary_time(toe, 6);
    if (strcmp(attr, "ResvTms") == 0) return i61_value_new_integer(0);
    if (strcmp(attr, "Owner") == 0) return i61_value_new_octet_string(NULL, 0);
    return i61_value_new_data_access_error(10);
}

static void parts_fn(fs *s, uint32_t id, const uint8_t *pdu, size_t len)
{
    const parts_srv *p = s->ud;
    i61_mms_request rq;
    i61_mms_access_spec spec;
    bool swr = false;
    memset(&spec, 0, sizeof spec);
    i61_buf b;
    i61_buf_init(&b);
    if (i61_mms_dec_request(pdu, len, &rq) != I61_OK || rq.service != I61_MMS_SVC_READ ||
        i61_mms_dec_read_req(&rq, &swr, &spec) != I61_OK || spec.is_nvl || spec.n_vars > 32) {
        i61_mms_enc_error_pdu(&b, id, 4, 0);         /* service/other */
    } else {
        i61_value *res[32];
        size_t n = spec.n_vars;
        const char *item0 = spec.vars[0].name.item;
        int dollars = 0;
        for (const char *q = item0; *q; q++)
            dollars += *q == '$';
        int whole = n == 1 && dollars == 2;
        if (!whole && p->parts_error) {
            i61_mms_enc_error_pdu(&b, id, 7, 1);     /* access/object-access-unsupported */
            n = 0;
        }
        for (size_t i = 0; i < n; i++) {
            const char *attr = strrchr(spec.vars[i].name.item, '$') + 1;
            res[i] = whole ? i61_value_new_data_access_error(p->whole_dae) : part_value(p, attr);
        }
        if (n)
            i61_mms_enc_read_resp(&b, id, NULL, (const i61_value *const *)res, n);
        for (size_t i = 0; i < n; i++)
            i61_value_free(res[i]);
    }
    fs_send(s, b.data, b.len);
    i61_buf_free(&b);
    i61_mms_access_spec_clear(&spec);
}

/* "domain/item|item|..." of the variables of recorded Read request i. */
static void read_items(fs *s, int i, char *out, size_t cap)
{
    out[0] = '\0';
    if (fs_nreq(s) <= i)
        return;
    pthread_mutex_lock(&s->mu);
    const uint8_t *pdu = s->req[i];
    size_t len = s->req_len[i];
    pthread_mutex_unlock(&s->mu);
    i61_mms_request rq;
    i61_mms_access_spec spec;
    bool swr = false;
    memset(&spec, 0, sizeof spec);
    if (i61_mms_dec_request(pdu, len, &rq) != I61_OK || rq.service != I61_MMS_SVC_READ ||
        i61_mms_dec_read_req(&rq, &swr, &spec) != I61_OK)
        return;
    for (size_t k = 0; k < spec.n_vars; k++) {
        size_t l = strlen(out);
        if (k == 0)
            snprintf(out + l, cap - l, "%s/%s", spec.vars[k].name.domain, spec.vars[k].name.item);
        else
            snprintf(out + l, cap - l, "|%s", spec.vars[k].name.item);
    }
    i61_mms_access_spec_clear(&spec);
}

static void check_parts_brcb(const i61_rcb *r)
{
    T_EQ_INT(i61_rcb_is_buffered(r), 1);
    for (int a = 0; a < I61_RCB_ATTR_COUNT; a++)
        T_EQ_INT(i61_rcb_has(r, a), a != I61_RCB_RESV);
    T_CHECK(str_is(i61_rcb_get(r, I61_RCB_RPT_ID), "rid"));
    T_EQ_INT(bool_of(i61_rcb_get(r, I61_RCB_RPT_ENA)), 1);
    T_CHECK(str_is(i61_rcb_get(r, I61_RCB_DATSET), "LD/LLN0$Meas"));
    T_EQ_INT(uint_of(i61_rcb_get(r, I61_RCB_CONF_REV)), 3);
    static const uint8_t opt[] = {0x7c, 0x00}, trg[] = {0x44};
    T_CHECK(bits_are(i61_rcb_get(r, I61_RCB_OPT_FLDS), 10, opt));
    T_CHECK(bits_are(i61_rcb_get(r, I61_RCB_TRG_OPS), 6, trg));
    T_EQ_INT(uint_of(i61_rcb_get(r, I61_RCB_BUF_TM)), 100);
    T_EQ_INT(uint_of(i61_rcb_get(r, I61_RCB_SQ_NUM)), 5);
    T_EQ_INT(uint_of(i61_rcb_get(r, I61_RCB_INTG_PD)), 2000);
    T_EQ_INT(bool_of(i61_rcb_get(r, I61_RCB_GI)), 0);
    T_EQ_INT(bool_of(i61_rcb_get(r, I61_RCB_PURGE_BUF)), 0);
    size_t n = 99;
    const uint8_t *e = i61_value_get_bytes(i61_rcb_get(r, I61_RCB_ENTRY_ID), &n);
    static const uint8_t eid[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    T_EQ_MEM(e, n, eid, 8);
    i61_value_get_bytes(i61_rcb_get(r, I61_RCB_TIME_OF_ENTRY), &n);
    T_EQ_INT(n, 6);
    T_EQ_INT(i61_value_type(i61_rcb_get(r, I61_RCB_TIME_OF_ENTRY)), I61_TYPE_BINARY_TIME);
    int64_t tms = -5;
    T_EQ_INT(i61_value_get_int64(i61_rcb_get(r, I61_RCB_RESV_TMS), &tms), 0);
    T_EQ_INT(tms, 0);
    n = 99;
    i61_value_get_bytes(i61_rcb_get(r, I61_RCB_OWNER), &n);
    T_EQ_INT(n, 0);
    T_EQ_INT(i61_value_type(i61_rcb_get(r, I61_RCB_OWNER)), I61_TYPE_OCTET_STRING);
}

static void test_read_brcb_by_parts(void)
{
    parts_srv p = { 9, {NULL, NULL, NULL}, NULL, 0 };   /* object-access-unsupported */
    fs s;
    fs_start(&s, parts_fn, &p);
    i61_client *c = connect_client(&s);
    i61_rcb *r = NULL;
    T_EQ_INT(i61_client_read_rcb(c, "TESTGenericIO/LLN0.BR.brcbMeas01", &r), I61_OK);
    T_EQ_INT(fs_requests(&s), 2);                 /* the whole RCB, then ONE list Read */
    char items[1024];
    read_items(&s, 0, items, sizeof items);
    T_CHECK(strcmp(items, "TESTGenericIO/LLN0$BR$brcbMeas01") == 0);
    read_items(&s, 1, items, sizeof items);
    T_CHECK(strcmp(items, "TESTGenericIO/LLN0$BR$brcbMeas01$RptID|LLN0$BR$brcbMeas01$RptEna|"
                          "LLN0$BR$brcbMeas01$DatSet|LLN0$BR$brcbMeas01$ConfRev|"
                          "LLN0$BR$brcbMeas01$OptFlds|LLN0$BR$brcbMeas01$BufTm|"
                          "LLN0$BR$brcbMeas01$SqNum|LLN0$BR$brcbMeas01$TrgOps|"
                          "LLN0$BR$brcbMeas01$IntgPd|LLN0$BR$brcbMeas01$GI|"
                          "LLN0$BR$brcbMeas01$PurgeBuf|LLN0$BR$brcbMeas01$EntryID|"
                          "LLN0$BR$brcbMeas01$TimeofEntry|LLN0$BR$brcbMeas01$ResvTms|"
                          "LLN0$BR$brcbMeas01$Owner") == 0);
    if (!r) {
        finish(c, &s);
        return;
    }
    check_parts_brcb(r);
    T_EQ_INT(i61_rcb_changed(r), 0);
    /* the widths of a set follow the values read this way too */
    i61_value *v = i61_value_new_unsigned(40000);
    T_EQ_INT(i61_rcb_set(r, I61_RCB_SQ_NUM, v), I61_OK);
    T_EQ_INT(i61_rcb_set(r, I61_RCB_RESV_TMS, v), I61_ERR_OBJECT_VALUE_INVALID);
    i61_value_free(v);
    /* an update goes straight to the list Read and forgets the local change */
    T_EQ_INT(i61_client_update_rcb(c, r), I61_OK);
    T_EQ_INT(fs_requests(&s), 3);
    read_items(&s, 2, items, sizeof items);
    T_CHECK(strncmp(items, "TESTGenericIO/LLN0$BR$brcbMeas01$RptID|", 39) == 0);
    T_EQ_INT(i61_rcb_changed(r), 0);
    check_parts_brcb(r);
    i61_rcb_free(r);
    finish(c, &s);
}

static void test_read_urcb_by_parts(void)
{
    /* object-access-denied is also worth the second try; this URCB has no
     * Resv and no ResvTms but an Owner */
    parts_srv p = { 3, {"Resv", "ResvTms", NULL}, NULL, 0 };
    fs s;
    fs_start(&s, parts_fn, &p);
    i61_client *c = connect_client(&s);
    i61_rcb *r = NULL;
    T_EQ_INT(i61_client_read_rcb(c, "LD/LLN0$RP$u01", &r), I61_OK);
    T_EQ_INT(fs_requests(&s), 2);
    char items[1024];
    read_items(&s, 1, items, sizeof items);
    T_CHECK(strcmp(items, "LD/LLN0$RP$u01$RptID|LLN0$RP$u01$RptEna|LLN0$RP$u01$Resv|"
                          "LLN0$RP$u01$DatSet|LLN0$RP$u01$ConfRev|LLN0$RP$u01$OptFlds|"
                          "LLN0$RP$u01$BufTm|LLN0$RP$u01$SqNum|LLN0$RP$u01$TrgOps|"
                          "LLN0$RP$u01$IntgPd|LLN0$RP$u01$GI|LLN0$RP$u01$ResvTms|"
                          "LLN0$RP$u01$Owner") == 0);
    if (r) {
        T_EQ_INT(i61_rcb_is_buffered(r), 0);
        for (int a = 0; a < I61_RCB_ATTR_COUNT; a++)
            T_EQ_INT(i61_rcb_has(r, a), a <= I61_RCB_GI && a != I61_RCB_RESV ? 1
                                        : a == I61_RCB_OWNER);
        T_CHECK(str_is(i61_rcb_get(r, I61_RCB_RPT_ID), "rid"));
        T_EQ_INT(uint_of(i61_rcb_get(r, I61_RCB_SQ_NUM)), 5);
        /* URCB SqNum keeps its 8 bits */
        i61_value *v = i61_value_new_unsigned(300);
        T_EQ_INT(i61_rcb_set(r, I61_RCB_SQ_NUM, v), I61_ERR_OBJECT_VALUE_INVALID);
        i61_value_free(v);
    }
    i61_rcb_free(r);
    finish(c, &s);
}

static void test_read_rcb_by_parts_failures(void)
{
    char items[256];
    /* a mandatory attribute missing: the first error stands */
    {
        parts_srv p = { 9, {"TrgOps", NULL, NULL}, NULL, 0 };
        fs s;
        fs_start(&s, parts_fn, &p);
        i61_client *c = connect_client(&s);
        i61_rcb *r = (i61_rcb *)1;
        T_EQ_INT(i61_client_read_rcb(c, "LD/LLN0.BR.b", &r), I61_ERR_OBJECT_ACCESS_UNSUPPORTED);
        T_CHECK(r == NULL);
        T_CHECK(strstr(i61_client_last_error_text(c), "TrgOps") != NULL);
        T_EQ_INT(fs_requests(&s), 2);
        finish(c, &s);
    }
    /* a mandatory attribute of another type */
    {
        parts_srv p = { 9, {NULL, NULL, NULL}, "ConfRev", 0 };
        fs s;
        fs_start(&s, parts_fn, &p);
        i61_client *c = connect_client(&s);
        i61_rcb *r = (i61_rcb *)1;
        T_EQ_INT(i61_client_read_rcb(c, "LD/LLN0.RP.u", &r), I61_ERR_UNEXPECTED_VALUE);
        T_CHECK(r == NULL);
        T_CHECK(strstr(i61_client_last_error_text(c), "ConfRev") != NULL);
        finish(c, &s);
    }
    /* an optional one of another type is left out */
    {
        parts_srv p = { 9, {NULL, NULL, NULL}, "Owner", 0 };
        fs s;
        fs_start(&s, parts_fn, &p);
        i61_client *c = connect_client(&s);
        i61_rcb *r = NULL;
        T_EQ_INT(i61_client_read_rcb(c, "LD/LLN0.BR.b", &r), I61_OK);
        T_CHECK(r && !i61_rcb_has(r, I61_RCB_OWNER) && i61_rcb_has(r, I61_RCB_RESV_TMS));
        i61_rcb_free(r);
        finish(c, &s);
    }
    /* the list Read refused as a whole: the first error stands */
    {
        parts_srv p = { 9, {NULL, NULL, NULL}, NULL, 1 };
        fs s;
        fs_start(&s, parts_fn, &p);
        i61_client *c = connect_client(&s);
        i61_rcb *r = (i61_rcb *)1;
        T_EQ_INT(i61_client_read_rcb(c, "LD/LLN0.BR.b", &r), I61_ERR_OBJECT_ACCESS_UNSUPPORTED);
        T_CHECK(r == NULL);
        T_EQ_INT(fs_requests(&s), 2);
        finish(c, &s);
    }
    /* object-non-existent: no second try */
    {
        parts_srv p = { 10, {NULL, NULL, NULL}, NULL, 0 };
        fs s;
        fs_start(&s, parts_fn, &p);
        i61_client *c = connect_client(&s);
        i61_rcb *r = (i61_rcb *)1;
        T_EQ_INT(i61_client_read_rcb(c, "LD/LLN0.BR.b", &r), I61_ERR_OBJECT_DOES_NOT_EXIST);
        T_CHECK(r == NULL);
        sleep_ms(50);
        T_EQ_INT(fs_requests(&s), 1);
        read_items(&s, 0, items, sizeof items);
        T_CHECK(strcmp(items, "LD/LLN0$BR$b") == 0);
        finish(c, &s);
    }
}

/* A list that does not fit in the negotiated PDU is read in several Reads. */
static void test_read_rcb_by_parts_small_pdu(void)
{
    parts_srv p = { 9, {NULL, NULL, NULL}, NULL, 0 };
    fs s;
    fs_start(&s, parts_fn, &p);
    i61_client *c = i61_client_new();
    T_CHECK(c != NULL);
    i61_client_set_request_timeout(c, 3000);
    i61_client_set_max_pdu_size(c, 300);
    T_EQ_INT(i61_client_connect(c, "127.0.0.1", s.port), I61_OK);
    T_EQ_INT(i61_client_max_pdu_size(c), 300);
    i61_rcb *r = NULL;
    T_EQ_INT(i61_client_read_rcb(c, "TESTGenericIO/LLN0.BR.brcbMeas01", &r), I61_OK);
    int nreq = fs_requests(&s);
    T_CHECK(nreq >= 4);                           /* whole + at least 3 parts (15 x ~50 octets) */
    size_t total = 0;
    for (int i = 1; i < nreq && i < FS_MAX_REQ; i++) {
        char items[1024];
        read_items(&s, i, items, sizeof items);
        size_t k = 1;
        for (const char *q = items; *q; q++)
            k += *q == '|';
        total += items[0] ? k : 0;
        pthread_mutex_lock(&s.mu);
        T_CHECK(s.req_len[i] <= 300);
        pthread_mutex_unlock(&s.mu);
    }
    T_EQ_INT(total, 15);
    if (r)
        check_parts_brcb(r);
    i61_rcb_free(r);
    finish(c, &s);
}

/* ---------------------------------------------------------------- reports */

static i61_report *next1(i61_client *c, uint32_t ms)
{
    i61_report *r = NULL;
    size_t n = 0;
    int rc = i61_client_next_reports(c, ms, &r, 1, &n);
    if (rc != I61_OK || n != 1)
        return NULL;
    return r;
}

static void test_report_single(void)
{
    fs s;
    fs_start(&s, NULL, NULL);
    i61_client *c = connect_client(&s);
    fs_send_golden_frame(&s, "065_report_urcb_dchg");
    i61_report *r = next1(c, 3000);
    T_CHECK(r != NULL);
    if (r) {
        T_CHECK(strcmp(i61_report_rpt_id(r), "urcb01RptID") == 0);
        T_EQ_INT(i61_report_opt_flds(r), 0x9f);
        T_EQ_INT(i61_report_seq_num(r), 0);
        T_EQ_INT(i61_report_sub_seq_num(r), 0);
        T_EQ_INT(i61_report_more_segments_follow(r), 0);
        T_EQ_INT(i61_report_segments(r), 1);
        T_EQ_INT(i61_report_time_ms(r), 1795245248916LL);
        T_CHECK(strcmp(i61_report_dataset(r), "IED1LD1/LLN0$Events") == 0);
        T_EQ_INT(i61_report_buf_ovfl(r), 0);
        size_t el = 9;
        T_CHECK(i61_report_entry_id(r, &el) == NULL && el == 0);
        T_EQ_INT(i61_report_conf_rev(r), 1);
        T_EQ_INT(i61_report_dataset_size(r), 3);
        T_EQ_INT(i61_report_count(r), 1);
        T_EQ_INT(i61_report_member_index(r, 0), 0);
        T_CHECK(strcmp(i61_report_member_ref(r, 0), "IED1LD1/GGIO1$ST$Ind1") == 0);
        T_EQ_INT(i61_value_count(i61_report_member_value(r, 0)), 3);
        T_EQ_INT(i61_report_member_reason(r, 0), I61_REASON_DCHG);
        T_EQ_INT(i61_report_member_index(r, 1), -1);
        T_CHECK(i61_report_member_value(r, 1) == NULL);
    }
    /* the report outlives the connection and the client */
    finish(c, &s);
    if (r)
        T_EQ_INT(i61_report_member_index(r, 0), 0);
    i61_report_free(r);
    i61_report_free(NULL);
}

static void test_report_brcb_and_segmented(void)
{
    fs s;
    fs_start(&s, NULL, NULL);
    i61_client *c = connect_client(&s);
    fs_send_golden_frame(&s, "081_report_brcb_gi");
    fs_send_golden_frame(&s, "149_report_segmented_1");
    fs_send_golden_frame(&s, "150_report_segmented_2");
    i61_report *r = next1(c, 3000);
    T_CHECK(r != NULL);
    if (r) {
        size_t el = 0;
        const uint8_t *e = i61_report_entry_id(r, &el);
        static const uint8_t eid[8] = {0x00, 0x00, 0x01, 0xa1, 0xfc, 0xf4, 0x9a, 0x6b};
        T_EQ_MEM(e, el, eid, 8);
        T_EQ_INT(i61_report_seq_num(r), 2);
        T_EQ_INT(i61_report_count(r), 3);
    }
    i61_report_free(r);
    r = next1(c, 3000);
    T_CHECK(r != NULL);
    if (r) {
        T_CHECK(strcmp(i61_report_rpt_id(r), "urcbBigRptID") == 0);
        T_EQ_INT(i61_report_segments(r), 2);
        T_EQ_INT(i61_report_sub_seq_num(r), 1);
        T_EQ_INT(i61_report_more_segments_follow(r), 0);
        T_EQ_INT(i61_report_seq_num(r), 0);
        T_EQ_INT(i61_report_dataset_size(r), 12);
        T_EQ_INT(i61_report_count(r), 12);
        for (size_t i = 0; i < 12 && i < i61_report_count(r); i++) {
            T_EQ_INT(i61_report_member_index(r, i), (int)i);
            T_EQ_INT(i61_report_member_reason(r, i), I61_REASON_GI);
            T_CHECK(i61_report_member_value(r, i) != NULL);
        }
        T_CHECK(strcmp(i61_report_member_ref(r, 0), "IED1LD1/LLN0$ST$Mod") == 0);
        T_CHECK(strcmp(i61_report_member_ref(r, 8), "IED1LD1/GGIO1$ST$SPCSO3") == 0);
        T_CHECK(strcmp(i61_report_member_ref(r, 11), "IED1LD1/PTOC1$SP$StrVal") == 0);
    }
    i61_report_free(r);
    T_EQ_INT(i61_client_reports_malformed(c), 0);
    T_EQ_INT(i61_client_reports_dropped(c), 0);
    finish(c, &s);
}

/* One report segment: RptID id, SeqNum seq, SubSeqNum sub (segmented when
 * sub >= 0), members [first, first + n) of a data set of size dsz, each a
 * `pad`-octet octet string. */
static void make_seg(i61_buf *b, const char *id, uint32_t seq, int sub, int more, uint32_t first,
                     size_t n, uint32_t dsz, size_t pad)
{
    i61_rpt_hdr h;
    memset(&h, 0, sizeof h);
    h.rpt_id = id;
    h.opt_flds = I61_OPT_SEQ_NUM | I61_OPT_REASON | (sub >= 0 ? I61_OPT_SEGMENTATION : 0);
    h.seq_num = seq;
    h.sub_seq_num = sub >= 0 ? (uint32_t)sub : 0;
    h.more_segments = more != 0;
    h.dataset_size = dsz;
    i61_rpt_enc_member m[64];
    uint8_t *blob = calloc(1, pad + 8);
    i61_value *v = i61_value_new_octet_string(blob, pad);
    i61_buf d;
    i61_buf_init(&d);
    i61_mms_data_encode(&d, v);
    for (size_t i = 0; i < n && i < 64; i++) {
        m[i].index = first + (uint32_t)i;
        m[i].ref = NULL;
        m[i].data = d.data;
        m[i].data_len = d.len;
        m[i].reason = I61_REASON_INTEGRITY;
    }
    i61_buf_reset(b);
    T_EQ_INT(i61_mms_encode_report(b, &h, m, n), 0);
    i61_buf_free(&d);
    i61_value_free(v);
    free(blob);
}

static void send_seg(fs *s, const char *id, uint32_t seq, int sub, int more, uint32_t first,
                     size_t n, uint32_t dsz)
{
    i61_buf b;
    i61_buf_init(&b);
    make_seg(&b, id, seq, sub, more, first, n, dsz, 2);
    fs_send(s, b.data, b.len);
    i61_buf_free(&b);
}

/* An Identify round trip: everything the server sent before its answer has
 * been handled by the time it returns. */
static void sync_with(i61_client *c, fs *s)
{
    fs_answer_golden(s, "006_identify_response");
    char *v = NULL, *m = NULL, *r = NULL;
    T_EQ_INT(i61_client_identify(c, &v, &m, &r), I61_OK);
    i61_free(v);
    i61_free(m);
    i61_free(r);
}

static void test_report_malformed_and_segments(void)
{
    fs s;
    fs_start(&s, NULL, NULL);
    i61_client *c = connect_client(&s);
    /* a broken RPT: inclusion says 2 members, one value */
    static const uint8_t bad_list[] = {0x8a, 0x01, 'a', 0x84, 0x03, 0x06, 0x00, 0x00,
                                       0x84, 0x02, 0x06, 0xc0, 0x83, 0x01, 0x01};
    i61_buf bb;
    i61_buf_init(&bb);
    size_t m1 = i61_ber_open(&bb, 0xa3);
    size_t m2 = i61_ber_open(&bb, 0xa0);
    i61_buf_put(&bb, "\xa1\x05\x80\x03RPT", 7);
    i61_ber_put_tlv(&bb, 0xa0, bad_list, sizeof bad_list);
    i61_ber_close(&bb, m2);
    i61_ber_close(&bb, m1);
    fs_send(&s, bb.data, bb.len);
    i61_buf_free(&bb);
    /* an unconfirmed PDU that is not a report (CommandTermination-like): ignored */
    static const uint8_t other[] = {0xa3, 0x0c, 0xa0, 0x0a, 0xa0, 0x03, 0x30, 0x01, 0x00,
                                    0xa0, 0x03, 0x83, 0x01, 0x01};
    fs_send(&s, other, sizeof other);
    /* the second segment alone */
    fs_send_golden_frame(&s, "150_report_segmented_2");
    /* a gap: 0, 2, 3(last) -> one loss, the later segments swallowed */
    send_seg(&s, "gap", 5, 0, 1, 0, 2, 8);
    send_seg(&s, "gap", 5, 2, 1, 4, 2, 8);
    send_seg(&s, "gap", 5, 3, 0, 6, 2, 8);
    /* a new SeqNum mid-report: the old one is lost, the new one completes */
    send_seg(&s, "newseq", 1, 0, 1, 0, 2, 4);
    send_seg(&s, "newseq", 2, 0, 1, 0, 2, 4);
    send_seg(&s, "newseq", 2, 1, 0, 2, 2, 4);
    /* members going backwards across segments, another data set size */
    send_seg(&s, "back", 1, 0, 1, 2, 2, 4);
    send_seg(&s, "back", 1, 1, 0, 0, 2, 4);
    send_seg(&s, "size", 1, 0, 1, 0, 2, 4);
    send_seg(&s, "size", 1, 1, 0, 2, 2, 5);
    /* a segmented report in one segment, and an ordinary one */
    send_seg(&s, "one", 9, 0, 0, 0, 3, 3);
    send_seg(&s, "plain", 10, -1, 0, 1, 2, 3);
    sync_with(c, &s);
    T_EQ_INT(i61_client_reports_malformed(c), 6);  /* bad, lone 150, gap, newseq 1, back, size */
    T_EQ_INT(i61_client_state(c), I61_STATE_CONNECTED);
    i61_report *out[8];
    size_t n = 0;
    T_EQ_INT(i61_client_next_reports(c, 1000, out, 8, &n), I61_OK);
    T_EQ_INT(n, 3);
    if (n == 3) {
        T_CHECK(strcmp(i61_report_rpt_id(out[0]), "newseq") == 0);
        T_EQ_INT(i61_report_seq_num(out[0]), 2);
        T_EQ_INT(i61_report_count(out[0]), 4);
        T_EQ_INT(i61_report_segments(out[0]), 2);
        T_CHECK(strcmp(i61_report_rpt_id(out[1]), "one") == 0);
        T_EQ_INT(i61_report_segments(out[1]), 1);
        T_EQ_INT(i61_report_count(out[1]), 3);
        T_CHECK(strcmp(i61_report_rpt_id(out[2]), "plain") == 0);
        T_EQ_INT(i61_report_member_index(out[2], 0), 1);
        T_EQ_INT(i61_report_member_reason(out[2], 1), I61_REASON_INTEGRITY);
    }
    for (size_t i = 0; i < n; i++)
        i61_report_free(out[i]);
    finish(c, &s);
}

static void test_report_partial_bounds(void)
{
    fs s;
    fs_start(&s, NULL, NULL);
    i61_client *c = connect_client(&s);
    char id[16];
    /* 70 incomplete reports: the 6 oldest are evicted and counted */
    for (int i = 0; i < 70; i++) {
        snprintf(id, sizeof id, "p%d", i);
        send_seg(&s, id, 1, 0, 1, 0, 1, 2);
    }
    sync_with(c, &s);
    T_EQ_INT(i61_client_reports_malformed(c), 6);
    /* a survivor completes; an evicted one does not */
    send_seg(&s, "p69", 1, 1, 0, 1, 1, 2);
    send_seg(&s, "p0", 1, 1, 0, 1, 1, 2);
    sync_with(c, &s);
    T_EQ_INT(i61_client_reports_malformed(c), 7);
    i61_report *r = next1(c, 1000);
    T_CHECK(r && strcmp(i61_report_rpt_id(r), "p69") == 0 && i61_report_count(r) == 2);
    i61_report_free(r);
    /* more than 1 MiB of segments for one report */
    i61_buf b;
    i61_buf_init(&b);
    for (int k = 0; k < 20; k++) {
        make_seg(&b, "huge", 3, k, k < 19, (uint32_t)k * 60, 60, 1200, 1000);
        fs_send(&s, b.data, b.len);
    }
    i61_buf_free(&b);
    sync_with(c, &s);
    T_EQ_INT(i61_client_reports_malformed(c), 8);
    T_EQ_INT(i61_client_next_reports(c, 0, &r, 1, &(size_t){0}), I61_ERR_TIMEOUT);
    /* the association closes with partial reports pending: they count too */
    send_seg(&s, "pending", 1, 0, 1, 0, 1, 2);
    sync_with(c, &s);
    T_EQ_INT(i61_client_close(c), I61_OK);
    for (int i = 0; i < 200 && i61_client_reports_malformed(c) != 9 + 63; i++)
        sleep_ms(10);
    T_EQ_INT(i61_client_reports_malformed(c), 9 + 63);   /* p6..p68 and "pending" */
    finish(c, &s);
}

static void test_report_queue_full_and_batches(void)
{
    fs s;
    fs_start(&s, NULL, NULL);
    i61_client *c = connect_client(&s);
    i61_client_set_report_queue_size(c, 3);
    for (int i = 0; i < 10; i++)
        send_seg(&s, "q", (uint32_t)i, -1, 0, 0, 1, 1);
    sync_with(c, &s);
    T_EQ_INT(i61_client_reports_dropped(c), 7);
    i61_report *out[16];
    size_t n = 0;
    T_EQ_INT(i61_client_next_reports(c, 1000, out, 16, &n), I61_OK);
    T_EQ_INT(n, 3);
    for (size_t i = 0; i < n; i++) {
        T_EQ_INT(i61_report_seq_num(out[i]), i);    /* the oldest kept, newest dropped */
        i61_report_free(out[i]);
    }
    i61_client_set_report_queue_size(c, 1000);
    for (int i = 0; i < 5; i++)
        send_seg(&s, "q", (uint32_t)(100 + i), -1, 0, 0, 1, 1);
    sync_with(c, &s);
    T_EQ_INT(i61_client_next_reports(c, 1000, out, 2, &n), I61_OK);
    T_EQ_INT(n, 2);
    for (size_t i = 0; i < n; i++)
        i61_report_free(out[i]);
    T_EQ_INT(i61_client_next_reports(c, 1000, out, 16, &n), I61_OK);
    T_EQ_INT(n, 3);
    if (n == 3)
        T_EQ_INT(i61_report_seq_num(out[2]), 104);
    for (size_t i = 0; i < n; i++)
        i61_report_free(out[i]);
    T_EQ_INT(i61_client_next_reports(c, 1000, out, 0, &n), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_client_next_reports(c, 1000, NULL, 1, &n), I61_ERR_INVALID_ARGUMENT);
    /* a timeout waits about as long as asked */
    uint64_t t0 = i61_mono_ms();
    T_EQ_INT(i61_client_next_reports(c, 80, out, 16, &n), I61_ERR_TIMEOUT);
    uint64_t dt = i61_mono_ms() - t0;
    T_CHECK(dt >= 75 && dt < 2000);
    T_EQ_INT(n, 0);
    /* reports left in the queue are freed with the client (ASan) */
    send_seg(&s, "left", 1, -1, 0, 0, 1, 1);
    sync_with(c, &s);
    finish(c, &s);
}

typedef struct waiter {
    i61_client *c;
    uint32_t ms;
    int rc;
    size_t n;
    uint64_t took;
    i61_report *r;
} waiter;

static void *wait_main(void *arg)
{
    waiter *w = arg;
    uint64_t t0 = i61_mono_ms();
    w->rc = i61_client_next_reports(w->c, w->ms, &w->r, 1, &w->n);
    w->took = i61_mono_ms() - t0;
    return NULL;
}

static void test_report_interrupt_and_close(void)
{
    fs s;
    fs_start(&s, NULL, NULL);
    i61_client *c = connect_client(&s);
    /* a waiter is woken by a report */
    waiter w = { c, 5000, -1, 0, 0, NULL };
    pthread_t th;
    pthread_create(&th, NULL, wait_main, &w);
    sleep_ms(50);
    fs_send_golden_frame(&s, "065_report_urcb_dchg");
    pthread_join(th, NULL);
    T_EQ_INT(w.rc, I61_OK);
    T_EQ_INT(w.n, 1);
    T_CHECK(w.took < 4000);
    i61_report_free(w.r);
    /* interrupt wakes a waiter at once and makes later waits return at once */
    w = (waiter){ c, 5000, -1, 0, 0, NULL };
    pthread_create(&th, NULL, wait_main, &w);
    sleep_ms(50);
    i61_client_interrupt_reports(c);
    pthread_join(th, NULL);
    T_EQ_INT(w.rc, I61_ERR_NOT_CONNECTED);
    T_CHECK(w.took < 4000);
    i61_report *r = NULL;
    size_t n = 0;
    uint64_t t0 = i61_mono_ms();
    T_EQ_INT(i61_client_next_reports(c, 3000, &r, 1, &n), I61_ERR_NOT_CONNECTED);
    T_CHECK(i61_mono_ms() - t0 < 1000);
    /* queued reports are still handed out while interrupted */
    fs_send_golden_frame(&s, "065_report_urcb_dchg");
    sync_with(c, &s);
    T_EQ_INT(i61_client_next_reports(c, 3000, &r, 1, &n), I61_OK);
    i61_report_free(r);
    i61_client_resume_reports(c);
    T_EQ_INT(i61_client_next_reports(c, 20, &r, 1, &n), I61_ERR_TIMEOUT);
    /* reports received before the close stay readable; then NOT_CONNECTED */
    fs_send_golden_frame(&s, "065_report_urcb_dchg");
    fs_send_golden_frame(&s, "068_report_urcb_gi");
    sync_with(c, &s);
    fs_drop(&s);
    for (int i = 0; i < 200 && i61_client_state(c) != I61_STATE_CLOSED; i++)
        sleep_ms(10);
    T_EQ_INT(i61_client_state(c), I61_STATE_CLOSED);
    i61_report *out[4];
    T_EQ_INT(i61_client_next_reports(c, 1000, out, 4, &n), I61_OK);
    T_EQ_INT(n, 2);
    if (n == 2)
        T_EQ_INT(i61_report_seq_num(out[1]), 1);
    for (size_t i = 0; i < n; i++)
        i61_report_free(out[i]);
    T_EQ_INT(i61_client_next_reports(c, 1000, out, 4, &n), I61_ERR_NOT_CONNECTED);
    finish(c, &s);

    /* a waiter is woken when the connection goes away */
    fs_start(&s, NULL, NULL);
    c = connect_client(&s);
    w = (waiter){ c, 5000, -1, 0, 0, NULL };
    pthread_create(&th, NULL, wait_main, &w);
    sleep_ms(50);
    fs_drop(&s);
    pthread_join(th, NULL);
    T_EQ_INT(w.rc, I61_ERR_NOT_CONNECTED);
    T_CHECK(w.took < 4000);
    finish(c, &s);

    /* never connected */
    c = i61_client_new();
    T_EQ_INT(i61_client_next_reports(c, 1000, &r, 1, &n), I61_ERR_NOT_CONNECTED);
    i61_client_free(c);
}

/* Reports around every answer: report, Read answer, report. */
static void interleave_fn(fs *s, uint32_t id, const uint8_t *pdu, size_t len)
{
    (void)pdu;
    (void)len;
    uint32_t k = __atomic_fetch_add(&s->counter, 2, __ATOMIC_SEQ_CST);
    send_seg(s, "il", k, -1, 0, 0, 1, 1);
    i61_value *v = i61_value_new_unsigned(id);
    i61_buf b, a;
    i61_buf_init(&b);
    i61_buf_init(&a);
    read_answer(&b, v);
    with_invoke_id(&a, b.data, b.len, id);
    fs_send(s, a.data, a.len);
    send_seg(s, "il", k + 1, -1, 0, 0, 1, 1);
    i61_buf_free(&b);
    i61_buf_free(&a);
    i61_value_free(v);
}

typedef struct reader {
    i61_client *c;
    int reads, ok;
} reader;

static void *reader_main(void *arg)
{
    reader *rd = arg;
    for (int i = 0; i < rd->reads; i++) {
        i61_value *v = NULL;
        if (i61_client_read_value(rd->c, "LD/GGIO1.AnIn1.mag.f", I61_FC_MX, &v) == I61_OK &&
            i61_value_type(v) == I61_TYPE_UNSIGNED)
            rd->ok++;
        i61_value_free(v);
    }
    return NULL;
}

static void test_reports_interleaved_with_reads(void)
{
    fs s;
    fs_start(&s, interleave_fn, NULL);
    i61_client *c = connect_client(&s);
    enum { READS = 300 };
    reader rd = { c, READS, 0 };
    pthread_t th;
    pthread_create(&th, NULL, reader_main, &rd);
    uint32_t expect = 0;
    int got = 0, in_order = 1;
    uint64_t t0 = i61_mono_ms();
    while (got < 2 * READS && i61_mono_ms() - t0 < 20000) {
        i61_report *out[32];
        size_t n = 0;
        int rc = i61_client_next_reports(c, 2000, out, 32, &n);
        if (rc != I61_OK)
            break;
        for (size_t i = 0; i < n; i++) {
            if (i61_report_seq_num(out[i]) != expect)
                in_order = 0;
            expect++;
            got++;
            i61_report_free(out[i]);
        }
    }
    pthread_join(th, NULL);
    T_EQ_INT(rd.ok, READS);
    T_EQ_INT(got, 2 * READS);
    T_CHECK(in_order);
    T_EQ_INT(i61_client_reports_dropped(c), 0);
    T_EQ_INT(i61_client_reports_malformed(c), 0);
    finish(c, &s);
}

/* The application's state handler still sees every change. */
typedef struct states {
    pthread_mutex_t mu;
    int seen[8];
    int n;
} states;

static void on_state(void *ud, int st)
{
    states *x = ud;
    pthread_mutex_lock(&x->mu);
    if (x->n < 8)
        x->seen[x->n++] = st;
    pthread_mutex_unlock(&x->mu);
}

static int states_last(states *x, int *n)
{
    pthread_mutex_lock(&x->mu);
    int last = x->n ? x->seen[x->n - 1] : -1;
    *n = x->n;
    pthread_mutex_unlock(&x->mu);
    return last;
}

static void test_state_handler_still_called(void)
{
    fs s;
    fs_start(&s, NULL, NULL);
    i61_client *c = i61_client_new();
    states x;
    memset(&x, 0, sizeof x);
    pthread_mutex_init(&x.mu, NULL);
    i61_client_set_state_handler(c, on_state, &x);
    T_EQ_INT(i61_client_connect(c, "127.0.0.1", s.port), I61_OK);
    T_EQ_INT(i61_client_close(c), I61_OK);
    int n = 0;
    for (int i = 0; i < 100 && states_last(&x, &n) != I61_STATE_CLOSED; i++)
        sleep_ms(10);
    states_last(&x, &n);
    T_CHECK(n >= 3);
    if (x.n >= 3) {
        T_EQ_INT(x.seen[0], I61_STATE_CONNECTING);
        T_EQ_INT(x.seen[1], I61_STATE_CONNECTED);
        T_EQ_INT(x.seen[x.n - 1], I61_STATE_CLOSED);
    }
    i61_client_free(c);
    pthread_mutex_destroy(&x.mu);
    fs_stop(&s);
}

T_MAIN(T_CASE(test_read_urcb), T_CASE(test_read_brcb), T_CASE(test_rcb_shapes),
       T_CASE(test_rcb_set_local), T_CASE(test_set_urcb_single),
       T_CASE(test_set_brcb_per_attribute), T_CASE(test_set_order_and_failures),
       T_CASE(test_read_brcb_by_parts), T_CASE(test_read_urcb_by_parts),
       T_CASE(test_read_rcb_by_parts_failures), T_CASE(test_read_rcb_by_parts_small_pdu),
       T_CASE(test_report_single), T_CASE(test_report_brcb_and_segmented),
       T_CASE(test_report_malformed_and_segments), T_CASE(test_report_partial_bounds),
       T_CASE(test_report_queue_full_and_batches), T_CASE(test_report_interrupt_and_close),
       T_CASE(test_reports_interleaved_with_reads), T_CASE(test_state_handler_still_called))
