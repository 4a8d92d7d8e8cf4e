// core.ts: write an ELF core of a guest that aborted: its registers (NT_PRSTATUS) and its memory, untouched pages left out.
import fs from 'node:fs';
import path from 'node:path';
import { native } from '../native';
import type { Regs } from './channel';

const PAGE = 4096;
const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const ET_CORE = 4;
const EM_X86_64 = 62;
const PT_LOAD = 1;
const PT_NOTE = 4;
const PF_RWX = 7;
const NT_PRSTATUS = 1;
/** struct elf_prstatus on x86-64, and where its pr_reg (struct user_regs_struct) starts. */
export const PRSTATUS_SIZE = 336;
export const PRSTATUS_REG_OFFSET = 112;
const SIGABRT = 6;

/** user_regs_struct order, each named by where it comes from in struct sn_dbg_regs (gpr index or field). */
export const USER_REGS: readonly (number | keyof Regs | 'zero')[] = [
  15,
  14,
  13,
  12,
  6 /* rbp */,
  1 /* rbx */,
  11,
  10,
  9,
  8,
  0 /* rax */,
  2 /* rcx */,
  3 /* rdx */,
  4 /* rsi */,
  5 /* rdi */,
  'zero' /* orig_rax */,
  'rip',
  'cs',
  'rflags',
  7 /* rsp */,
  'ss',
  'fsBase',
  'gsBase',
  'ds',
  'es',
  'fs',
  'gs',
];

function prstatus(regs: Regs | undefined, pid: number): Buffer {
  const b = Buffer.alloc(PRSTATUS_SIZE);
  b.writeInt32LE(SIGABRT, 0); // pr_info.si_signo
  b.writeInt16LE(SIGABRT, 12); // pr_cursig
  b.writeInt32LE(pid, 32); // pr_pid
  if (regs) {
    USER_REGS.forEach((src, i) => {
      const v = src === 'zero' ? 0n : typeof src === 'number' ? regs.gpr[src] : (regs[src] as bigint);
      b.writeBigUInt64LE(v, PRSTATUS_REG_OFFSET + 8 * i);
    });
  }
  return b;
}

function note(name: string, type: number, desc: Buffer): Buffer {
  const n = Buffer.from(`${name}\0`);
  const pad4 = (x: number) => (x + 3) & ~3;
  const b = Buffer.alloc(12 + pad4(n.length) + pad4(desc.length));
  b.writeUInt32LE(n.length, 0);
  b.writeUInt32LE(desc.length, 4);
  b.writeUInt32LE(type, 8);
  n.copy(b, 12);
  desc.copy(b, 12 + pad4(n.length));
  return b;
}

function phdr(type: number, flags: number, offset: number, vaddr: number, filesz: number, memsz: number, align: number): Buffer {
  const b = Buffer.alloc(PHDR_SIZE);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(flags, 4);
  b.writeBigUInt64LE(BigInt(offset), 8);
  b.writeBigUInt64LE(BigInt(vaddr), 16);
  b.writeBigUInt64LE(BigInt(vaddr), 24);
  b.writeBigUInt64LE(BigInt(filesz), 32);
  b.writeBigUInt64LE(BigInt(memsz), 40);
  b.writeBigUInt64LE(BigInt(align), 48);
  return b;
}

/** ELF header, PT_NOTE and PT_LOAD headers and the note; the memory follows at the returned page-aligned offset. */
export function coreHeaders(regs: Regs | undefined, pid: number, memSize: number): { head: Buffer; memOffset: number } {
  const notes = note('CORE', NT_PRSTATUS, prstatus(regs, pid));
  const noteOffset = EHDR_SIZE + 2 * PHDR_SIZE;
  const memOffset = Math.ceil((noteOffset + notes.length) / PAGE) * PAGE;
  const e = Buffer.alloc(EHDR_SIZE);
  e.set([0x7f, 0x45, 0x4c, 0x46, 2 /* ELFCLASS64 */, 1 /* little-endian */, 1 /* EV_CURRENT */], 0);
  e.writeUInt16LE(ET_CORE, 16);
  e.writeUInt16LE(EM_X86_64, 18);
  e.writeUInt32LE(1, 20);
  e.writeBigUInt64LE(BigInt(EHDR_SIZE), 32); // e_phoff
  e.writeUInt16LE(EHDR_SIZE, 52);
  e.writeUInt16LE(PHDR_SIZE, 54);
  e.writeUInt16LE(2, 56);
  const head = Buffer.concat([
    e,
    phdr(PT_NOTE, 0, noteOffset, 0, notes.length, 0, 4),
    // Guest physical = guest virtual on both targets, from address 0 to the end of memory.
    phdr(PT_LOAD, PF_RWX, memOffset, 0, memSize, memSize, PAGE),
    notes,
  ]);
  return { head, memOffset };
}

export interface CoreWritten {
  pages: number;
  totalPages: number;
}

/** What a bad --dumpcore directory gets, checked before the guest runs; undefined when it will do. */
export function checkCoreDir(dir: string): string | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (e) {
    return `dumpcore: cannot open dir ${dir}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}`;
  }
  if (!st.isDirectory()) return `dumpcore: cannot open dir ${dir}: Not a directory`;
  // access() alone says yes to root on a read-only or special file system: create (and remove) a file there.
  const probe = path.join(dir, `.solo5-dumpcore-probe.${process.pid}`);
  try {
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
    fs.closeSync(fs.openSync(probe, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600));
    fs.unlinkSync(probe);
  } catch {
    return `dumpcore: dir not writable: ${dir}`;
  }
  return undefined;
}

/** DIR/core.solo5-TARGET.PID: upstream's tests look for `core.solo5-hvt.<pid>`. */
export const coreFile = (dir: string, target: string, pid: number): string => path.join(dir, `core.solo5-${target}.${pid}`);

/**
 * Write the core to `file` (coreFile): created O_EXCL and 0600 (a core holds all of guest memory), the
 * memory copied extent by extent from the memfd so that never-touched pages stay holes.
 */
export function writeCore(file: string, pid: number, memFd: number, memSize: number, regs: Regs | undefined): CoreWritten {
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
  try {
    const { head, memOffset } = coreHeaders(regs, pid, memSize);
    fs.writeSync(fd, head, 0, head.length, 0);
    let bytes = 0;
    const buf = Buffer.alloc(1 << 20);
    for (const [start, end] of native().memfdDataRanges(memFd, memSize)) {
      for (let pos = start; pos < end;) {
        const n = fs.readSync(memFd, buf, 0, Math.min(buf.length, end - pos), pos);
        if (n <= 0) break;
        fs.writeSync(fd, buf, 0, n, memOffset + pos);
        pos += n;
      }
      bytes += end - start;
    }
    // The file ends where guest memory does, holes included.
    fs.ftruncateSync(fd, memOffset + memSize);
    return { pages: Math.ceil(bytes / PAGE), totalPages: memSize / PAGE };
  } finally {
    fs.closeSync(fd);
  }
}
