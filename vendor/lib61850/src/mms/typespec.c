/* i61_typespec: MMS TypeSpecification model (public getters of i61.h, builders
 * of mms_data.h) and its BER codec (ISO 9506-2 TypeSpecification, as used by
 * GetVariableAccessAttributes). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "mms_data.h"
#include "value_internal.h"

/* ------------------------------------------------------------------ model */

static i61_typespec *i61_ts_alloc(int kind, size_t n)
{
    i61_typespec *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->kind = kind;
    if (n) {
        if (n > SIZE_MAX / sizeof(i61_typespec *)) {
            free(t);
            return NULL;
        }
        t->children = calloc(n, sizeof(i61_typespec *));
        if (!t->children) {
            free(t);
            return NULL;
        }
    }
    t->n = n;
    return t;
}

i61_typespec *i61_typespec_new(int kind, int size)
{
    switch (kind) {
    case I61_TYPE_BOOLEAN:
    case I61_TYPE_GENERALIZED_TIME:
    case I61_TYPE_OBJ_ID:
    case I61_TYPE_UTC_TIME:
        size = 0;
        break;
    case I61_TYPE_INTEGER:
    case I61_TYPE_UNSIGNED:
    case I61_TYPE_BCD:
        if (size < 0 || size > 255)           /* Unsigned8 */
            return NULL;
        break;
    case I61_TYPE_FLOAT:
        if (size != 32 && size != 64)
            return NULL;
        break;
    case I61_TYPE_BINARY_TIME:
        if (size != 4 && size != 6)
            return NULL;
        break;
    case I61_TYPE_BIT_STRING:
    case I61_TYPE_OCTET_STRING:
    case I61_TYPE_VISIBLE_STRING:
    case I61_TYPE_STRING:
        break;                                /* Integer32, negative = variable */
    default:
        return NULL;                          /* structures/arrays have their own builders */
    }
    i61_typespec *t = i61_ts_alloc(kind, 0);
    if (t) {
        t->size = size;
        if (kind == I61_TYPE_FLOAT)
            t->exp_width = size == 32 ? 8 : 11;
    }
    return t;
}

i61_typespec *i61_typespec_new_structure(size_t n)
{
    return i61_ts_alloc(I61_TYPE_STRUCTURE, n);
}

i61_typespec *i61_typespec_new_array(int count, i61_typespec *element)
{
    if (count < 0 || !element) {
        i61_typespec_free(element);
        return NULL;
    }
    i61_typespec *t = i61_ts_alloc(I61_TYPE_ARRAY, 1);
    if (!t) {
        i61_typespec_free(element);
        return NULL;
    }
    t->size = count;
    t->children[0] = element;
    return t;
}

int i61_typespec_set_component(i61_typespec *s, size_t i, const char *name, i61_typespec *type)
{
    /* type is consumed in every case (freed on failure) */
    if (!s || !type || s == type || s->kind != I61_TYPE_STRUCTURE || i >= s->n || !name) {
        if (type != s)
            i61_typespec_free(type);
        return I61_ERR_INVALID_ARGUMENT;
    }
    size_t nl = strlen(name);
    char *copy = malloc(nl + 1);
    if (!copy) {
        i61_typespec_free(type);
        return I61_ERR_UNKNOWN;
    }
    memcpy(copy, name, nl + 1);
    free(type->name);
    type->name = copy;
    i61_typespec *old = s->children[i];
    s->children[i] = type;
    if (old && old != type)
        i61_typespec_free(old);
    return I61_OK;
}

/* Non-recursive: pending nodes are chained through `link`. */
void i61_typespec_free(i61_typespec *t)
{
    if (!t)
        return;
    t->link = NULL;
    i61_typespec *todo = t;
    while (todo) {
        i61_typespec *cur = todo;
        todo = cur->link;
        for (size_t i = 0; i < cur->n; i++) {
            i61_typespec *c = cur->children[i];
            if (c) {
                c->link = todo;
                todo = c;
            }
        }
        free(cur->children);
        free(cur->name);
        free(cur);
    }
}

int i61_typespec_kind(const i61_typespec *t)
{
    return t ? t->kind : -1;
}

int i61_typespec_size(const i61_typespec *t)
{
    return t ? t->size : 0;
}

size_t i61_typespec_count(const i61_typespec *t)
{
    if (!t || (t->kind != I61_TYPE_STRUCTURE && t->kind != I61_TYPE_ARRAY))
        return 0;
    return t->n;
}

const i61_typespec *i61_typespec_child(const i61_typespec *t, size_t i)
{
    if (!t || i >= t->n)
        return NULL;
    return t->children[i];
}

const char *i61_typespec_name(const i61_typespec *t)
{
    return t ? t->name : NULL;
}

/* ------------------------------------------------------------------ decode */

