import { BusError, BusErrorCode, CallError } from "./errors.js";
import { Mulberry32 } from "@xensim/random";
import { defaultSeed } from "./prng.js";
import { globMatches, subjectMatches } from "./subject.js";

/** A delay in milliseconds: fixed, or uniform in [min, max]. */
export type DelaySpec = number | readonly [number, number];

/** Fault rule for events, applied by the publishing bus to messages whose subject matches `subject`. */
export interface EventFaultRule {
  /** Subject pattern (NATS wildcards `*` and `>`). */
  subject: string;
  /** Probability in [0, 1] that a message is dropped. */
  drop?: number;
  /** Probability in [0, 1] that a message is delivered twice. */
  duplicate?: number;
  /** Delay before the message leaves the publisher. */
  delayMs?: DelaySpec;
  /** Hold messages until `window` have gathered (or `maxHoldMs` passed), then release them shuffled. */
  reorder?: { window: number; maxHoldMs?: number };
}

/** Fault rule for calls, applied by a client before sending or by a server before its handler. */
export interface CallFaultRule {
  /** Glob (`*` = any run of characters) over the method name ("Echo") or full path ("/pkg.Svc/Echo"). */
  method: string;
  /** Added latency. */
  latencyMs?: DelaySpec;
  /** Fail the call with this gRPC status with the given probability (default 1). */
  error?: { code: number; probability?: number; details?: string };
}

export interface FaultRules {
  /** Reseeds the PRNG when given; otherwise the controller's seed is used again. */
  seed?: number;
  events?: EventFaultRule[];
  calls?: CallFaultRule[];
}

export type FaultKind = "drop" | "duplicate" | "delay" | "reorder" | "latency" | "error";

/** One injected fault. Contains no wall-clock time, so the same seed and traffic give equal records. */
export interface FaultRecord {
  /** 1-based sequence number within this controller. */
  seq: number;
  plane: "event" | "call";
  kind: FaultKind;
  /** Subject (events) or method (calls). */
  target: string;
  /** Index of the rule that fired. */
  rule: number;
  delayMs?: number;
  code?: number;
  /** Reorder: the permutation applied to the held messages (position i released message order[i]). */
  order?: number[];
  /** Reorder: subjects of the released messages, in release order. */
  targets?: string[];
}

/** The fault hooks built into every adapter. */
export interface FaultController {
  /** Replaces the rules (and, with `seed`, reseeds); the PRNG restarts from the seed either way. */
  set(rules: FaultRules): void;
  /** Removes every rule (messages already held or delayed are still delivered). */
  clear(): void;
  readonly rules: Readonly<FaultRules>;
  readonly records: readonly FaultRecord[];
  clearRecords(): void;
  readonly seed: number;
  /** Called for every record as it is made (e.g. to log it). */
  onRecord?: ((r: FaultRecord) => void) | undefined;
}

/** What happens to one published message. */
export interface EventDecision {
  rule: number;
  drop: boolean;
  copies: number;
  delays: number[];
  reorder?: { window: number; maxHoldMs: number } | undefined;
}

export interface CallDecision {
  latencyMs: number;
  error?: CallError | undefined;
}

function checkProb(v: unknown, what: string): void {
  if (v !== undefined && (typeof v !== "number" || !(v >= 0 && v <= 1))) {
    throw new BusError(BusErrorCode.BadFaultRules, `${what} must be a probability in [0, 1]`);
  }
}
function checkDelay(v: unknown, what: string): void {
  if (v === undefined) return;
  if (typeof v === "number" && v >= 0) return;
  if (
    Array.isArray(v) &&
    v.length === 2 &&
    typeof v[0] === "number" &&
    typeof v[1] === "number" &&
    v[0] >= 0 &&
    v[1] >= v[0]
  )
    return;
  throw new BusError(BusErrorCode.BadFaultRules, `${what} must be a number >= 0 or [min, max]`);
}

