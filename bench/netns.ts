// netns.ts: a private network namespace with a tap interface, for tap benchmarks (traffic never leaves it).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

export interface TapNamespace {
  ns: string;
  tap: string;
  hostIp: string;
  guestIp: string;
  /** argv prefix that runs a command inside the namespace. */
  exec(cmd: string[]): string[];
  close(): void;
}

/** Why tap benchmarks cannot run here, or undefined when they can. */
export function tapUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespace and tap)';
  if (!fs.existsSync('/dev/net/tun')) return 'no /dev/net/tun';
  if (spawnSync('ip', ['-V']).status !== 0) return 'no ip command (iproute2)';
  return undefined;
}

function sh(cmd: string[]): void {
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')}: ${r.stderr.trim()}`);
}

export function createTapNamespace(): TapNamespace {
  const ns = `solo5b${process.pid}`;
  sh(['ip', 'netns', 'add', ns]);
  const exec = (cmd: string[]) => ['ip', 'netns', 'exec', ns, ...cmd];
  try {
    sh(exec(['ip', 'link', 'set', 'lo', 'up']));
    sh(exec(['ip', 'tuntap', 'add', 'dev', 'tap0', 'mode', 'tap']));
    sh(exec(['ip', 'addr', 'add', '10.78.0.1/24', 'dev', 'tap0']));
    sh(exec(['ip', 'link', 'set', 'tap0', 'up']));
  } catch (e) {
    spawnSync('ip', ['netns', 'del', ns]);
    throw e;
  }
  return { ns, tap: 'tap0', hostIp: '10.78.0.1', guestIp: '10.78.0.2', exec, close: () => void spawnSync('ip', ['netns', 'del', ns]) };
}
