/* Client side of LCB / GoCB / MSVCB / USVCB / SGCB access against a fake
 * server on loopback that answers MMS Read and Write from a small table of
 * variables (as an IEC 61850 server maps control block attributes):
 *  - reads: one Read of the attribute variables in attribute order, the
 *    reference forms (and the ones refused before anything is sent), Ed1
 *    blocks without the optional attributes, blocks that do not exist, a
 *    server that rejects the Read;
 *  - writes: only the changed attributes, the enable attribute first when
 *    disabling and last when enabling, a USVCB's Resv, one Write or one per
 *    attribute, refused attributes (which ones stay marked changed), the
 *    local number adaptation of i61_cb_set;
 *  - setting groups: SelectActiveSG / SelectEditSG / ConfirmEditSGValues as
 *    Writes of ActSG (unsigned) / EditSG / CnfEdit, refusals, bad arguments. */
#include "t.h"
#include "client/client_internal.h"
#include "iso/cotp.h"
#include "iso/iso_conn.h"
#include "mms/mms_data.h"
#include "mms/mms_pdu.h"
#include "mms/value_internal.h"
#include "net/sock.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

/* ------------------------------------------------------------ fake server */

#define FS_MAX_VARS 64
#define FS_MAX_LOG 64

typedef struct fs_var {
    char domain[I61_MMS_NAME_MAX + 1];
    char item[I61_MMS_NAME_MAX + 1];
    i61_value *v;
    int write_dae;                /* -1: writes accepted, else refused with this */
} fs_var;

typedef struct fs {
    int lfd, port, fd;
    pthread_t th;
    pthread_mutex_t mu;           /* everything below */
    fs_var vars[FS_MAX_VARS];
    int nvars;
    int reads, writes;            /* requests seen */
    int reject_reads;             /* answer Reads with a RejectPDU */
    /* the items of every Read / Write request, in order ("|" between requests) */
    char read_log[4096];
    char write_log[4096];
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

static void fs_send_frame(fs *s, const uint8_t *p, size_t n)
{
    pthread_mutex_lock(&s->mu);
    if (s->fd >= 0)
        write_all(s->fd, p, n);
    pthread_mutex_unlock(&s->mu);
}

static void fs_send_golden_frame(fs *s, const char *name)
{
    size_t n;
    uint8_t *g = t_golden(name, &n);
    fs_send_frame(s, g, n);
    free(g);
}

static void fs_send(fs *s, const uint8_t *pdu, size_t len)
{
    i61_buf t, f;
    i61_buf_init(&t);
    i61_buf_init(&f);
    i61_iso_write_data_tsdu(&t, pdu, len);
    i61_cotp_write_data(&f, 8192, t.data, t.len, NULL, 0);
    fs_send_frame(s, f.data, f.len);
    i61_buf_free(&t);
    i61_buf_free(&f);
}

static fs_var *fs_find(fs *s, const i61_mms_name *n)
{
    for (int i = 0; i < s->nvars; i++)
        if (strcmp(s->vars[i].domain, n->domain) == 0 && strcmp(s->vars[i].item, n->item) == 0)
            return &s->vars[i];
    return NULL;
}

static void log_append(char *log, size_t cap, const char *sep, const char *item)
{
    size_t l = strlen(log);
    snprintf(log + l, cap - l, "%s%s", l ? sep : "", item);
}

/* Answers one confirmed request (server thread). */
static void fs_on_request(fs *s, const uint8_t *pdu, size_t len)
{
    i61_mms_request rq;
    i61_buf b;
    i61_buf_init(&b);
    if (i61_mms_dec_request(pdu, len, &rq) != I61_OK)
        return;
    pthread_mutex_lock(&s->mu);
    if (rq.service == I61_MMS_SVC_READ) {
        i61_mms_access_spec spec;
        bool swr;
        s->reads++;
        if (s->reject_reads) {
            i61_mms_enc_reject_pdu(&b, true, rq.invoke_id, I61_MMS_REJECT_CONFIRMED_REQUEST,
                                   I61_MMS_REJECT_UNRECOGNIZED_SERVICE);
        } else if (i61_mms_dec_read_req(&rq, &swr, &spec) == I61_OK && !spec.is_nvl) {
            i61_value **res = calloc(spec.n_vars, sizeof *res);
            if (s->read_log[0])
                log_append(s->read_log, sizeof s->read_log, "|", "");
            for (size_t i = 0; i < spec.n_vars; i++) {
                fs_var *v = fs_find(s, &spec.vars[i].name);
                res[i] = v ? i61_value_clone(v->v) : i61_value_new_data_access_error(10);
                size_t l = strlen(s->read_log);
                snprintf(s->read_log + l, sizeof s->read_log - l, "%s%s",
                         (i && l) ? "," : "", spec.vars[i].name.item);
            }
            i61_mms_enc_read_resp(&b, rq.invoke_id, NULL, (const i61_value *const *)res,
                                  spec.n_vars);
            i61_mms_values_free(res, spec.n_vars);          /* frees the array too */
            i61_mms_access_spec_clear(&spec);
        }
    } else if (rq.service == I61_MMS_SVC_WRITE) {
        i61_mms_access_spec spec;
        i61_value **vals = NULL;
        size_t nv = 0;
        s->writes++;
        if (i61_mms_dec_write_req(&rq, &spec, &vals, &nv) == I61_OK && !spec.is_nvl
            && nv == spec.n_vars) {
            int dae[FS_MAX_VARS];
            if (s->write_log[0])
                log_append(s->write_log, sizeof s->write_log, "|", "");
            for (size_t i = 0; i < nv && i < FS_MAX_VARS; i++) {
                fs_var *v = fs_find(s, &spec.vars[i].name);
                size_t l = strlen(s->write_log);
                snprintf(s->write_log + l, sizeof s->write_log - l, "%s%s",
                         (i && l) ? "," : "", spec.vars[i].name.item);
                if (!v) {
                    dae[i] = 10;
                } else if (v->write_dae >= 0) {
                    dae[i] = v->write_dae;
                } else if (i61_value_type(v->v) != i61_value_type(vals[i])) {
                    dae[i] = 7;                     /* type-inconsistent */
                } else {
                    i61_value_free(v->v);
                    v->v = vals[i];
                    vals[i] = NULL;
                    dae[i] = -1;
                }
            }
            i61_mms_enc_write_resp(&b, rq.invoke_id, dae, nv);
            i61_mms_values_free(vals, nv);
            i61_mms_access_spec_clear(&spec);
        }
    } else {
        i61_mms_enc_reject_pdu(&b, true, rq.invoke_id, I61_MMS_REJECT_CONFIRMED_REQUEST,
                               I61_MMS_REJECT_UNRECOGNIZED_SERVICE);
    }
    pthread_mutex_unlock(&s->mu);
    if (b.len)
        fs_send(s, b.data, b.len);
    i61_buf_free(&b);
}

static void fs_serve(fs *s, int fd)
{
    uint8_t *buf = malloc(70000);
    i61_cotp_reasm ra;
    i61_cotp_reasm_init(&ra, 70000);
    for (;;) {
        if (read_exact(fd, buf, 4, 10000) != 0)
            break;
        size_t n = (size_t)buf[2] << 8 | buf[3];
        if (n < 4 || n > 70000 || read_exact(fd, buf + 4, n - 4, 10000) != 0)
            break;
        i61_cotp_tpdu t;
        if (i61_cotp_decode(buf + 4, n - 4, &t) != I61_OK)
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

/* Adds variable domain/item (takes v). */
static void fs_add(fs *s, const char *domain, const char *item, i61_value *v)
{
    pthread_mutex_lock(&s->mu);
    fs_var *x = &s->vars[s->nvars++];
    snprintf(x->domain, sizeof x->domain, "%s", domain);
    snprintf(x->item, sizeof x->item, "%s", item);
    x->v = v;
    x->write_dae = -1;
    pthread_mutex_unlock(&s->mu);
}

static void fs_refuse_write(fs *s, const char *item, int dae)
{
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->nvars; i++)
        if (strcmp(s->vars[i].item, item) == 0)
            s->vars[i].write_dae = dae;
    pthread_mutex_unlock(&s->mu);
}

/* Copy of the current value of item (any domain). */
static i61_value *fs_value(fs *s, const char *item)
{
    i61_value *v = NULL;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->nvars; i++)
        if (strcmp(s->vars[i].item, item) == 0)
            v = i61_value_clone(s->vars[i].v);
    pthread_mutex_unlock(&s->mu);
    return v;
}

static void fs_start(fs *s)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    pthread_mutex_init(&s->mu, NULL);
    T_EQ_INT(i61_sock_listen("127.0.0.1", 0, 4, &s->lfd, &s->port), 0);
    pthread_create(&s->th, NULL, fs_main, s);
}

