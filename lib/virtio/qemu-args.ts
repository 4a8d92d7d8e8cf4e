// qemu-args.ts: QEMU's command line for a virtio unikernel, built from typed devices that render themselves; starts nothing.
import { UsageError } from '../errors';
import { quote } from '../quote';

/** Which accelerator QEMU runs the guest with, decided before the argv is built (kvm-probe.ts). */
export type Accel = 'kvm' | 'tcg';

/** A tap the launcher opened; QEMU gets it as an inherited fd, so it needs no CAP_NET_ADMIN. */
export interface NetTap {
  kind: 'net-tap';
  fd: number;
  mac: string;
  /** PCI slot on bus 0: the bindings pair manifest entry i with slot i + 2 (guest/bindings/virtio/). */
  slot: number;
}
/** One end of a socketpair framing Ethernet as QEMU's `-netdev stream` does (a VirtualSwitch port: switch-bridge.ts). */
export interface NetStream {
  kind: 'net-stream';
  fd: number;
  mac: string;
  slot: number;
}
/** A raw disk image QEMU opens itself. */
export interface BlockFile {
  kind: 'block-file';
  path: string;
  slot: number;
}
/** COM1 on QEMU's stdio: the guest's console is the launcher's stdout. */
export interface SerialStdio {
  kind: 'serial-stdio';
}
/** isa-debug-exit at its default port 0x501: how a guest ends QEMU. */
export interface DebugExit {
  kind: 'debug-exit';
}
export type QemuDevice = NetTap | NetStream | BlockFile | SerialStdio | DebugExit;

export interface QemuConfig {
  kernel: string;
  /** The guest's command line (after the kernel name the loader adds itself). */
  cmdline: string;
  memMiB: number;
  accel: Accel;
  devices: QemuDevice[];
}

/** Slots 0 and 1 are the pc machine's host and ISA bridges; 31 is the last on bus 0. */
export const FIRST_SLOT = 2;
export const LAST_SLOT = 31;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/**
 * A value inside a QEMU option list: QEMU splits on commas, and a doubled
 * comma stands for one. A newline or NUL cannot be passed at all.
 */
export function qemuValue(what: string, s: string): string {
  if (/[\n\0]/.test(s)) throw new UsageError(`${what}: a newline or NUL cannot be passed to QEMU`);
  return s.replace(/,/g, ',,');
}

/** A whole argument QEMU takes as it is (-kernel, -append): only newline and NUL are refused. */
function plainValue(what: string, s: string): string {
  if (/[\n\0]/.test(s)) throw new UsageError(`${what}: a newline or NUL cannot be passed to QEMU`);
  return s;
}

function checkSlot(slot: number): string {
  if (!Number.isInteger(slot) || slot < FIRST_SLOT || slot > LAST_SLOT) {
    throw new UsageError(`PCI slot ${slot} is outside ${FIRST_SLOT}..${LAST_SLOT} (too many devices for virtio)`);
  }
  return `0x${slot.toString(16)}`;
}

/** The CPU model for each accelerator: the host's, without the MSR some nested KVMs refuse (0x10a); QEMU's fullest under TCG. */
export const CPU_MODEL: Readonly<Record<Accel, string>> = { kvm: 'host,-arch-capabilities', tcg: 'max' };

/** Renders one device; `fd` numbers the inherited fd a tap gets. */
function render(d: QemuDevice, index: number, fd: () => number): string[] {
  switch (d.kind) {
    case 'net-tap':
    case 'net-stream': {
      if (!MAC_RE.test(d.mac)) throw new UsageError(`MAC address '${quote(d.mac)}' is not xx:xx:xx:xx:xx:xx (lower case)`);
      const id = `net${index}`;
      const netdev = d.kind === 'net-tap' ? `tap,id=${id},fd=${fd()}` : `stream,id=${id},addr.type=fd,addr.str=${fd()}`;
      return ['-netdev', netdev, '-device', `virtio-net-pci,netdev=${id},mac=${d.mac},addr=${checkSlot(d.slot)}`];
    }
    case 'block-file': {
      const id = `blk${index}`;
      return [
        '-drive',
        `file=${qemuValue('disk image path', d.path)},if=none,id=${id},format=raw`,
        '-device',
        `virtio-blk-pci,drive=${id},addr=${checkSlot(d.slot)}`,
      ];
    }
    case 'serial-stdio':
      return ['-serial', 'stdio'];
    case 'debug-exit':
      return ['-device', 'isa-debug-exit'];
  }
}

/**
 * QEMU's argv (without the program) and the fds to pass it, numbered from
 * 3 in the order of `fds`. Fixed flags first: no default devices or user
 * configuration, no display or monitor, no reboot (a triple fault ends
 * QEMU), the pc machine; then memory, CPU, devices, kernel and command line.
 */
export function qemuArgv(config: QemuConfig): { argv: string[]; fds: number[] } {
  if (!Number.isInteger(config.memMiB) || config.memMiB < 2 || config.memMiB > 3072) {
    throw new UsageError(`memory ${config.memMiB} MiB is outside 2..3072 (virtio guests map the first 4 GiB less the PCI hole)`);
  }
  const fds: number[] = [];
  const argv = ['-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot', '-machine', 'pc', '-accel', config.accel];
  argv.push('-cpu', CPU_MODEL[config.accel], '-m', String(config.memMiB));
  config.devices.forEach((d, i) => {
    argv.push(
      ...render(d, i, () => {
        if (d.kind !== 'net-tap' && d.kind !== 'net-stream') throw new Error('only net devices take fds');
        fds.push(d.fd);
        return 2 + fds.length;
      }),
    );
  });
  argv.push('-kernel', plainValue('kernel path', config.kernel));
  if (config.cmdline !== '') argv.push('-append', plainValue('guest command line', config.cmdline));
  return { argv, fds };
}
