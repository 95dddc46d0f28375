// Soft reset with disk I/O in flight: an HVM guest whose workload writes (crc32c-verifiable blocks)
// to a file-backed vbd is told `xensim xl trigger D soft-reset` mid-job. The kernel stops issuing,
// its frontend's close answers or fails every request in flight, it hands its write ledger over
// (kexec keeps memory) and shuts down with SHUTDOWN_soft_reset; the toolstack rebuilds the domain in
// place and the next kernel boots, its frontend reconnecting from Initialising. Its job runs again
// on the same disk and its verify phase reads back every block the first kernel had acknowledged:
// none is lost, and no request of the first kernel was left unanswered or answered twice.
// The image is a real file in the host's image directory. The host runs with its events on a real
// nats-server, where the test reads the guest's status.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { connectNatsBus, type EventBus } from "@xensim/bus";
import { GUEST_SUBJECTS } from "@xensim/subjects";
import { type NatsServer, startNatsServer, tempDir, waitFor } from "@xensim/testkit";
import { spawnXensim, runXl, type XensimProcess } from "./harness.js";

interface Status {
  domid: number;
  state: string;
  disks: Array<{ vdev: string; state: string }>;
  workload: {
    phase: string;
    ios: number;
    errors: number;
    ledger?: {
      acknowledgedBlocks: number;
      blocksChecked: number;
      lost: number;
      indeterminate: number;
      carriedVerified?: number;
    };
    kexec?: {
      carriedAcknowledgedBlocks: number;
      carriedIndeterminateBlocks: number;
      requestsSubmitted: number;
      requestsAnswered: number;
      requestsFailed: number;
      requestsAnsweredTwice: number;
      requestsUnanswered: number;
    };
  };
}

const xl = (stateDir: string, args: string[]) => runXl(stateDir, args);

describe("soft reset with disk I/O in flight", () => {
  const dir = tempDir("xensim-sr-io-");
  let nats: NatsServer | undefined;
  let up: XensimProcess | undefined;
  let bus: EventBus | undefined;
  after(async () => {
    await bus?.close();
    await up?.stop();
    await nats?.stop();
    dir.cleanup();
  });

  it(
    "keeps every acknowledged write and answers every request once across the kexec",
    { timeout: 240_000 },
    async (t) => {
      nats = await startNatsServer();
      const stateDir = join(dir.path, "state");
      up = spawnXensim([
        "up",
        "--nats",
        nats.url,
        "--insecure",
        "--state-dir",
        stateDir,
        "--api-port",
        "0",
        "--no-examples",
      ]);
      await waitFor(() => /toolstack: http/.test(up!.output()), {
        timeoutMs: 150_000,
        message: () => `xensim up: ${up?.output()}`,
      });
      bus = await connectNatsBus({ servers: nats.url, name: "soft-reset-io-test" });
      const statuses: Status[] = [];
      const dec = new TextDecoder();
      bus.subscribe(GUEST_SUBJECTS.statusAll, {
        callback: (m) => statuses.push(JSON.parse(dec.decode(m.data)) as Status),
      });
      await bus.flush();

      const cfg = join(dir.path, "sr1.cfg");
      writeFileSync(
        cfg,
        [
          'name = "sr1"',
          'type = "hvm"',
          "memory = 32",
          `disk = [ 'format=raw, vdev=xvda, access=rw, target=file:path=sr1.raw,size=16M' ]`,
          'xensim_workload = "rw=randrw,rwmixread=90,bs=4k,iodepth=16,size=4m,runtime=8,verify=crc32c"',
          "",
        ].join("\n"),
      );
      const created = await xl(stateDir, ["create", cfg]);
      assert.equal(created.status, 0, created.stderr);
      const domid = Number(/Domain (\d+)/.exec(created.stdout + created.stderr)?.[1]);
      assert.ok(domid > 0, created.stdout + created.stderr);
      const mine = () => statuses.filter((s) => s.domid === domid);
      const latest = () => mine().at(-1);

      // Mid-job: some writes acknowledged, the job still running.
      await waitFor(() => latest()?.workload.phase === "running" && latest()!.workload.ios > 1000, {
        timeoutMs: 60_000,
        message: `the first kernel's writes: ${JSON.stringify(latest())}`,
      });
      const trig = await xl(stateDir, ["trigger", "sr1", "soft-reset"]);
      assert.equal(trig.status, 0, trig.stderr);

      // The next kernel: it reports what it took over, reconnects the disk and runs the job again.
      await waitFor(() => latest()?.workload.kexec !== undefined, {
        timeoutMs: 60_000,
        message: `the kexec'd kernel: ${JSON.stringify(latest())}`,
      });
      const k = latest()!.workload.kexec!;
      assert.ok(k.carriedAcknowledgedBlocks > 0, `acknowledged blocks handed over: ${JSON.stringify(k)}`);
      assert.ok(k.requestsSubmitted > 0);
      assert.equal(
        k.requestsUnanswered,
        0,
        `every request of the first kernel answered or failed: ${JSON.stringify(k)}`,
      );
      assert.equal(k.requestsAnsweredTwice, 0, "none answered twice");
      assert.equal(k.requestsAnswered + k.requestsFailed, k.requestsSubmitted);
      await waitFor(
        () => latest()?.disks.some((d) => d.vdev === "xvda" && d.state === "Connected") ?? false,
        {
          timeoutMs: 30_000,
          message: `the disk reconnected: ${JSON.stringify(latest()?.disks)}`,
        },
      );
      await waitFor(() => ["done", "failed"].includes(latest()?.workload.phase ?? ""), {
        timeoutMs: 90_000,
        message: `the second job and its verify phase: ${JSON.stringify(latest()?.workload)}`,
      });
      const w = latest()!.workload;
      assert.equal(w.phase, "done", JSON.stringify(w));
      assert.ok(w.ledger, "the verify ledger");
      assert.equal(w.ledger.lost, 0, `no acknowledged write lost: ${JSON.stringify(w.ledger)}`);
      assert.ok(
        (w.ledger.carriedVerified ?? 0) > 0,
        `blocks the first kernel acknowledged (and the second never rewrote) read back intact: ${JSON.stringify(w.ledger)}`,
      );

      t.diagnostic(`handed over ${JSON.stringify(k)}; after the second job ${JSON.stringify(w.ledger)}`);
      // The frontend went back through Initialising (xl block-list shows it connected again).
      const bl = await xl(stateDir, ["block-list", "sr1"]);
      assert.match(bl.stdout, /xvda\s+\d+\s+0\s+Connected\/Connected/, bl.stdout);
    },
  );
});
