/* i61_value: MMS Data values (public API of i61.h). */
#include <stdlib.h>
#include <string.h>

#include "value_internal.h"

static bool i61_value_is_bytes(int type)
{
    switch (type) {
    case I61_TYPE_BIT_STRING:
    case I61_TYPE_OCTET_STRING:
    case I61_TYPE_VISIBLE_STRING:
    case I61_TYPE_GENERALIZED_TIME:
    case I61_TYPE_BINARY_TIME:
    case I61_TYPE_OBJ_ID:
    case I61_TYPE_STRING:
    case I61_TYPE_UTC_TIME:
        return true;
    default:
        return false;
    }
}

static bool i61_value_is_list(int type)
{
    return type == I61_TYPE_STRUCTURE || type == I61_TYPE_ARRAY;
}

i61_value *i61_value_alloc(int type)
{
    i61_value *v = calloc(1, sizeof *v);
    if (v)
        v->type = type;
    return v;
}

i61_value *i61_value_new_bytes(int type, const uint8_t *p, size_t len)
{
    if (len == SIZE_MAX || (len && !p))
        return NULL;
    i61_value *v = i61_value_alloc(type);
    if (!v)
        return NULL;
    v->u.bytes.p = malloc(len + 1);
    if (!v->u.bytes.p) {
        free(v);
        return NULL;
    }
    if (len)
        memcpy(v->u.bytes.p, p, len);
    v->u.bytes.p[len] = 0;
    v->u.bytes.len = len;
    return v;
}

/* Smallest of 8/16/32/64 holding v as a signed / unsigned integer. */
static int i61_int_bits(int64_t v)
{
    if (v >= INT8_MIN && v <= INT8_MAX) return 8;
    if (v >= INT16_MIN && v <= INT16_MAX) return 16;
    if (v >= INT32_MIN && v <= INT32_MAX) return 32;
    return 64;
}

static int i61_uint_bits(uint64_t v)
{
    if (v <= UINT8_MAX) return 8;
    if (v <= UINT16_MAX) return 16;
    if (v <= UINT32_MAX) return 32;
    return 64;
}

static bool i61_valid_bits(int bits)
{
    return bits == 8 || bits == 16 || bits == 32 || bits == 64;
}

i61_value *i61_value_new_boolean(int v)
{
    i61_value *r = i61_value_alloc(I61_TYPE_BOOLEAN);
    if (r)
        r->u.b = v != 0;
    return r;
}

i61_value *i61_value_new_integer_sized(int64_t v, int bits)
{
    if (!i61_valid_bits(bits) || i61_int_bits(v) > bits)
        return NULL;
    i61_value *r = i61_value_alloc(I61_TYPE_INTEGER);
    if (r) {
        r->u.i = v;
        r->bits = bits;
    }
    return r;
}

i61_value *i61_value_new_unsigned_sized(uint64_t v, int bits)
{
    if (!i61_valid_bits(bits) || i61_uint_bits(v) > bits)
        return NULL;
    i61_value *r = i61_value_alloc(I61_TYPE_UNSIGNED);
    if (r) {
        r->u.u = v;
        r->bits = bits;
    }
    return r;
}

i61_value *i61_value_new_integer(int64_t v)
{
    return i61_value_new_integer_sized(v, i61_int_bits(v));
}

i61_value *i61_value_new_unsigned(uint64_t v)
{
    return i61_value_new_unsigned_sized(v, i61_uint_bits(v));
}

int i61_value_set_bit_size(i61_value *v, int bits)
{
    if (!v)
        return I61_ERR_INVALID_ARGUMENT;
    if (v->type == I61_TYPE_INTEGER) {
        if (!i61_valid_bits(bits) || i61_int_bits(v->u.i) > bits)
            return I61_ERR_INVALID_ARGUMENT;
    } else if (v->type == I61_TYPE_UNSIGNED) {
        if (!i61_valid_bits(bits) || i61_uint_bits(v->u.u) > bits)
            return I61_ERR_INVALID_ARGUMENT;
    } else {
        return I61_ERR_TYPE_INCONSISTENT;
    }
    v->bits = bits;
    return I61_OK;
}

i61_value *i61_value_new_float(float v)
{
    i61_value *r = i61_value_alloc(I61_TYPE_FLOAT);
    if (r) {
        r->u.f = v;
        r->bits = 32;
    }
    return r;
}

i61_value *i61_value_new_double(double v)
{
    i61_value *r = i61_value_alloc(I61_TYPE_FLOAT);
    if (r) {
        r->u.d = v;
        r->bits = 64;
    }
    return r;
}

