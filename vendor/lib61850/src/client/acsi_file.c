/* ACSI client: file services (PROTOCOL.md section 14, i61.h "files").
 *
 *  - GetFiles = FileDirectory with continueAfter paging;
 *  - downloads = FileOpen, FileRead until moreFollows FALSE, FileClose, on
 *    the caller's thread (the sink is a plain C callback called there);
 *  - FileDelete, FileRename;
 *  - uploads = ObtainFile. While the request is pending the server reads the
 *    file from us: its FileOpen/FileRead/FileClose requests arrive on the
 *    I/O thread (the association's indication handler) and are answered
 *    there from the file that i61_client_upload_file opened beforehand. Only
 *    a file named in a pending ObtainFile can be opened; everything else is
 *    file-access-denied. A watchdog timer on the I/O thread fails an upload
 *    whose server stays silent for the request timeout (the association is
 *    aborted: it is the only way to end a pending request early).
 *
 * Locking: files->mu guards the uploads, the FRSM table and the base path.
 * It is held around the short pread() of one chunk on the I/O thread and
 * around i61_timer_start/stop (which only take the loop's own lock; the loop
 * calls the watchdog without it), never while sending or calling into the
 * association or a sink. */
#include "client_internal.h"
#include "../mms/mms_file.h"
#include "../net/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define UPLOADS_MAX 4              /* uploads running at once on one client */
#define FRSM_MAX 4                 /* files the server may hold open on us at once */
#define WATCHDOG_PERIOD_MS 100u
#define EMPTY_CHUNKS_MAX 16        /* empty FileRead answers in a row that say "more" */

/* Paging bounds of one FileDirectory listing (a hostile server could say
 * moreFollows forever). */
#define DIR_MAX_ROUNDS 100000
#define DIR_MAX_ENTRIES 1000000u
#define DIR_MAX_BYTES ((size_t)64 << 20)

typedef struct i61_upload {
    bool used;
    bool timed_out;                /* the watchdog gave up on it */
    char *name;                    /* sourceFile as sent */
    int fd;
    uint64_t size;
    int64_t mtime_ms;
    uint64_t done;                 /* octets sent to the server */
    uint64_t seq;                  /* start order (latest = progress) */
    uint64_t last_ms;              /* last activity (monotonic) */
    uint32_t timeout_ms;
} i61_upload;

typedef struct i61_frsm {
    bool used;
    int32_t id;
    int up;                        /* index in uploads */
    uint64_t pos;
} i61_frsm;

struct i61_cfiles {
    pthread_mutex_t mu;
    char *base;                    /* resolved base path, NULL = working directory */
    i61_upload up[UPLOADS_MAX];
    i61_frsm fr[FRSM_MAX];
    int32_t next_frsm;
    uint64_t seq;
    int active;                    /* uploads in use */
    i61_loop *loop;
    i61_timer *watchdog;
    bool watchdog_on;
    uint8_t *chunk;                /* I/O thread only: read buffer */
    size_t chunk_cap;
};

/* ------------------------------------------------------------- lifecycle */

static void files_watchdog(void *ud);

int i61_client_files_init(i61_client *c)
{
    struct i61_cfiles *f = calloc(1, sizeof *f);
    if (!f)
        return I61_ERR_UNKNOWN;
    if (pthread_mutex_init(&f->mu, NULL) != 0) {
        free(f);
        return I61_ERR_UNKNOWN;
    }
    for (int i = 0; i < UPLOADS_MAX; i++)
        f->up[i].fd = -1;
    f->loop = i61_loop_acquire();
    f->watchdog = f->loop ? i61_timer_new(f->loop, files_watchdog, c) : NULL;
    if (!f->watchdog) {
        if (f->loop)
            i61_loop_release(f->loop);
        pthread_mutex_destroy(&f->mu);
        free(f);
        return I61_ERR_UNKNOWN;
    }
    c->files = f;
    return I61_OK;
}

void i61_client_files_stop(i61_client *c)
{
    struct i61_cfiles *f = c->files;
    if (!f || !f->watchdog)
        return;
    i61_timer_free(f->watchdog);     /* returns once the callback cannot run any more */
    pthread_mutex_lock(&f->mu);
    f->watchdog = NULL;
    f->watchdog_on = false;
    pthread_mutex_unlock(&f->mu);
}

void i61_client_files_free(i61_client *c)
{
    struct i61_cfiles *f = c->files;
    if (!f)
        return;
    i61_client_files_stop(c);
    i61_loop_release(f->loop);
    for (int i = 0; i < UPLOADS_MAX; i++) {
        if (f->up[i].fd >= 0)
            close(f->up[i].fd);
        free(f->up[i].name);
    }
    free(f->chunk);
    free(f->base);
    pthread_mutex_destroy(&f->mu);
    free(f);
    c->files = NULL;
}

