// behaviour.ts: the expected behaviour of every bundled unikernel, the one table the app tests run.

export interface Expectation {
  /** Guest command-line arguments. */
  args: string[];
  /** Exit status the tender must report. */
  status: number;
  /** Strings that must appear in the console output. */
  markers: string[];
  /** Strings that must not appear. */
  absent?: string[];
  /** Why this status, when it is not plain success. */
  why?: string;
}

export interface AppBehaviour {
  app: string;
  spt: Expectation;
}

const success = (app: string, args: string[] = [], markers: string[] = []): AppBehaviour => ({
  app,
  spt: { args, status: 0, markers: [...markers, 'SUCCESS'], absent: ['FAILURE'] },
});

const segv = (app: string, why: string): AppBehaviour => ({
  app,
  spt: { args: [], status: 139, markers: [], absent: ['SUCCESS'], why },
});

export const behaviour: AppBehaviour[] = [
  success('hello', ['hello', 'world'], ['Hello, World', "Command line is: 'hello world'"]),
  {
    app: 'quiet',
    spt: { args: ['--solo5:quiet'], status: 0, markers: ['SUCCESS'], absent: ['Solo5:'] },
  },
  success('globals'),
  success('fpu'),
  success('time'),
  success('tls'),
  segv('exception', 'a CPU exception in user mode is delivered by Linux as SIGSEGV'),
  segv('zeropage', 'the first 64 KiB of guest memory are never mapped'),
  segv('xnow', 'text pages are mapped read+execute, never writable'),
  segv('wnox', 'data pages are mapped read+write, never executable'),
  segv('notls', 'with no TLS base, %fs-relative accesses hit the unmapped page 0'),
  {
    app: 'ssp',
    spt: { args: [], status: 255, markers: ['ABORT'], absent: ['SUCCESS'], why: 'stack smashing is detected and aborts' },
  },
  {
    app: 'abort',
    spt: { args: [], status: 255, markers: ['ABORT'], absent: ['SUCCESS'], why: 'solo5_abort exits with 255' },
  },
  {
    app: 'seccomp',
    spt: { args: [], status: 159, markers: [], absent: ['SUCCESS', 'FAILURE'], why: 'open(2) is not in the policy: SIGSYS' },
  },
  {
    app: 'exitcode',
    spt: { args: ['300'], status: 44, markers: [], why: 'the status is the guest\'s status & 0xff' },
  },
];
