// The service's side of its queue threads (queue-thread.ts): thread q serves queue q ≥ 1 of every
// vbd whose store it can open itself, on dom0 vCPU vcpus[q - 1]. A ring handed over is seen here as
// a BlkbackRemoteRing: its counters come from a shared mirror, stop and kick are messages.
import { MessageChannel, type MessagePort, Worker } from "node:worker_threads";
import {
  type BlkbackQueueHandover,
  type BlkbackQueueThreads,
  type BlkbackRemoteRing,
  type RingStats,
  RingStatsMirror,
} from "@xensim/blkback";
import { XenErrno } from "@xensim/abi";
import type { DriverLogger } from "@xensim/xenbus";
import type { ChaosPoints, FaultSpec } from "@xensim/chaos";
import { MapperLedger } from "@xensim/gnttab";
import type {
  FaultChange,
  FromQueueThread,
  QueueThreadData,
  ToQueueThread,
} from "./queue-thread-protocol.js";
import { storeReopenable } from "./store-opener.js";

export interface QueueThreadsOptions extends Omit<
  QueueThreadData,
  "vcpu" | "statsMs" | "crashAck" | "threadLedger" | "chaosSeed" | "faults" | "faultPort" | "faultGeneration"
> {
  /** dom0 vCPU of thread 1, 2, … */
  vcpus: readonly number[];
  statsMs?: number;
  log: DriverLogger;
  /**
   * The service's fault points: the threads' own points are set and healed with them, their hits
   * recorded here, and blkback.queue-thread-killed kills threads.
   */
  chaos: ChaosPoints;
  /** The service's in-process XenCtrl: unmaps what a dead thread's ledger still holds. */
  releaser: {
    releaseMapperLedger(
      buffer: SharedArrayBuffer,
    ): { released: number; portsClosed: number; stale: number } | undefined;
  };
}

interface Halting {
  halted: boolean;
  onHalt: (err: number, msg: string) => void;
}

class QueueThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(): void; reject(e: Error): void }>();
  /** The rings it serves, by port: where its halts go. */
  readonly rings = new Map<number, Halting>();
  private nextId = 1;
  dead: Error | undefined;

  private readonly crashAck: Int32Array;
  private readonly faultPort: MessagePort;
  private readonly faultGeneration: Int32Array;

  constructor(
    readonly data: Omit<QueueThreadData, "faultPort" | "faultGeneration">,
    log: DriverLogger,
    /** It exited: what its ledger still holds is released (before its rings are failed). */
    onExit: () => void,
    onFaultHit: (hit: Extract<FromQueueThread, { kind: "fault-hit" }>["hit"]) => void,
  ) {
    this.crashAck = new Int32Array(data.crashAck);
    const faults = new MessageChannel();
    this.faultPort = faults.port1;
    const faultGeneration = new SharedArrayBuffer(4);
    this.faultGeneration = new Int32Array(faultGeneration);
    this.worker = new Worker(new URL("./queue-thread.js", import.meta.url), {
      workerData: { ...data, faultPort: faults.port2, faultGeneration } satisfies QueueThreadData,
      transferList: [faults.port2],
      name: `blkback-queue-vcpu${data.vcpu}`,
    });
    this.worker.on("message", (m: FromQueueThread) => {
      if (m.kind === "reply") {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.ok) p?.resolve();
        else p?.reject(new Error(m.error ?? "failed"));
      } else if (m.kind === "halt") {
        const r = this.rings.get(m.port);
        if (r && !r.halted) {
          r.halted = true;
          r.onHalt(m.err, m.msg);
        }
      } else if (m.kind === "fault-hit") onFaultHit(m.hit);
      else log[m.level](m.obj, m.msg);
    });
    const fail = (e: Error) => {
      if (this.dead) return;
      this.dead = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.worker.on("error", (e) => {
      log.error({ err: e }, "blkback queue thread failed");
      fail(e);
    });
    this.worker.on("exit", (code) => {
      fail(new Error(`the queue thread exited (code ${code})`));
      // gone for good (no hypercall of its own can run now): what it mapped is released at once
      onExit();
      // its rings are served no more: xenbus_dev_fatal, the devices go to Closing with an error
      // node, as after a halt; the frontend closes and may connect again (on a new thread)
      for (const r of this.rings.values())
        if (!r.halted) {
          r.halted = true;
          r.onHalt(-XenErrno.EIO, `queue thread (vCPU ${data.vcpu}) died: ${this.dead!.message}`);
        }
    });
  }

  /** Set or heal one of its fault points (the service's was). */
  fault(faultKind: string, spec: FaultSpec | undefined): void {
    if (this.dead) return;
    this.faultPort.postMessage({ faultKind, ...(spec ? { spec } : {}) } satisfies FaultChange);
    Atomics.add(this.faultGeneration, 0, 1);
  }

  request(m: ToQueueThread extends infer T ? (T extends { id: number } ? Omit<T, "id"> : never) : never) {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...m, id });
    });
  }

  kick(port: number): void {
    if (!this.dead) this.worker.postMessage({ kind: "kick", port } satisfies ToQueueThread);
  }

  /** The service's worker is exiting without its stop hook: the thread exits at a task boundary. */
  crash(): void {
    if (this.dead) return;
    this.worker.postMessage({ kind: "crash" } satisfies ToQueueThread);
  }
  /** Wait (blocking, bounded) until it has left its tasks. */
  awaitCrash(timeoutMs: number): void {
    if (this.dead) return;
    Atomics.wait(this.crashAck, 0, 0, timeoutMs);
  }

  async terminate(): Promise<void> {
    this.dead ??= new Error("blkback stopped");
    await this.worker.terminate();
    this.faultPort.close();
  }
}

