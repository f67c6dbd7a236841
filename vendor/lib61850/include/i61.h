/*
 * lib61850 public API.
 *
 * This header is also the cffi cdef of the Python binding: py61850/_build_ffi.py
 * strips every line that starts with '#' and feeds the rest to cffi. Keep it in
 * the subset cffi parses: plain typedefs, enums with explicit values, function
 * prototypes, no macros used in declarations, no C++ guards, no inline bodies.
 *
 * Conventions:
 *  - every public symbol starts with i61_ (types) / I61_ (constants);
 *  - every object has a _new and a _free function (or is borrowed, as documented);
 *  - every fallible call returns i61_err, whose values are the Python
 *    IedClientError values one for one;
 *  - strings are NUL-terminated UTF-8/ASCII; returned strings are owned by the
 *    object they came from unless the function says "caller frees with i61_free".
 */
#ifndef I61_H
#define I61_H
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ errors */

typedef enum i61_err {
    I61_OK = 0,
    I61_ERR_NOT_CONNECTED = 1,
    I61_ERR_ALREADY_CONNECTED = 2,
    I61_ERR_CONNECTION_LOST = 3,
    I61_ERR_SERVICE_NOT_SUPPORTED = 4,
    I61_ERR_CONNECTION_REJECTED = 5,
    I61_ERR_OUTSTANDING_CALL_LIMIT = 6,
    I61_ERR_INVALID_ARGUMENT = 10,
    I61_ERR_OBJECT_REFERENCE_INVALID = 12,
    I61_ERR_UNEXPECTED_VALUE = 13,
    I61_ERR_TIMEOUT = 20,
    I61_ERR_ACCESS_DENIED = 21,
    I61_ERR_OBJECT_DOES_NOT_EXIST = 22,
    I61_ERR_OBJECT_EXISTS = 23,
    I61_ERR_OBJECT_ACCESS_UNSUPPORTED = 24,
    I61_ERR_TYPE_INCONSISTENT = 25,
    I61_ERR_TEMPORARILY_UNAVAILABLE = 26,
    I61_ERR_OBJECT_UNDEFINED = 27,
    I61_ERR_INVALID_ADDRESS = 28,
    I61_ERR_HARDWARE_FAULT = 29,
    I61_ERR_TYPE_UNSUPPORTED = 30,
    I61_ERR_OBJECT_ATTRIBUTE_INCONSISTENT = 31,
    I61_ERR_OBJECT_VALUE_INVALID = 32,
    I61_ERR_OBJECT_INVALIDATED = 33,
    I61_ERR_MALFORMED_MESSAGE = 34,
    I61_ERR_OBJECT_CONSTRAINT_CONFLICT = 35,
    I61_ERR_SERVICE_NOT_IMPLEMENTED = 98,
    I61_ERR_UNKNOWN = 99
} i61_err;

/* Static English text for an error code (never NULL). */
const char *i61_err_str(int err);

/* MMS DataAccessError (ISO 9506) -> i61_err. */
int i61_err_from_data_access_error(int dae);

/* Free memory that a function documents as "caller frees with i61_free". */
void i61_free(void *p);

/* ------------------------------------------------------- functional constraints */

typedef enum i61_fc {
    I61_FC_ST = 0, I61_FC_MX = 1, I61_FC_SP = 2, I61_FC_SV = 3, I61_FC_CF = 4,
    I61_FC_DC = 5, I61_FC_SG = 6, I61_FC_SE = 7, I61_FC_SR = 8, I61_FC_OR = 9,
    I61_FC_BL = 10, I61_FC_EX = 11, I61_FC_CO = 12, I61_FC_US = 13, I61_FC_MS = 14,
    I61_FC_RP = 15, I61_FC_BR = 16, I61_FC_LG = 17, I61_FC_GO = 18,
    I61_FC_ALL = 99, I61_FC_NONE = -1
} i61_fc;

/* "ST", "MX", ... or NULL for an unknown value. */
const char *i61_fc_name(int fc);
/* Two-letter name -> i61_fc, or I61_FC_NONE. */
int i61_fc_from_name(const char *name);

/* ------------------------------------------------------------------ values */

typedef enum i61_type {
    I61_TYPE_ARRAY = 0,
    I61_TYPE_STRUCTURE = 1,
    I61_TYPE_BOOLEAN = 2,
    I61_TYPE_BIT_STRING = 3,
    I61_TYPE_INTEGER = 4,
    I61_TYPE_UNSIGNED = 5,
    I61_TYPE_FLOAT = 6,
    I61_TYPE_OCTET_STRING = 7,
    I61_TYPE_VISIBLE_STRING = 8,
    I61_TYPE_GENERALIZED_TIME = 9,
    I61_TYPE_BINARY_TIME = 10,
    I61_TYPE_BCD = 11,
    I61_TYPE_OBJ_ID = 12,
    I61_TYPE_STRING = 13,          /* MMSString, UTF-8 */
    I61_TYPE_UTC_TIME = 14,
    I61_TYPE_DATA_ACCESS_ERROR = 15
} i61_type;

/* An MMS Data value (or a DataAccessError in a per-element result). A tree:
 * structures and arrays own their elements. */
typedef struct i61_value i61_value;

i61_value *i61_value_new_boolean(int v);
i61_value *i61_value_new_integer(int64_t v);            /* width chosen by value */
i61_value *i61_value_new_unsigned(uint64_t v);
i61_value *i61_value_new_float(float v);                /* 32-bit IEEE */
i61_value *i61_value_new_double(double v);              /* 64-bit IEEE */
/* nbits bits, MSB first from bit 0; bytes holds (nbits+7)/8 octets (may be NULL = zeros) */
i61_value *i61_value_new_bit_string(int nbits, const uint8_t *bytes);
i61_value *i61_value_new_octet_string(const uint8_t *bytes, size_t len);
i61_value *i61_value_new_visible_string(const char *s);
i61_value *i61_value_new_mms_string(const char *utf8);
/* 8 octets: seconds(4, BE) | fraction(3) | time quality(1) */
i61_value *i61_value_new_utc_time(const uint8_t *octets8);
/* len 4 (ms of day) or 6 (ms of day + days since 1984-01-01) */
i61_value *i61_value_new_binary_time(const uint8_t *octets, size_t len);
i61_value *i61_value_new_generalized_time(const char *text);
i61_value *i61_value_new_bcd(int64_t v);
i61_value *i61_value_new_data_access_error(int dae);
/* n empty (NULL) slots; fill them with i61_value_set_element */
i61_value *i61_value_new_structure(size_t n);
i61_value *i61_value_new_array(size_t n);
i61_value *i61_value_clone(const i61_value *v);
void i61_value_free(i61_value *v);

int i61_value_type(const i61_value *v);
/* Booleans, integers, unsigned, bcd: get as int64/uint64. I61_ERR_TYPE_INCONSISTENT
 * on a wrong type, I61_ERR_OBJECT_VALUE_INVALID when the value does not fit. */
