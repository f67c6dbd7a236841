/* Object references and ACSI directories: see reference.h. */
#include "reference.h"
#include "../mms/strlist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BAD I61_ERR_OBJECT_REFERENCE_INVALID

static int why_set(char *why, size_t cap, int rc, const char *fmt, const char *arg)
{
    if (why && cap)
        snprintf(why, cap, fmt, arg ? arg : "");
    return rc;
}

static bool name_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')
           || ch == '_';
}

/* Two-letter FC names accepted inside MMS-style names (i61_fc plus GS of Ed1). */
static bool is_fc_name(const char *s, size_t len)
{
    char two[3];
    if (len != 2)
        return false;
    two[0] = s[0];
    two[1] = s[1];
    two[2] = '\0';
    return i61_fc_from_name(two) != I61_FC_NONE || strcmp(two, "GS") == 0;
}

/* First character that is not a name character, or NULL. */
static const char *bad_char(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!name_char(s[i]))
            return s + i;
    return NULL;
}

int i61_ref_check_ld(const char *ld, char *why, size_t whycap)
{
    if (!ld || !*ld)
        return why_set(why, whycap, BAD, "empty logical device name%s", NULL);
    size_t n = strlen(ld);
    if (n > I61_REF_LD_MAX)
        return why_set(why, whycap, BAD, "logical device name longer than 64 characters%s", NULL);
    const char *b = bad_char(ld, n);
    if (b) {
        char c[2] = { *b, 0 };
        if ((unsigned char)*b < 0x20 || (unsigned char)*b > 0x7e)
            return why_set(why, whycap, BAD, "non-printable character in logical device name%s", NULL);
        return why_set(why, whycap, BAD, "character '%s' not allowed in logical device name", c);
    }
    return I61_OK;
}

/* Splits "LD/rest": checks the overall length, the single '/', the LD. */
static int split_ld(const char *ref, char *ld, const char **rest, char *why, size_t whycap)
{
    if (!ref || !*ref)
        return why_set(why, whycap, BAD, "empty object reference%s", NULL);
    size_t n = strlen(ref);
    if (n > I61_REF_MAX)
        return why_set(why, whycap, BAD, "object reference longer than 129 characters%s", NULL);
    const char *slash = strchr(ref, '/');
    if (!slash)
        return why_set(why, whycap, BAD, "no '/' between logical device and logical node%s", NULL);
    if (strchr(slash + 1, '/'))
        return why_set(why, whycap, BAD, "more than one '/'%s", NULL);
    size_t ldlen = (size_t)(slash - ref);
    if (ldlen == 0)
        return why_set(why, whycap, BAD, "empty logical device name%s", NULL);
    if (ldlen > I61_REF_LD_MAX)
        return why_set(why, whycap, BAD, "logical device name longer than 64 characters%s", NULL);
    memcpy(ld, ref, ldlen);
    ld[ldlen] = '\0';
    int rc = i61_ref_check_ld(ld, why, whycap);
    if (rc != I61_OK)
        return rc;
    if (!slash[1])
        return why_set(why, whycap, BAD, "no logical node after '/'%s", NULL);
    *rest = slash + 1;
    return I61_OK;
}

/* Appends one name step to item (with '$' before it unless first). */
static int item_append(char *item, size_t *ilen, const char *s, size_t len, char *why,
                       size_t whycap)
{
    if (len == 0)
        return why_set(why, whycap, BAD, "empty name between separators%s", NULL);
    const char *b = bad_char(s, len);
    if (b) {
        char c[2] = { *b, 0 };
        if ((unsigned char)*b < 0x20 || (unsigned char)*b > 0x7e)
            return why_set(why, whycap, BAD, "non-printable character in reference%s", NULL);
        return why_set(why, whycap, BAD, "character '%s' not allowed in a name", c);
    }
    size_t need = len + (*ilen ? 1 : 0);
    if (*ilen + need > I61_REF_ITEM_MAX)
        return why_set(why, whycap, BAD, "MMS item name longer than 64 characters%s", NULL);
    if (*ilen)
        item[(*ilen)++] = '$';
    memcpy(item + *ilen, s, len);
    *ilen += len;
    item[*ilen] = '\0';
    return I61_OK;
}

