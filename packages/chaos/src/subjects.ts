// The NATS control subjects of the fault API (for services without HTTP). Control traffic is
// never subject to the faults it sets: the bus sends everything under xensim.fault.> and
// xensim.chaos.> (and control replies) past its fault stage.

import type { FaultHit, FaultSpec } from "./points.js";

export const CHAOS_SUBJECTS = {
  /** Request: a ChaosCommand to one service's fault points. */
  service: (service: string): string => `xensim.chaos.svc.${service}`,
  /** Request: a HostChaosCommand to a host process (kill, restart, pause, resume a worker). */
  host: (hostId: string): string => `xensim.chaos.host.${hostId}`,
  /** Every host process answers a HostChaosCommand {op: "list"} here. */
  hosts: "xensim.chaos.hosts",
  /** Events: every fault a point injects, as it happens (FaultHit JSON). */
  hits: (service: string): string => `xensim.chaos.hit.${service}`,
} as const;

export type ChaosCommand =
  | { op: "set"; spec: FaultSpec }
  | { op: "heal"; kind?: string }
  | { op: "status" }
  | { op: "records"; since?: number }
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
