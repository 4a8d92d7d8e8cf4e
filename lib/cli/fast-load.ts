// fast-load.ts: load a CLI from one bundled file with a V8 code cache, to keep start-up cheap.
import fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

/** A bundle written by tools/bundle-cli.js after tsc, with its cache beside it (`.cache`). */
export interface BundleSpec {
  /** dist/lib/NAME-bundle.js */
  bundle: string;
  /** The compiled entry module: a bundle older than it is stale (tsc ran without tools/bundle-cli.js). */
  entry: string;
}

const distLib = path.join(__dirname, '..');

/** solo5-spt and solo5-hvt: lib/cli/tender.ts. */
export const TENDER_BUNDLE: BundleSpec = { bundle: path.join(distLib, 'cli-bundle.js'), entry: path.join(__dirname, 'tender.js') };
/** solo5-oci and its monitor: lib/oci/entry.ts. */
export const OCI_BUNDLE: BundleSpec = { bundle: path.join(distLib, 'oci-bundle.js'), entry: path.join(distLib, 'oci', 'entry.js') };

export const cacheOf = (spec: BundleSpec): string => `${spec.bundle}.cache`;

export interface LoadedBundle<T> {
  exports: T;
  script: vm.Script;
}

/**
 * Compile and run the bundle with its code cache. Loading ~25 small modules one
 * by one costs more than the CLI's whole start-up budget; one pre-compiled file
 * does not. Returns undefined when there is no bundle (a plain tsc build).
 */
export function loadBundle<T>(spec: BundleSpec, useCache = true): LoadedBundle<T> | undefined {
  let src: string;
  try {
    if (fs.statSync(spec.bundle).mtimeMs < fs.statSync(spec.entry).mtimeMs) return undefined;
    src = fs.readFileSync(spec.bundle, 'utf8');
  } catch {
    return undefined;
  }
  let cachedData: Buffer | undefined;
  if (useCache) {
    try {
      cachedData = fs.readFileSync(cacheOf(spec));
    } catch {
      cachedData = undefined;
    }
  }
  const script = new vm.Script(Module.wrap(src), { filename: spec.bundle, cachedData });
  const fn = script.runInThisContext() as (...args: unknown[]) => void;
  const mod = { exports: {} as T };
  fn.call(mod.exports, mod.exports, createRequire(spec.bundle), mod, spec.bundle, path.dirname(spec.bundle));
  return { exports: mod.exports, script };
}

/** The tender CLI's main(), from the bundle when there is one. */
export function tenderCli(): typeof import('./tender') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the fallback when there is no bundle; a static import would defeat the bundle
  return loadBundle<typeof import('./tender')>(TENDER_BUNDLE)?.exports ?? (require('./tender') as typeof import('./tender'));
}

/** solo5-oci's main() and monitor(), from the bundle when there is one. */
export function ociEntry(): typeof import('../oci/entry') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the fallback when there is no bundle; a static import would defeat the bundle
  return loadBundle<typeof import('../oci/entry')>(OCI_BUNDLE)?.exports ?? (require('../oci/entry') as typeof import('../oci/entry'));
}
