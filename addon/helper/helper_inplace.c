/* helper_inplace.c: a helper exec'd in place of the tender moves the fds it was handed to the plan's numbers. */
#include "helper_inplace.h"

#include "helper_diag.h"
#include "helper_sys.h"
#include "sn_abi.h"

#define H_EINVAL 22

static int same(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

/* A decimal fd number of at least SN_FD_INPLACE_MIN, or -1. */
static long parse_fd(const char *s)
{
    long v = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
        if (v > 0x7fffffff)
            return -1;
    }
    return v >= SN_FD_INPLACE_MIN ? v : -1;
}

const char *inplace_tool;

unsigned inplace_arrange(long argc, char **argv)
{
    if (argc < 2)
        return 0;
    if (!same(argv[1], SN_HELPER_INPLACE_ARG))
        diag_fail_because("read argv", -H_EINVAL, "the helper takes no arguments but " SN_HELPER_INPLACE_ARG);
    inplace_tool = argv[0] && argv[0][0] ? argv[0] : "solo5-helper";
    /*
     * Every source is above every number placed (SN_FD_INPLACE_MIN), so no
     * dup3 here replaces a source still to come; the sources themselves are
     * closed with everything else above what the plan keeps.
     */
    unsigned target = 0;
    for (long i = 2; i < argc; i++) {
        long fd = parse_fd(argv[i]);
        if (fd < 0 || target >= SN_FD_INPLACE_MIN)
            diag_fail_because("read argv", -H_EINVAL,
                              "an in-place fd is below SN_FD_INPLACE_MIN, or one too many");
        long r = h_dup3((int)fd, (int)target, 0);
        if (h_is_err(r))
            diag_fail("dup3 an in-place fd", r);
        target = target == 0 ? SN_FD_MEM : target + 1;
    }
    return target;
}
