// signals.ts: what every CLI entry point runs first: no signal opens Node's inspector, and SIGUSR1 acts as it does on a C program.

/**
 * Node opens its inspector (a debugger on 127.0.0.1:9229 that runs whatever
 * JavaScript a local connection sends it) when the process gets SIGUSR1 and
 * nothing in it listens for that signal. The tenders and solo5-oci run as
 * root, so that signal would hand root to any local user. A listener for
 * SIGUSR1 replaces Node's own handler (libuv installs its handler in its
 * place), and this one does what the default action does to a C program,
 * upstream's tender included: the process dies of the signal. A CLI that
 * gives SIGUSR1 a meaning of its own (the switch prints its counters, a
 * tender ends its guest, the OCI monitor passes it on to the guest) adds its
 * listener, and this one stands aside while that one is there.
 */
function actAsDefault(sig: NodeJS.Signals): void {
  if (process.listenerCount(sig) > 1) return;
  // With no listener left, libuv sets SIG_DFL (not Node's inspector handler), so the signal now ends the process.
  process.off(sig, actAsDefault);
  process.kill(process.pid, sig);
}

/**
 * Where a SIGUSR1 that arrives while Node is still starting (before
 * guardSignals runs) makes the inspector try to listen: 192.0.2.1 is
 * TEST-NET-1 (RFC 5737), an address no host has, so the bind fails with
 * EADDRNOTAVAIL and nothing listens. Every installed command's `#!` line
 * and the OCI monitor's node command carry it.
 */
export const INSPECT_NOWHERE = '--inspect-port=192.0.2.1:9229';

interface Inspector {
  url(): string | undefined;
  close(): void;
}

/** node:inspector, or undefined in a Node built without one (which then has nothing to open). */
function inspector(): Inspector | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded here, first, whatever the entry's imports
    return require('node:inspector') as Inspector;
  } catch {
    return undefined;
  }
}

/**
 * Take SIGUSR1 from Node, then refuse to go on if the inspector is open all
 * the same: `--inspect` on node's command line, in NODE_OPTIONS (the
 * installed commands' `#!` line drops NODE_OPTIONS, but `node FILE` keeps
 * it), or a SIGUSR1 that arrived while Node was starting, before this ran.
 */
export function guardSignals(program: string): void {
  process.on('SIGUSR1', actAsDefault);
  // Nor is it passed on: the OCI monitor is a node process this one starts.
  delete process.env.NODE_OPTIONS;
  const inspect = inspector();
  if (inspect?.url() === undefined) return;
  inspect.close();
  process.stderr.write(`${program}: refusing to run with Node's inspector open (--inspect, NODE_OPTIONS, or SIGUSR1 while starting)\n`);
  process.exit(1);
}
