/* MMS confirmed-service PDU codec against the golden captures: client
 * requests encoded byte for byte, responses decoded to what a user sees, and
 * the server side (requests decoded, responses re-encoded byte for byte). */
#include "t.h"
#include "mms/mms_pdu.h"
#include "mms/mms_data.h"
#include "client/reference.h"

/* ------------------------------------------------------------ helpers */

typedef struct golden {
    uint8_t *frame;
    size_t frame_len;
    const uint8_t *mms;    /* the MMS PDU inside the frame */
    size_t len;
} golden;

/* Loads a golden frame and finds the MMS PDU: TPKT, COTP DT, session GT+DT,
 * then presentation 61 L 30 L 02 01 03 a0 L <MMS>. */
static golden g_load(const char *name)
{
    golden g;
    memset(&g, 0, sizeof g);
    g.frame = t_golden(name, &g.frame_len);
    size_t p = 4;                                      /* TPKT */
    if (g.frame_len < 16) { fprintf(stderr, "%s: short\n", name); exit(2); }
    p += (size_t)g.frame[p] + 1;                       /* COTP LI + header */
    if (g.frame[p] != 0x01 || g.frame[p + 2] != 0x01) { fprintf(stderr, "%s: no GT/DT\n", name); exit(2); }
    p += 4;
    i61_ber_tlv t, c;
    i61_ber_reader r;
    if (i61_ber_parse(g.frame + p, g.frame_len - p, &t, NULL) != 0 || t.id != 0x61) goto bad;
    i61_ber_reader_sub(&r, &t);
    if (i61_ber_next(&r, &t) != 0 || t.id != 0x30) goto bad;
    i61_ber_reader_sub(&r, &t);
    if (i61_ber_next(&r, &c) != 0 || c.id != 0x02) goto bad;
    if (i61_ber_next(&r, &c) != 0 || c.id != 0xa0) goto bad;
    g.mms = c.val;
    g.len = c.len;
    return g;
bad:
    fprintf(stderr, "%s: no presentation data\n", name);
    exit(2);
}

static void g_free(golden *g) { free(g->frame); }

/* Encoded buffer equals the golden MMS PDU. */
#define T_EQ_GOLDEN(buf, name) do { golden g_ = g_load(name); \
    T_EQ_MEM((buf)->data, (buf)->len, g_.mms, g_.len); g_free(&g_); } while (0)

static i61_mms_var dvar(const char *item)
{
    i61_mms_var v;
    memset(&v, 0, sizeof v);
    v.name.scope = I61_MMS_SCOPE_DOMAIN;
    strcpy(v.name.domain, "IED1LD1");
    strcpy(v.name.item, item);
    return v;
}

static i61_mms_var refvar(const char *ref, int fc)
{
    i61_mms_var v;
    char why[128];
    int rc = i61_ref_to_var(ref, fc, &v, why, sizeof why);
    if (rc != I61_OK) fprintf(stderr, "ref %s: %s\n", ref, why);
    T_EQ_INT(rc, I61_OK);
    return v;
}

static int enc_read1(i61_buf *b, uint32_t id, const i61_mms_var *v)
{
    i61_mms_access_spec s;
    memset(&s, 0, sizeof s);
    s.vars = (i61_mms_var *)v;
    s.n_vars = 1;
    return i61_mms_enc_read_req(b, id, false, &s);
}

static int enc_write1(i61_buf *b, uint32_t id, const i61_mms_var *v, i61_value *val)
{
    i61_mms_access_spec s;
    memset(&s, 0, sizeof s);
    s.vars = (i61_mms_var *)v;
    s.n_vars = 1;
    const i61_value *vals[1] = { val };
    int rc = i61_mms_enc_write_req(b, id, &s, vals, 1);
    i61_value_free(val);
    return rc;
}

/* ------------------------------------------------------------ client requests */

static void test_enc_identify_status(void)
{
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_enc_identify_req(&b, 1), I61_OK);
    T_EQ_GOLDEN(&b, "005_identify_request");
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_status_req(&b, 62, false), I61_OK);
    T_EQ_GOLDEN(&b, "132_status_request");
    i61_buf_free(&b);
}

static void test_enc_get_name_list(void)
{
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_enc_get_name_list_req(&b, 2, I61_MMS_CLASS_DOMAIN, I61_MMS_SCOPE_VMD, NULL, NULL), I61_OK);
    T_EQ_GOLDEN(&b, "007_getnamelist_domains_request");
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_get_name_list_req(&b, 3, I61_MMS_CLASS_NAMED_VARIABLE, I61_MMS_SCOPE_DOMAIN, "IED1LD1", NULL), I61_OK);
    T_EQ_GOLDEN(&b, "009_getnamelist_variables_request");
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_get_name_list_req(&b, 4, I61_MMS_CLASS_NVL, I61_MMS_SCOPE_DOMAIN, "IED1LD1", NULL), I61_OK);
    T_EQ_GOLDEN(&b, "011_getnamelist_nvl_request");
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_get_name_list_req(&b, 1, I61_MMS_CLASS_NAMED_VARIABLE, I61_MMS_SCOPE_DOMAIN, "IED1LD1", NULL), I61_OK);
    T_EQ_GOLDEN(&b, "141_getnamelist_cont1_request");
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_get_name_list_req(&b, 2, I61_MMS_CLASS_NAMED_VARIABLE, I61_MMS_SCOPE_DOMAIN, "IED1LD1",
                                           "GGIO1$CO$SPCSO2$Cancel"), I61_OK);
    T_EQ_GOLDEN(&b, "143_getnamelist_cont2_request");
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_get_name_list_req(&b, 8, I61_MMS_CLASS_NAMED_VARIABLE, I61_MMS_SCOPE_DOMAIN, "IED1LD1",
                                           "LLN0$ST$Beh$stVal"), I61_OK);
    T_EQ_GOLDEN(&b, "145_getnamelist_cont8_request");
    /* refused arguments leave the buffer as it was */
    size_t before = b.len;
    T_EQ_INT(i61_mms_enc_get_name_list_req(&b, 9, I61_MMS_CLASS_NVL, I61_MMS_SCOPE_DOMAIN, NULL, NULL), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_mms_enc_get_name_list_req(&b, 9, 42, I61_MMS_SCOPE_VMD, NULL, NULL), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_mms_enc_get_name_list_req(&b, 9, 0, 7, "X", NULL), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(b.len, before);
    i61_buf_free(&b);
}

static void test_enc_gvaa(void)
{
    i61_buf b;
    i61_buf_init(&b);
    i61_mms_var v = refvar("IED1LD1/GGIO1.AnIn1", I61_FC_MX);
    T_EQ_INT(i61_mms_enc_gvaa_req(&b, 7, &v.name), I61_OK);
    T_EQ_GOLDEN(&b, "013_gvaa_mv_request");
    i61_buf_reset(&b);
    v = refvar("IED1LD1/LLN0", I61_FC_NONE);
    T_EQ_INT(i61_mms_enc_gvaa_req(&b, 30, &v.name), I61_OK);
    T_EQ_GOLDEN(&b, "059_gvaa_lln0_request");
    i61_buf_reset(&b);
    v = refvar("IED1LD1/GGIO1$CO$SPCSO2$Oper", I61_FC_NONE);
    T_EQ_INT(i61_mms_enc_gvaa_req(&b, 27, &v.name), I61_OK);
    T_EQ_GOLDEN(&b, "053_gvaa_oper_request");
    i61_buf_free(&b);
}

