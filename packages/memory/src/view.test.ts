import assert from "node:assert/strict";
import { test } from "node:test";
import { DOMID_XEN } from "@xensim/abi";
import fc from "fast-check";
import { PageStore } from "./page-store.js";
import { MemoryAccessError, type MemView, type WriteLog } from "./view.js";
import { PAGE_SIZE } from "./xen-constants.js";

function setup(log?: WriteLog) {
  const s = PageStore.create({ frames: 128, ...(log ? { writeLog: log } : {}) });
  const run = s.allocFrames(DOMID_XEN, 3, true)!;
  const scattered = [s.allocFrame(DOMID_XEN), s.allocFrame(DOMID_XEN), s.allocFrame(DOMID_XEN)];
  scattered.reverse(); // descending: never adjacent
  return { s, contiguous: s.viewOfFrames(run), paged: s.viewOfFrames(scattered) };
}

test("viewOfFrames picks contiguous for adjacent frames, paged otherwise", () => {
  const { contiguous, paged } = setup();
  assert.equal(contiguous.contiguous, true);
  assert.equal(paged.contiguous, false);
  assert.equal(contiguous.byteLength, 3 * PAGE_SIZE);
  assert.equal(paged.byteLength, 3 * PAGE_SIZE);
});

test("little-endian values, including across frame boundaries in a paged view", () => {
  const { paged, contiguous } = setup();
  for (const v of [paged, contiguous]) {
    for (const off of [0, PAGE_SIZE - 1, PAGE_SIZE - 3, 2 * PAGE_SIZE - 5]) {
      v.setU16(off, 0xbeef);
      assert.equal(v.getU16(off), 0xbeef);
      v.setU32(off, 0xdeadbeef);
      assert.equal(v.getU32(off), 0xdeadbeef);
      assert.equal(v.getU8(off), 0xef);
      v.setU64(off, 0x0102030405060708n);
      assert.equal(v.getU64(off), 0x0102030405060708n);
      assert.equal(v.getU8(off + 7), 1);
      v.setU8(off, 0x1ff);
      assert.equal(v.getU8(off), 0xff);
    }
  }
});

test("atomics on aligned words; misaligned and out-of-range accesses throw", () => {
  const { paged } = setup();
  const off = PAGE_SIZE + 8;
  paged.atomicStore32(off, 0xf0);
  assert.equal(paged.atomicOr32(off, 0x0f), 0xf0);
  assert.equal(paged.atomicAnd32(off, 0x3c), 0xff);
  assert.equal(paged.atomicLoad32(off), 0x3c);
  assert.equal(paged.atomicCompareExchange32(off, 0x3c, 0xffffffff), 0x3c);
  assert.equal(paged.atomicCompareExchange32(off, 0, 1), 0xffffffff);
  assert.equal(paged.getU32(off), 0xffffffff);
  assert.throws(
    () => paged.atomicLoad32(2),
    (e: unknown) => e instanceof MemoryAccessError && e.code === "misaligned",
  );
  assert.throws(
    () => paged.getU32(3 * PAGE_SIZE - 2),
    (e: unknown) => e instanceof MemoryAccessError && e.code === "out_of_range",
  );
  assert.throws(() => paged.read(-1, 2), MemoryAccessError);
  assert.throws(() => paged.read(0.5, 2), MemoryAccessError);
  assert.throws(() => paged.atomicLoad32(3 * PAGE_SIZE), MemoryAccessError);
});

test("read-only views refuse every write", () => {
  const { s } = setup();
  const f = s.allocFrame(DOMID_XEN);
  const ro = s.viewOfFrames([f], { readonly: true });
  const rw = s.viewOfFrames([f]);
  rw.setU32(0, 42);
  assert.equal(ro.getU32(0), 42);
  assert.equal(ro.atomicLoad32(0), 42);
  const isRo = (e: unknown) => e instanceof MemoryAccessError && e.code === "read_only";
  assert.throws(() => ro.setU8(0, 1), isRo);
  assert.throws(() => ro.setU32(0, 1), isRo);
  assert.throws(() => ro.atomicStore32(0, 1), isRo);
  assert.throws(() => ro.atomicOr32(0, 1), isRo);
  assert.throws(() => ro.atomicAnd32(0, 1), isRo);
  assert.throws(() => ro.atomicCompareExchange32(0, 1, 2), isRo);
  assert.throws(() => ro.write(0, new Uint8Array(1)), isRo);
  assert.throws(() => ro.copyWithin(0, 1, 2), isRo);
  assert.throws(() => rw.copyTo(ro, 0, 0, 4), isRo);
  assert.throws(() => ro.slice(0, 8).setU8(0, 1), isRo);
});

