/* MMS Data CHOICE and AccessResult codec (ISO 9506-2, IEC 61850-8-1 usage).
 * All alternatives are IMPLICIT context tags:
 *   [1] array, [2] structure, [3] boolean, [4] bit-string, [5] integer,
 *   [6] unsigned, [7] floating-point, [9] octet-string, [10] visible-string,
 *   [11] generalized-time, [12] binary-time, [13] bcd, [14] booleanArray,
 *   [15] objId, [16] mMSString, [17] utc-time. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "mms_data.h"
#include "value_internal.h"

#define MALFORMED I61_ERR_MALFORMED_MESSAGE

/* ------------------------------------------------------------------ decode */

/* Bit size of an integer received in `octets` content octets. */
static int i61_bits_for_octets(size_t octets)
{
    if (octets <= 1) return 8;
    if (octets <= 2) return 16;
    if (octets <= 4) return 32;
    return 64;
}

static int i61_decode_list(const i61_ber_tlv *t, int depth, int type, i61_value **out)
{
    i61_ber_reader r;
    i61_ber_tlv c;
    int rc;
    size_t n = 0;
    i61_ber_reader_sub(&r, t);
    while ((rc = i61_ber_next(&r, &c)) == I61_BER_OK)
        n++;
    if (rc != I61_BER_END)
        return MALFORMED;
    i61_value *v = type == I61_TYPE_ARRAY ? i61_value_new_array(n) : i61_value_new_structure(n);
    if (!v)
        return I61_ERR_UNKNOWN;
    i61_ber_reader_sub(&r, t);
    for (size_t i = 0; i < n; i++) {
        if (i61_ber_next(&r, &c) != I61_BER_OK) {
            i61_value_free(v);
            return MALFORMED;
        }
        rc = i61_mms_data_decode(&c, depth + 1, &v->u.list.items[i]);
        if (rc != 0) {
            i61_value_free(v);
            return rc;
        }
    }
    *out = v;
    return 0;
}

static int i61_decode_bit_string(const i61_ber_tlv *t, i61_value **out)
{
    if (t->len < 1)
        return MALFORMED;
    unsigned unused = t->val[0];
    size_t n = t->len - 1;
    if (unused > 7 || (n == 0 && unused != 0))
        return MALFORMED;
    if (n > (size_t)(INT_MAX / 8))
        return MALFORMED;
    int nbits = (int)(n * 8) - (int)unused;
    i61_value *v = i61_value_new_bit_string(nbits, t->val + 1);
    if (!v)
        return I61_ERR_UNKNOWN;
    *out = v;
    return 0;
}

static int i61_decode_float(const i61_ber_tlv *t, i61_value **out)
{
    const uint8_t *c = t->val;
    i61_value *v;
    if (t->len == 5 && c[0] == 8) {
        uint32_t u = (uint32_t)c[1] << 24 | (uint32_t)c[2] << 16 | (uint32_t)c[3] << 8 | c[4];
        float f;
        memcpy(&f, &u, sizeof f);
        v = i61_value_new_float(f);
    } else if (t->len == 9 && c[0] == 11) {
        uint64_t u = 0;
        for (int k = 1; k < 9; k++)
            u = u << 8 | c[k];
        double d;
        memcpy(&d, &u, sizeof d);
        v = i61_value_new_double(d);
    } else {
        return MALFORMED;
    }
    if (!v)
        return I61_ERR_UNKNOWN;
    *out = v;
    return 0;
}

int i61_mms_data_decode(const i61_ber_tlv *t, int depth, i61_value **out)
{
    if (!t || !out)
        return I61_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (depth < 0 || depth > I61_MMS_MAX_NESTING)
        return MALFORMED;
    if (t->cls != 2)
        return MALFORMED;

    i61_value *v = NULL;
    switch (t->id) {
    case 0xa1:
        return i61_decode_list(t, depth, I61_TYPE_ARRAY, out);
    case 0xa2:
        return i61_decode_list(t, depth, I61_TYPE_STRUCTURE, out);
    case 0x83: {
        bool b;
        if (i61_ber_get_bool(t, &b) != 0)
            return MALFORMED;
        v = i61_value_new_boolean(b);
        break;
    }
    case 0x84:
    case 0x8e:                               /* booleanArray: a BIT STRING */
        return i61_decode_bit_string(t, out);
    case 0x85: {
        int64_t i;
        if (i61_ber_get_int64(t, &i) != 0)
            return MALFORMED;
        v = i61_value_new_integer_sized(i, i61_bits_for_octets(t->len));
        if (!v)                              /* non-minimal encoding: fall back to the value */
            v = i61_value_new_integer(i);
        break;
    }
    case 0x86: {
        uint64_t u;
        if (i61_ber_get_uint64(t, &u) != 0)
            return MALFORMED;
        size_t sig = t->len;
        if (sig > 1 && t->val[0] == 0x00)
            sig--;                           /* the sign octet of the INTEGER encoding */
        v = i61_value_new_unsigned_sized(u, i61_bits_for_octets(sig));
        if (!v)
            v = i61_value_new_unsigned(u);
        break;
    }
    case 0x87:
        return i61_decode_float(t, out);
    case 0x89:
        v = i61_value_new_bytes(I61_TYPE_OCTET_STRING, t->val, t->len);
        break;
    case 0x8a:
        v = i61_value_new_bytes(I61_TYPE_VISIBLE_STRING, t->val, t->len);
        break;
    case 0x8b:
        v = i61_value_new_bytes(I61_TYPE_GENERALIZED_TIME, t->val, t->len);
        break;
    case 0x8c:
        if (t->len != 4 && t->len != 6)
            return MALFORMED;
        v = i61_value_new_bytes(I61_TYPE_BINARY_TIME, t->val, t->len);
        break;
    case 0x8d: {
        int64_t i;
        if (i61_ber_get_int64(t, &i) != 0 || i < 0)
            return MALFORMED;
        v = i61_value_new_bcd(i);
        break;
    }
    case 0x8f:
        v = i61_value_new_bytes(I61_TYPE_OBJ_ID, t->val, t->len);
        break;
    case 0x90:
        v = i61_value_new_bytes(I61_TYPE_STRING, t->val, t->len);
        break;
    case 0x91:
        if (t->len != 8)
            return MALFORMED;
        v = i61_value_new_bytes(I61_TYPE_UTC_TIME, t->val, t->len);
        break;
    default:
        return MALFORMED;                    /* [0], [8] real, constructed primitives, unknown */
    }
    if (!v)
        return I61_ERR_UNKNOWN;
    *out = v;
    return 0;
}

