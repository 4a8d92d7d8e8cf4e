// seccomp-precompiled.test.ts: the programs compiled at build time are exactly what the compiler produces now.
import fs from 'node:fs';
import t from 'tap';
import { compilePolicy, sptGuestPolicy } from '../lib/seccomp';
import { hvtHelperPolicy } from '../lib/seccomp/hvt';
import { precompiledPath } from '../lib/seccomp/precompiled';

t.test('precompiled.json matches a fresh compile of every policy it holds', async (tt) => {
  const table = JSON.parse(fs.readFileSync(precompiledPath, 'utf8')) as Record<string, string>;
  tt.same(Object.keys(table).sort(), ['hvt:0', 'hvt:2', 'spt:', 'spt:5,6'], 'the launch paths are covered');
  for (const fds of [[], [5, 6]]) {
    tt.equal(table[`spt:${fds.join(',')}`], compilePolicy(sptGuestPolicy({ doorbellFds: fds })).toString('base64'), `spt doorbells [${fds}]`);
  }
  for (const nd of [0, 2]) {
    tt.equal(table[`hvt:${nd}`], compilePolicy(hvtHelperPolicy({ ndoorbells: nd })).toString('base64'), `hvt ndoorbells ${nd}`);
  }
});