#define TS_MALFORMED I61_ERR_MALFORMED_MESSAGE

static int i61_ts_get_u8(const i61_ber_tlv *t, int *out)
{
    uint32_t v;
    if (i61_ber_get_uint32(t, &v) != 0 || v > 255)
        return TS_MALFORMED;
    *out = (int)v;
    return 0;
}

static int i61_ts_get_i32(const i61_ber_tlv *t, int *out)
{
    int32_t v;
    if (i61_ber_get_int32(t, &v) != 0)
        return TS_MALFORMED;
    *out = v;
    return 0;
}

/* Decode the content of [1] componentType / [2] elementType: exactly one
 * TypeSpecification element. */
static int i61_ts_decode_explicit(const i61_ber_tlv *wrap, int depth, i61_typespec **out)
{
    i61_ber_reader r;
    i61_ber_tlv in;
    if (!wrap->constructed)
        return TS_MALFORMED;
    i61_ber_reader_sub(&r, wrap);
    if (i61_ber_next(&r, &in) != I61_BER_OK)
        return TS_MALFORMED;
    int rc = i61_mms_typespec_decode(&in, depth, out);
    if (rc != 0)
        return rc;
    if (i61_ber_next(&r, &in) != I61_BER_END) {
        i61_typespec_free(*out);
        *out = NULL;
        return TS_MALFORMED;
    }
    return 0;
}

static int i61_ts_decode_array(const i61_ber_tlv *t, int depth, i61_typespec **out)
{
    i61_ber_reader r;
    i61_ber_tlv c;
    bool packed = false, have_count = false;
    int count = 0, rc, state = 0;
    i61_typespec *elem = NULL;
    i61_ber_reader_sub(&r, t);
    while ((rc = i61_ber_next(&r, &c)) == I61_BER_OK) {
        if (c.id == 0x80 && state == 0) {
            if (i61_ber_get_bool(&c, &packed) != 0)
                goto bad;
            state = 1;
        } else if (c.id == 0x81 && state <= 1) {
            uint32_t n;
            if (i61_ber_get_uint32(&c, &n) != 0 || n > INT_MAX)
                goto bad;
            count = (int)n;
            have_count = true;
            state = 2;
        } else if (c.id == 0xa2 && state == 2) {
            rc = i61_ts_decode_explicit(&c, depth + 1, &elem);
            if (rc != 0)
                return rc;
            state = 3;
        } else {
            goto bad;
        }
    }
    if (rc != I61_BER_END || !have_count || !elem)
        goto bad;
    *out = i61_typespec_new_array(count, elem);
    if (!*out)
        return I61_ERR_UNKNOWN;
    (*out)->packed = packed;
    return 0;
bad:
    i61_typespec_free(elem);
    return TS_MALFORMED;
}

/* One component: SEQUENCE { componentName [0] Identifier OPTIONAL,
 * componentType [1] TypeSpecification }. */
static int i61_ts_decode_component(const i61_ber_tlv *seq, int depth, i61_typespec **out)
{
    i61_ber_reader r;
    i61_ber_tlv c, name = { 0 };
    bool have_name = false;
    int rc;
    *out = NULL;
    if (seq->id != 0x30)
        return TS_MALFORMED;
    i61_ber_reader_sub(&r, seq);
    if (i61_ber_next(&r, &c) != I61_BER_OK)
        return TS_MALFORMED;
    if (c.id == 0x80) {
        name = c;
        have_name = true;
        if (i61_ber_next(&r, &c) != I61_BER_OK)
            return TS_MALFORMED;
    }
    if (c.id != 0xa1)
        return TS_MALFORMED;
    rc = i61_ts_decode_explicit(&c, depth, out);
    if (rc != 0)
        return rc;
    if (i61_ber_next(&r, &c) != I61_BER_END) {
        rc = TS_MALFORMED;
        goto fail;
    }
    if (have_name) {
        if (memchr(name.val, 0, name.len)) {   /* an Identifier never holds NUL */
            rc = TS_MALFORMED;
            goto fail;
        }
        (*out)->name = malloc(name.len + 1);
        if (!(*out)->name) {
            rc = I61_ERR_UNKNOWN;
            goto fail;
        }
        if (name.len)
            memcpy((*out)->name, name.val, name.len);
        (*out)->name[name.len] = '\0';
    }
    return 0;
fail:
    i61_typespec_free(*out);
    *out = NULL;
    return rc;
}

