// The link thread of one host process (docs/data-plane.md): drains the host's record queue into
// DATA frames per peer, applies the frames peers send, and — in the hypervisor's host — executes
// sends and grant requests through the same evtchn and gnttab cores as every other thread. Sockets,
// timers and address lookup are the adapter's (services/page-server); this is the pure core: frames
// in, frames out, `now` passed in.

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
import { EventChannels, setPending, wakeWordIndex } from "@xensim/evtchn";
import { endForeignAccess, GrantTables } from "@xensim/gnttab";
import { IoreqServers } from "@xensim/ioreq";
import {
  type LinkArea,
  PAGE_SIZE,
  type PageStore,
  Q_EVENT,
  Q_FREE,
  Q_RANGE,
  Q_REQUEST,
  Q_SEND,
  Q_ZERO,
} from "@xensim/memory";
import {
  DATA_RESYNC,
  type DataFrame,
  DataFrameBuilder,
  decodeAckNack,
  decodeDataHeader,
  decodeHello,
  encodeAck,
  encodeHello,
  encodeNack,
  type Fence,
  FRAME_ACK,
  FRAME_DATA,
  FRAME_HELLO,
  FRAME_NACK,
  LINK_VERSION,
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
import { FrameWriters, SubscriptionDirectory, Watermarks } from "./directory.js";
import {
  decodeForeignMapReply,
  decodeForeignMapRequest,
  encodeForeignMapReply,
  encodeForeignMapRequest,
  type ForeignMapRequest,
  OP_FOREIGN_MAP,
  OP_FOREIGN_UNMAP,
  decodeMapReply,
  decodeMapRequest,
  decodeUnmapReply,
  decodeUnmapRequest,
  decodeCopyRequest,
  encodeCopyRequest,
  encodeMapReply,
  encodeMapRequest,
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
} from "./requests.js";
import {
  helloVerdict,
  LinkReceiver,
  LinkSender,
  type ReceiverOptions,
  type SenderOptions,
} from "./session.js";

/** What the engine needs from the sockets. */
export interface LinkTransport {
  /** Open (or keep opening) a connection to `peer`; the adapter calls `onOpen` once it is up. */
  connect(peer: string): void;
  /** Write bytes on the connection to `peer` (dropped when there is none). */
  write(peer: string, bytes: Uint8Array): void;
  /** Close the connection to `peer` (a refused HELLO). */
  close(peer: string, reason: string): void;
}

export interface LinkLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface LinkEngineOptions {
  /** The link thread's own attachment to the host's page store. */
  store: PageStore;
  hostId: string;
  epoch: bigint;
  transport: LinkTransport;
  log?: LinkLogger;
  /** Cut DATA frames at about this many bytes (default 64 KiB). */
  frameBytes?: number;
  sender?: SenderOptions;
  receiver?: ReceiverOptions;
  /** Send a standalone ACK when frames were applied and nothing went back for this long (ms). */
  ackDelayMs?: number;
  /** A write from a host not (yet) known to be allowed waits this long for the directory (ms). */
  directoryWaitMs?: number;
  /** A map request waits this long for the watermarks it names (ms). */
  catchUpMs?: number;
  /** Identity put in HELLO (opaque; empty today). */
  identity?: Uint8Array;
  /** Buffers for DATA frames (the adapter's, not zero-filled); default: fresh Uint8Arrays. */
  frameAlloc?: (bytes: number) => Uint8Array;
}

interface OutstandingRequest {
  mailbox: number;
  op: number;
  caller: number;
  payload: Uint8Array;
}

interface Stall {
  frame: DataFrame;
  reader: RecordReader;
  since: number;
}

/** A map reply waiting for DIRECTORY_ACKs (tokens) of the frames' other writers. */
interface HeldMap {
  peer: Peer;
  id: number;
  /** OP_MAP or OP_FOREIGN_MAP. */
  op: number;
  reply: Uint8Array;
  /** Frames whose bytes go to the peer before the reply. */
  frames: number[];
  /** token → the writer host that must confirm. */
  tokens: Map<number, string>;
  since: number;
}

/** A map or copy waiting until this host applied the writes its requester had seen. */
interface ParkedRequest {
  op: number;
  peer: Peer;
  id: number;
  caller: number;
  payload: Uint8Array;
  since: number;
}

interface Peer {
  readonly host: string;
  readonly index: number;
  /** The peer's epoch as last seen in its HELLO. */
  epoch: bigint | undefined;
  /** HELLO received on the current connection: frames may flow. */
  ready: boolean;
  connecting: boolean;
  readonly sender: LinkSender;
  readonly receiver: LinkReceiver;
  readonly builder: DataFrameBuilder;
  /** Kicks coalesced until the frame is cut (after every range before them). */
  readonly events: Map<string, { domid: number; vcpu: number; port: number }>;
  readonly sends: Map<string, { caller: number; port: number }>;
  sendSeq: number;
  /** A paused record (a write waiting for the directory) and the frames after it. */
  stall: Stall | undefined;
  readonly backlog: DataFrame[];
  ackedSent: number;
  appliedAt: number;
  /** Frames sent to it in the current drain cycle (watermark frames go to the others). */
  sentThisCycle: boolean;
  // requests this host made of the peer (the hypervisor's host), by id
  readonly outstanding: Map<number, OutstandingRequest>;
  nextRequestId: number;
  // in the hypervisor's host: what was done on this peer's behalf
  readonly handles: Map<string, { frame: number; writable: boolean; caller: number; handle: number }>;
  readonly replies: Map<number, { op: number; payload: Uint8Array }>;
  /** Domains with a vCPU placed at this peer (PLACE requests). */
  readonly places: Set<number>;
  /** In the hypervisor's host: its foreign mappings (privcmd / acquire_resource), by handle. */
  readonly foreign: Map<number, ForeignMapping>;
  nextForeignHandle: number;
}

/** A foreign mapping done for a peer: the frames hold a page reference each until released. */
interface ForeignMapping {
  caller: number;
  dom: number;
  frames: number[];
  writable: boolean;
  /** When the mapped domain was first seen dead (the mapping is released a grace period later). */
  deadSince?: number;
  /** A replica of the domain's grant table (local grant checks): released as soon as it dies. */
  grantTable?: boolean;
}

/** A foreign mapping of a dead domain that its mapper did not unmap is released after this (ms). */
const FOREIGN_DEAD_GRACE_MS = 2000;

export interface LinkStats {
  framesSent: number;
  framesApplied: number;
  bytesSent: number;
  bytesReceived: number;
  recordsDrained: number;
  rangesApplied: number;
  eventsDelivered: number;
  sendsExecuted: number;
  requestsExecuted: number;
  refusedRanges: number;
  refusedRecords: number;
  staleHellos: number;
  epochChanges: number;
  /** Placements asked again of a restarted hypervisor's host. */
  placementsRenewed: number;
  resyncsSent: number;
  retransmitted: number;
  nacksSent: number;
  mappingsReleased: number;
  /** Foreign mappings made for peers (in the hypervisor's host). */
  foreignMaps: number;
  /** Foreign mappings released for a dead mapper or a dead domain (in the hypervisor's host). */
  foreignReleased: number;
  /** Replica frames freed (their origin frame was freed, or this host stopped holding it). */
  replicasFreed: number;
}

const REPLY_CACHE = 256;
const ZERO_PAGE = new Uint8Array(PAGE_SIZE);

export class LinkEngine {
  readonly hostId: string;
  readonly epoch: bigint;
  readonly area: LinkArea;
  readonly stats: LinkStats = {
    framesSent: 0,
    framesApplied: 0,
    bytesSent: 0,
    bytesReceived: 0,
    recordsDrained: 0,
    rangesApplied: 0,
    eventsDelivered: 0,
    sendsExecuted: 0,
    requestsExecuted: 0,
    refusedRanges: 0,
    refusedRecords: 0,
    staleHellos: 0,
    epochChanges: 0,
    placementsRenewed: 0,
    resyncsSent: 0,
    retransmitted: 0,
    nacksSent: 0,
    mappingsReleased: 0,
    foreignMaps: 0,
    foreignReleased: 0,
    replicasFreed: 0,
  };
  /** Per writer host: ranges refused (a frame it may not write). */
  readonly directory = new SubscriptionDirectory();
  private readonly store: PageStore;
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  private readonly transport: LinkTransport;
  private readonly log: LinkLogger | undefined;
  private readonly frameBytes: number;
  private readonly senderOpts: SenderOptions;
  private readonly receiverOpts: ReceiverOptions;
  private readonly ackDelayMs: number;
  private readonly directoryWaitMs: number;
  private readonly catchUpMs: number;
  private readonly identity: Uint8Array;
  private readonly frameAlloc: (bytes: number) => Uint8Array;
  /** Frame buffers the peers acknowledged, for the next frames (no allocation per frame). */
  private readonly spareBuffers: Uint8Array[] = [];
  private readonly frameBufferBytes: number;
  /** Per frame (in the hypervisor's host): peers holding a writable pin (bit i = peer i). */
  private readonly writableBy: Int32Array;
  private readonly peers = new Map<string, Peer>();
  private readonly byIndex = new Map<number, Peer>();
  private readonly writers = new FrameWriters();
  private readonly watermarks = new Watermarks<{ domid: number; vcpu: number; port: number }>();
  private readonly parkedRequests: ParkedRequest[] = [];
  /**
   * Map replies held until the frames' other writers confirmed the new holder (DIRECTORY_ACK):
   * from then on each of them sends its writes of the frame to it as well, and everything it wrote
   * before is here — so the frame's bytes can go to the new holder, then the reply.
   */
  private readonly heldMaps = new Map<number, HeldMap>();
  private nextToken = 1;
  /** Set by execute(OP_MAP): the frames to send and the confirmations to wait for. */
  private mapWait: { frames: number[]; tokens: Map<number, string> } | undefined;
  private gt: GrantTables | undefined;
  private ioreq: IoreqServers | undefined;
  private ev: EventChannels | undefined;
  /** Records drained so far: this host's stream position (watermarks, fences). */
  private seq = 0;
  private now = 0;
  /** The SEND being executed (its writer and seq): events it routes on carry this fence. */
  private forwarding: Fence | undefined;
  /**
   * At a host without the hypervisor: the placements (PLACE) this host asked for, by request. A
   * restarted hypervisor's host knows none of them: they are asked again on its new epoch, or the
   * events of this host's dom0 receivers would stay pending over there.
   */
  private readonly standing = new Map<string, { op: number; caller: number; payload: Uint8Array }>();
  private cycleHadSends = false;
  /** shares(writer, holder), reset whenever the directory changes. */
  private readonly sharesCache = new Map<string, boolean>();
  /** Shadow shared_info views by domid. */
  private readonly shadows = new Map<
    number,
    { frame: number; view: ReturnType<PageStore["viewOfFrames"]> }
  >();
  /** Byte ranges this host wrote, per local frame (flattened [start, end) pairs): a resync resends exactly these. */
  private readonly wrote = new Map<number, number[]>();

  constructor(o: LinkEngineOptions) {
    this.store = o.store;
    this.i32 = o.store.i32;
    this.u8 = o.store.u8;
    this.hostId = o.hostId;
    this.epoch = o.epoch;
    this.transport = o.transport;
    this.log = o.log;
    this.frameBytes = o.frameBytes ?? 64 * 1024;
    this.senderOpts = o.sender ?? {};
    this.receiverOpts = o.receiver ?? {};
    this.ackDelayMs = o.ackDelayMs ?? 2;
    this.directoryWaitMs = o.directoryWaitMs ?? 2000;
    this.catchUpMs = o.catchUpMs ?? 5000;
    this.identity = o.identity ?? new Uint8Array(0);
    this.frameAlloc = o.frameAlloc ?? ((n) => new Uint8Array(n));
    this.frameBufferBytes = this.frameBytes + 8192;
    this.area = o.store.ensureLink();
    this.writableBy = new Int32Array(o.store.nrFrames);
    // Events this thread routes (sends it executes for peers) go straight into the peers' frames.
    this.area.routeHook = (peer, domid, vcpu, port) => this.forward(peer, domid, vcpu, port);
    this.area.setOwner(true);
  }

  /** A buffer for a DATA frame: an acknowledged one again when it has the usual size. */
  private frameBuffer(n: number): Uint8Array {
    if (n <= this.frameBufferBytes) {
      const b = this.spareBuffers.pop();
      if (b) return b;
      return this.frameAlloc(this.frameBufferBytes);
    }
    return this.frameAlloc(n);
  }

  /** The peer acknowledged `frame`: nothing refers to its buffer any more (it was written). */
  private recycle(frame: Uint8Array): void {
    if (frame.byteOffset !== 0 || frame.buffer.byteLength !== this.frameBufferBytes) return;
    if (this.spareBuffers.length < 256) this.spareBuffers.push(new Uint8Array(frame.buffer));
  }

  /** The link thread stops: producers drop (and count) instead of queueing. */
  close(): void {
    this.area.setOwner(false);
    this.area.routeHook = undefined;
  }

  // ---- peers ------------------------------------------------------------------------------------

  private peer(host: string): Peer {
    let p = this.peers.get(host);
    if (p) return p;
    const index = this.area.peerIndex(host);
    if (index === 0) throw new Error(`no room for peer ${host} (31 peers at most)`);
    p = {
      host,
      index,
      epoch: undefined,
      ready: false,
      connecting: false,
      sender: new LinkSender({ ...this.senderOpts, acked: (f) => this.recycle(f) }),
      receiver: new LinkReceiver(this.receiverOpts),
      builder: new DataFrameBuilder(this.frameBufferBytes, (n) => this.frameBuffer(n)),
      events: new Map(),
      sends: new Map(),
      sendSeq: 0,
      stall: undefined,
      backlog: [],
      ackedSent: 0,
      appliedAt: 0,
      sentThisCycle: false,
      outstanding: new Map(),
      nextRequestId: 1,
      handles: new Map(),
      replies: new Map(),
      places: new Set(),
      foreign: new Map(),
      nextForeignHandle: 1,
    };
    this.peers.set(host, p);
    this.byIndex.set(index, p);
    return p;
  }

  private peerAt(index: number): Peer | undefined {
    const p = this.byIndex.get(index);
    if (p) return p;
    const name = this.area.peerName(index);
    return name === undefined ? undefined : this.peer(name);
  }

  /** The hypervisor's host at a host without it, once a thread here has named it (else undefined). */
  get hypervisorHost(): string | undefined {
    const i = this.area.hypervisorPeer;
    if (i === 0 || this.area.isAuthority) return undefined;
    return this.peerAt(i)?.host;
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
    return [...this.peers.values()].map((p) => ({
      host: p.host,
      ready: p.ready,
      epoch: p.epoch === undefined ? "" : p.epoch.toString(),
      unacked: p.sender.unacked,
      applied: p.receiver.applied,
      buffered: p.receiver.buffered,
    }));
  }

  private ensureConnected(p: Peer): void {
    if (p.ready || p.connecting) return;
    p.connecting = true;
    this.transport.connect(p.host);
  }

  /**
   * Would a HELLO be accepted (right version, another host, not an older epoch of a known peer)?
   * Nothing changes: the adapter asks before it lets a new connection replace a working one.
   */
  acceptsHello(frame: Uint8Array): boolean {
    try {
      const h = decodeHello(frame);
      if (h.version !== LINK_VERSION || h.hostId === this.hostId) return false;
      return helloVerdict(this.peers.get(h.hostId)?.epoch, h.epoch) !== "stale";
    } catch {
      return false;
    }
  }

  /** The adapter's connection to `peer` is open: say HELLO. */
  onOpen(host: string): void {
    const p = this.peer(host);
    p.connecting = false;
    p.ready = false;
    this.transport.write(
      host,
      encodeHello({
        version: LINK_VERSION,
        hostId: this.hostId,
        epoch: this.epoch,
        peerEpoch: p.epoch ?? 0n,
        lastReceived: p.epoch === undefined ? 0 : p.receiver.applied,
        identity: this.identity,
      }),
    );
  }

  /** The connection to `peer` is gone; frames wait in the window until it is back. */
  onClose(host: string): void {
    const p = this.peers.get(host);
    if (!p) return;
    p.ready = false;
    p.connecting = false;
  }

  // ---- receiving --------------------------------------------------------------------------------

  /**
   * A frame from the connection to `from` (for an accepted connection whose peer is not known yet,
   * `from` is undefined and the frame must be its HELLO). Returns the peer's host id when the frame
   * was a HELLO that was accepted, null when it was refused (close the connection).
   */
  onFrame(from: string | undefined, frame: Uint8Array, now: number): string | null | undefined {
    this.now = now;
    this.stats.bytesReceived += frame.length + 4;
    const type = frame[0];
    if (type === FRAME_HELLO) return this.onHello(frame);
    if (from === undefined) return null;
    const p = this.peers.get(from);
    if (!p || !p.ready) return undefined;
    switch (type) {
      case FRAME_DATA:
        this.onData(p, frame);
        break;
      case FRAME_ACK:
        p.sender.onAck(decodeAckNack(frame).value, now);
        break;
      case FRAME_NACK: {
        const n = decodeAckNack(frame);
        this.retransmit(p, p.sender.onNack(n.value, n.to, now));
        break;
      }
      default:
        this.stats.refusedRecords++;
    }
    this.flush();
    return undefined;
  }

  private onHello(frame: Uint8Array): string | null {
    const h = decodeHello(frame);
    if (h.version !== LINK_VERSION || h.hostId === this.hostId) return null;
    const p = this.peer(h.hostId);
    const verdict = helloVerdict(p.epoch, h.epoch);
    if (verdict === "stale") {
      this.stats.staleHellos++;
      this.log?.warn(
        { peer: h.hostId, epoch: String(h.epoch), known: String(p.epoch) },
        "link: stale epoch refused",
      );
      return null;
    }
    if (verdict === "new-epoch") {
      this.stats.epochChanges++;
      this.log?.info(
        { peer: h.hostId, epoch: String(h.epoch), old: String(p.epoch) },
        "link: peer restarted",
      );
      this.dropPeer(p);
    }
    if (verdict !== "resume") p.receiver.reset();
    p.epoch = h.epoch;
    p.ready = true;
    p.connecting = false;
    // Our stream to it: resume after what it applied, if it knows this epoch of ours.
    const knowsUs = h.peerEpoch === this.epoch;
    if (verdict === "new-epoch") p.sender.reset();
    const r = p.sender.resumeAfter(knowsUs ? h.lastReceived : 0, this.now);
    this.retransmit(p, r);
    if (verdict === "new-epoch" && p.index === this.area.hypervisorPeer && !this.area.isAuthority) {
      // The hypervisor's host restarted: where this host's receivers are, again (no mailbox waits).
      for (const q of this.standing.values()) {
        const id = p.nextRequestId++;
        p.outstanding.set(id, { mailbox: -1, ...q });
        p.builder.request(id, q.op, q.caller, q.payload);
      }
      this.stats.placementsRenewed += this.standing.size;
    }
    this.flush();
    return h.hostId;
  }

  /** Everything of `p`'s old epoch goes: its frames, subscriptions, placements, mappings. */
  private dropPeer(p: Peer): void {
    p.stall = undefined;
    p.backlog.length = 0;
    p.events.clear();
    p.sends.clear();
    p.builder.reset();
    // Parked events on its watermark are released (nothing of its old stream will come).
    for (const e of this.watermarks.reset(p.host)) this.deliverLocal(e.domid, e.vcpu, e.port);
    for (let i = this.parkedRequests.length - 1; i >= 0; i--)
      if (this.parkedRequests[i]!.peer === p) this.parkedRequests.splice(i, 1);
    // Map replies held for it are void; confirmations it owed will not come (it writes no more).
    for (const [token, h] of [...this.heldMaps]) {
      if (h.peer === p) {
        this.heldMaps.delete(token);
        h.tokens.delete(token);
      } else if (h.tokens.get(token) === p.host) this.confirmHolder(token);
    }
    // Requests we made of it will never be answered: fail them (the mailbox gets -EIO-like replies).
    for (const q of p.outstanding.values()) this.failRequest(q);
    p.outstanding.clear();
    p.replies.clear();
    this.writers.dropHost(p.host);
    // Its bit in every subscriber word.
    const area = this.area;
    for (let f = 0; f < area.nrFrames; f++)
      if (area.subscribers(f) & (1 << p.index)) area.removeSubscriber(f, p.index);
    if (!this.area.isAuthority) return;
    // In the hypervisor's host: its grant mappings and pins are released, as Xen releases a dead
    // mapper's; its event placements come back here.
    const gt = this.grantTables();
    for (const m of p.handles.values()) {
      gt.unmapGrantRef(m.caller, { handle: m.handle });
      this.stats.mappingsReleased++;
    }
    p.handles.clear();
    // Its foreign mappings: the page references go (the pins go with the directory below).
    for (const m of p.foreign.values()) {
      for (const f of m.frames) this.store.putPageRef(f);
      this.stats.foreignReleased++;
    }
    p.foreign.clear();
    for (const f of this.directory.dropHost(p.host)) {
      this.writableBy[f]! &= ~(1 << p.index);
      this.tellHolders(f, p.host, false, false);
    }
    p.places.clear();
    this.sharesCache.clear();
    const ev = this.eventChannels();
    for (const [d, v] of area.placementsOf(p.index)) {
      area.setPlacement(d, v, 0);
      ev.placementChanged(d, v);
    }
  }

  private onData(p: Peer, frame: Uint8Array): void {
    const h = decodeDataHeader(frame);
    p.sender.onAck(h.ack, this.now);
    const v = p.receiver.receive(h.seq, (h.flags & DATA_RESYNC) !== 0, frame, this.now);
    if (v === "duplicate") {
      // A retransmission of what we have: say so now (the sender probes a stalled ack with it).
      p.ackedSent = p.receiver.applied;
      this.transport.write(p.host, encodeAck(p.receiver.applied));
      return;
    }
    if (v !== "apply") return;
    this.applyFrame(p, h);
    for (const next of p.receiver.applyDone(h.seq)) this.applyFrame(p, decodeDataHeader(next));
  }

  /** Applies a frame's records in order (or queues it behind a paused record). */
  private applyFrame(p: Peer, h: DataFrame): void {
    if (p.stall) {
      // Keep our own copy: the frame's bytes belong to the socket's buffer.
      p.backlog.push(decodeDataHeader(copyFrame(h)));
      return;
    }
    const reader = new RecordReader(h.body);
    if (this.applyRecords(p, h, reader)) return;
    const frame = decodeDataHeader(copyFrame(h));
    const r = new RecordReader(frame.body);
    r.pos = reader.pos;
    p.stall = { frame, reader: r, since: this.now };
  }

  /** Applies records from `reader`; false when one must wait (reader stays on it). */
  private applyRecords(p: Peer, h: DataFrame, reader: RecordReader): boolean {
    while (!reader.done) {
      const at = reader.pos;
      const next = reader.peek();
      if (!this.applyRecord(p, reader.rec, reader)) {
        reader.pos = at;
        return false;
      }
      reader.pos = next;
    }
    this.stats.framesApplied++;
    p.appliedAt = this.now;
    for (const e of this.watermarks.note(p.host, h.watermark)) this.deliverLocal(e.domid, e.vcpu, e.port);
    return true;
  }

  private resume(p: Peer): void {
    while (p.stall) {
      const s = p.stall;
      if (!this.applyRecords(p, s.frame, s.reader)) return;
      p.stall = undefined;
      const next = p.backlog.shift();
      if (next) p.stall = { frame: next, reader: new RecordReader(next.body), since: this.now };
    }
  }

  private applyRecord(p: Peer, r: RecordView, reader: RecordReader): boolean {
    switch (r.type) {
      case REC_RANGE:
        return this.applyRange(p, r.origin, r.offset, r.data, r.start, r.length);
      case REC_ZERO:
        return this.applyRange(p, r.origin, 0, ZERO_PAGE, 0, PAGE_SIZE);
      case REC_EVENT:
        if (this.area.isAuthority) {
          this.refuse(p, "EVENT sent to the hypervisor's host");
          return true;
        }
        this.receiveEvent(
          r.domid,
          r.vcpu,
          r.port,
          r.host === "" ? undefined : { writer: r.host, seq: r.seq },
        );
        return true;
      case REC_SEND:
        this.executeSend(p, r.caller, r.port, r.seq);
        return true;
      case REC_REQUEST:
        this.executeRequest(p, r.id, r.op, r.caller, reader.payload().slice());
        return true;
      case REC_REPLY:
        this.onReply(p, r.id, r.op, reader.payload().slice());
        return true;
      case REC_DIRECTORY:
        this.onDirectory(p, r.origin, r.add, r.writable, r.host, r.id);
        return true;
      case REC_DIRECTORY_ACK:
        if (this.area.isAuthority) this.confirmHolder(r.id);
        else this.refuse(p, "DIRECTORY_ACK to a host without the hypervisor");
        return true;
      case REC_EVENT_ALL:
        this.raiseAll(r.domid);
        return true;
      case REC_FREE:
        if (this.area.isAuthority || p.index !== this.area.hypervisorPeer) {
          this.refuse(p, "FREE from a host without the hypervisor");
          return true;
        }
        this.freeReplica(r.origin);
        return true;
      default:
        this.refuse(p, `record type ${r.type}`);
        return true;
    }
  }

  /** Frees this host's replica of `origin` (the origin was freed, or nothing here holds it). */
  private freeReplica(origin: number): void {
    const local = this.area.dropReplica(origin);
    if (local === 0) return;
    this.writers.dropFrame(origin);
    this.wrote.delete(local);
    this.store.freeFrame(local);
    this.stats.replicasFreed++;
  }

  /** A map request of this host is waiting for its reply (at a host without the hypervisor). */
  private mapOutstanding(): boolean {
    const hv = this.peerAt(this.area.hypervisorPeer);
    if (!hv || this.area.isAuthority) return false;
    for (const q of hv.outstanding.values()) if (q.op === OP_MAP) return true;
    return false;
  }

  private refuse(p: Peer, why: string): void {
    this.stats.refusedRecords++;
    this.log?.warn({ peer: p.host, why }, "link: record refused");
  }

  /** May `p` write origin frame `origin`? In the hypervisor's host: its home or a writable pin. */
  private mayWrite(p: Peer, origin: number): boolean | "wait" {
    const area = this.area;
    if (area.isAuthority) {
      if (origin >= 0 && origin < this.writableBy.length && (this.writableBy[origin]! & (1 << p.index)) !== 0)
        return true;
      const owner = this.store.frameOwner(origin);
      if (owner === undefined || owner >= DOMID_XEN) return false;
      return area.home(owner) === p.index;
    }
    if (p.index === area.hypervisorPeer) return true;
    return this.writers.may(origin, p.host) ? true : "wait";
  }

  private applyRange(
    p: Peer,
    origin: number,
    offset: number,
    src: Uint8Array,
    start: number,
    len: number,
  ): boolean {
    const may = this.mayWrite(p, origin);
    if (may === "wait") {
      // The directory, or the reply of a map this host is waiting for, names the writer: until
      // then its stream pauses here (nothing after this record is applied, so order holds).
      if (this.now - (p.stall?.since ?? this.now) < this.directoryWaitMs || this.mapOutstanding())
        return false;
    }
    if (may !== true) {
      this.stats.refusedRanges++;
      this.directory.refuse(p.host);
      this.log?.warn(
        { peer: p.host, origin, offset, len },
        "link: write to a frame the peer may not write, refused",
      );
      return true;
    }
    const area = this.area;
    let local = area.replicaOf(origin);
    if (local === 0) {
      // A frame first seen here: replicas are made only for what the hypervisor's host sends.
      if (p.index !== area.hypervisorPeer || area.isAuthority) {
        this.stats.refusedRanges++;
        this.directory.refuse(p.host);
        return true;
      }
      local = area.ensureReplica(origin);
      // Whatever this host writes to it goes back to the origin.
      area.addSubscriber(local, p.index);
    }
    if (!this.store.isValidFrame(local)) {
      this.stats.refusedRanges++;
      return true;
    }
    const dst = local * PAGE_SIZE + offset;
    if ((offset & 3) === 0 && (len & 3) === 0 && len <= 256) {
      // Word by word with Atomics: a ring index is never seen torn (little-endian words).
      const w0 = dst >> 2;
      for (let i = 0; i < len; i += 4) {
        const at = start + i;
        Atomics.store(
          this.i32,
          w0 + (i >> 2),
          src[at]! | (src[at + 1]! << 8) | (src[at + 2]! << 16) | (src[at + 3]! << 24),
        );
      }
    } else this.u8.set(src.subarray(start, start + len), dst);
    this.stats.rangesApplied++;
    return true;
  }

  // ---- events -----------------------------------------------------------------------------------

  private eventChannels(): EventChannels {
    this.ev ??= new EventChannels(this.store, {
      notify: (d, vcpu) => {
        const si = this.ev!.sharedInfoFrame(d);
        if (si !== 0) Atomics.notify(this.i32, wakeWordIndex(si, vcpu));
      },
    });
    return this.ev;
  }

  private grantTables(): GrantTables {
    this.gt ??= new GrantTables(this.store);
    return this.gt;
  }

  /** An EVENT for a domain whose events are delivered here; waits for its fence first. */
  private receiveEvent(domid: number, vcpu: number, port: number, fence: Fence | undefined): void {
    if (fence && fence.writer !== this.hostId && !this.watermarks.reached(fence.writer, fence.seq)) {
      this.watermarks.park(fence.writer, fence.seq, { domid, vcpu, port });
      return;
    }
    this.deliverLocal(domid, vcpu, port);
  }

  /** Sets (domid, port) pending in this host's shadow shared_info and wakes its receiver. */
  private deliverLocal(domid: number, vcpu: number, port: number): void {
    let sh = this.shadows.get(domid);
    if (!sh) {
      const frame = this.area.shadowOf(domid, true);
      sh = { frame, view: this.store.viewOfFrames([frame]) };
      this.shadows.set(domid, sh);
    }
    Atomics.store(this.u8, (sh.frame + 1) * PAGE_SIZE + (port & 4095), vcpu + 1);
    this.stats.eventsDelivered++;
    if (setPending(sh.view, vcpu, port)) Atomics.notify(this.i32, wakeWordIndex(sh.frame, vcpu));
  }

  /** After a resync: every port seen for `domid` may have missed an event (a spurious one is harmless). */
  private raiseAll(domid: number): void {
    const frame = this.area.shadowOf(domid, false);
    if (!frame) return;
    const base = (frame + 1) * PAGE_SIZE;
    for (let port = 1; port < 4096; port++) {
      const v = Atomics.load(this.u8, base + port);
      if (v !== 0) this.deliverLocal(domid, v - 1, port);
    }
  }

  /** In the hypervisor's host: EVTCHNOP_send on behalf of a domain whose sender runs at `p`. */
  private executeSend(p: Peer, caller: number, port: number, seq: number): void {
    const area = this.area;
    if (!area.isAuthority) {
      this.refuse(p, "SEND to a host without the hypervisor");
      return;
    }
    if (!this.actsFor(p, caller)) {
      this.refuse(p, `SEND for domain ${caller}, which does not run there`);
      return;
    }
    this.stats.sendsExecuted++;
    this.forwarding = { writer: p.host, seq };
    try {
      this.eventChannels().evtchnSend(caller, port);
    } finally {
      this.forwarding = undefined;
    }
  }

  /**
   * Does host `p` act for `domid`: its home, a vCPU of it placed there, or a privileged domain (dom0's
   * services run on any host; which host may act as dom0 becomes a question of identity with mTLS,
   * issue 14 — the HELLO carries it then).
   */
  private actsFor(p: Peer, domid: number): boolean {
    return p.places.has(domid) || this.area.home(domid) === p.index || this.store.isPrivileged(domid);
  }

  /** The evtchn core routed an event to `peerIndex` (this thread's hook). */
  private forward(peerIndex: number, domid: number, vcpu: number, port: number): void {
    const t = this.peerAt(peerIndex);
    if (!t) return;
    const f = this.forwarding;
    const fence = f && f.writer !== t.host && this.shares(f.writer, t.host) ? f : undefined;
    if (fence) t.builder.event(domid, vcpu, port, fence);
    else this.queueEvent(t, domid, vcpu, port);
    this.ensureConnected(t);
  }

  /** Does `writer` write a frame `holder` holds (its sends then need a fence there)? Cached. */
  private shares(writer: string, holder: string): boolean {
    const key = `${writer}>${holder}`;
    let v = this.sharesCache.get(key);
    if (v === undefined) {
      v = this.directory.shares(writer, holder, (fr) => this.homeHostOf(fr));
      this.sharesCache.set(key, v);
    }
    return v;
  }

  private homeHostOf(frame: number): string | undefined {
    const owner = this.store.frameOwner(frame);
    if (owner === undefined || owner >= DOMID_XEN) return undefined;
    const h = this.area.home(owner);
    return h === 0 ? undefined : this.area.peerName(h);
  }

  private queueEvent(t: Peer, domid: number, vcpu: number, port: number): void {
    t.events.set(`${domid}/${vcpu}/${port}`, { domid, vcpu, port });
  }

  // ---- requests (executed in the hypervisor's host) ----------------------------------------------

  private executeRequest(p: Peer, id: number, op: number, caller: number, payload: Uint8Array): void {
    if (!this.area.isAuthority) {
      this.refuse(p, "REQUEST to a host without the hypervisor");
      return;
    }
    const cached = p.replies.get(id);
    if (cached) {
      // A request sent again after a resync: answered from the cache, not done twice.
      this.reply(p, id, cached.op, cached.payload);
      return;
    }
    for (const h of this.heldMaps.values()) if (h.peer === p && h.id === id) return; // held: answered later
    const seen = requestWatermarks(op, payload);
    if (seen?.some((f) => f.writer !== this.hostId && !this.watermarks.reached(f.writer, f.seq))) {
      this.parkedRequests.push({ op, peer: p, id, caller, payload, since: this.now });
      return;
    }
    this.stats.requestsExecuted++;
    let out: Uint8Array;
    this.mapWait = undefined;
    try {
      out = this.execute(p, op, caller, payload);
    } catch (err) {
      this.log?.warn({ peer: p.host, op, err: String(err) }, "link: bad request");
      out = encodeRc(-XenErrno.EINVAL);
    }
    const wait = this.mapWait as { frames: number[]; tokens: Map<number, string> } | undefined;
    this.mapWait = undefined;
    if (wait && wait.tokens.size > 0) {
      const held: HeldMap = {
        peer: p,
        id,
        op,
        reply: out,
        frames: wait.frames,
        tokens: wait.tokens,
        since: this.now,
      };
      for (const t of wait.tokens.keys()) this.heldMaps.set(t, held);
      return;
    }
    if (wait) for (const f of wait.frames) this.sendFrame(p, f);
    p.replies.set(id, { op, payload: out });
    if (p.replies.size > REPLY_CACHE) p.replies.delete(p.replies.keys().next().value!);
    this.reply(p, id, op, out);
  }

  /** A writer confirmed a new holder (or can no longer): the map reply goes once all did. */
  private confirmHolder(token: number): void {
    const h = this.heldMaps.get(token);
    if (!h) return;
    this.heldMaps.delete(token);
    h.tokens.delete(token);
    if (h.tokens.size > 0) return;
    this.releaseHeld(h);
  }

  private releaseHeld(h: HeldMap): void {
    for (const t of h.tokens.keys()) this.heldMaps.delete(t);
    h.tokens.clear();
    const p = h.peer;
    for (const f of h.frames) this.sendFrame(p, f);
    p.replies.set(h.id, { op: h.op, payload: h.reply });
    if (p.replies.size > REPLY_CACHE) p.replies.delete(p.replies.keys().next().value!);
    this.reply(p, h.id, h.op, h.reply);
  }

  private reply(p: Peer, id: number, op: number, payload: Uint8Array): void {
    // What this host wrote before (grant flags, the initial copies) travels before the reply.
    this.drainQueue();
    p.builder.reply(id, op, payload);
    this.ensureConnected(p);
  }

  private execute(p: Peer, op: number, caller: number, payload: Uint8Array): Uint8Array {
    const area = this.area;
    switch (op) {
      case OP_MAP: {
        const q = decodeMapRequest(payload);
        const results: MapResult[] = [];
        const peers: FramePeer[] = [];
        if (!this.actsFor(p, caller)) {
          for (const _ of q.refs) results.push({ status: GNTST_permission_denied, handle: 0, origin: 0 });
          return encodeMapReply({ results, peers });
        }
        const gt = this.grantTables();
        const writable = (q.flags & GNTMAP_readonly) === 0;
        const seen = new Set<number>();
        const wait = { frames: [] as number[], tokens: new Map<number, string>() };
        this.mapWait = wait;
        for (const ref of q.refs) {
          const r = gt.mapGrantRef(caller, { dom: q.dom, ref, flags: q.flags });
          if (r.status !== GNTST_okay) {
            results.push({ status: r.status, handle: 0, origin: 0 });
            continue;
          }
          results.push({ status: r.status, handle: r.handle, origin: r.frame });
          p.handles.set(`${caller}/${r.handle}`, { frame: r.frame, writable, caller, handle: r.handle });
          const pin = this.directory.pin(r.frame, p.host, writable);
          if (writable) this.writableBy[r.frame]! |= 1 << p.index;
          if (pin.subscribed) {
            area.addSubscriber(r.frame, p.index);
            // Its bytes go after the other writers of the frame confirmed the new holder.
            wait.frames.push(r.frame);
          }
          if (pin.subscribed || pin.becameWriter)
            this.tellHolders(r.frame, p.host, true, writable, pin.subscribed ? wait.tokens : undefined);
          if (!seen.has(r.frame)) {
            seen.add(r.frame);
            for (const h of this.holders(r.frame))
              if (h !== p.host)
                peers.push({ origin: r.frame, host: h, writable: this.mayHostWrite(r.frame, h) });
          }
        }
        return encodeMapReply({ results, peers });
      }
      case OP_UNMAP: {
        const handles = decodeUnmapRequest(payload);
        const gt = this.grantTables();
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
          const up = this.directory.unpin(m.frame, p.host, m.writable);
          if (!this.directory.writesThrough(m.frame, p.host)) this.writableBy[m.frame]! &= ~(1 << p.index);
          if (up.unsubscribed) {
            area.removeSubscriber(m.frame, p.index);
            unsubscribed.push(m.frame);
            this.tellHolders(m.frame, p.host, false, false);
          } else if (up.stoppedWriting) this.tellHolders(m.frame, p.host, true, false);
        }
        return encodeUnmapReply({ statuses, unsubscribed });
      }
      case OP_END_ACCESS: {
        if (area.home(caller) !== p.index) return new Uint8Array([0]);
        const ref = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0, true);
        try {
          return new Uint8Array([endForeignAccess(this.grantTables().sharedView(caller), ref) ? 1 : 0]);
        } catch {
          return new Uint8Array([0]);
        }
      }
      case OP_PLACE: {
        const vcpu = payload[0] ?? 0;
        if (area.home(caller) !== 0 && area.home(caller) !== p.index) return encodeRc(-XenErrno.EPERM);
        area.setPlacement(caller, vcpu, p.index);
        p.places.add(caller);
        this.eventChannels().placementChanged(caller, vcpu);
        return encodeRc(0);
      }
      case OP_HOME: {
        if (area.home(caller) !== p.index) return encodeRc(-XenErrno.EPERM);
        // Every frame of the domain: subscribed, and its content now (then every write follows).
        const store = this.store;
        for (let f = store.firstUsableFrame; f < store.nrFrames; f++) {
          if (store.frameOwner(f) !== caller) continue;
          area.addSubscriber(f, p.index);
          this.sendFrame(p, f);
        }
        return encodeRc(0);
      }
      case OP_SYNC:
        return encodeRc(0);
      case OP_FOREIGN_MAP:
        return this.foreignMap(p, caller, decodeForeignMapRequest(payload));
      case OP_FOREIGN_UNMAP: {
        const handle = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(
          0,
          true,
        );
        const m = p.foreign.get(handle);
        if (!m || m.caller !== caller) return encodeRc(-XenErrno.EINVAL);
        this.releaseForeign(p, handle, m);
        return encodeRc(0);
      }
      case OP_COPY: {
        // After the requester's writes (they came first on its link) and those it had seen from
        // other hosts (its watermarks): the source bytes here are what it saw. What the copy
        // writes travels to the destination's holders before the reply (reply() drains first).
        const q = decodeCopyRequest(payload);
        if (!this.actsFor(p, caller)) return encodeStatuses(q.ops.map(() => GNTST_permission_denied));
        const gt = this.grantTables();
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
  private foreignMap(p: Peer, caller: number, q: ForeignMapRequest): Uint8Array {
    const fail = (rc: number) => encodeForeignMapReply({ rc, handle: 0, origins: [], peers: [] });
    if (!this.actsFor(p, caller) || !this.store.isPrivileged(caller)) return fail(-XenErrno.EPERM);
    if (this.store.domainState(q.dom) !== "live") return fail(-XenErrno.ESRCH);
    const store = this.store;
    const frames: number[] = [];
    const undo = (rc: number) => {
      for (const f of frames) store.putPageRef(f);
      return fail(rc);
    };
    let grantTable = false;
    if (q.resource?.type === XENMEM_resource_grant_table) {
      // The granter's shared entries (XENMEM_resource_grant_table_id_shared): a mapper's host keeps
      // a replica to refuse locally what is already invalid (docs/data-plane.md).
      const all = this.grantTables().grantFrames(q.dom);
      const { id, frame, nrFrames } = q.resource;
      if (id !== 0 || nrFrames < 1 || frame + nrFrames > all.length) return fail(-XenErrno.EINVAL);
      for (const f of all.slice(frame, frame + nrFrames)) {
        if (!store.getPageRef(f, q.dom)) return undo(-XenErrno.EINVAL);
        frames.push(f);
      }
      grantTable = true;
    } else if (q.resource) {
      if (q.resource.type !== XENMEM_resource_ioreq_server) return fail(-XenErrno.EOPNOTSUPP);
      const servers = this.ioreqServers();
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
    const handle = p.nextForeignHandle++;
    p.foreign.set(handle, { caller, dom: q.dom, frames, writable, ...(grantTable ? { grantTable } : {}) });
    this.stats.foreignMaps++;
    const area = this.area;
    const wait = { frames: [] as number[], tokens: new Map<number, string>() };
    this.mapWait = wait;
    const peers: FramePeer[] = [];
    const seen = new Set<number>();
    for (const f of frames) {
      const pin = this.directory.pin(f, p.host, writable);
      if (writable) this.writableBy[f]! |= 1 << p.index;
      if (pin.subscribed) {
        area.addSubscriber(f, p.index);
        wait.frames.push(f);
      }
      if (pin.subscribed || pin.becameWriter)
        this.tellHolders(f, p.host, true, writable, pin.subscribed ? wait.tokens : undefined);
      if (seen.has(f)) continue;
      seen.add(f);
      for (const h of this.holders(f))
        if (h !== p.host) peers.push({ origin: f, host: h, writable: this.mayHostWrite(f, h) });
    }
    return encodeForeignMapReply({ rc: 0, handle, origins: frames, peers });
  }

  /** Unpins a foreign mapping of `p` and drops its page references (a dying frame is freed now). */
  private releaseForeign(p: Peer, handle: number, m: ForeignMapping): void {
    p.foreign.delete(handle);
    const area = this.area;
    for (const f of m.frames) {
      const up = this.directory.unpin(f, p.host, m.writable);
      if (!this.directory.writesThrough(f, p.host)) this.writableBy[f]! &= ~(1 << p.index);
      if (up.unsubscribed && this.homeHostOf(f) !== p.host) {
        // A frame freed by this last reference: its FREE goes to the peer, which still subscribes.
        this.store.putPageRef(f);
        area.removeSubscriber(f, p.index);
        this.tellHolders(f, p.host, false, false);
        if (this.store.frameOwner(f) !== undefined) {
          // Still allocated: the peer stops holding it (FREE frees its replica).
          p.builder.free(f);
          this.cutIfFull(p);
          this.ensureConnected(p);
        }
      } else {
        this.store.putPageRef(f);
        if (up.stoppedWriting) this.tellHolders(f, p.host, true, false);
      }
    }
  }

  /** Foreign mappings of domains that died and whose mappers did not unmap them: released. */
  private reapForeign(now: number): void {
    for (const p of this.peers.values()) {
      for (const [handle, m] of p.foreign) {
        if (this.store.domainState(m.dom) === "live") continue;
        m.deadSince ??= now;
        if (!m.grantTable && now - m.deadSince < FOREIGN_DEAD_GRACE_MS) continue;
        this.log?.warn(
          { peer: p.host, dom: m.dom, frames: m.frames.length },
          "link: foreign mapping of a dead domain released",
        );
        this.releaseForeign(p, handle, m);
        this.stats.foreignReleased++;
      }
    }
  }

  /** Foreign mappings held for peers now (in the hypervisor's host). */
  get foreignMapCount(): number {
    let n = 0;
    for (const p of this.peers.values()) n += p.foreign.size;
    return n;
  }

  private ioreqServers(): IoreqServers {
    this.ioreq ??= new IoreqServers(this.store, this.eventChannels());
    return this.ioreq;
  }

  /** Whole frame `frame` of this host to `p` (a ZERO record when it is all zeroes). */
  private sendFrame(p: Peer, frame: number): void {
    const at = frame * PAGE_SIZE;
    const w0 = at >> 2;
    let zero = true;
    for (let i = 0; i < 1024 && zero; i++) zero = this.i32[w0 + i] === 0;
    if (zero) p.builder.zero(frame);
    else p.builder.range(frame, 0, this.u8, at, PAGE_SIZE);
    this.cutIfFull(p);
  }

  /** Hosts besides this one holding `frame`: its owner's home (when not here) and pin holders. */
  private holders(frame: number): string[] {
    const out = new Set(this.directory.subscribers(frame));
    const h = this.homeHostOf(frame);
    if (h !== undefined) out.add(h);
    return [...out];
  }

  private mayHostWrite(frame: number, host: string): boolean {
    return this.homeHostOf(frame) === host || this.directory.writesThrough(frame, host);
  }

  /** Tell the other holders of `frame` that `host` holds it (add) or no longer (remove). */
  private tellHolders(
    frame: number,
    host: string,
    add: boolean,
    writable: boolean,
    confirm?: Map<number, string>,
  ): void {
    this.sharesCache.clear();
    for (const h of this.holders(frame)) {
      if (h === host) continue;
      const t = this.peer(h);
      // A holder that writes the frame confirms a new holder: its writes from then on go there too.
      let token = 0;
      if (confirm && this.mayHostWrite(frame, h) && t.epoch !== undefined) {
        token = this.nextToken++ >>> 0 || this.nextToken++;
        confirm.set(token, h);
      }
      t.builder.directory(frame, add, writable, host, token);
      this.ensureConnected(t);
    }
  }

  private onReply(p: Peer, id: number, op: number, payload: Uint8Array): void {
    const q = p.outstanding.get(id);
    if (!q) return; // answered already (a reply sent again)
    p.outstanding.delete(id);
    const area = this.area;
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
      const paused = new Set<Peer>();
      for (const fp of r.peers) {
        const local = area.replicaOf(fp.origin);
        if (!local) continue;
        const t = this.peer(fp.host);
        area.addSubscriber(local, t.index);
        if (fp.writable) this.writers.allow(fp.origin, fp.host);
        this.ensureConnected(t);
        if (t.stall) paused.add(t);
      }
      // A writer's stream paused on this frame (its writes came before this reply) goes on.
      for (const t of paused) this.resume(t);
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
        const paused = new Set<Peer>();
        for (const fp of r.peers) {
          const local = area.replicaOf(fp.origin);
          if (!local) continue;
          const t = this.peer(fp.host);
          area.addSubscriber(local, t.index);
          if (fp.writable) this.writers.allow(fp.origin, fp.host);
          this.ensureConnected(t);
          if (t.stall) paused.add(t);
        }
        for (const t of paused) this.resume(t);
        // The mapper gets this host's frames (the replicas) in place of the origins.
        out = encodeForeignMapReply({ ...r, origins: locals, peers: [] });
      } else out = encodeForeignMapReply(r);
    } else if (op === OP_UNMAP) {
      const r = decodeUnmapReply(payload);
      // Nothing here holds these frames any more: their replicas are freed (no leak per unmap).
      for (const origin of r.unsubscribed) this.freeReplica(origin);
    }
    if (q.mailbox >= 0) area.deliverReply(q.mailbox, out);
  }

  private failRequest(q: OutstandingRequest): void {
    if (q.mailbox < 0) return; // asked by the link thread itself (a renewed placement)
    // The peer restarted before answering: a reply that says so (-EIO / GNTST_general_error).
    if (q.op === OP_MAP) {
      const n = decodeMapRequest(q.payload).refs.length;
      const results = Array.from({ length: n }, () => ({ status: -1, handle: 0, origin: 0 }));
      const payload = encodeMapReply({ results, peers: [] });
      const out = new Uint8Array(payload.length + 4 + 4 * n);
      out.set(payload);
      new DataView(out.buffer).setUint32(payload.length, n, true);
      this.area.deliverReply(q.mailbox, out);
    } else if (q.op === OP_UNMAP) {
      const n = decodeUnmapRequest(q.payload).length;
      this.area.deliverReply(q.mailbox, encodeUnmapReply({ statuses: Array(n).fill(-1), unsubscribed: [] }));
    } else if (q.op === OP_END_ACCESS) this.area.deliverReply(q.mailbox, new Uint8Array([0]));
    else this.area.deliverReply(q.mailbox, encodeRc(-XenErrno.EIO));
  }

  private onDirectory(
    p: Peer,
    origin: number,
    add: boolean,
    writable: boolean,
    host: string,
    token: number,
  ): void {
    if (p.index !== this.area.hypervisorPeer || host === this.hostId) return;
    // Confirmed after the subscriber bit is set: every record drained from now on goes to `host`
    // as well (drainQueue adds the frame's current subscribers), the ones before are in frames
    // the hypervisor's host applies before this answer.
    const local = this.area.replicaOf(origin);
    const t = this.peer(host);
    if (add) {
      if (local) this.area.addSubscriber(local, t.index);
      if (writable) this.writers.allow(origin, host);
      else this.writers.revoke(origin, host);
      this.ensureConnected(t);
    } else {
      if (local) this.area.removeSubscriber(local, t.index);
      this.writers.revoke(origin, host);
    }
    if (token !== 0) {
      p.builder.directoryAck(token);
      this.ensureConnected(p);
    }
    if (t.stall) this.resume(t);
  }

  // ---- draining the queue -----------------------------------------------------------------------

  /**
   * Drains the host's record queue into the peers' frames and sends them. Returns the records
   * taken, or -1 when a producer is writing the next one (call again in a moment).
   */
  pump(now: number): number {
    this.now = now;
    const n = this.drainQueue();
    this.flush();
    return n;
  }

  private drainQueue(): number {
    let total = 0;
    for (;;) {
      const n = this.area.drain((rec, u8) => {
        this.seq++;
        this.stats.recordsDrained++;
        switch (rec.type) {
          case Q_RANGE:
          case Q_ZERO: {
            const origin = this.area.originOf(rec.a);
            if (origin < 0) return;
            if (rec.type === Q_RANGE) this.noteWrote(rec.a, rec.b, rec.b + rec.c);
            else this.noteWrote(rec.a, 0, PAGE_SIZE);
            // The frame's subscribers when marked, and any added since (a holder confirmed in
            // between must get every record drained after its confirmation).
            for (let mask = rec.d | this.area.subscribers(rec.a); mask !== 0; mask &= mask - 1) {
              const t = this.peerAt(31 - Math.clz32(mask & -mask));
              if (!t) continue;
              if (rec.type === Q_RANGE) t.builder.range(origin, rec.b, u8, rec.dataOffset, rec.c);
              else t.builder.zero(origin);
              this.ensureConnected(t);
              this.cutIfFull(t);
            }
            return;
          }
          case Q_FREE: {
            // An origin frame freed at the hypervisor's host: its replicas go too.
            for (let mask = rec.b; mask !== 0; mask &= mask - 1) {
              const t = this.peerAt(31 - Math.clz32(mask & -mask));
              if (!t) continue;
              t.builder.free(rec.a);
              this.ensureConnected(t);
              this.cutIfFull(t);
            }
            return;
          }
          case Q_EVENT: {
            const t = this.peerAt(rec.a);
            if (!t) return;
            this.queueEvent(t, rec.b, rec.c, rec.d);
            this.ensureConnected(t);
            return;
          }
          case Q_SEND: {
            const hv = this.peerAt(this.area.hypervisorPeer);
            if (!hv) return;
            hv.sends.set(`${rec.b}/${rec.c}`, { caller: rec.b, port: rec.c });
            hv.sendSeq = this.seq;
            this.cycleHadSends = true;
            this.ensureConnected(hv);
            return;
          }
          case Q_REQUEST: {
            const hv = this.peerAt(this.area.hypervisorPeer);
            let payload: Uint8Array = u8.slice(rec.dataOffset, rec.dataOffset + rec.dataLength);
            if (!hv) {
              this.area.deliverReply(rec.d, encodeRc(-XenErrno.ENOTCONN));
              return;
            }
            if (rec.c === OP_MAP || rec.c === OP_COPY || rec.c === OP_FOREIGN_MAP) {
              // The requester's applied watermarks: the hypervisor's host catches up with them first.
              payload = withWatermarks(
                rec.c,
                payload,
                this.watermarks.entries().filter((w) => w.writer !== hv.host),
              );
            }
            if (rec.c === OP_PLACE)
              this.standing.set(`${rec.b}/${payload.join(",")}`, { op: rec.c, caller: rec.b, payload });
            const id = hv.nextRequestId++;
            hv.outstanding.set(id, { mailbox: rec.d, op: rec.c, caller: rec.b, payload });
            // A request follows everything queued before it (its sends too).
            this.emitKicks(hv);
            hv.builder.request(id, rec.c, rec.b, payload);
            this.ensureConnected(hv);
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

  /** Remembers that this host wrote [start, end) of local frame `frame` (for a resync). */
  private noteWrote(frame: number, start: number, end: number): void {
    const list = this.wrote.get(frame);
    if (!list) {
      this.wrote.set(frame, [start, end]);
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

  private cutIfFull(t: Peer): void {
    if (t.builder.size >= this.frameBytes) this.cut(t);
  }

  /** Kicks coalesced so far go after everything already in the frame. */
  private emitKicks(t: Peer): void {
    for (const e of t.events.values()) t.builder.event(e.domid, e.vcpu, e.port);
    t.events.clear();
    for (const s of t.sends.values()) t.builder.send(t.sendSeq, s.caller, s.port);
    t.sends.clear();
  }

  /** Ends `t`'s current frame: stamped, kept in the window, written when the link is up. */
  private cut(t: Peer): void {
    this.emitKicks(t);
    if (t.builder.records === 0) return;
    const frame = t.builder.finish({
      seq: t.sender.nextSeq,
      ack: t.receiver.applied,
      watermark: this.seq,
      flags: t.sender.takeFlags(),
    });
    t.sender.sent(frame, this.now);
    t.ackedSent = t.receiver.applied;
    t.sentThisCycle = true;
    this.stats.framesSent++;
    if (t.ready) {
      this.stats.bytesSent += frame.length;
      this.transport.write(t.host, frame);
    } else this.ensureConnected(t);
  }

  /** Sends every frame under construction; after sends, a watermark to the other peers. */
  flush(): void {
    for (const t of this.peers.values()) {
      t.sentThisCycle = false;
      if (t.builder.records > 0 || t.events.size > 0 || t.sends.size > 0) this.cut(t);
    }
    if (this.cycleHadSends) {
      this.cycleHadSends = false;
      for (const t of this.peers.values()) {
        if (t.sentThisCycle || !t.ready || t.index === this.area.hypervisorPeer) continue;
        // An empty frame: its watermark lets fences on this host's sends be satisfied there.
        const frame = t.builder.finish({
          seq: t.sender.nextSeq,
          ack: t.receiver.applied,
          watermark: this.seq,
          flags: t.sender.takeFlags(),
        });
        t.sender.sent(frame, this.now);
        this.stats.framesSent++;
        this.stats.bytesSent += frame.length;
        this.transport.write(t.host, frame);
      }
    }
  }

  private retransmit(p: Peer, r: ReturnType<LinkSender["due"]>): void {
    if (!r) return;
    if (r.kind === "frames") {
      if (!p.ready) return;
      for (const f of r.frames) {
        this.stats.retransmitted++;
        this.stats.bytesSent += f.length;
        this.transport.write(p.host, f);
      }
      return;
    }
    this.resync(p);
  }

  /**
   * The frames `p` misses are gone: send everything it holds again — every frame it subscribes to,
   * a rescan of its receivers' ports, and our unanswered requests (answered once: reply cache).
   */
  private resync(p: Peer): void {
    this.stats.resyncsSent++;
    this.log?.info({ peer: p.host }, "link: resynchronising");
    p.builder.reset();
    const area = this.area;
    const bit = 1 << p.index;
    // Exactly the bytes this host wrote to each frame the peer holds (never bytes another host
    // writes: a ring page has two writers, and this copy of the other's half may be older).
    for (const [f, list] of this.wrote) {
      if ((area.subscribers(f) & bit) === 0) continue;
      const origin = area.originOf(f);
      if (origin < 0) continue;
      for (let i = 0; i < list.length; i += 2) {
        p.builder.range(origin, list[i]!, this.u8, f * PAGE_SIZE + list[i]!, list[i + 1]! - list[i]!);
        this.cutIfFull(p);
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
    this.cut(p);
  }

  // ---- timers -----------------------------------------------------------------------------------

  /** Retransmissions, NACKs, standalone ACKs, parked requests and paused streams that waited enough. */
  tick(now: number): void {
    this.now = now;
    for (const p of this.peers.values()) {
      if (!p.ready) {
        // The hypervisor's host is needed all the time (sends, grant ops, the events it routes
        // here): redial it until it is back, even with nothing pending (a restarted host is found
        // at once and its new epoch resynchronises both sides).
        if (p.index === this.area.hypervisorPeer && !this.area.isAuthority) this.ensureConnected(p);
        // The connection went (a socket error, a dropped peer connection): frames it did not
        // acknowledge, requests without a reply or records waiting need it back, even when nothing
        // new is queued for it (what was lost in flight may be what both sides wait for).
        if (p.sender.unacked > 0 || p.outstanding.size > 0 || p.builder.records > 0 || p.events.size > 0)
          this.ensureConnected(p);
        continue;
      }
      this.retransmit(p, p.sender.due(now));
      const nack = p.receiver.nack(now);
      if (nack !== undefined) {
        this.stats.nacksSent++;
        this.transport.write(p.host, encodeNack(nack.from, nack.to));
      }
      if (p.receiver.applied > p.ackedSent && now - p.appliedAt >= this.ackDelayMs) {
        p.ackedSent = p.receiver.applied;
        this.transport.write(p.host, encodeAck(p.receiver.applied));
      }
      if (p.stall && now - p.stall.since >= this.directoryWaitMs) this.resume(p);
    }
    if (this.area.isAuthority) this.reapForeign(now);
    for (const h of new Set(this.heldMaps.values())) {
      if (now - h.since < this.catchUpMs) continue;
      this.log?.warn(
        { peer: h.peer.host, waitingFor: [...h.tokens.values()] },
        "link: a frame's writer did not confirm the new holder in time; map answered anyway",
      );
      this.releaseHeld(h);
    }
    for (let i = 0; i < this.parkedRequests.length;) {
      const m = this.parkedRequests[i]!;
      const seen = requestWatermarks(m.op, m.payload) ?? [];
      const ready = seen.every((f) => f.writer === this.hostId || this.watermarks.reached(f.writer, f.seq));
      if (ready || now - m.since >= this.catchUpMs) {
        this.parkedRequests.splice(i, 1);
        this.executeRequest(m.peer, m.id, m.op, m.caller, withoutWatermarks(m.op, m.payload));
      } else i++;
    }
    this.flush();
  }

  /** The hypervisor's host for `hostId` (at a host without it): sends and requests go there. */
  setHypervisorHost(hostId: string): void {
    const p = this.peer(hostId);
    this.area.setHypervisorPeer(p.index);
    this.ensureConnected(p);
  }
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

/** The watermarks a map or copy request names (undefined for other requests). */
function requestWatermarks(op: number, payload: Uint8Array): Fence[] | undefined {
  try {
    if (op === OP_MAP) return decodeMapRequest(payload).watermarks;
    if (op === OP_COPY) return decodeCopyRequest(payload).watermarks;
    if (op === OP_FOREIGN_MAP) return decodeForeignMapRequest(payload).watermarks;
  } catch {
    return undefined; // a bad payload: execute() answers it
  }
  return undefined;
}

function withWatermarks(op: number, payload: Uint8Array, watermarks: Fence[]): Uint8Array {
  if (op === OP_MAP) return encodeMapRequest({ ...decodeMapRequest(payload), watermarks });
  if (op === OP_FOREIGN_MAP)
    return encodeForeignMapRequest({ ...decodeForeignMapRequest(payload), watermarks });
  return encodeCopyRequest({ ...decodeCopyRequest(payload), watermarks });
}

/** The request without its watermarks (caught up, or waited long enough): executed as it is. */
function withoutWatermarks(op: number, payload: Uint8Array): Uint8Array {
  return withWatermarks(op, payload, []);
}
