/* MMS ReadJournal [65] (ISO 9506-2; PROTOCOL.md sections 8 and 14, goldens
 * 130 and 131), both directions. Pure codec: whole MMS PDUs in and out, no I/O.
 *
 * Wire shapes (context tags; see ISO 9506-2 for which are IMPLICIT):
 *   ReadJournal-Request   bf 41 { [0] journalName ObjectName,
 *                                 [1] rangeStartSpecification OPT CHOICE {
 *                                       [0] startingTime TimeOfDay,
 *                                       [1] startingEntry OCTET STRING },
 *                                 [2] rangeStopSpecification OPT CHOICE {
 *                                       [0] endingTime TimeOfDay,
 *                                       [1] numberOfEntries Integer32 },
 *                                 [4] listOfVariables OPT SEQ OF VisibleString,
 *                                 [5] entryToStartAfter OPT {
 *                                       [0] timeSpecification TimeOfDay,
 *                                       [1] entrySpecification OCTET STRING } }
 *   ReadJournal-Response  bf 41 { [0] listOfJournalEntry SEQ OF JournalEntry,
 *                                 [1] moreFollows BOOLEAN DEFAULT FALSE }
 *   JournalEntry          30 { [0] entryIdentifier OCTET STRING,
 *                              [1] originatingApplication ApplicationReference,
 *                              [2] entryContent { [0] occurrenceTime TimeOfDay,
 *                                   [1] additionalDetail OPT (skipped),
 *                                   [2] data { [0] event OPT (skipped),
 *                                              [1] listOfVariables OPT SEQ OF
 *                                                  SEQ { [0] variableTag VisibleString,
 *                                                        [1] valueSpecification Data } }
 *                                   | [3] annotation MMSString (decoded as an
 *                                        entry without variables) } }
 *   TimeOfDay: 6 octets (ms of day, days since 1984-01-01), as Data
 *   binary-time; 4-octet TimeOfDay (no date) is accepted by the decoders and
 *   taken as that time on 1984-01-01.
 *
 * IEC 61850-8-1 puts each logged value in a variable whose tag is the data
 * reference and, when the log records reason codes, follows it with a
 * variable tagged "ReasonCode" holding a BIT STRING with the report reason
 * bits. This codec does not pair them: it returns the variables in order.
 *
 * Checked against libiec61850 1.6 (facts, not code): its server sends
 * entryIdentifier as 8 octets (its uint64 entry number in host order),
 * originatingApplication as a1 02 30 00 (we send a1 00 and accept any
 * content), occurrenceTime 6 octets, data [2] { listOfVariables [1] } with
 * each value followed by a "ReasonCode" variable holding a 7-bit BIT STRING,
 * and moreFollows only when TRUE. Its client ignores originatingApplication
 * and refuses unknown tags inside a JournalEntry. Its server answers a
 * by-time query only with both startingTime and endingTime (a request with
 * startingTime alone is rejected invalid-argument when the log has storage),
 * and a query-after only with both parts of entryToStartAfter; it rejects
 * startingEntry and numberOfEntries.
 * Our decoders also accept an absent listOfJournalEntry (no entries).
 *
 * Return values as in mms_pdu.h: encoders I61_OK, I61_ERR_INVALID_ARGUMENT,
 * I61_ERR_UNKNOWN (out of memory; a partial PDU is removed from the buffer);
 * response decoders I61_OK, I61_ERR_MALFORMED_MESSAGE or the i61_err of a
 * confirmed-ErrorPDU / RejectPDU answering the request (details in the
 * optional i61_mms_error); request decoders I61_OK,
 * I61_ERR_MALFORMED_MESSAGE, I61_ERR_UNKNOWN. Decoders never read past len
 * and never recurse except through the Data decoder's own depth limit.
 */
#ifndef I61_MMS_JOURNAL_H
#define I61_MMS_JOURNAL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "i61.h"
#include "../ber/ber.h"
#include "mms_pdu.h"

#define I61_MMS_SVC_READ_JOURNAL 65

/* IEC 61850 entry identifiers are 8 octets; the decoders accept 0..16. */
#define I61_MMS_JOURNAL_ID_MAX 16
/* Most entries one response may carry for the decoder, and most variables
 * per entry (more: MALFORMED). */
