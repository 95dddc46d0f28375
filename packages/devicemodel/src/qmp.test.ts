// QMP's session rules (negotiation first, ids echoed, errors by class) against a fake backend (a
// pure core's unit test), and the stream splitter on values cut anywhere, strings with braces and
// garbage between values.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { type QmpBackend, QmpSession, QmpStream, qmpEvent } from "./qmp.js";

function backend() {
  const calls: string[] = [];
  let running = true;
  const b: QmpBackend = {
    running: () => running,
    stop: async () => {
      calls.push("stop");
      running = false;
    },
    cont: async () => {
      calls.push("cont");
      running = true;
    },
    systemReset: async () => void calls.push("reset"),
    chardevs: () => [{ label: "serial0", filename: "x", frontendOpen: true }],
    pciDevices: () => [{ bus: 0, slot: 2, function: 0, vendor: 0x1234, device: 0x1111, classCode: 0x030000 }],
  };
  return { b, calls };
}

test("negotiation first; stop/cont change the status once and emit STOP/RESUME once; ids echoed", async () => {
  const { b, calls } = backend();
  const events: string[] = [];
  const s = new QmpSession(b, (e) => events.push(e));
  assert.deepEqual(await s.handle({ execute: "stop", id: 1 }), {
    error: { class: "CommandNotFound", desc: "Expecting capabilities negotiation with 'qmp_capabilities'" },
    id: 1,
  });
  assert.deepEqual(await s.handle({ execute: "qmp_capabilities" }), { return: {} });
  assert.equal(
    ((await s.handle({ execute: "qmp_capabilities" })) as { error: { class: string } }).error.class,
    "CommandNotFound",
  );
  await s.handle({ execute: "stop" });
  await s.handle({ execute: "stop" });
  assert.deepEqual(await s.handle({ execute: "query-status", id: "x" }), {
    return: { status: "paused", singlestep: false, running: false },
    id: "x",
  });
  await s.handle({ execute: "cont" });
  await s.handle({ execute: "system_reset" });
  assert.deepEqual(calls, ["stop", "cont", "reset"]);
  assert.deepEqual(events, ["STOP", "RESUME", "RESET"]);
  for (const bad of [[], 3, { execute: 3 }, { execute: "stop", x: 1 }, { execute: "stop", arguments: [] }])
    assert.equal(((await s.handle(bad)) as { error: { class: string } }).error.class, "GenericError");
});

test("event timestamps split milliseconds into seconds and microseconds", () => {
  assert.deepEqual(qmpEvent("STOP", 1_700_000_000_123).timestamp, {
    seconds: 1_700_000_000,
    microseconds: 123_000,
  });
});

test("the stream yields each value once however the bytes are cut", () => {
  const values = [
    { execute: "qmp_capabilities" },
    { execute: "x", arguments: { s: 'a}{"]\\\\' } },
    [1, { a: [] }],
  ];
  const text = values.map((v) => JSON.stringify(v)).join("\r\n  ");
  fc.assert(
    fc.property(fc.array(fc.nat(text.length), { maxLength: 8 }), (cuts) => {
      const at = [...new Set(cuts)].sort((a, b) => a - b);
      const st = new QmpStream();
      const got: unknown[] = [];
      let prev = 0;
      for (const c of [...at, text.length]) {
        for (const item of st.push(text.slice(prev, c))) {
          assert.ok("value" in item, JSON.stringify(item));
          got.push(item.value);
        }
        prev = c;
      }
      assert.deepEqual(got, values);
    }),
  );
});

test("garbage between values is an error each, and the next value still parses", () => {
  const st = new QmpStream();
  const out = st.push('x {"a": tru} {"execute":"stop"}');
  assert.equal(out.length, 3);
  assert.ok("error" in out[0]! && "error" in out[1]!);
  assert.deepEqual(out[2], { value: { execute: "stop" } });
});
