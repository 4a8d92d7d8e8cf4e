// hvt-helper.test.ts: the helper's KVM run loop on hand-made guests: hypercalls, their checks, and how a broken guest ends.
import fs from 'node:fs';
import t, { type Test } from 'tap';
import * as abi from '../lib/abi';
import { basePlan, cannotRun, DATA, encodePlan, machine, MEM, pipeAt, runHelper, RW, RX, TEXT, type HelperRun } from './support/helper-run';
import { encodeSolo5HvtBootInfo } from '../lib/tender/solo5-hvt';
import { kvmUnavailable } from './support/kvm';
import { until } from './support/ring-guest';

/*
 * Each guest is a few bytes of ring-0 machine code at TEXT, with its
 * assembly beside it, and its data at DATA. The helper starts the vCPU at
 * TEXT with no descriptor tables, so any CPU exception is a triple fault.
 * %rbx always holds the hypercall page (include/sn_hvt_abi.h): slot n is at
 * %rbx + 8n (0 PUTS, 1 EXIT, 2 WAIT, 3 KICK, 4 SET_TLS).
 */
const HYPERCALLS = '48 bb 00 f0 ff ff 0f 00 00 00  ; movabs rbx, 0xffffff000';
const EXIT_RAX = '48 89 43 08  ; mov [rbx+8], rax (EXIT rax)';

function le64(...values: Array<number | bigint>): Buffer {
  const b = Buffer.alloc(8 * values.length);
  values.forEach((v, i) => b.writeBigUInt64LE(BigInt(v), 8 * i));
  return b;
}

/** PUTS the struct at DATA, then EXIT 7. */
const putsExit = machine(`
  ${HYPERCALLS}
  b8 00 00 20 00                 ; mov eax, DATA
  48 89 03                       ; mov [rbx], rax (PUTS)
  b8 07 00 00 00                 ; mov eax, 7
  ${EXIT_RAX}
`);
const helloData = Buffer.concat([le64(DATA + 16, 6), Buffer.from('hello\n')]);

/** WAIT with the struct sn_hvt_wait at DATA, then EXIT with its woken field. */
const waitExit = machine(`
  ${HYPERCALLS}
  b8 00 00 20 00                 ; mov eax, DATA
  48 89 43 10                    ; mov [rbx+16], rax (WAIT)
  8b 04 25 08 00 20 00           ; mov eax, [DATA+8] (woken)
  ${EXIT_RAX}
`);

const kickExit = machine(`
  ${HYPERCALLS}
  48 89 43 18                    ; mov [rbx+24], rax (KICK)
  31 c0                          ; xor eax, eax
  ${EXIT_RAX}
`);

/** SET_TLS to DATA + 0x100, then EXIT with the byte at %fs:0. */
const tlsExit = machine(`
  ${HYPERCALLS}
  b8 00 01 20 00                 ; mov eax, DATA + 0x100
  48 89 43 20                    ; mov [rbx+32], rax (SET_TLS)
  64 48 8b 04 25 00 00 00 00     ; mov rax, fs:[0]
  ${EXIT_RAX}
`);

function plan(over: Parameters<typeof basePlan>[0] = {}): Buffer {
  return encodePlan(
    basePlan({
      target: 'hvt',
      regions: [
        { addr: TEXT, len: abi.SN_PAGE_SIZE, prot: RX },
        { addr: DATA, len: abi.SN_PAGE_SIZE, prot: RW },
      ],
      ...over,
    }),
  );
}

/** Run the helper as hvt with the KVM device (or `kvm`) after the doorbells. */
async function runHvt(
  code: Buffer,
  data: Buffer,
  o: {
    plan?: Buffer;
    doorbells?: ('pipe' | 'ignore')[];
    kvm?: string;
    memSize?: number;
    keepMem?: (fd: number) => void;
    onSpawn?: Parameters<typeof runHelper>[0]['onSpawn'];
    /** Bytes at 0x10000 (a Solo5-ABI guest's boot info and manifest copy). */
    low?: Buffer;
  } = {},
): Promise<HelperRun> {
  const kvm = fs.openSync(o.kvm ?? '/dev/kvm', fs.constants.O_RDWR);
  try {
    return await runHelper({
      mem: [
        { addr: TEXT, bytes: code },
        { addr: DATA, bytes: data },
        ...(o.low ? [{ addr: abi.SN_SOLO5_HVT_BOOT_INFO, bytes: o.low }] : []),
      ],
      plan: o.plan ?? plan({ ndoorbells: o.doorbells?.length ?? 0 }),
      memSize: o.memSize,
      extra: [...(o.doorbells ?? []), kvm],
      keepMem: o.keepMem,
      onSpawn: o.onSpawn,
    });
  } finally {
    fs.closeSync(kvm);
  }
}

