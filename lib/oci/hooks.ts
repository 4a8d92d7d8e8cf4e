// hooks.ts: OCI hooks (runtime-spec config.md#posix-platform-hooks): in list order, the state on stdin, killed past their timeout.
import { spawnSync } from 'node:child_process';
import { OciError } from './errors';
import type { SpecHook } from './spec';

/** The phases, in the order a container meets them. */
export const HOOK_PHASES = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
export type HookPhase = (typeof HOOK_PHASES)[number];
/** config.json's hooks, by phase. */
export type Hooks = { [p in HookPhase]?: SpecHook[] };
/** Where create keeps them in the state directory for start and delete (addon/oci's front door then steps aside). */
export const HOOKS_FILE = 'hooks.json';

/** One line of what a hook printed, for the error (the engine shows one line). */
function firstWords(out: string): string {
  const line = out.trim().split('\n').pop() ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}

/**
 * Run `phase`'s hooks one after the other, as runc does: each gets the state
 * JSON on stdin, `args[0]` as its arg0 (it may differ from `path`), exactly its
 * own `env` (nothing of ours), and is SIGKILLed after `timeout` seconds. The
 * first failure stops the phase and is thrown, worded as runc words it
 * ("error running prestart hook #0: ..."), with what the hook printed.
 */
export function runHooks(phase: HookPhase, hooks: readonly SpecHook[] | undefined, state: object): void {
  const input = JSON.stringify(state);
  (hooks ?? []).forEach((h, i) => {
    const [arg0, ...rest] = h.args !== undefined && h.args.length > 0 ? h.args : [h.path];
    const r = spawnSync(h.path, rest, {
      argv0: arg0,
      env: Object.fromEntries(
        (h.env ?? []).map((e) => (e.includes('=') ? [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)] : [e, ''])),
      ),
      input,
      encoding: 'utf8',
      timeout: h.timeout !== undefined ? h.timeout * 1000 : undefined,
      killSignal: 'SIGKILL',
      maxBuffer: 1 << 20,
    });
    const at = `error running ${phase} hook #${i}: ${h.path}`;
    const said = firstWords((r.stderr ?? '').trim() !== '' ? r.stderr : (r.stdout ?? ''));
    const tail = said !== '' ? `: ${said}` : '';
    const err: NodeJS.ErrnoException | undefined = r.error;
    const code = err?.code;
    if (code === 'ETIMEDOUT' || (h.timeout !== undefined && r.signal === 'SIGKILL'))
      throw new OciError(`${at}: timed out after ${h.timeout}s${tail}`);
    // EPIPE: the hook exited without reading its stdin, which the spec allows.
    if (err !== undefined && code !== 'EPIPE') throw new OciError(`${at}: ${code ?? err.message}`);
    if (r.signal !== null) throw new OciError(`${at}: killed by ${r.signal}${tail}`);
    if (r.status !== 0) throw new OciError(`${at}: exit status ${r.status}${tail}`);
  });
}
