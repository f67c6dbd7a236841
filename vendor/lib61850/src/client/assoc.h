/* MMS client association: the transport contract between the ISO stack / event
 * loop (iso/, net/, client/assoc.c) and the ACSI client (client/acsi*.c).
 *
 * An association owns one TCP connection driven by the shared I/O thread.
 * i61_assoc_request is synchronous: it sends one confirmed-RequestPDU and waits
 * (with a timeout) for the PDU answering that invoke id. When it is the only
 * request pending, the caller's thread receives the answer itself (no hand-off
 * from the I/O thread); otherwise it waits on a condition variable that the
 * I/O thread signals. Either way, handlers run only on the I/O thread. Many
 * threads may call it at once (up to the negotiated max outstanding calls;
 * beyond that it returns I61_ERR_OUTSTANDING_CALL_LIMIT).
 */
#ifndef I61_ASSOC_H
#define I61_ASSOC_H
#include "i61.h"
#include "../ber/ber.h"

typedef struct i61_assoc i61_assoc;

/* Called on the I/O thread for each unconfirmed PDU (InformationReport ...),
 * with the whole MMS PDU (tag a3 ...). Must not block. */
typedef void (*i61_unconfirmed_handler)(void *userdata, const uint8_t *pdu, size_t len);

typedef struct i61_assoc_params {
    uint32_t connect_timeout_ms;   /* TCP connect + whole association set-up */
    uint32_t max_pdu_size;         /* proposed localDetailCalling */
    int max_outstanding;           /* proposed max serv outstanding calling/called */
    int nesting_level;             /* proposed data structure nesting level */
} i61_assoc_params;

i61_assoc *i61_assoc_new(void);
/* Aborts a live connection, waits until the I/O thread no longer references it. */
void i61_assoc_free(i61_assoc *a);

void i61_assoc_set_state_handler(i61_assoc *a, i61_state_handler h, void *userdata);
void i61_assoc_set_unconfirmed_handler(i61_assoc *a, i61_unconfirmed_handler h, void *userdata);

/* TCP connect, COTP CR/CC, session CN/AC, presentation CP/CPA, ACSE AARQ/AARE,
 * MMS Initiate. I61_OK, I61_ERR_CONNECTION_REJECTED (refused at any layer,
 * or TCP refused), I61_ERR_TIMEOUT, I61_ERR_ALREADY_CONNECTED,
 * I61_ERR_INVALID_ARGUMENT (host does not resolve). */
int i61_assoc_connect(i61_assoc *a, const char *host, int port, const i61_assoc_params *p);

/* Next invoke id (thread safe). */
uint32_t i61_assoc_next_invoke_id(i61_assoc *a);

/* Send `pdu` (a complete MMS PDU, normally a confirmed-RequestPDU carrying
 * invoke_id) and wait for the confirmed-Response/Error/Reject PDU with that
 * invoke id (for reject: originalInvokeID). The whole response MMS PDU is
 * appended to *resp. Returns I61_OK, I61_ERR_TIMEOUT (the request is
 * forgotten; a late answer is dropped), I61_ERR_CONNECTION_LOST,
 * I61_ERR_NOT_CONNECTED, I61_ERR_OUTSTANDING_CALL_LIMIT,
 * I61_ERR_INVALID_ARGUMENT (pdu larger than the negotiated size). */
int i61_assoc_request(i61_assoc *a, uint32_t invoke_id, const uint8_t *pdu, size_t len,
                      uint32_t timeout_ms, i61_buf *resp);

/* MMS Conclude, then ACSE release (session FN/DN), then TCP close. */
int i61_assoc_release(i61_assoc *a, uint32_t timeout_ms);
/* Session AB + ACSE ABRT, then TCP close; does not wait for an answer. */
int i61_assoc_abort(i61_assoc *a);

int i61_assoc_state(const i61_assoc *a);
uint32_t i61_assoc_max_pdu_size(const i61_assoc *a);   /* negotiated */
int i61_assoc_max_outstanding(const i61_assoc *a);     /* negotiated (calling) */

/* ---- additions (transport) ----
 *
 * Threads and handlers. The state, unconfirmed and indication handlers run on
 * the I/O thread with no library lock held, one at a time, in order; the state
 * handler fires once per state change (CONNECTING, CONNECTED, CLOSING, CLOSED).
 * From inside a handler you may call i61_assoc_state, i61_assoc_send,
 * i61_assoc_abort, the setters and i61_assoc_free (the memory is then released
 * after the handler returns and no handler runs any more); the blocking calls
 * (connect, request, release) return I61_ERR_INVALID_ARGUMENT there instead of
 * deadlocking. Do not call i61_assoc_free or i61_assoc_abort while holding a
 * lock that one of your handlers takes. i61_assoc_free clears the handlers
 * first: no handler is called once it has started. A request timeout_ms of 0
 * waits without a time limit (until the answer or the loss of the connection).
 *
 * Bounds. Sent PDUs never exceed the negotiated size. Received MMS PDUs are
 * accepted up to max(negotiated size, 65000) octets (some peers ignore a small
 * localDetail); a larger one, a malformed TPKT/COTP/session/presentation
 * frame, or a TPDU above the negotiated TPDU size closes the association:
 * pending requests get I61_ERR_CONNECTION_LOST and the state goes CLOSED. */

/* Called on the I/O thread for each confirmed-RequestPDU received from the peer
 * (a server's FileOpen/FileRead/FileClose during ObtainFile), whole MMS PDU
 * (tag a0). Must not block; answer with i61_assoc_send. Without a handler the
 * association answers with a RejectPDU (confirmed-requestPDU,
 * unrecognized-service). */
typedef void (*i61_indication_handler)(void *userdata, const uint8_t *pdu, size_t len);
void i61_assoc_set_indication_handler(i61_assoc *a, i61_indication_handler h, void *userdata);

/* Sends one complete MMS PDU (a response, an unconfirmed PDU ...) without
 * waiting for anything. I61_OK, I61_ERR_NOT_CONNECTED,
 * I61_ERR_INVALID_ARGUMENT (larger than the negotiated size),
 * I61_ERR_CONNECTION_LOST. */
int i61_assoc_send(i61_assoc *a, const uint8_t *pdu, size_t len);

/* Static English text about the last connect/release failure (never NULL). */
const char *i61_assoc_error_text(const i61_assoc *a);

#endif
