// Codecs: golden bytes for every operation, round trips of random packets (fast-check prints its
// seed on failure), unknown operations, reserved bytes zeroed, range checks.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  XENDISPL_DBUF_FLG_REQ_ALLOC,
  XENDISPL_EVT_PG_FLIP,
  XENDISPL_OP_DBUF_CREATE,
  XENDISPL_OP_DBUF_DESTROY,
  XENDISPL_OP_FB_ATTACH,
  XENDISPL_OP_FB_DETACH,
  XENDISPL_OP_GET_EDID,
  XENDISPL_OP_PG_FLIP,
  XENDISPL_OP_SET_CONFIG,
  XenErrno,
} from "@xensim/abi";
import fc from "fast-check";
import {
  decodeEvent,
  decodeRequest,
  decodeResponse,
  type DisplifRequest,
  encodeEvent,
  encodeRequest,
  encodeResponse,
  isUnknownRequest,
} from "./codec.js";
import { DRM_FORMAT, edidBlock, fourcc, pixelFormatBpp } from "./formats.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("golden bytes", () => {
  test("DBUF_CREATE: cookie @8, width @16 … data_ofs @40", () => {
    const b = encodeRequest({
      operation: XENDISPL_OP_DBUF_CREATE,
      id: 0x1234,
      dbufCookie: 0x0102030405060708n,
      width: 640,
      height: 480,
      bpp: 32,
      bufferSz: 1228800,
      flags: XENDISPL_DBUF_FLG_REQ_ALLOC,
      grefDirectory: 0xabcdef,
      dataOfs: 0,
    });
    assert.equal(
      hex(b.subarray(0, 48)),
      "3412100000000000" +
        "0807060504030201" +
        "80020000" +
        "e0010000" +
        "20000000" +
        "00c01200" +
        "01000000" +
        "efcdab00" +
        "00000000" +
        "00000000",
    );
    assert.ok(b.subarray(44).every((x) => x === 0));
  });
  test("SET_CONFIG bpp @32 (the C struct, not the diagram's 36)", () => {
    const b = encodeRequest({
      operation: XENDISPL_OP_SET_CONFIG,
      id: 1,
      fbCookie: 7n,
      x: 1,
      y: 2,
      width: 3,
      height: 4,
      bpp: 32,
    });
    const v = new DataView(b.buffer);
    assert.equal(v.getUint32(32, true), 32);
    assert.equal(v.getUint32(36, true), 0);
  });
  test("GET_EDID buffer_sz @8, gref_directory @12 (the C struct, not the diagram's 4 and 8)", () => {
    const b = encodeRequest({ operation: XENDISPL_OP_GET_EDID, id: 2, bufferSz: 32768, grefDirectory: 99 });
    const v = new DataView(b.buffer);
    assert.equal(v.getUint32(4, true), 0);
    assert.equal(v.getUint32(8, true), 32768);
    assert.equal(v.getUint32(12, true), 99);
  });
  test("response status @4 (signed), edid_sz @8 only for GET_EDID; event fb_cookie @8", () => {
    const r = encodeResponse({ id: 9, operation: XENDISPL_OP_PG_FLIP, status: -XenErrno.EINVAL, edidSz: 5 });
    assert.equal(hex(r.subarray(0, 12)), "0900150" + "0eaffffff" + "00000000");
    const e = encodeResponse({ id: 9, operation: XENDISPL_OP_GET_EDID, status: 0, edidSz: 128 });
    assert.equal(decodeResponse(e).edidSz, 128);
    const ev = encodeEvent({ id: 3, type: XENDISPL_EVT_PG_FLIP, fbCookie: 0xffn });
    assert.equal(hex(ev.subarray(0, 16)), "0300000000000000ff00000000000000");
  });
});

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const requestArb: fc.Arbitrary<DisplifRequest> = fc.oneof(
  fc.record({
    operation: fc.constant(XENDISPL_OP_DBUF_CREATE as typeof XENDISPL_OP_DBUF_CREATE),
    id: u16,
    dbufCookie: u64,
    width: u32,
    height: u32,
    bpp: u32,
    bufferSz: u32,
    flags: u32,
    grefDirectory: u32,
    dataOfs: u32,
  }),
  fc.record({
    operation: fc.constant(XENDISPL_OP_DBUF_DESTROY as typeof XENDISPL_OP_DBUF_DESTROY),
    id: u16,
    dbufCookie: u64,
  }),
  fc.record({
    operation: fc.constant(XENDISPL_OP_FB_ATTACH as typeof XENDISPL_OP_FB_ATTACH),
    id: u16,
    dbufCookie: u64,
    fbCookie: u64,
    width: u32,
    height: u32,
    pixelFormat: u32,
  }),
  fc.record({
    operation: fc.constant(XENDISPL_OP_FB_DETACH as typeof XENDISPL_OP_FB_DETACH),
    id: u16,
    fbCookie: u64,
  }),
  fc.record({
    operation: fc.constant(XENDISPL_OP_SET_CONFIG as typeof XENDISPL_OP_SET_CONFIG),
    id: u16,
    fbCookie: u64,
    x: u32,
    y: u32,
    width: u32,
    height: u32,
    bpp: u32,
  }),
  fc.record({
    operation: fc.constant(XENDISPL_OP_PG_FLIP as typeof XENDISPL_OP_PG_FLIP),
    id: u16,
    fbCookie: u64,
  }),
  fc.record({
    operation: fc.constant(XENDISPL_OP_GET_EDID as typeof XENDISPL_OP_GET_EDID),
    id: u16,
    bufferSz: u32,
    grefDirectory: u32,
  }),
);

