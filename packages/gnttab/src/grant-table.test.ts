import assert from "node:assert/strict";
import { test } from "node:test";
import {
  DOMID_SELF,
  GNTCOPY_dest_gref,
  GNTCOPY_source_gref,
  GNTMAP_device_map,
  GNTMAP_host_map,
  GNTMAP_readonly,
  GNTST_bad_copy_arg,
  GNTST_bad_dev_addr,
  GNTST_bad_domain,
  GNTST_bad_gntref,
  GNTST_bad_handle,
  GNTST_bad_page,
  GNTST_general_error,
  GNTST_no_space,
  GNTST_okay,
  GNTST_permission_denied,
  GTF_permit_access,
  GTF_reading,
  GTF_readonly,
  GTF_sub_page,
  GTF_writing,
} from "@xensim/abi";
import { PageStore } from "@xensim/memory";
import { GNTPIN_hstr_inc, GNTPIN_hstw_inc, GrantTableError, GrantTables } from "./grant-table.js";
import { endForeignAccess, grantAccess, grantEntry, grantInUse } from "./shared-entry.js";

const G = 1; // granter (frontend)
const M = 2; // mapper (backend)

function world(opts: { hvmMapper?: boolean; maxMaptrackFrames?: number } = {}) {
  const store = PageStore.create({ frames: 2048 });
  const free0 = store.freeFrameCount();
  store.createDomain(0, { privileged: true });
  store.createDomain(G);
  store.createDomain(M, { hvm: opts.hvmMapper ?? false });
  const gt = new GrantTables(store);
  gt.initDomain(0);
  gt.initDomain(G);
  gt.initDomain(M, opts.maxMaptrackFrames === undefined ? {} : { maxMaptrackFrames: opts.maxMaptrackFrames });
  const gfns = store.populatePhysmap(G, 0x100, 8)!;
  store.populatePhysmap(M, 0x200, 2);
  const table = () => gt.sharedView(G);
  const teardown = () => {
    for (const d of [M, G, 0]) {
      gt.destroyDomain(d);
      store.destroyDomain(d);
    }
    assert.equal(store.freeFrameCount(), free0, "teardown leaves no frame behind");
    assert.deepEqual(store.domains(), []);
  };
  return { store, gt, gfns, table, teardown };
}

const HM = GNTMAP_host_map;

test("granter: grantAccess writes Xen's entry; endForeignAccess fails while mapped", () => {
  const { gt, table, teardown } = world();
  grantAccess(table(), 8, M, 0x100, false);
  assert.deepEqual(grantEntry(table(), 8), { flags: GTF_permit_access, domid: M, frame: 0x100 });
  grantAccess(table(), 9, M, 0x101, true);
  assert.equal(grantEntry(table(), 9).flags, GTF_permit_access | GTF_readonly);
  const m = gt.mapGrantRef(M, { dom: G, ref: 8, flags: HM });
  assert.equal(m.status, GNTST_okay);
  assert.equal(grantEntry(table(), 8).flags, GTF_permit_access | GTF_reading | GTF_writing);
  assert.ok(grantInUse(table(), 8));
  assert.equal(endForeignAccess(table(), 8), false);
  assert.equal(gt.unmapGrantRef(M, { handle: m.handle }), GNTST_okay);
  assert.equal(grantEntry(table(), 8).flags, GTF_permit_access);
  assert.equal(endForeignAccess(table(), 8), true);
  assert.equal(grantEntry(table(), 8).flags, 0);
  assert.equal(endForeignAccess(table(), 9), true);
  assert.throws(() => grantAccess(table(), 512, M, 1, false), RangeError);
  teardown();
});

