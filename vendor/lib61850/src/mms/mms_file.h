/* MMS file services (ISO 9506-2; PROTOCOL.md sections 8 and 14, goldens
 * 108-129): FileOpen [72], FileRead [73], FileClose [74], FileRename [75],
 * FileDelete [76], FileDirectory [77] and ObtainFile [46], requests and
 * responses in both directions. Pure codec: whole MMS PDUs in and out, no I/O.
 *
 * Wire shapes (all tags IMPLICIT unless noted):
 *   FileDirectory-Request  bf 4d { [0] FileName fileSpecification OPT,
 *                                  [1] FileName continueAfter OPT }
 *   FileDirectory-Response bf 4d { [0] (explicit) SEQ OF DirectoryEntry,
 *                                  [1] moreFollows BOOLEAN DEFAULT FALSE }
 *     DirectoryEntry       30 { [0] FileName, [1] FileAttributes }
 *     FileAttributes       { [0] sizeOfFile Unsigned32,
 *                            [1] lastModified GeneralizedTime OPT }
 *   FileOpen-Request       bf 48 { [0] FileName, [1] initialPosition Unsigned32 }
 *   FileOpen-Response      bf 48 { [0] frsmID Integer32, [1] FileAttributes }
 *   FileRead-Request       9f 49 frsmID              (primitive INTEGER)
 *   FileRead-Response      bf 49 { [0] fileData OCTET STRING,
 *                                  [1] moreFollows BOOLEAN DEFAULT TRUE }
 *   FileClose-Request      9f 4a frsmID
 *   FileRename-Request     bf 4b { [0] currentFileName, [1] newFileName }
 *   FileDelete-Request     bf 4c <GraphicStrings>    (the FileName itself)
 *   ObtainFile-Request     bf 2e { [0] sourceFileServer OPT, [1] sourceFile,
 *                                  [2] destinationFile }
 *   FileClose/FileRename/FileDelete/ObtainFile-Response: 9f <tag> 00 (NULL)
 *   FileName = SEQUENCE OF GraphicString (19 ...).
 *
 * FileName: the encoders write one GraphicString with the whole name. The
 * decoders accept one or more GraphicStrings and join them with '/'; the
 * result is a malloc'ed, NUL-terminated copy plus its true octet length:
 * names are copied verbatim, so a name with a NUL octet has
 * strlen(name) != name_len and a name with control characters keeps them
 * (a server must refuse such names itself, with file-access-denied). An
 * empty FileName (no GraphicString) decodes as "" with length 0.
 *
 * Times: lastModified is GeneralizedTime text; the codec converts it to and
 * from milliseconds since 1970-01-01 UTC (-1 = absent). Sizes: sizeOfFile is
 * Unsigned32 on the wire; decoders accept any non-negative INTEGER up to
 * 2^64 - 1 (some servers send larger values) and return it as uint64; the
 * encoders refuse sizes above 2^32 - 1 (I61_ERR_INVALID_ARGUMENT).
 *
 * Return values as in mms_pdu.h: encoders I61_OK, I61_ERR_INVALID_ARGUMENT,
 * I61_ERR_UNKNOWN (out of memory; the partial PDU is removed from the buffer
 * on any failure); response decoders I61_OK, I61_ERR_MALFORMED_MESSAGE, or
 * the i61_err that a confirmed-ErrorPDU / RejectPDU answering the request
 * maps to (details in the optional i61_mms_error: file errors are class 11,
 * I61_MMS_ERRCLASS_FILE); request decoders I61_OK, I61_ERR_MALFORMED_MESSAGE
 * or I61_ERR_UNKNOWN (out of memory). Decoders never read past len and never
 * recurse.
 */
#ifndef I61_MMS_FILE_H
#define I61_MMS_FILE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "i61.h"
#include "../ber/ber.h"
#include "mms_pdu.h"

/* Confirmed service tags. */
#define I61_MMS_SVC_OBTAIN_FILE 46
#define I61_MMS_SVC_FILE_OPEN 72
#define I61_MMS_SVC_FILE_READ 73
#define I61_MMS_SVC_FILE_CLOSE 74
#define I61_MMS_SVC_FILE_RENAME 75
#define I61_MMS_SVC_FILE_DELETE 76
#define I61_MMS_SVC_FILE_DIRECTORY 77

