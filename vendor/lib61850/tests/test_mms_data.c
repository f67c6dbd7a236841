/* MMS Data / AccessResult / TypeSpecification codec against the golden frames,
 * plus hand-made edge cases. Every decoded golden element is re-encoded and
 * compared byte for byte with the captured octets. */
#include "t.h"
#include "mms/mms_data.h"

#include <math.h>

/* ---------------------------------------------------------------- helpers */

/* The presentation PDU starts after TPKT(4) + COTP DT(3) + two session SPDUs(4). */
#define PPDU_OFFSET 11

/* Follow `path` (first child with each id) from the presentation PDU of frame f. */
static int dig(const uint8_t *f, size_t len, const i61_ber_id *path, size_t n, i61_ber_tlv *out)
{
    i61_ber_reader r;
    i61_ber_tlv t;
    if (len < PPDU_OFFSET)
        return -1;
    i61_ber_reader_init(&r, f + PPDU_OFFSET, len - PPDU_OFFSET);
    for (size_t k = 0; k < n; k++) {
        int found = 0;
        while (i61_ber_next(&r, &t) == I61_BER_OK) {
            if (t.id == path[k]) {
                found = 1;
                break;
            }
        }
        if (!found)
            return -1;
        i61_ber_reader_sub(&r, &t);
    }
    *out = t;
    return 0;
}

/* listOfAccessResult of a confirmed Read response. */
static int read_results(const uint8_t *f, size_t len, i61_ber_tlv *out)
{
    static const i61_ber_id path[] = { 0x61, 0x30, 0xa0, 0xa1, 0xa4, 0xa1 };
    return dig(f, len, path, sizeof path / sizeof path[0], out);
}

/* The TypeSpecification CHOICE element inside a GetVariableAccessAttributes response. */
static int gvaa_typespec(const uint8_t *f, size_t len, i61_ber_tlv *out)
{
    static const i61_ber_id path[] = { 0x61, 0x30, 0xa0, 0xa1, 0xa6, 0xa2 };
    i61_ber_tlv wrap;
    if (dig(f, len, path, sizeof path / sizeof path[0], &wrap) != 0)
        return -1;
    i61_ber_reader r;
    i61_ber_reader_sub(&r, &wrap);
    return i61_ber_next(&r, out) == I61_BER_OK ? 0 : -1;
}

/* Whole TLV octets of t. */
#define TLV_START(t) ((t).val - (t).hdr_len)
#define TLV_LEN(t) ((t).hdr_len + (t).len)

static void check_reencode_value(const i61_value *v, const i61_ber_tlv *t)
{
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_data_encode(&b, v), 0);
    T_CHECK(!b.oom);
    T_EQ_MEM(b.data, b.len, TLV_START(*t), TLV_LEN(*t));
    i61_buf_free(&b);
}

static void check_reencode_typespec(const i61_typespec *ts, const i61_ber_tlv *t)
{
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_typespec_encode(&b, ts), 0);
    T_CHECK(!b.oom);
    T_EQ_MEM(b.data, b.len, TLV_START(*t), TLV_LEN(*t));
    i61_buf_free(&b);
}

/* Decode every AccessResult of a read response into an array of values, checking
 * each re-encodes to its captured octets. Caller frees the result. */
static i61_value *decode_read_response(const char *golden, size_t expect_n)
{
    size_t len;
    uint8_t *f = t_golden(golden, &len);
    i61_ber_tlv list, e;
    i61_value *all = i61_value_new_array(expect_n);
    T_CHECK(all != NULL);
    T_EQ_INT(read_results(f, len, &list), 0);
    i61_ber_reader r;
    i61_ber_reader_sub(&r, &list);
    size_t n = 0;
    while (all && i61_ber_next(&r, &e) == I61_BER_OK) {
        i61_value *v = NULL;
        T_EQ_INT(i61_mms_access_result_decode(&e, 0, &v), 0);
        T_CHECK(v != NULL);
        if (!v)
            break;
        if (i61_value_type(v) != I61_TYPE_DATA_ACCESS_ERROR)
            check_reencode_value(v, &e);
        if (n < expect_n)
            T_EQ_INT(i61_value_set_element(all, n, v), 0);
        else
            i61_value_free(v);
        n++;
    }
    T_EQ_INT(n, expect_n);
    free(f);
    return all;
}

static int is_float(const i61_value *v, double want, int bits)
{
    double d;
    return v && i61_value_type(v) == I61_TYPE_FLOAT && i61_value_get_double(v, &d) == 0 &&
           d == want && i61_value_bit_size(v) == bits;
}

static int is_bool(const i61_value *v, int want)
{
    int b;
    return v && i61_value_get_boolean(v, &b) == 0 && b == want;
}

static int is_quality_good(const i61_value *v)
{
    size_t n;
    const uint8_t *p = i61_value_get_bytes(v, &n);
    return v && i61_value_type(v) == I61_TYPE_BIT_STRING && i61_value_bit_size(v) == 13 &&
           n == 2 && p[0] == 0 && p[1] == 0;
}

static int is_utc(const i61_value *v, uint32_t secs, uint32_t frac, uint8_t q)
{
    size_t n;
    const uint8_t *p = i61_value_get_bytes(v, &n);
    if (!v || i61_value_type(v) != I61_TYPE_UTC_TIME || !p || n != 8)
        return 0;
    uint32_t s = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    uint32_t fr = (uint32_t)p[4] << 16 | (uint32_t)p[5] << 8 | p[6];
    return s == secs && fr == frac && p[7] == q;
}

