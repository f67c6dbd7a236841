/* MMS confirmed-service PDUs: see mms_pdu.h for the contract and PROTOCOL.md
 * sections 8-10 for the wire facts.
 *
 * Layout reminders (all tags IMPLICIT unless noted):
 *   confirmed-RequestPDU  a0 { 02 invokeID, [30 listOfModifier], <service> }
 *   confirmed-ResponsePDU a1 { 02 invokeID, <service> }
 *   confirmed-ErrorPDU    a2 { 80 invokeID, [81 modifierPosition], a2 ServiceError }
 *   RejectPDU             a4 { [80 originalInvokeID], <reason tag> code }
 * Tags placed on CHOICE types are explicit (GVAA [6], Read's [1], the
 * variableSpecification name [0], the echoed spec [0], typeSpecification [2]). */
#include "mms_pdu.h"
#include "mms_data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MALFORMED I61_ERR_MALFORMED_MESSAGE

/* Alternate access: at most this many nested selections (one index plus a
 * component path) are encoded or accepted when decoding. */
#define ALT_MAX_STEPS (I61_MMS_ALT_MAX_COMPONENTS + 1)

/* ================================================================ helpers */

static int enc_done(i61_buf *b, size_t start, int rc)
{
    if (b->oom)
        return I61_ERR_UNKNOWN;
    if (rc != I61_OK) {
        b->len = start;                      /* drop the partial PDU */
        return rc;
    }
    return I61_OK;
}

/* Exactly one TLV covering the whole buffer. */
static int parse_whole(const uint8_t *p, size_t len, i61_ber_tlv *t)
{
    size_t used = 0;
    if (i61_ber_parse(p, len, t, &used) != I61_BER_OK || used != len)
        return MALFORMED;
    return I61_OK;
}

/* Next TLV of r, which must exist. */
static int need_next(i61_ber_reader *r, i61_ber_tlv *t)
{
    return i61_ber_next(r, t) == I61_BER_OK ? I61_OK : MALFORMED;
}

/* Reader must be exhausted (and intact). */
static int at_end(i61_ber_reader *r)
{
    i61_ber_tlv t;
    return i61_ber_next(r, &t) == I61_BER_END ? I61_OK : MALFORMED;
}

/* Identifier / VisibleString content into a bounded C string; NUL octets refused. */
static int get_ident(const i61_ber_tlv *t, char *out, size_t cap)
{
    if (t->constructed || (t->len && memchr(t->val, 0, t->len)))
        return MALFORMED;
    return i61_ber_get_str(t, out, cap) == 0 ? I61_OK : MALFORMED;
}

static char *dup_content(const i61_ber_tlv *t)
{
    if (t->constructed || (t->len && memchr(t->val, 0, t->len)))
        return NULL;
    char *s = malloc(t->len + 1);
    if (!s)
        return NULL;
    if (t->len)
        memcpy(s, t->val, t->len);
    s[t->len] = '\0';
    return s;
}

static int get_u32(const i61_ber_tlv *t, uint32_t *out)
{
    if (t->constructed)
        return MALFORMED;
    return i61_ber_get_uint32(t, out) == 0 ? I61_OK : MALFORMED;
}

static int get_int(const i61_ber_tlv *t, int *out)
{
    int32_t v;
    if (t->constructed || i61_ber_get_int32(t, &v) != 0)
        return MALFORMED;
    *out = (int)v;
    return I61_OK;
}

static int get_bool(const i61_ber_tlv *t, bool *out)
{
    if (t->constructed)
        return MALFORMED;
    return i61_ber_get_bool(t, out) == 0 ? I61_OK : MALFORMED;
}

static bool name_ok(const char *s, bool may_be_empty)
{
    if (!s)
        return false;
    size_t n = strlen(s);
    return n <= I61_MMS_NAME_MAX && (may_be_empty || n > 0);
}

/* ================================================================ idlist */

void i61_mms_idlist_init(i61_mms_idlist *l)
{
    l->items = NULL;
    l->count = 0;
    l->cap = 0;
}

void i61_mms_idlist_clear(i61_mms_idlist *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i]);
    free(l->items);
    i61_mms_idlist_init(l);
}

int i61_mms_idlist_add(i61_mms_idlist *l, const char *s, size_t len)
{
    if (l->count == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        if (ncap > SIZE_MAX / sizeof(char *))
            return -1;
        char **p = realloc(l->items, ncap * sizeof(char *));
        if (!p)
            return -1;
        l->items = p;
        l->cap = ncap;
    }
    char *c = malloc(len + 1);
    if (!c)
        return -1;
    if (len)
        memcpy(c, s, len);
    c[len] = '\0';
    l->items[l->count++] = c;
    return 0;
}

/* ================================================================ errors */

int i61_mms_service_error_to_err(int cls, int code)
{
    switch (cls) {
    case 0: /* vmd-state */
        return code == 0 ? I61_ERR_UNKNOWN : I61_ERR_TEMPORARILY_UNAVAILABLE;
    case 2: /* definition */
        switch (code) {
        case 1: return I61_ERR_OBJECT_UNDEFINED;
        case 2: return I61_ERR_INVALID_ADDRESS;
        case 3: return I61_ERR_TYPE_UNSUPPORTED;
        case 4: return I61_ERR_TYPE_INCONSISTENT;
        case 5: return I61_ERR_OBJECT_EXISTS;
        case 6: return I61_ERR_OBJECT_ATTRIBUTE_INCONSISTENT;
        default: return I61_ERR_UNKNOWN;
        }
    case 3: /* resource: every code (also other, which libiec61850 sends for its
               open-file limit) says the server lacks capacity now */
        return I61_ERR_TEMPORARILY_UNAVAILABLE;
    case 4: /* service */
        switch (code) {
        case 3: return I61_ERR_INVALID_ARGUMENT;            /* pdu-size */
        case 4: return I61_ERR_INVALID_ARGUMENT;            /* continuation-invalid */
        case 5: return I61_ERR_OBJECT_CONSTRAINT_CONFLICT;
        default: return I61_ERR_UNKNOWN;
        }
    case 7: /* access */
        switch (code) {
        case 1: return I61_ERR_OBJECT_ACCESS_UNSUPPORTED;
        case 2: return I61_ERR_OBJECT_DOES_NOT_EXIST;
        case 3: return I61_ERR_ACCESS_DENIED;
        case 4: return I61_ERR_OBJECT_INVALIDATED;
        default: return I61_ERR_UNKNOWN;
        }
    case 11: /* file */
        switch (code) {
        case 1: return I61_ERR_INVALID_ARGUMENT;            /* filename-ambiguous */
        case 2: return I61_ERR_TEMPORARILY_UNAVAILABLE;     /* file-busy */
        case 3: return I61_ERR_INVALID_ARGUMENT;            /* filename-syntax-error */
        case 4: return I61_ERR_TYPE_INCONSISTENT;           /* content-type-invalid */
        case 5: return I61_ERR_INVALID_ARGUMENT;            /* position-invalid */
        case 6: return I61_ERR_ACCESS_DENIED;
        case 7: return I61_ERR_OBJECT_DOES_NOT_EXIST;
        case 8: return I61_ERR_OBJECT_EXISTS;
        case 9: return I61_ERR_TEMPORARILY_UNAVAILABLE;     /* insufficient-space */
        default: return I61_ERR_UNKNOWN;
        }
    default:
        return I61_ERR_UNKNOWN;
    }
}

int i61_mms_reject_to_err(int reason, int code)
{
    if (reason == I61_MMS_REJECT_CONFIRMED_REQUEST && code == I61_MMS_REJECT_UNRECOGNIZED_SERVICE)
        return I61_ERR_SERVICE_NOT_SUPPORTED;
    return I61_ERR_MALFORMED_MESSAGE;
}

static const char *const errclass_names[] = {
    "vmd-state", "application-reference", "definition", "resource", "service",
    "service-preempt", "time-resolution", "access", "initiate", "conclude", "cancel",
    "file", "others"
};

static const char *errcode_name(int cls, int code)
{
    static const char *const definition[] = {
        "other", "object-undefined", "invalid-address", "type-unsupported",
        "type-inconsistent", "object-exists", "object-attribute-inconsistent"
    };
    static const char *const service[] = {
        "other", "primitives-out-of-sequence", "object-state-conflict", "pdu-size",
        "continuation-invalid", "object-constraint-conflict"
    };
    static const char *const access[] = {
        "other", "object-access-unsupported", "object-non-existent", "object-access-denied",
        "object-invalidated"
    };
    static const char *const file[] = {
        "other", "filename-ambiguous", "file-busy", "filename-syntax-error",
        "content-type-invalid", "position-invalid", "file-access-denied", "file-non-existent",
        "duplicate-filename", "insufficient-space"
    };
#define PICK(tab) (code >= 0 && (size_t)code < sizeof tab / sizeof tab[0] ? tab[code] : NULL)
    switch (cls) {
    case 2: return PICK(definition);
    case 4: return PICK(service);
    case 7: return PICK(access);
    case 11: return PICK(file);
    default: return code == 0 ? "other" : NULL;
    }
}

