// Replication, sending side: the host's record queue drained into DATA frames per peer, frames cut,
// stamped and kept in the window, retransmitted, or — when a peer misses frames that are gone — a
// resync of exactly the bytes this host wrote to what the peer holds.

import { XENMEM_resource_grant_table, XenErrno } from "@xensim/abi";
import { PAGE_SIZE, Q_EVENT, Q_FREE, Q_RANGE, Q_REQUEST, Q_SEND, Q_ZERO } from "@xensim/memory";
import {
  decodeForeignMapRequest,
  encodeForeignMapReply,
  encodeForeignMapRequest,
  encodeRc,
  foreignMapSigned,
  OP_COPY,
  OP_FOREIGN_MAP,
  OP_MAP,
  OP_PLACE,
  withWatermarks,
} from "./requests.js";
import { LinkSender } from "./session.js";
import { type LinkState, type Peer } from "./state.js";

export function drainQueue(link: LinkState): number {
  let total = 0;
  for (;;) {
    const n = link.area.drain((rec, u8) => {
      link.seq++;
      link.stats.recordsDrained++;
      switch (rec.type) {
        case Q_RANGE:
        case Q_ZERO: {
          const origin = link.area.originOf(rec.a);
          if (origin < 0) return;
          if (rec.type === Q_RANGE) noteWrote(link, rec.a, rec.b, rec.b + rec.c);
          else noteWrote(link, rec.a, 0, PAGE_SIZE);
          // The frame's subscribers when marked, and any added since (a holder confirmed in
          // between must get every record drained after its confirmation).
          for (let mask = rec.d | link.area.subscribers(rec.a); mask !== 0; mask &= mask - 1) {
            const t = link.peerAt(31 - Math.clz32(mask & -mask));
            if (!t) continue;
            if (rec.type === Q_RANGE) t.builder.range(origin, rec.b, u8, rec.dataOffset, rec.c);
            else t.builder.zero(origin);
            link.ensureConnected(t);
            cutIfFull(link, t);
          }
          return;
        }
        case Q_FREE: {
          // An origin frame freed at the hypervisor's host: its replicas go too.
          for (let mask = rec.b; mask !== 0; mask &= mask - 1) {
            const t = link.peerAt(31 - Math.clz32(mask & -mask));
            if (!t) continue;
            t.builder.free(rec.a);
            link.ensureConnected(t);
            cutIfFull(link, t);
          }
          return;
        }
        case Q_EVENT: {
          const t = link.peerAt(rec.a);
          if (!t) return;
          link.queueEvent(t, rec.b, rec.c, rec.d);
          link.ensureConnected(t);
          return;
        }
        case Q_SEND: {
          const hv = link.peerAt(link.area.hypervisorPeer);
          if (!hv) return;
          hv.sends.set(`${rec.b}/${rec.c}`, { caller: rec.b, port: rec.c });
          hv.sendSeq = link.seq;
          link.cycleHadSends = true;
          link.ensureConnected(hv);
          return;
        }
        case Q_REQUEST: {
          const hv = link.peerAt(link.area.hypervisorPeer);
          let payload: Uint8Array = u8.slice(rec.dataOffset, rec.dataOffset + rec.dataLength);
          if (!hv) {
            link.area.deliverReply(rec.d, encodeRc(-XenErrno.ENOTCONN));
            return;
          }
          if (rec.c === OP_FOREIGN_MAP) {
            const vouched = vouchForeignMap(link, rec.b, payload);
            if (typeof vouched === "number") {
              link.area.deliverReply(
                rec.d,
                encodeForeignMapReply({ rc: vouched, handle: 0, origins: [], peers: [] }),
              );
              return;
            }
            payload = vouched;
          }
          if (rec.c === OP_MAP || rec.c === OP_COPY || rec.c === OP_FOREIGN_MAP) {
            // The requester's applied watermarks: the hypervisor's host catches up with them first.
            payload = withWatermarks(
              rec.c,
              payload,
              link.watermarks.entries().filter((w) => w.writer !== hv.host),
            );
          }
          if (rec.c === OP_PLACE)
            link.standing.set(`${rec.b}/${payload.join(",")}`, { op: rec.c, caller: rec.b, payload });
          const id = hv.nextRequestId++;
          hv.outstanding.set(id, { mailbox: rec.d, op: rec.c, caller: rec.b, payload });
          // A request follows everything queued before it (its sends too).
          emitKicks(link, hv);
          hv.builder.request(id, rec.c, rec.b, payload);
          link.ensureConnected(hv);
          return;
        }
        default:
          return;
      }
    });
    if (n <= 0) return total === 0 ? n : total;
    total += n;
  }
}