/* Parses "(digits)" at p; *end after ')'. */
static int parse_index(const char *p, uint32_t *index, const char **end, char *why, size_t whycap)
{
    uint64_t v = 0;
    const char *q = p + 1;
    if (*q < '0' || *q > '9')
        return why_set(why, whycap, BAD, "array index must be a decimal number%s", NULL);
    while (*q >= '0' && *q <= '9') {
        v = v * 10 + (uint64_t)(*q - '0');
        if (v > UINT32_MAX)
            return why_set(why, whycap, BAD, "array index too large%s", NULL);
        q++;
    }
    if (*q != ')')
        return why_set(why, whycap, BAD, "missing ')' after array index%s", NULL);
    *index = (uint32_t)v;
    *end = q + 1;
    return I61_OK;
}

int i61_ref_component(const char *component, char *out, char *why, size_t whycap)
{
    size_t olen = 0;
    int n = 0;
    out[0] = '\0';
    if (!component || !*component)
        return I61_OK;
    const char *p = component;
    for (;;) {
        const char *e = p;
        while (*e && *e != '.' && *e != '$')
            e++;
        size_t len = (size_t)(e - p);
        if (len == 0)
            return why_set(why, whycap, BAD, "empty name in component path%s", NULL);
        const char *b = bad_char(p, len);
        if (b)
            return why_set(why, whycap, BAD, "character not allowed in component path%s", NULL);
        if (olen + len + (olen ? 1 : 0) > I61_MMS_NAME_MAX)
            return why_set(why, whycap, BAD, "component path too long%s", NULL);
        if (++n > I61_MMS_ALT_MAX_COMPONENTS)
            return why_set(why, whycap, BAD, "component path deeper than 15 names%s", NULL);
        if (olen)
            out[olen++] = '$';
        memcpy(out + olen, p, len);
        olen += len;
        out[olen] = '\0';
        if (!*e)
            return I61_OK;
        p = e + 1;
    }
}

