import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import fc from "fast-check";
import { submitIo, type BlockIo, type BlockStore } from "@xensim/blkif";
import { XenErrno } from "@xensim/abi";
import {
  ARRAY_PROFILES,
  EventQueue,
  FaultStore,
  MemoryStore,
  ModelledArrayStore,
  NullStore,
  openStore,
  parseStoreSpec,
  predict,
  predictIops,
  predictLatency,
  sampler,
  StoreSpecError,
  TimeHeap,
  VirtualClock,
  type ArrayProfile,
  validateStoreSpec,
} from "./index.js";
import { Mulberry32 } from "@xensim/random";

const S = 512;

/** Closed loop: `outstanding` random 4 KiB reads always in flight on a virtual clock; IOPS in the window after warm-up. */
function measure(profile: ArrayProfile, outstanding: number, warmMs: number, windowMs: number) {
  const clock = new VirtualClock();
  const store = new ModelledArrayStore({ profile, seed: 42, inner: "null", sizeBytes: 1 << 30, clock });
  const rng = new Mulberry32(7);
  const sectors = store.info.sectors - 8;
  const buf = new Uint8Array(8 * S);
  let completed = 0;
  let latencySum = 0;
  const issue = () => {
    const t0 = clock.now();
    store.submit(
      { op: "read", sector: Math.floor(rng.next() * sectors), nrSectors: 8, segs: [buf] },
      (st) => {
        assert.equal(st, 0);
        if (t0 >= warmMs) {
          completed++;
          latencySum += clock.now() - t0;
        }
        issue();
      },
    );
  };
  for (let i = 0; i < outstanding; i++) issue();
  clock.runTo(warmMs + windowMs);
  // Latency counted for I/Os issued in the window and completed by its end.
  return { iops: (completed / windowMs) * 1000, latencyMs: latencySum / completed, store };
}

