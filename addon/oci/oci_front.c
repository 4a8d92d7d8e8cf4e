/* oci_front.c: solo5-oci's front door: start, kill and delete of a monitorless container without a node start-up; all else goes to the JS CLI. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci_front.h"

/*
 * podman (through conmon) and containerd's shim run the runtime three times per
 * container: create, start, delete. Each run of the JavaScript CLI costs a node
 * start-up. For a monitorless container (lib/oci/gated.ts) start only writes one
 * byte to the gate and delete of a stopped one only removes the state
 * directory: this program does just that when everything is as expected, and
 * hands every other case, with the same arguments, to dist/bin/solo5-oci.js,
 * which also words every error. It reports no error of its own, so the two
 * cannot disagree about what a command means.
 */

static char **args;

/* Run the JavaScript CLI beside this binary (PKG/addon/oci/build/solo5-oci -> PKG/dist/bin/solo5-oci.js). */
void fallback(void) {
  char self[PATH_MAX], js[PATH_MAX + 32];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    fprintf(stderr, "solo5-oci: readlink /proc/self/exe failed: %s\n", strerror(errno));
    exit(1);
  }
  self[n] = '\0';
  for (int up = 0; up < 4; up++) {
    char *slash = strrchr(self, '/');
    if (slash == NULL) {
      fprintf(stderr, "solo5-oci: %s is not inside the package\n", self);
      exit(1);
    }
    *slash = '\0';
  }
  snprintf(js, sizeof js, "%s/dist/bin/solo5-oci.js", self);
  args[0] = js;
  execv(js, args);
  fprintf(stderr, "solo5-oci: cannot run %s: %s\n", js, strerror(errno));
  exit(1);
}

/*
 * Is arg the flag NAME (--NAME, -NAME, --NAME=V or -NAME=V, as lib/oci/args.ts
 * reads them)? *value is V, or NULL when there was no '='.
 */
int oci_flag(const char *arg, const char *name, const char **value) {
  if (arg[0] != '-') return 0;
  arg += arg[1] == '-' ? 2 : 1;
  size_t len = strlen(name);
  if (strncmp(arg, name, len) != 0 || (arg[len] != '\0' && arg[len] != '=')) return 0;
  *value = arg[len] == '=' ? arg + len + 1 : NULL;
  return 1;
}

/* lib/oci/state.ts's ID_RE: a letter or digit, then letters, digits and _ . + -, 1024 at most. */
static int good_id(const char *id) {
  size_t len = strlen(id);
  if (len == 0 || len > 1024) return 0;
  for (size_t i = 0; i < len; i++) {
    char c = id[i];
    int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || strchr("_.+-", c) == NULL)) return 0;
  }
  return 1;
}

/* Read a small file of the state directory, NUL-terminated; 0 if missing or too long. */
static int read_small(int dirfd, const char *name, char *buf, size_t size) {
  int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, size - 1);
  close(fd);
  if (n <= 0 || (size_t)n == size - 1) return 0;
  buf[n] = '\0';
  return 1;
}

