/* MMS file services codec: see mms_file.h for the contract and the wire shapes
 * (PROTOCOL.md sections 8 and 14, goldens 108-129). */
#include "mms_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MALFORMED I61_ERR_MALFORMED_MESSAGE

/* Identifier octets of a context tag below 128 on a confirmed service. */
#define SVC_PRIM(tag) ((i61_ber_id)(0x9f00u | (uint32_t)(tag)))
#define SVC_CONS(tag) ((i61_ber_id)(0xbf00u | (uint32_t)(tag)))

/* ================================================================ helpers */

static int enc_done(i61_buf *b, size_t start, int rc)
{
    if (b->oom) {
        b->len = start;
        return I61_ERR_UNKNOWN;
    }
    if (rc != I61_OK) {
        b->len = start;
        return rc;
    }
    return I61_OK;
}

static int parse_whole(const uint8_t *p, size_t len, i61_ber_tlv *t)
{
    size_t used = 0;
    if (!p || i61_ber_parse(p, len, t, &used) != I61_BER_OK || used != len)
        return MALFORMED;
    return I61_OK;
}

static int need_next(i61_ber_reader *r, i61_ber_tlv *t)
{
    return i61_ber_next(r, t) == I61_BER_OK ? I61_OK : MALFORMED;
}

/* Next TLV if there is one: 1 (got it), 0 (end), -1 (malformed). */
static int maybe_next(i61_ber_reader *r, i61_ber_tlv *t)
{
    int k = i61_ber_next(r, t);
    if (k == I61_BER_OK)
        return 1;
    if (k == I61_BER_END)
        return 0;
    return -1;
}

static int at_end(i61_ber_reader *r)
{
    i61_ber_tlv t;
    return i61_ber_next(r, &t) == I61_BER_END ? I61_OK : MALFORMED;
}

static size_t open_request(i61_buf *b, uint32_t invoke_id)
{
    size_t m = i61_ber_open(b, 0xa0);
    i61_ber_put_uint64(b, 0x02, invoke_id);
    return m;
}

static size_t open_response(i61_buf *b, uint32_t invoke_id)
{
    size_t m = i61_ber_open(b, 0xa1);
    i61_ber_put_uint64(b, 0x02, invoke_id);
    return m;
}

/* FileName with tag `id`: one GraphicString holding the whole name. */
static void put_file_name(i61_buf *b, i61_ber_id id, const char *name)
{
    size_t m = i61_ber_open(b, id);
    i61_ber_put_str(b, 0x19, name);
    i61_ber_close(b, m);
}

static bool is_string_tag(const i61_ber_tlv *t)
{
    /* GraphicString (19); VisibleString (1a) and UTF8String (0c) tolerated. */
    return !t->constructed && (t->id == 0x19 || t->id == 0x1a || t->id == 0x0c);
}

/* The content of a FileName (the TLV t holding the GraphicStrings) -> a
 * malloc'ed copy joined with '/'. MALFORMED, or I61_ERR_UNKNOWN (memory). */
static int dec_file_name(const i61_ber_tlv *t, char **out, size_t *out_len)
{
    i61_ber_reader r;
    i61_ber_tlv s;
    size_t total = 0, parts = 0;
    if (!t->constructed)
        return MALFORMED;
    i61_ber_reader_sub(&r, t);
    for (;;) {
        int k = maybe_next(&r, &s);
        if (k < 0)
            return MALFORMED;
        if (k == 0)
            break;
        if (!is_string_tag(&s))
            return MALFORMED;
        total += s.len + (parts ? 1 : 0);     /* bounded by t->len */
        parts++;
    }
    char *name = malloc(total + 1);
    if (!name)
        return I61_ERR_UNKNOWN;
    size_t pos = 0;
    parts = 0;
    i61_ber_reader_sub(&r, t);
    while (maybe_next(&r, &s) == 1) {
        if (parts++)
            name[pos++] = '/';
        if (s.len)
            memcpy(name + pos, s.val, s.len);
        pos += s.len;
    }
    name[pos] = '\0';
    *out = name;
    *out_len = pos;
    return I61_OK;
}

/* ServiceError content -> class/code (well-formedness of the optional parts
 * is checked, their content ignored). */
