import assert from "node:assert/strict";
import { test } from "node:test";
import { ChaosPoints } from "@xensim/chaos";
import { XenCtrlFaults } from "./chaos.js";

test("XenCtrlFaults: one flag per group, sends duplicated / lost (remote) / delayed, maps failing with the GNTST code", async () => {
  const points = new ChaosPoints({ service: "guest", now: () => 7 });
  const f = new XenCtrlFaults(points);
  assert.equal(f.evtchnOn, false);
  assert.equal(f.grantOn, false);
  let sent = 0;
  const send = () => ++sent;

  points.set({ kind: "evtchn.duplicated", seed: 1 });
  assert.equal(f.evtchnOn, true);
  f.send(3, send);
  assert.equal(sent, 2, "delivered twice");
  points.heal();
  assert.equal(f.evtchnOn, false);

  points.set({ kind: "evtchn.lost" });
  f.send(3, send, true);
  assert.equal(sent, 2, "a remote send is dropped");
  assert.equal(f.wakeLost(3), true, "in-process: the wake-up is lost");
  points.heal();

  points.set({ kind: "evtchn.delayed", delayMs: 20 });
  f.send(4, send);
  assert.equal(sent, 2);
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(sent, 3, "delivered late");
  points.heal();

  points.set({ kind: "grant.map-failed", code: "GNTST_bad_gntref", count: 1 });
  assert.equal(f.grantOn, true);
  const ok = async () => "mapped";
  assert.equal(await f.map(1, [8, 9], ok, (code) => `failed ${code}`), "failed -3");
  assert.equal(await f.map(1, [8, 9], ok, (code) => `failed ${code}`), "mapped", "count 1: once");
  points.set({ kind: "grant.copy-failed" });
  assert.deepEqual(await f.copy(2, async () => [0, 0]), [-1, -1]);
  points.heal();
  assert.deepEqual(
    points.records.map((r) => [r.kind, r.target, r.at]),
    [
      ["evtchn.duplicated", "port 3", 7],
      ["evtchn.lost", "port 3", 7],
      ["evtchn.lost", "port 3 wake-up", 7],
      ["evtchn.delayed", "port 4", 7],
      ["grant.map-failed", "dom 1 refs 8,9", 7],
      ["grant.copy-failed", "2 copy ops", 7],
    ],
  );
  f.close();
});