/* The association went away: every FRSM the server had on us is gone. */
void i61_client_files_on_state(i61_client *c, int state)
{
    struct i61_cfiles *f = c->files;
    if (!f || (state != I61_STATE_CLOSED && state != I61_STATE_CLOSING))
        return;
    pthread_mutex_lock(&f->mu);
    for (int i = 0; i < FRSM_MAX; i++)
        f->fr[i].used = false;
    pthread_mutex_unlock(&f->mu);
}

/* I/O thread, every WATCHDOG_PERIOD_MS while an upload runs. */
static void files_watchdog(void *ud)
{
    i61_client *c = ud;
    struct i61_cfiles *f = c->files;
    bool abort_now = false;
    uint64_t now = i61_mono_ms();
    pthread_mutex_lock(&f->mu);
    for (int i = 0; i < UPLOADS_MAX; i++) {
        i61_upload *u = &f->up[i];
        if (u->used && !u->timed_out && u->timeout_ms && now - u->last_ms > u->timeout_ms) {
            u->timed_out = true;
            abort_now = true;
        }
    }
    pthread_mutex_unlock(&f->mu);
    if (abort_now)
        i61_assoc_abort(c->assoc);
}

/* ----------------------------------------------------------------- helpers */

static const char *svc_name(int svc)
{
    switch (svc) {
    case I61_MMS_SVC_FILE_DIRECTORY: return "FileDirectory";
    case I61_MMS_SVC_FILE_OPEN: return "FileOpen";
    case I61_MMS_SVC_FILE_READ: return "FileRead";
    case I61_MMS_SVC_FILE_CLOSE: return "FileClose";
    case I61_MMS_SVC_FILE_DELETE: return "FileDelete";
    case I61_MMS_SVC_FILE_RENAME: return "FileRename";
    case I61_MMS_SVC_OBTAIN_FILE: return "ObtainFile";
    default: return "file service";
    }
}

/* "<op> '<name>': <error text> (<MMS error>)" */
static int file_fail(const i61_client *c, int rc, const char *op, const char *name,
                     const i61_mms_error *e)
{
    char what[320];
    snprintf(what, sizeof what, "%s '%.240s'", op, name ? name : "");
    return i61_client_fail(c, rc, what, e);
}

/* strerror is not thread safe; the GNU strerror_r returns the text. */
#define ERRTEXT(e) strerror_r((e), (char[96]){ 0 }, 96)

