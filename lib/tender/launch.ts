// launch.ts: start one unikernel: build its memory image, spawn the helper, watch it end.
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import * as abi from '../abi';
import { loadElf, type LoadedElf } from '../elf';
import { UsageError } from '../errors';
import { silentLog, type TenderLog } from '../log';
import { encodeMftForGuest } from '../manifest/note';
import { native, type BrokerEvent, type BrokerHandle } from '../native';
import { compileSptGuestPolicy } from '../seccomp';
import { compileHvtHelperPolicy } from '../seccomp/hvt';
import { attachDevices, type AttachedDevices } from './devices';
import { openKvm } from './hvt';
import { classifyExit, type GuestExit } from './exit';
import { checkOptions, type CheckedOptions, type LaunchOptions } from './options';
import { encodeBootinfo, encodePlan, regionsFromSegments } from './plan';
import { spawnHelperProcess, type HelperProcess } from './spawn';

/** The guest's stack sits at the top of its memory; keep at least this much above the image. */
const MIN_FREE_ABOVE_IMAGE = 1024 * 1024;

/** A running unikernel. */
export interface Guest {
  /** Process id of the guest (the helper that became the guest). */
  readonly pid: number;
  /** The guest console when launched with `console: 'pipe'`, else null. */
  readonly console: Readable | null;
  /** Settles once when the guest has ended; never rejects. */
  readonly exited: Promise<GuestExit>;
  /** Send a signal to the guest (default SIGKILL). Harmless after it ended. */
  kill(signal?: NodeJS.Signals): void;
  /** Device counters from the broker (packets, bytes, requests, errors); final values once ended. */
  counters(): Record<string, number>;
}

/**
 * Launch a unikernel. Rejects with a Solo5Error (one-line message) when the ELF,
 * the options or the devices are wrong; once it resolves, every further outcome is
 * reported through `guest.exited`.
 */
export async function launch(options: LaunchOptions, log: TenderLog = silentLog): Promise<Guest> {
  const opts = checkOptions(options);
  const elf = loadElf(opts.kernel, { memSize: opts.memSize, tender: opts.target });
  checkTarget(elf, opts);
  const devices = attachDevices(elf, opts, log);
  const glog = log.child({ guest: elf.file });
  const memFd = native().memfdCreate('solo5-guest-mem', opts.memSize);
  let planFd = -1;
  let kvmFd = -1;
  let broker: GuestBroker | undefined;
  const cleanup = () => {
    broker?.handle.stop();
    devices.close();
  };
  try {
    // hvt: the helper gets the KVM device as the fd after the doorbells (include/sn_abi.h).
    if (opts.target === 'hvt') kvmFd = openKvm();
    const violations: string[] = [];
    let onViolation: (message: string) => void = (m) => violations.push(m);
    broker = createBroker(memFd, elf, opts, devices, glog, (m) => onViolation(m));
    const rings = broker ? { addr: pageUp(elf.kernelEnd), size: broker.handle.ringsSize } : { addr: 0, size: 0 };
    checkFits(elf, opts, rings.addr + rings.size);
    writeImage(memFd, elf, opts, encodeMftForGuest(elf.manifest, devices.attach), rings);
    const doorbells = broker ? broker.handle.doorbellFds : [];
    const doorbellNumbers = doorbells.map((_, i) => abi.SN_FD_DOORBELL0 + i);
    planFd = native().memfdCreate('solo5-guest-plan', 0);
    const plan = encodePlan({
      target: opts.target,
      memSize: opts.memSize,
      entry: elf.entry,
      stackTop: opts.memSize,
      bootinfo: abi.SN_BOOTINFO_ADDR,
      regions: regionsFromSegments(elf.segments),
      // spt: the guest's own policy; hvt: the helper's, installed after KVM set-up (the guest makes no syscalls).
      bpf:
        opts.target === 'hvt'
          ? compileHvtHelperPolicy({ ndoorbells: doorbells.length })
          : compileSptGuestPolicy({ doorbellFds: doorbellNumbers }),
      ndoorbells: doorbells.length,
    });
    fs.writeSync(planFd, plan, 0, plan.length, 0);
    const child = spawnHelperProcess(opts.console, [memFd, planFd, ...doorbells, ...(kvmFd >= 0 ? [kvmFd] : [])]);
    broker?.handle.start();
    glog.debug({ pid: child.pid, memMB: opts.memSize >> 20, devices: devices.configs.length }, 'guest started');
    const guest = watch(child, glog, cleanup, violations, broker);
    onViolation = (m) => {
      violations.push(m);
      glog.error({ violation: m }, 'guest broke the device protocol; killing it');
      guest.kill('SIGKILL');
    };
    for (const m of violations.splice(0)) onViolation(m);
    return guest;
  } catch (e) {
    cleanup();
    throw e;
  } finally {
    fs.closeSync(memFd);
    if (planFd >= 0) fs.closeSync(planFd);
    if (kvmFd >= 0) fs.closeSync(kvmFd);
  }
}

