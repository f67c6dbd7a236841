/* Object references -> MMS names, and the ACSI directories derived from the
 * golden GetNameList answers (010: variables of IED1LD1, 012: its data sets). */
#include "t.h"
#include "client/reference.h"
#include "mms/mms_pdu.h"

static i61_mms_var ok_ref(const char *ref, int fc)
{
    i61_mms_var v;
    char why[160] = "";
    int rc = i61_ref_to_var(ref, fc, &v, why, sizeof why);
    if (rc != I61_OK)
        fprintf(stderr, "unexpected refusal of %s: %s\n", ref, why);
    T_EQ_INT(rc, I61_OK);
    return v;
}

#define T_ITEM(r_, f_, d_, i_) do { i61_mms_var v_ = ok_ref(r_, f_); \
    T_CHECK(strcmp(v_.name.domain, d_) == 0); T_CHECK(strcmp(v_.name.item, i_) == 0); \
    T_EQ_INT(v_.name.scope, I61_MMS_SCOPE_DOMAIN); T_CHECK(!v_.has_index); } while (0)

static void test_good_references(void)
{
    T_ITEM("IED1LD1/GGIO1.AnIn1.mag.f", I61_FC_MX, "IED1LD1", "GGIO1$MX$AnIn1$mag$f");
    T_ITEM("IED1LD1/GGIO1.AnIn1", I61_FC_MX, "IED1LD1", "GGIO1$MX$AnIn1");
    T_ITEM("IED1LD1/LLN0.NamPlt.vendor", I61_FC_DC, "IED1LD1", "LLN0$DC$NamPlt$vendor");
    T_ITEM("IED1LD1/GGIO1.SPCSO1.Oper.origin.orCat", I61_FC_CO, "IED1LD1", "GGIO1$CO$SPCSO1$Oper$origin$orCat");
    T_ITEM("IED1LD1/LLN0.urcb01", I61_FC_RP, "IED1LD1", "LLN0$RP$urcb01");
    T_ITEM("IED1LD1/LLN0", I61_FC_ST, "IED1LD1", "LLN0$ST");
    T_ITEM("IED1LD1/LLN0", I61_FC_NONE, "IED1LD1", "LLN0");
    T_ITEM("IED1LD1/GGIO1$MX$AnIn1$mag$f", I61_FC_NONE, "IED1LD1", "GGIO1$MX$AnIn1$mag$f");
    T_ITEM("TEST_LD0/LLN0$SP$SGCB", I61_FC_NONE, "TEST_LD0", "LLN0$SP$SGCB");
    T_ITEM("IED1LD1/LLN0$GS$gscb1", I61_FC_NONE, "IED1LD1", "LLN0$GS$gscb1");

    /* array element, then a component path inside it */
    i61_mms_var v = ok_ref("LD/MHAI1.HA.phsAHar(3).cVal.mag.f", I61_FC_MX);
    T_CHECK(strcmp(v.name.item, "MHAI1$MX$HA$phsAHar") == 0);
    T_CHECK(v.has_index);
    T_EQ_INT(v.index, 3);
    T_CHECK(strcmp(v.component, "cVal$mag$f") == 0);
    v = ok_ref("LD/MHAI1.HA.phsAHar(0)", I61_FC_MX);
    T_CHECK(v.has_index && v.index == 0 && v.component[0] == 0);
    v = ok_ref("LD/MHAI1$MX$HA$phsAHar(4294967295)$cVal", I61_FC_NONE);
    T_CHECK(v.has_index && v.index == 4294967295u && strcmp(v.component, "cVal") == 0);

    /* length limits: item of exactly 64, reference of exactly 129 */
    char ref[200], item[80];
    memset(item, 'a', 60);
    item[60] = 0;
    snprintf(ref, sizeof ref, "LD/LN.%s", item);              /* LN$ST$ + 58 = 64 */
    ref[strlen(ref) - 2] = 0;
    v = ok_ref(ref, I61_FC_ST);
    T_EQ_INT(strlen(v.name.item), 64);
    char ld[70];
    memset(ld, 'D', 64);
    ld[64] = 0;
    char comp[60];
    memset(comp, 'c', 55);
    comp[55] = 0;
    snprintf(ref, sizeof ref, "%s/LN.DO(1).%s", ld, comp);
    T_EQ_INT(strlen(ref), 129);
    v = ok_ref(ref, I61_FC_ST);
    T_EQ_INT(strlen(v.name.domain), 64);
    T_CHECK(strcmp(v.name.item, "LN$ST$DO") == 0);
    T_EQ_INT(strlen(v.component), 55);
}

