// Requests executed in the hypervisor's host for its peers: grant map/unmap/copy and end-access
// (gnttab), vCPU placement and a domain's home, and foreign mappings (privcmd / acquire_resource).
// A mapping pins the frames for the peer: its bytes go to it once the frames' other writers
// confirmed the new holder (DIRECTORY_ACK), then the reply.

import {
  DOMID_XEN,
  GNTMAP_readonly,
  GNTST_bad_handle,
  GNTST_okay,
  GNTST_permission_denied,
  XENMEM_resource_grant_table,
  XENMEM_resource_ioreq_server,
  XenErrno,
} from "@xensim/abi";
import { endForeignAccess } from "@xensim/gnttab";
import { PAGE_SIZE } from "@xensim/memory";
import {
  decodeForeignMapRequest,
  encodeForeignMapReply,
  type ForeignMapRequest,
  OP_FOREIGN_MAP,
  OP_FOREIGN_UNMAP,
  decodeMapRequest,
  decodeUnmapRequest,
  decodeCopyRequest,
  encodeMapReply,
  encodeRc,
  encodeStatuses,
  encodeUnmapReply,
  type FramePeer,
  type MapResult,
  OP_COPY,
  OP_END_ACCESS,
  OP_HOME,
  OP_MAP,
  OP_PLACE,
  OP_SYNC,
  OP_UNMAP,
  requestWatermarks,
} from "./requests.js";
import { drainQueue, cutIfFull } from "./drain.js";
import { type LinkState, type Peer, type HeldMap, type ForeignMapping, nextHandle } from "./state.js";

const REPLY_CACHE = 256;

/** A foreign mapping of a dead domain that its mapper did not unmap is released after this (ms). */
const FOREIGN_DEAD_GRACE_MS = 2000;

export function executeRequest(
  link: LinkState,
  p: Peer,
  id: number,
  op: number,
  caller: number,
  payload: Uint8Array,
): void {
  if (!link.area.isAuthority) {
    // Maybe not yet: held until the hypervisor runs here (see ParkedRequest.awaitingHypervisor).
    link.parkedRequests.push({ op, peer: p, id, caller, payload, since: link.now, awaitingHypervisor: true });
    return;
  }
  const cached = p.replies.get(id);
  if (cached) {
    // A request sent again after a resync: answered from the cache, not done twice.
    reply(link, p, id, cached.op, cached.payload);
    return;
  }
  for (const h of link.heldMaps.values()) if (h.peer === p && h.id === id) return; // held: answered later
  const seen = requestWatermarks(op, payload);
  if (seen?.some((f) => f.writer !== link.hostId && !link.watermarks.reached(f.writer, f.seq))) {
    link.parkedRequests.push({ op, peer: p, id, caller, payload, since: link.now });
    return;
  }
  link.stats.requestsExecuted++;
  let out: Uint8Array;
  link.mapWait = undefined;
  try {
    out = execute(link, p, op, caller, payload);
  } catch (err) {
    link.log?.warn({ peer: p.host, op, err: String(err) }, "link: bad request");
    out = encodeRc(-XenErrno.EINVAL);
  }
  const wait = link.mapWait as { frames: number[]; tokens: Map<number, string> } | undefined;
  link.mapWait = undefined;
  if (wait && wait.tokens.size > 0) {
    const held: HeldMap = {
      peer: p,
      id,
      op,
      reply: out,
      frames: wait.frames,
      tokens: wait.tokens,
      since: link.now,
    };
    for (const t of wait.tokens.keys()) link.heldMaps.set(t, held);
    return;
  }
  if (wait) for (const f of wait.frames) sendFrame(link, p, f);
  p.replies.set(id, { op, payload: out });
  if (p.replies.size > REPLY_CACHE) p.replies.delete(p.replies.keys().next().value!);
  reply(link, p, id, op, out);
}

/** A writer confirmed a new holder (or can no longer): the map reply goes once all did. */
export function confirmHolder(link: LinkState, token: number): void {
  const h = link.heldMaps.get(token);
  if (!h) return;
  link.heldMaps.delete(token);
  h.tokens.delete(token);
  if (h.tokens.size > 0) return;
  releaseHeld(link, h);
}

export function releaseHeld(link: LinkState, h: HeldMap): void {
  for (const t of h.tokens.keys()) link.heldMaps.delete(t);
  h.tokens.clear();
  const p = h.peer;
  for (const f of h.frames) sendFrame(link, p, f);
  p.replies.set(h.id, { op: h.op, payload: h.reply });
  if (p.replies.size > REPLY_CACHE) p.replies.delete(p.replies.keys().next().value!);
  reply(link, p, h.id, h.op, h.reply);
}

