/* solo5_exit.c: how a Solo5-ABI guest ends (exit_group), and the console fd it shares with the spt platform code. */
#include "solo5_bindings.h"

/*
 * Console, clocks and solo5_set_tls_base are the same system calls on both
 * spt ABIs, so spt/spt_platform.c serves these bindings too; upstream's
 * console is always fd 1, and its seccomp policy allows no other.
 */
int spt_console_fd = SN_FD_CONSOLE;

void solo5_exit(int status)
{
    sn_log(SN_LOG_INFO, "exit with status %d", status);
    sn_platform_exit(status);
}

void solo5_abort(void)
{
    sn_log(SN_LOG_ERROR, "ABORT: solo5_abort() called");
    sn_platform_exit(SOLO5_EXIT_ABORT);
}
