// The host link area: the record queue (three producer threads at once, a small queue that wraps and
// fills: every record arrives exactly once, each thread's in its program order, small ranges with
// the bytes as marked), no record without a link thread (dropped and counted), frames without a
// subscriber cost nothing, the peer directory, placement, shadows, the replica map and mailboxes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { DOMID_XEN } from "@xensim/abi";
import { LinkArea, Q_RANGE, Q_SEND } from "./link-area.js";
import { PageStore } from "./page-store.js";
import { PAGE_SIZE } from "./xen-constants.js";

test("three producer threads, one consumer: every record once, each thread's in order", async () => {
  const store = PageStore.create({ frames: 2048 });
  const area = store.ensureLink({ queueBytes: 64 * 1024 });
  area.setOwner(true);
  const frame = store.allocFrame(DOMID_XEN);
  area.setSubscribers(frame, 1 << 3);
  const OPS = 30_000;
  const producers = [1, 2, 3];
  const last = new Map<number, number>(producers.map((p) => [p, 0]));
  let ranges = 0;
  let sends = 0;
  let bulk = 0;
  const done = producers.map(
    (id) =>
      new Promise<void>((resolve, reject) => {
        const w = new Worker(new URL("./testing/link-producer.js", import.meta.url), {
          workerData: { buffer: store.buffer, id, ops: OPS, frame },
        });
        w.once("message", () => resolve());
        w.once("error", reject);
      }),
  );
  let finished = false;
  void Promise.all(done).then(() => (finished = true));
  const dv = new DataView(store.buffer);
  // Every record carries its producer's sequence number: per producer they must come strictly in
  // program order (sends, small ranges and the send after each bulk range share one sequence).
  const next = (id: number, seq: number, what: string) => {
    assert.ok(seq > last.get(id)!, `producer ${id}: ${what} ${seq} after ${last.get(id)}`);
    last.set(id, seq);
  };
  const pendingBulk = new Map<number, number>();
  for (;;) {
    const n = area.drain((rec, u8) => {
      if (rec.type === Q_SEND) {
        sends++;
        if (rec.b >= 100) {
          // The send that follows a bulk range of that producer: the range came just before it.
          const id = rec.b - 100;
          assert.equal(pendingBulk.get(id), 1, `producer ${id}: its bulk range before send ${rec.c}`);
          pendingBulk.set(id, 0);
          next(id, rec.c, "send after bulk");
          return;
        }
        next(rec.b, rec.c, "send");
        return;
      }
      assert.equal(rec.type, Q_RANGE);
      assert.equal(rec.a, frame);
      assert.equal(rec.d, 1 << 3, "marked with the subscribers of the frame");
      if (rec.c === 1024) {
        bulk++;
        // A bulk range names the frame's own bytes (read when drained), not a copy.
        assert.equal(rec.dataOffset, frame * PAGE_SIZE + rec.b);
        // Whose it is shows in its offset (1024 × (id mod 3)); its send follows.
        for (const id of producers)
          if (rec.b === 1024 * (id % 3) && (pendingBulk.get(id) ?? 0) === 0) {
            pendingBulk.set(id, 1);
            break;
          }
        return;
      }
      ranges++;
      assert.equal(rec.c, 8);
      const id = dv.getUint32(rec.dataOffset, true);
      assert.equal(u8[rec.dataOffset], id & 0xff);
      next(id, dv.getUint32(rec.dataOffset + 4, true), "range (with the bytes as marked)");
    });
    if (n === 0 && finished && area.queueEmpty) break;
    if (n <= 0) await new Promise((r) => setImmediate(r));
  }
  const per = (k: number) => Array.from({ length: OPS }, (_, i) => i + 1).filter((q) => q % 3 === k).length;
  assert.equal(ranges, producers.length * per(0));
  assert.equal(bulk, producers.length * per(2));
  assert.equal(sends, producers.length * (per(1) + per(2)));
  for (const id of producers) assert.equal(last.get(id), OPS, `producer ${id}: every record`);
  assert.equal(area.dropped, 0);
});

test("without a link thread records are dropped and counted; frames nobody holds cost nothing", () => {
  const store = PageStore.create({ frames: 1024 });
  const area = store.ensureLink({ queueBytes: 256 * 1024 });
  const f = store.allocFrame(0x7ff2);
  const v = store.viewOfFrames([f]);
  v.setU32(0, 1);
  v.markWritten(0, 4); // no subscriber: nothing at all
  assert.ok(area.queueEmpty);
  assert.equal(area.dropped, 0);
  area.setSubscribers(f, 2);
  v.markWritten(0, 4); // a subscriber but no link thread: dropped, counted
  assert.ok(area.queueEmpty);
  assert.equal(area.dropped, 1);
  assert.equal(area.appendSend(0, 5), false);
  assert.equal(area.dropped, 2);
});

test("peers, placement, shadows, replicas and mailboxes", () => {
  const store = PageStore.create({ frames: 2048 });
  const area = store.ensureLink();
  assert.equal(area.peerIndex("hostB"), 1);
  assert.equal(area.peerIndex("hostC"), 2);
  assert.equal(area.peerIndex("hostB"), 1);
  assert.equal(area.peerName(2), "hostC");
  assert.equal(area.peerIndex("hostD", false), 0);
  // Placement: a home covers every vCPU; dom0's vCPUs one by one.
  const gen = area.placementGeneration;
  area.setHome(7, 2);
  assert.equal(area.placement(7, 0), 2);
  assert.equal(area.placement(7, 3), 2);
  area.setPlacement(0, 2, 1);
  assert.equal(area.placement(0, 2), 1);
  assert.equal(area.placement(0, 1), 0);
  assert.deepEqual(area.placementsOf(1), [[0, 2]]);
  area.setPlacement(0, 2, 0);
  assert.equal(area.placement(0, 2), 0);
  assert.ok(area.placementGeneration > gen);
  // A shadow shared_info per domain, made once.
  const s = area.shadowOf(7, true);
  assert.ok(s > 0 && area.shadowOf(7, false) === s);
  assert.deepEqual(area.shadowDomids(), [7]);
  // Replicas: origin → local, with the origin recorded on the local frame.
  const l = area.ensureReplica(123_456);
  assert.equal(area.replicaOf(123_456), l);
  assert.equal(area.ensureReplica(123_456), l);
  assert.equal(area.originOf(l), 123_456);
  // Mailboxes: take, reply, read, release.
  const mb = area.takeMailbox();
  assert.ok(mb >= 0);
  assert.equal(area.replied(mb), false);
  area.deliverReply(mb, Uint8Array.of(1, 2, 3));
  assert.equal(area.replied(mb), true);
  assert.deepEqual([...area.reply(mb)], [1, 2, 3]);
  area.releaseMailbox(mb);
  const taken: number[] = [];
  for (let m = area.takeMailbox(); m >= 0; m = area.takeMailbox()) taken.push(m);
  assert.equal(taken.length, 32);
  for (const m of taken) area.releaseMailbox(m);
  // Attached from another "thread": the same area.
  const other = LinkArea.attach(PageStore.attach(store.buffer), Atomics.load(store.i32, 8));
  assert.equal(other.peerName(1), "hostB");
  assert.equal(other.replicaOf(123_456), l);
});
