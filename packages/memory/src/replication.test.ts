import assert from "node:assert/strict";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { DOMID_XEN } from "@xensim/abi";
import fc from "fast-check";
import { PageStore } from "./page-store.js";
import {
  type Batch,
  decodeBatch,
  decodeSnapshot,
  encodeBatch,
  encodeSnapshot,
  MapReplicaTarget,
  PageStoreReplicaTarget,
  pageStoreReader,
  peekBatchHeader,
  Replica,
  ReplicationError,
  ReplicationWriter,
} from "./replication.js";
import { PAGE_SIZE } from "./xen-constants.js";

const rangeArb = fc
  .record({
    key: fc.nat({ max: 0xffffffff }),
    offset: fc.nat({ max: PAGE_SIZE }),
    len: fc.nat({ max: 300 }),
    fill: fc.uint8Array({ minLength: 0, maxLength: 300 }),
  })
  .map(({ key, offset, len, fill }) => {
    const l = Math.min(len, PAGE_SIZE - offset, fill.length);
    return { key, offset, bytes: fill.slice(0, l) };
  });
const batchArb: fc.Arbitrary<Batch> = fc.record({
  host: fc.string({ maxLength: 40 }),
  seq: fc.maxSafeNat(),
  ranges: fc.array(rangeArb, { maxLength: 8 }),
});

test("batch encoding round-trips", () => {
  fc.assert(
    fc.property(batchArb, (b) => {
      const enc = encodeBatch(b);
      assert.deepEqual(decodeBatch(enc), { ...b, ranges: b.ranges.map((r) => ({ ...r })) });
      assert.deepEqual(peekBatchHeader(enc), { host: b.host, seq: b.seq });
    }),
    { numRuns: 300 },
  );
});

test("snapshot encoding round-trips and is told apart from a batch", () => {
  const frames = [
    { key: 7, bytes: new Uint8Array(PAGE_SIZE).fill(3) },
    { key: 0xffffffff, bytes: new Uint8Array(PAGE_SIZE).fill(9) },
  ];
  const enc = encodeSnapshot({ host: "hostA", seq: 2 ** 40 + 5, frames });
  assert.deepEqual(decodeSnapshot(enc), { host: "hostA", seq: 2 ** 40 + 5, frames });
  assert.throws(() => decodeBatch(enc), ReplicationError);
});

test("truncated or corrupted encodings throw ReplicationError, nothing else", () => {
  fc.assert(
    fc.property(batchArb, fc.nat(), fc.nat({ max: 255 }), (b, cut, flip) => {
      const enc = encodeBatch(b);
      const truncated = enc.slice(0, cut % enc.length);
      assert.throws(() => decodeBatch(truncated), ReplicationError);
      const corrupted = enc.slice();
      corrupted[cut % enc.length] = corrupted[cut % enc.length]! ^ flip;
      try {
        decodeBatch(corrupted);
      } catch (err) {
        assert.ok(err instanceof ReplicationError, String(err));
      }
    }),
    { numRuns: 300 },
  );
});

test("writer coalesces written ranges per frame and ignores untracked frames", () => {
  const mem = new Uint8Array(PAGE_SIZE * 4).map((_, i) => i & 0xff);
  const w = new ReplicationWriter({
    host: "a",
    read: (f, o, l) => mem.slice(f * PAGE_SIZE + o, f * PAGE_SIZE + o + l),
    mergeGap: 4,
  });
  w.track([1]);
  assert.equal(w.publish().batches.length, 1); // the initial full copy
  w.written(1, 100, 10);
  w.written(1, 112, 10); // within mergeGap: one range [100,122)
  w.written(1, 300, 4);
  w.written(1, 50, 60); // overlaps the first: [50,122)
  w.written(2, 0, 10); // untracked
  const r = w.publish();
  assert.deepEqual(r.fence, { host: "a", seq: 2 });
  const b = decodeBatch(r.batches[0]!);
  assert.deepEqual(
    b.ranges.map((x) => [x.key, x.offset, x.bytes.length]),
    [
      [1, 50, 72],
      [1, 300, 4],
    ],
  );
  assert.equal(b.ranges[0]!.bytes[0], (PAGE_SIZE + 50) & 0xff);
  // Nothing pending: no batch, same fence.
  assert.deepEqual(w.publish(), { fence: { host: "a", seq: 2 }, batches: [], frames: 0, bytes: 0 });
});

