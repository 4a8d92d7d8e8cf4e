// compare.ts: run one unikernel on spt and hvt (and virtio under QEMU, if given) and report, structurally, where their behaviour differs.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { asUserFileError, openUserFile } from './elf/load';
import { UsageError } from './errors';
import type { GuestExit } from './tender/exit';
import type { BlockAttach, NetAttach, Target } from './tender/options';
import { run, type RunOptions } from './tender/run';
import type { VirtioExit } from './virtio/exit';
import { runVirtio } from './virtio/run';
import { bridgeSwitch, type SwitchBridge } from './virtio/switch-bridge';

export interface CompareOptions extends Omit<RunOptions, 'kernel' | 'target' | 'block' | 'drive'> {
  /**
   * The same application built for each target, e.g. { spt: 'app.spt', hvt: 'app.hvt' }, all with
   * one ABI the tenders run (ring, Solo5 ABI 2 or 1); with
   * `virtio` (solo5-build --target=virtio), that build runs too, under QEMU (solo5-virtio-run's
   * accelerator choice): its net devices may be a `switch` (a port bridged to QEMU's
   * `-netdev stream`) or an `iface` by name, and `drive` is called for it too, once the
   * application has printed its first line, or has ended without one (QEMU drops frames that come
   * before the guest's driver is up).
   */
  kernels: Record<Target, string> & { virtio?: string };
  /** Block devices: each target gets its own copy of `image`, so both start from the same content. */
  block?: Record<string, { image: string; sectorSize?: number }>;
  /**
   * Called once per target while the guest runs (for instance to send it the
   * same pings through a switch); the run ends when the guest exits.
   */
  drive?: (target: Target | 'virtio') => Promise<void>;
}

export interface TargetRun {
  target: Target;
  exit: GuestExit;
  /** The full console output. */
  output: string;
  /** The console output without the bindings' own lines (those starting with "Solo5: "). */
  appOutput: string;
  /** SHA-256 of each block image after the run; an object without a prototype. */
  blockDigests: Record<string, string>;
  timedOut: boolean;
}

export interface Difference {
  what: 'status' | 'output' | 'block';
  /** For 'block', the device name; for 'output', the first differing line number (1-based). */
  where?: string;
  spt: string;
  hvt: string;
  /** Virtio's value, when kernels.virtio was given. */
  virtio?: string;
}

/** The virtio run: as a TargetRun, with QEMU's exit table (lib/virtio/exit.ts). */
export interface VirtioTargetRun extends Omit<TargetRun, 'target' | 'exit'> {
  target: 'virtio';
  exit: VirtioExit;
}

export interface Comparison {
  same: boolean;
  runs: Record<Target, TargetRun> & { virtio?: VirtioTargetRun };
  differences: Difference[];
}

/** The application's own output: the bindings' banner and log lines ("Solo5: ...") removed. */
export function appOutput(output: string): string {
  return output
    .split('\n')
    .filter((l) => !l.startsWith('Solo5: '))
    .join('\n');
}

/** Block images are disk images, possibly gigabytes: read a bounded chunk at a time. */
const CHUNK = 1 << 20;

/**
 * Each chunk of a block image in turn. The image is the caller's (or our copy
 * of it), so it is opened as every user file is (openUserFile: regular files
 * only, one-line errors), and read no further than the size fstat saw.
 */
function eachChunk(file: string, what: string, use: (chunk: Buffer) => void): void {
  const fail = (why: string): Error => new UsageError(`${what}: ${file}: ${why}`);
  const { fd, size } = openUserFile(file, fail);
  try {
    const buf = Buffer.alloc(Math.min(CHUNK, size));
    for (let at = 0; at < size;) {
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, Math.min(buf.length, size - at), at);
      } catch (e) {
        throw asUserFileError(e, fail);
      }
      if (n === 0) break;
      use(buf.subarray(0, n));
      at += n;
    }
  } finally {
    fs.closeSync(fd);
  }
}

