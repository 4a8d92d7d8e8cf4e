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

/** The Markdown text of docs/behaviour.md for a behaviour table. */
function render(table) {
  const lines = [
    '# Behaviour of the bundled unikernels on each target',
    '',
    'Generated from `test/support/behaviour.ts` by `node tools/render-behaviour.js`;',
    '`test/behaviour-doc.test.ts` fails when this file is out of date. The app tests',
    'run every row on every target the host supports, and the comparison suite checks',
    'that deterministic apps print the same application output (everything but the',
    "bindings' `Solo5: ` lines) and leave the same block images on spt and hvt.",
    '',
    'An spt status of 128+N is a guest killed by signal N (139 SIGSEGV, 159 SIGSYS):',
    "`solo5-spt` then dies of that same signal, as upstream's tender, which is its",
    "guest's process, does (a shell shows 128+N, a parent sees WIFSIGNALED); a Solo5-ABI",
    'guest with no brokered device is the `solo5-spt` process itself, and a brokered',
    "guest's tender cleans up and prints one line first. The API reports",
    "`{ kind: 'signal', signal, status: 128+N }`. `--x-exec-heap` is accepted with",
    "upstream's warning, but no guest memory is ever both writable and executable, so",
    'xnow and wnox behave the same with it.',
    '',
    '| app | arguments | spt status | spt markers | hvt status | hvt markers | why |',
    '|-----|-----------|-----------:|-------------|-----------:|-------------|-----|',
  ];
  for (const row of table) {
    const why = [row.spt.why, row.hvt && row.hvt.why && row.hvt.why !== row.spt.why ? `hvt: ${row.hvt.why}` : undefined]
      .filter(Boolean)
      .join('; ');
    lines.push(
      `| ${row.app} | ${row.spt.args.length ? `\`${row.spt.args.join(' ')}\`` : '-'} | ${cell(row.spt)} | ${cell(row.hvt)} | ${why} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

module.exports = { render };

if (require.main === module) {
  const { behaviour } = require(path.join(root, 'dist', 'test', 'support', 'behaviour.js'));
  fs.writeFileSync(path.join(root, 'docs', 'behaviour.md'), render(behaviour));
}
