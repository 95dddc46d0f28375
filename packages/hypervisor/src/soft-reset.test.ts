// XEN_DOMCTL_soft_reset and XEN_DOMCTL_resumedomain in the core: every refusal (nothing changes),
// and the effects — ports closed (peers back to unbound), grants still mapped and usable, memory
// and physmap unchanged, a fresh shared_info, domid kept, paused and no longer shut down.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DOMID_SELF,
  EVTCHNSTAT_closed,
  EVTCHNSTAT_interdomain,
  EVTCHNSTAT_unbound,
  GNTMAP_host_map,
  GNTST_okay,
  SHUTDOWN_crash,
  SHUTDOWN_poweroff,
  SHUTDOWN_reboot,
  SHUTDOWN_soft_reset,
  SHUTDOWN_suspend,
  XenErrno,
} from "@xensim/abi";
import { clearPending, isPending } from "@xensim/evtchn";
import { grantAccess } from "@xensim/gnttab";
import { PAGE_SIZE, PageStore } from "@xensim/memory";
import type { DomainExcEvent } from "./domain-exc.js";
import { Hypervisor } from "./hypervisor.js";

const EPERM = -XenErrno.EPERM;
const ESRCH = -XenErrno.ESRCH;
const EINVAL = -XenErrno.EINVAL;

function boot(): { hv: Hypervisor; store: PageStore; excs: DomainExcEvent[] } {
  const store = PageStore.create({ frames: 8192 });
  const excs: DomainExcEvent[] = [];
  const hv = new Hypervisor(store, { onExc: (e) => excs.push(e) });
  assert.equal(hv.bootDom0({ memoryMib: 1, vcpus: 1 }), 0);
  return { hv, store, excs };
}

function hvmGuest(hv: Hypervisor, vcpus = 1): number {
  const r = hv.createDomain(0, { memoryMib: 1, hvm: true, vcpus });
  assert.equal(r.rc, 0);
  return r.domid;
}

/** A domain ready for soft reset: shut down with SHUTDOWN_soft_reset and paused (as libxl leaves it). */
function readyForSoftReset(hv: Hypervisor, d: number): void {
  assert.equal(hv.unpause(0, d), 0);
  assert.equal(hv.shutdown(d, DOMID_SELF, SHUTDOWN_soft_reset), 0);
  assert.equal(hv.pause(0, d), 0);
}

describe("soft reset refusals (nothing changes)", () => {
  it("unprivileged caller: -EPERM", () => {
    const { hv } = boot();
    const a = hvmGuest(hv);
    const b = hvmGuest(hv);
    readyForSoftReset(hv, b);
    assert.equal(hv.softReset(a, b), EPERM);
    assert.equal(hv.softReset(b, b), EPERM);
    assert.equal(hv.info(0, b).info?.shutdownReason, SHUTDOWN_soft_reset);
  });
  it("missing domain: -ESRCH", () => {
    const { hv } = boot();
    assert.equal(hv.softReset(0, 77), ESRCH);
  });
  it("not shut down, or shut down for another reason: -EINVAL", () => {
    const { hv } = boot();
    const a = hvmGuest(hv); // paused, never shut down
    assert.equal(hv.softReset(0, a), EINVAL);
    for (const reason of [SHUTDOWN_poweroff, SHUTDOWN_reboot, SHUTDOWN_suspend, SHUTDOWN_crash]) {
      const d = hvmGuest(hv);
      assert.equal(hv.shutdown(0, d, reason), 0);
      assert.equal(hv.softReset(0, d), EINVAL, `reason ${reason}`);
      assert.equal(hv.info(0, d).info?.state, "shutdown");
    }
  });
  it("shut down for soft reset but not paused: -EINVAL", () => {
    const { hv } = boot();
    const a = hvmGuest(hv);
    assert.equal(hv.unpause(0, a), 0);
    assert.equal(hv.shutdown(a, DOMID_SELF, SHUTDOWN_soft_reset), 0);
    const port = hv.evtchnAllocUnbound(a, DOMID_SELF, 0).port;
    assert.equal(hv.softReset(0, a), EINVAL);
    assert.equal(hv.evtchnStatus(0, a, port).status, EVTCHNSTAT_unbound); // untouched
  });
  it("PV domain: -EINVAL (Xen's arch_domain_soft_reset is HVM-only)", () => {
    const { hv } = boot();
    const r = hv.createDomain(0, { memoryMib: 1 });
    readyForSoftReset(hv, r.domid);
    assert.equal(hv.softReset(0, r.domid), EINVAL);
  });
  it("dom0 on itself, and a dying domain: -EINVAL", () => {
    const { hv, store } = boot();
    assert.equal(hv.softReset(0, 0), EINVAL);
    const a = hvmGuest(hv);
    const b = hvmGuest(hv);
    grantAccess(hv.gt.sharedView(a), 8, b, 3, false);
    const m = hv.gnttabMap(b, { dom: a, ref: 8, flags: GNTMAP_host_map });
    assert.equal(m.status, GNTST_okay);
    readyForSoftReset(hv, a);
    assert.equal(hv.destroy(0, a), 0);
    assert.equal(store.domainState(a), "dying"); // still mapped by b
    assert.equal(hv.softReset(0, a), EINVAL);
    assert.equal(hv.gnttabUnmap(b, { handle: m.handle }), GNTST_okay);
  });
});

