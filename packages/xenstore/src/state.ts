// What the engine keeps between requests: the committed tree, the connections with their watches
// and transactions, the domains, the quotas and the global generation counter. The request handlers
// in the other files of this package read and change it; the engine only dispatches.

import type { XsErrorName } from "@xensim/abi";
import { XsError } from "./errors.js";
import type { XsPerm } from "./perms.js";
import type { Quotas } from "./quota.js";
import { type Layer, MainTree } from "./tree.js";
import type { ConnId, Mutation } from "./types.js";

/** How a changed node name is matched against watches (C enum watch_match). */
export type WatchMatch = "exact" | "subtree" | "depth" | "nodepth";

export interface Watch {
  /** Canonical (absolute or special) path. */
  node: string;
  /** Binary string. */
  token: string;
  /** -1: no limit. */
  depth: number;
  /** Characters cut from event paths: the home prefix of a relative watch. */
  prefixLen: number;
}

/** A transaction's record of one node it touched (C struct accessed_node). */
export interface NodeAccess {
  /** Generation seen at first access (NO_GENERATION: the node did not exist). */
  generation: number;
  /** Permissions seen at first access, for watch permission checks at commit. */
  perms: readonly XsPerm[] | undefined;
  /** Check the generation at commit (first access was a read). */
  check: boolean;
  /** Watch match queued for commit. */
  fire: WatchMatch | undefined;
}

export interface Transaction {
  id: number;
  layer: Layer;
  /** Nodes accessed, in order of first access (C accessed list). */
  accessed: Map<string, NodeAccess>;
  /** Changes in order, emitted as mutations on commit. */
  ops: Mutation[];
  nodeCreated: boolean;
  /** Names of the accessed nodes, in bytes (part of the transaction's memory). */
  accessedBytes: number;
  /** Something failed half-way: commit answers ENOMEM, as C xenstored's fail_transaction. */
  failed: boolean;
}

export interface Connection {
  id: ConnId;
  domid: number;
  privileged: boolean;
  label: string | undefined;
  watches: Watch[];
  transactions: Map<number, Transaction>;
  nextTxId: number;
}

export interface Domain {
  domid: number;
  introduced: boolean;
  mfn?: string;
  port?: number;
  target?: number;
  shutdown: boolean;
}

/** Quota values of one domain; absent ones are the global values. */
export type DomainQuotas = Partial<Quotas> & { softMemory?: number };

export class EngineState {
  readonly main = new MainTree();
  readonly connections = new Map<ConnId, Connection>();
  readonly domains = new Map<number, Domain>();
  /** Global generation counter (C xenstored `generation`). */
  generation = 0;
  /**
   * A deliberately broken mode for chaos tests (fault kind xenstore.conflict-check-skipped): when
   * set and it answers true, TRANSACTION_END commits without checking what the transaction read.
   */
  skipConflictCheck: (() => boolean) | undefined = undefined;
  nextConnId: ConnId = 1;
  softMemoryQuota: number;
  /** Quotas set for one domain (SET_QUOTA domid …); the global ones apply where none is set. */
  readonly domainQuotas = new Map<number, DomainQuotas>();
  /** Reply and watch-event bytes waiting in connection output queues, per domain (the service's). */
  readonly outputMemory = new Map<number, number>();
  /** Pseudo connection for the store's own changes (domain removal): privileged, never listed. */
  readonly system: Connection = {
    id: 0,
    domid: 0,
    privileged: true,
    label: "xenstored",
    watches: [],
    transactions: new Map(),
    nextTxId: 1,
  };

  constructor(
    readonly quotas: Quotas,
    softMemoryQuota: number,
    private readonly quotaErrorName: XsErrorName,
  ) {
    this.softMemoryQuota = softMemoryQuota;
  }

  /** The error of a quota hit: ENOSPC (C xenstored) or EQUOTA (oxenstored). */
  quotaError(what: string): XsError {
    return new XsError(this.quotaErrorName, `${what} quota`);
  }

  /** The error of a memory quota hit: ENOMEM as C xenstored (EQUOTA in oxenstored mode). */
  memoryQuotaError(): XsError {
    return new XsError(this.quotaErrorName === "ENOSPC" ? "ENOMEM" : this.quotaErrorName, "memory quota");
  }

  /** The quota `key` that applies to `domid`: its own (SET_QUOTA domid …), else the global one. */
  quotaOf(domid: number, key: keyof Quotas): number {
    return this.domainQuotas.get(domid)?.[key] ?? this.quotas[key];
  }

  /** The soft memory quota that applies to `domid`. */
  softMemoryQuotaOf(domid: number): number {
    return this.domainQuotas.get(domid)?.softMemory ?? this.softMemoryQuota;
  }

  /** Domains whose connections are privileged by domid (dom0). */
  isPrivilegedDomid(domid: number): boolean {
    return domid === 0;
  }

  domainWatchCount(domid: number): number {
    let count = 0;
    for (const c of this.connections.values()) if (c.domid === domid) count += c.watches.length;
    return count;
  }

  domainTransactionCount(domid: number): number {
    let count = 0;
    for (const c of this.connections.values()) if (c.domid === domid) count += c.transactions.size;
    return count;
  }

  /** conn_delete_all_watches() + conn_delete_all_transactions() for every connection of a domain. */
  resetDomainConnections(domid: number): void {
    for (const c of this.connections.values()) {
      if (c.domid !== domid) continue;
      c.watches = [];
      c.transactions.clear();
    }
  }
}
