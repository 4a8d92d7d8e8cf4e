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