test("a big publish is split into consecutive batches under maxBatchBytes", () => {
  const w = new ReplicationWriter({
    host: "a",
    read: (_f, _o, l) => new Uint8Array(l),
    maxBatchBytes: 10_000,
  });
  w.track([1, 2, 3, 4, 5]);
  const r = w.publish();
  assert.equal(r.batches.length, 3);
  assert.deepEqual(
    r.batches.map((b) => peekBatchHeader(b).seq),
    [1, 2, 3],
  );
  assert.ok(r.batches.every((b) => b.length <= 10_000));
  assert.equal(r.fence.seq, 3);
});

test("the window answers gaps, and a snapshot replaces batches it no longer holds", () => {
  const mem = new Uint8Array(PAGE_SIZE * 4);
  const w = new ReplicationWriter({
    host: "a",
    read: (f, o, l) => mem.slice(f * PAGE_SIZE + o, f * PAGE_SIZE + o + l),
    windowBatches: 3,
  });
  w.track([2]);
  for (let i = 0; i < 6; i++) {
    mem[2 * PAGE_SIZE + i] = i + 1;
    w.written(2, i, 1);
    w.publish();
  }
  assert.equal(w.seq, 6);
  assert.equal(w.batches(4, 6)?.length, 3);
  assert.equal(w.batches(3, 6), undefined);
  const fill = w.fill(1, 6);
  assert.equal(fill.kind, "snapshot");
  const t = new MapReplicaTarget();
  const rep = new Replica(t);
  if (fill.kind === "snapshot") rep.applySnapshot(fill.snapshot);
  assert.equal(rep.appliedUpTo("a"), 6);
  assert.deepEqual(t.frame("a", 2)!.subarray(0, 7), Uint8Array.of(1, 2, 3, 4, 5, 6, 0));
});

test("a replica applies each writer's batches in order, exactly once, whatever the delivery", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 40 }),
      fc.array(fc.nat(), { maxLength: 60 }),
      fc.infiniteStream(fc.nat()),
      (n, dupIdx, shuffle) => {
        const batches: Uint8Array[] = [];
        for (let seq = 1; seq <= n; seq++) {
          const marker = new Uint8Array(4);
          new DataView(marker.buffer).setUint32(0, seq, true);
          batches.push(encodeBatch({ host: "w", seq, ranges: [{ key: 0, offset: 0, bytes: marker }] }));
        }
        const delivery = [...batches, ...dupIdx.map((i) => batches[i % n]!)];
        const it = shuffle[Symbol.iterator]();
        for (let i = delivery.length - 1; i > 0; i--) {
          const j = it.next().value! % (i + 1);
          [delivery[i], delivery[j]] = [delivery[j]!, delivery[i]!];
        }
        const order: number[] = [];
        const rep = new Replica({
          apply: (_h, _k, _o, bytes) =>
            order.push(new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true)),
        });
        let lastApplied = 0;
        for (const d of delivery) {
          rep.receive(d);
          assert.ok(rep.appliedUpTo("w") >= lastApplied);
          lastApplied = rep.appliedUpTo("w");
          assert.deepEqual(
            order,
            Array.from({ length: lastApplied }, (_, i) => i + 1),
          );
        }
        assert.equal(rep.appliedUpTo("w"), n);
        assert.equal(rep.buffered("w"), 0);
        assert.equal(rep.duplicates, dupIdx.length);
      },
    ),
    { numRuns: 200 },
  );
});

type Step =
  | { op: "write"; frame: number; offset: number; bytes: Uint8Array }
  | { op: "publish" }
  | { op: "track"; frame: number }
  | { op: "deliver"; pick: number; dup: boolean }
  | { op: "drop"; pick: number }
  | { op: "gapfill" };

