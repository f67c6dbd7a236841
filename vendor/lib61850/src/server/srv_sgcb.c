/* Server setting group control blocks: see srv_sgcb.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "srv_sgcb.h"
#include "srv_gocb.h"
#include "../mms/mms_control.h"            /* i61_utc_time_from_ms */
#include "../mms/mms_data.h"
#include "../mms/value_internal.h"
#include "../net/loop.h"

/* DataAccessError codes answered here */
#define DAE_HW_FAULT 1
#define DAE_TEMP_UNAVAILABLE 2
#define DAE_ACCESS_DENIED 3
#define DAE_TYPE_INCONSISTENT 7
#define DAE_VALUE_INVALID 11

/* SGCB components, in order (i61.h i61_sgcb_attr numbering). */
enum { SG_NUM = 0, SG_ACT, SG_EDIT, SG_CNF, SG_LACT, SG_RESV, SG_NATTR };

static const struct {
    const char *name;
    int type;
    int size;
} i61_sgcb_comps[SG_NATTR] = {
    {"NumOfSG", I61_TYPE_UNSIGNED, 8},
    {"ActSG", I61_TYPE_UNSIGNED, 8},
    {"EditSG", I61_TYPE_UNSIGNED, 8},
    {"CnfEdit", I61_TYPE_BOOLEAN, 0},
    {"LActTm", I61_TYPE_UTC_TIME, 0},
    {"ResvTms", I61_TYPE_UNSIGNED, 16},
};

/* One setting: an FC SG data attribute directly below a DO/SDO. */
typedef struct i61_sg_setting {
    i61_mnode *sg;              /* the FC SG attribute */
    i61_mnode *se;              /* its FC SE twin */
    i61_value **grp;            /* num values, group k at grp[k - 1]; the active
                                   group's entry is stale (the model holds it) */
} i61_sg_setting;

struct i61_srv_sgcb {
    struct i61_srv_cbx hdr;     /* first: node->cbx points here */
    struct i61_srv_sgcb *next;  /* model->sgcbs */
    i61_model *m;
    i61_mnode *ld, *ln, *node;
    i61_mnode *attr[SG_NATTR];
    char ref[2 * I61_MODEL_NAME_MAX + 2];   /* "LD/LLN0" */
    int num, act, edit;
    bool cnf;
    int64_t lact_ms;
    uint32_t resv_s;
    i61_sconn *edit_conn;       /* holder of the edit reservation, NULL = none */
    uint32_t edit_conn_id;
    uint64_t edit_deadline;     /* i61_mono_ms */
    uint32_t handler_mask;      /* 1 ACTIVATE, 2 CONFIRM */
    void *userdata;
    i61_sg_setting *set;
    size_t nset;
};

/* ---------------------------------------------------------------- helpers */

static int64_t i61_sg_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool i61_sg_is_holder(const i61_mnode *n)
{
    return n->kind == I61_MNODE_DA && !n->in_array &&
           (n->type != I61_TYPE_STRUCTURE || n->count > 0);
}

static i61_mnode *i61_sg_ld_of(const i61_mnode *n)
{
    while (n && n->kind != I61_MNODE_LD)
        n = n->parent;
    return (i61_mnode *)n;
}

/* The control block node (a DO with cbx) that n is or lies in, else NULL. */
static i61_mnode *i61_cbx_node(const i61_mnode *n)
{
    for (; n && n->kind >= I61_MNODE_DO; n = n->parent) {
        if (n->cbx)
            return (i61_mnode *)n;
        if (n->kind == I61_MNODE_DO)
            break;
    }
    return NULL;
}

bool i61_cbx_owns(const i61_mnode *n)
{
    return i61_cbx_node(n) != NULL;
}

static struct i61_srv_sgcb *i61_sgcb_of_ld(i61_model *m, const i61_mnode *ld)
{
    for (struct i61_srv_sgcb *g = m->sgcbs; g && ld; g = g->next)
        if (g->ld == ld)
            return g;
    return NULL;
}

/* SGCB by "LD" or "LD/LN" (the LN must be the SGCB's). */
static struct i61_srv_sgcb *i61_sgcb_find(i61_model *m, const char *ld)
{
    if (!ld)
        return NULL;
    const char *slash = strchr(ld, '/');
    size_t l = slash ? (size_t)(slash - ld) : strlen(ld);
    for (struct i61_srv_sgcb *g = m->sgcbs; g; g = g->next) {
        const char *dn = g->ld->name;
        if (strlen(dn) != l || memcmp(dn, ld, l) != 0)
            continue;
        if (slash && strcmp(slash + 1, g->ln->name) != 0)
            return NULL;
        return g;
    }
    return NULL;
}

static bool i61_sg_same(const i61_value *a, const i61_value *b)
{
    if (!a || !b)
        return false;
    i61_buf x, y;
    i61_buf_init(&x);
    i61_buf_init(&y);
    i61_mms_data_encode(&x, a);
    i61_mms_data_encode(&y, b);
    bool same = !x.oom && !y.oom && x.len == y.len && memcmp(x.data, y.data, x.len) == 0;
    i61_buf_free(&x);
    i61_buf_free(&y);
    return same;
}

