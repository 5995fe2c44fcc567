// A minimal io_uring (io_uring_setup(2), io_uring_enter(2), the mmap'ed rings) for one thing:
// writing many frames to a descriptor with one system call, or with none (SQPOLL: a kernel
// thread of the process takes the submissions from the ring and does the writes).
//
// Raw system calls and the kernel's <linux/io_uring.h>; no liburing.
#ifndef NETSTACK_URING_H
#define NETSTACK_URING_H

#include <stdint.h>

/// An io_uring instance with its mapped rings (opaque).
struct netstack_uring;

/// Sets up a ring of `entries` submission slots (a power of two, at most 4096): with `sqpoll`
/// non-zero, IORING_SETUP_SQPOLL with a kernel thread that sleeps after `idle_milliseconds`
/// without work. Returns the ring, or NULL with -errno in `*error` (ENOSYS: no io_uring;
/// EPERM: refused by kernel.io_uring_disabled or a seccomp filter; ENOMEM ...).
struct netstack_uring *netstack_uring_open(unsigned entries, int sqpoll,
                                           unsigned idle_milliseconds, int *error);

/// Unmaps the rings and closes the ring's descriptor (the kernel finishes or cancels what is
/// in flight; the caller must keep the buffers of unfinished writes alive until then: it
/// closes the ring before freeing them).
void netstack_uring_close(struct netstack_uring *ring);

/// Whether the ring was set up with a kernel submission thread.
int netstack_uring_is_sqpoll(const struct netstack_uring *ring);

/// Queues an IORING_OP_WRITE of `length` bytes at `buffer` to `fd` (at the file's position,
/// -1: a TAP ignores it), tagged `user_data`. Returns 0, or -EBUSY when the submission ring is
/// full (submit first).
int netstack_uring_queue_write(struct netstack_uring *ring, int fd, const void *buffer,
                               unsigned length, uint64_t user_data);

/// Hands the queued writes to the kernel: io_uring_enter(2) with them (without SQPOLL), or a
/// store of the ring's tail and, only when the kernel thread sleeps, io_uring_enter(2) with
/// IORING_ENTER_SQ_WAKEUP. Returns how many the kernel took (with SQPOLL, whose thread takes
/// them by itself: 1 when it had to be woken, else 0), or -errno.
int netstack_uring_submit(struct netstack_uring *ring);

/// Blocks until at least `count` completions are on the completion ring (io_uring_enter(2)
/// with IORING_ENTER_GETEVENTS): before the ring is closed, so that no write still reads a
/// buffer. Returns 0 or -errno.
int netstack_uring_wait(struct netstack_uring *ring, unsigned count);

/// Takes one completion off the completion ring: 1 and its tag and result (bytes written, or
/// -errno), or 0 when there is none.
int netstack_uring_complete(struct netstack_uring *ring, uint64_t *user_data, int32_t *result);

#endif
