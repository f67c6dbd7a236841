/* Internal side of i61_client, shared by the ACSI client modules
 * (client.c, acsi_browse.c, acsi_rw.c and later data sets, RCBs, control,
 * files...). Not part of the public API. */
#ifndef I61_CLIENT_INTERNAL_H
#define I61_CLIENT_INTERNAL_H
#include <pthread.h>
#include <stdbool.h>
#include "i61.h"
#include "assoc.h"
#include "../ber/ber.h"
#include "../mms/mms_pdu.h"

#define I61_CLIENT_DEFAULT_CONNECT_TIMEOUT 10000
#define I61_CLIENT_DEFAULT_REQUEST_TIMEOUT 5000
#define I61_CLIENT_DEFAULT_MAX_PDU 65000
#define I61_CLIENT_DEFAULT_OUTSTANDING 5
#define I61_CLIENT_DEFAULT_NESTING 10

/* Text buffer size of i61_client_last_error_text. */
#define I61_CLIENT_ERR_TEXT 384

struct i61_client {
    i61_assoc *assoc;             /* owned, for the client's whole life */
    pthread_mutex_t lock;         /* guards the settings below */
    uint32_t connect_timeout_ms;
    uint32_t request_timeout_ms;
    uint32_t max_pdu_size;        /* proposed */
    int max_outstanding;          /* proposed */
    uint64_t gen;                 /* unique per i61_client_new (i61_unique_id), never 0 */
    i61_state_handler user_state; /* the application's state handler (under lock) */
    void *user_state_ud;
    struct i61_rptq *reports;     /* received reports (acsi_report.c), owned */
    struct i61_ctlq *controls;    /* control objects and control events (acsi_control.c), owned */
    struct i61_cfiles *files;     /* uploads being served, base path (acsi_file.c), owned */
};

/* Received reports (acsi_report.c). init creates c->reports; it is called by
 * i61_client_new before the association's handlers are installed, and free
 * after the association is gone (no handler runs any more). */
int i61_client_reports_init(i61_client *c);
void i61_client_reports_free(i61_client *c);
/* Association handlers (I/O thread): every unconfirmed PDU, every state change. */
void i61_client_on_unconfirmed(void *userdata, const uint8_t *pdu, size_t len);
void i61_client_reports_on_state(i61_client *c, int state);

/* Control objects and CommandTermination events (acsi_control.c): created by
 * i61_client_new and freed by i61_client_free like the reports (control
 * objects still alive then are detached: their calls fail with
 * I61_ERR_NOT_CONNECTED). on_unconfirmed gets every unconfirmed PDU that is
 * not an "RPT" report (I/O thread). */
int i61_client_controls_init(i61_client *c);
void i61_client_controls_free(i61_client *c);
void i61_client_controls_on_unconfirmed(i61_client *c, const uint8_t *pdu, size_t len);
void i61_client_controls_on_state(i61_client *c, int state);
/* Control events waiting (acsi_control.c), and a wake-up of
 * i61_client_wait_events after one was queued (acsi_report.c). Neither is
 * called with the other queue's lock held. */
size_t i61_client_controls_pending(i61_client *c);
void i61_client_reports_kick(i61_client *c);

/* File services (acsi_file.c): created by i61_client_new before the
 * association's handlers are installed, freed by i61_client_free after the
 * association is gone. on_indication is the association's indication
 * handler (the server's FileOpen/FileRead/FileClose during ObtainFile; other
 * requests are rejected as unrecognized-service); on_state forgets the
 * server's open files when the association closes. */
int i61_client_files_init(i61_client *c);
void i61_client_files_free(i61_client *c);
/* Stops the upload watchdog (which may abort the association): called by
 * i61_client_free before the association is freed. */
void i61_client_files_stop(i61_client *c);
void i61_client_on_indication(void *userdata, const uint8_t *pdu, size_t len);
void i61_client_files_on_state(i61_client *c, int state);

/* Settings snapshot (under the lock). */
uint32_t i61_client_request_timeout(i61_client *c);

/* Last error text of this client for the calling thread. printf-style.
 * i61_client_error returns rc so that `return i61_client_error(c, rc, ...)` works. */
int i61_client_error(const i61_client *c, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void i61_client_clear_error(const i61_client *c);

/* The usual failure text for a service on an object:
 *   "<what>: <i61_err_str(rc)>" plus " (<MMS error text>)" when e says what the
 *   server answered. Returns rc. */
int i61_client_fail(const i61_client *c, int rc, const char *what, const i61_mms_error *e);

/* Send one encoded confirmed request (invoke id already inside) and collect the
 * answer in resp (reset first). Uses the client's request timeout. */
int i61_client_transact(i61_client *c, uint32_t invoke_id, const i61_buf *req, i61_buf *resp);

/* Largest MMS PDU we may send: the negotiated size, or the proposed one before
 * the association exists. */
uint32_t i61_client_pdu_limit(i61_client *c);

/* GetNameList with continueAfter paging until moreFollows FALSE. Appends to
 * *out (initialised by the caller). scope/domain as in mms_pdu.h; `what`
 * names the operation in error texts. */
int i61_client_name_list(i61_client *c, int object_class, int scope, const char *domain,
                         i61_mms_idlist *out, const char *what);

#endif