static const char *const reject_names[] = {
    NULL, "confirmed-requestPDU", "confirmed-responsePDU", "confirmed-errorPDU",
    "unconfirmedPDU", "pdu-error", "cancel-requestPDU", "cancel-responsePDU",
    "cancel-errorPDU", "conclude-requestPDU", "conclude-responsePDU", "conclude-errorPDU"
};

static const char *reject_code_name(int reason, int code)
{
    static const char *const req[] = {
        "other", "unrecognized-service", "unrecognized-modifier", "invalid-invokeID",
        "invalid-argument", "invalid-modifier", "max-serv-outstanding-exceeded", NULL,
        "max-recursion-exceeded", "value-out-of-range"
    };
    static const char *const pdu[] = { "unknown-pdu-type", "invalid-pdu", "illegal-acse-mapping" };
    if (reason == 1)
        return PICK(req);
    if (reason == 5)
        return PICK(pdu);
    return NULL;
#undef PICK
}

const char *i61_mms_error_text(const i61_mms_error *e, char *buf, size_t cap)
{
    if (!buf || cap == 0)
        return "";
    if (!e || e->kind == 0) {
        snprintf(buf, cap, "no MMS error");
    } else if (e->kind == I61_MMS_KIND_ERROR) {
        const char *c = e->cls >= 0 && e->cls <= 12 ? errclass_names[e->cls] : NULL;
        const char *k = errcode_name(e->cls, e->code);
        if (c && k)
            snprintf(buf, cap, "ServiceError %s/%s", c, k);
        else if (c)
            snprintf(buf, cap, "ServiceError %s/%d", c, e->code);
        else
            snprintf(buf, cap, "ServiceError class %d/%d", e->cls, e->code);
    } else {
        const char *r = e->cls >= 1 && e->cls <= 11 ? reject_names[e->cls] : NULL;
        const char *k = reject_code_name(e->cls, e->code);
        if (r && k)
            snprintf(buf, cap, "Reject %s/%s", r, k);
        else if (r)
            snprintf(buf, cap, "Reject %s/%d", r, e->code);
        else
            snprintf(buf, cap, "Reject reason %d/%d", e->cls, e->code);
    }
    return buf;
}

const char *i61_mms_dae_name(int dae)
{
    static const char *const names[] = {
        "object-invalidated", "hardware-fault", "temporarily-unavailable",
        "object-access-denied", "object-undefined", "invalid-address", "type-unsupported",
        "type-inconsistent", "object-attribute-inconsistent", "object-access-unsupported",
        "object-non-existent", "object-value-invalid"
    };
    if (dae >= 0 && (size_t)dae < sizeof names / sizeof names[0])
        return names[dae];
    return "unknown";
}

/* ================================================================ envelope */

int i61_mms_pdu_invoke_id(const uint8_t *pdu, size_t len, uint32_t *invoke_id, int *kind)
{
    i61_ber_tlv t, c;
    i61_ber_reader r;
    uint32_t id = I61_MMS_NO_INVOKE_ID;
    int k;
    if (parse_whole(pdu, len, &t) != I61_OK)
        return MALFORMED;
    switch (t.id) {
    case 0xa0: k = I61_MMS_KIND_REQUEST; break;
    case 0xa1: k = I61_MMS_KIND_RESPONSE; break;
    case 0xa2: k = I61_MMS_KIND_ERROR; break;
    case 0xa3: k = I61_MMS_KIND_UNCONFIRMED; break;
    case 0xa4: k = I61_MMS_KIND_REJECT; break;
    default: k = I61_MMS_KIND_OTHER; break;
    }
    if (k == I61_MMS_KIND_REQUEST || k == I61_MMS_KIND_RESPONSE || k == I61_MMS_KIND_ERROR) {
        i61_ber_reader_sub(&r, &t);
        if (need_next(&r, &c) != I61_OK)
            return MALFORMED;
        if (c.id != (k == I61_MMS_KIND_ERROR ? 0x80u : 0x02u) || get_u32(&c, &id) != I61_OK)
            return MALFORMED;
    } else if (k == I61_MMS_KIND_REJECT) {
        i61_ber_reader_sub(&r, &t);
        if (need_next(&r, &c) != I61_OK)
            return MALFORMED;
        if (c.id == 0x80 && get_u32(&c, &id) != I61_OK)
            return MALFORMED;
    }
    if (invoke_id)
        *invoke_id = id;
    if (kind)
        *kind = k;
    return I61_OK;
}

/* ServiceError content (after the a2 tag) -> class/code. */
static int dec_service_error(const i61_ber_tlv *se, i61_mms_error *e)
{
    i61_ber_reader r, rc;
    i61_ber_tlv cls, v;
    i61_ber_reader_sub(&r, se);
    if (need_next(&r, &cls) != I61_OK || cls.id != 0xa0)
        return MALFORMED;
    i61_ber_reader_sub(&rc, &cls);
    if (need_next(&rc, &v) != I61_OK || v.cls != 2 || v.constructed || v.tag > 12
        || at_end(&rc) != I61_OK)
        return MALFORMED;
    e->cls = (int)v.tag;
    if (get_int(&v, &e->code) != I61_OK)
        return MALFORMED;
    /* additionalCode [1], additionalDescription [2], serviceSpecificInformation [3]:
     * only checked for well-formedness. */
    for (;;) {
        int rc2 = i61_ber_next(&r, &v);
        if (rc2 == I61_BER_END)
            break;
        if (rc2 != I61_BER_OK)
            return MALFORMED;
    }
    return I61_OK;
}

/* A confirmed-Response carrying service `svc` -> *body; an ErrorPDU or
 * RejectPDU -> its i61_err (and *err filled). */
static int dec_response(const uint8_t *pdu, size_t len, int svc, i61_ber_tlv *body,
                        i61_mms_error *err)
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
        if (need_next(&r, &c) != I61_OK || c.id != 0x02 || get_u32(&c, &id) != I61_OK)
            return MALFORMED;
        if (need_next(&r, body) != I61_OK || body->cls != 2 || body->tag != (uint32_t)svc)
            return MALFORMED;
        return at_end(&r);
    case 0xa2:
        if (need_next(&r, &c) != I61_OK || c.id != 0x80 || get_u32(&c, &id) != I61_OK)
            return MALFORMED;
        if (need_next(&r, &c) != I61_OK)
            return MALFORMED;
        if (c.id == 0x81 && need_next(&r, &c) != I61_OK)       /* modifierPosition */
            return MALFORMED;
        if (c.id != 0xa2 || dec_service_error(&c, e) != I61_OK || at_end(&r) != I61_OK)
            return MALFORMED;
        e->kind = I61_MMS_KIND_ERROR;
        return i61_mms_service_error_to_err(e->cls, e->code);
    case 0xa4:
        if (need_next(&r, &c) != I61_OK)
            return MALFORMED;
        if (c.id == 0x80 && (get_u32(&c, &id) != I61_OK || need_next(&r, &c) != I61_OK))
            return MALFORMED;
        if (c.cls != 2 || c.constructed || c.tag < 1 || c.tag > 11 || get_int(&c, &e->code) != I61_OK
            || at_end(&r) != I61_OK)
            return MALFORMED;
        e->kind = I61_MMS_KIND_REJECT;
        e->cls = (int)c.tag;
        return i61_mms_reject_to_err(e->cls, e->code);
    default:
        return MALFORMED;
    }
}

/* ================================================================ names */

int i61_mms_enc_object_name(i61_buf *b, const i61_mms_name *n)
{
    if (!n || !name_ok(n->item, false))
        return I61_ERR_INVALID_ARGUMENT;
    switch (n->scope) {
    case I61_MMS_SCOPE_VMD:
        i61_ber_put_str(b, 0x80, n->item);
        return I61_OK;
    case I61_MMS_SCOPE_DOMAIN: {
        if (!name_ok(n->domain, false))
            return I61_ERR_INVALID_ARGUMENT;
        size_t m = i61_ber_open(b, 0xa1);
        i61_ber_put_str(b, 0x1a, n->domain);
        i61_ber_put_str(b, 0x1a, n->item);
        i61_ber_close(b, m);
        return I61_OK;
    }
    case I61_MMS_SCOPE_AA:
        i61_ber_put_str(b, 0x82, n->item);
        return I61_OK;
    default:
        return I61_ERR_INVALID_ARGUMENT;
    }
}

