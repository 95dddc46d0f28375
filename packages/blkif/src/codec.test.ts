import assert from "node:assert/strict";
import { test } from "node:test";
import { BLKIF_RSP_EOPNOTSUPP, BLKIF_RSP_ERROR, BlkifOp, type XenAbi } from "@xensim/abi";
import { PageStore } from "@xensim/memory";
import fc from "fast-check";
import {
  blkifId,
  decodeIndirectSegments,
  decodeRequest,
  decodeResponse,
  encodeIndirectSegments,
  encodeRequest,
  encodeResponse,
  indirectPages,
  newBlkifRequest,
  newBlkifResponse,
  newSegments,
  requestBytes,
  requestSector,
  responseOperation,
  setBlkifId,
  setDiscardSectors,
  setRequestSector,
} from "./codec.js";

const STORE = PageStore.create({ frames: 64 });
STORE.createDomain(1, { maxPages: 16 });
let nextGfn = 0;
/** A fresh one-page MemView over guest memory. */
function pageView() {
  return STORE.viewOfFrames(STORE.populatePhysmap(1, nextGfn++, 1, true)!);
}

/** Hex of bytes, grouped per 8 for readable diffs. */
function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}
function unhex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s.replace(/\s+/g, ""), "hex"));
}

// Golden bytes written from the offsets in /usr/include/xen/io/blkif.h (and its x86_32 variant,
// where uint64_t is 4-byte aligned): little-endian, padding zero.
const ID = 0x1122334455667788n;
const SECTOR = 0x0000000a_bbccddeen;

function rwRequest(): ReturnType<typeof newBlkifRequest> {
  const r = newBlkifRequest();
  r.operation = BlkifOp.WRITE;
  r.nrSegments = 2;
  r.handle = 0xca00;
  setBlkifId(r, ID);
  setRequestSector(r, SECTOR);
  Object.assign(r.segments[0]!, { gref: 0x01020304, firstSect: 0, lastSect: 7 });
  Object.assign(r.segments[1]!, { gref: 0xa0b0c0d0, firstSect: 2, lastSect: 3 });
  return r;
}

const SEGS = "04030201 0007 0000 d0c0b0a0 0203 0000" + "0000000000000000".repeat(9);
const GOLDEN_RW: Record<XenAbi, string> = {
  x86_64: "01 02 00ca 00000000 8877665544332211 eeddccbb0a000000" + SEGS,
  x86_32: "01 02 00ca 8877665544332211 eeddccbb0a000000" + SEGS,
};

const GOLDEN_DISCARD: Record<XenAbi, string> = {
  x86_64: "05 01 3412 00000000 8877665544332211 eeddccbb0a000000 0010000000000000",
  x86_32: "05 01 3412 8877665544332211 eeddccbb0a000000 0010000000000000",
};

const GREFS = "11000000 12000000 00000000 00000000 00000000 00000000 00000000 00000000";
const GOLDEN_INDIRECT: Record<XenAbi, string> = {
  // op, indirect_op, nr_segments u16, pad to 8, id, sector, handle u16, pad u16, grefs[8], pad 4 → 64
  x86_64: "06 00 0002 00000000 8877665544332211 eeddccbb0a000000 00ca 0000" + GREFS + "00000000",
  // op, indirect_op, nr_segments, id@4, sector@12, handle@20, pad, grefs@24, u64 pad → 64
  x86_32: "06 00 0002 8877665544332211 eeddccbb0a000000 00ca 0000" + GREFS + "0000000000000000",
};

