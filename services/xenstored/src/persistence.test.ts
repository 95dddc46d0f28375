// The state directory: snapshot + journal, torn tails, corruption, compaction and crash windows.
import assert from "node:assert/strict";
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { XsType } from "@xensim/abi";
import { tempDir, testSeed } from "@xensim/testkit";
import { type Mutation, XenstoreEngine, type XenstoreSnapshot, xsStrings } from "@xensim/xenstore";
import fc from "fast-check";
import { StateStore } from "./persistence.js";

const enc = new TextEncoder();
const rethrow = (e: unknown) => {
  throw e;
};

function set(path: string, value: Uint8Array | string): Mutation {
  return {
    op: "set",
    path,
    value: typeof value === "string" ? enc.encode(value) : value,
    perms: [{ id: 0, perm: "n" }],
  };
}

/** A live engine whose mutations go through a StateStore, as XenstoredCore does it. */
class Live {
  readonly engine = new XenstoreEngine({ onInternalError: rethrow });
  readonly conn = this.engine.connect({ domid: 0 });
  private reqId = 1;
  constructor(readonly store: StateStore) {}
  write(path: string, value: string | Uint8Array): void {
    const v = typeof value === "string" ? enc.encode(value) : value;
    const p = xsStrings(path);
    const payload = new Uint8Array(p.length + v.length);
    payload.set(p, 0);
    payload.set(v, p.length);
    this.req(XsType.WRITE, payload);
  }
  rm(path: string): void {
    this.req(XsType.RM, xsStrings(path));
  }
  private req(type: number, payload: Uint8Array): void {
    const out = this.engine.request(this.conn, { type, reqId: this.reqId++, txId: 0, payload });
    assert.equal(out.reply?.type, type, `request ${type} failed`);
    if (out.mutations.length > 0) {
      this.store.append(out.mutations);
      if (this.store.shouldCompact()) this.store.compact(this.engine.snapshot());
    }
  }
}

/** Tree and domains without generation counts (the journal does not carry them). */
function shape(s: XenstoreSnapshot): unknown {
  return {
    nodes: s.nodes.map(({ generation: _g, ...n }) => n),
    domains: s.domains.map(({ shutdown: _s, ...d }) => d),
  };
}

/** What xenstored does at start: snapshot, then the journal replayed on top. */
function restore(dir: string): { engine: XenstoreEngine; store: StateStore; torn: number } {
  const store = new StateStore({ dir });
  const loaded = store.load();
  const engine = loaded.snapshot ? XenstoreEngine.restore(loaded.snapshot) : new XenstoreEngine();
  engine.applyMutations(loaded.journal);
  return { engine, store, torn: loaded.tornRecords };
}

function openFds(): number {
  return readdirSync("/proc/self/fd").length;
}

function journalLines(dir: string): string[] {
  const p = join(dir, "journal.jsonl");
  if (!existsSync(p)) return [];
  return readFileSync(p, "utf8")
    .split("\n")
    .filter((l) => l !== "");
}

