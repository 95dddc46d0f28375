// The backend half of the blkif handshake (fact sheet §3; Linux xen-blkback/xenbus.c) as a pure
// reducer: (state, event) → { state, effects }. Handlers are named after what changed:
// frontendChanged (the peer), vbdOpened / resized (the storage), onlineChanged (the toolstack),
// ringsMapped / ringsMapFailed (the driver executing our connectRings effect).

import {
  VDISK_CDROM,
  VDISK_READONLY,
  VDISK_REMOVABLE,
  XEN_IO_PROTO_ABI_X86_32,
  XEN_IO_PROTO_ABI_X86_64,
  type XenAbi,
  XenbusState,
  XenErrno,
} from "@xensim/abi";
import type { BlockStoreInfo } from "./block-store.js";
import {
  type BlkifQueueRing,
  type CommonEffect,
  isXenbusState,
  type NegotiatedRings,
  type XenstoreOp,
} from "./effects.js";
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

export interface BlkbackConfig {
  /** `max-ring-page-order` advertised (Linux default 4). */
  readonly maxRingPageOrder: number;
  /** `multi-queue-max-queues` advertised (Linux: number of CPUs). */
  readonly maxQueues: number;
  /** `feature-max-indirect-segments` advertised (Linux 256); 0 = not written. */
  readonly maxIndirectSegments: number;
  /** Backend side of persistent grants (Linux module parameter, default on). */
  readonly persistent: boolean;
  /**
   * ABI assumed when the frontend writes no `protocol`: Linux blkback on x86 assumes x86_32-abi
   * (fact sheet §2.4), which is the default here.
   */
  readonly defaultAbi?: XenAbi;
  /** Toolstack's `discard-enable` (default true): false → feature-discard not written at all. */
  readonly discardEnable?: boolean;
}

export const BLKBACK_DEFAULT_CONFIG: BlkbackConfig = Object.freeze({
  maxRingPageOrder: 4,
  maxQueues: 4,
  maxIndirectSegments: 256,
  persistent: true,
  defaultAbi: "x86_32",
  discardEnable: true,
});

/** The opened vbd: the store's info plus the `info` bits a toolstack decides (device-type, removable). */
export interface BlkbackVbd {
  readonly info: BlockStoreInfo;
  readonly cdrom?: boolean;
  readonly removable?: boolean;
}

/** Private connection state, kept apart from the bus-visible XenbusState (STYLE item 4). */
export type BlkbackPhase =
  "new" | "waitFrontend" | "mapping" | "connected" | "closing" | "closed" | "removed";

export interface BlkbackState {
  readonly state: XenbusState;
  readonly phase: BlkbackPhase;
  readonly config: BlkbackConfig;
  readonly frontendState: XenbusState | undefined;
  readonly online: boolean;
  readonly vbd: BlkbackVbd | undefined;
  /** Rings asked for (connectRings) or mapped. */
  readonly rings: NegotiatedRings | undefined;
  readonly ringsMapped: boolean;
}

export type BlkbackEvent =
  /** The driver bound to a new backend directory (Linux xen_blkbk_probe). */
  | { readonly kind: "probed" }
  /** Hotplug wrote physical-device and the driver opened the storage. */
  | { readonly kind: "vbdOpened"; readonly vbd: BlkbackVbd }
  /** The frontend's `state` changed; `keys` is its directory as read then (relative paths). */
  | { readonly kind: "frontendChanged"; readonly state: number; readonly keys: XenstoreValues }
  | { readonly kind: "ringsMapped" }
  | { readonly kind: "ringsMapFailed"; readonly err: number; readonly msg: string }
  /** The toolstack's `online` node. */
  | { readonly kind: "onlineChanged"; readonly online: boolean }
  /** The store's size changed (online resize). */
  | { readonly kind: "resized"; readonly sectors: number };

