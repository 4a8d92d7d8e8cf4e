// hvt-solo5-decode.test.ts: the helper's Solo5 hvt hypercall code fed hand-made port I/O exits (no KVM): every outcome of every hypercall, and each range boundary.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import * as abi from '../lib/abi';
import { native } from '../lib/native';
import { testNative } from './support/native-test';

/*
 * The rows of test/hvt-solo5.test.ts that need no timer, epoll or console,
 * at the level below: on every host, KVM or not, and under the sanitizers.
 * Guest memory is a Buffer standing for guest physical 0..MEM.
 */
const MEM = 4 * 1024 * 1024;
const S = 0x100000; // where the rows put their argument struct
const OUT = 1;
const BLOCK = abi.SN_MFT_DEV_BLOCK_BASIC;
const NET = abi.SN_MFT_DEV_NET_BASIC;
const tn = testNative();

function u64s(...values: Array<number | bigint>): Buffer {
  const b = Buffer.alloc(8 * values.length);
  values.forEach((v, i) => b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)), 8 * i));
  return b;
}
/** An `outl` of `value` to `port`, as KVM reports it. */
const outl = (port: number, value: number) => ({ port, direction: OUT, size: 4, count: 1, value });
const hc = (nr: number, value = S) => outl(abi.SN_SOLO5_HVT_PORT_BASE + nr, value);
const access = (gpa: number, sz: number | bigint) =>
  new RegExp(`^helper_hvt_solo5_[a-z]+\\.c:[0-9]+: Invalid guest access: gpa=0x${gpa.toString(16)}, sz=${sz}$`);

t.test('ports: only a single 4-byte out to a registered hypercall', async (t) => {
  const mem = Buffer.alloc(MEM);
  const rows: Array<[string, Parameters<typeof tn.hvtSolo5Io>[1], string]> = [
    ['in', { ...hc(1), direction: 0 }, 'Invalid guest port access: port=0x501'],
    ['outb', { ...hc(1), size: 1 }, 'Invalid guest port access: port=0x501'],
    ['outw', { ...hc(1), size: 2 }, 'Invalid guest port access: port=0x501'],
    ['rep outsl of 2', { ...hc(1), count: 2 }, 'Invalid guest port access: port=0x501'],
    ['port 0x4ff', outl(0x4ff, S), 'Invalid guest port access: port=0x4ff'],
    ['port 0x509', outl(0x509, S), 'Invalid guest port access: port=0x509'],
    ['port 0x600', outl(0x600, 0), 'Invalid guest port access: port=0x600'],
    ['a value KVM placed outside its run area', { ...hc(1), dataOffset: 8190 }, 'Invalid guest port access: port=0x501'],
    ['port 0x500 (reserved)', hc(0), 'Invalid guest hypercall: num=0'],
    ['BLOCK_WRITE without a block device', hc(4), 'Invalid guest hypercall: num=4'],
    ['BLOCK_READ without a block device', hc(5), 'Invalid guest hypercall: num=5'],
    ['NET_WRITE without a net device', hc(6), 'Invalid guest hypercall: num=6'],
    ['NET_READ without a net device', hc(7), 'Invalid guest hypercall: num=7'],
  ];
  for (const [what, io, why] of rows) t.same(tn.hvtSolo5Io(mem, io, []), { next: 'fatal', status: 0, why }, what);
});