test("map: the mapper sees the granter's bytes; writes go both ways; readonly maps are read-only", () => {
  const { store, gt, gfns, table, teardown } = world();
  store.viewOfFrames([gfns[0]!]).setU32(16, 0xcafe);
  grantAccess(table(), 10, M, 0x100, false);
  const r = gt.mapGrantRefs(M, G, [10], HM);
  assert.equal(r.results[0]!.status, GNTST_okay);
  assert.equal(r.results[0]!.frame, gfns[0]);
  assert.equal(r.view!.getU32(16), 0xcafe);
  r.view!.setU32(20, 7);
  assert.equal(store.viewOfFrames([gfns[0]!]).getU32(20), 7);
  assert.ok(store.canWrite(M, gfns[0]!), "writable mapping grants write permission");
  assert.equal(store.canWrite(M, gfns[1]!), false);
  const ro = gt.mapGrantRefs(M, G, [10], HM | GNTMAP_readonly);
  assert.equal(ro.view!.readonly, true);
  assert.equal(gt.activePin(G, 10), GNTPIN_hstw_inc + GNTPIN_hstr_inc);
  assert.equal(gt.mappedFrame(M, r.results[0]!.handle), gfns[0]);
  assert.equal(gt.mappingCount(M), 2);
  assert.equal(gt.unmapGrantRef(M, { handle: r.results[0]!.handle }), GNTST_okay);
  assert.equal(
    grantEntry(table(), 10).flags,
    GTF_permit_access | GTF_reading,
    "GTF_writing clears with the last write pin",
  );
  assert.equal(store.canWrite(M, gfns[0]!), false);
  assert.equal(gt.unmapGrantRef(M, { handle: ro.results[0]!.handle }), GNTST_okay);
  assert.equal(grantEntry(table(), 10).flags, GTF_permit_access);
  assert.equal(gt.mappingCount(M), 0);
  teardown();
});

test("map: multi-page grants of adjacent frames give one contiguous view", () => {
  const { store, gt, table, teardown } = world();
  const run = store.populatePhysmap(G, 0x400, 4, true)!;
  for (let i = 0; i < 4; i++) grantAccess(table(), 20 + i, M, 0x400 + i, false);
  const r = gt.mapGrantRefs(M, G, [20, 21, 22, 23], HM);
  assert.ok(r.view!.contiguous);
  assert.deepEqual(r.view!.frames, run);
  const s = gt.mapGrantRefs(M, G, [23, 21], HM);
  assert.equal(s.view!.contiguous, false);
  for (const x of [...r.results, ...s.results]) gt.unmapGrantRef(M, { handle: x.handle });
  teardown();
});

test("map: every GNTST_* error in Xen's order of checks", () => {
  const { store, gt, table, teardown } = world();
  grantAccess(table(), 8, M, 0x100, false);
  grantAccess(table(), 9, M, 0x101, true);
  grantAccess(table(), 11, 0, 0x102, false); // granted to dom0, not M
  grantAccess(table(), 12, M, 0x999, false); // gfn not populated
  table().atomicStore32(13 * 8, (M << 16) | GTF_permit_access | GTF_sub_page);
  table().setU32(13 * 8 + 4, 0x100);
  table().atomicStore32(14 * 8, (M << 16) | 2); // accept_transfer type
  const map = (o: Partial<{ dom: number; ref: number; flags: number }>, who = M) =>
    gt.mapGrantRef(who, { dom: G, ref: 8, flags: HM, ...o }).status;
  assert.equal(map({ flags: 0 }), GNTST_bad_gntref, "no host_map/device_map");
  assert.equal(map({ flags: GNTMAP_readonly }), GNTST_bad_gntref);
  assert.equal(map({ dom: 77 }), GNTST_bad_domain);
  assert.equal(map({ dom: DOMID_SELF }), GNTST_bad_domain);
  assert.equal(map({ ref: 512 }), GNTST_bad_gntref, "ref >= nr entries");
  assert.equal(map({ ref: -1 }), GNTST_bad_gntref);
  assert.equal(map({ ref: 11 }), GNTST_general_error, "granted to another domain");
  assert.equal(map({ ref: 15 }), GNTST_general_error, "GTF_invalid");
  assert.equal(map({ ref: 13 }), GNTST_general_error, "sub_page cannot be mapped");
  assert.equal(map({ ref: 14 }), GNTST_general_error, "not permit_access");
  assert.equal(map({ ref: 9 }), GNTST_general_error, "writable map of a readonly grant");
  assert.equal(map({ ref: 12 }), GNTST_bad_page, "granted gfn not in the physmap");
  assert.equal(grantEntry(table(), 12).flags, GTF_permit_access, "flags undone after bad_page");
  assert.equal(map({ ref: 9, flags: HM | GNTMAP_readonly }), GNTST_okay);
  const ok = gt.mapGrantRef(M, { dom: G, ref: 8, flags: HM });
  assert.equal(ok.status, GNTST_okay);
  assert.equal(map({ ref: 8 }, 0), GNTST_general_error, "pinned by a different domain");
  // Granter rewrites a pinned entry: Xen does not revalidate the shared entry for the same mapper.
  grantAccess(table(), 8, 0, 0x105, true);
  const again = gt.mapGrantRef(M, { dom: G, ref: 8, flags: HM });
  assert.equal(again.status, GNTST_okay);
  assert.equal(again.frame, ok.frame, "existing active entry keeps the original frame");
  gt.releaseMappings(M);
  assert.equal(gt.mappingCount(M), 0);
  store.destroyDomain(77); // no-op
  teardown();
});

