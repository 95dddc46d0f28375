import { hostname } from "node:os";
import { Worker } from "node:worker_threads";
import {
  inboxPrefix,
  linkPrincipalKey,
  loadCredentials,
  newLinkHostSecret,
  serviceIdentity,
  serviceKind,
} from "@xensim/security";
import { CHAOS_SUBJECTS } from "@xensim/subjects";
import { connectNatsBus, createInProcessBus, type EventBus } from "@xensim/bus";
import { EventChannels } from "@xensim/evtchn";
import { GrantTables, MapperLedger } from "@xensim/gnttab";
import { PageStore } from "@xensim/memory";
import { AggregatorRegistry } from "prom-client";
import { serveHostChaos } from "./chaos.js";
import { buildHttpApp, type HealthReport } from "./http.js";
import { createLogger, type Logger } from "./log.js";
import type { HostToWorker, Placement, WorkerToHost } from "./service.js";

export interface HostServiceSpec {
  name: string;
  /** Path (or file: URL) of a compiled main.js that calls runServiceMain. */
  entry: string | URL;
  config?: unknown;
}

export interface HostOptions {
  hostId?: string;
  services: HostServiceSpec[];
  /** Size of the host's page store (default 16 MiB). */
  sharedMemoryBytes?: number;
  /** NATS url(s): events go over NATS, and each service also serves gRPC on 127.0.0.1:0. */
  nats?: string;
  /**
   * With `nats`: where a service serves gRPC instead of 127.0.0.1:0 (`{ hypervisor: "0.0.0.0:7101" }`),
   * so that host processes elsewhere reach it. A service restarted by `restartService` serves on
   * the address its previous worker had either way: callers in other host processes reconnect to
   * the address they were given.
   */
  grpcListen?: Record<string, string>;
  /**
   * A credentials directory (`xensim keys init`): each service gets its certificate (gRPC with
   * mutual TLS, calls authorised by the peer's identity) and its NATS nkey (subject permissions).
   * Absent = insecure transports; a NATS host then logs a warning per service.
   */
  keysDir?: string;
  /** Serve /healthz and /metrics for the whole host (port 0 = any). */
  http?: { port: number; host?: string };
  log?: Logger;
  logLevel?: string;
  seed?: number;
  /** How long a service may take to stop before its worker is terminated (default 10 s). */
  stopTimeoutMs?: number;
  /** How long all services may take to become ready (default 30 s). */
  readyTimeoutMs?: number;
}

export type HostedState = "starting" | "ready" | "stopping" | "stopped" | "failed" | "killed";

export interface HostedService {
  readonly name: string;
  readonly state: HostedState;
  readonly threadId: number;
  readonly grpcAddress?: string | undefined;
}

export interface HostFailure {
  service: string;
  message: string;
  exitCode?: number;
}

export interface HostHandle {
  readonly hostId: string;
  readonly sharedMemory: SharedArrayBuffer;
  /** Name of the in-process bus the services share (to join it from the host thread, e.g. in tests). */
  readonly busName: string;
  /** Resolves when every service is ready; rejects (naming the service) if one fails first. */
  readonly ready: Promise<void>;
  /** Resolves after a clean stop(); rejects when a service fails. */
  readonly done: Promise<void>;
  readonly services: ReadonlyMap<string, HostedService>;
  readonly failures: readonly HostFailure[];
  readonly httpAddress?: string | undefined;
  onFailure(cb: (f: HostFailure) => void): void;
  health(): Promise<HealthReport>;
  metrics(): Promise<{ contentType: string; body: string }>;
  /**
   * Restarts one service in a fresh worker with the same entry and config, sharing the same memory
   * and bus: `kill` crashes the worker (it exits at its next task boundary with no stop hook; one
   * that does not within 2 s is terminated), otherwise it is asked to stop first. Resolves when the new worker is ready. A fault point for chaos tests.
   */
  restartService(name: string, opts?: { kill?: boolean }): Promise<void>;
  /** Freezes a service's worker thread until resumeService (chaos: service.paused). */
  pauseService(name: string): void;
  /** Unfreezes one paused service, or every one. */
  resumeService(name?: string): void;
  /** Stops services in reverse start order; idempotent. */
  stop(): Promise<void>;
}

