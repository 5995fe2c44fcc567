/* The rest of what Embedded Swift asks of its platform (arc4random_buf, ceil, abort), and the
 * crash path every trap ends in. */
#include "runtime.h"

/* Hash seeds for Set and Dictionary (Swift's Hasher asks once, at its first use): the CPU's
 * random number generator (RDRAND, RNDR) when it has one, so that nobody outside can craft
 * 4-tuples that collide in the stack's tables; otherwise a fixed splitmix64 sequence. The
 * stack's own secrets (ISN and SYN-cookie keys) come from BootEntropy in the Swift program. */
void arc4random_buf(void *buffer, size_t count) {
    static unsigned long long state = 0x2545F4914F6CDD1DULL;
    unsigned char *bytes = buffer;
    while (count) {
        unsigned long long hardware;
        if (arch_hardware_random(&hardware)) state ^= hardware;
        unsigned long long z = (state += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        z ^= z >> 31;
        for (int i = 0; i < 8 && count; i++, count--) *bytes++ = (unsigned char)(z >> (8 * i));
    }
}

double ceil(double x) {
    if (!(x > -4503599627370496.0 && x < 4503599627370496.0)) return x; /* |x| >= 2^52, NaN */
    double truncated = (double)(long long)x;
    return truncated < x ? truncated + 1.0 : truncated;
}

static void print_text(const char *text) {
    while (*text) putchar(*text++);
}

static void print_hex(unsigned long value) {
    print_text("0x");
    for (int shift = 60; shift >= 0; shift -= 4) putchar("0123456789abcdef"[(value >> shift) & 15]);
}

void runtime_crash(const char *what, unsigned long pc) {
    static int crashing;
    if (!crashing) {
        crashing = 1;
        print_text("\nnetstack unikernel: CRASH: ");
        print_text(what);
        print_text(" at pc ");
        print_hex(pc);
        print_text("; shutting down (crash)\n");
    }
    arch_shutdown(3);
}

void abort(void) { runtime_crash("abort()", (unsigned long)__builtin_return_address(0)); }
