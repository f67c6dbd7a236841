/* Server data sets: the golden data-set exchanges (011/012, 033-048) replayed
 * through the connection engine and compared byte for byte, then our client
 * against our server over TCP: create/read/write/directory/delete of domain
 * and association-specific data sets, the refusals, and aa-specific sets
 * freed when their association closes. */
#include <time.h>
#include <unistd.h>
#include "t.h"
#include "test_server_fixture.h"
#include "server/server_internal.h"
#include "mms/mms_data.h"
#include "server/srv_nvl.h"

static const char *const events[] = { "IED1LD1/GGIO1.Ind1[ST]", "IED1LD1/GGIO1.AnIn1[MX]",
                                      "IED1LD1/GGIO1.SPCSO1.stVal[ST]" };

/* The golden model with its persistent data sets Events and Big. */
static i61_model *ds_model(void)
{
    i61_model *m = fx_golden_model();
    FX_OK(i61_model_add_dataset(m, "IED1LD1/LLN0.Events", events, 3));
    static const char *const big[] = {
        "IED1LD1/LLN0$ST$Mod$stVal", "IED1LD1/LLN0$ST$Beh$stVal", "IED1LD1/LLN0$ST$Health$stVal",
        "IED1LD1/GGIO1$ST$Ind1$stVal", "IED1LD1/GGIO1$ST$Ind1$q", "IED1LD1/GGIO1$MX$AnIn1$mag",
        "IED1LD1/GGIO1$MX$AnIn1$q", "IED1LD1/GGIO1$ST$SPCSO1$stVal", "IED1LD1/GGIO1$ST$SPCSO2$stVal",
        "IED1LD1/GGIO1$ST$SPCSO3$stVal", "IED1LD1/PTOC1$SP$StrVal$setMag", "IED1LD1/GGIO1$DC$Ind1$d" };
    FX_OK(i61_model_add_dataset(m, "IED1LD1/LLN0$Big", big, 12));
    return m;
}

/* ------------------------------------------------------------ builder */

static void test_builder(void)
{
    i61_model *m = fx_golden_model();
    T_EQ_INT(i61_model_add_dataset(m, "IED1LD1/LLN0.Events", events, 3), I61_OK);
    T_EQ_INT(i61_model_add_dataset(m, "IED1LD1/LLN0.Events", events, 3), I61_ERR_OBJECT_EXISTS);
    T_EQ_INT(i61_model_add_dataset(m, "IED1LD1/NOLN.X", events, 3), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_model_add_dataset(m, "NOLD/LLN0.X", events, 3), I61_ERR_OBJECT_DOES_NOT_EXIST);
    static const char *const bad[] = { "IED1LD1/GGIO1.Nope[ST]" };
    T_EQ_INT(i61_model_add_dataset(m, "IED1LD1/LLN0.X", bad, 1), I61_ERR_OBJECT_DOES_NOT_EXIST);
    static const char *const badfc[] = { "IED1LD1/GGIO1.Ind1[QQ]" };
    T_EQ_INT(i61_model_add_dataset(m, "IED1LD1/LLN0.X", badfc, 1), I61_ERR_OBJECT_REFERENCE_INVALID);
    T_EQ_INT(i61_model_add_dataset(m, "IED1LD1/LLN0.X", events, 0), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_model_add_dataset(m, "IED1LD1LLN0.X", events, 1), I61_ERR_OBJECT_REFERENCE_INVALID);
    T_EQ_INT(i61_model_add_dataset(m, "IED1LD1/LLN0.X.Y", events, 1), I61_ERR_OBJECT_REFERENCE_INVALID);
    T_EQ_INT(i61_model_dataset_count(m), 1);
    i61_model_free(m);
}

/* ------------------------------------------------------- engine, golden */

static void feed(i61_sconn *c, const char *golden)
{
    size_t len;
    uint8_t *f = t_golden(golden, &len);
    T_EQ_INT(i61_sconn_feed(c, f, len), 0);
    free(f);
}