t.test('WALLTIME and HALT: valid, at the edges of memory, and past them', async (t) => {
  const mem = Buffer.alloc(MEM);
  const before = BigInt(Date.now()) * 1000000n;
  t.equal(tn.hvtSolo5Io(mem, hc(1), []).next, 'continue', 'WALLTIME');
  const ns = mem.readBigUInt64LE(S);
  t.ok(ns >= before - 1000000000n && ns <= BigInt(Date.now() + 1000) * 1000000n, 'the host wall clock, in ns');
  t.equal(tn.hvtSolo5Io(mem, hc(1, MEM - 8), []).next, 'continue', 'a struct ending exactly at the top');
  t.match(tn.hvtSolo5Io(mem, hc(1, MEM - 7), []), { next: 'fatal', why: access(MEM - 7, 8) }, 'one byte further');
  t.match(tn.hvtSolo5Io(mem, hc(1, 0xffff), []), { next: 'fatal', why: access(0xffff, 8) }, 'the low 64 KiB');
  t.match(tn.hvtSolo5Io(mem, hc(1, 0xfffffff8), []), { next: 'fatal', why: access(0xfffffff8, 8) }, 'the top of the 32-bit value');

  u64s(0, 0x1234567).copy(mem, S);
  t.same(
    tn.hvtSolo5Io(mem, hc(8), []),
    { next: 'exit', status: 0x1234567, why: '' },
    'HALT: the status as given (the kernel keeps its low byte)',
  );
  u64s(MEM - 512, 3).copy(mem, S);
  t.same(tn.hvtSolo5Io(mem, hc(8), []).status, 3, 'a cookie of 512 bytes ending at the top');
  u64s(MEM - 511, 3).copy(mem, S);
  t.match(tn.hvtSolo5Io(mem, hc(8), []), { next: 'fatal', why: access(MEM - 511, 512) }, 'a cookie running past the top');
  t.match(tn.hvtSolo5Io(mem, hc(8, MEM - 8), []), { next: 'fatal', why: access(MEM - 8, 16) }, 'HALT struct past the top');
});

t.test('PUTS: buffers checked before anything is written', async (t) => {
  const mem = Buffer.alloc(MEM);
  const rows: Array<[string, Buffer, RegExp]> = [
    ['past memory', u64s(0x7fff0000, 6), access(0x7fff0000, 6)],
    ['of 2^64-1 bytes', u64s(S + 0x100, -1), access(S + 0x100, 2n ** 64n - 1n)],
    ['one byte past the top', u64s(MEM - 5, 6), access(MEM - 5, 6)],
    ['in the low 64 KiB', u64s(0x1000, 6), access(0x1000, 6)],
  ];
  for (const [what, req, why] of rows) {
    req.copy(mem, S);
    t.match(tn.hvtSolo5Io(mem, hc(2), []), { next: 'fatal', why }, what);
  }
  u64s(S + 0x100, 0).copy(mem, S);
  t.equal(tn.hvtSolo5Io(mem, hc(2), []).next, 'continue', 'an empty buffer writes nothing');
});

