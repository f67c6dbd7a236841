/*
 * lib61850 public server API: the IEC 61850 data model (built with a C builder
 * API) and the MMS server that publishes it.
 *
 * Like i61.h this header is part of the cffi cdef (py61850/_build_ffi.py strips
 * the '#' lines and parses the rest): plain typedefs, enums with explicit
 * values, prototypes only.
 *
 * Data model
 * ----------
 *   model -> logical device (LD, an MMS domain "IEDname"+"inst" unless an
 *   explicit name is given) -> logical node (LN) -> data object (DO) ->
 *   sub data objects (SDO) / data attributes (DA). Every DA has a functional
 *   constraint (FC); constructed DAs hold DAs of the same FC; any DA may be an
 *   array (count > 0) of its type. Names follow IEC 61850-8-1: for each LN the
 *   MMS named variables LN, LN$FC (every FC that occurs in the LN),
 *   LN$FC$DO[$SDO...][$DA...]. The model is built first, then handed to a server.
 *
 * References accepted by the model functions ("ref"):
 *   client style  "LD/LN.DO.DA[.BDA...]"  with fc = the FC, or I61_FC_NONE when the
 *                 reference designates attributes of a single FC (else
 *                 I61_ERR_OBJECT_REFERENCE_INVALID: ambiguous);
 *   MMS style     "LD/LN$FC$DO$DA"         (fc ignored: it is in the name);
 *   "LD/LN" alone designates the whole LN (all FCs; fc must be I61_FC_NONE).
 *   LD is the MMS domain name (for example "IED1LD1").
 *
 * Threads: every model and server function may be called from any thread. The
 * model has one recursive lock; i61_model_lock/unlock make several updates
 * atomic for the MMS clients (the server takes the same lock to answer).
 */
#ifndef I61_SERVER_H
#define I61_SERVER_H
#include <stddef.h>
#include <stdint.h>
#include "i61.h"

/* ------------------------------------------------------------- data model */

typedef struct i61_model i61_model;
/* A node of the model (LD, LN, DO, SDO or DA). Borrowed: owned by its model. */
typedef struct i61_mnode i61_mnode;

typedef enum i61_mnode_kind {
    I61_MNODE_LD = 1,
    I61_MNODE_LN = 2,
    I61_MNODE_DO = 3,
    I61_MNODE_DA = 4
} i61_mnode_kind;

/* New empty model; NULL when out of memory or ied_name is not a valid name. */
i61_model *i61_model_new(const char *ied_name);
/* Frees a model that was not given to a server. */
void i61_model_free(i61_model *m);

/* Logical device `inst`; its MMS domain is ied_name+inst, or ld_name when not
 * NULL. out (may be NULL) receives the node. I61_ERR_OBJECT_EXISTS when the
 * domain exists, I61_ERR_INVALID_ARGUMENT for a bad name. */
int i61_model_add_ld(i61_model *m, const char *inst, const char *ld_name, i61_mnode **out);
/* Logical node `name` (for example "GGIO1", "LLN0") in a logical device. */
int i61_model_add_ln(i61_mnode *ld, const char *name, i61_mnode **out);
/* Data object in a LN, or sub data object in a DO. */
int i61_model_add_do(i61_mnode *parent, const char *name, i61_mnode **out);
/* Data attribute in a DO/SDO, or component of a constructed DA.
 *  fc:    its functional constraint (inside a constructed DA: I61_FC_NONE or
 *         the parent's FC);
 *  type:  an i61_type value: I61_TYPE_STRUCTURE for a constructed attribute
 *         (add its components with this function), or a basic type
 *         (BOOLEAN ... UTC_TIME; not OBJ_ID, not DATA_ACCESS_ERROR);
 *  size:  as in i61_typespec_size: INTEGER/UNSIGNED bits (8, 16, 32, 64; for
 *         UNSIGNED also 24...), FLOAT 32 or 64, BIT/OCTET/VISIBLE/MMS STRING
 *         size (negative = variable length, at most -size), BINARY_TIME 6 (with
 *         date) or 4, ignored for the others;
 *  count: 0 for a single attribute, n > 0 for an array of n elements.
 * The attribute starts with the type's zero value (false, 0, 0.0, empty
 * string, all-zero bit string of |size| bits, zero time).
 * I61_ERR_INVALID_ARGUMENT for a bad name/type/size, I61_ERR_OBJECT_EXISTS
 * for a duplicate name, I61_ERR_TYPE_UNSUPPORTED for OBJ_ID. */
int i61_model_add_da(i61_mnode *parent, const char *name, int fc, int type, int size,
                     int count, i61_mnode **out);

int i61_mnode_kind_of(const i61_mnode *n);
const char *i61_mnode_name(const i61_mnode *n);
/* FC of a DA, I61_FC_NONE for the other nodes. */
int i61_mnode_fc(const i61_mnode *n);

/* Lock/unlock the model (recursive). Use around several updates that MMS
 * clients must see together. The server's I/O thread takes the same lock to
 * answer every read/write, so while it is held no association is served:
 * keep the section short, and never wait inside it for something the I/O
 * thread must do (for example a client request to this very server). */
void i61_model_lock(i61_model *m);
void i61_model_unlock(i61_model *m);

/* Finds the node a reference designates; *fc_out (may be NULL) receives the
 * resolved FC (I61_FC_NONE for a whole LN). I61_ERR_OBJECT_DOES_NOT_EXIST,
 * I61_ERR_OBJECT_REFERENCE_INVALID (bad syntax, or FC needed but not given). */
