// Every peer of the distributed block path killed and restarted mid-I/O (real processes, real
// nats-server, gRPC and link sockets). Host A (this process) runs the hypervisor, xenstored and a
// page-server as worker threads, and a guest whose blkfronts use a file-backed disk; blkback runs in
// host B (`xensim up --services page-server,blkback`, a child process). While a crc32c write-verify
// job runs, in turn: xenstored's worker is killed and restarted (blkback's xenstore session and
// watches come back: a disk added afterwards is served), and host B (blkback and its link thread)
// is killed with SIGKILL and started again. Each time I/O resumes,
// and at the end every acknowledged write reads back. B's /healthz says "degraded" while the
// hypervisor's host is gone and "ok" while it is there.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { startFrontendHost } from "@xensim/harness";
import { findNatsServer, freePort, startNatsServer, tempDir, waitFor } from "@xensim/testkit";
import { type JobEnv, runJob } from "@xensim/workload";
import { serviceEntryPath, type XensimProcess } from "./harness.js";
import { backendHostUp, spawnBackendHost } from "./two-hosts.js";

// The job's clock: real time until `endJob` moves it past the job's end (the job runs until every
// restart is seen through, however long a loaded machine takes for it).
let jobClockSkewNs = 0;
const env: JobEnv = {
  nowNs: () => Number(process.hrtime.bigint()) + jobClockSkewNs,
  defer: (fn) => setImmediate(fn),
};
const JOB_RUNTIME_MS = 900_000;
const endJob = (): void => {
  jobClockSkewNs += JOB_RUNTIME_MS * 1e6;
};

interface Health {
  status: string;
  checks?: Record<string, { ok: boolean; detail?: string }>;
}

