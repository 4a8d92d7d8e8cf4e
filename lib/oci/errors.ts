// errors.ts: the OCI runtime's one-line errors, and how they reach the caller (stderr and --log).
import fs from 'node:fs';
import { Solo5Error } from '../errors';
import { oneLine } from '../quote';

/*
 * The substrings engines match on (containerd's checkKillError and
 * getLastRuntimeError, podman's runtime error handling): runc's own words.
 */
/** The container has no process left to signal: containerd takes it as "already finished". */
export const NOT_RUNNING = 'container not running';
/** No such container: containerd takes it as "not found". */
export const DOES_NOT_EXIST = 'does not exist';

/** A refusal or failure of an OCI command: the message is the whole report. */
export class OciError extends Solo5Error {
  constructor(message: string) {
    super('EOCI', message);
  }
}

export interface LogTarget {
  file?: string;
  json: boolean;
}

/**
 * Report one line on stderr and, with --log, in the log file: containerd's shim
 * reads the last JSON line there ({"level","msg","time"}) to explain a failure.
 */
export function report(message: string, log: LogTarget, level: 'error' | 'warning' | 'debug' = 'error'): void {
  const line = oneLine(message);
  if (level === 'error') process.stderr.write(`solo5-oci: ${line}\n`);
  if (log.file === undefined) return;
  const time = new Date().toISOString();
  const text = log.json ? `${JSON.stringify({ level, msg: line, time })}\n` : `time="${time}" level=${level} msg=${JSON.stringify(line)}\n`;
  try {
    fs.appendFileSync(log.file, text);
  } catch {
    // The log is a courtesy; the line already went to stderr.
  }
}
