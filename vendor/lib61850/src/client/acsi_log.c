/* ACSI client: QueryLogByTime / QueryLogAfter as one MMS ReadJournal each
 * (PROTOCOL.md 8 and 14, goldens 130/131); see i61.h for the contract.
 *
 * Times before 1984-01-01 (the TimeOfDay epoch) are sent as 1984-01-01 and
 * times after the last TimeOfDay day (2163) as that last instant: nothing a
 * server logs can lie outside that range, so the result is the same. */
#include "client_internal.h"
#include "reference.h"
#include "../mms/mms_journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BADREF I61_ERR_OBJECT_REFERENCE_INVALID

#define TOD_MIN_MS 441763200000LL                           /* 1984-01-01 00:00:00 UTC */
#define TOD_MAX_MS (TOD_MIN_MS + 65536LL * 86400000LL - 1)  /* last day 65535, 23:59:59.999 */

typedef struct i61_jvar {
    char *ref;
    i61_value *value;
    int reason;                 /* i61_reason mask, -1 absent */
} i61_jvar;

typedef struct i61_jentry {
    uint8_t id[I61_MMS_JOURNAL_ID_MAX];
    size_t id_len;
    int64_t time_ms;
    i61_jvar *vars;
    size_t nvars;
} i61_jentry;

struct i61_journal {
    i61_jentry *items;
    size_t count;
};

/* ------------------------------------------------------------ references */

static bool name_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')
           || ch == '_';
}

/* "LD/LN$LogName" or "LD/LN.LogName" -> domain LD, item "LN$LogName". More
 * components are kept ("LD/LLN0$LG$EventLog": the Rust iec61850 server names
 * its journals after the LCB), '.' becoming '$'. */
static int log_parse_ref(const char *ref, i61_mms_name *out, char *why, size_t whycap)
{
    if (!ref || !*ref) {
        snprintf(why, whycap, "empty log reference");
        return BADREF;
    }
    if (strlen(ref) > I61_REF_MAX) {
        snprintf(why, whycap, "log reference longer than %d characters", I61_REF_MAX);
        return BADREF;
    }
    const char *slash = strchr(ref, '/');
    if (!slash) {
        snprintf(why, whycap, "no '/' between logical device and logical node (LD/LN$LogName)");
        return BADREF;
    }
    char ld[I61_REF_LD_MAX + 1];
    size_t ldl = (size_t)(slash - ref);
    if (ldl > I61_REF_LD_MAX) {
        snprintf(why, whycap, "logical device name longer than %d characters", I61_REF_LD_MAX);
        return BADREF;
    }
    memcpy(ld, ref, ldl);
    ld[ldl] = '\0';
    int rc = i61_ref_check_ld(ld, why, whycap);
    if (rc != I61_OK)
        return rc;
    const char *item = slash + 1;
    size_t il = strlen(item), parts = 1, run = 0;
    for (size_t i = 0; i < il; i++) {
        if (item[i] == '.' || item[i] == '$') {
            if (run == 0)
                break;
            parts++;
            run = 0;
        } else if (!name_char(item[i])) {
            snprintf(why, whycap, "only letters, digits and '_' are allowed in the LN and log names");
            return BADREF;
        } else {
            run++;
        }
    }
    if (parts < 2 || run == 0) {
        snprintf(why, whycap, "a log reference is LD/LN$LogName or LD/LN.LogName");
        return BADREF;
    }
    if (il > I61_REF_ITEM_MAX) {
        snprintf(why, whycap, "MMS name of the log longer than %d characters", I61_REF_ITEM_MAX);
        return BADREF;
    }
    memset(out, 0, sizeof *out);
    out->scope = I61_MMS_SCOPE_DOMAIN;
    memcpy(out->domain, ld, ldl + 1);
    for (size_t i = 0; i <= il; i++)
        out->item[i] = item[i] == '.' ? '$' : item[i];
    return I61_OK;
}

/* ------------------------------------------------------------ results */

void i61_journal_free(i61_journal *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->count; i++) {
        for (size_t k = 0; k < j->items[i].nvars; k++) {
            free(j->items[i].vars[k].ref);
            i61_value_free(j->items[i].vars[k].value);
        }
        free(j->items[i].vars);
    }
    free(j->items);
    free(j);
}

/* ReasonCode bit string -> i61_reason mask (IEC bits 1..5 -> 1..16, bit 6
 * application-trigger -> 64). -1 when v is no bit string. */
