/* Server data model: builder, MMS name index, type specifications, value
 * read/write (IEC 61850-8-1 mapping, PROTOCOL.md section 10). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "../mms/mms_data.h"
#include "../mms/value_internal.h"
#include "srv_nvl.h"                      /* i61_nvl_store_free */
#include "srv_rcb.h"                      /* i61_rcb_set_free, i61_rcb_sync */
#include "srv_control.h"                  /* i61_ctl_set_free */
#include "srv_log.h"                      /* logs: i61_log_set_free, i61_log_sync, i61_log_on_store */
#include "srv_sgcb.h"                     /* sgcb: i61_cbx_set_free, i61_cbx_owns, i61_sgcb_sync */

#define ALL_FC_MASK ((1u << I61_MODEL_FC_COUNT) - 1u)

/* ------------------------------------------------------------------ names */

static int i61_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

int i61_model_name_cmp(const char *a, const char *b)
{
    const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;
    for (;; p++, q++) {
        int x = i61_lower(*p), y = i61_lower(*q);
        if (x != y)
            return x < y ? -1 : 1;
        if (!*p)
            break;
    }
    return strcmp(a, b);
}

static bool i61_valid_name(const char *s, size_t max)
{
    if (!s || !*s)
        return false;
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
        if (n >= max)
            return false;
    }
    return true;
}

/* ------------------------------------------------------------------ nodes */

static i61_mnode *i61_node_alloc(i61_model *m, const char *name, int kind)
{
    i61_mnode *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->name = strdup(name);
    if (!n->name) {
        free(n);
        return NULL;
    }
    n->kind = (uint8_t)kind;
    n->fc = I61_FC_NONE;
    n->model = m;
    return n;
}

static void i61_node_free_one(i61_mnode *n)
{
    i61_mhook *h = n->hooks;
    while (h) {
        i61_mhook *nx = h->next;
        free(h);
        h = nx;
    }
    i61_value_free(n->value);
    free(n->kids);
    free(n->name);
}

/* Frees the subtree below n (and n itself unless it is the embedded root),
 * without recursion: children are pushed on an explicit stack. */
static void i61_node_free_tree(i61_mnode *root)
{
    size_t cap = 64, top = 0;
    i61_mnode **stack = malloc(cap * sizeof *stack);
    for (size_t i = 0; i < root->nkids; i++) {
        if (stack && top == cap) {
            i61_mnode **ns = realloc(stack, cap * 2 * sizeof *ns);
            if (!ns) {
                free(stack);
                stack = NULL;
            } else {
                stack = ns;
                cap *= 2;
            }
        }
        if (stack)
            stack[top++] = root->kids[i];
    }
    while (stack && top > 0) {
        i61_mnode *n = stack[--top];
        for (size_t i = 0; i < n->nkids; i++) {
            if (top == cap) {
                i61_mnode **ns = realloc(stack, cap * 2 * sizeof *ns);
                if (!ns)
                    break;           /* leak rather than crash on OOM while freeing */
                stack = ns;
                cap *= 2;
            }
            stack[top++] = n->kids[i];
        }
        i61_node_free_one(n);
        free(n);
    }
    free(stack);
}

static i61_mnode *i61_node_child(const i61_mnode *p, const char *name)
{
    for (size_t i = 0; i < p->nkids; i++)
        if (strcmp(p->kids[i]->name, name) == 0)
            return p->kids[i];
    return NULL;
}

static int i61_node_append(i61_mnode *p, i61_mnode *c)
{
    if (p->nkids == p->capkids) {
        size_t nc = p->capkids ? p->capkids * 2 : 4;
        i61_mnode **k = realloc(p->kids, nc * sizeof *k);
        if (!k)
            return I61_ERR_UNKNOWN;
        p->kids = k;
        p->capkids = nc;
    }
    p->kids[p->nkids++] = c;
    c->parent = p;
    return I61_OK;
}

static bool i61_is_holder(const i61_mnode *n)
{
    return n->kind == I61_MNODE_DA && !n->in_array &&
           (n->type != I61_TYPE_STRUCTURE || n->count > 0);
}

static i61_mnode *i61_node_ld(const i61_mnode *n)
{
    while (n && n->kind != I61_MNODE_LD)
        n = n->parent;
    return (i61_mnode *)n;
}

/* The array holder enclosing an element-type node. */
static i61_mnode *i61_array_holder(i61_mnode *n)
{
    while (n && n->in_array)
        n = n->parent;
    return n;
}

/* --------------------------------------------------------------- builder */

i61_model *i61_model_new(const char *ied_name)
{
    if (!i61_valid_name(ied_name, I61_MODEL_NAME_MAX))
        return NULL;
    i61_model *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->ied_name = strdup(ied_name);
    pthread_mutexattr_t a;
    int ok = m->ied_name && pthread_mutexattr_init(&a) == 0;
    if (ok) {
        ok = pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE) == 0 &&
             pthread_mutex_init(&m->lock, &a) == 0;
        pthread_mutexattr_destroy(&a);
    }
    if (!ok) {
        free(m->ied_name);
        free(m);
        return NULL;
    }
    m->root.kind = 0;
    m->root.fc = I61_FC_NONE;
    m->root.model = m;
    m->dirty = true;
    return m;
}

static void i61_model_free_index(i61_model *m)
{
    for (size_t i = 0; i < m->nidx; i++) {
        free(m->idx[i].vars);
        free(m->idx[i].arena);
    }
    free(m->idx);
    m->idx = NULL;
    m->nidx = 0;
    free(m->lds_sorted);
    m->lds_sorted = NULL;
    m->nlds_sorted = 0;
}

