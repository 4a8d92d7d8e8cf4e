// load.ts: reads a unikernel file from disk (refusing non-regular and oversized files) and parses it.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { errnoWords } from '../errno.js';
import { ElfError, upstreamSays } from '../errors.js';
import { MAX_FILE_SIZE } from './constants.js';
import { parseElf, type ElfOptions, type LoadedElf } from './parse.js';

function errnoOf(e: unknown): string {
  if (e instanceof Error && 'code' in e && typeof e.code === 'string') return e.code;
  return String(e);
}

/**
 * Opens a file a user named, for reading, and returns it with its size.
 * O_NONBLOCK keeps a FIFO or a device from blocking the open; fstat then
 * refuses anything but a regular file (and, given `limit`, one larger than
 * it). Callers read no further than `size`, so neither /dev/zero nor a file
 * growing under them can make them read forever. `error` turns the one-line
 * reason into the caller's error class; on any error the fd is closed.
 */
export function openUserFile(
  file: string,
  error: (why: string, openFailure?: unknown) => Error,
  limit = Infinity,
): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw error(`cannot open: ${errnoOf(e)}`, e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw error('not a regular file');
    if (st.size > limit) throw error(`${st.size} bytes, larger than the ${limit}-byte limit`);
    return { fd, size: st.size };
  } catch (e) {
    closeSync(fd);
    throw asUserFileError(e, error);
  }
}

/** A failed read or stat becomes the caller's one line; the caller's own errors pass through. */
export function asUserFileError(e: unknown, error: (why: string) => Error): Error {
  if (e instanceof Error && !('syscall' in e)) return e;
  return error(`cannot read: ${errnoOf(e)}`);
}

/** Reads a file a user named, whole (openUserFile's checks, at most `limit` bytes). */
export function readUserFile(file: string, limit: number, error: (why: string, openFailure?: unknown) => Error): Buffer {
  const { fd, size } = openUserFile(file, error, limit);
  try {
    const buf = Buffer.alloc(size);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return got === buf.length ? buf : buf.subarray(0, got);
  } catch (e) {
    throw asUserFileError(e, error);
  } finally {
    closeSync(fd);
  }
}

/** Reads a unikernel file whole (regular files of at most MAX_FILE_SIZE bytes). */
export function readElfFile(file: string): Buffer {
  return readUserFile(file, MAX_FILE_SIZE, (why, openFailure) => {
    const e = new ElfError(file, why);
    return openFailure === undefined ? e : upstreamSays(e, `${file}: Could not open: ${errnoWords(openFailure)}`, true);
  });
}

/** Reads and validates a unikernel ELF; see parseElf for the rules. */
export function loadElf(file: string, opts: ElfOptions): LoadedElf {
  return parseElf(readElfFile(file), file, opts);
}
