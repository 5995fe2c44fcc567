// The arm64 functions of ../ABI.md: hypercalls, the generic timer, free memory and the command
// line from the device tree, free frames above RAM, early console output and shutdown.
// Freestanding C: no libc, nothing but what is defined here.

#include <stdint.h>
#include <stddef.h>

#define __HYPERVISOR_console_io        18
#define __HYPERVISOR_sched_op          29
#define __HYPERVISOR_event_channel_op  32
#define __HYPERVISOR_hvm_op            34
#define CONSOLEIO_write                0
#define SCHEDOP_yield                  0
#define SCHEDOP_shutdown               2
#define SCHEDOP_poll                   3
#define EVTCHNOP_send                  4
#define HVMOP_get_param                1
#define HVM_PARAM_CONSOLE_PFN          17
#define HVM_PARAM_CONSOLE_EVTCHN       18
#define DOMID_SELF                     0x7ff0
#define SHUTDOWN_crash                 3

// xen/arch-arm.h
#define GUEST_RAM0_BASE   0x40000000ul
#define GUEST_RAM0_SIZE   0xc0000000ul
#define GUEST_GNTTAB_BASE 0x38000000ul
#define GUEST_GNTTAB_SIZE 0x01000000ul

// Symbols of start.S and link.ld.
extern char _start[], _image_end[];

long arch_hypercall(unsigned long op, unsigned long a1, unsigned long a2, unsigned long a3,
                    unsigned long a4, unsigned long a5);
void arch_shutdown(unsigned reason) __attribute__((noreturn));
void arch_debug_putc(char c);

// ---- hypercalls: hvc #0xEA1, x16 = op, arguments x0-x4, result x0; Xen may clobber x0-x4
// and x16 (a debug Xen writes poison there) ----
long arch_hypercall(unsigned long op, unsigned long a1, unsigned long a2, unsigned long a3,
                    unsigned long a4, unsigned long a5) {
  register unsigned long x16 __asm__("x16") = op;
  register unsigned long x0 __asm__("x0") = a1;
  register unsigned long x1 __asm__("x1") = a2;
  register unsigned long x2 __asm__("x2") = a3;
  register unsigned long x3 __asm__("x3") = a4;
  register unsigned long x4 __asm__("x4") = a5;
  __asm__ volatile("hvc #0xEA1"
                   : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4), "+r"(x16)
                   :
                   : "memory");
  return (long)x0;
}

// ---- the CPU's random number generator (FEAT_RNG) ----
int arch_hardware_random(unsigned long long *value) {
  uint64_t features;
  __asm__ volatile("mrs %0, id_aa64isar0_el1" : "=r"(features));
  if (((features >> 60) & 0xf) == 0) return 0;
  for (int attempt = 0; attempt < 10; attempt++) {
    uint64_t bits, flags;
    // RNDR (s3_3_c2_c4_0): NZCV is 0000 on success, 0100 (Z) when no number was ready.
    __asm__ volatile("mrs %0, s3_3_c2_c4_0; mrs %1, nzcv" : "=r"(bits), "=r"(flags)::"cc");
    if ((flags & (1ull << 30)) == 0) {
      *value = bits;
      return 1;
    }
  }
  return 0;
}

// ---- the generic timer ----
static inline uint64_t read_cntvct(void) {
  uint64_t v;
  __asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v)::"memory");
  return v;
}
static inline uint64_t read_cntfrq(void) {
  uint64_t v;
  __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(v));
  return v;
}

static uint64_t counter_frequency;

static uint64_t ticks_to_ns(uint64_t ticks) {
  uint64_t f = counter_frequency;
  return (ticks / f) * 1000000000ull + ((ticks % f) * 1000000000ull) / f;
}

// Xen's system time on arm is the physical counter since Xen booted, in ns. The guest's
// virtual counter is the physical counter minus CNTVOFF, which Xen sets to the physical
// counter when the domain was created, so the virtual counter alone runs seconds behind Xen's
// clock, and SCHEDOP_poll deadlines (absolute Xen system time) computed from it would be in
// the past: every poll would return at once. The difference is measured once at start of day
// (calibrate_xen_time): Xen time = ticks_to_ns(CNTVCT) + xen_time_offset_ns.
static uint64_t xen_time_offset_ns;
static uint64_t calibration_ns, calibration_samples;
static int64_t calibration_sample[16];
long long arch_calibration_sample(unsigned i) { return calibration_sample[i & 15]; }