/* ServiceError class file [11] codes (class I61_MMS_ERRCLASS_FILE). */
#define I61_MMS_FILE_ERR_OTHER 0
#define I61_MMS_FILE_ERR_FILENAME_AMBIGUOUS 1
#define I61_MMS_FILE_ERR_FILE_BUSY 2
#define I61_MMS_FILE_ERR_FILENAME_SYNTAX_ERROR 3
#define I61_MMS_FILE_ERR_CONTENT_TYPE_INVALID 4
#define I61_MMS_FILE_ERR_POSITION_INVALID 5
#define I61_MMS_FILE_ERR_FILE_ACCESS_DENIED 6
#define I61_MMS_FILE_ERR_FILE_NON_EXISTENT 7
#define I61_MMS_FILE_ERR_DUPLICATE_FILENAME 8
#define I61_MMS_FILE_ERR_INSUFFICIENT_SPACE 9

/* Longest GeneralizedTime text the codec writes ("YYYYMMDDHHMMSS.fffZ") plus NUL. */
#define I61_MMS_GTIME_TEXT 24

/* Most directory entries one FileDirectory-Response may carry for the
 * decoder (the smallest entry takes 9 octets: `30 07 a0 00 a1 03 80 01 00`,
 * so a 65000-octet PDU cannot hold more than 7222). */
#define I61_MMS_FILE_DIR_MAX_ENTRIES 8192u

/* ------------------------------------------------------------- time */

/* GeneralizedTime text "YYYYMMDDHHMMSS[.f...][Z|+hhmm|-hhmm]" -> ms since
 * 1970 UTC (text without a zone is taken as UTC; minutes/seconds may be
 * omitted as X.680 allows). 0 or I61_ERR_MALFORMED_MESSAGE. */
int i61_mms_gtime_to_ms(const char *text, size_t len, int64_t *ms);
/* ms since 1970 UTC (years 0..9999) -> "YYYYMMDDHHMMSS.fffZ" (as in 109).
 * Returns the text length (19), or 0 when ms is out of range. */
size_t i61_mms_gtime_from_ms(int64_t ms, char out[I61_MMS_GTIME_TEXT]);

/* ------------------------------------------------------- directory entries */

/* One DirectoryEntry. Decoders fill `name` with a malloc'ed copy (see
 * "FileName" above); encoders only read it. */
typedef struct i61_mms_file_entry {
    char *name;
    size_t name_len;          /* octets of name (decoder); encoders use strlen(name) */
    uint64_t size;            /* sizeOfFile */
    int64_t mtime_ms;         /* lastModified, -1 = absent */
} i61_mms_file_entry;

/* Growable list of entries (decoder output). */
typedef struct i61_mms_file_dir {
    i61_mms_file_entry *items;
    size_t count;
    size_t cap;
} i61_mms_file_dir;
void i61_mms_file_dir_init(i61_mms_file_dir *d);
void i61_mms_file_dir_clear(i61_mms_file_dir *d);    /* frees the names, back to empty */

/* Octets one entry adds to a FileDirectory-Response (for filling a PDU up to
 * the negotiated size); 0 if it cannot be encoded (size > 2^32 - 1, time out
 * of range, NULL name). */
size_t i61_mms_file_entry_encoded_size(const i61_mms_file_entry *e);
/* Octets a FileDirectory-Response with invoke id `invoke_id`, moreFollows
 * TRUE and entries of `entries_octets` in total (the sum of
 * i61_mms_file_entry_encoded_size) takes: entries fit a PDU of max_pdu
 * octets when this is <= max_pdu. */
size_t i61_mms_file_dir_resp_size(uint32_t invoke_id, size_t entries_octets);

/* Largest fileData chunk whose FileRead-Response fits in max_pdu octets
 * (whatever the invoke id; 0 when max_pdu is too small for any data). */
size_t i61_mms_file_read_max_data(uint32_t max_pdu);

/* ------------------------------------------------- client: requests out */

/* spec, continue_after: NULL = absent. */
int i61_mms_enc_file_directory_req(i61_buf *b, uint32_t invoke_id, const char *spec,
                                   const char *continue_after);
int i61_mms_enc_file_open_req(i61_buf *b, uint32_t invoke_id, const char *name,
                              uint32_t initial_position);
int i61_mms_enc_file_read_req(i61_buf *b, uint32_t invoke_id, int32_t frsm_id);
int i61_mms_enc_file_close_req(i61_buf *b, uint32_t invoke_id, int32_t frsm_id);
int i61_mms_enc_file_rename_req(i61_buf *b, uint32_t invoke_id, const char *current,
                                const char *new_name);
