import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { fetchFaultRecords, sendFaultRules, serveFaultControl } from "./control.js";
import { BusError, BusErrorCode } from "./errors.js";
import { Faults, validateFaultRules } from "./faults.js";
import { createInProcessBus } from "./inprocess-bus.js";
import { globMatches, subjectMatches } from "./subject.js";

test("subjectMatches: table", () => {
  const t: Array<[string, string, boolean]> = [
    ["a.b", "a.b", true],
    ["a.*", "a.b", true],
    ["a.*", "a.b.c", false],
    ["a.>", "a.b.c", true],
    ["a.>", "a", false],
    ["*.b", "a.b", true],
    ["*", "a", true],
    [">", "a.b", true],
    ["a.*.c", "a.x.c", true],
    ["a.*.c", "a.x.d", false],
    ["a.b", "a.b.c", false],
  ];
  for (const [p, s, want] of t) assert.equal(subjectMatches(p, s), want, `${p} ~ ${s}`);
});

const token = fc.stringMatching(/^[a-z0-9_-]{1,6}$/);
test("subjectMatches: properties (exact, *, > against generated subjects)", () => {
  fc.assert(
    fc.property(fc.array(token, { minLength: 1, maxLength: 6 }), fc.nat(), (toks, k) => {
      const s = toks.join(".");
      const i = k % toks.length;
      const star = toks.map((t, j) => (j === i ? "*" : t)).join(".");
      const tail = [...toks.slice(0, i), ">"].join(".");
      const longer = `${s}.x`;
      return (
        subjectMatches(s, s) &&
        subjectMatches(star, s) &&
        subjectMatches(tail, s) &&
        !subjectMatches(s, longer) &&
        subjectMatches(`${s}.>`, longer) &&
        !subjectMatches(`${s}.>`, s)
      );
    }),
  );
});

test("globMatches for call fault rules", () => {
  assert.ok(globMatches("*", "Echo"));
  assert.ok(globMatches("Ech*", "Echo"));
  assert.ok(globMatches("/xensim.*/Echo", "/xensim.testing.v1.Echo/Echo"));
  assert.ok(!globMatches("Fail", "Echo"));
  assert.ok(!globMatches("E.ho", "Echo"));
});

test("fault rules are validated with clear messages", () => {
  const bad = (r: unknown, re: RegExp): void =>
    assert.throws(
      () => validateFaultRules(r),
      (e: unknown) => BusError.is(e, BusErrorCode.BadFaultRules) && re.test((e as Error).message),
    );
  bad({ events: [{ subject: "a", drop: 2 }] }, /events\[0\]\.drop must be a probability/);
  bad({ events: [{ subject: "a", delayMs: [5, 1] }] }, /delayMs must be/);
  bad({ events: [{ subject: "a", reorder: { window: 1 } }] }, /window must be an integer >= 2/);
  bad({ calls: [{ method: "x", error: { code: 99 } }] }, /gRPC status/);
  bad({ calls: [{}] }, /method must be a glob/);
  bad(null, /must be an object/);
  validateFaultRules({
    seed: 1,
    events: [{ subject: "a.>", drop: 0.5, delayMs: [1, 2] }],
    calls: [{ method: "*", latencyMs: 3 }],
  });
});

test("fault decisions: same seed, same decisions (property over seeds and rules)", () => {
  fc.assert(
    fc.property(
      fc.integer(),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      (seed, drop, dup) => {
        const run = (): unknown[] => {
          const f = new Faults(seed);
          f.set({ events: [{ subject: ">", drop, duplicate: dup, delayMs: [0, 9] }] });
          for (let i = 0; i < 50; i++) f.decideEvent(`s.${i}`);
          return structuredClone(f.records as unknown[]);
        };
        assert.deepEqual(run(), run());
      },
    ),
    { numRuns: 50 },
  );
});

test("fault control over the bus: set, records, clear, and refusal of bad rules", async () => {
  const name = `ctl-${process.pid}`;
  const svcBus = createInProcessBus({ name, seed: 5 });
  const ctlBus = createInProcessBus({ name });
  const ctl = serveFaultControl(svcBus, "svc1", { bus: svcBus.faults });
  await svcBus.flush();
  await ctlBus.flush();
  const got: string[] = [];
  ctlBus.subscribe("data.>", { callback: (m) => got.push(m.subject) });
  await ctlBus.flush();

  const r = await sendFaultRules(ctlBus, "svc1", { seed: 9, events: [{ subject: "data.x", drop: 1 }] });
  assert.deepEqual(r.components, ["bus"]);
  assert.equal(svcBus.faults.seed, 9);
  svcBus.publish("data.x", new Uint8Array(1));
  svcBus.publish("data.y", new Uint8Array(1));
  await svcBus.flush();
  await new Promise((res) => setTimeout(res, 20));
  assert.deepEqual(got, ["data.y"]);
  const recs = await fetchFaultRecords(ctlBus, "svc1");
  assert.equal(recs.bus?.seed, 9);
  assert.deepEqual(
    recs.bus?.records.map((x) => [x.kind, x.target]),
    [["drop", "data.x"]],
  );
  await assert.rejects(
    sendFaultRules(ctlBus, "svc1", { events: [{ subject: "a", drop: 7 }] }),
    /drop must be a probability/,
  );
  await assert.rejects(
    sendFaultRules(ctlBus, "svc1", null, { component: "nope" }),
    /unknown fault component/,
  );
  await sendFaultRules(ctlBus, "all", null);
  assert.deepEqual(svcBus.faults.rules, {});
  ctl.stop();
  await svcBus.close();
  await ctlBus.close();
});

test("control traffic is immune to its own faults: a rule dropping '>' still answers and heals", async () => {
  const name = `ctl-all-${process.pid}`;
  const svcBus = createInProcessBus({ name, seed: 3 });
  const ctlBus = createInProcessBus({ name });
  const ctl = serveFaultControl(svcBus, "svc2", { bus: svcBus.faults });
  await svcBus.flush();
  await ctlBus.flush();
  const got: string[] = [];
  ctlBus.subscribe("data.>", { callback: (m) => got.push(m.subject) });
  await ctlBus.flush();
  // Every event of svc2 dropped, with a delay on top: its control reply must still arrive.
  const r = await sendFaultRules(
    ctlBus,
    "svc2",
    { events: [{ subject: ">", drop: 1 }] },
    { timeoutMs: 1000 },
  );
  assert.equal(r.ok, true);
  svcBus.publish("data.a", new Uint8Array(1));
  await svcBus.flush();
  const recs = await fetchFaultRecords(ctlBus, "svc2", { timeoutMs: 1000 });
  assert.equal(recs.bus?.records.length, 1, "the data event was dropped, the records reply was not");
  const healed = await sendFaultRules(ctlBus, "svc2", null, { timeoutMs: 1000 });
  assert.equal(healed.ok, true);
  svcBus.publish("data.b", new Uint8Array(1));
  await svcBus.flush();
  await new Promise((res) => setTimeout(res, 20));
  assert.deepEqual(got, ["data.b"]);
  ctl.stop();
  await svcBus.close();
  await ctlBus.close();
});
