/* i61_client: settings, the association wrappers, error texts, the request
 * helper and GetNameList paging. The ACSI services are in acsi_browse.c and
 * acsi_rw.c. */
#include "client_internal.h"
#include "reference.h"
#include "../mms/strlist.h"
#include "../net/loop.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- last error
 * Per thread, a few slots keyed by the client pointer and the client's
 * generation: the text stays valid until the next call on the same client
 * from the same thread, and threads never see each other's texts. The
 * generation (unique per i61_client_new, see i61_unique_id) makes a slot
 * left behind in any thread by a freed client invisible to a later client
 * allocated at the same address. */

#define ERR_SLOTS 8

static uint64_t i61_client_gen(const i61_client *c)
{
    return c ? c->gen : 0;
}

typedef struct err_slot {
    const i61_client *client;
    uint64_t gen;
    unsigned long stamp;
    char text[I61_CLIENT_ERR_TEXT];
} err_slot;

static _Thread_local err_slot tl_err[ERR_SLOTS];
static _Thread_local unsigned long tl_clock;

static err_slot *err_find(const i61_client *c, bool create)
{
    uint64_t gen = i61_client_gen(c);
    err_slot *oldest = &tl_err[0];
    for (int i = 0; i < ERR_SLOTS; i++) {
        if (tl_err[i].client == c) {
            if (tl_err[i].gen != gen) {          /* left by a freed client */
                tl_err[i].client = NULL;
                tl_err[i].stamp = 0;
                tl_err[i].text[0] = '\0';
            } else {
                tl_err[i].stamp = ++tl_clock;
                return &tl_err[i];
            }
        }
        if (tl_err[i].stamp < oldest->stamp)
            oldest = &tl_err[i];
    }
    if (!create)
        return NULL;
    oldest->client = c;
    oldest->gen = gen;
    oldest->stamp = ++tl_clock;
    oldest->text[0] = '\0';
    return oldest;
}

/* Frees this thread's slot of c (other threads' slots die by generation). */
static void err_forget(const i61_client *c)
{
    for (int i = 0; i < ERR_SLOTS; i++)
        if (tl_err[i].client == c) {
            tl_err[i].client = NULL;
            tl_err[i].gen = 0;
            tl_err[i].stamp = 0;
            tl_err[i].text[0] = '\0';
        }
}

int i61_client_error(const i61_client *c, int rc, const char *fmt, ...)
{
    err_slot *s = err_find(c, true);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->text, sizeof s->text, fmt, ap);
    va_end(ap);
    return rc;
}

void i61_client_clear_error(const i61_client *c)
{
    err_slot *s = err_find(c, false);
    if (s)
        s->text[0] = '\0';
}

int i61_client_fail(const i61_client *c, int rc, const char *what, const i61_mms_error *e)
{
    if (e && e->kind != 0) {
        char m[96];
        return i61_client_error(c, rc, "%s: %s (%s)", what, i61_err_str(rc),
                                i61_mms_error_text(e, m, sizeof m));
    }
    return i61_client_error(c, rc, "%s: %s", what, i61_err_str(rc));
}

const char *i61_client_last_error_text(const i61_client *c)
{
    if (!c)
        return "no client";
    err_slot *s = err_find(c, false);
    return s ? s->text : "";
}

/* ---------------------------------------------------------------- lifecycle */

/* The association's state handler (I/O thread): the report queue first (it
 * wakes waiters on a close), then the application's handler, called without
 * any lock held. */
static void client_on_state(void *userdata, int state)
{
    i61_client *c = userdata;
    i61_client_reports_on_state(c, state);
    i61_client_controls_on_state(c, state);
    i61_client_files_on_state(c, state);
    pthread_mutex_lock(&c->lock);
    i61_state_handler h = c->user_state;
    void *ud = c->user_state_ud;
    pthread_mutex_unlock(&c->lock);
    if (h)
        h(ud, state);
}

