// A minimal io_uring for batched writes: see include/netstack_uring.h.
#define _GNU_SOURCE
#include "netstack_uring.h"

#include <errno.h>
#include <linux/io_uring.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

struct netstack_uring {
  int fd;
  int sqpoll;
  // The submission ring: indices shared with the kernel, and the entries.
  unsigned *sq_head, *sq_tail, *sq_mask, *sq_flags, *sq_array;
  struct io_uring_sqe *sqes;
  // Submission entries filled but not yet made visible (the tail not yet stored).
  unsigned sq_local_tail;
  unsigned sq_entries;
  // The completion ring.
  unsigned *cq_head, *cq_tail, *cq_mask;
  struct io_uring_cqe *cqes;
  // The mappings, to unmap.
  void *sq_map, *cq_map;
  size_t sq_map_size, cq_map_size, sqes_size;
};

static int uring_setup(unsigned entries, struct io_uring_params *params) {
  return (int)syscall(__NR_io_uring_setup, entries, params);
}

static int uring_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags) {
  return (int)syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, NULL, 0);
}

struct netstack_uring *netstack_uring_open(unsigned entries, int sqpoll,
                                           unsigned idle_milliseconds, int *error) {
  struct io_uring_params params;
  memset(&params, 0, sizeof(params));
  if (sqpoll) {
    params.flags = IORING_SETUP_SQPOLL;
    params.sq_thread_idle = idle_milliseconds;
  }
  int fd = uring_setup(entries, &params);
  if (fd < 0) {
    *error = -errno;
    return NULL;
  }
  struct netstack_uring *ring = calloc(1, sizeof(*ring));
  if (!ring) {
    close(fd);
    *error = -ENOMEM;
    return NULL;
  }
  ring->fd = fd;
  ring->sqpoll = sqpoll != 0;
  ring->sq_entries = params.sq_entries;
  ring->sq_map_size = params.sq_off.array + params.sq_entries * sizeof(unsigned);
  ring->cq_map_size = params.cq_off.cqes + params.cq_entries * sizeof(struct io_uring_cqe);
  int single = (params.features & IORING_FEAT_SINGLE_MMAP) != 0;
  if (single && ring->cq_map_size > ring->sq_map_size) ring->sq_map_size = ring->cq_map_size;
  ring->sq_map = mmap(NULL, ring->sq_map_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                      fd, IORING_OFF_SQ_RING);
  if (ring->sq_map == MAP_FAILED) goto failed;
  if (single) {
    ring->cq_map = ring->sq_map;
  } else {
    ring->cq_map = mmap(NULL, ring->cq_map_size, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_CQ_RING);
    if (ring->cq_map == MAP_FAILED) goto failed;
  }
  ring->sqes_size = params.sq_entries * sizeof(struct io_uring_sqe);
  ring->sqes = mmap(NULL, ring->sqes_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                    IORING_OFF_SQES);
  if (ring->sqes == MAP_FAILED) goto failed;
  char *sq = ring->sq_map;
  ring->sq_head = (unsigned *)(sq + params.sq_off.head);
  ring->sq_tail = (unsigned *)(sq + params.sq_off.tail);
  ring->sq_mask = (unsigned *)(sq + params.sq_off.ring_mask);
  ring->sq_flags = (unsigned *)(sq + params.sq_off.flags);
  ring->sq_array = (unsigned *)(sq + params.sq_off.array);
  ring->sq_local_tail = *ring->sq_tail;
  char *cq = ring->cq_map;
  ring->cq_head = (unsigned *)(cq + params.cq_off.head);
  ring->cq_tail = (unsigned *)(cq + params.cq_off.tail);
  ring->cq_mask = (unsigned *)(cq + params.cq_off.ring_mask);
  ring->cqes = (struct io_uring_cqe *)(cq + params.cq_off.cqes);
  return ring;

failed:
  *error = -errno;
  if (ring->sqes && ring->sqes != MAP_FAILED) munmap(ring->sqes, ring->sqes_size);
  if (ring->cq_map && ring->cq_map != MAP_FAILED && ring->cq_map != ring->sq_map)
    munmap(ring->cq_map, ring->cq_map_size);
  if (ring->sq_map && ring->sq_map != MAP_FAILED) munmap(ring->sq_map, ring->sq_map_size);
  close(fd);
  free(ring);
  return NULL;
}

