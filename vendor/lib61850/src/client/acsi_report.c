/* Received reports: the association's unconfirmed handler (I/O thread)
 * decodes each InformationReport "RPT", joins segmented reports, and queues
 * the result; application threads take reports with i61_client_next_reports.
 *
 * Threads. The handler runs on the I/O thread and never blocks: it decodes
 * without any lock and holds the queue mutex only to link a finished report.
 * The segment table is touched only by the I/O thread (the unconfirmed and
 * state handlers run there, one at a time), so it needs no lock.
 *
 * Segments (PROTOCOL.md section 11). A report whose OptFlds has the
 * segmentation bit is joined by RptID: SubSeqNum must run 0, 1, 2, ... under
 * one SeqNum until MoreSegmentsFollow is FALSE. A new SeqNum while a report
 * is incomplete, a gap, a segment that does not fit the first one (other data
 * set size, members out of order) or a partial report over its bound drops
 * the partial report and counts one malformed report; further segments of a
 * dropped report are swallowed without being counted again. */
#include "client_internal.h"
#include "../mms/mms_report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define I61_REPORT_QUEUE_DEFAULT 65536u
#define I61_SEG_MAX_PARTIAL 64               /* partial reports waiting for segments */
#define I61_SEG_MAX_BYTES ((size_t)1 << 20)  /* PDU octets joined into one partial report */

struct i61_report {
    i61_rpt r;                  /* joined: members of all segments, in data set order */
    int segments;
    struct i61_report *next;    /* queue link */
};

/* One report whose segments are still arriving. */
typedef struct i61_seg {
    bool used;
    bool broken;                /* dropped: swallow the rest of this SeqNum */
    uint64_t age;               /* creation order, for evicting the oldest */
    uint32_t seq_num;
    uint32_t next_sub;          /* SubSeqNum expected next */
    size_t bytes;
    char *rpt_id;               /* key (owned) */
    struct i61_report *rep;     /* joined so far (NULL when broken) */
    size_t cap;                 /* capacity of rep->r.members */
} i61_seg;

typedef struct i61_rptq {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct i61_report *head, *tail;
    size_t count;
    size_t limit;
    bool interrupted;
    uint64_t dropped;
    uint64_t malformed;
    /* I/O thread only */
    i61_seg seg[I61_SEG_MAX_PARTIAL];
    uint64_t seg_clock;
} i61_rptq;

/* ------------------------------------------------------------ lifecycle */

int i61_client_reports_init(i61_client *c)
{
    i61_rptq *q = calloc(1, sizeof *q);
    if (!q)
        return I61_ERR_UNKNOWN;
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0) {
        free(q);
        return I61_ERR_UNKNOWN;
    }
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int bad = pthread_cond_init(&q->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (bad) {
        free(q);
        return I61_ERR_UNKNOWN;
    }
    if (pthread_mutex_init(&q->mu, NULL) != 0) {
        pthread_cond_destroy(&q->cv);
        free(q);
        return I61_ERR_UNKNOWN;
    }
    q->limit = I61_REPORT_QUEUE_DEFAULT;
    c->reports = q;
    return I61_OK;
}

static void seg_drop(i61_seg *s)
{
    free(s->rpt_id);
    i61_report_free(s->rep);
    memset(s, 0, sizeof *s);
}

void i61_client_reports_free(i61_client *c)
{
    i61_rptq *q = c ? c->reports : NULL;
    if (!q)
        return;
    for (int i = 0; i < I61_SEG_MAX_PARTIAL; i++)
        if (q->seg[i].used)
            seg_drop(&q->seg[i]);
    struct i61_report *r = q->head;
    while (r) {
        struct i61_report *next = r->next;
        i61_report_free(r);
        r = next;
    }
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    free(q);
    c->reports = NULL;
}

/* ------------------------------------------------------------ the queue */

static void q_count_malformed(i61_rptq *q, uint64_t n)
{
    if (!n)
        return;
    pthread_mutex_lock(&q->mu);
    q->malformed += n;
    pthread_mutex_unlock(&q->mu);
}

