import assert from "node:assert/strict";
import { test } from "node:test";
import { GNTMAP_host_map, GNTST_bad_handle, GNTST_general_error, GNTST_okay } from "@xensim/abi";
import { GrantTables, grantAccess, MapperLedger } from "@xensim/gnttab";
import { PageStore } from "@xensim/memory";
import type { CallClient } from "@xensim/bus";
import { XenCtrl } from "./xenctrl.js";

const G = 1; // granter
const B = 0; // mapper (the backend's domain)

test("gnttabMapGrantRefSync / gnttabUnmapGrantRefSync: one ref in-process, recorded in the mapper ledger", () => {
  const store = PageStore.create({ frames: 1024 });
  store.createDomain(B, { privileged: true });
  store.createDomain(G);
  const gt = new GrantTables(store);
  gt.initDomain(B);
  gt.initDomain(G);
  const frames = store.populatePhysmap(G, 0x100, 2)!;
  grantAccess(gt.sharedView(G), 8, B, 0x100, false);
  const ledger = MapperLedger.create();
  // The in-process grant path makes no calls: a client that refuses every call proves it.
  const calls = new Proxy({}, { get: () => () => assert.fail("no call expected") }) as unknown as CallClient;
  const xc = new XenCtrl({ domid: B, calls, store, mapperLedger: ledger.buffer });
  const h = xc.gnttabMapGrantRefSync(G, 8, GNTMAP_host_map)!;
  assert.ok(h >= 0);
  assert.equal(xc.gnttabLastMappedFrame, frames[0]);
  assert.deepEqual(ledger.held(), [{ mapper: B, handle: h }]);
  assert.equal(xc.gnttabMapGrantRefSync(G, 9, GNTMAP_host_map), GNTST_general_error, "ref 9 is not granted");
  assert.equal(ledger.held().length, 1, "a failed map is not recorded");
  assert.equal(xc.gnttabUnmapGrantRefSync(h), GNTST_okay);
  assert.deepEqual(ledger.held(), []);
  assert.equal(xc.gnttabUnmapGrantRefSync(h), GNTST_bad_handle);
  assert.equal(gt.activePin(G, 8), 0);
});
