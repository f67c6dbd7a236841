/* MMS server services: Initiate negotiation, Conclude, Reject, Identify,
 * Status, GetNameList, GetVariableAccessAttributes, Read, Write, and the
 * deferred completion of reads/writes that have hooks. */
#include <stdlib.h>
#include <string.h>

#include "server_internal.h"
#include "srv_nvl.h"
#include "srv_rcb.h"
#include "srv_control.h"
#include "srv_file.h"
#include "srv_log.h"                              /* logs: ReadJournal, LCB writes */
#include "srv_sgcb.h"                             /* sgcb/gocb: SGCB, SE, GoCB, SVCB writes */
#include "../mms/mms_journal.h"
#include "../mms/initiate.h"
#include "../mms/mms_file.h"
#include "../mms/mms_data.h"
#include "../net/loop.h"

#define I61_SRV_MIN_NEGOTIATED_PDU 128

/* Our confirmed services (bit n = service tag n) and unconfirmed ones. */
static const int i61_srv_services[] = {
    0,  /* status */
    1,  /* getNameList */
    2,  /* identify */
    4,  /* read */
    5,  /* write */
    6,  /* getVariableAccessAttributes */
    11, /* defineNamedVariableList */
    12, /* getNamedVariableListAttributes */
    13, /* deleteNamedVariableList */
    79, /* informationReport */
    83  /* conclude */
};

/* ----------------------------------------------------------- initiate */

int i61_srv_initiate(i61_sconn *c, const uint8_t *req, size_t len, i61_buf *out)
{
    int kind = 0;
    i61_initiate rq, our, resp;
    if (i61_initiate_decode(req, len, &kind, &rq, NULL, NULL) != I61_OK ||
        kind != I61_MMS_INITIATE_REQUEST)
        return -1;
    i61_server *s = c->srv;
    i61_initiate_init_server(&our);
    pthread_mutex_lock(&s->mu);
    our.local_detail = (int32_t)s->max_pdu;
    our.max_serv_outstanding_calling = s->max_outstanding;
    our.max_serv_outstanding_called = s->max_outstanding;
    pthread_mutex_unlock(&s->mu);
    memset(our.services, 0, sizeof our.services);
    for (size_t i = 0; i < sizeof i61_srv_services / sizeof i61_srv_services[0]; i++)
        our.services[i61_srv_services[i] / 8] |= (uint8_t)(0x80 >> (i61_srv_services[i] % 8));
    if (i61_srv_files_enabled(s)) {
        /* obtainFile (46), fileOpen (72) ... fileDirectory (77) */
        static const int file_services[] = {46, 72, 73, 74, 75, 76, 77};
        for (size_t i = 0; i < sizeof file_services / sizeof file_services[0]; i++)
            our.services[file_services[i] / 8] |= (uint8_t)(0x80 >> (file_services[i] % 8));
    }
    if (i61_srv_logs_enabled(s))                   /* logs: readJournal (65) */
        our.services[I61_MMS_SVC_READ_JOURNAL / 8] |=
            (uint8_t)(0x80 >> (I61_MMS_SVC_READ_JOURNAL % 8));
    int e = i61_initiate_negotiate(&rq, &our, &resp);
    if (e == 0 && resp.local_detail < I61_SRV_MIN_NEGOTIATED_PDU)
        e = I61_MMS_INIT_ERR_MAX_SEGMENT;
    if (e != 0) {
        i61_initiate_write_error(out, e);
        return e;
    }
    if (i61_initiate_write_response(out, &resp) != I61_OK || out->oom)
        return -1;
    c->max_pdu = (uint32_t)resp.local_detail;
    c->max_outstanding = resp.max_serv_outstanding_calling;
    return 0;
}

/* ------------------------------------------------------------ sending */

static void i61_srv_send(i61_sconn *c)
{
    if (c->pdu.oom) {
        c->close_now = true;
        return;
    }
    i61_sconn_send_pdu(c, c->pdu.data, c->pdu.len);
}

static void i61_srv_reject(i61_sconn *c, bool has_id, uint32_t id, int reason, int code)
{
    i61_buf_reset(&c->pdu);
    i61_mms_enc_reject_pdu(&c->pdu, has_id, id, reason, code);
    i61_srv_send(c);
}

static void i61_srv_error(i61_sconn *c, uint32_t id, int cls, int code)
{
    i61_buf_reset(&c->pdu);
    i61_mms_enc_error_pdu(&c->pdu, id, cls, code);
    i61_srv_send(c);
}

/* Sends c->pdu unless it exceeds the negotiated size (then a ServiceError
 * service/pdu-size replaces it). */
static void i61_srv_send_checked(i61_sconn *c, uint32_t id)
{
    if (!c->pdu.oom && c->pdu.len > c->max_pdu) {
        i61_srv_error(c, id, I61_MMS_ERRCLASS_SERVICE, 3);
        return;
    }
    i61_srv_send(c);
}

/* --------------------------------------------------------- name lists */

static size_t i61_len_octets(size_t n)
{
    return n < 128 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 4;
}

static size_t i61_tlv_size(size_t content)
{
    return 1 + i61_len_octets(content) + content;
}

static size_t i61_uint_octets(uint32_t v)
{
    size_t n = 1;
    while (n < 4 && (v >> (8 * n)) != 0)
        n++;
    if ((v >> (8 * n - 1)) & 1)
        n++;                                   /* leading 00 of the INTEGER encoding */
    return n;
}

/* Size of a GetNameList response carrying names of total `names` octets. */
static size_t i61_gnl_size(uint32_t id, size_t names, bool more)
{
    size_t l2 = i61_tlv_size(names) + (more ? 0 : 3);
    size_t l1 = (2 + i61_uint_octets(id)) + i61_tlv_size(l2);
    return i61_tlv_size(l1);
}

typedef struct i61_namesrc {
    size_t count;
    const char *(*at)(void *ctx, size_t i);
    void *ctx;
} i61_namesrc;