test("map: HVM mappers may not device_map; pin counter overflow; maptrack exhaustion", () => {
  const { gt, table, teardown } = world({ hvmMapper: true, maxMaptrackFrames: 2 });
  grantAccess(table(), 8, M, 0x100, false);
  assert.equal(
    gt.mapGrantRef(M, { dom: G, ref: 8, flags: GNTMAP_device_map | HM }).status,
    GNTST_general_error,
  );
  const handles: number[] = [];
  for (let i = 0; i < 127; i++) {
    const r = gt.mapGrantRef(M, { dom: G, ref: 8, flags: HM });
    assert.equal(r.status, GNTST_okay);
    handles.push(r.handle);
  }
  assert.equal(gt.activePin(G, 8), 127);
  assert.equal(gt.mapGrantRef(M, { dom: G, ref: 8, flags: HM }).status, GNTST_okay);
  assert.equal(
    gt.mapGrantRef(M, { dom: G, ref: 8, flags: HM }).status,
    GNTST_general_error,
    "counter would overflow",
  );
  for (let ref = 16; handles.length < 511; ref++) {
    grantAccess(table(), ref, M, 0x101, true);
    const r = gt.mapGrantRef(M, { dom: G, ref, flags: HM | GNTMAP_readonly });
    assert.equal(r.status, GNTST_okay);
    handles.push(r.handle);
  }
  grantAccess(table(), 300, M, 0x101, true);
  assert.equal(gt.mapGrantRef(M, { dom: G, ref: 300, flags: HM | GNTMAP_readonly }).status, GNTST_no_space);
  assert.equal(gt.unmapGrantRef(M, { handle: handles[0]! }), GNTST_okay);
  assert.equal(
    gt.mapGrantRef(M, { dom: G, ref: 300, flags: HM | GNTMAP_readonly }).status,
    GNTST_okay,
    "handle reused",
  );
  teardown();
});