int i61_ref_to_var(const char *ref, int fc, i61_mms_var *out, char *why, size_t whycap)
{
    char ld[I61_REF_LD_MAX + 1];
    const char *rest;
    memset(out, 0, sizeof *out);
    if (fc != I61_FC_NONE && !i61_fc_name(fc))
        return why_set(why, whycap, BAD, "invalid functional constraint for a data reference%s", NULL);
    int rc = split_ld(ref, ld, &rest, why, whycap);
    if (rc != I61_OK)
        return rc;
    bool mms_style = fc == I61_FC_NONE;
    char sep = mms_style ? '$' : '.';
    char other = mms_style ? '.' : '$';
    if (strchr(rest, other)) {
        if (mms_style)
            return why_set(why, whycap, BAD,
                           "'.' in a reference without functional constraint (give the FC, "
                           "or write the MMS name LN$FC$DO...)%s", NULL);
        return why_set(why, whycap, BAD,
                       "'$' in a reference given with a functional constraint (use LN.DO.DA)%s",
                       NULL);
    }

    char *item = out->name.item;
    size_t ilen = 0;
    const char *p = rest;
    int step = 0;
    bool in_component = false;
    size_t clen = 0;
    int ncomp = 0;
    for (;;) {
        const char *e = p;
        while (*e && *e != sep && *e != '(')
            e++;
        size_t len = (size_t)(e - p);
        if (in_component) {
            if (len == 0)
                return why_set(why, whycap, BAD, "empty name between separators%s", NULL);
            if (*e == '(')
                return why_set(why, whycap, BAD, "only one array index per reference%s", NULL);
            const char *b = bad_char(p, len);
            if (b) {
                char c[2] = { *b, 0 };
                return why_set(why, whycap, BAD, "character '%s' not allowed in a name", c);
            }
            if (clen + len + (clen ? 1 : 0) > I61_REF_ITEM_MAX)
                return why_set(why, whycap, BAD, "component path longer than 64 characters%s", NULL);
            if (++ncomp > I61_MMS_ALT_MAX_COMPONENTS)
                return why_set(why, whycap, BAD, "more than 15 names after the array index%s", NULL);
            if (clen)
                out->component[clen++] = '$';
            memcpy(out->component + clen, p, len);
            clen += len;
            out->component[clen] = '\0';
        } else {
            rc = item_append(item, &ilen, p, len, why, whycap);
            if (rc != I61_OK)
                return rc;
            if (step == 0 && !mms_style) {
                /* after the LN comes the FC */
                const char *f = i61_fc_name(fc);
                rc = item_append(item, &ilen, f, strlen(f), why, whycap);
                if (rc != I61_OK)
                    return rc;
            }
            if (step == 1 && mms_style && !is_fc_name(p, len))
                return why_set(why, whycap, BAD,
                               "second part of an MMS-style name must be a functional "
                               "constraint (LN$FC$...)%s", NULL);
            if (*e == '(') {
                if (step == 0 || (mms_style && step == 1))
                    return why_set(why, whycap, BAD,
                                   "an array index needs a data object or attribute%s", NULL);
                const char *after;
                rc = parse_index(e, &out->index, &after, why, whycap);
                if (rc != I61_OK)
                    return rc;
                out->has_index = true;
                in_component = true;
                e = after;
                if (*e && *e != sep)
                    return why_set(why, whycap, BAD, "unexpected text after array index%s", NULL);
            }
        }
        step++;
        if (!*e)
            break;
        p = e + 1;
        if (!*p)
            return why_set(why, whycap, BAD, "reference ends with a separator%s", NULL);
    }
    out->name.scope = I61_MMS_SCOPE_DOMAIN;
    memcpy(out->name.domain, ld, strlen(ld) + 1);
    return I61_OK;
}

int i61_ref_split_ln(const char *ref, char *ld, char *ln, char *why, size_t whycap)
{
    const char *rest;
    int rc = split_ld(ref, ld, &rest, why, whycap);
    if (rc != I61_OK)
        return rc;
    size_t len = strlen(rest);
    if (strchr(rest, '.') || strchr(rest, '$'))
        return why_set(why, whycap, BAD, "expected a logical node reference LD/LN%s", NULL);
    size_t ilen = 0;
    return item_append(ln, &ilen, rest, len, why, whycap);
}

int i61_ref_split_data(const char *ref, char *ld, char *ln, char *path, char *why,
                       size_t whycap)
{
    const char *rest;
    int rc = split_ld(ref, ld, &rest, why, whycap);
    if (rc != I61_OK)
        return rc;
    if (strchr(rest, '$') || strchr(rest, '('))
        return why_set(why, whycap, BAD, "expected a data reference LD/LN.DO[.SDO...]%s", NULL);
    const char *dot = strchr(rest, '.');
    if (!dot)
        return why_set(why, whycap, BAD, "no data object after the logical node (LD/LN.DO)%s", NULL);
    size_t l = 0;
    ln[0] = '\0';
    rc = item_append(ln, &l, rest, (size_t)(dot - rest), why, whycap);
    if (rc != I61_OK)
        return rc;
    size_t plen = 0;
    path[0] = '\0';
    const char *p = dot + 1;
    for (;;) {
        const char *e = strchr(p, '.');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        rc = item_append(path, &plen, p, len, why, whycap);
        if (rc != I61_OK)
            return rc;
        if (!e)
            break;
        p = e + 1;
    }
    /* LN$FC$path must fit an item */
    if (l + 4 + plen > I61_REF_ITEM_MAX)
        return why_set(why, whycap, BAD, "MMS item name longer than 64 characters%s", NULL);
    return I61_OK;
}