interface GuestBroker {
  handle: BrokerHandle;
}

const pageUp = (x: number) => Math.ceil(x / 4096) * 4096;

/** The native broker serving this guest's rings, or undefined when it has no devices. */
function createBroker(
  memFd: number,
  elf: LoadedElf,
  opts: CheckedOptions,
  devices: AttachedDevices,
  log: TenderLog,
  onViolation: (message: string) => void,
): GuestBroker | undefined {
  if (devices.configs.length === 0) return undefined;
  const onEvent = (ev: BrokerEvent) => {
    if (ev.type === 'violation') onViolation(`device '${ev.device}': ${ev.message}`);
    else log.warn({ device: ev.device }, ev.message);
  };
  const handle = native().createGuestBroker(
    { memFd, memSize: opts.memSize, ringsAddr: pageUp(elf.kernelEnd), entries: elf.manifest.devices.length + 1, devices: devices.configs },
    onEvent,
  );
  return { handle };
}

function checkTarget(elf: LoadedElf, opts: CheckedOptions): void {
  if (elf.abi.target !== opts.target) {
    throw new UsageError(
      `${elf.file}: built for ${elf.abi.target}, but this tender runs ${opts.target} unikernels (use solo5-${elf.abi.target})`,
    );
  }
  checkFits(elf, opts, elf.kernelEnd);
}

function checkFits(elf: LoadedElf, opts: CheckedOptions, end: number): void {
  if (end + MIN_FREE_ABOVE_IMAGE > opts.memSize) {
    throw new UsageError(
      `mem: ${opts.memSize >> 20} MiB is too small for ${elf.file} (its image and rings end at ${(end / 1048576).toFixed(1)} MiB)`,
    );
  }
}

/** Write segments, command line, manifest and boot info into the guest memfd (offset == guest address). */
function writeImage(fd: number, elf: LoadedElf, opts: CheckedOptions, mft: Buffer, rings: { addr: number; size: number }): void {
  for (const seg of elf.segments) {
    if (seg.data.length > 0) fs.writeSync(fd, seg.data, 0, seg.data.length, seg.vaddr);
  }
  const cmdline = Buffer.from(`${opts.cmdline}\0`, 'utf8');
  if (cmdline.length > abi.SN_CMDLINE_MAX) {
    throw new UsageError(`command line is ${cmdline.length - 1} bytes, the maximum is ${abi.SN_CMDLINE_MAX - 1}`);
  }
  fs.writeSync(fd, cmdline, 0, cmdline.length, abi.SN_CMDLINE_ADDR);
  fs.writeSync(fd, mft, 0, mft.length, abi.SN_MFT_ADDR);
  const boot = encodeBootinfo({
    target: opts.target,
    memSize: opts.memSize,
    kernelEnd: elf.kernelEnd,
    cmdline: abi.SN_CMDLINE_ADDR,
    mft: abi.SN_MFT_ADDR,
    mftSize: mft.length,
    rings: rings.addr,
    ringsSize: rings.size,
    random: native().getRandom64(),
    // hvt: the helper fills in the TSC frequency and clock bases; the guest holds no fds.
    tscFreq: 0n,
    waitFd: opts.target === 'spt' ? abi.SN_FD_WAIT : -1,
    consoleFd: opts.target === 'spt' ? abi.SN_FD_CONSOLE : -1,
  });
  fs.writeSync(fd, boot, 0, boot.length, abi.SN_BOOTINFO_ADDR);
}

function watch(child: HelperProcess, log: TenderLog, cleanup: () => void, violations: string[], broker?: GuestBroker): Guest {
  let ended = false;
  let finalCounters: Record<string, number> | undefined;
  const exited = child.exited.then(({ code, signal, diag }) => {
    ended = true;
    finalCounters = broker?.handle.counters() ?? {};
    cleanup();
    const exit = classifyExit(code, signal, diag, violations[0]);
    log.debug({ exit, counters: finalCounters }, 'guest ended');
    return exit;
  });
  return {
    pid: child.pid,
    console: child.console,
    exited,
    kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (!ended) child.kill(signal);
    },
    counters() {
      return finalCounters ?? broker?.handle.counters() ?? {};
    },
  };
}
