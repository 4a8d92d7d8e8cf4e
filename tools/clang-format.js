// clang-format.js: checks (--check) or rewrites (--write) the C and C++ sources with the committed .clang-format files.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
// The C and C++ the project writes; generated sources live under build/ directories, which git ignores.
const roots = ['addon', 'include', 'guest', 'test', 'examples'];
const sourceExt = /\.(c|cc|h)$/;

function trackedSources() {
  const out = execFileSync('git', ['ls-files', '--', ...roots], { cwd: root, encoding: 'utf8' });
  return out.split('\n').filter((f) => sourceExt.test(f));
}

function main(argv) {
  const mode = argv[0];
  if (mode !== '--check' && mode !== '--write') {
    console.error('usage: node tools/clang-format.js --check | --write');
    return 2;
  }
  let bin;
  try {
    bin = require.resolve('clang-format-node/build/cli.js', { paths: [root] });
  } catch {
    console.error('tools/clang-format.js: clang-format-node is not installed (npm install)');
    return 2;
  }
  const files = trackedSources();
  const args = mode === '--check' ? ['--dry-run', '-Werror', ...files] : ['-i', ...files];
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    if (mode === '--check') console.error(`tools/clang-format.js: ${files.length} files checked; run "npm run format" to fix the above`);
    return r.status ?? 1;
  }
  if (mode === '--check') console.log(`clang-format: ${files.length} C/C++ files formatted as configured`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
