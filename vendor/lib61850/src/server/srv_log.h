/* Server logs: log control blocks (LCB), bounded per-log entry storage and
 * the MMS ReadJournal service (IEC 61850-7-2 clause 17.3, IEC 61850-8-1
 * clause 17.3). Public API: i61_server.h section "logs".
 *
 * Model: a log is an MMS journal of its LD's domain, item "LN$LogName"; it
 * is not a variable (struct i61_srv_log in the model's log set). An LCB is
 * a DO-level node "name" under its LN whose components are DAs of FC LG
 * (LogEna, LogRef, DatSet, OldEntrTm, NewEntrTm, OldEnt, NewEnt, TrgOps,
 * IntgPd), so GetNameList, GVAA and Read see it like any variable; the
 * component value holders are refreshed from the LCB's state before they
 * are read (i61_log_sync), MMS writes of components go to i61_srv_lcb_write.
 *
 * Entries: each log keeps its entries pre-encoded as JournalEntry TLVs
 * (i61_mms_enc_journal_entry; the same octets go into ReadJournal
 * responses and through i61_server_log_export/_import) in a ring of at
 * most max_entries. Ids count up from 1 (8 octets, big endian).
 *
 * Triggers: the model calls i61_log_on_store once per store (model lock
 * held, any thread) with the holders it replaced and their old values. An
 * enabled LCB watches its data set members (i61_log_watch lists on the
 * nodes, like srv_rcb.c); each member a store triggers (reasons merged
 * within the store) becomes one entry: the member's reference
 * "LD/LN$FC$DO$DA", its value and, with reason codes, a "ReasonCode"
 * variable (BIT STRING(7), the reason bits of reports). Time: the wall
 * clock at the store.
 *
 * Threads and locks: everything is guarded by the model lock. IntgPd is
 * driven by the I/O thread (i61_srv_log_run, called with the reporting
 * engine; the LCB writes wake it). LCBs with LogEna TRUE start logging when
 * the server starts (i61_srv_log_activate), as BRCBs start buffering.
 */
#ifndef I61_SRV_LOG_H
#define I61_SRV_LOG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "server_internal.h"

#define I61_LOG_DEFAULT_MAX 10000u    /* entries per log when the config says 0 */
#define I61_LOG_STR_MAX 129           /* LogRef, DatSet: VisibleString129 */

/* One data set member of an LCB bound to a node (an element of
 * i61_srv_lcb.watches). */
typedef struct i61_log_watch {
    struct i61_log_watch *next;     /* next watch on the same node */
    struct i61_srv_lcb *lcb;
    uint32_t index;                 /* member position in the data set */
    int fc;                         /* the member's FC (I61_FC_NONE: a whole LN) */
} i61_log_watch;

/* Frees the model's logs and LCBs (i61_model_free; before the data sets). */
void i61_log_set_free(i61_model *m);

/* Refreshes the LCB component holders at or below (n, fc) from the LCBs'
 * state (model lock held). Cheap no-op for other nodes. */
void i61_log_sync(const i61_mnode *n, int fc);

/* One model store replaced the holders nodes[0..n) whose previous values
 * are olds[i] (the model already holds every new value): logs the members
 * it triggers (model lock held). */
void i61_log_on_store(i61_model *m, i61_mnode *const *nodes, i61_value *const *olds, size_t n);

/* The server takes the model (i61_server_new): events and wake-ups. */
int i61_srv_log_attach(i61_server *s);
/* Binds every LCB with LogEna TRUE to its data set: logging starts
 * (i61_server_start; tests call it directly). Takes the model lock. */
void i61_srv_log_activate(i61_server *s);

/* MMS Write of one LCB component (I/O thread, model lock held): -1 when
 * accepted, else the DataAccessError. */
int i61_srv_lcb_write(i61_sconn *c, i61_mnode *comp, const i61_value *value);

/* I/O thread: integrity entries that are due. Returns the earliest next
 * deadline (i61_mono_ms clock), 0 if none. Takes the model lock. */
uint64_t i61_srv_log_run(i61_server *s, uint64_t now_ms);

/* The model has logs: ReadJournal is offered at Initiate. */
bool i61_srv_logs_enabled(i61_server *s);

/* GetNameList objectClass journal of domain ld: the sorted item names
 * ("LN$LogName") strictly after `after` (may be NULL), into *names
 * (malloc'ed array of pointers valid while the model lock is held).
 * Model lock held. I61_OK or I61_ERR_UNKNOWN. */
int i61_log_names(i61_model *m, const i61_mnode *ld, const char *after, const char ***names,
                  size_t *n);

/* MMS ReadJournal request (I/O thread). */
void i61_srv_read_journal(i61_sconn *c, const i61_mms_request *rq);

#endif
