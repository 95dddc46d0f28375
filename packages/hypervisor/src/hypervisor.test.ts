// Hypervisor core: privilege refusals, Xen's errnos and GNTST codes for bad domids, ports and refs,
// the lifecycle, destroy leaving nothing behind, and a destroyed granter lingering while mapped.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DOMID_SELF,
  GNTMAP_host_map,
  GNTST_bad_domain,
  GNTST_bad_gntref,
  GNTST_bad_handle,
  GNTST_okay,
  GNTST_permission_denied,
  HVM_PARAM_STORE_PFN,
  SHUTDOWN_crash,
  SHUTDOWN_poweroff,
  SHUTDOWN_reboot,
  VIRQ_DOM_EXC,
  XenErrno,
} from "@xensim/abi";
import { isPending } from "@xensim/evtchn";
import { grantAccess } from "@xensim/gnttab";
import { PageStore } from "@xensim/memory";
import type { DomainExcEvent } from "./domain-exc.js";
import { Hypervisor } from "./hypervisor.js";

const EPERM = -XenErrno.EPERM;
const ESRCH = -XenErrno.ESRCH;
const EINVAL = -XenErrno.EINVAL;
const EEXIST = -XenErrno.EEXIST;

function boot(): { hv: Hypervisor; store: PageStore; excs: DomainExcEvent[]; kicks: number[][] } {
  const store = PageStore.create({ frames: 8192 });
  const excs: DomainExcEvent[] = [];
  const kicks: number[][] = [];
  const hv = new Hypervisor(store, {
    onExc: (e) => excs.push(e),
    notify: (d, v, p) => kicks.push([d, v, p]),
  });
  assert.equal(hv.bootDom0({ memoryMib: 1, vcpus: 1 }), 0);
  return { hv, store, excs, kicks };
}

function guest(hv: Hypervisor, memoryMib = 1): number {
  const r = hv.createDomain(0, { memoryMib });
  assert.equal(r.rc, 0);
  return r.domid;
}

describe("privileged operations refused to unprivileged callers (-EPERM)", () => {
  const { hv } = boot();
  const a = guest(hv);
  const b = guest(hv);
  const table: Array<[string, () => number]> = [
    ["create", () => hv.createDomain(a, { memoryMib: 1 }).rc],
    ["pause", () => hv.pause(a, b)],
    ["unpause", () => hv.unpause(a, b)],
    ["remote shutdown", () => hv.shutdown(a, b, SHUTDOWN_poweroff)],
    ["destroy", () => hv.destroy(a, b)],
    ["list", () => hv.list(a).rc],
    ["info of another domain", () => hv.info(a, b).rc],
    ["hvm param of another domain", () => hv.hvmParamGet(a, b, 1).rc],
    ["populate another's physmap", () => hv.populatePhysmap(a, b, 0x1000, 1, false).rc],
    ["gfn lookup in another domain", () => hv.gfnToFrame(a, b, [0]).rc],
    ["alloc_unbound in another domain", () => hv.evtchnAllocUnbound(a, b, a).rc],
    ["evtchn status of another domain", () => hv.evtchnStatus(a, b, 1).rc],
    ["evtchn reset of another domain", () => hv.evtchnReset(a, b)],
  ];
  for (const [name, op] of table) it(name, () => assert.equal(op(), EPERM));
  it("grant setup/query of another domain: GNTST_permission_denied", () => {
    assert.equal(hv.gnttabSetupTable(a, b, 1).status, GNTST_permission_denied);
    assert.equal(hv.gnttabQuerySize(a, b).status, GNTST_permission_denied);
  });
  it("a domain may act on itself", () => {
    assert.equal(hv.info(a, DOMID_SELF).rc, 0);
    assert.equal(hv.evtchnAllocUnbound(a, DOMID_SELF, 0).rc, 0);
    assert.equal(hv.gnttabQuerySize(a, DOMID_SELF).status, GNTST_okay);
    assert.equal(hv.shutdown(a, a, SHUTDOWN_reboot), 0);
  });
});