function reply(link: LinkState, p: Peer, id: number, op: number, payload: Uint8Array): void {
  // What this host wrote before (grant flags, the initial copies) travels before the reply.
  drainQueue(link);
  p.builder.reply(id, op, payload);
  link.ensureConnected(p);
}

function execute(link: LinkState, p: Peer, op: number, caller: number, payload: Uint8Array): Uint8Array {
  const area = link.area;
  switch (op) {
    case OP_MAP: {
      const q = decodeMapRequest(payload);
      const results: MapResult[] = [];
      const peers: FramePeer[] = [];
      if (!link.actsFor(p, caller)) {
        for (const _ of q.refs) results.push({ status: GNTST_permission_denied, handle: 0, origin: 0 });
        return encodeMapReply({ results, peers });
      }
      const gt = link.grantTables();
      const writable = (q.flags & GNTMAP_readonly) === 0;
      const seen = new Set<number>();
      const wait = { frames: [] as number[], tokens: new Map<number, string>() };
      link.mapWait = wait;
      for (const ref of q.refs) {
        const r = gt.mapGrantRef(caller, { dom: q.dom, ref, flags: q.flags });
        if (r.status !== GNTST_okay) {
          results.push({ status: r.status, handle: 0, origin: 0 });
          continue;
        }
        results.push({ status: r.status, handle: r.handle, origin: r.frame });
        p.handles.set(`${caller}/${r.handle}`, { frame: r.frame, writable, caller, handle: r.handle });
        const pin = link.directory.pin(r.frame, p.host, writable);
        if (writable) link.writableBy[r.frame]! |= 1 << p.index;
        if (pin.subscribed) {
          area.addSubscriber(r.frame, p.index);
          // Its bytes go after the other writers of the frame confirmed the new holder.
          wait.frames.push(r.frame);
        }
        if (pin.subscribed || pin.becameWriter)
          tellHolders(link, r.frame, p.host, true, writable, pin.subscribed ? wait.tokens : undefined);
        if (!seen.has(r.frame)) {
          seen.add(r.frame);
          for (const h of holders(link, r.frame))
            if (h !== p.host)
              peers.push({ origin: r.frame, host: h, writable: mayHostWrite(link, r.frame, h) });
        }
      }
      return encodeMapReply({ results, peers });
    }
    case OP_UNMAP: {
      const handles = decodeUnmapRequest(payload);
      const gt = link.grantTables();
      const statuses: number[] = [];
      const unsubscribed: number[] = [];
      for (const handle of handles) {
        const key = `${caller}/${handle}`;
        const m = p.handles.get(key);
        if (!m) {
          statuses.push(GNTST_bad_handle);
          continue;
        }
        const st = gt.unmapGrantRef(caller, { handle });
        statuses.push(st);
        if (st !== GNTST_okay) continue;
        p.handles.delete(key);
        const up = link.directory.unpin(m.frame, p.host, m.writable);
        if (!link.directory.writesThrough(m.frame, p.host)) link.writableBy[m.frame]! &= ~(1 << p.index);
        if (up.unsubscribed) {
          area.removeSubscriber(m.frame, p.index);
          unsubscribed.push(m.frame);
          tellHolders(link, m.frame, p.host, false, false);
        } else if (up.stoppedWriting) tellHolders(link, m.frame, p.host, true, false);
      }
      return encodeUnmapReply({ statuses, unsubscribed });
    }
    case OP_END_ACCESS: {
      if (area.home(caller) !== p.index) return new Uint8Array([0]);
      const ref = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0, true);
      try {
        return new Uint8Array([endForeignAccess(link.grantTables().sharedView(caller), ref) ? 1 : 0]);
      } catch {
        return new Uint8Array([0]);
      }
    }
    case OP_PLACE: {
      const vcpu = payload[0] ?? 0;
      if (area.home(caller) !== 0 && area.home(caller) !== p.index) return encodeRc(-XenErrno.EPERM);
      area.setPlacement(caller, vcpu, p.index);
      p.places.add(caller);
      link.eventChannels().placementChanged(caller, vcpu);
      return encodeRc(0);
    }
    case OP_HOME: {
      if (area.home(caller) !== p.index) return encodeRc(-XenErrno.EPERM);
      // Every frame of the domain: subscribed, and its content now (then every write follows).
      const store = link.store;
      for (let f = store.firstUsableFrame; f < store.nrFrames; f++) {
        if (store.frameOwner(f) !== caller) continue;
        area.addSubscriber(f, p.index);
        sendFrame(link, p, f);
      }
      return encodeRc(0);
    }
    case OP_SYNC:
      return encodeRc(0);
    case OP_FOREIGN_MAP:
      return foreignMap(link, p, caller, decodeForeignMapRequest(payload));
    case OP_FOREIGN_UNMAP: {
      const handle = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0, true);
      const m = p.foreign.get(handle);
      if (!m || m.caller !== caller) return encodeRc(-XenErrno.EINVAL);
      releaseForeign(link, p, handle, m);
      return encodeRc(0);
    }
    case OP_COPY: {
      // After the requester's writes (they came first on its link) and those it had seen from
      // other hosts (its watermarks): the source bytes here are what it saw. What the copy
      // writes travels to the destination's holders before the reply (reply() drains first).
      const q = decodeCopyRequest(payload);
      if (!link.actsFor(p, caller)) return encodeStatuses(q.ops.map(() => GNTST_permission_denied));
      const gt = link.grantTables();
      return encodeStatuses(q.ops.map((op) => gt.gnttabCopy(caller, op)));
    }
    default:
      return encodeRc(-XenErrno.ENOSYS);
  }
}

