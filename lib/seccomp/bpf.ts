// bpf.ts: classic BPF opcodes and the 8-byte struct sock_filter encoding.

import { UsageError } from '../errors';
import { BPF_MAXINSNS } from './syscalls';

/*
 * Opcode fields from linux/filter.h (linux/bpf_common.h). Only the subset a
 * seccomp filter needs is named; combinations are spelled out below so that
 * the compiler reads like the program it emits.
 */
export const BPF_LD = 0x00;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_RET = 0x06;

export const BPF_W = 0x00;
export const BPF_ABS = 0x20;

export const BPF_AND = 0x50;

export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;

export const BPF_K = 0x00;

/** A = 32-bit word of seccomp_data at offset k. */
export const LD_W_ABS = BPF_LD | BPF_W | BPF_ABS;
/** A &= k. */
export const ALU_AND_K = BPF_ALU | BPF_AND | BPF_K;
/** pc += k (32-bit offset: the only long jump classic BPF has). */
export const JMP_JA = BPF_JMP | BPF_JA;
/** pc += (A == k) ? jt : jf, with 8-bit jt and jf. */
export const JMP_JEQ_K = BPF_JMP | BPF_JEQ | BPF_K;
export const JMP_JGT_K = BPF_JMP | BPF_JGT | BPF_K;
export const JMP_JGE_K = BPF_JMP | BPF_JGE | BPF_K;
export const JMP_JSET_K = BPF_JMP | BPF_JSET | BPF_K;
/** Return k as the filter's verdict. */
export const RET_K = BPF_RET | BPF_K;

/** Largest offset a conditional jump can encode in its jt/jf byte. */
export const MAX_SHORT_JUMP = 255;

/** One struct sock_filter: u16 code, u8 jt, u8 jf, u32 k. */
export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export const SOCK_FILTER_SIZE = 8;

function checkField(i: number, name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new UsageError(`seccomp program: instruction ${i} field ${name} = ${v} is out of range 0..${max}`);
  }
}

/**
 * Encode a program as the kernel reads it (little-endian, x86_64 only).
 * Refuses what the kernel would refuse by length, so the helper never has to.
 */
export function encodeProgram(insns: readonly SockFilter[]): Buffer {
  if (insns.length === 0) {
    throw new UsageError('seccomp program: empty, the kernel needs at least one instruction');
  }
  if (insns.length > BPF_MAXINSNS) {
    throw new UsageError(`seccomp program: ${insns.length} instructions, the kernel accepts at most ${BPF_MAXINSNS}`);
  }
  const buf = Buffer.alloc(insns.length * SOCK_FILTER_SIZE);
  insns.forEach((ins, i) => {
    checkField(i, 'code', ins.code, 0xffff);
    checkField(i, 'jt', ins.jt, MAX_SHORT_JUMP);
    checkField(i, 'jf', ins.jf, MAX_SHORT_JUMP);
    checkField(i, 'k', ins.k, 0xffffffff);
    const o = i * SOCK_FILTER_SIZE;
    buf.writeUInt16LE(ins.code, o);
    buf.writeUInt8(ins.jt, o + 2);
    buf.writeUInt8(ins.jf, o + 3);
    buf.writeUInt32LE(ins.k, o + 4);
  });
  return buf;
}

/** Inverse of encodeProgram, for tests and diagnostics. */
export function decodeProgram(buf: Buffer): SockFilter[] {
  if (buf.length % SOCK_FILTER_SIZE !== 0) {
    throw new UsageError(`seccomp program: ${buf.length} bytes is not a multiple of ${SOCK_FILTER_SIZE}`);
  }
  const out: SockFilter[] = [];
  for (let o = 0; o < buf.length; o += SOCK_FILTER_SIZE) {
    out.push({
      code: buf.readUInt16LE(o),
      jt: buf.readUInt8(o + 2),
      jf: buf.readUInt8(o + 3),
      k: buf.readUInt32LE(o + 4),
    });
  }
  return out;
}
