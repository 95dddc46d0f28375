import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CheckResult } from "./checkers.js";
import { classifyFaultConsequence, WATCH_FIRST_EVENT } from "./consequence.js";
import type { FaultHit } from "./points.js";
import { reportMarkdown, verdictOf } from "./report.js";

const check = (name: CheckResult["name"], pass: boolean, evidence: unknown[] = []): CheckResult => ({
  name,
  pass,
  summary: pass ? "ok" : "failed",
  evidence,
});
const hit = (target: string, kind = "xenstore.watch-lost"): FaultHit => ({
  seq: 1,
  at: 0,
  service: "xenstored",
  kind,
  target,
});

// The soak's schedule (xenstore-watch-lost, seed 4015713610 with --short 400): blkback restarted,
// and the restarted blkback's two first events lost — its probe watch's (survived: the probe
// enumerates the directory) and its watch on the frontend's state (never survived: the backend
// stays in InitWait, the disk never moves again).
const frozen = [
  check("ledger", false),
  check("one-response", true),
  check("leaks", true),
  check("liveness", false, [{ guest: "g1", iosAtHeal: 2265 }]),
  check("serializability", true),
];
const soakHits = [
  hit(`conn 4 /local/domain/0/backend/vbd ${WATCH_FIRST_EVENT}`),
  hit(`conn 4 /local/domain/1/device/vbd/51712/state ${WATCH_FIRST_EVENT}`),
];

describe("classifyFaultConsequence", () => {
  it("a frozen disk after the first event of a watch on the other end's state was lost: the fault's consequence, not a pass", () => {
    const c = classifyFaultConsequence(frozen, soakHits);
    assert.ok(c);
    assert.equal(c.kind, "xenstore.watch-lost");
    assert.deepEqual(c.checks, ["ledger", "liveness"]);
    assert.deepEqual(
      c.evidence.map((h) => h.target),
      [`conn 4 /local/domain/1/device/vbd/51712/state ${WATCH_FIRST_EVENT}`],
    );
    assert.equal(verdictOf(frozen, c), "fault-consequence");
    const md = reportMarkdown({
      scenario: "xenstore-watch-lost",
      file: "x.yaml",
      seed: 4015713610,
      schedule: 0,
      verdict: "fault-consequence",
      consequence: c,
      startedAt: 0,
      durationMs: 1,
      checks: frozen,
      timeline: [],
      hits: soakHits,
      hitsByKind: { "xenstore.watch-lost": 2 },
      series: [],
      replay: "xensim chaos run …",
    });
    assert.match(md, /FAULT-CONSEQUENCE/);
    assert.match(md, /Expected consequence of xenstore.watch-lost \(not a pass\)/);
    assert.match(md, /51712\/state/);
  });

  it("is a failure still when the lost events were changes, or only the probe watch's first one", () => {
    assert.equal(
      classifyFaultConsequence(frozen, [hit("conn 4 /local/domain/1/device/vbd/51712/state")]),
      undefined,
    );
    assert.equal(classifyFaultConsequence(frozen, [soakHits[0]!]), undefined);
    assert.equal(classifyFaultConsequence(frozen, []), undefined);
    assert.equal(verdictOf(frozen, undefined), "fail");
  });

  it("never explains away lost data, a second response, a leak or a serializability violation", () => {
    const lostWrite = frozen.map((c) => (c.name === "ledger" ? check("ledger", false, [{ lost: 1 }]) : c));
    assert.equal(classifyFaultConsequence(lostWrite, soakHits), undefined);
    for (const other of ["one-response", "leaks", "serializability"] as const) {
      const checks = frozen.map((c) => (c.name === other ? check(other, false, [{}]) : c));
      assert.equal(classifyFaultConsequence(checks, soakHits), undefined, other);
    }
    // nothing failed: a pass
    const ok = frozen.map((c) => check(c.name, true));
    assert.equal(classifyFaultConsequence(ok, soakHits), undefined);
    assert.equal(verdictOf(ok), "pass");
  });
});