/**
 * xenforeignmemory_map / _map_resource for `caller` at `p` (privcmd's checks: a privileged
 * caller the peer acts for, a live domain, populated gfns). Each frame gets a page reference and
 * is pinned for the peer like a grant mapping: subscribed, writable unless readonly, its bytes
 * sent before the reply once the frame's other writers confirmed the new holder.
 */
function foreignMap(link: LinkState, p: Peer, caller: number, q: ForeignMapRequest): Uint8Array {
  const fail = (rc: number) => encodeForeignMapReply({ rc, handle: 0, origins: [], peers: [] });
  if (!link.actsFor(p, caller) || !link.store.isPrivileged(caller)) return fail(-XenErrno.EPERM);
  if (link.store.domainState(q.dom) !== "live") return fail(-XenErrno.ESRCH);
  const store = link.store;
  const frames: number[] = [];
  const undo = (rc: number) => {
    for (const f of frames) store.putPageRef(f);
    return fail(rc);
  };
  let grantTable = false;
  if (q.resource?.type === XENMEM_resource_grant_table) {
    // The granter's shared entries (XENMEM_resource_grant_table_id_shared): a mapper's host keeps
    // a replica to refuse locally what is already invalid (docs/data-plane.md).
    const all = link.grantTables().grantFrames(q.dom);
    const { id, frame, nrFrames } = q.resource;
    if (id !== 0 || nrFrames < 1 || frame + nrFrames > all.length) return fail(-XenErrno.EINVAL);
    for (const f of all.slice(frame, frame + nrFrames)) {
      if (!store.getPageRef(f, q.dom)) return undo(-XenErrno.EINVAL);
      frames.push(f);
    }
    grantTable = true;
  } else if (q.resource) {
    if (q.resource.type !== XENMEM_resource_ioreq_server) return fail(-XenErrno.EOPNOTSUPP);
    const servers = link.ioreqServers();
    const r = servers.acquireResource(caller, q.dom, q.resource.id, q.resource.frame, q.resource.nrFrames);
    if (r.rc !== 0) return fail(r.rc);
    // Our own references (released with the mapping), then acquire's are given back at once.
    for (const f of r.frames) if (store.getPageRef(f, DOMID_XEN)) frames.push(f);
    servers.releaseResource(caller, q.dom, q.resource.id);
    if (frames.length !== r.frames.length) return undo(-XenErrno.ENOENT);
  } else {
    if (q.gfns.length === 0) return fail(-XenErrno.EINVAL);
    for (const gfn of q.gfns) {
      const f = store.gfnToFrame(q.dom, gfn);
      if (!f || !store.getPageRef(f, q.dom)) return undo(-XenErrno.EINVAL);
      frames.push(f);
    }
  }
  const writable = !q.readonly;
  const handle = p.nextForeignHandle;
  p.nextForeignHandle = nextHandle(handle);
  p.foreign.set(handle, { caller, dom: q.dom, frames, writable, ...(grantTable ? { grantTable } : {}) });
  link.stats.foreignMaps++;
  const area = link.area;
  const wait = { frames: [] as number[], tokens: new Map<number, string>() };
  link.mapWait = wait;
  const peers: FramePeer[] = [];
  const seen = new Set<number>();
  for (const f of frames) {
    const pin = link.directory.pin(f, p.host, writable);
    if (writable) link.writableBy[f]! |= 1 << p.index;
    if (pin.subscribed) {
      area.addSubscriber(f, p.index);
      wait.frames.push(f);
    }
    if (pin.subscribed || pin.becameWriter)
      tellHolders(link, f, p.host, true, writable, pin.subscribed ? wait.tokens : undefined);
    if (seen.has(f)) continue;
    seen.add(f);
    for (const h of holders(link, f))
      if (h !== p.host) peers.push({ origin: f, host: h, writable: mayHostWrite(link, f, h) });
  }
  return encodeForeignMapReply({ rc: 0, handle, origins: frames, peers });
}

