// oci.ts: test helpers for solo5-oci: hand-written bundles, CLI calls, and the container's console as events.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { root } from './paths';

export const ociCli = path.join(root, 'dist', 'bin', 'solo5-oci.js');
/** The front door (addon/oci/oci_front.c): start and delete of monitorless containers without node, else ociCli. */
export const ociFront = path.join(root, 'addon', 'oci', 'build', 'solo5-oci');

export interface Bundle {
  dir: string;
  rootfs: string;
}

/** A bundle whose rootfs holds `kernel` at /NAME; `config` is merged over a minimal config.json. */
export function makeBundle(base: string, kernel: string, args: string[], config: Record<string, unknown> = {}): Bundle {
  const dir = fs.mkdtempSync(path.join(base, 'bundle-'));
  const rootfs = path.join(dir, 'rootfs');
  fs.mkdirSync(rootfs);
  const name = path.basename(kernel);
  fs.copyFileSync(kernel, path.join(rootfs, name));
  const spec = {
    ociVersion: '1.0.2',
    process: { args: [`/${name}`, ...args], cwd: '/' },
    root: { path: 'rootfs' },
    linux: { namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }] },
    ...config,
  };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
  return { dir, rootfs };
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A command that returns at once (start, state, kill, delete, list...); `front`:
 * through ociFront; `env`: the environment it gets (podman runs delete with no PATH).
 */
export function oci(stateRoot: string, args: string[], front = false, env?: NodeJS.ProcessEnv): CliResult {
  const r = front
    ? spawnSync(ociFront, ['--root', stateRoot, ...args], { encoding: 'utf8', env })
    : spawnSync(process.execPath, [ociCli, '--root', stateRoot, ...args], { encoding: 'utf8', env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface Created {
  /** create's own status, once it returned. */
  status: number | null;
  stderr: string;
  /** The container console (the monitor keeps create's stdout); settles when the monitor has exited. */
  console: Promise<string>;
  /** Resolves once the console has printed `text`. */
  waitFor(text: string): Promise<void>;
}

/** `create` with its stdout on a pipe that the monitor inherits, as conmon and the shim do. */
export function create(stateRoot: string, bundle: string, id: string, extra: string[] = []): Promise<Created> {
  const child = spawn(process.execPath, [ociCli, '--root', stateRoot, 'create', '--bundle', bundle, ...extra, id], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    out += d;
    for (const w of waiters.splice(0)) {
      if (out.includes(w.text)) w.resolve();
      else waiters.push(w);
    }
  });
  child.stderr.on('data', (d: string) => (err += d));
  const consoleDone = new Promise<string>((resolve) => child.stdout.on('close', () => resolve(out)));
  return new Promise((resolve) => {
    child.on('exit', (status) =>
      resolve({
        status,
        get stderr() {
          return err;
        },
        console: consoleDone,
        waitFor: (text) =>
          new Promise<void>((res, rej) => {
            if (out.includes(text)) res();
            else {
              waiters.push({ text, resolve: res });
              void consoleDone.then(() => (out.includes(text) ? res() : rej(new Error(`console ended without '${text}': ${out}`))));
            }
          }),
      }),
    );
  });
}

/** Every process whose command line mentions `needle` (to prove nothing was left behind). */
export function processesWith(needle: string): number[] {
  const pids: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(d)) continue;
    try {
      if (fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(needle)) pids.push(Number(d));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

export function tmpBase(t: { teardown(fn: () => void): void }): string {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'solo5-oci-'));
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
  return base;
}

/** Why a root-only test cannot run here, or undefined when it can. */
export function needRoot(...commands: string[]): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const c of commands) {
    if (spawnSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' }).status !== 0) {
      return `${c} is not installed (.ci/install-oci.sh installs it)`;
    }
  }
  return undefined;
}

/** solo5-oci's main() in this process, its output captured (a fresh node per refusal would cost the suite seconds). */
export async function ociInProcess(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const { main } = await import('../../lib/oci/cli.js');
  // eslint-disable-next-line @typescript-eslint/unbound-method -- kept only to be put back as it was, never called detached
  const saved = { out: process.stdout.write, err: process.stderr.write };
  let stdout = '';
  let stderr = '';
  process.stdout.write = (s: string) => ((stdout += s), true);
  process.stderr.write = (s: string) => ((stderr += s), true);
  try {
    return { status: await main(args), stdout, stderr };
  } finally {
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
  }
}

/** Wait until `file` exists (a watch on its directory, so no polling); rejects after ms. */
export function appears(file: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const w = fs.watch(path.dirname(file), () => {
      if (fs.existsSync(file)) done();
    });
    const timer = setTimeout(() => {
      w.close();
      reject(new Error(`${file} did not appear within ${ms} ms`));
    }, ms);
    const done = () => {
      clearTimeout(timer);
      w.close();
      resolve();
    };
    if (fs.existsSync(file)) done();
  });
}

/** A bundle running `kernel` (a block guest) with a 256 KiB zeroed image bound at its `storage` device. */
export function makeBlockBundle(base: string, kernel: string): Bundle {
  const img = path.join(base, 'disk.img');
  fs.writeFileSync(img, Buffer.alloc(256 * 1024));
  return makeBundle(base, kernel, [], {
    mounts: [{ destination: '/solo5/block/storage', type: 'bind', source: img, options: ['rbind'] }],
  });
}
