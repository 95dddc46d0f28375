// Property tests of the engine: against a reference model, fuzzed input, and journal replay.
// fast-check prints the seed and the shrunk counterexample on failure.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { XsType } from "@xensim/abi";
import fc from "fast-check";
import { XenstoreEngine } from "./engine.js";
import { payloadOf, renderReply, shapeOf } from "./testing/harness.js";
import type { Mutation, Output, XenstoreSnapshot } from "./types.js";
import { XsDecoder, type XsMessage, XsProtocolError } from "./wire.js";

const rethrow = (e: unknown) => {
  throw e;
};

// ------------------------------------------------------------------ reference model

/** The simplest store: path → value and ordered children, implicit parents on create. */
class Model {
  nodes = new Map<string, { value: string; children: string[] }>([["/", { value: "", children: [] }]]);

  clone(): Model {
    const m = new Model();
    m.nodes = new Map([...this.nodes].map(([k, v]) => [k, { value: v.value, children: [...v.children] }]));
    return m;
  }

  private parent(p: string): string {
    const i = p.lastIndexOf("/");
    return i <= 0 ? "/" : p.slice(0, i);
  }

  private create(p: string, value: string): void {
    const missing: string[] = [];
    for (let q = p; !this.nodes.has(q); q = this.parent(q)) missing.unshift(q);
    for (const q of missing) {
      this.nodes.get(this.parent(q))!.children.push(q.slice(q.lastIndexOf("/") + 1));
      this.nodes.set(q, { value: "", children: [] });
    }
    this.nodes.get(p)!.value = value;
  }

  apply(op: Op): string {
    const n = this.nodes.get(op.path);
    switch (op.kind) {
      case "write":
        this.create(op.path, op.value);
        return "OK";
      case "mkdir":
        if (!n) this.create(op.path, "");
        return "OK";
      case "rm": {
        if (!n) return this.nodes.has(this.parent(op.path)) ? "OK" : "!ENOENT";
        const stack = [op.path];
        while (stack.length) {
          const q = stack.pop()!;
          for (const c of this.nodes.get(q)!.children) stack.push(`${q}/${c}`);
          this.nodes.delete(q);
        }
        const parent = this.nodes.get(this.parent(op.path))!;
        parent.children = parent.children.filter((c) => c !== op.path.slice(op.path.lastIndexOf("/") + 1));
        return "OK";
      }
      case "read":
        return n ? n.value : "!ENOENT";
      case "directory":
        return n ? n.children.join("|") : "!ENOENT";
    }
  }
}

interface Op {
  kind: "write" | "mkdir" | "rm" | "read" | "directory";
  path: string;
  value: string;
}

const OP_TYPE = { write: "WRITE", mkdir: "MKDIR", rm: "RM", read: "READ", directory: "DIRECTORY" } as const;

const pathArb = fc
  .array(fc.constantFrom("a", "b", "c"), { minLength: 1, maxLength: 3 })
  .map((cs) => `/m/${cs.join("/")}`);
const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom("write", "mkdir", "rm", "read", "directory"),
  path: fc.oneof(pathArb, fc.constant("/m")),
  value: fc.stringMatching(/^[a-z0-9]{0,4}$/),
});
/** A batch of operations, plain or inside a transaction that is committed or aborted. */
const batchArb = fc.record({
  tx: fc.constantFrom("none", "commit", "abort"),
  ops: fc.array(opArb, { minLength: 1, maxLength: 6 }),
});

function send(
  e: XenstoreEngine,
  conn: number,
  type: number,
  args: (string | Uint8Array)[],
  txId = 0,
): Output {
  return e.request(conn, { type, reqId: 1, txId, payload: payloadOf(args) });
}

/** Runs a dom0 operation; the WRITE value goes without a nul. */
function runOp(e: XenstoreEngine, conn: number, op: Op, txId: number): string {
  const args: (string | Uint8Array)[] =
    op.kind === "write" ? [op.path, Uint8Array.from(op.value, (c) => c.charCodeAt(0))] : [op.path];
  return renderReply(send(e, conn, XsType[OP_TYPE[op.kind]], args, txId).reply);
}

