import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { BlockIo, BlockIoStatus, BlockStore } from "@xensim/blkif";
import { MemoryStore } from "@xensim/blkstore";
import { ByteQueue, encodeRequest, NbdCmd, NbdConnection, type NbdExports } from "./index.js";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const concat = (parts: Uint8Array[]) => Uint8Array.from(Buffer.concat(parts));
const opt = (option: number, data: Uint8Array = new Uint8Array(0)) => {
  const h = Buffer.alloc(16);
  h.write("IHAVEOPT", 0, "latin1");
  h.writeUInt32BE(option, 8);
  h.writeUInt32BE(data.length, 12);
  return concat([h, data]);
};
const goData = (name: string, infos: number[]) => {
  const n = Buffer.from(name);
  const b = Buffer.alloc(4 + n.length + 2 + 2 * infos.length);
  b.writeUInt32BE(n.length, 0);
  n.copy(b, 4);
  b.writeUInt16BE(infos.length, 4 + n.length);
  infos.forEach((t, i) => b.writeUInt16BE(t, 6 + n.length + 2 * i));
  return Uint8Array.from(b);
};
const req = (type: number, cookie: number, offset: number, length: number, flags = 0) =>
  encodeRequest({ type, cookie: BigInt(cookie), offset, length, flags });

interface Run {
  out: Uint8Array;
  closed: string | undefined;
  conn: NbdConnection;
}
/** Feeds `input` in the given pieces to a fresh connection; returns everything it sent. */
function run(exports: NbdExports, input: Uint8Array, cuts: number[] = []): Run {
  const sent: Uint8Array[] = [];
  let closed: string | undefined;
  const conn = new NbdConnection(exports, {
    send: (b) => sent.push(Uint8Array.from(b)),
    close: (r) => (closed = r),
  });
  conn.start();
  let prev = 0;
  for (const c of [...cuts, input.length]) {
    conn.feed(input.subarray(prev, c));
    prev = c;
  }
  return { out: concat(sent), closed, conn };
}

const GREETING = "4e42444d41474943 49484156454f5054 0003";
const REP = "0003e889045565a9";

/** The golden conversation: structured replies, GO with block size, write, read, flush, bad read, disconnect. */
function golden() {
  const store = new MemoryStore({ sizeBytes: 1 << 20 });
  const input = concat([
    hex("00000003"),
    opt(8),
    opt(7, goData("disk", [3])),
    req(NbdCmd.WRITE, 1, 4096, 512),
    new Uint8Array(512).fill(0xab),
    req(NbdCmd.READ, 2, 4096, 512),
    req(NbdCmd.FLUSH, 3, 0, 0),
    req(NbdCmd.READ, 4, 1 << 20, 512),
    req(NbdCmd.DISC, 5, 0, 0),
  ]);
  const want = hex(
    [
      GREETING,
      `${REP} 00000008 00000001 00000000`, // ACK structured replies
      `${REP} 00000007 00000003 0000000c 0000 0000000000100000 00ed`, // INFO_EXPORT: 1 MiB, flags
      `${REP} 00000007 00000003 0000000e 0003 00000001 00001000 02000000`, // INFO_BLOCK_SIZE 1/4096/32M
      `${REP} 00000007 00000001 00000000`, // ACK → transmission
      "67446698 00000000 0000000000000001", // write ok (simple reply)
      `668e33ef 0001 0001 0000000000000002 00000208 0000000000001000 ${"ab".repeat(512)}`, // OFFSET_DATA, DONE
      "67446698 00000000 0000000000000003", // flush ok
      `668e33ef 0001 8001 0000000000000004 0000000c 00000016 0006 ${toHex(Buffer.from("EINVAL"))}`, // ERROR EINVAL
    ].join(""),
  );
  return { exports: new Map([["disk", store as BlockStore]]), input, want };
}

describe("NbdConnection golden bytes", () => {
  it("fed whole", () => {
    const g = golden();
    const r = run(g.exports, g.input);
    assert.equal(toHex(r.out), toHex(g.want));
    assert.equal(r.closed, "client disconnected");
    assert.ok(r.conn.structuredReplies);
  });
  it("fed byte by byte", () => {
    const g = golden();
    const r = run(
      g.exports,
      g.input,
      Array.from({ length: g.input.length }, (_, i) => i),
    );
    assert.equal(toHex(r.out), toHex(g.want));
    assert.equal(r.closed, "client disconnected");
  });
  it("split at every offset", () => {
    const g0 = golden();
    for (let cut = 0; cut <= g0.input.length; cut++) {
      const g = golden();
      const r = run(g.exports, g.input, [cut]);
      assert.equal(toHex(r.out), toHex(g.want), `cut at ${cut}`);
      assert.equal(r.closed, "client disconnected");
    }
  });
  it("NBD_OPT_EXPORT_NAME without NO_ZEROES: size, flags, 124 zeros; simple replies for reads", () => {
    const store = new MemoryStore({ sizeBytes: 8192, readonly: true });
    const r = run(
      new Map([["", store as BlockStore]]),
      concat([hex("00000001"), opt(1), req(NbdCmd.READ, 9, 0, 4)]),
    );
    assert.equal(
      toHex(r.out),
      toHex(
        hex(
          `${GREETING} 0000000000002000 000f ${"00".repeat(124)} 67446698 00000000 0000000000000009 00000000`,
        ),
      ),
    );
    assert.equal(r.closed, undefined);
  });
});

