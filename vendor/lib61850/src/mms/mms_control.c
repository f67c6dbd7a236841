/* Control model codec (see mms_control.h, PROTOCOL.md section 12).
 *
 * The command structures and the LastApplError are built as i61_value trees
 * and encoded by mms_data.c, so their Data encoding is the one every other
 * value gets. The report decoder walks the PDU with the BER reader (no
 * recursion of its own; Data decoding is depth-limited by mms_data.c).
 */
#include "mms_control.h"

#include <stdlib.h>
#include <string.h>

#include "mms_data.h"
#include "mms_report.h"

#define MALFORMED I61_ERR_MALFORMED_MESSAGE

static const char i61_lae_name[] = "LastApplError";

/* ------------------------------------------------------------ UtcTime */

void i61_utc_time_from_ms(uint64_t ms, uint8_t q, uint8_t out[8])
{
    uint64_t secs = ms / 1000;
    uint32_t frac = (uint32_t)(((ms % 1000) << 24) / 1000);
    out[0] = (uint8_t)(secs >> 24);
    out[1] = (uint8_t)(secs >> 16);
    out[2] = (uint8_t)(secs >> 8);
    out[3] = (uint8_t)secs;
    out[4] = (uint8_t)(frac >> 16);
    out[5] = (uint8_t)(frac >> 8);
    out[6] = (uint8_t)frac;
    out[7] = q;
}

uint64_t i61_utc_time_to_ms(const uint8_t t[8])
{
    uint64_t secs = ((uint64_t)t[0] << 24) | ((uint64_t)t[1] << 16) | ((uint64_t)t[2] << 8) | t[3];
    uint64_t frac = ((uint64_t)t[4] << 16) | ((uint64_t)t[5] << 8) | t[6];
    return secs * 1000 + ((frac * 1000 + (1u << 23)) >> 24);
}

/* ------------------------------------------------------------ commands */

/* Sets slot i of s to v (takes v); false when v is NULL (OOM) or the set fails. */
static bool put(i61_value *s, size_t *i, i61_value *v)
{
    if (!v)
        return false;
    if (i61_value_set_element(s, (*i)++, v) != 0) {
        i61_value_free(v);
        return false;
    }
    return true;
}

int i61_ctl_build(int which, const i61_ctl_cmd *cmd, i61_value **out)
{
    if (!out)
        return I61_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!cmd || !cmd->ctl_val || cmd->or_ident_len > I61_CTL_OR_IDENT_MAX ||
        (cmd->or_ident_len && !cmd->or_ident) ||
        (which != I61_CTL_OPER && which != I61_CTL_SBOW && which != I61_CTL_CANCEL))
        return I61_ERR_INVALID_ARGUMENT;
    bool check = which != I61_CTL_CANCEL && cmd->has_check;
    size_t n = 5 + (cmd->has_oper_tm ? 1 : 0) + (check ? 1 : 0);
    i61_value *s = i61_value_new_structure(n);
    i61_value *origin = i61_value_new_structure(2);
    if (!s || !origin) {
        i61_value_free(s);
        i61_value_free(origin);
        return I61_ERR_UNKNOWN;
    }
    size_t k = 0, j = 0;
    static const uint8_t none = 0;
    bool ok = put(origin, &j, i61_value_new_integer(cmd->or_cat)) &&
              put(origin, &j, i61_value_new_octet_string(cmd->or_ident_len ? cmd->or_ident : &none,
                                                         cmd->or_ident_len));
    if (!ok) {
        i61_value_free(origin);
        origin = NULL;
    }
    ok = ok && put(s, &k, i61_value_clone(cmd->ctl_val));
    if (ok && cmd->has_oper_tm)
        ok = put(s, &k, i61_value_new_utc_time(cmd->oper_tm));
    if (ok) {
        ok = put(s, &k, origin);
        origin = NULL;
    }
    ok = ok && put(s, &k, i61_value_new_unsigned(cmd->ctl_num)) &&
         put(s, &k, i61_value_new_utc_time(cmd->t)) &&
         put(s, &k, i61_value_new_boolean(cmd->test));
    if (ok && check) {
        uint8_t bits = (uint8_t)((cmd->synchro_check ? 0x80 : 0) | (cmd->interlock_check ? 0x40 : 0));
        ok = put(s, &k, i61_value_new_bit_string(2, &bits));
    }
    i61_value_free(origin);
    if (!ok) {
        i61_value_free(s);
        return I61_ERR_UNKNOWN;
    }
    *out = s;
    return I61_OK;
}

