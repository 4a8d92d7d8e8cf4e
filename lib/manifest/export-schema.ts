// export-schema.ts: writes manifests/solo5-manifest.schema.json from the zod schema (npm run, or node dist/lib/manifest/export-schema.js).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manifestJsonSchema } from './schema.js';

/** The committed file's exact text; test/manifest.test.ts compares against it. */
export function manifestJsonSchemaText(): string {
  return `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`;
}

/** Repository-relative location of the exported schema. */
export const SCHEMA_FILE = join('manifests', 'solo5-manifest.schema.json');

if (require.main === module) {
  const root = process.argv[2] ?? process.cwd();
  writeFileSync(join(root, SCHEMA_FILE), manifestJsonSchemaText());
}
