// What each domain uses of its quotas (domain.c's accounting): nodes, watches, transactions, and its
// store memory — the nodes it owns, its watches, its transactions' private copies and the replies
// and watch events queued for its connections (C xenstored's ACC_MEM).

import type { EngineState, Transaction, Watch } from "./state.js";
import type { QuotaUsage } from "./types.js";

/** Memory of a transaction beyond its nodes (C struct transaction and its lists), roughly. */
export const TRANSACTION_MEMORY = 64;

/** Memory of one watch: its path and token (C accounts strlen(path) + strlen(token)). */
export function watchMemory(watch: Watch): number {
  return watch.node.length + watch.token.length;
}

/** Memory of one transaction: its private node copies, removal marks and accessed names. */
export function transactionMemory(tx: Transaction): number {
  return TRANSACTION_MEMORY + tx.layer.heldBytes + tx.accessedBytes;
}

/** Store memory accounted to `domid`. */
export function domainMemory(state: EngineState, domid: number): number {
  let memory = state.main.memoryOf(domid) + (state.outputMemory.get(domid) ?? 0);
  for (const conn of state.connections.values()) {
    if (conn.domid !== domid) continue;
    for (const watch of conn.watches) memory += watchMemory(watch);
    for (const tx of conn.transactions.values()) memory += transactionMemory(tx);
  }
  return memory;
}

export function quotaUsage(state: EngineState, domid: number): QuotaUsage {
  let watches = 0;
  let transactions = 0;
  for (const conn of state.connections.values()) {
    if (conn.domid !== domid) continue;
    watches += conn.watches.length;
    transactions += conn.transactions.size;
  }
  const own = state.domainQuotas.get(domid);
  return {
    domid,
    nodes: state.main.count(domid),
    watches,
    transactions,
    memory: domainMemory(state, domid),
    output: state.outputMemory.get(domid) ?? 0,
    quotas: { ...state.quotas, ...own },
    softMemoryQuota: state.softMemoryQuotaOf(domid),
  };
}
