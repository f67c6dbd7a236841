/* libFuzzer target: every decoder of mms/mms_pdu.h on the same input (one
 * whole MMS PDU), named variable list services included. Whatever decodes is re-encoded; a re-encoding must decode
 * again and re-encode to the same octets. Everything is freed (leaks are
 * reported by the sanitizer).
 *
 * The same input, as text, also goes through the object reference parser.
 *
 * Seeds: the MMS PDUs of the golden frames (after the presentation
 * "61 L 30 L 02 01 03 a0 L" header), one binary file each. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/reference.h"
#include "mms/mms_data.h"
#include "mms/mms_pdu.h"

static void i61_fz_same(const i61_buf *a, const i61_buf *b)
{
    if (a->len != b->len || memcmp(a->data, b->data, a->len) != 0)
        abort();
}

static bool i61_fz_vars_encodable(const i61_mms_var *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].alt_unsupported)
            return false;
    return true;
}

static bool i61_fz_spec_encodable(const i61_mms_access_spec *s)
{
    return i61_fz_vars_encodable(s->vars, s->n_vars);
}

static bool i61_fz_same_name(const i61_mms_name *a, const i61_mms_name *b)
{
    return a->scope == b->scope && strcmp(a->domain, b->domain) == 0
           && strcmp(a->item, b->item) == 0;
}

/* Named variable list requests (server side): decode -> encode -> decode ->
 * encode, both encodings equal. */
static void i61_fz_nvl_server(const i61_mms_request *rq)
{
    i61_buf a, b;
    i61_buf_init(&a);
    i61_buf_init(&b);
    i61_mms_name nm;
    i61_mms_var *mem = NULL;
    size_t n = 0;
    if (i61_mms_dec_define_nvl_req(rq, &nm, &mem, &n) == I61_OK) {
        if (n == 0 || !mem)
            abort();
        if (i61_fz_vars_encodable(mem, n)
            && i61_mms_enc_define_nvl_req(&a, rq->invoke_id, &nm, mem, n) == I61_OK) {
            i61_mms_request r2;
            i61_mms_name nm2;
            i61_mms_var *mem2 = NULL;
            size_t n2 = 0;
            if (i61_mms_dec_request(a.data, a.len, &r2) != I61_OK
                || i61_mms_dec_define_nvl_req(&r2, &nm2, &mem2, &n2) != I61_OK || n2 != n
                || !i61_fz_same_name(&nm, &nm2))
                abort();
            if (i61_mms_enc_define_nvl_req(&b, r2.invoke_id, &nm2, mem2, n2) != I61_OK)
                abort();
            i61_fz_same(&a, &b);
            free(mem2);
        }
        free(mem);
        i61_buf_reset(&a);
        if (i61_mms_enc_define_nvl_resp(&a, rq->invoke_id) != I61_OK
            || i61_mms_dec_define_nvl_resp(a.data, a.len, NULL) != I61_OK)
            abort();
    }
    i61_buf_reset(&a);
    i61_buf_reset(&b);
    if (i61_mms_dec_get_nvl_attr_req(rq, &nm) == I61_OK
        && i61_mms_enc_get_nvl_attr_req(&a, rq->invoke_id, &nm) == I61_OK) {
        i61_mms_request r2;
        i61_mms_name nm2;
        if (i61_mms_dec_request(a.data, a.len, &r2) != I61_OK
            || i61_mms_dec_get_nvl_attr_req(&r2, &nm2) != I61_OK || !i61_fz_same_name(&nm, &nm2))
            abort();
    }
    i61_buf_reset(&a);
    i61_mms_delete_nvl_req d;
    if (i61_mms_dec_delete_nvl_req(rq, &d) == I61_OK) {
        if (d.n > I61_MMS_NVL_MAX_MEMBERS || (d.n && !d.names))
            abort();
        /* the encoder writes scopeOfDelete specific(0) with names and no domain */
        if (d.scope == 0 && d.n > 0 && !d.has_domain
            && i61_mms_enc_delete_nvl_req(&a, rq->invoke_id, d.names, d.n) == I61_OK) {
            i61_mms_request r2;
            i61_mms_delete_nvl_req d2;
            if (i61_mms_dec_request(a.data, a.len, &r2) != I61_OK
                || i61_mms_dec_delete_nvl_req(&r2, &d2) != I61_OK || d2.n != d.n || d2.scope != 0)
                abort();
            for (size_t i = 0; i < d.n; i++)
                if (!i61_fz_same_name(&d.names[i], &d2.names[i]))
                    abort();
            if (i61_mms_enc_delete_nvl_req(&b, r2.invoke_id, d2.names, d2.n) != I61_OK)
                abort();
            i61_fz_same(&a, &b);
            i61_mms_delete_nvl_req_clear(&d2);
        }
        i61_mms_delete_nvl_req_clear(&d);
    }
    i61_buf_free(&a);
    i61_buf_free(&b);
}

