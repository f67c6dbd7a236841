/* Server file store: FileDirectory, FileOpen/FileRead/FileClose, FileDelete,
 * FileRename and ObtainFile over a directory of the host, sandboxed under
 * its root (srv_file.h, i61_server.h section "files"). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "srv_file.h"
#include "../mms/mms_file.h"
#include "../net/loop.h"

#define I61_SF_NO_ANSWER (-2)            /* = I61_HOOK_DEFER: not answered yet */
#define I61_SF_OK (-1)                   /* success so far (ObtainFile result) */
#define I61_SF_MAX_SIZE 0xffffffffull    /* sizeOfFile is an Unsigned32 */

/* A file request waiting for the application's answer (hook). */
typedef struct i61_sfop {
    struct i61_sfop *next;
    uint64_t token;
    i61_sconn *conn;                     /* NULL once the association is gone */
    uint32_t invoke_id;
    i61_mms_file_req rq;                 /* the decoded request (names owned) */
    char path[I61_FILE_NAME_MAX + 1];    /* checked name under the root */
    char new_path[I61_FILE_NAME_MAX + 1];
    int result;                          /* I61_SF_NO_ANSWER until answered */
    uint64_t deadline_ms;
} i61_sfop;

/* ObtainFile stages. */
enum { I61_OB_OPENING = 1, I61_OB_READING, I61_OB_CLOSING };

/* An ObtainFile transfer (one per association at a time). */
typedef struct i61_sobtain {
    struct i61_sobtain *next;            /* s->files->obtains */
    i61_sconn *conn;
    uint32_t invoke_id;                  /* the client's ObtainFile */
    int stage;
    uint32_t wait_id;                    /* our request waiting for its answer */
    int32_t frsm;                        /* the client's FRSM (READING, CLOSING) */
    int result;                          /* I61_SF_OK or a file error code */
    int dirfd;                           /* destination's directory */
    int fd;                              /* the temporary file */
    char tmp[64];
    char last[I61_FILE_NAME_MAX + 1];    /* destination name inside dirfd */
    uint64_t octets;
    uint64_t deadline_ms;
} i61_sobtain;

/* An open file of an association (FRSM). */
typedef struct i61_sfrsm {
    int fd;                              /* -1 = free slot */
    uint64_t pos;
    uint64_t size;                       /* size at FileOpen: reads stop there */
} i61_sfrsm;

struct i61_sconn_files {
    i61_sfrsm *frsm;
    int nfrsm;
    uint8_t *chunk;                      /* FileRead scratch */
    size_t chunk_cap;
    uint32_t next_invoke;                /* invoke ids of the server's own requests */
    i61_sobtain *obtain;
};

struct i61_srv_files {
    /* guarded by srv->mu */
    int root;                            /* directory descriptor, -1 = no file store */
    int max_open;
    i61_file_hook hook;
    void *hook_ud;
    bool queued;
    void *queued_ud;
    uint64_t next_token;
    i61_sfop *ops;
    /* I/O thread only */
    i61_sobtain *obtains;
    uint64_t tmp_serial;
    /* atomics */
    i61_server_file_stats st;
};

