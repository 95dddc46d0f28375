// waitUntil against the real xenstore engine: a wait on watches is woken by the watch event alone
// (the injected clock never lets its sleep end), fails with the condition's error, and times out.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EngineHub } from "@xensim/xenstore-client";
import { ToolstackError } from "./ports.js";
import { waitUntil } from "./wait.js";

const frozen = { now: () => 0, wallSeconds: () => 0, sleep: () => new Promise<void>(() => {}) };

describe("waitUntil", () => {
  it("is woken by a watch event on the path it waits on (no timer fires)", async () => {
    const hub = new EngineHub();
    const xs = hub.client();
    const other = hub.client();
    let checks = 0;
    const done = waitUntil(
      { xs, clock: frozen, fallbackMs: 1_000_000 },
      "state 4",
      1_000_000,
      async () => {
        checks++;
        return (await xs.tryRead("/local/domain/0/backend/vbd/1/51712/state")) === "4";
      },
      ["/local/domain/0/backend/vbd/1/51712"],
    );
    await other.write("/local/domain/0/backend/vbd/1/51712/state", "2");
    await other.write("/local/domain/0/backend/vbd/1/51712/state", "4");
    await done;
    assert.ok(checks >= 2, `checked ${checks} times`);
    // the watch is gone again: only the engine's own watches remain
    await other.write("/local/domain/0/backend/vbd/1/51712/state", "5");
  });

  it("passes on what the condition throws, and times out with ETIMEDOUT", async () => {
    const hub = new EngineHub();
    const xs = hub.client();
    await assert.rejects(
      waitUntil({ xs, clock: frozen, fallbackMs: 1 }, "x", 10, async () => {
        throw new ToolstackError("EIO", "backend failed");
      }),
      (e: unknown) => e instanceof ToolstackError && e.code === "EIO",
    );
    let t = 0;
    const ticking = { now: () => t, wallSeconds: () => 0, sleep: async (ms: number) => void (t += ms) };
    await assert.rejects(
      waitUntil({ xs, clock: ticking, fallbackMs: 5 }, "never", 20, async () => false, ["/never"]),
      (e: unknown) => e instanceof ToolstackError && e.code === "ETIMEDOUT",
    );
  });
});
