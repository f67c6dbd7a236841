/* Server report control blocks and the reporting engine: see srv_rcb.h.
 *
 * Behaviour choices (compared with libiec61850 1.6 where it matters):
 *  - URCB: Resv=TRUE and RptEna=TRUE reserve it for the writing association
 *    (Resv reads TRUE until Resv=FALSE or the association ends); a URCB or
 *    BRCB reserved or enabled by another association answers
 *    temporarily-unavailable to every write.
 *  - While RptEna is TRUE only RptEna and GI are writable (others:
 *    temporarily-unavailable, as libiec61850). GI=TRUE while disabled:
 *    temporarily-unavailable (libiec61850); GI=TRUE with GI not in TrgOps:
 *    accepted, no report (libiec61850). GI reads back FALSE once the GI
 *    report is built.
 *  - Enabling with a DatSet that does not resolve: temporarily-unavailable
 *    (libiec61850). Writing a DatSet that does not name an existing data set
 *    (or "@name" for a BRCB): object-value-invalid. A changed DatSet
 *    increments ConfRev (libiec61850 does the same).
 *  - BRCB: buffering starts when the server starts (i61_server_start binds
 *    every BRCB to its data set, like libiec61850); a changed DatSet, BufTm,
 *    TrgOps, IntgPd or RptID purges the buffer (libiec61850). Integrity
 *    reports are buffered too. A new GI entry replaces older GI entries in
 *    the buffer (libiec61850). Enabling without a resync sends the whole
 *    buffer and the first report says BufOvfl TRUE (libiec61850 does this:
 *    golden 077; the client did not say what it already has); entries lost to
 *    a full buffer set BufOvfl in the next report sent. EntryIDs are 8 octets,
 *    big-endian, the wall clock in ms made strictly increasing (so they stay
 *    increasing across restarts).
 *  - BRCB reservation (only with ResvTms, Ed2): any accepted write reserves it
 *    (ResvTms 30 s when it was 0, as libiec61850); when the association ends
 *    the reservation is kept ResvTms seconds for the same client address.
 *    Without ResvTms a BRCB is only owned while enabled.
 *  - The first integrity report comes IntgPd after enabling (libiec61850
 *    sends one at once); a GI gives the immediate picture.
 *  - Reports are built from the values at trigger time: BufTm = 0 gives one
 *    report per model store (all members it changed, reasons merged); BufTm
 *    > 0 collects members until BufTm expires, a member that triggers again
 *    first sends the pending report (IEC 61850-7-2).
 *  - SqNum: a URCB numbers its reports when they are built (so reports
 *    dropped for a client that does not read leave a visible gap), a BRCB
 *    when it sends them; both restart at 0 on enable (libiec61850).
 *  - Segmentation: a report larger than the owner's negotiated PDU size is
 *    split by members (SubSeqNum 0.., MoreSegmentsFollow); a member that does
 *    not fit in a PDU on its own is left out of the report and counted
 *    (libiec61850 drops the whole report then).
 *  - Disabling a URCB first sends what it had collected, then answers the
 *    write (libiec61850 discards it).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "srv_rcb.h"
#include "srv_nvl.h"
#include "../mms/mms_data.h"
#include "../mms/mms_report.h"
#include "../mms/value_internal.h"
#include "../net/loop.h"

#define I61_RCB_STR_MAX 129                /* RptID, DatSet: VisibleString129 */
#define I61_RCB_OWNER_MAX 64
#define I61_RCB_TRG_MASK 0x1fu
#define I61_RCB_OPT_MASK 0x1ffu
#define I61_RCB_REASON_TRG (I61_TRG_DCHG | I61_TRG_QCHG | I61_TRG_DUPD)

/* DataAccessError codes answered here */
#define DAE_HW_FAULT 1
#define DAE_TEMP_UNAVAILABLE 2
#define DAE_ACCESS_DENIED 3
#define DAE_TYPE_INCONSISTENT 7
#define DAE_VALUE_INVALID 11

enum { I61_ENTRY_EVENTS = 0, I61_ENTRY_INTEGRITY = 1, I61_ENTRY_GI = 2 };

/* One member of a report entry. */
typedef struct i61_rpt_emem {
    uint32_t index;
    uint32_t off;               /* of its Data in the entry's data */
    uint32_t len;
    uint8_t reason;             /* i61_reason mask */
} i61_rpt_emem;

/* A report waiting to be sent (URCB queue) or kept (BRCB buffer): one block. */
typedef struct i61_rpt_entry {
    struct i61_rpt_entry *next;
    uint64_t id;                /* BRCB EntryID */
    int64_t time_ms;            /* TimeOfEntry, ms since 1970 UTC */
    uint32_t seq;               /* URCB SqNum */
    uint32_t n;
    int kind;
    size_t size;                /* octets accounted against the queue/buffer */
    i61_rpt_emem *m;            /* n members, ascending index */
    uint8_t *data;
} i61_rpt_entry;

/* A bound data set member. */
typedef struct i61_rcb_member {
    i61_mnode *ln;
    i61_mnode *node;
    int fc;
    bool has_index;
    uint32_t index;
    char *component;            /* NULL = none */
    char *ref;                  /* "LD/LN$FC$DO[$DA]" */
} i61_rcb_member;

/* Pending (not yet closed) report: per member slot. */
typedef struct i61_rcb_pmem {
    uint32_t off, len;
    uint32_t epoch;
    uint8_t reason;             /* 0 = not included */
} i61_rcb_pmem;

struct i61_srv_rcb {
    struct i61_rcb_set *set;
    i61_model *m;
    i61_mnode *node;            /* the RCB (DO-level) node */
    i61_mnode *ln;
    int fc;                     /* I61_FC_RP or I61_FC_BR */
    bool buffered;
    char ref[I61_RCB_STR_MAX + 1];   /* "LD/LN$RP$name": the default RptID (LD and
                                        item are at most 64 characters each) */

    /* configuration (written on the I/O thread, model lock held) */
    char rpt_id[I61_RCB_STR_MAX + 1];
    char datset[I61_RCB_STR_MAX + 1];
    uint32_t conf_rev, opt_flds, trg_ops, buf_tm, intg_pd;
    uint32_t buffer_size;
    bool with_owner, with_resv_tms;
    int32_t resv_tms;

    /* state */
    bool enabled;
    bool resv;                  /* URCB Resv */
    bool gi_pending;
    bool resync;                /* BRCB: EntryID set to a buffered entry */
    i61_sconn *owner;           /* reserving / enabled association (I/O thread) */
    uint8_t owner_addr[16];     /* Owner attribute: the owner's IP address */
    size_t owner_len;
    uint64_t resv_until;        /* BRCB: reserved for owner_addr until then (no owner) */
    uint32_t sqnum;
    uint64_t next_intg;         /* 0 = to compute */

    /* binding to the data set */
    bool bound;
    i61_nvl *nvl;
    i61_rcb_member *mem;
    i61_rcb_watch *watches;
    size_t nmem;

    /* pending report */
    i61_rcb_pmem *pm;
    uint32_t *pidx;
    size_t pn;
    i61_buf pdata;
    uint64_t pdeadline;         /* BufTm expiry (mono ms) */
    bool in_close;
    struct i61_srv_rcb *close_next;

    /* URCB queue */
    i61_rpt_entry *qh, *qt;
    size_t qbytes;

    /* BRCB buffer */
    i61_rpt_entry *bh, *bt, *bnext;
    size_t bbytes;
    bool ovfl;
    uint64_t last_id;
    uint8_t attr_entry_id[8];
    int64_t attr_time_ms;
};

struct i61_rcb_set {
    i61_server *srv;
    struct i61_srv_rcb **v;
    size_t n, cap;
    size_t nwatch;              /* bound members (0: triggers return at once) */
    bool active;                /* BRCBs buffer (i61_srv_rcb_activate ran) */
    uint32_t epoch;             /* model stores seen */
    struct i61_srv_rcb *close_list;
    bool wake_pending;
    /* I/O thread scratch */
    i61_buf pdu;
    i61_rpt_enc_member *enc;
    size_t enc_cap;
    i61_buf gbuf;               /* GI/integrity values */
    i61_rpt_emem *gmem;
    size_t gmem_cap;
    /* counters (atomics) */
    uint64_t reports_sent, entries_overflowed, urcb_dropped, members_skipped;
};