/* The MMS PDU we answered equals the golden one. */
static void exchange_mms(i61_sconn *c, const char *req, const char *resp)
{
    feed(c, req);
    size_t gl, ml = 0, wl = 0;
    uint8_t *g = t_golden(resp, &gl);
    const uint8_t *m = fx_mms_pdu(c->out.data, c->out.len, &ml);
    const uint8_t *w = fx_mms_pdu(g, gl, &wl);
    T_CHECK(m != NULL && w != NULL);
    T_EQ_MEM(m, ml, w, wl);
    if (ml != wl || (m && w && memcmp(m, w, ml) != 0))
        fprintf(stderr, "  (%s)\n", resp);
    free(g);
    i61_sconn_consume_out(c, c->out.len);
}

static void test_golden_exchanges(void)
{
    i61_server *s = i61_server_new(ds_model());
    T_CHECK(s != NULL);
    i61_sconn c;
    i61_sconn_init(&c, s, 1, false);
    feed(&c, "001_cotp_cr");
    i61_sconn_consume_out(&c, c.out.len);
    feed(&c, "003_initiate_request");
    i61_sconn_consume_out(&c, c.out.len);
    T_EQ_INT(c.state, I61_SC_ASSOCIATED);

    exchange_mms(&c, "011_getnamelist_nvl_request", "012_getnamelist_nvl_response");
    exchange_mms(&c, "033_read_dataset_request", "034_read_dataset_response");
    exchange_mms(&c, "035_getnvlattr_request", "036_getnvlattr_response");
    exchange_mms(&c, "037_define_nvl_request", "038_define_nvl_response");
    exchange_mms(&c, "039_read_dyn_dataset_request", "040_read_dyn_dataset_response");
    exchange_mms(&c, "041_delete_nvl_request", "042_delete_nvl_response");
    exchange_mms(&c, "043_define_nvl_aa_request", "044_define_nvl_aa_response");

    /* 045: same values as 046; the echoed aa-specific name in the standard
     * primitive form 82 (libiec61850 wrapped it: a2 07 1a 05 ...) */
    feed(&c, "045_read_aa_dataset_request");
    size_t ml = 0, gl, wl = 0;
    const uint8_t *m = fx_mms_pdu(c.out.data, c.out.len, &ml);
    uint8_t *g = t_golden("046_read_aa_dataset_response", &gl);
    const uint8_t *w = fx_mms_pdu(g, gl, &wl);
    static const uint8_t echo[] = { 0xa0, 0x09, 0xa1, 0x07, 0x82, 0x05, 'A', 'A', 'd', 's', '1' };
    /* ours: a1 L 02 01 17 a4 L <echo 11> <results>; golden: ... <echo 13> <results> */
    T_CHECK(m && w && ml + 2 == wl);
    if (m && w && ml + 2 == wl) {
        T_EQ_MEM(m + 7, sizeof echo, echo, sizeof echo);
        T_EQ_MEM(m + 7 + sizeof echo, ml - 7 - sizeof echo, w + 7 + 13, wl - 7 - 13);
    }
    free(g);
    i61_sconn_consume_out(&c, c.out.len);

    exchange_mms(&c, "047_delete_nvl_aa_request", "048_delete_nvl_aa_response");
    T_EQ_INT(i61_model_dataset_count(i61_server_model(s)), 2);
    i61_sconn_free(&c);
    i61_server_free(s);
}

/* ------------------------------------------------------ client <-> server */

static i61_client *connect_to(i61_server *s)
{
    i61_client *c = i61_client_new();
    i61_client_set_request_timeout(c, 5000);
    int rc = i61_client_connect(c, "127.0.0.1", i61_server_port(s));
    T_EQ_INT(rc, 0);
    return c;
}

static int strlist_eq(i61_strlist *l, const char *const *want, size_t n)
{
    if (!l || i61_strlist_count(l) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(i61_strlist_get(l, i), want[i]) != 0) {
            fprintf(stderr, "  [%zu] %s != %s\n", i, i61_strlist_get(l, i), want[i]);
            return 0;
        }
    return 1;
}

