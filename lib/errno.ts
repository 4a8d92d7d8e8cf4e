// errno.ts: host errors in strerror's words ("No such file or directory", not ENOENT), as upstream's tenders print them.
import os from 'node:os';
import { native } from './native';

const numbers: Readonly<Record<string, number>> = os.constants.errno;

/** glibc's words for an errno name, or undefined when it is none or the addon cannot say. */
function wordsFor(name: string): string | undefined {
  const n = Object.hasOwn(numbers, name) ? numbers[name] : undefined;
  if (n === undefined) return undefined;
  try {
    return native().strerror(n);
  } catch {
    return undefined;
  }
}

/** The words for a failed Node or addon call (its `code`, e.g. ENOENT), else its message. */
export function errnoWords(e: unknown): string {
  const code = typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
  if (code !== undefined) return wordsFor(code) ?? code;
  return e instanceof Error ? e.message : String(e);
}

/**
 * A line with every errno name that follows ": " or "(" in it (how the addon, the helper and the
 * tender name them: "memfd_create failed: EMFILE") put in strerror's words.
 */
export function withErrnoWords(line: string): string {
  return line.replace(/(: |\()(E[A-Z0-9]{2,})\b/g, (all, before: string, name: string) => {
    const words = wordsFor(name);
    return words === undefined ? all : `${before}${words}`;
  });
}

/**
 * strerror's words for the last errno name in an addon's message ("... TUNSETIFF failed: EPERM"),
 * else for `otherwise` (an errno name), else the message.
 */
export function lastErrnoWords(message: string, otherwise?: string): string {
  const names = [...(message.match(/\bE[A-Z0-9]{2,}\b/g) ?? [])].reverse();
  if (otherwise !== undefined) names.push(otherwise);
  for (const name of names) {
    const words = wordsFor(name);
    if (words !== undefined) return words;
  }
  return message;
}
