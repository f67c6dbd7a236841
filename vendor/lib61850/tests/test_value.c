/* Public value API (i61_value_*) and string lists (i61_strlist_*). */
#include "t.h"
#include "i61.h"
#include "mms/strlist.h"
#include "mms/value_internal.h"

static void test_integers(void)
{
    int64_t i;
    uint64_t u;
    int b;
    double d;
    static const struct { int64_t v; int bits; } ints[] = {
        { 0, 8 }, { 127, 8 }, { -128, 8 }, { 128, 16 }, { -129, 16 }, { 32767, 16 },
        { -32769, 32 }, { INT32_MAX, 32 }, { INT32_MIN, 32 }, { (int64_t)INT32_MAX + 1, 64 },
        { INT64_MIN, 64 }, { INT64_MAX, 64 },
    };
    for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++) {
        i61_value *v = i61_value_new_integer(ints[k].v);
        T_EQ_INT(i61_value_type(v), I61_TYPE_INTEGER);
        T_EQ_INT(i61_value_bit_size(v), ints[k].bits);
        T_EQ_INT(i61_value_get_int64(v, &i), I61_OK);
        T_CHECK(i == ints[k].v);
        if (ints[k].v < 0)
            T_EQ_INT(i61_value_get_uint64(v, &u), I61_ERR_OBJECT_VALUE_INVALID);
        else
            T_CHECK(i61_value_get_uint64(v, &u) == I61_OK && u == (uint64_t)ints[k].v);
        T_EQ_INT(i61_value_get_boolean(v, &b), I61_ERR_TYPE_INCONSISTENT);
        T_EQ_INT(i61_value_get_double(v, &d), I61_ERR_TYPE_INCONSISTENT);
        T_CHECK(i61_value_get_bytes(v, NULL) == NULL);
        i61_value_free(v);
    }
    static const struct { uint64_t v; int bits; } uints[] = {
        { 0, 8 }, { 255, 8 }, { 256, 16 }, { 65535, 16 }, { 65536, 32 }, { UINT32_MAX, 32 },
        { (uint64_t)UINT32_MAX + 1, 64 }, { UINT64_MAX, 64 },
    };
    for (size_t k = 0; k < sizeof uints / sizeof uints[0]; k++) {
        i61_value *v = i61_value_new_unsigned(uints[k].v);
        T_EQ_INT(i61_value_type(v), I61_TYPE_UNSIGNED);
        T_EQ_INT(i61_value_bit_size(v), uints[k].bits);
        T_CHECK(i61_value_get_uint64(v, &u) == I61_OK && u == uints[k].v);
        if (uints[k].v > (uint64_t)INT64_MAX)
            T_EQ_INT(i61_value_get_int64(v, &i), I61_ERR_OBJECT_VALUE_INVALID);
        else
            T_CHECK(i61_value_get_int64(v, &i) == I61_OK && (uint64_t)i == uints[k].v);
        i61_value_free(v);
    }
    /* explicit sizes (internal helpers used by the decoder and the client) */
    i61_value *v = i61_value_new_integer_sized(3, 32);
    T_EQ_INT(i61_value_bit_size(v), 32);
    T_EQ_INT(i61_value_set_bit_size(v, 8), I61_OK);
    T_EQ_INT(i61_value_bit_size(v), 8);
    T_EQ_INT(i61_value_set_bit_size(v, 12), I61_ERR_INVALID_ARGUMENT);
    i61_value_free(v);
    T_CHECK(i61_value_new_integer_sized(200, 8) == NULL);
    T_CHECK(i61_value_new_unsigned_sized(256, 8) == NULL);
    v = i61_value_new_unsigned(300);
    T_EQ_INT(i61_value_set_bit_size(v, 8), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_value_set_bit_size(v, 64), I61_OK);
    T_EQ_INT(i61_value_bit_size(v), 64);
    i61_value_free(v);
    v = i61_value_new_boolean(1);
    T_EQ_INT(i61_value_set_bit_size(v, 8), I61_ERR_TYPE_INCONSISTENT);
    i61_value_free(v);

    /* BCD */
    v = i61_value_new_bcd(1234);
    T_EQ_INT(i61_value_type(v), I61_TYPE_BCD);
    T_CHECK(i61_value_get_int64(v, &i) == I61_OK && i == 1234);
    T_CHECK(i61_value_get_uint64(v, &u) == I61_OK && u == 1234);
    T_EQ_INT(i61_value_bit_size(v), 0);
    i61_value_free(v);
    T_CHECK(i61_value_new_bcd(-1) == NULL);
}

