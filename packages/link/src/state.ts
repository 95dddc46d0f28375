// The link engine's state (engine.ts is its public face): options, counters, the peers with their
// per-link sender, receiver and frame builder, what the hypervisor's host holds for them, and the
// helpers every seam uses (a peer by host or index, connecting, the evtchn/gnttab/ioreq cores).

import { DOMID_XEN } from "@xensim/abi";
import { EventChannels, wakeWordIndex } from "@xensim/evtchn";
import { GrantTables } from "@xensim/gnttab";
import { IoreqServers } from "@xensim/ioreq";
import { type LinkArea, type PageStore } from "@xensim/memory";
import { type DataFrame, DataFrameBuilder, type Fence, RecordReader } from "./codec.js";
import { FrameWriters, SubscriptionDirectory, Watermarks } from "./directory.js";
import { LinkReceiver, LinkSender, type ReceiverOptions, type SenderOptions } from "./session.js";

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

export interface OutstandingRequest {
  mailbox: number;
  op: number;
  caller: number;
  payload: Uint8Array;
}

export interface Stall {
  frame: DataFrame;
  reader: RecordReader;
  since: number;
}

/** A map reply waiting for DIRECTORY_ACKs (tokens) of the frames' other writers. */
export interface HeldMap {
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
export interface ParkedRequest {
  op: number;
  peer: Peer;
  id: number;
  caller: number;
  payload: Uint8Array;
  since: number;
  /**
   * Came before this host's hypervisor was up: the workers of a restarted host start together, and
   * a peer re-asks its standing placements as soon as it sees the new epoch. Executed once the
   * hypervisor runs here, refused after HYPERVISOR_WAIT_MS.
   */
  awaitingHypervisor?: boolean;
}

/** How long a REQUEST waits for this host's hypervisor to start (ms). */
export const HYPERVISOR_WAIT_MS = 30_000;

export interface Peer {
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
  /**
   * The next foreign-mapping handle: counting from a base drawn from this host's epoch, so that a
   * handle a peer kept from this host's previous run (it restarted) names nothing in this one — its
   * late unmap gets -EINVAL instead of releasing a new mapping that happens to have the same number.
   */
  nextForeignHandle: number;
}

/** The first foreign-mapping handle of a run: the epoch's low 31 bits (never 0). */
export function foreignHandleBase(epoch: bigint): number {
  return Number(epoch & 0x7fffffffn) || 1;
}

/** The handle after `handle` (32 bits, never 0). */
export function nextHandle(handle: number): number {
  return (handle + 1) >>> 0 || 1;
}

/** A foreign mapping done for a peer: the frames hold a page reference each until released. */
export interface ForeignMapping {
  caller: number;
  dom: number;
  frames: number[];
  writable: boolean;
  /** When the mapped domain was first seen dead (the mapping is released a grace period later). */
  deadSince?: number;
  /** A replica of the domain's grant table (local grant checks): released as soon as it dies. */
  grantTable?: boolean;
}

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

/** The link engine's state, shared by the files of its seams (epochs, replication, events, grant ops, drain). */
export class LinkState {
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
  readonly store: PageStore;
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
  readonly transport: LinkTransport;
  readonly log: LinkLogger | undefined;
  readonly frameBytes: number;
  readonly senderOpts: SenderOptions;
  readonly receiverOpts: ReceiverOptions;
  readonly ackDelayMs: number;
  readonly directoryWaitMs: number;
  readonly catchUpMs: number;
  readonly identity: Uint8Array;
  readonly frameAlloc: (bytes: number) => Uint8Array;
  /** Frame buffers the peers acknowledged, for the next frames (no allocation per frame). */
  readonly spareBuffers: Uint8Array[] = [];
  readonly frameBufferBytes: number;
  /** Per frame (in the hypervisor's host): peers holding a writable pin (bit i = peer i). */
  readonly writableBy: Int32Array;
  readonly peers = new Map<string, Peer>();
  readonly byIndex = new Map<number, Peer>();
  readonly writers = new FrameWriters();
  readonly watermarks = new Watermarks<{ domid: number; vcpu: number; port: number }>();
  readonly parkedRequests: ParkedRequest[] = [];
  /**
   * Map replies held until the frames' other writers confirmed the new holder (DIRECTORY_ACK):
   * from then on each of them sends its writes of the frame to it as well, and everything it wrote
   * before is here — so the frame's bytes can go to the new holder, then the reply.
   */
  readonly heldMaps = new Map<number, HeldMap>();
  nextToken = 1;
  /** Set by execute(OP_MAP): the frames to send and the confirmations to wait for. */
  mapWait: { frames: number[]; tokens: Map<number, string> } | undefined;
  gt: GrantTables | undefined;
  ioreq: IoreqServers | undefined;
  ev: EventChannels | undefined;
  /** Records drained so far: this host's stream position (watermarks, fences). */
  seq = 0;
  now = 0;
  /** The SEND being executed (its writer and seq): events it routes on carry this fence. */
  forwarding: Fence | undefined;
  /**
   * At a host without the hypervisor: the placements (PLACE) this host asked for, by request. A
   * restarted hypervisor's host knows none of them: they are asked again on its new epoch, or the
   * events of this host's dom0 receivers would stay pending over there.
   */
  readonly standing = new Map<string, { op: number; caller: number; payload: Uint8Array }>();
  cycleHadSends = false;
  /** shares(writer, holder), reset whenever the directory changes. */
  readonly sharesCache = new Map<string, boolean>();
  /** Shadow shared_info views by domid. */
  readonly shadows = new Map<number, { frame: number; view: ReturnType<PageStore["viewOfFrames"]> }>();
  /** Byte ranges this host wrote, per local frame (flattened [start, end) pairs): a resync resends exactly these. */
  readonly wrote = new Map<number, number[]>();

