// hvt.ts: what launching on hvt adds to spt: the KVM device, opened by the tender with a reason when it cannot be.
import fs from 'node:fs';
import { HostError } from '../errors';

/** Where KVM lives on every Linux host. */
export const KVM_DEVICE = '/dev/kvm';

/** One line that says what is wrong with the KVM device and what to do about it. */
export function kvmOpenError(dev: string, code: string | undefined): HostError {
  switch (code) {
    case 'ENOENT':
      return new HostError(`${dev}: no such device (hvt needs KVM: load kvm_intel or kvm_amd, or use solo5-spt)`);
    case 'EACCES':
    case 'EPERM':
      return new HostError(`${dev}: permission denied (add the user to the kvm group, or use solo5-spt)`);
    case 'ENXIO':
    case 'ENODEV':
      return new HostError(`${dev}: no KVM driver behind the device (load kvm_intel or kvm_amd, or use solo5-spt)`);
    default:
      return new HostError(`${dev}: cannot open (${code ?? 'unknown error'}); hvt needs KVM, or use solo5-spt`);
  }
}

/**
 * Open the KVM device for the helper (it receives the fd, so it never opens
 * a file itself). Throws HostError with a one-line reason when it cannot.
 */
export function openKvm(dev: string = KVM_DEVICE): number {
  try {
    // libuv opens every file close-on-exec; the spawn hands this fd over explicitly.
    return fs.openSync(dev, fs.constants.O_RDWR);
  } catch (e) {
    throw kvmOpenError(dev, (e as NodeJS.ErrnoException).code);
  }
}
