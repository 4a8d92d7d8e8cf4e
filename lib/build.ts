// build.ts: turns C sources plus a JSON manifest into a unikernel ELF linked against the guest bindings.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TARGETS, type Target } from './abi';
import { HostError, UsageError } from './errors';
import { generateManifestC } from './manifest/generate';
import { quote } from './quote';

/** What solo5-build builds for: the two tenders, and Solo5's virtio target (QEMU; solo5-virtio-run). */
export type BuildTarget = Target | 'virtio';
export const BUILD_TARGETS: readonly BuildTarget[] = [...TARGETS, 'virtio'];

/**
 * Which guest ABI the bindings speak: the project's ring ABI, or upstream
 * Solo5's own ABI of the target (spt or hvt), version 2 (Solo5 >= 0.8) or
 * 1 (0.6 to 0.7).
 */
export type BuildAbi = 'ring' | 'solo5' | 'solo5-v1';
export const BUILD_ABIS: readonly BuildAbi[] = ['ring', 'solo5', 'solo5-v1'];

export interface BuildOptions {
  /** Which bindings to link: spt (a seccomp-confined process), hvt (a KVM virtual machine) or virtio (QEMU; Solo5 ABI only). */
  target: BuildTarget;
  /** The guest ABI (default 'ring'). */
  abi?: BuildAbi;
  /** Path of the JSON manifest (type solo5.manifest). */
  manifest: string;
  /** C (.c) and assembly (.S, .s) sources of the application. */
  sources: string[];
  /** Path of the ELF to write; its directory is created if needed. */
  output: string;
  /** Extra compiler flags for the application's sources (e.g. -DDEBUG, -Iinclude). */
  cflags?: string[];
  /** Receives each command run and the compiler's full diagnostics (solo5-build --verbose). */
  log?: (message: string) => void;
}

/**
 * Where the package keeps the pieces a build for `target` and `abi` needs;
 * resolved from this file (dist/lib/build.js). The Solo5 ABI's two versions
 * share their compiled bindings but for the ABI1 note, and differ in the
 * linker script.
 */
export function guestPaths(target: BuildTarget = 'spt', root = path.resolve(__dirname, '..', '..'), abi: BuildAbi = 'ring') {
  const dir = (...p: string[]): string => path.join(root, 'guest', ...p);
  const common = {
    root,
    include: [dir('include'), path.join(root, 'include')],
    flagsFile: dir(`${target}.flags`),
  };
  if (target === 'virtio') {
    return {
      ...common,
      linkerScript: dir('bindings', 'virtio', 'virtio.ld'),
      linkerSearch: [] as string[],
      bindings: dir('build', 'bindings-virtio', 'solo5-virtio.o'),
    };
  }
  const v = abi === 'solo5' ? '' : '-v1';
  if (abi !== 'ring' && target === 'hvt') {
    return {
      ...common,
      linkerScript: dir('bindings', 'solo5hvt', `solo5-hvt${v}.ld`),
      // The CPU tables' address pieces: hvt_tables.ld (shared with the ring-ABI hvt bindings), s5h_tables.ld.
      linkerSearch: [dir('bindings', 'hvt'), dir('bindings', 'solo5hvt')],
      bindings: dir('build', 'bindings-solo5hvt', `solo5hvt-solo5${v}.o`),
    };
  }
  if (abi !== 'ring') {
    return {
      ...common,
      linkerScript: dir('bindings', 'solo5', `solo5${v}.ld`),
      linkerSearch: [] as string[],
      bindings: dir('build', 'bindings-solo5', `solo5-solo5${v}.o`),
    };
  }
  return {
    ...common,
    linkerScript: dir('bindings', target, `${target}.ld`),
    // hvt.ld includes spt.ld (one image layout for both) and hvt_tables.ld, which ld finds on its search path.
    linkerSearch: [dir('bindings', 'spt'), dir('bindings', 'hvt')],
    bindings: dir('build', `bindings-${target}`, `solo5-${target}.o`),
  };
}

/** The `key:` lines of guest/<target>.flags, split into flags (shared with guest/Makefile). */
export function readFlags(file: string, key: 'cflags' | 'ldflags'): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith(`${key}:`))
      out.push(
        ...line
          .slice(key.length + 1)
          .split(/\s+/)
          .filter((f) => f !== ''),
      );
  }
  return out;
}

interface Ran {
  code: number | null;
  stderr: string;
  stdout: string;
}

function run(cmd: string, args: string[], log?: (m: string) => void): Promise<Ran> {
  log?.([cmd, ...args].join(' '));
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err && typeof err.code === 'string') {
        reject(new HostError(`cannot run ${cmd}: ${err.code}`));
        return;
      }
      if (stderr !== '') log?.(stderr.trimEnd());
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

/**
 * The one line of a compiler's or linker's output worth showing: the first
 * error (or undefined reference), else the first line at all.
 */
export function firstDiagnostic(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const hit = lines.find((l) => /\berror\b|undefined reference|cannot find/i.test(l));
  return hit ?? lines[0] ?? 'no diagnostic output';
}

const SOURCE_TYPES = new Set(['.c', '.S', '.s']);

