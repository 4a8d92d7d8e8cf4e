// seccomp-precompiled.test.ts: the build-time BPF table is used only while it matches its policy and compiler; a stale one is detected.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { compilePolicy, compileSptGuestPolicy, sptGuestPolicy, type Policy } from '../lib/seccomp';
import { compileHvtHelperPolicy, hvtHelperPolicy, hvtSolo5HelperPolicy, hvtSolo5PolicyKey } from '../lib/seccomp/hvt';
import {
  buildPrecompiledTable,
  COMPILER_MODULES,
  compilerFingerprint,
  openPrecompiled,
  precompiledPath,
  seccompDistDir,
} from '../lib/seccomp/precompiled';

/** The launch paths tools/bundle-cli.js precompiles, with the policy each key stands for. */
const launchPaths: [string, Policy][] = [
  ['spt:', sptGuestPolicy({ doorbellFds: [] })],
  ['spt:5,6', sptGuestPolicy({ doorbellFds: [5, 6] })],
  ['hvt:0', hvtHelperPolicy({ ndoorbells: 0 })],
  ['hvt:2', hvtHelperPolicy({ ndoorbells: 2 })],
  ...[
    { ndevfds: 0, blockFds: [], netFds: [] },
    { ndevfds: 1, blockFds: [5], netFds: [] },
    { ndevfds: 1, blockFds: [], netFds: [5] },
  ].map((o): [string, Policy] => [hvtSolo5PolicyKey(o), hvtSolo5HelperPolicy(o)]),
];

/** A private copy of the compiled seccomp modules and the table, which a test may then make stale. */
function copyOfDist(tt: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sn-precompiled-'));
  tt.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const f of fs.readdirSync(seccompDistDir)) fs.copyFileSync(path.join(seccompDistDir, f), path.join(dir, f));
  return dir;
}

t.test('the built table holds every launch path, each equal to a fresh compile', async (tt) => {
  // Read as built: this test never writes the table it checks.
  const table = openPrecompiled(precompiledPath, seccompDistDir);
  tt.equal(table.stale, undefined, 'the table matches the compiled modules');
  const stored = JSON.parse(fs.readFileSync(precompiledPath, 'utf8')) as { programs: Record<string, unknown> };
  tt.same(Object.keys(stored.programs).sort(), launchPaths.map(([k]) => k).sort(), 'exactly the launch paths');
  for (const [key, policy] of launchPaths) {
    tt.same(table.lookup(key, policy), compilePolicy(policy), `${key} is used, and is what the compiler emits now`);
  }
  tt.same(compileSptGuestPolicy({ doorbellFds: [5, 6] }), compilePolicy(launchPaths[1][1]), 'the spt launch path gets that program');
  tt.same(compileHvtHelperPolicy({ ndoorbells: 2 }), compilePolicy(launchPaths[3][1]), 'the hvt launch path gets that program');
});

t.test('the compiler fingerprint covers every module the compiler requires from its directory', async (tt) => {
  const seen = new Set<string>();
  const walk = (f: string): void => {
    if (seen.has(f)) return;
    seen.add(f);
    const src = fs.readFileSync(path.join(seccompDistDir, f), 'utf8');
    for (const m of src.matchAll(/require\("\.\/([^"]+)"\)/g)) walk(`${m[1]}.js`);
  };
  walk('compile.js');
  tt.same([...seen].sort(), [...COMPILER_MODULES].sort());
});

t.test('a changed compiler (a tsc-only build after an edit) makes every stored program stale', async (tt) => {
  const dir = copyOfDist(tt);
  const before = compilerFingerprint(dir);
  fs.appendFileSync(path.join(dir, 'compile.js'), '\n// an edited compiler\n');
  tt.not(compilerFingerprint(dir), before, 'the fingerprint follows the compiler text');
  const table = openPrecompiled(path.join(dir, 'precompiled.json'), dir);
  tt.match(table.stale, /compiled by other seccomp modules/);
  for (const [key, policy] of launchPaths) tt.equal(table.lookup(key, policy), undefined, `${key} is not used`);
});

t.test('a changed policy makes its stored program stale, and only that one', async (tt) => {
  const dir = copyOfDist(tt);
  const file = path.join(dir, 'precompiled.json');
  // The table as an older build wrote it: spt:5,6 compiled before a rule was narrowed.
  const old = sptGuestPolicy({ doorbellFds: [5, 6] });
  const now: Policy = { ...old, rules: old.rules.filter((r) => r.syscall !== 'exit_group') };
  const entries = launchPaths.map(([key, policy]) => ({ key, policy, bpf: compilePolicy(policy) }));
  fs.writeFileSync(file, buildPrecompiledTable(dir, entries));
  const table = openPrecompiled(file, dir);
  tt.equal(table.stale, undefined);
  tt.equal(table.lookup('spt:5,6', now), undefined, 'the program compiled from the old rules is refused');
  tt.same(table.lookup('spt:', launchPaths[0][1]), compilePolicy(launchPaths[0][1]), 'an unchanged policy is still served');
  tt.equal(table.lookup('spt:7,8', sptGuestPolicy({ doorbellFds: [7, 8] })), undefined, 'a key the table lacks');
  tt.equal(table.lookup('__proto__', now), undefined, 'no inherited keys');
});

t.test('a table in the old format, a garbled one or none at all is stale, without throwing', async (tt) => {
  const dir = copyOfDist(tt);
  const file = path.join(dir, 'precompiled.json');
  // The shape before fingerprints: key to base64, nothing to check it against.
  fs.writeFileSync(file, JSON.stringify(Object.fromEntries(launchPaths.map(([k, p]) => [k, compilePolicy(p).toString('base64')]))));
  tt.match(openPrecompiled(file, dir).stale, /not a format \d+ table/);
  tt.equal(openPrecompiled(file, dir).lookup('spt:', launchPaths[0][1]), undefined);
  fs.writeFileSync(file, '{"format": 2, "compiler": ');
  tt.match(openPrecompiled(file, dir).stale, /precompiled\.json: /);
  fs.rmSync(file);
  tt.match(openPrecompiled(file, dir).stale, /ENOENT/);
  tt.equal(openPrecompiled(file, dir).lookup('spt:', launchPaths[0][1]), undefined);
});
