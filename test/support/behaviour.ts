// behaviour.ts: the expected behaviour of every bundled unikernel on each target, the one table the app tests run.

export interface Expectation {
  /** Guest command-line arguments. */
  args: string[];
  /** Exit status the tender must report. */
  status: number;
  /** Strings that must appear in the console output. */
  markers: string[];
  /** Strings that must not appear. */
  absent?: string[];
  /** Why this status, when it is not plain success (on hvt: why it differs from spt, when it does). */
  why?: string;
}

export interface AppBehaviour {
  app: string;
  spt: Expectation;
  hvt: Expectation;
}

/** The same expectation on both targets. */
const both = (app: string, e: Expectation): AppBehaviour => ({ app, spt: e, hvt: e });

const success = (app: string, args: string[] = [], markers: string[] = []): AppBehaviour =>
  both(app, { args, status: 0, markers: [...markers, 'SUCCESS'], absent: ['FAILURE'] });

/*
 * A CPU exception: on spt Linux turns it into SIGSEGV (139); an hvt guest
 * has its own virtual CPU, so the exception reaches the bindings' handler,
 * which prints the trap and the registers and aborts (255).
 */
const fault = (app: string, trap: string, spt: string, hvt: string): AppBehaviour => ({
  app,
  spt: { args: [], status: 139, markers: [], absent: ['SUCCESS'], why: spt },
  hvt: { args: [], status: 255, markers: [`Solo5: trap: ${trap}`, 'rip 0x', 'ABORT'], absent: ['SUCCESS'], why: hvt },
});

export const behaviour: AppBehaviour[] = [
  success('hello', ['hello', 'world'], ['Hello, World', "Command line is: 'hello world'"]),
  both('quiet', { args: ['--solo5:quiet'], status: 0, markers: ['SUCCESS'], absent: ['Solo5:'] }),
  success('globals'),
  success('fpu'),
  success('time'),
  success('bigwrite', [], ['line 000:', 'line 128:', 'line 255:']),
  success('tls'),
  fault(
    'exception',
    'general protection (#13)',
    'a CPU exception in user mode is delivered by Linux as SIGSEGV',
    "the #GP goes to the guest's own exception handler: register dump, then abort",
  ),
  fault(
    'zeropage',
    'page fault (#14)',
    'the first 64 KiB of guest memory are never mapped',
    'the first 64 KiB are not present in the guest page tables: #PF, register dump, abort',
  ),
  fault(
    'xnow',
    'page fault (#14)',
    'text pages are mapped read+execute, never writable',
    'text pages are read-only in the guest page tables: the write is a #PF, register dump, abort',
  ),
  {
    app: 'gdtwrite',
    spt: {
      args: [],
      status: 139,
      markers: [],
      absent: ['SUCCESS', 'still running'],
      why: 'sgdt gives no table the process may write: SIGSEGV',
    },
    hvt: {
      args: [],
      status: 255,
      markers: ['gdtwrite: rewritten', 'Solo5: trap in ring 0 (descriptor tables changed?): ABORT'],
      absent: ['still running'],
      why: "the GDT is the guest's own writable data (docs/hvt.md); the next iretq to ring 3 faults in ring 0, and the trap stub ends the guest instead of looping",
    },
  },
  fault(
    'wnox',
    'page fault (#14)',
    'data pages are mapped read+write, never executable',
    'data pages are no-execute in the guest page tables: the jump is a #PF, register dump, abort',
  ),
  fault(
    'notls',
    'page fault (#14)',
    'with no TLS base, %fs-relative accesses hit the unmapped page 0',
    'the FS base starts at 0, so %fs-relative accesses hit unmapped memory: #PF, register dump, abort',
  ),
  both('ssp', { args: [], status: 255, markers: ['ABORT'], absent: ['SUCCESS'], why: 'stack smashing is detected and aborts' }),
  both('abort', { args: [], status: 255, markers: ['ABORT'], absent: ['SUCCESS'], why: 'solo5_abort exits with 255' }),
  {
    app: 'seccomp',
    spt: { args: [], status: 159, markers: [], absent: ['SUCCESS', 'FAILURE'], why: 'open(2) is not in the policy: SIGSYS' },
    hvt: {
      args: [],
      status: 255,
      markers: ['Solo5: trap: system call 2 ', 'ABORT'],
      absent: ['SUCCESS', 'FAILURE'],
      why: "there is no host kernel to call: `syscall` reaches the bindings' trap stub, which reports it and aborts",
    },
  },
  both('exitcode', { args: ['300'], status: 44, markers: [], why: "the status is the guest's status & 0xff" }),
];
