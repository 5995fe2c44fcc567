/*
 * The x86_64 PVH side of Unikernel/arch/ABI.md: the hypercall page, Xen's clock, the memory
 * map and command line of hvm_start_info, port 0xe9 debug output, shutdown, and an IDT whose
 * every exception (a Swift trap is ud2: #UD) ends in runtime_crash.
 */
#include "../include/unikernel_arch.h"

void unikernel_main(void) __attribute__((noreturn));
void x86_start(void) __attribute__((noreturn));
void x86_exception(unsigned long vector, unsigned long error, unsigned long rip)
    __attribute__((noreturn));

extern unsigned int pvh_start_info;      /* start.S: %ebx at entry */
extern unsigned long exception_stubs[32]; /* start.S */
extern char __image_end[];               /* linker.ld */

/* Filled by Xen when we write its address to the MSR CPUID names (32 bytes per hypercall). */
static unsigned char hypercall_page[4096] __attribute__((aligned(4096), section(".hypercall")));

#define XEN_SHUTDOWN_CRASH 3
#define HYPERVISOR_sched_op 29
#define SCHEDOP_shutdown 2
#define FREE_FRAME_BASE 0xE0000UL /* guest frames from 3.5 GiB: above RAM, below the MMIO hole */

/* struct hvm_start_info and struct hvm_memmap_table_entry (xen/arch-x86/hvm/start_info.h). */
struct hvm_start_info {
    unsigned int magic, version, flags, nr_modules;
    unsigned long long modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
    unsigned int memmap_entries, reserved;
};
struct hvm_memmap_entry {
    unsigned long long addr, size;
    unsigned int type, reserved;
};

static char command_line[1024];
static unsigned long free_start, free_end;