static void bad_ref(const char *ref, int fc, const char *why_part)
{
    i61_mms_var v;
    char why[200] = "";
    int rc = i61_ref_to_var(ref, fc, &v, why, sizeof why);
    T_EQ_INT(rc, I61_ERR_OBJECT_REFERENCE_INVALID);
    if (rc == I61_ERR_OBJECT_REFERENCE_INVALID && !strstr(why, why_part)) {
        fprintf(stderr, "reference '%s': reason '%s' lacks '%s'\n", ref ? ref : "(null)", why, why_part);
        T_CHECK(0);
    }
}

static void test_bad_references(void)
{
    bad_ref(NULL, I61_FC_ST, "empty");
    bad_ref("", I61_FC_ST, "empty");
    bad_ref("GGIO1.Ind1", I61_FC_ST, "no '/'");
    bad_ref("/GGIO1.Ind1", I61_FC_ST, "empty logical device");
    bad_ref("LD/", I61_FC_ST, "no logical node");
    bad_ref("LD/LN/DO", I61_FC_ST, "more than one '/'");
    bad_ref("LD/LN..DO", I61_FC_ST, "empty name");
    bad_ref("LD/LN.DO.", I61_FC_ST, "ends with a separator");
    bad_ref("LD/LN.D-O", I61_FC_ST, "'-' not allowed");
    bad_ref("LD/LN.DO DA", I61_FC_ST, "' ' not allowed");
    bad_ref("L D/LN.DO", I61_FC_ST, "logical device");
    bad_ref("LD/LN.DO\x01", I61_FC_ST, "non-printable");
    bad_ref("LD/LN$ST$DO", I61_FC_ST, "'$' in a reference given with a functional constraint");
    bad_ref("LD/LN.DO", I61_FC_NONE, "'.' in a reference without functional constraint");
    bad_ref("LD/LN$XX$DO", I61_FC_NONE, "must be a functional constraint");
    bad_ref("LD/LN.DO", I61_FC_ALL, "invalid functional constraint");
    bad_ref("LD/LN.DO", 42, "invalid functional constraint");
    bad_ref("LD/LN.DO(3).a(4)", I61_FC_MX, "only one array index");
    bad_ref("LD/LN.DO(x)", I61_FC_MX, "decimal number");
    bad_ref("LD/LN.DO(3", I61_FC_MX, "missing ')'");
    bad_ref("LD/LN.DO(3)x", I61_FC_MX, "after array index");
    bad_ref("LD/LN(3).DO", I61_FC_MX, "needs a data object");
    bad_ref("LD/LN.DO(4294967296)", I61_FC_MX, "too large");
    bad_ref("LD/LN.DO(1).a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p", I61_FC_MX, "more than 15 names");
    /* 15 names after the index is the deepest alternate access we build */
    i61_mms_var deep = ok_ref("LD/LN.DO(1).a.b.c.d.e.f.g.h.i.j.k.l.m.n.o", I61_FC_MX);
    T_CHECK(i61_mms_var_encoded_size(&deep) > 0);

    char ref[300], big[200];
    memset(big, 'a', 150);
    big[150] = 0;
    snprintf(ref, sizeof ref, "LD/LN.%s", big);
    bad_ref(ref, I61_FC_ST, "longer than 129");
    big[59] = 0;                                  /* LN$ST$ + 59 = 65 */
    snprintf(ref, sizeof ref, "LD/LN.%s", big);
    bad_ref(ref, I61_FC_ST, "longer than 64");
    memset(big, 'D', 65);
    big[65] = 0;
    snprintf(ref, sizeof ref, "%s/LLN0.Mod", big);
    bad_ref(ref, I61_FC_ST, "logical device name longer than 64");

    /* the why buffer is optional */
    i61_mms_var v;
    T_EQ_INT(i61_ref_to_var("nope", I61_FC_ST, &v, NULL, 0), I61_ERR_OBJECT_REFERENCE_INVALID);
}

