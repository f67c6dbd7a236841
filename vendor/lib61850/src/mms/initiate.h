/* MMS Initiate (request / response / error) and Conclude PDUs (ISO 9506-2,
 * PROTOCOL.md section 7). Pure codec over buffers, for both roles.
 *
 * Encoders append to an i61_buf and return I61_OK, I61_ERR_INVALID_ARGUMENT or
 * I61_ERR_UNKNOWN (out of memory); decoders return I61_OK or
 * I61_ERR_MALFORMED_MESSAGE and never read past `len`.
 */
#ifndef I61_MMS_INITIATE_H
#define I61_MMS_INITIATE_H
#include <stddef.h>
#include <stdint.h>
#include "i61.h"
#include "../ber/ber.h"

/* PDU kinds = MMSpdu CHOICE tag numbers. */
#define I61_MMS_INITIATE_REQUEST 8
#define I61_MMS_INITIATE_RESPONSE 9
#define I61_MMS_INITIATE_ERROR 10
#define I61_MMS_CONCLUDE_REQUEST 11
#define I61_MMS_CONCLUDE_RESPONSE 12
#define I61_MMS_CONCLUDE_ERROR 13

#define I61_MMS_CBB_OCTETS 2          /* parameter CBB: 11 bits */
#define I61_MMS_SERVICES_OCTETS 11    /* services supported: 85 bits */

/* ServiceError class initiate [8] codes. */
#define I61_MMS_INIT_ERR_OTHER 0
#define I61_MMS_INIT_ERR_VERSION 1
#define I61_MMS_INIT_ERR_MAX_SEGMENT 2
#define I61_MMS_INIT_ERR_MAX_CALLING 3
#define I61_MMS_INIT_ERR_MAX_CALLED 4
#define I61_MMS_INIT_ERR_SERVICE_CBB 5
#define I61_MMS_INIT_ERR_PARAMETER_CBB 6
#define I61_MMS_INIT_ERR_NESTING 7

/* Request: proposed values ("Calling" = the initiator); response: negotiated
 * values, same fields. */
typedef struct i61_initiate {
    int has_local_detail;
    int32_t local_detail;             /* max MMS PDU size the sender accepts */
    int32_t max_serv_outstanding_calling;
    int32_t max_serv_outstanding_called;
    int has_nesting_level;
    int32_t nesting_level;
    int32_t version;
    uint8_t param_cbb[I61_MMS_CBB_OCTETS];
    int param_cbb_bits;               /* 11 */
    uint8_t services[I61_MMS_SERVICES_OCTETS];
    int services_bits;                /* 85 */
} i61_initiate;

/* The values of golden 003: 65000, 5/5, nesting 10, version 1, CBB f100
 * (str1 str2 vnam valt vlis) and the client services ee1c00000408000079ef18. */
void i61_initiate_init_client(i61_initiate *i);
/* The values of golden 004 (server services ee1c00000002000040ed18). */
void i61_initiate_init_server(i61_initiate *i);

/* Server-side negotiation: resp = values accepted for req given the server's
 * own limits and services (each size the minimum, CBB the intersection,
 * services = the server's). Returns I61_OK, or an I61_MMS_INIT_ERR_* code
 * (> 0) when the request cannot be accepted (version 0, max outstanding < 1). */
int i61_initiate_negotiate(const i61_initiate *req, const i61_initiate *server, i61_initiate *resp);

int i61_initiate_write_request(i61_buf *b, const i61_initiate *i);
int i61_initiate_write_response(i61_buf *b, const i61_initiate *i);
/* Initiate-ErrorPDU: ServiceError with errorClass initiate [8] and code. */
int i61_initiate_write_error(i61_buf *b, int code);

/* Decodes an initiate-Request/Response/Error PDU. *kind = I61_MMS_INITIATE_*.
 * For an error, *err_class (ServiceError class tag, 8 = initiate) and
 * *err_code are set and *out is zeroed; err_class/err_code may be NULL. */
int i61_initiate_decode(const uint8_t *p, size_t len, int *kind, i61_initiate *out,
                        int *err_class, int *err_code);

/* Conclude: `8b 00` / `8c 00`; error = ServiceError class conclude [9]. */
int i61_conclude_write_request(i61_buf *b);
int i61_conclude_write_response(i61_buf *b);
int i61_conclude_write_error(i61_buf *b, int code);
/* *kind = I61_MMS_CONCLUDE_REQUEST / _RESPONSE / _ERROR. */
int i61_conclude_decode(const uint8_t *p, size_t len, int *kind);

#endif
