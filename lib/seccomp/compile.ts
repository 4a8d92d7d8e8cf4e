// compile.ts: turns a seccomp Policy into the classic BPF program the helper installs.

import { UsageError } from '../errors';
import { Assembler, type Label } from './assemble';
import { ALU_AND_K, encodeProgram, JMP_JEQ_K, JMP_JGE_K, JMP_JGT_K, LD_W_ABS, RET_K } from './bpf';
import type { ArgCondition, ArgValue, Policy, Rule } from './policy';
import {
  AUDIT_ARCH_X86_64,
  isSyscallName,
  SECCOMP_DATA_ARCH,
  SECCOMP_DATA_ARGS,
  SECCOMP_DATA_NR,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_KILL_PROCESS,
  SYSCALLS,
  X32_SYSCALL_BIT,
} from './syscalls';

/*
 * Program shape:
 *
 *   ld arch; jeq X86_64 ? next : kill
 *   ld nr;   jge X32_BIT ? kill : first
 *   kill:    ret KILL_PROCESS
 *   per syscall, in order of first appearance in the policy:
 *     jeq NR ? body : next-syscall        (A still holds nr on the false path)
 *     body:  rule 1's conditions, ret ALLOW; on failure rule 2's ...
 *            ret KILL_PROCESS             (nr matched, no rule's arguments did)
 *   ret KILL_PROCESS                      (default)
 *
 * Argument checks load into A, so they never fall back into the nr chain;
 * that is why each syscall ends with its own kill. Arguments are 64-bit in
 * seccomp_data but loads are 32-bit, so both halves are compared: a value
 * with stray high bits (fd 1 + 2^32) does not pass as fd 1.
 */

const U64_MAX = (1n << 64n) - 1n;

function policyError(policy: Policy, where: string, msg: string): UsageError {
  return new UsageError(`seccomp policy ${policy.name}: ${where}: ${msg}`);
}

function toU64(policy: Policy, where: string, v: ArgValue): bigint {
  if (typeof v === 'bigint') {
    if (v < 0n || v > U64_MAX) throw policyError(policy, where, `value ${v} is not a 64-bit unsigned integer`);
    return v;
  }
  if (!Number.isSafeInteger(v) || v < 0) {
    throw policyError(policy, where, `value ${v} is not a non-negative safe integer`);
  }
  return BigInt(v);
}

const lo32 = (v: bigint): number => Number(v & 0xffffffffn);
const hi32 = (v: bigint): number => Number(v >> 32n);

/** Offset of the low (+0) or high (+4) word of args[index]; x86_64 is little-endian. */
function argWord(index: number, high: boolean): number {
  return SECCOMP_DATA_ARGS + 8 * index + (high ? 4 : 0);
}

/** Validate a rule fully before anything is emitted, so errors name the rule. */
function checkRule(policy: Policy, rule: Rule, i: number): void {
  const where = `rule ${i} (${String(rule.syscall)})`;
  if (typeof rule.syscall !== 'string' || !isSyscallName(rule.syscall)) {
    throw policyError(policy, `rule ${i}`, `unknown syscall ${String(rule.syscall)}`);
  }
  if (typeof rule.why !== 'string' || rule.why.trim() === '') {
    throw policyError(policy, where, 'field why is empty; every rule must say why it is needed');
  }
  (rule.args ?? []).forEach((c, j) => {
    const at = `${where} args[${j}]`;
    if (!Number.isInteger(c.index) || c.index < 0 || c.index > 5) {
      throw policyError(policy, at, `index ${c.index} is not 0..5`);
    }
    if (c.op === 'in') {
      if (c.values.length === 0) throw policyError(policy, at, 'values is empty, the rule could never match');
      c.values.forEach((v) => toU64(policy, at, v));
    } else if (c.op === 'masked') {
      const mask = toU64(policy, at, c.mask);
      const value = toU64(policy, at, c.value);
      if ((value & ~mask) !== 0n) throw policyError(policy, at, 'value has bits outside mask, it could never match');
    } else if (c.op === 'le') {
      toU64(policy, at, c.value);
    } else {
      throw policyError(policy, at, `op ${String((c as { op: unknown }).op)} is not 'in', 'masked' or 'le'`);
    }
  });
}

class PolicyCompiler {
  private readonly asm = new Assembler();
  private n = 0;

  constructor(private readonly policy: Policy) {}

  private fresh(name: string): Label {
    return this.asm.label(`${name}#${this.n++}`);
  }

  compile(): Buffer {
    const { asm, policy } = this;
    if (policy.rules.length === 0) throw policyError(policy, 'rules', 'empty, the guest could make no syscall');
    policy.rules.forEach((r, i) => checkRule(policy, r, i));

    const kill = this.fresh('kill');
    const archOk = this.fresh('arch-ok');
    const first = this.fresh('first');
    asm.stmt(LD_W_ABS, SECCOMP_DATA_ARCH);
    asm.jump(JMP_JEQ_K, AUDIT_ARCH_X86_64, archOk, kill);
    asm.bind(archOk);
    asm.stmt(LD_W_ABS, SECCOMP_DATA_NR);
    asm.jump(JMP_JGE_K, X32_SYSCALL_BIT, kill, first);
    asm.bind(kill);
    asm.stmt(RET_K, SECCOMP_RET_KILL_PROCESS);
    asm.bind(first);

    for (const [name, rules] of groupBySyscall(policy.rules)) {
      const body = this.fresh(`${name}-body`);
      const next = this.fresh(`${name}-next`);
      asm.jump(JMP_JEQ_K, SYSCALLS[name], body, next);
      asm.bind(body);
      this.syscallBody(rules);
      asm.bind(next);
    }
    asm.stmt(RET_K, SECCOMP_RET_KILL_PROCESS);
    return encodeProgram(asm.assemble());
  }