static void test_helpers(void)
{
    char ld[I61_REF_LD_MAX + 1], ln[I61_REF_ITEM_MAX + 1], path[I61_REF_ITEM_MAX + 1], why[160];
    T_EQ_INT(i61_ref_split_ln("IED1LD1/LLN0", ld, ln, why, sizeof why), I61_OK);
    T_CHECK(strcmp(ld, "IED1LD1") == 0 && strcmp(ln, "LLN0") == 0);
    T_EQ_INT(i61_ref_split_ln("IED1LD1/LLN0.Mod", ld, ln, why, sizeof why), I61_ERR_OBJECT_REFERENCE_INVALID);
    T_EQ_INT(i61_ref_split_ln("IED1LD1", ld, ln, why, sizeof why), I61_ERR_OBJECT_REFERENCE_INVALID);
    T_EQ_INT(i61_ref_split_data("IED1LD1/GGIO1.AnIn1.mag", ld, ln, path, why, sizeof why), I61_OK);
    T_CHECK(strcmp(ld, "IED1LD1") == 0 && strcmp(ln, "GGIO1") == 0 && strcmp(path, "AnIn1$mag") == 0);
    T_EQ_INT(i61_ref_split_data("IED1LD1/GGIO1", ld, ln, path, why, sizeof why), I61_ERR_OBJECT_REFERENCE_INVALID);
    T_CHECK(strstr(why, "no data object") != NULL);
    T_EQ_INT(i61_ref_split_data("IED1LD1/GGIO1.An$In1", ld, ln, path, why, sizeof why), I61_ERR_OBJECT_REFERENCE_INVALID);
    T_EQ_INT(i61_ref_check_ld("IED1LD1", why, sizeof why), I61_OK);
    T_EQ_INT(i61_ref_check_ld("IED1/LD1", why, sizeof why), I61_ERR_OBJECT_REFERENCE_INVALID);
    T_EQ_INT(i61_ref_check_ld(NULL, why, sizeof why), I61_ERR_OBJECT_REFERENCE_INVALID);

    char comp[I61_MMS_NAME_MAX + 1];
    T_EQ_INT(i61_ref_component("cVal.mag$f", comp, why, sizeof why), I61_OK);
    T_CHECK(strcmp(comp, "cVal$mag$f") == 0);
    T_EQ_INT(i61_ref_component(NULL, comp, why, sizeof why), I61_OK);
    T_CHECK(comp[0] == 0);
    T_EQ_INT(i61_ref_component("a..b", comp, why, sizeof why), I61_ERR_OBJECT_REFERENCE_INVALID);
    T_EQ_INT(i61_ref_component("a(1)", comp, why, sizeof why), I61_ERR_OBJECT_REFERENCE_INVALID);
    T_EQ_INT(i61_ref_component("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p", comp, why, sizeof why),
             I61_ERR_OBJECT_REFERENCE_INVALID);

    char d[200];
    i61_ref_describe("TESTGenericIO/GGIO1.AnIn1.mag.f", I61_FC_MX, d, sizeof d);
    T_CHECK(strcmp(d, "TESTGenericIO/GGIO1.AnIn1.mag.f [MX]") == 0);
    i61_ref_describe("IED1LD1/LLN0", I61_FC_NONE, d, sizeof d);
    T_CHECK(strcmp(d, "IED1LD1/LLN0") == 0);
    i61_ref_describe("bad\nref", I61_FC_NONE, d, sizeof d);
    T_CHECK(strcmp(d, "bad?ref") == 0);
    i61_ref_describe(NULL, I61_FC_ST, d, sizeof d);
    T_CHECK(strcmp(d, "(null) [ST]") == 0);
}

