/* MMS confirmed-service PDUs (ISO 9506-2) used by the IEC 61850 client and server:
 * Identify, Status, GetNameList, GetVariableAccessAttributes, Read and Write,
 * plus the confirmed-ErrorPDU and the RejectPDU (PROTOCOL.md sections 8-10).
 *
 * Pure codec: whole MMS PDUs (starting with the MMSpdu CHOICE tag, a0/a1/a2/a4...)
 * in and out, no sockets. Encoders append to an i61_buf and return I61_OK,
 * I61_ERR_INVALID_ARGUMENT (something that cannot be encoded) or I61_ERR_UNKNOWN
 * (out of memory). Decoders never read past `len`, never recurse, and return
 * I61_OK, I61_ERR_MALFORMED_MESSAGE, or for a response decoder the i61_err that
 * a confirmed-ErrorPDU / RejectPDU answering the request maps to (details in
 * the optional i61_mms_error). Initiate and Conclude live in initiate.h.
 */
#ifndef I61_MMS_PDU_H
#define I61_MMS_PDU_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "i61.h"
#include "../ber/ber.h"

/* ------------------------------------------------------------- envelope */

/* Kinds reported by i61_mms_pdu_invoke_id. */
#define I61_MMS_KIND_REQUEST 0
#define I61_MMS_KIND_RESPONSE 1
#define I61_MMS_KIND_ERROR 2
#define I61_MMS_KIND_UNCONFIRMED 3
#define I61_MMS_KIND_REJECT 4
#define I61_MMS_KIND_OTHER 5

/* Invoke id and kind of any MMS PDU. Returns I61_OK or I61_ERR_MALFORMED_MESSAGE
 * (not one BER element, or a confirmed PDU without a valid invoke id).
 *  - request/response: the invokeID; error: invokeID [0]; reject:
 *    originalInvokeID [0], or I61_MMS_NO_INVOKE_ID when the reject has none;
 *  - unconfirmed and other PDUs (initiate, conclude, cancel...): I61_MMS_NO_INVOKE_ID.
 * Trailing octets after the PDU element are malformed. */
#define I61_MMS_NO_INVOKE_ID 0xffffffffu
int i61_mms_pdu_invoke_id(const uint8_t *pdu, size_t len, uint32_t *invoke_id, int *kind);

/* Confirmed service tags (ConfirmedServiceRequest/Response CHOICE). */
#define I61_MMS_SVC_STATUS 0
#define I61_MMS_SVC_GET_NAME_LIST 1
#define I61_MMS_SVC_IDENTIFY 2
#define I61_MMS_SVC_READ 4
#define I61_MMS_SVC_WRITE 5
#define I61_MMS_SVC_GVAA 6

/* ObjectClass values of GetNameList. */
#define I61_MMS_CLASS_NAMED_VARIABLE 0
#define I61_MMS_CLASS_NVL 2
#define I61_MMS_CLASS_JOURNAL 8
#define I61_MMS_CLASS_DOMAIN 9

/* ObjectName alternatives, also GetNameList objectScope. */
#define I61_MMS_SCOPE_VMD 0
#define I61_MMS_SCOPE_DOMAIN 1
#define I61_MMS_SCOPE_AA 2

/* Longest Identifier accepted in an ObjectName / component (MMS Ed2 allows 64,
 * object references 129; names longer than this are rejected as malformed). */
#define I61_MMS_NAME_MAX 129

typedef struct i61_mms_name {
    int scope;                              /* I61_MMS_SCOPE_* */
    char domain[I61_MMS_NAME_MAX + 1];      /* domain-specific only, else "" */
    char item[I61_MMS_NAME_MAX + 1];
} i61_mms_name;

/* Most components in the path of an alternate access (after the index). */
#define I61_MMS_ALT_MAX_COMPONENTS 15

/* One element of a listOfVariable: a named variable, optionally narrowed by an
 * alternateAccess to one array element and then to a component inside it. */
typedef struct i61_mms_var {
    i61_mms_name name;
    bool has_index;                          /* alternateAccess: array element `index` */
    uint32_t index;
    char component[I61_MMS_NAME_MAX + 1];    /* '$'-separated path inside the element, "" = whole */
    bool alt_unsupported;                    /* decoder only: an alternateAccess form we do not
                                                handle (range, all elements, named, nested
                                                indexes): answer object-access-unsupported */
} i61_mms_var;