describe("engine against a reference model", () => {
  it("property: dom0 write/mkdir/rm/read/directory, plain and in transactions", () => {
    fc.assert(
      fc.property(fc.array(batchArb, { maxLength: 12 }), (batches) => {
        const e = new XenstoreEngine({ onInternalError: rethrow });
        const d0 = e.connect({ domid: 0 });
        send(e, d0, XsType.MKDIR, ["/m"]);
        let model = new Model();
        model.apply({ kind: "mkdir", path: "/m", value: "" });
        for (const b of batches) {
          let txId = 0;
          const view = b.tx === "none" ? model : model.clone();
          if (b.tx !== "none") txId = Number(renderReply(send(e, d0, XsType.TRANSACTION_START, [""]).reply));
          for (const op of b.ops) assert.equal(runOp(e, d0, op, txId), view.apply(op), JSON.stringify(op));
          if (b.tx !== "none") {
            const end = renderReply(
              send(e, d0, XsType.TRANSACTION_END, [b.tx === "commit" ? "T" : "F"], txId).reply,
            );
            assert.equal(end, "OK");
            if (b.tx === "commit") model = view;
          }
          // Whole-tree comparison.
          for (const [path, n] of model.nodes) {
            if (path === "/") continue;
            assert.equal(renderReply(send(e, d0, XsType.READ, [path]).reply), n.value, path);
            assert.equal(
              renderReply(send(e, d0, XsType.DIRECTORY, [path]).reply),
              n.children.join("|"),
              path,
            );
          }
          assert.equal(e.nodeCount(), 7 + model.nodes.size - 1);
          assert.deepEqual(e.checkStore(), []);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("property: two transactions touching the same node: the second commit gets EAGAIN", () => {
    fc.assert(
      fc.property(pathArb, pathArb, fc.boolean(), (p1, p2, readFirst) => {
        const e = new XenstoreEngine({ onInternalError: rethrow });
        const d0 = e.connect({ domid: 0 });
        send(e, d0, XsType.WRITE, [p1, "base"]);
        const t1 = Number(renderReply(send(e, d0, XsType.TRANSACTION_START, [""]).reply));
        const t2 = Number(renderReply(send(e, d0, XsType.TRANSACTION_START, [""]).reply));
        if (readFirst) send(e, d0, XsType.READ, [p1], t2);
        send(e, d0, XsType.WRITE, [p1, "one"], t1);
        send(e, d0, XsType.WRITE, [p2, "two"], t2);
        send(e, d0, XsType.READ, [p1], t2);
        assert.equal(renderReply(send(e, d0, XsType.TRANSACTION_END, ["T"], t1).reply), "OK");
        assert.equal(renderReply(send(e, d0, XsType.TRANSACTION_END, ["T"], t2).reply), "!EAGAIN");
        assert.equal(renderReply(send(e, d0, XsType.READ, [p1]).reply), "one");
      }),
    );
  });
});

// ------------------------------------------------------------------ fuzzing

const FUZZ_STRINGS = [
  "/",
  "/local/domain/1",
  "/local/domain/1/x",
  "x",
  "x/y",
  "/a",
  "/a/b",
  "@releaseDomain",
  "@introduceDomain",
  "",
  "//",
  "/a/",
  "1",
  "0",
  "7",
  "-1",
  "65535",
  "T",
  "F",
  "n0",
  "r1",
  "b2",
  "w1",
  "n1",
  "tok",
  "quota",
  "set",
  "nodes",
  "print",
  "check",
  "help",
];
const fuzzMessageArb: fc.Arbitrary<{ conn: number; msg: XsMessage }> = fc.record({
  conn: fc.nat({ max: 2 }),
  msg: fc.record({
    type: fc.oneof(fc.nat({ max: 27 }), fc.nat({ max: 0xffffffff })),
    reqId: fc.nat({ max: 0xffffffff }),
    txId: fc.oneof(fc.constant(0), fc.nat({ max: 3 }), fc.nat({ max: 0xffffffff })),
    payload: fc.oneof(
      fc
        .array(fc.oneof(fc.constantFrom(...FUZZ_STRINGS), fc.string({ maxLength: 6 })), { maxLength: 5 })
        .map((a) => payloadOf(a)),
      fc
        .tuple(fc.array(fc.constantFrom(...FUZZ_STRINGS), { maxLength: 4 }), fc.uint8Array({ maxLength: 8 }))
        .map(([a, tail]) => Uint8Array.from([...payloadOf(a), ...tail])),
      fc.uint8Array({ maxLength: 64 }),
    ),
  }),
});

function withoutGeneration(s: XenstoreSnapshot): unknown {
  return { nodes: s.nodes, domains: s.domains, quotas: s.quotas, generation: s.generation };
}

describe("fuzz", () => {
  it("property: random (mostly malformed) messages never throw; error replies never change the store", () => {
    fc.assert(
      fc.property(fc.array(fuzzMessageArb, { maxLength: 40 }), (msgs) => {
        const e = new XenstoreEngine({
          onInternalError: rethrow,
          quotas: { nodes: 8, transactionNodes: 10 },
        });
        const conns = [e.connect({ domid: 0 }), e.connect({ domid: 1 }), e.connect({ domid: 2 })];
        send(e, conns[0]!, XsType.MKDIR, ["/local/domain/1"]);
        send(e, conns[0]!, XsType.SET_PERMS, ["/local/domain/1", "n1", "r2"]);
        const journal: Mutation[] = [];
        const initial = e.snapshot();
        for (const { conn, msg } of msgs) {
          const before = e.snapshot();
          const out = e.request(conns[conn]!, msg);
          journal.push(...out.mutations);
          if (out.reply === null || out.reply.type === XsType.ERROR) {
            assert.deepEqual(withoutGeneration(e.snapshot()), withoutGeneration(before));
            assert.deepEqual(out.mutations, []);
          } else assert.equal(out.reply.reqId, msg.reqId);
          for (const ev of out.events) assert.ok(ev.msg.payload.length <= 4096);
          assert.deepEqual(e.checkStore(), []);
        }
        const replay = XenstoreEngine.restore(initial);
        replay.applyMutations(journal);
        assert.deepEqual(shapeOf(replay.snapshot()), shapeOf(e.snapshot()));
      }),
      { numRuns: 300 },
    );
  });

  it("property: random bytes through the decoder into the engine never throw except XsProtocolError", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 48 }), { maxLength: 20 }), (chunks) => {
        const e = new XenstoreEngine({ onInternalError: rethrow });
        const conn = e.connect({ domid: 3 });
        const d = new XsDecoder();
        for (const c of chunks) {
          let msgs: XsMessage[];
          try {
            msgs = d.push(c);
          } catch (err) {
            assert.ok(err instanceof XsProtocolError);
            break;
          }
          for (const m of msgs) assert.notEqual(e.request(conn, m).reply, null);
        }
        assert.equal(e.nodeCount(), 7);
      }),
    );
  });
});

