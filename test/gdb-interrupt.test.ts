// gdb-interrupt.test.ts: gdb's ^C on the hvt stub: a guest blocked in its wait or spinning stops with SIGINT where it was, resumes, and a ^C racing a stop or the end gets one reply.
import path from 'node:path';
import t, { type Test } from 'tap';
import * as abi from '../lib/abi';
import { loadElf } from '../lib/elf/load';
import { asm, DATA, hvtSolo5Elf, removeHvtSolo5Elves, TEXT, u64s } from './support/hvt-solo5';
import { gdbSkip } from './support/gdb';
import { Client, connect, gdbBatch, withStub } from './support/gdb-stub';
import { kvmUnavailable } from './support/kvm';
import { app, root } from './support/paths';

const ctrlC = { raw: '\x03' };
const SIGINT_STOP = 'T02thread:01;';
const rip = (g: string): bigint => Buffer.from(g.slice(256, 272), 'hex').readBigUInt64LE();

/** [start, end) of the kernel's executable segments. */
function textOf(kernel: string): [bigint, bigint][] {
  const elf = loadElf(kernel, { memSize: 32 << 20, tender: 'hvt' });
  return elf.segments.filter((s) => s.prot.x).map((s) => [BigInt(s.vaddr), BigInt(s.vaddr + s.memsz)]);
}
const inText = (text: [bigint, bigint][], at: bigint): boolean => text.some(([a, b]) => at >= a && at < b);

/**
 * Continue the guest, and once it has printed READY (it runs, and is about to sleep for ten
 * minutes) send ^C: it must stop with SIGINT.
 */
async function stopOnceReady(
  t: Test,
  stub: Awaited<ReturnType<typeof withStub>>,
): Promise<{ guest: Awaited<ReturnType<typeof withStub>>['guest']; c: Client }> {
  t.teardown(() => stub.guest.kill());
  const c = new Client(await connect(stub.where));
  c.send('c');
  await stub.line(/READY/);
  c.send(ctrlC);
  t.equal(await c.next(), SIGINT_STOP, 'stopped with SIGINT');
  return { guest: stub.guest, c };
}

/**
 * c, then ^C a little later, so that it usually finds the vCPU in KVM_RUN (a ^C that comes
 * before, with the c, stops the guest at the same place: the result does not depend on it).
 */
async function interruptRunning(c: Client): Promise<string> {
  c.send('c');
  await new Promise((resolve) => setTimeout(resolve, 100));
  c.send(ctrlC);
  return c.next();
}

/*
 * An upstream-ABI guest (ring 0) that spins until the word at FLAG is set,
 * then halts with status 7: mov eax, [FLAG]; test eax, eax; jz back; HALT.
 */
const FLAG = DATA + 0x100;
const SPIN_LOOP = asm.loadEax(FLAG) + '85c0' + '74f5';
const LOOP_END = BigInt(TEXT + SPIN_LOOP.length / 2);

t.test(
  '^C stops a ring-ABI guest sleeping in its wait, where it is; c and vCont;c resume it',
  { skip: kvmUnavailable() ?? false },
  async (t) => {
    const kernel = app('sleep', 'hvt');
    const { guest, c } = await stopOnceReady(t, await withStub(kernel, true, ['600000']));
    t.equal(await c.ask('?'), SIGINT_STOP, '? says the same');
    const text = textOf(kernel);
    t.ok(inText(text, rip(await c.ask('g'))), 'at an instruction in guest text');
    t.equal(await c.ask('s'), 'T05thread:01;', 'one step from there');
    t.ok(inText(text, rip(await c.ask('g'))), 'still in guest text');
    c.send('c', ctrlC);
    t.equal(await c.next(), SIGINT_STOP, 'c, then ^C again');
    t.equal(await c.ask('vCont?'), 'vCont;c;C;s;S', 'vCont offered');
    c.send('vCont;c:1', ctrlC);
    t.equal(await c.next(), SIGINT_STOP, 'vCont;c, then ^C');
    c.send(ctrlC);
    t.equal(await c.ask('?'), SIGINT_STOP, 'a ^C while stopped is no request: nothing answers it');
    t.same(c.unread, [], 'and nothing else came');
    // Now a guest spinning in ring 3 (natively, on PVM): a jmp-to-itself where it stopped.
    const at = rip(await c.ask('g'));
    t.equal(await c.ask(`M${at.toString(16)},2:${asm.spin}`), 'OK');
    t.equal(await interruptRunning(c), SIGINT_STOP, 'spinning in ring 3, stopped');
    t.equal(rip(await c.ask('g')), at, 'at its loop');
    c.send('k');
    const exit = await guest.exited;
    t.equal(exit.kind === 'signal' && exit.signal, 'SIGKILL', 'k kills it');
  },
);

