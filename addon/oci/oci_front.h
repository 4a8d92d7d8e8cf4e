/* oci_front.h: what the front door's two files share (oci_front.c, oci_runc.c). */
#ifndef OCI_FRONT_H
#define OCI_FRONT_H
#include <stddef.h>

/* Hand the command, unchanged, to the JavaScript CLI; never returns. */
void fallback(void) __attribute__((noreturn));
/* Is arg the flag NAME (--NAME, -NAME, --NAME=V or -NAME=V)? *value is V, or NULL without '='. */
int oci_flag(const char *arg, const char *name, const char **value);
/* Whether BUNDLE/config.json marks a pod sandbox (lib/oci/delegate.ts's first rule): 1, 0, or -1 when unsure. */
int is_pod_sandbox(const char *bundle);
/* runc's state root beside ROOT (ROOT-runc); 0 if it does not fit. */
int runc_root(const char *root, char *out, size_t size);
/* Become runc with argv (argv[command] is the command), its global --root made runc's; falls back on failure. */
void exec_runc(char **argv, int command, const char *root) __attribute__((noreturn));
#endif
