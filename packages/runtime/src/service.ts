import type * as grpc from "@grpc/grpc-js";
import type { CallClient, CallPolicy, CallServer, EventBus, TlsMaterial } from "@xensim/bus";
import type { ChaosPoints } from "@xensim/chaos";
import type { Identity, LinkPrincipal, LinkPrincipalVerifier } from "@xensim/security";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { z } from "zod";
import type { HealthReport } from "./http.js";

export interface ServiceCalls {
  /** This service's call server: add services in start(); the runtime listens after start() returns. */
  server: CallServer;
  /** A client for another service: by service name (in-process or via the peers map) or "host:port" (gRPC). */
  client(def: grpc.ServiceDefinition, target: string): CallClient;
  /**
   * Checks every call this service serves (in-process and gRPC) before its handler: a refusal is
   * PERMISSION_DENIED with the policy's reason, logged and counted in `xensim_calls_refused_total`.
   */
  authorize(policy: CallPolicy): void;
}

export interface ServiceContext<C = unknown> {
  name: string;
  hostId: string;
  /** Who this service is to its peers (its certificate's identity when it has credentials). */
  identity: Identity;
  /**
   * This service's certificate, key and the deployment's CA when the host has credentials (`xensim
   * keys init`), for transports of its own (the page-server's data-plane link runs mutual TLS with
   * them); undefined = insecure transports.
   */
  tls?: TlsMaterial;
  /** The service's config, parsed by its configSchema when it has one; deeply frozen. */
  config: Readonly<C>;
  log: Logger;
  bus: EventBus;
  calls: ServiceCalls;
  /** Per-service registry; default labels {svc, host}. */
  metrics: Registry;
  /** The host process's page store, shared by all services of the host. */
  sharedMemory?: SharedArrayBuffer;
  /**
   * This worker's link principal: its service name and the key its host derived for it (the runtime
   * has already made it this thread's; give it to threads of the service's own with
   * setThreadLinkPrincipal so that their foreign maps name the service too).
   */
  linkPrincipal?: LinkPrincipal;
  /**
   * The page-server only: verifies the signatures of this host's workers on their foreign-map
   * requests (give it to the link engine as `principals`).
   */
  linkPrincipals?: LinkPrincipalVerifier;
  /**
   * This worker's mapper ledger (give it to XenCtrl as `mapperLedger`): the grant handles it holds,
   * which the host unmaps if the worker dies holding them. Present in a host with shared memory.
   */
  mapperLedger?: SharedArrayBuffer;
  /**
   * The service's wall clock in ms (Date.now, unless chaos's clock.skewed sets it ahead). Use it
   * for wall-clock time the service keeps (timeouts of queued events, start times), not for
   * measuring durations.
   */
  now(): number;
  /** Aborted when the service is asked to stop. */
  signal: AbortSignal;
  /** The service's fault points (served on xensim.chaos.svc.<name>); adapters take theirs by kind. */
  chaos: ChaosPoints;
}

export interface RunningService {
  stop(): Promise<void>;
  health?(): HealthReport;
}

export interface ServiceModule<C = unknown> {
  name: string;
  /** When given, the runtime parses the config with it (file < env < argv < host config) before start. */
  configSchema?: z.ZodType<C>;
  start(ctx: ServiceContext<C>): Promise<RunningService>;
}

/** How a service is placed; the host hands it to a worker as workerData.xensim. */
export interface Placement {
  hostId: string;
  name: string;
  config?: unknown;
  sharedMemory?: SharedArrayBuffer;
  /** The worker's mapper ledger (see ServiceContext.mapperLedger). */
  mapperLedger?: SharedArrayBuffer;
  /** The worker's link principal (see ServiceContext.linkPrincipal). */
  linkPrincipal?: LinkPrincipal;
  /** The page-server only: the host's secret its workers' link keys derive from. */
  linkHostSecret?: Uint8Array;
  /** In-process bus name, or NATS servers. */
  bus: { kind: "inprocess"; name: string } | { kind: "nats"; servers: string[] };
  /** Also serve calls over gRPC at this address ("127.0.0.1:0" for any port). */
  grpcListen?: string;
  /** Service name → "host:port" for gRPC targets outside this process. */
  peers?: Record<string, string>;
  seed?: number;
  logLevel?: string;
  /**
   * This service's credentials: mutual TLS for gRPC (serve and call), an nkey for NATS. Absent =
   * insecure transports (embedded placements, tests); the identity is then still this service's
   * for in-process calls.
   */
  security?: { identity: Identity; tls?: TlsMaterial; natsSeed?: string };
}

/** Messages between a host (main thread) and a service worker. */
export type HostToWorker =
  | { type: "stop" }
  /** Exit now, without the stop hook (a crash, at a task boundary). */
  | { type: "crash" }
  /** Freeze the thread (a SIGSTOP of the worker): it blocks while flag[0] is 1. */
  | { type: "pause"; flag: SharedArrayBuffer }
  | { type: "health"; id: number }
  | { type: "metrics"; id: number }
  | { type: "peers"; peers: Record<string, string> };
export type WorkerToHost =
  | { type: "ready"; grpcAddress?: string }
  | { type: "failed"; message: string; stack?: string }
  | { type: "stopped" }
  | { type: "health"; id: number; report: HealthReport }
  | { type: "metrics"; id: number; metrics: unknown };