  /** Rules for one syscall, tried in order; the first whose conditions all hold allows. */
  private syscallBody(rules: readonly Rule[]): void {
    const { asm } = this;
    for (const rule of rules) {
      const conds = rule.args ?? [];
      if (conds.length === 0) {
        // Unconditional: later rules for this syscall could never be reached.
        asm.stmt(RET_K, SECCOMP_RET_ALLOW);
        return;
      }
      const fail = this.fresh('rule-fail');
      for (const c of conds) {
        const ok = this.fresh('cond-ok');
        this.condition(c, ok, fail);
        asm.bind(ok);
      }
      asm.stmt(RET_K, SECCOMP_RET_ALLOW);
      asm.bind(fail);
    }
    asm.stmt(RET_K, SECCOMP_RET_KILL_PROCESS);
  }

  private condition(c: ArgCondition, ok: Label, fail: Label): void {
    if (c.op === 'in') this.argIn(c.index, c.values, ok, fail);
    else if (c.op === 'masked') this.argMasked(c.index, c.mask, c.value, ok, fail);
    else this.argLe(c.index, c.value, ok, fail);
  }

  /**
   * Unsigned 64-bit arg <= value from two 32-bit words: a high word above
   * value's fails, one below passes whatever the low word, an equal one
   * leaves the decision to the low word. BPF's jumps compare unsigned.
   */
  private argLe(index: number, valueV: ArgValue, ok: Label, fail: Label): void {
    const { asm, policy } = this;
    const value = toU64(policy, 'args', valueV);
    const notAbove = this.fresh('le-high-not-above');
    const lowWord = this.fresh('le-low-word');
    asm.stmt(LD_W_ABS, argWord(index, true));
    asm.jump(JMP_JGT_K, hi32(value), fail, notAbove);
    asm.bind(notAbove);
    asm.jump(JMP_JEQ_K, hi32(value), lowWord, ok);
    asm.bind(lowWord);
    asm.stmt(LD_W_ABS, argWord(index, false));
    asm.jump(JMP_JGT_K, lo32(value), fail, ok);
  }

  /** Values sharing a high word share its load and compare (usually all of them: high = 0). */
  private argIn(index: number, values: readonly ArgValue[], ok: Label, fail: Label): void {
    const { asm, policy } = this;
    const byHigh = new Map<number, Set<number>>();
    for (const v of values) {
      const u = toU64(policy, 'args', v);
      const set = byHigh.get(hi32(u)) ?? new Set<number>();
      set.add(lo32(u));
      byHigh.set(hi32(u), set);
    }
    const groups = [...byHigh];
    groups.forEach(([high, lows], g) => {
      const nextGroup = g === groups.length - 1 ? fail : this.fresh('next-high');
      const lowWord = this.fresh('low-word');
      asm.stmt(LD_W_ABS, argWord(index, true));
      asm.jump(JMP_JEQ_K, high, lowWord, nextGroup);
      asm.bind(lowWord);
      asm.stmt(LD_W_ABS, argWord(index, false));
      const lowList = [...lows];
      lowList.forEach((low, j) => {
        const nextLow = j === lowList.length - 1 ? nextGroup : this.fresh('next-low');
        asm.jump(JMP_JEQ_K, low, ok, nextLow);
        if (nextLow !== nextGroup) asm.bind(nextLow);
      });
      if (nextGroup !== fail) asm.bind(nextGroup);
    });
  }

  /** Halves whose mask is 0 are not tested; the caller binds `ok` right after, so falling through passes. */
  private argMasked(index: number, maskV: ArgValue, valueV: ArgValue, ok: Label, fail: Label): void {
    const { asm, policy } = this;
    const mask = toU64(policy, 'args', maskV);
    const value = toU64(policy, 'args', valueV);
    for (const high of [true, false]) {
      const m = high ? hi32(mask) : lo32(mask);
      if (m === 0) continue;
      const pass = high ? this.fresh('masked-low') : ok;
      asm.stmt(LD_W_ABS, argWord(index, high));
      if (m !== 0xffffffff) asm.stmt(ALU_AND_K, m);
      asm.jump(JMP_JEQ_K, high ? hi32(value) : lo32(value), pass, fail);
      if (high) asm.bind(pass);
    }
  }
}

/** Rules grouped per syscall, groups in order of first appearance, rules in policy order. */
function groupBySyscall(rules: readonly Rule[]): Map<keyof typeof SYSCALLS, Rule[]> {
  const groups = new Map<keyof typeof SYSCALLS, Rule[]>();
  for (const r of rules) {
    const list = groups.get(r.syscall) ?? [];
    list.push(r);
    groups.set(r.syscall, list);
  }
  return groups;
}

/** Compile any policy: x86_64 only, x32 refused, default kill-process. */
export function compilePolicy(policy: Policy): Buffer {
  return new PolicyCompiler(policy).compile();
}
