// The mapper host's local grant check against the authority: over random interleavings of grants,
// maps (every GNTMAP_* combination), unmaps, end-access and raw entry words a guest may write (any
// flags, any domid), whenever localMapRefusal refuses a map from a replica equal to the granter's
// table, the hypervisor's gnttab core refuses it with the same GNTST_*. Seed printed.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  GNTMAP_device_map,
  GNTMAP_host_map,
  GNTMAP_readonly,
  GNTST_bad_gntref,
  GNTST_general_error,
  GNTST_okay,
  GTF_permit_access,
  GTF_readonly,
} from "@xensim/abi";
import { PageStore } from "@xensim/memory";
import fc from "fast-check";
import { GrantTables } from "./grant-table.js";
import { localMapRefusal } from "./local-check.js";
import { endForeignAccess, grantAccess } from "./shared-entry.js";

const seed = process.env.XENSIM_SEED ? Number(process.env.XENSIM_SEED) : Math.floor(Math.random() * 2 ** 31);
console.log(`local grant check property: seed ${seed} (XENSIM_SEED=${seed} to replay)`);

const G = 1;
const M = 2;
const OTHER = 3;
const REFS = [8, 9, 10];

type Op =
  | { k: "grant"; ref: number; ro: boolean; to: number }
  | { k: "raw"; ref: number; word: number }
  | { k: "map"; ref: number; flags: number }
  | { k: "unmap"; pick: number }
  | { k: "end"; ref: number };

const mapFlags = fc.constantFrom(
  0,
  GNTMAP_readonly,
  GNTMAP_host_map,
  GNTMAP_host_map | GNTMAP_readonly,
  GNTMAP_device_map,
  GNTMAP_device_map | GNTMAP_readonly,
  GNTMAP_host_map | GNTMAP_device_map,
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    k: fc.constant("grant" as const),
    ref: fc.constantFrom(...REFS),
    ro: fc.boolean(),
    to: fc.constantFrom(M, OTHER),
  }),
  fc.record({
    k: fc.constant("raw" as const),
    ref: fc.constantFrom(...REFS),
    word: fc
      .integer({ min: 0, max: 0xffff })
      .chain((flags) => fc.constantFrom(M, OTHER, 0).map((d) => (d << 16) | flags | 0)),
  }),
  fc.record({ k: fc.constant("map" as const), ref: fc.constantFrom(...REFS, 4000), flags: mapFlags }),
  fc.record({ k: fc.constant("unmap" as const), pick: fc.nat() }),
  fc.record({ k: fc.constant("end" as const), ref: fc.constantFrom(...REFS) }),
);

test("property: a local refusal is the authority's refusal, same GNTST_*", () => {
  let refusedLocally = 0;
  let askedAuthority = 0;
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 50 }), (ops) => {
      const store = PageStore.create({ frames: 512 });
      store.createDomain(G);
      store.createDomain(M);
      store.createDomain(OTHER);
      const gt = new GrantTables(store);
      gt.initDomain(G);
      gt.initDomain(M);
      gt.initDomain(OTHER);
      store.populatePhysmap(G, 0x100, REFS.length);
      const table = gt.sharedView(G);
      const handles: number[] = [];
      for (const op of ops) {
        if (op.k === "grant") grantAccess(table, op.ref, op.to, 0x100 + REFS.indexOf(op.ref), op.ro);
        else if (op.k === "raw") table.atomicStore32(op.ref * 8, op.word);
        else if (op.k === "end") endForeignAccess(table, op.ref);
        else if (op.k === "unmap") {
          if (handles.length === 0) continue;
          const h = handles.splice(op.pick % handles.length, 1)[0]!;
          assert.equal(gt.unmapGrantRef(M, { handle: h }), GNTST_okay);
        } else {
          // The replica: the same bytes as the granter's table (what the link brought).
          const replicaWord = op.ref * 8 < table.byteLength ? table.atomicLoad32(op.ref * 8) : undefined;
          const local = localMapRefusal(replicaWord, M, op.flags);
          const r = gt.mapGrantRef(M, { dom: G, ref: op.ref, flags: op.flags });
          if (r.status === GNTST_okay) handles.push(r.handle);
          if (local !== undefined) {
            refusedLocally++;
            assert.equal(r.status, local, `ref ${op.ref} flags ${op.flags} entry ${replicaWord}`);
          } else askedAuthority++;
        }
      }
      for (const h of handles) gt.unmapGrantRef(M, { handle: h });
    }),
    { seed, numRuns: 300 },
  );
  assert.ok(refusedLocally > 0 && askedAuthority > 0, "both answers happened");
});

test("local refusals, case by case", () => {
  const ok = GTF_permit_access | (M << 16) | 0;
  assert.equal(localMapRefusal(ok, M, 0), GNTST_bad_gntref, "no host or device mapping asked");
  assert.equal(localMapRefusal(ok, M, GNTMAP_host_map), undefined, "valid: the authority decides");
  assert.equal(localMapRefusal(0, M, GNTMAP_host_map), GNTST_general_error, "no GTF_permit_access");
  assert.equal(
    localMapRefusal(GTF_permit_access | (OTHER << 16) | 0, M, GNTMAP_host_map),
    GNTST_general_error,
    "wrong domid",
  );
  const ro = GTF_permit_access | GTF_readonly | (M << 16) | 0;
  assert.equal(localMapRefusal(ro, M, GNTMAP_host_map), GNTST_general_error, "write map of a readonly grant");
  assert.equal(localMapRefusal(ro, M, GNTMAP_host_map | GNTMAP_readonly), undefined);
  assert.equal(localMapRefusal(undefined, M, GNTMAP_host_map), undefined, "not in the replica: ask");
});
