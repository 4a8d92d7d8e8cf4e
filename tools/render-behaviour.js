// render-behaviour.js: render the behaviour table (test/support/behaviour.ts, compiled) into docs/behaviour.md.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

function cell(e) {
  if (!e) return '- | -';
  const markers = e.markers.length ? e.markers.map((m) => `\`${m}\``).join(', ') : '-';
  return `${e.status} | ${markers}`;
}

const HEADER = [
  '| app | arguments | spt status | spt markers | hvt status | hvt markers | why |',
  '|-----|-----------|-----------:|-------------|-----------:|-------------|-----|',
];

/** One table row: spt and an hvt expectation, and why they are what they are (the hvt reason only where it differs). */
function row(app, spt, hvt) {
  const why = [spt.why, hvt.why && hvt.why !== spt.why ? `hvt: ${hvt.why}` : undefined].filter(Boolean).join('; ');
  return `| ${app} | ${spt.args.length ? `\`${spt.args.join(' ')}\`` : '-'} | ${cell(spt)} | ${cell(hvt)} | ${why} |`;
}

/** The Markdown text of docs/behaviour.md for a behaviour table. */
function render(table) {
  const lines = [
    '# Behaviour of the bundled unikernels on each target',
    '',
    'Generated from `test/support/behaviour.ts` by `node tools/render-behaviour.js`;',
    '`test/behaviour-doc.test.ts` fails when this file is out of date. The app tests',
    'run every row on every target the host supports. `test/compare.test.ts` runs',
    'every row through `compareTargets` on each spt/hvt pair of one application: the',
    'ring-ABI builds (`guest/build/APP.spt`, `APP.hvt`) and the Solo5-ABI builds of',
    'ABI 2 and ABI 1 (`guest/build/solo5/APP.*`, `guest/build/solo5-v1/APP.*`). Each',
    'run must match its row, a status difference is reported exactly where the row',
    'has one, and where a row expects the same on both targets the application output',
    "(everything but the bindings' `Solo5: ` lines) is the same too. The same suite",
    'checks that blk leaves the same block image and net answers the same pings on',
    'both targets of each pair.',
    '',
    '## Ring-ABI builds',
    '',
    ...HEADER,
  ];
  for (const r of table) lines.push(row(r.app, r.spt, r.hvt));
  lines.push(
    '',
    '## Solo5-ABI builds (ABI 2 and ABI 1)',
    '',
    'On spt a Solo5-ABI build behaves as its ring-ABI build (`test/solo5-abi.test.ts`).',
    "On hvt the project's Solo5-ABI bindings follow upstream's hvt layout and run the",
    "application in ring 3 (docs/guest.md): a CPU exception is reported in upstream's",
    'trap lines and halts with 255 where spt dies of SIGSEGV (139), a store to text ends',
    "the tender with upstream's `host/guest translation fault` and 1, and data is",
    'executable. Their `Solo5: ` lines differ too and are not compared: the memory map',
    "of an hvt guest shows a larger data segment (the bindings' page tables and trap",
    "stack), and the banner names the target and ABI. A tender's own error (xnow) is",
    "the exit's one-line error, which `solo5-hvt` prints on stderr; the markers are",
    'looked for in the console output and that line.',
    '',
    ...HEADER,
  );
  for (const r of table) lines.push(row(r.app, r.spt, r.solo5Hvt));
  return `${lines.join('\n')}\n`;
}

module.exports = { render };

if (require.main === module) {
  const { behaviour } = require(path.join(root, 'dist', 'test', 'support', 'behaviour.js'));
  fs.writeFileSync(path.join(root, 'docs', 'behaviour.md'), render(behaviour));
}