describe("modelled array vs queueing prediction (virtual clock)", () => {
  const p = ARRAY_PROFILES["iscsi-array"];
  it("iscsi-array: 32 vs 2048 outstanding match predictIops within 10% and differ by ≥ 15×", () => {
    const lo = measure(p, 32, 200, 2000);
    const hi = measure(p, 2048, 200, 500);
    const pLo = predictIops(p, 32);
    const pHi = predictIops("iscsi-array", 2048);
    const msg = `measured ${lo.iops.toFixed(0)} / ${hi.iops.toFixed(0)}, predicted ${pLo.toFixed(0)} / ${pHi.toFixed(0)}`;
    assert.ok(Math.abs(lo.iops / pLo - 1) < 0.1, msg);
    assert.ok(Math.abs(hi.iops / pHi - 1) < 0.1, msg);
    assert.ok(hi.iops / lo.iops >= 15, `ratio ${(hi.iops / lo.iops).toFixed(1)}: ${msg}`);
    assert.ok(pHi / pLo >= 15);
    assert.ok(
      Math.abs(lo.latencyMs / predictLatency(p, 32) - 1) < 0.1,
      `latency ${lo.latencyMs} vs ${predictLatency(p, 32)}`,
    );
    // Every spindle got work; nothing left queued is lost: submitted = completed + in flight.
    const st = hi.store.stats();
    assert.ok(st.perSpindle.every((n) => n > 0));
    assert.equal(st.submitted - st.completed, 2048);
  });
  it("ssd: saturates near capacity; prediction is monotone and bounded by capacity", () => {
    const ssd = ARRAY_PROFILES.ssd;
    const m = measure(ssd, 256, 5, 50);
    assert.ok(Math.abs(m.iops / predictIops(ssd, 256) - 1) < 0.1, `${m.iops} vs ${predictIops(ssd, 256)}`);
    const cap = ((ssd.spindles * ssd.slotsPerSpindle) / ssd.service.mean) * 1000;
    let prev = 0;
    for (const n of [1, 2, 4, 8, 16, 32, 64, 128, 1024]) {
      const x = predictIops(ssd, n);
      assert.ok(x >= prev && x <= cap * (1 + 1e-9), `n=${n} x=${x}`);
      prev = x;
    }
    assert.equal(predictIops("null", 32), Infinity);
    assert.ok(
      Math.abs(predict(ssd, 1).latencyMs - (ssd.service.mean + ssd.transportMs)) < 1e-9,
      "one I/O: no queueing",
    );
  });
  it("is deterministic from the seed and keeps data in the inner store", () => {
    const run = () => {
      const clock = new VirtualClock();
      const store = new ModelledArrayStore({ profile: "iscsi-array", seed: 3, sizeBytes: 1 << 20, clock });
      const order: number[] = [];
      for (let i = 0; i < 50; i++)
        store.submit({ op: "read", sector: (i * 997) % 2000, nrSectors: 1, segs: [new Uint8Array(S)] }, () =>
          order.push(i),
        );
      clock.runUntilIdle();
      return order;
    };
    const a = run();
    assert.equal(a.length, 50);
    assert.deepEqual(a, run());
  });
  it("read-after-write through the model; FIFO on a busy spindle; close drains", async () => {
    const clock = new VirtualClock();
    const prof: ArrayProfile = {
      name: "t",
      spindles: 2,
      slotsPerSpindle: 1,
      stripeBytes: 4096,
      service: { kind: "fixed", mean: 10 },
      transportMs: 1,
    };
    const store = new ModelledArrayStore({ profile: prof, seed: 1, sizeBytes: 64 * S, clock });
    const times: [string, number][] = [];
    const w = (sector: number, v: number) =>
      store.submit({ op: "write", sector, nrSectors: 1, segs: [new Uint8Array(S).fill(v)] }, (st) => {
        assert.equal(st, 0);
        times.push([`w${sector}`, clock.now()]);
      });
    w(0, 1); // spindle 0
    w(1, 2); // spindle 0, queued behind
    w(8, 3); // spindle 1
    store.submit({ op: "flush", sector: 0, nrSectors: 0, segs: [] }, () =>
      times.push(["flush", clock.now()]),
    );
    clock.runUntilIdle();
    assert.deepEqual(times, [
      ["flush", 1],
      ["w0", 11],
      ["w8", 11],
      ["w1", 21],
    ]);
    const buf = new Uint8Array(9 * S);
    let st = -1;
    store.submit({ op: "read", sector: 0, nrSectors: 9, segs: [buf] }, (s) => (st = s));
    clock.runUntilIdle();
    assert.equal(st, 0);
    assert.deepEqual([buf[0], buf[S], buf[8 * S]], [1, 2, 3]);
    assert.equal(
      await submitIo(store, { op: "read", sector: 64, nrSectors: 1, segs: [new Uint8Array(S)] }),
      -XenErrno.EIO,
    );
    let late = -1;
    store.submit({ op: "read", sector: 0, nrSectors: 1, segs: [new Uint8Array(S)] }, (s) => (late = s));
    const closed = store.close();
    clock.runUntilIdle();
    await closed;
    assert.equal(late, 0, "close waited for the in-flight read");
  });
  it("runs on the real clock with one timer", async () => {
    const prof: ArrayProfile = {
      name: "fast",
      spindles: 4,
      slotsPerSpindle: 2,
      stripeBytes: 4096,
      service: { kind: "exponential", mean: 0.5 },
      transportMs: 0.1,
    };
    const store = new ModelledArrayStore({ profile: prof, seed: 9, sizeBytes: 1 << 20 });
    const all = Array.from({ length: 200 }, (_, i) =>
      submitIo(store, { op: "write", sector: i * 8, nrSectors: 8, segs: [new Uint8Array(8 * S).fill(i)] }),
    );
    assert.ok((await Promise.all(all)).every((s) => s === 0));
    const buf = new Uint8Array(8 * S);
    assert.equal(await submitIo(store, { op: "read", sector: 199 * 8, nrSectors: 8, segs: [buf] }), 0);
    assert.ok(buf.every((b) => b === 199));
    await store.close();
  });
});

