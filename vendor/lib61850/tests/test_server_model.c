/* Server data model: builder, MMS name index (golden 010), type specifications
 * (golden 014, 050, 052, 054, 058, 060, 088, 090), reads (016, 018, 020, 022),
 * writes with access policy and type checks (023-030), alternate access,
 * references, hooks. */
#include "t.h"
#include "test_server_fixture.h"
#include "mms/mms_data.h"
#include "server/model.h"

#define POLICY_TEST ((1u << I61_FC_SP) | (1u << I61_FC_SV) | (1u << I61_FC_SE) | (1u << I61_FC_DC))

static const i61_mvar *var_of(i61_model *m, const char *dom, const char *item)
{
    i61_mnode *ld = i61_model_domain(m, dom);
    return ld ? i61_model_var(m, ld, item) : NULL;
}

/* ------------------------------------------------------------- names */

static void test_name_list_matches_golden_010(void)
{
    i61_model *m = fx_golden_model();
    i61_model_lock(m);
    T_EQ_INT(i61_model_prepare(m), 0);
    T_EQ_INT(i61_model_domain_count(m), 1);
    T_CHECK(strcmp(i61_model_domain_name_at(m, 0), "IED1LD1") == 0);

    size_t len;
    uint8_t *f = t_golden("010_getnamelist_variables_response", &len);
    static const int path[] = {1, 0};            /* a1 { 02, a1 { a0 list, 81 more } } */
    i61_ber_tlv list;
    T_EQ_INT(fx_golden_path(f, len, path, 2, &list), 0);
    /* golden names; libiec61850 does not sort RCB instances (urcbBig before
     * urcb01): the expected list swaps those two blocks into name order. */
    char *gold[200];
    size_t ng = 0;
    i61_ber_reader r;
    i61_ber_tlv it;
    i61_ber_reader_sub(&r, &list);
    while (ng < 200 && i61_ber_next(&r, &it) == 0) {
        gold[ng] = strndup((const char *)it.val, it.len);
        ng++;
    }
    T_EQ_INT(ng, 158);
    size_t ibig = 0, i01 = 0;
    for (size_t i = 0; i < ng; i++) {
        if (strcmp(gold[i], "LLN0$RP$urcbBig") == 0) ibig = i;
        if (strcmp(gold[i], "LLN0$RP$urcb01") == 0) i01 = i;
    }
    T_CHECK(ibig > 0 && i01 == ibig + 12);       /* 1 + 11 attributes each */
    char *expect[200];
    size_t ne = 0;
    for (size_t i = 0; i < ibig; i++) expect[ne++] = gold[i];
    for (size_t i = i01; i < i01 + 12; i++) expect[ne++] = gold[i];
    for (size_t i = ibig; i < i01; i++) expect[ne++] = gold[i];
    for (size_t i = i01 + 12; i < ng; i++) expect[ne++] = gold[i];

    i61_mnode *ld = i61_model_domain(m, "IED1LD1");
    i61_mld_index *ix = i61_model_ld_index(m, ld);
    T_CHECK(ix != NULL);
    T_EQ_INT(ix->nvars, ne);
    size_t mism = 0;
    for (size_t i = 0; ix && i < ne && i < ix->nvars; i++)
        if (strcmp(ix->vars[i].name, expect[i]) != 0) {
            if (mism++ < 5)
                fprintf(stderr, "name %zu: got %s expected %s\n", i, ix->vars[i].name, expect[i]);
        }
    T_EQ_INT(mism, 0);
    /* and every golden name resolves */
    for (size_t i = 0; i < ng; i++)
        T_CHECK(i61_model_var(m, ld, gold[i]) != NULL);
    /* continue-after: golden 143/144 continue after GGIO1$CO$SPCSO2$Cancel */
    size_t k = i61_model_var_first_after(ix, "GGIO1$CO$SPCSO2$Cancel");
    T_CHECK(k < ix->nvars && strcmp(ix->vars[k].name, "GGIO1$CO$SPCSO2$Cancel$ctlNum") == 0);
    T_EQ_INT(i61_model_var_first_after(ix, "PTOC1$SP$StrVal$setMag$f"), ix->nvars);
    T_EQ_INT(i61_model_var_first_after(ix, NULL), 0);
    /* a name that is not in the list continues at the next greater one */
    k = i61_model_var_first_after(ix, "GGIO1$CO$SPCSO1$Oper$d");
    T_CHECK(k < ix->nvars && strcmp(ix->vars[k].name, "GGIO1$CO$SPCSO1$Oper$origin") == 0);
    T_EQ_INT(i61_model_domain_first_after(m, "IED1LD1"), 1);
    T_EQ_INT(i61_model_domain_first_after(m, "A"), 0);
    /* lookups are case-exact even though the order is case-insensitive */
    T_CHECK(i61_model_var(m, ld, "ggio1$MX$AnIn1") == NULL);
    T_CHECK(i61_model_var(m, ld, "GGIO1$MX$AnIn1") != NULL);
    T_CHECK(i61_model_domain(m, "ied1ld1") == NULL);
    for (size_t i = 0; i < ng; i++) free(gold[i]);
    free(f);
    i61_model_unlock(m);
    i61_model_free(m);
}

