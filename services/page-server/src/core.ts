// The page-server's engine, independent of how it is placed: this host's ReplicationWriter (the
// page store's WriteLog) publishing batches on "pages.<host>.batches", and a Replica applying the
// batches of the peers this host follows into local replica frames, with gap-fill.
//
// Subjects (event bus):
//   pages.<host>.batches   one message per batch of <host>'s stream (binary, @xensim/memory)
//   pages.<host>.head      <host>'s last published seq (JSON {seq}), after a quiet moment: lets a
//                          replica see that the last batch of a burst went missing
//   pages.<host>.follow    request to <host>'s page-server: follow a writer's stream
//                          (JSON {writer, address, seq}); answered once subscribed
//   pages.<host>.fetch     gap-fill over the bus, when the writer's call address is unknown
//                          (JSON {from, to, replica} → JSON {batches[], snapshot, published[]} base64)
import type { EventBus, Subscription } from "@xensim/bus";
import {
  type Batch,
  decodeBatch,
  type Fence,
  PAGE_SIZE,
  type PageStore,
  PageStoreReplicaTarget,
  Replica,
  ReplicationWriter,
} from "@xensim/memory";
import type { Logger } from "pino";

export interface FetchReply {
  batches: Uint8Array[];
  snapshot?: Uint8Array | undefined;
  published: Uint8Array[];
}

/** How a replica reaches a writer's FetchBatches on the call plane. */
export type Fetcher = (
  writer: string,
  address: string,
  req: { from: number; to: number; replica: string },
) => Promise<FetchReply>;

export interface PageServerCoreOptions {
  hostId: string;
  /** The host's page store, attached with `writer` as its write log (see createWriterStore). */
  store: PageStore;
  writer: ReplicationWriter;
  bus: EventBus;
  log: Logger;
  /** Owner domid of replica frames. */
  replicaOwner: number;
  /** This page-server's call address (gRPC "host:port"), once known; sent to followers. */
  address: () => string | undefined;
  /** FetchBatches over the call plane; without it (or an address) gap-fill goes over the bus. */
  fetch?: Fetcher;
  /** A replica waits this long for an early batch's predecessors before asking the writer. */
  gapGraceMs?: number;
  /** Announce the head this long after the last publish. */
  headAnnounceMs?: number;
  /** A publish waits for the other publish requests of the same event-loop turn (batching). */
  coalesce?: boolean;
}

export interface Stats {
  pagesPublished: number;
  batchesPublished: number;
  bytesPublished: number;
  pagesApplied: number;
  batchesApplied: number;
  bytesApplied: number;
  duplicates: number;
  gapFills: number;
  snapshots: number;
  fetchesServed: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const b64 = (u: Uint8Array): string => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString("base64");
const unb64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "base64"));

/** A page store whose write log is a ReplicationWriter reading back from that store. */
export function createWriterStore(
  attach: (writeLog: ReplicationWriter) => PageStore,
  hostId: string,
  opts: { maxBatchBytes?: number; windowBatches?: number } = {},
): { store: PageStore; writer: ReplicationWriter } {
  const ref: { store?: PageStore } = {};
  const writer = new ReplicationWriter({
    host: hostId,
    read: (f, o, l) => ref.store!.u8.slice(f * PAGE_SIZE + o, f * PAGE_SIZE + o + l),
    ...opts,
  });
  const store = attach(writer);
  ref.store = store;
  return { store, writer };
}

export class PageServerCore {
  readonly hostId: string;
  readonly store: PageStore;
  readonly writer: ReplicationWriter;
  readonly target: PageStoreReplicaTarget;
  readonly replica: Replica;
  readonly stats: Stats = {
    pagesPublished: 0,
    batchesPublished: 0,
    bytesPublished: 0,
    pagesApplied: 0,
    batchesApplied: 0,
    bytesApplied: 0,
    duplicates: 0,
    gapFills: 0,
    snapshots: 0,
    fetchesServed: 0,
  };
  /** Peers this host replicates to (host → frames asked for). */
  readonly peers = new Map<string, Set<number>>();
  private readonly bus: EventBus;
  private readonly log: Logger;
  private readonly subs: Subscription[] = [];
  private readonly following = new Map<string, { sub: Subscription; address: string | undefined }>();
  private readonly gapTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly filling = new Set<string>();
  private readonly gapGraceMs: number;
  private readonly headAnnounceMs: number;
  private readonly coalesce: boolean;
  private readonly address: () => string | undefined;
  private readonly fetcher: Fetcher | undefined;
  private headTimer: ReturnType<typeof setTimeout> | undefined;
  private tick: ReturnType<typeof setInterval> | undefined;
  private pendingPublish: Promise<Fence> | undefined;
  private closed = false;