int i61_value_get_boolean(const i61_value *v, int *out);
int i61_value_get_int64(const i61_value *v, int64_t *out);
int i61_value_get_uint64(const i61_value *v, uint64_t *out);
/* Float of either width as double. */
int i61_value_get_double(const i61_value *v, double *out);
/* 32 or 64 for floats, bit size for integers/unsigned as received (8..64),
 * number of bits for bit strings, 0 otherwise. */
int i61_value_bit_size(const i61_value *v);
/* Raw content of octet/visible/MMS strings, bit strings, utc/binary/generalized
 * time and objId (as content octets). Borrowed; NULL for other types.
 * Strings are NUL-terminated as well (len excludes the NUL). */
const uint8_t *i61_value_get_bytes(const i61_value *v, size_t *len);
/* DataAccessError code of an I61_TYPE_DATA_ACCESS_ERROR value, else -1. */
int i61_value_get_data_access_error(const i61_value *v);
/* Structures and arrays. */
size_t i61_value_count(const i61_value *v);
/* Borrowed child, NULL if out of range or not constructed. */
i61_value *i61_value_element(const i61_value *v, size_t i);
/* Takes ownership of child (freeing any previous element). */
int i61_value_set_element(i61_value *v, size_t i, i61_value *child);

/* ------------------------------------------------------ type specifications */

typedef struct i61_typespec i61_typespec;

/* Same numbering as i61_type (ARRAY, STRUCTURE, BOOLEAN, ...). */
int i61_typespec_kind(const i61_typespec *t);
/* Integer/unsigned: bits; float: format width (32/64); bit/octet/visible/mms
 * string: size (negative = variable length, at most -size); array: element count. */
int i61_typespec_size(const i61_typespec *t);
/* Structure: number of components; array: 1 (the element type); else 0. */
size_t i61_typespec_count(const i61_typespec *t);
/* Borrowed component / element type. */
const i61_typespec *i61_typespec_child(const i61_typespec *t, size_t i);
/* Component name (structure children), NULL otherwise. */
const char *i61_typespec_name(const i61_typespec *t);
void i61_typespec_free(i61_typespec *t);

/* -------------------------------------------------------------- string lists */

typedef struct i61_strlist i61_strlist;
size_t i61_strlist_count(const i61_strlist *l);
const char *i61_strlist_get(const i61_strlist *l, size_t i);
void i61_strlist_free(i61_strlist *l);

/* ------------------------------------------------------------------ client */

typedef enum i61_conn_state {
    I61_STATE_CLOSED = 0,
    I61_STATE_CONNECTING = 1,
    I61_STATE_CONNECTED = 2,
    I61_STATE_CLOSING = 3
} i61_conn_state;

typedef enum i61_acsi_class {
    I61_ACSI_DATA_OBJECT = 0,
    I61_ACSI_DATA_SET = 1,
    I61_ACSI_BRCB = 2,
    I61_ACSI_URCB = 3,
    I61_ACSI_LCB = 4,
    I61_ACSI_LOG = 5,
    I61_ACSI_SGCB = 6,
    I61_ACSI_GOCB = 7,
    I61_ACSI_GSCB = 8,
    I61_ACSI_MSVCB = 9,
    I61_ACSI_USVCB = 10
} i61_acsi_class;

typedef struct i61_client i61_client;

/* Called from the I/O thread whenever the state changes (never with a lock of
 * the client held, so the callee may call i61_client_state). */
typedef void (*i61_state_handler)(void *userdata, int new_state);

i61_client *i61_client_new(void);
/* Closes the connection if still open (abort) and frees. */
void i61_client_free(i61_client *c);
void i61_client_set_connect_timeout(i61_client *c, uint32_t ms);   /* default 10000 */
void i61_client_set_request_timeout(i61_client *c, uint32_t ms);   /* default 5000 */
/* Proposed max MMS PDU size (default 65000); effective after the next connect. */
void i61_client_set_max_pdu_size(i61_client *c, uint32_t octets);
void i61_client_set_state_handler(i61_client *c, i61_state_handler h, void *userdata);

int i61_client_connect(i61_client *c, const char *host, int port);
/* MMS Conclude + ACSE release, then TCP close. */
int i61_client_release(i61_client *c);
/* ACSE abort (unanswered), then TCP close. */
int i61_client_abort(i61_client *c);
/* Release if connected, fall back to abort on failure; always ends CLOSED. */
int i61_client_close(i61_client *c);
int i61_client_state(const i61_client *c);
/* Negotiated values after connect (0 before). */
uint32_t i61_client_max_pdu_size(const i61_client *c);
int i61_client_max_outstanding(const i61_client *c);
/* Text describing the last error on this client (thread-local per client call:
 * valid until the next call on the same client from the same thread). */
const char *i61_client_last_error_text(const i61_client *c);

/* Identify: three strings, caller frees each with i61_free. */
int i61_client_identify(i61_client *c, char **vendor, char **model, char **revision);
/* MMS Status. */
int i61_client_status(i61_client *c, int *logical, int *physical);

/* Name lists (GetNameList with continue-after paging). *out: caller frees. */
int i61_client_get_domain_names(i61_client *c, i61_strlist **out);
int i61_client_get_variable_names(i61_client *c, const char *domain, i61_strlist **out);
int i61_client_get_nvl_names(i61_client *c, const char *domain, i61_strlist **out);
int i61_client_get_journal_names(i61_client *c, const char *domain, i61_strlist **out);

/* ACSI directories, derived from the name lists / type specifications.
 * ln_ref "LD/LN"; data_ref "LD/LN.DO[.SDO...]". Results are names only; with
 * with_fc the entries carry the FC as "name[FC]". fc filter I61_FC_ALL = none. */
int i61_client_get_logical_nodes(i61_client *c, const char *ld, i61_strlist **out);
int i61_client_get_ln_directory(i61_client *c, const char *ln_ref, int acsi_class, i61_strlist **out);
int i61_client_get_data_directory(i61_client *c, const char *data_ref, int fc_filter, int with_fc, i61_strlist **out);

/* GetVariableAccessAttributes of an object reference "LD/LN.DO.DA" with FC.
 * (FC I61_FC_NONE: ref is "LD/LN" or an MMS-style "LD/LN$FC$..." name.) */
int i61_client_get_variable_spec(i61_client *c, const char *ref, int fc, i61_typespec **out);

/* Reads. ref: "LD/LN.DO.DA" (optionally "DO(3).DA" for an array element);
 * FC as above. Typed reads convert with range checks; a server-side
 * DataAccessError comes back as the matching i61_err, while a value of another
 * MMS type than the reader expects (or one out of the reader's range) gives
 * I61_ERR_UNEXPECTED_VALUE. */
int i61_client_read_value(i61_client *c, const char *ref, int fc, i61_value **out);
int i61_client_read_bool(i61_client *c, const char *ref, int fc, int *out);
int i61_client_read_int64(i61_client *c, const char *ref, int fc, int64_t *out);
int i61_client_read_uint64(i61_client *c, const char *ref, int fc, uint64_t *out);
int i61_client_read_double(i61_client *c, const char *ref, int fc, double *out);
/* Alternate access: element `index` of an array, optionally then `component`
 * (a '$'- or '.'-separated path inside that element, may be NULL). */
int i61_client_read_array_element(i61_client *c, const char *ref, int fc, uint32_t index,
                                  const char *component, i61_value **out);
