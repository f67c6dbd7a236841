/* Server control engine (srv_control.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "srv_control.h"
#include "../mms/mms_control.h"
#include "../mms/mms_data.h"
#include "../net/loop.h"

/* AddCause values used by the engine (IEC 61850-7-2 / PROTOCOL.md 12). */
enum {
    I61_AC_UNKNOWN = 0,
    I61_AC_SELECT_FAILED = 3,
    I61_AC_COMMAND_IN_EXECUTION = 12,
    I61_AC_TIME_LIMIT_OVER = 16,
    I61_AC_NOT_SELECTED = 18,
    I61_AC_ALREADY_SELECTED = 19,
    I61_AC_INCONSISTENT_PARAMETERS = 26,
    I61_AC_LOCKED_BY_OTHER_CLIENT = 27
};

/* DataAccessError codes of the Write responses. */
enum {
    I61_DAE_TEMP_UNAVAILABLE = 2,
    I61_DAE_ACCESS_DENIED = 3,
    I61_DAE_TYPE_INCONSISTENT = 7,
    I61_DAE_VALUE_INVALID = 11
};

/* What a command is. */
enum { I61_CSVC_SBO = 1, I61_CSVC_SBOW, I61_CSVC_OPER };

/* Where a command is. */
enum {
    I61_CPH_IDLE = 0,
    I61_CPH_SEL_CHECK,      /* select: CHECK */
    I61_CPH_OP_CHECK,       /* operate: CHECK */
    I61_CPH_WAIT_ACT,       /* time-activated operate waiting for operTm */
    I61_CPH_OP_WAIT,        /* operate: WAIT */
    I61_CPH_OP_EXEC         /* operate: OPERATE */
};

/* Answer of the current stage. */
enum { I61_CPEND_NONE = 0, I61_CPEND_WAITING, I61_CPEND_ANSWERED };

#define I61_CTL_ACCEPT (-1)

typedef struct i61_srv_ctl {
    struct i61_srv_ctl *next;           /* model->ctls */
    i61_mnode *dobj;
    i61_mnode *oper, *sbow, *cancel, *sbo;
    char ref[132];                      /* "LD/LN.DO" */
    char domain[I61_MMS_NAME_MAX + 1];  /* MMS domain of the LD */
    char item[I61_MMS_NAME_MAX + 1];    /* "LN$CO$DO" */

    /* declared configuration (i61_model_set_control) */
    bool declared;
    int decl_model;
    uint32_t decl_timeout;
    int decl_class;

    /* queued handlers */
    uint32_t stages;
    bool auto_update;
    void *userdata;

    /* selection */
    i61_sconn *sel_conn;                /* NULL = not selected */
    uint64_t sel_deadline;
    i61_value *sel_value;               /* the SBOw structure (sbo-enhanced) */

    /* the command in progress */
    int phase;
    int service;
    int model;                          /* control model when it started */
    i61_sconn *conn;
    uint32_t invoke_id;
    bool responded;
    i61_value *value;                   /* Oper/SBOw as received (owned) */
    i61_ctl_cmd cmd;                    /* parsed from value (borrows) */
    uint64_t act_deadline;              /* time-activated: operTm on the mono clock */
    bool time_activated;
    int pend;
    uint64_t token;
    int result;                         /* I61_CTL_ACCEPT or an AddCause */
    uint64_t pend_deadline;
    bool stage_started;
    uint64_t orphan_token;              /* aborted with its connection */
} i61_srv_ctl;

/* --------------------------------------------------------------- helpers */

static uint64_t i61_ctl_real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)(ts.tv_nsec / 1000000);
}

static i61_mnode *i61_ctl_kid(const i61_mnode *n, const char *name, int fc)
{
    if (!n)
        return NULL;
    for (size_t i = 0; i < n->nkids; i++) {
        i61_mnode *k = n->kids[i];
        if (strcmp(k->name, name) == 0 && (fc == I61_FC_NONE || k->fc == fc))
            return k;
    }
    return NULL;
}

static bool i61_ctl_leaf_int(const i61_mnode *n, int64_t *out)
{
    if (!n || !n->value || n->count > 0)
        return false;
    if (i61_value_get_int64(n->value, out) == I61_OK)
        return true;
    uint64_t u;
    if (i61_value_get_uint64(n->value, &u) == I61_OK && u <= INT64_MAX) {
        *out = (int64_t)u;
        return true;
    }
    return false;
}

static int i61_ctl_model_now(const i61_srv_ctl *ctl)
{
    if (ctl->declared)
        return ctl->decl_model;
    int64_t v;
    if (!i61_ctl_leaf_int(i61_ctl_kid(ctl->dobj, "ctlModel", I61_FC_CF), &v))
        return 1;
    return v >= 0 && v <= 4 ? (int)v : 1;
}