describe("out-of-range domids, ports and refs", () => {
  const { hv } = boot();
  const a = guest(hv);
  it("domctl on a missing domain: -ESRCH", () => {
    for (const d of [99, 0x7fef, 0x7ff5, 0xffff]) {
      assert.equal(hv.pause(0, d), ESRCH);
      assert.equal(hv.unpause(0, d), ESRCH);
      assert.equal(hv.destroy(0, d), ESRCH);
      assert.equal(hv.shutdown(0, d, 0), ESRCH);
      assert.equal(hv.info(0, d).rc, ESRCH);
    }
  });
  it("create: a taken domid is -EEXIST, bad vcpus/params -EINVAL", () => {
    assert.equal(hv.createDomain(0, { domid: a, memoryMib: 1 }).rc, EEXIST);
    assert.equal(hv.createDomain(0, { domid: 0x50, memoryMib: 1, vcpus: 0 }).rc, EINVAL);
    assert.equal(hv.createDomain(0, { domid: 0x50, memoryMib: 1, vcpus: 33 }).rc, EINVAL);
    assert.equal(
      hv.createDomain(0, { memoryMib: 1, hvmParams: [{ index: 1, value: 1n }] }).rc,
      EINVAL, // params of a PV domain
    );
    assert.equal(
      hv.createDomain(0, { memoryMib: 1, hvm: true, hvmParams: [{ index: 99, value: 1n }] }).rc,
      EINVAL,
    );
  });
  it("shutdown reason beyond SHUTDOWN_soft_reset: -EINVAL; pausing oneself: -EINVAL", () => {
    assert.equal(hv.shutdown(0, a, 6), EINVAL);
    assert.equal(hv.pause(0, 0), EINVAL);
  });
  it("event channels: bad ports -EINVAL, missing domains -ESRCH", () => {
    assert.equal(hv.evtchnSend(a, 0), EINVAL); // reserved
    assert.equal(hv.evtchnSend(a, 5000), EINVAL);
    assert.equal(hv.evtchnClose(a, 77), EINVAL);
    assert.equal(hv.evtchnUnmask(a, 4096), EINVAL);
    assert.equal(hv.evtchnStatus(0, 99, 1).rc, ESRCH);
    assert.equal(hv.evtchnAllocUnbound(0, 99, 0).rc, ESRCH);
    assert.equal(hv.evtchnBindInterdomain(a, 99, 1).rc, ESRCH);
    assert.equal(hv.evtchnBindInterdomain(a, 0, 4000).rc, EINVAL);
    assert.equal(hv.evtchnBindVirq(a, 24, 0).rc, EINVAL);
    assert.equal(hv.evtchnBindIpi(a, 1).rc, -XenErrno.ENOENT); // one vCPU
    assert.equal(hv.evtchnSend(99, 1), ESRCH);
  });
  it("grants: bad refs GNTST_bad_gntref, missing granter GNTST_bad_domain, bad handle GNTST_bad_handle", () => {
    assert.equal(hv.gnttabMap(0, { dom: a, ref: 512, flags: GNTMAP_host_map }).status, GNTST_bad_gntref);
    assert.equal(hv.gnttabMap(0, { dom: 99, ref: 8, flags: GNTMAP_host_map }).status, GNTST_bad_domain);
    assert.equal(hv.gnttabMap(0, { dom: a, ref: 8, flags: 0 }).status, GNTST_bad_gntref);
    assert.equal(hv.gnttabUnmap(0, { handle: 12345 }), GNTST_bad_handle);
    assert.equal(hv.gnttabSetupTable(0, 99, 1).status, GNTST_bad_domain);
    assert.equal(hv.gnttabGrantAccess(a, 600, 0, 1, false), EINVAL);
  });
  it("hvm params: PV domain -EINVAL, index out of range -EINVAL", () => {
    assert.equal(hv.hvmParamGet(0, a, HVM_PARAM_STORE_PFN).rc, EINVAL);
    const h = hv.createDomain(0, { memoryMib: 1, hvm: true, hvmParams: [{ index: 1, value: 0xfeffen }] });
    assert.equal(h.rc, 0);
    assert.equal(hv.hvmParamGet(0, h.domid, HVM_PARAM_STORE_PFN).value, 0xfeffen);
    assert.equal(hv.hvmParamSet(h.domid, DOMID_SELF, 2, 5n), 0);
    assert.equal(hv.hvmParamGet(h.domid, h.domid, 2).value, 5n);
    assert.equal(hv.hvmParamGet(0, h.domid, 39).rc, EINVAL);
  });
});