/**
 * A foreign map of this host's, as it goes to the hypervisor's host: with a verifier (the runtime's
 * host), only when the worker that queued it signed it with its service's key — then it names that
 * service, without the signature (this host vouches for it; its link is authenticated). A request
 * without a valid signature is answered -EPERM here and counted. Without a verifier it names none.
 */
function vouchForeignMap(link: LinkState, caller: number, payload: Uint8Array): Uint8Array | number {
  let q;
  try {
    q = decodeForeignMapRequest(payload);
  } catch {
    return payload; // the hypervisor's host answers a malformed request (-EINVAL)
  }
  const principal = q.principal;
  if (!link.principals) {
    if (!principal) return payload;
    const { principal: _p, ...rest } = q;
    return encodeForeignMapRequest(rest);
  }
  if (!principal && q.readonly && q.resource?.type === XENMEM_resource_grant_table) {
    // A read-only replica of a grant table (local grant checks) is anyone's (map-policy.ts): an
    // unsigned one goes on as nobody's, which the hypervisor's host grants that and nothing more.
    return encodeForeignMapRequest({ ...q, principal: { service: "", mac: new Uint8Array(0) } });
  }
  if (
    !principal ||
    !link.principals.verify(principal.service, foreignMapSigned(caller, principal.service, q), principal.mac)
  ) {
    link.stats.foreignMapsRefused++;
    link.log?.warn(
      { service: principal?.service ?? null, dom: q.dom, caller },
      principal
        ? "link: foreign map refused: its signature is not the service's"
        : "link: foreign map refused: no service signed it",
    );
    return -XenErrno.EPERM;
  }
  return encodeForeignMapRequest({ ...q, principal: { service: principal.service, mac: new Uint8Array(0) } });
}

/** Remembers that this host wrote [start, end) of local frame `frame` (for a resync). */
function noteWrote(link: LinkState, frame: number, start: number, end: number): void {
  const list = link.wrote.get(frame);
  if (!list) {
    link.wrote.set(frame, [start, end]);
    return;
  }
  if (list.length === 2 && list[0] === 0 && list[1] === PAGE_SIZE) return;
  let i = 0;
  while (i < list.length && list[i + 1]! < start) i += 2;
  let j = i;
  let s0 = start;
  let e0 = end;
  while (j < list.length && list[j]! <= e0) {
    s0 = Math.min(s0, list[j]!);
    e0 = Math.max(e0, list[j + 1]!);
    j += 2;
  }
  list.splice(i, j - i, s0, e0);
}

export function cutIfFull(link: LinkState, t: Peer): void {
  if (t.builder.size >= link.frameBytes) cut(link, t);
}

/** Kicks coalesced so far go after everything already in the frame. */
function emitKicks(link: LinkState, t: Peer): void {
  for (const e of t.events.values()) t.builder.event(e.domid, e.vcpu, e.port);
  t.events.clear();
  for (const s of t.sends.values()) t.builder.send(t.sendSeq, s.caller, s.port);
  t.sends.clear();
}