static int reason_mask(const i61_value *v)
{
    if (i61_value_type(v) != I61_TYPE_BIT_STRING)
        return -1;
    size_t len = 0;
    const uint8_t *p = i61_value_get_bytes(v, &len);
    int nbits = i61_value_bit_size(v);
    int m = 0;
    for (int bit = 1; bit <= 6 && bit < nbits && p && (size_t)(bit / 8) < len; bit++) {
        if (!(p[bit / 8] & (0x80 >> (bit % 8))))
            continue;
        m |= bit == 6 ? I61_REASON_APP_TRIGGER : 1 << (bit - 1);
    }
    return m;
}

/* Moves the variables of e into out, pairing each "ReasonCode" variable with
 * the value before it. */
static int take_entry(i61_mms_journal_entry *e, i61_jentry *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->id, e->id, e->id_len);
    out->id_len = e->id_len;
    out->time_ms = e->time_ms;
    if (e->nvars == 0)
        return I61_OK;
    out->vars = calloc(e->nvars, sizeof *out->vars);
    if (!out->vars)
        return I61_ERR_UNKNOWN;
    for (size_t k = 0; k < e->nvars; k++) {
        i61_mms_journal_var *v = &e->vars[k];
        i61_jvar *prev = out->nvars ? &out->vars[out->nvars - 1] : NULL;
        int r = strcmp(v->tag, "ReasonCode") == 0 ? reason_mask(v->value) : -1;
        if (r >= 0 && prev && prev->reason < 0 && strcmp(prev->ref, "ReasonCode") != 0) {
            prev->reason = r;
            continue;                       /* v is freed with e */
        }
        i61_jvar *o = &out->vars[out->nvars++];
        o->ref = v->tag;
        o->value = v->value;
        o->reason = -1;
        v->tag = NULL;
        v->value = NULL;
    }
    return I61_OK;
}

static int journal_from_list(i61_mms_journal_list *l, i61_journal **out)
{
    i61_journal *j = calloc(1, sizeof *j);
    if (!j)
        return I61_ERR_UNKNOWN;
    if (l->count) {
        j->items = calloc(l->count, sizeof *j->items);
        if (!j->items) {
            free(j);
            return I61_ERR_UNKNOWN;
        }
    }
    for (size_t i = 0; i < l->count; i++) {
        int rc = take_entry(&l->items[i], &j->items[j->count]);
        j->count++;
        if (rc != I61_OK) {
            i61_journal_free(j);
            return rc;
        }
    }
    *out = j;
    return I61_OK;
}

/* ------------------------------------------------------------ request */

/* ms (>= 0) into the TimeOfDay range. */
static int64_t clamp_time(int64_t ms)
{
    if (ms < TOD_MIN_MS)
        return TOD_MIN_MS;
    if (ms > TOD_MAX_MS)
        return TOD_MAX_MS;
    return ms;
}

int i61_client_read_journal(i61_client *c, const char *log_ref, int64_t start_ms,
                            int64_t end_ms, const uint8_t *after_id, size_t after_id_len,
                            int64_t after_ms, i61_journal **out, int *more_follows)
{
    if (out)
        *out = NULL;
    if (more_follows)
        *more_follows = 0;
    if (!c || !out)
        return I61_ERR_INVALID_ARGUMENT;
    char what[I61_REF_MAX + 32], why[200];
    snprintf(what, sizeof what, "query log %.*s", I61_REF_MAX, log_ref ? log_ref : "");
    i61_mms_journal_req q;
    memset(&q, 0, sizeof q);
    int rc = log_parse_ref(log_ref, &q.journal, why, sizeof why);
    if (rc != I61_OK)
        return i61_client_error(c, rc, "%s: %s", what, why);
    if (start_ms < -1 || end_ms < -1 || (after_id && after_ms < 0))
        return i61_client_error(c, I61_ERR_INVALID_ARGUMENT, "%s: negative time", what);
    if (after_id && after_id_len > I61_MMS_JOURNAL_ID_MAX)
        return i61_client_error(c, I61_ERR_INVALID_ARGUMENT,
                                "%s: entry id longer than %d octets", what, I61_MMS_JOURNAL_ID_MAX);
    if (start_ms >= 0) {
        q.has_start_time = true;
        q.start_ms = clamp_time(start_ms);
    }
    if (end_ms >= 0) {
        q.has_end_time = true;
        q.end_ms = clamp_time(end_ms);
    }
    if (after_id) {
        q.has_after = true;
        q.after_ms = clamp_time(after_ms);
        if (after_id_len)
            memcpy(q.after_entry, after_id, after_id_len);
        q.after_entry_len = after_id_len;
    }
    i61_buf req, resp;
    i61_buf_init(&req);
    i61_buf_init(&resp);
    i61_mms_journal_list l;
    i61_mms_journal_list_init(&l);
    i61_mms_error e = { 0, 0, 0 };
    bool more = false;
    uint32_t id = i61_assoc_next_invoke_id(c->assoc);
    rc = i61_mms_enc_read_journal_req(&req, id, &q);
    if (rc == I61_OK && req.len > i61_client_pdu_limit(c))
        rc = I61_ERR_INVALID_ARGUMENT;
    if (rc == I61_OK)
        rc = i61_client_transact(c, id, &req, &resp);
    if (rc == I61_OK)
        rc = i61_mms_dec_read_journal_resp(resp.data, resp.len, &l, &more, &e);
    i61_buf_free(&req);
    i61_buf_free(&resp);
    if (rc == I61_OK)
        rc = journal_from_list(&l, out);
    i61_mms_journal_list_clear(&l);
    if (rc != I61_OK)
        return i61_client_fail(c, rc, what, &e);
    if (more_follows)
        *more_follows = more ? 1 : 0;
    i61_client_clear_error(c);
    return I61_OK;
}