test("map: permission policy (XSM hook)", () => {
  const store = PageStore.create({ frames: 512 });
  store.createDomain(G);
  store.createDomain(M);
  const gt = new GrantTables(store, { mayMap: () => false, mayCopy: () => false, maySetup: () => false });
  gt.initDomain(G);
  gt.initDomain(M);
  store.populatePhysmap(G, 0x100, 1);
  grantAccess(gt.sharedView(G), 8, M, 0x100, false);
  assert.equal(gt.mapGrantRef(M, { dom: G, ref: 8, flags: HM }).status, GNTST_permission_denied);
  assert.equal(
    gt.gnttabCopy(M, {
      source: { ref: 8, domid: G, offset: 0 },
      dest: { gmfn: 0, domid: DOMID_SELF, offset: 0 },
      len: 1,
      flags: GNTCOPY_source_gref,
    }),
    GNTST_permission_denied,
  );
  assert.equal(gt.setupTable(G, { dom: DOMID_SELF, nrFrames: 1 }).status, GNTST_permission_denied);
  assert.equal(gt.queryTable(G, DOMID_SELF).status, GNTST_permission_denied);
});

test("unmap: bad and stale handles, device address, host address", () => {
  const { gt, table, teardown } = world();
  grantAccess(table(), 8, M, 0x100, false);
  assert.equal(gt.unmapGrantRef(M, { handle: 0 }), GNTST_bad_handle, "never allocated");
  assert.equal(gt.unmapGrantRef(M, { handle: -1 }), GNTST_bad_handle);
  assert.equal(gt.unmapGrantRef(M, { handle: 1.5 }), GNTST_bad_handle);
  const m = gt.mapGrantRef(M, { dom: G, ref: 8, flags: HM | GNTMAP_device_map, hostAddr: 0x7000_0000_1000 });
  assert.equal(m.status, GNTST_okay);
  assert.equal(m.devBusAddr, m.frame * 4096);
  assert.equal(gt.unmapGrantRef(M, { handle: m.handle, devBusAddr: 4096 }), GNTST_bad_dev_addr);
  assert.equal(
    gt.unmapGrantRef(M, { handle: m.handle, hostAddr: 0x1234, devBusAddr: 0 }),
    GNTST_general_error,
  );
  // Unmap the host side only: the device mapping stays, the handle stays live.
  assert.equal(
    gt.unmapGrantRef(M, { handle: m.handle, hostAddr: 0x7000_0000_1000, devBusAddr: 0 }),
    GNTST_okay,
  );
  assert.equal(gt.mappingCount(M), 1);
  assert.equal(grantInUse(table(), 8), true);
  assert.equal(
    gt.unmapGrantRef(M, { handle: m.handle, hostAddr: 0, devBusAddr: 0 }),
    GNTST_okay,
    "nothing to do",
  );
  assert.equal(gt.unmapGrantRef(M, { handle: m.handle, devBusAddr: m.devBusAddr }), GNTST_okay);
  assert.equal(gt.unmapGrantRef(M, { handle: m.handle }), GNTST_bad_handle, "stale");
  assert.equal(grantInUse(table(), 8), false);
  assert.equal(gt.unmapGrantRef(G, { handle: m.handle }), GNTST_bad_handle, "another domain's handle space");
  teardown();
});

