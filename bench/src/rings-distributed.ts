// The distributed placement of `xensim bench rings`: blkfront in host process A (rings-host-a.ts, a
// child process: hypervisor, xenstored, page-server and the guest), blkback in host B (this
// process: page-server and blkback with hypervisorHost "hostA"), over a real nats-server and gRPC —
// the setup of test/src/blk-cross-host.test.ts. Ring and data pages cross as page-server replicas.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { startHost } from "@xensim/runtime";
import { startNatsServer } from "@xensim/testkit";
import type { JobResult, RwPattern } from "@xensim/workload";
import { type BlkProfile, type BlkRunFigures, counterSum, runFigures, storeSpec } from "./blk.js";
import type { BlkServiceEntries } from "./blk-stack.js";
import type { RingsHostARun } from "./rings-host-a.js";

export interface DistributedBlkOptions {
  entries: BlkServiceEntries & { pageServer?: string };
  pages: number[];
  queues: number;
  iodepth: number;
  bs: number;
  rw: RwPattern;
  profile: BlkProfile;
  durationMs: number;
  rampMs?: number;
  seed?: number;
  natsUrl?: string;
  log?: (line: string) => void;
  progress?: (label: string, fraction: number) => void;
}

export async function runDistributedBlk(o: DistributedBlkOptions): Promise<BlkRunFigures[]> {
  const log = o.log ?? (() => {});
  if (!o.entries.pageServer) throw new Error("distributed placement: no page-server entry");
  const nats = o.natsUrl ? undefined : await startNatsServer();
  const natsUrl = o.natsUrl ?? nats!.url;
  const child = spawn(
    process.execPath,
    [
      // --cpu-prof and the like reach host A too (a profile of the whole placement).
      ...process.execArgv,
      new URL("./rings-host-a.js", import.meta.url).pathname,
      JSON.stringify({
        nats: natsUrl,
        entries: {
          hypervisor: o.entries.hypervisor,
          xenstored: o.entries.xenstored,
          pageServer: o.entries.pageServer,
        },
      }),
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const lines: Array<Record<string, unknown>> = [];
  let wake: (() => void) | undefined;
  createInterface({ input: child.stdout! }).on("line", (l) => {
    try {
      lines.push(JSON.parse(l) as Record<string, unknown>);
      wake?.();
    } catch {
      // log output
    }
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  let dead = false;
  void exited.then(() => {
    dead = true;
    wake?.();
  });
  const next = async (key: string, timeoutMs: number): Promise<Record<string, unknown>> => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const i = lines.findIndex((l) => key in l);
      if (i >= 0) return lines.splice(i, 1)[0]!;
      if (dead) throw new Error(`host A exited before '${key}'`);
      if (Date.now() > until) throw new Error(`host A: no '${key}' within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 250);
      });
    }
  };
  let hostB: Awaited<ReturnType<typeof startHost>> | undefined;
  const runs: BlkRunFigures[] = [];
  try {
    const a = (await next("hv", 60_000)) as { hv: string; xs: string; domid: number };
    hostB = await startHost({
      hostId: "hostB",
      nats: natsUrl,
      services: [
        { name: "page-server", entry: o.entries.pageServer, config: {} },
        {
          name: "blkback",
          entry: o.entries.blkback,
          config: {
            hypervisor: a.hv,
            xenstored: a.xs,
            hypervisorHost: "hostA",
            maxRingPageOrder: 6,
            maxQueues: Math.max(o.queues, 1),
            maxIndirectSegments: 256,
            persistent: true,
            maxPersistentGrants: 1 << 20,
          },
        },
      ],
      sharedMemoryBytes: 1 << 30,
      logLevel: "warn",
    });
    await hostB.ready;
    const seed = o.seed ?? 1;
    for (const pages of o.pages) {
      const rampMs = o.rampMs ?? Math.min(1000, o.durationMs / 4);
      const run: RingsHostARun = {
        pages,
        queues: o.queues,
        iodepth: o.iodepth,
        bs: o.bs,
        rw: o.rw,
        params: storeSpec(o.profile, 1 << 30, seed),
        durationMs: o.durationMs,
        rampMs,
        seed,
      };
      const label = `${pages} page(s)`;
      const mBefore = (await hostB.metrics()).body;
      const started = Date.now();
      const ticker = setInterval(
        () => o.progress?.(label, Math.min(1, (Date.now() - started) / (rampMs + o.durationMs))),
        250,
      );
      child.stdin!.write(`run ${JSON.stringify(run)}\n`);
      let msg: Record<string, unknown>;
      try {
        msg = await next("done", 120_000 + rampMs + o.durationMs);
      } finally {
        clearInterval(ticker);
      }
      o.progress?.(label, 1);
      if (msg.error) throw new Error(`host A: ${String(msg.error)}`);
      const r = msg.result as {
        devid: number;
        ringInfo: { pages: number; slots: number; queues: number };
        job: JobResult;
        frontSent: number;
        completed: number;
      };
      const mAfter = (await hostB.metrics()).body;
      const labels = { domid: String(a.domid), devid: String(r.devid) };
      const backSent =
        counterSum(mAfter, "blkback_notifications_sent_total", labels) -
        counterSum(mBefore, "blkback_notifications_sent_total", labels);
      const fig = runFigures(r.job, r.ringInfo, o, {
        frontSent: r.frontSent,
        backSent,
        completed: r.completed,
      });
      runs.push(fig);
      if (fig.errors > 0)
        log(`${label}: ${fig.errors} I/O errors (by status ${JSON.stringify(r.job.errors_by_status)})`);
      log(
        `${label.padEnd(11)} slots ${String(fig.ring_slots).padStart(5)}  ${String(fig.iops).padStart(9)} IOPS  ${String(fig.mb_s).padStart(8)} MB/s  p50 ${fig.clat_us.p50} µs  p99 ${fig.clat_us.p99} µs  outstanding ${fig.avg_outstanding}  kicks/IO ${fig.notifications_per_io.total}  (distributed)`,
      );
    }
  } finally {
    await hostB?.stop().catch(() => {}); // B first: blkback unmaps and unbinds through A's hypervisor
    child.stdin!.write("stop\n");
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([exited, new Promise((res) => (timer = setTimeout(res, 10_000)))]);
    clearTimeout(timer);
    if (child.exitCode === null) child.kill("SIGKILL");
    await nats?.stop();
  }
  return runs;
}