static bool has_control_chars(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

/* Checks a remote file name given by the application. */
static int check_remote(i61_client *c, const char *op, const char *name)
{
    if (!name || !*name)
        return i61_client_error(c, I61_ERR_INVALID_ARGUMENT, "%s: empty file name", op);
    if (has_control_chars(name))
        return file_fail(c, I61_ERR_INVALID_ARGUMENT, op, "(name with control characters)", NULL);
    return I61_OK;
}

/* One confirmed exchange: encoded request in req (invoke id `id`), answer in resp. */
static int exchange(i61_client *c, uint32_t id, i61_buf *req, i61_buf *resp)
{
    if (req->oom)
        return I61_ERR_UNKNOWN;
    return i61_client_transact(c, id, req, resp);
}

/* ------------------------------------------------------------- directory */

struct i61_file_list {
    i61_mms_file_dir d;
};

size_t i61_file_list_count(const i61_file_list *l)
{
    return l ? l->d.count : 0;
}

const char *i61_file_list_name(const i61_file_list *l, size_t i)
{
    return l && i < l->d.count ? l->d.items[i].name : NULL;
}

uint64_t i61_file_list_size(const i61_file_list *l, size_t i)
{
    return l && i < l->d.count ? l->d.items[i].size : 0;
}

int64_t i61_file_list_mtime_ms(const i61_file_list *l, size_t i)
{
    return l && i < l->d.count ? l->d.items[i].mtime_ms : -1;
}

void i61_file_list_free(i61_file_list *l)
{
    if (!l)
        return;
    i61_mms_file_dir_clear(&l->d);
    free(l);
}

int i61_client_get_files(i61_client *c, const char *directory, i61_file_list **out)
{
    if (!c || !out)
        return I61_ERR_INVALID_ARGUMENT;
    *out = NULL;
    const char *spec = directory && *directory ? directory : NULL;
    const char *shown = spec ? spec : "(root)";
    if (spec && has_control_chars(spec))
        return file_fail(c, I61_ERR_INVALID_ARGUMENT, "FileDirectory",
                         "(name with control characters)", NULL);
    i61_file_list *l = calloc(1, sizeof *l);
    if (!l)
        return i61_client_error(c, I61_ERR_UNKNOWN, "FileDirectory: out of memory");
    i61_mms_file_dir_init(&l->d);
    i61_buf req, resp;
    i61_buf_init(&req);
    i61_buf_init(&resp);
    char *after = NULL;
    size_t bytes = 0;
    int rc = I61_OK;
    for (int round = 0;; round++) {
        if (round >= DIR_MAX_ROUNDS || l->d.count > DIR_MAX_ENTRIES || bytes > DIR_MAX_BYTES) {
            rc = i61_client_error(c, I61_ERR_MALFORMED_MESSAGE,
                                  "FileDirectory '%.240s': the server keeps sending entries "
                                  "(%zu entries in %d answers)", shown, l->d.count, round);
            break;
        }
        uint32_t id = i61_assoc_next_invoke_id(c->assoc);
        i61_buf_reset(&req);
        rc = i61_mms_enc_file_directory_req(&req, id, spec, after);
        if (rc == I61_OK)
            rc = exchange(c, id, &req, &resp);
        if (rc != I61_OK) {
            rc = file_fail(c, rc, "FileDirectory", shown, NULL);
            break;
        }
        i61_mms_error e;
        bool more = false;
        size_t before = l->d.count;
        rc = i61_mms_dec_file_directory_resp(resp.data, resp.len, &l->d, &more, &e);
        if (rc != I61_OK) {
            rc = file_fail(c, rc, "FileDirectory", shown, &e);
            break;
        }
        for (size_t i = before; i < l->d.count; i++)
            bytes += l->d.items[i].name_len + 1 + sizeof(i61_mms_file_entry);
        if (!more)
            break;
        if (l->d.count == before) {
            rc = i61_client_error(c, I61_ERR_MALFORMED_MESSAGE,
                                  "FileDirectory '%.240s': the server said moreFollows but sent "
                                  "no entries", shown);
            break;
        }
        const char *last = l->d.items[l->d.count - 1].name;
        if (after && strcmp(after, last) == 0) {
            rc = i61_client_error(c, I61_ERR_MALFORMED_MESSAGE,
                                  "FileDirectory '%.240s': the server repeated itself after "
                                  "'%.64s'", shown, last);
            break;
        }
        char *n = strdup(last);
        if (!n) {
            rc = i61_client_error(c, I61_ERR_UNKNOWN, "FileDirectory: out of memory");
            break;
        }
        free(after);
        after = n;
    }
    free(after);
    i61_buf_free(&req);
    i61_buf_free(&resp);
    if (rc != I61_OK) {
        i61_file_list_free(l);
        return rc;
    }
    i61_client_clear_error(c);
    *out = l;
    return I61_OK;
}

/* --------------------------------------------------------------- download */

/* FileOpen without the error text (name already checked). */
static int do_open(i61_client *c, const char *name, uint32_t pos, int32_t *frsm, uint64_t *size,
                   int64_t *mtime, i61_buf *req, i61_buf *resp, i61_mms_error *e)
{
    uint32_t id = i61_assoc_next_invoke_id(c->assoc);
    i61_buf_reset(req);
    int rc = i61_mms_enc_file_open_req(req, id, name, pos);
    if (rc == I61_OK)
        rc = exchange(c, id, req, resp);
    if (rc == I61_OK)
        rc = i61_mms_dec_file_open_resp(resp->data, resp->len, frsm, size, mtime, e);
    return rc;
}

/* FileRead: *data points into resp. */
static int do_read(i61_client *c, int32_t frsm, const uint8_t **data, size_t *len, bool *more,
                   i61_buf *req, i61_buf *resp, i61_mms_error *e)
{
    uint32_t id = i61_assoc_next_invoke_id(c->assoc);
    i61_buf_reset(req);
    int rc = i61_mms_enc_file_read_req(req, id, frsm);
    if (rc == I61_OK)
        rc = exchange(c, id, req, resp);
    if (rc == I61_OK)
        rc = i61_mms_dec_file_read_resp(resp->data, resp->len, data, len, more, e);
    return rc;
}

static int do_close(i61_client *c, int32_t frsm, i61_buf *req, i61_buf *resp, i61_mms_error *e)
{
    uint32_t id = i61_assoc_next_invoke_id(c->assoc);
    i61_buf_reset(req);
    int rc = i61_mms_enc_file_close_req(req, id, frsm);
    if (rc == I61_OK)
        rc = exchange(c, id, req, resp);
    if (rc == I61_OK)
        rc = i61_mms_dec_file_null_resp(resp->data, resp->len, I61_MMS_SVC_FILE_CLOSE, e);
    return rc;
}

/* The connection is gone: no FileClose is possible any more. */
static bool link_gone(i61_client *c, int rc)
{
    return rc == I61_ERR_CONNECTION_LOST || rc == I61_ERR_NOT_CONNECTED
           || i61_assoc_state(c->assoc) != I61_STATE_CONNECTED;
}

int i61_client_download(i61_client *c, const char *name, i61_file_sink sink, void *userdata,
                        uint64_t *size, int64_t *mtime_ms, uint64_t *received)
{
    if (received)
        *received = 0;
    if (!c)
        return I61_ERR_INVALID_ARGUMENT;
    if (!sink)
        return i61_client_error(c, I61_ERR_INVALID_ARGUMENT, "download: no sink");
    int rc = check_remote(c, "download", name);
    if (rc != I61_OK)
        return rc;
    i61_buf req, resp;
    i61_buf_init(&req);
    i61_buf_init(&resp);
    i61_mms_error e;
    int32_t frsm = 0;
    uint64_t sz = 0, got = 0;
    int64_t mt = -1;
    rc = do_open(c, name, 0, &frsm, &sz, &mt, &req, &resp, &e);
    if (rc != I61_OK) {
        rc = file_fail(c, rc, "download: FileOpen", name, &e);
        goto out;
    }
    if (size)
        *size = sz;
    if (mtime_ms)
        *mtime_ms = mt;
    int src = sink(userdata, NULL, 0, sz);
    if (src != 0) {
        rc = i61_client_error(c, src, "download '%.240s': stopped by the sink after 0 octets",
                              name);
    } else {
        int empties = 0;
        for (;;) {
            const uint8_t *data = NULL;
            size_t dl = 0;
            bool more = false;
            rc = do_read(c, frsm, &data, &dl, &more, &req, &resp, &e);
            if (rc != I61_OK) {
                char op[64];
                snprintf(op, sizeof op, "download: FileRead after %llu octets of",
                         (unsigned long long)got);
                rc = file_fail(c, rc, op, name, &e);
                break;
            }
            if (dl) {
                empties = 0;
                got += dl;
                if (received)
                    *received = got;
                src = sink(userdata, data, dl, sz);
                if (src != 0) {
                    rc = i61_client_error(c, src,
                                          "download '%.240s': stopped by the sink after %llu "
                                          "octets", name, (unsigned long long)got);
                    break;
                }
            } else if (more && ++empties > EMPTY_CHUNKS_MAX) {
                rc = i61_client_error(c, I61_ERR_MALFORMED_MESSAGE,
                                      "download '%.240s': the server sends empty chunks and "
                                      "says more follow (after %llu octets)", name,
                                      (unsigned long long)got);
                break;
            }
            if (!more)
                break;
        }
    }
    /* Always close the remote file while the association lives. */
    if (!link_gone(c, rc)) {
        i61_mms_error ce;
        int crc = do_close(c, frsm, &req, &resp, &ce);
        if (crc != I61_OK && rc == I61_OK)
            rc = file_fail(c, crc, "download: FileClose (all data received) of", name, &ce);
    }
out:
    i61_buf_free(&req);
    i61_buf_free(&resp);
    if (rc == I61_OK)
        i61_client_clear_error(c);
    return rc;
}

int i61_client_file_open(i61_client *c, const char *name, uint32_t initial_position,
                         int32_t *frsm, uint64_t *size, int64_t *mtime_ms)
{
    if (!c || !frsm)
        return I61_ERR_INVALID_ARGUMENT;
    int rc = check_remote(c, "FileOpen", name);
    if (rc != I61_OK)
        return rc;
    i61_buf req, resp;
    i61_buf_init(&req);
    i61_buf_init(&resp);
    i61_mms_error e;
    uint64_t sz = 0;
    int64_t mt = -1;
    rc = do_open(c, name, initial_position, frsm, &sz, &mt, &req, &resp, &e);
    i61_buf_free(&req);
    i61_buf_free(&resp);
    if (rc != I61_OK)
        return file_fail(c, rc, "FileOpen", name, &e);
    if (size)
        *size = sz;
    if (mtime_ms)
        *mtime_ms = mt;
    i61_client_clear_error(c);
    return I61_OK;
}

int i61_client_file_read(i61_client *c, int32_t frsm, uint8_t *buf, size_t cap, size_t *n,
                         int *more)
{
    if (!c || !n || (cap && !buf))
        return I61_ERR_INVALID_ARGUMENT;
    *n = 0;
    i61_buf req, resp;
    i61_buf_init(&req);
    i61_buf_init(&resp);
    i61_mms_error e;
    const uint8_t *data = NULL;
    size_t dl = 0;
    bool m = false;
    int rc = do_read(c, frsm, &data, &dl, &m, &req, &resp, &e);
    if (rc != I61_OK) {
        rc = i61_client_fail(c, rc, "FileRead", &e);
    } else if (dl > cap) {
        rc = i61_client_error(c, I61_ERR_INVALID_ARGUMENT,
                              "FileRead: chunk of %zu octets does not fit the buffer of %zu",
                              dl, cap);
    } else {
        if (dl)
            memcpy(buf, data, dl);
        *n = dl;
        if (more)
            *more = m ? 1 : 0;
        i61_client_clear_error(c);
    }
    i61_buf_free(&req);
    i61_buf_free(&resp);
    return rc;
}

int i61_client_file_close(i61_client *c, int32_t frsm)
{
    if (!c)
        return I61_ERR_INVALID_ARGUMENT;
    i61_buf req, resp;
    i61_buf_init(&req);
    i61_buf_init(&resp);
    i61_mms_error e;
    int rc = do_close(c, frsm, &req, &resp, &e);
    i61_buf_free(&req);
    i61_buf_free(&resp);
    if (rc != I61_OK)
        return i61_client_fail(c, rc, "FileClose", &e);
    i61_client_clear_error(c);
    return I61_OK;
}

size_t i61_client_file_chunk_max(const i61_client *c)
{
    uint32_t n = c ? i61_assoc_max_pdu_size(c->assoc) : 0;
    return n > I61_CLIENT_DEFAULT_MAX_PDU ? (size_t)n : (size_t)I61_CLIENT_DEFAULT_MAX_PDU;
}

/* ---------------------------------------------------------- delete, rename */

static int null_service(i61_client *c, int svc, const char *a, const char *b, const char *what)
{
    i61_buf req, resp;
    i61_buf_init(&req);
    i61_buf_init(&resp);
    i61_mms_error e;
    uint32_t id = i61_assoc_next_invoke_id(c->assoc);
    int rc = svc == I61_MMS_SVC_FILE_DELETE ? i61_mms_enc_file_delete_req(&req, id, a)
                                            : i61_mms_enc_file_rename_req(&req, id, a, b);
    e.kind = 0;
    if (rc == I61_OK)
        rc = exchange(c, id, &req, &resp);
    if (rc == I61_OK)
        rc = i61_mms_dec_file_null_resp(resp.data, resp.len, svc, &e);
    i61_buf_free(&req);
    i61_buf_free(&resp);
    if (rc != I61_OK)
        return file_fail(c, rc, svc_name(svc), what, &e);
    i61_client_clear_error(c);
    return I61_OK;
}

int i61_client_delete_file(i61_client *c, const char *name)
{
    if (!c)
        return I61_ERR_INVALID_ARGUMENT;
    int rc = check_remote(c, "FileDelete", name);
    if (rc != I61_OK)
        return rc;
    return null_service(c, I61_MMS_SVC_FILE_DELETE, name, NULL, name);
}

int i61_client_rename_file(i61_client *c, const char *current, const char *new_name)
{
    if (!c)
        return I61_ERR_INVALID_ARGUMENT;
    int rc = check_remote(c, "FileRename", current);
    if (rc == I61_OK)
        rc = check_remote(c, "FileRename", new_name);
    if (rc != I61_OK)
        return rc;
    char what[300];
    snprintf(what, sizeof what, "%.140s' -> '%.140s", current, new_name);
    return null_service(c, I61_MMS_SVC_FILE_RENAME, current, new_name, what);
}

/* ------------------------------------------------------------------ upload */

int i61_client_set_filestore_basepath(i61_client *c, const char *path)
{
    if (!c)
        return I61_ERR_INVALID_ARGUMENT;
    char *res = NULL;
    if (path && *path) {
        res = realpath(path, NULL);
        struct stat st;
        if (!res || stat(res, &st) != 0 || !S_ISDIR(st.st_mode)) {
            const char *why = res ? "not a directory" : ERRTEXT(errno);
            i61_client_error(c, I61_ERR_INVALID_ARGUMENT, "filestore base path '%.240s': %s",
                             path, why);
            free(res);
            return I61_ERR_INVALID_ARGUMENT;
        }
    }
    struct i61_cfiles *f = c->files;
    pthread_mutex_lock(&f->mu);
    free(f->base);
    f->base = res;
    pthread_mutex_unlock(&f->mu);
    i61_client_clear_error(c);
    return I61_OK;
}

/* Resolves `local` inside the base path and opens it. *rel: malloc'ed path
 * relative to the base (what the server gets as sourceFile). */
static int open_local(i61_client *c, const char *local, int *fd_out, char **rel, struct stat *st)
{
    struct i61_cfiles *f = c->files;
    char *base = NULL;
    pthread_mutex_lock(&f->mu);
    if (f->base)
        base = strdup(f->base);
    pthread_mutex_unlock(&f->mu);
    if (!base) {
        char *cwd = getcwd(NULL, 0);
        base = cwd ? realpath(cwd, NULL) : NULL;
        free(cwd);
        if (!base)
            return i61_client_error(c, I61_ERR_UNKNOWN, "upload: no working directory (%s)",
                                    ERRTEXT(errno));
    }
    int rc = I61_OK;
    char *joined = NULL, *res = NULL;
    int fd = -1;
    if (!local || !*local) {
        rc = i61_client_error(c, I61_ERR_INVALID_ARGUMENT, "upload: empty local file name");
        goto out;
    }
    if (has_control_chars(local)) {
        rc = i61_client_error(c, I61_ERR_ACCESS_DENIED,
                              "upload: local file name with control characters refused");
        goto out;
    }
    /* no ".." component at all */
    for (const char *p = local; *p;) {
        const char *s = strchr(p, '/');
        size_t n = s ? (size_t)(s - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            rc = i61_client_error(c, I61_ERR_ACCESS_DENIED,
                                  "upload '%.240s': '..' is not allowed in the local path", local);
            goto out;
        }
        p += n;
        while (*p == '/')
            p++;
    }
    if (local[0] == '/') {
        joined = strdup(local);
    } else {
        size_t bl = strlen(base), ll = strlen(local);
        joined = malloc(bl + ll + 2);
        if (joined) {
            memcpy(joined, base, bl);
            joined[bl] = '/';
            memcpy(joined + bl + 1, local, ll + 1);
        }
    }
    if (!joined) {
        rc = i61_client_error(c, I61_ERR_UNKNOWN, "upload: out of memory");
        goto out;
    }
    res = realpath(joined, NULL);
    if (!res) {
        int err = errno;
        rc = err == ENOENT || err == ENOTDIR ? I61_ERR_OBJECT_DOES_NOT_EXIST
             : err == ENOMEM                 ? I61_ERR_UNKNOWN
                                             : I61_ERR_ACCESS_DENIED;
        rc = i61_client_error(c, rc, "upload '%.240s': %s", local, ERRTEXT(err));
        goto out;
    }
    size_t bl = strlen(base);
    bool root = bl == 1 && base[0] == '/';
    if (root ? res[0] != '/' || res[1] == '\0'
             : strncmp(res, base, bl) != 0 || res[bl] != '/' || res[bl + 1] == '\0') {
        rc = i61_client_error(c, I61_ERR_ACCESS_DENIED,
                              "upload '%.240s': outside the filestore base path '%.240s'", local,
                              base);
        goto out;
    }
    fd = open(res, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int err = errno;
        rc = i61_client_error(c, err == ENOENT ? I61_ERR_OBJECT_DOES_NOT_EXIST
                                               : I61_ERR_ACCESS_DENIED,
                              "upload '%.240s': %s", local, ERRTEXT(err));
        goto out;
    }
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        rc = i61_client_error(c, I61_ERR_ACCESS_DENIED, "upload '%.240s': not a regular file",
                              local);
        goto out;
    }
    /* back to blocking reads */
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    *rel = strdup(res + (root ? 1 : bl + 1));
    if (!*rel) {
        rc = i61_client_error(c, I61_ERR_UNKNOWN, "upload: out of memory");
        goto out;
    }
    *fd_out = fd;
    fd = -1;
out:
    if (fd >= 0)
        close(fd);
    free(res);
    free(joined);
    free(base);
    return rc;
}