test("copy: every path", () => {
  const { store, gt, gfns, table, teardown } = world();
  const mg = store.gfnToFrame(M, 0x200);
  store.viewOfFrames([gfns[0]!]).write(100, Uint8Array.of(1, 2, 3, 4));
  grantAccess(table(), 8, M, 0x100, false);
  grantAccess(table(), 9, M, 0x101, true);
  grantAccess(table(), 10, 0, 0x101, false);
  const src = (fields = {}) => ({ ref: 8, domid: G, offset: 100, ...fields });
  const dst = (fields = {}) => ({ gmfn: 0x200, domid: DOMID_SELF, offset: 0, ...fields });
  const copy = (o: object) =>
    gt.gnttabCopy(M, { source: src(), dest: dst(), len: 4, flags: GNTCOPY_source_gref, ...o });
  assert.equal(copy({}), GNTST_okay);
  assert.deepEqual(store.viewOfFrames([mg]).read(0, 4), Uint8Array.of(1, 2, 3, 4));
  assert.equal(grantInUse(table(), 8), false, "pinned only for the copy");
  assert.equal(
    copy({ len: 0, source: src({ ref: 99999 }) }),
    GNTST_okay,
    "len 0 is a no-op before any check",
  );
  assert.equal(copy({ dest: dst({ domid: G }) }), GNTST_permission_denied, "frame side must be DOMID_SELF");
  assert.equal(copy({ source: src({ domid: 77 }) }), GNTST_bad_domain);
  assert.equal(copy({ source: src({ ref: 4096 }) }), GNTST_bad_gntref);
  assert.equal(copy({ source: src({ ref: 10 }) }), GNTST_general_error, "granted to someone else");
  assert.equal(copy({ dest: dst({ gmfn: 0x999 }) }), GNTST_bad_page);
  assert.equal(copy({ source: src({ offset: 4094 }) }), GNTST_bad_copy_arg);
  assert.equal(copy({ dest: dst({ offset: 4093 }) }), GNTST_bad_copy_arg);
  assert.equal(copy({ len: 0x10000 }), GNTST_bad_copy_arg);
  assert.equal(grantInUse(table(), 8), false, "released after a failed copy");
  // Readonly grant as destination.
  assert.equal(
    gt.gnttabCopy(M, {
      source: dst(),
      dest: { ref: 9, domid: G, offset: 0 },
      len: 4,
      flags: GNTCOPY_dest_gref,
    }),
    GNTST_general_error,
  );
  // Grant → grant and local → grant.
  assert.equal(
    gt.gnttabCopy(M, {
      source: src(),
      dest: { ref: 8, domid: G, offset: 0 },
      len: 4,
      flags: GNTCOPY_source_gref | GNTCOPY_dest_gref,
    }),
    GNTST_okay,
  );
  assert.deepEqual(store.viewOfFrames([gfns[0]!]).read(0, 4), Uint8Array.of(1, 2, 3, 4));
  store.viewOfFrames([mg]).write(0, Uint8Array.of(9, 9));
  assert.equal(
    gt.gnttabCopy(M, {
      source: dst(),
      dest: { ref: 8, domid: G, offset: 4094 },
      len: 2,
      flags: GNTCOPY_dest_gref,
    }),
    GNTST_okay,
  );
  assert.deepEqual(store.viewOfFrames([gfns[0]!]).read(4094, 2), Uint8Array.of(9, 9));
  // A copy of an entry someone else (dom0) has pinned fails on the active entry (XSA-500).
  grantAccess(table(), 11, 0, 0x100, false);
  const d0 = gt.mapGrantRef(0, { dom: G, ref: 11, flags: HM });
  assert.equal(d0.status, GNTST_okay);
  grantAccess(table(), 11, M, 0x100, false); // granter rewrites the entry for M while pinned by dom0
  assert.equal(copy({ source: src({ ref: 11 }) }), GNTST_general_error);
  assert.equal(gt.unmapGrantRef(0, { handle: d0.handle }), GNTST_okay);
  teardown();
});

test("setup_table / query_size", () => {
  const { gt, teardown } = world();
  assert.deepEqual(gt.queryTable(G, DOMID_SELF), { status: GNTST_okay, nrFrames: 1, maxNrFrames: 64 });
  assert.equal(gt.queryTable(G, 77).status, GNTST_bad_domain);
  assert.equal(gt.queryTable(G, M).status, GNTST_permission_denied, "unprivileged, not self");
  assert.equal(gt.queryTable(0, M).status, GNTST_okay, "privileged");
  assert.equal(gt.setupTable(G, { dom: DOMID_SELF, nrFrames: 65 }).status, GNTST_general_error);
  assert.equal(gt.setupTable(G, { dom: 77, nrFrames: 1 }).status, GNTST_bad_domain);
  const r = gt.setupTable(G, { dom: DOMID_SELF, nrFrames: 4 });
  assert.equal(r.status, GNTST_okay);
  assert.equal(r.frames.length, 4);
  assert.equal(gt.nrGrantEntries(G), 2048);
  assert.equal(gt.sharedView(G).byteLength, 4 * 4096);
  assert.deepEqual(gt.setupTable(G, { dom: G, nrFrames: 2 }).frames, r.frames.slice(0, 2), "never shrinks");
  assert.equal(gt.queryTable(G, G).nrFrames, 4);
  assert.throws(() => gt.initDomain(G), GrantTableError);
  assert.throws(() => gt.initDomain(99), GrantTableError);
  assert.throws(() => gt.initDomain(G, { maxFrames: 500 }), GrantTableError);
  teardown();
});

