/* MMS server: public API (i61_server.h) and the glue between the connection
 * engine (sconn.c) and the shared I/O thread (net/loop.h): listening socket,
 * accepted connections, handshake/idle timeouts, hook timeouts, wake-ups for
 * deferred completions. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server_internal.h"
#include "srv_rcb.h"
#include "srv_control.h"
#include "srv_file.h"
#include "srv_log.h"                             /* logs: attach, activate, IntgPd */
#include "../net/loop.h"
#include "../net/sock.h"

#define I61_SRV_REFUSING_MAX 16          /* connections kept open only to send a DR */
#define I61_SRV_OUT_HIGH (1u << 20)      /* stop reading a client that does not read */
#define I61_SRV_READS_PER_EVENT 4
#define I61_SRV_ACCEPT_PAUSE_MS 100      /* out of descriptors: retry accepting after this */

struct i61_server_conn {
    i61_server_conn *prev, *next;
    i61_server *srv;
    int fd;
    i61_io *io;
    i61_timer *timer;
    uint32_t interest;
    uint64_t last_rx_ms;
    uint64_t partial_since_ms;  /* an incomplete frame is waiting since then, 0 = none */
    uint64_t timer_at;          /* deadline the timer is armed for, 0 = not armed */
    bool associated_seen;
    bool announced;             /* the connection handler was told about it */
    bool queued_up;             /* a CONNECTED event was queued */
    bool closed;
    i61_sconn eng;
};

typedef struct i61_srv_net {
    i61_loop *loop;
    bool running;               /* guarded by srv->mu */
    bool starting;              /* i61_server_start in progress (guarded by srv->mu) */
    int lfd;
    i61_io *lio;
    i61_timer *accept_timer;    /* re-arms the listener after running out of descriptors */
    bool accept_paused;
    int port;
    i61_server_conn *conns;
    int nconns;                 /* accepted, not refusing (guarded by srv->mu for readers) */
    int nrefusing;
    uint32_t next_id;
    i61_task wake_task;
    i61_task stop_task;
    i61_task listen_task;
    i61_timer *sweep;
    uint64_t sweep_at;          /* deadline the sweep timer is armed for, 0 = none */
    i61_timer *rcb_timer;       /* reporting deadlines: BufTm, IntgPd (srv_rcb.c) */
    uint64_t rcb_at;            /* deadline it is armed for, 0 = none */
    i61_timer *ctl_timer;       /* control deadlines: handlers, operTm, sboTimeout */
    uint64_t ctl_at;            /* deadline it is armed for, 0 = none */
    i61_timer *file_timer;      /* file deadlines: hooks, ObtainFile answers (srv_file.c) */
    uint64_t file_at;           /* deadline it is armed for, 0 = none */
} i61_srv_net;

static i61_srv_net *i61_net(i61_server *s)
{
    return (i61_srv_net *)s->net;
}

/* --------------------------------------------------------------- lifetime */

static void i61_srv_wake(i61_server *s);
static void i61_srv_arm_sweep(i61_server *s, uint64_t deadline);
static void i61_srv_arm_ctl(i61_server *s, uint64_t deadline);
static void i61_srv_arm_file(i61_server *s, uint64_t deadline);

i61_server *i61_server_new(i61_model *model)
{
    if (!model)
        return NULL;
    i61_server *s = calloc(1, sizeof *s);
    i61_srv_net *n = calloc(1, sizeof *n);
    int locks = 0;
    if (s && n) {
        /* ev_cv waits against the monotonic clock (i61_server_next_event) */
        pthread_condattr_t ca;
        bool ca_ok = pthread_condattr_init(&ca) == 0;
        if (ca_ok && pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0) {
            pthread_condattr_destroy(&ca);
            ca_ok = false;
        }
        locks += ca_ok && pthread_mutex_init(&s->mu, NULL) == 0;
        locks += locks == 1 && pthread_mutex_init(&s->ev_mu, NULL) == 0;
        locks += locks == 2 && pthread_cond_init(&s->ev_cv, &ca) == 0;
        if (ca_ok)
            pthread_condattr_destroy(&ca);
    }
    if (locks != 3) {
        if (locks >= 2)
            pthread_mutex_destroy(&s->ev_mu);
        if (locks >= 1)
            pthread_mutex_destroy(&s->mu);
        free(s);
        free(n);
        i61_model_free(model);
        return NULL;
    }
    s->ev_max = 4096;
    s->model = model;
    s->net = n;
    n->lfd = -1;
    /* Set once here, never changed: i61_srv_complete reads them from any thread
     * (both are no-ops while the server is not running). */
    s->wake = i61_srv_wake;
    s->arm_sweep = i61_srv_arm_sweep;
    s->arm_ctl = i61_srv_arm_ctl;
    s->arm_file = i61_srv_arm_file;
    snprintf(s->vendor, sizeof s->vendor, "lib61850");
    snprintf(s->model_name, sizeof s->model_name, "lib61850 server");
    snprintf(s->revision, sizeof s->revision, "%s", i61_version());
    s->max_connections = 100;
    s->max_pdu = I61_SRV_MAX_PDU;
    s->max_outstanding = 10;
    s->handshake_ms = 10000;
    s->idle_ms = 0;
    s->hook_timeout_ms = 10000;
    s->writable_mask = (1u << I61_FC_SP) | (1u << I61_FC_SV) | (1u << I61_FC_SE);
    if (i61_srv_files_new(s) != I61_OK ||
        i61_srv_rcb_attach(s) != I61_OK ||       /* reports: the RCBs know their server */
        i61_srv_log_attach(s) != I61_OK) {       /* logs: events and wake-ups */
        s->model = NULL;
        i61_server_free(s);
        i61_model_free(model);
        return NULL;
    }
    return s;
}

