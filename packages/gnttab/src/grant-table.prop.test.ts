// Property and multi-thread tests: random interleavings checked against a reference model.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import {
  DOMID_SELF,
  GNTCOPY_source_gref,
  GNTMAP_host_map,
  GNTMAP_readonly,
  GNTST_bad_handle,
  GNTST_general_error,
  GNTST_okay,
  GTF_permit_access,
  GTF_reading,
  GTF_readonly,
  GTF_writing,
} from "@xensim/abi";
import { PageStore } from "@xensim/memory";
import fc from "fast-check";
import { GNTPIN_hstr_inc, GNTPIN_hstw_inc, GrantTables } from "./grant-table.js";
import { endForeignAccess, grantAccess, grantEntry } from "./shared-entry.js";

const G = 1;
const M = 2;
const REFS = [8, 9, 10, 11];

type Op =
  | { k: "grant"; ref: number; ro: boolean }
  | { k: "map"; ref: number; ro: boolean }
  | { k: "unmap"; pick: number }
  | { k: "unmapStale"; handle: number }
  | { k: "end"; ref: number }
  | { k: "copy"; ref: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant("grant" as const), ref: fc.constantFrom(...REFS), ro: fc.boolean() }),
  fc.record({ k: fc.constant("map" as const), ref: fc.constantFrom(...REFS), ro: fc.boolean() }),
  fc.record({ k: fc.constant("unmap" as const), pick: fc.nat() }),
  fc.record({ k: fc.constant("unmapStale" as const), handle: fc.integer({ min: 0, max: 40 }) }),
  fc.record({ k: fc.constant("end" as const), ref: fc.constantFrom(...REFS) }),
  fc.record({ k: fc.constant("copy" as const), ref: fc.constantFrom(...REFS) }),
);

test("property: grant/map/unmap/end-access/copy interleavings match a reference model", () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
      const store = PageStore.create({ frames: 512 });
      const free0 = store.freeFrameCount();
      store.createDomain(G);
      store.createDomain(M);
      const gt = new GrantTables(store);
      gt.initDomain(G);
      gt.initDomain(M);
      const frames = store.populatePhysmap(G, 0x100, REFS.length)!;
      store.populatePhysmap(M, 0x200, 1);
      const table = gt.sharedView(G);
      // Model.
      const granted = new Map<number, { ro: boolean }>();
      const live = new Map<number, { ref: number; ro: boolean }>(); // handle → mapping
      const freed = new Set<number>();
      const pins = (ref: number) => {
        let r = 0;
        let w = 0;
        for (const m of live.values()) {
          if (m.ref !== ref) continue;
          if (m.ro) r++;
          else w++;
        }
        return { r, w };
      };
      for (const op of ops) {
        switch (op.k) {
          case "grant": {
            const { r, w } = pins(op.ref);
            if (r + w > 0) break; // a granter never rewrites an entry in use
            grantAccess(table, op.ref, M, 0x100 + REFS.indexOf(op.ref), op.ro);
            granted.set(op.ref, { ro: op.ro });
            break;
          }
          case "map": {
            const g = granted.get(op.ref);
            const want = g && (op.ro || !g.ro) ? GNTST_okay : GNTST_general_error;
            const r = gt.mapGrantRef(M, {
              dom: G,
              ref: op.ref,
              flags: GNTMAP_host_map | (op.ro ? GNTMAP_readonly : 0),
            });
            assert.equal(r.status, want);
            if (r.status === GNTST_okay) {
              assert.equal(live.has(r.handle), false);
              assert.equal(r.frame, frames[REFS.indexOf(op.ref)]);
              live.set(r.handle, { ref: op.ref, ro: op.ro });
              freed.delete(r.handle);
            }
            break;
          }
          case "unmap": {
            const hs = [...live.keys()];
            if (hs.length === 0) break;
            const h = hs[op.pick % hs.length]!;
            assert.equal(gt.unmapGrantRef(M, { handle: h }), GNTST_okay);
            live.delete(h);
            freed.add(h);
            break;
          }
          case "unmapStale": {
            if (live.has(op.handle)) break;
            assert.equal(gt.unmapGrantRef(M, { handle: op.handle }), GNTST_bad_handle);
            break;
          }
          case "end": {
            const { r, w } = pins(op.ref);
            const ok = endForeignAccess(table, op.ref);
            assert.equal(ok, r + w === 0);
            if (ok) granted.delete(op.ref);
            break;
          }
          case "copy": {
            const g = granted.get(op.ref);
            const rc = gt.gnttabCopy(M, {
              source: { ref: op.ref, domid: G, offset: 0 },
              dest: { gmfn: 0x200, domid: DOMID_SELF, offset: 0 },
              len: 8,
              flags: GNTCOPY_source_gref,
            });
            assert.equal(rc, g ? GNTST_okay : GNTST_general_error);
            break;
          }
        }
        // Invariants after every step.
        for (const ref of REFS) {
          const { r, w } = pins(ref);
          const e = grantEntry(table, ref);
          const g = granted.get(ref);
          const base = g ? GTF_permit_access | (g.ro ? GTF_readonly : 0) : 0;
          const want = base | (r + w > 0 ? GTF_reading : 0) | (w > 0 ? GTF_writing : 0);
          assert.equal(e.flags, want, `flags of ref ${ref}`);
          assert.equal(gt.activePin(G, ref), r * GNTPIN_hstr_inc + w * GNTPIN_hstw_inc);
          assert.equal(store.canWrite(M, frames[REFS.indexOf(ref)]!), w > 0);
        }
        assert.equal(gt.mappingCount(M), live.size);
      }
      for (const d of [M, G]) {
        gt.destroyDomain(d);
        store.destroyDomain(d);
      }
      assert.equal(store.freeFrameCount(), free0);
    }),
    { numRuns: 150 },
  );
});