describe("soft reset effects", () => {
  it("ports closed, peers unbound; grants, memory, physmap kept; fresh shared_info; paused", () => {
    const { hv, store, excs } = boot();
    const g = hvmGuest(hv, 2);
    const b = hvmGuest(hv);
    const dom0Ports = hv.ev.portCount(0);

    // Memory content at gfn 5 and a populated extra gfn.
    const gfnFrame = hv.gfnToFrame(0, g, [5]).frames[0]!;
    store.viewOfFrames([gfnFrame]).setU32(100, 0xdeadbeef);
    assert.equal(hv.populatePhysmap(0, g, 0x900, 2, false).rc, 0);
    const extra = hv.gfnToFrame(0, g, [0x900, 0x901]).frames;
    const totPages = hv.info(0, g).info!.totPages;

    // Channels: guest ↔ dom0 (guest allocated, dom0 bound), dom0 ↔ guest (dom0 allocated, guest
    // bound), an IPI and an unbound port of the guest.
    const gPort = hv.evtchnAllocUnbound(g, DOMID_SELF, 0).port;
    const d0Bound = hv.evtchnBindInterdomain(0, g, gPort).port;
    const d0Unbound = hv.evtchnAllocUnbound(0, DOMID_SELF, g).port;
    const gBound = hv.evtchnBindInterdomain(g, 0, d0Unbound).port;
    const ipi = hv.evtchnBindIpi(g, 1).port;
    const lone = hv.evtchnAllocUnbound(g, DOMID_SELF, b).port;
    assert.equal(hv.ev.portCount(g), 4);
    assert.equal(hv.evtchnSend(0, d0Bound), 0);
    assert.ok(isPending(hv.ev.sharedInfo(g), gPort));

    // Grants both ways: dom0 maps the guest's page, the guest maps b's page.
    grantAccess(hv.gt.sharedView(g), 8, 0, 5, false);
    const m0 = hv.gnttabMap(0, { dom: g, ref: 8, flags: GNTMAP_host_map });
    assert.equal(m0.status, GNTST_okay);
    assert.equal(m0.frame, gfnFrame);
    grantAccess(hv.gt.sharedView(b), 9, g, 2, false);
    const mg = hv.gnttabMap(g, { dom: b, ref: 9, flags: GNTMAP_host_map });
    assert.equal(mg.status, GNTST_okay);

    const oldSi = hv.info(0, g).info!.sharedInfoFrame;
    hv.ev.sharedInfo(g).setU32(2048 + 8, 0x1234); // some pending word the guest left behind
    readyForSoftReset(hv, g);
    excs.length = 0;
    const free0 = store.freeFrameCount();

    assert.equal(hv.softReset(0, g), 0);

    // State: domid kept, paused (count as before), no shutdown; an exc event, not a death.
    const info = hv.info(0, g).info!;
    assert.equal(info.domid, g);
    assert.equal(info.state, "paused");
    assert.equal(info.shutdownReason, -1);
    assert.equal(info.pauseCount, 1);
    assert.equal(info.dying, false);
    assert.deepEqual(excs, [{ domid: g, state: "soft_reset", reason: SHUTDOWN_soft_reset }]);
    assert.deepEqual(hv.domids(), [0, g, b]);

    // Event channels: all the guest's closed; dom0's ends back to unbound, accepting the guest.
    assert.equal(hv.ev.portCount(g), 0);
    for (const p of [gPort, gBound, ipi, lone])
      assert.equal(hv.evtchnStatus(0, g, p).status, EVTCHNSTAT_closed);
    for (const p of [d0Bound, d0Unbound]) {
      const s = hv.evtchnStatus(0, 0, p);
      assert.equal(s.status, EVTCHNSTAT_unbound);
      assert.equal(s.dom, g);
    }
    assert.equal(hv.ev.portCount(0), dom0Ports + 2);
    assert.equal(hv.evtchnSend(0, d0Bound), 0); // unbound: dropped

    // shared_info: a fresh zeroed frame owned by the guest; the old one freed (nothing referenced it).
    assert.notEqual(info.sharedInfoFrame, oldSi);
    assert.equal(hv.ev.sharedInfo(g).frames[0], info.sharedInfoFrame);
    assert.equal(store.frameOwner(info.sharedInfoFrame), g);
    const si = store.viewOfFrames([info.sharedInfoFrame]);
    for (let off = 0; off < PAGE_SIZE; off += 4) assert.equal(si.getU32(off), 0);
    assert.equal(store.frameOwner(oldSi), undefined);
    assert.equal(store.freeFrameCount(), free0); // one allocated, one freed

    // Memory and physmap unchanged.
    assert.equal(hv.gfnToFrame(0, g, [5]).frames[0], gfnFrame);
    assert.equal(store.viewOfFrames([gfnFrame]).getU32(100), 0xdeadbeef);
    assert.deepEqual(hv.gfnToFrame(0, g, [0x900, 0x901]).frames, extra);
    assert.equal(hv.info(0, g).info!.totPages, totPages);

    // Grants: both mappings survive and work; the guest's table is unchanged.
    assert.equal(hv.grantsMapped(), 2);
    assert.equal(hv.gt.activePin(g, 8) > 0, true);
    store.viewOfFrames([m0.frame]).setU32(0, 0xfeed);
    assert.equal(store.viewOfFrames([gfnFrame]).getU32(0), 0xfeed);
    assert.equal(hv.gnttabUnmap(0, { handle: m0.handle }), GNTST_okay);
    assert.equal(hv.gnttabUnmap(g, { handle: mg.handle }), GNTST_okay);
    const again = hv.gnttabMap(0, { dom: g, ref: 8, flags: GNTMAP_host_map });
    assert.equal(again.status, GNTST_okay);
    assert.equal(hv.gnttabUnmap(0, { handle: again.handle }), GNTST_okay);

    // The guest runs again after the toolstack's unpause and binds new channels on the fresh page.
    assert.equal(hv.unpause(0, g), 0);
    assert.equal(hv.info(0, g).info?.state, "running");
    const rebound = hv.evtchnBindInterdomain(g, 0, d0Bound);
    assert.equal(rebound.rc, 0);
    assert.equal(hv.evtchnStatus(0, 0, d0Bound).status, EVTCHNSTAT_interdomain);
    clearPending(hv.ev.sharedInfo(g), rebound.port); // the guest handled the bind's event
    assert.ok(!isPending(hv.ev.sharedInfo(g), rebound.port));
    assert.equal(hv.evtchnSend(0, d0Bound), 0);
    assert.ok(isPending(hv.ev.sharedInfo(g), rebound.port));
    assert.equal(hv.softReset(0, g), EINVAL); // no longer shut down

    // Destroy still leaves nothing of the guest behind.
    assert.equal(hv.destroy(0, g), 0);
    assert.equal(store.domainState(g), "none");
  });

  it("a referenced old shared_info frame lingers until the last reference goes", () => {
    const { hv, store } = boot();
    const g = hvmGuest(hv);
    const oldSi = hv.info(0, g).info!.sharedInfoFrame;
    assert.ok(store.getPageRef(oldSi));
    readyForSoftReset(hv, g);
    assert.equal(hv.softReset(0, g), 0);
    assert.equal(store.frameOwner(oldSi), g);
    assert.ok(store.frameDying(oldSi));
    store.putPageRef(oldSi);
    assert.equal(store.frameOwner(oldSi), undefined);
  });
});

