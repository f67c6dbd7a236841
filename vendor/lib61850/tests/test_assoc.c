/* Client association over loopback against a tiny scripted server running in
 * a thread of this test: set-up with golden 002/004, Identify round trip with
 * golden 005/006, release (134-137), and the failure paths: refused port,
 * silent server, garbage, close mid-request, COTP DR, AARE rejection, oversized
 * frame, peer abort, late answers, concurrent requests, segmented responses;
 * and the "direct receive" of a sequential request on the caller's thread:
 * reports around it still handled on the I/O thread, in order, before the
 * answer is returned; abort and free from another thread while it waits. */
#include "t.h"
#include "client/assoc.h"
#include "iso/iso_conn.h"
#include "mms/initiate.h"
#include "net/loop.h"
#include "net/sock.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ test server */

enum script {
    S_NORMAL,          /* golden answers, echo other requests, release */
    S_SILENT,          /* accepts, reads, never answers */
    S_GARBAGE,         /* garbage instead of the first response */
    S_CLOSE_MID,       /* closes on the first request */
    S_DR,              /* answers the CR with a DR */
    S_AARE_REJECT,     /* AC with a rejecting AARE */
    S_OVERSIZE,        /* a TPKT larger than the negotiated TPDU instead of a response */
    S_PEER_ABORT,      /* answers the first request with session AB (golden 138) */
    S_LATE,            /* first request unanswered; answers it late, before the second */
    S_SEGMENTED,       /* answers the first request with golden 155 + 156 */
    S_REPORT,          /* sends an InformationReport (golden 065) and a server request (123) */
    S_SILENT_RELEASE,  /* never answers the conclude */
    S_HOLD,            /* never answers confirmed requests (answers the conclude) */
    S_CLOSE_AFTER_SETUP, /* closes right after the association is accepted */
    S_NOREAD,          /* small receive buffer, stops reading until the test says go, then echoes */
    S_HUGE,            /* answers with a TSDU larger than any receive bound (9 full DTs) */
    S_REPORTS,         /* per request: report, echo answer, 30 ms pause, report */
};

typedef struct srv {
    int script;
    int lfd;
    int port;
    pthread_t th;
    int slow;              /* send answers one octet per write */
    int requests;          /* confirmed requests seen */
    int got_reject;        /* RejectPDU for the server's own request received (S_REPORT) */
    int got_abort;         /* AB received */
    int released;          /* FN answered */
    int go[2];             /* S_CLOSE_AFTER_SETUP: close when the test writes here */
} srv;

