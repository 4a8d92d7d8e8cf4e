// gdb.ts: whether gdb is here for the debugging tests; under CI (.ci/run installs it) a missing gdb fails them instead.
import { execFileSync } from 'node:child_process';

function probe(): string | false {
  try {
    execFileSync('gdb', ['--version'], { stdio: 'ignore' });
    return false;
  } catch {
    return process.env.CI === 'true' ? false : 'no gdb on this host (apt-get install gdb)';
  }
}

/** A tap skip reason, or false: run (gdb present, or CI, where its absence must fail the test). */
export const gdbSkip = probe();