function abortsWith(t: Test, r: HelperRun, message: RegExp): void {
  t.equal(r.code, 255, 'exit 255, as an abort');
  t.match(r.stdout.toString(), /^Solo5: ABORT: hvt: /, 'one ABORT line on the console');
  t.match(r.stdout.toString(), message);
  t.equal(r.stderr, '', 'nothing on fd 2: the guest did run');
}

const skip = cannotRun() ?? kvmUnavailable() ?? false;

/** True while a thread of the helper is blocked in the WAIT hypercall's epoll wait on SN_FD_WAIT. */
function blockedInWait(pid: number): boolean {
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return false; // not started yet, or gone
  }
  return tids.some((tid) => {
    let call: string[];
    try {
      call = fs.readFileSync(`/proc/${pid}/task/${tid}/syscall`, 'utf8').split(' ');
    } catch {
      return false;
    }
    // epoll_pwait2 (441), or epoll_pwait (281) on kernels before 5.11; the first argument is the fd.
    return (call[0] === '441' || call[0] === '281') && Number(call[1]) === abi.SN_FD_WAIT;
  });
}

t.test('hvt: console and exit hypercalls; the helper fills in the clocks', { skip }, async (t) => {
  let memFd = -1;
  const before = Date.now();
  const r = await runHvt(putsExit, helloData, { keepMem: (fd) => (memFd = fd) });
  t.teardown(() => fs.closeSync(memFd));
  t.equal(r.stdout.toString(), 'hello\n');
  t.equal(r.code, 7);
  t.equal(r.stderr, '');
  const bi = Buffer.alloc(abi.SN_BOOTINFO.size);
  fs.readSync(memFd, bi, 0, bi.length, abi.SN_BOOTINFO_ADDR);
  const o = abi.SN_BOOTINFO.offsets;
  t.ok(bi.readBigUInt64LE(o.tsc_freq) > 100_000_000n, 'a TSC frequency above 100 MHz');
  t.ok(bi.readBigUInt64LE(o.tsc_base) > 0n, 'a TSC base');
  const wall = Number(bi.readBigUInt64LE(o.wall_base_ns) / 1_000_000n);
  // A bracket, not a duration: the base is read between `before` and now, so a slow run
  // only widens the window; the second either side is the clocks' granularity, not a budget.
  t.ok(wall >= before - 1000 && wall <= Date.now() + 1000, 'the wall-clock base is now');
  t.ok(bi.readBigUInt64LE(o.mono_base_ns) > 0n, 'a monotonic base');
});