static void test_client_server(void)
{
    i61_server *s = i61_server_new(ds_model());
    T_CHECK(s != NULL);
    T_EQ_INT(i61_server_set_write_access(s, I61_FC_DC, 1), 0);
    T_EQ_INT(i61_server_start(s, "127.0.0.1", 0), 0);
    i61_client *c = connect_to(s);

    /* directory of a static set: the SCL-style member references, not deletable */
    i61_strlist *l = NULL;
    int del = -1;
    T_EQ_INT(i61_client_get_dataset_directory(c, "IED1LD1/LLN0.Events", &l, &del), I61_OK);
    T_CHECK(strlist_eq(l, events, 3));
    T_EQ_INT(del, 0);
    i61_strlist_free(l);

    /* read = the members read one by one */
    i61_value *v = NULL;
    T_EQ_INT(i61_client_read_dataset(c, "IED1LD1/LLN0.Events", &v), I61_OK);
    T_EQ_INT(i61_value_count(v), 3);
    for (size_t i = 0; i < 3 && v; i++) {
        i61_value *one = NULL;
        char ref[64];
        strcpy(ref, events[i]);
        char *lb = strchr(ref, '[');
        char two[3] = { lb[1], lb[2], 0 };
        int fc = i61_fc_from_name(two);
        *lb = '\0';
        T_EQ_INT(i61_client_read_value(c, ref, fc, &one), I61_OK);
        i61_buf a, b;
        i61_buf_init(&a);
        i61_buf_init(&b);
        T_EQ_INT(i61_mms_data_encode(&a, i61_value_element(v, i)), 0);
        T_EQ_INT(i61_mms_data_encode(&b, one), 0);
        T_EQ_MEM(a.data, a.len, b.data, b.len);
        i61_buf_free(&a);
        i61_buf_free(&b);
        i61_value_free(one);
    }
    i61_value_free(v);

    /* the LD's data set names (GetNameList namedVariableList) */
    T_EQ_INT(i61_client_get_nvl_names(c, "IED1LD1", &l), I61_OK);
    static const char *const names2[] = { "LLN0$Big", "LLN0$Events" };
    T_CHECK(strlist_eq(l, names2, 2));
    i61_strlist_free(l);

    /* refusals: static set not deletable; exists; bad member; unknown set */
    T_EQ_INT(i61_client_delete_dataset(c, "IED1LD1/LLN0.Events"), I61_ERR_ACCESS_DENIED);
    T_EQ_INT(i61_client_create_dataset(c, "IED1LD1/LLN0.Events", events, 1), I61_ERR_OBJECT_EXISTS);
    static const char *const nope[] = { "IED1LD1/GGIO1.Nope[ST]" };
    T_EQ_INT(i61_client_create_dataset(c, "IED1LD1/LLN0.Dyn", nope, 1), I61_ERR_OBJECT_UNDEFINED);
    T_EQ_INT(i61_client_create_dataset(c, "IED1LD1/NOLN.Dyn", events, 1), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_client_create_dataset(c, "NOLD/LLN0.Dyn", events, 1), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_client_read_dataset(c, "IED1LD1/LLN0.Nope", &v), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_client_get_dataset_directory(c, "@nope", &l, NULL), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_client_delete_dataset(c, "IED1LD1/LLN0.Nope"), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_client_create_dataset(c, "IED1LD1/LLN0", events, 1), I61_ERR_OBJECT_REFERENCE_INVALID);
    T_EQ_INT(i61_client_create_dataset(c, "@", events, 1), I61_ERR_OBJECT_REFERENCE_INVALID);
    static const char *const badfc[] = { "IED1LD1/GGIO1.Ind1[XX]" };
    T_EQ_INT(i61_client_create_dataset(c, "@x", badfc, 1), I61_ERR_OBJECT_REFERENCE_INVALID);

    /* domain-specific dynamic set: create, directory, write, read, delete */
    static const char *const dyn[] = { "IED1LD1/GGIO1.Ind1.d[DC]", "IED1LD1/PTOC1.StrVal.setMag.f[SP]",
                                       "IED1LD1/GGIO1.AnIn1.mag.f[MX]" };
    T_EQ_INT(i61_client_create_dataset(c, "IED1LD1/LLN0.Dyn", dyn, 3), I61_OK);
    T_EQ_INT(i61_client_get_dataset_directory(c, "IED1LD1/LLN0$Dyn", &l, &del), I61_OK);
    T_CHECK(strlist_eq(l, dyn, 3));
    T_EQ_INT(del, 1);
    i61_strlist_free(l);
    i61_value *w[3] = { i61_value_new_visible_string("hello"), i61_value_new_float(2.5f),
                        i61_value_new_float(1.0f) };
    int res[3] = { -1, -1, -1 };
    T_EQ_INT(i61_client_write_dataset(c, "IED1LD1/LLN0.Dyn", (const i61_value *const *)w, 3, res),
             I61_OK);
    T_EQ_INT(res[0], I61_OK);
    T_EQ_INT(res[1], I61_OK);
    T_EQ_INT(res[2], I61_ERR_ACCESS_DENIED);                  /* MX is never writable */
    T_EQ_INT(i61_client_write_dataset(c, "IED1LD1/LLN0.Dyn", (const i61_value *const *)w, 2, res),
             I61_ERR_TYPE_INCONSISTENT);                      /* member count differs */
    for (int i = 0; i < 3; i++)
        i61_value_free(w[i]);
    T_EQ_INT(i61_client_read_dataset(c, "IED1LD1/LLN0.Dyn", &v), I61_OK);
    size_t sl = 0;
    T_CHECK(v && strcmp((const char *)i61_value_get_bytes(i61_value_element(v, 0), &sl), "hello") == 0);
    double f = 0;
    T_EQ_INT(i61_value_get_double(i61_value_element(v, 1), &f), I61_OK);
    T_CHECK(f == 2.5);
    T_EQ_INT(i61_value_get_double(i61_value_element(v, 2), &f), I61_OK);
    T_CHECK(f == 12.5);
    i61_value_free(v);
    T_EQ_INT(i61_client_delete_dataset(c, "IED1LD1/LLN0.Dyn"), I61_OK);
    T_EQ_INT(i61_client_read_dataset(c, "IED1LD1/LLN0.Dyn", &v), I61_ERR_OBJECT_DOES_NOT_EXIST);

    /* VMD-specific ("LN.name" without a logical device) */
    T_EQ_INT(i61_client_create_dataset(c, "LLN0.Vmd", events, 1), I61_OK);
    T_EQ_INT(i61_client_get_dataset_directory(c, "LLN0$Vmd", &l, &del), I61_OK);
    T_CHECK(strlist_eq(l, events, 1));
    i61_strlist_free(l);
    T_EQ_INT(i61_client_delete_dataset(c, "LLN0.Vmd"), I61_OK);
    T_EQ_INT(i61_client_delete_dataset(c, "LLN0.Vmd"), I61_ERR_OBJECT_DOES_NOT_EXIST);

    /* MMS-style member references and an FCD member */
    static const char *const mms_style[] = { "IED1LD1/GGIO1$ST$Ind1$stVal", "IED1LD1/GGIO1.AnIn1[MX]" };
    static const char *const shown[] = { "IED1LD1/GGIO1.Ind1.stVal[ST]", "IED1LD1/GGIO1.AnIn1[MX]" };
    T_EQ_INT(i61_client_create_dataset(c, "@mms", mms_style, 2), I61_OK);
    T_EQ_INT(i61_client_get_dataset_directory(c, "@mms", &l, NULL), I61_OK);
    T_CHECK(strlist_eq(l, shown, 2));
    i61_strlist_free(l);
    T_EQ_INT(i61_client_delete_dataset(c, "@mms"), I61_OK);

    /* aa-specific: visible to its association only, gone when it closes */
    T_EQ_INT(i61_client_create_dataset(c, "@mine", events, 2), I61_OK);
    T_EQ_INT(i61_client_read_dataset(c, "@mine", &v), I61_OK);
    T_EQ_INT(i61_value_count(v), 2);
    i61_value_free(v);
    i61_client *c2 = connect_to(s);
    T_EQ_INT(i61_client_read_dataset(c2, "@mine", &v), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_client_create_dataset(c2, "@mine", events, 1), I61_OK);   /* its own */
    T_EQ_INT(i61_client_get_dataset_directory(c2, "@mine", &l, &del), I61_OK);
    T_EQ_INT(i61_strlist_count(l), 1);
    T_EQ_INT(del, 1);
    i61_strlist_free(l);
    T_EQ_INT(i61_model_dataset_count(i61_server_model(s)), 4);
    T_EQ_INT(i61_client_close(c2), I61_OK);
    for (int i = 0; i < 200 && i61_model_dataset_count(i61_server_model(s)) != 3; i++)
        usleep(10000);
    T_EQ_INT(i61_model_dataset_count(i61_server_model(s)), 3);
    T_EQ_INT(i61_client_delete_dataset(c, "@mine"), I61_OK);
    T_EQ_INT(i61_model_dataset_count(i61_server_model(s)), 2);

    i61_client_free(c);
    i61_server_free(s);
}