describe("each peer of the distributed block path restarted mid-I/O", () => {
  const dir = tempDir("xensim-peer-restart-");
  after(() => dir.cleanup());

  it(
    "xenstored and blkback's host restarted: I/O resumes, nothing acknowledged lost",
    { skip: findNatsServer() === undefined ? "nats-server not installed" : false, timeout: 420_000 },
    async () => {
      const nats = await startNatsServer();
      const a = await startFrontendHost({
        nats: nats.url,
        entries: {
          hypervisor: serviceEntryPath("hypervisor"),
          xenstored: serviceEntryPath("xenstored"),
          pageServer: serviceEntryPath("page-server"),
        },
        guestName: "peers",
        guestMemoryMib: 64,
        sharedMemoryBytes: 256 << 20,
        // A restarted xenstored comes back from its journal (C xenstored's live update keeps the
        // tree too); without it the tree is empty and every backend sees its devices vanish.
        xenstoredConfig: { stateDir: join(dir.path, "xenstored") },
      });
      const bHttp = await freePort();
      const bHealth = async (): Promise<Health> => {
        try {
          const r = await fetch(`http://127.0.0.1:${bHttp}/healthz`, { signal: AbortSignal.timeout(3000) });
          return (await r.json()) as Health;
        } catch (e) {
          return { status: `unreachable: ${(e as Error).message}` };
        }
      };
      // --insecure (no keys): the link's credentials are test/src/link-auth.test.ts's
      const startB = (): XensimProcess =>
        spawnBackendHost({
          nats: nats.url,
          stateDir: join(dir.path, "hostB"),
          hypervisor: a.hypervisorAddress,
          xenstored: a.xenstoredAddress,
          extraArgs: ["--http-port", String(bHttp), "--no-examples"],
        });
      const step = (what: string) => process.stdout.write(`${JSON.stringify({ peerRestartStep: what })}\n`);
      step("host A up");
      let b = startB();
      let aStopped = false;
      try {
        await backendHostUp(b, 60_000);
        step("host B up");
        const dirs = await a.addVbd({
          vdev: "xvda",
          params: "file:path=disk.raw,size=32M",
        });
        const front = await a.kernel!.openBlkfront(a.xs!, dirs.devid, {
          config: { maxRingPageOrder: 2, maxQueues: 2, persistent: true },
        });
        await Promise.race([
          front.whenConnected(),
          new Promise((_, reject) =>
            setTimeout(
              () => reject(new Error(`xvda not connected: host B said ${b.output().slice(-3000)}`)),
              60_000,
            ).unref(),
          ),
        ]);
        step("xvda connected");
        const job = runJob(
          front,
          { rw: "randrw", bs: 8192, iodepth: 16, runtimeMs: JOB_RUNTIME_MS, verify: "crc32c", seed: 11 },
          env,
        );
        const progress = setInterval(
          () =>
            process.stdout.write(
              `${JSON.stringify({ peerRestartProgress: { completed: front.stats.completed, inFlight: front.stats.inFlight } })}\n`,
            ),
          5000,
        );
        progress.unref();
        const resumes = async (what: string) => {
          const at = front.stats.completed;
          await waitFor(() => front.stats.completed > at + 300, {
            timeoutMs: 60_000,
            message: `I/O flows after ${what} (completed ${front.stats.completed}, was ${at})`,
          });
        };
        await resumes("the start");
        await waitFor(async () => (await bHealth()).status === "ok", {
          timeoutMs: 20_000,
          message: "B healthy",
        });

        // 1. xenstored's worker dies (no stop hook) and a new one starts on the same gRPC address
        // from its journal. The data path does not need it; blkback's session and watches return.
        await a.host.restartService("xenstored", { kill: true });
        await resumes("xenstored's restart");
        await waitFor(async () => (await bHealth()).status === "ok", {
          timeoutMs: 30_000,
          message: "B healthy again after xenstored's restart",
        });
        // A disk added now is served: blkback's watch on its backend directory was re-registered.
        const dirs2 = await a.addVbd({
          vdev: "xvdb",
          params: "file:path=disk2.raw,size=8M",
        });
        const front2 = await a.kernel!.openBlkfront(a.xs!, dirs2.devid, {
          config: { maxRingPageOrder: 0, maxQueues: 1, persistent: true },
        });
        await front2.whenConnected();
        const small = await runJob(
          front2,
          { rw: "randwrite", bs: 4096, iodepth: 4, ioLimit: 200, verify: "crc32c", seed: 3 },
          { nowNs: () => Number(process.hrtime.bigint()), defer: (fn) => setImmediate(fn) },
        );
        assert.equal(small.error, 0, "the disk added after xenstored's restart is served");
        assert.equal(small.verify.failures_total, 0);
        await front2.close();
        await a.removeVbd(dirs2);

        // 2. blkback's host (blkback and its link thread) process is killed mid-I/O and started again.
        await b.kill9();
        b = startB();
        await resumes("blkback's host restart");
        await waitFor(async () => (await bHealth()).status === "ok", {
          timeoutMs: 30_000,
          message: "B healthy after its restart",
        });

        endJob();
        clearInterval(progress);
        const r = await job;
        assert.equal(r.error, 0, JSON.stringify(r.errors_by_status));
        assert.equal(r.verify.failures_total, 0, JSON.stringify(r.verify.failures.slice(0, 4)));
        assert.ok(r.verify.blocks_checked > 100, `checked ${r.verify.blocks_checked}`);
        assert.equal(front.stats.submitted, front.stats.completed, "every I/O completed exactly once");
        assert.equal(front.stats.protocolErrors, 0);
        await front.close();
        await a.removeVbd(dirs);

        // 3. The hypervisor's host goes: B reports it (degraded), not "ok".
        await a.stop();
        aStopped = true;
        await waitFor(async () => (await bHealth()).status === "degraded", {
          timeoutMs: 30_000,
          message: "B degraded without the hypervisor's host",
        });
        const h = await bHealth();
        process.stdout.write(`${JSON.stringify({ peerRestart: { hostBWithoutA: h } })}\n`);
      } finally {
        await b.stop();
        if (!aStopped) await a.stop();
        await nats.stop();
      }
    },
  );
});
