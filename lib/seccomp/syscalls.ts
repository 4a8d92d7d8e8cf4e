// syscalls.ts: x86_64 Linux numbers and constants the seccomp policies name.

/*
 * Only x86_64 is supported, so one table is enough. The numbers come from the
 * kernel's arch/x86/entry/syscalls/syscall_64.tbl (see asm/unistd_64.h); the
 * test suite compares them with the host header when it is installed.
 * The table holds what the policies allow plus a few syscalls the tests use
 * as examples of what must be refused.
 */
export const SYSCALLS = {
  read: 0,
  write: 1,
  open: 2,
  close: 3,
  mmap: 9,
  mprotect: 10,
  rt_sigreturn: 15,
  munmap: 11,
  ioctl: 16,
  pread64: 17,
  pwrite64: 18,
  sched_yield: 24,
  nanosleep: 35,
  getpid: 39,
  socket: 41,
  clone: 56,
  fork: 57,
  execve: 59,
  exit: 60,
  kill: 62,
  arch_prctl: 158,
  futex: 202,
  clock_gettime: 228,
  clock_nanosleep: 230,
  exit_group: 231,
  epoll_wait: 232,
  openat: 257,
  ppoll: 271,
  epoll_pwait: 281,
  timerfd_settime: 286,
  getrandom: 318,
  epoll_pwait2: 441,
} as const;

export type SyscallName = keyof typeof SYSCALLS;

/** Type guard for names coming from plain JavaScript or JSON. */
export function isSyscallName(name: string): name is SyscallName {
  return Object.prototype.hasOwnProperty.call(SYSCALLS, name);
}

/* struct seccomp_data (linux/seccomp.h): what a filter can load. */
export const SECCOMP_DATA_NR = 0;
export const SECCOMP_DATA_ARCH = 4;
export const SECCOMP_DATA_IP = 8;
export const SECCOMP_DATA_ARGS = 16;
export const SECCOMP_DATA_SIZE = 64;

/* AUDIT_ARCH_* values (linux/audit.h). */
export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_I386 = 0x40000003;

/** x32 syscalls are x86_64 numbers with this bit set; they report AUDIT_ARCH_X86_64 too. */
export const X32_SYSCALL_BIT = 0x40000000;

/* Filter return actions (linux/seccomp.h). */
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;

/** The kernel refuses filters longer than this (BPF_MAXINSNS, also SN_PLAN_MAX_BPF). */
export const BPF_MAXINSNS = 4096;

/* Clock ids (linux/time.h). */
export const CLOCK_REALTIME = 0;
export const CLOCK_MONOTONIC = 1;
export const CLOCK_PROCESS_CPUTIME_ID = 2;
export const CLOCK_BOOTTIME = 7;

/* arch_prctl operations (asm/prctl.h). */
export const ARCH_SET_GS = 0x1001;
export const ARCH_SET_FS = 0x1002;
export const ARCH_GET_FS = 0x1003;