int i61_mms_access_result_decode(const i61_ber_tlv *t, int depth, i61_value **out)
{
    if (!t || !out)
        return I61_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (t->id == 0x80) {
        uint32_t dae;
        if (i61_ber_get_uint32(t, &dae) != 0 || dae > INT_MAX)
            return MALFORMED;
        i61_value *v = i61_value_new_data_access_error((int)dae);
        if (!v)
            return I61_ERR_UNKNOWN;
        *out = v;
        return 0;
    }
    return i61_mms_data_decode(t, depth, out);
}

/* ------------------------------------------------------------------ encode */

static void i61_put_be(uint8_t *o, uint64_t v, int n)
{
    for (int k = 0; k < n; k++)
        o[k] = (uint8_t)(v >> (8 * (n - 1 - k)));
}

static int i61_data_encode_at(i61_buf *b, const i61_value *v, int depth)
{
    if (!v || depth > I61_MMS_MAX_NESTING)
        return I61_ERR_INVALID_ARGUMENT;
    switch (v->type) {
    case I61_TYPE_ARRAY:
    case I61_TYPE_STRUCTURE: {
        size_t m = i61_ber_open(b, v->type == I61_TYPE_ARRAY ? 0xa1 : 0xa2);
        for (size_t i = 0; i < v->u.list.n; i++) {
            int rc = i61_data_encode_at(b, v->u.list.items[i], depth + 1);
            if (rc != 0)
                return rc;
        }
        i61_ber_close(b, m);
        return 0;
    }
    case I61_TYPE_BOOLEAN:
        i61_ber_put_bool(b, 0x83, v->u.b);
        return 0;
    case I61_TYPE_BIT_STRING: {
        size_t n = v->u.bytes.len;
        uint8_t unused = (uint8_t)(n * 8 - (size_t)v->bits);
        i61_ber_put_id(b, 0x84);
        i61_ber_put_len(b, n + 1);
        i61_buf_put_u8(b, unused);
        i61_buf_put(b, v->u.bytes.p, n);
        return 0;
    }
    case I61_TYPE_INTEGER:
        i61_ber_put_int64(b, 0x85, v->u.i);
        return 0;
    case I61_TYPE_UNSIGNED:
        i61_ber_put_uint64(b, 0x86, v->u.u);
        return 0;
    case I61_TYPE_FLOAT: {
        uint8_t o[9];
        if (v->bits == 32) {
            uint32_t u;
            memcpy(&u, &v->u.f, sizeof u);
            o[0] = 8;
            i61_put_be(o + 1, u, 4);
            i61_ber_put_tlv(b, 0x87, o, 5);
        } else {
            uint64_t u;
            memcpy(&u, &v->u.d, sizeof u);
            o[0] = 11;
            i61_put_be(o + 1, u, 8);
            i61_ber_put_tlv(b, 0x87, o, 9);
        }
        return 0;
    }
    case I61_TYPE_OCTET_STRING:
        i61_ber_put_tlv(b, 0x89, v->u.bytes.p, v->u.bytes.len);
        return 0;
    case I61_TYPE_VISIBLE_STRING:
        i61_ber_put_tlv(b, 0x8a, v->u.bytes.p, v->u.bytes.len);
        return 0;
    case I61_TYPE_GENERALIZED_TIME:
        i61_ber_put_tlv(b, 0x8b, v->u.bytes.p, v->u.bytes.len);
        return 0;
    case I61_TYPE_BINARY_TIME:
        i61_ber_put_tlv(b, 0x8c, v->u.bytes.p, v->u.bytes.len);
        return 0;
    case I61_TYPE_BCD:
        i61_ber_put_int64(b, 0x8d, v->u.i);
        return 0;
    case I61_TYPE_OBJ_ID:
        i61_ber_put_tlv(b, 0x8f, v->u.bytes.p, v->u.bytes.len);
        return 0;
    case I61_TYPE_STRING:
        i61_ber_put_tlv(b, 0x90, v->u.bytes.p, v->u.bytes.len);
        return 0;
    case I61_TYPE_UTC_TIME:
        i61_ber_put_tlv(b, 0x91, v->u.bytes.p, v->u.bytes.len);
        return 0;
    default:                                 /* DataAccessError and anything unknown */
        return I61_ERR_INVALID_ARGUMENT;
    }
}

int i61_mms_data_encode(i61_buf *b, const i61_value *v)
{
    if (!b || !v)
        return I61_ERR_INVALID_ARGUMENT;
    size_t start = b->len;
    int rc = i61_data_encode_at(b, v, 0);
    if (rc == 0 && b->oom)
        rc = I61_ERR_UNKNOWN;
    if (rc != 0 && !b->oom)
        b->len = start;                       /* no half-written element on failure */
    return rc;
}
