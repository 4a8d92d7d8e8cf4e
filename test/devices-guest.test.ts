// devices-guest.test.ts: the guest side of block devices end to end: blk, maxdevices, durability, hostile guests.
import fs from 'node:fs';
import t from 'tap';
import { launch, run, type Guest } from '../lib';
import { VirtualSwitch } from '../lib/devices/switch';
import { imageMaker } from './support/images';
import { app } from './support/paths';

const image = imageMaker('solo5-devguest-');

/** Resolves with the console so far once it matches `marker`. */
function waitFor(guest: Guest, marker: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    guest.console?.on('data', (b: Buffer) => {
      out += b.toString();
      if (marker.test(out)) resolve(out);
    });
    void guest.exited.then((e) => reject(new Error(`guest ended (${JSON.stringify(e)}) before ${String(marker)}: ${out}`)));
  });
}

function collect(guest: Guest): () => string {
  let out = '';
  guest.console?.on('data', (b: Buffer) => (out += b.toString()));
  return () => out;
}

/** What blk's pattern(off, pass) writes (guest/apps/blk/blk.c): one 64-bit mix per 8-byte word. */
function blkPattern(len: number, pass: number): Buffer {
  const M = (1n << 64n) - 1n;
  const b = Buffer.alloc(len);
  for (let w = 0; w < len / 8; w++) {
    let x = (BigInt(w) * 0x9e3779b97f4a7c15n + BigInt(pass) * 0xd1b54a32d192ed03n) & M;
    x ^= x >> 29n;
    b.writeBigUInt64LE(x, w * 8);
  }
  return b;
}

t.test('blk writes and reads back every block, multi-block requests, invalid requests refused', async (tt) => {
  // 127 blocks: the last request of each pass is clipped to what is left.
  for (const [sector, blocks] of [
    [512, 127],
    [4096, 127],
    [4096, 2],
  ]) {
    const img = image(`blk-${sector}-${blocks}.img`, sector * blocks);
    const g = await launch({ kernel: app('blk'), memMB: 32, console: 'pipe', block: { storage: { path: img, sectorSize: sector } } });
    const out = collect(g);
    const exit = await g.exited;
    tt.same(exit, { kind: 'exit', status: 0, aborted: false }, `${sector} x ${blocks}: exit 0`);
    tt.match(out(), `blk: capacity ${sector * blocks}, block size ${sector}`);
    tt.match(out(), 'SUCCESS');
    const c = g.counters();
    // Only the two requests naming a buffer outside guest memory reach the ring; the tender refuses them.
    tt.equal(c['storage.invalid'], 2, 'the bindings refused every other invalid request before the ring');
    // Two passes of writes and reads over the whole device (plus the final checks).
    tt.ok(c['storage.bytesWritten'] >= 2 * sector * blocks, `wrote the device twice (${c['storage.bytesWritten']} bytes)`);
    tt.ok(c['storage.bytesRead'] >= 2 * sector * blocks, `read it back twice (${c['storage.bytesRead']} bytes)`);
    tt.ok(c['storage.writes'] < 2 * blocks || blocks < 4, `multi-block requests (${c['storage.writes']} writes for ${blocks} blocks x 2)`);
    tt.same(
      fs.readFileSync(img).subarray(0, 4096),
      blkPattern(4096, 2).subarray(0, Math.min(4096, sector * blocks)),
      'the file holds the last pass',
    );
  }
});

t.test('maxdevices: 63 block devices attached, acquired and used', async (tt) => {
  const block: Record<string, { path: string }> = {};
  for (let i = 0; i < 63; i++) block[`storage${i}`] = { path: image(`max${i}.img`, 8192) };
  const r = await run({ kernel: app('maxdevices'), memMB: 32, block, timeoutMs: 120_000 });
  tt.equal(r.exit.status, 0, r.exit.status === 0 ? 'exit 0' : r.output);
  tt.match(r.output, 'maxdevices: 63 devices');
  tt.match(r.output, 'SUCCESS');
  // Each device's last block holds its own pattern: no two handles share an image.
  const last = (i: number) => fs.readFileSync(block[`storage${i}`].path).subarray(8192 - 512);
  tt.notSame(last(0), last(62));
  tt.equal(last(0)[1], 11, 'storage0 got its pattern');
  tt.equal(last(62)[0], (62 * 37) & 0xff, 'storage62 got its pattern');
});

