// spec.ts: the part of the OCI runtime-spec config.json that solo5-oci reads, checked with zod.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { OciError } from './errors';

const Mount = z.looseObject({
  destination: z.string().min(1),
  type: z.string().optional(),
  source: z.string().optional(),
  options: z.array(z.string()).optional(),
});

const Namespace = z.looseObject({ type: z.string().min(1), path: z.string().optional() });

const Hook = z.looseObject({ path: z.string() });

export const SpecSchema = z.looseObject({
  ociVersion: z.string(),
  process: z.looseObject({
    terminal: z.boolean().optional(),
    args: z.array(z.string()).min(1, 'the unikernel path is required as args[0]'),
    env: z.array(z.string()).optional(),
    cwd: z.string().optional(),
    user: z.looseObject({ uid: z.number().int(), gid: z.number().int() }).optional(),
  }),
  root: z.looseObject({ path: z.string().min(1), readonly: z.boolean().optional() }),
  mounts: z.array(Mount).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  hooks: z.record(z.string(), z.array(Hook)).optional(),
  linux: z
    .looseObject({
      namespaces: z.array(Namespace).optional(),
      uidMappings: z.array(z.unknown()).optional(),
      resources: z
        .looseObject({
          memory: z.looseObject({ limit: z.number().int().optional() }).nullable().optional(),
        })
        .nullable()
        .optional(),
      cgroupsPath: z.string().optional(),
    })
    .optional(),
});

export type Spec = z.infer<typeof SpecSchema>;
export type SpecMount = z.infer<typeof Mount>;

/** Renders a zod issue path as a person would write it: process.args[0]. */
function where(p: readonly PropertyKey[]): string {
  return p.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s === '' ? String(k) : `${s}.${String(k)}`), '');
}

/** Read BUNDLE/config.json; any problem is one line naming the file and the field. */
export function loadSpec(bundle: string): Spec {
  let st: fs.Stats;
  try {
    st = fs.statSync(bundle);
  } catch {
    throw new OciError(`bundle ${bundle}: no such directory`);
  }
  if (!st.isDirectory()) throw new OciError(`bundle ${bundle}: not a directory`);
  const file = path.join(bundle, 'config.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new OciError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new OciError(`${file}: not JSON (${(e as Error).message})`);
  }
  const r = SpecSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    const at = where(issue.path);
    throw new OciError(`${file}: ${at === '' ? '' : `${at}: `}${issue.message}`);
  }
  return r.data;
}
