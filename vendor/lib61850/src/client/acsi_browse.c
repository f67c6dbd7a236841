/* ACSI client: server identification, name lists, directories, type specs. */
#include "client_internal.h"
#include "reference.h"
#include "../mms/strlist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Identify ------------------------------------------------------------- */

int i61_client_identify(i61_client *c, char **vendor, char **model, char **revision)
{
    if (!c || !vendor || !model || !revision)
        return I61_ERR_INVALID_ARGUMENT;
    *vendor = *model = *revision = NULL;
    i61_buf req, resp;
    i61_mms_error e = { 0, 0, 0 };
    i61_buf_init(&req);
    i61_buf_init(&resp);
    uint32_t id = i61_assoc_next_invoke_id(c->assoc);
    int rc = i61_mms_enc_identify_req(&req, id);
    if (rc == I61_OK)
        rc = i61_client_transact(c, id, &req, &resp);
    if (rc == I61_OK)
        rc = i61_mms_dec_identify_resp(resp.data, resp.len, vendor, model, revision, &e);
    i61_buf_free(&req);
    i61_buf_free(&resp);
    if (rc != I61_OK)
        return i61_client_fail(c, rc, "identify", &e);
    i61_client_clear_error(c);
    return I61_OK;
}

int i61_client_status(i61_client *c, int *logical, int *physical)
{
    if (!c || !logical || !physical)
        return I61_ERR_INVALID_ARGUMENT;
    i61_buf req, resp;
    i61_mms_error e = { 0, 0, 0 };
    i61_buf_init(&req);
    i61_buf_init(&resp);
    uint32_t id = i61_assoc_next_invoke_id(c->assoc);
    int rc = i61_mms_enc_status_req(&req, id, false);
    if (rc == I61_OK)
        rc = i61_client_transact(c, id, &req, &resp);
    if (rc == I61_OK)
        rc = i61_mms_dec_status_resp(resp.data, resp.len, logical, physical, &e);
    i61_buf_free(&req);
    i61_buf_free(&resp);
    if (rc != I61_OK)
        return i61_client_fail(c, rc, "status", &e);
    i61_client_clear_error(c);
    return I61_OK;
}

/* Name lists ----------------------------------------------------------- */

static int to_strlist(const i61_mms_idlist *ids, i61_strlist **out)
{
    i61_strlist *l = i61_strlist_new();
    if (!l)
        return I61_ERR_UNKNOWN;
    for (size_t i = 0; i < ids->count; i++) {
        if (i61_strlist_add(l, ids->items[i], strlen(ids->items[i])) != 0) {
            i61_strlist_free(l);
            return I61_ERR_UNKNOWN;
        }
    }
    *out = l;
    return I61_OK;
}

static int name_list(i61_client *c, int cls, int scope, const char *domain, const char *what,
                     i61_strlist **out)
{
    i61_mms_idlist ids;
    i61_mms_idlist_init(&ids);
    int rc = i61_client_name_list(c, cls, scope, domain, &ids, what);
    if (rc == I61_OK) {
        rc = to_strlist(&ids, out);
        if (rc != I61_OK)
            i61_client_error(c, rc, "%s: out of memory", what);
        else
            i61_client_clear_error(c);
    }
    i61_mms_idlist_clear(&ids);
    return rc;
}

static int check_domain(i61_client *c, const char *domain, const char *op)
{
    char why[160];
    int rc = i61_ref_check_ld(domain, why, sizeof why);
    if (rc != I61_OK)
        return i61_client_error(c, rc, "%s %.70s: %s", op, domain ? domain : "(null)", why);
    return I61_OK;
}

int i61_client_get_domain_names(i61_client *c, i61_strlist **out)
{
    if (!c || !out)
        return I61_ERR_INVALID_ARGUMENT;
    *out = NULL;
    return name_list(c, I61_MMS_CLASS_DOMAIN, I61_MMS_SCOPE_VMD, NULL, "get domain names", out);
}

static int domain_list(i61_client *c, int cls, const char *domain, const char *op,
                       i61_strlist **out)
{
    if (!c || !out)
        return I61_ERR_INVALID_ARGUMENT;
    *out = NULL;
    int rc = check_domain(c, domain, op);
    if (rc != I61_OK)
        return rc;
    char what[128];
    snprintf(what, sizeof what, "%s %s", op, domain);
    return name_list(c, cls, I61_MMS_SCOPE_DOMAIN, domain, what, out);
}

