// The frontend half of the blkif handshake (fact sheet §3; Linux xen-blkfront blkback_changed) as a
// pure reducer. Handlers are named after what changed: backendChanged (the peer), ringsGranted /
// ringsGrantFailed (the driver executing our grantRings effect), closeRequested / reconnectRequested
// (the guest).

import { protocolOfAbi, type XenAbi, XenbusState, XenErrno } from "@xensim/abi";
import { type BlkifQueueRing, type CommonEffect, isXenbusState, type XenstoreOp } from "./effects.js";
import {
  BlkifKey,
  BlkifKeyError,
  bool01,
  queueDir,
  readFeature,
  readOptional,
  readRequired,
  ringRefKey,
  U32_MAX,
  type XenstoreValues,
} from "./keys.js";
import {
  negotiateIndirectSegments,
  negotiatePersistent,
  negotiateQueues,
  negotiateRingPageOrder,
} from "./negotiate.js";

export interface BlkfrontConfig {
  /** The guest's own ABI, written as `protocol`. */
  readonly abi: XenAbi;
  /** Largest ring page order wanted (Linux default 0: one page). */
  readonly maxRingPageOrder: number;
  /** Largest queue count wanted (Linux: min(4, CPUs)). */
  readonly maxQueues: number;
  /** Indirect segments wanted (Linux default 32). */
  readonly maxIndirectSegments: number;
  /** `feature-persistent` written (Linux default 1). */
  readonly persistent: boolean;
}

export const BLKFRONT_DEFAULT_CONFIG: BlkfrontConfig = Object.freeze({
  abi: "x86_64",
  maxRingPageOrder: 0,
  maxQueues: 4,
  maxIndirectSegments: 32,
  persistent: true,
});

/** What the frontend learnt at Connected. */
export interface BlkfrontDisk {
  readonly sectors: number;
  /** VDISK_* bitmap. */
  readonly info: number;
  readonly sectorSize: number;
  readonly physicalSectorSize: number;
  readonly flush: boolean;
  readonly barrier: boolean;
  readonly discard: boolean;
  readonly discardGranularity: number;
  readonly discardAlignment: number;
  readonly discardSecure: boolean;
  /** Negotiated: both ends wrote feature-persistent = 1. */
  readonly persistent: boolean;
  /** Negotiated indirect segments per request (0: none). */
  readonly maxIndirectSegments: number;
}

export type BlkfrontPhase = "idle" | "granting" | "initialised" | "connected" | "closed";

export interface BlkfrontState {
  readonly state: XenbusState;
  readonly phase: BlkfrontPhase;
  readonly config: BlkfrontConfig;
  readonly backendState: XenbusState | undefined;
  /** The backend's directory as last read (for a reconnect while it sits in InitWait). */
  readonly backendKeys: XenstoreValues;
  /** Agreed at talk time. */
  readonly ringPageOrder: number;
  readonly nrQueues: number;
  /** Granted and published rings (held until freeRings). */
  readonly rings: readonly BlkifQueueRing[] | undefined;
  readonly disk: BlkfrontDisk | undefined;
  /** Backend keys of a Connected seen while granting: connect right after Initialised. */
  readonly pendingConnect: XenstoreValues | undefined;
}

export type BlkfrontEvent =
  /** The backend's `state` changed; `keys` is its directory as read then (relative paths). */
  | { readonly kind: "backendChanged"; readonly state: number; readonly keys: XenstoreValues }
  /** Rings allocated and granted, event channels allocated (answer to grantRings). */
  | { readonly kind: "ringsGranted"; readonly queues: readonly BlkifQueueRing[] }
  | { readonly kind: "ringsGrantFailed"; readonly err: number; readonly msg: string }
  /** The guest detaches the disk. */
  | { readonly kind: "closeRequested" }
  /** Resume / re-attach: start over from Initialising. */
  | { readonly kind: "reconnectRequested" };

