/* Internal layout of i61_value and i61_typespec (shared by value.c, typespec.c
 * and mms_data.c). Other layers use the public functions of i61.h and the
 * helpers declared at the end of this file. */
#ifndef I61_VALUE_INTERNAL_H
#define I61_VALUE_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "i61.h"

/* Depth beyond which i61_value_clone / i61_typespec encoders refuse a tree
 * (freeing works at any depth: it does not recurse). */
#define I61_VALUE_MAX_DEPTH 100

struct i61_value {
    int type;                 /* i61_type */
    int bits;                 /* INTEGER/UNSIGNED: 8/16/32/64; FLOAT: 32/64; BIT_STRING: bit count */
    i61_value *link;          /* scratch link for the non-recursive free */
    union {
        bool b;               /* BOOLEAN */
        int64_t i;            /* INTEGER, BCD */
        uint64_t u;           /* UNSIGNED */
        float f;              /* FLOAT, bits == 32 */
        double d;             /* FLOAT, bits == 64 */
        int dae;              /* DATA_ACCESS_ERROR */
        struct {              /* strings, bit strings, times, objId: len octets + a NUL */
            uint8_t *p;
            size_t len;
        } bytes;
        struct {              /* STRUCTURE, ARRAY: n owned slots, each may be NULL */
            i61_value **items;
            size_t n;
        } list;
    } u;
};

struct i61_typespec {
    int kind;                 /* i61_type numbering */
    int size;                 /* see i61_typespec_size; BINARY_TIME: 6 with date, 4 without */
    int exp_width;            /* FLOAT: exponent width (8 for 32, 11 for 64 normally) */
    bool packed;              /* ARRAY/STRUCTURE packed flag as received (encoded only when TRUE) */
    char *name;               /* component name when this is a structure component */
    i61_typespec *link;       /* scratch link for the non-recursive free */
    size_t n;                 /* STRUCTURE: components; ARRAY: 1 */
    i61_typespec **children;  /* owned, may hold NULL slots until set */
};

/* Allocation of a value with `type` and everything zero; NULL on OOM. */
i61_value *i61_value_alloc(int type);
/* Value owning a copy of len octets (plus a NUL); NULL on OOM. */
i61_value *i61_value_new_bytes(int type, const uint8_t *p, size_t len);
/* Integer/unsigned/float with an explicit bit size (as received on the wire or
 * from the type specification). NULL on a bad size or OOM. */
i61_value *i61_value_new_integer_sized(int64_t v, int bits);
i61_value *i61_value_new_unsigned_sized(uint64_t v, int bits);
/* Record the bit size of an integer/unsigned (8/16/32/64) value, e.g. from the
 * type specification. I61_ERR_TYPE_INCONSISTENT for other types,
 * I61_ERR_INVALID_ARGUMENT for another size or a value that does not fit. */
int i61_value_set_bit_size(i61_value *v, int bits);

#endif
