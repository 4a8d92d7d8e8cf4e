// report.ts: the solo5-switch counter report: one line per port for people, or one JSON object for machines.
import type { SwitchdStats } from './native';

/** One line per port, then one for the switch; or (json) the whole of it as one line of JSON. */
export function formatStats(s: SwitchdStats, json: boolean): string {
  if (json) return `${JSON.stringify({ time: new Date().toISOString(), ...s })}\n`;
  const lines = s.ports.map(
    (p) =>
      `port ${p.port} pid ${p.pid} uid ${p.uid} ${p.open ? 'open' : 'closed'}: ` +
      `rx ${p.rxPackets} pkts ${p.rxBytes} bytes ${p.rxDropped} dropped, ` +
      `tx ${p.txPackets} pkts ${p.txBytes} bytes ${p.txDropped} dropped` +
      (p.closed ? ` (${p.closed})` : ''),
  );
  const w = s.switch;
  lines.push(
    `switch: ${s.ports.filter((p) => p.open).length} ports open, ${w.macs} MACs, ${w.forwarded} forwarded, ` +
      `${w.flooded} flooded, ${w.droppedFiltered} filtered, ${w.droppedMtu} bad size, ${w.aged} aged out`,
  );
  return `${lines.join('\n')}\n`;
}
