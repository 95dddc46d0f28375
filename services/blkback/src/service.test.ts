// End to end: hypervisor + xenstored + blkback in one host process, a guest domain with libxl-style
// vbd directories, and a hand-driven frontend in the guest doing I/O through the rings.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { BLKIF_RSP_EOPNOTSUPP, BLKIF_RSP_ERROR, BLKIF_RSP_OKAY, BlkifOp, XenbusState } from "@xensim/abi";
import { type Env, type Guest, startEnv } from "./testing/env.js";
import { TestFrontend } from "./testing/frontend.js";

function pattern(bytes: number, seed: number): Uint8Array {
  const a = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) a[i] = (i * 31 + seed * 7 + (i >> 9)) & 0xff;
  return a;
}

describe("blkback service", () => {
  let env: Env;
  let guest: Guest;
  let gfn = 0x100;
  let ref = 16;
  let devSeq = 0;

  before(async () => {
    env = await startEnv();
    guest = await env.guest(32);
  });
  after(async () => {
    await env?.close();
  });

  async function device(
    fe: Partial<Parameters<typeof TestFrontend.connect>[0]> = {},
    vbd: { params?: string; mode?: "r" | "w" } = {},
    waitConnected = true,
  ): Promise<{ f: TestFrontend; backendPath: string; frontendPath: string }> {
    const devid = 51712 + 16 * devSeq++;
    const dirs = await env.addVbd({
      frontend: guest.domid,
      vdev: String(devid),
      params: vbd.params ?? "memory:size=4M",
      ...(vbd.mode ? { mode: vbd.mode } : {}),
    });
    const order = fe.ringPageOrder ?? 0;
    const queues = fe.queues ?? 1;
    const dataPages = fe.dataPages ?? 24;
    const f = await TestFrontend.connect(
      {
        xs: env.xs,
        xc: guest.xc,
        events: guest.events,
        domid: guest.domid,
        frontendPath: dirs.frontendPath,
        backendPath: dirs.backendPath,
        gfnBase: gfn,
        refBase: ref,
        ...fe,
        dataPages,
      },
      waitConnected,
    );
    gfn += queues * 2 ** order + dataPages;
    ref += queues * 2 ** order + dataPages;
    return { f, backendPath: dirs.backendPath, frontendPath: dirs.frontendPath };
  }

  it("connects, writes and reads back, and exports per-ring metrics", async () => {
    const { f, backendPath } = await device();
    assert.equal(await env.xs.read(`${backendPath}/state`), String(XenbusState.Connected));
    assert.equal(await env.xs.read(`${backendPath}/sectors`), String((4 * 1024 * 1024) / 512));
    assert.equal(await env.xs.read(`${backendPath}/max-ring-page-order`), "6");
    const data = pattern(8 * 4096, 1);
    assert.equal(await f.write(0, 64, data), BLKIF_RSP_OKAY);
    const r = await f.read(0, 64, 8);
    assert.equal(r.status, BLKIF_RSP_OKAY);
    assert.deepEqual(r.data, data);
    const m = (await env.host.metrics()).body;
    assert.match(m, /blkback_io_completed_total\{[^}]*domid="\d+"[^}]*\} [1-9]/);
    assert.match(m, /blkback_notifications_sent_total\{[^}]*\} [1-9]/);
    assert.match(m, /blkback_io_latency_seconds_count\{[^}]*\} [1-9]/);
    assert.match(m, /blkback_ring_outstanding_requests\{[^}]*\} 0/);
    f.close();
  });
  it("answers a malicious frontend per request and keeps other devices served", async () => {
    const { f: bad, backendPath: badBack } = await device();
    const { f: good } = await device();
    const { f: ro } = await device({}, { mode: "r" });
    const sectors = (4 * 1024 * 1024) / 512;
    let round = 0;
    const control = async (what: string): Promise<void> => {
      const data = pattern(4096, ++round);
      assert.equal(await good.write(0, round * 8, data), BLKIF_RSP_OKAY, `control write after ${what}`);
      const r = await good.read(0, round * 8, 1);
      assert.deepEqual(r.data, data, `control read after ${what}`);
    };
    // A grant for another domain (dom0 may not map it) and a ref never granted.
    const foreignRef = 8000;
    const other = await env.xc0.domainCreate({ memoryMib: 1 });
    assert.equal(other.rc, 0);
    assert.equal(await guest.xc.gnttabGrantAccess(foreignRef, other.domid, 0x50, false), 0);
    const table: [string, () => Promise<number>, number][] = [
      [
        "nr_segments 0",
        () => bad.submit(0, (r) => ((r.operation = BlkifOp.READ), (r.nrSegments = 0))),
        BLKIF_RSP_ERROR,
      ],
      [
        "nr_segments 12 (direct)",
        () =>
          bad.submit(0, (r) => {
            r.operation = BlkifOp.READ;
            r.nrSegments = 12;
            for (const s of r.segments) {
              s.gref = bad.dataRefs[0]!;
              s.firstSect = 0;
              s.lastSect = 7;
            }
          }),
        BLKIF_RSP_ERROR,
      ],
      [
        "last_sect < first_sect",
        () => bad.rw(0, BlkifOp.READ, 0, [{ page: 0, first: 5, last: 2 }]),
        BLKIF_RSP_ERROR,
      ],
      ["last_sect 8", () => bad.rw(0, BlkifOp.READ, 0, [{ page: 0, first: 0, last: 8 }]), BLKIF_RSP_ERROR],
      [
        "ungranted ref",
        () => bad.rw(0, BlkifOp.READ, 0, [{ gref: 7999, first: 0, last: 7 }]),
        BLKIF_RSP_ERROR,
      ],
      [
        "foreign ref",
        () => bad.rw(0, BlkifOp.WRITE, 0, [{ gref: foreignRef, first: 0, last: 7 }]),
        BLKIF_RSP_ERROR,
      ],
      [
        "ref out of the table",
        () => bad.rw(0, BlkifOp.READ, 0, [{ gref: 0x7fffffff, first: 0, last: 7 }]),
        BLKIF_RSP_ERROR,
      ],
      [
        "good and bad refs in one request",
        () =>
          bad.rw(0, BlkifOp.READ, 0, [
            { page: 0, first: 0, last: 7 },
            { gref: 7999, first: 0, last: 7 },
          ]),
        BLKIF_RSP_ERROR,
      ],
      [
        "sectors past the end",
        () => bad.rw(0, BlkifOp.WRITE, sectors - 4, [{ page: 0, first: 0, last: 7 }]),
        BLKIF_RSP_ERROR,
      ],
      [
        "sector far past the end",
        () => bad.rw(0, BlkifOp.READ, 2 ** 40, [{ page: 0, first: 0, last: 7 }]),
        BLKIF_RSP_ERROR,
      ],
      ["unknown operation 7", () => bad.submit(0, (r) => (r.operation = 7)), BLKIF_RSP_EOPNOTSUPP],
      ["reserved operation 4", () => bad.submit(0, (r) => (r.operation = 4)), BLKIF_RSP_EOPNOTSUPP],
      [
        "flush without feature-flush-cache",
        () => bad.submit(0, (r) => (r.operation = BlkifOp.FLUSH_DISKCACHE)),
        BLKIF_RSP_EOPNOTSUPP,
      ],
      [
        "indirect with 0 segments",
        () => bad.submit(0, (r) => ((r.operation = BlkifOp.INDIRECT), (r.indirectOp = BlkifOp.READ))),
        BLKIF_RSP_ERROR,
      ],
      [
        "indirect over the advertised maximum",
        () =>
          bad.submit(0, (r) => {
            r.operation = BlkifOp.INDIRECT;
            r.indirectOp = BlkifOp.READ;
            r.nrSegments = 257;
          }),
        BLKIF_RSP_ERROR,
      ],
      [
        "indirect with a bad indirect page ref",
        () =>
          bad.submit(0, (r) => {
            r.operation = BlkifOp.INDIRECT;
            r.indirectOp = BlkifOp.READ;
            r.nrSegments = 20;
            r.indirectGrefs[0] = 7999;
          }),
        BLKIF_RSP_ERROR,
      ],
      ["write to a read-only vbd", () => ro.write(0, 0, pattern(4096, 9)), BLKIF_RSP_ERROR],
      ["read from a read-only vbd", async () => (await ro.read(0, 0, 1)).status, BLKIF_RSP_OKAY],
    ];
    for (const [what, run, want] of table) {
      assert.equal(await run(), want, what);
      await control(what);
    }
    // Still serving well-formed requests on the abused ring.
    assert.equal(await bad.write(0, 8, pattern(4096, 77)), BLKIF_RSP_OKAY);
    assert.deepEqual((await bad.read(0, 8, 1)).data, pattern(4096, 77));

    // req_prod overflow: that ring halts, the error node is written, the device goes Closing.
    bad.overflow(0);
    await bad.waitBackend([XenbusState.Closing]);
    const errNode = `/local/domain/0/error/${badBack.slice("/local/domain/0/".length)}/error`;
    assert.match((await env.xs.read(errNode)) ?? "", /^13 .*req_prod overflow/);
    await control("req_prod overflow");
    const h = await env.host.health();
    assert.equal(h.status, "ok");
    bad.close();
    good.close();
    ro.close();
  });

  it("refuses a bogus ring-page-order or queue count with the error node and Closing", async () => {
    const { f: good } = await device();
    for (const [what, fe, errno] of [
      ["ring-page-order 7 > max 6", { extraKeys: { "ring-page-order": "7" }, forceOrderKey: true }, 22],
      ["multi-queue-num-queues 9 > max 4", { extraKeys: { "multi-queue-num-queues": "9" } }, 38],
      ["multi-queue-num-queues 0", { extraKeys: { "multi-queue-num-queues": "0" } }, 38],
      ["unknown protocol", { extraKeys: { protocol: "arm-abi" } }, 38],
      ["ring-ref not granted", { extraKeys: { "ring-ref": "9999" } }, undefined],
      ["event-channel not ours", { extraKeys: { "event-channel": "4000" } }, undefined],
      ["ring-ref not a number", { extraKeys: { "ring-ref": "12x" } }, undefined],
    ] as const) {
      const { f, backendPath } = await device(fe, {}, false);
      assert.equal(await f.waitBackend([XenbusState.Closing]), XenbusState.Closing, what);
      const errNode = `/local/domain/0/error/${backendPath.slice("/local/domain/0/".length)}/error`;
      assert.match((await env.xs.read(errNode)) ?? "", new RegExp(`^${errno ?? "\\d+"} `), what);
      const data = pattern(4096, errno ?? 1);
      assert.equal(await good.write(0, 0, data), BLKIF_RSP_OKAY, what);
      assert.deepEqual((await good.read(0, 0, 1)).data, data, what);
      f.close();
    }
    good.close();
  });
  it("serves every feature combination with read-after-write data checks", async () => {
    const combos: string[] = [];
    for (const order of [0, 1, 6])
      for (const queues of [1, 4])
        for (const persistent of [false, true])
          for (const indirect of [false, true]) {
            const what = `pages ${2 ** order}, queues ${queues}, persistent ${persistent}, indirect ${indirect}`;
            const { f, backendPath } = await device({
              ringPageOrder: order,
              queues,
              persistent,
              dataPages: 20,
            });
            assert.equal(
              await env.xs.read(`${backendPath}/feature-persistent`),
              persistent ? "1" : "0",
              what,
            );
            // Each queue: a batch of concurrent writes, then reads of the same sectors.
            for (let q = 0; q < queues; q++) {
              const pages = indirect ? 16 : 4; // 16 segments > 11: only indirect can carry them
              const data = pattern(
                pages * 4096,
                order * 100 + q * 10 + (persistent ? 1 : 0) + (indirect ? 2 : 0),
              );
              const sector = 1024 * q;
              assert.equal(
                await f.write(q, sector, data, { indirect }),
                BLKIF_RSP_OKAY,
                `${what} write q${q}`,
              );
              const r = await f.read(q, sector, pages, { indirect });
              assert.equal(r.status, BLKIF_RSP_OKAY, `${what} read q${q}`);
              assert.deepEqual(r.data, data, `${what} data q${q}`);
            }
            // Fill the ring: more requests in flight than one page holds (single-sector requests).
            const n = Math.min(f.rings[0]!.size, 96);
            const writes: Promise<number>[] = [];
            for (let i = 0; i < n; i++)
              writes.push(f.rw(0, BlkifOp.WRITE, 4096 + i, [{ page: i % 16, first: 0, last: 0 }]));
            assert.deepEqual(await Promise.all(writes), new Array<number>(n).fill(BLKIF_RSP_OKAY), what);
            f.close();
            combos.push(what);
          }
    assert.equal(combos.length, 24);
    const m = (await env.host.metrics()).body;
    assert.match(m, /blkback_ring_persistent_grants\{[^}]*\} [1-9]/);
  });
  it("closes: frontend Closing/Closed → backend Closed, every grant unmapped; online=0 unregisters", async () => {
    const { f, backendPath, frontendPath } = await device({ ringPageOrder: 2, queues: 4, persistent: true });
    for (let q = 0; q < 4; q++) assert.equal(await f.write(q, q * 8, pattern(4096, q)), BLKIF_RSP_OKAY);
    await f.setState(XenbusState.Closing);
    await f.waitBackend([XenbusState.Closing]);
    await f.setState(XenbusState.Closed);
    await f.waitBackend([XenbusState.Closed]);
    // Nothing of ours stays mapped: the frontend can end access to every ring and data page.
    for (const refs of f.ringRefs)
      for (const r of refs) assert.equal(await guest.xc.gnttabEndAccess(r), true, `ring ref ${r}`);
    for (const r of f.dataRefs) assert.equal(await guest.xc.gnttabEndAccess(r), true, `data ref ${r}`);
    // The toolstack takes the device away: online=0 with the frontend Closed → unregistered.
    await env.xs.write(`${backendPath}/online`, "0");
    await env.xs.rm(backendPath);
    await env.xs.rm(frontendPath);
    f.close();
    const m = (await env.host.metrics()).body;
    assert.match(m, /blkback_notifications_(sent|suppressed)_total/);
  });
  it("online=0 while connected: backend Closing but still serving until the frontend closes", async () => {
    const { f, backendPath } = await device({ ringPageOrder: 1 });
    assert.equal(await f.write(0, 0, pattern(4096, 1)), BLKIF_RSP_OKAY);
    await env.xs.write(`${backendPath}/online`, "0");
    await f.waitBackend([XenbusState.Closing]);
    // Linux keeps the ring going until the frontend has closed its side.
    assert.equal(await f.write(0, 8, pattern(4096, 2)), BLKIF_RSP_OKAY);
    assert.deepEqual((await f.read(0, 8, 1)).data, pattern(4096, 2));
    await f.setState(XenbusState.Closed);
    await f.waitBackend([XenbusState.Closed]);
    for (const refs of f.ringRefs)
      for (const r of refs) assert.equal(await guest.xc.gnttabEndAccess(r), true);
    f.close();
  });

  it("exports one series per queue", async () => {
    const { f } = await device({ queues: 4 });
    for (let q = 0; q < 4; q++) assert.equal(await f.write(q, q * 8, pattern(4096, q)), BLKIF_RSP_OKAY);
    const m = (await env.host.metrics()).body;
    const devid = /device\/vbd\/(\d+)$/.exec(f.options.frontendPath)![1]!;
    for (let q = 0; q < 4; q++)
      assert.match(
        m,
        new RegExp(`blkback_io_completed_total\\{[^}]*devid="${devid}"[^}]*queue="${q}"[^}]*\\} 1\\b`),
        `queue ${q}`,
      );
    f.close();
  });
  it("reconnects: Closed → Initialising → new rings → Connected, I/O on the new rings", async () => {
    const first = await device({ ringPageOrder: 1, queues: 2 });
    assert.equal(await first.f.write(1, 0, pattern(4096, 5)), BLKIF_RSP_OKAY);
    await first.f.setState(XenbusState.Closing);
    await first.f.setState(XenbusState.Closed);
    await first.f.waitBackend([XenbusState.Closed]);
    first.f.close();
    // The frontend takes its old transport keys away before offering new ones.
    const keep = new Set(["backend", "backend-id", "state", "virtual-device", "device-type"]);
    for (const k of await env.xs.ls(first.frontendPath))
      if (!keep.has(k)) await env.xs.rm(`${first.frontendPath}/${k}`);
    await first.f.setState(XenbusState.Initialising);
    await first.f.waitBackend([XenbusState.InitWait]);
    // A new frontend instance on the same device, new pages and refs (as blkfront_resume).
    const f2 = await TestFrontend.connect({
      xs: env.xs,
      xc: guest.xc,
      events: guest.events,
      domid: guest.domid,
      frontendPath: first.frontendPath,
      backendPath: first.backendPath,
      gfnBase: gfn,
      refBase: ref,
      ringPageOrder: 2,
      queues: 1,
      dataPages: 4,
    });
    gfn += 8;
    ref += 8;
    assert.deepEqual((await f2.read(0, 0, 1)).data, pattern(4096, 5));
    assert.equal(await f2.write(0, 8, pattern(4096, 6)), BLKIF_RSP_OKAY);
    assert.deepEqual((await f2.read(0, 8, 1)).data, pattern(4096, 6));
    f2.close();
  });
});
