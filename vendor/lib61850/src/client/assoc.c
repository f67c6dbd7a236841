/* MMS client association over TPKT/COTP/session/presentation/ACSE, driven by
 * the shared I/O thread (net/loop.h). Contract: assoc.h.
 *
 * Threads:
 *  - callers send from their own thread under send_mu (non-blocking; what the
 *    socket does not take is queued and flushed by the I/O thread on EPOLLOUT);
 *  - the I/O thread receives, reassembles TPKT and COTP, decodes the upper
 *    layers in place, matches responses to waiters by invoke id, drives the
 *    connection set-up after the TCP connect, and calls the handlers (state
 *    changes go through a task so that they are delivered in order, once each);
 *  - "direct receive": a caller whose request is the only one pending (the
 *    sequential case) receives the answer on its own thread instead of waiting
 *    for two thread hand-offs. It takes rx_mu, takes the socket's read interest
 *    away from the loop, sends, poll()s the socket itself and runs the same
 *    receive path as the I/O thread until its answer (or the loss of the
 *    connection, or its timeout) has come, then gives the read interest back
 *    (level-triggered: whatever arrived after is picked up by the I/O thread)
 *    and releases rx_mu. Answers to other waiters are matched as usual;
 *    unconfirmed PDUs and peer requests are copied to a queue that the I/O
 *    thread delivers (so handlers still run only on the I/O thread, in order),
 *    and the caller then hands the rest of its wait over to the I/O thread.
 *    Other callers (one request already pending) wait on their own condition
 *    variable (CLOCK_MONOTONIC) as before.
 *
 * Locks: rx_mu (receive buffer, reassembly, parsing, the deferred-PDU
 * delivery) is held by whoever receives: the I/O thread takes it with
 * trylock only (when a caller holds it, the socket is disarmed or about to be
 * re-armed, so the loop gets the event again later), callers with trylock too
 * (failing that they wait the queued way), connect with a plain lock. It may be
 * held while taking mu or send_mu and while calling i61_io_del (which never
 * waits for a callback blocked on rx_mu, thanks to the trylock). mu (state,
 * waiters, handlers, negotiated values, deferred queue, users) and send_mu
 * (socket for writing, output queue, epoll interest, direct flag) are never
 * held together, and neither is held while calling into the loop in a way that
 * waits for it (i61_io_del, i61_loop_sync) or while calling a handler.
 *
 * Lifetime: every caller inside i61_assoc_request counts as a user; free
 * waits until the users have left (or, from the I/O thread, lets the last
 * user post the destruction), so a request interrupted by free never touches
 * released memory. While a direct receiver may be polling the socket, closing
 * it is deferred to that receiver (the closer only shuts it down to wake it),
 * so the descriptor number is never reused under its feet.
 */
#include "assoc.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "../iso/iso_conn.h"
#include "../mms/initiate.h"
#include "../mms/mms_pdu.h"
#include "../net/loop.h"
#include "../net/sock.h"

#define I61_ASSOC_TPDU 8192u                     /* proposed COTP TPDU size */
#define I61_ASSOC_RBUF (2u * (I61_TPKT_HDR + I61_ASSOC_TPDU))
#define I61_ASSOC_TSDU_SLACK 64u                  /* session + presentation headers over the MMS PDU */
#define I61_ASSOC_RX_MIN 65000u                   /* smallest receive bound for an MMS PDU */
#define I61_ASSOC_SETUP_TSDU_MAX 65535u
#define I61_ASSOC_OUTQ_MAX (8u << 20)
#define I61_ASSOC_SRC_REF 1u
#define I61_ASSOC_NQ 8

enum { PH_IDLE, PH_TCP, PH_COTP, PH_ACCEPT, PH_DATA, PH_RELEASING };
enum { WS_NONE, WS_PENDING, WS_OK, WS_FAILED, WS_LOST };

typedef struct i61_waiter {
    uint32_t id;
    pthread_cond_t cv;
    i61_buf *resp;
    int done;
    int err;
    struct i61_waiter *next;
} i61_waiter;

/* An unconfirmed PDU or peer request received by a direct receiver, waiting
 * for the I/O thread to deliver it. */
typedef struct i61_assoc_dpdu {
    struct i61_assoc_dpdu *next;
    uint32_t gen;                       /* connection it came from */
    size_t len;
    uint8_t pdu[];
} i61_assoc_dpdu;

struct i61_assoc {
    pthread_mutex_t mu;
    pthread_cond_t cv;                  /* connect / conclude / release waits */
    pthread_condattr_t cattr;           /* CLOCK_MONOTONIC, shared by the waiters' conds */
    pthread_mutex_t send_mu;
    pthread_mutex_t rx_mu;              /* receive side, see the top of this file */
    i61_loop *loop;

    /* --- mu --- */
    int state;
    _Atomic int phase;                  /* written under mu (or by CAS), read anywhere */
    int setup_done;
    int setup_err;
    int setup_stage;                    /* phase in which the set-up ended */
    int conclude_wait;
    int release_wait;
    const char *detail;
    i61_waiter *pending;
    int n_pending;
    uint32_t max_pdu;
    int max_out;
    i61_state_handler state_cb;
    void *state_ud;
    i61_unconfirmed_handler ucb;
    void *uud;
    i61_indication_handler icb;
    void *iud;
    int nq[I61_ASSOC_NQ];
    unsigned nq_head, nq_len;
    int freeing;
    int users;                          /* callers inside i61_assoc_request */
    int destroy_pending;                /* free ran on the I/O thread while users > 0 */
    i61_assoc_dpdu *dq_head, *dq_tail;  /* deferred unconfirmed PDUs / peer requests */
    uint64_t dq_seq;                    /* PDUs ever deferred */
    uint64_t dq_done;                   /* ... and delivered (handler returned) */
    int dq_waiters;                     /* callers waiting for dq_done (on cv) */
    i61_task notify_task;
    i61_task free_task;
    i61_task deliver_task;

    /* --- send_mu --- */
    int fd;
    i61_io *io;
    int want_write;
    i61_buf outq;
    size_t outq_off;
    uint32_t interest;                  /* what the loop currently watches */
    int direct;                         /* a caller receives directly: no read interest */
    int direct_fd;                      /* socket closed during a direct receive, closed by it */

    /* --- rx_mu --- */
    int rx_direct;                      /* the holder of rx_mu is a direct receiver */
    int rx_deferred;                    /* it queued PDUs for the I/O thread */

    /* --- I/O thread (prepared by connect before the socket is registered) --- */
    int rfd;
    _Atomic uint32_t gen;               /* bumped whenever the socket is closed */
    _Atomic uint32_t tpdu_size;
    uint8_t *rbuf;
    size_t rlen;
    size_t max_frame;
    i61_cotp_reasm reasm;
    i61_buf setup_cr;
    i61_buf setup_cn;
    uint32_t proposed_pdu;
    int proposed_out;

    _Atomic uint32_t next_invoke;
};

/* ------------------------------------------------------------- helpers */

static void i61_deadline(struct timespec *ts, uint32_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000u;
    ts->tv_nsec += (long)(ms % 1000u) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static int i61_past(const struct timespec *ts)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > ts->tv_sec || (now.tv_sec == ts->tv_sec && now.tv_nsec >= ts->tv_nsec);
}

/* mu held. Queues a state notification for the I/O thread. */
static void i61_assoc_set_state(i61_assoc *a, int s)
{
    if (a->state == s)
        return;
    a->state = s;
    if (a->freeing || !a->state_cb)
        return;
    if (a->nq_len == I61_ASSOC_NQ) {               /* cannot happen in practice: drop the oldest */
        a->nq_head = (a->nq_head + 1) % I61_ASSOC_NQ;
        a->nq_len--;
    }
    a->nq[(a->nq_head + a->nq_len) % I61_ASSOC_NQ] = s;
    a->nq_len++;
    i61_loop_post(a->loop, &a->notify_task);
}

