// Transactions (tools/xenstored/transaction.c): TRANSACTION_START gives a private copy-on-write view
// of the tree; TRANSACTION_END commits it unless a node it read changed meanwhile (EAGAIN).

import { TRANSACTION_MEMORY } from "./accounting.js";
import { XsError } from "./errors.js";
import { OK_PAYLOAD, payloadOneArg, textReply } from "./payload.js";
import { quotaExceeded } from "./quota.js";
import type { Request } from "./request.js";
import { Layer, NO_GENERATION } from "./tree.js";

/** TRANSACTION_START: a new id (per connection, never 0). */
export function handleTransactionStart(req: Request, _payload: Uint8Array): Uint8Array {
  if (req.tx) throw new XsError("EBUSY");
  const { conn, state } = req;
  if (
    !conn.privileged &&
    quotaExceeded(state.quotaOf(conn.domid, "transactions"), state.domainTransactionCount(conn.domid) + 1)
  ) {
    throw state.quotaError("transactions");
  }
  req.chargeMemory(TRANSACTION_MEMORY);
  let id = conn.nextTxId;
  while (id === 0 || conn.transactions.has(id)) id = (id + 1) >>> 0;
  conn.nextTxId = (id + 1) >>> 0;
  state.generation++;
  conn.transactions.set(id, {
    id,
    layer: new Layer(state.main),
    accessed: new Map(),
    ops: [],
    nodeCreated: false,
    accessedBytes: 0,
    failed: false,
  });
  return textReply(String(id));
}

/** TRANSACTION_END "T" commits, "F" aborts. The transaction is gone either way. */
export function handleTransactionEnd(req: Request, payload: Uint8Array): Uint8Array {
  const arg = payloadOneArg(payload);
  if (arg !== "T" && arg !== "F") throw new XsError("EINVAL");
  const tx = req.tx;
  if (!tx) throw new XsError("ENOENT", "not in a transaction");
  const { conn, state } = req;
  conn.transactions.delete(tx.id);
  if (arg === "F") return OK_PAYLOAD;
  if (tx.failed) throw new XsError("ENOMEM", "transaction failed");
  if (tx.nodeCreated && !conn.privileged) {
    for (const [domid, delta] of tx.layer.countDelta) {
      if (
        delta > 0 &&
        !state.isPrivilegedDomid(domid) &&
        quotaExceeded(state.quotaOf(domid, "nodes"), state.main.count(domid) + delta)
      ) {
        throw state.quotaError("nodes");
      }
    }
  }
  if (!state.skipConflictCheck?.())
    for (const [path, access] of tx.accessed) {
      if (access.check && (state.main.get(path)?.generation ?? NO_GENERATION) !== access.generation) {
        throw new XsError("EAGAIN");
      }
    }
  for (const [path, node] of tx.layer.overlay) {
    state.main.put(path, node ? { ...node, generation: ++state.generation } : null);
  }
  req.mutations.push(...tx.ops);
  for (const [path, access] of tx.accessed) {
    if (access.fire) {
      req.fires.push({ name: path, match: access.fire, ...(access.perms ? { oldPerms: access.perms } : {}) });
    }
  }
  return OK_PAYLOAD;
}