static void i61_stat_add(uint64_t *p, uint64_t v)
{
    __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------- lifetime */

int i61_srv_files_new(i61_server *s)
{
    struct i61_srv_files *f = calloc(1, sizeof *f);
    if (!f)
        return I61_ERR_UNKNOWN;
    f->root = -1;
    f->max_open = I61_SRV_FILE_MAX_OPEN_DEFAULT;
    s->files = f;
    return I61_OK;
}

static void i61_sfop_free(i61_sfop *op)
{
    if (!op)
        return;
    i61_mms_file_req_clear(&op->rq);
    free(op);
}

void i61_srv_files_free(i61_server *s)
{
    struct i61_srv_files *f = s->files;
    if (!f)
        return;
    i61_srv_file_drop_pending(s);
    if (f->root >= 0)
        close(f->root);
    free(f);
    s->files = NULL;
}

void i61_srv_file_drop_pending(i61_server *s)
{
    struct i61_srv_files *f = s->files;
    if (!f)
        return;
    pthread_mutex_lock(&s->mu);
    i61_sfop *op = f->ops;
    f->ops = NULL;
    pthread_mutex_unlock(&s->mu);
    while (op) {
        i61_sfop *nx = op->next;
        if (op->conn)
            op->conn->outstanding--;
        i61_sfop_free(op);
        op = nx;
    }
}

bool i61_srv_files_enabled(i61_server *s)
{
    if (!s || !s->files)
        return false;
    pthread_mutex_lock(&s->mu);
    bool on = s->files->root >= 0;
    pthread_mutex_unlock(&s->mu);
    return on;
}

/* A descriptor of the root for one operation (closed by the caller), -1 when
 * there is no file store. */
static int i61_root_dup(i61_server *s)
{
    pthread_mutex_lock(&s->mu);
    int fd = s->files->root >= 0 ? fcntl(s->files->root, F_DUPFD_CLOEXEC, 0) : -1;
    pthread_mutex_unlock(&s->mu);
    return fd;
}

/* ----------------------------------------------------------- public API */

int i61_server_set_filestore(i61_server *s, const char *dir)
{
    if (!s || !s->files)
        return I61_ERR_INVALID_ARGUMENT;
    int fd = -1;
    if (dir) {
        if (!*dir)
            return I61_ERR_INVALID_ARGUMENT;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return I61_ERR_INVALID_ARGUMENT;
    }
    pthread_mutex_lock(&s->mu);
    int old = s->files->root;
    s->files->root = fd;
    pthread_mutex_unlock(&s->mu);
    if (old >= 0)
        close(old);          /* operations in progress hold their own duplicates */
    return I61_OK;
}

void i61_server_set_max_open_files(i61_server *s, int n)
{
    if (!s || !s->files)
        return;
    if (n < 1)
        n = 1;
    if (n > I61_SRV_FILE_MAX_OPEN_LIMIT)
        n = I61_SRV_FILE_MAX_OPEN_LIMIT;
    pthread_mutex_lock(&s->mu);
    s->files->max_open = n;
    pthread_mutex_unlock(&s->mu);
}

void i61_server_set_file_hook(i61_server *s, i61_file_hook h, void *userdata)
{
    if (!s || !s->files)
        return;
    pthread_mutex_lock(&s->mu);
    s->files->hook = h;
    s->files->hook_ud = userdata;
    if (h)
        s->files->queued = false;
    pthread_mutex_unlock(&s->mu);
}

void i61_server_set_queued_file_hook(i61_server *s, int on, void *userdata)
{
    if (!s || !s->files)
        return;
    pthread_mutex_lock(&s->mu);
    s->files->queued = on != 0;
    s->files->queued_ud = on ? userdata : NULL;
    if (on) {
        s->files->hook = NULL;
        s->files->hook_ud = NULL;
    }
    pthread_mutex_unlock(&s->mu);
}

int i61_server_complete_file(i61_server *s, uint64_t token, int result)
{
    if (!s || !s->files ||
        !(result == I61_HOOK_ACCEPT || (result >= 0 && result <= I61_FILE_ERR_INSUFFICIENT_SPACE)))
        return I61_ERR_INVALID_ARGUMENT;
    int rc = I61_ERR_OBJECT_DOES_NOT_EXIST;
    bool wake = false;
    i61_sfop *orphan = NULL;
    pthread_mutex_lock(&s->mu);
    i61_sfop **pp = &s->files->ops;
    while (*pp && (*pp)->token != token)
        pp = &(*pp)->next;
    i61_sfop *op = *pp;
    if (op && op->result == I61_SF_NO_ANSWER) {
        if (!op->conn) {
            *pp = op->next;                  /* nobody to answer: forget it */
            orphan = op;
            rc = I61_ERR_CONNECTION_LOST;
        } else {
            op->result = result;
            wake = true;
            rc = I61_OK;
        }
    }
    pthread_mutex_unlock(&s->mu);
    i61_sfop_free(orphan);
    if (wake && s->wake)
        s->wake(s);
    return rc;
}

const char *i61_server_event_file_path(const i61_server_event *e)
{
    const struct i61_sev *x = (const struct i61_sev *)(const void *)e;
    return x && x->file_path ? x->file_path : "";
}

const char *i61_server_event_file_new_path(const i61_server_event *e)
{
    const struct i61_sev *x = (const struct i61_sev *)(const void *)e;
    return x && x->file_new_path ? x->file_new_path : "";
}

void i61_server_get_file_stats(i61_server *s, i61_server_file_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (!s || !s->files)
        return;
    i61_server_file_stats *st = &s->files->st;
    out->opened = __atomic_load_n(&st->opened, __ATOMIC_RELAXED);
    out->octets_read = __atomic_load_n(&st->octets_read, __ATOMIC_RELAXED);
    out->deleted = __atomic_load_n(&st->deleted, __ATOMIC_RELAXED);
    out->renamed = __atomic_load_n(&st->renamed, __ATOMIC_RELAXED);
    out->obtained = __atomic_load_n(&st->obtained, __ATOMIC_RELAXED);
    out->octets_obtained = __atomic_load_n(&st->octets_obtained, __ATOMIC_RELAXED);
    out->refused = __atomic_load_n(&st->refused, __ATOMIC_RELAXED);
    out->open_now = __atomic_load_n(&st->open_now, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------- names */

int i61_srv_file_check_name(const char *name, size_t len, bool allow_root, char *out,
                            size_t cap)
{
    if (!name) {
        name = "";
        len = 0;
    }
    if (strlen(name) != len || len > I61_FILE_NAME_MAX)
        return I61_MMS_FILE_ERR_FILE_ACCESS_DENIED;     /* NUL inside, too long */
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (ch < 0x20 || ch == 0x7f || ch == '\\')
            return I61_MMS_FILE_ERR_FILE_ACCESS_DENIED;
    }
    if (allow_root) {
        while (len > 0 && name[len - 1] == '/')
            len--;
        if (len == 0) {
            if (cap < 1)
                return I61_MMS_FILE_ERR_FILE_ACCESS_DENIED;
            out[0] = '\0';
            return 0;
        }
    }
    if (len == 0 || name[0] == '/' || len + 1 > cap)
        return I61_MMS_FILE_ERR_FILE_ACCESS_DENIED;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && name[i] != '/')
            continue;
        size_t cl = i - start;
        if (cl == 0 || (cl == 1 && name[start] == '.') ||
            (cl == 2 && name[start] == '.' && name[start + 1] == '.'))
            return I61_MMS_FILE_ERR_FILE_ACCESS_DENIED;
        if (cl >= sizeof I61_SRV_FILE_TMP_PREFIX - 1 &&
            memcmp(name + start, I61_SRV_FILE_TMP_PREFIX, sizeof I61_SRV_FILE_TMP_PREFIX - 1) == 0)
            return I61_MMS_FILE_ERR_FILE_ACCESS_DENIED;   /* reserved: ObtainFile in progress */
        start = i + 1;
    }
    memcpy(out, name, len);
    out[len] = '\0';
    return 0;
}

/* errno of a failed file system call -> MMS file error. */
static int i61_errno_file_error(int e)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
        return I61_MMS_FILE_ERR_FILE_NON_EXISTENT;
    case EEXIST:
    case ENOTEMPTY:
        return I61_MMS_FILE_ERR_DUPLICATE_FILENAME;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
        return I61_MMS_FILE_ERR_INSUFFICIENT_SPACE;
    case EMFILE:
    case ENFILE:
    case EBUSY:
    case ETXTBSY:
        return I61_MMS_FILE_ERR_FILE_BUSY;
    case ENAMETOOLONG:
        return I61_MMS_FILE_ERR_FILENAME_SYNTAX_ERROR;
    case ELOOP:
    case EACCES:
    case EPERM:
    case EISDIR:
    case EROFS:
    case EXDEV:
        return I61_MMS_FILE_ERR_FILE_ACCESS_DENIED;
    default:
        return I61_MMS_FILE_ERR_OTHER;
    }
}

/* Opens the directories of `rel` (a checked, non-empty relative path) below
 * rootfd one by one without following links. *dirfd: the directory holding
 * the last component (rootfd itself or a new descriptor: close it when it
 * differs), *last: that component (inside rel). 0 or a file error. */
static int i61_walk_parent(int rootfd, const char *rel, int *dirfd, const char **last)
{
    int cur = rootfd;
    const char *p = rel;
    for (;;) {
        const char *slash = strchr(p, '/');
        if (!slash)
            break;
        char comp[I61_FILE_NAME_MAX + 1];
        size_t cl = (size_t)(slash - p);
        memcpy(comp, p, cl);
        comp[cl] = '\0';
        int nfd = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int err = errno;
        if (nfd < 0) {
            int fe = i61_errno_file_error(err);
            struct stat st;
            if ((err == ENOTDIR || err == ELOOP) &&
                fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0)
                fe = S_ISLNK(st.st_mode) ? I61_MMS_FILE_ERR_FILE_ACCESS_DENIED
                                         : I61_MMS_FILE_ERR_FILE_NON_EXISTENT;
            if (cur != rootfd)
                close(cur);
            return fe;
        }
        if (cur != rootfd)
            close(cur);
        cur = nfd;
        p = slash + 1;
    }
    *dirfd = cur;
    *last = p;
    return 0;
}

/* lstat of the last component: 0 (st filled) or a file error. */
static int i61_lstat_at(int dirfd, const char *last, struct stat *st)
{
    if (fstatat(dirfd, last, st, AT_SYMLINK_NOFOLLOW) != 0)
        return i61_errno_file_error(errno);
    return 0;
}

