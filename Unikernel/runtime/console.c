/*
 * putchar, where Swift's print ends up: to the architecture's debug output until the Swift
 * program attaches the PV console ring (struct xencons_interface, xen/io/console.h), then to
 * both. The ring's output half is 2048 bytes with free-running indices; xenconsoled in dom0
 * is notified through the console's event channel at each end of line.
 */
#include "runtime.h"

#define OUT_OFFSET 1024
#define OUT_SIZE 2048
#define OUT_CONS 3080
#define OUT_PROD 3084

static volatile unsigned char *console_ring;
static unsigned console_port;

static void console_notify(void) {
    unsigned port = console_port;
    arch_hypercall(HYPERVISOR_event_channel_op, EVTCHNOP_send, (unsigned long)&port, 0, 0, 0);
}

void runtime_console_attach(void *ring, unsigned port) {
    console_port = port;
    console_ring = ring;
}

int putchar(int c) {
    arch_debug_putc((char)c);
    if (!console_ring) return c;
    volatile unsigned *consumer = (volatile unsigned *)(console_ring + OUT_CONS);
    volatile unsigned *producer = (volatile unsigned *)(console_ring + OUT_PROD);
    unsigned prod = *producer;
    for (int tries = 0; prod - *consumer >= OUT_SIZE; tries++) {
        if (tries > 1000) return c; /* xenconsoled is gone: drop rather than hang */
        console_notify();
        arch_hypercall(HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0, 0, 0);
    }
    console_ring[OUT_OFFSET + (prod % OUT_SIZE)] = (unsigned char)c;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    *producer = prod + 1;
    if (c == '\n') console_notify();
    return c;
}
