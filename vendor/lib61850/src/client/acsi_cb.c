/* ACSI client: log, GOOSE, sampled value and setting group control blocks
 * (GetLCBValues/SetLCBValues, GetGoCBValues/SetGoCBValues, Get/Set
 * MSVCB/USVCB values, GetSGCBValues and the setting group services), mapped
 * onto MMS Read/Write of the control block's attribute variables
 * ("LD/LN$FC$name$Attr") as IEC 61850-8-1 does. See i61.h for the contract.
 *
 * A control block is read as one Read of the list of its attribute
 * variables (more Reads only when the list does not fit the negotiated PDU
 * size): a DataAccessError for one attribute means the server's block does
 * not have it, so Ed1/Ed2 variants and servers that leave out optional
 * attributes need no special case.
 *
 * libiec61850 (1.6) names an LCB's OldEnt/NewEnt "OldEntr"/"NewEntr": the
 * LCB read asks for both spellings and keeps the one the server has (a
 * write of that attribute then uses the server's spelling).
 *
 * Write order: the enable attribute (LogEna, GoEna, SvEna) first when it is
 * being set FALSE and last when it is being set TRUE; a USVCB's Resv TRUE
 * before anything else (the reservation is needed to change the block) and
 * Resv FALSE after everything else (release once done). */
#include "client_internal.h"
#include "reference.h"
#include "../mms/mms_data.h"
#include "../mms/value_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BADREF I61_ERR_OBJECT_REFERENCE_INVALID

/* Octets of a Read/Write request around its variables (and data). */
#define REQ_OVERHEAD 40

/* Most attributes of any kind (SVCB). */
#define CB_MAX_ATTR I61_SVCB_ATTR_COUNT

struct i61_cb {
    int kind;
    char ref[I61_REF_MAX + 8];            /* "LD/LN.FC.name" */
    i61_mms_name name;                    /* domain LD, item "LN$FC$name" */
    i61_value *val[CB_MAX_ATTR];          /* NULL: absent */
    uint32_t changed;
    uint32_t alt;                         /* attributes found under their alternative name */
};

/* ------------------------------------------------------------ attributes */

static const char *const lcb_names[I61_LCB_ATTR_COUNT] = {
    "LogEna", "LogRef", "DatSet", "OldEntrTm", "NewEntrTm", "OldEnt", "NewEnt", "TrgOps", "IntgPd"
};
static const char *const gocb_names[I61_GOCB_ATTR_COUNT] = {
    "GoEna", "GoID", "DatSet", "ConfRev", "NdsCom", "DstAddress", "MinTime", "MaxTime",
    "FixedOffs"
};
static const char *const msvcb_names[I61_SVCB_ATTR_COUNT] = {
    "SvEna", "Resv", "MsvID", "DatSet", "ConfRev", "SmpRate", "OptFlds", "SmpMod", "DstAddress",
    "noASDU"
};
static const char *const usvcb_names[I61_SVCB_ATTR_COUNT] = {
    "SvEna", "Resv", "UsvID", "DatSet", "ConfRev", "SmpRate", "OptFlds", "SmpMod", "DstAddress",
    "noASDU"
};
static const char *const sgcb_names[I61_SGCB_ATTR_COUNT] = {
    "NumOfSG", "ActSG", "EditSG", "CnfEdit", "LActTm", "ResvTms"
};

/* Declared numeric type of the integer attributes: +bits unsigned, -bits
 * signed, 0 not a number. */
static const int lcb_num[I61_LCB_ATTR_COUNT] = { 0, 0, 0, 0, 0, 0, 0, 0, 32 };
static const int gocb_num[I61_GOCB_ATTR_COUNT] = { 0, 0, 0, 32, 0, 0, 32, 32, 0 };
static const int svcb_num[I61_SVCB_ATTR_COUNT] = { 0, 0, 0, 0, 32, 16, 0, -8, 0, 16 };
static const int sgcb_num[I61_SGCB_ATTR_COUNT] = { 8, 8, 8, 0, 0, 16 };

int i61_cb_attr_count(int kind)
{
    switch (kind) {
    case I61_CB_LCB: return I61_LCB_ATTR_COUNT;
    case I61_CB_GOCB: return I61_GOCB_ATTR_COUNT;
    case I61_CB_MSVCB:
    case I61_CB_USVCB: return I61_SVCB_ATTR_COUNT;
    case I61_CB_SGCB: return I61_SGCB_ATTR_COUNT;
    default: return 0;
    }
}

