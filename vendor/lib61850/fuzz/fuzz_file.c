/* libFuzzer target: the file services codec (mms/mms_file.h) and the client's
 * answers to a server's file requests.
 *
 * Input: one MMS PDU, or a whole golden TPKT frame (03 00 ...), whose MMS PDU
 * is used, so the golden frames 108-129 seed this target directly.
 *
 *  - The PDU goes through every response decoder; a FileDirectory or
 *    FileOpen response that decodes (with values the encoders accept) is
 *    encoded again and must decode to the same content; a FileRead response
 *    likewise.
 *  - As a request: a file-service request that decodes is encoded again
 *    from its fields (client-side encoders) and must decode to the same
 *    fields.
 *  - A GeneralizedTime text that parses and prints must parse back to the
 *    same instant.
 *  - The PDU is fed to a client's indication handler as the I/O thread
 *    would (no upload running, no connection: answers are refused or not
 *    sent, nothing may crash or leak). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_internal.h"
#include "mms/mms_file.h"
#include "mms/mms_pdu.h"

static int i61_fz_unwrap(const uint8_t **p, size_t *len)
{
    const uint8_t *d = *p;
    size_t n = *len;
    if (n < 8 || d[0] != 0x03 || d[1] != 0x00)
        return 0;
    size_t pos = 4 + 1 + (size_t)d[4] + 4;
    if (pos >= n)
        return -1;
    i61_ber_tlv t, c;
    i61_ber_reader r;
    if (i61_ber_parse(d + pos, n - pos, &t, NULL) != I61_BER_OK || t.id != 0x61)
        return -1;
    i61_ber_reader_sub(&r, &t);
    if (i61_ber_next(&r, &t) != I61_BER_OK || t.id != 0x30)
        return -1;
    i61_ber_reader_sub(&r, &t);
    if (i61_ber_next(&r, &c) != I61_BER_OK || c.id != 0x02)
        return -1;
    if (i61_ber_next(&r, &c) != I61_BER_OK || c.id != 0xa0)
        return -1;
    *p = c.val;
    *len = c.len;
    return 0;
}

static void i61_fz_directory(const uint8_t *p, size_t n)
{
    i61_mms_file_dir d;
    i61_mms_file_dir_init(&d);
    bool more = false;
    i61_mms_error e;
    if (i61_mms_dec_file_directory_resp(p, n, &d, &more, &e) != I61_OK) {
        if (d.count != 0)
            abort();
        i61_mms_file_dir_clear(&d);      /* the array may have grown */
        return;
    }
    /* names with NUL octets or sizes above 2^32 - 1 cannot be encoded as is */
    bool encodable = true;
    for (size_t i = 0; i < d.count; i++) {
        if (strlen(d.items[i].name) != d.items[i].name_len || d.items[i].size > UINT32_MAX
            || i61_mms_file_entry_encoded_size(&d.items[i]) == 0)
            encodable = false;
    }
    if (encodable) {
        i61_buf b;
        i61_buf_init(&b);
        if (i61_mms_enc_file_directory_resp(&b, 1, d.items, d.count, more) != I61_OK)
            abort();
        i61_mms_file_dir d2;
        i61_mms_file_dir_init(&d2);
        bool more2 = !more;
        if (i61_mms_dec_file_directory_resp(b.data, b.len, &d2, &more2, NULL) != I61_OK
            || d2.count != d.count || more2 != more)
            abort();
        for (size_t i = 0; i < d.count; i++) {
            /* a multi-part FileName comes back as one part with the same text */
            if (strcmp(d.items[i].name, d2.items[i].name) != 0 || d.items[i].size != d2.items[i].size
                || d.items[i].mtime_ms != d2.items[i].mtime_ms)
                abort();
        }
        i61_mms_file_dir_clear(&d2);
        i61_buf_free(&b);
    }
    i61_mms_file_dir_clear(&d);
}

static void i61_fz_open_read(const uint8_t *p, size_t n)
{
    int32_t frsm;
    uint64_t size;
    int64_t mt;
    char tt[I61_MMS_GTIME_TEXT];
    if (i61_mms_dec_file_open_resp(p, n, &frsm, &size, &mt, NULL) == I61_OK && size <= UINT32_MAX
        && (mt == -1 || i61_mms_gtime_from_ms(mt, tt) != 0)) {
        i61_buf b;
        i61_buf_init(&b);
        int32_t f2;
        uint64_t s2;
        int64_t m2;
        if (i61_mms_enc_file_open_resp(&b, 7, frsm, size, mt) != I61_OK
            || i61_mms_dec_file_open_resp(b.data, b.len, &f2, &s2, &m2, NULL) != I61_OK
            || f2 != frsm || s2 != size || m2 != mt)
            abort();
        i61_buf_free(&b);
    }
    const uint8_t *data;
    size_t dl;
    bool more;
    if (i61_mms_dec_file_read_resp(p, n, &data, &dl, &more, NULL) == I61_OK) {
        if (dl > n || (dl && (data < p || data + dl > p + n)))
            abort();
        i61_buf b;
        i61_buf_init(&b);
        const uint8_t *d2;
        size_t l2;
        bool m2;
        if (i61_mms_enc_file_read_resp(&b, 7, data, dl, more) != I61_OK
            || i61_mms_dec_file_read_resp(b.data, b.len, &d2, &l2, &m2, NULL) != I61_OK
            || l2 != dl || m2 != more || (dl && memcmp(d2, data, dl) != 0))
            abort();
        i61_buf_free(&b);
    }
    static const int nulls[] = { I61_MMS_SVC_FILE_CLOSE, I61_MMS_SVC_FILE_RENAME,
                                 I61_MMS_SVC_FILE_DELETE, I61_MMS_SVC_OBTAIN_FILE };
    for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
        (void)i61_mms_dec_file_null_resp(p, n, nulls[i], NULL);
}