class Hosted implements HostedService {
  state: HostedState = "starting";
  grpcAddress: string | undefined;
  readonly pending = new Map<number, (v: unknown) => void>();
  exited = false;
  /** Set while the worker is frozen (chaos: service.paused); the worker blocks while [0] is 1. */
  pauseFlag: Int32Array | undefined;
  onReady: (() => void) | undefined;
  readonly exit: Promise<number>;
  constructor(
    readonly name: string,
    readonly worker: Worker,
    /** The grant handles this worker holds (released by the host if it dies holding them). */
    readonly ledger: MapperLedger,
  ) {
    this.exit = new Promise((resolve) => worker.once("exit", resolve));
  }
  get threadId(): number {
    return this.worker.threadId;
  }
  send(m: HostToWorker): void {
    if (!this.exited) this.worker.postMessage(m);
  }
}

function deferred<T>(): { p: Promise<T>; resolve: (v: T) => void; reject: (e: Error) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const p = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  p.catch(() => {}); // reported through the log and onFailure; awaiting it still throws
  return { p, resolve, reject };
}

let hostCounter = 0;

/**
 * One host process: every service in its own worker thread, one SharedArrayBuffer shared by all,
 * in-process bus and calls (NATS for events when `nats` is given). A worker that dies or fails is
 * logged at fatal level, reported through onFailure, rejects `ready`/`done`, and the host stops the rest.
 */