void netstack_uring_close(struct netstack_uring *ring) {
  if (!ring) return;
  munmap(ring->sqes, ring->sqes_size);
  if (ring->cq_map != ring->sq_map) munmap(ring->cq_map, ring->cq_map_size);
  munmap(ring->sq_map, ring->sq_map_size);
  close(ring->fd);
  free(ring);
}

int netstack_uring_is_sqpoll(const struct netstack_uring *ring) { return ring->sqpoll; }

int netstack_uring_queue_write(struct netstack_uring *ring, int fd, const void *buffer,
                               unsigned length, uint64_t user_data) {
  // The kernel moves the head as it consumes entries (SQPOLL's thread, or io_uring_enter).
  unsigned head = __atomic_load_n(ring->sq_head, __ATOMIC_ACQUIRE);
  if (ring->sq_local_tail - head >= ring->sq_entries) return -EBUSY;
  unsigned index = ring->sq_local_tail & *ring->sq_mask;
  struct io_uring_sqe *sqe = &ring->sqes[index];
  memset(sqe, 0, sizeof(*sqe));
  sqe->opcode = IORING_OP_WRITE;
  sqe->fd = fd;
  sqe->addr = (uint64_t)(uintptr_t)buffer;
  sqe->len = length;
  sqe->off = (uint64_t)-1;
  sqe->user_data = user_data;
  ring->sq_array[index] = index;
  ring->sq_local_tail += 1;
  return 0;
}

int netstack_uring_submit(struct netstack_uring *ring) {
  // Entries written before the tail that publishes them.
  __atomic_store_n(ring->sq_tail, ring->sq_local_tail, __ATOMIC_RELEASE);
  if (ring->sqpoll) {
    // The thread may have gone to sleep before it saw the new tail: a full barrier between
    // the store of the tail and the load of the flags (as liburing does), then wake it.
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(ring->sq_flags, __ATOMIC_RELAXED) & IORING_SQ_NEED_WAKEUP) {
      if (uring_enter(ring->fd, 0, 0, IORING_ENTER_SQ_WAKEUP) < 0 && errno != EINTR)
        return -errno;
      return 1;
    }
    return 0;
  }
  // Everything published and not yet consumed by the kernel (including entries an earlier
  // call could not submit).
  unsigned pending = ring->sq_local_tail - __atomic_load_n(ring->sq_head, __ATOMIC_ACQUIRE);
  if (pending == 0) return 0;
  int submitted;
  do {
    submitted = uring_enter(ring->fd, pending, 0, 0);
  } while (submitted < 0 && errno == EINTR);
  return submitted < 0 ? -errno : submitted;
}

int netstack_uring_wait(struct netstack_uring *ring, unsigned count) {
  // Entries published but not yet consumed (an earlier submit that met EAGAIN or EBUSY) are
  // submitted by this call too, or their completions would never come; a sleeping
  // submission thread is woken to take them.
  __atomic_store_n(ring->sq_tail, ring->sq_local_tail, __ATOMIC_RELEASE);
  unsigned flags = IORING_ENTER_GETEVENTS;
  unsigned pending = 0;
  if (ring->sqpoll) {
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(ring->sq_flags, __ATOMIC_RELAXED) & IORING_SQ_NEED_WAKEUP)
      flags |= IORING_ENTER_SQ_WAKEUP;
  } else {
    pending = ring->sq_local_tail - __atomic_load_n(ring->sq_head, __ATOMIC_ACQUIRE);
  }
  int result;
  do {
    result = uring_enter(ring->fd, pending, count, flags);
  } while (result < 0 && errno == EINTR);
  return result < 0 ? -errno : 0;
}

int netstack_uring_complete(struct netstack_uring *ring, uint64_t *user_data, int32_t *result) {
  unsigned head = *ring->cq_head;
  unsigned tail = __atomic_load_n(ring->cq_tail, __ATOMIC_ACQUIRE);
  if (head == tail) return 0;
  struct io_uring_cqe *cqe = &ring->cqes[head & *ring->cq_mask];
  *user_data = cqe->user_data;
  *result = cqe->res;
  __atomic_store_n(ring->cq_head, head + 1, __ATOMIC_RELEASE);
  return 1;
}