int i61_mms_dec_object_name(const i61_ber_tlv *t, i61_mms_name *out)
{
    i61_ber_reader r;
    i61_ber_tlv a, b;
    memset(out, 0, sizeof *out);
    if (t->cls != 2)
        return MALFORMED;
    if (t->tag == 1) {
        if (!t->constructed)
            return MALFORMED;
        i61_ber_reader_sub(&r, t);
        if (need_next(&r, &a) != I61_OK || need_next(&r, &b) != I61_OK || at_end(&r) != I61_OK)
            return MALFORMED;
        if (a.id != 0x1a || b.id != 0x1a)
            return MALFORMED;
        out->scope = I61_MMS_SCOPE_DOMAIN;
        if (get_ident(&a, out->domain, sizeof out->domain) != I61_OK
            || get_ident(&b, out->item, sizeof out->item) != I61_OK)
            return MALFORMED;
        return I61_OK;
    }
    if (t->tag != 0 && t->tag != 2)
        return MALFORMED;
    out->scope = t->tag == 0 ? I61_MMS_SCOPE_VMD : I61_MMS_SCOPE_AA;
    if (t->constructed) {
        /* Tolerated: a constructed wrapper around a VisibleString (seen in an
         * echoed aa-specific name, golden 046). */
        i61_ber_reader_sub(&r, t);
        if (need_next(&r, &a) != I61_OK || a.id != 0x1a || at_end(&r) != I61_OK)
            return MALFORMED;
        return get_ident(&a, out->item, sizeof out->item);
    }
    return get_ident(t, out->item, sizeof out->item);
}

/* ================================================================ variables */

/* Component path of an alternate access, split on '$' or '.'. Writes each step
 * via the callbacks below; returns the number of components or -1. */
static int split_component(const char *comp, const char **starts, size_t *lens, int max)
{
    int n = 0;
    const char *p = comp;
    if (!*p)
        return 0;
    for (;;) {
        const char *e = p;
        while (*e && *e != '$' && *e != '.')
            e++;
        if (e == p || n == max)
            return -1;                       /* empty step or too deep */
        starts[n] = p;
        lens[n] = (size_t)(e - p);
        n++;
        if (!*e)
            return n;
        p = e + 1;
    }
}

static int enc_alternate_access(i61_buf *b, const i61_mms_var *v)
{
    const char *starts[ALT_MAX_STEPS];
    size_t lens[ALT_MAX_STEPS];
    size_t marks[2 * ALT_MAX_STEPS + 1];
    int nm = 0;
    if (!name_ok(v->component, true))
        return I61_ERR_INVALID_ARGUMENT;
    int nc = split_component(v->component, starts, lens, ALT_MAX_STEPS - 1);
    if (nc < 0)
        return I61_ERR_INVALID_ARGUMENT;
    marks[nm++] = i61_ber_open(b, 0xa5);
    /* steps: index, then each component; all but the last are
     * selectAlternateAccess [0] { selection, SEQUENCE OF { next } },
     * the last is selectAccess (component [1] / index [2]). */
    int total = 1 + nc;
    for (int s = 0; s < total; s++) {
        bool last = s == total - 1;
        if (!last)
            marks[nm++] = i61_ber_open(b, 0xa0);
        if (s == 0) {
            i61_ber_put_uint64(b, last ? 0x82 : 0x81, v->index);
        } else {
            i61_ber_put_tlv(b, last ? 0x81 : 0x80, starts[s - 1], lens[s - 1]);
        }
        if (!last)
            marks[nm++] = i61_ber_open(b, 0x30);
    }
    while (nm > 0)
        i61_ber_close(b, marks[--nm]);
    return I61_OK;
}

static int enc_var(i61_buf *b, const i61_mms_var *v)
{
    size_t m = i61_ber_open(b, 0x30);
    size_t n = i61_ber_open(b, 0xa0);                 /* variableSpecification name [0] */
    int rc = i61_mms_enc_object_name(b, &v->name);
    if (rc != I61_OK)
        return rc;
    i61_ber_close(b, n);
    if (v->has_index) {
        rc = enc_alternate_access(b, v);
        if (rc != I61_OK)
            return rc;
    } else if (v->component[0]) {
        return I61_ERR_INVALID_ARGUMENT;              /* a component needs an element */
    }
    i61_ber_close(b, m);
    return I61_OK;
}

static int enc_access_spec(i61_buf *b, const i61_mms_access_spec *s)
{
    if (!s)
        return I61_ERR_INVALID_ARGUMENT;
    if (s->is_nvl) {
        size_t m = i61_ber_open(b, 0xa1);             /* variableListName [1] ObjectName */
        int rc = i61_mms_enc_object_name(b, &s->nvl);
        if (rc != I61_OK)
            return rc;
        i61_ber_close(b, m);
        return I61_OK;
    }
    if (s->n_vars == 0 || !s->vars)
        return I61_ERR_INVALID_ARGUMENT;
    size_t m = i61_ber_open(b, 0xa0);                 /* listOfVariable [0] */
    for (size_t i = 0; i < s->n_vars; i++) {
        int rc = enc_var(b, &s->vars[i]);
        if (rc != I61_OK)
            return rc;
    }
    i61_ber_close(b, m);
    return I61_OK;
}

size_t i61_mms_var_encoded_size(const i61_mms_var *v)
{
    i61_buf b;
    i61_buf_init(&b);
    int rc = v ? enc_var(&b, v) : I61_ERR_INVALID_ARGUMENT;
    size_t n = (rc == I61_OK && !b.oom) ? b.len : 0;
    i61_buf_free(&b);
    return n;
}

/* Decode the content of alternateAccess [5] into index + component path. */
static void dec_alternate_access(const i61_ber_tlv *aa, i61_mms_var *v)
{
    i61_ber_tlv cur = *aa;                 /* a SEQUENCE OF with exactly one CHOICE */
    size_t clen = 0;
    v->component[0] = '\0';
    for (int step = 0; step < ALT_MAX_STEPS; step++) {
        i61_ber_reader r;
        i61_ber_tlv e, sel, next;
        i61_ber_reader_sub(&r, &cur);
        if (need_next(&r, &e) != I61_OK || at_end(&r) != I61_OK)
            goto unsupported;
        bool last;
        if (e.id == 0xa0) {                 /* selectAlternateAccess */
            i61_ber_reader rs;
            i61_ber_reader_sub(&rs, &e);
            if (need_next(&rs, &sel) != I61_OK || need_next(&rs, &next) != I61_OK
                || next.id != 0x30 || at_end(&rs) != I61_OK)
                goto unsupported;
            if (sel.id == 0x80)
                sel.tag = 1;                /* component */
            else if (sel.id == 0x81)
                sel.tag = 2;                /* index */
            else
                goto unsupported;
            last = false;
        } else if (e.id == 0x81 || e.id == 0x82) {   /* selectAccess component / index */
            sel = e;
            last = true;
        } else {
            goto unsupported;
        }
        if (sel.tag == 2) {
            if (step != 0 || get_u32(&sel, &v->index) != I61_OK)
                goto unsupported;
            v->has_index = true;
        } else {
            if (step == 0 || sel.constructed || sel.len == 0
                || memchr(sel.val, 0, sel.len) != NULL)
                goto unsupported;
            size_t need = sel.len + (clen ? 1 : 0);
            if (clen + need > I61_MMS_NAME_MAX)
                goto unsupported;
            if (clen)
                v->component[clen++] = '$';
            memcpy(v->component + clen, sel.val, sel.len);
            clen += sel.len;
            v->component[clen] = '\0';
        }
        if (last)
            return;
        cur = next;
    }
unsupported:
    v->alt_unsupported = true;
    v->has_index = false;
    v->component[0] = '\0';
}

static int dec_var(const i61_ber_tlv *t, i61_mms_var *v)
{
    i61_ber_reader r;
    i61_ber_tlv spec, inner, aa;
    memset(v, 0, sizeof *v);
    if (t->id != 0x30)
        return MALFORMED;
    i61_ber_reader_sub(&r, t);
    if (need_next(&r, &spec) != I61_OK)
        return MALFORMED;
    if (spec.id == 0xa0) {
        i61_ber_reader ri;
        i61_ber_reader_sub(&ri, &spec);
        if (need_next(&ri, &inner) != I61_OK || at_end(&ri) != I61_OK)
            return MALFORMED;
        if (i61_mms_dec_object_name(&inner, &v->name) != I61_OK)
            return MALFORMED;
    } else if (spec.cls == 2 && spec.tag >= 1 && spec.tag <= 4) {
        v->alt_unsupported = true;           /* address, description, scattered, invalidated */
    } else {
        return MALFORMED;
    }
    int rc = i61_ber_next(&r, &aa);
    if (rc == I61_BER_END)
        return I61_OK;
    if (rc != I61_BER_OK || aa.id != 0xa5 || at_end(&r) != I61_OK)
        return MALFORMED;
    if (!v->alt_unsupported)
        dec_alternate_access(&aa, v);
    return I61_OK;
}

void i61_mms_access_spec_clear(i61_mms_access_spec *spec)
{
    if (!spec)
        return;
    free(spec->vars);
    memset(spec, 0, sizeof *spec);
}