int i61_client_get_variable_names(i61_client *c, const char *domain, i61_strlist **out)
{
    return domain_list(c, I61_MMS_CLASS_NAMED_VARIABLE, domain, "get variable names", out);
}

int i61_client_get_nvl_names(i61_client *c, const char *domain, i61_strlist **out)
{
    if (c && out && !domain) {
        /* no domain: the association-specific (dynamic, "@name") data sets */
        *out = NULL;
        return name_list(c, I61_MMS_CLASS_NVL, I61_MMS_SCOPE_AA, NULL,
                         "get association-specific data set names", out);
    }
    return domain_list(c, I61_MMS_CLASS_NVL, domain, "get data set names", out);
}

int i61_client_get_journal_names(i61_client *c, const char *domain, i61_strlist **out)
{
    return domain_list(c, I61_MMS_CLASS_JOURNAL, domain, "get journal names", out);
}

/* Directories ---------------------------------------------------------- */

int i61_client_get_logical_nodes(i61_client *c, const char *ld, i61_strlist **out)
{
    if (!c || !out)
        return I61_ERR_INVALID_ARGUMENT;
    *out = NULL;
    int rc = check_domain(c, ld, "get logical nodes of");
    if (rc != I61_OK)
        return rc;
    char what[128];
    snprintf(what, sizeof what, "get logical nodes of %s", ld);
    i61_mms_idlist ids;
    i61_mms_idlist_init(&ids);
    rc = i61_client_name_list(c, I61_MMS_CLASS_NAMED_VARIABLE, I61_MMS_SCOPE_DOMAIN, ld, &ids,
                              what);
    if (rc == I61_OK) {
        rc = i61_dir_logical_nodes((const char *const *)ids.items, ids.count, out);
        if (rc != I61_OK)
            i61_client_fail(c, rc, what, NULL);
        else
            i61_client_clear_error(c);
    }
    i61_mms_idlist_clear(&ids);
    return rc;
}

static const char *acsi_class_name(int cls)
{
    static const char *const names[] = {
        "DATA_OBJECT", "DATA_SET", "BRCB", "URCB", "LCB", "LOG", "SGCB", "GOCB", "GSCB",
        "MSVCB", "USVCB"
    };
    if (cls >= 0 && (size_t)cls < sizeof names / sizeof names[0])
        return names[cls];
    return NULL;
}

int i61_client_get_ln_directory(i61_client *c, const char *ln_ref, int acsi_class,
                                i61_strlist **out)
{
    if (!c || !out)
        return I61_ERR_INVALID_ARGUMENT;
    *out = NULL;
    const char *cname = acsi_class_name(acsi_class);
    if (!cname)
        return i61_client_error(c, I61_ERR_INVALID_ARGUMENT,
                                "get logical node directory: unknown ACSI class %d", acsi_class);
    char ld[I61_REF_LD_MAX + 1], ln[I61_REF_ITEM_MAX + 1], why[160], shown[I61_REF_MAX + 8];
    i61_ref_describe(ln_ref, I61_FC_NONE, shown, sizeof shown);
    int rc = i61_ref_split_ln(ln_ref, ld, ln, why, sizeof why);
    if (rc != I61_OK)
        return i61_client_error(c, rc, "get logical node directory %s: %s", shown, why);
    char what[256];
    snprintf(what, sizeof what, "get logical node directory %s (%s)", shown, cname);

    int cls = I61_MMS_CLASS_NAMED_VARIABLE;
    if (acsi_class == I61_ACSI_DATA_SET)
        cls = I61_MMS_CLASS_NVL;
    else if (acsi_class == I61_ACSI_LOG)
        cls = I61_MMS_CLASS_JOURNAL;
    i61_mms_idlist ids;
    i61_mms_idlist_init(&ids);
    rc = i61_client_name_list(c, cls, I61_MMS_SCOPE_DOMAIN, ld, &ids, what);
    if (rc == I61_OK) {
        bool found = false;
        rc = i61_dir_ln((const char *const *)ids.items, ids.count, ln, acsi_class, out, &found);
        if (rc != I61_OK) {
            i61_client_fail(c, rc, what, NULL);
        } else if (!found && cls == I61_MMS_CLASS_NAMED_VARIABLE) {
            /* data sets and logs may legitimately be absent; the LN itself must exist */
            i61_strlist_free(*out);
            *out = NULL;
            rc = i61_client_error(c, I61_ERR_OBJECT_DOES_NOT_EXIST,
                                  "%s: logical node %s not found in %s", what, ln, ld);
        } else {
            i61_client_clear_error(c);
        }
    }
    i61_mms_idlist_clear(&ids);
    return rc;
}

