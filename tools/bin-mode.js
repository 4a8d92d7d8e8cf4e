// bin-mode.js: after tsc, make the compiled CLIs executable (tsc writes 0644), so they run directly and via npm link.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
for (const rel of Object.values(pkg.bin ?? {})) {
  const file = path.join(root, rel);
  // A native program (solo5-oci's front door) is made by its Makefile, later in the build, with its mode.
  if (!rel.endsWith('.js')) continue;
  const head = fs.readFileSync(file, 'utf8').slice(0, 2);
  if (head !== '#!') throw new Error(`${rel}: no #! line, so it cannot run as a program`);
  fs.chmodSync(file, 0o755);
}