/* VariableAccessSpecification CHOICE element -> spec (vars malloc'ed). */
static int dec_access_spec(const i61_ber_tlv *t, i61_mms_access_spec *spec)
{
    i61_ber_reader r;
    i61_ber_tlv e;
    memset(spec, 0, sizeof *spec);
    if (t->id == 0xa1) {
        i61_ber_reader_sub(&r, t);
        if (need_next(&r, &e) != I61_OK || at_end(&r) != I61_OK)
            return MALFORMED;
        spec->is_nvl = true;
        return i61_mms_dec_object_name(&e, &spec->nvl);
    }
    if (t->id != 0xa0)
        return MALFORMED;
    /* Counting pass decodes (and so validates) every element before anything is
     * allocated: the array is then proportional to well-formed input, never to a
     * flood of empty or bogus elements. */
    size_t n = 0;
    i61_mms_var tmp;
    i61_ber_reader_sub(&r, t);
    for (;;) {
        int rc = i61_ber_next(&r, &e);
        if (rc == I61_BER_END)
            break;
        if (rc != I61_BER_OK || dec_var(&e, &tmp) != I61_OK)
            return MALFORMED;
        if (++n > I61_MMS_MAX_ACCESS_VARS)
            return MALFORMED;
    }
    if (n == 0)
        return MALFORMED;
    spec->vars = calloc(n, sizeof *spec->vars);
    if (!spec->vars)
        return I61_ERR_UNKNOWN;
    i61_ber_reader_sub(&r, t);
    for (size_t i = 0; i < n; i++) {
        if (need_next(&r, &e) != I61_OK || dec_var(&e, &spec->vars[i]) != I61_OK) {
            i61_mms_access_spec_clear(spec);
            return MALFORMED;
        }
    }
    spec->n_vars = n;
    return I61_OK;
}

/* ================================================================ client requests */

static size_t open_request(i61_buf *b, uint32_t invoke_id)
{
    size_t m = i61_ber_open(b, 0xa0);
    i61_ber_put_uint64(b, 0x02, invoke_id);
    return m;
}

int i61_mms_enc_identify_req(i61_buf *b, uint32_t invoke_id)
{
    size_t start = b->len;
    size_t m = open_request(b, invoke_id);
    i61_ber_put_null(b, 0x82);
    i61_ber_close(b, m);
    return enc_done(b, start, I61_OK);
}

int i61_mms_enc_status_req(i61_buf *b, uint32_t invoke_id, bool extended)
{
    size_t start = b->len;
    size_t m = open_request(b, invoke_id);
    i61_ber_put_bool(b, 0x80, extended);
    i61_ber_close(b, m);
    return enc_done(b, start, I61_OK);
}

int i61_mms_enc_get_name_list_req(i61_buf *b, uint32_t invoke_id, int object_class, int scope,
                                  const char *domain, const char *continue_after)
{
    size_t start = b->len;
    if (object_class < 0 || object_class > 11)
        return I61_ERR_INVALID_ARGUMENT;
    if (continue_after && !name_ok(continue_after, false))
        return I61_ERR_INVALID_ARGUMENT;
    size_t m = open_request(b, invoke_id);
    size_t s = i61_ber_open(b, 0xa1);
    size_t c = i61_ber_open(b, 0xa0);               /* extendedObjectClass */
    i61_ber_put_int64(b, 0x80, object_class);        /* objectClass [0] */
    i61_ber_close(b, c);
    size_t o = i61_ber_open(b, 0xa1);               /* objectScope */
    int rc = I61_OK;
    switch (scope) {
    case I61_MMS_SCOPE_VMD: i61_ber_put_null(b, 0x80); break;
    case I61_MMS_SCOPE_DOMAIN:
        if (!name_ok(domain, false))
            rc = I61_ERR_INVALID_ARGUMENT;
        else
            i61_ber_put_str(b, 0x81, domain);
        break;
    case I61_MMS_SCOPE_AA: i61_ber_put_null(b, 0x82); break;
    default: rc = I61_ERR_INVALID_ARGUMENT; break;
    }
    if (rc == I61_OK) {
        i61_ber_close(b, o);
        if (continue_after)
            i61_ber_put_str(b, 0x82, continue_after);
        i61_ber_close(b, s);
        i61_ber_close(b, m);
    }
    return enc_done(b, start, rc);
}

int i61_mms_enc_gvaa_req(i61_buf *b, uint32_t invoke_id, const i61_mms_name *name)
{
    size_t start = b->len;
    size_t m = open_request(b, invoke_id);
    size_t s = i61_ber_open(b, 0xa6);
    size_t n = i61_ber_open(b, 0xa0);                /* name [0] ObjectName */
    int rc = i61_mms_enc_object_name(b, name);
    if (rc == I61_OK) {
        i61_ber_close(b, n);
        i61_ber_close(b, s);
        i61_ber_close(b, m);
    }
    return enc_done(b, start, rc);
}

int i61_mms_enc_read_req(i61_buf *b, uint32_t invoke_id, bool spec_with_result,
                         const i61_mms_access_spec *spec)
{
    size_t start = b->len;
    size_t m = open_request(b, invoke_id);
    size_t s = i61_ber_open(b, 0xa4);
    if (spec_with_result)
        i61_ber_put_bool(b, 0x80, true);
    size_t v = i61_ber_open(b, 0xa1);                /* variableAccessSpecification [1] */
    int rc = enc_access_spec(b, spec);
    if (rc == I61_OK) {
        i61_ber_close(b, v);
        i61_ber_close(b, s);
        i61_ber_close(b, m);
    }
    return enc_done(b, start, rc);
}

int i61_mms_enc_write_req(i61_buf *b, uint32_t invoke_id, const i61_mms_access_spec *spec,
                          const i61_value *const *values, size_t n_values)
{
    size_t start = b->len;
    if (!spec || !values || n_values == 0 || (!spec->is_nvl && n_values != spec->n_vars))
        return I61_ERR_INVALID_ARGUMENT;
    size_t m = open_request(b, invoke_id);
    size_t s = i61_ber_open(b, 0xa5);
    int rc = enc_access_spec(b, spec);               /* untagged CHOICE: a0 list / a1 nvl */
    if (rc == I61_OK) {
        size_t d = i61_ber_open(b, 0xa0);            /* listOfData [0] */
        for (size_t i = 0; i < n_values && rc == I61_OK; i++)
            rc = values[i] ? i61_mms_data_encode(b, values[i]) : I61_ERR_INVALID_ARGUMENT;
        if (rc == I61_OK) {
            i61_ber_close(b, d);
            i61_ber_close(b, s);
            i61_ber_close(b, m);
        }
    }
    return enc_done(b, start, rc);
}

/* ================================================================ client responses */

int i61_mms_dec_identify_resp(const uint8_t *pdu, size_t len, char **vendor, char **model,
                              char **revision, i61_mms_error *err)
{
    i61_ber_tlv body, f[3], x;
    i61_ber_reader r;
    *vendor = *model = *revision = NULL;
    int rc = dec_response(pdu, len, I61_MMS_SVC_IDENTIFY, &body, err);
    if (rc != I61_OK)
        return rc;
    if (!body.constructed)
        return MALFORMED;
    i61_ber_reader_sub(&r, &body);
    for (int i = 0; i < 3; i++)
        if (need_next(&r, &f[i]) != I61_OK || f[i].id != (i61_ber_id)(0x80 + i))
            return MALFORMED;
    int more = i61_ber_next(&r, &x);                    /* listOfAbstractSyntaxes [3] OPT */
    if (more == I61_BER_ERR || (more == I61_BER_OK && (x.id != 0xa3 || at_end(&r) != I61_OK)))
        return MALFORMED;
    char *v = dup_content(&f[0]), *m = dup_content(&f[1]), *rv = dup_content(&f[2]);
    if (!v || !m || !rv) {
        free(v);
        free(m);
        free(rv);
        return MALFORMED;
    }
    *vendor = v;
    *model = m;
    *revision = rv;
    return I61_OK;
}

int i61_mms_dec_status_resp(const uint8_t *pdu, size_t len, int *logical, int *physical,
                            i61_mms_error *err)
{
    i61_ber_tlv body, a, b, x;
    i61_ber_reader r;
    int rc = dec_response(pdu, len, I61_MMS_SVC_STATUS, &body, err);
    if (rc != I61_OK)
        return rc;
    if (body.id != 0xa0)
        return MALFORMED;
    i61_ber_reader_sub(&r, &body);
    if (need_next(&r, &a) != I61_OK || a.id != 0x80 || need_next(&r, &b) != I61_OK || b.id != 0x81)
        return MALFORMED;
    int more = i61_ber_next(&r, &x);                    /* localDetail [2] BIT STRING OPT */
    if (more == I61_BER_ERR || (more == I61_BER_OK && (x.id != 0x82 || at_end(&r) != I61_OK)))
        return MALFORMED;
    int l, p;
    if (get_int(&a, &l) != I61_OK || get_int(&b, &p) != I61_OK)
        return MALFORMED;
    *logical = l;
    *physical = p;
    return I61_OK;
}

