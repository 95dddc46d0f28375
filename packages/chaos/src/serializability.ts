// Xenstore transaction history and its serializability check.
//
// xenstored records, in the order it handles them, every transaction start and end (with its
// result), every read and every write, per connection. A committed transaction's writes take effect
// at its end; a write outside a transaction is a transaction of its own, committed at once. From
// the history we build the conflict graph of the committed transactions, as the theory has it:
//   wr  W → T  T read the version W wrote;
//   ww  W → V  V overwrote W's version of a node;
//   rw  T → V  T read a version that V later overwrote (an anti-dependency).
// A cycle means no serial order gives the same reads and final state: a violation. A transaction
// that read a node, let another commit a write to it, then wrote it and committed anyway (a lost
// update, what xenstored's conflict check on TRANSACTION_END exists to refuse with EAGAIN) makes
// a two-transaction cycle.

import type { CheckResult } from "./checkers.js";

/** One entry of xenstored's history (seq: the order xenstored handled it). */
export type XsHistoryEvent =
  | { seq: number; conn: number; op: "start"; tx: number }
  | { seq: number; conn: number; op: "end"; tx: number; commit: boolean; result: "ok" | string }
  | { seq: number; conn: number; op: "read"; tx: number; path: string }
  | { seq: number; conn: number; op: "write" | "rm"; tx: number; path: string };

/** A committed transaction as the check sees it. */
interface Committed {
  id: string;
  conn: number;
  tx: number;
  startSeq: number;
  commitSeq: number;
  /** path → the committed transaction whose version it read ("" = the initial state). */
  reads: Map<string, string>;
  writes: Array<{ path: string; rm: boolean }>;
}

interface Open {
  conn: number;
  tx: number;
  startSeq: number;
  reads: Map<string, string>;
  writes: Array<{ path: string; rm: boolean }>;
  written: Set<string>;
}

export interface SerializabilityEvidence {
  /** The transactions of one cycle, in order, and why each edge is there. */
  cycle: Array<{ txn: string; startSeq: number; commitSeq: number; then: string }>;
}

const under = (path: string, root: string): boolean => path === root || path.startsWith(`${root}/`);

/**
 * Checks a history for conflict serializability of its committed transactions. Returns the check
 * with one cycle per violation found (at most `maxEvidence`).
 */
