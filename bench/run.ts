// run.ts: `npm run bench`: every benchmark, one table with medians and ratios against floors.
import { bootRows } from './boot';
import { blockRows, rttRows, switchThroughputRows, tapThroughputRows } from './devices';
import { againstSpt, hvtBootRows, hvtUnavailable } from './hvt';
import { criRows, criUnavailable } from './cri';
import { ociRows, ociUnavailable } from './oci';
import { inPlaceBootRows, inPlaceRssRows } from './inplace';
import { passtRows } from './passt';
import { solo5BlockRows, solo5BootRows, solo5TapRows } from './solo5';
import { hvtRingRows } from './hvtring';
import { printTable, type Row } from './stats';
import { virtioBootRows, virtioUnavailable } from './virtio';

async function section(name: string, rows: Row[], f: () => Promise<Row[]>): Promise<void> {
  try {
    rows.push(...(await f()));
  } catch (e) {
    console.log(`(${name} failed: ${(e as Error).message})`);
  }
}

async function main(): Promise<number> {
  const n = Number(process.env.BENCH_N ?? 60);
  const only = process.env.BENCH_ONLY;
  const rows: Row[] = [];
  const want = (s: string) => !only || only.split(',').includes(s);
  if (want('boot')) await section('boot', rows, () => bootRows(n));
  const spt: Row[] = [];
  if (want('block')) await section('block', spt, () => blockRows('spt'));
  if (want('switch')) await section('switch', spt, () => switchThroughputRows('spt'));
  rows.push(...spt);
  if (want('rtt')) await section('rtt', rows, () => rttRows('spt'));
  if (want('tap')) await section('tap', rows, () => tapThroughputRows('spt'));
  if (want('switchd')) await section('switchd', rows, () => import('./switchd.js').then((m) => m.switchdRows()));
  if (want('switchd-memory')) await section('switchd memory', rows, () => import('./switchd-memory.js').then((m) => m.switchdMemoryRows()));
  if (want('solo5')) {
    await section('solo5 boot', rows, () => solo5BootRows(n));
    await section('solo5 block', rows, () => solo5BlockRows());
    await section('solo5 ping -f', rows, () => solo5TapRows(Number(process.env.BENCH_PINGS ?? 100_000)));
  }
  if (want('inplace')) {
    await section('solo5-spt in place, launch', rows, () => inPlaceBootRows(n));
    await section('solo5-spt in place, RSS', rows, () => inPlaceRssRows());
  }
  if (want('virtio')) {
    const why = virtioUnavailable();
    if (why !== undefined) console.log(`(virtio rows skipped: ${why})`);
    else await section('virtio boot', rows, () => virtioBootRows(Math.min(n, 20)));
  }
  if (want('passt')) await section('passt', rows, () => passtRows(Number(process.env.BENCH_ECHOES ?? 2000)));
  const noHvt = hvtUnavailable();
  if (noHvt) {
    console.log(`(hvt columns skipped: ${noHvt})`);
  } else {
    if (want('boot')) await section('hvt boot', rows, () => hvtBootRows(n));
    const hvt: Row[] = [];
    if (want('block')) await section('hvt block', hvt, () => blockRows('hvt'));
    if (want('switch')) await section('hvt switch', hvt, () => switchThroughputRows('hvt'));
    rows.push(...againstSpt(hvt, spt));
    if (want('rtt')) await section('hvt rtt', rows, () => rttRows('hvt'));
    if (want('hvtring')) await section('hvt ping -f', rows, () => hvtRingRows(Number(process.env.BENCH_PINGS ?? 100_000)));
  }
  const noOci = want('oci') ? ociUnavailable() : 'not selected';
  if (noOci === undefined) await section('oci', rows, () => ociRows(Math.min(n, 15)));
  else if (want('oci')) console.log(`(oci row skipped: ${noOci})`);
  const noCri = want('cri') ? criUnavailable() : 'not selected';
  if (noCri === undefined) await section('cri', rows, () => criRows(Math.min(n, 7)));
  else if (want('cri')) console.log(`(cri row skipped: ${noCri})`);
  const ok = printTable(rows);
  if (!ok) console.log('\nSome targets were missed (see the ok column).');
  return 0;
}

void main().then((code) => process.exit(code));
