// sanitize-preload.ts: loaded with --require by `npm run test:sanitize` only: the sanitizer builds stand in for the normal ones.
//
// Nothing in lib/ or bin/ looks for these builds: the substitution happens here, in the test
// process, by redirecting the requires of the two .node files and pointing the in-process
// tender at the UBSan helper. The shipped CLIs have no such switch.
import Module from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..', '..');
const sanitized = path.join(root, 'test', 'sanitize', 'build', 'Release');
const substitutes = new Map([
  [path.join(root, 'build', 'Release', 'solo5_node.node'), path.join(sanitized, 'solo5_node.node')],
  [path.join(root, 'test', 'native', 'build', 'Release', 'sn_test.node'), path.join(sanitized, 'sn_test.node')],
]);
for (const file of substitutes.values()) {
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run "npm run test:sanitize", which builds it`);
}

// lib/native.ts and test/support/native-test.ts require these by absolute path: the request itself is
// redirected, so the normal builds need not even exist.
type Resolve = (request: string, ...rest: unknown[]) => string;
const loader = Module as unknown as { _resolveFilename: Resolve };
const resolve = loader._resolveFilename;
loader._resolveFilename = function (this: unknown, request, ...rest) {
  return substitutes.get(request) ?? resolve.call(this, request, ...rest);
};

// The in-process tender execs the UBSan helper (trap mode: a finding is a SIGILL in the guest process).
const helper = path.join(root, 'addon', 'helper', 'build-sanitize', 'solo5-helper');
if (fs.existsSync(helper)) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- must be the very module object lib/ uses, loaded after the hook
  const native = require(path.join(root, 'dist', 'lib', 'native.js')) as { helperPath: string };
  native.helperPath = helper;
}
