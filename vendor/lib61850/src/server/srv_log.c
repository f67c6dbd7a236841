/* Server logs: see srv_log.h.
 *
 * Behaviour choices (compared with libiec61850 1.6 where it matters):
 *  - LogEna TRUE needs a log (LogRef) and a data set (DatSet) that resolve,
 *    else temporarily-unavailable (as enabling an RCB without a data set).
 *    Writing TRUE again while enabled is accepted and changes nothing.
 *  - DatSet must name a domain-specific data set ("LD/LN$name" or
 *    "LD/LN.name"; "" = none); a data set an enabled LCB uses cannot be
 *    deleted (as for RCBs).
 *  - One entry per triggered member (reasons of one model store merged);
 *    an integrity entry holds every member. A member whose value cannot be
 *    read (alternate access that no longer fits) is left out of the entry.
 *  - ReadJournal: entries in id order; startingTime/endingTime filter by
 *    time (inclusive), startingEntry starts at that id, entryToStartAfter
 *    starts after its id (with the time as a lower bound) or, without an
 *    id, after its time; numberOfEntries (<= 0: none) caps the answer.
 *    moreFollows is TRUE when matching entries were left out because the
 *    response reached the negotiated PDU size. An entry that cannot fit a
 *    response on its own is skipped (it could never be delivered on this
 *    association).
 *  - Imported entries (i61_server_log_import) queue no log event: they come
 *    from the application's own storage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "srv_log.h"
#include "srv_nvl.h"
#include "../mms/mms_journal.h"
#include "../mms/mms_report.h"
#include "../mms/value_internal.h"
#include "../net/loop.h"

/* DataAccessError codes answered here */
#define DAE_HW_FAULT 1
#define DAE_TEMP_UNAVAILABLE 2
#define DAE_ACCESS_DENIED 3
#define DAE_TYPE_INCONSISTENT 7
#define DAE_VALUE_INVALID 11

#define I61_LCB_TRG_MASK 0x1fu
#define I61_LOG_REASON_TRG (I61_TRG_DCHG | I61_TRG_QCHG | I61_TRG_DUPD)
#define I61_LOG_ITEM_MAX I61_MODEL_ITEM_MAX          /* journal item "LN$LogName" */
#define I61_LOG_REF_MAX (I61_MODEL_NAME_MAX + 1 + I61_LOG_ITEM_MAX)
#define I61_LCB_LONGEST_COMP 9                       /* "OldEntrTm" */

/* One stored entry: its JournalEntry TLV. */
typedef struct i61_log_rec {
    uint64_t id;
    int64_t time_ms;
    size_t len;
    uint8_t data[];
} i61_log_rec;

struct i61_srv_log {
    i61_mnode *ld;
    i61_mnode *ln;
    char item[I61_LOG_ITEM_MAX + 1];      /* "LN$LogName" */
    char ref[I61_LOG_REF_MAX + 1];        /* "LD/LN$LogName" */
    uint32_t max;
    i61_log_rec **ring;                   /* cap slots, count entries from head */
    size_t cap, head, count;
    uint64_t last_id;                     /* the last id given (or imported) */
    uint64_t dropped;
    bool ev_on, ev_pending;
    void *ev_ud;
};

typedef struct i61_lcb_member {
    i61_mnode *ln;
    i61_mnode *node;
    int fc;
    bool has_index;
    uint32_t index;
    char *component;                      /* NULL = none */
    char *tag;                            /* "LD/LN$FC$DO$DA" */
    uint8_t pend;                         /* reasons collected in the current store */
} i61_lcb_member;

struct i61_srv_lcb {
    struct i61_log_set *set;
    i61_model *m;
    i61_mnode *node;                      /* the LCB (DO-level) node */
    i61_mnode *ln;
    bool log_ena;
    bool reason_code;
    char log_ref[I61_LOG_STR_MAX + 1];
    char datset[I61_LOG_STR_MAX + 1];
    uint32_t trg_ops, intg_pd;
    struct i61_srv_log *log;              /* what LogRef names, NULL = none */
    /* binding to the data set (while logging) */
    bool bound;
    i61_nvl *nvl;
    i61_lcb_member *mem;
    i61_log_watch *watches;
    size_t nmem;
    uint64_t next_intg;                   /* 0 = to compute */
};

typedef struct i61_log_pend {
    struct i61_srv_lcb *lcb;
    uint32_t idx;
} i61_log_pend;

struct i61_log_set {
    i61_server *srv;
    struct i61_srv_log **logs;
    size_t nlogs, caplogs;
    struct i61_srv_lcb **lcbs;
    size_t nlcbs, caplcbs;
    bool active;                          /* i61_srv_log_activate ran */
    size_t nwatch;                        /* bound members (0: stores return at once) */
    i61_log_pend *pend;                   /* members triggered by the current store */
    size_t npend, cappend;
    i61_buf enc;                          /* scratch: one entry */
    i61_buf jbuf;                         /* scratch: entries of a ReadJournal response */
};

/* ---------------------------------------------------------------- helpers */

static int64_t i61_log_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void i61_log_be64(uint64_t v, uint8_t out[8])
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)v;
        v >>= 8;
    }
}

/* Big-endian octets -> number; false when it does not fit 64 bits. */
static bool i61_log_id_of(const uint8_t *p, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (v >> 56)
            return false;
        v = v << 8 | p[i];
    }
    *out = v;
    return true;
}

static void i61_log_copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

static bool i61_log_name_ok(const char *s)
{
    if (!s || !*s || strlen(s) > I61_MODEL_NAME_MAX)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return false;
    return true;
}