describe("NbdConnection handshake", () => {
  const exports = new Map([
    ["a", new MemoryStore({ sizeBytes: 4096 }) as BlockStore],
    ["b", new MemoryStore({ sizeBytes: 4096 }) as BlockStore],
  ]);
  it("unknown options → NBD_REP_ERR_UNSUP; LIST names every export; INFO does not enter transmission", () => {
    const r = run(
      exports,
      concat([hex("00000003"), opt(99, hex("0102")), opt(3), opt(6, goData("b", [])), opt(2)]),
    );
    assert.equal(
      toHex(r.out),
      toHex(
        hex(
          [
            GREETING,
            `${REP} 00000063 80000001 00000000`,
            `${REP} 00000003 00000002 00000005 00000001 61`,
            `${REP} 00000003 00000002 00000005 00000001 62`,
            `${REP} 00000003 00000001 00000000`,
            `${REP} 00000006 00000003 0000000c 0000 0000000000001000 006d`,
            `${REP} 00000006 00000001 00000000`,
            `${REP} 00000002 00000001 00000000`,
          ].join(""),
        ),
      ),
    );
    assert.equal(r.closed, "client aborted");
    assert.equal(r.conn.inTransmission, false);
  });
  it("GO for an unknown export → NBD_REP_ERR_UNKNOWN, then a good GO works", () => {
    const r = run(exports, concat([hex("00000003"), opt(7, goData("zz", [])), opt(7, goData("a", [1]))]));
    const msg = toHex(Buffer.from("no export named 'zz'"));
    assert.ok(
      toHex(r.out).includes(`${REP}0000000780000006${(msg.length / 2).toString(16).padStart(8, "0")}${msg}`),
    );
    assert.ok(
      toHex(r.out).includes(`${REP}00000007000000030000000300016100`.slice(0, -2)),
      "NBD_INFO_NAME sent when asked",
    );
    assert.equal(r.conn.export?.name, "a");
  });
  it("malformed options → NBD_REP_ERR_INVALID; bad magic, unknown client flags, unknown EXPORT_NAME → disconnect", () => {
    const bad = run(exports, concat([hex("00000003"), opt(7, hex("00000009 6100")), opt(8, hex("00"))]));
    assert.equal((toHex(bad.out).match(/80000003/g) ?? []).length, 2);
    assert.equal(run(exports, concat([hex("00000003"), hex("00".repeat(16))])).closed, "bad option magic");
    assert.equal(run(exports, hex("00000004")).closed, "unknown client flags");
    assert.equal(
      run(exports, concat([hex("00000003"), opt(1, Buffer.from("nope"))])).closed,
      "unknown export 'nope'",
    );
    // A function of exports cannot be listed.
    const f = run(() => undefined, concat([hex("00000003"), opt(3)]));
    assert.ok(
      toHex(f.out).endsWith(
        `${REP}0000000380000002${"00000018"}${toHex(Buffer.from("exports are not listable"))}`,
      ),
    );
  });
  it("an oversized option is skipped and answered NBD_REP_ERR_TOO_BIG", () => {
    const r = run(exports, concat([hex("00000003"), opt(9, new Uint8Array(70_000)), opt(8)]));
    assert.ok(toHex(r.out).includes(`${REP}0000000980000009`));
    assert.ok(toHex(r.out).endsWith(`${REP}000000080000000100000000`));
  });
});

