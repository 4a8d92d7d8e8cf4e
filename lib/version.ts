// version.ts: the package version, read once from package.json.
import fs from 'node:fs';
import path from 'node:path';

let cached: string | undefined;

export function version(): string {
  if (cached === undefined) {
    const pkg: unknown = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
    const v = typeof pkg === 'object' && pkg !== null ? (pkg as { version?: unknown }).version : undefined;
    cached = typeof v === 'string' ? v : 'unknown';
  }
  return cached;
}