/* Integer or unsigned value in [lo, hi]. */
static bool get_int(const i61_value *v, int64_t lo, int64_t hi, int64_t *out)
{
    int t = i61_value_type(v);
    if (t == I61_TYPE_INTEGER) {
        if (i61_value_get_int64(v, out) != 0)
            return false;
    } else if (t == I61_TYPE_UNSIGNED) {
        uint64_t u;
        if (i61_value_get_uint64(v, &u) != 0 || u > (uint64_t)INT64_MAX)
            return false;
        *out = (int64_t)u;
    } else {
        return false;
    }
    return *out >= lo && *out <= hi;
}

/* origin {orCat, orIdent} into or_cat / or_ident (borrowed). */
static bool get_origin(const i61_value *o, int *or_cat, const uint8_t **ident, size_t *len)
{
    int64_t cat;
    if (i61_value_type(o) != I61_TYPE_STRUCTURE || i61_value_count(o) != 2 ||
        !get_int(i61_value_element(o, 0), INT32_MIN, INT32_MAX, &cat))
        return false;
    const i61_value *id = i61_value_element(o, 1);
    if (i61_value_type(id) != I61_TYPE_OCTET_STRING)
        return false;
    *ident = i61_value_get_bytes(id, len);
    if (*len > I61_CTL_OR_IDENT_MAX)
        return false;
    *or_cat = (int)cat;
    return true;
}

/* UtcTime octets of a UtcTime or BinaryTime (6 octets) value. */
static bool get_time(const i61_value *v, uint8_t out[8])
{
    size_t len = 0;
    const uint8_t *p = i61_value_get_bytes(v, &len);
    if (i61_value_type(v) == I61_TYPE_UTC_TIME && p && len == 8) {
        memcpy(out, p, 8);
        return true;
    }
    if (i61_value_type(v) == I61_TYPE_BINARY_TIME && p && len == 6) {
        int64_t ms = i61_binary_time_to_ms(p);
        i61_utc_time_from_ms(ms > 0 ? (uint64_t)ms : 0, 0, out);
        return true;
    }
    return false;
}

int i61_ctl_parse(const i61_value *v, i61_ctl_cmd *out)
{
    if (!out)
        return I61_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    size_t n = i61_value_count(v);
    if (i61_value_type(v) != I61_TYPE_STRUCTURE || n < 5 || n > 7)
        return I61_ERR_TYPE_INCONSISTENT;
    size_t k = 0;
    out->ctl_val = i61_value_element(v, k++);
    if (!out->ctl_val)
        return I61_ERR_TYPE_INCONSISTENT;
    if (i61_value_type(i61_value_element(v, k)) == I61_TYPE_UTC_TIME) {
        size_t len = 0;
        const uint8_t *p = i61_value_get_bytes(i61_value_element(v, k++), &len);
        if (!p || len != 8)
            return I61_ERR_TYPE_INCONSISTENT;
        out->has_oper_tm = true;
        memcpy(out->oper_tm, p, 8);
    }
    if (n - k != 4 && n - k != 5)
        return I61_ERR_TYPE_INCONSISTENT;
    int64_t num;
    int test;
    if (!get_origin(i61_value_element(v, k), &out->or_cat, &out->or_ident, &out->or_ident_len) ||
        !get_int(i61_value_element(v, k + 1), 0, 255, &num) ||
        !get_time(i61_value_element(v, k + 2), out->t) ||
        i61_value_get_boolean(i61_value_element(v, k + 3), &test) != 0)
        return I61_ERR_TYPE_INCONSISTENT;
    out->ctl_num = (uint8_t)num;
    out->test = test != 0;
    k += 4;
    if (k < n) {
        const i61_value *c = i61_value_element(v, k);
        size_t len = 0;
        const uint8_t *p = i61_value_get_bytes(c, &len);
        if (i61_value_type(c) != I61_TYPE_BIT_STRING || i61_value_bit_size(c) < 2 || !p || !len)
            return I61_ERR_TYPE_INCONSISTENT;
        out->has_check = true;
        out->synchro_check = (p[0] & 0x80) != 0;
        out->interlock_check = (p[0] & 0x40) != 0;
    }
    return I61_OK;
}

