/* Session + presentation + ACSE composition: see iso_conn.h. */
#include "iso_conn.h"

#include <string.h>

#define MALFORMED I61_ERR_MALFORMED_MESSAGE

void i61_iso_addr_init_default(i61_iso_addr *a)
{
    memset(a, 0, sizeof *a);
    static const uint8_t sel2[2] = { 0x00, 0x01 };
    static const uint8_t sel4[4] = { 0x00, 0x00, 0x00, 0x01 };
    memcpy(a->calling_tsel, sel2, 2);
    a->calling_tsel_len = 2;
    memcpy(a->called_tsel, sel2, 2);
    a->called_tsel_len = 2;
    memcpy(a->calling_ssel, sel2, 2);
    a->calling_ssel_len = 2;
    memcpy(a->called_ssel, sel2, 2);
    a->called_ssel_len = 2;
    memcpy(a->calling_psel, sel4, 4);
    a->calling_psel_len = 4;
    memcpy(a->called_psel, sel4, 4);
    a->called_psel_len = 4;
    i61_acse_apdu d;
    i61_acse_init_aarq_default(&d);
    a->called = d.called;
    a->calling = d.calling;
}

int i61_iso_write_cr(i61_buf *b, const i61_iso_addr *addr, uint32_t tpdu_size, uint16_t src_ref)
{
    i61_cotp_conn_params p;
    memset(&p, 0, sizeof p);
    p.src_ref = src_ref;
    p.tpdu_size_code = i61_cotp_code_for_size(tpdu_size);
    p.calling_tsel = addr->calling_tsel_len ? addr->calling_tsel : NULL;
    p.calling_tsel_len = addr->calling_tsel_len;
    p.called_tsel = addr->called_tsel_len ? addr->called_tsel : NULL;
    p.called_tsel_len = addr->called_tsel_len;
    return i61_cotp_write_cr(b, &p);
}

static void i61_iso_spdu_connect(i61_spdu *s, uint8_t si)
{
    memset(s, 0, sizeof *s);
    s->si = si;
    s->has_protocol_options = 1;
    s->protocol_options = 0;
    s->has_version = 1;
    s->version = 2;
    s->has_user_requirements = 1;
    s->user_requirements = I61_SESSION_FU_DUPLEX;
}

int i61_iso_write_connect_tsdu(i61_buf *b, const i61_iso_addr *addr, const uint8_t *mms, size_t len)
{
    if (addr->calling_ssel_len > I61_SSEL_MAX || addr->called_ssel_len > I61_SSEL_MAX ||
        addr->calling_psel_len > I61_PSEL_MAX || addr->called_psel_len > I61_PSEL_MAX ||
        (addr->password && strlen(addr->password) > I61_ACSE_PASSWORD_MAX))
        return I61_ERR_INVALID_ARGUMENT;
    i61_buf acse, pres;
    i61_buf_init(&acse);
    i61_buf_init(&pres);
    int rc;

    i61_acse_apdu aarq;
    i61_acse_init_aarq_default(&aarq);
    aarq.called = addr->called;
    aarq.calling = addr->calling;
    if (addr->password) {
        aarq.has_auth = 1;
        memcpy(aarq.mechanism, i61_oid_auth_password, sizeof i61_oid_auth_password);
        aarq.mechanism_len = sizeof i61_oid_auth_password;
        aarq.password = (const uint8_t *)addr->password;
        aarq.password_len = strlen(addr->password);
    }
    aarq.user_info = mms;
    aarq.user_info_len = len;
    rc = i61_acse_write(&acse, &aarq);
    if (rc != I61_OK)
        goto out;

    i61_pres_connect cp;
    i61_pres_connect_init_default(&cp);
    cp.has_calling_psel = addr->calling_psel_len > 0;
    memcpy(cp.calling_psel, addr->calling_psel, addr->calling_psel_len);
    cp.calling_psel_len = addr->calling_psel_len;
    cp.has_called_psel = addr->called_psel_len > 0;
    memcpy(cp.called_psel, addr->called_psel, addr->called_psel_len);
    cp.called_psel_len = addr->called_psel_len;
    cp.ud_ctx = I61_PRES_CTX_ACSE;
    cp.user_data = acse.data;
    cp.user_data_len = acse.len;
    rc = i61_pres_write_cp(&pres, &cp);
    if (rc != I61_OK)
        goto out;

    i61_spdu s;
    i61_iso_spdu_connect(&s, I61_SPDU_CN);
    if (addr->calling_ssel_len) {
        s.has_calling_ssel = 1;
        memcpy(s.calling_ssel, addr->calling_ssel, addr->calling_ssel_len);
        s.calling_ssel_len = addr->calling_ssel_len;
    }
    if (addr->called_ssel_len) {
        s.has_called_ssel = 1;
        memcpy(s.called_ssel, addr->called_ssel, addr->called_ssel_len);
        s.called_ssel_len = addr->called_ssel_len;
    }
    s.user_data = pres.data;
    s.user_data_len = pres.len;
    rc = i61_session_write(b, &s);
out:
    if (acse.oom || pres.oom)
        rc = I61_ERR_UNKNOWN;
    i61_buf_free(&acse);
    i61_buf_free(&pres);
    return rc;
}

