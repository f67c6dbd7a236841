/* Server GOOSE and sampled value control blocks as data (IEC 61850-7-2
 * clauses 18/19, IEC 61850-8-1 clause 18, IEC 61850-9-2; public API:
 * i61_server.h "GoCB and SVCB"). Publishing is not done here.
 *
 * Model: a control block is a DO-level node under its LN whose components
 * are DAs of FC GO, MS or US, in the order and with the types of i61.h
 * (the order libiec61850 uses too):
 *   GoCB   GoEna BOOLEAN, GoID VisibleString129, DatSet VisibleString129,
 *          ConfRev INT32U, NdsCom BOOLEAN, DstAddress {Addr OCTET STRING(6),
 *          PRIORITY INT8U, VID INT16U, APPID INT16U}, MinTime INT32U,
 *          MaxTime INT32U, FixedOffs BOOLEAN
 *   MSVCB  SvEna BOOLEAN, MsvID VisibleString129, DatSet VisibleString129,
 *          ConfRev INT32U, SmpRate INT16U, OptFlds BIT STRING(5), SmpMod
 *          INT8, DstAddress (as GoCB), noASDU INT16U
 *   USVCB  SvEna, Resv BOOLEAN, UsvID, then as MSVCB
 * (libiec61850 1.6 types ConfRev, SmpRate and noASDU of an SVCB as INTEGER
 * 32; IEC 61850-8-1/9-2 and i61.h say INT32U / INT16U / INT16U: we follow
 * the latter). The values live in the value holders; writes change them.
 *
 * MMS writes (srv_sgcb.c dispatches here):
 *   GoEna/SvEna    always (BOOLEAN). Enabling needs a DatSet naming an
 *                  existing data set and (GoCB) NdsCom FALSE, else
 *                  object-value-invalid (11), as libiec61850.
 *   GoID/MsvID/UsvID, DatSet, DstAddress (whole or a member): only while
 *                  disabled (else temporarily-unavailable, 2). DatSet ""
 *                  clears it; one that names no data set: object-value-
 *                  invalid; a changed DatSet increments ConfRev (IEC
 *                  61850-7-2, as our RCBs). PRIORITY > 7 or VID > 4095:
 *                  object-value-invalid.
 *   Resv (USVCB)   TRUE reserves the block for the writing association,
 *                  FALSE releases it; the reservation ends when the
 *                  association closes. While reserved, every write of
 *                  another association: temporarily-unavailable.
 *   anything else (ConfRev, NdsCom, MinTime, MaxTime, FixedOffs, SmpRate,
 *   OptFlds, SmpMod, noASDU, the whole block, alternate access): object-
 *   access-denied (3).
 * Type mismatch: type-inconsistent (7).
 *
 * Threads and locks: everything is guarded by the model lock.
 */
#ifndef I61_SRV_GOCB_H
#define I61_SRV_GOCB_H
#include <stdbool.h>
#include <stdint.h>
#include "server_internal.h"

#define I61_GOCB_STR_MAX 129        /* GoID, MsvID, UsvID, DatSet: VisibleString129 */

/* Frees the model's GoCB/SVCB state (from i61_cbx_set_free). */
void i61_gocb_set_free(i61_model *m);

/* MMS Write of `target` (the control block node cb or a node below it;
 * I/O thread, model lock held): -1 or a DataAccessError. */
int i61_srv_gocb_write(i61_sconn *c, i61_mnode *cb, i61_mnode *target, const i61_value *value);

/* I/O thread: connection c is going away: its USVCB reservations end.
 * Takes the model lock. */
void i61_srv_gocb_conn_gone(i61_server *s, i61_sconn *c);

#endif