/** A store that holds completions until release() — to complete out of order. */
class HeldStore implements BlockStore {
  readonly inner = new MemoryStore({ sizeBytes: 1 << 16 });
  readonly info = this.inner.info;
  held: (() => void)[] = [];
  submit(io: BlockIo, done: (s: BlockIoStatus) => void): void {
    this.held.push(() => this.inner.submit(io, done));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe("NbdConnection transmission", () => {
  const open = (
    store: BlockStore,
    structured = false,
    hooks: { pause?: () => void; resume?: () => void } = {},
    maxInFlight?: number,
  ) => {
    const sent: Uint8Array[] = [];
    let closed: string | undefined;
    const conn = new NbdConnection(
      new Map([["x", store]]),
      { send: (b) => sent.push(Uint8Array.from(b)), close: (r) => (closed = r), ...hooks },
      maxInFlight === undefined ? {} : { maxInFlight },
    );
    conn.start();
    conn.feed(concat([hex("00000003"), ...(structured ? [opt(8)] : []), opt(7, goData("x", []))]));
    sent.length = 0;
    return { conn, sent, closed: () => closed };
  };
  it("completes pipelined requests out of order, each reply with its cookie and data", () => {
    const store = new HeldStore();
    store.inner.bytes.fill(7, 0, 512);
    store.inner.bytes.fill(9, 512, 1024);
    const c = open(store);
    c.conn.feed(
      concat([
        req(NbdCmd.READ, 0x11, 0, 512),
        req(NbdCmd.READ, 0x22, 512, 512),
        req(NbdCmd.FLUSH, 0x33, 0, 0),
      ]),
    );
    assert.equal(store.held.length, 3);
    assert.equal(c.sent.length, 0);
    for (const f of store.held.reverse()) f();
    const out = toHex(concat(c.sent));
    assert.equal(
      out,
      toHex(
        hex(
          `67446698 00000000 0000000000000033 67446698 00000000 0000000000000022 ${"09".repeat(512)} 67446698 00000000 0000000000000011 ${"07".repeat(512)}`,
        ),
      ),
    );
  });
  it("pauses input at maxInFlight and resumes as requests complete", () => {
    const store = new HeldStore();
    const events: string[] = [];
    const c = open(
      store,
      false,
      { pause: () => events.push("pause"), resume: () => events.push("resume") },
      2,
    );
    c.conn.feed(concat([1, 2, 3, 4, 5].map((i) => req(NbdCmd.FLUSH, i, 0, 0))));
    assert.equal(store.held.length, 2);
    assert.deepEqual(events, ["pause"]);
    store.held.shift()?.();
    assert.deepEqual(events, ["pause", "resume", "pause"]);
    assert.equal(store.held.length, 2);
    while (store.held.length > 0) store.held.shift()?.();
    assert.equal(c.sent.length, 5);
    assert.equal(c.conn.pending, 0);
  });
  it("errors: read-only write → EPERM (payload skipped), out of range → EINVAL/ENOSPC, unknown command/flag → EINVAL, store error mapped", () => {
    const ro = open(new MemoryStore({ sizeBytes: 4096, readonly: true }));
    ro.conn.feed(
      concat([
        req(NbdCmd.WRITE, 1, 0, 512),
        new Uint8Array(512),
        req(NbdCmd.TRIM, 2, 0, 512),
        req(NbdCmd.READ, 3, 4000, 200),
        req(42, 4, 0, 0),
        req(NbdCmd.READ, 5, 0, 1, 1 << 9),
      ]),
    );
    const replies = toHex(concat(ro.sent));
    assert.equal(
      replies,
      toHex(
        hex(
          ["00000001", "00000001", "00000016", "00000016", "00000016"]
            .map((e, i) => `67446698 ${e} 000000000000000${i + 1}`)
            .join(""),
        ),
      ),
    );
    const rw = open(new MemoryStore({ sizeBytes: 4096 }));
    rw.conn.feed(concat([req(NbdCmd.WRITE, 1, 3584, 1024), new Uint8Array(1024)]));
    assert.equal(toHex(concat(rw.sent)), toHex(hex("67446698 0000001c 0000000000000001")));
    const failing: BlockStore = {
      info: new MemoryStore({ sizeBytes: 4096 }).info,
      submit: (_io, done) => done(-95),
      close: () => Promise.resolve(),
    };
    const f = open(failing, true);
    f.conn.feed(concat([req(NbdCmd.FLUSH, 1, 0, 0), req(NbdCmd.READ, 2, 0, 512)]));
    assert.equal(
      toHex(concat(f.sent)),
      toHex(
        hex(
          `67446698 0000005f 0000000000000001 668e33ef 0001 8001 0000000000000002 0000000d 0000005f 0007 ${toHex(Buffer.from("ENOTSUP"))}`,
        ),
      ),
    );
  });
  it("bad request magic: answers what is in flight, then closes", () => {
    const store = new HeldStore();
    const c = open(store);
    c.conn.feed(concat([req(NbdCmd.FLUSH, 1, 0, 0), hex("deadbeef".repeat(7))]));
    assert.equal(c.closed(), undefined);
    store.held.shift()?.();
    assert.equal(c.sent.length, 1);
    assert.equal(c.closed(), "bad request magic");
  });
  it("unaligned reads and writes (read-modify-write), write-zeroes and trim agree with a byte model (fast-check)", () => {
    const size = 8192;
    const cmd = fc.record({
      kind: fc.constantFrom("write", "read", "zero", "trim"),
      off: fc.integer({ min: 0, max: size - 1 }),
      len: fc.integer({ min: 0, max: 1500 }),
      v: fc.integer({ min: 1, max: 255 }),
    });
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 30 }), fc.boolean(), (cmds, structured) => {
        const store = new MemoryStore({ sizeBytes: size });
        const model = new Uint8Array(size);
        const c = open(store, structured);
        let cookie = 0;
        for (const k of cmds) {
          const len = Math.min(k.len, size - k.off);
          c.sent.length = 0;
          cookie++;
          if (k.kind === "write") {
            c.conn.feed(concat([req(NbdCmd.WRITE, cookie, k.off, len), new Uint8Array(len).fill(k.v)]));
            model.fill(k.v, k.off, k.off + len);
          } else if (k.kind === "zero") {
            c.conn.feed(req(NbdCmd.WRITE_ZEROES, cookie, k.off, len));
            model.fill(0, k.off, k.off + len);
          } else if (k.kind === "trim") {
            c.conn.feed(req(NbdCmd.TRIM, cookie, k.off, len));
            // MemoryStore discards zero-fill: whole sectors inside the range only.
            const a = Math.ceil(k.off / 512) * 512;
            const b = Math.floor((k.off + len) / 512) * 512;
            if (b > a) model.fill(0, a, b);
          } else {
            c.conn.feed(req(NbdCmd.READ, cookie, k.off, len));
            const out = concat(c.sent);
            const data = structured ? (len === 0 ? new Uint8Array(0) : out.subarray(28)) : out.subarray(16);
            assert.equal(toHex(data), toHex(model.subarray(k.off, k.off + len)));
            continue;
          }
          assert.equal(
            toHex(concat(c.sent)),
            toHex(hex(`67446698 00000000 ${cookie.toString(16).padStart(16, "0")}`)),
          );
        }
        assert.equal(toHex(store.bytes), toHex(model));
      }),
      { numRuns: 150 },
    );
  });
});

