import { BusError, BusErrorCode } from "./errors.js";
import { EventFaultStage, type FaultController, Faults } from "./faults.js";
import { subjectMatches, validateSubject } from "./subject.js";
import { CHAOS_SUBJECTS, FAULT_SUBJECTS } from "@xensim/subjects";

/** A message on the event bus. */
export interface BusMsg {
  subject: string;
  data: Uint8Array;
  headers?: Record<string, string>;
  reply?: string;
}

export interface PublishOptions {
  headers?: Record<string, string>;
  reply?: string;
  /** Fault-control traffic (a control reply): sent past the fault stage, never dropped by the faults it sets. */
  control?: boolean;
}

/** Subjects of the fault-control planes: their traffic never passes the fault stage. */
export function isControlSubject(subject: string): boolean {
  return subject.startsWith(`${FAULT_SUBJECTS.prefix}.`) || subject.startsWith(`${CHAOS_SUBJECTS.prefix}.`);
}

export interface SubscribeOptions {
  /** Queue group: each message goes to one member of the group. */
  queue?: string;
  /** Deliver to this function instead of the async iterator. */
  callback?: (m: BusMsg) => void;
}

export interface RequestOptions {
  /** Default 5000 ms. */
  timeoutMs?: number;
  headers?: Record<string, string>;
}

export interface Subscription extends AsyncIterable<BusMsg> {
  readonly subject: string;
  readonly queue?: string | undefined;
  /** Messages delivered so far. */
  readonly received: number;
  readonly closed: boolean;
  unsubscribe(): void;
}

/**
 * Fire-and-forget events with fan-out, queue groups and request/reply. Every adapter has the same
 * semantics: NATS subject wildcards, one member per queue group, per-publisher FIFO, request timeouts
 * (BusError TIMEOUT) and no-responders (BusError NO_RESPONDERS), nothing for closed subscriptions.
 */
export interface EventBus {
  readonly name: string;
  publish(subject: string, data: Uint8Array, opts?: PublishOptions): void;
  subscribe(subject: string, opts?: SubscribeOptions): Subscription;
  request(subject: string, data: Uint8Array, opts?: RequestOptions): Promise<BusMsg>;
  /** Resolves when everything published so far (including delayed or held by faults) has left, and
   * subscriptions made so far are known to the other side. */
  flush(): Promise<void>;
  close(): Promise<void>;
  readonly closed: boolean;
  readonly faults: FaultController;
}

export interface BusOptions {
  name?: string;
  /** Seed of the fault PRNG. */
  seed?: number;
  /** Where errors thrown by subscription callbacks go (default: process warning). */
  onError?: (err: unknown, m: BusMsg) => void;
}

