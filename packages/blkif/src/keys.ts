// blkif xenstore keys (fact sheet §2.4) and strict parsers for the values the other end wrote.
// Keys are relative to a device directory; per-queue keys go under `queue-<i>/`.

import { XenErrno, xenErrnoName } from "@xensim/abi";

export const BlkifKey = Object.freeze({
  state: "state",
  online: "online",
  mode: "mode",
  // backend, at probe
  featureMaxIndirectSegments: "feature-max-indirect-segments",
  multiQueueMaxQueues: "multi-queue-max-queues",
  maxRingPageOrder: "max-ring-page-order",
  // backend, at Connected
  featureFlushCache: "feature-flush-cache",
  featureBarrier: "feature-barrier",
  featureDiscard: "feature-discard",
  discardGranularity: "discard-granularity",
  discardAlignment: "discard-alignment",
  discardSecure: "discard-secure",
  discardEnable: "discard-enable",
  featurePersistent: "feature-persistent",
  sectors: "sectors",
  info: "info",
  sectorSize: "sector-size",
  physicalSectorSize: "physical-sector-size",
  // frontend, before Initialised
  ringRef: "ring-ref",
  ringPageOrder: "ring-page-order",
  eventChannel: "event-channel",
  multiQueueNumQueues: "multi-queue-num-queues",
  protocol: "protocol",
} as const);

/** `ring-ref<i>`: the multi-page name. */
export function ringRefKey(i: number): string {
  return `ring-ref${i}`;
}

/** `queue-<i>/` prefix of a queue's keys when multi-queue-num-queues ≥ 2. */
export function queueDir(i: number): string {
  return `queue-${i}`;
}

/** A value of the other end that does not parse: becomes a fatal error (`error` node, Closing). */
export class BlkifKeyError extends Error {
  override readonly name = "BlkifKeyError";
  /** Xen's errno name of `errno` ("EINVAL", "ENOSYS", …): what the error node's number means. */
  readonly code: string;
  constructor(
    readonly key: string,
    readonly value: string | undefined,
    readonly errno: number,
    message: string,
  ) {
    super(message);
    this.code = xenErrnoName(errno) ?? `errno ${errno}`;
  }
}

/** Values read from a directory: relative path → value; a missing key is absent. */
export type XenstoreValues = Readonly<Record<string, string | undefined>>;

const DECIMAL = /^[0-9]{1,20}$/;

/** Strict unsigned decimal (digits only, no sign, space or suffix), at most `max`. */
export function parseUnsigned(key: string, value: string, max: number): number {
  if (!DECIMAL.test(value))
    throw new BlkifKeyError(key, value, XenErrno.EINVAL, `${key}: "${value}" is not a decimal`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n > max)
    throw new BlkifKeyError(key, value, XenErrno.ERANGE, `${key}: ${value} is out of range (max ${max})`);
  return n;
}

/** A key that must be present. */
export function readRequired(values: XenstoreValues, key: string, max: number): number {
  const v = values[key];
  if (v === undefined) throw new BlkifKeyError(key, undefined, XenErrno.ENOENT, `reading ${key}`);
  return parseUnsigned(key, v, max);
}

/** A key that may be absent (then `dflt`). */
export function readOptional(values: XenstoreValues, key: string, max: number, dflt: number): number {
  const v = values[key];
  return v === undefined ? dflt : parseUnsigned(key, v, max);
}

/** A feature flag: "0" or "1" only; absent → `dflt`. */
export function readFeature(values: XenstoreValues, key: string, dflt = false): boolean {
  const v = values[key];
  if (v === undefined) return dflt;
  if (v === "1") return true;
  if (v === "0") return false;
  throw new BlkifKeyError(key, v, XenErrno.EINVAL, `${key}: "${v}" is not 0 or 1`);
}

export const U32_MAX = 0xffff_ffff;

/** `mode` of the backend directory: "r" → read-only, "w" → read-write. */
export function parseMode(value: string | undefined): "r" | "w" {
  if (value === "r" || value === "w") return value;
  throw new BlkifKeyError(BlkifKey.mode, value, XenErrno.EINVAL, `mode: "${value}" is neither r nor w`);
}

export function bool01(b: boolean): string {
  return b ? "1" : "0";
}
