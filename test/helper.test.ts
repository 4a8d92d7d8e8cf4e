// helper.test.ts: the static helper maps guest memory with the planned permissions, confines the guest and jumps to it.
import fs from 'node:fs';
import t from 'tap';
import * as abi from '../lib/abi';
import {
  basePlan,
  cannotRun,
  DATA,
  encodePlan,
  killSyscall,
  hello,
  machine,
  MEM,
  pipeAt,
  runHelper,
  RW,
  RX,
  TEXT,
  waitFor,
} from './support/helper-run';

/*
 * Each guest is a few bytes of x86-64 machine code placed at TEXT, with its
 * assembly beside it, so these tests depend on nothing but the helper, the
 * addon's memfd and the plan encoder.
 */
/** Pushes every general register as found at entry and writes them to stdout (128 bytes), then exits 0. */
const regs = machine(`
  54 50 53 51 52 56 57 55  ; push rsp, rax, rbx, rcx, rdx, rsi, rdi, rbp
  41 50 41 51 41 52 41 53  ; push r8, r9, r10, r11
  41 54 41 55 41 56 41 57  ; push r12, r13, r14, r15
  bf 01 00 00 00           ; mov edi, 1
  48 89 e6                 ; mov rsi, rsp
  ba 80 00 00 00           ; mov edx, 128
  b8 01 00 00 00           ; mov eax, 1 (write)
  0f 05                    ; syscall
  31 ff                    ; xor edi, edi
  b8 e7 00 00 00           ; mov eax, 231 (exit_group)
  0f 05                    ; syscall
`);
const REG_ORDER = ['r15', 'r14', 'r13', 'r12', 'r11', 'r10', 'r9', 'r8', 'rbp', 'rdi', 'rsi', 'rdx', 'rcx', 'rbx', 'rax', 'rsp'];

/** Writes the 8 bytes at %rdi (the boot info) to stdout, stores a marker at 0x300000, exits 0. */
const shared = machine(`
  48 89 fe                    ; mov rsi, rdi
  bf 01 00 00 00              ; mov edi, 1
  ba 08 00 00 00              ; mov edx, 8
  b8 01 00 00 00              ; mov eax, 1 (write)
  0f 05                       ; syscall
  c7 04 25 00 00 30 00 5a 5a 5a 5a ; mov dword [0x300000], 0x5a5a5a5a
  31 ff                       ; xor edi, edi
  b8 e7 00 00 00              ; mov eax, 231 (exit_group)
  0f 05                       ; syscall
`);

const exit0 = `
  31 ff                 ; xor edi, edi
  b8 e7 00 00 00        ; mov eax, 231 (exit_group)
  0f 05                 ; syscall
`;
/** Writes one byte into its own code, then exits 0. */
const xnow = machine(`
  48 8d 05 00 00 00 00  ; lea rax, [rip]
  c6 00 90              ; mov byte [rax], 0x90
  ${exit0}`);
/** Jumps to DATA. */
const jumpToData = machine(`
  b8 00 00 20 00        ; mov eax, 0x200000
  ff e0                 ; jmp rax
`);
/** Reads the NULL page, then exits 0. */
const nullRead = machine(`
  48 8b 04 25 00 00 00 00 ; mov rax, [0]
  ${exit0}`);
/** Calls getpid, then exits 0. */
const getpid = machine(`
  b8 27 00 00 00        ; mov eax, 39 (getpid)
  0f 05                 ; syscall
  ${exit0}`);
/** Says "ready", sleeps in epoll_pwait on SN_FD_WAIT, writes the 12-byte epoll_event it got, exits 3. */
const sleeper = machine(`
  bf 01 00 00 00        ; mov edi, 1
  48 8d 35 4e 00 00 00  ; lea rsi, [rip + ready]
  ba 06 00 00 00        ; mov edx, 6
  b8 01 00 00 00        ; mov eax, 1 (write)
  0f 05                 ; syscall
  48 83 ec 10           ; sub rsp, 16
  bf 03 00 00 00        ; mov edi, 3
  48 89 e6              ; mov rsi, rsp
  ba 01 00 00 00        ; mov edx, 1
  49 c7 c2 ff ff ff ff  ; mov r10, -1
  45 31 c0              ; xor r8d, r8d
  b8 19 01 00 00        ; mov eax, 281 (epoll_pwait)
  0f 05                 ; syscall
  bf 01 00 00 00        ; mov edi, 1
  48 89 e6              ; mov rsi, rsp
  ba 0c 00 00 00        ; mov edx, 12
  b8 01 00 00 00        ; mov eax, 1 (write)
  0f 05                 ; syscall
  bf 03 00 00 00        ; mov edi, 3
  b8 e7 00 00 00        ; mov eax, 231 (exit_group)
  0f 05                 ; syscall
  72 65 61 64 79 0a     ; ready: "ready\\n"
`);

