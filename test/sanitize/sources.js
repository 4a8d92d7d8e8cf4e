// sources.js: prints one target's sources or include_dirs from a binding.gyp, relative to test/sanitize/, so the sanitizer build cannot drift.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

// Usage: node sources.js GYP_FILE (relative to the repository root) TARGET_NAME sources|include_dirs
const [gypFile, target, key] = process.argv.slice(2);
const root = path.resolve(__dirname, '..', '..');
const gyp = JSON.parse(fs.readFileSync(path.join(root, gypFile), 'utf8'));
const t = gyp.targets.find((x) => x.target_name === target);
if (!t) {
  console.error(`sources.js: ${gypFile} has no target ${target}`);
  process.exit(1);
}
const from = path.dirname(path.join(root, gypFile));
// Command expansions ("<!(...)") are left to the gyp file itself.
const list = (t[key] ?? []).filter((s) => !s.startsWith('<'));
console.log(list.map((s) => path.relative(__dirname, path.join(from, s))).join(' '));
