// cli-bundle.test.ts: the CLI bundles written by tools/bundle-cli.js load with their code caches, and a stale one is refused.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { OCI_BUNDLE, TENDER_BUNDLE, cacheOf, loadBundle, type BundleSpec } from '../lib/cli/fast-load';

const bundles: [string, BundleSpec, string[]][] = [
  ['tender', TENDER_BUNDLE, ['main', 'versionText']],
  ['oci', OCI_BUNDLE, ['main', 'monitor', 'takeTerminal']],
];

for (const [name, spec, names] of bundles) {
  t.test(
    `the ${name} bundle loads with its code cache`,
    { skip: !fs.existsSync(spec.bundle) && `${spec.bundle} is not built (npm run build:ts)` },
    async (t) => {
      t.ok(fs.existsSync(cacheOf(spec)), 'the cache is beside it');
      const loaded = loadBundle<Record<string, unknown>>(spec);
      if (loaded === undefined) return t.fail('the bundle is older than its entry module (tsc ran without tools/bundle-cli.js)');
      t.equal(loaded.script.cachedDataRejected, false, 'V8 accepted the code cache');
      for (const n of names) t.type(loaded.exports[n], 'function', `exports ${n}()`);
    },
  );
}

t.test('a bundle older than its entry module is not used', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'solo5-bundle-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const spec = { bundle: path.join(dir, 'x-bundle.js'), entry: path.join(dir, 'entry.js') };
  fs.writeFileSync(spec.bundle, 'module.exports.main = () => 1;\n');
  fs.writeFileSync(spec.entry, '');
  const past = new Date(Date.now() - 60_000);
  fs.utimesSync(spec.entry, past, past);
  t.equal(loadBundle<{ main(): number }>(spec)?.exports.main(), 1, 'a fresh bundle is used (no cache: compiled from source)');
  fs.utimesSync(spec.entry, new Date(), new Date());
  fs.utimesSync(spec.bundle, past, past);
  t.equal(loadBundle(spec), undefined, 'a stale one is not');
  t.equal(loadBundle({ bundle: path.join(dir, 'none.js'), entry: spec.entry }), undefined, 'nor a missing one');
});