const SECRET = 'f00dfacecafe0123456789';
const why = cannotRun();
if (why) {
  t.plan(0, `helper tests: ${why}`);
} else {
  t.test('runs a guest: console on fd 1, exit status from exit_group', async (t) => {
    const r = await runHelper({ mem: [{ addr: TEXT, bytes: hello }], plan: encodePlan(basePlan()) });
    t.same(
      { code: r.code, signal: r.signal, stdout: r.stdout.toString(), stderr: r.stderr },
      { code: 7, signal: null, stdout: 'hello\n', stderr: '' },
    );
  });

  t.test('enters the guest with rsp = stack_top, rdi = bootinfo and every other register zero', async (t) => {
    const stackTop = MEM - 0x1000;
    const r = await runHelper({ mem: [{ addr: TEXT, bytes: regs }], plan: encodePlan(basePlan({ stackTop })) });
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout.length, 128);
    const seen = Object.fromEntries(REG_ORDER.map((name, i) => [name, r.stdout.readBigUInt64LE(i * 8)]));
    const want = Object.fromEntries(REG_ORDER.map((name) => [name, 0n]));
    want.rsp = BigInt(stackTop);
    want.rdi = BigInt(abi.SN_BOOTINFO_ADDR);
    t.same(seen, want);
  });

  t.test('guest memory is the memfd at offset == address, shared with the tender', async (t) => {
    const marker = Buffer.from('BOOTINFO');
    const memFd = { value: -1 };
    const r = await runHelper({
      mem: [
        { addr: TEXT, bytes: shared },
        { addr: abi.SN_BOOTINFO_ADDR, bytes: marker },
      ],
      plan: encodePlan(basePlan()),
      keepMem: (fd) => (memFd.value = fd),
    });
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout.toString(), 'BOOTINFO');
    const seen = Buffer.alloc(4);
    fs.readSync(memFd.value, seen, 0, 4, 0x300000);
    fs.closeSync(memFd.value);
    t.equal(seen.toString('hex'), '5a5a5a5a', 'the guest store is visible through the memfd');
  });

  t.test('memory protections', async (t) => {
    const segv = { code: null, signal: 'SIGSEGV' };
    const outcome = (r: { code: number | null; signal: string | null }) => ({ code: r.code, signal: r.signal });
    const twoRegions = (dataProt: number) => [
      { addr: TEXT, len: 0x1000, prot: RX },
      { addr: DATA, len: 0x1000, prot: dataProt },
    ];
    let r = await runHelper({ mem: [{ addr: TEXT, bytes: xnow }], plan: encodePlan(basePlan()) });
    t.same(outcome(r), segv, 'writing to text faults');
    r = await runHelper({
      mem: [
        { addr: TEXT, bytes: jumpToData },
        { addr: DATA, bytes: hello },
      ],
      plan: encodePlan(basePlan({ regions: twoRegions(RW) })),
    });
    t.same(outcome(r), segv, 'executing from a writable region faults');
    t.equal(r.stdout.length, 0);
    r = await runHelper({
      mem: [
        { addr: TEXT, bytes: jumpToData },
        { addr: DATA, bytes: hello },
      ],
      plan: encodePlan(basePlan({ regions: twoRegions(RX) })),
    });
    t.same({ ...outcome(r), out: r.stdout.toString() }, { code: 7, signal: null, out: 'hello\n' }, 'control: the same jump into R+X runs');
    r = await runHelper({
      mem: [
        { addr: TEXT, bytes: jumpToData },
        { addr: DATA, bytes: hello },
      ],
      plan: encodePlan(basePlan({ regions: [{ addr: TEXT, len: 0x1000, prot: RX }] })),
    });
    t.same(outcome(r), segv, 'memory outside every region is not executable');
    r = await runHelper({ mem: [{ addr: TEXT, bytes: nullRead }], plan: encodePlan(basePlan()) });
    t.same(outcome(r), segv, 'the NULL page is unmapped');
  });

  t.test('the BPF program is installed: a killed syscall ends the guest with SIGSYS', async (t) => {
    let r = await runHelper({ mem: [{ addr: TEXT, bytes: getpid }], plan: encodePlan(basePlan({ bpf: killSyscall(39) })) });
    t.same({ code: r.code, signal: r.signal, stderr: r.stderr }, { code: null, signal: 'SIGSYS', stderr: '' });
    r = await runHelper({ mem: [{ addr: TEXT, bytes: getpid }], plan: encodePlan(basePlan({ bpf: killSyscall(40) })) });
    t.same({ code: r.code, signal: r.signal }, { code: 0, signal: null }, 'control: a filter for another syscall lets it run');
  });

  t.test('the guest holds only 0-3 and its doorbells, no environment; the doorbell to the guest wakes SN_FD_WAIT', async (t) => {
    const leaked = fs.openSync('/dev/null', 'r');
    process.env.SOLO5_HELPER_TEST_SECRET = SECRET;
    let procFds: Record<string, string> = {};
    let environ = Buffer.alloc(1);
    let maps: string[] = [];
    let watched: string[] = [];
    const r = await runHelper({
      mem: [{ addr: TEXT, bytes: sleeper }],
      plan: encodePlan(basePlan({ ndoorbells: 2 })),
      extra: ['pipe', 'pipe', leaked],
      onSpawn: (child, out) => {
        waitFor(out, (b) => b.toString().startsWith('ready\n'))
          .then(async () => {
            const dir = `/proc/${child.pid}/fd`;
            procFds = Object.fromEntries(fs.readdirSync(dir).map((fd) => [fd, fs.readlinkSync(`${dir}/${fd}`)]));
            environ = fs.readFileSync(`/proc/${child.pid}/environ`);
            watched = [...fs.readFileSync(`/proc/${child.pid}/fdinfo/3`, 'utf8').matchAll(/^tfd:\s*(\d+)/gm)].map((m) => m[1]);
            maps = fs.readFileSync(`/proc/${child.pid}/maps`, 'utf8').trim().split('\n');
            // A kick on the doorbell to the tender must not wake the guest; only the second one may.
            // Written back to back: were fd 5 watched too, epoll would report it first (ready order).
            pipeAt(child, 5).write('x');
            pipeAt(child, 6).write('x');
          })
          .catch((e: Error) => {
            t.fail(e.message);
            child.kill('SIGKILL');
          });
      },
    });
    fs.closeSync(leaked);
    delete process.env.SOLO5_HELPER_TEST_SECRET;
    t.same(Object.keys(procFds).sort(), ['0', '1', '2', '3', '5', '6']);
    t.equal(procFds['3'], 'anon_inode:[eventpoll]');
    t.same(watched, ['6'], 'the wait fd watches the doorbell to the guest only');
    // tap instruments child_process.spawn and adds its own variables; nothing of ours may get through.
    const names = environ
      .toString('latin1')
      .split('\0')
      .filter((v) => v !== '')
      .map((v) => v.split('=')[0]);
    t.same(
      names.filter((n) => !/^(NODE_OPTIONS|_TAPJS_PROCESSINFO_\w*)$/.test(n)),
      [],
      'no variable of the spawning process',
    );
    t.comment(`guest environment under tap: ${JSON.stringify(names)}`);
    t.notOk(environ.includes(SECRET), 'the secret in the spawning process environment is not there');
    const low = maps.map((l) => l.split(/\s+/)).filter(([range]) => BigInt(`0x${range.split('-')[0]}`) < 0x100000000n);
    t.same(
      low.map(([range, perms]) => `${range} ${perms}`),
      ['00010000-00100000 rw-s', '00100000-00101000 r-xs', `00101000-${MEM.toString(16).padStart(8, '0')} rw-s`],
      'nothing below 0x10000; planned permissions; the rest read-write',
    );
    t.equal(r.code, 3, r.stderr);
    t.equal(r.stdout.length, 6 + 12);
    const ev = r.stdout.subarray(6);
    t.same({ events: ev.readUInt32LE(0), data: ev.readBigUInt64LE(4) }, { events: 1, data: 6n }, 'EPOLLIN on doorbell fd 6');
  });

  const root = process.getuid?.() === 0;
  t.test('runs unprivileged (as nobody)', { skip: root ? false : 'needs root to switch to nobody' }, async (t) => {
    const r = await runHelper({ mem: [{ addr: TEXT, bytes: hello }], plan: encodePlan(basePlan()), uid: 65534, gid: 65534 });
    t.same({ code: r.code, stdout: r.stdout.toString(), stderr: r.stderr }, { code: 7, stdout: 'hello\n', stderr: '' });
  });
}