/** A subscription: queue of messages for the iterator, or a callback. */
export class SubscriptionImpl implements Subscription {
  private buf: BusMsg[] = [];
  private waiter: ((r: IteratorResult<BusMsg>) => void) | undefined;
  private _closed = false;
  private iterating = false;
  received = 0;
  constructor(
    readonly id: number,
    readonly subject: string,
    readonly queue: string | undefined,
    private readonly callback: ((m: BusMsg) => void) | undefined,
    private readonly onClose: (s: SubscriptionImpl) => void,
    private readonly onError: (err: unknown, m: BusMsg) => void,
  ) {}
  get closed(): boolean {
    return this._closed;
  }
  matches(subject: string): boolean {
    return subjectMatches(this.subject, subject);
  }
  deliver(m: BusMsg): void {
    if (this._closed) return;
    this.received++;
    if (this.callback) {
      try {
        this.callback(m);
      } catch (err) {
        this.onError(err, m);
      }
      return;
    }
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ value: m, done: false });
    } else {
      this.buf.push(m);
    }
  }
  unsubscribe(): void {
    if (this._closed) return;
    this._closed = true;
    this.buf = [];
    this.onClose(this);
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ value: undefined, done: true });
    }
  }
  [Symbol.asyncIterator](): AsyncIterator<BusMsg> {
    if (this.callback) throw new Error(`subscription '${this.subject}' has a callback; it is not iterable`);
    if (this.iterating) throw new Error(`subscription '${this.subject}' is already being iterated`);
    this.iterating = true;
    return {
      next: () => {
        const m = this.buf.shift();
        if (m) return Promise.resolve({ value: m, done: false });
        if (this._closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.waiter = resolve;
        });
      },
      return: () => {
        this.unsubscribe();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

/** What leaves a bus after the fault stage. */
export interface OutMsg extends BusMsg {
  subject: string;
}

let busCounter = 0;
/** A process-unique token (thread id + counter + clock); no Math.random. */
export function uniqueToken(threadId: number): string {
  return `${threadId.toString(36)}${(++busCounter).toString(36)}${Date.now().toString(36)}`;
}

/** Shared logic of the adapters: validation, the fault stage, subscriptions and request/reply. */
export abstract class BusBase implements EventBus {
  readonly name: string;
  protected readonly faultsImpl: Faults;
  protected readonly stage: EventFaultStage<OutMsg>;
  protected readonly subs = new Map<number, SubscriptionImpl>();
  private nextSid = 1;
  protected _closed = false;
  protected readonly onError: (err: unknown, m: BusMsg) => void;
  private inboxPrefix: string | undefined;
  private inboxSub: SubscriptionImpl | undefined;
  private readonly pendingRequests = new Map<
    string,
    { resolve: (m: BusMsg) => void; reject: (e: Error) => void }
  >();
  private nextReq = 1;

  constructor(opts: BusOptions, defaultName: string) {
    this.name = opts.name ?? defaultName;
    this.faultsImpl = new Faults(opts.seed);
    this.stage = new EventFaultStage<OutMsg>(this.faultsImpl, (m) => this.transmit(m));
    this.onError =
      opts.onError ??
      ((err, m) => {
        process.emitWarning(
          `bus ${this.name}: subscription callback for '${m.subject}' threw: ${String(err)}`,
        );
      });
  }

  get faults(): FaultController {
    return this.faultsImpl;
  }
  get closed(): boolean {
    return this._closed;
  }

  /** Sends a message that passed the fault stage. */
  protected abstract transmit(m: OutMsg): void;
  protected abstract addSub(s: SubscriptionImpl): void;
  protected abstract removeSub(s: SubscriptionImpl): void;
  protected abstract transportFlush(): Promise<void>;
  protected abstract transportClose(): Promise<void>;
  /** A unique prefix for this bus's reply subjects. */
  protected abstract inboxToken(): string;
  /** Where this bus's inboxes live ("_INBOX"; a NATS user's own scope under permissions). */
  protected inboxRoot(): string {
    return "_INBOX";
  }
  /** false when it is known now that nobody listens on subject (in-process); undefined if unknown. */
  protected respondersKnown(_subject: string): boolean | undefined {
    return undefined;
  }

  protected assertOpen(): void {
    if (this._closed) throw new BusError(BusErrorCode.Closed, `bus ${this.name} is closed`);
  }

  publish(subject: string, data: Uint8Array, opts?: PublishOptions): void {
    this.assertOpen();
    validateSubject(subject, false);
    if (!(data instanceof Uint8Array)) throw new TypeError("publish: data must be a Uint8Array");
    const m: OutMsg = { subject, data: data.slice() };
    if (opts?.headers && Object.keys(opts.headers).length > 0) m.headers = { ...opts.headers };
    if (opts?.reply) {
      validateSubject(opts.reply, false);
      m.reply = opts.reply;
    }
    if (opts?.control === true || isControlSubject(subject)) this.transmit(m);
    else this.stage.send(m);
  }

  subscribe(subject: string, opts?: SubscribeOptions): Subscription {
    this.assertOpen();
    validateSubject(subject, true);
    if (opts?.queue !== undefined && (opts.queue === "" || /\s/.test(opts.queue))) {
      throw new BusError(BusErrorCode.BadSubject, `invalid queue group '${opts.queue}'`);
    }
    const s = new SubscriptionImpl(
      this.nextSid++,
      subject,
      opts?.queue,
      opts?.callback,
      (x) => {
        this.subs.delete(x.id);
        if (!this._closed) this.removeSub(x);
      },
      this.onError,
    );
    this.subs.set(s.id, s);
    this.addSub(s);
    return s;
  }

  /** Routes an incoming message to the local subscription with this id. */
  protected deliverTo(sid: number, m: BusMsg): void {
    this.subs.get(sid)?.deliver(m);
  }

  async request(subject: string, data: Uint8Array, opts?: RequestOptions): Promise<BusMsg> {
    this.assertOpen();
    validateSubject(subject, false);
    const timeoutMs = opts?.timeoutMs ?? 5000;
    if (this.respondersKnown(subject) === false) {
      await Promise.resolve();
      throw new BusError(BusErrorCode.NoResponders, `no responders on '${subject}'`);
    }
    if (!this.inboxSub) {
      this.inboxPrefix = `${this.inboxRoot()}.${this.inboxToken()}`;
      this.inboxSub = this.subscribe(`${this.inboxPrefix}.*`, {
        callback: (m) => {
          const token = m.subject.slice((this.inboxPrefix as string).length + 1);
          const p = this.pendingRequests.get(token);
          if (!p) return;
          this.pendingRequests.delete(token);
          if (m.headers?.[STATUS_HEADER] === "503") {
            p.reject(new BusError(BusErrorCode.NoResponders, `no responders on '${subject}'`));
          } else {
            p.resolve(m);
          }
        },
      }) as SubscriptionImpl;
    }
    const token = (this.nextReq++).toString(36);
    const reply = `${this.inboxPrefix}.${token}`;
    return new Promise<BusMsg>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingRequests.delete(token);
        reject(new BusError(BusErrorCode.Timeout, `request on '${subject}' timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pendingRequests.set(token, {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      try {
        this.publish(subject, data, { reply, ...(opts?.headers ? { headers: opts.headers } : {}) });
      } catch (err) {
        this.pendingRequests.delete(token);
        clearTimeout(timer);
        reject(err);
      }
    });
  }

  async flush(): Promise<void> {
    this.assertOpen();
    await this.stage.flush();
    await this.transportFlush();
  }

  async close(): Promise<void> {
    if (this._closed) return;
    try {
      await this.stage.flush();
      await this.transportFlush();
    } catch {
      // closing anyway
    }
    this._closed = true;
    for (const p of this.pendingRequests.values())
      p.reject(new BusError(BusErrorCode.Closed, `bus ${this.name} closed`));
    this.pendingRequests.clear();
    for (const s of [...this.subs.values()]) s.unsubscribe();
    await this.transportClose();
  }
}

/** Header carrying a transport status (NATS "503" no responders). */
export const STATUS_HEADER = ":status";
