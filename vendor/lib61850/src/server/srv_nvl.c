/* Server data sets (MMS named variable lists): see srv_nvl.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv_nvl.h"

/* ServiceError classes/codes answered here (PROTOCOL.md section 8). */
#define ERR_DEFINITION 2
#define ERR_DEF_OBJECT_UNDEFINED 1
#define ERR_DEF_OBJECT_EXISTS 5
#define ERR_RESOURCE 3
#define ERR_RES_CAPABILITY_UNAVAILABLE 4
#define ERR_ACCESS 7
#define ERR_ACC_UNSUPPORTED 1
#define ERR_ACC_NON_EXISTENT 2

/* ------------------------------------------------------------- storage */

static void i61_nvl_free(i61_nvl *l)
{
    if (!l)
        return;
    free(l->members);
    free(l);
}

void i61_nvl_store_free(struct i61_nvl_store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        i61_nvl_free(s->v[i]);
    free(s->v);
    free(s);
}

static struct i61_nvl_store *i61_nvl_store(i61_model *m, bool create)
{
    if (!m->nvls && create)
        m->nvls = calloc(1, sizeof *m->nvls);
    return m->nvls;
}

static bool i61_nvl_name_eq(const i61_mms_name *a, const i61_mms_name *b)
{
    if (a->scope != b->scope || strcmp(a->item, b->item) != 0)
        return false;
    return a->scope != I61_MMS_SCOPE_DOMAIN || strcmp(a->domain, b->domain) == 0;
}

/* The list is visible from connection conn_id under name. */
static bool i61_nvl_visible(const i61_nvl *l, uint32_t conn_id)
{
    return l->name.scope != I61_MMS_SCOPE_AA || l->owner == conn_id;
}

static size_t i61_nvl_index(i61_model *m, const i61_mms_name *name, uint32_t conn_id)
{
    struct i61_nvl_store *s = i61_nvl_store(m, false);
    if (!s)
        return (size_t)-1;
    for (size_t i = 0; i < s->n; i++)
        if (i61_nvl_visible(s->v[i], conn_id) && i61_nvl_name_eq(&s->v[i]->name, name))
            return i;
    return (size_t)-1;
}

i61_nvl *i61_nvl_find(i61_model *m, const i61_mms_name *name, uint32_t conn_id)
{
    size_t i = i61_nvl_index(m, name, conn_id);
    return i == (size_t)-1 ? NULL : m->nvls->v[i];
}

void i61_nvl_reserve(i61_nvl *l, int delta)
{
    if (l && l->reserved + delta >= 0)
        l->reserved += delta;
}

int i61_nvl_reserve_ref(i61_model *m, uint32_t conn_id, const char *datset, int delta)
{
    i61_mms_name n;
    memset(&n, 0, sizeof n);
    if (!m || !datset || !*datset || strlen(datset) > I61_MMS_NAME_MAX)
        return I61_ERR_OBJECT_REFERENCE_INVALID;
    const char *slash = strchr(datset, '/');
    if (datset[0] == '@') {
        n.scope = I61_MMS_SCOPE_AA;
        strcpy(n.item, datset + 1);
    } else if (slash) {
        if (slash == datset || (size_t)(slash - datset) > I61_MODEL_NAME_MAX)
            return I61_ERR_OBJECT_REFERENCE_INVALID;
        n.scope = I61_MMS_SCOPE_DOMAIN;
        memcpy(n.domain, datset, (size_t)(slash - datset));
        strcpy(n.item, slash + 1);
    } else {
        n.scope = I61_MMS_SCOPE_VMD;
        strcpy(n.item, datset);
    }
    if (!n.item[0])
        return I61_ERR_OBJECT_REFERENCE_INVALID;
    i61_model_lock(m);
    i61_nvl *l = i61_nvl_find(m, &n, conn_id);
    if (l)
        i61_nvl_reserve(l, delta);
    i61_model_unlock(m);
    return l ? I61_OK : I61_ERR_OBJECT_DOES_NOT_EXIST;
}

static void i61_nvl_remove_at(struct i61_nvl_store *s, size_t i)
{
    i61_nvl_free(s->v[i]);
    memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof s->v[0]);
    s->n--;
}