int i61_model_find(i61_model *m, const char *ref, int fc, i61_mnode **node, int *fc_out);

/* Sets the value of the data the reference designates (a leaf attribute, a
 * constructed attribute, an array, or a DO restricted to one FC: then a
 * structure of its attributes of that FC in model order). The value is copied.
 * No access policy applies (the application may write any FC).
 * I61_ERR_TYPE_INCONSISTENT when the value does not match the model type. */
int i61_model_set_value(i61_model *m, const char *ref, int fc, const i61_value *v);
/* Current value; *out: caller frees with i61_value_free. */
int i61_model_get_value(i61_model *m, const char *ref, int fc, i61_value **out);
/* The same for a node handle and FC (no parsing: the fast path for updates). */
int i61_model_set_node_value(i61_model *m, i61_mnode *n, int fc, const i61_value *v);
int i61_model_get_node_value(i61_model *m, i61_mnode *n, int fc, i61_value **out);
/* MMS type specification of the data a reference designates. Caller frees. */
int i61_model_get_typespec(i61_model *m, const char *ref, int fc, i61_typespec **out);

/* ------------------------------------------------------------ data sets
 * Persistent data set of the model: a domain-specific MMS named variable list
 * that clients cannot delete. ref "LD/LN.name" or "LD/LN$name" (the LN must
 * exist); members: n references "LD/LN.DO[.DA...][FC]" or MMS style
 * "LD/LN$FC$DO$DA", each must exist in the model (build the data first).
 * I61_ERR_OBJECT_EXISTS, I61_ERR_OBJECT_DOES_NOT_EXIST (the LD/LN or a member),
 * I61_ERR_OBJECT_REFERENCE_INVALID (syntax), I61_ERR_INVALID_ARGUMENT (n == 0). */
int i61_model_add_dataset(i61_model *m, const char *ref, const char *const *members, size_t n);
/* Data sets held by the model now (all scopes, client-defined ones included). */
int i61_model_dataset_count(i61_model *m);
/* -------------------------------------------------------- end data sets */

/* --------------------------------------------------- report control blocks
 *
 * An RCB of the model: MMS variable LN$RP$name (unbuffered) or LN$BR$name
 * (buffered) whose components are, in this order (PROTOCOL.md section 11):
 *   URCB: RptID, RptEna, Resv, DatSet, ConfRev, OptFlds, BufTm, SqNum, TrgOps,
 *         IntgPd, GI, [Owner]
 *   BRCB: RptID, RptEna, DatSet, ConfRev, OptFlds, BufTm, SqNum, TrgOps,
 *         IntgPd, GI, PurgeBuf, EntryID, TimeofEntry, [ResvTms], [Owner]
 * They are read with MMS Read like any variable and written with MMS Write,
 * which the server checks against the RCB rules (reservation, attributes
 * writable only while disabled, ...). Masks are the i61_trg_ops /
 * i61_opt_flds values of i61.h. */
typedef struct i61_rcb_config {
    const char *rpt_id;      /* NULL or "": reports carry the RCB reference */
    const char *dataset;     /* "LD/LN$name", "LD/LN.name", or NULL/"" (none) */
    uint32_t conf_rev;
    uint32_t opt_flds;       /* i61_opt_flds mask */
    uint32_t trg_ops;        /* i61_trg_ops mask */
    uint32_t buf_tm;         /* ms */
    uint32_t intg_pd;        /* ms */
    uint32_t buffer_size;    /* BRCB: octets of buffered report entries (0 = 65536) */
    int with_owner;          /* expose Owner (Ed2) */
    int with_resv_tms;       /* BRCB: expose ResvTms (Ed2) */
} i61_rcb_config;

/* Adds RCB `name` to the LN designated by ln_ref ("LD/LN"). The data set
 * must exist when given. I61_ERR_OBJECT_EXISTS, I61_ERR_OBJECT_DOES_NOT_EXIST
 * (LN or data set), I61_ERR_INVALID_ARGUMENT (bad name, rpt_id longer than
 * 129 characters). */
int i61_model_add_rcb(i61_model *m, const char *ln_ref, const char *name, int buffered,
                      const i61_rcb_config *cfg);

/* Trigger options of a data attribute (IEC 61850-7-3 dchg/qchg/dupd, as a
 * mask of I61_TRG_DCHG|QCHG|DUPD) for every value holder at or below node n.
 * Without a call, an attribute named "q" is qchg, "t" triggers nothing, any
 * other attribute is dchg. A value stored with the same value it had is a
 * dupd, a different value a dchg/qchg. */
int i61_model_set_trigger_options(i61_mnode *n, int fc, uint32_t mask);

/* ---------------------------------------------- end report control blocks */

/* ----------------------------------------------------------------- server */

typedef struct i61_server i61_server;

/* A server publishing `model`. The server takes ownership of the model (it is
 * freed by i61_server_free), also when NULL is returned. */
i61_server *i61_server_new(i61_model *model);
/* Stops the server if running and frees it and its model. Must not be called
 * from a server callback, nor while another thread is inside
 * i61_server_next_event (interrupt it and join that thread first). Queued
 * events not taken yet are freed; events already taken stay valid until
 * i61_server_event_free. */
void i61_server_free(i61_server *s);
/* The model (borrowed, valid until i61_server_free). */
i61_model *i61_server_model(i61_server *s);

/* Identify answer (copied). Defaults "lib61850", "lib61850 server", i61_version(). */
int i61_server_set_identity(i61_server *s, const char *vendor, const char *model,
                            const char *revision);