static void test_boolean_and_float(void)
{
    int b = -1;
    int64_t i;
    double d;
    i61_value *t = i61_value_new_boolean(42);
    i61_value *f = i61_value_new_boolean(0);
    T_EQ_INT(i61_value_type(t), I61_TYPE_BOOLEAN);
    T_CHECK(i61_value_get_boolean(t, &b) == I61_OK && b == 1);
    T_CHECK(i61_value_get_boolean(f, &b) == I61_OK && b == 0);
    T_CHECK(i61_value_get_int64(t, &i) == I61_OK && i == 1);
    T_EQ_INT(i61_value_get_double(t, &d), I61_ERR_TYPE_INCONSISTENT);
    T_EQ_INT(i61_value_bit_size(t), 0);
    i61_value_free(t);
    i61_value_free(f);

    i61_value *x = i61_value_new_float(12.5f);
    T_EQ_INT(i61_value_type(x), I61_TYPE_FLOAT);
    T_EQ_INT(i61_value_bit_size(x), 32);
    T_CHECK(i61_value_get_double(x, &d) == I61_OK && d == 12.5);
    T_EQ_INT(i61_value_get_int64(x, &i), I61_ERR_TYPE_INCONSISTENT);
    T_EQ_INT(i61_value_get_boolean(x, &b), I61_ERR_TYPE_INCONSISTENT);
    i61_value_free(x);
    x = i61_value_new_double(0.1);
    T_EQ_INT(i61_value_bit_size(x), 64);
    T_CHECK(i61_value_get_double(x, &d) == I61_OK && d == 0.1);
    i61_value_free(x);
    /* a float keeps its single precision: 0.1f is not 0.1 */
    x = i61_value_new_float(0.1f);
    T_CHECK(i61_value_get_double(x, &d) == I61_OK && d == (double)0.1f && d != 0.1);
    i61_value_free(x);
}