static void i61_assoc_notify(void *arg)
{
    i61_assoc *a = arg;
    pthread_mutex_lock(&a->mu);
    while (a->nq_len && !a->freeing) {
        int s = a->nq[a->nq_head];
        a->nq_head = (a->nq_head + 1) % I61_ASSOC_NQ;
        a->nq_len--;
        i61_state_handler cb = a->state_cb;
        void *ud = a->state_ud;
        pthread_mutex_unlock(&a->mu);
        if (cb)
            cb(ud, s);
        pthread_mutex_lock(&a->mu);     /* still valid: a free from the handler is deferred */
    }
    if (a->freeing)
        a->nq_len = 0;
    pthread_mutex_unlock(&a->mu);
}

static void i61_assoc_destroy(i61_assoc *a)
{
    i61_loop *l = a->loop;
    while (a->dq_head) {
        i61_assoc_dpdu *d = a->dq_head;
        a->dq_head = d->next;
        free(d);
    }
    i61_buf_free(&a->outq);
    i61_buf_free(&a->setup_cr);
    i61_buf_free(&a->setup_cn);
    i61_cotp_reasm_free(&a->reasm);
    free(a->rbuf);
    pthread_cond_destroy(&a->cv);
    pthread_condattr_destroy(&a->cattr);
    pthread_mutex_destroy(&a->mu);
    pthread_mutex_destroy(&a->send_mu);
    pthread_mutex_destroy(&a->rx_mu);
    free(a);
    i61_loop_release(l);
}

/* I/O thread: the free (from a handler) or the last user leaving it. */
static void i61_assoc_free_task(void *arg)
{
    i61_assoc *a = arg;
    pthread_mutex_lock(&a->mu);
    if (a->users > 0) {
        a->destroy_pending = 1;                  /* the last user posts this task again */
        pthread_mutex_unlock(&a->mu);
        return;
    }
    pthread_mutex_unlock(&a->mu);
    i61_assoc_destroy(a);
}

/* send_mu held: makes the loop's interest match want_write and direct.
 * 0, or -1 when epoll refused the change. */
static int i61_assoc_apply_interest(i61_assoc *a)
{
    if (!a->io)
        return 0;
    uint32_t want = (a->direct ? 0u : I61_IO_READ) | (a->want_write ? I61_IO_WRITE : 0u);
    if (want == a->interest)
        return 0;
    if (i61_io_set_interest(a->io, want) != 0)
        return -1;
    a->interest = want;
    return 0;
}

/* Closes the socket (any thread, no lock but possibly rx_mu held). After it
 * returns on another thread, the I/O thread no longer runs this connection's
 * callback. During a direct receive the descriptor is only shut down (which
 * wakes the receiver's poll) and the receiver closes it when it finishes. */
static void i61_assoc_close_socket(i61_assoc *a)
{
    pthread_mutex_lock(&a->send_mu);
    int fd = a->fd;
    i61_io *io = a->io;
    a->fd = -1;
    a->io = NULL;
    a->want_write = 0;
    a->interest = 0;
    i61_buf_reset(&a->outq);
    a->outq_off = 0;
    atomic_fetch_add(&a->gen, 1);
    int shut = fd >= 0 && a->direct;
    pthread_mutex_unlock(&a->send_mu);
    if (io)
        i61_io_del(io);                          /* before anyone closes fd (number reuse) */
    if (shut) {
        shutdown(fd, SHUT_RDWR);                 /* wakes the receiver's poll */
        pthread_mutex_lock(&a->send_mu);
        if (a->direct) {
            a->direct_fd = fd;                   /* still polling it: it closes it */
            fd = -1;
        }
        pthread_mutex_unlock(&a->send_mu);
    }
    if (fd >= 0)
        close(fd);
}

/* mu held: completes every waiter with err. */
static void i61_assoc_fail_all(i61_assoc *a, int err)
{
    i61_waiter *w = a->pending;
    while (w) {
        i61_waiter *next = w->next;
        w->err = err;
        w->done = 1;
        pthread_cond_signal(&w->cv);
        w = next;
    }
    a->pending = NULL;
    a->n_pending = 0;
    if (a->conclude_wait == WS_PENDING)
        a->conclude_wait = WS_LOST;
    if (a->release_wait == WS_PENDING)
        a->release_wait = WS_LOST;
    pthread_cond_broadcast(&a->cv);
}

/* Ends the connection (any thread, no lock held). During the set-up, err is
 * what i61_assoc_connect returns; afterwards pending requests get
 * CONNECTION_LOST and the state goes CLOSED. why: static text or NULL. */
static void i61_assoc_drop(i61_assoc *a, int err, const char *why)
{
    i61_assoc_close_socket(a);
    pthread_mutex_lock(&a->mu);
    int ph = atomic_exchange(&a->phase, PH_IDLE);
    if (ph == PH_TCP || ph == PH_COTP || ph == PH_ACCEPT) {
        if (!a->setup_done) {
            a->setup_done = 1;
            a->setup_err = err;
            a->setup_stage = ph;
            if (why)
                a->detail = why;
        }
        pthread_cond_broadcast(&a->cv);
    } else {
        if (why && ph != PH_IDLE)
            a->detail = why;
        i61_assoc_fail_all(a, I61_ERR_CONNECTION_LOST);
        if (a->state != I61_STATE_CONNECTING)   /* a connecting caller owns that state */
            i61_assoc_set_state(a, I61_STATE_CLOSED);
    }
    pthread_mutex_unlock(&a->mu);
}

/* --------------------------------------------------------------- sending */

/* Writes iov to the socket or queues what does not fit. I61_OK,
 * I61_ERR_NOT_CONNECTED, or I61_ERR_CONNECTION_LOST (the caller drops). */
static int i61_assoc_sendv(i61_assoc *a, const struct iovec *iov, int n)
{
    size_t total = 0;
    for (int k = 0; k < n; k++)
        total += iov[k].iov_len;
    pthread_mutex_lock(&a->send_mu);
    if (a->fd < 0) {
        pthread_mutex_unlock(&a->send_mu);
        return I61_ERR_NOT_CONNECTED;
    }
    size_t sent = 0;
    if (a->outq_off == a->outq.len) {
        ssize_t r = i61_sock_sendv(a->fd, iov, n);
        if (r < 0) {
            pthread_mutex_unlock(&a->send_mu);
            return I61_ERR_CONNECTION_LOST;
        }
        sent = (size_t)r;
    }
    if (sent < total) {
        size_t queued = a->outq.len - a->outq_off;
        if (queued + (total - sent) > I61_ASSOC_OUTQ_MAX) {
            pthread_mutex_unlock(&a->send_mu);
            return I61_ERR_CONNECTION_LOST;       /* the peer does not read */
        }
        if (a->outq_off && a->outq_off == a->outq.len) {
            i61_buf_reset(&a->outq);
            a->outq_off = 0;
        }
        size_t skip = sent;
        for (int k = 0; k < n; k++) {
            size_t l = iov[k].iov_len;
            if (skip >= l) {
                skip -= l;
                continue;
            }
            i61_buf_put(&a->outq, (const uint8_t *)iov[k].iov_base + skip, l - skip);
            skip = 0;
        }
        if (a->outq.oom) {
            pthread_mutex_unlock(&a->send_mu);
            return I61_ERR_CONNECTION_LOST;
        }
        if (!a->want_write) {
            a->want_write = 1;
            i61_assoc_apply_interest(a);
        }
    }
    pthread_mutex_unlock(&a->send_mu);
    return I61_OK;
}