export type BlkfrontEffect =
  | CommonEffect
  /** Allocate `nrQueues` rings of `nrPages` contiguous pages, grant them, allocate event channels. */
  | { readonly kind: "grantRings"; readonly nrQueues: number; readonly nrPages: number }
  /** End the ring grants and close the event channels. */
  | { readonly kind: "freeRings" }
  /** Start I/O on the connected disk. */
  | { readonly kind: "connected"; readonly disk: BlkfrontDisk }
  /** Online resize: the new capacity. */
  | { readonly kind: "resize"; readonly sectors: number }
  /** Stop I/O (fail or park in-flight requests). */
  | { readonly kind: "disconnected" };

export interface BlkfrontStep {
  readonly state: BlkfrontState;
  readonly effects: readonly BlkfrontEffect[];
}

export function initialBlkfrontState(config: BlkfrontConfig = BLKFRONT_DEFAULT_CONFIG): BlkfrontState {
  return {
    state: XenbusState.Initialising,
    phase: "idle",
    config,
    backendState: undefined,
    backendKeys: {},
    ringPageOrder: 0,
    nrQueues: 1,
    rings: undefined,
    disk: undefined,
    pendingConnect: undefined,
  };
}

class Step {
  readonly effects: BlkfrontEffect[] = [];
  constructor(public current: BlkfrontState) {}
  set(patch: Partial<BlkfrontState>): void {
    this.current = { ...this.current, ...patch };
  }
  switchState(state: XenbusState): void {
    if (this.current.state === state) return;
    this.effects.push({ kind: "switchState", state });
    this.set({ state });
  }
  fatal(err: number, msg: string): void {
    if (this.current.phase === "connected") this.effects.push({ kind: "disconnected" });
    this.effects.push({ kind: "fatal", err, msg });
    this.switchState(XenbusState.Closing);
    this.set({ phase: "closed", pendingConnect: undefined });
  }
  done(): BlkfrontStep {
    return { state: this.current, effects: this.effects };
  }
}

/** Advance the frontend by one event. Never throws; invalid backend values become `fatal`. */
export function blkfrontReduce(state: BlkfrontState, event: BlkfrontEvent): BlkfrontStep {
  const step = new Step(state);
  try {
    switch (event.kind) {
      case "backendChanged":
        backendChanged(step, event.state, event.keys);
        break;
      case "ringsGranted":
        ringsGranted(step, event.queues);
        break;
      case "ringsGrantFailed":
        if (step.current.phase === "granting") step.fatal(event.err, event.msg);
        break;
      case "closeRequested":
        if (step.current.state !== XenbusState.Closed && step.current.state !== XenbusState.Closing) {
          if (step.current.phase === "connected") step.effects.push({ kind: "disconnected" });
          step.set({ phase: "closed", pendingConnect: undefined });
          step.switchState(XenbusState.Closing);
        }
        break;
      case "reconnectRequested":
        reconnect(step);
        break;
    }
  } catch (e) {
    if (!(e instanceof BlkifKeyError)) throw e;
    step.fatal(e.errno, e.message);
  }
  return step.done();
}

