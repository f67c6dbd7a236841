/* Client file services against a scripted fake file server on loopback
 * (a virtual file store answered with the mms_file codec):
 *  - FileDirectory: golden 108 request, the 109 listing, continueAfter paging
 *    over many pages, hostile paging (repeated page, moreFollows without
 *    entries);
 *  - downloads of 0 / 1 / 100000-octet files in many chunks, the sink's
 *    calls, FileClose on every exit path (missing file, FileRead error, sink
 *    abort) and a connection dropped mid-transfer (clear error, nothing
 *    leaked); the open/read/close primitives;
 *  - FileDelete, FileRename (rejected like libiec61850, golden 117);
 *  - uploads (ObtainFile): the server's FileOpen/FileRead/FileClose answered
 *    by the client byte for byte as goldens 124/126/128, a 200 KB file over
 *    a 512-octet PDU, names the client refuses to serve, the open-file limit,
 *    local paths that escape the base path (nothing sent), and a server that
 *    stays silent (watchdog: timeout, association aborted). */
#include "t.h"
#include "client/client_internal.h"
#include "iso/cotp.h"
#include "iso/iso_conn.h"
#include "mms/mms_file.h"
#include "mms/mms_pdu.h"
#include "net/loop.h"
#include "net/sock.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define GOLD_MTIME 1795245237000LL     /* 2026-11-21 07:13:57 UTC, as in 109 */

static uint8_t *g_pdu(const char *name, size_t *len)
{
    size_t fl;
    uint8_t *f = t_golden(name, &fl);
    size_t p = 4 + 1 + (size_t)f[4] + 4;
    i61_ber_tlv t, c;
    i61_ber_reader r;
    if (i61_ber_parse(f + p, fl - p, &t, NULL) != 0 || t.id != 0x61) goto bad;
    i61_ber_reader_sub(&r, &t);
    if (i61_ber_next(&r, &t) != 0 || t.id != 0x30) goto bad;
    i61_ber_reader_sub(&r, &t);
    if (i61_ber_next(&r, &c) != 0 || c.id != 0x02) goto bad;
    if (i61_ber_next(&r, &c) != 0 || c.id != 0xa0) goto bad;
    uint8_t *out = malloc(c.len);
    memcpy(out, c.val, c.len);
    *len = c.len;
    free(f);
    return out;
bad:
    fprintf(stderr, "%s: no presentation data\n", name);
    exit(2);
}

/* Content of a PDU after its invoke id (to compare requests whose ids differ). */
static int after_id(const uint8_t *pdu, size_t len, const uint8_t **rest, size_t *rl)
{
    i61_ber_tlv t, c;
    i61_ber_reader r;
    if (i61_ber_parse(pdu, len, &t, NULL) != 0)
        return -1;
    i61_ber_reader_sub(&r, &t);
    if (i61_ber_next(&r, &c) != 0)
        return -1;
    *rest = c.val + c.len;
    *rl = (size_t)(t.val + t.len - *rest);
    return 0;
}

static int same_but_id(const uint8_t *p, size_t n, const char *golden)
{
    size_t gl;
    uint8_t *g = g_pdu(golden, &gl);
    const uint8_t *a, *b;
    size_t al, bl;
    int ok = after_id(p, n, &a, &al) == 0 && after_id(g, gl, &b, &bl) == 0 && al == bl &&
             memcmp(a, b, al) == 0;
    free(g);
    return ok;
}

/* ------------------------------------------------------------ fake server */

#define MAX_FILES 64
#define MAX_LOG 4096

typedef struct vfile {
    char name[64];
    uint8_t *data;
    size_t len;
} vfile;

enum { DIR_NORMAL, DIR_REPEAT, DIR_EMPTY_MORE };
enum { OB_NORMAL, OB_SILENT, OB_PROBE, OB_OPEN_MANY };

