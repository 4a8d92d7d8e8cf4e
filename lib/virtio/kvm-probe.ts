// kvm-probe.ts: whether QEMU can use KVM here (and why not), and which accelerator a run asks for.
import fs from 'node:fs';
import path from 'node:path';
import { HostError, UsageError } from '../errors';
import type { Accel } from './qemu-args';

export const KVM_DEVICE = '/dev/kvm';
/** Present when the host's KVM is PVM (kvm_pvm): it emulates a guest's ring-0 code, and a virtio guest runs only in ring 0. */
export const PVM_MODULE = '/sys/module/kvm_pvm';

/** What the user asked for: upstream's -H kvm|qemu, or the best that works (the default). */
export type AccelChoice = 'auto' | 'kvm' | 'tcg';

/**
 * Why QEMU cannot use KVM, or undefined when it can open it as QEMU does
 * (read-write). Creating a VM can still fail later (another hypervisor
 * holds the CPU's virtualization, or the host's KVM refuses the CPU
 * model): the launcher then falls back to TCG for 'auto' (run.ts).
 */
export function kvmUnusable(dev = KVM_DEVICE): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(dev, fs.constants.O_RDWR);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `no ${dev} (KVM not loaded, or no virtualization)`;
    if (code === 'EACCES' || code === 'EPERM') return `no permission to open ${dev} (not in the kvm group)`;
    return `${dev} cannot be opened (${code ?? 'unknown error'})`;
  }
  fs.closeSync(fd);
  return undefined;
}

/**
 * Why KVM works but is the worse choice for a virtio guest, or undefined:
 * under PVM every ring-0 instruction is emulated, and hello takes seconds
 * where TCG takes a fifth of one (docs/virtio.md has the numbers).
 */
export function kvmSlow(pvm = PVM_MODULE): string | undefined {
  return fs.existsSync(pvm) ? "the host's KVM is PVM, which emulates the ring-0 code a virtio guest runs" : undefined;
}

/**
 * The accelerator to start with. -H kvm without a usable KVM is an error
 * naming the reason; auto says in one line why it uses TCG.
 */
export function chooseAccel(choice: AccelChoice, why: string | undefined, slow: string | undefined, warn: (line: string) => void): Accel {
  if (choice === 'tcg') return 'tcg';
  if (why === undefined && (choice === 'kvm' || slow === undefined)) return 'kvm';
  if (why !== undefined && choice === 'kvm') throw new HostError(`KVM unusable: ${why}`);
  warn(why !== undefined ? `KVM unusable (${why}); using TCG` : `KVM slower than TCG here (${slow}); using TCG`);
  return 'tcg';
}

/** QEMU's path: the first qemu-system-x86_64 on PATH, or a one-line error saying how to get it. */
export function findQemu(searchPath: string | undefined = process.env.PATH, name = 'qemu-system-x86_64'): string {
  for (const dir of (searchPath ?? '').split(':')) {
    if (dir === '') continue;
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  throw new HostError(`${name} not found on PATH (Debian: apt-get install qemu-system-x86)`);
}

/** `-H kvm|qemu` (upstream's spelling, 'qemu' meaning TCG) or --accel=auto|kvm|tcg. */
export function parseAccel(option: string, v: string): AccelChoice {
  if (v === 'kvm') return 'kvm';
  if (v === 'qemu' || v === 'tcg') return 'tcg';
  if (v === 'auto') return 'auto';
  throw new UsageError(`${option} ${v}: unknown hypervisor (kvm, qemu or tcg, auto)`);
}
