/* ACSI client: the control model (i61.h "control", PROTOCOL.md section 12).
 *
 *  - i61_control: one controllable data object. create reads ctlModel [CF]
 *    and the type of LN$CO$DO$Oper; select reads LN$CO$DO$SBO (sbo-normal),
 *    select_with_value writes SBOw (sbo-enhanced), operate writes Oper,
 *    cancel writes Cancel. The command structure is built by mms_control.c.
 *  - Control reports arriving on the I/O thread (acsi_report.c hands every
 *    unconfirmed PDU that is not an "RPT" to i61_client_controls_on_unconfirmed):
 *    a LastApplError updates the control objects of that data object; a
 *    CommandTermination updates them too and is queued as an i61_ctl_event.
 *
 * Threads. The per-client i61_ctlq holds the event queue, the registry of
 * live control objects and their LastApplError fields, all under q->mu. The
 * I/O thread takes q->mu only briefly and never blocks. The rest of a
 * control object belongs to the one thread using it.
 *
 * A refusal is answered by servers with a LastApplError InformationReport
 * first and the negative Write response second; the association delivers
 * unconfirmed PDUs that arrived before an answer before the caller sees the
 * answer (assoc.c), so "a LastApplError for this object with this ctlNum
 * received since the request was sent" is exactly the one that goes with
 * the refusal.
 */
#include "client_internal.h"
#include "reference.h"
#include "../mms/mms_control.h"
#include "../mms/mms_report.h"
#include "../net/loop.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define I61_CTL_EVENT_QUEUE_DEFAULT 4096u
#define I61_CTL_TEXT 512
/* After a refusal that came without a LastApplError: how long to wait for
 * one that follows the negative response (the Rust iec61850 server sends
 * [LastApplError, Oper] after it), and how long such a late report is taken
 * as belonging to the refusal rather than as a CommandTermination-. */
#define I61_CTL_LAE_GRACE_MS 200
#define I61_CTL_LAE_LATE_MS 2000

struct i61_ctl_event {
    char ref[I61_REF_MAX + 1];  /* "LD/LN.DO" */
    bool success;
    i61_value *oper;            /* owned */
    int ctl_num;
    bool has_lae;
    i61_last_appl_error lae;
    struct i61_ctl_event *next;
};

typedef struct i61_ctlq {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct i61_ctl_event *head, *tail;
    size_t count;
    size_t limit;
    bool interrupted;
    uint64_t dropped;
    uint64_t malformed;
    i61_control *controls;      /* registry of live control objects */
    uint64_t lae_clock;         /* LastApplErrors routed so far */
    pthread_cond_t lae_cv;      /* broadcast on each routed LastApplError and state change */
} i61_ctlq;

struct i61_control {
    i61_client *c;              /* NULL once the client is gone */
    i61_control *next;          /* registry link (q->mu) */
    char ref[I61_REF_MAX + 1];  /* "LD/LN.DO" */
    int model;
    i61_typespec *oper_spec;    /* owned, NULL when not known */
    const i61_typespec *ctl_val_spec;
    bool has_oper_tm;
    bool has_check;
    bool t_binary;              /* Ed1: T is a BinaryTime */
    int or_cat;
    uint8_t or_ident[I61_CTL_OR_IDENT_MAX];
    size_t or_ident_len;
    int ctl_num;                /* last sent */
    bool next_set;
    int next_num;
    bool test, interlock, synchro, constant_t;
    bool have_seq_t;
    uint8_t seq_t[8];
    i61_value *last_ctl_val;    /* for cancel */
    int last_err;
    char err_text[I61_CTL_TEXT];
    bool op_has_lae;
    i61_last_appl_error op_lae;
    /* under q->mu (written by the I/O thread) */
    bool has_lae;
    i61_last_appl_error lae;
    int lae_num;                /* the ctlNum lae is about (see route_lae) */
    uint64_t lae_seq;
    int inflight_num;           /* ctlNum of the command waiting for its answer, -1 none */
    struct i61_ctl_event *parked; /* a CommandTermination- for it that came meanwhile */
    int refused_num;            /* ctlNum of the last refused command, -1 none */
    uint64_t refused_until;     /* i61_mono_ms until which a late LastApplError belongs to it */
};

/* ------------------------------------------------------------ names */

static const char *add_cause_name(int a)
{
    static const char *const n[] = {
        "unknown", "not-supported", "blocked-by-switching-hierarchy", "select-failed",
        "invalid-position", "position-reached", "parameter-change-in-execution", "step-limit",
        "blocked-by-mode", "blocked-by-process", "blocked-by-interlocking",
        "blocked-by-synchrocheck", "command-already-in-execution", "blocked-by-health",
        "1-of-n-control", "abortion-by-cancel", "time-limit-over", "abortion-by-trip",
        "object-not-selected", "object-already-selected", "no-access-authority",
        "ended-with-overshoot", "abortion-due-to-deviation", "abortion-by-communication-loss",
        "blocked-by-command", "none", "inconsistent-parameters", "locked-by-other-client"
    };
    return a >= 0 && (size_t)a < sizeof n / sizeof n[0] ? n[a] : "unknown";
}

static const char *model_name(int m)
{
    static const char *const n[] = { "status-only", "direct-with-normal-security",
                                     "sbo-with-normal-security", "direct-with-enhanced-security",
                                     "sbo-with-enhanced-security" };
    return m >= 0 && m <= 4 ? n[m] : "?";
}

static bool name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
}

/* "LD/LN$CO$DO$SDO[$Oper|$SBOw|$Cancel|$SBO]" -> "LD/LN.DO.SDO" (names of
 * letters, digits and '_'). false when it is not a control object name. */
static bool mms_to_ref(const char *mms, char *out, size_t cap)
{
    size_t n = strlen(mms);
    const char *slash = strchr(mms, '/');
    if (!slash || n >= cap || slash == mms)
        return false;
    static const char *const tails[] = { "$Oper", "$SBOw", "$Cancel", "$SBO" };
    for (size_t i = 0; i < 4; i++) {
        size_t tl = strlen(tails[i]);
        if (n > tl && strcmp(mms + n - tl, tails[i]) == 0) {
            n -= tl;
            break;
        }
    }
    size_t ld = (size_t)(slash - mms);
    for (size_t i = 0; i < ld; i++)
        if (!name_char(mms[i]))
            return false;
    memcpy(out, mms, ld + 1);
    size_t o = ld + 1, i = ld + 1;
    while (i < n && name_char(mms[i]))          /* LN */
        out[o++] = mms[i++];
    if (i == ld + 1 || n - i < 5 || strncmp(mms + i, "$CO$", 4) != 0)
        return false;
    i += 4;
    out[o++] = '.';
    bool empty = true;                          /* no empty DO/SDO names */
    for (; i < n; i++) {
        if (mms[i] == '$') {
            if (empty)
                return false;
            out[o++] = '.';
            empty = true;
        } else if (name_char(mms[i])) {
            out[o++] = mms[i];
            empty = false;
        } else {
            return false;
        }
    }
    if (empty)
        return false;
    out[o] = '\0';
    return true;
}