/* Named variable list responses (client side), re-encoded where possible. */
static void i61_fz_nvl_client(const uint8_t *data, size_t size)
{
    i61_mms_error e;
    (void)i61_mms_dec_define_nvl_resp(data, size, &e);
    i61_buf a, b;
    i61_buf_init(&a);
    i61_buf_init(&b);
    bool del;
    i61_mms_var *mem = NULL;
    size_t n = 0;
    if (i61_mms_dec_get_nvl_attr_resp(data, size, &del, &mem, &n, &e) == I61_OK) {
        if (n > I61_MMS_NVL_MAX_MEMBERS || (n && !mem))
            abort();
        if (i61_fz_vars_encodable(mem, n)
            && i61_mms_enc_get_nvl_attr_resp(&a, 1, del, mem, n) == I61_OK) {
            bool del2;
            i61_mms_var *mem2 = NULL;
            size_t n2 = 0;
            if (i61_mms_dec_get_nvl_attr_resp(a.data, a.len, &del2, &mem2, &n2, NULL) != I61_OK
                || del2 != del || n2 != n)
                abort();
            if (i61_mms_enc_get_nvl_attr_resp(&b, 1, del2, mem2, n2) != I61_OK)
                abort();
            i61_fz_same(&a, &b);
            free(mem2);
        }
        free(mem);
    }
    i61_buf_reset(&a);
    uint32_t matched, deleted;
    if (i61_mms_dec_delete_nvl_resp(data, size, &matched, &deleted, &e) == I61_OK) {
        uint32_t m2, d2;
        if (i61_mms_enc_delete_nvl_resp(&a, 1, matched, deleted) != I61_OK
            || i61_mms_dec_delete_nvl_resp(a.data, a.len, &m2, &d2, NULL) != I61_OK
            || m2 != matched || d2 != deleted)
            abort();
    }
    i61_buf_free(&a);
    i61_buf_free(&b);
}

/* read request: decode -> encode -> decode -> encode, both encodings equal */
static void i61_fz_read_req(const i61_mms_request *rq)
{
    bool swr;
    i61_mms_access_spec s;
    if (i61_mms_dec_read_req(rq, &swr, &s) != I61_OK)
        return;
    i61_buf a, b;
    i61_buf_init(&a);
    i61_buf_init(&b);
    if (i61_fz_spec_encodable(&s) && i61_mms_enc_read_req(&a, rq->invoke_id, swr, &s) == I61_OK) {
        i61_mms_request r2;
        i61_mms_access_spec s2;
        bool swr2;
        if (i61_mms_dec_request(a.data, a.len, &r2) != I61_OK || i61_mms_dec_read_req(&r2, &swr2, &s2) != I61_OK)
            abort();
        if (i61_mms_enc_read_req(&b, r2.invoke_id, swr2, &s2) != I61_OK)
            abort();
        i61_fz_same(&a, &b);
        for (size_t i = 0; i < s.n_vars; i++)
            (void)i61_mms_var_encoded_size(&s.vars[i]);
        i61_mms_access_spec_clear(&s2);
    }
    /* the server's answer, echoing the spec */
    i61_buf_reset(&a);
    if (i61_fz_spec_encodable(&s)) {
        i61_value *dae = i61_value_new_data_access_error(10);
        const i61_value *res[1] = { dae };
        if (dae && i61_mms_enc_read_resp(&a, rq->invoke_id, &s, res, 1) == I61_OK) {
            i61_value *out = NULL;
            bool echoed = false;
            if (i61_mms_dec_read_resp(a.data, a.len, &out, &echoed, NULL) != I61_OK || !echoed)
                abort();
            i61_value_free(out);
        }
        i61_value_free(dae);
    }
    i61_buf_free(&a);
    i61_buf_free(&b);
    i61_mms_access_spec_clear(&s);
}