test("mapper death releases its mappings and clears the granter's flags", () => {
  const { store, gt, table, teardown } = world();
  for (let ref = 8; ref < 12; ref++) {
    grantAccess(table(), ref, M, 0x100 + ref - 8, ref % 2 === 0);
    gt.mapGrantRef(M, { dom: G, ref, flags: HM | (ref % 2 === 0 ? GNTMAP_readonly : 0) });
  }
  for (let ref = 8; ref < 12; ref++) assert.ok(grantInUse(table(), ref));
  assert.equal(gt.releaseMappings(M, 2), 2, "bounded: two left");
  gt.destroyDomain(M);
  store.destroyDomain(M);
  for (let ref = 8; ref < 12; ref++) {
    assert.equal(grantInUse(table(), ref), false);
    assert.ok(endForeignAccess(table(), ref));
  }
  assert.equal(gt.mapGrantRef(M, { dom: G, ref: 8, flags: HM }).status, GNTST_no_space);
  teardown();
});

test("granter death leaves mapped frames alive until unmapped, then nothing remains", () => {
  const { store, gt, gfns, table, teardown } = world();
  store.viewOfFrames([gfns[2]!]).setU32(0, 0x5a5a);
  grantAccess(table(), 8, M, 0x102, false);
  const m = gt.mapGrantRef(M, { dom: G, ref: 8, flags: HM });
  const view = store.viewOfFrames([m.frame]);
  gt.destroyDomain(G);
  store.destroyDomain(G);
  assert.equal(store.domainState(G), "dying");
  assert.equal(store.frameOwner(m.frame), G, "still allocated");
  assert.equal(view.getU32(0), 0x5a5a);
  assert.equal(gt.mapGrantRef(M, { dom: G, ref: 8, flags: HM }).status, GNTST_bad_domain);
  assert.equal(gt.unmapGrantRef(M, { handle: m.handle }), GNTST_okay);
  assert.equal(store.frameOwner(m.frame), undefined);
  assert.equal(store.domainState(G), "none");
  teardown();
});