function digest(file: string, what: string): string {
  const h = createHash('sha256');
  eachChunk(file, what, (chunk) => h.update(chunk));
  return h.digest('hex');
}

/** Copies the caller's image into our directory, through the same checks as digest. */
function copyImage(from: string, to: string, what: string): void {
  const out = fs.openSync(to, 'wx', 0o600);
  try {
    eachChunk(from, what, (chunk) => {
      for (let off = 0; off < chunk.length;) off += fs.writeSync(out, chunk, off, chunk.length - off);
    });
  } finally {
    fs.closeSync(out);
  }
}

async function runOne(target: Target, o: CompareOptions, dir: string): Promise<TargetRun> {
  const block = blockCopies(target, o, dir);
  const { kernels: _k, block: _b, drive, ...rest } = o;
  const r = await run({ ...rest, kernel: o.kernels[target], target, block, drive: drive && (() => drive(target)) });
  const output = r.output;
  return { target, exit: r.exit, output, appOutput: appOutput(output), blockDigests: digests(block), timedOut: r.timedOut };
}

function blockCopies(target: string, o: CompareOptions, dir: string): Map<string, BlockAttach> {
  // Keyed by the caller's device names (a Map, and blockDigests without a prototype), so `constructor`
  // or `__proto__` is a name like any other; the copies are numbered, so a name is never part of a path.
  const block = new Map<string, BlockAttach>();
  for (const [name, b] of Object.entries(o.block ?? {})) {
    const copy = path.join(dir, `${target}-${block.size}.img`);
    copyImage(b.image, copy, `block.${name}.image`);
    block.set(name, { path: copy, sectorSize: b.sectorSize });
  }
  return block;
}

function digests(block: Map<string, BlockAttach>): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, b] of block) out[name] = digest(b.path, `block.${name}`);
  return out;
}

function isReadonlyMap(v: Record<string, NetAttach> | ReadonlyMap<string, NetAttach>): v is ReadonlyMap<string, NetAttach> {
  return v instanceof Map;
}

/** The virtio run's net devices: a switch port through a stream QEMU reads, or a tap by name. */
function virtioNets(o: CompareOptions, bridges: SwitchBridge[]): Map<string, string | { streamFd: number; mac: string }> {
  const nets = new Map<string, string | { streamFd: number; mac: string }>();
  const given = o.net ?? {};
  const entries: [string, NetAttach][] = isReadonlyMap(given) ? [...given] : Object.entries(given);
  for (const [name, a] of entries) {
    if (a.switch !== undefined) {
      const b = bridgeSwitch(a.switch, a.mac);
      bridges.push(b);
      nets.set(name, { streamFd: b.qemuFd, mac: b.mac });
    } else if (typeof a.iface === 'string' && !a.iface.startsWith('@')) nets.set(name, a.iface);
    else throw new UsageError(`net.${name}: with kernels.virtio, a net device is a switch or a tap interface by name`);
  }
  return nets;
}

