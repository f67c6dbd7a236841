/* MMS ReadJournal codec: see mms_journal.h for the contract and the wire
 * shapes (PROTOCOL.md sections 8 and 14, goldens 130 and 131). */
#include "mms_journal.h"
#include "mms_data.h"

#include <stdlib.h>
#include <string.h>

#define MALFORMED I61_ERR_MALFORMED_MESSAGE

/* Identifier octets of the ReadJournal service element (context [65]). */
#define SVC_READ_JOURNAL 0xbf41u

/* Days from 1970-01-01 to 1984-01-01 and milliseconds per day. */
#define DAYS_1970_TO_1984 5113
#define MS_PER_DAY 86400000LL

/* Longest variableTag (MMS255String). */
#define TAG_MAX 255

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
    return k == I61_BER_END ? 0 : -1;
}

static int at_end(i61_ber_reader *r)
{
    i61_ber_tlv t;
    return i61_ber_next(r, &t) == I61_BER_END ? I61_OK : MALFORMED;
}

/* Every TLV inside t parses (content not looked at). */
static int well_formed(const i61_ber_tlv *t)
{
    if (!t->constructed)
        return I61_OK;
    i61_ber_reader r;
    i61_ber_tlv c;
    i61_ber_reader_sub(&r, t);
    for (;;) {
        int k = maybe_next(&r, &c);
        if (k < 0)
            return MALFORMED;
        if (k == 0)
            return I61_OK;
    }
}

/* Context-specific primitive [tag]. */
static bool is_ctx_prim(const i61_ber_tlv *t, uint32_t tag)
{
    return t->cls == 2 && !t->constructed && t->tag == tag;
}

static bool is_ctx_cons(const i61_ber_tlv *t, uint32_t tag)
{
    return t->cls == 2 && t->constructed && t->tag == tag;
}

/* ServiceError content -> class/code; the optional parts are only checked
 * for well-formedness. */
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
            return I61_OK;
    }
}

/* Response envelope: a confirmed-Response carrying ReadJournal -> *body; a
 * confirmed-ErrorPDU or a RejectPDU -> the i61_err it maps to (and *err). */
static int dec_response(const uint8_t *pdu, size_t len, i61_ber_tlv *body, i61_mms_error *err)
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
        if (need_next(&r, &c) != I61_OK || c.id != 0x02 || i61_ber_get_uint32(&c, &id) != 0)
            return MALFORMED;
        if (need_next(&r, body) != I61_OK || body->id != SVC_READ_JOURNAL)
            return MALFORMED;
        return at_end(&r);
    case 0xa2:
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

bool i61_mms_time_of_day_enc(int64_t ms, uint8_t out[6])
{
    if (ms < (int64_t)DAYS_1970_TO_1984 * MS_PER_DAY)
        return false;
    int64_t since = ms - (int64_t)DAYS_1970_TO_1984 * MS_PER_DAY;
    int64_t days = since / MS_PER_DAY;
    if (days > 0xffff)
        return false;
    uint32_t msday = (uint32_t)(since % MS_PER_DAY);
    out[0] = (uint8_t)(msday >> 24);
    out[1] = (uint8_t)(msday >> 16);
    out[2] = (uint8_t)(msday >> 8);
    out[3] = (uint8_t)msday;
    out[4] = (uint8_t)(days >> 8);
    out[5] = (uint8_t)days;
    return true;
}

bool i61_mms_time_of_day_dec(const uint8_t *p, size_t len, int64_t *ms)
{
    if (!p || (len != 4 && len != 6))
        return false;
    uint32_t msday = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    if (msday >= MS_PER_DAY)
        return false;
    uint32_t days = len == 6 ? ((uint32_t)p[4] << 8 | p[5]) : 0;
    *ms = ((int64_t)days + DAYS_1970_TO_1984) * MS_PER_DAY + msday;
    return true;
}

static bool put_time(i61_buf *b, i61_ber_id id, int64_t ms)
{
    uint8_t t[6];
    if (!i61_mms_time_of_day_enc(ms, t))
        return false;
    i61_ber_put_tlv(b, id, t, sizeof t);
    return true;
}

static int get_time(const i61_ber_tlv *t, int64_t *ms)
{
    if (t->constructed || !i61_mms_time_of_day_dec(t->val, t->len, ms))
        return MALFORMED;
    return I61_OK;
}

/* ================================================================ entries */

void i61_mms_journal_entry_clear(i61_mms_journal_entry *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->nvars; i++) {
        free(e->vars[i].tag);
        i61_value_free(e->vars[i].value);
    }
    free(e->vars);
    memset(e, 0, sizeof *e);
}

