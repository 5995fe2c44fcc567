// TEMPORARY minimal runtime for the arm64 probe only (the shared one, Unikernel/runtime, did not
// exist yet when the probe was written): a bump allocator over arch_free_memory that never
// frees, and the memory and string functions Embedded Swift and clang ask for.
#include <stddef.h>
#include <stdint.h>

void arch_free_memory(unsigned long *start, unsigned long *end);
void arch_debug_putc(char c);
void arch_shutdown(unsigned reason) __attribute__((noreturn));
void runtime_crash(const char *what, unsigned long pc) __attribute__((noreturn));

static uintptr_t heap_next, heap_end;

int posix_memalign(void **out, size_t align, size_t size) {
  if (heap_end == 0) arch_free_memory((unsigned long *)&heap_next, (unsigned long *)&heap_end);
  if (align < 16) align = 16;
  uintptr_t p = (heap_next + align - 1) & ~(uintptr_t)(align - 1);
  if (p + size > heap_end) return 12;
  heap_next = p + size;
  *out = (void *)p;
  return 0;
}
void *malloc(size_t n) { void *p; return posix_memalign(&p, 16, n) ? 0 : p; }
void *memset(void *d, int c, size_t n) { unsigned char *p = d; while (n--) *p++ = (unsigned char)c; return d; }
void *calloc(size_t a, size_t b) { void *p = malloc(a * b); if (p) memset(p, 0, a * b); return p; }
void free(void *p) { (void)p; }
void *memcpy(void *d, const void *s, size_t n) { unsigned char *a = d; const unsigned char *b = s; while (n--) *a++ = *b++; return d; }
void *memmove(void *d, const void *s, size_t n) {
  unsigned char *a = d; const unsigned char *b = s;
  if (a < b) while (n--) *a++ = *b++; else while (n--) a[n] = b[n];
  return d;
}
int memcmp(const void *x, const void *y, size_t n) {
  const unsigned char *a = x, *b = y;
  for (; n; n--, a++, b++) if (*a != *b) return *a - *b;
  return 0;
}
size_t strlen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }
int putchar(int c) { arch_debug_putc((char)c); return c; }
void arc4random_buf(void *buf, size_t n) { unsigned char *p = buf; static uint64_t x = 88172645463325252ull; while (n--) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; *p++ = (unsigned char)x; } }
double ceil(double x) { long i = (long)x; return (double)i < x ? (double)(i + 1) : (double)i; }
void abort(void) { runtime_crash("abort()", (unsigned long)__builtin_return_address(0)); }
void runtime_crash(const char *what, unsigned long pc) {
  const char *m = "\nprobe: CRASH: ";
  while (*m) arch_debug_putc(*m++);
  while (*what) arch_debug_putc(*what++);
  m = " at pc 0x";
  while (*m) arch_debug_putc(*m++);
  for (int i = 60; i >= 0; i -= 4) arch_debug_putc("0123456789abcdef"[(pc >> i) & 15]);
  arch_debug_putc('\n');
  arch_shutdown(3);
}