/** Unpins a foreign mapping of `p` and drops its page references (a dying frame is freed now). */
function releaseForeign(link: LinkState, p: Peer, handle: number, m: ForeignMapping): void {
  p.foreign.delete(handle);
  const area = link.area;
  for (const f of m.frames) {
    const up = link.directory.unpin(f, p.host, m.writable);
    if (!link.directory.writesThrough(f, p.host)) link.writableBy[f]! &= ~(1 << p.index);
    if (up.unsubscribed && link.homeHostOf(f) !== p.host) {
      // A frame freed by this last reference: its FREE goes to the peer, which still subscribes.
      link.store.putPageRef(f);
      area.removeSubscriber(f, p.index);
      tellHolders(link, f, p.host, false, false);
      if (link.store.frameOwner(f) !== undefined) {
        // Still allocated: the peer stops holding it (FREE frees its replica).
        p.builder.free(f);
        cutIfFull(link, p);
        link.ensureConnected(p);
      }
    } else {
      link.store.putPageRef(f);
      if (up.stoppedWriting) tellHolders(link, f, p.host, true, false);
    }
  }
}

/** Foreign mappings of domains that died and whose mappers did not unmap them: released. */
export function reapForeign(link: LinkState, now: number): void {
  for (const p of link.peers.values()) {
    for (const [handle, m] of p.foreign) {
      if (link.store.domainState(m.dom) === "live") continue;
      m.deadSince ??= now;
      if (!m.grantTable && now - m.deadSince < FOREIGN_DEAD_GRACE_MS) continue;
      link.log?.warn(
        { peer: p.host, dom: m.dom, frames: m.frames.length },
        "link: foreign mapping of a dead domain released",
      );
      releaseForeign(link, p, handle, m);
      link.stats.foreignReleased++;
    }
  }
}

/** Whole frame `frame` of this host to `p` (a ZERO record when it is all zeroes). */
function sendFrame(link: LinkState, p: Peer, frame: number): void {
  const at = frame * PAGE_SIZE;
  const w0 = at >> 2;
  let zero = true;
  for (let i = 0; i < 1024 && zero; i++) zero = link.i32[w0 + i] === 0;
  if (zero) p.builder.zero(frame);
  else p.builder.range(frame, 0, link.u8, at, PAGE_SIZE);
  cutIfFull(link, p);
}

/** Hosts besides this one holding `frame`: its owner's home (when not here) and pin holders. */
function holders(link: LinkState, frame: number): string[] {
  const out = new Set(link.directory.subscribers(frame));
  const h = link.homeHostOf(frame);
  if (h !== undefined) out.add(h);
  return [...out];
}

function mayHostWrite(link: LinkState, frame: number, host: string): boolean {
  return link.homeHostOf(frame) === host || link.directory.writesThrough(frame, host);
}

/** Tell the other holders of `frame` that `host` holds it (add) or no longer (remove). */
export function tellHolders(
  link: LinkState,
  frame: number,
  host: string,
  add: boolean,
  writable: boolean,
  confirm?: Map<number, string>,
): void {
  link.sharesCache.clear();
  for (const h of holders(link, frame)) {
    if (h === host) continue;
    const t = link.peer(h);
    // A holder that writes the frame confirms a new holder: its writes from then on go there too.
    let token = 0;
    if (confirm && mayHostWrite(link, frame, h) && t.epoch !== undefined) {
      token = link.nextToken++ >>> 0 || link.nextToken++;
      confirm.set(token, h);
    }
    t.builder.directory(frame, add, writable, host, token);
    link.ensureConnected(t);
  }
}
