/* acquire.c: checks device acquisition by manifest name: undeclared or mistyped names fail with EINVAL. */
#include "solo5.h"
#include "sn_printf.h"

/*
 * The manifest declares one block device, "storage"; run with
 * --block:storage=FILE. Acquiring it may succeed or report the device as
 * unusable (EUNSPEC, while the bindings have no rings) but must never say
 * EINVAL; every name or type the manifest does not declare must, and so
 * must I/O on handles that were never acquired.
 */
static int failures;

static void expect(solo5_result_t got, solo5_result_t want, const char *what)
{
    if (got != want) {
        sn_printf("acquire: %s: result %d, expected %d\n", what, (int)got, (int)want);
        failures++;
    }
}

int solo5_app_main(const struct solo5_start_info *si)
{
    (void)si;
    solo5_handle_t h = 12345;
    struct solo5_block_info bi;
    struct solo5_net_info ni;
    uint8_t buf[512];
    size_t got;

    solo5_result_t r = solo5_block_acquire("storage", &h, &bi);
    if (r != SOLO5_R_OK && r != SOLO5_R_EUNSPEC) {
        sn_printf("acquire: declared block device: result %d\n", (int)r);
        failures++;
    }
    expect(solo5_block_acquire("nosuch", &h, &bi), SOLO5_R_EINVAL, "undeclared block device");
    expect(solo5_block_acquire("", &h, &bi), SOLO5_R_EINVAL, "empty name");
    expect(solo5_block_acquire("storage0", &h, &bi), SOLO5_R_EINVAL, "name with a suffix");
    expect(solo5_block_acquire("stora", &h, &bi), SOLO5_R_EINVAL, "name prefix");
    expect(solo5_net_acquire("storage", &h, &ni), SOLO5_R_EINVAL, "block device acquired as net");
    expect(solo5_net_acquire("service0", &h, &ni), SOLO5_R_EINVAL, "undeclared net device");

    /* Handles: 0 is the manifest's reserved entry; the others were never acquired. */
    static const solo5_handle_t bad[] = { 0, 2, 63, 64, ~0ULL };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expect(solo5_block_read(bad[i], 0, buf, sizeof buf), SOLO5_R_EINVAL, "block read, bad handle");
        expect(solo5_block_write(bad[i], 0, buf, sizeof buf), SOLO5_R_EINVAL, "block write, bad handle");
        expect(solo5_net_read(bad[i], buf, sizeof buf, &got), SOLO5_R_EINVAL, "net read, bad handle");
        expect(solo5_net_write(bad[i], buf, 64), SOLO5_R_EINVAL, "net write, bad handle");
    }

    if (failures != 0) {
        sn_puts("FAILURE\n");
        return SOLO5_EXIT_FAILURE;
    }
    sn_puts("SUCCESS\n");
    return SOLO5_EXIT_SUCCESS;
}
