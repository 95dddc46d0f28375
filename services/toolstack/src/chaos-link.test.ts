import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ActiveFault, linkRules } from "./chaos.js";

const fault = (id: number, kind: string, spec: Record<string, unknown> = {}): ActiveFault => ({
  id,
  kind,
  service: "page-server",
  spec: { kind, ...spec },
  setAt: 0,
  hosts: ["hostA"],
});

describe("linkRules: the link faults active on one host as one rule set", () => {
  it("none: null (the hooks are switched off)", () => {
    assert.equal(linkRules([]), null);
  });

  it("each kind onto the hook it maps to; a partition drops every frame", () => {
    assert.deepEqual(
      linkRules([
        fault(1, "link.replication-dropped", { probability: 0.2, seed: 7 }),
        fault(2, "link.replication-duplicated", { probability: 0.1 }),
        fault(3, "link.replication-delayed", { probability: 0.05, delayMs: [5, 40] }),
      ]),
      { seed: 7, drop: 0.2, duplicate: 0.1, stall: 0.05, stallMs: [5, 40] },
    );
    assert.deepEqual(
      linkRules([fault(1, "link.replication-dropped", { probability: 0.2 }), fault(2, "link.partition")]),
      {
        seed: 1,
        drop: 1,
      },
    );
  });

  it("peers: limited only when every fault names one", () => {
    assert.deepEqual(linkRules([fault(1, "link.partition", { peer: "hostB" })])?.peers, ["hostB"]);
    assert.equal(
      linkRules([fault(1, "link.partition", { peer: "hostB" }), fault(2, "link.replication-duplicated")])
        ?.peers,
      undefined,
    );
  });
});
