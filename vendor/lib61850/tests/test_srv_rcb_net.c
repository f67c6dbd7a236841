/* Reporting over TCP: our client against our server with the I/O thread,
 * value updates from another thread (the TSan case), the loop timer driving
 * BufTm, SqNum without gaps, and a BRCB resync after the connection was
 * dropped delivering the buffered entries once. */
#include <pthread.h>
#include <time.h>
#include "t.h"
#include "test_server_fixture.h"
#include "server/srv_rcb.h"

#define N_UPDATES 20000

static i61_model *net_model(void)
{
    i61_model *m = i61_model_new("IED1");
    i61_mnode *ld = NULL, *lln0 = NULL, *ggio = NULL;
    FX_OK(i61_model_add_ld(m, "LD1", NULL, &ld));
    FX_OK(i61_model_add_ln(ld, "LLN0", &lln0));
    fx_st_triplet(fx_do(lln0, "Mod"), I61_TYPE_INTEGER, 8);
    FX_OK(i61_model_add_ln(ld, "GGIO1", &ggio));
    fx_st_triplet(fx_do(ggio, "Ind1"), I61_TYPE_BOOLEAN, 0);
    i61_mnode *an = fx_do(ggio, "AnIn1");
    i61_mnode *mag = fx_da(an, "mag", I61_FC_MX, I61_TYPE_STRUCTURE, 0);
    fx_da(mag, "f", I61_FC_NONE, I61_TYPE_FLOAT, 32);
    fx_da(an, "q", I61_FC_MX, I61_TYPE_BIT_STRING, -13);
    fx_da(an, "t", I61_FC_MX, I61_TYPE_UTC_TIME, 0);
    static const char *const ds[] = {"IED1LD1/GGIO1.Ind1[ST]", "IED1LD1/GGIO1.AnIn1[MX]"};
    FX_OK(i61_model_add_dataset(m, "IED1LD1/LLN0.Events", ds, 2));
    i61_rcb_config cfg = {0};
    cfg.dataset = "IED1LD1/LLN0$Events";
    cfg.conf_rev = 1;
    cfg.opt_flds = I61_OPT_SEQ_NUM | I61_OPT_REASON | I61_OPT_DATA_SET | I61_OPT_ENTRY_ID |
                   I61_OPT_BUF_OVFL;
    cfg.trg_ops = I61_TRG_DCHG | I61_TRG_GI;
    FX_OK(i61_model_add_rcb(m, "IED1LD1/LLN0", "urcb01", 0, &cfg));
    cfg.buf_tm = 20;
    cfg.with_resv_tms = 1;
    cfg.buffer_size = 1u << 20;
    FX_OK(i61_model_add_rcb(m, "IED1LD1/LLN0", "brcb01", 1, &cfg));
    return m;
}

static i61_client *connect_to(i61_server *s)
{
    i61_client *c = i61_client_new();
    i61_client_set_request_timeout(c, 5000);
    T_EQ_INT(i61_client_connect(c, "127.0.0.1", i61_server_port(s)), 0);
    return c;
}

static int wr(i61_client *c, const char *ref, i61_value *v)
{
    int rc = i61_client_write_value(c, ref, I61_FC_NONE, v);
    i61_value_free(v);
    return rc;
}

typedef struct producer {
    i61_model *m;
    int n;
    int start;
} producer;

static void *produce(void *arg)
{
    producer *p = arg;
    for (int i = 0; i < p->n; i++) {
        i61_value *v = i61_value_new_float((float)(p->start + i));
        i61_model_set_value(p->m, "IED1LD1/GGIO1.AnIn1.mag.f", I61_FC_NONE, v);
        i61_value_free(v);
    }
    return NULL;
}

