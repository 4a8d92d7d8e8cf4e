// bin-mode.js: after tsc, make the compiled CLIs executable (tsc writes 0644), so they run directly and via npm link.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
// Every compiled CLI, including those package.json does not name itself (solo5-oci's front door execs dist/bin/solo5-oci.js).
const dist = path.join(root, 'dist', 'bin');
const files = fs
  .readdirSync(dist)
  .filter((f) => f.endsWith('.js'))
  .map((f) => path.join('dist', 'bin', f));
// A native program in package.json's bin (the front door) is made by its Makefile, later in the build, with its mode.
for (const rel of new Set([...files, ...Object.values(pkg.bin ?? {}).filter((r) => r.endsWith('.js'))])) {
  const file = path.join(root, rel);
  const head = fs.readFileSync(file, 'utf8').slice(0, 2);
  if (head !== '#!') throw new Error(`${rel}: no #! line, so it cannot run as a program`);
  fs.chmodSync(file, 0o755);
}
