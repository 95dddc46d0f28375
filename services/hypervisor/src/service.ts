// The hypervisor as a service: attaches to the host's page store (formatting it when it is the
// first), boots dom0, serves the Hypervisor call API, raises VIRQ_DOM_EXC and publishes
// `hypervisor.domain.<domid>.exc`, and wakes event-channel receivers (Atomics.notify on the wake
// word). Receivers in other host processes (a domain's home host, dom0 vCPUs registered there) get
// their events from the link: the evtchn core routes them before set-pending (docs/data-plane.md).
import { IoreqServers } from "@xensim/ioreq";
import { PageStore } from "@xensim/memory";
import type { ServiceContext, ServiceModule } from "@xensim/runtime";
import { encodeDomainExc, makeNotify } from "@xensim/xenctrl";
import { HYPERVISOR_SUBJECTS } from "@xensim/subjects";
import { Counter, Gauge } from "prom-client";
import { type HypervisorConfig, HypervisorConfigSchema } from "./config.js";
import { hypervisorPolicy } from "./authz.js";
import { DomainTable } from "./domain-table.js";
import { Hypervisor } from "@xensim/hypervisor";
import { addDmOpService } from "./dm-op.js";
import { addHypervisorService } from "./grpc-api.js";

export const hypervisorService: ServiceModule<HypervisorConfig> = {
  name: "hypervisor",
  configSchema: HypervisorConfigSchema,
  async start(ctx: ServiceContext<HypervisorConfig>) {
    const cfg = ctx.config;
    const log = ctx.log;
    const store = ctx.sharedMemory
      ? PageStore.attachOrCreate(ctx.sharedMemory)
      : PageStore.create({ frames: cfg.storeFrames });

    const ref: { hv?: Hypervisor; ioreq?: IoreqServers } = {};
    const notify = makeNotify({ store, evtchn: () => ref.hv!.ev });
    const table = cfg.stateDir !== "" ? new DomainTable(cfg.stateDir, Date.now()) : undefined;
    const saveTable = (): void => {
      try {
        table?.save([...core.domids(), ...core.lostDomids()]);
      } catch (err) {
        log.error({ err }, "cannot save the domain table");
      }
    };
    // The leak audit of a checker in another process (the toolstack's POST /chaos/leaks): what each
    // domain destroyed since `start` left in the grant tables and event channels. Answers at take.
    const destroyed = new Set<number>();
    const hv = new Hypervisor(store, {
      notify,
      hostId: ctx.hostId,
      onExc: (e) => {
        log.info(e, `domain ${e.domid} ${e.state}`);
        if (e.state === "dead") queueMicrotask(saveTable);
        ctx.bus.publish(HYPERVISOR_SUBJECTS.domainExc(e.domid), encodeDomainExc(e));
      },
      // Domain death: its ioreq servers go, and what it acquired as an emulator is unmapped.
      onDestroy: (domid) => {
        ref.ioreq?.destroyAll(domid);
        ref.ioreq?.releaseAllOf(domid);
        destroyed.delete(domid);
        destroyed.add(domid);
        if (destroyed.size > 1024) destroyed.delete(destroyed.values().next().value!);
      },
    });
    ctx.chaos.observe("domain-leaks", {
      start: () => destroyed.clear(),
      take: () =>
        [...destroyed].map((domid) => ({
          domid,
          grants: hv.gt.grantLeaksOf(domid),
          eventChannels: hv.ev.portsNaming(domid),
        })),
      stop: () => destroyed.clear(),
    });
    ref.hv = hv;
    const ioreq = new IoreqServers(store, hv.ev);
    ref.ioreq = ioreq;
    const core = hv;
    const rc0 = core.bootDom0({ memoryMib: cfg.dom0MemoryMib, vcpus: cfg.dom0Vcpus });
    if (rc0 < 0) throw new Error(`cannot create dom0 (rc ${rc0}): page store too small?`);
    // The previous run's domains died with its page store: none of their domids is reused before
    // the toolstack cleans them away; each is reported dead (a running toolstack and xenstored act).
    const lost = table?.previous() ?? [];
    if (lost.length > 0) {
      core.markLost(lost);
      log.warn(
        { lost: core.lostDomids() },
        `domains of the previous run are gone with its memory: ${core.lostDomids().join(", ")} (kept out of use until cleaned away)`,
      );
      for (const domid of core.lostDomids())
        ctx.bus.publish(
          HYPERVISOR_SUBJECTS.domainExc(domid),
          encodeDomainExc({ domid, state: "dead", reason: -1 }),
        );
    }
    saveTable();

    const calls = new Counter({
      name: "hypervisor_calls_total",
      help: "hypervisor calls, by method and result (ok / error)",
      labelNames: ["method", "result"],
      registers: [ctx.metrics],
    });
    new Gauge({
      name: "hypervisor_domains",
      help: "domains, by state",
      labelNames: ["state"],
      registers: [ctx.metrics],
      collect() {
        for (const [state, n] of Object.entries(core.countByState())) this.set({ state }, n);
      },
    });
    new Gauge({
      name: "hypervisor_evtchn_ports",
      help: "event-channel ports in use, all domains",
      registers: [ctx.metrics],
      collect() {
        this.set(core.portsInUse());
      },
    });
    new Gauge({
      name: "hypervisor_grants_mapped",
      help: "grant mappings held, all domains",
      registers: [ctx.metrics],
      collect() {
        this.set(core.grantsMapped());
      },
    });
    new Gauge({
      name: "hypervisor_free_frames",
      help: "free frames in the host's page store",
      registers: [ctx.metrics],
      collect() {
        this.set(store.freeFrameCount());
      },
    });

    // Every call acts for the domain its authenticated caller may act as (authz.ts).
    ctx.calls.authorize(
      hypervisorPolicy({
        hostId: ctx.hostId,
        domain: (domid) => {
          const r = core.record(domid);
          return r && { homeHost: r.homeHost, privileged: r.privileged };
        },
      }),
    );
    addHypervisorService(ctx.calls.server, core, (method, rc) => {
      calls.inc({ method, result: rc < 0 ? "error" : "ok" });
      if (rc === 0 && (method === "DomainCreate" || method === "DomainDestroy")) saveTable();
    });
    addDmOpService(ctx.calls.server, core, ioreq, (method, rc) =>
      calls.inc({ method, result: rc < 0 ? "error" : "ok" }),
    );
    // In-process mappers unmap with atomics, not calls: notice lingering domains that finally died.
    const reaper = setInterval(() => core.reap(), cfg.reapMs);
    reaper.unref();
    log.info({ frames: store.nrFrames, free: store.freeFrameCount() }, "hypervisor started, dom0 running");

    return {
      health: () => ({
        status: "ok",
        domains: core.domids().length,
        freeFrames: store.freeFrameCount(),
        ports: core.portsInUse(),
        grantsMapped: core.grantsMapped(),
      }),
      async stop() {
        clearInterval(reaper);
        log.info("hypervisor stopped");
      },
    };
  },
};
