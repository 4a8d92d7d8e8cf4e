// generate.ts: a manifest JSON file (untrusted user input) validated and written out as C carrying the MFT1 note.
import { writeFileSync } from 'node:fs';
import { readUserFile } from '../elf/load.js';
import { ManifestError, UsageError } from '../errors.js';
import { manifestToCSource } from './csource.js';
import { parseManifestJson } from './schema.js';

/** A manifest is a few kilobytes at most (63 devices); anything near this limit is not one. */
export const MAX_MANIFEST_JSON = 1 << 20;

/**
 * What `solo5-elftool gen-manifest` and solo5-build do: reads `input`, refuses it with a
 * ManifestError naming the file and field, else writes the C source to `output`
 * (UsageError when it cannot be written).
 */
export function generateManifestC(input: string, output: string): void {
  const text = readUserFile(input, MAX_MANIFEST_JSON, (why) => new ManifestError(input, why)).toString('utf8');
  const source = manifestToCSource(parseManifestJson(text, input));
  try {
    writeFileSync(output, source);
  } catch (e) {
    const code = e instanceof Error && 'code' in e ? String(e.code) : String(e);
    throw new UsageError(`${output}: cannot write: ${code}`);
  }
}