export type BlkbackEffect =
  | CommonEffect
  /** Map every queue's ring (in ring-ref order, contiguous) and bind its event channel. */
  | ({ readonly kind: "connectRings" } & NegotiatedRings)
  /** Unmap the rings, unbind the event channels (idempotent, as xen_blkif_disconnect). */
  | { readonly kind: "disconnectRings" }
  /** device_unregister: the device is gone (online = 0 and Closed, or the frontend vanished). */
  | { readonly kind: "unregister" };

export interface BlkbackStep {
  readonly state: BlkbackState;
  readonly effects: readonly BlkbackEffect[];
}

export function initialBlkbackState(config: BlkbackConfig = BLKBACK_DEFAULT_CONFIG): BlkbackState {
  return {
    state: XenbusState.Initialising,
    phase: "new",
    config,
    frontendState: undefined,
    online: true,
    vbd: undefined,
    rings: undefined,
    ringsMapped: false,
  };
}

class Step {
  readonly effects: BlkbackEffect[] = [];
  constructor(public current: BlkbackState) {}
  set(patch: Partial<BlkbackState>): void {
    this.current = { ...this.current, ...patch };
  }
  switchState(state: XenbusState): void {
    if (this.current.state === state) return;
    this.effects.push({ kind: "switchState", state });
    this.set({ state });
  }
  disconnect(): void {
    if (this.current.rings !== undefined) this.effects.push({ kind: "disconnectRings" });
    this.set({ rings: undefined, ringsMapped: false });
  }
  fatal(err: number, msg: string): void {
    this.disconnect();
    this.effects.push({ kind: "fatal", err, msg });
    this.switchState(XenbusState.Closing);
    this.set({ phase: "closing" });
  }
  done(): BlkbackStep {
    return { state: this.current, effects: this.effects };
  }
}

/** Advance the backend by one event. Never throws; invalid input from the frontend becomes `fatal`. */
export function blkbackReduce(state: BlkbackState, event: BlkbackEvent): BlkbackStep {
  if (state.phase === "removed") return { state, effects: [] };
  const step = new Step(state);
  switch (event.kind) {
    case "probed":
      probed(step);
      break;
    case "vbdOpened":
      step.set({ vbd: event.vbd });
      maybeConnect(step);
      break;
    case "frontendChanged":
      frontendChanged(step, event.state, event.keys);
      break;
    case "ringsMapped":
      if (step.current.phase === "mapping" && step.current.rings !== undefined) {
        step.set({ ringsMapped: true });
        maybeConnect(step);
      }
      break;
    case "ringsMapFailed":
      if (step.current.phase === "mapping") step.fatal(event.err, event.msg);
      break;
    case "onlineChanged":
      onlineChanged(step, event.online);
      break;
    case "resized":
      resized(step, event.sectors);
      break;
  }
  return step.done();
}

function probed(step: Step): void {
  if (step.current.phase !== "new") return;
  const c = step.current.config;
  if (c.maxIndirectSegments > 0)
    step.effects.push({
      kind: "write",
      path: BlkifKey.featureMaxIndirectSegments,
      value: String(c.maxIndirectSegments),
    });
  step.effects.push({ kind: "write", path: BlkifKey.multiQueueMaxQueues, value: String(c.maxQueues) });
  step.effects.push({ kind: "write", path: BlkifKey.maxRingPageOrder, value: String(c.maxRingPageOrder) });
  step.set({ phase: "waitFrontend" });
  step.switchState(XenbusState.InitWait);
}

