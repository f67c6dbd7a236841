/* Server GOOSE and sampled value control blocks as data: see srv_gocb.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv_gocb.h"
#include "srv_sgcb.h"
#include "srv_nvl.h"
#include "../mms/value_internal.h"

/* DataAccessError codes answered here */
#define DAE_TEMP_UNAVAILABLE 2
#define DAE_ACCESS_DENIED 3
#define DAE_TYPE_INCONSISTENT 7
#define DAE_VALUE_INVALID 11

/* Roles of the components. */
enum {
    GA_ENA = 0, GA_RESV, GA_ID, GA_DATSET, GA_CONF_REV, GA_NDS_COM, GA_DST, GA_MIN_TIME,
    GA_MAX_TIME, GA_FIXED_OFFS, GA_SMP_RATE, GA_OPT_FLDS, GA_SMP_MOD, GA_NO_ASDU, GA_COUNT
};

typedef struct i61_gocb_comp {
    const char *name;
    int role;
    int type;
    int size;
} i61_gocb_comp;

/* Orders and types of srv_gocb.h (i61.h). DstAddress is a structure. */
static const i61_gocb_comp i61_gocb_comps[] = {
    {"GoEna", GA_ENA, I61_TYPE_BOOLEAN, 0},
    {"GoID", GA_ID, I61_TYPE_VISIBLE_STRING, -I61_GOCB_STR_MAX},
    {"DatSet", GA_DATSET, I61_TYPE_VISIBLE_STRING, -I61_GOCB_STR_MAX},
    {"ConfRev", GA_CONF_REV, I61_TYPE_UNSIGNED, 32},
    {"NdsCom", GA_NDS_COM, I61_TYPE_BOOLEAN, 0},
    {"DstAddress", GA_DST, I61_TYPE_STRUCTURE, 0},
    {"MinTime", GA_MIN_TIME, I61_TYPE_UNSIGNED, 32},
    {"MaxTime", GA_MAX_TIME, I61_TYPE_UNSIGNED, 32},
    {"FixedOffs", GA_FIXED_OFFS, I61_TYPE_BOOLEAN, 0},
};

static const i61_gocb_comp i61_msvcb_comps[] = {
    {"SvEna", GA_ENA, I61_TYPE_BOOLEAN, 0},
    {"MsvID", GA_ID, I61_TYPE_VISIBLE_STRING, -I61_GOCB_STR_MAX},
    {"DatSet", GA_DATSET, I61_TYPE_VISIBLE_STRING, -I61_GOCB_STR_MAX},
    {"ConfRev", GA_CONF_REV, I61_TYPE_UNSIGNED, 32},
    {"SmpRate", GA_SMP_RATE, I61_TYPE_UNSIGNED, 16},
    {"OptFlds", GA_OPT_FLDS, I61_TYPE_BIT_STRING, 5},
    {"SmpMod", GA_SMP_MOD, I61_TYPE_INTEGER, 8},
    {"DstAddress", GA_DST, I61_TYPE_STRUCTURE, 0},
    {"noASDU", GA_NO_ASDU, I61_TYPE_UNSIGNED, 16},
};

static const i61_gocb_comp i61_usvcb_comps[] = {
    {"SvEna", GA_ENA, I61_TYPE_BOOLEAN, 0},
    {"Resv", GA_RESV, I61_TYPE_BOOLEAN, 0},
    {"UsvID", GA_ID, I61_TYPE_VISIBLE_STRING, -I61_GOCB_STR_MAX},
    {"DatSet", GA_DATSET, I61_TYPE_VISIBLE_STRING, -I61_GOCB_STR_MAX},
    {"ConfRev", GA_CONF_REV, I61_TYPE_UNSIGNED, 32},
    {"SmpRate", GA_SMP_RATE, I61_TYPE_UNSIGNED, 16},
    {"OptFlds", GA_OPT_FLDS, I61_TYPE_BIT_STRING, 5},
    {"SmpMod", GA_SMP_MOD, I61_TYPE_INTEGER, 8},
    {"DstAddress", GA_DST, I61_TYPE_STRUCTURE, 0},
    {"noASDU", GA_NO_ASDU, I61_TYPE_UNSIGNED, 16},
};

/* PhyComAddress components (IEC 61850-8-1). */
enum { DST_ADDR = 0, DST_PRIORITY, DST_VID, DST_APPID, DST_COUNT };
static const i61_gocb_comp i61_dst_comps[DST_COUNT] = {
    {"Addr", DST_ADDR, I61_TYPE_OCTET_STRING, 6},
    {"PRIORITY", DST_PRIORITY, I61_TYPE_UNSIGNED, 8},
    {"VID", DST_VID, I61_TYPE_UNSIGNED, 16},
    {"APPID", DST_APPID, I61_TYPE_UNSIGNED, 16},
};

