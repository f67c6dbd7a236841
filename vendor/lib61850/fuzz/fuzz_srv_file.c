/* libFuzzer target: the server file store. The input is a script of
 * operations on two associations over a small store in a scratch directory
 * (files, a subdirectory, a link pointing out of the root, a file outside):
 * file requests built from fuzzed fields (names from a dictionary of good,
 * escaping and odd names, or raw octets with NUL/control characters; FRSM
 * ids, positions, continueAfter), raw MMS PDUs, answers of the "client" to
 * the server's ObtainFile requests (FileOpen/FileRead/FileClose responses,
 * errors, rejects, garbage, late or unknown invoke ids), hook changes and
 * answers (accept, deny, bad values, unknown tokens), clock steps (hook
 * timeouts, ObtainFile timeouts), limit changes, the store removed and put
 * back, and connection loss. Afterwards: nothing outside the root changed,
 * no temporary file is left, no descriptor leaked, the outstanding counts
 * never went negative, and everything is freed. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/server_internal.h"
#include "server/srv_file.h"
#include "mms/mms_file.h"
#include "mms/mms_pdu.h"
#include "net/loop.h"

static char i61_fz_dir[128];
static char i61_fz_root[160];
static char i61_fz_out[160];

static void i61_fz_write(const char *dir, const char *name, const char *text, size_t n)
{
    char p[320];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        abort();
    while (n > 0) {
        size_t k = n > 4096 ? 4096 : n;
        if (write(fd, text, k) != (ssize_t)k)
            abort();
        n -= k;
    }
    close(fd);
}

static void i61_fz_rm_tree(const char *path, int depth)
{
    DIR *d = opendir(path);
    if (d && depth < 20) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char p[1024];
            snprintf(p, sizeof p, "%s/%s", path, e->d_name);
            struct stat st;
            if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
                i61_fz_rm_tree(p, depth + 1);
            else
                unlink(p);
        }
    }
    if (d)
        closedir(d);
    rmdir(path);
}

static int i61_fz_count(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* The store: a.txt, big.bin (70000 octets), sub/n.txt, link -> outside. */
static void i61_fz_store(void)
{
    static char filler[4096];
    memset(filler, 'q', sizeof filler);
    i61_fz_rm_tree(i61_fz_root, 0);
    if (mkdir(i61_fz_root, 0755) != 0)
        abort();
    char p[320];
    snprintf(p, sizeof p, "%s/sub", i61_fz_root);
    if (mkdir(p, 0755) != 0)
        abort();
    i61_fz_write(i61_fz_root, "a.txt", "alpha\n", 6);
    i61_fz_write(i61_fz_root, "big.bin", filler, 70000);
    i61_fz_write(p, "n.txt", "nested", 6);
    snprintf(p, sizeof p, "%s/link", i61_fz_root);
    if (symlink(i61_fz_out, p) != 0)
        abort();
}

static void i61_fz_cleanup(void)
{
    i61_fz_rm_tree(i61_fz_dir, 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(i61_fz_dir, sizeof i61_fz_dir, "/tmp/i61_fuzz_srv_file_XXXXXX");
    if (!mkdtemp(i61_fz_dir))
        abort();
    snprintf(i61_fz_root, sizeof i61_fz_root, "%s/store", i61_fz_dir);
    snprintf(i61_fz_out, sizeof i61_fz_out, "%s/outside", i61_fz_dir);
    if (mkdir(i61_fz_out, 0755) != 0)
        abort();
    i61_fz_write(i61_fz_out, "secret", "secret", 6);
    atexit(i61_fz_cleanup);
    return 0;
}

static i61_model *i61_fz_model(void)
{
    i61_model *m = i61_model_new("IED1");
    i61_mnode *ld, *ln, *d;
    if (!m || i61_model_add_ld(m, "LD1", NULL, &ld) || i61_model_add_ln(ld, "LLN0", &ln) ||
        i61_model_add_do(ln, "Mod", &d) ||
        i61_model_add_da(d, "stVal", I61_FC_ST, I61_TYPE_INTEGER, 8, 0, NULL))
        abort();
    return m;
}

static void i61_fz_assoc(i61_sconn *c, i61_server *s, uint32_t id, uint32_t max_pdu)
{
    i61_sconn_init(c, s, id, false);
    c->state = I61_SC_ASSOCIATED;
    c->max_pdu = max_pdu;
    c->max_outstanding = 5;
    c->tpdu_size = 8192;
}

static const char *const i61_fz_names[] = {
    "a.txt", "big.bin", "sub/n.txt", "sub", "sub/", "/", "", "..", "../outside/secret",
    "/etc/passwd", "link", "link/secret", "sub/../a.txt", "new.txt", "sub/new.txt",
    "nodir/x", "a.txt/x", ".", "./a.txt", "sub//n.txt", ".i61-obtain-1-1.tmp", "a\\b",
};
#define I61_FZ_NNAMES (sizeof i61_fz_names / sizeof i61_fz_names[0])

/* A name: from the dictionary, or raw octets of the input. */
static const char *i61_fz_name(uint8_t sel, const uint8_t *data, size_t size, size_t *i,
                               char *buf, size_t cap, size_t *len)
{
    if (sel < 200 || *i >= size) {
        const char *n = i61_fz_names[sel % I61_FZ_NNAMES];
        *len = strlen(n);
        return n;
    }
    size_t n = data[(*i)++] % 40;
    if (n > size - *i)
        n = size - *i;
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, data + *i, n);
    buf[n] = '\0';
    *i += n;
    *len = n;
    return buf;
}