unsigned long long arch_system_time_ns(void) {
  return ticks_to_ns(read_cntvct()) + xen_time_offset_ns;
}

// diagnostics
unsigned long long arch_xen_time_offset_ns(void) { return xen_time_offset_ns; }
unsigned long long arch_calibration_ns(void) { return calibration_ns; }
unsigned long long arch_calibration_samples(void) { return calibration_samples; }

#define __HYPERVISOR_vcpu_op                      24
#define VCPUOP_register_runstate_memory_area      5

// struct vcpu_runstate_info (xen/vcpu.h): Xen writes it whenever this vCPU is switched in,
// state_entry_time being Xen's system time at that switch.
static struct {
  int32_t state;
  int32_t pad;
  volatile uint64_t state_entry_time;
  uint64_t time[4];
} runstate __attribute__((aligned(64)));

// Each sample blocks this vCPU in SCHEDOP_poll, so that Xen switches it out and in again and
// writes the runstate area: state_entry_time - (our clock just after) <= the offset, with
// equality but for the time from that switch to our reading. The largest sample is the offset;
// our clock then lags Xen's by that latency (tens to hundreds of microseconds under TCG), so
// SCHEDOP_poll deadlines fire that much late, never early.
//
// To block for sure without waiting long, the poll's deadline is 50 ms ahead of the estimate
// so far (which is never ahead of Xen's clock), and the guest's virtual timer, armed 200 us
// ahead (enabled; the interrupt stays masked at the CPU), ends it early: Xen injects the
// timer's interrupt, which unblocks the vCPU. Without that (another Xen), a sample costs the
// 50 ms. The timer is disabled afterwards. (A poll with a deadline already past returns without
// a switch, and state_entry_time is then stale: only the first sample can be, when the
// estimate is still 0, and it only gives the starting estimate.)
static void calibrate_xen_time(void) {
  uint64_t start = read_cntvct();
  uint64_t handle = (uint64_t)(uintptr_t)&runstate;   // vcpu_register_runstate_memory_area
  if (arch_hypercall(__HYPERVISOR_vcpu_op, VCPUOP_register_runstate_memory_area, 0,
                     (unsigned long)&handle, 0, 0) != 0)
    return;   // offset 0: our clock is behind Xen's by the domain's creation time
  int64_t best = (int64_t)(runstate.state_entry_time & ~(1ull << 63)) -
                 (int64_t)ticks_to_ns(read_cntvct());
  uint64_t escape = counter_frequency / 5000;   // 200 us
  for (int i = 0; i < 6; i++) {
    uint64_t guess = ticks_to_ns(read_cntvct()) + (best > 0 ? (uint64_t)best : 0);
    struct { uint64_t ports; uint32_t nr_ports; uint32_t pad; uint64_t timeout; } poll = {
        0, 0, 0, guess + 50000000};
    uint64_t cval = read_cntvct() + escape;
    __asm__ volatile("msr cntv_cval_el0, %0; msr cntv_ctl_el0, %1; isb" ::"r"(cval), "r"(1ul));
    arch_hypercall(__HYPERVISOR_sched_op, SCHEDOP_poll, (unsigned long)&poll, 0, 0, 0);
    int64_t sample = (int64_t)(runstate.state_entry_time & ~(1ull << 63)) -
                     (int64_t)ticks_to_ns(read_cntvct());
    __asm__ volatile("msr cntv_ctl_el0, xzr; isb");
    if (sample > best) best = sample;
    calibration_sample[calibration_samples++ & 15] = sample;
  }
  if (best > 0) xen_time_offset_ns = (uint64_t)best;
  calibration_ns = ticks_to_ns(read_cntvct() - start);
}

// ---- flattened device tree (big-endian) ----
#define FDT_MAGIC      0xd00dfeed
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE   2
#define FDT_PROP       3
#define FDT_NOP        4
#define FDT_END        9

