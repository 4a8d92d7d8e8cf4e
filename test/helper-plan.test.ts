// helper-plan.test.ts: the helper refuses every malformed load plan or fd set-up with one line on fd 2 and exit 1.
import t from 'tap';
import * as abi from '../lib/abi';
import type { Region } from '../lib/tender/plan';
import { basePlan, cannotRun, DATA, encodePlan, hello, insn, MEM, runHelper, RW, RX, TEXT, type RunOptions } from './support/helper-run';

const P = abi.SN_PLAN.offsets;
const R = abi.SN_PLAN_REGION.offsets;
const regionAt = (i: number, field: keyof typeof R) => P.regions + i * abi.SN_PLAN_REGION.size + R[field];

/** A valid plan with some bytes overwritten after encoding (for fields the encoder cannot express). */
function patched(...edits: [offset: number, width: 4 | 8, value: number | bigint][]): Buffer {
  const b = encodePlan(basePlan());
  for (const [at, width, v] of edits) {
    if (width === 4) b.writeUInt32LE(Number(v), at);
    else b.writeBigUInt64LE(BigInt(v), at);
  }
  return b;
}

const twoRegions = (second: Partial<Region>) =>
  encodePlan(
    basePlan({
      regions: [
        { addr: TEXT, len: 0x1000, prot: RX },
        { addr: DATA, len: 0x1000, prot: RW, ...second },
      ],
    }),
  );

interface Case {
  name: string;
  plan: Buffer;
  error: string;
  run?: Partial<RunOptions>;
}

