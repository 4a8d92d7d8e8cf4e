// compare.ts: run one application built for several targets and report, structurally, where their behaviour differs.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TARGETS } from './abi';
import { asUserFileError, openUserFile } from './elf/load';
import { UsageError } from './errors';
import type { GuestExit } from './tender/exit';
import type { BlockAttach, Target } from './tender/options';
import { run, type RunOptions } from './tender/run';

export interface CompareOptions<K extends Target = Target> extends Omit<RunOptions, 'kernel' | 'target' | 'block' | 'drive'> {
  /**
   * The same application built for two or more targets, e.g. { spt: 'app.spt', hvt: 'app.hvt' };
   * any ABI the tenders run (ring, Solo5 ABI 2 or 1), all builds of the same one.
   */
  kernels: Record<K, string>;
  /** Block devices: each target gets its own copy of `image`, so both start from the same content. */
  block?: Record<string, { image: string; sectorSize?: number }>;
  /**
   * Called once per target while the guest runs (for instance to send it the
   * same pings through a switch); the run ends when the guest exits.
   */
  drive?: (target: K) => Promise<void>;
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

/**
 * One difference between the first target run (in TARGETS order: spt before hvt)
 * and another, with each one's value under its own target name: { spt, hvt }.
 */
export type Difference = {
  what: 'status' | 'output' | 'block';
  /** For 'block', the device name; for 'output', the first differing line number (1-based). */
  where?: string;
} & Partial<Record<Target, string>>;

export interface Comparison<K extends Target = Target> {
  same: boolean;
  runs: Record<K, TargetRun>;
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

async function runOne<K extends Target>(target: K, o: CompareOptions<K>, dir: string): Promise<TargetRun> {
  // Keyed by the caller's device names (a Map, and blockDigests without a prototype), so `constructor`
  // or `__proto__` is a name like any other; the copies are numbered, so a name is never part of a path.
  const block = new Map<string, BlockAttach>();
  for (const [name, b] of Object.entries(o.block ?? {})) {
    const copy = path.join(dir, `${target}-${block.size}.img`);
    copyImage(b.image, copy, `block.${name}.image`);
    block.set(name, { path: copy, sectorSize: b.sectorSize });
  }
  const { kernels: _k, block: _b, drive, ...rest } = o;
  const r = await run({ ...rest, kernel: o.kernels[target], target, block, drive: drive && (() => drive(target)) });
  const output = r.output;
  const blockDigests: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, b] of block) blockDigests[name] = digest(b.path, `block.${name}`);
  return { target, exit: r.exit, output, appOutput: appOutput(output), blockDigests, timedOut: r.timedOut };
}

function firstDifferentLine(a: string, b: string): number {
  const al = a.split('\n');
  const bl = b.split('\n');
  for (let i = 0; i < Math.max(al.length, bl.length); i++) if (al[i] !== bl[i]) return i + 1;
  return 0;
}

/** Every difference between two runs, each value under its run's target name. */
function differ(a: TargetRun, b: TargetRun): Difference[] {
  const pair = (x: string, y: string) => ({ [a.target]: x, [b.target]: y });
  const differences: Difference[] = [];
  if (a.exit.status !== b.exit.status) differences.push({ what: 'status', ...pair(String(a.exit.status), String(b.exit.status)) });
  if (a.appOutput !== b.appOutput) {
    const line = firstDifferentLine(a.appOutput, b.appOutput);
    const at = (s: string) => s.split('\n')[line - 1] ?? '';
    differences.push({ what: 'output', where: String(line), ...pair(at(a.appOutput), at(b.appOutput)) });
  }
  for (const name of Object.keys(a.blockDigests)) {
    if (a.blockDigests[name] !== b.blockDigests[name]) {
      differences.push({ what: 'block', where: name, ...pair(a.blockDigests[name], b.blockDigests[name]) });
    }
  }
  return differences;
}

/**
 * Run the application on each target given (in TARGETS order), with the same
 * arguments and the same initial block images, and list every difference of
 * each from the first in exit status, application console output and final
 * block-image content.
 */
export async function compareTargets<K extends Target>(o: CompareOptions<K>): Promise<Comparison<K>> {
  const kernels = (o.kernels ?? {}) as Partial<Record<Target, unknown>>;
  const targets = TARGETS.filter((t): t is K => Object.hasOwn(kernels, t));
  if (targets.length < 2 || targets.some((t) => typeof kernels[t] !== 'string')) {
    throw new UsageError(`kernels: give a PATH for at least two of ${TARGETS.join(', ')}, e.g. { spt: PATH, hvt: PATH }`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'solo5-compare-'));
  try {
    const runs = {} as Record<K, TargetRun>;
    for (const target of targets) runs[target] = await runOne(target, o, dir);
    const differences = targets.slice(1).flatMap((t) => differ(runs[targets[0]], runs[t]));
    return { same: differences.length === 0, runs, differences };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