int i61_mms_dec_get_name_list_resp(const uint8_t *pdu, size_t len, i61_mms_idlist *names,
                                   bool *more_follows, i61_mms_error *err)
{
    i61_ber_tlv body, list, mf, e;
    i61_ber_reader r, rl;
    bool more = true;                                    /* DEFAULT TRUE */
    int rc = dec_response(pdu, len, I61_MMS_SVC_GET_NAME_LIST, &body, err);
    if (rc != I61_OK)
        return rc;
    if (body.id != 0xa1)
        return MALFORMED;
    i61_ber_reader_sub(&r, &body);
    if (need_next(&r, &list) != I61_OK || list.id != 0xa0)
        return MALFORMED;
    int n = i61_ber_next(&r, &mf);
    if (n == I61_BER_ERR)
        return MALFORMED;
    if (n == I61_BER_OK && (mf.id != 0x81 || get_bool(&mf, &more) != I61_OK || at_end(&r) != I61_OK))
        return MALFORMED;
    /* validate every identifier first so that a bad PDU adds nothing */
    i61_ber_reader_sub(&rl, &list);
    for (;;) {
        int k = i61_ber_next(&rl, &e);
        if (k == I61_BER_END)
            break;
        if (k != I61_BER_OK || e.id != 0x1a || e.len == 0 || e.len > I61_MMS_NAME_MAX
            || memchr(e.val, 0, e.len))
            return MALFORMED;
    }
    size_t before = names->count;
    i61_ber_reader_sub(&rl, &list);
    while (i61_ber_next(&rl, &e) == I61_BER_OK) {
        if (i61_mms_idlist_add(names, (const char *)e.val, e.len) != 0) {
            while (names->count > before)
                free(names->items[--names->count]);
            return I61_ERR_UNKNOWN;
        }
    }
    *more_follows = more;
    return I61_OK;
}

int i61_mms_dec_gvaa_resp(const uint8_t *pdu, size_t len, bool *deletable,
                          i61_typespec **type, i61_mms_error *err)
{
    i61_ber_tlv body, del, e, ts;
    i61_ber_reader r, rt;
    *type = NULL;
    int rc = dec_response(pdu, len, I61_MMS_SVC_GVAA, &body, err);
    if (rc != I61_OK)
        return rc;
    if (body.id != 0xa6)
        return MALFORMED;
    i61_ber_reader_sub(&r, &body);
    if (need_next(&r, &del) != I61_OK || del.id != 0x80 || get_bool(&del, deletable) != I61_OK)
        return MALFORMED;
    if (need_next(&r, &e) != I61_OK)
        return MALFORMED;
    if (e.id == 0xa1 && need_next(&r, &e) != I61_OK)     /* address [1] OPT, skipped */
        return MALFORMED;
    if (e.id != 0xa2 || at_end(&r) != I61_OK)
        return MALFORMED;
    i61_ber_reader_sub(&rt, &e);                         /* typeSpecification [2] explicit */
    if (need_next(&rt, &ts) != I61_OK || at_end(&rt) != I61_OK)
        return MALFORMED;
    rc = i61_mms_typespec_decode(&ts, 0, type);
    if (rc != I61_OK) {
        *type = NULL;
        return (rc == I61_ERR_TYPE_UNSUPPORTED || rc == I61_ERR_UNKNOWN) ? rc : MALFORMED;
    }
    return I61_OK;
}

/* Read-Response envelope -> listOfAccessResult TLV and its element count. */
static int read_resp_list(const uint8_t *pdu, size_t len, i61_ber_tlv *list, size_t *count,
                          bool *echoed, i61_mms_error *err)
{
    i61_ber_tlv body, e;
    i61_ber_reader r, rl;
    *echoed = false;
    int rc = dec_response(pdu, len, I61_MMS_SVC_READ, &body, err);
    if (rc != I61_OK)
        return rc;
    if (body.id != 0xa4)
        return MALFORMED;
    i61_ber_reader_sub(&r, &body);
    if (need_next(&r, &e) != I61_OK)
        return MALFORMED;
    if (e.id == 0xa0) {                                  /* echoed spec [0] explicit */
        i61_ber_reader rs;
        i61_ber_tlv s;
        i61_ber_reader_sub(&rs, &e);
        if (need_next(&rs, &s) != I61_OK || (s.id != 0xa0 && s.id != 0xa1) || at_end(&rs) != I61_OK)
            return MALFORMED;
        *echoed = true;
        if (need_next(&r, &e) != I61_OK)
            return MALFORMED;
    }
    if (e.id != 0xa1 || at_end(&r) != I61_OK)
        return MALFORMED;
    *list = e;
    size_t n = 0;
    i61_ber_reader_sub(&rl, list);
    for (;;) {
        int k = i61_ber_next(&rl, &e);
        if (k == I61_BER_END)
            break;
        if (k != I61_BER_OK)
            return MALFORMED;
        n++;
    }
    *count = n;
    return I61_OK;
}

/* Decodes the n AccessResults of list into vals (all or nothing). */
static int read_resp_values(const i61_ber_tlv *list, i61_value **vals, size_t n)
{
    i61_ber_reader rl;
    i61_ber_tlv e;
    i61_ber_reader_sub(&rl, list);
    for (size_t i = 0; i < n; i++) {
        vals[i] = NULL;
        int rc = need_next(&rl, &e);
        if (rc == I61_OK)
            rc = i61_mms_access_result_decode(&e, 0, &vals[i]);
        if (rc == I61_OK && !vals[i])
            rc = MALFORMED;
        if (rc != I61_OK) {
            for (size_t k = 0; k <= i; k++) {
                i61_value_free(vals[k]);
                vals[k] = NULL;
            }
            return rc == I61_ERR_UNKNOWN ? rc : MALFORMED;
        }
    }
    return I61_OK;
}

int i61_mms_dec_read_resp(const uint8_t *pdu, size_t len, i61_value **results,
                          bool *spec_echoed, i61_mms_error *err)
{
    i61_ber_tlv list;
    size_t n = 0;
    bool echoed;
    *results = NULL;
    int rc = read_resp_list(pdu, len, &list, &n, &echoed, err);
    if (rc != I61_OK)
        return rc;
    i61_value **vals = n ? calloc(n, sizeof *vals) : NULL;
    i61_value *arr = i61_value_new_array(n);
    if ((n && !vals) || !arr) {
        free(vals);
        i61_value_free(arr);
        return I61_ERR_UNKNOWN;
    }
    rc = n ? read_resp_values(&list, vals, n) : I61_OK;
    for (size_t i = 0; i < n && rc == I61_OK; i++) {
        if (i61_value_set_element(arr, i, vals[i]) != I61_OK) {   /* consumes vals[i] */
            for (size_t k = i + 1; k < n; k++)
                i61_value_free(vals[k]);
            rc = I61_ERR_UNKNOWN;
        }
    }
    free(vals);
    if (rc != I61_OK) {
        i61_value_free(arr);
        return rc;
    }
    if (spec_echoed)
        *spec_echoed = echoed;
    *results = arr;
    return I61_OK;
}

int i61_mms_dec_read_resp_n(const uint8_t *pdu, size_t len, i61_value **vals, size_t n,
                            bool *spec_echoed, i61_mms_error *err)
{
    i61_ber_tlv list;
    size_t count = 0;
    bool echoed;
    for (size_t i = 0; i < n; i++)
        vals[i] = NULL;
    int rc = read_resp_list(pdu, len, &list, &count, &echoed, err);
    if (rc != I61_OK)
        return rc;
    if (count != n)
        return MALFORMED;
    if (n) {
        rc = read_resp_values(&list, vals, n);
        if (rc != I61_OK)
            return rc;
    }
    if (spec_echoed)
        *spec_echoed = echoed;
    return I61_OK;
}

int i61_mms_dec_write_resp(const uint8_t *pdu, size_t len, int *dae, size_t n,
                           i61_mms_error *err)
{
    i61_ber_tlv body, e;
    i61_ber_reader r;
    int rc = dec_response(pdu, len, I61_MMS_SVC_WRITE, &body, err);
    if (rc != I61_OK)
        return rc;
    if (body.id != 0xa5)
        return MALFORMED;
    i61_ber_reader_sub(&r, &body);
    for (size_t i = 0; i < n; i++) {
        if (need_next(&r, &e) != I61_OK)
            return MALFORMED;
        if (e.id == 0x81 && e.len == 0) {
            dae[i] = -1;
        } else if (e.id == 0x80) {
            int code;
            if (get_int(&e, &code) != I61_OK || code < 0)
                return MALFORMED;
            dae[i] = code;
        } else {
            return MALFORMED;
        }
    }
    return at_end(&r);
}

