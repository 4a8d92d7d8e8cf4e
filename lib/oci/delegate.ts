// delegate.ts: which containers are unikernels, and handing every other one (pause sandboxes, sidecars) to runc.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { queryAbi } from '../elf/parse';
import { readUserFile } from '../elf/load';
import { MAX_FILE_SIZE } from '../elf/constants';
import { inRootfs, URUNC } from './annotations';
import { OciError } from './errors';
import { restorePath } from './network';
import { readOciJson } from './spec';

/** What create does with a bundle, and why (one debug line in --log says it). */
export type Kind = { kind: 'unikernel'; why: string } | { kind: 'delegate'; why: string };

/** Annotations that mark a Kubernetes pod's sandbox (pause): containerd's CRI, then CRI-O's. */
export const SANDBOX_ANNOTATIONS: readonly [string, string][] = [
  ['io.kubernetes.cri.container-type', 'sandbox'],
  ['io.kubernetes.cri-o.ContainerType', 'sandbox'],
];
/** solo5-oci's own: "true" or "false" decides without looking at the image. */
export const KIND_ANNOTATION = 'org.solo5-node.unikernel';
/** Where an ELF's program headers and Solo5 notes are, in every unikernel this project or Solo5 builds. */
const HEAD_BYTES = 64 << 10;

type Json = { [k: string]: unknown };
const asObj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});

/** Whether `file` is a Solo5 ELF (it has an ABI1 note); the reason it is not, otherwise. */
function solo5Elf(file: string): string | undefined {
  const fail = (why: string) => new OciError(why);
  let head: Buffer;
  try {
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      if (!fs.fstatSync(fd).isFile()) return 'not a regular file';
      head = Buffer.alloc(HEAD_BYTES);
      head = head.subarray(0, fs.readSync(fd, head, 0, HEAD_BYTES, 0));
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    return `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`;
  }
  if (head.length < 4 || head.readUInt32BE(0) !== 0x7f454c46) return 'not an ELF file';
  try {
    queryAbi(head, file);
    return undefined;
  } catch {
    // The notes may lie past the head: look at the whole file before saying no.
  }
  try {
    queryAbi(readUserFile(file, MAX_FILE_SIZE, fail), file);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Decide, in a fixed order, whether the container is a unikernel: a pod
 * sandbox never is; then our annotation; then urunc's (its binary key, or a
 * /urunc.json in the image); then a Solo5 ELF at process.args[0] in the rootfs.
 * Pure but for reading the bundle; never throws (a config.json too broken to
 * read is the unikernel path's to refuse, in its words).
 */
export function classify(json: unknown, bundle: string): Kind {
  const spec = asObj(json);
  const ann = asObj(spec.annotations);
  for (const [key, value] of SANDBOX_ANNOTATIONS) {
    if (ann[key] === value) return { kind: 'delegate', why: `a pod sandbox (${key}=${value})` };
  }
  if (ann[KIND_ANNOTATION] === 'false') return { kind: 'delegate', why: `${KIND_ANNOTATION}=false` };
  if (ann[KIND_ANNOTATION] === 'true') return { kind: 'unikernel', why: `${KIND_ANNOTATION}=true` };
  if (typeof ann[URUNC.binary] === 'string') return { kind: 'unikernel', why: `annotation ${URUNC.binary}` };
  const rootPath = asObj(spec.root).path;
  if (typeof rootPath !== 'string') return { kind: 'unikernel', why: 'no root.path to probe' };
  const rootfs = path.resolve(bundle, rootPath);
  try {
    fs.lstatSync(path.join(rootfs, 'urunc.json'));
    return { kind: 'unikernel', why: '/urunc.json in the image' };
  } catch {
    // None: probe the command.
  }
  const args = asObj(spec.process).args;
  const arg0 = Array.isArray(args) && typeof args[0] === 'string' ? args[0] : undefined;
  if (arg0 === undefined || arg0 === '') return { kind: 'delegate', why: 'no process.args[0]' };
  let file: string;
  try {
    file = inRootfs(rootfs, arg0, 'process.args[0]');
  } catch (e) {
    return { kind: 'delegate', why: (e as Error).message };
  }
  const not = solo5Elf(file);
  if (not === undefined) return { kind: 'unikernel', why: `process.args[0] ${arg0} is a Solo5 ELF` };
  return { kind: 'delegate', why: `process.args[0] ${arg0}: ${not}` };
}

/** classify() of BUNDLE/config.json; an unreadable one is the unikernel path's to refuse. */
export function classifyBundle(bundle: string): Kind {
  let json: unknown;
  try {
    json = readOciJson(path.join(bundle, 'config.json'), 'config.json');
  } catch {
    return { kind: 'unikernel', why: 'config.json unreadable' };
  }
  return classify(json, bundle);
}

/** runc's state root beside ours: never inside it, where a container id could collide with it. */
export function runcRoot(root: string): string {
  return `${root.replace(/\/+$/, '')}-runc`;
}

/** runc: the first `runc` on PATH (completed with the sbin directories engines leave out, see network.ts). */
export function findRunc(): string {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const f = path.join(dir, 'runc');
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return f;
    } catch {
      // Next directory.
    }
  }
  throw new OciError('runc is not installed (solo5-oci runs containers that are not unikernels with runc, found on PATH)');
}

/**
 * The caller's argv with only the global --root changed (or added, before the
 * command) to runc's root. `next` is the index of the command in argv.
 */
export function runcArgv(argv: readonly string[], next: number, root: string): string[] {
  const out = [...argv];
  for (let i = 0; i < next; i++) {
    const m = /^--?root(=.*)?$/.exec(out[i]);
    if (m === null) continue;
    if (m[1] !== undefined) out[i] = `--root=${runcRoot(root)}`;
    else out[i + 1] = runcRoot(root);
    return out;
  }
  return ['--root', runcRoot(root), ...out];
}

/** Become runc with the caller's arguments (exec: same pid, stdio, environment); returns only by throwing. */
export function execRunc(argv: readonly string[], next: number, root: string): never {
  const runc = findRunc();
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the addon is loaded only on this path
  const { native } = require('../native') as typeof import('../native');
  restorePath();
  try {
    return native().execFile(runc, ['runc', ...runcArgv(argv, next, root)]);
  } catch (e) {
    throw new OciError(`cannot run ${runc}: ${(e as Error).message}`);
  }
}

/** runc's containers under its root beside ours, for list (none when runc is missing or has none). */
export function runcList(root: string): unknown[] {
  let runc: string;
  try {
    runc = findRunc();
  } catch {
    return [];
  }
  const r = spawnSync(runc, ['--root', runcRoot(root), 'list', '--format', 'json'], { encoding: 'utf8' });
  try {
    const all = JSON.parse(r.stdout) as unknown;
    return Array.isArray(all) ? all : [];
  } catch {
    return [];
  }
}