static inline uint32_t be32(const void *p) {
  const uint8_t *b = p;
  return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}
static uint64_t be_cells(const uint8_t *p, uint32_t cells) {
  uint64_t v = 0;
  for (uint32_t i = 0; i < cells; i++) v = (v << 32) | be32(p + 4 * i);
  return v;
}
static int str_eq(const char *a, const char *b) {
  while (*a && *a == *b) { a++; b++; }
  return *a == *b;
}
static int node_is(const char *name, const char *base) {  // "memory" or "memory@..."
  while (*base && *name == *base) { name++; base++; }
  return *base == 0 && (*name == 0 || *name == '@');
}

static char command_line[2048];
static uint64_t ram_start, ram_end;           // first /memory range
static uint64_t dtb_start, dtb_end;
static uint64_t initrd_start, initrd_end;
static uint64_t free_start, free_end;
static int fdt_ok;

static void parse_fdt(const uint8_t *fdt) {
  if (!fdt || be32(fdt) != FDT_MAGIC) return;
  uint32_t total = be32(fdt + 4);
  const uint8_t *structs = fdt + be32(fdt + 8);
  const char *strings = (const char *)fdt + be32(fdt + 12);
  uint32_t struct_size = be32(fdt + 36);
  dtb_start = (uint64_t)fdt;
  dtb_end = dtb_start + total;
  fdt_ok = 1;

  uint32_t address_cells = 2, size_cells = 1;   // the root's, which /memory and /chosen use
  int depth = 0;
  enum { OTHER, CHOSEN, MEMORY } in = OTHER;
  const uint8_t *p = structs, *end = structs + struct_size;
  while (p < end) {
    uint32_t token = be32(p);
    p += 4;
    if (token == FDT_BEGIN_NODE) {
      const char *name = (const char *)p;
      size_t n = 0;
      while (name[n]) n++;
      p += (n + 1 + 3) & ~(size_t)3;
      depth++;
      if (depth == 2) in = str_eq(name, "chosen") ? CHOSEN : node_is(name, "memory") ? MEMORY : OTHER;
    } else if (token == FDT_END_NODE) {
      if (depth == 2) in = OTHER;
      depth--;
    } else if (token == FDT_PROP) {
      uint32_t len = be32(p), nameoff = be32(p + 4);
      const uint8_t *value = p + 8;
      const char *name = strings + nameoff;
      p += 8 + ((len + 3) & ~3u);
      if (depth == 1) {
        if (str_eq(name, "#address-cells")) address_cells = be32(value);
        else if (str_eq(name, "#size-cells")) size_cells = be32(value);
      } else if (depth == 2 && in == CHOSEN) {
        if (str_eq(name, "bootargs")) {
          uint32_t i = 0;
          for (; i < len && i < sizeof command_line - 1 && value[i]; i++) command_line[i] = value[i];
          command_line[i] = 0;
        } else if (str_eq(name, "linux,initrd-start")) {
          initrd_start = be_cells(value, len / 4);
        } else if (str_eq(name, "linux,initrd-end")) {
          initrd_end = be_cells(value, len / 4);
        }
      } else if (depth == 2 && in == MEMORY && str_eq(name, "reg") && ram_end == 0 &&
                 len >= 4 * (address_cells + size_cells)) {
        ram_start = be_cells(value, address_cells);
        ram_end = ram_start + be_cells(value + 4 * address_cells, size_cells);
      }
    } else if (token == FDT_NOP) {
      continue;
    } else {
      break;   // FDT_END or garbage
    }
  }
}