describe("TimeHeap / EventQueue / samplers", () => {
  it("heap pops in (time, insertion) order (fast-check)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), (ts) => {
        const h = new TimeHeap<number>();
        ts.forEach((t, i) => h.push(t, i));
        const out: number[] = [];
        for (let x = h.pop(); x !== undefined; x = h.pop()) out.push(x);
        const want = ts
          .map((t, i) => [t, i] as const)
          .sort((a, b) => a[0] - b[0] || a[1] - b[1])
          .map((e) => e[1]);
        assert.deepEqual(out, want);
      }),
    );
  });
  it("event queue arms one timer at a time", () => {
    let armed = 0;
    let maxArmed = 0;
    const vc = new VirtualClock();
    const clock = {
      now: () => vc.now(),
      setTimer: (d: number, fn: () => void) => {
        armed++;
        maxArmed = Math.max(maxArmed, armed);
        const c = vc.setTimer(d, () => {
          armed--;
          fn();
        });
        return () => {
          armed--;
          c();
        };
      },
    };
    const q = new EventQueue(clock);
    const fired: number[] = [];
    for (let i = 0; i < 1000; i++) q.at((i * 7919) % 500, () => fired.push(vc.now()));
    vc.runUntilIdle();
    assert.equal(fired.length, 1000);
    assert.deepEqual(
      fired,
      [...fired].sort((a, b) => a - b),
    );
    assert.equal(maxArmed, 1);
  });
  it("sampler means match the distribution", () => {
    for (const d of [
      { kind: "exponential", mean: 5 },
      { kind: "lognormal", mean: 5, cv: 0.5 },
      { kind: "fixed", mean: 5 },
    ] as const) {
      const draw = sampler(d, new Mulberry32(1));
      let sum = 0;
      for (let i = 0; i < 50_000; i++) sum += draw();
      assert.ok(Math.abs(sum / 50_000 / 5 - 1) < 0.03, `${d.kind}: ${sum / 50_000}`);
    }
  });
});

describe("FaultStore", () => {
  const writes = (st: BlockStore, n: number) =>
    Promise.all(
      Array.from({ length: n }, (_, i) =>
        submitIo(st, {
          op: "write",
          sector: (i * 8) % 504,
          nrSectors: 8,
          segs: [new Uint8Array(8 * S).fill(1 + (i % 250))],
        }),
      ),
    );
  it("is deterministic from the seed", async () => {
    const run = async (seed: number) => {
      const f = new FaultStore(new MemoryStore({ sizeBytes: 512 * S }), {
        seed,
        errorRate: 0.2,
        tornWriteRate: 0.2,
      });
      const st = await writes(f, 200);
      return { st, faults: f.faults };
    };
    const a = await run(11);
    assert.deepEqual(a, await run(11));
    assert.notDeepEqual(a.faults, (await run(12)).faults);
    const errors = a.faults.filter((x) => x.kind === "error").length;
    const torn = a.faults.filter((x) => x.kind === "torn-write").length;
    assert.ok(errors > 20 && errors < 60 && torn > 10 && torn < 60, `${errors} ${torn}`);
    // Every failed I/O is recorded, and only those.
    assert.deepEqual(
      a.st.flatMap((s, i) => (s === 0 ? [] : [i])),
      a.faults.map((x) => x.seq),
    );
    assert.ok(a.st.every((s) => s === 0 || s === -XenErrno.EIO));
  });
  it("torn write: only the recorded prefix reaches the inner store, then -EIO", async () => {
    const inner = new MemoryStore({ sizeBytes: 64 * S });
    const f = new FaultStore(inner, { seed: 5, tornWriteRate: 1 });
    for (let i = 0; i < 20; i++) {
      inner.bytes.fill(0);
      const n = 1 + (i % 8);
      const status = await submitIo(f, {
        op: "write",
        sector: 4,
        nrSectors: n,
        segs: [new Uint8Array(n * S).fill(0xaa)],
      });
      assert.equal(status, -XenErrno.EIO);
      const rec = f.faults.at(-1);
      assert.ok(rec !== undefined && rec.kind === "torn-write" && rec.seq === i);
      const k = rec.detail as number;
      assert.ok(k >= 0 && k < n);
      for (let s = 0; s < 16; s++)
        assert.equal(inner.bytes[s * S], s >= 4 && s < 4 + k ? 0xaa : 0, `write ${i} sector ${s} k=${k}`);
    }
    // Reads are never torn.
    assert.equal(await submitIo(f, { op: "read", sector: 0, nrSectors: 1, segs: [new Uint8Array(S)] }), 0);
  });
  it("fail-next-N, added latency and run-time changes", async () => {
    const clock = new VirtualClock();
    const f = new FaultStore(new MemoryStore({ sizeBytes: 8 * S }), { seed: 1, clock });
    const io: BlockIo = { op: "read", sector: 0, nrSectors: 1, segs: [new Uint8Array(S)] };
    assert.equal(await submitIo(f, io), 0);
    f.set({ failNext: 2 });
    assert.equal(await submitIo(f, io), -XenErrno.EIO);
    assert.equal(await submitIo(f, io), -XenErrno.EIO);
    assert.equal(await submitIo(f, io), 0);
    assert.equal(f.current.failNext, 0);
    f.set({ latencyMs: 30 });
    let at = -1;
    f.submit(io, (s) => {
      assert.equal(s, 0);
      at = clock.now();
    });
    assert.equal(at, -1);
    clock.runUntilIdle();
    assert.equal(at, 30);
    assert.deepEqual(
      f.faults.map((x) => [x.seq, x.kind]),
      [
        [1, "fail-next"],
        [2, "fail-next"],
        [4, "latency"],
      ],
    );
    assert.throws(() => f.set({ errorRate: 2 }), RangeError);
  });
});

