// xenstored as a service: the engine restored from its state directory, served on the unix socket
// (xs wire), on the call plane (sessions, watch events over the event bus), and — for guests —
// on their ring pages (a later connection type).
import { randomUUID } from "node:crypto";
import { otelEnabled, type ServiceContext, type ServiceModule } from "@xensim/runtime";
import { TransactionSpans } from "./tx-spans.js";
import { PageStore } from "@xensim/memory";
import { loadHypervisorProto } from "@xensim/proto";
import { decodeDomainExc, type DomainExcEvent, XenCtrl } from "@xensim/xenctrl";
import { CHAOS_SUBJECTS, HYPERVISOR_SUBJECTS } from "@xensim/subjects";
import { XenstoreEngine } from "@xensim/xenstore";
import { Counter, Gauge } from "prom-client";
import { type XenstoredConfig, XenstoredConfigSchema } from "./config.js";
import { XenstoredCore } from "./xenstored.js";
import { XenstoreGrpcApi } from "./grpc-api.js";
import { StateStore } from "./persistence.js";
import { RingConnections } from "./ring-connections.js";
import { listenXsSocket, type SocketServer } from "./socket-server.js";

const XS_TYPE_LABELS = [
  "control",
  "directory",
  "read",
  "get_perms",
  "watch",
  "unwatch",
  "transaction_start",
  "transaction_end",
  "introduce",
  "release",
  "get_domain_path",
  "write",
  "mkdir",
  "rm",
  "set_perms",
  "watch_event",
  "error",
  "is_domain_introduced",
  "resume",
  "set_target",
  "restrict",
  "reset_watches",
  "directory_part",
  "get_feature",
  "set_feature",
  "get_quota",
  "set_quota",
];

