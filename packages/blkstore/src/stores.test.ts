import { strict as assert } from "node:assert";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import fc from "fast-check";
import { submitIo, type BlockIo, type BlockStore } from "@xensim/blkif";
import { XenErrno } from "@xensim/abi";
import { FileStore, MemoryStore, NullStore } from "./index.js";

const S = 512;
const tmp = await mkdtemp(join(tmpdir(), "blkstore-test-"));
after(() => rm(tmp, { recursive: true, force: true }));
let fileNo = 0;
const nextPath = () => join(tmp, `img${fileNo++}.raw`);

/** Splits `buf` into segments at the given cut points (as real grant pages would be). */
function segsOf(buf: Uint8Array, cuts: number[]): Uint8Array[] {
  const pts = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...pts, buf.length]) {
    if (p > prev) out.push(buf.subarray(prev, p));
    prev = Math.max(prev, p);
  }
  return out;
}

const rd = (sector: number, n: number, segs?: Uint8Array[]): BlockIo => ({
  op: "read",
  sector,
  nrSectors: n,
  segs: segs ?? [new Uint8Array(n * S)],
});
const wr = (sector: number, data: Uint8Array, fua = false): BlockIo => ({
  op: "write",
  sector,
  nrSectors: data.length / S,
  segs: [data],
  fua,
});

async function readBytes(store: BlockStore, sector: number, n: number): Promise<Uint8Array> {
  const buf = new Uint8Array(n * S);
  assert.equal(await submitIo(store, rd(sector, n, [buf])), 0);
  return buf;
}

/** Random writes (split into random segments) mirrored in a model array; every read must match. */
async function readAfterWriteProperty(mk: () => Promise<BlockStore>, sectors: number, numRuns: number) {
  const op = fc.record({
    write: fc.boolean(),
    sector: fc.integer({ min: 0, max: sectors - 1 }),
    n: fc.integer({ min: 1, max: 16 }),
    seed: fc.integer({ min: 0, max: 255 }),
    cuts: fc.array(fc.integer({ min: 0, max: 16 * S }), { maxLength: 4 }),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
      const store = await mk();
      const model = new Uint8Array(sectors * S);
      try {
        for (const o of ops) {
          const n = Math.min(o.n, sectors - o.sector);
          if (o.write) {
            const data = new Uint8Array(n * S).map((_, i) => (i * 31 + o.seed) & 255);
            assert.equal(
              await submitIo(store, {
                op: "write",
                sector: o.sector,
                nrSectors: n,
                segs: segsOf(data, o.cuts),
              }),
              0,
            );
            model.set(data, o.sector * S);
          } else {
            const buf = new Uint8Array(n * S).fill(0xee);
            assert.equal(await submitIo(store, rd(o.sector, n, segsOf(buf, o.cuts))), 0);
            assert.deepEqual(buf, model.subarray(o.sector * S, (o.sector + n) * S));
          }
        }
        assert.deepEqual(await readBytes(store, 0, sectors), model);
      } finally {
        await store.close();
      }
    }),
    { numRuns },
  );
}

describe("NullStore", () => {
  it("leaves a read's buffers untouched by default (null_blk), completes synchronously", () => {
    const st = new NullStore({ sizeBytes: 1 << 20 });
    const buf = new Uint8Array(2 * S).fill(9);
    let status = 1;
    st.submit(rd(0, 2, [buf]), (s) => (status = s));
    assert.equal(status, 0, "done before submit returns");
    assert.ok(buf.every((b) => b === 9));
  });
  it("with zeroFill: reads zeros, drops writes, completes synchronously", () => {
    const st = new NullStore({ sizeBytes: 1 << 20, zeroFill: true });
    assert.equal(st.info.sectors, 2048);
    let status = 1;
    st.submit(wr(0, new Uint8Array(S).fill(7)), (s) => (status = s));
    assert.equal(status, 0);
    const buf = new Uint8Array(2 * S).fill(9);
    status = 1;
    st.submit(rd(0, 2, [buf]), (s) => (status = s));
    assert.equal(status, 0, "done before submit returns");
    assert.ok(buf.every((b) => b === 0));
  });
  it("out of range → -EIO; read-only → -EROFS; closed → -EIO", async () => {
    const st = new NullStore({ sizeBytes: 4 * S, readonly: true });
    assert.equal(await submitIo(st, rd(3, 2)), -XenErrno.EIO);
    assert.equal(await submitIo(st, rd(-1, 1)), -XenErrno.EIO);
    assert.equal(await submitIo(st, wr(0, new Uint8Array(S))), -XenErrno.EROFS);
    assert.equal(await submitIo(st, { op: "discard", sector: 0, nrSectors: 1, segs: [] }), -XenErrno.EROFS);
    assert.equal(await submitIo(st, rd(0, 1)), 0);
    await st.close();
    assert.equal(await submitIo(st, rd(0, 1)), -XenErrno.EIO);
  });
});

