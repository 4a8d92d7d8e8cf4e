// seccomp-kernel.test.ts: the compiled spt program, installed by the real kernel in a tiny C process.

import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { compileSptGuestPolicy } from '../lib/seccomp';

/*
 * The interpreter tests prove the program's logic; this proves the kernel
 * accepts the bytes and agrees with the interpreter on a few verdicts. The C
 * program installs the filter the way the helper does (no-new-privs, then
 * seccomp(SET_MODE_FILTER)) and then makes only raw syscalls, so libc cannot
 * sneak in a call the policy does not allow.
 */
const PROBE_C = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static unsigned char buf[4096 * 8];

static long int80(long nr) {
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr) : "memory", "r8", "r9", "r10", "r11");
    return r;
}

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    const char *what = argv[2];
    struct timespec ts;
    FILE *f = fopen(argv[1], "rb");
    if (!f) return 2;
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (n == 0 || n % 8 != 0) return 2;
    if (strcmp(what, "i386-probe") == 0) {
        int80(20); /* i386 getpid, no filter: does this kernel run int 0x80 at all? */
        syscall(SYS_write, 1, "ok", 2);
        return 0;
    }
    unsigned long fsbase = 0;
    if (syscall(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, &fsbase) != 0) return 2;
    /* One eventfd at both doorbell numbers: 5 (to tender) is written, 6 (to guest) read. */
    if (strncmp(what, "doorbell", 8) == 0 && (dup2(eventfd(0, 0), 5) != 5 || dup2(5, 6) != 6)) return 2;
    struct sock_fprog prog = { .len = (unsigned short)(n / 8), .filter = (struct sock_filter *)buf };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 3;
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
        fprintf(stderr, "seccomp: %s\n", strerror(errno));
        return errno == ENOSYS ? 77 : 4;
    }
    if (strcmp(what, "ok") == 0) {
        syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
        syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts);
    }
    if (strcmp(what, "wait") == 0) syscall(SYS_epoll_pwait, 3, 0, 1, 0, 0, 8);
    if (strcmp(what, "wait2") == 0) syscall(441 /* epoll_pwait2 */, 3, 0, 1, 0, 0, 8);
    if (strcmp(what, "setfs") == 0) syscall(SYS_arch_prctl, 0x1002 /* ARCH_SET_FS */, fsbase);
    if (strcmp(what, "getfs") == 0) syscall(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, &fsbase);
    if (strcmp(what, "doorbell") == 0) {
        unsigned long long one = 1;
        if (syscall(SYS_write, 5, &one, 8) != 8 || syscall(SYS_read, 6, buf, 8) != 8) return 5;
    }
    /* A write of the wrong size is allowed by the filter and refused by the eventfd itself. */
    if (strcmp(what, "doorbell-short") == 0 && !(syscall(SYS_write, 5, buf, 4) == -1 && errno == EINVAL)) return 6;
    if (strcmp(what, "doorbell-read-to-tender") == 0) syscall(SYS_read, 5, buf, 8);
    if (strcmp(what, "doorbell-write-to-guest") == 0) syscall(SYS_write, 6, buf, 8);
    if (strcmp(what, "getpid") == 0) syscall(SYS_getpid);
    if (strcmp(what, "stderr") == 0) syscall(SYS_write, 2, "x", 1);
    if (strcmp(what, "boottime") == 0) syscall(SYS_clock_gettime, CLOCK_BOOTTIME, &ts);
    if (strcmp(what, "highfd") == 0) syscall(SYS_write, 1UL | (1UL << 32), "ok", 2);
    if (strcmp(what, "x32") == 0) syscall(0x40000000 | SYS_getpid);
    if (strcmp(what, "i386") == 0) int80(20);
    syscall(SYS_write, 1, "ok", 2);
    syscall(SYS_exit_group, 0);
    return 1;
}
`;

interface Probe {
  probe: string;
  dir: string;
}

function runIn(env: Probe, doorbellFds: number[], what: string): SpawnSyncReturns<string> {
  const file = path.join(env.dir, `prog-${doorbellFds.join('_')}.bpf`);
  fs.writeFileSync(file, compileSptGuestPolicy({ doorbellFds }));
  return spawnSync(env.probe, [file, what], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
}

/** Build the probe; a string result is the reason to skip. */
function setup(): Probe | string {
  const gcc = spawnSync('gcc', ['--version'], { encoding: 'utf8' });
  if (gcc.error !== undefined || gcc.status !== 0) return 'gcc is not available';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sn-seccomp-'));
  const src = path.join(dir, 'probe.c');
  const probe = path.join(dir, 'probe');
  fs.writeFileSync(src, PROBE_C);
  const cc = spawnSync('gcc', ['-O1', '-Wall', '-Werror', '-o', probe, src], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`gcc failed on the probe: ${cc.stderr}`);
  if (runIn({ probe, dir }, [], 'ok').status === 77) {
    fs.rmSync(dir, { recursive: true, force: true });
    return 'seccomp filters are not supported by this kernel';
  }
  return { probe, dir };
}

const env = setup();

t.test('the kernel installs the spt program and enforces it', { skip: typeof env === 'string' ? env : false }, async (t) => {
  if (typeof env === 'string') return;
  t.teardown(() => fs.rmSync(env.dir, { recursive: true, force: true }));
  const run = (fds: number[], what: string): SpawnSyncReturns<string> => runIn(env, fds, what);
  const first = run([], 'ok');
  t.same([first.status, first.signal, first.stdout, first.stderr], [0, null, 'ok', ''], 'allowed calls run, exit_group(0)');

  const cases: Array<[string, number[], string, boolean]> = [
    ['epoll_pwait on the wait fd', [], 'wait', true],
    ['epoll_pwait2 on the wait fd', [], 'wait2', true],
    ['arch_prctl(ARCH_SET_FS) to the current base', [], 'setfs', true],
    ['arch_prctl(ARCH_GET_FS)', [], 'getfs', false],
    ['doorbell write to the tender (5) and read from the guest one (6)', [5, 6], 'doorbell', true],
    ['doorbell write of 4 bytes: EINVAL from the eventfd, not a kill', [5, 6], 'doorbell-short', true],
    ['read on the doorbell to the tender', [5, 6], 'doorbell-read-to-tender', false],
    ['write on the doorbell to the guest', [5, 6], 'doorbell-write-to-guest', false],
    ['doorbell write without doorbells', [], 'doorbell', false],
    ['getpid', [], 'getpid', false],
    ['write to stderr', [], 'stderr', false],
    ['clock_gettime(CLOCK_BOOTTIME)', [], 'boottime', false],
    ['write to fd 1 with high bits set', [], 'highfd', false],
    ['x32 getpid', [], 'x32', false],
  ];
  const probe = run([], 'i386-probe');
  if (probe.status === 0 && probe.stdout === 'ok') cases.push(['i386 getpid via int 0x80', [], 'i386', false]);
  else t.pass('i386 getpid via int 0x80: killed by SIGSYS', { skip: 'int 0x80 does not work on this kernel without a filter' });

  for (const [name, fds, what, allowed] of cases) {
    const r = run(fds, what);
    if (allowed) t.same([r.status, r.signal, r.stdout], [0, null, 'ok'], `${name}: allowed`);
    else t.same([r.status, r.signal, r.stdout], [null, 'SIGSYS', ''], `${name}: killed by SIGSYS`);
  }
});
