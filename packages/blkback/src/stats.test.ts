import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LatencyHistogram } from "./stats.js";

describe("latency histogram", () => {
  it("counts each observation in the first bucket whose bound is not below it", () => {
    const h = new LatencyHistogram([0.001, 0.01, 0.1]);
    for (const s of [0.0005, 0.001, 0.002, 0.05, 0.5, 7]) h.observe(s);
    assert.deepEqual(h.counts, [2, 1, 1, 2]);
    assert.deepEqual(h.cumulative(), [2, 3, 4, 6]);
    assert.equal(h.count, 6);
    assert.ok(Math.abs(h.sum - 7.5535) < 1e-9);
  });
});
