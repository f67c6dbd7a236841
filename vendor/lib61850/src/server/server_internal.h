/* MMS server internals: the server object, the per-connection protocol engine
 * (TPKT/COTP/session/presentation/ACSE responder + MMS services) and deferred
 * requests waiting for read/write hooks.
 *
 * Threads: the connection engine (i61_sconn_*) and request finalisation run
 * on one thread only, the I/O thread (or the test driving the engine).
 * Completions of deferred requests may come from any thread: they only record
 * the result under srv->mu and wake the I/O thread (srv->wake).
 * Lock order: model lock before srv->mu; hooks are called with no lock held.
 */
#ifndef I61_SERVER_INTERNAL_H
#define I61_SERVER_INTERNAL_H
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "i61.h"
#include "i61_server.h"
#include "../ber/ber.h"
#include "../iso/cotp.h"
#include "../mms/mms_pdu.h"
#include "model.h"

#define I61_SRV_IDENT_MAX 128
#define I61_SRV_PEER_MAX 64
#define I61_SRV_MIN_PDU 512u
#define I61_SRV_MAX_PDU 65000u
#define I61_SRV_TPDU_MAX 8192u           /* largest COTP TPDU we accept (c0 code 13) */
#define I61_SRV_TOKEN_BUCKETS 256
#define I61_SRV_MAX_SLOTS (1u << 20)     /* hook calls per request */

/* Connection states. */
enum {
    I61_SC_WAIT_CR = 0,     /* TCP up, waiting for COTP CR */
    I61_SC_WAIT_CN,         /* CC sent, waiting for session CN (association request) */
    I61_SC_ASSOCIATED,      /* data phase */
    I61_SC_CLOSING          /* answer queued; close once flushed, ignore input */
};

typedef struct i61_sreq i61_sreq;

/* A queued event (the public part first: i61_server_event_free casts back). */
struct i61_sev {
    i61_server_event ev;
    struct i61_sev *next;
    char *file_path;            /* I61_SEV_FILE: the names (owned), else NULL */
    char *file_new_path;
};
typedef struct i61_server_conn i61_server_conn;   /* net glue (server.c) */

typedef struct i61_sconn {
    i61_server *srv;
    uint32_t id;
    int state;
    bool refuse;                /* over the connection limit: answer CR with DR */
    char peer[I61_SRV_PEER_MAX];

    /* receive side: TPKT reassembly and COTP TSDU reassembly */
    uint8_t *rx;
    size_t rx_len, rx_cap;
    i61_cotp_reasm reasm;
    uint32_t tpdu_size;         /* negotiated TPDU size (CC), 128 before */
    int32_t acse_ctx;           /* presentation context of ACSE (the client's id, normally 1) */
    uint16_t peer_ref;

    /* negotiated at Initiate */
    int32_t mms_ctx;            /* presentation context of MMS (normally 3) */
    uint32_t max_pdu;
    int max_outstanding;        /* client's outstanding requests at the server */
    int outstanding;            /* deferred requests in progress */

    /* transmit side: complete TPKT frames ready to be sent */
    i61_buf out;
    bool close_after_flush;     /* close once `out` is sent */
    bool close_now;             /* close without sending anything more */

    i61_buf pdu;                /* scratch: one MMS PDU */
    i61_buf tsdu;               /* scratch: one TSDU (connection phase) */

    bool rpt_blocked;           /* reports wait for `out` to drain (srv_rcb.c) */

    struct i61_sconn_files *files;  /* open files, ObtainFile (srv_file.c), NULL = none */

} i61_sconn;

/* One hook call of a deferred request. */
typedef struct i61_sslot {
    size_t elem;
    bool is_write;
    bool queued;
    void *fn;
    void *userdata;
    int result;                 /* I61_HOOK_DEFER until answered */
    int sev_kind;               /* sgcb: a setting group handler's event kind
                                   (I61_SEV_SG_*, srv_sgcb.h), 0 = a hook */
} i61_sslot;

/* One variable of a deferred read/write. */
typedef struct i61_selem {
    i61_mnode *ln;
    i61_mnode *node;            /* NULL when dae is final from the start */
    int fc;
    bool has_index;
    uint32_t index;
    char *component;            /* NULL = none */
    int dae;                    /* -1 success so far, else the DataAccessError */
    int waiting;                /* hook calls not answered yet */
    bool applied;               /* write already done (RCB component, srv_rcb.c) */
    bool cbx_deferred;          /* sgcb: applied by i61_srv_sgcb_apply once answered */
} i61_selem;

struct i61_sreq {
    i61_sreq *next;             /* token bucket chain */
    i61_sreq *all_next;         /* srv->reqs list (for timeouts / connection loss) */
    i61_sreq *ready_next;       /* srv->ready list */
    uint64_t serial;
    i61_sconn *conn;            /* NULL once the connection is gone */
    uint32_t invoke_id;
    int service;                /* I61_MMS_SVC_READ / WRITE */
    size_t n;
    i61_selem *el;
    i61_value **values;         /* write: n decoded values (owned) */
    bool spec_with_result;
    i61_mms_access_spec spec;   /* read: for the echo (owned) */
    i61_sslot *slots;
    size_t nslots;
    size_t waiting;             /* slots not answered */
    bool ready;                 /* in srv->ready */
    uint64_t deadline_ms;
};