/* ------------------------------------------- engine: scopes, limits, hostile */

static void eng_start(i61_sconn *c, i61_server *s, uint32_t id)
{
    i61_sconn_init(c, s, id, false);
    feed(c, "001_cotp_cr");
    i61_sconn_consume_out(c, c->out.len);
    feed(c, "003_initiate_request");
    i61_sconn_consume_out(c, c->out.len);
    T_EQ_INT(c->state, I61_SC_ASSOCIATED);
}

/* One MMS request PDU in (b, then reset), the answer PDU copied to ans. */
static size_t eng_call(i61_sconn *c, i61_buf *b, uint8_t *ans, size_t cap)
{
    i61_srv_mms_pdu(c, b->data, b->len);
    i61_buf_reset(b);
    size_t ml = 0;
    const uint8_t *m = fx_mms_pdu(c->out.data, c->out.len, &ml);
    T_CHECK(m != NULL && ml <= cap);
    if (m && ml <= cap)
        memcpy(ans, m, ml);
    else
        ml = 0;
    i61_sconn_consume_out(c, c->out.len);
    return ml;
}

static int eng_define(i61_sconn *c, int scope, const char *item, const char *member_item)
{
    i61_buf b;
    i61_buf_init(&b);
    i61_mms_name n;
    memset(&n, 0, sizeof n);
    n.scope = scope;
    if (scope == I61_MMS_SCOPE_DOMAIN)
        strcpy(n.domain, "IED1LD1");
    strcpy(n.item, item);
    i61_mms_var v;
    memset(&v, 0, sizeof v);
    v.name.scope = I61_MMS_SCOPE_DOMAIN;
    strcpy(v.name.domain, "IED1LD1");
    strcpy(v.name.item, member_item);
    T_EQ_INT(i61_mms_enc_define_nvl_req(&b, 7, &n, &v, 1), I61_OK);
    uint8_t ans[256];
    size_t al = eng_call(c, &b, ans, sizeof ans);
    i61_buf_free(&b);
    return i61_mms_dec_define_nvl_resp(ans, al, NULL);
}

