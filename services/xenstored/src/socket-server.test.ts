// The xs wire protocol on a real unix socket: golden bytes fed whole, byte by byte and split at every
// offset; oversized frames; error replies; watches across connections; and a fuzz property over
// random byte streams and mutated messages.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { XsType } from "@xensim/abi";
import { type TempDir, tempDir, testSeed, waitFor } from "@xensim/testkit";
import {
  encodeXsMessage,
  parseXsStrings,
  XenstoreEngine,
  XsDecoder,
  type XsMessage,
  xsStrings,
} from "@xensim/xenstore";
import fc from "fast-check";
import { pino } from "pino";
import { XenstoredCore } from "./xenstored.js";
import { listenXsSocket, type SocketServer } from "./socket-server.js";

const log = pino({ level: "silent" });
const rethrow = (e: unknown) => {
  throw e;
};
const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw xs client: bytes in, decoded messages (and the raw bytes) out. */
class RawClient {
  readonly raw: Buffer[] = [];
  private readonly decoder = new XsDecoder();
  private readonly queue: XsMessage[] = [];
  private waiter: (() => void) | null = null;
  closed = false;
  readonly closedP: Promise<void>;

  private constructor(readonly sock: Socket) {
    sock.on("data", (b: Buffer) => {
      this.raw.push(b);
      this.queue.push(...this.decoder.push(new Uint8Array(b)));
      this.waiter?.();
    });
    sock.on("error", () => {});
    this.closedP = new Promise((r) =>
      sock.on("close", () => {
        this.closed = true;
        this.waiter?.();
        r();
      }),
    );
  }

  static connect(path: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const sock = createConnection(path);
      sock.once("error", reject);
      sock.once("connect", () => {
        sock.off("error", reject);
        resolve(new RawClient(sock));
      });
    });
  }

  write(b: Uint8Array): Promise<void> {
    return new Promise((resolve) => {
      if (this.sock.destroyed) return resolve();
      this.sock.write(b, () => resolve());
    });
  }

  send(m: XsMessage): Promise<void> {
    return this.write(encodeXsMessage(m));
  }

  rawBytes(): Buffer {
    return Buffer.concat(this.raw);
  }

  async waitBytes(n: number, timeoutMs = 2000): Promise<Buffer> {
    await waitFor(() => this.rawBytes().length >= n || this.closed, { timeoutMs, message: `${n} bytes` });
    return this.rawBytes();
  }

  async next(timeoutMs = 2000): Promise<XsMessage> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      if (this.closed) throw new Error("connection closed");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("no message");
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiter = () => {
          clearTimeout(t);
          r();
        };
      });
      this.waiter = null;
    }
    return this.queue.shift()!;
  }

  /** Nothing more arrives within `ms`. */
  async quiet(ms = 30): Promise<void> {
    await sleep(ms);
    assert.equal(this.queue.length, 0, `unexpected message ${JSON.stringify(this.queue[0])}`);
  }

  /** Sends a request and returns its reply; watch events that come first stay queued. */
  async request(type: number, txId: number, ...parts: (string | Uint8Array)[]): Promise<XsMessage> {
    await this.send({ type, reqId: 42, txId, payload: xsStrings(...parts) });
    const events: XsMessage[] = [];
    for (;;) {
      const m = await this.next();
      if (m.type !== XsType.WATCH_EVENT) {
        this.queue.unshift(...events);
        return m;
      }
      events.push(m);
    }
  }

  end(): Promise<void> {
    this.sock.end();
    return this.closedP;
  }
}

interface Fixture {
  tmp: TempDir;
  path: string;
  engine: XenstoreEngine;
  core: XenstoredCore;
  server: SocketServer;
  /** (conn, request, reply) as the core saw them. */
  requests: { conn: number; req: XsMessage; reply: XsMessage | null }[];
}

async function startFixture(): Promise<Fixture> {
  const tmp = tempDir("xs-sock-");
  const path = join(tmp.path, "socket");
  const engine = new XenstoreEngine({ onInternalError: rethrow });
  const core = new XenstoredCore(engine, null, log);
  const requests: Fixture["requests"] = [];
  core.onRequest = (conn, req, reply) => requests.push({ conn, req, reply });
  const server = await listenXsSocket(core, path, log);
  return { tmp, path, engine, core, server, requests };
}

async function stopFixture(f: Fixture): Promise<void> {
  await f.server.close();
  f.core.close();
  f.tmp.cleanup();
}

