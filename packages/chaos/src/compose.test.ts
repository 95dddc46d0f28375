import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FAULT_KINDS, requireFaultKind } from "./kinds.js";
import { parseScenario, ScenarioError } from "./scenario.js";

const scenario = (fault: string): string =>
  [
    "name: c",
    "host:",
    "  layout: compose",
    "guests:",
    '  - { name: g1, disk: "vdev=xvda, target=file:path=g1.raw,size=4M", workload: "rw=randrw,runtime=2" }',
    "faults:",
    `  - ${fault}`,
    "",
  ].join("\n");

describe("compose scenarios and the container kinds", () => {
  it("has the four container kinds on the container plane; killed and restarted are one-shot", () => {
    const kinds = FAULT_KINDS.filter((k) => k.plane === "container").map((k) => k.kind);
    assert.deepEqual(kinds, [
      "container.killed",
      "container.paused",
      "container.restarted",
      "container.network-disconnected",
    ]);
    assert.equal(requireFaultKind("container.killed").oneShot, true);
    assert.equal(requireFaultKind("container.restarted").oneShot, true);
    assert.equal(requireFaultKind("container.paused").oneShot, undefined);
  });

  it("a container kind names a compose service, not one of the host's xensim services", () => {
    const s = parseScenario(
      scenario("{ kind: container.paused, service: host-a, at: 1s, for: 1s }"),
      "c.yaml",
    );
    assert.equal(s.layout, "compose");
    assert.equal(s.faults[0]?.service, "host-a");
    assert.throws(
      () => parseScenario(scenario("{ kind: container.killed, at: 1s }"), "c.yaml"),
      (e: unknown) =>
        e instanceof ScenarioError && /c\.yaml:7:\d+: service: expected the compose service/.test(e.message),
    );
    // a xensim kind still names one of the host's services
    assert.throws(
      () => parseScenario(scenario("{ kind: service.killed, service: host-a, at: 1s }"), "c.yaml"),
      (e: unknown) => e instanceof ScenarioError && /expected one of the host's services/.test(e.message),
    );
  });

  it("host.layout: compose is accepted; anything else lists the three layouts", () => {
    assert.throws(
      () =>
        parseScenario(
          scenario("{ kind: container.paused, service: nats, at: 1s }").replace("compose", "k8s"),
          "c.yaml",
        ),
      (e: unknown) => e instanceof ScenarioError && /embedded, distributed or compose/.test(e.message),
    );
  });
});
