// native.ts: the one module that loads the N-API addon, with a typed interface.
import path from 'node:path';
import { HostError } from './errors';

/** Layout of the ABI structs as compiled by the C++ compiler (see include/sn_abi.h). */
export interface NativeLayout {
  offsets: Record<string, number>;
  sizes: Record<string, number>;
  constants: Record<string, number>;
}

/** A device served by the broker; `index` is its manifest entry (1..63). */
export type DeviceConfig =
  | {
      index: number;
      name: string;
      kind: 'block';
      fd: number;
      capacity: number;
      blockSize: number;
      /**
       * Sequential reads of up to 16 KiB are served from a window the pump read ahead, for at most this
       * many µs after it was read (0..60,000,000; 0 turns read-ahead off; default 1000). See
       * docs/decisions.md, "Block read-ahead".
       */
      readAheadUs?: number;
    }
  | {
      index: number;
      name: string;
      kind: 'net';
      mtu: number;
      mac: Buffer;
      /**
       * 'stream': a connected SOCK_STREAM fd speaking the framing of passt, QEMU `-netdev stream` and
       * solo5-switch (a 4-byte big-endian length before each frame). A bad length, garbage or the peer
       * closing ends that device with one 'error' event; the guest and its other devices keep running.
       */
      backend: { type: 'tap'; fd: number } | { type: 'switch'; switchId: number } | { type: 'stream'; fd: number };
      pcapFd?: number;
      /**
       * Solo5 ABI only: the tender's end of socketpairSeqpacket(). The guest's frames arrive on it, one
       * per message (shorter than 14 or longer than mtu + 14: dropped, txErrors), and frames for the
       * guest are sent to it without blocking (a full socket drops them: rxDropped).
       */
      guestSocketFd?: number;
    };

export interface BrokerConfig {
  /** Guest memory and the ring area's address; ignored when `solo5` is set (no ring area). */
  memFd: number;
  memSize: number;
  ringsAddr: number;
  /** A Solo5-ABI guest: no rings, no doorbells for the guest; every net device has guestSocketFd, no block devices. */
  solo5?: boolean;
  /** Guest ranges the guest cannot write itself (text, rodata, tdata): a block read touching one completes with EINVAL. */
  guestReadOnly?: { addr: number; len: number }[];
  /**
   * The most bytes the ring area may take: queues get fewer slots (powers of two, down to 16 per net
   * queue and 8 per block queue) until it fits, else createGuestBroker throws an Error with code
   * 'ERINGS' saying how many bytes the devices need at least. Default: no limit (the ABI maxima).
   */
  ringsMax?: number;
  devices: DeviceConfig[];
  /** sn_rings_hdr.entries: the manifest's entry count (default: highest device index + 1). */
  entries?: number;
  /** How long the pump busy-polls after its last activity before it sleeps, in µs (default 50; 20 with hvtRing). */
  spinUs?: number;
  /**
   * With `solo5`, on hvt: serve upstream Solo5's 0.11+ net ring (struct sn_solo5_hvt_ring) at guest
   * address `addr` in memFd (memSize bytes, mapped by the broker), reading and writing frames on each
   * device's fd. The handle's hvtKickFd is the eventfd the guest's kicks arrive on.
   */
  hvtRing?: HvtRingConfig;
}

/** A Solo5-ABI hvt guest's net ring: where it is, and the host fd behind each net handle. */
export interface HvtRingConfig {
  /** Guest address of the ring: the guest-visible memory size; buffers must lie below it. */
  addr: number;
  /** index: the manifest entry (the guest's handle); fd: what the helper's NET_READ/NET_WRITE use too. */
  nets: { index: number; name: string; fd: number; mtu: number }[];
}

/** Reported from the pump thread: a protocol violation (the tender kills the guest) or a backend error. */
export interface BrokerEvent {
  /** 'closed': a Solo5-ABI guest closed a device's socket (normal at its exit); that device stops. */
  type: 'violation' | 'error' | 'closed';
  device: string;
  message: string;
}

export interface BrokerHandle {
  /** Bytes of guest memory the ring area takes at ringsAddr. */
  ringsSize: number;
  /** [to tender, to guest] eventfds; the helper receives them as fds 5 and 6. [-1, -1] with `solo5`. */
  doorbellFds: [number, number];
  /** With hvtRing: the eventfd the guest's kicks (port 0x600, a KVM ioeventfd) signal; else -1. */
  hvtKickFd: number;
  /**
   * Starts the pump. With `shareCpuWith` (the guest's pid) the pump and that process are narrowed to one
   * CPU that both may already use; `cpu` is that CPU, or -1 with the `reason` it was not done. With
   * `guestPid` and a block device, an unpinned pump moves off the guest's CPU when it finds them sharing
   * one (counters()['pump.cpuMoves']).
   */
  start(shareCpuWith?: number, guestPid?: number): { cpu: number; reason?: string };
  /** Join the pump thread, unmap guest memory, close the doorbells. Idempotent. */
  stop(): void;
  /**
   * After the guest exited, before stop(): stops the pump, looks at every ring once more and returns
   * the first protocol violation ("device: what the guest did"), or undefined.
   */
  drain(): string | undefined;
  counters(): Record<string, number>;
}

