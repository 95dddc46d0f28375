// The link when a peer dies and when a host that may not write tries to (real processes, real
// nats-server, gRPC and sockets). Host A (this process: hypervisor, xenstored, page-server and a
// guest) runs a write-verify job on a file-backed disk served by blkback in host B (a child
// process, `xensim up --services page-server,blkback`). B is killed (SIGKILL) mid-I/O and started
// again: its new epoch makes A drop everything of the old process — its grant mappings and pins at
// the hypervisor, its placements — and I/O resumes with nothing acknowledged lost. Then a stale
// process replays B's old epoch (refused at HELLO, nothing applied) and a host with no right to a
// guest frame writes it (refused and counted, the frame unchanged). At the end no mapping is left.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { startFrontendHost } from "@xensim/harness";
import { connectNatsBus, createInProcessCallClient } from "@xensim/bus";
import { DataFrameBuilder, encodeHello, LINK_VERSION } from "@xensim/link";
import { LINK_SUBJECTS } from "@xensim/subjects";
import { type LinkStatusReply__Output, loadHypervisorProto, loadPageServerProto } from "@xensim/proto";
import { findNatsServer, startNatsServer, tempDir, waitFor } from "@xensim/testkit";
import { type JobEnv, runJob } from "@xensim/workload";
import { XenCtrl } from "@xensim/xenctrl";
import { serviceEntryPath, type XensimProcess } from "./harness.js";
import { backendHostUp, spawnBackendHost } from "./two-hosts.js";

// The job's clock: real time until `endJob` moves it past the job's end (the job runs until the
// restart is seen through, however long a loaded machine takes for it).
let jobClockSkewNs = 0;
const env: JobEnv = {
  nowNs: () => Number(process.hrtime.bigint()) + jobClockSkewNs,
  defer: (fn) => setImmediate(fn),
};
const JOB_RUNTIME_MS = 600_000;
const endJob = (): void => {
  jobClockSkewNs += JOB_RUNTIME_MS * 1e6;
};
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Writes raw link frames from a fresh connection to `tcp`; resolves when A closed it or after 500 ms. */
async function rawLink(tcp: string, frames: Uint8Array[]): Promise<{ closedByPeer: boolean }> {
  const i = tcp.lastIndexOf(":");
  const sock = connect(Number(tcp.slice(i + 1)), tcp.slice(0, i));
  await new Promise<void>((r, j) => {
    sock.once("connect", r);
    sock.once("error", j);
  });
  sock.on("data", () => {});
  sock.on("error", () => {});
  for (const f of frames) sock.write(f);
  const closedByPeer = await new Promise<boolean>((r) => {
    sock.once("close", () => r(true));
    setTimeout(() => r(false), 500);
  });
  sock.destroy();
  return { closedByPeer };
}

