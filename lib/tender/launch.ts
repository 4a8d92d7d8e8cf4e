// launch.ts: start one unikernel of either ABI: build its memory image, spawn the helper, watch it end.
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import * as abi from '../abi';
import { loadElf, type LoadedElf } from '../elf';
import { HostError, isSolo5Error, UsageError } from '../errors';
import { silentLog, type TenderLog } from '../log';
import { encodeMftForGuest } from '../manifest/note';
import { helperPath, native, type HelperNamespaces, type BrokerEvent, type BrokerHandle, type HvtRingConfig } from '../native';
import { guestCmdline, passtLinkFailed, passtReports } from '../net/passt-devices';
import type { NetInfo } from '../net/passt-placeholders';
import { compileSptGuestPolicy } from '../seccomp';
import { compileHvtHelperPolicy } from '../seccomp/hvt';
import { attachDevices, type AttachedDevices } from './devices';
import { classifyExit, describeExit, type GuestExit } from './exit';
import { openKvm } from './hvt';
import { prepareDebug, type DebugLaunch } from '../hvt/debug';
import { checkOptions, type CheckedOptions, type LaunchOptions } from './options';
import { encodePlan, regionsFromSegments, type PlanInput } from './plan';
import { solo5DevEpoll, solo5Policy, writeSolo5Image } from './solo5';
import { solo5HvtMemory, solo5HvtPolicy, solo5HvtPolicyOptions, writeSolo5HvtImage } from './solo5-hvt';
import { hvtRingConfig, hvtRingReadOnly } from './hvtring';
import { checkFits, checkTarget, MIN_FREE_ABOVE_IMAGE, writeImage } from './image';
import { spawnHelperProcess, type HelperProcess } from './spawn';
import { quote } from '../quote';

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
  /** Each net device by name: its MAC and MTU, and for a passt device what passt offers the guest. */
  readonly net: ReadonlyMap<string, NetInfo>;
}

/**
 * Everything launch() acquires, released in one place whichever step fails:
 * fds the tender opened (memory, plan, KVM), the devices' fds and the broker.
 */
class Held {
  readonly fds: number[] = [];
  devices?: AttachedDevices;
  broker?: BrokerHandle;
  /** --dumpcore, --gdb: released with the rest when the launch fails; after the start, when the guest ended. */
  debug?: DebugLaunch;
  private released = false;

  fd(fd: number): number {
    this.fds.push(fd);
    return fd;
  }

  /** The fds only the helper needs; the broker and devices live until the guest ends. */
  closeFds(): void {
    for (const fd of this.fds.splice(0)) fs.closeSync(fd);
  }

  release(): void {
    this.closeFds();
    if (this.released) return;
    this.released = true;
    this.broker?.stop();
    this.devices?.close();
    this.debug?.release();
  }
}

/** Any failure becomes a Solo5Error with a one-line message; tender bugs keep their own class. */
function asSolo5Error(e: unknown, step: string): unknown {
  if (isSolo5Error(e) || !(e instanceof Error)) return e;
  if ((e as { code?: unknown }).code === 'ERINGS') return new UsageError(`mem: ${e.message}`);
  if (e instanceof RangeError || e instanceof TypeError) return e;
  return new HostError(`${step}: ${e.message}`);
}

/**
 * Launch a unikernel. Rejects with a Solo5Error (one-line message) when the ELF,
 * the options or the devices are wrong, having released everything it took;
 * once it resolves, every further outcome is reported through `guest.exited`.
 */
export async function launch(options: LaunchOptions, log: TenderLog = silentLog): Promise<Guest> {
  return (await prepare(options, log)).start();
}

/** A guest spawned with a start gate: its own process, which this one need not outlive (`exited`: while it does). */
export interface GatedGuest {
  readonly pid: number;
  readonly exited: Promise<GuestExit>;
}

/** A guest whose memory is loaded and devices opened, not yet running (the OCI runtime's create). */
export interface PreparedGuest {
  /** Spawn the helper: the guest runs from here on. Rejects, having released everything, when it cannot. */
  start(): Promise<Guest>;
  /** spt without a broker: once running the guest needs nothing from this process, so it may be spawned gated. */
  readonly standalone: boolean;
  /**
   * Only when standalone: spawn the helper with SN_PLAN_F_GATE (include/sn_abi.h). It outlives this process,
   * takes stderrFd as fd 2 and waits for a byte on gateFd (a FIFO) before the guest runs. Resolves once it
   * waits there; rejects, having released everything, when it ended before. `ns`: the container's
   * namespaces (lib/oci), which the helper is born in.
   */
  startGated(gateFd: number, stderrFd: number, ns?: HelperNamespaces): Promise<GatedGuest>;
  /** Give everything back without running the guest. Idempotent. */
  release(): void;
  /** As `Guest.net`: known before the guest runs. */
  readonly net: ReadonlyMap<string, NetInfo>;
}

