/* The MMS server on real sockets (127.0.0.1, ephemeral port), driven by our
 * own client API for every service, plus hostile raw-socket clients: garbage,
 * silence, half a TPKT, 1000 connect/drop cycles, the connection limit,
 * deferred write/read hooks completed from another thread. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "t.h"
#include "test_server_fixture.h"

static i61_server *start_golden(void)
{
    i61_server *s = i61_server_new(fx_golden_model());
    T_CHECK(s != NULL);
    T_EQ_INT(i61_server_set_identity(s, "GoldVendor", "GoldModel", "1.0"), 0);
    T_EQ_INT(i61_server_set_write_access(s, I61_FC_DC, 1), 0);
    T_EQ_INT(i61_server_start(s, "127.0.0.1", 0), 0);
    T_CHECK(i61_server_port(s) > 0);
    return s;
}

static i61_client *connect_to(i61_server *s)
{
    i61_client *c = i61_client_new();
    i61_client_set_request_timeout(c, 5000);
    int rc = i61_client_connect(c, "127.0.0.1", i61_server_port(s));
    T_EQ_INT(rc, 0);
    if (rc != 0)
        fprintf(stderr, "connect: %s\n", i61_client_last_error_text(c));
    return c;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Waits until the peer closes (recv returns 0 or an error); returns the time
 * it took, or -1 if still open after limit_ms. Received octets are counted. */
static long wait_closed(int fd, int limit_ms, size_t *received)
{
    uint64_t t0 = now_ms();
    uint8_t buf[4096];
    for (;;) {
        long left = limit_ms - (long)(now_ms() - t0);
        if (left <= 0)
            return -1;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, (int)left) <= 0)
            return -1;
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r <= 0)
            return (long)(now_ms() - t0);
        if (received)
            *received += (size_t)r;
    }
}

/* ------------------------------------------------------------ services */