/* I/O thread, EPOLLOUT: flushes the queue. 0, or -1 when the socket failed. */
static int i61_assoc_flush(i61_assoc *a)
{
    int failed = 0;
    pthread_mutex_lock(&a->send_mu);
    while (a->fd >= 0 && a->outq_off < a->outq.len) {
        struct iovec iov = { a->outq.data + a->outq_off, a->outq.len - a->outq_off };
        ssize_t r = i61_sock_sendv(a->fd, &iov, 1);
        if (r < 0) {
            failed = 1;
            break;
        }
        if (r == 0)
            break;
        a->outq_off += (size_t)r;
    }
    if (!failed && a->outq_off == a->outq.len) {
        i61_buf_reset(&a->outq);
        a->outq_off = 0;
        if (a->want_write) {
            a->want_write = 0;
            i61_assoc_apply_interest(a);
        }
    }
    pthread_mutex_unlock(&a->send_mu);
    return failed ? -1 : 0;
}

/* A whole TSDU, segmented into DTs of the negotiated size. */
static int i61_assoc_send_tsdu(i61_assoc *a, const uint8_t *h, size_t hl, const uint8_t *p, size_t pl)
{
    uint32_t tp = atomic_load(&a->tpdu_size);
    if (hl + pl + I61_COTP_DT_HDR <= tp) {
        uint8_t dt[I61_DATA_FRAME_HDR];
        i61_cotp_put_dt_header(dt, hl + pl, 1);
        struct iovec iov[3] = { { dt, sizeof dt }, { (void *)h, hl }, { (void *)p, pl } };
        return i61_assoc_sendv(a, iov, 3);
    }
    i61_buf f;
    i61_buf_init(&f);
    int rc = i61_cotp_write_data(&f, tp, h, hl, p, pl);
    if (rc == I61_OK) {
        struct iovec iov = { f.data, f.len };
        rc = i61_assoc_sendv(a, &iov, 1);
    } else {
        rc = I61_ERR_CONNECTION_LOST;
    }
    i61_buf_free(&f);
    return rc;
}

/* One MMS PDU in a data TSDU (hot path: no copy of the PDU unless segmented
 * or queued). */
static int i61_assoc_send_pdu(i61_assoc *a, const uint8_t *pdu, size_t len)
{
    uint8_t h[I61_ISO_DATA_HDR_MAX];
    size_t hl = i61_iso_data_header(h, len);
    return i61_assoc_send_tsdu(a, h, hl, pdu, len);
}

/* ----------------------------------------------------------- receiving */

/* A peer request nobody handles: RejectPDU confirmed-requestPDU/unrecognized-service. */
static void i61_assoc_reject_request(i61_assoc *a, const uint8_t *pdu, size_t len)
{
    uint32_t id;
    int kind;
    if (i61_mms_pdu_invoke_id(pdu, len, &id, &kind) != I61_OK || kind != I61_MMS_KIND_REQUEST)
        return;
    i61_buf b;
    i61_buf_init(&b);
    if (i61_mms_enc_reject_pdu(&b, true, id, I61_MMS_REJECT_CONFIRMED_REQUEST,
                               I61_MMS_REJECT_UNRECOGNIZED_SERVICE) == I61_OK
        && i61_assoc_send_pdu(a, b.data, b.len) == I61_ERR_CONNECTION_LOST)
        i61_assoc_drop(a, I61_ERR_CONNECTION_LOST, "send failed");
    i61_buf_free(&b);
}

/* An unconfirmed PDU (a3) or a peer request (a0): calls the handler (I/O
 * thread, no lock but rx_mu held). gen: the connection it came from. */
static void i61_assoc_unsolicited(i61_assoc *a, const uint8_t *pdu, size_t len, uint32_t gen)
{
    pthread_mutex_lock(&a->mu);
    i61_unconfirmed_handler ucb = a->freeing ? NULL : a->ucb;
    void *uud = a->uud;
    i61_indication_handler icb = a->freeing ? NULL : a->icb;
    void *iud = a->iud;
    pthread_mutex_unlock(&a->mu);
    if (pdu[0] == 0xa3) {
        if (ucb)
            ucb(uud, pdu, len);
    } else if (icb) {
        icb(iud, pdu, len);
    } else if (atomic_load(&a->gen) == gen) {
        i61_assoc_reject_request(a, pdu, len);
    }
}

/* I/O thread (rx_mu held): delivers what direct receivers queued, in order. */
static void i61_assoc_deliver(i61_assoc *a)
{
    for (;;) {
        pthread_mutex_lock(&a->mu);
        i61_assoc_dpdu *d = a->dq_head;
        if (d) {
            a->dq_head = d->next;
            if (!a->dq_head)
                a->dq_tail = NULL;
        }
        pthread_mutex_unlock(&a->mu);
        if (!d)
            return;
        i61_assoc_unsolicited(a, d->pdu, d->len, d->gen);
        free(d);
        pthread_mutex_lock(&a->mu);
        a->dq_done++;
        if (a->dq_waiters)
            pthread_cond_broadcast(&a->cv);
        pthread_mutex_unlock(&a->mu);
    }
}

/* Releases rx_mu; posts the delivery when PDUs are waiting for it. */
static void i61_assoc_rx_unlock(i61_assoc *a)
{
    pthread_mutex_unlock(&a->rx_mu);
    pthread_mutex_lock(&a->mu);
    if (a->dq_head)
        i61_loop_post(a->loop, &a->deliver_task);
    pthread_mutex_unlock(&a->mu);
}

static void i61_assoc_deliver_task(void *arg)
{
    i61_assoc *a = arg;
    /* busy: on_io delivers before it parses anything newer, and a direct
     * receiver or connect posts this task again when it releases rx_mu */
    if (pthread_mutex_trylock(&a->rx_mu) != 0)
        return;
    i61_assoc_deliver(a);
    pthread_mutex_unlock(&a->rx_mu);
}

/* Direct receiver (rx_mu held): queues an unsolicited PDU for the I/O thread
 * (the task is posted once rx_mu is released). 0, or -1 when out of memory. */
static int i61_assoc_defer(i61_assoc *a, const uint8_t *pdu, size_t len)
{
    i61_assoc_dpdu *d = malloc(sizeof *d + len);
    if (!d)
        return -1;
    d->next = NULL;
    d->gen = atomic_load(&a->gen);
    d->len = len;
    memcpy(d->pdu, pdu, len);
    pthread_mutex_lock(&a->mu);
    if (a->dq_tail)
        a->dq_tail->next = d;
    else
        a->dq_head = d;
    a->dq_tail = d;
    a->dq_seq++;
    pthread_mutex_unlock(&a->mu);
    a->rx_deferred = 1;
    return 0;
}