describe("resume (XEN_DOMCTL_resumedomain)", () => {
  it("clears a SHUTDOWN_suspend shutdown", () => {
    const { hv } = boot();
    const g = hvmGuest(hv);
    assert.equal(hv.unpause(0, g), 0);
    const port = hv.evtchnAllocUnbound(g, DOMID_SELF, 0).port;
    assert.equal(hv.shutdown(g, DOMID_SELF, SHUTDOWN_suspend), 0);
    assert.equal(hv.info(0, g).info?.state, "shutdown");
    assert.equal(hv.resume(0, g), 0);
    const info = hv.info(0, g).info!;
    assert.equal(info.state, "running");
    assert.equal(info.shutdownReason, -1);
    assert.equal(hv.evtchnStatus(0, g, port).status, EVTCHNSTAT_unbound); // nothing reset
    assert.equal(hv.shutdown(g, DOMID_SELF, SHUTDOWN_poweroff), 0); // may shut down anew
    assert.equal(hv.info(0, g).info?.shutdownReason, SHUTDOWN_poweroff);
  });
  it("refusals: -EPERM unprivileged, -ESRCH missing, -EINVAL not suspended / other reason / self", () => {
    const { hv } = boot();
    const a = hvmGuest(hv);
    const g = hvmGuest(hv);
    assert.equal(hv.shutdown(0, g, SHUTDOWN_suspend), 0);
    assert.equal(hv.resume(a, g), EPERM);
    assert.equal(hv.resume(g, g), EPERM);
    assert.equal(hv.resume(0, 99), ESRCH);
    assert.equal(hv.resume(0, a), EINVAL); // not shut down
    assert.equal(hv.resume(0, 0), EINVAL);
    for (const reason of [SHUTDOWN_poweroff, SHUTDOWN_crash, SHUTDOWN_soft_reset]) {
      const d = hvmGuest(hv);
      assert.equal(hv.shutdown(0, d, reason), 0);
      assert.equal(hv.resume(0, d), EINVAL);
      assert.equal(hv.info(0, d).info?.shutdownReason, reason);
    }
    assert.equal(hv.info(0, g).info?.shutdownReason, SHUTDOWN_suspend);
  });
});