/* Many references in one MMS Read. refs/fcs: n entries. out: a new array value
 * of n elements, each the Data or an I61_TYPE_DATA_ACCESS_ERROR value.
 * Fails as a whole only if the request fails; per-element errors are values. */
int i61_client_read_values(i61_client *c, const char *const *refs, const int *fcs, size_t n,
                           i61_value **out);

/* Writes. The value's MMS type must be what the server holds (the server
 * answers type-inconsistent otherwise). Typed writes choose the MMS type:
 * bool BOOLEAN, int32/int64 INTEGER, uint32 UNSIGNED, float FLOAT32,
 * string VISIBLE-STRING, octets OCTET-STRING. */
int i61_client_write_value(i61_client *c, const char *ref, int fc, const i61_value *v);
/* Many writes in one MMS Write; results[i] gets I61_OK or the i61_err of element i. */
int i61_client_write_values(i61_client *c, const char *const *refs, const int *fcs,
                            const i61_value *const *values, size_t n, int *results);

/* ------------------------------------------------------------- data sets
 * Data set references: "LD/LN.name" (domain-specific NamedVariableList, MMS
 * item "LN$name"; "LD/LN$name" is accepted too), "@name" (association-
 * specific: lives until the association closes) or "LN.name" without a
 * logical device (VMD-specific). Member references are FCDAs/FCDs
 * "LD/LN.DO[.DA...][FC]" (the FC in brackets) or MMS style "LD/LN$FC$DO$DA";
 * an array element as "LD/LN.DO.arr(2)[.x][FC]". */
int i61_client_create_dataset(i61_client *c, const char *ref, const char *const *members,
                              size_t n);
/* I61_OK when the server deleted it; I61_ERR_OBJECT_DOES_NOT_EXIST when it
 * matched nothing; I61_ERR_ACCESS_DENIED when it exists but was not deleted
 * (not deletable, or in use by a report control block). */
int i61_client_delete_dataset(i61_client *c, const char *ref);
/* Member references "LD/LN.DO.DA[FC]" in order; *deletable (may be NULL) the
 * server's mmsDeletable flag. *out: caller frees. */
int i61_client_get_dataset_directory(i61_client *c, const char *ref, i61_strlist **out,
                                     int *deletable);
/* Values of all members in one Read: *out is a new ARRAY with one element per
 * member, the Data or an I61_TYPE_DATA_ACCESS_ERROR value. */
int i61_client_read_dataset(i61_client *c, const char *ref, i61_value **out);
/* Writes n values (one per member, in member order) in one Write;
 * results[i] gets I61_OK or the i61_err of member i. */
int i61_client_write_dataset(i61_client *c, const char *ref, const i61_value *const *values,
                             size_t n, int *results);
/* --------------------------------------------------------- end data sets */

/* ------------------------------------------------------------- reporting
 *
 * Flag masks (the same values as py61850's Python flag enums). IEC bit n of
 * the wire bit strings (bit 0 = first bit, reserved) is the mask 1 << (n - 1):
 *   TrgOps      1 dchg, 2 qchg, 4 dupd, 8 integrity, 16 GI
 *   OptFlds     1 seq-num, 2 report-time-stamp, 4 reason-for-inclusion,
 *               8 data-set-name, 16 data-reference, 32 buffer-overflow,
 *               64 entryID, 128 conf-revision, 256 segmentation
 *   ReasonCode  1 dchg, 2 qchg, 4 dupd, 8 integrity, 16 GI,
 *               64 application-trigger (IEC bit 6; 32 is left free) */
typedef enum i61_trg_ops {
    I61_TRG_DCHG = 1, I61_TRG_QCHG = 2, I61_TRG_DUPD = 4, I61_TRG_INTEGRITY = 8,
    I61_TRG_GI = 16
} i61_trg_ops;

typedef enum i61_opt_flds {
    I61_OPT_SEQ_NUM = 1, I61_OPT_TIME_STAMP = 2, I61_OPT_REASON = 4, I61_OPT_DATA_SET = 8,
    I61_OPT_DATA_REF = 16, I61_OPT_BUF_OVFL = 32, I61_OPT_ENTRY_ID = 64, I61_OPT_CONF_REV = 128,
    I61_OPT_SEGMENTATION = 256
} i61_opt_flds;

typedef enum i61_reason {
    I61_REASON_DCHG = 1, I61_REASON_QCHG = 2, I61_REASON_DUPD = 4, I61_REASON_INTEGRITY = 8,
    I61_REASON_GI = 16, I61_REASON_APP_TRIGGER = 64
} i61_reason;

/* Attributes of a report control block. The value types are those of
 * IEC 61850-8-1: RPT_ID, DATSET visible string; RPT_ENA, RESV, GI, PURGE_BUF
 * boolean; CONF_REV, BUF_TM, INTG_PD unsigned 32; SQ_NUM unsigned (8 bits in a
 * URCB, 16 in a BRCB); OPT_FLDS bit string (10); TRG_OPS bit string (6);
 * ENTRY_ID octet string (8); TIME_OF_ENTRY binary time (6); RESV_TMS
 * integer 16; OWNER octet string. */
typedef enum i61_rcb_attr {
    I61_RCB_RPT_ID = 0, I61_RCB_RPT_ENA = 1, I61_RCB_RESV = 2, I61_RCB_DATSET = 3,
    I61_RCB_CONF_REV = 4, I61_RCB_OPT_FLDS = 5, I61_RCB_BUF_TM = 6, I61_RCB_SQ_NUM = 7,
    I61_RCB_TRG_OPS = 8, I61_RCB_INTG_PD = 9, I61_RCB_GI = 10, I61_RCB_PURGE_BUF = 11,
    I61_RCB_ENTRY_ID = 12, I61_RCB_TIME_OF_ENTRY = 13, I61_RCB_RESV_TMS = 14,
    I61_RCB_OWNER = 15, I61_RCB_ATTR_COUNT = 16
} i61_rcb_attr;

/* "RptID", "RptEna", ... ("TimeofEntry" as on the wire), NULL if out of range. */
const char *i61_rcb_attr_name(int attr);

/* Client-side copy of a report control block. Not thread safe: one thread
 * at a time per object. */
typedef struct i61_rcb i61_rcb;

/* GetURCBValues/GetBRCBValues: one Read of the whole RCB. ref "LD/LN.RP.name",
 * "LD/LN.BR.name" or MMS style "LD/LN$RP$name"; the FC decides URCB/BRCB.
 * The attributes present are learned from the answer (Ed1: no ResvTms/Owner).
 * When the server refuses the whole-RCB Read with a DataAccessError other
 * than object-non-existent (the Rust iec61850 server does for BRCBs), the
 * attributes are read as a list of variables instead.
 * *out: free with i61_rcb_free. I61_ERR_OBJECT_REFERENCE_INVALID when the
 * reference is not an RCB reference, I61_ERR_UNEXPECTED_VALUE when the answer
 * is not an RCB structure. */