/* ------------------------------------------------------------ Data: golden */

static void test_016_float(void)
{
    i61_value *all = decode_read_response("016_read_float_response", 1);
    const i61_value *v = i61_value_element(all, 0);
    T_CHECK(is_float(v, 12.5, 32));
    i61_value_free(all);
}

/* structure{ structure{ f 12.5 }, q 13 bits good, t } */
static void check_mv(const i61_value *mv)
{
    T_EQ_INT(i61_value_type(mv), I61_TYPE_STRUCTURE);
    T_EQ_INT(i61_value_count(mv), 3);
    const i61_value *mag = i61_value_element(mv, 0);
    T_EQ_INT(i61_value_type(mag), I61_TYPE_STRUCTURE);
    T_EQ_INT(i61_value_count(mag), 1);
    T_CHECK(is_float(i61_value_element(mag, 0), 12.5, 32));
    T_CHECK(is_quality_good(i61_value_element(mv, 1)));
    T_CHECK(is_utc(i61_value_element(mv, 2), 1700000000u, 0x1f7ced, 0x8a));
}

/* structure{ stVal FALSE, q good, t ...20.456 } */
static void check_sps(const i61_value *sps)
{
    T_EQ_INT(i61_value_type(sps), I61_TYPE_STRUCTURE);
    T_EQ_INT(i61_value_count(sps), 3);
    T_CHECK(is_bool(i61_value_element(sps, 0), 0));
    T_CHECK(is_quality_good(i61_value_element(sps, 1)));
    T_CHECK(is_utc(i61_value_element(sps, 2), 1700000000u, 0x74bc6a, 0x8a));
}

static void test_018_struct_mv(void)
{
    i61_value *all = decode_read_response("018_read_struct_mv_response", 1);
    check_mv(i61_value_element(all, 0));
    i61_value_free(all);
}

static void test_020_struct_sps(void)
{
    i61_value *all = decode_read_response("020_read_struct_sps_response", 1);
    check_sps(i61_value_element(all, 0));
    i61_value_free(all);
}

static void test_022_multi(void)
{
    i61_value *all = decode_read_response("022_read_multi_response", 3);
    T_CHECK(is_bool(i61_value_element(all, 0), 0));
    T_CHECK(is_float(i61_value_element(all, 1), 12.5, 32));
    const i61_value *s = i61_value_element(all, 2);
    T_EQ_INT(i61_value_type(s), I61_TYPE_VISIBLE_STRING);
    size_t n = 0;
    const uint8_t *p = i61_value_get_bytes(s, &n);
    T_EQ_INT(n, 10);
    T_CHECK(p && strcmp((const char *)p, "GoldVendor") == 0);
    i61_value_free(all);
}

static void test_034_dataset(void)
{
    /* Events = { GGIO1$ST$Ind1, GGIO1$MX$AnIn1, GGIO1$ST$SPCSO1$stVal } */
    i61_value *all = decode_read_response("034_read_dataset_response", 3);
    check_sps(i61_value_element(all, 0));
    check_mv(i61_value_element(all, 1));
    T_CHECK(is_bool(i61_value_element(all, 2), 0));
    /* a clone encodes to the same octets as the original */
    i61_value *c = i61_value_clone(all);
    T_CHECK(c != NULL);
    i61_buf a, b;
    i61_buf_init(&a);
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_data_encode(&a, all), 0);
    T_EQ_INT(i61_mms_data_encode(&b, c), 0);
    T_EQ_MEM(a.data, a.len, b.data, b.len);
    i61_buf_free(&a);
    i61_buf_free(&b);
    i61_value_free(c);
    i61_value_free(all);
}

static void test_032_access_error(void)
{
    i61_value *all = decode_read_response("032_read_nonexistent_response", 1);
    const i61_value *v = i61_value_element(all, 0);
    T_EQ_INT(i61_value_type(v), I61_TYPE_DATA_ACCESS_ERROR);
    T_EQ_INT(i61_value_get_data_access_error(v), 10);
    T_EQ_INT(i61_err_from_data_access_error(i61_value_get_data_access_error(v)),
             I61_ERR_OBJECT_DOES_NOT_EXIST);
    /* a DataAccessError has no Data encoding */
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_data_encode(&b, v), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(b.len, 0);
    i61_buf_free(&b);
    i61_value_free(all);
}

/* ------------------------------------------------------ TypeSpec: golden */

static const i61_typespec *comp(const i61_typespec *s, const char *name)
{
    for (size_t i = 0; i < i61_typespec_count(s); i++) {
        const i61_typespec *c = i61_typespec_child(s, i);
        const char *n = i61_typespec_name(c);
        if (n && strcmp(n, name) == 0)
            return c;
    }
    return NULL;
}

static int has(const i61_typespec *s, const char *name, int kind, int size)
{
    const i61_typespec *c = comp(s, name);
    return c && i61_typespec_kind(c) == kind && i61_typespec_size(c) == size;
}

static i61_typespec *decode_gvaa(const char *golden)
{
    size_t len;
    uint8_t *f = t_golden(golden, &len);
    i61_ber_tlv t;
    i61_typespec *ts = NULL;
    T_EQ_INT(gvaa_typespec(f, len, &t), 0);
    T_EQ_INT(i61_mms_typespec_decode(&t, 0, &ts), 0);
    T_CHECK(ts != NULL);
    if (ts)
        check_reencode_typespec(ts, &t);
    free(f);
    return ts;
}