static void test_strings_and_bytes(void)
{
    size_t n = 99;
    const uint8_t *p;
    i61_value *v = i61_value_new_visible_string("IED1LD1");
    T_EQ_INT(i61_value_type(v), I61_TYPE_VISIBLE_STRING);
    p = i61_value_get_bytes(v, &n);
    T_EQ_INT(n, 7);
    T_CHECK(p && strcmp((const char *)p, "IED1LD1") == 0);
    int b;
    T_EQ_INT(i61_value_get_boolean(v, &b), I61_ERR_TYPE_INCONSISTENT);
    T_EQ_INT(i61_value_count(v), 0);
    T_CHECK(i61_value_element(v, 0) == NULL);
    i61_value_free(v);

    v = i61_value_new_mms_string("\xc3\xa9t\xc3\xa9");
    T_EQ_INT(i61_value_type(v), I61_TYPE_STRING);
    p = i61_value_get_bytes(v, &n);
    T_CHECK(n == 5 && p[5] == 0);
    i61_value_free(v);
    T_CHECK(i61_value_new_visible_string(NULL) == NULL);
    T_CHECK(i61_value_new_mms_string(NULL) == NULL);

    static const uint8_t oct[] = { 0x00, 0xff, 0x10 };
    v = i61_value_new_octet_string(oct, 3);
    T_EQ_INT(i61_value_type(v), I61_TYPE_OCTET_STRING);
    p = i61_value_get_bytes(v, &n);
    T_EQ_MEM(p, n, oct, 3);
    i61_value_free(v);
    v = i61_value_new_octet_string(NULL, 0);
    p = i61_value_get_bytes(v, &n);
    T_CHECK(v && p && n == 0);
    i61_value_free(v);
    T_CHECK(i61_value_new_octet_string(NULL, 3) == NULL);

    /* bit strings: trailing unused bits are cleared */
    static const uint8_t bits[] = { 0xff, 0xff };
    v = i61_value_new_bit_string(13, bits);
    T_EQ_INT(i61_value_type(v), I61_TYPE_BIT_STRING);
    T_EQ_INT(i61_value_bit_size(v), 13);
    p = i61_value_get_bytes(v, &n);
    T_CHECK(n == 2 && p[0] == 0xff && p[1] == 0xf8);
    i61_value_free(v);
    v = i61_value_new_bit_string(10, NULL);
    p = i61_value_get_bytes(v, &n);
    T_CHECK(n == 2 && p[0] == 0 && p[1] == 0);
    i61_value_free(v);
    v = i61_value_new_bit_string(0, NULL);
    T_CHECK(v != NULL && i61_value_bit_size(v) == 0);
    i61_value_free(v);
    T_CHECK(i61_value_new_bit_string(-1, NULL) == NULL);

    /* times */
    static const uint8_t utc[8] = { 0x65, 0x53, 0xf1, 0x00, 0x1f, 0x7c, 0xed, 0x8a };
    v = i61_value_new_utc_time(utc);
    T_EQ_INT(i61_value_type(v), I61_TYPE_UTC_TIME);
    p = i61_value_get_bytes(v, &n);
    T_EQ_MEM(p, n, utc, 8);
    i61_value_free(v);
    T_CHECK(i61_value_new_utc_time(NULL) == NULL);
    static const uint8_t bt[6] = { 0x01, 0x8d, 0x79, 0x94, 0x3d, 0x31 };
    v = i61_value_new_binary_time(bt, 6);
    T_EQ_INT(i61_value_type(v), I61_TYPE_BINARY_TIME);
    p = i61_value_get_bytes(v, &n);
    T_EQ_MEM(p, n, bt, 6);
    i61_value_free(v);
    v = i61_value_new_binary_time(bt, 4);
    T_CHECK(v != NULL);
    i61_value_free(v);
    T_CHECK(i61_value_new_binary_time(bt, 5) == NULL);
    v = i61_value_new_generalized_time("20261121071357.000Z");
    T_EQ_INT(i61_value_type(v), I61_TYPE_GENERALIZED_TIME);
    p = i61_value_get_bytes(v, &n);
    T_CHECK(n == 19 && strcmp((const char *)p, "20261121071357.000Z") == 0);
    i61_value_free(v);
}

static void test_data_access_error(void)
{
    i61_value *v = i61_value_new_data_access_error(3);
    T_EQ_INT(i61_value_type(v), I61_TYPE_DATA_ACCESS_ERROR);
    T_EQ_INT(i61_value_get_data_access_error(v), 3);
    int64_t i;
    T_EQ_INT(i61_value_get_int64(v, &i), I61_ERR_TYPE_INCONSISTENT);
    i61_value_free(v);
    v = i61_value_new_integer(3);
    T_EQ_INT(i61_value_get_data_access_error(v), -1);
    i61_value_free(v);
    T_CHECK(i61_value_new_data_access_error(-1) == NULL);
}

