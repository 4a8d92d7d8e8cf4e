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

t.test("--help and --version: on stderr, with the exit statuses of upstream's tenders", async (tt) => {
  const h = cli(['--help']);
  tt.equal(h.status, 1, '--help exits 1');
  tt.match(h.stderr, /^usage: solo5-spt /);
  tt.equal(h.stdout, '');
  const v = cli(['--version']);
  tt.equal(v.status, 0);
  tt.match(v.stderr, /^solo5-spt tender, version \d+\.\d+\.\d+\nABI version 1\nABI version 2\nABI version 1001\n$/);
  tt.equal(v.stdout, '');
  // Upstream's first pass: they act before any other option is looked at.
  tt.equal(cli(['--bogus', '--mem=x', '--version']).status, 0, '--version after bad options');
  tt.equal(cli(['--bogus', '--help']).status, 1, '--help after a bad option');
  tt.match(cli(['--bogus', '--help']).stderr, /^usage: /);
});

t.test('the compiled CLIs are programs: run directly, named after themselves', async (tt) => {
  const bin = path.dirname(sptCli);
  for (const [tool, abis] of [
    ['solo5-spt', [1, 2, 1001]],
    ['solo5-hvt', [1, 2, 1001]],
  ] as const) {
    const file = path.join(bin, `${tool}.js`);
    tt.equal(fs.statSync(file).mode & 0o777, 0o755, `${tool}.js is mode 0755`);
    tt.equal(
      fs.readFileSync(file, 'utf8').split('\n')[0],
      '#!/usr/bin/env -S -u NODE_OPTIONS node --inspect-port=192.0.2.1:9229',
      `${tool}.js starts with #!`,
    );
    const r = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 120_000 });
    tt.equal(
      r.stderr,
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
    tt.match(viaLink.stderr, new RegExp(`^${tool} tender, version `), `${tool} through a symlink on PATH`);
  }
  const elftool = path.join(bin, 'solo5-elftool.js');
  tt.equal(fs.statSync(elftool).mode & 0o777, 0o755, 'solo5-elftool.js is mode 0755');
  const q = spawnSync(elftool, ['query-abi', app('hello')], { encoding: 'utf8', timeout: 120_000 });
  tt.equal(q.status, 0, 'solo5-elftool runs directly');
  const hello = spawnSync(sptCli, ['--mem=8', app('hello')], { encoding: 'utf8', timeout: 120_000 });
  tt.same([hello.status, /SUCCESS/.test(hello.stdout)], [0, true], 'solo5-spt.js runs a guest directly');
});

