/* The upper ISO layers put together: session + presentation + ACSE around an
 * MMS PDU, as one TSDU (what travels in COTP DTs up to EOT). Used by the client
 * association and by the server; pure functions over buffers.
 *
 * Connection phase:  CN{CP{AARQ{initiate-Request}}}  ->  AC{CPA{AARE{initiate-Response}}}
 *                    (or RF{CPR}, or AC with a rejecting AARE)
 * Data phase:        01 00 01 00 + fully-encoded-data(ctx 3, MMS PDU)
 * Release:           FN{user data(ctx 1, RLRQ)} -> DN{user data(ctx 1, RLRE)}
 * Abort:             AB{ARU{user data(ctx 1, ABRT)}}
 *
 * Return codes as in the layer headers: I61_OK, I61_ERR_MALFORMED_MESSAGE,
 * I61_ERR_INVALID_ARGUMENT, I61_ERR_UNKNOWN (out of memory).
 */
#ifndef I61_ISO_CONN_H
#define I61_ISO_CONN_H
#include <stddef.h>
#include <stdint.h>
#include "i61.h"
#include "../ber/ber.h"
#include "cotp.h"
#include "session.h"
#include "pres.h"
#include "acse.h"

/* Addressing and ACSE identification of an association request. */
typedef struct i61_iso_addr {
    uint8_t calling_tsel[I61_TSEL_MAX];
    size_t calling_tsel_len;
    uint8_t called_tsel[I61_TSEL_MAX];
    size_t called_tsel_len;
    uint8_t calling_ssel[I61_SSEL_MAX];
    size_t calling_ssel_len;
    uint8_t called_ssel[I61_SSEL_MAX];
    size_t called_ssel_len;
    uint8_t calling_psel[I61_PSEL_MAX];
    size_t calling_psel_len;
    uint8_t called_psel[I61_PSEL_MAX];
    size_t called_psel_len;
    i61_acse_ap called;
    i61_acse_ap calling;
    const char *password;              /* NULL = no authentication */
} i61_iso_addr;

/* TSELs/SSELs 0001, PSELs 00000001, AP titles as in golden 003. */
void i61_iso_addr_init_default(i61_iso_addr *a);

/* CR frame (TPKT+COTP) proposing tpdu_size (rounded down to a power of two,
 * 128..8192) with the TSELs of addr. */
int i61_iso_write_cr(i61_buf *b, const i61_iso_addr *addr, uint32_t tpdu_size, uint16_t src_ref);

/* Session CN + CP-type + AARQ carrying `mms` (an initiate-RequestPDU). */
int i61_iso_write_connect_tsdu(i61_buf *b, const i61_iso_addr *addr, const uint8_t *mms, size_t len);

/* Session data prefix + presentation header for an MMS PDU of pdu_len octets
 * (context 3). Returns the header length (at most I61_ISO_DATA_HDR_MAX). */
#define I61_ISO_DATA_HDR_MAX (I61_SESSION_DATA_PREFIX_LEN + I61_PRES_DATA_HDR_MAX)
size_t i61_iso_data_header(uint8_t out[I61_ISO_DATA_HDR_MAX], size_t pdu_len);
/* Whole data TSDU (header + pdu) appended to b. */
int i61_iso_write_data_tsdu(i61_buf *b, const uint8_t *pdu, size_t len);

/* FN + RLRQ(reason normal); DN + RLRE; AB + ARU(ABRT source service-user),
 * ACSE in presentation context 1. */
int i61_iso_write_release_request_tsdu(i61_buf *b);
int i61_iso_write_release_response_tsdu(i61_buf *b);
int i61_iso_write_abort_tsdu(i61_buf *b);
/* The same with the ACSE presentation context id the peer chose (server side:
 * i61_iso_find_ctx(&cn.pres, i61_oid_acse_as, ...)). */
int i61_iso_write_release_request_tsdu_ctx(i61_buf *b, int32_t acse_ctx);
int i61_iso_write_release_response_tsdu_ctx(i61_buf *b, int32_t acse_ctx);
int i61_iso_write_abort_tsdu_ctx(i61_buf *b, int32_t acse_ctx);

/* Id of the proposed context with abstract syntax oid (content octets) in a
 * decoded CP, or -1. */
int32_t i61_iso_find_ctx(const i61_pres_connect *cp, const uint8_t *oid, size_t len);

/* What a received TSDU means. */
enum {
    I61_ISO_IND_DATA = 1,              /* MMS PDU (pdu/pdu_len, ctx) */
    I61_ISO_IND_CONNECT,               /* CN: pres (CP) + acse (AARQ) + pdu (initiate) */
    I61_ISO_IND_ACCEPT,                /* AC: pres (CPA) + acse (AARE) + pdu */
    I61_ISO_IND_REFUSE,                /* RF: spdu.reason, pres (CPR) when present */
    I61_ISO_IND_RELEASE_REQUEST,       /* FN (+ RLRQ) */
    I61_ISO_IND_RELEASE_RESPONSE,      /* DN (+ RLRE) */
    I61_ISO_IND_RELEASE_REFUSED,       /* NF */
    I61_ISO_IND_ABORT                  /* AB / AA (+ ARU/ARP, ABRT) */
};

typedef struct i61_iso_ind {
    int type;                          /* I61_ISO_IND_* */
    i61_spdu spdu;
    int has_pres;
    i61_pres_connect pres;
    int has_acse;
    i61_acse_apdu acse;
    int32_t ctx;                       /* presentation context of pdu */
    const uint8_t *pdu;                /* MMS PDU (data, or ACSE user information), NULL = none */
    size_t pdu_len;
} i61_iso_ind;

/* Fast path: if the TSDU is a data transfer, sets the MMS PDU and returns 1;
 * returns 0 for any other SPDU (use i61_iso_decode_tsdu), or
 * -I61_ERR_MALFORMED_MESSAGE (negative). ctx may be NULL. */
int i61_iso_decode_data(const uint8_t *tsdu, size_t len, const uint8_t **pdu, size_t *pdu_len,
                        int32_t *ctx);

/* Full decode of any TSDU. Pointers refer into tsdu. */
int i61_iso_decode_tsdu(const uint8_t *tsdu, size_t len, i61_iso_ind *ind);

/* Server side: AC + CPA + AARE answering the CN decoded in `cn`. Each proposed
 * context is accepted when it is ACSE or MMS with BER, otherwise
 * provider-rejected. The AARE travels in the client's ACSE context id and its
 * user information names the client's MMS context id (1 and 3 when the CP did
 * not propose them). acse_result/diag: I61_ACSE_ACCEPTED + I61_ACSE_DIAG_NULL
 * to accept; mms: the initiate-Response (or -Error) PDU, may be NULL. */
int i61_iso_write_accept_tsdu(i61_buf *b, const i61_iso_ind *cn, int acse_result, int diag,
                              const uint8_t *mms, size_t len);
/* Server side: RF with a reason code (I61_SESSION_RF_*), no user data. */
int i61_iso_write_refuse_tsdu(i61_buf *b, uint8_t reason);

#endif