/* Links a finished report (takes ownership) or drops it when the queue is full. */
static void q_push(i61_rptq *q, struct i61_report *r)
{
    bool full;
    pthread_mutex_lock(&q->mu);
    full = q->count >= q->limit;
    if (full) {
        q->dropped++;
    } else {
        r->next = NULL;
        if (q->tail)
            q->tail->next = r;
        else
            q->head = r;
        q->tail = r;
        q->count++;
        pthread_cond_broadcast(&q->cv);    /* next_reports and wait_events waiters */
    }
    pthread_mutex_unlock(&q->mu);
    if (full)
        i61_report_free(r);
}

void i61_client_reports_on_state(i61_client *c, int state)
{
    i61_rptq *q = c->reports;
    uint64_t lost = 0;
    if (state == I61_STATE_CLOSED || state == I61_STATE_CONNECTING) {
        /* partial reports of a finished association never complete */
        for (int i = 0; i < I61_SEG_MAX_PARTIAL; i++)
            if (q->seg[i].used) {
                if (!q->seg[i].broken)
                    lost++;
                seg_drop(&q->seg[i]);
            }
    }
    pthread_mutex_lock(&q->mu);
    q->malformed += lost;
    pthread_cond_broadcast(&q->cv);        /* waiters re-check the connection state */
    pthread_mutex_unlock(&q->mu);
}

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

int i61_client_next_reports(i61_client *c, uint32_t timeout_ms, i61_report **out, size_t max,
                            size_t *n)
{
    if (n)
        *n = 0;
    if (!c || !out || !n || max == 0)
        return I61_ERR_INVALID_ARGUMENT;
    i61_rptq *q = c->reports;
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
        struct i61_report *r = q->head;
        q->head = r->next;
        if (!q->head)
            q->tail = NULL;
        q->count--;
        r->next = NULL;
        out[k++] = r;
    }
    pthread_mutex_unlock(&q->mu);
    *n = k;
    return rc;
}

void i61_client_reports_kick(i61_client *c)
{
    i61_rptq *q = c->reports;
    pthread_mutex_lock(&q->mu);
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

/* Lock order: the report queue's mutex, then (inside
 * i61_client_controls_pending) the control queue's; a control event is
 * queued under the control mutex alone and then kicks this one, so a waiter
 * that found both queues empty is always woken. */
int i61_client_wait_events(i61_client *c, uint32_t timeout_ms, int *ready)
{
    if (ready)
        *ready = 0;
    if (!c || !ready)
        return I61_ERR_INVALID_ARGUMENT;
    i61_rptq *q = c->reports;
    struct timespec until;
    bool have_deadline = false;
    int rc = I61_OK, mask = 0;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        mask = (q->count ? I61_READY_REPORTS : 0) |
               (i61_client_controls_pending(c) ? I61_READY_CONTROL_EVENTS : 0);
        if (mask)
            break;
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
        if (pthread_cond_timedwait(&q->cv, &q->mu, &until) == ETIMEDOUT) {
            mask = (q->count ? I61_READY_REPORTS : 0) |
                   (i61_client_controls_pending(c) ? I61_READY_CONTROL_EVENTS : 0);
            if (!mask)
                rc = q->interrupted || i61_assoc_state(c->assoc) == I61_STATE_CLOSED
                         ? I61_ERR_NOT_CONNECTED : I61_ERR_TIMEOUT;
            break;
        }
    }
    pthread_mutex_unlock(&q->mu);
    *ready = mask;
    return rc;
}

