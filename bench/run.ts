// run.ts: `npm run bench`: every benchmark, one table with medians and ratios against floors.
import { bootRows } from './boot';
import { blockRows, rttRows, switchThroughputRows, tapThroughputRows } from './devices';
import { printTable, type Row } from './stats';

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
  if (want('block')) await section('block', rows, () => blockRows('spt'));
  if (want('switch')) await section('switch', rows, () => switchThroughputRows('spt'));
  if (want('rtt')) await section('rtt', rows, () => rttRows('spt'));
  if (want('tap')) await section('tap', rows, () => tapThroughputRows('spt'));
  const ok = printTable(rows);
  if (!ok) console.log('\nSome targets were missed (see the ok column).');
  return 0;
}

void main().then((code) => process.exit(code));
