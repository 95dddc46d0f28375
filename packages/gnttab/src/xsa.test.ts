// Regression tests named after the Xen security advisories on grant tables (fact sheet §10) that
// apply to this implementation (v1 entries only: XSA-255 and XSA-501, about v2 and version changes,
// do not apply — docs/security.md has the table). Each checks the behaviour the advisory's fix
// established and fails on the vulnerable one (docs/security.md says how each was checked).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  GNTCOPY_source_gref,
  GNTMAP_device_map,
  GNTMAP_host_map,
  GNTMAP_readonly,
  GNTST_bad_handle,
  GNTST_general_error,
  GNTST_okay,
  GTF_permit_access,
  GTF_reading,
  GTF_writing,
} from "@xensim/abi";
import { PageStore } from "@xensim/memory";
import { GrantTables } from "./grant-table.js";
import { endForeignAccess, grantAccess, grantEntry } from "./shared-entry.js";

const G = 1; // granter
const M = 2; // mapper
const C = 3; // a third domain
const HM = GNTMAP_host_map;

function world() {
  const store = PageStore.create({ frames: 4096 });
  const free0 = store.freeFrameCount();
  for (const d of [0, G, M, C]) store.createDomain(d, { privileged: d === 0 });
  const gt = new GrantTables(store);
  for (const d of [0, G, M, C]) gt.initDomain(d);
  const gfns = store.populatePhysmap(G, 0x100, 8)!;
  store.populatePhysmap(C, 0x300, 1);
  const table = () => gt.sharedView(G);
  const flags = (ref: number) => grantEntry(table(), ref).flags;
  const teardown = () => {
    for (const d of [C, M, G, 0]) {
      gt.destroyDomain(d);
      store.destroyDomain(d);
    }
    assert.equal(store.freeFrameCount(), free0, "nothing left behind");
  };
  return { store, gt, gfns, table, flags, teardown };
}

