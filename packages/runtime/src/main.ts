import { hostname } from "node:os";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { z } from "zod";
import { type BootedService, bootService } from "./boot.js";
import { parseConfig } from "./config.js";
import { buildHttpApp } from "./http.js";
import { createLogger } from "./log.js";
import type { HostToWorker, Placement, ServiceModule, WorkerToHost } from "./service.js";
import { loadCredentials } from "@xensim/security";

/** Flags and variables (XENSIM_*) a standalone service process understands. */
export const StandaloneOptions = z.object({
  hostId: z.string().default(hostname()),
  /** NATS url(s); without it the bus is in-process (useful only alone or in tests). */
  nats: z.string().optional(),
  /** gRPC listen address; default 127.0.0.1:0 when NATS is used. */
  grpcListen: z.string().optional(),
  /** JSON object: service name → "host:port". */
  peers: z.record(z.string(), z.string()).default({}),
  httpPort: z.number().int().min(0).max(65535).optional(),
  httpHost: z.string().default("127.0.0.1"),
  /** JSON config file for the service. */
  config: z.string().optional(),
  sharedMemoryBytes: z.number().int().min(0).default(0),
  logLevel: z.string().default("info"),
  seed: z.number().int().optional(),
  /** A credentials directory (`xensim keys init`): mutual TLS for gRPC, an nkey for NATS. */
  keys: z.string().optional(),
});

/** How runServiceMain found itself: as a worker of a host, or as its own process. */
export function placementFromWorkerData(): Placement | undefined {
  if (isMainThread) return undefined;
  const wd = workerData as { xensim?: Placement } | undefined;
  return wd?.xensim;
}

/**
 * The whole of a service's main.ts: `runServiceMain(mod)`. In a host's worker thread it takes the bus,
 * shared memory and config from workerData and answers the host; as its own process it builds them
 * from argv/env, serves /healthz and /metrics, and stops cleanly on SIGTERM/SIGINT (exit 0).
 */
export async function runServiceMain(mod: ServiceModule): Promise<void> {
  const placement = placementFromWorkerData();
  if (placement) return runAsWorker(mod, placement);
  return runStandalone(mod);
}

function post(m: WorkerToHost): void {
  parentPort?.postMessage(m);
}

async function runAsWorker(mod: ServiceModule, placement: Placement): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error("runServiceMain: worker without parentPort");
  // The parentPort listener holds the worker's event loop open (a pending Atomics.waitAsync would not).
  let booted: BootedService | undefined;
  let stopRequested = false;
  const stop = async (): Promise<void> => {
    if (stopRequested) return;
    stopRequested = true;
    let code = 0;
    try {
      await booted?.shutdown();
    } catch (err) {
      code = 1;
      post({ type: "failed", message: `stop failed: ${String((err as Error)?.message ?? err)}` });
    }
    // A worker's stdout is a stream to the main thread: let the last log lines through before
    // the thread ends, or `process.exit` may drop them.
    await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
    post({ type: "stopped" });
    port.close();
    process.exit(code);
  };
  port.on("message", (m: HostToWorker) => {
    switch (m.type) {
      case "stop":
        void stop();
        return;
      case "crash":
        // A crash as every peer sees it (no stop hook, nothing closed), but between tasks: never
        // inside a synchronous hypercall, which here runs in the caller's thread and would leave
        // a grant-table or event-channel lock of the shared memory held.
        process.exit(137);
        return;
      case "health": {
        let report: ReturnType<BootedService["health"]>;
        try {
          report = booted ? booted.health() : { status: "down", detail: "starting" };
        } catch (err) {
          report = { status: "down", error: String(err) };
        }
        post({ type: "health", id: m.id, report });
        return;
      }
      case "metrics":
        void (booted?.ctx.metrics.getMetricsAsJSON() ?? Promise.resolve([])).then((metrics) =>
          post({ type: "metrics", id: m.id, metrics }),
        );
        return;
      case "peers":
        booted?.setPeers(m.peers);
        return;
    }
  });
  try {
    booted = await bootService(mod, placement);
  } catch (err) {
    const e = err as Error;
    post({
      type: "failed",
      message: `${mod.name}: start failed: ${e?.message ?? String(err)}`,
      ...(e?.stack ? { stack: e.stack } : {}),
    });
    port.close();
    process.exit(1);
  }
  booted.ctx.log.info({ event: "ready", grpc: booted.grpcAddress }, `${mod.name} ready`);
  post({ type: "ready", ...(booted.grpcAddress ? { grpcAddress: booted.grpcAddress } : {}) });
  if (stopRequested) await booted.shutdown();
}

async function runStandalone(mod: ServiceModule): Promise<void> {
  const argv = process.argv.slice(2);
  const opts = parseConfig(StandaloneOptions, { argv, env: process.env });
  const log = createLogger({ svc: mod.name, host: opts.hostId, level: opts.logLevel });
  const placement: Placement = {
    hostId: opts.hostId,
    name: mod.name,
    bus: opts.nats
      ? { kind: "nats", servers: opts.nats.split(",") }
      : { kind: "inprocess", name: `standalone-${process.pid}` },
    peers: { ...opts.peers },
    logLevel: opts.logLevel,
  };
  const grpcListen = opts.grpcListen ?? (opts.nats ? "127.0.0.1:0" : undefined);
  if (grpcListen) placement.grpcListen = grpcListen;
  if (opts.seed !== undefined) placement.seed = opts.seed;
  if (opts.sharedMemoryBytes > 0) placement.sharedMemory = new SharedArrayBuffer(opts.sharedMemoryBytes);
  if (opts.keys !== undefined) {
    const c = loadCredentials(opts.keys, { host: opts.hostId, service: mod.name });
    placement.security = {
      identity: c.identity,
      tls: { ca: c.ca, cert: c.tls.cert, key: c.tls.key },
      natsSeed: c.natsSeed,
    };
  }
  let booted: BootedService;
  try {
    booted = await bootService(mod, placement, {
      argv,
      env: process.env,
      ...(opts.config ? { configFile: opts.config } : {}),
      log,
    });
  } catch (err) {
    log.fatal({ err }, `${mod.name}: start failed`);
    process.exit(1);
  }
  const app = buildHttpApp({ health: () => booted.health(), registry: booted.ctx.metrics });
  let httpAddress: string | undefined;
  if (opts.httpPort !== undefined)
    httpAddress = await app.listen({ port: opts.httpPort, host: opts.httpHost });
  log.info({ event: "ready", grpc: booted.grpcAddress, http: httpAddress }, `${mod.name} ready`);
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info({ event: "stopping", signal: sig }, `${mod.name} stopping on ${sig}`);
    void (async () => {
      let code = 0;
      try {
        await app.close();
        await booted.shutdown();
      } catch (err) {
        code = 1;
        log.error({ err }, "stop failed");
      }
      log.info({ event: "stopped" }, `${mod.name} stopped`);
      process.exit(code);
    })();
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
}