static void test_enc_read(void)
{
    i61_buf b;
    i61_buf_init(&b);
    i61_mms_var v = refvar("IED1LD1/GGIO1.AnIn1.mag.f", I61_FC_MX);
    T_EQ_INT(enc_read1(&b, 8, &v), I61_OK);
    T_EQ_GOLDEN(&b, "015_read_float_request");
    i61_buf_reset(&b);
    v = refvar("IED1LD1/GGIO1.AnIn1", I61_FC_MX);
    T_EQ_INT(enc_read1(&b, 9, &v), I61_OK);
    T_EQ_GOLDEN(&b, "017_read_struct_mv_request");
    i61_buf_reset(&b);
    v = refvar("IED1LD1/GGIO1.Ind1", I61_FC_ST);
    T_EQ_INT(enc_read1(&b, 10, &v), I61_OK);
    T_EQ_GOLDEN(&b, "019_read_struct_sps_request");
    i61_buf_reset(&b);
    v = dvar("GGIO1$MX$AnIn9");
    T_EQ_INT(enc_read1(&b, 16, &v), I61_OK);
    T_EQ_GOLDEN(&b, "031_read_nonexistent_request");
    i61_buf_reset(&b);

    i61_mms_var three[3] = { refvar("IED1LD1/GGIO1.Ind1.stVal", I61_FC_ST),
                             refvar("IED1LD1/GGIO1.AnIn1.mag.f", I61_FC_MX),
                             refvar("IED1LD1/LLN0.NamPlt.vendor", I61_FC_DC) };
    i61_mms_access_spec s;
    memset(&s, 0, sizeof s);
    s.vars = three;
    s.n_vars = 3;
    T_EQ_INT(i61_mms_enc_read_req(&b, 11, false, &s), I61_OK);
    T_EQ_GOLDEN(&b, "021_read_multi_request");
    size_t sum = 0;
    for (int i = 0; i < 3; i++) sum += i61_mms_var_encoded_size(&three[i]);
    T_EQ_INT(sum, 0x6f);                               /* the listOfVariable content in 021 */

    /* data sets: variableListName, with and without specificationWithResult */
    memset(&s, 0, sizeof s);
    s.is_nvl = true;
    s.nvl.scope = I61_MMS_SCOPE_DOMAIN;
    strcpy(s.nvl.domain, "IED1LD1");
    strcpy(s.nvl.item, "LLN0$Events");
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_read_req(&b, 17, true, &s), I61_OK);
    T_EQ_GOLDEN(&b, "033_read_dataset_request");
    strcpy(s.nvl.item, "LLN0$Dyn1");
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_read_req(&b, 20, false, &s), I61_OK);
    T_EQ_GOLDEN(&b, "039_read_dyn_dataset_request");
    s.nvl.scope = I61_MMS_SCOPE_AA;
    s.nvl.domain[0] = 0;
    strcpy(s.nvl.item, "AAds1");
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_read_req(&b, 23, true, &s), I61_OK);
    T_EQ_GOLDEN(&b, "045_read_aa_dataset_request");

    /* an empty list cannot be encoded */
    memset(&s, 0, sizeof s);
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_read_req(&b, 1, false, &s), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(b.len, 0);
    i61_buf_free(&b);
}