// ------------------------------------------------------------------ journal replay

const runOpArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ kind: fc.constant("op" as const), conn: fc.nat({ max: 3 }), op: opArb }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("perms" as const),
      conn: fc.nat({ max: 3 }),
      path: pathArb,
      perms: fc.array(fc.constantFrom("n0", "r1", "b2", "w3", "n1", "n2"), { minLength: 1, maxLength: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("tx" as const),
      conn: fc.nat({ max: 3 }),
      ops: fc.array(opArb, { maxLength: 4 }),
      commit: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("domain" as const),
      domid: fc.integer({ min: 1, max: 3 }),
      what: fc.constantFrom("introduce", "release", "gone", "target"),
    }),
  },
);

describe("journal", () => {
  it("property: applyMutations of a random run onto restore(initial snapshot) gives the same tree", () => {
    fc.assert(
      fc.property(fc.array(runOpArb, { maxLength: 30 }), (steps) => {
        const e = new XenstoreEngine({ onInternalError: rethrow });
        const conns = [0, 1, 2, 3].map((domid) => e.connect({ domid }));
        for (const d of [1, 2, 3]) {
          send(e, conns[0]!, XsType.MKDIR, [`/local/domain/${d}`]);
          send(e, conns[0]!, XsType.SET_PERMS, [`/local/domain/${d}`, `n${d}`]);
        }
        send(e, conns[0]!, XsType.MKDIR, ["/m"]);
        send(e, conns[0]!, XsType.SET_PERMS, ["/m", "b0"]);
        const initial = JSON.parse(JSON.stringify(e.snapshot())) as XenstoreSnapshot;
        const journal: Mutation[] = [];
        const keep = (output: Output) => journal.push(...output.mutations);
        for (const st of steps) {
          switch (st.kind) {
            case "op":
              keep(e.request(conns[st.conn]!, msgOf(st.op, 0)));
              break;
            case "perms":
              keep(send(e, conns[st.conn]!, XsType.SET_PERMS, [st.path, ...st.perms]));
              break;
            case "tx": {
              const c = conns[st.conn]!;
              const id = Number(renderReply(send(e, c, XsType.TRANSACTION_START, [""]).reply));
              for (const op of st.ops) keep(e.request(c, msgOf(op, id)));
              keep(send(e, c, XsType.TRANSACTION_END, [st.commit ? "T" : "F"], id));
              break;
            }
            case "domain":
              if (st.what === "introduce")
                keep(send(e, conns[0]!, XsType.INTRODUCE, [String(st.domid), "0", "1"]));
              else if (st.what === "release") keep(send(e, conns[0]!, XsType.RELEASE, [String(st.domid)]));
              else if (st.what === "target")
                keep(send(e, conns[0]!, XsType.SET_TARGET, [String(st.domid), "1"]));
              else keep(e.domainGone(st.domid));
              break;
          }
        }
        const replay = XenstoreEngine.restore(initial);
        replay.applyMutations(journal);
        assert.deepEqual(shapeOf(replay.snapshot()), shapeOf(e.snapshot()));
        const restored = XenstoreEngine.restore(JSON.parse(JSON.stringify(e.snapshot())) as XenstoreSnapshot);
        assert.deepEqual(restored.snapshot(), e.snapshot());
      }),
      { numRuns: 200 },
    );
  });
});

function msgOf(op: Op, txId: number): XsMessage {
  const args: (string | Uint8Array)[] =
    op.kind === "write" ? [op.path, Uint8Array.from(op.value, (c) => c.charCodeAt(0))] : [op.path];
  return { type: XsType[OP_TYPE[op.kind]], reqId: 1, txId, payload: payloadOf(args) };
}