size_t i61_iso_data_header(uint8_t out[I61_ISO_DATA_HDR_MAX], size_t pdu_len)
{
    memcpy(out, i61_session_data_prefix, I61_SESSION_DATA_PREFIX_LEN);
    return I61_SESSION_DATA_PREFIX_LEN +
           i61_pres_data_header(out + I61_SESSION_DATA_PREFIX_LEN, I61_PRES_CTX_MMS, pdu_len);
}

int i61_iso_write_data_tsdu(i61_buf *b, const uint8_t *pdu, size_t len)
{
    if (len && !pdu)
        return I61_ERR_INVALID_ARGUMENT;
    uint8_t h[I61_ISO_DATA_HDR_MAX];
    size_t n = i61_iso_data_header(h, len);
    i61_buf_put(b, h, n);
    i61_buf_put(b, pdu, len);
    return b->oom ? I61_ERR_UNKNOWN : I61_OK;
}

/* Session SPDU si carrying presentation user data (ctx 1) with an ACSE APDU. */
static int i61_iso_write_acse_spdu(i61_buf *b, uint8_t si, const i61_acse_apdu *a, int aru,
                                   int tdisc, int32_t ctx)
{
    if (ctx <= 0)
        return I61_ERR_INVALID_ARGUMENT;
    i61_buf acse, pres;
    i61_buf_init(&acse);
    i61_buf_init(&pres);
    int rc = i61_acse_write(&acse, a);
    if (rc == I61_OK)
        rc = aru ? i61_pres_write_aru(&pres, ctx, acse.data, acse.len)
                 : i61_pres_write_user_data(&pres, ctx, acse.data, acse.len);
    if (rc == I61_OK) {
        i61_spdu s;
        memset(&s, 0, sizeof s);
        s.si = si;
        if (tdisc >= 0) {
            s.has_transport_disconnect = 1;
            s.transport_disconnect = (uint8_t)tdisc;
        }
        s.user_data = pres.data;
        s.user_data_len = pres.len;
        rc = i61_session_write(b, &s);
    }
    i61_buf_free(&acse);
    i61_buf_free(&pres);
    return rc;
}

int i61_iso_write_release_request_tsdu_ctx(i61_buf *b, int32_t acse_ctx)
{
    i61_acse_apdu a;
    i61_acse_init(&a, I61_ACSE_RLRQ);
    a.reason = 0;
    return i61_iso_write_acse_spdu(b, I61_SPDU_FN, &a, 0, -1, acse_ctx);
}

int i61_iso_write_release_response_tsdu_ctx(i61_buf *b, int32_t acse_ctx)
{
    i61_acse_apdu a;
    i61_acse_init(&a, I61_ACSE_RLRE);
    return i61_iso_write_acse_spdu(b, I61_SPDU_DN, &a, 0, -1, acse_ctx);
}

int i61_iso_write_abort_tsdu_ctx(i61_buf *b, int32_t acse_ctx)
{
    i61_acse_apdu a;
    i61_acse_init(&a, I61_ACSE_ABRT);
    a.abort_source = 0;
    return i61_iso_write_acse_spdu(b, I61_SPDU_AB, &a, 1, I61_SESSION_TDISC_USER_ABORT, acse_ctx);
}

int i61_iso_write_release_request_tsdu(i61_buf *b)
{
    return i61_iso_write_release_request_tsdu_ctx(b, I61_PRES_CTX_ACSE);
}

int i61_iso_write_release_response_tsdu(i61_buf *b)
{
    return i61_iso_write_release_response_tsdu_ctx(b, I61_PRES_CTX_ACSE);
}

int i61_iso_write_abort_tsdu(i61_buf *b)
{
    return i61_iso_write_abort_tsdu_ctx(b, I61_PRES_CTX_ACSE);
}

int32_t i61_iso_find_ctx(const i61_pres_connect *cp, const uint8_t *oid, size_t len)
{
    for (size_t k = 0; k < cp->n_ctx && k < I61_PRES_MAX_CTX; k++)
        if (cp->ctx[k].abstract_syntax_len == len && memcmp(cp->ctx[k].abstract_syntax, oid, len) == 0)
            return cp->ctx[k].id;
    return -1;
}

