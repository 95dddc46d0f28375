import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BlockIo, BlockStore } from "@xensim/blkif";
import { MemoryStore, NullStore } from "@xensim/blkstore";
import fc from "fast-check";
import {
  checkVerifyBlock,
  crc32c,
  fillVerifyBlock,
  JobSpecError,
  LatencyHistogram,
  runJob,
  type JobEnv,
  type JobLedger,
} from "./index.js";

const env: JobEnv = {
  nowNs: () => Number(process.hrtime.bigint()),
  defer: (fn) => setImmediate(fn),
};

/** Completes every I/O on a later turn through `inner`, and records the concurrency it saw. */
class AsyncStore implements BlockStore {
  inflight = 0;
  maxInflight = 0;
  constructor(
    readonly inner: BlockStore,
    private readonly mangle?: (io: BlockIo) => "drop" | "ok",
  ) {}
  get info() {
    return this.inner.info;
  }
  submit(io: BlockIo, done: (status: number) => void): void {
    this.inflight++;
    this.maxInflight = Math.max(this.maxInflight, this.inflight);
    setImmediate(() => {
      const finish = (st: number) => {
        this.inflight--;
        done(st);
      };
      if (this.mangle?.(io) === "drop")
        finish(0); // acknowledged, never written: a lost write
      else this.inner.submit(io, finish);
    });
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

describe("LatencyHistogram", () => {
  it("percentiles are within 1/32 of the exact order statistic", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5e9 }), { minLength: 1, maxLength: 400 }), (xs) => {
        const h = new LatencyHistogram();
        for (const x of xs) h.record(x);
        const sorted = [...xs].sort((a, b) => a - b);
        for (const p of [1, 50, 90, 99, 99.9, 100]) {
          const exact = sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
          const got = h.percentile(p);
          assert.ok(got >= exact && got <= exact + exact / 32 + 1, `p${p}: ${got} vs ${exact}`);
        }
        assert.equal(h.min, sorted[0]);
        assert.equal(h.max, sorted[sorted.length - 1]);
      }),
    );
  });
  it("gives fio's percentile keys", () => {
    const h = new LatencyHistogram();
    h.record(1000);
    const p = h.fioPercentiles();
    assert.ok("99.900000" in p && "50.000000" in p && "99.990000" in p);
    assert.equal(p["50.000000"], 1000);
  });
});

describe("verify blocks", () => {
  it("crc32c of the standard check string", () => {
    assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe306_9283);
  });
  it("round trip, and every kind of damage is told apart", () => {
    const b = new Uint8Array(4096);
    fillVerifyBlock(b, 8192, 3, 7);
    assert.deepEqual(checkVerifyBlock(b, 8192, 7), { ok: true, generation: 3 });
    assert.deepEqual(checkVerifyBlock(b, 4096, 7), { ok: false, reason: "wrong_offset" });
    assert.deepEqual(checkVerifyBlock(b, 8192, 8), { ok: false, reason: "wrong_seed" });
    const c = b.slice();
    c[100]! ^= 1;
    assert.deepEqual(checkVerifyBlock(c, 8192, 7), { ok: false, reason: "bad_crc" });
    assert.deepEqual(checkVerifyBlock(new Uint8Array(4096), 0, 7), { ok: false, reason: "bad_magic" });
    const d = new Uint8Array(4096);
    fillVerifyBlock(d, 8192, 4, 7);
    assert.notDeepEqual(d, b, "another generation has other contents");
  });
});

