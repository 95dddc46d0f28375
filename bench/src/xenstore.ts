// `xensim bench xenstore`: operations/s and latency of read, write and a read-modify-write
// transaction, over the unix socket, the in-process call path and gRPC, beside a raw unix-socket
// ping-pong measured in the same run (the physical floor of a request/response on this machine).
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { type CallClient, createGrpcCallClient, createInProcessBus } from "@xensim/bus";
import { loadXenstoreProto } from "@xensim/proto";
import { XenstoreClient, XsSessionTransport, XsSocketTransport } from "@xensim/xenstore-client";
import { machineInfo, measure, type OpFigures } from "./stats.js";

export interface XenstoreBenchOptions {
  /** Path of the xensim command's main.js (the bench starts xenstored with it). */
  xensimBin: string;
  /** Measuring time per (transport, operation), ms. */
  durationMs?: number;
  /** Transports to run (default all). */
  transports?: Array<"unix-socket" | "grpc" | "in-process">;
  /** Starts an embedded host running xenstored and returns a call client for it (the in-process path). */
  inProcess?: () => Promise<{ calls: CallClient; stop: () => Promise<void> }>;
  log?: (line: string) => void;
}

export interface XenstoreBenchResult {
  benchmark: "xenstore";
  machine: Record<string, unknown>;
  duration_ms: number;
  floor: { transport: "raw-unix-socket-pingpong"; figures: OpFigures };
  results: Array<{
    transport: string;
    op: "read" | "write" | "rmw-transaction";
    figures: OpFigures;
    vs_floor_p50: number;
  }>;
}

const PINGPONG_SERVER = `
const net = require("node:net");
const path = process.argv[1];
const srv = net.createServer((s) => {
  let buf = Buffer.alloc(0);
  s.on("data", (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 16) {
      const len = buf.readUInt32LE(12);
      if (buf.length < 16 + len) break;
      s.write(buf.subarray(0, 16 + len));
      buf = buf.subarray(16 + len);
    }
  });
});
srv.listen(path, () => process.stdout.write("ready\\n"));
`;