/* ------------------------------------------------------------ lifecycle */

int i61_client_controls_init(i61_client *c)
{
    i61_ctlq *q = calloc(1, sizeof *q);
    if (!q)
        return I61_ERR_UNKNOWN;
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0) {
        free(q);
        return I61_ERR_UNKNOWN;
    }
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int bad = pthread_cond_init(&q->cv, &ca);
    if (!bad && pthread_cond_init(&q->lae_cv, &ca) != 0) {
        pthread_cond_destroy(&q->cv);
        bad = 1;
    }
    pthread_condattr_destroy(&ca);
    if (bad) {
        free(q);
        return I61_ERR_UNKNOWN;
    }
    if (pthread_mutex_init(&q->mu, NULL) != 0) {
        pthread_cond_destroy(&q->cv);
        pthread_cond_destroy(&q->lae_cv);
        free(q);
        return I61_ERR_UNKNOWN;
    }
    q->limit = I61_CTL_EVENT_QUEUE_DEFAULT;
    c->controls = q;
    return I61_OK;
}

void i61_client_controls_free(i61_client *c)
{
    i61_ctlq *q = c ? c->controls : NULL;
    if (!q)
        return;
    /* control objects outliving the client: detached, their calls fail */
    for (i61_control *k = q->controls; k; k = k->next)
        k->c = NULL;
    struct i61_ctl_event *e = q->head;
    while (e) {
        struct i61_ctl_event *next = e->next;
        i61_ctl_event_free(e);
        e = next;
    }
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    pthread_cond_destroy(&q->lae_cv);
    free(q);
    c->controls = NULL;
}

void i61_client_controls_on_state(i61_client *c, int state)
{
    (void)state;
    i61_ctlq *q = c->controls;
    pthread_mutex_lock(&q->mu);
    pthread_cond_broadcast(&q->cv);        /* waiters re-check the connection state */
    pthread_cond_broadcast(&q->lae_cv);
    pthread_mutex_unlock(&q->mu);
}

/* ------------------------------------------------------------ I/O thread */

/* Stores e as the LastApplError of every control object of ref (q->mu
 * held). num: the ctlNum it is about: the LastApplError's own, or, when the
 * report also carries the Oper structure, the Oper's (the Rust iec61850
 * server puts ctlNum 0 in its LastApplError). */
static void route_lae(i61_ctlq *q, const char *ref, const i61_last_appl_error *e, int num)
{
    q->lae_clock++;
    for (i61_control *k = q->controls; k; k = k->next)
        if (strcmp(k->ref, ref) == 0) {
            k->lae = *e;
            k->lae_num = num;
            k->has_lae = true;
            k->lae_seq = q->lae_clock;
        }
    pthread_cond_broadcast(&q->lae_cv);
}

/* A control object of ref with a command of ctlNum in flight and nothing
 * parked yet (q->mu held). */
static i61_control *inflight(i61_ctlq *q, const char *ref, int ctl_num)
{
    for (i61_control *k = q->controls; k; k = k->next)
        if (strcmp(k->ref, ref) == 0 && k->inflight_num >= 0 && k->inflight_num == ctl_num &&
            !k->parked)
            return k;
    return NULL;
}

/* Is a [LastApplError, Oper] report the late LastApplError of a command a
 * control object of ref just saw refused (q->mu held)? */
static bool late_refusal(i61_ctlq *q, const char *ref, int ctl_num)
{
    uint64_t now = i61_mono_ms();
    for (i61_control *k = q->controls; k; k = k->next)
        if (strcmp(k->ref, ref) == 0 && k->refused_num >= 0 && k->refused_num == ctl_num &&
            now < k->refused_until)
            return true;
    return false;
}

/* "domain/item" into out (cap octets); "" when it does not fit. */
static void join_name(const char *domain, const char *item, char *out, size_t cap)
{
    size_t dl = strlen(domain), il = strlen(item);
    if (dl + 1 + il >= cap) {
        out[0] = '\0';
        return;
    }
    memcpy(out, domain, dl);
    out[dl] = '/';
    memcpy(out + dl + 1, item, il + 1);
}

/* ctlNum and origin of an Oper value as a "no error" LastApplError. */
static void lae_from_oper(const i61_value *oper, const char *domain, const char *item,
                          i61_last_appl_error *e)
{
    memset(e, 0, sizeof *e);
    join_name(domain, item, e->control_object, sizeof e->control_object);
    e->ctl_num = -1;
    i61_ctl_cmd p;
    if (i61_ctl_parse(oper, &p) == I61_OK) {
        e->ctl_num = p.ctl_num;
        e->or_cat = p.or_cat;
        memcpy(e->or_ident, p.or_ident, p.or_ident_len);
        e->or_ident_len = p.or_ident_len;
    }
}

static void q_push(i61_ctlq *q, struct i61_ctl_event *ev)
{
    /* q->mu held */
    if (q->count >= q->limit) {
        q->dropped++;
        i61_ctl_event_free(ev);
        return;
    }
    ev->next = NULL;
    if (q->tail)
        q->tail->next = ev;
    else
        q->head = ev;
    q->tail = ev;
    q->count++;
    pthread_cond_signal(&q->cv);
}

