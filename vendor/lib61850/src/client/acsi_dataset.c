/* ACSI client: data sets (CreateDataSet, DeleteDataSet, GetDataSetDirectory,
 * GetDataSetValues, SetDataSetValues) over the MMS named-variable-list
 * services and Read/Write by variableListName (PROTOCOL.md section 10). */
#include "client_internal.h"
#include "reference.h"
#include "../mms/mms_data.h"
#include "../mms/strlist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BADREF I61_ERR_OBJECT_REFERENCE_INVALID

static bool ds_name_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')
           || ch == '_';
}

static bool ds_all_name_chars(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!ds_name_char(s[i]))
            return false;
    return n > 0;
}

/* Data set reference -> NVL ObjectName. "@name" aa-specific, "LD/LN.name" or
 * "LD/LN$name" domain-specific, "LN.name" / "LN$name" VMD-specific. */
static int ds_ref_to_name(const char *ref, i61_mms_name *out, char *why, size_t whycap)
{
    memset(out, 0, sizeof *out);
    if (!ref || !*ref) {
        snprintf(why, whycap, "empty data set reference");
        return BADREF;
    }
    size_t n = strlen(ref);
    if (n > I61_REF_MAX) {
        snprintf(why, whycap, "data set reference longer than 129 characters");
        return BADREF;
    }
    if (ref[0] == '@') {
        if (n - 1 > I61_REF_ITEM_MAX || !ds_all_name_chars(ref + 1, n - 1)) {
            snprintf(why, whycap, "an association-specific data set name is '@' and 1 to 64 "
                                  "letters, digits or '_'");
            return BADREF;
        }
        out->scope = I61_MMS_SCOPE_AA;
        memcpy(out->item, ref + 1, n - 1);
        return I61_OK;
    }
    const char *slash = strchr(ref, '/');
    const char *rest = ref;
    if (slash) {
        size_t ldlen = (size_t)(slash - ref);
        char ld[I61_REF_LD_MAX + 1];
        if (ldlen == 0 || ldlen > I61_REF_LD_MAX) {
            snprintf(why, whycap, "logical device name empty or longer than 64 characters");
            return BADREF;
        }
        memcpy(ld, ref, ldlen);
        ld[ldlen] = '\0';
        int rc = i61_ref_check_ld(ld, why, whycap);
        if (rc != I61_OK)
            return rc;
        memcpy(out->domain, ld, ldlen + 1);
        out->scope = I61_MMS_SCOPE_DOMAIN;
        rest = slash + 1;
    } else {
        out->scope = I61_MMS_SCOPE_VMD;
    }
    /* rest = "LN.name" or "LN$name" */
    size_t rl = strlen(rest);
    const char *sep = NULL;
    for (size_t i = 0; i < rl; i++) {
        if (rest[i] == '.' || rest[i] == '$') {
            if (sep) {
                snprintf(why, whycap, "a data set reference is LD/LN.name (one '.' after the "
                                      "logical node)");
                return BADREF;
            }
            sep = rest + i;
        } else if (!ds_name_char(rest[i])) {
            snprintf(why, whycap, "character '%c' not allowed in a data set reference",
                     (rest[i] >= 0x20 && rest[i] < 0x7f) ? rest[i] : '?');
            return BADREF;
        }
    }
    if (!sep || sep == rest || sep[1] == '\0') {
        snprintf(why, whycap, "a data set reference is LD/LN.name or @name");
        return BADREF;
    }
    if (rl > I61_REF_ITEM_MAX) {
        snprintf(why, whycap, "data set item name longer than 64 characters");
        return BADREF;
    }
    memcpy(out->item, rest, rl + 1);
    out->item[sep - rest] = '$';
    return I61_OK;
}

