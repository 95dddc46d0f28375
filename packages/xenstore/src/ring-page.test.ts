// The xenstore ring page, both ends: golden page layout (also read back by a C program built against
// the real xs_wire.h), split-anywhere input, ring-full output, corruption (RINGIDX), oversized frames
// (PROTO), reconnect, and fast-check round trips through one page with random interleavings and
// indices near 2^32.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  XENSTORE_CONNECTED,
  XENSTORE_DOMAIN_INTERFACE,
  XENSTORE_ERROR_NONE,
  XENSTORE_ERROR_PROTO,
  XENSTORE_ERROR_RINGIDX,
  XENSTORE_RECONNECT,
  XENSTORE_RING_SIZE,
  XENSTORE_SERVER_FEATURE_ERROR,
  XENSTORE_SERVER_FEATURE_RECONNECTION,
  XENSTORE_SERVER_FEATURE_WATCHDEPTH,
  XsType,
} from "@xensim/abi";
import fc from "fast-check";
import { XS_RING_DEFAULT_FEATURES, XsRingClient, XsRingError, XsRingServer } from "./ring-page.js";
import { ArrayRingPage } from "./testing/ring-page.js";
import {
  encodeXsMessage,
  type XsMessage,
  xsError,
  xsOk,
  xsRequest,
  xsStrings,
  xsWatchEvent,
} from "./wire.js";

const hex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");

// Offsets written out from docs/misc/xenstore-ring.txt, independent of the abi constants (which are
// checked against them, and against gcc below).
const OFF = {
  req: 0,
  rsp: 1024,
  req_cons: 2048,
  req_prod: 2052,
  rsp_cons: 2056,
  rsp_prod: 2060,
  server_features: 2064,
  connection: 2068,
  error: 2072,
};

function le32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}

/** A page with the given indices (they need not start at 0). */
function pageWith(req: number, rsp: number): ArrayRingPage {
  const p = new ArrayRingPage();
  p.u32(OFF.req_cons, req);
  p.u32(OFF.req_prod, req);
  p.u32(OFF.rsp_cons, rsp);
  p.u32(OFF.rsp_prod, rsp);
  return p;
}

/** Writes raw bytes into `req` as a guest would (no framing), advancing req_prod. */
function guestPut(p: ArrayRingPage, bytes: Uint8Array): void {
  let prod = p.u32(OFF.req_prod);
  assert.ok(
    bytes.length <= XENSTORE_RING_SIZE - ((prod - p.u32(OFF.req_cons)) >>> 0),
    "test wrote past the ring",
  );
  for (const b of bytes) {
    p.bytes[OFF.req + (prod % 1024)] = b;
    prod = (prod + 1) >>> 0;
  }
  p.u32(OFF.req_prod, prod);
}

/** Indices stay within the ring: 0 <= prod - cons <= 1024 on both rings. */
function checkIndices(p: ArrayRingPage): void {
  assert.ok((p.u32(OFF.req_prod) - p.u32(OFF.req_cons)) >>> 0 <= 1024, "req indices");
  assert.ok((p.u32(OFF.rsp_prod) - p.u32(OFF.rsp_cons)) >>> 0 <= 1024, "rsp indices");
}

const msg = (type: number, reqId: number, txId: number, payload: Uint8Array): XsMessage => ({
  type,
  reqId,
  txId,
  payload,
});
const plain = (m: XsMessage) => ({ ...m, payload: toHex(m.payload) });

