// debug-regs.ts: a register block (struct sn_dbg_regs) with a distinct value in every general register, for the debug tests.
import type { Regs } from '../../lib/hvt/channel';

/** rax 0x1111, rbx 0x2222, ... r15 0x10*0x1111; rip at 1 MiB; a ring-3 guest's selectors. */
export const sampleRegs = (): Regs => ({
  gpr: Array.from({ length: 16 }, (_, i) => BigInt(i + 1) * 0x1111n),
  rip: 0x100000n,
  rflags: 0x202n,
  cs: 0x33n,
  ss: 0x2bn,
  ds: 0n,
  es: 0n,
  fs: 0n,
  gs: 0n,
  fsBase: 0x1234n,
  gsBase: 0n,
  cr0: 0x80050033n,
  cr2: 0n,
  cr3: 0x1000n,
  cr4: 0x620n,
  efer: 0xd01n,
});