const char *i61_cb_attr_name(int kind, int attr)
{
    if (attr < 0 || attr >= i61_cb_attr_count(kind))
        return NULL;
    switch (kind) {
    case I61_CB_LCB: return lcb_names[attr];
    case I61_CB_GOCB: return gocb_names[attr];
    case I61_CB_MSVCB: return msvcb_names[attr];
    case I61_CB_USVCB: return usvcb_names[attr];
    default: return sgcb_names[attr];
    }
}

static int attr_num(int kind, int attr)
{
    switch (kind) {
    case I61_CB_LCB: return lcb_num[attr];
    case I61_CB_GOCB: return gocb_num[attr];
    case I61_CB_MSVCB:
    case I61_CB_USVCB: return svcb_num[attr];
    default: return sgcb_num[attr];
    }
}

/* Other wire name of an attribute some servers use, or NULL. */
static const char *alt_name(int kind, int attr)
{
    if (kind == I61_CB_LCB && attr == I61_LCB_OLD_ENT)
        return "OldEntr";
    if (kind == I61_CB_LCB && attr == I61_LCB_NEW_ENT)
        return "NewEntr";
    return NULL;
}

/* The enable attribute, -1 for the SGCB. */
static int ena_attr(int kind)
{
    switch (kind) {
    case I61_CB_LCB: return I61_LCB_LOG_ENA;
    case I61_CB_GOCB: return I61_GOCB_GO_ENA;
    case I61_CB_MSVCB:
    case I61_CB_USVCB: return I61_SVCB_SV_ENA;
    default: return -1;
    }
}

/* Does the kind have the attribute at all (a MSVCB has no Resv)? */
static bool kind_has(int kind, int attr)
{
    return !(kind == I61_CB_MSVCB && attr == I61_SVCB_RESV);
}

static const char *kind_fc(int kind)
{
    switch (kind) {
    case I61_CB_LCB: return "LG";
    case I61_CB_GOCB: return "GO";
    case I61_CB_MSVCB: return "MS";
    case I61_CB_USVCB: return "US";
    default: return "SP";
    }
}

/* "an LCB", "a GoCB", ... */
static const char *kind_article(int kind)
{
    return (kind == I61_CB_GOCB || kind == I61_CB_USVCB) ? "a" : "an";
}

static const char *kind_label(int kind)
{
    switch (kind) {
    case I61_CB_LCB: return "LCB";
    case I61_CB_GOCB: return "GoCB";
    case I61_CB_MSVCB: return "MSVCB";
    case I61_CB_USVCB: return "USVCB";
    default: return "SGCB";
    }
}

/* ------------------------------------------------------------ references */

/* Control block reference -> cb->name and cb->ref (see i61.h for the forms).
 * I61_OK, or BADREF with `why` set. */