/* Most elements accepted in one listOfVariable. The smallest well-formed element
 * takes 4 octets (`30 02 84 00`), so a PDU of the 65000 octets we accept cannot
 * carry more than 16250; anything beyond is malformed. */
#define I61_MMS_MAX_ACCESS_VARS 16250u

/* VariableAccessSpecification: a list of variables or a named variable list. */
typedef struct i61_mms_access_spec {
    bool is_nvl;
    i61_mms_name nvl;                        /* is_nvl */
    i61_mms_var *vars;                       /* !is_nvl: n_vars entries */
    size_t n_vars;
} i61_mms_access_spec;

/* Error detail of a confirmed-ErrorPDU or RejectPDU. */
typedef struct i61_mms_error {
    int kind;       /* 0 none, I61_MMS_KIND_ERROR or I61_MMS_KIND_REJECT */
    int cls;        /* ServiceError errorClass tag 0..12, or rejectReason tag 1..11 */
    int code;       /* code inside that class / reason */
} i61_mms_error;

/* ServiceError class/code and RejectPDU reason/code -> i61_err. */
int i61_mms_service_error_to_err(int cls, int code);
int i61_mms_reject_to_err(int reason, int code);
/* "access/object-non-existent", "reject confirmed-requestPDU/unrecognized-service", ... */
const char *i61_mms_error_text(const i61_mms_error *e, char *buf, size_t cap);
/* "object-non-existent" etc. for a DataAccessError code ("unknown" otherwise). */
const char *i61_mms_dae_name(int dae);

/* Growable list of identifiers (GetNameList results). */
typedef struct i61_mms_idlist {
    char **items;
    size_t count;
    size_t cap;
} i61_mms_idlist;
void i61_mms_idlist_init(i61_mms_idlist *l);
void i61_mms_idlist_clear(i61_mms_idlist *l);          /* frees items, back to empty */
int i61_mms_idlist_add(i61_mms_idlist *l, const char *s, size_t len);   /* 0 or -1 (OOM) */

/* ------------------------------------------------- client: requests out */

int i61_mms_enc_identify_req(i61_buf *b, uint32_t invoke_id);
int i61_mms_enc_status_req(i61_buf *b, uint32_t invoke_id, bool extended);
/* scope I61_MMS_SCOPE_*; domain for SCOPE_DOMAIN; continue_after may be NULL. */
int i61_mms_enc_get_name_list_req(i61_buf *b, uint32_t invoke_id, int object_class, int scope,
                                  const char *domain, const char *continue_after);
int i61_mms_enc_gvaa_req(i61_buf *b, uint32_t invoke_id, const i61_mms_name *name);
int i61_mms_enc_read_req(i61_buf *b, uint32_t invoke_id, bool spec_with_result,
                         const i61_mms_access_spec *spec);
/* values: spec->n_vars values for a list of variables (any count for an NVL). */
int i61_mms_enc_write_req(i61_buf *b, uint32_t invoke_id, const i61_mms_access_spec *spec,
                          const i61_value *const *values, size_t n_values);
/* Octets one listOfVariable element adds to a Read/Write request (for splitting
 * requests to the negotiated PDU size); 0 if it cannot be encoded. */
size_t i61_mms_var_encoded_size(const i61_mms_var *v);

/* ----------------------------------------------- client: responses in */

int i61_mms_dec_identify_resp(const uint8_t *pdu, size_t len, char **vendor, char **model,
                              char **revision, i61_mms_error *err);   /* strings: free() */
int i61_mms_dec_status_resp(const uint8_t *pdu, size_t len, int *logical, int *physical,
                            i61_mms_error *err);
/* Appends the identifiers to *names (which the caller initialised). */
int i61_mms_dec_get_name_list_resp(const uint8_t *pdu, size_t len, i61_mms_idlist *names,
                                   bool *more_follows, i61_mms_error *err);
int i61_mms_dec_gvaa_resp(const uint8_t *pdu, size_t len, bool *deletable,
                          i61_typespec **type, i61_mms_error *err);
/* *results: new ARRAY value, one element per AccessResult (Data, or an
 * I61_TYPE_DATA_ACCESS_ERROR value). spec_echoed (may be NULL): the response
 * carried a variableAccessSpecification. */
