// The Toxiproxy-shaped API for the data-plane link, driven with a plain HTTP client sending
// Toxiproxy's JSON shapes (field names as Toxiproxy's README gives them: name, type, stream,
// toxicity, attributes.latency / jitter / timeout; a proxy's enabled), against a chaos run's
// distributed layout (host A and host B = `xensim up --services page-server,blkback`, a real
// nats-server). The latency toxic and enabled:false must reach the link (the page-servers' records
// in the run's report), an unmapped type is refused with the reason, and the guest's write ledger
// still finds every acknowledged write.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { ChaosReport } from "@xensim/chaos";
import { findNatsServer, tempDir, waitFor } from "@xensim/testkit";
import { REPO_ROOT, XENSIM_BIN } from "./harness.js";

const SCENARIO = `# a distributed host with one guest and no scheduled fault: the test sets them over /proxies
name: link-toxiproxy
seed: 3
duration: 7s
host:
  layout: distributed
guests:
  - name: g1
    disk: "vdev=xvda, access=rw, target=memory:size=4M"
    workload: "rw=randrw,bs=4k,iodepth=8,runtime=9,verify=crc32c"
`;

const skip = findNatsServer() === undefined ? "nats-server not installed" : false;

describe("Toxiproxy-shaped /proxies on the data-plane link", { timeout: 300_000, skip }, () => {
  const dir = tempDir("xensim-chaos-toxiproxy-");
  after(() => dir.cleanup());

  it("latency toxic and enabled:false reach the link; an unmapped toxic is refused; nothing is lost", async () => {
    const file = join(dir.path, "link-toxiproxy.yaml");
    writeFileSync(file, SCENARIO);
    const out = join(dir.path, "reports");
    const run = spawn(process.execPath, [XENSIM_BIN, "chaos", "run", file, "--out", out], {
      cwd: REPO_ROOT,
      env: { ...process.env, XENSIM_LOG_LEVEL: "fatal" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let text = "";
    run.stdout.on("data", (b: Buffer) => (text += b.toString()));
    run.stderr.on("data", (b: Buffer) => (text += b.toString()));
    const exited = new Promise<number | null>((r) => run.once("exit", (code) => r(code)));
    try {
      await waitFor(() => /workloads running/.test(text), { timeoutMs: 150_000, message: `run: ${text}` });
      const stateDir = /state in (\S+)/.exec(text)![1]!;
      const api = readFileSync(join(stateDir, "toolstack.url"), "utf8").trim();
      const token = readFileSync(join(stateDir, "api-token"), "utf8").trim();
      const http = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(`${api}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body !== undefined ? { "content-type": "application/json" } : {}),
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        const t = await res.text();
        return { status: res.status, json: (t ? JSON.parse(t) : undefined) as Record<string, unknown> };
      };

      // one proxy: host A and host B, both ends of the link
      const proxies = await http("GET", "/proxies");
      assert.equal(proxies.status, 200);
      const names = Object.keys(proxies.json);
      assert.equal(names.length, 1, JSON.stringify(proxies.json));
      const name = names[0]!;
      const proxy = proxies.json[name] as Record<string, unknown>;
      assert.equal(proxy.upstream, "hostB");
      assert.equal(proxy.enabled, true);
      assert.deepEqual(proxy.toxics, []);

      // latency with jitter on the downstream (host B → host A: responses and read data)
      const latency = await http("POST", `/proxies/${name}/toxics`, {
        type: "latency",
        stream: "downstream",
        toxicity: 0.2,
        attributes: { latency: 20, jitter: 10 },
      });
      assert.equal(latency.status, 200, JSON.stringify(latency.json));
      assert.deepEqual(latency.json, {
        name: "latency_downstream",
        type: "latency",
        stream: "downstream",
        toxicity: 0.2,
        attributes: { latency: 20, jitter: 10 },
      });
      assert.equal((await http("GET", `/proxies/${name}/toxics/latency_downstream`)).json.type, "latency");
      assert.equal(
        (await http("POST", `/proxies/${name}/toxics`, { type: "latency", stream: "upstream" })).status,
        200,
      );
      assert.equal(
        (await http("POST", `/proxies/${name}/toxics`, { type: "latency" })).status,
        409,
        "a second toxic of the same name (latency_downstream: the default stream)",
      );
      // a toxic type with no hook on the link says so
      const bw = await http("POST", `/proxies/${name}/toxics`, {
        type: "bandwidth",
        attributes: { rate: 100 },
      });
      assert.equal(bw.status, 400);
      assert.match(String(bw.json.error), /bandwidth is not mapped onto the data-plane link/);
      assert.equal(bw.json.status, 400);
      // they are faults of the one fault API
      const faults = (await http("GET", "/chaos/faults")).json.faults as Array<{ kind: string }>;
      assert.equal(faults.filter((f) => f.kind === "link.replication-delayed").length, 2);
      await new Promise((r) => setTimeout(r, 800));
      assert.equal((await http("DELETE", `/proxies/${name}/toxics/latency_downstream`)).status, 204);
      assert.equal((await http("DELETE", `/proxies/${name}/toxics/latency_upstream`)).status, 204);
      assert.equal((await http("GET", `/proxies/${name}/toxics/latency_downstream`)).status, 404);

      // enabled:false is a partition both ways, until enabled again
      const off = await http("POST", `/proxies/${name}`, { enabled: false });
      assert.equal(off.status, 200, JSON.stringify(off.json));
      assert.equal(off.json.enabled, false);
      await new Promise((r) => setTimeout(r, 600));
      const on = await http("POST", `/proxies/${name}`, { enabled: true });
      assert.equal(on.json.enabled, true);
      assert.equal(((await http("GET", "/chaos/faults")).json.faults as unknown[]).length, 0);
      assert.equal((await http("GET", "/proxies/nosuch")).status, 404);

      // listed in /openapi.json
      const paths = (await http("GET", "/openapi.json")).json.paths as Record<string, unknown>;
      for (const p of [
        "/proxies",
        "/proxies/{proxy}",
        "/proxies/{proxy}/toxics",
        "/proxies/{proxy}/toxics/{toxic}",
      ])
        assert.ok(p in paths, p);

      assert.equal(await exited, 0, text);
      const rep = JSON.parse(readFileSync(join(out, "seed-3", "report.json"), "utf8")) as ChaosReport;
      assert.ok((rep.hitsByKind["link.replication-delayed"] ?? 0) > 0, JSON.stringify(rep.hitsByKind));
      assert.ok((rep.hitsByKind["link.partition"] ?? 0) > 0, JSON.stringify(rep.hitsByKind));
      assert.equal(rep.verdict, "pass", JSON.stringify(rep.checks.filter((c) => !c.pass)));
    } finally {
      if (run.exitCode === null) run.kill("SIGINT");
      await exited;
    }
  });
});
