// The link's wire format: golden bytes, round trips of every record, frames split at every offset
// (and fed byte by byte), and bad input that fails only with LinkCodecError. fast-check, seed printed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { testSeed } from "@xensim/testkit";
import fc from "fast-check";
import {
  DataFrameBuilder,
  decodeAckNack,
  decodeDataHeader,
  decodeHello,
  encodeAck,
  encodeHello,
  encodeNack,
  FRAME_ACK,
  FRAME_NACK,
  FrameDecoder,
  LinkCodecError,
  REC_DIRECTORY,
  REC_DIRECTORY_ACK,
  REC_EVENT,
  REC_EVENT_ALL,
  REC_RANGE,
  REC_REPLY,
  REC_REQUEST,
  REC_SEND,
  REC_ZERO,
  RecordReader,
} from "./codec.js";
import {
  decodeCopyRequest,
  decodeMapReply,
  decodeMapRequest,
  decodeStatuses,
  decodeUnmapReply,
  encodeCopyRequest,
  encodeMapReply,
  encodeMapRequest,
  encodeStatuses,
  encodeUnmapReply,
} from "./requests.js";

const seed = testSeed();
console.log(`link codec property tests: seed ${seed} (XENSIM_SEED=${seed} to replay)`);
const runs = { seed, numRuns: 200 };

type Rec =
  | { t: "range"; origin: number; offset: number; bytes: Uint8Array }
  | { t: "zero"; origin: number }
  | { t: "event"; domid: number; vcpu: number; port: number; fence?: { writer: string; seq: number } }
  | { t: "send"; seq: number; caller: number; port: number }
  | { t: "request"; id: number; op: number; caller: number; payload: Uint8Array }
  | { t: "reply"; id: number; op: number; payload: Uint8Array }
  | { t: "directory"; origin: number; add: boolean; writable: boolean; host: string; token: number }
  | { t: "directoryAck"; token: number }
  | { t: "eventAll"; domid: number };

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const host = fc
  .string({ minLength: 1, maxLength: 20 })
  .filter((s) => new TextEncoder().encode(s).length <= 255);
const rangeArb = fc
  .record({ origin: u32, offset: fc.integer({ min: 0, max: 4095 }), len: fc.integer({ min: 1, max: 4096 }) })
  .chain((r) =>
    fc.record({
      t: fc.constant("range" as const),
      origin: fc.constant(r.origin),
      offset: fc.constant(Math.min(r.offset, 4096 - 1)),
      bytes: fc.uint8Array({ minLength: 1, maxLength: Math.max(1, 4096 - Math.min(r.offset, 4095)) }),
    }),
  );
const recArb: fc.Arbitrary<Rec> = fc.oneof(
  rangeArb,
  fc.record({ t: fc.constant("zero" as const), origin: u32 }),
  fc.record(
    {
      t: fc.constant("event" as const),
      domid: fc.integer({ min: 0, max: 0xffff }),
      vcpu: fc.integer({ min: 0, max: 255 }),
      port: u32,
      fence: fc.record({ writer: host, seq: fc.maxSafeNat() }),
    },
    { requiredKeys: ["t", "domid", "vcpu", "port"] },
  ),
  fc.record({
    t: fc.constant("send" as const),
    seq: fc.maxSafeNat(),
    caller: fc.integer({ min: 0, max: 0xffff }),
    port: u32,
  }),
  fc.record({
    t: fc.constant("request" as const),
    id: u32,
    op: fc.integer({ min: 0, max: 255 }),
    caller: fc.integer({ min: 0, max: 0xffff }),
    payload: fc.uint8Array({ maxLength: 300 }),
  }),
  fc.record({
    t: fc.constant("reply" as const),
    id: u32,
    op: fc.integer({ min: 0, max: 255 }),
    payload: fc.uint8Array({ maxLength: 300 }),
  }),
  fc.record({
    t: fc.constant("directory" as const),
    origin: u32,
    add: fc.boolean(),
    writable: fc.boolean(),
    host,
    token: u32,
  }),
  fc.record({ t: fc.constant("directoryAck" as const), token: u32 }),
  fc.record({ t: fc.constant("eventAll" as const), domid: fc.integer({ min: 0, max: 0xffff }) }),
);