/* ------------------------------------------------------------- type specs */

static void check_gvaa_golden(i61_model *m, const char *golden, const char *item)
{
    size_t len;
    uint8_t *f = t_golden(golden, &len);
    static const int path[] = {1, 1, 0};         /* a1 { 02, a6 { 80, a2 { spec } } } */
    i61_ber_tlv spec;
    T_EQ_INT(fx_golden_path(f, len, path, 3, &spec), 0);
    const i61_mvar *v = var_of(m, "IED1LD1", item);
    T_CHECK(v != NULL);
    if (v) {
        i61_typespec *ts = NULL;
        T_EQ_INT(i61_model_var_typespec(v, &ts), 0);
        i61_buf b;
        i61_buf_init(&b);
        T_EQ_INT(i61_mms_typespec_encode(&b, ts), 0);
        T_EQ_MEM(b.data, b.len, fx_tlv_start(&spec), spec.hdr_len + spec.len);
        if (b.len != spec.hdr_len + spec.len)
            fprintf(stderr, "  (%s)\n", item);
        i61_buf_free(&b);
        i61_typespec_free(ts);
    }
    free(f);
}

static void test_typespecs_match_golden(void)
{
    i61_model *m = fx_golden_model();
    i61_model_lock(m);
    T_EQ_INT(i61_model_prepare(m), 0);
    check_gvaa_golden(m, "060_gvaa_lln0_response", "LLN0");
    check_gvaa_golden(m, "014_gvaa_mv_response", "GGIO1$MX$AnIn1");
    check_gvaa_golden(m, "050_gvaa_urcb_response", "LLN0$RP$urcb01");
    check_gvaa_golden(m, "052_gvaa_brcb_response", "LLN0$BR$brcb01");
    check_gvaa_golden(m, "054_gvaa_oper_response", "GGIO1$CO$SPCSO2$Oper");
    check_gvaa_golden(m, "056_gvaa_sbow_response", "GGIO1$CO$SPCSO2$SBOw");
    check_gvaa_golden(m, "058_gvaa_cancel_response", "GGIO1$CO$SPCSO2$Cancel");
    check_gvaa_golden(m, "088_gvaa_co_spc_response", "GGIO1$CO$SPCSO1");
    check_gvaa_golden(m, "090_gvaa_co_spc_sbo_response", "GGIO1$CO$SPCSO2");
    i61_model_unlock(m);
    i61_model_free(m);
}

/* ------------------------------------------------------------- reads */

/* Encodes the read of `item` and compares with the AccessResult at index
 * `res` of a golden read response. */
static void check_read_golden(i61_model *m, const char *golden, size_t res, const char *item)
{
    size_t len;
    uint8_t *f = t_golden(golden, &len);
    int path[] = {1, 0, (int)res};               /* a1 { 02, a4 { a1 { results } } } */
    i61_ber_tlv d;
    T_EQ_INT(fx_golden_path(f, len, path, 3, &d), 0);
    const i61_mvar *v = var_of(m, "IED1LD1", item);
    T_CHECK(v != NULL);
    if (v) {
        i61_buf b;
        i61_buf_init(&b);
        T_EQ_INT(i61_model_read_var(&b, v, NULL), -1);
        T_EQ_MEM(b.data, b.len, fx_tlv_start(&d), d.hdr_len + d.len);
        i61_buf_free(&b);
    }
    free(f);
}

