// run.ts: runs a Solo5 virtio unikernel under QEMU: checks the kernel and devices, builds the argv, relays the console and signals, maps the exit.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { DeviceError, ElfError, UsageError } from '../errors';
import { describeAbiNote, isVirtioNote } from '../elf/abi';
import { MAX_FILE_SIZE } from '../elf/constants';
import { readUserFile } from '../elf/load';
import { queryAbi, queryManifest } from '../elf/parse';
import type { DeviceType, Manifest } from '../manifest/types';
import { native } from '../native';
import { ConsoleWatch, classifyVirtioExit, describeVirtioExit, type VirtioExit } from './exit';
import { chooseAccel, findQemu, kvmSlow, kvmUnusable, type AccelChoice } from './kvm-probe';
import { FIRST_SLOT, qemuArgv, type Accel, type QemuDevice } from './qemu-args';
import { quote } from '../quote';

export const SECTOR = 512;

export interface VirtioRunOptions {
  kernel: string;
  /** The guest's arguments, joined with spaces into its command line. */
  args: string[];
  memMiB: number;
  accel: AccelChoice;
  /** Manifest device name to disk image; `undefined` as the name means the manifest's first block device (-d). */
  blocks: Map<string | undefined, string>;
  /**
   * Manifest device name to a tap interface, or to a framed stream the caller holds the other end
   * of (`{ streamFd, mac }`, compareTargets' switch ports); `undefined` means the first net device (-n).
   */
  nets: Map<string | undefined, string | { streamFd: number; mac: string }>;
  /** Aborting it kills QEMU (SIGKILL): the run ends as a signal, status 137. */
  signal?: AbortSignal;
  /** Upstream's -q: no "running:" line. Warnings still print. */
  quiet?: boolean;
  out?: NodeJS.WritableStream;
  /** One line at a time, without the newline. */
  warn?: (line: string) => void;
}

/** The kernel's manifest, if it is a virtio unikernel; otherwise one line saying what it is. */
export function readVirtioKernel(file: string): Manifest {
  const buf = readUserFile(file, MAX_FILE_SIZE, (why) => new ElfError(file, why));
  const { note } = queryAbi(buf, file);
  if (!isVirtioNote(note)) {
    throw new ElfError(file, `not a virtio unikernel: built for ${describeAbiNote(note)} (run it with its tender, solo5-spt or solo5-hvt)`);
  }
  return queryManifest(buf, file);
}

/** The manifest index (1-based, as the guest counts) of the device a name (or the first of `type`) refers to. */
function entryOf(m: Manifest, name: string | undefined, type: DeviceType, option: string): number {
  const i = name === undefined ? m.devices.findIndex((d) => d.type === type) : m.devices.findIndex((d) => d.name === name);
  if (i < 0) {
    const what = name === undefined ? `no ${type} device` : `no device named '${name}'`;
    throw new UsageError(`${option}: the kernel's manifest declares ${what}`);
  }
  if (m.devices[i].type !== type) throw new UsageError(`${option}: device '${quote(name)}' is ${m.devices[i].type}, not ${type}`);
  return i + 1;
}