t.test(
  "^C stops the project's Solo5-ABI hvt build (ring 3) in its POLL; a step there comes back",
  { skip: kvmUnavailable() ?? false },
  async (t) => {
    const kernel = path.join(root, 'guest', 'build', 'solo5', 'sleep.hvt');
    const { guest, c } = await stopOnceReady(t, await withStub(kernel, true, ['600000']));
    t.ok(inText(textOf(kernel), rip(await c.ask('g'))), 'at an instruction in guest text');
    // KVM's single-step (its trap handler knows no SN_HVT_TRAP): one instruction on hardware KVM;
    // on PVM, where it does not trap in ring 3, the guest runs on until the ^C.
    c.send('s');
    await new Promise((resolve) => setTimeout(resolve, 100));
    c.send(ctrlC);
    t.match(await c.next(), /^T0[25]thread:01;$/, 'stopped again, not halted');
    t.ok(inText(textOf(kernel), rip(await c.ask('g'))), 'still in guest text');
    c.send('k');
    const exit = await guest.exited;
    t.equal(exit.kind === 'signal' && exit.signal, 'SIGKILL');
  },
);

t.test('^C stops an upstream-ABI guest spinning in ring 0; it resumes and ends', { skip: kvmUnavailable() ?? false }, async (t) => {
  t.teardown(removeHvtSolo5Elves);
  const { guest, where } = await withStub(hvtSolo5Elf({ code: SPIN_LOOP + asm.halt(), status: 7 }));
  t.teardown(() => guest.kill());
  const c = new Client(await connect(where));
  t.equal(await interruptRunning(c), SIGINT_STOP, 'stopped with SIGINT');
  const at = rip(await c.ask('g'));
  t.ok(at >= BigInt(TEXT) && at < LOOP_END, `in the loop (rip ${at.toString(16)})`);
  t.equal(await c.ask(`M${FLAG.toString(16)},4:01000000`), 'OK', 'set the flag it waits for');
  t.equal(await c.ask('vCont;c'), 'W07', 'vCont;c: it leaves the loop and halts');
  t.same(await guest.exited, { kind: 'exit', status: 7, aborted: false });
});

t.test('^C stops an upstream-ABI guest asleep in POLL', { skip: kvmUnavailable() ?? false }, async (t) => {
  t.teardown(removeHvtSolo5Elves);
  // PUTS "READY\n", then POLL with a ten-minute timeout, then HALT.
  const puts = DATA + 0x40;
  const poll = DATA + 0x80;
  const code = asm.call(abi.SN_SOLO5_HVT_HC_PUTS, puts) + asm.call(abi.SN_SOLO5_HVT_HC_POLL, poll) + asm.halt();
  const afterPoll = BigInt(TEXT + (code.length - asm.halt().length) / 2);
  const data: [number, Buffer][] = [
    [puts - DATA, u64s(DATA + 0xc0, 6)],
    [poll - DATA, u64s(600_000_000_000n)],
    [0xc0, Buffer.from('READY\n')],
  ];
  const { guest, c } = await stopOnceReady(t, await withStub(hvtSolo5Elf({ code, data })));
  const at = rip(await c.ask('g'));
  t.ok(at >= BigInt(TEXT) && at <= afterPoll, `in its text (rip ${at.toString(16)})`);
  // Where it almost always is: the wait had begun long before the ^C came through the console and the stub.
  if (at !== afterPoll) t.comment(`stopped before its POLL, at ${at.toString(16)}`);
  c.send('k');
  const exit = await guest.exited;
  t.equal(exit.kind === 'signal' && exit.signal, 'SIGKILL');
});