t.test('a completed write is in the file even when the guest is SIGKILLed right after', async (tt) => {
  for (const sector of [512, 4096]) {
    const img = image(`durable-${sector}.img`, 64 * sector);
    const g = await launch({
      kernel: app('blk'),
      args: ['durable'],
      memMB: 32,
      console: 'pipe',
      block: { storage: { path: img, sectorSize: sector } },
    });
    const out = await waitFor(g, /WRITTEN \d+\n/);
    g.kill('SIGKILL');
    const exit = await g.exited;
    tt.match(exit, { kind: 'signal', signal: 'SIGKILL' }, `sector ${sector}: killed`);
    const m = /WRITTEN (\d+)/.exec(out);
    tt.ok(m, 'the guest said how much it wrote');
    const len = Number(m?.[1] ?? 0);
    tt.equal(len, 16 * sector, 'sixteen blocks in one request');
    tt.ok(fs.readFileSync(img).subarray(0, len).equals(blkPattern(len, 7)), 'the file holds every byte the guest was told was written');
  }
});

t.test('a hostile guest: a million garbage descriptors, while a well-behaved guest on the same tender finishes', async (tt) => {
  const sw = new VirtualSwitch();
  tt.teardown(() => sw.close());
  const hostile = await launch({
    kernel: app('hostile'),
    args: ['1000000'],
    memMB: 32,
    console: 'pipe',
    net: { service: { switch: sw } },
    block: { storage: { path: image('hostile.img', 256 * 1024) } },
  });
  const hostileOut = collect(hostile);
  const good = await run({ kernel: app('blk'), memMB: 32, block: { storage: { path: image('good.img', 512 * 1024) } }, timeoutMs: 120000 });
  tt.equal(good.exit.status, 0, 'blk exits 0 next to the hostile guest');
  tt.match(good.output, 'SUCCESS');

  const exit = await hostile.exited;
  tt.same(exit, { kind: 'exit', status: 0, aborted: false }, 'garbage within the index window is refused, not fatal');
  tt.match(hostileOut(), /HOSTILE DONE (\d+)/);
  tt.ok(Number(/HOSTILE DONE (\d+)/.exec(hostileOut())?.[1]) >= 1_000_000, 'at least a million descriptors');
  const c = hostile.counters();
  tt.ok(c['service.txErrors'] > 10000, `bad frame lengths counted (${c['service.txErrors']})`);
  tt.ok(c['storage.invalid'] > 10000, `bad block requests counted (${c['storage.invalid']})`);
  tt.equal(c['pump.violated'], 0, 'no protocol violation reported');
  tt.equal(c['storage.ioErrors'], 0, 'no request reached the file outside its bounds');
});

t.test('a hostile guest that breaks the index protocol is killed with the reason; others carry on', async (tt) => {
  const sw = new VirtualSwitch();
  tt.teardown(() => sw.close());
  for (let round = 0; round < 3; round++) {
    const wild = await launch({
      kernel: app('hostile'),
      args: ['1000000', 'wild'],
      memMB: 32,
      console: 'pipe',
      net: { service: { switch: sw } },
      block: { storage: { path: image(`wild${round}.img`, 256 * 1024) } },
    });
    const out = collect(wild);
    const good = run({
      kernel: app('blk'),
      memMB: 32,
      block: { storage: { path: image(`good${round}.img`, 128 * 1024) } },
      timeoutMs: 60000,
    });
    const exit = await wild.exited;
    tt.match(
      exit,
      { kind: 'signal', signal: 'SIGKILL', violation: /^device '(service|storage)': .*(ahead|behind)/ },
      `round ${round}: killed for the violation`,
    );
    tt.match(out(), 'HOSTILE VIOLATION', 'it did break the protocol');
    tt.notMatch(out(), 'HOSTILE NOT STOPPED');
    const g = await good;
    tt.equal(g.exit.status, 0, 'the well-behaved guest finishes');
    tt.match(g.output, 'SUCCESS');
  }
});