typedef struct fsrv {
    int lfd, port, fd;
    pthread_t th;
    pthread_mutex_t mu;
    i61_cotp_reasm ra;
    uint8_t *rbuf;
    /* store and behaviour */
    vfile files[MAX_FILES];
    int nfiles;
    size_t page;             /* directory entries per answer, 0 = all */
    int dir_mode;
    size_t chunk;            /* FileRead chunk */
    int drop_at_read;        /* drop the connection instead of answering read n (1-based) */
    int error_at_read;       /* answer read n with file/other */
    int ignore_at_read;      /* never answer read n */
    bool reject_rename;
    int obtain_mode;
    /* observations */
    int open_now, opens, closes, reads, dir_requests;
    uint8_t *req[MAX_LOG];
    size_t req_len[MAX_LOG];
    int nreq;
    uint8_t *answers[16];    /* the client's answers during ObtainFile */
    size_t answer_len[16];
    int nanswers;
    uint8_t *obtained;
    size_t obtained_len;
    char obtained_name[128];
    int probe_open_err, probe_read_err, busy_err;
    size_t pos[MAX_FILES];   /* read position per file since its open */
} fsrv;

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t r = send(fd, p, n, MSG_NOSIGNAL);
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int read_exact(int fd, uint8_t *p, size_t n, int timeout_ms)
{
    while (n) {
        struct pollfd pf = { fd, POLLIN, 0 };
        if (poll(&pf, 1, timeout_ms) <= 0)
            return -1;
        ssize_t r = read(fd, p, n);
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static void fs_send_raw(fsrv *s, const uint8_t *p, size_t n)
{
    pthread_mutex_lock(&s->mu);
    if (s->fd >= 0)
        write_all(s->fd, p, n);
    pthread_mutex_unlock(&s->mu);
}

static void fs_send(fsrv *s, const uint8_t *pdu, size_t len)
{
    i61_buf t, f;
    i61_buf_init(&t);
    i61_buf_init(&f);
    i61_iso_write_data_tsdu(&t, pdu, len);
    i61_cotp_write_data(&f, 8192, t.data, t.len, NULL, 0);
    fs_send_raw(s, f.data, f.len);
    i61_buf_free(&t);
    i61_buf_free(&f);
}

static void fs_send_golden_frame(fsrv *s, const char *name)
{
    size_t n;
    uint8_t *g = t_golden(name, &n);
    fs_send_raw(s, g, n);
    free(g);
}

/* Next MMS PDU from the client (handles connection set-up and release on
 * the way). 1 with *pdu (valid until the next call), 0 at the end. */
static int fs_next(fsrv *s, int fd, const uint8_t **pdu, size_t *len)
{
    for (;;) {
        uint8_t *buf = s->rbuf;
        if (read_exact(fd, buf, 4, 10000) != 0)
            return 0;
        size_t n = (size_t)buf[2] << 8 | buf[3];
        if (n < 4 || read_exact(fd, buf + 4, n - 4, 10000) != 0)
            return 0;
        i61_cotp_tpdu t;
        if (i61_cotp_decode(buf + 4, n - 4, &t) != I61_OK)
            return 0;
        if (t.code == I61_COTP_CR) {
            fs_send_golden_frame(s, "002_cotp_cc");
            continue;
        }
        if (t.code != I61_COTP_DT)
            return 0;
        const uint8_t *tsdu;
        size_t tl;
        int rr = i61_cotp_reasm_push(&s->ra, t.data, t.data_len, t.eot, &tsdu, &tl);
        if (rr < 0)
            return 0;
        if (rr == 0)
            continue;
        i61_iso_ind ind;
        if (i61_iso_decode_tsdu(tsdu, tl, &ind) != I61_OK)
            return 0;
        if (ind.type == I61_ISO_IND_CONNECT) {
            /* answer a client that proposed 512 octets with golden 140 */
            bool small = ind.pdu_len > 20 && memmem(ind.pdu, ind.pdu_len, "\x80\x02\x02\x00", 4);
            fs_send_golden_frame(s, small ? "140_initiate_small_response" : "004_initiate_response");
            continue;
        }
        if (ind.type == I61_ISO_IND_RELEASE_REQUEST) {
            fs_send_golden_frame(s, "137_release_rlre");
            return 0;
        }
        if (ind.type != I61_ISO_IND_DATA || ind.pdu_len < 2)
            return 0;
        if (ind.pdu[0] == 0x8b) {
            fs_send_golden_frame(s, "135_conclude_response");
            continue;
        }
        *pdu = ind.pdu;
        *len = ind.pdu_len;
        return 1;
    }
}

static void fs_log(fsrv *s, const uint8_t *p, size_t n)
{
    pthread_mutex_lock(&s->mu);
    if (s->nreq < MAX_LOG) {
        s->req[s->nreq] = malloc(n);
        memcpy(s->req[s->nreq], p, n);
        s->req_len[s->nreq++] = n;
    }
    pthread_mutex_unlock(&s->mu);
}

static vfile *fs_find(fsrv *s, const char *name)
{
    for (int i = 0; i < s->nfiles; i++)
        if (strcmp(s->files[i].name, name) == 0)
            return &s->files[i];
    return NULL;
}

/* Server -> client request during ObtainFile; returns the client's answer
 * (malloc'ed copy, recorded) or NULL. */
static uint8_t *fs_call(fsrv *s, int fd, const i61_buf *req, size_t *alen)
{
    fs_send(s, req->data, req->len);
    const uint8_t *p;
    size_t n;
    if (fs_next(s, fd, &p, &n) != 1)
        return NULL;
    uint8_t *copy = malloc(n);
    memcpy(copy, p, n);
    *alen = n;
    pthread_mutex_lock(&s->mu);
    if (s->nanswers < 16) {
        s->answers[s->nanswers] = malloc(n);
        memcpy(s->answers[s->nanswers], p, n);
        s->answer_len[s->nanswers++] = n;
    }
    pthread_mutex_unlock(&s->mu);
    return copy;
}

/* Pulls `name` from the client like a server would (golden 123/125/127 with
 * invoke ids 1, 2, 3...). Returns 0 when the file came in whole. */
static int fs_obtain(fsrv *s, int fd, const char *name)
{
    uint32_t id = 1;
    i61_buf b;
    i61_buf_init(&b);
    size_t al;
    uint8_t *a;
    int rc = -1;
    int32_t frsm;
    uint64_t size;
    int64_t mt;
    if (s->obtain_mode == OB_PROBE) {
        /* a name the client never offered, and an FRSM that is not open */
        i61_buf_reset(&b);
        i61_mms_enc_file_open_req(&b, id++, "secret.txt", 0);
        a = fs_call(s, fd, &b, &al);
        s->probe_open_err = a ? i61_mms_dec_file_open_resp(a, al, &frsm, &size, &mt, NULL) : -1;
        free(a);
        i61_buf_reset(&b);
        i61_mms_enc_file_read_req(&b, id++, 77);
        a = fs_call(s, fd, &b, &al);
        const uint8_t *d;
        size_t dl;
        bool more;
        s->probe_read_err = a ? i61_mms_dec_file_read_resp(a, al, &d, &dl, &more, NULL) : -1;
        free(a);
    }
    if (s->obtain_mode == OB_OPEN_MANY) {
        int32_t ids[5];
        for (int k = 0; k < 5; k++) {
            i61_buf_reset(&b);
            i61_mms_enc_file_open_req(&b, id++, name, 0);
            a = fs_call(s, fd, &b, &al);
            int r = a ? i61_mms_dec_file_open_resp(a, al, &ids[k], &size, &mt, NULL) : -1;
            free(a);
            if (k < 4 && r != I61_OK)
                goto out;
            if (k == 4)
                s->busy_err = r;
        }
        for (int k = 0; k < 4; k++) {
            i61_buf_reset(&b);
            i61_mms_enc_file_close_req(&b, id++, ids[k]);
            free(fs_call(s, fd, &b, &al));
        }
    }
    i61_buf_reset(&b);
    i61_mms_enc_file_open_req(&b, id++, name, 0);
    a = fs_call(s, fd, &b, &al);
    int r = a ? i61_mms_dec_file_open_resp(a, al, &frsm, &size, &mt, NULL) : -1;
    free(a);
    if (r != I61_OK)
        goto out;
    free(s->obtained);
    s->obtained = malloc(size + 1);
    s->obtained_len = 0;
    for (;;) {
        i61_buf_reset(&b);
        i61_mms_enc_file_read_req(&b, id++, frsm);
        a = fs_call(s, fd, &b, &al);
        const uint8_t *d;
        size_t dl;
        bool more;
        r = a ? i61_mms_dec_file_read_resp(a, al, &d, &dl, &more, NULL) : -1;
        if (r == I61_OK && s->obtained_len + dl <= size) {
            memcpy(s->obtained + s->obtained_len, d, dl);
            s->obtained_len += dl;
        } else {
            r = -1;
        }
        free(a);
        if (r != I61_OK)
            goto out;
        if (!more)
            break;
    }
    i61_buf_reset(&b);
    i61_mms_enc_file_close_req(&b, id++, frsm);
    a = fs_call(s, fd, &b, &al);
    r = a ? i61_mms_dec_file_null_resp(a, al, I61_MMS_SVC_FILE_CLOSE, NULL) : -1;
    free(a);
    rc = r == I61_OK && s->obtained_len == size ? 0 : -1;
out:
    i61_buf_free(&b);
    return rc;
}

static void fs_answer(fsrv *s, int fd, const uint8_t *pdu, size_t len)
{
    i61_mms_request rq;
    i61_mms_file_req fr;
    i61_buf b;
    i61_buf_init(&b);
    memset(&fr, 0, sizeof fr);
    if (i61_mms_dec_request(pdu, len, &rq) != I61_OK || i61_mms_dec_file_req(&rq, &fr) != I61_OK) {
        i61_mms_enc_reject_pdu(&b, true, rq.invoke_id, 1, 1);
        goto send;
    }
    uint32_t id = rq.invoke_id;
    switch (fr.service) {
    case I61_MMS_SVC_FILE_DIRECTORY: {
        s->dir_requests++;
        size_t start = 0;
        if (fr.has_name2) {
            while (start < (size_t)s->nfiles && strcmp(s->files[start].name, fr.name2) != 0)
                start++;
            start++;
        }
        if (s->dir_mode == DIR_REPEAT)
            start = 0;
        size_t n = (size_t)s->nfiles > start ? (size_t)s->nfiles - start : 0;
        if (s->page && n > s->page)
            n = s->page;
        bool more = start + n < (size_t)s->nfiles;
        i61_mms_file_entry e[MAX_FILES];
        for (size_t i = 0; i < n; i++) {
            e[i].name = s->files[start + i].name;
            e[i].size = s->files[start + i].len;
            e[i].mtime_ms = GOLD_MTIME;
        }
        if (s->dir_mode == DIR_EMPTY_MORE) {
            n = 0;
            more = true;
        }
        if (s->dir_mode == DIR_REPEAT)
            more = true;
        i61_mms_enc_file_directory_resp(&b, id, e, n, more);
        break;
    }
    case I61_MMS_SVC_FILE_OPEN: {
        vfile *v = fs_find(s, fr.name);
        if (!v) {
            i61_mms_enc_file_error(&b, id, I61_MMS_FILE_ERR_FILE_NON_EXISTENT);
            break;
        }
        s->opens++;
        s->open_now++;
        s->pos[v - s->files] = 0;
        i61_mms_enc_file_open_resp(&b, id, (int32_t)(v - s->files) + 100, v->len, GOLD_MTIME);
        break;
    }
    case I61_MMS_SVC_FILE_READ: {
        s->reads++;
        int k = fr.frsm_id - 100;
        if (s->drop_at_read && s->reads == s->drop_at_read) {
            shutdown(fd, SHUT_RDWR);
            break;
        }
        if (s->ignore_at_read && s->reads == s->ignore_at_read)
            break;
        if (k < 0 || k >= s->nfiles || (s->error_at_read && s->reads == s->error_at_read)) {
            i61_mms_enc_file_error(&b, id, I61_MMS_FILE_ERR_OTHER);
            break;
        }
        size_t *pos = s->pos;
        vfile *v = &s->files[k];
        size_t n = v->len - pos[k] < s->chunk ? v->len - pos[k] : s->chunk;
        bool more = pos[k] + n < v->len;
        i61_mms_enc_file_read_resp(&b, id, v->data + pos[k], n, more);
        pos[k] = more ? pos[k] + n : 0;
        break;
    }
    case I61_MMS_SVC_FILE_CLOSE:
        s->closes++;
        s->open_now--;
        i61_mms_enc_file_null_resp(&b, id, I61_MMS_SVC_FILE_CLOSE);
        break;
    case I61_MMS_SVC_FILE_DELETE: {
        vfile *v = fs_find(s, fr.name);
        if (!v)
            i61_mms_enc_file_error(&b, id, I61_MMS_FILE_ERR_FILE_NON_EXISTENT);
        else {
            v->name[0] = '\0';
            i61_mms_enc_file_null_resp(&b, id, I61_MMS_SVC_FILE_DELETE);
        }
        break;
    }
    case I61_MMS_SVC_FILE_RENAME:
        if (s->reject_rename) {
            i61_mms_enc_reject_pdu(&b, true, id, 1, 1);
        } else {
            vfile *v = fs_find(s, fr.name);
            if (!v)
                i61_mms_enc_file_error(&b, id, I61_MMS_FILE_ERR_FILE_NON_EXISTENT);
            else if (fs_find(s, fr.name2))
                i61_mms_enc_file_error(&b, id, I61_MMS_FILE_ERR_DUPLICATE_FILENAME);
            else {
                snprintf(v->name, sizeof v->name, "%s", fr.name2);
                i61_mms_enc_file_null_resp(&b, id, I61_MMS_SVC_FILE_RENAME);
            }
        }
        break;
    case I61_MMS_SVC_OBTAIN_FILE:
        snprintf(s->obtained_name, sizeof s->obtained_name, "%s", fr.name2);
        if (s->obtain_mode == OB_SILENT)
            break;
        if (fs_obtain(s, fd, fr.name) == 0)
            i61_mms_enc_file_null_resp(&b, id, I61_MMS_SVC_OBTAIN_FILE);
        else
            i61_mms_enc_file_error(&b, id, I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
        break;
    default:
        i61_mms_enc_reject_pdu(&b, true, id, 1, 1);
        break;
    }
send:
    if (b.len)
        fs_send(s, b.data, b.len);
    i61_mms_file_req_clear(&fr);
    i61_buf_free(&b);
}

static void *fs_main(void *arg)
{
    fsrv *s = arg;
    struct pollfd pf = { s->lfd, POLLIN, 0 };
    if (poll(&pf, 1, 10000) == 1) {
        int fd = accept(s->lfd, NULL, NULL);
        if (fd >= 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            pthread_mutex_lock(&s->mu);
            s->fd = fd;
            pthread_mutex_unlock(&s->mu);
            const uint8_t *p;
            size_t n;
            while (fs_next(s, fd, &p, &n) == 1) {
                if (p[0] != 0xa0) {             /* the client's answers to our requests */
                    pthread_mutex_lock(&s->mu);
                    if (s->nanswers < 16) {
                        s->answers[s->nanswers] = malloc(n);
                        memcpy(s->answers[s->nanswers], p, n);
                        s->answer_len[s->nanswers++] = n;
                    }
                    pthread_mutex_unlock(&s->mu);
                    continue;
                }
                fs_log(s, p, n);
                uint8_t *copy = malloc(n);
                memcpy(copy, p, n);
                fs_answer(s, fd, copy, n);
                free(copy);
            }
            pthread_mutex_lock(&s->mu);
            s->fd = -1;
            pthread_mutex_unlock(&s->mu);
            close(fd);
        }
    }
    return NULL;
}

static void fs_add(fsrv *s, const char *name, const void *data, size_t len)
{
    vfile *v = &s->files[s->nfiles++];
    snprintf(v->name, sizeof v->name, "%s", name);
    v->data = calloc(1, len ? len : 1);
    if (len && data)
        memcpy(v->data, data, len);
    v->len = len;
}

static void fs_start(fsrv *s)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->chunk = 60000;
    pthread_mutex_init(&s->mu, NULL);
    s->rbuf = malloc(70000);
    i61_cotp_reasm_init(&s->ra, 70000);
    T_EQ_INT(i61_sock_listen("127.0.0.1", 0, 4, &s->lfd, &s->port), 0);
}

static void fs_run(fsrv *s)
{
    pthread_create(&s->th, NULL, fs_main, s);
}

static void fs_stop(fsrv *s)
{
    pthread_mutex_lock(&s->mu);
    if (s->fd >= 0)
        shutdown(s->fd, SHUT_RDWR);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->th, NULL);
    close(s->lfd);
    for (int i = 0; i < s->nfiles; i++)
        free(s->files[i].data);
    for (int i = 0; i < s->nreq; i++)
        free(s->req[i]);
    for (int i = 0; i < s->nanswers; i++)
        free(s->answers[i]);
    free(s->obtained);
    free(s->rbuf);
    i61_cotp_reasm_free(&s->ra);
    pthread_mutex_destroy(&s->mu);
}

static i61_client *connect_client(fsrv *s, uint32_t max_pdu)
{
    i61_client *c = i61_client_new();
    T_CHECK(c != NULL);
    i61_client_set_request_timeout(c, 3000);
    if (max_pdu)
        i61_client_set_max_pdu_size(c, max_pdu);
    T_EQ_INT(i61_client_connect(c, "127.0.0.1", s->port), I61_OK);
    return c;
}

static void finish(fsrv *s, i61_client *c)
{
    i61_client_close(c);
    i61_client_free(c);
    fs_stop(s);
}

/* --------------------------------------------------------------- directory */

static void test_directory(void)
{
    fsrv s;
    fs_start(&s);
    fs_add(&s, "file2.txt", NULL, 25);
    fs_add(&s, "file1.txt", NULL, 30);
    fs_run(&s);
    i61_client *c = connect_client(&s, 0);
    i61_file_list *l = NULL;
    T_EQ_INT(i61_client_get_files(c, "/", &l), I61_OK);
    T_EQ_INT(i61_file_list_count(l), 2);
    T_CHECK(i61_file_list_name(l, 0) && strcmp(i61_file_list_name(l, 0), "file2.txt") == 0);
    T_EQ_INT(i61_file_list_size(l, 0), 25);
    T_EQ_INT(i61_file_list_size(l, 1), 30);
    T_EQ_INT(i61_file_list_mtime_ms(l, 1), GOLD_MTIME);
    T_CHECK(i61_file_list_name(l, 2) == NULL);
    T_EQ_INT(i61_file_list_mtime_ms(l, 2), -1);
    i61_file_list_free(l);
    T_EQ_INT(s.nreq, 1);
    T_CHECK(s.nreq >= 1 && same_but_id(s.req[0], s.req_len[0], "108_filedirectory_request"));
    /* NULL = no fileSpecification */
    T_EQ_INT(i61_client_get_files(c, NULL, &l), I61_OK);
    T_EQ_INT(i61_file_list_count(l), 2);
    i61_file_list_free(l);
    static const uint8_t bare[] = { 0xbf, 0x4d, 0x00 };
    const uint8_t *rest;
    size_t rl;
    T_CHECK(s.nreq >= 2 && after_id(s.req[1], s.req_len[1], &rest, &rl) == 0 && rl == 3 &&
            memcmp(rest, bare, 3) == 0);
    finish(&s, c);
}

static void test_directory_paging(void)
{
    fsrv s;
    fs_start(&s);
    char name[64];
    for (int i = 0; i < 50; i++) {
        snprintf(name, sizeof name, "COMTRADE/rec%03d.cfg", i);
        fs_add(&s, name, NULL, (size_t)i);
    }
    s.page = 7;
    fs_run(&s);
    i61_client *c = connect_client(&s, 0);
    i61_file_list *l = NULL;
    T_EQ_INT(i61_client_get_files(c, NULL, &l), I61_OK);
    T_EQ_INT(i61_file_list_count(l), 50);
    int order_ok = 1;
    for (size_t i = 0; i < i61_file_list_count(l); i++) {
        snprintf(name, sizeof name, "COMTRADE/rec%03zu.cfg", i);
        if (strcmp(i61_file_list_name(l, i), name) != 0 || i61_file_list_size(l, i) != i)
            order_ok = 0;
    }
    T_CHECK(order_ok);
    i61_file_list_free(l);
    T_EQ_INT(s.dir_requests, 8);      /* 7 full pages + 1 */
    /* the 2nd request continues after the 7th name */
    i61_mms_request rq;
    i61_mms_file_req fr;
    T_CHECK(s.nreq >= 2 && i61_mms_dec_request(s.req[1], s.req_len[1], &rq) == I61_OK &&
            i61_mms_dec_file_req(&rq, &fr) == I61_OK && fr.has_name2 &&
            strcmp(fr.name2, "COMTRADE/rec006.cfg") == 0);
    i61_mms_file_req_clear(&fr);

    /* a server that repeats its first page forever */
    s.dir_mode = DIR_REPEAT;
    l = (i61_file_list *)1;
    T_EQ_INT(i61_client_get_files(c, NULL, &l), I61_ERR_MALFORMED_MESSAGE);
    T_CHECK(l == NULL);
    T_CHECK(strstr(i61_client_last_error_text(c), "repeated") != NULL);
    /* moreFollows without entries */
    s.dir_mode = DIR_EMPTY_MORE;
    T_EQ_INT(i61_client_get_files(c, NULL, &l), I61_ERR_MALFORMED_MESSAGE);
    T_CHECK(strstr(i61_client_last_error_text(c), "no entries") != NULL);
    /* the association is still fine */
    s.dir_mode = DIR_NORMAL;
    T_EQ_INT(i61_client_get_files(c, NULL, &l), I61_OK);
    T_EQ_INT(i61_file_list_count(l), 50);
    i61_file_list_free(l);
    finish(&s, c);
}

/* ---------------------------------------------------------------- download */

typedef struct sinkbuf {
    uint8_t *data;
    size_t len, cap;
    int calls, announce;
    uint64_t total;
    size_t stop_after;   /* return I61_ERR_UNKNOWN once len >= stop_after (0 = never) */
} sinkbuf;

static int sink(void *ud, const uint8_t *data, size_t len, uint64_t total)
{
    sinkbuf *s = ud;
    s->calls++;
    s->total = total;
    if (!data) {
        s->announce++;
        return len == 0 ? 0 : I61_ERR_UNKNOWN;
    }
    if (s->len + len > s->cap) {
        s->cap = (s->len + len) * 2;
        s->data = realloc(s->data, s->cap);
    }
    memcpy(s->data + s->len, data, len);
    s->len += len;
    return s->stop_after && s->len >= s->stop_after ? I61_ERR_UNKNOWN : 0;
}

static uint8_t *pattern(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 131 + (i >> 8));
    return p;
}

