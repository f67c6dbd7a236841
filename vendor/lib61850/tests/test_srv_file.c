/* Server file store, driven through the connection engine (no sockets): the
 * golden file exchanges (108-121) and the ObtainFile exchange (122-129, the
 * server side) replayed byte for byte, recursive directory listings and
 * continueAfter paging at a small PDU size, FileRead chunking, the sandbox
 * (.., absolute names, symbolic links out of the root, NUL and control
 * characters, over-long names, FIFOs and directories), the open-file limit,
 * clean-up when the association goes away (no descriptor left, no temporary
 * file left), the C and the queued file hooks (allow, deny, timeout, late
 * answers), ObtainFile failures, and the services advertised at Initiate. */
#include <dirent.h>
#include <pthread.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "t.h"
#include "test_server_fixture.h"
#include "server/server_internal.h"
#include "server/srv_file.h"
#include "mms/mms_file.h"
#include "mms/mms_pdu.h"
#include "net/loop.h"

#define GOLD_MTIME 1795245237                /* 2026-11-21 07:13:57 UTC (goldens 109/111) */

/* ------------------------------------------------------------ the store */

static char g_tmp[256];                      /* the test's scratch directory */
static char g_root[300];                     /* the file store (g_tmp/store) */
static char g_out[300];                      /* outside the store (g_tmp/outside) */

static void put_file(const char *rel, const void *data, size_t len, long mtime)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", g_root, rel);
    FILE *f = fopen(p, "wb");
    T_CHECK(f != NULL);
    if (!f)
        return;
    if (len)
        T_EQ_INT(fwrite(data, 1, len, f), len);
    fclose(f);
    if (mtime) {
        struct timespec ts[2] = {{mtime, 0}, {mtime, 0}};
        T_EQ_INT(utimensat(AT_FDCWD, p, ts, 0), 0);
    }
}

static void mk_dir(const char *rel)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", g_root, rel);
    T_EQ_INT(mkdir(p, 0755), 0);
}

static bool exists(const char *rel)
{
    char p[600];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", g_root, rel);
    return lstat(p, &st) == 0;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *b = malloc(1 << 20);
    *len = b ? fread(b, 1, 1 << 20, f) : 0;
    fclose(f);
    return b;
}

static void rm_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char p[1200];
            snprintf(p, sizeof p, "%s/%s", path, e->d_name);
            struct stat st;
            if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
                rm_tree(p);
            else
                unlink(p);
        }
        closedir(d);
    }
    rmdir(path);
}

/* A fresh scratch directory: store/ (empty) and outside/secret.txt. */
static void store_new(void)
{
    snprintf(g_tmp, sizeof g_tmp, "/tmp/i61_srv_file_XXXXXX");
    T_CHECK(mkdtemp(g_tmp) != NULL);
    snprintf(g_root, sizeof g_root, "%s/store", g_tmp);
    snprintf(g_out, sizeof g_out, "%s/outside", g_tmp);
    T_EQ_INT(mkdir(g_root, 0755), 0);
    T_EQ_INT(mkdir(g_out, 0755), 0);
    char p[600];
    snprintf(p, sizeof p, "%s/secret.txt", g_out);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs("top secret\n", f);
        fclose(f);
    }
}

static void store_done(void)
{
    rm_tree(g_tmp);
}

/* Entries of a directory whose name starts with prefix. */
static int count_prefixed(const char *dir, const char *prefix)
{
    int n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (!strncmp(e->d_name, prefix, strlen(prefix)))
            n++;
    closedir(d);
    return n;
}

static int count_fds(void)
{
    return count_prefixed("/proc/self/fd", "");
}

/* ------------------------------------------------------------- plumbing */

static void feed(i61_sconn *c, const char *golden)
{
    size_t len;
    uint8_t *f = t_golden(golden, &len);
    T_EQ_INT(i61_sconn_feed(c, f, len), 0);
    free(f);
}

/* c->out holds exactly the golden frame; consumes it. */
static void expect_frame(i61_sconn *c, const char *golden)
{
    size_t len;
    uint8_t *f = t_golden(golden, &len);
    T_EQ_MEM(c->out.data, c->out.len, f, len);
    if (c->out.len != len || memcmp(c->out.data, f, len) != 0)
        fprintf(stderr, "  (%s)\n", golden);
    free(f);
    i61_sconn_consume_out(c, c->out.len);
}

static void exchange(i61_sconn *c, const char *req, const char *resp)
{
    feed(c, req);
    expect_frame(c, resp);
}

static i61_server *server_new(bool with_store)
{
    i61_server *s = i61_server_new(fx_golden_model());
    T_CHECK(s != NULL);
    if (with_store)
        T_EQ_INT(i61_server_set_filestore(s, g_root), 0);
    return s;
}

/* Associates with golden 003 (65000 octets) or 139 (512 octets). */
static void open_conn(i61_sconn *c, i61_server *s, uint32_t id, bool small)
{
    i61_sconn_init(c, s, id, false);
    snprintf(c->peer, sizeof c->peer, "10.0.0.5:%u", 40000 + id);
    feed(c, "001_cotp_cr");
    i61_sconn_consume_out(c, c->out.len);
    feed(c, small ? "139_initiate_small_request" : "003_initiate_request");
    i61_sconn_consume_out(c, c->out.len);
    T_EQ_INT(c->state, I61_SC_ASSOCIATED);
    T_EQ_INT(c->max_pdu, small ? 512 : 65000);
}

static void close_conn(i61_server *s, i61_sconn *c)
{
    i61_srv_conn_gone(s, c);
    i61_sconn_free(c);
}

/* Sends one MMS PDU (b) to the server, empties b. */
static void send_pdu(i61_sconn *c, i61_buf *b)
{
    T_CHECK(!b->oom);
    i61_srv_mms_pdu(c, b->data, b->len);
    i61_buf_reset(b);
}

/* The MMS PDUs the server sent (copied into pdus[], each malloc'ed); consumes. */
#define MAX_PDUS 8
typedef struct sent {
    int n;
    uint8_t *p[MAX_PDUS];
    size_t len[MAX_PDUS];
} sent;

static void take(i61_sconn *c, sent *o)
{
    memset(o, 0, sizeof *o);
    size_t off = 0;
    /* TSDU reassembly over COTP DTs (a FileRead answer spans several) */
    uint8_t *tsdu = malloc(7 + 70000);
    size_t tl = 7;
    while (tsdu && off + 7 <= c->out.len && o->n < MAX_PDUS) {
        size_t fl = (size_t)c->out.data[off + 2] << 8 | c->out.data[off + 3];
        if (fl < 7 || off + fl > c->out.len || c->out.data[off + 5] != 0xf0)
            break;
        T_CHECK(tl + fl - 7 <= 7 + 70000);
        if (tl + fl - 7 > 7 + 70000)
            break;
        memcpy(tsdu + tl, c->out.data + off + 7, fl - 7);
        tl += fl - 7;
        off += fl;
        if (!(c->out.data[off - fl + 6] & 0x80))
            continue;                              /* EOT clear: more DTs follow */
        size_t ml = 0;
        const uint8_t *p = fx_mms_pdu(tsdu, tl, &ml);
        T_CHECK(p != NULL);
        if (p) {
            o->p[o->n] = malloc(ml ? ml : 1);
            memcpy(o->p[o->n], p, ml);
            o->len[o->n] = ml;
            o->n++;
        }
        tl = 7;
    }
    free(tsdu);
    T_EQ_INT(off, c->out.len);
    i61_sconn_consume_out(c, c->out.len);
}

static void sent_free(sent *o)
{
    for (int i = 0; i < o->n; i++)
        free(o->p[i]);
    o->n = 0;
}

/* Exactly one PDU came back: the confirmed-ErrorPDU class/code (-1/-1 for
 * anything else), or a reject (class 100 + reason). */
static void one_error(i61_sconn *c, int *cls, int *code)
{
    sent o;
    take(c, &o);
    *cls = *code = -1;
    T_EQ_INT(o.n, 1);
    if (o.n == 1) {
        i61_mms_error e;
        memset(&e, 0, sizeof e);
        int32_t frsm;
        uint64_t size;
        int64_t mt;
        i61_mms_dec_file_open_resp(o.p[0], o.len[0], &frsm, &size, &mt, &e);
        if (e.kind == I61_MMS_KIND_ERROR) {
            *cls = e.cls;
            *code = e.code;
        } else if (e.kind == I61_MMS_KIND_REJECT) {
            *cls = 100 + e.cls;
            *code = e.code;
        }
    }
    sent_free(&o);
}

static void expect_file_error(i61_sconn *c, int code)
{
    int cls, cd;
    one_error(c, &cls, &cd);
    T_EQ_INT(cls, I61_MMS_ERRCLASS_FILE);
    T_EQ_INT(cd, code);
}

/* One NULL response of `service`. */
static void expect_null(i61_sconn *c, int service)
{
    sent o;
    take(c, &o);
    T_EQ_INT(o.n, 1);
    if (o.n == 1)
        T_EQ_INT(i61_mms_dec_file_null_resp(o.p[0], o.len[0], service, NULL), 0);
    sent_free(&o);
}

