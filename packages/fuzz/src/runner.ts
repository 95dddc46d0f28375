// Runs a target on N inputs drawn from its arbitraries with one seed (reproducible: the same seed
// gives the same inputs), and reports the inputs that made it throw.

import fc from "fast-check";
import { fuzzInputs } from "./mutate.js";
import type { FuzzTarget } from "./target.js";

export interface FuzzOptions {
  runs: number;
  seed: number;
  /** Stop after this many distinct crashes (default 10). */
  maxCrashes?: number;
  /** Called every `progressEvery` inputs (default 100,000). */
  onProgress?: (done: number) => void;
  progressEvery?: number;
}

export interface FuzzCrash {
  /** Index of the input in the seeded sequence. */
  index: number;
  input: Uint8Array;
  error: string;
}

export interface FuzzResult {
  target: string;
  seed: number;
  runs: number;
  crashes: FuzzCrash[];
  ms: number;
  /** Inputs whose run threw, grouped by first error line. */
  distinctErrors: number;
}

const CHUNK = 10_000;

/** Runs `target` on `opts.runs` inputs generated from `opts.seed`. Never throws for a crash. */
export function runFuzz(target: FuzzTarget, opts: FuzzOptions): FuzzResult {
  const started = performance.now();
  const arbitrary = fuzzInputs(target.seeds(), target.maxLength);
  const crashes: FuzzCrash[] = [];
  const errors = new Set<string>();
  const maxCrashes = opts.maxCrashes ?? 10;
  const every = opts.progressEvery ?? 100_000;
  let done = 0;
  for (let chunk = 0; done < opts.runs && crashes.length < maxCrashes; chunk++) {
    const n = Math.min(CHUNK, opts.runs - done);
    const inputs = fc.sample(arbitrary, { seed: (opts.seed + chunk * 0x9e3779b1) | 0, numRuns: n });
    for (const input of inputs) {
      try {
        target.run(input);
      } catch (err) {
        const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        const key = message.split("\n")[0]!;
        if (!errors.has(key)) {
          errors.add(key);
          crashes.push({
            index: done,
            input: input.slice(),
            error: err instanceof Error ? (err.stack ?? message) : message,
          });
        }
      }
      done++;
      if (opts.onProgress && done % every === 0) opts.onProgress(done);
      if (crashes.length >= maxCrashes) break;
    }
  }
  return {
    target: target.name,
    seed: opts.seed,
    runs: done,
    crashes,
    ms: Math.round(performance.now() - started),
    distinctErrors: errors.size,
  };
}
