import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { fetchFaultRecords, sendFaultRules, serveFaultControl } from "./control.js";
import { BusError, BusErrorCode } from "./errors.js";
import { Faults, validateFaultRules } from "./faults.js";
import { createInProcessBus } from "./inprocess-bus.js";
import { encodeHeaders, NatsParser, parseHeaders, type ServerOp } from "./nats/parser.js";
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

function golden(): { bytes: Buffer; ops: ServerOp[] } {
  const hdr = encodeHeaders({ "X-A": "1", "X-B": "two" });
  const bytes = Buffer.concat([
    Buffer.from('INFO {"server_id":"x","max_payload":1048576}\r\n'),
    Buffer.from("PING\r\n+OK\r\nPONG\r\n"),
    Buffer.from("MSG foo.bar 7 5\r\nhello\r\n"),
    Buffer.from("MSG foo.bar 8 _INBOX.x.1 0\r\n\r\n"),
    Buffer.from(`HMSG h.s 9 r.1 ${hdr.length} ${hdr.length + 3}\r\n`),
    hdr,
    Buffer.from("a\r\n\r\n"), // payload containing CRLF
    Buffer.from("HMSG _INBOX.y.2 3 16 16\r\nNATS/1.0 503\r\n\r\n\r\n"),
    Buffer.from("-ERR 'Unknown Protocol Operation'\r\n"),
  ]);
  const ops: ServerOp[] = [
    { op: "INFO", info: { server_id: "x", max_payload: 1048576 } },
    { op: "PING" },
    { op: "OK" },
    { op: "PONG" },
    {
      op: "MSG",
      subject: "foo.bar",
      sid: 7,
      reply: undefined,
      headers: undefined,
      status: undefined,
      data: new Uint8Array(Buffer.from("hello")),
    },
    {
      op: "MSG",
      subject: "foo.bar",
      sid: 8,
      reply: "_INBOX.x.1",
      headers: undefined,
      status: undefined,
      data: new Uint8Array(0),
    },
    {
      op: "MSG",
      subject: "h.s",
      sid: 9,
      reply: "r.1",
      headers: { "X-A": "1", "X-B": "two" },
      status: undefined,
      data: new Uint8Array(Buffer.from("a\r\n")),
    },
    {
      op: "MSG",
      subject: "_INBOX.y.2",
      sid: 3,
      reply: undefined,
      headers: undefined,
      status: "503",
      data: new Uint8Array(0),
    },
    { op: "ERR", message: "Unknown Protocol Operation" },
  ];
  return { bytes, ops };
}

test("NATS parser: golden bytes fed whole, byte by byte, and split at every offset", () => {
  const { bytes, ops } = golden();
  assert.deepEqual(new NatsParser().feed(bytes), ops);
  const p1 = new NatsParser();
  const byByte: ServerOp[] = [];
  for (const b of bytes) byByte.push(...p1.feed(Uint8Array.of(b)));
  assert.deepEqual(byByte, ops);
  for (let i = 0; i <= bytes.length; i++) {
    const p = new NatsParser();
    assert.deepEqual([...p.feed(bytes.subarray(0, i)), ...p.feed(bytes.subarray(i))], ops, `split at ${i}`);
  }
});

test("NATS headers round trip", () => {
  fc.assert(
    fc.property(
      fc.dictionary(
        fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,10}$/),
        fc.stringMatching(/^[ -~]{0,20}$/).map((s) => s.trim()),
      ),
      (h) => {
        const back = parseHeaders(encodeHeaders(h).toString()).headers ?? {};
        return JSON.stringify(back) === JSON.stringify(h);
      },
    ),
  );
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