static void test_services_with_our_client(void)
{
    i61_server *s = start_golden();
    i61_client *c = connect_to(s);
    T_EQ_INT(i61_client_state(c), I61_STATE_CONNECTED);
    T_EQ_INT(i61_client_max_pdu_size(c), 65000);

    char *v = NULL, *m = NULL, *r = NULL;
    T_EQ_INT(i61_client_identify(c, &v, &m, &r), 0);
    T_CHECK(v && strcmp(v, "GoldVendor") == 0);
    T_CHECK(m && strcmp(m, "GoldModel") == 0);
    T_CHECK(r && strcmp(r, "1.0") == 0);
    i61_free(v); i61_free(m); i61_free(r);

    int lg = -1, ph = -1;
    T_EQ_INT(i61_client_status(c, &lg, &ph), 0);
    T_EQ_INT(lg, 0);
    T_EQ_INT(ph, 0);

    i61_strlist *l = NULL;
    T_EQ_INT(i61_client_get_domain_names(c, &l), 0);
    T_EQ_INT(i61_strlist_count(l), 1);
    T_CHECK(strcmp(i61_strlist_get(l, 0), "IED1LD1") == 0);
    i61_strlist_free(l);
    T_EQ_INT(i61_client_get_variable_names(c, "IED1LD1", &l), 0);
    T_EQ_INT(i61_strlist_count(l), 158);
    T_CHECK(strcmp(i61_strlist_get(l, 0), "GGIO1") == 0);
    T_CHECK(strcmp(i61_strlist_get(l, 157), "PTOC1$SP$StrVal$setMag$f") == 0);
    i61_strlist_free(l);
    T_EQ_INT(i61_client_get_variable_names(c, "NOPE", &l), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_client_get_nvl_names(c, "IED1LD1", &l), 0);
    T_EQ_INT(i61_strlist_count(l), 0);
    i61_strlist_free(l);
    T_EQ_INT(i61_client_get_logical_nodes(c, "IED1LD1", &l), 0);
    T_EQ_INT(i61_strlist_count(l), 3);
    i61_strlist_free(l);

    i61_typespec *ts = NULL;
    T_EQ_INT(i61_client_get_variable_spec(c, "IED1LD1/GGIO1.AnIn1", I61_FC_MX, &ts), 0);
    T_EQ_INT(i61_typespec_kind(ts), I61_TYPE_STRUCTURE);
    T_EQ_INT(i61_typespec_count(ts), 3);
    i61_typespec_free(ts);

    double d = 0;
    T_EQ_INT(i61_client_read_double(c, "IED1LD1/GGIO1.AnIn1.mag.f", I61_FC_MX, &d), 0);
    T_CHECK(d == 12.5);
    int b = -1;
    T_EQ_INT(i61_client_read_bool(c, "IED1LD1/GGIO1.Ind1.stVal", I61_FC_ST, &b), 0);
    T_EQ_INT(b, 0);
    int64_t iv = 0;
    T_EQ_INT(i61_client_read_int64(c, "IED1LD1/GGIO1.SPCSO2.ctlModel", I61_FC_CF, &iv), 0);
    T_EQ_INT(iv, 4);
    i61_value *val = NULL;
    T_EQ_INT(i61_client_read_value(c, "IED1LD1/GGIO1.AnIn9.mag.f", I61_FC_MX, &val),
             I61_ERR_OBJECT_DOES_NOT_EXIST);

    /* several variables in one Read, one of them missing */
    const char *refs[] = {"IED1LD1/GGIO1.Ind1.stVal", "IED1LD1/GGIO1.Nope.stVal",
                          "IED1LD1/LLN0.NamPlt.vendor"};
    const int fcs[] = {I61_FC_ST, I61_FC_ST, I61_FC_DC};
    T_EQ_INT(i61_client_read_values(c, refs, fcs, 3, &val), 0);
    T_EQ_INT(i61_value_count(val), 3);
    T_EQ_INT(i61_value_type(i61_value_element(val, 0)), I61_TYPE_BOOLEAN);
    T_EQ_INT(i61_value_get_data_access_error(i61_value_element(val, 1)), 10);
    T_EQ_INT(i61_value_type(i61_value_element(val, 2)), I61_TYPE_VISIBLE_STRING);
    i61_value_free(val);

    /* writes: allowed, denied by FC, wrong type, missing, several at once */
    i61_value *f = i61_value_new_float(3.25f);
    T_EQ_INT(i61_client_write_value(c, "IED1LD1/PTOC1.StrVal.setMag.f", I61_FC_SP, f), 0);
    T_EQ_INT(i61_client_read_double(c, "IED1LD1/PTOC1.StrVal.setMag.f", I61_FC_SP, &d), 0);
    T_CHECK(d == 3.25);
    i61_value *t = i61_value_new_boolean(1);
    T_EQ_INT(i61_client_write_value(c, "IED1LD1/GGIO1.Ind1.stVal", I61_FC_ST, t), I61_ERR_ACCESS_DENIED);
    T_EQ_INT(i61_client_write_value(c, "IED1LD1/PTOC1.StrVal.setMag.f", I61_FC_SP, t),
             I61_ERR_TYPE_INCONSISTENT);
    T_EQ_INT(i61_client_write_value(c, "IED1LD1/GGIO1.Ind9.stVal", I61_FC_ST, t),
             I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_client_write_value(c, "IED1LD1/GGIO1.SPCSO1.ctlModel", I61_FC_CF, t),
             I61_ERR_ACCESS_DENIED);                    /* CF not writable by default */
    const char *wrefs[] = {"IED1LD1/PTOC1.StrVal.setMag.f", "IED1LD1/GGIO1.Ind1.stVal",
                           "IED1LD1/GGIO1.Ind1.d"};
    const int wfcs[] = {I61_FC_SP, I61_FC_ST, I61_FC_DC};
    i61_value *desc = i61_value_new_visible_string("new description");
    const i61_value *wv[] = {f, t, desc};
    int results[3] = {-1, -1, -1};
    T_EQ_INT(i61_client_write_values(c, wrefs, wfcs, wv, 3, results), 0);
    T_EQ_INT(results[0], 0);
    T_EQ_INT(results[1], I61_ERR_ACCESS_DENIED);
    T_EQ_INT(results[2], 0);
    i61_value_free(f);
    i61_value_free(t);
    i61_value_free(desc);
    T_EQ_INT(i61_client_read_value(c, "IED1LD1/GGIO1.Ind1.d", I61_FC_DC, &val), 0);
    size_t sl = 0;
    const uint8_t *sp = i61_value_get_bytes(val, &sl);
    T_EQ_MEM(sp, sl, "new description", 15);
    i61_value_free(val);

    /* application update is seen by the client */
    i61_value *upd = i61_value_new_float(-7.5f);
    T_EQ_INT(i61_model_set_value(i61_server_model(s), "IED1LD1/GGIO1.AnIn1.mag.f", I61_FC_NONE, upd), 0);
    i61_value_free(upd);
    T_EQ_INT(i61_client_read_double(c, "IED1LD1/GGIO1.AnIn1.mag.f", I61_FC_MX, &d), 0);
    T_CHECK(d == -7.5);

    T_EQ_INT(i61_server_connection_count(s), 1);
    T_EQ_INT(i61_client_release(c), 0);
    T_EQ_INT(i61_client_state(c), I61_STATE_CLOSED);
    for (int i = 0; i < 100 && i61_server_connection_count(s) != 0; i++)
        usleep(10000);
    T_EQ_INT(i61_server_connection_count(s), 0);
    i61_client_free(c);
    i61_server_free(s);
}

static void test_small_pdu_paging(void)
{
    i61_server *s = start_golden();
    i61_client *c = i61_client_new();
    i61_client_set_max_pdu_size(c, 512);
    T_EQ_INT(i61_client_connect(c, "127.0.0.1", i61_server_port(s)), 0);
    T_EQ_INT(i61_client_max_pdu_size(c), 512);
    i61_strlist *l = NULL;
    T_EQ_INT(i61_client_get_variable_names(c, "IED1LD1", &l), 0);
    T_EQ_INT(i61_strlist_count(l), 158);
    i61_strlist_free(l);
    /* a read whose answer does not fit in 512 octets: a service error, not a hang */
    i61_typespec *ts = NULL;
    T_CHECK(i61_client_get_variable_spec(c, "IED1LD1/LLN0", I61_FC_NONE, &ts) != 0);
    i61_typespec_free(ts);
    double d = 0;
    T_EQ_INT(i61_client_read_double(c, "IED1LD1/GGIO1.AnIn1.mag.f", I61_FC_MX, &d), 0);
    i61_client_free(c);
    i61_server_free(s);
}