/**
 * The CLI's view of a prepared guest (not the API's: launch() never replaces its caller's process).
 * `inPlace`: a Solo5-ABI guest with no device the broker serves and the console on this process's
 * stdout needs nothing from this process once it runs, so the CLI becomes it (upstream's process model).
 */
export interface CliPreparedGuest extends PreparedGuest {
  readonly inPlace: boolean;
  /**
   * Only when inPlace: exec the helper in this process, which then is the guest (same pid, its own
   * fds only, upstream's wait status). Returns only by throwing, having released everything.
   */
  becomeGuest(argv0: string): never;
}

/** Everything launch() does before the guest runs; `start()` does the rest. Rejects as launch() does. */
export async function prepare(options: LaunchOptions, log: TenderLog = silentLog): Promise<PreparedGuest> {
  const p = await prepareForCli(options, log, false);
  return {
    net: p.net,
    standalone: p.standalone,
    release: () => p.release(),
    start: () => p.start(),
    startGated: (g, e, ns) => p.startGated(g, e, ns),
  };
}

/**
 * prepare() as the CLI uses it, with the in-place start; rejects as launch() does. `cli`: the caller
 * becomes the guest when it can (a Solo5-ABI hvt guest that could go in place is then not offered the
 * net ring, which needs the tender's pump: it uses the hypercalls, as with netRing: false).
 */