/* A complete MMS PDU from the peer (rx_mu held: I/O thread or direct receiver). */
static void i61_assoc_mms(i61_assoc *a, const uint8_t *pdu, size_t len)
{
    if (len < 2) {
        i61_assoc_drop(a, I61_ERR_CONNECTION_LOST, "malformed MMS PDU");
        return;
    }
    switch (pdu[0]) {
    case 0xa1:
    case 0xa2:
    case 0xa4: {
        uint32_t id;
        int kind;
        if (i61_mms_pdu_invoke_id(pdu, len, &id, &kind) != I61_OK) {
            i61_assoc_drop(a, I61_ERR_CONNECTION_LOST, "malformed MMS PDU");
            return;
        }
        if (kind == I61_MMS_KIND_REJECT && id == I61_MMS_NO_INVOKE_ID)
            return;                              /* a reject without invoke id: nothing to match */
        pthread_mutex_lock(&a->mu);
        for (i61_waiter **pp = &a->pending; *pp; pp = &(*pp)->next) {
            i61_waiter *w = *pp;
            if (w->id != id)
                continue;
            *pp = w->next;
            a->n_pending--;
            i61_buf_put(w->resp, pdu, len);
            w->err = w->resp->oom ? I61_ERR_UNKNOWN : I61_OK;
            w->done = 1;
            pthread_cond_signal(&w->cv);
            break;
        }
        pthread_mutex_unlock(&a->mu);           /* no waiter: a late answer, dropped */
        return;
    }
    case 0xa3:
    case 0xa0:
        if (!a->rx_direct)
            i61_assoc_unsolicited(a, pdu, len, atomic_load(&a->gen));
        else if (i61_assoc_defer(a, pdu, len) != 0)
            i61_assoc_drop(a, I61_ERR_CONNECTION_LOST, "out of memory");
        return;
    case 0x8c:
    case 0xad:
        pthread_mutex_lock(&a->mu);
        if (a->conclude_wait == WS_PENDING) {
            a->conclude_wait = pdu[0] == 0x8c ? WS_OK : WS_FAILED;
            pthread_cond_broadcast(&a->cv);
        }
        pthread_mutex_unlock(&a->mu);
        return;
    default:
        return;                                  /* cancel PDUs and others: not used by this client */
    }
}

/* Answer to the association request (I/O thread, phase ACCEPT). */
static void i61_assoc_accept(i61_assoc *a, const i61_iso_ind *ind)
{
    const int rej = I61_ERR_CONNECTION_REJECTED;
    if (ind->type == I61_ISO_IND_REFUSE) {
        i61_assoc_drop(a, rej, "association refused by the peer (session RF)");
        return;
    }
    if (ind->type == I61_ISO_IND_ABORT) {
        i61_assoc_drop(a, rej, "association aborted by the peer during set-up");
        return;
    }
    if (ind->type != I61_ISO_IND_ACCEPT || !ind->has_acse) {
        i61_assoc_drop(a, rej, "unexpected answer to the association request");
        return;
    }
    if (ind->acse.result != I61_ACSE_ACCEPTED) {
        i61_assoc_drop(a, rej, "association rejected by the peer (AARE)");
        return;
    }
    for (size_t k = 0; k < ind->pres.n_ctx; k++) {
        if (ind->pres.ctx[k].result != I61_PRES_ACCEPT) {
            i61_assoc_drop(a, rej, "presentation context rejected by the peer");
            return;
        }
    }
    i61_initiate ini;
    int kind = 0;
    if (!ind->pdu || i61_initiate_decode(ind->pdu, ind->pdu_len, &kind, &ini, NULL, NULL) != I61_OK) {
        i61_assoc_drop(a, rej, "malformed MMS initiate response");
        return;
    }
    if (kind != I61_MMS_INITIATE_RESPONSE) {
        i61_assoc_drop(a, rej, "MMS initiate refused by the peer (Initiate-Error)");
        return;
    }
    uint32_t pdu = a->proposed_pdu;
    if (ini.has_local_detail && (uint32_t)ini.local_detail < pdu)
        pdu = (uint32_t)ini.local_detail;
    if (pdu < 64) {
        i61_assoc_drop(a, rej, "negotiated MMS PDU size too small");
        return;
    }
    int out = ini.max_serv_outstanding_calling;
    if (out > a->proposed_out)
        out = a->proposed_out;
    if (out < 1)
        out = 1;
    /* receive bound: the larger of the negotiated size and 65000 (some peers
     * ignore a small localDetail), plus the ISO headers; we never send more
     * than the negotiated size */
    a->reasm.max = (pdu > I61_ASSOC_RX_MIN ? pdu : I61_ASSOC_RX_MIN) + I61_ASSOC_TSDU_SLACK;
    pthread_mutex_lock(&a->mu);
    int expect = PH_ACCEPT;
    if (atomic_compare_exchange_strong(&a->phase, &expect, PH_DATA)) {
        a->max_pdu = pdu;
        a->max_out = out;
        a->setup_err = I61_OK;
        a->setup_stage = PH_DATA;
        a->setup_done = 1;
        i61_assoc_set_state(a, I61_STATE_CONNECTED);
        pthread_cond_broadcast(&a->cv);
    }
    pthread_mutex_unlock(&a->mu);
}

/* A complete TSDU (I/O thread). */
static void i61_assoc_tsdu(i61_assoc *a, const uint8_t *p, size_t n)
{
    int ph = atomic_load(&a->phase);
    if (ph >= PH_DATA) {
        const uint8_t *pdu;
        size_t pl;
        int32_t ctx = 0;
        int r = i61_iso_decode_data(p, n, &pdu, &pl, &ctx);
        if (r == 1) {
            if (ctx != I61_PRES_CTX_MMS)
                i61_assoc_drop(a, I61_ERR_CONNECTION_LOST, "data in an unknown presentation context");
            else
                i61_assoc_mms(a, pdu, pl);
            return;
        }
        if (r < 0) {
            i61_assoc_drop(a, I61_ERR_CONNECTION_LOST, "malformed session/presentation data");
            return;
        }
    }
    i61_iso_ind ind;
    if (i61_iso_decode_tsdu(p, n, &ind) != I61_OK) {
        i61_assoc_drop(a, I61_ERR_CONNECTION_REJECTED, "malformed session/presentation/ACSE PDU");
        return;
    }
    if (ph == PH_ACCEPT) {
        i61_assoc_accept(a, &ind);
        return;
    }
    if (ph < PH_DATA)
        return;
    switch (ind.type) {
    case I61_ISO_IND_DATA:
        if (ind.ctx != I61_PRES_CTX_MMS)
            i61_assoc_drop(a, I61_ERR_CONNECTION_LOST, "data in an unknown presentation context");
        else
            i61_assoc_mms(a, ind.pdu, ind.pdu_len);
        return;
    case I61_ISO_IND_RELEASE_RESPONSE:
        if (ph != PH_RELEASING)
            break;
        pthread_mutex_lock(&a->mu);
        if (a->release_wait == WS_PENDING)
            a->release_wait = WS_OK;
        pthread_cond_broadcast(&a->cv);
        pthread_mutex_unlock(&a->mu);
        i61_assoc_drop(a, I61_ERR_CONNECTION_LOST, NULL);
        return;
    case I61_ISO_IND_RELEASE_REFUSED:
        if (ph != PH_RELEASING)
            break;
        pthread_mutex_lock(&a->mu);
        if (a->release_wait == WS_PENDING)
            a->release_wait = WS_FAILED;
        pthread_cond_broadcast(&a->cv);
        pthread_mutex_unlock(&a->mu);
        return;
    case I61_ISO_IND_RELEASE_REQUEST: {
        /* the peer releases: answer DN + RLRE, then close */
        i61_buf b;
        i61_buf_init(&b);
        if (i61_iso_write_release_response_tsdu(&b) == I61_OK)
            i61_assoc_send_tsdu(a, b.data, b.len, NULL, 0);
        i61_buf_free(&b);
        i61_assoc_drop(a, I61_ERR_CONNECTION_LOST, "association released by the peer");
        return;
    }
    case I61_ISO_IND_ABORT:
        i61_assoc_drop(a, I61_ERR_CONNECTION_LOST, "association aborted by the peer");
        return;
    default:
        break;
    }
    i61_assoc_drop(a, I61_ERR_CONNECTION_LOST, "unexpected SPDU from the peer");
}

/* One TPKT payload (I/O thread). Returns 1 to go on, 0 when the connection
 * went away (or was replaced) meanwhile. */
