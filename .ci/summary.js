// summary.js: counts passed, failed and skipped tests from tap's saved TAP files, and names each suite that skipped and why.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

/*
 * Usage: node .ci/summary.js RESULTS_DIR LOG
 * RESULTS_DIR is tap's .tap/test-results (one raw TAP file per test file);
 * LOG is the captured `npm test` output, read only for suites that failed
 * without leaving a failing test point (a crash, a timeout, a bail-out).
 */
const [resultsDir, logFile] = process.argv.slice(2);
if (!resultsDir || !logFile) {
  console.error('usage: node .ci/summary.js RESULTS_DIR LOG');
  process.exit(2);
}

const POINT = /^(\s*)(not )?ok\b\s*\d*\s*(?:- )?(.*?)(?:\s+#\s+(SKIP|TODO)\S*\s*(.*?))?(?:\s+#\s+time=\S+)?\s*$/i;
const PLAN_SKIP = /^(\s*)1\.\.0\s*#\s*SKIP\S*\s*(.*)$/i;

function tapFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return tapFiles(p);
    return e.name.endsWith('.tap') ? [p] : [];
  });
}

/** "dist/test/hvt.test.js.tap" -> "hvt" */
function suiteName(file) {
  return path
    .basename(file)
    .replace(/\.tap$/, '')
    .replace(/\.test\.[cm]?js$/, '');
}

/*
 * A test point is a leaf unless the lines just before it are its own
 * subtest's body, indented deeper: only leaves are counted, so a subtest
 * and its assertions are not counted twice.
 */
function countFile(text) {
  const c = { pass: 0, fail: 0, skip: 0, reasons: new Map() };
  const lines = text.split('\n');
  let prevIndent = -1;
  let inYaml = false;
  for (const line of lines) {
    const trimmed = line.trim();
    // YAML diagnostics after a point, and comments, say nothing about nesting.
    if (inYaml) {
      if (trimmed === '...') inYaml = false;
      continue;
    }
    if (trimmed === '---') {
      inYaml = true;
      continue;
    }
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const indent = line.length - line.trimStart().length;
    const planSkip = PLAN_SKIP.exec(line);
    const m = planSkip ? null : POINT.exec(line);
    if (planSkip) {
      // A whole (sub)test file that skipped itself: one skip, with its reason.
      c.skip++;
      const why = planSkip[2].trim() || 'no reason given';
      c.reasons.set(why, (c.reasons.get(why) ?? 0) + 1);
    } else if (m && /^\s*(not )?ok\b/.test(line)) {
      const isParent = prevIndent > indent;
      const directive = (m[4] ?? '').toUpperCase();
      if (directive === 'SKIP' || directive === 'TODO') {
        if (!isParent) {
          c.skip++;
          const why = (m[5] ?? '').trim() || (directive === 'TODO' ? 'todo' : 'no reason given');
          c.reasons.set(why, (c.reasons.get(why) ?? 0) + 1);
        }
      } else if (!isParent) {
        if (m[2]) c.fail++;
        else c.pass++;
      }
    }
    prevIndent = indent;
  }
  return c;
}

const suites = new Map();
for (const f of tapFiles(resultsDir).sort()) suites.set(suiteName(f), countFile(fs.readFileSync(f, 'utf8')));

// Suites tap itself reported as failed: "not ok N - dist/test/x.test.js" at the top level of the log.
const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
const failedSuites = [...log.matchAll(/^not ok \d+ - (\S+\.test\.[cm]?js)\b/gm)].map((m) => suiteName(m[1]));
for (const name of failedSuites) {
  const c = suites.get(name) ?? { pass: 0, fail: 0, skip: 0, reasons: new Map() };
  // Failed with no failing point: it crashed or timed out; that is one failure, not zero.
  if (c.fail === 0) c.fail = 1;
  suites.set(name, c);
}

let pass = 0,
  fail = 0,
  skip = 0;
for (const c of suites.values()) {
  pass += c.pass;
  fail += c.fail;
  skip += c.skip;
}
console.log('');
console.log(`suites: ${suites.size} (${failedSuites.length} failed)`);
if (failedSuites.length > 0) console.log(`failed suites: ${failedSuites.join(', ')}`);
for (const [name, c] of suites) {
  if (c.fail > 0) console.log(`${name}: ${c.fail} failed`);
  for (const [why, n] of c.reasons) console.log(`${name}: ${n} skipped, ${why}`);
}
if (suites.size === 0) console.log(`no TAP results in ${resultsDir}: the tests did not run`);
console.log(`tests: ${pass} passed, ${fail} failed, ${skip} skipped`);
