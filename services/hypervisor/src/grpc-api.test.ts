// The call API's cross-host event path: EvtchnConsumePending must hand out a fence that covers
// every send whose pending bit it consumed. A sender publishes its writes, then sets the bit; a
// send can land while the call is in progress (here: inside the publishedFence hook, the call's
// only await). Regression for the cross-host stall: the fence was read before the scan.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createInProcessCallClient, createInProcessCallServer } from "@xensim/bus";
import { type EvtchnConsumePendingReply__Output, loadHypervisorProto } from "@xensim/proto";
import { PageStore } from "@xensim/memory";
import { Hypervisor } from "./core.js";
import { addHypervisorService } from "./grpc-api.js";

describe("EvtchnConsumePending across host processes", () => {
  it("returns a fence that covers the writes of every send it consumed, however sends interleave", async () => {
    const store = PageStore.create({ frames: 4096 });
    const hv = new Hypervisor(store, { onExc: () => {}, notify: () => {} });
    assert.equal(hv.bootDom0({ memoryMib: 1, vcpus: 1 }), 0);
    const guest = hv.createDomain(0, { memoryMib: 1 }).domid;
    const unbound = hv.evtchnAllocUnbound(guest, guest, 0);
    const bound = hv.evtchnBindInterdomain(0, guest, unbound.port);
    assert.equal(bound.rc, 0);

    // The sender's page-server stream: `published` is its head; each send publishes first.
    let published = 1;
    const sendSeqs: number[] = []; // the head each send published before setting its bit
    const send = () => {
      published++;
      sendSeqs.push(published);
      assert.equal(hv.evtchnSend(guest, unbound.port), 0);
    };
    // Sends can land inside a call, at its only await (the hook), when `sendInside` is set.
    let sendInside = false;
    let insideSends = 0;
    const server = createInProcessCallServer({ name: "hv-consume-test" });
    addHypervisorService(server, hv, undefined, {
      publishedFence: async () => {
        const head = published;
        if (sendInside) {
          insideSends++;
          send();
        }
        return { host: "hostA", seq: head };
      },
    });
    await server.listen();
    const client = createInProcessCallClient(
      loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service,
      "hv-consume-test",
    );
    try {
      const consume = () =>
        client.call<object, EvtchnConsumePendingReply__Output>("EvtchnConsumePending", {
          caller: 0,
          domid: 0,
          vcpu: 0,
        });
      // The bind left dom0's port pending (Xen marks the binder's new port pending): consume it.
      const first = await consume();
      assert.deepEqual(first.ports, [bound.port]);

      let maxFence = 0;
      for (let round = 0; round < 30; round++) {
        if (round % 3 === 0) send(); // a send between calls (the hook runs only when a bit was consumed)
        sendInside = round % 2 === 0; // and one inside this call
        const r = await consume();
        sendInside = false;
        // Drain: whatever is still pending is consumed now, with no send racing.
        const d = await consume();
        for (const x of [r, d]) {
          assert.equal(x.rc, 0);
          if (x.ports.length === 0) assert.equal(x.fenceSeq, "0", "no ports, no fence");
          else assert.deepEqual(x.ports, [bound.port]);
          maxFence = Math.max(maxFence, Number(x.fenceSeq));
        }
        // Nothing is pending any more: every send so far was dispatched under some fence, and the
        // fences handed out must cover every write those sends published.
        assert.ok(
          maxFence >= published,
          `round ${round}: fences so far reach ${maxFence}, the sends published up to ${published}`,
        );
      }
      assert.equal(sendSeqs.length - insideSends, 10, "sends between calls");
      assert.ok(insideSends >= 5, `sends inside a call: ${insideSends}`);
    } finally {
      client.close();
      await server.close();
    }
  });
});