describe("MemoryStore", () => {
  it("read-after-write with random segment splits (fast-check)", async () => {
    await readAfterWriteProperty(async () => new MemoryStore({ sizeBytes: 64 * S }), 64, 100);
  });
  it("serves a SharedArrayBuffer in place; discard zero-fills; segment mismatch → -EIO", async () => {
    const sab = new SharedArrayBuffer(8 * S);
    const st = new MemoryStore({ buffer: sab });
    assert.equal(st.info.sectors, 8);
    assert.equal(await submitIo(st, wr(2, new Uint8Array(2 * S).fill(5))), 0);
    assert.equal(new Uint8Array(sab)[2 * S], 5);
    assert.equal(await submitIo(st, { op: "discard", sector: 3, nrSectors: 1, segs: [] }), 0);
    const b = await readBytes(st, 2, 2);
    assert.ok(b.subarray(0, S).every((x) => x === 5) && b.subarray(S).every((x) => x === 0));
    assert.equal(
      await submitIo(st, { op: "read", sector: 0, nrSectors: 2, segs: [new Uint8Array(S)] }),
      -XenErrno.EIO,
    );
    assert.equal(await submitIo(st, rd(7, 2)), -XenErrno.EIO);
    assert.equal(await submitIo(st, { op: "flush", sector: 0, nrSectors: 0, segs: [] }), 0);
  });
  it("read-only → -EROFS on write and data unchanged", async () => {
    const st = new MemoryStore({ sizeBytes: 4 * S, readonly: true });
    assert.equal(await submitIo(st, wr(0, new Uint8Array(S).fill(1))), -XenErrno.EROFS);
    assert.ok((await readBytes(st, 0, 4)).every((x) => x === 0));
  });
});

describe("FileStore", () => {
  it("read-after-write with random segment splits (fast-check)", async () => {
    await readAfterWriteProperty(async () => FileStore.open({ path: nextPath(), sizeBytes: 64 * S }), 64, 25);
  });
  it("creates a missing file with the size; reopens it with the file's size", async () => {
    const p = nextPath();
    const st = await FileStore.open({ path: p, sizeBytes: 16 * S });
    assert.equal(st.info.sectors, 16);
    assert.equal(st.info.flush, true);
    await st.close();
    assert.equal((await stat(p)).size, 16 * S);
    const again = await FileStore.open({ path: p });
    assert.equal(again.info.sectors, 16);
    await again.close();
    await assert.rejects(FileStore.open({ path: nextPath() }), /ENOENT/);
  });
  it("flush and FUA writes reach the file (contents after close, and seen by another reader before close)", async () => {
    const p = nextPath();
    const st = await FileStore.open({ path: p, sizeBytes: 8 * S });
    const a = new Uint8Array(S).fill(0xa1);
    const b = new Uint8Array(2 * S).fill(0xb2);
    assert.equal(await submitIo(st, wr(1, a, true)), 0);
    assert.equal(st.syncs, 1, "FUA write synced");
    // FUA: synced before done, so another open of the file sees it now.
    assert.equal((await readFile(p))[S], 0xa1);
    assert.equal(await submitIo(st, wr(4, b)), 0);
    assert.equal(st.syncs, 1, "plain write not synced");
    assert.equal(await submitIo(st, { op: "flush", sector: 0, nrSectors: 0, segs: [] }), 0);
    assert.equal(st.syncs, 2, "flush synced");
    await st.close();
    const img = await readFile(p);
    assert.deepEqual(img.subarray(S, 2 * S), Buffer.from(a));
    assert.deepEqual(img.subarray(4 * S, 6 * S), Buffer.from(b));
    assert.equal(await submitIo(st, rd(0, 1)), -XenErrno.EIO, "closed store");
  });
  it("discard zero-fills by default; 'unsupported' → -EOPNOTSUPP and info.discard false", async () => {
    const p = nextPath();
    await writeFile(p, new Uint8Array(8 * S).fill(0xff));
    const st = await FileStore.open({ path: p });
    assert.equal(st.info.discard, true);
    assert.equal(await submitIo(st, { op: "discard", sector: 2, nrSectors: 3, segs: [] }), 0);
    const img = await readBytes(st, 0, 8);
    for (let s = 0; s < 8; s++) assert.equal(img[s * S], s >= 2 && s < 5 ? 0 : 0xff, `sector ${s}`);
    await st.close();
    const un = await FileStore.open({ path: p, discard: "unsupported" });
    assert.equal(un.info.discard, false);
    assert.equal(
      await submitIo(un, { op: "discard", sector: 0, nrSectors: 1, segs: [] }),
      -XenErrno.EOPNOTSUPP,
    );
    await un.close();
  });
  it("read-only open: writes and discards → -EROFS, reads work; bounds → -EIO", async () => {
    const p = nextPath();
    await writeFile(p, new Uint8Array(4 * S).fill(3));
    const st = await FileStore.open({ path: p, readonly: true });
    assert.equal(st.info.readonly, true);
    assert.equal(await submitIo(st, wr(0, new Uint8Array(S))), -XenErrno.EROFS);
    assert.equal(await submitIo(st, { op: "discard", sector: 0, nrSectors: 1, segs: [] }), -XenErrno.EROFS);
    assert.ok((await readBytes(st, 0, 4)).every((x) => x === 3));
    assert.equal(await submitIo(st, rd(4, 1)), -XenErrno.EIO);
    await st.close();
    await assert.rejects(FileStore.open({ path: nextPath(), readonly: true, sizeBytes: S }), /ENOENT/);
  });
  it("close() waits for in-flight I/O", async () => {
    const st = await FileStore.open({ path: nextPath(), sizeBytes: 256 * S });
    const statuses: number[] = [];
    for (let i = 0; i < 32; i++) st.submit(wr(i * 8, new Uint8Array(8 * S).fill(i)), (s) => statuses.push(s));
    await st.close();
    assert.equal(statuses.length, 32);
    assert.ok(statuses.every((s) => s === 0));
  });
});
