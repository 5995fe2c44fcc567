/*
 * What the shared Swift program (Unikernel/Main) calls in C: the functions each
 * architecture's start-of-day code provides (Unikernel/arch/<arch>/, see ../ABI.md), and the
 * few the shared runtime provides (Unikernel/runtime/). Freestanding: no libc headers.
 */
#ifndef UNIKERNEL_ARCH_H
#define UNIKERNEL_ARCH_H

/* ---- Provided by each architecture (Unikernel/arch/<arch>/) ---------------------------- */

/* A Xen hypercall: number in `op`, up to five arguments; returns Xen's result (negative
 * errno on failure). x86_64: through the hypercall page; arm64: hvc #0xEA1 with x16 = op. */
long arch_hypercall(unsigned long op, unsigned long a1, unsigned long a2, unsigned long a3,
                    unsigned long a4, unsigned long a5);

/* Nanoseconds of Xen system time. x86_64 reads vcpu_time_info of vCPU 0 in shared_info,
 * which the Swift program maps at frame arch_free_frame(0) before its first call; arm64 uses
 * the virtual counter. */
unsigned long long arch_system_time_ns(void);

/* 64 random bits from the CPU's random number generator into *value: x86_64 RDRAND (CPUID.1:
 * ECX bit 30), arm64 RNDR (ID_AA64ISAR0_EL1.RNDR). Returns 1 on success, 0 when the CPU has
 * none or it failed ten times in a row (Intel's advice for RDRAND). */
int arch_hardware_random(unsigned long long *value);

/* The free RAM the heap may use, as [start, end). */
void arch_free_memory(unsigned long *start, unsigned long *end);

/* The guest's command line, NUL-terminated, or "" when there is none. */
const char *arch_command_line(void);

/* A guest-physical frame number free to map Xen pages at (index 0: shared_info; 1...:
 * grant-table frames), above RAM. */
unsigned long arch_free_frame(unsigned index);

/* Early debug output before the PV console is up: x86 port 0xe9; arm64 console_io. */
void arch_debug_putc(char c);

/* Stops the guest for good: SCHEDOP_shutdown(reason) (0 poweroff, 1 reboot, 3 crash). */
void arch_shutdown(unsigned reason) __attribute__((noreturn));

/* ---- Provided by the shared runtime (Unikernel/runtime/) -------------------------------- */

/* From now on putchar (Swift's print) writes to the PV console ring `ring` (struct
 * xencons_interface) and notifies event channel `port`; before, it writes to
 * arch_debug_putc. */
void runtime_console_attach(void *ring, unsigned port);

/* Bytes the heap has handed out and not taken back, and its size. */
unsigned long runtime_heap_in_use(void);
unsigned long runtime_heap_size(void);

/* Called by the architecture's exception handler (and abort): prints `what` and `pc` on the
 * console and shuts the guest down with reason crash. */
void runtime_crash(const char *what, unsigned long pc) __attribute__((noreturn));

#endif