int i61_iso_write_refuse_tsdu(i61_buf *b, uint8_t reason)
{
    i61_spdu s;
    memset(&s, 0, sizeof s);
    s.si = I61_SPDU_RF;
    s.has_transport_disconnect = 1;
    s.transport_disconnect = 1;        /* release the transport connection */
    s.has_reason = 1;
    s.reason = reason;
    return i61_session_write(b, &s);
}

int i61_iso_write_accept_tsdu(i61_buf *b, const i61_iso_ind *cn, int acse_result, int diag,
                              const uint8_t *mms, size_t len)
{
    if (!cn || cn->type != I61_ISO_IND_CONNECT || !cn->has_pres)
        return I61_ERR_INVALID_ARGUMENT;
    i61_buf acse, pres;
    i61_buf_init(&acse);
    i61_buf_init(&pres);
    int rc;

    int32_t acse_ctx = i61_iso_find_ctx(&cn->pres, i61_oid_acse_as, sizeof i61_oid_acse_as);
    int32_t mms_ctx = i61_iso_find_ctx(&cn->pres, i61_oid_mms_as, sizeof i61_oid_mms_as);
    if (acse_ctx <= 0)
        acse_ctx = cn->pres.user_data ? cn->pres.ud_ctx : I61_PRES_CTX_ACSE;
    if (mms_ctx <= 0)
        mms_ctx = cn->has_acse && cn->acse.user_info ? cn->acse.ui_ctx : I61_PRES_CTX_MMS;
    if (acse_ctx <= 0)
        acse_ctx = I61_PRES_CTX_ACSE;
    if (mms_ctx <= 0)
        mms_ctx = I61_PRES_CTX_MMS;
    i61_acse_apdu aare;
    i61_acse_init(&aare, I61_ACSE_AARE);
    memcpy(aare.app_ctx, i61_oid_mms_context, sizeof i61_oid_mms_context);
    aare.app_ctx_len = sizeof i61_oid_mms_context;
    aare.result = acse_result;
    aare.diag_source = I61_ACSE_DIAG_USER;
    aare.diag = diag;
    if (mms) {
        aare.ui_ctx = mms_ctx;
        aare.user_info = mms;
        aare.user_info_len = len;
    }
    rc = i61_acse_write(&acse, &aare);
    if (rc != I61_OK)
        goto out;

    i61_pres_connect cpa;
    memset(&cpa, 0, sizeof cpa);
    cpa.provider_reason = -1;
    cpa.has_called_psel = cn->pres.has_called_psel;
    memcpy(cpa.called_psel, cn->pres.called_psel, cn->pres.called_psel_len);
    cpa.called_psel_len = cn->pres.called_psel_len;
    cpa.n_ctx = cn->pres.n_ctx;
    for (size_t k = 0; k < cn->pres.n_ctx; k++) {
        const i61_pres_ctx *x = &cn->pres.ctx[k];
        int known = (x->abstract_syntax_len == sizeof i61_oid_acse_as &&
                     memcmp(x->abstract_syntax, i61_oid_acse_as, sizeof i61_oid_acse_as) == 0) ||
                    (x->abstract_syntax_len == sizeof i61_oid_mms_as &&
                     memcmp(x->abstract_syntax, i61_oid_mms_as, sizeof i61_oid_mms_as) == 0);
        cpa.ctx[k].id = x->id;
        cpa.ctx[k].provider_reason = -1;
        if (known && x->ber) {
            cpa.ctx[k].result = I61_PRES_ACCEPT;
        } else {
            cpa.ctx[k].result = I61_PRES_PROVIDER_REJECTION;
            cpa.ctx[k].provider_reason = known ? 2 : 1;   /* transfer / abstract syntax not supported */
        }
    }
    cpa.ud_ctx = acse_ctx;
    cpa.user_data = acse.data;
    cpa.user_data_len = acse.len;
    rc = i61_pres_write_cpa(&pres, &cpa);
    if (rc != I61_OK)
        goto out;

    i61_spdu s;
    i61_iso_spdu_connect(&s, I61_SPDU_AC);
    if (cn->spdu.has_called_ssel) {
        s.has_called_ssel = 1;
        memcpy(s.called_ssel, cn->spdu.called_ssel, cn->spdu.called_ssel_len);
        s.called_ssel_len = cn->spdu.called_ssel_len;
    }
    s.user_data = pres.data;
    s.user_data_len = pres.len;
    rc = i61_session_write(b, &s);
out:
    if (acse.oom || pres.oom)
        rc = I61_ERR_UNKNOWN;
    i61_buf_free(&acse);
    i61_buf_free(&pres);
    return rc;
}

/* ---------------------------------------------------------------- decode */