t.test('a ^C racing a breakpoint gets one stop, and nothing after it', { skip: kvmUnavailable() ?? false }, async (t) => {
  t.teardown(removeHvtSolo5Elves);
  // Three instructions, a breakpoint on the third, then HALT 7.
  const code = asm.movEax(1) + asm.movEax(2) + asm.movEax(3) + asm.halt();
  const bp = TEXT + 10;
  for (let i = 0; i < 3; i++) {
    const { guest, where } = await withStub(hvtSolo5Elf({ code, status: 7 }));
    t.teardown(() => guest.kill());
    const c = new Client(await connect(where));
    t.equal(await c.ask(`Z0,${bp.toString(16)},1`), 'OK');
    c.send('c', ctrlC);
    const first = await c.next();
    t.match(first, /^T(05hwbreak:;|02)thread:01;$/, `one stop: ${first}`);
    if (first === SIGINT_STOP) t.equal(await c.ask('c'), 'T05hwbreak:;thread:01;', 'the breakpoint after the ^C');
    t.equal(BigInt(bp), rip(await c.ask('g')), 'at the breakpoint');
    t.equal(await c.ask(`z0,${bp.toString(16)},1`), 'OK');
    t.equal(await c.ask('c'), 'W07', 'no stale ^C: the guest runs to its end');
    t.same(c.unread, []);
    t.same(await guest.exited, { kind: 'exit', status: 7, aborted: false });
  }
});

t.test('a ^C racing the guest’s end gets one reply', { skip: kvmUnavailable() ?? false }, async (t) => {
  for (let i = 0; i < 3; i++) {
    const { guest, where } = await withStub(app('hello', 'hvt'));
    t.teardown(() => guest.kill());
    const c = new Client(await connect(where));
    c.send('c', ctrlC);
    let reply = await c.next();
    if (reply === SIGINT_STOP) reply = await c.ask('c');
    t.equal(reply, 'W00', 'the end, once');
    t.same(c.unread, []);
    t.same(await guest.exited, { kind: 'exit', status: 0, aborted: false });
  }
});

t.test('gdb: continue, Ctrl-C, registers in guest text, kill (hvt)', { skip: kvmUnavailable() ?? gdbSkip }, async (t) => {
  const kernel = app('sleep', 'hvt');
  const { guest, where, line } = await withStub(kernel, true, ['600000']);
  t.teardown(() => guest.kill());
  let gdb: { kill(sig: NodeJS.Signals): boolean } | undefined;
  const out = gdbBatch(kernel, [`target remote ${where}`, 'continue', 'info registers rip', 'bt 1', 'stepi', 'kill'], [], (p) => (gdb = p));
  // The guest printed READY after gdb's continue: gdb waits for it to stop, as when a user presses Ctrl-C.
  await line(/READY/);
  gdb?.kill('SIGINT');
  const got = await out;
  t.match(got, /Program received signal SIGINT, Interrupt\./, 'stopped by the interrupt');
  t.match(got, /rip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <[a-z_0-9]+\+[0-9]+>/, 'rip names a guest function');
  const at = /rip\s+(0x[0-9a-f]+)/.exec(got);
  t.ok(at && inText(textOf(kernel), BigInt(at[1])), 'in guest text');
  t.match(got, /#0 .* in [a-z_0-9]+ \(\)/, 'with a backtrace');
  t.match(got, /\[Inferior 1 \(Remote target\) killed\]/);
  const exit = await guest.exited;
  t.equal(exit.kind === 'signal' && exit.signal, 'SIGKILL');
});
