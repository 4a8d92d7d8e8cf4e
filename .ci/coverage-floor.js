// coverage-floor.js: fails CI when the line coverage of lib/ (from tap's json-summary report) drops below the floor.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

// Raise it when coverage rises; never lower it to make a change pass.
const FLOOR = Number(process.argv[2] ?? 85);
const root = path.resolve(__dirname, '..');
const file = path.join(root, '.tap', 'report', 'coverage-summary.json');
let summary;
try {
  summary = JSON.parse(fs.readFileSync(file, 'utf8'));
} catch (e) {
  console.error(`coverage-floor: cannot read ${file} (${e.code ?? e.message}); did npm test run with coverage?`);
  process.exit(1);
}
// Only lib/ counts: the CLIs in bin/ are a few lines each, tests and benches are not the product.
const lib = path.join(root, 'lib') + path.sep;
let covered = 0;
let total = 0;
for (const [name, s] of Object.entries(summary)) {
  if (name === 'total' || !name.startsWith(lib)) continue;
  covered += s.lines.covered;
  total += s.lines.total;
}
if (total === 0) {
  console.error(`coverage-floor: no lib/ files in ${file}`);
  process.exit(1);
}
const pct = (100 * covered) / total;
const line = `coverage of lib/: ${pct.toFixed(2)}% of lines (${covered}/${total}), floor ${FLOOR}%`;
if (pct < FLOOR) {
  console.error(`coverage-floor: ${line}: below the floor`);
  process.exit(1);
}
console.log(line);
