// fast-load.ts: load the tender CLI from one bundled file with a V8 code cache, to keep start-up cheap.
import fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

/** Produced by tools/bundle-cli.js after tsc: dist/lib/cli-bundle.js and its .cache. */
export const bundlePath = path.join(__dirname, '..', 'cli-bundle.js');
export const cachePath = `${bundlePath}.cache`;

type TenderCli = typeof import('./tender');

export interface LoadedBundle {
  exports: TenderCli;
  script: vm.Script;
}

/**
 * Compile and run the bundle with its code cache. Loading ~25 small modules one
 * by one costs more than the CLI's whole start-up budget; one pre-compiled file
 * does not. Returns undefined when there is no bundle (a plain tsc build).
 */
export function loadBundle(useCache = true): LoadedBundle | undefined {
  let src: string;
  try {
    // A bundle older than the compiled modules is stale (tsc ran without tools/bundle-cli.js).
    if (fs.statSync(bundlePath).mtimeMs < fs.statSync(path.join(__dirname, 'tender.js')).mtimeMs) return undefined;
    src = fs.readFileSync(bundlePath, 'utf8');
  } catch {
    return undefined;
  }
  let cachedData: Buffer | undefined;
  if (useCache) {
    try {
      cachedData = fs.readFileSync(cachePath);
    } catch {
      cachedData = undefined;
    }
  }
  const script = new vm.Script(Module.wrap(src), { filename: bundlePath, cachedData });
  const fn = script.runInThisContext() as (...args: unknown[]) => void;
  const mod = { exports: {} as TenderCli };
  fn.call(mod.exports, mod.exports, createRequire(bundlePath), mod, bundlePath, path.dirname(bundlePath));
  return { exports: mod.exports, script };
}

/** The tender CLI's main(), from the bundle when there is one. */
export function tenderCli(): TenderCli {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the fallback when there is no bundle; a static import would defeat the bundle
  return loadBundle()?.exports ?? (require('./tender') as TenderCli);
}
