/* Session layer SPDUs: see session.h. */
#include "session.h"

#include <string.h>

const uint8_t i61_session_data_prefix[4] = { 0x01, 0x00, 0x01, 0x00 };

/* Reads a session length (LI) at p[*i]: one octet, or ff + two octets. */
static int i61_session_li(const uint8_t *p, size_t len, size_t *i, size_t *out)
{
    if (*i >= len)
        return -1;
    uint8_t l = p[(*i)++];
    if (l != 0xff) {
        *out = l;
        return 0;
    }
    if (len - *i < 2)
        return -1;
    *out = (size_t)p[*i] << 8 | p[*i + 1];
    *i += 2;
    return 0;
}

static int i61_session_pi(i61_spdu *s, uint8_t code, const uint8_t *v, size_t n, int in_pgi)
{
    switch (code) {
    case 19:
        if (n != 1)
            return -1;
        s->has_protocol_options = 1;
        s->protocol_options = v[0];
        break;
    case 22:
        if (n != 1)
            return -1;
        s->has_version = 1;
        s->version = v[0];
        break;
    case 17:
        if (n != 1 || in_pgi)
            return -1;
        s->has_transport_disconnect = 1;
        s->transport_disconnect = v[0];
        break;
    case 20:
        if (n != 2 || in_pgi)
            return -1;
        s->has_user_requirements = 1;
        s->user_requirements = (uint16_t)(v[0] << 8 | v[1]);
        break;
    case 50:
        if (n < 1 || in_pgi)
            return -1;
        s->has_reason = 1;
        s->reason = v[0];
        s->user_data = v + 1;
        s->user_data_len = n - 1;
        break;
    case 51:
        if (n > I61_SSEL_MAX || in_pgi)
            return -1;
        s->has_calling_ssel = 1;
        memcpy(s->calling_ssel, v, n);
        s->calling_ssel_len = n;
        break;
    case 52:
        if (n > I61_SSEL_MAX || in_pgi)
            return -1;
        s->has_called_ssel = 1;
        memcpy(s->called_ssel, v, n);
        s->called_ssel_len = n;
        break;
    case 193:
    case 194:
        if (in_pgi)
            return -1;
        s->user_data = v;
        s->user_data_len = n;
        break;
    default:
        break;                          /* other PIs (serial numbers, TSDU size...): ignored */
    }
    return 0;
}

/* Parameters of one SPDU, p[0..len). PGIs (codes 1, 5, 33, 49 ...) hold PIs:
 * a PGI is recognised by its code and parsed one level deep, never further. */
static int i61_session_params(i61_spdu *s, const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t code = p[i++];
        size_t n;
        if (i61_session_li(p, len, &i, &n) != 0 || n > len - i)
            return -1;
        const uint8_t *v = p + i;
        if (code == 1 || code == 5 || code == 33 || code == 49) {
            size_t j = 0;
            while (j < n) {
                uint8_t c2 = v[j++];
                size_t n2;
                if (i61_session_li(v, n, &j, &n2) != 0 || n2 > n - j)
                    return -1;
                if (code == 5 && i61_session_pi(s, c2, v + j, n2, 1) != 0)
                    return -1;
                j += n2;
            }
        } else if (i61_session_pi(s, code, v, n, 0) != 0) {
            return -1;
        }
        i += n;
    }
    return 0;
}

int i61_session_decode(const uint8_t *p, size_t len, i61_spdu *s)
{
    memset(s, 0, sizeof *s);
    if (!p || len < 2)
        return I61_ERR_MALFORMED_MESSAGE;
    size_t i = 1, li;
    s->si = p[0];
    if (i61_session_li(p, len, &i, &li) != 0 || li > len - i)
        return I61_ERR_MALFORMED_MESSAGE;
    switch (s->si) {
    case I61_SPDU_DT: {
        /* GT (category 0) + DT, or a lone DT; the user information follows the header. */
        if (i61_session_params(s, p + i, li) != 0)
            return I61_ERR_MALFORMED_MESSAGE;
        i += li;
        if (i < len && p[i] == I61_SPDU_DT) {
            s->gt = 1;
            i++;
            if (i61_session_li(p, len, &i, &li) != 0 || li > len - i)
                return I61_ERR_MALFORMED_MESSAGE;
            i61_spdu dt;
            memset(&dt, 0, sizeof dt);
            if (i61_session_params(&dt, p + i, li) != 0)
                return I61_ERR_MALFORMED_MESSAGE;
            i += li;
        }
        s->user_data = p + i;
        s->user_data_len = len - i;
        return I61_OK;
    }
    case I61_SPDU_CN:
    case I61_SPDU_AC:
    case I61_SPDU_RF:
    case I61_SPDU_FN:
    case I61_SPDU_DN:
    case I61_SPDU_NF:
    case I61_SPDU_AB:
    case I61_SPDU_AA:
        if (i61_session_params(s, p + i, li) != 0)
            return I61_ERR_MALFORMED_MESSAGE;
        if (i + li != len)
            return I61_ERR_MALFORMED_MESSAGE;   /* no concatenation with these */
        if (!s->user_data)
            s->user_data = p + len;
        return I61_OK;
    default:
        return I61_ERR_MALFORMED_MESSAGE;
    }
}