static void i61_stat_add(uint64_t *p, uint64_t n)
{
    __atomic_fetch_add(p, n, __ATOMIC_RELAXED);
}

/* Bounded copy (truncates; the callers checked the length). */
static void i61_copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

static int64_t i61_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ bit strings */

/* mask bit k (0-based) <-> IEC bit k + 1 of an nbits bit string */
static i61_value *i61_mask_to_bits(uint32_t mask, int nbits)
{
    uint8_t b[2] = {0, 0};
    for (int k = 0; k + 1 < nbits; k++)
        if (mask & (1u << k)) {
            int bit = k + 1;
            b[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
        }
    return i61_value_new_bit_string(nbits, b);
}

static uint32_t i61_bits_to_mask(const i61_value *v)
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

/* --------------------------------------------------------------- the set */

static struct i61_rcb_set *i61_rcb_set_of(i61_model *m, bool create);

static void i61_entry_list_free(i61_rpt_entry *e)
{
    while (e) {
        i61_rpt_entry *nx = e->next;
        free(e);
        e = nx;
    }
}

static void i61_rcb_unbind(struct i61_srv_rcb *r);

static void i61_rcb_free_one(struct i61_srv_rcb *r)
{
    i61_rcb_unbind(r);
    i61_entry_list_free(r->qh);
    i61_entry_list_free(r->bh);
    i61_buf_free(&r->pdata);
    free(r);
}

void i61_rcb_set_free(i61_model *m)
{
    struct i61_rcb_set *set = m ? m->rcbs : NULL;
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        i61_rcb_free_one(set->v[i]);
    free(set->v);
    i61_buf_free(&set->pdu);
    i61_buf_free(&set->gbuf);
    free(set->enc);
    free(set->gmem);
    free(set);
    m->rcbs = NULL;
    m->on_change = NULL;
    m->on_change_ud = NULL;
}

/* Asks the I/O thread to run the engine, once per batch (model lock held). */
static void i61_rcb_wake(struct i61_rcb_set *set)
{
    if (set->wake_pending)
        return;
    set->wake_pending = true;
    if (set->srv && set->srv->wake)
        set->srv->wake(set->srv);
}

/* ---------------------------------------------------------- value holders */

static void i61_holder_set(i61_mnode *n, i61_value *v)
{
    if (!v)
        return;                                /* out of memory: keep the old value */
    i61_value_free(n->value);
    n->value = v;
}

static i61_value *i61_rcb_attr_value(const struct i61_srv_rcb *r, int attr)
{
    static const uint8_t zero6[6];
    switch (attr) {
    case I61_RCB_RPT_ID:
        return i61_value_new_visible_string(r->rpt_id);
    case I61_RCB_RPT_ENA:
        return i61_value_new_boolean(r->enabled);
    case I61_RCB_RESV:
        return i61_value_new_boolean(r->resv);
    case I61_RCB_DATSET:
        return i61_value_new_visible_string(r->datset);
    case I61_RCB_CONF_REV:
        return i61_value_new_unsigned_sized(r->conf_rev, 32);
    case I61_RCB_OPT_FLDS:
        return i61_mask_to_bits(r->opt_flds, 10);
    case I61_RCB_BUF_TM:
        return i61_value_new_unsigned_sized(r->buf_tm, 32);
    case I61_RCB_SQ_NUM:
        return i61_value_new_unsigned_sized(r->sqnum, r->buffered ? 16 : 8);
    case I61_RCB_TRG_OPS:
        return i61_mask_to_bits(r->trg_ops, 6);
    case I61_RCB_INTG_PD:
        return i61_value_new_unsigned_sized(r->intg_pd, 32);
    case I61_RCB_GI:
        return i61_value_new_boolean(r->gi_pending);
    case I61_RCB_PURGE_BUF:
        return i61_value_new_boolean(0);
    case I61_RCB_ENTRY_ID:
        return i61_value_new_octet_string(r->attr_entry_id, 8);
    case I61_RCB_TIME_OF_ENTRY: {
        uint8_t t[6];
        if (r->attr_time_ms > 0)
            i61_binary_time_from_ms(r->attr_time_ms, t);
        else
            memcpy(t, zero6, 6);
        return i61_value_new_binary_time(t, 6);
    }
    case I61_RCB_RESV_TMS:
        return i61_value_new_integer_sized(r->resv_tms, 16);
    case I61_RCB_OWNER:
        return i61_value_new_octet_string(r->owner_addr, r->owner_len);
    default:
        return NULL;
    }
}

static void i61_rcb_check_expiry(struct i61_srv_rcb *r, uint64_t now)
{
    if (r->resv_until && !r->owner && now >= r->resv_until) {
        r->resv_until = 0;
        r->owner_len = 0;
        r->resv_tms = 0;
    }
}

static void i61_rcb_refresh(struct i61_srv_rcb *r)
{
    i61_rcb_check_expiry(r, i61_mono_ms());
    for (size_t i = 0; i < r->node->nkids; i++) {
        i61_mnode *k = r->node->kids[i];
        if (k->rcb_attr)
            i61_holder_set(k, i61_rcb_attr_value(r, k->rcb_attr - 1));
    }
}

void i61_rcb_sync(const i61_mnode *n, int fc)
{
    if (!n || !n->model || !n->model->rcbs)
        return;
    if (n->rcb_attr && n->parent)
        n = n->parent;
    if (n->rcb) {
        i61_rcb_refresh(n->rcb);
        return;
    }
    if (n->kind != I61_MNODE_LN || !(fc == I61_FC_NONE || fc == I61_FC_RP || fc == I61_FC_BR))
        return;
    struct i61_rcb_set *set = n->model->rcbs;
    for (size_t i = 0; i < set->n; i++) {
        struct i61_srv_rcb *r = set->v[i];
        if (r->ln == n && (fc == I61_FC_NONE || fc == r->fc))
            i61_rcb_refresh(r);
    }
}

/* ---------------------------------------------------------------- builder */

static void i61_rcb_on_change(void *ud, i61_mnode *holder, const i61_value *old);

static struct i61_rcb_set *i61_rcb_set_of(i61_model *m, bool create)
{
    if (!m->rcbs && create) {
        struct i61_rcb_set *set = calloc(1, sizeof *set);
        if (!set)
            return NULL;
        i61_buf_init(&set->pdu);
        i61_buf_init(&set->gbuf);
        m->rcbs = set;
        m->on_change = i61_rcb_on_change;
        m->on_change_ud = set;
    }
    return m->rcbs;
}

typedef struct i61_rcb_comp {
    const char *name;
    int attr;
    int type;
    int size;
} i61_rcb_comp;

/* Component order and types of PROTOCOL.md section 11 / golden 050, 052. */
static const i61_rcb_comp i61_urcb_comps[] = {
    {"RptID", I61_RCB_RPT_ID, I61_TYPE_VISIBLE_STRING, -129},
    {"RptEna", I61_RCB_RPT_ENA, I61_TYPE_BOOLEAN, 0},
    {"Resv", I61_RCB_RESV, I61_TYPE_BOOLEAN, 0},
    {"DatSet", I61_RCB_DATSET, I61_TYPE_VISIBLE_STRING, -129},
    {"ConfRev", I61_RCB_CONF_REV, I61_TYPE_UNSIGNED, 32},
    {"OptFlds", I61_RCB_OPT_FLDS, I61_TYPE_BIT_STRING, -10},
    {"BufTm", I61_RCB_BUF_TM, I61_TYPE_UNSIGNED, 32},
    {"SqNum", I61_RCB_SQ_NUM, I61_TYPE_UNSIGNED, 8},
    {"TrgOps", I61_RCB_TRG_OPS, I61_TYPE_BIT_STRING, -6},
    {"IntgPd", I61_RCB_INTG_PD, I61_TYPE_UNSIGNED, 32},
    {"GI", I61_RCB_GI, I61_TYPE_BOOLEAN, 0},
    {"Owner", I61_RCB_OWNER, I61_TYPE_OCTET_STRING, -I61_RCB_OWNER_MAX},
};

static const i61_rcb_comp i61_brcb_comps[] = {
    {"RptID", I61_RCB_RPT_ID, I61_TYPE_VISIBLE_STRING, -129},
    {"RptEna", I61_RCB_RPT_ENA, I61_TYPE_BOOLEAN, 0},
    {"DatSet", I61_RCB_DATSET, I61_TYPE_VISIBLE_STRING, -129},
    {"ConfRev", I61_RCB_CONF_REV, I61_TYPE_UNSIGNED, 32},
    {"OptFlds", I61_RCB_OPT_FLDS, I61_TYPE_BIT_STRING, -10},
    {"BufTm", I61_RCB_BUF_TM, I61_TYPE_UNSIGNED, 32},
    {"SqNum", I61_RCB_SQ_NUM, I61_TYPE_UNSIGNED, 16},
    {"TrgOps", I61_RCB_TRG_OPS, I61_TYPE_BIT_STRING, -6},
    {"IntgPd", I61_RCB_INTG_PD, I61_TYPE_UNSIGNED, 32},
    {"GI", I61_RCB_GI, I61_TYPE_BOOLEAN, 0},
    {"PurgeBuf", I61_RCB_PURGE_BUF, I61_TYPE_BOOLEAN, 0},
    {"EntryID", I61_RCB_ENTRY_ID, I61_TYPE_OCTET_STRING, 8},
    {"TimeofEntry", I61_RCB_TIME_OF_ENTRY, I61_TYPE_BINARY_TIME, 6},
    {"ResvTms", I61_RCB_RESV_TMS, I61_TYPE_INTEGER, 16},
    {"Owner", I61_RCB_OWNER, I61_TYPE_OCTET_STRING, -I61_RCB_OWNER_MAX},
};

#define I61_RCB_LONGEST_COMP 11                /* "TimeofEntry" */

static bool i61_rcb_name_ok(const char *s)
{
    if (!s || !*s)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return false;
    return true;
}

/* DatSet string -> the data set visible from conn_id: "LD/LN$name" (or
 * "LD/LN.name"), "@name" (aa-specific), "/name" or "name" (VMD). */
static i61_nvl *i61_rcb_find_nvl(i61_model *m, uint32_t conn_id, const char *datset)
{
    i61_mms_name n;
    memset(&n, 0, sizeof n);
    size_t len = strlen(datset);
    if (len == 0 || len > I61_MMS_NAME_MAX)
        return NULL;
    const char *slash = strchr(datset, '/');
    if (datset[0] == '@') {
        n.scope = I61_MMS_SCOPE_AA;
        strcpy(n.item, datset + 1);
    } else if (slash && slash != datset) {
        if ((size_t)(slash - datset) > I61_MODEL_NAME_MAX)
            return NULL;
        n.scope = I61_MMS_SCOPE_DOMAIN;
        memcpy(n.domain, datset, (size_t)(slash - datset));
        strcpy(n.item, slash + 1);
        char *dot = strchr(n.item, '.');
        if (dot)
            *dot = '$';
    } else {
        n.scope = I61_MMS_SCOPE_VMD;
        strcpy(n.item, slash ? slash + 1 : datset);
    }
    if (!n.item[0])
        return NULL;
    return i61_nvl_find(m, &n, conn_id);
}

int i61_model_add_rcb(i61_model *m, const char *ln_ref, const char *name, int buffered,
                      const i61_rcb_config *cfg)
{
    static const i61_rcb_config none;
    if (!cfg)
        cfg = &none;
    if (!m || !ln_ref || !i61_rcb_name_ok(name) || strlen(name) > I61_MODEL_NAME_MAX)
        return I61_ERR_INVALID_ARGUMENT;
    if (cfg->rpt_id && strlen(cfg->rpt_id) > I61_RCB_STR_MAX)
        return I61_ERR_INVALID_ARGUMENT;
    if (cfg->dataset && strlen(cfg->dataset) > I61_RCB_STR_MAX)
        return I61_ERR_INVALID_ARGUMENT;
    i61_mnode *ln = NULL;
    int fc = I61_FC_NONE;
    int rc = i61_model_find(m, ln_ref, I61_FC_NONE, &ln, &fc);
    if (rc != I61_OK)
        return rc == I61_ERR_OBJECT_REFERENCE_INVALID ? I61_ERR_INVALID_ARGUMENT : rc;
    if (ln->kind != I61_MNODE_LN)
        return I61_ERR_INVALID_ARGUMENT;
    /* the longest component name must fit in an MMS item name */
    if (strlen(ln->name) + 4 + strlen(name) + 1 + I61_RCB_LONGEST_COMP > I61_MODEL_ITEM_MAX)
        return I61_ERR_INVALID_ARGUMENT;

    i61_model_lock(m);
    char datset[I61_RCB_STR_MAX + 1] = "";
    if (cfg->dataset && cfg->dataset[0]) {
        i61_copy_str(datset, sizeof datset, cfg->dataset);
        char *slash = strchr(datset, '/');
        char *dot = slash ? strchr(slash, '.') : NULL;
        if (dot)
            *dot = '$';                         /* "LD/LN.name" -> "LD/LN$name" */
        if (!slash || datset[0] == '@' || !i61_rcb_find_nvl(m, 0, datset)) {
            i61_model_unlock(m);
            return I61_ERR_OBJECT_DOES_NOT_EXIST;
        }
    }
    struct i61_rcb_set *set = i61_rcb_set_of(m, true);
    struct i61_srv_rcb *r = calloc(1, sizeof *r);
    if (!set || !r || (set->n == set->cap && !(set->cap < SIZE_MAX / 4))) {
        free(r);
        i61_model_unlock(m);
        return I61_ERR_UNKNOWN;
    }
    if (set->n == set->cap) {
        size_t nc = set->cap ? set->cap * 2 : 8;
        struct i61_srv_rcb **v = realloc(set->v, nc * sizeof *v);
        if (!v) {
            free(r);
            i61_model_unlock(m);
            return I61_ERR_UNKNOWN;
        }
        set->v = v;
        set->cap = nc;
    }
    i61_mnode *node = NULL;
    rc = i61_model_add_do(ln, name, &node);
    if (rc != I61_OK) {
        free(r);
        i61_model_unlock(m);
        return rc;
    }
    r->fc = buffered ? I61_FC_BR : I61_FC_RP;
    const i61_rcb_comp *comps = buffered ? i61_brcb_comps : i61_urcb_comps;
    size_t ncomps = buffered ? sizeof i61_brcb_comps / sizeof i61_brcb_comps[0]
                             : sizeof i61_urcb_comps / sizeof i61_urcb_comps[0];
    for (size_t i = 0; i < ncomps && rc == I61_OK; i++) {
        if (comps[i].attr == I61_RCB_OWNER && !cfg->with_owner)
            continue;
        if (comps[i].attr == I61_RCB_RESV_TMS && !cfg->with_resv_tms)
            continue;
        i61_mnode *k = NULL;
        rc = i61_model_add_da(node, comps[i].name, r->fc, comps[i].type, comps[i].size, 0, &k);
        if (rc == I61_OK)
            k->rcb_attr = (uint8_t)(comps[i].attr + 1);
    }
    if (rc != I61_OK) {
        i61_model_remove_node(node);
        free(r);
        i61_model_unlock(m);
        return rc == I61_ERR_INVALID_ARGUMENT ? rc : I61_ERR_UNKNOWN;
    }
    const i61_mnode *ld = ln->parent;
    snprintf(r->ref, sizeof r->ref, "%s/%s$%s$%s", ld ? ld->name : "", ln->name,
             buffered ? "BR" : "RP", name);
    r->set = set;
    r->m = m;
    r->node = node;
    r->ln = ln;
    r->buffered = buffered != 0;
    i61_copy_str(r->rpt_id, sizeof r->rpt_id, cfg->rpt_id && cfg->rpt_id[0] ? cfg->rpt_id : r->ref);
    i61_copy_str(r->datset, sizeof r->datset, datset);
    r->conf_rev = cfg->conf_rev;
    r->opt_flds = cfg->opt_flds & I61_RCB_OPT_MASK;
    r->trg_ops = cfg->trg_ops & I61_RCB_TRG_MASK;
    r->buf_tm = cfg->buf_tm;
    r->intg_pd = cfg->intg_pd;
    r->buffer_size = cfg->buffer_size ? cfg->buffer_size : I61_RCB_BUFFER_DEFAULT;
    r->with_owner = cfg->with_owner != 0;
    r->with_resv_tms = buffered && cfg->with_resv_tms != 0;
    i61_buf_init(&r->pdata);
    node->rcb = r;
    set->v[set->n++] = r;
    i61_server *running = set->active ? set->srv : NULL;
    i61_model_unlock(m);
    if (running)
        i61_srv_rcb_activate(running);         /* added to a running server: buffer now */
    return I61_OK;
}

static bool i61_rcb_is_holder(const i61_mnode *n)
{
    return n->kind == I61_MNODE_DA && !n->in_array &&
           (n->type != I61_TYPE_STRUCTURE || n->count > 0);
}

int i61_model_set_trigger_options(i61_mnode *n, int fc, uint32_t mask)
{
    if (!n || !n->model || n->kind < I61_MNODE_LN || n->in_array || (mask & ~I61_RCB_REASON_TRG))
        return I61_ERR_INVALID_ARGUMENT;
    if (n->kind == I61_MNODE_DA && fc == I61_FC_NONE)
        fc = n->fc;
    if (fc != I61_FC_NONE &&
        (fc < 0 || fc >= I61_MODEL_FC_COUNT || !(n->fc_mask & (1u << fc))))
        return I61_ERR_OBJECT_DOES_NOT_EXIST;
    uint32_t want = fc == I61_FC_NONE ? ~0u : (1u << fc);
    i61_model *m = n->model;
    i61_model_lock(m);
    /* depth-first with an explicit stack (depth bounded by the model) */
    i61_mnode *stack[I61_MODEL_MAX_DEPTH + 2];
    size_t at[I61_MODEL_MAX_DEPTH + 2];
    size_t top = 0;
    if (i61_rcb_is_holder(n)) {
        n->trg = (uint8_t)(mask | I61_MNODE_TRG_SET);
    } else {
        stack[0] = n;
        at[0] = 0;
        top = 1;
    }
    while (top > 0) {
        i61_mnode *p = stack[top - 1];
        if (at[top - 1] >= p->nkids) {
            top--;
            continue;
        }
        i61_mnode *k = p->kids[at[top - 1]++];
        if (!(k->fc_mask & want) || k->in_array)
            continue;
        if (i61_rcb_is_holder(k)) {
            k->trg = (uint8_t)(mask | I61_MNODE_TRG_SET);
            continue;
        }
        if (top < I61_MODEL_MAX_DEPTH + 2) {
            stack[top] = k;
            at[top] = 0;
            top++;
        }
    }
    i61_model_unlock(m);
    return I61_OK;
}

int i61_srv_rcb_attach(i61_server *s)
{
    i61_model_lock(s->model);
    struct i61_rcb_set *set = i61_rcb_set_of(s->model, true);
    if (set)
        set->srv = s;
    i61_model_unlock(s->model);
    return set ? I61_OK : I61_ERR_UNKNOWN;
}

/* ---------------------------------------------------------------- binding */

static void i61_rcb_pending_clear(struct i61_srv_rcb *r)
{
    for (size_t i = 0; i < r->pn; i++)
        r->pm[r->pidx[i]].reason = 0;
    r->pn = 0;
    i61_buf_reset(&r->pdata);
    r->pdeadline = 0;
}

static void i61_rcb_unbind(struct i61_srv_rcb *r)
{
    if (!r->bound)
        return;
    for (size_t i = 0; i < r->nmem; i++) {
        i61_rcb_watch **pp = &r->mem[i].node->watch;
        while (*pp && *pp != &r->watches[i])
            pp = &(*pp)->next;
        if (*pp)
            *pp = r->watches[i].next;
        free(r->mem[i].component);
        free(r->mem[i].ref);
    }
    /* out of the batch-end list */
    struct i61_srv_rcb **cp = &r->set->close_list;
    while (*cp && *cp != r)
        cp = &(*cp)->close_next;
    if (*cp)
        *cp = r->close_next;
    r->in_close = false;
    r->set->nwatch -= r->nmem;
    i61_nvl_reserve(r->nvl, -1);
    free(r->mem);
    free(r->watches);
    free(r->pm);
    free(r->pidx);
    r->mem = NULL;
    r->watches = NULL;
    r->pm = NULL;
    r->pidx = NULL;
    r->nmem = 0;
    r->pn = 0;
    i61_buf_reset(&r->pdata);
    r->pdeadline = 0;
    r->nvl = NULL;
    r->bound = false;
}

/* Binds r to data set l (model lock held): resolves the members, hooks them
 * on their nodes, reserves the data set. I61_OK or I61_ERR_UNKNOWN (OOM) or
 * I61_ERR_OBJECT_DOES_NOT_EXIST (a member vanished from the model). */
static int i61_rcb_bind(struct i61_srv_rcb *r, i61_nvl *l)
{
    i61_rcb_unbind(r);
    i61_model *m = r->m;
    if (i61_model_prepare(m) != I61_OK)
        return I61_ERR_UNKNOWN;
    size_t n = l->n;
    i61_rcb_member *mem = calloc(n ? n : 1, sizeof *mem);
    i61_rcb_watch *w = calloc(n ? n : 1, sizeof *w);
    i61_rcb_pmem *pm = calloc(n ? n : 1, sizeof *pm);
    uint32_t *pidx = calloc(n ? n : 1, sizeof *pidx);
    int rc = (mem && w && pm && pidx) ? I61_OK : I61_ERR_UNKNOWN;
    for (size_t i = 0; i < n && rc == I61_OK; i++) {
        const i61_mms_var *mv = &l->members[i];
        i61_mnode *ld = mv->name.scope == I61_MMS_SCOPE_DOMAIN ? i61_model_domain(m, mv->name.domain)
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
        size_t rl = strlen(mv->name.domain) + 1 + strlen(mv->name.item) + 1;
        mem[i].ref = malloc(rl);
        if (mem[i].ref)
            snprintf(mem[i].ref, rl, "%s/%s", mv->name.domain, mv->name.item);
        if (mv->component[0])
            mem[i].component = strdup(mv->component);
        if (!mem[i].ref || (mv->component[0] && !mem[i].component))
            rc = I61_ERR_UNKNOWN;
    }
    if (rc != I61_OK) {
        for (size_t i = 0; mem && i < n; i++) {
            free(mem[i].ref);
            free(mem[i].component);
        }
        free(mem);
        free(w);
        free(pm);
        free(pidx);
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        w[i].rcb = r;
        w[i].index = (uint32_t)i;
        w[i].fc = mem[i].fc;
        w[i].next = mem[i].node->watch;
        mem[i].node->watch = &w[i];
    }
    r->mem = mem;
    r->watches = w;
    r->pm = pm;
    r->pidx = pidx;
    r->nmem = n;
    r->pn = 0;
    r->nvl = l;
    r->bound = true;
    r->set->nwatch += n;
    i61_nvl_reserve(l, 1);
    return I61_OK;
}

void i61_srv_rcb_activate(i61_server *s)
{
    i61_model *m = s->model;
    i61_model_lock(m);
    struct i61_rcb_set *set = m->rcbs;
    if (set)
        set->active = true;
    for (size_t i = 0; set && i < set->n; i++) {
        struct i61_srv_rcb *r = set->v[i];
        if (!r->buffered || r->bound || !r->datset[0])
            continue;
        i61_nvl *l = i61_rcb_find_nvl(m, 0, r->datset);
        if (l && i61_rcb_bind(r, l) == I61_OK) {
            r->next_intg = 0;
            i61_rcb_wake(set);
        }
    }
    i61_model_unlock(m);
}

/* ---------------------------------------------------------------- entries */

/* Same value? (holders: depth bounded by the model; 64 is far beyond it) */
static bool i61_val_eq(const i61_value *a, const i61_value *b, int depth)
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
            if (!i61_val_eq(a->u.list.items[i], b->u.list.items[i], depth + 1))
                return false;
        return true;
    default:
        return a->u.bytes.len == b->u.bytes.len &&
               (a->u.bytes.len == 0 || memcmp(a->u.bytes.p, b->u.bytes.p, a->u.bytes.len) == 0);
    }
}