/**
 * The store without its global generation counter, for "nothing changed" comparisons: a
 * TRANSACTION_START takes a generation number (as in C xenstored) without changing any node.
 */
function treeOf(e: XenstoreEngine): unknown {
  const { generation: _g, ...rest } = e.snapshot();
  return rest;
}

function text(m: XsMessage): string {
  return Buffer.from(m.payload).toString("latin1");
}

const GOLDEN_REQUESTS = hex(`
  0b000000 01000000 00000000 08000000 2f6100 68656c6c6f
  02000000 02000000 00000000 03000000 2f6100
`);
const GOLDEN_REPLIES = hex(`
  0b000000 01000000 00000000 03000000 4f4b00
  02000000 02000000 00000000 05000000 68656c6c6f
`);

describe("xs unix socket server", () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(async () => {
    await stopFixture(f);
  });

  it("golden bytes: WRITE then READ, fed whole", async () => {
    const c = await RawClient.connect(f.path);
    await c.write(GOLDEN_REQUESTS);
    assert.deepEqual(await c.waitBytes(GOLDEN_REPLIES.length), Buffer.from(GOLDEN_REPLIES));
    await sleep(20);
    assert.equal(c.rawBytes().length, GOLDEN_REPLIES.length);
    await c.end();
  });

  it("golden bytes: WRITE then READ, fed byte by byte", async () => {
    const c = await RawClient.connect(f.path);
    for (const b of GOLDEN_REQUESTS) {
      await c.write(Uint8Array.of(b));
      await sleep(1);
    }
    assert.deepEqual(await c.waitBytes(GOLDEN_REPLIES.length), Buffer.from(GOLDEN_REPLIES));
    await sleep(20);
    assert.equal(c.rawBytes().length, GOLDEN_REPLIES.length);
    await c.end();
  });

  it("golden bytes: WRITE then READ, split at every offset", async () => {
    const c = await RawClient.connect(f.path);
    for (let at = 1; at < GOLDEN_REQUESTS.length; at++) {
      c.raw.length = 0;
      await c.write(GOLDEN_REQUESTS.subarray(0, at));
      await new Promise((r) => setImmediate(r));
      await c.write(GOLDEN_REQUESTS.subarray(at));
      assert.deepEqual(
        await c.waitBytes(GOLDEN_REPLIES.length),
        Buffer.from(GOLDEN_REPLIES),
        `split at ${at}`,
      );
      // Drain the decoded copies of the replies.
      await c.next();
      await c.next();
    }
    await c.end();
  });

  it("a header with len 4097 drops that connection and changes nothing else", async () => {
    const other = await RawClient.connect(f.path);
    assert.equal(text(await other.request(XsType.WRITE, 0, "/keep", "v")), "OK\0");
    await waitFor(() => f.core.stats.connections === 1);
    const before = treeOf(f.engine);
    const bad = await RawClient.connect(f.path);
    await waitFor(() => f.core.stats.connections === 2);
    const header = hex("0b000000 07000000 00000000 01100000"); // WRITE, len 0x1001 = 4097
    await bad.write(Buffer.concat([header, Buffer.from("/keep\0x")]));
    await bad.closedP;
    assert.deepEqual(bad.rawBytes(), Buffer.alloc(0), "a reply to an oversized frame");
    await waitFor(() => f.core.stats.connections === 1, { message: "connection dropped in the core" });
    assert.deepEqual(treeOf(f.engine), before);
    // The other connection goes on working.
    const r = await other.request(XsType.READ, 0, "/keep");
    assert.equal(r.type, XsType.READ);
    assert.equal(text(r), "v\0");
    await other.end();
  });

  it("requests before a bad header in the same chunk are still answered, then the connection drops", async () => {
    const c = await RawClient.connect(f.path);
    const write = encodeXsMessage({
      type: XsType.WRITE,
      reqId: 3,
      txId: 0,
      payload: xsStrings("/before-bad", ""),
    });
    await c.write(Buffer.concat([write, hex("02000000 04000000 00000000 01100000"), Buffer.from("junk")]));
    await c.closedP;
    assert.deepEqual(
      c.rawBytes(),
      Buffer.from(encodeXsMessage({ type: XsType.WRITE, reqId: 3, txId: 0, payload: xsStrings("OK") })),
    );
    assert.ok(f.engine.peek("/before-bad"));
    await waitFor(() => f.core.stats.connections === 0);
  });

  it("unknown message types get ENOSYS, echoing req_id and tx_id", async () => {
    const c = await RawClient.connect(f.path);
    for (const type of [20, 23, 999, XsType.WATCH_EVENT, XsType.ERROR, 0xffff, 0xffffffff]) {
      await c.send({ type, reqId: 0x1234, txId: 0, payload: xsStrings("/x") });
      const r = await c.next();
      assert.deepEqual(
        r,
        { type: XsType.ERROR, reqId: 0x1234, txId: 0, payload: xsStrings("ENOSYS") },
        `type ${type}`,
      );
    }
    await c.end();
  });

  it("an unknown tx_id gets ENOENT; WATCH ignores tx_id", async () => {
    const c = await RawClient.connect(f.path);
    await c.send({ type: XsType.READ, reqId: 5, txId: 77, payload: xsStrings("/tool") });
    assert.deepEqual(await c.next(), {
      type: XsType.ERROR,
      reqId: 5,
      txId: 77,
      payload: xsStrings("ENOENT"),
    });
    await c.send({ type: XsType.WRITE, reqId: 6, txId: 77, payload: xsStrings("/tx-unknown", "v") });
    assert.equal(text(await c.next()), "ENOENT\0");
    assert.equal(f.engine.peek("/tx-unknown"), undefined);
    const w = await c.request(XsType.WATCH, 77, "/tool", "t");
    assert.equal(text(w), "OK\0");
    assert.equal(w.txId, 77);
    assert.deepEqual(parseXsStrings((await c.next()).payload), ["/tool", "t"]);
    await c.end();
  });

  it("a WATCH on one connection fires when another connection writes", async () => {
    const a = await RawClient.connect(f.path);
    const b = await RawClient.connect(f.path);
    assert.equal(text(await a.request(XsType.WATCH, 0, "/w", "tokA")), "OK\0");
    assert.deepEqual(await a.next(), {
      type: XsType.WATCH_EVENT,
      reqId: 0,
      txId: 0,
      payload: xsStrings("/w", "tokA"),
    });
    assert.equal(text(await b.request(XsType.WRITE, 0, "/w/x", "1")), "OK\0");
    assert.deepEqual(await a.next(), {
      type: XsType.WATCH_EVENT,
      reqId: 0,
      txId: 0,
      payload: xsStrings("/w/x", "tokA"),
    });
    await b.quiet();
    await a.end();
    await b.end();
  });

  it("closing a connection drops its watches", async () => {
    await waitFor(() => f.core.stats.connections === 0);
    const a = await RawClient.connect(f.path);
    const b = await RawClient.connect(f.path);
    await a.request(XsType.WATCH, 0, "/gone", "t1");
    await a.request(XsType.WATCH, 0, "/gone/sub", "t2");
    assert.equal(f.engine.quotaUsage(0).watches, 2);
    await a.end();
    await waitFor(() => f.core.stats.connections === 1, { message: "server noticed the close" });
    assert.equal(f.engine.quotaUsage(0).watches, 0);
    assert.equal(f.engine.connections().length, 1);
    assert.equal(text(await b.request(XsType.WRITE, 0, "/gone/sub", "x")), "OK\0");
    await b.end();
  });

  it("replaces a stale socket file and removes the socket on close", async () => {
    using tmp = tempDir("xs-sock-stale-");
    const path = join(tmp.path, "socket");
    writeFileSync(path, "left over by a killed daemon");
    const core = new XenstoredCore(new XenstoreEngine(), null, log);
    const server = await listenXsSocket(core, path, log);
    const c = await RawClient.connect(path);
    assert.equal((await c.request(XsType.GET_DOMAIN_PATH, 0, "3")).type, XsType.GET_DOMAIN_PATH);
    assert.equal(server.connections, 1);
    await server.close();
    await c.closedP;
    await assert.rejects(RawClient.connect(path), { code: "ENOENT" });
    core.close();
  });
});

