// Sessions and epochs of the link engine (docs/data-plane.md): a peer's HELLO (resume, a new
// epoch, a stale one refused) and everything of a restarted peer's old epoch that goes — its
// frames, subscriptions, placements, grant and foreign mappings, and the requests it will never
// answer.

import { XenErrno } from "@xensim/abi";
import { decodeHello, LINK_VERSION } from "./codec.js";
import {
  decodeMapRequest,
  decodeUnmapRequest,
  encodeMapReply,
  encodeRc,
  encodeUnmapReply,
  OP_END_ACCESS,
  OP_MAP,
  OP_UNMAP,
} from "./requests.js";
import { helloVerdict } from "./session.js";
import { flush, retransmit } from "./drain.js";
import { deliverLocal } from "./events.js";
import { confirmHolder, tellHolders } from "./grant-ops.js";
import { type LinkState, type Peer, type OutstandingRequest } from "./state.js";

export function onHello(link: LinkState, frame: Uint8Array): string | null {
  const h = decodeHello(frame);
  if (h.version !== LINK_VERSION || h.hostId === link.hostId) return null;
  const p = link.peer(h.hostId);
  const verdict = helloVerdict(p.epoch, h.epoch);
  if (verdict === "stale") {
    link.stats.staleHellos++;
    link.log?.warn(
      { peer: h.hostId, epoch: String(h.epoch), known: String(p.epoch) },
      "link: stale epoch refused",
    );
    return null;
  }
  if (verdict === "new-epoch") {
    link.stats.epochChanges++;
    link.log?.info({ peer: h.hostId, epoch: String(h.epoch), old: String(p.epoch) }, "link: peer restarted");
    dropPeer(link, p);
  }
  if (verdict !== "resume") p.receiver.reset();
  p.epoch = h.epoch;
  p.ready = true;
  p.connecting = false;
  // Our stream to it: resume after what it applied, if it knows this epoch of ours.
  const knowsUs = h.peerEpoch === link.epoch;
  if (verdict === "new-epoch") p.sender.reset();
  const r = p.sender.resumeAfter(knowsUs ? h.lastReceived : 0, link.now);
  retransmit(link, p, r);
  if (verdict === "new-epoch" && p.index === link.area.hypervisorPeer && !link.area.isAuthority) {
    // The hypervisor's host restarted: where this host's receivers are, again (no mailbox waits).
    for (const q of link.standing.values()) {
      const id = p.nextRequestId++;
      p.outstanding.set(id, { mailbox: -1, ...q });
      p.builder.request(id, q.op, q.caller, q.payload);
    }
    link.stats.placementsRenewed += link.standing.size;
  }
  flush(link);
  return h.hostId;
}

/** Everything of `p`'s old epoch goes: its frames, subscriptions, placements, mappings. */
function dropPeer(link: LinkState, p: Peer): void {
  p.stall = undefined;
  p.backlog.length = 0;
  p.events.clear();
  p.sends.clear();
  p.builder.reset();
  // Parked events on its watermark are released (nothing of its old stream will come).
  for (const e of link.watermarks.reset(p.host)) deliverLocal(link, e.domid, e.vcpu, e.port);
  for (let i = link.parkedRequests.length - 1; i >= 0; i--)
    if (link.parkedRequests[i]!.peer === p) link.parkedRequests.splice(i, 1);
  // Map replies held for it are void; confirmations it owed will not come (it writes no more).
  for (const [token, h] of [...link.heldMaps]) {
    if (h.peer === p) {
      link.heldMaps.delete(token);
      h.tokens.delete(token);
    } else if (h.tokens.get(token) === p.host) confirmHolder(link, token);
  }
  // Requests we made of it will never be answered: fail them (the mailbox gets -EIO-like replies).
  for (const q of p.outstanding.values()) failRequest(link, q);
  p.outstanding.clear();
  p.replies.clear();
  // Who may write a frame is the hypervisor's host's to say: at a host without it, the restarted
  // peer's rights go when the hypervisor's host drops its old pins and tells the holders (its
  // DIRECTORY removals, in order before any right of the new epoch). Dropping them here too would
  // race with those: the new epoch's first mapping can be announced by the hypervisor's host before
  // the peer's own HELLO reaches this host (it dials here only once it has something to write), and
  // that right would be lost — every write of the new blkback to a guest's ring refused.
  if (link.area.isAuthority) link.writers.dropHost(p.host);
  // Its bit in every subscriber word.
  const area = link.area;
  for (let f = 0; f < area.nrFrames; f++)
    if (area.subscribers(f) & (1 << p.index)) area.removeSubscriber(f, p.index);
  if (!link.area.isAuthority) return;
  // In the hypervisor's host: its grant mappings and pins are released, as Xen releases a dead
  // mapper's; its event placements come back here.
  const gt = link.grantTables();
  for (const m of p.handles.values()) {
    gt.unmapGrantRef(m.caller, { handle: m.handle });
    link.stats.mappingsReleased++;
  }
  p.handles.clear();
  // Its foreign mappings: the page references go (the pins go with the directory below).
  for (const m of p.foreign.values()) {
    for (const f of m.frames) link.store.putPageRef(f);
    link.stats.foreignReleased++;
  }
  p.foreign.clear();
  for (const f of link.directory.dropHost(p.host)) {
    link.writableBy[f]! &= ~(1 << p.index);
    tellHolders(link, f, p.host, false, false);
  }
  p.places.clear();
  link.sharesCache.clear();
  const ev = link.eventChannels();
  for (const [d, v] of area.placementsOf(p.index)) {
    area.setPlacement(d, v, 0);
    ev.placementChanged(d, v);
  }
}

function failRequest(link: LinkState, q: OutstandingRequest): void {
  if (q.mailbox < 0) return; // asked by the link thread itself (a renewed placement)
  // The peer restarted before answering: a reply that says so (-EIO / GNTST_general_error).
  if (q.op === OP_MAP) {
    const n = decodeMapRequest(q.payload).refs.length;
    const results = Array.from({ length: n }, () => ({ status: -1, handle: 0, origin: 0 }));
    const payload = encodeMapReply({ results, peers: [] });
    const out = new Uint8Array(payload.length + 4 + 4 * n);
    out.set(payload);
    new DataView(out.buffer).setUint32(payload.length, n, true);
    link.area.deliverReply(q.mailbox, out);
  } else if (q.op === OP_UNMAP) {
    const n = decodeUnmapRequest(q.payload).length;
    link.area.deliverReply(q.mailbox, encodeUnmapReply({ statuses: Array(n).fill(-1), unsubscribed: [] }));
  } else if (q.op === OP_END_ACCESS) link.area.deliverReply(q.mailbox, new Uint8Array([0]));
  else link.area.deliverReply(q.mailbox, encodeRc(-XenErrno.EIO));
}