void i61_model_free(i61_model *m)
{
    if (!m)
        return;
    i61_model_free_index(m);
    i61_rcb_set_free(m);                        /* report control blocks (srv_rcb.c) */
    i61_log_set_free(m);                        /* logs and LCBs (srv_log.c) */
    i61_nvl_store_free(m->nvls);                /* data sets (srv_nvl.c) */
    i61_ctl_set_free(m);                        /* control state (srv_control.c) */
    i61_cbx_set_free(m);                        /* sgcb/gocb: SGCB, GoCB, SVCB state */
    i61_node_free_tree(&m->root);
    free(m->root.kids);
    free(m->ied_name);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

void i61_model_lock(i61_model *m)
{
    if (m)
        pthread_mutex_lock(&m->lock);
}

void i61_model_unlock(i61_model *m)
{
    if (m)
        pthread_mutex_unlock(&m->lock);
}

const char *i61_model_ld_name(const i61_mnode *ld)
{
    return ld ? ld->name : NULL;
}

int i61_model_add_ld(i61_model *m, const char *inst, const char *ld_name, i61_mnode **out)
{
    if (out)
        *out = NULL;
    if (!m || !i61_valid_name(inst, I61_MODEL_NAME_MAX))
        return I61_ERR_INVALID_ARGUMENT;
    char dom[I61_MODEL_NAME_MAX + 1];
    if (ld_name) {
        if (!i61_valid_name(ld_name, I61_MODEL_NAME_MAX))
            return I61_ERR_INVALID_ARGUMENT;
        strcpy(dom, ld_name);
    } else {
        size_t a = strlen(m->ied_name), b = strlen(inst);
        if (a + b > I61_MODEL_NAME_MAX)
            return I61_ERR_INVALID_ARGUMENT;
        memcpy(dom, m->ied_name, a);
        memcpy(dom + a, inst, b + 1);
    }
    int rc = I61_OK;
    pthread_mutex_lock(&m->lock);
    if (i61_node_child(&m->root, dom)) {
        rc = I61_ERR_OBJECT_EXISTS;
    } else {
        i61_mnode *n = i61_node_alloc(m, dom, I61_MNODE_LD);
        if (!n || i61_node_append(&m->root, n) != I61_OK) {
            if (n) {
                i61_node_free_one(n);
                free(n);
            }
            rc = I61_ERR_UNKNOWN;
        } else {
            m->dirty = true;
            if (out)
                *out = n;
        }
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

int i61_model_add_ln(i61_mnode *ld, const char *name, i61_mnode **out)
{
    if (out)
        *out = NULL;
    if (!ld || ld->kind != I61_MNODE_LD || !i61_valid_name(name, I61_MODEL_NAME_MAX))
        return I61_ERR_INVALID_ARGUMENT;
    /* "LN$XX" must still leave room for a DO. */
    if (strlen(name) + 4 >= I61_MODEL_ITEM_MAX)
        return I61_ERR_INVALID_ARGUMENT;
    i61_model *m = ld->model;
    int rc = I61_OK;
    pthread_mutex_lock(&m->lock);
    if (i61_node_child(ld, name)) {
        rc = I61_ERR_OBJECT_EXISTS;
    } else {
        i61_mnode *n = i61_node_alloc(m, name, I61_MNODE_LN);
        if (!n || i61_node_append(ld, n) != I61_OK) {
            if (n) {
                i61_node_free_one(n);
                free(n);
            }
            rc = I61_ERR_UNKNOWN;
        } else {
            n->item_len = (uint8_t)strlen(name);
            m->dirty = true;
            if (out)
                *out = n;
        }
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

/* Adds a DO/DA below parent after the checks common to both. */
static int i61_add_below(i61_mnode *parent, const char *name, int kind, i61_mnode **out)
{
    i61_model *m = parent->model;
    if (parent->depth + 1 > I61_MODEL_MAX_DEPTH)
        return I61_ERR_INVALID_ARGUMENT;
    /* LN "$" FC "$" ... "$" name */
    size_t item_len = (size_t)parent->item_len + 1 + strlen(name) + (parent->kind == I61_MNODE_LN ? 3 : 0);
    if (item_len > I61_MODEL_ITEM_MAX)
        return I61_ERR_INVALID_ARGUMENT;
    if (i61_node_child(parent, name))
        return I61_ERR_OBJECT_EXISTS;
    i61_mnode *n = i61_node_alloc(m, name, kind);
    if (!n)
        return I61_ERR_UNKNOWN;
    if (i61_node_append(parent, n) != I61_OK) {
        i61_node_free_one(n);
        free(n);
        return I61_ERR_UNKNOWN;
    }
    n->depth = (uint8_t)(parent->depth + 1);
    n->item_len = (uint8_t)item_len;
    m->dirty = true;
    *out = n;
    return I61_OK;
}

int i61_model_add_do(i61_mnode *parent, const char *name, i61_mnode **out)
{
    if (out)
        *out = NULL;
    if (!parent || (parent->kind != I61_MNODE_LN && parent->kind != I61_MNODE_DO) ||
        !i61_valid_name(name, I61_MODEL_NAME_MAX))
        return I61_ERR_INVALID_ARGUMENT;
    i61_model *m = parent->model;
    pthread_mutex_lock(&m->lock);
    i61_mnode *n = NULL;
    int rc = i61_add_below(parent, name, I61_MNODE_DO, &n);
    pthread_mutex_unlock(&m->lock);
    if (out)
        *out = n;
    return rc;
}

static bool i61_da_type_ok(int type, int size)
{
    switch (type) {
    case I61_TYPE_STRUCTURE:
    case I61_TYPE_BOOLEAN:
    case I61_TYPE_UTC_TIME:
    case I61_TYPE_GENERALIZED_TIME:
        return true;
    case I61_TYPE_INTEGER:
        return size == 8 || size == 16 || size == 32 || size == 64;
    case I61_TYPE_UNSIGNED:
    case I61_TYPE_BCD:
        return size >= 1 && size <= 64;
    case I61_TYPE_FLOAT:
        return size == 32 || size == 64;
    case I61_TYPE_BINARY_TIME:
        return size == 4 || size == 6;
    case I61_TYPE_BIT_STRING:
    case I61_TYPE_OCTET_STRING:
    case I61_TYPE_VISIBLE_STRING:
    case I61_TYPE_STRING:
        return size >= -65535 && size <= 65535;
    default:
        return false;
    }
}

int i61_model_add_da(i61_mnode *parent, const char *name, int fc, int type, int size,
                     int count, i61_mnode **out)
{
    if (out)
        *out = NULL;
    if (!parent || (parent->kind != I61_MNODE_DO && parent->kind != I61_MNODE_DA) ||
        !i61_valid_name(name, I61_MODEL_NAME_MAX) || count < 0 || count > 65535)
        return I61_ERR_INVALID_ARGUMENT;
    if (type == I61_TYPE_OBJ_ID)
        return I61_ERR_TYPE_UNSUPPORTED;
    if (!i61_da_type_ok(type, size))
        return I61_ERR_INVALID_ARGUMENT;
    if (parent->kind == I61_MNODE_DA) {
        if (parent->type != I61_TYPE_STRUCTURE)
            return I61_ERR_INVALID_ARGUMENT;
        if (fc == I61_FC_NONE)
            fc = parent->fc;
        if (fc != parent->fc)
            return I61_ERR_INVALID_ARGUMENT;
    }
    if (fc < 0 || fc >= I61_MODEL_FC_COUNT)
        return I61_ERR_INVALID_ARGUMENT;
    i61_model *m = parent->model;
    pthread_mutex_lock(&m->lock);
    i61_mnode *n = NULL;
    int rc = i61_add_below(parent, name, I61_MNODE_DA, &n);
    if (rc == I61_OK) {
        n->fc = (int8_t)fc;
        n->type = (int8_t)type;
        n->size = (type == I61_TYPE_BOOLEAN || type == I61_TYPE_UTC_TIME ||
                   type == I61_TYPE_GENERALIZED_TIME || type == I61_TYPE_STRUCTURE) ? 0 : size;
        n->count = count;
        n->in_array = parent->kind == I61_MNODE_DA && (parent->in_array || parent->count > 0);
        for (i61_mnode *p = n; p && p->kind != I61_MNODE_LD && p->kind != 0; p = p->parent)
            p->fc_mask |= 1u << fc;
        if (n->in_array) {
            /* the element type changed: the array's value is rebuilt */
            i61_mnode *h = i61_array_holder(n);
            if (h) {
                i61_value_free(h->value);
                h->value = NULL;
            }
        }
    }
    pthread_mutex_unlock(&m->lock);
    if (out)
        *out = n;
    return rc;
}

void i61_model_remove_node(i61_mnode *n)
{
    if (!n || !n->parent || n->kind < I61_MNODE_LN)
        return;
    i61_mnode *p = n->parent;
    for (size_t i = 0; i < p->nkids; i++)
        if (p->kids[i] == n) {
            memmove(&p->kids[i], &p->kids[i + 1], (p->nkids - i - 1) * sizeof p->kids[0]);
            p->nkids--;
            break;
        }
    /* the FC masks of the ancestors no longer include what only n had */
    for (i61_mnode *a = p; a && a->kind >= I61_MNODE_LN; a = a->parent) {
        uint32_t mask = a->kind == I61_MNODE_DA ? (1u << a->fc) : 0;
        for (size_t i = 0; i < a->nkids; i++)
            mask |= a->kids[i]->fc_mask;
        a->fc_mask = mask;
    }
    n->parent = NULL;
    i61_node_free_tree(n);
    i61_node_free_one(n);
    free(n);
    p->model->dirty = true;
}

int i61_mnode_kind_of(const i61_mnode *n)
{
    return n ? n->kind : 0;
}

const char *i61_mnode_name(const i61_mnode *n)
{
    return n ? n->name : NULL;
}

int i61_mnode_fc(const i61_mnode *n)
{
    return (n && n->kind == I61_MNODE_DA) ? n->fc : I61_FC_NONE;
}

/* ------------------------------------------------------- default values */

static i61_value *i61_default_scalar(int type, int size)
{
    static const uint8_t zeros[8];
    switch (type) {
    case I61_TYPE_BOOLEAN:
        return i61_value_new_boolean(0);
    case I61_TYPE_INTEGER:
        return i61_value_new_integer_sized(0, size);
    case I61_TYPE_UNSIGNED: {
        int b = size <= 8 ? 8 : size <= 16 ? 16 : size <= 32 ? 32 : 64;
        return i61_value_new_unsigned_sized(0, b);
    }
    case I61_TYPE_FLOAT:
        return size == 64 ? i61_value_new_double(0.0) : i61_value_new_float(0.0f);
    case I61_TYPE_BIT_STRING:
        return i61_value_new_bit_string(size < 0 ? -size : size, NULL);
    case I61_TYPE_OCTET_STRING: {
        if (size > 0) {
            uint8_t *z = calloc((size_t)size, 1);
            if (!z)
                return NULL;
            i61_value *v = i61_value_new_octet_string(z, (size_t)size);
            free(z);
            return v;
        }
        return i61_value_new_octet_string(NULL, 0);
    }
    case I61_TYPE_VISIBLE_STRING:
        return i61_value_new_visible_string("");
    case I61_TYPE_STRING:
        return i61_value_new_mms_string("");
    case I61_TYPE_UTC_TIME:
        return i61_value_new_utc_time(zeros);
    case I61_TYPE_BINARY_TIME:
        return i61_value_new_binary_time(zeros, (size_t)size);
    case I61_TYPE_GENERALIZED_TIME:
        return i61_value_new_generalized_time("19700101000000.000Z");
    case I61_TYPE_BCD:
        return i61_value_new_bcd(0);
    default:
        return NULL;
    }
}

static i61_value *i61_default_full(const i61_mnode *n);

/* Value of one element of n's type (ignoring n->count). */
static i61_value *i61_default_elem(const i61_mnode *n)
{
    if (n->type != I61_TYPE_STRUCTURE)
        return i61_default_scalar(n->type, n->size);
    i61_value *s = i61_value_new_structure(n->nkids);
    if (!s)
        return NULL;
    for (size_t i = 0; i < n->nkids; i++) {
        i61_value *c = i61_default_full(n->kids[i]);
        if (!c) {
            i61_value_free(s);
            return NULL;
        }
        i61_value_set_element(s, i, c);
    }
    return s;
}

/* Depth is bounded by I61_MODEL_MAX_DEPTH (enforced by the builder). */
static i61_value *i61_default_full(const i61_mnode *n)
{
    if (n->count == 0)
        return i61_default_elem(n);
    i61_value *a = i61_value_new_array((size_t)n->count);
    if (!a)
        return NULL;
    for (size_t i = 0; i < (size_t)n->count; i++) {
        i61_value *e = i61_default_elem(n);
        if (!e) {
            i61_value_free(a);
            return NULL;
        }
        i61_value_set_element(a, i, e);
    }
    return a;
}

/* ------------------------------------------------------------------ index */

typedef struct i61_vbuild {
    i61_buf arena;
    struct { size_t off; i61_mnode *ln; i61_mnode *node; int fc; } *v;
    size_t n, cap;
    int oom;
} i61_vbuild;

static void i61_vb_add(i61_vbuild *b, const char *name, size_t len, i61_mnode *ln, i61_mnode *node,
                       int fc)
{
    if (b->oom)
        return;
    if (b->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 64;
        void *p = realloc(b->v, nc * sizeof *b->v);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->v = p;
        b->cap = nc;
    }
    b->v[b->n].off = b->arena.len;
    b->v[b->n].ln = ln;
    b->v[b->n].node = node;
    b->v[b->n].fc = fc;
    i61_buf_put(&b->arena, name, len);
    i61_buf_put_u8(&b->arena, 0);
    if (b->arena.oom)
        b->oom = 1;
    else
        b->n++;
}

/* Emits the variables of node n (a DO/SDO/DA) under FC fc; path holds the
 * item name up to and including n. Depth bounded by the builder. */
static void i61_vb_node(i61_vbuild *b, i61_mnode *ln, i61_mnode *n, int fc, char *path, size_t len)
{
    i61_vb_add(b, path, len, ln, n, fc);
    if (n->kind == I61_MNODE_DA && n->count > 0)
        return;                                /* array elements have no names */
    for (size_t i = 0; i < n->nkids; i++) {
        i61_mnode *k = n->kids[i];
        if (!(k->fc_mask & (1u << fc)))
            continue;
        size_t kl = strlen(k->name);
        if (len + 1 + kl > I61_MODEL_ITEM_MAX)
            continue;                          /* cannot happen: checked by the builder */
        path[len] = '$';
        memcpy(path + len + 1, k->name, kl + 1);
        i61_vb_node(b, ln, k, fc, path, len + 1 + kl);
        path[len] = 0;
    }
}

static int i61_var_cmp(const void *a, const void *b)
{
    return i61_model_name_cmp(((const i61_mvar *)a)->name, ((const i61_mvar *)b)->name);
}

static int i61_ld_cmp(const void *a, const void *b)
{
    return i61_model_name_cmp((*(i61_mnode *const *)a)->name, (*(i61_mnode *const *)b)->name);
}

static int i61_build_ld_index(i61_mnode *ld, i61_mld_index *ix)
{
    i61_vbuild b;
    memset(&b, 0, sizeof b);
    i61_buf_init(&b.arena);
    char path[I61_MODEL_ITEM_MAX + 1];
    for (size_t i = 0; i < ld->nkids; i++) {
        i61_mnode *ln = ld->kids[i];
        size_t ll = strlen(ln->name);
        i61_vb_add(&b, ln->name, ll, ln, ln, I61_FC_NONE);
        for (int fc = 0; fc < I61_MODEL_FC_COUNT; fc++) {
            if (!(ln->fc_mask & (1u << fc)))
                continue;
            const char *fn = i61_fc_name(fc);
            memcpy(path, ln->name, ll);
            path[ll] = '$';
            memcpy(path + ll + 1, fn, 2);
            path[ll + 3] = 0;
            i61_vb_add(&b, path, ll + 3, ln, ln, fc);
            for (size_t d = 0; d < ln->nkids; d++) {
                i61_mnode *dn = ln->kids[d];
                if (!(dn->fc_mask & (1u << fc)))
                    continue;
                size_t dl = strlen(dn->name);
                path[ll + 3] = '$';
                memcpy(path + ll + 4, dn->name, dl + 1);
                i61_vb_node(&b, ln, dn, fc, path, ll + 4 + dl);
                path[ll + 3] = 0;
            }
        }
    }
    if (b.oom) {
        free(b.v);
        i61_buf_free(&b.arena);
        return I61_ERR_UNKNOWN;
    }
    ix->vars = b.n ? malloc(b.n * sizeof *ix->vars) : NULL;
    if (b.n && !ix->vars) {
        free(b.v);
        i61_buf_free(&b.arena);
        return I61_ERR_UNKNOWN;
    }
    ix->arena = (char *)b.arena.data;          /* ownership moves to the index */
    ix->nvars = b.n;
    for (size_t i = 0; i < b.n; i++) {
        ix->vars[i].name = ix->arena + b.v[i].off;
        ix->vars[i].ln = b.v[i].ln;
        ix->vars[i].node = b.v[i].node;
        ix->vars[i].fc = b.v[i].fc;
    }
    free(b.v);
    if (ix->nvars > 1)
        qsort(ix->vars, ix->nvars, sizeof *ix->vars, i61_var_cmp);
    return I61_OK;
}

/* Fills the default values of every holder that has none (iterative walk). */
static int i61_fill_defaults(i61_model *m)
{
    size_t cap = 64, top = 0;
    i61_mnode **st = malloc(cap * sizeof *st);
    if (!st)
        return I61_ERR_UNKNOWN;
    st[top++] = &m->root;
    int rc = I61_OK;
    while (top > 0 && rc == I61_OK) {
        i61_mnode *n = st[--top];
        if (i61_is_holder(n) && !n->value) {
            n->value = i61_default_full(n);
            if (!n->value)
                rc = I61_ERR_UNKNOWN;
        }
        if (n->kind == I61_MNODE_DA && (n->count > 0 || n->in_array))
            continue;                          /* element types: no values below */
        for (size_t i = 0; i < n->nkids && rc == I61_OK; i++) {
            if (top == cap) {
                i61_mnode **ns = realloc(st, cap * 2 * sizeof *ns);
                if (!ns) {
                    rc = I61_ERR_UNKNOWN;
                    break;
                }
                st = ns;
                cap *= 2;
            }
            st[top++] = n->kids[i];
        }
    }
    free(st);
    return rc;
}

int i61_model_prepare(i61_model *m)
{
    if (!m->dirty)
        return I61_OK;
    int rc = i61_fill_defaults(m);
    if (rc != I61_OK)
        return rc;
    i61_model_free_index(m);
    size_t n = m->root.nkids;
    if (n) {
        m->idx = calloc(n, sizeof *m->idx);
        m->lds_sorted = malloc(n * sizeof *m->lds_sorted);
        if (!m->idx || !m->lds_sorted) {
            i61_model_free_index(m);
            return I61_ERR_UNKNOWN;
        }
        m->nidx = n;
        for (size_t i = 0; i < n; i++) {
            rc = i61_build_ld_index(m->root.kids[i], &m->idx[i]);
            if (rc != I61_OK) {
                i61_model_free_index(m);
                return rc;
            }
            m->lds_sorted[i] = m->root.kids[i];
        }
        m->nlds_sorted = n;
        qsort(m->lds_sorted, n, sizeof *m->lds_sorted, i61_ld_cmp);
    }
    m->dirty = false;
    return I61_OK;
}

i61_mnode *i61_model_domain(i61_model *m, const char *name)
{
    size_t lo = 0, hi = m->nlds_sorted;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = i61_model_name_cmp(m->lds_sorted[mid]->name, name);
        if (c == 0)
            return m->lds_sorted[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

i61_mld_index *i61_model_ld_index(i61_model *m, const i61_mnode *ld)
{
    for (size_t i = 0; i < m->root.nkids && i < m->nidx; i++)
        if (m->root.kids[i] == ld)
            return &m->idx[i];
    return NULL;
}

const i61_mvar *i61_model_var(i61_model *m, const i61_mnode *ld, const char *item)
{
    i61_mld_index *ix = i61_model_ld_index(m, ld);
    if (!ix)
        return NULL;
    size_t lo = 0, hi = ix->nvars;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = i61_model_name_cmp(ix->vars[mid].name, item);
        if (c == 0)
            return &ix->vars[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

size_t i61_model_domain_count(i61_model *m)
{
    return m->nlds_sorted;
}

const char *i61_model_domain_name_at(i61_model *m, size_t i)
{
    return i < m->nlds_sorted ? m->lds_sorted[i]->name : NULL;
}

size_t i61_model_domain_first_after(i61_model *m, const char *after)
{
    if (!after)
        return 0;
    size_t lo = 0, hi = m->nlds_sorted;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (i61_model_name_cmp(m->lds_sorted[mid]->name, after) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

size_t i61_model_var_first_after(const i61_mld_index *ix, const char *after)
{
    if (!after)
        return 0;
    size_t lo = 0, hi = ix->nvars;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (i61_model_name_cmp(ix->vars[mid].name, after) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ------------------------------------------------ shape of (node, fc) */

/* Children of n that belong to the structure of (n, fc). For an LN with fc
 * NONE the "children" are the FCs (handled by the callers). */
static bool i61_kid_in(const i61_mnode *n, const i61_mnode *k, int fc)
{
    if (n->kind == I61_MNODE_DA)
        return true;                           /* components of a constructed DA */
    return (k->fc_mask & (1u << fc)) != 0;
}

static size_t i61_kid_count(const i61_mnode *n, int fc)
{
    if (n->kind == I61_MNODE_DA)
        return n->nkids;
    size_t c = 0;
    for (size_t i = 0; i < n->nkids; i++)
        if (n->kids[i]->fc_mask & (1u << fc))
            c++;
    return c;
}

static size_t i61_fc_count(uint32_t mask)
{
    size_t c = 0;
    for (; mask; mask &= mask - 1)
        c++;
    return c;
}

/* ------------------------------------------------------ type specs */

static i61_typespec *i61_ts_full(const i61_mnode *n, int fc);

static i61_typespec *i61_ts_struct_of(const i61_mnode *n, int fc)
{
    size_t cnt = i61_kid_count(n, fc);
    i61_typespec *s = i61_typespec_new_structure(cnt);
    if (!s)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n->nkids; i++) {
        const i61_mnode *k = n->kids[i];
        if (!i61_kid_in(n, k, fc))
            continue;
        i61_typespec *c = i61_ts_full(k, fc);
        if (!c || i61_typespec_set_component(s, j++, k->name, c) != 0) {
            i61_typespec_free(c);
            i61_typespec_free(s);
            return NULL;
        }
    }
    return s;
}

static i61_typespec *i61_ts_elem(const i61_mnode *n, int fc)
{
    if (n->kind != I61_MNODE_DA || n->type == I61_TYPE_STRUCTURE)
        return i61_ts_struct_of(n, fc);
    return i61_typespec_new(n->type, n->size);
}

static i61_typespec *i61_ts_full(const i61_mnode *n, int fc)
{
    if (n->kind == I61_MNODE_DA && n->count > 0) {
        i61_typespec *e = i61_ts_elem(n, fc);
        if (!e)
            return NULL;
        i61_typespec *a = i61_typespec_new_array(n->count, e);
        if (!a)
            i61_typespec_free(e);
        return a;
    }
    return i61_ts_elem(n, fc);
}

int i61_model_node_typespec(const i61_mnode *n, int fc, i61_typespec **out)
{
    *out = NULL;
    i61_typespec *t;
    if (n->kind == I61_MNODE_LN && fc == I61_FC_NONE) {
        t = i61_typespec_new_structure(i61_fc_count(n->fc_mask));
        if (!t)
            return I61_ERR_UNKNOWN;
        size_t j = 0;
        for (int f = 0; f < I61_MODEL_FC_COUNT; f++) {
            if (!(n->fc_mask & (1u << f)))
                continue;
            i61_typespec *c = i61_ts_struct_of(n, f);
            if (!c || i61_typespec_set_component(t, j++, i61_fc_name(f), c) != 0) {
                i61_typespec_free(c);
                i61_typespec_free(t);
                return I61_ERR_UNKNOWN;
            }
        }
    } else {
        t = i61_ts_full(n, fc);
        if (!t)
            return I61_ERR_UNKNOWN;
    }
    *out = t;
    return I61_OK;
}

int i61_model_var_typespec(const i61_mvar *v, i61_typespec **out)
{
    return i61_model_node_typespec(v->node, v->fc, out);
}

/* ----------------------------------------------------------- encoding */

static void i61_enc_full(i61_buf *b, const i61_mnode *n, int fc)
{
    if (i61_is_holder(n)) {
        if (!n->value || i61_mms_data_encode(b, n->value) != 0)
            b->oom = 1;                        /* holders always hold an encodable value */
        return;
    }
    size_t mk = i61_ber_open(b, 0xa2);
    for (size_t i = 0; i < n->nkids; i++) {
        const i61_mnode *k = n->kids[i];
        if (i61_kid_in(n, k, fc))
            i61_enc_full(b, k, fc);
    }
    i61_ber_close(b, mk);
}

static void i61_enc_node(i61_buf *b, const i61_mnode *n, int fc)
{
    if (n->kind == I61_MNODE_LN && fc == I61_FC_NONE) {
        size_t mk = i61_ber_open(b, 0xa2);
        for (int f = 0; f < I61_MODEL_FC_COUNT; f++)
            if (n->fc_mask & (1u << f))
                i61_enc_full(b, n, f);
        i61_ber_close(b, mk);
        return;
    }
    i61_enc_full(b, n, fc);
}

int i61_model_encode_var(i61_buf *b, const i61_mvar *v)
{
    i61_rcb_sync(v->node, v->fc);
    i61_log_sync(v->node, v->fc);               /* logs: LCB attributes */
    i61_sgcb_sync(v->node, v->fc);              /* sgcb: reservation expiry, SE twins */
    size_t start = b->len;
    i61_enc_node(b, v->node, v->fc);
    if (b->oom) {
        b->len = start;
        return I61_ERR_UNKNOWN;
    }
    return I61_OK;
}

/* ------------------------------------------------------------ values */

static i61_value *i61_val_full(const i61_mnode *n, int fc)
{
    if (i61_is_holder(n))
        return n->value ? i61_value_clone(n->value) : NULL;
    i61_value *s = i61_value_new_structure(i61_kid_count(n, fc));
    if (!s)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n->nkids; i++) {
        const i61_mnode *k = n->kids[i];
        if (!i61_kid_in(n, k, fc))
            continue;
        i61_value *c = i61_val_full(k, fc);
        if (!c) {
            i61_value_free(s);
            return NULL;
        }
        i61_value_set_element(s, j++, c);
    }
    return s;
}

int i61_model_node_value(const i61_mnode *n, int fc, i61_value **out)
{
    *out = NULL;
    i61_rcb_sync(n, fc);
    i61_log_sync(n, fc);                        /* logs: LCB attributes */
    i61_sgcb_sync(n, fc);                       /* sgcb: reservation expiry, SE twins */
    i61_value *v;
    if (n->kind == I61_MNODE_LN && fc == I61_FC_NONE) {
        v = i61_value_new_structure(i61_fc_count(n->fc_mask));
        if (!v)
            return I61_ERR_UNKNOWN;
        size_t j = 0;
        for (int f = 0; f < I61_MODEL_FC_COUNT; f++) {
            if (!(n->fc_mask & (1u << f)))
                continue;
            i61_value *c = i61_val_full(n, f);
            if (!c) {
                i61_value_free(v);
                return I61_ERR_UNKNOWN;
            }
            i61_value_set_element(v, j++, c);
        }
    } else {
        v = i61_val_full(n, fc);
        if (!v)
            return I61_ERR_UNKNOWN;
    }
    *out = v;
    return I61_OK;
}

/* ------------------------------------------------------------ type check */

static bool i61_int_fits(int64_t x, int bits)
{
    if (bits >= 64)
        return true;
    int64_t lim = (int64_t)1 << (bits - 1);
    return x >= -lim && x < lim;
}

static bool i61_scalar_ok(int type, int size, const i61_value *v)
{
    int vt = i61_value_type(v);
    size_t len = 0;
    switch (type) {
    case I61_TYPE_BOOLEAN:
    case I61_TYPE_UTC_TIME:
    case I61_TYPE_GENERALIZED_TIME:
    case I61_TYPE_FLOAT:
        return vt == type;
    case I61_TYPE_BCD: {
        int64_t x;
        if (vt != type || i61_value_get_int64(v, &x) != 0)
            return false;
        return size <= 0 || size >= 63 || x < ((int64_t)1 << size);
    }
    case I61_TYPE_INTEGER: {
        int64_t x;
        return vt == type && i61_value_get_int64(v, &x) == 0 && i61_int_fits(x, size);
    }
    case I61_TYPE_UNSIGNED: {
        uint64_t x;
        if (vt != type || i61_value_get_uint64(v, &x) != 0)
            return false;
        return size >= 64 || x < ((uint64_t)1 << size);
    }
    case I61_TYPE_BIT_STRING: {
        if (vt != type)
            return false;
        int nb = i61_value_bit_size(v);
        return size == 0 || (size < 0 ? nb <= -size : nb == size);
    }
    case I61_TYPE_OCTET_STRING:
        if (vt != type)
            return false;
        i61_value_get_bytes(v, &len);
        return size == 0 || (size < 0 ? len <= (size_t)-size : len == (size_t)size);
    case I61_TYPE_VISIBLE_STRING:
    case I61_TYPE_STRING:
        if (vt != type)
            return false;
        i61_value_get_bytes(v, &len);
        return size == 0 || len <= (size_t)(size < 0 ? -size : size);
    case I61_TYPE_BINARY_TIME:
        if (vt != type)
            return false;
        i61_value_get_bytes(v, &len);
        return len == (size_t)size;
    default:
        return false;
    }
}

static bool i61_check_full(const i61_mnode *n, int fc, const i61_value *v);

/* One element of n's type (constructed DA, DO, LN$FC) or a scalar. */
static bool i61_check_elem(const i61_mnode *n, int fc, const i61_value *v)
{
    if (!v)
        return false;
    if (n->kind == I61_MNODE_DA && n->type != I61_TYPE_STRUCTURE)
        return i61_scalar_ok(n->type, n->size, v);
    if (i61_value_type(v) != I61_TYPE_STRUCTURE || i61_value_count(v) != i61_kid_count(n, fc))
        return false;
    size_t j = 0;
    for (size_t i = 0; i < n->nkids; i++) {
        const i61_mnode *k = n->kids[i];
        if (!i61_kid_in(n, k, fc))
            continue;
        if (!i61_check_full(k, fc, i61_value_element(v, j++)))
            return false;
    }
    return true;
}

static bool i61_check_full(const i61_mnode *n, int fc, const i61_value *v)
{
    if (!v)
        return false;
    if (n->kind == I61_MNODE_DA && n->count > 0) {
        if (i61_value_type(v) != I61_TYPE_ARRAY || i61_value_count(v) != (size_t)n->count)
            return false;
        for (size_t i = 0; i < (size_t)n->count; i++)
            if (!i61_check_elem(n, fc, i61_value_element(v, i)))
                return false;
        return true;
    }
    return i61_check_elem(n, fc, v);
}

static bool i61_check_node(const i61_mnode *n, int fc, const i61_value *v)
{
    if (n->kind == I61_MNODE_LN && fc == I61_FC_NONE) {
        if (!v || i61_value_type(v) != I61_TYPE_STRUCTURE ||
            i61_value_count(v) != i61_fc_count(n->fc_mask))
            return false;
        size_t j = 0;
        for (int f = 0; f < I61_MODEL_FC_COUNT; f++)
            if ((n->fc_mask & (1u << f)) && !i61_check_elem(n, f, i61_value_element(v, j++)))
                return false;
        return true;
    }
    return i61_check_full(n, fc, v);
}

int i61_model_check_node_value(const i61_mnode *n, int fc, const i61_value *value)
{
    return i61_check_node(n, fc, value) ? I61_OK : I61_ERR_TYPE_INCONSISTENT;
}

/* ------------------------------------------------------------ storing */

/* A copy of a checked value in the model's representation (integer and
 * float widths of the declared type). */
static i61_value *i61_norm_full(const i61_mnode *n, const i61_value *v);

static i61_value *i61_norm_elem(const i61_mnode *n, const i61_value *v)
{
    if (n->type == I61_TYPE_STRUCTURE) {
        size_t cnt = i61_value_count(v);
        i61_value *s = i61_value_new_structure(cnt);
        if (!s)
            return NULL;
        for (size_t i = 0; i < cnt && i < n->nkids; i++) {
            i61_value *c = i61_norm_full(n->kids[i], i61_value_element(v, i));
            if (!c) {
                i61_value_free(s);
                return NULL;
            }
            i61_value_set_element(s, i, c);
        }
        return s;
    }
    switch (n->type) {
    case I61_TYPE_INTEGER: {
        int64_t x = 0;
        i61_value_get_int64(v, &x);
        return i61_value_new_integer_sized(x, n->size);
    }
    case I61_TYPE_UNSIGNED: {
        uint64_t x = 0;
        i61_value_get_uint64(v, &x);
        int b = n->size <= 8 ? 8 : n->size <= 16 ? 16 : n->size <= 32 ? 32 : 64;
        return i61_value_new_unsigned_sized(x, b);
    }
    case I61_TYPE_FLOAT: {
        double d = 0;
        i61_value_get_double(v, &d);
        if (n->size == 64)
            return i61_value_bit_size(v) == 64 ? i61_value_clone(v) : i61_value_new_double(d);
        return i61_value_bit_size(v) == 32 ? i61_value_clone(v) : i61_value_new_float((float)d);
    }
    default:
        return i61_value_clone(v);
    }
}

static i61_value *i61_norm_full(const i61_mnode *n, const i61_value *v)
{
    if (n->count > 0) {
        size_t cnt = i61_value_count(v);
        i61_value *a = i61_value_new_array(cnt);
        if (!a)
            return NULL;
        for (size_t i = 0; i < cnt; i++) {
            i61_value *e = i61_norm_elem(n, i61_value_element(v, i));
            if (!e) {
                i61_value_free(a);
                return NULL;
            }
            i61_value_set_element(a, i, e);
        }
        return a;
    }
    return i61_norm_elem(n, v);
}

/* Holders to replace in one store: the new values are built first so that an
 * out-of-memory failure leaves the model unchanged. */
typedef struct i61_store_plan {
    i61_mnode **nodes;
    i61_value **vals;
    size_t n, cap;
} i61_store_plan;

static int i61_plan_add(i61_store_plan *p, i61_mnode *node, i61_value *v)
{
    if (!v)
        return I61_ERR_UNKNOWN;
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 16;
        i61_mnode **nn = realloc(p->nodes, nc * sizeof *nn);
        if (!nn) {
            i61_value_free(v);
            return I61_ERR_UNKNOWN;
        }
        p->nodes = nn;
        i61_value **nv = realloc(p->vals, nc * sizeof *nv);
        if (!nv) {
            i61_value_free(v);
            return I61_ERR_UNKNOWN;
        }
        p->vals = nv;
        p->cap = nc;
    }
    p->nodes[p->n] = node;
    p->vals[p->n] = v;
    p->n++;
    return I61_OK;
}

static int i61_plan_full(i61_store_plan *p, i61_mnode *n, int fc, const i61_value *v)
{
    if (i61_is_holder(n))
        return i61_plan_add(p, n, i61_norm_full(n, v));
    size_t j = 0;
    for (size_t i = 0; i < n->nkids; i++) {
        i61_mnode *k = n->kids[i];
        if (!i61_kid_in(n, k, fc))
            continue;
        int rc = i61_plan_full(p, k, fc, i61_value_element(v, j++));
        if (rc != I61_OK)
            return rc;
    }
    return I61_OK;
}

int i61_model_store_node_value(i61_model *m, i61_mnode *n, int fc, const i61_value *value)
{
    i61_store_plan p;
    memset(&p, 0, sizeof p);
    int rc = I61_OK;
    if (n->kind == I61_MNODE_LN && fc == I61_FC_NONE) {
        size_t j = 0;
        for (int f = 0; f < I61_MODEL_FC_COUNT && rc == I61_OK; f++)
            if (n->fc_mask & (1u << f))
                rc = i61_plan_full(&p, n, f, i61_value_element(value, j++));
    } else {
        rc = i61_plan_full(&p, n, fc, value);
    }
    /* Every holder gets its new value first (p.vals keeps the old ones), so
     * that the change notifications see the model after the whole store. */
    for (size_t i = 0; i < p.n; i++) {
        if (rc == I61_OK) {
            i61_value *old = p.nodes[i]->value;
            p.nodes[i]->value = p.vals[i];
            p.vals[i] = old;
        }
    }
    if (rc == I61_OK && m->on_change && p.n > 0) {
        for (size_t i = 0; i < p.n; i++)
            m->on_change(m->on_change_ud, p.nodes[i], p.vals[i]);
        m->on_change(m->on_change_ud, NULL, NULL);
    }
    if (rc == I61_OK && m->logs && p.n > 0)     /* logs (srv_log.c) */
        i61_log_on_store(m, p.nodes, p.vals, p.n);
    for (size_t i = 0; i < p.n; i++)
        i61_value_free(p.vals[i]);
    free(p.nodes);
    free(p.vals);
    return rc;
}

/* -------------------------------------------------- alternate access */

/* Position inside a variable designated by an alternate access: the node,
 * whether it designates one array element of it, and the value slot in a
 * (new) copy of the variable's value. */
typedef struct i61_apos {
    const i61_mnode *node;
    bool elem;
    i61_value *parent;      /* container of the slot, NULL = the whole value */
    size_t idx;
    i61_value *val;         /* the designated value inside the copy */
} i61_apos;

static bool i61_aa_empty(const i61_maccess *aa)
{
    return !aa || (!aa->has_index && (!aa->component || !aa->component[0]));
}

/* Navigates `whole` (the variable's value) along aa. -1 or a DAE. */
static int i61_aa_navigate(const i61_mvar *v, const i61_maccess *aa, i61_value *whole,
                           i61_apos *pos)
{
    pos->node = v->node;
    pos->elem = false;
    pos->parent = NULL;
    pos->idx = 0;
    pos->val = whole;
    if (v->node->kind == I61_MNODE_LN && v->fc == I61_FC_NONE)
        return 9;                              /* object-access-unsupported */
    if (aa->has_index) {
        const i61_mnode *n = pos->node;
        if (n->kind != I61_MNODE_DA || n->count == 0)
            return 9;
        if (aa->index >= (uint32_t)n->count)
            return 5;                          /* invalid-address */
        pos->parent = pos->val;
        pos->idx = aa->index;
        pos->val = i61_value_element(pos->val, aa->index);
        pos->elem = true;
    }
    const char *c = aa->component ? aa->component : "";
    while (*c) {
        const char *e = strchr(c, '$');
        size_t l = e ? (size_t)(e - c) : strlen(c);
        const i61_mnode *n = pos->node;
        if (n->kind == I61_MNODE_DA && (n->type != I61_TYPE_STRUCTURE || (n->count > 0 && !pos->elem)))
            return 5;                          /* no components here */
        size_t j = 0;
        const i61_mnode *found = NULL;
        for (size_t i = 0; i < n->nkids; i++) {
            const i61_mnode *k = n->kids[i];
            if (!i61_kid_in(n, k, v->fc))
                continue;
            if (strlen(k->name) == l && memcmp(k->name, c, l) == 0) {
                found = k;
                break;
            }
            j++;
        }
        if (!found)
            return 10;                         /* object-non-existent */
        pos->parent = pos->val;
        pos->idx = j;
        pos->val = i61_value_element(pos->val, j);
        pos->node = found;
        pos->elem = false;
        c = e ? e + 1 : c + l;
    }
    return pos->val ? -1 : 1;
}

int i61_model_read_var_value(const i61_mvar *v, const i61_maccess *aa, i61_value **out)
{
    *out = NULL;
    i61_value *whole = NULL;
    if (i61_model_node_value(v->node, v->fc, &whole) != I61_OK)
        return 1;                              /* hardware-fault: out of memory */
    if (i61_aa_empty(aa)) {
        *out = whole;
        return -1;
    }
    i61_apos pos;
    int dae = i61_aa_navigate(v, aa, whole, &pos);
    if (dae >= 0) {
        i61_value_free(whole);
        return dae;
    }
    if (pos.parent) {
        /* detach the designated element from the copy */
        i61_value *sel = i61_value_clone(pos.val);
        i61_value_free(whole);
        if (!sel)
            return 1;
        *out = sel;
    } else {
        *out = whole;
    }
    return -1;
}

int i61_model_read_var(i61_buf *b, const i61_mvar *v, const i61_maccess *aa)
{
    if (i61_aa_empty(aa))
        return i61_model_encode_var(b, v) == I61_OK ? -1 : 1;
    i61_value *sel = NULL;
    int dae = i61_model_read_var_value(v, aa, &sel);
    if (dae >= 0)
        return dae;
    size_t start = b->len;
    int rc = i61_mms_data_encode(b, sel);
    i61_value_free(sel);
    if (rc != 0 || b->oom) {
        b->len = start;
        return 1;
    }
    return -1;
}

/* ----------------------------------------------------------- writes */

static int i61_policy_dae(const i61_mvar *v, uint32_t writable_mask)
{
    uint32_t need = v->fc == I61_FC_NONE ? v->node->fc_mask : (1u << v->fc);
    return (need & ~writable_mask) ? 3 : -1;   /* object-access-denied */
}

int i61_model_check_write(const i61_mvar *v, const i61_maccess *aa, const i61_value *value,
                          uint32_t writable_mask)
{
    int dae = i61_policy_dae(v, writable_mask);
    if (dae >= 0)
        return dae;
    if (!value)
        return 7;
    if (i61_aa_empty(aa))
        return i61_check_node(v->node, v->fc, value) ? -1 : 7;   /* type-inconsistent */
    i61_value *whole = NULL;
    if (i61_model_node_value(v->node, v->fc, &whole) != I61_OK)
        return 1;
    i61_apos pos;
    dae = i61_aa_navigate(v, aa, whole, &pos);
    if (dae < 0) {
        bool ok = pos.elem ? i61_check_elem(pos.node, v->fc, value)
                           : i61_check_full(pos.node, v->fc, value);
        dae = ok ? -1 : 7;
    }
    i61_value_free(whole);
    return dae;
}

int i61_model_apply_write(i61_model *m, const i61_mvar *v, const i61_maccess *aa,
                          const i61_value *value)
{
    if (i61_aa_empty(aa))
        return i61_model_store_node_value(m, v->node, v->fc, value) == I61_OK ? -1 : 1;
    i61_value *whole = NULL;
    if (i61_model_node_value(v->node, v->fc, &whole) != I61_OK)
        return 1;
    i61_apos pos;
    int dae = i61_aa_navigate(v, aa, whole, &pos);
    if (dae < 0) {
        i61_value *copy = i61_value_clone(value);
        if (!copy) {
            dae = 1;
        } else if (pos.parent) {
            i61_value_set_element(pos.parent, pos.idx, copy);
        } else {
            i61_value_free(whole);
            whole = copy;
        }
        if (dae < 0)
            dae = i61_model_store_node_value(m, v->node, v->fc, whole) == I61_OK ? -1 : 1;
    }
    i61_value_free(whole);
    return dae;
}

/* ---------------------------------------------------------- references */

int i61_model_var_ref(const i61_mvar *v, char *out, size_t cap)
{
    const i61_mnode *path[I61_MODEL_MAX_DEPTH + 2];
    size_t np = 0;
    for (const i61_mnode *n = v->node; n && n->kind != I61_MNODE_LN && np < I61_MODEL_MAX_DEPTH + 2;
         n = n->parent)
        path[np++] = n;
    const i61_mnode *ld = i61_node_ld(v->ln);
    size_t len = 0;
    int w = snprintf(out, cap, "%s/%s", ld ? ld->name : "", v->ln->name);
    if (w < 0 || (size_t)w >= cap)
        return I61_ERR_INVALID_ARGUMENT;
    len = (size_t)w;
    while (np > 0) {
        w = snprintf(out + len, cap - len, ".%s", path[--np]->name);
        if (w < 0 || (size_t)w >= cap - len)
            return I61_ERR_INVALID_ARGUMENT;
        len += (size_t)w;
    }
    return I61_OK;
}

/* Resolves a reference to (LD, LN, node, fc). Prepared model. */
static int i61_resolve(i61_model *m, const char *ref, int fc, i61_mvar *out)
{
    if (!ref)
        return I61_ERR_OBJECT_REFERENCE_INVALID;
    const char *slash = strchr(ref, '/');
    if (!slash || slash == ref || (size_t)(slash - ref) > I61_MODEL_NAME_MAX)
        return I61_ERR_OBJECT_REFERENCE_INVALID;
    char dom[I61_MODEL_NAME_MAX + 1];
    memcpy(dom, ref, (size_t)(slash - ref));
    dom[slash - ref] = 0;
    const char *rest = slash + 1;
    i61_mnode *ld = i61_model_domain(m, dom);
    if (!ld)
        return I61_ERR_OBJECT_DOES_NOT_EXIST;
    if (strchr(rest, '$')) {                   /* MMS style */
        if (strlen(rest) > I61_MODEL_ITEM_MAX)
            return I61_ERR_OBJECT_REFERENCE_INVALID;
        const i61_mvar *v = i61_model_var(m, ld, rest);
        if (!v)
            return I61_ERR_OBJECT_DOES_NOT_EXIST;
        *out = *v;
        return I61_OK;
    }
    /* client style: LN[.DO[.x...]] */
    char item[I61_MODEL_NAME_MAX + 1];
    const char *dot = strchr(rest, '.');
    size_t l = dot ? (size_t)(dot - rest) : strlen(rest);
    if (l == 0 || l > I61_MODEL_NAME_MAX)
        return I61_ERR_OBJECT_REFERENCE_INVALID;
    memcpy(item, rest, l);
    item[l] = 0;
    const i61_mvar *lv = i61_model_var(m, ld, item);
    if (!lv || lv->node->kind != I61_MNODE_LN)
        return I61_ERR_OBJECT_DOES_NOT_EXIST;
    i61_mnode *n = lv->node;
    const char *c = dot ? dot + 1 : NULL;
    while (c) {
        dot = strchr(c, '.');
        l = dot ? (size_t)(dot - c) : strlen(c);
        if (l == 0 || l > I61_MODEL_NAME_MAX)
            return I61_ERR_OBJECT_REFERENCE_INVALID;
        if (n->kind == I61_MNODE_DA && n->count > 0)
            return I61_ERR_OBJECT_DOES_NOT_EXIST;   /* inside an array element */
        i61_mnode *k = NULL;
        for (size_t i = 0; i < n->nkids; i++)
            if (strlen(n->kids[i]->name) == l && memcmp(n->kids[i]->name, c, l) == 0) {
                k = n->kids[i];
                /* sgcb: an FC SG attribute and its FC SE twin share the name */
                if (fc == I61_FC_NONE || (k->fc_mask & (1u << fc)))
                    break;
            }
        if (!k)
            return I61_ERR_OBJECT_DOES_NOT_EXIST;
        n = k;
        c = dot ? dot + 1 : NULL;
    }
    int rfc;
    if (n->kind == I61_MNODE_LN) {
        rfc = fc;
        if (fc != I61_FC_NONE && !(n->fc_mask & (1u << fc)))
            return I61_ERR_OBJECT_DOES_NOT_EXIST;
    } else if (fc != I61_FC_NONE) {
        if (fc < 0 || fc >= I61_MODEL_FC_COUNT || !(n->fc_mask & (1u << fc)))
            return I61_ERR_OBJECT_DOES_NOT_EXIST;
        rfc = fc;
    } else {
        if (i61_fc_count(n->fc_mask) != 1)
            return n->fc_mask ? I61_ERR_OBJECT_REFERENCE_INVALID : I61_ERR_OBJECT_DOES_NOT_EXIST;
        rfc = 0;
        while (!(n->fc_mask & (1u << rfc)))
            rfc++;
    }
    out->name = NULL;
    out->ln = lv->node;
    out->node = n;
    out->fc = rfc;
    return I61_OK;
}

int i61_model_find(i61_model *m, const char *ref, int fc, i61_mnode **node, int *fc_out)
{
    if (node)
        *node = NULL;
    if (!m)
        return I61_ERR_INVALID_ARGUMENT;
    pthread_mutex_lock(&m->lock);
    int rc = i61_model_prepare(m);
    i61_mvar v;
    if (rc == I61_OK)
        rc = i61_resolve(m, ref, fc, &v);
    pthread_mutex_unlock(&m->lock);
    if (rc == I61_OK) {
        if (node)
            *node = v.node;
        if (fc_out)
            *fc_out = v.fc;
    }
    return rc;
}

static int i61_node_fc_ok(const i61_mnode *n, int fc)
{
    if (!n || n->kind < I61_MNODE_LN)
        return I61_ERR_INVALID_ARGUMENT;
    if (n->kind == I61_MNODE_LN && fc == I61_FC_NONE)
        return I61_OK;
    if (fc < 0 || fc >= I61_MODEL_FC_COUNT || !(n->fc_mask & (1u << fc)))
        return I61_ERR_OBJECT_DOES_NOT_EXIST;
    if (n->in_array)
        return I61_ERR_OBJECT_DOES_NOT_EXIST;
    return I61_OK;
}

int i61_model_set_node_value(i61_model *m, i61_mnode *n, int fc, const i61_value *v)
{
    if (!m || !n || !v || n->model != m)
        return I61_ERR_INVALID_ARGUMENT;
    if (n->rcb || n->rcb_attr || n->lcb || n->lcb_attr)   /* (logs: LCBs too) */
        return I61_ERR_ACCESS_DENIED;
    if (i61_cbx_owns(n))                        /* sgcb/gocb: values of their engines */
        return I61_ERR_ACCESS_DENIED;          /* RCB values belong to the reporting engine */
    if (n->kind == I61_MNODE_DA && fc == I61_FC_NONE)
        fc = n->fc;
    int rc = i61_node_fc_ok(n, fc);
    if (rc != I61_OK)
        return rc;
    pthread_mutex_lock(&m->lock);
    rc = i61_model_prepare(m);
    if (rc == I61_OK)
        rc = i61_model_check_node_value(n, fc, v);
    if (rc == I61_OK)
        rc = i61_model_store_node_value(m, n, fc, v);
    pthread_mutex_unlock(&m->lock);
    return rc;
}

int i61_model_get_node_value(i61_model *m, i61_mnode *n, int fc, i61_value **out)
{
    if (out)
        *out = NULL;
    if (!m || !n || !out || n->model != m)
        return I61_ERR_INVALID_ARGUMENT;
    if (n->kind == I61_MNODE_DA && fc == I61_FC_NONE)
        fc = n->fc;
    int rc = i61_node_fc_ok(n, fc);
    if (rc != I61_OK)
        return rc;
    pthread_mutex_lock(&m->lock);
    rc = i61_model_prepare(m);
    if (rc == I61_OK)
        rc = i61_model_node_value(n, fc, out);
    pthread_mutex_unlock(&m->lock);
    return rc;
}

int i61_model_set_value(i61_model *m, const char *ref, int fc, const i61_value *v)
{
    if (!m || !v)
        return I61_ERR_INVALID_ARGUMENT;
    pthread_mutex_lock(&m->lock);
    int rc = i61_model_prepare(m);
    i61_mvar var;
    if (rc == I61_OK)
        rc = i61_resolve(m, ref, fc, &var);
    if (rc == I61_OK && (var.node->rcb || var.node->rcb_attr || var.node->lcb ||
                         var.node->lcb_attr))   /* (logs: LCBs too) */
        rc = I61_ERR_ACCESS_DENIED;            /* RCB values belong to the reporting engine */
    if (rc == I61_OK && i61_cbx_owns(var.node))   /* sgcb/gocb: values of their engines */
        rc = I61_ERR_ACCESS_DENIED;
    if (rc == I61_OK)
        rc = i61_model_check_node_value(var.node, var.fc, v);
    if (rc == I61_OK)
        rc = i61_model_store_node_value(m, var.node, var.fc, v);
    pthread_mutex_unlock(&m->lock);
    return rc;
}

int i61_model_get_value(i61_model *m, const char *ref, int fc, i61_value **out)
{
    if (out)
        *out = NULL;
    if (!m || !out)
        return I61_ERR_INVALID_ARGUMENT;
    pthread_mutex_lock(&m->lock);
    int rc = i61_model_prepare(m);
    i61_mvar var;
    if (rc == I61_OK)
        rc = i61_resolve(m, ref, fc, &var);
    if (rc == I61_OK)
        rc = i61_model_node_value(var.node, var.fc, out);
    pthread_mutex_unlock(&m->lock);
    return rc;
}

int i61_model_get_typespec(i61_model *m, const char *ref, int fc, i61_typespec **out)
{
    if (out)
        *out = NULL;
    if (!m || !out)
        return I61_ERR_INVALID_ARGUMENT;
    pthread_mutex_lock(&m->lock);
    int rc = i61_model_prepare(m);
    i61_mvar var;
    if (rc == I61_OK)
        rc = i61_resolve(m, ref, fc, &var);
    if (rc == I61_OK)
        rc = i61_model_node_typespec(var.node, var.fc, out);
    pthread_mutex_unlock(&m->lock);
    return rc;
}

/* ------------------------------------------------------------------ hooks */

static bool i61_hook_matches(const i61_mhook *h, bool is_write, int fc)
{
    return h->is_write == is_write && (fc == I61_FC_NONE || h->fc == I61_FC_NONE || h->fc == fc);
}

/* Hooks of the subtree strictly below n (iterative, bounded by the model depth). */
static size_t i61_hooks_below(const i61_mnode *n, bool is_write, int fc,
                              void (*fn)(void *ctx, const i61_mhook *h), void *ctx)
{
    uint32_t want = fc == I61_FC_NONE ? ALL_FC_MASK : (1u << fc);
    if (!(n->hook_mask & want))
        return 0;
    size_t found = 0;
    /* depth-first with an explicit index stack */
    const i61_mnode *stack[I61_MODEL_MAX_DEPTH + 2];
    size_t at[I61_MODEL_MAX_DEPTH + 2];
    size_t top = 0;
    stack[0] = n;
    at[0] = 0;
    top = 1;
    while (top > 0) {
        const i61_mnode *p = stack[top - 1];
        if (at[top - 1] >= p->nkids) {
            top--;
            continue;
        }
        const i61_mnode *k = p->kids[at[top - 1]++];
        if (p->kind != I61_MNODE_DA && fc != I61_FC_NONE && !(k->fc_mask & want))
            continue;
        for (const i61_mhook *h = k->hooks; h; h = h->next)
            if (i61_hook_matches(h, is_write, fc)) {
                fn(ctx, h);
                found++;
            }
        if ((k->hook_mask & want) && top < I61_MODEL_MAX_DEPTH + 2) {
            stack[top] = k;
            at[top] = 0;
            top++;
        }
    }
    return found;
}

size_t i61_model_var_hooks(const i61_mvar *v, bool is_write,
                           void (*fn)(void *ctx, const i61_mhook *h), void *ctx)
{
    size_t found = 0;
    for (const i61_mnode *n = v->node; n && n->kind >= I61_MNODE_LN; n = n->parent) {
        const i61_mhook *hit = NULL;
        for (const i61_mhook *h = n->hooks; h; h = h->next)
            if (i61_hook_matches(h, is_write, v->fc)) {
                hit = h;
                break;
            }
        if (hit) {
            fn(ctx, hit);
            found++;
            break;
        }
    }
    found += i61_hooks_below(v->node, is_write, v->fc, fn, ctx);
    return found;
}

int i61_model_set_hook(i61_model *m, i61_mnode *n, int fc, bool is_write, bool queued,
                       void *fn, void *userdata)
{
    if (!m || !n || n->model != m || n->kind < I61_MNODE_LN || n->in_array)
        return I61_ERR_INVALID_ARGUMENT;
    if (fc == I61_FC_NONE && n->kind == I61_MNODE_DA)
        fc = n->fc;
    if (fc == I61_FC_NONE ? n->kind != I61_MNODE_LN
                          : (fc < 0 || fc >= I61_MODEL_FC_COUNT || !(n->fc_mask & (1u << fc))))
        return I61_ERR_INVALID_ARGUMENT;
    pthread_mutex_lock(&m->lock);
    int rc = I61_OK;
    i61_mhook **pp = &n->hooks;
    while (*pp && !((*pp)->fc == fc && (*pp)->is_write == is_write))
        pp = &(*pp)->next;
    if (!fn && !queued) {
        if (*pp) {
            i61_mhook *h = *pp;
            *pp = h->next;
            free(h);
            m->nhooks--;
        }
    } else {
        i61_mhook *h = *pp;
        if (!h) {
            h = calloc(1, sizeof *h);
            if (!h) {
                rc = I61_ERR_UNKNOWN;
            } else {
                *pp = h;
                m->nhooks++;
            }
        }
        if (h) {
            h->fc = fc;
            h->is_write = is_write;
            h->queued = queued;
            h->fn = fn;
            h->userdata = userdata;
            uint32_t bits = fc == I61_FC_NONE ? ALL_FC_MASK : (1u << fc);
            for (i61_mnode *p = n->parent; p && p->kind >= I61_MNODE_LN; p = p->parent)
                p->hook_mask |= bits;
        }
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}
