// nbd: the NBD server's connection state machine (handshake and transmission) over a 1 MiB export,
// fed in pieces; nothing is sent after close, and the output is bounded by what was asked.
import { MemoryStore } from "@xensim/blkstore";
import { encodeRequest as encodeNbdRequest, NbdCmd, NbdConnection } from "@xensim/nbd";
import type { FuzzTarget } from "../target.js";
import { must } from "../invariant.js";

function nbdSeeds(): Uint8Array[] {
  const opt = (option: number, data: Uint8Array) => {
    const b = new Uint8Array(16 + data.length);
    const v = new DataView(b.buffer);
    v.setBigUint64(0, 0x49484156454f5054n);
    v.setUint32(8, option);
    v.setUint32(12, data.length);
    b.set(data, 16);
    return b;
  };
  const name = new TextEncoder().encode("d");
  const go = new Uint8Array(4 + name.length + 2);
  new DataView(go.buffer).setUint32(0, name.length);
  go.set(name, 4);
  const flags = Uint8Array.of(0, 0, 0, 3);
  const cat = (...xs: Uint8Array[]) => {
    const out = new Uint8Array(xs.reduce((s, x) => s + x.length, 0));
    let o = 0;
    for (const x of xs) {
      out.set(x, o);
      o += x.length;
    }
    return out;
  };
  const handshake = cat(flags, opt(8, new Uint8Array(0)) /* STRUCTURED_REPLY */, opt(7, go) /* GO */);
  const rq = (type: number, offset: number, length: number, cookie: number) =>
    encodeNbdRequest({ type, cookie: BigInt(cookie), offset, length });
  return [
    handshake,
    cat(
      handshake,
      rq(NbdCmd.READ, 0, 4096, 1),
      rq(NbdCmd.WRITE, 512, 1024, 2),
      new Uint8Array(1024).fill(7),
      rq(NbdCmd.FLUSH, 0, 0, 3),
    ),
    cat(
      handshake,
      rq(NbdCmd.TRIM, 0, 8192, 4),
      rq(NbdCmd.WRITE_ZEROES, 100, 3000, 5),
      rq(NbdCmd.DISC, 0, 0, 6),
    ),
    cat(
      flags,
      opt(3, new Uint8Array(0)) /* LIST */,
      opt(6, go) /* INFO */,
      opt(2, new Uint8Array(0)) /* ABORT */,
    ),
    cat(Uint8Array.of(0, 0, 0, 1), opt(1, name)) /* EXPORT_NAME without NO_ZEROES */,
  ];
}

/** One export for every input (its bytes do not matter; allocating 1 MiB per input would). */
const nbdStore = new MemoryStore({ sizeBytes: 1 << 20 });

export const nbdTarget: FuzzTarget = {
  name: "nbd",
  description: "the NBD server's connection state machine (handshake and transmission) over a 1 MiB export",
  corpusDir: "packages/nbd/src/fuzz-corpus/nbd",
  maxLength: 64 * 1024,
  seeds: nbdSeeds,
  run(input) {
    const store = nbdStore;
    let out = 0;
    let closed = false;
    let afterClose = 0;
    const conn = new NbdConnection(
      new Map([["d", store]]),
      {
        send(b) {
          if (closed) afterClose += b.length;
          out += b.length;
        },
        close() {
          closed = true;
        },
      },
      { maxPayload: 256 * 1024 },
    );
    conn.start();
    // fed in pieces cut where the input's own bytes say (partial frames across calls)
    let at = 0;
    let cut = 1;
    while (at < input.length && !closed) {
      const len = 1 + ((input[cut % input.length]! * 31 + cut) % 257);
      conn.feed(input.subarray(at, at + len));
      at += len;
      cut += 7;
    }
    conn.shutdown("fuzz input ended");
    must(afterClose === 0, "nothing sent after close");
    // a reply is bounded by what was asked: at most the payload cap per request, plus headers
    must(out <= 1024 + (input.length / 28 + 1) * (256 * 1024 + 64), "output bounded by the requests");
  },
};