static int cb_parse_ref(const char *ref, int kind, i61_cb *cb, char *why, size_t whycap)
{
    const char *fc = kind_fc(kind);
    if (!ref || !*ref) {
        snprintf(why, whycap, "empty reference");
        return BADREF;
    }
    size_t n = strlen(ref);
    if (n > I61_REF_MAX) {
        snprintf(why, whycap, "reference longer than %d characters", I61_REF_MAX);
        return BADREF;
    }
    char plain[I61_REF_MAX + 16];
    const char *slash = strchr(ref, '/');
    if (!slash) {
        /* the SGCB may be named by its logical device alone */
        if (kind != I61_CB_SGCB) {
            snprintf(why, whycap, "no '/' between logical device and logical node");
            return BADREF;
        }
        int rc = i61_ref_check_ld(ref, why, whycap);
        if (rc != I61_OK)
            return rc;
        snprintf(plain, sizeof plain, "%s/LLN0.SGCB", ref);
    } else {
        /* LN, [FC,] name after the '/', separated by '.' or '$' */
        const char *ln = slash + 1;
        const char *parts[4];
        size_t lens[4];
        int np = 0;
        const char *p = ln;
        for (;;) {
            size_t k = strcspn(p, ".$");
            if (np == 4) {
                np++;
                break;
            }
            parts[np] = p;
            lens[np++] = k;
            if (!p[k])
                break;
            p += k + 1;
        }
        for (int i = 0; i < np && i < 4; i++) {
            if (lens[i] == 0) {
                snprintf(why, whycap, "empty name in the reference");
                return BADREF;
            }
        }
        const char *name;
        size_t name_len;
        if (np == 1 && kind == I61_CB_SGCB) {
            name = "SGCB";
            name_len = 4;
        } else if (np == 2) {
            name = parts[1];
            name_len = lens[1];
        } else if (np == 3) {
            if (lens[1] != 2 || memcmp(parts[1], fc, 2) != 0) {
                snprintf(why, whycap, "the functional constraint of %s %s is %s, not '%.*s'",
                         kind_article(kind), kind_label(kind), fc, (int)lens[1], parts[1]);
                return BADREF;
            }
            name = parts[2];
            name_len = lens[2];
        } else {
            snprintf(why, whycap, "the reference of %s %s is LD/LN.%s.name or LD/LN.name%s",
                     kind_article(kind), kind_label(kind), fc,
                     kind == I61_CB_SGCB ? " (or the logical device alone)" : "");
            return BADREF;
        }
        snprintf(plain, sizeof plain, "%.*s.%.*s", (int)(ln + lens[0] - ref), ref,
                 (int)name_len, name);
    }
    i61_mms_var v;
    int rc = i61_ref_to_var(plain, i61_fc_from_name(fc), &v, why, whycap);
    if (rc != I61_OK)
        return rc;
    if (v.has_index || v.component[0] || strlen(v.name.item) + 12 > I61_MMS_NAME_MAX) {
        snprintf(why, whycap, "not a control block reference");
        return BADREF;
    }
    cb->name = v.name;
    /* "LD/LN.FC.name" from the MMS item "LN$FC$name" */
    const char *d1 = strchr(v.name.item, '$');
    const char *d2 = d1 ? strchr(d1 + 1, '$') : NULL;
    if (!d1 || !d2) {
        snprintf(why, whycap, "not a control block reference");
        return BADREF;
    }
    snprintf(cb->ref, sizeof cb->ref, "%s/%.*s.%s.%s", v.name.domain, (int)(d1 - v.name.item),
             v.name.item, fc, d2 + 1);
    return I61_OK;
}

/* Variable of attribute `attr` of cb under its standard name, or its
 * alternative one (alt). false when the name does not fit. */
static bool attr_var_named(const i61_cb *cb, int attr, bool alt, i61_mms_var *v)
{
    memset(v, 0, sizeof *v);
    v->name = cb->name;
    const char *an = alt ? alt_name(cb->kind, attr) : i61_cb_attr_name(cb->kind, attr);
    int w = snprintf(v->name.item, sizeof v->name.item, "%s$%s", cb->name.item, an);
    return w > 0 && (size_t)w < sizeof v->name.item;
}

/* The variable a write of `attr` goes to (the spelling the server has). */
static bool attr_var(const i61_cb *cb, int attr, i61_mms_var *v)
{
    return attr_var_named(cb, attr, (cb->alt & (1u << attr)) != 0, v);
}

/* ------------------------------------------------------------------ wire */

static int read_vars(i61_client *c, const i61_mms_var *vars, size_t n, i61_value **vals,
                     i61_mms_error *e)
{
    i61_buf req, resp;
    i61_mms_access_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.vars = (i61_mms_var *)vars;
    spec.n_vars = n;
    i61_buf_init(&req);
    i61_buf_init(&resp);
    uint32_t id = i61_assoc_next_invoke_id(c->assoc);
    int rc = i61_mms_enc_read_req(&req, id, false, &spec);
    if (rc == I61_OK)
        rc = i61_client_transact(c, id, &req, &resp);
    if (rc == I61_OK)
        rc = i61_mms_dec_read_resp_n(resp.data, resp.len, vals, n, NULL, e);
    i61_buf_free(&req);
    i61_buf_free(&resp);
    return rc;
}

