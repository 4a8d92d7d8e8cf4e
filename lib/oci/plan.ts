// plan.ts: turn a bundle's config.json into what the monitor runs, refusing what a unikernel cannot honour.
import fs from 'node:fs';
import path from 'node:path';
import { loadElf, type LoadedElf } from '../elf';
import { DEFAULT_MEM_MB, MAX_MEM_MB, type Target } from '../tender/options';
import { inRootfs, readUnikernel, URUNC, OWN, type Unikernel } from './annotations';
import { OciError } from './errors';
import { HOOK_PHASES } from './hooks';
import type { Spec, SpecMount } from './spec';
import { quote } from '../quote';

/** Guest memory when config.json sets no memory limit and no org.solo5-node.mem annotation. */
export const OCI_DEFAULT_MEM_MB = 64;

export interface Plan {
  kernel: string;
  /** The guest command line before the network arguments are added. */
  args: string[];
  memMB: number;
  target: Target;
  /** Block device name -> image; keyed by names from the image and config.json, so without a prototype (see byName). */
  block: Record<string, { path: string; sectorSize?: number }>;
  /** Manifest net device -> interface in the container's network namespace; without a prototype as block is. */
  net: Record<string, string>;
  /** 'host': stay in ours; a path: join it; 'new': a fresh empty namespace. */
  netns: string;
  ipv4Args: boolean;
  /**
   * spt, and a ring-ABI guest without devices or a Solo5-ABI guest (it holds
   * its block and tap fds itself): nothing to serve once it runs, so its
   * helper can be the container's process, with no monitor (docs/oci.md).
   */
  standalone: boolean;
  /**
   * Wire the network and load the guest only when create asks, after its
   * hooks: a fresh namespace with a net device, whose interface the engine
   * puts there in a prestart hook (Docker's libnetwork-setkey). Set by create.
   */
  late?: boolean;
}

/** Mount types the runtimes add for ordinary containers; a unikernel has no filesystem to put them in. */
const IGNORED_TYPES = new Set(['proc', 'sysfs', 'tmpfs', 'devpts', 'mqueue', 'cgroup', 'cgroup2', 'shm']);
/** Bind mounts podman and containerd add by themselves (name resolution, hostname, markers). */
const IGNORED_BINDS = new Set([
  '/etc/hosts',
  '/etc/hostname',
  '/etc/resolv.conf',
  '/run/.containerenv',
  '/dev/shm',
  '/run/secrets',
  // kubelet's, for every container of a pod.
  '/dev/termination-log',
]);
/** Directories whose binds are ignored likewise: Kubernetes' service-account token and podman's secrets. */
const IGNORED_BIND_DIRS = ['/var/run/secrets/', '/run/secrets/'];
/** A bind mount here becomes block device NAME. */
export const BLOCK_MOUNT_DIR = '/solo5/block/';
/** Namespaces a seccomp-confined guest cannot observe: accepted and not created. */
const MOOT_NAMESPACES = new Set(['pid', 'ipc', 'uts', 'mount', 'cgroup', 'time']);

/**
 * A record keyed by device names, which come from the guest's manifest, the
 * annotations and mount destinations: without a prototype, `constructor` or
 * `__proto__` is a key like any other. A record, not a Map, because the plan
 * travels to the monitor as plan.json.
 */
function byName<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

function checkSpec(spec: Spec): void {
  const uid = spec.process.user?.uid ?? 0;
  if (uid !== (process.getuid?.() ?? 0)) throw new OciError(`process.user.uid: ${uid}: the guest runs as the runtime's own user`);
  for (const kind of Object.keys(spec.hooks ?? {})) {
    if (!(HOOK_PHASES as readonly string[]).includes(kind)) throw new OciError(`hooks.${kind}: not a hook phase this runtime knows`);
  }
  for (const ns of spec.linux?.namespaces ?? []) {
    if (ns.type === 'user') throw new OciError('linux.namespaces: a user namespace cannot be entered by the tender');
    if (ns.type !== 'network' && !MOOT_NAMESPACES.has(ns.type))
      throw new OciError(`linux.namespaces: '${quote(ns.type)}' is not a namespace solo5-oci knows`);
  }
  if ((spec.linux?.uidMappings ?? []).length > 0) throw new OciError('linux.uidMappings: user namespaces are not supported');
}

/** Block images named by mounts under /solo5/block/; every other mount is ignored or refused. */
function blockMounts(mounts: SpecMount[]): Map<string, string> {
  const out = new Map<string, string>();
  mounts.forEach((m, i) => {
    const type = m.type ?? (m.options?.includes('bind') || m.options?.includes('rbind') ? 'bind' : 'none');
    if (type !== 'bind') {
      if (IGNORED_TYPES.has(type)) return;
      throw new OciError(`mounts[${i}].type: '${quote(type)}' at ${m.destination} is not supported by a unikernel`);
    }
    if (IGNORED_BINDS.has(m.destination) || IGNORED_BIND_DIRS.some((d) => m.destination.startsWith(d))) return;
    if (m.destination.startsWith(BLOCK_MOUNT_DIR)) {
      out.set(m.destination.slice(BLOCK_MOUNT_DIR.length), m.source ?? '');
      return;
    }
    throw new OciError(
      `mounts[${i}]: a bind mount at ${m.destination} has nowhere to go (the unikernel has no filesystem; mount a raw image at ${BLOCK_MOUNT_DIR}NAME to attach block device NAME)`,
    );
  });
  return out;
}