describe("ring page layout", () => {
  it("abi offsets are those of docs/misc/xenstore-ring.txt", () => {
    for (const [k, v] of Object.entries(OFF))
      assert.equal(XENSTORE_DOMAIN_INTERFACE[k as keyof typeof OFF], v, k);
    assert.equal(XENSTORE_RING_SIZE, 1024);
  });

  // Reply sequence: WRITE reply "OK\0" (req 7), WATCH_EVENT "/a\0tok\0", ERROR "ENOENT\0" (req 8, tx 3).
  // Bytes from Python struct.pack("<IIII", type, req_id, tx_id, len) + payload.
  const GOLDEN_RSP =
    "0b0000000700000000000000030000004f4b00" +
    "0f0000000000000000000000070000002f6100746f6b00" +
    "10000000080000000300000007000000454e4f454e5400";
  const sendGolden = (s: XsRingServer) => {
    const write = xsRequest(XsType.WRITE, 7, 0, xsStrings("/a", "v"));
    const read = xsRequest(XsType.READ, 8, 3, xsStrings("/b"));
    return [s.send(xsOk(write)), s.send(xsWatchEvent("/a", "tok")), s.send(xsError(read, "ENOENT"))];
  };

  it("golden: the server's replies, wrapping at the end of rsp, land as struct xenstore_domain_interface", () => {
    const p = pageWith(0xfffffff8, 1016);
    const initial = new Uint8Array(p.bytes);
    const s = new XsRingServer(p);
    assert.deepEqual(sendGolden(s), [true, true, true]);

    const want = new Uint8Array(4096);
    const stream = hex(GOLDEN_RSP);
    stream.forEach((b, i) => {
      want[1024 + ((1016 + i) % 1024)] = b;
    });
    want.set(le32(0xfffffff8), 2048);
    want.set(le32(0xfffffff8), 2052);
    want.set(le32(1016), 2056);
    want.set(le32(1016 + 65), 2060);
    want.set(le32(3), 2064); // RECONNECTION | ERROR
    assert.equal(toHex(p.bytes), toHex(want));
    assert.equal(s.pendingBytes, 0);

    // Every changed byte was published with markWritten.
    const marked = new Uint8Array(4096);
    for (const [off, len] of p.written) marked.fill(1, off, off + len);
    want.forEach((b, i) => {
      if (b !== initial[i]) assert.equal(marked[i], 1, `byte ${i} written but not published`);
    });
  });

  const peerWhy = (() => {
    const r = spawnSync("gcc", ["--version"]);
    if (r.status !== 0) return "gcc not found";
    try {
      readFileSync("/usr/include/xen/io/xs_wire.h");
    } catch {
      return "/usr/include/xen/io/xs_wire.h not found (Debian libxen-dev)";
    }
    return undefined;
  })();

  it(
    "differential: a C guest built against the real xs_wire.h reads our replies and feeds our server",
    {
      skip: peerWhy,
    },
    () => {
      const dir = mkdtempSync(join(tmpdir(), "xensim-xsring-"));
      try {
        writeFileSync(join(dir, "peer.c"), C_PEER);
        const cc = spawnSync("gcc", ["-std=gnu11", "-O0", "-w", "-I/usr/include", "peer.c", "-o", "peer"], {
          cwd: dir,
          encoding: "utf8",
        });
        assert.equal(cc.status, 0, cc.stderr);
        const p = pageWith(0xfffffff8, 1016);
        const s = new XsRingServer(p);
        sendGolden(s);
        const pageFile = join(dir, "page.bin");
        writeFileSync(pageFile, p.bytes);
        const reqs = [
          xsRequest(XsType.READ, 1, 0, xsStrings("/local/domain/1/name")),
          xsRequest(XsType.WATCH, 2, 0, xsStrings("/local/domain/1/device", "tok")),
        ];
        const reqHex = reqs.map((m) => toHex(encodeXsMessage(m))).join("");
        const run = spawnSync(join(dir, "peer"), [pageFile, reqHex], { encoding: "utf8" });
        assert.equal(run.status, 0, run.stderr);
        const lines = Object.fromEntries(
          run.stdout
            .trim()
            .split("\n")
            .map((l) => [l.slice(0, l.indexOf(" ")), l.slice(l.indexOf(" ") + 1)]),
        );
        assert.equal(lines.offsets, "0 1024 2048 2052 2056 2060 2064 2068 2072 1024");
        assert.equal(lines.fields, `${0xfffffff8} ${0xfffffff8} 1016 1081 3 0 0`);
        assert.equal(lines.rsp, GOLDEN_RSP);

        const back = new ArrayRingPage(new Uint8Array(readFileSync(pageFile)));
        assert.equal(back.u32(OFF.rsp_cons), 1081);
        assert.equal(back.u32(OFF.req_prod), (0xfffffff8 + reqHex.length / 2) >>> 0);
        // Same server state, the page as the C guest left it.
        p.bytes.set(back.bytes);
        const r = s.poll();
        assert.deepEqual(r.messages.map(plain), reqs.map(plain));
        assert.equal(r.notify, true);
        assert.equal(p.u32(OFF.req_cons), p.u32(OFF.req_prod));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe("server: reading req", () => {
  const stream = [
    xsRequest(XsType.WRITE, 1, 0, xsStrings("/local/domain/1/a", "value")),
    xsRequest(XsType.TRANSACTION_START, 2, 0, xsStrings("")),
    xsRequest(XsType.DIRECTORY, 3, 9, xsStrings("/")),
    xsRequest(XsType.READ, 4, 0, new Uint8Array(0)),
  ];
  const bytes = Uint8Array.from(stream.flatMap((m) => [...encodeXsMessage(m)]));

  it("split at every offset, starting at every offset near the wrap", () => {
    for (const base of [0, 1000, 0xffffffff - 30]) {
      for (let k = 0; k <= bytes.length; k++) {
        const p = pageWith(base, 0);
        const s = new XsRingServer(p);
        guestPut(p, bytes.subarray(0, k));
        const a = s.poll();
        guestPut(p, bytes.subarray(k));
        const b = s.poll();
        assert.deepEqual(
          [...a.messages, ...b.messages].map(plain),
          stream.map(plain),
          `base ${base} split ${k}`,
        );
        assert.equal(p.u32(OFF.req_cons), (base + bytes.length) >>> 0);
        assert.equal(a.notify, k > 0);
        assert.equal(s.partialRequestBytes, 0);
      }
    }
  });

  it("byte by byte", () => {
    const p = pageWith(1020, 0);
    const s = new XsRingServer(p);
    const got: XsMessage[] = [];
    for (const b of bytes) {
      guestPut(p, Uint8Array.of(b));
      got.push(...s.poll().messages);
    }
    assert.deepEqual(got.map(plain), stream.map(plain));
  });

  it("nothing available: no messages, no notify, page untouched", () => {
    const p = pageWith(77, 99);
    const s = new XsRingServer(p);
    const before = toHex(p.bytes);
    assert.deepEqual(s.poll(), { messages: [], notify: false, reset: false });
    assert.equal(toHex(p.bytes), before);
  });

  it("copy-then-validate: each request byte is read from the page once", () => {
    const p = pageWith(0, 0);
    const reads: [number, number][] = [];
    const orig = p.read.bind(p);
    p.read = (off, len) => {
      reads.push([off, len]);
      return orig(off, len);
    };
    const s = new XsRingServer(p);
    guestPut(p, bytes.subarray(0, 20));
    s.poll();
    guestPut(p, bytes.subarray(20));
    s.poll();
    const seen = new Uint8Array(1024);
    for (const [off, len] of reads) for (let i = off; i < off + len; i++) seen[i] = (seen[i] ?? 0) + 1;
    assert.ok(
      seen.every((n) => n <= 1),
      "a byte was read twice",
    );
    assert.equal(
      seen.reduce((a, n) => a + n, 0),
      bytes.length,
    );
  });
});

describe("server: writing rsp", () => {
  it("ring full with a message longer than the free space: partial writes, the rest stays queued", () => {
    const p = pageWith(0, 0xfffffe00);
    const s = new XsRingServer(p);
    const c = new XsRingClient(p);
    const small = xsOk(xsRequest(XsType.WRITE, 1, 0, new Uint8Array()));
    const big = msg(
      XsType.READ,
      2,
      0,
      Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff),
    );
    assert.equal(s.send(small), true);
    assert.equal(s.send(big), true);
    assert.equal(p.u32(OFF.rsp_prod), (0xfffffe00 + 1024) >>> 0, "rsp filled to the brim");
    assert.equal(s.pendingBytes, 19 + 3016 - 1024);
    assert.equal(s.flush(), false, "no room: nothing written, no notify");
    assert.equal(s.send(small), false, "queued behind the big one");

    const got: XsMessage[] = [];
    for (let i = 0; i < 10 && (s.pendingBytes > 0 || got.length < 3); i++) {
      const r = c.poll();
      got.push(...r.messages);
      s.flush();
      checkIndices(p);
    }
    assert.deepEqual(got.map(plain), [small, big, small].map(plain));
    assert.equal(s.pendingBytes, 0);
  });

  it("server features: ORed in at attach, never cleared, WATCHDEPTH on request", () => {
    const p = new ArrayRingPage();
    p.u32(OFF.server_features, 0x100);
    const s = new XsRingServer(p, {
      features: XS_RING_DEFAULT_FEATURES | XENSTORE_SERVER_FEATURE_WATCHDEPTH,
    });
    assert.equal(p.u32(OFF.server_features), 0x107);
    assert.equal(s.features, 7);
    const c = new XsRingClient(p);
    assert.equal(c.serverFeatures, 0x107);
    assert.equal(c.canReconnect, true);
  });
});

describe("ring errors", () => {
  it("corrupted req_prod: RINGIDX, and nothing else on the page changes", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 1025, max: 0xffffffff }),
        (cons, d) => {
          const p = pageWith(cons, 5);
          const s = new XsRingServer(p);
          p.u32(OFF.req_prod, cons + d);
          const before = new Uint8Array(p.bytes);
          const r = s.poll();
          assert.ok(r.error instanceof XsRingError);
          assert.equal(r.error.errorName, "RINGIDX");
          assert.equal(r.error.value, XENSTORE_ERROR_RINGIDX);
          assert.equal(r.error.by, "server");
          assert.deepEqual(r.messages, []);
          before.set(le32(XENSTORE_ERROR_RINGIDX), OFF.error);
          assert.equal(toHex(p.bytes), toHex(before));
          assert.equal(s.error, XENSTORE_ERROR_RINGIDX);
          // Stopped: no more reading or writing.
          p.u32(OFF.req_prod, cons);
          assert.equal(s.send(xsWatchEvent("/a", "t")), false);
          assert.deepEqual(s.poll(), { messages: [], notify: false, reset: false });
          before.set(le32(cons), OFF.req_prod);
          assert.equal(toHex(p.bytes), toHex(before), "a stopped server touches nothing");
        },
      ),
    );
  });

  it("corrupted rsp_cons: RINGIDX when the server next writes; the client reads the error indicator", () => {
    const p = pageWith(0, 0);
    const s = new XsRingServer(p);
    const c = new XsRingClient(p);
    p.u32(OFF.rsp_cons, 0x80000000);
    assert.equal(s.send(xsWatchEvent("/a", "t")), true, "the error indicator changed: notify");
    assert.equal(s.error, XENSTORE_ERROR_RINGIDX);
    assert.equal(p.u32(OFF.rsp_prod), 0, "nothing written");
    assert.equal(s.pendingBytes, 0, "queue dropped");
    const r = c.poll();
    assert.equal(r.error?.errorName, "RINGIDX");
    assert.equal(r.error?.by, "server");
    assert.throws(() => c.write(xsRequest(XsType.READ, 1, 0, xsStrings("/"))), /stopped/);
  });

  it("len 4097: PROTO after the messages before it; req_cons stops after the bad header", () => {
    const good = xsRequest(XsType.READ, 1, 0, xsStrings("/a"));
    const max = xsRequest(XsType.WRITE, 2, 0, new Uint8Array(0));
    const bad = hex("0b000000030000000000000001100000"); // WRITE, len 4097
    const p = pageWith(0xfffffffc, 0);
    const s = new XsRingServer(p);
    const c = new XsRingClient(p);
    const g = encodeXsMessage(good);
    guestPut(p, g);
    guestPut(p, bad);
    guestPut(p, encodeXsMessage(max));
    const r = s.poll();
    assert.deepEqual(r.messages.map(plain), [plain(good)]);
    assert.equal(r.error?.errorName, "PROTO");
    assert.equal(r.error?.value, XENSTORE_ERROR_PROTO);
    assert.equal((r.error?.cause as { len?: number } | undefined)?.len, 4097);
    assert.equal(r.notify, true);
    assert.equal(p.u32(OFF.error), XENSTORE_ERROR_PROTO);
    assert.equal(p.u32(OFF.req_cons), (0xfffffffc + g.length + 16) >>> 0);
    assert.deepEqual(s.poll().messages, []);
    assert.equal(s.send(xsOk(good)), false, "replies after the failure are dropped");
    assert.equal(c.poll().error?.errorName, "PROTO");
  });

  it("len 4096 is accepted", () => {
    const p = pageWith(0, 0);
    const s = new XsRingServer(p);
    const c = new XsRingClient(p);
    const m = msg(XsType.WRITE, 3, 0, new Uint8Array(4096).fill(0x61));
    c.write(m);
    const got: XsMessage[] = [];
    for (let i = 0; i < 8; i++) {
      got.push(...s.poll().messages);
      c.flush();
    }
    assert.deepEqual(got.map(plain), [plain(m)]);
    assert.equal(s.error, XENSTORE_ERROR_NONE);
  });

  it("the client detects a server's corrupt rsp_prod and oversized replies", () => {
    const p = pageWith(0, 10);
    const c = new XsRingClient(p);
    p.u32(OFF.rsp_prod, 10 + 2000);
    const r = c.poll();
    assert.equal(r.error?.errorName, "RINGIDX");
    assert.equal(r.error?.by, "client");

    const q = pageWith(0, 0);
    const c2 = new XsRingClient(q);
    q.bytes.set(hex("02000000010000000000000001100000"), OFF.rsp);
    q.u32(OFF.rsp_prod, 16);
    assert.equal(c2.poll().error?.errorName, "PROTO");
  });
});

