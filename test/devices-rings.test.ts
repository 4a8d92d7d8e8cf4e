// devices-rings.test.ts: the tender-side ring policy: ringsMax from memory, read-only ranges from the load plan.
import t from 'tap';
import * as abi from '../lib/abi';
import { GUEST_HEAP_RESERVE, readOnlyRanges, ringsMaxFor } from '../lib/devices/rings';

t.test('ringsMaxFor leaves the heap reserve and never goes negative', async (t) => {
  t.equal(ringsMaxFor(2 << 20, 0x119000), (2 << 20) - 0x119000 - GUEST_HEAP_RESERVE);
  t.equal(ringsMaxFor(2 << 20, 0x1f0000), 0, 'no room at all: 0, and createGuestBroker says ERINGS');
});

t.test('readOnlyRanges keeps exactly the regions without W', async (t) => {
  const { SN_PROT_R: R, SN_PROT_W: W, SN_PROT_X: X } = abi;
  const regions = [
    { addr: 0x100000, len: 0x3000, prot: R | X },
    { addr: 0x103000, len: 0x1000, prot: R },
    { addr: 0x104000, len: 0x2000, prot: R | W },
  ];
  t.same(readOnlyRanges(regions), [
    { addr: 0x100000, len: 0x3000 },
    { addr: 0x103000, len: 0x1000 },
  ]);
});
