/* The shared epoll I/O thread: see loop.h. */
#include "loop.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

struct i61_io {
    i61_loop *l;
    int fd;
    i61_io_cb cb;
    void *ud;
    int dead;
    i61_io *znext;
};

struct i61_timer {
    i61_loop *l;
    i61_timer_cb cb;
    void *ud;
    uint64_t deadline;
    uint32_t period;
    size_t idx;                      /* position in the heap, SIZE_MAX when not armed */
    int dead;
    i61_timer *znext;
};

struct i61_loop {
    pthread_mutex_t mu;
    pthread_cond_t cv;               /* iteration finished / sync task ran */
    int ep;
    int wfd;                         /* eventfd for wake-ups */
    pthread_t thread;
    int refs;                        /* guarded by i61_loop_g_mu */
    int stop;
    int detached;
    int in_dispatch;
    uint64_t seq;                    /* completed iterations */
    int waiting;                     /* blocked (or about to block) in epoll_wait */
    uint64_t wait_deadline;          /* the deadline epoll_wait was given (UINT64_MAX none) */
    i61_timer **heap;
    size_t nheap, cap_heap, ntimers;
    i61_task *thead, *ttail;
    i61_io *zio;
    i61_timer *ztm;
};

/* The only global state of the library: the current loop and its lock. */
static pthread_mutex_t i61_loop_g_mu = PTHREAD_MUTEX_INITIALIZER;
static i61_loop *i61_loop_g;
static uint64_t i61_loop_g_ids;       /* i61_unique_id, under i61_loop_g_mu */
static _Thread_local i61_loop *i61_loop_self;

uint64_t i61_unique_id(void)
{
    pthread_mutex_lock(&i61_loop_g_mu);
    uint64_t id = ++i61_loop_g_ids;
    pthread_mutex_unlock(&i61_loop_g_mu);
    return id;
}

uint64_t i61_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void i61_loop_wake(i61_loop *l)
{
    uint64_t one = 1;
    ssize_t r;
    do {
        r = write(l->wfd, &one, sizeof one);
    } while (r < 0 && errno == EINTR);
    /* EAGAIN: the counter is already non-zero, the loop will wake anyway */
}

int i61_loop_in_thread(const i61_loop *l)
{
    return l && i61_loop_self == l;
}

/* ------------------------------------------------------------ timer heap */

static int i61_heap_less(const i61_timer *a, const i61_timer *b)
{
    return a->deadline < b->deadline;
}

static void i61_heap_swap(i61_loop *l, size_t i, size_t j)
{
    i61_timer *t = l->heap[i];
    l->heap[i] = l->heap[j];
    l->heap[j] = t;
    l->heap[i]->idx = i;
    l->heap[j]->idx = j;
}

static void i61_heap_up(i61_loop *l, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!i61_heap_less(l->heap[i], l->heap[p]))
            break;
        i61_heap_swap(l, i, p);
        i = p;
    }
}

static void i61_heap_down(i61_loop *l, size_t i)
{
    for (;;) {
        size_t c = 2 * i + 1, m = i;
        if (c < l->nheap && i61_heap_less(l->heap[c], l->heap[m]))
            m = c;
        if (c + 1 < l->nheap && i61_heap_less(l->heap[c + 1], l->heap[m]))
            m = c + 1;
        if (m == i)
            break;
        i61_heap_swap(l, i, m);
        i = m;
    }
}

static void i61_heap_remove(i61_loop *l, i61_timer *t)
{
    size_t i = t->idx;
    if (i == SIZE_MAX)
        return;
    l->nheap--;
    if (i != l->nheap) {
        l->heap[i] = l->heap[l->nheap];
        l->heap[i]->idx = i;
        i61_heap_down(l, i);
        i61_heap_up(l, i);
    }
    t->idx = SIZE_MAX;
}

static void i61_heap_insert(i61_loop *l, i61_timer *t)
{
    /* capacity is reserved in i61_timer_new: never fails */
    t->idx = l->nheap;
    l->heap[l->nheap++] = t;
    i61_heap_up(l, t->idx);
}

/* ------------------------------------------------------------ the thread */

static void i61_loop_reap(i61_loop *l)
{
    while (l->zio) {
        i61_io *io = l->zio;
        l->zio = io->znext;
        free(io);
    }
    while (l->ztm) {
        i61_timer *t = l->ztm;
        l->ztm = t->znext;
        free(t);
    }
}

