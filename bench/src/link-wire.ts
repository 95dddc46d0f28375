// The pieces `xensim bench link` shares between its two processes: the record stream (the link's
// own DATA frames, @xensim/link), the raw-bytes gRPC bidi service, and the receiving side that
// applies every record into a SharedArrayBuffer as the link thread would.
import * as grpc from "@grpc/grpc-js";
import { DataFrameBuilder, decodeDataHeader, REC_RANGE, RecordReader } from "@xensim/link";

/** One "I/O" of the stream: a 4 KiB page delta, a 112-byte slot delta, a 4-byte index, a kick. */
export const RECORDS_PER_IO = 4;
export const PAYLOAD_PER_IO = 4096 + 112 + 4;

/** A DATA frame of `ios` I/Os (each: page delta, slot delta, index, kick), like the block path's. */
export function buildStreamFrame(
  builder: DataFrameBuilder,
  seq: number,
  ios: number,
  src: Uint8Array,
): Uint8Array {
  for (let i = 0; i < ios; i++) {
    const f = (seq * ios + i) & 1023;
    builder.range(1000 + f, 0, src, 0, 4096);
    builder.range(5, 64 + (i % 32) * 112, src, 4096, 112);
    builder.range(5, 0, src, 0, 4);
    builder.event(7, 0, 3);
  }
  return builder.finish({ seq, ack: 0, watermark: seq, flags: 0 });
}

/** A one-record frame (a kick) for the latency rows. */
export function buildPingFrame(builder: DataFrameBuilder, seq: number, flags = 0x80): Uint8Array {
  builder.event(7, 0, 3);
  return builder.finish({ seq, ack: 0, watermark: seq, flags });
}

/**
 * The receiving end: decodes each DATA frame (type byte first, as FrameDecoder hands it out) and
 * applies every RANGE into `mem` (4 KiB frames); returns the records seen.
 */
export class StreamApplier {
  records = 0;
  bytes = 0;
  frames = 0;
  private readonly mem: Uint8Array;
  constructor(frames = 2048) {
    this.mem = new Uint8Array(new SharedArrayBuffer(frames * 4096));
  }
  apply(frame: Uint8Array): void {
    const h = decodeDataHeader(frame);
    const r = new RecordReader(h.body);
    const mask = this.mem.length / 4096 - 1;
    for (let rec = r.next(); rec; rec = r.next()) {
      this.records++;
      if (rec.type === REC_RANGE) {
        this.mem.set(
          rec.data.subarray(rec.start, rec.start + rec.length),
          (rec.origin & mask) * 4096 + rec.offset,
        );
        this.bytes += rec.length;
      }
    }
    this.frames++;
  }
}

const raw = {
  serialize: (b: Buffer): Buffer => b,
  deserialize: (b: Buffer): Buffer => b,
};

/** A bidi stream of raw byte messages, no protobuf: the gRPC row measures HTTP/2 framing only. */
export const LINK_BENCH_SERVICE: grpc.ServiceDefinition = {
  Stream: {
    path: "/xensim.bench.LinkBench/Stream",
    requestStream: true,
    responseStream: true,
    requestSerialize: raw.serialize,
    requestDeserialize: raw.deserialize,
    responseSerialize: raw.serialize,
    responseDeserialize: raw.deserialize,
    originalName: "stream",
  },
};

/** Frame length prefix for the stream transports (the link's framing). */
export function lengthPrefixed(frameWithoutLength: Uint8Array): Uint8Array {
  const out = new Uint8Array(frameWithoutLength.length + 4);
  new DataView(out.buffer).setUint32(0, frameWithoutLength.length, true);
  out.set(frameWithoutLength, 4);
  return out;
}
