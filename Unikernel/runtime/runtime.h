/* What the shared C runtime's files share: sizes and the few libc functions they call. */
#ifndef UNIKERNEL_RUNTIME_H
#define UNIKERNEL_RUNTIME_H

#include "../arch/include/unikernel_arch.h"

typedef unsigned long size_t;

void *memset(void *destination, int value, size_t count);
void *memcpy(void *destination, const void *source, size_t count);
int putchar(int c);

/* Xen hypercall numbers and commands the runtime uses (xen/xen.h, event_channel.h, sched.h). */
#define HYPERVISOR_sched_op 29
#define HYPERVISOR_event_channel_op 32
#define SCHEDOP_yield 0
#define EVTCHNOP_send 4

#endif