/* Limits; take effect for the next start (connections) or the next
 * association (PDU size, outstanding requests). */
void i61_server_set_max_connections(i61_server *s, int n);        /* default 100 */
void i61_server_set_max_pdu_size(i61_server *s, uint32_t octets); /* default 65000; 512..65000 */
void i61_server_set_max_outstanding(i61_server *s, int n);        /* default 10 */
/* A connection that has not completed the association handshake after
 * handshake_ms, or that sends nothing for idle_ms once associated (0 = never),
 * is closed. Defaults 10000 / 0. */
void i61_server_set_timeouts(i61_server *s, uint32_t handshake_ms, uint32_t idle_ms);
/* Time a deferred read/write hook may take before the server answers the
 * request itself with temporarily-unavailable (default 10000 ms). */
void i61_server_set_hook_timeout(i61_server *s, uint32_t ms);
/* Write access policy per FC for MMS Write. Defaults: SP, SV, SE allowed;
 * CF, DC, SG, SR, OR, BL, EX denied. ST, MX are never writable, CO, RP, BR,
 * LG, GO, US, MS only through their services (I61_ERR_ACCESS_DENIED if asked). */
int i61_server_set_write_access(i61_server *s, int fc, int allow);

/* Listens on host:port (host NULL or "" = all interfaces, port 0 = ephemeral)
 * and serves on the library's I/O thread. I61_ERR_ALREADY_CONNECTED when
 * running, I61_ERR_INVALID_ARGUMENT (host does not resolve), I61_ERR_UNKNOWN
 * (socket error: port in use, ...). */
int i61_server_start(i61_server *s, const char *host, int port);
/* The bound TCP port while running, else 0. */
int i61_server_port(const i61_server *s);
/* Closes every association and the listening socket; returns when no server
 * callback runs any more. Pending deferred requests are dropped. */
int i61_server_stop(i61_server *s);
int i61_server_is_running(const i61_server *s);
/* Associations currently open (TCP connections accepted and not yet closed). */
int i61_server_connection_count(const i61_server *s);

/* Connection events, called on the I/O thread (must not block; must not call
 * i61_server_stop/free). peer = "address:port" of the client. connected = 1
 * when the TCP connection is accepted, 0 when it is closed. */
typedef void (*i61_connection_handler)(void *userdata, uint32_t conn_id, const char *peer,
                                       int connected);
void i61_server_set_connection_handler(i61_server *s, i61_connection_handler h,
                                       void *userdata);

/* ------------------------------------------------ deferred read/write hooks
 *
 * A hook is registered on a model object (a reference and FC as for the model
 * functions); it covers MMS reads/writes of that object, of anything inside it,
 * and of any variable containing it. Objects without a hook are answered at
 * once from the model (the fast path).
 *
 * A hook is called on the I/O thread with a token and must return quickly:
 *  - I61_HOOK_ACCEPT: accept now (for a write the server then stores the value),
 *  - a DataAccessError code 0..11: refuse now with that error,
 *  - I61_HOOK_DEFER: answer later, from any thread, with
 *    i61_server_complete_write / i61_server_complete_read(token, result).
 * Meanwhile the association keeps serving other requests (up to its
 * max-outstanding limit) and every other association is unaffected.
 * ref is the written/read variable in client style ("LD/LN.DO.DA"; "LD/LN" for
 * a whole LN) and fc its FC (I61_FC_NONE for a whole LN); value (write) is the
 * value being written, borrowed for the duration of the call. The MMS response
 * is sent once every hook of every variable of the request has answered. */
typedef enum i61_hook_result {
    I61_HOOK_DEFER = -2,
    I61_HOOK_ACCEPT = -1
} i61_hook_result;

typedef int (*i61_write_hook)(void *userdata, uint64_t token, uint32_t conn_id,
                              const char *ref, int fc, const i61_value *value);
typedef int (*i61_read_hook)(void *userdata, uint64_t token, uint32_t conn_id,
                             const char *ref, int fc);

/* h NULL removes the hook. One hook of each kind per object. */
int i61_server_set_write_hook(i61_server *s, const char *ref, int fc, i61_write_hook h,
                              void *userdata);
int i61_server_set_read_hook(i61_server *s, const char *ref, int fc, i61_read_hook h,
                             void *userdata);
/* result: I61_HOOK_ACCEPT or a DataAccessError 0..11. I61_OK;
 * I61_ERR_OBJECT_DOES_NOT_EXIST for an unknown token, one already completed,
 * or one the server already answered itself (hook timeout: the client got
 * temporarily-unavailable); I61_ERR_CONNECTION_LOST when the association is
 * gone (nothing is applied); I61_ERR_INVALID_ARGUMENT for a bad result. */
int i61_server_complete_write(i61_server *s, uint64_t token, int result);
int i61_server_complete_read(i61_server *s, uint64_t token, int result);

/* ---------------------------------------------------------- event queue
 *
 * Pull-style alternative to the C hooks, for bindings whose callbacks must not
 * run on the I/O thread (Python): a queued hook defers the request and queues
 * an event; a thread of the application takes events with
 * i61_server_next_event and answers with i61_server_complete_*. The queue is
 * bounded: when it is full a queued read/write is refused at once with
 * temporarily-unavailable and connection events are dropped (both counted). */
