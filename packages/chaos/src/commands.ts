// The commands and replies of the fault API over NATS (for services without HTTP), sent on
// @xensim/subjects CHAOS_SUBJECTS.

import type { FaultHit, FaultSpec } from "./points.js";

export type ChaosCommand =
  | { op: "set"; spec: FaultSpec }
  | { op: "heal"; kind?: string }
  | { op: "status" }
  | { op: "records"; since?: number; /** only hits at or after this wall-clock ms */ sinceAt?: number }
  | { op: "observe"; name: string; action: "start" | "take" | "stop" };

export interface ChaosReply {
  ok: boolean;
  error?: string;
  service: string;
  /** status: the kinds this service has points for, and the active specs. */
  kinds?: string[];
  active?: FaultSpec[];
  healed?: string[];
  records?: FaultHit[];
  /** observe take: what the observer recorded. */
  observation?: unknown;
}

export type HostChaosCommand =
  | { op: "list" }
  | { op: "kill"; service: string }
  | { op: "restart"; service: string }
  | { op: "pause"; service: string }
  | { op: "resume"; service?: string };
