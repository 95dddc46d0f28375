import assert from "node:assert/strict";
import { test } from "node:test";
import { createLogger, deviceLogger } from "./log.js";

function sink(): { lines: Record<string, unknown>[]; stream: { write(s: string): void } } {
  const lines: Record<string, unknown>[] = [];
  return { lines, stream: { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) } };
}

test("createLogger binds svc, host and domid; device children add devid", () => {
  const s = sink();
  const log = createLogger({ svc: "blkback", host: "h1", domid: 0, level: "debug", destination: s.stream });
  log.info("hello");
  const dev = deviceLogger(log, 51712, 3);
  dev.debug({ ring: 1 }, "connected");
  assert.equal(s.lines.length, 2);
  assert.deepEqual(
    [s.lines[0]?.svc, s.lines[0]?.host, s.lines[0]?.domid, s.lines[0]?.msg],
    ["blkback", "h1", 0, "hello"],
  );
  assert.deepEqual(
    [s.lines[1]?.svc, s.lines[1]?.host, s.lines[1]?.domid, s.lines[1]?.devid, s.lines[1]?.ring],
    ["blkback", "h1", 3, 51712, 1],
  );
  assert.equal(typeof s.lines[0]?.time, "string");
});

test("createLogger respects the level and omits domid when not given", () => {
  const s = sink();
  const log = createLogger({ svc: "x", host: "h", level: "warn", destination: s.stream });
  log.info("hidden");
  log.warn("shown");
  assert.equal(s.lines.length, 1);
  assert.equal("domid" in (s.lines[0] as object), false);
});
