// plan.test.ts: the load plan and boot info encoders put every field where sn_abi.h says, and refuse what they cannot encode.
import t from 'tap';
import * as abi from '../lib/abi';
import { encodeBootinfo, encodePlan, regionsFromSegments, type PlanInput } from '../lib/tender/plan';

const allow = Buffer.from('06000000 0000ff7f'.replace(/\s/g, ''), 'hex');
const plan: PlanInput = {
  target: 'spt',
  memSize: 64 << 20,
  entry: 0x100123,
  stackTop: 64 << 20,
  bootinfo: abi.SN_BOOTINFO_ADDR,
  regions: [
    { addr: 0x100000, len: 0x3000, prot: abi.SN_PROT_R | abi.SN_PROT_X },
    { addr: 0x103000, len: 0x1000, prot: abi.SN_PROT_R },
  ],
  bpf: Buffer.concat([allow, allow]),
  ndoorbells: 4,
  parentPid: 4242,
};

t.test('encodePlan lays out struct sn_plan then the BPF', async (t) => {
  const b = encodePlan(plan);
  const o = abi.SN_PLAN.offsets;
  const r = abi.SN_PLAN_REGION.offsets;
  t.equal(b.length, abi.SN_PLAN.size + 16);
  t.same(
    {
      magic: b.readBigUInt64LE(o.magic),
      version: b.readUInt32LE(o.abi_version),
      target: b.readUInt32LE(o.target),
      mem: b.readBigUInt64LE(o.mem_size),
      entry: b.readBigUInt64LE(o.entry),
      stack: b.readBigUInt64LE(o.stack_top),
      boot: b.readBigUInt64LE(o.bootinfo),
      nregions: b.readUInt32LE(o.nregions),
      bpfLen: b.readUInt32LE(o.bpf_len),
      doorbells: b.readUInt32LE(o.ndoorbells),
      flags: b.readUInt32LE(o.flags),
    },
    {
      magic: abi.SN_PLAN_MAGIC,
      version: abi.SN_ABI_VERSION,
      target: abi.SN_ABI_TARGET_SPT,
      mem: 64n << 20n,
      entry: 0x100123n,
      stack: 64n << 20n,
      boot: BigInt(abi.SN_BOOTINFO_ADDR),
      nregions: 2,
      bpfLen: 2,
      doorbells: 4,
      flags: 0,
    },
  );
  const second = o.regions + abi.SN_PLAN_REGION.size;
  t.same(
    [
      b.readBigUInt64LE(second + r.addr),
      b.readBigUInt64LE(second + r.len),
      b.readUInt32LE(second + r.prot),
      b.readUInt32LE(second + r.pad),
    ],
    [0x103000n, 0x1000n, abi.SN_PROT_R, 0],
  );
  t.ok(
    b.subarray(o.regions + 2 * abi.SN_PLAN_REGION.size, o.parent_pid).every((x) => x === 0),
    'unused region slots are zero',
  );
  t.same(b.subarray(abi.SN_PLAN.size), plan.bpf);
  t.equal(encodePlan({ ...plan, target: 'hvt' }).readUInt32LE(o.target), abi.SN_ABI_TARGET_HVT);
});

t.test('encodePlan refuses what it cannot encode', async (t) => {
  const bad: [string, Partial<PlanInput>, RegExp][] = [
    ['no regions', { regions: [] }, /0 regions/],
    [
      '17 regions',
      { regions: Array.from({ length: 17 }, (_, i) => ({ addr: 0x100000 + i * 0x1000, len: 0x1000, prot: 1 })) },
      /17 regions/,
    ],
    ['empty BPF', { bpf: Buffer.alloc(0) }, /BPF program of 0 bytes/],
    ['partial BPF instruction', { bpf: Buffer.alloc(12) }, /BPF program of 12 bytes/],
    ['BPF too long', { bpf: Buffer.alloc(8 * (abi.SN_PLAN_MAX_BPF + 1)) }, /BPF program of/],
    ['negative entry', { entry: -1 }, /^entry: -1/],
    ['fractional memSize', { memSize: 1.5 }, /^memSize: 1.5/],
    ['unsafe stackTop', { stackTop: 2 ** 60 }, /^stackTop:/],
    ['negative doorbells', { ndoorbells: -1 }, /^ndoorbells:/],
    ['region prot too big', { regions: [{ addr: 0x100000, len: 0x1000, prot: 2 ** 32 }] }, /^regions\[0\]\.prot:/],
  ];
  for (const [name, over, msg] of bad) t.throws(() => encodePlan({ ...plan, ...over }), { name: 'RangeError', message: msg }, name);
});