/* Stores v (taken) into SGCB component n unless it already holds it:
 * through the model (change notifications: reports, logs), or quietly
 * (straight into the holder) when called while the model may be inside a
 * notification (a read done for a report or a log entry). */
static void i61_sg_put(i61_model *m, i61_mnode *n, i61_value *v, bool notify)
{
    if (n && v && !i61_sg_same(n->value, v)) {
        if (notify) {
            i61_model_store_node_value(m, n, I61_FC_SP, v);
        } else {
            i61_value_free(n->value);
            n->value = v;
            v = NULL;
        }
    }
    i61_value_free(v);
}

static i61_value *i61_sg_lact_value(int64_t ms)
{
    uint8_t t[8];
    i61_utc_time_from_ms(ms > 0 ? (uint64_t)ms : 0, 0x0a, t);
    return i61_value_new_utc_time(t);
}

/* The SGCB components from the state (model lock held). */
static void i61_sg_publish(struct i61_srv_sgcb *g, bool notify)
{
    i61_model *m = g->m;
    i61_sg_put(m, g->attr[SG_NUM], i61_value_new_unsigned_sized((uint64_t)g->num, 8), notify);
    i61_sg_put(m, g->attr[SG_ACT], i61_value_new_unsigned_sized((uint64_t)g->act, 8), notify);
    i61_sg_put(m, g->attr[SG_EDIT], i61_value_new_unsigned_sized((uint64_t)g->edit, 8), notify);
    i61_sg_put(m, g->attr[SG_CNF], i61_value_new_boolean(g->cnf), notify);
    i61_sg_put(m, g->attr[SG_LACT], i61_sg_lact_value(g->lact_ms), notify);
    i61_sg_put(m, g->attr[SG_RESV], i61_value_new_unsigned_sized(g->resv_s, 16), notify);
}

/* A copy of v in the representation of the model for node n (integer and
 * float widths of the declared type); whole: v is n's whole value (an
 * array when n is one), else one element. NULL on OOM or a shape that does
 * not match (callers type-checked v first). */
