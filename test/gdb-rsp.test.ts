// gdb-rsp.test.ts: the gdb stub's codec (framing, checksums, limits, hex) and the debug channel (its binary format against include/sn_hvt_debug.h, nothing written once closed).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import * as ch from '../lib/hvt/channel';
import { decodeG, encodeG, stopReply } from '../lib/hvt/gdb';
import { encodePacket, fromHex, parseAddrLen, RSP_MAX_PACKET, RspDecoder, type RspEvent } from '../lib/hvt/gdb-rsp';
import { sampleRegs as regs } from './support/debug-regs';
import { native } from '../lib/native';
import { root } from './support/paths';

const pkt = (data: string): Buffer => encodePacket(data);

t.test('decoder table', async (t) => {
  const rows: [string, Buffer[], RspEvent[]][] = [
    ['one packet', [pkt('g')], [{ type: 'packet', data: 'g' }]],
    ['acks and ^C between packets', [Buffer.from('+-\x03')], [{ type: 'ack' }, { type: 'nack' }, { type: 'interrupt' }]],
    ['bad checksum', [Buffer.from('$g#00')], [{ type: 'bad', reason: 'bad checksum "00"' }]],
    ['checksum not hex', [Buffer.from('$g#zz')], [{ type: 'bad', reason: 'bad checksum "zz"' }]],
    ['split in every place', [...Buffer.from(pkt('m 100000,4'))].map((b) => Buffer.from([b])), [{ type: 'packet', data: 'm 100000,4' }]],
    [
      'two in one chunk',
      [Buffer.concat([pkt('?'), pkt('c')])],
      [
        { type: 'packet', data: '?' },
        { type: 'packet', data: 'c' },
      ],
    ],
    ['escaped bytes', [pkt('M1,1:}#$*')], [{ type: 'packet', data: 'M1,1:}#$*' }]],
    ['noise before a packet is ignored', [Buffer.from('xyz'), pkt('k')], [{ type: 'packet', data: 'k' }]],
    [
      'oversize packet dropped whole, the next one still read',
      [pkt('m'.repeat(RSP_MAX_PACKET + 1)), pkt('?')],
      [
        { type: 'bad', reason: `packet longer than ${RSP_MAX_PACKET} bytes` },
        { type: 'packet', data: '?' },
      ],
    ],
  ];
  for (const [name, chunks, want] of rows) {
    const d = new RspDecoder();
    t.same(
      chunks.flatMap((c) => d.push(c)),
      want,
      name,
    );
  }
});

t.test('encodePacket: checksum and escapes', async (t) => {
  t.equal(pkt('OK').toString(), '$OK#9a');
  t.equal(pkt('').toString(), '$#00');
  t.equal(pkt('a#b').toString('latin1'), '$a}\x03b#' + ((0x61 + 0x7d + 0x03 + 0x62) & 0xff).toString(16));
});

t.test('addr,len and hex parsing refuse what gdb would never send', async (t) => {
  t.same(parseAddrLen('ffffffffffff,10'), { addr: 0xffffffffffffn, len: 16 }, 'a hostile address parses: the helper refuses it');
  t.equal(parseAddrLen('10000000000000000,1'), undefined, 'more than 64 bits');
  t.equal(parseAddrLen(`0,${(RSP_MAX_PACKET + 1).toString(16)}`), undefined, 'longer than a packet');
  t.equal(parseAddrLen('0x10,4'), undefined, '0x prefix');
  t.equal(parseAddrLen('10,-4'), undefined, 'negative');
  t.equal(parseAddrLen('10'), undefined, 'no length');
  t.equal(fromHex('abc'), undefined, 'odd length');
  t.equal(fromHex('zz'), undefined, 'not hex');
  t.same(fromHex('00ff'), Buffer.from([0, 255]));
});

t.test("g and G: gdb's amd64 order", async (t) => {
  const g = encodeG(regs());
  t.equal(g.length, 2 * (17 * 8 + 7 * 4), '16 GPRs, rip, eflags and six selectors');
  t.equal(g.slice(0, 16), '1111000000000000', 'rax first, little-endian');
  t.equal(g.slice(256, 272), '0000100000000000', 'rip after r15');
  t.equal(g.slice(272, 280), '02020000', 'eflags, 4 bytes');
  t.equal(g.slice(280, 288), '33000000', 'cs');
  const back = decodeG(g.replace(/^.{16}/, 'efbeadde00000000'), regs());
  t.equal(back?.gpr[0], 0xdeadbeefn, 'G changes rax');
  t.equal(back?.cs, 0x33n, 'G leaves the selectors');
  t.equal(decodeG('00', regs()), undefined, 'a short G is refused');
  t.same(ch.decodeRegs(ch.encodeRegs(regs())), regs(), 'the register block round-trips');
});

t.test('stop replies', async (t) => {
  const m = (arg: number): ch.DbgMsg => ({ op: ch.Op.STOPPED, arg, addr: 0n, data: Buffer.alloc(0) });
  t.equal(stopReply(m(ch.STOP_STEP | (5 << 8))), 'T05thread:01;');
  t.equal(stopReply(m(ch.STOP_HWBP | (5 << 8))), 'T05hwbreak:;thread:01;');
  t.equal(stopReply(m(3 | (11 << 8))), 'T0bthread:01;', 'a page fault is SIGSEGV');
  t.equal(stopReply(m(0)), 'T05thread:01;', 'no signal: SIGTRAP');
  t.equal(stopReply(m(ch.STOP_INTERRUPT | (2 << 8))), 'T02thread:01;', "gdb's ^C: SIGINT");
});