describe("ByteQueue", () => {
  it("take/skip across arbitrary chunking equals slicing the concatenation (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.integer({ min: 0, max: 300 })),
        fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 20 }),
        (data, cuts, reads) => {
          const q = new ByteQueue();
          const pts = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
          let prev = 0;
          for (const p of [...pts, data.length]) {
            q.push(data.subarray(prev, p));
            prev = p;
          }
          let pos = 0;
          reads.forEach((n, i) => {
            if (i % 3 === 2) {
              const k = q.skip(n);
              assert.equal(k, Math.min(n, data.length - pos));
              pos += k;
            } else if (n <= q.length) {
              assert.deepEqual(q.take(n), data.subarray(pos, pos + n));
              pos += n;
            }
            assert.equal(q.length, data.length - pos);
          });
        },
      ),
    );
  });
});

describe("NbdConnection stream splitting (fast-check)", () => {
  it("any chunking of a random conversation gives the same bytes out as feeding it whole", () => {
    const cmd = fc.record({
      type: fc.constantFrom(NbdCmd.READ, NbdCmd.WRITE, NbdCmd.FLUSH, NbdCmd.TRIM, NbdCmd.WRITE_ZEROES, 77),
      off: fc.integer({ min: 0, max: 20_000 }),
      len: fc.integer({ min: 0, max: 3000 }),
      fua: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(cmd, { maxLength: 12 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 30 }),
        (cmds, structured, rawCuts) => {
          const parts: Uint8Array[] = [
            hex("00000003"),
            ...(structured ? [opt(8)] : []),
            opt(3),
            opt(7, goData("d", [3, 1])),
          ];
          cmds.forEach((c, i) => {
            parts.push(req(c.type, i + 1, c.off, c.len, c.fua ? 1 : 0));
            if (c.type === NbdCmd.WRITE) parts.push(new Uint8Array(c.len).fill(i + 1));
          });
          parts.push(req(NbdCmd.DISC, 0, 0, 0));
          const input = concat(parts);
          const mk = () => new Map([["d", new MemoryStore({ sizeBytes: 16384 }) as BlockStore]]);
          const whole = run(mk(), input);
          const cuts = [...new Set(rawCuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
          const split = run(mk(), input, cuts);
          assert.equal(toHex(split.out), toHex(whole.out));
          assert.equal(split.closed, "client disconnected");
          assert.equal(whole.closed, "client disconnected");
        },
      ),
      { numRuns: 200 },
    );
  });
});
