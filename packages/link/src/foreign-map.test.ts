// Foreign mappings over the link (privcmd's xenforeignmemory_map of a domain's gfns, and an ioreq
// server's pages through acquire_resource) from a host without the hypervisor: the frames are
// replicated at the mapper, writes travel both ways in order with the events after them, the
// hypervisor's host refuses what privcmd refuses, and nothing is left behind — page references and
// replica frames go on unmap, on the mapper's restart (new epoch) and on the domain's death; a home
// host's replicas go when their origin frames are freed.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  HVM_IOREQSRV_BUFIOREQ_ATOMIC,
  XENMEM_resource_grant_table,
  XENMEM_resource_ioreq_server,
  XenErrno,
} from "@xensim/abi";
import { EventChannels } from "@xensim/evtchn";
import { grantAccess } from "@xensim/gnttab";
import { IoreqServers } from "@xensim/ioreq";
import { testSeed } from "@xensim/testkit";
import {
  decodeRc,
  encodeForeignMapRequest,
  decodeForeignMapReply,
  OP_FOREIGN_MAP,
  OP_FOREIGN_UNMAP,
} from "./requests.js";
import { BLKBACK_VCPU, type LinkThread, pattern, type TwoHosts, twoHosts } from "./testing/rig.js";

const seed = testSeed();
console.log(`foreign map tests: seed ${seed} (XENSIM_SEED=${seed} to replay)`);

function foreignMap(
  back: LinkThread,
  caller: number,
  dom: number,
  gfns: number[],
  opts: { readonly?: boolean; resource?: { type: number; id: number; frame: number; nrFrames: number } } = {},
): { rc: number; handle: number; locals: number[] } {
  const q = { dom, readonly: opts.readonly ?? false, gfns, watermarks: [] };
  const r = decodeForeignMapReply(
    back.request(
      OP_FOREIGN_MAP,
      caller,
      encodeForeignMapRequest(opts.resource ? { ...q, resource: opts.resource } : q),
    ),
  );
  return { rc: r.rc, handle: r.handle, locals: r.origins };
}

function foreignUnmap(back: LinkThread, caller: number, handle: number): number {
  return decodeRc(back.request(OP_FOREIGN_UNMAP, caller, new Uint8Array(new Uint32Array([handle]).buffer)));
}

const framesOf = (t: TwoHosts, gfns: number[]) => t.hv.gfnToFrame(0, t.domU, gfns).frames;

test("dom0 at another host maps a guest's gfns: the bytes both ways, in order with events", () => {
  const t = twoHosts(seed);
  const [f0, f1] = framesOf(t, [4, 5]);
  const g = t.guest.store.viewOfFrames([f0!, f1!]);
  g.write(0, pattern(1, 1, 512));
  g.markWritten(0, 512);
  const m = foreignMap(t.back, 0, t.domU, [4, 5]);
  assert.equal(m.rc, 0);
  assert.equal(m.locals.length, 2);
  assert.equal(t.H.thread().frameRefs(f0!), 1, "the frame holds the mapping's reference");
  const b = t.back.store.viewOfFrames(m.locals);
  assert.deepEqual(b.read(0, 512), pattern(1, 1, 512), "the frame's bytes are there when the map returns");
  t.net.run(50);
  t.back.events(0, BLKBACK_VCPU);
  // The guest writes, then kicks: the mapper sees the bytes when the event comes.
  for (let k = 2; k < 12; k++) {
    g.write(4096 + 100, pattern(k, 2, 300));
    g.markWritten(4096 + 100, 300);
    assert.equal(t.guest.ev.evtchnSend(t.domU, t.guest.port), 0);
    let got = false;
    assert.ok(t.net.run(5000, () => (got ||= t.back.events(0, BLKBACK_VCPU).includes(t.backPort))));
    assert.deepEqual(b.read(4096 + 100, 300), pattern(k, 2, 300), `round ${k}`);
    // …and the mapper's writes reach the guest's memory.
    b.write(8, pattern(k, 3, 64));
    b.markWritten(8, 64);
    assert.ok(t.net.run(5000, () => Buffer.from(g.read(8, 64)).equals(Buffer.from(pattern(k, 3, 64)))));
  }
  assert.equal(t.H.engine.stats.refusedRanges, 0);
  assert.equal(t.H.engine.stats.foreignMaps, 1);
  // Unmap: the references go, the mapper's replicas are freed.
  const freeBefore = t.B.thread().freeFrameCount();
  assert.equal(foreignUnmap(t.back, 0, m.handle), 0);
  t.net.run(50);
  assert.equal(t.H.thread().frameRefs(f0!), 0);
  assert.equal(t.back.area.replicaOf(f0!), 0, "no replica left at the mapper");
  assert.equal(t.back.area.replicaOf(f1!), 0);
  assert.equal(t.B.thread().freeFrameCount(), freeBefore + 2, "both replica frames are free again");
  assert.equal(t.B.engine.stats.replicasFreed, 2);
  assert.equal(t.H.engine.area.subscribers(f0!), 0);
  assert.equal(foreignUnmap(t.back, 0, m.handle), -XenErrno.EINVAL, "a second unmap: no such mapping");
});