#define I61_MMS_JOURNAL_MAX_ENTRIES 8192u
#define I61_MMS_JOURNAL_MAX_VARS 4096u

/* TimeOfDay <-> ms since 1970 UTC. enc writes 6 octets; returns false when
 * ms is before 1984-01-01 or too large. dec accepts 4 or 6 octets. */
bool i61_mms_time_of_day_enc(int64_t ms, uint8_t out[6]);
bool i61_mms_time_of_day_dec(const uint8_t *p, size_t len, int64_t *ms);

typedef struct i61_mms_journal_var {
    char *tag;                 /* variableTag, malloc'ed (decoder) */
    i61_value *value;          /* owned */
} i61_mms_journal_var;

typedef struct i61_mms_journal_entry {
    uint8_t id[I61_MMS_JOURNAL_ID_MAX];
    size_t id_len;
    int64_t time_ms;           /* occurrenceTime */
    i61_mms_journal_var *vars; /* malloc'ed, nvars of them (decoder) */
    size_t nvars;
} i61_mms_journal_entry;
/* Frees tags, values and the vars array; leaves the entry empty. */
void i61_mms_journal_entry_clear(i61_mms_journal_entry *e);

typedef struct i61_mms_journal_list {
    i61_mms_journal_entry *items;
    size_t count;
    size_t cap;
} i61_mms_journal_list;
void i61_mms_journal_list_init(i61_mms_journal_list *l);
void i61_mms_journal_list_clear(i61_mms_journal_list *l);

/* ------------------------------------------------------------- entries */

/* Appends one JournalEntry TLV (30 ...) for e: originatingApplication is
 * sent empty (a1 00). Variables with a NULL value are refused
 * (I61_ERR_INVALID_ARGUMENT). This encoding is also the storage format of
 * the server's logs and of i61_server_log_export. */
int i61_mms_enc_journal_entry(i61_buf *b, const i61_mms_journal_entry *e);
/* Decodes the JournalEntry TLV at p (at most len octets) into *out (empty
 * on entry; cleared on failure); *used = octets of the TLV. */
int i61_mms_dec_journal_entry(const uint8_t *p, size_t len, size_t *used,
                              i61_mms_journal_entry *out);

/* ------------------------------------------------------ client: request */

typedef struct i61_mms_journal_req {
    i61_mms_name journal;      /* domain-specific: domain + item "LN$LogName" */
    bool has_start_time;
    int64_t start_ms;
    bool has_start_entry;      /* startingEntry (exclusive with has_start_time) */
    uint8_t start_entry[I61_MMS_JOURNAL_ID_MAX];
    size_t start_entry_len;
    bool has_end_time;
    int64_t end_ms;
    bool has_num_entries;      /* numberOfEntries (exclusive with has_end_time) */
    int32_t num_entries;
    bool has_after;            /* entryToStartAfter */
    int64_t after_ms;
    uint8_t after_entry[I61_MMS_JOURNAL_ID_MAX];
    size_t after_entry_len;
} i61_mms_journal_req;

int i61_mms_enc_read_journal_req(i61_buf *b, uint32_t invoke_id, const i61_mms_journal_req *q);
/* Appends the entries to *out (initialised by the caller; on failure *out
 * keeps what it had before the call). */
int i61_mms_dec_read_journal_resp(const uint8_t *pdu, size_t len, i61_mms_journal_list *out,
                                  bool *more_follows, i61_mms_error *err);

/* ------------------------------------------------------ server: request */

/* r->service must be I61_MMS_SVC_READ_JOURNAL. listOfVariables is skipped. */
int i61_mms_dec_read_journal_req(const i61_mms_request *r, i61_mms_journal_req *out);
/* Response around already encoded JournalEntry TLVs (entries, entries_len
 * octets, may be 0). */
int i61_mms_enc_read_journal_resp(i61_buf *b, uint32_t invoke_id, const uint8_t *entries,
                                  size_t entries_len, bool more_follows);
/* Octets that response takes (moreFollows TRUE): entries fit a PDU of
 * max_pdu octets when this is <= max_pdu. */
size_t i61_mms_read_journal_resp_size(uint32_t invoke_id, size_t entries_len);

#endif
