// passt-devices.ts: the launch-time side of passt devices: wait for their reports, fill in placeholders, report failures once.
import type { TenderLog } from '../log';
import { formatMac } from './mac';
import type { PasstProcess } from './passt';
import { expandPlaceholders, type NetInfo } from './passt-placeholders';
import { describePasstInfo } from './passt-report';

export interface NetDevicesView {
  attach: ReadonlyMap<string, { net?: { mac: Buffer; mtu: number } }>;
  passt: ReadonlyMap<string, PasstProcess>;
}

/**
 * Wait until every passt of this guest has reported (rejects with the first
 * failure; the caller releases them all), log what each offers, and return
 * what the tender knows of each net device.
 */
export async function passtReports(devices: NetDevicesView, log: TenderLog): Promise<Map<string, NetInfo>> {
  const nets = new Map<string, NetInfo>();
  for (const [name, a] of devices.attach) {
    if (a.net) nets.set(name, { mac: formatMac(a.net.mac), mtu: a.net.mtu });
  }
  const entries = [...devices.passt];
  const infos = await Promise.all(entries.map(([, p]) => p.ready));
  entries.forEach(([name, p], i) => {
    const info = infos[i];
    nets.get(name)!.passt = info;
    log.info({ device: name, passt: info }, `${name}: passt gives the guest ${describePasstInfo(info)}`);
    watchPasst(name, p, log);
  });
  return nets;
}

/** The guest's command line with its `{NAME.FIELD}` placeholders filled in. */
export function guestCmdline(cmdline: string, nets: ReadonlyMap<string, NetInfo>): string {
  return expandPlaceholders(cmdline, nets);
}

/** Why each passt device's link failed, as the broker said it (the one line waits for passt's exit). */
const linkFailures = new WeakMap<PasstProcess, string>();

/**
 * A passt that ends while the guest runs takes its device down with one
 * warning, and the guest keeps running; an end the tender asked for is not
 * news.
 */
function watchPasst(name: string, p: PasstProcess, log: TenderLog): void {
  void p.exited.then((e) => {
    if (p.stopping) return;
    const how = e.code !== null ? `exited with status ${e.code}` : `was killed by ${e.signal ?? 'a signal'}`;
    const link = linkFailures.get(p);
    const said = e.last !== undefined ? ` (its last log line: ${e.last})` : '';
    const broke = link !== undefined ? `; its link: ${link}` : '';
    log.warn(
      { device: name, passt: { pid: p.pid, code: e.code, signal: e.signal, last: e.last }, link },
      `${name}: passt ${how}${said}${broke}; the device is down, the guest keeps running`,
    );
  });
}

/**
 * The broker's report that a passt device's link failed (end of stream, or
 * a frame it refused). passt is ended if it still runs, and its exit makes
 * the one log line. Returns false for a device that is not passt's.
 */
export function passtLinkFailed(devices: NetDevicesView, name: string, message: string): boolean {
  const p = devices.passt.get(name);
  if (p === undefined) return false;
  if (!linkFailures.has(p)) linkFailures.set(p, message);
  // Ending passt here is ours to do but not the tender's stop: the exit still gets its line.
  p.kill();
  return true;
}