const NR = 6; // frames 0..5 of the source; 0..3 tracked at start, 4..5 may be tracked later
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .record({
        frame: fc.nat({ max: NR - 1 }),
        offset: fc.nat({ max: PAGE_SIZE - 1 }),
        bytes: fc.uint8Array({ minLength: 1, maxLength: 200 }),
      })
      .map(({ frame, offset, bytes }) => ({
        op: "write" as const,
        frame,
        offset,
        bytes: bytes.slice(0, PAGE_SIZE - offset),
      })),
  },
  { weight: 2, arbitrary: fc.constant({ op: "publish" as const }) },
  { weight: 1, arbitrary: fc.nat({ max: NR - 1 }).map((frame) => ({ op: "track" as const, frame })) },
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant("deliver" as const), pick: fc.nat(), dup: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("drop" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ op: "gapfill" as const }) },
);

test("at every fence the replica's bytes equal the source's (random writes, publishes, duplication, reordering, drops with gap-fill)", () => {
  fc.assert(
    fc.property(
      fc.array(stepArb, { minLength: 1, maxLength: 120 }),
      fc.nat({ max: 12 }),
      (steps, windowBatches) => {
        const ref: { src?: PageStore } = {};
        const writer = new ReplicationWriter({
          host: "A",
          read: (f, o, l) => pageStoreReader(ref.src!)(f, o, l),
          windowBatches: windowBatches + 1,
          maxBatchBytes: 3 * PAGE_SIZE, // multi-batch publishes happen
        });
        const src = PageStore.create({ frames: 64, writeLog: writer });
        ref.src = src;
        const frames = src.allocFrames(DOMID_XEN, NR, false)!;
        const view = src.viewOfFrames(frames);
        const dst = PageStore.create({ frames: 256 });
        const target = new PageStoreReplicaTarget(dst, DOMID_XEN);
        const replica = new Replica(target, { self: "B" });
        const tracked = new Set<number>([0, 1, 2, 3]);
        writer.track([...tracked].map((i) => frames[i]!));

        // seq → the source's tracked frames at that fence (only fences that end a publish).
        const states = new Map<number, Map<number, Uint8Array>>();
        const snap = (seq: number): void => {
          const m = new Map<number, Uint8Array>();
          for (const i of tracked)
            m.set(frames[i]!, src.u8.slice(frames[i]! * PAGE_SIZE, (frames[i]! + 1) * PAGE_SIZE));
          states.set(seq, m);
        };
        const net: Uint8Array[] = [];
        const check = (): void => {
          const seq = replica.appliedUpTo("A");
          const want = states.get(seq);
          if (!want) return;
          for (const [key, bytes] of want) {
            const lf = target.localFrame("A", key);
            assert.ok(lf !== undefined, `frame ${key} missing at fence ${seq}`);
            assert.deepEqual(
              dst.u8.subarray(lf * PAGE_SIZE, (lf + 1) * PAGE_SIZE),
              bytes,
              `frame ${key} at fence ${seq}`,
            );
          }
        };
        let fences = 0;
        const publish = (): void => {
          const r = writer.publish();
          net.push(...r.batches);
          if (r.batches.length > 0) snap(r.fence.seq);
          replica.whenApplied(r.fence, () => {
            fences++;
          });
        };
        for (const s of steps) {
          switch (s.op) {
            case "write":
              view.write(s.frame * PAGE_SIZE + s.offset, s.bytes);
              view.markWritten(s.frame * PAGE_SIZE + s.offset, s.bytes.length);
              break;
            case "publish":
              publish();
              break;
            case "track":
              tracked.add(s.frame);
              writer.track([frames[s.frame]!]);
              break;
            case "deliver":
            case "drop": {
              if (net.length === 0) break;
              const i = s.pick % net.length;
              const b = net[i]!;
              if (s.op === "drop" || !s.dup) net.splice(i, 1);
              if (s.op === "deliver") {
                replica.receive(b);
                check();
              }
              break;
            }
            case "gapfill": {
              const gap = replica.missing("A");
              if (!gap) break;
              const fill = writer.fill(gap.from, gap.to);
              if (fill.kind === "batches") {
                for (const b of fill.batches) replica.receive(b);
              } else {
                net.push(...fill.published.batches);
                if (fill.published.batches.length > 0) snap(fill.published.fence.seq);
                replica.applySnapshot(fill.snapshot);
              }
              check();
              break;
            }
          }
        }
        // Finally: publish, learn the head (as a fence in a notification would tell it), fill gaps.
        publish();
        replica.noteHead("A", writer.seq);
        for (let rounds = 0; replica.missing("A") && rounds < 100; rounds++) {
          const gap = replica.missing("A")!;
          const fill = writer.fill(gap.from, gap.to);
          if (fill.kind === "batches") for (const b of fill.batches) replica.receive(b);
          else {
            if (fill.published.batches.length > 0) snap(fill.published.fence.seq);
            replica.applySnapshot(fill.snapshot);
          }
          check();
        }
        assert.equal(replica.appliedUpTo("A"), writer.seq);
        assert.ok(fences >= 1);
        // The last state is the source's now.
        snap(writer.seq);
        check();
        // Untracked frames never reach the replica.
        for (let i = 0; i < NR; i++) {
          if (!tracked.has(i)) assert.equal(target.localFrame("A", frames[i]!), undefined);
        }
      },
    ),
    { numRuns: 250 },
  );
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

test("a replica written back to its origin: aliases apply onto the original frames, no initial copy", () => {
  // Host A owns frame `orig`; host B holds its replica and writes it; B's stream (keys = B's frames)
  // is applied in A onto `orig` through the alias table.
  const a = PageStore.create({ frames: 256 });
  const b = PageStore.create({ frames: 256 });
  const orig = a.allocFrame(DOMID_XEN);
  a.u8.fill(7, orig * PAGE_SIZE, (orig + 1) * PAGE_SIZE);
  const wa = new ReplicationWriter({ host: "A", read: pageStoreReader(a) });
  const wb = new ReplicationWriter({ host: "B", read: pageStoreReader(b) });
  const tb = new PageStoreReplicaTarget(b, DOMID_XEN);
  const ta = new PageStoreReplicaTarget(a, DOMID_XEN);
  const rb = new Replica(tb, { self: "B" });
  const ra = new Replica(ta, { self: "A" });
  wa.track([orig]);
  for (const x of wa.publish().batches) rb.receive(x);
  const local = tb.localFrame("A", orig)!;
  assert.equal(b.u8[local * PAGE_SIZE + 100], 7);
  ta.alias("B", local, orig);
  wb.track([local], { initialCopy: false });
  assert.equal(wb.publish().batches.length, 0, "no initial copy");
  b.u8.set([1, 2, 3], local * PAGE_SIZE + 10);
  wb.written(local, 10, 3);
  const sizeBefore = ta.size;
  for (const x of wb.publish().batches) ra.receive(x);
  assert.deepEqual([...a.u8.subarray(orig * PAGE_SIZE + 9, orig * PAGE_SIZE + 14)], [7, 1, 2, 3, 7]);
  assert.equal(ta.size, sizeBefore, "no replica frame allocated for an alias");
  // A answers on the original frame; it reaches B's replica; nothing echoes.
  a.u8.set([9], orig * PAGE_SIZE + 20);
  wa.written(orig, 20, 1);
  for (const x of wa.publish().batches) rb.receive(x);
  assert.equal(b.u8[local * PAGE_SIZE + 20], 9);
  assert.equal(wb.pending, false);
  // Released: batches still in flight are dropped, not applied anywhere.
  b.u8.set([5], local * PAGE_SIZE + 30);
  wb.written(local, 30, 1);
  const late = wb.publish().batches;
  ta.unalias("B", local);
  assert.equal(ta.aliasOf("B", local), null);
  for (const x of late) ra.receive(x);
  assert.equal(a.u8[orig * PAGE_SIZE + 30], 7);
  assert.equal(ta.size, sizeBefore);
});
