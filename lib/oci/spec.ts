// spec.ts: the part of the OCI runtime-spec config.json that solo5-oci reads, checked by hand (see docs/decisions.md).
import fs from 'node:fs';
import path from 'node:path';
import { readUserFile } from '../elf/load';
import { OciError } from './errors';

/** config.json and urunc.json are kilobytes; a file near this size is not one of them. */
export const MAX_OCI_JSON = 4 << 20;

/**
 * V8's reason for a JSON.parse failure without the text it quotes (`Unexpected
 * token 'x', "...the file..." is not valid JSON`): the error names the file,
 * the reason and, where V8 gives it, the position, never what the file holds.
 */
function jsonReason(message: string): string {
  const reason = message.split('"')[0].replace(/^Unexpected token .*/, 'Unexpected token');
  return reason.replace(/,\s*$/, '').trim();
}

/**
 * A JSON file from the bundle or the image, which are user input: read with
 * readUserFile (a regular file of at most MAX_OCI_JSON bytes, so a FIFO or
 * /dev/zero is refused at once). `name` starts each one-line error.
 */
export function readOciJson(file: string, name: string): unknown {
  const text = readUserFile(file, MAX_OCI_JSON, (why) => new OciError(`${name}: ${why}`)).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new OciError(`${name}: not JSON (${jsonReason((e as Error).message)})`);
  }
}

export interface SpecMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

/** One OCI hook: what runs, with exactly this argv (args[0] as arg0) and env, killed after timeout seconds. */
export interface SpecHook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export interface SpecNamespace {
  type: string;
  path?: string;
}

/** The fields solo5-oci reads; every other field of config.json is allowed and ignored. */
export interface Spec {
  ociVersion: string;
  process: {
    terminal?: boolean;
    args: string[];
    env?: string[];
    cwd?: string;
    user?: { uid: number; gid: number };
  };
  root: { path: string; readonly?: boolean };
  mounts?: SpecMount[];
  annotations?: { [k: string]: string };
  hooks?: { [k: string]: SpecHook[] };
  linux?: {
    namespaces?: SpecNamespace[];
    uidMappings?: unknown[];
    resources?: { memory?: { limit?: number } | null; cpu?: { quota?: number; period?: number; shares?: number } | null } | null;
    cgroupsPath?: string;
  };
}

/** A field that is wrong: `at` as a person writes it (process.args[0]). */
class Bad extends Error {
  constructor(
    readonly at: string,
    message: string,
  ) {
    super(message);
  }
}

type Obj = { [k: string]: unknown };
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function obj(v: unknown, at: string): Obj {
  if (!isObj(v)) throw new Bad(at, v === undefined ? 'is required' : 'expected an object');
  return v;
}

function str(v: unknown, at: string, nonEmpty = false): string {
  if (typeof v !== 'string') throw new Bad(at, v === undefined ? 'is required' : 'expected a string');
  if (nonEmpty && v === '') throw new Bad(at, 'must not be empty');
  return v;
}

/** Check `o[key]` with `check` when present; absent (undefined) is allowed. */
function opt<T>(o: Obj, key: string, at: string, check: (v: unknown, at: string) => T): T | undefined {
  return o[key] === undefined ? undefined : check(o[key], at === '' ? key : `${at}.${key}`);
}

function arr<T>(v: unknown, at: string, each: (v: unknown, at: string) => T): T[] {
  if (!Array.isArray(v)) throw new Bad(at, 'expected an array');
  return v.map((x, i) => each(x, `${at}[${i}]`));
}

function bool(v: unknown, at: string): boolean {
  if (typeof v !== 'boolean') throw new Bad(at, 'expected true or false');
  return v;
}

function int(v: unknown, at: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new Bad(at, 'expected an integer');
  return v;
}

