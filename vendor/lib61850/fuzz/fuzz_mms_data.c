/* libFuzzer target: MMS Data, AccessResult and TypeSpecification decoders.
 * The input is one TLV (trailing octets ignored). Every successful decode is
 * re-encoded; the re-encoding must decode again and re-encode to the same
 * octets. Everything is freed (leaks are reported by the sanitizer). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mms/mms_data.h"

static void i61_fz_check_value(const i61_value *v)
{
    i61_buf a, b;
    i61_buf_init(&a);
    i61_buf_init(&b);
    (void)i61_value_count(v);
    (void)i61_value_bit_size(v);
    if (i61_mms_data_encode(&a, v) == 0) {
        i61_ber_tlv t;
        size_t used;
        i61_value *w = NULL;
        if (i61_ber_parse(a.data, a.len, &t, &used) != 0 || used != a.len ||
            i61_mms_data_decode(&t, 0, &w) != 0 || i61_mms_data_encode(&b, w) != 0 ||
            b.len != a.len || memcmp(a.data, b.data, a.len) != 0)
            abort();
        i61_value *c = i61_value_clone(w);
        if (!c)
            abort();
        i61_value_free(c);
        i61_value_free(w);
    } else if (i61_value_type(v) != I61_TYPE_DATA_ACCESS_ERROR) {
        abort();                              /* anything decoded as Data must encode */
    }
    i61_buf_free(&a);
    i61_buf_free(&b);
}

static void i61_fz_check_typespec(const i61_typespec *ts)
{
    i61_buf a, b;
    i61_buf_init(&a);
    i61_buf_init(&b);
    if (i61_mms_typespec_encode(&a, ts) != 0)
        abort();
    i61_ber_tlv t;
    size_t used;
    i61_typespec *w = NULL;
    if (i61_ber_parse(a.data, a.len, &t, &used) != 0 || used != a.len ||
        i61_mms_typespec_decode(&t, 0, &w) != 0 || i61_mms_typespec_encode(&b, w) != 0 ||
        b.len != a.len || memcmp(a.data, b.data, a.len) != 0)
        abort();
    i61_typespec_free(w);
    i61_buf_free(&a);
    i61_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    i61_ber_tlv t;
    size_t used;
    if (i61_ber_parse(data, size, &t, &used) != I61_BER_OK)
        return 0;

    i61_value *v = (i61_value *)&t;
    int rc = i61_mms_data_decode(&t, 0, &v);
    if ((rc == 0) != (v != NULL))
        abort();
    if (v) {
        i61_fz_check_value(v);
        i61_value_free(v);
    }

    v = (i61_value *)&t;
    rc = i61_mms_access_result_decode(&t, 0, &v);
    if ((rc == 0) != (v != NULL))
        abort();
    if (v) {
        i61_fz_check_value(v);
        i61_value_free(v);
    }

    i61_typespec *ts = (i61_typespec *)&t;
    rc = i61_mms_typespec_decode(&t, 0, &ts);
    if ((rc == 0) != (ts != NULL))
        abort();
    if (ts) {
        i61_fz_check_typespec(ts);
        i61_typespec_free(ts);
    }
    return 0;
}