static void test_reads_match_golden(void)
{
    i61_model *m = fx_golden_model();
    i61_model_lock(m);
    T_EQ_INT(i61_model_prepare(m), 0);
    check_read_golden(m, "016_read_float_response", 0, "GGIO1$MX$AnIn1$mag$f");
    check_read_golden(m, "018_read_struct_mv_response", 0, "GGIO1$MX$AnIn1");
    check_read_golden(m, "020_read_struct_sps_response", 0, "GGIO1$ST$Ind1");
    check_read_golden(m, "022_read_multi_response", 0, "GGIO1$ST$Ind1$stVal");
    check_read_golden(m, "022_read_multi_response", 1, "GGIO1$MX$AnIn1$mag$f");
    check_read_golden(m, "022_read_multi_response", 2, "LLN0$DC$NamPlt$vendor");
    check_read_golden(m, "086_read_ctlmodel_response", 0, "GGIO1$CF$SPCSO1$ctlModel");
    /* the value API gives the same */
    i61_value *v = NULL;
    T_EQ_INT(i61_model_get_value(m, "IED1LD1/GGIO1.AnIn1", I61_FC_MX, &v), 0);
    T_EQ_INT(i61_value_type(v), I61_TYPE_STRUCTURE);
    T_EQ_INT(i61_value_count(v), 3);
    double d = 0;
    T_EQ_INT(i61_value_get_double(i61_value_element(i61_value_element(v, 0), 0), &d), 0);
    T_CHECK(d == 12.5);
    T_EQ_INT(i61_value_bit_size(i61_value_element(v, 1)), 13);
    i61_value_free(v);
    i61_model_unlock(m);
    i61_model_free(m);
}

/* ------------------------------------------------------------- writes */

/* Decodes the first Data of a golden write request (a0 { 02, a5 { a0 vars, a0 { data } } }). */
static i61_value *golden_write_value(const char *golden)
{
    size_t len;
    uint8_t *f = t_golden(golden, &len);
    static const int path[] = {1, 1, 0};
    i61_ber_tlv d;
    i61_value *v = NULL;
    if (fx_golden_path(f, len, path, 3, &d) == 0)
        i61_mms_data_decode(&d, 0, &v);
    free(f);
    return v;
}