int i61_mms_dec_read_resp(const uint8_t *pdu, size_t len, i61_value **results,
                          bool *spec_echoed, i61_mms_error *err);
/* The same into vals[0..n) (new values, caller frees each); the response must
 * carry exactly n results, else MALFORMED_MESSAGE and no values. */
int i61_mms_dec_read_resp_n(const uint8_t *pdu, size_t len, i61_value **vals, size_t n,
                            bool *spec_echoed, i61_mms_error *err);
/* dae[i] = -1 for success or the DataAccessError code; exactly n results expected. */
int i61_mms_dec_write_resp(const uint8_t *pdu, size_t len, int *dae, size_t n,
                           i61_mms_error *err);

/* ------------------------------------------------- server: requests in */

typedef struct i61_mms_request {
    bool has_invoke_id;     /* set as soon as the invokeID was read (for a reject) */
    uint32_t invoke_id;
    int service;            /* confirmed service tag */
    i61_ber_tlv body;       /* the service element */
} i61_mms_request;

/* Envelope of a confirmed-RequestPDU (listOfModifier is skipped).
 * I61_OK or I61_ERR_MALFORMED_MESSAGE (r->has_invoke_id says whether the
 * invokeID was usable, so a reject can name it). */
int i61_mms_dec_request(const uint8_t *pdu, size_t len, i61_mms_request *r);

int i61_mms_dec_status_req(const i61_mms_request *r, bool *extended);
typedef struct i61_mms_gnl_req {
    int object_class;
    int scope;
    char domain[I61_MMS_NAME_MAX + 1];
    bool has_continue_after;
    char continue_after[I61_MMS_NAME_MAX + 1];
} i61_mms_gnl_req;
int i61_mms_dec_get_name_list_req(const i61_mms_request *r, i61_mms_gnl_req *out);
int i61_mms_dec_gvaa_req(const i61_mms_request *r, i61_mms_name *name);
/* spec->vars is malloc'ed: release with i61_mms_access_spec_clear. */
int i61_mms_dec_read_req(const i61_mms_request *r, bool *spec_with_result,
                         i61_mms_access_spec *spec);
/* *values: malloc'ed array of *n_values new values; release with
 * i61_mms_values_free and the spec with i61_mms_access_spec_clear. */
int i61_mms_dec_write_req(const i61_mms_request *r, i61_mms_access_spec *spec,
                          i61_value ***values, size_t *n_values);
void i61_mms_access_spec_clear(i61_mms_access_spec *spec);
void i61_mms_values_free(i61_value **values, size_t n);

/* Decode an ObjectName CHOICE element (also the non-standard constructed
 * [0]/[2] forms some servers send). */
int i61_mms_dec_object_name(const i61_ber_tlv *t, i61_mms_name *out);
/* Encode an ObjectName CHOICE element. */
int i61_mms_enc_object_name(i61_buf *b, const i61_mms_name *n);

/* ----------------------------------------------- server: responses out */

int i61_mms_enc_identify_resp(i61_buf *b, uint32_t invoke_id, const char *vendor,
                              const char *model, const char *revision);
int i61_mms_enc_status_resp(i61_buf *b, uint32_t invoke_id, int logical, int physical);
int i61_mms_enc_get_name_list_resp(i61_buf *b, uint32_t invoke_id, const char *const *names,
                                   size_t n, bool more_follows);
int i61_mms_enc_gvaa_resp(i61_buf *b, uint32_t invoke_id, bool deletable,
                          const i61_typespec *type);
/* results: Data values or I61_TYPE_DATA_ACCESS_ERROR values (failure [0]).
 * echo: the variableAccessSpecification to echo (specificationWithResult), or NULL. */
int i61_mms_enc_read_resp(i61_buf *b, uint32_t invoke_id, const i61_mms_access_spec *echo,
                          const i61_value *const *results, size_t n);
/* dae[i] = -1 success, else the DataAccessError code. */
int i61_mms_enc_write_resp(i61_buf *b, uint32_t invoke_id, const int *dae, size_t n);
int i61_mms_enc_error_pdu(i61_buf *b, uint32_t invoke_id, int cls, int code);
/* has_invoke_id false: originalInvokeID omitted. reason = rejectReason tag (1 for
 * confirmed-requestPDU, 5 for pdu-error, ...). */
