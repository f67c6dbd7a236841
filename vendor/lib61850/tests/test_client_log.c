/* Client side of QueryLogByTime / QueryLogAfter (MMS ReadJournal) against a
 * fake server on loopback that keeps a log of entries and answers with the
 * journal codec, a page of at most `page` entries at a time:
 *  - the request: journal name from both reference forms, the time range,
 *    entryToStartAfter, times outside the TimeOfDay range clamped, the
 *    references and arguments refused before anything is sent;
 *  - the result: ids, times, values and ReasonCodes paired with the value
 *    before them; moreFollows, and paging with the last entry's id/time to
 *    the end of the log;
 *  - a log that does not exist (golden 131's error), malformed answers and
 *    odd entries (ReasonCode without a value, two in a row, annotation). */
#include "t.h"
#include "client/client_internal.h"
#include "iso/cotp.h"
#include "iso/iso_conn.h"
#include "mms/mms_journal.h"
#include "mms/mms_pdu.h"
#include "net/sock.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#define MS_1984 441763200000LL
#define T0 1700000000000LL               /* 2023-11-14 22:13:20 UTC */
#define LOGREF "TESTGenericIO/LLN0$EventLog"

/* ------------------------------------------------------------ fake server */

#define FS_MAX_ENTRIES 64

typedef struct fs {
    int lfd, port, fd;
    pthread_t th;
    pthread_mutex_t mu;             /* everything below */
    int nentries;                   /* entries 1..n: id = n (8 octets BE), time T0 + 1000 * n */
    int page;                       /* most entries per answer */
    int requests;
    i61_mms_journal_req last;       /* the last ReadJournal request */
    uint8_t *raw;                   /* set: answer with this PDU (invoke id patched) */
    size_t raw_len;
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

static int64_t entry_time(int n)
{
    return T0 + 1000LL * n;
}

static void entry_id(int n, uint8_t id[8])
{
    memset(id, 0, 8);
    id[6] = (uint8_t)(n >> 8);
    id[7] = (uint8_t)n;
}

/* Entry n of the fake log: Ind1.stVal = n odd, reason dchg (GI for every
 * 5th); entry 7 has no ReasonCode. */
static void encode_entry(i61_buf *b, int n)
{
    i61_mms_journal_entry e;
    memset(&e, 0, sizeof e);
    entry_id(n, e.id);
    e.id_len = 8;
    e.time_ms = entry_time(n);
    i61_mms_journal_var v[2];
    v[0].tag = (char *)"TESTGenericIO/GGIO1$ST$Ind1$stVal";
    v[0].value = i61_value_new_boolean(n & 1);
    uint8_t rc = n % 5 == 0 ? 0x04 : 0x40;           /* GI : dchg */
    v[1].tag = (char *)"ReasonCode";
    v[1].value = i61_value_new_bit_string(7, &rc);
    e.vars = v;
    e.nvars = n == 7 ? 1 : 2;
    i61_mms_enc_journal_entry(b, &e);
    i61_value_free(v[0].value);
    i61_value_free(v[1].value);
}

static void fs_on_request(fs *s, const uint8_t *pdu, size_t len)
{
    i61_mms_request rq;
    i61_mms_journal_req q;
    i61_buf b;
    i61_buf_init(&b);
    if (i61_mms_dec_request(pdu, len, &rq) != I61_OK)
        return;
    pthread_mutex_lock(&s->mu);
    s->requests++;
    if (s->raw) {
        /* the template with this request's invoke id */
        i61_ber_tlv t, c;
        i61_ber_reader r;
        if (i61_ber_parse(s->raw, s->raw_len, &t, NULL) == I61_BER_OK && t.constructed) {
            i61_ber_reader_sub(&r, &t);
            if (i61_ber_next(&r, &c) == I61_BER_OK) {
                size_t m = i61_ber_open(&b, t.id);
                i61_ber_put_uint64(&b, c.id, rq.invoke_id);
                const uint8_t *rest = c.val + c.len;
                i61_buf_put(&b, rest, (size_t)(t.val + t.len - rest));
                i61_ber_close(&b, m);
            }
        } else {
            i61_buf_put(&b, s->raw, s->raw_len);       /* sent as is (malformed on purpose) */
        }
    } else if (rq.service != I61_MMS_SVC_READ_JOURNAL
               || i61_mms_dec_read_journal_req(&rq, &q) != I61_OK) {
        i61_mms_enc_reject_pdu(&b, true, rq.invoke_id, I61_MMS_REJECT_CONFIRMED_REQUEST,
                               I61_MMS_REJECT_INVALID_ARGUMENT);
    } else if (strcmp(q.journal.domain, "TESTGenericIO") != 0
               || strcmp(q.journal.item, "LLN0$EventLog") != 0) {
        s->last = q;
        i61_mms_enc_error_pdu(&b, rq.invoke_id, I61_MMS_ERRCLASS_ACCESS, 2);
    } else {
        s->last = q;
        int first = 1;
        if (q.has_after) {
            /* after the entry with that id (its number), else after that time */
            int n = q.after_entry_len == 8 ? (q.after_entry[6] << 8 | q.after_entry[7]) : 0;
            first = n + 1;
            if (n < 1 || n > s->nentries)
                for (first = 1; first <= s->nentries && entry_time(first) <= q.after_ms; first++)
                    ;
        } else if (q.has_start_time) {
            while (first <= s->nentries && entry_time(first) < q.start_ms)
                first++;
        }
        i61_buf ents;
        i61_buf_init(&ents);
        int k = first, sent = 0;
        for (; k <= s->nentries && sent < s->page; k++, sent++) {
            if (q.has_end_time && entry_time(k) > q.end_ms)
                break;
            encode_entry(&ents, k);
        }
        bool more = k <= s->nentries && (!q.has_end_time || entry_time(k) <= q.end_ms);
        i61_mms_enc_read_journal_resp(&b, rq.invoke_id, ents.data, ents.len, more);
        i61_buf_free(&ents);
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

static void fs_start(fs *s, int nentries, int page)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->nentries = nentries;
    s->page = page;
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
    free(s->raw);
    pthread_mutex_destroy(&s->mu);
}

/* Answer every request with this PDU from now on (copied). */
static void fs_raw(fs *s, const uint8_t *p, size_t n)
{
    pthread_mutex_lock(&s->mu);
    free(s->raw);
    s->raw = malloc(n);
    memcpy(s->raw, p, n);
    s->raw_len = n;
    pthread_mutex_unlock(&s->mu);
}

static int fs_requests(fs *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->requests;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static i61_mms_journal_req fs_last(fs *s)
{
    pthread_mutex_lock(&s->mu);
    i61_mms_journal_req q = s->last;
    pthread_mutex_unlock(&s->mu);
    return q;
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

/* Checks entry i of j against entry n of the fake log. */
static void check_entry(const i61_journal *j, size_t i, int n)
{
    size_t idl = 0;
    const uint8_t *id = i61_journal_entry_id(j, i, &idl);
    uint8_t exp[8];
    entry_id(n, exp);
    T_EQ_MEM(id, idl, exp, 8);
    T_EQ_INT(i61_journal_entry_time_ms(j, i), entry_time(n));
    T_EQ_INT(i61_journal_var_count(j, i), 1);
    const char *ref = i61_journal_var_ref(j, i, 0);
    T_CHECK(ref && strcmp(ref, "TESTGenericIO/GGIO1$ST$Ind1$stVal") == 0);
    int b = -1;
    T_EQ_INT(i61_value_get_boolean(i61_journal_var_value(j, i, 0), &b), I61_OK);
    T_EQ_INT(b, n & 1);
    int want = n == 7 ? -1 : n % 5 == 0 ? I61_REASON_GI : I61_REASON_DCHG;
    T_EQ_INT(i61_journal_var_reason(j, i, 0), want);
}

/* ------------------------------------------------------------ tests */

static void test_query_by_time(void)
{
    fs s;
    fs_start(&s, 20, 100);
    i61_client *c = connect_client(&s);
    i61_journal *j = NULL;
    int more = -1;
    /* entries 3..9 */
    T_EQ_INT(i61_client_read_journal(c, LOGREF, entry_time(3), entry_time(9), NULL, 0, 0, &j,
                                     &more), I61_OK);
    i61_mms_journal_req q = fs_last(&s);
    T_EQ_INT(q.journal.scope, I61_MMS_SCOPE_DOMAIN);
    T_CHECK(strcmp(q.journal.domain, "TESTGenericIO") == 0);
    T_CHECK(strcmp(q.journal.item, "LLN0$EventLog") == 0);
    T_CHECK(q.has_start_time && q.has_end_time && !q.has_after && !q.has_start_entry);
    T_EQ_INT(q.start_ms, entry_time(3));
    T_EQ_INT(q.end_ms, entry_time(9));
    T_EQ_INT(more, 0);
    T_EQ_INT(i61_journal_count(j), 7);
    for (size_t i = 0; i < i61_journal_count(j); i++)
        check_entry(j, i, (int)i + 3);
    i61_journal_free(j);

    /* the "." form of the reference, no end time */
    T_EQ_INT(i61_client_read_journal(c, "TESTGenericIO/LLN0.EventLog", entry_time(18), -1, NULL,
                                     0, 0, &j, &more), I61_OK);
    q = fs_last(&s);
    T_CHECK(q.has_start_time && !q.has_end_time);
    T_CHECK(strcmp(q.journal.item, "LLN0$EventLog") == 0);
    T_EQ_INT(i61_journal_count(j), 3);
    check_entry(j, 0, 18);
    i61_journal_free(j);

    /* no range at all; more_follows may be NULL */
    T_EQ_INT(i61_client_read_journal(c, LOGREF, -1, -1, NULL, 0, 0, &j, NULL), I61_OK);
    q = fs_last(&s);
    T_CHECK(!q.has_start_time && !q.has_end_time && !q.has_after);
    T_EQ_INT(i61_journal_count(j), 20);
    i61_journal_free(j);

    /* times outside the TimeOfDay range are clamped: 1970 -> 1984, far future -> 2163 */
    T_EQ_INT(i61_client_read_journal(c, LOGREF, 0, INT64_MAX, NULL, 0, 0, &j, &more), I61_OK);
    q = fs_last(&s);
    T_EQ_INT(q.start_ms, MS_1984);
    T_EQ_INT(q.end_ms, MS_1984 + 65536LL * 86400000LL - 1);
    T_EQ_INT(i61_journal_count(j), 20);
    i61_journal_free(j);

    /* an empty range */
    T_EQ_INT(i61_client_read_journal(c, LOGREF, entry_time(30), entry_time(40), NULL, 0, 0, &j,
                                     &more), I61_OK);
    T_EQ_INT(i61_journal_count(j), 0);
    T_EQ_INT(more, 0);
    i61_journal_free(j);
    finish(c, &s);
}

/* Pages of 4: follow moreFollows with the last entry's id and time. */
static void test_paging(void)
{
    fs s;
    fs_start(&s, 21, 4);
    i61_client *c = connect_client(&s);
    i61_journal *j = NULL;
    int more = 0, pages = 0, seen = 0;
    int64_t end = entry_time(19);
    T_EQ_INT(i61_client_read_journal(c, LOGREF, entry_time(2), end, NULL, 0, 0, &j, &more),
             I61_OK);
    for (;;) {
        pages++;
        size_t n = i61_journal_count(j);
        for (size_t i = 0; i < n; i++)
            check_entry(j, i, 2 + seen + (int)i);
        seen += (int)n;
        if (!more || n == 0 || pages > 10)
            break;
        size_t idl;
        uint8_t id[16];
        const uint8_t *last = i61_journal_entry_id(j, n - 1, &idl);
        memcpy(id, last, idl);
        int64_t t = i61_journal_entry_time_ms(j, n - 1);
        i61_journal_free(j);
        j = NULL;
        T_EQ_INT(i61_client_read_journal(c, LOGREF, -1, end, id, idl, t, &j, &more), I61_OK);
        i61_mms_journal_req q = fs_last(&s);
        T_CHECK(q.has_after && q.has_end_time && !q.has_start_time);
        T_EQ_MEM(q.after_entry, q.after_entry_len, id, idl);
        T_EQ_INT(q.after_ms, t);
        T_EQ_INT(q.end_ms, end);
    }
    i61_journal_free(j);
    T_EQ_INT(seen, 18);                  /* entries 2..19 */
    T_EQ_INT(pages, 5);                  /* 4 + 4 + 4 + 4 + 2 */
    T_EQ_INT(more, 0);
    finish(c, &s);
}

static void test_no_such_log(void)
{
    fs s;
    fs_start(&s, 3, 10);
    i61_client *c = connect_client(&s);
    i61_journal *j = (i61_journal *)1;
    int more = 7;
    T_EQ_INT(i61_client_read_journal(c, "TESTGenericIO/LLN0$NoLog", -1, -1, NULL, 0, 0, &j,
                                     &more), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_CHECK(j == NULL);
    T_EQ_INT(more, 0);
    const char *text = i61_client_last_error_text(c);
    T_CHECK(strstr(text, "NoLog") != NULL);
    T_CHECK(strstr(text, "object-non-existent") != NULL);
    /* the Rust iec61850 server names its journals after the LCB: "LLN0$LG$EventLog" */
    T_EQ_INT(i61_client_read_journal(c, "TESTGenericIO/LLN0.LG.EventLog", -1, -1, NULL, 0, 0,
                                     &j, &more), I61_ERR_OBJECT_DOES_NOT_EXIST);
    i61_mms_journal_req q = fs_last(&s);
    T_CHECK(strcmp(q.journal.item, "LLN0$LG$EventLog") == 0);
    T_CHECK(strcmp(q.journal.domain, "TESTGenericIO") == 0);
    /* golden 131 itself: its MMS PDU (TPKT 4, COTP 3, session 4, then the
     * presentation PDU 61 { 30 { 02 01 03, a0 { <MMS> } } }) */
    size_t fl;
    uint8_t *f = t_golden("131_readjournal_error", &fl);
    i61_ber_tlv t, x;
    i61_ber_reader r;
    T_EQ_INT(i61_ber_parse(f + 11, fl - 11, &t, NULL), I61_BER_OK);
    i61_ber_reader_sub(&r, &t);
    T_EQ_INT(i61_ber_next(&r, &t), I61_BER_OK);
    i61_ber_reader_sub(&r, &t);
    T_EQ_INT(i61_ber_next(&r, &x), I61_BER_OK);
    T_EQ_INT(i61_ber_next(&r, &x), I61_BER_OK);
    T_EQ_INT(x.id, 0xa0);
    fs_raw(&s, x.val, x.len);
    T_EQ_INT(i61_client_read_journal(c, LOGREF, -1, -1, NULL, 0, 0, &j, &more),
             I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_CHECK(j == NULL);
    free(f);
    finish(c, &s);
}

static void test_refused_locally(void)
{
    fs s;
    fs_start(&s, 3, 10);
    i61_client *c = connect_client(&s);
    i61_journal *j = NULL;
    static const char *const bad[] = {
        "", "TESTGenericIO", "TESTGenericIO/LLN0", "TESTGenericIO/LLN0$", "TESTGenericIO/$EventLog",
        "TESTGenericIO/LLN0.Event-Log", "/LLN0$EventLog", "TESTGenericIO/LLN0..EventLog",
        "TESTGenericIO/LLN0$EventLog.", "TESTGenericIO/LLN0/EventLog",
        "TEST GenericIO/LLN0$EventLog",
        "TESTGenericIO/LLN0$AVeryLongLogNameThatDoesNotFitInAnMmsItemOfSixtyFourCharacters",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = i61_client_read_journal(c, bad[i], -1, -1, NULL, 0, 0, &j, NULL);
        if (rc != I61_ERR_OBJECT_REFERENCE_INVALID)
            fprintf(stderr, "  '%s': %d\n", bad[i], rc);
        T_EQ_INT(rc, I61_ERR_OBJECT_REFERENCE_INVALID);
        T_CHECK(j == NULL);
    }
    T_EQ_INT(i61_client_read_journal(c, NULL, -1, -1, NULL, 0, 0, &j, NULL),
             I61_ERR_OBJECT_REFERENCE_INVALID);
    T_EQ_INT(i61_client_read_journal(c, LOGREF, -2, -1, NULL, 0, 0, &j, NULL),
             I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_client_read_journal(c, LOGREF, -1, -5, NULL, 0, 0, &j, NULL),
             I61_ERR_INVALID_ARGUMENT);
    uint8_t id[17] = { 0 };
    T_EQ_INT(i61_client_read_journal(c, LOGREF, -1, -1, id, 8, -1, &j, NULL),
             I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_client_read_journal(c, LOGREF, -1, -1, id, 17, T0, &j, NULL),
             I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_client_read_journal(c, LOGREF, -1, -1, NULL, 0, 0, NULL, NULL),
             I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_client_read_journal(NULL, LOGREF, -1, -1, NULL, 0, 0, &j, NULL),
             I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(fs_requests(&s), 0);
    /* a 16-octet id and an empty one are fine */
    T_EQ_INT(i61_client_read_journal(c, LOGREF, -1, -1, id, 16, T0, &j, NULL), I61_OK);
    i61_journal_free(j);
    T_EQ_INT(i61_client_read_journal(c, LOGREF, -1, -1, id, 0, T0, &j, NULL), I61_OK);
    i61_mms_journal_req q = fs_last(&s);
    T_CHECK(q.has_after);
    T_EQ_INT(q.after_entry_len, 0);
    i61_journal_free(j);
    finish(c, &s);

    /* not connected */
    c = i61_client_new();
    T_EQ_INT(i61_client_read_journal(c, LOGREF, -1, -1, NULL, 0, 0, &j, NULL),
             I61_ERR_NOT_CONNECTED);
    i61_client_free(c);
}

/* A response built from entry TLVs in ents (invoke id patched by the server). */
static void answer_with(fs *s, const i61_buf *ents, bool more)
{
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_enc_read_journal_resp(&b, 1, ents->data, ents->len, more), I61_OK);
    fs_raw(s, b.data, b.len);
    i61_buf_free(&b);
}

static void put_entry(i61_buf *b, int n, const char *const *tags, i61_value **vals, size_t nv)
{
    i61_mms_journal_entry e;
    memset(&e, 0, sizeof e);
    entry_id(n, e.id);
    e.id_len = 8;
    e.time_ms = entry_time(n);
    i61_mms_journal_var v[8];
    for (size_t i = 0; i < nv; i++) {
        v[i].tag = (char *)tags[i];
        v[i].value = vals[i];
    }
    e.vars = v;
    e.nvars = nv;
    T_EQ_INT(i61_mms_enc_journal_entry(b, &e), I61_OK);
}

static void test_pairing(void)
{
    fs s;
    fs_start(&s, 0, 10);
    i61_client *c = connect_client(&s);
    uint8_t dchg = 0x40, app = 0x02, all = 0x7e;
    i61_value *vals[6] = {
        i61_value_new_bit_string(7, &dchg),          /* ReasonCode with nothing before it */
        i61_value_new_float(1.5f),
        i61_value_new_bit_string(7, &app),           /* application-trigger (IEC bit 6) */
        i61_value_new_bit_string(6, &dchg),          /* a second ReasonCode in a row */
        i61_value_new_integer(5),
        i61_value_new_visible_string("not bits"),    /* "ReasonCode" that is no bit string */
    };
    static const char *const tags[6] = { "ReasonCode", "LD/LN$MX$A$mag$f", "ReasonCode",
                                         "ReasonCode", "LD/LN$ST$B$stVal", "ReasonCode" };
    i61_buf ents;
    i61_buf_init(&ents);
    put_entry(&ents, 1, tags, vals, 6);
    i61_value *v2[2] = { i61_value_new_boolean(1), i61_value_new_bit_string(7, &all) };
    static const char *const t2[2] = { "LD/LN$ST$C$stVal", "ReasonCode" };
    put_entry(&ents, 2, t2, v2, 2);
    put_entry(&ents, 3, t2, v2, 0);                  /* no variables */
    answer_with(&s, &ents, true);
    i61_journal *j = NULL;
    int more = 0;
    T_EQ_INT(i61_client_read_journal(c, LOGREF, T0, -1, NULL, 0, 0, &j, &more), I61_OK);
    T_EQ_INT(more, 1);
    T_EQ_INT(i61_journal_count(j), 3);
    /* entry 1: ReasonCode(kept), A+app-trigger, ReasonCode(kept: A already has one), B, ReasonCode string */
    T_EQ_INT(i61_journal_var_count(j, 0), 5);
    T_CHECK(strcmp(i61_journal_var_ref(j, 0, 0), "ReasonCode") == 0);
    T_EQ_INT(i61_journal_var_reason(j, 0, 0), -1);
    T_CHECK(strcmp(i61_journal_var_ref(j, 0, 1), "LD/LN$MX$A$mag$f") == 0);
    T_EQ_INT(i61_journal_var_reason(j, 0, 1), I61_REASON_APP_TRIGGER);
    T_CHECK(strcmp(i61_journal_var_ref(j, 0, 2), "ReasonCode") == 0);
    T_EQ_INT(i61_value_type(i61_journal_var_value(j, 0, 2)), I61_TYPE_BIT_STRING);
    T_CHECK(strcmp(i61_journal_var_ref(j, 0, 3), "LD/LN$ST$B$stVal") == 0);
    T_EQ_INT(i61_journal_var_reason(j, 0, 3), -1);
    T_CHECK(strcmp(i61_journal_var_ref(j, 0, 4), "ReasonCode") == 0);
    T_EQ_INT(i61_value_type(i61_journal_var_value(j, 0, 4)), I61_TYPE_VISIBLE_STRING);
    /* entry 2: every reason bit */
    T_EQ_INT(i61_journal_var_count(j, 1), 1);
    T_EQ_INT(i61_journal_var_reason(j, 1, 0),
             I61_REASON_DCHG | I61_REASON_QCHG | I61_REASON_DUPD | I61_REASON_INTEGRITY |
             I61_REASON_GI | I61_REASON_APP_TRIGGER);
    /* entry 3: nothing */
    T_EQ_INT(i61_journal_var_count(j, 2), 0);
    T_EQ_INT(i61_journal_entry_time_ms(j, 2), entry_time(3));
    /* out of range accessors */
    size_t l = 5;
    T_CHECK(i61_journal_entry_id(j, 3, &l) == NULL);
    T_EQ_INT(l, 0);
    T_EQ_INT(i61_journal_entry_time_ms(j, 3), 0);
    T_EQ_INT(i61_journal_var_count(j, 3), 0);
    T_CHECK(i61_journal_var_ref(j, 1, 1) == NULL);
    T_CHECK(i61_journal_var_value(j, 2, 0) == NULL);
    T_EQ_INT(i61_journal_var_reason(j, 0, 5), -1);
    T_EQ_INT(i61_journal_count(NULL), 0);
    T_CHECK(i61_journal_entry_id(NULL, 0, NULL) == NULL);
    i61_journal_free(j);
    i61_journal_free(NULL);
    for (int i = 0; i < 6; i++)
        i61_value_free(vals[i]);
    i61_value_free(v2[0]);
    i61_value_free(v2[1]);
    i61_buf_free(&ents);
    finish(c, &s);
}

/* i61_journal_views: the whole journal in one call, the same as the accessors. */
static void test_views(void)
{
    fs s;
    fs_start(&s, 0, 10);
    i61_client *c = connect_client(&s);
    uint8_t dchg = 0x40, gi = 0x04;
    i61_value *v1[4] = { i61_value_new_float(2.5f), i61_value_new_bit_string(7, &dchg),
                         i61_value_new_integer(-3), i61_value_new_bit_string(7, &gi) };
    static const char *const t1[4] = { "LD/LN$MX$A$mag$f", "ReasonCode", "LD/LN$ST$B$stVal",
                                       "ReasonCode" };
    i61_value *v3[1] = { i61_value_new_boolean(1) };
    static const char *const t3[1] = { "LD/LN$ST$C$stVal" };
    i61_buf ents;
    i61_buf_init(&ents);
    put_entry(&ents, 1, t1, v1, 4);
    put_entry(&ents, 2, t1, v1, 0);                  /* no variables */
    put_entry(&ents, 3, t3, v3, 1);                  /* no reason code */
    answer_with(&s, &ents, false);
    i61_journal *j = NULL;
    T_EQ_INT(i61_client_read_journal(c, LOGREF, T0, -1, NULL, 0, 0, &j, NULL), I61_OK);
    T_EQ_INT(i61_journal_count(j), 3);
    T_EQ_INT(i61_journal_var_total(j), 3);
    i61_journal_entry_view e[3];
    i61_journal_var_view v[3];
    T_EQ_INT(i61_journal_views(j, e, 3, v, 3), I61_OK);
    uint8_t id[8];
    for (int i = 0; i < 3; i++) {
        entry_id(i + 1, id);
        T_EQ_MEM(e[i].id, e[i].id_len, id, 8);
        T_EQ_INT(e[i].time_ms, entry_time(i + 1));
    }
    T_EQ_INT(e[0].first_var, 0);
    T_EQ_INT(e[0].nvars, 2);
    T_EQ_INT(e[1].first_var, 2);
    T_EQ_INT(e[1].nvars, 0);
    T_EQ_INT(e[2].first_var, 2);
    T_EQ_INT(e[2].nvars, 1);
    T_CHECK(strcmp(v[0].ref, "LD/LN$MX$A$mag$f") == 0);
    double f = 0;
    T_EQ_INT(i61_value_get_double(v[0].value, &f), I61_OK);
    T_CHECK(f == 2.5);
    T_EQ_INT(v[0].reason, I61_REASON_DCHG);
    T_CHECK(strcmp(v[1].ref, "LD/LN$ST$B$stVal") == 0);
    int64_t iv = 0;
    T_EQ_INT(i61_value_get_int64(v[1].value, &iv), I61_OK);
    T_EQ_INT(iv, -3);
    T_EQ_INT(v[1].reason, I61_REASON_GI);
    T_CHECK(strcmp(v[2].ref, "LD/LN$ST$C$stVal") == 0);
    int b = 0;
    T_EQ_INT(i61_value_get_boolean(v[2].value, &b), I61_OK);
    T_EQ_INT(b, 1);
    T_EQ_INT(v[2].reason, -1);
    /* the same pointers as the entry-by-entry accessors */
    T_CHECK(v[2].value == i61_journal_var_value(j, 2, 0));
    T_CHECK(v[1].ref == i61_journal_var_ref(j, 0, 1));
    /* arrays too small, or missing: nothing written */
    i61_journal_entry_view e2[3];
    memset(e2, 0xab, sizeof e2);
    T_EQ_INT(i61_journal_views(j, e2, 2, v, 3), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_journal_views(j, e2, 3, v, 2), I61_ERR_INVALID_ARGUMENT);
    T_CHECK(e2[0].id_len == (size_t)-1 / 0xff * 0xab);             /* untouched */
    T_EQ_INT(i61_journal_views(j, NULL, 3, v, 3), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_journal_views(j, e2, 3, NULL, 3), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_journal_views(NULL, e, 3, v, 3), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_journal_var_total(NULL), 0);
    i61_journal_free(j);

    /* an empty page: no arrays needed */
    i61_buf_free(&ents);
    i61_buf_init(&ents);
    answer_with(&s, &ents, false);
    T_EQ_INT(i61_client_read_journal(c, LOGREF, T0, -1, NULL, 0, 0, &j, NULL), I61_OK);
    T_EQ_INT(i61_journal_count(j), 0);
    T_EQ_INT(i61_journal_var_total(j), 0);
    T_EQ_INT(i61_journal_views(j, NULL, 0, NULL, 0), I61_OK);
    i61_journal_free(j);
    for (int i = 0; i < 4; i++)
        i61_value_free(v1[i]);
    i61_value_free(v3[0]);
    i61_buf_free(&ents);
    finish(c, &s);
}

static void test_bad_answers(void)
{
    fs s;
    fs_start(&s, 0, 10);
    i61_client *c = connect_client(&s);
    i61_journal *j = (i61_journal *)1;
    /* an entry with a 5-octet time */
    static const uint8_t bad_entry[] = {
        0xa1, 0x1a, 0x02, 0x01, 0x01, 0xbf, 0x41, 0x14, 0xa0, 0x12,
        0x30, 0x10, 0x80, 0x01, 0x01, 0xa1, 0x00, 0xa2, 0x09, 0x80, 0x05, 0x04, 0xb5, 0x71,
        0xc0, 0x38, 0xa2, 0x00
    };
    fs_raw(&s, bad_entry, sizeof bad_entry);
    T_EQ_INT(i61_client_read_journal(c, LOGREF, T0, -1, NULL, 0, 0, &j, NULL),
             I61_ERR_MALFORMED_MESSAGE);
    T_CHECK(j == NULL);
    /* the answer of another service */
    static const uint8_t other[] = { 0xa1, 0x08, 0x02, 0x01, 0x01, 0xbf, 0x4d, 0x02, 0xa0, 0x00 };
    fs_raw(&s, other, sizeof other);
    T_EQ_INT(i61_client_read_journal(c, LOGREF, T0, -1, NULL, 0, 0, &j, NULL),
             I61_ERR_MALFORMED_MESSAGE);
    /* a reject */
    i61_buf b;
    i61_buf_init(&b);
    i61_mms_enc_reject_pdu(&b, true, 1, I61_MMS_REJECT_CONFIRMED_REQUEST,
                           I61_MMS_REJECT_UNRECOGNIZED_SERVICE);
    fs_raw(&s, b.data, b.len);
    T_EQ_INT(i61_client_read_journal(c, LOGREF, T0, -1, NULL, 0, 0, &j, NULL),
             I61_ERR_SERVICE_NOT_SUPPORTED);
    T_CHECK(strstr(i61_client_last_error_text(c), "unrecognized-service") != NULL);
    i61_buf_free(&b);
    /* the connection still works */
    T_EQ_INT(i61_client_state(c), I61_STATE_CONNECTED);
    finish(c, &s);
}

T_MAIN(T_CASE(test_query_by_time), T_CASE(test_paging), T_CASE(test_no_such_log),
       T_CASE(test_refused_locally), T_CASE(test_pairing), T_CASE(test_views),
       T_CASE(test_bad_answers))
