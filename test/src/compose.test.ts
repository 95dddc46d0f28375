// The distributed placement in docker: docker-compose.yml (nats; host-a = hypervisor + page-server +
// guest runtime; xenstored = page-server + xenstored, mapping guests' store pages over the link;
// toolstack; blkback = page-server + blkback; displback) built from this checkout and brought up with
// docker-compose. Waits for every container's
// health check, checks the system end to end through the containers (fixtures/compose/scenario.ts),
// kills the blkback host process (restart policy), and tears it down. compose-testcontainers.test.ts
// does the same through testcontainers.
//
// Needs a docker daemon: .ci/docker.sh (called here; idempotent) installs Debian's docker.io and
// docker-compose when missing, starts dockerd and builds the registry-free base images. Skips, with
// the reason, only when dockerd cannot run on this machine. Prints its timings as JSON lines
// ({"compose": …}).
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { XENSIM_BIN } from "./harness.js";
import {
  buildImage,
  COMPOSE_FILE,
  composeCommand,
  downOnExit,
  ensureDocker,
  IMAGE,
  must,
  nbdPortEnv,
  nbdRoundTrip,
  projectContainers,
  projectName,
  removeStaleProjects,
  run,
  waitHealthy,
} from "./fixtures/compose/docker.js";
import {
  api,
  checkScenario,
  createToolstackDomain,
  destroyToolstackDomain,
  type Exec,
  guestIoAgain,
  killHostProcess,
} from "./fixtures/compose/scenario.js";

const SERVICES = [
  "nats",
  "host-a",
  "xenstored",
  "toolstack",
  "blkback",
  "displback",
  "device-model",
] as const;
/** Restarted in turn (docker-compose restart) under a guest's writes. */
const RESTART_ORDER = [
  "blkback",
  "host-a",
  "xenstored",
  "toolstack",
  "displback",
  "device-model",
  "nats",
] as const;
const BLOCK = 4096;
const DISK_MIB = 8;
const BLOCKS = (DISK_MIB << 20) / BLOCK;

