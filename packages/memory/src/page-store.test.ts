import assert from "node:assert/strict";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { DOMID_XEN } from "@xensim/abi";
import { DomCtl, MAX_GFN, PageStore, PageStoreError } from "./page-store.js";
import { PAGE_SIZE } from "./xen-constants.js";

const small = () => PageStore.create({ frames: 256 });

test("create: metadata frames are reserved, frame 0 is never handed out", () => {
  const s = small();
  assert.ok(s.firstUsableFrame > 1);
  assert.equal(s.frameOwner(0), undefined); // not an allocatable frame
  assert.equal(s.freeFrameCount(), 256 - s.firstUsableFrame);
  const f = s.allocFrame(DOMID_XEN);
  assert.ok(f >= s.firstUsableFrame);
  assert.equal(s.frameOwner(f), DOMID_XEN);
  assert.throws(() => PageStore.create({ frames: 3 }), PageStoreError);
  assert.throws(() => PageStore.attach(new SharedArrayBuffer(4096)), /not a PageStore/);
});

test("attach sees the same state", () => {
  const s = small();
  const t = PageStore.attach(s.buffer);
  const f = s.allocFrame(DOMID_XEN);
  assert.equal(t.frameOwner(f), DOMID_XEN);
  assert.equal(t.freeFrameCount(), s.freeFrameCount());
});

test("allocation: zeroed, contiguous runs, exhaustion leaves nothing allocated", () => {
  const s = small();
  const f = s.allocFrame(DOMID_XEN);
  s.u8.fill(7, f * PAGE_SIZE, (f + 1) * PAGE_SIZE);
  assert.ok(s.freeFrame(f));
  const g = s.allocFrames(DOMID_XEN, 4, true)!;
  for (let i = 1; i < 4; i++) assert.equal(g[i], g[0]! + i);
  for (const x of g) for (let i = 0; i < PAGE_SIZE; i++) assert.equal(s.u8[x * PAGE_SIZE + i], 0);
  const before = s.freeFrameCount();
  assert.equal(s.allocFrames(DOMID_XEN, before + 1), undefined);
  assert.equal(s.allocFrames(DOMID_XEN, before + 1, true), undefined);
  assert.equal(s.freeFrameCount(), before);
  assert.deepEqual(s.allocFrames(DOMID_XEN, 0), []);
  assert.equal(s.allocFrames(DOMID_XEN, -1), undefined);
  const all = s.allocFrames(DOMID_XEN, before)!;
  assert.equal(all.length, before);
  assert.equal(s.allocFrame(DOMID_XEN), 0);
  for (const x of [...all, ...g]) assert.ok(s.freeFrame(x));
  assert.equal(s.freeFrameCount(), 256 - s.firstUsableFrame);
});

test("contiguous allocation skips fragmented space", () => {
  const s = small();
  const a = s.allocFrames(DOMID_XEN, 10, true)!;
  for (let i = 0; i < 10; i += 2) s.freeFrame(a[i]!);
  const run = s.allocFrames(DOMID_XEN, 3, true)!;
  assert.ok(run[0]! > a[9]!);
});

test("free: double free and bad frames", () => {
  const s = small();
  const f = s.allocFrame(DOMID_XEN);
  assert.ok(s.freeFrame(f));
  assert.equal(s.freeFrame(f), false);
  assert.throws(() => s.freeFrame(0), PageStoreError);
  assert.throws(() => s.freeFrame(256), PageStoreError);
  assert.throws(() => s.freeFrame(1.5), PageStoreError);
});

test("page refs: a referenced frame freed by its owner lives until the last put", () => {
  const s = small();
  s.createDomain(1);
  const f = s.allocFrame(1);
  assert.ok(s.getPageRef(f, 1));
  assert.equal(s.getPageRef(f, 2), false);
  assert.ok(s.getPageRef(f));
  assert.equal(s.frameRefs(f), 2);
  assert.ok(s.freeFrame(f));
  assert.ok(s.frameDying(f));
  assert.equal(s.frameOwner(f), 1);
  assert.equal(s.getPageRef(f), false, "no new references on a dying frame");
  assert.equal(s.freeFrame(f), false);
  s.putPageRef(f);
  assert.equal(s.frameOwner(f), 1);
  s.putPageRef(f);
  assert.equal(s.frameOwner(f), undefined);
  assert.throws(() => s.putPageRef(f), PageStoreError);
  assert.equal(s.getPageRef(0), false);
});

test("domains: create, exists, max pages, destroy frees everything", () => {
  const s = small();
  const free0 = s.freeFrameCount();
  s.createDomain(3, { maxPages: 4, hvm: true });
  assert.throws(() => s.createDomain(3), /exists/);
  assert.throws(() => s.createDomain(0x7ff0), PageStoreError);
  assert.ok(s.domainExists(3));
  assert.ok(s.isHvm(3));
  assert.equal(s.isPrivileged(3), false);
  assert.equal(s.domainState(4), "none");
  assert.deepEqual(s.domains(), [3]);
  assert.ok(s.populatePhysmap(3, 0, 3));
  assert.equal(s.populatePhysmap(3, 10, 2), undefined, "over max pages");
  assert.equal(s.totPages(3), 3);
  const extra = s.allocFrame(3); // owned, not in physmap
  assert.ok(extra);
  assert.equal(s.allocFrame(3), 0);
  assert.equal(s.allocFrame(9), 0, "no such domain");
  assert.ok(s.destroyDomain(3));
  assert.equal(s.destroyDomain(3), false);
  assert.equal(s.domainState(3), "none");
  assert.equal(s.freeFrameCount(), free0);
});

