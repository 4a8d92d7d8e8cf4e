// quote.test.ts: a value a user gave comes back in a message on one bounded line, from lib/quote.ts and from every CLI.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { LINE_MAX, QUOTE_MAX, oneLine, quote } from '../lib/quote';
import { makeBundle } from './support/oci';
import { app, exists, root } from './support/paths';

const LONG = 'x'.repeat(5000);

t.test('quote(): controls escaped, long values cut, the rest unchanged', async (t) => {
  t.equal(quote('eth0'), 'eth0', 'a short printable value is as it was');
  t.equal(quote('a\nb'), 'a\\nb');
  t.equal(quote('a\r\tb'), 'a\\r\\tb');
  t.equal(quote('\x1b[31mred'), '\\x1b[31mred');
  t.equal(quote('a\0b'), 'a\\x00b');
  t.equal(quote('a\u0085b\u2028c\x7f'), 'a\\x85b\\u2028c\\x7f', 'C1 controls, DEL and line separators too');
  t.equal(quote(42), '42');
  const long = quote(LONG);
  t.ok(long.length < QUOTE_MAX + 40, `5,000 characters are cut (${long.length} shown)`);
  t.match(long, /\.\.\.\(5000 characters\)$/, 'and the cut says how long the value was');
  const pair = quote(`${'y'.repeat(QUOTE_MAX - 1)}\u{1f600}`);
  t.notOk(/[\ud800-\udbff](?![\udc00-\udfff])/.test(pair), 'a cut never leaves half a surrogate pair');
  t.equal(oneLine('x\ny'), 'x\\ny');
  t.ok(oneLine(LONG.repeat(2)).length < LINE_MAX + 40, 'oneLine() bounds a whole message');
});

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'solo5-quote-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
const bin = (name: string) => path.join(root, 'dist', 'bin', `${name}.js`);

/** Each CLI with a hostile value where it echoes one. argv cannot carry NUL (exec's strings end at it): NUL comes from a file. */
function cases(): [string, string, string[], string][] {
  const out: [string, string, string[], string][] = [];
  const hostile: [string, string, string][] = [
    ['a newline', 'a\nb', 'a\\nb'],
    ['an ESC sequence', '\x1b[2J\x1b[31m', '\\x1b[2J\\x1b[31m'],
    ['5,000 characters', LONG, '...(5000 characters)'],
  ];
  for (const [what, v, shown] of hostile) {
    out.push(['solo5-spt', what, [`--mem=${v}`, 'k.spt'], shown]);
    out.push(['solo5-hvt', what, [`--net-mac:n=${v}`, 'k.hvt'], shown]);
    out.push(['solo5-oci', what, ['--root', path.join(tmp, 'root'), 'state', v], shown]);
    out.push(['solo5-switch', what, [`--log-level=${v}`, path.join(tmp, 'sw.sock')], shown]);
    out.push(['solo5-elftool', what, [v], shown]);
    out.push(['solo5-build', what, [`--target=${v}`, '--manifest=m.json', '--output=o', 'a.c'], shown]);
  }
  return out;
}

for (const [cli, what, args, shown] of cases()) {
  t.test(`${cli}: ${what} in a value gives a one-line error`, async (t) => {
    const r = spawnSync(process.execPath, [bin(cli), ...args], { encoding: 'utf8', timeout: 120_000 });
    t.equal(r.status, 1, 'exit status 1');
    // One message; a tender may put upstream's own phrase on a line before it (issue 20: upstream's words first).
    const lines = r.stderr.split('\n').slice(0, -1);
    t.ok(lines.length >= 1 && lines.length <= 2, `one message: ${JSON.stringify(r.stderr.slice(0, 300))}`);
    t.ok(
      lines.every((l) => l.startsWith(`${cli}: `)),
      'every line named after the CLI: the value made no line of its own',
    );
    t.ok(r.stderr.includes(shown), `shows ${JSON.stringify(shown)}`);
    t.notOk(
      [...lines.join('')].some((c) => c < ' '),
      'no raw control character',
    );
    t.ok(r.stderr.length < QUOTE_MAX + 200, `bounded (${r.stderr.length} characters)`);
  });
}

t.test(
  'solo5-oci: NUL and ESC in config.json come back escaped',
  { skip: !exists(app('hello')) && 'guest/build/hello.spt is not built' },
  async (t) => {
    const b = makeBundle(tmp, app('hello'), [], { annotations: { 'org.solo5-node.mem': '1\0\x1b\n' } });
    const log = path.join(tmp, 'oci.log');
    const r = spawnSync(
      process.execPath,
      [bin('solo5-oci'), '--root', path.join(tmp, 'root'), '--log', log, 'create', '--bundle', b.dir, 'q1'],
      {
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    t.equal(r.status, 1);
    t.equal(r.stderr, "solo5-oci: annotations.org.solo5-node.mem: '1\\x00\\x1b\\n' is not a size in MiB\n");
    const logged = fs.readFileSync(log, 'utf8');
    const lines = logged.trimEnd().split('\n');
    t.ok(
      lines.every((l) => l.startsWith('time=')),
      'every --log record is one line',
    );
    t.equal(lines.filter((l) => l.includes('level=error')).length, 1, 'the error is one record');
    t.match(logged, /msg="annotations\.org\.solo5-node\.mem: '1\\\\x00\\\\x1b\\\\n' is not a size in MiB"/, 'quoted as a string there');
  },
);