test("privcmd's refusals: an unprivileged caller, a gfn not populated, a dead domain", () => {
  const t = twoHosts(seed);
  // The guest itself is not privileged (and not homed at B): -EPERM.
  assert.equal(foreignMap(t.back, t.domU, t.domU, [0]).rc, -XenErrno.EPERM);
  assert.equal(foreignMap(t.back, 0, t.domU, [1 << 19]).rc, -XenErrno.EINVAL);
  assert.equal(foreignMap(t.back, 0, t.domU, []).rc, -XenErrno.EINVAL);
  assert.equal(foreignMap(t.back, 0, 77, [0]).rc, -XenErrno.ESRCH);
  const [f0] = framesOf(t, [0]);
  // A refused map leaves no reference behind (gfn 0 populated, the next one not).
  assert.equal(foreignMap(t.back, 0, t.domU, [0, 1 << 19]).rc, -XenErrno.EINVAL);
  assert.equal(t.H.thread().frameRefs(f0!), 0);
  assert.equal(t.H.engine.stats.foreignMaps, 0);
});

test("the mapper restarts (new epoch): its foreign mappings and references are released", () => {
  const t = twoHosts(seed);
  const [f0] = framesOf(t, [6]);
  const m = foreignMap(t.back, 0, t.domU, [6]);
  assert.equal(m.rc, 0);
  assert.equal(t.H.thread().frameRefs(f0!), 1);
  t.net.disconnect("hostB", "hostH");
  t.B.engine.close();
  t.B.start({}, true);
  t.B.engine.setHypervisorHost("hostH");
  t.net.run(200, () => t.H.engine.stats.epochChanges > 0);
  assert.equal(t.H.engine.stats.foreignReleased, 1);
  assert.equal(t.H.thread().frameRefs(f0!), 0);
  assert.equal(t.H.engine.area.subscribers(f0!), 0);
});

test("the hypervisor's host restarts (new epoch): a handle the mapper kept from its previous run names nothing", () => {
  // xenstored in its own host keeps the handle of a guest's store page; the guests' host restarts
  // and a re-created guest's page is mapped again. The late unmap of the old handle must not release
  // the new mapping (handles count from a base drawn from the epoch, not from 1 in every run).
  const t = twoHosts(seed);
  const [f0] = framesOf(t, [8]);
  const old = foreignMap(t.back, 0, t.domU, [8]);
  assert.equal(old.rc, 0);
  t.net.disconnect("hostH", "hostB");
  t.H.engine.close();
  t.H.start({}, true);
  assert.ok(
    t.net.run(5000, () => t.B.engine.stats.epochChanges > 0),
    "the mapper sees the new epoch",
  );
  const fresh = foreignMap(t.back, 0, t.domU, [8]);
  assert.equal(fresh.rc, 0);
  assert.notEqual(fresh.handle, old.handle, "a new run's first handle is not the old run's");
  const refs = t.H.thread().frameRefs(f0!);
  assert.equal(
    foreignUnmap(t.back, 0, old.handle),
    -XenErrno.EINVAL,
    "the old run's handle: no such mapping",
  );
  assert.equal(t.H.thread().frameRefs(f0!), refs, "the new mapping keeps its reference");
  assert.equal(foreignUnmap(t.back, 0, fresh.handle), 0);
});

test("the domain dies with a foreign mapping the mapper keeps: released after the grace, replicas freed", () => {
  const t = twoHosts(seed);
  const [f0] = framesOf(t, [7]);
  const m = foreignMap(t.back, 0, t.domU, [7]);
  assert.equal(m.rc, 0);
  const local = t.back.area.replicaOf(f0!);
  assert.notEqual(local, 0);
  assert.equal(t.hv.destroy(0, t.domU), 0);
  // The frame lingers (dying) while mapped, as in Xen.
  assert.equal(t.H.thread().frameDying(f0!), true);
  assert.ok(
    t.net.run(10_000, () => t.back.area.replicaOf(f0!) === 0),
    "the mapper's replica is freed",
  );
  assert.equal(t.H.thread().frameOwner(f0!), undefined, "the origin frame is free");
  assert.equal(t.B.thread().frameOwner(local), undefined, "the replica frame is free");
  assert.equal(t.H.engine.stats.foreignReleased, 1);
  assert.equal(foreignUnmap(t.back, 0, m.handle), -XenErrno.EINVAL);
});