static int write_all(int fd, const uint8_t *p, size_t n, int slow)
{
    while (n) {
        ssize_t r = send(fd, p, slow ? 1 : n, MSG_NOSIGNAL);
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

/* One TPKT frame; returns its length or -1 (EOF, timeout). */
static int read_frame(int fd, uint8_t *buf, size_t cap, int timeout_ms)
{
    if (read_exact(fd, buf, 4, timeout_ms) != 0)
        return -1;
    size_t n = (size_t)buf[2] << 8 | buf[3];
    if (n < 4 || n > cap || read_exact(fd, buf + 4, n - 4, timeout_ms) != 0)
        return -1;
    return (int)n;
}

static int send_golden(int fd, const char *name, int slow)
{
    size_t n;
    uint8_t *g = t_golden(name, &n);
    int r = write_all(fd, g, n, slow);
    free(g);
    return r;
}

static int send_pdu(int fd, const uint8_t *pdu, size_t len, int slow)
{
    i61_buf t, f;
    i61_buf_init(&t);
    i61_buf_init(&f);
    i61_iso_write_data_tsdu(&t, pdu, len);
    i61_cotp_write_data(&f, 8192, t.data, t.len, NULL, 0);
    int r = write_all(fd, f.data, f.len, slow);
    i61_buf_free(&t);
    i61_buf_free(&f);
    return r;
}

static int is_identify(const uint8_t *pdu, size_t len)
{
    static const uint8_t id[] = { 0xa0, 0x05, 0x02, 0x01, 0x01, 0x82, 0x00 };
    return len == sizeof id && memcmp(pdu, id, len) == 0;
}

static int serve_inner(srv *s, int fd, i61_cotp_reasm *reasm, uint8_t *buf)
{
    uint8_t late[64];
    size_t late_len = 0;
    for (;;) {
        int n = read_frame(fd, buf, 70000, 5000);
        if (n < 0)
            return 0;
        i61_cotp_tpdu t;
        if (i61_cotp_decode(buf + 4, (size_t)n - 4, &t) != I61_OK)
            return 0;
        if (t.code == I61_COTP_CR) {
            if (s->script == S_SILENT)
                continue;
            if (s->script == S_DR) {
                i61_buf b;
                i61_buf_init(&b);
                i61_cotp_write_dr(&b, t.src_ref, 1, I61_COTP_DR_NOT_SPECIFIED);
                write_all(fd, b.data, b.len, 0);
                i61_buf_free(&b);
                return 0;
            }
            send_golden(fd, "002_cotp_cc", s->slow);
            continue;
        }
        if (t.code != I61_COTP_DT)
            return 0;
        const uint8_t *tsdu;
        size_t tl;
        int rr = i61_cotp_reasm_push(reasm, t.data, t.data_len, t.eot, &tsdu, &tl);
        if (rr < 0)
            return 0;
        if (rr == 0)
            continue;
        i61_iso_ind ind;
        if (i61_iso_decode_tsdu(tsdu, tl, &ind) != I61_OK)
            return 0;
        if (ind.type == I61_ISO_IND_CONNECT) {
            if (s->script == S_AARE_REJECT) {
                i61_buf b, f;
                i61_buf_init(&b);
                i61_buf_init(&f);
                i61_iso_write_accept_tsdu(&b, &ind, I61_ACSE_REJECTED_PERMANENT, I61_ACSE_DIAG_NO_REASON, NULL, 0);
                i61_cotp_write_data(&f, 8192, b.data, b.len, NULL, 0);
                write_all(fd, f.data, f.len, 0);
                i61_buf_free(&b);
                i61_buf_free(&f);
                continue;
            }
            send_golden(fd, "004_initiate_response", s->slow);
            if (s->script == S_NOREAD) {
                struct pollfd pg = { s->go[0], POLLIN, 0 };
                poll(&pg, 1, 5000);
                continue;
            }
            if (s->script == S_CLOSE_AFTER_SETUP) {
                struct pollfd pg = { s->go[0], POLLIN, 0 };
                poll(&pg, 1, 5000);
                return 1;
            }
            if (s->script == S_REPORT) {
                send_golden(fd, "065_report_urcb_dchg", 0);
                send_golden(fd, "123_obtainfile_srv_fileopen_request", 0);
            }
            continue;
        }
        if (ind.type == I61_ISO_IND_RELEASE_REQUEST) {
            send_golden(fd, "137_release_rlre", s->slow);
            __atomic_store_n(&s->released, 1, __ATOMIC_SEQ_CST);
            return 0;
        }
        if (ind.type == I61_ISO_IND_ABORT) {
            __atomic_store_n(&s->got_abort, 1, __ATOMIC_SEQ_CST);
            return 0;
        }
        if (ind.type != I61_ISO_IND_DATA || ind.pdu_len < 2)
            return 0;
        const uint8_t *pdu = ind.pdu;
        size_t pl = ind.pdu_len;
        if (pdu[0] == 0x8b) {
            if (s->script != S_SILENT_RELEASE)
                send_golden(fd, "135_conclude_response", s->slow);
            continue;
        }
        if (pdu[0] == 0xa4) {
            __atomic_store_n(&s->got_reject, 1, __ATOMIC_SEQ_CST);
            continue;
        }
        if (pdu[0] != 0xa0)
            continue;
        int nreq = __atomic_add_fetch(&s->requests, 1, __ATOMIC_SEQ_CST);
        switch (s->script) {
        case S_GARBAGE: {
            static const uint8_t junk[] = { 0x17, 0x03, 0x03, 0x00, 0x10, 0xde, 0xad, 0xbe, 0xef };
            write_all(fd, junk, sizeof junk, 0);
            continue;
        }
        case S_CLOSE_MID:
            return 1;
        case S_OVERSIZE: {
            /* TPKT announcing 8197 octets: more than 4 + TPDU size 8192 */
            uint8_t *big = calloc(1, 8197);
            i61_cotp_put_dt_header(big, 8197 - 7, 1);
            write_all(fd, big, 8197, 0);
            free(big);
            continue;
        }
        case S_PEER_ABORT:
            send_golden(fd, "138_abort_abrt", 0);
            return 0;
        case S_HUGE: {
            uint8_t *f = calloc(1, 8196);
            for (int k = 0; k < 9; k++) {
                i61_cotp_put_dt_header(f, 8189, k == 8);
                if (write_all(fd, f, 8196, 0) != 0)
                    break;
            }
            free(f);
            continue;
        }
        case S_SEGMENTED:
            send_golden(fd, "155_cotpseg_getnamelist_response_dt1_eot0", 0);
            send_golden(fd, "156_cotpseg_getnamelist_response_dt2_eot1", s->slow);
            continue;
        case S_HOLD:
            continue;
        case S_REPORTS: {
            send_golden(fd, "065_report_urcb_dchg", 0);
            uint8_t *r = malloc(pl);
            memcpy(r, pdu, pl);
            r[0] = 0xa1;
            send_pdu(fd, r, pl, 0);
            free(r);
            struct timespec pause = { 0, 30000000L };
            nanosleep(&pause, NULL);
            send_golden(fd, "065_report_urcb_dchg", 0);
            continue;
        }
        case S_LATE:
            if (nreq == 1 && pl <= sizeof late) {
                memcpy(late, pdu, pl);               /* answered later */
                late_len = pl;
                continue;
            }
            if (late_len) {
                late[0] = 0xa1;
                send_pdu(fd, late, late_len, 0);
                late_len = 0;
            }
            break;
        default:
            break;
        }
        if (is_identify(pdu, pl)) {
            send_golden(fd, "006_identify_response", s->slow);
            continue;
        }
        /* echo: the same PDU as a confirmed-Response */
        uint8_t *r = malloc(pl);
        memcpy(r, pdu, pl);
        r[0] = 0xa1;
        send_pdu(fd, r, pl, s->slow);
        free(r);
    }
}

static int serve(srv *s, int fd)
{
    i61_cotp_reasm r;
    i61_cotp_reasm_init(&r, 70000);
    uint8_t *buf = malloc(70000);                /* one per server thread */
    int rc = buf ? serve_inner(s, fd, &r, buf) : 0;
    free(buf);
    i61_cotp_reasm_free(&r);
    return rc;
}

static void *srv_main(void *arg)
{
    srv *s = arg;
    struct pollfd pf = { s->lfd, POLLIN, 0 };
    if (poll(&pf, 1, 10000) == 1) {
        int fd = accept(s->lfd, NULL, NULL);
        if (fd >= 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            if (serve(s, fd) == 0) {
            /* drain until the client closes (or a short while) so that nothing is reset early */
            uint8_t tmp[4096];
            struct pollfd pc = { fd, POLLIN, 0 };
            while (poll(&pc, 1, 2000) == 1 && read(fd, tmp, sizeof tmp) > 0) {
            }
            }
            close(fd);
        }
    }
    return NULL;
}

static void srv_start(srv *s, int script, int slow)
{
    memset(s, 0, sizeof *s);
    s->script = script;
    s->slow = slow;
    T_EQ_INT(pipe(s->go), 0);
    T_EQ_INT(i61_sock_listen("127.0.0.1", 0, 4, &s->lfd, &s->port), 0);
    if (script == S_NOREAD) {
        int small = 4096;                        /* inherited by the accepted socket */
        setsockopt(s->lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    }
    /* the test server uses blocking accept via poll: the listener may stay non-blocking */
    pthread_create(&s->th, NULL, srv_main, s);
}

static void srv_stop(srv *s)
{
    pthread_join(s->th, NULL);
    close(s->lfd);
    close(s->go[0]);
    close(s->go[1]);
}

/* ------------------------------------------------------- state recording */

typedef struct rec {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int states[32];
    int n;
} rec;

static void rec_init(rec *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
}

static void rec_free(rec *r)
{
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
}

static void on_state(void *ud, int s)
{
    rec *r = ud;
    pthread_mutex_lock(&r->mu);
    if (r->n < 32)
        r->states[r->n++] = s;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* Waits (bounded) until the last recorded state is s. */
static int rec_wait_last(rec *r, int s, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&r->mu);
    while (!(r->n > 0 && r->states[r->n - 1] == s)) {
        if (pthread_cond_timedwait(&r->cv, &r->mu, &ts) == ETIMEDOUT)
            break;
    }
    int ok = r->n > 0 && r->states[r->n - 1] == s;
    pthread_mutex_unlock(&r->mu);
    return ok;
}

static uint64_t now_ms(void)
{
    return i61_mono_ms();
}

static i61_assoc_params params(uint32_t timeout)
{
    i61_assoc_params p = { timeout, 65000, 5, 10 };
    return p;
}

static i61_assoc *connect_to(srv *s, rec *r, int expect)
{
    i61_assoc *a = i61_assoc_new();
    T_CHECK(a != NULL);
    if (r)
        i61_assoc_set_state_handler(a, on_state, r);
    i61_assoc_params p = params(3000);
    T_EQ_INT(i61_assoc_connect(a, "127.0.0.1", s->port, &p), expect);
    return a;
}

/* The MMS PDU inside a single-DT golden data frame (malloc'd copy). */
static uint8_t *golden_pdu(const char *name, size_t *len)
{
    size_t n;
    uint8_t *g = t_golden(name, &n);
    i61_cotp_tpdu t;
    const uint8_t *pdu = NULL;
    *len = 0;
    uint8_t *out = NULL;
    if (i61_cotp_decode(g + 4, n - 4, &t) == I61_OK &&
        i61_iso_decode_data(t.data, t.data_len, &pdu, len, NULL) == 1) {
        out = malloc(*len);
        memcpy(out, pdu, *len);
    }
    free(g);
    T_CHECK(out != NULL);
    return out;
}

static int identify(i61_assoc *a, i61_buf *resp)
{
    size_t n;
    uint8_t *pdu = golden_pdu("005_identify_request", &n);   /* a0 05 02 01 01 82 00 */
    i61_buf_reset(resp);
    int rc = pdu ? i61_assoc_request(a, 1, pdu, n, 2000, resp) : -1;
    free(pdu);
    return rc;
}

/* ------------------------------------------------------------------ tests */

static void test_connect_identify_release(void)
{
    for (int slow = 0; slow < 2; slow++) {
        srv s;
        rec r;
        rec_init(&r);
        srv_start(&s, S_NORMAL, slow);
        i61_assoc *a = connect_to(&s, &r, I61_OK);
        T_EQ_INT(i61_assoc_state(a), I61_STATE_CONNECTED);
        T_EQ_INT(i61_assoc_max_pdu_size(a), 65000);
        T_EQ_INT(i61_assoc_max_outstanding(a), 5);
        T_EQ_INT(i61_assoc_connect(a, "127.0.0.1", s.port, NULL), I61_ERR_ALREADY_CONNECTED);

        i61_buf resp;
        i61_buf_init(&resp);
        T_EQ_INT(identify(a, &resp), I61_OK);
        size_t n;
        uint8_t *g = golden_pdu("006_identify_response", &n);
        T_EQ_MEM(resp.data, resp.len, g, n);
        T_EQ_INT(n, 35);
        free(g);
        /* a duplicate of an outstanding id and an oversized PDU are refused */
        uint8_t *huge = calloc(1, 70000);
        huge[0] = 0xa0;
        T_EQ_INT(i61_assoc_request(a, 77, huge, 70000, 1000, &resp), I61_ERR_INVALID_ARGUMENT);
        free(huge);

        T_EQ_INT(i61_assoc_release(a, 2000), I61_OK);
        T_EQ_INT(i61_assoc_state(a), I61_STATE_CLOSED);
        T_CHECK(rec_wait_last(&r, I61_STATE_CLOSED, 2000));
        pthread_mutex_lock(&r.mu);
        T_EQ_INT(r.n, 4);
        T_EQ_INT(r.states[0], I61_STATE_CONNECTING);
        T_EQ_INT(r.states[1], I61_STATE_CONNECTED);
        T_EQ_INT(r.states[2], I61_STATE_CLOSING);
        T_EQ_INT(r.states[3], I61_STATE_CLOSED);
        pthread_mutex_unlock(&r.mu);
        T_EQ_INT(i61_assoc_request(a, 2, (const uint8_t *)"\xa0\x03\x02\x01\x02", 5, 100, &resp),
                 I61_ERR_NOT_CONNECTED);
        T_EQ_INT(i61_assoc_release(a, 100), I61_ERR_NOT_CONNECTED);
        srv_stop(&s);
        T_CHECK(s.released);

        /* the same object connects again */
        srv_start(&s, S_NORMAL, 0);
        T_EQ_INT(i61_assoc_connect(a, "127.0.0.1", s.port, NULL), I61_OK);
        T_EQ_INT(identify(a, &resp), I61_OK);
        T_EQ_INT(i61_assoc_abort(a), I61_OK);
        T_EQ_INT(i61_assoc_state(a), I61_STATE_CLOSED);
        T_EQ_INT(i61_assoc_abort(a), I61_ERR_NOT_CONNECTED);
        srv_stop(&s);
        T_CHECK(s.got_abort);
        i61_buf_free(&resp);
        i61_assoc_free(a);
        rec_free(&r);
    }
}

static void test_refused_port(void)
{
    int lfd, port;
    T_EQ_INT(i61_sock_listen("127.0.0.1", 0, 1, &lfd, &port), 0);
    close(lfd);                                  /* nothing listens there any more */
    i61_assoc *a = i61_assoc_new();
    i61_assoc_params p = params(5000);
    uint64_t t0 = now_ms();
    T_EQ_INT(i61_assoc_connect(a, "127.0.0.1", port, &p), I61_ERR_CONNECTION_REJECTED);
    T_CHECK(now_ms() - t0 < 1000);
    T_EQ_INT(i61_assoc_state(a), I61_STATE_CLOSED);
    T_EQ_INT(i61_assoc_connect(a, "no-such-host.invalid", 102, &p), I61_ERR_INVALID_ARGUMENT);
    i61_assoc_free(a);
}

static void test_silent_server_timeout(void)
{
    srv s;
    srv_start(&s, S_SILENT, 0);
    i61_assoc *a = i61_assoc_new();
    rec r;
    rec_init(&r);
    i61_assoc_set_state_handler(a, on_state, &r);
    i61_assoc_params p = params(400);
    uint64_t t0 = now_ms();
    T_EQ_INT(i61_assoc_connect(a, "127.0.0.1", s.port, &p), I61_ERR_TIMEOUT);
    uint64_t dt = now_ms() - t0;
    T_CHECK(dt >= 390 && dt < 900);
    T_EQ_INT(i61_assoc_state(a), I61_STATE_CLOSED);
    T_CHECK(rec_wait_last(&r, I61_STATE_CLOSED, 1000));
    i61_assoc_free(a);
    srv_stop(&s);
    rec_free(&r);
}

static void test_rejections(void)
{
    static const int scripts[] = { S_DR, S_AARE_REJECT };
    for (size_t k = 0; k < 2; k++) {
        srv s;
        srv_start(&s, scripts[k], 0);
        i61_assoc *a = i61_assoc_new();
        i61_assoc_params p = params(3000);
        uint64_t t0 = now_ms();
        T_EQ_INT(i61_assoc_connect(a, "127.0.0.1", s.port, &p), I61_ERR_CONNECTION_REJECTED);
        T_CHECK(now_ms() - t0 < 1000);
        T_EQ_INT(i61_assoc_state(a), I61_STATE_CLOSED);
        T_CHECK(strstr(i61_assoc_error_text(a), k == 0 ? "DR" : "AARE") != NULL);
        i61_assoc_free(a);
        srv_stop(&s);
    }
}

/* A request that the server answers with garbage / by closing / with an
 * oversized frame / with an abort: the request gets CONNECTION_LOST, the
 * association goes CLOSED and the state handler says so. */
static void test_broken_peers(void)
{
    static const int scripts[] = { S_GARBAGE, S_CLOSE_MID, S_OVERSIZE, S_PEER_ABORT };
    for (size_t k = 0; k < 4; k++) {
        srv s;
        rec r;
        rec_init(&r);
        srv_start(&s, scripts[k], 0);
        i61_assoc *a = connect_to(&s, &r, I61_OK);
        i61_buf resp;
        i61_buf_init(&resp);
        uint64_t t0 = now_ms();
        int rc = identify(a, &resp);
        if (rc != I61_ERR_CONNECTION_LOST)
            fprintf(stderr, "broken peer script %d: %d (%s)\n", scripts[k], rc, i61_assoc_error_text(a));
        T_EQ_INT(rc, I61_ERR_CONNECTION_LOST);
        T_CHECK(now_ms() - t0 < 1000);
        T_EQ_INT(resp.len, 0);
        T_EQ_INT(i61_assoc_state(a), I61_STATE_CLOSED);
        T_CHECK(rec_wait_last(&r, I61_STATE_CLOSED, 1000));
        T_EQ_INT(identify(a, &resp), I61_ERR_NOT_CONNECTED);
        i61_buf_free(&resp);
        i61_assoc_free(a);
        srv_stop(&s);
        int closed = 0;
        for (int i = 0; i < r.n; i++)
            closed += r.states[i] == I61_STATE_CLOSED;
        T_EQ_INT(closed, 1);                     /* the drop is notified once */
        rec_free(&r);
    }
}

static void test_late_answer_dropped(void)
{
    srv s;
    srv_start(&s, S_LATE, 0);
    i61_assoc *a = connect_to(&s, NULL, I61_OK);
    i61_buf resp;
    i61_buf_init(&resp);
    static const uint8_t r1[] = { 0xa0, 0x06, 0x02, 0x01, 0x0a, 0x80, 0x01, 0x00 };   /* status, id 10 */
    static const uint8_t r2[] = { 0xa0, 0x06, 0x02, 0x01, 0x0b, 0x80, 0x01, 0x01 };   /* status, id 11 */
    uint64_t t0 = now_ms();
    T_EQ_INT(i61_assoc_request(a, 10, r1, sizeof r1, 200, &resp), I61_ERR_TIMEOUT);
    T_CHECK(now_ms() - t0 >= 190);
    T_EQ_INT(resp.len, 0);
    /* the server now answers 10 (late, dropped) and then 11 */
    T_EQ_INT(i61_assoc_request(a, 11, r2, sizeof r2, 2000, &resp), I61_OK);
    T_EQ_INT(resp.len, sizeof r2);
    T_EQ_INT(resp.data[0], 0xa1);
    T_EQ_INT(resp.data[4], 0x0b);
    T_EQ_INT(i61_assoc_state(a), I61_STATE_CONNECTED);
    i61_buf_free(&resp);
    T_EQ_INT(i61_assoc_release(a, 2000), I61_OK);
    i61_assoc_free(a);
    srv_stop(&s);
}

static void test_segmented_response(void)
{
    /* receive policy: a PDU larger than the negotiated 512 (but within 65000) is
     * accepted, one beyond every bound closes the association */
    {
        srv s;
        srv_start(&s, S_SEGMENTED, 0);
        i61_assoc *a = i61_assoc_new();
        i61_assoc_params p = { 3000, 512, 5, 10 };
        T_EQ_INT(i61_assoc_connect(a, "127.0.0.1", s.port, &p), I61_OK);
        T_EQ_INT(i61_assoc_max_pdu_size(a), 512);
        i61_buf resp;
        i61_buf_init(&resp);
        size_t n;
        uint8_t *g = golden_pdu("154_cotpseg_getnamelist_request", &n);
        T_EQ_INT(i61_assoc_request(a, 1, g, n, 5000, &resp), I61_OK);
        T_EQ_INT(resp.len, 12160);
        /* sending more than the negotiated size is refused */
        uint8_t big[600];
        memset(big, 0, sizeof big);
        big[0] = 0xa0;
        T_EQ_INT(i61_assoc_request(a, 2, big, sizeof big, 1000, &resp), I61_ERR_INVALID_ARGUMENT);
        T_EQ_INT(i61_assoc_send(a, big, sizeof big), I61_ERR_INVALID_ARGUMENT);
        free(g);
        i61_buf_free(&resp);
        T_EQ_INT(i61_assoc_release(a, 2000), I61_OK);
        i61_assoc_free(a);
        srv_stop(&s);

        srv_start(&s, S_HUGE, 0);
        a = connect_to(&s, NULL, I61_OK);
        i61_buf_init(&resp);
        uint64_t t0 = now_ms();
        T_EQ_INT(identify(a, &resp), I61_ERR_CONNECTION_LOST);
        T_CHECK(now_ms() - t0 < 1000);
        T_EQ_INT(i61_assoc_state(a), I61_STATE_CLOSED);
        i61_buf_free(&resp);
        i61_assoc_free(a);
        srv_stop(&s);
    }
    for (int slow = 0; slow < 2; slow++) {
        srv s;
        srv_start(&s, S_SEGMENTED, slow);
        i61_assoc *a = connect_to(&s, NULL, I61_OK);
        i61_buf resp;
        i61_buf_init(&resp);
        size_t n;
        uint8_t *g = golden_pdu("154_cotpseg_getnamelist_request", &n);
        T_EQ_INT(i61_assoc_request(a, 1, g, n, 5000, &resp), I61_OK);
        free(g);
        T_EQ_INT(resp.len, 12160);
        if (resp.len == 12160) {
            T_EQ_INT(resp.data[0], 0xa1);
            T_EQ_INT(resp.data[resp.len - 3], 0x81);
            T_EQ_INT(resp.data[resp.len - 1], 0x00);
        }
        i61_buf_free(&resp);
        T_EQ_INT(i61_assoc_release(a, 2000), I61_OK);
        i61_assoc_free(a);
        srv_stop(&s);
    }
}

/* ------------------------------------------------------------ concurrency */

typedef struct worker {
    i61_assoc *a;
    int index;
    int count;
    int ok;
    int wrong;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    i61_buf resp;
    i61_buf_init(&resp);
    for (int k = 0; k < w->count; k++) {
        uint32_t id = i61_assoc_next_invoke_id(w->a);
        /* confirmed-Request: invokeID, then an octet string naming the worker and k */
        uint8_t pdu[32];
        size_t n = 0;
        pdu[n++] = 0xa0;
        pdu[n++] = 0;
        pdu[n++] = 0x02;
        pdu[n++] = 4;
        pdu[n++] = (uint8_t)(id >> 24);
        pdu[n++] = (uint8_t)(id >> 16);
        pdu[n++] = (uint8_t)(id >> 8);
        pdu[n++] = (uint8_t)id;
        pdu[n++] = 0x84;
        pdu[n++] = 3;
        pdu[n++] = (uint8_t)w->index;
        pdu[n++] = (uint8_t)(k >> 8);
        pdu[n++] = (uint8_t)k;
        if (pdu[4] & 0x80)
            pdu[3] = 4;                          /* still fine: ids stay far below 2^31 */
        pdu[1] = (uint8_t)(n - 2);
        i61_buf_reset(&resp);
        int rc = i61_assoc_request(w->a, id, pdu, n, 5000, &resp);
        if (rc == I61_OK && resp.len == n && resp.data[0] == 0xa1 && memcmp(resp.data + 1, pdu + 1, n - 1) == 0)
            w->ok++;
        else
            w->wrong++;
    }
    i61_buf_free(&resp);
    return NULL;
}

static void run_workers(i61_assoc *a, int nthreads, int per_thread, int *ok, int *wrong)
{
    pthread_t th[8];
    worker w[8];
    *ok = *wrong = 0;
    for (int k = 0; k < nthreads; k++) {
        w[k] = (worker){ a, k, per_thread, 0, 0 };
        pthread_create(&th[k], NULL, worker_main, &w[k]);
    }
    for (int k = 0; k < nthreads; k++) {
        pthread_join(th[k], NULL);
        *ok += w[k].ok;
        *wrong += w[k].wrong;
    }
}

static void test_concurrent_requests(void)
{
    srv s;
    srv_start(&s, S_NORMAL, 0);
    i61_assoc *a = connect_to(&s, NULL, I61_OK);
    int ok, wrong;
    /* 50 concurrent requests from 4 threads (13+13+12+12 rounded up to 13 each = 52) */
    run_workers(a, 4, 13, &ok, &wrong);
    T_EQ_INT(ok, 52);
    T_EQ_INT(wrong, 0);
    /* a longer run for the round-trip rate: one thread, sequential */
    uint64_t t0 = now_ms();
    run_workers(a, 1, 3000, &ok, &wrong);
    uint64_t dt = now_ms() - t0;
    T_EQ_INT(ok, 3000);
    fprintf(stderr, "sequential loopback round trips: %d in %llu ms (%.0f/s)\n", ok,
            (unsigned long long)dt, dt ? ok * 1000.0 / (double)dt : 0.0);
    T_EQ_INT(i61_assoc_release(a, 2000), I61_OK);
    i61_assoc_free(a);
    srv_stop(&s);
}

/* More outstanding requests than negotiated are refused, not queued; a
 * conclude that is never answered makes release time out and close. */
typedef struct slow_req {
    i61_assoc *a;
    uint32_t id;
    int rc;
} slow_req;

static void *slow_req_main(void *arg)
{
    slow_req *q = arg;
    uint8_t pdu[] = { 0xa0, 0x06, 0x02, 0x01, (uint8_t)q->id, 0x80, 0x01, 0x00 };
    i61_buf resp;
    i61_buf_init(&resp);
    q->rc = i61_assoc_request(q->a, q->id, pdu, sizeof pdu, 1500, &resp);
    i61_buf_free(&resp);
    return NULL;
}

static void test_outstanding_limit(void)
{
    srv s;
    srv_start(&s, S_HOLD, 0);
    i61_assoc *a = connect_to(&s, NULL, I61_OK);
    slow_req q[5];
    pthread_t th[5];
    for (int k = 0; k < 5; k++) {
        q[k] = (slow_req){ a, (uint32_t)(20 + k), -1 };
        pthread_create(&th[k], NULL, slow_req_main, &q[k]);
    }
    /* wait (bounded) until the server holds all five */
    for (int k = 0; k < 2000 && __atomic_load_n(&s.requests, __ATOMIC_SEQ_CST) < 5; k++) {
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
    T_EQ_INT(__atomic_load_n(&s.requests, __ATOMIC_SEQ_CST), 5);
    uint8_t pdu[] = { 0xa0, 0x06, 0x02, 0x01, 30, 0x80, 0x01, 0x00 };
    i61_buf resp;
    i61_buf_init(&resp);
    uint64_t t0 = now_ms();
    T_EQ_INT(i61_assoc_request(a, 30, pdu, sizeof pdu, 1500, &resp), I61_ERR_OUTSTANDING_CALL_LIMIT);
    T_CHECK(now_ms() - t0 < 100);
    for (int k = 0; k < 5; k++) {
        pthread_join(th[k], NULL);
        T_EQ_INT(q[k].rc, I61_ERR_TIMEOUT);
    }
    /* the slots are free again; the conclude is answered by S_HOLD */
    T_EQ_INT(i61_assoc_release(a, 2000), I61_OK);
    i61_buf_free(&resp);
    i61_assoc_free(a);
    srv_stop(&s);

    srv_start(&s, S_SILENT_RELEASE, 0);
    a = connect_to(&s, NULL, I61_OK);
    t0 = now_ms();
    T_EQ_INT(i61_assoc_release(a, 300), I61_ERR_TIMEOUT);    /* conclude never answered */
    T_CHECK(now_ms() - t0 < 800);
    T_EQ_INT(i61_assoc_state(a), I61_STATE_CLOSED);
    i61_assoc_free(a);
    srv_stop(&s);
}

/* Large requests to a peer that does not read: the socket buffer fills, the
 * rest is queued and flushed by the I/O thread (EPOLLOUT); large responses come
 * back segmented into several DTs. */
typedef struct big_req {
    i61_assoc *a;
    uint32_t id;
    size_t len;
    int rc;
    int match;
} big_req;

static void *big_req_main(void *arg)
{
    big_req *q = arg;
    uint8_t *pdu = malloc(q->len);
    /* a0 82 LL LL 02 01 id 84 82 LL LL <payload> */
    size_t body = q->len - 4;
    size_t str = q->len - 11;
    pdu[0] = 0xa0;
    pdu[1] = 0x82;
    pdu[2] = (uint8_t)(body >> 8);
    pdu[3] = (uint8_t)body;
    pdu[4] = 0x02;
    pdu[5] = 0x01;
    pdu[6] = (uint8_t)q->id;
    pdu[7] = 0x84;
    pdu[8] = 0x82;
    pdu[9] = (uint8_t)(str >> 8);
    pdu[10] = (uint8_t)str;
    for (size_t k = 11; k < q->len; k++)
        pdu[k] = (uint8_t)(k * 7 + q->id);
    i61_buf resp;
    i61_buf_init(&resp);
    q->rc = i61_assoc_request(q->a, q->id, pdu, q->len, 10000, &resp);
    q->match = resp.len == q->len && resp.data[0] == 0xa1 && memcmp(resp.data + 1, pdu + 1, q->len - 1) == 0;
    i61_buf_free(&resp);
    free(pdu);
    return NULL;
}

static void test_send_queue_and_large_pdus(void)
{
    srv s;
    srv_start(&s, S_NOREAD, 0);
    i61_assoc *a = connect_to(&s, NULL, I61_OK);
    /* 6 MB of unconfirmed PDUs first (the server ignores them): more than the
     * kernel buffers hold, less than the association's queue bound */
    uint8_t *u = calloc(1, 60000);
    u[0] = 0xa3;
    u[1] = 0x82;
    u[2] = (uint8_t)((60000 - 4) >> 8);
    u[3] = (uint8_t)(60000 - 4);
    int sent_ok = 0;
    uint64_t t0 = now_ms();
    for (int k = 0; k < 100; k++)
        sent_ok += i61_assoc_send(a, u, 60000) == I61_OK;
    T_EQ_INT(sent_ok, 100);
    T_CHECK(now_ms() - t0 < 1000);               /* queued, not blocked */
    free(u);
    big_req q[5];
    pthread_t th[5];
    for (int k = 0; k < 5; k++) {
        q[k] = (big_req){ a, (uint32_t)(40 + k), 60000 + (size_t)k * 1000, -1, 0 };
        pthread_create(&th[k], NULL, big_req_main, &q[k]);
    }
    /* every request is "sent" (written or queued) without blocking its caller */
    struct timespec ts = { 0, 200000000 };
    nanosleep(&ts, NULL);
    T_EQ_INT(write(s.go[1], "x", 1), 1);        /* the server starts reading */
    for (int k = 0; k < 5; k++) {
        pthread_join(th[k], NULL);
        T_EQ_INT(q[k].rc, I61_OK);
        T_CHECK(q[k].match);
    }
    T_EQ_INT(i61_assoc_release(a, 2000), I61_OK);
    i61_assoc_free(a);
    srv_stop(&s);
}

/* ------------------------------------------------- handlers and free */

typedef struct ucap {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int reports;
    size_t len;
    uint8_t first;
} ucap;

static void on_unconfirmed(void *ud, const uint8_t *pdu, size_t len)
{
    ucap *u = ud;
    pthread_mutex_lock(&u->mu);
    u->reports++;
    u->len = len;
    u->first = pdu[0];
    pthread_cond_broadcast(&u->cv);
    pthread_mutex_unlock(&u->mu);
}

static void test_report_and_server_request(void)
{
    srv s;
    srv_start(&s, S_REPORT, 0);
    ucap u;
    memset(&u, 0, sizeof u);
    pthread_mutex_init(&u.mu, NULL);
    pthread_cond_init(&u.cv, NULL);
    i61_assoc *a = i61_assoc_new();
    i61_assoc_set_unconfirmed_handler(a, on_unconfirmed, &u);
    T_EQ_INT(i61_assoc_connect(a, "127.0.0.1", s.port, NULL), I61_OK);
    /* identify round trip: by then the report and the server's request have been handled */
    i61_buf resp;
    i61_buf_init(&resp);
    T_EQ_INT(identify(a, &resp), I61_OK);
    pthread_mutex_lock(&u.mu);
    T_EQ_INT(u.reports, 1);
    T_EQ_INT(u.first, 0xa3);
    size_t n;
    uint8_t *g = t_golden("065_report_urcb_dchg", &n);
    i61_cotp_tpdu t;
    const uint8_t *pdu = NULL;
    size_t pl = 0;
    T_EQ_INT(i61_cotp_decode(g + 4, n - 4, &t), I61_OK);
    T_EQ_INT(i61_iso_decode_data(t.data, t.data_len, &pdu, &pl, NULL), 1);
    T_EQ_INT(u.len, pl);
    free(g);
    pthread_mutex_unlock(&u.mu);
    T_EQ_INT(i61_assoc_release(a, 2000), I61_OK);
    i61_buf_free(&resp);
    i61_assoc_free(a);
    srv_stop(&s);
    T_CHECK(s.got_reject);
    pthread_mutex_destroy(&u.mu);
    pthread_cond_destroy(&u.cv);
}

/* Reports arriving while a sequential request waits: the caller receives the
 * answer itself, but the handler still runs on the I/O thread, the report
 * sent before the answer has been handled when the request returns, and a
 * report arriving when nothing is pending is still received. */
typedef struct rcap {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t caller;
    int n;
    int on_caller;
    int bad;
} rcap;

static void on_report_thread(void *ud, const uint8_t *pdu, size_t len)
{
    rcap *c = ud;
    pthread_mutex_lock(&c->mu);
    c->n++;
    if (pthread_equal(pthread_self(), c->caller))
        c->on_caller++;
    if (len < 2 || pdu[0] != 0xa3)
        c->bad++;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void test_reports_around_sequential_requests(void)
{
    srv s;
    srv_start(&s, S_REPORTS, 0);
    rcap c;
    memset(&c, 0, sizeof c);
    pthread_mutex_init(&c.mu, NULL);
    pthread_cond_init(&c.cv, NULL);
    c.caller = pthread_self();
    i61_assoc *a = i61_assoc_new();
    i61_assoc_set_unconfirmed_handler(a, on_report_thread, &c);
    i61_assoc_params p = params(3000);
    T_EQ_INT(i61_assoc_connect(a, "127.0.0.1", s.port, &p), I61_OK);
    i61_buf resp;
    i61_buf_init(&resp);
    for (int k = 0; k < 5; k++) {
        uint8_t pdu[] = { 0xa0, 0x06, 0x02, 0x01, (uint8_t)(40 + k), 0x80, 0x01, 0x00 };
        i61_buf_reset(&resp);
        T_EQ_INT(i61_assoc_request(a, (uint32_t)(40 + k), pdu, sizeof pdu, 2000, &resp), I61_OK);
        T_EQ_INT(resp.len, sizeof pdu);
        T_EQ_INT(resp.data[0], 0xa1);
        T_EQ_INT(resp.data[4], 40 + k);
        /* the report after the previous answer and the one before this answer */
        pthread_mutex_lock(&c.mu);
        T_EQ_INT(c.n, 2 * k + 1);
        pthread_mutex_unlock(&c.mu);
    }
    /* the last report comes while nothing is pending: the I/O thread reads it */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 2;
    pthread_mutex_lock(&c.mu);
    while (c.n < 10 && pthread_cond_timedwait(&c.cv, &c.mu, &ts) == 0) {
    }
    T_EQ_INT(c.n, 10);
    T_EQ_INT(c.on_caller, 0);
    T_EQ_INT(c.bad, 0);
    pthread_mutex_unlock(&c.mu);
    T_EQ_INT(i61_assoc_state(a), I61_STATE_CONNECTED);
    T_EQ_INT(i61_assoc_release(a, 2000), I61_OK);
    i61_buf_free(&resp);
    i61_assoc_free(a);
    srv_stop(&s);
    pthread_mutex_destroy(&c.mu);
    pthread_cond_destroy(&c.cv);
}

/* Abort, and free, from another thread while a sequential request waits for
 * an answer that never comes: the request ends at once with CONNECTION_LOST
 * (not at its timeout), nothing is used after the free (ASan). */
typedef struct bgreq {
    i61_assoc *a;
    int rc;
    uint64_t ms;
} bgreq;

static void *bgreq_main(void *arg)
{
    bgreq *q = arg;
    uint8_t pdu[] = { 0xa0, 0x06, 0x02, 0x01, 0x07, 0x80, 0x01, 0x00 };
    i61_buf resp;
    i61_buf_init(&resp);
    uint64_t t0 = now_ms();
    q->rc = i61_assoc_request(q->a, 7, pdu, sizeof pdu, 5000, &resp);
    q->ms = now_ms() - t0;
    i61_buf_free(&resp);
    return NULL;
}

static void test_abort_and_free_while_waiting(void)
{
    for (int mode = 0; mode < 2; mode++) {
        srv s;
        rec r;
        rec_init(&r);
        srv_start(&s, S_HOLD, 0);
        i61_assoc *a = connect_to(&s, &r, I61_OK);
        bgreq q = { a, -1, 0 };
        pthread_t th;
        pthread_create(&th, NULL, bgreq_main, &q);
        /* wait until the server has the request: the caller is then waiting */
        for (int i = 0; i < 200 && __atomic_load_n(&s.requests, __ATOMIC_SEQ_CST) == 0; i++) {
            struct timespec d = { 0, 10000000L };
            nanosleep(&d, NULL);
        }
        T_EQ_INT(__atomic_load_n(&s.requests, __ATOMIC_SEQ_CST), 1);
        struct timespec d = { 0, 20000000L };
        nanosleep(&d, NULL);
        if (mode == 0) {
            T_EQ_INT(i61_assoc_abort(a), I61_OK);
            pthread_join(th, NULL);
            T_EQ_INT(i61_assoc_state(a), I61_STATE_CLOSED);
            T_CHECK(rec_wait_last(&r, I61_STATE_CLOSED, 1000));
            i61_assoc_free(a);
        } else {
            i61_assoc_free(a);                   /* the request is still in progress */
            pthread_join(th, NULL);
        }
        T_EQ_INT(q.rc, I61_ERR_CONNECTION_LOST);
        T_CHECK(q.ms < 2000);
        srv_stop(&s);
        T_CHECK(s.got_abort);
        rec_free(&r);
    }
}

/* i61_assoc_free from inside the state handler (on the I/O thread). */
typedef struct self_free {
    i61_assoc *a;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int freed;
} self_free;

static void on_state_free(void *ud, int s)
{
    self_free *f = ud;
    if (s != I61_STATE_CLOSED)
        return;
    i61_assoc_free(f->a);                        /* deferred until this handler returns */
    pthread_mutex_lock(&f->mu);
    f->freed = 1;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

/* The handler's results, checked on the main thread (the harness counters are
 * not thread safe). */
typedef struct blk {
    i61_assoc *a;
    int rc_req;
    int rc_rel;
    int ran;
} blk;

static void on_state_block(void *ud, int s)
{
    blk *k = ud;
    if (s == I61_STATE_CONNECTED) {
        /* blocking calls from a handler are refused instead of deadlocking */
        i61_buf b;
        i61_buf_init(&b);
        int r1 = i61_assoc_request(k->a, 5, (const uint8_t *)"\xa0\x03\x02\x01\x05", 5, 100, &b);
        int r2 = i61_assoc_release(k->a, 100);
        i61_buf_free(&b);
        __atomic_store_n(&k->rc_req, r1, __ATOMIC_SEQ_CST);
        __atomic_store_n(&k->rc_rel, r2, __ATOMIC_SEQ_CST);
        __atomic_store_n(&k->ran, 1, __ATOMIC_SEQ_CST);
    }
}

static void test_free_in_handler(void)
{
    /* the server closes after the set-up; the handler frees the association
     * when it sees CLOSED (nobody else uses the object at that point) */
    srv s;
    srv_start(&s, S_CLOSE_AFTER_SETUP, 0);
    self_free f;
    memset(&f, 0, sizeof f);
    pthread_mutex_init(&f.mu, NULL);
    pthread_cond_init(&f.cv, NULL);
    f.a = i61_assoc_new();
    i61_assoc_set_state_handler(f.a, on_state_free, &f);
    T_EQ_INT(i61_assoc_connect(f.a, "127.0.0.1", s.port, NULL), I61_OK);
    T_EQ_INT(write(s.go[1], "x", 1), 1);        /* now the server closes */
    pthread_mutex_lock(&f.mu);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 2;
    while (!f.freed && pthread_cond_timedwait(&f.cv, &f.mu, &ts) == 0) {
    }
    T_CHECK(f.freed);
    pthread_mutex_unlock(&f.mu);
    srv_stop(&s);
    /* f's handler may still be returning on the I/O thread: sync with the loop */
    i61_loop *l = i61_loop_acquire();
    i61_loop_sync(l);
    i61_loop_release(l);
    pthread_mutex_destroy(&f.mu);
    pthread_cond_destroy(&f.cv);
    i61_buf resp;

    /* blocking calls inside a handler; free of a live association from a caller */
    srv_start(&s, S_NORMAL, 0);
    i61_assoc *a = i61_assoc_new();
    blk k = { a, 0, 0, 0 };
    i61_assoc_set_state_handler(a, on_state_block, &k);
    T_EQ_INT(i61_assoc_connect(a, "127.0.0.1", s.port, NULL), I61_OK);
    i61_buf_init(&resp);
    T_EQ_INT(identify(a, &resp), I61_OK);
    i61_buf_free(&resp);
    for (int i = 0; i < 200 && !__atomic_load_n(&k.ran, __ATOMIC_SEQ_CST); i++) {
        struct timespec d = { 0, 10000000L };
        nanosleep(&d, NULL);
    }
    T_CHECK(__atomic_load_n(&k.ran, __ATOMIC_SEQ_CST));
    T_EQ_INT(__atomic_load_n(&k.rc_req, __ATOMIC_SEQ_CST), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(__atomic_load_n(&k.rc_rel, __ATOMIC_SEQ_CST), I61_ERR_INVALID_ARGUMENT);
    i61_assoc_free(a);                           /* live: aborts */
    srv_stop(&s);
    T_CHECK(s.got_abort);
}

/* Several associations on the one I/O thread: one breaking leaves the others alone. */
static void test_independent_associations(void)
{
    srv s1, s2;
    srv_start(&s1, S_GARBAGE, 0);
    srv_start(&s2, S_NORMAL, 0);
    i61_assoc *a1 = connect_to(&s1, NULL, I61_OK);
    i61_assoc *a2 = connect_to(&s2, NULL, I61_OK);
    i61_buf resp;
    i61_buf_init(&resp);
    T_EQ_INT(identify(a1, &resp), I61_ERR_CONNECTION_LOST);
    T_EQ_INT(identify(a2, &resp), I61_OK);
    T_EQ_INT(i61_assoc_state(a2), I61_STATE_CONNECTED);
    T_EQ_INT(i61_assoc_release(a2, 2000), I61_OK);
    i61_buf_free(&resp);
    i61_assoc_free(a1);
    i61_assoc_free(a2);
    srv_stop(&s1);
    srv_stop(&s2);
}

typedef struct tctx {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    i61_loop *l;
    i61_timer *self;
    int fired;
    int in_thread;
    uint64_t t_fire;
} tctx;

static void tctx_bump(tctx *c)
{
    pthread_mutex_lock(&c->mu);
    c->fired++;
    c->in_thread += i61_loop_in_thread(c->l);
    c->t_fire = i61_mono_ms();
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void on_timer(void *ud)
{
    tctx_bump(ud);
}

static void on_timer_self_free(void *ud)
{
    tctx *c = ud;
    i61_timer_free(c->self);                     /* from its own callback */
    tctx_bump(c);
}

static void on_task(void *ud)
{
    tctx_bump(ud);
}

static int tctx_wait(tctx *c, int n, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->mu);
    while (c->fired < n && pthread_cond_timedwait(&c->cv, &c->mu, &ts) == 0) {
    }
    int r = c->fired;
    pthread_mutex_unlock(&c->mu);
    return r;
}

static void test_loop_timers(void)
{
    i61_loop *l = i61_loop_acquire();
    T_CHECK(l != NULL);
    if (!l)
        return;
    T_CHECK(!i61_loop_in_thread(l));
    tctx c;
    memset(&c, 0, sizeof c);
    pthread_mutex_init(&c.mu, NULL);
    pthread_cond_init(&c.cv, NULL);
    c.l = l;
    /* one-shot after 50 ms */
    i61_timer *t = i61_timer_new(l, on_timer, &c);
    uint64_t t0 = i61_mono_ms();
    i61_timer_start(t, 50, 0);
    T_EQ_INT(tctx_wait(&c, 1, 2000), 1);
    T_CHECK(c.t_fire - t0 >= 49 && c.t_fire - t0 < 500);
    /* periodic every 10 ms, then stopped */
    c.fired = 0;
    i61_timer_start(t, 10, 10);
    T_CHECK(tctx_wait(&c, 5, 2000) >= 5);
    i61_timer_stop(t);
    i61_loop_sync(l);
    int after = tctx_wait(&c, 0, 0);
    tctx_wait(&c, 1000, 60);                     /* nothing more fires */
    T_EQ_INT(tctx_wait(&c, 0, 0), after);
    i61_timer_free(t);
    /* a timer freeing itself; a task */
    c.fired = 0;
    c.in_thread = 0;
    c.self = i61_timer_new(l, on_timer_self_free, &c);
    i61_timer_start(c.self, 1, 0);
    T_EQ_INT(tctx_wait(&c, 1, 2000), 1);
    i61_task task = { on_task, &c, NULL, 0 };
    i61_loop_post(l, &task);
    i61_loop_sync(l);
    T_EQ_INT(tctx_wait(&c, 2, 0), 2);
    T_EQ_INT(c.in_thread, 2);
    /* a timer freed while armed never fires */
    t = i61_timer_new(l, on_timer, &c);
    i61_timer_start(t, 30, 0);
    i61_timer_free(t);
    tctx_wait(&c, 1000, 80);
    T_EQ_INT(tctx_wait(&c, 0, 0), 2);
    pthread_mutex_destroy(&c.mu);
    pthread_cond_destroy(&c.cv);
    i61_loop_release(l);
}

T_MAIN(T_CASE(test_connect_identify_release), T_CASE(test_refused_port), T_CASE(test_silent_server_timeout),
       T_CASE(test_rejections), T_CASE(test_broken_peers), T_CASE(test_late_answer_dropped),
       T_CASE(test_segmented_response), T_CASE(test_concurrent_requests), T_CASE(test_outstanding_limit), T_CASE(test_send_queue_and_large_pdus),
       T_CASE(test_report_and_server_request), T_CASE(test_reports_around_sequential_requests),
       T_CASE(test_abort_and_free_while_waiting), T_CASE(test_free_in_handler),
       T_CASE(test_independent_associations), T_CASE(test_loop_timers))