void i61_server_free(i61_server *s)
{
    if (!s)
        return;
    i61_server_stop(s);
    i61_srv_free_all_reqs(s);
    while (s->ev_head) {
        struct i61_sev *e = s->ev_head;
        s->ev_head = e->next;
        i61_server_event_free(&e->ev);
    }
    i61_srv_files_free(s);
    i61_model_free(s->model);
    pthread_cond_destroy(&s->ev_cv);
    pthread_mutex_destroy(&s->ev_mu);
    pthread_mutex_destroy(&s->mu);
    free(s->net);
    free(s);
}

i61_model *i61_server_model(i61_server *s)
{
    return s ? s->model : NULL;
}

/* ---------------------------------------------------------------- config */

static int i61_copy_ident(char *dst, const char *src)
{
    if (!src)
        src = "";
    size_t n = strlen(src);
    if (n >= I61_SRV_IDENT_MAX)
        return I61_ERR_INVALID_ARGUMENT;
    memcpy(dst, src, n + 1);
    return I61_OK;
}

int i61_server_set_identity(i61_server *s, const char *vendor, const char *model,
                            const char *revision)
{
    if (!s || (vendor && strlen(vendor) >= I61_SRV_IDENT_MAX) ||
        (model && strlen(model) >= I61_SRV_IDENT_MAX) ||
        (revision && strlen(revision) >= I61_SRV_IDENT_MAX))
        return I61_ERR_INVALID_ARGUMENT;
    pthread_mutex_lock(&s->mu);
    i61_copy_ident(s->vendor, vendor);
    i61_copy_ident(s->model_name, model);
    i61_copy_ident(s->revision, revision);
    pthread_mutex_unlock(&s->mu);
    return I61_OK;
}

void i61_server_set_max_connections(i61_server *s, int n)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->max_connections = n < 1 ? 1 : n;
    pthread_mutex_unlock(&s->mu);
}

void i61_server_set_max_pdu_size(i61_server *s, uint32_t octets)
{
    if (!s)
        return;
    if (octets < I61_SRV_MIN_PDU)
        octets = I61_SRV_MIN_PDU;
    if (octets > I61_SRV_MAX_PDU)
        octets = I61_SRV_MAX_PDU;
    pthread_mutex_lock(&s->mu);
    s->max_pdu = octets;
    pthread_mutex_unlock(&s->mu);
}

void i61_server_set_max_outstanding(i61_server *s, int n)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->max_outstanding = n < 1 ? 1 : n > 1000 ? 1000 : n;
    pthread_mutex_unlock(&s->mu);
}

void i61_server_set_timeouts(i61_server *s, uint32_t handshake_ms, uint32_t idle_ms)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->handshake_ms = handshake_ms ? handshake_ms : 1;
    s->idle_ms = idle_ms;
    pthread_mutex_unlock(&s->mu);
}

void i61_server_set_hook_timeout(i61_server *s, uint32_t ms)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->hook_timeout_ms = ms ? ms : 1;
    pthread_mutex_unlock(&s->mu);
}

int i61_server_set_write_access(i61_server *s, int fc, int allow)
{
    if (!s || fc < 0 || fc >= I61_MODEL_FC_COUNT)
        return I61_ERR_INVALID_ARGUMENT;
    switch (fc) {
    case I61_FC_ST: case I61_FC_MX: case I61_FC_CO: case I61_FC_RP: case I61_FC_BR:
    case I61_FC_LG: case I61_FC_GO: case I61_FC_US: case I61_FC_MS:
        return allow ? I61_ERR_ACCESS_DENIED : I61_OK;
    default:
        break;
    }
    uint32_t bit = 1u << fc;
    pthread_mutex_lock(&s->mu);
    uint32_t m = s->writable_mask;
    m = allow ? (m | bit) : (m & ~bit);
    __atomic_store_n(&s->writable_mask, m, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&s->mu);
    return I61_OK;
}

void i61_server_set_connection_handler(i61_server *s, i61_connection_handler h, void *userdata)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->conn_handler = h;
    s->conn_handler_ud = userdata;
    pthread_mutex_unlock(&s->mu);
}

/* ----------------------------------------------------------------- hooks */

static int i61_srv_set_hook(i61_server *s, const char *ref, int fc, bool is_write, void *fn,
                            void *userdata)
{
    if (!s || !ref)
        return I61_ERR_INVALID_ARGUMENT;
    i61_mnode *n = NULL;
    int rfc = I61_FC_NONE;
    int rc = i61_model_find(s->model, ref, fc, &n, &rfc);
    if (rc != I61_OK)
        return rc;
    return i61_model_set_hook(s->model, n, rfc, is_write, false, fn, userdata);
}

