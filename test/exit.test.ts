// exit.test.ts: how the guest's end maps to Solo5's exit-status conventions.
import t from 'tap';
import { classifyExit, describeExit } from '../lib/tender/exit';

t.test('exit statuses', async (tt) => {
  tt.match(classifyExit(0, null, ''), { kind: 'exit', status: 0, aborted: false });
  tt.match(classifyExit(44, null, ''), { kind: 'exit', status: 44 });
  tt.match(classifyExit(255, null, ''), { kind: 'exit', status: 255, aborted: true });
  tt.match(classifyExit(null, 'SIGSEGV', ''), { kind: 'signal', status: 139, signal: 'SIGSEGV' });
  tt.match(classifyExit(null, 'SIGSYS', ''), { kind: 'signal', status: 159, signal: 'SIGSYS' });
  tt.match(classifyExit(null, 'SIGKILL', ''), { kind: 'signal', status: 137 });
  tt.match(classifyExit(null, 'SIGILL', ''), { kind: 'signal', status: 132 });
});

t.test('anything the helper wrote means the guest never ran', async (tt) => {
  const e = classifyExit(1, null, '\nsolo5-helper: mmap guest memory failed: ENOMEM\nmore\n');
  tt.match(e, { kind: 'error', status: 1, error: 'solo5-helper: mmap guest memory failed: ENOMEM' });
  tt.equal(describeExit(e), 'solo5-helper: mmap guest memory failed: ENOMEM');
});

t.test('descriptions', async (tt) => {
  tt.equal(describeExit(classifyExit(0, null, '')), undefined);
  tt.match(describeExit(classifyExit(null, 'SIGSYS', '')), /SIGSYS.*seccomp.*159/);
});
