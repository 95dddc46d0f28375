import { BroadcastChannel, threadId } from "node:worker_threads";
import {
  BusBase,
  type BusMsg,
  type BusOptions,
  type EventBus,
  type OutMsg,
  type SubscriptionImpl,
  uniqueToken,
} from "./events.js";
import { subjectMatches } from "./subject.js";

/** Messages between the in-process buses of one name, over a BroadcastChannel. */
type Wire =
  | { t: "hello"; from: string }
  | { t: "state"; from: string; to: string; subs: [number, string, string | null][] }
  | { t: "sub"; from: string; id: number; subject: string; queue: string | null }
  | { t: "unsub"; from: string; id: number }
  | {
      t: "msg";
      from: string;
      subject: string;
      data: Uint8Array;
      headers?: Record<string, string>;
      reply?: string;
      /** Queue group key → chosen member "busId:subId". */
      q?: Record<string, string>;
    }
  | { t: "ping"; from: string; token: number }
  | { t: "pong"; from: string; to: string; token: number }
  | { t: "bye"; from: string };

interface RemoteSub {
  subject: string;
  queue: string | null;
}

const PING_TIMEOUT_MS = 1000;

function isPrivate(subject: string): boolean {
  return subject.startsWith("_INBOX.");
}
function groupKey(subject: string, queue: string): string {
  return `${subject}\u0000${queue}`;
}

/**
 * The in-process adapter. Buses created with the same name in any worker thread of one process form
 * one bus: a BroadcastChannel carries messages, and every bus keeps a table of the others'
 * subscriptions, which the publisher uses to pick one member per queue group and to answer
 * NO_RESPONDERS at once. A subscription made in another thread is known to a publisher once the
 * subscriber's flush() has resolved (as a NATS subscription is known to the server after flush()).
 */
class InProcessBus extends BusBase {
  readonly id: string;
  private readonly chan: BroadcastChannel;
  private readonly peers = new Map<string, Map<number, RemoteSub>>();
  private readonly queueGroupTurn = new Map<string, number>();
  private local: Array<{ m: OutMsg; q: Record<string, string> | undefined }> = [];
  private localScheduled = false;
  private nextPing = 1;
  private readonly pings = new Map<number, { waiting: Set<string>; done: () => void }>();

  constructor(opts: BusOptions) {
    super(opts, "default");
    this.id = uniqueToken(threadId);
    this.chan = new BroadcastChannel(`xensim.bus.${this.name}`);
    this.chan.onmessage = (ev) => this.onWire((ev as unknown as { data: Wire }).data);
    this.post({ t: "hello", from: this.id });
  }

  private post(w: Wire): void {
    this.chan.postMessage(w);
  }

  private onWire(w: Wire): void {
    if (this._closed || w.from === this.id) return;
    switch (w.t) {
      case "hello":
        this.peers.set(w.from, this.peers.get(w.from) ?? new Map());
        this.post({ t: "state", from: this.id, to: w.from, subs: this.announced() });
        return;
      case "state": {
        if (w.to !== this.id) return;
        const table = new Map<number, RemoteSub>();
        for (const [id, subject, queue] of w.subs) table.set(id, { subject, queue });
        this.peers.set(w.from, table);
        return;
      }
      case "sub":
        this.peerTable(w.from).set(w.id, { subject: w.subject, queue: w.queue });
        return;
      case "unsub":
        this.peers.get(w.from)?.delete(w.id);
        return;
      case "bye":
        this.peers.delete(w.from);
        return;
      case "ping":
        this.rediscover(w.from);
        this.post({ t: "pong", from: this.id, to: w.from, token: w.token });
        return;
      case "pong": {
        if (w.to !== this.id) return;
        this.rediscover(w.from);
        const p = this.pings.get(w.token);
        if (!p) return;
        p.waiting.delete(w.from);
        if (p.waiting.size === 0) p.done();
        return;
      }
      case "msg":
        this.deliverLocal(w, w.q);
        return;
    }
  }

  /**
   * A peer heard from that is not in the table was taken for gone (it missed a flush's ping: a
   * frozen or starved worker): ask for its subscriptions again instead of knowing it with none.
   */
  private rediscover(id: string): void {
    if (this.peers.has(id)) return;
    this.peers.set(id, new Map());
    this.post({ t: "hello", from: this.id });
  }

  private peerTable(id: string): Map<number, RemoteSub> {
    let t = this.peers.get(id);
    if (!t) {
      t = new Map();
      this.peers.set(id, t);
    }
    return t;
  }

