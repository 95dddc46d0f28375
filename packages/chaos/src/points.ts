// Fault points: the hooks a service's adapters consult. A point that is off costs one branch
// (`if (point.active)`); one that is on draws from its own seeded PRNG, so the same seed and the same
// traffic give the same decisions, and records every fault it injects with a timestamp from the
// injected clock.

import { gntstCode, requireFaultKind } from "./kinds.js";
import { Mulberry32 } from "@xensim/random";

/** A delay in ms: fixed, or uniform in [min, max]. */
export type DelaySpec = number | readonly [number, number];

/** What a fault is set with. Every field but `kind` is optional. */
export interface FaultSpec {
  kind: string;
  /** Probability in [0, 1] that one opportunity (a send, a map, an I/O, a watch event) is hit; default 1. */
  probability?: number;
  /** Seed of the point's PRNG (default: derived from the service's seed and the kind). */
  seed?: number;
  /** Stop injecting after this many hits (the fault stays set until healed). */
  count?: number;
  delayMs?: DelaySpec;
  /** GNTST_* (grant kinds, a number or a name) or a gRPC status (call.failed). */
  code?: number | string;
  /** evtchn.spurious: period of the spurious notifications (default 50 ms). */
  periodMs?: number;
  /** bus kinds: subject pattern (default ">"). */
  subject?: string;
  /** call kinds: method glob (default "*"). */
  method?: string;
  /** domain.paused: the domain id. */
  domain?: number;
  /** link kinds: the sending host process (default: every host running a page-server). */
  host?: string;
  /** link kinds: the receiving host process (default: every peer). */
  peer?: string;
}

/** One injected fault. */
export interface FaultHit {
  /** 1-based, per service. */
  seq: number;
  /** Wall-clock ms (the injected clock). */
  at: number;
  service: string;
  kind: string;
  /** What it hit: "port 5", "ref 12", "sector 2048", "@releaseDomain", ... */
  target: string;
  delayMs?: number;
  code?: number;
}

function fail(msg: string): never {
  throw new Error(msg);
}
function checkDelay(v: unknown, what: string): void {
  if (v === undefined) return;
  if (typeof v === "number" && Number.isFinite(v) && v >= 0) return;
  if (
    Array.isArray(v) &&
    v.length === 2 &&
    typeof v[0] === "number" &&
    typeof v[1] === "number" &&
    v[0] >= 0 &&
    v[1] >= v[0]
  )
    return;
  fail(`${what}: expected a number of ms >= 0 or [min, max]`);
}

/** Validates a spec that came from outside (JSON, YAML); returns it typed. Throws with what was expected. */
export function validateFaultSpec(x: unknown): FaultSpec {
  if (typeof x !== "object" || x === null || Array.isArray(x))
    fail("a fault: expected an object with a kind");
  const s = x as Record<string, unknown>;
  if (typeof s.kind !== "string") fail("kind: expected a fault kind name");
  requireFaultKind(s.kind);
  if (
    s.probability !== undefined &&
    !(typeof s.probability === "number" && s.probability >= 0 && s.probability <= 1)
  )
    fail("probability: expected a number in [0, 1]");
  for (const k of ["seed", "count", "periodMs", "domain"] as const) {
    const v = s[k];
    if (v !== undefined && !(typeof v === "number" && Number.isInteger(v) && v >= 0))
      fail(`${k}: expected an integer >= 0`);
  }
  if (s.periodMs !== undefined && (s.periodMs as number) < 1) fail("periodMs: expected an integer >= 1");
  checkDelay(s.delayMs, "delayMs");
  for (const k of ["host", "peer"] as const)
    if (s[k] !== undefined && (typeof s[k] !== "string" || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(s[k])))
      fail(`${k}: expected a host id`);
  for (const k of ["subject", "method"] as const)
    if (s[k] !== undefined && (typeof s[k] !== "string" || s[k] === ""))
      fail(`${k}: expected a non-empty string`);
  if (s.code !== undefined) {
    if (typeof s.code !== "number" && typeof s.code !== "string") fail("code: expected a number or a name");
    if (s.kind.startsWith("grant."))
      try {
        gntstCode(s.code);
      } catch (e) {
        fail(`code: ${(e as Error).message}`);
      }
    else if (s.kind === "call.failed" && !(typeof s.code === "number" && s.code >= 1 && s.code <= 16))
      fail("code: expected a gRPC status 1..16");
  }
  const known = new Set([
    "kind",
    "probability",
    "seed",
    "count",
    "delayMs",
    "code",
    "periodMs",
    "subject",
    "method",
    "domain",
    "host",
    "peer",
  ]);
  for (const k of Object.keys(s))
    if (!known.has(k)) fail(`${k}: unknown fault parameter (known: ${[...known].join(", ")})`);
  return s as unknown as FaultSpec;
}

/** FNV-1a of a string: a kind's share of a seed. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** One fault point of a service. */
export class FaultPoint {
  /** The one branch a disabled point costs. */
  active = false;
  spec: FaultSpec | undefined;
  hits = 0;
  private rng: Mulberry32 = new Mulberry32(1);
  /** Called when the point is set or healed (e.g. to start or stop a timer). */
  onChange: ((p: FaultPoint) => void) | undefined;

  constructor(
    readonly kind: string,
    private readonly owner: ChaosPoints,
  ) {}