/** Linux frontend_changed(). */
function frontendChanged(step: Step, raw: number, keys: XenstoreValues): void {
  if (!isXenbusState(raw)) {
    step.fatal(XenErrno.EINVAL, `saw state ${raw} at frontend`);
    return;
  }
  step.set({ frontendState: raw });
  switch (raw) {
    case XenbusState.Initialising:
      if (step.current.state === XenbusState.Closed) {
        // "prepare for reconnect"
        step.set({ phase: "waitFrontend" });
        step.switchState(XenbusState.InitWait);
      }
      return;
    case XenbusState.Initialised:
    case XenbusState.Connected: {
      // Two watches in quick succession: we may miss Initialised and see Connected; connect on either.
      if (step.current.state === XenbusState.Connected) return;
      let rings: NegotiatedRings;
      try {
        rings = readFrontendRings(keys, step.current.config);
      } catch (e) {
        if (e instanceof BlkifKeyError) {
          step.fatal(e.errno, e.message);
          return;
        }
        throw e;
      }
      if (
        step.current.phase === "mapping" &&
        step.current.rings !== undefined &&
        sameRings(step.current.rings, rings)
      )
        return;
      step.disconnect();
      step.effects.push({ kind: "connectRings", ...rings });
      step.set({ rings, ringsMapped: false, phase: "mapping" });
      return;
    }
    case XenbusState.Closing:
      step.switchState(XenbusState.Closing);
      step.set({ phase: "closing" });
      return;
    case XenbusState.Closed:
      step.disconnect();
      step.switchState(XenbusState.Closed);
      step.set({ phase: "closed" });
      if (step.current.online) return;
      unregister(step);
      return;
    case XenbusState.Unknown:
      step.disconnect();
      unregister(step);
      return;
    default:
      step.fatal(XenErrno.EINVAL, `saw state ${raw} at frontend`);
  }
}

function unregister(step: Step): void {
  step.effects.push({ kind: "unregister" });
  step.set({ phase: "removed" });
}

/** Linux xen_update_blkif_status() + connect(): rings mapped and vbd open → publish, Connected. */
function maybeConnect(step: Step): void {
  const { vbd, rings, ringsMapped } = step.current;
  if (
    vbd === undefined ||
    rings === undefined ||
    !ringsMapped ||
    step.current.state === XenbusState.Connected
  )
    return;
  step.effects.push({ kind: "transaction", ops: deviceProperties(vbd, rings, step.current.config) });
  step.switchState(XenbusState.Connected);
  step.set({ phase: "connected" });
}

/** The keys blkback writes at Connected, in one transaction (feature-*, sectors, info, sizes). */
export function deviceProperties(
  vbd: BlkbackVbd,
  rings: NegotiatedRings,
  config: BlkbackConfig,
): XenstoreOp[] {
  const i = vbd.info;
  const w = (path: string, value: string): XenstoreOp => ({ kind: "write", path, value });
  const ops: XenstoreOp[] = [w(BlkifKey.featureFlushCache, bool01(i.flush))];
  if (config.discardEnable !== false) {
    if (i.discard) {
      ops.push(w(BlkifKey.discardGranularity, String(i.discardGranularity)));
      ops.push(w(BlkifKey.discardAlignment, String(i.discardAlignment)));
      if (i.discardSecure) ops.push(w(BlkifKey.discardSecure, "1"));
    }
    ops.push(w(BlkifKey.featureDiscard, bool01(i.discard)));
  }
  ops.push(w(BlkifKey.featureBarrier, bool01(i.flush)));
  ops.push(w(BlkifKey.featurePersistent, bool01(rings.persistent)));
  ops.push(w(BlkifKey.sectors, String(i.sectors)));
  const info =
    (i.readonly ? VDISK_READONLY : 0) |
    (vbd.cdrom === true ? VDISK_CDROM : 0) |
    (vbd.removable === true ? VDISK_REMOVABLE : 0);
  ops.push(w(BlkifKey.info, String(info)));
  ops.push(w(BlkifKey.sectorSize, String(i.sectorSize)));
  ops.push(w(BlkifKey.physicalSectorSize, String(i.physicalSectorSize)));
  return ops;
}