const cases: Case[] = [
  { name: 'bad magic', plan: patched([P.magic, 8, 0x1234n]), error: 'invalid plan: bad magic' },
  { name: 'other ABI version', plan: patched([P.abi_version, 4, 2]), error: 'invalid plan: abi_version does not match the helper' },
  { name: 'unknown target', plan: patched([P.target, 4, 9]), error: 'invalid plan: target is neither spt nor hvt' },
  { name: 'no target', plan: patched([P.target, 4, 0]), error: 'invalid plan: target is neither spt nor hvt' },
  { name: 'unknown flag set', plan: patched([P.flags, 4, 32]), error: 'invalid plan: unknown flags' },
  {
    name: 'a debug flag for the default helper',
    plan: patched([P.flags, 4, 8]),
    error: 'invalid plan: this helper has no debug features (--gdb and --dumpcore run solo5-helper-debug)',
  },
  { name: 'no parent pid', plan: patched([P.parent_pid, 4, 0]), error: 'invalid plan: parent_pid is not a process id' },
  {
    name: 'ids without SN_PLAN_F_SETID',
    plan: patched([P.uid, 4, 65534]),
    error: 'invalid plan: uid or gid given without SN_PLAN_F_SETID',
  },
  { name: 'device fds on the ring ABI', plan: patched([P.ndevfds, 4, 1]), error: 'invalid plan: device fds without SN_PLAN_F_SOLO5' },
  {
    name: 'a start gate on hvt',
    plan: patched([P.flags, 4, abi.SN_PLAN_F_GATE], [P.target, 4, abi.SN_ABI_TARGET_HVT]),
    error: 'invalid plan: a start gate is spt only',
  },
  {
    name: 'Solo5 ABI on hvt with a doorbell pair (one ring kick at most)',
    plan: patched([P.flags, 4, abi.SN_PLAN_F_SOLO5], [P.target, 4, abi.SN_ABI_TARGET_HVT], [P.ndoorbells, 4, 2]),
    error: 'invalid plan: a Solo5-ABI guest has no doorbells',
  },
  {
    name: 'Solo5 ABI on hvt above 4 GiB and a ring',
    plan: patched([P.flags, 4, abi.SN_PLAN_F_SOLO5], [P.target, 4, abi.SN_ABI_TARGET_HVT], [P.mem_size, 8, 8n << 30n]),
    error: 'invalid plan: mem_size is above what a Solo5 hvt guest can map',
  },
  {
    name: 'Solo5 ABI with doorbells',
    plan: patched([P.flags, 4, abi.SN_PLAN_F_SOLO5], [P.ndoorbells, 4, 2]),
    error: 'invalid plan: a Solo5-ABI guest has no doorbells',
  },
  {
    name: 'Solo5 ABI, 64 device fds',
    plan: patched([P.flags, 4, abi.SN_PLAN_F_SOLO5], [P.ndevfds, 4, 64]),
    error: 'invalid plan: ndevfds is out of range',
  },
  {
    name: 'Solo5 ABI, dev_epoll past ndevfds',
    plan: patched([P.flags, 4, abi.SN_PLAN_F_SOLO5], [P.dev_epoll, 4, 1]),
    error: 'invalid plan: dev_epoll is set past ndevfds',
  },
  {
    name: 'Solo5 ABI, dev_epoll beyond the manifest',
    plan: patched([P.flags, 4, abi.SN_PLAN_F_SOLO5], [P.ndevfds, 4, 1], [P.dev_epoll, 4, 64]),
    error: 'invalid plan: dev_epoll names no manifest entry',
  },
  {
    name: 'Solo5 ABI, ring boot info address',
    plan: patched([P.flags, 4, abi.SN_PLAN_F_SOLO5]),
    error: 'invalid plan: bootinfo is not at its fixed address',
  },
  {
    name: 'Solo5 ABI, 16-byte aligned stack',
    plan: patched([P.flags, 4, abi.SN_PLAN_F_SOLO5], [P.bootinfo, 8, BigInt(abi.SN_SOLO5_BOOT_INFO_BASE)]),
    error: 'invalid plan: stack_top is not 8 below a 16-byte boundary',
  },
  { name: 'mem_size unaligned', plan: encodePlan(basePlan({ memSize: MEM + 8 })), error: 'invalid plan: mem_size is not page aligned' },
  {
    name: 'mem_size too small',
    plan: encodePlan(basePlan({ memSize: 1 << 20, stackTop: 1 << 20 })),
    error: 'invalid plan: mem_size is out of range',
  },
  {
    name: 'mem_size too big',
    plan: patched([P.mem_size, 8, 2n ** 41n]),
    error: 'invalid plan: mem_size is out of range',
    run: { memSize: MEM },
  },
  { name: 'no regions', plan: patched([P.nregions, 4, 0]), error: 'invalid plan: nregions is out of range' },
  { name: '17 regions', plan: patched([P.nregions, 4, 17]), error: 'invalid plan: nregions is out of range' },
  { name: 'empty BPF', plan: patched([P.bpf_len, 4, 0]), error: 'invalid plan: bpf_len is out of range' },
  { name: 'BPF too long', plan: patched([P.bpf_len, 4, abi.SN_PLAN_MAX_BPF + 1]), error: 'invalid plan: bpf_len is out of range' },
  { name: 'BPF shorter than announced', plan: patched([P.bpf_len, 4, 2]), error: "invalid plan: bpf_len does not match the plan's size" },
  {
    name: 'trailing bytes after the BPF',
    plan: Buffer.concat([encodePlan(basePlan()), Buffer.alloc(3)]),
    error: "invalid plan: bpf_len does not match the plan's size",
  },
  { name: 'truncated plan', plan: encodePlan(basePlan()).subarray(0, 100), error: 'invalid plan: truncated', run: { memSize: MEM } },
  {
    name: 'too many doorbells',
    plan: encodePlan(basePlan({ ndoorbells: abi.HELPER_MAX_DOORBELLS + 1 })),
    error: 'invalid plan: ndoorbells is out of range',
  },
  {
    name: 'bootinfo elsewhere',
    plan: encodePlan(basePlan({ bootinfo: 0x20000 })),
    error: 'invalid plan: bootinfo is not at its fixed address',
  },
  { name: 'region unaligned', plan: twoRegions({ addr: DATA + 0x800 }), error: 'invalid plan: region 1 is not page aligned' },
  { name: 'region length unaligned', plan: twoRegions({ len: 0x800 }), error: 'invalid plan: region 1 is not page aligned' },
  { name: 'region empty', plan: twoRegions({ len: 0 }), error: 'invalid plan: region 1 is empty' },
  { name: 'region below the guest base', plan: twoRegions({ addr: 0xf0000 }), error: 'invalid plan: region 1 is outside guest memory' },
  {
    name: 'region past the end',
    plan: twoRegions({ addr: MEM - 0x1000, len: 0x2000 }),
    error: 'invalid plan: region 1 is outside guest memory',
  },
  {
    name: 'region whose end wraps around',
    plan: patched([regionAt(0, 'addr'), 8, 0xfffffffffffff000n], [regionAt(0, 'len'), 8, 0x2000n]),
    error: 'invalid plan: region 0 is outside guest memory',
  },
  {
    name: 'region W+X',
    plan: twoRegions({ prot: abi.SN_PROT_W | abi.SN_PROT_X }),
    error: 'invalid plan: region 1 is writable and executable',
  },
  { name: 'region RWX', plan: twoRegions({ prot: 7 }), error: 'invalid plan: region 1 is writable and executable' },
  {
    name: 'region unknown prot bit',
    plan: twoRegions({ prot: 8 | abi.SN_PROT_R }),
    error: 'invalid plan: region 1 has unknown protection bits',
  },
  { name: 'region padding', plan: patched([regionAt(0, 'pad'), 4, 1]), error: 'invalid plan: region 0 has non-zero padding' },
  { name: 'regions overlap', plan: twoRegions({ addr: TEXT }), error: 'invalid plan: region 1 overlaps an earlier region' },
  {
    name: 'unused slot not zero',
    plan: patched([regionAt(5, 'len'), 8, 0x1000n]),
    error: 'invalid plan: unused region slots are not zero',
  },
  {
    name: 'entry in RW',
    plan: encodePlan(
      basePlan({
        entry: DATA,
        regions: [
          { addr: TEXT, len: 0x1000, prot: RX },
          { addr: DATA, len: 0x1000, prot: RW },
        ],
      }),
    ),
    error: 'invalid plan: entry is not in an executable region',
  },
  {
    name: 'entry outside every region',
    plan: encodePlan(basePlan({ entry: TEXT + 0x1000 })),
    error: 'invalid plan: entry is not in an executable region',
  },
  {
    name: 'stack_top unaligned',
    plan: encodePlan(basePlan({ stackTop: MEM - 8 })),
    error: 'invalid plan: stack_top is not 16-byte aligned',
  },
  {
    name: 'stack_top past the end',
    plan: encodePlan(basePlan({ stackTop: MEM + 16 })),
    error: 'invalid plan: stack_top is outside guest memory',
  },
  { name: 'stack_top zero', plan: encodePlan(basePlan({ stackTop: 0 })), error: 'invalid plan: stack_top is outside guest memory' },
  {
    name: 'stack in text',
    plan: encodePlan(basePlan({ stackTop: TEXT + 0x1000 })),
    error: 'invalid plan: stack_top is not in writable memory',
  },
  {
    name: 'memfd size differs',
    plan: encodePlan(basePlan()),
    run: { memSize: 2 * MEM },
    error: 'invalid plan: mem_size does not match the guest memory file',
  },
  { name: 'BPF the kernel refuses', plan: encodePlan(basePlan({ bpf: insn(0xffff, 0, 0, 0) })), error: 'seccomp failed: EINVAL' },
  {
    name: 'odd number of doorbells',
    plan: encodePlan(basePlan({ ndoorbells: 3 })),
    error: 'invalid plan: ndoorbells is not a whole number of pairs',
  },
  { name: 'doorbell to tender not open', plan: encodePlan(basePlan({ ndoorbells: 2 })), error: 'check doorbell to tender failed: EBADF' },
  {
    name: 'doorbell to guest not open',
    plan: encodePlan(basePlan({ ndoorbells: 2 })),
    run: { extra: ['pipe'] },
    error: 'epoll_ctl doorbell to guest failed: EBADF',
  },
  { name: 'no memory fd', plan: encodePlan(basePlan()), run: { omit: 'mem' }, error: 'fstat guest memory failed: EBADF' },
  { name: 'no plan fd', plan: encodePlan(basePlan()), run: { omit: 'plan' }, error: 'read plan failed: EBADF' },
];

const why = cannotRun();
if (why) {
  t.plan(0, `helper plan tests: ${why}`);
} else {
  t.test('control: the unmodified plan runs the guest', async (t) => {
    const r = await runHelper({ mem: [{ addr: TEXT, bytes: hello }], plan: encodePlan(basePlan()) });
    t.same({ code: r.code, stdout: r.stdout.toString(), stderr: r.stderr }, { code: 7, stdout: 'hello\n', stderr: '' });
  });

  // Every case loads the hello guest: had the helper run it despite the bad plan, stdout would say so.
  for (const c of cases) {
    t.test(c.name, async (t) => {
      const r = await runHelper({ mem: [{ addr: TEXT, bytes: hello }], plan: c.plan, ...c.run });
      t.same(
        { code: r.code, signal: r.signal, stdout: r.stdout.toString(), stderr: r.stderr },
        { code: 1, signal: null, stdout: '', stderr: `solo5-helper: ${c.error}\n` },
      );
    });
  }
}