/* ================================================================ server requests */

int i61_mms_dec_request(const uint8_t *pdu, size_t len, i61_mms_request *req)
{
    i61_ber_tlv t, c;
    i61_ber_reader r;
    memset(req, 0, sizeof *req);
    if (parse_whole(pdu, len, &t) != I61_OK || t.id != 0xa0)
        return MALFORMED;
    i61_ber_reader_sub(&r, &t);
    if (need_next(&r, &c) != I61_OK || c.id != 0x02 || get_u32(&c, &req->invoke_id) != I61_OK)
        return MALFORMED;
    req->has_invoke_id = true;
    if (need_next(&r, &c) != I61_OK)
        return MALFORMED;
    if (c.id == 0x30 && need_next(&r, &c) != I61_OK)      /* listOfModifier */
        return MALFORMED;
    if (c.cls != 2)
        return MALFORMED;
    req->service = (int)c.tag;
    req->body = c;
    /* Anything after the service element (service-ext) is ignored, but must parse. */
    for (;;) {
        int k = i61_ber_next(&r, &c);
        if (k == I61_BER_END)
            break;
        if (k != I61_BER_OK)
            return MALFORMED;
    }
    return I61_OK;
}

int i61_mms_dec_status_req(const i61_mms_request *r, bool *extended)
{
    if (r->service != I61_MMS_SVC_STATUS || r->body.id != 0x80)
        return MALFORMED;
    return get_bool(&r->body, extended);
}

int i61_mms_dec_get_name_list_req(const i61_mms_request *rq, i61_mms_gnl_req *out)
{
    i61_ber_reader r, rs;
    i61_ber_tlv cls, scope, s, ca;
    memset(out, 0, sizeof *out);
    if (rq->service != I61_MMS_SVC_GET_NAME_LIST || rq->body.id != 0xa1)
        return MALFORMED;
    i61_ber_reader_sub(&r, &rq->body);
    if (need_next(&r, &cls) != I61_OK || cls.id != 0xa0)
        return MALFORMED;
    i61_ber_reader_sub(&rs, &cls);
    if (need_next(&rs, &s) != I61_OK || s.id != 0x80 || at_end(&rs) != I61_OK
        || get_int(&s, &out->object_class) != I61_OK)
        return MALFORMED;
    if (need_next(&r, &scope) != I61_OK || scope.id != 0xa1)
        return MALFORMED;
    i61_ber_reader_sub(&rs, &scope);
    if (need_next(&rs, &s) != I61_OK || at_end(&rs) != I61_OK || s.constructed)
        return MALFORMED;
    switch (s.id) {
    case 0x80: out->scope = I61_MMS_SCOPE_VMD; break;
    case 0x81:
        out->scope = I61_MMS_SCOPE_DOMAIN;
        if (get_ident(&s, out->domain, sizeof out->domain) != I61_OK)
            return MALFORMED;
        break;
    case 0x82: out->scope = I61_MMS_SCOPE_AA; break;
    default: return MALFORMED;
    }
    int k = i61_ber_next(&r, &ca);
    if (k == I61_BER_ERR)
        return MALFORMED;
    if (k == I61_BER_OK) {
        if (ca.id != 0x82 || get_ident(&ca, out->continue_after, sizeof out->continue_after) != I61_OK
            || at_end(&r) != I61_OK)
            return MALFORMED;
        out->has_continue_after = true;
    }
    return I61_OK;
}

int i61_mms_dec_gvaa_req(const i61_mms_request *rq, i61_mms_name *name)
{
    i61_ber_reader r, rn;
    i61_ber_tlv c, n;
    memset(name, 0, sizeof *name);
    if (rq->service != I61_MMS_SVC_GVAA || rq->body.id != 0xa6)
        return MALFORMED;
    i61_ber_reader_sub(&r, &rq->body);
    if (need_next(&r, &c) != I61_OK || at_end(&r) != I61_OK)
        return MALFORMED;
    if (c.id == 0xa1)
        return I61_ERR_OBJECT_ACCESS_UNSUPPORTED;        /* address form */
    if (c.id != 0xa0)
        return MALFORMED;
    i61_ber_reader_sub(&rn, &c);
    if (need_next(&rn, &n) != I61_OK || at_end(&rn) != I61_OK)
        return MALFORMED;
    return i61_mms_dec_object_name(&n, name);
}

int i61_mms_dec_read_req(const i61_mms_request *rq, bool *spec_with_result,
                         i61_mms_access_spec *spec)
{
    i61_ber_reader r, rv;
    i61_ber_tlv c, v;
    memset(spec, 0, sizeof *spec);
    *spec_with_result = false;
    if (rq->service != I61_MMS_SVC_READ || rq->body.id != 0xa4)
        return MALFORMED;
    i61_ber_reader_sub(&r, &rq->body);
    if (need_next(&r, &c) != I61_OK)
        return MALFORMED;
    if (c.id == 0x80) {
        if (get_bool(&c, spec_with_result) != I61_OK || need_next(&r, &c) != I61_OK)
            return MALFORMED;
    }
    if (c.id != 0xa1 || at_end(&r) != I61_OK)
        return MALFORMED;
    i61_ber_reader_sub(&rv, &c);
    if (need_next(&rv, &v) != I61_OK || at_end(&rv) != I61_OK)
        return MALFORMED;
    return dec_access_spec(&v, spec);
}

void i61_mms_values_free(i61_value **values, size_t n)
{
    if (!values)
        return;
    for (size_t i = 0; i < n; i++)
        i61_value_free(values[i]);
    free(values);
}

int i61_mms_dec_write_req(const i61_mms_request *rq, i61_mms_access_spec *spec,
                          i61_value ***values, size_t *n_values)
{
    i61_ber_reader r, rd;
    i61_ber_tlv s, d, e;
    memset(spec, 0, sizeof *spec);
    *values = NULL;
    *n_values = 0;
    if (rq->service != I61_MMS_SVC_WRITE || rq->body.id != 0xa5)
        return MALFORMED;
    i61_ber_reader_sub(&r, &rq->body);
    if (need_next(&r, &s) != I61_OK || need_next(&r, &d) != I61_OK || d.id != 0xa0
        || at_end(&r) != I61_OK)
        return MALFORMED;
    size_t n = 0;
    i61_ber_reader_sub(&rd, &d);
    for (;;) {
        int k = i61_ber_next(&rd, &e);
        if (k == I61_BER_END)
            break;
        if (k != I61_BER_OK)
            return MALFORMED;
        n++;
    }
    if (n == 0)
        return MALFORMED;
    int rc = dec_access_spec(&s, spec);
    if (rc != I61_OK)
        return rc;
    if (!spec->is_nvl && spec->n_vars != n) {
        i61_mms_access_spec_clear(spec);
        return MALFORMED;
    }
    i61_value **vals = calloc(n, sizeof *vals);
    if (!vals) {
        i61_mms_access_spec_clear(spec);
        return I61_ERR_UNKNOWN;
    }
    i61_ber_reader_sub(&rd, &d);
    for (size_t i = 0; i < n; i++) {
        int rc2 = need_next(&rd, &e);
        if (rc2 == I61_OK)
            rc2 = i61_mms_data_decode(&e, 0, &vals[i]);
        if (rc2 != I61_OK) {
            vals[i] = NULL;
            i61_mms_values_free(vals, n);
            i61_mms_access_spec_clear(spec);
            return rc2 == I61_ERR_UNKNOWN ? rc2 : MALFORMED;
        }
    }
    *values = vals;
    *n_values = n;
    return I61_OK;
}

/* ================================================================ server responses */

static size_t open_response(i61_buf *b, uint32_t invoke_id)
{
    size_t m = i61_ber_open(b, 0xa1);
    i61_ber_put_uint64(b, 0x02, invoke_id);
    return m;
}

int i61_mms_enc_identify_resp(i61_buf *b, uint32_t invoke_id, const char *vendor,
                              const char *model, const char *revision)
{
    size_t start = b->len;
    if (!vendor || !model || !revision)
        return I61_ERR_INVALID_ARGUMENT;
    size_t m = open_response(b, invoke_id);
    size_t s = i61_ber_open(b, 0xa2);
    i61_ber_put_str(b, 0x80, vendor);
    i61_ber_put_str(b, 0x81, model);
    i61_ber_put_str(b, 0x82, revision);
    i61_ber_close(b, s);
    i61_ber_close(b, m);
    return enc_done(b, start, I61_OK);
}

int i61_mms_enc_status_resp(i61_buf *b, uint32_t invoke_id, int logical, int physical)
{
    size_t start = b->len;
    size_t m = open_response(b, invoke_id);
    size_t s = i61_ber_open(b, 0xa0);
    i61_ber_put_int64(b, 0x80, logical);
    i61_ber_put_int64(b, 0x81, physical);
    i61_ber_close(b, s);
    i61_ber_close(b, m);
    return enc_done(b, start, I61_OK);
}