static int dec_service_error(const i61_ber_tlv *se, i61_mms_error *e)
{
    i61_ber_reader r, rc;
    i61_ber_tlv cls, v;
    int32_t code;
    i61_ber_reader_sub(&r, se);
    if (need_next(&r, &cls) != I61_OK || cls.id != 0xa0)
        return MALFORMED;
    i61_ber_reader_sub(&rc, &cls);
    if (need_next(&rc, &v) != I61_OK || v.cls != 2 || v.constructed || v.tag > 12
        || at_end(&rc) != I61_OK || i61_ber_get_int32(&v, &code) != 0)
        return MALFORMED;
    e->cls = (int)v.tag;
    e->code = (int)code;
    for (;;) {
        int k = maybe_next(&r, &v);
        if (k < 0)
            return MALFORMED;
        if (k == 0)
            break;
    }
    return I61_OK;
}

/* Response envelope: a confirmed-Response whose service element is [svc]
 * (constructed or primitive as asked) -> *body; a confirmed-ErrorPDU or a
 * RejectPDU -> the i61_err it maps to (and *err). */
static int dec_response(const uint8_t *pdu, size_t len, int svc, bool constructed,
                        i61_ber_tlv *body, i61_mms_error *err)
{
    i61_mms_error tmp;
    i61_mms_error *e = err ? err : &tmp;
    i61_ber_tlv t, c;
    i61_ber_reader r;
    uint32_t id;
    e->kind = 0;
    e->cls = 0;
    e->code = 0;
    if (parse_whole(pdu, len, &t) != I61_OK)
        return MALFORMED;
    i61_ber_reader_sub(&r, &t);
    switch (t.id) {
    case 0xa1:
        if (need_next(&r, &c) != I61_OK || c.id != 0x02 || c.constructed
            || i61_ber_get_uint32(&c, &id) != 0)
            return MALFORMED;
        if (need_next(&r, body) != I61_OK || body->cls != 2 || body->tag != (uint32_t)svc
            || body->constructed != constructed)
            return MALFORMED;
        return at_end(&r);
    case 0xa2: {
        if (need_next(&r, &c) != I61_OK || c.id != 0x80 || i61_ber_get_uint32(&c, &id) != 0)
            return MALFORMED;
        if (need_next(&r, &c) != I61_OK)
            return MALFORMED;
        if (c.id == 0x81 && need_next(&r, &c) != I61_OK)       /* modifierPosition */
            return MALFORMED;
        if (c.id != 0xa2 || dec_service_error(&c, e) != I61_OK || at_end(&r) != I61_OK)
            return MALFORMED;
        e->kind = I61_MMS_KIND_ERROR;
        return i61_mms_service_error_to_err(e->cls, e->code);
    }
    case 0xa4: {
        int32_t code;
        if (need_next(&r, &c) != I61_OK)
            return MALFORMED;
        if (c.id == 0x80 && (i61_ber_get_uint32(&c, &id) != 0 || need_next(&r, &c) != I61_OK))
            return MALFORMED;
        if (c.cls != 2 || c.constructed || c.tag < 1 || c.tag > 11
            || i61_ber_get_int32(&c, &code) != 0 || at_end(&r) != I61_OK)
            return MALFORMED;
        e->kind = I61_MMS_KIND_REJECT;
        e->cls = (int)c.tag;
        e->code = (int)code;
        return i61_mms_reject_to_err(e->cls, e->code);
    }
    default:
        return MALFORMED;
    }
}

/* ================================================================ time */

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_date(int64_t y, int m, int d)
{
    /* Count years from March so that the leap day is the last day of a year. */
    if (m <= 2)
        y -= 1;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                   /* 0..399 */
    int64_t mp = m > 2 ? m - 3 : m + 9;                            /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + d - 1;                      /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* 0..146096 */
    return era * 146097 + doe - 719468;
}

static void date_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2 ? 1 : 0);
}