test("slices: contiguous when inside adjacent frames, paged across scattered frames", () => {
  const { paged, contiguous } = setup();
  const a = paged.slice(100, 200);
  assert.equal(a.contiguous, true);
  a.setU32(0, 7);
  assert.equal(paged.getU32(100), 7);
  const b = paged.slice(PAGE_SIZE - 2, 8);
  assert.equal(b.contiguous, false);
  b.setU32(0, 0x11223344);
  assert.equal(paged.getU32(PAGE_SIZE - 2), 0x11223344);
  assert.equal(b.frames.length, 2);
  const c = contiguous.slice(PAGE_SIZE - 2, 8);
  assert.equal(c.contiguous, true);
  assert.equal(c.byteLength, 8);
  assert.throws(() => c.getU8(8), MemoryAccessError);
  assert.equal(paged.slice(5, 0).byteLength, 0);
});

test("markWritten reports frame-relative ranges, split at frame boundaries", () => {
  const got: [number, number, number][] = [];
  const { paged, contiguous } = setup({ written: (f, o, l) => got.push([f, o, l]) });
  paged.markWritten(PAGE_SIZE - 10, 20);
  assert.deepEqual(got, [
    [paged.frames[0]!, PAGE_SIZE - 10, 10],
    [paged.frames[1]!, 0, 10],
  ]);
  got.length = 0;
  contiguous.markWritten(PAGE_SIZE * 2 - 1, 2);
  assert.deepEqual(got, [
    [contiguous.frames[1]!, PAGE_SIZE - 1, 1],
    [contiguous.frames[2]!, 0, 1],
  ]);
  got.length = 0;
  contiguous.markWritten(0, 0);
  assert.deepEqual(got, []);
});

test("property: contiguous and paged views behave like one plain byte array", () => {
  const size = 3 * PAGE_SIZE;
  const off = (n: number) => fc.integer({ min: 0, max: size - n });
  const op = fc.oneof(
    fc.record({ k: fc.constant("u8" as const), off: off(1), v: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ k: fc.constant("u16" as const), off: off(2), v: fc.integer({ min: 0, max: 0xffff }) }),
    fc.record({ k: fc.constant("u32" as const), off: off(4), v: fc.integer({ min: 0, max: 0xffffffff }) }),
    fc.record({
      k: fc.constant("u64" as const),
      off: off(8),
      v: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    }),
    fc.record({ k: fc.constant("write" as const), off: off(300), bytes: fc.uint8Array({ maxLength: 300 }) }),
    fc.record({
      k: fc.constant("within" as const),
      t: off(5000),
      s: off(5000),
      n: fc.integer({ min: 0, max: 5000 }),
    }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      const { contiguous, paged } = setup();
      const ref = new Uint8Array(size);
      const refDv = new DataView(ref.buffer);
      for (const o of ops) {
        for (const v of [contiguous, paged] as MemView[]) {
          switch (o.k) {
            case "u8":
              v.setU8(o.off, o.v);
              break;
            case "u16":
              v.setU16(o.off, o.v);
              break;
            case "u32":
              v.setU32(o.off, o.v);
              break;
            case "u64":
              v.setU64(o.off, o.v);
              break;
            case "write":
              v.write(o.off, o.bytes);
              break;
            case "within": {
              const n = Math.min(o.n, size - o.t, size - o.s);
              v.copyWithin(o.t, o.s, o.s + n);
              break;
            }
          }
        }
        switch (o.k) {
          case "u8":
            ref[o.off] = o.v;
            break;
          case "u16":
            refDv.setUint16(o.off, o.v, true);
            break;
          case "u32":
            refDv.setUint32(o.off, o.v, true);
            break;
          case "u64":
            refDv.setBigUint64(o.off, o.v, true);
            break;
          case "write":
            ref.set(o.bytes, o.off);
            break;
          case "within": {
            const n = Math.min(o.n, size - o.t, size - o.s);
            ref.copyWithin(o.t, o.s, o.s + n);
            break;
          }
        }
      }
      assert.deepEqual(contiguous.read(0, size), ref);
      assert.deepEqual(paged.read(0, size), ref);
      // Reads of every width agree at a few boundary offsets.
      for (const at of [0, PAGE_SIZE - 1, PAGE_SIZE - 4, 2 * PAGE_SIZE - 7]) {
        assert.equal(paged.getU64(at), refDv.getBigUint64(at, true));
        assert.equal(contiguous.getU32(at), refDv.getUint32(at, true));
        assert.equal(paged.getU16(at), refDv.getUint16(at, true));
      }
    }),
    { numRuns: 60 },
  );
});

