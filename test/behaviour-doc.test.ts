// behaviour-doc.test.ts: docs/behaviour.md is the rendering of the behaviour table (ring- and Solo5-ABI builds, virtio beside the latter), and is current.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { behaviour } from './support/behaviour';
import { root } from './support/paths';

t.test('docs/behaviour.md matches test/support/behaviour.ts', async (tt) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- tools/ is plain CommonJS outside the TypeScript project
  const { render } = require(path.join(root, 'tools', 'render-behaviour.js')) as { render: (table: unknown) => string };
  const current = fs.readFileSync(path.join(root, 'docs', 'behaviour.md'), 'utf8');
  tt.equal(current, render(behaviour), 'run `node tools/render-behaviour.js` after changing the table');
  const [ring, solo5] = current.split('\n## Solo5-ABI builds');
  tt.ok(solo5, 'a section for the Solo5-ABI builds');
  for (const row of behaviour) {
    tt.match(ring, `| ${row.app} |`, `${row.app} is listed for the ring-ABI builds`);
    if (row.solo5Hvt) tt.match(solo5 ?? '', `| ${row.app} |`, `${row.app} is listed for the Solo5-ABI builds`);
    else tt.match(solo5 ?? '', new RegExp(`Ring-ABI only, .*\\b${row.app}\\b`), `${row.app} is named ring-only`);
    // The Solo5-ABI table's virtio columns: the status where the app has a virtio build, '-' where it has none.
    const line = (solo5 ?? '').split('\n').find((l) => l.startsWith(`| ${row.app} |`));
    if (row.solo5Hvt && line !== undefined) {
      const virtioStatus = line.split(' | ')[6];
      tt.equal(virtioStatus, row.virtio ? String(row.virtio.status) : '-', `${row.app}: virtio column`);
    }
  }
  tt.match(solo5 ?? '', /\| virtio status \| virtio markers \|/, 'the Solo5-ABI table has virtio columns');
  tt.match(solo5 ?? '', /## Where virtio differs, and why/, 'and says where virtio differs');
});