static void test_writes_golden_and_policy(void)
{
    i61_model *m = fx_golden_model();
    i61_model_lock(m);
    T_EQ_INT(i61_model_prepare(m), 0);

    /* 023: DC write allowed by this server's policy (the golden server enabled DC) */
    i61_value *v = golden_write_value("023_write_string_request");
    T_CHECK(v != NULL);
    const i61_mvar *var = var_of(m, "IED1LD1", "GGIO1$DC$Ind1$d");
    T_EQ_INT(i61_model_check_write(var, NULL, v, POLICY_TEST), -1);
    T_EQ_INT(i61_model_apply_write(m, var, NULL, v), -1);
    /* default policy (SP, SV, SE): DC denied */
    T_EQ_INT(i61_model_check_write(var, NULL, v, (1u << I61_FC_SP) | (1u << I61_FC_SV) |
                                   (1u << I61_FC_SE)), 3);
    i61_value_free(v);
    i61_value *r = NULL;
    T_EQ_INT(i61_model_get_value(m, "IED1LD1/GGIO1.Ind1.d", I61_FC_NONE, &r), 0);
    size_t sl = 0;
    const uint8_t *s = i61_value_get_bytes(r, &sl);
    T_EQ_MEM(s, sl, "Door contact", 12);
    i61_value_free(r);

    /* 025: SP float */
    v = golden_write_value("025_write_float_request");
    var = var_of(m, "IED1LD1", "PTOC1$SP$StrVal$setMag$f");
    T_EQ_INT(i61_model_check_write(var, NULL, v, POLICY_TEST), -1);
    T_EQ_INT(i61_model_apply_write(m, var, NULL, v), -1);
    i61_value_free(v);
    double d = 0;
    T_EQ_INT(i61_model_get_value(m, "IED1LD1/PTOC1.StrVal.setMag.f", I61_FC_SP, &r), 0);
    T_EQ_INT(i61_value_get_double(r, &d), 0);
    T_CHECK(d == 1.5);
    i61_value_free(r);

    /* 027: ST never writable -> object-access-denied even if the mask says so */
    v = golden_write_value("027_write_denied_request");
    var = var_of(m, "IED1LD1", "GGIO1$ST$Ind1$stVal");
    T_EQ_INT(i61_model_check_write(var, NULL, v, POLICY_TEST), 3);
    i61_value_free(v);
    /* 029: non-existent */
    T_CHECK(var_of(m, "IED1LD1", "GGIO1$ST$Ind9$stVal") == NULL);

    /* type-inconsistent: integer to a float, 8-bit overflow, too long string, wrong struct */
    var = var_of(m, "IED1LD1", "PTOC1$SP$StrVal$setMag$f");
    v = i61_value_new_integer(3);
    T_EQ_INT(i61_model_check_write(var, NULL, v, POLICY_TEST), 7);
    i61_value_free(v);
    var = var_of(m, "IED1LD1", "GGIO1$CF$SPCSO1$ctlModel");
    v = i61_value_new_integer(300);
    T_EQ_INT(i61_model_check_write(var, NULL, v, (1u << I61_FC_CF)), 7);
    i61_value_free(v);
    v = i61_value_new_unsigned(2);
    T_EQ_INT(i61_model_check_write(var, NULL, v, (1u << I61_FC_CF)), 7);
    i61_value_free(v);
    v = i61_value_new_integer(2);
    T_EQ_INT(i61_model_check_write(var, NULL, v, (1u << I61_FC_CF)), -1);
    i61_value_free(v);
    char longs[300];
    memset(longs, 'x', 299);
    longs[299] = 0;
    var = var_of(m, "IED1LD1", "GGIO1$DC$Ind1$d");
    v = i61_value_new_visible_string(longs);
    T_EQ_INT(i61_model_check_write(var, NULL, v, POLICY_TEST), 7);
    i61_value_free(v);
    /* whole SP structure of StrVal: { setMag { f } } */
    var = var_of(m, "IED1LD1", "PTOC1$SP$StrVal");
    v = i61_value_new_structure(1);
    i61_value *inner = i61_value_new_structure(1);
    i61_value_set_element(inner, 0, i61_value_new_float(7.25f));
    i61_value_set_element(v, 0, inner);
    T_EQ_INT(i61_model_check_write(var, NULL, v, POLICY_TEST), -1);
    T_EQ_INT(i61_model_apply_write(m, var, NULL, v), -1);
    i61_value_free(v);
    T_EQ_INT(i61_model_get_value(m, "IED1LD1/PTOC1$SP$StrVal$setMag$f", I61_FC_NONE, &r), 0);
    T_EQ_INT(i61_value_get_double(r, &d), 0);
    T_CHECK(d == 7.25);
    i61_value_free(r);
    v = i61_value_new_structure(2);
    i61_value_set_element(v, 0, i61_value_new_float(1));
    i61_value_set_element(v, 1, i61_value_new_float(2));
    T_EQ_INT(i61_model_check_write(var, NULL, v, POLICY_TEST), 7);
    i61_value_free(v);
    /* a 64-bit float is stored as the declared 32-bit float */
    var = var_of(m, "IED1LD1", "PTOC1$SP$StrVal$setMag$f");
    v = i61_value_new_double(0.5);
    T_EQ_INT(i61_model_check_write(var, NULL, v, POLICY_TEST), -1);
    T_EQ_INT(i61_model_apply_write(m, var, NULL, v), -1);
    i61_value_free(v);
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_model_read_var(&b, var, NULL), -1);
    static const uint8_t half[] = {0x87, 0x05, 0x08, 0x3f, 0x00, 0x00, 0x00};
    T_EQ_MEM(b.data, b.len, half, sizeof half);
    i61_buf_free(&b);
    /* CO/RP/BR are not writable through a plain write */
    var = var_of(m, "IED1LD1", "LLN0$RP$urcb01$RptEna");
    v = i61_value_new_boolean(1);
    T_EQ_INT(i61_model_check_write(var, NULL, v, POLICY_TEST), 3);
    i61_value_free(v);
    i61_model_unlock(m);
    i61_model_free(m);
}

/* ------------------------------------------------------------- arrays */