/* Appends the Data of member idx (current model value) to b. 0 or -1 (OOM). */
static int i61_rcb_encode_member(const struct i61_srv_rcb *r, size_t idx, i61_buf *b)
{
    const i61_rcb_member *mb = &r->mem[idx];
    i61_mvar v;
    v.name = NULL;
    v.ln = mb->ln;
    v.node = mb->node;
    v.fc = mb->fc;
    if (!mb->has_index && !mb->component)
        return i61_model_encode_var(b, &v) == I61_OK ? 0 : -1;
    i61_maccess aa;
    aa.has_index = mb->has_index;
    aa.index = mb->index;
    aa.component = mb->component;
    int dae = i61_model_read_var(b, &v, &aa);
    if (dae >= 0)
        i61_ber_put_int64(b, 0x80, dae);       /* AccessResult failure */
    return b->oom ? -1 : 0;
}

/* A new entry holding n members whose Data lie in data at mem[k].off/len
 * (copied; mem must be in ascending index order). NULL on OOM. */
static i61_rpt_entry *i61_entry_new(const i61_rpt_emem *mem, size_t n, const uint8_t *data,
                                    int kind)
{
    size_t dlen = 0;
    for (size_t k = 0; k < n; k++)
        dlen += mem[k].len;
    size_t sz = sizeof(i61_rpt_entry) + n * sizeof(i61_rpt_emem) + dlen;
    i61_rpt_entry *e = malloc(sz);
    if (!e)
        return NULL;
    memset(e, 0, sizeof *e);
    e->m = (i61_rpt_emem *)(void *)(e + 1);
    e->data = (uint8_t *)(e->m + n);
    e->n = (uint32_t)n;
    e->kind = kind;
    e->size = sz;
    e->time_ms = i61_wall_ms();
    uint32_t off = 0;
    for (size_t k = 0; k < n; k++) {
        e->m[k].index = mem[k].index;
        e->m[k].reason = mem[k].reason;
        e->m[k].len = mem[k].len;
        e->m[k].off = off;
        if (mem[k].len)
            memcpy(e->data + off, data + mem[k].off, mem[k].len);
        off += mem[k].len;
    }
    return e;
}

