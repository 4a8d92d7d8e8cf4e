// network.ts: wire a guest net device to an interface of the container's network namespace (tap + tc redirect).
import { spawnSync } from 'node:child_process';
import { OciError } from './errors';

export interface Wired {
  device: string;
  iface: string;
  tap: string;
  /** The interface's MAC: frames for the container's address arrive addressed to it. */
  mac: string;
  mtu: number;
  /** ADDR/PREFIX and gateway of the interface, for MirageOS-style --ipv4= arguments. */
  ipv4?: string;
  gateway?: string;
}

function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8' });
  if (r.error) throw new OciError(`network: cannot run ${cmd}: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`);
  if (r.status !== 0) {
    const why = (r.stderr || r.stdout).trim().split('\n')[0] ?? '';
    throw new OciError(`network: ${cmd} ${args.join(' ')} failed: ${why}`);
  }
  return r.stdout;
}

interface IpAddr {
  ifname: string;
  address?: string;
  mtu?: number;
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

/** What the namespace's interface looks like; refuses a missing interface in one line. */
function probe(iface: string): { mac: string; mtu: number; ipv4?: string; gateway?: string } {
  const r = spawnSync('ip', ['-j', 'addr', 'show', 'dev', iface], { encoding: 'utf8' });
  if (r.status !== 0) throw new OciError(`network: the container's network namespace has no interface ${iface}`);
  const info = (JSON.parse(r.stdout) as IpAddr[])[0];
  if (info?.address === undefined) throw new OciError(`network: interface ${iface} has no MAC address`);
  const v4 = info.addr_info?.find((a) => a.family === 'inet');
  const routes = JSON.parse(run('ip', ['-j', 'route', 'show', 'default'])) as { dev?: string; gateway?: string }[];
  const gw = routes.find((x) => x.dev === iface)?.gateway;
  return {
    mac: info.address,
    mtu: info.mtu ?? 1500,
    ipv4: v4 ? `${v4.local}/${v4.prefixlen}` : undefined,
    gateway: gw,
  };
}

/**
 * Make a tap beside each interface and redirect every frame between them with tc,
 * as urunc does: the interface's traffic now reaches the guest, which answers as
 * the interface (its MAC and address). Runs inside the container's namespace.
 */
export function wireNetwork(net: Record<string, string>): Wired[] {
  const wired: Wired[] = [];
  try {
    Object.entries(net).forEach(([device, iface], i) => {
      const p = probe(iface);
      const tap = `snoci${i}`;
      run('ip', ['-b', '-'], `tuntap add dev ${tap} mode tap\nlink set dev ${tap} mtu ${p.mtu} up\n`);
      wired.push({ device, iface, tap, ...p });
      const redirect = (from: string, to: string) =>
        `qdisc add dev ${from} ingress\nfilter add dev ${from} parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev ${to}\n`;
      run('tc', ['-b', '-'], redirect(iface, tap) + redirect(tap, iface));
    });
  } catch (e) {
    unwireNetwork(wired);
    throw e;
  }
  return wired;
}

/** Undo wireNetwork; errors are ignored (the namespace may already be gone). */
export function unwireNetwork(wired: Wired[]): void {
  for (const w of wired) {
    spawnSync('tc', ['qdisc', 'del', 'dev', w.iface, 'ingress'], { stdio: 'ignore' });
    spawnSync('ip', ['link', 'del', 'dev', w.tap], { stdio: 'ignore' });
  }
}

/** MirageOS's way of telling a unikernel its address: --ipv4=ADDR/PREFIX --ipv4-gateway=GW. */
export function ipv4Args(wired: Wired[]): string[] {
  const first = wired.find((w) => w.ipv4 !== undefined);
  if (first === undefined) return [];
  return [`--ipv4=${first.ipv4}`, ...(first.gateway !== undefined ? [`--ipv4-gateway=${first.gateway}`] : [])];
}
