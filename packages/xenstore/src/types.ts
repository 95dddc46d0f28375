// Public types of the engine: connections, outputs, mutations, effects, snapshots.

import type { XsPerm } from "./perms.js";
import type { Quotas } from "./quota.js";
import type { XsMessage } from "./wire.js";

export type ConnId = number;

export interface EngineOptions {
  quotas?: Partial<Quotas>;
  /** Error name for quota hits: C xenstored's "ENOSPC" (default) or oxenstored's "EQUOTA". */
  quotaError?: "xenstored" | "oxenstored";
  /**
   * Called when handling a request hit a bug in the engine (an unexpected exception). The request is
   * then answered EIO and leaves no trace. Tests pass a function that rethrows.
   */
  onInternalError?: (err: unknown) => void;
}

export interface ConnectOptions {
  domid: number;
  /** Privileged connections bypass permissions and quotas. Default: domid === 0. */
  privileged?: boolean;
  /** Free text for diagnostics (e.g. "socket", "ring"). */
  label?: string;
}

/** A WATCH_EVENT for a connection. */
export interface WatchDelivery {
  conn: ConnId;
  msg: XsMessage;
}

/** A committed change of the main tree, in order, for a journal. */
export type Mutation =
  /** Create or update one node (value and permissions); a new node is appended to its parent's children. */
  | { op: "set"; path: string; value: Uint8Array; perms: XsPerm[] }
  /** Remove a subtree. */
  | { op: "rm"; path: string }
  /** A domain was introduced (or re-introduced, or given a target) or forgotten. */
  | { op: "domain"; domid: number; introduced: boolean; mfn?: string; port?: number; target?: number };

/** Something the service has to do in the world outside the store. */
export type Effect =
  /** Map the domain's ring page and bind its event channel (also sent on re-introduction). */
  | { kind: "introduce"; domid: number; mfn: string; port: number }
  /** Drop the domain's ring connection. */
  | { kind: "release"; domid: number }
  | { kind: "resume"; domid: number };

export interface Output {
  /** The reply to the request; null means: drop the connection. */
  reply: XsMessage | null;
  events: WatchDelivery[];
  mutations: Mutation[];
  effects: Effect[];
}

export interface WatchInfo {
  /** As registered (relative watches stay relative). */
  path: string;
  token: string;
  /** -1: no depth limit. */
  depth: number;
}

export interface ConnectionInfo {
  conn: ConnId;
  domid: number;
  privileged: boolean;
  label: string | undefined;
  /** Target domain (SET_TARGET) whose rights this connection has, if any. */
  target: number | undefined;
  watches: WatchInfo[];
  transactions: number[];
}

export interface QuotaUsage {
  domid: number;
  nodes: number;
  watches: number;
  transactions: number;
  /**
   * Store memory of the domain: its nodes (size + name), watches (path + token), transactions
   * (private node copies, accessed names) and the output queued for its connections.
   */
  memory: number;
  /** Of `memory`: reply and watch-event bytes queued for the domain's connections. */
  output: number;
  /** The quotas that apply to the domain (its own where set, else the global ones). */
  quotas: Quotas;
  softMemoryQuota: number;
}

/** A JSON-serialisable copy of the store: tree, permissions, generation counts, domains, quotas. */
export interface XenstoreSnapshot {
  format: "xensim-xenstore";
  version: 1;
  generation: number;
  /** Pre-order from "/" (children in order), then the special nodes. */
  nodes: SnapshotNode[];
  domains: SnapshotDomain[];
  quotas: Quotas;
}

export interface SnapshotNode {
  path: string;
  /** base64 */
  value: string;
  /** Permission strings, e.g. ["n0", "r5"]. */
  perms: string[];
  children: string[];
  generation: number;
}

export interface SnapshotDomain {
  domid: number;
  introduced: boolean;
  mfn?: string;
  port?: number;
  target?: number;
  shutdown?: boolean;
}