void i61_mms_journal_list_init(i61_mms_journal_list *l)
{
    if (l)
        memset(l, 0, sizeof *l);
}

void i61_mms_journal_list_clear(i61_mms_journal_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->count; i++)
        i61_mms_journal_entry_clear(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

int i61_mms_enc_journal_entry(i61_buf *b, const i61_mms_journal_entry *e)
{
    if (!b || !e || e->id_len > I61_MMS_JOURNAL_ID_MAX || (e->nvars && !e->vars))
        return I61_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < e->nvars; i++) {
        const char *tag = e->vars[i].tag;
        if (!tag || !e->vars[i].value || strlen(tag) > TAG_MAX)
            return I61_ERR_INVALID_ARGUMENT;
    }
    size_t start = b->len;
    size_t m = i61_ber_open(b, 0x30);
    i61_ber_put_tlv(b, 0x80, e->id, e->id_len);
    i61_ber_put_tlv(b, 0xa1, NULL, 0);                   /* originatingApplication */
    size_t content = i61_ber_open(b, 0xa2);
    if (!put_time(b, 0x80, e->time_ms))
        return enc_done(b, start, I61_ERR_INVALID_ARGUMENT);
    size_t data = i61_ber_open(b, 0xa2);
    size_t list = i61_ber_open(b, 0xa1);
    for (size_t i = 0; i < e->nvars; i++) {
        size_t v = i61_ber_open(b, 0x30);
        i61_ber_put_str(b, 0x80, e->vars[i].tag);
        size_t spec = i61_ber_open(b, 0xa1);
        if (i61_mms_data_encode(b, e->vars[i].value) != 0)
            return enc_done(b, start, I61_ERR_INVALID_ARGUMENT);
        i61_ber_close(b, spec);
        i61_ber_close(b, v);
    }
    i61_ber_close(b, list);
    i61_ber_close(b, data);
    i61_ber_close(b, content);
    i61_ber_close(b, m);
    return enc_done(b, start, I61_OK);
}

/* One Journal-Variable (30 { 80 tag, a1 { Data } }) appended to e->vars
 * (capacity already reserved). */
static int dec_variable(const i61_ber_tlv *t, i61_mms_journal_entry *e)
{
    i61_ber_reader r, rs;
    i61_ber_tlv tag, spec, data;
    if (t->id != 0x30)
        return MALFORMED;
    i61_ber_reader_sub(&r, t);
    if (need_next(&r, &tag) != I61_OK || !is_ctx_prim(&tag, 0) || tag.len > TAG_MAX
        || (tag.len && memchr(tag.val, 0, tag.len)))
        return MALFORMED;
    if (need_next(&r, &spec) != I61_OK || !is_ctx_cons(&spec, 1) || at_end(&r) != I61_OK)
        return MALFORMED;
    i61_ber_reader_sub(&rs, &spec);
    if (need_next(&rs, &data) != I61_OK || at_end(&rs) != I61_OK)
        return MALFORMED;
    i61_value *v = NULL;
    int rc = i61_mms_data_decode(&data, 0, &v);
    if (rc != 0)
        return rc == I61_ERR_UNKNOWN ? rc : MALFORMED;
    char *s = malloc(tag.len + 1);
    if (!s) {
        i61_value_free(v);
        return I61_ERR_UNKNOWN;
    }
    if (tag.len)
        memcpy(s, tag.val, tag.len);
    s[tag.len] = '\0';
    e->vars[e->nvars].tag = s;
    e->vars[e->nvars].value = v;
    e->nvars++;
    return I61_OK;
}

/* listOfVariables [1] content -> e->vars. */
static int dec_variables(const i61_ber_tlv *list, i61_mms_journal_entry *e)
{
    i61_ber_reader r;
    i61_ber_tlv v;
    size_t n = 0;
    i61_ber_reader_sub(&r, list);
    for (;;) {
        int k = maybe_next(&r, &v);
        if (k < 0)
            return MALFORMED;
        if (k == 0)
            break;
        if (++n > I61_MMS_JOURNAL_MAX_VARS)
            return MALFORMED;
    }
    if (n == 0)
        return I61_OK;
    e->vars = calloc(n, sizeof *e->vars);
    if (!e->vars)
        return I61_ERR_UNKNOWN;
    i61_ber_reader_sub(&r, list);
    while (maybe_next(&r, &v) == 1) {
        int rc = dec_variable(&v, e);
        if (rc != I61_OK)
            return rc;
    }
    return I61_OK;
}