static void test_arrays_alternate_access(void)
{
    i61_model *m = i61_model_new("ARR");
    i61_mnode *ld, *ln, *dobj, *arr;
    FX_OK(i61_model_add_ld(m, "LD", NULL, &ld));
    FX_OK(i61_model_add_ln(ld, "GGIO1", &ln));
    FX_OK(i61_model_add_do(ln, "Crv", &dobj));
    FX_OK(i61_model_add_da(dobj, "pts", I61_FC_SP, I61_TYPE_STRUCTURE, 0, 5, &arr));
    FX_OK(i61_model_add_da(arr, "x", I61_FC_NONE, I61_TYPE_FLOAT, 32, 0, NULL));
    FX_OK(i61_model_add_da(arr, "y", I61_FC_NONE, I61_TYPE_INTEGER, 32, 0, NULL));
    FX_OK(i61_model_add_da(dobj, "vals", I61_FC_SP, I61_TYPE_INTEGER, 16, 4, NULL));
    i61_value *a = i61_value_new_array(4);
    for (size_t i = 0; i < 4; i++)
        i61_value_set_element(a, i, i61_value_new_integer((int64_t)i * 10));
    FX_OK(i61_model_set_value(m, "ARR" "LD/GGIO1.Crv.vals", I61_FC_SP, a));
    i61_value_free(a);
    i61_server *s = i61_server_new(m);
    T_EQ_INT(i61_server_start(s, "127.0.0.1", 0), 0);
    i61_client *c = connect_to(s);
    i61_value *v = NULL;
    T_EQ_INT(i61_client_read_array_element(c, "ARRLD/GGIO1.Crv.vals", I61_FC_SP, 2, NULL, &v), 0);
    int64_t x = -1;
    T_EQ_INT(i61_value_get_int64(v, &x), 0);
    T_EQ_INT(x, 20);
    i61_value_free(v);
    T_EQ_INT(i61_client_read_array_element(c, "ARRLD/GGIO1.Crv.pts", I61_FC_SP, 4, "y", &v), 0);
    T_EQ_INT(i61_value_type(v), I61_TYPE_INTEGER);
    i61_value_free(v);
    T_EQ_INT(i61_client_read_array_element(c, "ARRLD/GGIO1.Crv.vals", I61_FC_SP, 9, NULL, &v),
             I61_ERR_INVALID_ADDRESS);
    T_EQ_INT(i61_client_read_value(c, "ARRLD/GGIO1.Crv.vals", I61_FC_SP, &v), 0);
    T_EQ_INT(i61_value_type(v), I61_TYPE_ARRAY);
    T_EQ_INT(i61_value_count(v), 4);
    i61_value_free(v);
    i61_client_free(c);
    i61_server_free(s);
}

/* ------------------------------------------------------- deferred hooks */

typedef struct pending {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t tokens[64];
    int n;
    int calls;
    int on_io_thread_ok;
} pending;

static int queue_write_hook(void *ud, uint64_t token, uint32_t conn, const char *ref, int fc,
                            const i61_value *v)
{
    pending *p = ud;
    (void)conn; (void)ref; (void)fc; (void)v;
    pthread_mutex_lock(&p->mu);
    if (p->n < 64)
        p->tokens[p->n++] = token;
    p->calls++;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return I61_HOOK_DEFER;
}

typedef struct completer {
    i61_server *s;
    pending *p;
    int delay_ms;
    int result;
    int rc;
} completer;

static void *complete_thread(void *arg)
{
    completer *cp = arg;
    pthread_mutex_lock(&cp->p->mu);
    while (cp->p->n == 0)
        pthread_cond_wait(&cp->p->cv, &cp->p->mu);
    uint64_t tok = cp->p->tokens[--cp->p->n];
    pthread_mutex_unlock(&cp->p->mu);
    usleep((useconds_t)cp->delay_ms * 1000);
    cp->rc = i61_server_complete_write(cp->s, tok, cp->result);
    return NULL;
}

typedef struct wjob {
    i61_client *c;
    const i61_value *v;
    int rc;
} wjob;

static void *write_thread(void *arg)
{
    wjob *w = arg;
    w->rc = i61_client_write_value(w->c, "IED1LD1/PTOC1.StrVal.setMag.f", I61_FC_SP, w->v);
    return NULL;
}

