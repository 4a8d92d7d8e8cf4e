/* abort.c: calls solo5_abort; the bindings must print ABORT and exit with status 255. */
#include "solo5.h"
#include "sn_printf.h"

int solo5_app_main(const struct solo5_start_info *si)
{
    (void)si;
    sn_puts("abort: calling solo5_abort()\n");
    solo5_abort();
}