static void i61_entry_be64(uint64_t v, uint8_t out[8])
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)v;
        v >>= 8;
    }
}

/* BRCB: unlinks entry e (prev its predecessor or NULL) from the buffer. */
static void i61_brcb_unlink(struct i61_srv_rcb *r, i61_rpt_entry *prev, i61_rpt_entry *e)
{
    if (prev)
        prev->next = e->next;
    else
        r->bh = e->next;
    if (r->bt == e)
        r->bt = prev;
    if (r->bnext == e)
        r->bnext = e->next;
    r->bbytes -= e->size;
    free(e);
}

/* Files a closed report (model lock held). */
static void i61_rcb_push(struct i61_srv_rcb *r, i61_rpt_entry *e)
{
    struct i61_rcb_set *set = r->set;
    if (!r->buffered) {
        e->seq = r->sqnum;
        r->sqnum = (r->sqnum + 1) & 0xffu;
        if (r->qbytes + e->size > I61_RCB_URCB_QUEUE_MAX) {
            free(e);                           /* client not reading: SqNum shows the gap */
            i61_stat_add(&set->urcb_dropped, 1);
            return;
        }
        if (r->qt)
            r->qt->next = e;
        else
            r->qh = e;
        r->qt = e;
        r->qbytes += e->size;
        i61_rcb_wake(set);
        return;
    }
    uint64_t id = e->time_ms > 0 ? (uint64_t)e->time_ms : 0;
    if (id <= r->last_id)
        id = r->last_id + 1;
    e->id = r->last_id = id;
    if (e->size > r->buffer_size) {
        free(e);                               /* cannot be buffered at all */
        r->ovfl = true;
        i61_stat_add(&set->entries_overflowed, 1);
        return;
    }
    if (e->kind == I61_ENTRY_GI) {
        /* a new GI supersedes the buffered ones */
        i61_rpt_entry *prev = NULL, *x = r->bh;
        while (x) {
            i61_rpt_entry *nx = x->next;
            if (x->kind == I61_ENTRY_GI)
                i61_brcb_unlink(r, prev, x);
            else
                prev = x;
            x = nx;
        }
    }
    if (r->bt)
        r->bt->next = e;
    else
        r->bh = e;
    r->bt = e;
    r->bbytes += e->size;
    if (!r->bnext)
        r->bnext = e;
    while (r->bbytes > r->buffer_size && r->bh != e) {
        if (r->bnext == r->bh)
            r->ovfl = true;                    /* an entry nobody received is lost */
        i61_brcb_unlink(r, NULL, r->bh);
        i61_stat_add(&set->entries_overflowed, 1);
    }
    if (!r->enabled) {
        i61_entry_be64(e->id, r->attr_entry_id);
        r->attr_time_ms = e->time_ms;
    } else {
        i61_rcb_wake(set);
    }
}