void i61_client_controls_on_unconfirmed(i61_client *c, const uint8_t *pdu, size_t len)
{
    i61_ctlq *q = c->controls;
    if (!i61_mms_is_control_report(pdu, len))
        return;
    i61_ctl_rpt r;
    char ref[I61_REF_MAX + 1];
    if (i61_mms_decode_control_report(pdu, len, &r) != I61_OK) {
        i61_mms_control_report_clear(&r);
        pthread_mutex_lock(&q->mu);
        q->malformed++;
        pthread_mutex_unlock(&q->mu);
        return;
    }
    if (r.kind == I61_CTL_RPT_LAST_APPL_ERROR) {
        if (mms_to_ref(r.lae.control_object, ref, sizeof ref)) {
            pthread_mutex_lock(&q->mu);
            route_lae(q, ref, &r.lae, r.lae.ctl_num);
            pthread_mutex_unlock(&q->mu);
        }
        i61_mms_control_report_clear(&r);
        return;
    }
    char full[I61_MMS_NAME_MAX * 2 + 2];
    join_name(r.oper.domain, r.oper.item, full, sizeof full);
    struct i61_ctl_event *ev = calloc(1, sizeof *ev);
    if (!ev || !mms_to_ref(full, ev->ref, sizeof ev->ref)) {
        free(ev);
        i61_mms_control_report_clear(&r);
        pthread_mutex_lock(&q->mu);
        if (ev)
            q->malformed++;
        else
            q->dropped++;
        pthread_mutex_unlock(&q->mu);
        return;
    }
    ev->success = r.kind == I61_CTL_RPT_TERM_POS;
    ev->oper = r.oper_value;
    r.oper_value = NULL;
    i61_last_appl_error pos;
    lae_from_oper(ev->oper, r.oper.domain, r.oper.item, &pos);
    ev->ctl_num = pos.ctl_num;
    if (!ev->success) {
        ev->has_lae = true;
        ev->lae = r.lae;
    }
    int num = pos.ctl_num >= 0 ? pos.ctl_num : r.lae.ctl_num;
    /* A [LastApplError, Oper] report while the command with that ctlNum waits
     * for its answer is parked: a refusal makes it the refusal's
     * LastApplError (Rust iec61850 server order), an acceptance queues it as
     * the CommandTermination- it is. One after the refusal is dropped. */
    bool queued = true;
    pthread_mutex_lock(&q->mu);
    if (ev->success) {
        if (pos.ctl_num < 0)
            pos.ctl_num = 0;
        route_lae(q, ev->ref, &pos, pos.ctl_num);
        q_push(q, ev);
    } else {
        route_lae(q, ev->ref, &ev->lae, num);
        i61_control *k = inflight(q, ev->ref, num);
        if (k) {
            k->parked = ev;
            queued = false;
            ev = NULL;
        } else if (late_refusal(q, ev->ref, num)) {
            queued = false;
        } else {
            q_push(q, ev);
        }
    }
    pthread_mutex_unlock(&q->mu);
    if (!queued)
        i61_ctl_event_free(ev);
    else
        i61_client_reports_kick(c);        /* i61_client_wait_events */
    i61_mms_control_report_clear(&r);
}

/* ------------------------------------------------------------ event queue */

