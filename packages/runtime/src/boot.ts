import { serveBusMetrics } from "./bus-metrics.js";
import { serveBusTrace } from "./bus-trace.js";
import { startOtel, tracedCallClient, tracedCallServer } from "./otel.js";
import type * as grpc from "@grpc/grpc-js";
import {
  type CallClient,
  CallError,
  type CallPolicy,
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
  GrpcStatus,
  serveFaultControl,
  type TlsMaterial,
  type UnaryHandler,
} from "@xensim/bus";
import { ChaosPoints } from "@xensim/chaos";
import { serveChaosPoints } from "./chaos.js";
import {
  describeIdentity,
  inboxPrefix,
  linkPrincipalVerifier,
  serviceIdentity,
  setThreadLinkPrincipal,
} from "@xensim/security";
import { Counter, Registry } from "prom-client";
import { deepFreeze, parseConfig } from "./config.js";
import type { HealthReport } from "./http.js";
import { createLogger, type Logger } from "./log.js";
import type { Placement, RunningService, ServiceContext, ServiceModule } from "./service.js";

/**
 * A call server that serves in-process and, when asked, over gRPC too (mutual TLS with credentials),
 * with one fault controller and one authorisation policy checked before every handler.
 */
class PlacedCallServer implements CallServer {
  readonly faults: FaultController;
  private readonly inproc: CallServer;
  private readonly grpcServer: CallServer | undefined;
  private policy: CallPolicy | undefined;
  grpcAddress: string | undefined;
  constructor(
    name: string,
    grpcListen: string | undefined,
    seed: number | undefined,
    tls: TlsMaterial | undefined,
    private readonly refused: (method: string, reason: "unauthenticated" | "denied", detail: string) => void,
  ) {
    this.faults = createFaultController(seed);
    this.inproc = createInProcessCallServer({ name, faults: this.faults });
    this.grpcServer = grpcListen
      ? createGrpcCallServer({
          address: grpcListen,
          faults: this.faults,
          ...(tls ? { tls } : {}),
          onRefused: (method, detail) => this.refused(method, "unauthenticated", detail),
        })
      : undefined;
  }
  setPolicy(p: CallPolicy): void {
    this.policy = p;
  }
  addService(def: grpc.ServiceDefinition, impl: Record<string, UnaryHandler>): void {
    const guarded: Record<string, UnaryHandler> = {};
    for (const [k, h] of Object.entries(impl)) {
      const method = resolveMethodName(def, k);
      guarded[k] = async (req, ctx) => {
        const why = this.policy?.(method, req, ctx);
        if (why !== undefined) {
          this.refused(ctx.method, "denied", `${describeIdentity(ctx.identity)}: ${why}`);
          throw new CallError(GrpcStatus.PERMISSION_DENIED, `${method}: ${why}`);
        }
        return h(req, ctx);
      };
    }
    this.inproc.addService(def, guarded);
    this.grpcServer?.addService(def, guarded);
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

/** The method's name ("DomainCreate") for an impl key that may be the key or the original name. */
function resolveMethodName(def: grpc.ServiceDefinition, k: string): string {
  for (const [key, md] of Object.entries(def)) if (key === k || md.originalName === k) return key;
  return k;
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
  const security = placement.security;
  const identity = security?.identity ?? serviceIdentity(placement.hostId, placement.name);
  // OpenTelemetry spans when an OTLP endpoint is configured (the environment); none otherwise.
  const otel = startOtel({ service: placement.name, host: placement.hostId });
  const metrics = new Registry();
  metrics.setDefaultLabels({ svc: placement.name, host: placement.hostId });
  // Registered with the first refusal: a service nobody misuses shows none of them.
  let refusedTotal: Counter<"method" | "reason"> | undefined;
  let busRefusedTotal: Counter | undefined;
  const countRefused = (method: string, reason: string): void => {
    refusedTotal ??= new Counter({
      name: "xensim_calls_refused_total",
      help: "calls refused before their handler: unauthenticated (no credentials) or denied (not this caller's)",
      labelNames: ["method", "reason"],
      registers: [metrics],
    });
    refusedTotal.inc({ method, reason });
  };
  const countBusRefused = (): void => {
    busRefusedTotal ??= new Counter({
      name: "xensim_bus_refused_total",
      help: "publishes and subscriptions of this service that NATS refused under its permissions",
      registers: [metrics],
    });
    busRefusedTotal.inc();
  };
  if (placement.bus.kind === "nats" && !security?.natsSeed)
    log.warn(
      "NATS without credentials: anyone who reaches the server can publish as this service (xensim keys init)",
    );
  const bus: EventBus =
    placement.bus.kind === "nats"
      ? await connectNatsBus({
          servers: placement.bus.servers,
          name: `${placement.hostId}/${placement.name}`,
          // a loaded machine starting every worker at once (and signing each nkey handshake) can
          // take longer than the client's 5 s default to connect
          timeoutMs: 20_000,
          ...seedOpt,
          ...(security?.natsSeed ? { nkeySeed: security.natsSeed, inboxPrefix: inboxPrefix(identity) } : {}),
          onError: (err, m) => {
            if (err instanceof Error && err.message.startsWith("NATS refused")) {
              countBusRefused();
              log.warn({ err: err.message }, "NATS refused an operation of this service");
            } else log.warn({ err, subject: m.subject }, "bus subscription callback threw");
          },
        })
      : createInProcessBus({ name: placement.bus.name, ...seedOpt });
  const server = new PlacedCallServer(
    placement.name,
    placement.grpcListen,
    placement.seed,
    security?.tls,
    (method, reason, detail) => {
      countRefused(method.slice(method.lastIndexOf("/") + 1), reason);
      log.warn({ method, reason, detail }, "call refused");
    },
  );
  const components: Record<string, FaultController> = { bus: bus.faults, "calls.server": server.faults };
  const clients: CallClient[] = [];
  let peers = { ...placement.peers };
  const abort = new AbortController();
  const chaos = new ChaosPoints({ service: placement.name, now: Date.now, ...seedOpt });
  // clock.skewed: the service's wall clock runs delayMs ahead while the point is set (drawn and
  // recorded once per set); the fault records themselves keep the true time
  const skew = chaos.point("clock.skewed");
  let skewMs = 0;
  skew.onChange = (p) => {
    skewMs = 0;
    if (p.active) {
      const d = p.delay();
      if (p.hit("wall clock", { delayMs: d })) skewMs = d;
    }
  };
  const ctx: ServiceContext = {
    now: () => (skewMs === 0 ? Date.now() : Date.now() + skewMs),
    chaos,
    name: placement.name,
    hostId: placement.hostId,
    identity,
    ...(security?.tls ? { tls: security.tls } : {}),
    config: config as Readonly<unknown>,
    log,
    bus,
    metrics,
    signal: abort.signal,
    calls: {
      server: otel ? tracedCallServer(server) : server,
      client: (def, target) => {
        const addr = HOST_PORT.test(target) ? target : peers[target];
        const tls = security?.tls
          ? { ...security.tls, ...(HOST_PORT.test(target) ? {} : { expect: target }) }
          : undefined;
        const c = addr
          ? createGrpcCallClient(def, addr, { ...seedOpt, ...(tls ? { tls } : {}) })
          : createInProcessCallClient(def, target, { ...seedOpt, identity });
        clients.push(c);
        components[`calls.client.${target}.${clients.length}`] = c.faults;
        return otel ? tracedCallClient(c, def, target) : c;
      },
      authorize: (policy) => server.setPolicy(policy),
    },
  };
  if (placement.sharedMemory) ctx.sharedMemory = placement.sharedMemory;
  if (placement.mapperLedger) ctx.mapperLedger = placement.mapperLedger;
  if (placement.linkPrincipal) {
    // This thread's foreign maps are signed as this service's (the host's link thread verifies them).
    setThreadLinkPrincipal(placement.linkPrincipal);
    ctx.linkPrincipal = placement.linkPrincipal;
  }
  if (placement.linkHostSecret) ctx.linkPrincipals = linkPrincipalVerifier(placement.linkHostSecret);
  // the bus and call rules' faults go into the service's chaos record too, with their time
  const busKind: Record<string, string> = {
    "event/drop": "bus.event-lost",
    "event/duplicate": "bus.event-duplicated",
    "event/delay": "bus.event-delayed",
    "event/reorder": "bus.event-reordered",
    "call/latency": "call.delayed",
    "call/error": "call.failed",
  };
  for (const c of [bus.faults, server.faults])
    c.onRecord = (r) =>
      chaos.record({
        kind: busKind[`${r.plane}/${r.kind}`] ?? `${r.plane}.${r.kind}`,
        target: r.target,
        ...(r.delayMs !== undefined ? { delayMs: r.delayMs } : {}),
        ...(r.code !== undefined ? { code: r.code } : {}),
      });
  const control = serveFaultControl(bus, placement.name, components);
  const chaosControl = serveChaosPoints(bus, chaos);
  const busMetrics = serveBusMetrics(bus, placement.name, placement.hostId, metrics);
  const busTrace = serveBusTrace(bus, placement.name, placement.hostId);

  let running: RunningService;
  try {
    running = await mod.start(ctx);
    await server.listen();
  } catch (err) {
    control.stop();
    chaosControl.stop();
    busMetrics.stop();
    busTrace.stop();
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
          chaos.heal();
          control.stop();
          chaosControl.stop();
          busMetrics.stop();
          busTrace.stop();
          for (const c of clients) c.close();
          await server.close();
          await bus.close();
          await otel?.shutdown();
        }
      })();
      return stopping;
    },
  };
}