test("domains: a destroyed domain with referenced frames is a zombie until they are put", () => {
  const s = small();
  const free0 = s.freeFrameCount();
  s.createDomain(5);
  const [f] = s.populatePhysmap(5, 100, 1)!;
  assert.ok(s.getPageRef(f!));
  s.destroyDomain(5);
  assert.equal(s.domainState(5), "dying");
  assert.equal(s.domainExists(5), false);
  assert.equal(s.gfnToFrame(5, 100), 0, "physmap gone");
  assert.equal(s.allocFrame(5), 0, "no allocation for a dying domain");
  assert.throws(() => s.createDomain(5), /exists/);
  s.putPageRef(f!);
  assert.equal(s.domainState(5), "none");
  assert.equal(s.freeFrameCount(), free0);
  s.createDomain(5);
});

test("physmap: add, lookup, remove, bounds, decrease_reservation", () => {
  const s = small();
  s.createDomain(1);
  const f = s.allocFrame(1);
  assert.ok(s.physmapAdd(1, MAX_GFN - 1, f));
  assert.equal(s.gfnToFrame(1, MAX_GFN - 1), f);
  assert.equal(s.physmapAdd(1, MAX_GFN, f), false);
  assert.equal(s.physmapAdd(1, -1, f), false);
  assert.equal(s.physmapAdd(1, 0, 0), false);
  assert.equal(s.physmapAdd(2, 0, f), false);
  assert.equal(s.gfnToFrame(1, 5), 0);
  assert.equal(s.gfnToFrame(2, 5), 0);
  assert.equal(s.physmapRemove(1, MAX_GFN - 1), f);
  assert.equal(s.physmapRemove(1, MAX_GFN - 1), 0);
  const [g] = s.populatePhysmap(1, 7, 1)!;
  assert.ok(s.decreaseReservation(1, 7));
  assert.equal(s.frameOwner(g!), undefined);
  assert.equal(s.decreaseReservation(1, 7), false);
  assert.equal(s.populatePhysmap(1, MAX_GFN - 1, 2), undefined);
  const run = s.populatePhysmap(1, 20, 4, true)!;
  const v = s.viewOfGfns(1, [20, 21, 22, 23])!;
  assert.ok(v.contiguous);
  assert.deepEqual(v.frames, run);
  assert.equal(s.viewOfGfns(1, [20, 99]), undefined);
});

test("canWrite: owner, foreign checks, dying frames", () => {
  const s = small();
  s.createDomain(1);
  s.createDomain(2);
  const f = s.allocFrame(1);
  assert.ok(s.canWrite(1, f));
  assert.equal(s.canWrite(2, f), false);
  assert.equal(s.canWrite(1, 0), false);
  s.addForeignWriteCheck((d, fr) => d === 2 && fr === f);
  assert.ok(s.canWrite(2, f));
  s.getPageRef(f);
  s.freeFrame(f);
  assert.equal(s.canWrite(1, f), false, "owner gave it up");
  s.putPageRef(f);
  assert.equal(s.canWrite(2, f), false, "free frame");
});

test("control words: each domain has its own block", () => {
  const s = small();
  s.createDomain(1);
  s.createDomain(2);
  const a = s.controlWordIndex(1, DomCtl.GNTTAB_BASE);
  const b = s.controlWordIndex(2, DomCtl.GNTTAB_BASE);
  assert.ok(a > 0 && b > 0 && a !== b);
  assert.equal(s.controlWordIndex(7, 0), -1);
  assert.equal(s.controlWordIndex(-1, 0), -1);
});

test("two threads allocate and free concurrently without corrupting ownership", async () => {
  const s = PageStore.create({ frames: 1024 });
  const free0 = s.freeFrameCount();
  const url = new URL("./testing/alloc-worker.js", import.meta.url);
  const run = (owner: number) =>
    new Promise<{ errors: number; allocated: number }>((resolve, reject) => {
      const w = new Worker(url, { workerData: { buffer: s.buffer, owner, rounds: 3000 } });
      w.once("message", resolve);
      w.once("error", reject);
    });
  s.createDomain(1);
  s.createDomain(2);
  const r2 = await Promise.all([run(1), run(2)]);
  for (const r of r2) {
    assert.equal(r.errors, 0);
    assert.ok(r.allocated > 0);
  }
  s.destroyDomain(1);
  s.destroyDomain(2);
  assert.equal(s.freeFrameCount(), free0);
});

test("attachOrCreate formats a buffer of zeroes once, race-free across workers", async () => {
  const buffer = new SharedArrayBuffer(256 * PAGE_SIZE);
  const go = new Int32Array(new SharedArrayBuffer(4));
  const url = new URL("./testing/attach-worker.js", import.meta.url);
  const runs = Array.from(
    { length: 4 },
    () =>
      new Promise<{ nrFrames: number; frames: number[] }>((resolve, reject) => {
        const w = new Worker(url, { workerData: { buffer, go } });
        w.once("message", resolve);
        w.once("error", reject);
      }),
  );
  await new Promise((r) => setTimeout(r, 100));
  Atomics.store(go, 0, 1);
  Atomics.notify(go, 0);
  const results = await Promise.all(runs);
  const all = results.flatMap((r) => r.frames);
  assert.ok(results.every((r) => r.nrFrames === 256));
  assert.ok(all.every((f) => f > 0));
  assert.equal(new Set(all).size, all.length, "no frame handed out twice");
  const s = PageStore.attachOrCreate(buffer);
  assert.equal(s.freeFrameCount(), 256 - s.firstUsableFrame - all.length);
  assert.throws(() => PageStore.attachOrCreate(new SharedArrayBuffer(PAGE_SIZE)), { code: "bad_buffer" });
});
