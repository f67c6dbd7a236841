/* ACSI client: report control blocks (GetURCBValues / GetBRCBValues as one
 * MMS Read of the whole RCB, SetURCBValues / SetBRCBValues as MMS Writes of
 * its attributes; PROTOCOL.md section 11).
 *
 * Some servers refuse the Read of a whole RCB with a DataAccessError (the
 * iec61850 Rust server: object-access-unsupported for a BRCB) while each
 * attribute reads fine. On any DataAccessError but object-non-existent the
 * RCB is read again as one Read of the list of its attribute variables
 * ("LN$BR$name$RptID", ...); the attributes that answer with data are the
 * ones the RCB has (the mandatory ones must answer, else the first error
 * stands). An RCB read that way is updated the same way.
 *
 * The attributes an RCB has are learned from the structure the server
 * returns, matched in the IEC 61850-8-1 component order by MMS type:
 *   URCB  RptID RptEna [Resv] DatSet ConfRev OptFlds BufTm SqNum TrgOps IntgPd
 *         GI [Owner]
 *   BRCB  RptID RptEna DatSet ConfRev OptFlds BufTm SqNum TrgOps IntgPd GI
 *         PurgeBuf EntryID TimeofEntry [ResvTms] [Owner]
 * Optional members are recognised by type where they stand; components after
 * the last known one are ignored. */
#include "client_internal.h"
#include "reference.h"
#include "../mms/mms_data.h"
#include "../mms/value_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BADREF I61_ERR_OBJECT_REFERENCE_INVALID

/* Octets of a Write request around its variables and data (envelope, invoke
 * id, listOfVariable and listOfData headers, each length up to 5 octets). */
#define WRITE_OVERHEAD 40
/* The same for a Read request. */
#define READ_OVERHEAD 40

/* DataAccessError object-non-existent: the RCB is not there, no fallback. */
#define DAE_OBJECT_NON_EXISTENT 10

struct i61_rcb {
    char ref[I61_REF_MAX + 8];           /* "LD/LN.RP.name" */
    i61_mms_name name;                   /* domain LD, item "LN$RP$name" */
    bool buffered;
    i61_value *val[I61_RCB_ATTR_COUNT];  /* NULL: the RCB has no such attribute */
    uint32_t changed;
    bool by_parts;                       /* the server refused the whole-RCB Read */
};

static const char *const attr_names[I61_RCB_ATTR_COUNT] = {
    "RptID", "RptEna", "Resv", "DatSet", "ConfRev", "OptFlds", "BufTm", "SqNum",
    "TrgOps", "IntgPd", "GI", "PurgeBuf", "EntryID", "TimeofEntry", "ResvTms", "Owner"
};

const char *i61_rcb_attr_name(int attr)
{
    if (attr < 0 || attr >= I61_RCB_ATTR_COUNT)
        return NULL;
    return attr_names[attr];
}

/* ------------------------------------------------------------ references */

