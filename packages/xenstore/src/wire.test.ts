import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { XsType } from "@xensim/abi";
import fc from "fast-check";
import {
  encodeXsMessage,
  parseXsStrings,
  XsDecoder,
  type XsMessage,
  XsProtocolError,
  xsError,
  xsErrorName,
  xsOk,
  xsStrings,
  xsWatchEvent,
} from "./wire.js";

const hex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

// Golden packets. The hex was produced by Python's struct.pack("<IIII", type, req_id, tx_id, len)
// + payload, independently of this codec.
const GOLDEN: [name: string, type: number, reqId: number, txId: number, payload: string, bytes: string][] = [
  ["CONTROL", 0, 0x1, 0x0, "print\0hello\0", "0000000001000000000000000c0000007072696e740068656c6c6f00"],
  [
    "DIRECTORY",
    1,
    0x2,
    0x0,
    "/local/domain\0",
    "0100000002000000000000000e0000002f6c6f63616c2f646f6d61696e00",
  ],
  [
    "READ",
    2,
    0x3,
    0x0,
    "/local/domain/0/name\0",
    "020000000300000000000000150000002f6c6f63616c2f646f6d61696e2f302f6e616d6500",
  ],
  ["GET_PERMS", 3, 0x4, 0x0, "/tool\0", "030000000400000000000000060000002f746f6f6c00"],
  [
    "WATCH",
    4,
    0x5,
    0x0,
    "/local/domain/1/device\0tok1\0",
    "0400000005000000000000001c0000002f6c6f63616c2f646f6d61696e2f312f64657669636500746f6b3100",
  ],
  [
    "UNWATCH",
    5,
    0x6,
    0x0,
    "/local/domain/1/device\0tok1\0",
    "0500000006000000000000001c0000002f6c6f63616c2f646f6d61696e2f312f64657669636500746f6b3100",
  ],
  ["TRANSACTION_START", 6, 0x7, 0x0, "\0", "0600000007000000000000000100000000"],
  ["TRANSACTION_END", 7, 0x8, 0x3, "T\0", "070000000800000003000000020000005400"],
  ["INTRODUCE", 8, 0x9, 0x0, "1\x0012345\x007\0", "0800000009000000000000000a00000031003132333435003700"],
  ["RELEASE", 9, 0xa, 0x0, "1\0", "090000000a00000000000000020000003100"],
  ["GET_DOMAIN_PATH", 10, 0xb, 0x0, "1\0", "0a0000000b00000000000000020000003100"],
  ["WRITE", 11, 0xc, 0x5, "/a/b\0hello", "0b0000000c000000050000000a0000002f612f620068656c6c6f"],
  ["MKDIR", 12, 0xd, 0x0, "/a\0", "0c0000000d00000000000000030000002f6100"],
  ["RM", 13, 0xe, 0x0, "/a\0", "0d0000000e00000000000000030000002f6100"],
  ["SET_PERMS", 14, 0xf, 0x0, "/a\0n0\0r1\0", "0e0000000f00000000000000090000002f61006e3000723100"],
  ["WATCH_EVENT", 15, 0x0, 0x0, "/a\0tok\0", "0f0000000000000000000000070000002f6100746f6b00"],
  ["ERROR", 16, 0x10, 0x0, "ENOENT\0", "10000000100000000000000007000000454e4f454e5400"],
  ["IS_DOMAIN_INTRODUCED", 17, 0x11, 0x0, "1\0", "110000001100000000000000020000003100"],
  ["RESUME", 18, 0x12, 0x0, "1\0", "120000001200000000000000020000003100"],
  ["SET_TARGET", 19, 0x13, 0x0, "2\x001\0", "1300000013000000000000000400000032003100"],
  ["RESET_WATCHES", 21, 0x14, 0x0, "\0", "1500000014000000000000000100000000"],
  ["DIRECTORY_PART", 22, 0x15, 0x0, "/local\x000\0", "160000001500000000000000090000002f6c6f63616c003000"],
  ["READ reply", 2, 0x3, 0x0, "hi", "020000000300000000000000020000006869"],
  ["DIRECTORY reply (empty)", 1, 0xfffffffe, 0xffffffff, "", "01000000feffffffffffffff00000000"],
];

function msgOf(row: (typeof GOLDEN)[number]): XsMessage {
  return { type: row[1], reqId: row[2], txId: row[3], payload: ascii(row[4]) };
}

