// helper-run.ts: runs the static helper directly on hand-made guest memory and plans, without the tender.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import { Writable } from 'node:stream';
import * as abi from '../../lib/abi';
import { helperPath, native } from '../../lib/native';
import { encodePlan, type PlanInput } from '../../lib/tender/plan';

export const MEM = 4 * 1024 * 1024;
export const TEXT = 0x100000;
export const DATA = 0x200000;
export const RX = abi.SN_PROT_R | abi.SN_PROT_X;
export const RW = abi.SN_PROT_R | abi.SN_PROT_W;

/** x86-64 machine code from lines of "hex bytes ; assembly" (the assembly is only for the reader). */
export function machine(src: string): Buffer {
  const hex = src
    .split('\n')
    .map((line) => line.split(';')[0])
    .join('')
    .replace(/\s+/g, '');
  return Buffer.from(hex, 'hex');
}

/** Classic BPF instruction, as seccomp reads it. */
export function insn(codeOp: number, jt: number, jf: number, k: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16LE(codeOp, 0);
  b.writeUInt8(jt, 2);
  b.writeUInt8(jf, 3);
  b.writeUInt32LE(k >>> 0, 4);
  return b;
}

/** Writes "hello\n" to the console and exits 7. */
export const hello = machine(`
  bf 01 00 00 00        ; mov edi, 1
  48 8d 35 18 00 00 00  ; lea rsi, [rip + msg]
  ba 06 00 00 00        ; mov edx, 6
  b8 01 00 00 00        ; mov eax, 1 (write)
  0f 05                 ; syscall
  bf 07 00 00 00        ; mov edi, 7
  b8 e7 00 00 00        ; mov eax, 231 (exit_group)
  0f 05                 ; syscall
  68 65 6c 6c 6f 0a     ; msg: "hello\\n"
`);

const BPF_RET_K = 0x06;
const SECCOMP_RET_ALLOW = 0x7fff0000;
const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const ALLOW_ALL = insn(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW);

/** A filter that kills the process on one syscall number and allows every other. */
export function killSyscall(nr: number): Buffer {
  return Buffer.concat([
    insn(0x20, 0, 0, 0), // ld [0]: seccomp_data.nr
    insn(0x15, 0, 1, nr), // jeq #nr
    insn(BPF_RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS),
    ALLOW_ALL,
  ]);
}

export function basePlan(over: Partial<PlanInput> = {}): PlanInput {
  return {
    target: 'spt',
    memSize: MEM,
    entry: TEXT,
    stackTop: MEM,
    bootinfo: abi.SN_BOOTINFO_ADDR,
    regions: [{ addr: TEXT, len: abi.SN_PAGE_SIZE, prot: RX }],
    bpf: ALLOW_ALL,
    ndoorbells: 0,
    // The helper checks that its parent is this test process.
    parentPid: process.pid,
    ...over,
  };
}

export interface HelperRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

export interface RunOptions {
  /** Guest memory contents: bytes written at their guest address. */
  mem: { addr: number; bytes: Buffer }[];
  /** The plan bytes (usually encodePlan(basePlan(...)), possibly patched). */
  plan: Buffer;
  /** memfd size, when it must differ from the plan's. */
  memSize?: number;
  /** stdio entries from fd 5 on (doorbells and anything else to hand the helper). */
  extra?: SpawnOptions['stdio'];
  /** Leave fd 3 or fd 4 closed at exec. */
  omit?: 'mem' | 'plan';
  /** Take ownership of the guest memfd (the caller closes it), to inspect memory after the run. */
  keepMem?: (fd: number) => void;
  uid?: number;
  gid?: number;
  /** Called once the child runs; may inspect /proc or write to its pipes. */
  onSpawn?: (child: ChildProcess, stdout: () => Buffer) => void;
}

function memfdWith(name: string, size: number, writes: { addr: number; bytes: Buffer }[]): number {
  const fd = native().memfdCreate(name, size);
  for (const w of writes) fs.writeSync(fd, w.bytes, 0, w.bytes.length, w.addr);
  return fd;
}

/** Spawn the helper with the fd layout of SN_FD_* and collect everything it does. */
/** The parent's end of a stdio pipe handed to the helper at fd `fd`. */
export function pipeAt(child: ChildProcess, fd: number): Writable {
  const s: unknown = child.stdio[fd];
  if (!(s instanceof Writable)) throw new Error(`fd ${fd} of the helper is not a pipe`);
  return s;
}

export function runHelper(o: RunOptions): Promise<HelperRun> {
  const size = o.memSize ?? (o.plan.length >= 24 ? Number(o.plan.readBigUInt64LE(abi.SN_PLAN.offsets.mem_size)) : MEM);
  const memFd = memfdWith('test-guest-mem', size, o.mem);
  const planFd = memfdWith('test-guest-plan', 0, [{ addr: 0, bytes: o.plan }]);
  const extra = Array.isArray(o.extra) ? o.extra : [];
  let child: ChildProcess;
  try {
    child = spawn(helperPath, [], {
      env: {},
      stdio: ['ignore', 'pipe', 'pipe', o.omit === 'mem' ? 'ignore' : memFd, o.omit === 'plan' ? 'ignore' : planFd, ...extra],
      uid: o.uid,
      gid: o.gid,
    });
  } finally {
    if (o.keepMem) o.keepMem(memFd);
    else fs.closeSync(memFd);
    fs.closeSync(planFd);
  }
  const out: Buffer[] = [];
  let err = '';
  child.stdout?.on('data', (b: Buffer) => out.push(b));
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => (err += s));
  // A guest that exits with unread doorbell bytes resets those sockets; that is not a test failure.
  for (const s of child.stdio.slice(5)) s?.on('error', () => undefined);
  o.onSpawn?.(child, () => Buffer.concat(out));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (codeNum, signal) => resolve({ code: codeNum, signal, stdout: Buffer.concat(out), stderr: err }));
  });
}

/** Why the helper tests cannot run here, or undefined when they can. */
export function cannotRun(): string | undefined {
  if (!fs.existsSync(helperPath)) return `${helperPath} is not built (npm run build:helper)`;
  try {
    native();
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

/** Resolve once the collected stdout satisfies a predicate (polls; the guest writes in one go). */
export async function waitFor(get: () => Buffer, ok: (b: Buffer) => boolean, ms = 120_000): Promise<void> {
  const until = Date.now() + ms;
  while (!ok(get())) {
    if (Date.now() > until) throw new Error(`timed out waiting for guest output (have ${JSON.stringify(get().toString())})`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export { encodePlan };
