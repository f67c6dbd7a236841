/* InformationReport "RPT" codec (IEC 61850-8-1 reports, PROTOCOL.md section 11):
 * the whole unconfirmed MMS PDU
 *   a3 L a0 L { a1 05 80 03 "RPT", a0 L { Data ... } }
 * Pure functions over buffers, used by the client (decode) and the server
 * (encode, segmentation size).
 *
 * Masks are those of i61.h: i61_opt_flds for OptFlds, i61_reason for the
 * ReasonCode (IEC bit n -> 1 << (n - 1), application-trigger bit 6 -> 64).
 * The server writes OptFlds as a 10-bit string and ReasonCode as a 6-bit
 * string (7 bits when application-trigger is set); the decoder accepts any
 * bit-string size.
 */
#ifndef I61_MMS_REPORT_H
#define I61_MMS_REPORT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "i61.h"
#include "../ber/ber.h"

/* Header of one report PDU (one segment). Which optional fields are present
 * follows opt_flds (segmentation: I61_OPT_SEGMENTATION => sub_seq_num and
 * more_segments are encoded). */
typedef struct i61_rpt_hdr {
    const char *rpt_id;
    uint32_t opt_flds;
    uint32_t seq_num;
    uint8_t time[6];            /* TimeOfEntry, binary time (ms of day, days since 1984) */
    const char *dataset;        /* "LD/LN$name" */
    bool buf_ovfl;
    uint8_t entry_id[8];
    uint32_t conf_rev;
    uint32_t sub_seq_num;
    bool more_segments;
    uint32_t dataset_size;      /* bits of the inclusion bit string */
} i61_rpt_hdr;

/* One included member for the encoder: data is one encoded Data TLV. */
typedef struct i61_rpt_enc_member {
    uint32_t index;             /* position in the data set, < dataset_size */
    const char *ref;            /* "LD/LN$FC$DO[$DA]" (used with I61_OPT_DATA_REF) */
    const uint8_t *data;
    size_t data_len;
    int reason;                 /* i61_reason mask (used with I61_OPT_REASON) */
} i61_rpt_enc_member;

/* Appends the whole PDU. Members must be in ascending index order.
 * 0, or I61_ERR_INVALID_ARGUMENT (index out of range / not ascending), or
 * I61_ERR_UNKNOWN (out of memory). */
int i61_mms_encode_report(i61_buf *b, const i61_rpt_hdr *h, const i61_rpt_enc_member *m,
                          size_t n);
/* Exact size in octets of what i61_mms_encode_report would append. */
size_t i61_mms_report_size(const i61_rpt_hdr *h, const i61_rpt_enc_member *m, size_t n);

/* A decoded report (one PDU); owned strings/values. */
typedef struct i61_rpt_member {
    uint32_t index;
    char *ref;                  /* NULL without I61_OPT_DATA_REF */
    i61_value *value;
    int reason;                 /* -1 without I61_OPT_REASON */
} i61_rpt_member;

typedef struct i61_rpt {
    char *rpt_id;
    uint32_t opt_flds;
    uint32_t seq_num;
    bool has_time;
    uint8_t time[6];
    char *dataset;              /* NULL when absent */
    bool buf_ovfl;
    bool has_entry_id;
    uint8_t entry_id[8];
    uint32_t conf_rev;
    uint32_t sub_seq_num;
    bool more_segments;
    uint32_t dataset_size;
    i61_rpt_member *members;
    size_t n;
} i61_rpt;

/* Is this unconfirmed PDU an InformationReport named "RPT"? (cheap check) */
bool i61_mms_is_report(const uint8_t *pdu, size_t len);
/* Decodes a whole "RPT" PDU into *out (zeroed first; free with
 * i61_mms_report_clear even on failure). 0 or I61_ERR_MALFORMED_MESSAGE
 * (wrong shape, inclusion bits not matching the member count, too few
 * values/refs/reasons, a bound exceeded). */
int i61_mms_decode_report(const uint8_t *pdu, size_t len, i61_rpt *out);
void i61_mms_report_clear(i61_rpt *r);

/* Binary time (6 octets) <-> milliseconds since 1970-01-01 UTC. */
int64_t i61_binary_time_to_ms(const uint8_t t[6]);
void i61_binary_time_from_ms(int64_t ms, uint8_t t[6]);

#endif