typedef enum i61_server_event_kind {
    I61_SEV_CONNECTED = 1,      /* ref = peer "address:port" */
    I61_SEV_DISCONNECTED = 2,   /* ref = peer */
    I61_SEV_WRITE = 3,          /* token, ref, fc, value, userdata */
    I61_SEV_READ = 4,           /* token, ref, fc, userdata */
    I61_SEV_CONTROL_CHECK = 5,  /* token, ref (the DO), fc CO, value, ctl, userdata */
    I61_SEV_CONTROL_WAIT = 6,   /* same fields */
    I61_SEV_CONTROL_OPERATE = 7 /* same fields */
} i61_server_event_kind;

/* Parameters of a control command (control events, see "control" below). */
typedef struct i61_control_action {
    int ctl_model;              /* 0..4 (status-only ... sbo-with-enhanced-security) */
    int ctl_num;                /* ctlNum 0..255 */
    int or_cat;                 /* origin.orCat 0..8 (other values as received) */
    uint32_t or_ident_len;      /* octets of or_ident used (at most 64) */
    uint8_t or_ident[64];       /* origin.orIdent */
    uint8_t t[8];               /* T: UtcTime octets as received */
    int has_oper_tm;            /* the command carries operTm (time-activated) */
    uint8_t oper_tm[8];         /* operTm: UtcTime octets */
    int test;                   /* Test */
    int interlock_check;        /* Check bit 1 */
    int synchro_check;          /* Check bit 0 */
    int is_select;              /* CHECK of a select (SBO read, SBOw write) */
    char peer[64];              /* the client's "address:port" */
} i61_control_action;

typedef struct i61_server_event {
    int kind;
    uint32_t conn_id;
    uint64_t token;
    int fc;
    void *userdata;             /* given when the hook was registered */
    i61_value *value;           /* WRITE: the value being written; CONTROL_*: ctlVal
                                   (NULL for the CHECK of an sbo-normal select);
                                   owned by the event */
    char ref[132];              /* CONTROL_*: the DO "LD/LN.DO" */
    i61_control_action ctl;     /* CONTROL_* events only (zero otherwise) */
} i61_server_event;

/* Queued hooks (same coverage rules as the C hooks). on: 1 sets, 0 removes.
 * An object has at most one read and one write hook: a queued hook replaces a
 * C hook of the same kind and vice versa. */
int i61_server_set_queued_write_hook(i61_server *s, const char *ref, int fc, int on,
                                     void *userdata);
int i61_server_set_queued_read_hook(i61_server *s, const char *ref, int fc, int on,
                                    void *userdata);
/* Also queue CONNECTED/DISCONNECTED events (default off). */
void i61_server_set_queue_connection_events(i61_server *s, int on);
/* Bound of the queue (default 4096 events). */
void i61_server_set_event_queue_size(i61_server *s, uint32_t n);
/* Waits up to timeout_ms for the next event: I61_OK with *out (free with
 * i61_server_event_free), I61_ERR_TIMEOUT, or I61_ERR_NOT_CONNECTED once
 * i61_server_interrupt_events was called and the queue is empty. */
int i61_server_next_event(i61_server *s, uint32_t timeout_ms, i61_server_event **out);
void i61_server_event_free(i61_server_event *e);
/* Makes i61_server_next_event return I61_ERR_NOT_CONNECTED (instead of
 * waiting) until the next i61_server_start: lets a dispatcher thread finish. */
void i61_server_interrupt_events(i61_server *s);
/* Events refused or dropped because the queue was full. */
uint64_t i61_server_events_dropped(i61_server *s);

/* ----------------------------------------------------------------- control
 *
 * Controllable data objects (IEC 61850-7-2 control model, IEC 61850-8-1
 * mapping, PROTOCOL.md section 12). A DO is controllable when it has a CO
 * structure "Oper" (ctlVal, [operTm], origin, ctlNum, T, Test, Check); its
 * model comes from its CF attributes ctlModel (0 status-only, 1 direct-normal,
 * 2 sbo-normal, 3 direct-enhanced, 4 sbo-enhanced; 1 when absent), sboTimeout
 * (ms; 30000 when absent or 0) and sboClass (0 operate-once, 1 operate-many;
 * 0 when absent), read when a command starts (so the application may change
 * them in the model), unless i61_model_set_control declared them. The MMS
 * side: Write Oper (operate), Read SBO (sbo-normal select: the value is
 * "LD/LN$CO$DO$SBO", or "" when refused), Write SBOw (sbo-enhanced select),
 * Write Cancel. A refused Write is a LastApplError InformationReport (with the
 * AddCause) followed by the negative Write response (object-access-denied,
 * or temporarily-unavailable when the object is busy or selected by another
 * association), in every control model. Enhanced models send
 * CommandTermination+ after a successful operate and CommandTermination-
 * (with LastApplError) when it fails after the positive response. A
 * status-only object refuses every command (object-access-denied, no
 * LastApplError; nothing changes). srv_control.h lists every answer.
 *
 * Stages of a command, each answered by a handler or accepted at once:
 *   CHECK    static tests (interlocking ...): at select (is_select = 1) and at
 *            operate, before the Write/Read response;
 *   WAIT     dynamic tests (synchrocheck ...): at operate, after CHECK
 *            (enhanced models: after the positive Write response, a refusal
 *            is a CommandTermination-);
 *   OPERATE  the execution. Normal models answer the Write after it;
 *            enhanced models send CommandTermination+/- after it.
 * A time-activated operate (operTm in the future) is answered after CHECK and
 * executed (WAIT, OPERATE) at operTm. Cancel ends a selection or a
 * time-activated operate still waiting.
 * On success the server stores in the model (when the DO has them): stVal [ST]
 * := ctlVal (a BOOLEAN ctlVal becomes Dbpos on 10 / off 01 for a 2-bit stVal;
 * for an APC mxVal [MX] := ctlVal) with t of the same FC := now, unless in
 * test mode or auto_update is off; ctlNum and origin [ST] := the command's
 * (also at a select); stSeld [ST] follows the selection.
 *
 * Handlers go through the event queue: a stage with a handler queues an
 * I61_SEV_CONTROL_CHECK / _WAIT / _OPERATE event (token, ref = the DO,
 * value = ctlVal, ctl = the command's parameters) and the command waits for
 * i61_server_complete_control from any thread (the association keeps serving
 * other requests). A handler that does not answer within the hook timeout
 * (i61_server_set_hook_timeout) refuses with AddCause 16 time-limit-over.
 */
