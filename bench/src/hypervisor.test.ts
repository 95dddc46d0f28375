// runHypervisorBench end to end with short rows: the JSON has every section, and every figure in it
// is a positive number (each row really ran, in each placement).
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { runHypervisorBench } from "./hypervisor.js";

// bench/dist/ → services/hypervisor/dist/main.js (a path, not an import: bench imports no service)
const HYPERVISOR_ENTRY = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "services",
  "hypervisor",
  "dist",
  "main.js",
);

function numbersOf(x: unknown, path: string, out: Array<[string, number]>): Array<[string, number]> {
  if (typeof x === "number") out.push([path, x]);
  else if (Array.isArray(x)) x.forEach((v, i) => numbersOf(v, `${path}[${i}]`, out));
  else if (x && typeof x === "object")
    for (const [k, v] of Object.entries(x)) numbersOf(v, `${path}.${k}`, out);
  return out;
}

describe("bench hypervisor", () => {
  it("measures grants, events and the Atomics floor; every figure > 0", { timeout: 120_000 }, async () => {
    const r = await runHypervisorBench({ hypervisorEntry: HYPERVISOR_ENTRY, durationMs: 200, batch: 8 });
    const json = JSON.parse(JSON.stringify(r)) as typeof r;
    assert.equal(json.benchmark, "hypervisor");
    assert.equal(json.duration_ms, 200);
    for (const f of [json.floor.atomics_wait, json.floor.atomics_waitasync]) {
      assert.ok(f.round_trip.ops > 0);
      assert.equal(typeof f.one_way_p50_us, "number");
    }
    assert.ok(json.floor.grpc_unary.ops > 0);
    assert.deepEqual(
      json.grants.map((g) => [g.placement, g.batch]),
      [
        ["in-process", 1],
        ["in-process", 8],
        ["grpc", 1],
        ["grpc", 8],
      ],
    );
    for (const g of json.grants) assert.equal(g.grants_per_s, g.figures.ops_per_s * g.batch);
    assert.deepEqual(
      json.events.map((e) => e.placement),
      ["in-process-atomics", "bus-nats"],
    );
    for (const e of json.events) {
      for (const k of ["one_way_p50_us", "one_way_p99_us", "events_per_s", "vs_floor_waitasync_p50"] as const)
        assert.equal(typeof e[k], "number", k);
    }
    const nums = numbersOf(json, "$", []);
    assert.ok(nums.length > 50, `${nums.length} numbers`);
    for (const [p, v] of nums) assert.ok(Number.isFinite(v) && v > 0, `${p} = ${v}`);
  });
});
