// The end of a successful request: its staged changes go into its transaction, or into the main
// tree with their journal mutations, and the watches it fired are delivered.

import { bytesToBinary } from "./bytes.js";
import { Request } from "./request.js";
import type { EngineState } from "./state.js";
import type { Output } from "./types.js";
import { deliverWatches } from "./watches.js";

/** Keeps a successful request's changes: into its transaction, or into the main tree. */
export function commitRequest(state: EngineState, req: Request, out: Output): void {
  if (req.tx) {
    if (req.conn.transactions.get(req.tx.id) === req.tx) {
      req.stage.mergeInto(req.tx.layer);
      req.tx.ops.push(...req.ops);
      for (const txFire of req.txFires) {
        const access = req.tx.accessed.get(txFire.path);
        if (!access) req.tx.failed = true;
        else if (access.fire === undefined || txFire.match === "subtree") access.fire = txFire.match;
      }
    }
  } else {
    req.stage.mergeInto(state.main);
    out.mutations.push(...req.ops);
  }
  out.mutations.push(...req.mutations);
  out.effects.push(...req.effects);
  const seen = new Set<string>();
  for (const event of out.events) seen.add(`${event.conn}:${bytesToBinary(event.msg.payload)}`);
  for (const fired of req.fires) deliverWatches(state, fired, out.events, seen);
  out.events.push(...req.events);
}

/** Runs store-internal changes (domain removal) outside any transaction and keeps them. */
export function runSystem(state: EngineState, out: Output, change: (req: Request) => void): void {
  const req = new Request(state, state.system, undefined, state.main);
  change(req);
  commitRequest(state, req, out);
}