async function waitForFile(path: string, proc: ChildProcess, what: string): Promise<void> {
  const end = Date.now() + 20_000;
  while (!existsSync(path)) {
    if (proc.exitCode !== null) throw new Error(`${what} exited early`);
    if (Date.now() > end) throw new Error(`${what} did not start`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function rawPingPong(dir: string, durationMs: number): Promise<OpFigures> {
  const path = join(dir, "pingpong.sock");
  const proc = spawn(process.execPath, ["-e", PINGPONG_SERVER, path], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    await waitForFile(path, proc, "ping-pong server");
    const net = await import("node:net");
    const sock = net.connect(path);
    await new Promise((r) => sock.once("connect", r));
    const msg = Buffer.alloc(16 + 12);
    msg.writeUInt32LE(2, 0);
    msg.writeUInt32LE(12, 12);
    msg.write("/bench/key\0", 16);
    let waiter: (() => void) | null = null;
    let got = 0;
    sock.on("data", (d: Buffer) => {
      got += d.length;
      if (got >= msg.length) {
        got -= msg.length;
        const w = waiter;
        waiter = null;
        w?.();
      }
    });
    const figures = await measure(durationMs, () => {
      return new Promise<void>((resolve) => {
        waiter = resolve;
        sock.write(msg);
      });
    });
    sock.destroy();
    return figures;
  } finally {
    proc.kill("SIGTERM");
  }
}

async function opsOn(
  transport: string,
  client: XenstoreClient,
  durationMs: number,
  floorP50: number,
  out: XenstoreBenchResult["results"],
  log: (l: string) => void,
): Promise<void> {
  await client.write("/bench/key", "0123456789");
  await client.write("/bench/counter", "0");
  const ops: Array<[XenstoreBenchResult["results"][number]["op"], () => Promise<unknown>]> = [
    ["read", () => client.read("/bench/key")],
    ["write", () => client.write("/bench/key", "0123456789")],
    [
      "rmw-transaction",
      () =>
        client.transaction(async (tx) => {
          const n = Number(await tx.read("/bench/counter"));
          await tx.write("/bench/counter", String(n + 1));
        }),
    ],
  ];
  // gRPC and the JIT take a while to reach a steady state: warm every operation up first.
  const warmEnd = performance.now() + Math.min(1500, durationMs);
  while (performance.now() < warmEnd) for (const [, fn] of ops) await fn();
  for (const [op, fn] of ops) {
    const figures = await measure(durationMs, fn);
    out.push({ transport, op, figures, vs_floor_p50: Math.round((figures.p50_us / floorP50) * 100) / 100 });
    log(
      `${transport.padEnd(12)} ${op.padEnd(16)} ${String(figures.ops_per_s).padStart(8)} ops/s  p50 ${figures.p50_us} µs  p99 ${figures.p99_us} µs`,
    );
  }
}

export async function runXenstoreBench(opts: XenstoreBenchOptions): Promise<XenstoreBenchResult> {
  const durationMs = opts.durationMs ?? 2000;
  const log = opts.log ?? (() => {});
  const transports = opts.transports ?? ["unix-socket", "grpc", "in-process"];
  const dir = mkdtempSync(join(tmpdir(), "xensim-bench-xs-"));
  const results: XenstoreBenchResult["results"] = [];
  let xenstored: ChildProcess | null = null;
  try {
    const floor = await rawPingPong(dir, durationMs);
    log(
      `${"raw-socket".padEnd(12)} ${"ping-pong".padEnd(16)} ${String(floor.ops_per_s).padStart(8)} ops/s  p50 ${floor.p50_us} µs  p99 ${floor.p99_us} µs`,
    );

    if (transports.includes("unix-socket") || transports.includes("grpc")) {
      const socket = join(dir, "xenstored.sock");
      const port = await freeLoopbackPort();
      xenstored = spawn(
        process.execPath,
        [opts.xensimBin, "xenstored", "--socket", socket, "--grpc", `127.0.0.1:${port}`, "--insecure"],
        { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, XENSIM_LOG_LEVEL: "warn" } },
      );
      await waitForFile(socket, xenstored, "xenstored");
      if (transports.includes("unix-socket")) {
        const client = new XenstoreClient(await XsSocketTransport.connect(socket));
        await opsOn("unix-socket", client, durationMs, floor.p50_us, results, log);
        await client.close();
      }
      if (transports.includes("grpc")) {
        const def = loadXenstoreProto().xensim.xenstore.v1.Xenstore.service;
        const calls = createGrpcCallClient(def, `127.0.0.1:${port}`);
        const bus = createInProcessBus();
        const client = new XenstoreClient(
          await XsSessionTransport.connect(calls, bus, { clientName: "bench" }),
        );
        await opsOn("grpc", client, durationMs, floor.p50_us, results, log);
        await client.close();
        calls.close();
        await bus.close();
      }
    }
    if (transports.includes("in-process") && opts.inProcess) {
      const host = await opts.inProcess();
      const bus = createInProcessBus();
      const client = new XenstoreClient(
        await XsSessionTransport.connect(host.calls, bus, { clientName: "bench" }),
      );
      await opsOn("in-process", client, durationMs, floor.p50_us, results, log);
      await client.close();
      await bus.close();
      await host.stop();
    }
    return {
      benchmark: "xenstore",
      machine: { ...machineInfo(), cpus: cpus().length },
      duration_ms: durationMs,
      floor: { transport: "raw-unix-socket-pingpong", figures: floor },
      results,
    };
  } finally {
    xenstored?.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
}

async function freeLoopbackPort(): Promise<number> {
  const net = await import("node:net");
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const a = srv.address();
      const port = typeof a === "object" && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function writeJson(path: string, data: unknown): void {
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
}