/* Member reference "LD/LN.DO.DA[FC]" (or MMS style without brackets) -> var. */
static int ds_member_to_var(const char *ref, i61_mms_var *v, char *why, size_t whycap)
{
    char buf[I61_REF_MAX + 8];
    if (!ref || !*ref) {
        snprintf(why, whycap, "empty member reference");
        return BADREF;
    }
    size_t n = strlen(ref);
    if (n >= sizeof buf) {
        snprintf(why, whycap, "member reference too long");
        return BADREF;
    }
    int fc = I61_FC_NONE;
    memcpy(buf, ref, n + 1);
    if (buf[n - 1] == ']') {
        char *lb = strrchr(buf, '[');
        if (!lb || buf + n - 1 - lb != 3) {
            snprintf(why, whycap, "the FC of a member is two letters in brackets: [ST]");
            return BADREF;
        }
        char two[3] = { lb[1], lb[2], 0 };
        fc = i61_fc_from_name(two);
        if (fc == I61_FC_NONE) {
            snprintf(why, whycap, "unknown functional constraint [%s]", two);
            return BADREF;
        }
        *lb = '\0';
    }
    return i61_ref_to_var(buf, fc, v, why, whycap);
}

/* MMS member name -> "LD/LN.DO.DA[FC]" (LN$FC$DO$DA), "LD/LN[FC]" (LN$FC),
 * "LD/LN" (LN); other names (vmd/aa scope, no FC) as "LD/item" or "item". */
static int ds_var_to_member(const i61_mms_var *v, char *out, size_t cap)
{
    char tmp[2 * I61_MMS_NAME_MAX + 16];
    const char *item = v->name.item;
    const char *d1 = strchr(item, '$');
    size_t pos = 0;
    if (v->name.scope == I61_MMS_SCOPE_DOMAIN)
        pos = (size_t)snprintf(tmp, sizeof tmp, "%s/", v->name.domain);
    bool fc_ok = false;
    if (d1 && strlen(d1 + 1) >= 2 && (d1[3] == '\0' || d1[3] == '$')) {
        char two[3] = { d1[1], d1[2], 0 };
        fc_ok = i61_fc_from_name(two) != I61_FC_NONE;
    }
    if (!fc_ok) {
        snprintf(tmp + pos, sizeof tmp - pos, "%s", item);
    } else {
        char two[3] = { d1[1], d1[2], 0 };
        size_t lnlen = (size_t)(d1 - item);
        pos += (size_t)snprintf(tmp + pos, sizeof tmp - pos, "%.*s", (int)lnlen, item);
        for (const char *p = d1 + 3; *p && pos + 1 < sizeof tmp; p++)
            tmp[pos++] = *p == '$' ? '.' : *p;
        tmp[pos] = '\0';
        if (v->has_index) {
            pos += (size_t)snprintf(tmp + pos, sizeof tmp - pos, "(%u)", v->index);
            if (v->component[0] && pos < sizeof tmp) {
                tmp[pos++] = '.';
                for (const char *p = v->component; *p && pos + 1 < sizeof tmp; p++)
                    tmp[pos++] = *p == '$' ? '.' : *p;
                tmp[pos] = '\0';
            }
        }
        snprintf(tmp + pos, sizeof tmp - pos, "[%s]", two);
    }
    if (strlen(tmp) >= cap)
        return I61_ERR_UNKNOWN;
    memcpy(out, tmp, strlen(tmp) + 1);
    return I61_OK;
}

/* Parses the data set reference; on failure sets the error text. */
static int ds_parse(i61_client *c, const char *op, const char *ref, i61_mms_name *name,
                    char *what, size_t whatcap)
{
    char why[200];
    snprintf(what, whatcap, "%s %.*s", op, I61_REF_MAX, ref ? ref : "(null)");
    int rc = ds_ref_to_name(ref, name, why, sizeof why);
    if (rc != I61_OK)
        return i61_client_error(c, rc, "%s: %s", what, why);
    return I61_OK;
}

