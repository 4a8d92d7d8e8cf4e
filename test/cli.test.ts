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
  tt.match(v.stdout, /^solo5-spt \d+\.\d+\.\d+/);
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
  for (const [arg, want] of [['0', 0], ['7', 7], ['255', 255], ['256', 0], ['300', 44], ['-1', 255]] as const) {
    const r = cli(['--mem=16', app('exitcode'), arg]);
    tt.equal(r.status, want, `exit ${arg}`);
  }
});

t.test('tender logs: pino JSON on stderr when asked, the console untouched on stdout', async (tt) => {
  const r = cli(['--mem=16', '--log-level=debug', '--log-format=json', app('hello'), 'x']);
  tt.equal(r.status, 0);
  tt.match(r.stdout, "Command line is: 'x'", 'guest console on stdout');
  tt.notMatch(r.stdout, /"level"/, 'no log line on stdout');
  const lines = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { level: number; msg: string; tender?: string });
  tt.ok(lines.some((l) => l.msg === 'guest started' && l.tender === 'solo5-spt'), 'a JSON line per event, with the tender named');
  tt.ok(lines.some((l) => l.msg === 'guest ended'));
  const quiet = cli(['--mem=16', app('hello')]);
  tt.equal(quiet.stderr, '', 'the default level logs nothing for a clean run');
});
