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
const HEADER_VIRTIO = [
  '| app | arguments | spt status | spt markers | hvt status | hvt markers | virtio status | virtio markers | why |',
  '|-----|-----------|-----------:|-------------|-----------:|-------------|--------------:|----------------|-----|',
];

/**
 * One table row: spt and an hvt expectation (and virtio's, in the Solo5-ABI
 * table), and why they are what they are (each other target's reason only where it differs).
 */
function row(app, spt, hvt, virtio) {
  const other = (name, e) => (e && e.why && e.why !== spt.why ? `${name}: ${e.why}` : undefined);
  const why = [spt.why, other('hvt', hvt), other('virtio', virtio)].filter(Boolean).join('; ');
  const cells = virtio === null ? [cell(spt), cell(hvt)] : [cell(spt), cell(hvt), cell(virtio)];
  return `| ${app} | ${spt.args.length ? `\`${spt.args.join(' ')}\`` : '-'} | ${cells.join(' | ')} | ${why} |`;
}

/* What the virtio columns cannot show: why its exit status, clock and memory differ. */
const VIRTIO = [
  '## Where virtio differs, and why',
  '',
  'The virtio columns are the Solo5-ABI builds for virtio (`guest/build/solo5/<app>.virtio`)',
  "under `solo5-virtio-run` and QEMU (TCG on hosts whose KVM can't run them well, docs/virtio.md).",
  '`test/virtio.test.ts` runs every row that has a virtio build, and `test/compare.test.ts`',
  'compares the three targets of the Solo5-ABI builds through `compareTargets` with `kernels.virtio`:',
  'status, application output, block images and the frames a guest answers on a switch.',
  '',
  "- **Exit status**: QEMU itself exits 83 for every guest (Solo5's isa-debug-exit value);",
  "  `solo5-virtio-run` exits with the guest's status read from its `solo5_exit(N) called` line",
  '  (255 for `ABORT`), so `hello` 0, `exitcode 300` 44, `abort` and `ssp` 255. With',
  '  `--solo5:quiet` there is no such line: the status is unknown, reported as 0 with a warning on',
  "  stderr. A guest can't die of a host signal: 128+N is only ever a signal sent to the launcher.",
  '- **CPU exceptions** (`exception`, `notls`): the guest runs in ring 0 with its own IDT, so a',
  '  fault ends it with `Solo5: ABORT: trap: vector N, ...` and 255, as on hvt, never 139.',
  '- **Memory protection** (`zeropage`, `xnow`, `wnox`): none. The first 4 GiB are one',
  '  identity mapping, read-write-execute, page 0 included (the BIOS data area), so these apps',
  '  report that the access worked and exit 1; spt faults (139), hvt as in the tables above.',
  '- **Clock**: the TSC, timed against the PIT at boot (10 ms); wall time is the CMOS clock at',
  '  boot (whole seconds) plus the TSC. `solo5_yield` polls; nothing sleeps.',
  '- **Memory layout**: Multiboot at 1 MiB; memory is what the loader reports above 1 MiB',
  '  (`-m 128` gives 127 MB addressable); the virtqueues and buffers sit between the image and',
  "  the heap, and device buffers below 1 MiB are refused. The bindings' `Solo5: ` memory-map",
  '  lines therefore differ from both tenders and are not compared.',
  '- **Apps without a virtio build**: `sysprobe` and `seccomp` (raw Linux system calls), and the',
  '  ring-ABI-only `hostile`, `ringexit` and `gdtwrite`.',
];

/** The Markdown text of docs/behaviour.md for a behaviour table. */
function render(table) {
  const lines = [
    '# Behaviour of the bundled unikernels on each target',
    '',
    'Generated from `test/support/behaviour.ts` by `node tools/render-behaviour.js`;',
    '`test/behaviour-doc.test.ts` fails when this file is out of date. The app tests',
    'run every row on every target the host supports. `test/compare.test.ts` runs',
    'every row through `compareTargets` on the builds of one application for each target: the',
    'ring-ABI builds (`guest/build/APP.spt`, `APP.hvt`) and the Solo5-ABI builds of',
    'ABI 2 and ABI 1 (`guest/build/solo5/APP.*`, `guest/build/solo5-v1/APP.*`), the ABI 2',
    'ones with their virtio build as a third target where QEMU is installed. Each',
    'run must match its row, a status difference is reported exactly where the row',
    'has one, and where a row expects the same on every target the application output',
    "(everything but the bindings' `Solo5: ` lines) is the same too. The same suite",
    'checks that blk leaves the same block image and net answers the same pings on',
    'every target of each set.',
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
    '## Ring-ABI builds',
    '',
    ...HEADER,
  ];
  for (const r of table) lines.push(row(r.app, r.spt, r.hvt, null));
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
    'looked for in the console output and that line. The virtio columns are the same',
    "application's virtio build under QEMU (see the last section); `-` where it has none.",
    '',
    ...HEADER_VIRTIO,
  );
  for (const r of table) if (r.solo5Hvt) lines.push(row(r.app, r.spt, r.solo5Hvt, r.virtio));
  const ringOnly = table.filter((r) => !r.solo5Hvt).map((r) => r.app);
  if (ringOnly.length) lines.push('', `Ring-ABI only, with no Solo5-ABI build: ${ringOnly.join(', ')}.`);
  lines.push('', ...VIRTIO);
  return `${lines.join('\n')}\n`;
}

module.exports = { render };

if (require.main === module) {
  const { behaviour } = require(path.join(root, 'dist', 'test', 'support', 'behaviour.js'));
  fs.writeFileSync(path.join(root, 'docs', 'behaviour.md'), render(behaviour));
}
