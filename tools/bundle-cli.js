// bundle-cli.js: after tsc, bundle the tender CLI into dist/lib/cli-bundle.js and write its V8 code cache.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'dist', 'lib', 'cli-bundle.js');
esbuild.buildSync({
  entryPoints: [path.join(root, 'dist', 'lib', 'cli', 'tender.js')],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outfile: out,
  // Loaded lazily, only when a log line is emitted or a JSON manifest parsed.
  external: ['pino', 'pino-pretty', 'zod'],
  logLevel: 'warning',
});
const { loadBundle, cachePath } = require(path.join(root, 'dist', 'lib', 'cli', 'fast-load.js'));
fs.rmSync(cachePath, { force: true });
const loaded = loadBundle(false);
fs.writeFileSync(cachePath, loaded.script.createCachedData());

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
fs.writeFileSync(pre.precompiledPath, pre.buildPrecompiledTable(pre.seccompDistDir, entries));
