// abi.ts: which guest ABI an ABI1 note names, and whether a given tender runs it (one-line refusals).
import {
  SN_ABI_TARGET_HVT,
  SN_ABI_TARGET_SPT,
  SN_ABI_TARGET_VIRTIO,
  SN_ABI_VERSION,
  SN_SOLO5_HVT_ABI_V1,
  SN_SOLO5_HVT_ABI_V2,
  SN_SOLO5_SPT_ABI_V1,
  SN_SOLO5_SPT_ABI_V2,
  SN_SOLO5_VIRTIO_ABI_VERSION,
  type Target,
} from '../abi.js';
import { ElfError } from '../errors.js';
import type { AbiNote } from './notes.js';

/**
 * The two guest ABIs a unikernel can speak here. `ring`: this project's own
 * (brokered devices over shared-memory rings; version SN_ABI_VERSION, spt or
 * hvt). `solo5`: upstream Solo5's spt or hvt ABI, version 1 (Solo5 0.6-0.7)
 * or 2 (0.8 on): on spt the guest does its own device syscalls on host fds,
 * on hvt it makes upstream's hypercalls (include/sn_solo5_hvt.h).
 */
export type GuestAbi = { kind: 'ring'; target: Target; version: number } | { kind: 'solo5'; target: Target; version: 1 | 2 };

/** Solo5's abi_target numbering, for messages and `solo5-elftool query-abi`. */
export const ABI_TARGET_NAMES: Readonly<Record<number, string>> = {
  1: 'hvt',
  2: 'spt',
  3: 'virtio',
  4: 'muen',
  5: 'genode',
  6: 'xen',
};

/** The ABI a note names, if this project runs it on some tender. */
export function guestAbiOf(note: AbiNote): GuestAbi | undefined {
  if (note.version === SN_ABI_VERSION) {
    if (note.target === SN_ABI_TARGET_SPT) return { kind: 'ring', target: 'spt', version: note.version };
    if (note.target === SN_ABI_TARGET_HVT) return { kind: 'ring', target: 'hvt', version: note.version };
  }
  if (note.target === SN_ABI_TARGET_SPT && (note.version === SN_SOLO5_SPT_ABI_V1 || note.version === SN_SOLO5_SPT_ABI_V2)) {
    return { kind: 'solo5', target: 'spt', version: note.version };
  }
  if (note.target === SN_ABI_TARGET_HVT && (note.version === SN_SOLO5_HVT_ABI_V1 || note.version === SN_SOLO5_HVT_ABI_V2)) {
    return { kind: 'solo5', target: 'hvt', version: note.version };
  }
  return undefined;
}

/** "Solo5 spt ABI version 2", "solo5-node ring ABI 1001 for hvt", ... */
export function describeAbiNote(note: AbiNote): string {
  const target = ABI_TARGET_NAMES[note.target];
  if (note.version === SN_ABI_VERSION && (note.target === SN_ABI_TARGET_SPT || note.target === SN_ABI_TARGET_HVT)) {
    return `solo5-node ring ABI ${note.version} for ${target}`;
  }
  if (target === undefined) return `unknown Solo5 target ${note.target} (ABI version ${note.version})`;
  return `Solo5 ${target} ABI version ${note.version}`;
}

/** The ABI versions each tender runs, as `--version` lists them ("ABI version N"). */
export const TENDER_ABI_VERSIONS: Readonly<Record<Target, readonly number[]>> = {
  spt: [SN_SOLO5_SPT_ABI_V1, SN_SOLO5_SPT_ABI_V2, SN_ABI_VERSION],
  hvt: [SN_SOLO5_HVT_ABI_V1, SN_SOLO5_HVT_ABI_V2, SN_ABI_VERSION],
};

const TENDER_RUNS: Readonly<Record<Target, string>> = {
  spt: `Solo5 spt ABI ${SN_SOLO5_SPT_ABI_V1} and ${SN_SOLO5_SPT_ABI_V2} and solo5-node ring ABI ${SN_ABI_VERSION}`,
  hvt: `Solo5 hvt ABI ${SN_SOLO5_HVT_ABI_V1} and ${SN_SOLO5_HVT_ABI_V2} and solo5-node ring ABI ${SN_ABI_VERSION}`,
};

/**
 * The guest ABI of `file` if `tender` runs it; otherwise one line saying
 * what the file is, what this tender runs, and where to go instead.
 */
export function abiForTender(file: string, note: AbiNote, tender: Target): GuestAbi {
  const abi = guestAbiOf(note);
  if (abi !== undefined && abi.target === tender) return abi;
  let hint = abi !== undefined ? ` (run it with solo5-${abi.target})` : '';
  if (abi === undefined && isVirtioNote(note)) hint = ' (run it under QEMU with solo5-virtio-run)';
  throw new ElfError(file, `built for ${describeAbiNote(note)}; this solo5-${tender} runs ${TENDER_RUNS[tender]}${hint}`);
}

/** A Solo5 virtio unikernel (Multiboot, run under QEMU by solo5-virtio-run, never by a tender). */
export function isVirtioNote(note: AbiNote): boolean {
  return note.target === SN_ABI_TARGET_VIRTIO && note.version === SN_SOLO5_VIRTIO_ABI_VERSION;
}
