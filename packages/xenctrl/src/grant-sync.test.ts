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

test("a thread's own ledger beside its worker's: a dead thread's maps are released by the worker, and the worker's ledger forgets them", () => {
  const store = PageStore.create({ frames: 1024 });
  store.createDomain(B, { privileged: true });
  store.createDomain(G);
  const gt = new GrantTables(store);
  gt.initDomain(B);
  gt.initDomain(G);
  store.populatePhysmap(G, 0x100, 3);
  for (let i = 0; i < 3; i++) grantAccess(gt.sharedView(G), 8 + i, B, 0x100 + i, false);
  const workerLedger = MapperLedger.create();
  const threadLedger = MapperLedger.create();
  const calls = new Proxy({}, { get: () => () => assert.fail("no call expected") }) as unknown as CallClient;
  // the thread records in both; the worker's own client in the worker's ledger only
  const thread = new XenCtrl({
    domid: B,
    calls,
    store,
    mapperLedger: [workerLedger.buffer, threadLedger.buffer],
  });
  const worker = new XenCtrl({ domid: B, calls, store, mapperLedger: workerLedger.buffer });
  const h0 = thread.gnttabMapGrantRefSync(G, 8, GNTMAP_host_map)!;
  const h1 = thread.gnttabMapGrantRefSync(G, 9, GNTMAP_host_map)!;
  const own = worker.gnttabMapGrantRefSync(G, 10, GNTMAP_host_map)!;
  assert.equal(thread.gnttabUnmapGrantRefSync(h1), GNTST_okay);
  assert.deepEqual(threadLedger.held(), [{ mapper: B, handle: h0 }]);
  assert.deepEqual(
    workerLedger
      .held()
      .map((m) => m.handle)
      .sort((a, b) => a - b),
    [h0, own].sort((a, b) => a - b),
  );
  // the thread dies holding h0: the worker releases it at once
  assert.deepEqual(worker.releaseMapperLedger(threadLedger.buffer), {
    released: 1,
    portsClosed: 0,
    stale: 0,
  });
  assert.equal(gt.activePin(G, 8), 0);
  assert.deepEqual(threadLedger.held(), []);
  // and the worker's ledger holds only its own map (its host would not unmap h0 a second time,
  // when the handle may be somebody else's by then)
  assert.deepEqual(workerLedger.held(), [{ mapper: B, handle: own }]);
  assert.notEqual(gt.activePin(G, 10), 0);
});
