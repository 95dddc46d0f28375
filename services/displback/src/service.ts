// displback as a service: connects to xenstored (as dom0) and the hypervisor (XenCtrl), runs the
// DisplbackDriver of @xensim/displback, serves the Display call API (screens and their frames) and
// exports per-connector metrics. Wiring only: the protocol lives in the packages.
import { performance } from "node:perf_hooks";
import { XenErrno } from "@xensim/abi";
import { DOM0_ONLY } from "@xensim/bus";
import { DisplbackDriver, type DisplbackScreen } from "@xensim/displback";
import {
  type FrameRequest__Output,
  loadDisplayProto,
  loadHypervisorProto,
  loadXenstoreProto,
} from "@xensim/proto";
import type { ServiceContext, ServiceModule } from "@xensim/runtime";
import { retry } from "@xensim/runtime";
import { XenCtrl } from "@xensim/xenctrl";
import { connectXenstore, type XenstoreClient } from "@xensim/xenstore-client";
import { Gauge } from "prom-client";
import { type DisplbackServiceConfig, DisplbackServiceConfigSchema } from "./config.js";

function screenProto(s: DisplbackScreen) {
  return {
    domid: s.frontend,
    devid: s.devid,
    connector: s.connector,
    uniqueId: s.uniqueId,
    width: s.width,
    height: s.height,
    frames: s.frames,
    lastFlipMs: s.lastFlipAt,
  };
}

export const displbackService: ServiceModule<DisplbackServiceConfig> = {
  name: "displback",
  configSchema: DisplbackServiceConfigSchema,
  async start(ctx: ServiceContext<DisplbackServiceConfig>) {
    const cfg = ctx.config;
    const log = ctx.log;
    const hvCalls = ctx.calls.client(
      loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service,
      cfg.hypervisor,
    );
    // With the hypervisor in another host process the data path goes over this host's link (its
    // page-server must run): grant maps, kicks and events are link records (docs/data-plane.md).
    const remote = cfg.hypervisorHost !== "" && cfg.hypervisorHost !== ctx.hostId;
    const xc = await retry(
      "attaching to the page store",
      async () =>
        new XenCtrl({
          domid: cfg.domid,
          calls: hvCalls,
          ...(ctx.sharedMemory ? { store: ctx.sharedMemory } : {}),
          ...(remote ? { hypervisorHost: cfg.hypervisorHost } : {}),
          ...(ctx.mapperLedger ? { mapperLedger: ctx.mapperLedger } : {}),
        }),
      ctx,
    );
    if (!ctx.sharedMemory) log.warn("no shared page store: displback cannot map guest memory here");
    const xsCalls =
      cfg.xenstoredSocket === ""
        ? ctx.calls.client(loadXenstoreProto().xensim.xenstore.v1.Xenstore.service, cfg.xenstored)
        : undefined;
    const xs: XenstoreClient = await retry(
      "connecting to xenstored",
      () =>
        xsCalls
          ? connectXenstore({ calls: xsCalls, bus: ctx.bus, clientName: "displback" })
          : connectXenstore({ socket: cfg.xenstoredSocket }),
      ctx,
    );
    const timer = {
      setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
      clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout),
    };
    const driver = await retry(
      "starting the displback driver",
      () =>
        DisplbackDriver.start({
          store: xs,
          hv: xc,
          self: cfg.domid,
          vcpu: cfg.vcpu,
          clock: () => performance.now(),
          log,
          timer,
          limits: { maxBufferBytes: cfg.maxBufferMib << 20, maxBuffers: cfg.maxBuffers },
          allocFirstGfn: cfg.allocFirstGfn,
          allocMaxPages: cfg.allocMaxPages,
          grantRefFirst: cfg.grantRefFirst,
          grantRefCount: cfg.grantRefCount,
          onError: (err) => log.error({ err }, "displback error"),
        }),
      ctx,
    );

    const reg = [ctx.metrics];
    const labelNames = ["domid", "devid", "connector"] as const;
    const perConnector = (name: string, help: string, get: (s: DisplbackScreen) => number) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: reg,
        collect() {
          this.reset();
          for (const s of driver.screens())
            this.set({ domid: s.frontend, devid: s.devid, connector: s.connector }, get(s));
        },
      });
    perConnector("displback_frames_total", "page flips shown per connector", (s) => s.frames);
    new Gauge({
      name: "displback_buffer_pages",
      help: "display-buffer pages mapped or granted",
      registers: reg,
      collect() {
        this.set(driver.bufferPagesInUse);
      },
    });

    const def = loadDisplayProto().xensim.display.v1.Display.service;
    ctx.calls.authorize(DOM0_ONLY); // a guest's screen is dom0's to read (issue 14)
    ctx.calls.server.addService(def, {
      ListScreens: async () => ({ screens: driver.screens().map(screenProto) }),
      GetFrame: async (req: FrameRequest__Output) => {
        const s = driver.screen(req.domid, req.devid || "0", req.connector);
        if (!s) return { rc: -XenErrno.ENOENT, rgba: Buffer.alloc(0) };
        return { rc: 0, screen: screenProto(s), rgba: Buffer.from(s.scanout.toRgba()) };
      },
    });
    log.info({ vcpu: cfg.vcpu }, "displback started");
    return {
      health: () => ({ status: "ok", devices: driver.devices.size, screens: driver.screens().length }),
      async stop() {
        // Best effort: the hypervisor or xenstored may already be gone (a host stopping).
        await driver.close().catch((err: unknown) => log.warn({ err }, "closing the driver"));
        await xs.close().catch(() => {});
        xc.close();
        log.info("displback stopped");
      },
    };
  },
};
