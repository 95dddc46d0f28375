// Two page-servers in one thread (two page stores, one in-process bus): replication with fences,
// with the bus dropping, duplicating and delaying batches; gap-fill over the call path and the bus.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DOMID_XEN } from "@xensim/abi";
import { createInProcessBus, type EventBus } from "@xensim/bus";
import { PAGE_SIZE, PageStore } from "@xensim/memory";
import { seededRandom, testSeed } from "@xensim/testkit";
import pino from "pino";
import { createWriterStore, PageServerCore } from "./core.js";

const log = pino({ level: "silent" });

async function pair(name: string, opts: { viaCalls: boolean; windowBatches?: number }) {
  const busA = createInProcessBus({ name });
  const busB = createInProcessBus({ name });
  const mk = (
    host: string,
    bus: EventBus,
    fetch?: ConstructorParameters<typeof PageServerCore>[0]["fetch"],
  ) => {
    const { store, writer } = createWriterStore(
      (writeLog) => PageStore.attachOrCreate(new SharedArrayBuffer(512 * PAGE_SIZE), { writeLog }),
      host,
      { windowBatches: opts.windowBatches ?? 1024, maxBatchBytes: 64 * 1024 },
    );
    return new PageServerCore({
      hostId: host,
      store,
      writer,
      bus,
      log,
      replicaOwner: DOMID_XEN,
      address: () => (opts.viaCalls ? `addr-of-${host}` : undefined),
      gapGraceMs: 5,
      headAnnounceMs: 10,
      ...(fetch ? { fetch } : {}),
    });
  };
  const a = mk("A", busA);
  const b = mk("B", busB, async (_w, _addr, q) => a.fetchBatches(q.from, q.to, q.replica));
  await a.start();
  await b.start();
  return {
    a,
    b,
    busA,
    async close() {
      a.close();
      b.close();
      await busA.close();
      await busB.close();
    },
  };
}

async function scenario(
  p: Awaited<ReturnType<typeof pair>>,
  seed: number,
  rounds: number,
  publishesPerRound = 1,
) {
  const rnd = seededRandom(seed);
  const frames = p.a.store.allocFrames(DOMID_XEN, 12)!;
  // A few bytes written before replication starts travel in the full copy.
  p.a.store.u8.fill(0xab, frames[0]! * PAGE_SIZE, frames[0]! * PAGE_SIZE + 100);
  let fence = await p.a.replicateFrames("B", frames);
  assert.ok(await p.b.awaitFence(fence, 5000), "initial copy applied");
  let writes = 0;
  for (let r = 0; r < rounds; r++) {
    for (let pub = 0; pub < publishesPerRound; pub++) {
      const n = 1 + rnd.int(20);
      for (let i = 0; i < n; i++) {
        const f = frames[rnd.int(frames.length)]!;
        const off = rnd.int(PAGE_SIZE - 64);
        const len = 1 + rnd.int(64);
        const v = p.a.store.viewOfFrames([f]);
        for (let k = 0; k < len; k++) v.setU8(off + k, rnd.int(256));
        v.markWritten(off, len);
        writes++;
      }
      fence = await p.a.publish();
    }
    const want = p.a.readFrames("", frames).data;
    assert.ok(await p.b.awaitFence(fence, 5000), `fence ${fence.seq} applied`);
    const got = p.b.readFrames("A", frames).data;
    for (let i = 0; i < frames.length; i++)
      assert.deepEqual(got[i], want[i], `frame ${frames[i]} at fence ${fence.seq}`);
  }
  return writes;
}

