// The cross-host placements of `xensim bench rings`, over a real nats-server, gRPC and the link:
//   - distributed: blkfront in host process A (rings-host-a.ts, a child: hypervisor, xenstored,
//     page-server and the guest), blkback in host B (this process: page-server and blkback with
//     hypervisorHost "hostA") — the setup of test/src/blk-cross-host.test.ts;
//   - three-hosts: the guest alone in host G (rings-host-g.ts, a child with its page-server; the
//     domain is homed there), the hypervisor and xenstored in A, blkback in B: every kick of the
//     ring goes G → A → B or B → A → G, so the forwarded, fenced event path is measured too.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { startHost } from "@xensim/runtime";
import { startNatsServer } from "@xensim/testkit";
import type { JobResult, RwPattern } from "@xensim/workload";
import { type BlkProfile, type BlkRunFigures, counterSum, runFigures, storeSpec } from "./blk.js";
import type { BlkServiceEntries } from "@xensim/harness";
import type { RingsHostARun } from "./rings-guest-run.js";

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
  /** The guest in a third host process (the three-host placement). */
  threeHosts?: boolean;
  log?: (line: string) => void;
  progress?: (label: string, fraction: number) => void;
}

interface Child {
  send(line: string): void;
  next(key: string, timeoutMs: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** A host process of ours as a child: JSON lines on stdout, commands on stdin. */
function spawnChild(script: string, arg: object, name: string): Child {
  const child = spawn(
    process.execPath,
    // --cpu-prof and the like reach the child too (a profile of the whole placement).
    [...process.execArgv, new URL(script, import.meta.url).pathname, JSON.stringify(arg)],
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
  return {
    send: (line) => child.stdin!.write(`${line}\n`),
    async next(key, timeoutMs) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const i = lines.findIndex((l) => key in l);
        if (i >= 0) return lines.splice(i, 1)[0]!;
        if (dead) throw new Error(`${name} exited before '${key}'`);
        if (Date.now() > until) throw new Error(`${name}: no '${key}' within ${timeoutMs} ms`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 250);
        });
      }
    },
    async stop() {
      if (!dead) child.stdin!.write("stop\n");
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([exited, new Promise((res) => (timer = setTimeout(res, 10_000)))]);
      clearTimeout(timer);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}

export async function runDistributedBlk(options: DistributedBlkOptions): Promise<BlkRunFigures[]> {
  const log = options.log ?? (() => {});
  if (!options.entries.pageServer) throw new Error("distributed placement: no page-server entry");
  const nats = options.natsUrl ? undefined : await startNatsServer();
  const natsUrl = options.natsUrl ?? nats!.url;
  const entries = {
    hypervisor: options.entries.hypervisor,
    xenstored: options.entries.xenstored,
    pageServer: options.entries.pageServer,
  };
  const hostA = spawnChild(
    "./rings-host-a.js",
    { nats: natsUrl, entries, ...(options.threeHosts ? { guestHost: "hostG" } : {}) },
    "host A",
  );
  let hostG: Child | undefined;
  let hostB: Awaited<ReturnType<typeof startHost>> | undefined;
  const runs: BlkRunFigures[] = [];
  try {
    const a = (await hostA.next("hv", 60_000)) as {
      hv: string;
      xs: string;
      domid: number;
      guest: { storeGfn: number; storePort: number; ramPages: number };
    };
    if (options.threeHosts) {
      hostG = spawnChild(
        "./rings-host-g.js",
        {
          nats: natsUrl,
          pageServer: entries.pageServer,
          hv: a.hv,
          hypervisorHost: "hostA",
          domid: a.domid,
          guest: a.guest,
        },
        "host G",
      );
      await hostG.next("ready", 60_000);
    }
    hostB = await startHost({
      hostId: "hostB",
      nats: natsUrl,
      services: [
        { name: "page-server", entry: options.entries.pageServer, config: {} },
        {
          name: "blkback",
          entry: options.entries.blkback,
          config: {
            hypervisor: a.hv,
            xenstored: a.xs,
            hypervisorHost: "hostA",
            maxRingPageOrder: 6,
            maxQueues: Math.max(options.queues, 1),
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
    const seed = options.seed ?? 1;
    for (const pages of options.pages) {
      const rampMs = options.rampMs ?? Math.min(1000, options.durationMs / 4);
      const run: RingsHostARun = {
        pages,
        queues: options.queues,
        iodepth: options.iodepth,
        bs: options.bs,
        rw: options.rw,
        params: storeSpec(options.profile, 1 << 30, seed),
        durationMs: options.durationMs,
        rampMs,
        seed,
      };
      const label = `${pages} page(s)`;
      const mBefore = (await hostB.metrics()).body;
      const started = Date.now();
      const ticker = setInterval(
        () => options.progress?.(label, Math.min(1, (Date.now() - started) / (rampMs + options.durationMs))),
        250,
      );
      let msg: Record<string, unknown>;
      try {
        if (hostG) {
          // A creates the vbd (as the toolstack), G's guest runs the job on it, A removes it.
          hostA.send(`addvbd ${run.params}`);
          const { vbd } = (await hostA.next("vbd", 60_000)) as { vbd: { devid: number } };
          hostG.send(`run ${JSON.stringify({ ...run, devid: vbd.devid })}`);
          msg = await hostG.next("done", 120_000 + rampMs + options.durationMs);
          hostA.send(`rmvbd ${JSON.stringify(vbd)}`);
          await hostA.next("rmvbd", 60_000);
        } else {
          hostA.send(`run ${JSON.stringify(run)}`);
          msg = await hostA.next("done", 120_000 + rampMs + options.durationMs);
        }
      } finally {
        clearInterval(ticker);
      }
      options.progress?.(label, 1);
      if (msg.error) throw new Error(`${hostG ? "host G" : "host A"}: ${String(msg.error)}`);
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
      const fig = runFigures(r.job, r.ringInfo, options, {
        frontSent: r.frontSent,
        backSent,
        completed: r.completed,
      });
      runs.push(fig);
      if (fig.errors > 0)
        log(`${label}: ${fig.errors} I/O errors (by status ${JSON.stringify(r.job.errors_by_status)})`);
      log(
        `${label.padEnd(11)} slots ${String(fig.ring_slots).padStart(5)}  ${String(fig.iops).padStart(9)} IOPS  ${String(fig.mb_s).padStart(8)} MB/s  p50 ${fig.clat_us.p50} µs  p99 ${fig.clat_us.p99} µs  outstanding ${fig.avg_outstanding}  kicks/IO ${fig.notifications_per_io.total}  (${options.threeHosts ? "three hosts" : "distributed"})`,
      );
    }
  } finally {
    await hostB?.stop().catch(() => {}); // B first: blkback unmaps and unbinds through A's hypervisor
    await hostG?.stop();
    await hostA.stop();
    await nats?.stop();
  }
  return runs;
}
