/* IEC 61850 object references <-> MMS names, and the ACSI directories derived
 * from GetNameList results. Pure functions: no I/O, no allocation except the
 * result lists.
 *
 * Accepted reference forms (at most 129 characters):
 *   "LD/LN.DO[.SDO...][.DA...]" with an FC   -> domain LD, item "LN$FC$DO$...$DA"
 *   "LD/LN" with an FC                        -> item "LN$FC" (the FC structure)
 *   "LD/LN" with I61_FC_NONE                  -> item "LN" (the whole logical node)
 *   "LD/LN$FC$DO$..." with I61_FC_NONE        -> the MMS name as written
 *   one array index "X(3)" on any DO/DA step  -> item up to X, alternateAccess
 *                                                element 3, then the rest as component
 * Names: LD up to 64 characters, item up to 64; letters, digits and '_' only.
 */
#ifndef I61_REFERENCE_H
#define I61_REFERENCE_H
#include <stdbool.h>
#include <stddef.h>
#include "i61.h"
#include "../mms/mms_pdu.h"

#define I61_REF_MAX 129        /* whole object reference */
#define I61_REF_LD_MAX 64      /* MMS domain name (Ed2) */
#define I61_REF_ITEM_MAX 64    /* MMS item name (Ed2) */

/* ref + FC -> domain-specific MMS variable (with alternate access for an
 * index). I61_OK or I61_ERR_OBJECT_REFERENCE_INVALID with the cause in `why`
 * (e.g. "no '/' between logical device and logical node"). */
int i61_ref_to_var(const char *ref, int fc, i61_mms_var *out, char *why, size_t whycap);

/* A logical device name alone (MMS domain). */
int i61_ref_check_ld(const char *ld, char *why, size_t whycap);

/* "LD/LN" -> ld, ln (buffers of I61_REF_LD_MAX+1 / I61_REF_ITEM_MAX+1). */
int i61_ref_split_ln(const char *ref, char *ld, char *ln, char *why, size_t whycap);

/* "LD/LN.DO[.SDO...]" -> ld, ln and the '$'-joined path "DO$SDO" (buffers of
 * I61_REF_LD_MAX+1 / I61_REF_ITEM_MAX+1 / I61_REF_ITEM_MAX+1). */
int i61_ref_split_data(const char *ref, char *ld, char *ln, char *path, char *why,
                       size_t whycap);

/* Array element component path ("cVal.mag" or "cVal$mag") -> '$'-joined into
 * out (I61_MMS_NAME_MAX+1 octets). NULL or "" -> "". */
int i61_ref_component(const char *component, char *out, char *why, size_t whycap);

/* Human-readable form for error texts: "LD/LN.DO.DA [MX]" (or the reference
 * alone with I61_FC_NONE). Always NUL-terminates. */
void i61_ref_describe(const char *ref, int fc, char *out, size_t cap);

/* ---- directories from the sorted GetNameList results of one domain ---- */

/* LNs: distinct first '$'-components, in order of first appearance. */
int i61_dir_logical_nodes(const char *const *names, size_t n, i61_strlist **out);

/* Children of one LN for an ACSI class. For DATA_OBJECT, BRCB, URCB, LCB, GOCB,
 * GSCB, MSVCB, USVCB and SGCB `names` are the variable names of the domain; for
 * DATA_SET the NVL names and for LOG the journal names. *ln_found tells whether
 * `ln` itself (or anything under it) was in the list. */
int i61_dir_ln(const char *const *names, size_t n, const char *ln, int acsi_class,
               i61_strlist **out, bool *ln_found);

/* Children of the data object/attribute `path` ("DO" or "DO$SDO...") of `ln`,
 * across FCs (or only fc_filter unless I61_FC_ALL), as "name" or "name[FC]".
 * *found: some variable LN$FC$path exists (for the filter). */
int i61_dir_data(const char *const *names, size_t n, const char *ln, const char *path,
                 int fc_filter, bool with_fc, i61_strlist **out, bool *found);

#endif