/** Validates rules that came from outside (e.g. JSON over the control subject). */
export function validateFaultRules(x: unknown): FaultRules {
  if (typeof x !== "object" || x === null)
    throw new BusError(BusErrorCode.BadFaultRules, "rules must be an object");
  const r = x as Record<string, unknown>;
  if (r.seed !== undefined && (typeof r.seed !== "number" || !Number.isInteger(r.seed))) {
    throw new BusError(BusErrorCode.BadFaultRules, "seed must be an integer");
  }
  const events = r.events ?? [];
  const calls = r.calls ?? [];
  if (!Array.isArray(events) || !Array.isArray(calls)) {
    throw new BusError(BusErrorCode.BadFaultRules, "events and calls must be arrays");
  }
  events.forEach((e: Record<string, unknown>, i) => {
    const w = `events[${i}]`;
    if (typeof e?.subject !== "string" || e.subject === "") {
      throw new BusError(BusErrorCode.BadFaultRules, `${w}.subject must be a subject pattern`);
    }
    checkProb(e.drop, `${w}.drop`);
    checkProb(e.duplicate, `${w}.duplicate`);
    checkDelay(e.delayMs, `${w}.delayMs`);
    if (e.reorder !== undefined) {
      const ro = e.reorder as Record<string, unknown>;
      if (typeof ro?.window !== "number" || !Number.isInteger(ro.window) || ro.window < 2) {
        throw new BusError(BusErrorCode.BadFaultRules, `${w}.reorder.window must be an integer >= 2`);
      }
      checkDelay(ro.maxHoldMs, `${w}.reorder.maxHoldMs`);
    }
  });
  calls.forEach((c: Record<string, unknown>, i) => {
    const w = `calls[${i}]`;
    if (typeof c?.method !== "string" || c.method === "") {
      throw new BusError(BusErrorCode.BadFaultRules, `${w}.method must be a glob`);
    }
    checkDelay(c.latencyMs, `${w}.latencyMs`);
    if (c.error !== undefined) {
      const er = c.error as Record<string, unknown>;
      if (typeof er?.code !== "number" || !Number.isInteger(er.code) || er.code < 1 || er.code > 16) {
        throw new BusError(BusErrorCode.BadFaultRules, `${w}.error.code must be a gRPC status 1..16`);
      }
      checkProb(er.probability, `${w}.error.probability`);
    }
  });
  return x as FaultRules;
}

/** The controller implementation shared by all adapters. */
export class Faults implements FaultController {
  private prng: Mulberry32;
  private _seed: number;
  private _rules: FaultRules = {};
  private readonly _records: FaultRecord[] = [];
  private nextSeq = 1;
  onRecord?: ((r: FaultRecord) => void) | undefined;

  constructor(seed?: number) {
    this._seed = (seed ?? defaultSeed()) >>> 0;
    this.prng = new Mulberry32(this._seed);
  }
  get seed(): number {
    return this._seed;
  }
  get rules(): Readonly<FaultRules> {
    return this._rules;
  }
  get records(): readonly FaultRecord[] {
    return this._records;
  }
  /** True when some rule is set (the fast path skips all fault work otherwise). */
  get active(): boolean {
    return (this._rules.events?.length ?? 0) + (this._rules.calls?.length ?? 0) > 0;
  }
  set(rules: FaultRules): void {
    validateFaultRules(rules);
    if (rules.seed !== undefined) this._seed = rules.seed >>> 0;
    this.prng = new Mulberry32(this._seed);
    this._rules = structuredClone(rules);
  }
  clear(): void {
    this._rules = {};
  }
  clearRecords(): void {
    this._records.length = 0;
    this.nextSeq = 1;
  }
  record(r: Omit<FaultRecord, "seq">): FaultRecord {
    const rec = { seq: this.nextSeq++, ...r } as FaultRecord;
    this._records.push(rec);
    this.onRecord?.(rec);
    return rec;
  }
  private draw(spec: DelaySpec | undefined): number {
    if (spec === undefined) return 0;
    if (typeof spec === "number") return spec;
    return spec[0] + Math.floor(this.prng.next() * (spec[1] - spec[0] + 1));
  }

  /** Decides the fate of one published message; undefined when no rule matches. */
  decideEvent(subject: string): EventDecision | undefined {
    const rules = this._rules.events;
    if (!rules) return undefined;
    const idx = rules.findIndex((r) => subjectMatches(r.subject, subject));
    if (idx < 0) return undefined;
    const r = rules[idx] as EventFaultRule;
    if (r.drop !== undefined && this.prng.next() < r.drop) {
      this.record({ plane: "event", kind: "drop", target: subject, rule: idx });
      return { rule: idx, drop: true, copies: 0, delays: [] };
    }
    let copies = 1;
    if (r.duplicate !== undefined && this.prng.next() < r.duplicate) {
      copies = 2;
      this.record({ plane: "event", kind: "duplicate", target: subject, rule: idx });
    }
    const delays: number[] = [];
    for (let i = 0; i < copies; i++) {
      const d = this.draw(r.delayMs);
      delays.push(d);
      if (d > 0) this.record({ plane: "event", kind: "delay", target: subject, rule: idx, delayMs: d });
    }
    const reorder = r.reorder
      ? { window: r.reorder.window, maxHoldMs: this.draw(r.reorder.maxHoldMs ?? 50) }
      : undefined;
    return { rule: idx, drop: false, copies, delays, reorder };
  }

