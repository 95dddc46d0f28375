import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { checkSerializability, type XsHistoryEvent } from "./serializability.js";

/** Builds a history from compact steps: "c1 start 5", "c1 read 5 /a", "c1 write 5 /a", "c1 end 5 ok". */
function history(...steps: string[]): XsHistoryEvent[] {
  return steps.map((s, i) => {
    const [c, op, tx, arg] = s.split(" ") as [string, string, string, string | undefined];
    const conn = Number(c.slice(1));
    const seq = i + 1;
    const t = Number(tx);
    if (op === "start") return { seq, conn, op, tx: t };
    if (op === "end")
      return { seq, conn, op, tx: t, commit: arg !== "abort", result: arg === "abort" ? "ok" : arg! };
    return { seq, conn, op: op as "read" | "write" | "rm", tx: t, path: arg! };
  });
}

describe("xenstore serializability", () => {
  it("a lost update (read, another commits a write, write, commit) is a cycle with both transactions", () => {
    const r = checkSerializability(
      history(
        "c1 start 1",
        "c1 read 1 /counter",
        "c2 start 2",
        "c2 read 2 /counter",
        "c2 write 2 /counter",
        "c2 end 2 ok",
        "c1 write 1 /counter",
        "c1 end 1 ok",
      ),
    );
    assert.equal(r.pass, false);
    const ev = r.evidence[0] as { cycle: Array<{ txn: string; then: string }> };
    assert.deepEqual(ev.cycle.map((x) => x.txn).sort(), ["conn 1 tx 1@1", "conn 2 tx 2@3"]);
    assert.ok(ev.cycle.some((x) => x.then.startsWith("rw /counter")));
  });

  it("the same interleaving where the second end got EAGAIN is serializable; so are disjoint nodes", () => {
    const base = [
      "c1 start 1",
      "c1 read 1 /counter",
      "c2 start 2",
      "c2 read 2 /counter",
      "c2 write 2 /counter",
    ];
    assert.equal(
      checkSerializability(history(...base, "c2 end 2 ok", "c1 write 1 /counter", "c1 end 1 EAGAIN")).pass,
      true,
    );
    assert.equal(
      checkSerializability(history(...base, "c2 end 2 ok", "c1 write 1 /other", "c1 end 1 ok")).pass,
      true,
      "T1 read the old /counter and wrote /other: serializable as T1 then T2",
    );
    assert.equal(
      checkSerializability(history(...base, "c2 end 2 abort", "c1 write 1 /counter", "c1 end 1 ok")).pass,
      true,
    );
  });

  it("a single write outside transactions between read and commit also conflicts; rm covers descendants", () => {
    const r = checkSerializability(
      history("c1 start 1", "c1 read 1 /a/b", "c2 rm 0 /a", "c1 write 1 /a/b", "c1 end 1 ok"),
    );
    // c2's rm of /a removes /a/b, a version c1 had read and then overwrote: rw then ww back
    assert.equal(r.pass, false);
  });

  it("serial histories (one transaction at a time) always pass (property)", () => {
    const step = fc.record({
      ops: fc.array(
        fc.record({ op: fc.constantFrom("read", "write", "rm"), path: fc.constantFrom("/a", "/a/b", "/c") }),
        { maxLength: 6 },
      ),
      commit: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 12 }), (txns) => {
        const h: XsHistoryEvent[] = [];
        let seq = 0;
        txns.forEach((t, i) => {
          const tx = i + 1;
          h.push({ seq: ++seq, conn: (i % 3) + 1, op: "start", tx });
          for (const o of t.ops)
            h.push({ seq: ++seq, conn: (i % 3) + 1, op: o.op as "read", tx, path: o.path });
          h.push({ seq: ++seq, conn: (i % 3) + 1, op: "end", tx, commit: t.commit, result: "ok" });
        });
        return checkSerializability(h).pass;
      }),
      { seed: 1313, numRuns: 200 },
    );
    console.log("fast-check seed 1313");
  });
});
