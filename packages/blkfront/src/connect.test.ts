// Blkfront against the test backend over the real grant-table / event-channel cores and the real
// xenstore engine: the negotiation matrix (ring pages 1/4/64 × queues 1/4 × persistent × indirect)
// with read-after-write checks, the keys written, flush/FUA/discard, read-only disks, resize, close.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BlkifOp, XenbusState, XenErrno } from "@xensim/abi";
import { submitIo } from "@xensim/blkif";
import { pattern, Rig, waitUntil } from "./testing/rig.js";

async function readBack(r: Rig, sector: number, expect: Uint8Array): Promise<void> {
  const got = await r.read(sector, expect.length / 512);
  assert.equal(got.status, 0);
  assert.ok(Buffer.from(got.data).equals(Buffer.from(expect)), `sector ${sector}: data differs`);
}

describe("negotiation matrix", () => {
  for (const order of [0, 2, 6])
    for (const queues of [1, 4])
      for (const persistent of [true, false])
        for (const indirect of [true, false]) {
          const name = `${2 ** order} page(s), ${queues} queue(s), persistent ${persistent}, indirect ${indirect}`;
          it(name, async () => {
            const r = await Rig.start({
              sectors: 8192,
              front: { maxRingPageOrder: order, maxQueues: queues, persistent, maxIndirectSegments: 64 },
              back: {
                maxRingPageOrder: 6,
                maxQueues: 4,
                persistent: true,
                maxIndirectSegments: indirect ? 256 : 0,
              },
            });
            const info = await r.front.whenConnected();
            assert.equal(info.sectors, 8192);
            assert.deepEqual(r.front.ringInfo, {
              queues,
              pages: 2 ** order,
              slots: { 0: 32, 2: 128, 6: 2048 }[order],
            });
            const disk = r.front.negotiated!;
            assert.equal(disk.persistent, persistent);
            assert.equal(disk.maxIndirectSegments, indirect ? 64 : 0);

            // Keys as Linux writes them.
            const fk = async (k: string) => r.xs.tryRead(`${r.paths.front}/${k}`);
            assert.equal(await fk("ring-page-order"), order > 0 ? String(order) : undefined);
            assert.equal(await fk("multi-queue-num-queues"), queues > 1 ? String(queues) : undefined);
            const qdir = queues > 1 ? "queue-0/" : "";
            if (order === 0) assert.match((await fk(`${qdir}ring-ref`)) ?? "", /^\d+$/);
            else assert.match((await fk(`${qdir}ring-ref${2 ** order - 1}`)) ?? "", /^\d+$/);
            assert.match((await fk(`${qdir}event-channel`)) ?? "", /^\d+$/);
            assert.equal(await fk("protocol"), "x86_64-abi");
            assert.equal(await fk("feature-persistent"), persistent ? "1" : "0");
            assert.equal(await fk("state"), String(XenbusState.Connected));

            // Many concurrent writes of assorted sizes (1 sector … 512 KiB), then read back.
            const writes: { sector: number; data: Uint8Array }[] = [];
            const sizes = [1, 8, 9, 88, 89, 100, 512, 1024];
            let sector = 0;
            for (let i = 0; i < 24; i++) {
              const n = sizes[i % sizes.length]!;
              if (sector + n > 8192) sector = 0;
              writes.push({ sector, data: pattern(i + order * 100 + queues, n * 512) });
              sector += n;
            }
            const sts = await Promise.all(writes.map((w) => r.write(w.sector, w.data)));
            assert.deepEqual(
              sts,
              writes.map(() => 0),
            );
            // Later writes win where ranges wrapped around: compare against the disk array instead.
            for (const w of writes) {
              const got = await r.read(w.sector, w.data.length / 512);
              assert.equal(got.status, 0);
              const want = r.disk.subarray(w.sector * 512, w.sector * 512 + w.data.length);
              assert.ok(Buffer.from(got.data).equals(Buffer.from(want)));
            }
            const last = writes[writes.length - 1]!;
            await readBack(r, last.sector, last.data);

            assert.equal(r.backend.seen.indirect > 0, indirect, "indirect requests used iff negotiated");
            assert.ok(r.backend.seen.maxSegments <= (indirect ? 64 : 11));
            const s = r.front.stats;
            assert.equal(s.inFlight, 0);
            assert.equal(s.completed, s.submitted);
            assert.equal(s.errors, 0);
            assert.equal(s.responses, s.requests);
            assert.ok(s.notificationsSent > 0);
            if (persistent)
              assert.ok(s.dataGrants <= 1024 * queues + 64, `persistent grants reused (${s.dataGrants})`);
            else assert.ok(s.dataGrants >= s.requests, "a grant per segment without persistent grants");
            await r.front.close();
            assert.equal(await fk("state"), String(XenbusState.Closed));
            await r.assertNoLeaks();
          });
        }
});