export class QueueThreads implements BlkbackQueueThreads {
  private readonly threads: (QueueThread | undefined)[] = [];

  /**
   * A crash of the service's worker (process.exit with no stop hook): Node would terminate the
   * threads wherever they are, perhaps inside a grant map holding dom0's maptrack lock, which the
   * next blkback would then wait on forever. Each thread is told to exit between its tasks first.
   */
  private readonly onExit = () => {
    const ts = this.threads.filter((t): t is QueueThread => t !== undefined);
    for (const t of ts) t.crash();
    for (const t of ts) t.awaitCrash(2000);
  };

  private readonly unwatch: () => void;

  constructor(private readonly options: QueueThreadsOptions) {
    process.on("exit", this.onExit);
    const chaos = options.chaos;
    const killed = chaos.point("blkback.queue-thread-killed");
    // one control path: a fault set or healed on the service is set or healed on every thread
    this.unwatch = chaos.watch((kind, spec) => {
      for (const t of this.threads) t?.fault(kind, spec);
      if (kind === killed.kind && spec)
        for (const t of this.threads)
          if (t && !t.dead && killed.hit(`queue thread on vCPU ${t.data.vcpu}`)) t.crash();
    });
  }

  vcpuFor(queue: number, params: string): number | undefined {
    if (queue < 1 || queue > this.options.vcpus.length || !storeReopenable(params)) return undefined;
    return this.options.vcpus[queue - 1];
  }

  private thread(queue: number): QueueThread {
    let t = this.threads[queue];
    if (t === undefined || t.dead) {
      const o = this.options;
      const data: Omit<QueueThreadData, "faultPort" | "faultGeneration"> = {
        sab: o.sab,
        domid: o.domid,
        vcpu: o.vcpus[queue - 1]!,
        ...(o.mapperLedger ? { mapperLedger: o.mapperLedger } : {}),
        pollUs: o.pollUs,
        params: o.params,
        statsMs: o.statsMs ?? 20,
        crashAck: new SharedArrayBuffer(4),
        threadLedger: MapperLedger.create().buffer,
        // its own PRNG stream per queue (a spec's own seed is used as given)
        chaosSeed: (o.chaos.seed + Math.imul(0x9e3779b9, queue)) >>> 0,
        faults: o.chaos.active.filter((f) => f.kind !== "blkback.queue-thread-killed"),
      };
      t = new QueueThread(
        data,
        o.log,
        () => {
          const r = o.releaser.releaseMapperLedger(data.threadLedger);
          if (r && r.released + r.portsClosed + r.stale > 0)
            o.log.warn(
              { event: "mappings-released", vcpu: data.vcpu, ...r },
              `released ${r.released} grant mapping(s) and closed ${r.portsClosed} port(s) the dead queue thread held`,
            );
        },
        (hit) => o.chaos.record(hit),
      );
      this.threads[queue] = t;
    }
    return t;
  }

  async serve(
    h: BlkbackQueueHandover,
    onHalt: (err: number, msg: string) => void,
  ): Promise<BlkbackRemoteRing> {
    const t = this.thread(h.queue);
    const mirror = new RingStatsMirror();
    const halting: Halting = { halted: false, onHalt };
    t.rings.set(h.port, halting);
    try {
      await t.request({ kind: "serve", handover: h, stats: mirror.buffer });
    } catch (e) {
      t.rings.delete(h.port);
      throw e;
    }
    return {
      get isHalted() {
        return halting.halted;
      },
      kick: () => t.kick(h.port),
      collectStats: (into: RingStats) => mirror.collect(into),
      stop: async () => {
        t.rings.delete(h.port);
        // a dead thread serves nothing: its maps are the ledger's to release
        if (!t.dead) await t.request({ kind: "stop", port: h.port }).catch(() => {});
      },
    };
  }

  async close(): Promise<void> {
    process.off("exit", this.onExit);
    this.unwatch();
    const ts = this.threads.filter((t): t is QueueThread => t !== undefined);
    this.threads.length = 0;
    await Promise.all(ts.map((t) => t.terminate()));
  }
}
