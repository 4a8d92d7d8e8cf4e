// hvtring.ts: offering upstream Solo5's 0.11+ net ring to a Solo5-ABI hvt guest: where it is, which fds it serves.
import * as abi from '../abi';
import type { LoadedElf } from '../elf';
import type { HvtRingConfig } from '../native';
import type { AttachedDevices } from './devices';
import { regionsFromSegments } from './plan';

/*
 * A guest of Solo5 0.11 or later that finds RING_IO in its boot info queues
 * its net reads and writes in a ring at net_ring (the 2 MiB above what it
 * sees as memory) and kicks port 0x600, which the helper registers as a KVM
 * ioeventfd on the broker's kick eventfd: no VM exit per frame. The broker's
 * pump serves the ring on the very fds the helper's NET_READ/NET_WRITE
 * hypercalls use (the tap, or the helper's end of a device's seqpacket pair),
 * so a frame never depends on the path the guest picked and the helper's POLL
 * sees the same readiness. Older guests read 40 bytes of boot info, never see
 * the offer and keep to the hypercalls (docs/hvt.md, "The net ring").
 */

/** The broker's hvtRing config: the ring at `visible` (the boot info's mem_size), one entry per net device. */
export function hvtRingConfig(elf: LoadedElf, devices: AttachedDevices, visible: number): HvtRingConfig | undefined {
  const nets: HvtRingConfig['nets'] = [];
  elf.manifest.devices.forEach((d, i) => {
    const a = devices.attach.get(d.name);
    const g = devices.guestFds.find((f) => f.index === i + 1);
    if (d.type === 'NET_BASIC' && a?.net && g) nets.push({ index: g.index, name: d.name, fd: g.fd, mtu: a.net.mtu });
  });
  return nets.length > 0 ? { addr: visible, nets } : undefined;
}

/**
 * What the pump must never write through its own mapping (which ignores the
 * guest's page permissions): the tender's low memory (page tables, boot info,
 * manifest copy, command line, below the kernel at 1 MiB) and the guest's
 * read-only segments. A ring read into them completes with EINVAL.
 */
export function hvtRingReadOnly(elf: LoadedElf): { addr: number; len: number }[] {
  const low = { addr: 0, len: abi.SN_SOLO5_HVT_KERNEL_MIN };
  const ro = regionsFromSegments(elf.segments)
    .filter((r) => (r.prot & abi.SN_PROT_W) === 0)
    .map((r) => ({ addr: r.addr, len: r.len }));
  return [low, ...ro];
}