static void i61_loop_destroy(i61_loop *l)
{
    i61_loop_reap(l);
    close(l->ep);
    close(l->wfd);
    free(l->heap);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

static uint32_t i61_events_from_epoll(uint32_t e)
{
    uint32_t r = 0;
    if (e & EPOLLIN)
        r |= I61_IO_READ;
    if (e & EPOLLOUT)
        r |= I61_IO_WRITE;
    if (e & (EPOLLHUP | EPOLLERR | EPOLLRDHUP))
        r |= I61_IO_HUP | I61_IO_READ;
    return r;
}

static void *i61_loop_main(void *arg)
{
    i61_loop *l = arg;
    i61_loop_self = l;
    struct epoll_event ev[64];
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        int timeout = -1;
        uint64_t now = i61_mono_ms();
        l->wait_deadline = UINT64_MAX;
        if (l->thead) {
            timeout = 0;
        } else if (l->nheap) {
            uint64_t d = l->heap[0]->deadline;
            l->wait_deadline = d;
            timeout = d <= now ? 0 : (d - now > 3600000u ? 3600000 : (int)(d - now));
        }
        l->waiting = 1;
        pthread_mutex_unlock(&l->mu);
        int n = epoll_wait(l->ep, ev, 64, timeout);
        pthread_mutex_lock(&l->mu);
        l->waiting = 0;
        l->in_dispatch = 1;
        for (int k = 0; k < n; k++) {
            i61_io *io = ev[k].data.ptr;
            if (!io) {
                uint64_t v;
                ssize_t r;
                do {
                    r = read(l->wfd, &v, sizeof v);
                } while (r < 0 && errno == EINTR);
                continue;
            }
            if (io->dead)
                continue;
            pthread_mutex_unlock(&l->mu);
            io->cb(io->ud, i61_events_from_epoll(ev[k].events));
            pthread_mutex_lock(&l->mu);
        }
        /* timers */
        now = i61_mono_ms();
        while (l->nheap && l->heap[0]->deadline <= now) {
            i61_timer *t = l->heap[0];
            i61_heap_remove(l, t);
            if (t->period) {
                t->deadline += t->period;
                if (t->deadline <= now)
                    t->deadline = now + t->period;
                i61_heap_insert(l, t);
            }
            pthread_mutex_unlock(&l->mu);
            t->cb(t->ud);
            pthread_mutex_lock(&l->mu);
        }
        /* tasks queued so far (later ones run in the next iteration) */
        i61_task *list = l->thead;
        l->thead = l->ttail = NULL;
        while (list) {
            i61_task *t = list;
            list = t->next;
            t->next = NULL;
            t->queued = 0;
            pthread_mutex_unlock(&l->mu);
            t->fn(t->arg);                   /* may free the memory holding t */
            pthread_mutex_lock(&l->mu);
        }
        i61_loop_reap(l);
        l->seq++;
        l->in_dispatch = 0;
        pthread_cond_broadcast(&l->cv);
    }
    int detached = l->detached;
    pthread_mutex_unlock(&l->mu);
    i61_loop_self = NULL;
    if (detached)
        i61_loop_destroy(l);
    return NULL;
}

i61_loop *i61_loop_acquire(void)
{
    pthread_mutex_lock(&i61_loop_g_mu);
    i61_loop *l = i61_loop_g;
    if (l) {
        l->refs++;
        pthread_mutex_unlock(&i61_loop_g_mu);
        return l;
    }
    l = calloc(1, sizeof *l);
    if (!l)
        goto fail;
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    l->wfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->ep < 0 || l->wfd < 0)
        goto fail_fds;
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.ptr = NULL;
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, l->wfd, &ev) != 0)
        goto fail_fds;
    pthread_mutex_init(&l->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->cv, &ca);
    pthread_condattr_destroy(&ca);
    /* the I/O thread takes no signals: they go to the application's threads */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&l->thread, NULL, i61_loop_main, l);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&l->cv);
        pthread_mutex_destroy(&l->mu);
        goto fail_fds;
    }
    l->refs = 1;
    i61_loop_g = l;
    pthread_mutex_unlock(&i61_loop_g_mu);
    return l;
fail_fds:
    if (l->ep >= 0)
        close(l->ep);
    if (l->wfd >= 0)
        close(l->wfd);
    free(l);
fail:
    pthread_mutex_unlock(&i61_loop_g_mu);
    return NULL;
}

void i61_loop_release(i61_loop *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&i61_loop_g_mu);
    if (--l->refs > 0) {
        pthread_mutex_unlock(&i61_loop_g_mu);
        return;
    }
    if (i61_loop_g == l)
        i61_loop_g = NULL;
    pthread_mutex_unlock(&i61_loop_g_mu);
    int self = i61_loop_in_thread(l);
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    if (self) {
        l->detached = 1;
        pthread_detach(pthread_self());
    }
    pthread_mutex_unlock(&l->mu);
    if (self)
        return;                          /* the thread frees the loop when it leaves */
    i61_loop_wake(l);
    pthread_join(l->thread, NULL);
    i61_loop_destroy(l);
}

/* Waits until the iteration in progress (if any) has finished. l->mu held. */
static void i61_loop_wait_iteration(i61_loop *l)
{
    if (i61_loop_in_thread(l) || !l->in_dispatch)
        return;
    uint64_t s = l->seq;
    while (l->seq == s && !l->stop)
        pthread_cond_wait(&l->cv, &l->mu);
}

/* ------------------------------------------------------------------- io */

static uint32_t i61_epoll_from_interest(uint32_t interest)
{
    uint32_t e = EPOLLRDHUP;
    if (interest & I61_IO_READ)
        e |= EPOLLIN;
    if (interest & I61_IO_WRITE)
        e |= EPOLLOUT;
    return e;
}

