// Chaos run end to end, part two (part one: chaos.test.ts; split so each file stays within the
// runner's per-file time): a blkback killed mid-I/O leaves no leak (its mappings and ports are
// released by the host), the fault kinds on the shared ring, at the backend and in xenstored take
// effect and the peers cope, and Ctrl-C heals every fault a run set.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { ChaosReport } from "@xensim/chaos";
import { tempDir, waitFor } from "@xensim/testkit";
import { REPO_ROOT, XENSIM_BIN } from "./harness.js";

function xensim(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [XENSIM_BIN, ...args], {
    encoding: "utf8",
    timeout: 240_000,
    cwd: REPO_ROOT,
    env: { ...process.env, XENSIM_LOG_LEVEL: "fatal", ...env },
  });
}

function report(dir: string, seed: number): ChaosReport {
  return JSON.parse(readFileSync(join(dir, `seed-${seed}`, "report.json"), "utf8")) as ChaosReport;
}

describe("chaos run: kinds that took effect, a killed backend, Ctrl-C", { timeout: 900_000 }, () => {
  const dir = tempDir("xensim-chaos-kinds-");
  after(() => dir.cleanup());

  it("blkback killed mid-I/O: its grant mappings are released, so the destroyed guest leaves the domain table", () => {
    const out = join(dir.path, "killed");
    const r = xensim(["chaos", "run", "examples/chaos/service-killed.yaml", "--out", out]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const rep = report(out, 1);
    assert.ok(
      rep.timeline.some((x) => x.kind === "service.killed" && x.ok),
      JSON.stringify(rep.timeline),
    );
    const leaks = rep.checks.find((c) => c.name === "leaks")!;
    assert.equal(leaks.pass, true, JSON.stringify(leaks.evidence));
    assert.equal(rep.checks.find((c) => c.name === "ledger")!.pass, true);
  });

  for (const kind of [
    "ring.request-corrupted",
    "ring.response-corrupted",
    "backend.requests-reordered",
    "xenstore.request-delayed",
  ]) {
    it(`${kind}: takes effect, and the peer copes (every check passes)`, () => {
      const name = kind.replace(".", "-");
      const out = join(dir.path, name);
      const r = xensim(["chaos", "run", `examples/chaos/${name}.yaml`, "--out", out]);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      const rep = report(out, 1);
      assert.ok((rep.hitsByKind[kind] ?? 0) > 0, JSON.stringify(rep.hitsByKind));
      assert.equal(rep.verdict, "pass");
      assert.deepEqual(
        rep.checks.map((c) => c.name),
        ["ledger", "one-response", "leaks", "liveness", "serializability"],
      );
    });
  }

  it("Ctrl-C during chaos run heals every fault it set (chaos list: one active before, none after)", async () => {
    const scenario = join(dir.path, "sigint.yaml");
    writeFileSync(
      scenario,
      [
        "name: sigint",
        "seed: 3",
        "duration: 120s",
        "guests:",
        "  - name: g1",
        '    disk: "vdev=xvda, access=rw, target=memory:size=4M"',
        '    workload: "rw=randrw,bs=4k,iodepth=4,runtime=120,verify=crc32c"',
        "faults:",
        "  - kind: store.latency",
        "    at: 0s",
        "    for: 100s",
        "    delayMs: 1",
        "",
      ].join("\n"),
    );
    const child = spawn(
      process.execPath,
      [XENSIM_BIN, "chaos", "run", scenario, "--out", join(dir.path, "sigint")],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, XENSIM_LOG_LEVEL: "fatal" },
      },
    );
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    try {
      await waitFor(() => /set store\.latency/.test(stderr), {
        timeoutMs: 120_000,
        message: `fault set: ${stderr}`,
      });
      const stateDir = /state in (\S+)/.exec(stderr)![1]!;
      const list = xensim(["chaos", "--state-dir", stateDir, "list"]);
      assert.equal(list.status, 0, list.stderr);
      assert.match(list.stdout, /store\.latency/);
      child.kill("SIGINT");
      assert.equal(await exited, 130, stderr);
      assert.match(stderr, /interrupted: healing every fault this run set/);
      assert.match(stderr, /interrupted: chaos list after healing: 0 active fault\(s\)/);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
