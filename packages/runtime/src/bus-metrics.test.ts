import assert from "node:assert/strict";
import { test } from "node:test";
import { collectFaultStatus, createInProcessBus, sendFaultRules } from "@xensim/bus";
import { collectBusMetrics } from "./bus-metrics.js";
import { startHost } from "./host.js";
import { createLogger } from "./log.js";

const PING_COUNTER = "ping_requests_total";
const entry = (f: string): URL => new URL(`./testing/${f}`, import.meta.url);

test("every service of a host answers a metrics scrape and a fault status request over the bus", async () => {
  const host = await startHost({
    hostId: "h-metrics",
    sharedMemoryBytes: 4096,
    log: createLogger({ svc: "host", host: "t", level: "silent" }),
    logLevel: "warn",
    services: [
      { name: "ping", entry: entry("svc-ping.js"), config: { greeting: "hi" } },
      { name: "pong", entry: entry("svc-pong.js") },
    ],
  });
  const bus = createInProcessBus({ name: host.busName });
  try {
    await host.ready;
    const answers = await collectBusMetrics(bus, { waitMs: 500 });
    assert.deepEqual(answers.map((a) => a.svc).sort(), ["ping", "pong"]);
    for (const a of answers) assert.equal(a.host, "h-metrics");
    // ping's own counter, with the {svc, host} labels every service registry carries
    const ping = answers.find((a) => a.svc === "ping")!;
    const pings = ping.metrics.find((m) => m.name === PING_COUNTER);
    assert.ok(pings, `ping's metrics: ${ping.metrics.map((m) => m.name).join(", ")}`);
    assert.equal(pings.values[0]?.labels.svc, "ping");
    assert.equal(answers.find((a) => a.svc === "pong")!.metrics.length, 0);

    // a rule set on one service shows in its status; clearing it empties the rules again
    await sendFaultRules(bus, "pong", { seed: 7, events: [{ subject: "test.nothing", drop: 1 }] });
    const status = await collectFaultStatus(bus, { waitMs: 500 });
    assert.deepEqual(
      status.map((s) => s.target),
      ["ping", "pong"],
    );
    const pong = status.find((s) => s.target === "pong")!;
    assert.deepEqual(pong.components.bus?.rules.events, [{ subject: "test.nothing", drop: 1 }]);
    assert.equal(status.find((s) => s.target === "ping")!.components.bus?.rules.events, undefined);
    await sendFaultRules(bus, "pong", null);
    const healed = await collectFaultStatus(bus, { waitMs: 500 });
    assert.equal(healed.find((s) => s.target === "pong")!.components.bus?.rules.events, undefined);
  } finally {
    await bus.close();
    await host.stop();
  }
});
