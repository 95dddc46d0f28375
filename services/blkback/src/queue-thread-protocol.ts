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
}

export type ToQueueThread =
  | { kind: "serve"; id: number; handover: BlkbackQueueHandover; stats: SharedArrayBuffer }
  | { kind: "kick"; port: number }
  | { kind: "stop"; id: number; port: number };

export type FromQueueThread =
  | { kind: "reply"; id: number; ok: boolean; error?: string }
  | { kind: "halt"; port: number; err: number; msg: string }
  | { kind: "log"; level: "debug" | "info" | "warn" | "error"; obj: Record<string, unknown>; msg?: string };
