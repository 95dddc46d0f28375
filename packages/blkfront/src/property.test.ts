// Property tests (fast-check): random negotiation settings and random batches of I/O (sizes 1 to
// 300 sectors, any offset, caller buffers split at random points) checked against a reference byte
// array; and the same with the backend going away mid-I/O (clean or crash) and coming back. Reads
// must equal the model, every I/O completes exactly once with status 0. Seeds are printed on failure.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { BlockIo } from "@xensim/blkif";
import { pattern, Rig, waitUntil } from "./testing/rig.js";

const SECTORS = 2048;

type Op =
  | { kind: "write"; sector: number; n: number; seed: number; cuts: number[] }
  | { kind: "read"; sector: number; n: number; cuts: number[] }
  | { kind: "discard"; sector: number; n: number }
  | { kind: "flush" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("write" as const),
      sector: fc.integer({ min: 0, max: SECTORS - 1 }),
      n: fc.integer({ min: 1, max: 300 }),
      seed: fc.nat(),
      cuts: fc.array(fc.nat(), { maxLength: 3 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("read" as const),
      sector: fc.integer({ min: 0, max: SECTORS - 1 }),
      n: fc.integer({ min: 1, max: 300 }),
      cuts: fc.array(fc.nat(), { maxLength: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("discard" as const),
      sector: fc.integer({ min: 0, max: SECTORS - 1 }),
      n: fc.integer({ min: 1, max: 64 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "flush" as const }) },
);

const settingsArb = fc.record({
  order: fc.integer({ min: 0, max: 3 }),
  queues: fc.integer({ min: 1, max: 4 }),
  persistent: fc.boolean(),
  indirect: fc.constantFrom(0, 16, 64),
});

/** Splits `len` bytes at the given cut points (mod len) into caller segments. */
function split(len: number, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % len).filter((c) => c > 0))].sort((a, b) => a - b);
  const segs: Uint8Array[] = [];
  let at = 0;
  for (const p of [...points, len]) {
    segs.push(new Uint8Array(p - at));
    at = p;
  }
  return segs;
}

function clip(op: Op): Op {
  if (op.kind === "flush") return op;
  return { ...op, n: Math.min(op.n, SECTORS - op.sector) };
}

/** Drops ops overlapping an earlier one of the same batch (concurrent overlapping I/O has no order). */
function disjoint(ops: Op[]): Op[] {
  const taken: [number, number][] = [];
  const out: Op[] = [];
  for (const op of ops.map(clip)) {
    if (op.kind === "flush") {
      out.push(op);
      continue;
    }
    const a = op.sector;
    const b = op.sector + op.n;
    if (taken.some(([x, y]) => a < y && x < b)) continue;
    taken.push([a, b]);
    out.push(op);
  }
  return out;
}

/** Runs a batch concurrently; checks reads against the model, then applies writes to it. */
async function runBatch(r: Rig, model: Uint8Array, batch: Op[], counts: number[][]): Promise<void> {
  const jobs = batch.map((op) => {
    let io: BlockIo;
    let segs: Uint8Array[] = [];
    if (op.kind === "write") {
      const data = pattern(op.seed, op.n * 512);
      segs = split(data.length, op.cuts);
      let at = 0;
      for (const s of segs) {
        s.set(data.subarray(at, at + s.length));
        at += s.length;
      }
      io = { op: "write", sector: op.sector, nrSectors: op.n, segs };
    } else if (op.kind === "read") {
      segs = split(op.n * 512, op.cuts);
      io = { op: "read", sector: op.sector, nrSectors: op.n, segs };
    } else if (op.kind === "discard") io = { op: "discard", sector: op.sector, nrSectors: op.n, segs: [] };
    else io = { op: "flush", sector: 0, nrSectors: 0, segs: [] };
    const calls: number[] = [];
    counts.push(calls);
    return new Promise<{ op: Op; segs: Uint8Array[] }>((res) =>
      r.front.submit(io, (st) => {
        calls.push(st);
        res({ op, segs });
      }),
    );
  });
  const done = await Promise.all(jobs);
  for (const { op, segs } of done) {
    if (op.kind === "read") {
      const got = Buffer.concat(segs);
      const want = model.subarray(op.sector * 512, (op.sector + op.n) * 512);
      assert.ok(got.equals(want), `read ${op.sector}+${op.n} differs from the model`);
    }
  }
  for (const { op, segs } of done) {
    if (op.kind === "write") model.set(Buffer.concat(segs), op.sector * 512);
    if (op.kind === "discard") model.fill(0, op.sector * 512, (op.sector + op.n) * 512);
  }
}

describe("random I/O against a reference array", () => {
  it("any settings, any sizes and offsets: reads equal the model, each I/O completes once with 0", async () => {
    await fc.assert(
      fc.asyncProperty(
        settingsArb,
        fc.array(fc.array(opArb, { minLength: 1, maxLength: 10 }), { minLength: 1, maxLength: 6 }),
        async (s, batches) => {
          const r = await Rig.start({
            sectors: SECTORS,
            frames: 6144,
            front: {
              maxRingPageOrder: s.order,
              maxQueues: s.queues,
              persistent: s.persistent,
              maxIndirectSegments: s.indirect,
            },
          });
          try {
            await r.front.whenConnected();
            const model = new Uint8Array(SECTORS * 512);
            const counts: number[][] = [];
            for (const b of batches) await runBatch(r, model, disjoint(b), counts);
            for (const c of counts) assert.deepEqual(c, [0]);
            assert.ok(Buffer.from(r.disk).equals(Buffer.from(model)), "the backend's disk equals the model");
            assert.equal(r.front.stats.inFlight, 0);
          } finally {
            await r.front.close();
          }
        },
      ),
      { numRuns: 25, verbose: 1 },
    );
  });

  it("with the backend going away mid-batch and coming back: nothing lost, nothing answered twice", async () => {
    await fc.assert(
      fc.asyncProperty(
        settingsArb,
        fc.array(fc.array(opArb, { minLength: 1, maxLength: 10 }), { minLength: 2, maxLength: 5 }),
        fc.nat(),
        fc.constantFrom("clean" as const, "crash" as const),
        async (s, batches, at, mode) => {
          const r = await Rig.start({
            sectors: SECTORS,
            frames: 6144,
            front: {
              maxRingPageOrder: s.order,
              maxQueues: s.queues,
              persistent: s.persistent,
              maxIndirectSegments: s.indirect,
            },
          });
          try {
            await r.front.whenConnected();
            const model = new Uint8Array(SECTORS * 512);
            const counts: number[][] = [];
            const k = at % batches.length;
            for (let i = 0; i < batches.length; i++) {
              const b = disjoint(batches[i]!);
              if (i !== k) {
                await runBatch(r, model, b, counts);
                continue;
              }
              // This batch: the backend does the I/O, answers nothing, goes away, and comes back.
              r.backend.hold = true;
              const run = runBatch(r, model, b, counts);
              await waitUntil(
                () => r.front.stats.inFlight === r.backend.held.length && r.front.stats.queued === 0,
                "batch issued and held",
              );
              await r.backend.stop(mode);
              await r.startBackend();
              await run;
            }
            for (const c of counts) assert.deepEqual(c, [0]);
            assert.ok(Buffer.from(r.disk).equals(Buffer.from(model)), "the backend's disk equals the model");
            assert.equal(r.front.stats.connects, 2);
            assert.equal(r.front.stats.grantsLeaked, 0);
          } finally {
            await r.front.close();
          }
          await r.assertNoLeaks();
        },
      ),
      { numRuns: 15, verbose: 1 },
    );
  });
});