static void test_enc_write(void)
{
    i61_buf b;
    i61_buf_init(&b);
    i61_mms_var v = refvar("IED1LD1/GGIO1.Ind1.d", I61_FC_DC);
    T_EQ_INT(enc_write1(&b, 12, &v, i61_value_new_visible_string("Door contact")), I61_OK);
    T_EQ_GOLDEN(&b, "023_write_string_request");
    i61_buf_reset(&b);
    v = refvar("IED1LD1/PTOC1.StrVal.setMag.f", I61_FC_SP);
    T_EQ_INT(enc_write1(&b, 13, &v, i61_value_new_float(1.5f)), I61_OK);
    T_EQ_GOLDEN(&b, "025_write_float_request");
    i61_buf_reset(&b);
    v = refvar("IED1LD1/GGIO1.Ind1.stVal", I61_FC_ST);
    T_EQ_INT(enc_write1(&b, 14, &v, i61_value_new_boolean(1)), I61_OK);
    T_EQ_GOLDEN(&b, "027_write_denied_request");
    i61_buf_reset(&b);
    v = refvar("IED1LD1/GGIO1.Ind9.stVal", I61_FC_ST);
    T_EQ_INT(enc_write1(&b, 15, &v, i61_value_new_boolean(1)), I61_OK);
    T_EQ_GOLDEN(&b, "029_write_nonexistent_request");

    /* value count must match the variable count; a DataAccessError is no Data */
    i61_buf_reset(&b);
    i61_mms_access_spec s;
    memset(&s, 0, sizeof s);
    s.vars = &v;
    s.n_vars = 1;
    i61_value *two[2] = { i61_value_new_boolean(1), i61_value_new_boolean(0) };
    T_EQ_INT(i61_mms_enc_write_req(&b, 1, &s, (const i61_value *const *)two, 2), I61_ERR_INVALID_ARGUMENT);
    i61_value_free(two[0]);
    i61_value_free(two[1]);
    T_EQ_INT(enc_write1(&b, 1, &v, i61_value_new_data_access_error(3)), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(b.len, 0);
    i61_buf_free(&b);
}

/* URCB enable (063): one Write with four variables of different types. */
static void test_enc_write_multi(void)
{
    i61_buf b;
    i61_buf_init(&b);
    i61_mms_var vars[4] = { refvar("IED1LD1/LLN0.urcb01.Resv", I61_FC_RP),
                            refvar("IED1LD1/LLN0.urcb01.OptFlds", I61_FC_RP),
                            refvar("IED1LD1/LLN0.urcb01.TrgOps", I61_FC_RP),
                            refvar("IED1LD1/LLN0.urcb01.RptEna", I61_FC_RP) };
    uint8_t opt[2] = { 0x7c, 0x80 }, trg[1] = { 0x64 };
    i61_value *vals[4] = { i61_value_new_boolean(1), i61_value_new_bit_string(10, opt),
                           i61_value_new_bit_string(6, trg), i61_value_new_boolean(1) };
    i61_mms_access_spec s;
    memset(&s, 0, sizeof s);
    s.vars = vars;
    s.n_vars = 4;
    T_EQ_INT(i61_mms_enc_write_req(&b, 32, &s, (const i61_value *const *)vals, 4), I61_OK);
    T_EQ_GOLDEN(&b, "063_write_urcb_enable_request");
    for (int i = 0; i < 4; i++) i61_value_free(vals[i]);
    i61_buf_free(&b);
}

/* Alternate access: array element, and a component path inside it. */
static void test_alternate_access(void)
{
    i61_buf b;
    i61_buf_init(&b);
    i61_mms_var v = refvar("LD/MHAI1.HA.phsAHar(3)", I61_FC_MX);
    T_CHECK(v.has_index);
    T_EQ_INT(v.index, 3);
    T_CHECK(strcmp(v.name.item, "MHAI1$MX$HA$phsAHar") == 0);
    T_EQ_INT(enc_read1(&b, 5, &v), I61_OK);
    /* ... 30 L a0 L a1 L <names> a5 03 82 01 03 */
    static const uint8_t idx_only[] = { 0xa5, 0x03, 0x82, 0x01, 0x03 };
    T_CHECK(b.len > sizeof idx_only && memcmp(b.data + b.len - sizeof idx_only, idx_only, sizeof idx_only) == 0);

    /* round trip through the server-side decoder */
    i61_mms_request rq;
    i61_mms_access_spec spec;
    bool swr = true;
    T_EQ_INT(i61_mms_dec_request(b.data, b.len, &rq), I61_OK);
    T_EQ_INT(i61_mms_dec_read_req(&rq, &swr, &spec), I61_OK);
    T_CHECK(!swr);
    T_EQ_INT(spec.n_vars, 1);
    T_CHECK(spec.vars[0].has_index && spec.vars[0].index == 3 && spec.vars[0].component[0] == 0);
    T_CHECK(!spec.vars[0].alt_unsupported);
    i61_mms_access_spec_clear(&spec);

    i61_buf_reset(&b);
    v = refvar("LD/MHAI1.HA.phsAHar(10).cVal.mag", I61_FC_MX);
    T_CHECK(strcmp(v.component, "cVal$mag") == 0);
    T_EQ_INT(enc_read1(&b, 6, &v), I61_OK);
    /* selectAlternateAccess(index 10, selectAlternateAccess(component cVal,
     * selectAccess(component mag))) */
    static const uint8_t nested[] = {
        0xa5, 0x16, 0xa0, 0x14, 0x81, 0x01, 0x0a, 0x30, 0x0f, 0xa0, 0x0d, 0x80, 0x04, 'c', 'V',
        'a', 'l', 0x30, 0x05, 0x81, 0x03, 'm', 'a', 'g' };
    T_CHECK(b.len > sizeof nested && memcmp(b.data + b.len - sizeof nested, nested, sizeof nested) == 0);
    T_EQ_INT(i61_mms_dec_request(b.data, b.len, &rq), I61_OK);
    T_EQ_INT(i61_mms_dec_read_req(&rq, &swr, &spec), I61_OK);
    T_CHECK(spec.n_vars == 1 && spec.vars[0].has_index && spec.vars[0].index == 10);
    T_CHECK(strcmp(spec.vars[0].component, "cVal$mag") == 0);
    T_CHECK(strcmp(spec.vars[0].name.item, "MHAI1$MX$HA$phsAHar") == 0);
    i61_mms_access_spec_clear(&spec);

    /* forms we do not serve: index range, all elements */
    static const uint8_t range_req[] = {
        0xa0, 0x20, 0x02, 0x01, 0x01, 0xa4, 0x1b, 0xa1, 0x19, 0xa0, 0x17, 0x30, 0x15,
        0xa0, 0x09, 0xa1, 0x07, 0x1a, 0x01, 'L', 0x1a, 0x02, 'A', 'B',
        0xa5, 0x08, 0xa3, 0x06, 0x80, 0x01, 0x00, 0x81, 0x01, 0x02 };
    T_EQ_INT(i61_mms_dec_request(range_req, sizeof range_req, &rq), I61_OK);
    T_EQ_INT(i61_mms_dec_read_req(&rq, &swr, &spec), I61_OK);
    T_CHECK(spec.n_vars == 1 && spec.vars[0].alt_unsupported && !spec.vars[0].has_index);
    i61_mms_access_spec_clear(&spec);

    /* a component without an element is refused by the encoder */
    v = dvar("X$MX$A");
    strcpy(v.component, "b");
    i61_buf_reset(&b);
    T_EQ_INT(enc_read1(&b, 1, &v), I61_ERR_INVALID_ARGUMENT);
    i61_buf_free(&b);
}

/* ------------------------------------------------------------ client responses */

static void test_dec_identify_status(void)
{
    golden g = g_load("006_identify_response");
    char *v, *m, *r;
    i61_mms_error e;
    T_EQ_INT(i61_mms_dec_identify_resp(g.mms, g.len, &v, &m, &r, &e), I61_OK);
    T_CHECK(v && strcmp(v, "GoldVendor") == 0);
    T_CHECK(m && strcmp(m, "GoldModel") == 0);
    T_CHECK(r && strcmp(r, "1.0") == 0);
    free(v); free(m); free(r);
    g_free(&g);
    g = g_load("133_status_response");
    int lo = -1, ph = -1;
    T_EQ_INT(i61_mms_dec_status_resp(g.mms, g.len, &lo, &ph, &e), I61_OK);
    T_EQ_INT(lo, 0);
    T_EQ_INT(ph, 0);
    /* a status response is not an identify response */
    T_EQ_INT(i61_mms_dec_identify_resp(g.mms, g.len, &v, &m, &r, &e), I61_ERR_MALFORMED_MESSAGE);
    T_CHECK(v == NULL && m == NULL && r == NULL);
    g_free(&g);
}

static void test_dec_get_name_list(void)
{
    i61_mms_idlist l;
    i61_mms_idlist_init(&l);
    bool more = true;
    golden g = g_load("008_getnamelist_domains_response");
    T_EQ_INT(i61_mms_dec_get_name_list_resp(g.mms, g.len, &l, &more, NULL), I61_OK);
    T_CHECK(!more);
    T_EQ_INT(l.count, 1);
    T_CHECK(l.count == 1 && strcmp(l.items[0], "IED1LD1") == 0);
    g_free(&g);
    i61_mms_idlist_clear(&l);

    g = g_load("010_getnamelist_variables_response");
    T_EQ_INT(i61_mms_dec_get_name_list_resp(g.mms, g.len, &l, &more, NULL), I61_OK);
    T_CHECK(!more);
    T_EQ_INT(l.count, 158);
    T_CHECK(strcmp(l.items[0], "GGIO1") == 0);
    T_CHECK(strcmp(l.items[l.count - 1], "PTOC1$SP$StrVal$setMag$f") == 0);
    int found = 0;
    for (size_t i = 0; i < l.count; i++)
        if (strcmp(l.items[i], "GGIO1$CO$SPCSO1$Oper$origin$orCat") == 0) found++;
    T_EQ_INT(found, 1);
    g_free(&g);
    i61_mms_idlist_clear(&l);

    g = g_load("012_getnamelist_nvl_response");
    T_EQ_INT(i61_mms_dec_get_name_list_resp(g.mms, g.len, &l, &more, NULL), I61_OK);
    T_CHECK(!more);
    T_CHECK(l.count == 2 && strcmp(l.items[0], "LLN0$Big") == 0 && strcmp(l.items[1], "LLN0$Events") == 0);
    g_free(&g);
    i61_mms_idlist_clear(&l);

    /* paging: 142 and 144 omit moreFollows (TRUE), 146 says FALSE; appended in order */
    g = g_load("142_getnamelist_cont1_response");
    T_EQ_INT(i61_mms_dec_get_name_list_resp(g.mms, g.len, &l, &more, NULL), I61_OK);
    T_CHECK(more);
    T_CHECK(l.count > 0 && strcmp(l.items[l.count - 1], "GGIO1$CO$SPCSO2$Cancel") == 0);
    size_t n1 = l.count;
    g_free(&g);
    g = g_load("144_getnamelist_cont2_response");
    T_EQ_INT(i61_mms_dec_get_name_list_resp(g.mms, g.len, &l, &more, NULL), I61_OK);
    T_CHECK(more);
    T_CHECK(l.count > n1 && strcmp(l.items[n1 - 1], l.items[n1]) < 0);
    g_free(&g);
    g = g_load("146_getnamelist_cont8_response");
    more = true;
    T_EQ_INT(i61_mms_dec_get_name_list_resp(g.mms, g.len, &l, &more, NULL), I61_OK);
    T_CHECK(!more);
    T_CHECK(strcmp(l.items[l.count - 1], "PTOC1$SP$StrVal$setMag$f") == 0);
    g_free(&g);
    i61_mms_idlist_clear(&l);
}

static void test_dec_gvaa(void)
{
    golden g = g_load("014_gvaa_mv_response");
    bool del = true;
    i61_typespec *t = NULL;
    T_EQ_INT(i61_mms_dec_gvaa_resp(g.mms, g.len, &del, &t, NULL), I61_OK);
    T_CHECK(!del);
    T_CHECK(t != NULL);
    if (t) {
        T_EQ_INT(i61_typespec_kind(t), I61_TYPE_STRUCTURE);
        T_EQ_INT(i61_typespec_count(t), 3);
        const i61_typespec *mag = i61_typespec_child(t, 0);
        const i61_typespec *q = i61_typespec_child(t, 1);
        const i61_typespec *ts = i61_typespec_child(t, 2);
        T_CHECK(mag && strcmp(i61_typespec_name(mag), "mag") == 0);
        T_CHECK(mag && i61_typespec_kind(i61_typespec_child(mag, 0)) == I61_TYPE_FLOAT);
        T_CHECK(mag && i61_typespec_size(i61_typespec_child(mag, 0)) == 32);
        T_CHECK(q && strcmp(i61_typespec_name(q), "q") == 0 && i61_typespec_kind(q) == I61_TYPE_BIT_STRING);
        T_CHECK(q && i61_typespec_size(q) == -13);
        T_CHECK(ts && strcmp(i61_typespec_name(ts), "t") == 0 && i61_typespec_kind(ts) == I61_TYPE_UTC_TIME);
        i61_typespec_free(t);
    }
    g_free(&g);
    g = g_load("050_gvaa_urcb_response");
    T_EQ_INT(i61_mms_dec_gvaa_resp(g.mms, g.len, &del, &t, NULL), I61_OK);
    T_CHECK(t && i61_typespec_count(t) == 11);
    T_CHECK(t && strcmp(i61_typespec_name(i61_typespec_child(t, 0)), "RptID") == 0);
    i61_typespec_free(t);
    g_free(&g);
}

static void test_dec_read(void)
{
    i61_value *r = NULL;
    bool echoed = true;
    golden g = g_load("016_read_float_response");
    T_EQ_INT(i61_mms_dec_read_resp(g.mms, g.len, &r, &echoed, NULL), I61_OK);
    T_CHECK(!echoed);
    T_EQ_INT(i61_value_count(r), 1);
    double d = 0;
    T_EQ_INT(i61_value_get_double(i61_value_element(r, 0), &d), I61_OK);
    T_CHECK(d == 12.5);
    i61_value_free(r);
    g_free(&g);

    g = g_load("018_read_struct_mv_response");
    i61_value *one[1];
    T_EQ_INT(i61_mms_dec_read_resp_n(g.mms, g.len, one, 1, NULL, NULL), I61_OK);
    T_EQ_INT(i61_value_type(one[0]), I61_TYPE_STRUCTURE);
    T_EQ_INT(i61_value_count(one[0]), 3);
    i61_value *mag = i61_value_element(one[0], 0);
    T_EQ_INT(i61_value_get_double(i61_value_element(mag, 0), &d), I61_OK);
    T_CHECK(d == 12.5);
    T_EQ_INT(i61_value_type(i61_value_element(one[0], 1)), I61_TYPE_BIT_STRING);
    T_EQ_INT(i61_value_bit_size(i61_value_element(one[0], 1)), 13);
    size_t tl = 0;
    const uint8_t *tb = i61_value_get_bytes(i61_value_element(one[0], 2), &tl);
    static const uint8_t t018[] = { 0x65, 0x53, 0xf1, 0x00, 0x1f, 0x7c, 0xed, 0x8a };
    T_EQ_MEM(tb, tl, t018, sizeof t018);
    i61_value_free(one[0]);
    /* the wrong count is refused and leaves nothing behind */
    i61_value *two[2];
    T_EQ_INT(i61_mms_dec_read_resp_n(g.mms, g.len, two, 2, NULL, NULL), I61_ERR_MALFORMED_MESSAGE);
    T_CHECK(two[0] == NULL && two[1] == NULL);
    g_free(&g);

    g = g_load("022_read_multi_response");
    T_EQ_INT(i61_mms_dec_read_resp(g.mms, g.len, &r, NULL, NULL), I61_OK);
    T_EQ_INT(i61_value_count(r), 3);
    int bv = -1;
    T_EQ_INT(i61_value_get_boolean(i61_value_element(r, 0), &bv), I61_OK);
    T_EQ_INT(bv, 0);
    T_EQ_INT(i61_value_get_double(i61_value_element(r, 1), &d), I61_OK);
    T_CHECK(d == 12.5);
    size_t sl = 0;
    const uint8_t *s = i61_value_get_bytes(i61_value_element(r, 2), &sl);
    T_EQ_MEM(s, sl, "GoldVendor", 10);
    i61_value_free(r);
    g_free(&g);

    g = g_load("032_read_nonexistent_response");
    T_EQ_INT(i61_mms_dec_read_resp(g.mms, g.len, &r, NULL, NULL), I61_OK);
    T_EQ_INT(i61_value_get_data_access_error(i61_value_element(r, 0)), 10);
    T_EQ_INT(i61_err_from_data_access_error(10), I61_ERR_OBJECT_DOES_NOT_EXIST);
    i61_value_free(r);
    g_free(&g);

    g = g_load("034_read_dataset_response");
    T_EQ_INT(i61_mms_dec_read_resp(g.mms, g.len, &r, &echoed, NULL), I61_OK);
    T_CHECK(echoed);
    T_EQ_INT(i61_value_count(r), 3);
    T_EQ_INT(i61_value_type(i61_value_element(r, 2)), I61_TYPE_BOOLEAN);
    i61_value_free(r);
    g_free(&g);

    g = g_load("046_read_aa_dataset_response");       /* echoed aa-specific name a2 {1a ..} */
    T_EQ_INT(i61_mms_dec_read_resp(g.mms, g.len, &r, &echoed, NULL), I61_OK);
    T_CHECK(echoed);
    T_EQ_INT(i61_value_count(r), 1);
    i61_value_free(r);
    g_free(&g);
}

static void test_dec_write(void)
{
    int dae[4] = { 7, 7, 7, 7 };
    golden g = g_load("024_write_string_response");
    T_EQ_INT(i61_mms_dec_write_resp(g.mms, g.len, dae, 1, NULL), I61_OK);
    T_EQ_INT(dae[0], -1);
    /* a second result that is not there */
    T_EQ_INT(i61_mms_dec_write_resp(g.mms, g.len, dae, 2, NULL), I61_ERR_MALFORMED_MESSAGE);
    g_free(&g);
    g = g_load("028_write_denied_response");
    T_EQ_INT(i61_mms_dec_write_resp(g.mms, g.len, dae, 1, NULL), I61_OK);
    T_EQ_INT(dae[0], 3);
    T_EQ_INT(i61_err_from_data_access_error(dae[0]), I61_ERR_ACCESS_DENIED);
    g_free(&g);
    g = g_load("030_write_nonexistent_response");
    T_EQ_INT(i61_mms_dec_write_resp(g.mms, g.len, dae, 1, NULL), I61_OK);
    T_EQ_INT(dae[0], 10);
    g_free(&g);
    g = g_load("064_write_urcb_enable_response");
    T_EQ_INT(i61_mms_dec_write_resp(g.mms, g.len, dae, 4, NULL), I61_OK);
    T_CHECK(dae[0] == -1 && dae[1] == -1 && dae[2] == -1 && dae[3] == -1);
    T_EQ_INT(i61_mms_dec_write_resp(g.mms, g.len, dae, 3, NULL), I61_ERR_MALFORMED_MESSAGE);
    g_free(&g);
}

static void test_dec_error_reject(void)
{
    i61_mms_error e;
    char txt[96];
    i61_value *r = (i61_value *)&e;
    golden g = g_load("152_reject_unrecognized_service");
    T_EQ_INT(i61_mms_dec_read_resp(g.mms, g.len, &r, NULL, &e), I61_ERR_SERVICE_NOT_SUPPORTED);
    T_CHECK(r == NULL);
    T_EQ_INT(e.kind, I61_MMS_KIND_REJECT);
    T_EQ_INT(e.cls, 1);
    T_EQ_INT(e.code, 1);
    T_CHECK(strcmp(i61_mms_error_text(&e, txt, sizeof txt), "Reject confirmed-requestPDU/unrecognized-service") == 0);
    g_free(&g);

    g = g_load("131_readjournal_error");
    int dae[1];
    T_EQ_INT(i61_mms_dec_write_resp(g.mms, g.len, dae, 1, &e), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(e.kind, I61_MMS_KIND_ERROR);
    T_EQ_INT(e.cls, 7);
    T_EQ_INT(e.code, 2);
    T_CHECK(strcmp(i61_mms_error_text(&e, txt, sizeof txt), "ServiceError access/object-non-existent") == 0);
    g_free(&g);

    g = g_load("121_filedelete_fail_error");
    bool more;
    i61_mms_idlist l;
    i61_mms_idlist_init(&l);
    T_EQ_INT(i61_mms_dec_get_name_list_resp(g.mms, g.len, &l, &more, &e), I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(l.count, 0);
    T_EQ_INT(e.cls, 11);
    T_EQ_INT(e.code, 7);
    T_CHECK(strcmp(i61_mms_error_text(&e, txt, sizeof txt), "ServiceError file/file-non-existent") == 0);
    g_free(&g);

    g = g_load("117_filerename_reject");
    T_EQ_INT(i61_mms_dec_status_resp(g.mms, g.len, &e.cls, &e.code, &e), I61_ERR_SERVICE_NOT_SUPPORTED);
    g_free(&g);

    /* the mapping table */
    T_EQ_INT(i61_mms_service_error_to_err(7, 3), I61_ERR_ACCESS_DENIED);
    T_EQ_INT(i61_mms_service_error_to_err(7, 1), I61_ERR_OBJECT_ACCESS_UNSUPPORTED);
    T_EQ_INT(i61_mms_service_error_to_err(2, 1), I61_ERR_OBJECT_UNDEFINED);
    T_EQ_INT(i61_mms_service_error_to_err(2, 4), I61_ERR_TYPE_INCONSISTENT);
    T_EQ_INT(i61_mms_service_error_to_err(2, 5), I61_ERR_OBJECT_EXISTS);
    T_EQ_INT(i61_mms_service_error_to_err(3, 0), I61_ERR_TEMPORARILY_UNAVAILABLE);  /* resource/other */
    T_EQ_INT(i61_mms_service_error_to_err(4, 5), I61_ERR_OBJECT_CONSTRAINT_CONFLICT);
    T_EQ_INT(i61_mms_service_error_to_err(12, 0), I61_ERR_UNKNOWN);
    T_EQ_INT(i61_mms_reject_to_err(1, 4), I61_ERR_MALFORMED_MESSAGE);
    T_EQ_INT(i61_mms_reject_to_err(5, 1), I61_ERR_MALFORMED_MESSAGE);
    /* a response for another service is malformed, not silently accepted */
    g = g_load("016_read_float_response");
    int dd[1];
    T_EQ_INT(i61_mms_dec_write_resp(g.mms, g.len, dd, 1, &e), I61_ERR_MALFORMED_MESSAGE);
    g_free(&g);
}

static void test_invoke_id(void)
{
    static const struct { const char *name; uint32_t id; int kind; } cases[] = {
        { "005_identify_request", 1, I61_MMS_KIND_REQUEST },
        { "006_identify_response", 1, I61_MMS_KIND_RESPONSE },
        { "010_getnamelist_variables_response", 3, I61_MMS_KIND_RESPONSE },
        { "121_filedelete_fail_error", 59, I61_MMS_KIND_ERROR },
        { "131_readjournal_error", 61, I61_MMS_KIND_ERROR },
        { "152_reject_unrecognized_service", 99, I61_MMS_KIND_REJECT },
        { "117_filerename_reject", 57, I61_MMS_KIND_REJECT },
        { "065_report_urcb_dchg", I61_MMS_NO_INVOKE_ID, I61_MMS_KIND_UNCONFIRMED },
        { "134_conclude_request", I61_MMS_NO_INVOKE_ID, I61_MMS_KIND_OTHER },
        { "135_conclude_response", I61_MMS_NO_INVOKE_ID, I61_MMS_KIND_OTHER },
        { "153_malformed_request_no_reply", 100, I61_MMS_KIND_REQUEST },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        golden g = g_load(cases[i].name);
        uint32_t id = 12345;
        int kind = -1;
        T_EQ_INT(i61_mms_pdu_invoke_id(g.mms, g.len, &id, &kind), I61_OK);
        T_EQ_INT(id, cases[i].id);
        T_EQ_INT(kind, cases[i].kind);
        /* truncated or extended PDUs are malformed */
        T_EQ_INT(i61_mms_pdu_invoke_id(g.mms, g.len - 1, &id, &kind), I61_ERR_MALFORMED_MESSAGE);
        g_free(&g);
    }
    static const uint8_t big[] = { 0xa1, 0x07, 0x02, 0x05, 0x00, 0xff, 0xff, 0xff, 0xfe };
    uint32_t id;
    int kind;
    T_EQ_INT(i61_mms_pdu_invoke_id(big, sizeof big, &id, &kind), I61_OK);
    T_EQ_INT(id, 0xfffffffeu);
    static const uint8_t neg[] = { 0xa1, 0x03, 0x02, 0x01, 0xff };
    T_EQ_INT(i61_mms_pdu_invoke_id(neg, sizeof neg, &id, &kind), I61_ERR_MALFORMED_MESSAGE);
    static const uint8_t noid[] = { 0xa4, 0x03, 0x85, 0x01, 0x01 };
    T_EQ_INT(i61_mms_pdu_invoke_id(noid, sizeof noid, &id, &kind), I61_OK);
    T_EQ_INT(kind, I61_MMS_KIND_REJECT);
    T_EQ_INT(id, I61_MMS_NO_INVOKE_ID);
    static const uint8_t trail[] = { 0xa0, 0x05, 0x02, 0x01, 0x01, 0x82, 0x00, 0x00 };
    T_EQ_INT(i61_mms_pdu_invoke_id(trail, sizeof trail, &id, &kind), I61_ERR_MALFORMED_MESSAGE);
    T_EQ_INT(i61_mms_pdu_invoke_id(NULL, 0, &id, &kind), I61_ERR_MALFORMED_MESSAGE);
}

/* Every response decoder on every truncation of every golden response: an
 * error, never a crash or a success. */
static void test_truncations(void)
{
    static const char *const names[] = {
        "006_identify_response", "008_getnamelist_domains_response", "012_getnamelist_nvl_response",
        "014_gvaa_mv_response", "018_read_struct_mv_response", "022_read_multi_response",
        "028_write_denied_response", "034_read_dataset_response", "133_status_response",
        "142_getnamelist_cont1_response", "152_reject_unrecognized_service", "131_readjournal_error",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        golden g = g_load(names[i]);
        for (size_t n = 0; n < g.len; n++) {
            uint8_t *cut = malloc(n ? n : 1);
            if (n) memcpy(cut, g.mms, n);
            char *a, *b, *c;
            int x, y, dae[4];
            bool more, del;
            i61_typespec *t;
            i61_value *v;
            i61_mms_idlist l;
            i61_mms_idlist_init(&l);
            T_CHECK(i61_mms_dec_identify_resp(cut, n, &a, &b, &c, NULL) != I61_OK);
            T_CHECK(i61_mms_dec_status_resp(cut, n, &x, &y, NULL) != I61_OK);
            T_CHECK(i61_mms_dec_get_name_list_resp(cut, n, &l, &more, NULL) != I61_OK);
            T_CHECK(i61_mms_dec_gvaa_resp(cut, n, &del, &t, NULL) != I61_OK);
            T_CHECK(i61_mms_dec_read_resp(cut, n, &v, NULL, NULL) != I61_OK);
            T_CHECK(i61_mms_dec_write_resp(cut, n, dae, 1, NULL) != I61_OK);
            T_EQ_INT(l.count, 0);
            free(cut);
        }
        g_free(&g);
    }
}

/* ------------------------------------------------------------ server side */

static void test_server_requests(void)
{
    i61_mms_request rq;
    golden g = g_load("005_identify_request");
    T_EQ_INT(i61_mms_dec_request(g.mms, g.len, &rq), I61_OK);
    T_EQ_INT(rq.invoke_id, 1);
    T_EQ_INT(rq.service, I61_MMS_SVC_IDENTIFY);
    g_free(&g);

    g = g_load("132_status_request");
    bool ext = true;
    T_EQ_INT(i61_mms_dec_request(g.mms, g.len, &rq), I61_OK);
    T_EQ_INT(i61_mms_dec_status_req(&rq, &ext), I61_OK);
    T_CHECK(!ext);
    g_free(&g);

    i61_mms_gnl_req gn;
    g = g_load("007_getnamelist_domains_request");
    T_EQ_INT(i61_mms_dec_request(g.mms, g.len, &rq), I61_OK);
    T_EQ_INT(i61_mms_dec_get_name_list_req(&rq, &gn), I61_OK);
    T_EQ_INT(gn.object_class, I61_MMS_CLASS_DOMAIN);
    T_EQ_INT(gn.scope, I61_MMS_SCOPE_VMD);
    T_CHECK(!gn.has_continue_after);
    g_free(&g);
    g = g_load("143_getnamelist_cont2_request");
    T_EQ_INT(i61_mms_dec_request(g.mms, g.len, &rq), I61_OK);
    T_EQ_INT(i61_mms_dec_get_name_list_req(&rq, &gn), I61_OK);
    T_EQ_INT(gn.object_class, I61_MMS_CLASS_NAMED_VARIABLE);
    T_EQ_INT(gn.scope, I61_MMS_SCOPE_DOMAIN);
    T_CHECK(strcmp(gn.domain, "IED1LD1") == 0);
    T_CHECK(gn.has_continue_after && strcmp(gn.continue_after, "GGIO1$CO$SPCSO2$Cancel") == 0);
    g_free(&g);

    i61_mms_name nm;
    g = g_load("013_gvaa_mv_request");
    T_EQ_INT(i61_mms_dec_request(g.mms, g.len, &rq), I61_OK);
    T_EQ_INT(rq.invoke_id, 7);
    T_EQ_INT(i61_mms_dec_gvaa_req(&rq, &nm), I61_OK);
    T_EQ_INT(nm.scope, I61_MMS_SCOPE_DOMAIN);
    T_CHECK(strcmp(nm.domain, "IED1LD1") == 0 && strcmp(nm.item, "GGIO1$MX$AnIn1") == 0);
    g_free(&g);

    /* reads: decode, re-encode, same bytes */
    static const char *const reads[] = {
        "015_read_float_request", "017_read_struct_mv_request", "021_read_multi_request",
        "031_read_nonexistent_request", "033_read_dataset_request", "039_read_dyn_dataset_request",
        "045_read_aa_dataset_request", "061_read_urcb_request",
    };
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
        g = g_load(reads[i]);
        i61_mms_access_spec s;
        bool swr;
        T_EQ_INT(i61_mms_dec_request(g.mms, g.len, &rq), I61_OK);
        T_EQ_INT(i61_mms_dec_read_req(&rq, &swr, &s), I61_OK);
        i61_buf b;
        i61_buf_init(&b);
        T_EQ_INT(i61_mms_enc_read_req(&b, rq.invoke_id, swr, &s), I61_OK);
        T_EQ_MEM(b.data, b.len, g.mms, g.len);
        i61_buf_free(&b);
        i61_mms_access_spec_clear(&s);
        g_free(&g);
    }
    g = g_load("021_read_multi_request");
    {
        i61_mms_access_spec s;
        bool swr;
        T_EQ_INT(i61_mms_dec_request(g.mms, g.len, &rq), I61_OK);
        T_EQ_INT(i61_mms_dec_read_req(&rq, &swr, &s), I61_OK);
        T_EQ_INT(s.n_vars, 3);
        T_CHECK(s.n_vars == 3 && strcmp(s.vars[2].name.item, "LLN0$DC$NamPlt$vendor") == 0);
        i61_mms_access_spec_clear(&s);
    }
    g_free(&g);

    /* writes: decode spec + data, re-encode */
    static const char *const writes[] = {
        "023_write_string_request", "025_write_float_request", "027_write_denied_request",
        "063_write_urcb_enable_request", "091_operate_direct_request",
    };
    for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
        g = g_load(writes[i]);
        i61_mms_access_spec s;
        i61_value **vals;
        size_t nv;
        T_EQ_INT(i61_mms_dec_request(g.mms, g.len, &rq), I61_OK);
        T_EQ_INT(i61_mms_dec_write_req(&rq, &s, &vals, &nv), I61_OK);
        T_EQ_INT(nv, s.n_vars);
        i61_buf b;
        i61_buf_init(&b);
        T_EQ_INT(i61_mms_enc_write_req(&b, rq.invoke_id, &s, (const i61_value *const *)vals, nv), I61_OK);
        T_EQ_MEM(b.data, b.len, g.mms, g.len);
        i61_buf_free(&b);
        i61_mms_values_free(vals, nv);
        i61_mms_access_spec_clear(&s);
        g_free(&g);
    }

    /* 151: unknown service 37 decodes (the server rejects it); 153: no service */
    g = g_load("151_unsupported_service_request");
    T_EQ_INT(i61_mms_dec_request(g.mms, g.len, &rq), I61_OK);
    T_EQ_INT(rq.service, 37);
    T_EQ_INT(rq.invoke_id, 99);
    g_free(&g);
    g = g_load("153_malformed_request_no_reply");
    T_EQ_INT(i61_mms_dec_request(g.mms, g.len, &rq), I61_ERR_MALFORMED_MESSAGE);
    T_CHECK(rq.has_invoke_id);
    T_EQ_INT(rq.invoke_id, 100);
    g_free(&g);
}

static void test_server_responses(void)
{
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_enc_identify_resp(&b, 1, "GoldVendor", "GoldModel", "1.0"), I61_OK);
    T_EQ_GOLDEN(&b, "006_identify_response");
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_status_resp(&b, 62, 0, 0), I61_OK);
    T_EQ_GOLDEN(&b, "133_status_response");

    /* name lists: decode the golden answers, re-encode them */
    static const struct { const char *name; uint32_t id; } lists[] = {
        { "008_getnamelist_domains_response", 2 }, { "010_getnamelist_variables_response", 3 },
        { "012_getnamelist_nvl_response", 4 }, { "142_getnamelist_cont1_response", 1 },
        { "144_getnamelist_cont2_response", 2 }, { "146_getnamelist_cont8_response", 8 },
    };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        golden g = g_load(lists[i].name);
        i61_mms_idlist l;
        bool more;
        i61_mms_idlist_init(&l);
        T_EQ_INT(i61_mms_dec_get_name_list_resp(g.mms, g.len, &l, &more, NULL), I61_OK);
        i61_buf_reset(&b);
        T_EQ_INT(i61_mms_enc_get_name_list_resp(&b, lists[i].id, (const char *const *)l.items, l.count, more), I61_OK);
        T_EQ_MEM(b.data, b.len, g.mms, g.len);
        i61_mms_idlist_clear(&l);
        g_free(&g);
    }

    /* GVAA: type spec round trip */
    static const struct { const char *name; uint32_t id; } types[] = {
        { "014_gvaa_mv_response", 7 }, { "050_gvaa_urcb_response", 25 },
        { "052_gvaa_brcb_response", 26 }, { "054_gvaa_oper_response", 27 },
        { "060_gvaa_lln0_response", 30 },
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        golden g = g_load(types[i].name);
        bool del;
        i61_typespec *t = NULL;
        T_EQ_INT(i61_mms_dec_gvaa_resp(g.mms, g.len, &del, &t, NULL), I61_OK);
        i61_buf_reset(&b);
        T_EQ_INT(i61_mms_enc_gvaa_resp(&b, types[i].id, del, t), I61_OK);
        T_EQ_MEM(b.data, b.len, g.mms, g.len);
        i61_typespec_free(t);
        g_free(&g);
    }

    /* reads: results (values and DataAccessErrors) round trip; 034 echoes the spec of 033 */
    static const struct { const char *name; uint32_t id; } readsr[] = {
        { "016_read_float_response", 8 }, { "018_read_struct_mv_response", 9 },
        { "020_read_struct_sps_response", 10 }, { "022_read_multi_response", 11 },
        { "032_read_nonexistent_response", 16 }, { "040_read_dyn_dataset_response", 20 },
        { "062_read_urcb_response", 31 }, { "072_read_brcb_response", 35 },
    };
    for (size_t i = 0; i < sizeof readsr / sizeof readsr[0]; i++) {
        golden g = g_load(readsr[i].name);
        i61_value *r = NULL;
        T_EQ_INT(i61_mms_dec_read_resp(g.mms, g.len, &r, NULL, NULL), I61_OK);
        size_t n = i61_value_count(r);
        const i61_value *items[64];
        for (size_t k = 0; k < n && k < 64; k++) items[k] = i61_value_element(r, k);
        i61_buf_reset(&b);
        T_EQ_INT(i61_mms_enc_read_resp(&b, readsr[i].id, NULL, items, n), I61_OK);
        T_EQ_MEM(b.data, b.len, g.mms, g.len);
        i61_value_free(r);
        g_free(&g);
    }
    {
        golden q = g_load("033_read_dataset_request"), g = g_load("034_read_dataset_response");
        i61_mms_request rq;
        i61_mms_access_spec s;
        bool swr;
        i61_value *r = NULL;
        T_EQ_INT(i61_mms_dec_request(q.mms, q.len, &rq), I61_OK);
        T_EQ_INT(i61_mms_dec_read_req(&rq, &swr, &s), I61_OK);
        T_CHECK(swr && s.is_nvl);
        T_EQ_INT(i61_mms_dec_read_resp(g.mms, g.len, &r, NULL, NULL), I61_OK);
        const i61_value *items[3] = { i61_value_element(r, 0), i61_value_element(r, 1), i61_value_element(r, 2) };
        i61_buf_reset(&b);
        T_EQ_INT(i61_mms_enc_read_resp(&b, rq.invoke_id, &s, items, 3), I61_OK);
        T_EQ_MEM(b.data, b.len, g.mms, g.len);
        i61_value_free(r);
        i61_mms_access_spec_clear(&s);
        g_free(&q);
        g_free(&g);
    }

    /* writes */
    int ok1[1] = { -1 }, denied[1] = { 3 }, missing[1] = { 10 }, four[4] = { -1, -1, -1, -1 };
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_write_resp(&b, 12, ok1, 1), I61_OK);
    T_EQ_GOLDEN(&b, "024_write_string_response");
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_write_resp(&b, 14, denied, 1), I61_OK);
    T_EQ_GOLDEN(&b, "028_write_denied_response");
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_write_resp(&b, 15, missing, 1), I61_OK);
    T_EQ_GOLDEN(&b, "030_write_nonexistent_response");
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_write_resp(&b, 32, four, 4), I61_OK);
    T_EQ_GOLDEN(&b, "064_write_urcb_enable_response");

    /* errors and rejects */
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_error_pdu(&b, 59, I61_MMS_ERRCLASS_FILE, 7), I61_OK);
    T_EQ_GOLDEN(&b, "121_filedelete_fail_error");
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_error_pdu(&b, 61, I61_MMS_ERRCLASS_ACCESS, 2), I61_OK);
    T_EQ_GOLDEN(&b, "131_readjournal_error");
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_reject_pdu(&b, true, 99, I61_MMS_REJECT_CONFIRMED_REQUEST, I61_MMS_REJECT_UNRECOGNIZED_SERVICE), I61_OK);
    T_EQ_GOLDEN(&b, "152_reject_unrecognized_service");
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_reject_pdu(&b, true, 57, 1, 1), I61_OK);
    T_EQ_GOLDEN(&b, "117_filerename_reject");
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_reject_pdu(&b, false, 0, I61_MMS_REJECT_PDU_ERROR, I61_MMS_REJECT_INVALID_PDU), I61_OK);
    static const uint8_t rj[] = { 0xa4, 0x03, 0x85, 0x01, 0x01 };
    T_EQ_MEM(b.data, b.len, rj, sizeof rj);
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_error_pdu(&b, 1, 13, 0), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_mms_enc_reject_pdu(&b, true, 1, 0, 0), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(b.len, 0);
    i61_buf_free(&b);
}

