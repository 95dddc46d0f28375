// Compose chaos end to end: the docker-compose deployment built from this checkout, brought up with
// deploy/chaos.compose.yml (the toolstack gets Docker's API), then `xensim chaos run
// examples/chaos/compose-xenstored-paused.yaml --project P`: a guest created through the published
// API, xenstored's container frozen for 2 s and thawed through the one fault API
// (container.paused, dockerode inside the toolstack), and the checkers' verdict over the
// deployment (ledger, one response, leak audit through POST /chaos/leaks, liveness,
// serializability through POST /chaos/observe). Also the container kinds' bad input: an unknown
// compose service (404, naming the project's services) and the toolstack's own container (409).
//
// Needs a docker daemon: .ci/docker.sh (idempotent) starts it; skips with the reason only when
// dockerd cannot run here, as compose.test.ts does.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { REPO_ROOT as ROOT, XENSIM_BIN } from "./harness.js";
import {
  buildImage,
  COMPOSE_FILE,
  composeCommand,
  downOnExit,
  ensureDocker,
  IMAGE,
  nbdPortEnv,
  projectContainers,
  projectName,
  removeStaleProjects,
  run,
  waitHealthy,
} from "./fixtures/compose/docker.js";

const SERVICES = ["nats", "host-a", "xenstored", "toolstack", "blkback", "displback", "device-model"];
const CHAOS_OVERRIDE = join(ROOT, "deploy", "chaos.compose.yml");

let skip: string | false = false;

describe("compose chaos: a scenario against the docker-compose deployment", () => {
  before(async () => {
    const why = await ensureDocker();
    if (why) {
      skip = why;
      return;
    }
    await removeStaleProjects();
    await buildImage();
  });

  it(
    "container.paused on xenstored through the toolstack's Docker API: the run's verdict is pass",
    { timeout: 900_000 },
    async (t) => {
      if (skip) return t.skip(skip);
      const compose = await composeCommand();
      const project = projectName("dc");
      const forget = downOnExit(project);
      const env: Record<string, string> = {
        XENSIM_IMAGE: IMAGE,
        XENSIM_LOG_LEVEL: process.env.XENSIM_LOG_LEVEL ?? "warn",
        XENSIM_API_PUBLISH: "127.0.0.1:",
        ...(await nbdPortEnv()),
      };
      const dc = (args: string[], timeoutMs = 180_000) =>
        run(
          compose[0]!,
          [...compose.slice(1), "-f", COMPOSE_FILE, "-f", CHAOS_OVERRIDE, "-p", project, ...args],
          { timeoutMs, env },
        );
      const out = await mkdtemp(join(tmpdir(), "xensim-chaos-compose-"));
      try {
        const up = await dc(["up", "-d", "--no-build"], 300_000);
        assert.equal(up.code, 0, `up: ${up.stdout}\n${up.stderr}`);
        await waitHealthy(project, SERVICES, performance.now(), 300_000);

        const r = await run(
          process.execPath,
          [
            XENSIM_BIN,
            "chaos",
            "run",
            "examples/chaos/compose-xenstored-paused.yaml",
            "--project",
            project,
            "--out",
            out,
            "--json",
          ],
          { timeoutMs: 420_000, cwd: ROOT },
        );
        assert.equal(r.code, 0, `chaos run: ${r.stdout}\n${r.stderr}`);
        const reports = JSON.parse(r.stdout.slice(0, r.stdout.lastIndexOf("]") + 1)) as Array<{
          verdict: string;
          checks: Array<{ name: string; pass: boolean; summary: string }>;
          hitsByKind: Record<string, number>;
        }>;
        assert.equal(reports.length, 1);
        const report = reports[0]!;
        assert.equal(report.verdict, "pass", JSON.stringify(report.checks));
        // every check ran, the leak audit with the hypervisor's tables among them
        assert.deepEqual(report.checks.map((c) => c.name).sort(), [
          "leaks",
          "ledger",
          "liveness",
          "one-response",
          "serializability",
        ]);
        const leaks = report.checks.find((c) => c.name === "leaks")!;
        assert.match(leaks.summary, /grant mappings|event channels/);
        // the fault took effect: Docker paused and unpaused the container (the toolstack's records)
        assert.equal(report.hitsByKind["container.paused"], 2, JSON.stringify(report.hitsByKind));

        // bad input through the same API: an unknown compose service, the toolstack's own container
        const port = (await dc(["port", "toolstack", "9080"])).stdout.trim().split(":").pop();
        const ids = new Map((await projectContainers(project)).map((c) => [c.service, c.id]));
        const token = (
          await run("docker", [
            "exec",
            ids.get("toolstack")!,
            "node",
            "-e",
            "process.stdout.write(require('fs').readFileSync('/keys/api-token','utf8'))",
          ])
        ).stdout.trim();
        const post = async (body: unknown) => {
          const res = await fetch(`http://127.0.0.1:${port}/chaos/faults`, {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            body: JSON.stringify(body),
          });
          return { status: res.status, json: (await res.json()) as { error?: string } };
        };
        const unknown = await post({ kind: "container.killed", service: "nope" });
        assert.equal(unknown.status, 404, JSON.stringify(unknown.json));
        assert.match(unknown.json.error ?? "", /blkback.*xenstored|xenstored.*blkback/);
        const self = await post({ kind: "container.paused", service: "toolstack" });
        assert.equal(self.status, 409, JSON.stringify(self.json));
        const kinds = (await (
          await fetch(`http://127.0.0.1:${port}/openapi.json`, {
            headers: { authorization: `Bearer ${token}` },
          })
        ).json()) as { paths: Record<string, { post?: { requestBody?: unknown } }> };
        const text = JSON.stringify(kinds.paths["/chaos/faults"]);
        for (const k of [
          "container.killed",
          "container.paused",
          "container.restarted",
          "container.network-disconnected",
        ])
          assert.ok(text.includes(k), `/openapi.json lists ${k}`);
      } catch (err) {
        const logs = await dc(["logs", "--no-color", "--tail", "40"]);
        console.log(`compose logs:\n${logs.stdout.slice(-10000)}`);
        throw err;
      } finally {
        await rm(out, { recursive: true, force: true });
        const down = await dc(["down", "-v", "--remove-orphans", "-t", "10"]);
        assert.equal(down.code, 0, down.stderr);
        forget();
      }
    },
  );
});