test("mapGrantRefHandle / unmapGrantRefHandle: mapGrantRef's statuses and effects, without objects", () => {
  const { gt, gfns, table, teardown } = world();
  grantAccess(table(), 12, M, 0x100, false);
  grantAccess(table(), 13, M, 0x101, true);
  // Every failure is the same GNTST_* as the object API's, in the same order of checks.
  const cases: Array<[number, number, number, number]> = [
    [G, 12, 0, GNTST_bad_gntref], // neither host_map nor device_map
    [99, 12, HM, GNTST_bad_domain],
    [G, 4096, HM, GNTST_bad_gntref],
    [G, 1.5, HM, GNTST_bad_gntref],
    [G, 14, HM, GNTST_general_error], // not granted
    [G, 13, HM, GNTST_general_error], // readonly grant mapped writable
  ];
  for (const [dom, ref, flags, status] of cases) {
    assert.equal(gt.mapGrantRefHandle(M, dom, ref, flags), status, `dom ${dom} ref ${ref} flags ${flags}`);
    assert.equal(gt.mapGrantRef(M, { dom, ref, flags }).status, status);
  }
  assert.equal(gt.mappingCount(M), 0, "failed maps leave no handle behind");
  const h = gt.mapGrantRefHandle(M, G, 12, HM);
  assert.ok(h >= 0);
  assert.equal(gt.lastMappedFrame, gfns[0]);
  assert.equal(gt.mappedFrame(M, h), gfns[0]);
  assert.equal(gt.activePin(G, 12), GNTPIN_hstw_inc);
  assert.equal(grantEntry(table(), 12).flags, GTF_permit_access | GTF_reading | GTF_writing);
  const ro = gt.mapGrantRefHandle(M, G, 13, HM | GNTMAP_readonly);
  assert.ok(ro >= 0 && ro !== h);
  assert.equal(gt.lastMappedFrame, gfns[1]);
  assert.equal(gt.unmapGrantRefHandle(M, h), GNTST_okay);
  assert.equal(gt.unmapGrantRefHandle(M, h), GNTST_bad_handle, "a second unmap of one handle");
  assert.equal(gt.unmapGrantRefHandle(M, -1), GNTST_bad_handle);
  assert.equal(gt.unmapGrantRefHandle(M, 1 << 20), GNTST_bad_handle);
  assert.equal(gt.unmapGrantRefHandle(M, ro), GNTST_okay);
  assert.equal(grantEntry(table(), 12).flags, GTF_permit_access);
  assert.equal(gt.activePin(G, 12), 0);
  // The freed handles are reused (the maptrack free list), 10k times without growing the maptrack.
  for (let i = 0; i < 10_000; i++) {
    const x = gt.mapGrantRefHandle(M, G, 12, HM);
    assert.ok(x === h || x === ro);
    assert.equal(gt.unmapGrantRefHandle(M, x), GNTST_okay);
  }
  assert.equal(gt.mappingCount(M), 0);
  teardown();
});

test("grantAccessOwn / endAccessOwn: the same shared entry as grantAccess / endForeignAccess, without a view", () => {
  const { gt, gfns, table, teardown } = world();
  assert.equal(gt.grantAccessOwn(G, 20, M, 0x100, false), true);
  assert.deepEqual(grantEntry(table(), 20), { flags: GTF_permit_access, domid: M, frame: 0x100 });
  assert.equal(gt.grantAccessOwn(G, 21, M, 0x101, true), true);
  assert.deepEqual(grantEntry(table(), 21), {
    flags: GTF_permit_access | GTF_readonly,
    domid: M,
    frame: 0x101,
  });
  // Past the table's frames, a ref that is no integer, a domain without a table: refused, nothing written.
  const entries = gt.nrGrantEntries(G);
  assert.equal(gt.grantAccessOwn(G, entries, M, 0x100, false), false);
  assert.equal(gt.grantAccessOwn(G, 1.5, M, 0x100, false), false);
  assert.equal(gt.grantAccessOwn(99, 20, M, 0x100, false), false);
  assert.equal(gt.endAccessOwn(G, entries), false);
  assert.equal(gt.endAccessOwn(99, 20), false);
  // Mapped: the end fails (GTF_reading / GTF_writing), as endForeignAccess does; unmapped: it succeeds.
  const h = gt.mapGrantRefHandle(M, G, 20, HM);
  assert.ok(h >= 0);
  assert.equal(gt.lastMappedFrame, gfns[0]);
  assert.equal(gt.endAccessOwn(G, 20), false);
  assert.equal(gt.unmapGrantRefHandle(M, h), GNTST_okay);
  assert.equal(gt.endAccessOwn(G, 20), true);
  assert.equal(grantEntry(table(), 20).flags, 0);
  assert.equal(gt.mapGrantRefHandle(M, G, 20, HM), GNTST_general_error, "an ended grant maps no more");
  const ro = gt.mapGrantRefHandle(M, G, 21, HM);
  assert.equal(ro, GNTST_general_error, "a readonly grant is not mapped writable");
  assert.equal(endForeignAccess(table(), 21), true);
  teardown();
});