struct i61_srv_gocb {
    struct i61_srv_cbx hdr;     /* first: node->cbx points here */
    struct i61_srv_gocb *next;  /* model->gocbs */
    i61_model *m;
    i61_mnode *node;
    int fc;                     /* GO, MS or US */
    i61_mnode *attr[GA_COUNT];  /* by role, NULL when the kind has none */
    i61_mnode *dst[DST_COUNT];
    i61_sconn *owner;           /* USVCB: the association holding Resv */
};

/* ---------------------------------------------------------------- helpers */

static bool i61_gocb_name_ok(const char *s)
{
    if (!s || !*s || strlen(s) > I61_MODEL_NAME_MAX)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return false;
    return true;
}

/* DatSet text -> a persistent (domain-scoped) data set: "LD/LN$name" or
 * "LD/LN.name". NULL when there is none. Model lock held. */
static i61_nvl *i61_gocb_find_nvl(i61_model *m, const char *datset)
{
    i61_mms_name n;
    memset(&n, 0, sizeof n);
    size_t len = strlen(datset);
    const char *slash = strchr(datset, '/');
    if (len == 0 || len > I61_MMS_NAME_MAX || !slash || slash == datset ||
        (size_t)(slash - datset) > I61_MODEL_NAME_MAX || !slash[1])
        return NULL;
    n.scope = I61_MMS_SCOPE_DOMAIN;
    memcpy(n.domain, datset, (size_t)(slash - datset));
    strcpy(n.item, slash + 1);
    char *dot = strchr(n.item, '.');
    if (dot)
        *dot = '$';
    return i61_nvl_find(m, &n, 0);
}

/* "LD/LN.name" -> "LD/LN$name" (into out, cap octets). */
static void i61_gocb_datset_text(const char *in, char *out, size_t cap)
{
    snprintf(out, cap, "%s", in ? in : "");
    char *slash = strchr(out, '/');
    char *dot = slash ? strchr(slash, '.') : NULL;
    if (dot)
        *dot = '$';
}

/* A fresh holder's first value (taken); false on OOM. */
static bool i61_gocb_init(i61_mnode *n, i61_value *v)
{
    if (!n || !v) {
        i61_value_free(v);
        return false;
    }
    i61_value_free(n->value);
    n->value = v;
    return true;
}

static i61_value *i61_gocb_bits5(uint32_t mask)
{
    uint8_t b = 0;
    for (int k = 0; k < 5; k++)
        if (mask & (1u << k))
            b |= (uint8_t)(0x80u >> k);
    return i61_value_new_bit_string(5, &b);
}

static bool i61_gocb_bool(const i61_mnode *n)
{
    int b = 0;
    if (n && n->value)
        i61_value_get_boolean(n->value, &b);
    return b != 0;
}

/* ---------------------------------------------------------------- builder */

typedef struct i61_gocb_init_values {
    const char *id;
    const char *dataset;
    uint32_t conf_rev;
    int ena;
    int nds_com;
    int fixed_offs;
    uint32_t min_time, max_time;
    uint16_t smp_rate;
    uint32_t opt_flds;
    int smp_mod;
    uint16_t no_asdu;
    const i61_phy_addr *dst;
} i61_gocb_init_values;

