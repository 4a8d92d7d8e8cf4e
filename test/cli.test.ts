// cli.test.ts: solo5-spt as a user meets it: help, version, and one-line errors with exit 1.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { app, sptCli } from './support/paths';

function cli(args: string[]) {
  return spawnSync(process.execPath, [sptCli, ...args], { encoding: 'utf8', timeout: 120_000 });
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'solo5-cli-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

t.test('--help and --version', async (tt) => {
  const h = cli(['--help']);
  tt.equal(h.status, 0);
  tt.match(h.stdout, /usage: solo5-spt/);
  const v = cli(['--version']);
  tt.equal(v.status, 0);
  tt.match(v.stdout, /^solo5-spt tender, version \d+\.\d+\.\d+\nABI version 1\nABI version 2\nABI version 1001\n$/);
  tt.equal(v.stderr, '');
});

t.test('the compiled CLIs are programs: run directly, named after themselves', async (tt) => {
  const bin = path.dirname(sptCli);
  for (const [tool, abis] of [
    ['solo5-spt', [1, 2, 1001]],
    ['solo5-hvt', [1, 2, 1001]],
  ] as const) {
    const file = path.join(bin, `${tool}.js`);
    tt.equal(fs.statSync(file).mode & 0o777, 0o755, `${tool}.js is mode 0755`);
    tt.equal(fs.readFileSync(file, 'utf8').split('\n')[0], '#!/usr/bin/env node', `${tool}.js starts with #!`);
    const r = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 120_000 });
    tt.equal(
      r.stdout,
      [
        `${tool} tender, version ${(JSON.parse(fs.readFileSync(path.join(bin, '..', '..', 'package.json'), 'utf8')) as { version: string }).version}`,
        ...abis.map((n) => `ABI version ${n}`),
        '',
      ].join('\n'),
      `${tool} --version`,
    );
    // As `npm link` installs it: a symlink named without .js.
    const link = path.join(tmp, tool);
    fs.symlinkSync(file, link);
    const viaLink = spawnSync(link, ['--version'], { encoding: 'utf8', timeout: 120_000 });
    tt.match(viaLink.stdout, new RegExp(`^${tool} tender, version `), `${tool} through a symlink on PATH`);
  }
  const elftool = path.join(bin, 'solo5-elftool.js');
  tt.equal(fs.statSync(elftool).mode & 0o777, 0o755, 'solo5-elftool.js is mode 0755');
  const q = spawnSync(elftool, ['query-abi', app('hello')], { encoding: 'utf8', timeout: 120_000 });
  tt.equal(q.status, 0, 'solo5-elftool runs directly');
  const hello = spawnSync(sptCli, ['--mem=8', app('hello')], { encoding: 'utf8', timeout: 120_000 });
  tt.same([hello.status, /SUCCESS/.test(hello.stdout)], [0, true], 'solo5-spt.js runs a guest directly');
});

t.test('errors are one line on stderr with exit 1', async (tt) => {
  const notElf = path.join(tmp, 'not-an-elf');
  fs.writeFileSync(notElf, 'hello, I am text\n');
  const empty = path.join(tmp, 'empty');
  fs.writeFileSync(empty, '');
  const cases: [string[], RegExp][] = [
    [[], /missing KERNEL/],
    [['--bogus', app('hello')], /unknown option --bogus/],
    [[path.join(tmp, 'nope.spt')], /nope\.spt.*ENOENT/],
    [[notElf], /not-an-elf/],
    [[empty], /empty/],
    [[tmp], /solo5-cli-/],
    [['--mem=1', app('hello')], /mem/],
    [['--mem=99999999', app('hello')], /mem/],
    [['--block:disk=/nonexistent.img', app('hello')], /not declared.*--block:disk/],
  ];
  for (const [args, re] of cases) {
    const r = cli(args);
    tt.equal(r.status, 1, `${args.join(' ')}: exit 1`);
    tt.match(r.stderr, re, `${args.join(' ')}: names the fault`);
    tt.match(r.stderr, /^solo5-spt: [^\n]+\n$/, `${args.join(' ')}: one line`);
    tt.equal(r.stdout, '', 'nothing on stdout');
  }
});

t.test('the guest exit status is status & 0xff', async (tt) => {
  for (const [arg, want] of [
    ['0', 0],
    ['7', 7],
    ['255', 255],
    ['256', 0],
    ['300', 44],
    ['-1', 255],
  ] as const) {
    const r = cli(['--mem=16', app('exitcode'), arg]);
    tt.equal(r.status, want, `exit ${arg}`);
  }
});

t.test('tender logs: pino JSON on stderr when asked, the console untouched on stdout', async (tt) => {
  const r = cli(['--mem=16', '--log-level=debug', '--log-format=json', app('hello'), 'x']);
  tt.equal(r.status, 0);
  tt.match(r.stdout, "Command line is: 'x'", 'guest console on stdout');
  tt.notMatch(r.stdout, /"level"/, 'no log line on stdout');
  const lines = r.stderr
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { level: number; msg: string; tender?: string });
  tt.ok(
    lines.some((l) => l.msg === 'guest started' && l.tender === 'solo5-spt'),
    'a JSON line per event, with the tender named',
  );
  tt.ok(lines.some((l) => l.msg === 'guest ended'));
  const quiet = cli(['--mem=16', app('hello')]);
  tt.equal(quiet.stderr, '', 'the default level logs nothing for a clean run');
});

t.test('every program package.json names is executable and runs through a symlink, as npm link installs it', (t) => {
  const pkgDir = path.join(__dirname, '..', '..');
  const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
  t.ok(Object.keys(pkg.bin).length >= 6, 'the six programs');
  for (const [name, rel] of Object.entries(pkg.bin)) {
    const file = path.join(pkgDir, rel);
    t.ok((fs.statSync(file).mode & 0o111) !== 0, `${name}: ${rel} is executable`);
    const dir = fs.mkdtempSync(path.join(tmp, 'bin-'));
    fs.symlinkSync(file, path.join(dir, name));
    const r = spawnSync(name, ['--version'], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
    });
    t.equal(r.status, 0, `${name} --version exits 0`);
    t.match(r.stdout, new RegExp(`^${name}\\b.*${pkg.version.replace(/\./g, '\\.')}`), `${name} --version names itself and the version`);
  }
  t.end();
});
