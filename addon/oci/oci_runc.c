/* oci_runc.c: the front door's hand-off to runc: a pod sandbox's create, and any command on a container runc holds, without node. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci_front.h"

/*
 * Kubernetes runs every pod's pause sandbox through the pod's runtime
 * handler, so RunPodSandbox cost two node start-ups (create, start) before
 * runc's own. lib/oci/delegate.ts's classify() hands a sandbox to runc by its
 * annotation before looking at anything else; this file recognises exactly
 * that case and execs runc as lib/oci/delegate.ts's execRunc() would. Anything
 * it is not sure of (a parse it cannot finish, an escaped key) goes to the JS
 * CLI, which decides and words errors.
 */

/* lib/oci/spec.ts's MAX_OCI_JSON. */
#define MAX_CONFIG (4 << 20)

/* A strict JSON reader over [p, end): each function returns the position after what it read, or NULL. */
struct json {
  const char *end;
};

static const char *ws(const struct json *j, const char *p) {
  while (p < j->end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  return p;
}

/* A string; *plain says whether it holds no escape (then its bytes are its value). */
static const char *string(const struct json *j, const char *p, int *plain) {
  if (p >= j->end || *p != '"') return NULL;
  *plain = 1;
  for (p++; p < j->end; p++) {
    unsigned char c = (unsigned char)*p;
    if (c == '"') return p + 1;
    if (c < 0x20) return NULL;
    if (c != '\\') continue;
    *plain = 0;
    if (++p >= j->end) return NULL;
    if (*p == 'u') {
      for (int k = 0; k < 4; k++)
        if (++p >= j->end || strchr("0123456789abcdefABCDEF", *p) == NULL || *p == '\0') return NULL;
    } else if (strchr("\"\\/bfnrt", *p) == NULL || *p == '\0')
      return NULL;
  }
  return NULL;
}

static const char *digits(const struct json *j, const char *p) {
  const char *s = p;
  while (p < j->end && *p >= '0' && *p <= '9') p++;
  return p > s ? p : NULL;
}

static const char *number(const struct json *j, const char *p) {
  if (p < j->end && *p == '-') p++;
  if (p < j->end && *p == '0')
    p++;
  else if ((p = digits(j, p)) == NULL)
    return NULL;
  if (p < j->end && *p == '.' && (p = digits(j, p + 1)) == NULL) return NULL;
  if (p < j->end && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < j->end && (*p == '+' || *p == '-')) p++;
    if ((p = digits(j, p)) == NULL) return NULL;
  }
  return p;
}

static const char *value(const struct json *j, const char *p, int depth);

/* After a member or element: past the closing `close` (*done = 1), or past the ',' and the space after it (*done = 0). */
static const char *next(const struct json *j, const char *p, char close, int *done) {
  p = ws(j, p);
  *done = p < j->end && *p == close;
  if (*done) return p + 1;
  return p < j->end && *p == ',' ? ws(j, p + 1) : NULL;
}

/*
 * An object. With `want` (the annotations object), *found is set by each of its
 * members: 1 when a sandbox key says "sandbox", 0 when it says anything else, so
 * the last one counts, as with JSON.parse. A key with an escape could spell one
 * of them: the answer is then -1 (unsure).
 */
static const char *object(const struct json *j, const char *p, int depth, int want, int *found) {
  static const char *const keys[] = {"io.kubernetes.cri.container-type", "io.kubernetes.cri-o.ContainerType"};
  p = ws(j, p + 1);
  if (p < j->end && *p == '}') return p + 1;
  for (;;) {
    int plain, vplain;
    const char *k = p;
    if ((p = string(j, p, &plain)) == NULL) return NULL;
    size_t klen = (size_t)(p - k - 2);
    p = ws(j, p);
    if (p >= j->end || *p != ':') return NULL;
    const char *v = p = ws(j, p + 1);
    if (want && !plain) *found = -1;
    for (size_t n = 0; want && plain && *found != -1 && n < 2; n++) {
      if (klen != strlen(keys[n]) || memcmp(k + 1, keys[n], klen) != 0) continue;
      const char *after = string(j, v, &vplain);
      *found = after != NULL && vplain && after - v == 9 && memcmp(v, "\"sandbox\"", 9) == 0;
    }
    int done;
    if ((p = value(j, p, depth + 1)) == NULL || (p = next(j, p, '}', &done)) == NULL || done) return p;
  }
}

static const char *array(const struct json *j, const char *p, int depth) {
  p = ws(j, p + 1);
  if (p < j->end && *p == ']') return p + 1;
  for (;;) {
    int done;
    if ((p = value(j, p, depth + 1)) == NULL || (p = next(j, p, ']', &done)) == NULL || done) return p;
  }
}