typedef enum i61_control_stage {
    I61_CONTROL_STAGE_CHECK = 1,
    I61_CONTROL_STAGE_WAIT = 2,
    I61_CONTROL_STAGE_OPERATE = 4
} i61_control_stage;

/* Declares (or re-declares) DO `do_ref` ("LD/LN.DO") controllable with this
 * model (0..4), sboTimeout (ms, 0 = 30000) and sboClass (0 operate-once,
 * 1 operate-many); also writes ctlModel/sboTimeout/sboClass [CF] when the DO
 * has them. The DO must have CO Oper unless ctl_model is 0.
 * I61_ERR_OBJECT_DOES_NOT_EXIST, I61_ERR_OBJECT_REFERENCE_INVALID,
 * I61_ERR_INVALID_ARGUMENT (model out of range, no Oper). */
int i61_model_set_control(i61_model *m, const char *do_ref, int ctl_model,
                          uint32_t sbo_timeout_ms, int sbo_class);

/* Queued handlers of a controllable DO: stages = mask of
 * I61_CONTROL_STAGE_* whose events are queued (0 removes them all; stages not
 * in the mask accept at once). auto_update: on a successful operate (not in
 * test mode) also store stVal := ctlVal (with no OPERATE handler it is always
 * done). userdata comes back in the events. I61_ERR_OBJECT_DOES_NOT_EXIST
 * when the DO is not controllable (no CO Oper). */
int i61_server_set_control_handler(i61_server *s, const char *do_ref, uint32_t stages,
                                   int auto_update, void *userdata);

/* Answers a control event: add_cause -1 (I61_HOOK_ACCEPT) accepts, 0..255
 * refuses with that AddCause (IEC 61850-7-2: 10 blocked-by-interlocking,
 * 11 blocked-by-synchrocheck, ...). Same return codes as
 * i61_server_complete_write. */
int i61_server_complete_control(i61_server *s, uint64_t token, int add_cause);

/* The control model the server applies to a DO now (0..4), or -1 when the DO
 * is not controllable or the reference unknown. */
int i61_server_control_model(i61_server *s, const char *do_ref);
/* ------------------------------------------------------------- end control */

/* Reports sent by the server (report PDUs, segments counted once each) and
 * BRCB entries dropped because a buffer was full. */
uint64_t i61_server_reports_sent(i61_server *s);
uint64_t i61_server_report_entries_overflowed(i61_server *s);
/* URCB reports dropped because their client did not read them fast enough
 * (more than 4 MiB waiting); the client sees a gap in SqNum. */
uint64_t i61_server_reports_dropped(i61_server *s);

/* ------------------------------------------------------------------ files
 *
 * File store: the MMS file services (IEC 61850 GetFile = FileOpen/FileRead/
 * FileClose, SetFile = ObtainFile, DeleteFile = FileDelete,
 * GetFileAttributeValues = FileDirectory, and FileRename) over a directory of
 * the host, the root. Without a file store the server answers every file
 * service with a RejectPDU (unrecognized-service), as before.
 *
 * Names. A client's FileName (its GraphicString components joined with "/")
 * is resolved under the root, component by component, never following a
 * symbolic link (a link is neither listed nor opened). Refused with the MMS
 * file error file-access-denied (6): "..", "." and empty components, names
 * starting with "/" (except "/" alone, the root, for FileDirectory),
 * components starting with ".i61-obtain-" (reserved for ObtainFile),
 * NUL/control characters or "\", names longer than I61_FILE_NAME_MAX
 * octets. Only regular files are opened, deleted, renamed or written
 * (a directory, link, FIFO or device: file-access-denied). A name that does
 * not exist is file-non-existent (7). Nothing outside the root is ever
 * opened, listed, written or removed.
 *
 * FileDirectory (as libiec61850's server): the listing of a directory is
 * recursive, regular files only, each named by its path from the root (so
 * that it can be opened as listed: "sub" lists "sub/nested.txt"), sorted by
 * name (bytewise), at most I61_FILE_DIR_MAX_DEPTH levels deep; a single
 * file's name lists that file; no fileSpecification, "" or "/" lists the
 * root (a trailing "/" is accepted here only). continueAfter resumes after
 * the given name; moreFollows is set when the PDU is full. One request
 * looks at most at 1000000 directory entries (beyond: file error other).
 * FileOpen/FileRead/FileClose: at most max_open_files files open per
 * association (FileOpen beyond: file-busy, 2); they are closed when the
 * association ends. FileRead sends chunks as large as the negotiated PDU
 * size allows, read from the file when asked (never the whole file in
 * memory, disk reads on the I/O thread). sizeOfFile is an Unsigned32: files
 * of 4 GiB and more are refused at FileOpen with file-access-denied and
 * listed with size 4294967295.
 * FileDelete: a regular file. FileRename: a regular file to a name that
 * does not exist yet (else duplicate-filename, 8), in any directory of the
 * store.
 * ObtainFile: the server reads sourceFile from the client over the same
 * association (its own FileOpen/FileRead/FileClose requests, invoke ids
 * 1, 2, 3 ... per association), writes it into a hidden temporary file
 * (".i61-obtain-*", never listed) in destinationFile's directory (which must
 * exist) and renames it into place when complete, replacing a regular file
 * of that name; any failure (an error from the client, the association
 * lost, no answer within the hook timeout, disk full, a sourceFileServer
 * given) removes the temporary file and answers the ObtainFile with an
 * error (the client's file error when it sent one). One ObtainFile at a
 * time per association (another one meanwhile: file-busy).
 * Dates: lastModified is the file's mtime as GeneralizedTime in UTC
 * ("YYYYMMDDhhmmss.mmmZ").
 */