  constructor(options: LinkEngineOptions) {
    this.store = options.store;
    this.i32 = options.store.i32;
    this.u8 = options.store.u8;
    this.hostId = options.hostId;
    this.epoch = options.epoch;
    this.transport = options.transport;
    this.log = options.log;
    this.frameBytes = options.frameBytes ?? 64 * 1024;
    this.senderOpts = options.sender ?? {};
    this.receiverOpts = options.receiver ?? {};
    this.ackDelayMs = options.ackDelayMs ?? 2;
    this.directoryWaitMs = options.directoryWaitMs ?? 2000;
    this.catchUpMs = options.catchUpMs ?? 5000;
    this.identity = options.identity ?? new Uint8Array(0);
    this.frameAlloc = options.frameAlloc ?? ((n) => new Uint8Array(n));
    this.frameBufferBytes = this.frameBytes + 8192;
    this.area = options.store.ensureLink();
    this.writableBy = new Int32Array(options.store.nrFrames);
  }

  /** A buffer for a DATA frame: an acknowledged one again when it has the usual size. */
  frameBuffer(n: number): Uint8Array {
    if (n <= this.frameBufferBytes) {
      const b = this.spareBuffers.pop();
      if (b) return b;
      return this.frameAlloc(this.frameBufferBytes);
    }
    return this.frameAlloc(n);
  }

  /** The peer acknowledged `frame`: nothing refers to its buffer any more (it was written). */
  recycle(frame: Uint8Array): void {
    if (frame.byteOffset !== 0 || frame.buffer.byteLength !== this.frameBufferBytes) return;
    if (this.spareBuffers.length < 256) this.spareBuffers.push(new Uint8Array(frame.buffer));
  }

  peer(host: string): Peer {
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
      nextForeignHandle: foreignHandleBase(this.epoch),
    };
    this.peers.set(host, p);
    this.byIndex.set(index, p);
    return p;
  }

  peerAt(index: number): Peer | undefined {
    const p = this.byIndex.get(index);
    if (p) return p;
    const name = this.area.peerName(index);
    return name === undefined ? undefined : this.peer(name);
  }

  ensureConnected(p: Peer): void {
    if (p.ready || p.connecting) return;
    p.connecting = true;
    this.transport.connect(p.host);
  }

  refuse(p: Peer, why: string): void {
    this.stats.refusedRecords++;
    this.log?.warn({ peer: p.host, why }, "link: record refused");
  }

  eventChannels(): EventChannels {
    this.ev ??= new EventChannels(this.store, {
      notify: (d, vcpu) => {
        const si = this.ev!.sharedInfoFrame(d);
        if (si !== 0) Atomics.notify(this.i32, wakeWordIndex(si, vcpu));
      },
    });
    return this.ev;
  }

  grantTables(): GrantTables {
    this.gt ??= new GrantTables(this.store);
    return this.gt;
  }

  /**
   * Does host `p` act for `domid`: its home, a vCPU of it placed there, or a privileged domain (dom0's
   * services run on any host; which host may act as dom0 becomes a question of identity with mTLS,
   * issue 14 — the HELLO carries it then).
   */
  actsFor(p: Peer, domid: number): boolean {
    return p.places.has(domid) || this.area.home(domid) === p.index || this.store.isPrivileged(domid);
  }

  /** Does `writer` write a frame `holder` holds (its sends then need a fence there)? Cached. */
  shares(writer: string, holder: string): boolean {
    const key = `${writer}>${holder}`;
    let v = this.sharesCache.get(key);
    if (v === undefined) {
      v = this.directory.shares(writer, holder, (fr) => this.homeHostOf(fr));
      this.sharesCache.set(key, v);
    }
    return v;
  }

  homeHostOf(frame: number): string | undefined {
    const owner = this.store.frameOwner(frame);
    if (owner === undefined || owner >= DOMID_XEN) return undefined;
    const h = this.area.home(owner);
    return h === 0 ? undefined : this.area.peerName(h);
  }

  queueEvent(t: Peer, domid: number, vcpu: number, port: number): void {
    t.events.set(`${domid}/${vcpu}/${port}`, { domid, vcpu, port });
  }

  ioreqServers(): IoreqServers {
    this.ioreq ??= new IoreqServers(this.store, this.eventChannels());
    return this.ioreq;
  }
}