i61_io *i61_io_add(i61_loop *l, int fd, uint32_t interest, i61_io_cb cb, void *ud)
{
    if (!l || fd < 0 || !cb)
        return NULL;
    i61_io *io = calloc(1, sizeof *io);
    if (!io)
        return NULL;
    io->l = l;
    io->fd = fd;
    io->cb = cb;
    io->ud = ud;
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = i61_epoll_from_interest(interest);
    ev.data.ptr = io;
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        free(io);
        return NULL;
    }
    return io;
}

int i61_io_set_interest(i61_io *io, uint32_t interest)
{
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = i61_epoll_from_interest(interest);
    ev.data.ptr = io;
    return epoll_ctl(io->l->ep, EPOLL_CTL_MOD, io->fd, &ev) == 0 ? 0 : -1;
}

void i61_io_del(i61_io *io)
{
    if (!io)
        return;
    i61_loop *l = io->l;
    pthread_mutex_lock(&l->mu);
    io->dead = 1;
    epoll_ctl(l->ep, EPOLL_CTL_DEL, io->fd, NULL);
    io->znext = l->zio;                  /* freed at the end of an iteration */
    l->zio = io;
    i61_loop_wait_iteration(l);
    pthread_mutex_unlock(&l->mu);
}

/* ---------------------------------------------------------------- timers */

i61_timer *i61_timer_new(i61_loop *l, i61_timer_cb cb, void *ud)
{
    if (!l || !cb)
        return NULL;
    i61_timer *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->l = l;
    t->cb = cb;
    t->ud = ud;
    t->idx = SIZE_MAX;
    pthread_mutex_lock(&l->mu);
    if (l->ntimers + 1 > l->cap_heap) {
        size_t nc = l->cap_heap ? l->cap_heap * 2 : 16;
        i61_timer **h = realloc(l->heap, nc * sizeof *h);
        if (!h) {
            pthread_mutex_unlock(&l->mu);
            free(t);
            return NULL;
        }
        l->heap = h;
        l->cap_heap = nc;
    }
    l->ntimers++;
    pthread_mutex_unlock(&l->mu);
    return t;
}

void i61_timer_start(i61_timer *t, uint32_t delay_ms, uint32_t period_ms)
{
    i61_loop *l = t->l;
    pthread_mutex_lock(&l->mu);
    if (t->dead) {
        pthread_mutex_unlock(&l->mu);
        return;
    }
    i61_heap_remove(l, t);
    t->deadline = i61_mono_ms() + delay_ms;
    t->period = period_ms;
    i61_heap_insert(l, t);
    int wake = l->waiting && t->deadline < l->wait_deadline && !i61_loop_in_thread(l);
    pthread_mutex_unlock(&l->mu);
    if (wake)
        i61_loop_wake(l);
}

void i61_timer_stop(i61_timer *t)
{
    i61_loop *l = t->l;
    pthread_mutex_lock(&l->mu);
    i61_heap_remove(l, t);
    t->period = 0;
    pthread_mutex_unlock(&l->mu);
}

void i61_timer_free(i61_timer *t)
{
    if (!t)
        return;
    i61_loop *l = t->l;
    pthread_mutex_lock(&l->mu);
    i61_heap_remove(l, t);
    t->dead = 1;
    l->ntimers--;
    t->znext = l->ztm;
    l->ztm = t;
    i61_loop_wait_iteration(l);
    pthread_mutex_unlock(&l->mu);
}

/* ----------------------------------------------------------------- tasks */

void i61_loop_post(i61_loop *l, i61_task *t)
{
    pthread_mutex_lock(&l->mu);
    if (t->queued) {
        pthread_mutex_unlock(&l->mu);
        return;
    }
    t->queued = 1;
    t->next = NULL;
    if (l->ttail)
        l->ttail->next = t;
    else
        l->thead = t;
    l->ttail = t;
    int wake = l->waiting && !i61_loop_in_thread(l);
    pthread_mutex_unlock(&l->mu);
    if (wake)
        i61_loop_wake(l);
}

typedef struct i61_sync_ctx {
    i61_loop *l;
    int done;
} i61_sync_ctx;

static void i61_loop_sync_fn(void *arg)
{
    i61_sync_ctx *c = arg;
    pthread_mutex_lock(&c->l->mu);
    c->done = 1;
    pthread_cond_broadcast(&c->l->cv);
    pthread_mutex_unlock(&c->l->mu);
}

void i61_loop_sync(i61_loop *l)
{
    if (!l || i61_loop_in_thread(l))
        return;
    i61_sync_ctx c = { l, 0 };
    i61_task t = { i61_loop_sync_fn, &c, NULL, 0 };
    i61_loop_post(l, &t);
    pthread_mutex_lock(&l->mu);
    while (!c.done)
        pthread_cond_wait(&l->cv, &l->mu);
    /* the task ran inside an iteration: wait for that iteration to finish too */
    i61_loop_wait_iteration(l);
    pthread_mutex_unlock(&l->mu);
}
