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

/* Library version string. */
const char *i61_version(void);

#endif
