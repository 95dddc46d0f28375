import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { expandSchedule, parseScenario, shortenScenario } from "./index.js";

const SCENARIO = `name: t
seed: 7
duration: 3s
guests:
  - name: g1
    workload: "rw=randrw,bs=4k,iodepth=8,runtime=5,verify=crc32c"
  - name: g2
    workload: "rw=write,number_ios=100"
faults:
  - kind: evtchn.lost
    probability: 0.2
    at: 600ms
    for: 300ms
    every: 900ms
`;

describe("shortenScenario", () => {
  it("scales the schedule and the workload runtime into the window", () => {
    const s = shortenScenario(parseScenario(SCENARIO), { windowMs: 600 });
    assert.equal(s.durationMs, 600);
    assert.deepEqual(
      s.faults.map((f) => [f.atMs, f.forMs, f.everyMs]),
      [[120, 60, 180]],
    );
    assert.equal(s.guests[0]!.workload, "rw=randrw,bs=4k,iodepth=8,runtime=1000ms,verify=crc32c");
    // no runtime: the guest's default (30 s) scaled, given explicitly
    assert.equal(s.guests[1]!.workload, "rw=write,number_ios=100,runtime=6000ms");
    // probabilities and kinds are the scenario's own
    assert.equal(s.faults[0]!.spec.probability, 0.2);
  });

  it("bounds the workload runtime by maxRuntimeMs", () => {
    const s = shortenScenario(parseScenario(SCENARIO), { windowMs: 600, maxRuntimeMs: 800 });
    assert.equal(s.guests[0]!.workload, "rw=randrw,bs=4k,iodepth=8,runtime=800ms,verify=crc32c");
    assert.equal(s.guests[1]!.workload, "rw=write,number_ios=100,runtime=800ms");
  });

  it("leaves a scenario shorter than the window as it is", () => {
    const s = parseScenario(SCENARIO.replace("duration: 3s", "duration: 400ms"));
    const short = shortenScenario(s, { windowMs: 600 });
    assert.equal(short.durationMs, 400);
    assert.deepEqual(short.faults, s.faults);
  });

  it("keeps the order of the timeline's actions (property)", () => {
    const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
    console.log(`fast-check seed ${seed}`);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.integer({ min: 50, max: 5000 }),
        (runSeed, w) => {
          const s = parseScenario(SCENARIO);
          const long = expandSchedule(s, runSeed);
          const short = expandSchedule(shortenScenario(s, { windowMs: w }), runSeed);
          // every action of the short timeline lies in its window
          for (const a of short) assert.ok(a.atMs >= 0 && a.atMs <= Math.min(w, s.durationMs));
          // the sets happen in the same kinds and order (occurrences may differ by rounding)
          assert.deepEqual(
            short.filter((a) => a.action === "set").map((a) => a.kind)[0],
            long.filter((a) => a.action === "set").map((a) => a.kind)[0],
          );
        },
      ),
      { seed, numRuns: 200 },
    );
  });
});
