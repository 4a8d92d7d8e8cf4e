// exit.ts: how a QEMU run of a virtio unikernel ended, as a table from QEMU's status, the signal sent and the console to the launcher's status.
import os from 'node:os';

/** QEMU's status when a guest writes Solo5's value (41) to isa-debug-exit: (41 << 1) | 1. */
export const DEBUG_EXIT_SOLO5 = 83;

export type VirtioExit =
  /** The guest ended itself: its own status, from its `solo5_exit(N) called` or ABORT line, or from the value it wrote. */
  | { kind: 'exit'; status: number; aborted: boolean }
  /** The guest ended through isa-debug-exit but said nothing of its status (--solo5:quiet): status 0, with a warning. */
  | { kind: 'unknown'; status: 0 }
  /** QEMU exited 0: the guest powered off, or triple-faulted (-no-reboot): status 0 unless the console said otherwise. */
  | { kind: 'powered-off'; status: number }
  /** The launcher passed a signal on to QEMU: 128 + its number, like the tenders. */
  | { kind: 'signal'; status: number; signal: NodeJS.Signals }
  /** QEMU failed (could not start, bad option, crashed): status 1 and its first stderr line. */
  | { kind: 'qemu-error'; status: 1; error: string };

/** What the console said about the guest's end: the last such line wins. */
export class ConsoleWatch {
  status: number | undefined;
  /** Bytes seen at all (a QEMU that failed before the guest ran printed none). */
  bytes = 0;
  private partial = '';

  feed(chunk: Buffer): void {
    this.bytes += chunk.length;
    const text = this.partial + chunk.toString('latin1');
    const lines = text.split('\n');
    // A line is kept at most 4 KiB long: the status lines are short, and a guest printing no newline must not grow this.
    this.partial = (lines.pop() ?? '').slice(-4096);
    for (const line of lines) this.line(line.replace(/\r$/, ''));
  }

  private line(line: string): void {
    const m = /^Solo5: solo5_exit\((-?\d+)\) called$/.exec(line);
    if (m) this.status = Number(m[1]) & 0xff;
    else if (line.startsWith('Solo5: ABORT')) this.status = 255;
  }
}

/** QEMU's first non-empty stderr line, or a description of its status. */
function firstLine(stderr: string, code: number | null, signal: NodeJS.Signals | null): string {
  const line = stderr.split('\n').find((l) => l.trim() !== '' && !l.includes("host doesn't support requested feature"));
  if (line !== undefined) return line.trim().replace(/^qemu-system-x86_64: /, '');
  return signal !== null ? `QEMU was killed by ${signal}` : `QEMU exited with status ${code}`;
}

/**
 * The table: a signal the launcher forwarded wins (QEMU exits 0 on SIGTERM);
 * then 83 (Solo5's debug-exit value), any other odd status (a guest's own
 * debug-exit value V gives (V << 1) | 1), 0 (powered off), anything else
 * (QEMU's error).
 */
export function classifyVirtioExit(
  code: number | null,
  signal: NodeJS.Signals | null,
  sent: NodeJS.Signals | undefined,
  consoleStatus: number | undefined,
  stderr: string,
): VirtioExit {
  if (sent !== undefined) return { kind: 'signal', status: 128 + (os.constants.signals[sent] ?? 0), signal: sent };
  if (code === DEBUG_EXIT_SOLO5) {
    if (consoleStatus === undefined) return { kind: 'unknown', status: 0 };
    return { kind: 'exit', status: consoleStatus, aborted: consoleStatus === 255 };
  }
  if (code !== null && code % 2 === 1 && (code !== 1 || consoleStatus !== undefined)) {
    const status = consoleStatus ?? code >> 1;
    return { kind: 'exit', status, aborted: status === 255 };
  }
  if (code === 0) return { kind: 'powered-off', status: consoleStatus ?? 0 };
  return { kind: 'qemu-error', status: 1, error: firstLine(stderr, code, signal) };
}

/** One line for a person, or undefined when the guest simply exited. */
export function describeVirtioExit(e: VirtioExit): string | undefined {
  switch (e.kind) {
    case 'exit':
      return undefined;
    case 'unknown':
      return "the guest ended without saying its status (no 'solo5_exit(N) called' line; --solo5:quiet?); exit status 0";
    case 'powered-off':
      return `the guest powered off or triple-faulted without a 'solo5_exit(N) called' line; exit status ${e.status}`;
    case 'signal':
      return `QEMU ended by ${e.signal}, exit status ${e.status}`;
    case 'qemu-error':
      return `QEMU failed: ${e.error}`;
  }
}