// Picks the largest piece of the first RAM range that holds neither the image (with .bss, the
// stack and the page tables) nor the device tree nor an initrd.
static void choose_free_memory(void) {
  uint64_t image_start = (uint64_t)_start, image_end = (uint64_t)_image_end;
  uint64_t lo = ram_start, hi = ram_end;
  if (!fdt_ok || hi <= lo) {
    // No usable /memory: what xl always gives, 128 MiB from RAM base (the device tree and
    // initrd are placed at RAM base + 128 MiB when the guest has more than that).
    lo = GUEST_RAM0_BASE;
    hi = GUEST_RAM0_BASE + (128ul << 20);
  }
  // holes, sorted by start (at most three)
  uint64_t hs[3][2] = {{image_start, image_end}, {dtb_start, dtb_end}, {initrd_start, initrd_end}};
  for (int i = 0; i < 3; i++)
    for (int j = i + 1; j < 3; j++)
      if (hs[j][0] < hs[i][0]) {
        uint64_t a = hs[i][0], b = hs[i][1];
        hs[i][0] = hs[j][0]; hs[i][1] = hs[j][1];
        hs[j][0] = a; hs[j][1] = b;
      }
  uint64_t best_s = 0, best_e = 0, cur = lo;
  for (int i = 0; i <= 3; i++) {
    uint64_t s = cur, e = hi;
    if (i < 3 && hs[i][1] > hs[i][0]) {
      e = hs[i][0] < hi ? hs[i][0] : hi;
    } else if (i < 3) {
      continue;
    }
    s = (s + 4095) & ~4095ul;
    e &= ~4095ul;
    if (e > s && e - s > best_e - best_s) { best_s = s; best_e = e; }
    if (i < 3 && hs[i][1] > cur) cur = hs[i][1];
  }
  free_start = best_s;
  free_end = best_e;
}

void arch_init(const void *fdt) {
  counter_frequency = read_cntfrq();
  if (counter_frequency == 0) counter_frequency = 62500000;   // QEMU virt's
  parse_fdt(fdt);
  choose_free_memory();
  calibrate_xen_time();
}

void arch_free_memory(unsigned long *start, unsigned long *end) {
  *start = free_start;
  *end = free_end;
}

const char *arch_command_line(void) { return command_line; }

// GUEST_GNTTAB_BASE region: 16 MiB (4096 frames) above nothing, mapped normal cacheable by
// start.S, where Xen maps what XENMEM_add_to_physmap asks for.
unsigned long arch_free_frame(unsigned index) {
  if ((unsigned long)index >= GUEST_GNTTAB_SIZE / 4096) return 0;
  return (GUEST_GNTTAB_BASE >> 12) + index;
}

// ---- console: HYPERVISOR_console_io while Xen accepts it, else the PV console ring ----
//
// The shared runtime's putchar writes every character to arch_debug_putc and, once the Swift
// program has attached the PV console ring, to that ring too. So that a line does not appear
// twice there, the ring fallback here keeps a line in a buffer and writes it at '\n' only
// while nobody else has written the ring since our last line; as soon as someone has (the
// runtime's putchar, which wrote the same characters), it stops for good.
struct xen_hvm_param { uint16_t domid; uint16_t pad; uint32_t index; uint64_t value; };

static long get_hvm_param(uint32_t index, uint64_t *value) {
  struct xen_hvm_param p = {.domid = DOMID_SELF, .index = index};
  long rc = arch_hypercall(__HYPERVISOR_hvm_op, HVMOP_get_param, (unsigned long)&p, 0, 0, 0);
  *value = p.value;
  return rc;
}

// struct xencons_interface (xen/io/console.h)
struct xencons {
  char in[1024];
  char out[2048];
  volatile uint32_t in_cons, in_prod, out_cons, out_prod;
};

enum { CONSOLE_UNKNOWN, CONSOLE_IO, CONSOLE_RING, CONSOLE_NONE };
static int console_mode;
static struct xencons *console_ring;
static uint32_t console_port;
static uint32_t ring_last_prod;        // out_prod after our last line
static char line[256];
static uint32_t line_length;
static long console_io_result = 1;     // what the first CONSOLEIO_write returned

long arch_console_io_result(void) { return console_io_result; }
int arch_console_mode(void) { return console_mode; }

static void ring_notify(void) {
  uint32_t port = console_port;
  arch_hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_send, (unsigned long)&port, 0, 0, 0);
}

