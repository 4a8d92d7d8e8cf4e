/* oci_init.c: solo5-oci-init, the first process of a monitorless container's PID namespace: its own /proc, and an end with the guest's. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * A monitorless container's process is the guest's helper (lib/oci/gated.ts),
 * and a guest installs no signal handlers. As the first process (pid 1) of a
 * PID namespace it would be immune to every signal from outside but SIGKILL:
 * `podman stop`'s SIGTERM would do nothing. So this process is pid 1 instead,
 * and the helper, started next in the namespace, stays an ordinary process.
 *
 * create starts it with stdin and stdout pipes. It makes a mount namespace
 * (private, so nothing propagates to the host's) with a /proc of the PID
 * namespace, which the helper then enters and `podman top` reads, says
 * "ready" on stdout, and reads the helper's pid (as this namespace numbers it)
 * on stdin. It ends when the helper ends (a pidfd), since the namespace's other
 * processes die with pid 1; without a pid (create failed or died) it ends at
 * once. It needs nothing else, so it runs as nobody without capabilities.
 */

#define NOBODY 65534

static void __attribute__((noreturn)) fail(const char *what) {
  dprintf(1, "error %s failed: %s\n", what, strerrorname_np(errno));
  exit(1);
}

static long read_pid(void) {
  char buf[32];
  size_t len = 0;
  while (len < sizeof buf - 1) {
    ssize_t n = read(0, buf + len, sizeof buf - 1 - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += (size_t)n;
    if (memchr(buf, '\n', len) != NULL) break;
  }
  buf[len] = '\0';
  char *end;
  long pid = strtol(buf, &end, 10);
  return end != buf && *end == '\n' && pid > 0 ? pid : -1;
}

/*
 * `solo5-oci-init enter MNT ARGV0 PATH`: how the helper gets into that mount
 * namespace (the spawner, node, has threads and cannot enter one itself):
 * exec PATH there as ARGV0, with the fds it was given and, as spawnHelper
 * gives the helper, an empty environment. A failure is one line on stderr, which is the helper's diagnostics pipe.
 */
static int enter(char **argv) {
  int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns(fd, CLONE_NEWNS) < 0) {
    dprintf(2, "solo5-oci-init: cannot enter the mount namespace %s: %s\n", argv[2], strerrorname_np(errno));
    return 1;
  }
  close(fd);
  char *args[] = {argv[3], NULL};
  char *none[] = {NULL};
  execve(argv[4], args, none);
  dprintf(2, "solo5-oci-init: exec %s failed: %s\n", argv[4], strerrorname_np(errno));
  return 1;
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "enter") == 0) return enter(argv);
  if (argc != 1) {
    dprintf(2, "usage: solo5-oci-init, or solo5-oci-init enter MNT ARGV0 PATH (started by solo5-oci create)\n");
    return 1;
  }
  if (unshare(CLONE_NEWNS) < 0) fail("unshare(CLONE_NEWNS)");
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) fail("making / private");
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) fail("mount /proc");
  if (chdir("/") < 0) fail("chdir /");
  if (getuid() == 0) {
    if (setgroups(0, NULL) < 0) fail("setgroups");
    if (setresgid(NOBODY, NOBODY, NOBODY) < 0) fail("setresgid");
    if (setresuid(NOBODY, NOBODY, NOBODY) < 0) fail("setresuid");
  }
  if (dprintf(1, "ready\n") < 0) return 1;
  close(1);
  long pid = read_pid();
  close(0);
  if (pid < 0) return 1;
  int fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
  if (fd < 0) return 0;
  struct pollfd p = {.fd = fd, .events = POLLIN};
  while (poll(&p, 1, -1) < 0 && errno == EINTR) {
  }
  return 0;
}