describe("runJob", () => {
  it("refuses a job that cannot run, before any I/O", () => {
    const s = new NullStore({ sizeBytes: 1 << 20 });
    assert.throws(() => runJob(s, { rw: "randread", bs: 1000, iodepth: 1, ioLimit: 1 }, env), JobSpecError);
    assert.throws(() => runJob(s, { rw: "randread", bs: 4096, iodepth: 0, ioLimit: 1 }, env), JobSpecError);
    assert.throws(() => runJob(s, { rw: "randread", bs: 4096, iodepth: 1 }, env), /must end/);
    assert.throws(
      () => runJob(s, { rw: "randread", bs: 4096, iodepth: 1, ioLimit: 1, size: 2 << 20 }, env),
      /does not fit/,
    );
  });

  it("keeps exactly iodepth I/Os in flight and counts every I/O", async () => {
    const s = new AsyncStore(new MemoryStore({ sizeBytes: 4 << 20 }));
    const r = await runJob(s, { rw: "randrw", bs: 4096, iodepth: 16, ioLimit: 3000, seed: 5 }, env);
    assert.equal(s.maxInflight, 16);
    assert.equal(r.read.total_ios + r.write.total_ios, 3000);
    assert.ok(r.read.total_ios > 1000 && r.write.total_ios > 1000, "a 50/50 mix");
    assert.equal(r.error, 0);
    assert.ok(r.avg_outstanding > 12 && r.avg_outstanding <= 16, `avg outstanding ${r.avg_outstanding}`);
    assert.equal(r.read.io_bytes, r.read.total_ios * 4096);
    assert.ok(r.read.clat_ns.percentile["99.000000"]! >= r.read.clat_ns.percentile["50.000000"]!);
  });

  it("verify=crc32c: a clean store passes, reads of written blocks and the verify phase are checked", async () => {
    const s = new AsyncStore(new MemoryStore({ sizeBytes: 1 << 20 }));
    const r = await runJob(
      s,
      { rw: "randrw", bs: 4096, iodepth: 8, ioLimit: 4000, verify: "crc32c", seed: 9 },
      env,
    );
    assert.equal(r.verify.failures_total, 0, JSON.stringify(r.verify.failures));
    // every one of the 256 blocks is written at some point; each is read back at the end at least
    assert.ok(r.verify.blocks_checked >= 256, `checked ${r.verify.blocks_checked}`);
  });

  it("verify=crc32c catches a store that acknowledges writes it never made", async () => {
    let n = 0;
    const s = new AsyncStore(new MemoryStore({ sizeBytes: 1 << 20 }), (io) =>
      io.op === "write" && ++n % 50 === 0 ? "drop" : "ok",
    );
    const r = await runJob(
      s,
      { rw: "randwrite", bs: 4096, iodepth: 4, ioLimit: 1000, verify: "crc32c" },
      env,
    );
    assert.ok(r.verify.failures_total > 0);
    assert.ok(r.verify.failures.every((f) => f.reason === "stale" || f.reason === "bad_magic"));
  });

  it("errors are counted by status, not fatal", async () => {
    const s: BlockStore = {
      info: new NullStore({ sizeBytes: 1 << 20 }).info,
      submit: (io, done) => done(io.op === "write" ? -5 : 0),
      close: async () => {},
    };
    const r = await runJob(s, { rw: "randrw", bs: 4096, iodepth: 4, ioLimit: 400 }, env);
    assert.equal(r.error, r.errors_by_status["-5"]);
    assert.ok(r.error > 100);
    assert.equal(r.write.total_ios, 0);
  });

  it("a synchronous store (null) runs a time-based job without starving the event loop", async () => {
    const s = new NullStore({ sizeBytes: 64 << 20 });
    let ticks = 0;
    const t = setInterval(() => ticks++, 5);
    const r = await runJob(s, { rw: "randread", bs: 4096, iodepth: 32, runtimeMs: 200 }, env);
    clearInterval(t);
    // Behaviour, not speed: timers got turns while the job ran, I/O completed, and the job ended
    // at its runtime rather than running on (a loaded machine stretches both, so the bounds are wide).
    assert.ok(ticks >= 2, `timers ran ${ticks} times during the job`);
    assert.ok(r.read.total_ios > 0, `null store completed ${r.read.total_ios} I/Os`);
    assert.ok(r.job_runtime >= 190 && r.job_runtime < 5000, `runtime ${r.job_runtime}`);
  });
});