void i61_ref_describe(const char *ref, int fc, char *out, size_t cap)
{
    if (!out || !cap)
        return;
    const char *f = i61_fc_name(fc);
    char shown[I61_REF_MAX + 8];
    /* never print more than a sane amount of a bogus reference */
    snprintf(shown, sizeof shown, "%s", ref ? ref : "(null)");
    if (ref && strlen(ref) > I61_REF_MAX) {
        size_t k = strlen(shown);
        if (k >= 3)
            memcpy(shown + k - 3, "...", 3);
    }
    for (char *q = shown; *q; q++)
        if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e)
            *q = '?';
    if (f)
        snprintf(out, cap, "%s [%s]", shown, f);
    else
        snprintf(out, cap, "%s", shown);
}

/* ================================================================ directories */

/* Appends s[0..len) unless already in the list. */
static int add_distinct(i61_strlist *l, const char *s, size_t len)
{
    size_t n = i61_strlist_count(l);
    for (size_t i = 0; i < n; i++) {
        const char *x = i61_strlist_get(l, i);
        if (strlen(x) == len && memcmp(x, s, len) == 0)
            return I61_OK;
    }
    return i61_strlist_add(l, s, len) == 0 ? I61_OK : I61_ERR_UNKNOWN;
}

/* Component k (0-based) of a '$'-separated name: start and length; false if absent. */
static bool component(const char *name, int k, const char **s, size_t *len)
{
    const char *p = name;
    for (int i = 0; i < k; i++) {
        p = strchr(p, '$');
        if (!p)
            return false;
        p++;
    }
    const char *e = strchr(p, '$');
    *s = p;
    *len = e ? (size_t)(e - p) : strlen(p);
    return true;
}