/* Takes ownership of members (also on failure). */
static int i61_nvl_add(i61_model *m, const i61_mms_name *name, uint32_t owner, bool deletable,
                       i61_mms_var *members, size_t n)
{
    struct i61_nvl_store *s = i61_nvl_store(m, true);
    i61_nvl *l = calloc(1, sizeof *l);
    if (!s || !l || (s->n == s->cap && s->cap >= I61_NVL_MAX_TOTAL)) {
        free(l);
        free(members);
        return s && l ? I61_ERR_TEMPORARILY_UNAVAILABLE : I61_ERR_UNKNOWN;
    }
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 8;
        i61_nvl **p = realloc(s->v, nc * sizeof *p);
        if (!p) {
            free(l);
            free(members);
            return I61_ERR_UNKNOWN;
        }
        s->v = p;
        s->cap = nc;
    }
    l->name = *name;
    l->owner = owner;
    l->deletable = deletable;
    l->members = members;
    l->n = n;
    s->v[s->n++] = l;
    return I61_OK;
}

void i61_nvl_drop_conn(i61_model *m, uint32_t conn_id)
{
    i61_model_lock(m);
    struct i61_nvl_store *s = i61_nvl_store(m, false);
    for (size_t i = 0; s && i < s->n;) {
        if (s->v[i]->name.scope == I61_MMS_SCOPE_AA && s->v[i]->owner == conn_id)
            i61_nvl_remove_at(s, i);
        else
            i++;
    }
    i61_model_unlock(m);
}

static size_t i61_nvl_count_conn(i61_model *m, uint32_t conn_id)
{
    struct i61_nvl_store *s = i61_nvl_store(m, false);
    size_t k = 0;
    for (size_t i = 0; s && i < s->n; i++)
        if (s->v[i]->name.scope == I61_MMS_SCOPE_AA && s->v[i]->owner == conn_id)
            k++;
    return k;
}

static int i61_nvl_cmp(const void *a, const void *b)
{
    return i61_model_name_cmp(*(const char *const *)a, *(const char *const *)b);
}

int i61_nvl_names(i61_model *m, int scope, const char *domain, uint32_t conn_id,
                  const char *after, const char ***names, size_t *n)
{
    struct i61_nvl_store *s = i61_nvl_store(m, false);
    *names = NULL;
    *n = 0;
    if (!s || s->n == 0)
        return I61_OK;
    const char **v = malloc(s->n * sizeof *v);
    if (!v)
        return I61_ERR_UNKNOWN;
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++) {
        const i61_nvl *l = s->v[i];
        if (l->name.scope != scope || !i61_nvl_visible(l, conn_id))
            continue;
        if (scope == I61_MMS_SCOPE_DOMAIN && i61_model_name_cmp(l->name.domain, domain) != 0)
            continue;
        if (after && i61_model_name_cmp(l->name.item, after) <= 0)
            continue;
        v[k++] = l->name.item;
    }
    qsort(v, k, sizeof *v, i61_nvl_cmp);
    if (k == 0) {
        free(v);
        v = NULL;
    }
    *names = v;
    *n = k;
    return I61_OK;
}

int i61_nvl_expand(i61_model *m, uint32_t conn_id, i61_mms_access_spec *spec)
{
    i61_nvl *l = i61_nvl_find(m, &spec->nvl, conn_id);
    if (!l)
        return I61_ERR_OBJECT_DOES_NOT_EXIST;
    i61_mms_var *v = malloc((l->n ? l->n : 1) * sizeof *v);
    if (!v)
        return I61_ERR_UNKNOWN;
    memcpy(v, l->members, l->n * sizeof *v);
    free(spec->vars);
    spec->vars = v;
    spec->n_vars = l->n;
    return I61_OK;
}

int i61_model_dataset_count(i61_model *m)
{
    if (!m)
        return 0;
    i61_model_lock(m);
    struct i61_nvl_store *s = i61_nvl_store(m, false);
    int n = s ? (int)s->n : 0;
    i61_model_unlock(m);
    return n;
}

/* -------------------------------------------------------- member checks */

/* A member must be a named variable of the model (alternate access to an
 * array element allowed). Returns 0 or a ServiceError class << 8 | code. */
static int i61_nvl_check_member(i61_model *m, const i61_mms_var *v)
{
    if (v->alt_unsupported)
        return ERR_ACCESS << 8 | ERR_ACC_UNSUPPORTED;
    if (v->name.scope != I61_MMS_SCOPE_DOMAIN)
        return ERR_DEFINITION << 8 | ERR_DEF_OBJECT_UNDEFINED;
    i61_mnode *ld = i61_model_domain(m, v->name.domain);
    if (!ld || !i61_model_var(m, ld, v->name.item))
        return ERR_DEFINITION << 8 | ERR_DEF_OBJECT_UNDEFINED;
    return 0;
}

