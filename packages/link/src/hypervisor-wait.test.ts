// A REQUEST that reaches a host before its hypervisor runs (the workers of a restarted host process
// start together, and a peer re-asks its standing placements the moment it sees the new epoch): held
// until the hypervisor is up and answered then — before, it was refused and never answered, so the
// peer's dom0 receivers (xenstored's store ports) never got an event again. A host that never gets a
// hypervisor refuses it after HYPERVISOR_WAIT_MS.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Hypervisor } from "@xensim/hypervisor";
import { seededRandom, testSeed } from "@xensim/testkit";
import { decodeRc, OP_SYNC } from "./requests.js";
import { HYPERVISOR_WAIT_MS } from "./state.js";
import { LinkThread } from "./testing/rig.js";
import { SimNet } from "./testing/sim.js";

const seed = testSeed();
console.log(`hypervisor wait tests: seed ${seed} (XENSIM_SEED=${seed} to replay)`);

function hostsWithoutHypervisor(): { net: SimNet; H: ReturnType<SimNet["add"]>; back: LinkThread } {
  const net = new SimNet(seededRandom(seed), 1);
  const H = net.add("hostH", 8192);
  const B = net.add("hostB", 4096);
  H.start();
  B.start();
  B.engine.setHypervisorHost("hostH");
  return { net, H, back: new LinkThread(B, net) };
}

test("a request before the hypervisor runs is held and answered once it does", () => {
  const { net, H, back } = hostsWithoutHypervisor();
  const mb = back.area.takeMailbox();
  assert.ok(back.area.appendRequest(mb, OP_SYNC, 0, new Uint8Array(0)));
  assert.equal(
    net.run(2000, () => back.area.replied(mb)),
    false,
    "no answer while H has no hypervisor",
  );
  assert.equal(H.engine.stats.refusedRecords, 0, "held, not refused");
  const hv = new Hypervisor(H.thread(), { hostId: "hostH" });
  hv.bootDom0({ memoryMib: 1, vcpus: 4 });
  assert.ok(
    net.run(5000, () => back.area.replied(mb)),
    "answered once the hypervisor is up",
  );
  assert.equal(decodeRc(back.area.reply(mb)), 0);
  back.area.releaseMailbox(mb);
});

test("a host that never gets a hypervisor refuses the request after the wait", () => {
  const { net, H, back } = hostsWithoutHypervisor();
  const mb = back.area.takeMailbox();
  assert.ok(back.area.appendRequest(mb, OP_SYNC, 0, new Uint8Array(0)));
  net.run(HYPERVISOR_WAIT_MS + 2000, () => H.engine.stats.refusedRecords > 0);
  assert.equal(H.engine.stats.refusedRecords, 1);
  assert.equal(back.area.replied(mb), false);
});