t.test('debug messages: framing, split reads, a length out of bounds ends the stream', async (t) => {
  const a = ch.encodeMsg(ch.Op.READ, 16, 0x100000n);
  const b = ch.encodeMsg(ch.Op.OK, 0, 0n, Buffer.from('hello'));
  t.equal(a.length, ch.SN_DBG_MSG_SIZE);
  const r = new ch.MsgReader();
  const all = Buffer.concat([a, b]);
  const got = [...all].flatMap((byte) => r.push(Buffer.from([byte])));
  t.same(
    got.map((m) => [m.op, m.arg, m.addr, m.data.toString()]),
    [
      [ch.Op.READ, 16, 0x100000n, ''],
      [ch.Op.OK, 0, 0n, 'hello'],
    ],
  );
  const bad = Buffer.alloc(ch.SN_DBG_MSG_SIZE);
  bad.writeUInt32LE(ch.SN_DBG_DATA_MAX + 1, 4);
  const r2 = new ch.MsgReader();
  t.same(r2.push(Buffer.concat([bad, b])), [], 'nothing after a bad header');
  t.ok(r2.broken);
  t.throws(() => ch.encodeMsg(ch.Op.WRITE, 0, 0n, Buffer.alloc(ch.SN_DBG_DATA_MAX + 1)), RangeError);
});

let gccWhy: string | undefined;
try {
  execFileSync('gcc', ['--version'], { stdio: 'ignore' });
} catch {
  gccWhy = 'no gcc on this host';
}

t.test("the channel's constants are include/sn_hvt_debug.h's", { skip: gccWhy ?? false }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sn-dbg-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const src = path.join(dir, 'probe.c');
  const names = [
    'SN_PLAN_F_DUMPCORE',
    'SN_PLAN_F_GDB',
    'SN_DBG_DATA_MAX',
    'SN_DBG_HWBP_MAX',
    'SN_DBG_GET_REGS',
    'SN_DBG_SET_REGS',
    'SN_DBG_READ',
    'SN_DBG_WRITE',
    'SN_DBG_CONT',
    'SN_DBG_STEP',
    'SN_DBG_HWBP_SET',
    'SN_DBG_HWBP_CLEAR',
    'SN_DBG_DETACH',
    'SN_DBG_INTERRUPT',
    'SN_DBG_OK',
    'SN_DBG_ERROR',
    'SN_DBG_STOPPED',
    'SN_DBG_EXITED',
    'SN_DBG_STOP_STEP',
    'SN_DBG_STOP_HWBP',
    'SN_DBG_STOP_INTERRUPT',
    'sizeof(struct sn_dbg_msg)',
    'sizeof(struct sn_dbg_regs)',
  ];
  fs.writeFileSync(
    src,
    `#include <stdio.h>\n#include "sn_hvt_debug.h"\nint main(void) {\n${names.map((n) => `  printf("%lu\\n", (unsigned long)(${n}));`).join('\n')}\n  return 0;\n}\n`,
  );
  execFileSync('gcc', ['-I', path.join(root, 'include'), '-o', path.join(dir, 'probe'), src]);
  const got = execFileSync(path.join(dir, 'probe'), { encoding: 'utf8' }).trim().split('\n').map(Number);
  const o = ch.Op;
  t.same(got, [
    ch.SN_PLAN_F_DUMPCORE,
    ch.SN_PLAN_F_GDB,
    ch.SN_DBG_DATA_MAX,
    ch.SN_DBG_HWBP_MAX,
    o.GET_REGS,
    o.SET_REGS,
    o.READ,
    o.WRITE,
    o.CONT,
    o.STEP,
    o.HWBP_SET,
    o.HWBP_CLEAR,
    o.DETACH,
    o.INTERRUPT,
    o.OK,
    o.ERROR,
    o.STOPPED,
    o.EXITED,
    ch.STOP_STEP,
    ch.STOP_HWBP,
    ch.STOP_INTERRUPT,
    ch.SN_DBG_MSG_SIZE,
    ch.SN_DBG_REGS_SIZE,
  ]);
});

t.test('a closed channel writes nothing: its fd number may name another file by then', async (t) => {
  const [mine, peer] = native().socketpairStream();
  t.teardown(() => fs.closeSync(peer));
  const c = new ch.Channel(mine, new net.Socket({ fd: mine, readable: true, writable: false }));
  const writes: number[] = [];
  t.intercept(fs, 'writeSync', {
    value: (fd: number) => {
      writes.push(fd);
      return 0;
    },
  });
  c.post(ch.Op.INTERRUPT);
  t.same(writes, [mine], 'open: the request goes out');
  c.close();
  c.post(ch.Op.DETACH);
  t.equal(await c.request(ch.Op.GET_REGS), undefined, 'a request after close: no reply');
  t.same(writes, [mine], 'closed: nothing more written');
});