static int i61_pidx_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Closes the pending report into an entry (model lock held). */
static void i61_rcb_close(struct i61_srv_rcb *r)
{
    if (r->pn == 0)
        return;
    if (r->pn > 1)
        qsort(r->pidx, r->pn, sizeof r->pidx[0], i61_pidx_cmp);
    struct i61_rcb_set *set = r->set;
    size_t n = r->pn;
    if (set->gmem_cap < n) {
        i61_rpt_emem *g = realloc(set->gmem, n * sizeof *g);
        if (!g) {
            i61_rcb_pending_clear(r);
            i61_stat_add(r->buffered ? &set->entries_overflowed : &set->urcb_dropped, 1);
            return;
        }
        set->gmem = g;
        set->gmem_cap = n;
    }
    for (size_t k = 0; k < n; k++) {
        const i61_rcb_pmem *pm = &r->pm[r->pidx[k]];
        set->gmem[k].index = r->pidx[k];
        set->gmem[k].off = pm->off;
        set->gmem[k].len = pm->len;
        set->gmem[k].reason = pm->reason;
    }
    i61_rpt_entry *e = r->pdata.oom ? NULL
                                    : i61_entry_new(set->gmem, n, r->pdata.data, I61_ENTRY_EVENTS);
    i61_rcb_pending_clear(r);
    if (!e) {
        i61_stat_add(r->buffered ? &set->entries_overflowed : &set->urcb_dropped, 1);
        return;
    }
    i61_rcb_push(r, e);
}

/* GI or integrity: every member with its current value (model lock held). */
static void i61_rcb_full_report(struct i61_srv_rcb *r, int kind)
{
    struct i61_rcb_set *set = r->set;
    i61_rcb_close(r);                          /* pending events go first */
    size_t n = r->nmem;
    if (set->gmem_cap < n) {
        i61_rpt_emem *g = realloc(set->gmem, n * sizeof *g);
        if (!g) {
            i61_stat_add(r->buffered ? &set->entries_overflowed : &set->urcb_dropped, 1);
            return;
        }
        set->gmem = g;
        set->gmem_cap = n;
    }
    i61_buf *b = &set->gbuf;
    i61_buf_reset(b);
    uint8_t reason = kind == I61_ENTRY_GI ? I61_REASON_GI : I61_REASON_INTEGRITY;
    for (size_t k = 0; k < n; k++) {
        size_t start = b->len;
        i61_rcb_encode_member(r, k, b);
        set->gmem[k].index = (uint32_t)k;
        set->gmem[k].off = (uint32_t)start;
        set->gmem[k].len = (uint32_t)(b->len - start);
        set->gmem[k].reason = reason;
    }
    i61_rpt_entry *e = b->oom ? NULL : i61_entry_new(set->gmem, n, b->data, kind);
    i61_buf_reset(b);
    b->oom = 0;
    if (!e) {
        i61_stat_add(r->buffered ? &set->entries_overflowed : &set->urcb_dropped, 1);
        return;
    }
    i61_rcb_push(r, e);
}

/* --------------------------------------------------------------- triggers */

static uint8_t i61_default_trg(const i61_mnode *h)
{
    if (h->name[0] == 'q' && h->name[1] == '\0')
        return I61_TRG_QCHG;
    if (h->name[0] == 't' && h->name[1] == '\0')
        return 0;
    return I61_TRG_DCHG;
}

/* Member idx of r triggered with reason (model lock held). */
static void i61_rcb_trigger(struct i61_srv_rcb *r, uint32_t idx, uint8_t reason)
{
    struct i61_rcb_set *set = r->set;
    i61_rcb_pmem *pm = &r->pm[idx];
    if (pm->reason) {
        if (pm->epoch == set->epoch) {
            pm->reason |= reason;              /* same store: same value, merge */
            return;
        }
        i61_rcb_close(r);                      /* IEC 61850-7-2: send the pending report first */
    }
    if (r->pn == 0) {
        if (r->buf_tm == 0) {
            if (!r->in_close) {
                r->in_close = true;
                r->close_next = set->close_list;
                set->close_list = r;
            }
        } else {
            r->pdeadline = i61_mono_ms() + r->buf_tm;
            i61_rcb_wake(set);                 /* the I/O thread arms the BufTm timer */
        }
    }
    size_t start = r->pdata.len;
    if (i61_rcb_encode_member(r, idx, &r->pdata) != 0) {
        r->pdata.len = start;
        r->pdata.oom = 0;
        return;                                /* out of memory: this trigger is lost */
    }
    pm->off = (uint32_t)start;
    pm->len = (uint32_t)(r->pdata.len - start);
    pm->reason = reason;
    pm->epoch = set->epoch;
    r->pidx[r->pn++] = idx;
}

