import { serveBusMetrics } from "./bus-metrics.js";
import type * as grpc from "@grpc/grpc-js";
import {
  type CallClient,
  type CallServer,
  connectNatsBus,
  createFaultController,
  createGrpcCallClient,
  createGrpcCallServer,
  createInProcessBus,
  createInProcessCallClient,
  createInProcessCallServer,
  type EventBus,
  type FaultController,
  serveFaultControl,
  type UnaryHandler,
} from "@xensim/bus";
import { Registry } from "prom-client";
import { deepFreeze, parseConfig } from "./config.js";
import type { HealthReport } from "./http.js";
import { createLogger, type Logger } from "./log.js";
import type { Placement, RunningService, ServiceContext, ServiceModule } from "./service.js";

/** A call server that serves in-process and, when asked, over gRPC too, with one fault controller. */
class PlacedCallServer implements CallServer {
  readonly faults: FaultController;
  private readonly inproc: CallServer;
  private readonly grpcServer: CallServer | undefined;
  grpcAddress: string | undefined;
  constructor(name: string, grpcListen: string | undefined, seed: number | undefined) {
    this.faults = createFaultController(seed);
    this.inproc = createInProcessCallServer({ name, faults: this.faults });
    this.grpcServer = grpcListen
      ? createGrpcCallServer({ address: grpcListen, faults: this.faults })
      : undefined;
  }
  addService(def: grpc.ServiceDefinition, impl: Record<string, UnaryHandler>): void {
    this.inproc.addService(def, impl);
    this.grpcServer?.addService(def, impl);
  }
  async listen(): Promise<string> {
    const a = await this.inproc.listen();
    if (this.grpcServer) {
      this.grpcAddress = await this.grpcServer.listen();
      return this.grpcAddress;
    }
    return a;
  }
  async close(): Promise<void> {
    await Promise.all([this.inproc.close(), this.grpcServer?.close()]);
  }
}

export interface BootedService {
  ctx: ServiceContext;
  running: RunningService;
  grpcAddress: string | undefined;
  health(): HealthReport;
  setPeers(peers: Record<string, string>): void;
  shutdown(): Promise<void>;
}

export interface BootExtras {
  argv?: readonly string[];
  env?: Record<string, string | undefined>;
  configFile?: string;
  log?: Logger;
}

const HOST_PORT = /^[^\s:/]+:\d+$|^\[[0-9a-fA-F:]+\]:\d+$/;

/** Builds a service's context from its placement, starts it, and starts serving its calls. */
export async function bootService(
  mod: ServiceModule,
  placement: Placement,
  extras: BootExtras = {},
): Promise<BootedService> {
  const log =
    extras.log ??
    createLogger({
      svc: placement.name,
      host: placement.hostId,
      ...(placement.logLevel ? { level: placement.logLevel } : {}),
    });
  const config = mod.configSchema
    ? parseConfig(mod.configSchema, {
        file: extras.configFile,
        env: extras.env,
        argv: extras.argv,
        overrides: placement.config,
      })
    : deepFreeze(structuredClone(placement.config ?? {}));
  const seedOpt = placement.seed !== undefined ? { seed: placement.seed } : {};
  const bus: EventBus =
    placement.bus.kind === "nats"
      ? await connectNatsBus({
          servers: placement.bus.servers,
          name: `${placement.hostId}/${placement.name}`,
          ...seedOpt,
        })
      : createInProcessBus({ name: placement.bus.name, ...seedOpt });
  const server = new PlacedCallServer(placement.name, placement.grpcListen, placement.seed);
  const components: Record<string, FaultController> = { bus: bus.faults, "calls.server": server.faults };
  const clients: CallClient[] = [];
  let peers = { ...placement.peers };
  const metrics = new Registry();
  metrics.setDefaultLabels({ svc: placement.name, host: placement.hostId });
  const abort = new AbortController();
  const ctx: ServiceContext = {
    name: placement.name,
    hostId: placement.hostId,
    config: config as Readonly<unknown>,
    log,
    bus,
    metrics,
    signal: abort.signal,
    calls: {
      server,
      client: (def, target) => {
        const addr = HOST_PORT.test(target) ? target : peers[target];
        const c = addr
          ? createGrpcCallClient(def, addr, seedOpt)
          : createInProcessCallClient(def, target, seedOpt);
        clients.push(c);
        components[`calls.client.${target}.${clients.length}`] = c.faults;
        return c;
      },
    },
  };
  if (placement.sharedMemory) ctx.sharedMemory = placement.sharedMemory;
  const control = serveFaultControl(bus, placement.name, components);
  const busMetrics = serveBusMetrics(bus, placement.name, placement.hostId, metrics);

  let running: RunningService;
  try {
    running = await mod.start(ctx);
    await server.listen();
  } catch (err) {
    control.stop();
    busMetrics.stop();
    await server.close().catch(() => {});
    await bus.close().catch(() => {});
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    ctx,
    running,
    grpcAddress: server.grpcAddress,
    health: () => (running.health ? running.health() : { status: "ok" }),
    setPeers: (p) => {
      peers = { ...peers, ...p };
    },
    shutdown: () => {
      stopping ??= (async () => {
        abort.abort();
        try {
          await running.stop();
        } finally {
          control.stop();
          busMetrics.stop();
          for (const c of clients) c.close();
          await server.close();
          await bus.close();
        }
      })();
      return stopping;
    },
  };
}
