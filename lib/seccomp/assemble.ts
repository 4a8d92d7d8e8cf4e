// assemble.ts: a label-based classic BPF assembler that keeps every jump in range.

import { UsageError } from '../errors';
import { JMP_JA, MAX_SHORT_JUMP, type SockFilter } from './bpf';

/*
 * Classic BPF conditional jumps carry 8-bit forward offsets, so a policy whose
 * "no match, try the next syscall" branch skips more than 255 instructions
 * cannot be encoded directly. The assembler lets the compiler name targets by
 * label and, where a conditional target is too far, routes that branch
 * through a `ja` (32-bit offset) placed right after the jump. Placing the
 * trampoline there means straight-line code never falls into it: only the
 * jump that owns it can reach it.
 */

/** A jump target; bound to a position with Assembler.bind. */
export class Label {
  constructor(readonly name: string) {}
}

type Item =
  | { kind: 'label'; label: Label }
  | { kind: 'stmt'; code: number; k: number }
  | { kind: 'ja'; target: Label }
  | { kind: 'jump'; code: number; k: number; jt: Label; jf: Label; farT: boolean; farF: boolean };

type JumpItem = Extract<Item, { kind: 'jump' }>;

function itemSize(it: Item): number {
  switch (it.kind) {
    case 'label':
      return 0;
    case 'stmt':
    case 'ja':
      return 1;
    case 'jump':
      return 1 + (it.farT ? 1 : 0) + (it.farF ? 1 : 0);
  }
}

export class Assembler {
  private readonly items: Item[] = [];
  private readonly bound = new Set<Label>();

  /** A fresh label; bind it exactly once, after every jump that targets it. */
  label(name: string): Label {
    return new Label(name);
  }

  bind(label: Label): void {
    if (this.bound.has(label)) throw new UsageError(`seccomp assembler: label ${label.name} bound twice`);
    this.bound.add(label);
    this.items.push({ kind: 'label', label });
  }

  /** A non-jump instruction (load, ALU, return). */
  stmt(code: number, k: number): void {
    this.items.push({ kind: 'stmt', code, k });
  }

  /** A conditional jump on A against k. */
  jump(code: number, k: number, jt: Label, jf: Label): void {
    this.items.push({ kind: 'jump', code, k, jt, jf, farT: false, farF: false });
  }

  /** An unconditional jump (32-bit offset). */
  ja(target: Label): void {
    this.items.push({ kind: 'ja', target });
  }

  /** Resolve labels, adding trampolines until every conditional offset fits. */
  assemble(): SockFilter[] {
    // Trampolines are only ever added, at most two per jump, so this ends.
    // Flags change only after a whole pass, so every offset in a pass is
    // measured against the same layout.
    for (;;) {
      const where = this.layout();
      const grow: Array<() => void> = [];
      let pos = 0;
      for (const it of this.items) {
        if (it.kind === 'jump') {
          if (!it.farT && offset(where, pos, it.jt) > MAX_SHORT_JUMP) grow.push(() => (it.farT = true));
          if (!it.farF && offset(where, pos, it.jf) > MAX_SHORT_JUMP) grow.push(() => (it.farF = true));
        }
        pos += itemSize(it);
      }
      if (grow.length === 0) return this.emit(where);
      grow.forEach((g) => g());
    }
  }

  private layout(): Map<Label, number> {
    const where = new Map<Label, number>();
    let pos = 0;
    for (const it of this.items) {
      if (it.kind === 'label') where.set(it.label, pos);
      pos += itemSize(it);
    }
    return where;
  }

  private emit(where: Map<Label, number>): SockFilter[] {
    const out: SockFilter[] = [];
    for (const it of this.items) {
      const pos = out.length;
      switch (it.kind) {
        case 'label':
          break;
        case 'stmt':
          out.push({ code: it.code, jt: 0, jf: 0, k: it.k });
          break;
        case 'ja':
          out.push({ code: JMP_JA, jt: 0, jf: 0, k: offset(where, pos, it.target) });
          break;
        case 'jump':
          emitJump(out, where, pos, it);
          break;
      }
    }
    return out;
  }
}

/** Forward distance from the instruction at pos to label (0 = the next one). */
function offset(where: Map<Label, number>, pos: number, label: Label): number {
  const target = where.get(label);
  if (target === undefined) throw new UsageError(`seccomp assembler: label ${label.name} never bound`);
  const off = target - pos - 1;
  if (off < 0) throw new UsageError(`seccomp assembler: backward jump to ${label.name}`);
  return off;
}

function emitJump(out: SockFilter[], where: Map<Label, number>, pos: number, it: JumpItem): void {
  // Trampoline order after the jump: jt's first, then jf's.
  const jtPos = pos + 1;
  const jfPos = pos + 1 + (it.farT ? 1 : 0);
  const jt = it.farT ? jtPos - pos - 1 : offset(where, pos, it.jt);
  const jf = it.farF ? jfPos - pos - 1 : offset(where, pos, it.jf);
  out.push({ code: it.code, jt, jf, k: it.k });
  if (it.farT) out.push({ code: JMP_JA, jt: 0, jf: 0, k: offset(where, jtPos, it.jt) });
  if (it.farF) out.push({ code: JMP_JA, jt: 0, jf: 0, k: offset(where, jfPos, it.jf) });
}