int i61_client_get_data_directory(i61_client *c, const char *data_ref, int fc_filter,
                                  int with_fc, i61_strlist **out)
{
    if (!c || !out)
        return I61_ERR_INVALID_ARGUMENT;
    *out = NULL;
    char ld[I61_REF_LD_MAX + 1], ln[I61_REF_ITEM_MAX + 1], path[I61_REF_ITEM_MAX + 1];
    char why[160], shown[I61_REF_MAX + 8], what[256];
    i61_ref_describe(data_ref, fc_filter == I61_FC_ALL ? I61_FC_NONE : fc_filter, shown,
                     sizeof shown);
    if (fc_filter != I61_FC_ALL && !i61_fc_name(fc_filter))
        return i61_client_error(c, I61_ERR_INVALID_ARGUMENT,
                                "get data directory %s: invalid FC filter %d", shown, fc_filter);
    int rc = i61_ref_split_data(data_ref, ld, ln, path, why, sizeof why);
    if (rc != I61_OK)
        return i61_client_error(c, rc, "get data directory %s: %s", shown, why);
    snprintf(what, sizeof what, "get data directory %s", shown);
    i61_mms_idlist ids;
    i61_mms_idlist_init(&ids);
    rc = i61_client_name_list(c, I61_MMS_CLASS_NAMED_VARIABLE, I61_MMS_SCOPE_DOMAIN, ld, &ids,
                              what);
    if (rc == I61_OK) {
        bool found = false;
        rc = i61_dir_data((const char *const *)ids.items, ids.count, ln, path, fc_filter,
                          with_fc != 0, out, &found);
        if (rc != I61_OK) {
            i61_client_fail(c, rc, what, NULL);
        } else if (!found) {
            i61_strlist_free(*out);
            *out = NULL;
            rc = i61_client_error(c, I61_ERR_OBJECT_DOES_NOT_EXIST, "%s: %s", what,
                                  i61_err_str(I61_ERR_OBJECT_DOES_NOT_EXIST));
        } else {
            i61_client_clear_error(c);
        }
    }
    i61_mms_idlist_clear(&ids);
    return rc;
}

/* Type specifications --------------------------------------------------- */

int i61_client_get_variable_spec(i61_client *c, const char *ref, int fc, i61_typespec **out)
{
    if (!c || !out)
        return I61_ERR_INVALID_ARGUMENT;
    *out = NULL;
    char shown[I61_REF_MAX + 8], what[200], why[200];
    i61_ref_describe(ref, fc, shown, sizeof shown);
    snprintf(what, sizeof what, "get variable specification %s", shown);
    i61_mms_var v;
    int rc = i61_ref_to_var(ref, fc, &v, why, sizeof why);
    if (rc != I61_OK)
        return i61_client_error(c, rc, "%s: %s", what, why);
    if (v.has_index)
        return i61_client_error(c, I61_ERR_OBJECT_REFERENCE_INVALID,
                                "%s: an array element has no variable specification of its own "
                                "(ask for the array)", what);
    i61_buf req, resp;
    i61_mms_error e = { 0, 0, 0 };
    bool deletable = false;
    i61_buf_init(&req);
    i61_buf_init(&resp);
    uint32_t id = i61_assoc_next_invoke_id(c->assoc);
    rc = i61_mms_enc_gvaa_req(&req, id, &v.name);
    if (rc == I61_OK)
        rc = i61_client_transact(c, id, &req, &resp);
    if (rc == I61_OK)
        rc = i61_mms_dec_gvaa_resp(resp.data, resp.len, &deletable, out, &e);
    i61_buf_free(&req);
    i61_buf_free(&resp);
    if (rc != I61_OK)
        return i61_client_fail(c, rc, what, &e);
    i61_client_clear_error(c);
    return I61_OK;
}
