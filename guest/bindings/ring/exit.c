/* exit.c: how a ring-ABI guest ends: solo5_exit (after its queued frames left) and solo5_abort. */
#include "rings.h"

void solo5_exit(int status)
{
    sn_net_flush();
    sn_log(SN_LOG_INFO, "exit with status %d", status);
    sn_platform_exit(status);
}

void solo5_abort(void)
{
    sn_log(SN_LOG_ERROR, "ABORT: solo5_abort() called");
    sn_platform_exit(SOLO5_EXIT_ABORT);
}
