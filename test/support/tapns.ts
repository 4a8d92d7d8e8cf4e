// tapns.ts: a network namespace of the test's own with a tap interface in it, and why a host cannot have one.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

/** Why tap tests skip on this host, or false when they can run. */
export const tapSkip: string | false =
  process.getuid?.() !== 0
    ? 'creating a network namespace and a tap interface needs root'
    : !fs.existsSync('/dev/net/tun')
      ? 'no /dev/net/tun on this host'
      : spawnSync('ip', ['-V']).status !== 0
        ? 'the ip command (iproute2) is not installed'
        : false;

function sh(cmd: string[]): void {
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')}: ${r.stderr.trim()}`);
}

/**
 * Creates namespace `name` with `tap` up at `cidr` (and the MTU given), deleted on teardown. Returns
 * the argv prefix that runs a command inside it.
 */
export function tapNamespace(
  tt: { teardown(fn: () => void): void },
  name: string,
  tap: string,
  cidr: string,
  mtu?: number,
): (cmd: string[]) => string[] {
  sh(['ip', 'netns', 'add', name]);
  tt.teardown(() => spawnSync('ip', ['netns', 'del', name]));
  const inNs = (cmd: string[]) => ['ip', 'netns', 'exec', name, ...cmd];
  sh(inNs(['ip', 'link', 'set', 'lo', 'up']));
  sh(inNs(['ip', 'tuntap', 'add', 'dev', tap, 'mode', 'tap']));
  if (mtu !== undefined) sh(inNs(['ip', 'link', 'set', tap, 'mtu', String(mtu)]));
  sh(inNs(['ip', 'addr', 'add', cidr, 'dev', tap]));
  sh(inNs(['ip', 'link', 'set', tap, 'up']));
  return inNs;
}