static void test_014_typespec_mv(void)
{
    i61_typespec *ts = decode_gvaa("014_gvaa_mv_response");
    T_EQ_INT(i61_typespec_kind(ts), I61_TYPE_STRUCTURE);
    T_EQ_INT(i61_typespec_count(ts), 3);
    T_CHECK(i61_typespec_name(ts) == NULL);
    const i61_typespec *mag = i61_typespec_child(ts, 0);
    T_CHECK(mag && strcmp(i61_typespec_name(mag), "mag") == 0);
    T_EQ_INT(i61_typespec_kind(mag), I61_TYPE_STRUCTURE);
    T_EQ_INT(i61_typespec_count(mag), 1);
    T_CHECK(has(mag, "f", I61_TYPE_FLOAT, 32));
    T_CHECK(has(ts, "q", I61_TYPE_BIT_STRING, -13));
    T_CHECK(has(ts, "t", I61_TYPE_UTC_TIME, 0));
    T_CHECK(i61_typespec_child(ts, 3) == NULL);
    i61_typespec_free(ts);
}

static void test_050_typespec_urcb(void)
{
    i61_typespec *ts = decode_gvaa("050_gvaa_urcb_response");
    static const char *const names[] = { "RptID", "RptEna", "Resv", "DatSet", "ConfRev", "OptFlds",
                                         "BufTm", "SqNum", "TrgOps", "IntgPd", "GI" };
    T_EQ_INT(i61_typespec_count(ts), 11);
    for (size_t i = 0; i < 11 && i < i61_typespec_count(ts); i++)
        T_CHECK(strcmp(i61_typespec_name(i61_typespec_child(ts, i)), names[i]) == 0);
    T_CHECK(has(ts, "RptID", I61_TYPE_VISIBLE_STRING, -129));
    T_CHECK(has(ts, "RptEna", I61_TYPE_BOOLEAN, 0));
    T_CHECK(has(ts, "ConfRev", I61_TYPE_UNSIGNED, 32));
    T_CHECK(has(ts, "OptFlds", I61_TYPE_BIT_STRING, -10));
    T_CHECK(has(ts, "SqNum", I61_TYPE_UNSIGNED, 8));
    T_CHECK(has(ts, "TrgOps", I61_TYPE_BIT_STRING, -6));
    T_CHECK(has(ts, "IntgPd", I61_TYPE_UNSIGNED, 32));
    i61_typespec_free(ts);
}

static void test_052_typespec_brcb(void)
{
    i61_typespec *ts = decode_gvaa("052_gvaa_brcb_response");
    T_EQ_INT(i61_typespec_kind(ts), I61_TYPE_STRUCTURE);
    T_CHECK(has(ts, "SqNum", I61_TYPE_UNSIGNED, 16));
    T_CHECK(has(ts, "PurgeBuf", I61_TYPE_BOOLEAN, 0));
    T_CHECK(has(ts, "EntryID", I61_TYPE_OCTET_STRING, 8));
    T_CHECK(has(ts, "TimeofEntry", I61_TYPE_BINARY_TIME, 6));
    T_CHECK(has(ts, "ResvTms", I61_TYPE_INTEGER, 16));
    T_CHECK(has(ts, "DatSet", I61_TYPE_VISIBLE_STRING, -129));
    T_CHECK(comp(ts, "Resv") == NULL);
    i61_typespec_free(ts);
}

static void test_054_typespec_oper(void)
{
    i61_typespec *ts = decode_gvaa("054_gvaa_oper_response");
    T_CHECK(has(ts, "ctlVal", I61_TYPE_BOOLEAN, 0));
    const i61_typespec *origin = comp(ts, "origin");
    T_EQ_INT(i61_typespec_kind(origin), I61_TYPE_STRUCTURE);
    T_CHECK(has(origin, "orCat", I61_TYPE_INTEGER, 8));
    T_CHECK(has(origin, "orIdent", I61_TYPE_OCTET_STRING, -64));
    T_CHECK(has(ts, "ctlNum", I61_TYPE_UNSIGNED, 8));
    T_CHECK(has(ts, "T", I61_TYPE_UTC_TIME, 0));
    T_CHECK(has(ts, "Test", I61_TYPE_BOOLEAN, 0));
    T_CHECK(has(ts, "Check", I61_TYPE_BIT_STRING, -2));
    i61_typespec_free(ts);
}

static void test_060_typespec_lln0(void)
{
    i61_typespec *ts = decode_gvaa("060_gvaa_lln0_response");
    T_EQ_INT(i61_typespec_count(ts), 4);
    static const char *const fcs[] = { "ST", "DC", "RP", "BR" };
    for (size_t i = 0; i < 4 && i < i61_typespec_count(ts); i++)
        T_CHECK(strcmp(i61_typespec_name(i61_typespec_child(ts, i)), fcs[i]) == 0);
    const i61_typespec *st = comp(ts, "ST");
    const i61_typespec *mod = comp(st, "Mod");
    T_CHECK(has(mod, "stVal", I61_TYPE_INTEGER, 8));
    T_CHECK(has(mod, "q", I61_TYPE_BIT_STRING, -13));
    const i61_typespec *namplt = comp(comp(ts, "DC"), "NamPlt");
    T_CHECK(has(namplt, "vendor", I61_TYPE_VISIBLE_STRING, -255));
    const i61_typespec *rp = comp(ts, "RP");
    T_CHECK(comp(rp, "urcb01") != NULL);
    T_CHECK(has(comp(comp(ts, "BR"), "brcb01"), "SqNum", I61_TYPE_UNSIGNED, 16));
    i61_typespec_free(ts);
}

