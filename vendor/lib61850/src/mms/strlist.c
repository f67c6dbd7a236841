/* i61_strlist: an owned, growable list of NUL-terminated strings. */
#include <stdlib.h>
#include <string.h>

#include "strlist.h"

struct i61_strlist {
    char **items;
    size_t n;
    size_t cap;
};

i61_strlist *i61_strlist_new(void)
{
    return calloc(1, sizeof(i61_strlist));
}

int i61_strlist_add(i61_strlist *l, const char *s, size_t len)
{
    if (!l || (!s && len))
        return I61_ERR_INVALID_ARGUMENT;
    if (len == SIZE_MAX)
        return I61_ERR_UNKNOWN;
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        if (ncap > SIZE_MAX / sizeof(char *))
            return I61_ERR_UNKNOWN;
        char **p = realloc(l->items, ncap * sizeof(char *));
        if (!p)
            return I61_ERR_UNKNOWN;
        l->items = p;
        l->cap = ncap;
    }
    char *c = malloc(len + 1);
    if (!c)
        return I61_ERR_UNKNOWN;
    if (len)
        memcpy(c, s, len);
    c[len] = '\0';
    l->items[l->n++] = c;
    return 0;
}

size_t i61_strlist_count(const i61_strlist *l)
{
    return l ? l->n : 0;
}

const char *i61_strlist_get(const i61_strlist *l, size_t i)
{
    if (!l || i >= l->n)
        return NULL;
    return l->items[i];
}

void i61_strlist_free(i61_strlist *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    free(l);
}
