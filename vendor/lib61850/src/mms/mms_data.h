/* MMS Data and TypeSpecification codec (ISO 9506 / IEC 61850-8-1), pure functions over buffers.
 * The value and type-spec objects are the public i61_value / i61_typespec of i61.h. */
#ifndef I61_MMS_DATA_H
#define I61_MMS_DATA_H
#include "i61.h"
#include "../ber/ber.h"

#define I61_MMS_MAX_NESTING 20   /* structure/array depth accepted when decoding */

/* Encode one Data CHOICE element (tag included). 0, or I61_ERR_INVALID_ARGUMENT
 * for a value that has no Data encoding (NULL, an empty struct slot, a
 * DataAccessError). */
int i61_mms_data_encode(i61_buf *b, const i61_value *v);

/* Decode one Data element from a parsed TLV (its tag selects the CHOICE).
 * depth starts at 0. Returns 0 or I61_ERR_MALFORMED_MESSAGE. *out is new. */
int i61_mms_data_decode(const i61_ber_tlv *t, int depth, i61_value **out);

/* Decode one AccessResult (failure [0] DataAccessError -> I61_TYPE_DATA_ACCESS_ERROR
 * value, else Data). */
int i61_mms_access_result_decode(const i61_ber_tlv *t, int depth, i61_value **out);

/* Decode a TypeSpecification (the CHOICE element itself, tag included).
 * typeName [0] references are not resolved: I61_ERR_TYPE_UNSUPPORTED. */
int i61_mms_typespec_decode(const i61_ber_tlv *t, int depth, i61_typespec **out);

/* Encode a TypeSpecification (for the server side and tests). */
int i61_mms_typespec_encode(i61_buf *b, const i61_typespec *t);

/* Builders for type specs (server side, tests). Names are copied. */
i61_typespec *i61_typespec_new(int kind, int size);
i61_typespec *i61_typespec_new_structure(size_t n);
i61_typespec *i61_typespec_new_array(int count, i61_typespec *element);       /* takes ownership */
int i61_typespec_set_component(i61_typespec *s, size_t i, const char *name, i61_typespec *type); /* takes ownership */

#endif
