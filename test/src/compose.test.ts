// The distributed placement in docker: docker-compose.yml (nats, host-a = hypervisor + xenstored +
// page-server in one host process, blkback = page-server + blkback in another) built from this
// checkout and brought up with docker-compose, then once more through testcontainers'
// DockerComposeEnvironment. Each run waits for every container's health check, then checks the
// system end to end through the containers (fixtures/compose/scenario.ts) and tears it down.
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
  ensureDocker,
  IMAGE,
  must,
  nbdRoundTrip,
  projectContainers,
  REPO_ROOT,
  run,
  waitHealthy,
} from "./fixtures/compose/docker.js";
import {
  checkScenario,
  createToolstackDomain,
  destroyToolstackDomain,
  type Exec,
} from "./fixtures/compose/scenario.js";

const SERVICES = ["nats", "host-a", "blkback"] as const;
/** Why the guest runtime's NBD data check is a todo: its guests' I/O cannot reach another host yet. */
const GUEST_REMOTE_TODO =
  "svc-guest has no path to a blkback in another host process (its XenCtrl lacks bus/isRemote/publishVia): disks connect, I/O does not flow";
const composeEnv = { XENSIM_IMAGE: IMAGE, XENSIM_LOG_LEVEL: process.env.XENSIM_LOG_LEVEL ?? "warn" };

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

describe("docker compose: the distributed placement", () => {
  before(async () => {
    const t0 = performance.now();
    const why = await ensureDocker();
    dockerMs = Math.round(performance.now() - t0);
    if (why) {
      skip = why;
      return;
    }
    build = await buildImage();
  });

  it("docker-compose up: every container healthy; xenstore, health and a guest's I/O through the containers", async (t) => {
    if (skip) return t.skip(skip);
    const compose = await composeCommand();
    const project = `xensim${process.pid}`;
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
        { todo: GUEST_REMOTE_TODO, timeout: 90_000 },
        async (st) => {
          if ((await run("nbdcopy", ["--version"])).code !== 0)
            return st.skip("nbdcopy not installed (libnbd-bin)");
          const uri = dom.nbdUri.replace("0.0.0.0", await containerIp(ids.get("host-a")!));
          nbd = await nbdRoundTrip(uri, 20_000);
          assert.equal(nbd.error, undefined, `${uri}: ${nbd.error}`);
        },
      );
      const destroyMs = await destroyToolstackDomain(exec, dom.domid);
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
      assert.deepEqual(await projectContainers(project), [], "down left containers behind");
    }
  });

  it("through testcontainers: DockerComposeEnvironment, waits on health checks, same checks, down", async (t) => {
    if (skip) return t.skip(skip);
    process.env.TESTCONTAINERS_RYUK_DISABLED = "true";
    process.env.TESTCONTAINERS_HOST_OVERRIDE = "localhost";
    const { DockerComposeEnvironment, Wait } = await import("testcontainers");
    const compose = await composeCommand();
    const project = `xensimtc${process.pid}`;
    // docker-compose v1 names containers project_service_1 (v2: project-service-1).
    const v1 = compose[0] === "docker-compose";
    const nameOf = (service: string): string => (v1 ? `${project}_${service}_1` : `${service}-1`);
    let env = new DockerComposeEnvironment(REPO_ROOT, "docker-compose.yml")
      .withProjectName(project)
      .withEnvironment(composeEnv)
      .withDefaultWaitStrategy(Wait.forHealthCheck())
      .withStartupTimeout(180_000);
    for (const s of SERVICES) env = env.withWaitStrategy(nameOf(s), Wait.forHealthCheck());
    if (v1) env = env.withClientOptions({ executable: { standalone: true } });
    const t0 = performance.now();
    const started = await env.up();
    try {
      const upToAllHealthyMs = Math.round(performance.now() - t0);
      const exec: Exec = async (service, argv) => {
        const r = await started.getContainer(nameOf(service)).exec(argv);
        return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
      };
      const figures = await checkScenario(exec, `tc${process.pid}`);
      const dom = await createToolstackDomain(exec, `tc${process.pid}`);
      const destroyMs = await destroyToolstackDomain(exec, dom.domid);
      console.log(
        JSON.stringify({
          compose: {
            driver: `testcontainers (${compose.join(" ")})`,
            upToAllHealthyMs,
            ...figures,
            toolstack: { ...dom, destroyMs },
          },
        }),
      );
    } catch (err) {
      const logs = await must(
        compose[0]!,
        [...compose.slice(1), "-p", project, "logs", "--no-color", "--tail", "60"],
        {
          env: composeEnv,
        },
      ).catch((e: Error) => e.message);
      console.log(`compose logs:\n${logs.slice(-12000)}`);
      throw err;
    } finally {
      await started.down({ removeVolumes: true, timeout: 10_000 });
      assert.deepEqual(await projectContainers(project), [], "down left containers behind");
    }
  });
});