/* ------------------------------------------------------------ LastApplError */

static i61_value *lae_value(const i61_last_appl_error *e)
{
    size_t cl = strnlen(e->control_object, sizeof e->control_object);
    if (cl >= sizeof e->control_object || e->or_ident_len > sizeof e->or_ident ||
        e->ctl_num < 0 || e->ctl_num > 255)
        return NULL;
    i61_value *s = i61_value_new_structure(5);
    i61_value *o = i61_value_new_structure(2);
    size_t k = 0, j = 0;
    static const uint8_t none = 0;
    bool ok = s && o &&
              put(o, &j, i61_value_new_integer(e->or_cat)) &&
              put(o, &j, i61_value_new_octet_string(e->or_ident_len ? e->or_ident : &none,
                                                    e->or_ident_len));
    ok = ok && put(s, &k, i61_value_new_visible_string(e->control_object)) &&
         put(s, &k, i61_value_new_integer(e->error));
    if (ok) {
        ok = put(s, &k, o);
        o = NULL;
    }
    ok = ok && put(s, &k, i61_value_new_unsigned((uint64_t)e->ctl_num)) &&
         put(s, &k, i61_value_new_integer(e->add_cause));
    i61_value_free(o);
    if (!ok) {
        i61_value_free(s);
        return NULL;
    }
    return s;
}

static bool lae_from_value(const i61_value *v, i61_last_appl_error *e)
{
    memset(e, 0, sizeof *e);
    if (i61_value_type(v) != I61_TYPE_STRUCTURE || i61_value_count(v) != 5)
        return false;
    const i61_value *co = i61_value_element(v, 0);
    int t = i61_value_type(co);
    if (t != I61_TYPE_VISIBLE_STRING && t != I61_TYPE_STRING)
        return false;
    size_t len = 0;
    const uint8_t *p = i61_value_get_bytes(co, &len);
    if (!p || len >= sizeof e->control_object || memchr(p, 0, len))
        return false;
    memcpy(e->control_object, p, len);
    e->control_object[len] = '\0';
    int64_t err, num, cause;
    const uint8_t *ident;
    size_t ilen;
    if (!get_int(i61_value_element(v, 1), INT32_MIN, INT32_MAX, &err) ||
        !get_origin(i61_value_element(v, 2), &e->or_cat, &ident, &ilen) ||
        !get_int(i61_value_element(v, 3), 0, 255, &num) ||
        !get_int(i61_value_element(v, 4), INT32_MIN, INT32_MAX, &cause))
        return false;
    if (ilen)
        memcpy(e->or_ident, ident, ilen);
    e->or_ident_len = ilen;
    e->error = (int)err;
    e->ctl_num = (int)num;
    e->add_cause = (int)cause;
    return true;
}

/* ------------------------------------------------------------ reports: encode */

/* Appends the whole InformationReport with names[0..n) and the encoded Data
 * of values[0..n). */
static int encode_info_report(i61_buf *b, const i61_mms_name *names, const i61_value *const *values,
                              size_t n)
{
    size_t m0 = i61_ber_open(b, 0xa3);       /* unconfirmed-PDU */
    size_t m1 = i61_ber_open(b, 0xa0);       /* informationReport */
    size_t m2 = i61_ber_open(b, 0xa0);       /* listOfVariable */
    for (size_t i = 0; i < n; i++) {
        size_t m3 = i61_ber_open(b, 0x30);
        size_t m4 = i61_ber_open(b, 0xa0);   /* variableSpecification name */
        int rc = i61_mms_enc_object_name(b, &names[i]);
        if (rc != I61_OK)
            return rc;
        i61_ber_close(b, m4);
        i61_ber_close(b, m3);
    }
    i61_ber_close(b, m2);
    size_t m5 = i61_ber_open(b, 0xa0);       /* listOfAccessResult */
    for (size_t i = 0; i < n; i++) {
        int rc = i61_mms_data_encode(b, values[i]);
        if (rc != I61_OK)
            return rc;
    }
    i61_ber_close(b, m5);
    i61_ber_close(b, m1);
    i61_ber_close(b, m0);
    return b->oom ? I61_ERR_UNKNOWN : I61_OK;
}