export interface NativeAddon {
  /** Create a close-on-exec memfd of the given size (sparse). Throws "memfd_create failed: E..." */
  memfdCreate(name: string, sizeBytes: number): number;
  /** The [start, end) extents of the first `size` bytes of a memfd that hold data (SEEK_DATA/SEEK_HOLE). */
  memfdDataRanges(fd: number, size: number): [number, number][];
  /**
   * Exec `path` with an empty environment: fd 0 /dev/null, fd 1 the console (an fd, or a new pipe
   * whose read end is returned), fd 2 a diagnostics pipe (read end returned, non-blocking), and
   * `fds` as 3, 4, ... `onExit` runs once, on the event loop, when the process has been reaped.
   */
  spawnHelper(
    path: string,
    console: number | 'pipe',
    fds: number[],
    onExit: (code: number | null, signal: number) => void,
  ): { pid: number; diagFd: number; consoleFd: number };
  /** 64 random bits from getrandom(2). */
  getRandom64(): bigint;
  /**
   * This process becomes the helper at `path` (argv[0] `argv0`, an empty environment): fd 0 /dev/null,
   * 1 and 2 as they are, and `fds` at 3, 4, ... (the helper places them, include/sn_abi.h,
   * SN_HELPER_INPLACE_ARG). Returns only by throwing "exec PATH failed: E...", having changed nothing.
   */
  execHelperInPlace(path: string, argv0: string, fds: number[]): never;
  /**
   * End this process by signal `signo` with its default action and no core dump, whatever handler or
   * mask it had. Returns only for a signal whose default action does not end a process.
   */
  dieBySignal(signo: number): void;
  /** glibc's words for an errno value (`No such file or directory`), or undefined for an unknown one. */
  strerror(errno: number): string | undefined;
  layout: NativeLayout;
  createGuestBroker(config: BrokerConfig, onEvent: (ev: BrokerEvent) => void): BrokerHandle;
  createSwitch(opts: { mtu: number }): number;
  switchAddEndpoint(switchId: number, mac: Buffer, onFrames: (frames: Buffer[]) => void): number;
  /** Switch one frame from an endpoint; false when no port queued it (dropped and counted). */
  switchSend(switchId: number, endpointId: number, frame: Uint8Array): boolean;
  switchRemoveEndpoint(switchId: number, endpointId: number): void;
  destroySwitch(switchId: number): void;
  /** forwarded, flooded, droppedMtu, droppedFiltered, ports, macs, endpoint.<id>.frames / .dropped */
  switchCounters(switchId: number): Record<string, number>;
  /** Open an existing tap interface with offloads off. */
  openTap(ifname: string): { fd: number; mtu: number };
  /** Check that an inherited fd is a tap and read its MTU. */
  tapFromFd(fd: number): { mtu: number };
  /**
   * An AF_UNIX SOCK_SEQPACKET pair, both ends close-on-exec and non-blocking: the guest's end is a
   * Solo5 net hostfd, whose read must fail with EAGAIN when no frame waits (as on upstream's taps).
   */
  socketpairSeqpacket(): [tenderEnd: number, guestEnd: number];
  /** An AF_UNIX SOCK_STREAM pair, close-on-exec and blocking: the peer end is for passt's --fd. */
  socketpairStream(): [tenderEnd: number, peerEnd: number];
  /**
   * Connect to a framed-stream listener (passt --socket, QEMU -netdev stream, solo5-switch): a
   * connected, non-blocking, close-on-exec fd. Failures are an Error whose `code` is the errno name
   * (ENOENT, ECONNREFUSED, EACCES, ...).
   */
  unixConnect(path: string): number;
  /** A new pty (solo5-oci's terminal): both ends close-on-exec, opened without becoming a controlling terminal. */
  openPty(): { master: number; slave: number };
  /** Connect to the stream socket at socketPath and send one message: `name` as data, `fd` by SCM_RIGHTS (runc's --console-socket). */
  sendFd(socketPath: string, name: string, fd: number): void;
  /** ioctl(TIOCSCTTY): the terminal on fd becomes the caller's controlling terminal (it must lead its session). */
  setControllingTty(fd: number): void;
  /** mkfifo(path, 0600), opened read-write and close-on-exec: a monitorless container's start gate. */
  openGate(path: string): number;
  /** execv(path, argv), SIGPIPE back to default and no signal blocked: returns only by throwing (solo5-oci hands a container to runc). */
  execFile(path: string, argv: string[]): never;
}

const root = path.resolve(__dirname, '..', '..');
const candidates = [path.join(root, 'build', 'Release', 'solo5_node.node'), path.join(root, 'build', 'Debug', 'solo5_node.node')];

function isNativeAddon(m: unknown): m is NativeAddon {
  return (
    typeof m === 'object' &&
    m !== null &&
    typeof (m as { memfdCreate?: unknown }).memfdCreate === 'function' &&
    typeof (m as { layout?: unknown }).layout === 'object'
  );
}

let cached: NativeAddon | undefined;

/** Load the addon once; on failure say where we looked and how to build it. */
export function native(): NativeAddon {
  if (cached) return cached;
  const errors: string[] = [];
  for (const file of candidates) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a .node file's path known only at run time
      const m: unknown = require(file);
      if (isNativeAddon(m)) {
        cached = m;
        return m;
      }
      errors.push(`${file}: not the solo5-node addon`);
    } catch (e) {
      errors.push(`${file}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw new HostError(`cannot load the native addon (looked in ${errors.join('; ')}); build it with "npm run build"`);
}

/** Absolute path of the static helper executable. */
export const helperPath = path.join(root, 'addon', 'helper', 'build', 'solo5-helper');
/** The same helper with the debug features (docs/debugging.md): only --gdb and --dumpcore run it. */
export const debugHelperPath = path.join(root, 'addon', 'helper', 'build', 'solo5-helper-debug');
/** Root of the installed package (for bundled unikernels and manifests). */
export const packageRoot = root;
