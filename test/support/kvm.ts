// kvm.ts: whether this host can run hvt guests, and why not, for tests that skip without KVM.
import fs from 'node:fs';
import { KVM_DEVICE } from '../../lib/tender/hvt';
import { app } from './paths';

/** Why hvt guests cannot run here (a skip reason), or undefined when they can. */
export function kvmUnavailable(): string | undefined {
  let fd: number;
  const dev = KVM_DEVICE;
  try {
    fd = fs.openSync(dev, fs.constants.O_RDWR);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `no ${dev} on this host (KVM not loaded, or no virtualization)`;
    if (code === 'EACCES' || code === 'EPERM') return 'no permission to open /dev/kvm (not in the kvm group)';
    return `/dev/kvm cannot be opened here (${code ?? 'unknown error'})`;
  }
  fs.closeSync(fd);
  if (!fs.existsSync(app('hello', 'hvt'))) return `${app('hello', 'hvt')} is not built (npm run build:guest)`;
  return undefined;
}