/* A FileName element (one GraphicString with exactly these octets). */
static void i61_fz_put_name(i61_buf *b, i61_ber_id tag, const char *n, size_t len)
{
    size_t m = i61_ber_open(b, tag);
    i61_ber_put_tlv(b, 0x19, n, len);
    i61_ber_close(b, m);
}

/* A name that could leave the root: absolute, a ".." component, a backslash. */
static bool i61_fz_escapes(const char *p)
{
    if (p[0] == '/' || strchr(p, '\\'))
        return true;
    for (const char *q = p; *q;) {
        const char *e = strchr(q, '/');
        size_t n = e ? (size_t)(e - q) : strlen(q);
        if (n == 2 && q[0] == '.' && q[1] == '.')
            return true;
        if (!e)
            break;
        q = e + 1;
    }
    return false;
}

static int i61_fz_hook_mode;
static uint64_t i61_fz_tokens[16];
static size_t i61_fz_ntok;

static int i61_fz_hook(void *ud, uint64_t token, uint32_t conn, int op, const char *path,
                       const char *new_path)
{
    (void)ud; (void)conn;
    if (!path || !new_path || op < I61_FILE_OP_OPEN || op > I61_FILE_OP_OBTAIN)
        abort();
    /* the sandbox runs before the hook: no name reaching it may escape */
    if ((op != I61_FILE_OP_OBTAIN && i61_fz_escapes(path)) || i61_fz_escapes(new_path))
        abort();
    switch (i61_fz_hook_mode % 4) {
    case 0: return I61_HOOK_ACCEPT;
    case 1: return I61_FILE_ERR_ACCESS_DENIED;
    case 2: return 42;                              /* a bad answer */
    default:
        if (i61_fz_ntok < 16)
            i61_fz_tokens[i61_fz_ntok++] = token;
        return I61_HOOK_DEFER;
    }
}