describe("openStore", () => {
  it("builds each kind from objects and strings", async () => {
    const m = await openStore({ kind: "memory", sizeBytes: 1 << 20 });
    assert.ok(m instanceof MemoryStore && m.info.sectors === 2048);
    const n = await openStore("null:size=1G");
    assert.ok(n instanceof NullStore && n.info.sectors === 2 * 1024 * 1024 && !n.zeroFill);
    const z = await openStore("null:size=1M,zero");
    assert.ok(z instanceof NullStore && z.zeroFill, "null:…,zero: reads return zeros");
    assert.ok(((await openStore({ kind: "null", sizeBytes: 4096, zeroFill: true })) as NullStore).zeroFill);
    assert.throws(
      () => validateStoreSpec({ kind: "null", sizeBytes: 4096, zeroFill: "yes" }),
      /zeroFill must be a boolean/,
    );
    const a = await openStore("array:profile=iscsi-array,size=64M,seed=7,data=null");
    assert.ok(a instanceof ModelledArrayStore && a.profile.spindles === 100);
    assert.ok(
      (await openStore({ kind: "array", profile: "null", sizeBytes: 4096, seed: 1 })) instanceof NullStore,
    );
    const f = await openStore("memory:size=4K,readonly,fault-seed=3,error-rate=0.5");
    assert.ok(f instanceof FaultStore && f.info.readonly && f.current.errorRate === 0.5);
    for (const s of [m, n, a, f]) await s.close();
    assert.deepEqual(parseStoreSpec("file:path=/tmp/x.img,size=1M,readonly"), {
      kind: "file",
      path: "/tmp/x.img",
      sizeBytes: 1 << 20,
      readonly: true,
    });
  });
  it("rejects bad specs with clear errors", async () => {
    const bad: [unknown, RegExp][] = [
      ["disk:size=1M", /unknown kind 'disk'/],
      ["memory:size=1Q", /size '1Q'/],
      ["memory", /sizeBytes must be a positive multiple of 512/],
      ["memory:size=1000", /multiple of 512/],
      ["memory:size=4K,colour=red", /unknown key\(s\) colour/],
      ["array:profile=tape,size=1M,seed=1", /profile must be one of iscsi-array, ssd, null/],
      ["array:profile=ssd,size=1M", /integer seed/],
      ["file:size=1M", /file needs a path/],
      ["array:profile=ssd,size=1M,seed=1,readonly", /cannot be read-only/],
      ["memory:size=4K,error-rate=0.1", /need fault-seed/],
      [
        { kind: "memory", sizeBytes: 4096, fault: { seed: 1, errorRate: 3 } },
        /errorRate 3 is not in \[0, 1\]/,
      ],
      [null, /not an object/],
    ];
    for (const [spec, re] of bad) {
      await assert.rejects(
        openStore(spec as string),
        (e: unknown) => e instanceof StoreSpecError && re.test(e.message),
        String(JSON.stringify(spec)),
      );
    }
  });
});
