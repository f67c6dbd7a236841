/* Presentation layer, ISO 8823 connection-oriented, normal mode, BER
 * (PROTOCOL.md section 5): CP-type, CPA-PPDU, CPR-PPDU, ARU/ARP-PPDU and the
 * fully-encoded-data user data of the data phase.
 *
 * Pure functions over buffers, for both roles. Decoders return I61_OK or
 * I61_ERR_MALFORMED_MESSAGE and point into the decoded buffer; encoders return
 * I61_OK, I61_ERR_INVALID_ARGUMENT or I61_ERR_UNKNOWN (out of memory).
 */
#ifndef I61_ISO_PRES_H
#define I61_ISO_PRES_H
#include <stddef.h>
#include <stdint.h>
#include "i61.h"
#include "../ber/ber.h"

/* Presentation context identifiers used by IEC 61850 peers. */
#define I61_PRES_CTX_ACSE 1
#define I61_PRES_CTX_MMS 3

/* Context definition results (Result-list). */
#define I61_PRES_ACCEPT 0
#define I61_PRES_USER_REJECTION 1
#define I61_PRES_PROVIDER_REJECTION 2

#define I61_PRES_MAX_CTX 8
#define I61_PSEL_MAX 16
#define I61_OID_MAX 32               /* content octets of an object identifier */

/* OID content octets (without the 06 L header). */
extern const uint8_t i61_oid_acse_as[4];      /* 2.2.1.0.1 */
extern const uint8_t i61_oid_mms_as[5];       /* 1.0.9506.2.1 */
extern const uint8_t i61_oid_ber[2];          /* 2.1.1 */

typedef struct i61_pres_ctx {
    int32_t id;                       /* presentation-context-identifier (CP) */
    uint8_t abstract_syntax[I61_OID_MAX]; /* CP */
    size_t abstract_syntax_len;
    int ber;                          /* CP: transfer syntax list names BER; CPA: result names BER */
    int result;                       /* CPA/CPR: I61_PRES_ACCEPT ... */
    int provider_reason;              /* CPA/CPR result-list provider-reason, -1 absent */
} i61_pres_ctx;

/* CP-type / CPA-PPDU / CPR-PPDU (normal mode). */
typedef struct i61_pres_connect {
    int has_calling_psel;             /* CP [1] */
    uint8_t calling_psel[I61_PSEL_MAX];
    size_t calling_psel_len;
    int has_called_psel;              /* CP [2] called, CPA/CPR [3] responding */
    uint8_t called_psel[I61_PSEL_MAX];
    size_t called_psel_len;
    size_t n_ctx;                     /* CP: definition list; CPA/CPR: result list (same order) */
    i61_pres_ctx ctx[I61_PRES_MAX_CTX];
    int provider_reason;              /* CPR [10], -1 absent */
    int32_t ud_ctx;                   /* first PDV of the user data: context id */
    const uint8_t *user_data;         /* its single-ASN1-type content (one ACSE APDU), NULL = none */
    size_t user_data_len;
} i61_pres_connect;

/* Helpers for the two contexts IEC 61850 uses: ACSE 1 and MMS 3, both BER. */
void i61_pres_connect_init_default(i61_pres_connect *c);

int i61_pres_write_cp(i61_buf *b, const i61_pres_connect *c);
int i61_pres_decode_cp(const uint8_t *p, size_t len, i61_pres_connect *c);
int i61_pres_write_cpa(i61_buf *b, const i61_pres_connect *c);
int i61_pres_decode_cpa(const uint8_t *p, size_t len, i61_pres_connect *c);
int i61_pres_write_cpr(i61_buf *b, const i61_pres_connect *c);
int i61_pres_decode_cpr(const uint8_t *p, size_t len, i61_pres_connect *c);

/* Data phase: fully-encoded-data `61 L 30 L 02 01 ctx a0 L <pdu>`. */
#define I61_PRES_DATA_HDR_MAX 24
/* Writes the header for a pdu_len-octet PDU in context ctx; returns its length. */
size_t i61_pres_data_header(uint8_t out[I61_PRES_DATA_HDR_MAX], int32_t ctx, size_t pdu_len);
int i61_pres_write_user_data(i61_buf *b, int32_t ctx, const uint8_t *pdu, size_t len);
/* Decodes fully-encoded-data holding one PDV-list with a single-ASN1-type (or
 * octet-aligned) value; trailing PDV-lists are ignored. */
int i61_pres_decode_user_data(const uint8_t *p, size_t len, int32_t *ctx,
                              const uint8_t **pdu, size_t *pdu_len);

/* Abort. ARU (normal mode) carries user data (ctx + APDU); ARP (decoded only,
 * never sent by this stack) carries a provider reason. */
int i61_pres_write_aru(i61_buf *b, int32_t ctx, const uint8_t *apdu, size_t len);
typedef struct i61_pres_abort {
    int aru;                          /* 1 ARU, 0 ARP */
    int provider_reason;              /* ARP [0], -1 absent */
    int32_t ud_ctx;
    const uint8_t *user_data;         /* NULL when absent */
    size_t user_data_len;
} i61_pres_abort;
int i61_pres_decode_abort(const uint8_t *p, size_t len, i61_pres_abort *a);

#endif