/* "LD/LN.RP.name", "LD/LN.BR.name", "LD/LN$RP$name", "LD/LN$BR$name". */
static int rcb_parse_ref(const char *ref, i61_rcb *r, char *why, size_t whycap)
{
    if (!ref || !*ref) {
        snprintf(why, whycap, "empty reference");
        return BADREF;
    }
    size_t n = strlen(ref);
    if (n > I61_REF_MAX) {
        snprintf(why, whycap, "reference longer than %d characters", I61_REF_MAX);
        return BADREF;
    }
    const char *slash = strchr(ref, '/');
    if (!slash) {
        snprintf(why, whycap, "no '/' between logical device and logical node");
        return BADREF;
    }
    /* LN, FC and name after the '/', each separated by '.' or '$' */
    const char *ln = slash + 1;
    const char *s1 = ln + strcspn(ln, ".$");
    if (!*s1) {
        snprintf(why, whycap, "an RCB reference is LD/LN.RP.name or LD/LN.BR.name");
        return BADREF;
    }
    const char *fc = s1 + 1;
    const char *s2 = fc + strcspn(fc, ".$");
    if (!*s2 || s2 - fc != 2 || *s2 != *s1) {
        snprintf(why, whycap, "an RCB reference is LD/LN.RP.name or LD/LN.BR.name");
        return BADREF;
    }
    const char *name = s2 + 1;
    if (!*name || name[strcspn(name, ".$")] != '\0') {
        snprintf(why, whycap, "an RCB reference names the control block, not one of its "
                              "attributes (LD/LN.RP.name)");
        return BADREF;
    }
    int fcv;
    if (memcmp(fc, "RP", 2) == 0)
        fcv = I61_FC_RP;
    else if (memcmp(fc, "BR", 2) == 0)
        fcv = I61_FC_BR;
    else {
        snprintf(why, whycap, "the functional constraint of an RCB is RP or BR, not '%.2s'", fc);
        return BADREF;
    }
    /* "LD/LN.name" with the FC -> item "LN$FC$name", names checked by the parser */
    char plain[I61_REF_MAX + 1];
    size_t head = (size_t)(s1 - ref);
    snprintf(plain, sizeof plain, "%.*s.%s", (int)head, ref, name);
    i61_mms_var v;
    int rc = i61_ref_to_var(plain, fcv, &v, why, whycap);
    if (rc != I61_OK)
        return rc;
    if (v.has_index || v.component[0]) {
        snprintf(why, whycap, "an RCB reference has no array index");
        return BADREF;
    }
    r->name = v.name;
    r->buffered = fcv == I61_FC_BR;
    snprintf(r->ref, sizeof r->ref, "%.*s.%s.%s", (int)head, ref, r->buffered ? "BR" : "RP",
             name);
    return I61_OK;
}

/* ---------------------------------------------------------- attribute types */

/* Declared MMS type of an attribute. */
static int attr_type(int attr)
{
    switch (attr) {
    case I61_RCB_RPT_ID:
    case I61_RCB_DATSET:
        return I61_TYPE_VISIBLE_STRING;
    case I61_RCB_RPT_ENA:
    case I61_RCB_RESV:
    case I61_RCB_GI:
    case I61_RCB_PURGE_BUF:
        return I61_TYPE_BOOLEAN;
    case I61_RCB_CONF_REV:
    case I61_RCB_BUF_TM:
    case I61_RCB_SQ_NUM:
    case I61_RCB_INTG_PD:
        return I61_TYPE_UNSIGNED;
    case I61_RCB_OPT_FLDS:
    case I61_RCB_TRG_OPS:
        return I61_TYPE_BIT_STRING;
    case I61_RCB_ENTRY_ID:
    case I61_RCB_OWNER:
        return I61_TYPE_OCTET_STRING;
    case I61_RCB_TIME_OF_ENTRY:
        return I61_TYPE_BINARY_TIME;
    case I61_RCB_RESV_TMS:
        return I61_TYPE_INTEGER;
    default:
        return -1;
    }
}

/* Declared width of the numeric attributes (bits). */
static int attr_bits(const i61_rcb *r, int attr)
{
    switch (attr) {
    case I61_RCB_SQ_NUM:
        return r->buffered ? 16 : 8;
    case I61_RCB_RESV_TMS:
        return 16;
    default:
        return 32;
    }
}

static bool is_numeric(int t)
{
    return t == I61_TYPE_UNSIGNED || t == I61_TYPE_INTEGER;
}

/* Does a received component fit the attribute? Numbers may come as integer or
 * unsigned (a server's choice); everything else must have the declared type. */
static bool attr_accepts(int attr, const i61_value *v)
{
    int want = attr_type(attr), t = i61_value_type(v);
    if (is_numeric(want))
        return is_numeric(t);
    return t == want;
}

static const int urcb_order[] = {
    I61_RCB_RPT_ID, I61_RCB_RPT_ENA, I61_RCB_RESV, I61_RCB_DATSET, I61_RCB_CONF_REV,
    I61_RCB_OPT_FLDS, I61_RCB_BUF_TM, I61_RCB_SQ_NUM, I61_RCB_TRG_OPS, I61_RCB_INTG_PD,
    I61_RCB_GI, I61_RCB_OWNER
};
static const int brcb_order[] = {
    I61_RCB_RPT_ID, I61_RCB_RPT_ENA, I61_RCB_DATSET, I61_RCB_CONF_REV, I61_RCB_OPT_FLDS,
    I61_RCB_BUF_TM, I61_RCB_SQ_NUM, I61_RCB_TRG_OPS, I61_RCB_INTG_PD, I61_RCB_GI,
    I61_RCB_PURGE_BUF, I61_RCB_ENTRY_ID, I61_RCB_TIME_OF_ENTRY, I61_RCB_RESV_TMS, I61_RCB_OWNER
};