describe("operations", () => {
  it("scattered caller segments, FUA (write then flush), flush, discard", async () => {
    const r = await Rig.start({ sectors: 2048 });
    await r.front.whenConnected();
    const a = pattern(1, 512 * 3);
    const b = pattern(2, 512 * 5 + 100);
    const c = pattern(3, 512 * 8 - 100);
    const segs = [a, b, c];
    const total = a.length + b.length + c.length;
    assert.equal(
      await submitIo(r.front, { op: "write", sector: 10, nrSectors: total / 512, segs, fua: true }),
      0,
    );
    const ops = r.backend.opsSeen;
    assert.equal(ops[ops.length - 1], BlkifOp.FLUSH_DISKCACHE, "FUA: a flush after the data");
    const joined = Buffer.concat(segs);
    await readBack(r, 10, joined);
    // Read into odd-sized segments.
    const o1 = new Uint8Array(700);
    const o2 = new Uint8Array(total - 700);
    assert.equal(
      await submitIo(r.front, { op: "read", sector: 10, nrSectors: total / 512, segs: [o1, o2] }),
      0,
    );
    assert.ok(Buffer.concat([o1, o2]).equals(joined));

    assert.equal(await submitIo(r.front, { op: "flush", sector: 0, nrSectors: 0, segs: [] }), 0);
    assert.equal(await submitIo(r.front, { op: "discard", sector: 10, nrSectors: 8, segs: [] }), 0);
    assert.equal(r.backend.seen.discards, 1);
    await readBack(r, 10, new Uint8Array(8 * 512));

    // Bad requests never reach the ring.
    assert.equal(await r.read(2047, 2).then((x) => x.status), -XenErrno.EIO);
    assert.equal(
      await submitIo(r.front, { op: "write", sector: 0, nrSectors: 2, segs: [new Uint8Array(512)] }),
      -XenErrno.EINVAL,
    );
    await r.front.close();
    assert.equal(await submitIo(r.front, { op: "flush", sector: 0, nrSectors: 0, segs: [] }), -XenErrno.EIO);
  });

  it("x86_32-abi (108-byte slots): protocol key and I/O", async () => {
    const r = await Rig.start({ sectors: 2048, front: { abi: "x86_32", maxRingPageOrder: 1 } });
    await r.front.whenConnected();
    assert.equal(await r.xs.tryRead(`${r.paths.front}/protocol`), "x86_32-abi");
    assert.equal(r.backend.rings?.abi, "x86_32");
    const all = [];
    for (let i = 0; i < 40; i++) all.push(r.write(i * 40, pattern(i, 512 * (1 + (i % 40)))));
    assert.ok((await Promise.all(all)).every((s) => s === 0));
    for (let i = 0; i < 40; i += 7) await readBack(r, i * 40, pattern(i, 512 * (1 + (i % 40))));
    await r.front.close();
    await r.assertNoLeaks();
  });

  it("discard not advertised → EOPNOTSUPP; no flush feature → flush completes at once", async () => {
    const r = await Rig.start({ sectors: 512, backend: { discard: false, flush: false } });
    const info = await r.front.whenConnected();
    assert.equal(info.discard, false);
    assert.equal(info.flush, false);
    assert.equal(
      await submitIo(r.front, { op: "discard", sector: 0, nrSectors: 8, segs: [] }),
      -XenErrno.EOPNOTSUPP,
    );
    assert.equal(await submitIo(r.front, { op: "flush", sector: 0, nrSectors: 0, segs: [] }), 0);
    assert.equal(r.backend.seen.flushes, 0);
    await r.front.close();
  });

  it("a read-only disk: info.readonly, writes fail with EROFS, reads work", async () => {
    const r = await Rig.start({ sectors: 512, backend: { readonly: true } });
    r.disk.set(pattern(9, 4096), 0);
    const info = await r.front.whenConnected();
    assert.equal(info.readonly, true);
    assert.equal(await r.write(0, new Uint8Array(512)), -XenErrno.EROFS);
    await readBack(r, 0, pattern(9, 4096));
    await r.front.close();
  });

  it("resize: the backend rewrites Connected with new sectors → info and a notice", async () => {
    const r = await Rig.start({ sectors: 1024 });
    await r.front.whenConnected();
    const seen: number[] = [];
    r.front.subscribe((n) => {
      if (n.kind === "resize") seen.push(n.sectors);
    });
    await r.backend.resize(512);
    await waitUntil(() => seen.length === 1, "resize notice");
    assert.deepEqual(seen, [512]);
    assert.equal(r.front.info.sectors, 512);
    assert.equal((await r.read(600, 1)).status, -XenErrno.EIO);
    await r.front.close();
  });

  it("the ring fills: requests queue and all complete", async () => {
    const r = await Rig.start({ sectors: 4096, front: { maxRingPageOrder: 0, maxQueues: 1 } });
    await r.front.whenConnected();
    r.backend.hold = true;
    const all: Promise<number>[] = [];
    for (let i = 0; i < 100; i++) all.push(r.write(i * 8, pattern(i, 4096)));
    await waitUntil(() => r.front.stats.inFlight === 32, "ring full");
    assert.ok(r.front.stats.queued > 0);
    r.backend.release();
    assert.deepEqual(
      await Promise.all(all),
      all.map(() => 0),
    );
    for (let i = 0; i < 100; i += 17) await readBack(r, i * 8, pattern(i, 4096));
    assert.equal(r.front.stats.inFlight, 0);
    await r.front.close();
  });

  it("no kick while the backend has not gone idle (req_event): suppressed notifications counted", async () => {
    const r = await Rig.start({ sectors: 4096, front: { maxQueues: 1 } });
    await r.front.whenConnected();
    const s = r.front.stats;
    r.backend.paused = true;
    const a = r.write(0, pattern(1, 512));
    await waitUntil(() => s.notificationsSent + s.notificationsSuppressed === 1, "first push");
    const sent = s.notificationsSent;
    assert.equal(sent >= 1, true);
    const b = r.write(1, pattern(2, 512));
    const c = r.write(2, pattern(3, 512));
    await waitUntil(() => s.requests === 3, "three requests");
    await new Promise((res) => setTimeout(res, 10));
    assert.equal(s.notificationsSent, sent, "the backend was kicked once; it has not slept since");
    assert.ok(s.notificationsSuppressed >= 1);
    r.backend.resume();
    assert.deepEqual(await Promise.all([a, b, c]), [0, 0, 0]);
    await r.front.close();
  });

  it("a bounded queue: submits beyond maxQueued fail with EBUSY", async () => {
    const r = await Rig.start({ sectors: 4096, front: { maxQueues: 1 }, blkfront: { maxQueued: 32 } });
    await r.front.whenConnected();
    r.backend.hold = true;
    const all: Promise<number>[] = [];
    for (let i = 0; i < 32; i++) all.push(r.write(i, pattern(i, 512)));
    await waitUntil(() => r.front.stats.inFlight === 32, "ring full");
    const extra: Promise<number>[] = [];
    for (let i = 0; i < 34; i++) extra.push(r.write(i, pattern(i, 512)));
    const busy: number[] = [];
    extra.forEach((p, i) => void p.then((st) => st === -XenErrno.EBUSY && busy.push(i)));
    await waitUntil(() => busy.length === 2, "two refused");
    assert.deepEqual(busy, [32, 33]);
    r.backend.release();
    const got = await Promise.all(extra);
    assert.deepEqual(got.slice(0, 32), new Array(32).fill(0));
    await Promise.all(all);
    await r.front.close();
  });

  it("across host processes (no kick suppression): every push kicks, none suppressed", async () => {
    const r = await Rig.start({ sectors: 1024, xc: { kickSuppression: false } });
    await r.front.whenConnected();
    for (let i = 0; i < 10; i++) assert.equal(await r.write(i * 8, pattern(i, 4096)), 0);
    await readBack(r, 8, pattern(1, 4096));
    const s = r.front.stats;
    assert.equal(s.notificationsSuppressed, 0, "never suppressed across hosts");
    assert.ok(s.notificationsSent >= 11, "a kick per push");
    assert.equal(r.xc.sends, s.notificationsSent);
    await r.front.close();
  });

  it("a submit while not yet connected waits for the connection", async () => {
    const r = new Rig({ sectors: 256 });
    const { createVbd } = await import("./testing/host.js");
    r.paths = await createVbd(r.xs, 0, 7, 51712);
    const { Blkfront } = await import("./blkfront.js");
    const { physmapMemory } = await import("./environment.js");
    r.front = await Blkfront.open({
      store: r.guestXs,
      self: 7,
      nodename: r.paths.front,
      hypervisor: r.xc,
      memory: physmapMemory(r.xc, 7, { firstGfn: 0x1000 }),
      events: r.dispatcher,
    });
    const early = r.write(3, pattern(3, 1024));
    await new Promise((res) => setTimeout(res, 20));
    assert.equal(r.front.isConnected, false);
    await r.startBackend();
    assert.equal(await early, 0);
    await readBack(r, 3, pattern(3, 1024));
    await r.front.close();
  });
});
