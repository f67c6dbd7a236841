/* Client side of the control model against a scripted fake server on
 * loopback:
 *  - creating a control object: ctlModel read as golden 085/086, the Oper
 *    type as 053/054; models given; bad ctlModel, missing objects;
 *  - the golden control session replayed: direct operate (091/092),
 *    select-with-value (093/094), operate (095/096) and CommandTermination+
 *    (097), second select (098/099), cancel (100/101), operate on an
 *    unselected object refused with a LastApplError (105/106/107),
 *    direct-enhanced operate followed by CommandTermination- (102-104). Each
 *    request equals the golden one byte for byte once its T is the golden T;
 *  - sbo-normal select (SBO read), status-only and wrong-model commands
 *    (nothing sent), ctlNum sequences and wrap, constant T, Test and Check
 *    bits, time-activated operate, APC/INC/BSC control values adapted to the
 *    Oper type, LastApplErrors for other ctlNums, malformed control reports,
 *    the event queue bounds, interrupt, close, and a control object that
 *    outlives its client. */
#include "t.h"
#include "client/client_internal.h"
#include "iso/cotp.h"
#include "iso/iso_conn.h"
#include "mms/mms_control.h"
#include "mms/mms_data.h"
#include "mms/mms_pdu.h"
#include "net/sock.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ golden PDUs */

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

static int pdu_split(const uint8_t *pdu, size_t len, uint32_t *id, const uint8_t **rest,
                     size_t *rest_len)
{
    i61_ber_tlv t, c;
    i61_ber_reader r;
    if (i61_ber_parse(pdu, len, &t, NULL) != 0)
        return -1;
    i61_ber_reader_sub(&r, &t);
    if (i61_ber_next(&r, &c) != 0 || (c.id != 0x02 && c.id != 0x80))
        return -1;
    if (i61_ber_get_uint32(&c, id) != 0)
        return -1;
    *rest = c.val + c.len;
    *rest_len = (size_t)(t.val + t.len - *rest);
    return 0;
}

/* Offset of the (first) UtcTime "91 08" TLV in a PDU, or 0. */
static size_t utc_at(const uint8_t *p, size_t n, size_t from)
{
    for (size_t i = from; i + 10 <= n; i++)
        if (p[i] == 0x91 && p[i + 1] == 0x08)
            return i + 2;
    return 0;
}

/* Does request `pdu` equal golden request `golden` but for the invoke id and
 * the octets of its T (the last UtcTime: operTm would come first)? */
static int same_request_but_t(const uint8_t *pdu, size_t len, const char *golden)
{
    size_t gl;
    uint8_t *g = g_pdu(golden, &gl);
    size_t gt = 0, pt = 0;
    for (size_t o = utc_at(g, gl, 0); o; o = utc_at(g, gl, o))
        gt = o;
    for (size_t o = utc_at(pdu, len, 0); o; o = utc_at(pdu, len, o))
        pt = o;
    uint8_t *mine = malloc(len ? len : 1);
    memcpy(mine, pdu, len);
    if (gt && pt && pt + 8 <= len && gt + 8 <= gl)
        memcpy(mine + pt, g + gt, 8);
    uint32_t a, b;
    const uint8_t *ra, *rb;
    size_t la, lb;
    int ok = gt && pt && pdu_split(mine, len, &a, &ra, &la) == 0 &&
             pdu_split(g, gl, &b, &rb, &lb) == 0 && la == lb && memcmp(ra, rb, la) == 0;
    if (!ok) {
        fprintf(stderr, "request differs from %s:\n  got ", golden);
        for (size_t i = 0; i < len; i++) fprintf(stderr, "%02x", pdu[i]);
        fprintf(stderr, "\n  exp ");
        for (size_t i = 0; i < gl; i++) fprintf(stderr, "%02x", g[i]);
        fprintf(stderr, "\n");
    }
    free(mine);
    free(g);
    return ok;
}

static int same_request(const uint8_t *pdu, size_t len, const char *golden)
{
    size_t gl;
    uint8_t *g = g_pdu(golden, &gl);
    uint32_t a, b;
    const uint8_t *ra, *rb;
    size_t la, lb;
    int ok = pdu_split(pdu, len, &a, &ra, &la) == 0 && pdu_split(g, gl, &b, &rb, &lb) == 0 &&
             la == lb && memcmp(ra, rb, la) == 0;
    if (!ok) {
        fprintf(stderr, "request differs from %s\n", golden);
    }
    free(g);
    return ok;
}

/* ------------------------------------------------------------ fake server */

#define FS_MAX_STEPS 24
#define FS_MAX_REQ 32

typedef struct fs_pdu {
    uint8_t *p;
    size_t n;
} fs_pdu;

/* One scripted answer: unconfirmed PDUs before it, the answer (a response
 * template whose invoke id is patched; none = no answer), PDUs after it. */
typedef struct fs_step {
    fs_pdu pre[2];
    int npre;
    fs_pdu resp;
    fs_pdu post[2];
    int npost;
} fs_step;

typedef struct fs {
    int lfd, port, fd;
    pthread_t th;
    pthread_mutex_t mu;
    fs_step steps[FS_MAX_STEPS];
    int nsteps, next;
    uint8_t *req[FS_MAX_REQ];
    size_t req_len[FS_MAX_REQ];
    int nreq;
} fs;

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

static int read_frame(int fd, uint8_t *buf, size_t cap, int timeout_ms)
{
    if (read_exact(fd, buf, 4, timeout_ms) != 0)
        return -1;
    size_t n = (size_t)buf[2] << 8 | buf[3];
    if (n < 4 || n > cap || read_exact(fd, buf + 4, n - 4, timeout_ms) != 0)
        return -1;
    return (int)n;
}

static void fs_send(fs *s, const uint8_t *pdu, size_t len)
{
    i61_buf t, f;
    i61_buf_init(&t);
    i61_buf_init(&f);
    i61_iso_write_data_tsdu(&t, pdu, len);
    i61_cotp_write_data(&f, 8192, t.data, t.len, NULL, 0);
    pthread_mutex_lock(&s->mu);
    if (s->fd >= 0)
        write_all(s->fd, f.data, f.len);
    pthread_mutex_unlock(&s->mu);
    i61_buf_free(&t);
    i61_buf_free(&f);
}

static void fs_send_golden_frame(fs *s, const char *name)
{
    size_t n;
    uint8_t *g = t_golden(name, &n);
    pthread_mutex_lock(&s->mu);
    if (s->fd >= 0)
        write_all(s->fd, g, n);
    pthread_mutex_unlock(&s->mu);
    free(g);
}

static fs_pdu dup_pdu(const uint8_t *p, size_t n)
{
    fs_pdu d = { malloc(n ? n : 1), n };
    memcpy(d.p, p, n);
    return d;
}

/* Adds a step: resp (may be NULL), pre/post unconfirmed PDUs (NULL = none). */
static void fs_step_add(fs *s, const uint8_t *pre, size_t pren, const uint8_t *resp, size_t rn,
                        const uint8_t *post, size_t postn)
{
    pthread_mutex_lock(&s->mu);
    if (s->nsteps < FS_MAX_STEPS) {
        fs_step *st = &s->steps[s->nsteps++];
        memset(st, 0, sizeof *st);
        if (pre)
            st->pre[st->npre++] = dup_pdu(pre, pren);
        if (resp)
            st->resp = dup_pdu(resp, rn);
        if (post)
            st->post[st->npost++] = dup_pdu(post, postn);
    }
    pthread_mutex_unlock(&s->mu);
}

/* Step from golden names (NULL = none). */
static void fs_step_golden(fs *s, const char *pre, const char *resp, const char *post)
{
    size_t a = 0, b = 0, c = 0;
    uint8_t *pa = pre ? g_pdu(pre, &a) : NULL;
    uint8_t *pb = resp ? g_pdu(resp, &b) : NULL;
    uint8_t *pc = post ? g_pdu(post, &c) : NULL;
    fs_step_add(s, pa, a, pb, b, pc, c);
    free(pa);
    free(pb);
    free(pc);
}

