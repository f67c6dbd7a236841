/* Server data model: internal layout and the MMS view of it (named variables,
 * name lists, type specifications, read and write of MMS variables).
 *
 * Locking: every function below that takes an i61_model expects the caller to
 * hold the model lock (i61_model_lock), except where noted. The public
 * functions of i61_server.h lock by themselves.
 */
#ifndef I61_SERVER_MODEL_H
#define I61_SERVER_MODEL_H
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "i61.h"
#include "i61_server.h"
#include "../ber/ber.h"

#define I61_MODEL_NAME_MAX 64      /* LD (domain), LN, DO, DA names */
#define I61_MODEL_ITEM_MAX 64      /* MMS item name LN$FC$... (MMS Ed2) */
#define I61_MODEL_MAX_DEPTH 12     /* nodes below an LN (DO/SDO/DA levels) */
#define I61_MODEL_FC_COUNT 19      /* I61_FC_ST .. I61_FC_GO */

/* A hook registered on a node (see i61_server.h). */
typedef struct i61_mhook {
    struct i61_mhook *next;
    int fc;                 /* FC it covers (I61_FC_NONE for a whole LN) */
    bool is_write;
    bool queued;            /* event-queue hook (fn unused) */
    void *fn;               /* i61_write_hook or i61_read_hook */
    void *userdata;
} i61_mhook;

struct i61_mnode {
    char *name;
    uint8_t kind;           /* i61_mnode_kind */
    int8_t fc;              /* DA: its FC; else I61_FC_NONE */
    int8_t type;            /* DA: i61_type (STRUCTURE for constructed) */
    uint8_t depth;          /* LN = 0, DO = 1, ... */
    bool in_array;          /* DA describing the element type of an enclosing array
                               (no value of its own, no MMS name) */
    uint8_t item_len;       /* length of the item name "LN$FC$...$name" (LN: its name) */
    int32_t size;           /* DA: type size as in i61_typespec_size */
    int32_t count;          /* DA: array elements, 0 = not an array */
    uint32_t fc_mask;       /* FCs present at or below this node (bit = 1 << fc) */
    uint32_t hook_mask;     /* FCs of hooks registered strictly below this node */
    struct i61_mnode *parent;
    struct i61_mnode **kids;
    size_t nkids, capkids;
    i61_value *value;       /* value holders (a DA that is a basic type or an
                               array): the current value; NULL until defaulted */
    i61_mhook *hooks;
    i61_model *model;
    /* reporting (srv_rcb.h) */
    uint8_t trg;            /* value holders: I61_TRG_DCHG|QCHG|DUPD set by
                               i61_model_set_trigger_options, | I61_MNODE_TRG_SET;
                               0 = the default by name */
    uint8_t rcb_attr;       /* component of an RCB: its i61_rcb_attr + 1, else 0 */
    struct i61_srv_rcb *rcb;        /* the RCB node (a DO under the LN): its RCB */
    struct i61_rcb_watch *watch;    /* data set members bound to this node */
    /* control (srv_control.h) */
    struct i61_srv_ctl *ctl;        /* a controllable DO: its control state */
    /* logs (srv_log.h) */
    uint8_t lcb_attr;               /* component of an LCB: its i61_lcb_attr + 1, else 0 */
    struct i61_srv_lcb *lcb;        /* the LCB node (a DO under the LN): its LCB */
    struct i61_log_watch *log_watch;    /* LCB data set members bound to this node */
    /* sgcb/gocb: SGCB, GoCB, SVCB (srv_sgcb.h, srv_gocb.h) */
    struct i61_srv_cbx *cbx;        /* the control block node (a DO under the LN): its state */
};

#define I61_MNODE_TRG_SET 0x80

/* One MMS named variable of a domain. */
typedef struct i61_mvar {
    const char *name;       /* item name, inside the LD's name arena */
    i61_mnode *ln;
    i61_mnode *node;        /* the LN for "LN" and "LN$FC", else the DO/SDO/DA */
    int fc;                 /* I61_FC_NONE for "LN" */
} i61_mvar;

typedef struct i61_mld_index {
    i61_mvar *vars;         /* sorted (i61_model_name_cmp) */
    size_t nvars;
    char *arena;            /* the names */
} i61_mld_index;

struct i61_model {
    pthread_mutex_t lock;   /* recursive */
    char *ied_name;
    i61_mnode root;         /* kids = LDs (kind 0) */
    bool dirty;             /* index and defaults must be rebuilt */
    /* LDs sorted by domain name (built with the index) */
    i61_mnode **lds_sorted;
    size_t nlds_sorted;
    i61_mld_index *idx;     /* per LD in root.kids order */
    size_t nidx;
    size_t nhooks;          /* hooks registered anywhere (0: no hook lookups) */
    /* change notification (reporting, srv_rcb.c), called with the lock held:
     * once per replaced value holder with its previous value (the model
     * already holds every new value of the store), then once with
     * holder == NULL when the store is complete */
    void (*on_change)(void *userdata, i61_mnode *holder, const i61_value *old);
    void *on_change_ud;
    /* report control blocks (srv_rcb.c), guarded by the lock */
    struct i61_rcb_set *rcbs;
    /* data sets: named variable lists (srv_nvl.h), guarded by the lock */
    struct i61_nvl_store *nvls;
    /* controllable DOs (srv_control.c), guarded by the lock */
    struct i61_srv_ctl *ctls;
    uint64_t ctl_serial;    /* last control token handed out */
    /* logs and log control blocks (srv_log.c), guarded by the lock */
    struct i61_log_set *logs;
    /* sgcb/gocb: setting group and GOOSE/SV control blocks, guarded by the lock */
    struct i61_srv_sgcb *sgcbs;
    struct i61_srv_gocb *gocbs;
};