static int write_vars(i61_client *c, const i61_mms_var *vars, const i61_value *const *values,
                      size_t n, int *dae, i61_mms_error *e)
{
    i61_buf req, resp;
    i61_mms_access_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.vars = (i61_mms_var *)vars;
    spec.n_vars = n;
    i61_buf_init(&req);
    i61_buf_init(&resp);
    uint32_t id = i61_assoc_next_invoke_id(c->assoc);
    int rc = i61_mms_enc_write_req(&req, id, &spec, values, n);
    if (rc == I61_OK)
        rc = i61_client_transact(c, id, &req, &resp);
    if (rc == I61_OK)
        rc = i61_mms_dec_write_resp(resp.data, resp.len, dae, n, e);
    i61_buf_free(&req);
    i61_buf_free(&resp);
    return rc;
}

static void free_values(i61_value **vals, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        i61_value_free(vals[i]);
        vals[i] = NULL;
    }
}

/* Reads the attributes of cb into val[] (absent: NULL) and which of them
 * answered under their alternative name into *alt. Sets the error text. */
static int cb_fetch(i61_client *c, const i61_cb *cb, i61_value *val[CB_MAX_ATTR], uint32_t *alt)
{
    char what[I61_REF_MAX + 48];
    snprintf(what, sizeof what, "read %s %s", kind_label(cb->kind), cb->ref);
    int count = i61_cb_attr_count(cb->kind);
    /* the attributes, then the alternative spellings */
    enum { MAXV = CB_MAX_ATTR + 4 };
    i61_mms_var vars[MAXV];
    size_t sizes[MAXV];
    int attrs[MAXV];
    bool alts[MAXV];
    i61_value *got[MAXV];
    size_t n = 0;
    memset(got, 0, sizeof got);
    for (int i = 0; i < CB_MAX_ATTR; i++)
        val[i] = NULL;
    *alt = 0;
    uint32_t limit = i61_client_pdu_limit(c);
    size_t budget = limit > REQ_OVERHEAD ? limit - REQ_OVERHEAD : 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int a = 0; a < count; a++) {
            if (!kind_has(cb->kind, a) || (pass == 1 && !alt_name(cb->kind, a)))
                continue;
            size_t s = attr_var_named(cb, a, pass == 1, &vars[n])
                           ? i61_mms_var_encoded_size(&vars[n]) : 0;
            if (s == 0 || s > budget)
                return i61_client_error(c, BADREF, "%s: the variable of %s %s", what,
                                        i61_cb_attr_name(cb->kind, a),
                                        s == 0 ? "has a name too long" : "does not fit in a PDU");
            sizes[n] = s;
            alts[n] = pass == 1;
            attrs[n++] = a;
        }
    }
    int rc = I61_OK;
    i61_mms_error e = { 0, 0, 0 };
    for (size_t i = 0; i < n && rc == I61_OK;) {
        size_t k = i + 1, used = sizes[i];
        while (k < n && used + sizes[k] <= budget)
            used += sizes[k++];
        rc = read_vars(c, vars + i, k - i, got + i, &e);
        i = k;
    }
    if (rc != I61_OK) {
        free_values(got, n);
        return i61_client_fail(c, rc, what, &e);
    }
    int first_dae = -1;
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        int dae = i61_value_get_data_access_error(got[i]);
        if (dae >= 0 || (alts[i] && val[attrs[i]])) {
            if (dae >= 0 && first_dae < 0)
                first_dae = dae;
            i61_value_free(got[i]);
        } else {
            val[attrs[i]] = got[i];
            if (alts[i])
                *alt |= 1u << attrs[i];
            any = true;
        }
        got[i] = NULL;
    }
    if (!any) {
        rc = first_dae >= 0 ? i61_err_from_data_access_error(first_dae) : I61_ERR_UNEXPECTED_VALUE;
        return i61_client_error(c, rc, "%s: %s (DataAccessError %d %s for %s)", what,
                                i61_err_str(rc), first_dae, i61_mms_dae_name(first_dae),
                                i61_cb_attr_name(cb->kind, attrs[0]));
    }
    return I61_OK;
}

static void cb_clear_values(i61_cb *cb)
{
    free_values(cb->val, CB_MAX_ATTR);
}

static bool kind_ok(int kind)
{
    return kind >= I61_CB_LCB && kind <= I61_CB_SGCB;
}

