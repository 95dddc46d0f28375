import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { expandSchedule, parseScenario, ScenarioError, stepFaults, stepsEnded } from "./index.js";

const SCENARIO = `name: steps
seed: 5
duration: 3s
guests:
  - name: g1
    steps:
      - name: fill
        ios: 100
      - name: churn
        ios: 50
      - name: settle
faults:
  - kind: service.restarted
    service: blkback
    between: [fill, churn]
  - kind: store.io-error
    between: [churn, settle]
    for: 200ms
  - kind: evtchn.lost
    at: 1s
`;

describe("between steps", () => {
  it("a step ends at its cumulative I/O count; the last with the job", () => {
    const steps = [{ name: "fill", ios: 100 }, { name: "churn", ios: 50 }, { name: "settle" }];
    assert.deepEqual(stepsEnded(steps, 99, false), []);
    assert.deepEqual(stepsEnded(steps, 100, false), ["fill"]);
    assert.deepEqual(stepsEnded(steps, 149, false), ["fill"]);
    assert.deepEqual(stepsEnded(steps, 150, false), ["fill", "churn"]);
    assert.deepEqual(stepsEnded(steps, 10_000, false), ["fill", "churn"]);
    assert.deepEqual(stepsEnded(steps, 20, true), ["fill", "churn", "settle"]);
  });

  it("faults between steps are kept out of the time schedule, seeded from the run's seed", () => {
    const s = parseScenario(SCENARIO);
    assert.deepEqual(
      expandSchedule(s, 9).map((a) => a.kind),
      ["evtchn.lost", "evtchn.lost"],
    );
    const f = stepFaults(s, 9);
    assert.deepEqual(
      f.map((x) => [x.kind, x.between, x.forMs, x.oneShot]),
      [
        ["service.restarted", ["fill", "churn"], undefined, true],
        ["store.io-error", ["churn", "settle"], 200, false],
      ],
    );
    assert.deepEqual(stepFaults(s, 9), f, "the same seed, the same faults");
    assert.notEqual(stepFaults(s, 10)[0]!.spec.seed, f[0]!.spec.seed);
  });

  it("bad placements are refused with file:line:col", () => {
    const bad = (text: string, re: RegExp) => {
      assert.throws(
        () => parseScenario(text, "s.yaml"),
        (e: unknown) => e instanceof ScenarioError && re.test(e.message),
      );
    };
    bad(
      SCENARIO.replace("between: [fill, churn]", "between: [fill, settle]"),
      /^s\.yaml:\d+:\d+: between: expected two consecutive steps of g1 \(fill, churn, settle\)/,
    );
    bad(
      SCENARIO.replace("between: [fill, churn]", "between: [fill, churn]\n    at: 1s"),
      /has no at or every/,
    );
    bad(SCENARIO.replace("        ios: 100\n", ""), /only the last step may leave it out/);
    bad(
      SCENARIO.replace("      - name: churn\n        ios: 50\n      - name: settle\n", ""),
      /at least two steps/,
    );
  });
});
