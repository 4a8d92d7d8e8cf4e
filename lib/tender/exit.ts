// exit.ts: map how the guest process ended to Solo5's exit-status conventions.
import os from 'node:os';
import { SN_SOLO5_HVT_DIAG_RUNNING } from '../abi';

const RUNNING = String.fromCharCode(SN_SOLO5_HVT_DIAG_RUNNING);

/** How a guest ended, and the status a Solo5 tender exits with for it. */
export type GuestExit =
  /** The guest called solo5_exit (status & 0xff) or solo5_abort (255). */
  | { kind: 'exit'; status: number; aborted: boolean }
  /** The guest was killed by a signal: status 128 + signal number (139 SIGSEGV, 159 SIGSYS). */
  | { kind: 'signal'; status: number; signal: NodeJS.Signals; reason: string; violation?: string }
  /**
   * The tender or the helper failed before the guest ran: status 1 and a one-line reason. `running`: a
   * guest of upstream's hvt ABI was ended by the helper with upstream's run-time line (a bad guest pointer
   * or port, a vCPU it cannot go on running, a host I/O failure), as upstream's tender ends it.
   */
  | { kind: 'error'; status: 1; error: string; running?: true };

const signalReasons: Partial<Record<NodeJS.Signals, string>> = {
  SIGSYS: 'a forbidden system call (seccomp)',
  SIGSEGV: 'a memory access violation or CPU exception',
  SIGILL: 'an illegal instruction',
  SIGFPE: 'an arithmetic exception',
  SIGBUS: 'a bus error',
  SIGKILL: 'SIGKILL',
  SIGTERM: 'SIGTERM',
};

/**
 * Decide the exit from the helper's status and its diagnostics stream. The guest
 * cannot write fd 2 (seccomp), so anything there came from the helper: before the
 * jump (the guest never ran), or marked SN_SOLO5_HVT_DIAG_RUNNING while it ran.
 */
export function classifyExit(code: number | null, signal: NodeJS.Signals | null, diag: string, violation?: string): GuestExit {
  // A guest of upstream's hvt ABI that broke the protocol while running: upstream's line, as it is.
  if (diag.startsWith(RUNNING)) return { kind: 'error', status: 1, error: diag.slice(1).split('\n')[0].trim(), running: true };
  const line = diag.split('\n').find((l) => l.trim() !== '');
  if (line !== undefined) return { kind: 'error', status: 1, error: line.trim() };
  if (violation !== undefined) {
    /*
     * The tender kills a guest that breaks the device protocol. One that broke
     * it and exited before the tender noticed (the rings are read once more
     * after the exit) ends the same way, whatever status it chose.
     */
    return {
      kind: 'signal',
      status: 128 + os.constants.signals.SIGKILL,
      signal: 'SIGKILL',
      reason: `killed by the tender: ${violation}`,
      violation,
    };
  }
  if (signal !== null) {
    const num = os.constants.signals[signal] ?? 0;
    return { kind: 'signal', status: 128 + num, signal, reason: signalReasons[signal] ?? signal };
  }
  const status = (code ?? 1) & 0xff;
  return { kind: 'exit', status, aborted: status === 255 };
}

/** One line for a person, or undefined when the guest simply exited. */
export function describeExit(exit: GuestExit): string | undefined {
  switch (exit.kind) {
    case 'exit':
      return undefined;
    case 'signal':
      return `guest killed by ${exit.signal} (${exit.reason}), exit status ${exit.status}`;
    case 'error':
      return exit.error;
  }
}
