// Replication, receiving side: a peer's DATA frames applied in order (ranges and zero pages into
// this host's replicas, with write permission checked; a stream pauses on a write the directory
// does not allow yet), and the records they carry — events, sends, requests and their replies,
// directory updates, frees.

import { DOMID_XEN, GNTST_okay } from "@xensim/abi";
import { PAGE_SIZE } from "@xensim/memory";
import {
  DATA_RESYNC,
  type DataFrame,
  decodeDataHeader,
  encodeAck,
  FRAME_DATA,
  REC_DIRECTORY,
  REC_DIRECTORY_ACK,
  REC_EVENT,
  REC_EVENT_ALL,
  REC_FREE,
  REC_RANGE,
  REC_REPLY,
  REC_REQUEST,
  REC_SEND,
  REC_ZERO,
  RecordReader,
  type RecordView,
} from "./codec.js";
import {
  decodeForeignMapReply,
  encodeForeignMapReply,
  OP_FOREIGN_MAP,
  decodeMapReply,
  decodeUnmapReply,
  OP_MAP,
  OP_UNMAP,
  type FramePeer,
} from "./requests.js";
import { receiveEvent, deliverLocal, raiseAll, executeSend } from "./events.js";
import { executeRequest, confirmHolder } from "./grant-ops.js";
import { type LinkState, type Peer } from "./state.js";

const ZERO_PAGE = new Uint8Array(PAGE_SIZE);

export function onData(link: LinkState, p: Peer, frame: Uint8Array): void {
  const h = decodeDataHeader(frame);
  p.sender.onAck(h.ack, link.now);
  const v = p.receiver.receive(h.seq, (h.flags & DATA_RESYNC) !== 0, frame, link.now);
  if (v === "duplicate") {
    // A retransmission of what we have: say so now (the sender probes a stalled ack with it).
    p.ackedSent = p.receiver.applied;
    link.transport.write(p.host, encodeAck(p.receiver.applied));
    return;
  }
  if (v !== "apply") return;
  applyFrame(link, p, h);
  for (const next of p.receiver.applyDone(h.seq)) applyFrame(link, p, decodeDataHeader(next));
}

/** Applies a frame's records in order (or queues it behind a paused record). */
function applyFrame(link: LinkState, p: Peer, h: DataFrame): void {
  if (p.stall) {
    // Keep our own copy: the frame's bytes belong to the socket's buffer.
    p.backlog.push(decodeDataHeader(copyFrame(h)));
    return;
  }
  const reader = new RecordReader(h.body);
  if (applyRecords(link, p, h, reader)) return;
  const frame = decodeDataHeader(copyFrame(h));
  const r = new RecordReader(frame.body);
  r.pos = reader.pos;
  p.stall = { frame, reader: r, since: link.now };
}

/** Applies records from `reader`; false when one must wait (reader stays on it). */
function applyRecords(link: LinkState, p: Peer, h: DataFrame, reader: RecordReader): boolean {
  while (!reader.done) {
    const at = reader.pos;
    const next = reader.peek();
    if (!applyRecord(link, p, reader.rec, reader)) {
      reader.pos = at;
      return false;
    }
    reader.pos = next;
  }
  link.stats.framesApplied++;
  p.appliedAt = link.now;
  for (const e of link.watermarks.note(p.host, h.watermark)) deliverLocal(link, e.domid, e.vcpu, e.port);
  return true;
}

export function resume(link: LinkState, p: Peer): void {
  while (p.stall) {
    const s = p.stall;
    if (!applyRecords(link, p, s.frame, s.reader)) return;
    p.stall = undefined;
    const next = p.backlog.shift();
    if (next) p.stall = { frame: next, reader: new RecordReader(next.body), since: link.now };
  }
}