function build(
  b: DataFrameBuilder,
  recs: Rec[],
  hdr = { seq: 7, ack: 5, watermark: 2 ** 40 + 3, flags: 1 },
): Uint8Array {
  for (const r of recs) {
    switch (r.t) {
      case "range":
        b.range(r.origin, r.offset, r.bytes, 0, r.bytes.length);
        break;
      case "zero":
        b.zero(r.origin);
        break;
      case "event":
        b.event(r.domid, r.vcpu, r.port, r.fence);
        break;
      case "send":
        b.send(r.seq, r.caller, r.port);
        break;
      case "request":
        b.request(r.id, r.op, r.caller, r.payload);
        break;
      case "reply":
        b.reply(r.id, r.op, r.payload);
        break;
      case "directory":
        b.directory(r.origin, r.add, r.writable, r.host, r.token);
        break;
      case "directoryAck":
        b.directoryAck(r.token);
        break;
      case "eventAll":
        b.eventAll(r.domid);
        break;
    }
  }
  return b.finish(hdr);
}

function read(typeFirst: Uint8Array, checkCount = true): Rec[] {
  const h = decodeDataHeader(typeFirst);
  const r = new RecordReader(h.body);
  const out: Rec[] = [];
  for (let x = r.next(); x; x = r.next()) {
    switch (x.type) {
      case REC_RANGE:
        out.push({ t: "range", origin: x.origin, offset: x.offset, bytes: r.payload().slice() });
        break;
      case REC_ZERO:
        out.push({ t: "zero", origin: x.origin });
        break;
      case REC_EVENT:
        out.push(
          x.host === ""
            ? { t: "event", domid: x.domid, vcpu: x.vcpu, port: x.port }
            : {
                t: "event",
                domid: x.domid,
                vcpu: x.vcpu,
                port: x.port,
                fence: { writer: x.host, seq: x.seq },
              },
        );
        break;
      case REC_SEND:
        out.push({ t: "send", seq: x.seq, caller: x.caller, port: x.port });
        break;
      case REC_REQUEST:
        out.push({ t: "request", id: x.id, op: x.op, caller: x.caller, payload: r.payload().slice() });
        break;
      case REC_REPLY:
        out.push({ t: "reply", id: x.id, op: x.op, payload: r.payload().slice() });
        break;
      case REC_DIRECTORY:
        out.push({
          t: "directory",
          origin: x.origin,
          add: x.add,
          writable: x.writable,
          host: x.host,
          token: x.id,
        });
        break;
      case REC_DIRECTORY_ACK:
        out.push({ t: "directoryAck", token: x.id });
        break;
      case REC_EVENT_ALL:
        out.push({ t: "eventAll", domid: x.domid });
        break;
    }
  }
  if (checkCount) assert.equal(out.length, h.count);
  return out;
}

test("golden bytes: an ACK, a NACK, a one-range DATA frame", () => {
  assert.deepEqual([...encodeAck(0x01020304)], [5, 0, 0, 0, 3, 4, 3, 2, 1]);
  assert.deepEqual([...encodeNack(9, 11)], [9, 0, 0, 0, 4, 9, 0, 0, 0, 11, 0, 0, 0]);
  const b = new DataFrameBuilder();
  b.range(0x11223344, 0x10, Uint8Array.of(0xaa, 0xbb), 0, 2);
  const f = b.finish({ seq: 1, ack: 2, watermark: 3, flags: 0 });
  // length 33 | DATA | seq 1 | ack 2 | watermark 3 (u64) | flags 0 | count 1 | RANGE len 2 origin offset bytes
  assert.deepEqual(
    [...f],
    [
      33, 0, 0, 0, 2, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 2, 0, 0x44, 0x33,
      0x22, 0x11, 0x10, 0, 0xaa, 0xbb,
    ],
  );
});

test("every record round-trips through a DATA frame", () => {
  fc.assert(
    fc.property(fc.array(recArb, { maxLength: 30 }), (recs) => {
      const f = build(new DataFrameBuilder(64), recs);
      assert.deepEqual(read(f.subarray(4)), structuredClone(recs));
    }),
    runs,
  );
});