static uint32_t i61_ctl_timeout_now(const i61_srv_ctl *ctl)
{
    if (ctl->declared)
        return ctl->decl_timeout ? ctl->decl_timeout : I61_CTL_SBO_TIMEOUT_DEFAULT;
    int64_t v;
    if (!i61_ctl_leaf_int(i61_ctl_kid(ctl->dobj, "sboTimeout", I61_FC_CF), &v) || v <= 0)
        return I61_CTL_SBO_TIMEOUT_DEFAULT;
    return v > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static int i61_ctl_class_now(const i61_srv_ctl *ctl)
{
    if (ctl->declared)
        return ctl->decl_class;
    int64_t v;
    if (!i61_ctl_leaf_int(i61_ctl_kid(ctl->dobj, "sboClass", I61_FC_CF), &v))
        return 0;
    return v == 1 ? 1 : 0;
}

static bool i61_ctl_is_sbo(int model)
{
    return model == 2 || model == 4;
}

static bool i61_ctl_is_enhanced(int model)
{
    return model == 3 || model == 4;
}

/* The CO structure node "name" of a DO (a constructed DA, or for SBO a
 * visible string). */
static i61_mnode *i61_ctl_co(const i61_mnode *dobj, const char *name, bool structure)
{
    i61_mnode *k = i61_ctl_kid(dobj, name, I61_FC_CO);
    if (!k || k->kind != I61_MNODE_DA || k->count > 0)
        return NULL;
    if (structure != (k->type == I61_TYPE_STRUCTURE))
        return NULL;
    if (!structure && k->type != I61_TYPE_VISIBLE_STRING)
        return NULL;
    return k;
}

/* Names of a DO: reference, domain and MMS item base. */
static int i61_ctl_names(i61_srv_ctl *ctl)
{
    const i61_mnode *path[I61_MODEL_MAX_DEPTH + 2];
    size_t np = 0;
    const i61_mnode *n = ctl->dobj;
    while (n && n->kind != I61_MNODE_LN && np < I61_MODEL_MAX_DEPTH + 2) {
        path[np++] = n;
        n = n->parent;
    }
    if (!n || n->kind != I61_MNODE_LN || !n->parent)
        return I61_ERR_INVALID_ARGUMENT;
    const i61_mnode *ln = n;
    const char *dom = i61_model_ld_name(ln->parent);
    int w1 = snprintf(ctl->domain, sizeof ctl->domain, "%s", dom);
    int w2 = snprintf(ctl->ref, sizeof ctl->ref, "%s/%s", dom, ln->name);
    int w3 = snprintf(ctl->item, sizeof ctl->item, "%s$CO", ln->name);
    if (w1 < 0 || (size_t)w1 >= sizeof ctl->domain || w2 < 0 || (size_t)w2 >= sizeof ctl->ref ||
        w3 < 0 || (size_t)w3 >= sizeof ctl->item)
        return I61_ERR_INVALID_ARGUMENT;
    size_t rl = (size_t)w2, il = (size_t)w3;
    while (np > 0) {
        const char *nm = path[--np]->name;
        w2 = snprintf(ctl->ref + rl, sizeof ctl->ref - rl, ".%s", nm);
        w3 = snprintf(ctl->item + il, sizeof ctl->item - il, "$%s", nm);
        if (w2 < 0 || (size_t)w2 >= sizeof ctl->ref - rl || w3 < 0 ||
            (size_t)w3 >= sizeof ctl->item - il)
            return I61_ERR_INVALID_ARGUMENT;
        rl += (size_t)w2;
        il += (size_t)w3;
    }
    return I61_OK;
}

/* The control state of a DO, created on first use. NULL when the DO has no
 * CO Oper (and allow_plain is false) or out of memory. Model lock held. */
static i61_srv_ctl *i61_ctl_get(i61_model *m, i61_mnode *dobj)
{
    if (!dobj || dobj->kind != I61_MNODE_DO)
        return NULL;
    if (dobj->ctl)
        return dobj->ctl;
    i61_mnode *oper = i61_ctl_co(dobj, "Oper", true);
    if (!oper)
        return NULL;
    i61_srv_ctl *ctl = calloc(1, sizeof *ctl);
    if (!ctl)
        return NULL;
    ctl->dobj = dobj;
    ctl->oper = oper;
    ctl->sbow = i61_ctl_co(dobj, "SBOw", true);
    ctl->cancel = i61_ctl_co(dobj, "Cancel", true);
    ctl->sbo = i61_ctl_co(dobj, "SBO", false);
    ctl->auto_update = true;
    if (i61_ctl_names(ctl) != I61_OK) {
        free(ctl);
        return NULL;
    }
    ctl->next = m->ctls;
    __atomic_store_n(&m->ctls, ctl, __ATOMIC_RELEASE);   /* i61_srv_ctl_run peeks at it */
    dobj->ctl = ctl;
    return ctl;
}

static void i61_ctl_clear_cmd(i61_srv_ctl *ctl)
{
    i61_value_free(ctl->value);
    ctl->value = NULL;
    memset(&ctl->cmd, 0, sizeof ctl->cmd);
    ctl->phase = I61_CPH_IDLE;
    ctl->conn = NULL;
    ctl->pend = I61_CPEND_NONE;
    ctl->stage_started = false;
    ctl->time_activated = false;
    ctl->responded = false;
}

void i61_ctl_set_free(i61_model *m)
{
    i61_srv_ctl *ctl = m->ctls;
    while (ctl) {
        i61_srv_ctl *nx = ctl->next;
        i61_value_free(ctl->value);
        i61_value_free(ctl->sel_value);
        if (ctl->dobj)
            ctl->dobj->ctl = NULL;
        free(ctl);
        ctl = nx;
    }
    m->ctls = NULL;
}

/* ------------------------------------------------------- model updates */

/* Stores v into (n, fc) when it type-checks; true when stored. */
static bool i61_ctl_store(i61_model *m, i61_mnode *n, int fc, const i61_value *v)
{
    if (!n || !v || n->kind != I61_MNODE_DA)
        return false;
    if (i61_model_check_node_value(n, fc, v) != I61_OK)
        return false;
    return i61_model_store_node_value(m, n, fc, v) == I61_OK;
}

static void i61_ctl_store_bool(i61_model *m, i61_mnode *n, int fc, bool b)
{
    if (!n || n->type != I61_TYPE_BOOLEAN)
        return;
    i61_value *v = i61_value_new_boolean(b);
    i61_ctl_store(m, n, fc, v);
    i61_value_free(v);
}

static void i61_ctl_set_seld(i61_model *m, i61_srv_ctl *ctl, bool on)
{
    i61_ctl_store_bool(m, i61_ctl_kid(ctl->dobj, "stSeld", I61_FC_ST), I61_FC_ST, on);
}

/* ctlNum and origin [ST] := the command's. */
static void i61_ctl_store_params(i61_model *m, i61_srv_ctl *ctl, const i61_ctl_cmd *cmd)
{
    i61_value *num = i61_value_new_unsigned(cmd->ctl_num);
    i61_ctl_store(m, i61_ctl_kid(ctl->dobj, "ctlNum", I61_FC_ST), I61_FC_ST, num);
    i61_value_free(num);
    i61_mnode *on = i61_ctl_kid(ctl->dobj, "origin", I61_FC_ST);
    if (!on)
        return;
    i61_value *o = i61_value_new_structure(2);
    if (o) {
        i61_value_set_element(o, 0, i61_value_new_integer(cmd->or_cat));
        i61_value_set_element(o, 1, i61_value_new_octet_string(cmd->or_ident, cmd->or_ident_len));
        i61_ctl_store(m, on, I61_FC_ST, o);
    }
    i61_value_free(o);
}

static void i61_ctl_store_now(i61_model *m, i61_mnode *t, int fc)
{
    if (!t || t->type != I61_TYPE_UTC_TIME)
        return;
    uint8_t o[8];
    i61_utc_time_from_ms(i61_ctl_real_ms(), 0x0a, o);
    i61_value *v = i61_value_new_utc_time(o);
    i61_ctl_store(m, t, fc, v);
    i61_value_free(v);
}

/* The default execution: stVal [ST] := ctlVal (bool -> Dbpos for a 2-bit
 * stVal), or mxVal [MX] := ctlVal (APC), with t of the same FC := now. */
static void i61_ctl_apply_value(i61_model *m, i61_srv_ctl *ctl, const i61_value *cv)
{
    if (!cv)
        return;
    i61_mnode *st = i61_ctl_kid(ctl->dobj, "stVal", I61_FC_ST);
    bool done = false;
    int fc = I61_FC_ST;
    if (st) {
        done = i61_ctl_store(m, st, I61_FC_ST, cv);
        if (!done && st->type == I61_TYPE_BIT_STRING && (st->size == 2 || st->size == -2) &&
            i61_value_type(cv) == I61_TYPE_BOOLEAN) {
            int b = 0;
            i61_value_get_boolean(cv, &b);
            uint8_t bits = b ? 0x80 : 0x40;          /* Dbpos on = 10, off = 01 */
            i61_value *d = i61_value_new_bit_string(2, &bits);
            done = i61_ctl_store(m, st, I61_FC_ST, d);
            i61_value_free(d);
        }
    }
    if (!done) {
        i61_mnode *mx = i61_ctl_kid(ctl->dobj, "mxVal", I61_FC_MX);
        if (mx && i61_ctl_store(m, mx, I61_FC_MX, cv)) {
            done = true;
            fc = I61_FC_MX;
        }
    }
    if (done)
        i61_ctl_store_now(m, i61_ctl_kid(ctl->dobj, "t", fc), fc);
}

/* ------------------------------------------------------------- sending */

static void i61_ctl_send(i61_sconn *c, const i61_buf *b)
{
    if (b->oom) {
        c->close_now = true;
        return;
    }
    if (b->len > c->max_pdu)
        return;                             /* larger than the client accepts: dropped */
    if (i61_sconn_send_pdu(c, b->data, b->len) != 0)
        c->close_now = true;
}

static void i61_ctl_write_resp(i61_sconn *c, uint32_t invoke_id, int dae)
{
    i61_buf_reset(&c->pdu);
    i61_mms_enc_write_resp(&c->pdu, invoke_id, &dae, 1);
    i61_ctl_send(c, &c->pdu);
}

static void i61_ctl_read_resp(i61_sconn *c, uint32_t invoke_id, const char *text)
{
    i61_value *v = i61_value_new_visible_string(text);
    if (!v) {
        c->close_now = true;
        return;
    }
    i61_buf_reset(&c->pdu);
    const i61_value *vv = v;
    i61_mms_enc_read_resp(&c->pdu, invoke_id, NULL, &vv, 1);
    i61_value_free(v);
    i61_ctl_send(c, &c->pdu);
}

/* LastApplError of a refusal. error: 0 no-error (before a negative response,
 * as libiec61850 sends it), 1 unknown (CommandTermination-). */
static void i61_ctl_fill_lae(const i61_srv_ctl *ctl, const char *var, const i61_ctl_cmd *cmd,
                             int add_cause, int error, i61_last_appl_error *e)
{
    memset(e, 0, sizeof *e);
    int w = snprintf(e->control_object, sizeof e->control_object, "%s/%s$%s", ctl->domain,
                     ctl->item, var);
    if (w < 0 || (size_t)w >= sizeof e->control_object)
        e->control_object[0] = 0;               /* cannot happen: names are bounded */
    e->error = error;
    e->add_cause = add_cause;
    if (cmd) {
        e->or_cat = cmd->or_cat;
        e->or_ident_len = cmd->or_ident_len <= sizeof e->or_ident ? cmd->or_ident_len : 0;
        if (e->or_ident_len)
            memcpy(e->or_ident, cmd->or_ident, e->or_ident_len);
        e->ctl_num = cmd->ctl_num;
    }
}

static void i61_ctl_send_lae(i61_sconn *c, const i61_srv_ctl *ctl, const char *var,
                             const i61_ctl_cmd *cmd, int add_cause)
{
    i61_last_appl_error e;
    i61_ctl_fill_lae(ctl, var, cmd, add_cause, 0, &e);
    i61_buf b;
    i61_buf_init(&b);
    if (i61_mms_encode_last_appl_error(&b, &e) == I61_OK)
        i61_ctl_send(c, &b);
    else
        c->close_now = b.oom;
    i61_buf_free(&b);
}

/* LastApplError then the negative Write response. */
static void i61_ctl_refuse(i61_sconn *c, uint32_t invoke_id, const i61_srv_ctl *ctl,
                           const char *var, const i61_ctl_cmd *cmd, int add_cause, int dae)
{
    i61_ctl_send_lae(c, ctl, var, cmd, add_cause);
    i61_ctl_write_resp(c, invoke_id, dae);
}

static void i61_ctl_send_term(i61_srv_ctl *ctl, int add_cause)
{
    i61_sconn *c = ctl->conn;
    if (!c)
        return;
    i61_last_appl_error e;
    if (add_cause != I61_CTL_ACCEPT)
        i61_ctl_fill_lae(ctl, "Oper", &ctl->cmd, add_cause, 1, &e);
    char item[I61_MMS_NAME_MAX + 1];
    int w = snprintf(item, sizeof item, "%s$Oper", ctl->item);
    if (w < 0 || (size_t)w >= sizeof item)
        return;
    i61_buf b;
    i61_buf_init(&b);
    if (i61_mms_encode_cmd_term(&b, ctl->domain, item, ctl->value,
                                add_cause == I61_CTL_ACCEPT ? NULL : &e) == I61_OK)
        i61_ctl_send(c, &b);
    else
        c->close_now = b.oom;
    i61_buf_free(&b);
}

/* The command's own response (once). */
static void i61_ctl_respond(i61_srv_ctl *ctl, int dae)
{
    i61_sconn *c = ctl->conn;
    if (!c || ctl->responded)
        return;
    ctl->responded = true;
    c->outstanding--;
    i61_ctl_write_resp(c, ctl->invoke_id, dae);
}

static void i61_ctl_respond_refusal(i61_srv_ctl *ctl, const char *var, int add_cause, int dae)
{
    i61_sconn *c = ctl->conn;
    if (!c || ctl->responded)
        return;
    i61_ctl_send_lae(c, ctl, var, &ctl->cmd, add_cause);
    i61_ctl_respond(ctl, dae);
}

/* ------------------------------------------------------------ selection */

static void i61_ctl_select(i61_model *m, i61_srv_ctl *ctl, i61_sconn *c, uint64_t now)
{
    ctl->sel_conn = c;
    ctl->sel_deadline = now + i61_ctl_timeout_now(ctl);
    i61_ctl_set_seld(m, ctl, true);
}

static void i61_ctl_unselect(i61_model *m, i61_srv_ctl *ctl)
{
    if (!ctl->sel_conn)
        return;
    ctl->sel_conn = NULL;
    i61_value_free(ctl->sel_value);
    ctl->sel_value = NULL;
    i61_ctl_set_seld(m, ctl, false);
}

/* Ends the selection when its time is over (no command running). */
static void i61_ctl_expire(i61_model *m, i61_srv_ctl *ctl, uint64_t now)
{
    if (ctl->sel_conn && ctl->phase == I61_CPH_IDLE && now >= ctl->sel_deadline)
        i61_ctl_unselect(m, ctl);
}

/* ----------------------------------------------------------- the stages */

static int i61_ctl_stage_of(int phase)
{
    switch (phase) {
    case I61_CPH_SEL_CHECK:
    case I61_CPH_OP_CHECK:
        return I61_CONTROL_STAGE_CHECK;
    case I61_CPH_OP_WAIT:
        return I61_CONTROL_STAGE_WAIT;
    case I61_CPH_OP_EXEC:
        return I61_CONTROL_STAGE_OPERATE;
    default:
        return 0;
    }
}

static int i61_ctl_event_kind(int stage)
{
    return stage == I61_CONTROL_STAGE_CHECK  ? I61_SEV_CONTROL_CHECK
           : stage == I61_CONTROL_STAGE_WAIT ? I61_SEV_CONTROL_WAIT
                                             : I61_SEV_CONTROL_OPERATE;
}

/* Starts the stage of the current phase: queues its event (pend WAITING) or
 * answers it at once (ANSWERED). */
static void i61_ctl_start_stage(i61_server *s, i61_model *m, i61_srv_ctl *ctl, uint64_t now)
{
    int stage = i61_ctl_stage_of(ctl->phase);
    ctl->stage_started = true;
    ctl->pend = I61_CPEND_ANSWERED;
    ctl->result = I61_CTL_ACCEPT;
    if (!(ctl->stages & (uint32_t)stage))
        return;
    i61_control_action a;
    memset(&a, 0, sizeof a);
    a.ctl_model = ctl->model;
    a.is_select = ctl->phase == I61_CPH_SEL_CHECK;
    if (ctl->service != I61_CSVC_SBO) {
        const i61_ctl_cmd *cmd = &ctl->cmd;
        a.ctl_num = cmd->ctl_num;
        a.or_cat = cmd->or_cat;
        a.or_ident_len = (uint32_t)(cmd->or_ident_len <= sizeof a.or_ident ? cmd->or_ident_len : 0);
        if (a.or_ident_len)
            memcpy(a.or_ident, cmd->or_ident, a.or_ident_len);
        memcpy(a.t, cmd->t, sizeof a.t);
        a.has_oper_tm = cmd->has_oper_tm;
        memcpy(a.oper_tm, cmd->oper_tm, sizeof a.oper_tm);
        a.test = cmd->test;
        a.interlock_check = cmd->interlock_check;
        a.synchro_check = cmd->synchro_check;
    }
    if (ctl->conn)
        snprintf(a.peer, sizeof a.peer, "%s", ctl->conn->peer);
    i61_value *copy = NULL;
    if (ctl->service != I61_CSVC_SBO && ctl->cmd.ctl_val) {
        copy = i61_value_clone(ctl->cmd.ctl_val);
        if (!copy) {
            ctl->result = I61_AC_UNKNOWN;
            return;
        }
    }
    uint64_t token = ++m->ctl_serial;
    if (!i61_srv_push_control_event(s, i61_ctl_event_kind(stage), ctl->conn ? ctl->conn->id : 0,
                                    token, ctl->userdata, copy, ctl->ref, &a)) {
        ctl->result = I61_AC_UNKNOWN;           /* queue full */
        return;
    }
    pthread_mutex_lock(&s->mu);
    uint32_t hook_ms = s->hook_timeout_ms;
    pthread_mutex_unlock(&s->mu);
    ctl->token = token;
    ctl->pend = I61_CPEND_WAITING;
    ctl->pend_deadline = now + hook_ms;
}

/* The command is over: selection per sboClass, state cleared. */
static void i61_ctl_finish(i61_model *m, i61_srv_ctl *ctl, uint64_t now, bool refused_check)
{
    if (i61_ctl_is_sbo(ctl->model) && ctl->sel_conn) {
        if (refused_check || i61_ctl_class_now(ctl) == 0)
            i61_ctl_unselect(m, ctl);
        else
            ctl->sel_deadline = now + i61_ctl_timeout_now(ctl);
    }
    i61_ctl_clear_cmd(ctl);
}

/* The failure of WAIT or OPERATE. */
static void i61_ctl_fail_exec(i61_model *m, i61_srv_ctl *ctl, int add_cause, uint64_t now)
{
    if (!ctl->responded)
        i61_ctl_respond_refusal(ctl, "Oper", add_cause, I61_DAE_ACCESS_DENIED);
    else if (i61_ctl_is_enhanced(ctl->model))
        i61_ctl_send_term(ctl, add_cause);
    else if (ctl->conn)
        i61_ctl_send_lae(ctl->conn, ctl, "Oper", &ctl->cmd, add_cause);
    i61_ctl_finish(m, ctl, now, false);
}

/* Runs the command's state machine as far as it goes without waiting. */
static void i61_ctl_advance(i61_server *s, i61_model *m, i61_srv_ctl *ctl, uint64_t now)
{
    for (int guard = 0; guard < 16 && ctl->phase != I61_CPH_IDLE; guard++) {
        if (ctl->phase == I61_CPH_WAIT_ACT) {
            if (now < ctl->act_deadline)
                return;
            ctl->phase = I61_CPH_OP_WAIT;
            ctl->stage_started = false;
            continue;
        }
        if (!ctl->stage_started)
            i61_ctl_start_stage(s, m, ctl, now);
        if (ctl->pend != I61_CPEND_ANSWERED)
            return;
        int res = ctl->result;
        ctl->pend = I61_CPEND_NONE;
        ctl->stage_started = false;
        bool ok = res == I61_CTL_ACCEPT;
        switch (ctl->phase) {
        case I61_CPH_SEL_CHECK:
            if (ctl->service == I61_CSVC_SBO) {
                if (ok)
                    i61_ctl_select(m, ctl, ctl->conn, now);
                if (ctl->conn && !ctl->responded) {
                    char text[I61_MMS_NAME_MAX * 2 + 8];
                    snprintf(text, sizeof text, "%s/%s$SBO", ctl->domain, ctl->item);
                    ctl->responded = true;
                    ctl->conn->outstanding--;
                    i61_ctl_read_resp(ctl->conn, ctl->invoke_id, ok ? text : "");
                }
            } else if (ok) {
                i61_ctl_select(m, ctl, ctl->conn, now);
                i61_ctl_store_params(m, ctl, &ctl->cmd);
                i61_ctl_respond(ctl, -1);
                ctl->sel_value = ctl->value;    /* kept for the operate's comparison */
                ctl->value = NULL;
            } else {
                i61_ctl_respond_refusal(ctl, "SBOw", res, I61_DAE_ACCESS_DENIED);
            }
            i61_ctl_clear_cmd(ctl);
            return;
        case I61_CPH_OP_CHECK:
            if (!ok) {
                i61_ctl_respond_refusal(ctl, "Oper", res, I61_DAE_ACCESS_DENIED);
                i61_ctl_finish(m, ctl, now, true);
                return;
            }
            i61_ctl_store_params(m, ctl, &ctl->cmd);
            if (ctl->time_activated && now < ctl->act_deadline) {
                i61_ctl_respond(ctl, -1);
                ctl->phase = I61_CPH_WAIT_ACT;
                continue;
            }
            if (i61_ctl_is_enhanced(ctl->model))
                i61_ctl_respond(ctl, -1);       /* enhanced: Oper_rsp+ after the static tests */
            ctl->phase = I61_CPH_OP_WAIT;
            continue;
        case I61_CPH_OP_WAIT:
            if (!ok) {
                i61_ctl_fail_exec(m, ctl, res, now);
                return;
            }
            ctl->phase = I61_CPH_OP_EXEC;
            continue;
        case I61_CPH_OP_EXEC:
            if (!ok) {
                i61_ctl_fail_exec(m, ctl, res, now);
                return;
            }
            if (!ctl->cmd.test && (ctl->auto_update || !(ctl->stages & I61_CONTROL_STAGE_OPERATE)))
                i61_ctl_apply_value(m, ctl, ctl->cmd.ctl_val);
            if (!ctl->responded)
                i61_ctl_respond(ctl, -1);
            else if (i61_ctl_is_enhanced(ctl->model))
                i61_ctl_send_term(ctl, I61_CTL_ACCEPT);
            i61_ctl_finish(m, ctl, now, false);
            return;
        default:
            return;
        }
    }
}

/* Earliest deadline of a control, 0 if none. */
static uint64_t i61_ctl_deadline(const i61_srv_ctl *ctl)
{
    uint64_t d = 0;
    if (ctl->pend == I61_CPEND_WAITING)
        d = ctl->pend_deadline;
    if (ctl->phase == I61_CPH_WAIT_ACT && (!d || ctl->act_deadline < d))
        d = ctl->act_deadline;
    if (ctl->sel_conn && ctl->phase == I61_CPH_IDLE && (!d || ctl->sel_deadline < d))
        d = ctl->sel_deadline;
    return d;
}

static void i61_ctl_arm(i61_server *s, const i61_srv_ctl *ctl, uint64_t now)
{
    uint64_t d = i61_ctl_deadline(ctl);
    if (!d || !s->arm_ctl)
        return;
    if (d > now + I61_CTL_MAX_SCHEDULE_MS)
        d = now + I61_CTL_MAX_SCHEDULE_MS;
    s->arm_ctl(s, d);
}

/* ------------------------------------------------------------ MMS side */

bool i61_srv_ctl_is_target(const i61_mnode *node, int fc, bool is_write)
{
    if (!node || fc != I61_FC_CO || node->kind != I61_MNODE_DA || !node->parent ||
        node->parent->kind != I61_MNODE_DO)
        return false;
    const char *n = node->name;
    if (is_write) {
        if (strcmp(n, "Oper") != 0 && strcmp(n, "SBOw") != 0 && strcmp(n, "Cancel") != 0)
            return false;
    } else if (strcmp(n, "SBO") != 0) {
        return false;
    }
    return i61_ctl_co(node->parent, "Oper", true) != NULL;
}

/* Starts a command: the connection has one more outstanding request. */
static void i61_ctl_begin(i61_srv_ctl *ctl, i61_sconn *c, uint32_t invoke_id, int service,
                          int model, int phase)
{
    ctl->conn = c;
    ctl->invoke_id = invoke_id;
    ctl->service = service;
    ctl->model = model;
    ctl->phase = phase;
    ctl->responded = false;
    ctl->stage_started = false;
    ctl->pend = I61_CPEND_NONE;
    c->outstanding++;
}

static bool i61_ctl_same_value(const i61_value *a, const i61_value *b)
{
    if (!a || !b)
        return a == b;
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

/* The Oper matches the SBOw of the selection (sbo-enhanced). */
static bool i61_ctl_matches_select(const i61_srv_ctl *ctl, const i61_ctl_cmd *op)
{
    i61_ctl_cmd sel;
    if (!ctl->sel_value || i61_ctl_parse(ctl->sel_value, &sel) != I61_OK)
        return false;
    return i61_ctl_same_value(sel.ctl_val, op->ctl_val) && sel.or_cat == op->or_cat &&
           sel.or_ident_len == op->or_ident_len &&
           (op->or_ident_len == 0 || memcmp(sel.or_ident, op->or_ident, op->or_ident_len) == 0) &&
           sel.ctl_num == op->ctl_num && sel.interlock_check == op->interlock_check &&
           sel.synchro_check == op->synchro_check;
}

void i61_srv_ctl_write(i61_sconn *c, uint32_t invoke_id, i61_mnode *node, const i61_value *value)
{
    i61_server *s = c->srv;
    i61_model *m = s->model;
    i61_srv_ctl *ctl = i61_ctl_get(m, node->parent);
    if (!ctl) {
        i61_ctl_write_resp(c, invoke_id, 1);    /* out of memory: hardware-fault */
        return;
    }
    uint64_t now = i61_mono_ms();
    int model = i61_ctl_model_now(ctl);
    const char *var = node->name;
    int service = strcmp(var, "Oper") == 0   ? I61_CSVC_OPER
                  : strcmp(var, "SBOw") == 0 ? I61_CSVC_SBOW
                                             : 0;   /* Cancel */
    if (model == 0) {
        i61_ctl_write_resp(c, invoke_id, I61_DAE_ACCESS_DENIED);
        return;
    }
    if (i61_model_check_node_value(node, I61_FC_CO, value) != I61_OK) {
        i61_ctl_write_resp(c, invoke_id, I61_DAE_TYPE_INCONSISTENT);
        return;
    }
    i61_ctl_cmd cmd;
    if (i61_ctl_parse(value, &cmd) != I61_OK || !cmd.ctl_val) {
        i61_ctl_write_resp(c, invoke_id, I61_DAE_VALUE_INVALID);
        return;
    }
    i61_ctl_expire(m, ctl, now);
    bool busy = ctl->phase != I61_CPH_IDLE;
    bool mine = ctl->sel_conn == c;
    bool other = ctl->sel_conn && !mine;

    if (service == 0) {                         /* Cancel */
        if (ctl->phase == I61_CPH_WAIT_ACT) {
            if (ctl->conn != c) {
                i61_ctl_refuse(c, invoke_id, ctl, var, &cmd, I61_AC_LOCKED_BY_OTHER_CLIENT,
                               I61_DAE_TEMP_UNAVAILABLE);
                return;
            }
            i61_ctl_finish(m, ctl, now, true);  /* aborted: the selection ends too */
            i61_ctl_write_resp(c, invoke_id, -1);
            return;
        }
        if (busy) {
            i61_ctl_refuse(c, invoke_id, ctl, var, &cmd, I61_AC_COMMAND_IN_EXECUTION,
                           I61_DAE_TEMP_UNAVAILABLE);
            return;
        }
        if (!i61_ctl_is_sbo(model)) {
            i61_ctl_write_resp(c, invoke_id, I61_DAE_ACCESS_DENIED);
            return;
        }
        if (other) {
            i61_ctl_refuse(c, invoke_id, ctl, var, &cmd, I61_AC_LOCKED_BY_OTHER_CLIENT,
                           I61_DAE_TEMP_UNAVAILABLE);
            return;
        }
        if (mine)
            i61_ctl_unselect(m, ctl);
        i61_ctl_write_resp(c, invoke_id, -1);
        return;
    }

    if (service == I61_CSVC_SBOW) {
        if (model != 4) {
            i61_ctl_write_resp(c, invoke_id, I61_DAE_ACCESS_DENIED);
            return;
        }
        if (cmd.or_cat < 0 || cmd.or_cat > 8) {
            i61_ctl_refuse(c, invoke_id, ctl, var, &cmd, I61_AC_SELECT_FAILED,
                           I61_DAE_VALUE_INVALID);
            return;
        }
        if (ctl->sel_conn) {
            i61_ctl_refuse(c, invoke_id, ctl, var, &cmd, I61_AC_ALREADY_SELECTED,
                           I61_DAE_TEMP_UNAVAILABLE);
            return;
        }
        if (busy) {
            i61_ctl_refuse(c, invoke_id, ctl, var, &cmd, I61_AC_COMMAND_IN_EXECUTION,
                           I61_DAE_TEMP_UNAVAILABLE);
            return;
        }
    } else {                                    /* Oper */
        if (cmd.or_cat < 0 || cmd.or_cat > 8) {
            if (mine && !busy)
                i61_ctl_unselect(m, ctl);
            i61_ctl_refuse(c, invoke_id, ctl, var, &cmd, I61_AC_INCONSISTENT_PARAMETERS,
                           I61_DAE_VALUE_INVALID);
            return;
        }
        if (busy) {
            i61_ctl_refuse(c, invoke_id, ctl, var, &cmd, I61_AC_COMMAND_IN_EXECUTION,
                           I61_DAE_TEMP_UNAVAILABLE);
            return;
        }
        if (i61_ctl_is_sbo(model)) {
            if (other) {
                i61_ctl_refuse(c, invoke_id, ctl, var, &cmd, I61_AC_LOCKED_BY_OTHER_CLIENT,
                               I61_DAE_TEMP_UNAVAILABLE);
                return;
            }
            if (!mine) {
                i61_ctl_refuse(c, invoke_id, ctl, var, &cmd, I61_AC_NOT_SELECTED,
                               I61_DAE_ACCESS_DENIED);
                return;
            }
            if (model == 4 && !i61_ctl_matches_select(ctl, &cmd)) {
                i61_ctl_unselect(m, ctl);
                i61_ctl_refuse(c, invoke_id, ctl, var, &cmd, I61_AC_INCONSISTENT_PARAMETERS,
                               I61_DAE_TYPE_INCONSISTENT);
                return;
            }
        }
    }

    /* accepted for processing: the command takes a copy of the structure */
    i61_value *copy = i61_value_clone(value);
    if (!copy) {
        i61_ctl_write_resp(c, invoke_id, 1);
        return;
    }
    i61_ctl_cmd own;
    if (i61_ctl_parse(copy, &own) != I61_OK) {  /* cannot differ from the first parse */
        i61_value_free(copy);
        i61_ctl_write_resp(c, invoke_id, I61_DAE_VALUE_INVALID);
        return;
    }
    i61_ctl_begin(ctl, c, invoke_id, service, model,
                  service == I61_CSVC_SBOW ? I61_CPH_SEL_CHECK : I61_CPH_OP_CHECK);
    ctl->value = copy;
    ctl->cmd = own;
    if (service == I61_CSVC_OPER && own.has_oper_tm) {
        uint64_t at = i61_utc_time_to_ms(own.oper_tm);
        uint64_t real = i61_ctl_real_ms();
        if (at != 0 && at > real) {
            ctl->time_activated = true;
            ctl->act_deadline = now + (at - real);
        }
    }
    i61_ctl_advance(s, m, ctl, now);
    i61_ctl_arm(s, ctl, now);
}

void i61_srv_ctl_read_sbo(i61_sconn *c, uint32_t invoke_id, i61_mnode *node)
{
    i61_server *s = c->srv;
    i61_model *m = s->model;
    i61_srv_ctl *ctl = i61_ctl_get(m, node->parent);
    if (!ctl) {
        i61_ctl_read_resp(c, invoke_id, "");
        return;
    }
    uint64_t now = i61_mono_ms();
    int model = i61_ctl_model_now(ctl);
    i61_ctl_expire(m, ctl, now);
    if (model != 2 || ctl->sel_conn || ctl->phase != I61_CPH_IDLE) {
        i61_ctl_read_resp(c, invoke_id, "");
        return;
    }
    i61_ctl_begin(ctl, c, invoke_id, I61_CSVC_SBO, model, I61_CPH_SEL_CHECK);
    i61_ctl_advance(s, m, ctl, now);
    i61_ctl_arm(s, ctl, now);
}

/* ------------------------------------------------------------ I/O side */

uint64_t i61_srv_ctl_run(i61_server *s, uint64_t now_ms)
{
    i61_model *m = s->model;
    uint64_t next = 0;
    if (!__atomic_load_n(&m->ctls, __ATOMIC_ACQUIRE))
        return 0;                               /* nothing controllable used yet: no lock */
    i61_model_lock(m);
    for (i61_srv_ctl *ctl = m->ctls; ctl; ctl = ctl->next) {
        if (ctl->pend == I61_CPEND_WAITING && now_ms >= ctl->pend_deadline) {
            ctl->pend = I61_CPEND_ANSWERED;     /* the handler took too long */
            ctl->result = I61_AC_TIME_LIMIT_OVER;
        }
        if (ctl->phase != I61_CPH_IDLE)
            i61_ctl_advance(s, m, ctl, now_ms);
        i61_ctl_expire(m, ctl, now_ms);
        uint64_t d = i61_ctl_deadline(ctl);
        if (d && (!next || d < next))
            next = d;
    }
    i61_model_unlock(m);
    if (next && next > now_ms + I61_CTL_MAX_SCHEDULE_MS)
        next = now_ms + I61_CTL_MAX_SCHEDULE_MS;
    return next;
}

void i61_srv_ctl_conn_gone(i61_server *s, i61_sconn *c)
{
    i61_model *m = s->model;
    if (!__atomic_load_n(&m->ctls, __ATOMIC_ACQUIRE))
        return;
    i61_model_lock(m);
    for (i61_srv_ctl *ctl = m->ctls; ctl; ctl = ctl->next) {
        if (ctl->phase != I61_CPH_IDLE && ctl->conn == c) {
            if (ctl->pend == I61_CPEND_WAITING)
                ctl->orphan_token = ctl->token;
            i61_ctl_clear_cmd(ctl);
        }
        if (ctl->sel_conn == c)
            i61_ctl_unselect(m, ctl);
    }
    i61_model_unlock(m);
}

/* ------------------------------------------------------------ public API */

/* The DO a reference designates (any FC it has). Model lock held. */
static int i61_ctl_find_do(i61_model *m, const char *ref, i61_mnode **out)
{
    *out = NULL;
    int rc = i61_model_find(m, ref, I61_FC_CO, out, NULL);
    for (int fc = 0; rc == I61_ERR_OBJECT_DOES_NOT_EXIST && fc < I61_MODEL_FC_COUNT; fc++)
        if (fc != I61_FC_CO)
            rc = i61_model_find(m, ref, fc, out, NULL);
    if (rc != I61_OK)
        return rc;
    if (!*out || (*out)->kind != I61_MNODE_DO)
        return I61_ERR_OBJECT_REFERENCE_INVALID;
    return I61_OK;
}

static void i61_ctl_write_cf(i61_model *m, i61_mnode *dobj, const char *name, int64_t v)
{
    i61_mnode *n = i61_ctl_kid(dobj, name, I61_FC_CF);
    if (!n || n->kind != I61_MNODE_DA || n->count > 0)
        return;
    i61_value *x = n->type == I61_TYPE_UNSIGNED ? i61_value_new_unsigned((uint64_t)v)
                                                : i61_value_new_integer(v);
    i61_ctl_store(m, n, I61_FC_CF, x);
    i61_value_free(x);
}

int i61_model_set_control(i61_model *m, const char *do_ref, int ctl_model,
                          uint32_t sbo_timeout_ms, int sbo_class)
{
    if (!m || !do_ref || ctl_model < 0 || ctl_model > 4 || sbo_class < 0 || sbo_class > 1)
        return I61_ERR_INVALID_ARGUMENT;
    i61_model_lock(m);
    i61_mnode *d = NULL;
    int rc = i61_ctl_find_do(m, do_ref, &d);
    if (rc == I61_OK) {
        i61_srv_ctl *ctl = i61_ctl_get(m, d);
        if (!ctl && ctl_model != 0)
            rc = i61_ctl_co(d, "Oper", true) ? I61_ERR_UNKNOWN : I61_ERR_INVALID_ARGUMENT;
        if (rc == I61_OK) {
            if (ctl) {
                ctl->declared = true;
                ctl->decl_model = ctl_model;
                ctl->decl_timeout = sbo_timeout_ms;
                ctl->decl_class = sbo_class;
                if (!i61_ctl_is_sbo(ctl_model) && ctl->phase == I61_CPH_IDLE)
                    i61_ctl_unselect(m, ctl);
            }
            i61_ctl_write_cf(m, d, "ctlModel", ctl_model);
            i61_ctl_write_cf(m, d, "sboTimeout", sbo_timeout_ms);
            i61_ctl_write_cf(m, d, "sboClass", sbo_class);
        }
    }
    i61_model_unlock(m);
    return rc;
}

int i61_server_set_control_handler(i61_server *s, const char *do_ref, uint32_t stages,
                                   int auto_update, void *userdata)
{
    if (!s || !do_ref || (stages & ~7u))
        return I61_ERR_INVALID_ARGUMENT;
    i61_model *m = s->model;
    i61_model_lock(m);
    i61_mnode *d = NULL;
    int rc = i61_ctl_find_do(m, do_ref, &d);
    if (rc == I61_OK) {
        i61_srv_ctl *ctl = i61_ctl_get(m, d);
        if (!ctl) {
            rc = i61_ctl_co(d, "Oper", true) ? I61_ERR_UNKNOWN : I61_ERR_OBJECT_DOES_NOT_EXIST;
        } else {
            ctl->stages = stages;
            ctl->auto_update = auto_update != 0;
            ctl->userdata = userdata;
        }
    }
    i61_model_unlock(m);
    return rc;
}

int i61_server_complete_control(i61_server *s, uint64_t token, int add_cause)
{
    if (!s || add_cause < -1 || add_cause > 255)
        return I61_ERR_INVALID_ARGUMENT;
    i61_model *m = s->model;
    int rc = I61_ERR_OBJECT_DOES_NOT_EXIST;
    i61_model_lock(m);
    for (i61_srv_ctl *ctl = m->ctls; ctl; ctl = ctl->next) {
        if (ctl->pend == I61_CPEND_WAITING && ctl->token == token) {
            ctl->pend = I61_CPEND_ANSWERED;
            ctl->result = add_cause < 0 ? I61_CTL_ACCEPT : add_cause;
            rc = I61_OK;
            break;
        }
        if (token != 0 && ctl->orphan_token == token) {
            ctl->orphan_token = 0;
            rc = I61_ERR_CONNECTION_LOST;
            break;
        }
    }
    i61_model_unlock(m);
    if (rc == I61_OK && s->wake)
        s->wake(s);
    return rc;
}

int i61_server_control_model(i61_server *s, const char *do_ref)
{
    if (!s || !do_ref)
        return -1;
    i61_model *m = s->model;
    int r = -1;
    i61_model_lock(m);
    i61_mnode *d = NULL;
    if (i61_ctl_find_do(m, do_ref, &d) == I61_OK) {
        i61_srv_ctl *ctl = i61_ctl_get(m, d);
        if (ctl)
            r = i61_ctl_model_now(ctl);
    }
    i61_model_unlock(m);
    return r;
}
