// The DmOp call API over the hypervisor core: xen_dm_op bytes through the call plane with Xen's errnos
// reaching the caller, acquire_resource's refusals, and teardown on domain death (the ioreq servers,
// their ports and pages, and what a dying emulator domain still had mapped) with a leak check.

import assert from "node:assert/strict";
import { type TestContext, test } from "node:test";
import { DOMID_XEN, HVM_IOREQSRV_BUFIOREQ_ATOMIC, XEN_DMOP_IO_RANGE_PORT, XenErrno } from "@xensim/abi";
import { createInProcessCallClient, createInProcessCallServer } from "@xensim/bus";
import {
  decodeCreateIoreqServerId,
  decodeGetIoreqServerInfo,
  encodeCreateIoreqServer,
  encodeGetIoreqServerInfo,
  encodeIoRange,
  encodeSetIoreqServerState,
  IoreqServers,
} from "@xensim/ioreq";
import { PageStore } from "@xensim/memory";
import { loadDmOpProto } from "@xensim/proto";
import { clientIdentity, type Identity, serviceIdentity } from "@xensim/security";
import { XenDeviceModel } from "@xensim/xenctrl";
import { hypervisorPolicy } from "./authz.js";
import { Hypervisor } from "@xensim/hypervisor";
import { addDmOpService, DMOP_METHODS } from "./dm-op.js";

const E = (n: keyof typeof XenErrno) => -XenErrno[n];
let serial = 0;

async function host(t: TestContext) {
  const store = PageStore.create({ frames: 4096 });
  const ref: { ioreq?: IoreqServers } = {};
  const hv = new Hypervisor(store, {
    onExc: () => {},
    notify: () => {},
    onDestroy: (d) => {
      ref.ioreq!.destroyAll(d);
      ref.ioreq!.releaseAllOf(d);
    },
  });
  assert.equal(hv.bootDom0({ memoryMib: 1, vcpus: 4 }), 0);
  const ioreq = new IoreqServers(store, hv.ev);
  ref.ioreq = ioreq;
  const name = `hv-dmop-test-${serial++}`;
  const server = createInProcessCallServer({ name });
  addDmOpService(server, hv, ioreq);
  await server.listen();
  const calls = createInProcessCallClient(loadDmOpProto().xensim.hypervisor.v1.DmOp.service, name);
  const dm = (caller: number) => new XenDeviceModel({ domid: caller, calls });
  const xenFrames = () => {
    let n = 0;
    for (let f = 1; f < store.nrFrames; f++) if (store.frameOwner(f) === DOMID_XEN) n++;
    return n;
  };
  t.after(async () => {
    calls.close();
    await server.close();
  });
  return { store, hv, ioreq, dm, xenFrames };
}

test("dm_op through the call plane: the struct bytes go both ways, Xen's errnos come back", async (t) => {
  const h = await host(t);
  const guest = h.hv.createDomain(0, { memoryMib: 2, vcpus: 2, hvm: true }).domid;
  const pv = h.hv.createDomain(0, { memoryMib: 1, hvm: false }).domid;
  const dom0 = h.dm(0);
  const c = await dom0.dmOp(guest, encodeCreateIoreqServer(HVM_IOREQSRV_BUFIOREQ_ATOMIC));
  assert.equal(c.rc, 0);
  const id = decodeCreateIoreqServerId(c.buf);
  const info = await dom0.dmOp(guest, encodeGetIoreqServerInfo(id));
  assert.equal(info.rc, 0);
  assert.ok(decodeGetIoreqServerInfo(info.buf).bufioreqPort > 0);
  assert.equal(
    (await dom0.dmOp(guest, encodeIoRange(true, id, XEN_DMOP_IO_RANGE_PORT, 0x3f8n, 0x3ffn))).rc,
    0,
  );
  assert.equal(
    (await dom0.dmOp(guest, encodeIoRange(true, id, XEN_DMOP_IO_RANGE_PORT, 0x3f9n, 0x3f9n))).rc,
    E("EEXIST"),
  );
  assert.equal((await dom0.dmOp(99, encodeCreateIoreqServer(0))).rc, E("ESRCH"));
  assert.equal((await dom0.dmOp(pv, encodeCreateIoreqServer(0))).rc, E("EINVAL"));
  assert.equal(
    (await h.dm(pv).dmOp(guest, encodeCreateIoreqServer(0))).rc,
    E("EPERM"),
    "a domU is not a device model",
  );
  const padded = encodeSetIoreqServerState(id, true);
  padded[4] = 1;
  assert.equal((await dom0.dmOp(guest, padded)).rc, E("EINVAL"));
  assert.equal((await dom0.acquireResource(guest, id, 0, 2)).rc, 0);
  const list = await dom0.ioreqServerList(guest);
  assert.equal(list.servers.length, 1);
  assert.deepEqual(list.servers[0]!.portRanges, [{ start: 0x3f8n, end: 0x3ffn }]);
  assert.equal(list.servers[0]!.ports.length, 2);
  assert.equal((await h.dm(guest).ioreqServerList(guest)).rc, E("EPERM"));
});

