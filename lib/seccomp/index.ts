// index.ts: the seccomp module's public face, with the memoized spt guest program.

import { compilePolicy } from './compile';
import { checkDoorbellFds, sptGuestPolicy, type SptGuestPolicyOptions } from './policy';
import { precompiled } from './precompiled';

export { compilePolicy } from './compile';
export { decodeProgram, encodeProgram, SOCK_FILTER_SIZE, type SockFilter } from './bpf';
export {
  sptGuestPolicy,
  type ArgCondition,
  type ArgIn,
  type ArgIndex,
  type ArgLe,
  type ArgMasked,
  type ArgValue,
  type Policy,
  type Rule,
  type SptGuestPolicyOptions,
} from './policy';
export * from './syscalls';
export { compileSolo5GuestPolicy, solo5GuestPolicy, type Solo5BlockFd, type Solo5GuestPolicyOptions } from './solo5';

/*
 * The spt program is compiled on every guest launch, and its only input is
 * the doorbell list, so keep each distinct list's bytes. Callers get a copy:
 * the cached program must not be changed by whoever writes it into a plan.
 */
const sptCache = new Map<string, Buffer>();
const SPT_CACHE_MAX = 64;

/** The BPF program (struct sock_filter[], 8 bytes each) the helper installs before jumping to an spt guest. */
export function compileSptGuestPolicy(opts: SptGuestPolicyOptions): Buffer {
  checkDoorbellFds(opts.doorbellFds);
  const key = opts.doorbellFds.join(',');
  let prog = sptCache.get(key);
  if (prog === undefined) {
    const policy = sptGuestPolicy(opts);
    prog = precompiled(`spt:${key}`, policy) ?? compilePolicy(policy);
    if (sptCache.size >= SPT_CACHE_MAX) sptCache.clear();
    sptCache.set(key, prog);
  }
  return Buffer.from(prog);
}