static int i61_assoc_frame(i61_assoc *a, const uint8_t *p, size_t n, uint32_t g)
{
    i61_cotp_tpdu t;
    int ph = atomic_load(&a->phase);
    int lost = ph <= PH_ACCEPT ? I61_ERR_CONNECTION_REJECTED : I61_ERR_CONNECTION_LOST;
    if (ph == PH_IDLE || ph == PH_TCP)
        return 0;
    if (i61_cotp_decode(p, n, &t) != I61_OK) {
        i61_assoc_drop(a, lost, "malformed COTP TPDU");
        return 0;
    }
    if (ph == PH_COTP) {
        if (t.code == I61_COTP_DR) {
            i61_assoc_drop(a, lost, "connection refused by the peer (COTP DR)");
            return 0;
        }
        if (t.code != I61_COTP_CC || (t.class_option >> 4) != 0) {
            i61_assoc_drop(a, lost, t.code == I61_COTP_CC ? "peer did not accept COTP class 0"
                                                          : "unexpected COTP TPDU instead of CC");
            return 0;
        }
        uint32_t sz = t.tpdu_size_code ? i61_cotp_size_from_code(t.tpdu_size_code) : 128u;
        if (sz > I61_ASSOC_TPDU)
            sz = I61_ASSOC_TPDU;                 /* a responder may only lower it */
        atomic_store(&a->tpdu_size, sz);
        a->max_frame = I61_TPKT_HDR + sz;
        int expect = PH_COTP;
        if (!atomic_compare_exchange_strong(&a->phase, &expect, PH_ACCEPT))
            return 0;
        if (i61_assoc_send_tsdu(a, a->setup_cn.data, a->setup_cn.len, NULL, 0) != I61_OK) {
            i61_assoc_drop(a, lost, "send failed");
            return 0;
        }
        return 1;
    }
    if (t.code != I61_COTP_DT) {
        i61_assoc_drop(a, lost, t.code == I61_COTP_DR ? "disconnected by the peer (COTP DR)"
                                                      : "unexpected COTP TPDU");
        return 0;
    }
    const uint8_t *tsdu;
    size_t tl;
    int r = i61_cotp_reasm_push(&a->reasm, t.data, t.data_len, t.eot, &tsdu, &tl);
    if (r < 0) {
        i61_assoc_drop(a, lost, "TSDU larger than the negotiated maximum");
        return 0;
    }
    if (r == 1)
        i61_assoc_tsdu(a, tsdu, tl);
    return atomic_load(&a->gen) == g;
}

static void i61_assoc_receive(i61_assoc *a, uint32_t g)
{
    for (int round = 0; round < 4; round++) {
        size_t room = I61_ASSOC_RBUF - a->rlen;
        ssize_t r = i61_sock_read(a->rfd, a->rbuf + a->rlen, room);
        if (r == -EAGAIN)
            return;
        if (r <= 0) {
            int ph = atomic_load(&a->phase);
            i61_assoc_drop(a, ph <= PH_ACCEPT ? I61_ERR_CONNECTION_REJECTED : I61_ERR_CONNECTION_LOST,
                           r == 0 ? "connection closed by the peer" : "connection reset");
            return;
        }
        a->rlen += (size_t)r;
        size_t off = 0;
        for (;;) {
            size_t flen;
            int c = i61_tpkt_check(a->rbuf + off, a->rlen - off, a->max_frame, &flen);
            if (c < 0) {
                int ph = atomic_load(&a->phase);
                i61_assoc_drop(a, ph <= PH_ACCEPT ? I61_ERR_CONNECTION_REJECTED : I61_ERR_CONNECTION_LOST,
                               "malformed or oversized TPKT frame");
                return;
            }
            if (c == 0)
                break;
            if (!i61_assoc_frame(a, a->rbuf + off + I61_TPKT_HDR, flen - I61_TPKT_HDR, g))
                return;
            off += flen;
        }
        if (off) {
            memmove(a->rbuf, a->rbuf + off, a->rlen - off);
            a->rlen -= off;
        }
        if ((size_t)r < room) {                  /* took everything that was there */
            /* in the middle of a frame or of a segmented TSDU: acknowledge now,
             * so that a peer with Nagle on does not hold the rest for our
             * delayed ACK (the Rust-based server: ~40 ms per large answer) */
            if (a->rlen || a->reasm.buf.len)
                i61_sock_quickack(a->rfd);
            return;
        }
    }
}

static void i61_assoc_on_io(void *ud, uint32_t ev)
{
    i61_assoc *a = ud;
    uint32_t g = atomic_load(&a->gen);
    if (atomic_load(&a->phase) == PH_TCP) {
        if (!(ev & (I61_IO_WRITE | I61_IO_HUP)))
            return;
        int e = i61_sock_connect_result(a->rfd);
        if (e == EINPROGRESS)
            return;
        if (e != 0) {
            i61_assoc_drop(a, I61_ERR_CONNECTION_REJECTED,
                           e == ECONNREFUSED ? "TCP connection refused" : "TCP connect failed");
            return;
        }
        int expect = PH_TCP;
        if (!atomic_compare_exchange_strong(&a->phase, &expect, PH_COTP))
            return;
        pthread_mutex_lock(&a->send_mu);
        a->want_write = 0;
        i61_assoc_apply_interest(a);
        pthread_mutex_unlock(&a->send_mu);
        struct iovec iov = { a->setup_cr.data, a->setup_cr.len };
        if (i61_assoc_sendv(a, &iov, 1) != I61_OK)
            i61_assoc_drop(a, I61_ERR_CONNECTION_REJECTED, "send failed");
        return;
    }
    if (ev & I61_IO_WRITE) {
        if (i61_assoc_flush(a) != 0) {
            i61_assoc_drop(a, I61_ERR_CONNECTION_LOST, "connection reset");
            return;
        }
        if (atomic_load(&a->gen) != g)
            return;
    }
    if (ev & (I61_IO_READ | I61_IO_HUP)) {
        /* busy: a caller receives directly and gives the read interest back
         * when it is done (level-triggered: this event comes again if needed) */
        if (pthread_mutex_trylock(&a->rx_mu) != 0)
            return;
        i61_assoc_deliver(a);                    /* older than anything still to be read */
        if (atomic_load(&a->gen) == g)
            i61_assoc_receive(a, g);
        pthread_mutex_unlock(&a->rx_mu);
    }
}

/* ------------------------------------------------------------ public API */

i61_assoc *i61_assoc_new(void)
{
    i61_assoc *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->rbuf = malloc(I61_ASSOC_RBUF);
    a->loop = a->rbuf ? i61_loop_acquire() : NULL;
    if (!a->loop) {
        free(a->rbuf);
        free(a);
        return NULL;
    }
    pthread_mutex_init(&a->mu, NULL);
    pthread_mutex_init(&a->send_mu, NULL);
    pthread_mutex_init(&a->rx_mu, NULL);
    pthread_condattr_init(&a->cattr);
    pthread_condattr_setclock(&a->cattr, CLOCK_MONOTONIC);
    pthread_cond_init(&a->cv, &a->cattr);
    a->state = I61_STATE_CLOSED;
    atomic_init(&a->phase, PH_IDLE);
    atomic_init(&a->gen, 0);
    atomic_init(&a->tpdu_size, I61_ASSOC_TPDU);
    atomic_init(&a->next_invoke, 1);
    a->fd = -1;
    a->rfd = -1;
    a->direct_fd = -1;
    a->deliver_task.fn = i61_assoc_deliver_task;
    a->deliver_task.arg = a;
    a->notify_task.fn = i61_assoc_notify;
    a->notify_task.arg = a;
    a->free_task.fn = i61_assoc_free_task;
    a->free_task.arg = a;
    i61_buf_init(&a->outq);
    i61_buf_init(&a->setup_cr);
    i61_buf_init(&a->setup_cn);
    i61_cotp_reasm_init(&a->reasm, I61_ASSOC_SETUP_TSDU_MAX);
    return a;
}