static void fs_step_buf(fs *s, const i61_buf *pre, const i61_buf *resp, const i61_buf *post)
{
    fs_step_add(s, pre ? pre->data : NULL, pre ? pre->len : 0, resp ? resp->data : NULL,
                resp ? resp->len : 0, post ? post->data : NULL, post ? post->len : 0);
}

static void fs_on_request(fs *s, const uint8_t *pdu, size_t len)
{
    uint32_t id;
    const uint8_t *rest;
    size_t rl;
    if (pdu_split(pdu, len, &id, &rest, &rl) != 0)
        return;
    pthread_mutex_lock(&s->mu);
    if (s->nreq < FS_MAX_REQ) {
        s->req[s->nreq] = malloc(len);
        memcpy(s->req[s->nreq], pdu, len);
        s->req_len[s->nreq++] = len;
    }
    fs_step *st = s->next < s->nsteps ? &s->steps[s->next++] : NULL;
    pthread_mutex_unlock(&s->mu);
    if (!st)
        return;
    for (int i = 0; i < st->npre; i++)
        fs_send(s, st->pre[i].p, st->pre[i].n);
    if (st->resp.p) {
        uint32_t old;
        const uint8_t *r2;
        size_t l2;
        i61_buf b;
        i61_buf_init(&b);
        if (pdu_split(st->resp.p, st->resp.n, &old, &r2, &l2) == 0) {
            size_t m = i61_ber_open(&b, st->resp.p[0]);
            i61_ber_put_uint64(&b, st->resp.p[0] == 0xa2 ? 0x80 : 0x02, id);
            i61_buf_put(&b, r2, l2);
            i61_ber_close(&b, m);
            fs_send(s, b.data, b.len);
        }
        i61_buf_free(&b);
    }
    for (int i = 0; i < st->npost; i++)
        fs_send(s, st->post[i].p, st->post[i].n);
}

static void fs_serve(fs *s, int fd)
{
    uint8_t *buf = malloc(70000);
    i61_cotp_reasm ra;
    i61_cotp_reasm_init(&ra, 70000);
    for (;;) {
        int n = read_frame(fd, buf, 70000, 10000);
        if (n < 0)
            break;
        i61_cotp_tpdu t;
        if (i61_cotp_decode(buf + 4, (size_t)n - 4, &t) != I61_OK)
            break;
        if (t.code == I61_COTP_CR) {
            fs_send_golden_frame(s, "002_cotp_cc");
            continue;
        }
        if (t.code != I61_COTP_DT)
            break;
        const uint8_t *tsdu;
        size_t tl;
        int rr = i61_cotp_reasm_push(&ra, t.data, t.data_len, t.eot, &tsdu, &tl);
        if (rr < 0)
            break;
        if (rr == 0)
            continue;
        i61_iso_ind ind;
        if (i61_iso_decode_tsdu(tsdu, tl, &ind) != I61_OK)
            break;
        if (ind.type == I61_ISO_IND_CONNECT) {
            fs_send_golden_frame(s, "004_initiate_response");
            continue;
        }
        if (ind.type == I61_ISO_IND_RELEASE_REQUEST) {
            fs_send_golden_frame(s, "137_release_rlre");
            break;
        }
        if (ind.type != I61_ISO_IND_DATA || ind.pdu_len < 2)
            break;
        if (ind.pdu[0] == 0x8b) {
            fs_send_golden_frame(s, "135_conclude_response");
            continue;
        }
        if (ind.pdu[0] == 0xa0)
            fs_on_request(s, ind.pdu, ind.pdu_len);
    }
    i61_cotp_reasm_free(&ra);
    free(buf);
}

static void *fs_main(void *arg)
{
    fs *s = arg;
    struct pollfd pf = { s->lfd, POLLIN, 0 };
    if (poll(&pf, 1, 10000) == 1) {
        int fd = accept(s->lfd, NULL, NULL);
        if (fd >= 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            pthread_mutex_lock(&s->mu);
            s->fd = fd;
            pthread_mutex_unlock(&s->mu);
            fs_serve(s, fd);
            pthread_mutex_lock(&s->mu);
            s->fd = -1;
            pthread_mutex_unlock(&s->mu);
            close(fd);
        }
    }
    return NULL;
}

static void fs_start(fs *s)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    pthread_mutex_init(&s->mu, NULL);
    T_EQ_INT(i61_sock_listen("127.0.0.1", 0, 4, &s->lfd, &s->port), 0);
    pthread_create(&s->th, NULL, fs_main, s);
}

static void fs_drop(fs *s)
{
    pthread_mutex_lock(&s->mu);
    if (s->fd >= 0)
        shutdown(s->fd, SHUT_RDWR);
    pthread_mutex_unlock(&s->mu);
}

static void fs_stop(fs *s)
{
    fs_drop(s);
    pthread_join(s->th, NULL);
    close(s->lfd);
    for (int i = 0; i < s->nsteps; i++) {
        fs_step *st = &s->steps[i];
        for (int k = 0; k < st->npre; k++)
            free(st->pre[k].p);
        for (int k = 0; k < st->npost; k++)
            free(st->post[k].p);
        free(st->resp.p);
    }
    for (int i = 0; i < s->nreq; i++)
        free(s->req[i]);
    pthread_mutex_destroy(&s->mu);
}