function loadTarget(kernel: string, memMB: number, hypervisor: string | undefined): { elf: LoadedElf; target: Target } {
  const memSize = memMB * 1024 * 1024;
  if (hypervisor !== undefined && hypervisor !== 'spt' && hypervisor !== 'hvt') {
    throw new OciError(`annotations.${URUNC.hypervisor}: '${quote(hypervisor)}' is not supported (spt or hvt)`);
  }
  const kvm = (() => {
    try {
      fs.accessSync('/dev/kvm', fs.constants.R_OK | fs.constants.W_OK);
      return true;
    } catch {
      return false;
    }
  })();
  const tryLoad = (target: Target) => ({ elf: loadElf(kernel, { memSize, tender: target }), target });
  if (hypervisor === 'hvt' || (hypervisor === undefined && kvm)) {
    try {
      const r = tryLoad('hvt');
      if (!kvm) throw new OciError(`${kernel}: an hvt unikernel needs /dev/kvm, which is not usable on this host`);
      return r;
    } catch (e) {
      if (hypervisor === 'hvt') throw e;
    }
  }
  try {
    return tryLoad('spt');
  } catch (e) {
    if (!kvm) {
      try {
        loadElf(kernel, { memSize, tender: 'hvt' });
      } catch {
        throw e;
      }
      throw new OciError(`${kernel}: an hvt unikernel needs /dev/kvm, which is not usable on this host`);
    }
    throw e;
  }
}

function memoryOf(spec: Spec, u: Unikernel): number {
  if (u.memMB !== undefined) {
    if (u.memMB < 2 || u.memMB > MAX_MEM_MB)
      throw new OciError(`annotations.${OWN.mem}: ${u.memMB} MiB is out of range (2 to ${MAX_MEM_MB})`);
    return u.memMB;
  }
  const limit = spec.linux?.resources?.memory?.limit;
  if (limit === undefined || limit < 0) return Math.min(OCI_DEFAULT_MEM_MB, DEFAULT_MEM_MB);
  const mb = Math.floor(limit / (1024 * 1024));
  if (mb < 2) throw new OciError(`linux.resources.memory.limit: ${limit} bytes is below the 2 MiB a unikernel needs`);
  return Math.min(mb, MAX_MEM_MB);
}

/** Everything the monitor needs, decided before anything is started. */
export function planFromSpec(spec: Spec, bundle: string): Plan {
  checkSpec(spec);
  const rootfs = path.resolve(bundle, spec.root.path);
  const u = readUnikernel(spec.annotations ?? {}, rootfs);
  const binary = u.binary ?? spec.process.args[0];
  const kernel = inRootfs(rootfs, binary, u.binary !== undefined ? `annotations.${URUNC.binary}` : 'process.args[0]');
  const args = u.cmdline !== undefined ? (u.cmdline === '' ? [] : [u.cmdline]) : spec.process.args.slice(1);
  const memMB = memoryOf(spec, u);
  const { elf, target } = loadTarget(kernel, memMB, u.hypervisor);
  const mounted = blockMounts(spec.mounts ?? []);
  const declared = elf.manifest.devices;
  const onlyOf = (type: string) => {
    const all = declared.filter((d) => d.type === type);
    return all.length === 1 ? all[0].name : undefined;
  };
  const block: Plan['block'] = byName();
  const addBlock = (name: string, file: string) => {
    const sectorSize = u.sectorSizes.get(name);
    block[name] = sectorSize === undefined ? { path: file } : { path: file, sectorSize };
  };
  for (const [name, source] of mounted) addBlock(name, source);
  for (const [name, p] of u.blocks) addBlock(name, inRootfs(rootfs, p, `annotations.${OWN.blockPrefix}${name}`));
  if (u.block !== undefined) {
    const name = u.blockDevice ?? onlyOf('BLOCK_BASIC');
    if (name === undefined)
      throw new OciError(
        `annotations.${URUNC.block}: name the device with ${URUNC.blkDev} (the manifest declares ${declared.length} devices)`,
      );
    addBlock(name, inRootfs(rootfs, u.block, `annotations.${URUNC.block}`));
  }
  const net: Plan['net'] = byName();
  for (const [name, iface] of u.net) net[name] = iface;
  const defaultNet = u.netDevice ?? onlyOf('NET_BASIC');
  if (defaultNet !== undefined && !Object.hasOwn(net, defaultNet)) net[defaultNet] = 'eth0';
  const nsList = spec.linux?.namespaces ?? [];
  const netNs = nsList.find((n) => n.type === 'network');
  const netns = netNs === undefined ? 'host' : netNs.path !== undefined && netNs.path !== '' ? netNs.path : 'new';
  // A pod whose sandbox was deleted under it: its namespace is gone, and a guest started outside it would be lost.
  if (netns !== 'host' && netns !== 'new' && !fs.existsSync(netns))
    throw new OciError(`linux.namespaces: the network namespace ${netns} does not exist (was its pod sandbox removed?)`);
  const standalone = target === 'spt' && (elf.abi.kind === 'solo5' || declared.length === 0);
  return { kernel, args, memMB, target, block, net, netns, ipv4Args: u.ipv4Args, standalone };
}
