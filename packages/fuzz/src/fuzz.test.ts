// The fuzz targets in a short fixed budget (CI), the saved crashers replayed as regression cases,
// and the mutator's determinism. The seed is printed; XENSIM_SEED=<seed> replays a run.
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { describe, it } from "node:test";
import { testSeed } from "@xensim/testkit";
import fc from "fast-check";
import { loadCorpus } from "./corpus.js";
import { fuzzInputs } from "./mutate.js";
import { runFuzz } from "./runner.js";
import { FUZZ_TARGETS } from "./targets/index.js";

const REPO_ROOT = resolve(import.meta.dirname, "..", "..", "..");
const BUDGET = 3000;

describe("fuzz targets", () => {
  for (const target of FUZZ_TARGETS) {
    it(`${target.name}: ${BUDGET} seeded inputs, no crash`, (t) => {
      const seed = testSeed();
      t.diagnostic(
        `seed ${seed} (XENSIM_SEED=${seed} replays it; npx xensim fuzz ${target.name} --seed ${seed})`,
      );
      const result = runFuzz(target, { runs: BUDGET, seed });
      assert.equal(result.runs, BUDGET);
      assert.deepEqual(
        result.crashes.map((c) => `input ${c.index}: ${c.error}`),
        [],
        `seed ${seed}: crashes`,
      );
    });

    it(`${target.name}: every saved crasher passes (regression cases)`, () => {
      for (const { name, input } of loadCorpus(REPO_ROOT, target)) {
        assert.doesNotThrow(() => target.run(input), `${target.corpusDir}/${name}`);
      }
    });

    it(`${target.name}: the golden seeds pass`, () => {
      for (const seed of target.seeds()) target.run(seed);
    });
  }

  it("the same seed gives the same inputs", () => {
    const arb = fuzzInputs(FUZZ_TARGETS[0]!.seeds(), 4096);
    assert.deepEqual(fc.sample(arb, { seed: 7, numRuns: 50 }), fc.sample(arb, { seed: 7, numRuns: 50 }));
  });

  it("a broken parser is caught and reported with its input", () => {
    const broken = {
      ...FUZZ_TARGETS[0]!,
      run: (input: Uint8Array) => {
        if (input.length > 20 && input[16] === 0x2f) throw new Error("boom");
      },
    };
    const result = runFuzz(broken, { runs: 2000, seed: 1 });
    assert.equal(result.crashes.length, 1);
    assert.match(result.crashes[0]!.error, /boom/);
    assert.equal(result.crashes[0]!.input[16], 0x2f);
  });
});