for (const abi of ["x86_64", "x86_32"] as const) {
  test(`${abi}: read/write request golden bytes, both ways`, () => {
    const size = abi === "x86_64" ? 112 : 108;
    const buf = new Uint8Array(size).fill(0xee);
    encodeRequest(buf, 0, abi, rwRequest());
    assert.equal(hex(buf), hex(unhex(GOLDEN_RW[abi])));
    const golden = unhex(GOLDEN_RW[abi]);
    const padded = new Uint8Array(golden.length + 8);
    padded.set(golden, 8);
    const fromView = decodeRequest(new DataView(padded.buffer, 8), 0, abi, newBlkifRequest());
    const out = decodeRequest(golden, 0, abi, newBlkifRequest());
    assert.deepEqual(fromView, out, "a DataView over the same bytes decodes the same");
    assert.equal(out.operation, BlkifOp.WRITE);
    assert.equal(out.nrSegments, 2);
    assert.equal(out.handle, 0xca00);
    assert.equal(blkifId(out), ID);
    assert.equal(requestSector(out), SECTOR);
    assert.deepEqual(out.segments.slice(0, 2), [
      { gref: 0x01020304, firstSect: 0, lastSect: 7 },
      { gref: 0xa0b0c0d0, firstSect: 2, lastSect: 3 },
    ]);
  });

  test(`${abi}: discard request golden bytes (struct size ${abi === "x86_64" ? 32 : 28})`, () => {
    const r = newBlkifRequest();
    r.operation = BlkifOp.DISCARD;
    r.flag = 1;
    r.handle = 0x1234;
    setBlkifId(r, ID);
    setRequestSector(r, SECTOR);
    setDiscardSectors(r, 0x1000);
    const golden = unhex(GOLDEN_DISCARD[abi]);
    const buf = new Uint8Array(112).fill(0xee);
    encodeRequest(buf, 0, abi, r);
    assert.equal(hex(buf.subarray(0, golden.length)), hex(golden));
    assert.ok(
      buf.subarray(golden.length).every((b) => b === 0xee),
      "bytes past the struct untouched",
    );
    const slot = new Uint8Array(112);
    slot.set(golden);
    const out = decodeRequest(slot, 0, abi, newBlkifRequest());
    assert.equal(out.flag, 1);
    assert.equal(out.handle, 0x1234);
    assert.equal(out.nrSectorsLo, 0x1000);
    assert.equal(blkifId(out), ID);
  });

  test(`${abi}: indirect request golden bytes (64 bytes)`, () => {
    const r = newBlkifRequest();
    r.operation = BlkifOp.INDIRECT;
    r.indirectOp = BlkifOp.READ;
    r.nrSegments = 512;
    r.handle = 0xca00;
    setBlkifId(r, ID);
    setRequestSector(r, SECTOR);
    r.indirectGrefs[0] = 0x11;
    r.indirectGrefs[1] = 0x12;
    const golden = unhex(GOLDEN_INDIRECT[abi]);
    assert.equal(golden.length, 64);
    const buf = new Uint8Array(112).fill(0xee);
    encodeRequest(buf, 0, abi, r);
    assert.equal(hex(buf.subarray(0, 64)), hex(golden));
    const slot = new Uint8Array(112);
    slot.set(golden);
    const out = decodeRequest(slot, 0, abi, newBlkifRequest());
    assert.equal(out.nrSegments, 512);
    assert.equal(out.indirectOp, BlkifOp.READ);
    assert.equal(out.handle, 0xca00);
    assert.deepEqual(out.indirectGrefs, [0x11, 0x12, 0, 0, 0, 0, 0, 0]);
    assert.equal(responseOperation(out), BlkifOp.READ);
  });

  test(`${abi}: response golden bytes, pads zeroed, negative status`, () => {
    const size = abi === "x86_64" ? 16 : 12;
    const buf = new Uint8Array(size).fill(0xee);
    encodeResponse(buf, 0, abi, 0x55667788, 0x11223344, BlkifOp.FLUSH_DISKCACHE, BLKIF_RSP_EOPNOTSUPP);
    const golden = abi === "x86_64" ? "8877665544332211 03 00 feff 00000000" : "8877665544332211 03 00 feff";
    assert.equal(hex(buf), hex(unhex(golden)));
    const rsp = decodeResponse(buf, 0, abi, newBlkifResponse());
    assert.deepEqual(rsp, { idLo: 0x55667788, idHi: 0x11223344, operation: 3, status: BLKIF_RSP_EOPNOTSUPP });
    assert.equal(blkifId(rsp), ID);
  });

  test(`${abi}: unknown operation decodes only the id (Linux "other" view)`, () => {
    const slot = new Uint8Array(112).fill(0xff);
    slot[0] = 0x42;
    const idOff = abi === "x86_64" ? 8 : 4;
    slot.set([1, 2, 3, 4, 5, 6, 7, 8], idOff);
    const out = decodeRequest(slot, 0, abi, newBlkifRequest());
    assert.equal(out.operation, 0x42);
    assert.equal(blkifId(out), 0x0807060504030201n);
    assert.equal(out.nrSegments, 0);
  });

  test(`${abi}: nr_segments above 11 keeps the raw count but decodes only the slot's 11 segments`, () => {
    const slot = new Uint8Array(112);
    slot[0] = BlkifOp.READ;
    slot[1] = 200;
    const out = decodeRequest(slot, 0, abi, newBlkifRequest());
    assert.equal(out.nrSegments, 200);
    assert.equal(out.segments.length, 11);
  });

  test(`${abi}: request round trip (property)`, () => {
    const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
    const seg = fc.record({
      gref: u32,
      firstSect: fc.integer({ min: 0, max: 255 }),
      lastSect: fc.integer({ min: 0, max: 255 }),
    });
    const req = fc.record({
      operation: fc.integer({ min: 0, max: 255 }),
      nrSegments: fc.integer({ min: 0, max: 11 }),
      indirectSegs: fc.integer({ min: 0, max: 0xffff }),
      handle: fc.integer({ min: 0, max: 0xffff }),
      id: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      sector: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      nrSectors: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      flag: fc.integer({ min: 0, max: 255 }),
      indirectOp: fc.integer({ min: 0, max: 255 }),
      segs: fc.array(seg, { minLength: 11, maxLength: 11 }),
      grefs: fc.array(u32, { minLength: 8, maxLength: 8 }),
      at: fc.integer({ min: 0, max: 40 }),
    });
    const out = newBlkifRequest();
    const view = pageView();
    fc.assert(
      fc.property(req, (g) => {
        const r = newBlkifRequest();
        r.operation = g.operation;
        setBlkifId(r, g.id);
        const known = g.operation <= BlkifOp.INDIRECT && g.operation !== BlkifOp.RESERVED_1;
        if (known) setRequestSector(r, g.sector);
        if (g.operation <= BlkifOp.FLUSH_DISKCACHE) {
          r.nrSegments = g.nrSegments;
          r.handle = g.handle;
          g.segs.slice(0, g.nrSegments).forEach((s, i) => Object.assign(r.segments[i]!, s));
        } else if (g.operation === BlkifOp.DISCARD) {
          r.flag = g.flag;
          r.handle = g.handle;
          setDiscardSectors(r, g.nrSectors);
        } else if (g.operation === BlkifOp.INDIRECT) {
          r.indirectOp = g.indirectOp;
          r.nrSegments = g.indirectSegs;
          r.handle = g.handle;
          g.grefs.forEach((x, i) => (r.indirectGrefs[i] = x));
        }
        const buf = new Uint8Array(200);
        encodeRequest(buf, g.at, abi, r);
        decodeRequest(buf, g.at, abi, out);
        const norm = (x: typeof r) => ({
          ...x,
          segments: x.segments.slice(0, Math.min(x.operation <= 3 ? x.nrSegments : 0, 11)),
        });
        assert.deepEqual(norm(out), norm(r));
        // Into a MemView too: same bytes.
        encodeRequest(view, g.at, abi, r);
        const n = requestBytes(g.operation, abi);
        assert.equal(hex(view.read(g.at, n)), hex(buf.subarray(g.at, g.at + n)));
      }),
      { numRuns: 300 },
    );
  });

  test(`${abi}: response round trip for any u64 id and int16 status (property)`, () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: -0x8000, max: 0x7fff }),
        (id, op, status) => {
          const r = newBlkifResponse();
          setBlkifId(r, id);
          const buf = new Uint8Array(16);
          encodeResponse(buf, 0, abi, r.idLo, r.idHi, op, status);
          const back = decodeResponse(buf, 0, abi, newBlkifResponse());
          assert.equal(blkifId(back), id);
          assert.equal(back.operation, op);
          assert.equal(back.status, status);
        },
      ),
    );
  });
}