#define I61_FILE_NAME_MAX 255
#define I61_FILE_DIR_MAX_DEPTH 16

/* Roots the file store at directory `dir` (an existing directory; it is
 * opened now and used until replaced), or removes it (dir NULL). May be
 * called while running: operations in progress finish on the old root.
 * I61_ERR_INVALID_ARGUMENT when dir is not a directory that can be opened. */
int i61_server_set_filestore(i61_server *s, const char *dir);
/* Files open at once per association (FileOpen), default 8, 1..1024; for
 * the associations that use a file service for the first time afterwards. */
void i61_server_set_max_open_files(i61_server *s, int n);

/* File operations an application can allow or deny. */
typedef enum i61_file_op {
    I61_FILE_OP_OPEN = 1,       /* FileOpen (a download starts) */
    I61_FILE_OP_DELETE = 2,     /* FileDelete */
    I61_FILE_OP_RENAME = 3,     /* FileRename: path -> new_path */
    I61_FILE_OP_DIRECTORY = 4,  /* FileDirectory (path "" = the root) */
    I61_FILE_OP_OBTAIN = 5      /* ObtainFile: new_path = destination, path = the
                                   client's source file name */
} i61_file_op;

/* Event kind of a queued file operation (i61_server_next_event): token,
 * conn_id, userdata; fc = the i61_file_op; the names through
 * i61_server_event_file_path / _new_path (ref holds the path when it fits). */
typedef enum i61_file_event_kind {
    I61_SEV_FILE = 8
} i61_file_event_kind;

/* MMS file error codes (ServiceError class file [11]). */
typedef enum i61_file_error {
    I61_FILE_ERR_OTHER = 0,
    I61_FILE_ERR_FILENAME_AMBIGUOUS = 1,
    I61_FILE_ERR_FILE_BUSY = 2,
    I61_FILE_ERR_FILENAME_SYNTAX = 3,
    I61_FILE_ERR_CONTENT_TYPE_INVALID = 4,
    I61_FILE_ERR_POSITION_INVALID = 5,
    I61_FILE_ERR_ACCESS_DENIED = 6,
    I61_FILE_ERR_NON_EXISTENT = 7,
    I61_FILE_ERR_DUPLICATE_FILENAME = 8,
    I61_FILE_ERR_INSUFFICIENT_SPACE = 9
} i61_file_error;

/* A C hook on file operations, called on the I/O thread (must not block)
 * after the names were checked against the sandbox: returns I61_HOOK_ACCEPT,
 * an i61_file_error to refuse, or I61_HOOK_DEFER to answer later with
 * i61_server_complete_file. path/new_path are relative to the root ("" = the
 * root; new_path "" when the operation has none). */
typedef int (*i61_file_hook)(void *userdata, uint64_t token, uint32_t conn_id, int op,
                             const char *path, const char *new_path);
/* h NULL removes it. Replaces a queued file hook. */
void i61_server_set_file_hook(i61_server *s, i61_file_hook h, void *userdata);
/* Queued file hook (on 1 sets, 0 removes): every file operation queues an
 * I61_SEV_FILE event and waits for i61_server_complete_file (up to the hook
 * timeout: then it is refused with file-access-denied). FileRead and
 * FileClose of an allowed FileOpen are not asked again. A full event queue
 * refuses with file-busy. Replaces a C file hook. */
void i61_server_set_queued_file_hook(i61_server *s, int on, void *userdata);
/* result: I61_HOOK_ACCEPT or an i61_file_error (0..9). Return codes as
 * i61_server_complete_write. */
int i61_server_complete_file(i61_server *s, uint64_t token, int result);
/* The names of an I61_SEV_FILE event (never NULL; "" for other events). */
const char *i61_server_event_file_path(const i61_server_event *e);
const char *i61_server_event_file_new_path(const i61_server_event *e);

/* Counters of the file services since the server was created. */
typedef struct i61_server_file_stats {
    uint64_t opened;            /* successful FileOpen */
    uint64_t octets_read;       /* file data sent in FileRead responses */
    uint64_t deleted;
    uint64_t renamed;
    uint64_t obtained;          /* ObtainFile completed */
    uint64_t octets_obtained;   /* file data received by ObtainFile */
    uint64_t refused;           /* file requests answered with an error */
    uint32_t open_now;          /* files open now, all associations */
} i61_server_file_stats;
void i61_server_get_file_stats(i61_server *s, i61_server_file_stats *out);
/* ------------------------------------------------------------- end files */

