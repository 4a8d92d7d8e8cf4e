// native-test.ts: the one loader of the test-only native addon (fake and hostile guests, bench loops), with a typed interface.
import path from 'node:path';
import { packageRoot, type BrokerHandle } from '../../lib/native';

/** A test's own mapping of a guest's memory and duplicates of its doorbells (the view a guest has). */
export interface GuestMap {
  read(addr: number, len: number): Buffer;
  /** Writes, then a full fence (a guest writes an index, then reads the tender's waiting flag). */
  write(addr: number, data: Buffer): void;
  unmap(): void;
}

export interface TestAddon {
  mapGuest(opts: { memFd: number; memSize: number; ringsAddr: number; doorbellFds: [number, number] }): GuestMap;
  /** Guest A (the JS thread) sends `count` frames; a thread plays guest B draining. */
  benchSwitch(
    a: GuestMap,
    aIndex: number,
    b: GuestMap,
    bIndex: number,
    frame: Buffer,
    count: number,
  ): { seconds: number; sent: number; received: number };
  /** `count` synchronous block requests (op 1 read, 2 write) over the first `span` bytes. */
  benchBlock(
    m: GuestMap,
    index: number,
    op: number,
    reqBytes: number,
    count: number,
    addr: number,
    span: number,
  ): { seconds: number; errors: number };
  /** The same sequential pread/pwrite done directly on fd (the floor). */
  benchFloor(fd: number, op: number, reqBytes: number, count: number, span: number): { seconds: number };
  /** Garbage descriptors on every queue, rewritten after publication, until `descriptors` or a violation. */
  /**
   * A hostile Solo5 hvt guest: `entries` garbage ring entries (bad handles and ops, odd lengths, buffers in
   * `ro`), each rewritten right after it is published, commits taken, kicks when asked. `wild`: buffers past
   * memory and racing ent_tail values too, until the pump reports a violation.
   */
  hvtRingHostile(
    m: GuestMap,
    handle: BrokerHandle,
    entries: number,
    seed: number,
    where: { ring: number; buf: number; ro: number; wild: boolean },
  ): { posted: number; seconds: number; violated: boolean };
  /**
   * One port I/O exit (KVM_EXIT_IO as KVM writes it) through the helper's own Solo5 hvt hypercall code
   * (addon/helper/helper_hvt_solo5_*.c), `mem` standing for guest memory from address 0; no KVM involved.
   */
  hvtSolo5Io(
    mem: Buffer,
    io: { port: number; direction: number; size: number; count: number; value: number; dataOffset?: number },
    devices: { index: number; type: number; fd: number; capacity: number }[],
  ): { next: 'continue' | 'exit' | 'fatal'; status: number; why: string };
  /** Feeds the chunks to the shipped stream decoder (then, with `end`, the end of the stream). */
  streamDecode(chunks: Buffer[], maxFrame: number, end: boolean): { frames: Buffer[]; ok: boolean; why: string; pending: number };
  /** A stream link writes `count` random-sized frames to a reader that stops, then drains it in small reads. */
  streamWriterRun(
    seed: number,
    count: number,
    maxQueued: number,
    mtu: number,
  ): {
    written: number;
    queued: number;
    dropped: number;
    txDropped: number;
    mostQueued: number;
    delivered: number;
    accepted: number;
    intact: boolean;
  };
  hostile(
    m: GuestMap,
    handle: BrokerHandle,
    descriptors: number,
    seed: number,
    scratchAddr: number,
  ): { posted: number; seconds: number; violated: boolean };
}

const file = path.join(packageRoot, 'test', 'native', 'build', 'Release', 'sn_test.node');

function isTestAddon(m: unknown): m is TestAddon {
  return typeof m === 'object' && m !== null && typeof (m as { mapGuest?: unknown }).mapGuest === 'function';
}

let cached: TestAddon | undefined;

/** The test addon; built by `npm run build:test-addon` (npm test and npm run bench do it first). */
export function testNative(): TestAddon {
  if (cached) return cached;
  let m: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a .node file's path known only at run time
    m = require(file);
  } catch (e) {
    throw new Error(
      `cannot load the test addon ${file} (${(e as Error).message.split('\n')[0]}); build it with "npm run build:test-addon"`,
    );
  }
  if (!isTestAddon(m)) throw new Error(`${file}: not the solo5-node test addon`);
  cached = m;
  return m;
}