test("encode zeroes stale padding (XSA-216) in arrays and MemViews", () => {
  const view = pageView();
  view.write(0, new Uint8Array(16).fill(0xab));
  encodeResponse(view, 0, "x86_64", 7, 0, BlkifOp.READ, BLKIF_RSP_ERROR);
  assert.equal(hex(view.read(0, 16)), "0700000000000000" + "0000ffff00000000");
});

test("indirect descriptor pages: 512 segments per page, from arrays and MemViews", () => {
  assert.equal(indirectPages(1), 1);
  assert.equal(indirectPages(512), 1);
  assert.equal(indirectPages(513), 2);
  assert.equal(indirectPages(4096), 8);
  const segs = newSegments(512);
  segs.forEach((s, i) => Object.assign(s, { gref: 1000 + i, firstSect: i % 8, lastSect: 7 }));
  const view = pageView();
  view.write(0, new Uint8Array(4096).fill(0xcc));
  encodeIndirectSegments(view, 0, 0, segs, 0, 512);
  const page = view.read(0, 4096);
  assert.equal(hex(page.subarray(8 * 3, 8 * 4)), "eb03000003070000"); // gref 1003, first 3, last 7, pad 0
  const fromView = newSegments(512);
  decodeIndirectSegments(view, 0, 0, 512, fromView);
  assert.deepEqual(fromView, segs);
  const fromBytes = newSegments(10);
  decodeIndirectSegments(page, 0, 500, 10, fromBytes);
  assert.deepEqual(fromBytes, segs.slice(500, 510));
  assert.throws(() => decodeIndirectSegments(page, 0, 510, 3, newSegments(3)), RangeError);
});

test("ids: small ids never need a bigint, large ones round-trip; bad values are refused", () => {
  const r = newBlkifRequest();
  setBlkifId(r, 42);
  assert.deepEqual([r.idLo, r.idHi], [42, 0]);
  setBlkifId(r, 2n ** 64n - 1n);
  assert.deepEqual([r.idLo, r.idHi], [0xffff_ffff, 0xffff_ffff]);
  assert.throws(() => setBlkifId(r, -1), RangeError);
  assert.throws(() => setBlkifId(r, 2n ** 64n), RangeError);
  assert.throws(() => setBlkifId(r, 2 ** 60), RangeError);
  assert.throws(() => encodeResponse(new Uint8Array(16), 0, "x86_64", 0, 0, 0, 0x8000), RangeError);
  assert.throws(() => decodeRequest(new Uint8Array(100), 0, "x86_64", r), RangeError);
});