static const char *i61_dom_at(void *ctx, size_t i)
{
    return i61_model_domain_name_at((i61_model *)ctx, i);
}

static const char *i61_var_at(void *ctx, size_t i)
{
    return ((i61_mld_index *)ctx)->vars[i].name;
}

static const char *i61_nvl_at(void *ctx, size_t i)
{
    return ((const char **)ctx)[i];
}

static void i61_srv_gnl_send(i61_sconn *c, uint32_t id, const i61_namesrc *src, size_t first)
{
    size_t n = 0, octets = 0;
    const char **names = NULL;
    size_t total = src->count > first ? src->count - first : 0;
    if (total) {
        names = malloc(total * sizeof *names);
        if (!names) {
            i61_srv_error(c, id, I61_MMS_ERRCLASS_RESOURCE, 0);
            return;
        }
    }
    bool more = false;
    for (size_t i = 0; i < total; i++) {
        const char *nm = src->at(src->ctx, first + i);
        size_t add = i61_tlv_size(strlen(nm));
        bool last = i + 1 == total;
        if (i61_gnl_size(id, octets + add, !last) > c->max_pdu) {
            more = true;
            break;
        }
        names[n++] = nm;
        octets += add;
    }
    if (more && n == 0) {
        free(names);
        i61_srv_error(c, id, I61_MMS_ERRCLASS_SERVICE, 3);   /* pdu-size */
        return;
    }
    i61_buf_reset(&c->pdu);
    i61_mms_enc_get_name_list_resp(&c->pdu, id, names, n, more);
    free(names);
    i61_srv_send(c);
}

static void i61_srv_get_name_list(i61_sconn *c, const i61_mms_request *rq)
{
    i61_mms_gnl_req g;
    if (i61_mms_dec_get_name_list_req(rq, &g) != I61_OK) {
        i61_srv_reject(c, true, rq->invoke_id, I61_MMS_REJECT_CONFIRMED_REQUEST,
                       I61_MMS_REJECT_INVALID_ARGUMENT);
        return;
    }
    i61_model *m = c->srv->model;
    const char *after = g.has_continue_after ? g.continue_after : NULL;
    i61_namesrc src = {0, NULL, NULL};
    i61_model_lock(m);
    if (i61_model_prepare(m) != I61_OK) {
        i61_model_unlock(m);
        i61_srv_error(c, rq->invoke_id, I61_MMS_ERRCLASS_RESOURCE, 0);
        return;
    }
    i61_mnode *ld = NULL;
    if (g.scope == I61_MMS_SCOPE_DOMAIN) {
        ld = i61_model_domain(m, g.domain);
        if (!ld) {
            i61_model_unlock(m);
            i61_srv_error(c, rq->invoke_id, I61_MMS_ERRCLASS_ACCESS, 2);   /* object-non-existent */
            return;
        }
    }
    size_t first = 0;
    if (g.object_class == I61_MMS_CLASS_DOMAIN && g.scope == I61_MMS_SCOPE_VMD) {
        src.count = i61_model_domain_count(m);
        src.at = i61_dom_at;
        src.ctx = m;
        first = i61_model_domain_first_after(m, after);
    } else if (g.object_class == I61_MMS_CLASS_NAMED_VARIABLE && ld) {
        i61_mld_index *ix = i61_model_ld_index(m, ld);
        if (ix) {
            src.count = ix->nvars;
            src.at = i61_var_at;
            src.ctx = ix;
            first = i61_model_var_first_after(ix, after);
        }
    }
    /* named variable lists (data sets, srv_nvl.c): sorted, already after `after` */
    const char **nvl_names = NULL;
    if (g.object_class == I61_MMS_CLASS_NVL) {
        size_t nn = 0;
        if (i61_nvl_names(m, g.scope, g.domain, c->id, after, &nvl_names, &nn) != I61_OK) {
            i61_model_unlock(m);
            i61_srv_error(c, rq->invoke_id, I61_MMS_ERRCLASS_RESOURCE, 0);
            return;
        }
        src.count = nn;
        src.at = i61_nvl_at;
        src.ctx = nvl_names;
        first = 0;
    }
    const char **log_names = NULL;                 /* logs: journals of a domain (srv_log.c) */
    if (g.object_class == I61_MMS_CLASS_JOURNAL && ld) {
        size_t nn = 0;
        if (i61_log_names(m, ld, after, &log_names, &nn) != I61_OK) {
            i61_model_unlock(m);
            i61_srv_error(c, rq->invoke_id, I61_MMS_ERRCLASS_RESOURCE, 0);
            return;
        }
        src.count = nn;
        src.at = i61_nvl_at;
        src.ctx = log_names;
        first = 0;
    }
    /* other classes and scopes: none yet */
    i61_srv_gnl_send(c, rq->invoke_id, &src, first);
    i61_model_unlock(m);
    free(nvl_names);
    free(log_names);
}

/* ------------------------------------------------------------- GVAA */

static const i61_mvar *i61_srv_lookup(i61_model *m, const i61_mms_name *n)
{
    if (n->scope != I61_MMS_SCOPE_DOMAIN)
        return NULL;
    i61_mnode *ld = i61_model_domain(m, n->domain);
    if (!ld)
        return NULL;
    return i61_model_var(m, ld, n->item);
}

