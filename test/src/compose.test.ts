// The distributed placement in docker: docker-compose.yml (nats; host-a = hypervisor + xenstored +
// page-server + guest runtime + toolstack in one host process; blkback = page-server + blkback in
// another) built from this checkout and brought up with docker-compose. Waits for every container's
// health check, checks the system end to end through the containers (fixtures/compose/scenario.ts),
// kills the blkback host process (restart policy), and tears it down. compose-testcontainers.test.ts
// does the same through testcontainers.
//
// Needs a docker daemon: .ci/docker.sh (called here; idempotent) installs Debian's docker.io and
// docker-compose when missing, starts dockerd and builds the registry-free base images. Skips, with
// the reason, only when dockerd cannot run on this machine. Prints its timings as JSON lines
// ({"compose": …}).
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  buildImage,
  COMPOSE_FILE,
  composeCommand,
  containerIp,
  downOnExit,
  ensureDocker,
  IMAGE,
  must,
  nbdRoundTrip,
  projectContainers,
  projectName,
  removeStaleProjects,
  run,
  waitHealthy,
} from "./fixtures/compose/docker.js";
import {
  checkScenario,
  createToolstackDomain,
  destroyToolstackDomain,
  type Exec,
  guestIoAgain,
  killHostProcess,
} from "./fixtures/compose/scenario.js";

const SERVICES = ["nats", "host-a", "blkback"] as const;
const composeEnv = {
  XENSIM_IMAGE: IMAGE,
  XENSIM_LOG_LEVEL: process.env.XENSIM_LOG_LEVEL ?? "warn",
  // the API and dashboard on an ephemeral loopback port of this machine (two runs never collide)
  XENSIM_API_PUBLISH: "127.0.0.1:",
};

let skip: string | false = false;
let build: { ms: number; contextMs: number } | undefined;
let dockerMs = 0;

/** Per-host "xensim-host-up" lines of deploy/host.mjs: how long each host process took to be ready. */
function hostUpMs(logs: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of logs.matchAll(/\{"event":"xensim-host-up".*\}/g)) {
    try {
      const j = JSON.parse(m[0]) as { host: string; ms: number };
      out[j.host] = j.ms;
    } catch {
      // a torn line
    }
  }
  return out;
}

describe("docker compose: the distributed placement (docker-compose)", () => {
  before(async () => {
    const t0 = performance.now();
    const why = await ensureDocker();
    dockerMs = Math.round(performance.now() - t0);
    if (why) {
      skip = why;
      return;
    }
    await removeStaleProjects();
    build = await buildImage();
  });

  it("docker-compose up: every container healthy; xenstore, health, a guest's I/O, the toolstack, a blkback restart", async (t) => {
    if (skip) return t.skip(skip);
    const compose = await composeCommand();
    const project = projectName("dc");
    const forget = downOnExit(project);
    const dc = (args: string[], timeoutMs = 180_000) =>
      run(compose[0]!, [...compose.slice(1), "-f", COMPOSE_FILE, "-p", project, ...args], {
        timeoutMs,
        env: composeEnv,
      });
    const t0 = performance.now();
    try {
      const up = await dc(["up", "-d", "--no-build"]);
      assert.equal(up.code, 0, `${compose.join(" ")} up: ${up.stdout}\n${up.stderr}`);
      const upMs = Math.round(performance.now() - t0);
      const healthyAt = await waitHealthy(project, SERVICES, t0);
      const allHealthyMs = Math.max(...Object.values(healthyAt));
      // `docker exec` by container id: docker-compose v1's own exec costs seconds of Python per call.
      const ids = new Map((await projectContainers(project)).map((c) => [c.service, c.id]));
      const exec: Exec = async (service, argv) => {
        const r = await run("docker", ["exec", ids.get(service) ?? service, ...argv], { timeoutMs: 240_000 });
        return { code: r.code, stdout: r.stdout, stderr: r.stderr };
      };
      const figures = await checkScenario(exec, `dc${process.pid}`);
      const dom = await createToolstackDomain(exec, `dc${process.pid}`);
      let nbd: { ms: number; error?: string } | undefined;
      await t.test(
        "the toolstack's guest: its NBD export carries data (nbdinfo + nbdcopy from this machine)",
        { timeout: 60_000 },
        async (st) => {
          if ((await run("nbdcopy", ["--version"])).code !== 0)
            return st.skip("nbdcopy not installed (libnbd-bin)");
          const uri = dom.nbdUri.replace("0.0.0.0", await containerIp(ids.get("host-a")!));
          nbd = await nbdRoundTrip(uri, 15_000);
          assert.equal(nbd.error, undefined, `${uri}: ${nbd.error}`);
        },
      );
      const destroyMs = await destroyToolstackDomain(exec, dom.domid);

      // restart: on-failure — the blkback container's host process dies; docker restarts it, it
      // becomes healthy again and serves a new disk of the guest.
      const t2 = performance.now();
      await killHostProcess(exec, "blkback");
      const bb = ids.get("blkback")!;
      for (;;) {
        const st = (
          await must("docker", ["inspect", "-f", "{{.RestartCount}} {{.State.Health.Status}}", bb])
        ).trim();
        const [restarts, health] = st.split(" ");
        if (Number(restarts) >= 1 && health === "healthy") break;
        assert.ok(performance.now() - t2 < 90_000, `blkback not back after a kill: ${st}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const restartToHealthyMs = Math.round(performance.now() - t2);
      const afterRestart = await guestIoAgain(exec, 100);
      const logs = (await dc(["logs", "--no-color"])).stdout;
      console.log(
        JSON.stringify({
          compose: {
            driver: compose.join(" "),
            dockerSetupMs: dockerMs,
            imageBuildMs: build?.ms,
            contextMs: build?.contextMs,
            upCommandMs: upMs,
            upToAllHealthyMs: allHealthyMs,
            healthyAtMs: healthyAt,
            hostProcessReadyMs: hostUpMs(logs),
            ...figures,
            toolstack: { ...dom, destroyMs, nbd },
            blkbackRestart: { restartToHealthyMs, guestIo: afterRestart },
          },
        }),
      );
    } catch (err) {
      const logs = await dc(["logs", "--no-color", "--tail", "60"]);
      console.log(`compose logs:\n${logs.stdout.slice(-12000)}`);
      throw err;
    } finally {
      const t1 = performance.now();
      const down = await dc(["down", "-v", "--remove-orphans", "-t", "10"]);
      assert.equal(down.code, 0, down.stderr);
      console.log(JSON.stringify({ compose: { downMs: Math.round(performance.now() - t1) } }));
      forget();
      assert.deepEqual(await projectContainers(project), [], "down left containers behind");
    }
  });
});