static const char *value(const struct json *j, const char *p, int depth) {
  int plain, unused = 0;
  if (p >= j->end || depth > 64) return NULL;
  switch (*p) {
    case '{':
      return object(j, p, depth, 0, &unused);
    case '[':
      return array(j, p, depth);
    case '"':
      return string(j, p, &plain);
    case 't':
      return j->end - p >= 4 && memcmp(p, "true", 4) == 0 ? p + 4 : NULL;
    case 'f':
      return j->end - p >= 5 && memcmp(p, "false", 5) == 0 ? p + 5 : NULL;
    case 'n':
      return j->end - p >= 4 && memcmp(p, "null", 4) == 0 ? p + 4 : NULL;
    default:
      return number(j, p);
  }
}

/* 1 if text is a JSON object whose (last) "annotations" member marks a pod sandbox; 0 if not; -1 if unsure. */
static int sandbox_json(const char *text, size_t len) {
  struct json j = {text + len};
  const char *p = ws(&j, text);
  if (p >= j.end || *p != '{') return -1;
  int found = 0;
  p = ws(&j, p + 1);
  if (p < j.end && *p == '}') return ws(&j, p + 1) == j.end ? 0 : -1;
  for (;;) {
    int plain;
    const char *k = p;
    if ((p = string(&j, p, &plain)) == NULL) return -1;
    if (!plain) return -1;
    int is_ann = p - k == 13 && memcmp(k, "\"annotations\"", 13) == 0;
    p = ws(&j, p);
    if (p >= j.end || *p != ':') return -1;
    p = ws(&j, p + 1);
    if (is_ann) {
      found = 0;
      if (p < j.end && *p == '{')
        p = object(&j, p, 1, 1, &found);
      else
        p = value(&j, p, 1);
    } else
      p = value(&j, p, 1);
    int done;
    if (p == NULL || found == -1 || (p = next(&j, p, '}', &done)) == NULL) return -1;
    if (done) return ws(&j, p) == j.end ? found : -1;
  }
}

int is_pod_sandbox(const char *bundle) {
  char file[PATH_MAX];
  if (snprintf(file, sizeof file, "%s/config.json", bundle) >= (int)sizeof file) return -1;
  int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_CONFIG) {
    if (fd >= 0) close(fd);
    return -1;
  }
  char *text = malloc((size_t)st.st_size + 1);
  ssize_t n = text == NULL ? -1 : read(fd, text, (size_t)st.st_size + 1);
  close(fd);
  int r = n == st.st_size ? sandbox_json(text, (size_t)n) : -1;
  free(text);
  return r;
}

/* runc's root beside ours, as delegate.ts's runcRoot(): ROOT without trailing slashes, then -runc. */
int runc_root(const char *root, char *out, size_t size) {
  size_t len = strlen(root);
  while (len > 0 && root[len - 1] == '/') len--;
  return snprintf(out, size, "%.*s-runc", (int)len, root) < (int)size;
}

/* The first executable runc on PATH, then in the sbin directories engines leave out (lib/oci/network.ts's TOOL_DIRS). */
static int find_runc(char *out, size_t size) {
  const char *path = getenv("PATH");
  char dirs[8192];
  snprintf(dirs, sizeof dirs, "%s:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           path != NULL ? path : "");
  for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d != NULL; d = strtok_r(NULL, ":", &save)) {
    if (snprintf(out, size, "%s/runc", d) < (int)size && access(out, X_OK) == 0) return 1;
  }
  return 0;
}

void exec_runc(char **argv, int command, const char *root) {
  char runc[PATH_MAX], rroot[PATH_MAX], flag[PATH_MAX + 8];
  if (!find_runc(runc, sizeof runc) || !runc_root(root, rroot, sizeof rroot)) fallback();
  int argc = 0, at = -1;
  const char *v = NULL;
  while (argv[argc] != NULL) argc++;
  for (int i = 1; i < command && at < 0; i++)
    if (oci_flag(argv[i], "root", &v)) at = i;
  char **out = calloc((size_t)argc + 3, sizeof *out);
  if (out == NULL) fallback();
  /* The caller's words with only the global --root changed, or added in front (delegate.ts's runcArgv). */
  int n = 0;
  out[n++] = "runc";
  if (at < 0) {
    out[n++] = "--root";
    out[n++] = rroot;
  }
  for (int i = 1; i < argc; i++) {
    if (i == at && v != NULL) {
      snprintf(flag, sizeof flag, "--root=%s", rroot);
      out[n++] = flag;
    } else
      out[n++] = at >= 0 && v == NULL && i == at + 1 ? rroot : argv[i];
  }
  out[n] = NULL;
  execv(runc, out);
  fallback();
}