/* Whether pid is alive (not a zombie) and started at `start` (field 22 of /proc/PID/stat), as state.ts's isAlive. */
static int alive(long pid, const char *start) {
  char path[64], stat[1024];
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  if (!read_small(AT_FDCWD, path, stat, sizeof stat)) return 0;
  char *p = strrchr(stat, ')');
  if (p == NULL || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X') return 0;
  p += 2;
  /* p is at field 3; field 22 is 19 spaces further. */
  for (int field = 3; field < 22; field++) {
    p = strchr(p, ' ');
    if (p == NULL) return 0;
    p++;
  }
  size_t len = strcspn(p, " ");
  return len == strlen(start) && strncmp(p, start, len) == 0;
}

/* Record the start exclusively, as lib/oci/gated.ts's openGate does, then write the byte. */
static void start(int dirfd, long pid, const char *pid_start) {
  char tmp[64], json[128];
  if (!alive(pid, pid_start) || faccessat(dirfd, "started.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0) fallback();
  snprintf(tmp, sizeof tmp, "started.json.%ld.tmp", (long)getpid());
  int len = snprintf(json, sizeof json, "{\"guestPid\":%ld,\"guestStart\":\"%s\"}\n", pid, pid_start);
  int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) fallback();
  int wrote = write(fd, json, (size_t)len) == len;
  close(fd);
  int linked = wrote && linkat(dirfd, tmp, dirfd, "started.json", 0) == 0;
  unlinkat(dirfd, tmp, 0);
  if (!linked) fallback();
  int gate = openat(dirfd, "gate", O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (gate < 0 || write(gate, "\1", 1) != 1) {
    /* Not started after all: undo the record and let the CLI say why. */
    unlinkat(dirfd, "started.json", 0);
    fallback();
  }
  close(gate);
  exit(0);
}

/*
 * The stopped container's cgroup directories (cgroup.dirs, one a line, written by create): empty now,
 * so rmdir is all lib/oci/cgroup.ts's destroy would do. Anything unexpected is the CLI's.
 */
static void remove_cgroups(int dirfd) {
  char list[8192];
  if (faccessat(dirfd, "cgroup.dirs", F_OK, AT_SYMLINK_NOFOLLOW) != 0) return;
  if (!read_small(dirfd, "cgroup.dirs", list, sizeof list)) fallback();
  for (char *line = strtok(list, "\n"); line != NULL; line = strtok(NULL, "\n")) {
    if (strncmp(line, "/sys/fs/cgroup/", 15) != 0 || strstr(line, "/..") != NULL) fallback();
    int tries = 0;
    while (rmdir(line) < 0 && errno != ENOENT) {
      /* The kernel may still count a process that just died: a short wait, then the CLI. */
      if (errno != EBUSY || ++tries > 50) fallback();
      usleep(2000);
    }
  }
}

/* A stopped container without network state: remove its cgroup and directory, as lib/oci/commands.ts's remove does. */
static void delete(int rootfd, int dirfd, const char *id, long pid, const char *pid_start) {
  if (alive(pid, pid_start) || faccessat(dirfd, "network.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0) fallback();
  remove_cgroups(dirfd);
  int copy = dup(dirfd);
  DIR *d = copy < 0 ? NULL : fdopendir(copy);
  if (d == NULL) fallback();
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (unlinkat(dirfd, e->d_name, 0) < 0) fallback();
  }
  closedir(d);
  if (unlinkat(rootfd, id, AT_REMOVEDIR) < 0) fallback();
  exit(0);
}

/* The signals engines send by name or number (lib/oci/commands.ts's parseSignal reads any other). */
static int signal_of(const char *name) {
  static const struct {
    const char *name;
    int sig;
  } known[] = {{"TERM", SIGTERM}, {"KILL", SIGKILL}, {"INT", SIGINT},  {"HUP", SIGHUP},
               {"QUIT", SIGQUIT}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2}};
  if (name == NULL || *name == '\0') return SIGTERM;
  if (strncmp(name, "SIG", 3) == 0) name += 3;
  for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) {
    if (strcmp(name, known[k].name) == 0) return known[k].sig;
    char num[8];
    snprintf(num, sizeof num, "%d", known[k].sig);
    if (strcmp(name, num) == 0) return known[k].sig;
  }
  return 0;
}

/*
 * kill of a monitorless container: its process is the guest, so signal it. containerd stops a
 * container with two kills (the signal, then --all after the exit); each was a node start-up, which
 * under load outlasted StopContainer's timeout. A stopped one: --all succeeds (as runc 1.1), the rest
 * is the CLI's to word.
 */
static void kill_container(long pid, const char *pid_start, const char *signame, int all) {
  int sig = signal_of(signame);
  if (sig == 0) fallback();
  if (!alive(pid, pid_start)) {
    if (all) exit(0);
    fallback();
  }
  if (kill((pid_t)pid, sig) < 0) fallback();
  exit(0);
}

/* lib/oci/state.ts's defaultRoot(). */
static const char *default_root(void) {
  static char buf[PATH_MAX];
  if (getuid() == 0) return "/run/solo5-oci";
  const char *xdg = getenv("XDG_RUNTIME_DIR");
  if (snprintf(buf, sizeof buf, "%s/solo5-oci", xdg != NULL && *xdg != '\0' ? xdg : "/tmp") >= (int)sizeof buf)
    fallback();
  return buf;
}

/*
 * create of a pod's sandbox (oci_runc.c): runc's, straight away; every other create is the CLI's. The flags are
 * lib/oci/args.ts's for create, which the CLI refuses others of; the state root is checked as checkRoot does.
 */
static void create_sandbox(char **argv, int i, int argc, const char *root) {
  static const char *const valued[] = {"bundle", "b", "pid-file", "console-socket", "pidfd-socket", "preserve-fds"};
  const char *bundle = ".", *id = NULL, *v;
  int command = i - 1;
  for (; i < argc; i++) {
    if (argv[i][0] != '-') {
      if (id != NULL) fallback();
      id = argv[i];
      continue;
    }
    int known = 0;
    for (size_t k = 0; k < sizeof valued / sizeof valued[0] && !known; k++) {
      if (!oci_flag(argv[i], valued[k], &v)) continue;
      known = 1;
      if (v == NULL) {
        if (++i >= argc) fallback();
        v = argv[i];
      }
      if (k < 2) bundle = v;
    }
    if (!known && !((oci_flag(argv[i], "no-pivot", &v) || oci_flag(argv[i], "no-new-keyring", &v)) && v == NULL))
      fallback();
  }
  if (id == NULL || !good_id(id)) fallback();
  struct stat st;
  if (stat(root, &st) == 0 ? !S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022) != 0
                           : errno != ENOENT)
    fallback();
  if (is_pod_sandbox(bundle) == 1) exec_runc(argv, command, root);
  fallback();
}

/*
 * start, kill or delete of an ID that is not in our root: runc's when it is in runc's root beside it
 * (lib/oci/cli.ts's namesRuncs; a kill's signal operand must not name one of ours either); otherwise
 * gone, and delete --force of it succeeds, as the CLI's does (containerd deletes twice).
 */
static void elsewhere(int rootfd, char **argv, int command, const char *root, const char *id, const char *other,
                      int force) {
  char rroot[PATH_MAX], path[2 * PATH_MAX];
  if (other != NULL && rootfd >= 0 && faccessat(rootfd, other, F_OK, 0) == 0) fallback();
  if (!runc_root(root, rroot, sizeof rroot)) fallback();
  snprintf(path, sizeof path, "%s/%s", rroot, id);
  if (access(path, F_OK) == 0) exec_runc(argv, command, root);
  if (errno == ENOENT && force) exit(0);
  fallback();
}

int main(int argc, char **argv) {
  args = argv;
  const char *root = NULL, *v, *unused;
  int i = 1;
  /* Global flags: the ones that change nothing here are skipped; any other goes to the CLI. */
  for (; i < argc && argv[i][0] == '-'; i++) {
    const char *name = argv[i];
    if (oci_flag(name, "root", &v) || oci_flag(name, "log", &v) || oci_flag(name, "log-format", &v)) {
      if (v == NULL) {
        if (++i >= argc) fallback();
        v = argv[i];
      }
      if (oci_flag(name, "root", &unused)) root = v;
    } else if (!(oci_flag(name, "debug", &v) || oci_flag(name, "systemd-cgroup", &v)) || v != NULL)
      fallback();
  }
  if (root == NULL) root = default_root();
  if (i >= argc || *root == '\0') fallback();
  int command = i;
  const char *cmd = argv[i++];
  if (strcmp(cmd, "create") == 0) create_sandbox(argv, i, argc, root);
  int is_start = strcmp(cmd, "start") == 0, is_kill = strcmp(cmd, "kill") == 0;
  if (!is_start && !is_kill && strcmp(cmd, "delete") != 0) fallback();
  /*
   * start takes the ID alone; delete the ID and --force (-f), which a stopped container does not need;
   * kill the ID, a signal and --all (-a).
   */
  const char *id = NULL, *signame = NULL;
  int all = 0, force = 0;
  for (; i < argc; i++) {
    if (!is_start && !is_kill && (strcmp(argv[i], "-f") == 0 || (oci_flag(argv[i], "force", &v) && v == NULL))) {
      force = 1;
      continue;
    }
    if (is_kill && (strcmp(argv[i], "-a") == 0 || (oci_flag(argv[i], "all", &v) && v == NULL))) {
      all = 1;
      continue;
    }
    if (argv[i][0] == '-') fallback();
    if (is_kill && id != NULL && signame == NULL) {
      signame = argv[i];
      continue;
    }
    if (id != NULL) fallback();
    id = argv[i];
  }
  if (id == NULL || !good_id(id)) fallback();
  int rootfd = open(root, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  int no_root = rootfd < 0 && errno == ENOENT;
  /* lib/oci/state.ts's checkRoot: a root another user owns or can write is the JS CLI's to refuse. */
  struct stat rst;
  if (rootfd >= 0 && (fstat(rootfd, &rst) < 0 || rst.st_uid != geteuid() || (rst.st_mode & 022) != 0)) fallback();
  int dirfd = rootfd < 0 ? -1 : openat(rootfd, id, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (no_root || (dirfd < 0 && errno == ENOENT)) elsewhere(rootfd, argv, command, root, id, signame, force);
  /* gate.pid, written by create for a monitorless container only: "PID START". */
  char rec[128], pid_start[32];
  long pid;
  /* hooks.json: start and delete run OCI hooks (lib/oci/hooks.ts), which is the CLI's to do. */
  if (dirfd < 0 || faccessat(dirfd, "hooks.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
      !read_small(dirfd, "gate.pid", rec, sizeof rec) || sscanf(rec, "%ld %31[0-9]", &pid, pid_start) != 2 || pid <= 0)
    fallback();
  if (is_start) start(dirfd, pid, pid_start);
  if (is_kill) kill_container(pid, pid_start, signame, all);
  delete(rootfd, dirfd, id, pid, pid_start);
}
