// The driver run in the test thread (no blkback service) against stores that delay, fail and log,
// so the data path's ordering rules can be observed: out-of-order completion with many requests in
// flight, barrier drain + preflush + FUA, flush, (secure) discard, error mapping, both ABIs,
// persistent grant reuse and its cap.
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { BLKIF_RSP_EOPNOTSUPP, BLKIF_RSP_ERROR, BLKIF_RSP_OKAY, BlkifOp, XenErrno } from "@xensim/abi";
import { BlkbackDriver } from "@xensim/blkback";
import type { BlkifRequest, BlockIo, BlockStore } from "@xensim/blkif";
import { MemoryStore } from "@xensim/blkstore";
import { type Env, type Guest, startEnv } from "./testing/env.js";
import { TestFrontend, type TestFrontendOptions } from "./testing/frontend.js";

interface LogEntry {
  op: BlockIo["op"];
  sector: number;
  nrSectors: number;
  fua: boolean;
  secure: boolean;
  submitted: number;
  done: number;
}

/** A MemoryStore with a volatile cache (flush advertised), random completion delays and an op log. */
class LoggingStore implements BlockStore {
  readonly mem = new MemoryStore({ sizeBytes: 8 * 1024 * 1024 });
  readonly info = { ...this.mem.info, flush: true };
  readonly log: LogEntry[] = [];
  private seq = 0;
  private rnd = 12345;
  /** Max delay in ms (0: synchronous). */
  delayMs = 0;
  /** Fail I/O at or above this sector with this errno. */
  failFrom = Infinity;
  failErrno = -XenErrno.EIO;
  discardErrno = 0;
  submit(io: BlockIo, done: (status: number) => void): void {
    const e: LogEntry = {
      op: io.op,
      sector: io.sector,
      nrSectors: io.nrSectors,
      fua: io.fua === true,
      secure: io.secure === true,
      submitted: this.seq++,
      done: -1,
    };
    this.log.push(e);
    const finish = (): void => {
      e.done = this.seq++;
      if (io.op === "discard" && this.discardErrno !== 0) return done(this.discardErrno);
      if (io.op !== "flush" && io.sector + io.nrSectors > this.failFrom) return done(this.failErrno);
      this.mem.submit(io, done);
    };
    if (this.delayMs === 0) return finish();
    this.rnd = (this.rnd * 1103515245 + 12345) & 0x7fffffff;
    setTimeout(finish, this.rnd % (this.delayMs + 1));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function pattern(bytes: number, seed: number): Uint8Array {
  const a = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) a[i] = (i * 7 + seed * 13 + (i >> 8)) & 0xff;
  return a;
}

describe("blkback driver data path", () => {
  let env: Env;
  let guest: Guest;
  let driver: BlkbackDriver;
  const stores = new Map<string, BlockStore>();
  let gfn = 0x100;
  let ref = 16;
  let seq = 0;

  before(async () => {
    env = await startEnv({ blkback: false });
    guest = await env.guest(32);
    driver = await BlkbackDriver.start({
      store: env.xs,
      hv: env.xc0,
      openStore: async (params) => {
        const s = stores.get(params);
        if (!s) throw new Error(`no store ${params}`);
        return s;
      },
      clock: () => performance.now(),
      maxPersistentGrants: 4,
    });
  });
  after(async () => {
    await driver?.close();
    await env?.close();
  });

  async function device(
    store: BlockStore,
    fe: Partial<TestFrontendOptions> = {},
    vbd: { discardEnable?: boolean } = {},
  ): Promise<{ f: TestFrontend; backendPath: string }> {
    const name = `test:${seq++}`;
    stores.set(name, store);
    const dirs = await env.addVbd({
      frontend: guest.domid,
      vdev: String(51712 + 16 * seq),
      params: name,
      ...(vbd.discardEnable === false ? { discardEnable: false } : {}),
    });
    const order = fe.ringPageOrder ?? 0;
    const queues = fe.queues ?? 1;
    const dataPages = 24;
    const f = await TestFrontend.connect({
      xs: env.xs,
      xc: guest.xc,
      events: guest.events,
      domid: guest.domid,
      frontendPath: dirs.frontendPath,
      backendPath: dirs.backendPath,
      gfnBase: gfn,
      refBase: ref,
      dataPages,
      ...fe,
    });
    gfn += queues * 2 ** order + dataPages;
    ref += queues * 2 ** order + dataPages;
    return { f, backendPath: dirs.backendPath };
  }

  function statsOf(backendPath: string) {
    const d = driver.devices.get(backendPath);
    assert.ok(d, backendPath);
    return d.ringInfos()[0]!.stats;
  }

  it("completes out of order with many requests in flight, each answered exactly once", async () => {
    const store = new LoggingStore();
    store.delayMs = 4;
    const { f, backendPath } = await device(store, { ringPageOrder: 1, persistent: false });
    const n = 64; // the whole 2-page ring
    const all: Promise<number>[] = [];
    for (let i = 0; i < n; i++) {
      f.dataViews[i % 16]!.write(0, pattern(4096, i % 16));
      all.push(f.rw(0, BlkifOp.WRITE, 8 * i, [{ page: i % 16, first: 0, last: 7 }]));
    }
    assert.deepEqual(await Promise.all(all), new Array<number>(n).fill(BLKIF_RSP_OKAY));
    const st = statsOf(backendPath);
    assert.ok(st.maxOutstanding > 1, `max outstanding ${st.maxOutstanding}`);
    assert.ok(st.maxOutstanding <= 64);
    assert.equal(st.outstanding, 0);
    assert.equal(st.responses, st.requests);
    assert.equal(st.notificationsSent + st.notificationsSuppressed, st.responses);
    const writes = store.log.filter((e) => e.op === "write");
    const doneOrder = [...writes].sort((a, b) => a.done - b.done).map((e) => e.sector);
    assert.notDeepEqual(
      doneOrder,
      writes.map((e) => e.sector),
      "completions came in submission order",
    );
    for (let i = 0; i < n; i += 7) {
      const r = await f.read(0, 8 * i, 1);
      assert.deepEqual(r.data, pattern(4096, i % 16), `sector ${8 * i}`);
    }
    f.close();
  });

  it("barrier: drains what is in flight, then a preflush and a FUA write; flush reaches the store", async () => {
    const store = new LoggingStore();
    store.delayMs = 5;
    const { f, backendPath } = await device(store, { ringPageOrder: 0 });
    assert.equal(await env.xs.read(`${backendPath}/feature-barrier`), "1");
    assert.equal(await env.xs.read(`${backendPath}/feature-flush-cache`), "1");
    const before: Promise<number>[] = [];
    for (let i = 0; i < 8; i++) before.push(f.rw(0, BlkifOp.WRITE, 8 * i, [{ page: i, first: 0, last: 7 }]));
    const barrier = f.rw(0, BlkifOp.WRITE_BARRIER, 800, [{ page: 9, first: 0, last: 7 }]);
    assert.deepEqual(await Promise.all([...before, barrier]), new Array<number>(9).fill(BLKIF_RSP_OKAY));
    const bw = store.log.find((e) => e.op === "write" && e.sector === 800)!;
    assert.equal(bw.fua, true);
    const flush = store.log[store.log.indexOf(bw) - 1]!;
    assert.equal(flush.op, "flush");
    for (const e of store.log.filter((x) => x.op === "write" && x.sector < 800))
      assert.ok(e.done < flush.submitted, `write at ${e.sector} done before the barrier's flush`);
    // A data-less barrier and a flush are flushes.
    const n0 = store.log.length;
    assert.equal(await f.submit(0, (r) => (r.operation = BlkifOp.WRITE_BARRIER)), BLKIF_RSP_OKAY);
    assert.equal(await f.submit(0, (r) => (r.operation = BlkifOp.FLUSH_DISKCACHE)), BLKIF_RSP_OKAY);
    assert.deepEqual(
      store.log.slice(n0).map((e) => e.op),
      ["flush", "flush"],
    );
    f.close();
  });

  it("discard zeroes, a secure discard is passed on, store errors map to BLKIF_RSP_*", async () => {
    const store = new LoggingStore();
    const { f, backendPath } = await device(store);
    assert.equal(await env.xs.read(`${backendPath}/feature-discard`), "1");
    assert.equal(await env.xs.read(`${backendPath}/discard-secure`), "1");
    assert.equal(await f.write(0, 16, pattern(4096, 3)), BLKIF_RSP_OKAY);
    const discard = (secure: boolean) =>
      f.submit(0, (r) => {
        r.operation = BlkifOp.DISCARD;
        r.sectorLo = 16;
        r.nrSectorsLo = 8;
        r.flag = secure ? 1 : 0;
      });
    assert.equal(await discard(false), BLKIF_RSP_OKAY);
    assert.deepEqual((await f.read(0, 16, 1)).data, new Uint8Array(4096));
    assert.equal(await discard(true), BLKIF_RSP_OKAY);
    assert.deepEqual(
      store.log.filter((e) => e.op === "discard").map((e) => e.secure),
      [false, true],
    );
    store.discardErrno = -XenErrno.EOPNOTSUPP;
    assert.equal(await discard(false), BLKIF_RSP_EOPNOTSUPP);
    store.failFrom = 1000;
    assert.equal(await f.write(0, 996, pattern(4096, 4)), BLKIF_RSP_ERROR);
    assert.equal((await f.read(0, 2000, 1)).status, BLKIF_RSP_ERROR);
    assert.equal(await f.write(0, 0, pattern(4096, 5)), BLKIF_RSP_OKAY);
    const st = statsOf(backendPath);
    assert.equal(st.errors, 3);
    f.close();
  });

  it("discard-enable=0 from the toolstack: no feature-discard, DISCARD answered EOPNOTSUPP", async () => {
    const { f, backendPath } = await device(new LoggingStore(), {}, { discardEnable: false });
    assert.equal(await env.xs.tryRead(`${backendPath}/feature-discard`), undefined);
    assert.equal(await env.xs.tryRead(`${backendPath}/discard-granularity`), undefined);
    const st = await f.submit(0, (r) => {
      r.operation = BlkifOp.DISCARD;
      r.sectorLo = 0;
      r.nrSectorsLo = 8;
    });
    assert.equal(st, BLKIF_RSP_EOPNOTSUPP);
    f.close();
  });

  for (const [what, fe] of [
    ["x86_32-abi", { abi: "x86_32" }],
    ["no protocol key (x86_32 assumed)", { abi: "x86_32", noProtocolKey: true }],
    ["x86_32-abi, 64 pages, indirect", { abi: "x86_32", ringPageOrder: 6 }],
  ] as const) {
    it(`serves ${what}`, async () => {
      const { f } = await device(new LoggingStore(), fe);
      const data = pattern(16 * 4096, 7);
      assert.equal(await f.write(0, 40, data.subarray(0, 4 * 4096)), BLKIF_RSP_OKAY);
      assert.deepEqual((await f.read(0, 40, 4)).data, data.subarray(0, 4 * 4096));
      assert.equal(await f.write(0, 400, data, { indirect: true }), BLKIF_RSP_OKAY);
      assert.deepEqual((await f.read(0, 400, 16, { indirect: true })).data, data);
      f.close();
    });
  }

  it("reuses persistent grants and keeps no more than the cap", async () => {
    const { f, backendPath } = await device(new LoggingStore(), { persistent: true });
    const data = pattern(8 * 4096, 9);
    assert.equal(await f.write(0, 0, data), BLKIF_RSP_OKAY);
    const st = statsOf(backendPath);
    const mapped = st.grantsMapped;
    assert.equal(st.persistentGrants, 4);
    assert.equal(await f.write(0, 0, data), BLKIF_RSP_OKAY);
    assert.deepEqual((await f.read(0, 0, 8)).data, data);
    assert.ok(st.persistentHits >= 8, `hits ${st.persistentHits}`);
    // Beyond the cap the pages are mapped per request: 4 of 8 again, twice.
    assert.equal(st.grantsMapped - mapped, 8);
    assert.equal(st.persistentGrants, 4);
    f.close();
  });
  it("property: random batches of concurrent writes, bad requests and reads match a model disk", async () => {
    const store = new LoggingStore();
    store.delayMs = 2;
    const { f, backendPath } = await device(store, { ringPageOrder: 2, persistent: true });
    const SLOTS = 64; // 4 KiB slots at the start of the disk
    const model = new Uint8Array(SLOTS * 4096);
    const bad = fc.constantFrom(
      { name: "nr_segments 0", want: BLKIF_RSP_ERROR, fill: (r: BlkifRequest) => void (r.nrSegments = 0) },
      { name: "unknown op", want: BLKIF_RSP_EOPNOTSUPP, fill: (r: BlkifRequest) => void (r.operation = 9) },
      {
        name: "last < first",
        want: BLKIF_RSP_ERROR,
        fill: (r: BlkifRequest) => {
          r.operation = BlkifOp.WRITE;
          r.nrSegments = 1;
          r.segments[0]!.gref = f.dataRefs[23]!;
          r.segments[0]!.firstSect = 6;
          r.segments[0]!.lastSect = 1;
        },
      },
      {
        name: "ungranted ref",
        want: BLKIF_RSP_ERROR,
        fill: (r: BlkifRequest) => {
          r.operation = BlkifOp.WRITE;
          r.nrSegments = 1;
          r.segments[0]!.gref = 9000;
          r.segments[0]!.lastSect = 7;
        },
      },
    );
    const batch = fc.record({
      writes: fc.uniqueArray(fc.record({ slot: fc.nat(SLOTS - 1), seed: fc.nat(255) }), {
        minLength: 0,
        maxLength: 8,
        selector: (w) => w.slot,
      }),
      bad: fc.array(bad, { maxLength: 3 }),
      reads: fc.array(fc.nat(SLOTS - 1), { minLength: 1, maxLength: 8 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(batch, { minLength: 1, maxLength: 6 }), async (batches) => {
        for (const b of batches) {
          const ops: Promise<[string, number, number]>[] = [];
          b.writes.forEach((w, i) => {
            const data = pattern(4096, w.seed);
            f.dataViews[i]!.write(0, data);
            model.set(data, w.slot * 4096);
            ops.push(
              f
                .rw(0, BlkifOp.WRITE, w.slot * 8, [{ page: i, first: 0, last: 7 }])
                .then((st) => ["write", st, BLKIF_RSP_OKAY]),
            );
          });
          for (const x of b.bad) ops.push(f.submit(0, x.fill).then((st) => [x.name, st, x.want]));
          for (const [what, got, want] of await Promise.all(ops)) assert.equal(got, want, what);
          const reads = b.reads.map((slot, i) =>
            f.rw(0, BlkifOp.READ, slot * 8, [{ page: 8 + i, first: 0, last: 7 }]).then((st) => {
              assert.equal(st, BLKIF_RSP_OKAY);
              assert.deepEqual(
                f.dataViews[8 + i]!.read(0, 4096),
                model.subarray(slot * 4096, (slot + 1) * 4096),
              );
            }),
          );
          await Promise.all(reads);
        }
        const st = statsOf(backendPath);
        assert.equal(st.outstanding, 0);
        assert.equal(st.responses, st.requests);
      }),
      { numRuns: 25 },
    );
    f.close();
  });
});
