// paths.ts: where the tests find the built pieces of the project.
import fs from 'node:fs';
import path from 'node:path';

export const root = path.resolve(__dirname, '..', '..', '..');
export const sptCli = path.join(root, 'dist', 'bin', 'solo5-spt.js');
export const elftoolCli = path.join(root, 'dist', 'bin', 'solo5-elftool.js');

/** Path of a bundled unikernel, e.g. app('hello') for guest/build/hello.spt. */
export function app(name: string, target = 'spt'): string {
  return path.join(root, 'guest', 'build', `${name}.${target}`);
}

export function exists(p: string): boolean {
  return fs.existsSync(p);
}