i61_client *i61_client_new(void)
{
    i61_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->gen = i61_unique_id();
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        return NULL;
    }
    if (i61_client_reports_init(c) != I61_OK) {
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
    }
    if (i61_client_controls_init(c) != I61_OK) {
        i61_client_reports_free(c);
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
    }
    if (i61_client_files_init(c) != I61_OK) {
        i61_client_controls_free(c);
        i61_client_reports_free(c);
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
    }
    c->assoc = i61_assoc_new();
    if (!c->assoc) {
        i61_client_files_free(c);
        i61_client_controls_free(c);
        i61_client_reports_free(c);
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
    }
    i61_assoc_set_state_handler(c->assoc, client_on_state, c);
    i61_assoc_set_unconfirmed_handler(c->assoc, i61_client_on_unconfirmed, c);
    i61_assoc_set_indication_handler(c->assoc, i61_client_on_indication, c);
    c->connect_timeout_ms = I61_CLIENT_DEFAULT_CONNECT_TIMEOUT;
    c->request_timeout_ms = I61_CLIENT_DEFAULT_REQUEST_TIMEOUT;
    c->max_pdu_size = I61_CLIENT_DEFAULT_MAX_PDU;
    c->max_outstanding = I61_CLIENT_DEFAULT_OUTSTANDING;
    return c;
}

void i61_client_free(i61_client *c)
{
    if (!c)
        return;
    i61_client_files_stop(c);   /* its watchdog uses the association */
    i61_assoc_free(c->assoc);   /* aborts a live connection; no handler runs after this */
    i61_client_reports_free(c);
    i61_client_controls_free(c);
    i61_client_files_free(c);
    pthread_mutex_destroy(&c->lock);
    err_forget(c);
    free(c);
}

void i61_client_set_connect_timeout(i61_client *c, uint32_t ms)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->connect_timeout_ms = ms;
    pthread_mutex_unlock(&c->lock);
}

void i61_client_set_request_timeout(i61_client *c, uint32_t ms)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->request_timeout_ms = ms;
    pthread_mutex_unlock(&c->lock);
}

void i61_client_set_max_pdu_size(i61_client *c, uint32_t octets)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->max_pdu_size = octets;
    pthread_mutex_unlock(&c->lock);
}

void i61_client_set_state_handler(i61_client *c, i61_state_handler h, void *userdata)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->user_state = h;
    c->user_state_ud = userdata;
    pthread_mutex_unlock(&c->lock);
}

uint32_t i61_client_request_timeout(i61_client *c)
{
    pthread_mutex_lock(&c->lock);
    uint32_t t = c->request_timeout_ms;
    pthread_mutex_unlock(&c->lock);
    return t;
}

int i61_client_connect(i61_client *c, const char *host, int port)
{
    if (!c)
        return I61_ERR_INVALID_ARGUMENT;
    if (!host || !*host || port <= 0 || port > 65535)
        return i61_client_error(c, I61_ERR_INVALID_ARGUMENT, "connect: invalid host or port");
    i61_assoc_params p;
    pthread_mutex_lock(&c->lock);
    p.connect_timeout_ms = c->connect_timeout_ms;
    p.max_pdu_size = c->max_pdu_size;
    p.max_outstanding = c->max_outstanding;
    p.nesting_level = I61_CLIENT_DEFAULT_NESTING;
    pthread_mutex_unlock(&c->lock);
    int rc = i61_assoc_connect(c->assoc, host, port, &p);
    if (rc != I61_OK)
        return i61_client_error(c, rc, "connect %.200s:%d: %s", host, port, i61_err_str(rc));
    i61_client_clear_error(c);
    return I61_OK;
}

int i61_client_release(i61_client *c)
{
    if (!c)
        return I61_ERR_INVALID_ARGUMENT;
    int rc = i61_assoc_release(c->assoc, i61_client_request_timeout(c));
    if (rc != I61_OK)
        return i61_client_error(c, rc, "release: %s", i61_err_str(rc));
    i61_client_clear_error(c);
    return I61_OK;
}

int i61_client_abort(i61_client *c)
{
    if (!c)
        return I61_ERR_INVALID_ARGUMENT;
    int rc = i61_assoc_abort(c->assoc);
    if (rc != I61_OK)
        return i61_client_error(c, rc, "abort: %s", i61_err_str(rc));
    i61_client_clear_error(c);
    return I61_OK;
}

int i61_client_close(i61_client *c)
{
    if (!c)
        return I61_ERR_INVALID_ARGUMENT;
    int st = i61_assoc_state(c->assoc);
    if (st == I61_STATE_CLOSED) {
        i61_client_clear_error(c);
        return I61_OK;
    }
    int rc = I61_ERR_NOT_CONNECTED;
    if (st == I61_STATE_CONNECTED)
        rc = i61_assoc_release(c->assoc, i61_client_request_timeout(c));
    if (rc != I61_OK)
        i61_assoc_abort(c->assoc);
    i61_client_clear_error(c);
    return I61_OK;
}