export const xenstoredService: ServiceModule<XenstoredConfig> = {
  name: "xenstored",
  configSchema: XenstoredConfigSchema,
  async start(ctx: ServiceContext<XenstoredConfig>) {
    const cfg = ctx.config;
    const log = ctx.log;
    const engineOpts = { quotas: { ...cfg.quotas }, quotaError: cfg.quotaError };

    let engine: XenstoreEngine;
    let state: StateStore | null = null;
    if (cfg.stateDir) {
      state = new StateStore({ dir: cfg.stateDir, fsync: cfg.fsync, compactEvery: cfg.compactEvery });
      const loaded = state.load();
      engine = loaded.snapshot
        ? XenstoreEngine.restore(loaded.snapshot, engineOpts)
        : new XenstoreEngine(engineOpts);
      engine.applyMutations(loaded.journal);
      state.open(() => engine.snapshot(), loaded.tornRecords > 0);
      log.info(
        {
          stateDir: cfg.stateDir,
          replayed: loaded.journal.length,
          torn: loaded.tornRecords,
          nodes: engine.nodeCount(),
        },
        "xenstore state restored",
      );
    } else {
      engine = new XenstoreEngine(engineOpts);
    }
    const core = new XenstoredCore(engine, state, log, {
      chaos: ctx.chaos,
      now: () => ctx.now(),
      outputLimits: {
        stallBytes: cfg.outputStallBytes,
        dropBytes: cfg.outputDropBytes,
        watchEventTimeoutMs: cfg.watchEventTimeoutMs,
      },
    });
    // check_event_timeout(): watch events an unprivileged connection leaves waiting are discarded.
    const expiry = setInterval(() => core.expireWatchEvents(), 1000);
    expiry.unref();

    const requests = new Counter({
      name: "xenstore_requests_total",
      help: "xs requests handled, by type",
      labelNames: ["type"],
      registers: [ctx.metrics],
    });
    const errors = new Counter({
      name: "xenstore_errors_total",
      help: "xs requests answered with XS_ERROR, by errno name",
      labelNames: ["errno"],
      registers: [ctx.metrics],
    });
    new Gauge({
      name: "xenstore_nodes",
      help: "nodes in the tree",
      registers: [ctx.metrics],
      collect() {
        this.set(engine.nodeCount());
      },
    });
    new Gauge({
      name: "xenstore_output_queued_bytes",
      help: "reply and watch-event bytes waiting in connection output queues",
      registers: [ctx.metrics],
      collect() {
        let bytes = 0;
        for (const conn of engine.connections()) bytes += core.queues.queuedBytes(conn);
        this.set(bytes);
      },
    });
    new Gauge({
      name: "xenstore_stalled_connections",
      help: "connections not read because of their quotas or unread output (XSA-326)",
      registers: [ctx.metrics],
      collect() {
        this.set(core.stalledConnections);
      },
    });
    new Gauge({
      name: "xenstore_output_events_dropped",
      help: "watch events dropped: receiver at its memory quota, timed out, or coalesced",
      labelNames: ["reason"],
      registers: [ctx.metrics],
      collect() {
        const st = core.queues.stats;
        this.set({ reason: "memory" }, st.eventsDroppedForMemory);
        this.set({ reason: "timeout" }, st.eventsExpired);
        this.set({ reason: "coalesced" }, st.eventsCoalesced);
      },
    });
    new Gauge({
      name: "xenstore_connections",
      help: "open connections (sockets, sessions, rings)",
      registers: [ctx.metrics],
      collect() {
        this.set(core.stats.connections);
      },
    });
    const dec = new TextDecoder();
    const txSpans = otelEnabled()
      ? new TransactionSpans((conn) => core.engine.connectionInfo(conn)?.domid)
      : undefined;
    core.onRequest = (conn, req, reply) => {
      requests.inc({ type: XS_TYPE_LABELS[req.type] ?? "unknown" });
      if (reply && reply.type === 16) errors.inc({ errno: dec.decode(reply.payload).replace(/\0$/, "") });
      txSpans?.onRequest(conn, req, reply);
    };
    if (txSpans) core.onDisconnect = (conn) => txSpans.closed(conn);
    // Guests' ring pages: mapped from the host's page store with the hypervisor in the same host,
    // or foreign-mapped over this host's link when it runs in another (`hypervisorHost`).
    let rings: RingConnections | null = null;
    const remoteHypervisor = cfg.hypervisorHost !== "" && cfg.hypervisorHost !== ctx.hostId;
    const ringsFor = (): RingConnections | null => {
      if (rings) return rings;
      if (!ctx.sharedMemory) return null;
      const hv = ctx.calls.client(
        loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service,
        cfg.hypervisor,
      );
      // The host's workers start together: a domain restored from the state directory is introduced
      // before the hypervisor (or the page-server) may have formatted the buffer; whichever comes
      // first formats it.
      const store = PageStore.attachOrCreate(ctx.sharedMemory);
      const xc = new XenCtrl({
        domid: 0,
        calls: hv,
        store,
        ...(remoteHypervisor ? { hypervisorHost: cfg.hypervisorHost } : {}),
      });
      rings = new RingConnections(core, xc, log);
      return rings;
    };
    core.onEffect = (e) => {
      log.info(e, `xenstore ${e.kind} domain ${e.domid}`);
      if (e.kind === "introduce") {
        const r = ringsFor();
        if (!r) {
          log.warn({ domid: e.domid }, "no shared page store in this host process: guest ring not served");
          return;
        }
        r.attach(e.domid, Number(e.mfn), e.port).catch((err: Error) =>
          log.error({ err, domid: e.domid }, "xenstore ring attach failed"),
        );
      } else if (e.kind === "release") rings?.detach(e.domid);
    };

    // VIRQ_DOM_EXC: the hypervisor publishes domain exceptions; as C xenstored does on the VIRQ,
    // fire @releaseDomain for a shutdown and clean the domain up once it is dying or dead (not on
    // a soft reset).
    const excSub = ctx.bus.subscribe(HYPERVISOR_SUBJECTS.domainExcAll, {
      callback: (m) => {
        let ev: DomainExcEvent;
        try {
          ev = decodeDomainExc(m.data);
        } catch {
          log.warn({ subject: m.subject }, "malformed domain exception event");
          return;
        }
        if (!Number.isInteger(ev.domid)) return;
        if (ev.state === "shutdown") core.domainShutdown(ev.domid);
        else if (ev.state === "dying" || ev.state === "dead") core.domainGone(ev.domid);
        // "soft_reset" (same domid, memory kept) is no death: the toolstack releases and
        // re-introduces the domain itself, as libxl does.
      },
    });

    // Domains introduced before a restart: serve their rings again (they are told to reconnect).
    for (const d of engine.introducedDomains()) {
      const r = d.domid !== 0 && d.mfn !== undefined && d.port !== undefined ? ringsFor() : null;
      r?.attach(d.domid, Number(d.mfn), d.port!, { restarted: true }).catch((err: Error) =>
        log.error({ err, domid: d.domid }, "xenstore ring re-attach failed"),
      );
    }

    let socket: SocketServer | null = null;
    if (cfg.socket) socket = await listenXsSocket(core, cfg.socket, log);
    const api = new XenstoreGrpcApi({
      core,
      bus: ctx.bus,
      server: ctx.calls.server,
      log,
      epoch: randomUUID(),
      newSessionId: () => randomUUID(),
      now: () => Date.now(),
      leaseMs: cfg.sessionLeaseMs,
    });
    ctx.calls.authorize(api.policy);
    // a worker of this host process exited: its in-process sessions go at once (a closed socket)
    const exited = ctx.bus.subscribe(CHAOS_SUBJECTS.workerExited(ctx.hostId), {
      callback: (m) => {
        try {
          const { thread } = JSON.parse(new TextDecoder().decode(m.data)) as { thread?: unknown };
          if (typeof thread === "number" && Number.isInteger(thread) && thread > 0) api.workerExited(thread);
        } catch {
          // not a notice
        }
      },
    });

    return {
      health: () => ({
        status: "ok",
        nodes: engine.nodeCount(),
        connections: core.stats.connections,
        sessions: api.sessionCount,
        rings: rings?.count ?? 0,
        socket: socket?.path,
        stalledConnections: core.stalledConnections,
        connectionsDroppedForOutput: core.queues.stats.connectionsDropped,
      }),
      async stop() {
        clearInterval(expiry);
        excSub.unsubscribe();
        rings?.close();
        exited.unsubscribe();
        api.close();
        await socket?.close();
        core.close();
        log.info("xenstored stopped");
      },
    };
  },
};