/* mask bit k (0-based) <-> IEC bit k + 1 of an nbits bit string */
static i61_value *i61_log_mask_bits(uint32_t mask, int nbits)
{
    uint8_t b[2] = {0, 0};
    for (int k = 0; k + 1 < nbits && k < 15; k++)
        if (mask & (1u << k)) {
            int bit = k + 1;
            b[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
        }
    return i61_value_new_bit_string(nbits, b);
}

static uint32_t i61_log_bits_mask(const i61_value *v)
{
    size_t len = 0;
    const uint8_t *p = i61_value_get_bytes(v, &len);
    int nbits = i61_value_bit_size(v);
    uint32_t mask = 0;
    for (int bit = 1; bit < nbits && bit < 32 && p && (size_t)(bit / 8) < len; bit++)
        if (p[bit / 8] & (0x80 >> (bit % 8)))
            mask |= 1u << (bit - 1);
    return mask;
}

/* ReasonCode: BIT STRING(7), the report reason bits (application-trigger
 * is IEC bit 6). */
static i61_value *i61_log_reason_value(uint8_t reason)
{
    uint32_t r = reason & 0x1fu;
    if (reason & I61_REASON_APP_TRIGGER)
        r |= 1u << 5;
    return i61_log_mask_bits(r, 7);
}

static bool i61_log_str_value(const i61_value *v, char *out, size_t cap)
{
    size_t len = 0;
    const uint8_t *p = i61_value_get_bytes(v, &len);
    if (!p || len >= cap || memchr(p, 0, len))
        return false;
    memcpy(out, p, len);
    out[len] = 0;
    return true;
}

/* "LD/LN.x" or "LD/LN$x" -> "LD/LN$x" into out (the first '.' after the
 * slash becomes '$'); false when it is not of that form or too long. */
static bool i61_log_norm_ref(const char *ref, char *out, size_t cap)
{
    size_t len = strlen(ref);
    if (len == 0 || len >= cap)
        return false;
    const char *slash = strchr(ref, '/');
    if (!slash || slash == ref || !slash[1])
        return false;
    memcpy(out, ref, len + 1);
    char *sep = strpbrk(out + (slash - ref) + 1, ".$");
    if (!sep || sep == out + (slash - ref) + 1 || !sep[1])
        return false;
    *sep = '$';
    return true;
}

/* ------------------------------------------------------------ log storage */

static i61_log_rec *i61_log_at(const struct i61_srv_log *l, size_t i)
{
    return l->ring[(l->head + i) % l->cap];
}

/* First position whose id is > id (ids increase along the ring). */
static size_t i61_log_first_after(const struct i61_srv_log *l, uint64_t id)
{
    size_t lo = 0, hi = l->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (i61_log_at(l, mid)->id <= id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Appends r (taken; freed on failure). Drops the oldest entry when full. */
static int i61_log_push(struct i61_srv_log *l, i61_log_rec *r)
{
    if (l->count >= l->max && l->count > 0) {
        free(l->ring[l->head]);
        l->ring[l->head] = NULL;
        l->head = (l->head + 1) % l->cap;
        l->count--;
        l->dropped++;
    }
    if (l->count == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 16;
        if (nc > l->max)
            nc = l->max;
        if (nc <= l->count) {
            free(r);
            return I61_ERR_UNKNOWN;
        }
        i61_log_rec **nr = malloc(nc * sizeof *nr);
        if (!nr) {
            free(r);
            return I61_ERR_UNKNOWN;
        }
        for (size_t i = 0; i < l->count; i++)
            nr[i] = i61_log_at(l, i);
        free(l->ring);
        l->ring = nr;
        l->cap = nc;
        l->head = 0;
    }
    l->ring[(l->head + l->count) % l->cap] = r;
    l->count++;
    return I61_OK;
}

static i61_log_rec *i61_log_rec_new(uint64_t id, int64_t time_ms, const uint8_t *p, size_t len)
{
    i61_log_rec *r = malloc(sizeof *r + len);
    if (!r)
        return NULL;
    r->id = id;
    r->time_ms = time_ms;
    r->len = len;
    memcpy(r->data, p, len);
    return r;
}

static void i61_log_free_one(struct i61_srv_log *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(i61_log_at(l, i));
    free(l->ring);
    free(l);
}

/* Log of domain `domain` (dlen octets) with item `item`. */
static struct i61_srv_log *i61_log_find(const struct i61_log_set *set, const char *domain,
                                        size_t dlen, const char *item)
{
    for (size_t i = 0; set && i < set->nlogs; i++) {
        struct i61_srv_log *l = set->logs[i];
        const char *d = i61_model_ld_name(l->ld);
        if (strlen(d) == dlen && memcmp(d, domain, dlen) == 0 && strcmp(l->item, item) == 0)
            return l;
    }
    return NULL;
}

/* Log by reference "LD/LN$LogName" or "LD/LN.LogName". */
static struct i61_srv_log *i61_log_find_ref(const struct i61_log_set *set, const char *ref)
{
    char norm[I61_LOG_REF_MAX + 1];
    if (!set || !ref || !i61_log_norm_ref(ref, norm, sizeof norm))
        return NULL;
    const char *slash = strchr(norm, '/');
    return i61_log_find(set, norm, (size_t)(slash - norm), slash + 1);
}

/* Queues the "log got entries" event (model lock held). */
static void i61_log_notify(struct i61_log_set *set, struct i61_srv_log *l)
{
    if (!l->ev_on || l->ev_pending || !set->srv)
        return;
    if (i61_srv_push_event(set->srv, I61_SEV_LOG, 0, 0, I61_FC_NONE, l->ev_ud, NULL, l->ref))
        l->ev_pending = true;
}

/* --------------------------------------------------------------- the set */

static struct i61_log_set *i61_log_set_of(i61_model *m, bool create)
{
    if (!m->logs && create) {
        struct i61_log_set *set = calloc(1, sizeof *set);
        if (!set)
            return NULL;
        i61_buf_init(&set->enc);
        i61_buf_init(&set->jbuf);
        m->logs = set;
    }
    return m->logs;
}

static void i61_lcb_unbind(struct i61_srv_lcb *b)
{
    if (!b->bound)
        return;
    for (size_t i = 0; i < b->nmem; i++) {
        i61_log_watch **pp = &b->mem[i].node->log_watch;
        while (*pp && *pp != &b->watches[i])
            pp = &(*pp)->next;
        if (*pp)
            *pp = b->watches[i].next;
        free(b->mem[i].component);
        free(b->mem[i].tag);
    }
    b->set->nwatch -= b->nmem;
    i61_nvl_reserve(b->nvl, -1);
    free(b->mem);
    free(b->watches);
    b->mem = NULL;
    b->watches = NULL;
    b->nmem = 0;
    b->nvl = NULL;
    b->bound = false;
    b->next_intg = 0;
}

void i61_log_set_free(i61_model *m)
{
    struct i61_log_set *set = m ? m->logs : NULL;
    if (!set)
        return;
    for (size_t i = 0; i < set->nlcbs; i++) {
        i61_lcb_unbind(set->lcbs[i]);
        free(set->lcbs[i]);
    }
    for (size_t i = 0; i < set->nlogs; i++)
        i61_log_free_one(set->logs[i]);
    free(set->lcbs);
    free(set->logs);
    free(set->pend);
    i61_buf_free(&set->enc);
    i61_buf_free(&set->jbuf);
    free(set);
    m->logs = NULL;
}

static void i61_log_wake(struct i61_log_set *set)
{
    if (set->srv && set->srv->wake)
        set->srv->wake(set->srv);
}

/* ------------------------------------------------------------------ builder */

int i61_model_add_log(i61_model *m, const char *ln_ref, const char *name, uint32_t max_entries)
{
    if (!m || !ln_ref || !i61_log_name_ok(name))
        return I61_ERR_INVALID_ARGUMENT;
    i61_mnode *ln = NULL;
    int fc = I61_FC_NONE;
    int rc = i61_model_find(m, ln_ref, I61_FC_NONE, &ln, &fc);
    if (rc != I61_OK)
        return rc == I61_ERR_OBJECT_REFERENCE_INVALID ? I61_ERR_INVALID_ARGUMENT : rc;
    if (ln->kind != I61_MNODE_LN || !ln->parent)
        return I61_ERR_INVALID_ARGUMENT;
    if (strlen(ln->name) + 1 + strlen(name) > I61_LOG_ITEM_MAX)
        return I61_ERR_INVALID_ARGUMENT;
    i61_model_lock(m);
    struct i61_log_set *set = i61_log_set_of(m, true);
    if (!set) {
        i61_model_unlock(m);
        return I61_ERR_UNKNOWN;
    }
    char item[I61_LOG_ITEM_MAX + 1];
    snprintf(item, sizeof item, "%s$%s", ln->name, name);
    const char *dom = i61_model_ld_name(ln->parent);
    if (i61_log_find(set, dom, strlen(dom), item)) {
        i61_model_unlock(m);
        return I61_ERR_OBJECT_EXISTS;
    }
    if (set->nlogs == set->caplogs) {
        size_t nc = set->caplogs ? set->caplogs * 2 : 4;
        struct i61_srv_log **v = realloc(set->logs, nc * sizeof *v);
        if (!v) {
            i61_model_unlock(m);
            return I61_ERR_UNKNOWN;
        }
        set->logs = v;
        set->caplogs = nc;
    }
    struct i61_srv_log *l = calloc(1, sizeof *l);
    if (!l) {
        i61_model_unlock(m);
        return I61_ERR_UNKNOWN;
    }
    l->ld = ln->parent;
    l->ln = ln;
    memcpy(l->item, item, sizeof item);
    snprintf(l->ref, sizeof l->ref, "%s/%s", dom, item);
    l->max = max_entries ? max_entries : I61_LOG_DEFAULT_MAX;
    set->logs[set->nlogs++] = l;
    i61_model_unlock(m);
    return I61_OK;
}

typedef struct i61_lcb_comp {
    const char *name;
    int attr;
    int type;
    int size;
} i61_lcb_comp;

/* IEC 61850-8-1 LCB components, in order (FC LG). */
static const i61_lcb_comp i61_lcb_comps[] = {
    {"LogEna", I61_LCB_LOG_ENA, I61_TYPE_BOOLEAN, 0},
    {"LogRef", I61_LCB_LOG_REF, I61_TYPE_VISIBLE_STRING, -I61_LOG_STR_MAX},
    {"DatSet", I61_LCB_DATSET, I61_TYPE_VISIBLE_STRING, -I61_LOG_STR_MAX},
    {"OldEntrTm", I61_LCB_OLD_ENTR_TM, I61_TYPE_BINARY_TIME, 6},
    {"NewEntrTm", I61_LCB_NEW_ENTR_TM, I61_TYPE_BINARY_TIME, 6},
    {"OldEnt", I61_LCB_OLD_ENT, I61_TYPE_OCTET_STRING, 8},
    {"NewEnt", I61_LCB_NEW_ENT, I61_TYPE_OCTET_STRING, 8},
    {"TrgOps", I61_LCB_TRG_OPS, I61_TYPE_BIT_STRING, -6},
    {"IntgPd", I61_LCB_INTG_PD, I61_TYPE_UNSIGNED, 32},
};

/* Domain-specific data set by DatSet string "LD/LN$name" (model lock held). */
static i61_nvl *i61_lcb_find_nvl(i61_model *m, const char *datset)
{
    const char *slash = strchr(datset, '/');
    if (!slash || slash == datset || (size_t)(slash - datset) > I61_MMS_NAME_MAX ||
        strlen(slash + 1) > I61_MMS_NAME_MAX || !slash[1])
        return NULL;
    i61_mms_name n;
    memset(&n, 0, sizeof n);
    n.scope = I61_MMS_SCOPE_DOMAIN;
    memcpy(n.domain, datset, (size_t)(slash - datset));
    strcpy(n.item, slash + 1);
    return i61_nvl_find(m, &n, 0);
}

static void i61_lcb_start(struct i61_srv_lcb *b);

int i61_model_add_lcb(i61_model *m, const char *ln_ref, const char *name,
                      const i61_lcb_config *cfg)
{
    static const i61_lcb_config none;
    if (!cfg)
        cfg = &none;
    if (!m || !ln_ref || !i61_log_name_ok(name))
        return I61_ERR_INVALID_ARGUMENT;
    char datset[I61_LOG_STR_MAX + 1] = "";
    char log_ref[I61_LOG_STR_MAX + 1] = "";
    if (cfg->dataset && cfg->dataset[0] &&
        !i61_log_norm_ref(cfg->dataset, datset, sizeof datset))
        return I61_ERR_INVALID_ARGUMENT;
    if (cfg->log_ref && cfg->log_ref[0] &&
        !i61_log_norm_ref(cfg->log_ref, log_ref, sizeof log_ref))
        return I61_ERR_INVALID_ARGUMENT;
    i61_mnode *ln = NULL;
    int fc = I61_FC_NONE;
    int rc = i61_model_find(m, ln_ref, I61_FC_NONE, &ln, &fc);
    if (rc != I61_OK)
        return rc == I61_ERR_OBJECT_REFERENCE_INVALID ? I61_ERR_INVALID_ARGUMENT : rc;
    if (ln->kind != I61_MNODE_LN)
        return I61_ERR_INVALID_ARGUMENT;
    /* the longest component name must fit in an MMS item name */
    if (strlen(ln->name) + 4 + strlen(name) + 1 + I61_LCB_LONGEST_COMP > I61_MODEL_ITEM_MAX)
        return I61_ERR_INVALID_ARGUMENT;

    i61_model_lock(m);
    struct i61_log_set *set = i61_log_set_of(m, true);
    struct i61_srv_log *log = NULL;
    if (log_ref[0]) {
        log = i61_log_find_ref(set, log_ref);
        if (!log) {
            i61_model_unlock(m);
            return set ? I61_ERR_OBJECT_DOES_NOT_EXIST : I61_ERR_UNKNOWN;
        }
    }
    if (datset[0] && !i61_lcb_find_nvl(m, datset)) {
        i61_model_unlock(m);
        return I61_ERR_OBJECT_DOES_NOT_EXIST;
    }
    struct i61_srv_lcb *b = calloc(1, sizeof *b);
    if (!set || !b) {
        free(b);
        i61_model_unlock(m);
        return I61_ERR_UNKNOWN;
    }
    if (set->nlcbs == set->caplcbs) {
        size_t nc = set->caplcbs ? set->caplcbs * 2 : 4;
        struct i61_srv_lcb **v = realloc(set->lcbs, nc * sizeof *v);
        if (!v) {
            free(b);
            i61_model_unlock(m);
            return I61_ERR_UNKNOWN;
        }
        set->lcbs = v;
        set->caplcbs = nc;
    }
    i61_mnode *node = NULL;
    rc = i61_model_add_do(ln, name, &node);
    if (rc != I61_OK) {
        free(b);
        i61_model_unlock(m);
        return rc;
    }
    for (size_t i = 0; i < sizeof i61_lcb_comps / sizeof i61_lcb_comps[0] && rc == I61_OK; i++) {
        i61_mnode *k = NULL;
        rc = i61_model_add_da(node, i61_lcb_comps[i].name, I61_FC_LG, i61_lcb_comps[i].type,
                              i61_lcb_comps[i].size, 0, &k);
        if (rc == I61_OK)
            k->lcb_attr = (uint8_t)(i61_lcb_comps[i].attr + 1);
    }
    if (rc != I61_OK) {
        i61_model_remove_node(node);
        free(b);
        i61_model_unlock(m);
        return rc == I61_ERR_INVALID_ARGUMENT ? rc : I61_ERR_UNKNOWN;
    }
    b->set = set;
    b->m = m;
    b->node = node;
    b->ln = ln;
    b->log_ena = cfg->log_ena != 0;
    b->reason_code = cfg->reason_code != 0;
    memcpy(b->log_ref, log_ref, sizeof log_ref);
    memcpy(b->datset, datset, sizeof datset);
    b->trg_ops = cfg->trg_ops & I61_LCB_TRG_MASK;
    b->intg_pd = cfg->intg_pd;
    b->log = log;
    node->lcb = b;
    set->lcbs[set->nlcbs++] = b;
    if (set->active && b->log_ena)
        i61_lcb_start(b);                    /* added to a running server: log now */
    i61_model_unlock(m);
    return I61_OK;
}

int i61_srv_log_attach(i61_server *s)
{
    i61_model_lock(s->model);
    struct i61_log_set *set = i61_log_set_of(s->model, true);
    if (set)
        set->srv = s;
    i61_model_unlock(s->model);
    return set ? I61_OK : I61_ERR_UNKNOWN;
}

bool i61_srv_logs_enabled(i61_server *s)
{
    i61_model_lock(s->model);
    bool on = s->model->logs && s->model->logs->nlogs > 0;
    i61_model_unlock(s->model);
    return on;
}

/* ------------------------------------------------------------- LCB values */

static i61_value *i61_lcb_attr_value(const struct i61_srv_lcb *b, int attr)
{
    const struct i61_srv_log *l = b->log;
    const i61_log_rec *r = NULL;
    if (l && l->count > 0)
        r = (attr == I61_LCB_OLD_ENTR_TM || attr == I61_LCB_OLD_ENT) ? i61_log_at(l, 0)
                                                                      : i61_log_at(l, l->count - 1);
    switch (attr) {
    case I61_LCB_LOG_ENA:
        return i61_value_new_boolean(b->log_ena);
    case I61_LCB_LOG_REF:
        return i61_value_new_visible_string(b->log_ref);
    case I61_LCB_DATSET:
        return i61_value_new_visible_string(b->datset);
    case I61_LCB_OLD_ENTR_TM:
    case I61_LCB_NEW_ENTR_TM: {
        uint8_t t[6] = {0, 0, 0, 0, 0, 0};
        if (r && r->time_ms > 0)
            i61_binary_time_from_ms(r->time_ms, t);
        return i61_value_new_binary_time(t, 6);
    }
    case I61_LCB_OLD_ENT:
    case I61_LCB_NEW_ENT: {
        uint8_t id[8];
        i61_log_be64(r ? r->id : 0, id);
        return i61_value_new_octet_string(id, 8);
    }
    case I61_LCB_TRG_OPS:
        return i61_log_mask_bits(b->trg_ops, 6);
    case I61_LCB_INTG_PD:
        return i61_value_new_unsigned_sized(b->intg_pd, 32);
    default:
        return NULL;
    }
}

static void i61_lcb_refresh(const struct i61_srv_lcb *b)
{
    for (size_t i = 0; i < b->node->nkids; i++) {
        i61_mnode *k = b->node->kids[i];
        if (!k->lcb_attr)
            continue;
        i61_value *v = i61_lcb_attr_value(b, k->lcb_attr - 1);
        if (v) {                               /* out of memory: keep the old value */
            i61_value_free(k->value);
            k->value = v;
        }
    }
}

void i61_log_sync(const i61_mnode *n, int fc)
{
    if (!n || !n->model || !n->model->logs)
        return;
    if (n->lcb_attr && n->parent)
        n = n->parent;
    if (n->lcb) {
        i61_lcb_refresh(n->lcb);
        return;
    }
    if (n->kind != I61_MNODE_LN || !(fc == I61_FC_NONE || fc == I61_FC_LG))
        return;
    const struct i61_log_set *set = n->model->logs;
    for (size_t i = 0; i < set->nlcbs; i++)
        if (set->lcbs[i]->ln == n)
            i61_lcb_refresh(set->lcbs[i]);
}

/* ---------------------------------------------------------------- binding */

/* Binds b to data set l (model lock held). I61_OK, I61_ERR_UNKNOWN (OOM) or
 * I61_ERR_OBJECT_DOES_NOT_EXIST (a member is not in the model). */
static int i61_lcb_bind(struct i61_srv_lcb *b, i61_nvl *l)
{
    i61_lcb_unbind(b);
    i61_model *m = b->m;
    if (i61_model_prepare(m) != I61_OK)
        return I61_ERR_UNKNOWN;
    size_t n = l->n;
    i61_lcb_member *mem = calloc(n ? n : 1, sizeof *mem);
    i61_log_watch *w = calloc(n ? n : 1, sizeof *w);
    int rc = (mem && w) ? I61_OK : I61_ERR_UNKNOWN;
    for (size_t i = 0; i < n && rc == I61_OK; i++) {
        const i61_mms_var *mv = &l->members[i];
        i61_mnode *ld = mv->name.scope == I61_MMS_SCOPE_DOMAIN
                            ? i61_model_domain(m, mv->name.domain)
                            : NULL;
        const i61_mvar *v = ld ? i61_model_var(m, ld, mv->name.item) : NULL;
        if (!v) {
            rc = I61_ERR_OBJECT_DOES_NOT_EXIST;
            break;
        }
        mem[i].ln = v->ln;
        mem[i].node = v->node;
        mem[i].fc = v->fc;
        mem[i].has_index = mv->has_index;
        mem[i].index = mv->index;
        /* "LD/item[(index)][$component]" */
        size_t tl = strlen(mv->name.domain) + 1 + strlen(mv->name.item) + 12 +
                    strlen(mv->component) + 2;
        mem[i].tag = malloc(tl);
        if (mem[i].tag) {
            int k = snprintf(mem[i].tag, tl, "%s/%s", mv->name.domain, mv->name.item);
            if (mv->has_index && k > 0)
                k += snprintf(mem[i].tag + k, tl - (size_t)k, "(%u)", (unsigned)mv->index);
            if (mv->component[0] && k > 0)
                snprintf(mem[i].tag + k, tl - (size_t)k, "$%s", mv->component);
        }
        if (mv->component[0])
            mem[i].component = strdup(mv->component);
        if (!mem[i].tag || (mv->component[0] && !mem[i].component))
            rc = I61_ERR_UNKNOWN;
    }
    if (rc != I61_OK) {
        for (size_t i = 0; mem && i < n; i++) {
            free(mem[i].tag);
            free(mem[i].component);
        }
        free(mem);
        free(w);
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        w[i].lcb = b;
        w[i].index = (uint32_t)i;
        w[i].fc = mem[i].fc;
        w[i].next = mem[i].node->log_watch;
        mem[i].node->log_watch = &w[i];
    }
    b->mem = mem;
    b->watches = w;
    b->nmem = n;
    b->nvl = l;
    b->bound = true;
    b->next_intg = 0;
    b->set->nwatch += n;
    i61_nvl_reserve(l, 1);
    return I61_OK;
}

/* Logging starts for an LCB with LogEna TRUE (model lock held): binds its
 * data set. I61_OK or the reason it cannot. */
static int i61_lcb_bind_current(struct i61_srv_lcb *b)
{
    if (!b->log || !b->datset[0])
        return I61_ERR_OBJECT_DOES_NOT_EXIST;
    i61_nvl *l = i61_lcb_find_nvl(b->m, b->datset);
    if (!l)
        return I61_ERR_OBJECT_DOES_NOT_EXIST;
    return i61_lcb_bind(b, l);
}

static void i61_lcb_start(struct i61_srv_lcb *b)
{
    if (!b->bound && i61_lcb_bind_current(b) == I61_OK)
        i61_log_wake(b->set);                /* the I/O thread arms IntgPd */
}

void i61_srv_log_activate(i61_server *s)
{
    i61_model *m = s->model;
    i61_model_lock(m);
    struct i61_log_set *set = m->logs;
    if (set)
        set->active = true;
    for (size_t i = 0; set && i < set->nlcbs; i++)
        if (set->lcbs[i]->log_ena)
            i61_lcb_start(set->lcbs[i]);
    i61_model_unlock(m);
}

/* ---------------------------------------------------------------- entries */

/* Current value of member idx (new), NULL when it cannot be read. */
static i61_value *i61_lcb_member_value(const struct i61_srv_lcb *b, size_t idx)
{
    const i61_lcb_member *mb = &b->mem[idx];
    i61_mvar v;
    v.name = NULL;
    v.ln = mb->ln;
    v.node = mb->node;
    v.fc = mb->fc;
    i61_maccess aa;
    aa.has_index = mb->has_index;
    aa.index = mb->index;
    aa.component = mb->component;
    i61_value *out = NULL;
    if (i61_model_read_var_value(&v, &aa, &out) >= 0) {
        i61_value_free(out);
        return NULL;
    }
    return out;
}

/* Adds one entry to b's log: members idx[k] (reasons rs[k]) with their
 * current values, at time t (model lock held). */
static void i61_lcb_log(struct i61_srv_lcb *b, const uint32_t *idx, const uint8_t *rs, size_t n,
                        int64_t t)
{
    struct i61_srv_log *l = b->log;
    struct i61_log_set *set = b->set;
    if (!l || n == 0 || l->last_id == UINT64_MAX)
        return;
    size_t per = b->reason_code ? 2 : 1;
    i61_mms_journal_var *vars = calloc(n * per, sizeof *vars);
    if (!vars)
        return;                              /* out of memory: the entry is lost */
    size_t k = 0;
    bool oom = false;
    for (size_t i = 0; i < n && !oom; i++) {
        if (idx[i] >= b->nmem)
            continue;
        i61_value *v = i61_lcb_member_value(b, idx[i]);
        if (!v)
            continue;
        vars[k].tag = b->mem[idx[i]].tag;
        vars[k].value = v;
        k++;
        if (b->reason_code) {
            vars[k].tag = "ReasonCode";
            vars[k].value = i61_log_reason_value(rs[i]);
            oom = vars[k].value == NULL;
            k++;
        }
    }
    int rc = I61_ERR_UNKNOWN;
    if (k > 0 && !oom) {
        i61_mms_journal_entry e;
        memset(&e, 0, sizeof e);
        i61_log_be64(l->last_id + 1, e.id);
        e.id_len = 8;
        e.time_ms = t;
        e.vars = vars;
        e.nvars = k;
        i61_buf_reset(&set->enc);
        rc = i61_mms_enc_journal_entry(&set->enc, &e);
        if (set->enc.oom)
            rc = I61_ERR_UNKNOWN;
    }
    for (size_t i = 0; i < k; i++)
        i61_value_free(vars[i].value);
    free(vars);
    if (rc != I61_OK) {
        set->enc.oom = 0;
        return;
    }
    i61_log_rec *r = i61_log_rec_new(l->last_id + 1, t, set->enc.data, set->enc.len);
    if (!r || i61_log_push(l, r) != I61_OK)
        return;                              /* (push frees r on failure) */
    l->last_id++;
    i61_log_notify(set, l);
}

static uint8_t i61_log_default_trg(const i61_mnode *h)
{
    if (h->name[0] == 'q' && h->name[1] == '\0')
        return I61_TRG_QCHG;
    if (h->name[0] == 't' && h->name[1] == '\0')
        return 0;
    return I61_TRG_DCHG;
}

/* Same value? (holders: depth bounded by the model; 64 is far beyond it) */
static bool i61_log_val_eq(const i61_value *a, const i61_value *b, int depth)
{
    if (a == b)
        return true;
    if (!a || !b || a->type != b->type || a->bits != b->bits || depth > 64)
        return false;
    switch (a->type) {
    case I61_TYPE_BOOLEAN:
        return a->u.b == b->u.b;
    case I61_TYPE_INTEGER:
    case I61_TYPE_BCD:
        return a->u.i == b->u.i;
    case I61_TYPE_UNSIGNED:
        return a->u.u == b->u.u;
    case I61_TYPE_FLOAT:
        return a->bits == 64 ? memcmp(&a->u.d, &b->u.d, sizeof a->u.d) == 0
                             : memcmp(&a->u.f, &b->u.f, sizeof a->u.f) == 0;
    case I61_TYPE_DATA_ACCESS_ERROR:
        return a->u.dae == b->u.dae;
    case I61_TYPE_STRUCTURE:
    case I61_TYPE_ARRAY:
        if (a->u.list.n != b->u.list.n)
            return false;
        for (size_t i = 0; i < a->u.list.n; i++)
            if (!i61_log_val_eq(a->u.list.items[i], b->u.list.items[i], depth + 1))
                return false;
        return true;
    default:
        return a->u.bytes.len == b->u.bytes.len &&
               (a->u.bytes.len == 0 || memcmp(a->u.bytes.p, b->u.bytes.p, a->u.bytes.len) == 0);
    }
}

void i61_log_on_store(i61_model *m, i61_mnode *const *nodes, i61_value *const *olds, size_t n)
{
    struct i61_log_set *set = m ? m->logs : NULL;
    if (!set || set->nwatch == 0)
        return;
    set->npend = 0;
    for (size_t i = 0; i < n; i++) {
        i61_mnode *holder = nodes[i];
        uint8_t trg = (holder->trg & I61_MNODE_TRG_SET) ? (holder->trg & I61_LOG_REASON_TRG)
                                                          : i61_log_default_trg(holder);
        if (!trg)
            continue;
        int reason = -1;                       /* computed on the first watch found */
        for (i61_mnode *nd = holder; nd && nd->kind >= I61_MNODE_LN; nd = nd->parent) {
            for (i61_log_watch *w = nd->log_watch; w; w = w->next) {
                if (w->fc != I61_FC_NONE && w->fc != holder->fc)
                    continue;
                struct i61_srv_lcb *b = w->lcb;
                if (!b->log_ena || !b->bound || !b->log)
                    continue;
                if (reason < 0) {
                    bool same = i61_log_val_eq(olds[i], holder->value, 0);
                    int chg = trg & (I61_TRG_DCHG | I61_TRG_QCHG);
                    reason = same ? (trg & I61_TRG_DUPD) : (chg ? chg : (trg & I61_TRG_DUPD));
                }
                uint8_t rs = (uint8_t)(reason & (int)b->trg_ops);
                if (!rs)
                    continue;
                i61_lcb_member *mb = &b->mem[w->index];
                if (!mb->pend) {
                    if (set->npend == set->cappend) {
                        size_t nc = set->cappend ? set->cappend * 2 : 16;
                        i61_log_pend *p = realloc(set->pend, nc * sizeof *p);
                        if (!p)
                            continue;          /* out of memory: this trigger is lost */
                        set->pend = p;
                        set->cappend = nc;
                    }
                    set->pend[set->npend].lcb = b;
                    set->pend[set->npend].idx = w->index;
                    set->npend++;
                }
                mb->pend |= rs;
            }
        }
    }
    if (set->npend == 0)
        return;
    int64_t t = i61_log_wall_ms();
    for (size_t k = 0; k < set->npend; k++) {
        struct i61_srv_lcb *b = set->pend[k].lcb;
        uint32_t idx = set->pend[k].idx;
        uint8_t rs = b->mem[idx].pend;
        b->mem[idx].pend = 0;
        i61_lcb_log(b, &idx, &rs, 1, t);
    }
    set->npend = 0;
}

/* Integrity entry: every member (model lock held). */
static void i61_lcb_integrity(struct i61_srv_lcb *b)
{
    size_t n = b->nmem;
    uint32_t *idx = malloc((n ? n : 1) * sizeof *idx);
    uint8_t *rs = malloc(n ? n : 1);
    if (idx && rs) {
        for (size_t i = 0; i < n; i++) {
            idx[i] = (uint32_t)i;
            rs[i] = I61_REASON_INTEGRITY;
        }
        i61_lcb_log(b, idx, rs, n, i61_log_wall_ms());
    }
    free(idx);
    free(rs);
}

uint64_t i61_srv_log_run(i61_server *s, uint64_t now)
{
    i61_model *m = s->model;
    i61_model_lock(m);
    struct i61_log_set *set = m->logs;
    uint64_t next = 0;
    for (size_t i = 0; set && i < set->nlcbs; i++) {
        struct i61_srv_lcb *b = set->lcbs[i];
        if (!b->log_ena || !b->bound || !b->log || !(b->trg_ops & I61_TRG_INTEGRITY) ||
            b->intg_pd == 0) {
            b->next_intg = 0;
            continue;
        }
        if (!b->next_intg) {
            b->next_intg = now + b->intg_pd;
        } else if (now >= b->next_intg) {
            i61_lcb_integrity(b);
            b->next_intg += b->intg_pd;
            if (b->next_intg <= now)
                b->next_intg = now + b->intg_pd;   /* fell behind: no burst */
        }
        if (!next || b->next_intg < next)
            next = b->next_intg;
    }
    i61_model_unlock(m);
    return next;
}

/* ------------------------------------------------------------------ writes */

int i61_srv_lcb_write(i61_sconn *c, i61_mnode *comp, const i61_value *value)
{
    (void)c;
    struct i61_srv_lcb *b = comp && comp->parent ? comp->parent->lcb : NULL;
    if (!b || !comp->lcb_attr)
        return DAE_ACCESS_DENIED;
    int attr = comp->lcb_attr - 1;
    if (i61_model_check_node_value(comp, comp->fc, value) != I61_OK)
        return DAE_TYPE_INCONSISTENT;
    char s[I61_LOG_STR_MAX + 1];
    char norm[I61_LOG_STR_MAX + 1];
    uint64_t u = 0;
    switch (attr) {
    case I61_LCB_LOG_ENA: {
        int on = 0;
        i61_value_get_boolean(value, &on);
        if (!on) {
            i61_lcb_unbind(b);
            b->log_ena = false;
            return -1;
        }
        if (!b->bound) {
            int rc = i61_lcb_bind_current(b);
            if (rc != I61_OK)
                return rc == I61_ERR_UNKNOWN ? DAE_HW_FAULT : DAE_TEMP_UNAVAILABLE;
        }
        b->log_ena = true;
        i61_log_wake(b->set);                 /* the I/O thread arms IntgPd */
        return -1;
    }
    case I61_LCB_LOG_REF:
    case I61_LCB_DATSET:
    case I61_LCB_TRG_OPS:
    case I61_LCB_INTG_PD:
        if (b->log_ena)
            return DAE_TEMP_UNAVAILABLE;      /* configuration only while disabled */
        break;
    default:
        return DAE_ACCESS_DENIED;
    }
    switch (attr) {
    case I61_LCB_LOG_REF: {
        if (!i61_log_str_value(value, s, sizeof s) || !i61_log_norm_ref(s, norm, sizeof norm))
            return DAE_VALUE_INVALID;
        struct i61_srv_log *l = i61_log_find_ref(b->set, norm);
        if (!l)
            return DAE_VALUE_INVALID;
        b->log = l;
        i61_log_copy_str(b->log_ref, sizeof b->log_ref, norm);
        return -1;
    }
    case I61_LCB_DATSET:
        if (!i61_log_str_value(value, s, sizeof s))
            return DAE_VALUE_INVALID;
        if (!s[0]) {
            b->datset[0] = 0;
            return -1;
        }
        if (!i61_log_norm_ref(s, norm, sizeof norm) || !i61_lcb_find_nvl(b->m, norm))
            return DAE_VALUE_INVALID;
        i61_log_copy_str(b->datset, sizeof b->datset, norm);
        return -1;
    case I61_LCB_TRG_OPS:
        b->trg_ops = i61_log_bits_mask(value) & I61_LCB_TRG_MASK;
        return -1;
    default:                                  /* I61_LCB_INTG_PD */
        i61_value_get_uint64(value, &u);
        b->intg_pd = u > UINT32_MAX ? UINT32_MAX : (uint32_t)u;
        return -1;
    }
}

/* ------------------------------------------------------------ public API */

int i61_server_log_info(i61_server *s, const char *log_ref, i61_log_info *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!s || !log_ref || !out)
        return I61_ERR_INVALID_ARGUMENT;
    i61_model_lock(s->model);
    const struct i61_srv_log *l = i61_log_find_ref(s->model->logs, log_ref);
    if (l) {
        out->count = l->count;
        out->dropped = l->dropped;
        if (l->count > 0) {
            const i61_log_rec *a = i61_log_at(l, 0), *z = i61_log_at(l, l->count - 1);
            out->oldest_id = a->id;
            out->oldest_ms = a->time_ms;
            out->newest_id = z->id;
            out->newest_ms = z->time_ms;
        }
    }
    i61_model_unlock(s->model);
    return l ? I61_OK : I61_ERR_OBJECT_DOES_NOT_EXIST;
}

int i61_server_log_export(i61_server *s, const char *log_ref, uint64_t after_id, uint8_t *buf,
                          size_t cap, size_t *used, size_t *n, uint64_t *last_id)
{
    if (used)
        *used = 0;
    if (n)
        *n = 0;
    if (last_id)
        *last_id = after_id;
    if (!s || !log_ref || (!buf && cap > 0))
        return I61_ERR_INVALID_ARGUMENT;
    i61_model_lock(s->model);
    struct i61_srv_log *l = i61_log_find_ref(s->model->logs, log_ref);
    if (!l) {
        i61_model_unlock(s->model);
        return I61_ERR_OBJECT_DOES_NOT_EXIST;
    }
    int rc = I61_OK;
    size_t off = 0, cnt = 0;
    uint64_t last = after_id;
    for (size_t i = i61_log_first_after(l, after_id); i < l->count; i++) {
        const i61_log_rec *r = i61_log_at(l, i);
        if (r->len > cap - off) {
            if (cnt == 0) {
                off = r->len;                 /* the size it needs */
                rc = I61_ERR_INVALID_ARGUMENT;
            }
            break;
        }
        memcpy(buf + off, r->data, r->len);
        off += r->len;
        cnt++;
        last = r->id;
    }
    l->ev_pending = false;                    /* the next entry queues an event again */
    i61_model_unlock(s->model);
    if (used)
        *used = off;
    if (n)
        *n = cnt;
    if (last_id)
        *last_id = last;
    return rc;
}

int i61_server_log_import(i61_server *s, const char *log_ref, const uint8_t *data, size_t len,
                          size_t *n)
{
    if (n)
        *n = 0;
    if (!s || !log_ref || (!data && len > 0))
        return I61_ERR_INVALID_ARGUMENT;
    i61_model_lock(s->model);
    struct i61_srv_log *l = i61_log_find_ref(s->model->logs, log_ref);
    if (!l) {
        i61_model_unlock(s->model);
        return I61_ERR_OBJECT_DOES_NOT_EXIST;
    }
    int rc = I61_OK;
    size_t off = 0, added = 0;
    while (off < len) {
        i61_mms_journal_entry e;
        memset(&e, 0, sizeof e);
        size_t used = 0;
        int drc = i61_mms_dec_journal_entry(data + off, len - off, &used, &e);
        uint64_t id = 0;
        bool ok = drc == I61_OK && used > 0 && used <= len - off && e.id_len == 8 &&
                  i61_log_id_of(e.id, 8, &id);
        int64_t t = e.time_ms;
        i61_mms_journal_entry_clear(&e);
        if (!ok) {
            rc = drc == I61_ERR_UNKNOWN ? I61_ERR_UNKNOWN : I61_ERR_MALFORMED_MESSAGE;
            break;
        }
        if (id > l->last_id) {
            i61_log_rec *r = i61_log_rec_new(id, t, data + off, used);
            if (!r || i61_log_push(l, r) != I61_OK) {
                rc = I61_ERR_UNKNOWN;
                break;
            }
            l->last_id = id;
            added++;
        }
        off += used;
    }
    i61_model_unlock(s->model);
    if (n)
        *n = added;
    return rc;
}

int i61_server_set_log_events(i61_server *s, const char *log_ref, int on, void *userdata)
{
    if (!s || !log_ref)
        return I61_ERR_INVALID_ARGUMENT;
    i61_model_lock(s->model);
    struct i61_srv_log *l = i61_log_find_ref(s->model->logs, log_ref);
    if (l) {
        l->ev_on = on != 0;
        l->ev_ud = on ? userdata : NULL;
        l->ev_pending = false;
    }
    i61_model_unlock(s->model);
    return l ? I61_OK : I61_ERR_OBJECT_DOES_NOT_EXIST;
}

/* ---------------------------------------------------------------- services */

static int i61_log_name_cmp_p(const void *a, const void *b)
{
    return i61_model_name_cmp(*(const char *const *)a, *(const char *const *)b);
}

int i61_log_names(i61_model *m, const i61_mnode *ld, const char *after, const char ***names,
                  size_t *n)
{
    *names = NULL;
    *n = 0;
    const struct i61_log_set *set = m->logs;
    size_t cnt = 0;
    for (size_t i = 0; set && i < set->nlogs; i++)
        cnt += set->logs[i]->ld == ld;
    if (cnt == 0)
        return I61_OK;
    const char **v = malloc(cnt * sizeof *v);
    if (!v)
        return I61_ERR_UNKNOWN;
    size_t k = 0;
    for (size_t i = 0; i < set->nlogs; i++)
        if (set->logs[i]->ld == ld && (!after || i61_model_name_cmp(set->logs[i]->item, after) > 0))
            v[k++] = set->logs[i]->item;
    qsort(v, k, sizeof *v, i61_log_name_cmp_p);
    if (k == 0) {
        free(v);
        v = NULL;
    }
    *names = v;
    *n = k;
    return I61_OK;
}

static void i61_log_send_error(i61_sconn *c, uint32_t id, int cls, int code)
{
    i61_buf_reset(&c->pdu);
    i61_mms_enc_error_pdu(&c->pdu, id, cls, code);
    if (c->pdu.oom) {
        c->close_now = true;
        return;
    }
    i61_sconn_send_pdu(c, c->pdu.data, c->pdu.len);
}

/* Does entry r match the request's time bounds? */
static bool i61_log_time_ok(const i61_mms_journal_req *q, bool after_by_id, const i61_log_rec *r)
{
    if (q->has_start_time && r->time_ms < q->start_ms)
        return false;
    if (q->has_end_time && r->time_ms > q->end_ms)
        return false;
    if (q->has_after) {
        if (after_by_id ? r->time_ms < q->after_ms : r->time_ms <= q->after_ms)
            return false;
    }
    return true;
}

void i61_srv_read_journal(i61_sconn *c, const i61_mms_request *rq)
{
    i61_mms_journal_req q;
    memset(&q, 0, sizeof q);
    int drc = i61_mms_dec_read_journal_req(rq, &q);
    if (drc != I61_OK) {
        if (drc == I61_ERR_UNKNOWN) {
            i61_log_send_error(c, rq->invoke_id, I61_MMS_ERRCLASS_RESOURCE, 0);
        } else {
            i61_buf_reset(&c->pdu);
            i61_mms_enc_reject_pdu(&c->pdu, true, rq->invoke_id, I61_MMS_REJECT_CONFIRMED_REQUEST,
                                   I61_MMS_REJECT_INVALID_ARGUMENT);
            if (c->pdu.oom)
                c->close_now = true;
            else
                i61_sconn_send_pdu(c, c->pdu.data, c->pdu.len);
        }
        return;
    }
    i61_model *m = c->srv->model;
    i61_model_lock(m);
    struct i61_log_set *set = m->logs;
    struct i61_srv_log *l = NULL;
    if (q.journal.scope == I61_MMS_SCOPE_DOMAIN)
        l = i61_log_find(set, q.journal.domain, strlen(q.journal.domain), q.journal.item);
    if (!l) {
        i61_model_unlock(m);
        /* object-non-existent (golden 131) */
        i61_log_send_error(c, rq->invoke_id, I61_MMS_ERRCLASS_ACCESS, 2);
        return;
    }
    /* where to start */
    size_t i = 0;
    bool none = false;
    bool after_by_id = q.has_after && q.after_entry_len > 0;
    uint64_t id = 0;
    if (after_by_id) {
        if (i61_log_id_of(q.after_entry, q.after_entry_len, &id))
            i = i61_log_first_after(l, id);
        else
            none = true;                      /* beyond any id */
    }
    if (q.has_start_entry) {
        if (!i61_log_id_of(q.start_entry, q.start_entry_len, &id))
            none = true;
        else if (id > 0) {
            size_t j = i61_log_first_after(l, id - 1);
            if (j > i)
                i = j;
        }
    }
    int64_t limit = -1;
    if (q.has_num_entries)
        limit = q.num_entries > 0 ? q.num_entries : 0;
    i61_buf *jb = &set->jbuf;
    i61_buf_reset(jb);
    bool more = false;
    int64_t cnt = 0;
    uint32_t max = c->max_pdu;
    for (; !none && i < l->count && (limit < 0 || cnt < limit); i++) {
        const i61_log_rec *r = i61_log_at(l, i);
        if (!i61_log_time_ok(&q, after_by_id, r))
            continue;
        if (i61_mms_read_journal_resp_size(rq->invoke_id, r->len) > max)
            continue;                          /* can never fit this association's PDU */
        if (i61_mms_read_journal_resp_size(rq->invoke_id, jb->len + r->len) > max) {
            more = true;
            break;
        }
        i61_buf_put(jb, r->data, r->len);
        cnt++;
    }
    int rc = I61_ERR_UNKNOWN;
    if (!jb->oom) {
        i61_buf_reset(&c->pdu);
        rc = i61_mms_enc_read_journal_resp(&c->pdu, rq->invoke_id, jb->data, jb->len, more);
        if (c->pdu.oom)
            rc = I61_ERR_UNKNOWN;
    }
    jb->oom = 0;
    i61_buf_reset(jb);
    i61_model_unlock(m);
    if (rc != I61_OK) {
        c->pdu.oom = 0;
        i61_log_send_error(c, rq->invoke_id, I61_MMS_ERRCLASS_RESOURCE, 0);
        return;
    }
    i61_sconn_send_pdu(c, c->pdu.data, c->pdu.len);
}