test("a stream of frames split at every offset (and byte by byte) decodes to the same frames", () => {
  fc.assert(
    fc.property(fc.array(fc.array(recArb, { maxLength: 6 }), { minLength: 1, maxLength: 5 }), (frames) => {
      const b = new DataFrameBuilder(64);
      const parts = frames.map((recs, i) => build(b, recs, { seq: i + 1, ack: 0, watermark: i, flags: 0 }));
      parts.push(encodeAck(3), encodeNack(4));
      parts.push(
        encodeHello({
          version: 1,
          hostId: "hostA",
          epoch: 123n << 16n,
          peerEpoch: 0n,
          lastReceived: 0,
          identity: new Uint8Array(0),
        }),
      );
      const stream = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        stream.set(p, at);
        at += p.length;
      }
      const expect = parts.map((p) => [...p.subarray(4)]);
      const cuts = [...Array(stream.length + 1).keys()];
      for (const cut of cuts) {
        const d = new FrameDecoder();
        const got: number[][] = [];
        d.push(stream.subarray(0, cut), (f) => got.push([...f]));
        d.push(stream.subarray(cut), (f) => got.push([...f]));
        assert.deepEqual(got, expect, `split at ${cut}`);
        assert.equal(d.pending, 0);
      }
      const d = new FrameDecoder();
      const got: number[][] = [];
      for (let i = 0; i < stream.length; i++) d.push(stream.subarray(i, i + 1), (f) => got.push([...f]));
      assert.deepEqual(got, expect, "byte by byte");
    }),
    { seed, numRuns: 25 },
  );
});

test("HELLO round-trips, with an identity", () => {
  const h = {
    version: 1,
    hostId: "hôte-B",
    epoch: 0xfedcba9876543210n,
    peerEpoch: 42n,
    lastReceived: 77,
    identity: Uint8Array.of(1, 2, 3),
  };
  assert.deepEqual(decodeHello(encodeHello(h).subarray(4)), h);
  assert.deepEqual(decodeAckNack(encodeAck(12).subarray(4)), { type: FRAME_ACK, value: 12, to: 12 });
  assert.deepEqual(decodeAckNack(encodeNack(13, 20).subarray(4)), { type: FRAME_NACK, value: 13, to: 20 });
});

test("truncated or corrupted frames fail with LinkCodecError, nothing else", () => {
  fc.assert(
    fc.property(
      fc.array(recArb, { minLength: 1, maxLength: 8 }),
      fc.nat(),
      fc.nat({ max: 255 }),
      (recs, cut, flip) => {
        const f = build(new DataFrameBuilder(64), recs).subarray(4);
        const truncated = f.slice(0, cut % f.length);
        try {
          read(truncated, false);
        } catch (e) {
          assert.ok(e instanceof LinkCodecError, String(e));
        }
        const corrupted = f.slice();
        corrupted[cut % f.length] = corrupted[cut % f.length]! ^ flip;
        try {
          read(corrupted, false);
        } catch (e) {
          assert.ok(e instanceof LinkCodecError, String(e));
        }
      },
    ),
    runs,
  );
  assert.throws(() => new FrameDecoder().push(Uint8Array.of(0, 0, 0, 0), () => {}), LinkCodecError);
  assert.throws(() => new DataFrameBuilder().range(1, 4000, new Uint8Array(200), 0, 200), LinkCodecError);
});

test("request payloads round-trip (map, map reply, unmap reply, copy, statuses)", () => {
  const q = { dom: 5, flags: 1, refs: [8, 9, 4000], watermarks: [{ writer: "hostG", seq: 2 ** 33 }] };
  assert.deepEqual(decodeMapRequest(encodeMapRequest(q)), q);
  const r = {
    results: [
      { status: 0, handle: 3, origin: 700 },
      { status: -4, handle: 0, origin: 0 },
    ],
    peers: [{ origin: 700, host: "hostG", writable: true }],
  };
  assert.deepEqual(decodeMapReply(encodeMapReply(r)), r);
  const u = { statuses: [0, -3], unsubscribed: [700] };
  assert.deepEqual(decodeUnmapReply(encodeUnmapReply(u)), u);
  assert.throws(() => decodeMapReply(Uint8Array.of(255, 255, 255, 255)), LinkCodecError);
  const c = {
    ops: [
      {
        source: { ref: 9, gmfn: 0, domid: 5, offset: 512 },
        dest: { ref: 0, gmfn: 0x1234, domid: 0x7ff0, offset: 4095 },
        len: 700,
        flags: 1,
      },
    ],
    watermarks: [{ writer: "hostB", seq: 17 }],
  };
  assert.deepEqual(decodeCopyRequest(encodeCopyRequest(c)), c);
  assert.deepEqual(decodeStatuses(encodeStatuses([0, -3, -12])), [0, -3, -12]);
  assert.throws(() => decodeCopyRequest(encodeCopyRequest(c).subarray(0, 20)), LinkCodecError);
});
