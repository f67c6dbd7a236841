/* TPKT (RFC 1006) framing and COTP class 0 (ISO 8073 / X.224) TPDUs.
 *
 * Pure functions over buffers, used by both roles (client and server). A TPKT
 * frame is `03 00 LL LL` + one COTP TPDU, LL = length of the whole frame
 * including the 4-octet header (PROTOCOL.md section 2). The COTP layer
 * (section 3) carries CR/CC with the TPDU size (c0), calling/called TSAPs
 * (c1/c2), DR/DC/ER, and DT with the EOT flag; a TSDU longer than
 * TPDU size - 3 is segmented into several DTs and reassembled by the receiver.
 *
 * Error codes: encoders and decoders return I61_OK or an i61_err value
 * (I61_ERR_MALFORMED_MESSAGE for bad input from a peer, I61_ERR_INVALID_ARGUMENT
 * for a bad parameter from the caller, I61_ERR_UNKNOWN when out of memory).
 */
#ifndef I61_ISO_COTP_H
#define I61_ISO_COTP_H
#include <stddef.h>
#include <stdint.h>
#include "i61.h"
#include "../ber/ber.h"

#define I61_TPKT_HDR 4
#define I61_TPKT_MAX 65535u           /* largest TPKT frame, header included */
#define I61_COTP_DT_HDR 3             /* 02 f0 80 */
#define I61_DATA_FRAME_HDR (I61_TPKT_HDR + I61_COTP_DT_HDR)

/* TPDU codes (high nibble of the code octet). */
#define I61_COTP_CR 0xe0
#define I61_COTP_CC 0xd0
#define I61_COTP_DR 0x80
#define I61_COTP_DC 0xc0
#define I61_COTP_DT 0xf0
#define I61_COTP_ER 0x70

/* DR reason codes (a few; see PROTOCOL.md section 3). */
#define I61_COTP_DR_NOT_SPECIFIED 0
#define I61_COTP_DR_NORMAL 128
#define I61_COTP_DR_NEGOTIATION_FAILED 130
#define I61_COTP_DR_PROTOCOL_ERROR 133

#define I61_TSEL_MAX 32

/* ------------------------------------------------------------------ TPKT */

/* Look at the octets received so far (p, avail). Returns 1 and *frame_len when
 * a complete frame of at most max_frame octets is at p, 0 when more octets are
 * needed (*frame_len = announced length once the header is complete, else 0),
 * or -I61_ERR_MALFORMED_MESSAGE (negative: bad version/reserved octet,
 * length < 7 or length > max_frame). */
int i61_tpkt_check(const uint8_t *p, size_t avail, size_t max_frame, size_t *frame_len);

/* Writes the 4-octet header for a frame of frame_len octets (7..65535). */
void i61_tpkt_put_header(uint8_t out[4], size_t frame_len);

/* ------------------------------------------------------------------ COTP */

/* A decoded TPDU. Pointers refer into the decoded buffer. */
typedef struct i61_cotp_tpdu {
    uint8_t code;                 /* I61_COTP_CR ... (high nibble) */
    uint8_t cdt;                  /* low nibble of the code octet (CR/CC credit) */
    uint16_t dst_ref;
    uint16_t src_ref;
    uint8_t class_option;         /* CR/CC: class (high nibble) and options */
    uint8_t reason;               /* DR reason, ER reject cause */
    int eot;                      /* DT: 1 when EOT is set */
    uint8_t tpdu_nr;              /* DT: TPDU-NR (0 in class 0) */
    uint8_t tpdu_size_code;       /* c0 value (7..13), 0 when absent */
    uint32_t pref_tpdu_size;      /* f0 value in octets, 0 when absent */
    uint8_t calling_tsel[I61_TSEL_MAX]; /* c1 */
    size_t calling_tsel_len;
    int has_calling_tsel;
    uint8_t called_tsel[I61_TSEL_MAX];  /* c2 */
    size_t called_tsel_len;
    int has_called_tsel;
    const uint8_t *data;          /* DT user data / CR, CC, DR user data */
    size_t data_len;
} i61_cotp_tpdu;

/* Decodes one TPDU (the octets after the TPKT header). Unknown variable-part
 * parameters are skipped. I61_OK or I61_ERR_MALFORMED_MESSAGE. */
int i61_cotp_decode(const uint8_t *p, size_t len, i61_cotp_tpdu *t);

/* Parameters of a CR or CC. */
typedef struct i61_cotp_conn_params {
    uint16_t dst_ref;             /* CR: 0; CC: the peer's source reference */
    uint16_t src_ref;
    uint8_t class_option;         /* 0 for class 0 */
    uint8_t tpdu_size_code;       /* 7..13 (2^n octets); 0 = omit c0 */
    const uint8_t *calling_tsel;  /* NULL = omit c1 */
    size_t calling_tsel_len;
    const uint8_t *called_tsel;   /* NULL = omit c2 */
    size_t called_tsel_len;
} i61_cotp_conn_params;

/* Whole TPKT frames (header included) appended to b. Parameter order c0, c2, c1
 * as captured (001, 002). */
int i61_cotp_write_cr(i61_buf *b, const i61_cotp_conn_params *p);
int i61_cotp_write_cc(i61_buf *b, const i61_cotp_conn_params *p);
int i61_cotp_write_dr(i61_buf *b, uint16_t dst_ref, uint16_t src_ref, uint8_t reason);
int i61_cotp_write_er(i61_buf *b, uint16_t dst_ref, uint8_t cause);

/* TPDU size in octets for a c0 code (7..13 -> 128..8192), 0 for other codes. */
uint32_t i61_cotp_size_from_code(uint8_t code);
/* Largest c0 code whose size is <= octets (at least 7). */
uint8_t i61_cotp_code_for_size(uint32_t octets);

/* Writes the 7-octet header of a data frame (TPKT + DT) carrying user_len
 * octets (user_len <= 65528). */
void i61_cotp_put_dt_header(uint8_t out[7], size_t user_len, int eot);

/* Appends a TSDU of len octets as as many DT frames as needed so that no TPDU
 * exceeds tpdu_size octets (i.e. at most tpdu_size - 3 user octets each), all
 * but the last with EOT clear. The TSDU is the concatenation of part1 and
 * part2 (either may be empty). */
int i61_cotp_write_data(i61_buf *b, uint32_t tpdu_size, const uint8_t *part1, size_t len1,
                        const uint8_t *part2, size_t len2);

/* Reassembly of a segmented TSDU (DT EOT=0 ... EOT=1), bounded by max octets. */
typedef struct i61_cotp_reasm {
    i61_buf buf;
    size_t max;
} i61_cotp_reasm;

void i61_cotp_reasm_init(i61_cotp_reasm *r, size_t max);
void i61_cotp_reasm_free(i61_cotp_reasm *r);
void i61_cotp_reasm_reset(i61_cotp_reasm *r);
/* Feeds the user data of one DT. Returns 1 when a TSDU is complete: *tsdu and
 * *tsdu_len then designate it (either `data` itself when nothing was buffered,
 * or the internal buffer; valid until the next push/reset). Returns 0 when
 * more DTs are needed, -I61_ERR_MALFORMED_MESSAGE (negative) when the TSDU
 * would exceed max (the buffer is reset), -I61_ERR_UNKNOWN when out of memory. */
int i61_cotp_reasm_push(i61_cotp_reasm *r, const uint8_t *data, size_t len, int eot,
                        const uint8_t **tsdu, size_t *tsdu_len);

#endif