/* ------------------------------------------------------------------- logs
 *
 * A log (MMS journal "LD" / "LN$LogName") holds entries; a log control
 * block (LCB, LN$LG$name) decides what goes in: when LogEna is TRUE, a change
 * of a member of its data set through the model (i61_model_set_value and
 * friends, or an MMS Write) matching its TrgOps (dchg, qchg, dupd, from the
 * attributes' trigger options) adds one entry with that member's reference,
 * value and ReasonCode; IntgPd > 0 with TrgOps integrity adds an entry with
 * every member each period. Entry ids count up from 1 (8 octets big
 * endian); a log keeps at most max_entries (oldest dropped first). The LCB's
 * OldEntrTm/NewEntrTm/OldEnt/NewEnt always describe the log it writes to.
 *
 * LCB writes (MMS): LogEna, DatSet, TrgOps, IntgPd and LogRef; DatSet,
 * TrgOps, IntgPd and LogRef only while LogEna is FALSE (else
 * temporarily-unavailable); the others object-access-denied. A DatSet that
 * does not exist, or a LogRef naming no log: object-value-invalid.
 *
 * ReadJournal is answered from the log: by time range, after an entry, or
 * numberOfEntries, in entry order, as many entries as fit the client's PDU
 * size, with moreFollows. An unknown journal: object-non-existent (131).
 * entryToStartAfter: entries after that entry whose time is also not before
 * its timeSpecification. numberOfEntries <= 0 gives no entries.
 *
 * Logging starts when the server starts (values set while the model is built
 * are not logged, as BRCBs do not buffer them). LogEna TRUE while the DatSet
 * or LogRef does not resolve: temporarily-unavailable. Entries added with
 * i61_server_log_import queue no log event.
 */

typedef struct i61_lcb_config {
    const char *dataset;     /* "LD/LN$name" / "LD/LN.name", NULL or "" = none */
    const char *log_ref;     /* "LD/LN$LogName" (the log, see i61_model_add_log) */
    uint32_t trg_ops;        /* I61_TRG_DCHG | _QCHG | _DUPD | _INTEGRITY */
    uint32_t intg_pd;        /* ms, 0 = none */
    int log_ena;             /* LogEna at start */
    int reason_code;         /* entries carry a ReasonCode variable */
} i61_lcb_config;

/* Adds log `name` to the LN ln_ref ("LD/LN"), holding at most max_entries
 * (0 = 10000). */
int i61_model_add_log(i61_model *m, const char *ln_ref, const char *name, uint32_t max_entries);
/* Adds LCB `name` to the LN ln_ref. The log must have been added before. */
int i61_model_add_lcb(i61_model *m, const char *ln_ref, const char *name,
                      const i61_lcb_config *cfg);

typedef struct i61_log_info {
    uint64_t count;          /* entries held now */
    uint64_t oldest_id;      /* 0 when empty */
    uint64_t newest_id;      /* 0 when empty; also the last id ever given */
    int64_t oldest_ms;       /* 0 when empty */
    int64_t newest_ms;
    uint64_t dropped;        /* entries dropped because the log was full */
} i61_log_info;
int i61_server_log_info(i61_server *s, const char *log_ref, i61_log_info *out);

/* Entries with id > after_id, oldest first, as consecutive JournalEntry TLVs
 * (the encoding inside a ReadJournal response) into buf: as many whole
 * entries as fit in cap octets. *used octets, *n entries, *last_id the id of
 * the last one copied (after_id when none). When the next entry alone is
 * larger than cap: I61_ERR_INVALID_ARGUMENT with *used = its size. */
int i61_server_log_export(i61_server *s, const char *log_ref, uint64_t after_id, uint8_t *buf,
                          size_t cap, size_t *used, size_t *n, uint64_t *last_id);
/* Adds entries (JournalEntry TLVs as export gives them; ids 8 octets) to a
 * log, for reloading a stored log before or after start. Entries whose id is
 * not above the log's newest id are skipped; later entries keep counting
 * from the largest id. *n (may be NULL) = entries added. A malformed entry:
 * I61_ERR_MALFORMED_MESSAGE (the entries before it stay). */
int i61_server_log_import(i61_server *s, const char *log_ref, const uint8_t *data, size_t len,
                          size_t *n);

/* Queued event when a log got entries (i61_server_next_event): ref = the log
 * reference "LD/LN$LogName", userdata as given. At most one such event per
 * log is pending: the next is queued only after i61_server_log_export was
 * called for that log. on 1 sets, 0 removes. */
typedef enum i61_log_event_kind {
    I61_SEV_LOG = 9
} i61_log_event_kind;
int i61_server_set_log_events(i61_server *s, const char *log_ref, int on, void *userdata);
/* --------------------------------------------------------------- end logs */