/* ------------------------------------------------------------ directories */

static i61_mms_idlist golden_names(const char *name)
{
    size_t n;
    uint8_t *f = t_golden(name, &n);
    /* MMS PDU after TPKT(4) COTP(3) session(4) and 61 L 30 L 02 01 03 a0 L */
    i61_ber_tlv t;
    i61_ber_reader r;
    i61_mms_idlist l;
    bool more;
    i61_mms_idlist_init(&l);
    T_EQ_INT(i61_ber_parse(f + 11, n - 11, &t, NULL), 0);
    i61_ber_reader_sub(&r, &t);
    T_EQ_INT(i61_ber_next(&r, &t), 0);                    /* 30 */
    i61_ber_reader_sub(&r, &t);
    T_EQ_INT(i61_ber_next(&r, &t), 0);                    /* 02 01 03 */
    T_EQ_INT(i61_ber_next(&r, &t), 0);                    /* a0 */
    T_EQ_INT(i61_mms_dec_get_name_list_resp(t.val, t.len, &l, &more, NULL), I61_OK);
    free(f);
    return l;
}

static int expect_list(const i61_strlist *l, const char *const *want, size_t n)
{
    int ok = l && i61_strlist_count(l) == n;
    for (size_t i = 0; ok && i < n; i++)
        ok = strcmp(i61_strlist_get(l, i), want[i]) == 0;
    if (!ok) {
        fprintf(stderr, "got [");
        for (size_t i = 0; l && i < i61_strlist_count(l); i++)
            fprintf(stderr, "%s%s", i ? ", " : "", i61_strlist_get(l, i));
        fprintf(stderr, "]\n");
    }
    return ok;
}

#define T_LIST(l, ...) do { static const char *const w_[] = { __VA_ARGS__ }; \
    T_CHECK(expect_list(l, w_, sizeof w_ / sizeof w_[0])); } while (0)