function onlineChanged(step: Step, online: boolean): void {
  step.set({ online });
  if (online) return;
  const fe = step.current.frontendState;
  if (
    step.current.state === XenbusState.Closed ||
    fe === undefined ||
    fe === XenbusState.Closed ||
    fe === XenbusState.Unknown
  ) {
    step.disconnect();
    step.switchState(XenbusState.Closed);
    unregister(step);
    return;
  }
  // The toolstack writes state=Closing too; the frontend answers Closed, then we unregister.
  step.switchState(XenbusState.Closing);
  step.set({ phase: "closing" });
}

function resized(step: Step, sectors: number): void {
  const vbd = step.current.vbd;
  if (vbd === undefined || vbd.info.sectors === sectors) return;
  step.set({ vbd: { ...vbd, info: { ...vbd.info, sectors } } });
  if (step.current.state !== XenbusState.Connected) return;
  // Linux xen_blkbk_resize: sectors and the current state again, in one transaction.
  step.effects.push({
    kind: "transaction",
    ops: [
      { kind: "write", path: BlkifKey.sectors, value: String(sectors) },
      { kind: "write", path: BlkifKey.state, value: String(XenbusState.Connected) },
    ],
  });
}

/**
 * Linux connect_ring(): the frontend's transport parameters, strictly parsed. Throws BlkifKeyError
 * (→ fatal) on an unknown protocol (ENOSYS), a queue count of 0 or above our maximum (ENOSYS), a
 * ring-page-order above our maximum (EINVAL), a missing or malformed ring-ref / event-channel.
 * Presence of `ring-page-order` (even "0") selects ring-ref0..; its absence, the single `ring-ref`.
 */
export function readFrontendRings(keys: XenstoreValues, config: BlkbackConfig): NegotiatedRings {
  const persistent = config.persistent && readFeature(keys, BlkifKey.featurePersistent, false);
  const protocol = keys[BlkifKey.protocol];
  let abi: XenAbi;
  if (protocol === undefined) abi = config.defaultAbi ?? "x86_32";
  else if (protocol === XEN_IO_PROTO_ABI_X86_64) abi = "x86_64";
  else if (protocol === XEN_IO_PROTO_ABI_X86_32) abi = "x86_32";
  else
    throw new BlkifKeyError(BlkifKey.protocol, protocol, XenErrno.ENOSYS, `unknown fe protocol ${protocol}`);

  const nrQueues = readOptional(keys, BlkifKey.multiQueueNumQueues, U32_MAX, 1);
  if (nrQueues === 0 || nrQueues > config.maxQueues)
    throw new BlkifKeyError(
      BlkifKey.multiQueueNumQueues,
      keys[BlkifKey.multiQueueNumQueues],
      XenErrno.ENOSYS,
      `Error reading multi-queue-num-queues (${nrQueues}, max ${config.maxQueues})`,
    );

  let ringPageOrder = 0;
  let multiRef = false;
  const orderText = keys[BlkifKey.ringPageOrder];
  if (orderText !== undefined) {
    ringPageOrder = readRequired(keys, BlkifKey.ringPageOrder, U32_MAX);
    if (ringPageOrder > config.maxRingPageOrder)
      throw new BlkifKeyError(
        BlkifKey.ringPageOrder,
        orderText,
        XenErrno.EINVAL,
        `requested ring page order ${ringPageOrder} exceed max:${config.maxRingPageOrder}`,
      );
    multiRef = true;
  }
  const nrPages = 2 ** ringPageOrder;
  const queues: BlkifQueueRing[] = [];
  for (let q = 0; q < nrQueues; q++) {
    const dir = nrQueues === 1 ? "" : `${queueDir(q)}/`;
    const evtchn = readRequired(keys, `${dir}${BlkifKey.eventChannel}`, U32_MAX);
    const refs: number[] = [];
    for (let i = 0; i < nrPages; i++)
      refs.push(readRequired(keys, `${dir}${multiRef ? ringRefKey(i) : BlkifKey.ringRef}`, U32_MAX));
    queues.push({ refs, evtchn });
  }
  return { abi, ringPageOrder, multiRef, queues, persistent };
}

function sameRings(a: NegotiatedRings, b: NegotiatedRings): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