static i61_value *i61_sg_norm(const i61_mnode *n, const i61_value *v, bool whole, int depth)
{
    if (!v || depth > I61_MODEL_MAX_DEPTH + 1)
        return NULL;
    if (whole && n->count > 0) {
        size_t cnt = i61_value_count(v);
        i61_value *a = i61_value_new_array(cnt);
        for (size_t i = 0; a && i < cnt; i++) {
            i61_value *e = i61_sg_norm(n, i61_value_element(v, i), false, depth + 1);
            if (!e) {
                i61_value_free(a);
                return NULL;
            }
            i61_value_set_element(a, i, e);
        }
        return a;
    }
    if (n->type == I61_TYPE_STRUCTURE) {
        size_t cnt = i61_value_count(v);
        if (cnt != n->nkids)
            return NULL;
        i61_value *s = i61_value_new_structure(cnt);
        for (size_t i = 0; s && i < cnt; i++) {
            i61_value *e = i61_sg_norm(n->kids[i], i61_value_element(v, i), true, depth + 1);
            if (!e) {
                i61_value_free(s);
                return NULL;
            }
            i61_value_set_element(s, i, e);
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

/* Copies the values of the holders at or below `from` into the matching
 * holders below `to` (same shape), without change notifications. */
static void i61_sg_copy_holders(const i61_mnode *from, i61_mnode *to, int depth)
{
    if (depth > I61_MODEL_MAX_DEPTH + 1 || from->type != to->type || from->count != to->count ||
        from->size != to->size)
        return;
    if (i61_sg_is_holder(from)) {
        if (!from->value || !i61_sg_is_holder(to) || i61_sg_same(from->value, to->value))
            return;
        i61_value *v = i61_value_clone(from->value);
        if (v) {
            i61_value_free(to->value);
            to->value = v;
        }
        return;
    }
    for (size_t i = 0; i < from->nkids && i < to->nkids; i++)
        if (strcmp(from->kids[i]->name, to->kids[i]->name) == 0)
            i61_sg_copy_holders(from->kids[i], to->kids[i], depth + 1);
}

/* ----------------------------------------------------------- the engine */

static void i61_sg_release(struct i61_srv_sgcb *g, bool notify)
{
    g->edit = 0;
    g->edit_conn = NULL;
    g->edit_conn_id = 0;
    g->edit_deadline = 0;
    i61_sg_publish(g, notify);
}

/* Ends the reservation when ResvTms passed. notify: false from reads (see
 * i61_sg_put). */
static void i61_sg_expire(struct i61_srv_sgcb *g, uint64_t now, bool notify)
{
    if (g->edit_conn && now >= g->edit_deadline)
        i61_sg_release(g, notify);
}

/* Group `to` becomes the active one (model lock held): -1 or a DAE. */
static int i61_sg_activate(struct i61_srv_sgcb *g, int to)
{
    if (to < 1 || to > g->num)
        return DAE_VALUE_INVALID;
    if (to == g->act)
        return -1;
    i61_value **cur = calloc(g->nset ? g->nset : 1, sizeof *cur);
    if (!cur)
        return DAE_HW_FAULT;
    for (size_t i = 0; i < g->nset; i++) {
        if (i61_model_node_value(g->set[i].sg, I61_FC_SG, &cur[i]) != I61_OK) {
            for (size_t k = 0; k < i; k++)
                i61_value_free(cur[k]);
            free(cur);
            return DAE_HW_FAULT;
        }
    }
    int dae = -1;
    for (size_t i = 0; i < g->nset; i++) {
        i61_sg_setting *st = &g->set[i];
        if (!st->grp[to - 1] ||
            i61_model_store_node_value(g->m, st->sg, I61_FC_SG, st->grp[to - 1]) != I61_OK)
            dae = DAE_HW_FAULT;
        i61_value_free(st->grp[g->act - 1]);
        st->grp[g->act - 1] = cur[i];          /* the group left keeps its current values */
    }
    free(cur);
    g->act = to;
    g->lact_ms = i61_sg_wall_ms();
    i61_sg_publish(g, true);
    return dae;
}

/* SelectEditSG n (n >= 1) by c: reserve, load group n into SE. */
static int i61_sg_select_edit(struct i61_srv_sgcb *g, i61_sconn *c, int n, uint64_t now)
{
    /* the state first: stores into SE notify, and what they trigger reads SE */
    g->edit = n;
    g->edit_conn = c;
    g->edit_conn_id = c ? c->id : 0;
    g->edit_deadline = now + (uint64_t)g->resv_s * 1000u;
    g->cnf = false;
    int dae = -1;
    for (size_t i = 0; i < g->nset; i++) {
        i61_sg_setting *st = &g->set[i];
        i61_value *own = NULL;
        const i61_value *src = st->grp[n - 1];
        if (n == g->act) {
            if (i61_model_node_value(st->sg, I61_FC_SG, &own) != I61_OK)
                own = NULL;
            src = own;
        }
        if (!src || i61_model_store_node_value(g->m, st->se, I61_FC_SE, src) != I61_OK)
            dae = DAE_HW_FAULT;
        i61_value_free(own);
    }
    i61_sg_publish(g, true);
    return dae;
}

/* ConfirmEditSGValues: SE -> group EditSG (and SG when it is active), then
 * the reservation ends (EditSG 0, CnfEdit stays TRUE). */
static int i61_sg_confirm(struct i61_srv_sgcb *g, uint64_t now)
{
    int edit = g->edit, act = g->act;          /* the reads below may not change them */
    if (edit < 1 || edit > g->num)
        return DAE_TEMP_UNAVAILABLE;
    (void)now;
    int dae = -1;
    for (size_t i = 0; i < g->nset; i++) {
        i61_sg_setting *st = &g->set[i];
        i61_value *v = NULL;
        if (i61_model_node_value(st->se, I61_FC_SE, &v) != I61_OK) {
            dae = DAE_HW_FAULT;
            continue;
        }
        if (edit == act) {
            if (i61_model_store_node_value(g->m, st->sg, I61_FC_SG, v) != I61_OK)
                dae = DAE_HW_FAULT;
            i61_value_free(v);
        } else {
            i61_value_free(st->grp[edit - 1]);
            st->grp[edit - 1] = v;
        }
    }
    g->cnf = true;
    i61_sg_release(g, true);                   /* EditSG 0, as libiec61850 and the Rust server do */
    return dae;
}

static int i61_sg_attr_of(const struct i61_srv_sgcb *g, const i61_mnode *n)
{
    for (int a = 0; a < SG_NATTR; a++)
        if (g->attr[a] == n)
            return a;
    return -1;
}

static uint64_t i61_sg_uint(const i61_value *v)
{
    uint64_t u = 0;
    if (i61_value_get_uint64(v, &u) != I61_OK)
        u = UINT64_MAX;
    return u;
}

/* MMS Write of an SGCB component (model lock held). */
static int i61_sgcb_write(i61_sconn *c, struct i61_srv_sgcb *g, i61_mnode *target,
                          const i61_value *v, int *sev_kind, void **userdata)
{
    int a = i61_sg_attr_of(g, target);
    if (a != SG_ACT && a != SG_EDIT && a != SG_CNF)
        return DAE_ACCESS_DENIED;
    if (i61_model_check_node_value(target, I61_FC_SP, v) != I61_OK)
        return DAE_TYPE_INCONSISTENT;
    uint64_t now = i61_mono_ms();
    i61_sg_expire(g, now, true);
    if (a == SG_ACT) {
        uint64_t u = i61_sg_uint(v);
        if (u < 1 || u > (uint64_t)g->num)
            return DAE_VALUE_INVALID;
        if ((int)u == g->act)
            return -1;                          /* already active (libiec61850: the same) */
        if (g->handler_mask & 1u) {
            *sev_kind = I61_SEV_SG_ACTIVATE;
            *userdata = g->userdata;
            return I61_HOOK_DEFER;
        }
        return i61_sg_activate(g, (int)u);
    }
    if (a == SG_EDIT) {
        if (g->edit_conn && g->edit_conn != c)
            return DAE_TEMP_UNAVAILABLE;        /* reserved by another association */
        uint64_t u = i61_sg_uint(v);
        if (u == 0) {
            if (g->edit_conn)
                i61_sg_release(g, true);
            return -1;
        }
        if (u > (uint64_t)g->num)
            return DAE_VALUE_INVALID;
        return i61_sg_select_edit(g, c, (int)u, now);
    }
    int on = 0;
    i61_value_get_boolean(v, &on);
    if (!on)
        return DAE_VALUE_INVALID;               /* CnfEdit FALSE (libiec61850) */
    if (g->edit == 0 || g->edit_conn != c)
        return DAE_ACCESS_DENIED;               /* not this association's edit (libiec61850) */
    if (g->handler_mask & 2u) {
        *sev_kind = I61_SEV_SG_CONFIRM;
        *userdata = g->userdata;
        return I61_HOOK_DEFER;
    }
    return i61_sg_confirm(g, now);
}

int i61_srv_cbx_write(i61_sconn *c, const i61_selem *e, const i61_mms_var *mv,
                      const i61_value *value, int *sev_kind, void **userdata)
{
    i61_model *m = c->srv->model;
    if ((!m->sgcbs && !m->gocbs) || !e->node)
        return I61_CBX_NOT_MINE;
    i61_mnode *node = e->node;
    i61_mnode *cb = i61_cbx_node(node);
    if (cb) {
        if (mv->has_index || mv->component[0])
            return DAE_ACCESS_DENIED;           /* alternate access into a control block */
        if (cb->cbx->type == I61_CBX_SGCB)
            return i61_sgcb_write(c, (struct i61_srv_sgcb *)(void *)cb->cbx, node, value,
                                  sev_kind, userdata);
        return i61_srv_gocb_write(c, cb, node, value);
    }
    if (!m->sgcbs)
        return I61_CBX_NOT_MINE;
    if (node->kind == I61_MNODE_LN && (e->fc == I61_FC_SP || e->fc == I61_FC_NONE)) {
        /* LLN0$SP (or LLN0) as a whole would overwrite the SGCB */
        for (size_t i = 0; i < node->nkids; i++)
            if (node->kids[i]->cbx && node->kids[i]->cbx->type == I61_CBX_SGCB)
                return DAE_ACCESS_DENIED;
        return I61_CBX_NOT_MINE;
    }
    if (e->fc == I61_FC_SE) {
        struct i61_srv_sgcb *g = i61_sgcb_of_ld(m, i61_sg_ld_of(node));
        if (!g)
            return I61_CBX_NOT_MINE;
        i61_sg_expire(g, i61_mono_ms(), true);
        if (g->edit == 0 || g->edit_conn != c)
            return DAE_TEMP_UNAVAILABLE;
    }
    return I61_CBX_NOT_MINE;
}

bool i61_srv_sgcb_queue(i61_server *s, uint32_t conn_id, uint64_t token, int sev_kind,
                        const i61_mnode *node, const i61_value *written, void *userdata)
{
    i61_model *m = s->model;
    char ref[sizeof ((struct i61_srv_sgcb *)0)->ref];
    i61_value *v = NULL;
    i61_model_lock(m);
    i61_mnode *cb = i61_cbx_node(node);
    if (cb && cb->cbx->type == I61_CBX_SGCB) {
        struct i61_srv_sgcb *g = (struct i61_srv_sgcb *)(void *)cb->cbx;
        uint64_t group = sev_kind == I61_SEV_SG_ACTIVATE ? i61_sg_uint(written) : (uint64_t)g->edit;
        v = i61_value_new_unsigned_sized(group & 0xff, 8);
        memcpy(ref, g->ref, sizeof ref);
    }
    i61_model_unlock(m);
    if (!v)
        return false;
    return i61_srv_push_event(s, sev_kind, conn_id, token, I61_FC_SP, userdata, v, ref);
}

int i61_srv_sgcb_apply(i61_sconn *c, i61_mnode *node, const i61_value *value)
{
    i61_mnode *cb = i61_cbx_node(node);
    if (!cb || cb->cbx->type != I61_CBX_SGCB)
        return DAE_HW_FAULT;
    struct i61_srv_sgcb *g = (struct i61_srv_sgcb *)(void *)cb->cbx;
    uint64_t now = i61_mono_ms();
    i61_sg_expire(g, now, true);
    int a = i61_sg_attr_of(g, node);
    if (a == SG_ACT) {
        uint64_t u = i61_sg_uint(value);
        if (u < 1 || u > (uint64_t)g->num)
            return DAE_VALUE_INVALID;
        return i61_sg_activate(g, (int)u);
    }
    if (a == SG_CNF) {
        if (g->edit == 0 || g->edit_conn != c)
            return DAE_TEMP_UNAVAILABLE;        /* the reservation ended meanwhile */
        return i61_sg_confirm(g, now);
    }
    return DAE_ACCESS_DENIED;
}

void i61_srv_sgcb_conn_gone(i61_server *s, i61_sconn *c)
{
    i61_model *m = s->model;
    i61_model_lock(m);
    for (struct i61_srv_sgcb *g = m->sgcbs; g; g = g->next)
        if (g->edit_conn == c)
            i61_sg_release(g, true);
    i61_model_unlock(m);
    i61_srv_gocb_conn_gone(s, c);
}

void i61_sgcb_sync(const i61_mnode *n, int fc)
{
    if (!n || !n->model || !n->model->sgcbs)
        return;
    if (fc != I61_FC_SE && fc != I61_FC_SP && fc != I61_FC_NONE)
        return;
    struct i61_srv_sgcb *g = i61_sgcb_of_ld(n->model, i61_sg_ld_of(n));
    if (!g)
        return;
    i61_sg_expire(g, i61_mono_ms(), false);   /* inside reads: quietly */
    if (fc == I61_FC_SP || g->edit != 0)
        return;
    /* nobody edits: SE shows the active values */
    for (size_t i = 0; i < g->nset; i++)
        i61_sg_copy_holders(g->set[i].sg, g->set[i].se, 0);
}

/* ------------------------------------------------------------- freeing */

static void i61_sgcb_free_one(struct i61_srv_sgcb *g)
{
    for (size_t i = 0; i < g->nset; i++) {
        if (g->set[i].grp)
            for (int k = 0; k < g->num; k++)
                i61_value_free(g->set[i].grp[k]);
        free(g->set[i].grp);
    }
    free(g->set);
    free(g);
}

void i61_cbx_set_free(i61_model *m)
{
    struct i61_srv_sgcb *g = m->sgcbs;
    while (g) {
        struct i61_srv_sgcb *nx = g->next;
        if (g->node)
            g->node->cbx = NULL;
        i61_sgcb_free_one(g);
        g = nx;
    }
    m->sgcbs = NULL;
    i61_gocb_set_free(m);
}

/* ------------------------------------------------------------- builder */

typedef struct i61_sg_vec {
    i61_sg_setting *v;
    size_t n, cap;
} i61_sg_vec;

static int i61_sg_vec_add(i61_sg_vec *vec, i61_mnode *da)
{
    if (vec->n == vec->cap) {
        size_t nc = vec->cap ? vec->cap * 2 : 8;
        i61_sg_setting *p = realloc(vec->v, nc * sizeof *p);
        if (!p)
            return I61_ERR_UNKNOWN;
        vec->v = p;
        vec->cap = nc;
    }
    memset(&vec->v[vec->n], 0, sizeof vec->v[0]);
    vec->v[vec->n++].sg = da;
    return I61_OK;
}

/* The FC SG attributes directly below DO/SDO d (depth bounded by the model). */
static int i61_sg_collect_do(i61_mnode *d, i61_sg_vec *vec, int depth)
{
    if (depth > I61_MODEL_MAX_DEPTH)
        return I61_OK;
    for (size_t i = 0; i < d->nkids; i++) {
        i61_mnode *k = d->kids[i];
        int rc = I61_OK;
        if (k->kind == I61_MNODE_DO)
            rc = i61_sg_collect_do(k, vec, depth + 1);
        else if (k->kind == I61_MNODE_DA && k->fc == I61_FC_SG)
            rc = i61_sg_vec_add(vec, k);
        if (rc != I61_OK)
            return rc;
    }
    return I61_OK;
}

/* Adds the components of `src` below `dst` (same names, types, sizes). */
static int i61_sg_copy_kids(const i61_mnode *src, i61_mnode *dst, int depth)
{
    if (depth > I61_MODEL_MAX_DEPTH)
        return I61_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < src->nkids; i++) {
        const i61_mnode *k = src->kids[i];
        i61_mnode *nk = NULL;
        int rc = i61_model_add_da(dst, k->name, I61_FC_NONE, k->type, k->size, k->count, &nk);
        if (rc == I61_OK) {
            nk->trg = k->trg;                   /* the same trigger options */
            rc = i61_sg_copy_kids(k, nk, depth + 1);
        }
        if (rc != I61_OK)
            return rc;
    }
    return I61_OK;
}

/* The FC SE twin of setting da: a DA of the same name beside it. The model
 * builder refuses a second child of the same name, so the twin is added
 * under a free temporary name of the same length and then renamed (the
 * model tells same-named siblings apart by their FC: index, resolution). */
static int i61_sg_twin(i61_mnode *da, i61_mnode **out)
{
    *out = NULL;
    i61_mnode *parent = da->parent;
    size_t len = strlen(da->name);
    char tmp[I61_MODEL_NAME_MAX + 1];
    bool found = false;
    for (unsigned k = 0; k < 100000u && !found; k++) {
        int w = len == 1 ? snprintf(tmp, sizeof tmp, "%c", "_0123456789"[k % 11])
                         : snprintf(tmp, sizeof tmp, "_%0*u", (int)(len - 1), k);
        if (w < 0 || (size_t)w != len || (len == 1 && k >= 11))
            break;
        found = true;
        for (size_t i = 0; i < parent->nkids && found; i++)
            if (strcmp(parent->kids[i]->name, tmp) == 0)
                found = false;
    }
    if (!found)
        return I61_ERR_INVALID_ARGUMENT;
    i61_mnode *t = NULL;
    int rc = i61_model_add_da(parent, tmp, I61_FC_SE, da->type, da->size, da->count, &t);
    if (rc != I61_OK)
        return rc;
    char *name = strdup(da->name);
    if (!name) {
        i61_model_remove_node(t);
        return I61_ERR_UNKNOWN;
    }
    free(t->name);
    t->name = name;
    t->item_len = da->item_len;
    t->trg = da->trg;
    rc = i61_sg_copy_kids(da, t, 0);
    if (rc != I61_OK) {
        i61_model_remove_node(t);
        return rc;
    }
    *out = t;
    return I61_OK;
}

int i61_model_add_sgcb(i61_model *m, const char *ln_ref, int num_of_sg, int act_sg,
                       uint32_t resv_tms_s)
{
    if (!m || !ln_ref || num_of_sg < 1 || num_of_sg > 255 || act_sg < 1 || act_sg > num_of_sg)
        return I61_ERR_INVALID_ARGUMENT;
    if (resv_tms_s == 0)
        resv_tms_s = I61_SGCB_RESV_DEFAULT;
    if (resv_tms_s > 65535u)
        resv_tms_s = 65535u;                    /* ResvTms is an INT16U */
    i61_mnode *ln = NULL;
    int rc = i61_model_find(m, ln_ref, I61_FC_NONE, &ln, NULL);
    if (rc != I61_OK)
        return rc == I61_ERR_OBJECT_REFERENCE_INVALID ? I61_ERR_INVALID_ARGUMENT : rc;
    if (!ln || ln->kind != I61_MNODE_LN || !ln->parent)
        return I61_ERR_INVALID_ARGUMENT;
    i61_model_lock(m);
    i61_mnode *ld = ln->parent;
    if (i61_sgcb_of_ld(m, ld)) {
        i61_model_unlock(m);
        return I61_ERR_OBJECT_EXISTS;
    }
    i61_sg_vec vec = {NULL, 0, 0};
    struct i61_srv_sgcb *g = calloc(1, sizeof *g);
    rc = g ? i61_model_prepare(m) : I61_ERR_UNKNOWN;    /* the SG values have their defaults */
    for (size_t i = 0; i < ld->nkids && rc == I61_OK; i++)
        for (size_t j = 0; j < ld->kids[i]->nkids && rc == I61_OK; j++)
            if (ld->kids[i]->kids[j]->kind == I61_MNODE_DO)
                rc = i61_sg_collect_do(ld->kids[i]->kids[j], &vec, 1);
    i61_mnode *node = NULL;
    if (rc == I61_OK)
        rc = i61_model_add_do(ln, "SGCB", &node);
    for (int a = 0; a < SG_NATTR && rc == I61_OK; a++)
        rc = i61_model_add_da(node, i61_sgcb_comps[a].name, I61_FC_SP, i61_sgcb_comps[a].type,
                              i61_sgcb_comps[a].size, 0, &g->attr[a]);
    /* group values first (before the twins change the model) */
    for (size_t i = 0; i < vec.n && rc == I61_OK; i++) {
        vec.v[i].grp = calloc((size_t)num_of_sg, sizeof *vec.v[i].grp);
        if (!vec.v[i].grp) {
            rc = I61_ERR_UNKNOWN;
            break;
        }
        for (int k = 0; k < num_of_sg && rc == I61_OK; k++)
            rc = i61_model_node_value(vec.v[i].sg, I61_FC_SG, &vec.v[i].grp[k]);
    }
    for (size_t i = 0; i < vec.n && rc == I61_OK; i++)
        rc = i61_sg_twin(vec.v[i].sg, &vec.v[i].se);
    if (rc != I61_OK) {
        for (size_t i = 0; i < vec.n; i++)
            if (vec.v[i].se)
                i61_model_remove_node(vec.v[i].se);
        if (node)
            i61_model_remove_node(node);
        if (g) {
            g->set = vec.v;
            g->nset = vec.n;
            g->num = num_of_sg;
            i61_sgcb_free_one(g);
        } else {
            free(vec.v);
        }
        i61_model_unlock(m);
        return rc == I61_ERR_INVALID_ARGUMENT || rc == I61_ERR_OBJECT_EXISTS ? rc : I61_ERR_UNKNOWN;
    }
    g->hdr.type = I61_CBX_SGCB;
    g->m = m;
    g->ld = ld;
    g->ln = ln;
    g->node = node;
    snprintf(g->ref, sizeof g->ref, "%s/%s", ld->name, ln->name);
    g->num = num_of_sg;
    g->act = act_sg;
    g->resv_s = resv_tms_s;
    g->lact_ms = i61_sg_wall_ms();
    g->set = vec.v;
    g->nset = vec.n;
    /* first values, straight into the new holders (nothing watches them yet) */
    i61_value *init[SG_NATTR] = {
        i61_value_new_unsigned_sized((uint64_t)num_of_sg, 8),
        i61_value_new_unsigned_sized((uint64_t)act_sg, 8),
        i61_value_new_unsigned_sized(0, 8),
        i61_value_new_boolean(0),
        i61_sg_lact_value(g->lact_ms),
        i61_value_new_unsigned_sized(resv_tms_s, 16),
    };
    for (int a = 0; a < SG_NATTR; a++) {
        i61_value_free(g->attr[a]->value);
        g->attr[a]->value = init[a];           /* NULL (OOM): the default fills it */
    }
    node->cbx = &g->hdr;
    g->next = m->sgcbs;
    m->sgcbs = g;
    i61_model_unlock(m);
    return I61_OK;
}

/* ---------------------------------------------------- per-group values */

/* The setting whose attribute is n or contains it; *top = that attribute. */
static i61_sg_setting *i61_sg_setting_of(struct i61_srv_sgcb *g, const i61_mnode *n)
{
    const i61_mnode *t = n;
    while (t && t->kind == I61_MNODE_DA && t->parent && t->parent->kind == I61_MNODE_DA)
        t = t->parent;
    for (size_t i = 0; i < g->nset; i++)
        if (g->set[i].sg == t)
            return &g->set[i];
    return NULL;
}

/* Inside value `whole` of setting top: the container of node n's value and
 * n's index in it (n != top). false when n cannot be addressed. */
static bool i61_sg_locate(const i61_mnode *top, const i61_mnode *n, i61_value *whole,
                          i61_value **container, size_t *index)
{
    const i61_mnode *path[I61_MODEL_MAX_DEPTH + 2];
    size_t np = 0;
    const i61_mnode *p = n;
    while (p && p != top && np < I61_MODEL_MAX_DEPTH + 2) {
        path[np++] = p;
        p = p->parent;
    }
    if (p != top || np == 0)
        return false;
    i61_value *cur = whole;
    const i61_mnode *cn = top;
    while (np > 0) {
        const i61_mnode *k = path[--np];
        if (cn->count > 0 || !cur || i61_value_type(cur) != I61_TYPE_STRUCTURE)
            return false;
        size_t idx = 0;
        while (idx < cn->nkids && cn->kids[idx] != k)
            idx++;
        if (idx >= cn->nkids || idx >= i61_value_count(cur))
            return false;
        if (np == 0) {
            *container = cur;
            *index = idx;
            return true;
        }
        cur = i61_value_element(cur, idx);
        cn = k;
    }
    return false;
}

/* Group k (not active) of (node, FC SG) := v (type-checked). */
static int i61_sg_assign(struct i61_srv_sgcb *g, int k, const i61_mnode *node,
                         const i61_value *v, int depth)
{
    if (!v || depth > I61_MODEL_MAX_DEPTH + 1)
        return I61_ERR_TYPE_INCONSISTENT;
    if (node->kind == I61_MNODE_DA) {
        i61_sg_setting *st = i61_sg_setting_of(g, node);
        if (!st)
            return I61_ERR_OBJECT_DOES_NOT_EXIST;   /* added after the SGCB: not a setting */
        i61_value *nv = i61_sg_norm(node, v, true, 0);
        if (!nv)
            return I61_ERR_UNKNOWN;
        if (node == st->sg) {
            i61_value_free(st->grp[k - 1]);
            st->grp[k - 1] = nv;
            return I61_OK;
        }
        i61_value *container = NULL;
        size_t idx = 0;
        if (!i61_sg_locate(st->sg, node, st->grp[k - 1], &container, &idx)) {
            i61_value_free(nv);
            return I61_ERR_OBJECT_DOES_NOT_EXIST;
        }
        return i61_value_set_element(container, idx, nv) == I61_OK ? I61_OK : I61_ERR_UNKNOWN;
    }
    size_t j = 0;
    for (size_t i = 0; i < node->nkids; i++) {
        const i61_mnode *kid = node->kids[i];
        if (!(kid->fc_mask & (1u << I61_FC_SG)))
            continue;
        int rc = i61_sg_assign(g, k, kid, i61_value_element(v, j++), depth + 1);
        if (rc != I61_OK)
            return rc;
    }
    return I61_OK;
}

/* Group k (not active) of (node, FC SG), new. */
static int i61_sg_fetch(struct i61_srv_sgcb *g, int k, const i61_mnode *node, i61_value **out,
                        int depth)
{
    *out = NULL;
    if (depth > I61_MODEL_MAX_DEPTH + 1)
        return I61_ERR_UNKNOWN;
    if (node->kind == I61_MNODE_DA) {
        i61_sg_setting *st = i61_sg_setting_of(g, node);
        if (!st)
            return I61_ERR_OBJECT_DOES_NOT_EXIST;
        const i61_value *src = st->grp[k - 1];
        if (node != st->sg) {
            i61_value *container = NULL;
            size_t idx = 0;
            if (!i61_sg_locate(st->sg, node, st->grp[k - 1], &container, &idx))
                return I61_ERR_OBJECT_DOES_NOT_EXIST;
            src = i61_value_element(container, idx);
        }
        *out = src ? i61_value_clone(src) : NULL;
        return *out ? I61_OK : I61_ERR_UNKNOWN;
    }
    size_t cnt = 0;
    for (size_t i = 0; i < node->nkids; i++)
        if (node->kids[i]->fc_mask & (1u << I61_FC_SG))
            cnt++;
    i61_value *s = i61_value_new_structure(cnt);
    if (!s)
        return I61_ERR_UNKNOWN;
    size_t j = 0;
    for (size_t i = 0; i < node->nkids; i++) {
        const i61_mnode *kid = node->kids[i];
        if (!(kid->fc_mask & (1u << I61_FC_SG)))
            continue;
        i61_value *e = NULL;
        int rc = i61_sg_fetch(g, k, kid, &e, depth + 1);
        if (rc != I61_OK) {
            i61_value_free(s);
            return rc;
        }
        i61_value_set_element(s, j++, e);
    }
    *out = s;
    return I61_OK;
}

/* (node, SG) of ref and the LD's SGCB (model lock held). */
static int i61_sg_resolve(i61_model *m, const char *ref, int sg, i61_mnode **node,
                          struct i61_srv_sgcb **g)
{
    int fc = I61_FC_NONE;
    int rc = i61_model_find(m, ref, I61_FC_SG, node, &fc);
    if (rc != I61_OK)
        return rc;
    if (fc != I61_FC_SG)
        return I61_ERR_OBJECT_DOES_NOT_EXIST;
    *g = i61_sgcb_of_ld(m, i61_sg_ld_of(*node));
    if (!*g)
        return I61_ERR_OBJECT_DOES_NOT_EXIST;
    if (sg < 1 || sg > (*g)->num)
        return I61_ERR_INVALID_ARGUMENT;
    return I61_OK;
}

int i61_model_set_sg_value(i61_model *m, const char *ref, int sg, const i61_value *v)
{
    if (!m || !ref || !v)
        return I61_ERR_INVALID_ARGUMENT;
    i61_model_lock(m);
    i61_mnode *node = NULL;
    struct i61_srv_sgcb *g = NULL;
    int rc = i61_sg_resolve(m, ref, sg, &node, &g);
    if (rc == I61_OK)
        rc = i61_model_check_node_value(node, I61_FC_SG, v);
    if (rc == I61_OK) {
        if (sg == g->act)
            rc = i61_model_store_node_value(m, node, I61_FC_SG, v);
        else
            rc = i61_sg_assign(g, sg, node, v, 0);
    }
    i61_model_unlock(m);
    return rc;
}

int i61_model_get_sg_value(i61_model *m, const char *ref, int sg, i61_value **out)
{
    if (out)
        *out = NULL;
    if (!m || !ref || !out)
        return I61_ERR_INVALID_ARGUMENT;
    i61_model_lock(m);
    i61_mnode *node = NULL;
    struct i61_srv_sgcb *g = NULL;
    int rc = i61_sg_resolve(m, ref, sg, &node, &g);
    if (rc == I61_OK) {
        if (sg == g->act)
            rc = i61_model_node_value(node, I61_FC_SG, out);
        else
            rc = i61_sg_fetch(g, sg, node, out, 0);
    }
    i61_model_unlock(m);
    return rc;
}

/* ------------------------------------------------------------ server API */

int i61_server_get_sgcb(i61_server *s, const char *ld, i61_sgcb_state *out)
{
    if (!s || !ld || !out)
        return I61_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    i61_model *m = s->model;
    i61_model_lock(m);
    struct i61_srv_sgcb *g = i61_sgcb_find(m, ld);
    if (g) {
        i61_sg_expire(g, i61_mono_ms(), true);
        out->num_of_sg = g->num;
        out->act_sg = g->act;
        out->edit_sg = g->edit;
        out->cnf_edit = g->cnf;
        out->lact_tm_ms = g->lact_ms;
        out->resv_tms_s = g->resv_s;
        out->edit_conn_id = g->edit_conn_id;
    }
    i61_model_unlock(m);
    return g ? I61_OK : I61_ERR_OBJECT_DOES_NOT_EXIST;
}

int i61_server_select_active_sg(i61_server *s, const char *ld, int sg)
{
    if (!s || !ld)
        return I61_ERR_INVALID_ARGUMENT;
    i61_model *m = s->model;
    i61_model_lock(m);
    struct i61_srv_sgcb *g = i61_sgcb_find(m, ld);
    int rc = I61_ERR_OBJECT_DOES_NOT_EXIST;
    if (g) {
        if (sg < 1 || sg > g->num)
            rc = I61_ERR_INVALID_ARGUMENT;
        else
            rc = i61_sg_activate(g, sg) < 0 ? I61_OK : I61_ERR_UNKNOWN;
    }
    i61_model_unlock(m);
    return rc;
}

int i61_server_set_sg_handler(i61_server *s, const char *ld, uint32_t mask, void *userdata)
{
    if (!s || !ld || (mask & ~3u))
        return I61_ERR_INVALID_ARGUMENT;
    i61_model *m = s->model;
    i61_model_lock(m);
    struct i61_srv_sgcb *g = i61_sgcb_find(m, ld);
    if (g) {
        g->handler_mask = mask;
        g->userdata = mask ? userdata : NULL;
    }
    i61_model_unlock(m);
    return g ? I61_OK : I61_ERR_OBJECT_DOES_NOT_EXIST;
}

int i61_server_complete_sg(i61_server *s, uint64_t token, int result)
{
    if (!s || !(result == I61_HOOK_ACCEPT || (result >= 0 && result <= 11)))
        return I61_ERR_INVALID_ARGUMENT;
    /* only tokens of setting group events (the slot layout of srv_mms.c) */
    uint64_t serial = token >> 20;
    size_t slot = (size_t)(token & (I61_SRV_MAX_SLOTS - 1));
    bool ours = false;
    pthread_mutex_lock(&s->mu);
    const i61_sreq *r = s->buckets[serial % I61_SRV_TOKEN_BUCKETS];
    while (r && r->serial != serial)
        r = r->next;
    if (r && slot < r->nslots && r->slots[slot].sev_kind != 0)
        ours = true;
    pthread_mutex_unlock(&s->mu);
    if (!ours)
        return I61_ERR_OBJECT_DOES_NOT_EXIST;
    return i61_srv_complete(s, token, result, true);
}