describe("StateStore", () => {
  it("loads an empty (even missing) directory as no state", () => {
    using tmp = tempDir("xs-state-");
    const dir = join(tmp.path, "not", "yet");
    const store = new StateStore({ dir });
    assert.deepEqual(store.load(), { snapshot: null, journal: [], tornRecords: 0 });
    store.open(() => new XenstoreEngine().snapshot(), false);
    store.close();
    assert.deepEqual(new StateStore({ dir }).load(), { snapshot: null, journal: [], tornRecords: 0 });
  });

  it("reloads exactly what was appended, in order", () => {
    using tmp = tempDir("xs-state-");
    const store = new StateStore({ dir: tmp.path });
    store.load();
    store.open(() => new XenstoreEngine().snapshot(), false);
    const records: Mutation[][] = [
      [set("/a", "1")],
      [set("/a/b", "two"), set("/a/c", "")],
      [{ op: "rm", path: "/a/b" }],
      [{ op: "domain", domid: 3, introduced: true, mfn: "1234", port: 7 }],
      [{ op: "domain", domid: 3, introduced: false }],
    ];
    for (const r of records) store.append(r);
    store.append([]); // nothing to record: no line
    store.close();
    assert.equal(journalLines(tmp.path).length, records.length);
    const loaded = new StateStore({ dir: tmp.path }).load();
    assert.equal(loaded.snapshot, null);
    assert.equal(loaded.tornRecords, 0);
    assert.deepEqual(loaded.journal, records.flat());
  });

  it("ignores and counts a torn last line; open() compacts so the next load is clean", () => {
    using tmp = tempDir("xs-state-");
    const fdsBefore = openFds();
    {
      const live = new Live(new StateStore({ dir: tmp.path }));
      live.store.load();
      live.store.open(() => live.engine.snapshot(), false);
      live.write("/a", "1");
      live.write("/b", "2");
      live.write("/c", "3");
      live.store.close();
    }
    // A crash in the middle of the fourth record: half of a line, no newline.
    const fourth = `${JSON.stringify({ seq: 4, m: [{ op: "set", path: "/d", value: "NA==", perms: [{ id: 0, perm: "n" }] }] })}\n`;
    appendFileSync(join(tmp.path, "journal.jsonl"), fourth.slice(0, Math.floor(fourth.length / 2)));

    const { engine, store, torn } = restore(tmp.path);
    assert.equal(torn, 1);
    assert.equal(engine.peek("/c")?.value.length, 1);
    assert.equal(engine.peek("/d"), undefined);
    store.open(() => engine.snapshot(), true);
    // The torn tail is gone: a fresh snapshot, an empty journal.
    assert.deepEqual(journalLines(tmp.path), []);
    const snap = JSON.parse(readFileSync(join(tmp.path, "snapshot.json"), "utf8"));
    assert.equal(snap.seq, 3);
    const c = engine.connect({ domid: 0 });
    const out = engine.request(c, { type: XsType.WRITE, reqId: 1, txId: 0, payload: xsStrings("/e", "5") });
    store.append(out.mutations);
    store.close();
    assert.equal(openFds(), fdsBefore, "file descriptors leaked");

    const again = restore(tmp.path);
    assert.equal(again.torn, 0);
    assert.deepEqual(shape(again.engine.snapshot()), shape(engine.snapshot()));
    again.store.close();
  });

  it("a last record that lost only its newline is kept, and the next append starts a new line", () => {
    using tmp = tempDir("xs-state-");
    {
      const live = new Live(new StateStore({ dir: tmp.path }));
      live.store.load();
      live.store.open(() => live.engine.snapshot(), false);
      live.write("/a", "1");
      live.store.close();
    }
    const second = JSON.stringify({
      seq: 2,
      m: [{ op: "set", path: "/b", value: "Mg==", perms: [{ id: 0, perm: "n" }] }],
    });
    appendFileSync(join(tmp.path, "journal.jsonl"), second);

    const first = restore(tmp.path);
    assert.equal(first.torn, 0);
    assert.equal(new TextDecoder().decode(first.engine.peek("/b")?.value), "2");
    first.store.open(() => first.engine.snapshot(), first.torn > 0);
    const c = first.engine.connect({ domid: 0 });
    const out = first.engine.request(c, {
      type: XsType.WRITE,
      reqId: 1,
      txId: 0,
      payload: xsStrings("/c", "3"),
    });
    first.store.append(out.mutations);
    first.store.close();

    const again = restore(tmp.path);
    assert.equal(again.torn, 0);
    assert.deepEqual(shape(again.engine.snapshot()), shape(first.engine.snapshot()));
  });

  it("fails loudly on a corrupt line that is not the last one", () => {
    using tmp = tempDir("xs-state-");
    const store = new StateStore({ dir: tmp.path });
    store.load();
    store.open(() => new XenstoreEngine().snapshot(), false);
    store.append([set("/a", "1")]);
    store.close();
    appendFileSync(join(tmp.path, "journal.jsonl"), '{"seq":2,"m":[{"op":"se\n');
    appendFileSync(join(tmp.path, "journal.jsonl"), `${JSON.stringify({ seq: 3, m: [] })}\n`);
    assert.throws(() => new StateStore({ dir: tmp.path }).load(), /journal line 2 is corrupt/);
  });

  it("refuses a snapshot of another format version", () => {
    using tmp = tempDir("xs-state-");
    writeFileSync(join(tmp.path, "snapshot.json"), JSON.stringify({ version: 99, seq: 0, snapshot: {} }));
    assert.throws(() => new StateStore({ dir: tmp.path }).load(), /unsupported snapshot version 99/);
  });

  it("compacts every few records and loses nothing", () => {
    using tmp = tempDir("xs-state-");
    const live = new Live(new StateStore({ dir: tmp.path, compactEvery: 3 }));
    live.store.load();
    live.store.open(() => live.engine.snapshot(), false);
    for (let i = 0; i < 20; i++) {
      live.write(`/k/${i % 7}`, `v${i}`);
      if (i % 5 === 4) live.rm(`/k/${i % 3}`);
      // Never more than compactEvery - 1 records wait in the journal.
      assert.ok(journalLines(tmp.path).length < 3);
      const r = restore(tmp.path);
      assert.deepEqual(shape(r.engine.snapshot()), shape(live.engine.snapshot()), `after step ${i}`);
    }
    assert.ok(existsSync(join(tmp.path, "snapshot.json")));
    live.store.close();
  });

  it("skips records already in the snapshot (crash between snapshot rename and journal truncation)", () => {
    using tmp = tempDir("xs-state-");
    const live = new Live(new StateStore({ dir: tmp.path }));
    live.store.load();
    live.store.open(() => live.engine.snapshot(), false);
    live.write("/a", "1");
    live.write("/a", "2"); // replaying this on top of the snapshot would be harmless…
    live.rm("/a"); // …but replaying the rm of a node written later would not
    const journalUpTo3 = readFileSync(join(tmp.path, "journal.jsonl"), "utf8");
    live.write("/a", "3"); // seq 4
    const journalUpTo4 = readFileSync(join(tmp.path, "journal.jsonl"), "utf8");
    live.store.compact(live.engine.snapshot()); // snapshot seq 4, journal truncated

    // The crash: the snapshot was renamed in place, the journal still holds records 1..4.
    live.store.close();
    writeFileSync(join(tmp.path, "journal.jsonl"), journalUpTo4);
    {
      const r = restore(tmp.path);
      assert.equal(new TextDecoder().decode(r.engine.peek("/a")?.value), "3");
      assert.deepEqual(shape(r.engine.snapshot()), shape(live.engine.snapshot()));
      // Life goes on: new records follow the old ones and are not skipped.
      r.store.open(() => r.engine.snapshot(), false);
      const c = r.engine.connect({ domid: 0 });
      const out = r.engine.request(c, { type: XsType.RM, reqId: 1, txId: 0, payload: xsStrings("/a") });
      r.store.append(out.mutations);
      r.store.close();
      const r2 = restore(tmp.path);
      assert.equal(r2.engine.peek("/a"), undefined);
      assert.deepEqual(shape(r2.engine.snapshot()), shape(r.engine.snapshot()));
    }

    // The same with a snapshot at seq 4 and a journal that stops at seq 3 (a stale, shorter one).
    writeFileSync(join(tmp.path, "journal.jsonl"), journalUpTo3);
    const stale = restore(tmp.path);
    assert.equal(new TextDecoder().decode(stale.engine.peek("/a")?.value), "3");
  });

  it("property: values with arbitrary bytes round-trip through journal and snapshot", (t: TestContext) => {
    const seed = testSeed();
    t.diagnostic(`fast-check seed ${seed} (XENSIM_SEED=${seed} to replay)`);
    const valueArb = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.constantFrom(Uint8Array.of(0), Uint8Array.of(0xff), Uint8Array.of(0, 0xff, 0, 0xfe)),
      fc.string({ unit: "grapheme", maxLength: 16 }).map((s) => enc.encode(s)),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), valueArb), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 5 }),
        (writes, compactEvery) => {
          using tmp = tempDir("xs-state-");
          const live = new Live(new StateStore({ dir: tmp.path, compactEvery }));
          live.store.load();
          live.store.open(() => live.engine.snapshot(), false);
          for (const [k, v] of writes) live.write(`/bin/${k}`, v);
          const r = restore(tmp.path);
          for (const [k] of writes)
            assert.deepEqual(r.engine.peek(`/bin/${k}`)?.value, live.engine.peek(`/bin/${k}`)?.value);
          assert.deepEqual(shape(r.engine.snapshot()), shape(live.engine.snapshot()));
          live.store.close();
        },
      ),
      { seed, numRuns: 60 },
    );
  });
});
