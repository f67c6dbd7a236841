/* Server data sets: MMS named variable lists (NVLs) stored with the model, and
 * the DefineNamedVariableList / GetNamedVariableListAttributes /
 * DeleteNamedVariableList services, GetNameList of NVLs and the expansion of a
 * variableListName in Read/Write.
 *
 * Storage: one list per model (struct i61_model.nvls), guarded by the model
 * lock. Persistent lists come from i61_model_add_dataset (not deletable);
 * clients define domain-specific (deletable, they stay after the association)
 * and aa-specific ones (owner = the connection id, dropped when the
 * association closes, i61_nvl_drop_conn). VMD-specific lists are accepted as
 * well (deletable, persistent).
 *
 * Reporting hook: `reserved` counts report control blocks bound to this data
 * set (srv_rcb.c: an enabled URCB, a buffering BRCB); a reserved list is not
 * deleted. The RCBs of an association are unbound before its aa-specific
 * lists are dropped (i61_srv_conn_gone). */
#ifndef I61_SRV_NVL_H
#define I61_SRV_NVL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "server_internal.h"

#define I61_NVL_MAX_PER_CONN 64        /* aa-specific lists per association */
#define I61_NVL_MAX_TOTAL 4096         /* all lists of a model */

typedef struct i61_nvl {
    i61_mms_name name;
    uint32_t owner;                    /* aa-specific: connection id, else 0 */
    bool deletable;
    int reserved;                      /* enabled RCBs using it (see above) */
    i61_mms_var *members;
    size_t n;
} i61_nvl;

struct i61_nvl_store {
    i61_nvl **v;
    size_t n, cap;
};

void i61_nvl_store_free(struct i61_nvl_store *s);

/* Lookup (model lock held). conn_id selects the aa-specific lists. */
i61_nvl *i61_nvl_find(i61_model *m, const i61_mms_name *name, uint32_t conn_id);
/* +1 / -1 on the RCB reservation count (model lock held). */
void i61_nvl_reserve(i61_nvl *l, int delta);
/* The same by the DatSet string of a control block: "LD/LN$name" (domain),
 * "@name" (aa-specific of conn_id) or "LN$name" (VMD). Takes the model lock.
 * I61_OK, I61_ERR_OBJECT_DOES_NOT_EXIST, I61_ERR_OBJECT_REFERENCE_INVALID. */
int i61_nvl_reserve_ref(i61_model *m, uint32_t conn_id, const char *datset, int delta);
/* Drops the aa-specific lists of a connection (takes the model lock). */
void i61_nvl_drop_conn(i61_model *m, uint32_t conn_id);

/* Services (I/O thread). */
void i61_srv_define_nvl(i61_sconn *c, const i61_mms_request *rq);
void i61_srv_get_nvl_attr(i61_sconn *c, const i61_mms_request *rq);
void i61_srv_delete_nvl(i61_sconn *c, const i61_mms_request *rq);

/* Sorted names of the lists in one scope (domain: of that domain; aa: of
 * conn_id) strictly after `after` (may be NULL), into *names (malloc'ed array
 * of pointers into the store, valid while the model lock is held).
 * I61_OK or I61_ERR_UNKNOWN. */
int i61_nvl_names(i61_model *m, int scope, const char *domain, uint32_t conn_id,
                  const char *after, const char ***names, size_t *n);

/* Read/Write by variableListName: replaces spec->vars with a copy of the
 * list's members (spec->is_nvl and spec->nvl stay, for the echo). Model lock
 * held. I61_OK, I61_ERR_OBJECT_DOES_NOT_EXIST or I61_ERR_UNKNOWN. */
int i61_nvl_expand(i61_model *m, uint32_t conn_id, i61_mms_access_spec *spec);

#endif
