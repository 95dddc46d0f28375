// "Between steps" end to end: examples/chaos/between-steps.yaml restarts blkback when the guest's
// workload ends its step "fill" and fails 5% of the I/Os from the end of "churn" to the job's end.
// Each fault is set after the guest reported the step's end, in step order, and took effect; every
// check passes (the restart loses no acknowledged write).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { ChaosReport } from "@xensim/chaos";
import { tempDir } from "@xensim/testkit";
import { REPO_ROOT, XENSIM_BIN } from "./harness.js";

describe("chaos run: faults placed between a workload's steps", { timeout: 300_000 }, () => {
  const dir = tempDir("xensim-chaos-steps-");
  after(() => dir.cleanup());

  it("each fault is set when its step ends, in step order, and takes effect", () => {
    const out = join(dir.path, "steps");
    const r = spawnSync(
      process.execPath,
      [XENSIM_BIN, "chaos", "run", "examples/chaos/between-steps.yaml", "--out", out],
      {
        encoding: "utf8",
        timeout: 240_000,
        cwd: REPO_ROOT,
        env: { ...process.env, XENSIM_LOG_LEVEL: "fatal" },
      },
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    // the run says which step ended before each set
    const fill = r.stderr.indexOf("g1 ended step fill");
    // sent when the step ended (a restart's answer comes when blkback is up again)
    const setRestart = r.stderr.indexOf("between fill and churn: sending set service.restarted");
    const churn = r.stderr.indexOf("g1 ended step churn");
    const setIoError = r.stderr.indexOf("between churn and settle: sending set store.io-error");
    const settle = r.stderr.indexOf("g1 ended step settle");
    const healIoError = r.stderr.indexOf("between churn and settle: sending heal store.io-error");
    assert.ok(
      fill >= 0 &&
        fill < setRestart &&
        setRestart < setIoError &&
        churn < setIoError &&
        setIoError < settle &&
        settle < healIoError,
      r.stderr,
    );
    const rep = JSON.parse(readFileSync(join(out, "seed-1", "report.json"), "utf8")) as ChaosReport;
    assert.deepEqual(
      rep.timeline.map((a) => [a.action, a.kind, a.ok]),
      [
        ["set", "service.restarted", true],
        ["set", "store.io-error", true],
        ["heal", "store.io-error", true],
      ],
    );
    assert.ok((rep.hitsByKind["store.io-error"] ?? 0) > 0, JSON.stringify(rep.hitsByKind));
    assert.equal(rep.verdict, "pass", JSON.stringify(rep.checks.filter((c) => !c.pass)));
  });
});