  constructor(o: PageServerCoreOptions) {
    this.hostId = o.hostId;
    this.store = o.store;
    this.writer = o.writer;
    this.bus = o.bus;
    this.log = o.log;
    this.address = o.address;
    this.fetcher = o.fetch;
    this.gapGraceMs = o.gapGraceMs ?? 20;
    this.headAnnounceMs = o.headAnnounceMs ?? 50;
    this.coalesce = o.coalesce ?? true;
    this.target = new PageStoreReplicaTarget(o.store, o.replicaOwner);
    this.replica = new Replica(this.target, { self: o.hostId });
  }

  async start(): Promise<void> {
    this.subs.push(
      this.bus.subscribe(`pages.${this.hostId}.follow`, {
        callback: (m) => {
          void this.onFollow(m.data).then(
            (r) => m.reply && !this.bus.closed && this.bus.publish(m.reply, enc.encode(JSON.stringify(r))),
          );
        },
      }),
      this.bus.subscribe(`pages.${this.hostId}.fetch`, {
        callback: (m) => {
          try {
            const q = JSON.parse(dec.decode(m.data)) as { from: number; to: number; replica: string };
            const r = this.fetchBatches(q.from, q.to, q.replica);
            const out = {
              batches: r.batches.map(b64),
              snapshot: r.snapshot ? b64(r.snapshot) : "",
              published: r.published.map(b64),
            };
            if (m.reply && !this.bus.closed) this.bus.publish(m.reply, enc.encode(JSON.stringify(out)));
          } catch (err) {
            this.log.warn({ err }, "bad fetch request");
          }
        },
      }),
    );
    const answer = (subject: string, fn: (q: never) => Promise<unknown>) =>
      this.bus.subscribe(subject, {
        callback: (m) => {
          let q: never;
          try {
            q = JSON.parse(dec.decode(m.data)) as never;
          } catch {
            return;
          }
          void fn(q)
            .then(
              (r) => ({ ok: true, ...(r as object) }),
              (err: unknown) => ({ ok: false, error: err instanceof Error ? err.message : String(err) }),
            )
            .then(
              (r) => m.reply && !this.bus.closed && this.bus.publish(m.reply, enc.encode(JSON.stringify(r))),
            );
        },
      });
    this.subs.push(
      answer(`pages.${this.hostId}.export`, async (q: { peer: string; frames: number[] }) => ({
        fence: await this.replicateFrames(q.peer, q.frames),
      })),
      answer(
        `pages.${this.hostId}.alias`,
        async (q: { writer: string; address: string; seq: number; aliases: Array<[number, number]> }) => {
          for (const [key, frame] of q.aliases) this.target.alias(q.writer, key, frame);
          await this.follow(q.writer, q.address || undefined, q.seq);
          return {};
        },
      ),
      answer(`pages.${this.hostId}.unalias`, async (q: { writer: string; fence: Fence; keys: number[] }) => {
        // Writes published before the release still land on the original frames.
        await this.awaitFence(q.fence);
        for (const k of q.keys) this.target.unalias(q.writer, k);
        return {};
      }),
    );
    await this.bus.flush();
    // A safety net for lost tails: a gap that is still there one tick later is fetched.
    const seen = new Map<string, number>();
    this.tick = setInterval(() => {
      for (const h of this.following.keys()) {
        const gap = this.replica.missing(h);
        if (gap && seen.get(h) === gap.from) this.scheduleGapFill(h, 0);
        if (gap) seen.set(h, gap.from);
        else seen.delete(h);
      }
    }, 250);
    this.tick.unref?.();
  }

  // ---- writer side -------------------------------------------------------------------------