int i61_mms_enc_reject_pdu(i61_buf *b, bool has_invoke_id, uint32_t invoke_id, int reason,
                           int code);

/* ServiceError classes and codes used by the stack. */
#define I61_MMS_ERRCLASS_VMD_STATE 0
#define I61_MMS_ERRCLASS_DEFINITION 2
#define I61_MMS_ERRCLASS_RESOURCE 3
#define I61_MMS_ERRCLASS_SERVICE 4
#define I61_MMS_ERRCLASS_ACCESS 7
#define I61_MMS_ERRCLASS_FILE 11
#define I61_MMS_ERRCLASS_OTHERS 12
/* RejectPDU reasons and codes used by the stack. */
#define I61_MMS_REJECT_CONFIRMED_REQUEST 1
#define I61_MMS_REJECT_PDU_ERROR 5
#define I61_MMS_REJECT_UNRECOGNIZED_SERVICE 1
#define I61_MMS_REJECT_INVALID_ARGUMENT 4
#define I61_MMS_REJECT_INVALID_PDU 1

/* ------------------------------------- named variable lists (data sets) ----
 * DefineNamedVariableList [11], GetNamedVariableListAttributes [12] and
 * DeleteNamedVariableList [13] (PROTOCOL.md section 8, golden 035-048).
 * Member lists are i61_mms_var arrays (name, optional alternate access); the
 * decoders malloc them (free with free()). */
#define I61_MMS_SVC_DEFINE_NVL 11
#define I61_MMS_SVC_GET_NVL_ATTR 12
#define I61_MMS_SVC_DELETE_NVL 13
/* Most members accepted in one list by the decoders. */
#define I61_MMS_NVL_MAX_MEMBERS 4096

int i61_mms_enc_define_nvl_req(i61_buf *b, uint32_t invoke_id, const i61_mms_name *name,
                               const i61_mms_var *members, size_t n);
int i61_mms_enc_get_nvl_attr_req(i61_buf *b, uint32_t invoke_id, const i61_mms_name *name);
/* scopeOfDelete specific(0) with the listed names. */
int i61_mms_enc_delete_nvl_req(i61_buf *b, uint32_t invoke_id, const i61_mms_name *names,
                               size_t n);
int i61_mms_dec_define_nvl_resp(const uint8_t *pdu, size_t len, i61_mms_error *err);
/* *members malloc'ed (n entries, NULL when n == 0). */
int i61_mms_dec_get_nvl_attr_resp(const uint8_t *pdu, size_t len, bool *deletable,
                                  i61_mms_var **members, size_t *n, i61_mms_error *err);
int i61_mms_dec_delete_nvl_resp(const uint8_t *pdu, size_t len, uint32_t *matched,
                                uint32_t *deleted, i61_mms_error *err);

/* Server side. */
int i61_mms_dec_define_nvl_req(const i61_mms_request *r, i61_mms_name *name,
                               i61_mms_var **members, size_t *n);
int i61_mms_dec_get_nvl_attr_req(const i61_mms_request *r, i61_mms_name *name);
typedef struct i61_mms_delete_nvl_req {
    int scope;                  /* scopeOfDelete: 0 specific, 1 aa-specific, 2 domain, 3 vmd */
    i61_mms_name *names;        /* listOfVariableListName (malloc'ed), n entries */
    size_t n;
    bool has_domain;
    char domain[I61_MMS_NAME_MAX + 1];
} i61_mms_delete_nvl_req;
int i61_mms_dec_delete_nvl_req(const i61_mms_request *r, i61_mms_delete_nvl_req *out);
void i61_mms_delete_nvl_req_clear(i61_mms_delete_nvl_req *d);
int i61_mms_enc_define_nvl_resp(i61_buf *b, uint32_t invoke_id);
int i61_mms_enc_get_nvl_attr_resp(i61_buf *b, uint32_t invoke_id, bool deletable,
                                  const i61_mms_var *members, size_t n);
int i61_mms_enc_delete_nvl_resp(i61_buf *b, uint32_t invoke_id, uint32_t matched,
                                uint32_t deleted);
/* ---------------------------------- end of named variable lists (data sets) */

#endif