int i61_client_state(const i61_client *c)
{
    return c ? i61_assoc_state(c->assoc) : I61_STATE_CLOSED;
}

uint32_t i61_client_max_pdu_size(const i61_client *c)
{
    return c ? i61_assoc_max_pdu_size(c->assoc) : 0;
}

int i61_client_max_outstanding(const i61_client *c)
{
    return c ? i61_assoc_max_outstanding(c->assoc) : 0;
}

uint32_t i61_client_pdu_limit(i61_client *c)
{
    uint32_t n = i61_assoc_max_pdu_size(c->assoc);
    if (n == 0) {
        pthread_mutex_lock(&c->lock);
        n = c->max_pdu_size;
        pthread_mutex_unlock(&c->lock);
    }
    return n;
}

/* ---------------------------------------------------------------- requests */

int i61_client_transact(i61_client *c, uint32_t invoke_id, const i61_buf *req, i61_buf *resp)
{
    i61_buf_reset(resp);
    return i61_assoc_request(c->assoc, invoke_id, req->data, req->len,
                             i61_client_request_timeout(c), resp);
}

/* Upper bounds of one paged GetNameList (a hostile server could otherwise keep
 * saying moreFollows forever). */
#define NAME_LIST_MAX_ROUNDS 100000
#define NAME_LIST_MAX_NAMES 2000000
#define NAME_LIST_MAX_BYTES ((size_t)64 << 20)   /* names + their pointers, all pages */

int i61_client_name_list(i61_client *c, int object_class, int scope, const char *domain,
                         i61_mms_idlist *out, const char *what)
{
    i61_buf req, resp;
    char after[I61_MMS_NAME_MAX + 1];
    bool have_after = false;
    int rc = I61_OK;
    size_t bytes = 0;
    i61_buf_init(&req);
    i61_buf_init(&resp);
    for (size_t i = 0; i < out->count; i++)
        bytes += strlen(out->items[i]) + 1 + sizeof(char *);
    for (int round = 0;; round++) {
        if (round >= NAME_LIST_MAX_ROUNDS || out->count > NAME_LIST_MAX_NAMES) {
            rc = i61_client_error(c, I61_ERR_MALFORMED_MESSAGE,
                                  "%s: the server keeps sending names (more than %d requests)",
                                  what, round);
            break;
        }
        uint32_t id = i61_assoc_next_invoke_id(c->assoc);
        i61_buf_reset(&req);
        rc = i61_mms_enc_get_name_list_req(&req, id, object_class, scope, domain,
                                           have_after ? after : NULL);
        if (rc != I61_OK) {
            rc = i61_client_fail(c, rc, what, NULL);
            break;
        }
        rc = i61_client_transact(c, id, &req, &resp);
        if (rc != I61_OK) {
            rc = i61_client_fail(c, rc, what, NULL);
            break;
        }
        i61_mms_error e;
        bool more = false;
        size_t before = out->count;
        rc = i61_mms_dec_get_name_list_resp(resp.data, resp.len, out, &more, &e);
        if (rc != I61_OK) {
            rc = i61_client_fail(c, rc, what, &e);
            break;
        }
        for (size_t i = before; i < out->count; i++)
            bytes += strlen(out->items[i]) + 1 + sizeof(char *);
        if (bytes > NAME_LIST_MAX_BYTES) {
            rc = i61_client_error(c, I61_ERR_MALFORMED_MESSAGE,
                                  "%s: the name list exceeds %zu octets", what,
                                  (size_t)NAME_LIST_MAX_BYTES);
            break;
        }
        if (!more)
            break;
        if (out->count == before) {
            rc = i61_client_error(c, I61_ERR_MALFORMED_MESSAGE,
                                  "%s: server said moreFollows but sent no names", what);
            break;
        }
        const char *last = out->items[out->count - 1];
        if ((have_after && strcmp(last, after) == 0) || strlen(last) > I61_MMS_NAME_MAX) {
            rc = i61_client_error(c, I61_ERR_MALFORMED_MESSAGE,
                                  "%s: server repeated itself after '%.64s'", what, last);
            break;
        }
        memcpy(after, last, strlen(last) + 1);
        have_after = true;
    }
    i61_buf_free(&req);
    i61_buf_free(&resp);
    return rc;
}
