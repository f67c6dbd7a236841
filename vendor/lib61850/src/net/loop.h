/* The process-wide I/O thread: one epoll loop shared by every client
 * association and server connection.
 *
 * Lifetime: i61_loop_acquire() starts the thread on first use and returns a
 * counted reference; i61_loop_release() drops it, and the last release stops
 * and joins the thread (when the last release happens on the I/O thread
 * itself, the thread finishes its current iteration, detaches and frees the
 * loop on its way out). The current loop pointer and its count are the only
 * global state of the library, guarded by one mutex.
 *
 * Everything registered on the loop is called on the I/O thread, without any
 * lock of the loop held, so callbacks may call every function here:
 *  - i61_io:    a file descriptor with read/write interest (level-triggered);
 *  - i61_timer: one-shot or periodic, monotonic clock, driving epoll_wait's timeout;
 *  - i61_task:  "run this on the I/O thread soon" (FIFO, intrusive, no allocation).
 *
 * Removal contract (i61_io_del, i61_timer_free): called from another thread,
 * they return once the callback is not running and will never run again;
 * called on the I/O thread (from any callback, including the object's own),
 * the callback is not called again and the memory is reclaimed at the end of
 * the current loop iteration. Never call them while holding a lock that a
 * callback of this loop may take.
 *
 * The loop never sleeps or polls: it blocks in epoll_wait until an event, the
 * earliest timer, or a wake-up through its eventfd.
 */
#ifndef I61_NET_LOOP_H
#define I61_NET_LOOP_H
#include <stddef.h>
#include <stdint.h>

typedef struct i61_loop i61_loop;
typedef struct i61_io i61_io;
typedef struct i61_timer i61_timer;

/* Interest / event bits. */
#define I61_IO_READ 1u
#define I61_IO_WRITE 2u
#define I61_IO_HUP 4u              /* hang-up or error (reported, never requested) */

typedef void (*i61_io_cb)(void *ud, uint32_t events);
typedef void (*i61_timer_cb)(void *ud);

typedef struct i61_task {
    void (*fn)(void *arg);
    void *arg;
    struct i61_task *next;         /* owned by the loop while queued */
    int queued;
} i61_task;

/* NULL when the thread, epoll or eventfd cannot be created. */
i61_loop *i61_loop_acquire(void);
/* A process-wide unique, never-zero number (taken under the library's lock). */
uint64_t i61_unique_id(void);
void i61_loop_release(i61_loop *l);
/* 1 when called on this loop's I/O thread. */
int i61_loop_in_thread(const i61_loop *l);

/* Registers fd (which the caller keeps owning and closes after i61_io_del).
 * NULL on failure. The callback may run before this returns. */
i61_io *i61_io_add(i61_loop *l, int fd, uint32_t interest, i61_io_cb cb, void *ud);
/* Changes the interest; the caller makes sure io is not being deleted. 0 or -1. */
int i61_io_set_interest(i61_io *io, uint32_t interest);
void i61_io_del(i61_io *io);

i61_timer *i61_timer_new(i61_loop *l, i61_timer_cb cb, void *ud);
/* (Re)arms: first call after delay_ms, then every period_ms (0 = one-shot). */
void i61_timer_start(i61_timer *t, uint32_t delay_ms, uint32_t period_ms);
void i61_timer_stop(i61_timer *t);
void i61_timer_free(i61_timer *t);

/* Queues t->fn(t->arg) to run on the I/O thread (no-op if t is already
 * queued). t must stay valid until it has run. */
void i61_loop_post(i61_loop *l, i61_task *t);
/* From another thread: returns once the current loop iteration and every task
 * queued before the call have completed. On the I/O thread: returns at once. */
void i61_loop_sync(i61_loop *l);

/* Monotonic clock in milliseconds. */
uint64_t i61_mono_ms(void);

#endif