// ------------------------------------------------------------------ fuzz

/** Types that can change the tree (or the quotas in the snapshot). */
const MUTATING = new Set<number>([
  XsType.CONTROL,
  XsType.INTRODUCE,
  XsType.RELEASE,
  XsType.WRITE,
  XsType.MKDIR,
  XsType.RM,
  XsType.SET_PERMS,
  XsType.RESUME,
  XsType.SET_TARGET,
]);

function header(type: number, reqId: number, txId: number, len: number): Uint8Array {
  const b = Buffer.alloc(16);
  b.writeUInt32LE(type >>> 0, 0);
  b.writeUInt32LE(reqId >>> 0, 4);
  b.writeUInt32LE(txId >>> 0, 8);
  b.writeUInt32LE(len >>> 0, 12);
  return b;
}

const u32 = fc.nat({ max: 0xffffffff });
const typeArb = fc.oneof(fc.integer({ min: 0, max: 30 }), u32);

/** Garbage that cannot be a well-formed mutating request. */
const garbageArb = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 80 }),
  // A header announcing a frame that is too long.
  fc
    .tuple(typeArb, u32, u32, fc.integer({ min: 4097, max: 0xffffffff }), fc.uint8Array({ maxLength: 20 }))
    .map(([t, r, x, len, tail]) => Buffer.concat([header(t, r, x, len), tail])),
  // A well-framed message of a non-mutating (often unknown) type with random payload bytes.
  fc
    .tuple(
      typeArb.filter((t) => !MUTATING.has(t)),
      u32,
      fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 }), u32),
      fc.uint8Array({ maxLength: 120 }),
    )
    .map(([t, r, x, p]) => Buffer.concat([header(t, r, x, p.length), p])),
);