void i61_assoc_set_state_handler(i61_assoc *a, i61_state_handler h, void *userdata)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    if (!a->freeing) {
        a->state_cb = h;
        a->state_ud = userdata;
    }
    pthread_mutex_unlock(&a->mu);
}

void i61_assoc_set_unconfirmed_handler(i61_assoc *a, i61_unconfirmed_handler h, void *userdata)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    if (!a->freeing) {
        a->ucb = h;
        a->uud = userdata;
    }
    pthread_mutex_unlock(&a->mu);
}

void i61_assoc_set_indication_handler(i61_assoc *a, i61_indication_handler h, void *userdata)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    if (!a->freeing) {
        a->icb = h;
        a->iud = userdata;
    }
    pthread_mutex_unlock(&a->mu);
}

int i61_assoc_connect(i61_assoc *a, const char *host, int port, const i61_assoc_params *p)
{
    if (!a || !host || port <= 0 || port > 65535)
        return I61_ERR_INVALID_ARGUMENT;
    if (i61_loop_in_thread(a->loop))
        return I61_ERR_INVALID_ARGUMENT;
    uint32_t timeout = p && p->connect_timeout_ms ? p->connect_timeout_ms : 10000u;
    uint32_t max_pdu = p && p->max_pdu_size ? p->max_pdu_size : 65000u;
    int max_out = p && p->max_outstanding > 0 ? p->max_outstanding : 5;
    int nesting = p && p->nesting_level > 0 ? p->nesting_level : 10;
    if (max_pdu < 64 || max_pdu > 0x7fffffffu)
        return I61_ERR_INVALID_ARGUMENT;
    struct timespec deadline;
    i61_deadline(&deadline, timeout);

    pthread_mutex_lock(&a->mu);
    if (a->freeing || a->state != I61_STATE_CLOSED || atomic_load(&a->phase) != PH_IDLE) {
        pthread_mutex_unlock(&a->mu);
        return I61_ERR_ALREADY_CONNECTED;
    }
    a->detail = NULL;
    a->max_pdu = 0;
    a->max_out = 0;
    i61_assoc_set_state(a, I61_STATE_CONNECTING);
    pthread_mutex_unlock(&a->mu);

    int rc = I61_ERR_CONNECTION_REJECTED;
    const char *why = NULL;
    struct addrinfo *ai = NULL;
    if (i61_sock_resolve(host, port, 0, &ai) != 0) {
        rc = I61_ERR_INVALID_ARGUMENT;
        why = "host name does not resolve";
        goto fail;
    }
    /* the set-up PDUs, sent by the I/O thread: CR, then CN + CP + AARQ + initiate */
    i61_iso_addr addr;
    i61_iso_addr_init_default(&addr);
    i61_initiate ini;
    i61_initiate_init_client(&ini);
    ini.local_detail = (int32_t)max_pdu;
    ini.max_serv_outstanding_calling = max_out;
    ini.max_serv_outstanding_called = max_out;
    ini.nesting_level = nesting;
    i61_buf mms;
    i61_buf_init(&mms);
    i61_buf_reset(&a->setup_cr);
    i61_buf_reset(&a->setup_cn);
    int b1 = i61_iso_write_cr(&a->setup_cr, &addr, I61_ASSOC_TPDU, I61_ASSOC_SRC_REF);
    int b2 = i61_initiate_write_request(&mms, &ini);
    int b3 = b2 == I61_OK ? i61_iso_write_connect_tsdu(&a->setup_cn, &addr, mms.data, mms.len) : b2;
    i61_buf_free(&mms);
    if (b1 != I61_OK || b3 != I61_OK) {
        rc = I61_ERR_UNKNOWN;
        why = "out of memory";
        goto fail;
    }
    a->proposed_pdu = max_pdu;
    a->proposed_out = max_out;

    for (struct addrinfo *p_ai = ai; p_ai; p_ai = p_ai->ai_next) {
        if (i61_past(&deadline)) {
            rc = I61_ERR_TIMEOUT;
            why = "timeout while connecting";
            break;
        }
        int fd = -1;
        int s = i61_sock_connect_start(p_ai, &fd);
        if (s < 0) {
            rc = I61_ERR_CONNECTION_REJECTED;
            why = s == -ECONNREFUSED ? "TCP connection refused" : "TCP connect failed";
            continue;
        }
        /* fresh receive state for the I/O thread (a direct receiver of the
         * previous connection may still be on its way out) */
        pthread_mutex_lock(&a->rx_mu);
        a->rlen = 0;
        a->max_frame = I61_TPKT_HDR + I61_ASSOC_TPDU;
        atomic_store(&a->tpdu_size, I61_ASSOC_TPDU);
        i61_cotp_reasm_reset(&a->reasm);
        a->reasm.max = I61_ASSOC_SETUP_TSDU_MAX;
        a->rfd = fd;
        i61_assoc_rx_unlock(a);
        pthread_mutex_lock(&a->mu);
        a->setup_done = 0;
        a->setup_err = I61_OK;
        a->setup_stage = PH_IDLE;
        atomic_store(&a->phase, PH_TCP);
        pthread_mutex_unlock(&a->mu);
        pthread_mutex_lock(&a->send_mu);
        a->fd = fd;
        a->want_write = 1;
        a->interest = I61_IO_WRITE;
        a->io = i61_io_add(a->loop, fd, I61_IO_WRITE, i61_assoc_on_io, a);
        int io_ok = a->io != NULL;
        pthread_mutex_unlock(&a->send_mu);
        if (!io_ok) {
            i61_assoc_drop(a, I61_ERR_UNKNOWN, "cannot register the socket");
            rc = I61_ERR_UNKNOWN;
            why = "cannot register the socket";
            break;
        }
        pthread_mutex_lock(&a->mu);
        while (!a->setup_done) {
            if (pthread_cond_timedwait(&a->cv, &a->mu, &deadline) == ETIMEDOUT)
                break;
        }
        if (!a->setup_done) {
            /* no answer in time: take the connection back from the I/O thread */
            atomic_store(&a->phase, PH_IDLE);
            a->setup_done = 1;
            pthread_mutex_unlock(&a->mu);
            i61_assoc_close_socket(a);
            rc = I61_ERR_TIMEOUT;
            why = "no answer from the peer within the connect timeout";
            break;
        }
        rc = a->setup_err;
        int stage = a->setup_stage;
        if (rc == I61_OK) {
            pthread_mutex_unlock(&a->mu);
            freeaddrinfo(ai);
            return I61_OK;
        }
        why = a->detail;
        pthread_mutex_unlock(&a->mu);
        if (stage == PH_TCP)
            continue;                            /* try the next address */
        break;
    }
fail:
    if (ai)
        freeaddrinfo(ai);
    pthread_mutex_lock(&a->mu);
    if (why)
        a->detail = why;
    i61_assoc_set_state(a, I61_STATE_CLOSED);
    pthread_mutex_unlock(&a->mu);
    return rc;
}

uint32_t i61_assoc_next_invoke_id(i61_assoc *a)
{
    uint32_t id;
    do {                                         /* that value means "no invoke id" to the decoder */
        id = atomic_fetch_add(&a->next_invoke, 1);
    } while (id == I61_MMS_NO_INVOKE_ID);
    return id;
}