t.test('hvt: untrusted hypercall arguments are checked; a broken guest aborts with one console line', { skip }, async (t) => {
  const bad: [string, Buffer, Buffer, RegExp][] = [
    [
      'a buffer outside guest memory',
      putsExit,
      le64(0x7fff00000000n, 6),
      /console hypercall with a buffer outside guest memory at 0x7fff00000000/,
    ],
    ['a length running past the end', putsExit, le64(DATA, MEM), /buffer outside guest memory/],
    [
      'an argument struct in the unmapped low 64 KiB',
      machine(`${HYPERCALLS}\n b8 00 10 00 00 ; mov eax, 0x1000\n 48 89 03 ; mov [rbx], rax`),
      le64(0),
      /arguments outside guest memory at 0x1000/,
    ],
    ['an unknown hypercall', machine(`${HYPERCALLS}\n 48 89 43 48 ; mov [rbx+72], rax`), le64(0), /unknown hypercall at 0xffffff048/],
    [
      'a load from the hypercall page',
      machine(`${HYPERCALLS}\n 48 8b 03 ; mov rax, [rbx]`),
      le64(0),
      /other than an aligned 8-byte store at 0xffffff000/,
    ],
    ['a 4-byte store', machine(`${HYPERCALLS}\n 89 03 ; mov [rbx], eax`), le64(0), /other than an aligned 8-byte store/],
    ['port I/O', machine('66 ba 01 05 ; mov dx, 0x501\n ef ; out dx, eax'), le64(0), /port I\/O on port 0x501/],
    ['hlt', machine('f4 ; hlt'), le64(0), /halted/],
    ['a fault with no IDT', machine('0f 0b ; ud2'), le64(0), /triple fault/],
    [
      'a non-canonical TLS base',
      machine(`${HYPERCALLS}\n 48 b8 00 00 00 00 00 00 00 80 ; movabs rax, 1 << 63\n 48 89 43 20 ; mov [rbx+32], rax`),
      le64(0),
      /TLS hypercall with a base KVM refused/,
    ],
  ];
  for (const [what, code, data, message] of bad) {
    await t.test(what, async (tt) => abortsWith(tt, await runHvt(code, data), message));
  }
});

t.test('hvt: SET_TLS sets the %fs base', { skip }, async (t) => {
  const data = Buffer.alloc(0x108);
  data[0x100] = 42;
  const r = await runHvt(tlsExit, data);
  t.equal(r.code, 42, 'the load through %fs read the byte at the new base');
  t.equal(r.stderr, '');
});

t.test('hvt: WAIT sleeps its timeout, or until the doorbell to the guest rings', { skip }, async (t) => {
  const start = Date.now();
  const slept = await runHvt(waitExit, le64(100_000_000, 0), { doorbells: ['pipe', 'pipe'] });
  t.equal(slept.code, 0, 'woken = 0: the timeout ran out');
  // Kept: a wait must never end before its timeout (Solo5's yield returns at its deadline,
  // not before). It is a lower bound, so load can only make it hold more easily.
  t.ok(Date.now() - start >= 100, 'after at least 100 ms');

  // Ring once the guest is asleep in WAIT, not after a guess at how long it takes to get there.
  const rung = await runHvt(waitExit, le64(10_000_000_000, 0), {
    doorbells: ['pipe', 'pipe'],
    onSpawn: (child) => {
      until(() => child.pid !== undefined && blockedInWait(child.pid), 'the guest asleep in the WAIT hypercall')
        .then(() => pipeAt(child, abi.SN_FD_DOORBELL0 + abi.SN_DOORBELL_TO_GUEST).write(le64(1)))
        .catch((e: Error) => t.fail(e.message));
    },
  });
  t.equal(rung.code, 1, 'woken = 1: the doorbell ended the wait, not the 10 s timeout');

  const none = await runHvt(waitExit, le64(50_000_000, 0));
  t.equal(none.code, 0, 'without doorbells the wait is a plain sleep');
});

t.test('hvt: KICK rings the doorbell to the tender', { skip }, async (t) => {
  let rang = Buffer.alloc(0);
  const r = await runHvt(kickExit, le64(0), {
    doorbells: ['pipe', 'pipe'],
    onSpawn: (child) => child.stdio.at(abi.SN_FD_DOORBELL0)?.on('data', (b: Buffer) => (rang = Buffer.concat([rang, b]))),
  });
  t.equal(r.code, 0);
  t.same(rang, le64(1), 'one 8-byte eventfd increment on the first doorbell');
  const alone = await runHvt(kickExit, le64(0));
  t.equal(alone.code, 0, 'a kick with no doorbells is harmless');
});

t.test('hvt: set-up failures are one line on fd 2 and exit 1', { skip }, async (t) => {
  const big = 64 * 1024 * 1024 * 1024;
  const r = await runHvt(putsExit, helloData, { plan: plan({ memSize: big, stackTop: big }), memSize: big });
  t.equal(r.code, 1);
  t.match(r.stderr, /^solo5-helper: invalid plan: mem_size reaches the hvt hypercall page below 64 GiB \(hvt: use a smaller --mem\)\n$/);
  t.equal(r.stdout.length, 0, 'the guest never ran');

  const notKvm = await runHvt(putsExit, helloData, { kvm: '/dev/null' });
  t.equal(notKvm.code, 1);
  t.match(notKvm.stderr, /^solo5-helper: KVM_GET_API_VERSION on the KVM device fd failed: /);
});

