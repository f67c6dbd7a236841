/* Internal constructor side of the public i61_strlist (getters and free are in i61.h). */
#ifndef I61_STRLIST_H
#define I61_STRLIST_H
#include <stddef.h>
#include "i61.h"

/* Empty list; NULL on OOM. Free with i61_strlist_free. */
i61_strlist *i61_strlist_new(void);
/* Appends a NUL-terminated copy of len octets of s (s need not be terminated).
 * 0, or I61_ERR_UNKNOWN on OOM (the list is unchanged),
 * I61_ERR_INVALID_ARGUMENT for a NULL list or NULL s with len > 0. */
int i61_strlist_add(i61_strlist *l, const char *s, size_t len);

#endif
