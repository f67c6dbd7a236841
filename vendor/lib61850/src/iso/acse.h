/* ACSE, ISO 8650-1 (PROTOCOL.md section 6): AARQ, AARE, RLRQ, RLRE, ABRT.
 *
 * Pure functions over buffers, for both roles. The user information is one
 * EXTERNAL with an indirect-reference (the presentation context of the MMS
 * PDU, 3) and a single-ASN1-type encoding. Decoders point into the decoded
 * buffer and return I61_OK or I61_ERR_MALFORMED_MESSAGE; encoders return I61_OK,
 * I61_ERR_INVALID_ARGUMENT or I61_ERR_UNKNOWN (out of memory).
 */
#ifndef I61_ISO_ACSE_H
#define I61_ISO_ACSE_H
#include <stddef.h>
#include <stdint.h>
#include "i61.h"
#include "../ber/ber.h"
#include "pres.h"

/* APDU tags ([APPLICATION n] constructed). */
#define I61_ACSE_AARQ 0x60
#define I61_ACSE_AARE 0x61
#define I61_ACSE_RLRQ 0x62
#define I61_ACSE_RLRE 0x63
#define I61_ACSE_ABRT 0x64

/* AARE result. */
#define I61_ACSE_ACCEPTED 0
#define I61_ACSE_REJECTED_PERMANENT 1
#define I61_ACSE_REJECTED_TRANSIENT 2
/* result-source-diagnostic source. */
#define I61_ACSE_DIAG_USER 1
#define I61_ACSE_DIAG_PROVIDER 2
/* a few service-user diagnostics */
#define I61_ACSE_DIAG_NULL 0
#define I61_ACSE_DIAG_NO_REASON 1
#define I61_ACSE_DIAG_APP_CTX_NOT_SUPPORTED 2
#define I61_ACSE_DIAG_AUTH_FAILURE 13
#define I61_ACSE_DIAG_AUTH_REQUIRED 14

#define I61_ACSE_PASSWORD_MAX 64

/* 1.0.9506.2.3 (MMS application context) and 2.2.3.1 (password mechanism). */
extern const uint8_t i61_oid_mms_context[5];
extern const uint8_t i61_oid_auth_password[3];

typedef struct i61_acse_ap {
    int has_ap_title;                  /* form 2: object identifier */
    uint8_t ap_title[I61_OID_MAX];
    size_t ap_title_len;
    int has_ae_qualifier;              /* form 2: integer */
    int32_t ae_qualifier;
} i61_acse_ap;

typedef struct i61_acse_apdu {
    uint8_t type;                      /* I61_ACSE_AARQ ... */
    /* AARQ / AARE */
    uint8_t app_ctx[I61_OID_MAX];      /* aSO-context-name */
    size_t app_ctx_len;
    i61_acse_ap called;                /* AARQ called; AARE responding */
    i61_acse_ap calling;               /* AARQ only */
    int result;                        /* AARE */
    int diag_source;                   /* AARE: I61_ACSE_DIAG_USER / _PROVIDER, 0 absent */
    int diag;                          /* AARE diagnostic value */
    /* authentication (AARQ calling / AARE responding), password mechanism only */
    int has_auth;
    uint8_t mechanism[I61_OID_MAX];
    size_t mechanism_len;
    const uint8_t *password;           /* charstring content */
    size_t password_len;
    /* RLRQ / RLRE reason, ABRT source and diagnostic: -1 absent */
    int reason;
    int abort_source;
    int abort_diag;
    /* user-information: first EXTERNAL */
    int32_t ui_ctx;                    /* indirect-reference */
    const uint8_t *user_info;          /* single-ASN1-type / octet-aligned content, NULL = none */
    size_t user_info_len;
} i61_acse_apdu;

/* Clears a with every optional field absent (reason etc. = -1). */
void i61_acse_init(i61_acse_apdu *a, uint8_t type);
/* AARQ values as sent by common IEC 61850 clients (003): MMS context,
 * called AP-title 1.1.1.999.1 / AE-qualifier 12, calling 1.1.1.999 / 12. */
void i61_acse_init_aarq_default(i61_acse_apdu *a);

/* Encodes the APDU selected by a->type. */
int i61_acse_write(i61_buf *b, const i61_acse_apdu *a);
/* Decodes one APDU (the whole buffer). */
int i61_acse_decode(const uint8_t *p, size_t len, i61_acse_apdu *a);

#endif