test("property: copyTo between any two views equals a plain copy", () => {
  const size = 3 * PAGE_SIZE;
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: size }),
      fc.integer({ min: 0, max: size }),
      fc.integer({ min: 0, max: size }),
      fc.boolean(),
      (a, b, n, dir) => {
        const { contiguous, paged } = setup();
        const len = Math.min(n, size - a, size - b);
        const src = dir ? contiguous : paged;
        const dst = dir ? paged : contiguous;
        const bytes = new Uint8Array(size).map((_, i) => (i * 31 + 7) & 0xff);
        src.write(0, bytes);
        src.copyTo(dst, b, a, len);
        const want = new Uint8Array(size);
        want.set(bytes.subarray(a, a + len), b);
        assert.deepEqual(dst.read(0, size), want);
      },
    ),
    { numRuns: 80 },
  );
});

test("copyTo a view of another store goes through read/write", () => {
  const { contiguous } = setup();
  const other = setup().paged;
  contiguous.setU32(0, 0xabcdef01);
  contiguous.copyTo(other, PAGE_SIZE - 2, 0, 4);
  assert.equal(other.getU32(PAGE_SIZE - 2), 0xabcdef01);
});

test("readInto / writeFrom match read / write on both views, across frame boundaries", () => {
  const size = 3 * PAGE_SIZE;
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: size }),
      fc.integer({ min: 0, max: 300 }),
      fc.integer({ min: 0, max: 20 }),
      (off, len0, pad) => {
        const len = Math.min(len0, size - off);
        const { contiguous, paged } = setup();
        for (const v of [contiguous, paged] as MemView[]) {
          const src = new Uint8Array(len + pad).map((_, i) => (i * 13 + off) & 0xff);
          v.writeFrom(off, src, pad, len);
          assert.deepEqual(v.read(off, len), src.subarray(pad, pad + len));
          const dst = new Uint8Array(len + pad);
          v.readInto(off, dst, pad, len);
          assert.deepEqual(dst.subarray(pad), src.subarray(pad, pad + len));
        }
      },
    ),
    { numRuns: 150 },
  );
});

test("liveBytes: one range of the shared buffer, or undefined where a paged view changes frame", () => {
  const { contiguous, paged } = setup();
  const live = contiguous.liveBytes(PAGE_SIZE - 8, 16)!;
  live[0] = 0x5a;
  assert.equal(contiguous.getU8(PAGE_SIZE - 8), 0x5a, "writes through it land in the view");
  assert.equal(paged.liveBytes(PAGE_SIZE - 8, 16), undefined, "paged: the range spans two frames");
  const inFrame = paged.liveBytes(PAGE_SIZE + 512, 3584)!;
  assert.equal(inFrame.length, 3584);
  inFrame[0] = 0xa5;
  assert.equal(paged.getU8(PAGE_SIZE + 512), 0xa5);
  assert.equal(paged.liveBytes(3 * PAGE_SIZE, 0)!.length, 0);
  assert.throws(() => paged.liveBytes(3 * PAGE_SIZE - 4, 8), MemoryAccessError);
});