static int i61_gocb_add(i61_model *m, const char *ln_ref, const char *name, int type,
                        const i61_gocb_init_values *iv)
{
    if (!m || !ln_ref || !i61_gocb_name_ok(name))
        return I61_ERR_INVALID_ARGUMENT;
    if ((iv->id && strlen(iv->id) > I61_GOCB_STR_MAX) ||
        (iv->dataset && strlen(iv->dataset) > I61_GOCB_STR_MAX) || iv->dst->priority > 7 ||
        iv->dst->vid > 4095)
        return I61_ERR_INVALID_ARGUMENT;
    i61_mnode *ln = NULL;
    int rc = i61_model_find(m, ln_ref, I61_FC_NONE, &ln, NULL);
    if (rc != I61_OK)
        return rc == I61_ERR_OBJECT_REFERENCE_INVALID ? I61_ERR_INVALID_ARGUMENT : rc;
    if (!ln || ln->kind != I61_MNODE_LN || !ln->parent)
        return I61_ERR_INVALID_ARGUMENT;

    i61_model_lock(m);
    char datset[I61_GOCB_STR_MAX + 1];
    i61_gocb_datset_text(iv->dataset, datset, sizeof datset);
    if (datset[0] && !i61_gocb_find_nvl(m, datset)) {
        i61_model_unlock(m);
        return I61_ERR_OBJECT_DOES_NOT_EXIST;
    }
    const i61_gocb_comp *comps = type == I61_CBX_GOCB    ? i61_gocb_comps
                                 : type == I61_CBX_MSVCB ? i61_msvcb_comps
                                                         : i61_usvcb_comps;
    size_t ncomps = type == I61_CBX_GOCB    ? sizeof i61_gocb_comps / sizeof i61_gocb_comps[0]
                    : type == I61_CBX_MSVCB ? sizeof i61_msvcb_comps / sizeof i61_msvcb_comps[0]
                                            : sizeof i61_usvcb_comps / sizeof i61_usvcb_comps[0];
    int fc = type == I61_CBX_GOCB ? I61_FC_GO : type == I61_CBX_MSVCB ? I61_FC_MS : I61_FC_US;
    struct i61_srv_gocb *b = calloc(1, sizeof *b);
    i61_mnode *node = NULL;
    rc = b ? i61_model_add_do(ln, name, &node) : I61_ERR_UNKNOWN;
    for (size_t i = 0; i < ncomps && rc == I61_OK; i++) {
        i61_mnode *k = NULL;
        rc = i61_model_add_da(node, comps[i].name, fc, comps[i].type, comps[i].size, 0, &k);
        if (rc == I61_OK)
            b->attr[comps[i].role] = k;
        if (rc == I61_OK && comps[i].role == GA_DST)
            for (int d = 0; d < DST_COUNT && rc == I61_OK; d++)
                rc = i61_model_add_da(k, i61_dst_comps[d].name, fc, i61_dst_comps[d].type,
                                      i61_dst_comps[d].size, 0, &b->dst[d]);
    }
    if (rc == I61_OK) {
        char def_id[2 * I61_MODEL_NAME_MAX + 3];
        snprintf(def_id, sizeof def_id, "%s/%s.%s", ln->parent->name, ln->name, name);
        const char *id = iv->id && iv->id[0] ? iv->id : def_id;
        bool ok = i61_gocb_init(b->attr[GA_ENA], i61_value_new_boolean(iv->ena)) &&
                  i61_gocb_init(b->attr[GA_ID], i61_value_new_visible_string(id)) &&
                  i61_gocb_init(b->attr[GA_DATSET], i61_value_new_visible_string(datset)) &&
                  i61_gocb_init(b->attr[GA_CONF_REV],
                                i61_value_new_unsigned_sized(iv->conf_rev, 32)) &&
                  i61_gocb_init(b->dst[DST_ADDR], i61_value_new_octet_string(iv->dst->mac, 6)) &&
                  i61_gocb_init(b->dst[DST_PRIORITY],
                                i61_value_new_unsigned_sized(iv->dst->priority, 8)) &&
                  i61_gocb_init(b->dst[DST_VID], i61_value_new_unsigned_sized(iv->dst->vid, 16)) &&
                  i61_gocb_init(b->dst[DST_APPID],
                                i61_value_new_unsigned_sized(iv->dst->appid, 16));
        if (type == I61_CBX_GOCB)
            ok = ok && i61_gocb_init(b->attr[GA_NDS_COM], i61_value_new_boolean(iv->nds_com)) &&
                 i61_gocb_init(b->attr[GA_MIN_TIME],
                               i61_value_new_unsigned_sized(iv->min_time, 32)) &&
                 i61_gocb_init(b->attr[GA_MAX_TIME],
                               i61_value_new_unsigned_sized(iv->max_time, 32)) &&
                 i61_gocb_init(b->attr[GA_FIXED_OFFS], i61_value_new_boolean(iv->fixed_offs));
        else
            ok = ok && i61_gocb_init(b->attr[GA_SMP_RATE],
                                     i61_value_new_unsigned_sized(iv->smp_rate, 16)) &&
                 i61_gocb_init(b->attr[GA_OPT_FLDS], i61_gocb_bits5(iv->opt_flds)) &&
                 i61_gocb_init(b->attr[GA_SMP_MOD], i61_value_new_integer_sized(iv->smp_mod, 8)) &&
                 i61_gocb_init(b->attr[GA_NO_ASDU],
                               i61_value_new_unsigned_sized(iv->no_asdu, 16));
        if (type == I61_CBX_USVCB)
            ok = ok && i61_gocb_init(b->attr[GA_RESV], i61_value_new_boolean(0));
        if (!ok)
            rc = I61_ERR_UNKNOWN;
    }
    if (rc != I61_OK) {
        if (node)
            i61_model_remove_node(node);
        free(b);
        i61_model_unlock(m);
        return rc == I61_ERR_INVALID_ARGUMENT || rc == I61_ERR_OBJECT_EXISTS ? rc
                                                                             : I61_ERR_UNKNOWN;
    }
    b->hdr.type = type;
    b->m = m;
    b->node = node;
    b->fc = fc;
    node->cbx = &b->hdr;
    b->next = m->gocbs;
    m->gocbs = b;
    i61_model_unlock(m);
    return I61_OK;
}

