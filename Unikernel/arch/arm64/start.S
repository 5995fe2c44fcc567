// Start of day for the unikernel as a Xen arm64 guest (see ../ABI.md and README.md here).
//
// xl loads this file as an arm64 Linux "Image" (the 64-byte header below) at guest RAM base
// (0x40000000, GUEST_RAM0_BASE) + text_offset and enters at its first byte in EL1h, MMU and
// D-cache off, DAIF masked, x0 = guest-physical address of the device tree.
//
// What happens here, in order:
//   1. check that we run where we were linked (0x40080000); if not, SCHEDOP_shutdown(crash);
//   2. FP/SIMD on (CPACR_EL1.FPEN = 0b11): Swift code uses the SIMD registers;
//   3. exception vectors (VBAR_EL1) that print the syndrome and shut the guest down (crash);
//   4. identity-mapped page tables (4 KiB granule, 39-bit VA, starting at level 1) and the
//      MMU with data and instruction caches on:
//        0x00000000-0x37ffffff  Device-nGnRnE, never executable (GIC, vPL011, ...)
//        0x38000000-0x3fffffff  Normal write-back (GUEST_GNTTAB_BASE, GUEST_MAGIC_BASE: the
//                               grant-table/shared_info frames and the xenstore and console
//                               rings, which Xen and dom0 map cacheable)
//        0x40000000-0xffffffff  Normal write-back (GUEST_RAM0: 3 GiB of low RAM)
//      Normal memory is needed for unaligned accesses and for the exclusive/atomic
//      instructions the Synchronization atomics compile to: with the MMU off every data access
//      is Device-nGnRnE, where both fault or are UNPREDICTABLE;
//   5. a 256 KiB stack, .bss zeroed (with the caches on);
//   6. arch_init(device tree) in C (arch.c), then unikernel_main(), which must not return (if
//      it does, the guest powers off).

#define XEN_HYPERCALL_TAG   0xEA1
#define __HYPERVISOR_sched_op 29
#define SCHEDOP_shutdown    2
#define SHUTDOWN_crash      3

#define PT_TABLE    0x3
#define PT_BLOCK    0x1
#define PT_AF       (1 << 10)
#define PT_SH_INNER (3 << 8)
#define PT_ATTR(n)  ((n) << 2)
#define PT_XN       (3 << 53)                       // PXN | UXN
#define PT_NORMAL   (PT_BLOCK | PT_AF | PT_SH_INNER | PT_ATTR(1))
#define PT_DEVICE   (PT_BLOCK | PT_AF | PT_ATTR(0))

// MAIR: attr0 Device-nGnRnE, attr1 Normal inner/outer write-back read/write-allocate
#define MAIR_VALUE  0xff00
// TCR: T0SZ=25 (39-bit VA: walks start at level 1), IRGN0=ORGN0=WB WA, SH0 inner shareable,
// TG0 4 KiB, EPD1 (no TTBR1 walks), TG1 4 KiB, IPS 40 bits
#define TCR_VALUE   (25 | (1 << 8) | (1 << 10) | (3 << 12) | (1 << 23) | (2 << 30) | (2 << 32))
#define SCTLR_M     (1 << 0)
#define SCTLR_A     (1 << 1)
#define SCTLR_C     (1 << 2)
#define SCTLR_I     (1 << 12)

  .section .text.head, "ax"
  .globl _start
_start:
  // ---- arm64 Image header (Documentation/arch/arm64/booting.rst) ----
  b     start_of_day            // code0
  .long 0                       // code1
  .quad 0x80000                 // text_offset: loaded at RAM base + 512 KiB (link address)
  .quad _image_end - _start     // image_size: everything including .bss, stack, page tables
  .quad (1 << 1)                // flags: little endian, 4 KiB pages, placed at text_offset
  .quad 0                       // res2
  .quad 0                       // res3
  .quad 0                       // res4
  .ascii "ARM\x64"              // magic
  .long 0                       // res5 (no PE header)

start_of_day:
  mov   x19, x0                 // device tree

  // 1. running at the link address?
  adr   x1, _start
  ldr   x2, =_start
  cmp   x1, x2
  b.ne  crash_early

  // 2. FP/SIMD at EL1 and EL0 without traps
  mov   x1, #(3 << 20)
  msr   cpacr_el1, x1
  isb

  // 3. exception vectors
  adr   x1, vectors
  msr   vbar_el1, x1

  // 4. page tables (written with the MMU and D-cache off: straight to memory)
  adrp  x20, page_table_l1
  add   x20, x20, :lo12:page_table_l1
  adrp  x21, page_table_l2_low
  add   x21, x21, :lo12:page_table_l2_low
  // zero both pages
  mov   x1, x20
  add   x2, x20, #(2 * 4096)