/* ------------------------------------------------------------ accessors */

size_t i61_journal_count(const i61_journal *j)
{
    return j ? j->count : 0;
}

static const i61_jentry *entry_at(const i61_journal *j, size_t i)
{
    return j && i < j->count ? &j->items[i] : NULL;
}

static const i61_jvar *var_at(const i61_journal *j, size_t i, size_t k)
{
    const i61_jentry *e = entry_at(j, i);
    return e && k < e->nvars ? &e->vars[k] : NULL;
}

const uint8_t *i61_journal_entry_id(const i61_journal *j, size_t i, size_t *len)
{
    const i61_jentry *e = entry_at(j, i);
    if (len)
        *len = e ? e->id_len : 0;
    return e ? e->id : NULL;
}

int64_t i61_journal_entry_time_ms(const i61_journal *j, size_t i)
{
    const i61_jentry *e = entry_at(j, i);
    return e ? e->time_ms : 0;
}

size_t i61_journal_var_count(const i61_journal *j, size_t i)
{
    const i61_jentry *e = entry_at(j, i);
    return e ? e->nvars : 0;
}

const char *i61_journal_var_ref(const i61_journal *j, size_t i, size_t k)
{
    const i61_jvar *v = var_at(j, i, k);
    return v ? v->ref : NULL;
}

const i61_value *i61_journal_var_value(const i61_journal *j, size_t i, size_t k)
{
    const i61_jvar *v = var_at(j, i, k);
    return v ? v->value : NULL;
}

int i61_journal_var_reason(const i61_journal *j, size_t i, size_t k)
{
    const i61_jvar *v = var_at(j, i, k);
    return v ? v->reason : -1;
}

size_t i61_journal_var_total(const i61_journal *j)
{
    size_t n = 0;
    for (size_t i = 0; j && i < j->count; i++)
        for (size_t k = 0; k < j->items[i].nvars; k++)
            n += j->items[i].vars[k].value != NULL;
    return n;
}

int i61_journal_views(const i61_journal *j, i61_journal_entry_view *entries, size_t n_entries,
                      i61_journal_var_view *vars, size_t n_vars)
{
    if (!j || n_entries < j->count || (j->count && !entries))
        return I61_ERR_INVALID_ARGUMENT;
    size_t total = i61_journal_var_total(j);
    if (n_vars < total || (total && !vars))
        return I61_ERR_INVALID_ARGUMENT;
    size_t at = 0;
    for (size_t i = 0; i < j->count; i++) {
        const i61_jentry *e = &j->items[i];
        i61_journal_entry_view *o = &entries[i];
        o->id = e->id;
        o->id_len = e->id_len;
        o->time_ms = e->time_ms;
        o->first_var = at;
        for (size_t k = 0; k < e->nvars; k++) {
            const i61_jvar *v = &e->vars[k];
            if (!v->value)
                continue;
            vars[at].ref = v->ref;
            vars[at].value = v->value;
            vars[at].reason = v->reason;
            at++;
        }
        o->nvars = at - o->first_var;
    }
    return I61_OK;
}
