// rings.ts: the broker's memory policy for the tender: how much a ring area may take, which guest ranges device I/O must not write.
import { SN_PROT_W } from '../abi';

/**
 * Guest memory the ring area leaves for the guest's heap and stack: what the
 * bindings want to run a network stack (docs/architecture.md, "Ring sizing").
 */
export const GUEST_HEAP_RESERVE = 512 << 10;

/** `ringsMax` for createGuestBroker: the memory between ringsAddr and the end, less the heap reserve (never negative). */
export function ringsMaxFor(memSize: number, ringsAddr: number): number {
  return Math.max(0, memSize - ringsAddr - GUEST_HEAP_RESERVE);
}

/**
 * `guestReadOnly` for createGuestBroker: every region of the load plan the
 * guest cannot write (text, rodata, and tdata where the image keeps it
 * read-only), as the helper maps them, so that a block read never lands there.
 */
export function readOnlyRanges(regions: readonly { addr: number; len: number; prot: number }[]): { addr: number; len: number }[] {
  return regions.filter((r) => (r.prot & SN_PROT_W) === 0).map((r) => ({ addr: r.addr, len: r.len }));
}
