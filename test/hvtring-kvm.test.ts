// hvtring-kvm.test.ts: a hand-assembled ring-0 Solo5 hvt guest uses the offered net ring under KVM: kick by ioeventfd, frames both ways.
import t from 'tap';
import * as abi from '../lib/abi';
import { launch } from '../lib/tender/launch';
import { asm, DATA, hvtSolo5Elf, removeHvtSolo5Elves, HALT_AT } from './support/hvt-solo5';
import { kvmUnavailable } from './support/kvm';
import { StreamListener } from './support/stream-peer';
import type { Manifest } from '../lib/manifest/types';

const skip = kvmUnavailable();
const PEER_MAC = Buffer.from([2, 0, 0, 0, 0x5e, 1]);
const FRAME = DATA + 0x100;
const RBUF = DATA + 0x200;
const NET_RING_PTR = abi.SN_SOLO5_HVT_BOOT_INFO + abi.SN_SOLO5_HVT_BOOT_INFO_LAYOUT.offsets.net_ring;
const R = abi.SN_SOLO5_HVT_RING.offsets;
const E = abi.SN_SOLO5_HVT_RING_ENTRY.offsets;
const C = abi.SN_SOLO5_HVT_RING_COMMIT;

const le32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v | 0);
  return b.toString('hex');
};
const hexLen = (h: string) => h.length / 2;

/* x86-64, %rbx = the ring (guest address = host offset in the memfd). */
/** Fill the entry at ent_tail (through %rdi), ent_tail++, mfence, kick port 0x600. */
function submit(op: number, data: number, len: number, id: number): string {
  return [
    '8b03', // mov eax, [rbx]            (ent_tail)
    '25ff030000', // and eax, 1023
    'c1e005', // shl eax, 5                (32-byte entries)
    `488dbc03${le32(R.ent)}`, // lea rdi, [rbx + rax + ent]
    `c707${le32(op)}`, // mov dword [rdi], op
    `c747${E.handle.toString(16).padStart(2, '0')}${le32(1)}`, // handle 1
    `48c747${E.data.toString(16).padStart(2, '0')}${le32(data)}`, // data
    `c747${E.len.toString(16).padStart(2, '0')}${le32(len)}`, // len
    `c747${E.id.toString(16).padStart(2, '0')}${le32(id)}`, // id
    'ff03', // inc dword [rbx]            (publish)
    '0faef0', // mfence
    asm.movEax(0),
    asm.movDx(abi.SN_SOLO5_HVT_RING_KICK_PORT),
    asm.outl,
  ].join('');
}

/** Wait for a commit, take it (com_head++), its ret in %ecx. */
const takeCommit = [
  `8b4b${R.com_tail.toString(16)}`, // wait: mov ecx, [rbx + com_tail]
  `3b4b${R.com_head.toString(16).padStart(2, '0')}`, // cmp ecx, [rbx + com_head]
  '74f8', // je wait
  `8b43${R.com_head.toString(16).padStart(2, '0')}`, // mov eax, [rbx + com_head]
  '25ff030000', // and eax, 1023
  'c1e004', // shl eax, 4                 (16-byte commits)
  `8b8c03${le32(R.com + C.offsets.ret)}`, // mov ecx, [rbx + rax + com + ret]
  `ff43${R.com_head.toString(16).padStart(2, '0')}`, // inc dword [rbx + com_head]
].join('');

/** The guest: no ring offered: halt 3. Else send FRAME; read until a frame comes (AGAIN: again); echo it; wait for ent_head; halt 0. */
function ringGuestCode(): string {
  const head = `488b1c25${le32(NET_RING_PTR)}` + '4885db'; // mov rbx, [net_ring]; test rbx, rbx
  const noRing = `c70425${le32(HALT_AT + 8)}${le32(3)}` + asm.halt();
  const readLoop = submit(abi.SN_SOLO5_HVT_RING_OP_NET_READ, RBUF, 1514, 5) + takeCommit + '85c9'; // test ecx, ecx
  const jneBack = (extra: number) => `0f85${le32(-(hexLen(readLoop) + 6 + extra))}`;
  const rest =
    submit(abi.SN_SOLO5_HVT_RING_OP_NET_WRITE, RBUF, 60, 6) +
    `8b4b${R.ent_head.toString(16)}` + // drain: mov ecx, [rbx + ent_head]
    '3b0b' + // cmp ecx, [rbx]
    '75f9' + // jne drain
    asm.halt();
  const body = submit(abi.SN_SOLO5_HVT_RING_OP_NET_WRITE, FRAME, 60, 4) + readLoop + jneBack(0) + rest;
  return head + `0f84${le32(hexLen(body))}` + body + noRing;
}