describe("xs wire golden packets", () => {
  it("cover every message type of xs_wire.h that a 4.17-4.20 peer may send", () => {
    const covered = new Set(GOLDEN.map((r) => r[1]));
    for (const [name, t] of Object.entries(XsType)) {
      if (name === "TYPE_COUNT" || name === "INVALID") continue;
      assert.ok(covered.has(t), `no golden packet for ${name}`);
    }
  });

  for (const row of GOLDEN) {
    const bytes = hex(row[5]);
    it(`${row[0]}: encodes to the golden bytes`, () => {
      assert.deepEqual(encodeXsMessage(msgOf(row)), bytes);
    });
    it(`${row[0]}: decodes fed whole, byte by byte, and split at every offset`, () => {
      assert.deepEqual(new XsDecoder().push(bytes), [msgOf(row)]);
      const d = new XsDecoder();
      const got: XsMessage[] = [];
      for (const b of bytes) got.push(...d.push(Uint8Array.of(b)));
      assert.deepEqual(got, [msgOf(row)]);
      assert.equal(d.buffered, 0);
      for (let cut = 0; cut <= bytes.length; cut++) {
        const s = new XsDecoder();
        const parts = [...s.push(bytes.slice(0, cut)), ...s.push(bytes.slice(cut))];
        assert.deepEqual(parts, [msgOf(row)], `split at ${cut}`);
      }
    });
  }

  it("decodes all golden packets back to back, split at every offset", () => {
    const all = Uint8Array.from(GOLDEN.flatMap((r) => [...hex(r[5])]));
    const want = GOLDEN.map(msgOf);
    for (let cut = 0; cut <= all.length; cut++) {
      const d = new XsDecoder();
      assert.deepEqual([...d.push(all.subarray(0, cut)), ...d.push(all.subarray(cut))], want);
    }
  });
});

describe("XsDecoder", () => {
  it("accepts len = XENSTORE_PAYLOAD_MAX and rejects 4097, then stays failed", () => {
    const max = encodeXsMessage({ type: 11, reqId: 1, txId: 0, payload: new Uint8Array(4096) });
    assert.equal(new XsDecoder().push(max)[0]?.payload.length, 4096);
    const d = new XsDecoder();
    const bad = hex("0b00000001000000000000000110000000"); // len 0x1001
    assert.throws(
      () => d.push(bad),
      (e: unknown) => e instanceof XsProtocolError && e.len === 4097,
    );
    assert.equal(d.failed, true);
    assert.throws(() => d.push(max), XsProtocolError);
  });

  it("rejects an oversized header even when it arrives byte by byte, before its payload", () => {
    const d = new XsDecoder();
    const bad = hex("02000000010000000000000000000100"); // len 65536
    for (let i = 0; i < bad.length - 1; i++) assert.deepEqual(d.push(bad.subarray(i, i + 1)), []);
    assert.throws(() => d.push(bad.subarray(bad.length - 1)), XsProtocolError);
  });

  it("delivers frames before a bad header in the same chunk only by throwing (C drops the connection)", () => {
    const good = encodeXsMessage({ type: 2, reqId: 1, txId: 0, payload: ascii("/\0") });
    const bad = hex("02000000010000000000000000200000");
    const d = new XsDecoder();
    assert.throws(() => d.push(Uint8Array.from([...good, ...bad])), XsProtocolError);
  });

  it("feed() returns the frames before a bad header, and consumes up to the end of that header", () => {
    const good = encodeXsMessage({ type: 2, reqId: 1, txId: 0, payload: ascii("/\0") });
    const bad = hex("02000000010000000000000000200000"); // len 0x2000
    for (let split = 0; split <= good.length + bad.length; split++) {
      const all = Uint8Array.from([...good, ...bad, 1, 2, 3]);
      const d = new XsDecoder();
      const a = d.feed(all.subarray(0, split));
      const b = a.error ? a : d.feed(all.subarray(split));
      const msgs = [...a.messages, ...(b === a ? [] : b.messages)];
      assert.deepEqual(
        msgs.map((m) => m.reqId),
        [1],
      );
      assert.equal(b.error?.len, 0x2000);
      const consumed = a.consumed + (b === a ? 0 : b.consumed);
      assert.equal(consumed, good.length + bad.length, `split ${split}`);
      assert.deepEqual(d.feed(all), { messages: [], consumed: 0, error: b.error });
    }
  });

  it("copies payloads: reusing the input buffer does not change decoded messages", () => {
    const buf = encodeXsMessage({ type: 2, reqId: 9, txId: 0, payload: ascii("/a\0") });
    const [m] = new XsDecoder().push(buf);
    buf.fill(0);
    assert.deepEqual(m?.payload, ascii("/a\0"));
  });

  it("property: random message streams with random chunking decode to the messages sent", () => {
    const message = fc.record({
      type: fc.oneof(fc.integer({ min: 0, max: 30 }), fc.constant(0xffff), fc.nat({ max: 0xffffffff })),
      reqId: fc.nat({ max: 0xffffffff }),
      txId: fc.nat({ max: 0xffffffff }),
      payload: fc.uint8Array({ maxLength: 4096, size: "small" }),
    });
    fc.assert(
      fc.property(fc.array(message, { maxLength: 12 }), fc.array(fc.nat({ max: 64 })), (records, cuts) => {
        const msgs: XsMessage[] = records.map((m) => ({ ...m }));
        const stream = Uint8Array.from(msgs.flatMap((m) => [...encodeXsMessage(m)]));
        const d = new XsDecoder();
        const got: XsMessage[] = [];
        let off = 0;
        for (const c of cuts) {
          if (off >= stream.length) break;
          got.push(...d.push(stream.subarray(off, off + c)));
          off += c;
        }
        got.push(...d.push(stream.subarray(off)));
        assert.deepEqual(got, msgs);
        assert.equal(d.buffered, 0);
      }),
    );
  });

  it("property: with maxMessages, offering the unconsumed rest again gives the same messages", () => {
    // What a ring page does: bytes not consumed stay in the ring and are offered again, with more.
    const message = fc.record({
      type: fc.integer({ min: 0, max: 30 }),
      reqId: fc.nat({ max: 0xffffffff }),
      txId: fc.constant(0),
      payload: fc.uint8Array({ maxLength: 300 }),
    });
    fc.assert(
      fc.property(
        fc.array(message, { maxLength: 10 }),
        fc.array(fc.record({ arrive: fc.nat({ max: 200 }), max: fc.nat({ max: 3 }) }), { maxLength: 60 }),
        (records, steps) => {
          const msgs: XsMessage[] = records.map((m) => ({ ...m }));
          const stream = Uint8Array.from(msgs.flatMap((m) => [...encodeXsMessage(m)]));
          const d = new XsDecoder();
          const got: XsMessage[] = [];
          let consumed = 0;
          let arrived = 0;
          for (const step of [...steps, { arrive: stream.length, max: Infinity }]) {
            arrived = Math.min(stream.length, arrived + step.arrive);
            const r = d.feed(stream.subarray(consumed, arrived), step.max);
            assert.ok(r.messages.length <= step.max);
            got.push(...r.messages);
            consumed += r.consumed;
          }
          assert.deepEqual(got, msgs);
          assert.equal(consumed, stream.length);
          assert.equal(d.buffered, 0);
        },
      ),
    );
  });

  it("property: encode then decode is the identity", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 0xffffffff }),
        fc.nat({ max: 0xffffffff }),
        fc.nat({ max: 0xffffffff }),
        fc.uint8Array({ maxLength: 4096 }),
        (type, reqId, txId, payload) => {
          const m = { type, reqId, txId, payload };
          const bytes = encodeXsMessage(m);
          assert.equal(bytes.length, 16 + payload.length);
          assert.deepEqual(new XsDecoder().push(bytes), [m]);
        },
      ),
    );
  });

  it("encode refuses what the wire cannot carry", () => {
    assert.throws(
      () => encodeXsMessage({ type: -1, reqId: 0, txId: 0, payload: new Uint8Array() }),
      RangeError,
    );
    assert.throws(
      () => encodeXsMessage({ type: 0, reqId: 2 ** 32, txId: 0, payload: new Uint8Array() }),
      RangeError,
    );
    assert.throws(
      () => encodeXsMessage({ type: 0, reqId: 0, txId: 0, payload: new Uint8Array(4097) }),
      RangeError,
    );
  });
});