/* The invoke id of the last request the server sent on c (0 = none). */
static uint32_t i61_fz_last_request(i61_sconn *c, int32_t *frsm)
{
    uint32_t id = 0;
    size_t off = 0;
    while (off + 11 <= c->out.len) {
        size_t fl = (size_t)c->out.data[off + 2] << 8 | c->out.data[off + 3];
        if (fl < 11 || off + fl > c->out.len)
            break;
        const uint8_t *p = c->out.data + off + 11;
        size_t pl = fl - 11;
        /* presentation 61 L 30 L 02 01 03 a0 L <pdu>: find the a0 request */
        for (size_t k = 0; k + 2 < pl && k < 16; k++) {
            if (p[k] == 0x02 && p[k + 1] == 0x01 && p[k + 2] == 0x03 && k + 5 < pl) {
                i61_ber_tlv t;
                size_t used;
                if (i61_ber_parse(p + k + 3, pl - k - 3, &t, &used) == 0 && t.id == 0xa0) {
                    i61_mms_request rq;
                    if (i61_mms_dec_request(t.val, t.len, &rq) == 0) {
                        id = rq.invoke_id;
                        i61_mms_file_req fr;
                        memset(&fr, 0, sizeof fr);
                        if (i61_mms_dec_file_req(&rq, &fr) == 0)
                            *frsm = fr.frsm_id;
                        i61_mms_file_req_clear(&fr);
                    }
                }
                break;
            }
        }
        off += fl;
    }
    return id;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    i61_fz_store();
    int fds0 = i61_fz_count("/proc/self/fd");
    i61_server *s = i61_server_new(i61_fz_model());
    if (!s)
        return 0;
    if (i61_server_set_filestore(s, i61_fz_root) != 0)
        abort();
    i61_server_set_hook_timeout(s, 100);
    i61_server_set_event_queue_size(s, 4);
    i61_fz_hook_mode = 0;
    i61_fz_ntok = 0;
    i61_sconn c[2];
    bool live[2] = {true, true};
    uint32_t next_conn = 1;
    i61_fz_assoc(&c[0], s, next_conn++, 65000);
    i61_fz_assoc(&c[1], s, next_conn++, 512);
    uint64_t now = i61_mono_ms();
    uint32_t last_req[2] = {0, 0};
    int32_t last_frsm[2] = {0, 0};
    i61_buf b, body;
    i61_buf_init(&b);
    i61_buf_init(&body);
    char nb1[64], nb2[64];
    size_t i = 0;
    while (i + 4 <= size) {
        uint8_t op = data[i], a1 = data[i + 1], a2 = data[i + 2], a3 = data[i + 3];
        i += 4;
        int k = op & 1;
        i61_sconn *cc = &c[k];
        if (!live[k]) {
            i61_fz_assoc(cc, s, next_conn++, (a1 & 1) ? 512 : 65000);
            live[k] = true;
        }
        i61_buf_reset(&b);
        i61_buf_reset(&body);
        uint32_t id = 100 + a3;
        switch ((op >> 1) % 10) {
        case 0: case 1: case 2: {                 /* a file request from fields */
            size_t l1, l2;
            const char *n1 = i61_fz_name(a1, data, size, &i, nb1, sizeof nb1, &l1);
            const char *n2 = i61_fz_name(a2, data, size, &i, nb2, sizeof nb2, &l2);
            size_t m = i61_ber_open(&b, 0xa0);
            i61_ber_put_uint64(&b, 0x02, id);
            switch (a3 % 8) {
            case 0:                               /* FileDirectory */
                if (a2 & 1)
                    i61_fz_put_name(&body, 0xa0, n1, l1);
                if (a2 & 2)
                    i61_fz_put_name(&body, 0xa1, n2, l2);
                i61_ber_put_tlv(&b, 0xbf4d, body.data, body.len);
                break;
            case 1:                               /* FileOpen */
                i61_fz_put_name(&body, 0xa0, n1, l1);
                i61_ber_put_uint64(&body, 0x81, (a2 & 0x80) ? 69999u + (a2 & 3) : a2 & 7);
                i61_ber_put_tlv(&b, 0xbf48, body.data, body.len);
                break;
            case 2: case 3:                       /* FileRead */
                i61_ber_put_int64(&b, 0x9f49, (int64_t)(a2 % 10) - 1);
                break;
            case 4:                               /* FileClose */
                i61_ber_put_int64(&b, 0x9f4a, (int64_t)(a2 % 10) - 1);
                break;
            case 5:                               /* FileRename */
                i61_fz_put_name(&body, 0xa0, n1, l1);
                i61_fz_put_name(&body, 0xa1, n2, l2);
                i61_ber_put_tlv(&b, 0xbf4b, body.data, body.len);
                break;
            case 6:                               /* FileDelete */
                i61_ber_put_tlv(&body, 0x19, n1, l1);
                i61_ber_put_tlv(&b, 0xbf4c, body.data, body.len);
                break;
            default:                              /* ObtainFile */
                if (a2 & 0x40)
                    i61_fz_put_name(&body, 0xa0, "srv", 3);
                i61_fz_put_name(&body, 0xa1, n1, l1);
                i61_fz_put_name(&body, 0xa2, n2, l2);
                i61_ber_put_tlv(&b, 0xbf2e, body.data, body.len);
                break;
            }
            i61_ber_close(&b, m);
            if (!b.oom)
                i61_srv_mms_pdu(cc, b.data, b.len);
            break;
        }
        case 3: {                                 /* a raw PDU */
            size_t n = (size_t)a1 | (size_t)(a2 & 1) << 8;
            if (n > size - i)
                n = size - i;
            i61_srv_mms_pdu(cc, data + i, n);
            i += n;
            break;
        }
        case 4: case 5: {                         /* the client answers the server */
            int32_t fr = last_frsm[k];
            uint32_t rid = last_req[k];
            if (a3 & 0x80)
                rid = a3 & 7;                     /* a stale or unknown id */
            static uint8_t chunk[3000];
            memset(chunk, a2, sizeof chunk);
            switch (a1 % 7) {
            case 0:
                i61_mms_enc_file_open_resp(&b, rid, fr + (a2 & 1), a2 * 100u, (a2 & 2) ? -1 : 0);
                break;
            case 1: case 2:
                i61_mms_enc_file_read_resp(&b, rid, chunk, (size_t)a2 * 11u, a1 & 8);
                break;
            case 3:
                i61_mms_enc_file_null_resp(&b, rid, I61_MMS_SVC_FILE_CLOSE);
                break;
            case 4:
                i61_mms_enc_file_error(&b, rid, a2 % 12);
                break;
            case 5:
                i61_mms_enc_reject_pdu(&b, true, rid, 1 + a2 % 3, a2 % 5);
                break;
            default: {                            /* a response to the wrong service */
                size_t m = i61_ber_open(&b, 0xa1);
                i61_ber_put_uint64(&b, 0x02, rid);
                i61_ber_put_null(&b, 0x9f00u | (uint32_t)(a2 & 0x7f));
                i61_ber_close(&b, m);
                break;
            }
            }
            if (!b.oom)
                i61_srv_mms_pdu(cc, b.data, b.len);
            break;
        }
        case 6:                                   /* hooks */
            i61_fz_hook_mode = a1;
            if (a2 & 1)
                i61_server_set_file_hook(s, (a2 & 2) ? i61_fz_hook : NULL, NULL);
            else
                i61_server_set_queued_file_hook(s, (a2 & 2) != 0, NULL);
            break;
        case 7: {                                 /* answers, events, the clock */
            if (i61_fz_ntok > 0) {
                size_t t = a1 % i61_fz_ntok;
                int res = (a2 & 3) == 0 ? I61_HOOK_ACCEPT : (a2 & 3) == 1 ? a2 % 10 : 50;
                i61_server_complete_file(s, i61_fz_tokens[t] + ((a3 & 1) ? 1000 : 0), res);
            }
            i61_server_event *e = NULL;
            if (i61_server_next_event(s, 0, &e) == 0) {
                if (e->kind == I61_SEV_FILE && strlen(i61_server_event_file_path(e)) > 300)
                    abort();
                i61_server_complete_file(s, e->token, (a2 & 4) ? I61_HOOK_ACCEPT : 6);
                i61_server_event_free(e);
            }
            now += (uint64_t)(a3 & 0x3f) * 4;
            i61_srv_file_run(s, now);
            break;
        }
        case 8:                                   /* limits, the store itself */
            if (a1 & 1)
                i61_server_set_max_open_files(s, a2 % 4);
            if (a1 & 2)
                i61_server_set_filestore(s, (a2 & 1) ? NULL : i61_fz_root);
            break;
        default:                                  /* connection loss */
            i61_srv_conn_gone(s, cc);
            i61_sconn_free(cc);
            live[k] = false;
            break;
        }
        for (int j = 0; j < 2; j++) {
            if (!live[j])
                continue;
            if (c[j].outstanding < 0)
                abort();
            int32_t fr = last_frsm[j];
            uint32_t rid = i61_fz_last_request(&c[j], &fr);
            if (rid) {
                last_req[j] = rid;
                last_frsm[j] = fr;
            }
            if (c[j].out.len > 0)
                i61_sconn_consume_out(&c[j], c[j].out.len);
        }
    }
    for (int j = 0; j < 2; j++) {
        if (live[j]) {
            i61_srv_conn_gone(s, &c[j]);
            i61_sconn_free(&c[j]);
        }
    }
    i61_server_free(s);
    i61_buf_free(&b);
    i61_buf_free(&body);
    /* nothing outside changed, no temporary file, no descriptor left */
    if (i61_fz_count(i61_fz_out) != 3)
        abort();
    char sub[200];
    snprintf(sub, sizeof sub, "%s/sub", i61_fz_root);
    const char *dirs[2] = {i61_fz_root, sub};
    for (int j = 0; j < 2; j++) {
        DIR *d = opendir(dirs[j]);
        if (!d)
            continue;
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (!strncmp(e->d_name, I61_SRV_FILE_TMP_PREFIX, sizeof I61_SRV_FILE_TMP_PREFIX - 1))
                abort();
        closedir(d);
    }
    if (i61_fz_count("/proc/self/fd") != fds0)
        abort();
    return 0;
}
