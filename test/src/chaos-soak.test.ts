// The soak's short, fixed subset for CI: five scenarios (a lost event, torn writes, a killed
// backend, an EAGAIN storm, and a backend that acknowledges before writing, which must be caught),
// one schedule each, on one shared host scaled into 400 ms fault windows (`--short 400`). The full
// soak (≥ 1,000 schedules) is a benchmark: bench/results/chaos-soak.json.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { tempDir } from "@xensim/testkit";
import { REPO_ROOT, XENSIM_BIN } from "./harness.js";

describe("chaos soak --short: the CI subset", { timeout: 600_000 }, () => {
  const dir = tempDir("xensim-chaos-soak-");
  after(() => dir.cleanup());

  it("five scenarios on one host: nothing lost or leaked, the broken backend caught", () => {
    const only = "evtchn-lost,store-torn-write,service-killed,xenstore-eagain-storm,backend-ack-before-write";
    const r = spawnSync(
      process.execPath,
      [
        XENSIM_BIN,
        "chaos",
        "soak",
        "--short",
        "400",
        "--schedules",
        "1",
        "--only",
        only,
        "--out",
        join(dir.path, "r"),
      ],
      {
        encoding: "utf8",
        timeout: 480_000,
        cwd: REPO_ROOT,
        env: { ...process.env, XENSIM_LOG_LEVEL: "fatal" },
      },
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const s = (JSON.parse(r.stdout) as { soak: Record<string, unknown> }).soak;
    assert.equal(s.schedulesRun, 5, r.stderr);
    assert.equal(s.hostsStarted, 1, "one host served every schedule");
    assert.equal(s.errors, 0);
    assert.equal(s.acknowledgedWritesLost, 0);
    assert.equal(s.leaks, 0);
    assert.equal(s.responseViolations, 0);
    assert.equal(s.serializabilityViolations, 0);
    assert.equal(s.brokenComponentsCaught, "1/1");
    assert.deepEqual(s.unexpectedVerdicts, []);
    assert.equal(s.shortWindowMs, 400);
    for (const k of [
      "evtchn.lost",
      "store.torn-write",
      "service.killed",
      "xenstore.eagain",
      "backend.ack-before-write",
    ])
      assert.ok(
        (s.faultKindsCovered as string[]).includes(k),
        `${k} took effect: ${JSON.stringify(s.faultKindsCovered)}`,
      );
  });
});