test("threads: two mapper workers and a granter worker share one PageStore", async () => {
  const store = PageStore.create({ frames: 1024 });
  const free0 = store.freeFrameCount();
  store.createDomain(G);
  store.createDomain(M);
  const gt = new GrantTables(store);
  gt.initDomain(G);
  gt.initDomain(M);
  store.populatePhysmap(G, 0x100, 4);
  const refs = [8, 9, 10, 11, 12, 13];
  for (const ref of refs) grantAccess(gt.sharedView(G), ref, M, 0x100 + (ref % 4), ref % 2 === 0);
  const url = new URL("./testing/gnttab-worker.js", import.meta.url);
  const barrier = new SharedArrayBuffer(4);
  const run = (role: "granter" | "mapper", seed: number) =>
    new Promise<{ maps: number; unmaps: number; ends: number; endFails: number; violations: number }>(
      (resolve, reject) => {
        const w = new Worker(url, {
          workerData: {
            buffer: store.buffer,
            role,
            granter: G,
            mapper: M,
            refs,
            gfn0: 0x100,
            rounds: 20000,
            barrier,
            parties: 3,
            seed,
          },
        });
        w.once("message", resolve);
        w.once("error", reject);
      },
    );
  const [g, m1, m2] = await Promise.all([run("granter", 1), run("mapper", 2), run("mapper", 3)]);
  for (const r of [g!, m1!, m2!]) assert.equal(r.violations, 0, JSON.stringify(r));
  assert.ok(m1!.maps + m2!.maps > 0, "some maps won");
  assert.ok(g!.ends > 0, JSON.stringify(g));
  assert.equal(m1!.maps, m1!.unmaps);
  assert.equal(m2!.maps, m2!.unmaps);
  const table = gt.sharedView(G);
  for (const ref of refs) {
    assert.equal(grantEntry(table, ref).flags, 0);
    assert.equal(gt.activePin(G, ref), 0);
  }
  assert.equal(gt.mappingCount(M), 0);
  for (const d of [M, G]) {
    gt.destroyDomain(d);
    store.destroyDomain(d);
  }
  assert.equal(store.freeFrameCount(), free0);
});
