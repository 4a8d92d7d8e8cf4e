// apps.test.ts: every bundled unikernel on spt, through the API and the CLI, with its expected exit and output.
import { spawnSync } from 'node:child_process';
import t, { type Test } from 'tap';
import { run } from '../lib';
import { behaviour, type Expectation } from './support/behaviour';
import { app, sptCli } from './support/paths';
import { shellStatus } from './support/proc';

function check(tt: Test, name: string, e: Expectation, status: number, output: string): void {
  tt.equal(status, e.status, `${name}: exit status ${e.status}${e.why ? ` (${e.why})` : ''}`);
  for (const m of e.markers) tt.match(output, m, `${name}: output has ${JSON.stringify(m)}`);
  for (const m of e.absent ?? []) tt.notMatch(output, m, `${name}: output lacks ${JSON.stringify(m)}`);
}

for (const { app: name, spt } of behaviour) {
  t.test(`${name} through the API`, async (tt) => {
    const r = await run({ kernel: app(name), args: spt.args, memMB: 32, timeoutMs: 120_000 });
    tt.equal(r.timedOut, false, 'finishes on its own');
    check(tt, name, spt, r.exit.status, r.output);
    if (spt.status >= 128 && spt.status !== 255) tt.equal(r.exit.kind, 'signal', 'reported as killed by a signal');
  });

  t.test(`${name} through solo5-spt`, async (tt) => {
    const r = spawnSync(process.execPath, [sptCli, '--mem=32', app(name), ...spt.args], { encoding: 'utf8', timeout: 120_000 });
    check(tt, name, spt, shellStatus(r), r.stdout);
    if (spt.status >= 128 && spt.status !== 255)
      tt.equal(r.signal, spt.status === 159 ? 'SIGSYS' : 'SIGSEGV', "the tender dies of the guest's signal");
    if (spt.status === 159) tt.match(r.stderr, /SIGSYS/, 'the tender reports the forbidden system call');
    if (spt.status === 139) tt.match(r.stderr, /SIGSEGV/, 'the tender reports the fault');
    if (spt.status < 128) tt.equal(r.stderr, '', 'nothing on stderr');
  });
}

t.test('the banner goes to the console, the guest command line is passed through', async (tt) => {
  const r = await run({ kernel: app('hello'), args: ['a', 'b  c'], memMB: 8 });
  tt.equal(r.exit.status, 0);
  tt.match(r.output, /^Solo5: /m, 'bindings banner lines start with "Solo5: "');
  tt.match(r.output, "Command line is: 'a b  c'");
});

t.test('--solo5:quiet silences the bindings, not the application', async (tt) => {
  const r = await run({ kernel: app('hello'), args: ['--solo5:quiet', 'x'], memMB: 8 });
  tt.equal(r.exit.status, 0);
  tt.notMatch(r.output, 'Solo5:');
  tt.match(r.output, "Command line is: 'x'");
});

t.test('a unikernel cannot be executed directly on the host', async (tt) => {
  // env(1) execs it and reports execve's error: the interpreter path does not exist.
  const r = spawnSync('env', [app('hello')], { encoding: 'utf8' });
  tt.equal(r.status, 127);
  tt.match(r.stderr, /No such file or directory/);
  const direct = spawnSync(app('hello'), [], { encoding: 'utf8' });
  tt.match(direct.error, { code: 'ENOENT' }, 'execve fails with ENOENT');
  tt.equal(direct.stdout ?? '', '', 'no guest code ran');
});
