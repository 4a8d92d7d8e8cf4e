// precompiled.ts: BPF programs compiled at build time for the launch paths, so a cold CLI does not compile them.
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../native';

/** Written by tools/bundle-cli.js; test/seccomp-precompiled.test.ts checks it equals a fresh compile. */
export const precompiledPath = path.join(packageRoot, 'dist', 'lib', 'seccomp', 'precompiled.json');

let table: Record<string, string> | null | undefined;

/**
 * The program stored under `key` (e.g. "spt:5,6" or "hvt:2"), or undefined.
 * Compiling costs ~4 ms in a cold process; reading this table well under 1 ms.
 */
export function precompiled(key: string): Buffer | undefined {
  if (table === undefined) {
    try {
      const parsed: unknown = JSON.parse(fs.readFileSync(precompiledPath, 'utf8'));
      table = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, string>) : null;
    } catch {
      table = null;
    }
  }
  const b64 = table?.[key];
  return typeof b64 === 'string' ? Buffer.from(b64, 'base64') : undefined;
}