/** An object whose keys are the user's (annotations, hook kinds): the copy has no prototype, so `__proto__` stays a key. */
function record<T>(v: unknown, at: string, each: (v: unknown, at: string) => T): { [k: string]: T } {
  const o = obj(v, at);
  const out = Object.create(null) as { [k: string]: T };
  for (const k of Object.keys(o)) out[k] = each(o[k], `${at}.${k}`);
  return out;
}

function hook(v: unknown, at: string): SpecHook {
  const h = obj(v, at);
  const hookPath = str(h.path, `${at}.path`, true);
  if (!path.isAbsolute(hookPath)) throw new Bad(`${at}.path`, 'a hook path must be absolute');
  const timeout = opt(h, 'timeout', at, int);
  if (timeout !== undefined && timeout <= 0) throw new Bad(`${at}.timeout`, 'must be a positive number of seconds');
  return { path: hookPath, args: opt(h, 'args', at, (x, a) => arr(x, a, str)), env: opt(h, 'env', at, (x, a) => arr(x, a, str)), timeout };
}

function checkSpec(json: unknown): Spec {
  const top = obj(json, '');
  const p = obj(top.process, 'process');
  const args = arr(p.args, 'process.args', str);
  if (args.length === 0) throw new Bad('process.args', 'the unikernel path is required as args[0]');
  const user = opt(p, 'user', 'process', (v, at) => {
    const u = obj(v, at);
    return { uid: int(u.uid, `${at}.uid`), gid: int(u.gid, `${at}.gid`) };
  });
  const r = obj(top.root, 'root');
  const mount = (v: unknown, at: string): SpecMount => {
    const m = obj(v, at);
    return {
      destination: str(m.destination, `${at}.destination`, true),
      type: opt(m, 'type', at, str),
      source: opt(m, 'source', at, str),
      options: opt(m, 'options', at, (x, a) => arr(x, a, str)),
    };
  };
  const linux = opt(top, 'linux', '', (v, at) => {
    const l = obj(v, at);
    const resources =
      l.resources === null
        ? null
        : opt(l, 'resources', at, (x, a) => {
            const res = obj(x, a);
            const memory = res.memory === null ? null : opt(res, 'memory', a, (y, b) => ({ limit: opt(obj(y, b), 'limit', b, int) }));
            const cpu =
              res.cpu === null
                ? null
                : opt(res, 'cpu', a, (y, b) => {
                    const c = obj(y, b);
                    return { quota: opt(c, 'quota', b, int), period: opt(c, 'period', b, int), shares: opt(c, 'shares', b, int) };
                  });
            return { memory, cpu };
          });
    return {
      namespaces: opt(l, 'namespaces', at, (x, a) =>
        arr(x, a, (n, b) => {
          const ns = obj(n, b);
          return { type: str(ns.type, `${b}.type`, true), path: opt(ns, 'path', b, str) };
        }),
      ),
      uidMappings: opt(l, 'uidMappings', at, (x, a) => arr(x, a, (y) => y)),
      resources,
      cgroupsPath: opt(l, 'cgroupsPath', at, str),
    };
  });
  return {
    ociVersion: str(top.ociVersion, 'ociVersion'),
    process: {
      terminal: opt(p, 'terminal', 'process', bool),
      args,
      env: opt(p, 'env', 'process', (v, at) => arr(v, at, str)),
      cwd: opt(p, 'cwd', 'process', str),
      user,
    },
    root: { path: str(r.path, 'root.path', true), readonly: opt(r, 'readonly', 'root', bool) },
    mounts: opt(top, 'mounts', '', (v, at) => arr(v, at, mount)),
    annotations: opt(top, 'annotations', '', (v, at) => record(v, at, str)),
    hooks: opt(top, 'hooks', '', (v, at) => record(v, at, (x, a) => arr(x, a, hook))),
    linux,
  };
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
  const json = readOciJson(file, file);
  try {
    return checkSpec(json);
  } catch (e) {
    if (e instanceof Bad) throw new OciError(`${file}: ${e.at === '' ? '' : `${e.at}: `}${e.message}`);
    throw e;
  }
}