static void test_deferred_hooks_over_sockets(void)
{
    i61_server *s = start_golden();
    pending p;
    memset(&p, 0, sizeof p);
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    T_EQ_INT(i61_server_set_write_hook(s, "IED1LD1/PTOC1.StrVal.setMag.f", I61_FC_SP,
                                       queue_write_hook, &p), 0);
    i61_client *c1 = connect_to(s);
    i61_client *c2 = connect_to(s);

    /* c1's write is accepted 300 ms later by another thread; meanwhile c2 is served */
    i61_value *f = i61_value_new_float(9.0f);
    completer cp = {s, &p, 300, I61_HOOK_ACCEPT, -99};
    wjob w = {c1, f, -99};
    pthread_t th, wth;
    uint64_t t0 = now_ms();
    pthread_create(&th, NULL, complete_thread, &cp);
    pthread_create(&wth, NULL, write_thread, &w);
    pthread_mutex_lock(&p.mu);
    while (p.calls == 0)
        pthread_cond_wait(&p.cv, &p.mu);
    pthread_mutex_unlock(&p.mu);
    uint64_t t1 = now_ms();
    double d = 0;
    T_EQ_INT(i61_client_read_double(c2, "IED1LD1/GGIO1.AnIn1.mag.f", I61_FC_MX, &d), 0);
    T_CHECK(now_ms() - t1 < 200);
    T_EQ_INT(i61_client_read_double(c2, "IED1LD1/PTOC1.StrVal.setMag.f", I61_FC_SP, &d), 0);
    T_CHECK(d == 0.0);                                /* not applied before the answer */
    pthread_join(wth, NULL);
    pthread_join(th, NULL);
    uint64_t took = now_ms() - t0;
    T_EQ_INT(w.rc, 0);
    T_EQ_INT(cp.rc, 0);
    T_CHECK(took >= 290);
    T_EQ_INT(i61_client_read_double(c2, "IED1LD1/PTOC1.StrVal.setMag.f", I61_FC_SP, &d), 0);
    T_CHECK(d == 9.0);
    int rc;
    pthread_t th2;

    /* refused by the application with object-value-invalid */
    completer cp2 = {s, &p, 10, 11, -99};
    pthread_create(&th2, NULL, complete_thread, &cp2);
    rc = i61_client_write_value(c1, "IED1LD1/PTOC1.StrVal.setMag.f", I61_FC_SP, f);
    pthread_join(th2, NULL);
    T_EQ_INT(rc, I61_ERR_OBJECT_VALUE_INVALID);
    T_EQ_INT(cp2.rc, 0);

    /* never answered: the hook timeout answers temporarily-unavailable */
    i61_server_set_hook_timeout(s, 200);
    t0 = now_ms();
    rc = i61_client_write_value(c1, "IED1LD1/PTOC1.StrVal.setMag.f", I61_FC_SP, f);
    T_EQ_INT(rc, I61_ERR_TEMPORARILY_UNAVAILABLE);
    T_CHECK(now_ms() - t0 >= 190 && now_ms() - t0 < 3000);
    pthread_mutex_lock(&p.mu);
    uint64_t late = p.n ? p.tokens[--p.n] : 0;
    pthread_mutex_unlock(&p.mu);
    T_EQ_INT(i61_server_complete_write(s, late, I61_HOOK_ACCEPT), I61_ERR_OBJECT_DOES_NOT_EXIST);
    i61_value_free(f);
    i61_client_free(c1);
    i61_client_free(c2);
    i61_server_free(s);
    pthread_mutex_destroy(&p.mu);
    pthread_cond_destroy(&p.cv);
}

/* ------------------------------------------------------ connections */

typedef struct conn_log {
    pthread_mutex_t mu;
    int up, down;
    char last_peer[64];
} conn_log;

static void on_conn(void *ud, uint32_t id, const char *peer, int connected)
{
    conn_log *l = ud;
    (void)id;
    pthread_mutex_lock(&l->mu);
    if (connected)
        l->up++;
    else
        l->down++;
    snprintf(l->last_peer, sizeof l->last_peer, "%s", peer);
    pthread_mutex_unlock(&l->mu);
}

static void test_connection_limit_and_events(void)
{
    i61_server *s = i61_server_new(fx_golden_model());
    conn_log lg;
    memset(&lg, 0, sizeof lg);
    pthread_mutex_init(&lg.mu, NULL);
    i61_server_set_connection_handler(s, on_conn, &lg);
    i61_server_set_max_connections(s, 2);
    T_EQ_INT(i61_server_start(s, "127.0.0.1", 0), 0);
    T_EQ_INT(i61_server_start(s, "127.0.0.1", 0), I61_ERR_ALREADY_CONNECTED);
    i61_client *a = connect_to(s);
    i61_client *b = connect_to(s);
    i61_client *x = i61_client_new();
    T_EQ_INT(i61_client_connect(x, "127.0.0.1", i61_server_port(s)), I61_ERR_CONNECTION_REJECTED);
    pthread_mutex_lock(&lg.mu);
    T_EQ_INT(lg.up, 2);
    T_CHECK(strncmp(lg.last_peer, "127.0.0.1:", 10) == 0);
    pthread_mutex_unlock(&lg.mu);
    T_EQ_INT(i61_client_abort(a), 0);
    for (int i = 0; i < 100 && i61_server_connection_count(s) != 1; i++)
        usleep(10000);
    T_EQ_INT(i61_server_connection_count(s), 1);
    T_EQ_INT(i61_client_connect(x, "127.0.0.1", i61_server_port(s)), 0);
    /* stop with clients connected: they lose the connection */
    T_EQ_INT(i61_server_stop(s), 0);
    T_EQ_INT(i61_server_port(s), 0);
    double d;
    T_CHECK(i61_client_read_double(b, "IED1LD1/GGIO1.AnIn1.mag.f", I61_FC_MX, &d) != 0);
    pthread_mutex_lock(&lg.mu);
    T_EQ_INT(lg.down, 3);
    pthread_mutex_unlock(&lg.mu);
    /* restart on a new port */
    T_EQ_INT(i61_server_start(s, "127.0.0.1", 0), 0);
    i61_client *y = connect_to(s);
    T_EQ_INT(i61_client_read_double(y, "IED1LD1/GGIO1.AnIn1.mag.f", I61_FC_MX, &d), 0);
    i61_client_free(y);
    i61_client_free(a);
    i61_client_free(b);
    i61_client_free(x);
    i61_server_free(s);
    pthread_mutex_destroy(&lg.mu);
}