int i61_client_read_rcb(i61_client *c, const char *ref, i61_rcb **out);
/* Reads every attribute again into r (clears the changed mask). */
int i61_client_update_rcb(i61_client *c, i61_rcb *r);
/* SetURCBValues/SetBRCBValues: writes the attributes changed since the read
 * (i61_rcb_changed), in the order IEC 61850-8-1 requires: RptEna = FALSE
 * first when it is being disabled, then Resv, ResvTms, RptID, DatSet,
 * OptFlds, BufTm, TrgOps, IntgPd, EntryID, PurgeBuf, then RptEna = TRUE,
 * then GI. single_request: one MMS Write with all of them (the server applies
 * them in order), else one Write per attribute stopping at the first failure.
 * Returns I61_OK when every attribute was accepted (the changed mask is then
 * cleared), else the error of the first refused attribute, whose number goes
 * to *failed_attr (may be NULL; -1 when the request as a whole failed). */
int i61_client_set_rcb(i61_client *c, i61_rcb *r, int single_request, int *failed_attr);

void i61_rcb_free(i61_rcb *r);
/* The reference as "LD/LN.RP.name" / "LD/LN.BR.name" (borrowed). */
const char *i61_rcb_reference(const i61_rcb *r);
int i61_rcb_is_buffered(const i61_rcb *r);
/* 1 when the server's RCB has the attribute. */
int i61_rcb_has(const i61_rcb *r, int attr);
/* Current local value (borrowed, valid until the next set/update), NULL when
 * the RCB has no such attribute. */
const i61_value *i61_rcb_get(const i61_rcb *r, int attr);
/* Sets a local value (copied) and marks the attribute changed. The value must
 * have the attribute's MMS type (unsigned/integer widths are adapted, bit
 * strings must have the same size): I61_ERR_TYPE_INCONSISTENT otherwise;
 * I61_ERR_OBJECT_DOES_NOT_EXIST when the RCB has no such attribute. */
int i61_rcb_set(i61_rcb *r, int attr, const i61_value *v);
/* Bit mask (1 << attr) of the attributes set since the last read/write. */
uint32_t i61_rcb_changed(const i61_rcb *r);
void i61_rcb_clear_changed(i61_rcb *r);

/* A received report (InformationReport "RPT"), segments already joined into
 * one report. Owned by the receiver; free with i61_report_free (any thread). */
typedef struct i61_report i61_report;

/* Reports are queued by the I/O thread as they arrive (from connect on) into a
 * bounded per-client queue (default 65536 reports); when it is full, new
 * reports are dropped and counted. i61_client_next_reports takes up to max
 * reports (oldest first) into out[], waiting up to timeout_ms for the first
 * one: I61_OK with *n >= 1, I61_ERR_TIMEOUT, or I61_ERR_NOT_CONNECTED when the
 * queue is empty and either the connection is closed or
 * i61_client_interrupt_reports was called (that makes the current and the
 * next waits return at once, until i61_client_resume_reports). */
int i61_client_next_reports(i61_client *c, uint32_t timeout_ms, i61_report **out, size_t max,
                            size_t *n);
void i61_client_interrupt_reports(i61_client *c);
void i61_client_resume_reports(i61_client *c);
void i61_client_set_report_queue_size(i61_client *c, uint32_t n);
/* Reports dropped because the queue was full. */
uint64_t i61_client_reports_dropped(const i61_client *c);
/* Reports that could not be decoded (malformed RPT, or segments that did not
 * join up: a missing segment, a new SeqNum mid-report); they are dropped and
 * counted, the association stays up. */
uint64_t i61_client_reports_malformed(const i61_client *c);

void i61_report_free(i61_report *r);
/* RptID as received (the RCB reference when the RCB's RptID is empty). */
const char *i61_report_rpt_id(const i61_report *r);
/* OptFlds as received (i61_opt_flds mask). */
uint32_t i61_report_opt_flds(const i61_report *r);
uint32_t i61_report_seq_num(const i61_report *r);
/* The last segment's SubSeqNum (0 if not segmented); segments are joined, so
 * more_segments_follow is 0 for a delivered report. */
uint32_t i61_report_sub_seq_num(const i61_report *r);
int i61_report_more_segments_follow(const i61_report *r);
/* Number of segments joined into this report (1 if not segmented). */
int i61_report_segments(const i61_report *r);
/* TimeOfEntry as milliseconds since 1970-01-01 UTC (0 when absent). */
int64_t i61_report_time_ms(const i61_report *r);
/* DatSet "LD/LN$name", NULL when absent. */
const char *i61_report_dataset(const i61_report *r);
int i61_report_buf_ovfl(const i61_report *r);
/* EntryID octets (8), NULL when absent. */
const uint8_t *i61_report_entry_id(const i61_report *r, size_t *len);
uint32_t i61_report_conf_rev(const i61_report *r);
/* Number of data set members (bits of the inclusion bit string). */
size_t i61_report_dataset_size(const i61_report *r);
/* Number of members included in this report, and for the i-th included one
 * (0 <= i < count): its index in the data set, its data reference
 * "LD/LN$FC$DO[$DA]" (NULL without the data-reference option), its value
 * (borrowed) and its ReasonCode (i61_reason mask, -1 without the
 * reason-for-inclusion option). */
size_t i61_report_count(const i61_report *r);
int i61_report_member_index(const i61_report *r, size_t i);
const char *i61_report_member_ref(const i61_report *r, size_t i);
const i61_value *i61_report_member_value(const i61_report *r, size_t i);
int i61_report_member_reason(const i61_report *r, size_t i);
/* ------------------------------------------------------- end reporting */

/* --------------------------------------------------------------- control
 *
 * Client side of the IEC 61850 control model (PROTOCOL.md section 12).
 *
 * Control values. ctlVal is passed as an i61_value and adapted to the type
 * the server's Oper structure declares: an integer for a boolean/unsigned/
 * float ctlVal, a boolean for an integer one, and a bare float or integer for
 * an AnalogueValue structure (APC: the value goes into its "f" and/or "i"
 * components). Anything that cannot be adapted is
 * I61_ERR_TYPE_INCONSISTENT before anything is sent.
 *
 * ctlNum. Each control sequence has one ctlNum: a direct operate, a select
 * or a select-with-value starts a sequence with the next number (the previous
 * one + 1, wrapping 255 -> 0; the first sequence uses 1), and the operate and
 * cancel after a select reuse the select's number. i61_control_set_ctl_num
 * fixes the number of the next sequence.
 *
 * T is the time of sending (UtcTime, time quality 0) unless constant T is on:
 * then the T taken when the sequence started is used again by its operate and
 * cancel.
 *
 * Results. select / select_with_value / operate / cancel return I61_OK when
 * the server accepted the command. A refusal comes back as the i61_err of
 * the Write failure (I61_ERR_ACCESS_DENIED for object-access-denied, ...),
 * or I61_ERR_ACCESS_DENIED for an sbo-normal select that read an empty SBO.
 * When the server sent a LastApplError for this object and this ctlNum just
 * before its negative answer (libiec61850), or a [LastApplError, Oper]
 * report just after it (the Rust iec61850 server; its ctlNum is taken from
 * the Oper there), i61_control_op_appl_error gives it (with the AddCause):
 * after a refusal that came without one the call waits up to 200 ms for it,
 * and such a report is not queued as a CommandTermination-.
 * A status-only object refuses every command locally with
 * I61_ERR_SERVICE_NOT_SUPPORTED; a command the model has no use for (select
 * on a direct model, select on sbo-enhanced, select_with_value on
 * sbo-normal) is I61_ERR_INVALID_ARGUMENT. Nothing is sent in those cases.
 * With the enhanced models the outcome of the operation itself comes later
 * as a CommandTermination (see the control events below). */