int i61_client_read_cb(i61_client *c, const char *ref, int kind, i61_cb **out)
{
    if (!out)
        return I61_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!c)
        return I61_ERR_INVALID_ARGUMENT;
    if (!kind_ok(kind))
        return i61_client_error(c, I61_ERR_INVALID_ARGUMENT, "read control block: unknown kind %d",
                                kind);
    i61_cb *cb = calloc(1, sizeof *cb);
    if (!cb)
        return i61_client_error(c, I61_ERR_UNKNOWN, "read %s: out of memory", kind_label(kind));
    cb->kind = kind;
    char why[200];
    int rc = cb_parse_ref(ref, kind, cb, why, sizeof why);
    if (rc != I61_OK) {
        free(cb);
        return i61_client_error(c, rc, "read %s %.*s: %s", kind_label(kind), I61_REF_MAX,
                                ref ? ref : "", why);
    }
    rc = cb_fetch(c, cb, cb->val, &cb->alt);
    if (rc != I61_OK) {
        free(cb);
        return rc;
    }
    i61_client_clear_error(c);
    *out = cb;
    return I61_OK;
}

int i61_client_update_cb(i61_client *c, i61_cb *cb)
{
    if (!c || !cb)
        return I61_ERR_INVALID_ARGUMENT;
    i61_value *val[CB_MAX_ATTR];
    uint32_t alt = 0;
    int rc = cb_fetch(c, cb, val, &alt);
    if (rc != I61_OK)
        return rc;
    cb_clear_values(cb);
    memcpy(cb->val, val, sizeof val);
    cb->alt = alt;
    cb->changed = 0;
    i61_client_clear_error(c);
    return I61_OK;
}

/* Changed attributes in write order (see the top of the file). */
static size_t cb_write_order(const i61_cb *cb, int *attrs)
{
    int count = i61_cb_attr_count(cb->kind);
    int ena = ena_attr(cb->kind);
    int resv = cb->kind == I61_CB_USVCB ? I61_SVCB_RESV : -1;
    uint32_t ch = cb->changed;
    int ena_v = -1, resv_v = -1;
    if (ena >= 0 && (ch & (1u << ena)) && cb->val[ena])
        if (i61_value_get_boolean(cb->val[ena], &ena_v) != I61_OK)
            ena_v = 2;                      /* not a boolean: send it with the rest */
    if (resv >= 0 && (ch & (1u << resv)) && cb->val[resv])
        if (i61_value_get_boolean(cb->val[resv], &resv_v) != I61_OK)
            resv_v = 2;
    size_t n = 0;
    if (resv_v == 1)
        attrs[n++] = resv;
    if (ena_v == 0)
        attrs[n++] = ena;
    for (int a = 0; a < count; a++) {
        if (!(ch & (1u << a)) || !cb->val[a])
            continue;
        if ((a == ena && ena_v != 2) || (a == resv && resv_v != 2))
            continue;
        attrs[n++] = a;
    }
    if (ena_v == 1)
        attrs[n++] = ena;
    if (resv_v == 0)
        attrs[n++] = resv;
    return n;
}

/* Octets value v takes as Data (0 if it has none). */
static size_t data_size(const i61_value *v)
{
    i61_buf b;
    i61_buf_init(&b);
    size_t n = (i61_mms_data_encode(&b, v) == 0 && !b.oom) ? b.len : 0;
    i61_buf_free(&b);
    return n;
}

