/* seccomp.c: tries system calls outside the spt policy; the first one must kill the guest with SIGSYS. */
#include "solo5.h"
#include "sn_printf.h"
/* Raw system calls as the bindings make them (guest/bindings/spt, see guest/Makefile). */
#include "spt_sys.h"

#define SYS_OPEN 2
#define SYS_SOCKET 41
#define AF_INET 2
#define SOCK_STREAM 1

int solo5_app_main(const struct solo5_start_info *si)
{
    (void)si;
    sn_puts("seccomp: calling open(\"/etc/passwd\") (expect SIGSYS)\n");
    long r = spt_syscall3(SYS_OPEN, (long)"/etc/passwd", 0, 0);
    sn_printf("seccomp: open returned %ld; trying socket\n", r);
    r = spt_syscall3(SYS_SOCKET, AF_INET, SOCK_STREAM, 0);
    sn_printf("seccomp: socket returned %ld\nFAILURE\n", r);
    return SOLO5_EXIT_FAILURE;
}