static int i61_srv_set_queued_hook(i61_server *s, const char *ref, int fc, bool is_write, int on,
                                   void *userdata)
{
    if (!s || !ref)
        return I61_ERR_INVALID_ARGUMENT;
    i61_mnode *n = NULL;
    int rfc = I61_FC_NONE;
    int rc = i61_model_find(s->model, ref, fc, &n, &rfc);
    if (rc != I61_OK)
        return rc;
    return i61_model_set_hook(s->model, n, rfc, is_write, on != 0, NULL, userdata);
}

int i61_server_set_queued_write_hook(i61_server *s, const char *ref, int fc, int on,
                                     void *userdata)
{
    return i61_srv_set_queued_hook(s, ref, fc, true, on, userdata);
}

int i61_server_set_queued_read_hook(i61_server *s, const char *ref, int fc, int on,
                                    void *userdata)
{
    return i61_srv_set_queued_hook(s, ref, fc, false, on, userdata);
}

/* ----------------------------------------------------------- event queue */

static bool i61_srv_push(i61_server *s, int kind, uint32_t conn_id, uint64_t token, int fc,
                         void *userdata, i61_value *value, const char *ref,
                         const i61_control_action *action, const char *path,
                         const char *new_path)
{
    struct i61_sev *e = calloc(1, sizeof *e);
    if (e && action)
        e->ev.ctl = *action;
    if (e && path) {
        e->file_path = strdup(path);
        e->file_new_path = strdup(new_path ? new_path : "");
        if (!e->file_path || !e->file_new_path) {
            free(e->file_path);
            free(e->file_new_path);
            free(e);
            e = NULL;
        }
    }
    pthread_mutex_lock(&s->ev_mu);
    bool ok = e && s->ev_count < s->ev_max;
    if (ok) {
        e->ev.kind = kind;
        e->ev.conn_id = conn_id;
        e->ev.token = token;
        e->ev.fc = fc;
        e->ev.userdata = userdata;
        e->ev.value = value;
        snprintf(e->ev.ref, sizeof e->ev.ref, "%s", ref ? ref : "");
        if (s->ev_tail)
            s->ev_tail->next = e;
        else
            s->ev_head = e;
        s->ev_tail = e;
        s->ev_count++;
        pthread_cond_signal(&s->ev_cv);
    } else {
        s->ev_dropped++;
    }
    pthread_mutex_unlock(&s->ev_mu);
    if (!ok) {
        if (e) {
            free(e->file_path);
            free(e->file_new_path);
        }
        free(e);
        i61_value_free(value);
    }
    return ok;
}

bool i61_srv_push_event(i61_server *s, int kind, uint32_t conn_id, uint64_t token, int fc,
                        void *userdata, i61_value *value, const char *ref)
{
    return i61_srv_push(s, kind, conn_id, token, fc, userdata, value, ref, NULL, NULL, NULL);
}

bool i61_srv_push_file_event(i61_server *s, uint32_t conn_id, uint64_t token, int op,
                             void *userdata, const char *path, const char *new_path)
{
    /* ref carries the path too when it fits (the accessors have it whole) */
    return i61_srv_push(s, I61_SEV_FILE, conn_id, token, op, userdata, NULL,
                        strlen(path) < sizeof ((i61_server_event *)0)->ref ? path : "", NULL,
                        path, new_path);
}

bool i61_srv_push_control_event(i61_server *s, int kind, uint32_t conn_id, uint64_t token,
                                void *userdata, i61_value *value, const char *ref,
                                const i61_control_action *action)
{
    return i61_srv_push(s, kind, conn_id, token, I61_FC_CO, userdata, value, ref, action, NULL,
                        NULL);
}

void i61_server_set_queue_connection_events(i61_server *s, int on)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->ev_mu);
    s->ev_conn = on != 0;
    pthread_mutex_unlock(&s->ev_mu);
}

void i61_server_set_event_queue_size(i61_server *s, uint32_t n)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->ev_mu);
    s->ev_max = n ? n : 1;
    pthread_mutex_unlock(&s->ev_mu);
}

int i61_server_next_event(i61_server *s, uint32_t timeout_ms, i61_server_event **out)
{
    if (out)
        *out = NULL;
    if (!s || !out)
        return I61_ERR_INVALID_ARGUMENT;
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);       /* ev_cv uses the monotonic clock */
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    int rc = I61_ERR_TIMEOUT;
    pthread_mutex_lock(&s->ev_mu);
    for (;;) {
        if (s->ev_head) {
            struct i61_sev *e = s->ev_head;
            s->ev_head = e->next;
            if (!s->ev_head)
                s->ev_tail = NULL;
            s->ev_count--;
            *out = &e->ev;
            rc = I61_OK;
            break;
        }
        if (s->ev_interrupted) {
            rc = I61_ERR_NOT_CONNECTED;
            break;
        }
        if (pthread_cond_timedwait(&s->ev_cv, &s->ev_mu, &dl) != 0 && !s->ev_head &&
            !s->ev_interrupted)
            break;
    }
    pthread_mutex_unlock(&s->ev_mu);
    return rc;
}