int i61_client_set_cb(i61_client *c, i61_cb *cb, int single_request, int *failed_attr)
{
    if (failed_attr)
        *failed_attr = -1;
    if (!c || !cb)
        return I61_ERR_INVALID_ARGUMENT;
    int attrs[CB_MAX_ATTR];
    size_t n = cb_write_order(cb, attrs);
    if (n == 0) {
        cb->changed = 0;
        i61_client_clear_error(c);
        return I61_OK;
    }
    const char *label = kind_label(cb->kind);
    i61_mms_var vars[CB_MAX_ATTR];
    const i61_value *values[CB_MAX_ATTR];
    size_t sizes[CB_MAX_ATTR];
    int dae[CB_MAX_ATTR];
    uint32_t limit = i61_client_pdu_limit(c);
    size_t budget = limit > REQ_OVERHEAD ? limit - REQ_OVERHEAD : 0;
    for (size_t i = 0; i < n; i++) {
        size_t vs = attr_var(cb, attrs[i], &vars[i]) ? i61_mms_var_encoded_size(&vars[i]) : 0;
        values[i] = cb->val[attrs[i]];
        size_t ds = data_size(values[i]);
        sizes[i] = vs + ds;
        if (vs == 0 || ds == 0 || sizes[i] > budget)
            return i61_client_error(c, I61_ERR_INVALID_ARGUMENT, "set %s %s: %s cannot be written (%s)",
                                    label, cb->ref, i61_cb_attr_name(cb->kind, attrs[i]),
                                    vs == 0 ? "name too long" : ds == 0 ? "no MMS encoding"
                                                                        : "larger than a PDU");
    }
    size_t i = 0;
    while (i < n) {
        size_t k = i + 1, used = sizes[i];
        if (single_request)
            while (k < n && used + sizes[k] <= budget)
                used += sizes[k++];
        i61_mms_error e = { 0, 0, 0 };
        int rc = write_vars(c, vars + i, values + i, k - i, dae + i, &e);
        if (rc != I61_OK) {
            char what[I61_REF_MAX + 48];
            snprintf(what, sizeof what, "set %s %s", label, cb->ref);
            return i61_client_fail(c, rc, what, &e);
        }
        for (size_t j = i; j < k; j++) {
            if (dae[j] < 0)
                continue;
            rc = i61_err_from_data_access_error(dae[j]);
            if (failed_attr)
                *failed_attr = attrs[j];
            for (size_t q = i; q < k; q++)
                if (dae[q] < 0)
                    cb->changed &= ~(1u << attrs[q]);
            return i61_client_error(c, rc, "set %s %s: %s refused: %s (DataAccessError %d %s)",
                                    label, cb->ref, i61_cb_attr_name(cb->kind, attrs[j]),
                                    i61_err_str(rc), dae[j], i61_mms_dae_name(dae[j]));
        }
        for (size_t j = i; j < k; j++)
            cb->changed &= ~(1u << attrs[j]);
        i = k;
    }
    cb->changed = 0;
    i61_client_clear_error(c);
    return I61_OK;
}

/* ------------------------------------------------------------ local copy */

void i61_cb_free(i61_cb *cb)
{
    if (!cb)
        return;
    cb_clear_values(cb);
    free(cb);
}

int i61_cb_get_kind(const i61_cb *cb)
{
    return cb ? cb->kind : 0;
}

const char *i61_cb_reference(const i61_cb *cb)
{
    return cb ? cb->ref : NULL;
}

int i61_cb_has(const i61_cb *cb, int attr)
{
    return cb && attr >= 0 && attr < i61_cb_attr_count(cb->kind) && cb->val[attr] != NULL;
}

const i61_value *i61_cb_get(const i61_cb *cb, int attr)
{
    return i61_cb_has(cb, attr) ? cb->val[attr] : NULL;
}

static bool is_number(int t)
{
    return t == I61_TYPE_INTEGER || t == I61_TYPE_UNSIGNED;
}

/* v as the attribute's integer type: the MMS type the server sent (cur), else
 * the declared one, with the declared width. NULL when it does not fit. */
static i61_value *adapt_number(int decl, const i61_value *cur, const i61_value *v)
{
    bool want_unsigned = cur ? i61_value_type(cur) == I61_TYPE_UNSIGNED : decl > 0;
    int bits = decl > 0 ? decl : -decl;
    bool neg = false;
    uint64_t mag = 0;
    if (i61_value_type(v) == I61_TYPE_UNSIGNED) {
        if (i61_value_get_uint64(v, &mag) != I61_OK)
            return NULL;
    } else {
        int64_t s = 0;
        if (i61_value_get_int64(v, &s) != I61_OK)
            return NULL;
        neg = s < 0;
        mag = neg ? (uint64_t)(-(s + 1)) + 1 : (uint64_t)s;
    }
    if (want_unsigned) {
        if (neg || (bits < 64 && mag >= (1ull << bits)))
            return NULL;
        return i61_value_new_unsigned_sized(mag, bits);
    }
    uint64_t lim = 1ull << (bits - 1);
    if (neg ? mag > lim : mag >= lim)
        return NULL;
    return i61_value_new_integer_sized(neg ? -(int64_t)(mag - 1) - 1 : (int64_t)mag, bits);
}

