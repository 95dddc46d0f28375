// A simulated network of host processes for the link's tests: each host has its own page store (its
// own SharedArrayBuffer) and LinkEngine; connections are in-order byte pipes with a delivery delay,
// with the fault hooks (FrameFaults) on each direction's DATA frames. Time is virtual (ms); `run`
// steps it, delivering bytes, ticking engines and draining queues. One thread: the "other threads"
// of a host are other PageStore attachments of the same buffer.
import { PageStore } from "@xensim/memory";
import type { SeededRandom } from "@xensim/testkit";
import { FRAME_DATA, FrameDecoder } from "../codec.js";
import { LinkEngine, type LinkEngineOptions } from "../engine.js";
import { FrameFaults, type LinkFaultRules } from "../faults.js";
import { newEpoch } from "../session.js";

interface Pipe {
  from: SimHost;
  to: SimHost;
  queue: Array<{ at: number; bytes: Uint8Array }>;
  decoder: FrameDecoder;
  faults: FrameFaults | undefined;
  open: boolean;
  /** The receiving side accepted the HELLO (frames reach its engine). */
  accepted: boolean;
}

export class SimHost {
  readonly store: PageStore;
  engine!: LinkEngine;
  epoch: bigint;
  constructor(
    readonly net: SimNet,
    readonly hostId: string,
    frames: number,
    store?: PageStore,
  ) {
    this.store = store ?? PageStore.create({ frames });
    this.epoch = newEpoch(net.now + net.epochBase, net.rng.int(0x10000));
  }

  /** A fresh engine (a restart keeps the buffer: a new epoch only when `newEpoch`). */
  start(opts: Partial<LinkEngineOptions> = {}, restart = false): void {
    if (restart) this.epoch = newEpoch(this.net.now + this.net.epochBase + 1000, this.net.rng.int(0x10000));
    this.engine = new LinkEngine({
      store: PageStore.attach(this.store.buffer),
      hostId: this.hostId,
      epoch: this.epoch,
      transport: {
        connect: (peer) => this.net.connect(this, peer),
        write: (peer, bytes) => this.net.write(this, peer, bytes),
        close: (peer) => this.net.disconnect(this.hostId, peer),
      },
      ...opts,
    });
  }

  /** Another thread of this host: its own attachment of the buffer. */
  thread(): PageStore {
    return PageStore.attach(this.store.buffer);
  }
}

export class SimNet {
  now = 0;
  readonly epochBase = 1_700_000_000_000;
  readonly hosts = new Map<string, SimHost>();
  private readonly pipes = new Map<string, Pipe>();
  /** Fault rules for frames sent from → to (key "from>to"). */
  readonly rules = new Map<string, LinkFaultRules>();
  /** Bytes delivered per direction. */
  delivered = 0;

  constructor(
    readonly rng: SeededRandom,
    /** Delivery delay of a write, ms (uniform in [0, maxDelayMs]; order kept per pipe). */
    readonly maxDelayMs = 1,
  ) {}

  add(hostId: string, frames = 8192, store?: PageStore): SimHost {
    const h = new SimHost(this, hostId, frames, store);
    this.hosts.set(hostId, h);
    return h;
  }

  private pipe(from: SimHost, to: SimHost): Pipe {
    const key = `${from.hostId}>${to.hostId}`;
    let p = this.pipes.get(key);
    if (!p) {
      const rules = this.rules.get(key);
      p = {
        from,
        to,
        queue: [],
        decoder: new FrameDecoder(),
        faults: rules ? new FrameFaults(rules, () => this.rng.next()) : undefined,
        open: false,
        accepted: false,
      };
      this.pipes.set(key, p);
    }
    return p;
  }

  /** Faults applied so far on from → to. */
  faults(from: string, to: string): FrameFaults | undefined {
    return this.pipes.get(`${from}>${to}`)?.faults;
  }

  connect(from: SimHost, peer: string): void {
    const to = this.hosts.get(peer);
    if (!to) return;
    const a = this.pipe(from, to);
    const b = this.pipe(to, from);
    if (a.open && b.open) {
      from.engine.onOpen(peer);
      return;
    }
    a.open = b.open = true;
    a.accepted = b.accepted = false;
    a.decoder = new FrameDecoder();
    b.decoder = new FrameDecoder();
    a.queue.length = 0;
    b.queue.length = 0;
    from.engine.onOpen(peer);
    to.engine.onOpen(from.hostId);
  }

  disconnect(a: string, b: string): void {
    for (const key of [`${a}>${b}`, `${b}>${a}`]) {
      const p = this.pipes.get(key);
      if (!p) continue;
      p.open = false;
      p.accepted = false;
      p.queue.length = 0;
    }
    this.hosts.get(a)?.engine.onClose(b);
    this.hosts.get(b)?.engine.onClose(a);
  }

  write(from: SimHost, peer: string, bytes: Uint8Array): void {
    const to = this.hosts.get(peer);
    if (!to) return;
    const p = this.pipe(from, to);
    if (!p.open) return;
    const copy = bytes.slice();
    const rules = this.rules.get(`${from.hostId}>${peer}`);
    if (rules && !p.faults) p.faults = new FrameFaults(rules, () => this.rng.next());
    const out = p.faults && copy[4] === FRAME_DATA ? p.faults.plan(copy, this.now) : [copy];
    for (const b of out) this.enqueue(p, b);
  }

  private enqueue(p: Pipe, bytes: Uint8Array): void {
    const last = p.queue.length > 0 ? p.queue[p.queue.length - 1]!.at : this.now;
    p.queue.push({ at: Math.max(last, this.now + this.rng.next() * this.maxDelayMs), bytes });
  }

  /** Injects raw bytes on from → to (a stale process replaying old frames, a forged frame). */
  inject(from: string, to: string, bytes: Uint8Array): void {
    const p = this.pipe(this.hosts.get(from)!, this.hosts.get(to)!);
    p.open = true;
    this.enqueue(p, bytes);
  }

  /** Advance virtual time by `ms` in 1 ms steps (or until `until` holds). */
  run(ms: number, until?: () => boolean): boolean {
    const end = this.now + ms;
    while (this.now < end) {
      if (until?.()) return true;
      this.step();
    }
    return until?.() ?? true;
  }

  step(): void {
    this.now += 0.5;
    for (const p of this.pipes.values()) {
      if (p.faults) for (const b of p.faults.due(this.now)) this.enqueue(p, b);
      while (p.queue.length > 0 && p.queue[0]!.at <= this.now) {
        const { bytes } = p.queue.shift()!;
        this.delivered += bytes.length;
        p.decoder.push(bytes, (frame) => {
          const known = p.accepted ? p.from.hostId : undefined;
          const r = p.to.engine.onFrame(known, frame, this.now);
          if (typeof r === "string") p.accepted = true;
          else if (r === null) this.disconnect(p.from.hostId, p.to.hostId);
        });
      }
    }
    for (const h of this.hosts.values()) {
      h.engine.tick(this.now);
      for (let i = 0; i < 8 && h.engine.pump(this.now) !== 0; i++);
    }
  }
}
