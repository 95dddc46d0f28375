// A blkback queue thread (Linux's kthread per ring, xen_blkif_schedule): serves the rings the
// service's thread mapped and handed over, on its own event loop. It receives on its own dom0 vCPU
// (the service bound the rings' ports there), maps data grants and kicks through its own in-process
// XenCtrl over the host's page store (recording in the service's mapper ledger), opens its own
// instance of each vbd's store from `params`, and publishes each ring's counters to a shared mirror.
import { parentPort, receiveMessageOnPort, workerData } from "node:worker_threads";
import { performance } from "node:perf_hooks";
import { BlkbackRing, RingStats, RingStatsMirror } from "@xensim/blkback";
import { ChaosStore, STORE_FAULT_KINDS } from "@xensim/blkstore";
import { ChaosPoints, type FaultSpec } from "@xensim/chaos";
import type { BlockStore } from "@xensim/blkif";
import type { CallClient } from "@xensim/bus";
import { XenCtrl } from "@xensim/xenctrl";
import { type DriverLogger, PortDispatcher } from "@xensim/xenbus";
import type {
  FaultChange,
  FromQueueThread,
  QueueThreadData,
  ToQueueThread,
} from "./queue-thread-protocol.js";
import { storeOpener } from "./store-opener.js";
import { corruptResponsePoint, duplicateResponsePoint } from "./ring-faults.js";

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
  // The thread's own fault points, armed and healed with the service's; what they inject goes to
  // the service's chaos record.
  const chaos = new ChaosPoints({ service: "blkback", now: Date.now, seed: d.chaosSeed });
  chaos.onRecord = (h) =>
    post({
      kind: "fault-hit",
      hit: {
        kind: h.kind,
        target: `${h.target} (queue thread, vCPU ${d.vcpu})`,
        ...(h.delayMs !== undefined ? { delayMs: h.delayMs } : {}),
        ...(h.code !== undefined ? { code: h.code } : {}),
      },
    });
  const xc = new XenCtrl({
    domid: d.domid,
    calls: noCalls,
    store: d.sab,
    chaos,
    // both: the host releases the service's ledger if the service dies, the service ours if we do
    mapperLedger: d.mapperLedger ? [d.mapperLedger, d.threadLedger] : [d.threadLedger],
  });
  for (const k of STORE_FAULT_KINDS) chaos.point(k);
  const corruptResponse = corruptResponsePoint(chaos);
  const duplicateResponse = duplicateResponsePoint(chaos);
  const setFault = (kind: string, spec: FaultSpec | undefined) => {
    if (!chaos.kinds.includes(kind)) return; // a point of the service's thread only (clock, bus, …)
    if (spec) chaos.set(spec);
    else chaos.heal(kind);
  };
  for (const s of d.faults) setFault(s.kind, s);
  // The service's fault changes: taken as they come, and drained at once (one atomic load when
  // nothing changed) before requests are taken off a ring.
  const faultGeneration = new Int32Array(d.faultGeneration);
  let faultsSeen = 0;
  const onFaultChange = (c: FaultChange) => setFault(c.faultKind, c.spec);
  d.faultPort.on("message", onFaultChange);
  const syncFaults = () => {
    const g = Atomics.load(faultGeneration, 0);
    if (g === faultsSeen) return;
    faultsSeen = g;
    for (let m = receiveMessageOnPort(d.faultPort); m; m = receiveMessageOnPort(d.faultPort))
      onFaultChange(m.message as FaultChange);
  };
  const plainStore = storeOpener(d.params);
  const openStore = async (params: string, mode: "r" | "w") =>
    new ChaosStore(await plainStore(params, mode), chaos, params);
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
    d.pollUs > 0
      ? {
          ms: d.pollUs / 1000,
          defer: (fn: () => void) =>
            setImmediate(() => {
              syncFaults();
              fn();
            }),
        }
      : undefined;

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
        corruptResponse,
        duplicateResponse,
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
      syncFaults();
      ring.kick();
    });
    syncFaults();
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
      syncFaults();
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
    d.faultPort.close();
    clearInterval(timer);
    receiver.close();
  });
}

run(workerData as QueueThreadData);
