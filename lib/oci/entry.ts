// entry.ts: what the solo5-oci bundle exports; each part is required when called, so `state` never loads the tender.
/* eslint-disable @typescript-eslint/no-require-imports -- each part is required lazily, when called (see above) */

/** Run one solo5-oci command (lib/oci/cli.ts). */
export function main(argv: readonly string[]): Promise<number> {
  return (require('./cli') as typeof import('./cli')).main(argv);
}

/** The container's monitor process (lib/oci/monitor.ts), started by create. */
export function monitor(dir: string): Promise<number> {
  return (require('./monitor') as typeof import('./monitor')).monitor(dir);
}

/** create's helper in the container's network namespace: leave the guest at its gate, say "ready PID", exit (lib/oci/gated.ts). */
export function gatedMain(dir: string): Promise<number> {
  return (require('./gated') as typeof import('./gated')).gatedMain(dir);
}

/** Make the pty on fd 0 the caller's controlling terminal (the monitor with --tty). */
export function takeTerminal(): void {
  (require('../native') as typeof import('../native')).native().setControllingTty(0);
}

/**
 * Run the top level of every module a container's life needs, for
 * tools/bundle-cli.js: the code cache it writes afterwards then holds them
 * compiled, where a cache taken before would hold only this file.
 */
export function preload(): void {
  require('./cli');
  require('./create');
  require('./monitor');
  require('./gated');
}
