// virtio-mkimage.ts: the solo5-virtio-mkimage command: IMAGE KERNEL [ARGS] to a bootable disk image; returns an exit code.
import { isSolo5Error, UsageError } from '../errors';
import { version } from '../version';
import { makeImage } from '../virtio/mkimage';
import { oneLine } from '../quote';

const USAGE = `usage: solo5-virtio-mkimage IMAGE KERNEL [ARGS...]

Writes IMAGE, a raw disk image with an MBR and one FAT partition holding
syslinux, its Multiboot loader (mboot.c32), the Solo5 virtio unikernel
KERNEL and its command line ARGS. Any PC-compatible hypervisor that boots a
disk boots it, QEMU for one:
  qemu-system-x86_64 -drive file=IMAGE,format=raw -serial stdio
Needs mtools, syslinux and syslinux-common (Debian); no root or loop device.

Exit status: 0 on success, 1 on any error (one line on stderr).`;

/** Runs solo5-virtio-mkimage with `argv` (without node and script). */
export async function main(argv: string[]): Promise<number> {
  try {
    if (argv[0] === '-h' || argv[0] === '--help') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (argv[0] === '--version') {
      process.stdout.write(`solo5-virtio-mkimage ${version()}\n`);
      return 0;
    }
    const rest = argv[0] === '--' ? argv.slice(1) : argv;
    if (rest.length < 2) throw new UsageError('needs IMAGE and KERNEL (see solo5-virtio-mkimage --help)');
    await makeImage(rest[0], rest[1], rest.slice(2));
    return 0;
  } catch (e) {
    if (!isSolo5Error(e)) throw e;
    process.stderr.write(`solo5-virtio-mkimage: ${oneLine(e.message)}\n`);
    return 1;
  }
}