t.test('BLOCK_WRITE and BLOCK_READ: valid, EINVAL, bad pointer, host error', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sn-hvt-decode-'));
  const img = path.join(dir, 'disk.img');
  fs.writeFileSync(img, Buffer.alloc(4096));
  const fd = fs.openSync(img, 'r+');
  const ro = fs.openSync(img, 'r');
  t.teardown(() => (fs.closeSync(fd), fs.closeSync(ro), fs.rmSync(dir, { recursive: true, force: true })));
  const devs = [{ index: 1, type: BLOCK, fd, capacity: 4096 }];
  const mem = Buffer.alloc(MEM);
  const blkio = (handle: number | bigint, offset: number | bigint, data: number, len: number | bigint) => {
    u64s(handle, offset, data, len, 0x63).copy(mem, S);
  };
  const ret = () => mem.readInt32LE(S + abi.SN_SOLO5_HVT_BLKIO.offsets.ret);

  mem.fill(0x5a, S + 0x1000, S + 0x1200);
  blkio(1, 512, S + 0x1000, 512);
  t.equal(tn.hvtSolo5Io(mem, hc(4), devs).next, 'continue');
  t.equal(ret(), abi.SN_SOLO5_R_OK, 'write: OK');
  t.same(fs.readFileSync(img).subarray(512, 1024), Buffer.alloc(512, 0x5a), 'the image holds it');
  blkio(1, 512, S + 0x2000, 512);
  tn.hvtSolo5Io(mem, hc(5), devs);
  t.same([ret(), mem.subarray(S + 0x2000, S + 0x2200)], [abi.SN_SOLO5_R_OK, Buffer.alloc(512, 0x5a)], 'read it back');
  blkio(1, 3584, MEM - 512, 512);
  tn.hvtSolo5Io(mem, hc(5), devs);
  t.equal(ret(), abi.SN_SOLO5_R_OK, 'a buffer ending exactly at the top');

  const einval: Array<[string, number | bigint, number | bigint, number | bigint]> = [
    ['a handle naming nothing', 9, 0, 512],
    ['the reserved entry', 0, 0, 512],
    ['a handle past the table', 64, 0, 512],
    ['offset at capacity', 1, 4096, 512],
    ['a range past capacity', 1, 3584, 1024],
    ['offset + len wrapping', 1, 512, 2n ** 64n - 256n],
    ['len 2^64-1', 1, 0, 2n ** 64n - 1n],
    ['len above SSIZE_MAX', 1, 0, 2n ** 63n],
  ];
  for (const [what, handle, offset, len] of einval) {
    for (const nr of [4, 5]) {
      blkio(handle, offset, S + 0x1000, len);
      t.equal(tn.hvtSolo5Io(mem, hc(nr), devs).next, 'continue', `${nr === 4 ? 'write' : 'read'}, ${what}: the guest runs on`);
      t.equal(ret(), abi.SN_SOLO5_R_EINVAL, `${nr === 4 ? 'write' : 'read'}, ${what}: EINVAL`);
    }
  }
  blkio(2n ** 32n + 1n, 0, S + 0x1000, 512);
  tn.hvtSolo5Io(mem, hc(5), devs);
  t.equal(ret(), abi.SN_SOLO5_R_OK, 'the handle is cut to 32 bits, as upstream');
  blkio(1, 0, 0x7fff0000, 512);
  t.match(tn.hvtSolo5Io(mem, hc(5), devs), { next: 'fatal', why: access(0x7fff0000, 512) }, 'a buffer past memory');
  t.match(tn.hvtSolo5Io(mem, hc(4, MEM - 32), devs), { next: 'fatal', why: access(MEM - 32, 40) }, 'a struct past the top');
  blkio(1, 0, S + 0x1000, 512);
  t.same(
    tn.hvtSolo5Io(mem, hc(4), [{ index: 1, type: BLOCK, fd: ro, capacity: 4096 }]),
    { next: 'fatal', status: 0, why: 'Fatal error when writing: EBADF' },
    "a failed host write is the tender's own error",
  );
});

t.test(
  "NET_WRITE and NET_READ on a seqpacket socket: valid, EINVAL, bad pointer (AGAIN needs the helper's non-blocking fd: test/hvt-solo5.test.ts)",
  async (t) => {
    const [a, b] = native().socketpairSeqpacket();
    t.teardown(() => (fs.closeSync(a), fs.closeSync(b)));
    const devs = [{ index: 2, type: NET, fd: a, capacity: 0 }];
    const mem = Buffer.alloc(MEM);
    const netio = (handle: number, data: number, len: number | bigint) => u64s(handle, data, len, 0x63).copy(mem, S);
    const ret = () => mem.readInt32LE(S + abi.SN_SOLO5_HVT_NETIO.offsets.ret);

    mem.fill(0x42, S + 0x1000, S + 0x1000 + 60);
    netio(2, S + 0x1000, 60);
    t.equal(tn.hvtSolo5Io(mem, hc(6), devs).next, 'continue');
    t.equal(ret(), abi.SN_SOLO5_R_OK, 'NET_WRITE: OK');
    const got = Buffer.alloc(100);
    t.equal(fs.readSync(b, got), 60, 'one frame of 60 bytes at the other end');

    fs.writeSync(b, Buffer.alloc(77, 7));
    netio(2, S + 0x2000, 1514);
    tn.hvtSolo5Io(mem, hc(7), devs);
    t.same([ret(), mem.readBigUInt64LE(S + 16), mem[S + 0x2000]], [abi.SN_SOLO5_R_OK, 77n, 7], 'NET_READ: the frame and its length');
    t.equal(tn.hvtSolo5Io(mem, hc(6, MEM - 24), devs).next, 'fatal', 'a struct past the top');
    netio(1, S + 0x1000, 60);
    tn.hvtSolo5Io(mem, hc(6), devs);
    t.equal(ret(), abi.SN_SOLO5_R_EINVAL, 'a handle naming no net device: EINVAL');
    netio(2, 0x7fff0000, 60);
    t.match(tn.hvtSolo5Io(mem, hc(7), devs), { next: 'fatal', why: access(0x7fff0000, 60) }, 'a buffer past memory');
  },
);