typedef enum i61_ctl_model {
    I61_CTL_STATUS_ONLY = 0,
    I61_CTL_DIRECT_NORMAL = 1,
    I61_CTL_SBO_NORMAL = 2,
    I61_CTL_DIRECT_ENHANCED = 3,
    I61_CTL_SBO_ENHANCED = 4
} i61_ctl_model;

/* LastApplError.Error */
typedef enum i61_ctl_error {
    I61_CTL_ERROR_NONE = 0,
    I61_CTL_ERROR_UNKNOWN = 1,
    I61_CTL_ERROR_TIMEOUT_TEST_NOT_OK = 2,
    I61_CTL_ERROR_OPERATOR_TEST_NOT_OK = 3
} i61_ctl_error;

/* origin.orCat */
typedef enum i61_or_cat {
    I61_OR_CAT_NOT_SUPPORTED = 0, I61_OR_CAT_BAY_CONTROL = 1, I61_OR_CAT_STATION_CONTROL = 2,
    I61_OR_CAT_REMOTE_CONTROL = 3, I61_OR_CAT_AUTOMATIC_BAY = 4,
    I61_OR_CAT_AUTOMATIC_STATION = 5, I61_OR_CAT_AUTOMATIC_REMOTE = 6,
    I61_OR_CAT_MAINTENANCE = 7, I61_OR_CAT_PROCESS = 8
} i61_or_cat;

/* LastApplError.AddCause (values as libiec61850 1.6 exposes them). */
typedef enum i61_add_cause {
    I61_ADD_CAUSE_UNKNOWN = 0, I61_ADD_CAUSE_NOT_SUPPORTED = 1,
    I61_ADD_CAUSE_BLOCKED_BY_SWITCHING_HIERARCHY = 2, I61_ADD_CAUSE_SELECT_FAILED = 3,
    I61_ADD_CAUSE_INVALID_POSITION = 4, I61_ADD_CAUSE_POSITION_REACHED = 5,
    I61_ADD_CAUSE_PARAMETER_CHANGE_IN_EXECUTION = 6, I61_ADD_CAUSE_STEP_LIMIT = 7,
    I61_ADD_CAUSE_BLOCKED_BY_MODE = 8, I61_ADD_CAUSE_BLOCKED_BY_PROCESS = 9,
    I61_ADD_CAUSE_BLOCKED_BY_INTERLOCKING = 10, I61_ADD_CAUSE_BLOCKED_BY_SYNCHROCHECK = 11,
    I61_ADD_CAUSE_COMMAND_ALREADY_IN_EXECUTION = 12, I61_ADD_CAUSE_BLOCKED_BY_HEALTH = 13,
    I61_ADD_CAUSE_1_OF_N_CONTROL = 14, I61_ADD_CAUSE_ABORTION_BY_CANCEL = 15,
    I61_ADD_CAUSE_TIME_LIMIT_OVER = 16, I61_ADD_CAUSE_ABORTION_BY_TRIP = 17,
    I61_ADD_CAUSE_OBJECT_NOT_SELECTED = 18, I61_ADD_CAUSE_OBJECT_ALREADY_SELECTED = 19,
    I61_ADD_CAUSE_NO_ACCESS_AUTHORITY = 20, I61_ADD_CAUSE_ENDED_WITH_OVERSHOOT = 21,
    I61_ADD_CAUSE_ABORTION_DUE_TO_DEVIATION = 22,
    I61_ADD_CAUSE_ABORTION_BY_COMMUNICATION_LOSS = 23, I61_ADD_CAUSE_BLOCKED_BY_COMMAND = 24,
    I61_ADD_CAUSE_NONE = 25, I61_ADD_CAUSE_INCONSISTENT_PARAMETERS = 26,
    I61_ADD_CAUSE_LOCKED_BY_OTHER_CLIENT = 27
} i61_add_cause;

/* A LastApplError as received (or, for a CommandTermination+, the
 * "no error" record described at i61_control_last_appl_error). */
typedef struct i61_last_appl_error {
    char control_object[130];   /* CntrlObj, e.g. "IED1LD1/GGIO1$CO$SPCSO2$Oper" */
    int error;                  /* i61_ctl_error */
    int or_cat;                 /* i61_or_cat */
    uint8_t or_ident[64];
    size_t or_ident_len;
    int ctl_num;
    int add_cause;              /* i61_add_cause (other values passed through) */
} i61_last_appl_error;

/* Client-side control object. Not thread safe: one thread at a time per
 * object (the I/O thread updates its LastApplError under its own lock). It
 * keeps no reference on the client: free it before the client. */
typedef struct i61_control i61_control;

/* ref: the controllable data object "LD/LN.DO" (or "LD/LN.DO.SDO"; MMS style
 * "LD/LN$CO$DO" is accepted too). model: an i61_ctl_model, or -1 to read
 * ctlModel [CF] from the server. Unless the model is status-only, the type of
 * LN$CO$DO$Oper is read (GetVariableAccessAttributes) to learn the ctlVal
 * type and whether operTm and Check are present; when model is given and
 * that read fails, the object assumes ctlVal of the type of the first value
 * given, no operTm, Check present. I61_ERR_OBJECT_REFERENCE_INVALID for a bad
 * reference, I61_ERR_OBJECT_DOES_NOT_EXIST when the server has no ctlModel
 * (model -1) / no Oper, I61_ERR_UNEXPECTED_VALUE when ctlModel is not 0..4 or
 * Oper is not a control structure. *out: free with i61_control_free. */
int i61_client_control_new(i61_client *c, const char *ref, int model, i61_control **out);
void i61_control_free(i61_control *ctl);
/* "LD/LN.DO" (borrowed). */
const char *i61_control_reference(const i61_control *ctl);
int i61_control_model(const i61_control *ctl);
/* ctlVal type from the Oper structure (borrowed), NULL when not known. */
const i61_typespec *i61_control_ctl_val_type(const i61_control *ctl);
int i61_control_has_oper_tm(const i61_control *ctl);
int i61_control_has_check(const i61_control *ctl);

/* origin {orCat, orIdent}; or_ident at most 64 octets (else
 * I61_ERR_INVALID_ARGUMENT). Default: orCat 0, empty orIdent. */
int i61_control_set_origin(i61_control *ctl, int or_cat, const uint8_t *or_ident, size_t len);
/* ctlNum of the last command sent (0 before any). */
int i61_control_ctl_num(const i61_control *ctl);
/* ctlNum (0..255) of the next control sequence. */
int i61_control_set_ctl_num(i61_control *ctl, int ctl_num);
void i61_control_set_test(i61_control *ctl, int on);
void i61_control_set_interlock_check(i61_control *ctl, int on);
void i61_control_set_synchro_check(i61_control *ctl, int on);
void i61_control_use_constant_t(i61_control *ctl, int on);