static int32_t do_open(i61_sconn *c, const char *name, uint32_t pos, uint64_t *size, int *err)
{
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_enc_file_open_req(&b, 7, name, pos), 0);
    send_pdu(c, &b);
    i61_buf_free(&b);
    sent o;
    take(c, &o);
    int32_t frsm = -1;
    *err = -1;
    T_EQ_INT(o.n, 1);
    if (o.n == 1) {
        i61_mms_error e;
        memset(&e, 0, sizeof e);
        int64_t mt;
        if (i61_mms_dec_file_open_resp(o.p[0], o.len[0], &frsm, size, &mt, &e) != 0) {
            frsm = -1;
            *err = e.kind == I61_MMS_KIND_ERROR && e.cls == I61_MMS_ERRCLASS_FILE ? e.code : 99;
        }
    }
    sent_free(&o);
    return frsm;
}

/* Opens, reads to the end (checking every chunk fits max_pdu), closes.
 * Returns the octets (malloc'ed) or NULL with *err. */
static uint8_t *download(i61_sconn *c, const char *name, uint32_t pos, size_t *len, int *err,
                         int *chunks)
{
    uint64_t size = 0;
    int32_t frsm = do_open(c, name, pos, &size, err);
    *len = 0;
    if (frsm < 0)
        return NULL;
    uint8_t *all = malloc(size + 1);
    size_t have = 0;
    bool more = true;
    int n = 0;
    i61_buf b;
    i61_buf_init(&b);
    while (more && n < 100000) {
        T_EQ_INT(i61_mms_enc_file_read_req(&b, 8, frsm), 0);
        send_pdu(c, &b);
        sent o;
        take(c, &o);
        T_EQ_INT(o.n, 1);
        if (o.n != 1) {
            sent_free(&o);
            break;
        }
        T_CHECK(o.len[0] <= c->max_pdu);
        const uint8_t *d;
        size_t dl;
        T_EQ_INT(i61_mms_dec_file_read_resp(o.p[0], o.len[0], &d, &dl, &more, NULL), 0);
        T_CHECK(have + dl <= size);
        if (have + dl <= size) {
            memcpy(all + have, d, dl);
            have += dl;
        }
        n++;
        sent_free(&o);
    }
    T_EQ_INT(i61_mms_enc_file_close_req(&b, 9, frsm), 0);
    send_pdu(c, &b);
    i61_buf_free(&b);
    expect_null(c, I61_MMS_SVC_FILE_CLOSE);
    *len = have;
    if (chunks)
        *chunks = n;
    return all;
}

/* One FileDirectory page: names appended to out (count *n, capacity cap). */
static int list_page(i61_sconn *c, const char *spec, const char *after, char (*out)[300],
                     size_t *n, size_t cap, bool *more, uint64_t *sizes)
{
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_enc_file_directory_req(&b, 11, spec, after), 0);
    send_pdu(c, &b);
    i61_buf_free(&b);
    sent o;
    take(c, &o);
    int rc = -1;
    if (o.n == 1) {
        T_CHECK(o.len[0] <= c->max_pdu);
        i61_mms_file_dir d;
        i61_mms_file_dir_init(&d);
        i61_mms_error e;
        memset(&e, 0, sizeof e);
        rc = i61_mms_dec_file_directory_resp(o.p[0], o.len[0], &d, more, &e);
        if (rc == 0) {
            for (size_t i = 0; i < d.count && *n < cap; i++) {
                snprintf(out[*n], 300, "%s", d.items[i].name);
                if (sizes)
                    sizes[*n] = d.items[i].size;
                (*n)++;
            }
        } else if (e.kind == I61_MMS_KIND_ERROR) {
            rc = 1000 * e.cls + e.code;
        }
        i61_mms_file_dir_clear(&d);
    }
    sent_free(&o);
    return rc;
}

/* The whole listing (following moreFollows); returns 0 or the error
 * (1000 * class + code) of the first page. */
static int list_all(i61_sconn *c, const char *spec, char (*out)[300], size_t *n, size_t cap,
                    int *pages)
{
    *n = 0;
    bool more = true;
    int p = 0, rc = 0;
    while (more && p < 1000) {
        rc = list_page(c, spec, *n ? out[*n - 1] : NULL, out, n, cap, &more, NULL);
        if (rc != 0)
            break;
        p++;
    }
    if (pages)
        *pages = p;
    return rc;
}

/* ---------------------------------------------------- golden exchanges */

static const char file1[] = "Golden capture test file one.\n";   /* 30 octets (113) */

static void golden_store(void)
{
    put_file("file1.txt", file1, 30, GOLD_MTIME);
    put_file("file2.txt", "second golden test file.\n", 25, GOLD_MTIME);   /* 25 octets (109) */
}

static void test_golden_directory_download_delete(void)
{
    store_new();
    golden_store();
    i61_server *s = server_new(true);
    i61_sconn c;
    open_conn(&c, s, 1, false);

    /* 108 -> 109: ours lists sorted by name, libiec61850 listed file2 first:
     * the same frame with the two DirectoryEntry elements swapped */
    feed(&c, "108_filedirectory_request");
    size_t len;
    uint8_t *g = t_golden("109_filedirectory_response", &len);
    T_EQ_INT(len, 114);
    if (len == 114) {
        uint8_t tmp[41];
        memcpy(tmp, g + 0x20, 41);                 /* file2.txt entry */
        memmove(g + 0x20, g + 0x49, 41);           /* file1.txt entry */
        memcpy(g + 0x49, tmp, 41);
    }
    T_EQ_MEM(c.out.data, c.out.len, g, len);
    free(g);
    i61_sconn_consume_out(&c, c.out.len);

    exchange(&c, "110_fileopen_request", "111_fileopen_response");
    exchange(&c, "112_fileread_request", "113_fileread_response");
    exchange(&c, "114_fileclose_request", "115_fileclose_response");
    exchange(&c, "118_filedelete_request", "119_filedelete_response");
    T_CHECK(!exists("file2.txt"));
    exchange(&c, "120_filedelete_fail_request", "121_filedelete_fail_error");

    /* 116: libiec61850 rejected FileRename (117); we rename */
    feed(&c, "116_filerename_request");
    sent o;
    take(&c, &o);
    T_EQ_INT(o.n, 1);
    static const uint8_t rename_ok[] = {0xa1, 0x06, 0x02, 0x01, 0x39, 0x9f, 0x4b, 0x00};
    if (o.n == 1)
        T_EQ_MEM(o.p[0], o.len[0], rename_ok, sizeof rename_ok);
    sent_free(&o);
    T_CHECK(!exists("file1.txt"));
    T_CHECK(exists("file1b.txt"));

    i61_server_file_stats st;
    i61_server_get_file_stats(s, &st);
    T_EQ_INT(st.opened, 1);
    T_EQ_INT(st.octets_read, 30);
    T_EQ_INT(st.deleted, 1);
    T_EQ_INT(st.renamed, 1);
    T_EQ_INT(st.refused, 1);
    T_EQ_INT(st.open_now, 0);
    close_conn(s, &c);
    i61_server_free(s);
    store_done();
}

static void test_golden_obtain_file(void)
{
    store_new();
    i61_server *s = server_new(true);
    i61_sconn c;
    open_conn(&c, s, 1, false);
    /* the server becomes the client's client: FileOpen, FileRead, FileClose
     * with its own invoke ids 1, 2, 3; then it answers the ObtainFile (60) */
    exchange(&c, "122_obtainfile_request", "123_obtainfile_srv_fileopen_request");
    T_EQ_INT(c.outstanding, 1);
    T_EQ_INT(count_prefixed(g_root, I61_SRV_FILE_TMP_PREFIX), 1);
    exchange(&c, "124_obtainfile_cli_fileopen_response", "125_obtainfile_srv_fileread_request");
    exchange(&c, "126_obtainfile_cli_fileread_response", "127_obtainfile_srv_fileclose_request");
    T_CHECK(!exists("upload.txt"));                /* only once complete */
    exchange(&c, "128_obtainfile_cli_fileclose_response", "129_obtainfile_response");
    T_EQ_INT(c.outstanding, 0);
    char p[600];
    snprintf(p, sizeof p, "%s/upload.txt", g_root);
    size_t len = 0;
    char *d = slurp(p, &len);
    T_EQ_MEM(d, len, "uploaded via ObtainFile\n", 24);
    free(d);
    T_EQ_INT(count_prefixed(g_root, I61_SRV_FILE_TMP_PREFIX), 0);
    i61_server_file_stats st;
    i61_server_get_file_stats(s, &st);
    T_EQ_INT(st.obtained, 1);
    T_EQ_INT(st.octets_obtained, 24);

    /* again: the destination is replaced; the next ids are 4, 5, 6 */
    put_file("upload.txt", "old", 3, 0);
    feed(&c, "122_obtainfile_request");
    sent o;
    take(&c, &o);
    T_EQ_INT(o.n, 1);
    uint32_t id = 0;
    int kind = 0;
    if (o.n == 1)
        T_EQ_INT(i61_mms_pdu_invoke_id(o.p[0], o.len[0], &id, &kind), 0);
    T_EQ_INT(id, 4);
    sent_free(&o);
    /* the golden answers carry ids 1..3: answers to requests long done are
     * dropped silently, the transfer waits on */
    feed(&c, "124_obtainfile_cli_fileopen_response");
    T_EQ_INT(c.out.len, 0);
    close_conn(s, &c);
    T_EQ_INT(count_prefixed(g_root, I61_SRV_FILE_TMP_PREFIX), 0);   /* removed */
    d = slurp(p, &len);
    T_EQ_MEM(d, len, "old", 3);                    /* untouched */
    free(d);
    i61_server_free(s);
    store_done();
}