int i61_client_create_dataset(i61_client *c, const char *ref, const char *const *members,
                              size_t n)
{
    if (!c || (n && !members))
        return I61_ERR_INVALID_ARGUMENT;
    i61_mms_name name;
    char what[200], why[200];
    int rc = ds_parse(c, "create_dataset", ref, &name, what, sizeof what);
    if (rc != I61_OK)
        return rc;
    if (n == 0)
        return i61_client_error(c, I61_ERR_INVALID_ARGUMENT, "%s: a data set needs members", what);
    if (n > I61_MMS_NVL_MAX_MEMBERS)
        return i61_client_error(c, I61_ERR_INVALID_ARGUMENT, "%s: more than %d members", what,
                                I61_MMS_NVL_MAX_MEMBERS);
    i61_mms_var *vars = calloc(n, sizeof *vars);
    if (!vars)
        return i61_client_error(c, I61_ERR_UNKNOWN, "%s: out of memory", what);
    for (size_t i = 0; i < n; i++) {
        rc = ds_member_to_var(members[i], &vars[i], why, sizeof why);
        if (rc != I61_OK) {
            free(vars);
            return i61_client_error(c, rc, "%s: member %zu (%.*s): %s", what, i,
                                    I61_REF_MAX, members[i] ? members[i] : "(null)", why);
        }
    }
    i61_buf req, resp;
    i61_buf_init(&req);
    i61_buf_init(&resp);
    i61_mms_error e = { 0, 0, 0 };
    uint32_t id = i61_assoc_next_invoke_id(c->assoc);
    rc = i61_mms_enc_define_nvl_req(&req, id, &name, vars, n);
    free(vars);
    if (rc == I61_OK && req.len > i61_client_pdu_limit(c))
        rc = i61_client_error(c, I61_ERR_INVALID_ARGUMENT,
                              "%s: the request (%zu octets) exceeds the negotiated PDU size",
                              what, req.len);
    else if (rc == I61_OK) {
        rc = i61_client_transact(c, id, &req, &resp);
        if (rc == I61_OK)
            rc = i61_mms_dec_define_nvl_resp(resp.data, resp.len, &e);
        if (rc != I61_OK)
            i61_client_fail(c, rc, what, &e);
        else
            i61_client_clear_error(c);
    } else {
        i61_client_fail(c, rc, what, NULL);
    }
    i61_buf_free(&req);
    i61_buf_free(&resp);
    return rc;
}

int i61_client_delete_dataset(i61_client *c, const char *ref)
{
    if (!c)
        return I61_ERR_INVALID_ARGUMENT;
    i61_mms_name name;
    char what[200];
    int rc = ds_parse(c, "delete_dataset", ref, &name, what, sizeof what);
    if (rc != I61_OK)
        return rc;
    i61_buf req, resp;
    i61_buf_init(&req);
    i61_buf_init(&resp);
    i61_mms_error e = { 0, 0, 0 };
    uint32_t matched = 0, deleted = 0;
    uint32_t id = i61_assoc_next_invoke_id(c->assoc);
    rc = i61_mms_enc_delete_nvl_req(&req, id, &name, 1);
    if (rc == I61_OK)
        rc = i61_client_transact(c, id, &req, &resp);
    if (rc == I61_OK)
        rc = i61_mms_dec_delete_nvl_resp(resp.data, resp.len, &matched, &deleted, &e);
    i61_buf_free(&req);
    i61_buf_free(&resp);
    if (rc != I61_OK)
        return i61_client_fail(c, rc, what, &e);
    if (deleted >= 1) {
        i61_client_clear_error(c);
        return I61_OK;
    }
    if (matched == 0)
        return i61_client_error(c, I61_ERR_OBJECT_DOES_NOT_EXIST,
                                "%s: %s (the server matched no data set)", what,
                                i61_err_str(I61_ERR_OBJECT_DOES_NOT_EXIST));
    return i61_client_error(c, I61_ERR_ACCESS_DENIED,
                            "%s: %s (the server did not delete it: not deletable or in use)",
                            what, i61_err_str(I61_ERR_ACCESS_DENIED));
}

