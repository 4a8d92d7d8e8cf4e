// kvm-probe.ts: whether QEMU can use KVM here (and why not), and which accelerator a run asks for.
import fs from 'node:fs';
import path from 'node:path';
import { HostError, UsageError } from '../errors';
import { native } from '../native';
import type { Accel } from './qemu-args';

export const KVM_DEVICE = '/dev/kvm';
/** Present when the host's KVM is PVM (kvm_pvm): it emulates a guest's ring-0 code, and a virtio guest runs only in ring 0. */
export const PVM_MODULE = '/sys/module/kvm_pvm';

/** What the user asked for: upstream's -H kvm|qemu, or the best that works (the default). */
export type AccelChoice = 'auto' | 'kvm' | 'tcg';

/** What kvmProbe (the addon) found: every step passed, or the first that failed and its errno name. */
export type KvmProbeResult = { ok: true; apiVersion: number } | { ok: false; step: string; code: string };

/** The probe's failure as the reason a run gives for not using KVM, or undefined when every step passed. */
export function describeKvmProbe(dev: string, r: KvmProbeResult): string | undefined {
  if (r.ok) return undefined;
  switch (r.step) {
    case 'open':
      if (r.code === 'ENOENT') return `no ${dev} (KVM not loaded, or no virtualization)`;
      if (r.code === 'EACCES' || r.code === 'EPERM') return `no permission to open ${dev} (not in the kvm group)`;
      return `${dev} cannot be opened (${r.code})`;
    case 'KVM_GET_API_VERSION':
      if (r.code.startsWith('version ')) return `${dev} speaks KVM API ${r.code}, not 12`;
      return `${dev} is not a KVM device (KVM_GET_API_VERSION: ${r.code})`;
    case 'KVM_CREATE_VM':
      return `${dev} refuses to create a VM (KVM_CREATE_VM: ${r.code}; is another hypervisor using the CPU's virtualization?)`;
    default:
      return `${dev} refuses a VM with one vCPU (${r.step}: ${r.code})`;
  }
}

/**
 * Why QEMU cannot use KVM, or undefined when it can: the device is asked
 * what QEMU's -accel kvm asks first (API version, user memory, a VM with
 * a vCPU), and every fd the probe opened is closed before it returns. The
 * CPU model is the one thing only QEMU itself can test: a QEMU that still
 * fails under KVM before the guest printed a byte is run again under TCG
 * for 'auto' (run.ts).
 */
export function kvmUnusable(dev = KVM_DEVICE): string | undefined {
  return describeKvmProbe(dev, native().kvmProbe(dev));
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