/* ------------------------------------------------------ direct receive */

/* Caller thread: becomes the receiver of the connection if nobody else is
 * (rx_mu free) and the loop stops watching the socket for reading. 1 with *g
 * set (rx_mu then held), or 0 (wait the queued way). */
static int i61_assoc_direct_begin(i61_assoc *a, uint32_t *g)
{
    if (pthread_mutex_trylock(&a->rx_mu) != 0)
        return 0;
    pthread_mutex_lock(&a->send_mu);
    int ok = a->fd >= 0;
    if (ok) {
        a->direct = 1;
        if (i61_assoc_apply_interest(a) != 0) {
            a->direct = 0;                       /* unchanged: the loop still reads */
            ok = 0;
        }
    }
    *g = atomic_load(&a->gen);
    pthread_mutex_unlock(&a->send_mu);
    if (!ok) {
        i61_assoc_rx_unlock(a);
        return 0;
    }
    a->rx_direct = 1;
    a->rx_deferred = 0;
    return 1;
}

/* Gives the socket back to the loop (closing it instead if it was closed
 * meanwhile) and releases rx_mu. */
static void i61_assoc_direct_end(i61_assoc *a)
{
    a->rx_direct = 0;
    pthread_mutex_lock(&a->send_mu);
    a->direct = 0;
    int fd = a->direct_fd;
    a->direct_fd = -1;
    int lost = i61_assoc_apply_interest(a) != 0;
    pthread_mutex_unlock(&a->send_mu);
    if (fd >= 0)
        close(fd);
    if (lost)
        i61_assoc_drop(a, I61_ERR_CONNECTION_LOST, "cannot watch the socket");
    i61_assoc_rx_unlock(a);
}

/* Direct receiver (rx_mu held): receives until w is done, the connection g is
 * gone, or the wait has to go on on the I/O thread (PDUs were queued for it,
 * poll failed): 0; or I61_ERR_TIMEOUT when the deadline has passed. */
static int i61_assoc_direct_wait(i61_assoc *a, i61_waiter *w, uint32_t g, uint32_t timeout_ms,
                                 const struct timespec *deadline)
{
    for (;;) {
        pthread_mutex_lock(&a->mu);
        int done = w->done;
        pthread_mutex_unlock(&a->mu);
        if (done || a->rx_deferred || atomic_load(&a->gen) != g)
            return 0;
        int ms = -1;
        if (timeout_ms) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            int64_t left = (int64_t)(deadline->tv_sec - now.tv_sec) * 1000000000LL +
                           (deadline->tv_nsec - now.tv_nsec);
            if (left <= 0)
                return I61_ERR_TIMEOUT;
            int64_t m = (left + 999999) / 1000000;
            ms = m > 0x7fffffff ? 0x7fffffff : (int)m;
        }
        struct pollfd pf = { a->rfd, POLLIN, 0 };
        int r = poll(&pf, 1, ms);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return 0;
        }
        if (r == 0 || atomic_load(&a->gen) != g)
            continue;
        i61_assoc_receive(a, g);
    }
}

int i61_assoc_request(i61_assoc *a, uint32_t invoke_id, const uint8_t *pdu, size_t len,
                      uint32_t timeout_ms, i61_buf *resp)
{
    if (!a || !pdu || !len || !resp || i61_loop_in_thread(a->loop))
        return I61_ERR_INVALID_ARGUMENT;
    i61_waiter w;
    w.id = invoke_id;
    w.resp = resp;
    w.done = 0;
    w.err = I61_OK;
    struct timespec deadline;
    if (timeout_ms)
        i61_deadline(&deadline, timeout_ms);

    pthread_mutex_lock(&a->mu);
    if (a->freeing || a->state != I61_STATE_CONNECTED) {
        pthread_mutex_unlock(&a->mu);
        return I61_ERR_NOT_CONNECTED;
    }
    if (len > a->max_pdu) {
        pthread_mutex_unlock(&a->mu);
        return I61_ERR_INVALID_ARGUMENT;
    }
    if (a->n_pending >= a->max_out) {
        pthread_mutex_unlock(&a->mu);
        return I61_ERR_OUTSTANDING_CALL_LIMIT;
    }
    for (i61_waiter *x = a->pending; x; x = x->next) {
        if (x->id == invoke_id) {
            pthread_mutex_unlock(&a->mu);
            return I61_ERR_INVALID_ARGUMENT;
        }
    }
    int alone = a->n_pending == 0;
    pthread_cond_init(&w.cv, &a->cattr);
    w.next = a->pending;
    a->pending = &w;
    a->n_pending++;
    a->users++;
    pthread_mutex_unlock(&a->mu);

    uint32_t g = 0;
    int direct = alone && i61_assoc_direct_begin(a, &g);
    int rc = i61_assoc_send_pdu(a, pdu, len);
    if (rc == I61_ERR_CONNECTION_LOST)
        i61_assoc_drop(a, I61_ERR_CONNECTION_LOST, "send failed");
    int expired = 0;
    int deferred = 0;
    if (direct) {
        if (rc == I61_OK)
            expired = i61_assoc_direct_wait(a, &w, g, timeout_ms, &deadline) == I61_ERR_TIMEOUT;
        deferred = a->rx_deferred;
        i61_assoc_direct_end(a);
    }

    pthread_mutex_lock(&a->mu);
    if (rc == I61_OK && !expired) {
        while (!w.done) {
            int r = timeout_ms ? pthread_cond_timedwait(&w.cv, &a->mu, &deadline)
                               : pthread_cond_wait(&w.cv, &a->mu);
            if (r == ETIMEDOUT && !w.done)
                break;
        }
    }
    if (w.done) {
        rc = w.err;
    } else {
        /* timed out, or the send failed before anyone completed us: forget the request */
        for (i61_waiter **pp = &a->pending; *pp; pp = &(*pp)->next) {
            if (*pp == &w) {
                *pp = w.next;
                a->n_pending--;
                break;
            }
        }
        if (rc == I61_OK)
            rc = I61_ERR_TIMEOUT;
        else if (rc == I61_ERR_NOT_CONNECTED)
            rc = I61_ERR_CONNECTION_LOST;
    }
    if (deferred) {
        /* what arrived before the answer is handled before the caller sees
         * the answer, as when the I/O thread receives everything */
        uint64_t target = a->dq_seq;
        a->dq_waiters++;
        while (a->dq_done < target) {
            int r = timeout_ms ? pthread_cond_timedwait(&a->cv, &a->mu, &deadline)
                               : pthread_cond_wait(&a->cv, &a->mu);
            if (r == ETIMEDOUT)
                break;
        }
        a->dq_waiters--;
    }
    pthread_cond_destroy(&w.cv);
    if (--a->users == 0) {
        if (a->destroy_pending) {
            a->destroy_pending = 0;
            i61_loop_post(a->loop, &a->free_task);   /* freed from a handler meanwhile */
        }
        if (a->freeing)
            pthread_cond_broadcast(&a->cv);
    }
    pthread_mutex_unlock(&a->mu);
    return rc;
}

int i61_assoc_send(i61_assoc *a, const uint8_t *pdu, size_t len)
{
    if (!a || !pdu || !len)
        return I61_ERR_INVALID_ARGUMENT;
    pthread_mutex_lock(&a->mu);
    int st = a->state;
    uint32_t max = a->max_pdu;
    pthread_mutex_unlock(&a->mu);
    if (st != I61_STATE_CONNECTED && st != I61_STATE_CLOSING)
        return I61_ERR_NOT_CONNECTED;
    if (len > max)
        return I61_ERR_INVALID_ARGUMENT;
    int rc = i61_assoc_send_pdu(a, pdu, len);
    if (rc == I61_ERR_CONNECTION_LOST)
        i61_assoc_drop(a, I61_ERR_CONNECTION_LOST, "send failed");
    return rc;
}

