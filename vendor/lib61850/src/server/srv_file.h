/* Server file store: the MMS file services over a directory of the host
 * (i61_server.h section "files" describes the behaviour seen by clients).
 *
 * State: the server's file state (struct i61_srv_files, s->files: the root,
 * limits, hooks, operations waiting for a hook answer, counters) and one
 * struct i61_sconn_files per association that used a file service (its
 * FRSM table: open files; its ObtainFile transfer; the invoke ids of the
 * requests the server sends to the client).
 *
 * Threads: everything runs on the I/O thread (or the test driving the
 * engine), except the public setters, i61_server_complete_file and the
 * stats, which may come from any thread: they take srv->mu (root, limits,
 * hooks, pending operations). A completion records the answer under
 * srv->mu and wakes the I/O thread (srv->wake), which runs
 * i61_srv_file_run. Hooks are called with no lock held.
 *
 * Sandbox: names are checked (i61_srv_file_check_name) and then resolved
 * under the root's directory descriptor with openat() one component at a
 * time, with O_NOFOLLOW everywhere, so neither "..", nor an absolute name,
 * nor a symbolic link (anywhere in the path) can reach outside the root.
 *
 * Disk I/O (open, pread of one PDU-sized chunk, directory walks, writes of
 * ObtainFile chunks) happens on the I/O thread: a FileRead costs one pread
 * of at most the negotiated PDU size.
 */
#ifndef I61_SRV_FILE_H
#define I61_SRV_FILE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "server_internal.h"

#define I61_SRV_FILE_MAX_OPEN_DEFAULT 8
#define I61_SRV_FILE_MAX_OPEN_LIMIT 1024
/* Directory entries visited by one FileDirectory request at most (beyond:
 * ServiceError file/other). */
#define I61_SRV_FILE_DIR_MAX_VISITS 1000000u
#define I61_SRV_FILE_TMP_PREFIX ".i61-obtain-"

/* Server-wide state: created by i61_server_new, freed by i61_server_free. */
int i61_srv_files_new(i61_server *s);
void i61_srv_files_free(i61_server *s);

/* The file services are on (a root is set): Initiate advertises them. */
bool i61_srv_files_enabled(i61_server *s);

/* A confirmed request for one of the file services (I/O thread). Without a
 * root: RejectPDU unrecognized-service. */
void i61_srv_file_request(i61_sconn *c, const i61_mms_request *rq);

/* A confirmed-Response / confirmed-Error / Reject PDU from the client: true
 * when it answers (or answered, late) a request the server sent for an
 * ObtainFile; false when it is not ours (the caller rejects it). */
bool i61_srv_file_response(i61_sconn *c, const uint8_t *pdu, size_t len);

/* I/O thread: answers operations whose hooks answered or timed out, times
 * out ObtainFile transfers whose client stopped answering. Returns the
 * earliest next deadline (i61_mono_ms clock), 0 if none. */
uint64_t i61_srv_file_run(i61_server *s, uint64_t now_ms);

/* The association is going away: closes its files, aborts its ObtainFile
 * (the temporary file is removed), orphans its operations waiting for a
 * hook. Idempotent (also called by i61_sconn_free). */
void i61_srv_file_conn_gone(i61_server *s, i61_sconn *c);

/* Server stopped: operations waiting for a hook are dropped (their tokens
 * become unknown). */
void i61_srv_file_drop_pending(i61_server *s);

/* Checks a client's FileName (name of len octets) and writes the relative
 * path under the root into out (cap octets): 0, or an MMS file error code
 * (I61_MMS_FILE_ERR_*). allow_root: "", "/" and a trailing "/" are accepted
 * (FileDirectory); the root is then "". Exposed for the tests. */
int i61_srv_file_check_name(const char *name, size_t len, bool allow_root, char *out,
                            size_t cap);

#endif
