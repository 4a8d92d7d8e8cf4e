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
  /** The ring-ABI build on spt; the Solo5-ABI spt builds behave the same (test/solo5-abi.test.ts). */
  spt: Expectation;
  /** The ring-ABI build on hvt. */
  hvt: Expectation;
  /**
   * The Solo5-ABI hvt builds (ABI 2 and ABI 1, guest/build/solo5{,-v1}/APP.hvt), under solo5-hvt;
   * absent for the ring-only apps (RING_ONLY in guest/Makefile), which have no Solo5-ABI build.
   */
  solo5Hvt?: Expectation;
  /**
   * The virtio build (guest/build/solo5/APP.virtio) under solo5-virtio-run, QEMU: its status is read from
   * the guest's `solo5_exit(N) called` line (docs/virtio.md); absent for the apps with no virtio build
   * (the raw-system-call apps and the ring-only ones, guest/Makefile).
   */
  virtio?: Expectation;
}

/** The same expectation on every target and ABI. */
const both = (app: string, e: Expectation): AppBehaviour => ({ app, spt: e, hvt: e, solo5Hvt: e, virtio: e });

const success = (app: string, args: string[] = [], markers: string[] = []): AppBehaviour =>
  both(app, { args, status: 0, markers: [...markers, 'SUCCESS'], absent: ['FAILURE'] });

/*
 * A CPU exception: on spt Linux turns it into SIGSEGV (139); an hvt guest
 * has its own virtual CPU, so the exception reaches the bindings' handler,
 * which prints the trap and the registers and aborts (255). A virtio guest
 * runs in ring 0 with its own IDT: the same, in the virtio bindings' words.
 */
const fault = (
  app: string,
  trap: string,
  spt: string,
  hvt: string,
  solo5Hvt: Expectation = upstreamTrap(trap),
  virtio: Expectation = virtioTrap(trap),
): AppBehaviour => ({
  app,
  spt: { args: [], status: 139, markers: [], absent: ['SUCCESS'], why: spt },
  hvt: { args: [], status: 255, markers: [`Solo5: trap: ${trap}`, 'rip 0x', 'ABORT'], absent: ['SUCCESS'], why: hvt },
  solo5Hvt,
  virtio,
});

/** The virtio bindings' IDT stub: the vector and the registers on the ABORT line, then 255. */
function virtioTrap(trap: string): Expectation {
  const vector = /#(\d+)/.exec(trap)?.[1] ?? '?';
  return {
    args: [],
    status: 255,
    markers: [`Solo5: ABORT: trap: vector ${vector}, error 0x`, 'rip 0x'],
    absent: ['SUCCESS'],
    why: 'the guest runs in ring 0 with its own IDT: the exception ends it with an ABORT line naming the vector',
  };
}

/*
 * virtio maps the first 4 GiB once, read-write-execute, page 0 included (the
 * BIOS data area): the access the app expects to fault works, and it says so.
 */
const unprotected = (report: string, what: string): Expectation => ({
  args: [],
  status: 1,
  markers: [report, 'FAILURE'],
  absent: ['SUCCESS', 'ABORT'],
  why: `no memory protection: one identity mapping of the first 4 GiB, read-write-execute, so ${what}`,
});

/*
 * The Solo5-ABI hvt bindings run the application in ring 3 and report a CPU
 * exception in upstream's words (docs/guest.md), then halt with 255.
 */
const UPSTREAM_TYPE: Record<string, string> = { 'general protection (#13)': '#GP', 'page fault (#14)': '#PF' };

function upstreamTrap(trap: string): Expectation {
  const type = UPSTREAM_TYPE[trap];
  const cr2 = type === '#PF' ? ['Solo5: trap: cr2=0x'] : [];
  return {
    args: [],
    status: 255,
    markers: [`Solo5: trap: type=${type} `, 'rip=0x', ...cr2, 'Solo5: ABORT: Fatal trap'],
    absent: ['SUCCESS'],
    why: `the ${type} reaches the bindings' exception handler, which prints upstream's trap lines and aborts`,
  };
}

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
    undefined,
    unprotected('zeropage: read 0x', 'page 0 reads'),
  ),
  fault(
    'xnow',
    'page fault (#14)',
    'text pages are mapped read+execute, never writable',
    'text pages are read-only in the guest page tables: the write is a #PF, register dump, abort',
    {
      args: [],
      status: 1,
      markers: ['KVM: host/guest translation fault: rip=0x'],
      absent: ['SUCCESS', 'Solo5: trap:'],
      why: "text is read-only host memory (upstream's layout): the store is a failed guest access, which ends the tender with upstream's message and 1",
    },
    unprotected('xnow: text was writable', 'the store into text works'),
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
    {
      args: [],
      status: 1,
      markers: ['wnox: data was executable (returned 42)', 'FAILURE'],
      absent: ['SUCCESS', 'Solo5: trap:'],
      why: "upstream's hvt page tables set no NX bit, so the jump into data runs and the app reports the failure",
    },
    unprotected('wnox: data was executable (returned 42)', 'the jump into data runs'),
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
    solo5Hvt: {
      args: [],
      status: 255,
      markers: ['Solo5: trap: type=#UD ', '(system call 2)', 'Solo5: ABORT: Fatal trap'],
      absent: ['SUCCESS', 'FAILURE'],
      why: 'there is no host kernel to call: `syscall` is #UD in ring 3 (EFER.SCE clear, as upstream), reported with its number, then abort',
    },
  },
  both('exitcode', { args: ['300'], status: 44, markers: [], why: "the status is the guest's status & 0xff" }),
];
