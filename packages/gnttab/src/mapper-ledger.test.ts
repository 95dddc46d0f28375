import assert from "node:assert/strict";
import { test } from "node:test";
import { GNTMAP_host_map, GNTST_okay } from "@xensim/abi";
import { PageStore } from "@xensim/memory";
import { GrantTables } from "./grant-table.js";
import {
  MAPPER_LEDGER_HANDLES,
  MAPPER_LEDGER_PORTS,
  MAPPER_LEDGER_SLOTS,
  MapperLedger,
} from "./mapper-ledger.js";
import { grantAccess } from "./shared-entry.js";

const G = 1; // granter (the guest)
const B = 0; // mapper (dom0's backend worker)

test("a dead mapper's recorded handles are unmapped: the granter's pins go and the destroyed guest dies", () => {
  const store = PageStore.create({ frames: 1024 });
  store.createDomain(0, { privileged: true });
  store.createDomain(G);
  const gt = new GrantTables(store);
  gt.initDomain(0);
  gt.initDomain(G);
  store.populatePhysmap(G, 0x100, 4);
  for (let ref = 8; ref < 12; ref++) grantAccess(gt.sharedView(G), ref, B, 0x100 + ref - 8, false);
  // the worker (another thread in life; here the same one) maps four refs and unmaps one
  const ledger = MapperLedger.create();
  const worker = new MapperLedger(ledger.buffer);
  const { results } = gt.mapGrantRefs(B, G, [8, 9, 10, 11], GNTMAP_host_map);
  for (const r of results) {
    assert.equal(r.status, GNTST_okay);
    assert.ok(worker.record(B, r.handle));
  }
  assert.equal(gt.unmapGrantRef(B, { handle: results[0]!.handle }), GNTST_okay);
  worker.forget(B, results[0]!.handle);
  assert.deepEqual(
    ledger.held().map((m) => m.handle),
    results.slice(1).map((r) => r.handle),
  );
  // the worker dies; the guest is destroyed: its frames stay mapped, so it lingers
  gt.destroyDomain(G);
  store.destroyDomain(G);
  assert.notEqual(store.domainState(G), "none");
  // the host releases what the dead worker held
  assert.deepEqual(ledger.release(gt), { released: 3, portsClosed: 0, stale: 0 });
  assert.deepEqual(ledger.held(), []);
  assert.equal(store.domainState(G), "none", "the last mapping went: the guest's memory is freed");
  // released twice: nothing left to do
  assert.deepEqual(ledger.release(gt), { released: 0, portsClosed: 0, stale: 0 });
});

test("a ledger records up to its slots of mapper domids and its handle range, and refuses the rest", () => {
  const ledger = MapperLedger.create();
  for (let d = 0; d < MAPPER_LEDGER_SLOTS; d++) assert.ok(ledger.record(d, d));
  assert.equal(ledger.record(MAPPER_LEDGER_SLOTS, 1), false);
  assert.equal(ledger.record(0, MAPPER_LEDGER_HANDLES), false);
  assert.equal(ledger.record(0, -1), false);
  assert.ok(ledger.record(0, MAPPER_LEDGER_HANDLES - 1));
  assert.equal(ledger.held().length, MAPPER_LEDGER_SLOTS + 1);
  ledger.forget(7, 1); // a mapper it never saw: nothing
  assert.equal(ledger.held().length, MAPPER_LEDGER_SLOTS + 1);
});

test("ports: recorded on open, forgotten on close, the rest closed by the releaser", () => {
  const ledger = MapperLedger.create();
  assert.ok(ledger.recordPort(0, 5));
  assert.ok(ledger.recordPort(0, 7));
  assert.ok(ledger.record(0, 3));
  assert.equal(ledger.recordPort(0, 0), false, "port 0 is reserved");
  assert.equal(ledger.recordPort(0, MAPPER_LEDGER_PORTS), false);
  ledger.forgetPort(0, 5);
  assert.deepEqual(ledger.heldPorts(), [{ domid: 0, port: 7 }]);
  const closed: number[] = [];
  const r = ledger.release({
    unmapGrantRef: () => GNTST_okay,
    evtchnClose: (caller, port) => (closed.push(caller * 10000 + port), 0),
  });
  assert.deepEqual(r, { released: 1, portsClosed: 1, stale: 0 });
  assert.deepEqual(closed, [7]);
  assert.deepEqual(ledger.heldPorts(), []);
});

test("after release() a ledger records again: the remembered slot is re-checked, not trusted", () => {
  const ledger = MapperLedger.create();
  assert.ok(ledger.record(3, 5));
  ledger.release({ unmapGrantRef: () => GNTST_okay });
  assert.deepEqual(ledger.held(), []);
  assert.ok(ledger.record(4, 6), "the slot mapper 3 had is claimable again");
  assert.ok(ledger.record(3, 7));
  ledger.forget(3, 7);
  assert.deepEqual(ledger.held(), [{ mapper: 4, handle: 6 }]);
});
