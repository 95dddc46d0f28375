// Messages between the blkback service's thread and its queue threads (queue-thread.ts).
import type { BlkbackQueueHandover } from "@xensim/blkback";
import type { FaultHit, FaultSpec } from "@xensim/chaos";
import type { MessagePort } from "node:worker_threads";
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
  /**
   * The thread's own mapper ledger (it records every map in both): when the thread dies and the
   * service lives, the service unmaps what is recorded here at once (gntdev's release on close).
   */
  threadLedger: SharedArrayBuffer;
  /**
   * The seed of the thread's fault points and the service's faults set when it started: the
   * thread keeps points of its own (grant.*, evtchn.*, store.*, backend.*, ring.response-corrupted),
   * set and healed with the service's (one control path: xensim.chaos.svc.blkback).
   */
  chaosSeed: number;
  faults: FaultSpec[];
  /**
   * Where the service's fault changes come (FaultChange messages), and a word it bumps after each:
   * the thread looks at the word before it takes requests off a ring and drains the port at once
   * when it moved, so a fault set before a request was queued applies to that request.
   */
  faultPort: MessagePort;
  faultGeneration: SharedArrayBuffer;
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

/** On the fault port: the service's point `faultKind` was set (spec) or healed (no spec). */
export interface FaultChange {
  faultKind: string;
  spec?: FaultSpec;
}

export type FromQueueThread =
  | { kind: "reply"; id: number; ok: boolean; error?: string }
  | { kind: "halt"; port: number; err: number; msg: string }
  /** A fault the thread injected: recorded in the service's chaos record. */
  | { kind: "fault-hit"; hit: Pick<FaultHit, "kind" | "target" | "delayMs" | "code"> }
  | { kind: "log"; level: "debug" | "info" | "warn" | "error"; obj: Record<string, unknown>; msg?: string };