static float member_float(const i61_report *r)
{
    /* AnIn1 {mag {f}, q, t} is member 1 */
    for (size_t i = 0; i < i61_report_count(r); i++)
        if (i61_report_member_index(r, i) == 1) {
            const i61_value *v = i61_report_member_value(r, i);
            const i61_value *mag = v ? i61_value_element(v, 0) : NULL;
            const i61_value *f = mag ? i61_value_element(mag, 0) : NULL;
            double d = -1;
            if (f)
                i61_value_get_double(f, &d);
            return (float)d;
        }
    return -1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Receives up to want reports (or until 10 s without one). */
static int collect(i61_client *c, int want, uint32_t *first_seq, float *last_val, int *gaps,
                   int seq_mod, uint8_t last_entry[8])
{
    int got = 0;
    uint32_t prev = 0;
    float prevv = -1;
    while (got < want) {
        i61_report *batch[256];
        size_t n = 0;
        int rc = i61_client_next_reports(c, 10000, batch, 256, &n);
        if (rc != 0)
            break;
        for (size_t i = 0; i < n; i++) {
            uint32_t sq = i61_report_seq_num(batch[i]);
            float v = member_float(batch[i]);
            if (got == 0) {
                if (first_seq)
                    *first_seq = sq;
            } else {
                if (sq != (prev + 1) % (uint32_t)seq_mod)
                    (*gaps)++;
                if (!(v > prevv))
                    (*gaps)++;
            }
            prev = sq;
            prevv = v;
            size_t el = 0;
            const uint8_t *e = i61_report_entry_id(batch[i], &el);
            if (e && el == 8 && last_entry)
                memcpy(last_entry, e, 8);
            got++;
            i61_report_free(batch[i]);
        }
    }
    if (last_val)
        *last_val = prevv;
    return got;
}

static void test_urcb_stream(void)
{
    i61_server *s = i61_server_new(net_model());
    T_EQ_INT(i61_server_start(s, "127.0.0.1", 0), 0);
    i61_client *c = connect_to(s);
    T_EQ_INT(wr(c, "IED1LD1/LLN0$RP$urcb01$RptEna", i61_value_new_boolean(1)), 0);
    producer p = {i61_server_model(s), N_UPDATES, 1};
    pthread_t th;
    double t0 = now_s();
    pthread_create(&th, NULL, produce, &p);
    int gaps = 0;
    float last = 0;
    uint32_t first = 99;
    int got = collect(c, N_UPDATES, &first, &last, &gaps, 256, NULL);
    double dt = now_s() - t0;
    pthread_join(th, NULL);
    T_EQ_INT(got, N_UPDATES);
    T_EQ_INT(gaps, 0);
    T_EQ_INT(first, 0);
    T_CHECK(last == (float)N_UPDATES);
    T_EQ_INT(i61_client_reports_dropped(c), 0);
    fprintf(stderr, "  URCB: %d reports in %.3f s (%.0f/s)\n", got, dt, got / dt);
    /* GI over the wire */
    T_EQ_INT(wr(c, "IED1LD1/LLN0$RP$urcb01$GI", i61_value_new_boolean(1)), 0);
    i61_report *r = NULL;
    size_t n = 0;
    T_EQ_INT(i61_client_next_reports(c, 5000, &r, 1, &n), 0);
    T_CHECK(n == 1 && i61_report_count(r) == 2 && i61_report_member_reason(r, 0) == I61_REASON_GI);
    i61_report_free(r);
    i61_client_free(c);
    T_EQ_INT(i61_server_stop(s), 0);
    i61_server_free(s);
}

static void test_brcb_resync_over_tcp(void)
{
    i61_server *s = i61_server_new(net_model());
    T_EQ_INT(i61_server_start(s, "127.0.0.1", 0), 0);
    i61_client *a = connect_to(s);
    T_EQ_INT(wr(a, "IED1LD1/LLN0$BR$brcb01$RptEna", i61_value_new_boolean(1)), 0);
    /* BufTm 20 ms: one report per update when updates are 30 ms apart */
    producer p = {i61_server_model(s), 1, 1};
    uint8_t last[8] = {0};
    int gaps = 0;
    for (int i = 0; i < 5; i++) {
        p.start = i + 1;
        produce(&p);
        struct timespec d = {0, 30 * 1000000L};
        nanosleep(&d, NULL);
    }
    T_EQ_INT(collect(a, 5, NULL, NULL, &gaps, 65536, last), 5);
    T_EQ_INT(gaps, 0);
    i61_client_free(a);                             /* the connection drops */
    for (int i = 5; i < 12; i++) {
        p.start = i + 1;
        produce(&p);
        struct timespec d = {0, 30 * 1000000L};
        nanosleep(&d, NULL);
    }
    i61_client *b = connect_to(s);                 /* same address: its reservation */
    T_EQ_INT(wr(b, "IED1LD1/LLN0$BR$brcb01$EntryID", i61_value_new_octet_string(last, 8)), 0);
    T_EQ_INT(wr(b, "IED1LD1/LLN0$BR$brcb01$RptEna", i61_value_new_boolean(1)), 0);
    float lastv = 0;
    uint32_t first = 99;
    T_EQ_INT(collect(b, 7, &first, &lastv, &gaps, 65536, NULL), 7);
    T_EQ_INT(gaps, 0);
    T_EQ_INT(first, 0);
    T_CHECK(lastv == 12.0f);
    i61_report *r = NULL;
    size_t n = 0;
    T_EQ_INT(i61_client_next_reports(b, 300, &r, 1, &n), I61_ERR_TIMEOUT);   /* once only */
    i61_client_free(b);
    T_EQ_INT(i61_server_stop(s), 0);
    i61_server_free(s);
}

T_MAIN(T_CASE(test_urcb_stream), T_CASE(test_brcb_resync_over_tcp))
