// docker-compose.yml through testcontainers@11: DockerComposeEnvironment brings the file up (the
// compose v1 binary where that is what exists), its wait strategies wait for every container's health
// check, the checks of fixtures/compose/scenario.ts run through container.exec, then down.
// Needs docker (.ci/docker.sh, called here); skips only when dockerd cannot run on this machine.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  buildImage,
  composeCommand,
  downOnExit,
  ensureDocker,
  must,
  projectContainers,
  projectName,
  REPO_ROOT,
} from "./fixtures/compose/docker.js";
import {
  checkScenario,
  createToolstackDomain,
  destroyToolstackDomain,
  type Exec,
} from "./fixtures/compose/scenario.js";
import { nbdPortEnv } from "./fixtures/compose/docker.js";

const SERVICES = [
  "nats",
  "host-a",
  "xenstored",
  "toolstack",
  "blkback",
  "displback",
  "device-model",
] as const;
/** Its own tag: compose.test.ts may build xensim:local at the same time. */
const TC_IMAGE = process.env.XENSIM_TC_IMAGE ?? "xensim:tc";
const composeEnv = {
  XENSIM_IMAGE: TC_IMAGE,
  XENSIM_LOG_LEVEL: process.env.XENSIM_LOG_LEVEL ?? "warn",
  // the API and dashboard on an ephemeral loopback port of this machine (two runs never collide)
  XENSIM_API_PUBLISH: "127.0.0.1:",
};

let skip: string | false = false;

describe("docker compose: the distributed placement (testcontainers)", () => {
  before(async () => {
    const why = await ensureDocker();
    if (why) {
      skip = why;
      return;
    }
    await buildImage(TC_IMAGE);
  });

  it("through testcontainers: DockerComposeEnvironment, waits on health checks, same checks, down", async (t) => {
    if (skip) return t.skip(skip);
    process.env.TESTCONTAINERS_RYUK_DISABLED = "true";
    process.env.TESTCONTAINERS_HOST_OVERRIDE = "localhost";
    const { DockerComposeEnvironment, Wait } = await import("testcontainers");
    const compose = await composeCommand();
    const project = projectName("tc");
    // docker-compose v1 names containers project_service_1 (v2: project-service-1).
    const v1 = compose[0] === "docker-compose";
    const nameOf = (service: string): string => (v1 ? `${project}_${service}_1` : `${service}-1`);
    let env = new DockerComposeEnvironment(REPO_ROOT, "docker-compose.yml")
      .withProjectName(project)
      .withEnvironment({ ...composeEnv, ...(await nbdPortEnv()) })
      .withDefaultWaitStrategy(Wait.forHealthCheck())
      .withStartupTimeout(180_000);
    for (const s of SERVICES) env = env.withWaitStrategy(nameOf(s), Wait.forHealthCheck());
    // the one-shot credentials container (xensim keys init into the keys volume) exits 0
    env = env.withWaitStrategy(nameOf("keys"), Wait.forOneShotStartup());
    if (v1) env = env.withClientOptions({ executable: { standalone: true } });
    const forget = downOnExit(project);
    const t0 = performance.now();
    const started = await env.up().catch((err: unknown) => {
      forget();
      throw err;
    });
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
      forget();
      assert.deepEqual(await projectContainers(project), [], "down left containers behind");
    }
  });
});
