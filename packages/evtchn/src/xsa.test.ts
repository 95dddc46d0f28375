// Regression tests named after the Xen security advisories on event channels (fact sheet §10).
// Each fails on the vulnerable behaviour (docs/security.md says how each was checked).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DOMID_SELF,
  EVTCHNSTAT_closed,
  EVTCHNSTAT_interdomain,
  EVTCHNSTAT_unbound,
  XenErrno,
} from "@xensim/abi";
import { PageStore } from "@xensim/memory";
import { EventChannels } from "./event-channels.js";
import { isPending } from "./two-level.js";

const EINVAL = -XenErrno.EINVAL;
const ENOSPC = -XenErrno.ENOSPC;
const A = 1;
const B = 2;
const PENDING_OFF = 2048;
const MASK_OFF = 2560;

function world(maxPorts: Record<number, number> = {}) {
  const store = PageStore.create({ frames: 2048 });
  const free0 = store.freeFrameCount();
  const ev = new EventChannels(store, { notify: () => {} });
  for (const d of [0, A, B]) {
    store.createDomain(d, { privileged: d === 0 });
    ev.initDomain(d, {
      sharedInfoFrame: store.allocFrame(d),
      maxVcpus: 2,
      ...(maxPorts[d] ? { maxPorts: maxPorts[d] } : {}),
    });
  }
  const teardown = () => {
    for (const d of [A, B, 0]) {
      ev.destroyDomain(d);
      store.destroyDomain(d);
    }
    assert.equal(store.freeFrameCount(), free0, "no frame left behind");
  };
  return { store, ev, teardown };
}

describe("event-channel advisories", () => {
  it("XSA-342: a guest limited to 1024 ports (a 32-bit guest's) gets none beyond, and no bit past its bitmap is touched", () => {
    const { ev, teardown } = world({ [A]: 1024 });
    for (let i = 1; i < 1024; i++) assert.equal(ev.allocUnbound(A, { dom: DOMID_SELF, remoteDom: B }).rc, 0);
    assert.equal(ev.allocUnbound(A, { dom: DOMID_SELF, remoteDom: B }).rc, ENOSPC);
    for (const port of [1024, 1025, 2047, 4095, 4096, 65536, -1, 2 ** 31, 1.5]) {
      assert.equal(ev.evtchnSend(A, port), EINVAL, `send ${port}`);
      assert.equal(ev.evtchnClose(A, port), EINVAL, `close ${port}`);
      assert.equal(ev.evtchnUnmask(A, port), EINVAL, `unmask ${port}`);
      assert.equal(ev.bindVcpu(A, { port, vcpu: 0 }), EINVAL, `bind_vcpu ${port}`);
      const st = ev.evtchnStatus(A, { dom: A, port });
      assert.ok(st.rc < 0 || st.status === EVTCHNSTAT_closed, `status ${port}`);
      assert.equal(ev.bindInterdomain(B, { remoteDom: A, remotePort: port }).rc, EINVAL, `bind to ${port}`);
    }
    // bind every port of A from B and send on all of them: only A's first 1024 bits can be set
    for (let port = 1; port < 1024; port++) {
      const b = ev.bindInterdomain(B, { remoteDom: A, remotePort: port });
      assert.equal(b.rc, 0);
      assert.equal(ev.evtchnSend(B, b.port), 0);
    }
    const si = ev.sharedInfo(A);
    assert.ok(isPending(si, 1023));
    const beyond = (off: number) => si.read(off + 1024 / 8, 512 - 1024 / 8);
    assert.deepEqual(beyond(PENDING_OFF), new Uint8Array(512 - 128), "pending bits past port 1023");
    assert.deepEqual(beyond(MASK_OFF), new Uint8Array(512 - 128), "mask bits past port 1023");
    teardown();
  });

  it("XSA-343: after EVTCHNOP_reset the peer's port is unbound, its sends are dropped, a reused port starts clean", () => {
    const { ev, teardown } = world();
    const u = ev.allocUnbound(A, { dom: DOMID_SELF, remoteDom: B });
    const b = ev.bindInterdomain(B, { remoteDom: A, remotePort: u.port });
    assert.equal(b.rc, 0);
    assert.equal(ev.evtchnSend(B, b.port), 0);
    assert.ok(isPending(ev.sharedInfo(A), u.port));
    assert.equal(ev.evtchnReset(A, DOMID_SELF), 0);
    assert.equal(isPending(ev.sharedInfo(A), u.port), false, "reset cleared the pending bit");
    assert.deepEqual(
      [ev.evtchnStatus(B, { dom: B, port: b.port }).status, ev.evtchnStatus(B, { dom: B, port: b.port }).dom],
      [EVTCHNSTAT_unbound, A],
      "the peer port is unbound, accepting A again",
    );
    assert.equal(ev.evtchnSend(B, b.port), 0, "a send on an unbound port is dropped");
    const again = ev.allocUnbound(A, { dom: DOMID_SELF, remoteDom: 0 });
    assert.equal(again.port, u.port, "the port is reused");
    assert.equal(isPending(ev.sharedInfo(A), again.port), false, "and starts with nothing pending");
    assert.equal(ev.evtchnStatus(A, { dom: A, port: again.port }).dom, 0, "accepting only its new peer");
    assert.equal(ev.bindInterdomain(B, { remoteDom: A, remotePort: again.port }).rc, EINVAL);
    // a reset of a domain nobody may control is refused
    assert.equal(ev.evtchnReset(B, A), -XenErrno.EPERM);
    teardown();
  });

  it("XSA-344: reset and destroy of a domain with every port bound finish and leave every peer consistent", () => {
    const { ev, teardown } = world();
    const peers: number[] = [];
    for (;;) {
      const u = ev.allocUnbound(B, { dom: DOMID_SELF, remoteDom: A });
      if (u.rc !== 0) break;
      const a = ev.bindInterdomain(A, { remoteDom: B, remotePort: u.port });
      if (a.rc !== 0) break;
      peers.push(u.port);
    }
    assert.ok(peers.length >= 4000, `${peers.length} interdomain channels`);
    assert.equal(ev.evtchnReset(A, DOMID_SELF), 0);
    assert.equal(ev.portCount(A), 0);
    for (const p of peers) assert.equal(ev.evtchnStatus(B, { dom: B, port: p }).status, EVTCHNSTAT_unbound);
    // bind them all again, then destroy A outright
    for (const p of peers) assert.equal(ev.bindInterdomain(A, { remoteDom: B, remotePort: p }).rc, 0);
    assert.equal(ev.evtchnStatus(B, { dom: B, port: peers[0]! }).status, EVTCHNSTAT_interdomain);
    ev.destroyDomain(A);
    for (const p of peers) assert.equal(ev.evtchnStatus(B, { dom: B, port: p }).status, EVTCHNSTAT_unbound);
    teardown();
  });
});