void i61_server_event_free(i61_server_event *e)
{
    if (!e)
        return;
    i61_value_free(e->value);
    struct i61_sev *x = (struct i61_sev *)(void *)e;   /* ev is the first member */
    free(x->file_path);
    free(x->file_new_path);
    free(x);
}

void i61_server_interrupt_events(i61_server *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->ev_mu);
    s->ev_interrupted = true;
    pthread_cond_broadcast(&s->ev_cv);
    pthread_mutex_unlock(&s->ev_mu);
}

uint64_t i61_server_events_dropped(i61_server *s)
{
    if (!s)
        return 0;
    pthread_mutex_lock(&s->ev_mu);
    uint64_t d = s->ev_dropped;
    pthread_mutex_unlock(&s->ev_mu);
    return d;
}

static bool i61_srv_conn_events_on(i61_server *s)
{
    pthread_mutex_lock(&s->ev_mu);
    bool on = s->ev_conn;
    pthread_mutex_unlock(&s->ev_mu);
    return on;
}

int i61_server_set_write_hook(i61_server *s, const char *ref, int fc, i61_write_hook h,
                              void *userdata)
{
    return i61_srv_set_hook(s, ref, fc, true, (void *)h, userdata);
}

int i61_server_set_read_hook(i61_server *s, const char *ref, int fc, i61_read_hook h,
                             void *userdata)
{
    return i61_srv_set_hook(s, ref, fc, false, (void *)h, userdata);
}

int i61_server_complete_write(i61_server *s, uint64_t token, int result)
{
    return i61_srv_complete(s, token, result, true);
}

int i61_server_complete_read(i61_server *s, uint64_t token, int result)
{
    return i61_srv_complete(s, token, result, false);
}

/* ----------------------------------------------------------- connections */

static void i61_conn_flush(i61_server_conn *sc);

static void i61_conn_close(i61_server_conn *sc)
{
    if (sc->closed)
        return;
    sc->closed = true;
    i61_server *s = sc->srv;
    i61_srv_net *n = i61_net(s);
    i61_io_del(sc->io);
    sc->io = NULL;
    close(sc->fd);
    sc->fd = -1;
    i61_timer_free(sc->timer);
    sc->timer = NULL;
    i61_srv_conn_gone(s, &sc->eng);
    if (sc->prev)
        sc->prev->next = sc->next;
    else
        n->conns = sc->next;
    if (sc->next)
        sc->next->prev = sc->prev;
    pthread_mutex_lock(&s->mu);
    if (sc->eng.refuse)
        n->nrefusing--;
    else
        n->nconns--;
    i61_connection_handler h = s->conn_handler;
    void *ud = s->conn_handler_ud;
    pthread_mutex_unlock(&s->mu);
    if (h && sc->announced)
        h(ud, sc->eng.id, sc->eng.peer, 0);
    if (sc->queued_up)
        i61_srv_push_event(s, I61_SEV_DISCONNECTED, sc->eng.id, 0, I61_FC_NONE, NULL, NULL,
                           sc->eng.peer);
    i61_sconn_free(&sc->eng);
    free(sc);
}

static void i61_conn_set_interest(i61_server_conn *sc, uint32_t interest)
{
    if (sc->interest != interest && sc->io) {
        sc->interest = interest;
        i61_io_set_interest(sc->io, interest);
    }
}

static void i61_conn_arm(i61_server_conn *sc, uint64_t deadline)
{
    if (sc->timer_at && sc->timer_at <= deadline)
        return;
    uint64_t now = i61_mono_ms();
    sc->timer_at = deadline;
    i61_timer_start(sc->timer, deadline > now ? (uint32_t)(deadline - now) : 0, 0);
}

/* After the engine ran: send what it produced, close if it asked to, keep
 * the timer on the earliest of: idle deadline, stalled-frame deadline. */
static void i61_conn_after(i61_server_conn *sc)
{
    if (sc->eng.close_now) {
        i61_conn_close(sc);
        return;
    }
    if (sc->eng.state == I61_SC_ASSOCIATED) {
        i61_server *s = sc->srv;
        pthread_mutex_lock(&s->mu);
        uint32_t idle = s->idle_ms, hs = s->handshake_ms;
        pthread_mutex_unlock(&s->mu);
        if (!sc->associated_seen) {
            sc->associated_seen = true;
            i61_timer_stop(sc->timer);           /* the handshake deadline is over */
            sc->timer_at = 0;
            if (idle)
                i61_conn_arm(sc, sc->last_rx_ms + idle);
        }
        if (sc->eng.rx_len > 0) {
            if (!sc->partial_since_ms) {
                sc->partial_since_ms = i61_mono_ms();
                i61_conn_arm(sc, sc->partial_since_ms + hs);
            }
        } else {
            sc->partial_since_ms = 0;
        }
    }
    i61_conn_flush(sc);
}