static void lae_name(i61_mms_name *n)
{
    memset(n, 0, sizeof *n);
    n->scope = I61_MMS_SCOPE_VMD;
    memcpy(n->item, i61_lae_name, sizeof i61_lae_name);
}

int i61_mms_encode_last_appl_error(i61_buf *b, const i61_last_appl_error *e)
{
    if (!b || !e)
        return I61_ERR_INVALID_ARGUMENT;
    i61_value *v = lae_value(e);
    if (!v)
        return I61_ERR_INVALID_ARGUMENT;
    i61_mms_name name;
    lae_name(&name);
    const i61_value *vals[1] = {v};
    size_t mark = b->len;
    int rc = encode_info_report(b, &name, vals, 1);
    i61_value_free(v);
    if (rc != I61_OK && !b->oom)
        b->len = mark;
    return rc;
}

int i61_mms_encode_cmd_term(i61_buf *b, const char *domain, const char *item,
                            const i61_value *oper, const i61_last_appl_error *e)
{
    if (!b || !domain || !item || !oper || strlen(domain) > I61_MMS_NAME_MAX ||
        strlen(item) > I61_MMS_NAME_MAX)
        return I61_ERR_INVALID_ARGUMENT;
    i61_mms_name names[2];
    const i61_value *vals[2];
    i61_value *lae = NULL;
    size_t n = 0;
    if (e) {
        lae = lae_value(e);
        if (!lae)
            return I61_ERR_INVALID_ARGUMENT;
        lae_name(&names[0]);
        vals[0] = lae;
        n = 1;
    }
    memset(&names[n], 0, sizeof names[n]);
    names[n].scope = I61_MMS_SCOPE_DOMAIN;
    strcpy(names[n].domain, domain);
    strcpy(names[n].item, item);
    vals[n++] = oper;
    size_t mark = b->len;
    int rc = encode_info_report(b, names, vals, n);
    i61_value_free(lae);
    if (rc != I61_OK && !b->oom)
        b->len = mark;
    return rc;
}

/* ------------------------------------------------------------ reports: decode */

/* Enters the informationReport: *spec = its variableAccessSpecification
 * element, *results = the listOfAccessResult element. */
static bool info_report(const uint8_t *pdu, size_t len, i61_ber_tlv *spec, i61_ber_tlv *results)
{
    i61_ber_tlv t, ir;
    size_t used;
    i61_ber_reader r;
    if (i61_ber_parse(pdu, len, &t, &used) != I61_BER_OK || used != len || t.id != 0xa3)
        return false;
    i61_ber_reader_sub(&r, &t);
    if (i61_ber_next(&r, &ir) != I61_BER_OK || ir.id != 0xa0 || i61_ber_next(&r, &t) != I61_BER_END)
        return false;
    i61_ber_reader_sub(&r, &ir);
    if (i61_ber_next(&r, spec) != I61_BER_OK)
        return false;
    if (results && (i61_ber_next(&r, results) != I61_BER_OK || results->id != 0xa0 ||
                    i61_ber_next(&r, &t) != I61_BER_END))
        return false;
    return true;
}