  /** A shuffle for a reorder release, recorded. */
  shuffle(rule: number, subjects: string[]): number[] {
    const order = subjects.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = this.prng.int(i + 1);
      const t = order[i] as number;
      order[i] = order[j] as number;
      order[j] = t;
    }
    this.record({
      plane: "event",
      kind: "reorder",
      target: subjects[0] ?? "",
      rule,
      order,
      targets: order.map((i) => subjects[i] as string),
    });
    return order;
  }

  /** Decides the fate of one call; undefined when no rule matches. */
  decideCall(method: string, path: string): CallDecision | undefined {
    const rules = this._rules.calls;
    if (!rules) return undefined;
    const idx = rules.findIndex((r) => globMatches(r.method, method) || globMatches(r.method, path));
    if (idx < 0) return undefined;
    const r = rules[idx] as CallFaultRule;
    const latencyMs = this.draw(r.latencyMs);
    if (latencyMs > 0)
      this.record({ plane: "call", kind: "latency", target: method, rule: idx, delayMs: latencyMs });
    let error: CallError | undefined;
    if (r.error && this.prng.next() < (r.error.probability ?? 1)) {
      this.record({ plane: "call", kind: "error", target: method, rule: idx, code: r.error.code });
      error = new CallError(r.error.code, r.error.details ?? `injected fault on ${method}`);
    }
    return { latencyMs, error };
  }

  /** Applies call faults: waits the latency, then throws the injected error if any. */
  async applyCall(method: string, path: string): Promise<void> {
    if (!this.active) return;
    const d = this.decideCall(method, path);
    if (!d) return;
    if (d.latencyMs > 0) await new Promise((r) => setTimeout(r, d.latencyMs));
    if (d.error) throw d.error;
  }
}

interface Held<M> {
  msg: M;
  subject: string;
}

/**
 * The publish-side fault stage of an event bus: drop, duplicate, delay and reorder happen here, before
 * the message reaches the transport. With no rule set it is a direct call.
 */
export class EventFaultStage<M extends { subject: string }> {
  private readonly pending = new Set<Promise<void>>();
  private readonly held = new Map<number, { items: Held<M>[]; timer: NodeJS.Timeout | undefined }>();
  constructor(
    readonly faults: Faults,
    private readonly transmit: (m: M) => void,
  ) {}

  send(m: M): void {
    if (!this.faults.active) {
      this.transmit(m);
      return;
    }
    const d = this.faults.decideEvent(m.subject);
    if (!d) {
      this.transmit(m);
      return;
    }
    if (d.drop) return;
    for (let i = 0; i < d.copies; i++) {
      const delay = d.delays[i] ?? 0;
      if (delay > 0) {
        const p = new Promise<void>((resolve) => {
          setTimeout(() => {
            this.pending.delete(p);
            this.afterDelay(m, d);
            resolve();
          }, delay);
        });
        this.pending.add(p);
      } else {
        this.afterDelay(m, d);
      }
    }
  }

  private afterDelay(m: M, d: EventDecision): void {
    if (!d.reorder) {
      this.transmit(m);
      return;
    }
    let h = this.held.get(d.rule);
    if (!h) {
      h = { items: [], timer: undefined };
      this.held.set(d.rule, h);
    }
    h.items.push({ msg: m, subject: m.subject });
    if (h.items.length >= d.reorder.window) {
      this.release(d.rule);
    } else if (!h.timer) {
      h.timer = setTimeout(() => this.release(d.rule), d.reorder.maxHoldMs);
    }
  }

  private release(rule: number): void {
    const h = this.held.get(rule);
    if (!h) return;
    this.held.delete(rule);
    if (h.timer) clearTimeout(h.timer);
    if (h.items.length === 0) return;
    const order =
      h.items.length > 1
        ? this.faults.shuffle(
            rule,
            h.items.map((x) => x.subject),
          )
        : [0];
    for (const i of order) this.transmit((h.items[i] as Held<M>).msg);
  }

  /** Releases held messages now and waits for delayed ones. */
  async flush(): Promise<void> {
    while (this.pending.size > 0 || this.held.size > 0) {
      for (const rule of [...this.held.keys()]) this.release(rule);
      if (this.pending.size > 0) await Promise.all([...this.pending]);
    }
  }
}

/** A standalone fault controller, to share between adapters (see the servers' `faults` option). */
export function createFaultController(seed?: number): FaultController {
  return new Faults(seed);
}