static void test_arrays_and_alternate_access(void)
{
    i61_model *m = i61_model_new("IEDA");
    i61_mnode *ld, *ln, *dobj, *arr, *vals;
    T_EQ_INT(i61_model_add_ld(m, "LD0", NULL, &ld), 0);
    T_EQ_INT(i61_model_add_ln(ld, "GGIO1", &ln), 0);
    T_EQ_INT(i61_model_add_do(ln, "Crv", &dobj), 0);
    /* SP array of 4 structures { xVal float, yVal int32 } and an SP int array */
    T_EQ_INT(i61_model_add_da(dobj, "crvPts", I61_FC_SP, I61_TYPE_STRUCTURE, 0, 4, &arr), 0);
    T_EQ_INT(i61_model_add_da(arr, "xVal", I61_FC_NONE, I61_TYPE_FLOAT, 32, 0, NULL), 0);
    T_EQ_INT(i61_model_add_da(arr, "yVal", I61_FC_NONE, I61_TYPE_INTEGER, 32, 0, NULL), 0);
    T_EQ_INT(i61_model_add_da(dobj, "vals", I61_FC_SP, I61_TYPE_UNSIGNED, 16, 3, &vals), 0);
    /* bad builder input */
    T_EQ_INT(i61_model_add_da(arr, "zz", I61_FC_ST, I61_TYPE_FLOAT, 32, 0, NULL),
             I61_ERR_INVALID_ARGUMENT);                   /* FC differs from the parent */
    T_EQ_INT(i61_model_add_da(dobj, "vals", I61_FC_SP, I61_TYPE_BOOLEAN, 0, 0, NULL),
             I61_ERR_OBJECT_EXISTS);
    T_EQ_INT(i61_model_add_da(dobj, "bad$name", I61_FC_SP, I61_TYPE_BOOLEAN, 0, 0, NULL),
             I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_model_add_da(dobj, "o", I61_FC_SP, I61_TYPE_OBJ_ID, 0, 0, NULL),
             I61_ERR_TYPE_UNSUPPORTED);
    T_EQ_INT(i61_model_add_da(dobj, "f", I61_FC_SP, I61_TYPE_FLOAT, 16, 0, NULL),
             I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_model_add_da(vals, "x", I61_FC_SP, I61_TYPE_BOOLEAN, 0, 0, NULL),
             I61_ERR_INVALID_ARGUMENT);                   /* vals is not constructed */
    T_EQ_INT(i61_model_add_ld(m, "LD0", NULL, NULL), I61_ERR_OBJECT_EXISTS);
    char longname[80];
    memset(longname, 'A', 70);
    longname[70] = 0;
    T_EQ_INT(i61_model_add_do(ln, longname, NULL), I61_ERR_INVALID_ARGUMENT);

    i61_model_lock(m);
    T_EQ_INT(i61_model_prepare(m), 0);
    i61_mnode *d = i61_model_domain(m, "IEDALD0");
    i61_mld_index *ix = i61_model_ld_index(m, d);
    /* names: array elements have none */
    const char *want[] = {"GGIO1", "GGIO1$SP", "GGIO1$SP$Crv", "GGIO1$SP$Crv$crvPts",
                          "GGIO1$SP$Crv$vals"};
    T_EQ_INT(ix->nvars, 5);
    for (size_t i = 0; i < 5 && i < ix->nvars; i++)
        T_CHECK(strcmp(ix->vars[i].name, want[i]) == 0);

    const i61_mvar *v = i61_model_var(m, d, "GGIO1$SP$Crv$crvPts");
    i61_typespec *ts = NULL;
    T_EQ_INT(i61_model_var_typespec(v, &ts), 0);
    T_EQ_INT(i61_typespec_kind(ts), I61_TYPE_ARRAY);
    T_EQ_INT(i61_typespec_size(ts), 4);
    T_EQ_INT(i61_typespec_kind(i61_typespec_child(ts, 0)), I61_TYPE_STRUCTURE);
    i61_typespec_free(ts);

    /* write element 2, component yVal via alternate access */
    i61_maccess aa = {true, 2, "yVal"};
    i61_value *x = i61_value_new_integer(-77);
    T_EQ_INT(i61_model_check_write(v, &aa, x, 1u << I61_FC_SP), -1);
    T_EQ_INT(i61_model_apply_write(m, v, &aa, x), -1);
    i61_value_free(x);
    i61_value *r = NULL;
    T_EQ_INT(i61_model_read_var_value(v, &aa, &r), -1);
    int64_t iv = 0;
    T_EQ_INT(i61_value_get_int64(r, &iv), 0);
    T_EQ_INT(iv, -77);
    i61_value_free(r);
    /* element 2 as a whole */
    i61_maccess aa2 = {true, 2, NULL};
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_model_read_var(&b, v, &aa2), -1);
    static const uint8_t elem2[] = {0xa2, 0x0a, 0x87, 0x05, 0x08, 0, 0, 0, 0, 0x85, 0x01, 0xb3};
    T_EQ_MEM(b.data, b.len, elem2, sizeof elem2);
    i61_buf_free(&b);
    /* out of range, unknown component, index on a non-array, wrong type */
    i61_maccess bad = {true, 4, NULL};
    T_EQ_INT(i61_model_read_var_value(v, &bad, &r), 5);
    i61_maccess badc = {true, 1, "zVal"};
    T_EQ_INT(i61_model_read_var_value(v, &badc, &r), 10);
    const i61_mvar *dv = i61_model_var(m, d, "GGIO1$SP$Crv");
    T_EQ_INT(i61_model_read_var_value(dv, &aa2, &r), 9);
    x = i61_value_new_float(1.0f);
    T_EQ_INT(i61_model_check_write(v, &aa, x, 1u << I61_FC_SP), 7);
    i61_value_free(x);
    /* component selection without index, from the DO: crvPts whole, then an element */
    i61_maccess comp = {false, 0, "vals"};
    T_EQ_INT(i61_model_read_var_value(dv, &comp, &r), -1);
    T_EQ_INT(i61_value_type(r), I61_TYPE_ARRAY);
    T_EQ_INT(i61_value_count(r), 3);
    i61_value_free(r);
    /* whole array write with the wrong count -> type-inconsistent */
    const i61_mvar *vv = i61_model_var(m, d, "GGIO1$SP$Crv$vals");
    x = i61_value_new_array(2);
    i61_value_set_element(x, 0, i61_value_new_unsigned(1));
    i61_value_set_element(x, 1, i61_value_new_unsigned(2));
    T_EQ_INT(i61_model_check_write(vv, NULL, x, 1u << I61_FC_SP), 7);
    i61_value_free(x);
    x = i61_value_new_array(3);
    for (size_t i = 0; i < 3; i++)
        i61_value_set_element(x, i, i61_value_new_unsigned(1000 + i));
    T_EQ_INT(i61_model_check_write(vv, NULL, x, 1u << I61_FC_SP), -1);
    T_EQ_INT(i61_model_apply_write(m, vv, NULL, x), -1);
    i61_value_free(x);
    i61_maccess e1 = {true, 1, NULL};
    T_EQ_INT(i61_model_read_var_value(vv, &e1, &r), -1);
    uint64_t uv = 0;
    T_EQ_INT(i61_value_get_uint64(r, &uv), 0);
    T_EQ_INT(uv, 1001);
    T_EQ_INT(i61_value_bit_size(r), 16);
    i61_value_free(r);
    i61_model_unlock(m);
    i61_model_free(m);
}

