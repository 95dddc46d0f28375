// Regression tests named after the advisories on frontends facing a hostile backend (fact sheet
// §10): XSA-391 (event storms from the backend), XSA-396 (ending access to a grant the backend still
// maps), XSA-403 (stale data in the pages shared with the backend). Each fails on the vulnerable
// behaviour (docs/security.md says how each was checked).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BlkifOp, XenbusState } from "@xensim/abi";
import { Blkfront } from "./blkfront.js";
import type { GuestMemory } from "./environment.js";
import { DEVID, GUEST, pattern, Rig, waitUntil } from "./testing/rig.js";
import { createVbd } from "./testing/host.js";

describe("frontend advisories (blkfront)", () => {
  it("XSA-391: a storm of events from the backend with no responses completes nothing and breaks nothing", async () => {
    const r = await Rig.start({ sectors: 1024, front: { maxQueues: 1 } });
    await r.front.whenConnected();
    assert.equal(await r.write(0, pattern(1, 4096)), 0);
    const port = Number(await r.xs.read(`${r.paths.front}/event-channel`));
    const done: number[] = [];
    r.backend.hold = true;
    r.front.submit({ op: "write", sector: 8, nrSectors: 8, segs: [pattern(2, 4096)] }, (st) => done.push(st));
    await waitUntil(() => r.backend.held.length === 1, "held");
    for (let i = 0; i < 50_000; i++) r.dispatcher.dispatch(port);
    await new Promise((res) => setTimeout(res, 20));
    assert.deepEqual(done, [], "no response, no completion");
    assert.equal(r.front.stats.protocolErrors, 0);
    assert.equal(r.front.handshake.state, XenbusState.Connected);
    r.backend.release();
    await waitUntil(() => done.length === 1, "the real response");
    assert.deepEqual(done, [0]);
    const got = await r.read(8, 8);
    assert.ok(Buffer.from(got.data).equals(Buffer.from(pattern(2, 4096))));
    await r.front.close();
  });

  it("XSA-396: a page the backend still maps after answering is never ended, freed or reused", async () => {
    const r = await Rig.start({ sectors: 1024, front: { maxQueues: 1, persistent: false } });
    await r.front.whenConnected();
    r.backend.leakMappings = true;
    assert.equal(await r.write(0, pattern(3, 4096)), 0);
    const kept = r.backend.leaked.splice(0);
    assert.equal(kept.length, 1);
    r.backend.leakMappings = false;
    const before = kept[0]!.view.read(kept[0]!.off, 4096);
    assert.ok(r.front.stats.grantsLeaked >= 1, "end of access refused while mapped");
    // lots of I/O afterwards: the still-mapped page is not handed out again
    for (let i = 0; i < 64; i++) assert.equal(await r.write(16 + i * 8, pattern(100 + i, 4096)), 0);
    for (let i = 0; i < 16; i++) assert.equal((await r.read(16 + i * 8, 8)).status, 0);
    assert.deepEqual(kept[0]!.view.read(kept[0]!.off, 4096), before, "the mapped page kept its bytes");
    assert.ok(r.front.stats.grantsDeferred >= 1, "its end is retried later");
    await r.front.close();
  });

  it("XSA-396, zero copy: a caller's page still mapped after the answer fails the I/O and marks the backend misbehaving", async () => {
    const r = await Rig.start({ sectors: 1024, front: { maxQueues: 1, persistent: false } });
    await r.front.whenConnected();
    const page = await r.memory.allocPages(1, false);
    assert.ok(typeof page !== "number");
    const bytes = page.view.liveBytes(0, 4096)!;
    bytes.set(pattern(5, 4096));
    const io = { op: "write" as const, sector: 0, nrSectors: 8, segs: [bytes], frames: page.gfns };
    // A well-behaved backend: the caller's own page is granted, nothing copied, the grant ended.
    assert.equal(await new Promise<number>((res) => r.front.submit(io, res)), 0);
    assert.equal(r.front.stats.zeroCopyRequests, 1);
    assert.ok(Buffer.from((await r.read(0, 8)).data).equals(Buffer.from(pattern(5, 4096))));
    assert.equal(r.front.stats.grantsLeaked, 0);
    // One that keeps the mapping after answering: the caller hears -EIO, never success.
    r.backend.leakMappings = true;
    const st = await new Promise<number>((res) => r.front.submit({ ...io, sector: 8 }, res));
    assert.equal(st, -5, "EIO");
    assert.ok(r.front.stats.grantsLeaked >= 1, "end of access refused while mapped");
    assert.ok(r.front.stats.protocolErrors >= 1, "the backend is misbehaving");
    r.backend.leakMappings = false;
    await r.front.close();
  });

  it("XSA-403: pages shared with the backend carry nothing of the guest's other uses", async () => {
    // the guest's free pages hold someone else's data (another disk's, another driver's)
    const r = new Rig({ sectors: 1024 });
    const inner = r.memory;
    const marker = "<<another disk's secret>>";
    const secret = new TextEncoder().encode(marker.repeat(Math.ceil(4096 / marker.length)).slice(0, 4096));
    const dirty: GuestMemory = {
      allocPages: async (count, contiguous) => {
        const got = await inner.allocPages(count, contiguous);
        if (typeof got !== "number") for (let i = 0; i < count; i++) got.view.write(i * 4096, secret);
        return got;
      },
      freePages: (gfns) => inner.freePages(gfns),
    };
    r.paths = await createVbd(r.xs, 0, GUEST, DEVID);
    await r.startBackend();
    r.front = await Blkfront.open({
      store: r.guestXs,
      self: GUEST,
      nodename: r.paths.front,
      hypervisor: r.xc,
      memory: dirty,
      grantRefs: r.refs,
      events: r.dispatcher,
      config: { maxQueues: 1, persistent: false },
    });
    await r.front.whenConnected();
    const seen: string[] = [];
    r.backend.onMapped = (op, pages) => {
      for (const p of pages) {
        // what the backend may see: the sectors a write carries; for a read, nothing but zeros
        const visible =
          op === BlkifOp.WRITE
            ? [...p.bytes.subarray(0, p.first * 512), ...p.bytes.subarray((p.last + 1) * 512)]
            : [...p.bytes];
        if (Buffer.from(visible).includes(marker.slice(0, 12)))
          seen.push(`${op === BlkifOp.WRITE ? "write" : "read"} ${p.first}..${p.last}`);
      }
    };
    assert.equal(await r.write(0, pattern(9, 512)), 0); // one sector of a fresh page
    assert.equal((await r.read(0, 3)).status, 0);
    assert.equal(await r.write(8, pattern(10, 4096 + 1024)), 0); // a page and a part
    assert.deepEqual(seen, [], "stale bytes reached the backend");
    // the ring pages too: nothing of the old data in the slots the backend reads
    await r.front.close();
  });
});
