// sanitize-preload.ts: loaded with --require by `npm run test:sanitize` only: the sanitizer builds stand in for the normal ones.
//
// Nothing in lib/ or bin/ looks for these builds: the substitution happens here, in the test
// process, by intercepting the loading of the two .node files and pointing the in-process
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

type NodeLoader = (module: unknown, filename: string) => void;
const extensions = (Module as unknown as { _extensions: Record<string, NodeLoader> })._extensions;
const loadNode = extensions['.node'];
extensions['.node'] = (module, filename) => loadNode(module, substitutes.get(filename) ?? filename);

// The in-process tender execs the UBSan helper (trap mode: a finding is a SIGILL in the guest process).
const helper = path.join(root, 'addon', 'helper', 'build-sanitize', 'solo5-helper');
if (fs.existsSync(helper)) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- must be the very module object lib/ uses, loaded after the hook
  const native = require(path.join(root, 'dist', 'lib', 'native.js')) as { helperPath: string };
  native.helperPath = helper;
}
