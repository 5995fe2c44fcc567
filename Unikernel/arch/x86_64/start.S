/*
 * x86_64 PVH start of day. Xen enters at pvh_start (XEN_ELFNOTE_PHYS32_ENTRY) in 32-bit
 * protected mode, paging off, %ebx = struct hvm_start_info (xen/arch-x86/hvm/start_info.h).
 * We zero .bss, identity-map 0-4 GiB with 2 MiB pages, enable PAE, long mode and SSE, load a
 * 64-bit GDT, and continue in C (x86_start) on our own stack.
 */
#define XEN_ELFNOTE_XEN_VERSION   5
#define XEN_ELFNOTE_GUEST_OS      6
#define XEN_ELFNOTE_GUEST_VERSION 7
#define XEN_ELFNOTE_PHYS32_ENTRY  18

#define ELFNOTE(type, desctype, descdata)           \
    .section .note.xen, "a";                        \
    .p2align 2;                                     \
    .long 4; .long 4f - 3f; .long type;             \
    .asciz "Xen";                                   \
    .p2align 2;                                     \
3:  desctype descdata;                              \
4:  .p2align 2;                                     \
    .previous

ELFNOTE(XEN_ELFNOTE_GUEST_OS, .asciz, "netstack")
ELFNOTE(XEN_ELFNOTE_GUEST_VERSION, .asciz, "0.1")
ELFNOTE(XEN_ELFNOTE_XEN_VERSION, .asciz, "xen-3.0")
ELFNOTE(XEN_ELFNOTE_PHYS32_ENTRY, .long, pvh_start)

    .section .text.boot, "ax"
    .code32
    .globl pvh_start
pvh_start:
    cld
    mov %ebx, %esi                      /* hvm_start_info, kept in %esi */

    /* Zero .bss (page tables and the stack are in it). */
    mov $__bss_start, %edi
    mov $__bss_end, %ecx
    sub %edi, %ecx
    xor %eax, %eax
    rep stosb
    mov %esi, pvh_start_info

    /* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 512 2 MiB pages each. */
    mov $pdpt, %eax
    or $0x3, %eax
    mov %eax, pml4
    mov $page_directories, %eax
    mov $pdpt, %edi
    mov $4, %ecx
1:  mov %eax, %edx
    or $0x3, %edx
    mov %edx, (%edi)
    add $4096, %eax
    add $8, %edi
    loop 1b
    mov $page_directories, %edi
    xor %eax, %eax                       /* physical address, low 32 bits */
    xor %edx, %edx                       /* high bits of the entry */
    mov $2048, %ecx
2:  mov %eax, %ebx
    or $0x83, %ebx                       /* present, writable, 2 MiB */
    mov %ebx, (%edi)
    mov %edx, 4(%edi)
    add $0x200000, %eax
    adc $0, %edx
    add $8, %edi
    loop 2b

    /* CR4: PAE, OSFXSR, OSXMMEXCPT. CR3. EFER.LME. CR0: PG, PE, MP; EM and TS clear. */
    mov %cr4, %eax
    or $((1 << 5) | (1 << 9) | (1 << 10)), %eax
    mov %eax, %cr4
    mov $pml4, %eax
    mov %eax, %cr3
    mov $0xC0000080, %ecx
    rdmsr
    or $(1 << 8), %eax
    wrmsr
    mov %cr0, %eax
    and $~((1 << 2) | (1 << 3)), %eax
    or $((1 << 31) | (1 << 0) | (1 << 1)), %eax
    mov %eax, %cr0

    lgdt gdt_pointer
    ljmp $0x08, $long_mode

    .code64
long_mode:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    lea stack_top(%rip), %rsp
    xor %ebp, %ebp
    fninit
    call x86_start
3:  hlt
    jmp 3b

/* Exception stubs: push a zero error code where the CPU pushes none, then the vector. */
.macro EXCEPTION vector
    .p2align 4
exception_\vector:
    .if !(\vector == 8 || (\vector >= 10 && \vector <= 14) || \vector == 17 || \vector == 21 || \vector == 29 || \vector == 30)
    push $0
    .endif
    push $\vector
    jmp exception_common
.endm

    .text
    .altmacro
.set i, 0
.rept 32
    EXCEPTION %i
    .set i, i+1
.endr

exception_common:
    mov (%rsp), %rdi                     /* vector */
    mov 8(%rsp), %rsi                    /* error code */
    mov 16(%rsp), %rdx                   /* rip */
    and $-16, %rsp
    call x86_exception
4:  hlt
    jmp 4b

.macro STUB_ADDRESS vector
    .quad exception_\vector
.endm
    .section .rodata
    .globl exception_stubs
    .p2align 3
exception_stubs:
.set i, 0
.rept 32
    STUB_ADDRESS %i
    .set i, i+1
.endr

    .section .rodata
    .p2align 3
gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF             /* 0x08: 64-bit code */
    .quad 0x00CF92000000FFFF             /* 0x10: data */
gdt_end:
gdt_pointer:
    .word gdt_end - gdt - 1
    .quad gdt

    .bss
    .p2align 12
pml4:
    .skip 4096
pdpt:
    .skip 4096
page_directories:
    .skip 4 * 4096
    .globl pvh_start_info
pvh_start_info:
    .skip 8
    .p2align 4
stack:
    .skip 256 * 1024
stack_top:
