// launch-in-ns.ts: runs one guest through the API with the options given as JSON, for benchmarks that start it inside a network namespace.
import { launch } from '../lib';
import type { LaunchOptions } from '../lib/tender/options';

/*
 * `ip netns exec NS node dist/bench/launch-in-ns.js '{...}'`: the tap lives in
 * the namespace, so the tender must too; the CLI has no switch for API-only
 * options such as netRing. Exits with the guest's status.
 */
async function main(): Promise<void> {
  const opts = JSON.parse(process.argv[2] ?? '{}') as LaunchOptions;
  const guest = await launch({ ...opts, console: 'inherit' });
  const exit = await guest.exited;
  process.exitCode = exit.status;
}

main().catch((e: unknown) => {
  console.error(`launch-in-ns: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
