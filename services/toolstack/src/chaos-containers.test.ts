import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createInProcessBus } from "@xensim/bus";
import { ChaosCoordinator, ChaosError } from "./chaos.js";
import { ownContainerId } from "./chaos-containers.js";

const ID = "3f4e1a9c0b2d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f";

describe("container kinds", () => {
  it("finds this process's container id in /proc/self/mountinfo (Docker's /etc/hostname bind mount)", () => {
    const mountinfo = [
      "612 590 0:52 / / rw,relatime master:285 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/X",
      `624 612 254:1 /var/lib/docker/containers/${ID}/hostname /etc/hostname rw,relatime - ext4 /dev/vda1 rw`,
      `625 612 254:1 /var/lib/docker/containers/${ID}/hosts /etc/hosts rw,relatime - ext4 /dev/vda1 rw`,
    ].join("\n");
    assert.equal(ownContainerId(mountinfo), ID);
    assert.equal(ownContainerId("22 1 8:1 / / rw - ext4 /dev/sda1 rw"), undefined);
  });

  it("a toolstack without Docker's API refuses them (409, naming the override), and records the refusal", async () => {
    const bus = createInProcessBus({ name: `containers-${process.pid}-${Date.now()}` });
    const c = new ChaosCoordinator({ bus, pauseDomain: async () => 0, unpauseDomain: async () => 0 });
    try {
      await assert.rejects(
        c.set({ kind: "container.killed", service: "blkback" }),
        (e: unknown) => e instanceof ChaosError && e.status === 409 && /chaos\.compose\.yml/.test(e.message),
      );
      // a container kind names the compose service it acts on
      await assert.rejects(
        c.set({ kind: "container.paused" }),
        (e: unknown) => e instanceof ChaosError && e.status === 400,
      );
      assert.equal(c.list().length, 0);
      assert.deepEqual(
        c.timeline.map((e) => [e.action, e.kind, e.ok]),
        [["set", "container.killed", false]],
      );
    } finally {
      await bus.close();
    }
  });
});