function applyRecord(link: LinkState, p: Peer, r: RecordView, reader: RecordReader): boolean {
  switch (r.type) {
    case REC_RANGE:
      return applyRange(link, p, r.origin, r.offset, r.data, r.start, r.length);
    case REC_ZERO:
      return applyRange(link, p, r.origin, 0, ZERO_PAGE, 0, PAGE_SIZE);
    case REC_EVENT:
      if (link.area.isAuthority) {
        link.refuse(p, "EVENT sent to the hypervisor's host");
        return true;
      }
      receiveEvent(link, r.domid, r.vcpu, r.port, r.host === "" ? undefined : { writer: r.host, seq: r.seq });
      return true;
    case REC_SEND:
      executeSend(link, p, r.caller, r.port, r.seq);
      return true;
    case REC_REQUEST:
      executeRequest(link, p, r.id, r.op, r.caller, reader.payload().slice());
      return true;
    case REC_REPLY:
      onReply(link, p, r.id, r.op, reader.payload().slice());
      return true;
    case REC_DIRECTORY:
      onDirectory(link, p, r.origin, r.add, r.writable, r.host, r.id);
      return true;
    case REC_DIRECTORY_ACK:
      if (link.area.isAuthority) confirmHolder(link, r.id);
      else link.refuse(p, "DIRECTORY_ACK to a host without the hypervisor");
      return true;
    case REC_EVENT_ALL:
      raiseAll(link, r.domid);
      return true;
    case REC_FREE:
      if (link.area.isAuthority || p.index !== link.area.hypervisorPeer) {
        link.refuse(p, "FREE from a host without the hypervisor");
        return true;
      }
      freeReplica(link, r.origin);
      return true;
    default:
      link.refuse(p, `record type ${r.type}`);
      return true;
  }
}

/** Frees this host's replica of `origin` (the origin was freed, or nothing here holds it). */
function freeReplica(link: LinkState, origin: number): void {
  const local = link.area.dropReplica(origin);
  if (local === 0) return;
  link.writers.dropFrame(origin);
  link.wrote.delete(local);
  link.store.freeFrame(local);
  link.stats.replicasFreed++;
}

/** A map request of this host is waiting for its reply (at a host without the hypervisor). */
function mapOutstanding(link: LinkState): boolean {
  const hv = link.peerAt(link.area.hypervisorPeer);
  if (!hv || link.area.isAuthority) return false;
  for (const q of hv.outstanding.values()) if (q.op === OP_MAP) return true;
  return false;
}

/** May `p` write origin frame `origin`? In the hypervisor's host: its home or a writable pin. */
function mayWrite(link: LinkState, p: Peer, origin: number): boolean | "wait" {
  const area = link.area;
  if (area.isAuthority) {
    if (origin >= 0 && origin < link.writableBy.length && (link.writableBy[origin]! & (1 << p.index)) !== 0)
      return true;
    const owner = link.store.frameOwner(origin);
    if (owner === undefined || owner >= DOMID_XEN) return false;
    return area.home(owner) === p.index;
  }
  if (p.index === area.hypervisorPeer) return true;
  return link.writers.may(origin, p.host) ? true : "wait";
}

function applyRange(
  link: LinkState,
  p: Peer,
  origin: number,
  offset: number,
  src: Uint8Array,
  start: number,
  len: number,
): boolean {
  const may = mayWrite(link, p, origin);
  if (may === "wait") {
    // The directory, or the reply of a map this host is waiting for, names the writer: until
    // then its stream pauses here (nothing after this record is applied, so order holds).
    if (link.now - (p.stall?.since ?? link.now) < link.directoryWaitMs || mapOutstanding(link)) return false;
  }
  if (may !== true) {
    link.stats.refusedRanges++;
    link.directory.refuse(p.host);
    link.log?.warn(
      { peer: p.host, origin, offset, len },
      "link: write to a frame the peer may not write, refused",
    );
    return true;
  }
  const area = link.area;
  let local = area.replicaOf(origin);
  if (local === 0) {
    // A frame first seen here: replicas are made only for what the hypervisor's host sends.
    if (p.index !== area.hypervisorPeer || area.isAuthority) {
      link.stats.refusedRanges++;
      link.directory.refuse(p.host);
      return true;
    }
    local = area.ensureReplica(origin);
    // Whatever this host writes to it goes back to the origin.
    area.addSubscriber(local, p.index);
  }
  if (!link.store.isValidFrame(local)) {
    link.stats.refusedRanges++;
    return true;
  }
  const dst = local * PAGE_SIZE + offset;
  if ((offset & 3) === 0 && (len & 3) === 0 && len <= 256) {
    // Word by word with Atomics: a ring index is never seen torn (little-endian words).
    const w0 = dst >> 2;
    for (let i = 0; i < len; i += 4) {
      const at = start + i;
      Atomics.store(
        link.i32,
        w0 + (i >> 2),
        src[at]! | (src[at + 1]! << 8) | (src[at + 2]! << 16) | (src[at + 3]! << 24),
      );
    }
  } else link.u8.set(src.subarray(start, start + len), dst);
  link.stats.rangesApplied++;
  return true;
}

