// plan.ts: encodes the helper's load plan (struct sn_plan + BPF) and the ring-ABI guest's boot info (struct sn_bootinfo).
import * as abi from '../abi';

/** One range of guest memory with its final protection (SN_PROT_* bits). */
export interface Region {
  addr: number;
  len: number;
  prot: number;
}

export interface PlanInput {
  target: abi.Target;
  memSize: number;
  entry: number;
  stackTop: number;
  bootinfo: number;
  regions: Region[];
  /** Classic BPF program, 8 bytes per instruction. */
  bpf: Buffer;
  ndoorbells: number;
  /** The tender's pid: the helper dies with it, and refuses to start if it is already gone. */
  parentPid: number;
  /** Drop to these ids and no capabilities before the guest runs (the tender runs as root). */
  setid?: { uid: number; gid: number };
  /**
   * Solo5's spt ABI: one entry per device fd from SN_FD_DEV0, the manifest
   * index that fd joins the guest's epoll set with, or 0 (block: not in it).
   */
  solo5?: { devEpoll: readonly number[] };
  /** spt: wait at a start gate, outliving the spawner (SN_PLAN_F_GATE; solo5-oci without a monitor). */
  gate?: boolean;
  /** SN_PLAN_F_DUMPCORE and SN_PLAN_F_GDB (include/sn_hvt_debug.h): only solo5-helper-debug takes them. */
  debugFlags?: number;
}

export interface BootinfoInput {
  target: abi.Target;
  memSize: number;
  kernelEnd: number;
  cmdline: number;
  mft: number;
  mftSize: number;
  rings: number;
  ringsSize: number;
  random: bigint;
  tscFreq: bigint;
  waitFd: number;
  consoleFd: number;
}

export interface SegmentLike {
  vaddr: number;
  memsz: number;
  prot: { r: boolean; w: boolean; x: boolean };
}

/*
 * These encoders are fed by the tender's own, already validated values (the
 * ELF loader's segments, checked options), so a bad value here is a bug in
 * the tender: it raises a RangeError rather than a user-facing Solo5Error.
 * They check what would otherwise be silently truncated or mangled by the
 * encoding; the helper re-checks the plan's meaning before using it.
 */
function u64(name: string, v: number): bigint {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name}: ${v} is not an unsigned integer`);
  return BigInt(v);
}

function u32(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${name}: ${v} is not a 32-bit unsigned integer`);
  return v;
}

function i32(name: string, v: number): number {
  if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new RangeError(`${name}: ${v} is not a 32-bit integer`);
  return v;
}

function bigU64(name: string, v: bigint): bigint {
  if (v < 0n || v > 0xffffffffffffffffn) throw new RangeError(`${name}: ${v} is not a 64-bit unsigned integer`);
  return v;
}