static int fs_nreq(fs *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->nreq;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* Request i (borrowed; the server only appends). */
static const uint8_t *fs_req(fs *s, int i, size_t *len)
{
    pthread_mutex_lock(&s->mu);
    const uint8_t *p = i < s->nreq ? s->req[i] : NULL;
    *len = i < s->nreq ? s->req_len[i] : 0;
    pthread_mutex_unlock(&s->mu);
    return p;
}

static int fs_req_is(fs *s, int i, const char *golden)
{
    size_t n;
    const uint8_t *p = fs_req(s, i, &n);
    return p && same_request(p, n, golden);
}

static int fs_req_is_but_t(fs *s, int i, const char *golden)
{
    size_t n;
    const uint8_t *p = fs_req(s, i, &n);
    return p && same_request_but_t(p, n, golden);
}

/* The item written by request i and the written command, parsed. *val: the
 * whole written value (caller frees). */
static int fs_written(fs *s, int i, char *item, i61_value **val, i61_ctl_cmd *cmd)
{
    size_t n;
    const uint8_t *p = fs_req(s, i, &n);
    *val = NULL;
    if (!p)
        return -1;
    i61_mms_request rq;
    i61_mms_access_spec spec;
    i61_value **wv = NULL;
    size_t nv = 0;
    if (i61_mms_dec_request(p, n, &rq) != I61_OK || rq.service != I61_MMS_SVC_WRITE ||
        i61_mms_dec_write_req(&rq, &spec, &wv, &nv) != I61_OK)
        return -1;
    int rc = -1;
    if (nv == 1 && spec.n_vars == 1) {
        strcpy(item, spec.vars[0].name.item);
        *val = wv[0];
        wv[0] = NULL;
        rc = i61_ctl_parse(*val, cmd) == I61_OK ? 0 : -1;
    }
    i61_mms_values_free(wv, nv);
    i61_mms_access_spec_clear(&spec);
    return rc;
}

static i61_client *connect_client(fs *s)
{
    i61_client *c = i61_client_new();
    T_CHECK(c != NULL);
    i61_client_set_request_timeout(c, 3000);
    T_EQ_INT(i61_client_connect(c, "127.0.0.1", s->port), I61_OK);
    return c;
}

/* ------------------------------------------------------------ answers */

static void resp_write(i61_buf *b, int dae)
{
    i61_buf_reset(b);
    T_EQ_INT(i61_mms_enc_write_resp(b, 1, &dae, 1), I61_OK);
}

static void resp_read(i61_buf *b, i61_value *v)
{
    i61_buf_reset(b);
    const i61_value *vals[1] = { v };
    T_EQ_INT(i61_mms_enc_read_resp(b, 1, NULL, vals, 1), I61_OK);
    i61_value_free(v);
}

/* GVAA answer: an Oper structure with ctlVal of type cv (taken) and
 * optionally operTm. */
static void resp_oper_type(i61_buf *b, i61_typespec *cv, bool oper_tm, bool check)
{
    size_t n = 5 + (oper_tm ? 1 : 0) + (check ? 1 : 0), k = 0;
    i61_typespec *s = i61_typespec_new_structure(n);
    i61_typespec_set_component(s, k++, "ctlVal", cv);
    if (oper_tm)
        i61_typespec_set_component(s, k++, "operTm", i61_typespec_new(I61_TYPE_UTC_TIME, 0));
    i61_typespec *o = i61_typespec_new_structure(2);
    i61_typespec_set_component(o, 0, "orCat", i61_typespec_new(I61_TYPE_INTEGER, 8));
    i61_typespec_set_component(o, 1, "orIdent", i61_typespec_new(I61_TYPE_OCTET_STRING, -64));
    i61_typespec_set_component(s, k++, "origin", o);
    i61_typespec_set_component(s, k++, "ctlNum", i61_typespec_new(I61_TYPE_UNSIGNED, 8));
    i61_typespec_set_component(s, k++, "T", i61_typespec_new(I61_TYPE_UTC_TIME, 0));
    i61_typespec_set_component(s, k++, "Test", i61_typespec_new(I61_TYPE_BOOLEAN, 0));
    if (check)
        i61_typespec_set_component(s, k++, "Check", i61_typespec_new(I61_TYPE_BIT_STRING, 2));
    i61_buf_reset(b);
    T_EQ_INT(i61_mms_enc_gvaa_resp(b, 1, false, s), I61_OK);
    i61_typespec_free(s);
}

static void lae_pdu(i61_buf *b, const char *obj, int ctl_num, int add_cause)
{
    i61_last_appl_error e;
    memset(&e, 0, sizeof e);
    snprintf(e.control_object, sizeof e.control_object, "%s", obj);
    e.or_cat = 3;
    e.ctl_num = ctl_num;
    e.add_cause = add_cause;
    i61_buf_reset(b);
    T_EQ_INT(i61_mms_encode_last_appl_error(b, &e), I61_OK);
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static void gold_origin(i61_control *ctl)
{
    T_EQ_INT(i61_control_set_origin(ctl, I61_OR_CAT_REMOTE_CONTROL,
                                    (const uint8_t *)"gold-client", 11), I61_OK);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ------------------------------------------------------------ creation */

/* ctlModel read (085/086), then the Oper type; direct operate 091/092. */
static void test_direct_normal_golden(void)
{
    fs s;
    fs_start(&s);
    fs_step_golden(&s, NULL, "086_read_ctlmodel_response", NULL);
    fs_step_golden(&s, NULL, "054_gvaa_oper_response", NULL);
    fs_step_golden(&s, NULL, "092_operate_direct_response", NULL);
    i61_client *c = connect_client(&s);
    i61_control *ctl = NULL;
    T_EQ_INT(i61_client_control_new(c, "IED1LD1/GGIO1.SPCSO1", -1, &ctl), I61_OK);
    T_CHECK(ctl != NULL);
    T_CHECK(fs_req_is(&s, 0, "085_read_ctlmodel_request"));
    T_EQ_INT(i61_control_model(ctl), I61_CTL_DIRECT_NORMAL);
    T_CHECK(strcmp(i61_control_reference(ctl), "IED1LD1/GGIO1.SPCSO1") == 0);
    T_EQ_INT(i61_typespec_kind(i61_control_ctl_val_type(ctl)), I61_TYPE_BOOLEAN);
    T_EQ_INT(i61_control_has_oper_tm(ctl), 0);
    T_EQ_INT(i61_control_has_check(ctl), 1);
    T_EQ_INT(i61_control_ctl_num(ctl), 0);
    gold_origin(ctl);
    i61_value *on = i61_value_new_boolean(1);
    uint64_t before = now_ms();
    T_EQ_INT(i61_control_operate(ctl, on, 0), I61_OK);
    uint64_t after = now_ms();
    T_EQ_INT(i61_control_last_error(ctl), I61_OK);
    T_CHECK(strcmp(i61_control_last_error_text(ctl), "") == 0);
    T_EQ_INT(i61_control_ctl_num(ctl), 1);
    T_CHECK(fs_req_is_but_t(&s, 2, "091_operate_direct_request"));
    char item[200];
    i61_value *w;
    i61_ctl_cmd cmd;
    T_EQ_INT(fs_written(&s, 2, item, &w, &cmd), 0);
    uint64_t t = i61_utc_time_to_ms(cmd.t);
    T_CHECK(t + 1 >= before && t <= after + 1);   /* T = the time of sending */
    T_EQ_INT(cmd.t[7], 0);
    i61_value_free(w);
    i61_value_free(on);
    i61_control_free(ctl);
    i61_client_free(c);
    fs_stop(&s);
}

static void test_create_errors(void)
{
    fs s;
    fs_start(&s);
    i61_buf b;
    i61_buf_init(&b);
    resp_read(&b, i61_value_new_integer(7));            /* not a control model */
    fs_step_buf(&s, NULL, &b, NULL);
    resp_read(&b, i61_value_new_data_access_error(10));  /* object-non-existent */
    fs_step_buf(&s, NULL, &b, NULL);
    resp_read(&b, i61_value_new_integer(4));            /* sbo-enhanced ... */
    fs_step_buf(&s, NULL, &b, NULL);
    i61_buf_reset(&b);                                  /* ... but Oper is no structure */
    i61_typespec *bt = i61_typespec_new(I61_TYPE_BOOLEAN, 0);
    T_EQ_INT(i61_mms_enc_gvaa_resp(&b, 1, false, bt), I61_OK);
    i61_typespec_free(bt);
    fs_step_buf(&s, NULL, &b, NULL);
    /* model given and the GVAA refused: default layout */
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_error_pdu(&b, 1, I61_MMS_ERRCLASS_ACCESS, 2), I61_OK);
    fs_step_buf(&s, NULL, &b, NULL);
    i61_client *c = connect_client(&s);
    i61_control *ctl = (i61_control *)&b;
    T_EQ_INT(i61_client_control_new(c, "IED1LD1/GGIO1.SPCSO1", -1, &ctl),
             I61_ERR_UNEXPECTED_VALUE);
    T_CHECK(ctl == NULL);
    T_CHECK(strstr(i61_client_last_error_text(c), "ctlModel") != NULL);
    T_EQ_INT(i61_client_control_new(c, "IED1LD1/GGIO1.NOPE", -1, &ctl),
             I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_CHECK(strstr(i61_client_last_error_text(c), "ctlModel") != NULL);
    T_EQ_INT(i61_client_control_new(c, "IED1LD1/GGIO1.SPCSO2", -1, &ctl),
             I61_ERR_UNEXPECTED_VALUE);
    T_CHECK(strstr(i61_client_last_error_text(c), "Oper") != NULL);
    T_EQ_INT(fs_nreq(&s), 4);
    T_EQ_INT(i61_client_control_new(c, "IED1LD1/GGIO1.SPCSO2", I61_CTL_SBO_ENHANCED, &ctl),
             I61_OK);
    T_EQ_INT(fs_nreq(&s), 5);
    T_CHECK(i61_control_ctl_val_type(ctl) == NULL);
    T_EQ_INT(i61_control_has_check(ctl), 1);
    i61_control_free(ctl);
    /* bad references and models: nothing sent */
    T_EQ_INT(i61_client_control_new(c, "no-slash", 1, &ctl), I61_ERR_OBJECT_REFERENCE_INVALID);
    T_EQ_INT(i61_client_control_new(c, "LD/LN", 1, &ctl), I61_ERR_OBJECT_REFERENCE_INVALID);
    T_EQ_INT(i61_client_control_new(c, "LD/LN$ST$DO", 1, &ctl), I61_ERR_OBJECT_REFERENCE_INVALID);
    T_EQ_INT(i61_client_control_new(c, "LD/LN.DO", 5, &ctl), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_client_control_new(c, NULL, 1, &ctl), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_client_control_new(c, "LD/LN.DO", 1, NULL), I61_ERR_INVALID_ARGUMENT);
    /* status-only given: nothing read */
    T_EQ_INT(i61_client_control_new(c, "IED1LD1/GGIO1$CO$SPCSO5", I61_CTL_STATUS_ONLY, &ctl),
             I61_OK);
    T_CHECK(strcmp(i61_control_reference(ctl), "IED1LD1/GGIO1.SPCSO5") == 0);
    T_EQ_INT(fs_nreq(&s), 5);
    i61_value *on = i61_value_new_boolean(1);
    T_EQ_INT(i61_control_operate(ctl, on, 0), I61_ERR_SERVICE_NOT_SUPPORTED);
    T_CHECK(strstr(i61_control_last_error_text(ctl), "status-only") != NULL);
    T_CHECK(strstr(i61_client_last_error_text(c), "status-only") != NULL);
    T_EQ_INT(i61_control_select(ctl), I61_ERR_SERVICE_NOT_SUPPORTED);
    T_EQ_INT(i61_control_select_with_value(ctl, on), I61_ERR_SERVICE_NOT_SUPPORTED);
    T_EQ_INT(i61_control_cancel(ctl), I61_ERR_SERVICE_NOT_SUPPORTED);
    T_EQ_INT(fs_nreq(&s), 5);
    i61_control_free(ctl);
    i61_value_free(on);
    i61_buf_free(&b);
    i61_client_free(c);
    fs_stop(&s);
}

/* ------------------------------------------------------------ the golden session */

static int next_event(i61_client *c, i61_ctl_event **e)
{
    size_t n = 0;
    *e = NULL;
    int rc = i61_client_next_control_events(c, 3000, e, 1, &n);
    if (rc == I61_OK)
        T_EQ_INT(n, 1);
    return rc;
}

static void test_sbo_enhanced_golden(void)
{
    fs s;
    fs_start(&s);
    fs_step_golden(&s, NULL, "054_gvaa_oper_response", NULL);
    fs_step_golden(&s, NULL, "094_select_sbow_response", NULL);
    fs_step_golden(&s, NULL, "096_operate_sbo_response", "097_cmdterm_positive_report");
    fs_step_golden(&s, NULL, "099_select_sbow_2_response", NULL);
    fs_step_golden(&s, NULL, "101_cancel_response", NULL);
    fs_step_golden(&s, "106_lastapplerror_report", "107_operate_unselected_response", NULL);
    i61_client *c = connect_client(&s);
    i61_control *ctl = NULL;
    T_EQ_INT(i61_client_control_new(c, "IED1LD1/GGIO1.SPCSO2", I61_CTL_SBO_ENHANCED, &ctl),
             I61_OK);
    T_CHECK(fs_req_is(&s, 0, "053_gvaa_oper_request"));
    gold_origin(ctl);
    i61_value *on = i61_value_new_boolean(1), *off = i61_value_new_boolean(0);
    i61_last_appl_error e;
    T_EQ_INT(i61_control_last_appl_error(ctl, &e), 0);

    T_EQ_INT(i61_control_select_with_value(ctl, on), I61_OK);
    T_CHECK(fs_req_is_but_t(&s, 1, "093_select_sbow_request"));
    T_EQ_INT(i61_control_operate(ctl, on, 0), I61_OK);
    T_CHECK(fs_req_is_but_t(&s, 2, "095_operate_sbo_request"));
    T_EQ_INT(i61_control_ctl_num(ctl), 1);

    i61_ctl_event *ev;
    T_EQ_INT(next_event(c, &ev), I61_OK);
    T_CHECK(ev != NULL);
    if (ev) {
        T_CHECK(strcmp(i61_ctl_event_reference(ev), "IED1LD1/GGIO1.SPCSO2") == 0);
        T_EQ_INT(i61_ctl_event_success(ev), 1);
        T_EQ_INT(i61_ctl_event_ctl_num(ev), 1);
        T_EQ_INT(i61_ctl_event_add_cause(ev), 0);
        T_EQ_INT(i61_ctl_event_last_appl_error(ev, &e), 0);
        int b = -1;
        T_EQ_INT(i61_value_get_boolean(i61_ctl_event_ctl_val(ev), &b), I61_OK);
        T_EQ_INT(b, 1);
        T_EQ_INT(i61_value_count(i61_ctl_event_oper(ev)), 6);
        i61_ctl_event_free(ev);
    }
    /* CommandTermination+ leaves "no error" as the last application error */
    T_EQ_INT(i61_control_last_appl_error(ctl, &e), 1);
    T_EQ_INT(e.error, 0);
    T_EQ_INT(e.add_cause, 0);
    T_EQ_INT(e.ctl_num, 1);
    T_EQ_INT(e.or_cat, 3);

    T_EQ_INT(i61_control_select_with_value(ctl, off), I61_OK);
    T_CHECK(fs_req_is_but_t(&s, 3, "098_select_sbow_2_request"));
    T_EQ_INT(i61_control_cancel(ctl), I61_OK);
    T_CHECK(fs_req_is_but_t(&s, 4, "100_cancel_request"));

    /* operate after the cancel: refused, LastApplError first */
    T_EQ_INT(i61_control_operate(ctl, off, 0), I61_ERR_ACCESS_DENIED);
    T_CHECK(fs_req_is_but_t(&s, 5, "105_operate_unselected_request"));
    T_EQ_INT(i61_control_last_error(ctl), I61_ERR_ACCESS_DENIED);
    T_EQ_INT(i61_control_op_appl_error(ctl, &e), 1);
    T_EQ_INT(e.add_cause, I61_ADD_CAUSE_OBJECT_NOT_SELECTED);
    T_EQ_INT(e.ctl_num, 2);
    T_CHECK(strcmp(e.control_object, "IED1LD1/GGIO1$CO$SPCSO2$Oper") == 0);
    T_CHECK(strstr(i61_control_last_error_text(ctl), "object-not-selected") != NULL);
    T_CHECK(strstr(i61_control_last_error_text(ctl), "operate IED1LD1/GGIO1.SPCSO2") != NULL);
    T_EQ_INT(i61_control_last_appl_error(ctl, &e), 1);
    T_EQ_INT(e.add_cause, 18);
    /* no CommandTermination for any of that */
    size_t n = 9;
    T_EQ_INT(i61_client_next_control_events(c, 0, &ev, 1, &n), I61_ERR_TIMEOUT);
    T_EQ_INT(n, 0);
    i61_value_free(on);
    i61_value_free(off);
    i61_control_free(ctl);
    i61_client_free(c);
    fs_stop(&s);
}

static void test_direct_enhanced_cmdterm_negative(void)
{
    fs s;
    fs_start(&s);
    for (int i = 0; i < 3; i++)
        fs_step_golden(&s, NULL, "054_gvaa_oper_response", NULL);
    fs_step_golden(&s, NULL, "103_operate_direct_enh_response", "104_cmdterm_negative_report");
    fs_step_golden(&s, NULL, "103_operate_direct_enh_response", "104_cmdterm_negative_report");
    i61_client *c = connect_client(&s);
    i61_control *ctl = NULL, *other = NULL, *twin = NULL;
    T_EQ_INT(i61_client_control_new(c, "IED1LD1/GGIO1.SPCSO3", I61_CTL_DIRECT_ENHANCED, &ctl),
             I61_OK);
    T_EQ_INT(i61_client_control_new(c, "IED1LD1/GGIO1.SPCSO4", I61_CTL_DIRECT_ENHANCED, &other),
             I61_OK);
    T_EQ_INT(i61_client_control_new(c, "IED1LD1/GGIO1$CO$SPCSO3", I61_CTL_DIRECT_ENHANCED,
                                    &twin), I61_OK);
    gold_origin(ctl);
    i61_value *on = i61_value_new_boolean(1);
    T_EQ_INT(i61_control_operate(ctl, on, 0), I61_OK);     /* accepted; failure comes later */
    T_CHECK(fs_req_is_but_t(&s, 3, "102_operate_direct_enh_request"));
    i61_ctl_event *ev;
    T_EQ_INT(next_event(c, &ev), I61_OK);
    if (ev) {
        T_EQ_INT(i61_ctl_event_success(ev), 0);
        T_CHECK(strcmp(i61_ctl_event_reference(ev), "IED1LD1/GGIO1.SPCSO3") == 0);
        i61_last_appl_error e;
        T_EQ_INT(i61_ctl_event_last_appl_error(ev, &e), 1);
        T_CHECK(strcmp(e.control_object, "IED1LD1/GGIO1$CO$SPCSO3$Oper") == 0);
        T_EQ_INT(e.ctl_num, 1);
        T_EQ_INT(i61_ctl_event_add_cause(ev), 0);
        T_EQ_INT(i61_ctl_event_ctl_num(ev), 1);
        i61_ctl_event_free(ev);
    }
    i61_last_appl_error e;
    T_EQ_INT(i61_control_last_appl_error(ctl, &e), 1);    /* routed to both SPCSO3 objects */
    T_EQ_INT(i61_control_last_appl_error(twin, &e), 1);
    T_EQ_INT(i61_control_last_appl_error(other, &e), 0);  /* not to SPCSO4 */
    T_EQ_INT(i61_control_op_appl_error(ctl, &e), 0);      /* the operation itself succeeded */
    /* events without any control object are queued too */
    i61_control_free(ctl);
    i61_control_free(twin);
    T_EQ_INT(i61_control_operate(other, on, 0), I61_OK);
    T_EQ_INT(next_event(c, &ev), I61_OK);
    T_CHECK(ev && strcmp(i61_ctl_event_reference(ev), "IED1LD1/GGIO1.SPCSO3") == 0);
    i61_ctl_event_free(ev);
    i61_control_free(other);
    i61_value_free(on);
    i61_client_free(c);
    fs_stop(&s);
}

/* ------------------------------------------------------------ sbo-normal */

static void test_sbo_normal_select(void)
{
    fs s;
    fs_start(&s);
    i61_buf b, pre;
    i61_buf_init(&b);
    i61_buf_init(&pre);
    resp_oper_type(&b, i61_typespec_new(I61_TYPE_BOOLEAN, 0), false, true);
    fs_step_buf(&s, NULL, &b, NULL);
    resp_read(&b, i61_value_new_visible_string("IED1LD1/GGIO1$CO$SPCSO2"));
    fs_step_buf(&s, NULL, &b, NULL);
    resp_write(&b, -1);
    fs_step_buf(&s, NULL, &b, NULL);
    resp_read(&b, i61_value_new_visible_string(""));        /* refused */
    fs_step_buf(&s, NULL, &b, NULL);
    resp_read(&b, i61_value_new_data_access_error(3));       /* refused otherwise */
    lae_pdu(&pre, "IED1LD1/GGIO1$CO$SPCSO2$SBO", 0, I61_ADD_CAUSE_OBJECT_ALREADY_SELECTED);
    fs_step_buf(&s, &pre, &b, NULL);
    resp_read(&b, i61_value_new_integer(1));                 /* not a string */
    fs_step_buf(&s, NULL, &b, NULL);
    i61_client *c = connect_client(&s);
    i61_control *ctl = NULL;
    T_EQ_INT(i61_client_control_new(c, "IED1LD1/GGIO1.SPCSO2", I61_CTL_SBO_NORMAL, &ctl), I61_OK);
    i61_value *on = i61_value_new_boolean(1);
    T_EQ_INT(i61_control_select_with_value(ctl, on), I61_ERR_INVALID_ARGUMENT);
    T_CHECK(strstr(i61_control_last_error_text(ctl), "use select") != NULL);
    T_EQ_INT(fs_nreq(&s), 1);
    T_EQ_INT(i61_control_select(ctl), I61_OK);
    T_EQ_INT(i61_control_ctl_num(ctl), 1);
    size_t n;
    const uint8_t *p = fs_req(&s, 1, &n);
    static const char sbo[] = "GGIO1$CO$SPCSO2$SBO";
    T_CHECK(p && n > sizeof sbo && memcmp(p + n - (sizeof sbo - 1), sbo, sizeof sbo - 1) == 0);
    T_EQ_INT(i61_control_operate(ctl, on, 0), I61_OK);
    char item[200];
    i61_value *w;
    i61_ctl_cmd cmd;
    T_EQ_INT(fs_written(&s, 2, item, &w, &cmd), 0);
    T_CHECK(strcmp(item, "GGIO1$CO$SPCSO2$Oper") == 0);
    T_EQ_INT(cmd.ctl_num, 1);                    /* the select's sequence */
    i61_value_free(w);
    T_EQ_INT(i61_control_select(ctl), I61_ERR_ACCESS_DENIED);
    T_CHECK(strstr(i61_control_last_error_text(ctl), "empty") != NULL);
    T_EQ_INT(i61_control_op_appl_error(ctl, NULL), 0);
    T_EQ_INT(i61_control_select(ctl), I61_ERR_ACCESS_DENIED);
    i61_last_appl_error e;
    T_EQ_INT(i61_control_op_appl_error(ctl, &e), 1);
    T_EQ_INT(e.add_cause, I61_ADD_CAUSE_OBJECT_ALREADY_SELECTED);
    T_EQ_INT(i61_control_select(ctl), I61_ERR_UNEXPECTED_VALUE);
    T_EQ_INT(i61_control_ctl_num(ctl), 4);
    i61_value_free(on);
    i61_buf_free(&b);
    i61_buf_free(&pre);
    i61_control_free(ctl);
    i61_client_free(c);
    fs_stop(&s);
}

/* ------------------------------------------------------------ parameters */

static void test_ctl_num_t_flags(void)
{
    fs s;
    fs_start(&s);
    i61_buf b;
    i61_buf_init(&b);
    resp_oper_type(&b, i61_typespec_new(I61_TYPE_BOOLEAN, 0), false, true);
    fs_step_buf(&s, NULL, &b, NULL);
    resp_write(&b, -1);
    for (int i = 0; i < 5; i++)
        fs_step_buf(&s, NULL, &b, NULL);
    resp_oper_type(&b, i61_typespec_new(I61_TYPE_BOOLEAN, 0), false, true);
    fs_step_buf(&s, NULL, &b, NULL);
    resp_write(&b, -1);
    for (int i = 0; i < 3; i++)
        fs_step_buf(&s, NULL, &b, NULL);
    i61_client *c = connect_client(&s);
    i61_control *ctl = NULL;
    T_EQ_INT(i61_client_control_new(c, "IED1LD1/GGIO1.SPCSO1", I61_CTL_DIRECT_NORMAL, &ctl),
             I61_OK);
    i61_value *on = i61_value_new_boolean(1);
    T_EQ_INT(i61_control_set_ctl_num(ctl, 256), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_control_set_ctl_num(ctl, 254), I61_OK);
    i61_control_set_test(ctl, 1);
    i61_control_set_synchro_check(ctl, 1);
    T_EQ_INT(i61_control_operate(ctl, on, 0), I61_OK);
    i61_control_set_test(ctl, 0);
    i61_control_set_synchro_check(ctl, 0);
    i61_control_set_interlock_check(ctl, 1);
    T_EQ_INT(i61_control_operate(ctl, on, 0), I61_OK);
    T_EQ_INT(i61_control_operate(ctl, on, 0), I61_OK);
    T_EQ_INT(i61_control_ctl_num(ctl), 0);
    uint8_t big[65] = { 0 };
    T_EQ_INT(i61_control_set_origin(ctl, 1, big, 65), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_control_set_origin(ctl, I61_OR_CAT_MAINTENANCE, (const uint8_t *)"\0x\xff", 3),
             I61_OK);
    T_EQ_INT(i61_control_operate(ctl, on, 0), I61_OK);
    /* time-activated operate without operTm: refused locally */
    T_EQ_INT(i61_control_operate(ctl, on, 1700000000000ull), I61_ERR_INVALID_ARGUMENT);
    T_CHECK(strstr(i61_control_last_error_text(ctl), "operTm") != NULL);
    /* cancel on a direct object: sends Cancel with the last value */
    T_EQ_INT(i61_control_cancel(ctl), I61_OK);
    /* select on a direct model: refused locally */
    T_EQ_INT(i61_control_select(ctl), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(fs_nreq(&s), 6);

    int want_num[] = { 254, 255, 0, 1, 1 };
    for (int i = 0; i < 5; i++) {
        char item[200];
        i61_value *w;
        i61_ctl_cmd cmd;
        T_EQ_INT(fs_written(&s, 1 + i, item, &w, &cmd), 0);
        T_EQ_INT(cmd.ctl_num, want_num[i]);
        T_EQ_INT(cmd.test, i == 0);
        T_EQ_INT(cmd.synchro_check, i == 0);
        T_EQ_INT(cmd.interlock_check, i > 0 && i < 4);
        T_EQ_INT(cmd.has_check, i < 4);
        T_CHECK(strcmp(item, i < 4 ? "GGIO1$CO$SPCSO1$Oper" : "GGIO1$CO$SPCSO1$Cancel") == 0);
        if (i >= 3) {
            T_EQ_INT(cmd.or_cat, 7);
            T_EQ_MEM(cmd.or_ident, cmd.or_ident_len, "\0x\xff", 3);
        } else {
            T_EQ_INT(cmd.or_cat, 0);
            T_EQ_INT(cmd.or_ident_len, 0);
        }
        i61_value_free(w);
    }

    /* constant T: the select's T is reused by its operate and cancel */
    i61_control *sbo = NULL;
    T_EQ_INT(i61_client_control_new(c, "IED1LD1/GGIO1.SPCSO4", I61_CTL_SBO_ENHANCED, &sbo), I61_OK);
    i61_control_use_constant_t(sbo, 1);
    T_EQ_INT(i61_control_select_with_value(sbo, on), I61_OK);
    sleep_ms(20);
    T_EQ_INT(i61_control_operate(sbo, on, 0), I61_OK);
    sleep_ms(20);
    T_EQ_INT(i61_control_cancel(sbo), I61_OK);
    uint8_t t0[8] = { 0 };
    for (int i = 0; i < 3; i++) {
        char item[200];
        i61_value *w;
        i61_ctl_cmd cmd;
        T_EQ_INT(fs_written(&s, 7 + i, item, &w, &cmd), 0);
        T_EQ_INT(cmd.ctl_num, 1);
        if (i == 0)
            memcpy(t0, cmd.t, 8);
        else
            T_EQ_MEM(cmd.t, 8, t0, 8);
        i61_value_free(w);
    }
    i61_control_free(sbo);
    i61_value_free(on);
    i61_buf_free(&b);
    i61_control_free(ctl);
    i61_client_free(c);
    fs_stop(&s);
}

/* Control values adapted to the Oper's ctlVal type; operTm. */
static void test_values_and_oper_tm(void)
{
    fs s;
    fs_start(&s);
    i61_buf b, w;
    i61_buf_init(&b);
    i61_buf_init(&w);
    resp_write(&w, -1);
    /* APC: AnalogueValue {i INT32, f FLOAT32}, with operTm */
    i61_typespec *av = i61_typespec_new_structure(2);
    i61_typespec_set_component(av, 0, "i", i61_typespec_new(I61_TYPE_INTEGER, 32));
    i61_typespec_set_component(av, 1, "f", i61_typespec_new(I61_TYPE_FLOAT, 32));
    resp_oper_type(&b, av, true, false);
    fs_step_buf(&s, NULL, &b, NULL);
    for (int i = 0; i < 3; i++)
        fs_step_buf(&s, NULL, &w, NULL);
    /* INC: INT32 */
    resp_oper_type(&b, i61_typespec_new(I61_TYPE_INTEGER, 32), false, false);
    fs_step_buf(&s, NULL, &b, NULL);
    fs_step_buf(&s, NULL, &w, NULL);
    /* BSC: Tcmd coded enum as BIT STRING(2) */
    resp_oper_type(&b, i61_typespec_new(I61_TYPE_BIT_STRING, 2), false, true);
    fs_step_buf(&s, NULL, &b, NULL);
    fs_step_buf(&s, NULL, &w, NULL);
    i61_client *c = connect_client(&s);

    i61_control *apc = NULL;
    T_EQ_INT(i61_client_control_new(c, "IED1LD1/GGIO1.AnOut1", I61_CTL_DIRECT_NORMAL, &apc),
             I61_OK);
    T_EQ_INT(i61_control_has_oper_tm(apc), 1);
    T_EQ_INT(i61_control_has_check(apc), 0);
    i61_value *f = i61_value_new_float(12.5f);
    T_EQ_INT(i61_control_operate(apc, f, 0), I61_OK);
    T_EQ_INT(i61_control_operate(apc, f, 1800000000123ull), I61_OK);
    i61_value *st = i61_value_new_structure(2);
    i61_value_set_element(st, 0, i61_value_new_integer(-3));
    i61_value_set_element(st, 1, i61_value_new_integer(2));     /* float component from an int */
    T_EQ_INT(i61_control_operate(apc, st, 0), I61_OK);
    i61_value *str = i61_value_new_visible_string("x");
    T_EQ_INT(i61_control_operate(apc, str, 0), I61_ERR_TYPE_INCONSISTENT);
    i61_value *bad = i61_value_new_structure(1);
    i61_value_set_element(bad, 0, i61_value_new_integer(1));
    T_EQ_INT(i61_control_operate(apc, bad, 0), I61_ERR_TYPE_INCONSISTENT);
    T_EQ_INT(fs_nreq(&s), 4);
    for (int i = 0; i < 3; i++) {
        char item[200];
        i61_value *v;
        i61_ctl_cmd cmd;
        T_EQ_INT(fs_written(&s, 1 + i, item, &v, &cmd), 0);
        T_CHECK(cmd.has_oper_tm && !cmd.has_check);
        T_EQ_INT(i61_utc_time_to_ms(cmd.oper_tm), i == 1 ? 1800000000123ll : 0);
        const i61_value *cv = cmd.ctl_val;
        T_EQ_INT(i61_value_type(cv), I61_TYPE_STRUCTURE);
        int64_t iv = 0;
        double dv = 0;
        T_EQ_INT(i61_value_get_int64(i61_value_element(cv, 0), &iv), I61_OK);
        T_EQ_INT(i61_value_get_double(i61_value_element(cv, 1), &dv), I61_OK);
        T_EQ_INT(i61_value_bit_size(i61_value_element(cv, 1)), 32);
        T_EQ_INT(iv, i < 2 ? 13 : -3);        /* 12.5 rounds half away from zero */
        T_CHECK(dv == (i < 2 ? 12.5 : 2.0));
        i61_value_free(v);
    }

    i61_control *inc = NULL;
    T_EQ_INT(i61_client_control_new(c, "IED1LD1/GGIO1.ISCSO1", I61_CTL_DIRECT_NORMAL, &inc),
             I61_OK);
    T_EQ_INT(i61_control_operate(inc, f, 0), I61_ERR_TYPE_INCONSISTENT);   /* no silent cut */
    i61_value *huge = i61_value_new_integer(INT64_C(1) << 40);
    T_EQ_INT(i61_control_operate(inc, huge, 0), I61_ERR_TYPE_INCONSISTENT);
    i61_value *five = i61_value_new_unsigned(5);
    T_EQ_INT(i61_control_operate(inc, five, 0), I61_OK);
    char item[200];
    i61_value *v;
    i61_ctl_cmd cmd;
    T_EQ_INT(fs_written(&s, 5, item, &v, &cmd), 0);
    T_EQ_INT(i61_value_type(cmd.ctl_val), I61_TYPE_INTEGER);
    int64_t iv = 0;
    i61_value_get_int64(cmd.ctl_val, &iv);
    T_EQ_INT(iv, 5);
    i61_value_free(v);

    i61_control *bsc = NULL;
    T_EQ_INT(i61_client_control_new(c, "IED1LD1/GGIO1.BSC1", I61_CTL_DIRECT_NORMAL, &bsc), I61_OK);
    i61_value *two = i61_value_new_integer(2);           /* higher */
    T_EQ_INT(i61_control_operate(bsc, huge, 0), I61_ERR_TYPE_INCONSISTENT);
    T_EQ_INT(i61_control_operate(bsc, two, 0), I61_OK);
    T_EQ_INT(fs_written(&s, 7, item, &v, &cmd), 0);
    size_t bl = 0;
    const uint8_t *bits = i61_value_get_bytes(cmd.ctl_val, &bl);
    T_EQ_INT(i61_value_bit_size(cmd.ctl_val), 2);
    T_CHECK(bits && bits[0] == 0x80);
    i61_value_free(v);

    i61_value_free(two);
    i61_value_free(five);
    i61_value_free(huge);
    i61_value_free(bad);
    i61_value_free(str);
    i61_value_free(st);
    i61_value_free(f);
    i61_control_free(bsc);
    i61_control_free(inc);
    i61_control_free(apc);
    i61_buf_free(&b);
    i61_buf_free(&w);
    i61_client_free(c);
    fs_stop(&s);
}

/* ------------------------------------------------------------ LastApplError matching */

static void test_lae_matching(void)
{
    fs s;
    fs_start(&s);
    i61_buf b, pre, w;
    i61_buf_init(&b);
    i61_buf_init(&pre);
    i61_buf_init(&w);
    resp_oper_type(&b, i61_typespec_new(I61_TYPE_BOOLEAN, 0), false, true);
    fs_step_buf(&s, NULL, &b, NULL);
    resp_write(&w, 3);                                      /* object-access-denied */
    /* 1: LastApplError for another ctlNum: not this operation's */
    lae_pdu(&pre, "IED1LD1/GGIO1$CO$SPCSO1$Oper", 77, I61_ADD_CAUSE_BLOCKED_BY_INTERLOCKING);
    fs_step_buf(&s, &pre, &w, NULL);
    /* 2: another object's */
    lae_pdu(&pre, "IED1LD1/GGIO1$CO$SPCSO9$Oper", 2, I61_ADD_CAUSE_BLOCKED_BY_INTERLOCKING);
    fs_step_buf(&s, &pre, &w, NULL);
    /* 3: this one, blocked by interlocking */
    lae_pdu(&pre, "IED1LD1/GGIO1$CO$SPCSO1$Oper", 3, I61_ADD_CAUSE_BLOCKED_BY_INTERLOCKING);
    fs_step_buf(&s, &pre, &w, NULL);
    /* 4: refused without a LastApplError */
    fs_step_buf(&s, NULL, &w, NULL);
    /* 5: a malformed control report, then success */
    i61_buf_reset(&pre);
    i61_value *cv = i61_value_new_boolean(1);
    T_EQ_INT(i61_mms_encode_cmd_term(&pre, "IED1LD1", "GGIO1$CO$SPCSO1$Oper", cv, NULL), I61_OK);
    i61_value_free(cv);
    resp_write(&b, -1);
    fs_step_buf(&s, &pre, &b, NULL);
    i61_client *c = connect_client(&s);
    i61_control *ctl = NULL;
    T_EQ_INT(i61_client_control_new(c, "IED1LD1/GGIO1.SPCSO1", I61_CTL_DIRECT_NORMAL, &ctl),
             I61_OK);
    i61_value *on = i61_value_new_boolean(1);
    i61_last_appl_error e;
    T_EQ_INT(i61_control_operate(ctl, on, 0), I61_ERR_ACCESS_DENIED);
    T_EQ_INT(i61_control_op_appl_error(ctl, &e), 0);
    T_EQ_INT(i61_control_last_appl_error(ctl, &e), 1);   /* kept as the object's last one */
    T_EQ_INT(e.ctl_num, 77);
    T_EQ_INT(i61_control_operate(ctl, on, 0), I61_ERR_ACCESS_DENIED);
    T_EQ_INT(i61_control_op_appl_error(ctl, &e), 0);
    T_EQ_INT(i61_control_operate(ctl, on, 0), I61_ERR_ACCESS_DENIED);
    T_EQ_INT(i61_control_op_appl_error(ctl, &e), 1);
    T_EQ_INT(e.add_cause, I61_ADD_CAUSE_BLOCKED_BY_INTERLOCKING);
    T_CHECK(strstr(i61_control_last_error_text(ctl), "blocked-by-interlocking") != NULL);
    T_CHECK(strstr(i61_client_last_error_text(c), "blocked-by-interlocking") != NULL);
    /* the same LastApplError does not stick to the next refusal */
    T_EQ_INT(i61_control_operate(ctl, on, 0), I61_ERR_ACCESS_DENIED);
    T_EQ_INT(i61_control_op_appl_error(ctl, &e), 0);
    T_CHECK(strstr(i61_control_last_error_text(ctl), "access") != NULL);
    T_EQ_INT(i61_control_operate(ctl, on, 0), I61_OK);
    T_EQ_INT(i61_control_last_error(ctl), I61_OK);
    T_EQ_INT(i61_client_control_events_malformed(c), 1);
    T_EQ_INT(i61_client_state(c), I61_STATE_CONNECTED);
    i61_value_free(on);
    i61_buf_free(&b);
    i61_buf_free(&pre);
    i61_buf_free(&w);
    i61_control_free(ctl);
    i61_client_free(c);
    fs_stop(&s);
}

/* The Rust iec61850 server's order: negative response first, then a
 * [LastApplError, Oper] report. It belongs to the refusal (attached, not
 * queued as a CommandTermination-); the same shape for a command that was
 * accepted is a CommandTermination-. */
static void test_late_lae_after_refusal(void)
{
    fs s;
    fs_start(&s);
    i61_buf b, post, w;
    i61_buf_init(&b);
    i61_buf_init(&post);
    i61_buf_init(&w);
    resp_oper_type(&b, i61_typespec_new(I61_TYPE_BOOLEAN, 0), false, true);
    fs_step_buf(&s, NULL, &b, NULL);
    i61_value *on = i61_value_new_boolean(1);
    i61_ctl_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.ctl_val = on;
    cmd.ctl_num = 1;
    cmd.has_check = true;
    i61_value *oper = NULL;
    T_EQ_INT(i61_ctl_build(I61_CTL_OPER, &cmd, &oper), I61_OK);
    i61_last_appl_error e;
    memset(&e, 0, sizeof e);
    strcpy(e.control_object, "IED1LD1/GGIO1$CO$SPCSO3$Oper");
    e.error = I61_CTL_ERROR_OPERATOR_TEST_NOT_OK;
    e.ctl_num = 0;                  /* as the Rust server sends it: the Oper says 1 */
    e.add_cause = I61_ADD_CAUSE_BLOCKED_BY_INTERLOCKING;
    T_EQ_INT(i61_mms_encode_cmd_term(&post, "IED1LD1", "GGIO1$CO$SPCSO3$Oper", oper, &e), I61_OK);
    resp_write(&w, 3);
    fs_step_buf(&s, NULL, &w, &post);                      /* ctlNum 1: refused, LAE after */
    resp_write(&w, -1);
    i61_value_set_element(oper, 2, i61_value_new_unsigned(2));
    e.ctl_num = 2;
    e.add_cause = I61_ADD_CAUSE_BLOCKED_BY_PROCESS;
    i61_buf_reset(&post);
    T_EQ_INT(i61_mms_encode_cmd_term(&post, "IED1LD1", "GGIO1$CO$SPCSO3$Oper", oper, &e), I61_OK);
    fs_step_buf(&s, NULL, &w, &post);                      /* ctlNum 2: accepted, then CT- */
    resp_write(&w, 3);
    fs_step_buf(&s, NULL, &w, NULL);                       /* ctlNum 3: refused, nothing */
    i61_client *c = connect_client(&s);
    i61_control *ctl = NULL;
    T_EQ_INT(i61_client_control_new(c, "IED1LD1/GGIO1.SPCSO3", I61_CTL_DIRECT_ENHANCED, &ctl),
             I61_OK);
    T_EQ_INT(i61_control_operate(ctl, on, 0), I61_ERR_ACCESS_DENIED);
    i61_last_appl_error got;
    T_EQ_INT(i61_control_op_appl_error(ctl, &got), 1);
    T_EQ_INT(got.add_cause, I61_ADD_CAUSE_BLOCKED_BY_INTERLOCKING);
    T_EQ_INT(got.error, I61_CTL_ERROR_OPERATOR_TEST_NOT_OK);
    T_EQ_INT(got.ctl_num, 0);       /* as received */
    T_CHECK(strstr(i61_control_last_error_text(ctl), "blocked-by-interlocking") != NULL);
    int ready = -1;
    T_EQ_INT(i61_client_wait_events(c, 100, &ready), I61_ERR_TIMEOUT);
    T_EQ_INT(ready, 0);
    T_EQ_INT(i61_control_operate(ctl, on, 0), I61_OK);
    T_EQ_INT(i61_client_wait_events(c, 3000, &ready), I61_OK);
    T_EQ_INT(ready, I61_READY_CONTROL_EVENTS);
    i61_ctl_event *ev = NULL;
    size_t n = 0;
    T_EQ_INT(i61_client_next_control_events(c, 0, &ev, 1, &n), I61_OK);
    T_CHECK(ev && !i61_ctl_event_success(ev) &&
            i61_ctl_event_add_cause(ev) == I61_ADD_CAUSE_BLOCKED_BY_PROCESS);
    i61_ctl_event_free(ev);
    /* refused without any LastApplError: the grace period passes, no attachment */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    T_EQ_INT(i61_control_operate(ctl, on, 0), I61_ERR_ACCESS_DENIED);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    T_CHECK(ms < 1500);
    T_EQ_INT(i61_control_op_appl_error(ctl, &got), 0);

    /* wait_events also wakes for reports */
    size_t gl;
    uint8_t *g = g_pdu("065_report_urcb_dchg", &gl);
    fs_send(&s, g, gl);
    free(g);
    T_EQ_INT(i61_client_wait_events(c, 3000, &ready), I61_OK);
    T_EQ_INT(ready, I61_READY_REPORTS);
    i61_report *rp[2];
    T_EQ_INT(i61_client_next_reports(c, 0, rp, 2, &n), I61_OK);
    for (size_t i = 0; i < n; i++)
        i61_report_free(rp[i]);
    i61_client_interrupt_reports(c);
    T_EQ_INT(i61_client_wait_events(c, 3000, &ready), I61_ERR_NOT_CONNECTED);
    i61_client_resume_reports(c);
    T_EQ_INT(i61_client_wait_events(c, 0, &ready), I61_ERR_TIMEOUT);
    T_EQ_INT(i61_client_wait_events(c, 0, NULL), I61_ERR_INVALID_ARGUMENT);
    fs_drop(&s);
    T_EQ_INT(i61_client_wait_events(c, 3000, &ready), I61_ERR_NOT_CONNECTED);

    i61_value_free(oper);
    i61_value_free(on);
    i61_buf_free(&b);
    i61_buf_free(&post);
    i61_buf_free(&w);
    i61_control_free(ctl);
    i61_client_free(c);
    fs_stop(&s);
}

/* ------------------------------------------------------------ event queue */

static void test_event_queue(void)
{
    fs s;
    fs_start(&s);
    i61_buf b;
    i61_buf_init(&b);
    resp_read(&b, i61_value_new_integer(1));
    fs_step_buf(&s, NULL, &b, NULL);                      /* a plain read, to send through */
    i61_client *c = connect_client(&s);
    i61_client_set_control_event_queue_size(c, 3);
    size_t n = 9;
    i61_ctl_event *evs[8];
    T_EQ_INT(i61_client_next_control_events(c, 50, evs, 8, &n), I61_ERR_TIMEOUT);
    T_EQ_INT(n, 0);
    T_EQ_INT(i61_client_next_control_events(c, 50, NULL, 8, &n), I61_ERR_INVALID_ARGUMENT);
    size_t gl;
    uint8_t *g = g_pdu("097_cmdterm_positive_report", &gl);
    for (int i = 0; i < 5; i++)
        fs_send(&s, g, gl);
    free(g);
    i61_value *v = NULL;
    T_EQ_INT(i61_client_read_value(c, "IED1LD1/GGIO1.SPCSO1.ctlModel", I61_FC_CF, &v), I61_OK);
    i61_value_free(v);                                    /* everything before it was handled */
    T_EQ_INT(i61_client_control_events_dropped(c), 2);
    T_EQ_INT(i61_client_next_control_events(c, 1000, evs, 8, &n), I61_OK);
    T_EQ_INT(n, 3);
    for (size_t i = 0; i < n; i++)
        i61_ctl_event_free(evs[i]);
    i61_client_interrupt_control_events(c);
    T_EQ_INT(i61_client_next_control_events(c, 1000, evs, 8, &n), I61_ERR_NOT_CONNECTED);
    i61_client_resume_control_events(c);
    T_EQ_INT(i61_client_next_control_events(c, 10, evs, 8, &n), I61_ERR_TIMEOUT);
    /* the server goes away: waiters return */
    fs_drop(&s);
    T_EQ_INT(i61_client_next_control_events(c, 3000, evs, 8, &n), I61_ERR_NOT_CONNECTED);
    i61_buf_free(&b);
    i61_client_free(c);
    fs_stop(&s);
}

/* A control object outliving its client; commands on a closed connection. */
static void test_detached(void)
{
    fs s;
    fs_start(&s);
    i61_client *c = connect_client(&s);
    i61_control *ctl = NULL;
    /* no answer to the GVAA: a model given does not help against a timeout */
    i61_client_set_request_timeout(c, 200);
    T_EQ_INT(i61_client_control_new(c, "IED1LD1/GGIO1.SPCSO1", I61_CTL_DIRECT_NORMAL, &ctl),
             I61_ERR_TIMEOUT);
    T_CHECK(ctl == NULL);
    fs_step_golden(&s, NULL, "054_gvaa_oper_response", NULL);
    T_EQ_INT(i61_client_control_new(c, "IED1LD1/GGIO1.SPCSO1", I61_CTL_DIRECT_NORMAL, &ctl),
             I61_OK);
    i61_client_close(c);
    i61_value *on = i61_value_new_boolean(1);
    int rc = i61_control_operate(ctl, on, 0);
    T_CHECK(rc == I61_ERR_NOT_CONNECTED || rc == I61_ERR_CONNECTION_LOST);
    i61_client_free(c);
    T_EQ_INT(i61_control_operate(ctl, on, 0), I61_ERR_NOT_CONNECTED);
    T_EQ_INT(i61_control_last_appl_error(ctl, NULL), 0);
    i61_control_free(ctl);
    i61_value_free(on);
    fs_stop(&s);
}

T_MAIN(T_CASE(test_direct_normal_golden), T_CASE(test_create_errors),
       T_CASE(test_sbo_enhanced_golden), T_CASE(test_direct_enhanced_cmdterm_negative),
       T_CASE(test_sbo_normal_select), T_CASE(test_ctl_num_t_flags),
       T_CASE(test_values_and_oper_tm), T_CASE(test_lae_matching), T_CASE(test_late_lae_after_refusal),
       T_CASE(test_event_queue),
       T_CASE(test_detached))