describe("round trips", () => {
  test("every request decodes to itself; stale bytes in the buffer are overwritten", () => {
    fc.assert(
      fc.property(requestArb, fc.uint8Array({ minLength: 64, maxLength: 64 }), (req, junk) => {
        const buf = Uint8Array.from(junk);
        encodeRequest(req, buf);
        assert.deepEqual(decodeRequest(buf), { ...req });
        assert.deepEqual(buf, encodeRequest(req));
      }),
    );
  });
  test("responses and events", () => {
    fc.assert(
      fc.property(
        u16,
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        u32,
        (id, op, status, edid) => {
          const r = decodeResponse(encodeResponse({ id, operation: op, status, edidSz: edid }));
          assert.deepEqual(
            r,
            op === XENDISPL_OP_GET_EDID
              ? { id, operation: op, status, edidSz: edid }
              : { id, operation: op, status },
          );
        },
      ),
    );
    fc.assert(
      fc.property(u16, u64, (id, fbCookie) => {
        assert.deepEqual(decodeEvent(encodeEvent({ id, type: XENDISPL_EVT_PG_FLIP, fbCookie })), {
          id,
          type: XENDISPL_EVT_PG_FLIP,
          fbCookie,
        });
      }),
    );
  });
  test("unknown operations keep the id (answered with -XEN_ENOSYS)", () => {
    for (const op of [0, 0x0f, 0x17, 0xff]) {
      const b = new Uint8Array(64);
      b[0] = 0x22;
      b[2] = op;
      const r = decodeRequest(b);
      assert.ok(isUnknownRequest(r));
      assert.equal(r.id, 0x22);
      assert.equal(r.operation, op);
    }
  });
  test("values that do not fit are refused", () => {
    assert.throws(
      () => encodeRequest({ operation: XENDISPL_OP_PG_FLIP, id: 0x10000, fbCookie: 1n }),
      RangeError,
    );
    assert.throws(
      () => encodeRequest({ operation: XENDISPL_OP_PG_FLIP, id: 1, fbCookie: 2n ** 64n }),
      RangeError,
    );
    assert.throws(() => decodeRequest(new Uint8Array(63)), RangeError);
  });
});

describe("formats and EDID", () => {
  test("fourcc codes are DRM's", () => {
    assert.equal(DRM_FORMAT.XRGB8888, 0x34325258);
    assert.equal(fourcc("AR24"), 0x34325241);
    assert.equal(pixelFormatBpp(DRM_FORMAT.XRGB8888), 32);
    assert.equal(pixelFormatBpp(DRM_FORMAT.RGB565), 16);
    assert.equal(pixelFormatBpp(0x12345678), undefined);
  });
  test("EDID block: header, checksum, preferred mode", () => {
    const e = edidBlock(1920, 1080);
    assert.equal(hex(e.subarray(0, 8)), "00ffffffffffff00");
    assert.equal(e.reduce((a, b) => a + b, 0) % 256, 0);
    assert.equal(e[56]! | ((e[58]! >> 4) << 8), 1920);
    assert.equal(e[59]! | ((e[61]! >> 4) << 8), 1080);
  });
});