async function runVirtioOne(kernel: string, o: CompareOptions, dir: string): Promise<VirtioTargetRun> {
  const block = blockCopies('virtio', o, dir);
  const chunks: Buffer[] = [];
  // QEMU drops the frames that arrive before the guest's driver is up: drive waits for the application's first line.
  let appStarted = () => {};
  const started = new Promise<void>((resolve) => (appStarted = resolve));
  let partial: string | undefined = '';
  const out = new Writable({
    write(c: Buffer, _e, cb) {
      chunks.push(c);
      if (partial !== undefined) {
        const lines = (partial + c.toString('latin1')).split('\n');
        partial = (lines.pop() ?? '').slice(-4096);
        if (lines.some((l) => !l.startsWith('Solo5: '))) {
          partial = undefined;
          appStarted();
        }
      }
      cb();
    },
  });
  const blocks = new Map<string | undefined, string>([...block].map(([name, b]) => [name, b.path]));
  const bridges: SwitchBridge[] = [];
  const abort = new AbortController();
  let timedOut = false;
  const timer = o.timeoutMs === undefined ? undefined : setTimeout(() => ((timedOut = true), abort.abort()), o.timeoutMs);
  try {
    const running = runVirtio({
      kernel,
      args: o.args ?? [],
      memMiB: Math.max(o.memMB ?? 32, 16),
      accel: 'auto',
      blocks,
      nets: virtioNets(o, bridges),
      quiet: true,
      out,
      warn: () => {},
      signal: abort.signal,
    });
    // As run() does: the caller drives the guest while it runs; a throw ends the guest and is the caller's error.
    let failed = false;
    running.then(appStarted, () => ((failed = true), appStarted()));
    try {
      await started;
      // A run that failed (bad kernel, QEMU missing) is not driven: its error is what the caller hears.
      if (o.drive && !failed) await o.drive('virtio');
    } catch (e) {
      abort.abort();
      await running.catch(() => undefined);
      throw e;
    }
    const exit = await running;
    const output = Buffer.concat(chunks).toString('utf8');
    return { target: 'virtio', exit, output, appOutput: appOutput(output), blockDigests: digests(block), timedOut };
  } finally {
    if (timer) clearTimeout(timer);
    for (const b of bridges) b.close();
  }
}

function firstDifferentLine(a: string, b: string): number {
  const al = a.split('\n');
  const bl = b.split('\n');
  for (let i = 0; i < Math.max(al.length, bl.length); i++) if (al[i] !== bl[i]) return i + 1;
  return 0;
}

/**
 * Run the unikernel on spt, then on hvt (then virtio), with the same arguments and the same
 * initial block images, and list every difference in exit status, application
 * console output and final block-image content.
 */
export async function compareTargets(o: CompareOptions): Promise<Comparison> {
  const k = o.kernels as Partial<Record<string, unknown>> | undefined;
  if (!k || typeof k.spt !== 'string' || typeof k.hvt !== 'string' || !['string', 'undefined'].includes(typeof k.virtio)) {
    throw new UsageError('kernels: give { spt: PATH, hvt: PATH }, and virtio: PATH to add a virtio build');
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'solo5-compare-'));
  try {
    const spt = await runOne('spt', o, dir);
    const hvt = await runOne('hvt', o, dir);
    const virtio = o.kernels.virtio === undefined ? undefined : await runVirtioOne(o.kernels.virtio, o, dir);
    const all: (TargetRun | VirtioTargetRun)[] = virtio ? [spt, hvt, virtio] : [spt, hvt];
    // A difference names every target's value; targets that agree with spt agree with each other.
    const values = (f: (r: TargetRun | VirtioTargetRun) => string) => ({ spt: f(spt), hvt: f(hvt), ...(virtio && { virtio: f(virtio) }) });
    const differs = (f: (r: TargetRun | VirtioTargetRun) => string) => all.some((r) => f(r) !== f(spt));
    const differences: Difference[] = [];
    const status = (r: TargetRun | VirtioTargetRun) => String(r.exit.status);
    if (differs(status)) differences.push({ what: 'status', ...values(status) });
    const other = all.find((r) => r.appOutput !== spt.appOutput);
    if (other !== undefined) {
      const line = firstDifferentLine(spt.appOutput, other.appOutput);
      differences.push({ what: 'output', where: String(line), ...values((r) => r.appOutput.split('\n')[line - 1] ?? '') });
    }
    for (const name of Object.keys(spt.blockDigests)) {
      const sum = (r: TargetRun | VirtioTargetRun) => r.blockDigests[name];
      if (differs(sum)) differences.push({ what: 'block', where: name, ...values(sum) });
    }
    return { same: differences.length === 0, runs: { spt, hvt, ...(virtio && { virtio }) }, differences };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