t.test("errors: upstream's words where it has them, then the reason, each line on stderr, exit 1", async (tt) => {
  const notElf = path.join(tmp, 'not-an-elf');
  fs.writeFileSync(notElf, 'hello, I am a text file longer than an ELF header, and nothing else at all.\n');
  const empty = path.join(tmp, 'empty');
  fs.writeFileSync(empty, '');
  const nope = path.join(tmp, 'nope.spt');
  const badHeader = 'invalid executable: invalid or unsupported executable (elf header invalid while loading note)';
  const cases: [string[], string[]][] = [
    [[], ['Missing KERNEL operand', 'missing KERNEL (see --help)']],
    [
      ['--bogus', app('hello')],
      ["Invalid option: `--bogus'", 'unknown option --bogus (see --help)'],
    ],
    [
      ['--bogus=1', app('hello')],
      ["Invalid option: `--bogus=1'", 'unknown option --bogus (see --help)'],
    ],
    [
      ['--mem=x', app('hello')],
      ['Malformed argument to --mem', "--mem: 'x' is not a size in MiB"],
    ],
    [
      ['--mem=0', app('hello')],
      ['Malformed argument to --mem', "--mem: '0' is not a size in MiB"],
    ],
    [[nope], [`${nope}: Could not open: No such file or directory`]],
    [[notElf], [`${notElf}: ${badHeader}`, `${notElf}: not an ELF file (bad magic)`]],
    [[empty], [`${empty}: ${badHeader}`, `${empty}: truncated: 0 bytes, an ELF64 header needs 64`]],
    [[tmp], [`${tmp}: not a regular file`]],
    [['--mem=1', app('hello')], ['mem: 1 MiB is out of range (2 to 65536)']],
    [['--mem=99999999', app('hello')], ['mem: 99999999 MiB is out of range (2 to 65536)']],
    [
      ['--block:disk=/nonexistent.img', app('hello')],
      [
        "Resource not declared in manifest: 'disk'",
        "Invalid option: `--block:disk=/nonexistent.img'",
        `${app('hello')}: devices do not match its manifest: attached but not declared as that type in the manifest: --block:disk`,
      ],
    ],
    // Upstream's tender follows a device module's refusal with its Invalid option line, the argument as given.
    [
      ['--net:service=nosuchtap0', app('net')],
      [
        'Could not attach interface: nosuchtap0: No such file or directory',
        "Invalid option: `--net:service=nosuchtap0'",
        "net device 'service': tap 'nosuchtap0': no such interface",
      ],
    ],
    [
      [app('hello', 'hvt')],
      [
        `${app('hello', 'hvt')}: Executable is not for the solo5-spt target`,
        `${app('hello', 'hvt')}: built for solo5-node ring ABI 1001 for hvt; this solo5-spt runs Solo5 spt ABI 1 and 2 and solo5-node ring ABI 1001 (run it with solo5-hvt)`,
      ],
    ],
  ];
  // An ordinary Linux program: a position-independent one, as Debian builds /bin/true.
  if (fs.existsSync('/bin/true') && fs.readFileSync('/bin/true').readUInt16LE(16) === 3) {
    cases.push([
      ['/bin/true'],
      [
        '/bin/true: No Solo5 ABI information found in executable',
        '/bin/true: e_type 3 (position-independent or shared object), expected ET_EXEC (2): an ordinary program, not a Solo5 unikernel (it has no ABI1 note)',
      ],
    ]);
  } else tt.comment('/bin/true is not a position-independent executable here');
  for (const [args, lines] of cases) {
    const r = cli(args);
    tt.equal(r.status, 1, `${args.join(' ')}: exit 1`);
    tt.equal(r.stderr, lines.map((l) => `solo5-spt: ${l}\n`).join(''), `${args.join(' ')}: exactly these lines`);
    tt.equal(r.stdout, '', 'nothing on stdout');
  }
});

t.test("--x-exec-heap: accepted on spt with upstream's warning, unknown to hvt", async (tt) => {
  const r = cli(['--mem=16', '--x-exec-heap', app('hello')]);
  tt.equal(r.status, 0, 'the guest runs');
  tt.match(r.stdout, /SUCCESS/);
  tt.equal(
    r.stderr,
    'solo5-spt: WARNING: The use of --x-exec-heap is dangerous and not recommended as it makes the heap and stack executable.\n' +
      'solo5-spt: --x-exec-heap: accepted, but the heap and stack stay non-executable here: no guest memory is both writable and executable\n',
  );
  const hvt = spawnSync(process.execPath, [path.join(path.dirname(sptCli), 'solo5-hvt.js'), '--x-exec-heap', app('hello', 'hvt')], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  tt.equal(hvt.status, 1);
  tt.equal(hvt.stderr, "solo5-hvt: Invalid option: `--x-exec-heap'\nsolo5-hvt: unknown option --x-exec-heap (see --help)\n");
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
    // solo5-spt and solo5-hvt print it on stderr, as upstream's tenders do.
    t.match(
      r.stdout + r.stderr,
      new RegExp(`^${name}\\b.*${pkg.version.replace(/\./g, '\\.')}`),
      `${name} --version names itself and the version`,
    );
  }
  t.end();
});
