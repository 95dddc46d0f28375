// The link thread of one host process (docs/data-plane.md): drains the host's record queue into
// DATA frames per peer, applies the frames peers send, and — in the hypervisor's host — executes
// sends and grant requests through the same evtchn and gnttab cores as every other thread. Sockets,
// timers and address lookup are the adapter's (services/page-server); this is the pure core: frames
// in, frames out, `now` passed in. This file is its public face; the work is in the files of its
// seams (state, epochs, replication, drain, events, grant-ops: see the README).

import { type LinkArea } from "@xensim/memory";
import {
  decodeAckNack,
  decodeHello,
  encodeAck,
  encodeHello,
  encodeNack,
  FRAME_ACK,
  FRAME_DATA,
  FRAME_HELLO,
  FRAME_NACK,
  LINK_VERSION,
} from "./codec.js";
import type { SubscriptionDirectory } from "./directory.js";
import { helloVerdict } from "./session.js";
import { drainQueue, flush, retransmit } from "./drain.js";
import { forward } from "./events.js";
import { executeRequest, releaseHeld, reapForeign } from "./grant-ops.js";
import { onData, resume } from "./replication.js";
import { requestWatermarks, withoutWatermarks } from "./requests.js";
import { onHello } from "./epochs.js";
import { HYPERVISOR_WAIT_MS, type LinkEngineOptions, LinkState, type LinkStats } from "./state.js";

export type { LinkEngineOptions, LinkLogger, LinkStats, LinkTransport } from "./state.js";

/** The link thread's core: its public face (the adapter's calls); the work is done in the seams' files. */
export class LinkEngine {
  readonly hostId: string;
  readonly epoch: bigint;
  readonly area: LinkArea;
  readonly stats: LinkStats;
  /** Per writer host: ranges refused (a frame it may not write). */
  readonly directory: SubscriptionDirectory;
  private readonly link: LinkState;

  constructor(options: LinkEngineOptions) {
    const link = new LinkState(options);
    this.link = link;
    this.hostId = link.hostId;
    this.epoch = link.epoch;
    this.area = link.area;
    this.stats = link.stats;
    this.directory = link.directory;
    // Events this thread routes (sends it executes for peers) go straight into the peers' frames.
    this.area.routeHook = (peer, domid, vcpu, port) => forward(link, peer, domid, vcpu, port);
    this.area.setOwner(true);
  }

  /** The link thread stops: producers drop (and count) instead of queueing. */
  close(): void {
    this.link.area.setOwner(false);
    this.link.area.routeHook = undefined;
  }

  /** The hypervisor's host at a host without it, once a thread here has named it (else undefined). */
  get hypervisorHost(): string | undefined {
    const i = this.link.area.hypervisorPeer;
    if (i === 0 || this.link.area.isAuthority) return undefined;
    return this.link.peerAt(i)?.host;
  }

  /** Connected peers and their state (health, metrics). */
  peerInfo(): Array<{
    host: string;
    ready: boolean;
    epoch: string;
    unacked: number;
    applied: number;
    buffered: number;
  }> {
    return [...this.link.peers.values()].map((p) => ({
      host: p.host,
      ready: p.ready,
      epoch: p.epoch === undefined ? "" : p.epoch.toString(),
      unacked: p.sender.unacked,
      applied: p.receiver.applied,
      buffered: p.receiver.buffered,
    }));
  }

  /**
   * Would a HELLO be accepted (right version, another host, not an older epoch of a known peer)?
   * Nothing changes: the adapter asks before it lets a new connection replace a working one.
   */
  acceptsHello(frame: Uint8Array): boolean {
    try {
      const h = decodeHello(frame);
      if (h.version !== LINK_VERSION || h.hostId === this.link.hostId) return false;
      return helloVerdict(this.link.peers.get(h.hostId)?.epoch, h.epoch) !== "stale";
    } catch {
      return false;
    }
  }

  /** The adapter's connection to `peer` is open: say HELLO. */
  onOpen(host: string): void {
    const p = this.link.peer(host);
    p.connecting = false;
    p.ready = false;
    this.link.transport.write(
      host,
      encodeHello({
        version: LINK_VERSION,
        hostId: this.link.hostId,
        epoch: this.link.epoch,
        peerEpoch: p.epoch ?? 0n,
        lastReceived: p.epoch === undefined ? 0 : p.receiver.applied,
        identity: this.link.identity,
      }),
    );
  }

  /** The connection to `peer` is gone; frames wait in the window until it is back. */
  onClose(host: string): void {
    const p = this.link.peers.get(host);
    if (!p) return;
    p.ready = false;
    p.connecting = false;
  }