1: stp  xzr, xzr, [x1], #16
  cmp   x1, x2
  b.lo  1b
  // L1[0] -> L2 table for the first GiB
  orr   x1, x21, #PT_TABLE
  str   x1, [x20]
  // L1[1..3]: 1 GiB normal blocks for 0x40000000-0xffffffff
  mov   x3, #1
2: lsl  x1, x3, #30
  ldr   x2, =PT_NORMAL
  orr   x1, x1, x2
  str   x1, [x20, x3, lsl #3]
  add   x3, x3, #1
  cmp   x3, #4
  b.lo  2b
  // L2[i], i < 0x1c0 (below 0x38000000): device, never executable; the rest normal
  mov   x3, #0
3: lsl  x1, x3, #21
  cmp   x3, #0x1c0
  b.hs  4f
  ldr   x2, =(PT_DEVICE | PT_XN)
  b     5f
4: ldr  x2, =PT_NORMAL
5: orr  x1, x1, x2
  str   x1, [x21, x3, lsl #3]
  add   x3, x3, #1
  cmp   x3, #512
  b.lo  3b
  // no stale cache lines over the tables (the walker reads them write-back cacheable)
  mov   x1, x20
  add   x2, x20, #(2 * 4096)
6: dc   ivac, x1
  add   x1, x1, #64
  cmp   x1, x2
  b.lo  6b
  dsb   sy

  ldr   x1, =MAIR_VALUE
  msr   mair_el1, x1
  ldr   x1, =TCR_VALUE
  msr   tcr_el1, x1
  msr   ttbr0_el1, x20
  isb
  tlbi  vmalle1
  ic    iallu
  dsb   nsh
  isb
  mrs   x1, sctlr_el1
  orr   x1, x1, #SCTLR_M
  orr   x1, x1, #SCTLR_C
  orr   x1, x1, #SCTLR_I
  bic   x1, x1, #SCTLR_A        // unaligned accesses allowed (on normal memory)
  msr   sctlr_el1, x1
  isb

  // 5. stack and .bss
  adrp  x1, stack_top
  add   x1, x1, :lo12:stack_top
  mov   sp, x1
  adrp  x1, __bss_start
  add   x1, x1, :lo12:__bss_start
  adrp  x2, __bss_end
  add   x2, x2, :lo12:__bss_end
7: cmp  x1, x2
  b.hs  8f
  str   xzr, [x1], #8
  b     7b
8:
  // 6. C, then Swift
  mov   x0, x19
  bl    arch_init
  bl    unikernel_main
  mov   x0, #0                  // returned: power off
  bl    arch_shutdown
  b     .

crash_early:
  sub   sp, sp, #16             // struct sched_shutdown on whatever stack there is: unusable
  mov   x0, #SHUTDOWN_crash     // with the MMU off anyway, so spin if Xen refuses
  str   w0, [sp]
  mov   x0, #SCHEDOP_shutdown
  mov   x1, sp
  mov   x16, #__HYPERVISOR_sched_op
  hvc   #XEN_HYPERCALL_TAG
  b     .

  // ---- exception vectors: every entry saves its number and calls arch_exception ----
  .macro vector n
  .balign 0x80
  mov   x0, #\n
  b     exception_common
  .endm

  .balign 0x800
vectors:
  vector 0
  vector 1
  vector 2
  vector 3
  vector 4
  vector 5
  vector 6
  vector 7
  vector 8
  vector 9
  vector 10
  vector 11
  vector 12
  vector 13
  vector 14
  vector 15

exception_common:
  mrs   x1, esr_el1
  mrs   x2, elr_el1
  mrs   x3, far_el1
  mov   x4, sp
  adrp  x5, stack_top           // a known-good stack (the fault may be a stack overflow)
  add   x5, x5, :lo12:stack_top
  mov   sp, x5
  bl    arch_exception          // prints and shuts down (crash); does not return
  b     .

  .ltorg

  .section .pagetables, "aw", %nobits
  .balign 4096
page_table_l1:
  .space 4096
page_table_l2_low:
  .space 4096

  .section .stack, "aw", %nobits
  .balign 16
stack_bottom:
  .space 256 * 1024
stack_top:
  .globl stack_bottom