int i61_client_get_dataset_directory(i61_client *c, const char *ref, i61_strlist **out,
                                     int *deletable)
{
    if (!c || !out)
        return I61_ERR_INVALID_ARGUMENT;
    *out = NULL;
    i61_mms_name name;
    char what[200];
    int rc = ds_parse(c, "get_dataset_directory", ref, &name, what, sizeof what);
    if (rc != I61_OK)
        return rc;
    i61_buf req, resp;
    i61_buf_init(&req);
    i61_buf_init(&resp);
    i61_mms_error e = { 0, 0, 0 };
    i61_mms_var *m = NULL;
    size_t n = 0;
    bool del = false;
    uint32_t id = i61_assoc_next_invoke_id(c->assoc);
    rc = i61_mms_enc_get_nvl_attr_req(&req, id, &name);
    if (rc == I61_OK)
        rc = i61_client_transact(c, id, &req, &resp);
    if (rc == I61_OK)
        rc = i61_mms_dec_get_nvl_attr_resp(resp.data, resp.len, &del, &m, &n, &e);
    i61_buf_free(&req);
    i61_buf_free(&resp);
    if (rc != I61_OK)
        return i61_client_fail(c, rc, what, &e);
    i61_strlist *l = i61_strlist_new();
    for (size_t i = 0; l && i < n; i++) {
        char s[2 * I61_MMS_NAME_MAX + 16];
        if (ds_var_to_member(&m[i], s, sizeof s) != I61_OK || i61_strlist_add(l, s, strlen(s)) != I61_OK) {
            i61_strlist_free(l);
            l = NULL;
        }
    }
    free(m);
    if (!l)
        return i61_client_error(c, I61_ERR_UNKNOWN, "%s: out of memory", what);
    if (deletable)
        *deletable = del ? 1 : 0;
    *out = l;
    i61_client_clear_error(c);
    return I61_OK;
}

int i61_client_read_dataset(i61_client *c, const char *ref, i61_value **out)
{
    if (!c || !out)
        return I61_ERR_INVALID_ARGUMENT;
    *out = NULL;
    i61_mms_access_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.is_nvl = true;
    char what[200];
    int rc = ds_parse(c, "read_dataset", ref, &spec.nvl, what, sizeof what);
    if (rc != I61_OK)
        return rc;
    i61_buf req, resp;
    i61_buf_init(&req);
    i61_buf_init(&resp);
    i61_mms_error e = { 0, 0, 0 };
    uint32_t id = i61_assoc_next_invoke_id(c->assoc);
    /* specificationWithResult TRUE, as the captured clients send it (033) */
    rc = i61_mms_enc_read_req(&req, id, true, &spec);
    if (rc == I61_OK)
        rc = i61_client_transact(c, id, &req, &resp);
    if (rc == I61_OK)
        rc = i61_mms_dec_read_resp(resp.data, resp.len, out, NULL, &e);
    i61_buf_free(&req);
    i61_buf_free(&resp);
    if (rc != I61_OK)
        return i61_client_fail(c, rc, what, &e);
    i61_client_clear_error(c);
    return I61_OK;
}

int i61_client_write_dataset(i61_client *c, const char *ref, const i61_value *const *values,
                             size_t n, int *results)
{
    if (!c || !values || !results || n == 0)
        return I61_ERR_INVALID_ARGUMENT;
    i61_mms_access_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.is_nvl = true;
    char what[200];
    int rc = ds_parse(c, "write_dataset", ref, &spec.nvl, what, sizeof what);
    if (rc != I61_OK)
        return rc;
    int *dae = calloc(n, sizeof *dae);
    if (!dae)
        return i61_client_error(c, I61_ERR_UNKNOWN, "%s: out of memory", what);
    i61_buf req, resp;
    i61_buf_init(&req);
    i61_buf_init(&resp);
    i61_mms_error e = { 0, 0, 0 };
    uint32_t id = i61_assoc_next_invoke_id(c->assoc);
    rc = i61_mms_enc_write_req(&req, id, &spec, values, n);
    if (rc == I61_OK && req.len > i61_client_pdu_limit(c))
        rc = I61_ERR_INVALID_ARGUMENT;
    if (rc == I61_OK)
        rc = i61_client_transact(c, id, &req, &resp);
    if (rc == I61_OK)
        rc = i61_mms_dec_write_resp(resp.data, resp.len, dae, n, &e);
    i61_buf_free(&req);
    i61_buf_free(&resp);
    if (rc == I61_OK) {
        for (size_t i = 0; i < n; i++)
            results[i] = dae[i] < 0 ? I61_OK : i61_err_from_data_access_error(dae[i]);
    }
    free(dae);
    if (rc != I61_OK)
        return i61_client_fail(c, rc, what, &e);
    i61_client_clear_error(c);
    return I61_OK;
}
