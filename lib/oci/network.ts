// network.ts: wire a guest net device to an interface of the container's network namespace (tap + tc redirect).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
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

/*
 * Engines run the runtime with a bare environment: podman calls `delete` with
 * no PATH at all, where execvp's default (/bin:/usr/bin) misses tc in
 * /usr/sbin; the delete then removed the tap (ip is in /usr/bin) and left
 * eth0's redirect to it behind. Every command completes PATH with the sbin
 * directories first thing (cli.ts), so every tool, and the monitor it starts,
 * finds them.
 */
const TOOL_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** PATH as the caller gave it (runc gets it back unchanged), before completePath. */
let callerPath: string | undefined;

/** Add the directories ip, tc, nsenter and runc live in to this process's PATH (its children inherit it). */
export function completePath(): void {
  callerPath = process.env.PATH;
  const have = (callerPath ?? '').split(':').filter((d) => d !== '');
  process.env.PATH = [...have, ...TOOL_DIRS.filter((d) => !have.includes(d))].join(':');
}

/** Put PATH back as the caller gave it (before exec'ing runc, which gets the caller's environment). */
export function restorePath(): void {
  if (callerPath === undefined) delete process.env.PATH;
  else process.env.PATH = callerPath;
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
      repairStale(iface, tap);
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

/** The commands that undo one wired device; `prefix` runs them in another namespace (nsenter). */
function unwireCommands(w: Pick<Wired, 'iface' | 'tap'>): string[][] {
  // The redirect first: a redirect to a device that is gone blackholes the interface.
  return [
    ['tc', 'qdisc', 'del', 'dev', w.iface, 'ingress'],
    ['ip', 'link', 'del', 'dev', w.tap],
  ];
}

/** Undo wireNetwork in this namespace; errors are ignored (the namespace may already be gone). */
export function unwireNetwork(wired: Pick<Wired, 'iface' | 'tap'>[]): void {
  for (const w of wired) for (const [cmd, ...args] of unwireCommands(w)) spawnSync(cmd, args, { stdio: 'ignore' });
}

/** Undo wireNetwork from outside, in the namespace at `netns` (delete, once the container's processes are gone). */
export function unwireIn(netns: string, wired: Pick<Wired, 'iface' | 'tap'>[]): void {
  for (const w of wired) for (const c of unwireCommands(w)) spawnSync('nsenter', [`--net=${netns}`, '--', ...c], { stdio: 'ignore' });
}

/**
 * Undo what network.json (written by create's side once wired) records, in
 * the namespace plan.json names: for delete, and for a create that failed
 * after its monitor or helper was killed. A fresh namespace died with the
 * container; nothing to do there.
 */
export function unwireRecorded(dir: string): void {
  let netns: string;
  let wired: Wired[];
  try {
    netns = (JSON.parse(fs.readFileSync(path.join(dir, 'plan.json'), 'utf8')) as { netns: string }).netns;
    wired = JSON.parse(fs.readFileSync(path.join(dir, 'network.json'), 'utf8')) as Wired[];
  } catch {
    return;
  }
  if (netns === 'new' || netns === 'host' || !fs.existsSync(netns)) return;
  unwireIn(netns, wired);
}

/**
 * Undo what network.json records through the namespace of `pid`, a monitor
 * about to be SIGKILLed: it cannot undo it then, and a fresh namespace that
 * the engine keeps (Docker's) has no path delete could enter afterwards.
 */
export function unwireVia(dir: string, pid: number): void {
  let wired: Wired[];
  try {
    wired = JSON.parse(fs.readFileSync(path.join(dir, 'network.json'), 'utf8')) as Wired[];
  } catch {
    return;
  }
  unwireIn(`/proc/${pid}/ns/net`, wired);
}

interface TcFilter {
  options?: { actions?: { kind?: string; to_dev?: string }[] };
}

/**
 * A network namespace outlives its containers (a Kubernetes pod's, podman's
 * --network ns:): if an earlier container here was SIGKILLed with its runtime,
 * eth0 may still redirect to its tap. That is repaired when the redirect
 * points at this runtime's tap name and no process holds that tap (it is
 * gone, or has no carrier); any other ingress qdisc is someone else's and
 * refused in one line rather than taken over.
 */
function repairStale(iface: string, tap: string): void {
  const qd = spawnSync('tc', ['-j', 'qdisc', 'show', 'dev', iface, 'ingress'], { encoding: 'utf8' });
  if (qd.status !== 0 || !/"kind":\s*"ingress"/.test(qd.stdout)) return;
  const f = spawnSync('tc', ['-j', 'filter', 'show', 'dev', iface, 'ingress'], { encoding: 'utf8' });
  let targets: string[] = [];
  try {
    targets = (JSON.parse(f.stdout || '[]') as TcFilter[]).flatMap((x) => (x.options?.actions ?? []).map((a) => a.to_dev ?? ''));
  } catch {
    targets = [];
  }
  // A tap has carrier while a process holds it open; ours are always up, so a down one is held by no guest of ours.
  const link = spawnSync('ip', ['-j', 'link', 'show', 'dev', tap], { encoding: 'utf8' });
  const held = link.status === 0 && link.stdout.includes('"UP"') && !link.stdout.includes('NO-CARRIER');
  // tc shows a redirect to a device that was deleted as `*`.
  if (targets.length > 0 && targets.every((d) => d === tap || d === '*') && !held) {
    unwireNetwork([{ iface, tap }]);
    return;
  }
  throw new OciError(
    `network: ${iface} already has an ingress qdisc${targets.length > 0 ? ` redirecting to ${targets.join(', ')}` : ''} (another container or tool uses it); remove it with: tc qdisc del dev ${iface} ingress`,
  );
}

/** MirageOS's way of telling a unikernel its address: --ipv4=ADDR/PREFIX --ipv4-gateway=GW. */
export function ipv4Args(wired: Wired[]): string[] {
  const first = wired.find((w) => w.ipv4 !== undefined);
  if (first === undefined) return [];
  return [`--ipv4=${first.ipv4}`, ...(first.gateway !== undefined ? [`--ipv4-gateway=${first.gateway}`] : [])];
}
