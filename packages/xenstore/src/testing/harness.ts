// Test harness for the engine: rows of (connection, transaction, request, expected reply, expected
// events), with invariants checked after every step (QEMU test-xs-node.c style): the store is
// consistent, restore(snapshot()) reproduces it, a failed request changed nothing, and the journal of
// mutations replayed onto the initial snapshot gives the same tree.

import assert from "node:assert/strict";
import { XsType } from "@xensim/abi";
import { bytesToBinary } from "../bytes.js";
import { XenstoreEngine } from "../engine.js";
import type { ConnId, EngineOptions, Mutation, Output, XenstoreSnapshot } from "../types.js";
import type { XsMessage } from "../wire.js";

export type OpName = keyof typeof XsType | number;

export interface Step {
  /** Connection name: "d<domid>" connects that domain on first use; "d<domid>:<x>" a second one. */
  c: string;
  op: OpName;
  args?: (string | Uint8Array)[];
  /** Transaction: a name saved by `as`, or a raw tx_id. */
  tx?: string | number;
  /**
   * Expected reply: "!ENOENT" for an XS_ERROR, otherwise the payload with one trailing nul removed
   * and the other nuls shown as "|" ("OK", "a|b", "" for an empty reply).
   */
  expect: string;
  /** Expected watch events in order, as "<conn> <path> <token>"; omitted: not checked. */
  events?: string[];
  /** Name the transaction id returned by a TRANSACTION_START. */
  as?: string;
}

/** Raw payload bytes for binary arguments: a string is followed by a nul, bytes go as they are. */
export function payloadOf(args: (string | Uint8Array)[]): Uint8Array {
  const parts: number[] = [];
  for (const a of args) {
    if (typeof a === "string") {
      for (let i = 0; i < a.length; i++) parts.push(a.charCodeAt(i) & 0xff);
      parts.push(0);
    } else parts.push(...a);
  }
  return Uint8Array.from(parts);
}

export function renderReply(m: XsMessage | null): string {
  if (m === null) return "<dropped>";
  const s = bytesToBinary(m.payload);
  if (m.type === XsType.ERROR) return `!${s.replace(/\0$/, "")}`;
  return s.replace(/\0$/, "").replace(/\0/g, "|");
}

/** Snapshot without the generation counter, for "nothing changed" comparisons. */
function treeOf(s: XenstoreSnapshot): unknown {
  return { nodes: s.nodes, domains: s.domains, quotas: s.quotas };
}

/** Tree and domains without generation counts and shutdown flags (what a journal carries). */
export function shapeOf(s: XenstoreSnapshot): unknown {
  return {
    nodes: s.nodes.map(({ generation: _g, ...n }) => n),
    domains: s.domains.map(({ shutdown: _s, ...d }) => d),
  };
}

export class Harness {
  readonly engine: XenstoreEngine;
  readonly initial: XenstoreSnapshot;
  readonly journal: Mutation[] = [];
  private readonly opts: EngineOptions;
  private readonly conns = new Map<string, ConnId>();
  private readonly names = new Map<ConnId, string>();
  private readonly txs = new Map<string, number>();
  private reqId = 1;
  last: Output | undefined;

  constructor(opts: EngineOptions = {}) {
    this.opts = {
      ...opts,
      onInternalError: (e) => {
        throw e;
      },
    };
    this.engine = new XenstoreEngine(this.opts);
    this.initial = this.engine.snapshot();
  }

  conn(name: string, privileged?: boolean): ConnId {
    let id = this.conns.get(name);
    if (id === undefined) {
      const m = /^d(\d+)/.exec(name);
      assert.ok(m, `bad connection name ${name}`);
      id = this.engine.connect({
        domid: Number(m[1]),
        label: name,
        ...(privileged !== undefined ? { privileged } : {}),
      });
      this.conns.set(name, id);
      this.names.set(id, name);
    }
    return id;
  }

  txId(tx: string | number | undefined): number {
    if (tx === undefined) return 0;
    if (typeof tx === "number") return tx;
    const id = this.txs.get(tx);
    assert.ok(id !== undefined, `unknown transaction ${tx}`);
    return id;
  }

