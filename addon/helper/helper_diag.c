/* helper_diag.c: formats the helper's one-line failure report and names errno values. */
#include "helper_diag.h"

#include "helper_sys.h"

/*
 * Names of the errno values the helper's syscalls can plausibly return. A
 * two-dimensional char array, not an array of pointers, so the static binary
 * needs no relocations.
 */
static const char errno_names[][12] = {
    [1] = "EPERM",       [2] = "ENOENT",  [4] = "EINTR",   [5] = "EIO",      [6] = "ENXIO",
    [7] = "E2BIG",       [9] = "EBADF",   [11] = "EAGAIN", [12] = "ENOMEM",  [13] = "EACCES",
    [14] = "EFAULT",     [16] = "EBUSY",  [17] = "EEXIST", [19] = "ENODEV",  [21] = "EISDIR",
    [22] = "EINVAL",     [23] = "ENFILE", [24] = "EMFILE", [26] = "ETXTBSY", [27] = "EFBIG",
    [28] = "ENOSPC",     [29] = "ESPIPE", [38] = "ENOSYS", [40] = "ELOOP",   [75] = "EOVERFLOW",
    [95] = "EOPNOTSUPP",
};

void diag_str(struct diag *d, const char *s)
{
    while (*s && d->len < sizeof(d->buf))
        d->buf[d->len++] = *s++;
}

void diag_u64(struct diag *d, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n > 0 && d->len < sizeof(d->buf))
        d->buf[d->len++] = tmp[--n];
}

void diag_hex(struct diag *d, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[16];
    int n = 0;
    do {
        tmp[n++] = digits[v & 15];
        v >>= 4;
    } while (v);
    diag_str(d, "0x");
    while (n > 0 && d->len < sizeof(d->buf))
        d->buf[d->len++] = tmp[--n];
}

void diag_exit(struct diag *d)
{
    static const char prefix[] = "solo5-helper: ";
    /* One write(2) of the whole line, so the tender never sees half of it. */
    char line[sizeof(prefix) + sizeof(d->buf) + 1];
    unsigned n = 0;
    for (unsigned i = 0; i < sizeof(prefix) - 1; i++)
        line[n++] = prefix[i];
    for (unsigned i = 0; i < d->len; i++)
        line[n++] = d->buf[i];
    line[n++] = '\n';
    h_write(2, line, n);
    h_exit_group(1);
}

/*
 * glibc's strerror words for the same values: the lines an in-place helper
 * writes itself, which the tender would have put in these words (lib/errno.ts).
 */
static const char errno_words[][40] = {
    [1] = "Operation not permitted",
    [2] = "No such file or directory",
    [4] = "Interrupted system call",
    [5] = "Input/output error",
    [6] = "No such device or address",
    [7] = "Argument list too long",
    [9] = "Bad file descriptor",
    [11] = "Resource temporarily unavailable",
    [12] = "Cannot allocate memory",
    [13] = "Permission denied",
    [14] = "Bad address",
    [16] = "Device or resource busy",
    [17] = "File exists",
    [19] = "No such device",
    [21] = "Is a directory",
    [22] = "Invalid argument",
    [23] = "Too many open files in system",
    [24] = "Too many open files",
    [26] = "Text file busy",
    [27] = "File too large",
    [28] = "No space left on device",
    [29] = "Illegal seek",
    [38] = "Function not implemented",
    [40] = "Too many levels of symbolic links",
    [75] = "Value too large for defined data type",
    [95] = "Operation not supported",
};

int diag_strerror;

/* The errno name of a raw syscall result -errno ("EACCES"), or "errno N". */
void diag_errno(struct diag *d, long ret)
{
    long err = -ret;
    if (diag_strerror && err > 0 && err < (long)(sizeof(errno_words) / sizeof(errno_words[0])) &&
        errno_words[err][0]) {
        diag_str(d, errno_words[err]);
    } else if (err > 0 && err < (long)(sizeof(errno_names) / sizeof(errno_names[0])) && errno_names[err][0]) {
        diag_str(d, errno_names[err]);
    } else {
        diag_str(d, "errno ");
        diag_u64(d, (uint64_t)err);
    }
}

void diag_fail_because(const char *step, long ret, const char *advice)
{
    struct diag d;
    d.len = 0;
    diag_str(&d, step);
    diag_str(&d, " failed: ");
    diag_errno(&d, ret);
    if (advice) {
        diag_str(&d, " (");
        diag_str(&d, advice);
        diag_str(&d, ")");
    }
    diag_exit(&d);
}

void diag_fail(const char *step, long ret)
{
    diag_fail_because(step, ret, 0);
}