i61_value *i61_value_new_bit_string(int nbits, const uint8_t *bytes)
{
    if (nbits < 0 || nbits > INT32_MAX - 7)
        return NULL;
    size_t n = ((size_t)nbits + 7) / 8;
    i61_value *v = i61_value_alloc(I61_TYPE_BIT_STRING);
    if (!v)
        return NULL;
    v->u.bytes.p = calloc(n + 1, 1);
    if (!v->u.bytes.p) {
        free(v);
        return NULL;
    }
    if (bytes && n) {
        memcpy(v->u.bytes.p, bytes, n);
        if (nbits % 8)                       /* unused trailing bits are zero */
            v->u.bytes.p[n - 1] &= (uint8_t)(0xff << (8 - nbits % 8));
    }
    v->u.bytes.len = n;
    v->bits = nbits;
    return v;
}

i61_value *i61_value_new_octet_string(const uint8_t *bytes, size_t len)
{
    return i61_value_new_bytes(I61_TYPE_OCTET_STRING, bytes, len);
}

i61_value *i61_value_new_visible_string(const char *s)
{
    if (!s)
        return NULL;
    return i61_value_new_bytes(I61_TYPE_VISIBLE_STRING, (const uint8_t *)s, strlen(s));
}

i61_value *i61_value_new_mms_string(const char *utf8)
{
    if (!utf8)
        return NULL;
    return i61_value_new_bytes(I61_TYPE_STRING, (const uint8_t *)utf8, strlen(utf8));
}

i61_value *i61_value_new_utc_time(const uint8_t *octets8)
{
    if (!octets8)
        return NULL;
    return i61_value_new_bytes(I61_TYPE_UTC_TIME, octets8, 8);
}

i61_value *i61_value_new_binary_time(const uint8_t *octets, size_t len)
{
    if (!octets || (len != 4 && len != 6))
        return NULL;
    return i61_value_new_bytes(I61_TYPE_BINARY_TIME, octets, len);
}

i61_value *i61_value_new_generalized_time(const char *text)
{
    if (!text)
        return NULL;
    return i61_value_new_bytes(I61_TYPE_GENERALIZED_TIME, (const uint8_t *)text, strlen(text));
}

i61_value *i61_value_new_bcd(int64_t v)
{
    if (v < 0)
        return NULL;                         /* BCD digits have no sign */
    i61_value *r = i61_value_alloc(I61_TYPE_BCD);
    if (r)
        r->u.i = v;
    return r;
}

i61_value *i61_value_new_data_access_error(int dae)
{
    if (dae < 0)
        return NULL;
    i61_value *r = i61_value_alloc(I61_TYPE_DATA_ACCESS_ERROR);
    if (r)
        r->u.dae = dae;
    return r;
}

static i61_value *i61_value_new_list(int type, size_t n)
{
    i61_value *v = i61_value_alloc(type);
    if (!v)
        return NULL;
    if (n) {
        if (n > SIZE_MAX / sizeof(i61_value *)) {
            free(v);
            return NULL;
        }
        v->u.list.items = calloc(n, sizeof(i61_value *));
        if (!v->u.list.items) {
            free(v);
            return NULL;
        }
    }
    v->u.list.n = n;
    return v;
}

i61_value *i61_value_new_structure(size_t n)
{
    return i61_value_new_list(I61_TYPE_STRUCTURE, n);
}

i61_value *i61_value_new_array(size_t n)
{
    return i61_value_new_list(I61_TYPE_ARRAY, n);
}

/* Frees a tree of any depth without recursion: the nodes still to be freed
 * are chained through their `link` field. */
void i61_value_free(i61_value *v)
{
    if (!v)
        return;
    v->link = NULL;
    i61_value *todo = v;
    while (todo) {
        i61_value *cur = todo;
        todo = cur->link;
        if (i61_value_is_list(cur->type)) {
            for (size_t i = 0; i < cur->u.list.n; i++) {
                i61_value *c = cur->u.list.items[i];
                if (c) {
                    c->link = todo;
                    todo = c;
                }
            }
            free(cur->u.list.items);
        } else if (i61_value_is_bytes(cur->type)) {
            free(cur->u.bytes.p);
        }
        free(cur);
    }
}

static i61_value *i61_value_clone_at(const i61_value *v, int depth)
{
    if (depth > I61_VALUE_MAX_DEPTH)
        return NULL;
    if (i61_value_is_bytes(v->type)) {
        i61_value *r = i61_value_new_bytes(v->type, v->u.bytes.p, v->u.bytes.len);
        if (r)
            r->bits = v->bits;
        return r;
    }
    if (i61_value_is_list(v->type)) {
        i61_value *r = i61_value_new_list(v->type, v->u.list.n);
        if (!r)
            return NULL;
        for (size_t i = 0; i < v->u.list.n; i++) {
            const i61_value *c = v->u.list.items[i];
            if (!c)
                continue;
            r->u.list.items[i] = i61_value_clone_at(c, depth + 1);
            if (!r->u.list.items[i]) {
                i61_value_free(r);
                return NULL;
            }
        }
        return r;
    }
    i61_value *r = i61_value_alloc(v->type);
    if (r) {
        r->bits = v->bits;
        r->u = v->u;
    }
    return r;
}