/** A disk image must exist, be a regular file and a whole number of sectors. */
export function checkDisk(option: string, file: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new DeviceError(`${option}: ${file}: cannot open: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if (!st.isFile()) throw new DeviceError(`${option}: ${file}: not a regular file`);
  if (st.size === 0 || st.size % SECTOR !== 0) {
    throw new DeviceError(`${option}: ${file}: ${st.size} bytes is not a whole number of ${SECTOR}-byte sectors`);
  }
}

interface Planned {
  devices: QemuDevice[];
  taps: number[];
}

function plan(opts: VirtioRunOptions, m: Manifest): Planned {
  const devices: QemuDevice[] = [{ kind: 'serial-stdio' }, { kind: 'debug-exit' }];
  const used = new Map<number, string>();
  const claim = (entry: number, option: string) => {
    const before = used.get(entry);
    if (before !== undefined) throw new UsageError(`${option}: device already attached by ${before}`);
    used.set(entry, option);
    return FIRST_SLOT + entry;
  };
  for (const [name, file] of opts.blocks) {
    const option = name === undefined ? '-d' : `--block:${name}`;
    const slot = claim(entryOf(m, name, 'BLOCK_BASIC', option), option);
    checkDisk(option, file);
    devices.push({ kind: 'block-file', path: file, slot });
  }
  const taps: number[] = [];
  try {
    for (const [name, iface] of opts.nets) {
      const option = name === undefined ? '-n' : `--net:${name}`;
      const entry = entryOf(m, name, 'NET_BASIC', option);
      const slot = claim(entry, option);
      if (typeof iface !== 'string') {
        devices.push({ kind: 'net-stream', fd: iface.streamFd, slot, mac: iface.mac });
        continue;
      }
      let fd: number;
      try {
        fd = native().openTap(iface).fd;
      } catch (e) {
        throw new DeviceError(`${option}: ${(e as Error).message}`);
      }
      taps.push(fd);
      devices.push({ kind: 'net-tap', fd, slot, mac: `52:54:00:12:34:${(0x56 + entry).toString(16).padStart(2, '0').slice(-2)}` });
    }
  } catch (e) {
    for (const fd of taps) fs.closeSync(fd);
    throw e;
  }
  devices.sort((a, b) => ('slot' in a ? a.slot : 0) - ('slot' in b ? b.slot : 0));
  return { devices, taps };
}

const SETPRIV = '/usr/bin/setpriv';
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** One QEMU run; resolves with the classified exit and whether the guest printed anything. */
function runQemu(
  qemu: string,
  argv: string[],
  fds: number[],
  out: NodeJS.WritableStream,
  abort?: AbortSignal,
): Promise<{ exit: VirtioExit; bytes: number }> {
  return new Promise((resolve) => {
    // QEMU must not outlive a launcher that is killed outright: setpriv (util-linux) asks the kernel to send it SIGTERM then.
    const [cmd, args] = fs.existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'TERM', '--', qemu, ...argv]] : [qemu, argv];
    const child = spawn(cmd, args, { stdio: ['inherit', 'pipe', 'pipe', ...fds] });
    const watch = new ConsoleWatch();
    let stderr = '';
    let sent: NodeJS.Signals | undefined;
    let spawnError: string | undefined;
    const relay = (sig: NodeJS.Signals) => {
      sent = sig;
      child.kill(sig);
    };
    for (const s of FORWARDED) process.on(s, relay);
    const kill = () => relay('SIGKILL');
    if (abort?.aborted) kill();
    abort?.addEventListener('abort', kill);
    child.stdout?.on('data', (c: Buffer) => {
      watch.feed(c);
      out.write(c);
    });
    child.stderr?.on('data', (c: Buffer) => {
      if (stderr.length < 65536) stderr += c.toString('utf8');
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      spawnError = `cannot run ${qemu}: ${e.code ?? e.message}`;
    });
    child.on('close', (code, signal) => {
      for (const s of FORWARDED) process.off(s, relay);
      abort?.removeEventListener('abort', kill);
      const exit: VirtioExit =
        spawnError !== undefined
          ? { kind: 'qemu-error', status: 1, error: spawnError }
          : classifyVirtioExit(code, signal, sent, watch.status, stderr);
      resolve({ exit, bytes: watch.bytes });
    });
  });
}

/**
 * Runs the kernel and resolves with how it ended (the CLI exits with
 * `status`). Bad input throws a Solo5Error with one line. With 'auto', a
 * QEMU that fails under KVM before the guest printed a byte is run again
 * under TCG, with one warning saying why.
 */
export async function runVirtio(opts: VirtioRunOptions): Promise<VirtioExit> {
  const warn = opts.warn ?? ((l: string) => void process.stderr.write(`solo5-virtio-run: ${l}\n`));
  const out = opts.out ?? process.stdout;
  const m = readVirtioKernel(opts.kernel);
  const qemu = findQemu();
  const cmdline = opts.args.join(' ');
  const { devices, taps } = plan(opts, m);
  try {
    const probed = opts.accel === 'tcg' ? undefined : kvmUnusable();
    let accel: Accel = chooseAccel(opts.accel, probed, probed === undefined ? kvmSlow() : undefined, warn);
    for (;;) {
      const { argv, fds } = qemuArgv({ kernel: opts.kernel, cmdline, memMiB: opts.memMiB, accel, devices });
      if (!opts.quiet) warn(`running: ${qemu} ${argv.join(' ')}`);
      const { exit, bytes } = await runQemu(qemu, argv, fds, out, opts.signal);
      if (exit.kind === 'qemu-error' && accel === 'kvm' && opts.accel === 'auto' && bytes === 0) {
        warn(`KVM unusable (QEMU: ${exit.error}); using TCG`);
        accel = 'tcg';
        continue;
      }
      const line = describeVirtioExit(exit);
      if (line !== undefined) warn(line);
      return exit;
    }
  } finally {
    for (const fd of taps) fs.closeSync(fd);
  }
}
