// seed.ts: the one seed of a randomised test file: SEED=N replays a run, and every run prints its own.
import t from 'tap';

/**
 * The seed of this run: SEED from the environment, or a fresh one. It is
 * printed as the exact assignment that repeats the run (`# SEED=N` in the
 * TAP output), whether the run passes or fails.
 */
export function testSeed(): number {
  const given = process.env.SEED;
  const seed = given === undefined ? Date.now() % 1_000_000 : Number(given);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`SEED=${given}: not a non-negative integer`);
  t.comment(`SEED=${seed}`);
  return seed;
}
