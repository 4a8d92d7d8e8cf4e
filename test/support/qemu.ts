// qemu.ts: whether virtio guests can run here (QEMU on PATH, the virtio builds made), and why not, for tests that skip.
import fs from 'node:fs';
import path from 'node:path';
import { findQemu } from '../../lib/virtio/kvm-probe';
import { root } from './paths';

/** The virtio build of a bundled app (guest/build/solo5/APP.virtio). */
export const virtioApp = (name: string): string => path.join(root, 'guest', 'build', 'solo5', `${name}.virtio`);

/** Why virtio guests cannot run here (a skip reason), or undefined when they can. */
export function qemuUnavailable(): string | undefined {
  try {
    findQemu();
  } catch (e) {
    return (e as Error).message;
  }
  return fs.existsSync(virtioApp('hello')) ? undefined : `${virtioApp('hello')} is not built (npm run build:guest)`;
}