/* entryContent [2] content. */
static int dec_entry_content(const i61_ber_tlv *ec, i61_mms_journal_entry *e)
{
    i61_ber_reader r;
    i61_ber_tlv c;
    i61_ber_reader_sub(&r, ec);
    if (need_next(&r, &c) != I61_OK || !is_ctx_prim(&c, 0) || get_time(&c, &e->time_ms) != I61_OK)
        return MALFORMED;
    if (need_next(&r, &c) != I61_OK)
        return MALFORMED;
    if (c.cls == 2 && c.tag == 1) {                       /* additionalDetail: skipped */
        if (well_formed(&c) != I61_OK || need_next(&r, &c) != I61_OK)
            return MALFORMED;
    }
    if (c.cls == 2 && c.tag == 3 && !c.constructed) {     /* annotation: no variables */
        return at_end(&r);
    }
    if (!is_ctx_cons(&c, 2) || at_end(&r) != I61_OK)
        return MALFORMED;
    /* data { event [0] OPT, listOfVariables [1] OPT } */
    i61_ber_tlv d;
    i61_ber_reader rd;
    i61_ber_reader_sub(&rd, &c);
    int k = maybe_next(&rd, &d);
    if (k < 0)
        return MALFORMED;
    if (k == 1 && d.cls == 2 && d.tag == 0) {
        if (!d.constructed || well_formed(&d) != I61_OK)
            return MALFORMED;
        k = maybe_next(&rd, &d);
        if (k < 0)
            return MALFORMED;
    }
    if (k == 0)
        return I61_OK;
    if (!is_ctx_cons(&d, 1) || at_end(&rd) != I61_OK)
        return MALFORMED;
    return dec_variables(&d, e);
}

static int dec_entry_tlv(const i61_ber_tlv *t, i61_mms_journal_entry *out)
{
    i61_ber_reader r;
    i61_ber_tlv c;
    memset(out, 0, sizeof *out);
    if (t->id != 0x30)
        return MALFORMED;
    i61_ber_reader_sub(&r, t);
    if (need_next(&r, &c) != I61_OK || !is_ctx_prim(&c, 0) || c.len > I61_MMS_JOURNAL_ID_MAX)
        return MALFORMED;
    if (c.len)
        memcpy(out->id, c.val, c.len);
    out->id_len = c.len;
    if (need_next(&r, &c) != I61_OK || !is_ctx_cons(&c, 1) || well_formed(&c) != I61_OK)
        return MALFORMED;
    if (need_next(&r, &c) != I61_OK || !is_ctx_cons(&c, 2) || at_end(&r) != I61_OK)
        return MALFORMED;
    int rc = dec_entry_content(&c, out);
    if (rc != I61_OK)
        i61_mms_journal_entry_clear(out);
    return rc;
}

int i61_mms_dec_journal_entry(const uint8_t *p, size_t len, size_t *used,
                              i61_mms_journal_entry *out)
{
    i61_ber_tlv t;
    size_t u = 0;
    if (!out)
        return I61_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (!p || i61_ber_parse(p, len, &t, &u) != I61_BER_OK)
        return MALFORMED;
    int rc = dec_entry_tlv(&t, out);
    if (rc == I61_OK && used)
        *used = u;
    return rc;
}

/* ================================================================ client */

static void put_id(i61_buf *b, i61_ber_id id, const uint8_t *p, size_t n)
{
    i61_ber_put_tlv(b, id, n ? p : NULL, n);
}

