// images.ts: sparse block images in a per-file temporary directory, removed when the test file ends.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';

/** Returns image(name, size): the path of a new sparse file of `size` bytes. */
export function imageMaker(prefix: string): (name: string, size: number) => string {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
  return (name, size) => {
    const p = path.join(tmp, name);
    fs.writeFileSync(p, Buffer.alloc(0));
    fs.truncateSync(p, size);
    return p;
  };
}
