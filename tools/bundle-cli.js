// bundle-cli.js: after tsc, bundle the tender CLI and solo5-oci into one file each (dist/lib/*-bundle.js) with V8 code caches.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');
const fastLoad = require(path.join(root, 'dist', 'lib', 'cli', 'fast-load.js'));

function bundle(spec, warm) {
  esbuild.buildSync({
    entryPoints: [spec.entry],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: spec.bundle,
    // Loaded lazily, only when a log line is emitted or a JSON manifest parsed.
    external: ['pino', 'pino-pretty', 'zod'],
    logLevel: 'warning',
  });
  const cache = fastLoad.cacheOf(spec);
  fs.rmSync(cache, { force: true });
  const loaded = fastLoad.loadBundle(spec, false);
  warm?.(loaded.exports);
  fs.writeFileSync(cache, loaded.script.createCachedData());
}
bundle(fastLoad.TENDER_BUNDLE);
bundle(fastLoad.OCI_BUNDLE, (oci) => oci.preload());

// The BPF programs the launch paths use, compiled now rather than in every cold
// CLI process; each carries fingerprints of its policy and of the compiler, which
// lib/seccomp/precompiled.ts compares at load, so a stale table is never used.
const seccomp = require(path.join(root, 'dist', 'lib', 'seccomp', 'index.js'));
const hvt = require(path.join(root, 'dist', 'lib', 'seccomp', 'hvt.js'));
const pre = require(path.join(root, 'dist', 'lib', 'seccomp', 'precompiled.js'));
fs.rmSync(pre.precompiledPath, { force: true });
const entries = [];
const add = (key, policy) => entries.push({ key, policy, bpf: seccomp.compilePolicy(policy) });
for (const fds of [[], [5, 6]]) add(`spt:${fds.join(',')}`, seccomp.sptGuestPolicy({ doorbellFds: fds }));
for (const nd of [0, 2]) add(`hvt:${nd}`, hvt.hvtHelperPolicy({ ndoorbells: nd }));
// Upstream's hvt guests: no device, one block image, one net device.
for (const o of [
  { ndevfds: 0, blockFds: [], netFds: [] },
  { ndevfds: 1, blockFds: [5], netFds: [] },
  { ndevfds: 1, blockFds: [], netFds: [5] },
])
  add(hvt.hvtSolo5PolicyKey(o), hvt.hvtSolo5HelperPolicy(o));
fs.writeFileSync(pre.precompiledPath, pre.buildPrecompiledTable(pre.seccompDistDir, entries));