static bool i61_fz_plain(const char *s, size_t len)
{
    return s && strlen(s) == len && len > 0;
}

static void i61_fz_same_req(const i61_mms_file_req *a, const i61_mms_file_req *b)
{
    if (a->service != b->service || a->has_name != b->has_name || a->has_name2 != b->has_name2
        || (a->has_name && strcmp(a->name, b->name) != 0)
        || (a->has_name2 && strcmp(a->name2, b->name2) != 0)
        || a->initial_position != b->initial_position || a->frsm_id != b->frsm_id)
        abort();
}

static void i61_fz_request(const uint8_t *p, size_t n)
{
    i61_mms_request rq;
    if (i61_mms_dec_request(p, n, &rq) != I61_OK)
        return;
    i61_mms_file_req fr;
    if (i61_mms_dec_file_req(&rq, &fr) != I61_OK) {
        if (fr.name || fr.name2)
            abort();
        i61_mms_file_req_clear(&fr);
        return;
    }
    i61_buf b;
    i61_buf_init(&b);
    int rc = -1;
    bool n1 = fr.has_name && i61_fz_plain(fr.name, fr.name_len);
    bool n2 = fr.has_name2 && i61_fz_plain(fr.name2, fr.name2_len);
    switch (fr.service) {
    case I61_MMS_SVC_FILE_DIRECTORY:
        if ((!fr.has_name || n1) && (!fr.has_name2 || n2))
            rc = i61_mms_enc_file_directory_req(&b, rq.invoke_id, fr.has_name ? fr.name : NULL,
                                                fr.has_name2 ? fr.name2 : NULL);
        break;
    case I61_MMS_SVC_FILE_OPEN:
        if (n1)
            rc = i61_mms_enc_file_open_req(&b, rq.invoke_id, fr.name, fr.initial_position);
        break;
    case I61_MMS_SVC_FILE_READ:
        rc = i61_mms_enc_file_read_req(&b, rq.invoke_id, fr.frsm_id);
        break;
    case I61_MMS_SVC_FILE_CLOSE:
        rc = i61_mms_enc_file_close_req(&b, rq.invoke_id, fr.frsm_id);
        break;
    case I61_MMS_SVC_FILE_RENAME:
        if (n1 && n2)
            rc = i61_mms_enc_file_rename_req(&b, rq.invoke_id, fr.name, fr.name2);
        break;
    case I61_MMS_SVC_FILE_DELETE:
        if (n1)
            rc = i61_mms_enc_file_delete_req(&b, rq.invoke_id, fr.name);
        break;
    case I61_MMS_SVC_OBTAIN_FILE:
        if (n1 && n2)
            rc = i61_mms_enc_obtain_file_req(&b, rq.invoke_id, fr.name, fr.name2);
        fr.has_source_server = false;
        break;
    default:
        abort();
    }
    if (rc == I61_OK) {
        i61_mms_request rq2;
        i61_mms_file_req fr2;
        if (i61_mms_dec_request(b.data, b.len, &rq2) != I61_OK || rq2.invoke_id != rq.invoke_id
            || i61_mms_dec_file_req(&rq2, &fr2) != I61_OK)
            abort();
        i61_fz_same_req(&fr, &fr2);
        i61_mms_file_req_clear(&fr2);
    }
    i61_buf_free(&b);
    i61_mms_file_req_clear(&fr);
}

static void i61_fz_gtime(const uint8_t *p, size_t n)
{
    int64_t ms;
    if (n > 40)
        n = 40;
    if (i61_mms_gtime_to_ms((const char *)p, n, &ms) != I61_OK)
        return;
    char t[I61_MMS_GTIME_TEXT];
    if (i61_mms_gtime_from_ms(ms, t) == 0)
        return;
    int64_t back;
    if (i61_mms_gtime_to_ms(t, strlen(t), &back) != I61_OK || back != ms)
        abort();
}

static i61_client *i61_fz_client;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data;
    size_t n = size;
    if (i61_fz_unwrap(&p, &n) != 0)
        return 0;
    i61_fz_directory(p, n);
    i61_fz_open_read(p, n);
    i61_fz_request(p, n);
    i61_fz_gtime(data, size);
    if (!i61_fz_client)
        i61_fz_client = i61_client_new();
    if (i61_fz_client)
        i61_client_on_indication(i61_fz_client, p, n);
    return 0;
}