/* Detaches node n (an LN or below) from its parent and frees its subtree
 * (used to undo a partly built report control block). */
void i61_model_remove_node(i61_mnode *n);

/* Name order used for GetNameList and lookups: ASCII case-insensitive, ties
 * broken by plain strcmp (a total order). This is the order of the captured
 * libiec61850 name lists (PROTOCOL.md section 10, golden 010). */
int i61_model_name_cmp(const char *a, const char *b);

/* Rebuilds the index and fills default values if the model changed.
 * I61_OK or I61_ERR_UNKNOWN (out of memory). */
int i61_model_prepare(i61_model *m);

/* Domain (LD) by MMS domain name, NULL if none. Prepared model. */
i61_mnode *i61_model_domain(i61_model *m, const char *name);
/* Index of the LD (position in root.kids). */
i61_mld_index *i61_model_ld_index(i61_model *m, const i61_mnode *ld);
/* Named variable of a domain, NULL if none. Prepared model. */
const i61_mvar *i61_model_var(i61_model *m, const i61_mnode *ld, const char *item);

/* GetNameList helpers (prepared model): the sorted domain names, and the names
 * of a domain's variables strictly after `after` (NULL = from the start). */
size_t i61_model_domain_count(i61_model *m);
const char *i61_model_domain_name_at(i61_model *m, size_t i);
/* First index in a sorted list of names whose name is > after. */
size_t i61_model_domain_first_after(i61_model *m, const char *after);
size_t i61_model_var_first_after(const i61_mld_index *ix, const char *after);

/* Domain name of an LD node. */
const char *i61_model_ld_name(const i61_mnode *ld);

/* Type specification of a variable (new; caller frees). */
int i61_model_var_typespec(const i61_mvar *v, i61_typespec **out);
/* Type specification of node n restricted to fc (n = LN: fc NONE => all FCs). */
int i61_model_node_typespec(const i61_mnode *n, int fc, i61_typespec **out);

/* Encodes the Data of a variable (no alternate access) into b.
 * I61_OK or I61_ERR_UNKNOWN (OOM). */
int i61_model_encode_var(i61_buf *b, const i61_mvar *v);
/* Value of node n restricted to fc (new; caller frees). */
int i61_model_node_value(const i61_mnode *n, int fc, i61_value **out);

/* Alternate access selection: element `index` of the array, then a
 * '$'-separated component path inside it (may be "" or NULL). */
typedef struct i61_maccess {
    bool has_index;
    uint32_t index;
    const char *component;
} i61_maccess;

/* Read of a variable as an MMS AccessResult: appends the Data to b and returns
 * -1, or returns a DataAccessError code (b unchanged). aa may be NULL. */
int i61_model_read_var(i61_buf *b, const i61_mvar *v, const i61_maccess *aa);
/* Value read with alternate access (new value in *out, or a DAE >= 0 returned). */
int i61_model_read_var_value(const i61_mvar *v, const i61_maccess *aa, i61_value **out);

/* Checks an MMS write of value to a variable (with optional alternate access)
 * against the access policy (writable_mask: bit = 1 << fc) and the type.
 * Returns -1 when it may be applied, else the DataAccessError code. */
int i61_model_check_write(const i61_mvar *v, const i61_maccess *aa, const i61_value *value,
                          uint32_t writable_mask);
/* Applies a checked write. -1, or a DataAccessError (e.g. 1 hardware-fault on OOM). */
int i61_model_apply_write(i61_model *m, const i61_mvar *v, const i61_maccess *aa,
                          const i61_value *value);

/* Type check of a value against a node restricted to fc: I61_OK or
 * I61_ERR_TYPE_INCONSISTENT. */
int i61_model_check_node_value(const i61_mnode *n, int fc, const i61_value *value);
/* Stores a type-checked value (I61_OK or I61_ERR_UNKNOWN on OOM). */
int i61_model_store_node_value(i61_model *m, i61_mnode *n, int fc, const i61_value *value);

/* Client-style reference of a variable ("LD/LN.DO.DA"), into out (cap octets). */
int i61_model_var_ref(const i61_mvar *v, char *out, size_t cap);

/* Hooks covering a variable: the nearest hook at or above the variable's node
 * (same FC, or the LN hook), and every hook below it (of the variable's FC).
 * Calls fn for each; returns the number found. */
size_t i61_model_var_hooks(const i61_mvar *v, bool is_write,
                           void (*fn)(void *ctx, const i61_mhook *h), void *ctx);
/* Registers (fn != NULL, or queued) or removes a hook on node n for fc. */
int i61_model_set_hook(i61_model *m, i61_mnode *n, int fc, bool is_write, bool queued,
                       void *fn, void *userdata);

#endif