test("acquire_resource: other resource types are not offered here, a domU may not map, unknown domain", async (t) => {
  const h = await host(t);
  const guest = h.hv.createDomain(0, { memoryMib: 2, hvm: true }).domid;
  const dom0 = h.dm(0);
  const id = decodeCreateIoreqServerId((await dom0.dmOp(guest, encodeCreateIoreqServer(0))).buf);
  assert.equal((await h.dm(guest).acquireResource(guest, id, 1, 1)).rc, E("EPERM"));
  assert.equal((await dom0.acquireResource(77, id, 1, 1)).rc, E("ESRCH"));
  assert.equal((await dom0.acquireResource(guest, id, 0, 1)).rc, E("ENOENT"), "buffering off: no frame 0");
  const r = await dom0.acquireResource(guest, id, 1, 1);
  assert.equal(r.rc, 0);
  assert.equal(await dom0.releaseResource(guest, id), 0);
  assert.equal(await dom0.releaseResource(guest, id), E("ENOENT"), "nothing left to unmap");
});

test("domain death: every ioreq server, its ports, range sets and pages go; a dying emulator's mappings too", async (t) => {
  const h = await host(t);
  const xen0 = h.xenFrames();
  const free0 = h.store.freeFrameCount();
  const guest = h.hv.createDomain(0, { memoryMib: 2, vcpus: 3, hvm: true }).domid;
  const dom0 = h.dm(0);
  for (let i = 0; i < 3; i++) {
    const id = decodeCreateIoreqServerId(
      (await dom0.dmOp(guest, encodeCreateIoreqServer(HVM_IOREQSRV_BUFIOREQ_ATOMIC))).buf,
    );
    assert.equal(
      (
        await dom0.dmOp(
          guest,
          encodeIoRange(true, id, XEN_DMOP_IO_RANGE_PORT, BigInt(0x100 * i), BigInt(0x100 * i + 7)),
        )
      ).rc,
      0,
    );
    assert.equal((await dom0.acquireResource(guest, id, 0, 2)).rc, 0);
    assert.equal((await dom0.dmOp(guest, encodeSetIoreqServerState(id, true))).rc, 0);
  }
  assert.equal(h.ioreq.acquiredCount(), 6);
  assert.equal(h.hv.destroy(0, guest), 0);
  h.hv.reap();
  assert.equal(h.hv.record(guest), undefined, "dead, not lingering");
  assert.equal(h.ioreq.acquiredCount(), 6, "dom0 still has them mapped (its unmap is what frees them)");
  for (let id = 0; id < 3; id++) assert.equal(await dom0.releaseResource(guest, id), 0);
  assert.equal(h.xenFrames(), xen0, "no DOMID_XEN frame left");
  assert.equal(h.store.freeFrameCount(), free0, "every frame back");
});

test("call policy: dm_op is the device model's among dom0's identities; a domain's own identity meets Xen's checks", () => {
  const policy = hypervisorPolicy({
    hostId: "h",
    domain: (d) =>
      d === 0
        ? { homeHost: "", privileged: true }
        : d === 4
          ? { homeHost: "", privileged: false }
          : undefined,
  });
  const ctx = (identity: Identity) => ({ metadata: {}, peer: "test", method: "/m", identity });
  for (const method of DMOP_METHODS) {
    for (const who of [serviceIdentity("h", "device-model"), serviceIdentity("h", "device-model-2")])
      assert.equal(policy(method, { caller: 0 }, ctx(who)), undefined, `${method} by ${who.name}`);
    assert.equal(policy(method, { caller: 0 }, ctx({ ...clientIdentity("admin"), domid: 0 })), undefined);
    for (const who of ["blkback", "toolstack", "xenstored", "page-server", "displback"])
      assert.match(
        policy(method, { caller: 0 }, ctx(serviceIdentity("h", who))) ?? "",
        /dm_op is the device model's/,
      );
    // the guest runtime acting as its domain: through to Xen (which answers -EPERM); as dom0: refused
    assert.equal(policy(method, { caller: 4 }, ctx(serviceIdentity("h", "guest"))), undefined);
    assert.match(policy(method, { caller: 0 }, ctx(serviceIdentity("h", "guest"))) ?? "", /privileged/);
    // the device model acting as another domain
    assert.match(
      policy(method, { caller: 4 }, ctx(serviceIdentity("h", "device-model"))) ?? "",
      /act only as domain 0/,
    );
  }
  // the rest of the hypervisor's calls stay open to every dom0 identity
  assert.equal(policy("DomainList", { caller: 0 }, ctx(serviceIdentity("h", "blkback"))), undefined);
});
