/* sn_printf.h: solo5-node extension (not Solo5 API): printf-style formatting for freestanding guests. */
#ifndef SN_PRINTF_H
#define SN_PRINTF_H

/*
 * The bindings carry a small formatter for their own banner; these
 * declarations let applications use it too. Code that must stay portable to
 * other Solo5 implementations should not depend on this header.
 *
 * Supported conversions: %d %i %u %x %X %p %s %c %%, with the length
 * modifiers l, ll and z, the flags '-' and '0', a decimal field width, and
 * a precision (".N" or ".*") that limits the length of %s.
 * Anything else is copied to the output as written.
 */

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Formats into `buf` (`size` bytes, always NUL-terminated when size > 0) and
 * returns the length the full output would have had, like C's vsnprintf.
 */
int sn_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int sn_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Formats and writes to the console with solo5_console_write(). Output
 * longer than 512 bytes is cut. Returns the number of bytes written.
 */
int sn_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes a NUL-terminated string to the console. */
void sn_puts(const char *s);

#ifdef __cplusplus
}
#endif

#endif /* SN_PRINTF_H */