describe("lifecycle", () => {
  it("created paused; pause counts; shutdown raises VIRQ_DOM_EXC and an exc event; destroy → dead", () => {
    const { hv, excs, store } = boot();
    const xsPort = hv.evtchnBindVirq(0, VIRQ_DOM_EXC, 0);
    assert.equal(xsPort.rc, 0);
    const d = guest(hv);
    assert.equal(hv.info(0, d).info?.state, "paused");
    assert.equal(hv.unpause(0, d), 0);
    assert.equal(hv.info(0, d).info?.state, "running");
    assert.equal(hv.unpause(0, d), EINVAL); // not paused
    assert.equal(hv.pause(0, d), 0);
    assert.equal(hv.pause(0, d), 0);
    assert.equal(hv.info(0, d).info?.pauseCount, 2);
    assert.equal(hv.unpause(0, d), 0);
    assert.equal(hv.unpause(0, d), 0);
    assert.equal(hv.shutdown(0, d, SHUTDOWN_crash), 0);
    assert.equal(hv.shutdown(0, d, SHUTDOWN_poweroff), 0); // first reason stands
    const info = hv.info(0, d).info!;
    assert.equal(info.state, "shutdown");
    assert.equal(info.shutdownReason, SHUTDOWN_crash);
    assert.deepEqual(excs, [{ domid: d, state: "shutdown", reason: SHUTDOWN_crash }]);
    assert.ok(isPending(hv.ev.sharedInfo(0), xsPort.port));
    assert.equal(hv.destroy(0, d), 0);
    assert.deepEqual(
      excs.slice(1).map((e) => e.state),
      ["dying", "dead"],
    );
    assert.equal(hv.info(0, d).rc, ESRCH);
    assert.equal(store.domainState(d), "none");
    assert.equal(hv.destroy(0, 0), EINVAL); // not dom0
  });

  it("list shows every domain with its state", () => {
    const { hv } = boot();
    const a = guest(hv);
    const b = guest(hv);
    hv.unpause(0, a);
    const l = hv.list(0);
    assert.equal(l.rc, 0);
    assert.deepEqual(
      l.domains.map((x) => [x.domid, x.state]),
      [
        [0, "running"],
        [a, "running"],
        [b, "paused"],
      ],
    );
    assert.ok(l.domains[1]!.totPages >= 256);
  });
});