  /**
   * A frame from the connection to `from` (for an accepted connection whose peer is not known yet,
   * `from` is undefined and the frame must be its HELLO). Returns the peer's host id when the frame
   * was a HELLO that was accepted, null when it was refused (close the connection).
   */
  onFrame(from: string | undefined, frame: Uint8Array, now: number): string | null | undefined {
    this.link.now = now;
    this.link.stats.bytesReceived += frame.length + 4;
    const type = frame[0];
    if (type === FRAME_HELLO) return onHello(this.link, frame);
    if (from === undefined) return null;
    const p = this.link.peers.get(from);
    if (!p || !p.ready) return undefined;
    switch (type) {
      case FRAME_DATA:
        onData(this.link, p, frame);
        break;
      case FRAME_ACK:
        p.sender.onAck(decodeAckNack(frame).value, now);
        break;
      case FRAME_NACK: {
        const n = decodeAckNack(frame);
        retransmit(this.link, p, p.sender.onNack(n.value, n.to, now));
        break;
      }
      default:
        this.link.stats.refusedRecords++;
    }
    flush(this.link);
    return undefined;
  }

  /** Foreign mappings held for peers now (in the hypervisor's host). */
  get foreignMapCount(): number {
    let n = 0;
    for (const p of this.link.peers.values()) n += p.foreign.size;
    return n;
  }

  /**
   * Drains the host's record queue into the peers' frames and sends them. Returns the records
   * taken, or -1 when a producer is writing the next one (call again in a moment).
   */
  pump(now: number): number {
    this.link.now = now;
    const n = drainQueue(this.link);
    flush(this.link);
    return n;
  }

  /** Sends every frame under construction; after sends, a watermark to the other peers. */
  flush(): void {
    flush(this.link);
  }

  /** Retransmissions, NACKs, standalone ACKs, parked requests and paused streams that waited enough. */
  tick(now: number): void {
    this.link.now = now;
    for (const p of this.link.peers.values()) {
      if (!p.ready) {
        // The hypervisor's host is needed all the time (sends, grant ops, the events it routes
        // here): redial it until it is back, even with nothing pending (a restarted host is found
        // at once and its new epoch resynchronises both sides).
        if (p.index === this.link.area.hypervisorPeer && !this.link.area.isAuthority)
          this.link.ensureConnected(p);
        // The connection went (a socket error, a dropped peer connection): frames it did not
        // acknowledge, requests without a reply or records waiting need it back, even when nothing
        // new is queued for it (what was lost in flight may be what both sides wait for).
        if (p.sender.unacked > 0 || p.outstanding.size > 0 || p.builder.records > 0 || p.events.size > 0)
          this.link.ensureConnected(p);
        continue;
      }
      retransmit(this.link, p, p.sender.due(now));
      const nack = p.receiver.nack(now);
      if (nack !== undefined) {
        this.link.stats.nacksSent++;
        this.link.transport.write(p.host, encodeNack(nack.from, nack.to));
      }
      if (p.receiver.applied > p.ackedSent && now - p.appliedAt >= this.link.ackDelayMs) {
        p.ackedSent = p.receiver.applied;
        this.link.transport.write(p.host, encodeAck(p.receiver.applied));
      }
      if (p.stall && now - p.stall.since >= this.link.directoryWaitMs) resume(this.link, p);
    }
    if (this.link.area.isAuthority) reapForeign(this.link, now);
    for (const h of new Set(this.link.heldMaps.values())) {
      if (now - h.since < this.link.catchUpMs) continue;
      this.link.log?.warn(
        { peer: h.peer.host, waitingFor: [...h.tokens.values()] },
        "link: a frame's writer did not confirm the new holder in time; map answered anyway",
      );
      releaseHeld(this.link, h);
    }
    for (let i = 0; i < this.link.parkedRequests.length;) {
      const m = this.link.parkedRequests[i]!;
      if (m.awaitingHypervisor) {
        if (this.link.area.isAuthority) {
          this.link.parkedRequests.splice(i, 1);
          executeRequest(this.link, m.peer, m.id, m.op, m.caller, m.payload);
        } else if (now - m.since >= HYPERVISOR_WAIT_MS) {
          this.link.parkedRequests.splice(i, 1);
          this.link.refuse(m.peer, "REQUEST to a host without the hypervisor");
        } else i++;
        continue;
      }
      const seen = requestWatermarks(m.op, m.payload) ?? [];
      const ready = seen.every(
        (f) => f.writer === this.link.hostId || this.link.watermarks.reached(f.writer, f.seq),
      );
      if (ready || now - m.since >= this.link.catchUpMs) {
        this.link.parkedRequests.splice(i, 1);
        executeRequest(this.link, m.peer, m.id, m.op, m.caller, withoutWatermarks(m.op, m.payload));
      } else i++;
    }
    flush(this.link);
  }

  /** The hypervisor's host for `hostId` (at a host without it): sends and requests go there. */
  setHypervisorHost(hostId: string): void {
    const p = this.link.peer(hostId);
    this.link.area.setHypervisorPeer(p.index);
    this.link.ensureConnected(p);
  }
}
