/* Session layer, ISO 8327-1 kernel + duplex functional units (PROTOCOL.md section 4).
 *
 * SPDU = SI + LI (1 octet, or ff + 2 octets when > 254) + parameters; PGIs
 * group PIs. Connection SPDUs (CN, AC, RF, FN, DN, NF, AB, AA) carry the
 * presentation PDU in the User Data parameter (PI 193); data transfer is the
 * concatenation Give-Tokens + Data-Transfer `01 00 01 00` followed by the user
 * information (a lone DT `01 00` is accepted too).
 *
 * Pure functions over buffers, for both roles. Decoders return I61_OK or
 * I61_ERR_MALFORMED_MESSAGE; encoders I61_OK, I61_ERR_INVALID_ARGUMENT or
 * I61_ERR_UNKNOWN (out of memory).
 */
#ifndef I61_ISO_SESSION_H
#define I61_ISO_SESSION_H
#include <stddef.h>
#include <stdint.h>
#include "i61.h"
#include "../ber/ber.h"

/* SPDU identifiers. GT and DT share SI 1. */
#define I61_SPDU_DT 1
#define I61_SPDU_GT 1
#define I61_SPDU_NF 8
#define I61_SPDU_FN 9
#define I61_SPDU_DN 10
#define I61_SPDU_RF 12
#define I61_SPDU_CN 13
#define I61_SPDU_AC 14
#define I61_SPDU_AB 25
#define I61_SPDU_AA 26

/* Session user requirements: duplex functional unit. */
#define I61_SESSION_FU_DUPLEX 0x0002
/* Transport disconnect (AB): release TC + user abort + no reason. */
#define I61_SESSION_TDISC_USER_ABORT 0x0b
#define I61_SESSION_TDISC_PROTOCOL_ERROR 0x05

/* Refuse reason codes (PI 50, first octet). */
#define I61_SESSION_RF_USER_REJECT 0
#define I61_SESSION_RF_CONGESTION 1
#define I61_SESSION_RF_USER_DATA 2
#define I61_SESSION_RF_SSEL_UNKNOWN 129
#define I61_SESSION_RF_NOT_ATTACHED 130
#define I61_SESSION_RF_VERSION 132

#define I61_SSEL_MAX 16

typedef struct i61_spdu {
    uint8_t si;                       /* I61_SPDU_* */
    int gt;                           /* decode: SI 1 was a GT+DT pair (0 = lone DT) */
    int has_protocol_options;         /* PGI 5 / PI 19 */
    uint8_t protocol_options;
    int has_version;                  /* PGI 5 / PI 22 */
    uint8_t version;                  /* bit mask: 2 = version 2 */
    int has_user_requirements;        /* PI 20 */
    uint16_t user_requirements;
    int has_transport_disconnect;     /* PI 17 */
    uint8_t transport_disconnect;
    int has_reason;                   /* PI 50 (RF): first octet; the rest is user data */
    uint8_t reason;
    int has_calling_ssel;             /* PI 51 */
    uint8_t calling_ssel[I61_SSEL_MAX];
    size_t calling_ssel_len;
    int has_called_ssel;              /* PI 52 (called in CN, responding in AC) */
    uint8_t called_ssel[I61_SSEL_MAX];
    size_t called_ssel_len;
    const uint8_t *user_data;         /* PI 193/194 content, RF reason-code user data, or DT user information */
    size_t user_data_len;
} i61_spdu;

/* Decodes the SPDU (or GT+DT pair) that makes up one TSDU. */
int i61_session_decode(const uint8_t *p, size_t len, i61_spdu *s);

/* Encodes s (parameters in the captured order: PGI 5, PI 17, PI 20, PI 50,
 * PI 51, PI 52, PI 193). For SI 1 writes the pair `01 00 01 00` + user data. */
int i61_session_write(i61_buf *b, const i61_spdu *s);

/* The 4-octet GT+DT prefix of every data TSDU. */
#define I61_SESSION_DATA_PREFIX_LEN 4
extern const uint8_t i61_session_data_prefix[4];

#endif