describe("page-server core", () => {
  it("replicates with fences over a clean bus", async () => {
    const p = await pair("ps-clean", { viaCalls: true });
    try {
      await scenario(p, testSeed(), 60);
      // A fence awaited before its batch arrives may ask the writer after a grace time (the first,
      // large batch can be slow): a needless fill, whose batches then arrive once more.
      assert.ok(p.b.stats.gapFills <= 3, `few needless gap-fills: ${JSON.stringify(p.b.stats)}`);
      assert.ok(p.b.stats.duplicates <= p.b.stats.gapFills * 2, JSON.stringify(p.b.stats));
    } finally {
      await p.close();
    }
  });

  it("loses nothing when the bus drops, duplicates and reorders batches (gap-fill on the call path)", async () => {
    const p = await pair("ps-faults", { viaCalls: true });
    try {
      p.busA.faults.set({
        seed: 7,
        events: [
          { subject: "pages.A.batches", drop: 0.2, duplicate: 0.2, reorder: { window: 4, maxHoldMs: 5 } },
        ],
      });
      await scenario(p, testSeed() + 1, 80);
      assert.ok(p.b.stats.gapFills > 0, "gaps were filled");
      assert.ok(p.b.stats.duplicates > 0, "duplicates were ignored");
    } finally {
      await p.close();
    }
  });

  it("fills gaps over the bus, and by snapshot when the writer's window is too small", async () => {
    const p = await pair("ps-snap", { viaCalls: false, windowBatches: 2 });
    try {
      p.busA.faults.set({ seed: 3, events: [{ subject: "pages.A.batches", drop: 0.5 }] });
      await scenario(p, testSeed() + 2, 40, 6);
      assert.ok(p.b.stats.snapshots > 0, "snapshots were used");
    } finally {
      await p.close();
    }
  });

  it("importFrames: a writable import is a replica both ways; releaseFrames ends the way back", async () => {
    const p = await pair("ps-import", { viaCalls: true });
    try {
      const frames = p.a.store.allocFrames(DOMID_XEN, 2)!;
      p.a.store.u8.fill(0x11, frames[0]! * PAGE_SIZE, frames[0]! * PAGE_SIZE + 64);
      // B imports A's two frames (a grant mapped in B): the initial copy is there on return.
      const { local, fence } = await p.b.importFrames("A", frames, true);
      assert.equal(local.length, 2);
      assert.ok(p.b.replica.isApplied(fence));
      assert.deepEqual(p.b.readFrames("A", frames).data, p.a.readFrames("", frames).data);
      assert.equal(p.b.store.u8[local[0]! * PAGE_SIZE + 63], 0x11);

      // A writes: B's replica follows at A's fence.
      const va = p.a.store.viewOfFrames([frames[1]!]);
      va.setU32(100, 0xa1a2a3a4);
      va.markWritten(100, 4);
      assert.ok(await p.b.awaitFence(await p.a.publish(), 5000));
      assert.equal(p.b.store.viewOfFrames([local[1]!]).getU32(100), 0xa1a2a3a4);

      // B writes its local replica: A's original frame gets the bytes at B's fence (alias).
      const vb = p.b.store.viewOfFrames([local[0]!]);
      vb.setU32(200, 0xb1b2b3b4);
      const fb = await p.b.markAndPublish([{ frame: local[0]!, offset: 200, length: 4 }]);
      assert.ok(await p.a.awaitFence(fb, 5000), "A applied B's write");
      assert.equal(p.a.store.viewOfFrames([frames[0]!]).getU32(200), 0xb1b2b3b4);

      // A write published by the release itself still lands; after it, B's writes stay local.
      vb.setU32(300, 0xc1c2c3c4);
      vb.markWritten(300, 4);
      const fr = await p.b.releaseFrames("A", frames);
      assert.ok(await p.a.awaitFence(fr, 5000));
      assert.equal(p.a.store.viewOfFrames([frames[0]!]).getU32(300), 0xc1c2c3c4, "written before release");
      vb.setU32(400, 0xd1d2d3d4);
      const after = await p.b.markAndPublish([{ frame: local[0]!, offset: 400, length: 4 }]);
      await p.a.awaitFence(after, 300);
      assert.equal(p.a.store.viewOfFrames([frames[0]!]).getU32(400), 0, "after release: not applied to A");
    } finally {
      await p.close();
    }
  });

  it("importFrames refuses a host's own frames and frames the exporter does not have", async () => {
    const p = await pair("ps-import-bad", { viaCalls: true });
    try {
      await assert.rejects(p.b.importFrames("B", [1], false), /its own frames/);
      await assert.rejects(p.b.importFrames("A", [p.a.store.nrFrames + 5], false), /not a frame/);
    } finally {
      await p.close();
    }
  });
});