function onReply(link: LinkState, p: Peer, id: number, op: number, payload: Uint8Array): void {
  const q = p.outstanding.get(id);
  if (!q) return; // answered already (a reply sent again)
  p.outstanding.delete(id);
  const area = link.area;
  let out = payload;
  if (op === OP_MAP) {
    const r = decodeMapReply(payload);
    const locals: number[] = [];
    for (const x of r.results) {
      if (x.status !== GNTST_okay) {
        locals.push(0);
        continue;
      }
      const local = area.ensureReplica(x.origin);
      area.addSubscriber(local, p.index);
      locals.push(local);
    }
    subscribeFramePeers(link, area, r.peers);
    const tail = new Uint8Array(4 + 4 * locals.length);
    const dv = new DataView(tail.buffer);
    dv.setUint32(0, locals.length, true);
    locals.forEach((l, i) => dv.setUint32(4 + 4 * i, l, true));
    out = new Uint8Array(payload.length + tail.length);
    out.set(payload);
    out.set(tail, payload.length);
  } else if (op === OP_FOREIGN_MAP) {
    const r = decodeForeignMapReply(payload);
    if (r.rc === 0) {
      const locals: number[] = [];
      for (const origin of r.origins) {
        const local = area.ensureReplica(origin);
        area.addSubscriber(local, p.index);
        locals.push(local);
      }
      subscribeFramePeers(link, area, r.peers);
      // The mapper gets this host's frames (the replicas) in place of the origins.
      out = encodeForeignMapReply({ ...r, origins: locals, peers: [] });
    } else out = encodeForeignMapReply(r);
  } else if (op === OP_UNMAP) {
    const r = decodeUnmapReply(payload);
    // Nothing here holds these frames any more: their replicas are freed (no leak per unmap).
    for (const origin of r.unsubscribed) freeReplica(link, origin);
  }
  if (q.mailbox >= 0) area.deliverReply(q.mailbox, out);
}

/**
 * Subscribes the other hosts that map the same frames (a map reply's `peers`) to this host's
 * replicas, lets the writable ones write, and resumes a writer's stream that paused on one of these
 * frames (its writes came before this reply).
 */
function subscribeFramePeers(link: LinkState, area: LinkState["area"], peers: readonly FramePeer[]): void {
  const paused = new Set<Peer>();
  for (const fp of peers) {
    const local = area.replicaOf(fp.origin);
    if (!local) continue;
    const t = link.peer(fp.host);
    area.addSubscriber(local, t.index);
    if (fp.writable) link.writers.allow(fp.origin, fp.host);
    link.ensureConnected(t);
    if (t.stall) paused.add(t);
  }
  for (const t of paused) resume(link, t);
}

function onDirectory(
  link: LinkState,
  p: Peer,
  origin: number,
  add: boolean,
  writable: boolean,
  host: string,
  token: number,
): void {
  if (p.index !== link.area.hypervisorPeer || host === link.hostId) return;
  // Confirmed after the subscriber bit is set: every record drained from now on goes to `host`
  // as well (drainQueue adds the frame's current subscribers), the ones before are in frames
  // the hypervisor's host applies before this answer.
  const local = link.area.replicaOf(origin);
  const t = link.peer(host);
  if (add) {
    if (local) link.area.addSubscriber(local, t.index);
    if (writable) link.writers.allow(origin, host);
    else link.writers.revoke(origin, host);
    link.ensureConnected(t);
  } else {
    if (local) link.area.removeSubscriber(local, t.index);
    link.writers.revoke(origin, host);
  }
  if (token !== 0) {
    p.builder.directoryAck(token);
    link.ensureConnected(p);
  }
  if (t.stall) resume(link, t);
}

function copyFrame(h: DataFrame): Uint8Array {
  // Rebuild a frame (type byte first) around a copy of the body, for decodeDataHeader.
  const out = new Uint8Array(22 + h.body.length);
  const dv = new DataView(out.buffer);
  out[0] = FRAME_DATA;
  dv.setUint32(1, h.seq >>> 0, true);
  dv.setUint32(5, h.ack >>> 0, true);
  dv.setUint32(9, h.watermark % 0x1_0000_0000, true);
  dv.setUint32(13, Math.floor(h.watermark / 0x1_0000_0000), true);
  out[17] = h.flags;
  dv.setUint32(18, h.count, true);
  out.set(h.body, 22);
  return out;
}