/* Domain-specific list names are "LN$name" of an existing LN. */
static bool i61_nvl_ln_ok(i61_model *m, const i61_mms_name *name)
{
    const char *d = strchr(name->item, '$');
    if (!d || d == name->item || d[1] == '\0' || strchr(d + 1, '$'))
        return false;
    char ln[I61_MMS_NAME_MAX + 1];
    size_t l = (size_t)(d - name->item);
    memcpy(ln, name->item, l);
    ln[l] = '\0';
    i61_mnode *ld = i61_model_domain(m, name->domain);
    const i61_mvar *v = ld ? i61_model_var(m, ld, ln) : NULL;
    return v && v->fc == I61_FC_NONE;
}

/* ------------------------------------------------------------- builder */

/* Builder member reference -> MMS variable (model lock held, prepared). */
static int i61_nvl_member_from_ref(i61_model *m, const char *ref, i61_mms_var *out)
{
    char buf[I61_MMS_NAME_MAX + 8];
    memset(out, 0, sizeof *out);
    if (!ref || !*ref || strlen(ref) >= sizeof buf)
        return I61_ERR_OBJECT_REFERENCE_INVALID;
    size_t n = strlen(ref);
    memcpy(buf, ref, n + 1);
    int fc = I61_FC_NONE;
    if (buf[n - 1] == ']') {
        char *lb = strrchr(buf, '[');
        if (!lb || buf + n - 1 - lb != 3)
            return I61_ERR_OBJECT_REFERENCE_INVALID;
        char two[3] = { lb[1], lb[2], 0 };
        fc = i61_fc_from_name(two);
        if (fc == I61_FC_NONE)
            return I61_ERR_OBJECT_REFERENCE_INVALID;
        *lb = '\0';
    }
    i61_mnode *node = NULL;
    int rfc = I61_FC_NONE;
    int rc = i61_model_find(m, buf, fc, &node, &rfc);
    if (rc != I61_OK)
        return rc;
    /* item: LN[$FC[$DO$...]] from the node path */
    const i61_mnode *path[I61_MODEL_MAX_DEPTH + 2];
    size_t np = 0;
    const i61_mnode *x = node;
    while (x && x->kind != I61_MNODE_LN && np < I61_MODEL_MAX_DEPTH + 2) {
        path[np++] = x;
        x = x->parent;
    }
    if (!x || !x->parent || x->kind != I61_MNODE_LN)
        return I61_ERR_OBJECT_REFERENCE_INVALID;
    size_t len = (size_t)snprintf(out->name.item, sizeof out->name.item, "%s", x->name);
    if (rfc != I61_FC_NONE)
        len += (size_t)snprintf(out->name.item + len, sizeof out->name.item - len, "$%s",
                                i61_fc_name(rfc));
    while (np > 0 && len < sizeof out->name.item)
        len += (size_t)snprintf(out->name.item + len, sizeof out->name.item - len, "$%s",
                                path[--np]->name);
    if (len >= sizeof out->name.item || len > I61_MODEL_ITEM_MAX)
        return I61_ERR_OBJECT_REFERENCE_INVALID;
    out->name.scope = I61_MMS_SCOPE_DOMAIN;
    snprintf(out->name.domain, sizeof out->name.domain, "%s", i61_model_ld_name(x->parent));
    i61_mnode *ld = i61_model_domain(m, out->name.domain);
    if (!ld || !i61_model_var(m, ld, out->name.item))
        return I61_ERR_OBJECT_DOES_NOT_EXIST;
    return I61_OK;
}