  /** Arms the point (validated spec); the PRNG restarts from the spec's seed. */
  set(spec: FaultSpec): void {
    this.spec = spec;
    this.hits = 0;
    this.rng = new Mulberry32(spec.seed ?? (this.owner.seed ^ hashString(this.kind)) >>> 0);
    this.active = true;
    this.onChange?.(this);
    this.owner.changed(this);
  }

  heal(): void {
    if (!this.active) return;
    this.active = false;
    this.spec = undefined;
    this.onChange?.(this);
    this.owner.changed(this);
  }

  /**
   * One opportunity for the fault: true (and recorded) when it hits. Always draws once while active,
   * so the decision sequence depends only on the seed and the traffic.
   */
  hit(target: string, extra: { delayMs?: number; code?: number } = {}): boolean {
    const s = this.spec;
    if (!this.active || !s) return false;
    const u = this.rng.next();
    if (s.count !== undefined && this.hits >= s.count) return false;
    if (u >= (s.probability ?? 1)) return false;
    this.hits++;
    this.owner.record({ kind: this.kind, target, ...extra });
    return true;
  }

  /** The delay of one hit (drawn when the spec gives a range). */
  delay(): number {
    const d = this.spec?.delayMs ?? 0;
    if (typeof d === "number") return d;
    return d[0] + Math.floor(this.rng.next() * (d[1] - d[0] + 1));
  }

  /** The GNTST code of a grant fault. */
  grantStatus(): number {
    return gntstCode(this.spec?.code);
  }
}

export interface ChaosPointsOptions {
  service: string;
  /** Wall clock in ms (injected; Date.now in a service). */
  now: () => number;
  seed?: number;
  /** Keep at most this many records (oldest dropped first; default 10,000). */
  maxRecords?: number;
}

/** A recording a service keeps for a checker while started (off: no cost beyond one branch). */
export interface ChaosObserver {
  start(): void;
  take(): unknown;
  stop(): void;
}

/** The fault points of one service, by kind. */
export class ChaosPoints {
  readonly service: string;
  readonly seed: number;
  private readonly points = new Map<string, FaultPoint>();
  private readonly _records: FaultHit[] = [];
  private nextSeq = 1;
  onRecord: ((h: FaultHit) => void) | undefined;

  constructor(private readonly options: ChaosPointsOptions) {
    this.service = options.service;
    this.seed = (options.seed ?? 1) >>> 0;
  }

  /** The point for `kind` (created on first use; the adapter keeps the reference). */
  point(kind: string): FaultPoint {
    let p = this.points.get(kind);
    if (!p) {
      p = new FaultPoint(kind, this);
      this.points.set(kind, p);
    }
    return p;
  }

  private readonly watchers = new Set<(kind: string, spec: FaultSpec | undefined) => void>();

  /**
   * Calls `fn` whenever a point is set (with its spec) or healed (undefined): how a service passes
   * its faults on to its own threads (blkback's queue threads), which keep points of their own.
   * Returns the unwatch function.
   */
  watch(fn: (kind: string, spec: FaultSpec | undefined) => void): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  /** A point of ours was set or healed (FaultPoint calls this). */
  changed(p: FaultPoint): void {
    for (const fn of this.watchers) fn(p.kind, p.active ? p.spec : undefined);
  }

  /** Kinds this service has a point for (registered by its adapters). */
  get kinds(): string[] {
    return [...this.points.keys()].sort();
  }

  /** Arms a point; throws when this service has no point of that kind. */
  set(spec: FaultSpec): void {
    const p = this.points.get(spec.kind);
    if (!p)
      throw new Error(
        `service ${this.service} has no fault point '${spec.kind}' (its points: ${this.kinds.join(", ") || "none"})`,
      );
    p.set(spec);
  }

  /** Heals one kind, or every point. Returns the kinds healed. */
  heal(kind?: string): string[] {
    const out: string[] = [];
    for (const p of this.points.values()) {
      if (kind !== undefined && p.kind !== kind) continue;
      if (p.active) out.push(p.kind);
      p.heal();
    }
    return out;
  }

  /** Active points and their specs. */
  get active(): FaultSpec[] {
    return [...this.points.values()].filter((p) => p.active && p.spec).map((p) => p.spec as FaultSpec);
  }

  private readonly observers = new Map<string, ChaosObserver>();

  /** Registers what a checker may read from this service (e.g. xenstored's "xenstore-history"). */
  observe(name: string, observer: ChaosObserver): void {
    this.observers.set(name, observer);
  }

  /** start / take / stop an observer; take answers what it recorded since start or the last take. */
  observation(name: string, action: "start" | "take" | "stop"): unknown {
    const o = this.observers.get(name);
    if (!o)
      throw new Error(
        `service ${this.service} has no observer '${name}' (its observers: ${[...this.observers.keys()].join(", ") || "none"})`,
      );
    if (action === "start") o.start();
    else if (action === "stop") o.stop();
    else if (action === "take") return o.take();
    else throw new Error(`observe action '${String(action)}': expected start, take or stop`);
    return undefined;
  }

  record(r: Omit<FaultHit, "seq" | "at" | "service">): void {
    const h: FaultHit = { seq: this.nextSeq++, at: this.options.now(), service: this.service, ...r };
    this._records.push(h);
    if (this._records.length > (this.options.maxRecords ?? 10_000)) this._records.shift();
    this.onRecord?.(h);
  }

  get records(): readonly FaultHit[] {
    return this._records;
  }
}