/* ------------------------------------------------------ Data: edge cases */

static int decode_bytes(const uint8_t *p, size_t len, i61_value **out)
{
    i61_ber_tlv t;
    size_t used;
    *out = NULL;
    if (i61_ber_parse(p, len, &t, &used) != I61_BER_OK || used != len)
        return -100;
    return i61_mms_data_decode(&t, 0, out);
}

/* Decode, check type, re-encode to the same octets; returns the value (caller frees). */
static i61_value *roundtrip(const uint8_t *p, size_t len, int type)
{
    i61_value *v = NULL;
    T_EQ_INT(decode_bytes(p, len, &v), 0);
    T_EQ_INT(i61_value_type(v), type);
    if (v) {
        i61_buf b;
        i61_buf_init(&b);
        T_EQ_INT(i61_mms_data_encode(&b, v), 0);
        T_EQ_MEM(b.data, b.len, p, len);
        i61_buf_free(&b);
    }
    return v;
}

#define RT(type, ...) roundtrip((const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }), type)

static void test_data_alternatives(void)
{
    i61_value *v;
    int64_t i;
    uint64_t u;
    size_t n;
    const uint8_t *p;

    v = RT(I61_TYPE_INTEGER, 0x85, 0x01, 0x03);
    T_CHECK(i61_value_get_int64(v, &i) == 0 && i == 3);
    T_EQ_INT(i61_value_bit_size(v), 8);
    i61_value_free(v);
    v = RT(I61_TYPE_INTEGER, 0x85, 0x02, 0xff, 0x7f);
    T_CHECK(i61_value_get_int64(v, &i) == 0 && i == -129);
    T_EQ_INT(i61_value_bit_size(v), 16);
    i61_value_free(v);
    v = RT(I61_TYPE_INTEGER, 0x85, 0x04, 0x80, 0x00, 0x00, 0x00);
    T_CHECK(i61_value_get_int64(v, &i) == 0 && i == INT32_MIN);
    T_EQ_INT(i61_value_bit_size(v), 32);
    i61_value_free(v);
    v = RT(I61_TYPE_INTEGER, 0x85, 0x08, 0x80, 0, 0, 0, 0, 0, 0, 0);
    T_CHECK(i61_value_get_int64(v, &i) == 0 && i == INT64_MIN);
    T_EQ_INT(i61_value_bit_size(v), 64);
    i61_value_free(v);

    v = RT(I61_TYPE_UNSIGNED, 0x86, 0x02, 0x00, 0xc8);
    T_CHECK(i61_value_get_uint64(v, &u) == 0 && u == 200);
    T_EQ_INT(i61_value_bit_size(v), 8);
    i61_value_free(v);
    v = RT(I61_TYPE_UNSIGNED, 0x86, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff);
    T_CHECK(i61_value_get_uint64(v, &u) == 0 && u == 0xffffffffu);
    T_EQ_INT(i61_value_bit_size(v), 32);
    i61_value_free(v);
    v = RT(I61_TYPE_UNSIGNED, 0x86, 0x09, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
    T_CHECK(i61_value_get_uint64(v, &u) == 0 && u == UINT64_MAX);
    T_EQ_INT(i61_value_get_int64(v, &i), I61_ERR_OBJECT_VALUE_INVALID);
    T_EQ_INT(i61_value_bit_size(v), 64);
    i61_value_free(v);

    v = RT(I61_TYPE_FLOAT, 0x87, 0x09, 0x0b, 0x40, 0x29, 0, 0, 0, 0, 0, 0);
    T_CHECK(is_float(v, 12.5, 64));
    i61_value_free(v);
    v = RT(I61_TYPE_BOOLEAN, 0x83, 0x01, 0x01);
    T_CHECK(is_bool(v, 1));
    i61_value_free(v);

    v = RT(I61_TYPE_BIT_STRING, 0x84, 0x02, 0x06, 0x80);   /* 2 bits: 10 */
    T_EQ_INT(i61_value_bit_size(v), 2);
    p = i61_value_get_bytes(v, &n);
    T_CHECK(n == 1 && p[0] == 0x80);
    i61_value_free(v);
    v = RT(I61_TYPE_BIT_STRING, 0x84, 0x01, 0x00);           /* empty */
    T_EQ_INT(i61_value_bit_size(v), 0);
    i61_value_free(v);

    v = RT(I61_TYPE_OCTET_STRING, 0x89, 0x03, 0x00, 0x01, 0xff);
    p = i61_value_get_bytes(v, &n);
    T_CHECK(n == 3 && p[2] == 0xff);
    i61_value_free(v);
    v = RT(I61_TYPE_OCTET_STRING, 0x89, 0x00);
    p = i61_value_get_bytes(v, &n);
    T_CHECK(p != NULL && n == 0);
    i61_value_free(v);
    v = RT(I61_TYPE_VISIBLE_STRING, 0x8a, 0x00);
    p = i61_value_get_bytes(v, &n);
    T_CHECK(p != NULL && n == 0 && p[0] == 0);
    i61_value_free(v);
    v = RT(I61_TYPE_STRING, 0x90, 0x02, 0xc3, 0xa9);          /* "é" */
    p = i61_value_get_bytes(v, &n);
    T_CHECK(n == 2 && strcmp((const char *)p, "\xc3\xa9") == 0);
    i61_value_free(v);
    v = RT(I61_TYPE_GENERALIZED_TIME, 0x8b, 0x04, '2', '0', '2', '6');
    i61_value_free(v);
    v = RT(I61_TYPE_BINARY_TIME, 0x8c, 0x06, 0x01, 0x8d, 0x79, 0x94, 0x3d, 0x31);
    p = i61_value_get_bytes(v, &n);
    T_EQ_INT(n, 6);
    i61_value_free(v);
    v = RT(I61_TYPE_BINARY_TIME, 0x8c, 0x04, 0x01, 0x8d, 0x79, 0x94);
    i61_value_free(v);
    v = RT(I61_TYPE_BCD, 0x8d, 0x01, 0x12);
    T_CHECK(i61_value_get_int64(v, &i) == 0 && i == 0x12);
    i61_value_free(v);
    v = RT(I61_TYPE_OBJ_ID, 0x8f, 0x03, 0x28, 0xca, 0x22);
    i61_value_free(v);
    v = RT(I61_TYPE_UTC_TIME, 0x91, 0x08, 0x65, 0x53, 0xf1, 0x00, 0x1f, 0x7c, 0xed, 0x8a);
    T_CHECK(is_utc(v, 1700000000u, 0x1f7ced, 0x8a));
    i61_value_free(v);
    v = RT(I61_TYPE_ARRAY, 0xa1, 0x06, 0x85, 0x01, 0x01, 0x85, 0x01, 0x02);
    T_EQ_INT(i61_value_count(v), 2);
    T_CHECK(i61_value_get_int64(i61_value_element(v, 1), &i) == 0 && i == 2);
    i61_value_free(v);
    v = RT(I61_TYPE_STRUCTURE, 0xa2, 0x00);
    T_EQ_INT(i61_value_count(v), 0);
    i61_value_free(v);

    /* booleanArray decodes as a bit string */
    static const uint8_t ba[] = { 0x8e, 0x02, 0x05, 0xa0 };
    T_EQ_INT(decode_bytes(ba, sizeof ba, &v), 0);
    T_EQ_INT(i61_value_type(v), I61_TYPE_BIT_STRING);
    T_EQ_INT(i61_value_bit_size(v), 3);
    i61_value_free(v);
    /* any non-zero boolean is TRUE */
    static const uint8_t b7[] = { 0x83, 0x01, 0x07 };
    T_EQ_INT(decode_bytes(b7, sizeof b7, &v), 0);
    T_CHECK(is_bool(v, 1));
    i61_value_free(v);
}

static void test_data_malformed(void)
{
    static const struct { uint8_t p[12]; size_t len; } bad[] = {
        { { 0x80, 0x01, 0x00 }, 3 },                    /* [0] is not Data */
        { { 0x88, 0x01, 0x00 }, 3 },                    /* REAL not supported */
        { { 0xa3, 0x00 }, 2 },                          /* constructed boolean */
        { { 0x83, 0x00 }, 2 },                          /* boolean without content */
        { { 0x83, 0x02, 0x00, 0x00 }, 4 },
        { { 0x84, 0x00 }, 2 },                          /* bit string without unused octet */
        { { 0x84, 0x01, 0x03 }, 3 },                    /* unused bits but no octets */
        { { 0x84, 0x02, 0x08, 0x00 }, 4 },              /* unused > 7 */
        { { 0x85, 0x00 }, 2 },                          /* empty INTEGER */
        { { 0x85, 0x09, 1, 0, 0, 0, 0, 0, 0, 0, 0 }, 11 },
        { { 0x86, 0x01, 0x80 }, 3 },                    /* negative unsigned */
        { { 0x87, 0x05, 0x0b, 0x41, 0x48, 0x00, 0x00 }, 7 },   /* wrong exponent width */
        { { 0x87, 0x04, 0x08, 0x41, 0x48, 0x00 }, 6 },  /* short float */
        { { 0x8c, 0x05, 1, 2, 3, 4, 5 }, 7 },           /* binary time of 5 */
        { { 0x8d, 0x01, 0xff }, 3 },                    /* negative bcd */
        { { 0x91, 0x07, 1, 2, 3, 4, 5, 6, 7 }, 9 },     /* utc time of 7 */
        { { 0xa2, 0x02, 0x85, 0x01 }, 4 },              /* truncated child */
        { { 0xa2, 0x04, 0x85, 0x01, 0x01, 0x00 }, 6 },  /* garbage child */
        { { 0xa1, 0x02, 0x83, 0x00 }, 4 },              /* bad element in an array */
        { { 0x1a, 0x01, 'a' }, 3 },                     /* universal class */
        { { 0x9f, 0x20, 0x00 }, 3 },                    /* unknown high tag */
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        i61_value *v = (i61_value *)1;
        i61_ber_tlv t;
        size_t used;
        T_EQ_INT(i61_ber_parse(bad[k].p, bad[k].len, &t, &used), I61_BER_OK);
        int rc = i61_mms_data_decode(&t, 0, &v);
        if (rc != I61_ERR_MALFORMED_MESSAGE)
            fprintf(stderr, "bad Data case %zu gave %d\n", k, rc);
        T_EQ_INT(rc, I61_ERR_MALFORMED_MESSAGE);
        T_CHECK(v == NULL);
    }
    /* access result failure with a bad code */
    static const uint8_t badae[] = { 0x80, 0x01, 0xff };
    i61_ber_tlv t;
    size_t used;
    i61_value *v;
    T_EQ_INT(i61_ber_parse(badae, sizeof badae, &t, &used), I61_BER_OK);
    T_EQ_INT(i61_mms_access_result_decode(&t, 0, &v), I61_ERR_MALFORMED_MESSAGE);
    static const uint8_t okae[] = { 0x80, 0x01, 0x03 };
    T_EQ_INT(i61_ber_parse(okae, sizeof okae, &t, &used), I61_BER_OK);
    T_EQ_INT(i61_mms_access_result_decode(&t, 0, &v), 0);
    T_EQ_INT(i61_value_get_data_access_error(v), 3);
    i61_value_free(v);
}

/* structures nested `depth` deep around an integer */
static uint8_t *nested(int depth, size_t *len)
{
    i61_buf b;
    i61_buf_init(&b);
    size_t marks[64];
    for (int k = 0; k < depth; k++)
        marks[k] = i61_ber_open(&b, 0xa2);
    i61_ber_put_int64(&b, 0x85, 1);
    for (int k = depth - 1; k >= 0; k--)
        i61_ber_close(&b, marks[k]);
    *len = b.len;
    return b.data;
}

static void test_nesting_limit(void)
{
    size_t len;
    i61_value *v;
    /* the innermost integer sits at depth = number of enclosing structures */
    uint8_t *ok = nested(I61_MMS_MAX_NESTING, &len);
    T_EQ_INT(decode_bytes(ok, len, &v), 0);
    T_CHECK(v != NULL);
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_data_encode(&b, v), 0);
    T_EQ_MEM(b.data, b.len, ok, len);
    i61_buf_free(&b);
    /* one more level than the encoder accepts */
    i61_value *s = i61_value_new_structure(1);
    T_EQ_INT(i61_value_set_element(s, 0, v), 0);
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_data_encode(&b, s), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(b.len, 0);
    i61_buf_free(&b);
    i61_value_free(s);
    free(ok);

    uint8_t *deep = nested(I61_MMS_MAX_NESTING + 1, &len);
    v = (i61_value *)1;
    T_EQ_INT(decode_bytes(deep, len, &v), I61_ERR_MALFORMED_MESSAGE);
    T_CHECK(v == NULL);
    free(deep);
}