  /** Publish what was written; with `coalesce`, all publishes of one event-loop turn share batches. */
  publish(): Promise<Fence> {
    if (!this.coalesce) return Promise.resolve(this.publishNow());
    this.pendingPublish ??= new Promise<Fence>((resolve, reject) => {
      setImmediate(() => {
        this.pendingPublish = undefined;
        try {
          resolve(this.publishNow());
        } catch (err) {
          reject(err);
        }
      });
    });
    return this.pendingPublish;
  }

  /** Publish pending ranges now, one bus message per batch. */
  publishNow(): Fence {
    const r = this.writer.publish();
    this.sendBatches(r.batches, r.frames);
    return r.fence;
  }

  private sendBatches(batches: Uint8Array[], frames: number): void {
    if (batches.length === 0) return;
    for (const b of batches) {
      this.bus.publish(`pages.${this.hostId}.batches`, b);
      this.stats.batchesPublished++;
      this.stats.bytesPublished += b.length;
    }
    this.stats.pagesPublished += frames;
    if (this.headTimer) clearTimeout(this.headTimer);
    this.headTimer = setTimeout(() => {
      this.headTimer = undefined;
      if (!this.bus.closed) {
        this.bus.publish(`pages.${this.hostId}.head`, enc.encode(JSON.stringify({ seq: this.writer.seq })));
      }
    }, this.headAnnounceMs);
  }

  /** Mark ranges of this host's frames written (by any thread) and publish them. */
  markAndPublish(
    ranges: Array<{ frame: number; offset: number; length: number }>,
    barrier = false,
  ): Promise<Fence> {
    for (const r of ranges) this.writer.written(r.frame, r.offset, r.length);
    // A barrier is published at once: a coalesced publish pending for this turn would otherwise
    // take later writes into the same batches.
    return barrier ? Promise.resolve(this.publishNow()) : this.publish();
  }

  /**
   * Start replicating `frames` to `peer`: the peer subscribes to this host's stream (and is told
   * where to fetch gaps), then the frames are tracked, so the next batch carries their full copy.
   */
  async replicateFrames(peer: string, frames: number[], timeoutMs = 5000): Promise<Fence> {
    if (peer === this.hostId) throw new Error("a host does not replicate to itself");
    for (const f of frames) {
      if (!this.store.isValidFrame(f)) throw new Error(`frame ${f} is not a frame of this host`);
    }
    const m = await this.bus.request(
      `pages.${peer}.follow`,
      enc.encode(
        JSON.stringify({ writer: this.hostId, address: this.address() ?? "", seq: this.writer.seq }),
      ),
      { timeoutMs },
    );
    const r = JSON.parse(dec.decode(m.data)) as { ok: boolean; error?: string };
    if (!r.ok) throw new Error(`peer ${peer} refused to follow: ${r.error}`);
    let set = this.peers.get(peer);
    if (!set) {
      set = new Set();
      this.peers.set(peer, set);
    }
    for (const f of frames) set.add(f);
    this.writer.track(frames);
    return this.publishNow();
  }

  /** Gap-fill for a replica: batches from the window, or a snapshot (published batches first). */
  fetchBatches(from: number, to: number, replica: string): FetchReply {
    this.stats.fetchesServed++;
    const fill = this.writer.fill(from, to);
    if (fill.kind === "batches") return { batches: fill.batches, published: [] };
    this.log.info({ replica, from, to, seq: this.writer.seq }, "gap beyond the window: snapshot");
    this.sendBatches(fill.published.batches, fill.published.frames);
    return { batches: [], snapshot: fill.snapshot, published: fill.published.batches };
  }

  // ---- replica side ------------------------------------------------------------------------

