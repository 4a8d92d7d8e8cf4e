// run.ts: `npm run bench`: every benchmark, one table with medians and ratios against floors.
import { bootRows } from './boot';
import { printTable, type Row } from './stats';

async function main(): Promise<number> {
  const n = Number(process.env.BENCH_N ?? 60);
  const rows: Row[] = [];
  rows.push(...(await bootRows(n)));
  const ok = printTable(rows);
  if (!ok) console.log('\nSome targets were missed (see the ok column).');
  return 0;
}

void main().then((code) => process.exit(code));
