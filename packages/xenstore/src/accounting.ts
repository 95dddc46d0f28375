// What each domain uses of its quotas (domain.c's accounting): nodes, watches, transactions and an
// approximation of its store memory.

import type { EngineState } from "./state.js";
import { nodeSize, ownerOf } from "./tree.js";
import type { QuotaUsage } from "./types.js";

export function quotaUsage(state: EngineState, domid: number): QuotaUsage {
  let memory = 0;
  for (const [path, node] of state.main.nodes) {
    if (ownerOf(node) === domid) memory += nodeSize(node.value, node.perms, node.children) + path.length;
  }
  let watches = 0;
  let transactions = 0;
  for (const conn of state.connections.values()) {
    if (conn.domid !== domid) continue;
    watches += conn.watches.length;
    transactions += conn.transactions.size;
    for (const watch of conn.watches) memory += watch.node.length + watch.token.length;
  }
  return {
    domid,
    nodes: state.main.count(domid),
    watches,
    transactions,
    memory,
    quotas: { ...state.quotas },
  };
}
