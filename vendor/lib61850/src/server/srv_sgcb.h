/* Server setting group control blocks (SGCB, IEC 61850-7-2 clause 16,
 * IEC 61850-8-1 clause 16; public API: i61_server.h "setting groups") and
 * the MMS write dispatch of the control blocks that are plain data owned by
 * an engine (SGCB here, GoCB/MSVCB/USVCB in srv_gocb.h).
 *
 * Model: the SGCB of a logical device is a DO-level node "SGCB" under its
 * LLN0 whose components are DAs of FC SP (NumOfSG INT8U, ActSG INT8U,
 * EditSG INT8U, CnfEdit BOOLEAN, LActTm UtcTime, ResvTms INT16U), so
 * GetNameList, GVAA and Read see it like any variable. Their value holders
 * are written by the engine whenever its state changes (through the model
 * store, so data sets holding them report the change).
 *
 * Settings: every DA with FC SG directly below a DO/SDO of the LD when the
 * SGCB is added is a setting. The active group lives in the model (the FC
 * SG holders themselves: the application may change it with
 * i61_model_set_value), every other group in the engine, one value per
 * setting. Each setting gets an FC SE twin: a DA of the same name, type and
 * components, FC SE, beside it (so "LN$SE$DO$DA" exists). While nobody
 * edits (EditSG 0) a read of SE serves the active values (the twins are
 * refreshed from SG before a read, i61_sgcb_sync); during an edit the
 * twins hold the group being edited.
 *
 * Services are MMS writes of the SGCB components (srv_mms.c calls
 * i61_srv_cbx_write for every written variable):
 *   ActSG := n     1..NumOfSG else object-value-invalid (11); n == ActSG:
 *                  success, nothing happens (libiec61850 does the same); else
 *                  with an ACTIVATE handler the write waits for
 *                  i61_server_complete_sg (a queued event; hook timeout:
 *                  temporarily-unavailable), then the group is activated
 *                  (LActTm := now).
 *   EditSG := n    another association holds the reservation: temporarily-
 *                  unavailable (2); 0 releases; 1..NumOfSG reserves for
 *                  ResvTms s, loads group n into SE, CnfEdit := FALSE; else
 *                  object-value-invalid.
 *   CnfEdit := T   by the reserving association only (else object-access-
 *                  denied, 3, as libiec61850); with a CONFIRM handler it
 *                  waits as ActSG does; then SE -> group EditSG (-> SG when
 *                  EditSG == ActSG), CnfEdit := TRUE, the reservation is
 *                  extended by ResvTms. CnfEdit := FALSE: object-value-
 *                  invalid (libiec61850).
 *   NumOfSG, LActTm, ResvTms, the whole SGCB, alternate access into it,
 *   and writes of LLN0$SP / LLN0 as a whole: object-access-denied (3).
 *   SE variables: only the reserving association while EditSG != 0 (else
 *   temporarily-unavailable); then the ordinary write path (policy, hooks).
 * The reservation ends with EditSG := 0, when the association closes
 * (i61_srv_sgcb_conn_gone), or ResvTms seconds after the last select or
 * confirm; that deadline is checked whenever the SGCB or an SE variable is
 * touched (write, read, i61_server_get_sgcb), as srv_rcb.c does for BRCB
 * reservations, so no timer is needed.
 *
 * Deferred answers reuse the deferred-request machinery of srv_mms.c: the
 * written element gets one slot whose sev_kind is the event kind;
 * i61_req_start queues the event through i61_srv_sgcb_queue, the slot is
 * answered by i61_server_complete_sg (= i61_srv_complete) or the sweep
 * (hook timeout), and i61_req_respond applies an accepted write with
 * i61_srv_sgcb_apply.
 *
 * Threads and locks: all SGCB state is guarded by the model lock.
 */
#ifndef I61_SRV_SGCB_H
#define I61_SRV_SGCB_H
#include <stdbool.h>
#include <stdint.h>
#include "server_internal.h"

#define I61_SGCB_RESV_DEFAULT 60u   /* ResvTms (s) when the config says 0 */
#define I61_CBX_NOT_MINE (-3)       /* i61_srv_cbx_write: the ordinary write path applies */

/* Kinds of engine-owned control blocks (the first member of their state). */
enum { I61_CBX_SGCB = 1, I61_CBX_GOCB = 2, I61_CBX_MSVCB = 3, I61_CBX_USVCB = 4 };

/* Common head of struct i61_srv_sgcb and struct i61_srv_gocb: a node whose
 * cbx is set is the control block's DO-level node. */
struct i61_srv_cbx {
    int type;                       /* I61_CBX_* */
};

/* Frees the model's SGCB and GoCB/SVCB state (i61_model_free; model lock not
 * needed then). */
void i61_cbx_set_free(i61_model *m);

/* Node n is a SGCB/GoCB/SVCB or one of its components: only its engine
 * writes it (i61_model_set_value refuses). */
bool i61_cbx_owns(const i61_mnode *n);

/* Before a read of (n, fc) (model lock held): ends an expired edit
 * reservation; refreshes the SE twins from SG while nobody edits. Cheap
 * no-op for models without SGCB. */
void i61_sgcb_sync(const i61_mnode *n, int fc);

/* MMS Write of one variable e (I/O thread, model lock held, prepared
 * model): I61_CBX_NOT_MINE when the ordinary write path applies; -1 when
 * handled and done; a DataAccessError 0..11; or I61_HOOK_DEFER when the
 * write waits for a setting group handler: *sev_kind (I61_SEV_SG_*) and
 * *userdata are then those of the event to queue. mv: the variable as
 * requested (alternate access). */
int i61_srv_cbx_write(i61_sconn *c, const i61_selem *e, const i61_mms_var *mv,
                      const i61_value *value, int *sev_kind, void **userdata);

/* Queues the event of a deferred SGCB write (i61_req_start, no lock held):
 * ACTIVATE carries the written group, CONFIRM the EditSG being confirmed;
 * ref "LD/LLN0". false when the queue is full or on OOM. */
bool i61_srv_sgcb_queue(i61_server *s, uint32_t conn_id, uint64_t token, int sev_kind,
                        const i61_mnode *node, const i61_value *written, void *userdata);

/* A deferred SGCB write was accepted: applies it now (I/O thread, model lock
 * held). -1 or a DataAccessError. */
int i61_srv_sgcb_apply(i61_sconn *c, i61_mnode *node, const i61_value *value);

/* I/O thread: connection c is going away: its edit reservations end. Takes
 * the model lock. */
void i61_srv_sgcb_conn_gone(i61_server *s, i61_sconn *c);

#endif