int i61_mms_enc_get_name_list_resp(i61_buf *b, uint32_t invoke_id, const char *const *names,
                                   size_t n, bool more_follows)
{
    size_t start = b->len;
    if (n && !names)
        return I61_ERR_INVALID_ARGUMENT;
    size_t m = open_response(b, invoke_id);
    size_t s = i61_ber_open(b, 0xa1);
    size_t l = i61_ber_open(b, 0xa0);
    for (size_t i = 0; i < n; i++) {
        if (!names[i])
            return enc_done(b, start, I61_ERR_INVALID_ARGUMENT);
        i61_ber_put_str(b, 0x1a, names[i]);
    }
    i61_ber_close(b, l);
    if (!more_follows)
        i61_ber_put_bool(b, 0x81, false);             /* DEFAULT TRUE: only FALSE is sent */
    i61_ber_close(b, s);
    i61_ber_close(b, m);
    return enc_done(b, start, I61_OK);
}

int i61_mms_enc_gvaa_resp(i61_buf *b, uint32_t invoke_id, bool deletable,
                          const i61_typespec *type)
{
    size_t start = b->len;
    if (!type)
        return I61_ERR_INVALID_ARGUMENT;
    size_t m = open_response(b, invoke_id);
    size_t s = i61_ber_open(b, 0xa6);
    i61_ber_put_bool(b, 0x80, deletable);
    size_t t = i61_ber_open(b, 0xa2);
    int rc = i61_mms_typespec_encode(b, type);
    if (rc == I61_OK) {
        i61_ber_close(b, t);
        i61_ber_close(b, s);
        i61_ber_close(b, m);
    }
    return enc_done(b, start, rc);
}

int i61_mms_enc_read_resp(i61_buf *b, uint32_t invoke_id, const i61_mms_access_spec *echo,
                          const i61_value *const *results, size_t n)
{
    size_t start = b->len;
    int rc = I61_OK;
    if (n && !results)
        return I61_ERR_INVALID_ARGUMENT;
    size_t m = open_response(b, invoke_id);
    size_t s = i61_ber_open(b, 0xa4);
    if (echo) {
        size_t e = i61_ber_open(b, 0xa0);
        rc = enc_access_spec(b, echo);
        if (rc != I61_OK)
            return enc_done(b, start, rc);
        i61_ber_close(b, e);
    }
    size_t l = i61_ber_open(b, 0xa1);
    for (size_t i = 0; i < n && rc == I61_OK; i++) {
        if (!results[i]) {
            rc = I61_ERR_INVALID_ARGUMENT;
        } else if (i61_value_type(results[i]) == I61_TYPE_DATA_ACCESS_ERROR) {
            int dae = i61_value_get_data_access_error(results[i]);
            if (dae < 0)
                rc = I61_ERR_INVALID_ARGUMENT;
            else
                i61_ber_put_int64(b, 0x80, dae);
        } else {
            rc = i61_mms_data_encode(b, results[i]);
        }
    }
    if (rc == I61_OK) {
        i61_ber_close(b, l);
        i61_ber_close(b, s);
        i61_ber_close(b, m);
    }
    return enc_done(b, start, rc);
}

int i61_mms_enc_write_resp(i61_buf *b, uint32_t invoke_id, const int *dae, size_t n)
{
    size_t start = b->len;
    if (n && !dae)
        return I61_ERR_INVALID_ARGUMENT;
    size_t m = open_response(b, invoke_id);
    size_t s = i61_ber_open(b, 0xa5);
    for (size_t i = 0; i < n; i++) {
        if (dae[i] < 0)
            i61_ber_put_null(b, 0x81);
        else
            i61_ber_put_int64(b, 0x80, dae[i]);
    }
    i61_ber_close(b, s);
    i61_ber_close(b, m);
    return enc_done(b, start, I61_OK);
}

int i61_mms_enc_error_pdu(i61_buf *b, uint32_t invoke_id, int cls, int code)
{
    size_t start = b->len;
    if (cls < 0 || cls > 12)
        return I61_ERR_INVALID_ARGUMENT;
    size_t m = i61_ber_open(b, 0xa2);
    i61_ber_put_uint64(b, 0x80, invoke_id);
    size_t s = i61_ber_open(b, 0xa2);
    size_t c = i61_ber_open(b, 0xa0);
    i61_ber_put_int64(b, (i61_ber_id)(0x80 + cls), code);
    i61_ber_close(b, c);
    i61_ber_close(b, s);
    i61_ber_close(b, m);
    return enc_done(b, start, I61_OK);
}

int i61_mms_enc_reject_pdu(i61_buf *b, bool has_invoke_id, uint32_t invoke_id, int reason,
                           int code)
{
    size_t start = b->len;
    if (reason < 1 || reason > 11)
        return I61_ERR_INVALID_ARGUMENT;
    size_t m = i61_ber_open(b, 0xa4);
    if (has_invoke_id)
        i61_ber_put_uint64(b, 0x80, invoke_id);
    i61_ber_put_int64(b, (i61_ber_id)(0x80 + reason), code);
    i61_ber_close(b, m);
    return enc_done(b, start, I61_OK);
}

/* ================================================ named variable lists (data sets)
 * Define [11]  ab { variableListName ObjectName, listOfVariable [0] }     -> 8b 00
 * GetAttr [12] ac { ObjectName } (explicit)  -> ac { 80 mmsDeletable, a1 listOfVariable }
 * Delete [13]  ad { 80 scopeOfDelete, a1 SEQ OF ObjectName, 82 domainName }
 *                                            -> ad { 80 numberMatched, 81 numberDeleted } */

/* A SEQUENCE OF variable specifications (the content of t) -> malloc'ed vars. */
static int dec_var_list(const i61_ber_tlv *t, i61_mms_var **vars, size_t *n_out)
{
    i61_ber_reader r;
    i61_ber_tlv e;
    size_t n = 0;
    *vars = NULL;
    *n_out = 0;
    if (!t->constructed)
        return MALFORMED;
    i61_mms_var tmp;
    i61_ber_reader_sub(&r, t);
    for (;;) {                              /* validate before allocating (see dec_access_spec) */
        int k = i61_ber_next(&r, &e);
        if (k == I61_BER_END)
            break;
        if (k != I61_BER_OK || ++n > I61_MMS_NVL_MAX_MEMBERS || dec_var(&e, &tmp) != I61_OK)
            return MALFORMED;
    }
    if (n == 0)
        return I61_OK;
    i61_mms_var *v = calloc(n, sizeof *v);
    if (!v)
        return I61_ERR_UNKNOWN;
    i61_ber_reader_sub(&r, t);
    for (size_t i = 0; i < n; i++) {
        if (need_next(&r, &e) != I61_OK || dec_var(&e, &v[i]) != I61_OK) {
            free(v);
            return MALFORMED;
        }
    }
    *vars = v;
    *n_out = n;
    return I61_OK;
}

static int enc_var_list(i61_buf *b, i61_ber_id id, const i61_mms_var *members, size_t n)
{
    if (n && !members)
        return I61_ERR_INVALID_ARGUMENT;
    size_t m = i61_ber_open(b, id);
    for (size_t i = 0; i < n; i++) {
        int rc = enc_var(b, &members[i]);
        if (rc != I61_OK)
            return rc;
    }
    i61_ber_close(b, m);
    return I61_OK;
}

int i61_mms_enc_define_nvl_req(i61_buf *b, uint32_t invoke_id, const i61_mms_name *name,
                               const i61_mms_var *members, size_t n)
{
    size_t start = b->len;
    if (!name || n == 0)
        return I61_ERR_INVALID_ARGUMENT;
    size_t m = open_request(b, invoke_id);
    size_t s = i61_ber_open(b, 0xab);
    int rc = i61_mms_enc_object_name(b, name);
    if (rc == I61_OK)
        rc = enc_var_list(b, 0xa0, members, n);
    if (rc == I61_OK) {
        i61_ber_close(b, s);
        i61_ber_close(b, m);
    }
    return enc_done(b, start, rc);
}

int i61_mms_enc_get_nvl_attr_req(i61_buf *b, uint32_t invoke_id, const i61_mms_name *name)
{
    size_t start = b->len;
    if (!name)
        return I61_ERR_INVALID_ARGUMENT;
    size_t m = open_request(b, invoke_id);
    size_t s = i61_ber_open(b, 0xac);                /* explicit tag on the ObjectName CHOICE */
    int rc = i61_mms_enc_object_name(b, name);
    if (rc == I61_OK) {
        i61_ber_close(b, s);
        i61_ber_close(b, m);
    }
    return enc_done(b, start, rc);
}

