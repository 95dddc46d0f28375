// The toolstack as a service: dom0's XenCtrl and xenstore client, an optional guest-runtime client,
// the flows of @xensim/toolstack, domain exceptions from the bus driving the on_* actions, and the
// HTTP API. Wiring only.
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { CallClient } from "@xensim/bus";
import {
  loadDeviceModelProto,
  loadDisplayProto,
  loadGuestProto,
  loadHypervisorProto,
  loadXenstoreProto,
} from "@xensim/proto";
import {
  inServerSpan,
  inSpan,
  otelEnabled,
  type ServiceContext,
  type ServiceModule,
  retry,
} from "@xensim/runtime";
import {
  type DeviceModelRuntime,
  type EmulatorRole,
  type GuestRuntime,
  type GuestStatus,
  Toolstack,
} from "@xensim/toolstack";
import { decodeDomainExc, XenCtrl } from "@xensim/xenctrl";
import { HYPERVISOR_SUBJECTS } from "@xensim/subjects";
import { connectXenstore, type XenstoreClient } from "@xensim/xenstore-client";
import { Counter, Gauge, Histogram } from "prom-client";
import { buildApi } from "./api.js";
import { ChaosCoordinator } from "./chaos.js";
import { diskTargetCheck } from "./disk-check.js";
import { type ToolstackServiceConfig, ToolstackServiceConfigSchema } from "./config.js";

interface GuestListReply {
  guests: Array<{
    domid: number;
    name: string;
    state: string;
    error: string;
    disks: Array<{
      vdev: string;
      devid: number;
      state: string;
      ringPages: number;
      queues: number;
      persistent: boolean;
      indirectSegments: number;
      sectors: string | number;
      readonly: boolean;
      nbdUri: string;
    }>;
  }>;
}

/** The DeviceModel clients (one per role's service instance) as the toolstack's DeviceModelRuntime. */
function deviceModelRuntime(
  clients: Partial<Record<EmulatorRole, CallClient>>,
  deadlineMs: number,
): DeviceModelRuntime {
  const of = (role: EmulatorRole) => {
    const c = clients[role];
    if (!c) throw new Error(`no device-model service for the ${role} emulator`);
    return c;
  };
  const rc = (r: { rc: number; error?: string }) => ({ rc: r.rc, error: r.error ?? "" });
  // The guest's serial n lives in the emulator of that role (SERIAL_BASE): 0 primary, 1 secondary.
  const bySerial = (serial: number) => (serial === 0 ? clients.primary : clients.secondary);
  return {
    async start(o) {
      return rc(
        await of(o.role).call<object, { rc: number; error: string }>(
          "Start",
          { ...o, restorePath: o.restorePath ?? "" },
          { deadlineMs },
        ),
      );
    },
    async stop(domid, role) {
      const c = clients[role];
      if (!c) return { rc: -3, error: "" };
      return rc(await c.call<object, { rc: number; error: string }>("Stop", { domid, role }, { deadlineMs }));
    },
    async saveState(domid, role, path) {
      return rc(
        await of(role).call<object, { rc: number; error: string }>(
          "SaveState",
          { domid, role, path },
          { deadlineMs },
        ),
      );
    },
    async consoleRead(domid, serial, offset, waitMs) {
      const c = bySerial(serial);
      if (!c) return { rc: -3, data: new Uint8Array(0), next: offset };
      const r = await c.call<object, { rc: number; data: Buffer; nextOffset: string }>(
        "ConsoleRead",
        { domid, serial, offset: String(offset), waitMs },
        { deadlineMs: deadlineMs + waitMs },
      );
      return { rc: r.rc, data: new Uint8Array(r.data), next: Number(r.nextOffset) };
    },
    async vgaText(domid) {
      const c = clients.primary;
      if (!c) return { rc: -3 };
      const r = await c.call<
        object,
        {
          rc: number;
          cols: number;
          rows: number;
          cells: Buffer;
          cursorRow: number;
          cursorCol: number;
          cursorVisible: boolean;
          cursorStart: number;
          cursorEnd: number;
        }
      >("VgaText", { domid }, { deadlineMs });
      if (r.rc) return { rc: r.rc };
      return {
        rc: 0,
        screen: {
          cols: r.cols,
          rows: r.rows,
          cells: new Uint8Array(r.cells),
          cursor: {
            row: r.cursorRow,
            col: r.cursorCol,
            visible: r.cursorVisible,
            start: r.cursorStart,
            end: r.cursorEnd,
          },
        },
      };
    },
    async consoleWrite(domid, serial, data) {
      const c = bySerial(serial);
      if (!c) return { rc: -3 };
      return {
        rc: (
          await c.call<object, { rc: number }>(
            "ConsoleWrite",
            { domid, serial, data: Buffer.from(data) },
            { deadlineMs },
          )
        ).rc,
      };
    },
  };
}