static void i61_fz_write_req(const i61_mms_request *rq)
{
    i61_mms_access_spec s;
    i61_value **vals;
    size_t n;
    if (i61_mms_dec_write_req(rq, &s, &vals, &n) != I61_OK)
        return;
    i61_buf a, b;
    i61_buf_init(&a);
    i61_buf_init(&b);
    if (i61_fz_spec_encodable(&s)
        && i61_mms_enc_write_req(&a, rq->invoke_id, &s, (const i61_value *const *)vals, n) == I61_OK) {
        i61_mms_request r2;
        i61_mms_access_spec s2;
        i61_value **v2;
        size_t n2;
        if (i61_mms_dec_request(a.data, a.len, &r2) != I61_OK
            || i61_mms_dec_write_req(&r2, &s2, &v2, &n2) != I61_OK || n2 != n)
            abort();
        if (i61_mms_enc_write_req(&b, r2.invoke_id, &s2, (const i61_value *const *)v2, n2) != I61_OK)
            abort();
        i61_fz_same(&a, &b);
        i61_mms_values_free(v2, n2);
        i61_mms_access_spec_clear(&s2);
    }
    i61_buf_free(&a);
    i61_buf_free(&b);
    i61_mms_values_free(vals, n);
    i61_mms_access_spec_clear(&s);
}

static void i61_fz_server(const uint8_t *data, size_t size)
{
    i61_mms_request rq;
    if (i61_mms_dec_request(data, size, &rq) != I61_OK)
        return;
    bool ext;
    (void)i61_mms_dec_status_req(&rq, &ext);
    i61_mms_gnl_req g;
    if (i61_mms_dec_get_name_list_req(&rq, &g) == I61_OK) {
        i61_buf a;
        i61_buf_init(&a);
        const char *dom = g.scope == I61_MMS_SCOPE_DOMAIN ? g.domain : NULL;
        if (i61_mms_enc_get_name_list_req(&a, rq.invoke_id, g.object_class, g.scope, dom,
                                          g.has_continue_after ? g.continue_after : NULL) == I61_OK) {
            i61_mms_request r2;
            i61_mms_gnl_req g2;
            if (i61_mms_dec_request(a.data, a.len, &r2) != I61_OK
                || i61_mms_dec_get_name_list_req(&r2, &g2) != I61_OK
                || g2.object_class != g.object_class || g2.scope != g.scope
                || strcmp(g2.domain, g.domain) != 0)
                abort();
        }
        i61_buf_free(&a);
    }
    i61_mms_name nm;
    if (i61_mms_dec_gvaa_req(&rq, &nm) == I61_OK) {
        i61_buf a;
        i61_buf_init(&a);
        if (i61_mms_enc_gvaa_req(&a, rq.invoke_id, &nm) == I61_OK) {
            i61_mms_request r2;
            i61_mms_name n2;
            if (i61_mms_dec_request(a.data, a.len, &r2) != I61_OK || i61_mms_dec_gvaa_req(&r2, &n2) != I61_OK
                || n2.scope != nm.scope || strcmp(n2.item, nm.item) != 0 || strcmp(n2.domain, nm.domain) != 0)
                abort();
        }
        i61_buf_free(&a);
    }
    i61_fz_read_req(&rq);
    i61_fz_write_req(&rq);
    i61_fz_nvl_server(&rq);
}

