// `xensim bench replication`: frames replicated per second from one host process to another —
// page-server A and page-server B as processes of their own on NATS (batches) and gRPC (API).
// Two loads: "full" marks whole frames written (Publish), so every page travels in full; "delta"
// writes 16 bytes into each frame (WriteFrames) and ships only those. Each op covers `framesPerOp`
// frames; `depth` ops are in flight; the clock stops when B has applied the last fence.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { connect, createServer } from "node:net";
import { delimiter, join } from "node:path";
import { type CallClient, createGrpcCallClient } from "@xensim/bus";
import {
  type AllocFramesReply__Output,
  type FenceReply__Output,
  type FenceStatus__Output,
  loadPageServerProto,
  type ReadFrameReply__Output,
} from "@xensim/proto";
import { machineInfo } from "./stats.js";

export interface ReplicationBenchOptions {
  /** Path of services/page-server/dist/main.js. */
  pageServerEntry: string;
  /** NATS url; without it the bench starts a nats-server (from PATH or /usr/sbin) for the run. */
  natsUrl?: string;
  durationMs?: number;
  frames?: number;
  framesPerOp?: number;
  depth?: number;
  log?: (line: string) => void;
}

export interface ReplicationFigures {
  load: "full" | "delta";
  ops: number;
  pages: number;
  seconds: number;
  pages_per_s: number;
  mib_per_s: number;
  verified: boolean;
}

export interface ReplicationBenchResult {
  benchmark: "replication";
  machine: Record<string, unknown>;
  duration_ms: number;
  frames: number;
  frames_per_op: number;
  depth: number;
  results: ReplicationFigures[];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
}

async function startPageServer(entry: string, hostId: string, natsUrl: string) {
  const port = await freePort();
  const proc: ChildProcess = spawn(
    process.execPath,
    [
      entry,
      "--host-id",
      hostId,
      "--nats",
      natsUrl,
      "--grpc-listen",
      `127.0.0.1:${port}`,
      "--shared-memory-bytes",
      String(4096 * 8192),
      "--log-level",
      "warn",
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  const def = loadPageServerProto().xensim.pageserver.v1.PageServer.service;
  const calls: CallClient = createGrpcCallClient(def, `127.0.0.1:${port}`);
  const end = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`page-server ${hostId} exited`);
    try {
      await calls.call("Fence", {}, { deadlineMs: 500 });
      break;
    } catch {
      if (Date.now() > end) throw new Error(`page-server ${hostId} did not start`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    calls,
    async stop() {
      calls.close();
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      await exited;
    },
  };
}

/** A nats-server of our own for the run (stopped by its PID). */
async function startNats(): Promise<{ url: string; stop(): Promise<void> }> {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/bin", "/usr/local/bin"];
  const bin =
    process.env.NATS_SERVER_BIN ?? dirs.map((d) => join(d, "nats-server")).find((p) => existsSync(p));
  if (!bin) throw new Error("nats-server not found: install it or pass --nats <url>");
  const port = await freePort();
  const proc = spawn(bin, ["-a", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  const end = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, "127.0.0.1", () => {
        c.destroy();
        r(true);
      });
      c.once("error", () => r(false));
    });
    if (ok) break;
    if (Date.now() > end || proc.exitCode !== null) throw new Error("nats-server did not start");
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      await exited;
    },
  };
}

export async function runReplicationBench(o: ReplicationBenchOptions): Promise<ReplicationBenchResult> {
  const ownNats = o.natsUrl ? undefined : await startNats();
  try {
    return await runWith({ ...o, natsUrl: o.natsUrl ?? ownNats!.url });
  } finally {
    await ownNats?.stop();
  }
}

async function runWith(o: ReplicationBenchOptions & { natsUrl: string }): Promise<ReplicationBenchResult> {
  const durationMs = o.durationMs ?? 3000;
  const nFrames = o.frames ?? 1024;
  const perOp = Math.min(o.framesPerOp ?? 64, nFrames);
  const depth = o.depth ?? 8;
  const log = o.log ?? (() => {});
  const [a, b] = await Promise.all([
    startPageServer(o.pageServerEntry, "benchA", o.natsUrl),
    startPageServer(o.pageServerEntry, "benchB", o.natsUrl),
  ]);
  try {
    const frames = (await a.calls.call<unknown, AllocFramesReply__Output>("AllocFrames", { count: nFrames }))
      .frames;
    const r0 = await a.calls.call<unknown, FenceReply__Output>("ReplicateFrames", { peer: "benchB", frames });
    await b.calls.call("Fence", { fence: r0.fence, waitMs: 30_000 });
    const results: ReplicationFigures[] = [];
    for (const load of ["full", "delta"] as const) {
      let next = 0;
      let ops = 0;
      let last: FenceReply__Output["fence"] = null;
      const t0 = performance.now();
      const stopAt = t0 + durationMs;
      const worker = async () => {
        while (performance.now() < stopAt) {
          const chunk = Array.from({ length: perOp }, () => frames[next++ % frames.length]!);
          const r =
            load === "full"
              ? await a.calls.call<unknown, FenceReply__Output>("Publish", {
                  ranges: chunk.map((frame) => ({ frame, offset: 0, length: 4096 })),
                })
              : await a.calls.call<unknown, FenceReply__Output>("WriteFrames", {
                  writes: chunk.map((frame) => ({
                    frame,
                    offset: (ops * 16) % 4096,
                    data: Buffer.alloc(16, ops & 0xff),
                  })),
                  publish: true,
                });
          ops++;
          if (!last || Number(r.fence!.seq) > Number(last.seq)) last = r.fence;
        }
      };
      await Promise.all(Array.from({ length: depth }, worker));
      const st = await b.calls.call<unknown, FenceStatus__Output>("Fence", { fence: last, waitMs: 60_000 });
      const seconds = (performance.now() - t0) / 1000;
      const want = await a.calls.call<unknown, ReadFrameReply__Output>("ReadFrame", {
        frames: frames.slice(0, 64),
      });
      const got = await b.calls.call<unknown, ReadFrameReply__Output>("ReadFrame", {
        host: "benchA",
        frames: frames.slice(0, 64),
      });
      const verified = st.applied && want.data.every((d, i) => Buffer.compare(d, got.data[i]!) === 0);
      const pages = ops * perOp;
      const fig: ReplicationFigures = {
        load,
        ops,
        pages,
        seconds: Number(seconds.toFixed(3)),
        pages_per_s: Math.round(pages / seconds),
        mib_per_s: Number(((pages * (load === "full" ? 4096 : 16)) / seconds / 1048576).toFixed(1)),
        verified,
      };
      log(
        `replication ${load}: ${fig.pages_per_s} pages/s (${fig.mib_per_s} MiB/s payload), verified=${verified}`,
      );
      results.push(fig);
    }
    return {
      benchmark: "replication",
      machine: machineInfo(),
      duration_ms: durationMs,
      frames: nFrames,
      frames_per_op: perOp,
      depth,
      results,
    };
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
}