static void i61_conn_flush(i61_server_conn *sc)
{
    i61_sconn *c = &sc->eng;
    while (c->out.len > 0) {
        struct iovec iov = {c->out.data, c->out.len};
        ssize_t k = i61_sock_sendv(sc->fd, &iov, 1);
        if (k < 0 && k != -EAGAIN) {
            i61_conn_close(sc);
            return;
        }
        if (k <= 0)
            break;
        i61_sconn_consume_out(c, (size_t)k);
    }
    if (c->out.len == 0 && c->close_after_flush) {
        i61_conn_close(sc);
        return;
    }
    if (c->rpt_blocked && c->out.len < I61_SRV_OUT_HIGH / 2) {
        c->rpt_blocked = false;                  /* reports were waiting for room */
        i61_srv_wake(sc->srv);
    }
    uint32_t want = 0;
    if (!c->close_after_flush && c->out.len < I61_SRV_OUT_HIGH)
        want |= I61_IO_READ;
    if (c->out.len > 0)
        want |= I61_IO_WRITE;
    i61_conn_set_interest(sc, want);
}

static void i61_conn_io(void *ud, uint32_t events)
{
    i61_server_conn *sc = ud;
    if (sc->closed)
        return;
    if (events & I61_IO_READ) {
        for (int k = 0; k < I61_SRV_READS_PER_EVENT && !sc->closed; k++) {
            size_t avail = 0;
            uint8_t *dst = i61_sconn_rx_space(&sc->eng, &avail);
            if (!dst || avail == 0) {
                i61_conn_close(sc);
                return;
            }
            ssize_t r = i61_sock_read(sc->fd, dst, avail);
            if (r == -EAGAIN)
                break;
            if (r <= 0) {                        /* end of stream or error */
                i61_conn_close(sc);
                return;
            }
            sc->last_rx_ms = i61_mono_ms();
            i61_sconn_rx_commit(&sc->eng, (size_t)r);
            if (sc->eng.close_now || sc->eng.state == I61_SC_CLOSING)
                break;
            if ((size_t)r < avail) {
                /* in the middle of a frame or of a segmented TSDU: acknowledge
                 * now, so that a client with Nagle on does not hold the rest
                 * for our delayed ACK */
                if (sc->eng.rx_len > 0 || sc->eng.reasm.buf.len > 0)
                    i61_sock_quickack(sc->fd);
                break;
            }
        }
        i61_conn_after(sc);
        return;
    }
    if (events & I61_IO_WRITE) {
        i61_conn_flush(sc);
        return;
    }
    if (events & I61_IO_HUP)
        i61_conn_close(sc);
}

static void i61_conn_timer(void *ud)
{
    i61_server_conn *sc = ud;
    if (sc->closed)
        return;
    sc->timer_at = 0;
    if (sc->eng.state != I61_SC_ASSOCIATED) {
        i61_conn_close(sc);                      /* handshake did not complete in time */
        return;
    }
    i61_server *s = sc->srv;
    pthread_mutex_lock(&s->mu);
    uint32_t idle = s->idle_ms, hs = s->handshake_ms;
    pthread_mutex_unlock(&s->mu);
    uint64_t now = i61_mono_ms();
    if (sc->partial_since_ms && now - sc->partial_since_ms >= hs) {
        i61_conn_close(sc);                      /* half a frame, then silence */
        return;
    }
    if (idle && now - sc->last_rx_ms >= idle && sc->eng.outstanding == 0) {
        i61_conn_close(sc);                      /* idle */
        return;
    }
    uint64_t next = 0;
    if (sc->partial_since_ms)
        next = sc->partial_since_ms + hs;
    if (idle) {
        uint64_t d = sc->last_rx_ms + idle;
        if (d <= now)
            d = now + idle;                      /* requests outstanding: look again later */
        if (!next || d < next)
            next = d;
    }
    if (next)
        i61_conn_arm(sc, next);
}

static void i61_peer_string(int fd, char *out, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
            port = ntohs(a->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
            port = ntohs(a->sin6_port);
        }
    }
    snprintf(out, cap, ss.ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d", host, port);
}

/* The accept timer: watch the listener again. */
static void i61_srv_accept_resume(void *ud)
{
    i61_server *s = ud;
    i61_srv_net *n = i61_net(s);
    if (!n->accept_paused || !n->lio)
        return;
    n->accept_paused = false;
    if (i61_io_set_interest(n->lio, I61_IO_READ) != 0) {
        n->accept_paused = true;                 /* try again later */
        i61_timer_start(n->accept_timer, I61_SRV_ACCEPT_PAUSE_MS, 0);
    }
}

static void i61_srv_pause_accept(i61_server *s)
{
    i61_srv_net *n = i61_net(s);
    if (n->accept_paused || !n->lio || !n->accept_timer)
        return;
    n->accept_paused = true;
    i61_io_set_interest(n->lio, 0);
    i61_timer_start(n->accept_timer, I61_SRV_ACCEPT_PAUSE_MS, 0);
}

