// The guest runtime as a service: the Guest gRPC API (Boot, Halt, List), many guests per host
// process (each a GuestInstance, isolated: one failing never takes the others or the runtime down),
// status events on `guest.<domid>.status`, Prometheus metrics, and domain deaths from the
// hypervisor's exception events. Wiring only.
import { guestRuntimePolicy } from "./authz.js";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HVM_PARAM_STORE_EVTCHN, SHUTDOWN_crash, XenErrno } from "@xensim/abi";
import { CallError, GrpcStatus } from "@xensim/bus";
import {
  type GuestStatusJson,
  type BootRequest__Output,
  type GuestRef__Output,
  loadGuestProto,
  loadHypervisorProto,
} from "@xensim/proto";
import type { ServiceContext, ServiceModule } from "@xensim/runtime";
import { decodeDomainExc, XenCtrl } from "@xensim/xenctrl";
import { GUEST_SUBJECTS, HYPERVISOR_SUBJECTS } from "@xensim/subjects";
import { Counter, Gauge } from "prom-client";
import { type GuestServiceConfig, GuestServiceConfigSchema } from "./config.js";
import { GuestInstance, type KexecHandoff } from "./guest.js";

const enc = new TextEncoder();

export const guestService: ServiceModule<GuestServiceConfig> = {
  name: "guest",
  configSchema: GuestServiceConfigSchema,
  async start(ctx: ServiceContext<GuestServiceConfig>) {
    const cfg = ctx.config;
    const log = ctx.log;
    const sharedMemory = ctx.sharedMemory;
    const stateDir = cfg.stateDir !== "" ? cfg.stateDir : join(tmpdir(), `xensim-guest-${ctx.hostId}`);
    const hv = ctx.calls.client(
      loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service,
      cfg.hypervisor,
    );
    const hypervisorHost =
      cfg.hypervisorHost !== "" && cfg.hypervisorHost !== ctx.hostId ? cfg.hypervisorHost : undefined;
    const guests = new Map<number, GuestInstance>();
    // The domains whose kernels run here, on disk (stateDir survives a restart of this host process:
    // a container restart keeps its filesystem). See crashOrphans below.
    const ledgerPath = join(stateDir, "domains.json");
    const saveLedger = (): void => {
      try {
        mkdirSync(stateDir, { recursive: true });
        writeFileSync(`${ledgerPath}.tmp`, JSON.stringify({ domids: [...guests.keys()] }));
        renameSync(`${ledgerPath}.tmp`, ledgerPath);
      } catch (err) {
        log.warn({ err: String(err), ledgerPath }, "guest ledger not written");
      }
    };
    /** What a kernel that soft-reset handed the next one (kexec), by domid, until it boots. */
    const handoffs = new Map<number, KexecHandoff>();
    let boots = 0;
    let bootFailures = 0;

    const publish = (g: GuestInstance): void => {
      if (ctx.bus.closed) return;
      try {
        ctx.bus.publish(GUEST_SUBJECTS.status(g.domid), enc.encode(JSON.stringify(g.status())));
      } catch (err) {
        log.warn({ err: String(err), domid: g.domid }, "status publish failed");
      }
    };
    const timer =
      cfg.statusIntervalMs > 0
        ? setInterval(() => {
            for (const g of guests.values()) {
              g.tick();
              publish(g);
            }
          }, cfg.statusIntervalMs)
        : undefined;

    // Domain deaths (and shutdowns we did not ask for): the guest stops running, silently.
    const exc = ctx.bus.subscribe(HYPERVISOR_SUBJECTS.domainExcAll, {
      callback: (m) => {
        try {
          const e = decodeDomainExc(m.data);
          const g = guests.get(e.domid);
          if (!g) return;
          if (e.state === "dying" || e.state === "dead") {
            g.abandon(`domain ${e.state}`);
            publish(g);
            guests.delete(e.domid);
            saveLedger();
          } else if (e.state === "shutdown" && g.state !== "shutting-down" && g.state !== "halted") {
            g.abandon(`domain shut down (reason ${e.reason})`);
            publish(g);
          } else if (e.state === "soft_reset") {
            // kexec (fact sheet §9): the toolstack rebuilds the domain in place; the new kernel boots
            // once it is unpaused with its new store channel.
            if (g.handoff) handoffs.set(e.domid, g.handoff);
            g.abandon("soft reset");
            void bootAfterSoftReset(e.domid, g.name);
          }
        } catch (err) {
          log.warn({ err: String(err) }, "bad domain exception event");
        }
      },
    });

    const reg = [ctx.metrics];
    const live = () => [...guests.values()];
    new Gauge({
      name: "guest_guests",
      help: "guests of this runtime by state",
      labelNames: ["state"],
      registers: reg,
      collect() {
        this.reset();
        for (const s of ["booting", "running", "shutting-down", "halted", "failed"])
          this.set({ state: s }, 0);
        for (const g of live()) this.inc({ state: g.state });
      },
    });
    new Gauge({
      name: "guest_disks_connected",
      help: "connected disks per guest",
      labelNames: ["domid"],
      registers: reg,
      collect() {
        this.reset();
        for (const g of live())
          this.set({ domid: g.domid }, [...g.disks.values()].filter((d) => d.front.isConnected).length);
      },
    });
    new Gauge({
      name: "guest_iops",
      help: "workload I/Os per second over the last status interval",
      labelNames: ["domid"],
      registers: reg,
      collect() {
        this.reset();
        for (const g of live()) this.set({ domid: g.domid }, g.iops);
      },
    });
    new Gauge({
      name: "guest_workload_verify_failures",
      help: "verify failures of the guest's workload",
      labelNames: ["domid"],
      registers: reg,
      collect() {
        this.reset();
        for (const g of live()) this.set({ domid: g.domid }, g.verifyFailures);
      },
    });
    // Counters mirror the frontends' stats at scrape time.
    const mirror = (
      name: string,
      help: string,
      get: (s: { completed: number; errors: number }) => number,
    ) => {
      const last = new Map<string, number>();
      return new Counter({
        name,
        help,
        labelNames: ["domid", "vdev"],
        registers: reg,
        collect() {
          for (const g of live())
            for (const d of g.disks.values()) {
              const key = `${g.domid}/${d.vdev}/${d.devid}`;
              const v = get(d.front.stats);
              const prev = last.get(key) ?? 0;
              if (v > prev) this.inc({ domid: g.domid, vdev: d.vdev }, v - prev);
              last.set(key, v);
            }
        },
      });
    };
    mirror("guest_io_completed_total", "block I/Os completed by the guest's frontends", (s) => s.completed);
    mirror("guest_io_errors_total", "block I/Os completed with an error", (s) => s.errors);
    new Counter({
      name: "guest_boots_total",
      help: "Boot calls that started a guest",
      registers: reg,
      collect() {
        this.reset();
        this.inc(boots);
      },
    });
    new Counter({
      name: "guest_boot_failures_total",
      help: "Boot calls that failed",
      registers: reg,
      collect() {
        this.reset();
        this.inc(bootFailures);
      },
    });

    const boot = async (domid: number, name: string): Promise<{ rc: number; error: string }> => {
      const existing = guests.get(domid);
      if (existing && existing.state !== "halted" && existing.state !== "failed") {
        if (!hypervisorHost) return { rc: 0, error: "" };
        // In a host of its own, the hypervisor's host may have restarted under this runtime (its
        // domains gone with it, no dying event): the toolstack calls Boot only right after creating
        // the domain, so a kernel still running here for that domid ran the old one. Dropped.
        log.warn(
          { domid, state: existing.state },
          "boot: a kernel of an earlier domain with this domid dropped",
        );
        existing.abandon("a new domain with this domid");
        publish(existing);
        guests.delete(domid);
      }
      if (!sharedMemory)
        return {
          rc: -XenErrno.EOPNOTSUPP,
          error: "no shared page store: the guest runtime needs its host's page store",
        };
      if (guests.size >= cfg.maxGuests)
        return { rc: -XenErrno.ENOSPC, error: `at most ${cfg.maxGuests} guests` };
      const g = new GuestInstance({
        domid,
        name: name || `domain-${domid}`,
        hv,
        sharedMemory,
        chaos: ctx.chaos,
        ...(hypervisorHost ? { hypervisorHost } : {}),
        ...(handoffs.has(domid) ? { handoff: handoffs.get(domid)! } : {}),
        cfg,
        stateDir,
        log,
        onChange: publish,
      });
      guests.set(domid, g);
      saveLedger();
      handoffs.delete(domid);
      try {
        await g.boot();
        boots++;
        return { rc: 0, error: "" };
      } catch (err) {
        bootFailures++;
        const rc = (err as { rc?: number }).rc;
        g.fail(err);
        guests.delete(domid);
        saveLedger();
        return { rc: typeof rc === "number" && rc < 0 ? rc : -XenErrno.EIO, error: g.error };
      }
    };

    const bootAfterSoftReset = async (domid: number, name: string): Promise<void> => {
      if (!sharedMemory) return;
      const xc = new XenCtrl({ domid, calls: hv, store: sharedMemory });
      const deadline = Date.now() + cfg.softResetBootTimeoutMs;
      try {
        for (;;) {
          const i = await xc.domainInfo(domid);
          if (i.rc !== 0 || !i.info || i.info.dying || guests.get(domid)?.state !== "halted") return;
          if (i.info.state === "running" && i.info.pauseCount === 0) {
            const p = await xc.hvmParamGet(domid, HVM_PARAM_STORE_EVTCHN);
            if (p.rc === 0 && p.value !== 0n) break;
          }
          if (Date.now() > deadline) {
            log.warn({ domid }, "soft reset: the domain was not rebuilt in time; not booting it");
            return;
          }
          await new Promise((r) => setTimeout(r, 50));
        }
        const r = await boot(domid, name);
        log.info({ domid, rc: r.rc, error: r.error }, "booted again after a soft reset");
      } catch (err) {
        log.warn({ domid, err: String(err) }, "soft reset: boot failed");
      } finally {
        xc.close();
      }
    };

    const def = loadGuestProto().xensim.guest.v1.Guest.service;
    ctx.calls.authorize(guestRuntimePolicy);
    ctx.calls.server.addService(def, {
      Boot: async (req: BootRequest__Output) => {
        if (!Number.isInteger(req.domid) || req.domid <= 0 || req.domid >= 0x7ff0)
          throw new CallError(GrpcStatus.INVALID_ARGUMENT, `bad domid ${req.domid}`);
        return boot(req.domid, req.name);
      },
      Halt: async (req: GuestRef__Output) => {
        const g = guests.get(req.domid);
        if (!g) return { rc: -XenErrno.ESRCH };
        await g.halt().catch((err: unknown) => log.warn({ err: String(err), domid: req.domid }, "halt"));
        guests.delete(req.domid);
        saveLedger();
        publish(g);
        return { rc: 0 };
      },
      List: async () => ({ guests: [...guests.values()].map((g) => toProto(g.status())) }),
    });

    // A restart of this host process (the guest runtime in a host of its own): the kernels of the
    // domains it ran died with it — their vCPUs are gone, their memory here too. In Xen's terms a
    // crash: each such domain, still homed here and running, is shut down with SHUTDOWN_crash acting
    // as that domain (a dying kernel's SCHEDOP_shutdown), and the toolstack applies its on_crash
    // action ("restart" creates it again, its disks' acknowledged writes intact).
    let orphansCrashed = 0;
    const crashOrphans = async (): Promise<void> => {
      let domids: number[] = [];
      try {
        const j = JSON.parse(readFileSync(ledgerPath, "utf8")) as { domids?: unknown };
        if (Array.isArray(j.domids))
          domids = j.domids.filter((d): d is number => Number.isInteger(d) && d > 0);
      } catch {
        return; // no ledger: a first start
      }
      for (const domid of domids) {
        if (guests.has(domid) || !sharedMemory) continue;
        const xc = new XenCtrl({ domid, calls: hv, store: sharedMemory });
        try {
          for (let attempt = 0; ; attempt++) {
            try {
              const i = await xc.domainInfo(domid);
              if (i.rc !== 0 || !i.info || i.info.dying || i.info.shutdownReason >= 0) break;
              if (i.info.homeHost !== ctx.hostId) break; // not (or no longer) a domain of this host
              const rc = await xc.domainShutdown(domid, SHUTDOWN_crash);
              orphansCrashed++;
              log.warn(
                { domid, rc },
                "a domain whose kernel ran in this host process before its restart: crashed (on_crash)",
              );
              break;
            } catch (err) {
              // the hypervisor not reachable yet (it may be restarting too)
              if (attempt >= 30) {
                log.warn({ domid, err: String(err) }, "orphaned domain not crashed");
                break;
              }
              await new Promise((r) => setTimeout(r, 1000));
            }
          }
        } finally {
          xc.close();
        }
      }
      saveLedger();
    };
    if (hypervisorHost) void crashOrphans();

    log.info({ stateDir, nbd: cfg.nbd.listen }, "guest runtime started");
    return {
      health: () => {
        const byState: Record<string, number> = {};
        for (const g of guests.values()) byState[g.state] = (byState[g.state] ?? 0) + 1;
        return { status: "ok", guests: guests.size, orphansCrashed, ...byState };
      },
      async stop() {
        if (timer) clearInterval(timer);
        exc.unsubscribe();
        await Promise.all(
          [...guests.values()].map((g) =>
            g.halt().catch((err: unknown) => log.warn({ err: String(err), domid: g.domid }, "halt")),
          ),
        );
        guests.clear();
        hv.close();
        log.info("guest runtime stopped");
      },
    };
  },
};

/** The proto message (uint64 fields as numbers: the loader accepts them). */
function toProto(s: GuestStatusJson): GuestStatusJson {
  return s;
}