int i61_iso_decode_data(const uint8_t *tsdu, size_t len, const uint8_t **pdu, size_t *pdu_len,
                        int32_t *ctx)
{
    size_t i;
    if (len < 2)
        return -MALFORMED;
    if (tsdu[0] != I61_SPDU_DT)
        return 0;
    /* the common shapes: GT+DT without parameters, or a lone DT without parameters */
    if (len >= 4 && tsdu[1] == 0 && tsdu[2] == I61_SPDU_DT && tsdu[3] == 0)
        i = 4;
    else if (tsdu[1] == 0 && (len == 2 || tsdu[2] != I61_SPDU_DT))
        i = 2;
    else
        return 0;                       /* parameters present: take the general path */
    int32_t c;
    int rc = i61_pres_decode_user_data(tsdu + i, len - i, &c, pdu, pdu_len);
    if (rc != I61_OK)
        return -MALFORMED;
    if (ctx)
        *ctx = c;
    return 1;
}

static int i61_iso_acse_in(const uint8_t *p, size_t len, i61_iso_ind *ind, uint8_t want)
{
    if (i61_acse_decode(p, len, &ind->acse) != I61_OK || ind->acse.type != want)
        return MALFORMED;
    ind->has_acse = 1;
    if (ind->acse.user_info) {
        ind->ctx = ind->acse.ui_ctx;
        ind->pdu = ind->acse.user_info;
        ind->pdu_len = ind->acse.user_info_len;
    }
    return I61_OK;
}

/* FN / DN / NF user data: presentation user data (ctx 1) with an ACSE APDU. */
static int i61_iso_release_ud(const i61_spdu *s, i61_iso_ind *ind, uint8_t want)
{
    if (s->user_data_len == 0)
        return I61_OK;
    int32_t ctx;
    const uint8_t *apdu;
    size_t alen;
    if (i61_pres_decode_user_data(s->user_data, s->user_data_len, &ctx, &apdu, &alen) != I61_OK)
        return MALFORMED;
    return i61_iso_acse_in(apdu, alen, ind, want);
}

int i61_iso_decode_tsdu(const uint8_t *tsdu, size_t len, i61_iso_ind *ind)
{
    memset(ind, 0, sizeof *ind);
    int rc = i61_session_decode(tsdu, len, &ind->spdu);
    if (rc != I61_OK)
        return rc;
    const i61_spdu *s = &ind->spdu;
    switch (s->si) {
    case I61_SPDU_DT:
        ind->type = I61_ISO_IND_DATA;
        return i61_pres_decode_user_data(s->user_data, s->user_data_len, &ind->ctx, &ind->pdu,
                                         &ind->pdu_len);
    case I61_SPDU_CN:
    case I61_SPDU_AC: {
        int cn = s->si == I61_SPDU_CN;
        ind->type = cn ? I61_ISO_IND_CONNECT : I61_ISO_IND_ACCEPT;
        rc = cn ? i61_pres_decode_cp(s->user_data, s->user_data_len, &ind->pres)
                : i61_pres_decode_cpa(s->user_data, s->user_data_len, &ind->pres);
        if (rc != I61_OK)
            return rc;
        ind->has_pres = 1;
        if (!ind->pres.user_data)
            return cn ? MALFORMED : I61_OK;
        return i61_iso_acse_in(ind->pres.user_data, ind->pres.user_data_len, ind,
                               cn ? I61_ACSE_AARQ : I61_ACSE_AARE);
    }
    case I61_SPDU_RF:
        ind->type = I61_ISO_IND_REFUSE;
        if (s->user_data_len) {
            if (i61_pres_decode_cpr(s->user_data, s->user_data_len, &ind->pres) != I61_OK)
                return MALFORMED;
            ind->has_pres = 1;
            if (ind->pres.user_data)
                return i61_iso_acse_in(ind->pres.user_data, ind->pres.user_data_len, ind, I61_ACSE_AARE);
        }
        return I61_OK;
    case I61_SPDU_FN:
        ind->type = I61_ISO_IND_RELEASE_REQUEST;
        return i61_iso_release_ud(s, ind, I61_ACSE_RLRQ);
    case I61_SPDU_DN:
        ind->type = I61_ISO_IND_RELEASE_RESPONSE;
        return i61_iso_release_ud(s, ind, I61_ACSE_RLRE);
    case I61_SPDU_NF:
        ind->type = I61_ISO_IND_RELEASE_REFUSED;
        return i61_iso_release_ud(s, ind, I61_ACSE_RLRE);
    case I61_SPDU_AB:
    case I61_SPDU_AA:
        ind->type = I61_ISO_IND_ABORT;
        if (s->user_data_len) {
            i61_pres_abort pa;
            if (i61_pres_decode_abort(s->user_data, s->user_data_len, &pa) != I61_OK)
                return MALFORMED;
            if (pa.user_data)
                return i61_iso_acse_in(pa.user_data, pa.user_data_len, ind, I61_ACSE_ABRT);
        }
        return I61_OK;
    default:
        return MALFORMED;
    }
}