  private async onFollow(data: Uint8Array): Promise<{ ok: boolean; error?: string }> {
    try {
      const q = JSON.parse(dec.decode(data)) as { writer: string; address: string; seq: number };
      await this.follow(q.writer, q.address || undefined, q.seq);
      return { ok: true };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }

  /**
   * Follow `writer`'s stream. A stream this replica has never applied anything of starts after
   * `seq` (what came before carries none of the frames it will be sent in full).
   */
  async follow(writer: string, address: string | undefined, seq: number): Promise<void> {
    if (writer === this.hostId) throw new Error("a host does not follow itself");
    const cur = this.following.get(writer);
    if (cur) {
      if (address) cur.address = address;
      return;
    }
    const sub = this.bus.subscribe(`pages.${writer}.*`, {
      callback: (m) => {
        if (m.subject.endsWith(".batches")) this.onBatch(writer, m.data);
        else if (m.subject.endsWith(".head")) {
          try {
            const h = JSON.parse(dec.decode(m.data)) as { seq: number };
            this.replica.noteHead(writer, h.seq);
            if (this.replica.missing(writer)) this.scheduleGapFill(writer, this.gapGraceMs);
          } catch {}
        }
      },
    });
    this.following.set(writer, { sub, address });
    await this.bus.flush();
    if (this.replica.appliedUpTo(writer) === 0) {
      this.replica.startAfter(writer, seq);
    }
    this.log.info({ writer, address, seq }, "following writer");
  }

  private onBatch(writer: string, data: Uint8Array): void {
    let b: Batch;
    try {
      b = decodeBatch(data);
    } catch (err) {
      this.log.warn({ err, writer }, "undecodable batch");
      return;
    }
    if (b.host !== writer) return;
    this.receive(b, data.length);
  }

  private receive(b: Batch, size: number): void {
    const before = this.replica.appliedBatches;
    const r = this.replica.receive(b);
    if (r === "duplicate") this.stats.duplicates++;
    if (r === "applied" || this.replica.appliedBatches > before) {
      this.stats.batchesApplied += this.replica.appliedBatches - before;
    }
    if (r !== "duplicate" && r !== "ignored") {
      this.stats.bytesApplied += size;
      this.stats.pagesApplied += new Set(b.ranges.map((x) => x.key)).size;
    }
    if (this.replica.missing(b.host)) this.scheduleGapFill(b.host, this.gapGraceMs);
  }

  private scheduleGapFill(writer: string, delayMs: number): void {
    if (this.closed || this.gapTimers.has(writer) || this.filling.has(writer)) return;
    const t = setTimeout(() => {
      this.gapTimers.delete(writer);
      void this.gapFill(writer);
    }, delayMs);
    this.gapTimers.set(writer, t);
  }

  /** Ask the writer for what is missing until nothing is (or it fails; the tick retries). */
  private async gapFill(writer: string): Promise<void> {
    if (this.filling.has(writer)) return;
    this.filling.add(writer);
    try {
      for (let rounds = 0; rounds < 16 && !this.closed; rounds++) {
        const gap = this.replica.missing(writer);
        if (!gap) return;
        this.stats.gapFills++;
        const q = { from: gap.from, to: gap.to, replica: this.hostId };
        const address = this.following.get(writer)?.address;
        const r =
          address && this.fetcher
            ? await this.fetcher(writer, address, q)
            : await this.fetchOverBus(writer, q);
        for (const b of r.batches) this.receive(decodeBatch(b), b.length);
        if (r.snapshot && r.snapshot.length > 0) {
          this.stats.snapshots++;
          this.replica.applySnapshot(r.snapshot);
          this.stats.bytesApplied += r.snapshot.length;
          for (const b of r.published) this.receive(decodeBatch(b), b.length);
        }
      }
    } catch (err) {
      this.log.warn({ err: err instanceof Error ? err.message : String(err), writer }, "gap-fill failed");
    } finally {
      this.filling.delete(writer);
    }
  }

  private async fetchOverBus(
    writer: string,
    q: { from: number; to: number; replica: string },
  ): Promise<FetchReply> {
    const m = await this.bus.request(`pages.${writer}.fetch`, enc.encode(JSON.stringify(q)), {
      timeoutMs: 5000,
    });
    const r = JSON.parse(dec.decode(m.data)) as { batches: string[]; snapshot: string; published: string[] };
    return {
      batches: r.batches.map(unb64),
      snapshot: r.snapshot ? unb64(r.snapshot) : undefined,
      published: r.published.map(unb64),
    };
  }

  /**
   * Resolves true once the replica has applied `fence` (at once for this host's own fences), false
   * after `timeoutMs`. A fence tells the replica the writer's head, so a lost tail is fetched.
   */
  awaitFence(fence: Fence, timeoutMs = 5000): Promise<boolean> {
    if (this.replica.isApplied(fence)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t: { timer?: ReturnType<typeof setTimeout> } = {};
      const cancel = this.replica.whenApplied(fence, () => {
        clearTimeout(t.timer);
        resolve(true);
      });
      t.timer = setTimeout(() => {
        cancel();
        resolve(this.replica.isApplied(fence));
      }, timeoutMs);
      // The batches may simply be on their way: give them longer than an early batch gets.
      if (this.replica.missing(fence.host))
        this.scheduleGapFill(fence.host, Math.max(50, this.gapGraceMs * 4));
    });
  }