/* Read-Request whose listOfVariable holds `n` copies of `elem`. */
static void read_req_with(i61_buf *b, size_t n, const uint8_t *elem, size_t elen)
{
    i61_buf_reset(b);
    size_t m = i61_ber_open(b, 0xa0);
    i61_ber_put_uint64(b, 0x02, 1);
    size_t rd = i61_ber_open(b, 0xa4);
    size_t vas = i61_ber_open(b, 0xa1);
    size_t lov = i61_ber_open(b, 0xa0);
    for (size_t i = 0; i < n; i++)
        i61_buf_put(b, elem, elen);
    i61_ber_close(b, lov);
    i61_ber_close(b, vas);
    i61_ber_close(b, rd);
    i61_ber_close(b, m);
}

static int dec_read_of(const i61_buf *b, size_t *n_vars)
{
    i61_mms_request rq;
    i61_mms_access_spec s;
    bool swr;
    *n_vars = 0;
    int rc = i61_mms_dec_request(b->data, b->len, &rq);
    if (rc != I61_OK)
        return rc;
    rc = i61_mms_dec_read_req(&rq, &swr, &s);
    if (rc == I61_OK) {
        *n_vars = s.n_vars;
        i61_mms_access_spec_clear(&s);
    }
    return rc;
}

/* Reviewer finding A: the list of variables is validated element by element
 * before the (n * ~400 octets) array exists, and n is capped at what a PDU we
 * accept can carry. */