/* sbo-normal: Read LN$CO$DO$SBO. */
int i61_control_select(i61_control *ctl);
/* sbo-enhanced: Write LN$CO$DO$SBOw. */
int i61_control_select_with_value(i61_control *ctl, const i61_value *ctl_val);
/* Write LN$CO$DO$Oper. oper_time_ms: time-activated operate at that time
 * (ms since 1970 UTC) when the Oper structure has operTm (0 = at once);
 * I61_ERR_INVALID_ARGUMENT when it is not 0 and there is no operTm. */
int i61_control_operate(i61_control *ctl, const i61_value *ctl_val, uint64_t oper_time_ms);
/* Write LN$CO$DO$Cancel with the ctlVal of the last select-with-value or
 * operate (I61_ERR_INVALID_ARGUMENT before any). */
int i61_control_cancel(i61_control *ctl);

/* The i61_err of the last select/select_with_value/operate/cancel and its
 * text (borrowed, "" after a success). */
int i61_control_last_error(const i61_control *ctl);
const char *i61_control_last_error_text(const i61_control *ctl);
/* The LastApplError that came with the refusal of the last
 * select/operate/cancel (same object, same ctlNum, received during that
 * call): 1 and *out, else 0. */
int i61_control_op_appl_error(const i61_control *ctl, i61_last_appl_error *out);
/* The last LastApplError received for this object (any time, also inside a
 * CommandTermination-): 1 and *out, 0 when none yet. A CommandTermination+
 * sets it to {error 0, add_cause 0, the Oper's ctlNum and origin}. */
int i61_control_last_appl_error(const i61_control *ctl, i61_last_appl_error *out);

/* Control events: every CommandTermination (+ or -) the client receives is
 * queued by the I/O thread in a bounded per-client queue (default 4096
 * events; beyond that new ones are dropped and counted), whether or not a
 * control object exists for it. Same waiting rules as
 * i61_client_next_reports. */
typedef struct i61_ctl_event i61_ctl_event;
int i61_client_next_control_events(i61_client *c, uint32_t timeout_ms, i61_ctl_event **out,
                                   size_t max, size_t *n);
void i61_client_interrupt_control_events(i61_client *c);
void i61_client_resume_control_events(i61_client *c);
void i61_client_set_control_event_queue_size(i61_client *c, uint32_t n);
uint64_t i61_client_control_events_dropped(const i61_client *c);
/* Control reports that could not be decoded (dropped, association kept). */
uint64_t i61_client_control_events_malformed(const i61_client *c);

/* One thread serving both queues: waits up to timeout_ms until a report or
 * a control event is queued. I61_OK with *ready = I61_READY_* mask (then
 * take them with timeout 0), I61_ERR_TIMEOUT, or I61_ERR_NOT_CONNECTED when
 * both queues are empty and either the connection is closed or
 * i61_client_interrupt_reports was called (interrupt_control_events does
 * not affect this call). */
typedef enum i61_ready {
    I61_READY_REPORTS = 1, I61_READY_CONTROL_EVENTS = 2
} i61_ready;
int i61_client_wait_events(i61_client *c, uint32_t timeout_ms, int *ready);

void i61_ctl_event_free(i61_ctl_event *e);
/* The control object "LD/LN.DO" (from the Oper's MMS name, borrowed). */
const char *i61_ctl_event_reference(const i61_ctl_event *e);
/* 1 for CommandTermination+, 0 for CommandTermination-. */
int i61_ctl_event_success(const i61_ctl_event *e);
/* The Oper structure the server sent back, and its ctlVal (borrowed). */
const i61_value *i61_ctl_event_oper(const i61_ctl_event *e);
const i61_value *i61_ctl_event_ctl_val(const i61_ctl_event *e);
/* ctlNum of the Oper structure (-1 if it has none). */
int i61_ctl_event_ctl_num(const i61_ctl_event *e);
/* AddCause of the LastApplError (0 for a CommandTermination+). */
int i61_ctl_event_add_cause(const i61_ctl_event *e);
/* The LastApplError of a CommandTermination-: 1 and *out; 0 for a +. */
int i61_ctl_event_last_appl_error(const i61_ctl_event *e, i61_last_appl_error *out);
/* --------------------------------------------------------- end control */

/* ----------------------------------------------------------------- files
 *
 * MMS file services of the client (PROTOCOL.md section 14). File names are
 * the server's names ("file1.txt", "COMTRADE/rec1.cfg"); every call that
 * fails leaves a text naming the file in i61_client_last_error_text.
 * Errors: file-non-existent -> I61_ERR_OBJECT_DOES_NOT_EXIST,
 * file-access-denied -> I61_ERR_ACCESS_DENIED, duplicate-filename ->
 * I61_ERR_OBJECT_EXISTS, file-busy / insufficient-space ->
 * I61_ERR_TEMPORARILY_UNAVAILABLE, filename-syntax-error / -ambiguous /
 * position-invalid -> I61_ERR_INVALID_ARGUMENT; a server that does not
 * implement the service (Reject unrecognized-service) ->
 * I61_ERR_SERVICE_NOT_SUPPORTED.
 *
 * Sizes are uint64 (sizeOfFile is Unsigned32 on the wire: a server may
 * report a file of 4 GiB or more modulo 2^32 or as 4294967295; downloads do
 * not rely on the size and stream until the server says the file ends).
 * Times are milliseconds since 1970-01-01 UTC, -1 when the server gave none. */

/* A directory listing. Free with i61_file_list_free. */
typedef struct i61_file_list i61_file_list;

/* FileDirectory of `directory` (NULL or "" = the file store root: no
 * fileSpecification is sent), following moreFollows with continueAfter
 * until the server says the list is complete. *out: new list. */
int i61_client_get_files(i61_client *c, const char *directory, i61_file_list **out);
size_t i61_file_list_count(const i61_file_list *l);
/* Borrowed; NULL when i is out of range. */
const char *i61_file_list_name(const i61_file_list *l, size_t i);
uint64_t i61_file_list_size(const i61_file_list *l, size_t i);
int64_t i61_file_list_mtime_ms(const i61_file_list *l, size_t i);
void i61_file_list_free(i61_file_list *l);

/* Download in one call, on the caller's thread: FileOpen, FileRead until
 * the server's moreFollows is FALSE, FileClose. The sink is called on the
 * calling thread, first once right after FileOpen with data NULL and len 0
 * (total = the size the server announced), then for every non-empty chunk
 * in order. A non-zero return from the sink stops the transfer and is
 * returned by i61_client_download (use an i61_err value). The remote file is
 * closed on every exit path (sink abort, error, timeout) unless the
 * connection is gone. size/mtime_ms (may be NULL): what FileOpen announced;
 * received (may be NULL): octets passed to the sink, also on failure. */
typedef int (*i61_file_sink)(void *userdata, const uint8_t *data, size_t len, uint64_t total);
int i61_client_download(i61_client *c, const char *name, i61_file_sink sink, void *userdata,
                        uint64_t *size, int64_t *mtime_ms, uint64_t *received);