describe("destroy leaves nothing behind", () => {
  it("frames, ports and grants all return (cores' counters)", () => {
    const { hv, store } = boot();
    const free0 = store.freeFrameCount();
    const ports0 = hv.ev.portCount(0);
    const a = guest(hv, 2);
    const b = guest(hv, 1);
    // a grants to b; b maps; ports between a and dom0 and between a and b.
    grantAccess(hv.gt.sharedView(a), 8, b, 3, false);
    const m = hv.gnttabMap(b, { dom: a, ref: 8, flags: GNTMAP_host_map });
    assert.equal(m.status, GNTST_okay);
    const u = hv.evtchnAllocUnbound(a, a, 0);
    assert.equal(hv.evtchnBindInterdomain(0, a, u.port).rc, 0);
    const u2 = hv.evtchnAllocUnbound(b, b, a);
    assert.equal(hv.evtchnBindInterdomain(a, b, u2.port).rc, 0);
    assert.equal(hv.gnttabSetupTable(0, b, 4).status, GNTST_okay);
    assert.equal(hv.populatePhysmap(0, b, 0x800, 3, true).rc, 0);
    assert.equal(hv.populatePhysmap(0, b, 0x800, 1, true).rc, EEXIST);
    // The mapper goes first: its mapping is released, the granter's flags cleared.
    assert.equal(hv.destroy(0, b), 0);
    assert.equal(hv.gt.mappingCount(b), 0);
    assert.equal(hv.gt.activePin(a, 8), 0);
    assert.equal(hv.ev.portCount(b), 0);
    assert.equal(hv.evtchnStatus(a, a, 2).status, 1); // a's end went back to unbound
    assert.equal(hv.destroy(0, a), 0);
    assert.equal(hv.ev.portCount(a), 0);
    assert.equal(hv.ev.portCount(0), ports0 + 1); // dom0's end stays, unbound (close it)
    assert.equal(hv.evtchnStatus(0, 0, ports0 + 1).status, 1);
    assert.equal(hv.evtchnClose(0, ports0 + 1), 0);
    assert.equal(hv.ev.portCount(0), ports0);
    assert.equal(hv.grantsMapped(), 0);
    assert.equal(store.freeFrameCount(), free0);
    assert.deepEqual(hv.domids(), [0]);
  });

  it("a granter destroyed while mapped lingers as dying until the mapper unmaps", () => {
    const { hv, store, excs } = boot();
    const free0 = store.freeFrameCount();
    const a = guest(hv);
    const b = guest(hv);
    grantAccess(hv.gt.sharedView(a), 9, b, 7, false);
    const m = hv.gnttabMap(b, { dom: a, ref: 9, flags: GNTMAP_host_map });
    assert.equal(m.status, GNTST_okay);
    store.viewOfFrames([m.frame]).setU32(0, 0xcafe);
    assert.equal(hv.destroy(0, a), 0);
    const info = hv.info(0, a).info!;
    assert.equal(info.state, "dying");
    assert.ok(info.dying);
    assert.equal(store.domainState(a), "dying");
    assert.equal(store.viewOfFrames([m.frame]).getU32(0), 0xcafe); // the mapper still sees the page
    assert.equal(hv.gnttabMap(b, { dom: a, ref: 9, flags: GNTMAP_host_map }).status, GNTST_bad_domain);
    assert.equal(hv.createDomain(0, { domid: a, memoryMib: 1 }).rc, EEXIST); // domid not reusable yet
    assert.equal(hv.gnttabUnmap(b, { handle: m.handle }), GNTST_okay);
    assert.equal(store.domainState(a), "none");
    assert.equal(hv.info(0, a).rc, ESRCH);
    assert.deepEqual(
      excs.filter((e) => e.domid === a).map((e) => e.state),
      ["dying", "dead"],
    );
    assert.equal(hv.destroy(0, b), 0);
    assert.equal(store.freeFrameCount(), free0);
  });
});

describe("event delivery through the core", () => {
  it("interdomain send raises the peer's pending bit and kicks once per edge", () => {
    const { hv, kicks } = boot();
    const a = guest(hv);
    const u = hv.evtchnAllocUnbound(a, DOMID_SELF, 0);
    const l = hv.evtchnBindInterdomain(0, a, u.port);
    kicks.length = 0;
    assert.equal(hv.evtchnSend(0, l.port), 0);
    assert.equal(hv.evtchnSend(0, l.port), 0); // coalesced: already pending
    assert.deepEqual(kicks, [[a, 0, u.port]]);
  });
});

describe("EVTCHNOP_bind_vcpu through the core", () => {
  it("a port's events go to its new vCPU; IPIs refuse (-EINVAL), missing vCPUs -ENOENT", () => {
    const { hv, kicks } = boot();
    const g = hv.createDomain(0, { memoryMib: 1, vcpus: 2 }).domid;
    const u = hv.evtchnAllocUnbound(g, g, 0);
    const l = hv.evtchnBindInterdomain(0, g, u.port);
    assert.equal(hv.evtchnBindVcpu(g, u.port, 1), 0);
    assert.equal(hv.evtchnBindVcpu(g, u.port, 2), -XenErrno.ENOENT);
    assert.equal(hv.evtchnBindVcpu(g, hv.evtchnBindIpi(g, 0).port, 1), EINVAL);
    kicks.length = 0;
    assert.equal(hv.evtchnSend(0, l.port), 0);
    assert.deepEqual(kicks, [[g, 1, u.port]]);
    assert.equal(hv.evtchnStatus(g, g, u.port).vcpu, 1);
  });
});