static void test_access_spec_bounds(void)
{
    i61_buf b;
    i61_buf_init(&b);
    size_t n;
    static const uint8_t empty[] = {0x30, 0x00};
    static const uint8_t invalidated[] = {0x30, 0x02, 0x84, 0x00};   /* smallest valid */
    static const uint8_t named[] = {0x30, 0x05, 0xa0, 0x03, 0x80, 0x01, 0x41};
    /* 30 000 empty elements (60 KB): malformed */
    read_req_with(&b, 30000, empty, sizeof empty);
    T_EQ_INT(dec_read_of(&b, &n), I61_ERR_MALFORMED_MESSAGE);
    /* good elements followed by a bad one: malformed, nothing kept */
    read_req_with(&b, 100, named, sizeof named);
    T_EQ_INT(dec_read_of(&b, &n), I61_OK);
    T_EQ_INT(n, 100);
    {
        i61_buf_reset(&b);
        size_t m = i61_ber_open(&b, 0xa0);
        i61_ber_put_uint64(&b, 0x02, 1);
        size_t rd = i61_ber_open(&b, 0xa4);
        size_t vas = i61_ber_open(&b, 0xa1);
        size_t lov = i61_ber_open(&b, 0xa0);
        for (int i = 0; i < 100; i++)
            i61_buf_put(&b, named, sizeof named);
        i61_buf_put(&b, empty, sizeof empty);
        i61_ber_close(&b, lov);
        i61_ber_close(&b, vas);
        i61_ber_close(&b, rd);
        i61_ber_close(&b, m);
        T_EQ_INT(dec_read_of(&b, &n), I61_ERR_MALFORMED_MESSAGE);
    }
    /* exactly the cap is fine, one more is not */
    read_req_with(&b, I61_MMS_MAX_ACCESS_VARS, invalidated, sizeof invalidated);
    T_CHECK(b.len > 65000 && b.len < 65020);          /* the cap is what 65000 octets carry */
    T_EQ_INT(dec_read_of(&b, &n), I61_OK);
    T_EQ_INT(n, I61_MMS_MAX_ACCESS_VARS);
    read_req_with(&b, I61_MMS_MAX_ACCESS_VARS + 1, invalidated, sizeof invalidated);
    T_EQ_INT(dec_read_of(&b, &n), I61_ERR_MALFORMED_MESSAGE);
    i61_buf_free(&b);
}