/** Linux blkback_changed(). */
function backendChanged(step: Step, raw: number, keys: XenstoreValues): void {
  if (!isXenbusState(raw)) return; // Linux ignores states it does not know
  step.set({ backendState: raw, backendKeys: keys });
  switch (raw) {
    case XenbusState.InitWait:
      if (step.current.state !== XenbusState.Initialising || step.current.phase !== "idle") return;
      talk(step, keys);
      return;
    case XenbusState.Connected:
      if (step.current.phase === "closed") return;
      if (step.current.state === XenbusState.Initialising) {
        // Backend skipped InitWait (or we missed it): talk first, connect once Initialised.
        step.set({ pendingConnect: keys });
        if (step.current.phase === "idle") talk(step, keys);
        return;
      }
      if (step.current.state === XenbusState.Initialised) {
        connect(step, keys);
        return;
      }
      if (step.current.state === XenbusState.Connected && step.current.disk !== undefined) {
        // Backend re-wrote Connected: re-read sectors (online resize).
        const sectors = readRequired(keys, BlkifKey.sectors, Number.MAX_SAFE_INTEGER);
        if (sectors !== step.current.disk.sectors) {
          step.set({ disk: { ...step.current.disk, sectors } });
          step.effects.push({ kind: "resize", sectors });
        }
      }
      return;
    case XenbusState.Closed:
      if (step.current.state === XenbusState.Closed) {
        // The backend has unmapped: the ring grants can go now.
        freeRings(step);
        return;
      }
      closing(step);
      return;
    case XenbusState.Closing:
      closing(step);
      return;
    case XenbusState.Unknown:
      // The backend's directory is gone (the toolstack removes it once the backend is Closed). If
      // we are Closed too, our ring grants can go: ending a grant that is still mapped is refused
      // by the hypervisor, so a backend that died with them mapped only delays their return.
      if (step.current.state === XenbusState.Closed) freeRings(step);
      return;
    default:
      return;
  }
}

function closing(step: Step): void {
  if (step.current.state === XenbusState.Closed) return;
  if (step.current.phase === "connected") step.effects.push({ kind: "disconnected" });
  step.set({ phase: "closed", pendingConnect: undefined });
  step.switchState(XenbusState.Closed);
}

function freeRings(step: Step): void {
  if (step.current.rings === undefined) return;
  step.effects.push({ kind: "freeRings" });
  step.set({ rings: undefined });
}

/** First half of Linux talk_to_blkback(): agree order and queues, ask for the rings. */
function talk(step: Step, keys: XenstoreValues): void {
  const c = step.current.config;
  const backOrder = readOptional(keys, BlkifKey.maxRingPageOrder, U32_MAX, 0);
  const backQueues = readOptional(keys, BlkifKey.multiQueueMaxQueues, U32_MAX, 1);
  const ringPageOrder = negotiateRingPageOrder(backOrder, c.maxRingPageOrder);
  const nrQueues = negotiateQueues(backQueues, c.maxQueues);
  step.set({ ringPageOrder, nrQueues, phase: "granting", disk: undefined });
  step.effects.push({ kind: "grantRings", nrQueues, nrPages: 2 ** ringPageOrder });
}

/** Second half of talk_to_blkback(): publish the rings in one transaction, → Initialised. */
function ringsGranted(step: Step, queues: readonly BlkifQueueRing[]): void {
  if (step.current.phase !== "granting") return;
  const nrPages = 2 ** step.current.ringPageOrder;
  if (queues.length !== step.current.nrQueues || queues.some((q) => q.refs.length !== nrPages)) {
    step.effects.push({ kind: "freeRings" });
    step.fatal(
      XenErrno.EINVAL,
      `granted ${queues.length} rings, wanted ${step.current.nrQueues} of ${nrPages} pages`,
    );
    return;
  }
  step.effects.push({
    kind: "transaction",
    ops: transportKeys(step.current.config, step.current.ringPageOrder, queues),
  });
  step.set({ rings: queues, phase: "initialised" });
  step.switchState(XenbusState.Initialised);
  const pending = step.current.pendingConnect;
  if (pending !== undefined) connect(step, pending);
}

/**
 * The frontend's transport keys. Order 0 uses `ring-ref` and no ring-page-order (Linux writes the
 * order only when > 0, and a backend reads ring-ref0.. as soon as ring-page-order exists, even "0").
 * Stale ring-page-order / multi-queue-num-queues from an earlier connection are removed.
 */