/** The Guest gRPC/in-process client as the toolstack's GuestRuntime. */
function guestRuntime(calls: CallClient, deadlineMs: number): GuestRuntime {
  return {
    async boot(domid, name) {
      const r = await calls.call<object, { rc: number; error: string }>(
        "Boot",
        { domid, name },
        { deadlineMs },
      );
      return { rc: r.rc, error: r.error };
    },
    async halt(domid) {
      return (await calls.call<object, { rc: number }>("Halt", { domid }, { deadlineMs })).rc;
    },
    async list(): Promise<GuestStatus[]> {
      const r = await calls.call<object, GuestListReply>("List", {}, { deadlineMs });
      return r.guests.map((g) => ({
        domid: g.domid,
        name: g.name,
        state: g.state,
        error: g.error,
        disks: g.disks.map((d) => ({ ...d, sectors: Number(d.sectors) })),
      }));
    },
  };
}

export const toolstackService: ServiceModule<ToolstackServiceConfig> = {
  name: "toolstack",
  configSchema: ToolstackServiceConfigSchema,
  async start(ctx: ServiceContext<ToolstackServiceConfig>) {
    const cfg = ctx.config;
    const log = ctx.log;
    const hvCalls = ctx.calls.client(
      loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service,
      cfg.hypervisor,
    );
    // Control operations only: calls, whatever the placement (no shared page store needed).
    const xc = new XenCtrl({ domid: 0, calls: hvCalls, bus: ctx.bus });
    const xsCalls =
      cfg.xenstoredSocket === ""
        ? ctx.calls.client(loadXenstoreProto().xensim.xenstore.v1.Xenstore.service, cfg.xenstored)
        : undefined;
    const xs: XenstoreClient = await retry(
      "connecting to xenstored",
      () =>
        xsCalls
          ? connectXenstore({ calls: xsCalls, bus: ctx.bus, clientName: "toolstack" })
          : connectXenstore({ socket: cfg.xenstoredSocket }),
      ctx,
    );
    const guestCalls =
      cfg.guest === ""
        ? undefined
        : ctx.calls.client(loadGuestProto().xensim.guest.v1.Guest.service, cfg.guest);
    const dmDef = loadDeviceModelProto().xensim.devicemodel.v1.DeviceModel.service;
    const dmClients: Partial<Record<EmulatorRole, CallClient>> = {};
    if (cfg.deviceModels.primary) dmClients.primary = ctx.calls.client(dmDef, cfg.deviceModels.primary);
    if (cfg.deviceModels.secondary) dmClients.secondary = ctx.calls.client(dmDef, cfg.deviceModels.secondary);
    const libDir = cfg.libDir || join(tmpdir(), `xensim-lib-${ctx.hostId}`);
    const dmRuntime = dmClients.primary ? deviceModelRuntime(dmClients, cfg.timeouts.backendMs) : undefined;
    const t = cfg.timeouts;
    // Every flow step is logged by the flows; the same records feed the metrics.
    const reg = [ctx.metrics];
    const steps = new Counter({
      name: "toolstack_flow_steps_total",
      help: "flow steps by flow, step and outcome (ok, failed, undone, undo-failed)",
      labelNames: ["flow", "step", "outcome"] as const,
      registers: reg,
    });
    const stepSeconds = new Histogram({
      name: "toolstack_flow_step_seconds",
      help: "duration of flow steps",
      labelNames: ["flow", "step"] as const,
      buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10],
      registers: reg,
    });
    const actionsTotal = new Counter({
      name: "toolstack_actions_total",
      help: "on_* actions taken, by shutdown reason, action and outcome",
      labelNames: ["reason", "action", "outcome"] as const,
      registers: reg,
    });
    const observe = (obj: object) => {
      const o = obj as { flow?: unknown; step?: unknown; outcome?: unknown; ms?: unknown };
      if (typeof o.flow !== "string" || typeof o.step !== "string" || typeof o.outcome !== "string") return;
      const step = o.step.replace(/:.*$/, ""); // vbd-add:xvda → vbd-add (bounded label values)
      steps.inc({ flow: o.flow, step, outcome: o.outcome });
      if (typeof o.ms === "number") stepSeconds.observe({ flow: o.flow, step }, o.ms / 1000);
    };
    const flowLog = {
      info: (obj: object, msg: string) => {
        observe(obj);
        log.info(obj, msg);
      },
      warn: (obj: object, msg: string) => {
        observe(obj);
        log.warn(obj, msg);
      },
      error: (obj: object, msg: string) => log.error(obj, msg),
    };
    const toolstack = new Toolstack({
      xs,
      hv: xc,
      ...(guestCalls ? { guest: guestRuntime(guestCalls, t.backendMs) } : {}),
      ...(dmRuntime ? { deviceModel: dmRuntime, libDir } : {}),
      clock: {
        now: () => performance.now(),
        wallSeconds: () => ctx.now() / 1000,
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      },
      log: flowLog,
      ...(otelEnabled() ? { spans: { inSpan } } : {}),
      newUuid: () => crypto.randomUUID(),
      hostMemoryMib: cfg.hostMemoryMib,
      backendTimeoutMs: t.backendMs,
      frontendTimeoutMs: t.frontendMs,
      shutdownTimeoutMs: t.shutdownMs,
      detachTimeoutMs: t.detachMs,
      destroyDeviceTimeoutMs: t.destroyDeviceMs,
      reapTimeoutMs: t.reapMs,
    });

    // VIRQ_DOM_EXC as a bus event: one handling at a time per domain, in arrival order.
    const chains = new Map<number, Promise<unknown>>();
    const sub = ctx.bus.subscribe(HYPERVISOR_SUBJECTS.domainExcAll, {
      callback: (m) => {
        let domid: number;
        try {
          domid = decodeDomainExc(m.data).domid;
        } catch (err) {
          log.warn({ err, subject: m.subject }, "undecodable domain exception event");
          return;
        }
        if (!Number.isInteger(domid) || domid === 0) return;
        const prev = chains.get(domid) ?? Promise.resolve();
        const next = prev
          .then(() => toolstack.handleDomainEvent(domid))
          .then((a) => {
            if (a) actionsTotal.inc({ reason: a.reason, action: a.action, outcome: a.outcome });
            if (a)
              log.info(
                { domid, reason: a.reason, action: a.action, outcome: a.outcome, newDomid: a.newDomid },
                "on_* action",
              );
          })
          .catch((err: unknown) => log.error({ err, domid }, "on_* handling failed"))
          .finally(() => {
            if (chains.get(domid) === next) chains.delete(domid);
          });
        chains.set(domid, next);
      },
    });

    const apiRefused = new Counter({
      name: "toolstack_api_refused_total",
      help: "API requests refused for a missing or wrong token",
      labelNames: ["why"],
      registers: reg,
    });
    const token = cfg.api.tokenFile === "" ? undefined : readFileSync(cfg.api.tokenFile, "utf8").trim();
    if (token === undefined && cfg.api.host !== "127.0.0.1" && cfg.api.host !== "::1")
      log.warn(
        { host: cfg.api.host },
        "the toolstack API listens beyond loopback without a token (api.tokenFile)",
      );
    const displayCalls =
      cfg.displback === ""
        ? undefined
        : ctx.calls.client(loadDisplayProto().xensim.display.v1.Display.service, cfg.displback);
    const { app } = buildApi({
      toolstack,
      ...(displayCalls !== undefined ? { display: displayCalls } : {}),
      live: {
        xs,
        bus: ctx.bus,
        evtchnStatus: (dom, port) => xc.evtchnStatus(dom, port),
        // The dashboard's console panel: what the guest's COM1 (its device model's UART) sent.
        ...(dmRuntime
          ? {
              panels: {
                console: {
                  read: async (domid: number) => {
                    const r = await dmRuntime.consoleRead(domid, 0, 0, 0);
                    return r.rc !== 0
                      ? undefined
                      : {
                          contentType: "text/plain; charset=utf-8",
                          body: Buffer.from(r.data).toString("utf8"),
                        };
                  },
                },
              },
            }
          : {}),
      },
      chaos: new ChaosCoordinator({
        bus: ctx.bus,
        pauseDomain: (d) => xc.domainPause(d),
        unpauseDomain: (d) => xc.domainUnpause(d),
      }),
      maxConfigBytes: cfg.maxConfigBytes,
      ...(otelEnabled() ? { serverSpan: inServerSpan } : {}),
      ...(token !== undefined ? { auth: { token, onRefused: (why) => apiRefused.inc({ why }) } } : {}),
      parse: {
        maxMemoryMib: cfg.maxDomainMemoryMib ?? cfg.hostMemoryMib,
        // store specs as blkback will read them, memory sizes and file paths by the host's policy
        checkTarget: diskTargetCheck(cfg.disks),
      },
    });
    // domains of a previous run (this service restarted): ours again, missed shutdowns acted on
    const recovered = await toolstack.recover();
    if (recovered.length > 0) log.info({ domids: recovered }, "recovered domains");
    // ... and those a restart lost (xenstore has them, the hypervisor does not): cleaned away before
    // the API takes a request, so no new domain meets their nodes or devices
    const cleaned = await toolstack.cleanStale();
    if (cleaned.length > 0)
      log.warn(
        { cleaned: cleaned.map((c) => ({ domid: c.domid, name: c.name, outcome: c.outcome })) },
        `domains lost in a restart, cleaned away: ${cleaned.map((c) => `${c.domid} (${c.name})`).join(", ")}`,
      );
    new Gauge({
      name: "toolstack_domains",
      help: "domains this toolstack manages",
      registers: reg,
      collect() {
        this.set(toolstack.managedDomids.length);
      },
    });
    const address = await app.listen({ host: cfg.api.host, port: cfg.api.port });
    // Domains lost with the hypervisor (its host restarted): cleaned up, and created again when
    // their on_crash says so, once the host is up (the create flow calls the guest runtime).
    const lostTimer = setTimeout(() => {
      toolstack
        .recoverLost()
        .then((ids) => ids.length > 0 && log.info({ domids: ids }, "lost domains created again"))
        .catch((err: unknown) => log.error({ err: String(err) }, "recovering lost domains failed"));
    }, 1000);
    // A domain that vanishes without an event (its hypervisor's host restarted, in another
    // container or process): one DomainInfo per managed domain every lostCheckMs.
    const lostCheck = setInterval(() => {
      for (const domid of toolstack.managedDomids) void toolstack.handleDomainEvent(domid).catch(() => {});
    }, cfg.lostCheckMs);
    lostCheck.unref();
    log.info(
      { address, guestRuntime: cfg.guest || null, hostMemoryMib: cfg.hostMemoryMib },
      "toolstack started",
    );
    return {
      health: () => ({ ...xs.health(), api: address, domains: toolstack.managedDomids.length }),
      async stop() {
        clearTimeout(lostTimer);
        clearInterval(lostCheck);
        sub.unsubscribe();
        await app.close();
        await Promise.allSettled([...chains.values()]);
        xc.close();
        await xs.close();
        xsCalls?.close();
        guestCalls?.close();
        for (const c of Object.values(dmClients)) c.close();
        displayCalls?.close();
        hvCalls.close();
        log.info("toolstack stopped");
      },
    };
  },
};