/* A ready-made sink: writes every chunk to the file descriptor given as
 * userdata ((void *)(intptr_t)fd), retrying short writes and EINTR. A failed
 * write stops the transfer with I61_ERR_HARDWARE_FAULT (the local side: the
 * error text says "stopped by the sink"). */
int i61_file_sink_fd(void *userdata, const uint8_t *data, size_t len, uint64_t total);

/* The same in steps (for a caller that wants to own the loop). FileOpen at
 * initial_position: *frsm is the server's file handle. */
int i61_client_file_open(i61_client *c, const char *name, uint32_t initial_position,
                         int32_t *frsm, uint64_t *size, int64_t *mtime_ms);
/* One FileRead into buf (cap octets): *n octets, *more 1 while the file
 * goes on. A chunk never exceeds i61_client_file_chunk_max(c) octets; with
 * a smaller cap a larger chunk fails with I61_ERR_INVALID_ARGUMENT (the
 * chunk is lost: close the file). */
int i61_client_file_read(i61_client *c, int32_t frsm, uint8_t *buf, size_t cap, size_t *n,
                         int *more);
int i61_client_file_close(i61_client *c, int32_t frsm);
size_t i61_client_file_chunk_max(const i61_client *c);

int i61_client_delete_file(i61_client *c, const char *name);
int i61_client_rename_file(i61_client *c, const char *current, const char *new_name);

/* Upload = ObtainFile: asks the server to fetch `local` from this client
 * and store it as `remote`. While the request is pending the client serves
 * the server's FileOpen/FileRead/FileClose for exactly that file (any other
 * name, or no upload pending: file-access-denied); the server may open it
 * at most 4 times at once.
 * `local` is relative to the file store base path, or an absolute path
 * inside it. The base path defaults to the current working directory at
 * the time of the upload. Paths that leave the base path ("..", an absolute
 * path outside, a symbolic link pointing out), names with control
 * characters, and anything that is not a regular file are refused with
 * I61_ERR_ACCESS_DENIED before anything is sent; a missing file is
 * I61_ERR_OBJECT_DOES_NOT_EXIST. The file is opened once at the start; the
 * server receives its path relative to the base path as sourceFile.
 * A local file of 4 GiB or more is announced as 4294967295 octets and
 * served whole. The request has no overall time limit while the server
 * keeps reading: when the server stays silent for the request timeout
 * (0 = no limit), the upload fails with I61_ERR_TIMEOUT and the
 * association is aborted (the transfer state on both sides is then
 * unknown). Several threads may upload at once (at most 4 uploads). */
int i61_client_set_filestore_basepath(i61_client *c, const char *path);
int i61_client_upload_file(i61_client *c, const char *local, const char *remote);
/* Progress of the upload running on this client (the latest one if several
 * run at once): 1 with *done octets sent to the server of *total, or 0 when
 * none is running. Thread safe (poll it from another thread). */
int i61_client_upload_progress(i61_client *c, uint64_t *done, uint64_t *total);
/* ------------------------------------------------------------- end files */

/* ------------------------------------------- LCB, GoCB, SVCB and SGCB
 *
 * Log, GOOSE, sampled value and setting group control blocks share one
 * client-side object, i61_cb, with the attributes of its kind. Reading is
 * one MMS Read of the attributes as a list ("LD/LLN0$GO$name$GoEna", ...):
 * an attribute the server does not have comes back as a DataAccessError and
 * is simply absent (i61_cb_has 0), so Ed1/Ed2 blocks and peers that omit
 * optional attributes read fine. When no attribute exists the read fails
 * with the error of the first one (normally I61_ERR_OBJECT_DOES_NOT_EXIST).
 *
 * References: "LD/LN.name" (the FC comes from the kind), "LD/LN.FC.name" or
 * "LD/LN$FC$name"; the SGCB is "LD/LLN0.SGCB" (or just the LD name "LD").
 * FCs: LCB LG, GoCB GO, MSVCB MS, USVCB US, SGCB SP.
 *
 * Writing (i61_client_set_cb) sends the attributes changed since the read,
 * in attribute order, except the enable attribute (LogEna, GoEna, SvEna):
 * it goes first when it is being set FALSE and last when it is being set
 * TRUE, so a block is configured before it is enabled and disabled before
 * it is reconfigured. USVCB Resv TRUE goes first, Resv FALSE last.
 *
 * Attribute value types (as on the wire):
 *   LCB   LogEna BOOLEAN, LogRef VisibleString129, DatSet VisibleString129,
 *         OldEntrTm/NewEntrTm BINARY_TIME(6) (EntryTime),
 *         OldEnt/NewEnt OCTET STRING(8) (libiec61850 names them OldEntr/
 *         NewEntr: both are read), TrgOps BIT STRING(6), IntgPd INT32U
 *   GoCB  GoEna BOOLEAN, GoID VisibleString129, DatSet VisibleString129,
 *         ConfRev INT32U, NdsCom BOOLEAN, DstAddress STRUCT { Addr OCTET
 *         STRING(6), PRIORITY INT8U, VID INT16U, APPID INT16U }, MinTime
 *         INT32U, MaxTime INT32U, FixedOffs BOOLEAN
 *   SVCB  SvEna BOOLEAN, Resv BOOLEAN (USVCB), MsvID/UsvID VisibleString129,
 *         DatSet VisibleString129, ConfRev INT32U, SmpRate INT16U, OptFlds
 *         BIT STRING(5), SmpMod INT8 (enum), DstAddress as GoCB, noASDU INT16U
 *         (libiec61850 sends ConfRev, SmpRate and noASDU as INTEGER)
 *   SGCB  NumOfSG INT8U, ActSG INT8U, EditSG INT8U, CnfEdit BOOLEAN, LActTm
 *         UtcTime, ResvTms INT16U (Ed2)
 */

typedef enum i61_cb_kind {
    I61_CB_LCB = 1, I61_CB_GOCB = 2, I61_CB_MSVCB = 3, I61_CB_USVCB = 4, I61_CB_SGCB = 5
} i61_cb_kind;

typedef enum i61_lcb_attr {
    I61_LCB_LOG_ENA = 0, I61_LCB_LOG_REF = 1, I61_LCB_DATSET = 2, I61_LCB_OLD_ENTR_TM = 3,
    I61_LCB_NEW_ENTR_TM = 4, I61_LCB_OLD_ENT = 5, I61_LCB_NEW_ENT = 6, I61_LCB_TRG_OPS = 7,
    I61_LCB_INTG_PD = 8, I61_LCB_ATTR_COUNT = 9
} i61_lcb_attr;

typedef enum i61_gocb_attr {
    I61_GOCB_GO_ENA = 0, I61_GOCB_GO_ID = 1, I61_GOCB_DATSET = 2, I61_GOCB_CONF_REV = 3,
    I61_GOCB_NDS_COM = 4, I61_GOCB_DST_ADDRESS = 5, I61_GOCB_MIN_TIME = 6,
    I61_GOCB_MAX_TIME = 7, I61_GOCB_FIXED_OFFS = 8, I61_GOCB_ATTR_COUNT = 9
} i61_gocb_attr;