static void i61_rcb_on_change(void *ud, i61_mnode *holder, const i61_value *old)
{
    struct i61_rcb_set *set = ud;
    if (!holder) {
        /* end of one model store: BufTm = 0 reports are complete */
        while (set->close_list) {
            struct i61_srv_rcb *r = set->close_list;
            set->close_list = r->close_next;
            r->in_close = false;
            i61_rcb_close(r);
        }
        set->epoch++;
        return;
    }
    if (set->nwatch == 0)
        return;
    uint8_t trg = (holder->trg & I61_MNODE_TRG_SET) ? (holder->trg & I61_RCB_REASON_TRG)
                                                      : i61_default_trg(holder);
    if (!trg)
        return;
    int reason = -1;                           /* computed on the first watch found */
    for (i61_mnode *n = holder; n && n->kind >= I61_MNODE_LN; n = n->parent) {
        for (i61_rcb_watch *w = n->watch; w; w = w->next) {
            if (w->fc != I61_FC_NONE && w->fc != holder->fc)
                continue;
            struct i61_srv_rcb *r = w->rcb;
            if (!(r->enabled || (r->buffered && r->bound)))
                continue;
            if (reason < 0) {
                /* a different value: dchg/qchg (or dupd for a DA with only
                 * dupd); the same value again: dupd when the DA has it */
                bool same = i61_val_eq(old, holder->value, 0);
                int chg = trg & (I61_TRG_DCHG | I61_TRG_QCHG);
                reason = same ? (trg & I61_TRG_DUPD) : (chg ? chg : (trg & I61_TRG_DUPD));
            }
            uint8_t rs = (uint8_t)(reason & (int)r->trg_ops);
            if (rs)
                i61_rcb_trigger(r, w->index, rs);
        }
    }
}

/* ---------------------------------------------------------------- sending */

/* Appends one report PDU (hdr + members) to c; counts it. */
static void i61_rcb_send_pdu(struct i61_rcb_set *set, i61_sconn *c, const i61_rpt_hdr *h,
                             const i61_rpt_enc_member *m, size_t n)
{
    i61_buf *b = &set->pdu;
    i61_buf_reset(b);
    if (i61_mms_encode_report(b, h, m, n) != 0 || b->oom) {
        b->oom = 0;
        c->close_now = true;                   /* out of memory: drop the association */
        return;
    }
    if (i61_sconn_send_pdu(c, b->data, b->len) == 0)
        i61_stat_add(&set->reports_sent, 1);
}

/* Upper bound of what one member adds to a report. */
static size_t i61_member_cost(const i61_rpt_hdr *h, const i61_rpt_enc_member *m)
{
    size_t c = m->data_len;
    if (h->opt_flds & I61_OPT_DATA_REF) {
        size_t l = strlen(m->ref);
        c += 1 + (l < 128 ? 1 : l < 256 ? 2 : 3) + l;
    }
    if (h->opt_flds & I61_OPT_REASON)
        c += 4;
    return c;
}

/* Sends entry e of r to c as one report PDU, or segmented when it exceeds
 * the association's PDU size (I/O thread). */
static void i61_rcb_send_entry(struct i61_srv_rcb *r, i61_sconn *c, const i61_rpt_entry *e,
                               uint32_t seq, bool ovfl)
{
    struct i61_rcb_set *set = r->set;
    size_t n = e->n;
    if (set->enc_cap < n) {
        i61_rpt_enc_member *p = realloc(set->enc, n * sizeof *p);
        if (!p) {
            c->close_now = true;
            return;
        }
        set->enc = p;
        set->enc_cap = n;
    }
    i61_rpt_enc_member *m = set->enc;
    for (size_t k = 0; k < n; k++) {
        uint32_t idx = e->m[k].index;
        m[k].index = idx;
        m[k].ref = idx < r->nmem ? r->mem[idx].ref : "";
        m[k].data = e->data + e->m[k].off;
        m[k].data_len = e->m[k].len;
        m[k].reason = e->m[k].reason;
    }
    i61_rpt_hdr h;
    memset(&h, 0, sizeof h);
    h.rpt_id = r->rpt_id;
    h.opt_flds = r->opt_flds & ~(uint32_t)I61_OPT_SEGMENTATION;
    if (!r->buffered)
        h.opt_flds &= ~(uint32_t)(I61_OPT_BUF_OVFL | I61_OPT_ENTRY_ID);
    h.seq_num = seq;
    i61_binary_time_from_ms(e->time_ms, h.time);
    h.dataset = r->datset;
    h.buf_ovfl = ovfl;
    i61_entry_be64(e->id, h.entry_id);
    h.conf_rev = r->conf_rev;
    h.dataset_size = (uint32_t)r->nmem;
    uint32_t max = c->max_pdu;
    if (i61_mms_report_size(&h, m, n) <= max) {
        i61_rcb_send_pdu(set, c, &h, m, n);
        return;
    }
    /* segmented: leave out members that cannot fit a PDU on their own */
    h.opt_flds |= I61_OPT_SEGMENTATION;
    h.more_segments = true;
    h.sub_seq_num = 0;
    size_t kept = 0;
    for (size_t k = 0; k < n; k++) {
        if (i61_mms_report_size(&h, &m[k], 1) > max) {
            i61_stat_add(&set->members_skipped, 1);
            continue;
        }
        m[kept++] = m[k];
    }
    size_t base = i61_mms_report_size(&h, NULL, 0) + 12;   /* + growth of 3 length fields */
    size_t k = 0;
    while (k < kept) {
        size_t end = k, est = base;
        while (end < kept) {
            size_t add = i61_member_cost(&h, &m[end]);
            if (end > k && est + add > max)
                break;
            est += add;
            end++;
        }
        h.more_segments = end < kept;
        while (end > k + 1 && i61_mms_report_size(&h, &m[k], end - k) > max) {
            end--;
            h.more_segments = true;
        }
        i61_rcb_send_pdu(set, c, &h, &m[k], end - k);
        h.sub_seq_num++;
        k = end;
    }
}

/* URCB: sends and frees a detached list of entries (I/O thread). */
static void i61_urcb_send_list(struct i61_srv_rcb *r, i61_sconn *c, i61_rpt_entry *e)
{
    while (e) {
        i61_rpt_entry *nx = e->next;
        if (!c->close_now)
            i61_rcb_send_entry(r, c, e, e->seq, false);
        free(e);
        e = nx;
    }
}

/* BRCB: sends from bnext while the connection keeps up (I/O thread, model
 * lock held: the buffer may change under a trigger). */
static void i61_brcb_send(struct i61_srv_rcb *r, i61_sconn *c)
{
    while (r->bnext && !c->close_now) {
        if (c->out.len >= I61_RCB_OUT_HIGH) {
            c->rpt_blocked = true;
            return;
        }
        i61_rpt_entry *e = r->bnext;
        i61_rcb_send_entry(r, c, e, r->sqnum, r->ovfl);
        r->sqnum = (r->sqnum + 1) & 0xffffu;
        r->ovfl = false;
        i61_entry_be64(e->id, r->attr_entry_id);
        r->attr_time_ms = e->time_ms;
        r->bnext = e->next;
    }
}

/* URCB: detaches the queue, or its first entries of about `budget` octets
 * (model lock held). */
static i61_rpt_entry *i61_urcb_take_some(struct i61_srv_rcb *r, size_t budget)
{
    i61_rpt_entry *e = r->qh;
    if (!e)
        return NULL;
    size_t taken = e->size;
    i61_rpt_entry *last = e;
    while (last->next && taken + last->next->size <= budget) {
        last = last->next;
        taken += last->size;
    }
    r->qh = last->next;
    if (!r->qh)
        r->qt = NULL;
    last->next = NULL;
    r->qbytes -= taken;
    return e;
}

