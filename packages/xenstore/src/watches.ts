// Watches (tools/xenstored/watch.c): WATCH, UNWATCH, RESET_WATCHES, who gets an event for a change
// (XSA-115: only connections that may read the node, its parent, or the node before a permission
// change) and the special @introduceDomain / @releaseDomain watches.

import { XENSTORE_PAYLOAD_MAX, XsType } from "@xensim/abi";
import { accessFor } from "./access.js";
import { watchMemory } from "./accounting.js";
import { binaryStrings, bytesToBinary, cAtoi } from "./bytes.js";
import { XsError } from "./errors.js";
import { domainPath, isChild, parentPath } from "./path.js";
import { OK_PAYLOAD, payloadStrings } from "./payload.js";
import { XS_PERM_READ } from "./perms.js";
import { quotaExceeded } from "./quota.js";
import type { Request, WatchFire } from "./request.js";
import type { Connection, EngineState, Watch } from "./state.js";
import type { WatchDelivery } from "./types.js";

/** WATCH path\0token\0[depth\0]: registers the watch and delivers its first event at once. */
export function handleWatch(req: Request, payload: Uint8Array): Uint8Array {
  const strings = payloadStrings(payload);
  let depth = -1;
  if (strings.length === 3) {
    depth = cAtoi(strings[2]!);
    if (depth < 0) throw new XsError("EINVAL", "negative depth");
  } else if (strings.length !== 2) throw new XsError("EINVAL");
  const path = req.canonical(strings[0], true);
  const token = strings[1]!;
  const conn = req.conn;
  if (conn.watches.some((w) => w.node === path.name && w.token === token)) throw new XsError("EEXIST");
  if (
    !conn.privileged &&
    quotaExceeded(req.state.quotaOf(conn.domid, "watches"), req.state.domainWatchCount(conn.domid) + 1)
  ) {
    throw req.state.quotaError("watches");
  }
  const watch: Watch = {
    node: path.name,
    token,
    depth,
    prefixLen: path.relative ? domainPath(conn.domid).length + 1 : 0,
  };
  req.chargeMemory(watchMemory(watch));
  conn.watches.push(watch);
  const first = watchEvent(conn, watch, watch.node);
  if (first) req.events.push(first);
  return OK_PAYLOAD;
}

/** UNWATCH path\0token\0. */
export function handleUnwatch(req: Request, payload: Uint8Array): Uint8Array {
  const strings = payloadStrings(payload);
  if (strings.length !== 2) throw new XsError("EINVAL");
  const { name } = req.canonical(strings[0], true);
  const i = req.conn.watches.findIndex((w) => w.node === name && w.token === strings[1]);
  if (i < 0) throw new XsError("ENOENT");
  req.conn.watches.splice(i, 1);
  return OK_PAYLOAD;
}

/** RESET_WATCHES: drops the caller's watches and transactions. */
export function handleResetWatches(req: Request, _payload: Uint8Array): Uint8Array {
  req.conn.watches = [];
  req.conn.transactions.clear();
  return OK_PAYLOAD;
}

/** watch_permitted(): the node, its parent, or (for a change of permissions) the old node is readable. */
function watchPermitted(state: EngineState, conn: Connection, fired: WatchFire): boolean {
  if (fired.oldPerms && accessFor(state, conn, fired.oldPerms) & XS_PERM_READ) return true;
  const nodePerms = fired.nodePerms ?? state.main.get(fired.name)?.perms;
  if (!nodePerms) return false;
  if (accessFor(state, conn, nodePerms) & XS_PERM_READ) return true;
  const parentPerms = fired.parentPerms ?? state.main.get(parentPath(fired.name))?.perms;
  return parentPerms !== undefined && (accessFor(state, conn, parentPerms) & XS_PERM_READ) !== 0;
}

/**
 * fire_watches(): one event per matching watch of every connection allowed to see the change.
 * `seen` holds the events already in this output ("conn:payload"): identical ones are coalesced.
 */
export function deliverWatches(
  state: EngineState,
  fired: WatchFire,
  events: WatchDelivery[],
  seen: Set<string>,
): void {
  for (const conn of state.connections.values()) {
    if (conn.watches.length === 0 || !watchPermitted(state, conn, fired)) continue;
    for (const watch of conn.watches) {
      let send: boolean;
      switch (fired.match) {
        case "exact":
          send = fired.name === watch.node;
          break;
        case "subtree":
          send = isChild(fired.name, watch.node, watch.depth);
          break;
        case "depth":
          send =
            fired.name === watch.node || (watch.depth > 0 && isChild(fired.name, watch.node, watch.depth));
          break;
        case "nodepth":
          send = fired.name === watch.node && watch.depth < 0;
          break;
      }
      if (!send) continue;
      const event = watchEvent(conn, watch, fired.name);
      if (!event) continue;
      // Identical pending events are coalesced (not for the special watches), as send_event() does.
      if (fired.name[0] !== "@") {
        const key = `${conn.id}:${bytesToBinary(event.msg.payload)}`;
        if (seen.has(key)) continue;
        seen.add(key);
      }
      events.push(event);
    }
  }
}

/** A WATCH_EVENT for `name`; undefined if it would exceed XENSTORE_PAYLOAD_MAX (dropped, XSA-324). */
function watchEvent(conn: Connection, watch: Watch, name: string): WatchDelivery | undefined {
  const payload = binaryStrings([name.slice(watch.prefixLen), watch.token]);
  if (payload.length > XENSTORE_PAYLOAD_MAX) return undefined;
  return { conn: conn.id, msg: { type: XsType.WATCH_EVENT, reqId: 0, txId: 0, payload } };
}

/** fire_special_watches(): @introduceDomain / @releaseDomain, plain and/or with the "/<domid>" suffix. */
export function fireSpecialWatches(
  req: Request,
  name: string,
  domid: number,
  plain: boolean,
  withDomid: boolean,
): void {
  const node = req.stage.get(name);
  if (!node) return;
  const rootPerms = req.stage.get("/")?.perms;
  // WATCH_NODOM first, then WATCH_DOM, as fire_special_watches().
  if (plain) req.fires.push({ name, match: "nodepth", nodePerms: node.perms });
  if (withDomid) {
    req.fires.push({
      name: `${name}/${domid}`,
      match: "depth",
      nodePerms: node.perms,
      ...(rootPerms ? { parentPerms: rootPerms } : {}),
    });
  }
}