int i61_model_add_dataset(i61_model *m, const char *ref, const char *const *members, size_t n)
{
    if (!m || !ref || (n && !members))
        return I61_ERR_INVALID_ARGUMENT;
    if (n == 0 || n > I61_MMS_NVL_MAX_MEMBERS)
        return I61_ERR_INVALID_ARGUMENT;
    i61_mms_name name;
    memset(&name, 0, sizeof name);
    const char *slash = strchr(ref, '/');
    if (!slash || slash == ref || (size_t)(slash - ref) > I61_MODEL_NAME_MAX
        || strlen(slash + 1) > I61_MODEL_ITEM_MAX || strlen(slash + 1) == 0)
        return I61_ERR_OBJECT_REFERENCE_INVALID;
    name.scope = I61_MMS_SCOPE_DOMAIN;
    memcpy(name.domain, ref, (size_t)(slash - ref));
    strcpy(name.item, slash + 1);
    char *dot = strchr(name.item, '.');
    if (dot)
        *dot = '$';
    for (const char *p = name.item; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
              || *p == '_' || *p == '$'))
            return I61_ERR_OBJECT_REFERENCE_INVALID;
    i61_mms_var *vars = calloc(n, sizeof *vars);
    if (!vars)
        return I61_ERR_UNKNOWN;
    i61_model_lock(m);
    int rc = i61_model_prepare(m);
    if (rc == I61_OK) {
        const char *d = strchr(name.item, '$');
        if (!d || d == name.item || d[1] == '\0' || strchr(d + 1, '$'))
            rc = I61_ERR_OBJECT_REFERENCE_INVALID;
        else if (!i61_nvl_ln_ok(m, &name))
            rc = I61_ERR_OBJECT_DOES_NOT_EXIST;
        else if (i61_nvl_find(m, &name, 0))
            rc = I61_ERR_OBJECT_EXISTS;
    }
    for (size_t i = 0; i < n && rc == I61_OK; i++)
        rc = i61_nvl_member_from_ref(m, members[i], &vars[i]);
    if (rc == I61_OK) {
        rc = i61_nvl_add(m, &name, 0, false, vars, n);
        vars = NULL;
    }
    i61_model_unlock(m);
    free(vars);
    return rc;
}

/* ------------------------------------------------------------- services */

static void i61_nvl_send(i61_sconn *c, uint32_t id)
{
    if (c->pdu.oom) {
        c->close_now = true;
        return;
    }
    if (c->pdu.len > c->max_pdu) {
        i61_buf_reset(&c->pdu);
        i61_mms_enc_error_pdu(&c->pdu, id, 4, 3);    /* service/pdu-size */
    }
    i61_sconn_send_pdu(c, c->pdu.data, c->pdu.len);
}

static void i61_nvl_error(i61_sconn *c, uint32_t id, int cls, int code)
{
    i61_buf_reset(&c->pdu);
    i61_mms_enc_error_pdu(&c->pdu, id, cls, code);
    i61_nvl_send(c, id);
}

static void i61_nvl_reject(i61_sconn *c, uint32_t id)
{
    i61_buf_reset(&c->pdu);
    i61_mms_enc_reject_pdu(&c->pdu, true, id, I61_MMS_REJECT_CONFIRMED_REQUEST,
                           I61_MMS_REJECT_INVALID_ARGUMENT);
    i61_nvl_send(c, id);
}

void i61_srv_define_nvl(i61_sconn *c, const i61_mms_request *rq)
{
    i61_mms_name name;
    i61_mms_var *members = NULL;
    size_t n = 0;
    int rc = i61_mms_dec_define_nvl_req(rq, &name, &members, &n);
    if (rc != I61_OK) {
        if (rc == I61_ERR_UNKNOWN)
            i61_nvl_error(c, rq->invoke_id, ERR_RESOURCE, 0);
        else
            i61_nvl_reject(c, rq->invoke_id);
        return;
    }
    i61_model *m = c->srv->model;
    int err = 0;                                       /* class << 8 | code */
    i61_model_lock(m);
    if (i61_model_prepare(m) != I61_OK) {
        err = ERR_RESOURCE << 8;
    } else if (name.scope == I61_MMS_SCOPE_DOMAIN) {
        /* unknown LD or LN: access/object-non-existent, as libiec61850 answers */
        if (!i61_model_domain(m, name.domain) || !i61_nvl_ln_ok(m, &name))
            err = ERR_ACCESS << 8 | ERR_ACC_NON_EXISTENT;
    } else if (name.scope == I61_MMS_SCOPE_AA) {
        if (i61_nvl_count_conn(m, c->id) >= I61_NVL_MAX_PER_CONN)
            err = ERR_RESOURCE << 8 | ERR_RES_CAPABILITY_UNAVAILABLE;
    }
    if (!err && i61_nvl_find(m, &name, c->id))
        err = ERR_DEFINITION << 8 | ERR_DEF_OBJECT_EXISTS;
    for (size_t i = 0; i < n && !err; i++)
        err = i61_nvl_check_member(m, &members[i]);
    if (!err) {
        rc = i61_nvl_add(m, &name, name.scope == I61_MMS_SCOPE_AA ? c->id : 0, true, members, n);
        members = NULL;
        if (rc == I61_ERR_TEMPORARILY_UNAVAILABLE)
            err = ERR_RESOURCE << 8 | ERR_RES_CAPABILITY_UNAVAILABLE;
        else if (rc != I61_OK)
            err = ERR_RESOURCE << 8;
    }
    i61_model_unlock(m);
    free(members);
    if (err) {
        i61_nvl_error(c, rq->invoke_id, err >> 8, err & 0xff);
        return;
    }
    i61_buf_reset(&c->pdu);
    i61_mms_enc_define_nvl_resp(&c->pdu, rq->invoke_id);
    i61_nvl_send(c, rq->invoke_id);
}