describe("reconnect", () => {
  it("mid-message: the server drops the partial request and queued replies, zeroes indices, reconnects", () => {
    const p = pageWith(0xfffffff0, 0xfffffff0);
    const s = new XsRingServer(p);
    const c = new XsRingClient(p);
    const req = encodeXsMessage(xsRequest(XsType.WRITE, 1, 0, xsStrings("/a", "hello")));
    guestPut(p, req.subarray(0, 21));
    assert.deepEqual(s.poll().messages, []);
    assert.equal(s.partialRequestBytes, 21);
    s.send(msg(XsType.READ, 9, 0, new Uint8Array(2000)));
    assert.ok(s.pendingBytes > 0);

    assert.equal(c.reconnect(), true);
    assert.equal(p.u32(OFF.connection), XENSTORE_RECONNECT);
    assert.equal(c.connected, false);
    assert.equal(s.flush(), false, "nothing written while the guest waits for the reset");
    assert.deepEqual(c.poll(), { messages: [], notify: false, reconnected: false });

    const r = s.poll();
    assert.deepEqual(r, { messages: [], notify: true, reset: true });
    for (const off of [OFF.req_cons, OFF.req_prod, OFF.rsp_cons, OFF.rsp_prod]) assert.equal(p.u32(off), 0);
    assert.equal(p.u32(OFF.connection), XENSTORE_CONNECTED);
    assert.equal(s.partialRequestBytes, 0);
    assert.equal(s.pendingBytes, 0);

    const cr = c.poll();
    assert.equal(cr.reconnected, true);
    assert.equal(c.connected, true);
    const m = xsRequest(XsType.READ, 2, 0, xsStrings("/b"));
    c.write(m);
    assert.deepEqual(s.poll().messages.map(plain), [plain(m)]);
    s.send(xsError(m, "ENOENT"));
    assert.deepEqual(c.poll().messages.map(plain), [plain(xsError(m, "ENOENT"))]);
  });

  it("a reconnect revives a connection stopped with RINGIDX and clears the error indicator", () => {
    const p = pageWith(0, 0);
    const s = new XsRingServer(p);
    const c = new XsRingClient(p);
    p.u32(OFF.req_prod, 5000);
    assert.equal(s.poll().error?.errorName, "RINGIDX");
    assert.equal(c.poll().error?.errorName, "RINGIDX");
    c.reconnect();
    assert.equal(s.poll().reset, true);
    assert.equal(p.u32(OFF.error), XENSTORE_ERROR_NONE);
    assert.equal(s.error, XENSTORE_ERROR_NONE);
    assert.equal(c.poll().reconnected, true);
    assert.equal(c.error, undefined);
    const m = xsRequest(XsType.READ, 3, 0, xsStrings("/c"));
    c.write(m);
    assert.deepEqual(s.poll().messages.map(plain), [plain(m)]);
  });

  it("a client that finds connection = RECONNECT at attach (dom0less) waits for the server", () => {
    const p = pageWith(123, 456);
    p.u32(OFF.connection, XENSTORE_RECONNECT);
    const c = new XsRingClient(p);
    assert.equal(c.connected, false);
    const s = new XsRingServer(p);
    assert.equal(s.poll().reset, true);
    assert.equal(c.poll().reconnected, true);
    c.write(xsRequest(XsType.READ, 1, 0, xsStrings("/")));
    assert.equal(p.u32(OFF.req_prod), 18);
  });

  it("reset() (INTRODUCE) zeroes the indices and answers a waiting guest", () => {
    const p = pageWith(40, 50);
    p.u32(OFF.connection, XENSTORE_RECONNECT);
    const s = new XsRingServer(p, { features: XENSTORE_SERVER_FEATURE_ERROR });
    assert.deepEqual(
      s.poll(),
      { messages: [], notify: false, reset: false },
      "no RECONNECTION: connection ignored",
    );
    assert.equal(s.reset(), true);
    for (const off of [OFF.req_cons, OFF.req_prod, OFF.rsp_cons, OFF.rsp_prod, OFF.connection])
      assert.equal(p.u32(off), 0);
  });

  it("reconnect() needs the RECONNECTION feature", () => {
    const p = new ArrayRingPage();
    new XsRingServer(p, { features: XENSTORE_SERVER_FEATURE_ERROR });
    assert.throws(() => new XsRingClient(p).reconnect(), /RECONNECTION/);
    assert.equal(
      XS_RING_DEFAULT_FEATURES,
      XENSTORE_SERVER_FEATURE_RECONNECTION | XENSTORE_SERVER_FEATURE_ERROR,
    );
  });
});