describe("grant-table advisories", () => {
  it("XSA-218: a handle unmapped twice fails the second time and takes no pin of another mapping", () => {
    const { gt, table, flags, teardown } = world();
    grantAccess(table(), 8, M, 0x100, false);
    const a = gt.mapGrantRef(M, { dom: G, ref: 8, flags: HM });
    const b = gt.mapGrantRef(M, { dom: G, ref: 8, flags: HM });
    assert.equal(a.status, GNTST_okay);
    assert.equal(b.status, GNTST_okay);
    assert.equal(gt.unmapGrantRef(M, { handle: a.handle }), GNTST_okay);
    assert.equal(gt.unmapGrantRef(M, { handle: a.handle }), GNTST_bad_handle, "stale handle");
    // the other mapping still holds its pin: the granter cannot end access yet
    assert.equal(gt.activePin(G, 8), 1);
    assert.equal(flags(8), GTF_permit_access | GTF_reading | GTF_writing);
    assert.equal(endForeignAccess(table(), 8), false);
    assert.equal(gt.unmapGrantRef(M, { handle: b.handle }), GNTST_okay);
    assert.equal(endForeignAccess(table(), 8), true);
    teardown();
  });

  it("XSA-224: device and host pins are counted apart; unmapping one kind keeps the other's flags", () => {
    const { gt, table, flags, teardown } = world();
    grantAccess(table(), 8, M, 0x100, false);
    // a PV mapper: one mapping both ways, and one host-only mapping
    const both = gt.mapGrantRef(M, { dom: G, ref: 8, flags: HM | GNTMAP_device_map });
    const host = gt.mapGrantRef(M, { dom: G, ref: 8, flags: HM });
    assert.equal(both.status, GNTST_okay);
    assert.equal(host.status, GNTST_okay);
    assert.ok(both.devBusAddr > 0);
    // drop only the host side of the first mapping: its device side still pins the page writable
    assert.equal(gt.unmapGrantRef(M, { handle: both.handle, devBusAddr: 0 }), GNTST_okay);
    assert.equal(gt.unmapGrantRef(M, { handle: host.handle }), GNTST_okay);
    assert.equal(flags(8), GTF_permit_access | GTF_reading | GTF_writing, "the device mapping remains");
    assert.equal(endForeignAccess(table(), 8), false);
    assert.equal(gt.unmapGrantRef(M, { handle: both.handle, hostAddr: 0 }), GNTST_okay);
    assert.equal(flags(8), GTF_permit_access);
    assert.equal(gt.mappingCount(M), 0);
    teardown();
  });

  it("XSA-230: GTF_writing goes with the last writable pin, GTF_reading with the last pin — not earlier", () => {
    const { gt, table, flags, teardown } = world();
    grantAccess(table(), 8, M, 0x100, false);
    const w = gt.mapGrantRef(M, { dom: G, ref: 8, flags: HM });
    const r1 = gt.mapGrantRef(M, { dom: G, ref: 8, flags: HM | GNTMAP_readonly });
    const r2 = gt.mapGrantRef(M, { dom: G, ref: 8, flags: HM | GNTMAP_readonly });
    assert.equal(flags(8), GTF_permit_access | GTF_reading | GTF_writing);
    assert.equal(gt.unmapGrantRef(M, { handle: r1.handle }), GNTST_okay);
    assert.equal(flags(8), GTF_permit_access | GTF_reading | GTF_writing, "a read-only unmap leaves writing");
    assert.equal(gt.unmapGrantRef(M, { handle: w.handle }), GNTST_okay);
    assert.equal(flags(8), GTF_permit_access | GTF_reading, "no writer left, still a reader");
    assert.equal(endForeignAccess(table(), 8), false, "the granter may not revoke while read");
    assert.equal(gt.unmapGrantRef(M, { handle: r2.handle }), GNTST_okay);
    assert.equal(flags(8), GTF_permit_access);
    teardown();
  });

  it("XSA-236: a map refused for pin overflow changes nothing; every pin is returned", () => {
    const { gt, table, flags, teardown } = world();
    grantAccess(table(), 8, M, 0x100, false);
    const handles: number[] = [];
    for (;;) {
      const r = gt.mapGrantRef(M, { dom: G, ref: 8, flags: HM });
      if (r.status !== GNTST_okay) {
        assert.equal(r.status, GNTST_general_error, "the 8-bit host-write pin counter is full");
        break;
      }
      handles.push(r.handle);
      assert.ok(handles.length <= 255, "never more than the counter holds");
    }
    const pin = gt.activePin(G, 8);
    assert.equal(gt.mapGrantRef(M, { dom: G, ref: 8, flags: HM }).status, GNTST_general_error);
    assert.equal(gt.activePin(G, 8), pin, "a refused map took no pin");
    assert.equal(gt.mappingCount(M), handles.length, "and no handle");
    for (const h of handles) assert.equal(gt.unmapGrantRef(M, { handle: h }), GNTST_okay);
    assert.equal(gt.activePin(G, 8), 0);
    assert.equal(flags(8), GTF_permit_access);
    assert.equal(endForeignAccess(table(), 8), true);
    teardown();
  });

  it("XSA-380: a dying mapper's mappings are released in bounded steps, and all of them", () => {
    const { gt, table, flags, teardown } = world();
    for (let ref = 8; ref < 8 + 400; ref++) {
      grantAccess(table(), ref, M, 0x100 + (ref % 8), true);
      assert.equal(gt.mapGrantRef(M, { dom: G, ref, flags: HM | GNTMAP_readonly }).status, GNTST_okay);
    }
    let left = gt.mappingCount(M);
    let rounds = 0;
    while (left > 0) {
      const before = gt.mappingCount(M);
      left = gt.releaseMappings(M, 64);
      assert.ok(before - gt.mappingCount(M) <= 64, "one step releases at most its budget");
      rounds++;
    }
    assert.equal(rounds, Math.ceil(400 / 64));
    for (let ref = 8; ref < 408; ref++)
      assert.equal(flags(ref) & (GTF_reading | GTF_writing), 0, `ref ${ref}`);
    teardown();
  });

  it("XSA-382 (as it applies: v1 has no status frames) — the grant-frame array never grows past its bound", () => {
    const { gt, teardown } = world();
    const q = gt.queryTable(G, G);
    assert.equal(q.status, GNTST_okay);
    assert.equal(gt.setupTable(G, { dom: G, nrFrames: q.maxNrFrames + 1 }).status, GNTST_general_error);
    assert.equal(gt.setupTable(G, { dom: G, nrFrames: 0x7fffffff }).status, GNTST_general_error);
    assert.equal(gt.queryTable(G, G).nrFrames, q.nrFrames, "nothing grown");
    const ok = gt.setupTable(G, { dom: G, nrFrames: q.maxNrFrames });
    assert.equal(ok.status, GNTST_okay);
    assert.equal(ok.frames.length, q.maxNrFrames);
    teardown();
  });

  it("XSA-500: copying through an entry pinned by another domain is checked against the active entry", () => {
    const { store, gt, gfns, table, teardown } = world();
    grantAccess(table(), 8, M, 0x100, false);
    const secret = new Uint8Array(64).fill(0x5a);
    store.u8.set(secret, gfns[0]! * 4096);
    const m = gt.mapGrantRef(M, { dom: G, ref: 8, flags: HM });
    assert.equal(m.status, GNTST_okay);
    // the granter rewrites the live entry for C while M still has it pinned
    grantAccess(table(), 8, C, 0x100, false);
    const dst = store.gfnToFrame(C, 0x300)!;
    const copy = gt.gnttabCopy(C, {
      source: { ref: 8, domid: G, offset: 0 },
      dest: { gmfn: 0x300, domid: 0x7ff0, offset: 0 },
      len: 64,
      flags: GNTCOPY_source_gref,
    });
    assert.equal(copy, GNTST_general_error, "the active entry belongs to M");
    assert.deepEqual(store.u8.subarray(dst * 4096, dst * 4096 + 64), new Uint8Array(64), "C read nothing");
    assert.equal(gt.unmapGrantRef(M, { handle: m.handle }), GNTST_okay);
    // once nobody pins it, the rewritten entry is C's to use
    assert.equal(
      gt.gnttabCopy(C, {
        source: { ref: 8, domid: G, offset: 0 },
        dest: { gmfn: 0x300, domid: 0x7ff0, offset: 0 },
        len: 64,
        flags: GNTCOPY_source_gref,
      }),
      GNTST_okay,
    );
    teardown();
  });
});
