// errors.ts: the few error classes the tender throws; each carries a stable code.

/** Base of every error the tender reports to a user as a one-line message. */
export class Solo5Error extends Error {
  readonly code: string;
  /**
   * Upstream Solo5's own words for this failure, where scripts and upstream's tests look for them
   * (`disk: Backing storage size must be block aligned (512 bytes)`): the CLIs print them first and
   * `message`, the project's clearer reason, on the next line.
   */
  upstream?: string;
  /** The upstream words say all there is to say: the CLIs print them alone. */
  upstreamAlone?: boolean;
  /**
   * The device option at fault, `--KEY:NAME` (`--net:service`): upstream's tender follows a
   * device module's refusal with `Invalid option: \`ARG'`, and the CLIs, which know the
   * argument as given, do the same after the upstream words.
   */
  option?: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Wrong command-line arguments or API options. */
export class UsageError extends Solo5Error {
  constructor(message: string) {
    super('EUSAGE', message);
  }
}

/** A malformed or unsupported ELF file (untrusted input). */
export class ElfError extends Solo5Error {
  readonly file: string;
  constructor(file: string, message: string) {
    super('EELF', `${file}: ${message}`);
    this.file = file;
  }
}

/** An invalid manifest, from JSON or from an ELF note; `path` is the JSON path at fault. */
export class ManifestError extends Solo5Error {
  readonly source: string;
  constructor(source: string, message: string) {
    super('EMANIFEST', `${source}: ${message}`);
    this.source = source;
  }
}

/** A device that cannot be attached (missing image, bad sector size, no tap). */
export class DeviceError extends Solo5Error {
  constructor(message: string) {
    super('EDEVICE', message);
  }
}

/** A host facility failed (syscall errors from the addon, helper set-up failures). */
export class HostError extends Solo5Error {
  constructor(message: string) {
    super('EHOST', message);
  }
}

/** Type guard used at the CLI edge to turn known errors into one line and exit 1. */
export function isSolo5Error(e: unknown): e is Solo5Error {
  return e instanceof Solo5Error;
}

/** Give `e` upstream's words (Solo5Error.upstream) and return it, for `throw upstreamSays(new ..., '...')`. */
export function upstreamSays<T extends Solo5Error>(e: T, words: string, alone = false): T {
  e.upstream = words;
  if (alone) e.upstreamAlone = true;
  return e;
}

/** Upstream's words for a device module's refusal of `option` (`--KEY:NAME`): see Solo5Error.option. */
export function optionRefused<T extends Solo5Error>(e: T, words: string, option: string): T {
  upstreamSays(e, words);
  e.option = option;
  return e;
}

/** Upstream's line after a device module refused ARG (the whole argument, as given). */
export const invalidOption = (arg: string): string => `Invalid option: \`${arg}'`;