static void i61_session_put_li(i61_buf *b, size_t n)
{
    if (n <= 254) {
        i61_buf_put_u8(b, (uint8_t)n);
    } else {
        uint8_t o[3] = { 0xff, (uint8_t)(n >> 8), (uint8_t)n };
        i61_buf_put(b, o, 3);
    }
}

static size_t i61_session_li_size(size_t n)
{
    return n <= 254 ? 1 : 3;
}

int i61_session_write(i61_buf *b, const i61_spdu *s)
{
    if (s->si == I61_SPDU_DT) {
        i61_buf_put(b, i61_session_data_prefix, sizeof i61_session_data_prefix);
        if (s->user_data_len)
            i61_buf_put(b, s->user_data, s->user_data_len);
        return b->oom ? I61_ERR_UNKNOWN : I61_OK;
    }
    if ((s->has_calling_ssel && s->calling_ssel_len > I61_SSEL_MAX) ||
        (s->has_called_ssel && s->called_ssel_len > I61_SSEL_MAX) ||
        (s->user_data_len && !s->user_data))
        return I61_ERR_INVALID_ARGUMENT;
    /* parameters other than user data: at most a few dozen octets */
    uint8_t q[64];
    size_t n = 0;
    if (s->has_protocol_options || s->has_version) {
        q[n++] = 5;
        q[n++] = (uint8_t)((s->has_protocol_options ? 3 : 0) + (s->has_version ? 3 : 0));
        if (s->has_protocol_options) {
            q[n++] = 19; q[n++] = 1; q[n++] = s->protocol_options;
        }
        if (s->has_version) {
            q[n++] = 22; q[n++] = 1; q[n++] = s->version;
        }
    }
    if (s->has_transport_disconnect) {
        q[n++] = 17; q[n++] = 1; q[n++] = s->transport_disconnect;
    }
    if (s->has_user_requirements) {
        q[n++] = 20; q[n++] = 2;
        q[n++] = (uint8_t)(s->user_requirements >> 8);
        q[n++] = (uint8_t)s->user_requirements;
    }
    size_t ud = s->user_data_len;
    int ud_in_reason = s->has_reason;  /* RF: the user data travels inside PI 50 */
    size_t reason_len = 0;
    if (s->has_reason) {
        reason_len = 1 + ud;
        if (reason_len > 65535)
            return I61_ERR_INVALID_ARGUMENT;
    }
    if (s->has_calling_ssel) {
        q[n++] = 51; q[n++] = (uint8_t)s->calling_ssel_len;
        memcpy(q + n, s->calling_ssel, s->calling_ssel_len);
        n += s->calling_ssel_len;
    }
    if (s->has_called_ssel) {
        q[n++] = 52; q[n++] = (uint8_t)s->called_ssel_len;
        memcpy(q + n, s->called_ssel, s->called_ssel_len);
        n += s->called_ssel_len;
    }
    size_t total = n;
    if (ud_in_reason)
        total += 1 + i61_session_li_size(reason_len) + reason_len;
    else if (ud)
        total += 1 + i61_session_li_size(ud) + ud;
    if (total > 65535)
        return I61_ERR_INVALID_ARGUMENT;
    i61_buf_put_u8(b, s->si);
    i61_session_put_li(b, total);
    /* PI 50 goes before the selectors in the canonical order: write the
     * selector-free parameters, then PI 50, then the selectors. */
    size_t sel_start = n;
    if (s->has_calling_ssel)
        sel_start -= 2 + s->calling_ssel_len;
    if (s->has_called_ssel)
        sel_start -= 2 + s->called_ssel_len;
    i61_buf_put(b, q, sel_start);
    if (ud_in_reason) {
        i61_buf_put_u8(b, 50);
        i61_session_put_li(b, reason_len);
        i61_buf_put_u8(b, s->reason);
        if (ud)
            i61_buf_put(b, s->user_data, ud);
    }
    i61_buf_put(b, q + sel_start, n - sel_start);
    if (!ud_in_reason && ud) {
        i61_buf_put_u8(b, 193);
        i61_session_put_li(b, ud);
        i61_buf_put(b, s->user_data, ud);
    }
    return b->oom ? I61_ERR_UNKNOWN : I61_OK;
}