const pathArb = fc.constantFrom(
  "/f",
  "/f/a",
  "/f/a/b",
  "rel",
  "/",
  "",
  "/f//x",
  "/local/domain/5",
  "@releaseDomain",
);
const validMsgArb: fc.Arbitrary<XsMessage> = fc
  .tuple(
    fc.constantFrom(
      [XsType.WRITE, (p: string, v: Uint8Array) => [p, v]],
      [XsType.READ, (p: string) => [p]],
      [XsType.MKDIR, (p: string) => [p]],
      [XsType.RM, (p: string) => [p]],
      [XsType.DIRECTORY, (p: string) => [p]],
      [XsType.GET_PERMS, (p: string) => [p]],
      [XsType.SET_PERMS, (p: string) => [p, "n0", "r5"]],
      [XsType.WATCH, (p: string) => [p, "tok"]],
      [XsType.UNWATCH, (p: string) => [p, "tok"]],
      [XsType.TRANSACTION_START, () => [""]],
      [XsType.TRANSACTION_END, () => ["T"]],
      [XsType.GET_DOMAIN_PATH, () => ["5"]],
      [XsType.INTRODUCE, () => ["5", "4096", "3"]],
      [XsType.RELEASE, () => ["5"]],
      [XsType.IS_DOMAIN_INTRODUCED, () => ["5"]],
      [XsType.DIRECTORY_PART, (p: string) => [p, "0"]],
      [XsType.RESET_WATCHES, () => [""]],
    ) as fc.Arbitrary<[number, (p: string, v: Uint8Array) => (string | Uint8Array)[]]>,
    pathArb,
    fc.uint8Array({ maxLength: 12 }),
    fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 })),
    u32,
  )
  .map(([[type, args], p, v, txId, reqId]) => ({ type, reqId, txId, payload: xsStrings(...args(p, v)) }));

type Mutator =
  | { k: "none" }
  | { k: "flip"; at: { pos: number; xor: number }[] }
  | { k: "truncate"; to: number }
  | { k: "len"; len: number }
  | { k: "append"; bytes: Uint8Array };
