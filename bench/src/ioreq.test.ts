// runIoreqBench end to end with short rows: the JSON has every section, each row ran (ops > 0), the
// buffered stores really went through the buffered ring, the event-loop variant ran too, and the
// unmeasured placement says why.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { runIoreqBench } from "./ioreq.js";

// bench/dist/ → services/*/dist/main.js (paths, not imports: bench imports no service)
const svc = (name: string) =>
  join(dirname(fileURLToPath(import.meta.url)), "..", "..", "services", name, "dist", "main.js");

describe("bench ioreq", () => {
  it("measures the floors, synchronous port reads and buffered stores", { timeout: 120_000 }, async () => {
    const r = await runIoreqBench({
      hypervisorEntry: svc("hypervisor"),
      xenstoredEntry: svc("xenstored"),
      deviceModelEntry: svc("device-model"),
      durationMs: 200,
    });
    assert.equal(r.benchmark, "ioreq");
    for (const f of [
      r.floor.atomics_wait,
      r.floor.atomics_waitasync,
      r.embedded.sync_pio,
      r.embedded_event_loop.sync_pio,
    ])
      assert.ok(f.ops > 0 && f.p50_us > 0);
    assert.ok(r.embedded.buffered.writes > 0);
    assert.ok((r.embedded.buffered.routes.buffered ?? 0) > 0, "stores went through the buffered ring");
    assert.equal(r.embedded.buffered.routes.null ?? 0, 0, "the VGA window is the emulator's");
    assert.ok(r.embedded.vs_floor_wait_p50 > 0);
    assert.equal(r.embedded.device_model, "ioreq-thread");
    assert.ok(r.embedded_event_loop.vs_floor_wait_p50 > 0);
    assert.equal(r.distributed.measured, false);
    assert.match(r.distributed.reason, /another host process/);
  });
});