int i61_mms_enc_file_delete_req(i61_buf *b, uint32_t invoke_id, const char *name);
/* sourceFileServer is never sent (the server obtains from the requester). */
int i61_mms_enc_obtain_file_req(i61_buf *b, uint32_t invoke_id, const char *source,
                                const char *destination);

/* ------------------------------------------------ client: responses in */

/* Appends the entries to *dir (initialised by the caller; at most
 * I61_MMS_FILE_DIR_MAX_ENTRIES per PDU, else MALFORMED). On failure *dir
 * keeps what it had before the call. */
int i61_mms_dec_file_directory_resp(const uint8_t *pdu, size_t len, i61_mms_file_dir *dir,
                                    bool *more_follows, i61_mms_error *err);
/* mtime_ms -1 when lastModified is absent. */
int i61_mms_dec_file_open_resp(const uint8_t *pdu, size_t len, int32_t *frsm_id,
                               uint64_t *size, int64_t *mtime_ms, i61_mms_error *err);
/* *data points into pdu (no copy). */
int i61_mms_dec_file_read_resp(const uint8_t *pdu, size_t len, const uint8_t **data,
                               size_t *data_len, bool *more_follows, i61_mms_error *err);
/* NULL responses: service is I61_MMS_SVC_FILE_CLOSE, _FILE_RENAME,
 * _FILE_DELETE or _OBTAIN_FILE. */
int i61_mms_dec_file_null_resp(const uint8_t *pdu, size_t len, int service,
                               i61_mms_error *err);

/* ------------------------------------------------- server: requests in */

/* A decoded file-service request (i61_mms_dec_request first, then this when
 * r->service is one of the file services). Fields by service:
 *   FILE_DIRECTORY  name = fileSpecification (has_name), name2 = continueAfter
 *                   (has_name2)
 *   FILE_OPEN       name = fileName, initial_position
 *   FILE_READ/CLOSE frsm_id
 *   FILE_RENAME     name = currentFileName, name2 = newFileName
 *   FILE_DELETE     name
 *   OBTAIN_FILE     name = sourceFile, name2 = destinationFile,
 *                   has_source_server (sourceFileServer present: skipped)
 * Names: malloc'ed as described at the top (NULL when absent). Release
 * with i61_mms_file_req_clear; a failed decode leaves no names behind
 * (clearing it again is harmless). */
typedef struct i61_mms_file_req {
    int service;
    bool has_name;
    char *name;
    size_t name_len;
    bool has_name2;
    char *name2;
    size_t name2_len;
    uint32_t initial_position;
    int32_t frsm_id;
    bool has_source_server;
} i61_mms_file_req;

/* true for the seven service tags above. */
bool i61_mms_is_file_service(int service);
/* I61_OK, I61_ERR_MALFORMED_MESSAGE (also for a service that is not a file
 * service), I61_ERR_UNKNOWN. */
int i61_mms_dec_file_req(const i61_mms_request *r, i61_mms_file_req *out);
void i61_mms_file_req_clear(i61_mms_file_req *r);

/* ----------------------------------------------- server: responses out */

/* more_follows FALSE is the DEFAULT and is then not encoded. */
int i61_mms_enc_file_directory_resp(i61_buf *b, uint32_t invoke_id,
                                    const i61_mms_file_entry *entries, size_t n,
                                    bool more_follows);
/* mtime_ms -1: lastModified omitted. size above 2^32 - 1: INVALID_ARGUMENT. */
int i61_mms_enc_file_open_resp(i61_buf *b, uint32_t invoke_id, int32_t frsm_id, uint64_t size,
                               int64_t mtime_ms);
/* moreFollows is always encoded (TRUE as 01, FALSE as 00, like 113/126). */
int i61_mms_enc_file_read_resp(i61_buf *b, uint32_t invoke_id, const uint8_t *data,
                               size_t len, bool more_follows);
/* NULL responses (FileClose, FileRename, FileDelete, ObtainFile). */
int i61_mms_enc_file_null_resp(i61_buf *b, uint32_t invoke_id, int service);
/* confirmed-ErrorPDU with errorClass file [11] and one of the codes above
 * (i61_mms_enc_error_pdu with I61_MMS_ERRCLASS_FILE). */
int i61_mms_enc_file_error(i61_buf *b, uint32_t invoke_id, int file_error_code);

#endif