static void upload_finish(struct i61_cfiles *f, int slot, bool *timed_out)
{
    pthread_mutex_lock(&f->mu);
    i61_upload *u = &f->up[slot];
    *timed_out = u->timed_out;
    for (int i = 0; i < FRSM_MAX; i++)
        if (f->fr[i].used && f->fr[i].up == slot)
            f->fr[i].used = false;
    if (u->fd >= 0)
        close(u->fd);
    u->fd = -1;
    free(u->name);
    u->name = NULL;
    u->used = false;
    if (--f->active == 0 && f->watchdog && f->watchdog_on) {
        f->watchdog_on = false;
        i61_timer_stop(f->watchdog);     /* under mu: never races with a start */
    }
    pthread_mutex_unlock(&f->mu);
}

int i61_client_upload_file(i61_client *c, const char *local, const char *remote)
{
    if (!c)
        return I61_ERR_INVALID_ARGUMENT;
    int rc = check_remote(c, "upload", remote);
    if (rc != I61_OK)
        return rc;
    if (i61_assoc_state(c->assoc) != I61_STATE_CONNECTED)
        return i61_client_error(c, I61_ERR_NOT_CONNECTED, "upload '%.240s': %s",
                                local ? local : "", i61_err_str(I61_ERR_NOT_CONNECTED));
    int fd = -1;
    char *rel = NULL;
    struct stat st;
    rc = open_local(c, local, &fd, &rel, &st);
    if (rc != I61_OK)
        return rc;
    struct i61_cfiles *f = c->files;
    uint32_t timeout = i61_client_request_timeout(c);
    int slot = -1;
    pthread_mutex_lock(&f->mu);
    for (int i = 0; i < UPLOADS_MAX; i++) {
        if (!f->up[i].used) {
            slot = i;
            break;
        }
    }
    if (slot >= 0) {
        i61_upload *u = &f->up[slot];
        memset(u, 0, sizeof *u);
        u->used = true;
        u->name = rel;
        u->fd = fd;
        u->size = (uint64_t)st.st_size;
        u->mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
        u->seq = ++f->seq;
        u->last_ms = i61_mono_ms();
        u->timeout_ms = timeout;
        f->active++;
        if (timeout && f->watchdog && !f->watchdog_on) {
            f->watchdog_on = true;
            i61_timer_start(f->watchdog, WATCHDOG_PERIOD_MS, WATCHDOG_PERIOD_MS);
        }
    }
    pthread_mutex_unlock(&f->mu);
    if (slot < 0) {
        close(fd);
        free(rel);
        return i61_client_error(c, I61_ERR_OUTSTANDING_CALL_LIMIT,
                                "upload '%.240s': %d uploads are already running", local,
                                UPLOADS_MAX);
    }
    i61_buf req, resp;
    i61_buf_init(&req);
    i61_buf_init(&resp);
    i61_mms_error e;
    e.kind = 0;
    uint32_t id = i61_assoc_next_invoke_id(c->assoc);
    rc = i61_mms_enc_obtain_file_req(&req, id, rel, remote);
    if (rc == I61_OK && req.oom)
        rc = I61_ERR_UNKNOWN;
    if (rc == I61_OK) {
        /* no overall limit: the watchdog ends a silent transfer */
        rc = i61_assoc_request(c->assoc, id, req.data, req.len, 0, &resp);
    }
    if (rc == I61_OK)
        rc = i61_mms_dec_file_null_resp(resp.data, resp.len, I61_MMS_SVC_OBTAIN_FILE, &e);
    i61_buf_free(&req);
    i61_buf_free(&resp);
    char what[600];
    snprintf(what, sizeof what, "%.240s' as '%.240s", local, remote);
    bool timed_out = false;
    upload_finish(f, slot, &timed_out);
    if (timed_out && rc != I61_OK)
        return i61_client_error(c, I61_ERR_TIMEOUT,
                                "upload '%s': the server was silent for %u ms during ObtainFile; "
                                "association aborted", what, timeout);
    if (rc != I61_OK)
        return file_fail(c, rc, "upload (ObtainFile)", what, &e);
    i61_client_clear_error(c);
    return I61_OK;
}