static void test_download(void)
{
    fsrv s;
    fs_start(&s);
    uint8_t *big = pattern(100000);
    fs_add(&s, "empty.bin", "", 0);
    fs_add(&s, "one.bin", "Z", 1);
    fs_add(&s, "big.bin", big, 100000);
    s.chunk = 999;
    fs_run(&s);
    i61_client *c = connect_client(&s, 0);

    static const struct { const char *name; size_t len; } cases[] = {
        { "empty.bin", 0 }, { "one.bin", 1 }, { "big.bin", 100000 } };
    for (size_t k = 0; k < 3; k++) {
        sinkbuf sb;
        memset(&sb, 0, sizeof sb);
        uint64_t size = 7, got = 7;
        int64_t mt = 0;
        int reads0 = s.reads;
        T_EQ_INT(i61_client_download(c, cases[k].name, sink, &sb, &size, &mt, &got), I61_OK);
        T_EQ_INT(size, cases[k].len);
        T_EQ_INT(got, cases[k].len);
        T_EQ_INT(mt, GOLD_MTIME);
        T_EQ_INT(sb.len, cases[k].len);
        T_EQ_INT(sb.announce, 1);
        T_EQ_INT(sb.total, cases[k].len);
        T_EQ_INT(sb.calls, 1 + (int)((cases[k].len + 998) / 999));
        T_EQ_INT(s.reads - reads0, cases[k].len ? (int)((cases[k].len + 998) / 999) : 1);
        if (k == 2)
            T_CHECK(sb.len == 100000 && memcmp(sb.data, big, 100000) == 0);
        if (k == 1)
            T_CHECK(sb.len == 1 && sb.data[0] == 'Z');
        free(sb.data);
        T_EQ_INT(s.open_now, 0);
    }
    T_EQ_INT(s.closes, 3);

    /* missing file: no FileClose (nothing was opened), the name in the text */
    sinkbuf sb;
    memset(&sb, 0, sizeof sb);
    T_EQ_INT(i61_client_download(c, "missing.bin", sink, &sb, NULL, NULL, NULL),
             I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_CHECK(strstr(i61_client_last_error_text(c), "missing.bin") != NULL);
    T_CHECK(strstr(i61_client_last_error_text(c), "file-non-existent") != NULL);
    T_EQ_INT(sb.calls, 0);
    T_EQ_INT(s.closes, 3);

    /* FileRead error on the 3rd chunk: error, file closed */
    s.reads = 0;
    s.error_at_read = 3;
    uint64_t got = 0;
    T_EQ_INT(i61_client_download(c, "big.bin", sink, &sb, NULL, NULL, &got), I61_ERR_UNKNOWN);
    T_EQ_INT(got, 2 * 999);
    T_CHECK(strstr(i61_client_last_error_text(c), "big.bin") != NULL);
    T_EQ_INT(s.closes, 4);
    T_EQ_INT(s.open_now, 0);
    s.error_at_read = 0;
    free(sb.data);

    /* the sink stops the transfer: its code comes back, file closed */
    memset(&sb, 0, sizeof sb);
    sb.stop_after = 2000;
    s.reads = 0;
    T_EQ_INT(i61_client_download(c, "big.bin", sink, &sb, NULL, NULL, &got), I61_ERR_UNKNOWN);
    T_EQ_INT(got, 2997);
    T_EQ_INT(s.closes, 5);
    T_EQ_INT(s.open_now, 0);
    T_CHECK(strstr(i61_client_last_error_text(c), "stopped by the sink") != NULL);
    free(sb.data);

    /* a FileRead that is never answered: timeout, and the file is still closed */
    memset(&sb, 0, sizeof sb);
    s.reads = 0;
    s.ignore_at_read = 2;
    i61_client_set_request_timeout(c, 300);
    T_EQ_INT(i61_client_download(c, "big.bin", sink, &sb, NULL, NULL, &got), I61_ERR_TIMEOUT);
    T_EQ_INT(got, 999);
    T_EQ_INT(s.closes, 6);
    T_EQ_INT(s.open_now, 0);
    T_EQ_INT(i61_client_state(c), I61_STATE_CONNECTED);
    i61_client_set_request_timeout(c, 3000);
    s.ignore_at_read = 0;
    free(sb.data);

    /* bad arguments: nothing sent */
    int n0 = s.nreq;
    T_EQ_INT(i61_client_download(c, "", sink, &sb, NULL, NULL, NULL), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_client_download(c, "a\nb", sink, &sb, NULL, NULL, NULL), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_client_download(c, "x", NULL, NULL, NULL, NULL, NULL), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(s.nreq, n0);

    /* the primitives */
    int32_t frsm = -1;
    uint64_t size = 0;
    s.reads = 0;
    T_EQ_INT(i61_client_file_open(c, "big.bin", 0, &frsm, &size, NULL), I61_OK);
    T_EQ_INT(size, 100000);
    T_EQ_INT(frsm, 102);
    T_CHECK(i61_client_file_chunk_max(c) >= 65000);
    uint8_t buf[1000];
    size_t n = 0;
    int more = 0;
    T_EQ_INT(i61_client_file_read(c, frsm, buf, sizeof buf, &n, &more), I61_OK);
    T_EQ_INT(n, 999);
    T_EQ_INT(more, 1);
    T_CHECK(memcmp(buf, big, 999) == 0);
    T_EQ_INT(i61_client_file_read(c, frsm, buf, 10, &n, &more), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_client_file_close(c, frsm), I61_OK);
    T_EQ_INT(s.open_now, 0);
    T_EQ_INT(i61_client_file_open(c, "nope", 0, &frsm, NULL, NULL), I61_ERR_OBJECT_DOES_NOT_EXIST);
    free(big);
    finish(&s, c);
}

/* The server drops the connection in the middle of a download. */
static void test_download_interrupted(void)
{
    fsrv s;
    fs_start(&s);
    uint8_t *big = pattern(50000);
    fs_add(&s, "rec.dat", big, 50000);
    s.chunk = 1000;
    s.drop_at_read = 5;
    fs_run(&s);
    i61_client *c = connect_client(&s, 0);
    sinkbuf sb;
    memset(&sb, 0, sizeof sb);
    uint64_t got = 0;
    int rc = i61_client_download(c, "rec.dat", sink, &sb, NULL, NULL, &got);
    T_EQ_INT(rc, I61_ERR_CONNECTION_LOST);
    T_EQ_INT(got, 4000);
    T_CHECK(strstr(i61_client_last_error_text(c), "rec.dat") != NULL);
    T_CHECK(strstr(i61_client_last_error_text(c), "4000 octets") != NULL);
    T_EQ_INT(i61_client_state(c), I61_STATE_CLOSED);
    T_EQ_INT(s.closes, 0);             /* nobody to close it with */
    /* later calls fail cleanly */
    T_EQ_INT(i61_client_download(c, "rec.dat", sink, &sb, NULL, NULL, NULL), I61_ERR_NOT_CONNECTED);
    free(sb.data);
    free(big);
    finish(&s, c);
}

/* ----------------------------------------------------------- delete, rename */

static void test_delete_rename(void)
{
    fsrv s;
    fs_start(&s);
    fs_add(&s, "file1.txt", "a", 1);
    fs_add(&s, "file2.txt", "b", 1);
    fs_run(&s);
    i61_client *c = connect_client(&s, 0);
    T_EQ_INT(i61_client_delete_file(c, "file2.txt"), I61_OK);
    T_CHECK(s.nreq >= 1 && same_but_id(s.req[0], s.req_len[0], "118_filedelete_request"));
    T_EQ_INT(i61_client_delete_file(c, "nosuchfile.txt"), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_CHECK(s.nreq >= 2 && same_but_id(s.req[1], s.req_len[1], "120_filedelete_fail_request"));
    T_CHECK(strstr(i61_client_last_error_text(c), "nosuchfile.txt") != NULL);
    T_EQ_INT(i61_client_rename_file(c, "file1.txt", "file1b.txt"), I61_OK);
    T_CHECK(s.nreq >= 3 && same_but_id(s.req[2], s.req_len[2], "116_filerename_request"));
    T_CHECK(strcmp(s.files[0].name, "file1b.txt") == 0);
    T_EQ_INT(i61_client_rename_file(c, "file1b.txt", "file1b.txt"), I61_ERR_OBJECT_EXISTS);
    s.reject_rename = true;
    T_EQ_INT(i61_client_rename_file(c, "file1b.txt", "x"), I61_ERR_SERVICE_NOT_SUPPORTED);
    T_CHECK(strstr(i61_client_last_error_text(c), "unrecognized-service") != NULL);
    T_EQ_INT(i61_client_delete_file(c, ""), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_client_rename_file(c, "a", NULL), I61_ERR_INVALID_ARGUMENT);
    finish(&s, c);
}

/* ------------------------------------------------------------------ upload */

static char tmpdir[256];

static void write_file(const char *rel, const void *data, size_t n)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
    FILE *f = fopen(p, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
}

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/i61_cfile_XXXXXX");
    T_CHECK(mkdtemp(tmpdir) != NULL);
    char p[512];
    snprintf(p, sizeof p, "%s/store", tmpdir);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/store/sub", tmpdir);
    mkdir(p, 0700);
}

static void rm_tmpdir(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    T_EQ_INT(system(cmd), 0);
}

static void test_upload_golden(void)
{
    make_tmpdir();
    write_file("store/upload.txt", "uploaded via ObtainFile\n", 24);
    char p[512];
    snprintf(p, sizeof p, "%s/store/upload.txt", tmpdir);
    struct timespec ts[2] = { { GOLD_MTIME / 1000, 0 }, { GOLD_MTIME / 1000, 0 } };
    T_EQ_INT(utimensat(AT_FDCWD, p, ts, 0), 0);
    fsrv s;
    fs_start(&s);
    fs_run(&s);
    i61_client *c = connect_client(&s, 0);
    snprintf(p, sizeof p, "%s/store", tmpdir);
    T_EQ_INT(i61_client_set_filestore_basepath(c, p), I61_OK);
    uint64_t d, t;
    T_EQ_INT(i61_client_upload_progress(c, &d, &t), 0);
    T_EQ_INT(i61_client_upload_file(c, "upload.txt", "upload.txt"), I61_OK);
    T_CHECK(s.nreq >= 1 && same_but_id(s.req[0], s.req_len[0], "122_obtainfile_request"));
    T_EQ_INT(s.obtained_len, 24);
    T_CHECK(s.obtained && memcmp(s.obtained, "uploaded via ObtainFile\n", 24) == 0);
    T_CHECK(strcmp(s.obtained_name, "upload.txt") == 0);
    /* the client's answers are the captured ones, byte for byte */
    T_EQ_INT(s.nanswers, 3);
    static const char *const gold[] = { "124_obtainfile_cli_fileopen_response",
                                        "126_obtainfile_cli_fileread_response",
                                        "128_obtainfile_cli_fileclose_response" };
    for (int i = 0; i < 3 && i < s.nanswers; i++) {
        size_t gl;
        uint8_t *g = g_pdu(gold[i], &gl);
        T_EQ_MEM(s.answers[i], s.answer_len[i], g, gl);
        free(g);
    }
    T_EQ_INT(i61_client_upload_progress(c, &d, &t), 0);
    /* an absolute path inside the base path is sent relative to it */
    snprintf(p, sizeof p, "%s/store/sub/x.cfg", tmpdir);
    write_file("store/sub/x.cfg", "cfg", 3);
    T_EQ_INT(i61_client_upload_file(c, p, "remote/x.cfg"), I61_OK);
    i61_mms_request rq;
    i61_mms_file_req fr;
    T_CHECK(s.nreq >= 2 && i61_mms_dec_request(s.req[1], s.req_len[1], &rq) == I61_OK &&
            i61_mms_dec_file_req(&rq, &fr) == I61_OK && strcmp(fr.name, "sub/x.cfg") == 0 &&
            strcmp(fr.name2, "remote/x.cfg") == 0);
    i61_mms_file_req_clear(&fr);
    T_EQ_INT(s.obtained_len, 3);
    finish(&s, c);
    rm_tmpdir();
}

/* 200 KB over a 512-octet PDU: many FileReads, chunks sized to the PDU. */
static void test_upload_big_small_pdu(void)
{
    make_tmpdir();
    uint8_t *data = pattern(200000);
    write_file("store/big.bin", data, 200000);
    fsrv s;
    fs_start(&s);
    fs_run(&s);
    i61_client *c = connect_client(&s, 512);
    T_EQ_INT(i61_client_max_pdu_size(c), 512);
    char p[512];
    snprintf(p, sizeof p, "%s/store", tmpdir);
    T_EQ_INT(i61_client_set_filestore_basepath(c, p), I61_OK);
    T_EQ_INT(i61_client_upload_file(c, "big.bin", "big.bin"), I61_OK);
    T_EQ_INT(s.obtained_len, 200000);
    T_CHECK(s.obtained && memcmp(s.obtained, data, 200000) == 0);
    size_t max_answer = 0;
    for (int i = 0; i < s.nanswers; i++)
        if (s.answer_len[i] > max_answer)
            max_answer = s.answer_len[i];
    T_CHECK(max_answer <= 512 && max_answer > 400);
    free(data);
    finish(&s, c);
    rm_tmpdir();
}

/* What the client refuses to serve, and the open-file limit. */
static void test_upload_served_names(void)
{
    make_tmpdir();
    write_file("store/a.txt", "hello", 5);
    write_file("store/secret.txt", "no", 2);
    char p[512];
    snprintf(p, sizeof p, "%s/store", tmpdir);
    fsrv s;
    fs_start(&s);
    s.obtain_mode = OB_PROBE;
    fs_run(&s);
    i61_client *c = connect_client(&s, 0);
    T_EQ_INT(i61_client_set_filestore_basepath(c, p), I61_OK);
    T_EQ_INT(i61_client_upload_file(c, "a.txt", "a.txt"), I61_OK);
    T_EQ_INT(s.probe_open_err, I61_ERR_ACCESS_DENIED);      /* not the file being uploaded */
    T_EQ_INT(s.probe_read_err, I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(s.obtained_len, 5);
    s.obtain_mode = OB_OPEN_MANY;
    T_EQ_INT(i61_client_upload_file(c, "a.txt", "a.txt"), I61_OK);
    T_EQ_INT(s.busy_err, I61_ERR_TEMPORARILY_UNAVAILABLE);  /* 5th open: file-busy */
    T_EQ_INT(s.obtained_len, 5);
    finish(&s, c);
    rm_tmpdir();
}

static void test_upload_path_escapes(void)
{
    make_tmpdir();
    write_file("outside.txt", "secret", 6);
    write_file("store/ok.txt", "ok", 2);
    char p[512], q[512];
    snprintf(p, sizeof p, "%s/outside.txt", tmpdir);
    snprintf(q, sizeof q, "%s/store/link.txt", tmpdir);
    T_EQ_INT(symlink(p, q), 0);
    snprintf(q, sizeof q, "%s/store/linkdir", tmpdir);
    T_EQ_INT(symlink(tmpdir, q), 0);
    fsrv s;
    fs_start(&s);
    fs_run(&s);
    i61_client *c = connect_client(&s, 0);
    snprintf(q, sizeof q, "%s/store", tmpdir);
    T_EQ_INT(i61_client_set_filestore_basepath(c, q), I61_OK);
    static const struct { const char *local; int rc; } cases[] = {
        { "../outside.txt", I61_ERR_ACCESS_DENIED },
        { "sub/../../outside.txt", I61_ERR_ACCESS_DENIED },
        { "sub/../ok.txt", I61_ERR_ACCESS_DENIED },           /* no ".." at all */
        { "/etc/passwd", I61_ERR_ACCESS_DENIED },
        { "link.txt", I61_ERR_ACCESS_DENIED },                /* symlink out */
        { "linkdir/outside.txt", I61_ERR_ACCESS_DENIED },
        { "ok\n.txt", I61_ERR_ACCESS_DENIED },
        { "ok.txt\x01", I61_ERR_ACCESS_DENIED },
        { "sub", I61_ERR_ACCESS_DENIED },                     /* a directory */
        { ".", I61_ERR_ACCESS_DENIED },                       /* the base itself */
        { "missing.txt", I61_ERR_OBJECT_DOES_NOT_EXIST },
        { "", I61_ERR_INVALID_ARGUMENT },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = i61_client_upload_file(c, cases[i].local, "dest.txt");
        if (rc != cases[i].rc)
            fprintf(stderr, "case '%s': %d (%s)\n", cases[i].local, rc,
                    i61_client_last_error_text(c));
        T_EQ_INT(rc, cases[i].rc);
    }
    snprintf(p, sizeof p, "%s/outside.txt", tmpdir);
    T_EQ_INT(i61_client_upload_file(c, p, "dest.txt"), I61_ERR_ACCESS_DENIED);
    T_CHECK(strstr(i61_client_last_error_text(c), "outside the filestore") != NULL);
    T_EQ_INT(s.nreq, 0);                                     /* nothing was sent */
    /* remote name checks */
    T_EQ_INT(i61_client_upload_file(c, "ok.txt", ""), I61_ERR_INVALID_ARGUMENT);
    /* a bad base path */
    T_EQ_INT(i61_client_set_filestore_basepath(c, "/nonexistent/dir"), I61_ERR_INVALID_ARGUMENT);
    snprintf(p, sizeof p, "%s/store/ok.txt", tmpdir);
    T_EQ_INT(i61_client_set_filestore_basepath(c, p), I61_ERR_INVALID_ARGUMENT);
    /* the legit one still works (base path unchanged by the failures) */
    T_EQ_INT(i61_client_upload_file(c, "ok.txt", "ok.txt"), I61_OK);
    T_EQ_INT(s.obtained_len, 2);
    /* default base = working directory */
    T_EQ_INT(i61_client_set_filestore_basepath(c, NULL), I61_OK);
    char cwd[512];
    T_CHECK(getcwd(cwd, sizeof cwd) != NULL);
    snprintf(p, sizeof p, "%s/store", tmpdir);
    T_EQ_INT(chdir(p), 0);
    T_EQ_INT(i61_client_upload_file(c, "ok.txt", "ok2.txt"), I61_OK);
    T_EQ_INT(i61_client_upload_file(c, "../outside.txt", "x"), I61_ERR_ACCESS_DENIED);
    T_EQ_INT(chdir(cwd), 0);
    finish(&s, c);
    rm_tmpdir();
}

/* The server never answers the ObtainFile and never reads: the watchdog
 * ends the upload after the request timeout. */
static void test_upload_silent_server(void)
{
    make_tmpdir();
    write_file("store/a.txt", "hello", 5);
    char p[512];
    snprintf(p, sizeof p, "%s/store", tmpdir);
    fsrv s;
    fs_start(&s);
    s.obtain_mode = OB_SILENT;
    fs_run(&s);
    i61_client *c = connect_client(&s, 0);
    i61_client_set_request_timeout(c, 300);
    T_EQ_INT(i61_client_set_filestore_basepath(c, p), I61_OK);
    uint64_t t0 = i61_mono_ms();
    T_EQ_INT(i61_client_upload_file(c, "a.txt", "a.txt"), I61_ERR_TIMEOUT);
    uint64_t dt = i61_mono_ms() - t0;
    T_CHECK(dt >= 300 && dt < 2000);
    T_CHECK(strstr(i61_client_last_error_text(c), "silent") != NULL);
    T_EQ_INT(i61_client_state(c), I61_STATE_CLOSED);
    finish(&s, c);
    rm_tmpdir();
}

/* A peer request that is not a file service is still rejected. */
static void test_other_peer_requests(void)
{
    fsrv s;
    fs_start(&s);
    fs_run(&s);
    i61_client *c = connect_client(&s, 0);
    /* a server-initiated Identify, a FileOpen and a FileRead without any
     * upload running, and a broken request */
    i61_buf b;
    i61_buf_init(&b);
    i61_mms_enc_identify_req(&b, 9);
    fs_send(&s, b.data, b.len);
    i61_buf_reset(&b);
    i61_mms_enc_file_open_req(&b, 10, "any.txt", 0);
    fs_send(&s, b.data, b.len);
    i61_buf_reset(&b);
    i61_mms_enc_file_read_req(&b, 11, 0);
    fs_send(&s, b.data, b.len);
    static const uint8_t broken[] = { 0xa0, 0x05, 0x02, 0x01, 0x0c, 0xbf, 0x48 };
    fs_send(&s, broken, sizeof broken);
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&s.mu);
        int n = s.nanswers;
        pthread_mutex_unlock(&s.mu);
        if (n >= 4)
            break;
        usleep(10000);
    }
    pthread_mutex_lock(&s.mu);
    T_EQ_INT(s.nanswers, 4);
    if (s.nanswers >= 4) {
        i61_mms_error e;
        uint32_t id;
        int kind;
        T_EQ_INT(i61_mms_dec_file_null_resp(s.answers[0], s.answer_len[0], I61_MMS_SVC_FILE_CLOSE, &e),
                 I61_ERR_SERVICE_NOT_SUPPORTED);
        T_CHECK(i61_mms_pdu_invoke_id(s.answers[0], s.answer_len[0], &id, &kind) == I61_OK &&
                id == 9 && kind == I61_MMS_KIND_REJECT);
        T_EQ_INT(i61_mms_dec_file_open_resp(s.answers[1], s.answer_len[1], NULL, NULL, NULL, &e),
                 I61_ERR_ACCESS_DENIED);
        T_CHECK(e.cls == I61_MMS_ERRCLASS_FILE && e.code == I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
        T_CHECK(i61_mms_pdu_invoke_id(s.answers[1], s.answer_len[1], &id, &kind) == I61_OK &&
                id == 10 && kind == I61_MMS_KIND_ERROR);
        T_EQ_INT(i61_mms_dec_file_read_resp(s.answers[2], s.answer_len[2], NULL, NULL, NULL, &e),
                 I61_ERR_OBJECT_DOES_NOT_EXIST);
        T_CHECK(i61_mms_pdu_invoke_id(s.answers[3], s.answer_len[3], &id, &kind) == I61_OK &&
                kind == I61_MMS_KIND_REJECT);
    }
    pthread_mutex_unlock(&s.mu);
    /* the association is still fine */
    i61_file_list *l = NULL;
    T_EQ_INT(i61_client_get_files(c, NULL, &l), I61_OK);
    i61_file_list_free(l);
    i61_buf_free(&b);
    finish(&s, c);
}

/* The fd sink writes every chunk whole and reports a failing descriptor. */
static void test_fd_sink(void)
{
    int p[2];
    T_CHECK(pipe(p) == 0);
    uint8_t data[1000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7);
    T_EQ_INT(i61_file_sink_fd((void *)(intptr_t)p[1], NULL, 0, 1000), I61_OK);
    T_EQ_INT(i61_file_sink_fd((void *)(intptr_t)p[1], data, sizeof data, 1000), I61_OK);
    close(p[1]);
    uint8_t back[1200];
    size_t got = 0;
    ssize_t k;
    while ((k = read(p[0], back + got, sizeof back - got)) > 0)
        got += (size_t)k;
    close(p[0]);
    T_EQ_MEM(back, got, data, sizeof data);
    T_EQ_INT(i61_file_sink_fd((void *)(intptr_t)-1, data, 10, 10), I61_ERR_HARDWARE_FAULT);
}

T_MAIN(T_CASE(test_fd_sink), T_CASE(test_directory), T_CASE(test_directory_paging), T_CASE(test_download),
       T_CASE(test_download_interrupted), T_CASE(test_delete_rename),
       T_CASE(test_upload_golden), T_CASE(test_upload_big_small_pdu),
       T_CASE(test_upload_served_names), T_CASE(test_upload_path_escapes),
       T_CASE(test_upload_silent_server), T_CASE(test_other_peer_requests))
