// annotations.ts: urunc's com.urunc.unikernel.* keys, solo5-oci's own org.solo5-node.* keys, and urunc.json.
import fs from 'node:fs';
import path from 'node:path';
import { OciError } from './errors';
import { readOciJson } from './spec';
import { quote } from '../quote';

/** urunc's keys, read so that images built for urunc run unchanged. */
export const URUNC = {
  binary: 'com.urunc.unikernel.binary',
  cmdline: 'com.urunc.unikernel.cmdline',
  hypervisor: 'com.urunc.unikernel.hypervisor',
  type: 'com.urunc.unikernel.unikernelType',
  block: 'com.urunc.unikernel.block',
  blkMntPoint: 'com.urunc.unikernel.blkMntPoint',
  blkDev: 'com.urunc.unikernel.solo5BlkDev',
  netDev: 'com.urunc.unikernel.solo5NetDev',
} as const;

/** solo5-oci's own keys (docs/oci.md). */
export const OWN = {
  mem: 'org.solo5-node.mem',
  netPrefix: 'org.solo5-node.net.',
  blockPrefix: 'org.solo5-node.block.',
  sectorPrefix: 'org.solo5-node.block-sector-size.',
  ipv4Args: 'org.solo5-node.ipv4-args',
} as const;

export interface Unikernel {
  binary?: string;
  cmdline?: string;
  hypervisor?: string;
  /** Path in the rootfs of the block image urunc attaches, and the manifest device it goes to. */
  block?: string;
  blockDevice?: string;
  netDevice?: string;
  memMB?: number;
  /** NAME -> interface in the container's network namespace. */
  net: Map<string, string>;
  /** NAME -> path in the rootfs (or a mount destination) of a raw image. */
  blocks: Map<string, string>;
  sectorSizes: Map<string, number>;
  ipv4Args: boolean;
}

const NAME_RE = /^[A-Za-z0-9]{1,67}$/;

/**
 * A path inside the rootfs, refusing anything (.., symlinks) that leads outside
 * it: the image is untrusted, and the runtime often runs as root. The kernel,
 * block images and urunc.json are all found through this one function.
 */
export function inRootfs(rootfs: string, p: string, what: string): string {
  let realRoot: string;
  try {
    realRoot = fs.realpathSync(rootfs);
  } catch (e) {
    throw new OciError(`${what}: the rootfs ${rootfs} cannot be resolved (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let real: string;
  try {
    real = fs.realpathSync(path.join(realRoot, p));
  } catch {
    throw new OciError(`${what}: ${p} does not exist in the image`);
  }
  if (real !== realRoot && !real.startsWith(`${realRoot}/`)) throw new OciError(`${what}: ${p} leads outside the image`);
  return real;
}

/**
 * urunc.json at the top of the rootfs carries the same urunc keys with base64
 * values, for engines (Docker) that do not pass image annotations down.
 */
function uruncJson(rootfs: string): Map<string, string> {
  const out = new Map<string, string>();
  // lstat, not exists: a dangling link is not 'no urunc.json', and a link to a host file is probed no further.
  try {
    fs.lstatSync(path.join(rootfs, 'urunc.json'));
  } catch {
    return out; // no urunc.json (or no rootfs, which the kernel's inRootfs reports)
  }
  const file = inRootfs(rootfs, 'urunc.json', 'urunc.json in the image');
  const json = readOciJson(file, 'urunc.json in the image');
  if (typeof json !== 'object' || json === null) throw new OciError('urunc.json in the image: not a JSON object');
  for (const [k, v] of Object.entries(json)) {
    if (typeof v !== 'string') throw new OciError(`urunc.json in the image: ${k}: not a string`);
    out.set(k, Buffer.from(v, 'base64').toString('utf8'));
  }
  return out;
}

/** Annotations win over urunc.json; malformed values of our own keys are refused in one line. */
export function readUnikernel(annotations: Record<string, string>, rootfs: string): Unikernel {
  // Keys and values are the image's and the user's: a Map, so no key is ever looked up on a prototype.
  const a = new Map([...uruncJson(rootfs), ...Object.entries(annotations)]);
  const u: Unikernel = { net: new Map(), blocks: new Map(), sectorSizes: new Map(), ipv4Args: true };
  const pick = (k: string) => (a.get(k) !== '' ? a.get(k) : undefined);
  u.binary = pick(URUNC.binary);
  u.cmdline = a.get(URUNC.cmdline);
  u.hypervisor = pick(URUNC.hypervisor);
  u.block = pick(URUNC.block);
  u.blockDevice = pick(URUNC.blkDev);
  u.netDevice = pick(URUNC.netDev);
  const mem = pick(OWN.mem);
  if (mem !== undefined) {
    if (!/^[0-9]+$/.test(mem)) throw new OciError(`annotations.${OWN.mem}: '${quote(mem)}' is not a size in MiB`);
    u.memMB = Number(mem);
  }
  const ipv4 = pick(OWN.ipv4Args);
  if (ipv4 !== undefined) {
    if (ipv4 !== 'true' && ipv4 !== 'false') throw new OciError(`annotations.${OWN.ipv4Args}: '${quote(ipv4)}' is not true or false`);
    u.ipv4Args = ipv4 === 'true';
  }
  for (const [k, v] of a) {
    for (const [prefix, into] of [
      [OWN.netPrefix, 'net'],
      [OWN.blockPrefix, 'blocks'],
      [OWN.sectorPrefix, 'sector'],
    ] as const) {
      if (!k.startsWith(prefix)) continue;
      const name = k.slice(prefix.length);
      if (!NAME_RE.test(name)) throw new OciError(`annotations.${k}: '${quote(name)}' is not a device name (1 to 67 letters and digits)`);
      if (v === '') throw new OciError(`annotations.${k}: a value is required`);
      if (into === 'net') u.net.set(name, v);
      else if (into === 'blocks') u.blocks.set(name, v);
      else {
        if (!/^[0-9]+$/.test(v)) throw new OciError(`annotations.${k}: '${quote(v)}' is not a number`);
        u.sectorSizes.set(name, Number(v));
      }
    }
  }
  return u;
}
