// runTraceCostBench with short rounds: every row ran in both modes, listening produced records (the
// hooks fired and reached the listeners, blkback's over the bus), and the switch is off afterwards.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { tracer } from "@xensim/trace";
import { runTraceCostBench } from "./trace-cost.js";

// bench/dist/ → services/*/dist/main.js (paths, not imports: bench imports no service)
const svc = (name: string) =>
  join(dirname(fileURLToPath(import.meta.url)), "..", "..", "services", name, "dist", "main.js");

describe("bench trace-cost", () => {
  it("measures each path off and listening, in alternating rounds", { timeout: 120_000 }, async () => {
    const r = await runTraceCostBench({
      roundMs: 60,
      rounds: 2,
      entries: { hypervisor: svc("hypervisor"), xenstored: svc("xenstored"), blkback: svc("blkback") },
    });
    assert.equal(r.benchmark, "trace-cost");
    assert.deepEqual(
      r.rows.map((x) => x.op.split(" ")[0]),
      ["evtchn", "grant", "xenstore", "rings"],
    );
    for (const row of r.rows) {
      assert.equal(row.off.rounds.length, 2, row.op);
      assert.equal(row.listening.rounds.length, 2, row.op);
      assert.ok(row.off.ops_per_s > 0 && row.listening.ops_per_s > 0, row.op);
      assert.ok(row.listening_vs_off > 0, row.op);
    }
    const per = Object.fromEntries(r.rows.map((x) => [x.op.split(" ")[0], x.records_per_op]));
    assert.equal(per.evtchn, 1, "one send record per send");
    assert.equal(per.grant, 2, "a map and an unmap record");
    assert.equal(per.xenstore, 1, "one xs record per write");
    assert.ok(per.rings! >= 2, `the ring's request, completion, kicks… per I/O (${per.rings})`);
    assert.equal(tracer.mask, 0, "the switch is off again");
  });
});