static void i61_srv_accept(void *ud, uint32_t events)
{
    i61_server *s = ud;
    i61_srv_net *n = i61_net(s);
    (void)events;
    if (n->accept_paused)
        return;
    for (int k = 0; k < 64; k++) {
        int fd = -1;
        int r = i61_sock_accept(n->lfd, &fd);
        if (r == -EMFILE || r == -ENFILE || r == -ENOBUFS || r == -ENOMEM) {
            /* The pending connection stays in the backlog and the listener stays
             * readable (level-triggered): stop watching it for a while instead
             * of spinning, and look again when the timer fires. */
            i61_srv_pause_accept(s);
            break;
        }
        if (r != 0)
            break;
        pthread_mutex_lock(&s->mu);
        bool refuse = n->nconns >= s->max_connections;
        bool drop = refuse && n->nrefusing >= I61_SRV_REFUSING_MAX;
        uint32_t hs = s->handshake_ms;
        pthread_mutex_unlock(&s->mu);
        if (drop) {
            close(fd);
            continue;
        }
        i61_server_conn *sc = calloc(1, sizeof *sc);
        if (!sc) {
            close(fd);
            continue;
        }
        sc->srv = s;
        sc->fd = fd;
        uint32_t id = ++n->next_id;
        if (id == 0)
            id = ++n->next_id;
        i61_sconn_init(&sc->eng, s, id, refuse);
        i61_peer_string(fd, sc->eng.peer, sizeof sc->eng.peer);
        sc->last_rx_ms = i61_mono_ms();
        sc->timer = i61_timer_new(n->loop, i61_conn_timer, sc);
        if (!sc->timer) {
            i61_sconn_free(&sc->eng);
            close(fd);
            free(sc);
            continue;
        }
        sc->timer_at = i61_mono_ms() + hs;
        i61_timer_start(sc->timer, hs, 0);
        sc->next = n->conns;
        if (n->conns)
            n->conns->prev = sc;
        n->conns = sc;
        pthread_mutex_lock(&s->mu);
        if (refuse)
            n->nrefusing++;
        else
            n->nconns++;
        i61_connection_handler h = s->conn_handler;
        void *hud = s->conn_handler_ud;
        pthread_mutex_unlock(&s->mu);
        sc->interest = I61_IO_READ;
        sc->io = i61_io_add(n->loop, fd, I61_IO_READ, i61_conn_io, sc);
        if (!sc->io) {
            i61_conn_close(sc);
            continue;
        }
        if (h && !refuse) {
            sc->announced = true;
            h(hud, id, sc->eng.peer, 1);
        }
        if (!refuse && i61_srv_conn_events_on(s))
            sc->queued_up = i61_srv_push_event(s, I61_SEV_CONNECTED, id, 0, I61_FC_NONE, NULL,
                                               NULL, sc->eng.peer);
    }
}

/* ------------------------------------------------- deferred completions */

static void i61_srv_after_ready(i61_server *s)
{
    /* flush every connection that got a response; close those that asked */
    i61_srv_net *n = i61_net(s);
    i61_server_conn *sc = n->conns;
    while (sc) {
        i61_server_conn *nx = sc->next;
        if (sc->eng.out.len > 0 || sc->eng.close_now)
            i61_conn_after(sc);
        sc = nx;
    }
}

/* Runs the reporting engine and keeps its timer on the next deadline. */
static void i61_srv_run_reports(i61_server *s)
{
    i61_srv_net *n = i61_net(s);
    uint64_t next = i61_srv_rcb_run(s, i61_mono_ms());
    uint64_t lnext = i61_srv_log_run(s, i61_mono_ms());    /* logs: IntgPd (srv_log.c) */
    if (lnext && (!next || lnext < next))
        next = lnext;
    if (!n->rcb_timer)
        return;
    if (!next) {
        if (n->rcb_at) {
            i61_timer_stop(n->rcb_timer);
            n->rcb_at = 0;
        }
        return;
    }
    if (n->rcb_at == next)
        return;
    uint64_t now = i61_mono_ms();
    n->rcb_at = next;
    i61_timer_start(n->rcb_timer, next > now ? (uint32_t)(next - now) : 0, 0);
}

/* Runs the control engine and keeps its timer on the next deadline. */
static void i61_srv_run_controls(i61_server *s)
{
    i61_srv_net *n = i61_net(s);
    uint64_t next = i61_srv_ctl_run(s, i61_mono_ms());
    if (!n->ctl_timer)
        return;
    if (!next) {
        if (n->ctl_at) {
            i61_timer_stop(n->ctl_timer);
            n->ctl_at = 0;
        }
        return;
    }
    if (n->ctl_at == next)
        return;
    uint64_t now = i61_mono_ms();
    n->ctl_at = next;
    i61_timer_start(n->ctl_timer, next > now ? (uint32_t)(next - now) : 0, 0);
}

/* Runs the file engine and keeps its timer on the next deadline. */
static void i61_srv_run_files(i61_server *s)
{
    i61_srv_net *n = i61_net(s);
    uint64_t next = i61_srv_file_run(s, i61_mono_ms());
    if (!n->file_timer)
        return;
    if (!next) {
        if (n->file_at) {
            i61_timer_stop(n->file_timer);
            n->file_at = 0;
        }
        return;
    }
    if (n->file_at == next)
        return;
    uint64_t now = i61_mono_ms();
    n->file_at = next;
    i61_timer_start(n->file_timer, next > now ? (uint32_t)(next - now) : 0, 0);
}