static void test_encode_rejects(void)
{
    i61_buf b;
    i61_buf_init(&b);
    i61_buf_put_u8(&b, 0x42);
    /* an empty slot cannot be encoded, and nothing of it stays in the buffer */
    i61_value *s = i61_value_new_structure(2);
    T_EQ_INT(i61_value_set_element(s, 0, i61_value_new_integer(5)), 0);
    T_EQ_INT(i61_mms_data_encode(&b, s), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(b.len, 1);
    T_EQ_INT(i61_mms_data_encode(&b, NULL), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_value_set_element(s, 1, i61_value_new_unsigned(200)), 0);
    T_EQ_INT(i61_mms_data_encode(&b, s), 0);
    static const uint8_t want[] = { 0x42, 0xa2, 0x07, 0x85, 0x01, 0x05, 0x86, 0x02, 0x00, 0xc8 };
    T_EQ_MEM(b.data, b.len, want, sizeof want);
    i61_value_free(s);
    i61_buf_free(&b);

    /* freshly built values encode as the peers do */
    i61_buf_init(&b);
    i61_value *f = i61_value_new_float(12.5f);
    T_EQ_INT(i61_mms_data_encode(&b, f), 0);
    static const uint8_t wf[] = { 0x87, 0x05, 0x08, 0x41, 0x48, 0x00, 0x00 };
    T_EQ_MEM(b.data, b.len, wf, sizeof wf);
    i61_value_free(f);
    i61_buf_reset(&b);
    static const uint8_t qb[] = { 0x00, 0x00 };
    i61_value *q = i61_value_new_bit_string(13, qb);
    T_EQ_INT(i61_mms_data_encode(&b, q), 0);
    static const uint8_t wq[] = { 0x84, 0x03, 0x03, 0x00, 0x00 };
    T_EQ_MEM(b.data, b.len, wq, sizeof wq);
    i61_value_free(q);
    i61_buf_reset(&b);
    i61_value *s2 = i61_value_new_visible_string("GoldVendor");
    T_EQ_INT(i61_mms_data_encode(&b, s2), 0);
    T_EQ_INT(b.len, 12);
    T_CHECK(b.data[0] == 0x8a && b.data[1] == 10 && memcmp(b.data + 2, "GoldVendor", 10) == 0);
    i61_value_free(s2);
    i61_buf_free(&b);
}

/* ------------------------------------------------- TypeSpec: edge cases */

static int ts_decode_bytes(const uint8_t *p, size_t len, i61_typespec **out)
{
    i61_ber_tlv t;
    size_t used;
    *out = NULL;
    if (i61_ber_parse(p, len, &t, &used) != I61_BER_OK || used != len)
        return -100;
    return i61_mms_typespec_decode(&t, 0, out);
}

static void test_typespec_alternatives(void)
{
    /* array [1] { numberOfElements [1] 4, elementType [2] { integer 32 } } */
    static const uint8_t arr[] = { 0xa1, 0x08, 0x81, 0x01, 0x04, 0xa2, 0x03, 0x85, 0x01, 0x20 };
    i61_typespec *t;
    T_EQ_INT(ts_decode_bytes(arr, sizeof arr, &t), 0);
    T_EQ_INT(i61_typespec_kind(t), I61_TYPE_ARRAY);
    T_EQ_INT(i61_typespec_size(t), 4);
    T_EQ_INT(i61_typespec_count(t), 1);
    T_EQ_INT(i61_typespec_kind(i61_typespec_child(t, 0)), I61_TYPE_INTEGER);
    T_EQ_INT(i61_typespec_size(i61_typespec_child(t, 0)), 32);
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_typespec_encode(&b, t), 0);
    T_EQ_MEM(b.data, b.len, arr, sizeof arr);
    i61_typespec_free(t);

    /* simple alternatives round trip */
    static const uint8_t simple[][8] = {
        { 0x83, 0x00 }, { 0x84, 0x01, 0xf3 }, { 0x85, 0x01, 0x08 }, { 0x86, 0x01, 0x10 },
        { 0x89, 0x01, 0x08 }, { 0x8a, 0x02, 0xff, 0x7f }, { 0x8b, 0x00 }, { 0x8c, 0x01, 0x00 },
        { 0x8c, 0x01, 0x01 }, { 0x8d, 0x01, 0x04 }, { 0x8f, 0x00 }, { 0x90, 0x02, 0xff, 0x01 },
        { 0x91, 0x00 }, { 0xa7, 0x06, 0x02, 0x01, 0x40, 0x02, 0x01, 0x0b },
    };
    static const int kinds[] = { I61_TYPE_BOOLEAN, I61_TYPE_BIT_STRING, I61_TYPE_INTEGER,
                                 I61_TYPE_UNSIGNED, I61_TYPE_OCTET_STRING, I61_TYPE_VISIBLE_STRING,
                                 I61_TYPE_GENERALIZED_TIME, I61_TYPE_BINARY_TIME, I61_TYPE_BINARY_TIME,
                                 I61_TYPE_BCD, I61_TYPE_OBJ_ID, I61_TYPE_STRING, I61_TYPE_UTC_TIME,
                                 I61_TYPE_FLOAT };
    static const int sizes[] = { 0, -13, 8, 16, 8, -129, 0, 4, 6, 4, 0, -255, 0, 64 };
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        const uint8_t *p = simple[k];
        size_t len = (p[0] == 0xa7) ? 8 : (size_t)p[1] + 2;
        T_EQ_INT(ts_decode_bytes(p, len, &t), 0);
        T_EQ_INT(i61_typespec_kind(t), kinds[k]);
        T_EQ_INT(i61_typespec_size(t), sizes[k]);
        T_EQ_INT(i61_typespec_count(t), 0);
        i61_buf_reset(&b);
        T_EQ_INT(i61_mms_typespec_encode(&b, t), 0);
        T_EQ_MEM(b.data, b.len, p, len);
        i61_typespec_free(t);
    }

    /* typeName is not resolved */
    static const uint8_t tn[] = { 0xa0, 0x03, 0x80, 0x01, 'x' };
    T_EQ_INT(ts_decode_bytes(tn, sizeof tn, &t), I61_ERR_TYPE_UNSUPPORTED);
    T_CHECK(t == NULL);

    static const struct { uint8_t p[16]; size_t len; } bad[] = {
        { { 0x83, 0x01, 0x00 }, 3 },                            /* boolean with content */
        { { 0x85, 0x02, 0x01, 0x00 }, 4 },                      /* integer size 256 */
        { { 0x84, 0x05, 0x01, 0, 0, 0, 0 }, 7 },                /* bit string size > Integer32 */
        { { 0xa7, 0x03, 0x02, 0x01, 0x20 }, 5 },                /* float without exponent width */
        { { 0xa7, 0x06, 0x02, 0x01, 0x08, 0x02, 0x01, 0x20 }, 8 },  /* exponent >= format */
        { { 0xa1, 0x05, 0xa2, 0x03, 0x85, 0x01, 0x20 }, 7 },     /* array without count */
        { { 0xa1, 0x03, 0x81, 0x01, 0x04 }, 5 },                /* array without element type */
        { { 0xa2, 0x03, 0x80, 0x01, 0x00 }, 5 },                /* structure without components */
        { { 0xa2, 0x06, 0xa1, 0x04, 0x30, 0x02, 0x80, 0x00 }, 8 },   /* component without type */
        { { 0xa2, 0x08, 0xa1, 0x06, 0x30, 0x04, 0xa1, 0x02, 0x99, 0x00 }, 10 },  /* bad type */
        { { 0xa2, 0x07, 0xa1, 0x05, 0x31, 0x03, 0xa1, 0x01, 0x00 }, 9 },
        { { 0x92, 0x00 }, 2 },
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        int rc = ts_decode_bytes(bad[k].p, bad[k].len, &t);
        if (rc != I61_ERR_MALFORMED_MESSAGE)
            fprintf(stderr, "bad TypeSpecification case %zu gave %d\n", k, rc);
        T_EQ_INT(rc, I61_ERR_MALFORMED_MESSAGE);
        T_CHECK(t == NULL);
    }
    i61_buf_free(&b);
}