/* Raw DeleteNamedVariableList with a scope (and a domain for scope 2). */
static void eng_delete_scope(i61_sconn *c, int scope, const char *domain, uint32_t *matched,
                             uint32_t *deleted)
{
    i61_buf b;
    i61_buf_init(&b);
    size_t m = i61_ber_open(&b, 0xa0);
    i61_ber_put_int64(&b, 0x02, 9);
    size_t d = i61_ber_open(&b, 0xad);
    i61_ber_put_int64(&b, 0x80, scope);
    if (domain)
        i61_ber_put_str(&b, 0x82, domain);
    i61_ber_close(&b, d);
    i61_ber_close(&b, m);
    uint8_t ans[64];
    size_t al = eng_call(c, &b, ans, sizeof ans);
    *matched = *deleted = 999;
    T_EQ_INT(i61_mms_dec_delete_nvl_resp(ans, al, matched, deleted, NULL), I61_OK);
    i61_buf_free(&b);
}

static void eng_names(i61_sconn *c, int scope, const char *domain, i61_mms_idlist *out)
{
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_enc_get_name_list_req(&b, 3, I61_MMS_CLASS_NVL, scope, domain, NULL), I61_OK);
    uint8_t ans[1024];
    size_t al = eng_call(c, &b, ans, sizeof ans);
    bool more = true;
    T_EQ_INT(i61_mms_dec_get_name_list_resp(ans, al, out, &more, NULL), I61_OK);
    T_CHECK(!more);
    i61_buf_free(&b);
}

