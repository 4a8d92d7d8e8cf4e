// bpf-interp.ts: a small classic BPF interpreter that runs seccomp programs in tests.

/*
 * Deliberately independent of lib/seccomp: opcodes are decoded here from
 * their bit fields (linux/bpf_common.h), so a wrong constant in the compiler
 * shows up as a failing test rather than agreeing with itself. Only the
 * instructions a seccomp filter needs are implemented; anything else throws.
 */

/** The record the kernel hands a seccomp filter (struct seccomp_data). */
export interface SeccompData {
  nr: number;
  arch: number;
  ip?: bigint;
  args?: readonly bigint[];
}

const DATA_SIZE = 64;
const MAX_INSNS = 4096;

export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export function decode(prog: Buffer): Insn[] {
  if (prog.length % 8 !== 0) throw new Error(`program length ${prog.length} is not a multiple of 8`);
  const out: Insn[] = [];
  for (let o = 0; o < prog.length; o += 8) {
    out.push({ code: prog.readUInt16LE(o), jt: prog[o + 2], jf: prog[o + 3], k: prog.readUInt32LE(o + 4) });
  }
  return out;
}

/** Lay out seccomp_data as little-endian bytes: nr, arch, ip, args[6]. */
export function seccompDataBytes(d: SeccompData): Buffer {
  const b = Buffer.alloc(DATA_SIZE);
  b.writeUInt32LE(d.nr >>> 0, 0);
  b.writeUInt32LE(d.arch >>> 0, 4);
  b.writeBigUInt64LE(d.ip ?? 0n, 8);
  const args = d.args ?? [];
  if (args.length > 6) throw new Error('seccomp_data has six arguments');
  args.forEach((a, i) => b.writeBigUInt64LE(BigInt.asUintN(64, a), 16 + 8 * i));
  return b;
}

const CLS = (c: number): number => c & 0x07;
const LD = 0x00;
const ALU = 0x04;
const JMP = 0x05;
const RET = 0x06;

/** The static checks the kernel makes before accepting a filter. */
export function check(insns: readonly Insn[]): void {
  if (insns.length === 0 || insns.length > MAX_INSNS) throw new Error(`program has ${insns.length} instructions`);
  insns.forEach((ins, pc) => {
    if (CLS(ins.code) !== JMP) return;
    const targets = (ins.code & 0xf0) === 0x00 ? [ins.k] : [ins.jt, ins.jf];
    for (const off of targets) {
      if (pc + 1 + off >= insns.length) throw new Error(`jump at ${pc} leaves the program (offset ${off})`);
    }
  });
  if (CLS(insns[insns.length - 1].code) !== RET) throw new Error('program does not end with a return');
}

/** Run a program against one syscall record; returns the 32-bit verdict. */
export function runFilter(prog: Buffer, d: SeccompData): number {
  const insns = decode(prog);
  check(insns);
  const data = seccompDataBytes(d);
  let a = 0;
  let pc = 0;
  for (;;) {
    if (pc >= insns.length) throw new Error(`pc ${pc} past the end`);
    const { code, jt, jf, k } = insns[pc];
    switch (code) {
      case LD | 0x00 | 0x20: // LD W ABS
        if (k % 4 !== 0 || k + 4 > DATA_SIZE) throw new Error(`load at ${pc} from bad offset ${k}`);
        a = data.readUInt32LE(k);
        pc += 1;
        break;
      case ALU | 0x50 | 0x00: // AND K
        a = (a & k) >>> 0;
        pc += 1;
        break;
      case JMP | 0x00: // JA
        pc += 1 + k;
        break;
      case JMP | 0x10 | 0x00: // JEQ K
        pc += 1 + (a === k ? jt : jf);
        break;
      case JMP | 0x20 | 0x00: // JGT K
        pc += 1 + (a > k ? jt : jf);
        break;
      case JMP | 0x30 | 0x00: // JGE K
        pc += 1 + (a >= k ? jt : jf);
        break;
      case JMP | 0x40 | 0x00: // JSET K
        pc += 1 + ((a & k) !== 0 ? jt : jf);
        break;
      case RET | 0x00: // RET K
        return k >>> 0;
      default:
        throw new Error(`unknown opcode 0x${code.toString(16)} at ${pc}`);
    }
  }
}