int i61_model_add_gocb(i61_model *m, const char *ln_ref, const char *name,
                       const i61_gocb_config *cfg)
{
    static const i61_gocb_config none;
    if (!cfg)
        cfg = &none;
    i61_gocb_init_values iv;
    memset(&iv, 0, sizeof iv);
    iv.id = cfg->go_id;
    iv.dataset = cfg->dataset;
    iv.conf_rev = cfg->conf_rev;
    iv.ena = cfg->go_ena != 0;
    iv.nds_com = cfg->nds_com != 0;
    iv.fixed_offs = cfg->fixed_offs != 0;
    iv.min_time = cfg->min_time;
    iv.max_time = cfg->max_time;
    iv.dst = &cfg->dst;
    return i61_gocb_add(m, ln_ref, name, I61_CBX_GOCB, &iv);
}

int i61_model_add_svcb(i61_model *m, const char *ln_ref, const char *name, int multicast,
                       const i61_svcb_config *cfg)
{
    static const i61_svcb_config none;
    if (!cfg)
        cfg = &none;
    if (cfg->smp_mod < 0 || cfg->smp_mod > 2 || (cfg->opt_flds & ~0x1fu))
        return I61_ERR_INVALID_ARGUMENT;
    i61_gocb_init_values iv;
    memset(&iv, 0, sizeof iv);
    iv.id = cfg->sv_id;
    iv.dataset = cfg->dataset;
    iv.conf_rev = cfg->conf_rev;
    iv.ena = cfg->sv_ena != 0;
    iv.smp_rate = cfg->smp_rate;
    iv.opt_flds = cfg->opt_flds;
    iv.smp_mod = cfg->smp_mod;
    iv.no_asdu = cfg->no_asdu;
    iv.dst = &cfg->dst;
    return i61_gocb_add(m, ln_ref, name, multicast ? I61_CBX_MSVCB : I61_CBX_USVCB, &iv);
}

void i61_gocb_set_free(i61_model *m)
{
    struct i61_srv_gocb *b = m->gocbs;
    while (b) {
        struct i61_srv_gocb *nx = b->next;
        if (b->node)
            b->node->cbx = NULL;
        free(b);
        b = nx;
    }
    m->gocbs = NULL;
}

/* ----------------------------------------------------------------- writes */

static int i61_gocb_role_of(const struct i61_srv_gocb *b, const i61_mnode *n)
{
    for (int r = 0; r < GA_COUNT; r++)
        if (b->attr[r] && b->attr[r] == n)
            return r;
    for (int d = 0; d < DST_COUNT; d++)
        if (b->dst[d] == n)
            return GA_DST;
    return -1;
}

static int64_t i61_gocb_uint_of(const i61_value *v)
{
    uint64_t u = 0;
    return i61_value_get_uint64(v, &u) == I61_OK && u <= INT64_MAX ? (int64_t)u : -1;
}

/* The PRIORITY and VID a DstAddress write would leave are in range. */
static bool i61_gocb_dst_ok(const struct i61_srv_gocb *b, const i61_mnode *target,
                            const i61_value *v)
{
    int64_t prio = -1, vid = -1;
    if (target == b->attr[GA_DST]) {
        prio = i61_gocb_uint_of(i61_value_element(v, DST_PRIORITY));
        vid = i61_gocb_uint_of(i61_value_element(v, DST_VID));
    } else if (target == b->dst[DST_PRIORITY]) {
        prio = i61_gocb_uint_of(v);
        vid = 0;
    } else if (target == b->dst[DST_VID]) {
        prio = 0;
        vid = i61_gocb_uint_of(v);
    } else {
        return true;
    }
    return prio >= 0 && prio <= 7 && vid >= 0 && vid <= 4095;
}

static int i61_gocb_store(struct i61_srv_gocb *b, i61_mnode *n, const i61_value *v)
{
    return i61_model_store_node_value(b->m, n, b->fc, v) == I61_OK ? -1 : 1;
}