export async function prepareForCli(options: LaunchOptions, log: TenderLog = silentLog, cli = true): Promise<CliPreparedGuest> {
  const opts = checkOptions(options);
  let elf = loadElf(opts.kernel, { memSize: opts.memSize, tender: opts.target });
  const kind = elf.abi;
  checkTarget(elf, opts, kind);
  // Upstream's hvt guests: memory sized as upstream's tender sizes it, the ELF checked against what the guest sees.
  const hvtMem = kind.kind === 'solo5' && opts.target === 'hvt' ? solo5HvtMemory(opts.memSize, hasNet(elf)) : undefined;
  if (hvtMem) {
    if (hvtMem.adjusted) log.warn({ memSize: hvtMem.visible }, hvtMem.adjusted);
    if (hvtMem.visible !== opts.memSize) elf = loadElf(opts.kernel, { memSize: hvtMem.visible, tender: opts.target });
    opts.memSize = hvtMem.alloc;
  }
  const held = new Held();
  let step = 'attach devices';
  let child: HelperProcess | undefined;
  try {
    held.devices = attachDevices(elf, opts, log, kind.kind);
    const devices = held.devices;
    const glog = log.child({ guest: elf.file });
    step = 'start passt';
    const nets = await passtReports(devices, glog);
    opts.cmdline = guestCmdline(opts.cmdline, nets);
    step = 'create guest memory';
    const memFd = held.fd(native().memfdCreate('solo5-guest-mem', opts.memSize));
    step = 'open the KVM device';
    // hvt: the helper gets the KVM device as the fd after the doorbells (include/sn_abi.h).
    const kvmFd = opts.target === 'hvt' ? held.fd(openKvm(opts.kvmDevice)) : -1;
    step = 'prepare the debug features';
    const dbg = (held.debug = prepareDebug(opts, memFd, kind.kind));
    const violations: string[] = [];
    let onViolation: (message: string) => void = (m) => violations.push(m);
    step = 'start the device broker';
    const ringsAddr = kind.kind === 'ring' ? pageUp(elf.kernelEnd) : 0;
    /*
     * In place: a Solo5-ABI guest with no device the broker serves, no debug feature (the tender
     * serves those) and the console on this process's stdout needs nothing from this process once it
     * runs, so the CLI becomes it. On hvt the helper then writes its run-time line itself
     * (helper_hvt_solo5_loop.c), with no marker for a tender to strip.
     */
    const inPlace = cli && kind.kind === 'solo5' && devices.configs.length === 0 && dbg === undefined && opts.console === 'inherit';
    // A Solo5-ABI hvt guest with a net device is offered the net ring unless the caller said no or it goes in place.
    const hvtRing = hvtMem && opts.netRing && !inPlace ? hvtRingConfig(elf, devices, hvtMem.visible) : undefined;
    const solo5 = kind.kind === 'solo5' ? { hvtRing, guestReadOnly: hvtRing ? hvtRingReadOnly(elf) : undefined } : undefined;
    held.broker = createBroker(memFd, ringsAddr, elf, opts, devices, glog, (m) => onViolation(m), solo5);
    const broker = held.broker;
    step = 'write the guest image';
    const mft = encodeMftForGuest(elf.manifest, devices.attach);
    let fds: number[];
    let plan: PlanInput;
    const common = {
      target: opts.target,
      memSize: opts.memSize,
      entry: elf.entry,
      regions: regionsFromSegments(elf.segments),
      parentPid: process.pid,
      setid: opts.ids,
    };
    if (hvtMem) {
      const kick = hvtRing && broker ? broker.hvtKickFd : -1;
      writeSolo5HvtImage(memFd, elf, hvtMem.visible, mft, opts.cmdline, kick >= 0 ? hvtMem.visible : 0);
      // The kick eventfd follows the device fds: the helper registers it on port 0x600, then closes it.
      fds = [...devices.guestFds.map((d) => d.fd), ...(kick >= 0 ? [kick] : [])];
      plan = {
        ...common,
        stackTop: hvtMem.visible - abi.SN_SOLO5_HVT_STACK_GAP,
        bootinfo: abi.SN_SOLO5_HVT_BOOT_INFO,
        bpf: dbg ? dbg.bpf(kick >= 0 ? 1 : 0, solo5HvtPolicyOptions(devices.guestFds)) : solo5HvtPolicy(devices.guestFds),
        ndoorbells: kick >= 0 ? 1 : 0,
        solo5: { devEpoll: solo5DevEpoll(devices.guestFds) },
      };
    } else if (kind.kind === 'solo5') {
      writeSolo5Image(memFd, elf, opts.memSize, mft, opts.cmdline);
      fds = devices.guestFds.map((d) => d.fd);
      plan = {
        ...common,
        stackTop: opts.memSize - abi.SN_SOLO5_STACK_GAP,
        bootinfo: abi.SN_SOLO5_BOOT_INFO_BASE,
        bpf: solo5Policy(devices.guestFds),
        ndoorbells: 0,
        solo5: { devEpoll: solo5DevEpoll(devices.guestFds) },
      };
    } else {
      const rings = broker ? { addr: ringsAddr, size: broker.ringsSize } : { addr: 0, size: 0 };
      checkFits(elf, opts, rings.addr + rings.size, rings.size);
      writeImage(memFd, elf, opts, mft, rings);
      fds = broker ? broker.doorbellFds : [];
      const doorbellNumbers = fds.map((_, i) => abi.SN_FD_DOORBELL0 + i);
      plan = {
        ...common,
        stackTop: opts.memSize,
        bootinfo: abi.SN_BOOTINFO_ADDR,
        // spt: the guest's own policy; hvt: the helper's, installed after KVM set-up (the guest makes no syscalls).
        bpf:
          opts.target === 'hvt'
            ? compileHvtHelperPolicy({ ndoorbells: fds.length })
            : compileSptGuestPolicy({ doorbellFds: doorbellNumbers }),
        ndoorbells: fds.length,
      };
      if (dbg && opts.target === 'hvt') plan.bpf = dbg.bpf(fds.length);
    }
    plan.debugFlags = dbg?.flags;
    step = 'write the load plan';
    const planFd = held.fd(native().memfdCreate('solo5-guest-plan', 0));
    const writePlan = (p: PlanInput) => fs.writeSync(planFd, encodePlan(p), 0, undefined, 0);
    writePlan(plan);
    // The guest runs from here: spawn the helper, then let the broker serve it.
    const startPrepared = (): Guest => {
      child = spawnHelperProcess(
        opts.console,
        [memFd, planFd, ...fds, ...(kvmFd >= 0 ? [kvmFd, ...(dbg?.fds ?? [])] : [])],
        false,
        dbg?.helper,
      );
      const spawned = child;
      dbg?.started(spawned.pid, () => spawned.kill('SIGKILL'));
      step = 'start the device broker';
      const shareCpu = opts.affinity === 'auto' && kind.kind === 'ring' && opts.target === 'spt' && netOnly(devices);
      const placed = broker?.start(shareCpu ? child.pid : undefined, opts.target === 'spt' ? child.pid : undefined);
      if (placed?.reason) glog.debug({ reason: placed.reason }, 'guest and its pump keep their CPU affinity');
      held.closeFds();
      devices.closeGuestFds();
      glog.debug({ pid: child.pid, memMB: opts.memSize >> 20, abi: kind, devices: devices.configs.length }, 'guest started');
      const guest = watch(child, glog, () => held.release(), violations, broker, nets, hvtMem !== undefined, dbg);
      onViolation = (m) => {
        violations.push(m);
        glog.error({ violation: m }, 'guest broke the device protocol; killing it');
        guest.kill('SIGKILL');
      };
      for (const m of violations.splice(0)) onViolation(m);
      return guest;
    };
    const standalone = opts.target === 'spt' && broker === undefined;
    const startGated = async (gateFd: number, stderrFd: number, ns?: HelperNamespaces): Promise<GatedGuest> => {
      writePlan({ ...plan, gate: true });
      const gated = (child = spawnHelperProcess(opts.console, [memFd, planFd, ...fds, gateFd, stderrFd], true, helperPath, ns));
      held.release();
      const exited = gated.exited.then((end) => classifyExit(end.code, end.signal, end.diag));
      if ((await gated.ready!) === undefined) return { pid: gated.pid, exited };
      const exit = await exited;
      throw new HostError(
        exit.kind === 'error'
          ? exit.error
          : `the guest ended before its start gate (${describeExit(exit) ?? `exit status ${exit.status}`})`,
      );
    };
    const becomeGuest = (argv0: string): never => {
      if (!inPlace) throw new UsageError(`${elf.file}: a guest with brokered devices or another console needs its tender running`);
      once();
      glog.debug({ pid: process.pid, memMB: opts.memSize >> 20, abi: kind, devices: devices.guestFds.length }, 'guest starting in place');
      try {
        return native().execHelperInPlace(helperPath, argv0, [memFd, planFd, ...fds, ...(kvmFd >= 0 ? [kvmFd] : [])]);
      } catch (e) {
        held.release();
        throw new HostError(`cannot start the helper: ${(e as Error).message}`);
      }
    };
    let started = false;
    const once = () => {
      if (started) throw new UsageError('this guest was already started');
      started = true;
    };
    return {
      net: nets,
      standalone,
      inPlace,
      becomeGuest,
      release: () => held.release(),
      start: async () => {
        once();
        try {
          step = 'start the guest';
          return startPrepared();
        } catch (e) {
          await abandon();
          throw asSolo5Error(e, step);
        }
      },
      startGated: async (gateFd, stderrFd, ns) => {
        if (!standalone) throw new UsageError(`${elf.file}: a guest with brokered devices or on hvt needs its tender running`);
        once();
        try {
          step = 'start the guest at its gate';
          return await startGated(gateFd, stderrFd, ns);
        } catch (e) {
          await abandon();
          throw asSolo5Error(e, step);
        }
      },
    };
  } catch (e) {
    await abandon();
    throw asSolo5Error(e, step);
  }
  // A guest already spawned must not run on without its broker or its caller knowing of it.
  async function abandon(): Promise<void> {
    if (child) {
      child.kill('SIGKILL');
      child.console?.destroy();
      await child.exited;
    }
    held.release();
  }
}