static void test_hostile_clients(void)
{
    i61_server *s = i61_server_new(fx_golden_model());
    i61_server_set_timeouts(s, 300, 0);
    T_EQ_INT(i61_server_start(s, "127.0.0.1", 0), 0);
    int port = i61_server_port(s);
    i61_client *good = connect_to(s);

    /* silence after connect: closed by the handshake timeout */
    int fd = raw_connect(port);
    T_CHECK(fd >= 0);
    long t = wait_closed(fd, 3000, NULL);
    T_CHECK(t >= 250 && t < 3000);
    close(fd);
    /* half a TPKT, then nothing */
    fd = raw_connect(port);
    static const uint8_t half[] = {0x03, 0x00, 0x00, 0x16, 0x11, 0xe0};
    T_EQ_INT(send(fd, half, sizeof half, 0), (long)sizeof half);
    t = wait_closed(fd, 3000, NULL);
    T_CHECK(t >= 0 && t < 3000);
    close(fd);
    /* garbage: closed at once, nothing sent back */
    fd = raw_connect(port);
    const char *junk = "GET / HTTP/1.0\r\n\r\n";
    T_EQ_INT(send(fd, junk, strlen(junk), 0), (long)strlen(junk));
    size_t got = 0;
    t = wait_closed(fd, 2000, &got);
    T_CHECK(t >= 0 && t < 250);
    T_EQ_INT(got, 0);
    close(fd);
    /* an announced TPKT longer than anything allowed before the CR */
    fd = raw_connect(port);
    static const uint8_t huge[] = {0x03, 0x00, 0xff, 0xff, 0x02, 0xf0, 0x80};
    send(fd, huge, sizeof huge, 0);
    t = wait_closed(fd, 2000, NULL);
    T_CHECK(t >= 0 && t < 250);
    close(fd);
    /* 1000 connect/drop cycles */
    for (int i = 0; i < 1000; i++) {
        int k = raw_connect(port);
        T_CHECK(k >= 0);
        if (k >= 0)
            close(k);
    }
    /* still serving, and every dropped connection was reclaimed */
    double d = 0;
    T_EQ_INT(i61_client_read_double(good, "IED1LD1/GGIO1.AnIn1.mag.f", I61_FC_MX, &d), 0);
    for (int i = 0; i < 200 && i61_server_connection_count(s) != 1; i++)
        usleep(10000);
    T_EQ_INT(i61_server_connection_count(s), 1);
    i61_client_free(good);
    i61_server_free(s);
}

static void test_idle_timeout(void)
{
    i61_server *s = i61_server_new(fx_golden_model());
    i61_server_set_timeouts(s, 1000, 300);
    T_EQ_INT(i61_server_start(s, "127.0.0.1", 0), 0);
    i61_client *c = connect_to(s);
    double d;
    for (int i = 0; i < 4; i++) {                  /* activity keeps it open */
        usleep(150000);
        T_EQ_INT(i61_client_read_double(c, "IED1LD1/GGIO1.AnIn1.mag.f", I61_FC_MX, &d), 0);
    }
    usleep(700000);
    T_EQ_INT(i61_server_connection_count(s), 0);
    T_CHECK(i61_client_read_double(c, "IED1LD1/GGIO1.AnIn1.mag.f", I61_FC_MX, &d) != 0);
    i61_client_free(c);
    i61_server_free(s);
}

/* Many clients reading in parallel on the one I/O thread. */
typedef struct reader {
    i61_server *s;
    int n;
    int ok;
} reader;

static void *reader_thread(void *arg)
{
    reader *r = arg;
    i61_client *c = i61_client_new();
    if (i61_client_connect(c, "127.0.0.1", i61_server_port(r->s)) == 0) {
        for (int i = 0; i < r->n; i++) {
            double d;
            if (i61_client_read_double(c, "IED1LD1/GGIO1.AnIn1.mag.f", I61_FC_MX, &d) == 0 && d == 12.5)
                r->ok++;
        }
    }
    i61_client_free(c);
    return NULL;
}