int i61_mms_enc_delete_nvl_req(i61_buf *b, uint32_t invoke_id, const i61_mms_name *names,
                               size_t n)
{
    size_t start = b->len;
    if (!names || n == 0)
        return I61_ERR_INVALID_ARGUMENT;
    size_t m = open_request(b, invoke_id);
    size_t s = i61_ber_open(b, 0xad);
    i61_ber_put_int64(b, 0x80, 0);                   /* scopeOfDelete specific, as sent by peers */
    size_t l = i61_ber_open(b, 0xa1);
    int rc = I61_OK;
    for (size_t i = 0; i < n && rc == I61_OK; i++)
        rc = i61_mms_enc_object_name(b, &names[i]);
    if (rc == I61_OK) {
        i61_ber_close(b, l);
        i61_ber_close(b, s);
        i61_ber_close(b, m);
    }
    return enc_done(b, start, rc);
}

int i61_mms_dec_define_nvl_resp(const uint8_t *pdu, size_t len, i61_mms_error *err)
{
    i61_ber_tlv body;
    int rc = dec_response(pdu, len, I61_MMS_SVC_DEFINE_NVL, &body, err);
    if (rc != I61_OK)
        return rc;
    /* NULL; the Rust iec61850 server sends an empty constructed ab 00: tolerated */
    return ((body.id == 0x8b || body.id == 0xab) && body.len == 0) ? I61_OK : MALFORMED;
}

int i61_mms_dec_get_nvl_attr_resp(const uint8_t *pdu, size_t len, bool *deletable,
                                  i61_mms_var **members, size_t *n, i61_mms_error *err)
{
    i61_ber_tlv body, del, list;
    i61_ber_reader r;
    *members = NULL;
    *n = 0;
    int rc = dec_response(pdu, len, I61_MMS_SVC_GET_NVL_ATTR, &body, err);
    if (rc != I61_OK)
        return rc;
    if (body.id != 0xac)
        return MALFORMED;
    i61_ber_reader_sub(&r, &body);
    if (need_next(&r, &del) != I61_OK || del.id != 0x80 || get_bool(&del, deletable) != I61_OK)
        return MALFORMED;
    if (need_next(&r, &list) != I61_OK || list.id != 0xa1)
        return MALFORMED;
    /* accessControlList [2] (MMS Ed2) may follow: skipped if well-formed */
    i61_ber_tlv extra;
    int k = i61_ber_next(&r, &extra);
    if (k == I61_BER_ERR || (k == I61_BER_OK && (extra.id != 0xa2 && extra.id != 0x82)))
        return MALFORMED;
    if (k == I61_BER_OK && at_end(&r) != I61_OK)
        return MALFORMED;
    return dec_var_list(&list, members, n);
}

int i61_mms_dec_delete_nvl_resp(const uint8_t *pdu, size_t len, uint32_t *matched,
                                uint32_t *deleted, i61_mms_error *err)
{
    i61_ber_tlv body, a, d;
    i61_ber_reader r;
    int rc = dec_response(pdu, len, I61_MMS_SVC_DELETE_NVL, &body, err);
    if (rc != I61_OK)
        return rc;
    if (body.id != 0xad)
        return MALFORMED;
    i61_ber_reader_sub(&r, &body);
    if (need_next(&r, &a) != I61_OK || a.id != 0x80 || get_u32(&a, matched) != I61_OK
        || need_next(&r, &d) != I61_OK || d.id != 0x81 || get_u32(&d, deleted) != I61_OK)
        return MALFORMED;
    return at_end(&r);
}

int i61_mms_dec_define_nvl_req(const i61_mms_request *rq, i61_mms_name *name,
                               i61_mms_var **members, size_t *n)
{
    i61_ber_reader r;
    i61_ber_tlv nm, list;
    *members = NULL;
    *n = 0;
    memset(name, 0, sizeof *name);
    if (rq->service != I61_MMS_SVC_DEFINE_NVL || rq->body.id != 0xab)
        return MALFORMED;
    i61_ber_reader_sub(&r, &rq->body);
    if (need_next(&r, &nm) != I61_OK || i61_mms_dec_object_name(&nm, name) != I61_OK)
        return MALFORMED;
    if (need_next(&r, &list) != I61_OK || list.id != 0xa0 || at_end(&r) != I61_OK)
        return MALFORMED;
    int rc = dec_var_list(&list, members, n);
    if (rc == I61_OK && *n == 0)
        rc = MALFORMED;
    return rc;
}

int i61_mms_dec_get_nvl_attr_req(const i61_mms_request *rq, i61_mms_name *name)
{
    i61_ber_reader r;
    i61_ber_tlv nm;
    memset(name, 0, sizeof *name);
    if (rq->service != I61_MMS_SVC_GET_NVL_ATTR || rq->body.id != 0xac)
        return MALFORMED;
    i61_ber_reader_sub(&r, &rq->body);
    if (need_next(&r, &nm) != I61_OK || at_end(&r) != I61_OK)
        return MALFORMED;
    return i61_mms_dec_object_name(&nm, name);
}

void i61_mms_delete_nvl_req_clear(i61_mms_delete_nvl_req *d)
{
    if (!d)
        return;
    free(d->names);
    memset(d, 0, sizeof *d);
}

int i61_mms_dec_delete_nvl_req(const i61_mms_request *rq, i61_mms_delete_nvl_req *out)
{
    i61_ber_reader r, rl;
    i61_ber_tlv e, x;
    memset(out, 0, sizeof *out);
    if (rq->service != I61_MMS_SVC_DELETE_NVL || rq->body.id != 0xad)
        return MALFORMED;
    i61_ber_reader_sub(&r, &rq->body);
    int k = i61_ber_next(&r, &e);
    if (k == I61_BER_OK && e.id == 0x80) {
        if (get_int(&e, &out->scope) != I61_OK || out->scope < 0 || out->scope > 3)
            return MALFORMED;
        k = i61_ber_next(&r, &e);
    }
    if (k == I61_BER_OK && e.id == 0xa1) {
        size_t n = 0;
        i61_mms_name tmp;
        i61_ber_reader_sub(&rl, &e);
        for (;;) {                          /* validate before allocating */
            int k2 = i61_ber_next(&rl, &x);
            if (k2 == I61_BER_END)
                break;
            if (k2 != I61_BER_OK || ++n > I61_MMS_NVL_MAX_MEMBERS
                || i61_mms_dec_object_name(&x, &tmp) != I61_OK)
                return MALFORMED;
        }
        if (n) {
            out->names = calloc(n, sizeof *out->names);
            if (!out->names)
                return I61_ERR_UNKNOWN;
            i61_ber_reader_sub(&rl, &e);
            for (size_t i = 0; i < n; i++) {
                if (need_next(&rl, &x) != I61_OK
                    || i61_mms_dec_object_name(&x, &out->names[i]) != I61_OK) {
                    i61_mms_delete_nvl_req_clear(out);
                    return MALFORMED;
                }
            }
            out->n = n;
        }
        k = i61_ber_next(&r, &e);
    }
    if (k == I61_BER_OK && e.id == 0x82) {
        if (get_ident(&e, out->domain, sizeof out->domain) != I61_OK) {
            i61_mms_delete_nvl_req_clear(out);
            return MALFORMED;
        }
        out->has_domain = true;
        k = i61_ber_next(&r, &e);
    }
    if (k != I61_BER_END) {
        i61_mms_delete_nvl_req_clear(out);
        return MALFORMED;
    }
    return I61_OK;
}

int i61_mms_enc_define_nvl_resp(i61_buf *b, uint32_t invoke_id)
{
    size_t start = b->len;
    size_t m = open_response(b, invoke_id);
    i61_ber_put_null(b, 0x8b);
    i61_ber_close(b, m);
    return enc_done(b, start, I61_OK);
}

int i61_mms_enc_get_nvl_attr_resp(i61_buf *b, uint32_t invoke_id, bool deletable,
                                  const i61_mms_var *members, size_t n)
{
    size_t start = b->len;
    size_t m = open_response(b, invoke_id);
    size_t s = i61_ber_open(b, 0xac);
    i61_ber_put_bool(b, 0x80, deletable);
    int rc = enc_var_list(b, 0xa1, members, n);
    if (rc == I61_OK) {
        i61_ber_close(b, s);
        i61_ber_close(b, m);
    }
    return enc_done(b, start, rc);
}

int i61_mms_enc_delete_nvl_resp(i61_buf *b, uint32_t invoke_id, uint32_t matched,
                                uint32_t deleted)
{
    size_t start = b->len;
    size_t m = open_response(b, invoke_id);
    size_t s = i61_ber_open(b, 0xad);
    i61_ber_put_uint64(b, 0x80, matched);
    i61_ber_put_uint64(b, 0x81, deleted);
    i61_ber_close(b, s);
    i61_ber_close(b, m);
    return enc_done(b, start, I61_OK);
}
/* ========================================= end of named variable lists (data sets) */