int i61_mms_enc_read_journal_req(i61_buf *b, uint32_t invoke_id, const i61_mms_journal_req *q)
{
    if (!b || !q || (q->has_start_time && q->has_start_entry)
        || (q->has_end_time && q->has_num_entries)
        || q->start_entry_len > I61_MMS_JOURNAL_ID_MAX
        || q->after_entry_len > I61_MMS_JOURNAL_ID_MAX)
        return I61_ERR_INVALID_ARGUMENT;
    size_t start = b->len;
    size_t m = i61_ber_open(b, 0xa0);
    i61_ber_put_uint64(b, 0x02, invoke_id);
    size_t s = i61_ber_open(b, SVC_READ_JOURNAL);
    size_t jn = i61_ber_open(b, 0xa0);
    int rc = i61_mms_enc_object_name(b, &q->journal);
    if (rc != I61_OK)
        return enc_done(b, start, I61_ERR_INVALID_ARGUMENT);
    i61_ber_close(b, jn);
    if (q->has_start_time || q->has_start_entry) {
        size_t a = i61_ber_open(b, 0xa1);
        if (q->has_start_time) {
            if (!put_time(b, 0x80, q->start_ms))
                return enc_done(b, start, I61_ERR_INVALID_ARGUMENT);
        } else {
            put_id(b, 0x81, q->start_entry, q->start_entry_len);
        }
        i61_ber_close(b, a);
    }
    if (q->has_end_time || q->has_num_entries) {
        size_t a = i61_ber_open(b, 0xa2);
        if (q->has_end_time) {
            if (!put_time(b, 0x80, q->end_ms))
                return enc_done(b, start, I61_ERR_INVALID_ARGUMENT);
        } else {
            i61_ber_put_int64(b, 0x81, q->num_entries);
        }
        i61_ber_close(b, a);
    }
    if (q->has_after) {
        size_t a = i61_ber_open(b, 0xa5);
        if (!put_time(b, 0x80, q->after_ms))
            return enc_done(b, start, I61_ERR_INVALID_ARGUMENT);
        put_id(b, 0x81, q->after_entry, q->after_entry_len);
        i61_ber_close(b, a);
    }
    i61_ber_close(b, s);
    i61_ber_close(b, m);
    return enc_done(b, start, I61_OK);
}

static int list_push(i61_mms_journal_list *l, i61_mms_journal_entry *e)
{
    if (l->count == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 16;
        i61_mms_journal_entry *p = realloc(l->items, nc * sizeof *p);
        if (!p)
            return -1;
        l->items = p;
        l->cap = nc;
    }
    l->items[l->count++] = *e;
    memset(e, 0, sizeof *e);
    return 0;
}

int i61_mms_dec_read_journal_resp(const uint8_t *pdu, size_t len, i61_mms_journal_list *out,
                                  bool *more_follows, i61_mms_error *err)
{
    i61_ber_tlv body, c, list;
    i61_ber_reader r;
    if (!out)
        return I61_ERR_INVALID_ARGUMENT;
    int rc = dec_response(pdu, len, &body, err);
    if (rc != I61_OK)
        return rc;
    if (!body.constructed)
        return MALFORMED;
    bool more = false, have_list = false;
    i61_ber_reader_sub(&r, &body);
    int k = maybe_next(&r, &c);
    if (k < 0)
        return MALFORMED;
    if (k == 1 && c.id == 0xa0) {
        list = c;
        have_list = true;
        k = maybe_next(&r, &c);
        if (k < 0)
            return MALFORMED;
    }
    if (k == 1) {
        if (c.id != 0x81 || i61_ber_get_bool(&c, &more) != 0 || at_end(&r) != I61_OK)
            return MALFORMED;
    }
    size_t before = out->count;
    if (have_list) {
        i61_ber_reader rl;
        i61_ber_tlv et;
        size_t n = 0;
        i61_ber_reader_sub(&rl, &list);
        for (;;) {
            k = maybe_next(&rl, &et);
            if (k == 0)
                break;
            i61_mms_journal_entry e;
            memset(&e, 0, sizeof e);
            if (k < 0 || ++n > I61_MMS_JOURNAL_MAX_ENTRIES)
                rc = MALFORMED;
            else
                rc = dec_entry_tlv(&et, &e);
            if (rc == I61_OK && list_push(out, &e) != 0) {
                i61_mms_journal_entry_clear(&e);
                rc = I61_ERR_UNKNOWN;
            }
            if (rc != I61_OK) {
                for (size_t i = before; i < out->count; i++)
                    i61_mms_journal_entry_clear(&out->items[i]);
                out->count = before;
                return rc;
            }
        }
    }
    if (more_follows)
        *more_follows = more;
    return I61_OK;
}

/* ================================================================ server */

/* rangeStart/rangeStop [1]/[2]: explicit tag around a CHOICE of [0]/[1]. */
static int dec_range(const i61_ber_tlv *t, i61_ber_tlv *choice)
{
    i61_ber_reader r;
    if (!t->constructed)
        return MALFORMED;
    i61_ber_reader_sub(&r, t);
    if (need_next(&r, choice) != I61_OK || choice->cls != 2 || choice->constructed
        || choice->tag > 1 || at_end(&r) != I61_OK)
        return MALFORMED;
    return I61_OK;
}

