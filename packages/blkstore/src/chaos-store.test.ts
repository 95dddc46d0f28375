import assert from "node:assert/strict";
import { test } from "node:test";
import { ChaosPoints } from "@xensim/chaos";
import { ChaosStore } from "./chaos-store.js";
import { MemoryStore } from "./memory-store.js";

const io = (op: "read" | "write", sector: number, fill = 0) => ({
  op,
  sector,
  nrSectors: 8,
  segs: [new Uint8Array(4096).fill(fill)],
});
const submit = (s: ChaosStore, x: ReturnType<typeof io>) =>
  new Promise<number[]>((resolve) => {
    const got: number[] = [];
    s.submit(x, (st) => {
      got.push(st);
      setTimeout(() => resolve(got), 10);
    });
  });

test("ChaosStore: io-error, full (writes only), torn write, ack-before-write, latency; healed it passes through", async () => {
  const points = new ChaosPoints({ service: "blkback", now: () => 1 });
  const inner = new MemoryStore({ sizeBytes: 1 << 20 });
  const s = new ChaosStore(inner, points, "dom 1 xvda");
  assert.deepEqual(await submit(s, io("write", 0, 1)), [0]);

  points.set({ kind: "store.io-error" });
  assert.deepEqual(await submit(s, io("read", 0)), [-5]);
  points.heal();

  points.set({ kind: "store.full" });
  assert.deepEqual(await submit(s, io("read", 0)), [0], "reads still work");
  assert.deepEqual(await submit(s, io("write", 8, 2)), [-5]);
  points.heal();

  points.set({ kind: "store.torn-write" });
  assert.deepEqual(await submit(s, io("write", 16, 3)), [-5]);
  points.heal();
  const back = io("read", 16);
  await submit(s, back);
  assert.equal(back.segs[0]![0], 3, "the first sectors reached the store");
  assert.equal(back.segs[0]![4095], 0, "the last did not");

  points.set({ kind: "backend.ack-before-write" });
  assert.deepEqual(await submit(s, io("write", 24, 4)), [0]);
  points.heal();
  const lost = io("read", 24);
  await submit(s, lost);
  assert.equal(lost.segs[0]![0], 0, "acknowledged, never written");

  assert.deepEqual(
    points.records.map((r) => r.kind),
    ["store.io-error", "store.full", "store.torn-write", "backend.ack-before-write"],
  );
  await s.close();
});

test("ChaosStore: requests-reordered starts a request after the next one (or alone after 5 ms); each completes once", async () => {
  const points = new ChaosPoints({ service: "blkback", now: () => 1 });
  const s = new ChaosStore(new MemoryStore({ sizeBytes: 1 << 20 }), points, "dom 1 xvda");
  points.set({ kind: "backend.requests-reordered", count: 1 });
  const order: string[] = [];
  s.submit(io("write", 0, 1), (st) => order.push(`a ${st}`));
  assert.equal(order.length, 0, "a is held back");
  s.submit(io("write", 8, 2), (st) => order.push(`b ${st}`));
  assert.deepEqual(order, ["b 0", "a 0"], "b started first, a right after it");
  points.heal();
  points.set({ kind: "backend.requests-reordered" });
  s.submit(io("read", 0), (st) => order.push(`c ${st}`));
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual(order, ["b 0", "a 0", "c 0"], "alone, it starts after 5 ms");
  assert.equal(points.records.filter((r) => r.kind === "backend.requests-reordered").length, 2);
});