static void i61_fz_client(const uint8_t *data, size_t size)
{
    i61_mms_error e;
    char txt[128];
    char *v, *m, *r;
    if (i61_mms_dec_identify_resp(data, size, &v, &m, &r, &e) == I61_OK) {
        free(v);
        free(m);
        free(r);
    }
    (void)i61_mms_error_text(&e, txt, sizeof txt);
    int lo, ph;
    (void)i61_mms_dec_status_resp(data, size, &lo, &ph, &e);

    i61_mms_idlist l;
    bool more;
    i61_mms_idlist_init(&l);
    if (i61_mms_dec_get_name_list_resp(data, size, &l, &more, &e) == I61_OK) {
        i61_buf a;
        i61_buf_init(&a);
        if (i61_mms_enc_get_name_list_resp(&a, 1, (const char *const *)l.items, l.count, more) != I61_OK)
            abort();
        i61_mms_idlist l2;
        bool more2;
        i61_mms_idlist_init(&l2);
        if (i61_mms_dec_get_name_list_resp(a.data, a.len, &l2, &more2, NULL) != I61_OK
            || l2.count != l.count || more2 != more)
            abort();
        i61_mms_idlist_clear(&l2);
        i61_buf_free(&a);
    }
    i61_mms_idlist_clear(&l);

    bool del;
    i61_typespec *t = NULL;
    if (i61_mms_dec_gvaa_resp(data, size, &del, &t, &e) == I61_OK) {
        i61_buf a;
        i61_buf_init(&a);
        if (i61_mms_enc_gvaa_resp(&a, 1, del, t) == I61_OK) {
            i61_typespec *t2 = NULL;
            bool del2;
            if (i61_mms_dec_gvaa_resp(a.data, a.len, &del2, &t2, NULL) != I61_OK || del2 != del)
                abort();
            i61_typespec_free(t2);
        }
        i61_buf_free(&a);
        i61_typespec_free(t);
    }

    i61_value *res = NULL;
    bool echoed;
    if (i61_mms_dec_read_resp(data, size, &res, &echoed, &e) == I61_OK) {
        size_t n = i61_value_count(res);
        const i61_value **items = n ? calloc(n, sizeof *items) : NULL;
        if (n && !items)
            abort();
        for (size_t i = 0; i < n; i++)
            items[i] = i61_value_element(res, i);
        i61_buf a, b;
        i61_buf_init(&a);
        i61_buf_init(&b);
        if (i61_mms_enc_read_resp(&a, 1, NULL, items, n) == I61_OK) {
            i61_value *r2 = NULL;
            if (i61_mms_dec_read_resp(a.data, a.len, &r2, NULL, NULL) != I61_OK || i61_value_count(r2) != n)
                abort();
            for (size_t i = 0; i < n; i++)
                items[i] = i61_value_element(r2, i);
            if (i61_mms_enc_read_resp(&b, 1, NULL, items, n) != I61_OK)
                abort();
            i61_fz_same(&a, &b);
            i61_value_free(r2);
        }
        i61_buf_free(&a);
        i61_buf_free(&b);
        free(items);
        i61_value_free(res);
    }
    i61_value *few[3];
    if (i61_mms_dec_read_resp_n(data, size, few, 3, NULL, NULL) == I61_OK)
        for (int i = 0; i < 3; i++)
            i61_value_free(few[i]);

    int dae[8];
    for (size_t n = 0; n <= 8; n++)
        if (i61_mms_dec_write_resp(data, size, dae, n, &e) == I61_OK) {
            i61_buf a;
            i61_buf_init(&a);
            if (i61_mms_enc_write_resp(&a, 1, dae, n) != I61_OK)
                abort();
            i61_buf_free(&a);
        }
}

/* Object references: whatever parses must encode as a Read request. */
static void i61_fz_reference(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 300)
        return;
    char *s = malloc(size);
    if (!s)
        return;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    int fc = (int)(data[0] % 21) - 1;                /* -1 (NONE) .. 19 */
    i61_mms_var v;
    char why[160];
    if (i61_ref_to_var(s, fc, &v, why, sizeof why) == I61_OK) {
        if (strlen(v.name.item) > I61_REF_ITEM_MAX || strlen(v.name.domain) > I61_REF_LD_MAX
            || i61_mms_var_encoded_size(&v) == 0)
            abort();
    }
    char ld[I61_REF_LD_MAX + 1], ln[I61_REF_ITEM_MAX + 1], path[I61_REF_ITEM_MAX + 1];
    (void)i61_ref_split_ln(s, ld, ln, why, sizeof why);
    if (i61_ref_split_data(s, ld, ln, path, why, sizeof why) == I61_OK) {
        const char *names[1] = { s };
        i61_strlist *l = NULL;
        bool found;
        if (i61_dir_data(names, 1, ln, path, I61_FC_ALL, true, &l, &found) == I61_OK)
            i61_strlist_free(l);
        if (i61_dir_ln(names, 1, ln, I61_ACSI_DATA_OBJECT, &l, &found) == I61_OK)
            i61_strlist_free(l);
    }
    char d[200];
    i61_ref_describe(s, fc, d, sizeof d);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t id;
    int kind;
    (void)i61_mms_pdu_invoke_id(data, size, &id, &kind);
    i61_fz_client(data, size);
    i61_fz_nvl_client(data, size);
    i61_fz_server(data, size);
    i61_fz_reference(data, size);
    return 0;
}