void i61_srv_get_nvl_attr(i61_sconn *c, const i61_mms_request *rq)
{
    i61_mms_name name;
    if (i61_mms_dec_get_nvl_attr_req(rq, &name) != I61_OK) {
        i61_nvl_reject(c, rq->invoke_id);
        return;
    }
    i61_model *m = c->srv->model;
    i61_model_lock(m);
    i61_nvl *l = i61_nvl_find(m, &name, c->id);
    if (!l) {
        i61_model_unlock(m);
        i61_nvl_error(c, rq->invoke_id, ERR_ACCESS, ERR_ACC_NON_EXISTENT);
        return;
    }
    i61_buf_reset(&c->pdu);
    int rc = i61_mms_enc_get_nvl_attr_resp(&c->pdu, rq->invoke_id, l->deletable, l->members, l->n);
    i61_model_unlock(m);
    if (rc != I61_OK && !c->pdu.oom) {
        i61_nvl_error(c, rq->invoke_id, ERR_RESOURCE, 0);
        return;
    }
    i61_nvl_send(c, rq->invoke_id);
}

/* Deletes s->v[i] if allowed; counts. */
static void i61_nvl_try_delete(struct i61_nvl_store *s, size_t *i, uint32_t *matched,
                               uint32_t *deleted)
{
    i61_nvl *l = s->v[*i];
    (*matched)++;
    if (l->deletable && l->reserved == 0) {
        i61_nvl_remove_at(s, *i);
        (*deleted)++;
    } else {
        (*i)++;
    }
}

void i61_srv_delete_nvl(i61_sconn *c, const i61_mms_request *rq)
{
    i61_mms_delete_nvl_req d;
    int rc = i61_mms_dec_delete_nvl_req(rq, &d);
    if (rc != I61_OK) {
        if (rc == I61_ERR_UNKNOWN)
            i61_nvl_error(c, rq->invoke_id, ERR_RESOURCE, 0);
        else
            i61_nvl_reject(c, rq->invoke_id);
        return;
    }
    if ((d.scope == 0 && d.n == 0) || (d.scope == 2 && !d.has_domain)) {
        i61_mms_delete_nvl_req_clear(&d);
        i61_nvl_reject(c, rq->invoke_id);
        return;
    }
    i61_model *m = c->srv->model;
    uint32_t matched = 0, deleted = 0;
    i61_model_lock(m);
    struct i61_nvl_store *s = i61_nvl_store(m, false);
    if (s && d.scope == 0) {
        for (size_t k = 0; k < d.n; k++) {
            size_t i = i61_nvl_index(m, &d.names[k], c->id);
            if (i != (size_t)-1)
                i61_nvl_try_delete(s, &i, &matched, &deleted);
        }
    } else if (s) {
        for (size_t i = 0; i < s->n;) {
            const i61_nvl *l = s->v[i];
            bool in = false;
            if (d.scope == 1)
                in = l->name.scope == I61_MMS_SCOPE_AA && l->owner == c->id;
            else if (d.scope == 2)
                in = l->name.scope == I61_MMS_SCOPE_DOMAIN && strcmp(l->name.domain, d.domain) == 0;
            else
                in = l->name.scope == I61_MMS_SCOPE_VMD;
            if (in)
                i61_nvl_try_delete(s, &i, &matched, &deleted);
            else
                i++;
        }
    }
    i61_model_unlock(m);
    i61_mms_delete_nvl_req_clear(&d);
    i61_buf_reset(&c->pdu);
    i61_mms_enc_delete_nvl_resp(&c->pdu, rq->invoke_id, matched, deleted);
    i61_nvl_send(c, rq->invoke_id);
}