/* ----------------------------------------------------------- directory */

static void test_directory_recursive(void)
{
    store_new();
    put_file("b.txt", "bb", 2, 0);
    put_file("a.txt", "a", 1, 0);
    mk_dir("sub");
    put_file("sub/nested.txt", "n", 1, 0);
    mk_dir("sub/deep");
    put_file("sub/deep/d.txt", "dd", 2, 0);
    mk_dir("emptydir");
    put_file("zero.bin", "", 0, 0);
    i61_server *s = server_new(true);
    i61_sconn c;
    open_conn(&c, s, 1, false);
    char (*names)[300] = calloc(64, sizeof *names);
    uint64_t sizes[64];
    size_t n = 0;
    bool more = true;
    T_EQ_INT(list_page(&c, NULL, NULL, names, &n, 64, &more, sizes), 0);
    T_EQ_INT(n, 5);
    T_CHECK(!more);
    const char *expect[] = {"a.txt", "b.txt", "sub/deep/d.txt", "sub/nested.txt", "zero.bin"};
    const uint64_t esz[] = {1, 2, 2, 1, 0};
    for (size_t i = 0; i < 5 && i < n; i++) {
        T_CHECK(strcmp(names[i], expect[i]) == 0);
        T_EQ_INT(sizes[i], esz[i]);
    }
    /* "/" and "" are the root too */
    size_t n2 = 0;
    T_EQ_INT(list_page(&c, "/", NULL, names, &n2, 64, &more, NULL), 0);
    T_EQ_INT(n2, 5);
    n2 = 0;
    T_EQ_INT(list_page(&c, "", NULL, names, &n2, 64, &more, NULL), 0);
    T_EQ_INT(n2, 5);
    /* a subdirectory: names relative to the root, as libiec61850 */
    n = 0;
    T_EQ_INT(list_page(&c, "sub", NULL, names, &n, 64, &more, NULL), 0);
    T_EQ_INT(n, 2);
    if (n == 2) {
        T_CHECK(strcmp(names[0], "sub/deep/d.txt") == 0);
        T_CHECK(strcmp(names[1], "sub/nested.txt") == 0);
    }
    n = 0;
    T_EQ_INT(list_page(&c, "sub/", NULL, names, &n, 64, &more, NULL), 0);
    T_EQ_INT(n, 2);
    /* a single file */
    n = 0;
    T_EQ_INT(list_page(&c, "sub/nested.txt", NULL, names, &n, 64, &more, sizes), 0);
    T_EQ_INT(n, 1);
    if (n == 1)
        T_CHECK(strcmp(names[0], "sub/nested.txt") == 0);
    /* continueAfter */
    n = 0;
    T_EQ_INT(list_page(&c, NULL, "b.txt", names, &n, 64, &more, NULL), 0);
    T_EQ_INT(n, 3);
    if (n == 3)
        T_CHECK(strcmp(names[0], "sub/deep/d.txt") == 0);
    n = 0;
    T_EQ_INT(list_page(&c, NULL, "zero.bin", names, &n, 64, &more, NULL), 0);
    T_EQ_INT(n, 0);
    T_CHECK(!more);
    /* empty directory, unknown names */
    n = 0;
    T_EQ_INT(list_page(&c, "emptydir", NULL, names, &n, 64, &more, NULL), 0);
    T_EQ_INT(n, 0);
    T_EQ_INT(list_page(&c, "nosuch", NULL, names, &n, 64, &more, NULL),
             11000 + I61_MMS_FILE_ERR_FILE_NON_EXISTENT);
    T_EQ_INT(list_page(&c, "a.txt/x", NULL, names, &n, 64, &more, NULL),
             11000 + I61_MMS_FILE_ERR_FILE_NON_EXISTENT);
    free(names);
    close_conn(s, &c);
    i61_server_free(s);
    store_done();
}

static void test_directory_paging_small_pdu(void)
{
    store_new();
    mk_dir("dr");
    for (int i = 0; i < 300; i++) {
        char nm[64];
        snprintf(nm, sizeof nm, "%s/record_%03d.cfg", i % 3 ? "dr" : ".", 299 - i);
        put_file(nm[0] == '.' ? nm + 2 : nm, "x", 1, 0);
    }
    i61_server *s = server_new(true);
    i61_sconn c;
    open_conn(&c, s, 1, true);                     /* 512-octet PDUs */
    char (*names)[300] = calloc(400, sizeof *names);
    size_t n = 0;
    int pages = 0;
    T_EQ_INT(list_all(&c, NULL, names, &n, 400, &pages), 0);
    T_EQ_INT(n, 300);
    T_CHECK(pages > 10);                           /* many pages at 512 octets */
    for (size_t i = 1; i < n; i++)
        T_CHECK(strcmp(names[i - 1], names[i]) < 0);   /* sorted, no duplicates */
    T_CHECK(n > 0 && strncmp(names[0], "dr/", 3) == 0);
    /* a subdirectory pages too */
    T_EQ_INT(list_all(&c, "dr", names, &n, 400, &pages), 0);
    T_EQ_INT(n, 200);
    free(names);
    close_conn(s, &c);
    i61_server_free(s);
    store_done();
}

/* ------------------------------------------------------------ FileRead */

static void test_read_chunks(void)
{
    store_new();
    size_t big = 200000;
    uint8_t *data = malloc(big);
    for (size_t i = 0; i < big; i++)
        data[i] = (uint8_t)(i * 7 + (i >> 9));
    put_file("big.bin", data, big, 0);
    put_file("zero.bin", "", 0, 0);
    put_file("one.bin", "Z", 1, 0);
    i61_server *s = server_new(true);
    i61_sconn c;
    open_conn(&c, s, 1, false);
    size_t len;
    int err, chunks = 0;
    uint8_t *got = download(&c, "big.bin", 0, &len, &err, &chunks);
    T_EQ_MEM(got, len, data, big);
    size_t max = i61_mms_file_read_max_data(65000);
    T_EQ_INT(chunks, (int)((big + max - 1) / max));   /* full-size chunks */
    free(got);
    got = download(&c, "big.bin", 123456, &len, &err, NULL);
    T_EQ_MEM(got, len, data + 123456, big - 123456);
    free(got);
    got = download(&c, "zero.bin", 0, &len, &err, &chunks);
    T_EQ_INT(len, 0);
    T_EQ_INT(chunks, 1);
    free(got);
    got = download(&c, "one.bin", 0, &len, &err, NULL);
    T_EQ_MEM(got, len, "Z", 1);
    free(got);
    /* initialPosition beyond the end */
    uint64_t size;
    T_EQ_INT(do_open(&c, "one.bin", 2, &size, &err), -1);
    T_EQ_INT(err, I61_MMS_FILE_ERR_POSITION_INVALID);
    /* FileRead / FileClose of an unknown FRSM */
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_enc_file_read_req(&b, 3, 5), 0);
    send_pdu(&c, &b);
    expect_file_error(&c, I61_MMS_FILE_ERR_OTHER);
    T_EQ_INT(i61_mms_enc_file_close_req(&b, 3, -1), 0);
    send_pdu(&c, &b);
    expect_file_error(&c, I61_MMS_FILE_ERR_OTHER);
    close_conn(s, &c);

    /* 512-octet PDUs: every chunk fits */
    open_conn(&c, s, 2, true);
    got = download(&c, "big.bin", 190000, &len, &err, &chunks);
    T_EQ_MEM(got, len, data + 190000, big - 190000);
    T_CHECK(chunks >= (int)((big - 190000) / 512));
    free(got);
    i61_buf_free(&b);
    close_conn(s, &c);
    i61_server_free(s);
    free(data);
    store_done();
}

/* -------------------------------------------------------------- sandbox */

/* A FileOpen whose FileName element is given raw (name octets n). */
static void open_raw(i61_sconn *c, const uint8_t *name, size_t n)
{
    i61_buf fname, body, pdu;
    i61_buf_init(&fname);
    i61_buf_init(&body);
    i61_buf_init(&pdu);
    i61_ber_put_tlv(&fname, 0x19, name, n);
    i61_ber_put_tlv(&body, 0xa0, fname.data, fname.len);
    i61_ber_put_uint64(&body, 0x81, 0);
    size_t m = i61_ber_open(&pdu, 0xa0);
    i61_ber_put_uint64(&pdu, 0x02, 0x21);
    i61_ber_put_tlv(&pdu, 0xbf48, body.data, body.len);
    i61_ber_close(&pdu, m);
    T_CHECK(!pdu.oom);
    i61_srv_mms_pdu(c, pdu.data, pdu.len);
    i61_buf_free(&fname);
    i61_buf_free(&body);
    i61_buf_free(&pdu);
}