/** Ends `t`'s current frame: stamped, kept in the window, written when the link is up. */
function cut(link: LinkState, t: Peer): void {
  emitKicks(link, t);
  if (t.builder.records === 0) return;
  const frame = t.builder.finish({
    seq: t.sender.nextSeq,
    ack: t.receiver.applied,
    watermark: link.seq,
    flags: t.sender.takeFlags(),
  });
  t.sender.sent(frame, link.now);
  t.ackedSent = t.receiver.applied;
  t.sentThisCycle = true;
  link.stats.framesSent++;
  if (t.ready) {
    link.stats.bytesSent += frame.length;
    link.transport.write(t.host, frame);
  } else link.ensureConnected(t);
}

/** Sends every frame under construction; after sends, a watermark to the other peers. */
export function flush(link: LinkState): void {
  for (const t of link.peers.values()) {
    t.sentThisCycle = false;
    if (t.builder.records > 0 || t.events.size > 0 || t.sends.size > 0) cut(link, t);
  }
  if (link.cycleHadSends) {
    link.cycleHadSends = false;
    for (const t of link.peers.values()) {
      if (t.sentThisCycle || !t.ready || t.index === link.area.hypervisorPeer) continue;
      // An empty frame: its watermark lets fences on this host's sends be satisfied there.
      const frame = t.builder.finish({
        seq: t.sender.nextSeq,
        ack: t.receiver.applied,
        watermark: link.seq,
        flags: t.sender.takeFlags(),
      });
      t.sender.sent(frame, link.now);
      link.stats.framesSent++;
      link.stats.bytesSent += frame.length;
      link.transport.write(t.host, frame);
    }
  }
}

export function retransmit(link: LinkState, p: Peer, r: ReturnType<LinkSender["due"]>): void {
  if (!r) return;
  if (r.kind === "frames") {
    if (!p.ready) return;
    for (const f of r.frames) {
      link.stats.retransmitted++;
      link.stats.bytesSent += f.length;
      // A copy: the frame's buffer goes back to the pool (and holds the next frame) as soon as its
      // first copy is acknowledged, which can happen while this one still waits in the socket's write
      // queue behind a slow peer (sockets keep the caller's buffer). Seen in compose at load 60+:
      // "LinkCodecError: frame length 1590761693" at the receiver, then a misparsed ring response.
      link.transport.write(p.host, f.slice());
    }
    return;
  }
  resync(link, p);
}

/**
 * The frames `p` misses are gone: send everything it holds again — every frame it subscribes to,
 * a rescan of its receivers' ports, and our unanswered requests (answered once: reply cache).
 */
function resync(link: LinkState, p: Peer): void {
  link.stats.resyncsSent++;
  link.log?.info({ peer: p.host }, "link: resynchronising");
  p.builder.reset();
  const area = link.area;
  const bit = 1 << p.index;
  // Exactly the bytes this host wrote to each frame the peer holds (never bytes another host
  // writes: a ring page has two writers, and this copy of the other's half may be older).
  for (const [f, list] of link.wrote) {
    if ((area.subscribers(f) & bit) === 0) continue;
    const origin = area.originOf(f);
    if (origin < 0) continue;
    for (let i = 0; i < list.length; i += 2) {
      p.builder.range(origin, list[i]!, link.u8, f * PAGE_SIZE + list[i]!, list[i + 1]! - list[i]!);
      cutIfFull(link, p);
    }
  }
  if (area.isAuthority) {
    const domids = new Set<number>();
    for (const [d] of area.placementsOf(p.index)) domids.add(d);
    for (let d = 1; d < 0x7ff0; d++) if (area.home(d) === p.index) domids.add(d);
    for (const d of domids) p.builder.eventAll(d);
  } else {
    for (const [id, q] of p.outstanding) p.builder.request(id, q.op, q.caller, q.payload);
  }
  // The first frame of this burst carries the RESYNC flag (takeFlags).
  cut(link, p);
}