static void test_typespec_builders(void)
{
    /* build AnIn1's type by hand and compare with the captured encoding of 014 */
    i61_typespec *mag = i61_typespec_new_structure(1);
    T_EQ_INT(i61_typespec_set_component(mag, 0, "f", i61_typespec_new(I61_TYPE_FLOAT, 32)), 0);
    i61_typespec *mv = i61_typespec_new_structure(3);
    T_EQ_INT(i61_typespec_set_component(mv, 0, "mag", mag), 0);
    T_EQ_INT(i61_typespec_set_component(mv, 1, "q", i61_typespec_new(I61_TYPE_BIT_STRING, -13)), 0);
    T_EQ_INT(i61_typespec_set_component(mv, 2, "t", i61_typespec_new(I61_TYPE_UTC_TIME, 0)), 0);
    size_t len;
    uint8_t *f = t_golden("014_gvaa_mv_response", &len);
    i61_ber_tlv t;
    T_EQ_INT(gvaa_typespec(f, len, &t), 0);
    check_reencode_typespec(mv, &t);
    free(f);

    /* misuse */
    T_CHECK(i61_typespec_new(I61_TYPE_FLOAT, 16) == NULL);
    T_CHECK(i61_typespec_new(I61_TYPE_STRUCTURE, 1) == NULL);
    T_CHECK(i61_typespec_new(I61_TYPE_INTEGER, 300) == NULL);
    T_CHECK(i61_typespec_new(I61_TYPE_BINARY_TIME, 5) == NULL);
    T_EQ_INT(i61_typespec_set_component(mv, 3, "x", i61_typespec_new(I61_TYPE_BOOLEAN, 0)),
             I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_typespec_set_component(mv, 0, "self", mv), I61_ERR_INVALID_ARGUMENT);
    i61_typespec *arr = i61_typespec_new_array(3, i61_typespec_new(I61_TYPE_INTEGER, 8));
    T_EQ_INT(i61_typespec_kind(arr), I61_TYPE_ARRAY);
    T_EQ_INT(i61_typespec_size(arr), 3);
    T_CHECK(i61_typespec_name(i61_typespec_child(arr, 0)) == NULL);
    T_EQ_INT(i61_typespec_set_component(arr, 0, "x", i61_typespec_new(I61_TYPE_BOOLEAN, 0)),
             I61_ERR_INVALID_ARGUMENT);
    T_CHECK(i61_typespec_new_array(-1, i61_typespec_new(I61_TYPE_INTEGER, 8)) == NULL);
    /* replacing a component frees the old one */
    T_EQ_INT(i61_typespec_set_component(mv, 1, "q", arr), 0);
    T_EQ_INT(i61_typespec_kind(i61_typespec_child(mv, 1)), I61_TYPE_ARRAY);
    /* an empty slot cannot be encoded */
    i61_typespec *hole = i61_typespec_new_structure(2);
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_typespec_encode(&b, hole), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(b.len, 0);
    i61_buf_free(&b);
    i61_typespec_free(hole);
    i61_typespec_free(mv);
    /* getters on NULL */
    T_EQ_INT(i61_typespec_kind(NULL), -1);
    T_EQ_INT(i61_typespec_count(NULL), 0);
    T_CHECK(i61_typespec_child(NULL, 0) == NULL);
}