/**
 * Only net devices with a kernel or socket peer (tap, stream): block requests and switch traffic
 * between guests are faster with the pump and the guest each spinning on its own CPU (docs/decisions.md).
 */
const netOnly = (d: AttachedDevices) => d.configs.length > 0 && d.configs.every((c) => c.kind === 'net' && c.backend.type !== 'switch');

const hasNet = (elf: LoadedElf) => elf.manifest.devices.some((d) => d.type === 'NET_BASIC');

const pageUp = (x: number) => Math.ceil(x / abi.SN_PAGE_SIZE) * abi.SN_PAGE_SIZE;

/**
 * The native broker serving this guest's devices, or undefined when none needs
 * it. Ring ABI: the ring area goes right after the image and may take what
 * memory leaves once the guest's own minimum is set aside (the broker shrinks
 * the queues to fit); block reads never land in pages the guest cannot write.
 * Solo5 ABI: no ring area, every brokered net device is a socket end; on hvt the broker may also serve
 * the guest's net ring (`solo5.hvtRing`), and then maps guest memory.
 */
function createBroker(
  memFd: number,
  ringsAddr: number,
  elf: LoadedElf,
  opts: CheckedOptions,
  devices: AttachedDevices,
  log: TenderLog,
  onViolation: (message: string) => void,
  solo5: { hvtRing?: HvtRingConfig; guestReadOnly?: { addr: number; len: number }[] } | undefined,
): BrokerHandle | undefined {
  if (devices.configs.length === 0 && !solo5?.hvtRing) return undefined;
  const onEvent = (ev: BrokerEvent) => {
    if (ev.type === 'violation') onViolation(`device '${quote(ev.device)}': ${ev.message}`);
    else if (ev.type === 'closed') log.debug({ device: ev.device }, ev.message);
    else if (passtLinkFailed(devices, ev.device, ev.message)) log.debug({ device: ev.device }, ev.message);
    else log.warn({ device: ev.device }, ev.message);
  };
  const entries = elf.manifest.devices.length + 1;
  if (solo5)
    return native().createGuestBroker(
      { memFd, memSize: opts.memSize, ringsAddr: 0, solo5: true, entries, devices: devices.configs, ...solo5 },
      onEvent,
    );
  const ringsMax = Math.max(0, opts.memSize - ringsAddr - MIN_FREE_ABOVE_IMAGE);
  const guestReadOnly = regionsFromSegments(elf.segments)
    .filter((r) => (r.prot & abi.SN_PROT_W) === 0)
    .map((r) => ({ addr: r.addr, len: r.len }));
  try {
    return native().createGuestBroker(
      { memFd, memSize: opts.memSize, ringsAddr, ringsMax, guestReadOnly, entries, devices: devices.configs },
      onEvent,
    );
  } catch (e) {
    const need = /need at least ([0-9]+) bytes/.exec((e as Error).message ?? '');
    if ((e as { code?: unknown }).code !== 'ERINGS' || !need) throw e;
    const mb = Math.ceil((ringsAddr + Number(need[1]) + MIN_FREE_ABOVE_IMAGE) / 1048576);
    throw new UsageError(
      `mem: ${opts.memSize >> 20} MiB is too small for ${elf.file}: the rings of its ${devices.configs.length} device(s) need at least ${need[1]} bytes after the image (which ends at ${(ringsAddr / 1048576).toFixed(1)} MiB) and the guest ${MIN_FREE_ABOVE_IMAGE >> 10} KiB above them; use --mem=${mb} or more`,
    );
  }
}

