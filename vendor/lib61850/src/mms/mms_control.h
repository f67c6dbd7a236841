/* IEC 61850 control model on MMS (PROTOCOL.md section 12): pure codec, no I/O.
 *
 *  - The command structures Oper / SBOw / Cancel written by a client:
 *      Oper, SBOw: ctlVal [operTm] origin{orCat, orIdent} ctlNum T Test Check
 *      Cancel:     ctlVal [operTm] origin{orCat, orIdent} ctlNum T Test
 *    i61_ctl_build makes the i61_value the client writes; i61_ctl_parse
 *    reads one (server side) without copying.
 *  - The unconfirmed InformationReports a server sends about controls
 *    (decode: client, encode: server):
 *      LastApplError alone   listOfVariable [vmd "LastApplError"]
 *                            values [LastApplError]                     (106)
 *      CommandTermination+   listOfVariable [domain LD "LN$CO$DO$Oper"]
 *                            values [Oper as received]                  (097)
 *      CommandTermination-   listOfVariable [vmd "LastApplError",
 *                                            domain LD "LN$CO$DO$Oper"]
 *                            values [LastApplError, Oper]               (104)
 *    LastApplError = { CntrlObj VisibleString, Error INT,
 *                      Origin {orCat INT, orIdent OCTET STRING}, ctlNum INT8U,
 *                      AddCause INT }.
 *
 * The public struct i61_last_appl_error (i61.h) is the LastApplError.
 * Return values: 0 (I61_OK), I61_ERR_INVALID_ARGUMENT (encoder input that
 * cannot be encoded), I61_ERR_UNKNOWN (out of memory),
 * I61_ERR_MALFORMED_MESSAGE (decoder). Decoders never read past len and
 * decode Data depth-limited (mms_data.c).
 */
#ifndef I61_MMS_CONTROL_H
#define I61_MMS_CONTROL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "i61.h"
#include "../ber/ber.h"
#include "mms_pdu.h"

/* Which command structure. */
#define I61_CTL_OPER 0
#define I61_CTL_SBOW 1
#define I61_CTL_CANCEL 2

/* Longest orIdent (OCTET STRING64). */
#define I61_CTL_OR_IDENT_MAX 64

/* One command's parameters. */
typedef struct i61_ctl_cmd {
    const i61_value *ctl_val;       /* build: cloned; parse: borrowed from the value */
    bool has_oper_tm;
    uint8_t oper_tm[8];             /* UtcTime octets */
    int or_cat;
    const uint8_t *or_ident;        /* build: copied; parse: borrowed from the value */
    size_t or_ident_len;            /* <= I61_CTL_OR_IDENT_MAX */
    uint8_t ctl_num;
    uint8_t t[8];                   /* UtcTime octets */
    bool test;
    bool has_check;                 /* build: Oper/SBOw only; parse: set when present */
    bool synchro_check;             /* Check bit 0 */
    bool interlock_check;           /* Check bit 1 */
} i61_ctl_cmd;

/* Builds the structure written to Oper/SBOw (which = I61_CTL_OPER/SBOW, with
 * Check when cmd->has_check) or Cancel (never Check). *out: new value.
 * 0, I61_ERR_INVALID_ARGUMENT (no ctl_val, orIdent too long, bad which),
 * I61_ERR_UNKNOWN. */
int i61_ctl_build(int which, const i61_ctl_cmd *cmd, i61_value **out);

/* Reads a written command structure: accepts 5..7 components with the
 * layout above, operTm recognised by position 1 being a UtcTime, Check by
 * a trailing bit string. T may also be a 6-octet BinaryTime (Ed1): it is
 * converted to UtcTime octets. Pointers in *out borrow from v.
 * 0 or I61_ERR_TYPE_INCONSISTENT (not that shape). */
int i61_ctl_parse(const i61_value *v, i61_ctl_cmd *out);

/* UtcTime octets <-> ms since 1970 (fraction = floor(ms_part * 2^24 / 1000),
 * time quality octet q). */
void i61_utc_time_from_ms(uint64_t ms, uint8_t q, uint8_t out[8]);
uint64_t i61_utc_time_to_ms(const uint8_t t[8]);

/* --------------------------------------------------- the reports */

#define I61_CTL_RPT_LAST_APPL_ERROR 0   /* LastApplError alone */
#define I61_CTL_RPT_TERM_POS 1          /* CommandTermination+ */
#define I61_CTL_RPT_TERM_NEG 2          /* CommandTermination- */

typedef struct i61_ctl_rpt {
    int kind;                           /* I61_CTL_RPT_* */
    i61_last_appl_error lae;            /* LAST_APPL_ERROR and TERM_NEG */
    i61_mms_name oper;                  /* TERM_*: domain-specific name "LN$CO$DO$Oper" */
    i61_value *oper_value;              /* TERM_*: owned */
} i61_ctl_rpt;

/* Cheap check: an InformationReport whose first listOfVariable entry is the
 * vmd-specific name "LastApplError" or a domain-specific name ending in
 * "$Oper" (and not a named variable list such as "RPT"). */
bool i61_mms_is_control_report(const uint8_t *pdu, size_t len);

/* Decodes a whole unconfirmed PDU of one of the three shapes into *out
 * (zeroed first; release with i61_mms_control_report_clear, also on
 * failure). The LastApplError must have the 5 components with the types
 * above (CntrlObj up to 129 characters, orIdent up to 64 octets, ctlNum
 * 0..255, Error/AddCause fitting an int), else MALFORMED. */
int i61_mms_decode_control_report(const uint8_t *pdu, size_t len, i61_ctl_rpt *out);
void i61_mms_control_report_clear(i61_ctl_rpt *r);

/* Server side: the whole unconfirmed PDU (a3 ...).
 * LastApplError alone (106): */
int i61_mms_encode_last_appl_error(i61_buf *b, const i61_last_appl_error *e);
/* CommandTermination (097 / 104): domain/item name the Oper ("IED1LD1",
 * "GGIO1$CO$SPCSO2$Oper"); oper is the Oper structure as the client wrote it;
 * e NULL = positive, else negative with that LastApplError. */
int i61_mms_encode_cmd_term(i61_buf *b, const char *domain, const char *item,
                            const i61_value *oper, const i61_last_appl_error *e);

#endif