void i61_client_interrupt_reports(i61_client *c)
{
    if (!c)
        return;
    i61_rptq *q = c->reports;
    pthread_mutex_lock(&q->mu);
    q->interrupted = true;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

void i61_client_resume_reports(i61_client *c)
{
    if (!c)
        return;
    i61_rptq *q = c->reports;
    pthread_mutex_lock(&q->mu);
    q->interrupted = false;
    pthread_mutex_unlock(&q->mu);
}

void i61_client_set_report_queue_size(i61_client *c, uint32_t n)
{
    if (!c)
        return;
    i61_rptq *q = c->reports;
    pthread_mutex_lock(&q->mu);
    q->limit = n ? n : 1;
    pthread_mutex_unlock(&q->mu);
}

uint64_t i61_client_reports_dropped(const i61_client *c)
{
    if (!c)
        return 0;
    i61_rptq *q = c->reports;
    pthread_mutex_lock(&q->mu);
    uint64_t v = q->dropped;
    pthread_mutex_unlock(&q->mu);
    return v;
}

uint64_t i61_client_reports_malformed(const i61_client *c)
{
    if (!c)
        return 0;
    i61_rptq *q = c->reports;
    pthread_mutex_lock(&q->mu);
    uint64_t v = q->malformed;
    pthread_mutex_unlock(&q->mu);
    return v;
}

/* ------------------------------------------------------------ segments */

static i61_seg *seg_find(i61_rptq *q, const char *rpt_id)
{
    for (int i = 0; i < I61_SEG_MAX_PARTIAL; i++)
        if (q->seg[i].used && strcmp(q->seg[i].rpt_id, rpt_id) == 0)
            return &q->seg[i];
    return NULL;
}

/* A free slot; when all are taken the oldest partial report is dropped
 * (counted in *lost unless it was already broken). */
static i61_seg *seg_alloc(i61_rptq *q, uint64_t *lost)
{
    i61_seg *oldest = NULL;
    for (int i = 0; i < I61_SEG_MAX_PARTIAL; i++) {
        if (!q->seg[i].used)
            return &q->seg[i];
        if (!oldest || q->seg[i].age < oldest->age)
            oldest = &q->seg[i];
    }
    if (!oldest->broken)
        (*lost)++;
    seg_drop(oldest);
    return oldest;
}

/* Marks s broken (its report is lost) after a bad segment of the same SeqNum. */
static void seg_break(i61_seg *s, uint64_t *lost)
{
    if (!s->broken)
        (*lost)++;
    s->broken = true;
    i61_report_free(s->rep);
    s->rep = NULL;
    s->cap = 0;
}

/* Appends the members of segment d to the partial report (moves them out of
 * d). false when the segment does not continue the report. */
static bool seg_append(i61_seg *s, i61_rpt *d, size_t pdu_len)
{
    i61_rpt *r = &s->rep->r;
    if (d->dataset_size != r->dataset_size || d->opt_flds != r->opt_flds)
        return false;
    if (d->n && r->n && d->members[0].index <= r->members[r->n - 1].index)
        return false;
    if (s->bytes + pdu_len > I61_SEG_MAX_BYTES)
        return false;
    if (r->n + d->n > s->cap) {
        size_t cap = s->cap ? s->cap : 8;
        while (cap < r->n + d->n)
            cap *= 2;
        i61_rpt_member *m = realloc(r->members, cap * sizeof *m);
        if (!m)
            return false;
        r->members = m;
        s->cap = cap;
    }
    memcpy(r->members + r->n, d->members, d->n * sizeof *d->members);
    r->n += d->n;
    free(d->members);
    d->members = NULL;
    d->n = 0;
    s->bytes += pdu_len;
    r->sub_seq_num = d->sub_seq_num;
    r->more_segments = d->more_segments;
    s->rep->segments++;
    return true;
}

static struct i61_report *report_from(i61_rpt *d)
{
    struct i61_report *rep = calloc(1, sizeof *rep);
    if (!rep)
        return NULL;
    rep->r = *d;                           /* takes the decoded content */
    memset(d, 0, sizeof *d);
    rep->segments = 1;
    return rep;
}

/* One decoded segment (d is consumed). A finished report goes to *done. */
static void seg_handle(i61_rptq *q, i61_rpt *d, size_t pdu_len, struct i61_report **done,
                       uint64_t *lost)
{
    i61_seg *s = seg_find(q, d->rpt_id);
    if (s && s->seq_num != d->seq_num) {
        if (!s->broken)
            (*lost)++;                     /* a new report while one was incomplete */
        seg_drop(s);
        s = NULL;
    }
    if (!s) {
        if (d->sub_seq_num == 0 && !d->more_segments) {
            *done = report_from(d);        /* complete in one segment */
            if (!*done)
                (*lost)++;
            return;
        }
        s = seg_alloc(q, lost);
        s->used = true;
        s->age = ++q->seg_clock;
        s->seq_num = d->seq_num;
        s->rpt_id = strdup(d->rpt_id);
        if (!s->rpt_id) {
            (*lost)++;
            seg_drop(s);
            return;
        }
        if (d->sub_seq_num != 0) {         /* the first segment is missing */
            (*lost)++;
            s->broken = true;
        } else {
            s->next_sub = 1;
            s->bytes = pdu_len;
            s->cap = d->n;
            s->rep = report_from(d);
            if (!s->rep) {
                (*lost)++;
                s->broken = true;
            }
        }
        if (s->broken && !d->more_segments)
            seg_drop(s);
        return;
    }
    /* continuation of s */
    if (s->broken) {
        if (!d->more_segments)
            seg_drop(s);
        return;
    }
    if (d->sub_seq_num != s->next_sub || !seg_append(s, d, pdu_len)) {
        seg_break(s, lost);
        if (!d->more_segments)
            seg_drop(s);
        return;
    }
    s->next_sub++;
    if (!d->more_segments) {
        *done = s->rep;
        s->rep = NULL;
        seg_drop(s);
    }
}

/* Other unconfirmed PDUs: CommandTermination and LastApplError go to the
 * control side (acsi_control.c); anything else is ignored there. */
static void on_other_unconfirmed(i61_client *c, const uint8_t *pdu, size_t len)
{
    i61_client_controls_on_unconfirmed(c, pdu, len);
}

void i61_client_on_unconfirmed(void *userdata, const uint8_t *pdu, size_t len)
{
    i61_client *c = userdata;
    i61_rptq *q = c->reports;
    if (!i61_mms_is_report(pdu, len)) {
        on_other_unconfirmed(c, pdu, len);
        return;
    }
    i61_rpt d;
    if (i61_mms_decode_report(pdu, len, &d) != 0) {
        i61_mms_report_clear(&d);
        q_count_malformed(q, 1);
        return;
    }
    struct i61_report *done = NULL;
    uint64_t lost = 0;
    if (d.opt_flds & I61_OPT_SEGMENTATION) {
        seg_handle(q, &d, len, &done, &lost);
        i61_mms_report_clear(&d);          /* whatever was not moved out */
    } else {
        done = report_from(&d);
        if (!done) {
            i61_mms_report_clear(&d);
            lost++;
        }
    }
    q_count_malformed(q, lost);
    if (done)
        q_push(q, done);
}

/* ------------------------------------------------------------ accessors */

void i61_report_free(i61_report *r)
{
    if (!r)
        return;
    i61_mms_report_clear(&r->r);
    free(r);
}

const char *i61_report_rpt_id(const i61_report *r)
{
    return r ? r->r.rpt_id : NULL;
}

uint32_t i61_report_opt_flds(const i61_report *r)
{
    return r ? r->r.opt_flds : 0;
}

uint32_t i61_report_seq_num(const i61_report *r)
{
    return r ? r->r.seq_num : 0;
}

uint32_t i61_report_sub_seq_num(const i61_report *r)
{
    return r ? r->r.sub_seq_num : 0;
}

int i61_report_more_segments_follow(const i61_report *r)
{
    return r ? r->r.more_segments : 0;
}

int i61_report_segments(const i61_report *r)
{
    return r ? r->segments : 0;
}

int64_t i61_report_time_ms(const i61_report *r)
{
    return r && r->r.has_time ? i61_binary_time_to_ms(r->r.time) : 0;
}

const char *i61_report_dataset(const i61_report *r)
{
    return r ? r->r.dataset : NULL;
}

int i61_report_buf_ovfl(const i61_report *r)
{
    return r ? r->r.buf_ovfl : 0;
}

const uint8_t *i61_report_entry_id(const i61_report *r, size_t *len)
{
    if (!r || !r->r.has_entry_id) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = sizeof r->r.entry_id;
    return r->r.entry_id;
}

uint32_t i61_report_conf_rev(const i61_report *r)
{
    return r ? r->r.conf_rev : 0;
}

size_t i61_report_dataset_size(const i61_report *r)
{
    return r ? r->r.dataset_size : 0;
}

size_t i61_report_count(const i61_report *r)
{
    return r ? r->r.n : 0;
}

int i61_report_member_index(const i61_report *r, size_t i)
{
    return r && i < r->r.n ? (int)r->r.members[i].index : -1;
}

const char *i61_report_member_ref(const i61_report *r, size_t i)
{
    return r && i < r->r.n ? r->r.members[i].ref : NULL;
}

const i61_value *i61_report_member_value(const i61_report *r, size_t i)
{
    return r && i < r->r.n ? r->r.members[i].value : NULL;
}

int i61_report_member_reason(const i61_report *r, size_t i)
{
    return r && i < r->r.n ? r->r.members[i].reason : -1;
}
