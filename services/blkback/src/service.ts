// blkback as a service: connects to xenstored (as dom0) and the hypervisor (XenCtrl, in-process
// when the host shares the page store), runs the BlkbackDriver of @xensim/blkback over the host's
// block stores, and exports per-ring metrics. Wiring only: the protocol lives in the package.
import { performance } from "node:perf_hooks";
import { BlkbackDriver, type BlkbackHypervisor, type BlkbackStoreOpener } from "@xensim/blkback";
import { ChaosStore, STORE_FAULT_KINDS } from "@xensim/blkstore";
import type { ChaosPoints } from "@xensim/chaos";
import { loadHypervisorProto, loadXenstoreProto } from "@xensim/proto";
import type { ServiceContext, ServiceModule } from "@xensim/runtime";
import { retry } from "@xensim/runtime";
import { XenCtrl } from "@xensim/xenctrl";
import { connectXenstore, type XenstoreClient } from "@xensim/xenstore-client";
import { Counter, Gauge } from "prom-client";
import { type BlkbackServiceConfig, BlkbackServiceConfigSchema } from "./config.js";
import { registerRingLatencyHistogram } from "./latency-metric.js";
import { QueueThreads } from "./queue-threads.js";
import { storeOpener } from "./store-opener.js";
import { corruptResponsePoint, duplicateResponsePoint } from "./ring-faults.js";

export { storeOpener };

/** Every store behind the chaos plane's store.* and backend.* fault points. */
function chaosStoreOpener(open: BlkbackStoreOpener, chaos: ChaosPoints): BlkbackStoreOpener {
  // the points exist before any disk does: a fault set now applies to the disks opened later
  for (const k of STORE_FAULT_KINDS) chaos.point(k);
  return async (params, mode) => new ChaosStore(await open(params, mode), chaos, params);
}

