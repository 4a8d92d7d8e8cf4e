// netns.ts: a private network namespace with a tap interface, for tap benchmarks (traffic never leaves it).
import { spawn, spawnSync } from 'node:child_process';
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

/**
 * `ping -f` from the namespace's kernel to a guest that `cmd` (run inside the
 * namespace) starts on its tap, answering COUNT echoes and exiting 0: one ping
 * until it answers, then COUNT - 1 flooded. Returns ping's own elapsed time (ms).
 */
export async function pingFlood(tn: TapNamespace, cmd: string[], count: number, what: string): Promise<number> {
  const [file, ...args] = tn.exec(cmd);
  const g = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  g.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const ended = new Promise<number | null>((r) => g.on('close', (code) => r(code)));
  // The guest says nothing with --solo5:quiet; wait until it answers ARP-backed pings.
  for (let tries = 0; ; tries++) {
    const probe = tn.exec(['ping', '-c', '1', '-W', '1', tn.guestIp]);
    if (spawnSync(probe[0], probe.slice(1)).status === 0) break;
    if (tries > 30) {
      g.kill();
      throw new Error(`${what} guest never answered: ${stderr.trim()}`);
    }
  }
  const flood = tn.exec(['ping', '-q', '-f', '-c', String(count - 1), tn.guestIp]);
  const r = spawnSync(flood[0], flood.slice(1), { encoding: 'utf8', timeout: 600_000 });
  const code = await ended;
  const m = /(\d+) received.*time (\d+)ms/.exec(r.stdout);
  if (!m || Number(m[1]) !== count - 1) throw new Error(`${what}: ping -f: ${r.stdout.trim()} ${r.stderr.trim()}`);
  if (code !== 0) throw new Error(`${what} net guest exited ${code}: ${stderr.trim()}`);
  return Number(m[2]);
}
