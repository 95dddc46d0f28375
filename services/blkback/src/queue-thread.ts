// A blkback queue thread (Linux's kthread per ring, xen_blkif_schedule): serves the rings the
// service's thread mapped and handed over, on its own event loop. It receives on its own dom0 vCPU
// (the service bound the rings' ports there), maps data grants and kicks through its own in-process
// XenCtrl over the host's page store (recording in the service's mapper ledger), opens its own
// instance of each vbd's store from `params`, and publishes each ring's counters to a shared mirror.
import { parentPort, workerData } from "node:worker_threads";
import { performance } from "node:perf_hooks";
import { BlkbackRing, RingStats, RingStatsMirror } from "@xensim/blkback";
import type { BlockStore } from "@xensim/blkif";
import type { CallClient } from "@xensim/bus";
import { XenCtrl } from "@xensim/xenctrl";
import { type DriverLogger, PortDispatcher } from "@xensim/xenbus";
import type { FromQueueThread, QueueThreadData, ToQueueThread } from "./queue-thread-protocol.js";
import { storeOpener } from "./store-opener.js";

interface Served {
  ring: BlkbackRing;
  store: BlockStore;
  stats: RingStats;
  mirror: RingStatsMirror;
}

function run(d: QueueThreadData): void {
  const port = parentPort!;
  const post = (m: FromQueueThread) => port.postMessage(m);
  const logger = (bindings: Record<string, unknown>): DriverLogger => {
    const at = (level: "debug" | "info" | "warn" | "error") => (obj: object, msg?: string) => {
      if (level === "debug") return;
      const o: Record<string, unknown> = { ...bindings };
      for (const [k, v] of Object.entries(obj)) o[k] = v instanceof Error ? v.message : v;
      post({ kind: "log", level, obj: o, ...(msg !== undefined ? { msg } : {}) });
    };
    return {
      debug: at("debug"),
      info: at("info"),
      warn: at("warn"),
      error: at("error"),
      child: (more) => logger({ ...bindings, ...more }),
    };
  };
  const log = logger({ vcpu: d.vcpu });
  // Every hypervisor call a ring makes is in-process (grant map/unmap, kick): no call client.
  const noCalls: CallClient = {
    call: (method) =>
      Promise.reject(new Error(`a blkback queue thread makes no hypervisor call (${method})`)),
    close: () => {},
    faults: undefined as unknown as CallClient["faults"],
  };
  const xc = new XenCtrl({
    domid: d.domid,
    calls: noCalls,
    store: d.sab,
    ...(d.mapperLedger ? { mapperLedger: d.mapperLedger } : {}),
  });
  const openStore = storeOpener(d.params);
  const served = new Map<number, Served>();
  const ports = new PortDispatcher();
  const receiver = xc.waitForEvents(d.domid, (p) => ports.dispatch(p), {
    vcpu: d.vcpu,
    onError: (err, p) => log.error({ err, port: p }, "event delivery failed"),
  });
  const publish = () => {
    for (const s of served.values()) s.mirror.publish(s.stats);
  };
  const timer = setInterval(publish, d.statsMs);
  const poll =
    d.pollUs > 0 ? { ms: d.pollUs / 1000, defer: (fn: () => void) => setImmediate(fn) } : undefined;

  const serve = async (m: Extract<ToQueueThread, { kind: "serve" }>) => {
    const h = m.handover;
    const store = await openStore(h.params, h.mode);
    const stats = new RingStats();
    let ring: BlkbackRing;
    try {
      ring = new BlkbackRing({
        hv: xc,
        frontend: h.frontend,
        self: h.self,
        device: h.device,
        view: xc.store!.viewOfFrames(h.frames),
        nrPages: h.nrPages,
        abi: h.abi,
        port: h.port,
        store,
        limits: h.limits,
        persistent: h.persistent,
        ...(h.maxPersistentGrants !== undefined ? { maxPersistentGrants: h.maxPersistentGrants } : {}),
        clock: () => performance.now(),
        ...(poll ? { poll } : {}),
        log: logger({ vcpu: d.vcpu, device: h.device, queue: h.queue }),
        stats,
        onHalt: (err, msg) => post({ kind: "halt", port: h.port, err, msg }),
      });
    } catch (e) {
      await store.close().catch(() => {});
      throw e;
    }
    served.set(h.port, { ring, store, stats, mirror: new RingStatsMirror(m.stats) });
    ports.on(h.port, () => {
      stats.eventsReceived++;
      ring.kick();
    });
    ring.kick();
  };

  const stop = async (p: number) => {
    const s = served.get(p);
    if (!s) return;
    served.delete(p);
    ports.off(p);
    await s.ring.stop();
    s.mirror.publish(s.stats);
    await s.store.close();
  };

  const crashAck = new Int32Array(d.crashAck);
  port.on("message", (m: ToQueueThread) => {
    if (m.kind === "crash") {
      // between tasks: no hypercall of ours is half done
      Atomics.store(crashAck, 0, 1);
      Atomics.notify(crashAck, 0);
      process.exit(137);
    }
    if (m.kind === "kick") {
      served.get(m.port)?.ring.kick();
      return;
    }
    const done = m.kind === "serve" ? serve(m) : stop(m.port);
    done.then(
      () => post({ kind: "reply", id: m.id, ok: true }),
      (e: unknown) =>
        post({ kind: "reply", id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
    );
  });
  port.on("close", () => {
    clearInterval(timer);
    receiver.close();
  });
}

run(workerData as QueueThreadData);
