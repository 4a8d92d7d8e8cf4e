/* notls.c: touches a __thread variable before any solo5_set_tls_base; the guest must fault. */
#include "solo5.h"
#include "sn_printf.h"

/*
 * The bindings start the guest with a zero thread pointer, so this access
 * goes to %fs:-N, the top of the address space, which no user process can
 * map.
 */
__thread volatile int tls_value = 42;

int solo5_app_main(const struct solo5_start_info *si)
{
    (void)si;
    sn_puts("notls: reading a TLS variable with no TLS base (expect a fault)\n");
    int v = tls_value;
    sn_printf("notls: read %d without a TLS base\nFAILURE\n", v);
    return SOLO5_EXIT_FAILURE;
}