function checkOptions(opts: BuildOptions): void {
  if (!BUILD_TARGETS.includes(opts.target)) {
    throw new UsageError(`target "${quote(opts.target)}" is not supported (${BUILD_TARGETS.join(' or ')})`);
  }
  const abi = opts.abi ?? 'ring';
  if (!BUILD_ABIS.includes(abi)) {
    throw new UsageError(`ABI "${quote(abi)}" is not supported (${BUILD_ABIS.join(', ')})`);
  }
  if (opts.target === 'virtio' && abi !== 'solo5') {
    throw new UsageError(`virtio builds speak the Solo5 ABI only (abi "solo5"), not ${abi}`);
  }
  if (typeof opts.manifest !== 'string' || opts.manifest === '') throw new UsageError('no manifest given');
  if (typeof opts.output !== 'string' || opts.output === '') throw new UsageError('no output file given');
  if (!Array.isArray(opts.sources) || opts.sources.length === 0) throw new UsageError('no source files given');
  for (const src of opts.sources) {
    if (!SOURCE_TYPES.has(path.extname(src))) {
      throw new UsageError(`${src}: not a C (.c) or assembly (.S, .s) source`);
    }
    let st: fs.Stats;
    try {
      st = fs.statSync(src);
    } catch {
      throw new UsageError(`${src}: source file not found`);
    }
    if (!st.isFile()) throw new UsageError(`${src}: not a regular file`);
  }
}

/**
 * Runs `jobs` with at most `limit` in flight and waits for all of them, so
 * that nothing still writes into the temporary directory when it is removed;
 * then rethrows the first failure in job order (the first source's error).
 */
async function pool(jobs: (() => Promise<void>)[], limit: number): Promise<void> {
  const settled: Promise<PromiseSettledResult<void>>[] = [];
  const running = new Set<Promise<unknown>>();
  for (const job of jobs) {
    while (running.size >= limit) await Promise.race(running);
    const p = job();
    settled.push(
      p.then(
        (value) => ({ status: 'fulfilled', value }),
        (reason: unknown) => ({ status: 'rejected', reason }),
      ),
    );
    const done: Promise<unknown> = settled[settled.length - 1].then(() => running.delete(done));
    running.add(done);
  }
  for (const r of await Promise.all(settled)) {
    if (r.status === 'rejected') throw r.reason;
  }
}

/**
 * Builds a unikernel: the manifest becomes C through solo5-elftool
 * gen-manifest, every source and that C file are compiled with the target's
 * flags (guest/spt.flags or guest/hvt.flags), and the objects are linked with the prebuilt
 * bindings of the target and ABI (npm run build:guest) and their linker script. Throws
 * UsageError, ManifestError or HostError with a one-line message.
 */
export async function buildUnikernel(opts: BuildOptions): Promise<void> {
  checkOptions(opts);
  const p = guestPaths(opts.target, undefined, opts.abi ?? 'ring');
  if (!fs.existsSync(p.bindings)) {
    throw new HostError(`guest bindings not built (${p.bindings} is missing); run 'npm run build:guest'`);
  }
  const gcc = 'gcc';
  const sysinc = (await run(gcc, ['-print-file-name=include'])).stdout.trim();
  if (sysinc === '' || !path.isAbsolute(sysinc)) throw new HostError(`${gcc} did not report its include directory`);
  const cflags = [...readFlags(p.flagsFile, 'cflags'), '-isystem', sysinc, ...p.include.map((d) => `-I${d}`), ...(opts.cflags ?? [])];
  const ldflags = readFlags(p.flagsFile, 'ldflags');

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'solo5-build-'));
  const outDir = path.dirname(path.resolve(opts.output));
  const partial = path.join(outDir, `.${path.basename(opts.output)}.${process.pid}.tmp`);
  try {
    const mftC = path.join(tmp, 'manifest.c');
    // The manifest code in this process, as `solo5-elftool gen-manifest` runs it.
    opts.log?.(`gen-manifest ${opts.manifest} ${mftC}`);
    generateManifestC(opts.manifest, mftC);

    const units = [...opts.sources, mftC];
    const objects = units.map((src, i) => path.join(tmp, `${i}-${path.basename(src).replace(/\.[^.]*$/, '')}.o`));
    const limit = Math.max(1, Math.min(os.availableParallelism(), 4));
    await pool(
      units.map((src, i) => async () => {
        const r = await run(gcc, [...cflags, '-c', '-o', objects[i], src], opts.log);
        if (r.code !== 0) throw new HostError(`compiling ${src} failed: ${firstDiagnostic(r.stderr)}`);
      }),
      limit,
    );

    fs.mkdirSync(outDir, { recursive: true });
    // libgcc last: the compiler may call its helpers (128-bit division and the like).
    const link = [...ldflags, ...p.linkerSearch.map((d) => `-L${d}`), '-T', p.linkerScript, '-o', partial, ...objects, p.bindings, '-lgcc'];
    const r = await run(gcc, link, opts.log);
    if (r.code !== 0) throw new HostError(`linking ${opts.output} failed: ${firstDiagnostic(r.stderr)}`);
    fs.renameSync(partial, opts.output);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.rmSync(partial, { force: true });
  }
}
