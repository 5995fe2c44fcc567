/* The memory and string functions compiled Swift code calls. Plain loops: the compiler is
 * told not to turn them back into calls to themselves (-fno-builtin). */
#include "runtime.h"

void *memset(void *destination, int value, size_t count) {
    unsigned char *d = destination;
    while (count--) *d++ = (unsigned char)value;
    return destination;
}

void *memcpy(void *destination, const void *source, size_t count) {
    unsigned char *d = destination;
    const unsigned char *s = source;
    if ((((unsigned long)d | (unsigned long)s | count) & 7) == 0) {
        unsigned long *dw = destination;
        const unsigned long *sw = source;
        for (count /= 8; count; count--) *dw++ = *sw++;
        return destination;
    }
    while (count--) *d++ = *s++;
    return destination;
}

void *memmove(void *destination, const void *source, size_t count) {
    unsigned char *d = destination;
    const unsigned char *s = source;
    if (d <= s || d >= s + count) return memcpy(destination, source, count);
    while (count--) d[count] = s[count];
    return destination;
}

int memcmp(const void *a, const void *b, size_t count) {
    const unsigned char *x = a, *y = b;
    for (; count; count--, x++, y++)
        if (*x != *y) return *x - *y;
    return 0;
}

size_t strlen(const char *text) {
    size_t length = 0;
    while (text[length]) length++;
    return length;
}