/* DatSet := v (disabled, type-checked). */
static int i61_gocb_write_datset(struct i61_srv_gocb *b, const i61_value *v)
{
    size_t len = 0;
    const uint8_t *p = i61_value_get_bytes(v, &len);
    char s[I61_GOCB_STR_MAX + 1];
    if (!p || len >= sizeof s || memchr(p, 0, len))
        return DAE_VALUE_INVALID;
    memcpy(s, p, len);
    s[len] = 0;
    if (s[0] && !i61_gocb_find_nvl(b->m, s))
        return DAE_VALUE_INVALID;
    const i61_mnode *cur = b->attr[GA_DATSET];
    size_t cl = 0;
    const uint8_t *cp = cur->value ? i61_value_get_bytes(cur->value, &cl) : NULL;
    bool changed = !cp || cl != len || memcmp(cp, p, len) != 0;
    int dae = i61_gocb_store(b, b->attr[GA_DATSET], v);
    if (dae < 0 && changed && b->attr[GA_CONF_REV] && b->attr[GA_CONF_REV]->value) {
        uint64_t rev = 0;
        i61_value_get_uint64(b->attr[GA_CONF_REV]->value, &rev);
        i61_value *nv = i61_value_new_unsigned_sized((rev + 1) & 0xffffffffu, 32);
        if (nv)
            i61_gocb_store(b, b->attr[GA_CONF_REV], nv);
        i61_value_free(nv);
    }
    return dae;
}

/* GoEna/SvEna := TRUE: the block must be usable. */
static int i61_gocb_enable_check(const struct i61_srv_gocb *b)
{
    if (b->attr[GA_NDS_COM] && i61_gocb_bool(b->attr[GA_NDS_COM]))
        return DAE_VALUE_INVALID;               /* needs commissioning (libiec61850) */
    const i61_mnode *ds = b->attr[GA_DATSET];
    size_t len = 0;
    const uint8_t *p = ds->value ? i61_value_get_bytes(ds->value, &len) : NULL;
    char s[I61_GOCB_STR_MAX + 1];
    if (!p || len == 0 || len >= sizeof s)
        return DAE_VALUE_INVALID;               /* no data set (libiec61850) */
    memcpy(s, p, len);
    s[len] = 0;
    return i61_gocb_find_nvl(b->m, s) ? -1 : DAE_VALUE_INVALID;
}

int i61_srv_gocb_write(i61_sconn *c, i61_mnode *cb, i61_mnode *target, const i61_value *value)
{
    struct i61_srv_gocb *b = (struct i61_srv_gocb *)(void *)cb->cbx;
    if (!b || b->hdr.type == I61_CBX_SGCB)
        return DAE_ACCESS_DENIED;
    if (b->owner && b->owner != c)
        return DAE_TEMP_UNAVAILABLE;            /* USVCB reserved by another association */
    int role = i61_gocb_role_of(b, target);
    if (role != GA_ENA && role != GA_RESV && role != GA_ID && role != GA_DATSET &&
        role != GA_DST)
        return DAE_ACCESS_DENIED;
    if (i61_model_check_node_value(target, b->fc, value) != I61_OK)
        return DAE_TYPE_INCONSISTENT;
    if (role == GA_RESV) {
        int on = 0;
        i61_value_get_boolean(value, &on);
        b->owner = on ? c : NULL;
        return i61_gocb_store(b, target, value);
    }
    if (role == GA_ENA) {
        int on = 0;
        i61_value_get_boolean(value, &on);
        if (on && !i61_gocb_bool(target)) {
            int dae = i61_gocb_enable_check(b);
            if (dae >= 0)
                return dae;
        }
        return i61_gocb_store(b, target, value);
    }
    if (i61_gocb_bool(b->attr[GA_ENA]))
        return DAE_TEMP_UNAVAILABLE;            /* configuration only while disabled */
    if (role == GA_DATSET)
        return i61_gocb_write_datset(b, value);
    if (role == GA_DST && !i61_gocb_dst_ok(b, target, value))
        return DAE_VALUE_INVALID;
    return i61_gocb_store(b, target, value);
}

void i61_srv_gocb_conn_gone(i61_server *s, i61_sconn *c)
{
    i61_model *m = s->model;
    i61_model_lock(m);
    for (struct i61_srv_gocb *b = m->gocbs; b; b = b->next) {
        if (b->owner != c)
            continue;
        b->owner = NULL;
        i61_value *f = i61_value_new_boolean(0);
        if (f && b->attr[GA_RESV])
            i61_gocb_store(b, b->attr[GA_RESV], f);
        i61_value_free(f);
    }
    i61_model_unlock(m);
}