static void test_trees(void)
{
    i61_value *s = i61_value_new_structure(3);
    T_EQ_INT(i61_value_type(s), I61_TYPE_STRUCTURE);
    T_EQ_INT(i61_value_count(s), 3);
    T_CHECK(i61_value_element(s, 0) == NULL);
    T_CHECK(i61_value_element(s, 3) == NULL);
    i61_value *mag = i61_value_new_structure(1);
    T_EQ_INT(i61_value_set_element(mag, 0, i61_value_new_float(12.5f)), I61_OK);
    T_EQ_INT(i61_value_set_element(s, 0, mag), I61_OK);
    T_EQ_INT(i61_value_set_element(s, 1, i61_value_new_bit_string(13, NULL)), I61_OK);
    T_EQ_INT(i61_value_set_element(s, 2, i61_value_new_integer(1)), I61_OK);
    /* replacing an element frees the previous one (checked by the sanitizers) */
    static const uint8_t utc[8] = { 0 };
    T_EQ_INT(i61_value_set_element(s, 2, i61_value_new_utc_time(utc)), I61_OK);
    T_EQ_INT(i61_value_type(i61_value_element(s, 2)), I61_TYPE_UTC_TIME);
    /* out of range / not constructed: the child is consumed anyway */
    T_EQ_INT(i61_value_set_element(s, 3, i61_value_new_integer(1)), I61_ERR_INVALID_ARGUMENT);
    i61_value *leaf = i61_value_new_integer(1);
    T_EQ_INT(i61_value_set_element(leaf, 0, i61_value_new_integer(2)), I61_ERR_TYPE_INCONSISTENT);
    T_EQ_INT(i61_value_set_element(s, 0, s), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_value_set_element(NULL, 0, i61_value_new_integer(2)), I61_ERR_INVALID_ARGUMENT);
    i61_value_free(leaf);

    /* clone is deep: changing the clone leaves the original alone */
    i61_value *c = i61_value_clone(s);
    T_CHECK(c != NULL && c != s);
    T_EQ_INT(i61_value_count(c), 3);
    T_CHECK(i61_value_element(c, 0) != i61_value_element(s, 0));
    double d;
    T_CHECK(i61_value_get_double(i61_value_element(i61_value_element(c, 0), 0), &d) == I61_OK && d == 12.5);
    T_EQ_INT(i61_value_set_element(i61_value_element(c, 0), 0, i61_value_new_float(1.0f)), I61_OK);
    T_CHECK(i61_value_get_double(i61_value_element(i61_value_element(s, 0), 0), &d) == I61_OK && d == 12.5);
    T_EQ_INT(i61_value_bit_size(i61_value_element(c, 1)), 13);
    i61_value_free(c);
    i61_value_free(s);

    /* arrays; empty slots survive a clone */
    i61_value *a = i61_value_new_array(4);
    T_EQ_INT(i61_value_type(a), I61_TYPE_ARRAY);
    T_EQ_INT(i61_value_set_element(a, 1, i61_value_new_visible_string("x")), I61_OK);
    c = i61_value_clone(a);
    T_CHECK(i61_value_element(c, 0) == NULL);
    T_CHECK(i61_value_element(c, 1) != NULL);
    i61_value_free(c);
    i61_value_free(a);
    a = i61_value_new_array(0);
    T_CHECK(a != NULL && i61_value_count(a) == 0);
    i61_value_free(a);

    /* a very deep tree is freed without recursion */
    i61_value *deep = i61_value_new_integer(0);
    for (int k = 0; k < 200000 && deep; k++) {
        i61_value *p = i61_value_new_array(1);
        T_EQ_INT(i61_value_set_element(p, 0, deep), I61_OK);
        deep = p;
    }
    /* clone refuses what it cannot copy without deep recursion */
    T_CHECK(i61_value_clone(deep) == NULL);
    i61_value_free(deep);

    /* NULL handling */
    i61_value_free(NULL);
    T_EQ_INT(i61_value_type(NULL), -1);
    T_EQ_INT(i61_value_count(NULL), 0);
    T_CHECK(i61_value_clone(NULL) == NULL);
    int b;
    T_EQ_INT(i61_value_get_boolean(NULL, &b), I61_ERR_INVALID_ARGUMENT);
}

/* Ownership contract of i61_value_set_element (i61.h: "Takes ownership of
 * child"). Double frees or leaks here are reported by the sanitizer builds. */