static void test_dir_ld_ln(void)
{
    i61_mms_idlist vars = golden_names("010_getnamelist_variables_response");
    const char *const *n = (const char *const *)vars.items;
    size_t c = vars.count;
    i61_strlist *l = NULL;
    bool found = false;

    T_EQ_INT(i61_dir_logical_nodes(n, c, &l), I61_OK);
    T_LIST(l, "GGIO1", "LLN0", "PTOC1");
    i61_strlist_free(l);

    T_EQ_INT(i61_dir_ln(n, c, "LLN0", I61_ACSI_DATA_OBJECT, &l, &found), I61_OK);
    T_CHECK(found);
    T_LIST(l, "NamPlt", "Beh", "Health", "Mod");
    i61_strlist_free(l);
    T_EQ_INT(i61_dir_ln(n, c, "GGIO1", I61_ACSI_DATA_OBJECT, &l, &found), I61_OK);
    T_LIST(l, "SPCSO1", "SPCSO2", "SPCSO3", "Ind1", "AnIn1");
    i61_strlist_free(l);
    T_EQ_INT(i61_dir_ln(n, c, "LLN0", I61_ACSI_URCB, &l, &found), I61_OK);
    T_LIST(l, "urcbBig", "urcb01");
    i61_strlist_free(l);
    T_EQ_INT(i61_dir_ln(n, c, "LLN0", I61_ACSI_BRCB, &l, &found), I61_OK);
    T_LIST(l, "brcb01");
    i61_strlist_free(l);
    T_EQ_INT(i61_dir_ln(n, c, "LLN0", I61_ACSI_LCB, &l, &found), I61_OK);
    T_EQ_INT(i61_strlist_count(l), 0);
    i61_strlist_free(l);
    T_EQ_INT(i61_dir_ln(n, c, "GGIO1", I61_ACSI_URCB, &l, &found), I61_OK);
    T_CHECK(found);
    T_EQ_INT(i61_strlist_count(l), 0);
    i61_strlist_free(l);
    /* "GGIO" is a prefix of GGIO1 but no LN */
    T_EQ_INT(i61_dir_ln(n, c, "GGIO", I61_ACSI_DATA_OBJECT, &l, &found), I61_OK);
    T_CHECK(!found);
    T_EQ_INT(i61_strlist_count(l), 0);
    i61_strlist_free(l);
    T_EQ_INT(i61_dir_ln(n, c, "LLN0", 77, &l, &found), I61_ERR_INVALID_ARGUMENT);
    T_CHECK(l == NULL);

    /* control blocks and SGCB in a hand-made LN */
    static const char *const more[] = {
        "LLN0", "LLN0$GO", "LLN0$GO$gcb01", "LLN0$GO$gcb01$GoEna", "LLN0$LG", "LLN0$LG$EventLog",
        "LLN0$LG$EventLog$LogEna", "LLN0$MS", "LLN0$MS$smv1", "LLN0$SP", "LLN0$SP$SGCB",
        "LLN0$SP$SGCB$ActSG", "LLN0$SP$Set1", "LLN0$SP$Set1$setVal", "LLN0$US$usv1" };
    size_t m = sizeof more / sizeof more[0];
    T_EQ_INT(i61_dir_ln(more, m, "LLN0", I61_ACSI_GOCB, &l, &found), I61_OK);
    T_LIST(l, "gcb01");
    i61_strlist_free(l);
    T_EQ_INT(i61_dir_ln(more, m, "LLN0", I61_ACSI_LCB, &l, &found), I61_OK);
    T_LIST(l, "EventLog");
    i61_strlist_free(l);
    T_EQ_INT(i61_dir_ln(more, m, "LLN0", I61_ACSI_MSVCB, &l, &found), I61_OK);
    T_LIST(l, "smv1");
    i61_strlist_free(l);
    T_EQ_INT(i61_dir_ln(more, m, "LLN0", I61_ACSI_USVCB, &l, &found), I61_OK);
    T_LIST(l, "usv1");
    i61_strlist_free(l);
    T_EQ_INT(i61_dir_ln(more, m, "LLN0", I61_ACSI_SGCB, &l, &found), I61_OK);
    T_LIST(l, "SGCB");
    i61_strlist_free(l);
    T_EQ_INT(i61_dir_ln(more, m, "LLN0", I61_ACSI_DATA_OBJECT, &l, &found), I61_OK);
    T_LIST(l, "Set1");
    i61_strlist_free(l);
    i61_mms_idlist_clear(&vars);

    /* data sets and logs: "LN$name" */
    i61_mms_idlist nvls = golden_names("012_getnamelist_nvl_response");
    T_EQ_INT(i61_dir_ln((const char *const *)nvls.items, nvls.count, "LLN0", I61_ACSI_DATA_SET, &l, &found), I61_OK);
    T_LIST(l, "Big", "Events");
    i61_strlist_free(l);
    T_EQ_INT(i61_dir_ln((const char *const *)nvls.items, nvls.count, "GGIO1", I61_ACSI_DATA_SET, &l, &found), I61_OK);
    T_CHECK(!found);
    T_EQ_INT(i61_strlist_count(l), 0);
    i61_strlist_free(l);
    i61_mms_idlist_clear(&nvls);
    static const char *const logs[] = { "LLN0$EventLog", "LLN0$Other", "GGIO1$X" };
    T_EQ_INT(i61_dir_ln(logs, 3, "LLN0", I61_ACSI_LOG, &l, &found), I61_OK);
    T_LIST(l, "EventLog", "Other");
    i61_strlist_free(l);
}