static bool digits(const char *p, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

static int days_in_month(int64_t y, int m)
{
    static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

int i61_mms_gtime_to_ms(const char *text, size_t len, int64_t *ms)
{
    int y, mo, d, h, mi = 0, s = 0;
    size_t p = 0;
    if (!text || !ms || len < 10)
        return MALFORMED;
    if (!digits(text, 4, &y) || !digits(text + 4, 2, &mo) || !digits(text + 6, 2, &d)
        || !digits(text + 8, 2, &h))
        return MALFORMED;
    p = 10;
    if (p + 2 <= len && text[p] >= '0' && text[p] <= '9') {
        if (!digits(text + p, 2, &mi))
            return MALFORMED;
        p += 2;
        if (p + 2 <= len && text[p] >= '0' && text[p] <= '9') {
            if (!digits(text + p, 2, &s))
                return MALFORMED;
            p += 2;
        }
    }
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60)
        return MALFORMED;
    int64_t frac_ms = 0;
    if (p < len && (text[p] == '.' || text[p] == ',')) {
        p++;
        size_t nd = 0;
        int64_t scale = 100;
        while (p < len && text[p] >= '0' && text[p] <= '9') {
            if (nd < 3) {
                frac_ms += (text[p] - '0') * scale;
                scale /= 10;
            }
            nd++;
            p++;
        }
        if (nd == 0)
            return MALFORMED;
    }
    int64_t offset_min = 0;
    if (p < len) {
        if (text[p] == 'Z') {
            p++;
        } else if (text[p] == '+' || text[p] == '-') {
            int oh, om = 0;
            int sign = text[p] == '+' ? 1 : -1;
            p++;
            if (p + 2 > len || !digits(text + p, 2, &oh))
                return MALFORMED;
            p += 2;
            if (p + 2 <= len) {
                if (!digits(text + p, 2, &om))
                    return MALFORMED;
                p += 2;
            }
            if (oh > 23 || om > 59)
                return MALFORMED;
            offset_min = sign * (oh * 60 + om);
        }
    }
    if (p != len)
        return MALFORMED;
    int64_t days = days_from_date(y, mo, d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + s - offset_min * 60;
    *ms = secs * 1000 + frac_ms;
    return I61_OK;
}

/* 0000-01-01 .. 9999-12-31 23:59:59.999 in ms since 1970. */
#define GTIME_MIN_MS (-62167219200000LL)
#define GTIME_MAX_MS (253402300799999LL)

size_t i61_mms_gtime_from_ms(int64_t ms, char out[I61_MMS_GTIME_TEXT])
{
    if (!out || ms < GTIME_MIN_MS || ms > GTIME_MAX_MS)
        return 0;
    int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    int frac = (int)(ms - secs * 1000);
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t sod = secs - days * 86400;
    int64_t y;
    int m, d;
    date_from_days(days, &y, &m, &d);
    int n = snprintf(out, I61_MMS_GTIME_TEXT, "%04d%02d%02d%02d%02d%02d.%03dZ", (int)y, m, d,
                     (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), frac);
    return n == 19 ? 19u : 0u;
}

/* ================================================================ entries */

void i61_mms_file_dir_init(i61_mms_file_dir *d)
{
    d->items = NULL;
    d->count = 0;
    d->cap = 0;
}

void i61_mms_file_dir_clear(i61_mms_file_dir *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->count; i++)
        free(d->items[i].name);
    free(d->items);
    i61_mms_file_dir_init(d);
}

/* Octets of a TLV with `content` octets of content and a 1-octet identifier. */
static size_t tlv_size(size_t idlen, size_t content)
{
    size_t l = 1;
    if (content >= 0x80) {
        for (size_t v = content; v; v >>= 8)
            l++;
    }
    return idlen + l + content;
}

static size_t uint_size(uint64_t v)
{
    size_t n = 1;
    while (n < 8 && v >> (8 * n))
        n++;
    if ((v >> (8 * n - 1)) & 1)       /* top bit set: leading 00 */
        n++;
    return n;
}

static size_t attrs_content_size(uint64_t size, int64_t mtime_ms)
{
    size_t n = tlv_size(1, uint_size(size));
    if (mtime_ms != -1) {
        char t[I61_MMS_GTIME_TEXT];
        size_t tl = i61_mms_gtime_from_ms(mtime_ms, t);
        if (!tl)
            return 0;
        n += tlv_size(1, tl);
    }
    return n;
}

size_t i61_mms_file_entry_encoded_size(const i61_mms_file_entry *e)
{
    if (!e || !e->name || e->size > UINT32_MAX)
        return 0;
    size_t a = attrs_content_size(e->size, e->mtime_ms);
    if (!a)
        return 0;
    size_t content = tlv_size(1, tlv_size(1, strlen(e->name))) + tlv_size(1, a);
    return tlv_size(1, content);
}

size_t i61_mms_file_dir_resp_size(uint32_t invoke_id, size_t entries_octets)
{
    size_t list = tlv_size(1, tlv_size(1, entries_octets));       /* a0 { 30 { ... } } */
    size_t body = tlv_size(2, list + 3);                           /* + 81 01 01 */
    size_t env = tlv_size(1, tlv_size(1, uint_size(invoke_id)) + body);
    return env;
}

size_t i61_mms_file_read_max_data(uint32_t max_pdu)
{
    /* a1 L(<=5) 02 L invokeID(<=5) bf 49 L(<=5) 80 L(<=5) data 81 01 xx */
    const size_t overhead = (1 + 5) + (2 + 5) + (2 + 5) + (1 + 5) + 3;
    if (max_pdu <= overhead)
        return 0;
    return (size_t)max_pdu - overhead;
}

/* ================================================= client: requests out */

static bool name_ok(const char *s)
{
    return s && *s;
}

int i61_mms_enc_file_directory_req(i61_buf *b, uint32_t invoke_id, const char *spec,
                                   const char *continue_after)
{
    if (!b)
        return I61_ERR_INVALID_ARGUMENT;
    size_t start = b->len;
    size_t m = open_request(b, invoke_id);
    size_t s = i61_ber_open(b, SVC_CONS(I61_MMS_SVC_FILE_DIRECTORY));
    if (spec)
        put_file_name(b, 0xa0, spec);
    if (continue_after)
        put_file_name(b, 0xa1, continue_after);
    i61_ber_close(b, s);
    i61_ber_close(b, m);
    return enc_done(b, start, I61_OK);
}

int i61_mms_enc_file_open_req(i61_buf *b, uint32_t invoke_id, const char *name,
                              uint32_t initial_position)
{
    if (!b || !name_ok(name))
        return I61_ERR_INVALID_ARGUMENT;
    size_t start = b->len;
    size_t m = open_request(b, invoke_id);
    size_t s = i61_ber_open(b, SVC_CONS(I61_MMS_SVC_FILE_OPEN));
    put_file_name(b, 0xa0, name);
    i61_ber_put_uint64(b, 0x81, initial_position);
    i61_ber_close(b, s);
    i61_ber_close(b, m);
    return enc_done(b, start, I61_OK);
}

static int enc_frsm_req(i61_buf *b, uint32_t invoke_id, int svc, int32_t frsm_id)
{
    if (!b)
        return I61_ERR_INVALID_ARGUMENT;
    size_t start = b->len;
    size_t m = open_request(b, invoke_id);
    i61_ber_put_int64(b, SVC_PRIM(svc), frsm_id);
    i61_ber_close(b, m);
    return enc_done(b, start, I61_OK);
}

int i61_mms_enc_file_read_req(i61_buf *b, uint32_t invoke_id, int32_t frsm_id)
{
    return enc_frsm_req(b, invoke_id, I61_MMS_SVC_FILE_READ, frsm_id);
}

int i61_mms_enc_file_close_req(i61_buf *b, uint32_t invoke_id, int32_t frsm_id)
{
    return enc_frsm_req(b, invoke_id, I61_MMS_SVC_FILE_CLOSE, frsm_id);
}

int i61_mms_enc_file_rename_req(i61_buf *b, uint32_t invoke_id, const char *current,
                                const char *new_name)
{
    if (!b || !name_ok(current) || !name_ok(new_name))
        return I61_ERR_INVALID_ARGUMENT;
    size_t start = b->len;
    size_t m = open_request(b, invoke_id);
    size_t s = i61_ber_open(b, SVC_CONS(I61_MMS_SVC_FILE_RENAME));
    put_file_name(b, 0xa0, current);
    put_file_name(b, 0xa1, new_name);
    i61_ber_close(b, s);
    i61_ber_close(b, m);
    return enc_done(b, start, I61_OK);
}

int i61_mms_enc_file_delete_req(i61_buf *b, uint32_t invoke_id, const char *name)
{
    if (!b || !name_ok(name))
        return I61_ERR_INVALID_ARGUMENT;
    size_t start = b->len;
    size_t m = open_request(b, invoke_id);
    put_file_name(b, SVC_CONS(I61_MMS_SVC_FILE_DELETE), name);
    i61_ber_close(b, m);
    return enc_done(b, start, I61_OK);
}

int i61_mms_enc_obtain_file_req(i61_buf *b, uint32_t invoke_id, const char *source,
                                const char *destination)
{
    if (!b || !name_ok(source) || !name_ok(destination))
        return I61_ERR_INVALID_ARGUMENT;
    size_t start = b->len;
    size_t m = open_request(b, invoke_id);
    size_t s = i61_ber_open(b, SVC_CONS(I61_MMS_SVC_OBTAIN_FILE));
    put_file_name(b, 0xa1, source);
    put_file_name(b, 0xa2, destination);
    i61_ber_close(b, s);
    i61_ber_close(b, m);
    return enc_done(b, start, I61_OK);
}

/* ================================================ client: responses in */

/* FileAttributes content: 80 sizeOfFile, [81 lastModified]. */
static int dec_attrs(const i61_ber_tlv *t, uint64_t *size, int64_t *mtime_ms)
{
    i61_ber_reader r;
    i61_ber_tlv c;
    if (!t->constructed)
        return MALFORMED;
    i61_ber_reader_sub(&r, t);
    if (need_next(&r, &c) != I61_OK || c.id != 0x80 || i61_ber_get_uint64(&c, size) != 0)
        return MALFORMED;
    *mtime_ms = -1;
    int k = maybe_next(&r, &c);
    if (k < 0)
        return MALFORMED;
    if (k == 1) {
        if (c.id != 0x81)
            return MALFORMED;
        int64_t v;
        /* an unreadable time is reported as absent, not as a broken PDU */
        if (i61_mms_gtime_to_ms((const char *)c.val, c.len, &v) == I61_OK)
            *mtime_ms = v;
        return at_end(&r);
    }
    return I61_OK;
}

/* One DirectoryEntry (30 { a0 FileName, a1 FileAttributes }). */
static int dec_entry(const i61_ber_tlv *t, i61_mms_file_entry *e)
{
    i61_ber_reader r;
    i61_ber_tlv n, a;
    if (t->id != 0x30)
        return MALFORMED;
    i61_ber_reader_sub(&r, t);
    if (need_next(&r, &n) != I61_OK || n.id != 0xa0 || need_next(&r, &a) != I61_OK
        || a.id != 0xa1 || at_end(&r) != I61_OK)
        return MALFORMED;
    if (dec_attrs(&a, &e->size, &e->mtime_ms) != I61_OK)
        return MALFORMED;
    return dec_file_name(&n, &e->name, &e->name_len);
}

static int dir_push(i61_mms_file_dir *d, const i61_mms_file_entry *e)
{
    if (d->count == d->cap) {
        size_t nc = d->cap ? d->cap * 2 : 16;
        i61_mms_file_entry *p = realloc(d->items, nc * sizeof *p);
        if (!p)
            return -1;
        d->items = p;
        d->cap = nc;
    }
    d->items[d->count++] = *e;
    return 0;
}

int i61_mms_dec_file_directory_resp(const uint8_t *pdu, size_t len, i61_mms_file_dir *dir,
                                    bool *more_follows, i61_mms_error *err)
{
    i61_ber_tlv body, list, seq, c;
    i61_ber_reader r, rl;
    if (!dir)
        return I61_ERR_INVALID_ARGUMENT;
    int rc = dec_response(pdu, len, I61_MMS_SVC_FILE_DIRECTORY, true, &body, err);
    if (rc != I61_OK)
        return rc;
    i61_ber_reader_sub(&r, &body);
    if (need_next(&r, &list) != I61_OK || list.id != 0xa0)
        return MALFORMED;
    bool more = false;
    int k = maybe_next(&r, &c);
    if (k < 0)
        return MALFORMED;
    if (k == 1) {
        if (c.id != 0x81 || i61_ber_get_bool(&c, &more) != 0 || at_end(&r) != I61_OK)
            return MALFORMED;
    }
    /* [0] is explicit: a0 { 30 { entry... } }. Tolerate the implicit form
     * a0 { entry... } too (an entry starts with a0, the list's first
     * element with 30). */
    i61_ber_reader_sub(&rl, &list);
    k = maybe_next(&rl, &seq);
    if (k < 0)
        return MALFORMED;
    const i61_ber_tlv *entries = &list;
    if (k == 1) {
        if (seq.id != 0x30)
            return MALFORMED;
        i61_ber_reader rs;
        i61_ber_tlv first;
        i61_ber_reader_sub(&rs, &seq);
        int f = maybe_next(&rs, &first);
        if (f < 0)
            return MALFORMED;
        if (f == 0 || first.id == 0x30) {           /* explicit form */
            if (at_end(&rl) != I61_OK)
                return MALFORMED;
            entries = &seq;
        }
    }
    size_t before = dir->count;
    size_t n = 0;
    i61_ber_reader_sub(&rl, entries);
    for (;;) {
        i61_ber_tlv et;
        k = maybe_next(&rl, &et);
        if (k == 0)
            break;
        i61_mms_file_entry e = { NULL, 0, 0, -1 };
        if (k < 0 || ++n > I61_MMS_FILE_DIR_MAX_ENTRIES)
            rc = MALFORMED;
        else
            rc = dec_entry(&et, &e);
        if (rc == I61_OK && dir_push(dir, &e) != 0) {
            free(e.name);
            rc = I61_ERR_UNKNOWN;
        }
        if (rc != I61_OK) {
            for (size_t i = before; i < dir->count; i++)
                free(dir->items[i].name);
            dir->count = before;
            return rc;
        }
    }
    if (more_follows)
        *more_follows = more;
    return I61_OK;
}

int i61_mms_dec_file_open_resp(const uint8_t *pdu, size_t len, int32_t *frsm_id,
                               uint64_t *size, int64_t *mtime_ms, i61_mms_error *err)
{
    i61_ber_tlv body, c, a;
    i61_ber_reader r;
    int rc = dec_response(pdu, len, I61_MMS_SVC_FILE_OPEN, true, &body, err);
    if (rc != I61_OK)
        return rc;
    int32_t f;
    uint64_t sz;
    int64_t mt;
    i61_ber_reader_sub(&r, &body);
    if (need_next(&r, &c) != I61_OK || c.id != 0x80 || i61_ber_get_int32(&c, &f) != 0)
        return MALFORMED;
    if (need_next(&r, &a) != I61_OK || a.id != 0xa1 || at_end(&r) != I61_OK
        || dec_attrs(&a, &sz, &mt) != I61_OK)
        return MALFORMED;
    if (frsm_id)
        *frsm_id = f;
    if (size)
        *size = sz;
    if (mtime_ms)
        *mtime_ms = mt;
    return I61_OK;
}

int i61_mms_dec_file_read_resp(const uint8_t *pdu, size_t len, const uint8_t **data,
                               size_t *data_len, bool *more_follows, i61_mms_error *err)
{
    i61_ber_tlv body, d, c;
    i61_ber_reader r;
    int rc = dec_response(pdu, len, I61_MMS_SVC_FILE_READ, true, &body, err);
    if (rc != I61_OK)
        return rc;
    i61_ber_reader_sub(&r, &body);
    if (need_next(&r, &d) != I61_OK || d.id != 0x80)
        return MALFORMED;
    bool more = true;
    int k = maybe_next(&r, &c);
    if (k < 0)
        return MALFORMED;
    if (k == 1 && (c.id != 0x81 || i61_ber_get_bool(&c, &more) != 0 || at_end(&r) != I61_OK))
        return MALFORMED;
    if (data)
        *data = d.val;
    if (data_len)
        *data_len = d.len;
    if (more_follows)
        *more_follows = more;
    return I61_OK;
}

static bool is_null_resp_service(int service)
{
    return service == I61_MMS_SVC_FILE_CLOSE || service == I61_MMS_SVC_FILE_RENAME
           || service == I61_MMS_SVC_FILE_DELETE || service == I61_MMS_SVC_OBTAIN_FILE;
}

int i61_mms_dec_file_null_resp(const uint8_t *pdu, size_t len, int service, i61_mms_error *err)
{
    i61_ber_tlv body;
    if (!is_null_resp_service(service))
        return I61_ERR_INVALID_ARGUMENT;
    int rc = dec_response(pdu, len, service, false, &body, err);
    if (rc != I61_OK)
        return rc;
    return body.len == 0 ? I61_OK : MALFORMED;
}

/* ================================================= server: requests in */

bool i61_mms_is_file_service(int service)
{
    switch (service) {
    case I61_MMS_SVC_OBTAIN_FILE:
    case I61_MMS_SVC_FILE_OPEN:
    case I61_MMS_SVC_FILE_READ:
    case I61_MMS_SVC_FILE_CLOSE:
    case I61_MMS_SVC_FILE_RENAME:
    case I61_MMS_SVC_FILE_DELETE:
    case I61_MMS_SVC_FILE_DIRECTORY:
        return true;
    default:
        return false;
    }
}

void i61_mms_file_req_clear(i61_mms_file_req *r)
{
    if (!r)
        return;
    free(r->name);
    free(r->name2);
    r->name = NULL;
    r->name2 = NULL;
    r->has_name = false;
    r->has_name2 = false;
    r->name_len = 0;
    r->name2_len = 0;
}

static int take_name(const i61_ber_tlv *t, i61_mms_file_req *out, bool second)
{
    char **p = second ? &out->name2 : &out->name;
    size_t *l = second ? &out->name2_len : &out->name_len;
    bool *h = second ? &out->has_name2 : &out->has_name;
    if (*h)
        return MALFORMED;
    int rc = dec_file_name(t, p, l);
    if (rc == I61_OK)
        *h = true;
    return rc;
}

int i61_mms_dec_file_req(const i61_mms_request *rq, i61_mms_file_req *out)
{
    i61_ber_reader r;
    i61_ber_tlv c;
    if (!out)
        return I61_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (!rq || !i61_mms_is_file_service(rq->service) || rq->body.cls != 2
        || rq->body.tag != (uint32_t)rq->service)
        return MALFORMED;
    out->service = rq->service;
    const i61_ber_tlv *b = &rq->body;
    int rc = I61_OK;
    switch (rq->service) {
    case I61_MMS_SVC_FILE_READ:
    case I61_MMS_SVC_FILE_CLOSE:
        if (b->constructed || i61_ber_get_int32(b, &out->frsm_id) != 0)
            return MALFORMED;
        return I61_OK;
    case I61_MMS_SVC_FILE_DELETE:
        if (!b->constructed)
            return MALFORMED;
        rc = take_name(b, out, false);
        break;
    case I61_MMS_SVC_FILE_DIRECTORY: {
        if (!b->constructed)
            return MALFORMED;
        int last = -1;
        i61_ber_reader_sub(&r, b);
        for (;;) {
            int k = maybe_next(&r, &c);
            if (k == 0)
                break;
            if (k < 0 || c.cls != 2 || !c.constructed || c.tag > 1 || (int)c.tag <= last) {
                rc = MALFORMED;
                break;
            }
            last = (int)c.tag;
            rc = take_name(&c, out, c.tag == 1);
            if (rc != I61_OK)
                break;
        }
        break;
    }
    case I61_MMS_SVC_FILE_OPEN:
        if (!b->constructed)
            return MALFORMED;
        i61_ber_reader_sub(&r, b);
        if (need_next(&r, &c) != I61_OK || c.id != 0xa0) {
            rc = MALFORMED;
            break;
        }
        rc = take_name(&c, out, false);
        if (rc != I61_OK)
            break;
        {
            int k = maybe_next(&r, &c);
            if (k < 0)
                rc = MALFORMED;
            else if (k == 1 && (c.id != 0x81 || i61_ber_get_uint32(&c, &out->initial_position) != 0
                                || at_end(&r) != I61_OK))
                rc = MALFORMED;
        }
        break;
    case I61_MMS_SVC_FILE_RENAME:
        if (!b->constructed)
            return MALFORMED;
        i61_ber_reader_sub(&r, b);
        if (need_next(&r, &c) != I61_OK || c.id != 0xa0 || (rc = take_name(&c, out, false)) != I61_OK) {
            if (rc == I61_OK)
                rc = MALFORMED;
            break;
        }
        if (need_next(&r, &c) != I61_OK || c.id != 0xa1 || (rc = take_name(&c, out, true)) != I61_OK) {
            if (rc == I61_OK)
                rc = MALFORMED;
            break;
        }
        rc = at_end(&r);
        break;
    case I61_MMS_SVC_OBTAIN_FILE:
        if (!b->constructed)
            return MALFORMED;
        i61_ber_reader_sub(&r, b);
        if (need_next(&r, &c) != I61_OK) {
            rc = MALFORMED;
            break;
        }
        if (c.id == 0xa0) {                       /* sourceFileServer: not interpreted */
            out->has_source_server = true;
            if (need_next(&r, &c) != I61_OK) {
                rc = MALFORMED;
                break;
            }
        }
        if (c.id != 0xa1 || (rc = take_name(&c, out, false)) != I61_OK) {
            if (rc == I61_OK)
                rc = MALFORMED;
            break;
        }
        if (need_next(&r, &c) != I61_OK || c.id != 0xa2 || (rc = take_name(&c, out, true)) != I61_OK) {
            if (rc == I61_OK)
                rc = MALFORMED;
            break;
        }
        rc = at_end(&r);
        break;
    default:
        rc = MALFORMED;
        break;
    }
    if (rc != I61_OK)
        i61_mms_file_req_clear(out);     /* nothing half-decoded is left behind */
    return rc;
}

/* ================================================ server: responses out */

static void put_attrs(i61_buf *b, uint64_t size, int64_t mtime_ms)
{
    size_t a = i61_ber_open(b, 0xa1);
    i61_ber_put_uint64(b, 0x80, size);
    if (mtime_ms != -1) {
        char t[I61_MMS_GTIME_TEXT];
        size_t tl = i61_mms_gtime_from_ms(mtime_ms, t);
        i61_ber_put_tlv(b, 0x81, t, tl);
    }
    i61_ber_close(b, a);
}

static bool attrs_ok(uint64_t size, int64_t mtime_ms)
{
    char t[I61_MMS_GTIME_TEXT];
    if (size > UINT32_MAX)
        return false;
    return mtime_ms == -1 || i61_mms_gtime_from_ms(mtime_ms, t) != 0;
}

int i61_mms_enc_file_directory_resp(i61_buf *b, uint32_t invoke_id,
                                    const i61_mms_file_entry *entries, size_t n,
                                    bool more_follows)
{
    if (!b || (n && !entries))
        return I61_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < n; i++)
        if (!entries[i].name || !attrs_ok(entries[i].size, entries[i].mtime_ms))
            return I61_ERR_INVALID_ARGUMENT;
    size_t start = b->len;
    size_t m = open_response(b, invoke_id);
    size_t s = i61_ber_open(b, SVC_CONS(I61_MMS_SVC_FILE_DIRECTORY));
    size_t l = i61_ber_open(b, 0xa0);
    size_t q = i61_ber_open(b, 0x30);
    for (size_t i = 0; i < n; i++) {
        size_t e = i61_ber_open(b, 0x30);
        put_file_name(b, 0xa0, entries[i].name);
        put_attrs(b, entries[i].size, entries[i].mtime_ms);
        i61_ber_close(b, e);
    }
    i61_ber_close(b, q);
    i61_ber_close(b, l);
    if (more_follows)
        i61_ber_put_bool(b, 0x81, true);
    i61_ber_close(b, s);
    i61_ber_close(b, m);
    return enc_done(b, start, I61_OK);
}