export async function startHost(opts: HostOptions): Promise<HostHandle> {
  const hostId = opts.hostId ?? hostname();
  const log =
    opts.log ??
    createLogger({ svc: "host", host: hostId, ...(opts.logLevel ? { level: opts.logLevel } : {}) });
  const sharedMemory = new SharedArrayBuffer(opts.sharedMemoryBytes ?? 16 * 1024 * 1024);
  const busName = `host-${hostId}-${process.pid}-${++hostCounter}`;
  const services = new Map<string, Hosted>();
  const order: Hosted[] = [];
  const failures: HostFailure[] = [];
  const failureListeners: Array<(f: HostFailure) => void> = [];
  const ready = deferred<void>();
  const done = deferred<void>();
  let stopping: Promise<void> | undefined;
  let nextReq = 1;

  const names = new Set<string>();
  for (const s of opts.services) {
    if (names.has(s.name)) throw new Error(`startHost: service '${s.name}' listed twice`);
    names.add(s.name);
  }

  const fail = (f: HostFailure): void => {
    if (stopping && f.exitCode === undefined) return;
    failures.push(f);
    log.fatal(
      { event: "service-failed", service: f.service, exitCode: f.exitCode },
      `service ${f.service} failed: ${f.message}`,
    );
    for (const cb of failureListeners) {
      try {
        cb(f);
      } catch {
        // a listener's problem is not the host's
      }
    }
    const err = new Error(`service ${f.service} failed: ${f.message}`);
    ready.reject(err);
    done.reject(err);
    void stop();
  };

  const broadcastPeers = (): void => {
    const peers: Record<string, string> = {};
    for (const h of services.values()) if (h.grpcAddress) peers[h.name] = h.grpcAddress;
    for (const h of services.values()) h.send({ type: "peers", peers });
  };

  const checkReady = (): void => {
    if ([...services.values()].every((h) => h.state === "ready")) {
      if (opts.nats) broadcastPeers();
      log.info({ event: "host-ready", services: [...services.keys()] }, "host ready");
      ready.resolve();
    }
  };

  const credentialsOf = (name: string): NonNullable<Placement["security"]> => {
    if (opts.keysDir === undefined) return { identity: serviceIdentity(hostId, name) };
    const c = loadCredentials(opts.keysDir, { host: hostId, service: name });
    return {
      identity: c.identity,
      tls: { ca: c.ca, cert: c.tls.cert, key: c.tls.key },
      natsSeed: c.natsSeed,
    };
  };
  // credentials are checked before any worker starts: a missing one names the service and host
  for (const s of opts.services) credentialsOf(s.name);

  // the host's place on the chaos plane (set below): also where it says that a worker exited
  let chaosBus: EventBus | undefined;
  const enc = new TextEncoder();
  // The host's secret for its workers' link principals (link-principal.ts of @xensim/security): each
  // worker gets its service's key, the page-server the secret, to verify who asks for a foreign map.
  const linkHostSecret = newLinkHostSecret();
  const spawn = (spec: HostOptions["services"][number], grpcListen?: string): Hosted => {
    const ledger = MapperLedger.create();
    const placement: Placement = {
      hostId,
      name: spec.name,
      config: spec.config,
      sharedMemory,
      mapperLedger: ledger.buffer,
      linkPrincipal: { service: spec.name, key: linkPrincipalKey(linkHostSecret, spec.name) },
      ...(serviceKind(spec.name) === "page-server" ? { linkHostSecret } : {}),
      bus: opts.nats ? { kind: "nats", servers: opts.nats.split(",") } : { kind: "inprocess", name: busName },
      ...(opts.nats ? { grpcListen: grpcListen ?? opts.grpcListen?.[spec.name] ?? "127.0.0.1:0" } : {}),
      ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
      ...(opts.logLevel ? { logLevel: opts.logLevel } : {}),
      security: credentialsOf(spec.name),
    };
    const worker = new Worker(spec.entry, { workerData: { xensim: placement }, name: spec.name });
    const h = new Hosted(spec.name, worker, ledger);
    const thread = worker.threadId; // -1 once it exited
    worker.on("message", (m: WorkerToHost) => {
      switch (m.type) {
        case "ready":
          h.state = "ready";
          h.grpcAddress = m.grpcAddress;
          h.onReady?.();
          checkReady();
          return;
        case "failed":
          h.state = "failed";
          fail({ service: h.name, message: m.message });
          return;
        case "stopped":
          h.state = "stopped";
          return;
        case "health":
          h.pending.get(m.id)?.(m.report);
          h.pending.delete(m.id);
          return;
        case "metrics":
          h.pending.get(m.id)?.(m.metrics);
          h.pending.delete(m.id);
          return;
      }
    });
    worker.on("error", (err) => {
      if (h.state === "killed") return;
      h.state = "failed";
      fail({ service: h.name, message: `uncaught: ${err?.stack ?? String(err)}` });
    });
    worker.on("exit", (code) => {
      h.exited = true;
      releaseMappings(h);
      // its in-process xenstore sessions (and their watches) go now, not when their lease runs out
      try {
        chaosBus?.publish(
          CHAOS_SUBJECTS.workerExited(hostId),
          enc.encode(JSON.stringify({ service: h.name, thread, code })),
        );
      } catch {
        // a bus already closed (the host is stopping): nobody is left to tell
      }
      for (const r of h.pending.values()) r(undefined);
      h.pending.clear();
      if (h.state === "killed") return;
      if (h.state === "stopped" || (h.state === "stopping" && code === 0)) {
        h.state = "stopped";
        return;
      }
      const was = h.state;
      h.state = "failed";
      if (was !== "failed")
        fail({ service: h.name, message: `worker exited with code ${code} while ${was}`, exitCode: code });
    });
    return h;
  };

  for (const spec of opts.services) {
    const h = spawn(spec);
    services.set(spec.name, h);
    order.push(h);
  }

  // A worker that died holding grant mappings (killed, crashed, terminated) never unmaps them: the
  // host does, from its ledger, as gntdev's release does for a dead process and Xen for a dead
  // mapper's maptrack. Else the granter's pins stay and a destroyed guest lingers dying for good.
  let tables: { gt: GrantTables; ev: EventChannels } | undefined;
  const releaseMappings = (h: Hosted): void => {
    if (h.ledger.held().length === 0 && h.ledger.heldPorts().length === 0) return;
    try {
      const store = PageStore.attach(sharedMemory);
      // closing a port sends no event: the table needs no notify of its own here
      tables ??= { gt: new GrantTables(store), ev: new EventChannels(store, { notify: () => {} }) };
    } catch {
      return; // no hypervisor formatted this host's memory: nothing was mapped or bound in it
    }
    const t = tables;
    const r = h.ledger.release({
      unmapGrantRef: (mapper, op) => t.gt.unmapGrantRef(mapper, op),
      evtchnClose: (caller, port) => t.ev.evtchnClose(caller, port),
    });
    log.warn(
      { event: "mappings-released", service: h.name, ...r },
      `released ${r.released} grant mapping(s) and closed ${r.portsClosed} port(s) ${h.name} held when its worker died`,
    );
  };

  const restartService = async (name: string, options: { kill?: boolean } = {}): Promise<void> => {
    const old = services.get(name);
    const spec = opts.services.find((x) => x.name === name);
    if (!old || !spec) throw new Error(`restartService: no service '${name}'`);
    if (stopping) throw new Error("restartService: the host is stopping");
    resumeService(name);
    if (options.kill) {
      old.state = "killed";
      old.send({ type: "crash" });
      const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 2000).unref());
      if ((await Promise.race([old.exit, timeout])) === "timeout") await old.worker.terminate();
    } else {
      old.state = "stopping";
      old.send({ type: "stop" });
      const timeout = new Promise<"timeout">((r) =>
        setTimeout(() => r("timeout"), opts.stopTimeoutMs ?? 10_000).unref(),
      );
      if ((await Promise.race([old.exit, timeout])) === "timeout") {
        old.state = "killed";
        await old.worker.terminate();
      }
    }
    log.warn({ event: "service-restart", service: name, kill: options.kill ?? false }, `restarting ${name}`);
    // The same gRPC address as the worker it replaces (a port chosen by the OS the first time too).
    const h = spawn(spec, old.grpcAddress);
    const up = new Promise<void>((resolve) => (h.onReady = resolve));
    services.set(name, h);
    order[order.indexOf(old)] = h;
    await Promise.race([
      up,
      h.exit.then((code) => {
        throw new Error(`restarted ${name} exited with code ${code} before it was ready`);
      }),
    ]);
    if (opts.nats) broadcastPeers();
  };

  const pauseService = (name: string): void => {
    const h = services.get(name);
    if (!h)
      throw new Error(
        `no service '${name}' in host ${hostId} (services: ${[...services.keys()].join(", ")})`,
      );
    if (h.exited || h.state !== "ready") throw new Error(`service ${name} is not running (${h.state})`);
    if (h.pauseFlag) return;
    h.pauseFlag = new Int32Array(new SharedArrayBuffer(4));
    Atomics.store(h.pauseFlag, 0, 1);
    log.warn({ event: "service-pause", service: name }, `pausing ${name}`);
    h.send({ type: "pause", flag: h.pauseFlag.buffer as SharedArrayBuffer });
  };
  function resumeService(name?: string): void {
    for (const h of services.values()) {
      if (name !== undefined && h.name !== name) continue;
      if (!h.pauseFlag) continue;
      Atomics.store(h.pauseFlag, 0, 0);
      Atomics.notify(h.pauseFlag, 0);
      h.pauseFlag = undefined;
      log.warn({ event: "service-resume", service: h.name }, `resuming ${h.name}`);
    }
  }
  const chaosTarget = {
    hostId,
    list: () =>
      [...services.values()].map((h) => ({
        name: h.name,
        state: h.state,
        paused: h.pauseFlag !== undefined,
      })),
    kill: (name: string) => {
      if (!services.has(name))
        throw new Error(
          `no service '${name}' in host ${hostId} (services: ${[...services.keys()].join(", ")})`,
        );
      return restartService(name, { kill: true });
    },
    restart: (name: string) => {
      if (!services.has(name))
        throw new Error(
          `no service '${name}' in host ${hostId} (services: ${[...services.keys()].join(", ")})`,
        );
      return restartService(name);
    },
    pause: pauseService,
    resume: (name?: string) => resumeService(name),
  };
  // The host's own place on the chaos plane: the in-process bus, or NATS in a distributed host
  // (under the credentials of its first service: the host process holds them all anyway, and each
  // service's NATS permissions let it answer its own host's chaos subjects)
  let chaosControl: { stop(): void } | undefined;
  if (!opts.nats) {
    chaosBus = createInProcessBus({ name: busName });
    chaosControl = serveHostChaos(chaosBus, chaosTarget);
  } else {
    const first = opts.services[0];
    const cred = first ? credentialsOf(first.name) : undefined;
    void connectNatsBus({
      servers: opts.nats.split(","),
      name: `${hostId}/host`,
      timeoutMs: 20_000,
      ...(cred?.natsSeed ? { nkeySeed: cred.natsSeed, inboxPrefix: inboxPrefix(cred.identity) } : {}),
    }).then(
      (b) => {
        if (stopping) return void b.close().catch(() => {});
        chaosBus = b;
        chaosControl = serveHostChaos(b, chaosTarget);
      },
      (err: unknown) =>
        log.warn(
          { event: "chaos-plane", err: err instanceof Error ? err.message : String(err) },
          "the host's chaos plane is not served: NATS did not take its connection",
        ),
    );
  }

  const ask = <T>(h: Hosted, kind: "health" | "metrics", timeoutMs = 2000): Promise<T | undefined> =>
    new Promise((resolve) => {
      if (h.exited) return resolve(undefined);
      const id = nextReq++;
      const t = setTimeout(() => {
        h.pending.delete(id);
        resolve(undefined);
      }, timeoutMs);
      h.pending.set(id, (v) => {
        clearTimeout(t);
        resolve(v as T | undefined);
      });
      h.send({ type: kind, id });
    });

  const health = async (): Promise<HealthReport> => {
    const checks: Record<string, { ok: boolean; detail?: string }> = {};
    let down = false;
    let degraded = false;
    await Promise.all(
      order.map(async (h) => {
        if (h.state !== "ready") {
          checks[h.name] = { ok: false, detail: h.state };
          down = true;
          return;
        }
        const r = await ask<HealthReport>(h, "health");
        if (!r) {
          checks[h.name] = { ok: false, detail: "no answer" };
          down = true;
        } else {
          checks[h.name] = { ok: r.status !== "down", detail: r.status };
          if (r.status === "down") down = true;
          if (r.status === "degraded") degraded = true;
        }
      }),
    );
    return { status: down ? "down" : degraded ? "degraded" : "ok", host: hostId, checks };
  };

  const metrics = async (): Promise<{ contentType: string; body: string }> => {
    const all = await Promise.all(order.map((h) => ask<unknown[]>(h, "metrics")));
    const reg = AggregatorRegistry.aggregate(
      all.filter((x): x is unknown[] => Array.isArray(x)) as Parameters<
        typeof AggregatorRegistry.aggregate
      >[0],
    );
    return { contentType: reg.contentType, body: await reg.metrics() };
  };

  const app = opts.http ? buildHttpApp({ health, metrics }) : undefined;
  let httpAddress: string | undefined;

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      log.info({ event: "host-stopping" }, "host stopping");
      chaosControl?.stop();
      resumeService();
      await app?.close();
      for (const h of [...order].reverse()) {
        if (h.exited) continue;
        if (h.state !== "failed") h.state = "stopping";
        h.send({ type: "stop" });
        const timeout = new Promise<"timeout">((r) =>
          setTimeout(() => r("timeout"), opts.stopTimeoutMs ?? 10_000).unref(),
        );
        if ((await Promise.race([h.exit, timeout])) === "timeout") {
          log.error(
            { event: "stop-timeout", service: h.name },
            `service ${h.name} did not stop; terminating its worker`,
          );
          await h.worker.terminate();
        }
      }
      await chaosBus?.close().catch(() => {});
      log.info({ event: "host-stopped" }, "host stopped");
      ready.reject(new Error("host stopped before it was ready"));
      done.resolve();
    })();
    return stopping;
  };

  const readyTimer = setTimeout(() => {
    const slow = order.filter((h) => h.state === "starting").map((h) => h.name);
    if (slow.length > 0)
      fail({ service: slow.join(","), message: `not ready within ${opts.readyTimeoutMs ?? 30_000} ms` });
  }, opts.readyTimeoutMs ?? 30_000);
  readyTimer.unref();
  void ready.p.then(
    () => clearTimeout(readyTimer),
    () => clearTimeout(readyTimer),
  );

  if (app && opts.http) {
    httpAddress = await app.listen({ port: opts.http.port, host: opts.http.host ?? "127.0.0.1" });
  }

  return {
    hostId,
    sharedMemory,
    busName,
    ready: ready.p,
    done: done.p,
    services,
    failures,
    httpAddress,
    onFailure: (cb) => {
      failureListeners.push(cb);
    },
    health,
    metrics,
    restartService,
    pauseService,
    resumeService,
    stop,
  };
}

/**
 * The whole of a host's main.js: start the host, log when ready, stop on SIGTERM/SIGINT (exit 0),
 * exit 1 when a service fails.
 */
export async function runHostMain(opts: HostOptions): Promise<HostHandle> {
  const log =
    opts.log ??
    createLogger({
      svc: "host",
      host: opts.hostId ?? hostname(),
      ...(opts.logLevel ? { level: opts.logLevel } : {}),
    });
  const host = await startHost({ ...opts, log });
  let exiting = false;
  const exit = (code: number): void => {
    if (exiting) return;
    exiting = true;
    void host.stop().then(() => process.exit(code));
  };
  host.onFailure(() => exit(1));
  const onSignal = (sig: NodeJS.Signals): void => {
    log.info({ event: "signal", signal: sig }, `host got ${sig}`);
    exit(0);
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  try {
    await host.ready;
  } catch {
    // already logged and exiting
  }
  return host;
}
