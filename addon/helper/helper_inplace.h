/* helper_inplace.h: a helper exec'd in place of the tender moves the fds it was handed to the plan's numbers. */
#ifndef HELPER_INPLACE_H
#define HELPER_INPLACE_H

/*
 * argc/argv as the kernel passed them. Spawned (argc < 2): returns 0 and
 * changes nothing. Exec'd in place (argv[1] == SN_HELPER_INPLACE_ARG): dup3s
 * each fd named in argv[2..] to 0, SN_FD_MEM, SN_FD_PLAN, ... and returns the
 * number after the last one placed, which must equal the fds the plan keeps.
 * A malformed argv is reported on fd 2 and ends the process with status 1.
 */
unsigned inplace_arrange(long argc, char **argv);

/*
 * In place: the name the tender exec'd the helper under (argv[0], the CLI's
 * own name, e.g. "solo5-hvt"); spawned: 0. With no tender to turn a run-time
 * report into a line, the helper writes that line itself, so prefixed.
 */
extern const char *inplace_tool;

#endif /* HELPER_INPLACE_H */
