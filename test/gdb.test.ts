// gdb.test.ts: the hvt gdb stub end to end (a raw RSP client, hostile requests, then gdb itself), and gdb attaching to an spt guest by pid.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import t from 'tap';
import { launch } from '../lib/tender/launch';
import { asm, hvtSolo5Elf, removeHvtSolo5Elves } from './support/hvt-solo5';
import { gdbSkip } from './support/gdb';
import { Client, connect, gdbBatch, withStub } from './support/gdb-stub';
import { kvmUnavailable } from './support/kvm';
import { app } from './support/paths';

t.test('hvt stub: private socket, hostile requests get E01 and the guest runs on', { skip: kvmUnavailable() ?? false }, async (t) => {
  const { guest, where, output } = await withStub(app('hello', 'hvt'));
  t.teardown(() => guest.kill());
  const dir = path.dirname(where);
  t.equal(fs.statSync(dir).mode & 0o777, 0o700, 'a private directory');
  t.equal(fs.statSync(where).mode & 0o777, 0o600, 'a socket only its owner can use');
  const sock = await connect(where);
  t.teardown(() => sock.destroy());
  t.notOk(fs.existsSync(dir), 'the listener is gone once gdb is connected');
  const c = new Client(sock);
  t.match(await c.ask('qSupported:swbreak+;hwbreak+'), /PacketSize=1000;hwbreak\+/);
  t.equal(await c.ask('?'), 'T05thread:01;', 'held at the entry');
  t.equal(await c.ask('m ffffffffffff,10'.replace(' ', '')), 'E01', 'an address past guest memory');
  t.equal(await c.ask('mffffffffffffffff,2'), 'E01', 'an address that wraps');
  t.equal(await c.ask('m0,10'), 'E01', 'the page tables below 64 KiB');
  t.equal(await c.ask('mzz,10'), 'E01', 'not hex');
  t.equal(await c.ask('Mffffffffffff,1:00'), 'E01', 'a write past guest memory');
  t.equal(await c.ask('M100000,2:00'), 'E01', 'data shorter than the length');
  t.equal(await c.sendRaw('$g#00'), 'nack', 'a bad checksum is nacked');
  const g = await c.ask('g');
  t.equal(g.length, 2 * (17 * 8 + 7 * 4), 'the registers');
  const m = await c.ask('m100000,4');
  t.match(m, /^[0-9a-f]{8}$/, 'guest text reads');
  t.equal(await c.ask('vMustReplyEmpty'), '', 'unknown packets: empty');
  t.equal(await c.ask('c'), 'W00', 'continue: the guest runs to its end after all of that');
  const exit = await guest.exited;
  t.same(exit, { kind: 'exit', status: 0, aborted: false });
  t.match(output(), /SUCCESS/);
});

t.test('hvt stub on loopback: --gdb-port', { skip: kvmUnavailable() ?? false }, async (t) => {
  // A port the kernel just gave out and took back: free, as far as this test can tell.
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const { guest, where } = await withStub(app('hello', 'hvt'), { port });
  t.teardown(() => guest.kill());
  t.equal(where, `127.0.0.1:${port}`);
  const c = new Client(await connect(where));
  t.equal(await c.ask('?'), 'T05thread:01;');
  t.equal(await c.ask('D'), 'OK', 'detach');
  t.same(await guest.exited, { kind: 'exit', status: 0, aborted: false }, 'the guest ran on to its end');
});