  /** Sends one request and checks the invariants; returns the output. */
  send(c: string, op: OpName, args: (string | Uint8Array)[] = [], tx?: string | number): Output {
    const type = typeof op === "number" ? op : XsType[op];
    // A WRITE value goes raw, without a trailing nul, as clients send it.
    const last = args.at(-1);
    const payload =
      type === XsType.WRITE && args.length >= 2 && typeof last === "string"
        ? payloadOf([...args.slice(0, -1), payloadOf([last]).subarray(0, last.length)])
        : payloadOf(args);
    const msg: XsMessage = { type, reqId: this.reqId++, txId: this.txId(tx), payload };
    return this.sendMsg(c, msg);
  }

  sendMsg(c: string, msg: XsMessage): Output {
    const before = this.engine.snapshot();
    const out = this.engine.request(this.conn(c), msg);
    this.last = out;
    if (out.reply) {
      assert.equal(out.reply.reqId, msg.reqId, "reply echoes req_id");
      assert.equal(out.reply.txId, msg.txId, "reply echoes tx_id");
      if (out.reply.type !== XsType.ERROR) assert.equal(out.reply.type, msg.type, "reply echoes type");
    }
    if (!out.reply || out.reply.type === XsType.ERROR) {
      assert.deepEqual(treeOf(this.engine.snapshot()), treeOf(before), "a failed request changed the store");
      assert.deepEqual(out.mutations, [], "a failed request emitted mutations");
      assert.deepEqual(out.effects, [], "a failed request emitted effects");
    }
    this.record(out);
    return out;
  }

  /** Keeps the journal and checks invariants after a non-request call (domainGone, ...). */
  record(out: Output): void {
    this.journal.push(...out.mutations);
    this.checkInvariants();
  }

  events(out: Output): string[] {
    return out.events.map((e) => {
      const [path, token] = bytesToBinary(e.msg.payload).split("\0");
      assert.equal(e.msg.type, XsType.WATCH_EVENT);
      assert.equal(e.msg.reqId, 0);
      assert.equal(e.msg.txId, 0);
      return `${this.names.get(e.conn) ?? e.conn} ${path} ${token}`;
    });
  }

  checkInvariants(): void {
    assert.deepEqual(this.engine.checkStore(), [], "store consistent");
    const snap = this.engine.snapshot();
    const json = JSON.parse(JSON.stringify(snap)) as XenstoreSnapshot;
    assert.deepEqual(
      XenstoreEngine.restore(json, this.opts).snapshot(),
      snap,
      "restore(snapshot()) is the same store",
    );
    const replay = XenstoreEngine.restore(this.initial, this.opts);
    replay.applyMutations(this.journal);
    assert.deepEqual(shapeOf(replay.snapshot()), shapeOf(snap), "journal replay gives the same tree");
  }

  /** Runs table rows. */
  run(steps: Step[]): void {
    for (const [i, s] of steps.entries()) {
      const where = `step ${i}: ${s.c} ${String(s.op)} ${JSON.stringify(s.args ?? [])}${s.tx !== undefined ? ` tx ${s.tx}` : ""}`;
      const out = this.send(s.c, s.op, s.args ?? [], s.tx);
      assert.equal(renderReply(out.reply), s.expect, where);
      if (s.events) assert.deepEqual(this.events(out), s.events, `${where}: events`);
      if (s.as) this.txs.set(s.as, Number(renderReply(out.reply)));
    }
  }

  /** Leak check: the number of live nodes (the initial tree has 7: /, /tool, /tool/xenstored, /local, /local/domain and the two special nodes). */
  expectNodes(n: number): void {
    assert.equal(this.engine.nodeCount(), n, "live node count");
  }
}

/** Shorthand for a table row. */
export function s(
  c: string,
  op: OpName,
  args: (string | Uint8Array)[],
  expect: string,
  more: Partial<Pick<Step, "tx" | "events" | "as">> = {},
): Step {
  return { c, op, args, expect, ...more };
}
