// violation-exit.test.ts: a real guest that breaks its ring and exits at once is reported as a violation, every time (issue 8 item 7).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import t from 'tap';
import { run } from '../lib';
import { imageMaker } from './support/images';
import { kvmUnavailable } from './support/kvm';
import { app, sptCli } from './support/paths';

const image = imageMaker('sn-violation-exit-');
const ROUNDS = 10;
const built = fs.existsSync(app('ringexit')) ? false : `${app('ringexit')} is not built (npm run build:guest)`;
/** What the broker says of ringexit's last act (guest/apps/ringexit/ringexit.c). */
const violation = /^device 'storage': request producer index (\d+) is more than \d+ slots ahead/;

for (const target of ['spt', 'hvt'] as const) {
  const skip = built || (target === 'hvt' ? kvmUnavailable() : false) || false;
  t.test(`${target}: run() reports the violation ringexit made right before its exit, ${ROUNDS} of ${ROUNDS}`, { skip }, async (tt) => {
    for (let i = 0; i < ROUNDS; i++) {
      const r = await run({
        kernel: app('ringexit', target),
        target,
        memMB: 8,
        block: { storage: { path: image(`${target}${i}.img`, 64 * 1024) } },
      });
      tt.match(r.output, /^RINGEXIT \d+$/m, `round ${i}: the guest wrote its bad index`);
      const wrote = /^RINGEXIT (\d+)$/m.exec(r.output);
      tt.match(r.exit, { kind: 'signal', signal: 'SIGKILL', status: 137, violation }, `round ${i}: a kill for the violation, not status 0`);
      // The index reported is the one the guest wrote: the tender read it from the ring, not from a guess.
      const seen = r.exit.kind === 'signal' ? violation.exec(r.exit.violation ?? '') : null;
      tt.equal(seen?.[1], wrote?.[1], `round ${i}: the index the tender reports is the one the guest wrote`);
    }
  });
}

t.test('solo5-spt: killed by SIGKILL (137) and one line naming the violation', { skip: built }, async (tt) => {
  const r = spawnSync(process.execPath, [sptCli, '--mem=8', `--block:storage=${image('cli.img', 64 * 1024)}`, app('ringexit')], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  tt.same(
    [r.status, r.signal],
    [null, 'SIGKILL'],
    `the tender dies of its guest's SIGKILL, which a shell shows as 137 (stderr: ${r.stderr})`,
  );
  tt.match(r.stdout, /^RINGEXIT \d+$/m, 'the guest ran and wrote its bad index');
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  const summary = lines.filter((l) => l.startsWith('solo5-spt: '));
  tt.equal(summary.length, 1, `one line of the tender's own on stderr: ${JSON.stringify(r.stderr)}`);
  tt.match(
    summary[0] ?? '',
    /^solo5-spt: guest killed by SIGKILL \(killed by the tender: device 'storage': request producer index \d+ is more than \d+ slots ahead[^\n]*\), exit status 137$/,
  );
  // When the pump happened to see the index while the guest ran, the kill is also logged (one JSON record).
  for (const l of lines.filter((x) => !x.startsWith('solo5-spt: '))) {
    tt.match(JSON.parse(l), { violation: /^device 'storage': / }, 'any other line is the log record of the same violation');
  }
});