static void i61_srv_gvaa(i61_sconn *c, const i61_mms_request *rq)
{
    i61_mms_name name;
    if (i61_mms_dec_gvaa_req(rq, &name) != I61_OK) {
        i61_srv_reject(c, true, rq->invoke_id, I61_MMS_REJECT_CONFIRMED_REQUEST,
                       I61_MMS_REJECT_INVALID_ARGUMENT);
        return;
    }
    i61_model *m = c->srv->model;
    i61_typespec *ts = NULL;
    int rc = I61_ERR_OBJECT_DOES_NOT_EXIST;
    i61_model_lock(m);
    if (i61_model_prepare(m) == I61_OK) {
        const i61_mvar *v = i61_srv_lookup(m, &name);
        if (v)
            rc = i61_model_var_typespec(v, &ts);
    } else {
        rc = I61_ERR_UNKNOWN;
    }
    i61_model_unlock(m);
    if (rc == I61_ERR_OBJECT_DOES_NOT_EXIST) {
        i61_srv_error(c, rq->invoke_id, I61_MMS_ERRCLASS_ACCESS, 2);
    } else if (rc != I61_OK) {
        i61_srv_error(c, rq->invoke_id, I61_MMS_ERRCLASS_RESOURCE, 0);
    } else {
        i61_buf_reset(&c->pdu);
        i61_mms_enc_gvaa_resp(&c->pdu, rq->invoke_id, false, ts);
        i61_srv_send_checked(c, rq->invoke_id);
    }
    i61_typespec_free(ts);
}

/* ------------------------------------------------- read/write elements */

static void i61_srv_resolve(i61_model *m, const i61_mms_var *mv, i61_selem *e)
{
    memset(e, 0, sizeof *e);
    e->fc = I61_FC_NONE;
    e->dae = -1;
    const i61_mvar *v = i61_srv_lookup(m, &mv->name);
    if (!v) {
        e->dae = 10;                               /* object-non-existent */
        return;
    }
    if (mv->alt_unsupported) {
        e->dae = 9;                                /* object-access-unsupported */
        return;
    }
    e->ln = v->ln;
    e->node = v->node;
    e->fc = v->fc;
    e->has_index = mv->has_index;
    e->index = mv->index;
}

static i61_mvar i61_selem_var(const i61_selem *e)
{
    i61_mvar v;
    v.name = NULL;
    v.ln = e->ln;
    v.node = e->node;
    v.fc = e->fc;
    return v;
}

static void i61_selem_aa(const i61_selem *e, const char *component, i61_maccess *aa)
{
    aa->has_index = e->has_index;
    aa->index = e->index;
    aa->component = component;
}

/* ----------------------------------------------------- deferred requests */

typedef struct i61_slot_vec {
    i61_sslot *v;
    size_t n, cap;
    size_t cur_elem;
    bool is_write;
    bool oom;
} i61_slot_vec;

static void i61_collect_slot(void *ctx, const i61_mhook *h)
{
    i61_slot_vec *sv = ctx;
    if (sv->oom)
        return;
    if (sv->n == sv->cap) {
        size_t nc = sv->cap ? sv->cap * 2 : 4;
        if (nc > I61_SRV_MAX_SLOTS) {
            sv->oom = true;
            return;
        }
        i61_sslot *p = realloc(sv->v, nc * sizeof *p);
        if (!p) {
            sv->oom = true;
            return;
        }
        sv->v = p;
        sv->cap = nc;
    }
    i61_sslot *s = &sv->v[sv->n++];
    s->elem = sv->cur_elem;
    s->is_write = sv->is_write;
    s->queued = h->queued;
    s->fn = h->fn;
    s->userdata = h->userdata;
    s->result = I61_HOOK_DEFER;
    s->sev_kind = 0;                               /* sgcb: set by the caller for SG handlers */
}

static void i61_req_free(i61_sreq *r)
{
    if (!r)
        return;
    if (r->el)
        for (size_t i = 0; i < r->n; i++)
            free(r->el[i].component);
    free(r->el);
    i61_mms_values_free(r->values, r->values ? r->n : 0);
    i61_mms_access_spec_clear(&r->spec);
    free(r->slots);
    free(r);
}

/* Unlinks r from the token buckets, the request list and the ready list
 * (srv->mu held). */
static void i61_req_unlink(i61_server *s, i61_sreq *r)
{
    i61_sreq **pp = &s->buckets[r->serial % I61_SRV_TOKEN_BUCKETS];
    while (*pp && *pp != r)
        pp = &(*pp)->next;
    if (*pp)
        *pp = r->next;
    pp = &s->reqs;
    while (*pp && *pp != r)
        pp = &(*pp)->all_next;
    if (*pp)
        *pp = r->all_next;
    if (r->ready) {
        pp = &s->ready;
        while (*pp && *pp != r)
            pp = &(*pp)->ready_next;
        if (*pp)
            *pp = r->ready_next;
        r->ready = false;
    }
}

/* Records a slot answer (srv->mu held). */
static void i61_slot_answer(i61_sreq *r, size_t slot, int result)
{
    i61_sslot *s = &r->slots[slot];
    if (s->result != I61_HOOK_DEFER)
        return;
    s->result = result;
    i61_selem *e = &r->el[s->elem];
    e->waiting--;
    if (result >= 0 && e->dae < 0)
        e->dae = result;
    r->waiting--;
}

