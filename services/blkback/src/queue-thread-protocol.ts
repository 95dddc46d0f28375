// Messages between the blkback service's thread and its queue threads (queue-thread.ts).
import type { BlkbackQueueHandover } from "@xensim/blkback";
import type { BlkbackServiceConfig } from "./config.js";

/** workerData of a queue thread. */
export interface QueueThreadData {
  /** The host's page store (in-process placement only). */
  sab: SharedArrayBuffer;
  domid: number;
  /** The dom0 vCPU this thread receives on (its rings' ports are bound there). */
  vcpu: number;
  /** The service's mapper ledger: a thread's maps are released with the service's when it dies. */
  mapperLedger?: SharedArrayBuffer;
  pollUs: number;
  params: BlkbackServiceConfig["params"];
  /** How often the rings' counters are published to the service (ms). */
  statsMs: number;
  /**
   * The crash handshake word: when the service's worker exits without its stop hook (a crash,
   * chaos kill), the thread is told to exit too, sets this word to 1 at a task boundary (never
   * inside a synchronous hypercall, which would leave a grant-table lock of the shared memory held)
   * and exits.
   */
  crashAck: SharedArrayBuffer;
}

export type ToQueueThread =
  | { kind: "serve"; id: number; handover: BlkbackQueueHandover; stats: SharedArrayBuffer }
  | { kind: "kick"; port: number }
  | { kind: "stop"; id: number; port: number }
  | { kind: "crash" };

export type FromQueueThread =
  | { kind: "reply"; id: number; ok: boolean; error?: string }
  | { kind: "halt"; port: number; err: number; msg: string }
  | { kind: "log"; level: "debug" | "info" | "warn" | "error"; obj: Record<string, unknown>; msg?: string };
