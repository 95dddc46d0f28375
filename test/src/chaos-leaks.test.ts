// The leak audit caught in the act against the hypervisor's own tables (grant tables and event
// channels in a page store, as the hypervisor keeps them): a backend that keeps a destroyed guest's
// grant mapped, or keeps a port bound to it, is flagged with the table entries as evidence; once it
// lets go the audit passes. (Watches are audited in chaos.test.ts against a running xenstored.)
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GNTMAP_host_map, GNTST_okay } from "@xensim/abi";
import { auditDomainLeaks, checkLeaks, type LeakTables } from "@xensim/chaos";
import { EventChannels } from "@xensim/evtchn";
import { GrantTables, grantAccess } from "@xensim/gnttab";
import { PageStore } from "@xensim/memory";

const GUEST = 3;

function host() {
  const store = PageStore.create({ frames: 1024 });
  const gt = new GrantTables(store);
  const ev = new EventChannels(store, { notify: () => {} });
  for (const d of [0, GUEST]) {
    store.createDomain(d, { privileged: d === 0 });
    gt.initDomain(d);
    ev.initDomain(d, { sharedInfoFrame: store.allocFrame(d), maxVcpus: 1 });
  }
  store.populatePhysmap(GUEST, 0x100, 2);
  const tables: LeakTables = {
    grants: (domid) => gt.grantLeaksOf(domid),
    eventChannels: (domid) => ev.portsNaming(domid),
  };
  const destroyGuest = () => {
    ev.destroyDomain(GUEST);
    gt.destroyDomain(GUEST);
    store.destroyDomain(GUEST);
  };
  const audit = async () =>
    checkLeaks(
      await auditDomainLeaks(
        [{ domid: GUEST, guest: "g" }],
        new Set(store.domainState(GUEST) === "none" ? [] : [GUEST]),
        async () => false,
        tables,
      ),
    );
  return { store, gt, ev, destroyGuest, audit };
}

describe("leak audit against the hypervisor's tables", () => {
  it("a grant mapping a backend kept after the guest was destroyed", async () => {
    const { gt, destroyGuest, audit } = host();
    grantAccess(gt.sharedView(GUEST), 8, 0, 0x100, false);
    const m = gt.mapGrantRef(0, { dom: GUEST, ref: 8, flags: GNTMAP_host_map });
    assert.equal(m.status, GNTST_okay);
    destroyGuest();
    const r = await audit();
    assert.equal(r.pass, false);
    const e = r.evidence[0] as {
      domainPresent: boolean;
      grantMappings: number;
      detail: Record<string, unknown>;
    };
    assert.equal(e.domainPresent, true, "its mapped frame keeps it dying");
    assert.equal(e.grantMappings, 1);
    assert.deepEqual(e.detail.grantMappings, [{ mapper: 0, handle: m.handle, ref: 8 }]);
    assert.match(r.summary, /grant mappings, pins, event channels/);
    // the backend unmaps: the guest dies and nothing is left
    assert.equal(gt.unmapGrantRef(0, { handle: m.handle }), GNTST_okay);
    assert.equal((await audit()).pass, true);
  });

  it("a port a backend kept bound to the destroyed guest", async () => {
    const { ev, destroyGuest, audit } = host();
    const backend = ev.allocUnbound(0, { dom: 0, remoteDom: GUEST });
    assert.equal(backend.rc, 0);
    const frontend = ev.bindInterdomain(GUEST, { remoteDom: 0, remotePort: backend.port });
    assert.equal(frontend.rc, 0);
    destroyGuest();
    const r = await audit();
    assert.equal(r.pass, false);
    const e = r.evidence[0] as { eventChannels: number; detail: Record<string, unknown> };
    assert.equal(e.eventChannels, 1);
    assert.deepEqual(e.detail.eventChannels, [{ domid: 0, port: backend.port, state: "unbound" }]);
    assert.equal(ev.evtchnClose(0, backend.port), 0);
    assert.equal((await audit()).pass, true);
  });
});
