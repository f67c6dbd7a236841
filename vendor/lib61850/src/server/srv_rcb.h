/* Server report control blocks and the reporting engine (IEC 61850-7-2
 * clause 17, IEC 61850-8-1 clause 17, PROTOCOL.md section 11).
 *
 * Model: an RCB is a DO-level node "name" under its LN whose components are
 * DAs of FC RP (URCB) or BR (BRCB), so that GetNameList, GVAA and Read see
 * it like any variable. The RCB's state lives in struct i61_srv_rcb; the
 * component value holders are refreshed from it before they are read
 * (i61_rcb_sync), and MMS writes of components go to i61_srv_rcb_write.
 *
 * Triggers: the model calls i61_rcb_on_change (model lock held, any thread)
 * for each value holder a store replaced, then once with NULL at the end of
 * the store. A holder triggers every bound data set member whose node is the
 * holder or one of its ancestors with the same FC (i61_rcb_watch lists on the
 * nodes: no scan of the data sets). Values are encoded straight from the model
 * into the RCB's pending report; a closed report becomes an entry: URCB
 * entries wait in a bounded queue for the I/O thread, BRCB entries stay in
 * the RCB's bounded buffer (they are sent from it and kept for resync).
 *
 * Threads and locks: all RCB state is guarded by the model lock. RCB
 * configuration is only written on the I/O thread (MMS writes, connection
 * loss), so the I/O thread may read it without the lock. Report PDUs are
 * built and appended to the owner connection's `out` only on the I/O thread
 * (i61_srv_rcb_run), which a trigger wakes at most once per batch
 * (srv->wake); BufTm and IntgPd deadlines drive one loop timer armed by the
 * glue with what i61_srv_rcb_run returns.
 */
#ifndef I61_SRV_RCB_H
#define I61_SRV_RCB_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "server_internal.h"

#define I61_RCB_URCB_QUEUE_MAX (4u << 20)  /* URCB entries waiting for a slow client */
#define I61_RCB_OUT_HIGH (512u << 10)      /* stop appending reports above this `out` size
                                              (below server.c's 1 MiB read stop) */
#define I61_RCB_BUFFER_DEFAULT 65536u      /* BRCB buffer octets when the config says 0 */
#define I61_RCB_RESV_TMS_IMPLICIT 30       /* BRCB ResvTms given by an implicit reservation */

/* One data set member bound to a node (an element of i61_srv_rcb.watches). */
typedef struct i61_rcb_watch {
    struct i61_rcb_watch *next;     /* next watch on the same node */
    struct i61_srv_rcb *rcb;
    uint32_t index;                 /* member position in the data set */
    int fc;                         /* the member's FC (I61_FC_NONE: a whole LN) */
} i61_rcb_watch;

/* Frees the model's RCBs (i61_model_free; model lock not needed then). */
void i61_rcb_set_free(i61_model *m);

/* Refreshes the value holders of the RCB components at or below (n, fc)
 * from the engine's state (model lock held). Cheap no-op for other nodes. */
void i61_rcb_sync(const i61_mnode *n, int fc);

/* The server takes the model: links the RCBs to it (i61_server_new). */
int i61_srv_rcb_attach(i61_server *s);
/* Binds every BRCB to its data set: buffering starts (i61_server_start; tests
 * call it directly). Takes the model lock. */
void i61_srv_rcb_activate(i61_server *s);

/* MMS Write of one RCB component (I/O thread, model lock held): -1 when
 * accepted, else the DataAccessError. */
int i61_srv_rcb_write(i61_sconn *c, i61_mnode *comp, const i61_value *value);

/* I/O thread: turns due work into report PDUs appended to the owners' `out`
 * (GI, integrity, BufTm expiry, queued and buffered entries). Returns the
 * earliest next deadline (i61_mono_ms clock), 0 if none. Takes the model lock. */
uint64_t i61_srv_rcb_run(i61_server *s, uint64_t now_ms);

/* I/O thread: connection c is going away (before its aa-specific data sets
 * are dropped): URCBs it owned are disabled and released, BRCBs disabled and,
 * with ResvTms > 0, kept reserved for its address for ResvTms seconds. */
void i61_srv_rcb_conn_gone(i61_server *s, i61_sconn *c);

/* Counters (also behind i61_server_reports_sent / _entries_overflowed). */
typedef struct i61_rcb_stats {
    uint64_t reports_sent;          /* report PDUs, each segment counted */
    uint64_t entries_overflowed;    /* BRCB entries dropped, buffer full */
    uint64_t urcb_dropped;          /* URCB reports dropped, client not reading */
    uint64_t members_skipped;       /* members larger than the client's PDU size */
} i61_rcb_stats;
void i61_srv_rcb_stats(i61_server *s, i61_rcb_stats *out);

#endif