static void i61_srv_file_timer_cb(void *ud)
{
    i61_server *s = ud;
    i61_net(s)->file_at = 0;
    i61_srv_run_files(s);
    i61_srv_after_ready(s);
}

/* Called (I/O thread) when the file engine has a new deadline. */
static void i61_srv_arm_file(i61_server *s, uint64_t deadline)
{
    i61_srv_net *n = i61_net(s);
    if (!n->file_timer || (n->file_at && n->file_at <= deadline))
        return;
    uint64_t now = i61_mono_ms();
    n->file_at = deadline;
    i61_timer_start(n->file_timer, deadline > now ? (uint32_t)(deadline - now) : 0, 0);
}

static void i61_srv_wake_task(void *arg)
{
    i61_server *s = arg;
    i61_srv_run_ready(s);
    i61_srv_run_files(s);
    i61_srv_run_controls(s);
    i61_srv_run_reports(s);
    i61_srv_after_ready(s);
}

static void i61_srv_ctl_timer_cb(void *ud)
{
    i61_server *s = ud;
    i61_net(s)->ctl_at = 0;
    i61_srv_run_controls(s);
    i61_srv_run_reports(s);
    i61_srv_after_ready(s);
}

/* Called (I/O thread) when the control engine has a new deadline. */
static void i61_srv_arm_ctl(i61_server *s, uint64_t deadline)
{
    i61_srv_net *n = i61_net(s);
    if (!n->ctl_timer || (n->ctl_at && n->ctl_at <= deadline))
        return;
    uint64_t now = i61_mono_ms();
    n->ctl_at = deadline;
    i61_timer_start(n->ctl_timer, deadline > now ? (uint32_t)(deadline - now) : 0, 0);
}

static void i61_srv_rcb_timer_cb(void *ud)
{
    i61_server *s = ud;
    i61_net(s)->rcb_at = 0;
    i61_srv_run_reports(s);
    i61_srv_after_ready(s);
}

static void i61_srv_wake(i61_server *s)
{
    i61_srv_net *n = i61_net(s);
    pthread_mutex_lock(&s->mu);
    if (n->running)
        i61_loop_post(n->loop, &n->wake_task);
    pthread_mutex_unlock(&s->mu);
}

static void i61_srv_sweep_cb(void *ud)
{
    i61_server *s = ud;
    i61_srv_net *n = i61_net(s);
    n->sweep_at = 0;
    uint64_t next = i61_srv_sweep_timeouts(s, i61_mono_ms());
    i61_srv_after_ready(s);
    if (next) {
        uint64_t now = i61_mono_ms();
        n->sweep_at = next;
        i61_timer_start(n->sweep, next > now ? (uint32_t)(next - now) : 0, 0);
    }
}

/* Called (I/O thread) when a request starts waiting for hooks. */
static void i61_srv_arm_sweep(i61_server *s, uint64_t deadline)
{
    i61_srv_net *n = i61_net(s);
    if (!n->sweep || (n->sweep_at && n->sweep_at <= deadline))
        return;
    uint64_t now = i61_mono_ms();
    n->sweep_at = deadline;
    i61_timer_start(n->sweep, deadline > now ? (uint32_t)(deadline - now) : 0, 0);
}

/* ----------------------------------------------------------- start/stop */

static void i61_srv_shutdown_task(void *arg)
{
    i61_server *s = arg;
    i61_srv_net *n = i61_net(s);
    while (n->conns)
        i61_conn_close(n->conns);
    if (n->lio) {
        i61_io_del(n->lio);
        n->lio = NULL;
    }
    if (n->sweep) {
        i61_timer_free(n->sweep);
        n->sweep = NULL;
    }
    if (n->rcb_timer) {
        i61_timer_free(n->rcb_timer);
        n->rcb_timer = NULL;
    }
    n->rcb_at = 0;
    if (n->ctl_timer) {
        i61_timer_free(n->ctl_timer);
        n->ctl_timer = NULL;
    }
    n->ctl_at = 0;
    if (n->file_timer) {
        i61_timer_free(n->file_timer);
        n->file_timer = NULL;
    }
    n->file_at = 0;
    if (n->accept_timer) {
        i61_timer_free(n->accept_timer);
        n->accept_timer = NULL;
    }
    n->accept_paused = false;
}

/* Registers the listener on the I/O thread, so that n->lio is only ever
 * written and read there (the accept callback may run at once). */
static void i61_srv_listen_task(void *arg)
{
    i61_server *s = arg;
    i61_srv_net *n = i61_net(s);
    n->lio = n->sweep && n->accept_timer && n->rcb_timer && n->ctl_timer && n->file_timer
                 ? i61_io_add(n->loop, n->lfd, I61_IO_READ, i61_srv_accept, s)
                 : NULL;
}