function frame(tag: number): Buffer {
  const f = Buffer.alloc(60);
  f.fill(0xff, 0, 6);
  PEER_MAC.copy(f, 6);
  f.writeUInt16BE(0x88b5, 12);
  for (let i = 14; i < 60; i++) f[i] = (tag + i) & 0xff;
  return f;
}

t.teardown(removeHvtSolo5Elves);

const manifest: Manifest = { type: 'solo5.manifest', version: 1, devices: [{ name: 'service', type: 'NET_BASIC' }] };

t.test(
  'offered the ring, the guest kicks port 0x600 and its frames cross both ways through the pump',
  { skip: skip ?? false },
  async (t) => {
    const l = await StreamListener.open();
    t.teardown(() => l.close());
    const kernel = hvtSolo5Elf({ code: ringGuestCode(), data: [[FRAME - DATA, frame(1)]], manifest });
    const guest = await launch({ kernel, target: 'hvt', memMB: 4, console: 'pipe', net: { service: { unix: l.path } } });
    let out = '';
    guest.console?.on('data', (b: Buffer) => (out += b.toString()));
    const peer = await l.accept(PEER_MAC);
    const got: Buffer[] = [];
    peer.on('frame', (f) => got.push(f));
    await new Promise<void>((r) => peer.once('frame', () => r()));
    t.ok(got[0].equals(frame(1)), "the guest's NET_WRITE entry reached the stream peer");
    peer.send(frame(2));
    const exit = await guest.exited;
    t.equal(exit.status, 0, `the guest halted after its echo went out (${out})`);
    t.ok(got[1]?.equals(frame(2)), 'the frame the guest read came back');
    const c = guest.counters();
    t.equal(c['service.ringTxPackets'], 2, 'two ring writes');
    t.equal(c['service.ringRxPackets'], 1, 'one ring read with a frame');
  },
);

t.test('netRing: false offers nothing: boot info host_features and net_ring stay 0', { skip: skip ?? false }, async (t) => {
  const l = await StreamListener.open();
  t.teardown(() => l.close());
  const kernel = hvtSolo5Elf({ code: ringGuestCode(), manifest });
  const guest = await launch({ kernel, target: 'hvt', memMB: 4, console: 'pipe', netRing: false, net: { service: { unix: l.path } } });
  const exit = await guest.exited;
  t.equal(exit.status, 3, 'the guest found no ring');
});

t.test(
  'a ring entry naming memory past the guest ends it as upstream ends its tender: status 1, one line',
  { skip: skip ?? false },
  async (t) => {
    const l = await StreamListener.open();
    t.teardown(() => l.close());
    const code = `488b1c25${le32(NET_RING_PTR)}` + submit(abi.SN_SOLO5_HVT_RING_OP_NET_WRITE, 0x7fffff00, 60, 1) + asm.spin;
    const kernel = hvtSolo5Elf({ code, manifest });
    const guest = await launch({ kernel, target: 'hvt', memMB: 4, console: 'pipe', net: { service: { unix: l.path } } });
    const exit = await guest.exited;
    t.equal(exit.status, 1);
    t.equal(exit.kind, 'error');
    t.match(
      exit.kind === 'error' ? exit.error : '',
      /^device 'net ring': NET_WRITE: Invalid guest access: gpa=0x7fffff00, sz=60 \(guest memory ends at 0x400000\)$/,
    );
  },
);
