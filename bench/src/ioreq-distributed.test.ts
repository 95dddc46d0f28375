// runIoreqBench's distributed row with short rows: the device model in another host process (a child
// with its page-server) answers the vCPU's synchronous port reads and buffered stores over the link.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { findNatsServer } from "@xensim/testkit";
import { runIoreqBench } from "./ioreq.js";

// bench/dist/ → services/*/dist/main.js (paths, not imports: bench imports no service)
const svc = (name: string) =>
  join(dirname(fileURLToPath(import.meta.url)), "..", "..", "services", name, "dist", "main.js");

describe("bench ioreq, distributed row", () => {
  it(
    "the device model in host process B answers over the link, from its ioreq thread and from its event loop",
    { timeout: 180_000, skip: findNatsServer() === undefined ? "nats-server not installed" : false },
    async () => {
      const r = await runIoreqBench({
        hypervisorEntry: svc("hypervisor"),
        xenstoredEntry: svc("xenstored"),
        deviceModelEntry: svc("device-model"),
        pageServerEntry: svc("page-server"),
        durationMs: 200,
      });
      assert.equal(r.distributed.measured, true);
      if (!r.distributed.measured) return;
      assert.ok(r.distributed.sync_pio.ops > 0 && r.distributed.sync_pio.p50_us > 0);
      assert.ok(r.distributed.buffered.writes > 0);
      assert.equal(r.distributed.buffered.routes.null ?? 0, 0, "the VGA window is the emulator's");
      assert.equal(r.distributed.buffered.routes.dropped ?? 0, 0);
      // host B's ioreq thread served the rows above; its event loop served these
      assert.equal(r.distributed.device_model, "ioreq-thread");
      assert.ok(r.distributed_event_loop && r.distributed_event_loop.sync_pio.ops > 0);
    },
  );
});