/* GetNameList-Response listing one identifier of `len` 'x's, moreFollows FALSE. */
static void gnl_resp_with(i61_buf *b, size_t len)
{
    char name[300];
    memset(name, 'x', len);
    name[len] = '\0';
    i61_buf_reset(b);
    size_t m = i61_ber_open(b, 0xa1);
    i61_ber_put_uint64(b, 0x02, 3);
    size_t body = i61_ber_open(b, 0xa1);
    size_t list = i61_ber_open(b, 0xa0);
    i61_ber_put_str(b, 0x1a, "ok");
    i61_ber_put_str(b, 0x1a, name);
    i61_ber_close(b, list);
    i61_ber_put_bool(b, 0x81, false);
    i61_ber_close(b, body);
    i61_ber_close(b, m);
}

/* Reviewer finding B: identifiers longer than I61_MMS_NAME_MAX are malformed
 * (and a bad response adds nothing to the list). */
static void test_name_list_identifier_limit(void)
{
    i61_buf b;
    i61_buf_init(&b);
    i61_mms_idlist l;
    i61_mms_idlist_init(&l);
    bool more = true;
    gnl_resp_with(&b, I61_MMS_NAME_MAX);
    T_EQ_INT(i61_mms_dec_get_name_list_resp(b.data, b.len, &l, &more, NULL), I61_OK);
    T_EQ_INT(l.count, 2);
    T_CHECK(!more);
    T_CHECK(l.count == 2 && strlen(l.items[1]) == I61_MMS_NAME_MAX);
    gnl_resp_with(&b, I61_MMS_NAME_MAX + 1);
    T_EQ_INT(i61_mms_dec_get_name_list_resp(b.data, b.len, &l, &more, NULL),
             I61_ERR_MALFORMED_MESSAGE);
    T_EQ_INT(l.count, 2);
    gnl_resp_with(&b, 299);
    T_EQ_INT(i61_mms_dec_get_name_list_resp(b.data, b.len, &l, &more, NULL),
             I61_ERR_MALFORMED_MESSAGE);
    T_EQ_INT(l.count, 2);
    i61_mms_idlist_clear(&l);
    i61_buf_free(&b);
}

T_MAIN(T_CASE(test_access_spec_bounds), T_CASE(test_name_list_identifier_limit),
       T_CASE(test_enc_identify_status), T_CASE(test_enc_get_name_list), T_CASE(test_enc_gvaa),
       T_CASE(test_enc_read), T_CASE(test_enc_write), T_CASE(test_enc_write_multi),
       T_CASE(test_alternate_access), T_CASE(test_dec_identify_status),
       T_CASE(test_dec_get_name_list), T_CASE(test_dec_gvaa), T_CASE(test_dec_read),
       T_CASE(test_dec_write), T_CASE(test_dec_error_reject), T_CASE(test_invoke_id),
       T_CASE(test_truncations), T_CASE(test_server_requests), T_CASE(test_server_responses))