test("a home host's replicas are freed with their origin frames (domain death)", () => {
  const t = twoHosts(seed);
  // A second guest homed at B: all its frames are replicated there.
  const { domid } = t.hv.createDomain(0, { memoryMib: 1 });
  t.H.engine.area.setHome(domid, t.H.engine.area.peerIndex("hostB"));
  t.back.home(domid);
  t.net.run(100);
  const frames = t.hv.gfnToFrame(0, domid, [0, 1, 2]).frames;
  const locals = frames.map((f) => t.back.area.replicaOf(f));
  assert.ok(
    locals.every((l) => l !== 0),
    "the home host holds replicas",
  );
  const freeBefore = t.B.thread().freeFrameCount();
  assert.equal(t.hv.destroy(0, domid), 0);
  assert.ok(t.net.run(5000, () => frames.every((f) => t.back.area.replicaOf(f) === 0)));
  assert.ok(t.B.thread().freeFrameCount() >= freeBefore + locals.length, "replica frames are free");
  for (const l of locals) assert.equal(t.B.thread().frameOwner(l), undefined);
});

test("an ioreq server's pages (acquire_resource) from another host: the emulator's replica, refused for others", () => {
  const t = twoHosts(seed);
  const hstore = t.H.thread();
  const servers = new IoreqServers(hstore, new EventChannels(hstore));
  const s = servers.create(0, t.domU, HVM_IOREQSRV_BUFIOREQ_ATOMIC, 1);
  assert.equal(s.rc, 0);
  const resource = { type: XENMEM_resource_ioreq_server, id: s.id, frame: 0, nrFrames: 2 };
  // Only the server's creator (dom0 here) may acquire it; a bad frame index is -EINVAL.
  assert.equal(
    foreignMap(t.back, 0, t.domU, [], { resource: { ...resource, frame: 5 } }).rc,
    -XenErrno.EINVAL,
  );
  assert.equal(
    foreignMap(t.back, 0, t.domU, [], { resource: { ...resource, type: 9 } }).rc,
    -XenErrno.EOPNOTSUPP,
  );
  const m = foreignMap(t.back, 0, t.domU, [], { resource });
  assert.equal(m.rc, 0);
  const info = servers.servers(t.domU)[0]!;
  assert.equal(hstore.frameRefs(info.bufFrame), 1);
  assert.equal(hstore.frameRefs(info.ioreqFrame), 1);
  assert.equal(servers.acquiredCount(), 0, "the link's own references, not acquire's");
  // Xen's side writes the synchronous page; the emulator's replica follows.
  const x = hstore.viewOfFrames([info.ioreqFrame]);
  x.write(0, pattern(1, 5, 32));
  x.markWritten(0, 32);
  const e = t.back.store.viewOfFrames([m.locals[1]!]);
  assert.ok(t.net.run(5000, () => Buffer.from(e.read(0, 32)).equals(Buffer.from(pattern(1, 5, 32)))));
  // The server is destroyed while mapped: its pages linger until the unmap, then go everywhere.
  assert.equal(servers.destroy(0, t.domU, s.id), 0);
  assert.equal(hstore.frameDying(info.ioreqFrame), true);
  assert.equal(foreignUnmap(t.back, 0, m.handle), 0);
  assert.ok(t.net.run(5000, () => t.back.area.replicaOf(info.ioreqFrame) === 0));
  assert.equal(hstore.frameOwner(info.ioreqFrame), undefined);
  assert.equal(hstore.frameOwner(info.bufFrame), undefined);
});

test("a replica of the granter's grant table (XENMEM_resource_grant_table, read-only) follows its grants", () => {
  const t = twoHosts(seed);
  const table = t.hv.gt.sharedView(t.domU);
  const nrFrames = t.hv.gt.grantFrames(t.domU).length;
  const resource = { type: XENMEM_resource_grant_table, id: 0, frame: 0, nrFrames };
  assert.equal(foreignMap(t.back, 0, t.domU, [], { resource: { ...resource, id: 1 } }).rc, -XenErrno.EINVAL);
  assert.equal(
    foreignMap(t.back, 0, t.domU, [], { resource: { ...resource, nrFrames: nrFrames + 1 } }).rc,
    -XenErrno.EINVAL,
  );
  const m = foreignMap(t.back, 0, t.domU, [], { resource, readonly: true });
  assert.equal(m.rc, 0);
  const replica = t.back.store.viewOfFrames(m.locals, { readonly: true });
  assert.equal(replica.atomicLoad32(8 * 8), table.atomicLoad32(8 * 8), "the grants made before");
  grantAccess(table, 20, 0, 3, true);
  assert.ok(
    t.net.run(5000, () => replica.atomicLoad32(20 * 8) === table.atomicLoad32(20 * 8)),
    "a later grant",
  );
  assert.equal(t.H.engine.stats.refusedRanges, 0);
  // The granter dies: the replica goes at once (no grace: a stale table must not refuse a new domain).
  const f0 = t.hv.gt.grantFrames(t.domU)[0]!;
  assert.equal(t.hv.destroy(0, t.domU), 0);
  assert.ok(t.net.run(1000, () => t.back.area.replicaOf(f0) === 0));
  void m;
});