/* Encodes and sends the response of a finished request (I/O thread, no lock). */
static void i61_req_respond(i61_sreq *r)
{
    i61_sconn *c = r->conn;
    i61_server *s = c->srv;
    i61_model *m = s->model;
    i61_buf_reset(&c->pdu);
    i61_model_lock(m);
    if (r->service == I61_MMS_SVC_WRITE) {
        int *dae = malloc((r->n ? r->n : 1) * sizeof *dae);
        if (!dae) {
            i61_model_unlock(m);
            c->close_now = true;
            return;
        }
        for (size_t i = 0; i < r->n; i++) {
            i61_selem *e = &r->el[i];
            if (e->dae < 0 && !e->applied && e->cbx_deferred) {
                /* sgcb: a setting group handler accepted */
                e->dae = i61_srv_sgcb_apply(c, e->node, r->values[i]);
            } else if (e->dae < 0 && !e->applied) {
                i61_mvar v = i61_selem_var(e);
                i61_maccess aa;
                i61_selem_aa(e, e->component, &aa);
                e->dae = i61_model_apply_write(m, &v, &aa, r->values[i]);
            }
            dae[i] = e->dae;
        }
        i61_model_unlock(m);
        i61_mms_enc_write_resp(&c->pdu, r->invoke_id, dae, r->n);
        free(dae);
        i61_srv_send(c);
        return;
    }
    /* read: values with per-element errors */
    i61_value **res = calloc(r->n ? r->n : 1, sizeof *res);
    bool oom = res == NULL;
    for (size_t i = 0; i < r->n && !oom; i++) {
        i61_selem *e = &r->el[i];
        int dae = e->dae;
        if (dae < 0) {
            i61_mvar v = i61_selem_var(e);
            i61_maccess aa;
            i61_selem_aa(e, e->component, &aa);
            dae = i61_model_read_var_value(&v, &aa, &res[i]);
        }
        if (dae >= 0)
            res[i] = i61_value_new_data_access_error(dae);
        if (!res[i])
            oom = true;
    }
    i61_model_unlock(m);
    if (!oom)
        i61_mms_enc_read_resp(&c->pdu, r->invoke_id, r->spec_with_result ? &r->spec : NULL,
                              (const i61_value *const *)res, r->n);
    if (res)
        for (size_t i = 0; i < r->n; i++)
            i61_value_free(res[i]);
    free(res);
    if (oom) {
        i61_srv_error(c, r->invoke_id, I61_MMS_ERRCLASS_RESOURCE, 0);
        return;
    }
    i61_srv_send_checked(c, r->invoke_id);
}

/* Request finished: answer if the connection is still there, free. */
static void i61_req_finish(i61_server *s, i61_sreq *r)
{
    if (r->conn) {
        r->conn->outstanding--;
        i61_req_respond(r);
    }
    (void)s;
    i61_req_free(r);
}

void i61_srv_free_all_reqs(i61_server *s)
{
    pthread_mutex_lock(&s->mu);
    i61_sreq *r = s->reqs;
    s->reqs = NULL;
    s->ready = NULL;
    memset(s->buckets, 0, sizeof s->buckets);
    pthread_mutex_unlock(&s->mu);
    while (r) {
        i61_sreq *nx = r->all_next;
        i61_req_free(r);
        r = nx;
    }
}

void i61_srv_run_ready(i61_server *s)
{
    for (;;) {
        pthread_mutex_lock(&s->mu);
        i61_sreq *r = s->ready;
        if (r)
            i61_req_unlink(s, r);
        pthread_mutex_unlock(&s->mu);
        if (!r)
            break;
        i61_req_finish(s, r);
    }
}

uint64_t i61_srv_sweep_timeouts(i61_server *s, uint64_t now_ms)
{
    uint64_t next = 0;
    bool any_ready = false;
    pthread_mutex_lock(&s->mu);
    i61_sreq **pp = &s->reqs;
    while (*pp) {
        i61_sreq *r = *pp;
        if (r->waiting > 0 && r->deadline_ms <= now_ms) {
            for (size_t k = 0; k < r->nslots; k++)
                i61_slot_answer(r, k, 2);          /* temporarily-unavailable */
        }
        if (r->waiting == 0 && !r->conn) {
            i61_req_unlink(s, r);                  /* orphan: nothing to send */
            i61_req_free(r);
            continue;                              /* *pp now designates the next one */
        }
        if (r->waiting == 0 && !r->ready) {
            r->ready = true;
            r->ready_next = s->ready;
            s->ready = r;
            any_ready = true;
        }
        if (r->waiting > 0 && (next == 0 || r->deadline_ms < next))
            next = r->deadline_ms;
        pp = &r->all_next;
    }
    pthread_mutex_unlock(&s->mu);
    if (any_ready)
        i61_srv_run_ready(s);
    return next;
}

void i61_srv_conn_gone(i61_server *s, i61_sconn *c)
{
    i61_srv_file_conn_gone(s, c);                  /* its open files, its ObtainFile */
    i61_srv_rcb_conn_gone(s, c);                   /* its RCBs (before its data sets) */
    i61_srv_ctl_conn_gone(s, c);                   /* its selections and commands */
    i61_srv_sgcb_conn_gone(s, c);                  /* sgcb/gocb: its SGCB edits, USVCB Resv */
    i61_nvl_drop_conn(s->model, c->id);            /* its aa-specific data sets */
    pthread_mutex_lock(&s->mu);
    i61_sreq **pp = &s->reqs;
    while (*pp) {
        i61_sreq *r = *pp;
        if (r->conn == c) {
            r->conn = NULL;
            if (r->waiting == 0) {
                i61_req_unlink(s, r);
                i61_req_free(r);
                continue;
            }
        }
        pp = &r->all_next;
    }
    pthread_mutex_unlock(&s->mu);
}