static void test_typespec_nesting_limit(void)
{
    /* structure { c: structure { c: ... boolean } } nested beyond the limit */
    i61_typespec *t = i61_typespec_new(I61_TYPE_BOOLEAN, 0);
    for (int k = 0; k < I61_MMS_MAX_NESTING; k++) {
        i61_typespec *s = i61_typespec_new_structure(1);
        T_EQ_INT(i61_typespec_set_component(s, 0, "c", t), 0);
        t = s;
    }
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_typespec_encode(&b, t), 0);
    i61_ber_tlv tlv;
    size_t used;
    i61_typespec *d = NULL;
    T_EQ_INT(i61_ber_parse(b.data, b.len, &tlv, &used), I61_BER_OK);
    T_EQ_INT(i61_mms_typespec_decode(&tlv, 0, &d), 0);
    i61_typespec_free(d);
    /* one level deeper is refused both ways */
    i61_typespec *s = i61_typespec_new_structure(1);
    T_EQ_INT(i61_typespec_set_component(s, 0, "c", t), 0);
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_typespec_encode(&b, s), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(b.len, 0);
    /* hand-wrap the valid encoding one more level: a2 { a1 { 30 { 80 01 'c', a1 { <t> } } } } */
    i61_buf w;
    i61_buf_init(&w);
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_typespec_encode(&b, t), 0);
    size_t m1 = i61_ber_open(&w, 0xa2), m2 = i61_ber_open(&w, 0xa1), m3 = i61_ber_open(&w, 0x30);
    i61_ber_put_str(&w, 0x80, "c");
    size_t m4 = i61_ber_open(&w, 0xa1);
    i61_buf_put(&w, b.data, b.len);
    i61_ber_close(&w, m4);
    i61_ber_close(&w, m3);
    i61_ber_close(&w, m2);
    i61_ber_close(&w, m1);
    T_EQ_INT(i61_ber_parse(w.data, w.len, &tlv, &used), I61_BER_OK);
    d = (i61_typespec *)1;
    T_EQ_INT(i61_mms_typespec_decode(&tlv, 0, &d), I61_ERR_MALFORMED_MESSAGE);
    T_CHECK(d == NULL);
    i61_buf_free(&w);
    i61_buf_free(&b);
    i61_typespec_free(s);
}

T_MAIN(T_CASE(test_016_float), T_CASE(test_018_struct_mv), T_CASE(test_020_struct_sps),
       T_CASE(test_022_multi), T_CASE(test_034_dataset), T_CASE(test_032_access_error),
       T_CASE(test_014_typespec_mv), T_CASE(test_050_typespec_urcb), T_CASE(test_052_typespec_brcb),
       T_CASE(test_054_typespec_oper), T_CASE(test_060_typespec_lln0),
       T_CASE(test_data_alternatives), T_CASE(test_data_malformed), T_CASE(test_nesting_limit),
       T_CASE(test_encode_rejects), T_CASE(test_typespec_alternatives),
       T_CASE(test_typespec_builders), T_CASE(test_typespec_nesting_limit))