t.test('regionsFromSegments rounds to pages, maps flags to SN_PROT_*, sorts, drops empty segments', async (t) => {
  const regions = regionsFromSegments([
    { vaddr: 0x105010, memsz: 0x2000, prot: { r: true, w: true, x: false } },
    { vaddr: 0x100000, memsz: 0x1234, prot: { r: true, w: false, x: true } },
    { vaddr: 0x102000, memsz: 0x10, prot: { r: true, w: false, x: false } },
    { vaddr: 0x104000, memsz: 0, prot: { r: true, w: false, x: false } },
  ]);
  t.same(regions, [
    { addr: 0x100000, len: 0x2000, prot: abi.SN_PROT_R | abi.SN_PROT_X },
    { addr: 0x102000, len: 0x1000, prot: abi.SN_PROT_R },
    { addr: 0x105000, len: 0x3000, prot: abi.SN_PROT_R | abi.SN_PROT_W },
  ]);
});

t.test('encodeBootinfo fills struct sn_bootinfo (256 bytes, reserved zero)', async (t) => {
  const b = encodeBootinfo({
    target: 'spt',
    memSize: 32 << 20,
    kernelEnd: 0x180000,
    cmdline: abi.SN_CMDLINE_ADDR,
    mft: abi.SN_MFT_ADDR,
    mftSize: abi.mftSize(2),
    rings: 0x180000,
    ringsSize: 0x4000,
    random: 0xfedcba9876543210n,
    tscFreq: 0n,
    waitFd: abi.SN_FD_WAIT,
    consoleFd: -1,
  });
  const o = abi.SN_BOOTINFO.offsets;
  t.equal(b.length, 256);
  t.same(
    [
      b.readBigUInt64LE(o.magic),
      b.readUInt32LE(o.abi_version),
      b.readUInt32LE(o.target),
      b.readBigUInt64LE(o.mem_size),
      b.readBigUInt64LE(o.kernel_end),
      b.readBigUInt64LE(o.cmdline),
      b.readBigUInt64LE(o.mft),
      b.readBigUInt64LE(o.mft_size),
      b.readBigUInt64LE(o.rings),
      b.readBigUInt64LE(o.rings_size),
      b.readBigUInt64LE(o.random),
      b.readBigUInt64LE(o.tsc_freq),
      b.readInt32LE(o.wait_fd),
      b.readInt32LE(o.console_fd),
    ],
    [
      abi.SN_BOOTINFO_MAGIC,
      abi.SN_ABI_VERSION,
      2,
      32n << 20n,
      0x180000n,
      0x11000n,
      0x13000n,
      BigInt(abi.mftSize(2)),
      0x180000n,
      0x4000n,
      0xfedcba9876543210n,
      0n,
      3,
      -1,
    ],
  );
  t.ok(
    b.subarray(o.reserved).every((x) => x === 0),
    'reserved words are zero',
  );
  t.throws(() => encodeBootinfo({ ...fields(), random: -1n }), RangeError);
  t.throws(() => encodeBootinfo({ ...fields(), waitFd: 2 ** 31 }), RangeError);
});

function fields(): Parameters<typeof encodeBootinfo>[0] {
  return {
    target: 'spt',
    memSize: 1 << 21,
    kernelEnd: 0x101000,
    cmdline: 0,
    mft: 0,
    mftSize: 0,
    rings: 0,
    ringsSize: 0,
    random: 0n,
    tscFreq: 0n,
    waitFd: 3,
    consoleFd: 1,
  };
}