/** Block i of generation g: a header naming both, then bytes derived from them. */
function image(generation: number): Buffer {
  const b = Buffer.alloc(BLOCKS * BLOCK);
  for (let i = 0; i < BLOCKS; i++) {
    const o = i * BLOCK;
    b.writeUInt32LE(0x78656e73, o);
    b.writeUInt32LE(generation, o + 4);
    b.writeUInt32LE(i, o + 8);
    for (let j = 12; j < BLOCK; j++) b[o + j] = (i * 31 + generation * 7 + j) & 0xff;
  }
  return b;
}
const composeEnv = {
  XENSIM_IMAGE: IMAGE,
  XENSIM_LOG_LEVEL: process.env.XENSIM_LOG_LEVEL ?? "warn",
  // the API and dashboard on an ephemeral loopback port of this machine (two runs never collide)
  XENSIM_API_PUBLISH: "127.0.0.1:",
} as Record<string, string>;

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

  // Five service containers (SERVICES: nats, host-a, toolstack, blkback, displback; the one-shot
  // `keys` container only writes the credentials), each restarted in turn under nbdcopy: longer
  // than the runner's 300 s default on a loaded machine.
  it(
    "docker-compose up: every container healthy; xenstore, health, a guest's I/O, the toolstack, a blkback restart",
    { timeout: 900_000 },
    async (t) => {
      if (skip) return t.skip(skip);
      const compose = await composeCommand();
      const project = projectName("dc");
      const forget = downOnExit(project);
      Object.assign(composeEnv, await nbdPortEnv());
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
          const r = await run("docker", ["exec", ids.get(service) ?? service, ...argv], {
            timeoutMs: 240_000,
          });
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
            // published on this machine's loopback (docker-compose.yml: XENSIM_NBD_PORTS)
            const uri = dom.nbdUri;
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

        // From the docker host: xl list through the published API, with the deployment's token.
        const apiPort = (await dc(["port", "toolstack", "9080"])).stdout.trim().split(":").pop();
        const token = (
          await exec("toolstack", [
            "node",
            "-e",
            "process.stdout.write(require('fs').readFileSync('/keys/api-token','utf8'))",
          ])
        ).stdout.trim();
        const xlList = await run(
          process.execPath,
          [XENSIM_BIN, "xl", "--api", `http://127.0.0.1:${apiPort}`, "list"],
          {
            timeoutMs: 30_000,
            env: { XENSIM_API_TOKEN: token },
          },
        );
        assert.equal(xlList.code, 0, xlList.stderr);
        assert.match(xlList.stdout, /Domain-0/);

        // Every container restarted in turn while a guest writes its file-backed disk through its NBD
        // export (published on this machine): what was acknowledged before reads back after, what was
        // in flight at the restart is the old or the new generation of each block, never anything else.
        const name = `rs${process.pid}`;
        const cfg = [
          `name = "${name}"`,
          `type = "hvm"`,
          `memory = 32`,
          `disk = [ 'format=raw, vdev=xvda, access=rw, target=file:path=${name}.raw,size=${DISK_MIB}M' ]`,
          `on_crash = "restart"`,
          `xensim_workload = "idle"`,
          // no emulator: this guest's rounds are about its disk (the HVM guest below has one)
          `device_model_version = "none"`,
          "",
        ].join("\n");
        const created = await api(exec, "POST", `/domains?filename=${name}.cfg`, cfg);
        assert.ok(created.status >= 200 && created.status < 300, JSON.stringify(created));
        const diskOf = async (deadlineMs: number): Promise<{ domid: number; uri: string }> => {
          for (const deadline = Date.now() + deadlineMs; ;) {
            const list = await api(exec, "GET", "/domains").catch(() => undefined);
            const dom = list?.json.domains?.find((d) => d.name === name);
            if (dom) {
              const d = (await api(exec, "GET", `/domains/${dom.id}/disks`).catch(() => undefined))?.json
                .disks?.[0];
              if (d?.frontendState === "Connected" && d.backendState === "Connected" && d.nbdUri)
                return { domid: dom.id, uri: d.nbdUri };
            }
            assert.ok(Date.now() < deadline, `${name}'s disk not connected: ${JSON.stringify(list?.json)}`);
            await new Promise((r) => setTimeout(r, 500));
          }
        };
        const dir = await mkdtemp(join(tmpdir(), "xensim-compose-"));
        const restarts: Array<Record<string, unknown>> = [];
        try {
          let disk = await diskOf(60_000);
          let gen = 1;
          await writeFile(join(dir, "g.raw"), image(gen));
          const w1 = await run("nbdcopy", ["--flush", join(dir, "g.raw"), disk.uri], { timeoutMs: 60_000 });
          assert.equal(w1.code, 0, `${disk.uri}: ${w1.stderr}`);
          for (const svc of RESTART_ORDER) {
            const t3 = performance.now();
            await writeFile(join(dir, "g.raw"), image(gen + 1));
            const inFlight = run("nbdcopy", ["--flush", join(dir, "g.raw"), disk.uri], { timeoutMs: 60_000 });
            const r = await dc(["restart", "-t", "5", svc], 120_000);
            assert.equal(r.code, 0, r.stderr);
            const acked = (await inFlight).code === 0;
            await waitHealthy(project, SERVICES, performance.now(), 120_000);
            disk = await diskOf(90_000);
            const backMs = Math.round(performance.now() - t3);
            // The export may come up a moment after the disk shows Connected (the restarted guest
            // runtime serves it): a refused connection is tried again; the data checks below are not.
            let got = await run("nbdcopy", [disk.uri, join(dir, "out.raw")], { timeoutMs: 60_000 });
            for (let attempt = 1; got.code !== 0 && attempt < 5; attempt++) {
              await new Promise((r) => setTimeout(r, 2000));
              disk = await diskOf(90_000);
              got = await run("nbdcopy", [disk.uri, join(dir, "out.raw")], { timeoutMs: 60_000 });
            }
            assert.equal(got.code, 0, `read after restarting ${svc}: ${got.stderr}`);
            const data = await readFile(join(dir, "out.raw"));
            const old = image(gen);
            const next = image(gen + 1);
            let oldBlocks = 0;
            let newBlocks = 0;
            let bad = 0;
            for (let i = 0; i < BLOCKS; i++) {
              const blk = data.subarray(i * BLOCK, (i + 1) * BLOCK);
              if (blk.equals(next.subarray(i * BLOCK, (i + 1) * BLOCK))) newBlocks++;
              else if (blk.equals(old.subarray(i * BLOCK, (i + 1) * BLOCK))) oldBlocks++;
              else bad++;
            }
            restarts.push({
              service: svc,
              backMs,
              domid: disk.domid,
              inFlightAcked: acked,
              oldBlocks,
              newBlocks,
              bad,
            });
            assert.equal(bad, 0, `after restarting ${svc}: blocks neither acknowledged nor in flight`);
            if (acked) assert.equal(newBlocks, BLOCKS, `after restarting ${svc}: an acknowledged write lost`);
            // The next round starts from a fully acknowledged generation.
            gen += 2;
            await writeFile(join(dir, "g.raw"), image(gen));
            const w = await run("nbdcopy", ["--flush", join(dir, "g.raw"), disk.uri], { timeoutMs: 60_000 });
            assert.equal(w.code, 0, `write after restarting ${svc}: ${w.stderr}`);
            // (gen - 1 was in flight; image(gen) is acknowledged now)
          }
          // and a guest's write-verify job through blkback once everything was restarted
          restarts.push({ guestIo: await guestIoAgain(exec, 100) });

          // An HVM guest whose emulator is the device-model container: its BIOS banner on COM1 through
          // `xensim xl console` from this machine, then the device-model container restarted while the
          // guest runs — its vCPU waits for the emulator, the new one reclaims the ioreq server and
          // the guest's heartbeats go on.
          const hvmName = `hvm${process.pid}`;
          const hvmCfg = [
            `name = "${hvmName}"`,
            `type = "hvm"`,
            `memory = 32`,
            `vcpus = 1`,
            `disk = [ ]`,
            `xensim_firmware = "bios,heartbeat-ms=200"`,
            "",
          ].join("\n");
          const hvm = await api(exec, "POST", `/domains?filename=${hvmName}.cfg`, hvmCfg);
          assert.ok(hvm.status >= 200 && hvm.status < 300, JSON.stringify(hvm));
          // (asked again: a restarted toolstack container may publish its API on another port)
          const apiNow = (await dc(["port", "toolstack", "9080"])).stdout.trim().split(":").pop();
          const consoleOnce = async (): Promise<string> => {
            const r = await run(
              process.execPath,
              [XENSIM_BIN, "xl", "--api", `http://127.0.0.1:${apiNow}`, "console", hvmName, "--once"],
              { timeoutMs: 30_000, env: { XENSIM_API_TOKEN: token } },
            );
            return r.code === 0 ? r.stdout : "";
          };
          const lastBeat = (text: string): number => {
            const m = [...text.matchAll(/vcpu0 heartbeat (\d+)/g)];
            return m.length ? Number(m[m.length - 1]![1]) : 0;
          };
          const waitConsole = async (what: string, ok: (text: string) => boolean): Promise<string> => {
            for (const deadline = Date.now() + 90_000; ;) {
              const text = await consoleOnce();
              if (ok(text)) return text;
              assert.ok(Date.now() < deadline, `${hvmName}'s console: ${what} (${text.slice(-500)})`);
              await new Promise((r) => setTimeout(r, 1000));
            }
          };
          const t4 = performance.now();
          const banner = await waitConsole("the BIOS banner", (t) => t.includes("xensim BIOS: boot done"));
          assert.match(banner, new RegExp(`xensim BIOS: booting ${hvmName}`));
          const bannerMs = Math.round(performance.now() - t4);
          const beforeBeat = lastBeat(await waitConsole("heartbeats", (t) => lastBeat(t) >= 2));
          const t5 = performance.now();
          const rd = await dc(["restart", "-t", "5", "device-model"], 120_000);
          assert.equal(rd.code, 0, rd.stderr);
          await waitHealthy(project, SERVICES, performance.now(), 120_000);
          const afterText = await waitConsole(
            "heartbeats after the device-model container's restart",
            (t) => lastBeat(t) > beforeBeat + 2,
          );
          restarts.push({
            hvmGuest: {
              bannerMs,
              beatBeforeRestart: beforeBeat,
              beatAfterRestart: lastBeat(afterText),
              backMs: Math.round(performance.now() - t5),
            },
          });
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
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
              restarts,
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
    },
  );
});
