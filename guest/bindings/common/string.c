/* string.c: the freestanding memory and string helpers the bindings, the apps and the compiler need. */
#include "bindings.h"

/*
 * There is no libc in a unikernel built against these bindings, but the
 * compiler emits calls to memcpy/memset/memmove/memcmp for struct copies and
 * large initialisations, so they must exist. They are weak: an application
 * that brings its own C library (as language runtimes on Solo5 do) links its
 * versions instead of clashing with these.
 *
 * This file is compiled with -fno-tree-loop-distribute-patterns (see
 * guest/Makefile) so that the loops below are not turned back into calls to
 * themselves.
 */

#define WORD sizeof(uint64_t)

__attribute__((weak)) void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    uint64_t pattern = (unsigned char)c * 0x0101010101010101ULL;

    while (n > 0 && ((uintptr_t)d % WORD) != 0) {
        *d++ = (unsigned char)c;
        n--;
    }
    for (; n >= WORD; n -= WORD, d += WORD)
        *(uint64_t *)(void *)d = pattern;
    while (n-- > 0)
        *d++ = (unsigned char)c;
    return dst;
}

__attribute__((weak)) void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    /* Word copies only when both sides can be aligned together. */
    if (((uintptr_t)d % WORD) == ((uintptr_t)s % WORD)) {
        while (n > 0 && ((uintptr_t)d % WORD) != 0) {
            *d++ = *s++;
            n--;
        }
        for (; n >= WORD; n -= WORD, d += WORD, s += WORD)
            *(uint64_t *)(void *)d = *(const uint64_t *)(const void *)s;
    }
    while (n-- > 0)
        *d++ = *s++;
    return dst;
}

__attribute__((weak)) void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    if (d == s || n == 0)
        return dst;
    if (d < s || d >= s + n)
        return memcpy(dst, src, n);
    /* Overlapping with dst above src: copy backwards. */
    while (n-- > 0)
        d[n] = s[n];
    return dst;
}

__attribute__((weak)) int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;

    for (size_t i = 0; i < n; i++) {
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    }
    return 0;
}

__attribute__((weak)) size_t strlen(const char *s)
{
    size_t n = 0;

    while (s[n] != '\0')
        n++;
    return n;
}

__attribute__((weak)) size_t strnlen(const char *s, size_t max)
{
    size_t n = 0;

    while (n < max && s[n] != '\0')
        n++;
    return n;
}

__attribute__((weak)) int strcmp(const char *a, const char *b)
{
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

__attribute__((weak)) int strncmp(const char *a, const char *b, size_t n)
{
    for (; n > 0; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        if (*a == '\0')
            return 0;
    }
    return 0;
}