/* ---------------------------------------------------------- setting groups
 *
 * The SGCB of a logical device (LLN0$SP$SGCB: NumOfSG, ActSG, EditSG,
 * CnfEdit, LActTm, ResvTms) and the values of its setting groups. Every data
 * attribute with FC SG in that LD has one value per group
 * (i61_model_set_sg_value); FC SG shows the active group, and the server
 * creates the FC SE twin of each (LN$SE$...) that shows the group being
 * edited.
 *
 * Services (MMS writes to the SGCB):
 *  - ActSG := n (SelectActiveSG): 1..NumOfSG else object-value-invalid; after
 *    the activate handler (if any) accepts, the group's values become the SG
 *    values, ActSG = n and LActTm = now.
 *  - EditSG := n (SelectEditSG): 1..NumOfSG reserves the SGCB for this
 *    association (another association holding it: temporarily-unavailable)
 *    for ResvTms seconds, loads group n into SE and sets CnfEdit FALSE;
 *    0 releases the reservation. The reservation also ends when the
 *    association closes or ResvTms passes without a confirm.
 *  - SE writes: only by the reserving association while EditSG != 0 (else
 *    temporarily-unavailable).
 *  - CnfEdit := TRUE (ConfirmEditSGValues): by the reserving association;
 *    after the confirm handler (if any) accepts, the SE values become group
 *    EditSG's values (and the SG values when EditSG == ActSG), and the
 *    reservation ends: EditSG reads 0 again, CnfEdit stays TRUE (as
 *    libiec61850 and the Rust server do).
 *  - NumOfSG, LActTm, ResvTms: object-access-denied.
 */

/* SGCB on LN ln_ref ("LD/LLN0"). resv_tms_s: edit reservation time in
 * seconds (0 = 60); it is exposed as ResvTms. All groups start with the
 * model's current SG values. */
int i61_model_add_sgcb(i61_model *m, const char *ln_ref, int num_of_sg, int act_sg,
                       uint32_t resv_tms_s);
/* Value of data attribute ref ("LD/LN.DO.DA", FC SG) in group sg (1..N);
 * for the active group this also sets the SG value. */
int i61_model_set_sg_value(i61_model *m, const char *ref, int sg, const i61_value *v);
/* *out: caller frees. */
int i61_model_get_sg_value(i61_model *m, const char *ref, int sg, i61_value **out);

typedef struct i61_sgcb_state {
    int num_of_sg;
    int act_sg;
    int edit_sg;
    int cnf_edit;
    int64_t lact_tm_ms;      /* ms since 1970 UTC */
    uint32_t resv_tms_s;
    uint32_t edit_conn_id;   /* association holding the edit reservation, 0 = none */
} i61_sgcb_state;
/* ld: "LD" (the LD inst) or "LD/LLN0". */
int i61_server_get_sgcb(i61_server *s, const char *ld, i61_sgcb_state *out);
/* Switches the active group locally (no handler). */
int i61_server_select_active_sg(i61_server *s, const char *ld, int sg);

/* Queued setting group handlers (i61_server_next_event). ACTIVATE: a client
 * selects ActSG (value: the new group, UNSIGNED); CONFIRM: a client confirms
 * an edit (value: EditSG). ref = "LD/LLN0" of the SGCB. The request is
 * answered when i61_server_complete_sg is called with I61_HOOK_ACCEPT or a
 * DataAccessError (0..11), or after the hook timeout (temporarily-
 * unavailable). mask: 1 ACTIVATE, 2 CONFIRM; 0 removes. */
typedef enum i61_sg_event_kind {
    I61_SEV_SG_ACTIVATE = 10,
    I61_SEV_SG_CONFIRM = 11
} i61_sg_event_kind;
int i61_server_set_sg_handler(i61_server *s, const char *ld, uint32_t mask, void *userdata);
int i61_server_complete_sg(i61_server *s, uint64_t token, int result);
/* ------------------------------------------------------ end setting groups */

/* ------------------------------------------------------- GoCB and SVCB
 *
 * GOOSE and sampled value control blocks as data (publishing comes later):
 * LLN0$GO$name, LLN0$MS$name, LLN0$US$name with the attributes listed in
 * i61.h. MMS writes: GoEna/SvEna always; GoID/MsvID/UsvID, DatSet,
 * DstAddress (and its members) only while not enabled (else
 * temporarily-unavailable); USVCB Resv reserves the block for the writing
 * association (released when it closes); everything else
 * object-access-denied. A DatSet that does not exist: object-value-invalid.
 */
typedef struct i61_phy_addr {
    uint8_t mac[6];
    uint8_t priority;        /* VLAN priority 0..7 */
    uint16_t vid;            /* VLAN id 0..4095 */
    uint16_t appid;
} i61_phy_addr;

typedef struct i61_gocb_config {
    const char *go_id;       /* NULL or "": the GoCB reference "LD/LLN0.name" */
    const char *dataset;     /* "LD/LN$name", NULL or "" = none */
    uint32_t conf_rev;
    int go_ena;
    int nds_com;
    int fixed_offs;
    uint32_t min_time;       /* ms */
    uint32_t max_time;       /* ms */
    i61_phy_addr dst;
} i61_gocb_config;

typedef struct i61_svcb_config {
    const char *sv_id;       /* MsvID / UsvID */
    const char *dataset;
    uint32_t conf_rev;
    int sv_ena;
    uint16_t smp_rate;
    uint32_t opt_flds;       /* bit 0 refresh-time, 1 sample-synchronized, 2 sample-rate,
                                3 data-set, 4 security (bit i = value 1 << i) */
    int smp_mod;             /* 0 samples per period, 1 per second, 2 seconds per sample */
    uint16_t no_asdu;
    i61_phy_addr dst;
} i61_svcb_config;

int i61_model_add_gocb(i61_model *m, const char *ln_ref, const char *name,
                       const i61_gocb_config *cfg);
int i61_model_add_svcb(i61_model *m, const char *ln_ref, const char *name, int multicast,
                       const i61_svcb_config *cfg);
/* ---------------------------------------------------- end GoCB and SVCB */

#endif