export function checkSerializability(
  history: readonly XsHistoryEvent[],
  opts: { maxEvidence?: number } = {},
): CheckResult & { transactions: number } {
  const open = new Map<string, Open>();
  const committed: Committed[] = [];
  /** The committed writer of each node's current version ("" = initial). */
  const version = new Map<string, string>();
  const versionOf = (path: string): string => version.get(path) ?? "";
  // the edges: from → to with a reason
  const edges = new Map<string, Map<string, string>>();
  const edge = (from: string, to: string, why: string): void => {
    if (from === "" || from === to) return;
    let m = edges.get(from);
    if (!m) edges.set(from, (m = new Map()));
    if (!m.has(to)) m.set(to, why);
  };
  /** readers of each version: version id → path → readers */
  const readersOf = new Map<string, Map<string, Set<string>>>();
  let single = 0;

  /** Every node's committed writers in order (its versions). */
  const chain = new Map<string, string[]>();
  const commit = (c: Committed): void => {
    committed.push(c);
    for (const [path, from] of c.reads) {
      edge(from, c.id, `wr ${path}`);
      // the version it read was overwritten before it committed: it comes before that writer
      const writers = chain.get(path) ?? [];
      const overwrittenBy = writers[from === "" ? 0 : writers.indexOf(from) + 1];
      if (overwrittenBy !== undefined) edge(c.id, overwrittenBy, `rw ${path}`);
      let byPath = readersOf.get(from);
      if (!byPath) readersOf.set(from, (byPath = new Map()));
      let rs = byPath.get(path);
      if (!rs) byPath.set(path, (rs = new Set()));
      rs.add(c.id);
    }
    for (const w of c.writes) {
      const paths = w.rm ? [...known].filter((p) => under(p, w.path)) : [];
      if (!paths.includes(w.path)) paths.push(w.path);
      for (const p of paths) {
        const prev = versionOf(p);
        edge(prev, c.id, `ww ${p}`);
        for (const r of readersOf.get(prev)?.get(p) ?? []) edge(r, c.id, `rw ${p}`);
        version.set(p, c.id);
        let w = chain.get(p);
        if (!w) chain.set(p, (w = []));
        if (w[w.length - 1] !== c.id) w.push(c.id);
      }
    }
  };

  /** Every node the history names (an rm covers those below it). */
  const known = new Set<string>();
  for (const e of history) {
    const key = `${e.conn}:${e.tx}`;
    if ("path" in e) known.add(e.path);
    switch (e.op) {
      case "start":
        open.set(key, {
          conn: e.conn,
          tx: e.tx,
          startSeq: e.seq,
          reads: new Map(),
          writes: [],
          written: new Set(),
        });
        break;
      case "read": {
        if (e.tx === 0) break; // a read outside a transaction sees the live store: no constraint
        const t = open.get(key);
        if (!t || t.written.has(e.path) || t.reads.has(e.path)) break;
        t.reads.set(e.path, versionOf(e.path));
        break;
      }
      case "write":
      case "rm": {
        const rm = e.op === "rm";
        if (e.tx === 0) {
          commit({
            id: `conn ${e.conn} write #${++single}`,
            conn: e.conn,
            tx: 0,
            startSeq: e.seq,
            commitSeq: e.seq,
            reads: new Map(),
            writes: [{ path: e.path, rm }],
          });
          break;
        }
        const t = open.get(key);
        if (!t) break;
        t.writes.push({ path: e.path, rm });
        t.written.add(e.path);
        break;
      }
      case "end": {
        const t = open.get(key);
        open.delete(key);
        if (!t || !e.commit || e.result !== "ok") break;
        commit({
          id: `conn ${t.conn} tx ${t.tx}@${t.startSeq}`,
          conn: t.conn,
          tx: t.tx,
          startSeq: t.startSeq,
          commitSeq: e.seq,
          reads: t.reads,
          writes: t.writes,
        });
        break;
      }
    }
  }

  // cycles: Tarjan's strongly connected components; a component of more than one node is a cycle
  const byId = new Map(committed.map((c) => [c.id, c]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  const strong = (v: string): void => {
    // iterative, so long histories do not overflow the call stack
    const work: Array<{ v: string; it: Iterator<string> }> = [];
    const enter = (x: string): void => {
      index.set(x, next);
      low.set(x, next++);
      stack.push(x);
      onStack.add(x);
      work.push({ v: x, it: (edges.get(x) ?? new Map<string, string>()).keys() });
    };
    enter(v);
    while (work.length) {
      const top = work[work.length - 1]!;
      const n = top.it.next();
      if (!n.done) {
        const w = n.value;
        if (!index.has(w)) enter(w);
        else if (onStack.has(w)) low.set(top.v, Math.min(low.get(top.v)!, index.get(w)!));
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1]!.v;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.v)!));
      }
      if (low.get(top.v) === index.get(top.v)) {
        const comp: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          comp.push(w);
        } while (w !== top.v);
        if (comp.length > 1) components.push(comp);
      }
    }
  };
  for (const c of committed) if (!index.has(c.id)) strong(c.id);

  const evidence: SerializabilityEvidence[] = [];
  for (const comp of components.slice(0, opts.maxEvidence ?? 5)) {
    // one cycle inside the component: walk edges that stay in it until a node repeats
    const inComp = new Set(comp);
    const path: string[] = [comp[0]!];
    const seen = new Map<string, number>([[comp[0]!, 0]]);
    for (;;) {
      const cur = path[path.length - 1]!;
      const nextNode = [...(edges.get(cur) ?? new Map<string, string>()).keys()].find((x) => inComp.has(x))!;
      if (seen.has(nextNode)) {
        const cyc = [...path.slice(seen.get(nextNode)!), nextNode];
        evidence.push({
          cycle: cyc.slice(0, -1).map((id, i) => {
            const c = byId.get(id)!;
            return {
              txn: id,
              startSeq: c.startSeq,
              commitSeq: c.commitSeq,
              then: `${edges.get(id)!.get(cyc[i + 1]!)!} → ${cyc[i + 1]!}`,
            };
          }),
        });
        break;
      }
      seen.set(nextNode, path.length);
      path.push(nextNode);
    }
  }
  const txns = committed.length - single;
  return {
    name: "serializability",
    pass: components.length === 0,
    summary:
      components.length === 0
        ? `${txns} committed transaction(s) and ${single} single write(s): the conflict graph has no cycle`
        : `${components.length} cycle(s) in the conflict graph of ${txns} committed transaction(s): not serializable`,
    evidence,
    transactions: txns,
  };
}