static void test_parallel_clients(void)
{
    i61_server *s = start_golden();
    enum { N = 10 };
    pthread_t th[N];
    reader rd[N];
    for (int i = 0; i < N; i++) {
        rd[i].s = s;
        rd[i].n = 200;
        rd[i].ok = 0;
        pthread_create(&th[i], NULL, reader_thread, &rd[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        T_EQ_INT(rd[i].ok, 200);
    }
    i61_server_free(s);
}


/* ------------------------------------------------------- event queue */

typedef struct dispatcher {
    i61_server *s;
    atomic_int writes, reads, connects, disconnects;   /* polled by the main thread */
    int refuse_value;               /* writes of this float value are refused (11) */
    char last_ref[132];
    int last_fc;
    void *last_ud;
    int end_rc;
} dispatcher;

static void *dispatch_thread(void *arg)
{
    dispatcher *d = arg;
    for (;;) {
        i61_server_event *e = NULL;
        int rc = i61_server_next_event(d->s, 5000, &e);
        if (rc != 0) {
            d->end_rc = rc;
            return NULL;
        }
        switch (e->kind) {
        case I61_SEV_CONNECTED: d->connects++; break;
        case I61_SEV_DISCONNECTED: d->disconnects++; break;
        case I61_SEV_WRITE: {
            double v = 0;
            i61_value_get_double(e->value, &v);
            d->writes++;
            snprintf(d->last_ref, sizeof d->last_ref, "%s", e->ref);
            d->last_fc = e->fc;
            d->last_ud = e->userdata;
            i61_server_complete_write(d->s, e->token, (int)v == d->refuse_value ? 11 : I61_HOOK_ACCEPT);
            break;
        }
        case I61_SEV_READ:
            d->reads++;
            i61_server_complete_read(d->s, e->token, I61_HOOK_ACCEPT);
            break;
        }
        i61_server_event_free(e);
    }
}

static void test_event_queue(void)
{
    i61_server *s = i61_server_new(fx_golden_model());
    static int marker;
    T_EQ_INT(i61_server_set_queued_write_hook(s, "IED1LD1/PTOC1.StrVal", I61_FC_SP, 1, &marker), 0);
    T_EQ_INT(i61_server_set_queued_read_hook(s, "IED1LD1/GGIO1.AnIn1.mag.f", I61_FC_NONE, 1, NULL), 0);
    T_EQ_INT(i61_server_set_queued_read_hook(s, "IED1LD1/GGIO1.Nope", I61_FC_ST, 1, NULL),
             I61_ERR_OBJECT_DOES_NOT_EXIST);
    i61_server_set_queue_connection_events(s, 1);
    i61_server_event *e = NULL;
    T_EQ_INT(i61_server_next_event(s, 10, &e), I61_ERR_TIMEOUT);
    /* the timeout is measured on the clock the condition variable waits on */
    uint64_t w0 = now_ms();
    T_EQ_INT(i61_server_next_event(s, 200, &e), I61_ERR_TIMEOUT);
    uint64_t waited = now_ms() - w0;
    T_CHECK(waited >= 190 && waited < 2000);
    T_EQ_INT(i61_server_start(s, "127.0.0.1", 0), 0);
    dispatcher d;
    memset(&d, 0, sizeof d);
    d.s = s;
    d.refuse_value = 13;
    pthread_t th;
    pthread_create(&th, NULL, dispatch_thread, &d);
    i61_client *c = connect_to(s);
    i61_value *f = i61_value_new_float(4.0f);
    T_EQ_INT(i61_client_write_value(c, "IED1LD1/PTOC1.StrVal.setMag.f", I61_FC_SP, f), 0);
    i61_value_free(f);
    f = i61_value_new_float(13.0f);
    T_EQ_INT(i61_client_write_value(c, "IED1LD1/PTOC1.StrVal.setMag.f", I61_FC_SP, f),
             I61_ERR_OBJECT_VALUE_INVALID);
    i61_value_free(f);
    double v = 0;
    T_EQ_INT(i61_client_read_double(c, "IED1LD1/PTOC1.StrVal.setMag.f", I61_FC_SP, &v), 0);
    T_CHECK(v == 4.0);
    T_EQ_INT(i61_client_read_double(c, "IED1LD1/GGIO1.AnIn1.mag.f", I61_FC_MX, &v), 0);
    T_CHECK(v == 12.5);
    T_EQ_INT(i61_client_release(c), 0);
    for (int i = 0; i < 200 && d.disconnects == 0; i++)
        usleep(5000);
    i61_server_interrupt_events(s);
    pthread_join(th, NULL);
    T_EQ_INT(d.end_rc, I61_ERR_NOT_CONNECTED);
    T_EQ_INT(d.connects, 1);
    T_EQ_INT(d.disconnects, 1);
    T_EQ_INT(d.writes, 2);
    T_EQ_INT(d.reads, 1);
    T_CHECK(strcmp(d.last_ref, "IED1LD1/PTOC1.StrVal.setMag.f") == 0);
    T_EQ_INT(d.last_fc, I61_FC_SP);
    T_CHECK(d.last_ud == &marker);
    T_EQ_INT(i61_server_events_dropped(s), 0);

    /* a full queue refuses at once with temporarily-unavailable, and counts */
    i61_server_set_queue_connection_events(s, 0);
    i61_server_set_event_queue_size(s, 1);
    c = connect_to(s);
    f = i61_value_new_float(5.0f);
    i61_server_set_hook_timeout(s, 300);
    T_EQ_INT(i61_client_write_value(c, "IED1LD1/PTOC1.StrVal.setMag.f", I61_FC_SP, f),
             I61_ERR_TEMPORARILY_UNAVAILABLE);         /* queued, never answered: timeout */
    uint64_t t0 = now_ms();
    T_EQ_INT(i61_client_write_value(c, "IED1LD1/PTOC1.StrVal.setMag.f", I61_FC_SP, f),
             I61_ERR_TEMPORARILY_UNAVAILABLE);         /* queue full: at once */
    T_CHECK(now_ms() - t0 < 200);
    T_EQ_INT(i61_server_events_dropped(s), 1);
    i61_value_free(f);
    /* removing the queued hooks restores direct writes */
    T_EQ_INT(i61_server_set_queued_write_hook(s, "IED1LD1/PTOC1.StrVal", I61_FC_SP, 0, NULL), 0);
    f = i61_value_new_float(6.0f);
    T_EQ_INT(i61_client_write_value(c, "IED1LD1/PTOC1.StrVal.setMag.f", I61_FC_SP, f), 0);
    i61_value_free(f);
    i61_client_free(c);
    i61_server_free(s);                                /* frees the event still queued */
}

/* Reads one whole TPKT frame (blocking, 2 s); returns its length or -1. */
static int read_frame(int fd, uint8_t *buf, size_t cap)
{
    size_t got = 0, need = 4;
    uint64_t t0 = now_ms();
    while (got < need) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 2000) <= 0 || now_ms() - t0 > 2000)
            return -1;
        ssize_t r = recv(fd, buf + got, need - got, 0);
        if (r <= 0)
            return -1;
        got += (size_t)r;
        if (got == 4) {
            need = (size_t)buf[2] << 8 | buf[3];
            if (need > cap || need < 4)
                return -1;
        }
    }
    return (int)got;
}

