// run.test.ts: run()'s drive hook (what compareTargets builds on): called once while the guest runs; a throw kills the guest.
import { existsSync } from 'node:fs';
import t from 'tap';
import { run } from '../lib';
import { app } from './support/paths';

const skip = !existsSync(app('sleep')) && 'the bundled apps are not built (npm run build:guest)';

t.test('drive is called once; run() then waits for the exit', { skip }, async (t) => {
  let calls = 0;
  const r = await run({
    kernel: app('sleep'),
    args: ['1'],
    memMB: 8,
    drive: async () => {
      calls++;
      await Promise.resolve();
    },
  });
  t.equal(calls, 1, 'drive called once');
  t.equal(r.exit.status, 0, 'the guest exited by itself');
  t.match(r.output, /READY[\s\S]*SUCCESS/, 'its whole console output');
  t.equal(r.timedOut, false);
});

// The guest would sleep for ten minutes; the subtest's timeout is only a guard against a hang.
t.test('a drive that throws kills the guest and run() rejects with its error', { skip, timeout: 120_000 }, async (t) => {
  const boom = new Error('drive failed');
  await t.rejects(
    run({
      kernel: app('sleep'),
      args: ['600000'],
      memMB: 8,
      drive: () => Promise.reject(boom),
    }),
    boom,
  );
});