/* MSVCB and USVCB (Resv exists only in a USVCB; SV_ID is MsvID or UsvID). */
typedef enum i61_svcb_attr {
    I61_SVCB_SV_ENA = 0, I61_SVCB_RESV = 1, I61_SVCB_SV_ID = 2, I61_SVCB_DATSET = 3,
    I61_SVCB_CONF_REV = 4, I61_SVCB_SMP_RATE = 5, I61_SVCB_OPT_FLDS = 6, I61_SVCB_SMP_MOD = 7,
    I61_SVCB_DST_ADDRESS = 8, I61_SVCB_NO_ASDU = 9, I61_SVCB_ATTR_COUNT = 10
} i61_svcb_attr;

typedef enum i61_sgcb_attr {
    I61_SGCB_NUM_OF_SG = 0, I61_SGCB_ACT_SG = 1, I61_SGCB_EDIT_SG = 2, I61_SGCB_CNF_EDIT = 3,
    I61_SGCB_L_ACT_TM = 4, I61_SGCB_RESV_TMS = 5, I61_SGCB_ATTR_COUNT = 6
} i61_sgcb_attr;

/* Wire name of attribute `attr` of a kind ("LogEna", "MsvID"/"UsvID", "noASDU",
 * ...), NULL if out of range. Number of attributes of a kind (0 if unknown). */
const char *i61_cb_attr_name(int kind, int attr);
int i61_cb_attr_count(int kind);

/* Client-side copy of a control block. Not thread safe: one thread at a time. */
typedef struct i61_cb i61_cb;

int i61_client_read_cb(i61_client *c, const char *ref, int kind, i61_cb **out);
/* Reads every attribute again into cb (clears the changed mask). */
int i61_client_update_cb(i61_client *c, i61_cb *cb);
/* Writes the changed attributes (order above). single_request 1: one MMS
 * Write with all of them; 0: one Write per attribute, stopping at the first
 * failure. On failure *failed_attr (may be NULL) gets the attribute that
 * failed (-1 if the request as a whole failed) and the error is returned;
 * attributes written successfully are no longer marked changed. */
int i61_client_set_cb(i61_client *c, i61_cb *cb, int single_request, int *failed_attr);
void i61_cb_free(i61_cb *cb);
int i61_cb_get_kind(const i61_cb *cb);
/* "LD/LN.FC.name" (SGCB: "LD/LLN0.SP.SGCB"), borrowed. */
const char *i61_cb_reference(const i61_cb *cb);
int i61_cb_has(const i61_cb *cb, int attr);
/* Borrowed current local value, NULL when absent. */
const i61_value *i61_cb_get(const i61_cb *cb, int attr);
/* Copies v and marks the attribute changed. I61_ERR_INVALID_ARGUMENT for an
 * attribute out of range; an attribute the server did not have may be set
 * (the write will then fail on the server). */
int i61_cb_set(i61_cb *cb, int attr, const i61_value *v);
uint32_t i61_cb_changed(const i61_cb *cb);
void i61_cb_clear_changed(i61_cb *cb);

/* Setting group services on the SGCB of logical device `ld` ("IEDLD0").
 * SelectActiveSG writes ActSG, SelectEditSG writes EditSG (0 releases the
 * edit reservation), ConfirmEditSGValues writes CnfEdit TRUE. sg 0..255. */
int i61_client_select_active_sg(i61_client *c, const char *ld, int sg);
int i61_client_select_edit_sg(i61_client *c, const char *ld, int sg);
int i61_client_confirm_edit_sg(i61_client *c, const char *ld);
/* ----------------------------------------------- end LCB, GoCB, SVCB, SGCB */

/* ------------------------------------------------------------------ logs
 *
 * QueryLogByTime / QueryLogAfter map onto MMS ReadJournal (PROTOCOL.md 8,
 * goldens 130/131). log_ref is the log ("LD/LN$LogName" or "LD/LN.LogName",
 * the LCB's LogRef): journal domain "LD", item "LN$LogName".
 *
 * One call is one ReadJournal request, so one page: *more_follows is 1 when
 * the server has more entries; continue with after_id/after_ms = the last
 * entry's id and time (keeping end_ms).
 *   start_ms  rangeStart startingTime, -1 = absent
 *   end_ms    rangeStop endingTime, -1 = absent
 *   after_id  entryToStartAfter entrySpecification (NULL = absent; then
 *             after_ms is its timeSpecification)
 * Times are ms since 1970-01-01 UTC (TimeOfDay on the wire, 1984 epoch).
 *
 * Entry contents follow IEC 61850-8-1: each logged value is a variable whose
 * tag is the data reference ("LD/LN$FC$DO$DA") followed, when the log has
 * reason codes, by a variable tagged "ReasonCode" (BIT STRING, the report
 * reason bits). The accessors below pair them: var k of entry i has a
 * reference, a value and a reason (i61_reason mask, -1 when absent).
 */
typedef struct i61_journal i61_journal;

int i61_client_read_journal(i61_client *c, const char *log_ref, int64_t start_ms,
                            int64_t end_ms, const uint8_t *after_id, size_t after_id_len,
                            int64_t after_ms, i61_journal **out, int *more_follows);
size_t i61_journal_count(const i61_journal *j);
/* EntryID octets (8 from IEC 61850 servers), borrowed. */
const uint8_t *i61_journal_entry_id(const i61_journal *j, size_t i, size_t *len);
int64_t i61_journal_entry_time_ms(const i61_journal *j, size_t i);
size_t i61_journal_var_count(const i61_journal *j, size_t i);
const char *i61_journal_var_ref(const i61_journal *j, size_t i, size_t k);
const i61_value *i61_journal_var_value(const i61_journal *j, size_t i, size_t k);
int i61_journal_var_reason(const i61_journal *j, size_t i, size_t k);
void i61_journal_free(i61_journal *j);

/* The whole journal in one call (what the accessors above give entry by
 * entry). Variables without a value are left out, so nvars / var_total may
 * be less than i61_journal_var_count. Entry i's variables are
 * vars[first_var .. first_var + nvars). All pointers are borrowed from j. */
typedef struct i61_journal_entry_view {
    const uint8_t *id;
    size_t id_len;
    int64_t time_ms;
    size_t first_var;
    size_t nvars;
} i61_journal_entry_view;

typedef struct i61_journal_var_view {
    const char *ref;            /* NULL when the variable has no tag */
    const i61_value *value;     /* never NULL */
    int reason;                 /* i61_reason mask, -1 absent */
} i61_journal_var_view;

/* Number of variables with a value in all entries (0 for NULL). */
size_t i61_journal_var_total(const i61_journal *j);
/* Fills entries[0 .. i61_journal_count(j)) and vars[0 .. i61_journal_var_total(j)).
 * I61_ERR_INVALID_ARGUMENT (nothing written) when j is NULL, an array is NULL
 * while needed, or n_entries / n_vars is smaller than needed. */
int i61_journal_views(const i61_journal *j, i61_journal_entry_view *entries, size_t n_entries,
                      i61_journal_var_view *vars, size_t n_vars);
/* -------------------------------------------------------------- end logs */

/* Library version string. */
const char *i61_version(void);

#endif