static int raw_associate(int port)
{
    int fd = raw_connect(port);
    uint8_t buf[1024];
    size_t len;
    uint8_t *cr = t_golden("001_cotp_cr", &len);
    send(fd, cr, len, 0);
    free(cr);
    T_CHECK(read_frame(fd, buf, sizeof buf) == 22);
    uint8_t *cn = t_golden("003_initiate_request", &len);
    send(fd, cn, len, 0);
    free(cn);
    T_CHECK(read_frame(fd, buf, sizeof buf) > 100);
    return fd;
}

static void test_stalled_frame_after_association(void)
{
    i61_server *s = start_golden();
    i61_server_set_timeouts(s, 400, 0);               /* no idle timeout */
    int port = i61_server_port(s);
    /* a quiet associated client stays */
    int quiet = raw_associate(port);
    /* one that sends half a request and stalls is closed after the handshake timeout */
    int fd = raw_associate(port);
    size_t len;
    uint8_t *rq = t_golden("015_read_float_request", &len);
    send(fd, rq, 20, 0);
    long t = wait_closed(fd, 3000, NULL);
    T_CHECK(t >= 300 && t < 3000);
    close(fd);
    /* the quiet one still works */
    send(quiet, rq, len, 0);
    uint8_t buf[256];
    T_EQ_INT(read_frame(quiet, buf, sizeof buf), 36);
    free(rq);
    close(quiet);
    i61_server_free(s);
}


/* ------------------------------------------- review fixes: start, fds, errors */

/* Two threads start the same server at once: exactly one listens. */
typedef struct starter {
    i61_server *s;
    pthread_barrier_t *go;
    int rc;
} starter;

static void *start_thread(void *arg)
{
    starter *st = arg;
    pthread_barrier_wait(st->go);
    st->rc = i61_server_start(st->s, "127.0.0.1", 0);
    return NULL;
}

static void test_concurrent_start(void)
{
    for (int round = 0; round < 20; round++) {
        i61_server *s = i61_server_new(fx_golden_model());
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, 2);
        starter st[2] = {{s, &go, -1}, {s, &go, -1}};
        pthread_t th[2];
        for (int i = 0; i < 2; i++)
            pthread_create(&th[i], NULL, start_thread, &st[i]);
        for (int i = 0; i < 2; i++)
            pthread_join(th[i], NULL);
        T_EQ_INT((st[0].rc == 0) + (st[1].rc == 0), 1);
        T_EQ_INT((st[0].rc == I61_ERR_ALREADY_CONNECTED) + (st[1].rc == I61_ERR_ALREADY_CONNECTED), 1);
        T_CHECK(i61_server_is_running(s));
        if (round % 5 == 0) {                        /* the one that won serves */
            i61_client *c = connect_to(s);
            double d = 0;
            T_EQ_INT(i61_client_read_double(c, "IED1LD1/GGIO1.AnIn1.mag.f", I61_FC_MX, &d), 0);
            i61_client_free(c);
        }
        pthread_barrier_destroy(&go);
        i61_server_free(s);                          /* ASan: nothing of a second start leaks */
    }
}

static int highest_fd(void)
{
    DIR *dir = opendir("/proc/self/fd");
    if (!dir)
        return -1;
    int hi = -1;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        int v = atoi(e->d_name);
        if (v > hi)
            hi = v;
    }
    closedir(dir);
    return hi;
}

static uint64_t cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Out of file descriptors: a connection waits in the backlog that the server
 * cannot accept. The I/O thread must not spin on the readable listener, the
 * existing association keeps being served, and once descriptors are free again
 * the waiting connection is accepted. */
