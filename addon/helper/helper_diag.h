/* helper_diag.h: the helper's one-line failure report on fd 2 before it exits with status 1. */
#ifndef HELPER_DIAG_H
#define HELPER_DIAG_H

#include <stdint.h>

/*
 * The tender treats any output on the helper's fd 2 as a tender error, so the
 * helper writes exactly one line there and then exits; it never writes
 * anything on success. A line is built in a fixed buffer (no allocation).
 */
struct diag {
    char buf[240];
    unsigned len;
};

void diag_str(struct diag *d, const char *s);
void diag_u64(struct diag *d, uint64_t v);
/* "0x" and lower-case hex digits, no leading zeros. */
void diag_hex(struct diag *d, uint64_t v);
/*
 * The errno name of a raw syscall result -errno ("EACCES"), or "errno N";
 * strerror's words instead ("Permission denied") once diag_strerror is set.
 */
void diag_errno(struct diag *d, long ret);
/* Set by a helper that writes its lines itself, with no tender to put names in words. */
extern int diag_strerror;

/* Write "solo5-helper: <line>\n" to fd 2 and exit_group(1). */
__attribute__((noreturn)) void diag_exit(struct diag *d);

/* "solo5-helper: <step> failed: <ERRNO NAME>", for a raw syscall result -errno. */
__attribute__((noreturn)) void diag_fail(const char *step, long ret);

/* The same with " (<advice>)" appended: what the user can do about it. */
__attribute__((noreturn)) void diag_fail_because(const char *step, long ret, const char *advice);

#endif /* HELPER_DIAG_H */