describe("payload helpers", () => {
  it("xsStrings / parseXsStrings", () => {
    assert.deepEqual(xsStrings("a", "bc"), ascii("a\0bc\0"));
    assert.deepEqual(xsStrings(), new Uint8Array());
    assert.deepEqual(xsStrings("p", Uint8Array.of(0xff, 1)), Uint8Array.of(0x70, 0, 0xff, 1, 0));
    assert.deepEqual(parseXsStrings(ascii("a\0b\0")), ["a", "b"]);
    assert.deepEqual(parseXsStrings(ascii("a\0b")), ["a", "b"]);
    assert.deepEqual(parseXsStrings(ascii("")), []);
    assert.deepEqual(parseXsStrings(ascii("\0")), [""]);
    assert.deepEqual(parseXsStrings(xsStrings("dévice")), ["dévice"]);
  });

  it("replies echo type, req_id and tx_id; errors use XS_ERROR", () => {
    const req: XsMessage = { type: 11, reqId: 77, txId: 5, payload: ascii("/a\0") };
    assert.deepEqual(encodeXsMessage(xsOk(req)), hex("0b0000004d00000005000000030000004f4b00"));
    assert.deepEqual(
      encodeXsMessage(xsError(req, "ENOENT")),
      hex("100000004d0000000500000007000000454e4f454e5400"),
    );
    assert.equal(xsErrorName(xsError(req, "EQUOTA")), "EQUOTA");
    assert.equal(xsErrorName(xsOk(req)), undefined);
    assert.deepEqual(
      encodeXsMessage(xsWatchEvent("/a", "tok")),
      hex("0f0000000000000000000000070000002f6100746f6b00"),
    );
  });
});
