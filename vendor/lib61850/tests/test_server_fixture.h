/* Shared by the test_server_*.c programs: the golden test server model
 * (golden/INDEX.md "Test server model", as far as the captures show it) built
 * with the public builder API, and helpers to walk golden frames. */
#ifndef I61_TEST_SERVER_FIXTURE_H
#define I61_TEST_SERVER_FIXTURE_H
#include <stdint.h>
#include <string.h>
#include "i61.h"
#include "i61_server.h"
#include "ber/ber.h"

#define FX_OK(expr) do { int fx_rc_ = (expr); if (fx_rc_ != 0) { \
    fprintf(stderr, "%s:%d: %s -> %d\n", __FILE__, __LINE__, #expr, fx_rc_); exit(2); } } while (0)

static inline i61_mnode *fx_da(i61_mnode *p, const char *name, int fc, int type, int size)
{
    i61_mnode *n = NULL;
    FX_OK(i61_model_add_da(p, name, fc, type, size, 0, &n));
    return n;
}

static inline i61_mnode *fx_do(i61_mnode *p, const char *name)
{
    i61_mnode *n = NULL;
    FX_OK(i61_model_add_do(p, name, &n));
    return n;
}

/* stVal of the given type, q, t (ST) */
static inline void fx_st_triplet(i61_mnode *d, int stval_type, int stval_size)
{
    fx_da(d, "stVal", I61_FC_ST, stval_type, stval_size);
    fx_da(d, "q", I61_FC_ST, I61_TYPE_BIT_STRING, -13);
    fx_da(d, "t", I61_FC_ST, I61_TYPE_UTC_TIME, 0);
}

static inline void fx_origin(i61_mnode *p, int fc)
{
    i61_mnode *o = fx_da(p, "origin", fc, I61_TYPE_STRUCTURE, 0);
    fx_da(o, "orCat", I61_FC_NONE, I61_TYPE_INTEGER, 8);
    fx_da(o, "orIdent", I61_FC_NONE, I61_TYPE_OCTET_STRING, -64);
}

static inline void fx_ctl_struct(i61_mnode *d, const char *name, int with_check)
{
    i61_mnode *s = fx_da(d, name, I61_FC_CO, I61_TYPE_STRUCTURE, 0);
    fx_da(s, "ctlVal", I61_FC_NONE, I61_TYPE_BOOLEAN, 0);
    fx_origin(s, I61_FC_CO);
    fx_da(s, "ctlNum", I61_FC_NONE, I61_TYPE_UNSIGNED, 8);
    fx_da(s, "T", I61_FC_NONE, I61_TYPE_UTC_TIME, 0);
    fx_da(s, "Test", I61_FC_NONE, I61_TYPE_BOOLEAN, 0);
    if (with_check)
        fx_da(s, "Check", I61_FC_NONE, I61_TYPE_BIT_STRING, -2);
}

/* SPC: ST origin, ctlNum, stVal, q, t; CO per control model; CF ctlModel */
static inline void fx_spc(i61_mnode *ln, const char *name, int sbo)
{
    i61_mnode *d = fx_do(ln, name);
    fx_origin(d, I61_FC_ST);
    fx_da(d, "ctlNum", I61_FC_ST, I61_TYPE_UNSIGNED, 8);
    fx_st_triplet(d, I61_TYPE_BOOLEAN, 0);
    if (sbo)
        fx_ctl_struct(d, "SBOw", 1);
    fx_ctl_struct(d, "Oper", 1);
    if (sbo)
        fx_ctl_struct(d, "Cancel", 0);
    fx_da(d, "ctlModel", I61_FC_CF, I61_TYPE_INTEGER, 8);
}

static inline void fx_rcb(i61_mnode *ln, const char *name, int buffered)
{
    int fc = buffered ? I61_FC_BR : I61_FC_RP;
    i61_mnode *r = fx_do(ln, name);
    fx_da(r, "RptID", fc, I61_TYPE_VISIBLE_STRING, -129);
    fx_da(r, "RptEna", fc, I61_TYPE_BOOLEAN, 0);
    if (!buffered)
        fx_da(r, "Resv", fc, I61_TYPE_BOOLEAN, 0);
    fx_da(r, "DatSet", fc, I61_TYPE_VISIBLE_STRING, -129);
    fx_da(r, "ConfRev", fc, I61_TYPE_UNSIGNED, 32);
    fx_da(r, "OptFlds", fc, I61_TYPE_BIT_STRING, -10);
    fx_da(r, "BufTm", fc, I61_TYPE_UNSIGNED, 32);
    fx_da(r, "SqNum", fc, I61_TYPE_UNSIGNED, buffered ? 16 : 8);
    fx_da(r, "TrgOps", fc, I61_TYPE_BIT_STRING, -6);
    fx_da(r, "IntgPd", fc, I61_TYPE_UNSIGNED, 32);
    fx_da(r, "GI", fc, I61_TYPE_BOOLEAN, 0);
    if (buffered) {
        fx_da(r, "PurgeBuf", fc, I61_TYPE_BOOLEAN, 0);
        fx_da(r, "EntryID", fc, I61_TYPE_OCTET_STRING, 8);
        fx_da(r, "TimeofEntry", fc, I61_TYPE_BINARY_TIME, 6);
        fx_da(r, "ResvTms", fc, I61_TYPE_INTEGER, 16);
    }
}

static inline void fx_set(i61_model *m, const char *ref, int fc, i61_value *v)
{
    int rc = i61_model_set_value(m, ref, fc, v);
    if (rc != 0) {
        fprintf(stderr, "fixture: set %s -> %d\n", ref, rc);
        exit(2);
    }
    i61_value_free(v);
}

/* IED1 / LD1: LLN0, GGIO1, PTOC1 with the values the captures show. */
static inline i61_model *fx_golden_model(void)
{
    i61_model *m = i61_model_new("IED1");
    if (!m)
        exit(2);
    i61_mnode *ld = NULL, *lln0 = NULL, *ggio = NULL, *ptoc = NULL;
    FX_OK(i61_model_add_ld(m, "LD1", NULL, &ld));
    FX_OK(i61_model_add_ln(ld, "LLN0", &lln0));
    fx_st_triplet(fx_do(lln0, "Mod"), I61_TYPE_INTEGER, 8);
    fx_st_triplet(fx_do(lln0, "Beh"), I61_TYPE_INTEGER, 8);
    fx_st_triplet(fx_do(lln0, "Health"), I61_TYPE_INTEGER, 8);
    i61_mnode *np = fx_do(lln0, "NamPlt");
    fx_da(np, "vendor", I61_FC_DC, I61_TYPE_VISIBLE_STRING, -255);
    fx_da(np, "swRev", I61_FC_DC, I61_TYPE_VISIBLE_STRING, -255);
    fx_rcb(lln0, "urcb01", 0);
    fx_rcb(lln0, "urcbBig", 0);
    fx_rcb(lln0, "brcb01", 1);

    FX_OK(i61_model_add_ln(ld, "GGIO1", &ggio));
    i61_mnode *ind = fx_do(ggio, "Ind1");
    fx_st_triplet(ind, I61_TYPE_BOOLEAN, 0);
    fx_da(ind, "d", I61_FC_DC, I61_TYPE_VISIBLE_STRING, -255);
    i61_mnode *an = fx_do(ggio, "AnIn1");
    i61_mnode *mag = fx_da(an, "mag", I61_FC_MX, I61_TYPE_STRUCTURE, 0);
    fx_da(mag, "f", I61_FC_NONE, I61_TYPE_FLOAT, 32);
    fx_da(an, "q", I61_FC_MX, I61_TYPE_BIT_STRING, -13);
    fx_da(an, "t", I61_FC_MX, I61_TYPE_UTC_TIME, 0);
    fx_spc(ggio, "SPCSO1", 0);
    fx_spc(ggio, "SPCSO2", 1);
    fx_spc(ggio, "SPCSO3", 0);

    FX_OK(i61_model_add_ln(ld, "PTOC1", &ptoc));
    i61_mnode *sv = fx_do(ptoc, "StrVal");
    i61_mnode *sm = fx_da(sv, "setMag", I61_FC_SP, I61_TYPE_STRUCTURE, 0);
    fx_da(sm, "f", I61_FC_NONE, I61_TYPE_FLOAT, 32);

    static const uint8_t t_anin[8] = {0x65, 0x53, 0xf1, 0x00, 0x1f, 0x7c, 0xed, 0x8a};
    static const uint8_t t_ind[8] = {0x65, 0x53, 0xf1, 0x00, 0x74, 0xbc, 0x6a, 0x8a};
    fx_set(m, "IED1LD1/GGIO1.AnIn1.mag.f", I61_FC_NONE, i61_value_new_float(12.5f));
    fx_set(m, "IED1LD1/GGIO1.AnIn1.t", I61_FC_MX, i61_value_new_utc_time(t_anin));
    fx_set(m, "IED1LD1/GGIO1.Ind1.t", I61_FC_ST, i61_value_new_utc_time(t_ind));
    fx_set(m, "IED1LD1/LLN0.NamPlt.vendor", I61_FC_DC, i61_value_new_visible_string("GoldVendor"));
    fx_set(m, "IED1LD1/GGIO1.SPCSO1.ctlModel", I61_FC_CF, i61_value_new_integer(1));
    fx_set(m, "IED1LD1/GGIO1.SPCSO2.ctlModel", I61_FC_CF, i61_value_new_integer(4));
    fx_set(m, "IED1LD1/GGIO1.SPCSO3.ctlModel", I61_FC_CF, i61_value_new_integer(3));
    return m;
}

/* ---- golden frame walking ---- */

/* The MMS PDU inside a data-phase frame (TPKT/COTP DT/session GT+DT/
 * presentation fully-encoded-data, context 3). */
static inline const uint8_t *fx_mms_pdu(const uint8_t *frame, size_t len, size_t *mms_len)
{
    i61_ber_tlv t, c;
    *mms_len = 0;
    i61_ber_reader r;
    size_t used;
    if (len < 11 || i61_ber_parse(frame + 11, len - 11, &t, &used) != 0 || t.id != 0x61)
        return NULL;
    i61_ber_reader_sub(&r, &t);
    if (i61_ber_next(&r, &t) != 0 || t.id != 0x30)
        return NULL;
    i61_ber_reader_sub(&r, &t);
    if (i61_ber_next(&r, &c) != 0 || c.id != 0x02)
        return NULL;
    if (i61_ber_next(&r, &c) != 0 || c.id != 0xa0)
        return NULL;
    *mms_len = c.len;
    return c.val;
}

/* Child number `idx` of a constructed TLV. */
static inline int fx_child(const i61_ber_tlv *t, size_t idx, i61_ber_tlv *out)
{
    i61_ber_reader r;
    i61_ber_reader_sub(&r, t);
    for (size_t i = 0;; i++) {
        if (i61_ber_next(&r, out) != 0)
            return -1;
        if (i == idx)
            return 0;
    }
}

/* Follows a path of child indexes from the MMS PDU element of a golden frame. */
static inline int fx_golden_path(const uint8_t *frame, size_t len, const int *path, size_t npath,
                          i61_ber_tlv *out)
{
    size_t ml, used;
    const uint8_t *p = fx_mms_pdu(frame, len, &ml);
    if (!p || i61_ber_parse(p, ml, out, &used) != 0)
        return -1;
    for (size_t i = 0; i < npath; i++) {
        i61_ber_tlv c;
        if (fx_child(out, (size_t)path[i], &c) != 0)
            return -1;
        *out = c;
    }
    return 0;
}

/* Whole TLV octets (header + content). */
static inline const uint8_t *fx_tlv_start(const i61_ber_tlv *t)
{
    return t->val - t->hdr_len;
}

#endif