t.test('gdb breaks at solo5_app_main, steps, reads memory and continues (hvt)', { skip: kvmUnavailable() ?? gdbSkip }, async (t) => {
  const kernel = app('hello', 'hvt');
  const { guest, where, output } = await withStub(kernel);
  t.teardown(() => guest.kill());
  const out = await gdbBatch(kernel, [
    `target remote ${where}`,
    'break solo5_app_main',
    'continue',
    'bt',
    'stepi',
    'info registers rip',
    'x/2xb solo5_app_main',
    'delete',
    'continue',
  ]);
  // A gdb that never got as far leaves the guest held: end it, so that the test fails rather than waits.
  if (!/exited normally/.test(out)) guest.kill();
  t.match(out, /Breakpoint 1, 0x[0-9a-f]+ in solo5_app_main \(\)/, 'stopped at solo5_app_main');
  t.match(out, /#1 .* in sn_boot \(\)/, 'with a backtrace');
  t.match(out, /rip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <solo5_app_main\+[1-9][0-9]*>/, 'one instruction further');
  t.match(out, /<solo5_app_main>:\s+0x[0-9a-f]{2}\s+0x[0-9a-f]{2}/, 'memory read');
  t.match(out, /exited normally/);
  t.same(await guest.exited, { kind: 'exit', status: 0, aborted: false });
  t.match(output(), /Hello, World/);
});

t.test('spt --gdb: gdb attaches by pid before the first guest instruction', { skip: gdbSkip }, async (t) => {
  const kernel = app('hello');
  let said: (pid: number) => void = () => {};
  const pid = new Promise<number>((resolve) => (said = resolve));
  const guest = await launch({
    kernel,
    memMB: 32,
    gdb: true,
    onDebugMessage: (line) => {
      const m = /\(pid ([0-9]+)\) is stopped/.exec(line);
      if (m) said(Number(m[1]));
    },
  });
  t.teardown(() => guest.kill());
  let out = '';
  guest.console?.on('data', (b: Buffer) => (out += b.toString()));
  const p = await pid;
  t.equal(p, guest.pid);
  const got = await gdbBatch(
    kernel,
    ['hbreak solo5_app_main', 'continue', 'bt', 'delete', 'continue'],
    ['-p', String(p), '-ex', 'handle SIGSTOP nostop noprint nopass'],
  );
  if (!/Breakpoint 1,/.test(got)) guest.kill();
  t.match(got, /Breakpoint 1, 0x[0-9a-f]+ in solo5_app_main \(\)/);
  t.match(got, /in sn_boot \(\)/);
  t.same(await guest.exited, { kind: 'exit', status: 0, aborted: false });
  t.match(out, /SUCCESS/);
});

t.test('upstream-ABI hvt guest (ring 0): step, and a breakpoint in a debug register', { skip: kvmUnavailable() ?? false }, async (t) => {
  t.teardown(removeHvtSolo5Elves);
  // mov eax, 1 (5 bytes) at 0x100000; mov eax, 2 at 0x100005; then HALT 7 at 0x10000a.
  const { guest, where } = await withStub(hvtSolo5Elf({ code: asm.movEax(1) + asm.movEax(2) + asm.halt(), status: 7 }));
  t.teardown(() => guest.kill());
  const c = new Client(await connect(where));
  t.equal(await c.ask('s'), 'T05thread:01;', 'one step');
  const rip = (g: string) => Buffer.from(g.slice(256, 272), 'hex').readBigUInt64LE();
  const rax = (g: string) => Buffer.from(g.slice(0, 16), 'hex').readBigUInt64LE();
  let g = await c.ask('g');
  t.same([rip(g), rax(g)], [0x100005n, 1n], 'past the first instruction');
  t.equal(await c.ask('Z0,10000a,1'), 'OK', 'Z0 takes a debug register');
  t.equal(await c.ask('c'), 'T05hwbreak:;thread:01;', 'stopped at it');
  g = await c.ask('g');
  t.same([rip(g), rax(g)], [0x10000an, 2n]);
  t.equal(await c.ask('z0,10000a,1'), 'OK');
  t.equal(await c.ask('Z1,1,1'), 'OK');
  t.equal(await c.ask('Z1,2,1'), 'OK');
  t.equal(await c.ask('Z1,3,1'), 'OK');
  t.equal(await c.ask('Z1,4,1'), 'OK');
  t.equal(await c.ask('Z1,5,1'), 'E01', 'a fifth hardware breakpoint: no register left');
  t.equal(await c.ask('c'), 'W07', 'the guest ends with its status');
  t.same(await guest.exited, { kind: 'exit', status: 7, aborted: false });
});

t.test('a guest killed while it waits for gdb ends, and the socket goes with it', { skip: kvmUnavailable() ?? false }, async (t) => {
  const { guest, where } = await withStub(app('hello', 'hvt'));
  t.ok(fs.existsSync(where));
  guest.kill('SIGKILL');
  const exit = await guest.exited;
  t.equal(exit.kind === 'signal' && exit.signal, 'SIGKILL');
  t.notOk(fs.existsSync(path.dirname(where)), 'the private directory is removed');
});

t.test('a stub that cannot listen ends its guest with a line saying why', { skip: kvmUnavailable() ?? false }, async (t) => {
  const busy = net.createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  t.teardown(() => busy.close());
  const port = (busy.address() as net.AddressInfo).port;
  const lines: string[] = [];
  const guest = await launch({
    kernel: app('hello', 'hvt'),
    target: 'hvt',
    memMB: 32,
    gdb: { port },
    onDebugMessage: (l) => lines.push(l),
  });
  const exit = await guest.exited;
  t.equal(exit.kind === 'signal' && exit.signal, 'SIGKILL');
  t.match(lines.join('\n'), new RegExp(`gdb stub: cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE.*; the guest is killed`));
});