describe("write ledger under failed writes", () => {
  /** Every 7th write reaches the store (whole, or all but its last sector) and then fails with EIO. */
  class FailingAfterWrite implements BlockStore {
    n = 0;
    constructor(readonly inner: BlockStore) {}
    get info() {
      return this.inner.info;
    }
    submit(io: BlockIo, done: (status: number) => void): void {
      setImmediate(() => {
        if (io.op !== "write" || ++this.n % 7 !== 0) return this.inner.submit(io, done);
        const torn = this.n % 14 === 0;
        const part: BlockIo = torn ? { ...io, nrSectors: io.nrSectors - 1 } : io;
        this.inner.submit(part, () => done(-5));
      });
    }
    close(): Promise<void> {
      return this.inner.close();
    }
  }

  it("a failed (or torn) write is indeterminate, not lost: no verify failure, counted apart", async () => {
    const s = new FailingAfterWrite(new MemoryStore({ sizeBytes: 1 << 20 }));
    const r = await runJob(
      s,
      { rw: "randrw", bs: 4096, iodepth: 8, ioLimit: 3000, verify: "crc32c", seed: 3 },
      env,
    );
    assert.ok(r.error > 100, `writes failed: ${r.error}`);
    assert.equal(r.verify.failures_total, 0, JSON.stringify(r.verify.failures.slice(0, 3)));
    assert.ok(r.verify.indeterminate_blocks > 0, "some blocks end with a failed write");
    assert.ok(r.verify.acknowledged_blocks > 100, `acknowledged ${r.verify.acknowledged_blocks}`);
    assert.equal(r.verify.acknowledged_blocks + r.verify.indeterminate_blocks <= 256, true);
  });

  it("a later job takes over the ledger: the earlier job's acknowledged writes are read back, a lost one is caught", async () => {
    const disk = new MemoryStore({ sizeBytes: 1 << 20 });
    let snapshot: (() => JobLedger) | undefined;
    const first = await runJob(
      new AsyncStore(disk),
      { rw: "randwrite", bs: 4096, iodepth: 8, ioLimit: 300, verify: "crc32c", seed: 3 },
      env,
      { expose: (s) => (snapshot = s) },
    );
    const ledger = snapshot!();
    assert.equal(ledger.acknowledged.length, first.verify.acknowledged_blocks);
    assert.ok(ledger.acknowledged.length > 50);
    // The next kernel's job (same disk, same seed) reads back what the first acknowledged.
    const next = await runJob(
      new AsyncStore(disk),
      { rw: "randread", bs: 4096, iodepth: 8, ioLimit: 10, verify: "crc32c", seed: 3 },
      env,
      { ledger },
    );
    assert.equal(next.verify.failures_total, 0, JSON.stringify(next.verify.failures));
    assert.ok(next.verify.blocks_checked >= ledger.acknowledged.length);
    assert.equal(
      next.verify.carried_blocks_verified,
      ledger.acknowledged.length,
      "a reading job rewrites none",
    );
    // A block the disk lost (zeroed behind the job's back) is caught by the next job.
    const [block] = ledger.acknowledged[0]!;
    await new Promise<void>((resolve) =>
      disk.submit(
        { op: "write", sector: (block * 4096) / 512, nrSectors: 8, segs: [new Uint8Array(4096)] },
        () => resolve(),
      ),
    );
    const caught = await runJob(
      new AsyncStore(disk),
      { rw: "randread", bs: 4096, iodepth: 1, ioLimit: 1, verify: "crc32c", seed: 3 },
      env,
      { ledger },
    );
    assert.ok(caught.verify.failures_total >= 1, "the lost write is reported");
  });

  it("a snapshot taken with writes in flight counts their blocks as indeterminate, not acknowledged", async () => {
    const held: Array<() => void> = [];
    const disk = new MemoryStore({ sizeBytes: 1 << 20 });
    const slow: BlockStore = {
      get info() {
        return disk.info;
      },
      submit: (io, done) => held.push(() => disk.submit(io, done)),
      close: async () => {},
    };
    let snapshot: (() => JobLedger) | undefined;
    const run = runJob(slow, { rw: "randwrite", bs: 4096, iodepth: 4, ioLimit: 4, verify: "crc32c" }, env, {
      expose: (s) => (snapshot = s),
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(held.length, 4);
    const l = snapshot!();
    assert.equal(l.acknowledged.length, 0);
    assert.equal(l.indeterminate.length, 4);
    for (const f of held.splice(0)) f();
    await new Promise((r) => setTimeout(r, 10));
    for (const f of held.splice(0)) f(); // the verify phase's reads
    const r = await run;
    assert.equal(r.verify.failures_total, 0);
    assert.equal(snapshot!().acknowledged.length, 4);
  });
});