int i61_mms_dec_read_journal_req(const i61_mms_request *rq, i61_mms_journal_req *out)
{
    i61_ber_reader r, rs;
    i61_ber_tlv c, s;
    if (!rq || !out)
        return I61_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (rq->service != I61_MMS_SVC_READ_JOURNAL || rq->body.id != SVC_READ_JOURNAL)
        return MALFORMED;
    i61_ber_reader_sub(&r, &rq->body);
    /* journalName [0]: explicit around the ObjectName CHOICE */
    if (need_next(&r, &c) != I61_OK || !is_ctx_cons(&c, 0))
        return MALFORMED;
    i61_ber_reader_sub(&rs, &c);
    if (need_next(&rs, &s) != I61_OK || at_end(&rs) != I61_OK
        || i61_mms_dec_object_name(&s, &out->journal) != I61_OK)
        return MALFORMED;
    uint32_t last = 0;
    for (;;) {
        int k = maybe_next(&r, &c);
        if (k < 0)
            return MALFORMED;
        if (k == 0)
            break;
        if (c.cls != 2 || c.tag <= last)     /* SEQUENCE: in order, each at most once */
            return MALFORMED;
        last = c.tag;
        switch (c.tag) {
        case 1:
            if (dec_range(&c, &s) != I61_OK)
                return MALFORMED;
            if (s.tag == 0) {
                if (get_time(&s, &out->start_ms) != I61_OK)
                    return MALFORMED;
                out->has_start_time = true;
            } else {
                if (s.len > I61_MMS_JOURNAL_ID_MAX)
                    return MALFORMED;
                if (s.len)
                    memcpy(out->start_entry, s.val, s.len);
                out->start_entry_len = s.len;
                out->has_start_entry = true;
            }
            break;
        case 2:
            if (dec_range(&c, &s) != I61_OK)
                return MALFORMED;
            if (s.tag == 0) {
                if (get_time(&s, &out->end_ms) != I61_OK)
                    return MALFORMED;
                out->has_end_time = true;
            } else {
                if (i61_ber_get_int32(&s, &out->num_entries) != 0)
                    return MALFORMED;
                out->has_num_entries = true;
            }
            break;
        case 4:                               /* listOfVariables: skipped */
            if (!c.constructed || well_formed(&c) != I61_OK)
                return MALFORMED;
            break;
        case 5: {
            i61_ber_tlv tm, id;
            if (!c.constructed)
                return MALFORMED;
            i61_ber_reader_sub(&rs, &c);
            if (need_next(&rs, &tm) != I61_OK || !is_ctx_prim(&tm, 0)
                || get_time(&tm, &out->after_ms) != I61_OK)
                return MALFORMED;
            if (need_next(&rs, &id) != I61_OK || !is_ctx_prim(&id, 1)
                || id.len > I61_MMS_JOURNAL_ID_MAX || at_end(&rs) != I61_OK)
                return MALFORMED;
            if (id.len)
                memcpy(out->after_entry, id.val, id.len);
            out->after_entry_len = id.len;
            out->has_after = true;
            break;
        }
        default:
            return MALFORMED;
        }
    }
    return I61_OK;
}

int i61_mms_enc_read_journal_resp(i61_buf *b, uint32_t invoke_id, const uint8_t *entries,
                                  size_t entries_len, bool more_follows)
{
    if (!b || (entries_len && !entries))
        return I61_ERR_INVALID_ARGUMENT;
    size_t start = b->len;
    size_t m = i61_ber_open(b, 0xa1);
    i61_ber_put_uint64(b, 0x02, invoke_id);
    size_t s = i61_ber_open(b, SVC_READ_JOURNAL);
    i61_ber_put_tlv(b, 0xa0, entries, entries_len);
    if (more_follows)
        i61_ber_put_bool(b, 0x81, true);
    i61_ber_close(b, s);
    i61_ber_close(b, m);
    return enc_done(b, start, I61_OK);
}

/* Octets of a BER length field for content n. */
static size_t len_size(size_t n)
{
    size_t k = 1;
    if (n >= 0x80)
        for (size_t v = n; v; v >>= 8)
            k++;
    return k;
}

size_t i61_mms_read_journal_resp_size(uint32_t invoke_id, size_t entries_len)
{
    size_t id_octets = 1;
    for (uint64_t v = invoke_id; v > 0x7f; v >>= 8)
        id_octets++;
    size_t list = 1 + len_size(entries_len) + entries_len;
    size_t svc_content = list + 3;                       /* 81 01 ff */
    size_t svc = 2 + len_size(svc_content) + svc_content;
    size_t pdu_content = 2 + id_octets + svc;
    return 1 + len_size(pdu_content) + pdu_content;
}