int i61_client_upload_progress(i61_client *c, uint64_t *done, uint64_t *total)
{
    if (!c || !c->files)
        return 0;
    struct i61_cfiles *f = c->files;
    int found = 0;
    pthread_mutex_lock(&f->mu);
    i61_upload *best = NULL;
    for (int i = 0; i < UPLOADS_MAX; i++)
        if (f->up[i].used && (!best || f->up[i].seq > best->seq))
            best = &f->up[i];
    if (best) {
        found = 1;
        if (done)
            *done = best->done;
        if (total)
            *total = best->size;
    }
    pthread_mutex_unlock(&f->mu);
    return found;
}

/* ------------------------------------------------- serving the server (I/O) */

static void send_pdu(i61_client *c, i61_buf *b, int rc)
{
    if (rc == I61_OK && !b->oom && b->len)
        i61_assoc_send(c->assoc, b->data, b->len);
}

static i61_frsm *frsm_find(struct i61_cfiles *f, int32_t id)
{
    for (int i = 0; i < FRSM_MAX; i++)
        if (f->fr[i].used && f->fr[i].id == id)
            return &f->fr[i];
    return NULL;
}

/* FileOpen from the server (mu held): the response or an error into b. */
static int serve_open(i61_client *c, uint32_t inv, const i61_mms_file_req *r, i61_buf *b)
{
    struct i61_cfiles *f = c->files;
    i61_upload *u = NULL;
    int slot = -1;
    for (int i = 0; i < UPLOADS_MAX; i++) {
        i61_upload *x = &f->up[i];
        if (x->used && !x->timed_out && x->name && r->name && strlen(r->name) == r->name_len
            && strcmp(x->name, r->name) == 0) {
            u = x;
            slot = i;
            break;
        }
    }
    if (!u)
        return i61_mms_enc_file_error(b, inv, I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
    u->last_ms = i61_mono_ms();
    if (r->initial_position > u->size)
        return i61_mms_enc_file_error(b, inv, I61_MMS_FILE_ERR_POSITION_INVALID);
    i61_frsm *fr = NULL;
    for (int i = 0; i < FRSM_MAX; i++) {
        if (!f->fr[i].used) {
            fr = &f->fr[i];
            break;
        }
    }
    if (!fr)
        return i61_mms_enc_file_error(b, inv, I61_MMS_FILE_ERR_FILE_BUSY);
    int32_t id = f->next_frsm;
    while (frsm_find(f, id))
        id = id == INT32_MAX ? 0 : id + 1;
    f->next_frsm = id == INT32_MAX ? 0 : id + 1;
    uint64_t size = u->size > UINT32_MAX ? UINT32_MAX : u->size;
    int rc = i61_mms_enc_file_open_resp(b, inv, id, size, u->mtime_ms);
    if (rc == I61_OK) {
        fr->used = true;
        fr->id = id;
        fr->up = slot;
        fr->pos = r->initial_position;
    }
    return rc;
}

/* FileRead from the server (mu held). */
static int serve_read(i61_client *c, uint32_t inv, const i61_mms_file_req *r, i61_buf *b)
{
    struct i61_cfiles *f = c->files;
    i61_frsm *fr = frsm_find(f, r->frsm_id);
    if (!fr)
        return i61_mms_enc_error_pdu(b, inv, I61_MMS_ERRCLASS_ACCESS, 2);   /* object-non-existent */
    i61_upload *u = &f->up[fr->up];
    u->last_ms = i61_mono_ms();
    size_t n = i61_mms_file_read_max_data(i61_assoc_max_pdu_size(c->assoc));
    if (n == 0)
        return i61_mms_enc_file_error(b, inv, I61_MMS_FILE_ERR_OTHER);
    if (f->chunk_cap < n) {
        uint8_t *p = realloc(f->chunk, n);
        if (!p)
            return i61_mms_enc_file_error(b, inv, I61_MMS_FILE_ERR_OTHER);
        f->chunk = p;
        f->chunk_cap = n;
    }
    ssize_t got;
    do {
        got = pread(u->fd, f->chunk, n, (off_t)fr->pos);
    } while (got < 0 && errno == EINTR);
    if (got < 0)
        return i61_mms_enc_file_error(b, inv, I61_MMS_FILE_ERR_OTHER);
    bool more = false;
    if ((size_t)got == n) {
        struct stat st;
        more = fstat(u->fd, &st) == 0 && (uint64_t)st.st_size > fr->pos + (uint64_t)got;
    }
    fr->pos += (uint64_t)got;
    u->done += (uint64_t)got;
    return i61_mms_enc_file_read_resp(b, inv, f->chunk, (size_t)got, more);
}

static int serve_close(i61_client *c, uint32_t inv, const i61_mms_file_req *r, i61_buf *b)
{
    struct i61_cfiles *f = c->files;
    i61_frsm *fr = frsm_find(f, r->frsm_id);
    if (!fr)
        return i61_mms_enc_error_pdu(b, inv, I61_MMS_ERRCLASS_ACCESS, 2);
    f->up[fr->up].last_ms = i61_mono_ms();
    fr->used = false;
    return i61_mms_enc_file_null_resp(b, inv, I61_MMS_SVC_FILE_CLOSE);
}

/* The association's indication handler: confirmed requests from the server. */
void i61_client_on_indication(void *userdata, const uint8_t *pdu, size_t len)
{
    i61_client *c = userdata;
    struct i61_cfiles *f = c->files;
    i61_mms_request rq;
    i61_buf b;
    i61_buf_init(&b);
    int rc = i61_mms_dec_request(pdu, len, &rq);
    if (rc != I61_OK) {
        rc = i61_mms_enc_reject_pdu(&b, rq.has_invoke_id, rq.invoke_id, I61_MMS_REJECT_PDU_ERROR,
                                    I61_MMS_REJECT_INVALID_PDU);
    } else if (rq.service != I61_MMS_SVC_FILE_OPEN && rq.service != I61_MMS_SVC_FILE_READ
               && rq.service != I61_MMS_SVC_FILE_CLOSE) {
        rc = i61_mms_enc_reject_pdu(&b, true, rq.invoke_id, I61_MMS_REJECT_CONFIRMED_REQUEST,
                                    I61_MMS_REJECT_UNRECOGNIZED_SERVICE);
    } else {
        i61_mms_file_req fr;
        rc = i61_mms_dec_file_req(&rq, &fr);
        if (rc != I61_OK) {
            rc = i61_mms_enc_reject_pdu(&b, true, rq.invoke_id, I61_MMS_REJECT_CONFIRMED_REQUEST,
                                        I61_MMS_REJECT_INVALID_ARGUMENT);
        } else {
            pthread_mutex_lock(&f->mu);
            if (rq.service == I61_MMS_SVC_FILE_OPEN)
                rc = serve_open(c, rq.invoke_id, &fr, &b);
            else if (rq.service == I61_MMS_SVC_FILE_READ)
                rc = serve_read(c, rq.invoke_id, &fr, &b);
            else
                rc = serve_close(c, rq.invoke_id, &fr, &b);
            pthread_mutex_unlock(&f->mu);
        }
        i61_mms_file_req_clear(&fr);
    }
    send_pdu(c, &b, rc);
    i61_buf_free(&b);
}

int i61_file_sink_fd(void *userdata, const uint8_t *data, size_t len, uint64_t total)
{
    (void)total;
    int fd = (int)(intptr_t)userdata;
    while (len > 0) {
        ssize_t k = write(fd, data, len);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return I61_ERR_HARDWARE_FAULT;
        }
        data += k;
        len -= (size_t)k;
    }
    return I61_OK;
}
