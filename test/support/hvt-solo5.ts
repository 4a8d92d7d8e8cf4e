// hvt-solo5.ts: hand-assembled guests of upstream Solo5's hvt ABI (ring 0, `out` hypercalls), as ELF files to launch.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as abi from '../../lib/abi';
import { launch } from '../../lib/tender/launch';
import type { LaunchOptions } from '../../lib/tender/options';
import type { GuestExit } from '../../lib/tender/exit';
import type { Manifest } from '../../lib/manifest/types';
import { buildElf, PF_R, PF_W, PF_X } from './elf-builder';

/** Text at 1 MiB (read-only, executable), one page of data above it (read/write), all inside 2 MiB. */
export const TEXT = 0x100000;
export const DATA = 0x110000;
/** Where the guests below keep the HALT struct they end with. */
export const HALT_AT = DATA + 0xf00;

const le = (v: number, bytes: number): string => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)));
  return b.subarray(0, bytes).toString('hex');
};

/** x86-64 snippets, as hex: each names what it assembles. */
export const asm = {
  movEax: (imm: number) => `b8${le(imm, 4)}`,
  movDx: (port: number) => `66ba${le(port, 2)}`,
  outl: 'ef',
  outb: 'ee',
  outw: '66ef',
  inl: 'ed',
  /** rep outsd: %rcx dwords from [%rsi] to port %dx */
  repOutsl: 'f36f',
  movEcx: (imm: number) => `b9${le(imm, 4)}`,
  movEsi: (imm: number) => `be${le(imm, 4)}`,
  /** mov eax, [abs32] */
  loadEax: (addr: number) => `8b0425${le(addr, 4)}`,
  /** mov [abs32], eax */
  storeEax: (addr: number) => `890425${le(addr, 4)}`,
  /** mov byte [abs32], 1 */
  storeByte: (addr: number) => `c60425${le(addr, 4)}01`,
  /** the hypercall `nr` with its struct at `addr`: mov eax, addr; mov dx, port; out dx, eax */
  call: (nr: number, addr: number) => `${asm.movEax(addr)}${asm.movDx(abi.SN_SOLO5_HVT_PORT_BASE + nr)}ef`,
  /** HALT with the status in the struct at HALT_AT (cookie 0) */
  halt: () => asm.call(abi.SN_SOLO5_HVT_HC_HALT, HALT_AT),
  /** HALT with the 32-bit value at `addr` as the status */
  haltWith: (addr: number) => `${asm.loadEax(addr)}${asm.storeEax(HALT_AT + 8)}${asm.halt()}`,
  /** jmp to itself */
  spin: 'ebfe',
  hlt: 'f4',
  /** ud2 */
  ud2: '0f0b',
};

/** One little-endian u64 per value. */
export function u64s(...values: Array<number | bigint>): Buffer {
  const b = Buffer.alloc(8 * values.length);
  values.forEach((v, i) => b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)), 8 * i));
  return b;
}

export interface HvtGuest {
  /** machine code (hex) at TEXT */
  code: string;
  /** data at DATA: [offset, bytes] pieces; the HALT struct at HALT_AT starts as {0, status} */
  data?: Array<[number, Buffer]>;
  status?: number;
  version?: 1 | 2;
  manifest?: Manifest;
}

let dir: string | undefined;

/** Write the guest as an ELF with an hvt ABI1 note (target 1) and return its path. */
export function hvtSolo5Elf(g: HvtGuest): string {
  const data = Buffer.alloc(0x1000);
  for (const [off, bytes] of g.data ?? []) bytes.copy(data, off);
  u64s(0, g.status ?? 0).copy(data, HALT_AT - DATA);
  const elf = buildElf({
    abi: { target: abi.SN_ABI_TARGET_HVT, version: g.version ?? 2 },
    manifest: g.manifest ?? { type: 'solo5.manifest', version: 1, devices: [] },
    noteSegments: 'each',
    segments: [
      { vaddr: TEXT, data: Buffer.from(g.code, 'hex'), flags: PF_R | PF_X },
      { vaddr: DATA, data, flags: PF_R | PF_W },
    ],
  });
  dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'sn-hvt-solo5-'));
  const file = path.join(dir, `guest-${fs.readdirSync(dir).length}.hvt`);
  fs.writeFileSync(file, elf.buf);
  return file;
}

/** Remove the guests written so far (call from a teardown). */
export function removeHvtSolo5Elves(): void {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = undefined;
}

/** Launch the guest on hvt with a piped console; resolves with its exit and console output. */
export async function runHvtSolo5(g: HvtGuest, o: Partial<LaunchOptions> = {}): Promise<{ exit: GuestExit; out: string }> {
  const guest = await launch({ kernel: hvtSolo5Elf(g), target: 'hvt', memMB: 4, console: 'pipe', ...o });
  let out = '';
  guest.console?.setEncoding('utf8');
  guest.console?.on('data', (d: string) => (out += d));
  const exit = await guest.exited;
  return { exit, out };
}
