/* quiet.c: prints nothing but SUCCESS, so that a run with --solo5:quiet shows exactly one line. */
#include "solo5.h"

int solo5_app_main(const struct solo5_start_info *si)
{
    (void)si;
    solo5_console_write("SUCCESS\n", 8);
    return SOLO5_EXIT_SUCCESS;
}
