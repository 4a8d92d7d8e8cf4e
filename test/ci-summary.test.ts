// ci-summary.test.ts: .ci/summary.js counts leaves of tap's saved TAP, names each suite's skips and their reason, and counts crashed suites.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { root } from './support/paths';

const summary = path.join(root, '.ci', 'summary.js');

/** Runs the summary over `files` (name -> TAP text) and a top-level log; returns its output lines. */
function summarize(tt: { teardown(fn: () => void): void }, files: Record<string, string>, log = ''): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sn-ci-summary-'));
  tt.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'results', 'dist', 'test'), { recursive: true });
  for (const [name, text] of Object.entries(files))
    fs.writeFileSync(path.join(dir, 'results', 'dist', 'test', `${name}.test.js.tap`), text);
  fs.writeFileSync(path.join(dir, 'log'), log);
  const r = spawnSync(process.execPath, [summary, path.join(dir, 'results'), path.join(dir, 'log')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`summary.js exited ${r.status}: ${r.stderr}`);
  return r.stdout.trim().split('\n');
}

const nested = `TAP version 14
# Subtest: a group
    ok 1 - first
    not ok 2 - second
      ---
      at: somewhere
      ...
    ok 3 - third # time=2ms
    1..3
not ok 1 - a group # time=10ms
ok 2 - kvm things # SKIP no /dev/kvm on this host
ok 3 - more kvm things # SKIP no /dev/kvm on this host
ok 4 - a plain one
1..4
`;

t.test('leaves only: a subtest and its assertions are not counted twice; YAML does not look like nesting', async (tt) => {
  const out = summarize(tt, { hvt: nested });
  tt.equal(out.at(-1), 'tests: 3 passed, 1 failed, 2 skipped');
  tt.ok(out.includes('hvt: 2 skipped, no /dev/kvm on this host'), 'the suite and the reason are named');
  tt.ok(out.includes('hvt: 1 failed'));
});

t.test('a file that skips itself, and a suite that crashed without a failing point', async (tt) => {
  const out = summarize(
    tt,
    { tap: '1..0 # SKIP needs root\n', crash: 'TAP version 14\nok 1 - fine\n' },
    'ok 1 - dist/test/tap.test.js\nnot ok 2 - dist/test/crash.test.js # time=3ms\n',
  );
  tt.ok(out.includes('tap: 1 skipped, needs root'));
  tt.ok(out.includes('failed suites: crash'));
  tt.equal(out.at(-1), 'tests: 1 passed, 1 failed, 1 skipped', 'a crashed suite counts as a failure');
});

t.test('no results at all is said, and counts nothing', async (tt) => {
  const out = summarize(tt, {});
  tt.match(out.join('\n'), /no TAP results in .*: the tests did not run/);
  tt.equal(out.at(-1), 'tests: 0 passed, 0 failed, 0 skipped');
});