static inline void outb(unsigned short port, unsigned char value) {
    __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

static void cpuid(unsigned leaf, unsigned *a, unsigned *b, unsigned *c, unsigned *d) {
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

int arch_hardware_random(unsigned long long *value) {
    unsigned a, b, c, d;
    cpuid(1, &a, &b, &c, &d);
    if (!(c & (1u << 30))) return 0;
    for (int attempt = 0; attempt < 10; attempt++) {
        unsigned long long bits;
        unsigned char ok;
        __asm__ volatile("rdrand %0; setc %1" : "=r"(bits), "=qm"(ok) : : "cc");
        if (ok) {
            *value = bits;
            return 1;
        }
    }
    return 0;
}

static void print(const char *text) {
    while (*text) arch_debug_putc(*text++);
}

/* Finds Xen's CPUID leaves (0x40000000, or 0x40000100 when Viridian is on) and has Xen
 * write the hypercall page. */
static int install_hypercall_page(void) {
    for (unsigned base = 0x40000000; base < 0x40010000; base += 0x100) {
        unsigned a, b, c, d;
        cpuid(base, &a, &b, &c, &d);
        if (b == 0x566e6558 && c == 0x65584d4d && d == 0x4d4d566e && a >= base + 2) {
            cpuid(base + 2, &a, &b, &c, &d);
            unsigned long address = (unsigned long)hypercall_page;
            __asm__ volatile("wrmsr" : : "c"(b), "a"((unsigned)address), "d"((unsigned)(address >> 32)));
            return 1;
        }
    }
    return 0;
}

/* The free RAM: from above the image and what Xen placed after it (start_info, command line,
 * memory map) to the end of that RAM region. */
static void find_free_memory(const struct hvm_start_info *info) {
    unsigned long start = (unsigned long)__image_end;
    unsigned long ends[3] = {
        (unsigned long)info + sizeof *info,
        info->cmdline_paddr ? (unsigned long)info->cmdline_paddr + 1024 : 0,
        info->version >= 1 ? (unsigned long)info->memmap_paddr +
                                 info->memmap_entries * sizeof(struct hvm_memmap_entry)
                           : 0,
    };
    for (int i = 0; i < 3; i++)
        if (ends[i] > start && ends[i] < start + (16UL << 20)) start = ends[i];
    start = (start + 0xFFFF) & ~0xFFFFUL;
    unsigned long end = 0;
    if (info->version >= 1) {
        const struct hvm_memmap_entry *map = (const void *)(unsigned long)info->memmap_paddr;
        for (unsigned i = 0; i < info->memmap_entries; i++)
            if (map[i].type == 1 && map[i].addr <= start && map[i].addr + map[i].size > start)
                end = map[i].addr + map[i].size;
    }
    free_start = start;
    free_end = end > start ? end : start;
}

struct idt_entry {
    unsigned short offset_low, selector;
    unsigned char ist, flags;
    unsigned short offset_middle;
    unsigned int offset_high, reserved;
};
static struct idt_entry idt[32] __attribute__((aligned(16)));

static void install_idt(void) {
    for (int i = 0; i < 32; i++) {
        unsigned long handler = exception_stubs[i];
        idt[i] = (struct idt_entry){
            .offset_low = (unsigned short)handler,
            .selector = 0x08,
            .flags = 0x8E, /* present, interrupt gate */
            .offset_middle = (unsigned short)(handler >> 16),
            .offset_high = (unsigned int)(handler >> 32),
        };
    }
    struct __attribute__((packed)) {
        unsigned short limit;
        unsigned long base;
    } pointer = {sizeof idt - 1, (unsigned long)idt};
    __asm__ volatile("lidt %0" : : "m"(pointer));
}

void x86_start(void) {
    const struct hvm_start_info *info = (const void *)(unsigned long)pvh_start_info;
    install_idt();
    if (info->magic != 0x336ec578) {
        print("netstack unikernel: no hvm_start_info\n");
        arch_shutdown(XEN_SHUTDOWN_CRASH);
    }
    if (!install_hypercall_page()) {
        print("netstack unikernel: not running on Xen\n");
        for (;;) __asm__ volatile("cli; hlt");
    }
    if (info->cmdline_paddr) {
        const char *text = (const char *)(unsigned long)info->cmdline_paddr;
        for (unsigned i = 0; i < sizeof command_line - 1 && text[i]; i++) command_line[i] = text[i];
    }
    find_free_memory(info);
    unikernel_main();
}

void x86_exception(unsigned long vector, unsigned long error, unsigned long rip) {
    static const char *const names[32] = {
        [0] = "divide error (#DE)", [3] = "breakpoint (#BP)",
        [6] = "invalid opcode (#UD: a Swift trap)", [8] = "double fault (#DF)",
        [13] = "general protection fault (#GP)", [14] = "page fault (#PF)",
        [19] = "SIMD floating-point exception (#XM)",
    };
    (void)error;
    runtime_crash(names[vector & 31] ? names[vector & 31] : "CPU exception", rip);
}

long arch_hypercall(unsigned long op, unsigned long a1, unsigned long a2, unsigned long a3,
                    unsigned long a4, unsigned long a5) {
    register unsigned long r10 __asm__("r10") = a4;
    register unsigned long r8 __asm__("r8") = a5;
    long result;
    void *entry = hypercall_page + op * 32;
    __asm__ volatile("call *%[entry]"
                     : "=a"(result), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8)
                     : [entry] "c"(entry)
                     : "memory", "r9", "r11");
    return result;
}

/* struct vcpu_time_info of vCPU 0 in shared_info (xen/xen.h), at offset 32 of vcpu_info. */
unsigned long long arch_system_time_ns(void) {
    volatile unsigned char *time = (volatile unsigned char *)(arch_free_frame(0) << 12) + 32;
    unsigned version;
    unsigned long long stamp, system, tsc;
    unsigned multiplier;
    signed char shift;
    do {
        version = *(volatile unsigned *)time;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        stamp = *(volatile unsigned long long *)(time + 8);
        system = *(volatile unsigned long long *)(time + 16);
        multiplier = *(volatile unsigned *)(time + 24);
        shift = *(volatile signed char *)(time + 28);
        unsigned low, high;
        __asm__ volatile("rdtsc" : "=a"(low), "=d"(high));
        tsc = ((unsigned long long)high << 32) | low;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
    } while ((version & 1) || version != *(volatile unsigned *)time);
    unsigned long long delta = tsc - stamp;
    delta = shift < 0 ? delta >> -shift : delta << shift;
    return system + (unsigned long long)(((unsigned __int128)delta * multiplier) >> 32);
}

void arch_free_memory(unsigned long *start, unsigned long *end) {
    *start = free_start;
    *end = free_end;
}

const char *arch_command_line(void) { return command_line; }

unsigned long arch_free_frame(unsigned index) { return FREE_FRAME_BASE + index; }

void arch_debug_putc(char c) { outb(0xe9, (unsigned char)c); }

void arch_shutdown(unsigned reason) {
    unsigned argument = reason;
    arch_hypercall(HYPERVISOR_sched_op, SCHEDOP_shutdown, (unsigned long)&argument, 0, 0, 0);
    for (;;) __asm__ volatile("cli; hlt");
}