static void test_set_element_ownership(void)
{
    i61_value *s = i61_value_new_structure(2);
    i61_value *x = i61_value_new_integer(7);
    T_EQ_INT(i61_value_set_element(s, 0, x), I61_OK);
    T_CHECK(i61_value_element(s, 0) == x);

    /* a value cannot become its own element: refused, and v is NOT freed */
    T_EQ_INT(i61_value_set_element(s, 1, s), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_value_type(s), I61_TYPE_STRUCTURE);
    T_EQ_INT(i61_value_count(s), 2);
    T_CHECK(i61_value_element(s, 0) == x);
    T_CHECK(i61_value_element(s, 1) == NULL);
    i61_value *leaf = i61_value_new_integer(3);
    T_EQ_INT(i61_value_set_element(leaf, 0, leaf), I61_ERR_INVALID_ARGUMENT);
    int64_t iv = 0;
    T_EQ_INT(i61_value_get_int64(leaf, &iv), I61_OK);
    T_EQ_INT(iv, 3);
    i61_value_free(leaf);
    T_EQ_INT(i61_value_set_element(NULL, 0, NULL), I61_ERR_INVALID_ARGUMENT);

    /* setting the element already in that slot keeps it (it is not freed) */
    T_EQ_INT(i61_value_set_element(s, 0, x), I61_OK);
    T_CHECK(i61_value_element(s, 0) == x);
    T_EQ_INT(i61_value_get_int64(i61_value_element(s, 0), &iv), I61_OK);
    T_EQ_INT(iv, 7);

    /* failures other than child == v consume the child (no leak) */
    T_EQ_INT(i61_value_set_element(s, 2, i61_value_new_integer(1)), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_value_set_element(NULL, 0, i61_value_new_integer(1)), I61_ERR_INVALID_ARGUMENT);
    T_CHECK(i61_value_element(s, 0) == x);

    /* NULL empties the slot and frees what was there */
    T_EQ_INT(i61_value_set_element(s, 0, NULL), I61_OK);
    T_CHECK(i61_value_element(s, 0) == NULL);
    T_EQ_INT(i61_value_set_element(s, 1, i61_value_new_boolean(1)), I61_OK);
    i61_value_free(s);                       /* frees exactly the one remaining element */
}

static void test_strlist(void)
{
    i61_strlist *l = i61_strlist_new();
    T_CHECK(l != NULL);
    T_EQ_INT(i61_strlist_count(l), 0);
    T_CHECK(i61_strlist_get(l, 0) == NULL);
    T_EQ_INT(i61_strlist_add(l, "IED1LD1xxx", 7), 0);
    T_EQ_INT(i61_strlist_add(l, "", 0), 0);
    char name[16];
    for (int k = 0; k < 100; k++) {
        int n = snprintf(name, sizeof name, "GGIO%d", k);
        T_EQ_INT(i61_strlist_add(l, name, (size_t)n), 0);
    }
    T_EQ_INT(i61_strlist_count(l), 102);
    T_CHECK(strcmp(i61_strlist_get(l, 0), "IED1LD1") == 0);
    T_CHECK(strcmp(i61_strlist_get(l, 1), "") == 0);
    T_CHECK(strcmp(i61_strlist_get(l, 101), "GGIO99") == 0);
    T_CHECK(i61_strlist_get(l, 102) == NULL);
    T_EQ_INT(i61_strlist_add(NULL, "x", 1), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_strlist_add(l, NULL, 1), I61_ERR_INVALID_ARGUMENT);
    i61_strlist_free(l);
    i61_strlist_free(NULL);
    T_EQ_INT(i61_strlist_count(NULL), 0);
}

T_MAIN(T_CASE(test_integers), T_CASE(test_boolean_and_float), T_CASE(test_strings_and_bytes),
       T_CASE(test_data_access_error), T_CASE(test_trees),
       T_CASE(test_set_element_ownership), T_CASE(test_strlist))
