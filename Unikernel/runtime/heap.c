/*
 * The unikernel's heap: malloc, calloc, realloc, posix_memalign and free over the free RAM the
 * architecture reports (arch_free_memory). A first-fit list of free blocks kept in address
 * order, split on allocation and merged with both neighbours on free, so memory really comes
 * back. Single-threaded (the unikernel has one vCPU and no interrupts).
 *
 * Every block starts with its size (16-byte multiple, header included). A free block keeps
 * the next free block's address in its second word. In a used block, the 8 bytes just before
 * the pointer handed out hold the distance back to the block's start (16 for malloc, more
 * when posix_memalign moved the pointer up to an alignment).
 */
#include "runtime.h"

struct free_block {
    size_t size;
    struct free_block *next;
};

static struct free_block *free_list;
static size_t heap_size, heap_in_use;
static int heap_ready;

static void heap_init(void) {
    unsigned long start, end;
    arch_free_memory(&start, &end);
    start = (start + 15) & ~15UL;
    end &= ~15UL;
    heap_ready = 1;
    if (end <= start + 64) return;
    free_list = (struct free_block *)start;
    free_list->size = end - start;
    free_list->next = 0;
    heap_size = end - start;
}

static void *allocate(size_t size, size_t alignment) {
    if (!heap_ready) heap_init();
    if (alignment < 16) alignment = 16;
    if (size > (1UL << 40) || alignment > (1UL << 20)) return 0;
    size_t need = ((size + 15) & ~15UL) + 16 + (alignment > 16 ? alignment : 0);
    struct free_block **link = &free_list;
    for (struct free_block *block = free_list; block; link = &block->next, block = block->next) {
        if (block->size < need) continue;
        if (block->size - need >= 64) {
            struct free_block *rest = (struct free_block *)((char *)block + need);
            rest->size = block->size - need;
            rest->next = block->next;
            block->size = need;
            *link = rest;
        } else {
            *link = block->next;
        }
        unsigned long user = ((unsigned long)block + 16 + alignment - 1) & ~(alignment - 1);
        ((size_t *)user)[-1] = user - (unsigned long)block;
        heap_in_use += block->size;
        return (void *)user;
    }
    return 0;
}

void free(void *pointer) {
    if (!pointer) return;
    struct free_block *block = (struct free_block *)((char *)pointer - ((size_t *)pointer)[-1]);
    heap_in_use -= block->size;
    struct free_block *previous = 0, *next = free_list;
    while (next && next < block) {
        previous = next;
        next = next->next;
    }
    block->next = next;
    if (next && (char *)block + block->size == (char *)next) {
        block->size += next->size;
        block->next = next->next;
    }
    if (previous) {
        previous->next = block;
        if ((char *)previous + previous->size == (char *)block) {
            previous->size += block->size;
            previous->next = block->next;
        }
    } else {
        free_list = block;
    }
}

void *malloc(size_t size) { return allocate(size, 16); }

void *calloc(size_t count, size_t size) {
    if (size && count > (1UL << 40) / size) return 0;
    void *pointer = allocate(count * size, 16);
    if (pointer) memset(pointer, 0, count * size);
    return pointer;
}

int posix_memalign(void **result, size_t alignment, size_t size) {
    if (alignment & (alignment - 1)) return 22; /* EINVAL */
    void *pointer = allocate(size, alignment);
    if (!pointer) return 12; /* ENOMEM */
    *result = pointer;
    return 0;
}

void *aligned_alloc(size_t alignment, size_t size) { return allocate(size, alignment); }

void *realloc(void *pointer, size_t size) {
    if (!pointer) return malloc(size);
    struct free_block *block = (struct free_block *)((char *)pointer - ((size_t *)pointer)[-1]);
    size_t usable = block->size - ((size_t *)pointer)[-1];
    if (size <= usable) return pointer;
    void *moved = malloc(size);
    if (moved) {
        memcpy(moved, pointer, usable);
        free(pointer);
    }
    return moved;
}

unsigned long runtime_heap_in_use(void) { return heap_in_use; }
unsigned long runtime_heap_size(void) {
    if (!heap_ready) heap_init();
    return heap_size;
}