/*
 * A guest of upstream Solo5's hvt ABI, straight at the helper: ring 0, `out`
 * hypercalls on ports 0x501-0x508 (include/sn_solo5_hvt.h), the boot info and
 * manifest copy the tender would write at 0x10000. test/hvt-solo5.test.ts
 * runs every hypercall's rows through the tender.
 */
const solo5Plan = () => plan({ solo5: { devEpoll: [] }, bootinfo: abi.SN_SOLO5_HVT_BOOT_INFO, stackTop: MEM - abi.SN_SOLO5_HVT_STACK_GAP });
function solo5Low(memSize = MEM): Buffer {
  const mft = Buffer.alloc(abi.mftSize(1));
  mft.writeUInt32LE(abi.SN_MFT_VERSION, 0);
  mft.writeUInt32LE(1, 4);
  mft.writeUInt32LE(abi.SN_MFT_RESERVED_FIRST, 8 + abi.SN_MFT_ENTRY.offsets.type);
  const boot = encodeSolo5HvtBootInfo({ memSize, kernelEnd: TEXT + 0x1000, cmdline: abi.SN_SOLO5_HVT_MFT_ADDR + mft.length });
  return Buffer.concat([boot, mft, Buffer.from('\0')]);
}
/** PUTS the struct at DATA (upstream's port 0x502), then HALT with the struct at DATA + 0x40 (port 0x508). */
const solo5PutsHalt = machine(`
  b8 00 00 20 00                 ; mov eax, DATA
  66 ba 02 05                    ; mov dx, 0x502
  ef                             ; out dx, eax
  b8 40 00 20 00                 ; mov eax, DATA + 0x40
  66 ba 08 05                    ; mov dx, 0x508
  ef                             ; out dx, eax
`);
const solo5Data = (text: string, status: number) => {
  const d = Buffer.alloc(0x100);
  le64(DATA + 0x80, text.length).copy(d, 0);
  le64(0, status).copy(d, 0x40);
  Buffer.from(text).copy(d, 0x80);
  return d;
};

t.test('Solo5 hvt ABI at the helper: PUTS and HALT; upstream lines on fd 2 once running; set-up refusals', { skip }, async (t) => {
  const ok = await runHvt(solo5PutsHalt, solo5Data('hello\n', 9), { plan: solo5Plan(), low: solo5Low() });
  t.same([ok.code, ok.stdout.toString(), ok.stderr], [9, 'hello\n', ''], 'PUTS, then HALT 9');

  const wild = solo5Data('hello\n', 9);
  le64(0x7fff0000, 6).copy(wild, 0);
  const bad = await runHvt(solo5PutsHalt, wild, { plan: solo5Plan(), low: solo5Low() });
  t.equal(bad.code, 1, 'a bad pointer: status 1, as upstream');
  t.equal(bad.stderr.charCodeAt(0), abi.SN_SOLO5_HVT_DIAG_RUNNING, 'behind the running marker');
  t.match(bad.stderr.slice(1), /^helper_hvt_solo5_core\.c:[0-9]+: Invalid guest access: gpa=0x7fff0000, sz=6\n$/, "upstream's line");

  const ringOut = await runHvt(machine('66 ba 01 05 ; mov dx, 0x501\n ef ; out dx, eax'), le64(0));
  t.equal(ringOut.code, 255, 'the same `out` from a ring-ABI guest still aborts as the ring ABI does');

  const none = await runHvt(solo5PutsHalt, solo5Data('x', 0), { plan: solo5Plan() });
  t.equal(none.code, 1, 'no boot info: refused before the guest runs');
  t.match(none.stderr, /^solo5-helper: invalid plan: the boot info's mem_size does not fit the plan\n$/);
  const big = await runHvt(solo5PutsHalt, solo5Data('x', 0), { plan: solo5Plan(), low: solo5Low(2 * MEM) });
  t.match(big.stderr, /mem_size does not fit the plan/, 'a boot info promising more memory than there is');
});