int i61_mms_enc_file_open_resp(i61_buf *b, uint32_t invoke_id, int32_t frsm_id, uint64_t size,
                               int64_t mtime_ms)
{
    if (!b || !attrs_ok(size, mtime_ms))
        return I61_ERR_INVALID_ARGUMENT;
    size_t start = b->len;
    size_t m = open_response(b, invoke_id);
    size_t s = i61_ber_open(b, SVC_CONS(I61_MMS_SVC_FILE_OPEN));
    i61_ber_put_int64(b, 0x80, frsm_id);
    put_attrs(b, size, mtime_ms);
    i61_ber_close(b, s);
    i61_ber_close(b, m);
    return enc_done(b, start, I61_OK);
}

int i61_mms_enc_file_read_resp(i61_buf *b, uint32_t invoke_id, const uint8_t *data, size_t len,
                               bool more_follows)
{
    if (!b || (len && !data))
        return I61_ERR_INVALID_ARGUMENT;
    size_t start = b->len;
    size_t m = open_response(b, invoke_id);
    size_t s = i61_ber_open(b, SVC_CONS(I61_MMS_SVC_FILE_READ));
    i61_ber_put_tlv(b, 0x80, data, len);
    i61_ber_put_bool(b, 0x81, more_follows);
    i61_ber_close(b, s);
    i61_ber_close(b, m);
    return enc_done(b, start, I61_OK);
}

int i61_mms_enc_file_null_resp(i61_buf *b, uint32_t invoke_id, int service)
{
    if (!b || !is_null_resp_service(service))
        return I61_ERR_INVALID_ARGUMENT;
    size_t start = b->len;
    size_t m = open_response(b, invoke_id);
    i61_ber_put_null(b, SVC_PRIM(service));
    i61_ber_close(b, m);
    return enc_done(b, start, I61_OK);
}

int i61_mms_enc_file_error(i61_buf *b, uint32_t invoke_id, int file_error_code)
{
    if (!b || file_error_code < 0 || file_error_code > I61_MMS_FILE_ERR_INSUFFICIENT_SPACE)
        return I61_ERR_INVALID_ARGUMENT;
    return i61_mms_enc_error_pdu(b, invoke_id, I61_MMS_ERRCLASS_FILE, file_error_code);
}