static void fs_stop(fs *s)
{
    pthread_mutex_lock(&s->mu);
    if (s->fd >= 0)
        shutdown(s->fd, SHUT_RDWR);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->th, NULL);
    close(s->lfd);
    for (int i = 0; i < s->nvars; i++)
        i61_value_free(s->vars[i].v);
    pthread_mutex_destroy(&s->mu);
}

/* Counters and logs under the lock. */
static int fs_reads(fs *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->reads;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static int fs_writes(fs *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->writes;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* Compares and clears a log. */
static int fs_log_is(fs *s, bool writes, const char *expect)
{
    pthread_mutex_lock(&s->mu);
    char *log = writes ? s->write_log : s->read_log;
    int ok = strcmp(log, expect) == 0;
    if (!ok)
        fprintf(stderr, "  %s log:\n    got %s\n    exp %s\n", writes ? "write" : "read", log,
                expect);
    log[0] = '\0';
    pthread_mutex_unlock(&s->mu);
    return ok;
}

static void fs_log_clear(fs *s)
{
    pthread_mutex_lock(&s->mu);
    s->read_log[0] = s->write_log[0] = '\0';
    pthread_mutex_unlock(&s->mu);
}

static i61_client *connect_client(fs *s)
{
    i61_client *c = i61_client_new();
    T_CHECK(c != NULL);
    i61_client_set_request_timeout(c, 3000);
    T_EQ_INT(i61_client_connect(c, "127.0.0.1", s->port), I61_OK);
    return c;
}

static void finish(i61_client *c, fs *s)
{
    i61_client_free(c);
    fs_stop(s);
}

/* ------------------------------------------------------------ models */

#define LD "TESTGenericIO"

static i61_value *ostr(const char *s, size_t n)
{
    return i61_value_new_octet_string((const uint8_t *)s, n);
}

static i61_value *dst_address(void)
{
    i61_value *d = i61_value_new_structure(4);
    i61_value_set_element(d, 0, ostr("\x01\x0c\xcd\x01\x00\x01", 6));
    i61_value_set_element(d, 1, i61_value_new_unsigned_sized(4, 8));
    i61_value_set_element(d, 2, i61_value_new_unsigned_sized(5, 16));
    i61_value_set_element(d, 3, i61_value_new_unsigned_sized(0x1001, 16));
    return d;
}

static void add_gocb(fs *s)
{
    fs_add(s, LD, "LLN0$GO$gcbEvents$GoEna", i61_value_new_boolean(0));
    fs_add(s, LD, "LLN0$GO$gcbEvents$GoID", i61_value_new_visible_string("TESTGenericIO/LLN0.gcbEvents"));
    fs_add(s, LD, "LLN0$GO$gcbEvents$DatSet", i61_value_new_visible_string("TESTGenericIO/LLN0$Events"));
    fs_add(s, LD, "LLN0$GO$gcbEvents$ConfRev", i61_value_new_unsigned_sized(1, 32));
    fs_add(s, LD, "LLN0$GO$gcbEvents$NdsCom", i61_value_new_boolean(0));
    fs_add(s, LD, "LLN0$GO$gcbEvents$DstAddress", dst_address());
    fs_add(s, LD, "LLN0$GO$gcbEvents$MinTime", i61_value_new_unsigned_sized(4, 32));
    fs_add(s, LD, "LLN0$GO$gcbEvents$MaxTime", i61_value_new_unsigned_sized(1000, 32));
    fs_add(s, LD, "LLN0$GO$gcbEvents$FixedOffs", i61_value_new_boolean(0));
}

/* An LCB without OldEntrTm/NewEntrTm/OldEnt/NewEnt (as some servers). */
static void add_lcb(fs *s, bool full)
{
    fs_add(s, LD, "LLN0$LG$EventLog$LogEna", i61_value_new_boolean(1));
    fs_add(s, LD, "LLN0$LG$EventLog$LogRef", i61_value_new_visible_string("TESTGenericIO/LLN0$EventLog"));
    fs_add(s, LD, "LLN0$LG$EventLog$DatSet", i61_value_new_visible_string("TESTGenericIO/LLN0$Events"));
    if (full) {
        uint8_t t[8] = { 0x65, 0x53, 0xf1, 0x00, 0, 0, 0, 0x0a };
        fs_add(s, LD, "LLN0$LG$EventLog$OldEntrTm", i61_value_new_utc_time(t));
        fs_add(s, LD, "LLN0$LG$EventLog$NewEntrTm", i61_value_new_utc_time(t));
        fs_add(s, LD, "LLN0$LG$EventLog$OldEnt", ostr("\0\0\0\0\0\0\0\x01", 8));
        fs_add(s, LD, "LLN0$LG$EventLog$NewEnt", ostr("\0\0\0\0\0\0\0\x09", 8));
    }
    uint8_t trg = 0x60;                   /* dchg + qchg */
    fs_add(s, LD, "LLN0$LG$EventLog$TrgOps", i61_value_new_bit_string(6, &trg));
    fs_add(s, LD, "LLN0$LG$EventLog$IntgPd", i61_value_new_unsigned_sized(0, 32));
}

static void add_svcb(fs *s, const char *fc)
{
    char item[96];
    const char *idname = strcmp(fc, "MS") == 0 ? "MsvID" : "UsvID";
#define SV(attr, val) do { snprintf(item, sizeof item, "LLN0$%s$svcbMeas$%s", fc, attr); \
        fs_add(s, LD, item, val); } while (0)
    SV("SvEna", i61_value_new_boolean(0));
    if (strcmp(fc, "US") == 0)
        SV("Resv", i61_value_new_boolean(0));
    SV(idname, i61_value_new_visible_string("TESTMeas"));
    SV("DatSet", i61_value_new_visible_string("TESTGenericIO/LLN0$Measurements"));
    SV("ConfRev", i61_value_new_unsigned_sized(1, 32));
    SV("SmpRate", i61_value_new_unsigned_sized(80, 16));
    uint8_t of = 0x00;
    SV("OptFlds", i61_value_new_bit_string(5, &of));
    SV("SmpMod", i61_value_new_integer_sized(0, 8));
    SV("DstAddress", dst_address());
    SV("noASDU", i61_value_new_unsigned_sized(1, 16));
#undef SV
}

static void add_sgcb(fs *s)
{
    fs_add(s, "TESTLD0", "LLN0$SP$SGCB$NumOfSG", i61_value_new_unsigned_sized(3, 8));
    fs_add(s, "TESTLD0", "LLN0$SP$SGCB$ActSG", i61_value_new_unsigned_sized(1, 8));
    fs_add(s, "TESTLD0", "LLN0$SP$SGCB$EditSG", i61_value_new_unsigned_sized(0, 8));
    fs_add(s, "TESTLD0", "LLN0$SP$SGCB$CnfEdit", i61_value_new_boolean(0));
    uint8_t t[8] = { 0x65, 0x53, 0xf1, 0x00, 0, 0, 0, 0x0a };
    fs_add(s, "TESTLD0", "LLN0$SP$SGCB$LActTm", i61_value_new_utc_time(t));
}

static int bool_of(const i61_value *v)
{
    int b = -1;
    if (!v || i61_value_get_boolean(v, &b) != I61_OK)
        return -1;
    return b;
}

static long long uint_of(const i61_value *v)
{
    uint64_t u = 0;
    if (!v || i61_value_get_uint64(v, &u) != I61_OK)
        return -1;
    return (long long)u;
}

static int str_is(const i61_value *v, const char *s)
{
    size_t n = 0;
    const uint8_t *p = v ? i61_value_get_bytes(v, &n) : NULL;
    return p && n == strlen(s) && memcmp(p, s, n) == 0;
}

/* ------------------------------------------------------------ tests */

static void test_attr_names(void)
{
    T_EQ_INT(i61_cb_attr_count(I61_CB_LCB), 9);
    T_EQ_INT(i61_cb_attr_count(I61_CB_GOCB), 9);
    T_EQ_INT(i61_cb_attr_count(I61_CB_MSVCB), 10);
    T_EQ_INT(i61_cb_attr_count(I61_CB_USVCB), 10);
    T_EQ_INT(i61_cb_attr_count(I61_CB_SGCB), 6);
    T_EQ_INT(i61_cb_attr_count(0), 0);
    T_EQ_INT(i61_cb_attr_count(6), 0);
    T_CHECK(strcmp(i61_cb_attr_name(I61_CB_MSVCB, I61_SVCB_SV_ID), "MsvID") == 0);
    T_CHECK(strcmp(i61_cb_attr_name(I61_CB_USVCB, I61_SVCB_SV_ID), "UsvID") == 0);
    T_CHECK(strcmp(i61_cb_attr_name(I61_CB_MSVCB, I61_SVCB_NO_ASDU), "noASDU") == 0);
    T_CHECK(strcmp(i61_cb_attr_name(I61_CB_LCB, I61_LCB_OLD_ENTR_TM), "OldEntrTm") == 0);
    T_CHECK(strcmp(i61_cb_attr_name(I61_CB_GOCB, I61_GOCB_FIXED_OFFS), "FixedOffs") == 0);
    T_CHECK(strcmp(i61_cb_attr_name(I61_CB_SGCB, I61_SGCB_L_ACT_TM), "LActTm") == 0);
    T_CHECK(i61_cb_attr_name(I61_CB_SGCB, I61_SGCB_ATTR_COUNT) == NULL);
    T_CHECK(i61_cb_attr_name(I61_CB_LCB, -1) == NULL);
    T_CHECK(i61_cb_attr_name(99, 0) == NULL);
}

static void test_read_gocb(void)
{
    fs s;
    fs_start(&s);
    add_gocb(&s);
    i61_client *c = connect_client(&s);
    i61_cb *cb = NULL;
    T_EQ_INT(i61_client_read_cb(c, LD "/LLN0.gcbEvents", I61_CB_GOCB, &cb), I61_OK);
    T_CHECK(cb != NULL);
    /* one Read of the nine attributes, in attribute order */
    T_EQ_INT(fs_reads(&s), 1);
    T_CHECK(fs_log_is(&s, false,
        "LLN0$GO$gcbEvents$GoEna,LLN0$GO$gcbEvents$GoID,LLN0$GO$gcbEvents$DatSet,"
        "LLN0$GO$gcbEvents$ConfRev,LLN0$GO$gcbEvents$NdsCom,LLN0$GO$gcbEvents$DstAddress,"
        "LLN0$GO$gcbEvents$MinTime,LLN0$GO$gcbEvents$MaxTime,LLN0$GO$gcbEvents$FixedOffs"));
    T_CHECK(strcmp(i61_cb_reference(cb), LD "/LLN0.GO.gcbEvents") == 0);
    T_EQ_INT(i61_cb_get_kind(cb), I61_CB_GOCB);
    for (int a = 0; a < I61_GOCB_ATTR_COUNT; a++)
        T_CHECK(i61_cb_has(cb, a));
    T_CHECK(!i61_cb_has(cb, I61_GOCB_ATTR_COUNT));
    T_EQ_INT(bool_of(i61_cb_get(cb, I61_GOCB_GO_ENA)), 0);
    T_CHECK(str_is(i61_cb_get(cb, I61_GOCB_GO_ID), "TESTGenericIO/LLN0.gcbEvents"));
    T_CHECK(str_is(i61_cb_get(cb, I61_GOCB_DATSET), "TESTGenericIO/LLN0$Events"));
    T_EQ_INT(uint_of(i61_cb_get(cb, I61_GOCB_MIN_TIME)), 4);
    T_EQ_INT(uint_of(i61_cb_get(cb, I61_GOCB_MAX_TIME)), 1000);
    const i61_value *d = i61_cb_get(cb, I61_GOCB_DST_ADDRESS);
    T_EQ_INT(i61_value_type(d), I61_TYPE_STRUCTURE);
    T_EQ_INT(i61_value_count(d), 4);
    size_t ml = 0;
    const uint8_t *mac = i61_value_get_bytes(i61_value_element(d, 0), &ml);
    T_EQ_MEM(mac, ml, "\x01\x0c\xcd\x01\x00\x01", 6);
    T_EQ_INT(uint_of(i61_value_element(d, 3)), 0x1001);
    T_EQ_INT(i61_cb_changed(cb), 0);
    i61_cb_free(cb);

    /* the other reference forms name the same block */
    static const char *const forms[] = { LD "/LLN0.GO.gcbEvents", LD "/LLN0$GO$gcbEvents" };
    for (size_t i = 0; i < 2; i++) {
        T_EQ_INT(i61_client_read_cb(c, forms[i], I61_CB_GOCB, &cb), I61_OK);
        T_CHECK(cb && strcmp(i61_cb_reference(cb), LD "/LLN0.GO.gcbEvents") == 0);
        T_CHECK(cb && i61_cb_has(cb, I61_GOCB_FIXED_OFFS));
        i61_cb_free(cb);
    }
    fs_log_clear(&s);
    finish(c, &s);
}

static void test_bad_references(void)
{
    fs s;
    fs_start(&s);
    add_gocb(&s);
    i61_client *c = connect_client(&s);
    static const struct { const char *ref; int kind; } bad[] = {
        { "", I61_CB_GOCB },
        { LD, I61_CB_GOCB },                             /* only the SGCB may be an LD */
        { LD "/LLN0", I61_CB_GOCB },
        { LD "/LLN0.MS.gcbEvents", I61_CB_GOCB },        /* FC of another kind */
        { LD "/LLN0.GO.gcbEvents", I61_CB_MSVCB },
        { LD "/LLN0.GO.gcbEvents.GoEna", I61_CB_GOCB },  /* an attribute, not the block */
        { LD "/LLN0..gcbEvents", I61_CB_GOCB },
        { LD "/LLN0.gcb-Events", I61_CB_GOCB },
        { LD "/LLN0.GO.", I61_CB_GOCB },
        { "TEST GenericIO/LLN0.gcbEvents", I61_CB_GOCB },
        { LD "/LLN0.LG.EventLog.x.y", I61_CB_LCB },
        { LD "/LLN0.SG.SGCB", I61_CB_SGCB },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        i61_cb *cb = (i61_cb *)1;
        int rc = i61_client_read_cb(c, bad[i].ref, bad[i].kind, &cb);
        if (rc != I61_ERR_OBJECT_REFERENCE_INVALID)
            fprintf(stderr, "  '%s': rc %d\n", bad[i].ref, rc);
        T_EQ_INT(rc, I61_ERR_OBJECT_REFERENCE_INVALID);
        T_CHECK(cb == NULL);
        T_CHECK(strlen(i61_client_last_error_text(c)) > 0);
    }
    char longref[300];
    memset(longref, 'A', sizeof longref - 1);
    longref[sizeof longref - 1] = 0;
    i61_cb *cb = NULL;
    T_EQ_INT(i61_client_read_cb(c, longref, I61_CB_GOCB, &cb), I61_ERR_OBJECT_REFERENCE_INVALID);
    T_EQ_INT(i61_client_read_cb(c, NULL, I61_CB_GOCB, &cb), I61_ERR_OBJECT_REFERENCE_INVALID);
    T_EQ_INT(i61_client_read_cb(c, LD "/LLN0.gcbEvents", 0, &cb), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_client_read_cb(c, LD "/LLN0.gcbEvents", 6, &cb), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_client_read_cb(c, LD "/LLN0.gcbEvents", I61_CB_GOCB, NULL), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_client_read_cb(NULL, LD "/LLN0.gcbEvents", I61_CB_GOCB, &cb), I61_ERR_INVALID_ARGUMENT);
    /* nothing was sent for any of them */
    T_EQ_INT(fs_reads(&s), 0);
    finish(c, &s);
}

static void test_read_lcb_optional(void)
{
    fs s;
    fs_start(&s);
    add_lcb(&s, false);
    i61_client *c = connect_client(&s);
    i61_cb *cb = NULL;
    T_EQ_INT(i61_client_read_cb(c, LD "/LLN0.LG.EventLog", I61_CB_LCB, &cb), I61_OK);
    T_CHECK(fs_log_is(&s, false,
        "LLN0$LG$EventLog$LogEna,LLN0$LG$EventLog$LogRef,LLN0$LG$EventLog$DatSet,"
        "LLN0$LG$EventLog$OldEntrTm,LLN0$LG$EventLog$NewEntrTm,LLN0$LG$EventLog$OldEnt,"
        "LLN0$LG$EventLog$NewEnt,LLN0$LG$EventLog$TrgOps,LLN0$LG$EventLog$IntgPd,"
        "LLN0$LG$EventLog$OldEntr,LLN0$LG$EventLog$NewEntr"));
    T_CHECK(i61_cb_has(cb, I61_LCB_LOG_ENA));
    T_CHECK(i61_cb_has(cb, I61_LCB_TRG_OPS));
    T_CHECK(!i61_cb_has(cb, I61_LCB_OLD_ENTR_TM));
    T_CHECK(!i61_cb_has(cb, I61_LCB_NEW_ENT));
    T_CHECK(i61_cb_get(cb, I61_LCB_OLD_ENT) == NULL);
    T_CHECK(str_is(i61_cb_get(cb, I61_LCB_LOG_REF), "TESTGenericIO/LLN0$EventLog"));
    T_EQ_INT(i61_value_bit_size(i61_cb_get(cb, I61_LCB_TRG_OPS)), 6);
    T_CHECK(strcmp(i61_cb_reference(cb), LD "/LLN0.LG.EventLog") == 0);
    i61_cb_free(cb);
    finish(c, &s);

    fs_start(&s);
    add_lcb(&s, true);
    c = connect_client(&s);
    T_EQ_INT(i61_client_read_cb(c, LD "/LLN0$LG$EventLog", I61_CB_LCB, &cb), I61_OK);
    for (int a = 0; a < I61_LCB_ATTR_COUNT; a++)
        T_CHECK(i61_cb_has(cb, a));
    size_t n = 0;
    const uint8_t *ent = i61_value_get_bytes(i61_cb_get(cb, I61_LCB_NEW_ENT), &n);
    T_EQ_MEM(ent, n, "\0\0\0\0\0\0\0\x09", 8);
    T_EQ_INT(i61_value_type(i61_cb_get(cb, I61_LCB_OLD_ENTR_TM)), I61_TYPE_UTC_TIME);
    i61_cb_free(cb);
    finish(c, &s);

    /* libiec61850 1.6 spells OldEnt/NewEnt "OldEntr"/"NewEntr"; the standard
     * spelling wins when a server has both */
    fs_start(&s);
    add_lcb(&s, false);
    fs_add(&s, LD, "LLN0$LG$EventLog$OldEntr", ostr("\0\0\0\0\0\0\0\x02", 8));
    fs_add(&s, LD, "LLN0$LG$EventLog$NewEntr", ostr("\0\0\0\0\0\0\0\x05", 8));
    fs_add(&s, LD, "LLN0$LG$EventLog$NewEnt", ostr("\0\0\0\0\0\0\0\x06", 8));
    c = connect_client(&s);
    T_EQ_INT(i61_client_read_cb(c, LD "/LLN0$LG$EventLog", I61_CB_LCB, &cb), I61_OK);
    T_EQ_INT(fs_reads(&s), 1);
    ent = i61_value_get_bytes(i61_cb_get(cb, I61_LCB_OLD_ENT), &n);
    T_EQ_MEM(ent, n, "\0\0\0\0\0\0\0\x02", 8);
    ent = i61_value_get_bytes(i61_cb_get(cb, I61_LCB_NEW_ENT), &n);
    T_EQ_MEM(ent, n, "\0\0\0\0\0\0\0\x06", 8);
    /* a write goes to the spelling the server has */
    i61_value *o = ostr("\0\0\0\0\0\0\0\x03", 8);
    T_EQ_INT(i61_cb_set(cb, I61_LCB_OLD_ENT, o), I61_OK);
    T_EQ_INT(i61_cb_set(cb, I61_LCB_NEW_ENT, o), I61_OK);
    fs_log_clear(&s);
    T_EQ_INT(i61_client_set_cb(c, cb, 1, NULL), I61_OK);
    T_CHECK(fs_log_is(&s, true, "LLN0$LG$EventLog$OldEntr,LLN0$LG$EventLog$NewEnt"));
    /* and an update keeps knowing it */
    T_EQ_INT(i61_client_update_cb(c, cb), I61_OK);
    ent = i61_value_get_bytes(i61_cb_get(cb, I61_LCB_OLD_ENT), &n);
    T_EQ_MEM(ent, n, "\0\0\0\0\0\0\0\x03", 8);
    i61_value_free(o);
    i61_cb_free(cb);
    finish(c, &s);
}

static void test_read_missing(void)
{
    fs s;
    fs_start(&s);
    add_gocb(&s);
    i61_client *c = connect_client(&s);
    i61_cb *cb = (i61_cb *)1;
    /* every attribute answers object-non-existent */
    T_EQ_INT(i61_client_read_cb(c, LD "/LLN0.gcbNone", I61_CB_GOCB, &cb),
             I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_CHECK(cb == NULL);
    T_CHECK(strstr(i61_client_last_error_text(c), "gcbNone") != NULL);
    T_CHECK(strstr(i61_client_last_error_text(c), "GoEna") != NULL);
    T_EQ_INT(fs_reads(&s), 1);
    /* a server that rejects the Read */
    pthread_mutex_lock(&s.mu);
    s.reject_reads = 1;
    pthread_mutex_unlock(&s.mu);
    T_EQ_INT(i61_client_read_cb(c, LD "/LLN0.gcbEvents", I61_CB_GOCB, &cb),
             I61_ERR_SERVICE_NOT_SUPPORTED);
    T_CHECK(cb == NULL);
    T_CHECK(strstr(i61_client_last_error_text(c), "unrecognized-service") != NULL);
    finish(c, &s);

    /* not connected */
    i61_client *nc = i61_client_new();
    T_EQ_INT(i61_client_read_cb(nc, LD "/LLN0.gcbEvents", I61_CB_GOCB, &cb),
             I61_ERR_NOT_CONNECTED);
    T_EQ_INT(i61_client_select_active_sg(nc, "TESTLD0", 2), I61_ERR_NOT_CONNECTED);
    i61_client_free(nc);
}

static void test_set_lcb_order(void)
{
    fs s;
    fs_start(&s);
    add_lcb(&s, false);
    i61_client *c = connect_client(&s);
    i61_cb *cb = NULL;
    T_EQ_INT(i61_client_read_cb(c, LD "/LLN0.EventLog", I61_CB_LCB, &cb), I61_OK);
    fs_log_clear(&s);

    /* nothing changed: nothing sent */
    int failed = 5;
    T_EQ_INT(i61_client_set_cb(c, cb, 1, &failed), I61_OK);
    T_EQ_INT(failed, -1);
    T_EQ_INT(fs_writes(&s), 0);

    /* disable + reconfigure: LogEna FALSE first, then attribute order */
    i61_value *f = i61_value_new_boolean(0);
    i61_value *ds = i61_value_new_visible_string("TESTGenericIO/LLN0$Measurements");
    i61_value *ip = i61_value_new_integer(5000);
    T_EQ_INT(i61_cb_set(cb, I61_LCB_INTG_PD, ip), I61_OK);
    T_EQ_INT(i61_cb_set(cb, I61_LCB_DATSET, ds), I61_OK);
    T_EQ_INT(i61_cb_set(cb, I61_LCB_LOG_ENA, f), I61_OK);
    T_EQ_INT(i61_cb_changed(cb),
             (1u << I61_LCB_INTG_PD) | (1u << I61_LCB_DATSET) | (1u << I61_LCB_LOG_ENA));
    /* IntgPd became the unsigned the server holds */
    T_EQ_INT(i61_value_type(i61_cb_get(cb, I61_LCB_INTG_PD)), I61_TYPE_UNSIGNED);
    T_EQ_INT(i61_client_set_cb(c, cb, 1, &failed), I61_OK);
    T_EQ_INT(fs_writes(&s), 1);
    T_CHECK(fs_log_is(&s, true,
        "LLN0$LG$EventLog$LogEna,LLN0$LG$EventLog$DatSet,LLN0$LG$EventLog$IntgPd"));
    T_EQ_INT(i61_cb_changed(cb), 0);
    i61_value *v = fs_value(&s, "LLN0$LG$EventLog$IntgPd");
    T_EQ_INT(uint_of(v), 5000);
    i61_value_free(v);
    v = fs_value(&s, "LLN0$LG$EventLog$DatSet");
    T_CHECK(str_is(v, "TESTGenericIO/LLN0$Measurements"));
    i61_value_free(v);

    /* enable + reconfigure, one Write per attribute: LogEna TRUE last */
    i61_value *t = i61_value_new_boolean(1);
    uint8_t trg = 0x78;
    i61_value *to = i61_value_new_bit_string(6, &trg);
    T_EQ_INT(i61_cb_set(cb, I61_LCB_LOG_ENA, t), I61_OK);
    T_EQ_INT(i61_cb_set(cb, I61_LCB_TRG_OPS, to), I61_OK);
    T_EQ_INT(i61_cb_set(cb, I61_LCB_DATSET, ds), I61_OK);
    T_EQ_INT(i61_client_set_cb(c, cb, 0, &failed), I61_OK);
    T_EQ_INT(fs_writes(&s), 4);
    T_CHECK(fs_log_is(&s, true,
        "LLN0$LG$EventLog$DatSet|LLN0$LG$EventLog$TrgOps|LLN0$LG$EventLog$LogEna"));
    v = fs_value(&s, "LLN0$LG$EventLog$LogEna");
    T_EQ_INT(bool_of(v), 1);
    i61_value_free(v);

    /* update reads everything again and forgets local changes */
    T_EQ_INT(i61_cb_set(cb, I61_LCB_LOG_ENA, f), I61_OK);
    T_EQ_INT(i61_client_update_cb(c, cb), I61_OK);
    T_EQ_INT(i61_cb_changed(cb), 0);
    T_EQ_INT(bool_of(i61_cb_get(cb, I61_LCB_LOG_ENA)), 1);
    T_EQ_INT(uint_of(i61_cb_get(cb, I61_LCB_INTG_PD)), 5000);
    T_EQ_INT(i61_value_bit_size(i61_cb_get(cb, I61_LCB_TRG_OPS)), 6);
    T_CHECK(!i61_cb_has(cb, I61_LCB_OLD_ENT));

    i61_value_free(f);
    i61_value_free(t);
    i61_value_free(ds);
    i61_value_free(ip);
    i61_value_free(to);
    i61_cb_free(cb);
    finish(c, &s);
}

static void test_set_refused(void)
{
    fs s;
    fs_start(&s);
    add_gocb(&s);
    fs_refuse_write(&s, "LLN0$GO$gcbEvents$GoID", 3);         /* object-access-denied */
    i61_client *c = connect_client(&s);
    i61_cb *cb = NULL;
    T_EQ_INT(i61_client_read_cb(c, LD "/LLN0.gcbEvents", I61_CB_GOCB, &cb), I61_OK);
    i61_value *id = i61_value_new_visible_string("NewID");
    i61_value *mt = i61_value_new_unsigned(8);
    i61_value *on = i61_value_new_boolean(1);
    T_EQ_INT(i61_cb_set(cb, I61_GOCB_GO_ENA, on), I61_OK);
    T_EQ_INT(i61_cb_set(cb, I61_GOCB_GO_ID, id), I61_OK);
    T_EQ_INT(i61_cb_set(cb, I61_GOCB_MIN_TIME, mt), I61_OK);
    /* one Write: GoID refused, MinTime and GoEna accepted (the server applies the rest) */
    int failed = -5;
    T_EQ_INT(i61_client_set_cb(c, cb, 1, &failed), I61_ERR_ACCESS_DENIED);
    T_EQ_INT(failed, I61_GOCB_GO_ID);
    T_CHECK(fs_log_is(&s, true,
        "LLN0$GO$gcbEvents$GoID,LLN0$GO$gcbEvents$MinTime,LLN0$GO$gcbEvents$GoEna"));
    T_EQ_INT(i61_cb_changed(cb), 1u << I61_GOCB_GO_ID);
    T_CHECK(strstr(i61_client_last_error_text(c), "GoID") != NULL);

    /* one Write per attribute stops at the first refusal */
    T_EQ_INT(i61_cb_set(cb, I61_GOCB_MIN_TIME, mt), I61_OK);
    T_EQ_INT(i61_cb_set(cb, I61_GOCB_GO_ENA, on), I61_OK);
    int before = fs_writes(&s);
    T_EQ_INT(i61_client_set_cb(c, cb, 0, &failed), I61_ERR_ACCESS_DENIED);
    T_EQ_INT(failed, I61_GOCB_GO_ID);
    T_EQ_INT(fs_writes(&s), before + 1);
    T_CHECK(fs_log_is(&s, true, "LLN0$GO$gcbEvents$GoID"));
    T_EQ_INT(i61_cb_changed(cb),
             (1u << I61_GOCB_GO_ID) | (1u << I61_GOCB_MIN_TIME) | (1u << I61_GOCB_GO_ENA));

    /* a value of the wrong type: the server's type-inconsistent comes back */
    i61_cb_clear_changed(cb);
    i61_value *wrong = i61_value_new_visible_string("yes");
    T_EQ_INT(i61_cb_set(cb, I61_GOCB_NDS_COM, wrong), I61_OK);
    T_EQ_INT(i61_client_set_cb(c, cb, 1, &failed), I61_ERR_TYPE_INCONSISTENT);
    T_EQ_INT(failed, I61_GOCB_NDS_COM);
    fs_log_clear(&s);

    /* a value with no MMS encoding is refused before anything is sent */
    i61_cb_clear_changed(cb);
    i61_value *dae = i61_value_new_data_access_error(3);
    T_EQ_INT(i61_cb_set(cb, I61_GOCB_FIXED_OFFS, dae), I61_OK);
    before = fs_writes(&s);
    T_EQ_INT(i61_client_set_cb(c, cb, 1, &failed), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(fs_writes(&s), before);

    i61_value_free(id);
    i61_value_free(mt);
    i61_value_free(on);
    i61_value_free(wrong);
    i61_value_free(dae);
    i61_cb_free(cb);
    finish(c, &s);
}

static void test_local_set(void)
{
    fs s;
    fs_start(&s);
    add_svcb(&s, "MS");
    i61_client *c = connect_client(&s);
    i61_cb *cb = NULL;
    T_EQ_INT(i61_client_read_cb(c, LD "/LLN0.svcbMeas", I61_CB_MSVCB, &cb), I61_OK);
    /* an MSVCB has no Resv: it is not even asked for */
    T_CHECK(fs_log_is(&s, false,
        "LLN0$MS$svcbMeas$SvEna,LLN0$MS$svcbMeas$MsvID,LLN0$MS$svcbMeas$DatSet,"
        "LLN0$MS$svcbMeas$ConfRev,LLN0$MS$svcbMeas$SmpRate,LLN0$MS$svcbMeas$OptFlds,"
        "LLN0$MS$svcbMeas$SmpMod,LLN0$MS$svcbMeas$DstAddress,LLN0$MS$svcbMeas$noASDU"));
    T_CHECK(strcmp(i61_cb_reference(cb), LD "/LLN0.MS.svcbMeas") == 0);
    T_CHECK(!i61_cb_has(cb, I61_SVCB_RESV));
    T_CHECK(str_is(i61_cb_get(cb, I61_SVCB_SV_ID), "TESTMeas"));
    T_EQ_INT(uint_of(i61_cb_get(cb, I61_SVCB_SMP_RATE)), 80);
    int64_t sm = -1;
    T_EQ_INT(i61_value_get_int64(i61_cb_get(cb, I61_SVCB_SMP_MOD), &sm), I61_OK);
    T_EQ_INT(sm, 0);

    /* numbers take the server's type; out of range is refused locally */
    i61_value *n = i61_value_new_integer(4000);
    T_EQ_INT(i61_cb_set(cb, I61_SVCB_SMP_RATE, n), I61_OK);
    T_EQ_INT(i61_value_type(i61_cb_get(cb, I61_SVCB_SMP_RATE)), I61_TYPE_UNSIGNED);
    T_EQ_INT(uint_of(i61_cb_get(cb, I61_SVCB_SMP_RATE)), 4000);
    i61_value *big = i61_value_new_integer(70000);
    T_EQ_INT(i61_cb_set(cb, I61_SVCB_SMP_RATE, big), I61_ERR_OBJECT_VALUE_INVALID);
    T_EQ_INT(uint_of(i61_cb_get(cb, I61_SVCB_SMP_RATE)), 4000);
    i61_value *neg = i61_value_new_integer(-1);
    T_EQ_INT(i61_cb_set(cb, I61_SVCB_CONF_REV, neg), I61_ERR_OBJECT_VALUE_INVALID);
    i61_value *one = i61_value_new_unsigned(1);
    T_EQ_INT(i61_cb_set(cb, I61_SVCB_SMP_MOD, one), I61_OK);           /* INT8 enum */
    T_EQ_INT(i61_value_type(i61_cb_get(cb, I61_SVCB_SMP_MOD)), I61_TYPE_INTEGER);
    i61_value *u200 = i61_value_new_unsigned(200);
    T_EQ_INT(i61_cb_set(cb, I61_SVCB_SMP_MOD, u200), I61_ERR_OBJECT_VALUE_INVALID);
    /* non-numbers are copied as they are */
    T_EQ_INT(i61_cb_set(cb, I61_SVCB_SMP_RATE, one), I61_OK);
    i61_value *str = i61_value_new_visible_string("x");
    T_EQ_INT(i61_cb_set(cb, I61_SVCB_SMP_RATE, str), I61_OK);
    T_EQ_INT(i61_value_type(i61_cb_get(cb, I61_SVCB_SMP_RATE)), I61_TYPE_VISIBLE_STRING);
    /* an attribute the server did not have may be set */
    T_EQ_INT(i61_cb_set(cb, I61_SVCB_RESV, one), I61_OK);
    T_CHECK(i61_cb_has(cb, I61_SVCB_RESV));
    /* out of range */
    T_EQ_INT(i61_cb_set(cb, I61_SVCB_ATTR_COUNT, one), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_cb_set(cb, -1, one), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_cb_set(cb, 0, NULL), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_cb_set(NULL, 0, one), I61_ERR_INVALID_ARGUMENT);
    i61_cb_clear_changed(cb);
    T_EQ_INT(i61_cb_changed(cb), 0);
    /* NULL-safe accessors */
    T_EQ_INT(i61_cb_get_kind(NULL), 0);
    T_CHECK(i61_cb_reference(NULL) == NULL);
    T_EQ_INT(i61_cb_has(NULL, 0), 0);
    T_CHECK(i61_cb_get(NULL, 0) == NULL);
    T_EQ_INT(i61_cb_changed(NULL), 0);
    i61_cb_clear_changed(NULL);
    i61_cb_free(NULL);
    T_EQ_INT(i61_client_update_cb(c, NULL), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_client_set_cb(c, NULL, 1, NULL), I61_ERR_INVALID_ARGUMENT);

    i61_value_free(n);
    i61_value_free(big);
    i61_value_free(neg);
    i61_value_free(one);
    i61_value_free(u200);
    i61_value_free(str);
    i61_cb_free(cb);
    finish(c, &s);
}

static void test_usvcb_resv_order(void)
{
    fs s;
    fs_start(&s);
    add_svcb(&s, "US");
    i61_client *c = connect_client(&s);
    i61_cb *cb = NULL;
    T_EQ_INT(i61_client_read_cb(c, LD "/LLN0.US.svcbMeas", I61_CB_USVCB, &cb), I61_OK);
    T_CHECK(i61_cb_has(cb, I61_SVCB_RESV));
    T_CHECK(strcmp(i61_cb_reference(cb), LD "/LLN0.US.svcbMeas") == 0);
    fs_log_clear(&s);
    i61_value *t = i61_value_new_boolean(1), *f = i61_value_new_boolean(0);
    i61_value *id = i61_value_new_visible_string("Other");
    /* reserve, configure, enable */
    T_EQ_INT(i61_cb_set(cb, I61_SVCB_SV_ENA, t), I61_OK);
    T_EQ_INT(i61_cb_set(cb, I61_SVCB_SV_ID, id), I61_OK);
    T_EQ_INT(i61_cb_set(cb, I61_SVCB_RESV, t), I61_OK);
    T_EQ_INT(i61_client_set_cb(c, cb, 1, NULL), I61_OK);
    T_CHECK(fs_log_is(&s, true,
        "LLN0$US$svcbMeas$Resv,LLN0$US$svcbMeas$UsvID,LLN0$US$svcbMeas$SvEna"));
    /* disable, then release */
    T_EQ_INT(i61_cb_set(cb, I61_SVCB_RESV, f), I61_OK);
    T_EQ_INT(i61_cb_set(cb, I61_SVCB_SV_ENA, f), I61_OK);
    T_EQ_INT(i61_client_set_cb(c, cb, 1, NULL), I61_OK);
    T_CHECK(fs_log_is(&s, true, "LLN0$US$svcbMeas$SvEna,LLN0$US$svcbMeas$Resv"));
    i61_value *v = fs_value(&s, "LLN0$US$svcbMeas$UsvID");
    T_CHECK(str_is(v, "Other"));
    i61_value_free(v);
    i61_value_free(t);
    i61_value_free(f);
    i61_value_free(id);
    i61_cb_free(cb);
    finish(c, &s);
}

static void test_sgcb(void)
{
    fs s;
    fs_start(&s);
    add_sgcb(&s);
    i61_client *c = connect_client(&s);
    static const char *const forms[] = { "TESTLD0", "TESTLD0/LLN0", "TESTLD0/LLN0.SGCB",
                                         "TESTLD0/LLN0.SP.SGCB", "TESTLD0/LLN0$SP$SGCB" };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        i61_cb *cb = NULL;
        T_EQ_INT(i61_client_read_cb(c, forms[i], I61_CB_SGCB, &cb), I61_OK);
        T_CHECK(cb && strcmp(i61_cb_reference(cb), "TESTLD0/LLN0.SP.SGCB") == 0);
        if (!cb)
            continue;
        T_EQ_INT(uint_of(i61_cb_get(cb, I61_SGCB_NUM_OF_SG)), 3);
        T_EQ_INT(uint_of(i61_cb_get(cb, I61_SGCB_ACT_SG)), 1);
        T_EQ_INT(uint_of(i61_cb_get(cb, I61_SGCB_EDIT_SG)), 0);
        T_EQ_INT(bool_of(i61_cb_get(cb, I61_SGCB_CNF_EDIT)), 0);
        T_EQ_INT(i61_value_type(i61_cb_get(cb, I61_SGCB_L_ACT_TM)), I61_TYPE_UTC_TIME);
        T_CHECK(!i61_cb_has(cb, I61_SGCB_RESV_TMS));           /* Ed1-like: no ResvTms */
        i61_cb_free(cb);
    }
    T_CHECK(fs_log_is(&s, false,
        "LLN0$SP$SGCB$NumOfSG,LLN0$SP$SGCB$ActSG,LLN0$SP$SGCB$EditSG,LLN0$SP$SGCB$CnfEdit,"
        "LLN0$SP$SGCB$LActTm,LLN0$SP$SGCB$ResvTms|"
        "LLN0$SP$SGCB$NumOfSG,LLN0$SP$SGCB$ActSG,LLN0$SP$SGCB$EditSG,LLN0$SP$SGCB$CnfEdit,"
        "LLN0$SP$SGCB$LActTm,LLN0$SP$SGCB$ResvTms|"
        "LLN0$SP$SGCB$NumOfSG,LLN0$SP$SGCB$ActSG,LLN0$SP$SGCB$EditSG,LLN0$SP$SGCB$CnfEdit,"
        "LLN0$SP$SGCB$LActTm,LLN0$SP$SGCB$ResvTms|"
        "LLN0$SP$SGCB$NumOfSG,LLN0$SP$SGCB$ActSG,LLN0$SP$SGCB$EditSG,LLN0$SP$SGCB$CnfEdit,"
        "LLN0$SP$SGCB$LActTm,LLN0$SP$SGCB$ResvTms|"
        "LLN0$SP$SGCB$NumOfSG,LLN0$SP$SGCB$ActSG,LLN0$SP$SGCB$EditSG,LLN0$SP$SGCB$CnfEdit,"
        "LLN0$SP$SGCB$LActTm,LLN0$SP$SGCB$ResvTms"));

    /* SelectActiveSG: ActSG as an unsigned (INT8U) */
    T_EQ_INT(i61_client_select_active_sg(c, "TESTLD0", 2), I61_OK);
    T_CHECK(fs_log_is(&s, true, "LLN0$SP$SGCB$ActSG"));
    i61_value *v = fs_value(&s, "LLN0$SP$SGCB$ActSG");
    T_EQ_INT(i61_value_type(v), I61_TYPE_UNSIGNED);
    T_EQ_INT(uint_of(v), 2);
    i61_value_free(v);
    /* SelectEditSG, ConfirmEditSGValues, release with 0 */
    T_EQ_INT(i61_client_select_edit_sg(c, "TESTLD0/LLN0", 3), I61_OK);
    v = fs_value(&s, "LLN0$SP$SGCB$EditSG");
    T_EQ_INT(uint_of(v), 3);
    i61_value_free(v);
    T_EQ_INT(i61_client_confirm_edit_sg(c, "TESTLD0"), I61_OK);
    v = fs_value(&s, "LLN0$SP$SGCB$CnfEdit");
    T_EQ_INT(bool_of(v), 1);
    i61_value_free(v);
    T_EQ_INT(i61_client_select_edit_sg(c, "TESTLD0", 0), I61_OK);
    T_CHECK(fs_log_is(&s, true, "LLN0$SP$SGCB$EditSG|LLN0$SP$SGCB$CnfEdit|LLN0$SP$SGCB$EditSG"));

    /* the server refuses (a group that does not exist, say) */
    fs_refuse_write(&s, "LLN0$SP$SGCB$ActSG", 11);         /* object-value-invalid */
    T_EQ_INT(i61_client_select_active_sg(c, "TESTLD0", 9), I61_ERR_OBJECT_VALUE_INVALID);
    T_CHECK(strstr(i61_client_last_error_text(c), "ActSG") != NULL);
    fs_refuse_write(&s, "LLN0$SP$SGCB$CnfEdit", 3);
    T_EQ_INT(i61_client_confirm_edit_sg(c, "TESTLD0"), I61_ERR_ACCESS_DENIED);
    /* no SGCB in that LD */
    T_EQ_INT(i61_client_select_active_sg(c, "OTHERLD", 1), I61_ERR_OBJECT_DOES_NOT_EXIST);
    int before = fs_writes(&s);
    /* refused locally */
    T_EQ_INT(i61_client_select_active_sg(c, "TESTLD0", 256), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_client_select_edit_sg(c, "TESTLD0", -1), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_client_select_active_sg(c, "", 1), I61_ERR_OBJECT_REFERENCE_INVALID);
    T_EQ_INT(i61_client_select_active_sg(c, NULL, 1), I61_ERR_OBJECT_REFERENCE_INVALID);
    T_EQ_INT(i61_client_confirm_edit_sg(c, "TEST LD0"), I61_ERR_OBJECT_REFERENCE_INVALID);
    T_EQ_INT(i61_client_confirm_edit_sg(NULL, "TESTLD0"), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(fs_writes(&s), before);
    finish(c, &s);
}

T_MAIN(T_CASE(test_attr_names), T_CASE(test_read_gocb), T_CASE(test_bad_references),
       T_CASE(test_read_lcb_optional), T_CASE(test_read_missing), T_CASE(test_set_lcb_order),
       T_CASE(test_set_refused), T_CASE(test_local_set), T_CASE(test_usvcb_resv_order),
       T_CASE(test_sgcb))
