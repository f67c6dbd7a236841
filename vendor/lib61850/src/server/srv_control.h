/* Server control engine: the IEC 61850-7-2 control model of controllable
 * data objects on MMS (IEC 61850-8-1, PROTOCOL.md section 12).
 *
 * A DO is controllable when it has a CO structure "Oper". Its state (struct
 * i61_srv_ctl, hung on the DO node and listed on the model) is created the
 * first time it is needed: a command, a handler registration,
 * i61_model_set_control. Unless declared, its model/sboTimeout/sboClass are
 * read from its CF attributes when a command starts, so the application may
 * change ctlModel in the model at any time.
 *
 * One command at a time per DO: a command in progress (waiting for a
 * handler, for its activation time, or executing) refuses the next one with
 * AddCause 12 command-already-in-execution. The stages CHECK / WAIT /
 * OPERATE of i61_server.h run in that order; each is answered at once (no
 * handler: accept) or through the event queue. The engine only ever waits
 * for i61_server_complete_control, the hook timeout, the activation time
 * (operTm) and the select timeout (sboTimeout).
 *
 * Threads and locks: all control state is guarded by the model lock. The
 * MMS side (i61_srv_ctl_write/read_sbo), i61_srv_ctl_run and
 * i61_srv_ctl_conn_gone run on the I/O thread (which alone sends PDUs);
 * completions (any thread) record the answer under the model lock and wake
 * the I/O thread (srv->wake), which runs i61_srv_ctl_run. Deadlines are on
 * the i61_mono_ms clock; the glue keeps one timer on what i61_srv_ctl_run
 * returns (srv->arm_ctl when a new deadline appears on the MMS side).
 *
 * Behaviour choices (libiec61850 1.5 answers noted where it differs):
 *  - status-only: Oper/SBOw/Cancel -> object-access-denied (3), no
 *    LastApplError (what libiec61850's server answers to a Write of the Oper
 *    of a status-only object).
 *  - A command structure that does not match the model's type ->
 *    type-inconsistent (7); one that does but whose orCat is outside 0..8 ->
 *    object-value-invalid (11) with LastApplError 26 (SBOw: 3 select-failed).
 *  - Every other refusal of SBOw/Oper/Cancel sends a LastApplError
 *    InformationReport and then the negative Write response, in every
 *    control model (libiec61850 too, for the refusals it detects itself):
 *      not selected                     access-denied (3),  AddCause 18
 *      selected by another association  temp.-unavailable (2), 27 (Oper,
 *                                       Cancel) / 19 (SBOw)
 *      already selected (SBOw)          temp.-unavailable (2), 19
 *      command in progress              temp.-unavailable (2), 12
 *      sbo-enhanced Oper differs from the SBOw (ctlVal, origin, ctlNum,
 *      Check)                           type-inconsistent (7), 26, deselects
 *      refused by a handler             access-denied (3), the handler's cause
 *  - SBO (sbo-normal select by Read): "LD/LN$CO$DO$SBO" when selected, ""
 *    when refused, already selected (also by the same association), busy, or
 *    the object is not sbo-normal.
 *  - Normal-security models answer the Oper Write after WAIT and OPERATE (so
 *    a failure is a negative response; libiec61850 answers before OPERATE);
 *    enhanced models answer after CHECK (IEC 61850-7-2: the dynamic tests
 *    follow the positive response; libiec61850 answers after WAIT), then send
 *    CommandTermination+/- after WAIT/OPERATE. A time-activated operate is
 *    answered after CHECK; WAIT and OPERATE run at operTm; a failure then is
 *    a CommandTermination- (enhanced) or a LastApplError alone (normal).
 *  - LastApplError Error: 0 (no-error) in the report before a negative
 *    response (as libiec61850, golden 106); 1 (unknown) in a
 *    CommandTermination- (libiec61850 sends 0, golden 104, which makes a
 *    CommandTermination- with AddCause 0 look like a positive one to
 *    libiec61850's client).
 *  - A refused Oper deselects (SBO models); after OPERATE operate-once
 *    deselects, operate-many stays selected with a fresh sboTimeout.
 *  - Cancel: deselects when selected by this association (success), aborts a
 *    time-activated operate of this association waiting for operTm
 *    (success, nothing else sent), succeeds when nothing is selected (SBO
 *    models, as libiec61850), is refused with 12 while a command executes,
 *    and is refused with access-denied (3, no LastApplError) by direct
 *    models with nothing to cancel.
 *  - The association closing deselects and aborts its command (a handler's
 *    late answer gets I61_ERR_CONNECTION_LOST).
 */
#ifndef I61_SRV_CONTROL_H
#define I61_SRV_CONTROL_H
#include <stdbool.h>
#include <stdint.h>
#include "server_internal.h"

#define I61_CTL_SBO_TIMEOUT_DEFAULT 30000u
#define I61_CTL_MAX_SCHEDULE_MS 86400000u   /* a deadline further away is looked at again daily */

/* Frees the model's control state (i61_model_free). */
void i61_ctl_set_free(i61_model *m);

/* The MMS variable (node, fc) is a control service attribute handled by the
 * engine: Write of CO Oper/SBOw/Cancel, or Read of CO SBO, of a DO that has
 * CO Oper. Model lock held, prepared model. */
bool i61_srv_ctl_is_target(const i61_mnode *node, int fc, bool is_write);

/* A Write of one control structure (the whole request): the engine answers it
 * now or later. Model lock held, I/O thread. */
void i61_srv_ctl_write(i61_sconn *c, uint32_t invoke_id, i61_mnode *node,
                       const i61_value *value);
/* A Read of SBO alone (the whole request, no specificationWithResult). */
void i61_srv_ctl_read_sbo(i61_sconn *c, uint32_t invoke_id, i61_mnode *node);

/* I/O thread: processes answered stages, hook timeouts, activation times and
 * select timeouts as of now_ms. Returns the earliest next deadline, 0 if
 * none. Takes the model lock. */
uint64_t i61_srv_ctl_run(i61_server *s, uint64_t now_ms);

/* I/O thread: connection c is going away: its selections end, its commands
 * are aborted. Takes the model lock. */
void i61_srv_ctl_conn_gone(i61_server *s, i61_sconn *c);

#endif