export function transportKeys(
  config: BlkfrontConfig,
  ringPageOrder: number,
  queues: readonly BlkifQueueRing[],
): XenstoreOp[] {
  const ops: XenstoreOp[] = [];
  const w = (path: string, value: string): void => void ops.push({ kind: "write", path, value });
  if (ringPageOrder > 0) w(BlkifKey.ringPageOrder, String(ringPageOrder));
  else ops.push({ kind: "remove", path: BlkifKey.ringPageOrder });
  const multi = queues.length > 1;
  if (multi) w(BlkifKey.multiQueueNumQueues, String(queues.length));
  else ops.push({ kind: "remove", path: BlkifKey.multiQueueNumQueues });
  queues.forEach((q, qi) => {
    const dir = multi ? `${queueDir(qi)}/` : "";
    if (ringPageOrder === 0) w(`${dir}${BlkifKey.ringRef}`, String(q.refs[0]));
    else q.refs.forEach((ref, i) => w(`${dir}${ringRefKey(i)}`, String(ref)));
    w(`${dir}${BlkifKey.eventChannel}`, String(q.evtchn));
  });
  w(BlkifKey.protocol, protocolOfAbi(config.abi));
  w(BlkifKey.featurePersistent, bool01(config.persistent));
  return ops;
}

/** Linux blkfront_connect(): read the device, → Connected. */
function connect(step: Step, keys: XenstoreValues): void {
  const disk = readBackendDisk(keys, step.current.config);
  step.set({ disk, phase: "connected", pendingConnect: undefined });
  step.effects.push({ kind: "connected", disk });
  step.switchState(XenbusState.Connected);
}

/**
 * The backend's device keys, strictly parsed (sectors, info and sector-size are required as in
 * Linux's xenbus_gather; the rest default to 0/absent), with persistent and indirect negotiated.
 */
export function readBackendDisk(keys: XenstoreValues, config: BlkfrontConfig): BlkfrontDisk {
  const sectors = readRequired(keys, BlkifKey.sectors, Number.MAX_SAFE_INTEGER);
  const info = readRequired(keys, BlkifKey.info, U32_MAX);
  const sectorSize = readRequired(keys, BlkifKey.sectorSize, U32_MAX);
  if (sectorSize < 512 || (sectorSize & (sectorSize - 1)) !== 0)
    throw new BlkifKeyError(
      BlkifKey.sectorSize,
      keys[BlkifKey.sectorSize],
      XenErrno.EINVAL,
      `sector-size ${sectorSize} is not a power of two ≥ 512`,
    );
  const physicalSectorSize = readOptional(keys, BlkifKey.physicalSectorSize, U32_MAX, sectorSize);
  const discard = readFeature(keys, BlkifKey.featureDiscard);
  return {
    sectors,
    info,
    sectorSize,
    physicalSectorSize,
    flush: readFeature(keys, BlkifKey.featureFlushCache),
    barrier: readFeature(keys, BlkifKey.featureBarrier),
    discard,
    discardGranularity: discard ? readOptional(keys, BlkifKey.discardGranularity, U32_MAX, 0) : 0,
    discardAlignment: discard ? readOptional(keys, BlkifKey.discardAlignment, U32_MAX, 0) : 0,
    discardSecure: discard && readFeature(keys, BlkifKey.discardSecure),
    persistent: negotiatePersistent(readFeature(keys, BlkifKey.featurePersistent), config.persistent),
    maxIndirectSegments: negotiateIndirectSegments(
      readOptional(keys, BlkifKey.featureMaxIndirectSegments, U32_MAX, 0),
      config.maxIndirectSegments,
    ),
  };
}

/**
 * Start over from Initialising (resume, re-attach). A backend in Closed answers with InitWait; one
 * already in InitWait will not change again, so talk to it at once (as Linux blkfront_resume).
 */
function reconnect(step: Step): void {
  if (step.current.phase === "connected") step.effects.push({ kind: "disconnected" });
  freeRings(step);
  step.set({ phase: "idle", disk: undefined, pendingConnect: undefined });
  step.switchState(XenbusState.Initialising);
  if (step.current.backendState === XenbusState.InitWait) talk(step, step.current.backendKeys);
}