static void test_sandbox(void)
{
    store_new();
    put_file("ok.txt", "fine", 4, 0);
    mk_dir("sub");
    char p[900], q[900];
    /* links out of the root: to a file, to a directory */
    snprintf(p, sizeof p, "%s/secret.txt", g_out);
    snprintf(q, sizeof q, "%s/link.txt", g_root);
    T_EQ_INT(symlink(p, q), 0);
    snprintf(q, sizeof q, "%s/sub/ldir", g_root);
    T_EQ_INT(symlink(g_out, q), 0);
    /* a link inside the root is not followed either */
    snprintf(q, sizeof q, "%s/inner.txt", g_root);
    T_EQ_INT(symlink("ok.txt", q), 0);
    snprintf(q, sizeof q, "%s/fifo", g_root);
    T_EQ_INT(mkfifo(q, 0600), 0);

    i61_server *s = server_new(true);
    i61_sconn c;
    open_conn(&c, s, 1, false);
    uint64_t size;
    int err;
    const char *denied[] = {"../outside/secret.txt", "/etc/passwd", "sub/../ok.txt", "./ok.txt",
                            "sub//x", "sub/", "link.txt", "inner.txt", "sub/ldir/secret.txt",
                            "sub/ldir", "fifo", "sub", "..", ".", "a\\b", "tab\there"};
    for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++) {
        T_EQ_INT(do_open(&c, denied[i], 0, &size, &err), -1);
        T_EQ_INT(err, I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
        if (err != I61_MMS_FILE_ERR_FILE_ACCESS_DENIED)
            fprintf(stderr, "  (%s)\n", denied[i]);
    }
    /* NUL inside the name; over-long; control character */
    open_raw(&c, (const uint8_t *)"ok.txt\0.x", 9);
    expect_file_error(&c, I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
    uint8_t longname[300];
    memset(longname, 'a', sizeof longname);
    open_raw(&c, longname, sizeof longname);
    expect_file_error(&c, I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
    open_raw(&c, (const uint8_t *)"ok\x7f", 3);
    expect_file_error(&c, I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
    open_raw(&c, (const uint8_t *)"ok.txt", 6);     /* the helper itself works */
    sent o;
    take(&c, &o);
    T_EQ_INT(o.n, 1);
    if (o.n == 1)
        T_EQ_INT(o.p[0][0], 0xa1);
    sent_free(&o);

    /* delete / rename / obtain / directory cannot escape either */
    i61_buf b;
    i61_buf_init(&b);
    snprintf(p, sizeof p, "../outside/secret.txt");
    T_EQ_INT(i61_mms_enc_file_delete_req(&b, 4, p), 0);
    send_pdu(&c, &b);
    expect_file_error(&c, I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
    T_EQ_INT(i61_mms_enc_file_delete_req(&b, 4, "sub/ldir/secret.txt"), 0);
    send_pdu(&c, &b);
    expect_file_error(&c, I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
    T_EQ_INT(i61_mms_enc_file_delete_req(&b, 4, "link.txt"), 0);     /* not the link */
    send_pdu(&c, &b);
    expect_file_error(&c, I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
    T_EQ_INT(i61_mms_enc_file_delete_req(&b, 4, "sub"), 0);          /* not a directory */
    send_pdu(&c, &b);
    expect_file_error(&c, I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
    T_EQ_INT(i61_mms_enc_file_rename_req(&b, 5, "ok.txt", "../outside/moved.txt"), 0);
    send_pdu(&c, &b);
    expect_file_error(&c, I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
    T_EQ_INT(i61_mms_enc_file_rename_req(&b, 5, "ok.txt", "sub/ldir/moved.txt"), 0);
    send_pdu(&c, &b);
    expect_file_error(&c, I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
    T_EQ_INT(i61_mms_enc_file_rename_req(&b, 5, "link.txt", "l2.txt"), 0);
    send_pdu(&c, &b);
    expect_file_error(&c, I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
    T_EQ_INT(i61_mms_enc_obtain_file_req(&b, 6, "x", "../outside/up.txt"), 0);
    send_pdu(&c, &b);
    expect_file_error(&c, I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
    T_EQ_INT(i61_mms_enc_obtain_file_req(&b, 6, "x", "sub/ldir/up.txt"), 0);
    send_pdu(&c, &b);
    expect_file_error(&c, I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
    T_EQ_INT(i61_mms_enc_obtain_file_req(&b, 6, "x", "link.txt"), 0);    /* not through it */
    send_pdu(&c, &b);
    expect_file_error(&c, I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
    T_EQ_INT(i61_mms_enc_obtain_file_req(&b, 6, "x", "/etc/x"), 0);
    send_pdu(&c, &b);
    expect_file_error(&c, I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
    char (*names)[300] = calloc(16, sizeof *names);
    size_t n = 0;
    bool more;
    T_EQ_INT(list_page(&c, "../outside", NULL, names, &n, 16, &more, NULL),
             11000 + I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
    T_EQ_INT(list_page(&c, "/etc", NULL, names, &n, 16, &more, NULL),
             11000 + I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
    T_EQ_INT(list_page(&c, "sub/ldir", NULL, names, &n, 16, &more, NULL),
             11000 + I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
    /* the root's listing shows neither links nor the FIFO */
    n = 0;
    T_EQ_INT(list_page(&c, NULL, NULL, names, &n, 16, &more, NULL), 0);
    T_EQ_INT(n, 1);
    if (n == 1)
        T_CHECK(strcmp(names[0], "ok.txt") == 0);
    free(names);
    i61_buf_free(&b);

    /* nothing outside was touched */
    snprintf(p, sizeof p, "%s/secret.txt", g_out);
    size_t len = 0;
    char *d = slurp(p, &len);
    T_EQ_MEM(d, len, "top secret\n", 11);
    free(d);
    T_EQ_INT(count_prefixed(g_out, ""), 3);        /* ., .., secret.txt */
    T_CHECK(exists("ok.txt") && exists("link.txt"));
    close_conn(s, &c);
    i61_server_free(s);
    store_done();
}

static void test_check_name(void)
{
    char out[I61_FILE_NAME_MAX + 1];
    T_EQ_INT(i61_srv_file_check_name("a/b.txt", 7, false, out, sizeof out), 0);
    T_CHECK(strcmp(out, "a/b.txt") == 0);
    T_EQ_INT(i61_srv_file_check_name("/", 1, true, out, sizeof out), 0);
    T_CHECK(out[0] == '\0');
    T_EQ_INT(i61_srv_file_check_name(NULL, 0, true, out, sizeof out), 0);
    T_EQ_INT(i61_srv_file_check_name("d//", 3, true, out, sizeof out), 0);
    T_CHECK(strcmp(out, "d") == 0);
    T_EQ_INT(i61_srv_file_check_name("/", 1, false, out, sizeof out), 6);
    T_EQ_INT(i61_srv_file_check_name("", 0, false, out, sizeof out), 6);
    T_EQ_INT(i61_srv_file_check_name("a/..", 4, false, out, sizeof out), 6);
    T_EQ_INT(i61_srv_file_check_name("..a", 3, false, out, sizeof out), 0);   /* a name */
    T_EQ_INT(i61_srv_file_check_name("a\nb", 3, false, out, sizeof out), 6);
    char big[I61_FILE_NAME_MAX + 2];
    memset(big, 'x', sizeof big);
    big[I61_FILE_NAME_MAX] = '\0';
    T_EQ_INT(i61_srv_file_check_name(big, I61_FILE_NAME_MAX, false, out, sizeof out), 0);
    big[I61_FILE_NAME_MAX] = 'x';
    big[I61_FILE_NAME_MAX + 1] = '\0';
    T_EQ_INT(i61_srv_file_check_name(big, I61_FILE_NAME_MAX + 1, false, out, sizeof out), 6);
    T_EQ_INT(i61_srv_file_check_name("abc", 3, false, out, 3), 6);   /* no room */
    T_EQ_INT(i61_srv_file_check_name("d/.i61-obtain-1-2.tmp", 21, false, out, sizeof out), 6);
}

/* ------------------------------------------------- limits and clean-up */

static void test_open_limit_and_cleanup(void)
{
    store_new();
    put_file("a", "1", 1, 0);
    put_file("b", "22", 2, 0);
    put_file("c", "333", 3, 0);
    i61_server *s = server_new(true);
    i61_server_set_max_open_files(s, 2);
    int fds0 = count_fds();
    i61_sconn c;
    open_conn(&c, s, 1, false);
    uint64_t size;
    int err;
    int32_t f1 = do_open(&c, "a", 0, &size, &err);
    int32_t f2 = do_open(&c, "b", 0, &size, &err);
    T_CHECK(f1 >= 0 && f2 >= 0 && f1 != f2);
    T_EQ_INT(do_open(&c, "c", 0, &size, &err), -1);
    T_EQ_INT(err, I61_MMS_FILE_ERR_FILE_BUSY);
    /* another association has its own table */
    i61_sconn c2;
    open_conn(&c2, s, 2, false);
    T_CHECK(do_open(&c2, "c", 0, &size, &err) >= 0);
    i61_server_file_stats st;
    i61_server_get_file_stats(s, &st);
    T_EQ_INT(st.open_now, 3);
    /* closing one frees a slot */
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_enc_file_close_req(&b, 3, f1), 0);
    send_pdu(&c, &b);
    expect_null(&c, I61_MMS_SVC_FILE_CLOSE);
    T_CHECK(do_open(&c, "c", 0, &size, &err) >= 0);
    T_EQ_INT(count_fds(), fds0 + 3);
    /* association lost with files open (and one read half-way) */
    T_EQ_INT(i61_mms_enc_file_read_req(&b, 3, f2), 0);
    send_pdu(&c, &b);
    i61_sconn_consume_out(&c, c.out.len);
    close_conn(s, &c);
    T_EQ_INT(count_fds(), fds0 + 1);
    close_conn(s, &c2);
    T_EQ_INT(count_fds(), fds0);
    i61_server_get_file_stats(s, &st);
    T_EQ_INT(st.open_now, 0);
    i61_buf_free(&b);
    i61_server_free(s);
    store_done();
}

static void test_no_filestore(void)
{
    store_new();
    i61_server *s = server_new(false);
    i61_sconn c;
    /* Initiate advertises no file service */
    i61_sconn_init(&c, s, 1, false);
    feed(&c, "001_cotp_cr");
    i61_sconn_consume_out(&c, c.out.len);
    feed(&c, "003_initiate_request");
    static const uint8_t svc_hdr[] = {0x82, 0x0c, 0x03};
    uint8_t *at = memmem(c.out.data, c.out.len, svc_hdr, 3);
    T_CHECK(at != NULL);
    if (at) {
        T_EQ_INT(at[3 + 46 / 8] & (0x80 >> (46 % 8)), 0);
        for (int k = 72; k <= 77; k++)
            T_EQ_INT(at[3 + k / 8] & (0x80 >> (k % 8)), 0);
    }
    i61_sconn_consume_out(&c, c.out.len);
    /* ... and rejects file requests like libiec61850 rejected FileRename (117) */
    exchange(&c, "116_filerename_request", "117_filerename_reject");
    feed(&c, "108_filedirectory_request");
    int cls, code;
    one_error(&c, &cls, &code);
    T_EQ_INT(cls, 101);
    T_EQ_INT(code, 1);
    close_conn(s, &c);

    /* with a file store: bits 46 and 72..77 */
    T_EQ_INT(i61_server_set_filestore(s, g_root), 0);
    i61_sconn_init(&c, s, 2, false);
    feed(&c, "001_cotp_cr");
    i61_sconn_consume_out(&c, c.out.len);
    feed(&c, "003_initiate_request");
    at = memmem(c.out.data, c.out.len, svc_hdr, 3);
    T_CHECK(at != NULL);
    if (at) {
        T_CHECK(at[3 + 46 / 8] & (0x80 >> (46 % 8)));
        for (int k = 72; k <= 77; k++)
            T_CHECK(at[3 + k / 8] & (0x80 >> (k % 8)));
        T_EQ_INT(at[3 + 78 / 8] & (0x80 >> (78 % 8)), 0);   /* not unsolicitedStatus */
    }
    i61_sconn_consume_out(&c, c.out.len);
    close_conn(s, &c);
    /* removing it again; a bad directory is refused */
    T_EQ_INT(i61_server_set_filestore(s, NULL), 0);
    T_CHECK(!i61_srv_files_enabled(s));
    char p[600];
    snprintf(p, sizeof p, "%s/nosuchdir", g_tmp);
    T_EQ_INT(i61_server_set_filestore(s, p), I61_ERR_INVALID_ARGUMENT);
    snprintf(p, sizeof p, "%s/secret.txt", g_out);
    T_EQ_INT(i61_server_set_filestore(s, p), I61_ERR_INVALID_ARGUMENT);
    i61_server_free(s);
    store_done();
}

/* ---------------------------------------------------------------- hooks */

static int g_hook_calls;
static int g_hook_answer;
static int g_hook_op;
static char g_hook_path[300], g_hook_new[300];
static uint64_t g_hook_token;

static int file_hook(void *ud, uint64_t token, uint32_t conn_id, int op, const char *path,
                     const char *new_path)
{
    T_CHECK(ud == (void *)&g_hook_calls);
    T_EQ_INT(conn_id, 1);
    g_hook_calls++;
    g_hook_op = op;
    g_hook_token = token;
    snprintf(g_hook_path, sizeof g_hook_path, "%s", path);
    snprintf(g_hook_new, sizeof g_hook_new, "%s", new_path);
    return g_hook_answer;
}

static void test_c_hook(void)
{
    store_new();
    put_file("keep.txt", "k", 1, 0);
    put_file("r.txt", "r", 1, 0);
    i61_server *s = server_new(true);
    i61_server_set_file_hook(s, file_hook, &g_hook_calls);
    i61_sconn c;
    open_conn(&c, s, 1, false);
    i61_buf b;
    i61_buf_init(&b);
    /* deny a delete */
    g_hook_answer = I61_FILE_ERR_ACCESS_DENIED;
    T_EQ_INT(i61_mms_enc_file_delete_req(&b, 4, "keep.txt"), 0);
    send_pdu(&c, &b);
    expect_file_error(&c, I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
    T_EQ_INT(g_hook_calls, 1);
    T_EQ_INT(g_hook_op, I61_FILE_OP_DELETE);
    T_CHECK(strcmp(g_hook_path, "keep.txt") == 0);
    T_CHECK(exists("keep.txt"));
    /* allow a rename */
    g_hook_answer = I61_HOOK_ACCEPT;
    T_EQ_INT(i61_mms_enc_file_rename_req(&b, 5, "r.txt", "r2.txt"), 0);
    send_pdu(&c, &b);
    expect_null(&c, I61_MMS_SVC_FILE_RENAME);
    T_EQ_INT(g_hook_op, I61_FILE_OP_RENAME);
    T_CHECK(strcmp(g_hook_path, "r.txt") == 0 && strcmp(g_hook_new, "r2.txt") == 0);
    /* the sandbox comes first: the hook never sees an escaping name */
    int before = g_hook_calls;
    T_EQ_INT(i61_mms_enc_file_delete_req(&b, 4, "../x"), 0);
    send_pdu(&c, &b);
    expect_file_error(&c, I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
    T_EQ_INT(g_hook_calls, before);
    /* a bad answer denies */
    g_hook_answer = 77;
    T_EQ_INT(i61_mms_enc_file_directory_req(&b, 4, NULL, NULL), 0);
    send_pdu(&c, &b);
    expect_file_error(&c, I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
    T_EQ_INT(g_hook_op, I61_FILE_OP_DIRECTORY);
    T_CHECK(g_hook_path[0] == '\0');
    /* deferred, answered later (from the "application") */
    g_hook_answer = I61_HOOK_DEFER;
    uint64_t size;
    int err;
    T_EQ_INT(i61_mms_enc_file_open_req(&b, 21, "keep.txt", 0), 0);
    send_pdu(&c, &b);
    T_EQ_INT(c.out.len, 0);
    T_EQ_INT(c.outstanding, 1);
    T_EQ_INT(g_hook_op, I61_FILE_OP_OPEN);
    T_EQ_INT(i61_server_complete_file(s, g_hook_token, 12), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_server_complete_file(s, g_hook_token + 100, -1), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_server_complete_file(s, g_hook_token, I61_HOOK_ACCEPT), 0);
    T_EQ_INT(i61_server_complete_file(s, g_hook_token, I61_HOOK_ACCEPT),
             I61_ERR_OBJECT_DOES_NOT_EXIST);                  /* answered once */
    i61_srv_file_run(s, i61_mono_ms());
    sent o;
    take(&c, &o);
    T_EQ_INT(o.n, 1);
    int32_t frsm = -1;
    int64_t mt;
    if (o.n == 1)
        T_EQ_INT(i61_mms_dec_file_open_resp(o.p[0], o.len[0], &frsm, &size, &mt, NULL), 0);
    sent_free(&o);
    T_EQ_INT(size, 1);
    T_EQ_INT(c.outstanding, 0);
    T_EQ_INT(i61_server_complete_file(s, g_hook_token, I61_HOOK_ACCEPT),
             I61_ERR_OBJECT_DOES_NOT_EXIST);                  /* answered already */
    /* FileRead is not asked again */
    before = g_hook_calls;
    T_EQ_INT(i61_mms_enc_file_read_req(&b, 22, frsm), 0);
    send_pdu(&c, &b);
    take(&c, &o);
    T_EQ_INT(o.n, 1);
    sent_free(&o);
    T_EQ_INT(g_hook_calls, before);
    /* deferred and never answered: denied at the hook timeout */
    T_EQ_INT(i61_mms_enc_file_delete_req(&b, 23, "keep.txt"), 0);
    send_pdu(&c, &b);
    T_EQ_INT(c.out.len, 0);
    uint64_t next = i61_srv_file_run(s, i61_mono_ms());
    T_CHECK(next > 0);
    T_EQ_INT(c.out.len, 0);
    T_EQ_INT(i61_srv_file_run(s, next), 0);
    expect_file_error(&c, I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
    T_CHECK(exists("keep.txt"));
    /* deferred, then the association goes away: a late answer is told so */
    T_EQ_INT(i61_mms_enc_file_delete_req(&b, 24, "keep.txt"), 0);
    send_pdu(&c, &b);
    close_conn(s, &c);
    T_EQ_INT(i61_server_complete_file(s, g_hook_token, I61_HOOK_ACCEPT), I61_ERR_CONNECTION_LOST);
    T_EQ_INT(i61_server_complete_file(s, g_hook_token, I61_HOOK_ACCEPT),
             I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_CHECK(exists("keep.txt"));
    (void)err;
    /* one left waiting when the server goes: freed with it (ASan) */
    open_conn(&c, s, 1, false);
    T_EQ_INT(i61_mms_enc_file_delete_req(&b, 25, "keep.txt"), 0);
    send_pdu(&c, &b);
    close_conn(s, &c);
    i61_buf_free(&b);
    i61_server_free(s);
    store_done();
}

static i61_server_event *next_ev(i61_server *s)
{
    i61_server_event *e = NULL;
    T_EQ_INT(i61_server_next_event(s, 0, &e), 0);
    return e;
}

static void test_queued_hook(void)
{
    store_new();
    put_file("f.txt", "f", 1, 0);
    i61_server *s = server_new(true);
    int ud = 0;
    i61_server_set_queued_file_hook(s, 1, &ud);
    i61_sconn c;
    open_conn(&c, s, 1, false);
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_enc_file_rename_req(&b, 5, "f.txt", "sub/g.txt"), 0);
    send_pdu(&c, &b);
    T_EQ_INT(c.out.len, 0);
    i61_server_event *e = next_ev(s);
    T_CHECK(e != NULL);
    if (e) {
        T_EQ_INT(e->kind, I61_SEV_FILE);
        T_EQ_INT(e->fc, I61_FILE_OP_RENAME);
        T_EQ_INT(e->conn_id, 1);
        T_CHECK(e->userdata == &ud);
        T_CHECK(strcmp(i61_server_event_file_path(e), "f.txt") == 0);
        T_CHECK(strcmp(i61_server_event_file_new_path(e), "sub/g.txt") == 0);
        T_CHECK(strcmp(e->ref, "f.txt") == 0);
        /* deny */
        T_EQ_INT(i61_server_complete_file(s, e->token, I61_FILE_ERR_ACCESS_DENIED), 0);
        i61_server_event_free(e);
    }
    i61_srv_file_run(s, i61_mono_ms());
    expect_file_error(&c, I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
    T_CHECK(exists("f.txt"));
    /* ObtainFile: path = the client's source, new_path = the destination */
    T_EQ_INT(i61_mms_enc_obtain_file_req(&b, 6, "local/src.cfg", "up.cfg"), 0);
    send_pdu(&c, &b);
    e = next_ev(s);
    if (e) {
        T_EQ_INT(e->fc, I61_FILE_OP_OBTAIN);
        T_CHECK(strcmp(i61_server_event_file_path(e), "local/src.cfg") == 0);
        T_CHECK(strcmp(i61_server_event_file_new_path(e), "up.cfg") == 0);
        T_EQ_INT(i61_server_complete_file(s, e->token, I61_HOOK_ACCEPT), 0);
        i61_server_event_free(e);
    }
    i61_srv_file_run(s, i61_mono_ms());
    /* accepted: the server asks the client for the file */
    sent o;
    take(&c, &o);
    T_EQ_INT(o.n, 1);
    if (o.n == 1) {
        i61_mms_request rq;
        T_EQ_INT(i61_mms_dec_request(o.p[0], o.len[0], &rq), 0);
        T_EQ_INT(rq.service, I61_MMS_SVC_FILE_OPEN);
        i61_mms_file_req fr;
        T_EQ_INT(i61_mms_dec_file_req(&rq, &fr), 0);
        T_CHECK(fr.name && strcmp(fr.name, "local/src.cfg") == 0);
        i61_mms_file_req_clear(&fr);
    }
    sent_free(&o);
    /* a full queue refuses with file-busy */
    i61_server_set_event_queue_size(s, 1);
    T_EQ_INT(i61_mms_enc_file_directory_req(&b, 7, NULL, NULL), 0);
    send_pdu(&c, &b);
    T_EQ_INT(i61_mms_enc_file_directory_req(&b, 8, NULL, NULL), 0);
    send_pdu(&c, &b);
    expect_file_error(&c, I61_MMS_FILE_ERR_FILE_BUSY);
    e = next_ev(s);
    if (e) {
        T_EQ_INT(e->fc, I61_FILE_OP_DIRECTORY);
        T_CHECK(i61_server_event_file_path(e)[0] == '\0');
        T_EQ_INT(i61_server_complete_file(s, e->token, I61_HOOK_ACCEPT), 0);
        i61_server_event_free(e);
    }
    i61_srv_file_run(s, i61_mono_ms());
    take(&c, &o);
    T_EQ_INT(o.n, 1);
    bool more;
    i61_mms_file_dir d;
    i61_mms_file_dir_init(&d);
    if (o.n == 1)
        T_EQ_INT(i61_mms_dec_file_directory_resp(o.p[0], o.len[0], &d, &more, NULL), 0);
    T_EQ_INT(d.count, 1);
    i61_mms_file_dir_clear(&d);
    sent_free(&o);
    /* accessors on other events */
    T_CHECK(strcmp(i61_server_event_file_path(NULL), "") == 0);
    close_conn(s, &c);                             /* the ObtainFile aborts */
    T_EQ_INT(count_prefixed(g_root, I61_SRV_FILE_TMP_PREFIX), 0);
    T_CHECK(!exists("up.cfg"));
    i61_buf_free(&b);
    i61_server_free(s);
    store_done();
}

/* ----------------------------------------------------- ObtainFile errors */

/* The one request the server sent: its invoke id, service and FRSM. */
static uint32_t last_request(i61_sconn *c, int *service, int32_t *frsm)
{
    sent o;
    take(c, &o);
    uint32_t id = 0;
    *service = -1;
    T_EQ_INT(o.n, 1);
    if (o.n == 1) {
        i61_mms_request rq;
        if (i61_mms_dec_request(o.p[0], o.len[0], &rq) == 0) {
            id = rq.invoke_id;
            *service = rq.service;
            i61_mms_file_req fr;
            memset(&fr, 0, sizeof fr);
            if (frsm && i61_mms_dec_file_req(&rq, &fr) == 0)
                *frsm = fr.frsm_id;
            i61_mms_file_req_clear(&fr);
        } else {
            *service = 1000 + o.p[0][0];           /* not a request: its tag */
        }
    }
    sent_free(&o);
    return id;
}

static void test_obtain_errors(void)
{
    store_new();
    mk_dir("in");
    i61_server *s = server_new(true);
    i61_sconn c;
    open_conn(&c, s, 1, false);
    int fds0 = count_fds();
    i61_buf b;
    i61_buf_init(&b);
    int svc;
    int32_t frsm;

    /* the client has no such file: its error is passed on */
    T_EQ_INT(i61_mms_enc_obtain_file_req(&b, 60, "nosuch", "in/a.bin"), 0);
    send_pdu(&c, &b);
    uint32_t id = last_request(&c, &svc, NULL);
    T_EQ_INT(svc, I61_MMS_SVC_FILE_OPEN);
    T_EQ_INT(i61_mms_enc_file_error(&b, id, I61_MMS_FILE_ERR_FILE_NON_EXISTENT), 0);
    send_pdu(&c, &b);
    expect_file_error(&c, I61_MMS_FILE_ERR_FILE_NON_EXISTENT);
    T_EQ_INT(count_prefixed(g_root, "in") , 1);
    T_EQ_INT(count_prefixed(g_root, I61_SRV_FILE_TMP_PREFIX), 0);
    char p[600];
    snprintf(p, sizeof p, "%s/in", g_root);
    T_EQ_INT(count_prefixed(p, I61_SRV_FILE_TMP_PREFIX), 0);

    /* a client that does not serve files rejects our FileOpen */
    T_EQ_INT(i61_mms_enc_obtain_file_req(&b, 61, "x", "in/a.bin"), 0);
    send_pdu(&c, &b);
    id = last_request(&c, &svc, NULL);
    i61_mms_enc_reject_pdu(&b, true, id, 1, 1);
    send_pdu(&c, &b);
    expect_file_error(&c, I61_MMS_FILE_ERR_OTHER);

    /* FileRead fails half-way: the server closes the client's file, then
     * answers with the error; nothing is left behind */
    T_EQ_INT(i61_mms_enc_obtain_file_req(&b, 62, "x", "in/a.bin"), 0);
    send_pdu(&c, &b);
    id = last_request(&c, &svc, NULL);
    T_EQ_INT(i61_mms_enc_file_open_resp(&b, id, 7, 10, -1), 0);
    send_pdu(&c, &b);
    id = last_request(&c, &svc, &frsm);
    T_EQ_INT(svc, I61_MMS_SVC_FILE_READ);
    T_EQ_INT(frsm, 7);
    T_EQ_INT(i61_mms_enc_file_read_resp(&b, id, (const uint8_t *)"12345", 5, true), 0);
    send_pdu(&c, &b);
    id = last_request(&c, &svc, &frsm);
    T_EQ_INT(svc, I61_MMS_SVC_FILE_READ);
    T_EQ_INT(count_prefixed(p, I61_SRV_FILE_TMP_PREFIX), 1);
    T_EQ_INT(i61_mms_enc_file_error(&b, id, I61_MMS_FILE_ERR_OTHER), 0);
    send_pdu(&c, &b);
    id = last_request(&c, &svc, &frsm);
    T_EQ_INT(svc, I61_MMS_SVC_FILE_CLOSE);
    T_EQ_INT(frsm, 7);
    T_EQ_INT(i61_mms_enc_file_null_resp(&b, id, I61_MMS_SVC_FILE_CLOSE), 0);
    send_pdu(&c, &b);
    expect_file_error(&c, I61_MMS_FILE_ERR_OTHER);
    T_EQ_INT(count_prefixed(p, I61_SRV_FILE_TMP_PREFIX), 0);
    T_CHECK(!exists("in/a.bin"));

    /* the client stops answering: the transfer times out */
    T_EQ_INT(i61_mms_enc_obtain_file_req(&b, 63, "x", "in/a.bin"), 0);
    send_pdu(&c, &b);
    id = last_request(&c, &svc, NULL);
    /* a second ObtainFile meanwhile: busy */
    T_EQ_INT(i61_mms_enc_obtain_file_req(&b, 64, "y", "in/b.bin"), 0);
    send_pdu(&c, &b);
    expect_file_error(&c, I61_MMS_FILE_ERR_FILE_BUSY);
    /* other services go on meanwhile */
    T_EQ_INT(i61_mms_enc_file_directory_req(&b, 65, "in", NULL), 0);
    send_pdu(&c, &b);
    sent o;
    take(&c, &o);
    T_EQ_INT(o.n, 1);
    if (o.n == 1)
        T_EQ_INT(o.p[0][0], 0xa1);
    sent_free(&o);
    uint64_t next = i61_srv_file_run(s, i61_mono_ms());
    T_CHECK(next > 0);
    T_EQ_INT(c.out.len, 0);
    i61_srv_file_run(s, next);
    expect_file_error(&c, I61_MMS_FILE_ERR_OTHER);
    T_EQ_INT(count_prefixed(p, I61_SRV_FILE_TMP_PREFIX), 0);
    T_EQ_INT(c.outstanding, 0);
    /* its late answer is dropped silently */
    T_EQ_INT(i61_mms_enc_file_open_resp(&b, id, 1, 10, -1), 0);
    send_pdu(&c, &b);
    T_EQ_INT(c.out.len, 0);
    /* an answer to an id we never used is rejected (invalid invoke id) */
    T_EQ_INT(i61_mms_enc_file_null_resp(&b, 5000, I61_MMS_SVC_FILE_CLOSE), 0);
    send_pdu(&c, &b);
    int cls, code;
    one_error(&c, &cls, &code);
    T_EQ_INT(cls, 102);
    T_EQ_INT(code, 2);

    /* the destination directory must exist; a directory is not replaced */
    T_EQ_INT(i61_mms_enc_obtain_file_req(&b, 66, "x", "nodir/a.bin"), 0);
    send_pdu(&c, &b);
    expect_file_error(&c, I61_MMS_FILE_ERR_FILE_NON_EXISTENT);
    T_EQ_INT(i61_mms_enc_obtain_file_req(&b, 67, "x", "in"), 0);
    send_pdu(&c, &b);
    expect_file_error(&c, I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);

    /* a big transfer in many chunks, then the association drops mid-way */
    T_EQ_INT(i61_mms_enc_obtain_file_req(&b, 68, "x", "in/big.bin"), 0);
    send_pdu(&c, &b);
    id = last_request(&c, &svc, NULL);
    T_EQ_INT(i61_mms_enc_file_open_resp(&b, id, 0, 1000000, -1), 0);
    send_pdu(&c, &b);
    uint8_t chunk[4000];
    memset(chunk, 0x5a, sizeof chunk);
    for (int k = 0; k < 10; k++) {
        id = last_request(&c, &svc, NULL);
        T_EQ_INT(svc, I61_MMS_SVC_FILE_READ);
        T_EQ_INT(i61_mms_enc_file_read_resp(&b, id, chunk, sizeof chunk, true), 0);
        send_pdu(&c, &b);
    }
    i61_sconn_consume_out(&c, c.out.len);
    T_EQ_INT(count_prefixed(p, I61_SRV_FILE_TMP_PREFIX), 1);
    T_EQ_INT(count_fds(), fds0 + 2);               /* the temporary file, its directory */
    close_conn(s, &c);
    T_EQ_INT(count_prefixed(p, I61_SRV_FILE_TMP_PREFIX), 0);
    T_EQ_INT(count_fds(), fds0);
    T_CHECK(!exists("in/big.bin"));
    i61_server_file_stats st;
    i61_server_get_file_stats(s, &st);
    T_EQ_INT(st.obtained, 0);
    i61_buf_free(&b);
    i61_server_free(s);
    store_done();
}

static void test_rename_delete_cases(void)
{
    store_new();
    put_file("a.txt", "a", 1, 0);
    put_file("b.txt", "b", 1, 0);
    mk_dir("d");
    i61_server *s = server_new(true);
    i61_sconn c;
    open_conn(&c, s, 1, false);
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_enc_file_rename_req(&b, 1, "a.txt", "b.txt"), 0);
    send_pdu(&c, &b);
    expect_file_error(&c, I61_MMS_FILE_ERR_DUPLICATE_FILENAME);
    T_EQ_INT(i61_mms_enc_file_rename_req(&b, 1, "nosuch", "c.txt"), 0);
    send_pdu(&c, &b);
    expect_file_error(&c, I61_MMS_FILE_ERR_FILE_NON_EXISTENT);
    T_EQ_INT(i61_mms_enc_file_rename_req(&b, 1, "a.txt", "nodir/c.txt"), 0);
    send_pdu(&c, &b);
    expect_file_error(&c, I61_MMS_FILE_ERR_FILE_NON_EXISTENT);
    T_EQ_INT(i61_mms_enc_file_rename_req(&b, 1, "d", "e"), 0);      /* directories stay */
    send_pdu(&c, &b);
    expect_file_error(&c, I61_MMS_FILE_ERR_FILE_ACCESS_DENIED);
    T_EQ_INT(i61_mms_enc_file_rename_req(&b, 1, "a.txt", "d/a.txt"), 0);
    send_pdu(&c, &b);
    expect_null(&c, I61_MMS_SVC_FILE_RENAME);
    T_CHECK(exists("d/a.txt") && !exists("a.txt"));
    T_EQ_INT(i61_mms_enc_file_delete_req(&b, 1, "d/a.txt"), 0);
    send_pdu(&c, &b);
    expect_null(&c, I61_MMS_SVC_FILE_DELETE);
    T_CHECK(!exists("d/a.txt"));
    /* a malformed request is rejected (invalid-argument) */
    static const uint8_t bad[] = {0xa0, 0x07, 0x02, 0x01, 0x05, 0xbf, 0x4b, 0x01, 0x00};
    i61_srv_mms_pdu(&c, bad, sizeof bad);
    int cls, code;
    one_error(&c, &cls, &code);
    T_EQ_INT(cls, 101);
    T_EQ_INT(code, 4);
    i61_buf_free(&b);
    close_conn(s, &c);
    i61_server_free(s);
    store_done();
}

/* ------------------------------------------- over TCP, with our client */

static uint64_t fnv1a(const uint8_t *p, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

typedef struct sink_state {
    uint64_t hash;
    size_t got;
    size_t stop_after;                           /* abort the transfer after this, 0 = never */
    i61_server *srv;
    uint32_t open_seen;                          /* files open at the server mid-transfer */
} sink_state;

static int sink(void *ud, const uint8_t *data, size_t len, uint64_t total)
{
    sink_state *st = ud;
    (void)total;
    if (!data)
        return 0;
    st->hash = fnv1a(data, len, st->hash);
    st->got += len;
    if (st->srv) {
        i61_server_file_stats fs;
        i61_server_get_file_stats(st->srv, &fs);
        st->open_seen = fs.open_now;
    }
    if (st->stop_after && st->got >= st->stop_after)
        return I61_ERR_UNKNOWN;
    return 0;
}

/* Dispatcher thread for the queued file hook: denies names containing
 * "deny", accepts the others (like a Python handler). */
static int g_disp_stop;
static int g_disp_events;

static void *dispatcher(void *arg)
{
    i61_server *s = arg;
    while (!__atomic_load_n(&g_disp_stop, __ATOMIC_RELAXED)) {
        i61_server_event *e = NULL;
        int rc = i61_server_next_event(s, 50, &e);
        if (rc == I61_ERR_NOT_CONNECTED)
            break;
        if (rc != 0)
            continue;
        if (e->kind == I61_SEV_FILE) {
            __atomic_fetch_add(&g_disp_events, 1, __ATOMIC_RELAXED);
            bool deny = strstr(i61_server_event_file_path(e), "deny") ||
                        strstr(i61_server_event_file_new_path(e), "deny");
            i61_server_complete_file(s, e->token, deny ? I61_FILE_ERR_ACCESS_DENIED
                                                       : I61_HOOK_ACCEPT);
        }
        i61_server_event_free(e);
    }
    return NULL;
}

static void test_net_end_to_end(void)
{
    store_new();
    size_t big = 1 << 20;
    uint8_t *data = malloc(big);
    for (size_t i = 0; i < big; i++)
        data[i] = (uint8_t)(i * 2654435761u >> 13);
    put_file("data.bin", data, big, 0);
    put_file("deny.txt", "no", 2, 0);
    mk_dir("COMTRADE");
    put_file("COMTRADE/rec1.cfg", "cfg", 3, 0);
    put_file("COMTRADE/rec1.dat", "dat!", 4, 0);
    char local[600];
    snprintf(local, sizeof local, "%s/local", g_tmp);
    T_EQ_INT(mkdir(local, 0755), 0);
    char p[900];
    snprintf(p, sizeof p, "%s/up.cfg", local);
    FILE *f = fopen(p, "wb");
    if (f) {
        fwrite(data, 1, 100000, f);
        fclose(f);
    }

    i61_server *s = server_new(true);
    i61_server_set_queued_file_hook(s, 1, NULL);
    T_EQ_INT(i61_server_start(s, "127.0.0.1", 0), 0);
    int port = i61_server_port(s);
    __atomic_store_n(&g_disp_stop, 0, __ATOMIC_RELAXED);
    pthread_t th;
    T_EQ_INT(pthread_create(&th, NULL, dispatcher, s), 0);
    int fds0 = count_fds();

    i61_client *c = i61_client_new();
    T_EQ_INT(i61_client_connect(c, "127.0.0.1", port), 0);
    i61_file_list *l = NULL;
    T_EQ_INT(i61_client_get_files(c, NULL, &l), 0);
    T_EQ_INT(i61_file_list_count(l), 4);
    if (i61_file_list_count(l) == 4) {
        T_CHECK(strcmp(i61_file_list_name(l, 0), "COMTRADE/rec1.cfg") == 0);
        T_CHECK(strcmp(i61_file_list_name(l, 2), "data.bin") == 0);
        T_EQ_INT(i61_file_list_size(l, 2), big);
        T_CHECK(i61_file_list_mtime_ms(l, 2) > 1700000000000ll);
    }
    i61_file_list_free(l);
    l = NULL;
    T_EQ_INT(i61_client_get_files(c, "COMTRADE", &l), 0);
    T_EQ_INT(i61_file_list_count(l), 2);
    i61_file_list_free(l);

    /* 1 MiB download with a checksum */
    sink_state st = {1469598103934665603ull, 0, 0, s, 0};
    uint64_t size = 0, received = 0;
    T_EQ_INT(i61_client_download(c, "data.bin", sink, &st, &size, NULL, &received), 0);
    T_EQ_INT(size, big);
    T_EQ_INT(st.got, big);
    T_EQ_INT(st.hash, fnv1a(data, big, 1469598103934665603ull));
    T_EQ_INT(st.open_seen, 1);
    /* denied by the application; missing; escaping */
    st.got = 0;
    T_EQ_INT(i61_client_download(c, "deny.txt", sink, &st, NULL, NULL, NULL),
             I61_ERR_ACCESS_DENIED);
    T_EQ_INT(i61_client_download(c, "nosuch.bin", sink, &st, NULL, NULL, NULL),
             I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_client_download(c, "../outside/secret.txt", sink, &st, NULL, NULL, NULL),
             I61_ERR_ACCESS_DENIED);
    T_EQ_INT(st.got, 0);

    /* upload (ObtainFile): the server reads it from us */
    T_EQ_INT(i61_client_set_filestore_basepath(c, local), 0);
    T_EQ_INT(i61_client_upload_file(c, "up.cfg", "COMTRADE/up.cfg"), 0);
    snprintf(p, sizeof p, "%s/COMTRADE/up.cfg", g_root);
    size_t len = 0;
    char *d = slurp(p, &len);
    T_EQ_MEM(d, len, data, 100000);
    free(d);
    T_EQ_INT(i61_client_upload_file(c, "up.cfg", "deny.cfg"), I61_ERR_ACCESS_DENIED);
    T_CHECK(!exists("deny.cfg"));
    T_EQ_INT(i61_client_upload_file(c, "up.cfg", "../outside/up.cfg"), I61_ERR_ACCESS_DENIED);
    snprintf(p, sizeof p, "%s/up.cfg", g_out);
    T_CHECK(access(p, F_OK) != 0);

    /* rename, delete */
    T_EQ_INT(i61_client_rename_file(c, "COMTRADE/up.cfg", "COMTRADE/up2.cfg"), 0);
    T_EQ_INT(i61_client_rename_file(c, "COMTRADE/up2.cfg", "COMTRADE/rec1.cfg"),
             I61_ERR_OBJECT_EXISTS);
    T_EQ_INT(i61_client_delete_file(c, "COMTRADE/up2.cfg"), 0);
    T_EQ_INT(i61_client_delete_file(c, "COMTRADE/up2.cfg"), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_client_delete_file(c, "deny.txt"), I61_ERR_ACCESS_DENIED);
    T_CHECK(exists("deny.txt"));

    /* a transfer interrupted by a dropped connection leaves nothing open */
    int32_t frsm = -1;
    T_EQ_INT(i61_client_file_open(c, "data.bin", 0, &frsm, &size, NULL), 0);
    uint8_t *buf = malloc(70000);
    size_t n = 0;
    int more = 0;
    T_EQ_INT(i61_client_file_read(c, frsm, buf, 70000, &n, &more), 0);
    T_CHECK(n > 0 && more);
    i61_server_file_stats fs;
    i61_server_get_file_stats(s, &fs);
    T_EQ_INT(fs.open_now, 1);
    i61_client_abort(c);
    for (int k = 0; k < 200 && i61_server_connection_count(s) > 0; k++)
        usleep(10000);
    i61_server_get_file_stats(s, &fs);
    T_EQ_INT(fs.open_now, 0);
    T_EQ_INT(i61_server_connection_count(s), 0);
    free(buf);
    i61_client_free(c);
    T_EQ_INT(count_fds(), fds0);
    T_CHECK(__atomic_load_n(&g_disp_events, __ATOMIC_RELAXED) >= 10);

    __atomic_store_n(&g_disp_stop, 1, __ATOMIC_RELAXED);
    i61_server_interrupt_events(s);
    pthread_join(th, NULL);
    i61_server_stop(s);
    i61_server_free(s);
    free(data);
    store_done();
}

/* Download rate of a 64 MiB file from our server (printed, not asserted:
 * the machine is shared). */
static void test_net_throughput(void)
{
    store_new();
    size_t big = 64u << 20;
    uint8_t *data = malloc(big);
    for (size_t i = 0; i < big; i++)
        data[i] = (uint8_t)(i ^ (i >> 11));
    put_file("big.bin", data, big, 0);
    i61_server *s = server_new(true);
    T_EQ_INT(i61_server_start(s, "127.0.0.1", 0), 0);
    i61_client *c = i61_client_new();
    T_EQ_INT(i61_client_connect(c, "127.0.0.1", i61_server_port(s)), 0);
    sink_state st = {1469598103934665603ull, 0, 0, NULL, 0};
    uint64_t t0 = i61_mono_ms();
    T_EQ_INT(i61_client_download(c, "big.bin", sink, &st, NULL, NULL, NULL), 0);
    uint64_t ms = i61_mono_ms() - t0;
    T_EQ_INT(st.got, big);
    T_EQ_INT(st.hash, fnv1a(data, big, 1469598103934665603ull));
    printf("64 MiB download from our server: %llu ms, %.0f MB/s\n", (unsigned long long)ms,
           ms ? (double)big / 1e6 / ((double)ms / 1000.0) : 0.0);
    i61_client_release(c);
    i61_client_free(c);
    i61_server_stop(s);
    i61_server_free(s);
    free(data);
    store_done();
}

T_MAIN(T_CASE(test_check_name), T_CASE(test_golden_directory_download_delete),
       T_CASE(test_golden_obtain_file), T_CASE(test_directory_recursive),
       T_CASE(test_directory_paging_small_pdu), T_CASE(test_read_chunks),
       T_CASE(test_sandbox), T_CASE(test_open_limit_and_cleanup), T_CASE(test_no_filestore),
       T_CASE(test_c_hook), T_CASE(test_queued_hook), T_CASE(test_obtain_errors),
       T_CASE(test_rename_delete_cases), T_CASE(test_net_end_to_end),
       T_CASE(test_net_throughput))