/** struct sn_plan followed by the BPF program: the bytes the helper reads from SN_FD_PLAN. */
export function encodePlan(p: PlanInput): Buffer {
  const o = abi.SN_PLAN.offsets;
  if (p.regions.length === 0 || p.regions.length > abi.SN_PLAN_MAX_REGIONS) {
    throw new RangeError(`plan: ${p.regions.length} regions, expected 1 to ${abi.SN_PLAN_MAX_REGIONS}`);
  }
  const insns = p.bpf.length / 8;
  if (!Number.isInteger(insns) || insns < 1 || insns > abi.SN_PLAN_MAX_BPF) {
    throw new RangeError(`plan: BPF program of ${p.bpf.length} bytes, expected 1 to ${abi.SN_PLAN_MAX_BPF} 8-byte instructions`);
  }
  const buf = Buffer.alloc(abi.SN_PLAN.size + p.bpf.length);
  buf.writeBigUInt64LE(abi.SN_PLAN_MAGIC, o.magic);
  buf.writeUInt32LE(abi.SN_ABI_VERSION, o.abi_version);
  buf.writeUInt32LE(abi.TARGET_NUMBER[p.target], o.target);
  buf.writeBigUInt64LE(u64('memSize', p.memSize), o.mem_size);
  buf.writeBigUInt64LE(u64('entry', p.entry), o.entry);
  buf.writeBigUInt64LE(u64('stackTop', p.stackTop), o.stack_top);
  buf.writeBigUInt64LE(u64('bootinfo', p.bootinfo), o.bootinfo);
  buf.writeUInt32LE(p.regions.length, o.nregions);
  buf.writeUInt32LE(insns, o.bpf_len);
  buf.writeUInt32LE(u32('ndoorbells', p.ndoorbells), o.ndoorbells);
  const flags =
    (p.solo5 ? abi.SN_PLAN_F_SOLO5 : 0) |
    (p.setid ? abi.SN_PLAN_F_SETID : 0) |
    (p.gate === true ? abi.SN_PLAN_F_GATE : 0) |
    (p.debugFlags ?? 0);
  buf.writeUInt32LE(flags, o.flags);
  buf.writeInt32LE(i32('parentPid', p.parentPid), o.parent_pid);
  buf.writeUInt32LE(u32('uid', p.setid?.uid ?? 0), o.uid);
  buf.writeUInt32LE(u32('gid', p.setid?.gid ?? 0), o.gid);
  const devEpoll = p.solo5?.devEpoll ?? [];
  if (devEpoll.length > abi.SN_MFT_MAX_ENTRIES - 1)
    throw new RangeError(`plan: ${devEpoll.length} device fds, at most ${abi.SN_MFT_MAX_ENTRIES - 1}`);
  buf.writeUInt32LE(devEpoll.length, o.ndevfds);
  devEpoll.forEach((index, i) => {
    if (!Number.isInteger(index) || index < 0 || index >= abi.SN_MFT_MAX_ENTRIES)
      throw new RangeError(`plan: devEpoll[${i}] = ${index} names no manifest entry`);
    buf.writeUInt8(index, o.dev_epoll + i);
  });
  const r = abi.SN_PLAN_REGION.offsets;
  p.regions.forEach((region, i) => {
    const at = o.regions + i * abi.SN_PLAN_REGION.size;
    buf.writeBigUInt64LE(u64(`regions[${i}].addr`, region.addr), at + r.addr);
    buf.writeBigUInt64LE(u64(`regions[${i}].len`, region.len), at + r.len);
    buf.writeUInt32LE(u32(`regions[${i}].prot`, region.prot), at + r.prot);
  });
  p.bpf.copy(buf, abi.SN_PLAN.size);
  return buf;
}

/**
 * One region per PT_LOAD segment, widened to whole pages. The ELF loader has
 * already refused segments that overlap once rounded, and W+X segments.
 */
export function regionsFromSegments(segments: readonly SegmentLike[]): Region[] {
  const page = abi.SN_PAGE_SIZE;
  return segments
    .filter((s) => s.memsz > 0)
    .map((s) => {
      const addr = Math.floor(s.vaddr / page) * page;
      const end = Math.ceil((s.vaddr + s.memsz) / page) * page;
      const prot = (s.prot.r ? abi.SN_PROT_R : 0) | (s.prot.w ? abi.SN_PROT_W : 0) | (s.prot.x ? abi.SN_PROT_X : 0);
      return { addr, len: end - addr, prot };
    })
    .sort((a, b) => a.addr - b.addr);
}

/** struct sn_bootinfo (256 bytes), written into guest memory at SN_BOOTINFO_ADDR. */
export function encodeBootinfo(b: BootinfoInput): Buffer {
  const o = abi.SN_BOOTINFO.offsets;
  const buf = Buffer.alloc(abi.SN_BOOTINFO.size);
  buf.writeBigUInt64LE(abi.SN_BOOTINFO_MAGIC, o.magic);
  buf.writeUInt32LE(abi.SN_ABI_VERSION, o.abi_version);
  buf.writeUInt32LE(abi.TARGET_NUMBER[b.target], o.target);
  buf.writeBigUInt64LE(u64('memSize', b.memSize), o.mem_size);
  buf.writeBigUInt64LE(u64('kernelEnd', b.kernelEnd), o.kernel_end);
  buf.writeBigUInt64LE(u64('cmdline', b.cmdline), o.cmdline);
  buf.writeBigUInt64LE(u64('mft', b.mft), o.mft);
  buf.writeBigUInt64LE(u64('mftSize', b.mftSize), o.mft_size);
  buf.writeBigUInt64LE(u64('rings', b.rings), o.rings);
  buf.writeBigUInt64LE(u64('ringsSize', b.ringsSize), o.rings_size);
  buf.writeBigUInt64LE(bigU64('random', b.random), o.random);
  buf.writeBigUInt64LE(bigU64('tscFreq', b.tscFreq), o.tsc_freq);
  buf.writeInt32LE(i32('waitFd', b.waitFd), o.wait_fd);
  buf.writeInt32LE(i32('consoleFd', b.consoleFd), o.console_fd);
  return buf;
}
