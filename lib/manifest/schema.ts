// schema.ts: the zod schema of the Solo5 JSON manifest and its parser with path-naming errors.
import { z } from 'zod';
import { ManifestError } from '../errors.js';
import { DEVICE_NAME_RE, MAX_DEVICES, TOO_MANY_MESSAGE, firstDuplicate, type Manifest } from './types.js';
import { quote } from '../quote';

const DeviceSchema = z
  .strictObject({
    name: z.string().regex(DEVICE_NAME_RE, 'device name must be 1 to 67 characters from [A-Za-z0-9]'),
    type: z.enum(['NET_BASIC', 'BLOCK_BASIC']),
  })
  .meta({ description: 'A device the application uses; the tender must attach every one.' });

/** The manifest a unikernel author writes (Solo5's published JSON format). */
export const ManifestSchema = z
  .strictObject({
    type: z.literal('solo5.manifest'),
    version: z.literal(1),
    devices: z
      .array(DeviceSchema)
      .max(MAX_DEVICES, TOO_MANY_MESSAGE)
      .superRefine((devices, ctx) => {
        const dup = firstDuplicate(devices.map((d) => d.name));
        if (dup) {
          ctx.addIssue({
            code: 'custom',
            path: [dup.index, 'name'],
            message: `duplicate device name "${quote(dup.name)}"`,
          });
        }
      }),
  })
  .meta({
    title: 'Solo5 application manifest',
    description: 'Devices a Solo5 unikernel declares; device names must also be unique.',
  });

// Compile-time check that the hand-written Manifest type and the schema agree both ways.
type Inferred = z.infer<typeof ManifestSchema>;
const sameShape: [Inferred extends Manifest ? true : false, Manifest extends Inferred ? true : false] = [true, true];
void sameShape;

/** Renders a zod issue path the way a person would write it: devices[2].name. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

/** One line for the first issue: unknown keys are named in the path itself (devices[0].colour). */
function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const more = issue.keys.length > 1 ? ` (and ${issue.keys.slice(1).join(', ')})` : '';
    return `${formatPath([...issue.path, issue.keys[0]])}: unknown key${more}`;
  }
  return `${formatPath(issue.path)}: ${issue.message}`;
}

/** Validates an already-parsed value; errors name the source and the first path at fault. */
export function parseManifestValue(value: unknown, source: string): Manifest {
  const result = ManifestSchema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new ManifestError(source, describeIssue(issue));
}

/** Parses the text of a JSON manifest (input from the user's file). */
export function parseManifestJson(text: string, source: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new ManifestError(source, `invalid JSON: ${why.split('\n')[0]}`);
  }
  return parseManifestValue(value, source);
}

/** The JSON Schema written to manifests/solo5-manifest.schema.json (uniqueness of names is not expressible there). */
export function manifestJsonSchema(): object {
  return z.toJSONSchema(ManifestSchema);
}
