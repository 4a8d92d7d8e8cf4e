// passt-ns.ts: a namespace passt can work in (a template tap with an address and a default route), and probes run inside it.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { root } from './paths';
import { childrenOf } from './proc';
import { tapSkip } from './tapns';

const passtOnPath = spawnSync('sh', ['-c', 'command -v passt'], { encoding: 'utf8' }).stdout.trim();

/**
 * Why the passt tests skip, or false. Under CI=true, .ci/run has installed
 * passt, so its absence is a failure (reported by the test), not a skip.
 */
export const passtSkip: string | false =
  tapSkip !== false ? tapSkip : passtOnPath === '' && process.env.CI !== 'true' ? 'passt is not installed (apt-get install passt)' : false;

export const passtMissingUnderCi = passtOnPath === '' && process.env.CI === 'true';

export function sh(cmd: string[]): string {
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

export interface PasstNs {
  name: string;
  /** The argv prefix that runs a command inside the namespace. */
  inNs(cmd: string[]): string[];
  /** What passt will give the guest: the template's address, its prefix, the default gateway and the resolver. */
  guestAddress: string;
  gateway: string;
  dns: string;
  /** An address on the namespace's loopback, for the guest to ping. */
  pingTarget: string;
}

/**
 * Namespace `name` with tap `tpl0` (no one attached: nothing sent there
 * leaves the namespace) at 10.N.0.2/24, a default route via 10.N.0.1, and
 * its own resolv.conf (`ip netns exec` binds /etc/netns/NAME/ over /etc), so
 * that even the DNS address passt offers lies inside it. Ping sockets are
 * allowed to every group, for passt's ICMP. Deleted on teardown.
 */
export function passtNamespace(tt: { teardown(fn: () => void): void }, name: string, n: number): PasstNs {
  const net = `10.${n}.0`;
  sh(['ip', 'netns', 'add', name]);
  const etc = path.join('/etc/netns', name);
  tt.teardown(() => {
    spawnSync('ip', ['netns', 'del', name]);
    fs.rmSync(etc, { recursive: true, force: true });
  });
  fs.mkdirSync(etc, { recursive: true });
  fs.writeFileSync(path.join(etc, 'resolv.conf'), `nameserver ${net}.53\n`);
  const inNs = (cmd: string[]) => ['ip', 'netns', 'exec', name, ...cmd];
  const pingTarget = `10.${n}.9.1`;
  for (const c of [
    ['ip', 'link', 'set', 'lo', 'up'],
    ['ip', 'addr', 'add', `${pingTarget}/32`, 'dev', 'lo'],
    ['ip', 'tuntap', 'add', 'dev', 'tpl0', 'mode', 'tap'],
    ['ip', 'addr', 'add', `${net}.2/24`, 'dev', 'tpl0'],
    ['ip', 'link', 'set', 'tpl0', 'up'],
    ['ip', 'route', 'add', 'default', 'via', `${net}.1`],
    ['sysctl', '-q', '-w', 'net.ipv4.ping_group_range=0 2147483647'],
  ]) {
    sh(inNs(c));
  }
  return { name, inNs, guestAddress: `${net}.2`, gateway: `${net}.1`, dns: `${net}.53`, pingTarget };
}

/** `name` and the packages it depends on, copied from the checkout's node_modules into `dir`'s. */
function copyModule(dir: string, name: string): void {
  const to = path.join(dir, 'node_modules', name);
  if (fs.existsSync(to)) return;
  const from = path.join(root, 'node_modules', name);
  fs.cpSync(from, to, { recursive: true, dereference: true });
  const deps = (JSON.parse(fs.readFileSync(path.join(from, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> })
    .dependencies;
  for (const d of Object.keys(deps ?? {})) copyModule(dir, d);
}

/**
 * A world-readable copy of what the CLI needs at run time, for running it as
 * nobody (the checkout may sit in a private home), with pino: the tender's
 * warnings about passt go through it.
 */
export function runtimeCopy(tt: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'solo5-passt-test-'));
  tt.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.chmodSync(dir, 0o755);
  for (const p of ['package.json', 'dist', 'build/Release', 'addon/helper/build', 'guest/build']) {
    fs.cpSync(path.join(root, p), path.join(dir, p), { recursive: true });
  }
  copyModule(dir, 'pino');
  spawnSync('chmod', ['-R', 'a+rX', dir]);
  return dir;
}

/** Bounds only a failing test: every wait below normally ends within seconds. */
const HANG_GUARD_MS = 120_000;

export interface Running {
  pid: number;
  out: string;
  err: string;
  /** Resolves when `re` appears on stdout or stderr; rejects if the process ends first. */
  waitFor(re: RegExp, what: string): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(sig: NodeJS.Signals): void;
}

/** Spawn argv, collecting its output; waitFor() waits for a line, not for time. */
export function start(argv: string[], opts: { uid?: number; gid?: number; cwd?: string } = {}): Running {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  const r: Running = {
    pid: child.pid ?? -1,
    out: '',
    err: '',
    exited: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal }))),
    kill: (sig) => child.kill(sig),
    waitFor(re, what) {
      return new Promise((resolve, reject) => {
        let guard: NodeJS.Timeout | undefined;
        const look = () => {
          const m = re.exec(r.out) ?? re.exec(r.err);
          if (!m) return false;
          clearTimeout(guard);
          child.stdout.off('data', look);
          child.stderr.off('data', look);
          resolve(m);
          return true;
        };
        if (look()) return;
        child.stdout.on('data', look);
        child.stderr.on('data', look);
        guard = setTimeout(
          () => reject(new Error(`no ${what} after ${HANG_GUARD_MS / 1000} s; stdout: ${r.out} stderr: ${r.err}`)),
          HANG_GUARD_MS,
        );
        void r.exited.then(({ code, signal }) => {
          clearTimeout(guard);
          if (!look()) reject(new Error(`ended (${code ?? signal}) before ${what}; stdout: ${r.out} stderr: ${r.err}`));
        });
      });
    },
  };
  child.stdout.on('data', (b: Buffer) => (r.out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (r.err += b.toString()));
  return r;
}

/** Children of `pid` whose command name starts with passt (Debian's wrapper execs passt.avx2). */
export function passtChildren(pid: number): number[] {
  const kids = childrenOf(pid);
  return kids.filter((k) => {
    try {
      return fs.readFileSync(`/proc/${k}/comm`, 'utf8').startsWith('passt');
    } catch {
      return false;
    }
  });
}
