// precompiled.ts: BPF programs compiled at build time for the launch paths, used only while they still match their sources.
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../native';
import type { Policy } from './policy';

/** Where the compiled seccomp modules and the table live. */
export const seccompDistDir = path.join(packageRoot, 'dist', 'lib', 'seccomp');
/** Written by tools/bundle-cli.js (buildPrecompiledTable); read by precompiled(). */
export const precompiledPath = path.join(seccompDistDir, 'precompiled.json');

/** Bumped when the table's shape changes, so an old table reads as stale. */
export const PRECOMPILED_FORMAT = 2;

interface TableFile {
  format: number;
  /** compilerFingerprint() of the modules that compiled the programs */
  compiler: string;
  programs: Record<string, { policy: string; bpf: string }>;
}

/*
 * Two 32-bit multiplicative lanes, 64 bits in all. This only has to notice
 * an accidental mismatch (a tsc-only build, an edited rule): whoever can
 * write dist/ can write the program itself, so a cryptographic hash would
 * buy nothing, and loading node:crypto costs more than compiling. Bytes are
 * taken four at a time in one inline loop: a cold process runs this before
 * V8 has optimised anything, and a call per byte costs milliseconds there.
 */
function hash64(parts: readonly Uint8Array[]): string {
  let a = 0x811c9dc5;
  let b = 0x6a09e667;
  for (const p of parts) {
    const n = p.length >>> 2;
    // Int32Array needs an aligned offset; a copy of the bytes starts at 0.
    const src = p.byteOffset % 4 === 0 ? p : Uint8Array.prototype.slice.call(p);
    const words = new Int32Array(src.buffer, src.byteOffset, n);
    for (let i = 0; i <= n; i++) {
      // The last round takes the 0-3 trailing bytes; the length follows, so parts cannot run into each other.
      let v = 0;
      if (i < n) v = words[i];
      else for (let k = n * 4; k < p.length; k++) v = (v << 8) | p[k];
      a = Math.imul(a ^ v, 0x01000193);
      b = Math.imul(b ^ v, 0x5bd1e995);
      b ^= b >>> 15;
    }
    a = Math.imul(a ^ p.length, 0x01000193);
    b = Math.imul(b ^ p.length, 0x5bd1e995);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

/** The policy as data, including every constant it took from elsewhere (fd numbers, ABI values). */
export function policyFingerprint(policy: Policy): string {
  return hash64([Buffer.from(JSON.stringify(policy, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)))]);
}

/**
 * The modules that turn a policy into bytes: compile.js and everything it
 * requires from this directory (test/seccomp-precompiled.test.ts checks the
 * list is closed). The policy modules are not here: policyFingerprint covers
 * what they produce, constants from other modules included.
 */
export const COMPILER_MODULES: readonly string[] = ['compile.js', 'assemble.js', 'bpf.js', 'syscalls.js'];

/** A change to the compiler, the assembler or the syscall numbers makes every stored program stale. */
export function compilerFingerprint(dir: string): string {
  return hash64(COMPILER_MODULES.flatMap((f) => [Buffer.from(f), fs.readFileSync(path.join(dir, f))]));
}

/** The JSON text of a table holding `entries`, compiled by the modules in `dir`. */
export function buildPrecompiledTable(dir: string, entries: readonly { key: string; policy: Policy; bpf: Buffer }[]): string {
  const table: TableFile = { format: PRECOMPILED_FORMAT, compiler: compilerFingerprint(dir), programs: {} };
  for (const { key, policy, bpf } of entries) table.programs[key] = { policy: policyFingerprint(policy), bpf: bpf.toString('base64') };
  return `${JSON.stringify(table, null, 1)}\n`;
}

function isTableFile(v: unknown): v is TableFile {
  if (typeof v !== 'object' || v === null) return false;
  const t = v as Partial<TableFile>;
  return t.format === PRECOMPILED_FORMAT && typeof t.compiler === 'string' && typeof t.programs === 'object' && t.programs !== null;
}

/** A table file checked against the modules in `dir`. */
export interface PrecompiledTable {
  /** Why nothing in the table is used (missing, unreadable, old format, other compiler), or undefined. */
  readonly stale: string | undefined;
  /** The stored program for `key` if it was compiled from exactly `policy` by these modules; otherwise undefined. */
  lookup(key: string, policy: Policy): Buffer | undefined;
}

export function openPrecompiled(file: string, dir: string): PrecompiledTable {
  let programs: TableFile['programs'] = Object.create(null) as TableFile['programs'];
  let stale: string | undefined;
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (!isTableFile(parsed)) stale = `${file}: not a format ${PRECOMPILED_FORMAT} table`;
    else if (parsed.compiler !== compilerFingerprint(dir)) stale = `${file}: compiled by other seccomp modules than those in ${dir}`;
    else programs = parsed.programs;
  } catch (e) {
    stale = `${file}: ${(e as Error).message.split('\n')[0]}`;
  }
  return {
    stale,
    lookup(key, policy) {
      if (!Object.hasOwn(programs, key)) return undefined;
      const entry = programs[key];
      if (typeof entry?.bpf !== 'string' || entry.policy !== policyFingerprint(policy)) return undefined;
      return Buffer.from(entry.bpf, 'base64');
    },
  };
}

let installed: PrecompiledTable | undefined;

/**
 * The build-time program for `key` when it is still what compiling `policy`
 * now would give, else undefined (the caller compiles). A table left behind
 * by an older build (tsc run alone, a rule edited) is never used.
 */
export function precompiled(key: string, policy: Policy): Buffer | undefined {
  installed ??= openPrecompiled(precompiledPath, seccompDistDir);
  return installed.lookup(key, policy);
}
