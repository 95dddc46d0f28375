// displif xenstore vocabulary (fact sheet §8) and strict parsers for what the other end (or the
// toolstack) wrote. Paths are relative to the device directory; per-connector keys go under `<idx>/`.

import {
  XENDISPL_FIELD_BE_ALLOC,
  XENDISPL_FIELD_BE_VERSIONS,
  XENDISPL_FIELD_EVT_CHANNEL,
  XENDISPL_FIELD_EVT_RING_REF,
  XENDISPL_FIELD_FE_VERSION,
  XENDISPL_FIELD_REQ_CHANNEL,
  XENDISPL_FIELD_REQ_RING_REF,
  XENDISPL_FIELD_RESOLUTION,
  XENDISPL_FIELD_UNIQUE_ID,
  XENDISPL_LIST_SEPARATOR,
  XENDISPL_RESOLUTION_SEPARATOR,
  XenErrno,
  xenErrnoName,
} from "@xensim/abi";

/** Values read from a directory: relative path → value; a missing key is absent. */
export type XenstoreValues = Readonly<Record<string, string | undefined>>;

export type XenstoreOp =
  | { readonly kind: "write"; readonly path: string; readonly value: string }
  | { readonly kind: "remove"; readonly path: string };

/** A value that does not parse: becomes a fatal error (`error` node, Closing). */
export class DisplifKeyError extends Error {
  override readonly name = "DisplifKeyError";
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

/** One connector as the toolstack configured it (front `<idx>/resolution`, `<idx>/unique-id`). */
export interface ConnectorConfig {
  readonly index: number;
  readonly width: number;
  readonly height: number;
  readonly uniqueId: string;
}

/** The transport of one connector: request ring and event page, each with its event channel. */
export interface ConnectorChannels {
  readonly reqRingRef: number;
  readonly reqEventChannel: number;
  readonly evtRingRef: number;
  readonly evtEventChannel: number;
}

/** What both ends agree on once the frontend is Initialised. */
export interface DisplifConnection {
  readonly version: number;
  readonly beAlloc: boolean;
  readonly connectors: readonly ConnectorConfig[];
  readonly channels: readonly ConnectorChannels[];
}

/** Most connectors a device may have here (Linux XEN_DRM_FRONT_MAX_CRTCS is 4). */
export const DISPLIF_MAX_CONNECTORS = 8;
/** Largest connector dimension accepted (pixels). */
export const DISPLIF_MAX_DIMENSION = 16384;

export const connectorKey = (index: number, field: string): string => `${index}/${field}`;

const DECIMAL = /^[0-9]{1,10}$/;

export function parseU32(key: string, value: string | undefined, required = true): number | undefined {
  if (value === undefined) {
    if (required) throw new DisplifKeyError(key, value, XenErrno.ENOENT, `reading ${key}`);
    return undefined;
  }
  if (!DECIMAL.test(value) || Number(value) > 0xffff_ffff)
    throw new DisplifKeyError(key, value, XenErrno.EINVAL, `${key}: "${value}" is not a u32`);
  return Number(value);
}

/** "WxH" (XENDISPL_RESOLUTION_SEPARATOR), both in 1..16384. */
export function parseResolution(key: string, value: string | undefined): { width: number; height: number } {
  const parts = value?.split(XENDISPL_RESOLUTION_SEPARATOR) ?? [];
  const [w, h] = parts.map((p) => (DECIMAL.test(p) ? Number(p) : Number.NaN));
  if (
    parts.length !== 2 ||
    !Number.isInteger(w) ||
    !Number.isInteger(h) ||
    w! < 1 ||
    h! < 1 ||
    w! > DISPLIF_MAX_DIMENSION ||
    h! > DISPLIF_MAX_DIMENSION
  )
    throw new DisplifKeyError(key, value, XenErrno.EINVAL, `${key}: "${value}" is not WxH`);
  return { width: w!, height: h! };
}

/** The backend's `versions`: a comma list of decimal protocol versions. */
export function parseVersions(value: string | undefined): number[] {
  if (value === undefined)
    throw new DisplifKeyError(XENDISPL_FIELD_BE_VERSIONS, value, XenErrno.ENOENT, "reading versions");
  const out: number[] = [];
  for (const p of value.split(XENDISPL_LIST_SEPARATOR)) {
    const v = p.trim();
    if (!/^[0-9]{1,4}$/.test(v))
      throw new DisplifKeyError(XENDISPL_FIELD_BE_VERSIONS, value, XenErrno.EINVAL, `versions: "${value}"`);
    out.push(Number(v));
  }
  return out;
}

/** The highest version both support, or undefined. */
export function negotiateVersion(
  backend: readonly number[],
  frontend: readonly number[],
): number | undefined {
  let best: number | undefined;
  for (const v of backend) if (frontend.includes(v) && (best === undefined || v > best)) best = v;
  return best;
}

/** `be-alloc`: "0"/"1", absent = 0. */
export function parseBeAlloc(value: string | undefined): boolean {
  if (value === undefined || value === "0") return false;
  if (value === "1") return true;
  throw new DisplifKeyError(XENDISPL_FIELD_BE_ALLOC, value, XenErrno.EINVAL, `be-alloc: "${value}"`);
}

/**
 * The connectors of a frontend directory: `0/resolution`, `1/resolution`, … contiguous from 0 (the
 * first missing index ends the list). At least one is required.
 */
export function readConnectors(keys: XenstoreValues): ConnectorConfig[] {
  const out: ConnectorConfig[] = [];
  for (let i = 0; i < DISPLIF_MAX_CONNECTORS; i++) {
    const rk = connectorKey(i, XENDISPL_FIELD_RESOLUTION);
    if (keys[rk] === undefined) break;
    const { width, height } = parseResolution(rk, keys[rk]);
    out.push({ index: i, width, height, uniqueId: keys[connectorKey(i, XENDISPL_FIELD_UNIQUE_ID)] ?? "" });
  }
  if (out.length === 0)
    throw new DisplifKeyError(
      connectorKey(0, XENDISPL_FIELD_RESOLUTION),
      undefined,
      XenErrno.ENOENT,
      "no connectors configured",
    );
  return out;
}

/** The per-connector transport keys the frontend wrote. */
export function readChannels(keys: XenstoreValues, nrConnectors: number): ConnectorChannels[] {
  const out: ConnectorChannels[] = [];
  for (let i = 0; i < nrConnectors; i++) {
    const k = (f: string) => connectorKey(i, f);
    const r = (f: string) => parseU32(k(f), keys[k(f)])!;
    out.push({
      reqRingRef: r(XENDISPL_FIELD_REQ_RING_REF),
      reqEventChannel: r(XENDISPL_FIELD_REQ_CHANNEL),
      evtRingRef: r(XENDISPL_FIELD_EVT_RING_REF),
      evtEventChannel: r(XENDISPL_FIELD_EVT_CHANNEL),
    });
  }
  return out;
}

/** The frontend's transport keys (written in one transaction before Initialised). */
export function transportKeys(version: number, channels: readonly ConnectorChannels[]): XenstoreOp[] {
  const ops: XenstoreOp[] = [{ kind: "write", path: XENDISPL_FIELD_FE_VERSION, value: String(version) }];
  channels.forEach((c, i) => {
    const w = (f: string, v: number) =>
      void ops.push({ kind: "write", path: connectorKey(i, f), value: String(v) });
    w(XENDISPL_FIELD_REQ_RING_REF, c.reqRingRef);
    w(XENDISPL_FIELD_REQ_CHANNEL, c.reqEventChannel);
    w(XENDISPL_FIELD_EVT_RING_REF, c.evtRingRef);
    w(XENDISPL_FIELD_EVT_CHANNEL, c.evtEventChannel);
  });
  return ops;
}

export const DisplifKey = Object.freeze({
  state: "state",
  versions: XENDISPL_FIELD_BE_VERSIONS,
  version: XENDISPL_FIELD_FE_VERSION,
  beAlloc: XENDISPL_FIELD_BE_ALLOC,
  resolution: XENDISPL_FIELD_RESOLUTION,
  uniqueId: XENDISPL_FIELD_UNIQUE_ID,
  reqRingRef: XENDISPL_FIELD_REQ_RING_REF,
  reqEventChannel: XENDISPL_FIELD_REQ_CHANNEL,
  evtRingRef: XENDISPL_FIELD_EVT_RING_REF,
  evtEventChannel: XENDISPL_FIELD_EVT_CHANNEL,
} as const);