static i61_rpt_entry *i61_urcb_take(struct i61_srv_rcb *r)
{
    return i61_urcb_take_some(r, SIZE_MAX);
}

/* ------------------------------------------------------------------ writes */

/* The IP address octets of a connection's peer string ("a.b.c.d:port" or
 * "[v6]:port"); 0 when unknown. */
static size_t i61_peer_addr(const i61_sconn *c, uint8_t out[16])
{
    char host[I61_SRV_PEER_MAX];
    const char *p = c->peer;
    if (p[0] == '[') {
        const char *e = strchr(p, ']');
        if (!e || (size_t)(e - p - 1) >= sizeof host)
            return 0;
        memcpy(host, p + 1, (size_t)(e - p - 1));
        host[e - p - 1] = 0;
        return inet_pton(AF_INET6, host, out) == 1 ? 16 : 0;
    }
    const char *colon = strrchr(p, ':');
    size_t l = colon ? (size_t)(colon - p) : strlen(p);
    if (l >= sizeof host)
        return 0;
    memcpy(host, p, l);
    host[l] = 0;
    return inet_pton(AF_INET, host, out) == 1 ? 4 : 0;
}

static void i61_rcb_set_owner(struct i61_srv_rcb *r, i61_sconn *c)
{
    r->owner = c;
    r->resv_until = 0;
    r->owner_len = c ? i61_peer_addr(c, r->owner_addr) : 0;
}

static void i61_brcb_purge(struct i61_srv_rcb *r)
{
    i61_entry_list_free(r->bh);
    r->bh = r->bt = r->bnext = NULL;
    r->bbytes = 0;
    i61_rcb_pending_clear(r);
}

static int i61_rcb_enable(struct i61_srv_rcb *r, i61_sconn *c, uint64_t now)
{
    if (!r->buffered || !r->bound) {
        i61_nvl *l = r->datset[0] ? i61_rcb_find_nvl(r->m, c->id, r->datset) : NULL;
        if (!l || (r->buffered && r->datset[0] == '@'))
            return DAE_TEMP_UNAVAILABLE;       /* no usable data set (libiec61850) */
        int rc = i61_rcb_bind(r, l);
        if (rc != I61_OK)
            return rc == I61_ERR_UNKNOWN ? DAE_HW_FAULT : DAE_TEMP_UNAVAILABLE;
    }
    r->enabled = true;
    if (r->owner != c)
        i61_rcb_set_owner(r, c);
    if (!r->buffered) {
        r->resv = true;                        /* implicit reservation */
        i61_rcb_pending_clear(r);
    } else {
        if (!r->resync) {
            r->bnext = r->bh;                  /* the whole buffer */
            r->ovfl = true;
        }
        r->resync = false;
    }
    r->sqnum = 0;
    r->gi_pending = false;
    r->next_intg = ((r->trg_ops & I61_TRG_INTEGRITY) && r->intg_pd) ? now + r->intg_pd : 0;
    i61_rcb_wake(r->set);
    return -1;
}

static void i61_rcb_disable(struct i61_srv_rcb *r, i61_sconn *c)
{
    if (!r->buffered) {
        /* what was collected goes out before the write response */
        i61_rcb_close(r);
        i61_urcb_send_list(r, c, i61_urcb_take(r));
        i61_rcb_unbind(r);
    }
    r->enabled = false;
    r->gi_pending = false;
    if (r->buffered && !(r->with_resv_tms && r->resv_tms != 0))
        i61_rcb_set_owner(r, NULL);
}

static bool i61_str_value(const i61_value *v, char *out, size_t cap)
{
    size_t len = 0;
    const uint8_t *p = i61_value_get_bytes(v, &len);
    if (!p || len >= cap || memchr(p, 0, len))
        return false;
    memcpy(out, p, len);
    out[len] = 0;
    return true;
}

static int i61_rcb_write_datset(struct i61_srv_rcb *r, i61_sconn *c, const i61_value *v)
{
    char s[I61_RCB_STR_MAX + 1];
    if (!i61_str_value(v, s, sizeof s))
        return DAE_VALUE_INVALID;
    if (strcmp(s, r->datset) == 0)
        return -1;
    i61_nvl *l = NULL;
    if (s[0]) {
        if (r->buffered && s[0] == '@')
            return DAE_VALUE_INVALID;          /* a BRCB outlives the association */
        l = i61_rcb_find_nvl(r->m, c->id, s);
        if (!l)
            return DAE_VALUE_INVALID;
    }
    if (r->buffered) {
        i61_rcb_unbind(r);
        i61_brcb_purge(r);
        if (l) {
            int rc = i61_rcb_bind(r, l);
            if (rc != I61_OK)
                return rc == I61_ERR_UNKNOWN ? DAE_HW_FAULT : DAE_VALUE_INVALID;
            r->next_intg = 0;
            i61_rcb_wake(r->set);
        }
    }
    i61_copy_str(r->datset, sizeof r->datset, s);
    r->conf_rev++;
    if (r->conf_rev == 0)
        r->conf_rev = 1;
    return -1;
}

/* Attributes writable while disabled (owner checks done). */
static int i61_rcb_write_config(struct i61_srv_rcb *r, i61_sconn *c, int attr, const i61_value *v,
                                uint64_t now)
{
    uint64_t u = 0;
    int64_t x = 0;
    int b = 0;
    switch (attr) {
    case I61_RCB_RESV:
        i61_value_get_boolean(v, &b);
        r->resv = b != 0;
        i61_rcb_set_owner(r, b ? c : NULL);
        return -1;
    case I61_RCB_DATSET:
        return i61_rcb_write_datset(r, c, v);
    case I61_RCB_CONF_REV:
    case I61_RCB_SQ_NUM:
    case I61_RCB_OWNER:
    case I61_RCB_TIME_OF_ENTRY:
        return DAE_ACCESS_DENIED;
    case I61_RCB_OPT_FLDS:
        r->opt_flds = i61_bits_to_mask(v) & I61_RCB_OPT_MASK;
        return -1;
    case I61_RCB_BUF_TM:
        i61_value_get_uint64(v, &u);
        if (r->buffered && u != r->buf_tm)
            i61_brcb_purge(r);
        r->buf_tm = (uint32_t)u;
        return -1;
    case I61_RCB_TRG_OPS: {
        uint32_t t = i61_bits_to_mask(v) & I61_RCB_TRG_MASK;
        if (r->buffered && t != r->trg_ops)
            i61_brcb_purge(r);
        r->trg_ops = t;
        r->next_intg = 0;
        i61_rcb_wake(r->set);
        return -1;
    }
    case I61_RCB_INTG_PD:
        i61_value_get_uint64(v, &u);
        if (r->buffered && u != r->intg_pd)
            i61_brcb_purge(r);
        r->intg_pd = (uint32_t)u;
        r->next_intg = 0;
        i61_rcb_wake(r->set);
        return -1;
    case I61_RCB_PURGE_BUF:
        i61_value_get_boolean(v, &b);
        if (b)
            i61_brcb_purge(r);
        return -1;
    case I61_RCB_ENTRY_ID: {
        size_t len = 0;
        const uint8_t *p = i61_value_get_bytes(v, &len);
        static const uint8_t zero[8];
        if (!p || len != 8)
            return DAE_VALUE_INVALID;
        if (memcmp(p, zero, 8) == 0) {
            r->bnext = r->bh;                  /* from the start */
            r->resync = false;
            memset(r->attr_entry_id, 0, 8);
            r->attr_time_ms = 0;
            return -1;
        }
        for (i61_rpt_entry *e = r->bh; e; e = e->next) {
            uint8_t id[8];
            i61_entry_be64(e->id, id);
            if (memcmp(id, p, 8) == 0) {
                r->bnext = e->next;            /* resync: what follows that entry */
                r->resync = true;
                r->ovfl = false;
                memcpy(r->attr_entry_id, id, 8);
                r->attr_time_ms = e->time_ms;
                return -1;
            }
        }
        return DAE_VALUE_INVALID;              /* no longer (or never) buffered */
    }
    case I61_RCB_RESV_TMS:
        i61_value_get_int64(v, &x);
        if (r->resv_tms < 0)
            return DAE_ACCESS_DENIED;          /* reserved by configuration */
        if (x < 0)
            return DAE_VALUE_INVALID;
        r->resv_tms = (int32_t)x;
        i61_rcb_set_owner(r, x ? c : NULL);
        (void)now;
        return -1;
    case I61_RCB_RPT_ID: {
        char s[I61_RCB_STR_MAX + 1];
        if (!i61_str_value(v, s, sizeof s))
            return DAE_VALUE_INVALID;
        const char *nv = s[0] ? s : r->ref;
        if (r->buffered && strcmp(nv, r->rpt_id) != 0)
            i61_brcb_purge(r);
        i61_copy_str(r->rpt_id, sizeof r->rpt_id, nv);
        return -1;
    }
    default:
        return DAE_ACCESS_DENIED;
    }
}