struct i61_server {
    i61_model *model;
    pthread_mutex_t mu;         /* config, connection count, deferred requests */

    char vendor[I61_SRV_IDENT_MAX], model_name[I61_SRV_IDENT_MAX], revision[I61_SRV_IDENT_MAX];
    int max_connections;
    uint32_t max_pdu;
    int max_outstanding;
    uint32_t handshake_ms, idle_ms, hook_timeout_ms;
    uint32_t writable_mask;     /* FCs writable by MMS Write */

    i61_connection_handler conn_handler;
    void *conn_handler_ud;

    /* deferred requests */
    uint64_t next_serial;
    i61_sreq *buckets[I61_SRV_TOKEN_BUCKETS];
    i61_sreq *reqs;
    i61_sreq *ready;
    void (*wake)(i61_server *s);   /* ask the I/O thread to run i61_srv_run_ready */
    void (*arm_sweep)(i61_server *s, uint64_t deadline_ms);  /* I/O thread: hook timeouts */
    void (*arm_ctl)(i61_server *s, uint64_t deadline_ms);    /* I/O thread: control deadlines */
    void (*arm_file)(i61_server *s, uint64_t deadline_ms);   /* I/O thread: file deadlines */

    struct i61_srv_files *files;   /* file store (srv_file.c) */

    /* event queue (i61_server_next_event) */
    pthread_mutex_t ev_mu;
    pthread_cond_t ev_cv;
    struct i61_sev *ev_head, *ev_tail;
    size_t ev_count;
    uint32_t ev_max;
    uint64_t ev_dropped;
    bool ev_conn;               /* queue connection events */
    bool ev_interrupted;

    /* statistics */

    void *net;                  /* net glue state (server.c) */
};

/* Monotonic milliseconds. */

/* ---- connection engine (sconn.c) ---- */
int i61_sconn_init(i61_sconn *c, i61_server *s, uint32_t id, bool refuse);
void i61_sconn_free(i61_sconn *c);
/* Space to receive into: at least 1 octet (grows up to the frame being read). */
uint8_t *i61_sconn_rx_space(i61_sconn *c, size_t *avail);
/* n octets were written at the space returned before: processes every complete
 * frame. Returns 0, or -1 when the connection must be closed now. */
int i61_sconn_rx_commit(i61_sconn *c, size_t n);
/* Copies p into the receive buffer and processes (tests, fuzzing). */
int i61_sconn_feed(i61_sconn *c, const uint8_t *p, size_t n);
/* Sends one MMS PDU (c->pdu) as data TSDU; -1 on OOM (connection closes). */
int i61_sconn_send_pdu(i61_sconn *c, const uint8_t *pdu, size_t len);
/* Bytes ready to send / consume n of them. */
void i61_sconn_consume_out(i61_sconn *c, size_t n);

/* ---- MMS services (srv_mms.c) ---- */
/* One MMS PDU received in the data phase. */
void i61_srv_mms_pdu(i61_sconn *c, const uint8_t *pdu, size_t len);
/* Builds the initiate-Response for a request (or an error PDU). Returns 0 and
 * fills out (initiate-Response), or > 0: an I61_MMS_INIT_ERR_* (out holds the
 * initiate-ErrorPDU), or -1 (malformed: out empty). */
int i61_srv_initiate(i61_sconn *c, const uint8_t *req, size_t len, i61_buf *out);

/* ---- deferred requests (srv_mms.c) ---- */
/* Finalises every ready request (I/O thread). */
void i61_srv_run_ready(i61_server *s);
/* Answers requests whose hooks ran out of time (I/O thread); returns the
 * earliest remaining deadline, 0 if none. */
uint64_t i61_srv_sweep_timeouts(i61_server *s, uint64_t now_ms);
/* The connection is going away: orphan its requests (I/O thread). */
void i61_srv_conn_gone(i61_server *s, i61_sconn *c);
int i61_srv_complete(i61_server *s, uint64_t token, int result, bool is_write);
/* Queues an event (any thread); false when the queue is full (counted).
 * Takes ownership of value in every case. */
bool i61_srv_push_event(i61_server *s, int kind, uint32_t conn_id, uint64_t token, int fc,
                        void *userdata, i61_value *value, const char *ref);
/* The same for a control event (srv_control.c): a copy of *action goes
 * into the event. */
bool i61_srv_push_control_event(i61_server *s, int kind, uint32_t conn_id, uint64_t token,
                                void *userdata, i61_value *value, const char *ref,
                                const i61_control_action *action);
/* The same for a file event (srv_file.c): op in fc, copies of the names. */
bool i61_srv_push_file_event(i61_server *s, uint32_t conn_id, uint64_t token, int op,
                             void *userdata, const char *path, const char *new_path);
/* Frees every deferred request (server stopped: tokens become unknown). */
void i61_srv_free_all_reqs(i61_server *s);

#endif
