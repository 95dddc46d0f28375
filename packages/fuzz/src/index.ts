// @xensim/fuzz: seeded mutational fuzzing of the protocol parsers.
export { loadCorpus, saveCrasher } from "./corpus.js";
export { fuzzInputs } from "./mutate.js";
export { type FuzzCrash, type FuzzOptions, type FuzzResult, runFuzz } from "./runner.js";
export type { FuzzTarget } from "./target.js";
export { FUZZ_TARGETS } from "./targets/index.js";

import { FUZZ_TARGETS } from "./targets/index.js";
import type { FuzzTarget } from "./target.js";

/** The registered target called `name`, or undefined. */
export function fuzzTarget(name: string): FuzzTarget | undefined {
  return FUZZ_TARGETS.find((t) => t.name === name);
}