/* ------------------------------------------------------------- references */

static void test_references(void)
{
    i61_model *m = fx_golden_model();
    i61_mnode *n = NULL;
    int fc = -5;
    T_EQ_INT(i61_model_find(m, "IED1LD1/GGIO1.AnIn1.mag.f", I61_FC_NONE, &n, &fc), 0);
    T_EQ_INT(fc, I61_FC_MX);
    T_CHECK(n && strcmp(i61_mnode_name(n), "f") == 0);
    /* Ind1 has ST and DC attributes: ambiguous without FC */
    T_EQ_INT(i61_model_find(m, "IED1LD1/GGIO1.Ind1", I61_FC_NONE, &n, &fc),
             I61_ERR_OBJECT_REFERENCE_INVALID);
    T_EQ_INT(i61_model_find(m, "IED1LD1/GGIO1.Ind1", I61_FC_ST, &n, &fc), 0);
    T_EQ_INT(i61_model_find(m, "IED1LD1/GGIO1.Ind1", I61_FC_MX, &n, &fc),
             I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_model_find(m, "IED1LD1/GGIO1.Ind9", I61_FC_ST, &n, &fc),
             I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_model_find(m, "IED9/GGIO1.Ind1", I61_FC_ST, &n, &fc),
             I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(i61_model_find(m, "GGIO1.Ind1", I61_FC_ST, &n, &fc), I61_ERR_OBJECT_REFERENCE_INVALID);
    T_EQ_INT(i61_model_find(m, "IED1LD1/GGIO1..x", I61_FC_ST, &n, &fc),
             I61_ERR_OBJECT_REFERENCE_INVALID);
    T_EQ_INT(i61_model_find(m, "IED1LD1/GGIO1$ST$Ind1$q", I61_FC_NONE, &n, &fc), 0);
    T_EQ_INT(fc, I61_FC_ST);
    T_EQ_INT(i61_model_find(m, "IED1LD1/GGIO1", I61_FC_NONE, &n, &fc), 0);
    T_EQ_INT(fc, I61_FC_NONE);
    T_EQ_INT(i61_mnode_kind_of(n), I61_MNODE_LN);

    /* update a DO restricted to ST as one structure; wrong shape refused */
    i61_value *s = i61_value_new_structure(3);
    i61_value_set_element(s, 0, i61_value_new_boolean(1));
    i61_value_set_element(s, 1, i61_value_new_bit_string(13, (const uint8_t *)"\x40\x00"));
    static const uint8_t t0[8] = {0};
    i61_value_set_element(s, 2, i61_value_new_utc_time(t0));
    T_EQ_INT(i61_model_set_value(m, "IED1LD1/GGIO1.Ind1", I61_FC_ST, s), 0);
    T_EQ_INT(i61_model_set_value(m, "IED1LD1/GGIO1.Ind1", I61_FC_DC, s), I61_ERR_TYPE_INCONSISTENT);
    i61_value_free(s);
    int b = 0;
    i61_value *r = NULL;
    T_EQ_INT(i61_model_get_value(m, "IED1LD1/GGIO1.Ind1.stVal", I61_FC_NONE, &r), 0);
    T_EQ_INT(i61_value_get_boolean(r, &b), 0);
    T_EQ_INT(b, 1);
    i61_value_free(r);
    /* node handle fast path */
    T_EQ_INT(i61_model_find(m, "IED1LD1/GGIO1.AnIn1.mag.f", I61_FC_NONE, &n, NULL), 0);
    i61_value *fv = i61_value_new_float(99.0f);
    T_EQ_INT(i61_model_set_node_value(m, n, I61_FC_NONE, fv), 0);
    i61_value_free(fv);
    fv = i61_value_new_boolean(1);
    T_EQ_INT(i61_model_set_node_value(m, n, I61_FC_NONE, fv), I61_ERR_TYPE_INCONSISTENT);
    i61_value_free(fv);
    T_EQ_INT(i61_model_get_node_value(m, n, I61_FC_NONE, &r), 0);
    double d = 0;
    i61_value_get_double(r, &d);
    T_CHECK(d == 99.0);
    i61_value_free(r);
    /* typespec through a reference */
    i61_typespec *ts = NULL;
    T_EQ_INT(i61_model_get_typespec(m, "IED1LD1/LLN0", I61_FC_NONE, &ts), 0);
    T_EQ_INT(i61_typespec_count(ts), 4);
    T_CHECK(strcmp(i61_typespec_name(i61_typespec_child(ts, 1)), "DC") == 0);
    i61_typespec_free(ts);
    /* client reference of a variable */
    i61_model_lock(m);
    const i61_mvar *v = var_of(m, "IED1LD1", "GGIO1$CO$SPCSO2$Oper$origin$orCat");
    char ref[130];
    T_EQ_INT(i61_model_var_ref(v, ref, sizeof ref), 0);
    T_CHECK(strcmp(ref, "IED1LD1/GGIO1.SPCSO2.Oper.origin.orCat") == 0);
    v = var_of(m, "IED1LD1", "GGIO1$CO");
    T_EQ_INT(i61_model_var_ref(v, ref, sizeof ref), 0);
    T_CHECK(strcmp(ref, "IED1LD1/GGIO1") == 0);
    T_EQ_INT(i61_model_var_ref(v, ref, 5), I61_ERR_INVALID_ARGUMENT);
    i61_model_unlock(m);
    i61_model_free(m);
}

/* ------------------------------------------------------------- hooks */

static int hook_seen;
static void count_hook(void *ctx, const i61_mhook *h)
{
    (void)h;
    (*(int *)ctx)++;
}
static int dummy_hook(void *ud, uint64_t tok, uint32_t conn, const char *ref, int fc,
                      const i61_value *v)
{
    (void)ud; (void)tok; (void)conn; (void)ref; (void)fc; (void)v;
    hook_seen++;
    return I61_HOOK_ACCEPT;
}

static void test_hook_coverage(void)
{
    i61_model *m = fx_golden_model();
    i61_mnode *n;
    T_EQ_INT(i61_model_find(m, "IED1LD1/PTOC1.StrVal.setMag", I61_FC_SP, &n, NULL), 0);
    T_EQ_INT(i61_model_set_hook(m, n, I61_FC_SP, true, false, (void *)dummy_hook, NULL), 0);
    i61_model_lock(m);
    T_EQ_INT(i61_model_prepare(m), 0);
    int c = 0;
    /* at, below and above the hooked node */
    c = 0; i61_model_var_hooks(var_of(m, "IED1LD1", "PTOC1$SP$StrVal$setMag"), true, count_hook, &c);
    T_EQ_INT(c, 1);
    c = 0; i61_model_var_hooks(var_of(m, "IED1LD1", "PTOC1$SP$StrVal$setMag$f"), true, count_hook, &c);
    T_EQ_INT(c, 1);
    c = 0; i61_model_var_hooks(var_of(m, "IED1LD1", "PTOC1$SP"), true, count_hook, &c);
    T_EQ_INT(c, 1);
    c = 0; i61_model_var_hooks(var_of(m, "IED1LD1", "PTOC1"), true, count_hook, &c);
    T_EQ_INT(c, 1);
    /* not for reads, not for other objects */
    c = 0; i61_model_var_hooks(var_of(m, "IED1LD1", "PTOC1$SP$StrVal$setMag$f"), false, count_hook, &c);
    T_EQ_INT(c, 0);
    c = 0; i61_model_var_hooks(var_of(m, "IED1LD1", "GGIO1$MX$AnIn1"), true, count_hook, &c);
    T_EQ_INT(c, 0);
    i61_model_unlock(m);
    /* removal */
    T_EQ_INT(i61_model_set_hook(m, n, I61_FC_SP, true, false, NULL, NULL), 0);
    i61_model_lock(m);
    c = 0; i61_model_var_hooks(var_of(m, "IED1LD1", "PTOC1$SP$StrVal$setMag$f"), true, count_hook, &c);
    T_EQ_INT(c, 0);
    i61_model_unlock(m);
    /* FC the node does not have */
    T_EQ_INT(i61_model_set_hook(m, n, I61_FC_ST, true, false, (void *)dummy_hook, NULL), I61_ERR_INVALID_ARGUMENT);
    i61_model_free(m);
}

/* A model with many LNs: lookups stay exact. */
static void test_many_lns(void)
{
    i61_model *m = i61_model_new("BIG");
    i61_mnode *ld;
    T_EQ_INT(i61_model_add_ld(m, "LD", NULL, &ld), 0);
    char name[32];
    for (int i = 0; i < 300; i++) {
        i61_mnode *ln, *d;
        snprintf(name, sizeof name, "GGIO%d", i);
        T_EQ_INT(i61_model_add_ln(ld, name, &ln), 0);
        T_EQ_INT(i61_model_add_do(ln, "AnIn", &d), 0);
        T_EQ_INT(i61_model_add_da(d, "v", I61_FC_MX, I61_TYPE_INTEGER, 32, 0, NULL), 0);
    }
    for (int i = 0; i < 300; i += 37) {
        char ref[64];
        snprintf(ref, sizeof ref, "BIGLD/GGIO%d.AnIn.v", i);
        i61_value *v = i61_value_new_integer(i * 3);
        T_EQ_INT(i61_model_set_value(m, ref, I61_FC_NONE, v), 0);
        i61_value_free(v);
    }
    i61_model_lock(m);
    i61_mnode *d = i61_model_domain(m, "BIGLD");
    T_EQ_INT(i61_model_ld_index(m, d)->nvars, 300 * 4);
    for (int i = 0; i < 300; i += 37) {
        snprintf(name, sizeof name, "GGIO%d$MX$AnIn$v", i);
        const i61_mvar *v = i61_model_var(m, d, name);
        T_CHECK(v != NULL);
        i61_value *r = NULL;
        T_EQ_INT(i61_model_read_var_value(v, NULL, &r), -1);
        int64_t x = -1;
        i61_value_get_int64(r, &x);
        T_EQ_INT(x, i * 3);
        i61_value_free(r);
    }
    i61_model_unlock(m);
    i61_model_free(m);
}

T_MAIN(T_CASE(test_name_list_matches_golden_010), T_CASE(test_typespecs_match_golden),
       T_CASE(test_reads_match_golden), T_CASE(test_writes_golden_and_policy),
       T_CASE(test_arrays_and_alternate_access), T_CASE(test_references),
       T_CASE(test_hook_coverage), T_CASE(test_many_lns))