static void test_dir_data(void)
{
    i61_mms_idlist vars = golden_names("010_getnamelist_variables_response");
    const char *const *n = (const char *const *)vars.items;
    size_t c = vars.count;
    i61_strlist *l = NULL;
    bool found = false;

    T_EQ_INT(i61_dir_data(n, c, "GGIO1", "AnIn1", I61_FC_ALL, false, &l, &found), I61_OK);
    T_CHECK(found);
    T_LIST(l, "mag", "q", "t");
    i61_strlist_free(l);
    T_EQ_INT(i61_dir_data(n, c, "GGIO1", "AnIn1", I61_FC_ALL, true, &l, &found), I61_OK);
    T_LIST(l, "mag[MX]", "q[MX]", "t[MX]");
    i61_strlist_free(l);
    T_EQ_INT(i61_dir_data(n, c, "GGIO1", "AnIn1$mag", I61_FC_ALL, false, &l, &found), I61_OK);
    T_LIST(l, "f");
    i61_strlist_free(l);
    T_EQ_INT(i61_dir_data(n, c, "LLN0", "Mod", I61_FC_ALL, true, &l, &found), I61_OK);
    T_LIST(l, "q[ST]", "stVal[ST]", "t[ST]");
    i61_strlist_free(l);
    T_EQ_INT(i61_dir_data(n, c, "GGIO1", "SPCSO1", I61_FC_ALL, true, &l, &found), I61_OK);
    T_LIST(l, "ctlModel[CF]", "Oper[CO]", "ctlNum[ST]", "origin[ST]", "q[ST]", "stVal[ST]", "t[ST]");
    i61_strlist_free(l);
    T_EQ_INT(i61_dir_data(n, c, "GGIO1", "SPCSO1", I61_FC_ST, false, &l, &found), I61_OK);
    T_LIST(l, "ctlNum", "origin", "q", "stVal", "t");
    i61_strlist_free(l);
    T_EQ_INT(i61_dir_data(n, c, "GGIO1", "SPCSO1", I61_FC_CF, false, &l, &found), I61_OK);
    T_LIST(l, "ctlModel");
    i61_strlist_free(l);
    T_EQ_INT(i61_dir_data(n, c, "GGIO1", "SPCSO2$Oper", I61_FC_ALL, false, &l, &found), I61_OK);
    T_LIST(l, "Check", "ctlNum", "ctlVal", "origin", "T", "Test");
    i61_strlist_free(l);
    /* exists under other FCs only: found, empty */
    T_EQ_INT(i61_dir_data(n, c, "GGIO1", "AnIn1", I61_FC_ST, false, &l, &found), I61_OK);
    T_CHECK(found);
    T_EQ_INT(i61_strlist_count(l), 0);
    i61_strlist_free(l);
    /* a leaf: found, no children */
    T_EQ_INT(i61_dir_data(n, c, "GGIO1", "Ind1$stVal", I61_FC_ALL, false, &l, &found), I61_OK);
    T_CHECK(found);
    T_EQ_INT(i61_strlist_count(l), 0);
    i61_strlist_free(l);
    /* not there; a prefix of a real name is not a match */
    T_EQ_INT(i61_dir_data(n, c, "GGIO1", "AnIn", I61_FC_ALL, false, &l, &found), I61_OK);
    T_CHECK(!found);
    i61_strlist_free(l);
    T_EQ_INT(i61_dir_data(n, c, "GGIO1", "Nope", I61_FC_ALL, false, &l, &found), I61_OK);
    T_CHECK(!found);
    i61_strlist_free(l);
    T_EQ_INT(i61_dir_data(n, c, "GGIO1", "AnIn1", 55, false, &l, &found), I61_ERR_INVALID_ARGUMENT);
    i61_mms_idlist_clear(&vars);
}

T_MAIN(T_CASE(test_good_references), T_CASE(test_bad_references), T_CASE(test_helpers),
       T_CASE(test_dir_ld_ln), T_CASE(test_dir_data))
