// The event-bus contract: one suite, run against every adapter (in-process, NATS).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BusError, BusErrorCode } from "../errors.js";
import type { BusMsg, EventBus, Subscription } from "../events.js";

export interface BusPair {
  /** Two buses that see each other (two connections, or two in-process buses of one name). */
  a: EventBus;
  b: EventBus;
  close(): Promise<void>;
}
export type BusPairFactory = (opts: { seed?: number }) => Promise<BusPair>;

const enc = new TextEncoder();
const dec = new TextDecoder();
export const text = (m: BusMsg): string => dec.decode(m.data);

export function collect(sub: Subscription, n: number, timeoutMs = 3000): Promise<BusMsg[]> {
  return new Promise((resolve, reject) => {
    const out: BusMsg[] = [];
    const timer = setTimeout(
      () => reject(new Error(`got ${out.length} of ${n} messages on ${sub.subject}`)),
      timeoutMs,
    );
    (async () => {
      if (n === 0) return;
      for await (const m of sub) {
        out.push(m);
        if (out.length >= n) break;
      }
    })().then(
      () => {
        clearTimeout(timer);
        resolve(out);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** Gathers whatever arrives on a callback subscription. */
export function gather(
  bus: EventBus,
  subject: string,
  queue?: string,
): { msgs: BusMsg[]; sub: Subscription } {
  const msgs: BusMsg[] = [];
  const sub = bus.subscribe(subject, { callback: (m) => msgs.push(m), ...(queue ? { queue } : {}) });
  return { msgs, sub };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until fn() is true (polling), failing after timeoutMs. */
export async function until(fn: () => boolean, timeoutMs = 3000, what = "condition"): Promise<void> {
  const t0 = Date.now();
  while (!fn()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export function eventBusContract(adapter: string, factory: BusPairFactory): void {
  const withPair = async (fn: (p: BusPair) => Promise<void>, seed?: number): Promise<void> => {
    const p = await factory(seed !== undefined ? { seed } : {});
    try {
      await fn(p);
    } finally {
      await p.close();
    }
  };

  describe(`event bus contract: ${adapter}`, () => {
    test("publish reaches a subscriber on the other bus, with headers; data is copied", () =>
      withPair(async ({ a, b }) => {
        const sub = b.subscribe("xs.hello");
        await b.flush();
        const got = collect(sub, 1);
        const data = enc.encode("hi there");
        a.publish("xs.hello", data, { headers: { "X-Dom": "7" } });
        data[0] = 0; // the publisher's buffer is its own after publish
        const [m] = await got;
        assert.equal(m?.subject, "xs.hello");
        assert.equal(text(m as BusMsg), "hi there");
        assert.equal(m?.headers?.["X-Dom"], "7");
      }));

    test("a bus's own subscribers get its own messages", () =>
      withPair(async ({ a }) => {
        const sub = a.subscribe("self.echo");
        await a.flush();
        const got = collect(sub, 1);
        a.publish("self.echo", enc.encode("me"));
        assert.equal(text((await got)[0] as BusMsg), "me");
      }));

    test("wildcards: * matches one token, > one or more", () =>
      withPair(async ({ a, b }) => {
        const star = gather(b, "dom.*.state");
        const tail = gather(b, "dom.>");
        const exact = gather(b, "dom.1.state");
        await b.flush();
        for (const s of ["dom.1.state", "dom.2.state", "dom.1.state.x", "dom", "dom.3", "other.1.state"]) {
          a.publish(s, enc.encode(s));
        }
        a.publish("end", new Uint8Array(0));
        await a.flush();
        await until(() => tail.msgs.length >= 4, 3000, "tail messages");
        await sleep(30);
        assert.deepEqual(star.msgs.map(text), ["dom.1.state", "dom.2.state"]);
        assert.deepEqual(tail.msgs.map(text), ["dom.1.state", "dom.2.state", "dom.1.state.x", "dom.3"]);
        assert.deepEqual(exact.msgs.map(text), ["dom.1.state"]);
      }));

    test("queue group: each message to exactly one member; plain subscribers get all", () =>
      withPair(async ({ a, b }) => {
        const q1 = gather(b, "work.item", "workers");
        const q2 = gather(b, "work.item", "workers");
        const q3 = gather(a, "work.item", "workers");
        const other = gather(a, "work.item", "auditors");
        const plain = gather(b, "work.*");
        await b.flush();
        await a.flush();
        const n = 60;
        for (let i = 0; i < n; i++) a.publish("work.item", enc.encode(String(i)));
        await a.flush();
        await until(() => plain.msgs.length === n && q1.msgs.length + q2.msgs.length + q3.msgs.length === n);
        await until(() => other.msgs.length === n);
        await sleep(30);
        const all = [...q1.msgs, ...q2.msgs, ...q3.msgs].map(text).sort((x, y) => Number(x) - Number(y));
        assert.deepEqual(
          all,
          Array.from({ length: n }, (_, i) => String(i)),
        );
        assert.equal(other.msgs.length, n);
        assert.ok([q1, q2, q3].filter((q) => q.msgs.length > 0).length >= 2, "load is spread over members");
      }));

    test("per-publisher FIFO order", () =>
      withPair(async ({ a, b }) => {
        const sub = b.subscribe("seq.>");
        await b.flush();
        const n = 1000;
        const got = collect(sub, n);
        for (let i = 0; i < n; i++) a.publish(`seq.${i % 3}`, enc.encode(String(i)));
        const msgs = await got;
        assert.deepEqual(
          msgs.map(text),
          Array.from({ length: n }, (_, i) => String(i)),
        );
      }));

    test("request/reply, including headers; replies go only to the requester", () =>
      withPair(async ({ a, b }) => {
        b.subscribe("svc.upper", {
          callback: (m) => {
            if (m.reply) b.publish(m.reply, enc.encode(text(m).toUpperCase()), { headers: { "X-Who": "b" } });
          },
        });
        await b.flush();
        const stray = gather(a, "_INBOX.>");
        const replies = await Promise.all(
          ["abc", "def", "xyz"].map((s) => a.request("svc.upper", enc.encode(s), { timeoutMs: 3000 })),
        );
        assert.deepEqual(replies.map(text), ["ABC", "DEF", "XYZ"]);
        assert.equal(replies[0]?.headers?.["X-Who"], "b");
        assert.equal(stray.msgs.length, 3); // a's own inbox wildcard sees them, as in NATS
      }));

    test("request with a silent responder times out; with nobody listening fails NO_RESPONDERS", () =>
      withPair(async ({ a, b }) => {
        b.subscribe("svc.silent", { callback: () => {} });
        await b.flush();
        const t0 = Date.now();
        await assert.rejects(a.request("svc.silent", new Uint8Array(0), { timeoutMs: 100 }), (e: unknown) =>
          BusError.is(e, BusErrorCode.Timeout),
        );
        assert.ok(Date.now() - t0 >= 90);
        await assert.rejects(a.request("svc.nobody", new Uint8Array(0), { timeoutMs: 2000 }), (e: unknown) =>
          BusError.is(e, BusErrorCode.NoResponders),
        );
      }));

    test("publish to no subscriber is fine", () =>
      withPair(async ({ a }) => {
        a.publish("nobody.home", enc.encode("x"));
        await a.flush();
      }));

    test("unsubscribe: iterator ends, nothing more is delivered", () =>
      withPair(async ({ a, b }) => {
        const sub = b.subscribe("u.x");
        const cb = gather(b, "u.x");
        await b.flush();
        a.publish("u.x", enc.encode("1"));
        const it = sub[Symbol.asyncIterator]();
        assert.equal(text((await it.next()).value as BusMsg), "1");
        await until(() => cb.msgs.length === 1);
        sub.unsubscribe();
        cb.sub.unsubscribe();
        assert.equal((await it.next()).done, true);
        await b.flush();
        a.publish("u.x", enc.encode("2"));
        await a.flush();
        await sleep(50);
        assert.equal(cb.msgs.length, 1);
        assert.equal(sub.closed, true);
      }));

    test("close ends iterators, fails pending requests and later calls with CLOSED", () =>
      withPair(async ({ a, b }) => {
        const sub = b.subscribe("c.x");
        b.subscribe("c.slow", { callback: () => {} });
        await b.flush();
        const done = (async () => {
          let n = 0;
          for await (const _ of sub) n++;
          return n;
        })();
        const pending = assert.rejects(
          b.request("c.slow", new Uint8Array(0), { timeoutMs: 5000 }),
          (e: unknown) => BusError.is(e, BusErrorCode.Closed),
        );
        await b.close();
        assert.equal(await done, 0);
        await pending;
        assert.throws(
          () => b.publish("c.x", new Uint8Array(0)),
          (e: unknown) => BusError.is(e, BusErrorCode.Closed),
        );
        assert.equal(b.closed, true);
        // the other bus goes on
        a.publish("c.x", enc.encode("still fine"));
        await a.flush();
      }));

    test("invalid subjects are refused with BAD_SUBJECT", () =>
      withPair(async ({ a }) => {
        const bad = (f: () => unknown): void =>
          assert.throws(f, (e: unknown) => BusError.is(e, BusErrorCode.BadSubject));
        bad(() => a.publish("a.*", new Uint8Array(0)));
        bad(() => a.publish("a..b", new Uint8Array(0)));
        bad(() => a.publish("", new Uint8Array(0)));
        bad(() => a.subscribe("a.>.b"));
        bad(() => a.subscribe("a b"));
      }));

    // ---- fault hooks ----

    test("faults: drop everything on a subject, and record it", () =>
      withPair(async ({ a, b }) => {
        const got = gather(b, "f.>");
        await b.flush();
        a.faults.set({ events: [{ subject: "f.drop", drop: 1 }] });
        for (let i = 0; i < 5; i++) a.publish("f.drop", enc.encode(String(i)));
        a.publish("f.keep", enc.encode("k"));
        await a.flush();
        await until(() => got.msgs.length >= 1);
        await sleep(30);
        assert.deepEqual(
          got.msgs.map((m) => m.subject),
          ["f.keep"],
        );
        assert.equal(a.faults.records.filter((r) => r.kind === "drop").length, 5);
        a.faults.clear();
        a.publish("f.drop", enc.encode("after clear"));
        await until(() => got.msgs.length === 2);
      }));

    test("faults: duplicate delivers twice", () =>
      withPair(async ({ a, b }) => {
        const got = gather(b, "f.dup");
        await b.flush();
        a.faults.set({ events: [{ subject: "f.*", duplicate: 1 }] });
        for (let i = 0; i < 3; i++) a.publish("f.dup", enc.encode(String(i)));
        await a.flush();
        await until(() => got.msgs.length === 6);
        assert.deepEqual(got.msgs.map(text), ["0", "0", "1", "1", "2", "2"]);
        assert.equal(a.faults.records.length, 3);
      }));

    test("faults: delay holds messages back", () =>
      withPair(async ({ a, b }) => {
        const got = gather(b, "f.slow");
        await b.flush();
        a.faults.set({ events: [{ subject: "f.slow", delayMs: [60, 80] }] });
        const t0 = Date.now();
        a.publish("f.slow", enc.encode("late"));
        await sleep(20);
        assert.equal(got.msgs.length, 0);
        await a.flush(); // waits for delayed messages
        await until(() => got.msgs.length === 1);
        assert.ok(Date.now() - t0 >= 55);
        const r = a.faults.records[0];
        assert.equal(r?.kind, "delay");
        assert.ok((r?.delayMs ?? 0) >= 60 && (r?.delayMs ?? 0) <= 80);
      }));

    test("faults: reorder shuffles within a window; same seed, same record", async () => {
      const run = async (seed: number): Promise<{ order: string[]; records: unknown }> => {
        let order: string[] = [];
        let records: unknown;
        await withPair(async ({ a, b }) => {
          const got = gather(b, "f.ro");
          await b.flush();
          a.faults.set({ events: [{ subject: "f.ro", reorder: { window: 8, maxHoldMs: 5000 } }] });
          for (let i = 0; i < 16; i++) a.publish("f.ro", enc.encode(String(i)));
          await a.flush();
          await until(() => got.msgs.length === 16);
          order = got.msgs.map(text);
          records = structuredClone(a.faults.records);
        }, seed);
        return { order, records };
      };
      const r1 = await run(1234);
      const r2 = await run(1234);
      const r3 = await run(99);
      assert.deepEqual(r1.order, r2.order);
      assert.deepEqual(r1.records, r2.records);
      assert.notDeepEqual(r1.order, r3.order);
      assert.notDeepEqual(
        r1.order,
        Array.from({ length: 16 }, (_, i) => String(i)),
      );
      // window of 8: the first 8 come out before the second 8
      assert.deepEqual(
        r1.order
          .slice(0, 8)
          .map(Number)
          .sort((x, y) => x - y),
        [0, 1, 2, 3, 4, 5, 6, 7],
      );
    });

    test("faults: same seed and traffic give the same drop/dup/delay record", async () => {
      const run = async (seed: number): Promise<unknown> => {
        let records: unknown;
        await withPair(async ({ a, b }) => {
          const got = gather(b, "r.>");
          await b.flush();
          a.faults.set({
            events: [{ subject: "r.>", drop: 0.3, duplicate: 0.3, delayMs: [0, 3] }],
          });
          for (let i = 0; i < 100; i++) a.publish(`r.${i % 4}`, enc.encode(String(i)));
          await a.flush();
          await sleep(20);
          records = structuredClone(a.faults.records);
          assert.ok(got.msgs.length > 0);
        }, seed);
        return records;
      };
      const x = await run(7);
      const y = await run(7);
      const z = await run(8);
      assert.deepEqual(x, y);
      assert.notDeepEqual(x, z);
    });
  });
}
