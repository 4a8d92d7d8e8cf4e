// log.ts: the tender's pino logger, created lazily so a quiet run never pays to load pino.
import type { Logger } from 'pino';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
const rank: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

export interface LogOptions {
  level: LogLevel;
  /** 'pretty' for people, 'json' for machines, 'auto' (default): pretty when the destination is a terminal. */
  format?: 'pretty' | 'json' | 'auto';
  /** Where log lines go; the guest's console never goes through the logger. */
  fd?: number;
}

/** The subset of a pino logger the tender uses; a child per guest and per device. */
export interface TenderLog {
  child(bindings: Record<string, unknown>): TenderLog;
  enabled(level: LogLevel): boolean;
  trace(obj: object | string, msg?: string): void;
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

/**
 * A logger facade that loads pino on the first line that is actually emitted.
 * Loading pino costs ~20 ms, which would be most of the CLI's start-up budget.
 */
export function createLog(opts: LogOptions, bindings: Record<string, unknown> = {}): TenderLog {
  let real: Logger | undefined;
  const getReal = (): Logger => {
    if (!real) real = rootPino(opts).child(bindings);
    return real;
  };
  const emit = (level: Exclude<LogLevel, 'silent'>) => (obj: object | string, msg?: string) => {
    if (rank[level] < rank[opts.level]) return;
    const l = getReal();
    if (typeof obj === 'string') l[level](obj);
    else l[level](obj, msg);
  };
  return {
    child: (b) => createLog(opts, { ...bindings, ...b }),
    enabled: (level) => rank[level] >= rank[opts.level] && level !== 'silent',
    trace: emit('trace'),
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
  };
}

const roots = new Map<string, Logger>();

function rootPino(opts: LogOptions): Logger {
  const fd = opts.fd ?? 2;
  // Decided only when the first line is emitted: even looking at process.stderr costs milliseconds.
  let format = opts.format ?? 'auto';
  if (format === 'auto') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily: an import would cost every CLI start
    const tty = require('node:tty') as typeof import('node:tty');
    format = tty.isatty(fd) ? 'pretty' : 'json';
  }
  const key = `${opts.level}:${format}:${fd}`;
  const existing = roots.get(key);
  if (existing) return existing;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: pino is loaded only when a line is logged
  const pino = require('pino') as typeof import('pino');
  let logger: Logger;
  if (format === 'pretty') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: pino-pretty only for a terminal
    const pretty = require('pino-pretty') as typeof import('pino-pretty');
    logger = pino.pino({ level: opts.level }, pretty.build({ destination: fd, sync: true, colorize: true, ignore: 'pid,hostname' }));
  } else {
    logger = pino.pino({ level: opts.level }, pino.destination({ fd, sync: true }));
  }
  roots.set(key, logger);
  return logger;
}

/** A logger that drops everything; the API default. */
export const silentLog: TenderLog = createLog({ level: 'silent' });