static void test_engine_scopes(void)
{
    i61_server *s = i61_server_new(ds_model());
    i61_model *m = i61_server_model(s);
    i61_sconn a, b;
    eng_start(&a, s, 1);
    eng_start(&b, s, 2);

    T_EQ_INT(eng_define(&a, I61_MMS_SCOPE_AA, "a2", "GGIO1$ST$Ind1"), I61_OK);
    T_EQ_INT(eng_define(&a, I61_MMS_SCOPE_AA, "a1", "GGIO1$ST$Ind1"), I61_OK);
    T_EQ_INT(eng_define(&b, I61_MMS_SCOPE_AA, "a1", "GGIO1$ST$Ind1"), I61_OK);   /* per association */
    T_EQ_INT(eng_define(&a, I61_MMS_SCOPE_AA, "a1", "GGIO1$ST$Ind1"), I61_ERR_OBJECT_EXISTS);
    T_EQ_INT(eng_define(&a, I61_MMS_SCOPE_DOMAIN, "LLN0$D1", "GGIO1$MX$AnIn1"), I61_OK);
    T_EQ_INT(eng_define(&a, I61_MMS_SCOPE_DOMAIN, "LLN0$D2", "GGIO1$MX$AnIn1"), I61_OK);
    T_EQ_INT(eng_define(&b, I61_MMS_SCOPE_DOMAIN, "LLN0$D2", "GGIO1$MX$AnIn1"), I61_ERR_OBJECT_EXISTS);
    T_EQ_INT(eng_define(&a, I61_MMS_SCOPE_DOMAIN, "LLN0$D3", "GGIO1$MX$Nope"), I61_ERR_OBJECT_UNDEFINED);
    T_EQ_INT(eng_define(&a, I61_MMS_SCOPE_DOMAIN, "LLN0", "GGIO1$MX$AnIn1"), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(eng_define(&a, I61_MMS_SCOPE_VMD, "LLN0$V", "GGIO1$MX$AnIn1"), I61_OK);
    T_EQ_INT(i61_model_dataset_count(m), 2 + 3 + 2 + 1);

    /* name lists per scope, sorted */
    i61_mms_idlist l;
    i61_mms_idlist_init(&l);
    eng_names(&a, I61_MMS_SCOPE_AA, NULL, &l);
    T_EQ_INT(l.count, 2);
    T_CHECK(l.count == 2 && strcmp(l.items[0], "a1") == 0 && strcmp(l.items[1], "a2") == 0);
    i61_mms_idlist_clear(&l);
    eng_names(&b, I61_MMS_SCOPE_DOMAIN, "IED1LD1", &l);
    T_EQ_INT(l.count, 4);
    T_CHECK(l.count == 4 && strcmp(l.items[0], "LLN0$Big") == 0 && strcmp(l.items[1], "LLN0$D1") == 0
            && strcmp(l.items[3], "LLN0$Events") == 0);
    i61_mms_idlist_clear(&l);
    eng_names(&b, I61_MMS_SCOPE_VMD, NULL, &l);
    T_CHECK(l.count == 1 && strcmp(l.items[0], "LLN0$V") == 0);
    i61_mms_idlist_clear(&l);

    /* aa-specific scope: only the caller's */
    uint32_t mt, dl;
    eng_delete_scope(&a, 1, NULL, &mt, &dl);
    T_EQ_INT(mt, 2);
    T_EQ_INT(dl, 2);
    T_EQ_INT(i61_model_dataset_count(m), 6);

    /* domain scope: configured sets and a reserved one (an enabled RCB) stay */
    T_EQ_INT(i61_nvl_reserve_ref(m, 0, "IED1LD1/LLN0$D1", 1), I61_OK);
    T_EQ_INT(i61_nvl_reserve_ref(m, 0, "IED1LD1/LLN0$Nope", 1), I61_ERR_OBJECT_DOES_NOT_EXIST);
    eng_delete_scope(&b, 2, "IED1LD1", &mt, &dl);
    T_EQ_INT(mt, 4);
    T_EQ_INT(dl, 1);
    T_EQ_INT(i61_nvl_reserve_ref(m, 0, "IED1LD1/LLN0$D1", -1), I61_OK);
    eng_delete_scope(&b, 2, "IED1LD1", &mt, &dl);
    T_EQ_INT(mt, 3);
    T_EQ_INT(dl, 1);
    eng_delete_scope(&b, 3, NULL, &mt, &dl);
    T_EQ_INT(mt, 1);
    T_EQ_INT(dl, 1);
    T_EQ_INT(i61_model_dataset_count(m), 3);                 /* Events, Big, b's a1 */

    /* association-specific sets end with their association */
    i61_srv_conn_gone(s, &b);
    T_EQ_INT(i61_model_dataset_count(m), 2);

    /* per-association limit: resource / capability-unavailable */
    char nm[16];
    for (int i = 0; i < I61_NVL_MAX_PER_CONN; i++) {
        snprintf(nm, sizeof nm, "x%d", i);
        T_EQ_INT(eng_define(&a, I61_MMS_SCOPE_AA, nm, "GGIO1$ST$Ind1"), I61_OK);
    }
    T_EQ_INT(eng_define(&a, I61_MMS_SCOPE_AA, "one_more", "GGIO1$ST$Ind1"),
             I61_ERR_TEMPORARILY_UNAVAILABLE);
    i61_srv_conn_gone(s, &a);
    T_EQ_INT(i61_model_dataset_count(m), 2);
    i61_sconn_free(&a);
    i61_sconn_free(&b);
    i61_server_free(s);
}

static void test_engine_hostile(void)
{
    i61_server *s = i61_server_new(ds_model());
    i61_sconn a;
    eng_start(&a, s, 1);
    i61_buf b;
    i61_buf_init(&b);
    uint8_t ans[256];
    i61_mms_error e;

    /* a member given by address: object-access-unsupported */
    static const uint8_t addr_member[] = { 0xa0, 0x1d, 0x02, 0x01, 0x07, 0xab, 0x18, 0xa1, 0x0e,
        0x1a, 0x07, 'I', 'E', 'D', '1', 'L', 'D', '1', 0x1a, 0x03, 'L', 'N', '0',
        0xa0, 0x06, 0x30, 0x04, 0xa1, 0x02, 0x80, 0x00 };
    i61_buf_put(&b, addr_member, sizeof addr_member);
    size_t al = eng_call(&a, &b, ans, sizeof ans);
    /* LN0 is no LN of the model: the name is checked first */
    T_EQ_INT(i61_mms_dec_define_nvl_resp(ans, al, &e), I61_ERR_OBJECT_DOES_NOT_EXIST);
    static const uint8_t aa_addr[] = { 0xa0, 0x12, 0x02, 0x01, 0x07, 0xab, 0x0d, 0x82, 0x03,
        'x', 'y', 'z', 0xa0, 0x06, 0x30, 0x04, 0xa1, 0x02, 0x80, 0x00 };
    i61_buf_put(&b, aa_addr, sizeof aa_addr);
    al = eng_call(&a, &b, ans, sizeof ans);
    T_EQ_INT(i61_mms_dec_define_nvl_resp(ans, al, &e), I61_ERR_OBJECT_ACCESS_UNSUPPORTED);
    T_EQ_INT(e.kind, I61_MMS_KIND_ERROR);

    /* malformed bodies: reject confirmed-request invalid-argument */
    static const uint8_t bad_attr[] = { 0xa0, 0x07, 0x02, 0x01, 0x08, 0xac, 0x02, 0x05, 0x00 };
    static const uint8_t bad_del[] = { 0xa0, 0x08, 0x02, 0x01, 0x08, 0xad, 0x03, 0x80, 0x01, 0x00 };
    static const uint8_t bad_def[] = { 0xa0, 0x0c, 0x02, 0x01, 0x08, 0xab, 0x07, 0x82, 0x03,
        'x', 'y', 'z', 0xa0, 0x00 };                           /* no members */
    const uint8_t *bads[] = { bad_attr, bad_del, bad_def };
    size_t lens[] = { sizeof bad_attr, sizeof bad_del, sizeof bad_def };
    static const uint8_t reject[] = { 0xa4, 0x06, 0x80, 0x01, 0x08, 0x81, 0x01, 0x04 };
    for (size_t i = 0; i < 3; i++) {
        i61_buf_put(&b, bads[i], lens[i]);
        al = eng_call(&a, &b, ans, sizeof ans);
        T_EQ_MEM(ans, al, reject, sizeof reject);
    }
    T_EQ_INT(i61_model_dataset_count(i61_server_model(s)), 2);
    i61_buf_free(&b);
    i61_sconn_free(&a);
    i61_server_free(s);
}

/* GetNameList of many lists under a small PDU size: pages that continue after
 * the last name, sorted, nothing lost or repeated. */
static void test_engine_name_paging(void)
{
    i61_server *s = i61_server_new(ds_model());
    i61_sconn a;
    eng_start(&a, s, 1);
    char nm[32];
    for (int i = 0; i < 40; i++) {
        snprintf(nm, sizeof nm, "LLN0$Dyn%02d", 39 - i);
        T_EQ_INT(eng_define(&a, I61_MMS_SCOPE_DOMAIN, nm, "GGIO1$ST$Ind1"), I61_OK);
    }
    a.max_pdu = 160;
    i61_mms_idlist all;
    i61_mms_idlist_init(&all);
    i61_buf b;
    i61_buf_init(&b);
    bool more = true;
    int pages = 0;
    while (more && pages < 100) {
        const char *after = all.count ? all.items[all.count - 1] : NULL;
        T_EQ_INT(i61_mms_enc_get_name_list_req(&b, 3, I61_MMS_CLASS_NVL, I61_MMS_SCOPE_DOMAIN,
                                               "IED1LD1", after), I61_OK);
        uint8_t ans[512];
        size_t al = eng_call(&a, &b, ans, sizeof ans);
        T_CHECK(al <= 160);
        size_t before = all.count;
        T_EQ_INT(i61_mms_dec_get_name_list_resp(ans, al, &all, &more, NULL), I61_OK);
        T_CHECK(all.count > before);
        if (all.count == before)
            break;
        pages++;
    }
    T_CHECK(pages > 1);
    T_EQ_INT(all.count, 42);
    T_CHECK(all.count == 42 && strcmp(all.items[0], "LLN0$Big") == 0
            && strcmp(all.items[1], "LLN0$Dyn00") == 0 && strcmp(all.items[40], "LLN0$Dyn39") == 0
            && strcmp(all.items[41], "LLN0$Events") == 0);
    i61_mms_idlist_clear(&all);
    i61_buf_free(&b);
    i61_sconn_free(&a);
    i61_server_free(s);
}

T_MAIN(T_CASE(test_builder), T_CASE(test_golden_exchanges), T_CASE(test_client_server),
       T_CASE(test_engine_scopes), T_CASE(test_engine_hostile),
       T_CASE(test_engine_name_paging))