describe("the link when a peer restarts, or replays, or writes what it may not", () => {
  const dir = tempDir("xensim-link-restart-");
  after(() => dir.cleanup());

  it(
    "blkback's host killed mid-I/O and started again; a stale epoch and a foreign write refused",
    { skip: findNatsServer() === undefined ? "nats-server not installed" : false, timeout: 300_000 },
    async () => {
      const nats = await startNatsServer();
      const a = await startFrontendHost({
        nats: nats.url,
        entries: {
          hypervisor: serviceEntryPath("hypervisor"),
          xenstored: serviceEntryPath("xenstored"),
          pageServer: serviceEntryPath("page-server"),
        },
        guestName: "restart",
        guestMemoryMib: 64,
        sharedMemoryBytes: 256 << 20,
      });
      const ps = createInProcessCallClient(
        loadPageServerProto().xensim.pageserver.v1.PageServer.service,
        "page-server",
      );
      const hv = createInProcessCallClient(
        loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service,
        "hypervisor",
      );
      const bus = await connectNatsBus({ servers: nats.url, name: "restart-test" });
      const status = () => ps.call<object, LinkStatusReply__Output>("LinkStatus", {});
      const stat = async (k: string) => Number((await status()).stats[k] ?? 0);
      const grantsMapped = async () => {
        const m = /^hypervisor_grants_mapped(?:\{[^}]*\})? (\d+)/m.exec((await a.host.metrics()).body);
        return Number(m?.[1] ?? -1);
      };
      // --insecure (no keys): the link's authentication is test/src/link-auth.test.ts's
      const startB = (): XensimProcess =>
        spawnBackendHost({
          nats: nats.url,
          stateDir: join(dir.path, "hostB"),
          hypervisor: a.hypervisorAddress,
          xenstored: a.xenstoredAddress,
          // the disk file below (disks are confined, issue 14)
          extraArgs: ["--set", `blkback.params.fileDir=${dir.path}`],
        });
      let b = startB();
      try {
        await backendHostUp(b, 30_000);
        const dirs = await a.addVbd({
          vdev: "xvda",
          params: `file:path=${join(dir.path, "disk.raw")},size=32M`,
        });
        const front = await a.kernel!.openBlkfront(a.xs!, dirs.devid, {
          config: { maxRingPageOrder: 2, maxQueues: 2, persistent: true },
        });
        await front.whenConnected();
        const job = runJob(
          front,
          { rw: "randrw", bs: 8192, iodepth: 16, runtimeMs: JOB_RUNTIME_MS, verify: "crc32c", seed: 5 },
          env,
        );
        await waitFor(() => front.stats.completed > 300, { timeoutMs: 20_000, message: "I/O flowing" });
        const old = (await status()).peers.find((p) => p.host === "hostB");
        assert.ok(old?.ready, "A's link to B is up");
        assert.ok((await grantsMapped()) > 0, "B maps the guest's pages");

        // B dies mid-I/O (no stop hook, no unmap), then a new B process starts (a new epoch).
        const inFlight = front.stats.inFlight;
        await b.kill9();
        assert.ok(inFlight > 0, "requests were in flight when B died");
        b = startB();
        await waitFor(async () => (await stat("epochChanges")) >= 1, {
          timeoutMs: 30_000,
          message: "A sees B's new epoch",
        });
        assert.ok((await stat("mappingsReleased")) > 0, "the dead process's mappings were released");
        const afterKill = front.stats.completed;
        await waitFor(() => front.stats.completed > afterKill + 300, {
          timeoutMs: 40_000,
          message: "I/O flows again through the new B",
        });
        endJob();

        // A stale process replays B's old epoch: refused at HELLO, none of its frames applied.
        const tcp = (
          JSON.parse(
            dec.decode(
              (await bus.request(LINK_SUBJECTS.address("hostA"), enc.encode(""), { timeoutMs: 5000 })).data,
            ),
          ) as {
            tcp: string;
          }
        ).tcp;
        const xc = new XenCtrl({ domid: 0, calls: hv, store: a.host.sharedMemory });
        const page = await xc.mapForeignPages(a.domid, [5]);
        assert.ok(typeof page !== "number");
        const frame = (await xc.gfnToFrames(a.domid, [5])).frames[0]!;
        const before = page.read(0, 64);
        const forged = (host: string, epoch: bigint) => {
          const d = new DataFrameBuilder();
          d.range(frame, 0, new Uint8Array(64).fill(0xee), 0, 64);
          return [
            encodeHello({
              version: LINK_VERSION,
              hostId: host,
              epoch,
              peerEpoch: 0n,
              lastReceived: 0,
              identity: new Uint8Array(0),
            }),
            d.finish({ seq: 1, ack: 0, watermark: 1, flags: 0 }),
          ];
        };
        const stale0 = await stat("staleHellos");
        const applied0 = await stat("rangesApplied");
        const replay = await rawLink(tcp, forged("hostB", BigInt(old!.epoch)));
        assert.ok(replay.closedByPeer, "A closed the stale process's connection");
        assert.equal(await stat("staleHellos"), stale0 + 1, "the stale epoch was refused and counted");
        assert.deepEqual(page.read(0, 64), before, "nothing of the stale stream was applied");

        // A host with no right to that frame (neither the owner's home nor a writable mapping).
        const refused0 = await stat("refusedRanges");
        await rawLink(tcp, forged("intruder", (BigInt(Date.now()) << 16n) | 7n));
        await waitFor(async () => (await stat("refusedRanges")) > refused0, {
          timeoutMs: 5000,
          message: "the foreign write refused",
        });
        assert.deepEqual(page.read(0, 64), before, "the frame is unchanged");
        assert.ok((await stat("rangesApplied")) >= applied0, "the rest of the streams go on");

        const r = await job;
        assert.equal(r.error, 0, JSON.stringify(r.errors_by_status));
        assert.equal(r.verify.failures_total, 0, JSON.stringify(r.verify.failures.slice(0, 4)));
        assert.ok(r.verify.blocks_checked > 100, `checked ${r.verify.blocks_checked}`);
        assert.equal(front.stats.submitted, front.stats.completed, "every I/O completed exactly once");
        assert.equal(front.stats.protocolErrors, 0);
        await front.close();
        await a.removeVbd(dirs);
        // No mapping or pin left at the hypervisor: the dead process's were released, the new one
        // unmapped when the frontend closed.
        await waitFor(async () => (await grantsMapped()) === 0, {
          timeoutMs: 20_000,
          message: "no grant mapping left at the hypervisor",
        });
        xc.close();
      } finally {
        await b.stop();
        ps.close();
        hv.close();
        await bus.close();
        await a.stop();
        await nats.stop();
      }
    },
  );
});