/* Sends AB + ABRT when the upper layers are up, then closes. */
static void i61_assoc_abort_internal(i61_assoc *a, const char *why)
{
    if (atomic_load(&a->phase) >= PH_ACCEPT) {
        i61_buf b;
        i61_buf_init(&b);
        if (i61_iso_write_abort_tsdu(&b) == I61_OK)
            i61_assoc_send_tsdu(a, b.data, b.len, NULL, 0);   /* best effort */
        i61_buf_free(&b);
    }
    i61_assoc_drop(a, I61_ERR_CONNECTION_LOST, why);
}

int i61_assoc_abort(i61_assoc *a)
{
    if (!a)
        return I61_ERR_INVALID_ARGUMENT;
    pthread_mutex_lock(&a->mu);
    int idle = atomic_load(&a->phase) == PH_IDLE && a->state == I61_STATE_CLOSED;
    pthread_mutex_unlock(&a->mu);
    if (idle)
        return I61_ERR_NOT_CONNECTED;
    i61_assoc_abort_internal(a, "aborted by the user");
    return I61_OK;
}

/* mu held: waits for *slot to leave WS_PENDING or the deadline. */
static int i61_assoc_wait_slot(i61_assoc *a, int *slot, const struct timespec *deadline)
{
    while (*slot == WS_PENDING) {
        if (pthread_cond_timedwait(&a->cv, &a->mu, deadline) == ETIMEDOUT)
            break;
    }
    int v = *slot;
    *slot = WS_NONE;
    return v;
}

int i61_assoc_release(i61_assoc *a, uint32_t timeout_ms)
{
    if (!a || i61_loop_in_thread(a->loop))
        return I61_ERR_INVALID_ARGUMENT;
    struct timespec deadline;
    i61_deadline(&deadline, timeout_ms ? timeout_ms : 5000u);
    pthread_mutex_lock(&a->mu);
    if (a->state != I61_STATE_CONNECTED) {
        pthread_mutex_unlock(&a->mu);
        return I61_ERR_NOT_CONNECTED;
    }
    i61_assoc_set_state(a, I61_STATE_CLOSING);
    a->conclude_wait = WS_PENDING;
    pthread_mutex_unlock(&a->mu);

    /* 1. MMS Conclude */
    static const uint8_t conclude[2] = { 0x8b, 0x00 };
    if (i61_assoc_send_pdu(a, conclude, sizeof conclude) != I61_OK) {
        i61_assoc_drop(a, I61_ERR_CONNECTION_LOST, "send failed");
        return I61_ERR_CONNECTION_LOST;
    }
    pthread_mutex_lock(&a->mu);
    int cw = i61_assoc_wait_slot(a, &a->conclude_wait, &deadline);
    if (cw == WS_FAILED) {
        /* the server refused to conclude: the association stays as it was */
        a->detail = "the peer refused the MMS conclude";
        if (a->state == I61_STATE_CLOSING)
            i61_assoc_set_state(a, I61_STATE_CONNECTED);
        pthread_mutex_unlock(&a->mu);
        return I61_ERR_UNKNOWN;
    }
    if (cw != WS_OK) {
        pthread_mutex_unlock(&a->mu);
        if (cw == WS_LOST)
            return I61_ERR_CONNECTION_LOST;
        i61_assoc_abort_internal(a, "no answer to the MMS conclude");
        return I61_ERR_TIMEOUT;
    }
    /* 2. ACSE release in session FN, answer in DN */
    int expect = PH_DATA;
    if (!atomic_compare_exchange_strong(&a->phase, &expect, PH_RELEASING)) {
        pthread_mutex_unlock(&a->mu);
        return I61_ERR_CONNECTION_LOST;
    }
    a->release_wait = WS_PENDING;
    pthread_mutex_unlock(&a->mu);
    i61_buf b;
    i61_buf_init(&b);
    int rc = i61_iso_write_release_request_tsdu(&b);
    if (rc == I61_OK)
        rc = i61_assoc_send_tsdu(a, b.data, b.len, NULL, 0);
    i61_buf_free(&b);
    if (rc != I61_OK) {
        i61_assoc_drop(a, I61_ERR_CONNECTION_LOST, "send failed");
        return I61_ERR_CONNECTION_LOST;
    }
    pthread_mutex_lock(&a->mu);
    int rw = i61_assoc_wait_slot(a, &a->release_wait, &deadline);
    if (rw == WS_FAILED) {
        expect = PH_RELEASING;
        atomic_compare_exchange_strong(&a->phase, &expect, PH_DATA);
        a->detail = "the peer refused the release (session NF)";
        if (a->state == I61_STATE_CLOSING)
            i61_assoc_set_state(a, I61_STATE_CONNECTED);
        pthread_mutex_unlock(&a->mu);
        return I61_ERR_UNKNOWN;
    }
    pthread_mutex_unlock(&a->mu);
    if (rw == WS_PENDING || rw == WS_NONE) {
        i61_assoc_drop(a, I61_ERR_CONNECTION_LOST, "no answer to the ACSE release");
        return I61_ERR_TIMEOUT;
    }
    /* WS_OK, or WS_LOST: the peer closed after the conclude without a DN; either way done */
    i61_assoc_drop(a, I61_ERR_CONNECTION_LOST, NULL);
    return I61_OK;
}

void i61_assoc_free(i61_assoc *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    a->freeing = 1;
    a->state_cb = NULL;
    a->ucb = NULL;
    a->icb = NULL;
    a->nq_len = 0;
    int live = atomic_load(&a->phase) != PH_IDLE || a->state != I61_STATE_CLOSED;
    pthread_mutex_unlock(&a->mu);
    if (live)
        i61_assoc_abort_internal(a, "freed");
    else
        i61_assoc_close_socket(a);
    if (i61_loop_in_thread(a->loop)) {
        i61_loop_post(a->loop, &a->free_task);   /* after the current callback returns */
        return;
    }
    pthread_mutex_lock(&a->mu);
    while (a->users > 0)                         /* requests interrupted by the abort */
        pthread_cond_wait(&a->cv, &a->mu);
    pthread_mutex_unlock(&a->mu);
    i61_loop_sync(a->loop);                      /* no task or callback of ours is left */
    i61_assoc_destroy(a);
}

int i61_assoc_state(const i61_assoc *a)
{
    if (!a)
        return I61_STATE_CLOSED;
    i61_assoc *m = (i61_assoc *)a;
    pthread_mutex_lock(&m->mu);
    int s = m->state;
    pthread_mutex_unlock(&m->mu);
    return s;
}

uint32_t i61_assoc_max_pdu_size(const i61_assoc *a)
{
    if (!a)
        return 0;
    i61_assoc *m = (i61_assoc *)a;
    pthread_mutex_lock(&m->mu);
    uint32_t v = m->max_pdu;
    pthread_mutex_unlock(&m->mu);
    return v;
}

int i61_assoc_max_outstanding(const i61_assoc *a)
{
    if (!a)
        return 0;
    i61_assoc *m = (i61_assoc *)a;
    pthread_mutex_lock(&m->mu);
    int v = m->max_out;
    pthread_mutex_unlock(&m->mu);
    return v;
}

const char *i61_assoc_error_text(const i61_assoc *a)
{
    if (!a)
        return "no association";
    i61_assoc *m = (i61_assoc *)a;
    pthread_mutex_lock(&m->mu);
    const char *s = m->detail ? m->detail : "no error";
    pthread_mutex_unlock(&m->mu);
    return s;
}