static void deadline_after(struct timespec *ts, uint32_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

int i61_client_next_control_events(i61_client *c, uint32_t timeout_ms, i61_ctl_event **out,
                                   size_t max, size_t *n)
{
    if (n)
        *n = 0;
    if (!c || !out || !n || max == 0)
        return I61_ERR_INVALID_ARGUMENT;
    i61_ctlq *q = c->controls;
    struct timespec until;
    bool have_deadline = false;
    int rc = I61_OK;
    pthread_mutex_lock(&q->mu);
    while (q->count == 0) {
        if (q->interrupted || i61_assoc_state(c->assoc) == I61_STATE_CLOSED) {
            rc = I61_ERR_NOT_CONNECTED;
            break;
        }
        if (timeout_ms == 0) {
            rc = I61_ERR_TIMEOUT;
            break;
        }
        if (!have_deadline) {
            deadline_after(&until, timeout_ms);
            have_deadline = true;
        }
        if (pthread_cond_timedwait(&q->cv, &q->mu, &until) == ETIMEDOUT && q->count == 0) {
            rc = q->interrupted || i61_assoc_state(c->assoc) == I61_STATE_CLOSED
                     ? I61_ERR_NOT_CONNECTED : I61_ERR_TIMEOUT;
            break;
        }
    }
    size_t k = 0;
    while (rc == I61_OK && k < max && q->head) {
        struct i61_ctl_event *e = q->head;
        q->head = e->next;
        if (!q->head)
            q->tail = NULL;
        q->count--;
        e->next = NULL;
        out[k++] = e;
    }
    pthread_mutex_unlock(&q->mu);
    *n = k;
    return rc;
}

size_t i61_client_controls_pending(i61_client *c)
{
    i61_ctlq *q = c->controls;
    pthread_mutex_lock(&q->mu);
    size_t n = q->count;
    pthread_mutex_unlock(&q->mu);
    return n;
}

void i61_client_interrupt_control_events(i61_client *c)
{
    if (!c)
        return;
    i61_ctlq *q = c->controls;
    pthread_mutex_lock(&q->mu);
    q->interrupted = true;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

void i61_client_resume_control_events(i61_client *c)
{
    if (!c)
        return;
    i61_ctlq *q = c->controls;
    pthread_mutex_lock(&q->mu);
    q->interrupted = false;
    pthread_mutex_unlock(&q->mu);
}

void i61_client_set_control_event_queue_size(i61_client *c, uint32_t n)
{
    if (!c)
        return;
    i61_ctlq *q = c->controls;
    pthread_mutex_lock(&q->mu);
    q->limit = n ? n : 1;
    pthread_mutex_unlock(&q->mu);
}

uint64_t i61_client_control_events_dropped(const i61_client *c)
{
    if (!c)
        return 0;
    i61_ctlq *q = c->controls;
    pthread_mutex_lock(&q->mu);
    uint64_t v = q->dropped;
    pthread_mutex_unlock(&q->mu);
    return v;
}

uint64_t i61_client_control_events_malformed(const i61_client *c)
{
    if (!c)
        return 0;
    i61_ctlq *q = c->controls;
    pthread_mutex_lock(&q->mu);
    uint64_t v = q->malformed;
    pthread_mutex_unlock(&q->mu);
    return v;
}

void i61_ctl_event_free(i61_ctl_event *e)
{
    if (!e)
        return;
    i61_value_free(e->oper);
    free(e);
}

const char *i61_ctl_event_reference(const i61_ctl_event *e)
{
    return e ? e->ref : NULL;
}

int i61_ctl_event_success(const i61_ctl_event *e)
{
    return e ? e->success : 0;
}

const i61_value *i61_ctl_event_oper(const i61_ctl_event *e)
{
    return e ? e->oper : NULL;
}

const i61_value *i61_ctl_event_ctl_val(const i61_ctl_event *e)
{
    return e ? i61_value_element(e->oper, 0) : NULL;
}

int i61_ctl_event_ctl_num(const i61_ctl_event *e)
{
    return e ? e->ctl_num : -1;
}

int i61_ctl_event_add_cause(const i61_ctl_event *e)
{
    return e && e->has_lae ? e->lae.add_cause : 0;
}

int i61_ctl_event_last_appl_error(const i61_ctl_event *e, i61_last_appl_error *out)
{
    if (!e || !e->has_lae)
        return 0;
    if (out)
        *out = e->lae;
    return 1;
}

/* ------------------------------------------------------------ control values */

/* Integer view of a number value (booleans as 0/1); false for others. */
static bool as_int(const i61_value *v, int64_t *out, bool *is_float, double *d)
{
    int t = i61_value_type(v);
    *is_float = false;
    if (t == I61_TYPE_BOOLEAN) {
        int b;
        i61_value_get_boolean(v, &b);
        *out = b != 0;
        return true;
    }
    if (t == I61_TYPE_INTEGER)
        return i61_value_get_int64(v, out) == I61_OK;
    if (t == I61_TYPE_UNSIGNED) {
        uint64_t u;
        if (i61_value_get_uint64(v, &u) != I61_OK || u > (uint64_t)INT64_MAX)
            return false;
        *out = (int64_t)u;
        return true;
    }
    if (t == I61_TYPE_FLOAT && i61_value_get_double(v, d) == I61_OK) {
        *is_float = true;
        return true;
    }
    return false;
}

/* A scalar ctlVal (or APC component) of spec kind from v; NULL with *why. */
static i61_value *adapt_scalar(const i61_typespec *ts, const i61_value *v, const char **why)
{
    int kind = i61_typespec_kind(ts), size = i61_typespec_size(ts);
    int t = i61_value_type(v);
    int64_t iv = 0;
    double d = 0;
    bool fl = false;
    bool num = as_int(v, &iv, &fl, &d);
    switch (kind) {
    case I61_TYPE_BOOLEAN:
        if (t == I61_TYPE_BOOLEAN || (num && !fl && (iv == 0 || iv == 1)))
            return i61_value_new_boolean(iv != 0);
        *why = "a boolean (or 0/1)";
        return NULL;
    case I61_TYPE_INTEGER:
    case I61_TYPE_UNSIGNED:
        if (!num || fl) {
            *why = kind == I61_TYPE_INTEGER ? "an integer" : "an unsigned integer";
            return NULL;
        }
        if (size > 0 && size < 64) {
            int64_t lo = kind == I61_TYPE_INTEGER ? -(INT64_C(1) << (size - 1)) : 0;
            int64_t hi = kind == I61_TYPE_INTEGER ? (INT64_C(1) << (size - 1)) - 1
                                                  : (INT64_C(1) << size) - 1;
            if (iv < lo || iv > hi) {
                *why = "a number in the range of the server's type";
                return NULL;
            }
        } else if (kind == I61_TYPE_UNSIGNED && iv < 0) {
            *why = "an unsigned integer";
            return NULL;
        }
        return kind == I61_TYPE_INTEGER ? i61_value_new_integer(iv)
                                        : i61_value_new_unsigned((uint64_t)iv);
    case I61_TYPE_FLOAT:
        if (!num || t == I61_TYPE_BOOLEAN) {
            *why = "a number";
            return NULL;
        }
        if (!fl)
            d = (double)iv;
        return size == 64 ? i61_value_new_double(d) : i61_value_new_float((float)d);
    case I61_TYPE_BIT_STRING:
        if (t == I61_TYPE_BIT_STRING)
            return i61_value_clone(v);
        /* coded enums (Dbpos, Tcmd): the number's bits, MSB first */
        if (num && !fl && size > 0 && size <= 8 && iv >= 0 && iv < (1 << size)) {
            uint8_t b = (uint8_t)(iv << (8 - size));
            return i61_value_new_bit_string(size, &b);
        }
        *why = "a bit string (or a coded enum value)";
        return NULL;
    default:
        if (t == kind || (kind == I61_TYPE_VISIBLE_STRING && t == I61_TYPE_STRING) ||
            (kind == I61_TYPE_STRING && t == I61_TYPE_VISIBLE_STRING))
            return i61_value_clone(v);
        *why = "a value of the server's type";
        return NULL;
    }
}

/* ctlVal adapted to the Oper's ctlVal type (see i61.h). NULL and *why on a
 * mismatch; OOM also yields NULL with *why "memory". */
static i61_value *adapt(const i61_typespec *ts, const i61_value *v, const char **why)
{
    *why = "memory";
    if (!ts)
        return i61_value_clone(v);
    int kind = i61_typespec_kind(ts);
    int t = i61_value_type(v);
    if (kind == I61_TYPE_STRUCTURE) {
        size_t n = i61_typespec_count(ts);
        if (t == I61_TYPE_STRUCTURE) {
            if (i61_value_count(v) != n) {
                *why = "a structure with the components of the server's type";
                return NULL;
            }
            i61_value *s = i61_value_new_structure(n);
            for (size_t i = 0; s && i < n; i++) {
                const i61_typespec *cs = i61_typespec_child(ts, i);
                const i61_value *cv = i61_value_element(v, i);
                int ck = i61_typespec_kind(cs);
                i61_value *x = (ck == I61_TYPE_STRUCTURE || ck == I61_TYPE_ARRAY)
                                   ? i61_value_clone(cv) : adapt_scalar(cs, cv, why);
                if (!x || i61_value_set_element(s, i, x) != I61_OK) {
                    i61_value_free(x);
                    i61_value_free(s);
                    return NULL;
                }
            }
            return s;
        }
        /* AnalogueValue {i?, f?} from a bare number */
        int64_t iv;
        double d;
        bool fl;
        if (t == I61_TYPE_BOOLEAN || !as_int(v, &iv, &fl, &d) || n == 0) {
            *why = "a number or an AnalogueValue structure";
            return NULL;
        }
        i61_value *s = i61_value_new_structure(n);
        for (size_t i = 0; s && i < n; i++) {
            const i61_typespec *cs = i61_typespec_child(ts, i);
            const char *name = i61_typespec_name(cs);
            i61_value *x = NULL;
            if (name && strcmp(name, "f") == 0) {
                x = adapt_scalar(cs, v, why);
            } else if (name && strcmp(name, "i") == 0) {
                if (fl && !(d >= -9.2e18 && d <= 9.2e18)) {
                    *why = "a number that fits the AnalogueValue's i";
                } else {
                    /* a float rounds half away from zero */
                    int64_t r = fl ? (int64_t)(d < 0 ? d - 0.5 : d + 0.5) : iv;
                    i61_value *tmp = i61_value_new_integer(r);
                    x = tmp ? adapt_scalar(cs, tmp, why) : NULL;
                    i61_value_free(tmp);
                }
            } else {
                *why = "a structure (the ctlVal structure is not an AnalogueValue)";
            }
            if (!x || i61_value_set_element(s, i, x) != I61_OK) {
                i61_value_free(x);
                i61_value_free(s);
                return NULL;
            }
        }
        return s;
    }
    if (t == I61_TYPE_STRUCTURE || t == I61_TYPE_ARRAY || kind == I61_TYPE_ARRAY) {
        if (kind == t)
            return i61_value_clone(v);
        *why = "a value of the server's type";
        return NULL;
    }
    return adapt_scalar(ts, v, why);
}

/* A zero value of the ctlVal type (Cancel after a select without value). */
static i61_value *default_ctl_val(const i61_typespec *ts)
{
    if (!ts)
        return NULL;
    i61_value *zero = i61_value_new_integer(0);
    const char *why;
    i61_value *v = zero ? adapt(ts, zero, &why) : NULL;
    i61_value_free(zero);
    return v;
}

/* ------------------------------------------------------------ helpers */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Records the outcome of an operation: rc, and the text (also as the
 * client's last error text). Returns rc. */
static int ctl_result(i61_control *ctl, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int ctl_result(i61_control *ctl, int rc, const char *fmt, ...)
{
    ctl->last_err = rc;
    if (!fmt) {
        ctl->err_text[0] = '\0';
        if (ctl->c)
            i61_client_clear_error(ctl->c);
        return rc;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctl->err_text, sizeof ctl->err_text, fmt, ap);
    va_end(ap);
    if (ctl->c)
        i61_client_error(ctl->c, rc, "%s", ctl->err_text);
    return rc;
}

/* Start of a command: clears the per-operation state; returns the current
 * LastApplError clock. */
static uint64_t op_begin(i61_control *ctl, int ctl_num)
{
    ctl->op_has_lae = false;
    i61_ctlq *q = ctl->c->controls;
    pthread_mutex_lock(&q->mu);
    uint64_t t = q->lae_clock;
    ctl->refused_num = -1;
    ctl->inflight_num = ctl_num;
    pthread_mutex_unlock(&q->mu);
    return t;
}

/* The answer is in: refused (by the server) or not. A parked
 * CommandTermination- is dropped (its LastApplError was routed already) or
 * queued. */
static void op_end(i61_control *ctl, bool refused, int ctl_num)
{
    i61_ctlq *q = ctl->c->controls;
    struct i61_ctl_event *drop = NULL;
    bool kick = false;
    pthread_mutex_lock(&q->mu);
    ctl->inflight_num = -1;
    if (refused) {
        ctl->refused_num = ctl_num;
        ctl->refused_until = i61_mono_ms() + I61_CTL_LAE_LATE_MS;
    }
    if (ctl->parked) {
        if (refused) {
            drop = ctl->parked;
        } else {
            q_push(q, ctl->parked);
            kick = true;
        }
        ctl->parked = NULL;
    }
    pthread_mutex_unlock(&q->mu);
    i61_ctl_event_free(drop);
    if (kick)
        i61_client_reports_kick(ctl->c);
}

/* After a refusal: attaches the LastApplError received since `since` for
 * this object and ctlNum. */
static bool lae_matches(const i61_control *ctl, uint64_t since, int ctl_num)
{
    return ctl->has_lae && ctl->lae_seq > since && (ctl_num < 0 || ctl->lae_num == ctl_num);
}

/* After a refusal by the server: attaches the LastApplError received since
 * `since` for this object and ctlNum, waiting up to I61_CTL_LAE_GRACE_MS for
 * one that follows the negative response. */
static bool op_attach_lae(i61_control *ctl, uint64_t since, int ctl_num)
{
    i61_ctlq *q = ctl->c->controls;
    pthread_mutex_lock(&q->mu);
    if (!lae_matches(ctl, since, ctl_num)) {
        struct timespec until;
        deadline_after(&until, I61_CTL_LAE_GRACE_MS);
        while (!lae_matches(ctl, since, ctl_num) &&
               i61_assoc_state(ctl->c->assoc) == I61_STATE_CONNECTED) {
            if (pthread_cond_timedwait(&q->lae_cv, &q->mu, &until) == ETIMEDOUT)
                break;
        }
    }
    if (lae_matches(ctl, since, ctl_num)) {
        ctl->op_lae = ctl->lae;
        ctl->op_has_lae = true;
    }
    pthread_mutex_unlock(&q->mu);
    return ctl->op_has_lae;
}

/* Did the server answer (as opposed to a local or connection failure)? */
static bool server_refusal(int rc)
{
    return rc != I61_ERR_NOT_CONNECTED && rc != I61_ERR_CONNECTION_LOST && rc != I61_ERR_TIMEOUT &&
           rc != I61_ERR_INVALID_ARGUMENT && rc != I61_ERR_UNKNOWN &&
           rc != I61_ERR_OUTSTANDING_CALL_LIMIT && rc != I61_ERR_MALFORMED_MESSAGE;
}

/* The refusal text: "<what>: <client text>[; LastApplError ...]". */
static int op_refused(i61_control *ctl, int rc, const char *what, uint64_t since, int ctl_num,
                      const char *detail)
{
    char base[I61_CLIENT_ERR_TEXT];
    snprintf(base, sizeof base, "%s", detail);
    if (server_refusal(rc) && op_attach_lae(ctl, since, ctl_num))
        return ctl_result(ctl, rc, "%s: %s; LastApplError: AddCause %d (%s), Error %d", what, base,
                          ctl->op_lae.add_cause, add_cause_name(ctl->op_lae.add_cause),
                          ctl->op_lae.error);
    return ctl_result(ctl, rc, "%s: %s", what, base);
}

/* The ctlNum a command that starts a sequence uses. */
static int seq_start_num(i61_control *ctl)
{
    int n = ctl->next_set ? ctl->next_num : (ctl->ctl_num + 1) & 0xff;
    ctl->next_set = false;
    ctl->ctl_num = n;
    return n;
}

/* The ctlNum of a command inside a sequence (operate after select, cancel). */
static int seq_cont_num(i61_control *ctl)
{
    if (ctl->next_set) {
        ctl->next_set = false;
        ctl->ctl_num = ctl->next_num;
    }
    return ctl->ctl_num;
}

/* Common checks; 0 to go on, else the refusal already recorded. */
static int op_check(i61_control *ctl, const char *op)
{
    if (!ctl->c)
        return ctl_result(ctl, I61_ERR_NOT_CONNECTED, "%s %s: the connection object is gone", op,
                          ctl->ref);
    if (ctl->model == I61_CTL_STATUS_ONLY)
        return ctl_result(ctl, I61_ERR_SERVICE_NOT_SUPPORTED,
                          "%s %s: the object is status-only (ctlModel 0): it cannot be "
                          "controlled", op, ctl->ref);
    return I61_OK;
}

/* Builds and writes one command structure to LN$CO$DO$<comp>. */
static int send_cmd(i61_control *ctl, int which, const i61_value *ctl_val, uint64_t oper_time_ms,
                    int ctl_num, bool new_seq, const char *what)
{
    uint8_t t[8];
    if (ctl->constant_t && !new_seq && ctl->have_seq_t) {
        memcpy(t, ctl->seq_t, 8);
    } else {
        i61_utc_time_from_ms(now_ms(), 0, t);
        if (new_seq) {
            memcpy(ctl->seq_t, t, 8);
            ctl->have_seq_t = true;
        }
    }
    i61_ctl_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.ctl_val = ctl_val;
    cmd.has_oper_tm = ctl->has_oper_tm;
    if (ctl->has_oper_tm && oper_time_ms)
        i61_utc_time_from_ms(oper_time_ms, 0, cmd.oper_tm);
    cmd.or_cat = ctl->or_cat;
    cmd.or_ident = ctl->or_ident;
    cmd.or_ident_len = ctl->or_ident_len;
    cmd.ctl_num = (uint8_t)ctl_num;
    memcpy(cmd.t, t, 8);
    cmd.test = ctl->test;
    cmd.has_check = ctl->has_check;
    cmd.synchro_check = ctl->synchro;
    cmd.interlock_check = ctl->interlock;
    i61_value *v = NULL;
    int rc = i61_ctl_build(which, &cmd, &v);
    if (rc != I61_OK)
        return ctl_result(ctl, rc, "%s: cannot build the command (%s)", what, i61_err_str(rc));
    if (ctl->t_binary) {
        /* Ed1: T is a BinaryTime (6 octets) */
        uint8_t bt[6];
        i61_binary_time_from_ms((int64_t)i61_utc_time_to_ms(t), bt);
        size_t ti = 3 + (ctl->has_oper_tm ? 1 : 0);
        i61_value *tv = i61_value_new_binary_time(bt, 6);
        if (!tv || i61_value_set_element(v, ti, tv) != I61_OK) {
            i61_value_free(tv);
            i61_value_free(v);
            return ctl_result(ctl, I61_ERR_UNKNOWN, "%s: out of memory", what);
        }
    }
    static const char *const comp[] = { "Oper", "SBOw", "Cancel" };
    char ref[I61_REF_MAX + 16];
    snprintf(ref, sizeof ref, "%s.%s", ctl->ref, comp[which]);
    uint64_t since = op_begin(ctl, ctl_num);
    rc = i61_client_write_value(ctl->c, ref, I61_FC_CO, v);
    i61_value_free(v);
    op_end(ctl, rc != I61_OK && server_refusal(rc), ctl_num);
    if (rc != I61_OK)
        return op_refused(ctl, rc, what, since, ctl_num, i61_client_last_error_text(ctl->c));
    return ctl_result(ctl, I61_OK, NULL);
}

/* ------------------------------------------------------------ control objects */

/* Learns ctlVal type, operTm, Check and the T type from the Oper spec. */
static int learn_oper(i61_control *ctl, i61_typespec *spec)
{
    if (i61_typespec_kind(spec) != I61_TYPE_STRUCTURE)
        return I61_ERR_UNEXPECTED_VALUE;
    size_t n = i61_typespec_count(spec);
    const i61_typespec *cv = NULL;
    ctl->has_check = false;
    bool has_num = false, has_t = false;
    for (size_t i = 0; i < n; i++) {
        const i61_typespec *ch = i61_typespec_child(spec, i);
        const char *name = i61_typespec_name(ch);
        if (!name)
            continue;
        if (strcmp(name, "ctlVal") == 0 && i == 0)
            cv = ch;
        else if (strcmp(name, "operTm") == 0)
            ctl->has_oper_tm = true;
        else if (strcmp(name, "Check") == 0)
            ctl->has_check = true;
        else if (strcmp(name, "ctlNum") == 0)
            has_num = true;
        else if (strcmp(name, "T") == 0) {
            has_t = true;
            ctl->t_binary = i61_typespec_kind(ch) == I61_TYPE_BINARY_TIME;
        }
    }
    if (!cv || !has_num || !has_t)
        return I61_ERR_UNEXPECTED_VALUE;
    ctl->oper_spec = spec;
    ctl->ctl_val_spec = cv;
    return I61_OK;
}

static void ctl_register(i61_control *ctl)
{
    i61_ctlq *q = ctl->c->controls;
    pthread_mutex_lock(&q->mu);
    ctl->next = q->controls;
    q->controls = ctl;
    pthread_mutex_unlock(&q->mu);
}

int i61_client_control_new(i61_client *c, const char *ref, int model, i61_control **out)
{
    if (!out)
        return I61_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!c || !ref)
        return I61_ERR_INVALID_ARGUMENT;
    if (model < -1 || model > 4)
        return i61_client_error(c, I61_ERR_INVALID_ARGUMENT,
                                "control %.130s: control model %d is not 0..4 (or -1 = read it)",
                                ref, model);
    char ld[I61_REF_LD_MAX + 1], ln[I61_REF_ITEM_MAX + 1], path[I61_REF_ITEM_MAX + 1];
    char why[200], conv[I61_REF_MAX + 1];
    const char *form = ref;
    if (strchr(ref, '$')) {
        if (!mms_to_ref(ref, conv, sizeof conv))
            return i61_client_error(c, I61_ERR_OBJECT_REFERENCE_INVALID,
                                    "control %.130s: expected LD/LN.DO or LD/LN$CO$DO", ref);
        form = conv;
    }
    int rc = i61_ref_split_data(form, ld, ln, path, why, sizeof why);
    if (rc != I61_OK)
        return i61_client_error(c, rc, "control %.130s: %s", ref, why);
    i61_control *ctl = calloc(1, sizeof *ctl);
    if (!ctl)
        return i61_client_error(c, I61_ERR_UNKNOWN, "control: out of memory");
    snprintf(ctl->ref, sizeof ctl->ref, "%s", form);
    ctl->c = c;
    ctl->has_check = true;
    ctl->refused_num = -1;
    ctl->inflight_num = -1;
    char r2[I61_REF_MAX + 16], t[I61_CLIENT_ERR_TEXT];
    bool given = model >= 0;
    if (!given) {
        snprintf(r2, sizeof r2, "%s.ctlModel", ctl->ref);
        i61_value *mv = NULL;
        rc = i61_client_read_value(c, r2, I61_FC_CF, &mv);
        if (rc != I61_OK) {
            snprintf(t, sizeof t, "%s", i61_client_last_error_text(c));
            free(ctl);
            return i61_client_error(c, rc, "control %s: reading ctlModel failed: %s", form, t);
        }
        int64_t m = -1;
        bool fl;
        double d;
        bool ok = as_int(mv, &m, &fl, &d) && !fl && i61_value_type(mv) != I61_TYPE_BOOLEAN &&
                  m >= 0 && m <= 4;
        i61_value_free(mv);
        if (!ok) {
            free(ctl);
            return i61_client_error(c, I61_ERR_UNEXPECTED_VALUE,
                                    "control %s: ctlModel is not a control model 0..4", form);
        }
        model = (int)m;
    }
    ctl->model = model;
    if (model != I61_CTL_STATUS_ONLY) {
        snprintf(r2, sizeof r2, "%s.Oper", ctl->ref);
        i61_typespec *spec = NULL;
        rc = i61_client_get_variable_spec(c, r2, I61_FC_CO, &spec);
        if (rc == I61_OK) {
            rc = learn_oper(ctl, spec);
            if (rc != I61_OK) {
                i61_typespec_free(spec);
                ctl->has_oper_tm = false;
                ctl->has_check = true;
                ctl->t_binary = false;
                snprintf(t, sizeof t, "Oper is not a control structure (ctlVal, ctlNum, T)");
            }
        } else {
            snprintf(t, sizeof t, "%s", i61_client_last_error_text(c));
        }
        bool offline = rc == I61_ERR_NOT_CONNECTED || rc == I61_ERR_CONNECTION_LOST ||
                       rc == I61_ERR_TIMEOUT;
        if (rc != I61_OK && (!given || offline)) {
            free(ctl);
            return i61_client_error(c, rc, "control %s (%s): reading the type of Oper failed: %s",
                                    form, model_name(model), t);
        }
    }
    ctl_register(ctl);
    i61_client_clear_error(c);
    *out = ctl;
    return I61_OK;
}

void i61_control_free(i61_control *ctl)
{
    if (!ctl)
        return;
    if (ctl->c) {
        i61_ctlq *q = ctl->c->controls;
        pthread_mutex_lock(&q->mu);
        for (i61_control **pp = &q->controls; *pp; pp = &(*pp)->next)
            if (*pp == ctl) {
                *pp = ctl->next;
                break;
            }
        pthread_mutex_unlock(&q->mu);
    }
    i61_ctl_event_free(ctl->parked);
    i61_typespec_free(ctl->oper_spec);
    i61_value_free(ctl->last_ctl_val);
    free(ctl);
}

const char *i61_control_reference(const i61_control *ctl)
{
    return ctl ? ctl->ref : NULL;
}

int i61_control_model(const i61_control *ctl)
{
    return ctl ? ctl->model : -1;
}

const i61_typespec *i61_control_ctl_val_type(const i61_control *ctl)
{
    return ctl ? ctl->ctl_val_spec : NULL;
}

int i61_control_has_oper_tm(const i61_control *ctl)
{
    return ctl ? ctl->has_oper_tm : 0;
}

int i61_control_has_check(const i61_control *ctl)
{
    return ctl ? ctl->has_check : 0;
}

int i61_control_set_origin(i61_control *ctl, int or_cat, const uint8_t *or_ident, size_t len)
{
    if (!ctl || len > I61_CTL_OR_IDENT_MAX || (len && !or_ident))
        return I61_ERR_INVALID_ARGUMENT;
    ctl->or_cat = or_cat;
    if (len)
        memcpy(ctl->or_ident, or_ident, len);
    ctl->or_ident_len = len;
    return I61_OK;
}

int i61_control_ctl_num(const i61_control *ctl)
{
    return ctl ? ctl->ctl_num : 0;
}

int i61_control_set_ctl_num(i61_control *ctl, int ctl_num)
{
    if (!ctl || ctl_num < 0 || ctl_num > 255)
        return I61_ERR_INVALID_ARGUMENT;
    ctl->next_set = true;
    ctl->next_num = ctl_num;
    return I61_OK;
}

void i61_control_set_test(i61_control *ctl, int on)
{
    if (ctl)
        ctl->test = on != 0;
}

void i61_control_set_interlock_check(i61_control *ctl, int on)
{
    if (ctl)
        ctl->interlock = on != 0;
}

void i61_control_set_synchro_check(i61_control *ctl, int on)
{
    if (ctl)
        ctl->synchro = on != 0;
}

void i61_control_use_constant_t(i61_control *ctl, int on)
{
    if (ctl)
        ctl->constant_t = on != 0;
}

/* ------------------------------------------------------------ commands */

int i61_control_select(i61_control *ctl)
{
    if (!ctl)
        return I61_ERR_INVALID_ARGUMENT;
    char what[I61_REF_MAX + 64];
    snprintf(what, sizeof what, "select %s", ctl->ref);
    int rc = op_check(ctl, "select");
    if (rc != I61_OK)
        return rc;
    if (ctl->model != I61_CTL_SBO_NORMAL)
        return ctl_result(ctl, I61_ERR_INVALID_ARGUMENT,
                          "%s: select (read SBO) is for sbo-with-normal-security; the object "
                          "is %s%s", what, model_name(ctl->model),
                          ctl->model == I61_CTL_SBO_ENHANCED ? " (use select with value)" : "");
    (void)seq_start_num(ctl);        /* a new sequence: no ctlNum is sent with SBO */
    ctl->have_seq_t = false;
    if (ctl->constant_t) {
        i61_utc_time_from_ms(now_ms(), 0, ctl->seq_t);
        ctl->have_seq_t = true;
    }
    char ref[I61_REF_MAX + 16];
    snprintf(ref, sizeof ref, "%s.SBO", ctl->ref);
    uint64_t since = op_begin(ctl, -1);
    i61_value *v = NULL;
    rc = i61_client_read_value(ctl->c, ref, I61_FC_CO, &v);
    op_end(ctl, false, -1);
    if (rc != I61_OK)
        return op_refused(ctl, rc, what, since, -1, i61_client_last_error_text(ctl->c));
    int t = i61_value_type(v);
    size_t len = 0;
    i61_value_get_bytes(v, &len);
    i61_value_free(v);
    if (t != I61_TYPE_VISIBLE_STRING && t != I61_TYPE_STRING)
        return ctl_result(ctl, I61_ERR_UNEXPECTED_VALUE,
                          "%s: SBO is not a visible string", what);
    if (len == 0)
        return op_refused(ctl, I61_ERR_ACCESS_DENIED, what, since, -1,
                          "refused by the server (SBO read returned an empty string)");
    return ctl_result(ctl, I61_OK, NULL);
}

/* ctlVal adapted, or the refusal recorded. */
static int prepare_val(i61_control *ctl, const char *what, const i61_value *ctl_val,
                       i61_value **out)
{
    *out = NULL;
    if (!ctl_val)
        return ctl_result(ctl, I61_ERR_INVALID_ARGUMENT, "%s: no control value", what);
    const char *why = "memory";
    *out = adapt(ctl->ctl_val_spec, ctl_val, &why);
    if (!*out)
        return ctl_result(ctl, strcmp(why, "memory") ? I61_ERR_TYPE_INCONSISTENT : I61_ERR_UNKNOWN,
                          "%s: the control value must be %s", what, why);
    return I61_OK;
}

static void keep_val(i61_control *ctl, i61_value *v)
{
    i61_value_free(ctl->last_ctl_val);
    ctl->last_ctl_val = v;
}

int i61_control_select_with_value(i61_control *ctl, const i61_value *ctl_val)
{
    if (!ctl)
        return I61_ERR_INVALID_ARGUMENT;
    char what[I61_REF_MAX + 64];
    snprintf(what, sizeof what, "select with value %s", ctl->ref);
    int rc = op_check(ctl, "select with value");
    if (rc != I61_OK)
        return rc;
    if (ctl->model != I61_CTL_SBO_ENHANCED)
        return ctl_result(ctl, I61_ERR_INVALID_ARGUMENT,
                          "%s: select with value (write SBOw) is for sbo-with-enhanced-security; "
                          "the object is %s%s", what, model_name(ctl->model),
                          ctl->model == I61_CTL_SBO_NORMAL ? " (use select)" : "");
    i61_value *v;
    rc = prepare_val(ctl, what, ctl_val, &v);
    if (rc != I61_OK)
        return rc;
    int num = seq_start_num(ctl);
    size_t wl = strlen(what);
    snprintf(what + wl, sizeof what - wl, " (ctlNum %d)", num);
    rc = send_cmd(ctl, I61_CTL_SBOW, v, 0, num, true, what);
    keep_val(ctl, v);
    return rc;
}

int i61_control_operate(i61_control *ctl, const i61_value *ctl_val, uint64_t oper_time_ms)
{
    if (!ctl)
        return I61_ERR_INVALID_ARGUMENT;
    char what[I61_REF_MAX + 64];
    snprintf(what, sizeof what, "operate %s", ctl->ref);
    int rc = op_check(ctl, "operate");
    if (rc != I61_OK)
        return rc;
    if (oper_time_ms && !ctl->has_oper_tm)
        return ctl_result(ctl, I61_ERR_INVALID_ARGUMENT,
                          "%s: the object has no operTm (it does not support time-activated "
                          "operation)", what);
    i61_value *v;
    rc = prepare_val(ctl, what, ctl_val, &v);
    if (rc != I61_OK)
        return rc;
    bool sbo = ctl->model == I61_CTL_SBO_NORMAL || ctl->model == I61_CTL_SBO_ENHANCED;
    int num = sbo ? seq_cont_num(ctl) : seq_start_num(ctl);
    size_t wl = strlen(what);
    snprintf(what + wl, sizeof what - wl, " (ctlNum %d)", num);
    rc = send_cmd(ctl, I61_CTL_OPER, v, oper_time_ms, num, !sbo, what);
    keep_val(ctl, v);
    return rc;
}

int i61_control_cancel(i61_control *ctl)
{
    if (!ctl)
        return I61_ERR_INVALID_ARGUMENT;
    char what[I61_REF_MAX + 64];
    snprintf(what, sizeof what, "cancel %s", ctl->ref);
    int rc = op_check(ctl, "cancel");
    if (rc != I61_OK)
        return rc;
    i61_value *dv = NULL;
    const i61_value *v = ctl->last_ctl_val;
    if (!v) {
        dv = default_ctl_val(ctl->ctl_val_spec);
        v = dv;
    }
    if (!v)
        return ctl_result(ctl, I61_ERR_INVALID_ARGUMENT,
                          "%s: no control value yet (select with value or operate first)", what);
    int num = seq_cont_num(ctl);
    size_t wl = strlen(what);
    snprintf(what + wl, sizeof what - wl, " (ctlNum %d)", num);
    rc = send_cmd(ctl, I61_CTL_CANCEL, v, 0, num, false, what);
    i61_value_free(dv);
    return rc;
}

int i61_control_last_error(const i61_control *ctl)
{
    return ctl ? ctl->last_err : I61_ERR_INVALID_ARGUMENT;
}

const char *i61_control_last_error_text(const i61_control *ctl)
{
    return ctl ? ctl->err_text : "";
}

int i61_control_op_appl_error(const i61_control *ctl, i61_last_appl_error *out)
{
    if (!ctl || !ctl->op_has_lae)
        return 0;
    if (out)
        *out = ctl->op_lae;
    return 1;
}

int i61_control_last_appl_error(const i61_control *ctl, i61_last_appl_error *out)
{
    if (!ctl)
        return 0;
    if (!ctl->c) {                     /* detached: no I/O thread writes any more */
        if (ctl->has_lae && out)
            *out = ctl->lae;
        return ctl->has_lae;
    }
    i61_ctlq *q = ctl->c->controls;
    pthread_mutex_lock(&q->mu);
    int has = ctl->has_lae;
    if (has && out)
        *out = ctl->lae;
    pthread_mutex_unlock(&q->mu);
    return has;
}