int i61_server_start(i61_server *s, const char *host, int port)
{
    if (!s || port < 0 || port > 65535)
        return I61_ERR_INVALID_ARGUMENT;
    i61_srv_net *n = i61_net(s);
    /* Claim the start under the lock: a concurrent start (or a start while
     * running) gets I61_ERR_ALREADY_CONNECTED instead of listening twice. */
    pthread_mutex_lock(&s->mu);
    bool busy = n->running || n->starting;
    if (!busy)
        n->starting = true;
    pthread_mutex_unlock(&s->mu);
    if (busy)
        return I61_ERR_ALREADY_CONNECTED;
    i61_model_lock(s->model);
    int rc = i61_model_prepare(s->model);
    i61_model_unlock(s->model);
    int fd = -1, bound = 0;
    if (rc == I61_OK) {
        rc = i61_sock_listen(host && *host ? host : NULL, port, 128, &fd, &bound);
        if (rc != 0)
            rc = rc == I61_ERR_INVALID_ARGUMENT ? rc : I61_ERR_UNKNOWN;
    }
    i61_loop *l = NULL;
    if (rc == I61_OK) {
        l = i61_loop_acquire();
        if (!l) {
            close(fd);
            rc = I61_ERR_UNKNOWN;
        }
    }
    if (rc != I61_OK) {
        pthread_mutex_lock(&s->mu);
        n->starting = false;
        pthread_mutex_unlock(&s->mu);
        return rc;
    }
    n->loop = l;
    n->lfd = fd;
    n->port = bound;
    n->wake_task.fn = i61_srv_wake_task;
    n->wake_task.arg = s;
    n->stop_task.fn = i61_srv_shutdown_task;
    n->stop_task.arg = s;
    n->listen_task.fn = i61_srv_listen_task;
    n->listen_task.arg = s;
    n->sweep = i61_timer_new(l, i61_srv_sweep_cb, s);
    n->sweep_at = 0;
    n->accept_timer = i61_timer_new(l, i61_srv_accept_resume, s);
    n->accept_paused = false;
    n->rcb_timer = i61_timer_new(l, i61_srv_rcb_timer_cb, s);
    n->rcb_at = 0;
    n->ctl_timer = i61_timer_new(l, i61_srv_ctl_timer_cb, s);
    n->ctl_at = 0;
    n->file_timer = i61_timer_new(l, i61_srv_file_timer_cb, s);
    n->file_at = 0;
    pthread_mutex_lock(&s->mu);
    n->running = true;
    n->starting = false;
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_lock(&s->ev_mu);
    s->ev_interrupted = false;
    pthread_mutex_unlock(&s->ev_mu);
    if (i61_loop_in_thread(l)) {
        i61_srv_listen_task(s);
    } else {
        i61_loop_post(l, &n->listen_task);
        i61_loop_sync(l);                        /* n->lio is set (or NULL) after this */
    }
    if (!n->lio) {
        i61_server_stop(s);
        return I61_ERR_UNKNOWN;
    }
    /* BRCBs start buffering; one engine run arms the reporting timer */
    i61_srv_rcb_activate(s);
    i61_srv_log_activate(s);                     /* logs: LCBs with LogEna TRUE start */
    i61_loop_post(l, &n->wake_task);
    return I61_OK;
}

int i61_server_stop(i61_server *s)
{
    if (!s)
        return I61_ERR_INVALID_ARGUMENT;
    i61_srv_net *n = i61_net(s);
    pthread_mutex_lock(&s->mu);
    bool running = n->running;
    n->running = false;
    pthread_mutex_unlock(&s->mu);
    if (!running)
        return I61_OK;
    if (i61_loop_in_thread(n->loop)) {
        i61_srv_shutdown_task(s);                /* documented as not allowed, but be safe */
    } else {
        i61_loop_post(n->loop, &n->stop_task);
        i61_loop_sync(n->loop);
    }
    if (n->lfd >= 0)
        close(n->lfd);
    n->lfd = -1;
    n->port = 0;
    i61_loop_release(n->loop);
    n->loop = NULL;
    i61_srv_free_all_reqs(s);
    i61_srv_file_drop_pending(s);
    return I61_OK;
}

int i61_server_port(const i61_server *s)
{
    if (!s)
        return 0;
    i61_srv_net *n = s->net;
    pthread_mutex_lock((pthread_mutex_t *)&s->mu);
    int p = n->running ? n->port : 0;
    pthread_mutex_unlock((pthread_mutex_t *)&s->mu);
    return p;
}

int i61_server_is_running(const i61_server *s)
{
    if (!s)
        return 0;
    i61_srv_net *n = s->net;
    pthread_mutex_lock((pthread_mutex_t *)&s->mu);
    int r = n->running;
    pthread_mutex_unlock((pthread_mutex_t *)&s->mu);
    return r;
}

int i61_server_connection_count(const i61_server *s)
{
    if (!s)
        return 0;
    i61_srv_net *n = s->net;
    pthread_mutex_lock((pthread_mutex_t *)&s->mu);
    int c = n->nconns;
    pthread_mutex_unlock((pthread_mutex_t *)&s->mu);
    return c;
}