/* The attribute variables read one by one (in one list Read) when the server
 * refuses the whole RCB; BRCB: brcb_order. */
static const int urcb_parts[] = {
    I61_RCB_RPT_ID, I61_RCB_RPT_ENA, I61_RCB_RESV, I61_RCB_DATSET, I61_RCB_CONF_REV,
    I61_RCB_OPT_FLDS, I61_RCB_BUF_TM, I61_RCB_SQ_NUM, I61_RCB_TRG_OPS, I61_RCB_INTG_PD,
    I61_RCB_GI, I61_RCB_RESV_TMS, I61_RCB_OWNER
};

static bool attr_optional(bool buffered, int attr)
{
    if (attr == I61_RCB_OWNER || attr == I61_RCB_RESV_TMS)
        return true;
    return !buffered && attr == I61_RCB_RESV;
}

/* Takes the components of the RCB structure `s` into val[] (clones).
 * 0, or I61_ERR_UNEXPECTED_VALUE with `why` set. */
static int rcb_learn(bool buffered, const i61_value *s, i61_value *val[I61_RCB_ATTR_COUNT],
                     char *why, size_t whycap)
{
    memset(val, 0, sizeof(i61_value *) * I61_RCB_ATTR_COUNT);
    if (i61_value_type(s) != I61_TYPE_STRUCTURE) {
        snprintf(why, whycap, "the server did not answer with a structure");
        return I61_ERR_UNEXPECTED_VALUE;
    }
    const int *order = buffered ? brcb_order : urcb_order;
    size_t norder = buffered ? sizeof brcb_order / sizeof brcb_order[0]
                             : sizeof urcb_order / sizeof urcb_order[0];
    size_t n = i61_value_count(s), pos = 0;
    for (size_t k = 0; k < norder; k++) {
        int a = order[k];
        const i61_value *c = pos < n ? i61_value_element(s, pos) : NULL;
        if (c && attr_accepts(a, c)) {
            val[a] = i61_value_clone(c);
            if (!val[a]) {
                snprintf(why, whycap, "out of memory");
                return I61_ERR_UNKNOWN;
            }
            pos++;
        } else if (!attr_optional(buffered, a)) {
            snprintf(why, whycap, "component %zu is %s, not the %s of a%s",
                     pos, c ? "of another type" : "missing", attr_names[a],
                     buffered ? " BRCB" : " URCB");
            for (int i = 0; i < I61_RCB_ATTR_COUNT; i++) {
                i61_value_free(val[i]);
                val[i] = NULL;
            }
            return I61_ERR_UNEXPECTED_VALUE;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ wire */

/* One Read of n variables; vals[0..n) new values (Data or DataAccessError). */
static int rcb_read_vars(i61_client *c, const i61_mms_var *vars, size_t n, i61_value **vals,
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

static void rcb_free_values(i61_value **vals, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        i61_value_free(vals[i]);
        vals[i] = NULL;
    }
}

/* Fallback: the attributes of r read as a list of their variables into val[]
 * (one Read; more only if the list does not fit in the negotiated PDU).
 * An attribute that answers a DataAccessError is absent.
 * I61_OK; I61_ERR_UNEXPECTED_VALUE when an attribute has another type;
 * I61_ERR_OBJECT_DOES_NOT_EXIST when a mandatory attribute is absent;
 * otherwise the error of a Read (*e says what the server answered).
 * `why` is set on failure. */
static int rcb_fetch_parts(i61_client *c, const i61_rcb *r, i61_value *val[I61_RCB_ATTR_COUNT],
                           i61_mms_error *e, char *why, size_t whycap)
{
    const int *parts = r->buffered ? brcb_order : urcb_parts;
    size_t n = r->buffered ? sizeof brcb_order / sizeof brcb_order[0]
                           : sizeof urcb_parts / sizeof urcb_parts[0];
    i61_mms_var vars[I61_RCB_ATTR_COUNT];
    size_t sizes[I61_RCB_ATTR_COUNT];
    i61_value *got[I61_RCB_ATTR_COUNT];
    memset(vars, 0, sizeof vars);
    memset(got, 0, sizeof got);
    memset(val, 0, sizeof(i61_value *) * I61_RCB_ATTR_COUNT);
    uint32_t limit = i61_client_pdu_limit(c);
    size_t budget = limit > READ_OVERHEAD ? limit - READ_OVERHEAD : 0;
    for (size_t k = 0; k < n; k++) {
        vars[k].name = r->name;
        int w = snprintf(vars[k].name.item, sizeof vars[k].name.item, "%s$%s", r->name.item,
                         attr_names[parts[k]]);
        sizes[k] = (w > 0 && (size_t)w < sizeof vars[k].name.item)
                       ? i61_mms_var_encoded_size(&vars[k]) : 0;
        if (sizes[k] == 0 || sizes[k] > budget) {
            snprintf(why, whycap, "the variable of %s %s", attr_names[parts[k]],
                     sizes[k] == 0 ? "has a name too long" : "does not fit in a PDU");
            return I61_ERR_OBJECT_REFERENCE_INVALID;
        }
    }
    int rc = I61_OK;
    for (size_t i = 0; i < n && rc == I61_OK;) {
        size_t k = i + 1, used = sizes[i];
        while (k < n && used + sizes[k] <= budget)
            used += sizes[k++];
        rc = rcb_read_vars(c, vars + i, k - i, got + i, e);
        if (rc != I61_OK) {
            char m[96];
            if (e->kind != 0)
                snprintf(why, whycap, "%s (%s)", i61_err_str(rc), i61_mms_error_text(e, m, sizeof m));
            else
                snprintf(why, whycap, "%s", i61_err_str(rc));
        }
        i = k;
    }
    for (size_t k = 0; k < n && rc == I61_OK; k++) {
        int a = parts[k];
        int dae = got[k] ? i61_value_get_data_access_error(got[k]) : 0;
        if (dae < 0 && attr_accepts(a, got[k])) {
            val[a] = got[k];
            got[k] = NULL;
        } else if (dae < 0 && !attr_optional(r->buffered, a)) {
            snprintf(why, whycap, "%s is of another type", attr_names[a]);
            rc = I61_ERR_UNEXPECTED_VALUE;
        } else if (dae >= 0 && !attr_optional(r->buffered, a)) {
            snprintf(why, whycap, "%s: DataAccessError %d %s", attr_names[a], dae,
                     i61_mms_dae_name(dae));
            rc = I61_ERR_OBJECT_DOES_NOT_EXIST;
        }
        /* an optional attribute answering an error or another type: absent */
    }
    rcb_free_values(got, n);
    if (rc != I61_OK)
        rcb_free_values(val, I61_RCB_ATTR_COUNT);
    return rc;
}

static bool rcb_conn_error(int rc)
{
    return rc == I61_ERR_NOT_CONNECTED || rc == I61_ERR_CONNECTION_LOST || rc == I61_ERR_TIMEOUT;
}

/* Reads the RCB into val[]; sets the error text and r->by_parts. An RCB
 * already known to need the list Read is read that way first. */
static int rcb_fetch(i61_client *c, i61_rcb *r, i61_value *val[I61_RCB_ATTR_COUNT])
{
    char what[I61_REF_MAX + 48], why[200];
    snprintf(what, sizeof what, "read %s %s", r->buffered ? "BRCB" : "URCB", r->ref);
    i61_mms_error e = { 0, 0, 0 };
    int rc;
    if (r->by_parts) {
        rc = rcb_fetch_parts(c, r, val, &e, why, sizeof why);
        if (rc == I61_OK)
            return I61_OK;
        if (rcb_conn_error(rc))
            return i61_client_fail(c, rc, what, &e);
        r->by_parts = false;        /* the server changed its mind: start over */
    }
    i61_value *s = NULL;
    i61_mms_var v;
    memset(&v, 0, sizeof v);
    v.name = r->name;
    rc = rcb_read_vars(c, &v, 1, &s, &e);
    if (rc != I61_OK)
        return i61_client_fail(c, rc, what, &e);
    int dae = i61_value_get_data_access_error(s);
    if (dae >= 0) {
        i61_value_free(s);
        int orig = i61_err_from_data_access_error(dae);
        if (dae == DAE_OBJECT_NON_EXISTENT)
            return i61_client_error(c, orig, "%s: %s (DataAccessError %d %s)", what,
                                    i61_err_str(orig), dae, i61_mms_dae_name(dae));
        e = (i61_mms_error){ 0, 0, 0 };
        rc = rcb_fetch_parts(c, r, val, &e, why, sizeof why);
        if (rc == I61_OK) {
            r->by_parts = true;
            return I61_OK;
        }
        if (rcb_conn_error(rc))
            return i61_client_fail(c, rc, what, &e);
        if (rc != I61_ERR_UNEXPECTED_VALUE)
            rc = orig;
        return i61_client_error(c, rc, "%s: %s (DataAccessError %d %s; attribute by attribute: %s)",
                                what, i61_err_str(rc), dae, i61_mms_dae_name(dae), why);
    }
    rc = rcb_learn(r->buffered, s, val, why, sizeof why);
    i61_value_free(s);
    if (rc != I61_OK)
        return i61_client_error(c, rc, "%s: %s (%s)", what, i61_err_str(rc), why);
    r->by_parts = false;
    return I61_OK;
}

static void rcb_clear_values(i61_rcb *r)
{
    for (int i = 0; i < I61_RCB_ATTR_COUNT; i++) {
        i61_value_free(r->val[i]);
        r->val[i] = NULL;
    }
}

int i61_client_read_rcb(i61_client *c, const char *ref, i61_rcb **out)
{
    if (!out)
        return I61_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!c)
        return I61_ERR_INVALID_ARGUMENT;
    i61_rcb *r = calloc(1, sizeof *r);
    if (!r)
        return i61_client_error(c, I61_ERR_UNKNOWN, "read RCB: out of memory");
    char why[200];
    int rc = rcb_parse_ref(ref, r, why, sizeof why);
    if (rc != I61_OK) {
        free(r);
        return i61_client_error(c, rc, "read RCB %.*s: %s", I61_REF_MAX, ref ? ref : "", why);
    }
    rc = rcb_fetch(c, r, r->val);
    if (rc != I61_OK) {
        free(r);
        return rc;
    }
    i61_client_clear_error(c);
    *out = r;
    return I61_OK;
}

int i61_client_update_rcb(i61_client *c, i61_rcb *r)
{
    if (!c || !r)
        return I61_ERR_INVALID_ARGUMENT;
    i61_value *val[I61_RCB_ATTR_COUNT];
    int rc = rcb_fetch(c, r, val);
    if (rc != I61_OK)
        return rc;
    rcb_clear_values(r);
    memcpy(r->val, val, sizeof val);
    r->changed = 0;
    i61_client_clear_error(c);
    return I61_OK;
}

/* The write order of IEC 61850-8-1 (see i61.h); the read-only attributes, if
 * someone set them, go with the configuration (the server will refuse them). */
static size_t rcb_write_order(const i61_rcb *r, int *attrs)
{
    static const int middle[] = {
        I61_RCB_RESV, I61_RCB_RESV_TMS, I61_RCB_RPT_ID, I61_RCB_DATSET, I61_RCB_OPT_FLDS,
        I61_RCB_BUF_TM, I61_RCB_TRG_OPS, I61_RCB_INTG_PD, I61_RCB_ENTRY_ID, I61_RCB_PURGE_BUF,
        I61_RCB_CONF_REV, I61_RCB_SQ_NUM, I61_RCB_TIME_OF_ENTRY, I61_RCB_OWNER
    };
    size_t n = 0;
    uint32_t ch = r->changed;
    int ena = -1;
    if ((ch & (1u << I61_RCB_RPT_ENA)) && r->val[I61_RCB_RPT_ENA])
        i61_value_get_boolean(r->val[I61_RCB_RPT_ENA], &ena);
    if (ena == 0)
        attrs[n++] = I61_RCB_RPT_ENA;
    for (size_t k = 0; k < sizeof middle / sizeof middle[0]; k++)
        if ((ch & (1u << middle[k])) && r->val[middle[k]])
            attrs[n++] = middle[k];
    if (ena == 1)
        attrs[n++] = I61_RCB_RPT_ENA;
    if ((ch & (1u << I61_RCB_GI)) && r->val[I61_RCB_GI])
        attrs[n++] = I61_RCB_GI;
    return n;
}

static int rcb_write_chunk(i61_client *c, const i61_mms_var *vars,
                           const i61_value *const *values, size_t n, int *dae, i61_mms_error *e)
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

/* Octets value v takes as Data (0 if it has none). */
static size_t rcb_data_size(const i61_value *v)
{
    i61_buf b;
    i61_buf_init(&b);
    size_t n = (i61_mms_data_encode(&b, v) == 0 && !b.oom) ? b.len : 0;
    i61_buf_free(&b);
    return n;
}

int i61_client_set_rcb(i61_client *c, i61_rcb *r, int single_request, int *failed_attr)
{
    if (failed_attr)
        *failed_attr = -1;
    if (!c || !r)
        return I61_ERR_INVALID_ARGUMENT;
    int attrs[I61_RCB_ATTR_COUNT];
    size_t n = rcb_write_order(r, attrs);
    if (n == 0) {
        r->changed = 0;
        i61_client_clear_error(c);
        return I61_OK;
    }
    i61_mms_var vars[I61_RCB_ATTR_COUNT];
    const i61_value *values[I61_RCB_ATTR_COUNT];
    size_t sizes[I61_RCB_ATTR_COUNT];
    int dae[I61_RCB_ATTR_COUNT];
    uint32_t limit = i61_client_pdu_limit(c);
    size_t budget = limit > WRITE_OVERHEAD ? limit - WRITE_OVERHEAD : 0;
    const char *kind = r->buffered ? "BRCB" : "URCB";
    memset(vars, 0, sizeof vars);
    for (size_t i = 0; i < n; i++) {
        vars[i].name = r->name;
        int w = snprintf(vars[i].name.item, sizeof vars[i].name.item, "%s$%s", r->name.item,
                         attr_names[attrs[i]]);
        values[i] = r->val[attrs[i]];
        size_t vs = (w > 0 && (size_t)w < sizeof vars[i].name.item)
                        ? i61_mms_var_encoded_size(&vars[i]) : 0;
        size_t ds = rcb_data_size(values[i]);
        sizes[i] = vs + ds;
        if (vs == 0 || ds == 0 || sizes[i] > budget)
            return i61_client_error(c, I61_ERR_INVALID_ARGUMENT,
                                    "set %s %s: %s cannot be written (%s)", kind, r->ref,
                                    attr_names[attrs[i]],
                                    vs == 0 ? "name too long" : ds == 0 ? "no MMS encoding"
                                                                        : "larger than a PDU");
    }
    size_t i = 0;
    while (i < n) {
        /* one attribute per Write, or as many as fit in one PDU */
        size_t k = i + 1, used = sizes[i];
        if (single_request)
            while (k < n && used + sizes[k] <= budget)
                used += sizes[k++];
        i61_mms_error e = { 0, 0, 0 };
        int rc = rcb_write_chunk(c, vars + i, values + i, k - i, dae + i, &e);
        if (rc != I61_OK) {
            char what[I61_REF_MAX + 48];
            snprintf(what, sizeof what, "set %s %s", kind, r->ref);
            return i61_client_fail(c, rc, what, &e);
        }
        for (size_t j = i; j < k; j++) {
            if (dae[j] >= 0) {
                rc = i61_err_from_data_access_error(dae[j]);
                if (failed_attr)
                    *failed_attr = attrs[j];
                /* later elements of the same request may have been accepted */
                for (size_t q = i; q < k; q++)
                    if (dae[q] < 0)
                        r->changed &= ~(1u << attrs[q]);
                return i61_client_error(c, rc, "set %s %s: %s refused: %s (DataAccessError %d %s)",
                                        kind, r->ref, attr_names[attrs[j]], i61_err_str(rc),
                                        dae[j], i61_mms_dae_name(dae[j]));
            }
        }
        for (size_t j = i; j < k; j++)
            r->changed &= ~(1u << attrs[j]);
        i = k;
    }
    r->changed = 0;
    i61_client_clear_error(c);
    return I61_OK;
}

/* ------------------------------------------------------------ local copy */

void i61_rcb_free(i61_rcb *r)
{
    if (!r)
        return;
    rcb_clear_values(r);
    free(r);
}

const char *i61_rcb_reference(const i61_rcb *r)
{
    return r ? r->ref : NULL;
}

int i61_rcb_is_buffered(const i61_rcb *r)
{
    return r && r->buffered;
}

int i61_rcb_has(const i61_rcb *r, int attr)
{
    return r && attr >= 0 && attr < I61_RCB_ATTR_COUNT && r->val[attr] != NULL;
}

const i61_value *i61_rcb_get(const i61_rcb *r, int attr)
{
    if (!i61_rcb_has(r, attr))
        return NULL;
    return r->val[attr];
}

/* A copy of number v with the type and declared width of attribute `attr`
 * (the type the server holds: cur's). NULL with *rc set on failure. */
static i61_value *rcb_adapt_number(const i61_rcb *r, int attr, const i61_value *cur,
                                   const i61_value *v, int *rc)
{
    int bits = attr_bits(r, attr);
    bool neg = false;
    uint64_t mag = 0;
    if (i61_value_type(v) == I61_TYPE_UNSIGNED) {
        i61_value_get_uint64(v, &mag);
    } else {
        int64_t s = 0;
        i61_value_get_int64(v, &s);
        neg = s < 0;
        mag = neg ? (uint64_t)(-(s + 1)) + 1 : (uint64_t)s;
    }
    i61_value *out = NULL;
    if (i61_value_type(cur) == I61_TYPE_UNSIGNED) {
        if (!neg && (bits >= 64 || mag < (1ull << bits)))
            out = i61_value_new_unsigned_sized(mag, bits);
    } else {
        uint64_t lim = 1ull << (bits - 1);              /* |min|; max is lim - 1 */
        if (neg ? mag <= lim : mag < lim)
            out = i61_value_new_integer_sized(neg ? -(int64_t)(mag - 1) - 1 : (int64_t)mag, bits);
    }
    if (!out)
        *rc = I61_ERR_OBJECT_VALUE_INVALID;
    return out;
}

int i61_rcb_set(i61_rcb *r, int attr, const i61_value *v)
{
    if (!r || !v || attr < 0 || attr >= I61_RCB_ATTR_COUNT)
        return I61_ERR_INVALID_ARGUMENT;
    const i61_value *cur = r->val[attr];
    if (!cur)
        return I61_ERR_OBJECT_DOES_NOT_EXIST;
    int t = i61_value_type(v), ct = i61_value_type(cur);
    i61_value *nv = NULL;
    int rc = I61_OK;
    if (is_numeric(ct)) {
        if (!is_numeric(t))
            return I61_ERR_TYPE_INCONSISTENT;
        nv = rcb_adapt_number(r, attr, cur, v, &rc);
        if (!nv)
            return rc;
    } else {
        if (t != ct)
            return I61_ERR_TYPE_INCONSISTENT;
        if (ct == I61_TYPE_BIT_STRING && i61_value_bit_size(v) != i61_value_bit_size(cur))
            return I61_ERR_TYPE_INCONSISTENT;
        if (ct == I61_TYPE_BINARY_TIME) {
            size_t a = 0, b = 0;
            i61_value_get_bytes(v, &a);
            i61_value_get_bytes(cur, &b);
            if (a != b)
                return I61_ERR_TYPE_INCONSISTENT;
        }
        nv = i61_value_clone(v);
        if (!nv)
            return I61_ERR_UNKNOWN;
    }
    i61_value_free(r->val[attr]);
    r->val[attr] = nv;
    r->changed |= 1u << attr;
    return I61_OK;
}

uint32_t i61_rcb_changed(const i61_rcb *r)
{
    return r ? r->changed : 0;
}

void i61_rcb_clear_changed(i61_rcb *r)
{
    if (r)
        r->changed = 0;
}