static void test_accept_out_of_descriptors(void)
{
    i61_server *s = start_golden();
    int port = i61_server_port(s);
    i61_client *good = connect_to(s);
    size_t crlen;
    uint8_t *cr = t_golden("001_cotp_cr", &crlen);
    struct rlimit old;
    T_EQ_INT(getrlimit(RLIMIT_NOFILE, &old), 0);
    int hi = highest_fd();
    T_CHECK(hi > 2);
    struct rlimit low = old;
    low.rlim_cur = (rlim_t)hi + 9;
    if (low.rlim_cur > old.rlim_max)
        low.rlim_cur = old.rlim_max;
    T_EQ_INT(setrlimit(RLIMIT_NOFILE, &low), 0);
    enum { FILL_MAX = 4096 };                        /* gaps below the highest fd count too */
    int *fill = calloc(FILL_MAX, sizeof *fill);
    int nfill = 0, err = 0;
    while (fill && nfill < FILL_MAX) {
        int f = socket(AF_INET, SOCK_STREAM, 0);
        if (f < 0) {
            err = errno;
            break;
        }
        fill[nfill++] = f;
    }
    T_EQ_INT(err, EMFILE);
    T_CHECK(nfill > 0);
    if (nfill > 0)
        close(fill[--nfill]);                        /* one descriptor for our side */
    int pending = raw_connect(port);                 /* the server has none to accept it */
    T_CHECK(pending >= 0);

    usleep(50000);
    uint64_t c0 = cpu_ms(), w0 = now_ms();
    usleep(400000);
    uint64_t used = cpu_ms() - c0, wall = now_ms() - w0;
    if (used * 3 >= wall)
        fprintf(stderr, "  cpu %llu ms in %llu ms while out of descriptors\n",
                (unsigned long long)used, (unsigned long long)wall);
    T_CHECK(used * 3 < wall);                        /* no busy loop on the listener */
    double d = 0;
    T_EQ_INT(i61_client_read_double(good, "IED1LD1/GGIO1.AnIn1.mag.f", I61_FC_MX, &d), 0);
    T_CHECK(d == 12.5);

    while (nfill > 0)
        close(fill[--nfill]);
    free(fill);
    T_EQ_INT(setrlimit(RLIMIT_NOFILE, &old), 0);
    if (pending >= 0) {
        T_EQ_INT(send(pending, cr, crlen, 0), (long)crlen);
        uint8_t buf[64];
        T_EQ_INT(read_frame(pending, buf, sizeof buf), 22);   /* CC: accepted after all */
        close(pending);
    }
    free(cr);
    T_EQ_INT(i61_client_read_double(good, "IED1LD1/GGIO1.AnIn1.mag.f", I61_FC_MX, &d), 0);
    i61_client_free(good);
    i61_server_free(s);
}

/* The last-error text of a client is per thread; a client freed by another
 * thread must not pass its text on to a new client at the same address. */
typedef struct err_thread {
    i61_client *c;
    sem_t phase1, go2, phase2;
    char text1[400], text2[400];
} err_thread;

static void *err_thread_fn(void *arg)
{
    err_thread *t = arg;
    double d;
    i61_client_read_double(t->c, "IED1LD1/GGIO1.AnIn1.mag.f", I61_FC_MX, &d);
    snprintf(t->text1, sizeof t->text1, "%s", i61_client_last_error_text(t->c));
    sem_post(&t->phase1);
    sem_wait(&t->go2);
    snprintf(t->text2, sizeof t->text2, "%s", t->c ? i61_client_last_error_text(t->c) : "");
    sem_post(&t->phase2);
    return NULL;
}

static void test_error_text_after_free_in_other_thread(void)
{
    int reused = 0;
    for (int round = 0; round < 4; round++) {
        err_thread t;
        memset(&t, 0, sizeof t);
        sem_init(&t.phase1, 0, 0);
        sem_init(&t.go2, 0, 0);
        sem_init(&t.phase2, 0, 0);
        t.c = i61_client_new();                      /* never connected: calls fail */
        pthread_t th;
        pthread_create(&th, NULL, err_thread_fn, &t);
        sem_wait(&t.phase1);
        T_CHECK(t.text1[0] != '\0');
        i61_client *old = t.c;
        i61_client_free(old);                        /* freed here, not in the thread */
        /* a new client at the same address (when the allocator gives it back) */
        i61_client *keep[32];
        int nkeep = 0;
        i61_client *same = NULL;
        while (nkeep < 32) {
            i61_client *c = i61_client_new();
            if ((void *)c == (void *)old) {
                same = c;
                break;
            }
            keep[nkeep++] = c;
        }
        t.c = same;
        sem_post(&t.go2);
        sem_wait(&t.phase2);
        pthread_join(th, NULL);
        if (same) {
            reused++;
            T_CHECK(strcmp(t.text2, "") == 0);       /* not the freed client's text */
            if (t.text2[0])
                fprintf(stderr, "  stale text: %s\n", t.text2);
            i61_client_free(same);
        }
        while (nkeep > 0)
            i61_client_free(keep[--nkeep]);
        sem_destroy(&t.phase1);
        sem_destroy(&t.go2);
        sem_destroy(&t.phase2);
    }
    if (!reused)
        fprintf(stderr, "  (allocator never reused a client address: stale-text check not exercised)\n");
}

T_MAIN(T_CASE(test_services_with_our_client), T_CASE(test_concurrent_start),
       T_CASE(test_accept_out_of_descriptors), T_CASE(test_error_text_after_free_in_other_thread), T_CASE(test_stalled_frame_after_association), T_CASE(test_event_queue), T_CASE(test_small_pdu_paging),
       T_CASE(test_arrays_alternate_access), T_CASE(test_deferred_hooks_over_sockets),
       T_CASE(test_connection_limit_and_events), T_CASE(test_hostile_clients),
       T_CASE(test_idle_timeout), T_CASE(test_parallel_clients))