/* Next listOfVariable element's ObjectName. I61_BER_OK, I61_BER_END or I61_BER_ERR. */
static int next_name(i61_ber_reader *r, i61_mms_name *out)
{
    i61_ber_tlv e, vs, on;
    i61_ber_reader er;
    int rc = i61_ber_next(r, &e);
    if (rc != I61_BER_OK)
        return rc;
    if (e.id != 0x30)
        return I61_BER_ERR;
    i61_ber_reader_sub(&er, &e);
    if (i61_ber_next(&er, &vs) != I61_BER_OK || vs.id != 0xa0)
        return I61_BER_ERR;             /* alternateAccess after it is ignored */
    i61_ber_reader vr;
    i61_ber_reader_sub(&vr, &vs);
    if (i61_ber_next(&vr, &on) != I61_BER_OK || i61_mms_dec_object_name(&on, out) != I61_OK)
        return I61_BER_ERR;
    return I61_BER_OK;
}

static bool is_lae(const i61_mms_name *n)
{
    return n->scope == I61_MMS_SCOPE_VMD && strcmp(n->item, i61_lae_name) == 0;
}

static bool is_oper(const i61_mms_name *n)
{
    size_t l = strlen(n->item);
    return n->scope == I61_MMS_SCOPE_DOMAIN && l > 5 && strcmp(n->item + l - 5, "$Oper") == 0;
}

bool i61_mms_is_control_report(const uint8_t *pdu, size_t len)
{
    i61_ber_tlv spec;
    i61_ber_reader r;
    i61_mms_name n;
    if (!pdu || !info_report(pdu, len, &spec, NULL) || spec.id != 0xa0)
        return false;
    i61_ber_reader_sub(&r, &spec);
    if (next_name(&r, &n) != I61_BER_OK)
        return false;
    return is_lae(&n) || is_oper(&n);
}

int i61_mms_decode_control_report(const uint8_t *pdu, size_t len, i61_ctl_rpt *out)
{
    if (!out)
        return I61_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    i61_ber_tlv spec, results, t;
    i61_ber_reader r;
    i61_mms_name names[2];
    size_t n = 0;
    if (!pdu || !info_report(pdu, len, &spec, &results) || spec.id != 0xa0)
        return MALFORMED;
    i61_ber_reader_sub(&r, &spec);
    for (;;) {
        i61_mms_name nm;
        int rc = next_name(&r, &nm);
        if (rc == I61_BER_END)
            break;
        if (rc != I61_BER_OK || n == 2)
            return MALFORMED;
        names[n++] = nm;
    }
    if (n == 1 && is_lae(&names[0]))
        out->kind = I61_CTL_RPT_LAST_APPL_ERROR;
    else if (n == 1 && is_oper(&names[0]))
        out->kind = I61_CTL_RPT_TERM_POS;
    else if (n == 2 && is_lae(&names[0]) && is_oper(&names[1]))
        out->kind = I61_CTL_RPT_TERM_NEG;
    else
        return MALFORMED;
    i61_value *vals[2] = {NULL, NULL};
    size_t k = 0;
    int rc = I61_OK;
    i61_ber_reader_sub(&r, &results);
    while (rc == I61_OK) {
        int br = i61_ber_next(&r, &t);
        if (br == I61_BER_END)
            break;
        if (br != I61_BER_OK || k == n ||
            i61_mms_access_result_decode(&t, 0, &vals[k]) != I61_OK ||
            i61_value_type(vals[k]) == I61_TYPE_DATA_ACCESS_ERROR)
            rc = MALFORMED;
        k++;
    }
    if (rc == I61_OK && k != n)
        rc = MALFORMED;
    if (rc == I61_OK && out->kind != I61_CTL_RPT_TERM_POS && !lae_from_value(vals[0], &out->lae))
        rc = MALFORMED;
    if (rc == I61_OK && out->kind != I61_CTL_RPT_LAST_APPL_ERROR) {
        if (i61_value_type(vals[n - 1]) != I61_TYPE_STRUCTURE) {
            rc = MALFORMED;
        } else {
            out->oper = names[n - 1];
            out->oper_value = vals[n - 1];
            vals[n - 1] = NULL;
        }
    }
    i61_value_free(vals[0]);
    i61_value_free(vals[1]);
    return rc;
}

void i61_mms_control_report_clear(i61_ctl_rpt *r)
{
    if (!r)
        return;
    i61_value_free(r->oper_value);
    memset(r, 0, sizeof *r);
}