int i61_cb_set(i61_cb *cb, int attr, const i61_value *v)
{
    if (!cb || !v || attr < 0 || attr >= i61_cb_attr_count(cb->kind))
        return I61_ERR_INVALID_ARGUMENT;
    int decl = attr_num(cb->kind, attr);
    const i61_value *cur = cb->val[attr];
    i61_value *nv;
    if (decl != 0 && is_number(i61_value_type(v))
        && (!cur || is_number(i61_value_type(cur)))) {
        nv = adapt_number(decl, cur, v);
        if (!nv)
            return I61_ERR_OBJECT_VALUE_INVALID;
    } else {
        nv = i61_value_clone(v);
        if (!nv)
            return I61_ERR_UNKNOWN;
    }
    i61_value_free(cb->val[attr]);
    cb->val[attr] = nv;
    cb->changed |= 1u << attr;
    return I61_OK;
}

uint32_t i61_cb_changed(const i61_cb *cb)
{
    return cb ? cb->changed : 0;
}

void i61_cb_clear_changed(i61_cb *cb)
{
    if (cb)
        cb->changed = 0;
}

/* ------------------------------------------------------------ setting groups */

/* Writes one SGCB attribute of logical device `ld`. */
static int sg_write(i61_client *c, const char *ld, int attr, i61_value *v, const char *what)
{
    i61_cb cb;
    memset(&cb, 0, sizeof cb);
    cb.kind = I61_CB_SGCB;
    char why[200];
    int rc = v ? cb_parse_ref(ld, I61_CB_SGCB, &cb, why, sizeof why) : I61_ERR_UNKNOWN;
    if (rc != I61_OK) {
        i61_value_free(v);
        if (rc == I61_ERR_UNKNOWN)
            return i61_client_error(c, rc, "%s: out of memory", what);
        return i61_client_error(c, rc, "%s %.*s: %s", what, I61_REF_MAX, ld ? ld : "", why);
    }
    i61_mms_var var;
    if (!attr_var(&cb, attr, &var)) {
        i61_value_free(v);
        return i61_client_error(c, BADREF, "%s %s: name too long", what, cb.ref);
    }
    char full[I61_REF_MAX + 64];
    snprintf(full, sizeof full, "%s %s", what, cb.ref);
    int dae = -1;
    i61_mms_error e = { 0, 0, 0 };
    const i61_value *vals[1] = { v };
    rc = write_vars(c, &var, vals, 1, &dae, &e);
    i61_value_free(v);
    if (rc != I61_OK)
        return i61_client_fail(c, rc, full, &e);
    if (dae >= 0) {
        rc = i61_err_from_data_access_error(dae);
        return i61_client_error(c, rc, "%s: %s refused: %s (DataAccessError %d %s)", full,
                                i61_cb_attr_name(I61_CB_SGCB, attr), i61_err_str(rc), dae,
                                i61_mms_dae_name(dae));
    }
    i61_client_clear_error(c);
    return I61_OK;
}

int i61_client_select_active_sg(i61_client *c, const char *ld, int sg)
{
    if (!c)
        return I61_ERR_INVALID_ARGUMENT;
    if (sg < 0 || sg > 255)
        return i61_client_error(c, I61_ERR_INVALID_ARGUMENT,
                                "select active setting group %d: not in 0..255", sg);
    char what[64];
    snprintf(what, sizeof what, "select active setting group %d on", sg);
    return sg_write(c, ld, I61_SGCB_ACT_SG, i61_value_new_unsigned_sized((uint64_t)sg, 8), what);
}

int i61_client_select_edit_sg(i61_client *c, const char *ld, int sg)
{
    if (!c)
        return I61_ERR_INVALID_ARGUMENT;
    if (sg < 0 || sg > 255)
        return i61_client_error(c, I61_ERR_INVALID_ARGUMENT,
                                "select edit setting group %d: not in 0..255", sg);
    char what[64];
    snprintf(what, sizeof what, "select edit setting group %d on", sg);
    return sg_write(c, ld, I61_SGCB_EDIT_SG, i61_value_new_unsigned_sized((uint64_t)sg, 8), what);
}

int i61_client_confirm_edit_sg(i61_client *c, const char *ld)
{
    if (!c)
        return I61_ERR_INVALID_ARGUMENT;
    return sg_write(c, ld, I61_SGCB_CNF_EDIT, i61_value_new_boolean(1),
                    "confirm edited setting group values on");
}
