// stats.ts: timing helpers and the results table shared by every benchmark.

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** Milliseconds since an arbitrary origin, sub-microsecond resolution. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Run `fn` `warmup` times unmeasured, then `n` times measured; returns per-run milliseconds. */
export async function sample(n: number, warmup: number, fn: () => Promise<void> | void): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = nowMs();
    await fn();
    out.push(nowMs() - t0);
  }
  return out;
}

export interface Row {
  name: string;
  unit: string;
  value: number;
  floorName: string;
  floor: number;
  /** 'ratio' compares value/floor, 'diff' compares value-floor. */
  compare: 'ratio' | 'diff';
  /** Target: the ratio or difference must be at most this (or at least, for 'min'); undefined: reported only. */
  target?: number;
  direction?: 'max' | 'min';
  /** A row that could not be measured here: printed with this reason instead of figures. */
  note?: string;
}

/** A row that says why it has no figures, so that it does not vanish from the table. */
export function notRun(name: string, why: string): Row {
  return { name, unit: '', value: NaN, floorName: '-', floor: NaN, compare: 'ratio', note: `not run: ${why}` };
}

function fmt(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

/** Print the table; returns false when some target was missed. */
export function printTable(rows: Row[]): boolean {
  const head = ['benchmark', 'median', 'floor', 'floor median', 'measure', 'target', 'ok'];
  const body = rows.map((r) => {
    if (r.note !== undefined) return [r.name, '-', '-', '-', r.note, '-', '-'];
    const measure = r.compare === 'ratio' ? r.value / r.floor : r.value - r.floor;
    const dir = r.direction ?? 'max';
    const ok = r.target === undefined ? undefined : dir === 'max' ? measure <= r.target : measure >= r.target;
    const m = r.compare === 'ratio' ? `${measure.toFixed(2)}x` : `${measure >= 0 ? '+' : ''}${fmt(measure)} ${r.unit}`;
    const tg =
      r.target === undefined ? '-' : `${dir === 'max' ? '<=' : '>='} ${r.compare === 'ratio' ? `${r.target}x` : `+${r.target} ${r.unit}`}`;
    return [
      r.name,
      `${fmt(r.value)} ${r.unit}`,
      r.floorName,
      `${fmt(r.floor)} ${r.unit}`,
      m,
      tg,
      ok === undefined ? '-' : ok ? 'yes' : 'NO',
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const b of body) console.log(line(b));
  return body.every((b) => b[6] !== 'NO');
}
