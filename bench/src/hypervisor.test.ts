// runHypervisorBench end to end with short rows: the JSON has every section, and every figure in it
// is a positive number (each row really ran, in each placement).
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { runHypervisorBench } from "./hypervisor.js";

// bench/dist/ → services/<name>/dist/main.js (a path, not an import: bench imports no service)
const entry = (name: string) =>
  join(dirname(fileURLToPath(import.meta.url)), "..", "..", "services", name, "dist", "main.js");

function numbersOf(x: unknown, path: string, out: Array<[string, number]>): Array<[string, number]> {
  if (typeof x === "number") out.push([path, x]);
  else if (Array.isArray(x)) x.forEach((v, i) => numbersOf(v, `${path}[${i}]`, out));
  else if (x && typeof x === "object")
    for (const [k, v] of Object.entries(x)) numbersOf(v, `${path}.${k}`, out);
  return out;
}

describe("bench hypervisor", () => {
  it(
    "measures grants, events (in-process, over the link) and the floors; every figure > 0",
    { timeout: 180_000 },
    async () => {
      const r = await runHypervisorBench({
        hypervisorEntry: entry("hypervisor"),
        pageServerEntry: entry("page-server"),
        durationMs: 200,
        batch: 8,
      });
      const json = JSON.parse(JSON.stringify(r)) as typeof r;
      assert.equal(json.benchmark, "hypervisor");
      assert.equal(json.duration_ms, 200);
      for (const f of [json.floor.atomics_wait, json.floor.atomics_waitasync]) {
        assert.ok(f.round_trip.ops > 0);
        assert.equal(typeof f.one_way_p50_us, "number");
      }
      assert.ok(json.floor.grpc_unary.ops > 0);
      assert.ok(json.floor.nats_pub_recv.round_trip.ops > 0);
      assert.deepEqual(
        json.grants.map((g) => [g.placement, g.batch]),
        [
          ["in-process", 1],
          ["in-process", 8],
          ["link", 1],
          ["link", 8],
          ["grpc", 1],
          ["grpc", 8],
        ],
      );
      for (const g of json.grants) assert.equal(g.grants_per_s, g.figures.ops_per_s * g.batch);
      assert.deepEqual(
        json.events.map((e) => e.placement),
        ["in-process-atomics", "link"],
      );
      for (const e of json.events) {
        for (const k of [
          "one_way_p50_us",
          "one_way_p99_us",
          "events_per_s",
          "vs_floor_waitasync_p50",
        ] as const)
          assert.equal(typeof e[k], "number", k);
      }
      const nums = numbersOf(json, "$", []);
      assert.ok(nums.length > 50, `${nums.length} numbers`);
      for (const [p, v] of nums) assert.ok(Number.isFinite(v) && v > 0, `${p} = ${v}`);
    },
  );
});
