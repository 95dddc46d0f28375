// The modelled storage array's parameters and its queueing-theory prediction (pure).
import type { Distribution } from "./distributions.js";

/**
 * A storage array as a closed queueing network: an I/O crosses the transport (a fixed delay, the
 * iSCSI/FC round trip), lands on the spindle that holds its stripe, waits in that spindle's FIFO if
 * all of its `slotsPerSpindle` concurrent slots are busy, and is served for a time drawn from
 * `service`. Times in milliseconds.
 */
export interface ArrayProfile {
  readonly name: string;
  readonly spindles: number;
  /** I/Os one spindle serves at once (NCQ/controller parallelism); more wait in its FIFO. */
  readonly slotsPerSpindle: number;
  /** Stripe unit: bytes [k·stripe, (k+1)·stripe) live on spindle k mod spindles. */
  readonly stripeBytes: number;
  readonly service: Distribution;
  /** Fixed per-I/O latency outside the spindles (transport round trip, target processing). */
  readonly transportMs: number;
}

export type ArrayProfileName = "iscsi-array" | "ssd" | "null";

/**
 * `iscsi-array`: ~100 drives behind one iSCSI LUN. 100 spindles × 4 slots, 64 KiB stripes, service
 * lognormal mean 5 ms (cv 0.5: seek + rotation of 10k–15k rpm drives), 2 ms transport round trip.
 * Capacity is 100 × 4 / 5 ms = 80 000 IOPS; 32 outstanding see almost no queueing, so they get
 * 32 / (5 + 2) ms ≈ 4 570 IOPS: a 1-page blkif ring (32 requests) against a 64-page ring (2048)
 * gives ≈ 17× the IOPS — the seed setting's "~15×".
 *
 * `ssd`: 8 channels × 4 slots, 16 KiB stripes, lognormal mean 0.1 ms (cv 0.3), 20 µs transport:
 * capacity 320 000 IOPS, saturated from ~40 outstanding.
 *
 * `null`: no model at all: openStore maps it to a NullStore.
 */
export const ARRAY_PROFILES: Readonly<Record<Exclude<ArrayProfileName, "null">, ArrayProfile>> =
  Object.freeze({
    "iscsi-array": Object.freeze({
      name: "iscsi-array",
      spindles: 100,
      slotsPerSpindle: 4,
      stripeBytes: 64 * 1024,
      service: Object.freeze({ kind: "lognormal", mean: 5, cv: 0.5 }),
      transportMs: 2,
    }),
    ssd: Object.freeze({
      name: "ssd",
      spindles: 8,
      slotsPerSpindle: 4,
      stripeBytes: 16 * 1024,
      service: Object.freeze({ kind: "lognormal", mean: 0.1, cv: 0.3 }),
      transportMs: 0.02,
    }),
  });

export function resolveProfile(p: ArrayProfile | ArrayProfileName): ArrayProfile | undefined {
  if (typeof p !== "string") return validateProfile(p);
  if (p === "null") return undefined;
  const found = (ARRAY_PROFILES as Record<string, ArrayProfile>)[p];
  if (found === undefined) {
    throw new RangeError(
      `unknown array profile '${String(p)}' (known: ${[...Object.keys(ARRAY_PROFILES), "null"].join(", ")})`,
    );
  }
  return found;
}

function validateProfile(p: ArrayProfile): ArrayProfile {
  const posInt = (n: string, v: number) => {
    if (!Number.isSafeInteger(v) || v < 1)
      throw new RangeError(`profile ${p.name}: ${n} ${v} is not a positive integer`);
  };
  posInt("spindles", p.spindles);
  posInt("slotsPerSpindle", p.slotsPerSpindle);
  posInt("stripeBytes", p.stripeBytes);
  if (p.stripeBytes % 512 !== 0)
    throw new RangeError(`profile ${p.name}: stripeBytes ${p.stripeBytes} is not a multiple of 512`);
  if (!(p.transportMs >= 0))
    throw new RangeError(`profile ${p.name}: transportMs ${p.transportMs} is not >= 0`);
  if (!(p.service.mean > 0))
    throw new RangeError(`profile ${p.name}: service mean ${p.service.mean} is not > 0`);
  return p;
}

export interface Prediction {
  /** Completions per second. */
  readonly iops: number;
  /** Mean time from submit to done, ms (Little: outstanding / throughput). */
  readonly latencyMs: number;
  /** Mean I/Os waiting or in service on one spindle. */
  readonly perSpindleQueue: number;
}

/**
 * Throughput and latency of the closed system with `outstanding` I/Os always in flight, each to a
 * uniformly random stripe (random I/O over the whole device), by exact Mean Value Analysis after
 * Seidmann's approximation of a multi-server station: a spindle with c slots and mean service S
 * becomes a single-server queue with service S/c plus a pure delay of S·(c−1)/c (exact at light
 * load and at saturation, within a few percent in between). The transport is a pure delay.
 * MVA is exact for exponential service; for other distributions it is the usual approximation
 * (light load and saturation do not depend on the distribution).
 */
export function predict(profile: ArrayProfile | ArrayProfileName, outstanding: number): Prediction {
  if (!Number.isSafeInteger(outstanding) || outstanding < 0)
    throw new RangeError(`outstanding ${outstanding} is not a non-negative integer`);
  const p = resolveProfile(profile);
  if (p === undefined) return { iops: Infinity, latencyMs: 0, perSpindleQueue: 0 };
  const K = p.spindles;
  const c = p.slotsPerSpindle;
  const S = p.service.mean;
  const Sq = S / c;
  const Z = p.transportMs + (S * (c - 1)) / c;
  let Q = 0;
  let X = 0;
  let R = Z + Sq;
  for (let n = 1; n <= outstanding; n++) {
    const Rq = Sq * (1 + Q);
    R = Z + Rq;
    X = n / R; // per ms
    Q = (X / K) * Rq;
  }
  return {
    iops: X * 1000,
    latencyMs: R,
    perSpindleQueue: outstanding === 0 ? 0 : (X / K) * (R - p.transportMs),
  };
}

/** Predicted completions per second with `outstanding` I/Os in flight (see {@link predict}). */
export function predictIops(profile: ArrayProfile | ArrayProfileName, outstanding: number): number {
  return predict(profile, outstanding).iops;
}

/** Predicted mean latency (ms) with `outstanding` I/Os in flight (see {@link predict}). */
export function predictLatency(profile: ArrayProfile | ArrayProfileName, outstanding: number): number {
  return predict(profile, outstanding).latencyMs;
}