i61_value *i61_value_clone(const i61_value *v)
{
    return v ? i61_value_clone_at(v, 0) : NULL;
}

int i61_value_type(const i61_value *v)
{
    return v ? v->type : -1;
}

int i61_value_get_boolean(const i61_value *v, int *out)
{
    if (!v || !out)
        return I61_ERR_INVALID_ARGUMENT;
    if (v->type != I61_TYPE_BOOLEAN)
        return I61_ERR_TYPE_INCONSISTENT;
    *out = v->u.b ? 1 : 0;
    return I61_OK;
}

int i61_value_get_int64(const i61_value *v, int64_t *out)
{
    if (!v || !out)
        return I61_ERR_INVALID_ARGUMENT;
    switch (v->type) {
    case I61_TYPE_BOOLEAN:
        *out = v->u.b ? 1 : 0;
        return I61_OK;
    case I61_TYPE_INTEGER:
    case I61_TYPE_BCD:
        *out = v->u.i;
        return I61_OK;
    case I61_TYPE_UNSIGNED:
        if (v->u.u > (uint64_t)INT64_MAX)
            return I61_ERR_OBJECT_VALUE_INVALID;
        *out = (int64_t)v->u.u;
        return I61_OK;
    default:
        return I61_ERR_TYPE_INCONSISTENT;
    }
}

int i61_value_get_uint64(const i61_value *v, uint64_t *out)
{
    if (!v || !out)
        return I61_ERR_INVALID_ARGUMENT;
    switch (v->type) {
    case I61_TYPE_BOOLEAN:
        *out = v->u.b ? 1 : 0;
        return I61_OK;
    case I61_TYPE_INTEGER:
    case I61_TYPE_BCD:
        if (v->u.i < 0)
            return I61_ERR_OBJECT_VALUE_INVALID;
        *out = (uint64_t)v->u.i;
        return I61_OK;
    case I61_TYPE_UNSIGNED:
        *out = v->u.u;
        return I61_OK;
    default:
        return I61_ERR_TYPE_INCONSISTENT;
    }
}

int i61_value_get_double(const i61_value *v, double *out)
{
    if (!v || !out)
        return I61_ERR_INVALID_ARGUMENT;
    if (v->type != I61_TYPE_FLOAT)
        return I61_ERR_TYPE_INCONSISTENT;
    *out = v->bits == 32 ? (double)v->u.f : v->u.d;
    return I61_OK;
}

int i61_value_bit_size(const i61_value *v)
{
    if (!v)
        return 0;
    switch (v->type) {
    case I61_TYPE_INTEGER:
    case I61_TYPE_UNSIGNED:
    case I61_TYPE_FLOAT:
    case I61_TYPE_BIT_STRING:
        return v->bits;
    default:
        return 0;
    }
}

const uint8_t *i61_value_get_bytes(const i61_value *v, size_t *len)
{
    if (!v || !i61_value_is_bytes(v->type)) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = v->u.bytes.len;
    return v->u.bytes.p;
}

int i61_value_get_data_access_error(const i61_value *v)
{
    if (!v || v->type != I61_TYPE_DATA_ACCESS_ERROR)
        return -1;
    return v->u.dae;
}

size_t i61_value_count(const i61_value *v)
{
    if (!v || !i61_value_is_list(v->type))
        return 0;
    return v->u.list.n;
}

i61_value *i61_value_element(const i61_value *v, size_t i)
{
    if (!v || !i61_value_is_list(v->type) || i >= v->u.list.n)
        return NULL;
    return v->u.list.items[i];
}

/* Takes ownership of child (i61.h): on success it becomes element i (the
 * previous element is freed, unless it is child itself); on any other failure
 * it is freed, so callers never have to guess who owns it.
 * Preconditions the library cannot check cheaply: child must be a root that
 * the caller owns, i.e. not an element of any value (another slot of v
 * included) and not an ancestor of v; otherwise a later i61_value_free frees
 * it twice. The one case detected is child == v (a value cannot become its own
 * element): I61_ERR_INVALID_ARGUMENT, and nothing is freed, since freeing
 * child would free v under the caller. NULL child empties slot i. */
int i61_value_set_element(i61_value *v, size_t i, i61_value *child)
{
    if (child == v)
        return I61_ERR_INVALID_ARGUMENT;
    if (!v) {
        i61_value_free(child);
        return I61_ERR_INVALID_ARGUMENT;
    }
    if (!i61_value_is_list(v->type)) {
        i61_value_free(child);
        return I61_ERR_TYPE_INCONSISTENT;
    }
    if (i >= v->u.list.n) {
        i61_value_free(child);
        return I61_ERR_INVALID_ARGUMENT;
    }
    i61_value *old = v->u.list.items[i];
    v->u.list.items[i] = child;
    if (old && old != child)
        i61_value_free(old);
    return I61_OK;
}