static void ring_write_line(void) {
  struct xencons *r = console_ring;
  uint32_t prod = r->out_prod;
  if (prod != ring_last_prod) {   // another writer: the runtime's console is attached
    console_mode = CONSOLE_NONE;
    line_length = 0;
    return;
  }
  for (uint32_t i = 0; i < line_length; i++) {
    for (int tries = 0; prod - r->out_cons >= sizeof r->out; tries++) {
      if (tries > 1000) goto done;   // xenconsoled is not reading: drop the rest
      ring_notify();
      arch_hypercall(__HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0, 0, 0);
    }
    r->out[prod & (sizeof r->out - 1)] = line[i];
    prod++;
  }
done:
  __asm__ volatile("dmb ish" ::: "memory");   // data before the index
  r->out_prod = prod;
  ring_last_prod = prod;
  line_length = 0;
  ring_notify();
}

static void console_setup(void) {
  char probe = 0;   // a zero-length write: whether Xen lets this domain write its console
  console_io_result =
      arch_hypercall(__HYPERVISOR_console_io, CONSOLEIO_write, 0, (unsigned long)&probe, 0, 0);
  if (console_io_result == 0) {
    console_mode = CONSOLE_IO;
    return;
  }
  uint64_t pfn = 0, port = 0;
  if (get_hvm_param(HVM_PARAM_CONSOLE_PFN, &pfn) == 0 && pfn != 0 &&
      get_hvm_param(HVM_PARAM_CONSOLE_EVTCHN, &port) == 0) {
    console_ring = (struct xencons *)(uintptr_t)(pfn << 12);
    console_port = (uint32_t)port;
    ring_last_prod = console_ring->out_prod;
    console_mode = CONSOLE_RING;
    return;
  }
  console_mode = CONSOLE_NONE;
}

void arch_debug_putc(char c) {
  if (console_mode == CONSOLE_UNKNOWN) console_setup();
  if (console_mode == CONSOLE_IO) {
    arch_hypercall(__HYPERVISOR_console_io, CONSOLEIO_write, 1, (unsigned long)&c, 0, 0);
  } else if (console_mode == CONSOLE_RING) {
    line[line_length++] = c;
    if (c == '\n' || line_length == sizeof line) ring_write_line();
  }
}

// Writes out a partial line and waits a little for xenconsoled to take what the ring holds.
static void console_flush(void) {
  if (console_mode == CONSOLE_RING && line_length > 0) ring_write_line();
  if (console_ring == 0) return;
  ring_notify();
  for (int i = 0; i < 1000 && console_ring->out_cons != console_ring->out_prod; i++)
    arch_hypercall(__HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0, 0, 0);
}

void arch_shutdown(unsigned reason) {
  console_flush();
  uint32_t r = reason;
  for (;;) arch_hypercall(__HYPERVISOR_sched_op, SCHEDOP_shutdown, (unsigned long)&r, 0, 0, 0);
}

// ---- exceptions (start.S's vectors): a Swift trap is `brk #1` (ESR class 0x3c) ----
int putchar(int c);                                                          // shared runtime
void runtime_crash(const char *what, unsigned long pc) __attribute__((noreturn));   // same

static void puts_(const char *s) { while (*s) putchar(*s++); }
static void puthex(uint64_t v) {
  puts_("0x");
  for (int i = 60; i >= 0; i -= 4) putchar("0123456789abcdef"[(v >> i) & 15]);
}

void arch_exception(uint64_t vector, uint64_t esr, uint64_t elr, uint64_t far, uint64_t sp) {
  static const char *const kinds[4] = {"synchronous", "IRQ", "FIQ", "SError"};
  static const char *const origins[4] = {"EL1 SP0", "EL1", "EL0 AArch64", "EL0 AArch32"};
  uint32_t class = (uint32_t)(esr >> 26) & 0x3f;
  puts_("\nunikernel: ");
  puts_(kinds[vector & 3]);
  puts_(" exception from ");
  puts_(origins[(vector >> 2) & 3]);
  puts_(": ESR ");
  puthex(esr);
  puts_(" FAR ");
  puthex(far);
  puts_(" SP ");
  puthex(sp);
  puts_("\n");
  const char *what = class == 0x3c ? "Swift trap (brk)"
                   : class == 0x25 ? "data abort"
                   : class == 0x21 ? "instruction abort"
                   : class == 0x22 ? "PC alignment fault"
                   : class == 0x26 ? "SP alignment fault"
                   : class == 0x00 ? "undefined instruction"
                   : "CPU exception";
  runtime_crash(what, elr);
}