static bool comp_eq(const char *s, size_t len, const char *lit)
{
    return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

/* name is "ln" or starts with "ln$": returns the part after "ln$" ("" for ln itself). */
static const char *under_ln(const char *name, const char *ln)
{
    size_t n = strlen(ln);
    if (strncmp(name, ln, n) != 0)
        return NULL;
    if (name[n] == '\0')
        return name + n;
    if (name[n] == '$')
        return name + n + 1;
    return NULL;
}

int i61_dir_logical_nodes(const char *const *names, size_t n, i61_strlist **out)
{
    *out = NULL;
    i61_strlist *l = i61_strlist_new();
    if (!l)
        return I61_ERR_UNKNOWN;
    for (size_t i = 0; i < n; i++) {
        const char *s;
        size_t len;
        if (!names[i] || !component(names[i], 0, &s, &len) || len == 0)
            continue;
        if (add_distinct(l, s, len) != I61_OK) {
            i61_strlist_free(l);
            return I61_ERR_UNKNOWN;
        }
    }
    *out = l;
    return I61_OK;
}

/* FCs whose children are control blocks, not data objects. */
static bool cb_fc(const char *s, size_t len)
{
    static const char *const fcs[] = { "RP", "BR", "LG", "GO", "GS", "MS", "US" };
    for (size_t i = 0; i < sizeof fcs / sizeof fcs[0]; i++)
        if (comp_eq(s, len, fcs[i]))
            return true;
    return false;
}

int i61_dir_ln(const char *const *names, size_t n, const char *ln, int acsi_class,
               i61_strlist **out, bool *ln_found)
{
    const char *want_fc = NULL;
    *out = NULL;
    *ln_found = false;
    switch (acsi_class) {
    case I61_ACSI_DATA_OBJECT: case I61_ACSI_DATA_SET: case I61_ACSI_LOG: break;
    case I61_ACSI_BRCB: want_fc = "BR"; break;
    case I61_ACSI_URCB: want_fc = "RP"; break;
    case I61_ACSI_LCB: want_fc = "LG"; break;
    case I61_ACSI_GOCB: want_fc = "GO"; break;
    case I61_ACSI_GSCB: want_fc = "GS"; break;
    case I61_ACSI_MSVCB: want_fc = "MS"; break;
    case I61_ACSI_USVCB: want_fc = "US"; break;
    case I61_ACSI_SGCB: want_fc = "SP"; break;
    default: return I61_ERR_INVALID_ARGUMENT;
    }
    i61_strlist *l = i61_strlist_new();
    if (!l)
        return I61_ERR_UNKNOWN;
    for (size_t i = 0; i < n; i++) {
        const char *rest = names[i] ? under_ln(names[i], ln) : NULL;
        if (!rest)
            continue;
        *ln_found = true;
        const char *fs, *ds;
        size_t flen, dlen;
        int rc = I61_OK;
        if (acsi_class == I61_ACSI_DATA_SET || acsi_class == I61_ACSI_LOG) {
            /* NVL / journal names "LN$name" */
            if (*rest && !strchr(rest, '$'))
                rc = add_distinct(l, rest, strlen(rest));
        } else if (*rest && component(rest, 0, &fs, &flen) && component(rest, 1, &ds, &dlen)
                   && dlen > 0) {
            bool leaf_level = ds[dlen] == '\0';           /* exactly LN$FC$X */
            if (acsi_class == I61_ACSI_DATA_OBJECT) {
                /* SP$SGCB is the setting group control block, not a data object */
                if (!cb_fc(fs, flen) && !(comp_eq(fs, flen, "SP") && comp_eq(ds, dlen, "SGCB")))
                    rc = add_distinct(l, ds, dlen);
            } else if (leaf_level && comp_eq(fs, flen, want_fc)) {
                if (acsi_class != I61_ACSI_SGCB || comp_eq(ds, dlen, "SGCB"))
                    rc = add_distinct(l, ds, dlen);
            }
        }
        if (rc != I61_OK) {
            i61_strlist_free(l);
            return rc;
        }
    }
    *out = l;
    return I61_OK;
}

int i61_dir_data(const char *const *names, size_t n, const char *ln, const char *path,
                 int fc_filter, bool with_fc, i61_strlist **out, bool *found)
{
    size_t plen = strlen(path);
    *out = NULL;
    *found = false;
    i61_strlist *l = i61_strlist_new();
    if (!l)
        return I61_ERR_UNKNOWN;
    const char *filter = fc_filter == I61_FC_ALL ? NULL : i61_fc_name(fc_filter);
    if (fc_filter != I61_FC_ALL && !filter) {
        i61_strlist_free(l);
        return I61_ERR_INVALID_ARGUMENT;
    }
    for (size_t i = 0; i < n; i++) {
        const char *rest = names[i] ? under_ln(names[i], ln) : NULL;
        const char *fs;
        size_t flen;
        if (!rest || !*rest || !component(rest, 0, &fs, &flen) || !fs[flen])
            continue;
        const char *sub = fs + flen + 1;                   /* after "FC$" */
        if (strncmp(sub, path, plen) != 0 || (sub[plen] != '\0' && sub[plen] != '$'))
            continue;
        *found = true;
        if (sub[plen] == '\0')
            continue;                                      /* the object itself */
        if (filter && !comp_eq(fs, flen, filter))
            continue;
        const char *cs;
        size_t clen;
        if (!component(sub + plen + 1, 0, &cs, &clen) || clen == 0)
            continue;
        int rc;
        if (with_fc) {
            char buf[I61_MMS_NAME_MAX + 8];
            if (clen > I61_MMS_NAME_MAX || flen > 4)
                continue;
            int k = snprintf(buf, sizeof buf, "%.*s[%.*s]", (int)clen, cs, (int)flen, fs);
            rc = add_distinct(l, buf, (size_t)k);
        } else {
            rc = add_distinct(l, cs, clen);
        }
        if (rc != I61_OK) {
            i61_strlist_free(l);
            return rc;
        }
    }
    *out = l;
    return I61_OK;
}