  private async ask<T>(subject: string, q: object, timeoutMs = 10_000): Promise<T> {
    const m = await this.bus.request(subject, enc.encode(JSON.stringify(q)), { timeoutMs });
    const r = JSON.parse(dec.decode(m.data)) as { ok: boolean; error?: string } & T;
    if (!r.ok) throw new Error(`${subject}: ${r.error ?? "failed"}`);
    return r;
  }

  /**
   * Replicas here of `from`'s frames (a grant mapped in this host): `from` replicates them to this
   * host; resolves once the initial copy is applied, with the local frames. Writable: this host's
   * local frames are replicated back (no initial copy) and `from` applies them onto the originals
   * (its alias table).
   */
  async importFrames(
    from: string,
    frames: number[],
    writable: boolean,
  ): Promise<{ local: number[]; fence: Fence }> {
    if (from === this.hostId) throw new Error("a host does not import its own frames");
    const r = await this.ask<{ fence: Fence }>(`pages.${from}.export`, { peer: this.hostId, frames });
    if (!(await this.awaitFence(r.fence, 10_000))) throw new Error(`initial copy from ${from} not applied`);
    const local = frames.map((f) => this.target.localFrame(from, f, true)!);
    if (writable) {
      await this.ask(`pages.${from}.alias`, {
        writer: this.hostId,
        address: this.address() ?? "",
        seq: this.writer.seq,
        aliases: local.map((l, i) => [l, frames[i]!]),
      });
      this.writer.track(local, { initialCopy: false });
    }
    return { local, fence: r.fence };
  }

  /** Undo importFrames: publish pending writes, stop replicating the local frames back, release. */
  async releaseFrames(from: string, frames: number[]): Promise<Fence> {
    const local = frames.map((f) => this.target.localFrame(from, f)).filter((f) => f !== undefined);
    const tracked = local.filter((f) => this.writer.isTracked(f));
    const fence = this.publishNow();
    if (tracked.length > 0) {
      this.writer.untrack(tracked);
      await this.ask(`pages.${from}.unalias`, { writer: this.hostId, fence, keys: tracked });
    }
    return fence;
  }

  /** Bytes of this host's frames (host = "" or self) or of replicas of `host`'s frames. */
  readFrames(host: string, frames: number[]): { data: Uint8Array[]; local: number[] } {
    const data: Uint8Array[] = [];
    const local: number[] = [];
    for (const f of frames) {
      const lf =
        !host || host === this.hostId
          ? this.store.isValidFrame(f)
            ? f
            : undefined
          : this.target.localFrame(host, f);
      local.push(lf ?? 0);
      data.push(
        lf === undefined ? new Uint8Array(0) : this.store.u8.slice(lf * PAGE_SIZE, (lf + 1) * PAGE_SIZE),
      );
    }
    return { data, local };
  }

  /** Replication lag in batches per followed writer (known head − applied). */
  lag(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const h of this.following.keys()) out[h] = this.replica.headOf(h) - this.replica.appliedUpTo(h);
    return out;
  }

  close(): void {
    this.closed = true;
    if (this.tick) clearInterval(this.tick);
    if (this.headTimer) clearTimeout(this.headTimer);
    for (const t of this.gapTimers.values()) clearTimeout(t);
    this.gapTimers.clear();
    for (const s of this.subs) s.unsubscribe();
    for (const f of this.following.values()) f.sub.unsubscribe();
    this.following.clear();
  }
}