static int i61_ts_decode_structure(const i61_ber_tlv *t, int depth, i61_typespec **out)
{
    i61_ber_reader r, lr;
    i61_ber_tlv c, comps = { 0 }, e;
    bool packed = false, have_comps = false;
    int rc, state = 0;
    i61_ber_reader_sub(&r, t);
    while ((rc = i61_ber_next(&r, &c)) == I61_BER_OK) {
        if (c.id == 0x80 && state == 0) {
            if (i61_ber_get_bool(&c, &packed) != 0)
                return TS_MALFORMED;
            state = 1;
        } else if (c.id == 0xa1 && state <= 1) {
            comps = c;
            have_comps = true;
            state = 2;
        } else {
            return TS_MALFORMED;
        }
    }
    if (rc != I61_BER_END || !have_comps)
        return TS_MALFORMED;

    /* count first, then decode into a structure of the right size */
    size_t n = 0;
    i61_ber_reader_sub(&lr, &comps);
    while ((rc = i61_ber_next(&lr, &e)) == I61_BER_OK)
        n++;
    if (rc != I61_BER_END)
        return TS_MALFORMED;
    i61_typespec *s = i61_typespec_new_structure(n);
    if (!s)
        return I61_ERR_UNKNOWN;
    s->packed = packed;
    i61_ber_reader_sub(&lr, &comps);
    for (size_t i = 0; i < n; i++) {
        if (i61_ber_next(&lr, &e) != I61_BER_OK) {
            i61_typespec_free(s);
            return TS_MALFORMED;
        }
        rc = i61_ts_decode_component(&e, depth + 1, &s->children[i]);
        if (rc != 0) {
            i61_typespec_free(s);
            return rc;
        }
    }
    *out = s;
    return 0;
}

int i61_mms_typespec_decode(const i61_ber_tlv *t, int depth, i61_typespec **out)
{
    if (!t || !out)
        return I61_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (depth < 0 || depth > I61_MMS_MAX_NESTING)
        return TS_MALFORMED;
    if (t->cls != 2)
        return TS_MALFORMED;

    int kind, size = 0, rc;
    switch (t->id) {
    case 0x80:
    case 0xa0:
        return I61_ERR_TYPE_UNSUPPORTED;      /* typeName: named types are not resolved */
    case 0x88:
    case 0xa8:
        return I61_ERR_TYPE_UNSUPPORTED;      /* ASN.1 REAL is not used by IEC 61850 */
    case 0xa1:
        return i61_ts_decode_array(t, depth, out);
    case 0xa2:
        return i61_ts_decode_structure(t, depth, out);
    case 0x83:
        kind = I61_TYPE_BOOLEAN;
        if (t->len != 0)
            return TS_MALFORMED;
        break;
    case 0x84:
        kind = I61_TYPE_BIT_STRING;
        if ((rc = i61_ts_get_i32(t, &size)) != 0)
            return rc;
        break;
    case 0x85:
        kind = I61_TYPE_INTEGER;
        if ((rc = i61_ts_get_u8(t, &size)) != 0)
            return rc;
        break;
    case 0x86:
        kind = I61_TYPE_UNSIGNED;
        if ((rc = i61_ts_get_u8(t, &size)) != 0)
            return rc;
        break;
    case 0xa7: {
        i61_ber_reader r;
        i61_ber_tlv a, b, x;
        int fw, ew;
        i61_ber_reader_sub(&r, t);
        if (i61_ber_next(&r, &a) != I61_BER_OK || a.id != 0x02 || i61_ts_get_u8(&a, &fw) != 0 ||
            i61_ber_next(&r, &b) != I61_BER_OK || b.id != 0x02 || i61_ts_get_u8(&b, &ew) != 0 ||
            i61_ber_next(&r, &x) != I61_BER_END)
            return TS_MALFORMED;
        if (fw == 0 || ew == 0 || ew >= fw)
            return TS_MALFORMED;
        i61_typespec *f = i61_ts_alloc(I61_TYPE_FLOAT, 0);
        if (!f)
            return I61_ERR_UNKNOWN;
        f->size = fw;
        f->exp_width = ew;
        *out = f;
        return 0;
    }
    case 0x89:
        kind = I61_TYPE_OCTET_STRING;
        if ((rc = i61_ts_get_i32(t, &size)) != 0)
            return rc;
        break;
    case 0x8a:
        kind = I61_TYPE_VISIBLE_STRING;
        if ((rc = i61_ts_get_i32(t, &size)) != 0)
            return rc;
        break;
    case 0x8b:
        kind = I61_TYPE_GENERALIZED_TIME;
        if (t->len != 0)
            return TS_MALFORMED;
        break;
    case 0x8c: {
        bool with_date;
        kind = I61_TYPE_BINARY_TIME;
        if (i61_ber_get_bool(t, &with_date) != 0)
            return TS_MALFORMED;
        size = with_date ? 6 : 4;
        break;
    }
    case 0x8d:
        kind = I61_TYPE_BCD;
        if ((rc = i61_ts_get_u8(t, &size)) != 0)
            return rc;
        break;
    case 0x8f:
        kind = I61_TYPE_OBJ_ID;
        if (t->len != 0)
            return TS_MALFORMED;
        break;
    case 0x90:
        kind = I61_TYPE_STRING;
        if ((rc = i61_ts_get_i32(t, &size)) != 0)
            return rc;
        break;
    case 0x91:
        kind = I61_TYPE_UTC_TIME;
        if (t->len != 0)
            return TS_MALFORMED;
        break;
    default:
        return TS_MALFORMED;
    }
    i61_typespec *r = i61_ts_alloc(kind, 0);
    if (!r)
        return I61_ERR_UNKNOWN;
    r->size = size;
    *out = r;
    return 0;
}

