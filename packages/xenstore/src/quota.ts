// C xenstored's per-domain quotas (tools/xenstored/domain.c quota_adm[] and quotas[]).

/** Quota values; 0 disables a quota. Enforced only for unprivileged connections. */
export interface Quotas {
  /** Nodes owned per domain. */
  nodes: number;
  /** Watches per domain. */
  watches: number;
  /** Concurrent transactions per domain. */
  transactions: number;
  /** Nodes accessed per transaction. */
  transactionNodes: number;
  /** Permission entries per node. */
  nodePermissions: number;
  /** Path length after the "/local/domain/<id>/" prefix. */
  pathMax: number;
  /** Accounted node size: header + permissions + value + child names. */
  nodeSize: number;
  /** Requests in flight per domain (reported here, enforced by the service). */
  outstanding: number;
  /** Store memory per domain in bytes (reported here, enforced by the service). */
  memory: number;
}

export const DEFAULT_QUOTAS: Readonly<Quotas> = Object.freeze({
  nodes: 1000,
  watches: 128,
  transactions: 10,
  transactionNodes: 1024,
  nodePermissions: 5,
  pathMax: 2048,
  nodeSize: 2048,
  outstanding: 20,
  memory: 2 * 1024 * 1024 + 512 * 1024,
});

/** C xenstored's soft memory quota (only logged there). */
export const DEFAULT_SOFT_MEMORY_QUOTA = 2 * 1024 * 1024;

/** The quota names of xenstore-control, in C xenstored's table order, with their descriptions. */
export const QUOTA_NAMES: readonly { key: keyof Quotas; name: string; descr: string }[] = Object.freeze([
  { key: "nodes", name: "nodes", descr: "Nodes per domain" },
  { key: "watches", name: "watches", descr: "Watches per domain" },
  { key: "outstanding", name: "outstanding", descr: "Outstanding requests per domain" },
  { key: "memory", name: "memory", descr: "Total Xenstore memory per domain" },
  { key: "transactions", name: "transactions", descr: "Active transactions per domain" },
  {
    key: "transactionNodes",
    name: "transaction-nodes",
    descr: "Max. number of accessed nodes per transaction",
  },
  { key: "nodePermissions", name: "node-permissions", descr: "Max. number of permissions per node" },
  { key: "pathMax", name: "path-max", descr: "Max. length of a node path" },
  { key: "nodeSize", name: "node-size", descr: "Max. size of a node" },
]);

/**
 * Does `value` hit quota `q`? As in C xenstored (HEAD): the request is refused when the resulting
 * value reaches the quota (value >= quota); 0 disables the quota.
 */
export function quotaExceeded(q: number, value: number): boolean {
  return q > 0 && value >= q;
}
