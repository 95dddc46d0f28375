// Chaos on the data-plane link: scenarios with `layout: distributed` (host A here with the guest,
// host B = `xensim up --services page-server,blkback` in a process of its own, over a real
// nats-server), each link fault kind set through the toolstack's fault API onto the page-servers'
// frame hooks. Each must take effect (the page-servers' records, with wall-clock times, in the
// report's hits) and the link must recover: every acknowledged write reads back, one response per
// request, nothing leaked, I/O resumes after the heal.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { ChaosReport } from "@xensim/chaos";
import { findNatsServer, tempDir } from "@xensim/testkit";
import { REPO_ROOT, XENSIM_BIN } from "./harness.js";

const skip = findNatsServer() === undefined ? "nats-server not installed" : false;

describe("chaos run on the data-plane link (layout: distributed)", { timeout: 900_000, skip }, () => {
  const dir = tempDir("xensim-chaos-link-");
  after(() => dir.cleanup());

  for (const kind of [
    "link.replication-dropped",
    "link.replication-duplicated",
    "link.replication-delayed",
    "link.partition",
  ]) {
    it(`${kind}: takes effect between the host processes, and the link recovers (every check passes)`, () => {
      const name = kind.replace(".", "-");
      const out = join(dir.path, name);
      const r = spawnSync(
        process.execPath,
        [XENSIM_BIN, "chaos", "run", `examples/chaos/${name}.yaml`, "--out", out],
        {
          encoding: "utf8",
          timeout: 240_000,
          cwd: REPO_ROOT,
          env: { ...process.env, XENSIM_LOG_LEVEL: "fatal" },
        },
      );
      assert.equal(r.status, 0, r.stdout + r.stderr);
      const rep = JSON.parse(readFileSync(join(out, "seed-1", "report.json"), "utf8")) as ChaosReport;
      assert.ok((rep.hitsByKind[kind] ?? 0) > 0, JSON.stringify(rep.hitsByKind));
      // the frames were the page-servers' (host A's and/or host B's)
      assert.ok(
        rep.hits.some((h) => h.kind === kind && /^page-server@/.test(h.service)),
        JSON.stringify(rep.hits.slice(0, 3)),
      );
      assert.equal(rep.verdict, "pass", JSON.stringify(rep.checks.filter((c) => !c.pass)));
      const ledger = rep.checks.find((c) => c.name === "ledger")!;
      assert.match(ledger.summary, /^0 acknowledged writes lost of [1-9]/);
    });
  }
});