/* ------------------------------------------------------------------ encode */

static int i61_ts_encode_at(i61_buf *b, const i61_typespec *t, int depth)
{
    if (!t || depth > I61_MMS_MAX_NESTING)
        return I61_ERR_INVALID_ARGUMENT;
    switch (t->kind) {
    case I61_TYPE_ARRAY: {
        if (t->n != 1 || !t->children[0] || t->size < 0)
            return I61_ERR_INVALID_ARGUMENT;
        size_t m = i61_ber_open(b, 0xa1);
        if (t->packed)
            i61_ber_put_bool(b, 0x80, true);
        i61_ber_put_uint64(b, 0x81, (uint64_t)t->size);
        size_t e = i61_ber_open(b, 0xa2);
        int rc = i61_ts_encode_at(b, t->children[0], depth + 1);
        if (rc != 0)
            return rc;
        i61_ber_close(b, e);
        i61_ber_close(b, m);
        return 0;
    }
    case I61_TYPE_STRUCTURE: {
        size_t m = i61_ber_open(b, 0xa2);
        if (t->packed)
            i61_ber_put_bool(b, 0x80, true);
        size_t l = i61_ber_open(b, 0xa1);
        for (size_t i = 0; i < t->n; i++) {
            const i61_typespec *c = t->children[i];
            if (!c)
                return I61_ERR_INVALID_ARGUMENT;
            size_t s = i61_ber_open(b, 0x30);
            if (c->name)
                i61_ber_put_str(b, 0x80, c->name);
            size_t ct = i61_ber_open(b, 0xa1);
            int rc = i61_ts_encode_at(b, c, depth + 1);
            if (rc != 0)
                return rc;
            i61_ber_close(b, ct);
            i61_ber_close(b, s);
        }
        i61_ber_close(b, l);
        i61_ber_close(b, m);
        return 0;
    }
    case I61_TYPE_BOOLEAN:
        i61_ber_put_null(b, 0x83);
        return 0;
    case I61_TYPE_BIT_STRING:
        i61_ber_put_int64(b, 0x84, t->size);
        return 0;
    case I61_TYPE_INTEGER:
        i61_ber_put_int64(b, 0x85, t->size);
        return 0;
    case I61_TYPE_UNSIGNED:
        i61_ber_put_int64(b, 0x86, t->size);
        return 0;
    case I61_TYPE_FLOAT: {
        size_t m = i61_ber_open(b, 0xa7);
        i61_ber_put_int64(b, 0x02, t->size);
        i61_ber_put_int64(b, 0x02, t->exp_width);
        i61_ber_close(b, m);
        return 0;
    }
    case I61_TYPE_OCTET_STRING:
        i61_ber_put_int64(b, 0x89, t->size);
        return 0;
    case I61_TYPE_VISIBLE_STRING:
        i61_ber_put_int64(b, 0x8a, t->size);
        return 0;
    case I61_TYPE_GENERALIZED_TIME:
        i61_ber_put_null(b, 0x8b);
        return 0;
    case I61_TYPE_BINARY_TIME:
        i61_ber_put_bool(b, 0x8c, t->size == 6);
        return 0;
    case I61_TYPE_BCD:
        i61_ber_put_int64(b, 0x8d, t->size);
        return 0;
    case I61_TYPE_OBJ_ID:
        i61_ber_put_null(b, 0x8f);
        return 0;
    case I61_TYPE_STRING:
        i61_ber_put_int64(b, 0x90, t->size);
        return 0;
    case I61_TYPE_UTC_TIME:
        i61_ber_put_null(b, 0x91);
        return 0;
    default:
        return I61_ERR_INVALID_ARGUMENT;
    }
}

int i61_mms_typespec_encode(i61_buf *b, const i61_typespec *t)
{
    if (!b || !t)
        return I61_ERR_INVALID_ARGUMENT;
    size_t start = b->len;
    int rc = i61_ts_encode_at(b, t, 0);
    if (rc == 0 && b->oom)
        rc = I61_ERR_UNKNOWN;
    if (rc != 0 && !b->oom)
        b->len = start;                       /* no half-written element on failure */
    return rc;
}