export const blkbackService: ServiceModule<BlkbackServiceConfig> = {
  name: "blkback",
  configSchema: BlkbackServiceConfigSchema,
  async start(ctx: ServiceContext<BlkbackServiceConfig>) {
    const cfg = ctx.config;
    const log = ctx.log;
    const hvCalls = ctx.calls.client(
      loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service,
      cfg.hypervisor,
    );
    // The hypervisor formats the host's page store when it starts: attach once it has. With the
    // hypervisor in another host process, the data path goes over this host's link.
    const xc = await retry(
      "attaching to the page store",
      async () =>
        new XenCtrl({
          domid: cfg.domid,
          calls: hvCalls,
          ...(ctx.sharedMemory ? { store: ctx.sharedMemory } : {}),
          ...(cfg.hypervisorHost !== "" && cfg.hypervisorHost !== ctx.hostId
            ? { hypervisorHost: cfg.hypervisorHost }
            : {}),
          chaos: ctx.chaos,
          ...(ctx.mapperLedger ? { mapperLedger: ctx.mapperLedger } : {}),
        }),
      ctx,
    );
    if (!ctx.sharedMemory) log.warn("no shared page store: blkback cannot map guest memory here");
    const xsCalls =
      cfg.xenstoredSocket === ""
        ? ctx.calls.client(loadXenstoreProto().xensim.xenstore.v1.Xenstore.service, cfg.xenstored)
        : undefined;
    const xs: XenstoreClient = await retry(
      "connecting to xenstored",
      () =>
        xsCalls
          ? connectXenstore({ calls: xsCalls, bus: ctx.bus, clientName: "blkback" })
          : connectXenstore({ socket: cfg.xenstoredSocket }),
      ctx,
    );

    // A thread per queue (opt-in), when the hypervisor shares this host process: the threads map
    // and kick through the page store themselves.
    const queueThreads =
      cfg.queueThreads && xc.inProcess && ctx.sharedMemory
        ? new QueueThreads({
            sab: ctx.sharedMemory,
            domid: cfg.domid,
            vcpus: cfg.queueThreadVcpus,
            ...(ctx.mapperLedger ? { mapperLedger: ctx.mapperLedger } : {}),
            pollUs: cfg.pollUs,
            params: cfg.params,
            log,
            chaos: ctx.chaos,
            releaser: xc,
          })
        : undefined;
    if (cfg.queueThreads && !queueThreads)
      log.warn("queueThreads needs the hypervisor in this host process: every queue is served here");

    const reg = [ctx.metrics];
    const labelNames = ["domid", "devid", "queue"] as const;
    const hv: BlkbackHypervisor = xc;
    const driver = await retry(
      "starting the blkback driver",
      () =>
        BlkbackDriver.start({
          store: xs,
          hv,
          self: cfg.domid,
          vcpu: cfg.vcpu,
          openStore: chaosStoreOpener(storeOpener(cfg.params), ctx.chaos),
          corruptResponse: corruptResponsePoint(ctx.chaos),
          duplicateResponse: duplicateResponsePoint(ctx.chaos),
          config: {
            maxRingPageOrder: cfg.maxRingPageOrder,
            maxQueues: cfg.maxQueues,
            maxIndirectSegments: cfg.maxIndirectSegments,
            persistent: cfg.persistent,
          },
          maxPersistentGrants: cfg.maxPersistentGrants,
          clock: () => performance.now(),
          ...(cfg.pollUs > 0
            ? { poll: { ms: cfg.pollUs / 1000, defer: (fn: () => void) => setImmediate(fn) } }
            : {}),
          log,
          ...(queueThreads ? { queueThreads } : {}),
          onError: (err) => log.error({ err }, "blkback error"),
        }),
      ctx,
    );

    // The rings' own latency histograms, read at scrape time (nothing per I/O here).
    registerRingLatencyHistogram(
      ctx.metrics,
      "blkback_io_latency_seconds",
      "request latency from consume to response, per ring",
      driver,
    );
    const gauge = (name: string, help: string, get: (s: ReturnType<typeof driver.rings>[number]) => number) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: reg,
        collect() {
          this.reset();
          for (const r of driver.rings())
            this.set({ domid: r.frontend, devid: r.devid, queue: r.queue }, get(r));
        },
      });
    // Counters mirror the rings' stats at scrape time (the stats object outlives reconnects).
    const counter = (
      name: string,
      help: string,
      get: (s: ReturnType<typeof driver.rings>[number]) => number,
    ) => {
      const last = new Map<string, number>();
      return new Counter({
        name,
        help,
        labelNames,
        registers: reg,
        collect() {
          for (const r of driver.rings()) {
            const key = `${r.frontend}/${r.devid}/${r.queue}`;
            const v = get(r);
            const prev = last.get(key) ?? 0;
            if (v > prev) this.inc({ domid: r.frontend, devid: r.devid, queue: r.queue }, v - prev);
            last.set(key, v);
          }
        },
      });
    };
    gauge(
      "blkback_ring_outstanding_requests",
      "requests consumed and not yet answered",
      (r) => r.stats.outstanding,
    );
    gauge("blkback_ring_persistent_grants", "persistent grants mapped", (r) => r.stats.persistentGrants);
    gauge("blkback_ring_connected", "1 while the ring is served", (r) => {
      const ring = r.ring ?? r.remote;
      return ring && !ring.isHalted ? 1 : 0;
    });
    gauge(
      "blkback_ring_on_queue_thread",
      "1 while the ring is served on a queue thread of its own (queueThreads), 0 on the service's thread",
      (r) => (r.remote ? 1 : 0),
    );
    counter("blkback_requests_total", "requests consumed", (r) => r.stats.requests);
    counter(
      "blkback_io_completed_total",
      "requests answered OKAY (IOPS when rated)",
      (r) => r.stats.completed,
    );
    counter("blkback_io_errors_total", "requests answered ERROR or EOPNOTSUPP", (r) => r.stats.errors);
    counter(
      "blkback_notifications_sent_total",
      "responses pushed with an event to the frontend",
      (r) => r.stats.notificationsSent,
    );
    counter(
      "blkback_notifications_suppressed_total",
      "responses pushed without an event (frontend not waiting)",
      (r) => r.stats.notificationsSuppressed,
    );
    counter("blkback_events_received_total", "event-channel kicks received", (r) => r.stats.eventsReceived);
    counter("blkback_read_sectors_total", "512-byte sectors read", (r) => r.stats.readSectors);
    counter("blkback_write_sectors_total", "512-byte sectors written", (r) => r.stats.writeSectors);
    counter("blkback_grants_mapped_total", "data/indirect grant maps", (r) => r.stats.grantsMapped);

    log.info({ root: `/local/domain/${cfg.domid}/backend/vbd`, inProcess: xc.inProcess }, "blkback started");
    return {
      health: () => {
        const rings = driver.rings();
        const halted = rings.filter((r) => (r.ring ?? r.remote)?.isHalted === true).length;
        return {
          ...xs.health(),
          devices: driver.devices.size,
          rings: rings.filter((r) => (r.ring ?? r.remote) !== undefined).length,
          halted,
          inProcess: xc.inProcess,
        };
      },
      async stop() {
        await driver.close();
        await queueThreads?.close();
        xc.close();
        await xs.close();
        xsCalls?.close();
        hvCalls.close();
        log.info("blkback stopped");
      },
    };
  },
};