  private announced(): [number, string, string | null][] {
    const out: [number, string, string | null][] = [];
    for (const s of this.subs.values())
      if (!isPrivate(s.subject)) out.push([s.id, s.subject, s.queue ?? null]);
    return out;
  }

  protected addSub(s: SubscriptionImpl): void {
    if (!isPrivate(s.subject))
      this.post({ t: "sub", from: this.id, id: s.id, subject: s.subject, queue: s.queue ?? null });
  }
  protected removeSub(s: SubscriptionImpl): void {
    if (!isPrivate(s.subject)) this.post({ t: "unsub", from: this.id, id: s.id });
  }
  protected inboxToken(): string {
    return this.id;
  }

  protected override respondersKnown(subject: string): boolean {
    for (const s of this.subs.values()) if (s.matches(subject)) return true;
    for (const t of this.peers.values())
      for (const s of t.values()) if (subjectMatches(s.subject, subject)) return true;
    return false;
  }

  /** Picks one member per matching queue group (round robin over the members known here). */
  private chooseQueues(subject: string): Record<string, string> | undefined {
    let groups: Map<string, string[]> | undefined;
    const add = (key: string, member: string): void => {
      groups ??= new Map();
      const g = groups.get(key);
      if (g) g.push(member);
      else groups.set(key, [member]);
    };
    for (const s of this.subs.values()) {
      if (s.queue !== undefined && s.matches(subject))
        add(groupKey(s.subject, s.queue), `${this.id}:${s.id}`);
    }
    for (const [peer, t] of this.peers) {
      for (const [id, s] of t) {
        if (s.queue !== null && subjectMatches(s.subject, subject))
          add(groupKey(s.subject, s.queue), `${peer}:${id}`);
      }
    }
    if (!groups) return undefined;
    const out: Record<string, string> = {};
    for (const [key, members] of groups as Map<string, string[]>) {
      members.sort();
      const n = this.queueGroupTurn.get(key) ?? 0;
      this.queueGroupTurn.set(key, n + 1);
      out[key] = members[n % members.length] as string;
    }
    return out;
  }

  protected transmit(m: OutMsg): void {
    if (this._closed) return;
    const q = isPrivate(m.subject) ? undefined : this.chooseQueues(m.subject);
    const w: Wire = { t: "msg", from: this.id, subject: m.subject, data: m.data };
    if (m.headers) w.headers = m.headers;
    if (m.reply) w.reply = m.reply;
    if (q) w.q = q;
    this.post(w);
    // Local subscribers get it asynchronously, in publish order, like remote ones.
    this.local.push({ m, q });
    if (!this.localScheduled) {
      this.localScheduled = true;
      queueMicrotask(() => this.drainLocal());
    }
  }

  private drainLocal(): void {
    this.localScheduled = false;
    const batch = this.local;
    this.local = [];
    for (const { m, q } of batch) this.deliverLocal(m, q);
  }

  private deliverLocal(m: BusMsg, q: Record<string, string> | undefined): void {
    for (const s of [...this.subs.values()]) {
      if (!s.matches(m.subject)) continue;
      if (s.queue !== undefined && q?.[groupKey(s.subject, s.queue)] !== `${this.id}:${s.id}`) continue;
      const out: BusMsg = { subject: m.subject, data: m.data };
      if (m.headers) out.headers = { ...m.headers };
      if (m.reply) out.reply = m.reply;
      s.deliver(out);
    }
  }

  /** Every peer known now has seen everything this bus posted before (BroadcastChannel is FIFO per sender). */
  protected async transportFlush(): Promise<void> {
    const waiting = new Set(this.peers.keys());
    if (waiting.size === 0) {
      await new Promise((r) => setImmediate(r));
      return;
    }
    const token = this.nextPing++;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        // Peers that did not answer are gone (a worker that was terminated without close()).
        for (const id of waiting) this.peers.delete(id);
        this.pings.delete(token);
        resolve();
      }, PING_TIMEOUT_MS);
      this.pings.set(token, {
        waiting,
        done: () => {
          clearTimeout(timer);
          this.pings.delete(token);
          resolve();
        },
      });
      this.post({ t: "ping", from: this.id, token });
    });
  }

  protected async transportClose(): Promise<void> {
    this.post({ t: "bye", from: this.id });
    for (const p of this.pings.values()) p.done();
    this.chan.close();
  }
}

/** An event bus inside one process, across its worker threads (buses of the same `name` meet). */
export function createInProcessBus(opts: BusOptions = {}): EventBus {
  return new InProcessBus(opts);
}