const mutatorArb: fc.Arbitrary<Mutator> = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ k: "none" as const }) },
  fc.record({
    k: fc.constant("flip" as const),
    at: fc.array(fc.record({ pos: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), {
      minLength: 1,
      maxLength: 4,
    }),
  }),
  fc.record({ k: fc.constant("truncate" as const), to: fc.nat() }),
  fc.record({ k: fc.constant("len" as const), len: fc.oneof(fc.integer({ min: 0, max: 4200 }), u32) }),
  fc.record({ k: fc.constant("append" as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
);

function mutate(m: XsMessage, mut: Mutator): Uint8Array {
  const b = Buffer.from(encodeXsMessage(m));
  switch (mut.k) {
    case "none":
      return b;
    case "flip":
      for (const { pos, xor } of mut.at) b[pos % b.length]! ^= xor;
      return b;
    case "truncate":
      return b.subarray(0, mut.to % b.length);
    case "len":
      b.writeUInt32LE(mut.len >>> 0, 12);
      return b;
    case "append":
      return Buffer.concat([b, mut.bytes]);
  }
}

/** A message with its payload as a plain Uint8Array (the live engine may hold Buffer slices). */
function bytesOf(m: XsMessage | null): XsMessage | null {
  return m && { ...m, payload: new Uint8Array(m.payload) };
}

/** fast-check reports the counterexample; node:test shows only that message: add the cause. */
async function withCause(t: TestContext, run: Promise<void>): Promise<void> {
  try {
    await run;
  } catch (e) {
    t.diagnostic(`cause: ${String((e as { cause?: unknown }).cause)}`);
    throw e;
  }
}

/** Sends the chunks on a fresh connection, ends it, and waits until the server has let it go. */
async function pour(f: Fixture, chunks: Uint8Array[]): Promise<number> {
  const c = await RawClient.connect(f.path);
  await waitFor(() => f.core.stats.connections === 1, { message: "fuzz connection registered" });
  const conn = f.engine.connections().at(-1)!;
  for (const ch of chunks) await c.write(ch);
  await c.end();
  await waitFor(() => f.core.stats.connections === 0, { message: "fuzz connection released" });
  return conn;
}

/** A fresh connection still gets answers. */
async function stillServes(f: Fixture): Promise<void> {
  const c = await RawClient.connect(f.path);
  const r = await c.request(XsType.DIRECTORY, 0, "/tool");
  assert.equal(r.type, XsType.DIRECTORY);
  assert.equal(text(r), "xenstored\0");
  await c.end();
  await waitFor(() => f.core.stats.connections === 0);
}

describe("xs unix socket server, fuzzed", () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(async () => {
    await stopFixture(f);
  });

  it("property: garbage streams never crash the server nor change the tree", async (t: TestContext) => {
    const seed = testSeed();
    t.diagnostic(`fast-check seed ${seed} (XENSIM_SEED=${seed} to replay)`);
    await withCause(
      t,
      fc.assert(
        fc.asyncProperty(
          fc.array(garbageArb, { minLength: 1, maxLength: 6 }),
          fc.boolean(),
          async (parts, oneChunk) => {
            const before = treeOf(f.engine);
            const chunks = oneChunk ? [Buffer.concat(parts)] : parts;
            await pour(f, chunks);
            assert.deepEqual(treeOf(f.engine), before);
            await stillServes(f);
          },
        ),
        { seed, numRuns: 150 },
      ),
    );
  });

  it("property: mutated valid messages change the tree only through well-formed successful requests", async (t: TestContext) => {
    const seed = testSeed();
    t.diagnostic(`fast-check seed ${seed} (XENSIM_SEED=${seed} to replay)`);
    let changed = 0;
    let handled = 0;
    await withCause(
      t,
      fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(validMsgArb, mutatorArb), { minLength: 1, maxLength: 8 }),
          fc.array(fc.nat(), { maxLength: 4 }),
          async (msgs, cuts) => {
            const before = f.engine.snapshot();
            const stream = Buffer.concat(msgs.map(([m, mut]) => mutate(m, mut)));
            // Split the stream at random offsets.
            const offsets = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
            const chunks: Uint8Array[] = [];
            let last = 0;
            for (const o of [...offsets, stream.length]) {
              if (o > last) chunks.push(stream.subarray(last, o));
              last = o;
            }
            f.requests.length = 0;
            const conn = await pour(f, chunks);
            const seen = f.requests.filter((r) => r.conn === conn);
            handled += seen.length;
            // Replaying exactly the requests the core handled, on a copy of the store from before, gives
            // the same store: the server did nothing to the tree besides those requests.
            const ref = XenstoreEngine.restore(before, { onInternalError: rethrow });
            const rc = ref.connect({ domid: 0 });
            for (const r of seen) {
              const out = ref.request(rc, r.req);
              assert.deepEqual(bytesOf(out.reply), bytesOf(r.reply));
            }
            assert.deepEqual(f.engine.snapshot(), ref.snapshot());
            const succeeded = seen.some((r) => MUTATING.has(r.req.type) && r.reply?.type === r.req.type);
            if (!succeeded) assert.deepEqual(treeOf(f.engine), treeOf(XenstoreEngine.restore(before)));
            else changed++;
            assert.deepEqual(f.engine.checkStore(), []);
            await stillServes(f);
          },
        ),
        { seed, numRuns: 150 },
      ),
    );
    t.diagnostic(`${handled} requests handled; ${changed} runs changed the tree through successful requests`);
  });
});