/**
 * drain() says "NAME: what the guest did"; a violation event during the run is worded
 * "device 'NAME': ..." (createBroker). One wording for both, whenever the tender noticed.
 * Device names are [A-Za-z0-9] (lib/manifest/schema.ts), so the first ': ' ends the name.
 */
function deviceViolation(drained: string): string {
  const i = drained.indexOf(': ');
  return i > 0 ? `device '${quote(drained.slice(0, i))}': ${drained.slice(i + 2)}` : drained;
}

function watch(
  child: HelperProcess,
  log: TenderLog,
  release: () => void,
  violations: string[],
  broker: BrokerHandle | undefined,
  net: ReadonlyMap<string, NetInfo>,
  upstreamHvt = false,
  debug?: DebugLaunch,
): Guest {
  let ended = false;
  let finalCounters: Record<string, number> | undefined;
  const exited = child.exited.then(async ({ code, signal, diag }) => {
    ended = true;
    /*
     * One more look after the exit (issue 8 item 7): drain() joins the pump,
     * catches a ring violation written just before the exit, and forwards the
     * frames a Solo5-ABI guest left queued in its sockets (read to their end,
     * synchronously: no wait on an event that an idle event loop might never
     * deliver).
     */
    const late = broker?.drain();
    if (late !== undefined && violations.length === 0) violations.push(deviceViolation(late));
    finalCounters = broker?.counters() ?? {};
    // Upstream's hvt tender ends itself (status 1, one line) on a bad net ring entry; so does its guest here.
    const exit: GuestExit =
      upstreamHvt && violations[0] !== undefined
        ? { kind: 'error', status: 1, error: violations[0], running: true }
        : classifyExit(code, signal, diag, violations[0]);
    // Before release(): the core is read from the guest memory the debug launch holds.
    await debug?.ended(exit);
    release();
    log.debug({ exit, counters: finalCounters }, 'guest ended');
    return exit;
  });
  return {
    pid: child.pid,
    console: child.console,
    exited,
    net,
    kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (!ended) child.kill(signal);
    },
    counters() {
      return finalCounters ?? broker?.counters() ?? {};
    },
  };
}