// ---- properties ----

const arbMsg: fc.Arbitrary<XsMessage> = fc.record({
  type: fc.integer({ min: 0, max: 0xffffffff }),
  reqId: fc.integer({ min: 0, max: 0xffffffff }),
  txId: fc.integer({ min: 0, max: 0xffffffff }),
  payload: fc.oneof(
    { weight: 4, arbitrary: fc.uint8Array({ maxLength: 64 }) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 900, maxLength: 4096 }) },
  ),
});
const arbIdx = fc.oneof(
  fc.integer({ min: 0xffffffff - 3000, max: 0xffffffff }),
  fc.integer({ min: 0, max: 0xffffffff }),
  fc.constant(0),
);

describe("properties", () => {
  it("client <-> server round trip through one page, random interleavings: exactly the messages, in order", () => {
    fc.assert(
      fc.property(
        fc.array(arbMsg, { maxLength: 12 }),
        fc.array(arbMsg, { maxLength: 12 }),
        arbIdx,
        arbIdx,
        fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 80 }),
        (toServer, toClient, reqIdx, rspIdx, schedule) => {
          const p = pageWith(reqIdx, rspIdx);
          const s = new XsRingServer(p);
          const c = new XsRingClient(p);
          const atServer: XsMessage[] = [];
          const atClient: XsMessage[] = [];
          let i = 0;
          let j = 0;
          const step = (op: number) => {
            switch (op) {
              case 0:
                if (i < toServer.length) c.write(toServer[i++] as XsMessage);
                break;
              case 1:
                if (j < toClient.length) s.send(toClient[j++] as XsMessage);
                break;
              case 2:
                atServer.push(...s.poll().messages);
                break;
              case 3:
                atClient.push(...c.poll().messages);
                break;
              case 4:
                s.flush();
                break;
              default:
                c.flush();
            }
            checkIndices(p);
          };
          for (const op of schedule) step(op);
          // Drain: everything left goes through.
          for (
            let n = 0;
            n < 1000 &&
            (i < toServer.length ||
              j < toClient.length ||
              s.pendingBytes ||
              c.pendingBytes ||
              atServer.length < toServer.length ||
              atClient.length < toClient.length);
            n++
          )
            for (const op of [0, 1, 2, 3]) step(op);
          assert.deepEqual(atServer.map(plain), toServer.map(plain));
          assert.deepEqual(atClient.map(plain), toClient.map(plain));
          assert.equal(s.error, XENSTORE_ERROR_NONE);
          assert.equal(c.error, undefined);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("random chunking of the guest's producer progress: the server decodes the same messages", () => {
    fc.assert(
      fc.property(
        fc.array(arbMsg, { minLength: 1, maxLength: 8 }),
        arbIdx,
        fc.array(fc.integer({ min: 1, max: 1024 }), { minLength: 1, maxLength: 50 }),
        (msgs, base, chunks) => {
          const p = pageWith(base, 0);
          const s = new XsRingServer(p);
          const stream = Uint8Array.from(msgs.flatMap((m) => [...encodeXsMessage(m)]));
          const got: XsMessage[] = [];
          let off = 0;
          let k = 0;
          while (off < stream.length) {
            const free = 1024 - ((p.u32(OFF.req_prod) - p.u32(OFF.req_cons)) >>> 0);
            const n = Math.min(chunks[k++ % chunks.length] as number, free, stream.length - off);
            guestPut(p, stream.subarray(off, off + n));
            off += n;
            const r = s.poll();
            assert.equal(r.error, undefined);
            got.push(...r.messages);
            checkIndices(p);
          }
          got.push(...s.poll().messages);
          assert.deepEqual(got.map(plain), msgs.map(plain));
          assert.equal(p.u32(OFF.req_cons), (base + stream.length) >>> 0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("reconnect at a random point: afterwards, both directions carry exactly the new messages", () => {
    fc.assert(
      fc.property(
        fc.array(arbMsg, { maxLength: 6 }),
        fc.array(arbMsg, { maxLength: 6 }),
        fc.array(arbMsg, { minLength: 1, maxLength: 6 }),
        arbIdx,
        arbIdx,
        fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 30 }),
        (oldUp, oldDown, fresh, reqIdx, rspIdx, schedule) => {
          const p = pageWith(reqIdx, rspIdx);
          const s = new XsRingServer(p);
          const c = new XsRingClient(p);
          let i = 0;
          let j = 0;
          for (const op of schedule) {
            if (op === 0 && i < oldUp.length) c.write(oldUp[i++] as XsMessage);
            if (op === 1 && j < oldDown.length) s.send(oldDown[j++] as XsMessage);
            if (op === 2) s.poll();
            if (op === 3) c.poll();
          }
          c.reconnect();
          const r = s.poll();
          assert.equal(r.reset, true);
          assert.deepEqual(r.messages, []);
          assert.equal(c.poll().reconnected, true);
          const atServer: XsMessage[] = [];
          const atClient: XsMessage[] = [];
          for (const m of fresh) {
            c.write(m);
            s.send(m);
          }
          for (
            let n = 0;
            n < 100 && (atServer.length < fresh.length || atClient.length < fresh.length);
            n++
          ) {
            atServer.push(...s.poll().messages);
            atClient.push(...c.poll().messages);
          }
          assert.deepEqual(atServer.map(plain), fresh.map(plain));
          assert.deepEqual(atClient.map(plain), fresh.map(plain));
        },
      ),
      { numRuns: 200 },
    );
  });
});

// A guest built against the real header: prints the layout and fields, drains rsp from rsp_cons to
// rsp_prod with MASK_XENSTORE_IDX, appends argv[2] (hex) to req, and writes the page back.
const C_PEER = `#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <xen/io/xs_wire.h>
#define OFF(f) offsetof(struct xenstore_domain_interface, f)
static union { struct xenstore_domain_interface intf; unsigned char raw[4096]; } page;
int main(int argc, char **argv) {
  if (argc != 3) return 9;
  FILE *f = fopen(argv[1], "rb");
  if (!f || fread(page.raw, 1, sizeof(page.raw), f) != sizeof(page.raw)) return 8;
  fclose(f);
  struct xenstore_domain_interface *intf = &page.intf;
  printf("offsets %zu %zu %zu %zu %zu %zu %zu %zu %zu %d\\n", OFF(req), OFF(rsp), OFF(req_cons), OFF(req_prod),
         OFF(rsp_cons), OFF(rsp_prod), OFF(server_features), OFF(connection), OFF(error), XENSTORE_RING_SIZE);
  printf("fields %u %u %u %u %u %u %u\\n", intf->req_cons, intf->req_prod, intf->rsp_cons, intf->rsp_prod,
         intf->server_features, intf->connection, intf->error);
  XENSTORE_RING_IDX cons = intf->rsp_cons, prod = intf->rsp_prod;
  if (prod - cons > XENSTORE_RING_SIZE) return 7;
  printf("rsp ");
  for (; cons != prod; cons++) printf("%02x", (unsigned char)intf->rsp[MASK_XENSTORE_IDX(cons)]);
  printf("\\n");
  intf->rsp_cons = cons;
  size_t n = strlen(argv[2]) / 2;
  XENSTORE_RING_IDX p = intf->req_prod;
  if (n > XENSTORE_RING_SIZE - (p - intf->req_cons)) return 6;
  for (size_t i = 0; i < n; i++, p++) {
    unsigned b;
    sscanf(argv[2] + 2 * i, "%2x", &b);
    intf->req[MASK_XENSTORE_IDX(p)] = (char)b;
  }
  intf->req_prod = p;
  f = fopen(argv[1], "wb");
  if (!f || fwrite(page.raw, 1, sizeof(page.raw), f) != sizeof(page.raw)) return 5;
  fclose(f);
  return 0;
}
`;
