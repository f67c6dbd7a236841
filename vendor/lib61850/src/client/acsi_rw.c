/* ACSI client: GetDataValues / SetDataValues (MMS Read / Write). */
#include "client_internal.h"
#include "reference.h"
#include "../mms/mms_data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Octets of a Read/Write request around its list of variables (and data):
 * a0 L | 02 L id | a4/a5 L | a1 L | a0 L, each length up to 5 octets, plus the
 * listOfData header of a Write. */
#define REQ_OVERHEAD 40

static const char *type_name(int t)
{
    static const char *const names[] = {
        "array", "structure", "boolean", "bit-string", "integer", "unsigned", "float",
        "octet-string", "visible-string", "generalized-time", "binary-time", "bcd", "objId",
        "mms-string", "utc-time", "data-access-error"
    };
    if (t >= 0 && (size_t)t < sizeof names / sizeof names[0])
        return names[t];
    return "nothing";
}

/* One Read of vars[0..n) into vals[0..n). */
static int read_chunk(i61_client *c, const i61_mms_var *vars, size_t n, i61_value **vals,
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

/* Reads one variable; a DataAccessError becomes the matching i61_err. */
static int read_var(i61_client *c, const i61_mms_var *v, const char *what, i61_value **out)
{
    i61_mms_error e = { 0, 0, 0 };
    i61_value *val = NULL;
    *out = NULL;
    int rc = read_chunk(c, v, 1, &val, &e);
    if (rc != I61_OK)
        return i61_client_fail(c, rc, what, &e);
    int dae = i61_value_get_data_access_error(val);
    if (dae >= 0) {
        i61_value_free(val);
        rc = i61_err_from_data_access_error(dae);
        return i61_client_error(c, rc, "%s: %s (DataAccessError %d %s)", what, i61_err_str(rc),
                                dae, i61_mms_dae_name(dae));
    }
    i61_client_clear_error(c);
    *out = val;
    return I61_OK;
}

/* Parses ref/fc; on failure sets the error text "<op> <ref>: <why>". */
static int parse_ref(i61_client *c, const char *op, const char *ref, int fc, i61_mms_var *v,
                     char *what, size_t whatcap)
{
    char shown[I61_REF_MAX + 8], why[200];
    i61_ref_describe(ref, fc, shown, sizeof shown);
    snprintf(what, whatcap, "%s %s", op, shown);
    int rc = i61_ref_to_var(ref, fc, v, why, sizeof why);
    if (rc != I61_OK)
        return i61_client_error(c, rc, "%s: %s", what, why);
    return I61_OK;
}

int i61_client_read_value(i61_client *c, const char *ref, int fc, i61_value **out)
{
    if (!c || !out)
        return I61_ERR_INVALID_ARGUMENT;
    *out = NULL;
    i61_mms_var v;
    char what[256];
    int rc = parse_ref(c, "read", ref, fc, &v, what, sizeof what);
    if (rc != I61_OK)
        return rc;
    return read_var(c, &v, what, out);
}

int i61_client_read_array_element(i61_client *c, const char *ref, int fc, uint32_t index,
                                  const char *component, i61_value **out)
{
    if (!c || !out)
        return I61_ERR_INVALID_ARGUMENT;
    *out = NULL;
    i61_mms_var v;
    char what[256], why[200];
    int rc = parse_ref(c, "read", ref, fc, &v, what, sizeof what);
    if (rc != I61_OK)
        return rc;
    size_t wl = strlen(what);
    snprintf(what + wl, sizeof what - wl, " element %u%s%.64s", index,
             component && *component ? " component " : "", component ? component : "");
    if (v.has_index)
        return i61_client_error(c, I61_ERR_OBJECT_REFERENCE_INVALID,
                                "%s: the reference already selects an array element", what);
    rc = i61_ref_component(component, v.component, why, sizeof why);
    if (rc != I61_OK)
        return i61_client_error(c, rc, "%s: %s", what, why);
    v.has_index = true;
    v.index = index;
    return read_var(c, &v, what, out);
}

/* Typed reads ---------------------------------------------------------- */

static int typed_fail(i61_client *c, const char *what, const i61_value *v, const char *want)
{
    return i61_client_error(c, I61_ERR_UNEXPECTED_VALUE, "%s: %s (got %s, expected %s)", what,
                            i61_err_str(I61_ERR_UNEXPECTED_VALUE), type_name(i61_value_type(v)),
                            want);
}

static int typed_read(i61_client *c, const char *ref, int fc, char *what, size_t whatcap,
                      i61_value **val)
{
    i61_mms_var v;
    *val = NULL;
    int rc = parse_ref(c, "read", ref, fc, &v, what, whatcap);
    if (rc != I61_OK)
        return rc;
    return read_var(c, &v, what, val);
}

int i61_client_read_bool(i61_client *c, const char *ref, int fc, int *out)
{
    if (!c || !out)
        return I61_ERR_INVALID_ARGUMENT;
    char what[256];
    i61_value *v;
    int rc = typed_read(c, ref, fc, what, sizeof what, &v);
    if (rc != I61_OK)
        return rc;
    if (i61_value_type(v) == I61_TYPE_BOOLEAN)
        rc = i61_value_get_boolean(v, out);
    else
        rc = typed_fail(c, what, v, "boolean");
    i61_value_free(v);
    return rc;
}

int i61_client_read_int64(i61_client *c, const char *ref, int fc, int64_t *out)
{
    if (!c || !out)
        return I61_ERR_INVALID_ARGUMENT;
    char what[256];
    i61_value *v;
    int rc = typed_read(c, ref, fc, what, sizeof what, &v);
    if (rc != I61_OK)
        return rc;
    int t = i61_value_type(v);
    if (t == I61_TYPE_INTEGER) {
        rc = i61_value_get_int64(v, out);
    } else if (t == I61_TYPE_UNSIGNED) {
        uint64_t u = 0;
        rc = i61_value_get_uint64(v, &u);
        if (rc == I61_OK && u > (uint64_t)INT64_MAX)
            rc = i61_client_error(c, I61_ERR_UNEXPECTED_VALUE,
                                  "%s: %s (unsigned value %llu does not fit int64)", what,
                                  i61_err_str(I61_ERR_UNEXPECTED_VALUE), (unsigned long long)u);
        else if (rc == I61_OK)
            *out = (int64_t)u;
    } else {
        rc = typed_fail(c, what, v, "integer or unsigned");
    }
    i61_value_free(v);
    return rc;
}

int i61_client_read_uint64(i61_client *c, const char *ref, int fc, uint64_t *out)
{
    if (!c || !out)
        return I61_ERR_INVALID_ARGUMENT;
    char what[256];
    i61_value *v;
    int rc = typed_read(c, ref, fc, what, sizeof what, &v);
    if (rc != I61_OK)
        return rc;
    int t = i61_value_type(v);
    if (t == I61_TYPE_UNSIGNED) {
        rc = i61_value_get_uint64(v, out);
    } else if (t == I61_TYPE_INTEGER) {
        int64_t s = 0;
        rc = i61_value_get_int64(v, &s);
        if (rc == I61_OK && s < 0)
            rc = i61_client_error(c, I61_ERR_UNEXPECTED_VALUE,
                                  "%s: %s (negative integer %lld for uint64)", what,
                                  i61_err_str(I61_ERR_UNEXPECTED_VALUE), (long long)s);
        else if (rc == I61_OK)
            *out = (uint64_t)s;
    } else {
        rc = typed_fail(c, what, v, "unsigned or integer");
    }
    i61_value_free(v);
    return rc;
}

int i61_client_read_double(i61_client *c, const char *ref, int fc, double *out)
{
    if (!c || !out)
        return I61_ERR_INVALID_ARGUMENT;
    char what[256];
    i61_value *v;
    int rc = typed_read(c, ref, fc, what, sizeof what, &v);
    if (rc != I61_OK)
        return rc;
    if (i61_value_type(v) == I61_TYPE_FLOAT)
        rc = i61_value_get_double(v, out);
    else
        rc = typed_fail(c, what, v, "float");
    i61_value_free(v);
    return rc;
}

/* Many variables --------------------------------------------------------- */

/* Parses n references; the first bad one names itself in the error text. */
static int parse_refs(i61_client *c, const char *op, const char *const *refs, const int *fcs,
                      size_t n, i61_mms_var **vars_out)
{
    *vars_out = NULL;
    i61_mms_var *vars = calloc(n, sizeof *vars);
    if (!vars)
        return i61_client_error(c, I61_ERR_UNKNOWN, "%s: out of memory", op);
    for (size_t i = 0; i < n; i++) {
        char shown[I61_REF_MAX + 8], why[200];
        int rc = i61_ref_to_var(refs[i], fcs[i], &vars[i], why, sizeof why);
        if (rc != I61_OK) {
            i61_ref_describe(refs[i], fcs[i], shown, sizeof shown);
            free(vars);
            return i61_client_error(c, rc, "%s: reference %zu, %s: %s", op, i, shown, why);
        }
    }
    *vars_out = vars;
    return I61_OK;
}

int i61_client_read_values(i61_client *c, const char *const *refs, const int *fcs, size_t n,
                           i61_value **out)
{
    if (!c || !out || (n && (!refs || !fcs)))
        return I61_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (n == 0)
        return i61_client_error(c, I61_ERR_INVALID_ARGUMENT, "read values: no references");
    i61_mms_var *vars;
    int rc = parse_refs(c, "read values", refs, fcs, n, &vars);
    if (rc != I61_OK)
        return rc;
    i61_value *arr = i61_value_new_array(n);
    i61_value **vals = calloc(n, sizeof *vals);
    if (!arr || !vals) {
        free(vars);
        free(vals);
        i61_value_free(arr);
        return i61_client_error(c, I61_ERR_UNKNOWN, "read values: out of memory");
    }
    uint32_t limit = i61_client_pdu_limit(c);
    size_t budget = limit > REQ_OVERHEAD ? limit - REQ_OVERHEAD : 0;
    size_t i = 0;
    while (i < n && rc == I61_OK) {
        /* as many variables as fit in one request */
        size_t k = i, used = 0;
        while (k < n) {
            size_t sz = i61_mms_var_encoded_size(&vars[k]);
            if (sz == 0 || used + sz > budget)
                break;
            used += sz;
            k++;
        }
        if (k == i) {
            char shown[I61_REF_MAX + 8];
            i61_ref_describe(refs[i], fcs[i], shown, sizeof shown);
            rc = i61_client_error(c, I61_ERR_INVALID_ARGUMENT,
                                  "read values: reference %zu (%s) does not fit in a %u-octet PDU",
                                  i, shown, limit);
            break;
        }
        i61_mms_error e = { 0, 0, 0 };
        rc = read_chunk(c, vars + i, k - i, vals + i, &e);
        if (rc != I61_OK) {
            char what[64];
            snprintf(what, sizeof what, "read values (references %zu..%zu)", i, k - 1);
            i61_client_fail(c, rc, what, &e);
            break;
        }
        for (size_t j = i; j < k; j++) {
            i61_value_set_element(arr, j, vals[j]);      /* consumes */
            vals[j] = NULL;
        }
        i = k;
    }
    free(vals);
    free(vars);
    if (rc != I61_OK) {
        i61_value_free(arr);
        return rc;
    }
    i61_client_clear_error(c);
    *out = arr;
    return I61_OK;
}

/* Writes ------------------------------------------------------------------ */

static int write_chunk(i61_client *c, const i61_mms_var *vars, const i61_value *const *values,
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

/* Octets value v takes as Data, 0 if it has no Data encoding. */
static size_t data_size(const i61_value *v)
{
    i61_buf b;
    i61_buf_init(&b);
    int rc = v ? i61_mms_data_encode(&b, v) : I61_ERR_INVALID_ARGUMENT;
    size_t n = (rc == I61_OK && !b.oom) ? b.len : 0;
    i61_buf_free(&b);
    return n;
}

int i61_client_write_value(i61_client *c, const char *ref, int fc, const i61_value *value)
{
    if (!c || !value)
        return I61_ERR_INVALID_ARGUMENT;
    i61_mms_var v;
    char what[256];
    int rc = parse_ref(c, "write", ref, fc, &v, what, sizeof what);
    if (rc != I61_OK)
        return rc;
    if (data_size(value) == 0)
        return i61_client_error(c, I61_ERR_INVALID_ARGUMENT,
                                "%s: the value (%s) has no MMS Data encoding", what,
                                type_name(i61_value_type(value)));
    int dae = -1;
    i61_mms_error e = { 0, 0, 0 };
    rc = write_chunk(c, &v, &value, 1, &dae, &e);
    if (rc != I61_OK)
        return i61_client_fail(c, rc, what, &e);
    if (dae >= 0) {
        rc = i61_err_from_data_access_error(dae);
        return i61_client_error(c, rc, "%s: %s (DataAccessError %d %s)", what, i61_err_str(rc),
                                dae, i61_mms_dae_name(dae));
    }
    i61_client_clear_error(c);
    return I61_OK;
}

int i61_client_write_values(i61_client *c, const char *const *refs, const int *fcs,
                            const i61_value *const *values, size_t n, int *results)
{
    if (!c || (n && (!refs || !fcs || !values || !results)))
        return I61_ERR_INVALID_ARGUMENT;
    if (n == 0)
        return i61_client_error(c, I61_ERR_INVALID_ARGUMENT, "write values: no references");
    for (size_t i = 0; i < n; i++)
        results[i] = I61_ERR_UNKNOWN;
    i61_mms_var *vars;
    int rc = parse_refs(c, "write values", refs, fcs, n, &vars);
    if (rc != I61_OK) {
        for (size_t i = 0; i < n; i++)
            results[i] = rc;
        return rc;
    }
    int *dae = calloc(n, sizeof *dae);
    size_t *sizes = calloc(n, sizeof *sizes);
    if (!dae || !sizes) {
        free(dae);
        free(sizes);
        free(vars);
        return i61_client_error(c, I61_ERR_UNKNOWN, "write values: out of memory");
    }
    uint32_t limit = i61_client_pdu_limit(c);
    size_t budget = limit > REQ_OVERHEAD ? limit - REQ_OVERHEAD : 0;
    /* check everything before sending anything: no partial writes on a bad argument */
    for (size_t j = 0; j < n && rc == I61_OK; j++) {
        size_t vs = i61_mms_var_encoded_size(&vars[j]);
        size_t ds = data_size(values[j]);
        sizes[j] = vs + ds;
        if (vs == 0 || ds == 0 || sizes[j] > budget) {
            char shown[I61_REF_MAX + 8];
            i61_ref_describe(refs[j], fcs[j], shown, sizeof shown);
            rc = i61_client_error(c, I61_ERR_INVALID_ARGUMENT,
                                  "write values: reference %zu (%s): %s", j, shown,
                                  ds == 0 ? "value missing or without MMS Data encoding"
                                          : "does not fit in one PDU");
        }
    }
    if (rc != I61_OK) {
        for (size_t j = 0; j < n; j++)
            results[j] = rc;
        free(dae);
        free(sizes);
        free(vars);
        return rc;
    }
    size_t i = 0;
    while (i < n) {
        size_t k = i, used = 0;
        while (k < n && used + sizes[k] <= budget)
            used += sizes[k++];
        i61_mms_error e = { 0, 0, 0 };
        rc = write_chunk(c, vars + i, values + i, k - i, dae + i, &e);
        if (rc != I61_OK) {
            char what[64];
            snprintf(what, sizeof what, "write values (references %zu..%zu)", i, k - 1);
            i61_client_fail(c, rc, what, &e);
            for (size_t j = i; j < n; j++)
                results[j] = rc;
            break;
        }
        for (size_t j = i; j < k; j++)
            results[j] = dae[j] < 0 ? I61_OK : i61_err_from_data_access_error(dae[j]);
        i = k;
    }
    free(dae);
    free(sizes);
    free(vars);
    if (rc != I61_OK)
        return rc;
    /* per-element failures are results, not a failure of the call (like read_values) */
    i61_client_clear_error(c);
    return I61_OK;
}