static int64_t i61_mtime_ms(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

/* -------------------------------------------------------------- answers */

static void i61_sf_send(i61_sconn *c)
{
    if (c->pdu.oom) {
        c->close_now = true;
        return;
    }
    i61_sconn_send_pdu(c, c->pdu.data, c->pdu.len);
}

static void i61_sf_error(i61_sconn *c, uint32_t id, int code)
{
    i61_stat_add(&c->srv->files->st.refused, 1);
    i61_buf_reset(&c->pdu);
    i61_mms_enc_file_error(&c->pdu, id, code);
    i61_sf_send(c);
}

static void i61_sf_service_error(i61_sconn *c, uint32_t id, int cls, int code)
{
    i61_stat_add(&c->srv->files->st.refused, 1);
    i61_buf_reset(&c->pdu);
    i61_mms_enc_error_pdu(&c->pdu, id, cls, code);
    i61_sf_send(c);
}

static void i61_sf_reject(i61_sconn *c, uint32_t id, int code)
{
    i61_buf_reset(&c->pdu);
    i61_mms_enc_reject_pdu(&c->pdu, true, id, I61_MMS_REJECT_CONFIRMED_REQUEST, code);
    i61_sf_send(c);
}

static void i61_sf_null(i61_sconn *c, uint32_t id, int service)
{
    i61_buf_reset(&c->pdu);
    i61_mms_enc_file_null_resp(&c->pdu, id, service);
    i61_sf_send(c);
}

/* The association's file state, created on first use (NULL: out of memory). */
static struct i61_sconn_files *i61_conn_files(i61_sconn *c)
{
    if (c->files)
        return c->files;
    struct i61_sconn_files *cf = calloc(1, sizeof *cf);
    if (!cf)
        return NULL;
    i61_server *s = c->srv;
    pthread_mutex_lock(&s->mu);
    int n = s->files->max_open;
    pthread_mutex_unlock(&s->mu);
    cf->frsm = malloc((size_t)n * sizeof *cf->frsm);
    if (!cf->frsm) {
        free(cf);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        cf->frsm[i].fd = -1;
    cf->nfrsm = n;
    cf->next_invoke = 1;
    c->files = cf;
    return cf;
}

/* ------------------------------------------------------------ FileOpen */

static void i61_do_open(i61_sconn *c, uint32_t id, const char *path, uint32_t init_pos)
{
    struct i61_sconn_files *cf = i61_conn_files(c);
    if (!cf) {
        i61_sf_service_error(c, id, I61_MMS_ERRCLASS_RESOURCE, 0);
        return;
    }
    int slot = -1;
    for (int i = 0; i < cf->nfrsm; i++)
        if (cf->frsm[i].fd < 0) {
            slot = i;
            break;
        }
    if (slot < 0) {
        i61_sf_error(c, id, I61_MMS_FILE_ERR_FILE_BUSY);     /* max_open_files reached */
        return;
    }
    int rootfd = i61_root_dup(c->srv);
    if (rootfd < 0) {
        i61_sf_error(c, id, I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
        return;
    }
    int dirfd = -1;
    const char *last = NULL;
    int fe = i61_walk_parent(rootfd, path, &dirfd, &last);
    int fd = -1;
    struct stat st;
    if (fe == 0) {
        /* O_NONBLOCK: a FIFO must not block the I/O thread (refused below) */
        fd = openat(dirfd, last, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            fe = i61_errno_file_error(errno);
        else if (fstat(fd, &st) != 0)
            fe = i61_errno_file_error(errno);
        else if (!S_ISREG(st.st_mode))
            fe = I61_MMS_FILE_ERR_FILE_ACCESS_DENIED;
        else if ((uint64_t)st.st_size > I61_SF_MAX_SIZE)
            fe = I61_MMS_FILE_ERR_FILE_ACCESS_DENIED;       /* sizeOfFile is an Unsigned32 */
        else if ((uint64_t)init_pos > (uint64_t)st.st_size)
            fe = I61_MMS_FILE_ERR_POSITION_INVALID;
        if (dirfd != rootfd)
            close(dirfd);
    }
    close(rootfd);
    if (fe != 0) {
        if (fd >= 0)
            close(fd);
        i61_sf_error(c, id, fe);
        return;
    }
    i61_buf_reset(&c->pdu);
    if (i61_mms_enc_file_open_resp(&c->pdu, id, slot, (uint64_t)st.st_size, i61_mtime_ms(&st)) !=
        I61_OK) {
        close(fd);
        i61_sf_service_error(c, id, I61_MMS_ERRCLASS_RESOURCE, 0);
        return;
    }
    cf->frsm[slot].fd = fd;
    cf->frsm[slot].pos = init_pos;
    cf->frsm[slot].size = (uint64_t)st.st_size;
    i61_stat_add(&c->srv->files->st.opened, 1);
    __atomic_fetch_add(&c->srv->files->st.open_now, 1, __ATOMIC_RELAXED);
    i61_sf_send(c);
}

static i61_sfrsm *i61_frsm_of(i61_sconn *c, int32_t id)
{
    struct i61_sconn_files *cf = c->files;
    if (!cf || id < 0 || id >= cf->nfrsm || cf->frsm[id].fd < 0)
        return NULL;
    return &cf->frsm[id];
}

static void i61_frsm_close(i61_server *s, i61_sfrsm *f)
{
    if (f->fd < 0)
        return;
    close(f->fd);
    f->fd = -1;
    __atomic_fetch_sub(&s->files->st.open_now, 1, __ATOMIC_RELAXED);
}

static void i61_do_read(i61_sconn *c, uint32_t id, int32_t frsm_id)
{
    i61_sfrsm *f = i61_frsm_of(c, frsm_id);
    if (!f) {
        i61_sf_error(c, id, I61_MMS_FILE_ERR_OTHER);         /* no such FRSM */
        return;
    }
    struct i61_sconn_files *cf = c->files;
    size_t max = i61_mms_file_read_max_data(c->max_pdu);
    if (max == 0) {
        i61_sf_service_error(c, id, I61_MMS_ERRCLASS_SERVICE, 3);   /* pdu-size */
        return;
    }
    if (cf->chunk_cap < max) {
        uint8_t *p = realloc(cf->chunk, max);
        if (!p) {
            i61_sf_service_error(c, id, I61_MMS_ERRCLASS_RESOURCE, 0);
            return;
        }
        cf->chunk = p;
        cf->chunk_cap = max;
    }
    uint64_t left = f->size > f->pos ? f->size - f->pos : 0;
    size_t want = left < max ? (size_t)left : max;
    size_t got = 0;
    while (got < want) {
        ssize_t r = pread(f->fd, cf->chunk + got, want - got, (off_t)(f->pos + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            i61_sf_error(c, id, i61_errno_file_error(errno));
            return;
        }
        if (r == 0)
            break;                                           /* the file shrank */
        got += (size_t)r;
    }
    f->pos += got;
    bool more = got == want && f->pos < f->size;
    i61_buf_reset(&c->pdu);
    if (i61_mms_enc_file_read_resp(&c->pdu, id, cf->chunk, got, more) != I61_OK) {
        i61_sf_service_error(c, id, I61_MMS_ERRCLASS_RESOURCE, 0);
        return;
    }
    i61_stat_add(&c->srv->files->st.octets_read, got);
    i61_sf_send(c);
}

static void i61_do_close(i61_sconn *c, uint32_t id, int32_t frsm_id)
{
    i61_sfrsm *f = i61_frsm_of(c, frsm_id);
    if (!f) {
        i61_sf_error(c, id, I61_MMS_FILE_ERR_OTHER);
        return;
    }
    i61_frsm_close(c->srv, f);
    i61_sf_null(c, id, I61_MMS_SVC_FILE_CLOSE);
}

/* ------------------------------------------------- FileDelete / Rename */

static void i61_do_delete(i61_sconn *c, uint32_t id, const char *path)
{
    int rootfd = i61_root_dup(c->srv);
    if (rootfd < 0) {
        i61_sf_error(c, id, I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
        return;
    }
    int dirfd = -1;
    const char *last = NULL;
    int fe = i61_walk_parent(rootfd, path, &dirfd, &last);
    if (fe == 0) {
        struct stat st;
        fe = i61_lstat_at(dirfd, last, &st);
        if (fe == 0 && !S_ISREG(st.st_mode))
            fe = I61_MMS_FILE_ERR_FILE_ACCESS_DENIED;
        if (fe == 0 && unlinkat(dirfd, last, 0) != 0)
            fe = i61_errno_file_error(errno);
        if (dirfd != rootfd)
            close(dirfd);
    }
    close(rootfd);
    if (fe != 0) {
        i61_sf_error(c, id, fe);
        return;
    }
    i61_stat_add(&c->srv->files->st.deleted, 1);
    i61_sf_null(c, id, I61_MMS_SVC_FILE_DELETE);
}

static void i61_do_rename(i61_sconn *c, uint32_t id, const char *from, const char *to)
{
    int rootfd = i61_root_dup(c->srv);
    if (rootfd < 0) {
        i61_sf_error(c, id, I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
        return;
    }
    int d1 = -1, d2 = -1;
    const char *l1 = NULL, *l2 = NULL;
    struct stat st;
    int fe = i61_walk_parent(rootfd, from, &d1, &l1);
    if (fe == 0) {
        fe = i61_lstat_at(d1, l1, &st);
        if (fe == 0 && !S_ISREG(st.st_mode))
            fe = I61_MMS_FILE_ERR_FILE_ACCESS_DENIED;
    }
    if (fe == 0)
        fe = i61_walk_parent(rootfd, to, &d2, &l2);
    if (fe == 0) {
        int e = i61_lstat_at(d2, l2, &st);
        if (e == 0)
            fe = I61_MMS_FILE_ERR_DUPLICATE_FILENAME;
        else if (e != I61_MMS_FILE_ERR_FILE_NON_EXISTENT)
            fe = e;
    }
    if (fe == 0 && renameat2(d1, l1, d2, l2, RENAME_NOREPLACE) != 0) {
        int e = errno;
        if (e == EINVAL || e == ENOSYS) {
            /* the file system cannot refuse atomically: checked just above */
            if (renameat(d1, l1, d2, l2) != 0)
                fe = i61_errno_file_error(errno);
        } else {
            fe = i61_errno_file_error(e);
        }
    }
    if (d1 >= 0 && d1 != rootfd)
        close(d1);
    if (d2 >= 0 && d2 != rootfd)
        close(d2);
    close(rootfd);
    if (fe != 0) {
        i61_sf_error(c, id, fe);
        return;
    }
    i61_stat_add(&c->srv->files->st.renamed, 1);
    i61_sf_null(c, id, I61_MMS_SVC_FILE_RENAME);
}

/* -------------------------------------------------------- FileDirectory */

typedef struct i61_dcand {
    char *name;
    uint64_t size;
    int64_t mtime_ms;
} i61_dcand;

/* The smallest `keep` names after `after` among everything walked. */
typedef struct i61_dlist {
    i61_dcand *v;
    size_t n, cap, keep;
    size_t total;                        /* candidates after `after`, all of them */
    const char *after;                   /* NULL = from the start */
    char *bound;                         /* after a trim: names above cannot be kept */
    uint32_t visits;
    bool oom, too_many;
} i61_dlist;

static int i61_dcand_cmp(const void *a, const void *b)
{
    return strcmp(((const i61_dcand *)a)->name, ((const i61_dcand *)b)->name);
}

static void i61_dl_trim(i61_dlist *l)
{
    qsort(l->v, l->n, sizeof *l->v, i61_dcand_cmp);
    if (l->n <= l->keep)
        return;
    while (l->n > l->keep)
        free(l->v[--l->n].name);
    /* the keep smallest so far are all <= the last of them */
    free(l->bound);
    l->bound = strdup(l->v[l->n - 1].name);
    if (!l->bound)
        l->oom = true;
}

static void i61_dl_add(i61_dlist *l, const char *name, const struct stat *st)
{
    if (l->oom || (l->after && strcmp(name, l->after) <= 0))
        return;
    l->total++;
    if (l->n == l->cap)
        i61_dl_trim(l);                  /* cap = 2 * keep: amortised */
    if (l->bound && strcmp(name, l->bound) >= 0)
        return;                          /* keep smaller names are known already */
    char *dup = strdup(name);
    if (!dup) {
        l->oom = true;
        return;
    }
    uint64_t size = (uint64_t)st->st_size;
    l->v[l->n].name = dup;
    l->v[l->n].size = size > I61_SF_MAX_SIZE ? I61_SF_MAX_SIZE : size;
    l->v[l->n].mtime_ms = i61_mtime_ms(st);
    l->n++;
}

static bool i61_listable_name(const char *name)
{
    if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
        return false;
    if (strncmp(name, I61_SRV_FILE_TMP_PREFIX, sizeof I61_SRV_FILE_TMP_PREFIX - 1) == 0)
        return false;                    /* an ObtainFile in progress */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '\\')
            return false;                /* could never be named by a client */
    return true;
}

/* Walks directory dfd (taken over) whose entries are named path[0..plen) +
 * name; recursion depth bounded by I61_FILE_DIR_MAX_DEPTH. */
static void i61_dl_walk(i61_dlist *l, int dfd, char *path, size_t plen, int depth)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return;
    }
    rewinddir(d);
    struct dirent *e;
    while (!l->oom && !l->too_many && (e = readdir(d)) != NULL) {
        if (++l->visits > I61_SRV_FILE_DIR_MAX_VISITS) {
            l->too_many = true;
            break;
        }
        const char *name = e->d_name;
        if (!i61_listable_name(name))
            continue;
        size_t nl = strlen(name);
        if (plen + nl > I61_FILE_NAME_MAX)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        memcpy(path + plen, name, nl + 1);
        if (S_ISREG(st.st_mode)) {
            i61_dl_add(l, path, &st);
        } else if (S_ISDIR(st.st_mode) && depth + 1 < I61_FILE_DIR_MAX_DEPTH &&
                   plen + nl + 1 < I61_FILE_NAME_MAX) {
            int sub = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0) {
                path[plen + nl] = '/';
                path[plen + nl + 1] = '\0';
                i61_dl_walk(l, sub, path, plen + nl + 1, depth + 1);
            }
        }
        path[plen] = '\0';
    }
    closedir(d);
}

static void i61_dl_free(i61_dlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].name);
    free(l->v);
    free(l->bound);
}

static void i61_do_directory(i61_sconn *c, uint32_t id, const char *path, const char *after)
{
    int rootfd = i61_root_dup(c->srv);
    if (rootfd < 0) {
        i61_sf_error(c, id, I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
        return;
    }
    i61_dlist l;
    memset(&l, 0, sizeof l);
    l.after = after;
    l.keep = c->max_pdu / 9 + 1;         /* more entries never fit a PDU */
    if (l.keep > I61_MMS_FILE_DIR_MAX_ENTRIES)
        l.keep = I61_MMS_FILE_DIR_MAX_ENTRIES;
    l.cap = 2 * l.keep;
    l.v = malloc(l.cap * sizeof *l.v);
    int fe = l.v ? 0 : -1;
    char buf[I61_FILE_NAME_MAX + 2];
    if (fe == 0 && path[0] == '\0') {
        /* a new open file description: a duplicate would share the offset */
        int dfd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        buf[0] = '\0';
        if (dfd >= 0)
            i61_dl_walk(&l, dfd, buf, 0, 0);
        else
            fe = i61_errno_file_error(errno);
    } else if (fe == 0) {
        int dirfd = -1;
        const char *last = NULL;
        struct stat st;
        fe = i61_walk_parent(rootfd, path, &dirfd, &last);
        if (fe == 0) {
            fe = i61_lstat_at(dirfd, last, &st);
            size_t pl = strlen(path);
            if (fe == 0 && S_ISREG(st.st_mode)) {
                i61_dl_add(&l, path, &st);
            } else if (fe == 0 && S_ISDIR(st.st_mode) && pl + 1 < I61_FILE_NAME_MAX) {
                int dfd = openat(dirfd, last, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (dfd < 0) {
                    fe = i61_errno_file_error(errno);
                } else {
                    memcpy(buf, path, pl);
                    buf[pl] = '/';
                    buf[pl + 1] = '\0';
                    i61_dl_walk(&l, dfd, buf, pl + 1, 1);
                }
            } else if (fe == 0) {
                fe = I61_MMS_FILE_ERR_FILE_ACCESS_DENIED;   /* a link, FIFO, device ... */
            }
            if (dirfd != rootfd)
                close(dirfd);
        }
    }
    close(rootfd);
    if (fe < 0 || l.oom) {
        i61_dl_free(&l);
        i61_sf_service_error(c, id, I61_MMS_ERRCLASS_RESOURCE, 0);
        return;
    }
    if (fe != 0 || l.too_many) {
        i61_dl_free(&l);
        i61_sf_error(c, id, fe != 0 ? fe : I61_MMS_FILE_ERR_OTHER);
        return;
    }
    i61_dl_trim(&l);
    /* as many entries as fit the negotiated PDU */
    i61_mms_file_entry *ents = malloc((l.n ? l.n : 1) * sizeof *ents);
    if (!ents) {
        i61_dl_free(&l);
        i61_sf_service_error(c, id, I61_MMS_ERRCLASS_RESOURCE, 0);
        return;
    }
    size_t n = 0, octets = 0;
    for (size_t i = 0; i < l.n; i++) {
        i61_mms_file_entry e = {l.v[i].name, strlen(l.v[i].name), l.v[i].size, l.v[i].mtime_ms};
        size_t add = i61_mms_file_entry_encoded_size(&e);
        if (add == 0) {
            e.mtime_ms = -1;             /* a date GeneralizedTime cannot carry */
            add = i61_mms_file_entry_encoded_size(&e);
        }
        if (add == 0 || i61_mms_file_dir_resp_size(id, octets + add) > c->max_pdu)
            break;
        ents[n++] = e;
        octets += add;
    }
    bool more = n < l.total;
    if (n == 0 && more) {
        free(ents);
        i61_dl_free(&l);
        i61_sf_service_error(c, id, I61_MMS_ERRCLASS_SERVICE, 3);   /* pdu-size */
        return;
    }
    i61_buf_reset(&c->pdu);
    int rc = i61_mms_enc_file_directory_resp(&c->pdu, id, ents, n, more);
    free(ents);
    i61_dl_free(&l);
    if (rc != I61_OK) {
        i61_sf_service_error(c, id, I61_MMS_ERRCLASS_RESOURCE, 0);
        return;
    }
    i61_sf_send(c);
}

/* ---------------------------------------------------------- ObtainFile */

static void i61_arm(i61_server *s, uint64_t deadline)
{
    if (s->arm_file)
        s->arm_file(s, deadline);
}

static uint64_t i61_answer_deadline(i61_server *s)
{
    pthread_mutex_lock(&s->mu);
    uint32_t ms = s->hook_timeout_ms;
    pthread_mutex_unlock(&s->mu);
    return i61_mono_ms() + ms;
}

/* Sends the request in c->pdu as the next of the transfer. */
static void i61_ob_send(i61_sconn *c, i61_sobtain *ob, uint32_t id)
{
    ob->wait_id = id;
    ob->deadline_ms = i61_answer_deadline(c->srv);
    i61_sf_send(c);
    i61_arm(c->srv, ob->deadline_ms);
}

static uint32_t i61_next_id(struct i61_sconn_files *cf)
{
    uint32_t id = cf->next_invoke++;
    if (cf->next_invoke == 0 || cf->next_invoke > 0x7fffffffu)
        cf->next_invoke = 1;
    return id;
}

/* Ends a transfer: keeps or removes the temporary file, answers the
 * ObtainFile when the association is still there, frees. */
static void i61_ob_finish(i61_server *s, i61_sobtain *ob)
{
    struct i61_srv_files *f = s->files;
    i61_sobtain **pp = &f->obtains;
    while (*pp && *pp != ob)
        pp = &(*pp)->next;
    if (*pp)
        *pp = ob->next;
    int result = ob->result;
    if (ob->fd >= 0 && close(ob->fd) != 0 && result == I61_SF_OK)
        result = i61_errno_file_error(errno);
    ob->fd = -1;
    if (result == I61_SF_OK && renameat(ob->dirfd, ob->tmp, ob->dirfd, ob->last) != 0)
        result = i61_errno_file_error(errno);
    if (result != I61_SF_OK)
        unlinkat(ob->dirfd, ob->tmp, 0);
    close(ob->dirfd);
    i61_sconn *c = ob->conn;
    if (result == I61_SF_OK) {
        i61_stat_add(&f->st.obtained, 1);
        i61_stat_add(&f->st.octets_obtained, ob->octets);
    }
    if (c) {
        c->outstanding--;
        if (c->files)
            c->files->obtain = NULL;
        if (result == I61_SF_OK)
            i61_sf_null(c, ob->invoke_id, I61_MMS_SVC_OBTAIN_FILE);
        else
            i61_sf_error(c, ob->invoke_id, result);
    } else if (result != I61_SF_OK) {
        i61_stat_add(&f->st.refused, 1);
    }
    free(ob);
}

/* A failure while the client's file is open: close it first, then finish. */
static void i61_ob_fail(i61_sconn *c, i61_sobtain *ob, int code)
{
    if (ob->result == I61_SF_OK)
        ob->result = code;
    if (ob->stage == I61_OB_READING) {
        uint32_t id = i61_next_id(c->files);
        i61_buf_reset(&c->pdu);
        if (i61_mms_enc_file_close_req(&c->pdu, id, ob->frsm) == I61_OK) {
            ob->stage = I61_OB_CLOSING;
            i61_ob_send(c, ob, id);
            return;
        }
    }
    i61_ob_finish(c->srv, ob);
}

static int i61_client_file_error(int rc, const i61_mms_error *err)
{
    if (err->kind == I61_MMS_KIND_ERROR && err->cls == I61_MMS_ERRCLASS_FILE && err->code >= 0 &&
        err->code <= I61_MMS_FILE_ERR_INSUFFICIENT_SPACE)
        return err->code;                /* the client's own file error */
    if (rc == I61_ERR_OBJECT_DOES_NOT_EXIST)
        return I61_MMS_FILE_ERR_FILE_NON_EXISTENT;
    if (rc == I61_ERR_ACCESS_DENIED)
        return I61_MMS_FILE_ERR_FILE_ACCESS_DENIED;
    return I61_MMS_FILE_ERR_OTHER;
}

static void i61_ob_on_answer(i61_sconn *c, i61_sobtain *ob, const uint8_t *pdu, size_t len)
{
    i61_mms_error err;
    memset(&err, 0, sizeof err);
    ob->wait_id = 0;
    switch (ob->stage) {
    case I61_OB_OPENING: {
        int32_t frsm = 0;
        uint64_t size = 0;
        int64_t mtime = -1;
        int rc = i61_mms_dec_file_open_resp(pdu, len, &frsm, &size, &mtime, &err);
        if (rc != I61_OK) {
            ob->result = i61_client_file_error(rc, &err);
            i61_ob_finish(c->srv, ob);
            return;
        }
        ob->frsm = frsm;
        ob->stage = I61_OB_READING;
        break;
    }
    case I61_OB_READING: {
        const uint8_t *data = NULL;
        size_t dl = 0;
        bool more = false;
        int rc = i61_mms_dec_file_read_resp(pdu, len, &data, &dl, &more, &err);
        if (rc != I61_OK) {
            /* the client's file stays open after a FileRead error: close it */
            i61_ob_fail(c, ob, i61_client_file_error(rc, &err));
            return;
        }
        size_t done = 0;
        while (done < dl) {
            ssize_t w = write(ob->fd, data + done, dl - done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                i61_ob_fail(c, ob, w < 0 ? i61_errno_file_error(errno)
                                         : I61_MMS_FILE_ERR_INSUFFICIENT_SPACE);
                return;
            }
            done += (size_t)w;
        }
        ob->octets += dl;
        if (!more) {
            i61_ob_fail(c, ob, I61_SF_OK);       /* complete: close the client's file */
            return;
        }
        break;
    }
    default:                                     /* CLOSING: whatever the answer */
        i61_ob_finish(c->srv, ob);
        return;
    }
    /* next FileRead */
    uint32_t id = i61_next_id(c->files);
    i61_buf_reset(&c->pdu);
    if (i61_mms_enc_file_read_req(&c->pdu, id, ob->frsm) != I61_OK) {
        i61_ob_fail(c, ob, I61_MMS_FILE_ERR_OTHER);
        return;
    }
    i61_ob_send(c, ob, id);
}

bool i61_srv_file_response(i61_sconn *c, const uint8_t *pdu, size_t len)
{
    struct i61_sconn_files *cf = c->files;
    if (!cf || cf->next_invoke == 1)
        return false;                            /* we never sent a request */
    uint32_t id = 0;
    int kind = 0;
    if (i61_mms_pdu_invoke_id(pdu, len, &id, &kind) != I61_OK || id == I61_MMS_NO_INVOKE_ID ||
        (kind != I61_MMS_KIND_RESPONSE && kind != I61_MMS_KIND_ERROR &&
         kind != I61_MMS_KIND_REJECT))
        return false;
    i61_sobtain *ob = cf->obtain;
    if (ob && ob->wait_id != 0 && id == ob->wait_id) {
        i61_ob_on_answer(c, ob, pdu, len);
        return true;
    }
    /* an answer to one of ours that came too late: dropped */
    return id >= 1 && id < cf->next_invoke;
}

static void i61_do_obtain(i61_sconn *c, uint32_t id, const i61_mms_file_req *rq,
                          const char *dest)
{
    struct i61_sconn_files *cf = i61_conn_files(c);
    if (!cf) {
        i61_sf_service_error(c, id, I61_MMS_ERRCLASS_RESOURCE, 0);
        return;
    }
    if (cf->obtain) {
        i61_sf_error(c, id, I61_MMS_FILE_ERR_FILE_BUSY);
        return;
    }
    int rootfd = i61_root_dup(c->srv);
    if (rootfd < 0) {
        i61_sf_error(c, id, I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
        return;
    }
    i61_sobtain *ob = calloc(1, sizeof *ob);
    if (!ob) {
        close(rootfd);
        i61_sf_service_error(c, id, I61_MMS_ERRCLASS_RESOURCE, 0);
        return;
    }
    ob->fd = -1;
    ob->dirfd = -1;
    int dirfd = -1;
    const char *last = NULL;
    int fe = i61_walk_parent(rootfd, dest, &dirfd, &last);
    if (fe == 0) {
        /* keep a descriptor of the destination directory of our own */
        ob->dirfd = dirfd != rootfd ? dirfd : fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
        if (ob->dirfd < 0)
            fe = i61_errno_file_error(errno);
    }
    close(rootfd);
    struct stat st;
    if (fe == 0) {
        int e = i61_lstat_at(ob->dirfd, last, &st);
        if (e == 0 && !S_ISREG(st.st_mode))
            fe = I61_MMS_FILE_ERR_FILE_ACCESS_DENIED;    /* only a regular file is replaced */
        else if (e != 0 && e != I61_MMS_FILE_ERR_FILE_NON_EXISTENT)
            fe = e;
    }
    if (fe == 0) {
        snprintf(ob->last, sizeof ob->last, "%s", last);
        for (int k = 0; k < 100 && ob->fd < 0; k++) {
            snprintf(ob->tmp, sizeof ob->tmp, "%s%u-%llu.tmp", I61_SRV_FILE_TMP_PREFIX, c->id,
                     (unsigned long long)++c->srv->files->tmp_serial);
            ob->fd = openat(ob->dirfd, ob->tmp,
                            O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
            if (ob->fd < 0 && errno != EEXIST)
                break;
        }
        if (ob->fd < 0)
            fe = i61_errno_file_error(errno);
    }
    if (fe != 0) {
        if (ob->dirfd >= 0)
            close(ob->dirfd);
        free(ob);
        i61_sf_error(c, id, fe);
        return;
    }
    ob->conn = c;
    ob->invoke_id = id;
    ob->result = I61_SF_OK;
    ob->stage = I61_OB_OPENING;
    ob->next = c->srv->files->obtains;
    c->srv->files->obtains = ob;
    cf->obtain = ob;
    c->outstanding++;
    uint32_t rid = i61_next_id(cf);
    i61_buf_reset(&c->pdu);
    if (i61_mms_enc_file_open_req(&c->pdu, rid, rq->name, 0) != I61_OK ||
        c->pdu.len > c->max_pdu) {
        ob->result = I61_MMS_FILE_ERR_FILENAME_SYNTAX_ERROR;
        i61_ob_finish(c->srv, ob);
        return;
    }
    i61_ob_send(c, ob, rid);
}

/* ------------------------------------------------------------- dispatch */

static int i61_op_of(int service)
{
    switch (service) {
    case I61_MMS_SVC_FILE_OPEN:
        return I61_FILE_OP_OPEN;
    case I61_MMS_SVC_FILE_DELETE:
        return I61_FILE_OP_DELETE;
    case I61_MMS_SVC_FILE_RENAME:
        return I61_FILE_OP_RENAME;
    case I61_MMS_SVC_FILE_DIRECTORY:
        return I61_FILE_OP_DIRECTORY;
    case I61_MMS_SVC_OBTAIN_FILE:
        return I61_FILE_OP_OBTAIN;
    default:
        return 0;
    }
}

/* Runs an allowed operation. */
static void i61_exec(i61_sconn *c, uint32_t id, const i61_mms_file_req *rq, const char *path,
                     const char *new_path)
{
    switch (rq->service) {
    case I61_MMS_SVC_FILE_OPEN:
        i61_do_open(c, id, path, rq->initial_position);
        break;
    case I61_MMS_SVC_FILE_DELETE:
        i61_do_delete(c, id, path);
        break;
    case I61_MMS_SVC_FILE_RENAME:
        i61_do_rename(c, id, path, new_path);
        break;
    case I61_MMS_SVC_FILE_DIRECTORY:
        i61_do_directory(c, id, path, rq->has_name2 ? rq->name2 : NULL);
        break;
    case I61_MMS_SVC_OBTAIN_FILE:
        i61_do_obtain(c, id, rq, new_path);
        break;
    default:
        i61_sf_reject(c, id, I61_MMS_REJECT_UNRECOGNIZED_SERVICE);
        break;
    }
}

/* Asks the application (hook) and runs or refuses the operation; takes the
 * request's names over. */
static void i61_ask(i61_sconn *c, uint32_t id, i61_mms_file_req *rq, const char *path,
                    const char *new_path)
{
    i61_server *s = c->srv;
    struct i61_srv_files *f = s->files;
    pthread_mutex_lock(&s->mu);
    i61_file_hook hook = f->hook;
    void *ud = f->queued ? f->queued_ud : f->hook_ud;
    bool queued = f->queued;
    pthread_mutex_unlock(&s->mu);
    if (!hook && !queued) {
        i61_exec(c, id, rq, path, new_path);
        i61_mms_file_req_clear(rq);
        return;
    }
    i61_sfop *op = calloc(1, sizeof *op);
    if (!op) {
        i61_mms_file_req_clear(rq);
        i61_sf_service_error(c, id, I61_MMS_ERRCLASS_RESOURCE, 0);
        return;
    }
    op->conn = c;
    op->invoke_id = id;
    op->rq = *rq;                                /* names move into the operation */
    memset(rq, 0, sizeof *rq);
    snprintf(op->path, sizeof op->path, "%s", path);
    snprintf(op->new_path, sizeof op->new_path, "%s", new_path);
    op->result = I61_SF_NO_ANSWER;
    int kind = i61_op_of(op->rq.service);
    /* ObtainFile: path = the client's source name, new_path = the destination */
    const char *ev_path = kind == I61_FILE_OP_OBTAIN ? op->rq.name : op->path;
    pthread_mutex_lock(&s->mu);
    op->token = ++f->next_token;
    op->deadline_ms = i61_mono_ms() + s->hook_timeout_ms;
    op->next = f->ops;
    f->ops = op;
    pthread_mutex_unlock(&s->mu);
    c->outstanding++;
    int res;
    if (queued)
        res = i61_srv_push_file_event(s, c->id, op->token, kind, ud, ev_path, op->new_path)
                  ? I61_HOOK_DEFER
                  : I61_MMS_FILE_ERR_FILE_BUSY;      /* queue full */
    else
        res = hook(ud, op->token, c->id, kind, ev_path, op->new_path);
    if (!(res == I61_HOOK_DEFER || res == I61_HOOK_ACCEPT ||
          (res >= 0 && res <= I61_MMS_FILE_ERR_INSUFFICIENT_SPACE)))
        res = I61_MMS_FILE_ERR_FILE_ACCESS_DENIED;   /* a bad answer denies */
    pthread_mutex_lock(&s->mu);
    if (res != I61_HOOK_DEFER && op->result == I61_SF_NO_ANSWER)
        op->result = res;
    bool done = op->result != I61_SF_NO_ANSWER;
    if (done) {
        i61_sfop **pp = &f->ops;
        while (*pp && *pp != op)
            pp = &(*pp)->next;
        if (*pp)
            *pp = op->next;
    }
    uint64_t deadline = op->deadline_ms;
    pthread_mutex_unlock(&s->mu);
    if (!done) {
        i61_arm(s, deadline);
        return;
    }
    c->outstanding--;
    if (op->result == I61_HOOK_ACCEPT)
        i61_exec(c, id, &op->rq, op->path, op->new_path);
    else
        i61_sf_error(c, id, op->result);
    i61_sfop_free(op);
}

void i61_srv_file_request(i61_sconn *c, const i61_mms_request *rq)
{
    i61_server *s = c->srv;
    uint32_t id = rq->invoke_id;
    i61_mms_file_req fr;
    memset(&fr, 0, sizeof fr);
    /* FileRead/FileClose of files already open keep working when the file
     * store is removed meanwhile */
    bool rw = rq->service == I61_MMS_SVC_FILE_READ || rq->service == I61_MMS_SVC_FILE_CLOSE;
    if (!s->files || ((!rw || !c->files) && !i61_srv_files_enabled(s))) {
        i61_sf_reject(c, id, I61_MMS_REJECT_UNRECOGNIZED_SERVICE);     /* no file store */
        return;
    }
    int rc = i61_mms_dec_file_req(rq, &fr);
    if (rc != I61_OK) {
        i61_mms_file_req_clear(&fr);
        if (rc == I61_ERR_MALFORMED_MESSAGE)
            i61_sf_reject(c, id, I61_MMS_REJECT_INVALID_ARGUMENT);
        else
            i61_sf_service_error(c, id, I61_MMS_ERRCLASS_RESOURCE, 0);
        return;
    }
    if (fr.service == I61_MMS_SVC_FILE_READ) {
        i61_do_read(c, id, fr.frsm_id);
        i61_mms_file_req_clear(&fr);
        return;
    }
    if (fr.service == I61_MMS_SVC_FILE_CLOSE) {
        i61_do_close(c, id, fr.frsm_id);
        i61_mms_file_req_clear(&fr);
        return;
    }
    char path[I61_FILE_NAME_MAX + 1] = "";
    char new_path[I61_FILE_NAME_MAX + 1] = "";
    int fe = 0;
    switch (fr.service) {
    case I61_MMS_SVC_FILE_DIRECTORY:
        fe = i61_srv_file_check_name(fr.has_name ? fr.name : "", fr.has_name ? fr.name_len : 0,
                                     true, path, sizeof path);
        if (fe == 0 && fr.has_name2 && (!fr.name2 || strlen(fr.name2) != fr.name2_len))
            fe = I61_MMS_FILE_ERR_FILE_ACCESS_DENIED;   /* continueAfter with a NUL */
        break;
    case I61_MMS_SVC_FILE_OPEN:
    case I61_MMS_SVC_FILE_DELETE:
        fe = i61_srv_file_check_name(fr.name, fr.name_len, false, path, sizeof path);
        break;
    case I61_MMS_SVC_FILE_RENAME:
        fe = i61_srv_file_check_name(fr.name, fr.name_len, false, path, sizeof path);
        if (fe == 0)
            fe = i61_srv_file_check_name(fr.name2, fr.name2_len, false, new_path,
                                         sizeof new_path);
        break;
    case I61_MMS_SVC_OBTAIN_FILE:
        /* sourceFile is the client's name (sent back to it as it came);
         * destinationFile is ours */
        if (fr.has_source_server || !fr.name || fr.name_len == 0 ||
            strlen(fr.name) != fr.name_len || fr.name_len > I61_FILE_NAME_MAX)
            fe = I61_MMS_FILE_ERR_FILE_ACCESS_DENIED;
        else
            fe = i61_srv_file_check_name(fr.name2, fr.name2_len, false, new_path,
                                         sizeof new_path);
        break;
    default:
        i61_mms_file_req_clear(&fr);
        i61_sf_reject(c, id, I61_MMS_REJECT_UNRECOGNIZED_SERVICE);
        return;
    }
    if (fe != 0) {
        i61_mms_file_req_clear(&fr);
        i61_sf_error(c, id, fe);
        return;
    }
    i61_ask(c, id, &fr, path, new_path);
}

/* ------------------------------------------------------------ the loop */

uint64_t i61_srv_file_run(i61_server *s, uint64_t now_ms)
{
    struct i61_srv_files *f = s->files;
    if (!f)
        return 0;
    /* operations answered, timed out, or orphaned and answered */
    i61_sfop *ready = NULL, **tail = &ready;
    uint64_t next = 0;
    pthread_mutex_lock(&s->mu);
    i61_sfop **pp = &f->ops;
    while (*pp) {
        i61_sfop *op = *pp;
        if (op->result == I61_SF_NO_ANSWER && op->deadline_ms <= now_ms)
            op->result = I61_MMS_FILE_ERR_FILE_ACCESS_DENIED;    /* no answer in time */
        if (op->result != I61_SF_NO_ANSWER) {
            *pp = op->next;
            op->next = NULL;
            *tail = op;
            tail = &op->next;
            continue;
        }
        if (next == 0 || op->deadline_ms < next)
            next = op->deadline_ms;
        pp = &op->next;
    }
    pthread_mutex_unlock(&s->mu);
    while (ready) {
        i61_sfop *op = ready;
        ready = op->next;
        i61_sconn *c = op->conn;
        if (c) {
            c->outstanding--;
            if (op->result == I61_HOOK_ACCEPT)
                i61_exec(c, op->invoke_id, &op->rq, op->path, op->new_path);
            else
                i61_sf_error(c, op->invoke_id, op->result);
        }
        i61_sfop_free(op);
    }
    /* transfers whose client stopped answering */
    i61_sobtain *ob = f->obtains;
    while (ob) {
        i61_sobtain *nx = ob->next;
        if (ob->deadline_ms <= now_ms) {
            if (ob->result == I61_SF_OK)
                ob->result = I61_MMS_FILE_ERR_OTHER;
            i61_ob_finish(s, ob);
        } else if (next == 0 || ob->deadline_ms < next) {
            next = ob->deadline_ms;
        }
        ob = nx;
    }
    return next;
}

void i61_srv_file_conn_gone(i61_server *s, i61_sconn *c)
{
    if (!s || !s->files)
        return;
    pthread_mutex_lock(&s->mu);
    for (i61_sfop *op = s->files->ops; op; op = op->next)
        if (op->conn == c)
            op->conn = NULL;                     /* a late answer gets CONNECTION_LOST */
    pthread_mutex_unlock(&s->mu);
    struct i61_sconn_files *cf = c->files;
    if (!cf)
        return;
    if (cf->obtain) {
        i61_sobtain *ob = cf->obtain;
        ob->conn = NULL;
        cf->obtain = NULL;
        if (ob->result == I61_SF_OK)
            ob->result = I61_MMS_FILE_ERR_OTHER;
        i61_ob_finish(s, ob);                    /* removes the temporary file */
    }
    for (int i = 0; i < cf->nfrsm; i++)
        i61_frsm_close(s, &cf->frsm[i]);
    free(cf->frsm);
    free(cf->chunk);
    free(cf);
    c->files = NULL;
}
