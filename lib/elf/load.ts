// load.ts: reads a unikernel file from disk (refusing non-regular and oversized files) and parses it.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { ElfError } from '../errors.js';
import { MAX_FILE_SIZE } from './constants.js';
import { parseElf, type ElfOptions, type LoadedElf } from './parse.js';

function errnoOf(e: unknown): string {
  if (e instanceof Error && 'code' in e && typeof e.code === 'string') return e.code;
  return String(e);
}

/**
 * Reads `file` whole. O_NONBLOCK keeps a FIFO or a device from blocking the
 * open; fstat then refuses anything but a regular file of sane size.
 */
export function readElfFile(file: string): Buffer {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new ElfError(file, `cannot open: ${errnoOf(e)}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ElfError(file, 'not a regular file');
    if (st.size > MAX_FILE_SIZE) throw new ElfError(file, `${st.size} bytes, larger than the ${MAX_FILE_SIZE}-byte limit`);
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return got === buf.length ? buf : buf.subarray(0, got);
  } catch (e) {
    if (e instanceof ElfError) throw e;
    throw new ElfError(file, `cannot read: ${errnoOf(e)}`);
  } finally {
    closeSync(fd);
  }
}

/** Reads and validates a unikernel ELF; see parseElf for the rules. */
export function loadElf(file: string, opts: ElfOptions): LoadedElf {
  return parseElf(readElfFile(file), file, opts);
}