int i61_srv_complete(i61_server *s, uint64_t token, int result, bool is_write)
{
    if (!s || !(result == I61_HOOK_ACCEPT || (result >= 0 && result <= 11)))
        return I61_ERR_INVALID_ARGUMENT;
    uint64_t serial = token >> 20;
    size_t slot = (size_t)(token & (I61_SRV_MAX_SLOTS - 1));
    int rc = I61_ERR_OBJECT_DOES_NOT_EXIST;
    bool wake = false;
    pthread_mutex_lock(&s->mu);
    i61_sreq *r = s->buckets[serial % I61_SRV_TOKEN_BUCKETS];
    while (r && r->serial != serial)
        r = r->next;
    if (r && slot < r->nslots && r->slots[slot].is_write == is_write &&
        r->slots[slot].result == I61_HOOK_DEFER) {
        i61_slot_answer(r, slot, result);
        rc = r->conn ? I61_OK : I61_ERR_CONNECTION_LOST;
        if (r->waiting == 0) {
            if (!r->conn) {
                i61_req_unlink(s, r);
                i61_req_free(r);
            } else if (!r->ready) {
                r->ready = true;
                r->ready_next = s->ready;
                s->ready = r;
                wake = true;
            }
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (wake && s->wake)
        s->wake(s);
    return rc;
}

/* Registers r, calls its hooks (no lock held), and finishes it at once if
 * every hook answered synchronously. refs[i]: client reference of element i. */
static void i61_req_start(i61_server *s, i61_sreq *r, char (*refs)[I61_MMS_NAME_MAX + 1])
{
    pthread_mutex_lock(&s->mu);
    r->serial = ++s->next_serial;
    /* Registered before the hooks run, so that a completion from another
     * thread finds it. While the calls run, r->ready is set so that such a
     * completion does not queue it: this function finishes it below. */
    r->next = s->buckets[r->serial % I61_SRV_TOKEN_BUCKETS];
    s->buckets[r->serial % I61_SRV_TOKEN_BUCKETS] = r;
    r->all_next = s->reqs;
    s->reqs = r;
    r->ready = true;                           /* not queued: blocks i61_srv_complete queuing */
    r->deadline_ms = i61_mono_ms() + s->hook_timeout_ms;
    pthread_mutex_unlock(&s->mu);
    r->conn->outstanding++;

    for (size_t k = 0; k < r->nslots; k++) {
        i61_sslot *sl = &r->slots[k];
        uint64_t token = r->serial << 20 | (uint64_t)k;
        const i61_selem *e = &r->el[sl->elem];
        int res;
        if (sl->sev_kind) {                    /* sgcb: a setting group handler */
            res = i61_srv_sgcb_queue(s, r->conn->id, token, sl->sev_kind, e->node,
                                     r->values[sl->elem], sl->userdata)
                      ? I61_HOOK_DEFER
                      : 2;                     /* queue full: temporarily-unavailable */
        } else if (sl->queued) {
            i61_value *copy = NULL;
            if (sl->is_write) {
                copy = i61_value_clone(r->values[sl->elem]);
            }
            bool ok = (!sl->is_write || copy) &&
                      i61_srv_push_event(s, sl->is_write ? I61_SEV_WRITE : I61_SEV_READ,
                                         r->conn->id, token, e->fc, sl->userdata, copy,
                                         refs[sl->elem]);
            if (!ok && sl->is_write && !copy)
                i61_value_free(copy);
            res = ok ? I61_HOOK_DEFER : 2;     /* queue full: temporarily-unavailable */
        } else if (sl->is_write)
            res = ((i61_write_hook)sl->fn)(sl->userdata, token, r->conn->id, refs[sl->elem], e->fc,
                                           r->values[sl->elem]);
        else
            res = ((i61_read_hook)sl->fn)(sl->userdata, token, r->conn->id, refs[sl->elem], e->fc);
        if (res == I61_HOOK_DEFER)
            continue;
        if (!(res == I61_HOOK_ACCEPT || (res >= 0 && res <= 11)))
            res = 1;                           /* a bad hook answer: hardware-fault */
        pthread_mutex_lock(&s->mu);
        i61_slot_answer(r, k, res);
        pthread_mutex_unlock(&s->mu);
    }

    pthread_mutex_lock(&s->mu);
    r->ready = false;
    bool done = r->waiting == 0;
    uint64_t deadline = r->deadline_ms;
    if (done)
        i61_req_unlink(s, r);
    pthread_mutex_unlock(&s->mu);
    if (done)
        i61_req_finish(s, r);
    else if (s->arm_sweep)
        s->arm_sweep(s, deadline);
}

/* ------------------------------------------------------------- read */

static void i61_srv_read(i61_sconn *c, const i61_mms_request *rq)
{
    bool swr = false;
    i61_mms_access_spec spec;
    if (i61_mms_dec_read_req(rq, &swr, &spec) != I61_OK) {
        i61_srv_reject(c, true, rq->invoke_id, I61_MMS_REJECT_CONFIRMED_REQUEST,
                       I61_MMS_REJECT_INVALID_ARGUMENT);
        return;
    }
    if (spec.is_nvl) {
        /* data set: read its members; the echo keeps the list name (srv_nvl.c) */
        i61_model_lock(c->srv->model);
        int xrc = i61_nvl_expand(c->srv->model, c->id, &spec);
        i61_model_unlock(c->srv->model);
        if (xrc != I61_OK) {
            i61_mms_access_spec_clear(&spec);
            if (xrc == I61_ERR_OBJECT_DOES_NOT_EXIST)
                i61_srv_error(c, rq->invoke_id, I61_MMS_ERRCLASS_ACCESS, 2);   /* no such list */
            else
                i61_srv_error(c, rq->invoke_id, I61_MMS_ERRCLASS_RESOURCE, 0);
            return;
        }
    }
    i61_server *s = c->srv;
    i61_model *m = s->model;
    size_t n = spec.n_vars;
    i61_selem *el = calloc(n ? n : 1, sizeof *el);
    if (!el) {
        i61_mms_access_spec_clear(&spec);
        i61_srv_error(c, rq->invoke_id, I61_MMS_ERRCLASS_RESOURCE, 0);
        return;
    }
    i61_model_lock(m);
    if (i61_model_prepare(m) != I61_OK) {
        i61_model_unlock(m);
        free(el);
        i61_mms_access_spec_clear(&spec);
        i61_srv_error(c, rq->invoke_id, I61_MMS_ERRCLASS_RESOURCE, 0);
        return;
    }
    for (size_t i = 0; i < n; i++)
        i61_srv_resolve(m, &spec.vars[i], &el[i]);

    if (n == 1 && !swr && !spec.is_nvl && el[0].dae < 0 && !spec.vars[0].has_index &&
        !spec.vars[0].component[0] && i61_srv_ctl_is_target(el[0].node, el[0].fc, false)) {
        /* Read of SBO: a select (sbo-normal), answered by the control engine */
        i61_srv_ctl_read_sbo(c, rq->invoke_id, el[0].node);
        i61_model_unlock(m);
        free(el);
        i61_mms_access_spec_clear(&spec);
        return;
    }

    i61_slot_vec sv = {NULL, 0, 0, 0, false, false};
    if (m->nhooks > 0) {
        for (size_t i = 0; i < n; i++) {
            if (el[i].dae >= 0)
                continue;
            i61_mvar v = i61_selem_var(&el[i]);
            sv.cur_elem = i;
            size_t before = sv.n;
            i61_model_var_hooks(&v, false, i61_collect_slot, &sv);
            el[i].waiting = (int)(sv.n - before);
        }
    }
    if (sv.oom) {
        i61_model_unlock(m);
        free(sv.v);
        free(el);
        i61_mms_access_spec_clear(&spec);
        i61_srv_error(c, rq->invoke_id, I61_MMS_ERRCLASS_RESOURCE, 0);
        return;
    }

    if (sv.n == 0 && !swr) {
        /* fast path: encode straight from the model */
        i61_buf *b = &c->pdu;
        i61_buf_reset(b);
        size_t mk = i61_ber_open(b, 0xa1);
        i61_ber_put_uint64(b, 0x02, rq->invoke_id);
        size_t sk = i61_ber_open(b, 0xa4);
        size_t lk = i61_ber_open(b, 0xa1);
        for (size_t i = 0; i < n; i++) {
            int dae = el[i].dae;
            if (dae < 0) {
                i61_mvar v = i61_selem_var(&el[i]);
                i61_maccess aa;
                i61_selem_aa(&el[i], spec.vars[i].component, &aa);
                dae = i61_model_read_var(b, &v, &aa);
            }
            if (dae >= 0)
                i61_ber_put_int64(b, 0x80, dae);
        }
        i61_ber_close(b, lk);
        i61_ber_close(b, sk);
        i61_ber_close(b, mk);
        i61_model_unlock(m);
        free(el);
        i61_mms_access_spec_clear(&spec);
        i61_srv_send_checked(c, rq->invoke_id);
        return;
    }

    /* with hooks, or with the specification echoed: through a request object */
    i61_sreq *r = calloc(1, sizeof *r);
    char (*refs)[I61_MMS_NAME_MAX + 1] = calloc(n ? n : 1, sizeof *refs);
    bool oom = !r || !refs;
    for (size_t i = 0; i < n && !oom; i++) {
        if (spec.vars[i].component[0]) {
            el[i].component = strdup(spec.vars[i].component);
            oom = el[i].component == NULL;
        }
        if (!oom && el[i].node && el[i].waiting > 0) {
            i61_mvar v = i61_selem_var(&el[i]);
            i61_model_var_ref(&v, refs[i], sizeof refs[i]);
        }
    }
    i61_model_unlock(m);
    if (oom) {
        if (r) {
            r->el = el;
            r->n = n;
        } else {
            for (size_t i = 0; i < n; i++)
                free(el[i].component);
            free(el);
        }
        i61_req_free(r);
        free(refs);
        free(sv.v);
        i61_mms_access_spec_clear(&spec);
        i61_srv_error(c, rq->invoke_id, I61_MMS_ERRCLASS_RESOURCE, 0);
        return;
    }
    r->conn = c;
    r->invoke_id = rq->invoke_id;
    r->service = I61_MMS_SVC_READ;
    r->n = n;
    r->el = el;
    r->spec_with_result = swr;
    r->spec = spec;                            /* ownership moves */
    r->slots = sv.v;
    r->nslots = sv.n;
    r->waiting = sv.n;
    i61_req_start(s, r, refs);
    free(refs);
}

/* ------------------------------------------------------------- write */

static void i61_srv_write(i61_sconn *c, const i61_mms_request *rq)
{
    i61_mms_access_spec spec;
    i61_value **values = NULL;
    size_t nv = 0;
    if (i61_mms_dec_write_req(rq, &spec, &values, &nv) != I61_OK) {
        i61_srv_reject(c, true, rq->invoke_id, I61_MMS_REJECT_CONFIRMED_REQUEST,
                       I61_MMS_REJECT_INVALID_ARGUMENT);
        return;
    }
    if (spec.is_nvl) {
        /* data set: write its members in order (srv_nvl.c) */
        i61_model_lock(c->srv->model);
        int xrc = i61_nvl_expand(c->srv->model, c->id, &spec);
        i61_model_unlock(c->srv->model);
        if (xrc != I61_OK || spec.n_vars != nv) {
            i61_mms_values_free(values, nv);
            i61_mms_access_spec_clear(&spec);
            if (xrc == I61_ERR_OBJECT_DOES_NOT_EXIST)
                i61_srv_error(c, rq->invoke_id, I61_MMS_ERRCLASS_ACCESS, 2);   /* no such list */
            else if (xrc == I61_OK)
                i61_srv_error(c, rq->invoke_id, I61_MMS_ERRCLASS_DEFINITION, 4); /* type-inconsistent */
            else
                i61_srv_error(c, rq->invoke_id, I61_MMS_ERRCLASS_RESOURCE, 0);
            return;
        }
    }
    if (nv != spec.n_vars) {
        i61_mms_values_free(values, nv);
        i61_mms_access_spec_clear(&spec);
        i61_srv_reject(c, true, rq->invoke_id, I61_MMS_REJECT_CONFIRMED_REQUEST,
                       I61_MMS_REJECT_INVALID_ARGUMENT);
        return;
    }
    i61_server *s = c->srv;
    i61_model *m = s->model;
    uint32_t writable = __atomic_load_n(&s->writable_mask, __ATOMIC_RELAXED);
    size_t n = nv;
    i61_selem *el = calloc(n ? n : 1, sizeof *el);
    int *dae = calloc(n ? n : 1, sizeof *dae);
    if (!el || !dae) {
        free(el);
        free(dae);
        i61_mms_values_free(values, nv);
        i61_mms_access_spec_clear(&spec);
        i61_srv_error(c, rq->invoke_id, I61_MMS_ERRCLASS_RESOURCE, 0);
        return;
    }
    i61_model_lock(m);
    int prc = i61_model_prepare(m);
    if (prc == I61_OK && n == 1 && !spec.is_nvl) {
        i61_srv_resolve(m, &spec.vars[0], &el[0]);
        if (el[0].dae < 0 && !spec.vars[0].has_index && !spec.vars[0].component[0] &&
            i61_srv_ctl_is_target(el[0].node, el[0].fc, true)) {
            /* Oper / SBOw / Cancel: answered by the control engine */
            i61_srv_ctl_write(c, rq->invoke_id, el[0].node, values[0]);
            i61_model_unlock(m);
            free(el);
            free(dae);
            i61_mms_values_free(values, nv);
            i61_mms_access_spec_clear(&spec);
            return;
        }
    }
    i61_slot_vec sv = {NULL, 0, 0, 0, true, false};
    for (size_t i = 0; i < n && prc == I61_OK; i++) {
        i61_srv_resolve(m, &spec.vars[i], &el[i]);
        if (el[i].dae >= 0)
            continue;
        if (el[i].node->rcb_attr && el[i].node->parent && el[i].node->parent->rcb &&
            !spec.vars[i].has_index && !spec.vars[i].component[0]) {
            /* a report control block attribute: the reporting engine decides */
            el[i].dae = i61_srv_rcb_write(c, el[i].node, values[i]);
            el[i].applied = true;
            continue;
        }
        if (el[i].node->lcb_attr && el[i].node->parent && el[i].node->parent->lcb &&
            !spec.vars[i].has_index && !spec.vars[i].component[0]) {
            /* logs: a log control block attribute (srv_log.c) decides */
            el[i].dae = i61_srv_lcb_write(c, el[i].node, values[i]);
            el[i].applied = true;
            continue;
        }
        {   /* sgcb/gocb: SGCB, GoCB, SVCB and SE variables (srv_sgcb.c) */
            int sev_kind = 0;
            void *sev_ud = NULL;
            int xd = i61_srv_cbx_write(c, &el[i], &spec.vars[i], values[i], &sev_kind, &sev_ud);
            if (xd == I61_HOOK_DEFER) {
                i61_mhook h = {.fc = el[i].fc, .is_write = true, .queued = true,
                               .userdata = sev_ud};
                sv.cur_elem = i;
                i61_collect_slot(&sv, &h);
                if (!sv.oom) {
                    sv.v[sv.n - 1].sev_kind = sev_kind;
                    el[i].waiting = 1;
                    el[i].cbx_deferred = true;
                }
                continue;
            }
            if (xd != I61_CBX_NOT_MINE) {
                el[i].dae = xd;
                el[i].applied = true;
                continue;
            }
        }
        i61_mvar v = i61_selem_var(&el[i]);
        i61_maccess aa;
        i61_selem_aa(&el[i], spec.vars[i].component, &aa);
        el[i].dae = i61_model_check_write(&v, &aa, values[i], writable);
        if (el[i].dae < 0 && m->nhooks > 0) {
            sv.cur_elem = i;
            size_t before = sv.n;
            i61_model_var_hooks(&v, true, i61_collect_slot, &sv);
            el[i].waiting = (int)(sv.n - before);
        }
    }
    if (prc != I61_OK || sv.oom) {
        i61_model_unlock(m);
        free(sv.v);
        free(el);
        free(dae);
        i61_mms_values_free(values, nv);
        i61_mms_access_spec_clear(&spec);
        i61_srv_error(c, rq->invoke_id, I61_MMS_ERRCLASS_RESOURCE, 0);
        return;
    }
    if (sv.n == 0) {
        /* fast path: apply now, in request order */
        for (size_t i = 0; i < n; i++) {
            if (el[i].dae < 0 && !el[i].applied) {
                i61_mvar v = i61_selem_var(&el[i]);
                i61_maccess aa;
                i61_selem_aa(&el[i], spec.vars[i].component, &aa);
                el[i].dae = i61_model_apply_write(m, &v, &aa, values[i]);
            }
            dae[i] = el[i].dae;
        }
        i61_model_unlock(m);
        i61_buf_reset(&c->pdu);
        i61_mms_enc_write_resp(&c->pdu, rq->invoke_id, dae, n);
        free(el);
        free(dae);
        i61_mms_values_free(values, nv);
        i61_mms_access_spec_clear(&spec);
        i61_srv_send_checked(c, rq->invoke_id);
        return;
    }
    free(dae);
    i61_sreq *r = calloc(1, sizeof *r);
    char (*refs)[I61_MMS_NAME_MAX + 1] = calloc(n, sizeof *refs);
    bool oom = !r || !refs;
    for (size_t i = 0; i < n && !oom; i++) {
        if (spec.vars[i].component[0]) {
            el[i].component = strdup(spec.vars[i].component);
            oom = el[i].component == NULL;
        }
        if (!oom && el[i].waiting > 0) {
            i61_mvar v = i61_selem_var(&el[i]);
            i61_model_var_ref(&v, refs[i], sizeof refs[i]);
        }
    }
    i61_model_unlock(m);
    i61_mms_access_spec_clear(&spec);
    if (oom) {
        if (r) {
            r->el = el;
            r->n = n;
            r->values = values;
        } else {
            for (size_t i = 0; i < n; i++)
                free(el[i].component);
            free(el);
            i61_mms_values_free(values, nv);
        }
        i61_req_free(r);
        free(refs);
        free(sv.v);
        i61_srv_error(c, rq->invoke_id, I61_MMS_ERRCLASS_RESOURCE, 0);
        return;
    }
    r->conn = c;
    r->invoke_id = rq->invoke_id;
    r->service = I61_MMS_SVC_WRITE;
    r->n = n;
    r->el = el;
    r->values = values;
    r->slots = sv.v;
    r->nslots = sv.n;
    r->waiting = sv.n;
    i61_req_start(s, r, refs);
    free(refs);
}

/* ------------------------------------------------------------ dispatch */

static void i61_srv_request(i61_sconn *c, const uint8_t *pdu, size_t len)
{
    i61_mms_request rq;
    i61_server *s = c->srv;
    if (i61_mms_dec_request(pdu, len, &rq) != I61_OK) {
        /* no usable service element: invalid PDU (answered, never silently dropped) */
        i61_srv_reject(c, rq.has_invoke_id, rq.invoke_id, I61_MMS_REJECT_PDU_ERROR,
                       I61_MMS_REJECT_INVALID_PDU);
        return;
    }
    if (c->outstanding >= c->max_outstanding) {
        i61_srv_reject(c, true, rq.invoke_id, I61_MMS_REJECT_CONFIRMED_REQUEST, 6);
        return;
    }
    switch (rq.service) {
    case I61_MMS_SVC_STATUS: {
        bool ext;
        if (i61_mms_dec_status_req(&rq, &ext) != I61_OK) {
            i61_srv_reject(c, true, rq.invoke_id, I61_MMS_REJECT_CONFIRMED_REQUEST,
                           I61_MMS_REJECT_INVALID_ARGUMENT);
            return;
        }
        i61_buf_reset(&c->pdu);
        i61_mms_enc_status_resp(&c->pdu, rq.invoke_id, 0, 0);
        i61_srv_send(c);
        return;
    }
    case I61_MMS_SVC_IDENTIFY: {
        if (rq.body.id != 0x82 || rq.body.len != 0) {
            i61_srv_reject(c, true, rq.invoke_id, I61_MMS_REJECT_CONFIRMED_REQUEST,
                           I61_MMS_REJECT_INVALID_ARGUMENT);
            return;
        }
        i61_buf_reset(&c->pdu);
        pthread_mutex_lock(&s->mu);
        i61_mms_enc_identify_resp(&c->pdu, rq.invoke_id, s->vendor, s->model_name, s->revision);
        pthread_mutex_unlock(&s->mu);
        i61_srv_send_checked(c, rq.invoke_id);
        return;
    }
    case I61_MMS_SVC_GET_NAME_LIST:
        i61_srv_get_name_list(c, &rq);
        return;
    case I61_MMS_SVC_GVAA:
        i61_srv_gvaa(c, &rq);
        return;
    case I61_MMS_SVC_READ:
        i61_srv_read(c, &rq);
        return;
    case I61_MMS_SVC_WRITE:
        i61_srv_write(c, &rq);
        return;
    case I61_MMS_SVC_DEFINE_NVL:                   /* data sets: srv_nvl.c */
        i61_srv_define_nvl(c, &rq);
        return;
    case I61_MMS_SVC_GET_NVL_ATTR:
        i61_srv_get_nvl_attr(c, &rq);
        return;
    case I61_MMS_SVC_DELETE_NVL:
        i61_srv_delete_nvl(c, &rq);
        return;
    case I61_MMS_SVC_READ_JOURNAL:                 /* logs: srv_log.c */
        i61_srv_read_journal(c, &rq);
        return;
    default:
        if (i61_mms_is_file_service(rq.service)) {   /* file store: srv_file.c */
            i61_srv_file_request(c, &rq);
            return;
        }
        i61_srv_reject(c, true, rq.invoke_id, I61_MMS_REJECT_CONFIRMED_REQUEST,
                       I61_MMS_REJECT_UNRECOGNIZED_SERVICE);
        return;
    }
}

void i61_srv_mms_pdu(i61_sconn *c, const uint8_t *pdu, size_t len)
{
    if (len == 0) {
        i61_srv_reject(c, false, 0, I61_MMS_REJECT_PDU_ERROR, I61_MMS_REJECT_INVALID_PDU);
        return;
    }
    uint32_t id = 0;
    int kind = 0;
    bool has_id;
    switch (pdu[0]) {
    case 0xa0:
        i61_srv_request(c, pdu, len);
        return;
    case 0x8b: {
        int k = 0;
        if (i61_conclude_decode(pdu, len, &k) != I61_OK || k != I61_MMS_CONCLUDE_REQUEST) {
            i61_srv_reject(c, false, 0, 9, 1);     /* conclude-requestPDU invalid-argument */
            return;
        }
        i61_buf_reset(&c->pdu);
        if (c->outstanding > 0)                    /* deferred requests still running */
            i61_conclude_write_error(&c->pdu, 1);  /* conclude further-communication-required */
        else
            i61_conclude_write_response(&c->pdu);
        i61_srv_send(c);
        return;
    }
    case 0xa1:
    case 0xa2:
        /* answers to the requests of an ObtainFile (srv_file.c); others are
         * not ours */
        if (i61_srv_file_response(c, pdu, len))
            return;
        has_id = i61_mms_pdu_invoke_id(pdu, len, &id, &kind) == I61_OK &&
                 id != I61_MMS_NO_INVOKE_ID;
        /* confirmed-responsePDU [2] / confirmed-errorPDU [3]: 2 = invalid-invokeID */
        i61_srv_reject(c, has_id, id, pdu[0] == 0xa1 ? 2 : 3, 2);
        return;
    case 0xa3:
        i61_srv_reject(c, false, 0, 4, 1);         /* unconfirmedPDU unrecognized-service */
        return;
    case 0x85:
        i61_srv_reject(c, false, 0, 6, 1);         /* cancel-requestPDU invalid-invokeID */
        return;
    case 0xa4:                                     /* a reject from the client: never answered */
        i61_srv_file_response(c, pdu, len);        /* (it may refuse an ObtainFile request) */
        return;
    default:
        i61_srv_reject(c, false, 0, I61_MMS_REJECT_PDU_ERROR, 0);   /* unknown-pdu-type */
        return;
    }
}