int i61_srv_rcb_write(i61_sconn *c, i61_mnode *comp, const i61_value *value)
{
    struct i61_srv_rcb *r = comp && comp->parent ? comp->parent->rcb : NULL;
    if (!r || !comp->rcb_attr)
        return DAE_ACCESS_DENIED;
    int attr = comp->rcb_attr - 1;
    if (i61_model_check_node_value(comp, comp->fc, value) != I61_OK)
        return DAE_TYPE_INCONSISTENT;
    uint64_t now = i61_mono_ms();
    i61_rcb_check_expiry(r, now);
    /* reserved or enabled by another association */
    if (r->owner && r->owner != c)
        return DAE_TEMP_UNAVAILABLE;
    if (!r->owner && r->resv_until) {
        uint8_t a[16];
        size_t al = i61_peer_addr(c, a);
        if (al != r->owner_len || memcmp(a, r->owner_addr, al) != 0)
            return DAE_TEMP_UNAVAILABLE;       /* kept for its client for ResvTms */
        i61_rcb_set_owner(r, c);               /* the same client is back */
    }
    int dae;
    if (attr == I61_RCB_RPT_ENA) {
        int on = 0;
        i61_value_get_boolean(value, &on);
        if (on)
            dae = r->enabled ? DAE_TEMP_UNAVAILABLE : i61_rcb_enable(r, c, now);
        else {
            if (r->enabled)
                i61_rcb_disable(r, c);
            dae = -1;
        }
    } else if (attr == I61_RCB_GI) {
        int on = 0;
        i61_value_get_boolean(value, &on);
        if (!r->enabled) {
            dae = DAE_TEMP_UNAVAILABLE;
        } else {
            if (on && (r->trg_ops & I61_TRG_GI)) {
                r->gi_pending = true;
                i61_rcb_wake(r->set);
            }
            dae = -1;
        }
    } else if (r->enabled) {
        dae = DAE_TEMP_UNAVAILABLE;            /* configuration only while disabled */
    } else {
        dae = i61_rcb_write_config(r, c, attr, value, now);
    }
    /* Ed2 BRCB: an accepted write reserves it (ResvTms 30 s if it was 0) */
    if (dae < 0 && r->buffered && r->with_resv_tms && attr != I61_RCB_RESV_TMS &&
        r->resv_tms == 0) {
        r->resv_tms = I61_RCB_RESV_TMS_IMPLICIT;
        i61_rcb_set_owner(r, c);
    }
    return dae;
}

/* -------------------------------------------------------------------- run */

typedef struct i61_rcb_job {
    struct i61_srv_rcb *r;
    i61_sconn *c;
    i61_rpt_entry *list;
} i61_rcb_job;

static uint64_t i61_min_deadline(uint64_t a, uint64_t b)
{
    return !a ? b : (!b ? a : (a < b ? a : b));
}

uint64_t i61_srv_rcb_run(i61_server *s, uint64_t now)
{
    i61_model *m = s->model;
    i61_model_lock(m);
    struct i61_rcb_set *set = m->rcbs;
    if (!set) {
        i61_model_unlock(m);
        return 0;
    }
    set->wake_pending = false;
    uint64_t next = 0;
    i61_rcb_job *jobs = NULL;
    size_t njobs = 0;
    for (size_t i = 0; i < set->n; i++) {
        struct i61_srv_rcb *r = set->v[i];
        i61_rcb_check_expiry(r, now);
        if (!(r->enabled || (r->buffered && r->bound)))
            continue;
        if (r->gi_pending) {
            r->gi_pending = false;
            i61_rcb_full_report(r, I61_ENTRY_GI);
        }
        if ((r->trg_ops & I61_TRG_INTEGRITY) && r->intg_pd > 0) {
            if (!r->next_intg) {
                r->next_intg = now + r->intg_pd;
            } else if (now >= r->next_intg) {
                i61_rcb_full_report(r, I61_ENTRY_INTEGRITY);
                r->next_intg += r->intg_pd;
                if (r->next_intg <= now)
                    r->next_intg = now + r->intg_pd;   /* fell behind: no burst */
            }
            next = i61_min_deadline(next, r->next_intg);
        }
        if (r->pn > 0 && r->buf_tm > 0) {
            if (now >= r->pdeadline)
                i61_rcb_close(r);
            else
                next = i61_min_deadline(next, r->pdeadline);
        }
        i61_sconn *c = r->owner;
        if (!r->enabled || !c || c->state != I61_SC_ASSOCIATED || c->close_now)
            continue;
        if (r->buffered) {
            i61_brcb_send(r, c);
        } else if (r->qh) {
            if (c->out.len >= I61_RCB_OUT_HIGH) {
                c->rpt_blocked = true;         /* resumed when `out` drains */
                continue;
            }
            i61_rcb_job *nj = realloc(jobs, (njobs + 1) * sizeof *nj);
            if (!nj)
                continue;                      /* out of memory: next run */
            jobs = nj;
            jobs[njobs].r = r;
            jobs[njobs].c = c;
            jobs[njobs].list = i61_urcb_take_some(r, I61_RCB_OUT_HIGH - c->out.len);
            njobs++;
            if (r->qh)
                c->rpt_blocked = true;         /* the rest once `out` drains */
        }
    }
    i61_model_unlock(m);
    /* URCB entries are self-contained: encoded without the model lock */
    for (size_t j = 0; j < njobs; j++)
        i61_urcb_send_list(jobs[j].r, jobs[j].c, jobs[j].list);
    free(jobs);
    return next;
}

void i61_srv_rcb_conn_gone(i61_server *s, i61_sconn *c)
{
    i61_model *m = s->model;
    i61_model_lock(m);
    struct i61_rcb_set *set = m->rcbs;
    uint64_t now = i61_mono_ms();
    for (size_t i = 0; set && i < set->n; i++) {
        struct i61_srv_rcb *r = set->v[i];
        if (r->owner != c)
            continue;
        r->enabled = false;
        r->gi_pending = false;
        if (!r->buffered) {
            i61_rcb_unbind(r);
            i61_entry_list_free(i61_urcb_take(r));
            r->resv = false;
            i61_rcb_set_owner(r, NULL);
        } else if (r->with_resv_tms && r->resv_tms > 0) {
            r->owner = NULL;                   /* Owner keeps the client's address */
            r->resv_until = now + (uint64_t)r->resv_tms * 1000u;
        } else {
            i61_rcb_set_owner(r, NULL);
        }
    }
    i61_model_unlock(m);
}

void i61_srv_rcb_stats(i61_server *s, i61_rcb_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!s)
        return;
    i61_model_lock(s->model);
    struct i61_rcb_set *set = s->model->rcbs;
    if (set) {
        out->reports_sent = __atomic_load_n(&set->reports_sent, __ATOMIC_RELAXED);
        out->entries_overflowed = __atomic_load_n(&set->entries_overflowed, __ATOMIC_RELAXED);
        out->urcb_dropped = __atomic_load_n(&set->urcb_dropped, __ATOMIC_RELAXED);
        out->members_skipped = __atomic_load_n(&set->members_skipped, __ATOMIC_RELAXED);
    }
    i61_model_unlock(s->model);
}

uint64_t i61_server_reports_sent(i61_server *s)
{
    i61_rcb_stats st;
    i61_srv_rcb_stats(s, &st);
    return st.reports_sent;
}

uint64_t i61_server_report_entries_overflowed(i61_server *s)
{
    i61_rcb_stats st;
    i61_srv_rcb_stats(s, &st);
    return st.entries_overflowed;
}

uint64_t i61_server_reports_dropped(i61_server *s)
{
    i61_rcb_stats st;
    i61_srv_rcb_stats(s, &st);
    return st.urcb_dropped;
}
