// The displif handshakes of both ends as pure reducers (fact sheet §3 and §8; Linux
// drm/xen-front's displback_changed and the displ_be backend's frontend-changed handling).
// Handlers are named after what changed. Effects are data the driver layer executes in order.
//
// Frontend: backend InitWait → read `versions`, pick the highest common version, read the
// connectors the toolstack configured (`<idx>/resolution`, `<idx>/unique-id`) and `be-alloc`, ask
// for a request ring + event page + two event channels per connector (allocChannels), publish them
// with `version` in one transaction → Initialised; backend Connected → Connected. A backend fault
// (Closing, Closed, gone, or re-probing into InitWait while we are connected) parks the frontend in
// Reconfiguring until the driver says the display is unused (deviceReleased), then Initialising.
//
// Backend: probe → `versions` → InitWait; frontend Initialised → read and check version, connectors
// and transport, map every connector's ring and event page (mapChannels) → Connected; frontend
// Closing → Closing; Closed → unmap, Closed; Initialising after Closed → InitWait again.

import { XenbusState, XenErrno, XENDISPL_FIELD_BE_VERSIONS } from "@xensim/abi";
import {
  type ConnectorChannels,
  type DisplifConnection,
  DisplifKey,
  DisplifKeyError,
  negotiateVersion,
  parseBeAlloc,
  parseU32,
  parseVersions,
  readChannels,
  readConnectors,
  transportKeys,
  type XenstoreOp,
  type XenstoreValues,
} from "./keys.js";

export type DisplifCommonEffect =
  | XenstoreOp
  /** Run these in one xenstore transaction, retried whole on EAGAIN. */
  | { readonly kind: "transaction"; readonly ops: readonly XenstoreOp[] }
  /** xenbus_switch_state (only emitted when it changes). */
  | { readonly kind: "switchState"; readonly state: XenbusState }
  /** xenbus_dev_fatal: the `error` node ("<errno> <msg>"); the reducer switches to Closing itself. */
  | { readonly kind: "fatal"; readonly err: number; readonly msg: string };

function isXenbusState(n: number): n is XenbusState {
  return Number.isInteger(n) && n >= XenbusState.Unknown && n <= XenbusState.Reconfigured;
}

/** Protocol versions this code speaks ("1" has no GET_EDID; "2" is XENDISPL_PROTOCOL_VERSION). */
export const DISPLIF_VERSIONS: readonly number[] = Object.freeze([1, 2]);

class StepBase<S extends { readonly state: XenbusState }, E> {
  readonly effects: (E | DisplifCommonEffect)[] = [];
  constructor(public current: S) {}
  set(patch: Partial<S>): void {
    this.current = { ...this.current, ...patch };
  }
  switchState(state: XenbusState): void {
    if (this.current.state === state) return;
    this.effects.push({ kind: "switchState", state });
    this.set({ state } as Partial<S>);
  }
}

// ---- frontend ------------------------------------------------------------------------------------

export type DisplfrontPhase =
  "idle" | "allocating" | "initialised" | "connected" | "reconfiguring" | "closed";

export interface DisplfrontState {
  readonly state: XenbusState;
  readonly phase: DisplfrontPhase;
  readonly versions: readonly number[];
  readonly backendState: XenbusState | undefined;
  readonly backendKeys: XenstoreValues;
  readonly frontendKeys: XenstoreValues;
  /** Agreed at talk time. */
  readonly version: number | undefined;
  readonly connection: DisplifConnection | undefined;
  /** Allocated and published channels (held until freeChannels). */
  readonly channels: readonly ConnectorChannels[] | undefined;
  /** Backend Connected seen while allocating: connect right after Initialised. */
  readonly pendingConnect: boolean;
}

export type DisplfrontEvent =
  /** The backend's `state` changed; keys: its directory and ours (relative paths), as read then. */
  | {
      readonly kind: "backendChanged";
      readonly state: number;
      readonly backendKeys: XenstoreValues;
      readonly frontendKeys: XenstoreValues;
    }
  | { readonly kind: "channelsAllocated"; readonly channels: readonly ConnectorChannels[] }
  | { readonly kind: "channelsAllocFailed"; readonly err: number; readonly msg: string }
  /** After a backend fault: every buffer of the old connection is gone (Reconfiguring → Initialising). */
  | { readonly kind: "deviceReleased" }
  | { readonly kind: "closeRequested" };

export type DisplfrontEffect =
  | DisplifCommonEffect
  /** Per connector: a request ring page and an event page, granted, and two event channels. */
  | { readonly kind: "allocChannels"; readonly nrConnectors: number }
  /** End the ring/event-page grants and close the channels. */
  | { readonly kind: "freeChannels" }
  | { readonly kind: "connected"; readonly connection: DisplifConnection }
  /** Stop using the device: fail outstanding requests, release buffers, then send deviceReleased. */
  | { readonly kind: "disconnected" };

export interface DisplfrontStep {
  readonly state: DisplfrontState;
  readonly effects: readonly DisplfrontEffect[];
}

export function initialDisplfrontState(versions: readonly number[] = DISPLIF_VERSIONS): DisplfrontState {
  return {
    state: XenbusState.Initialising,
    phase: "idle",
    versions,
    backendState: undefined,
    backendKeys: {},
    frontendKeys: {},
    version: undefined,
    connection: undefined,
    channels: undefined,
    pendingConnect: false,
  };
}

class FrontStep extends StepBase<DisplfrontState, DisplfrontEffect> {
  fatal(err: number, msg: string): void {
    if (this.current.phase === "connected") this.effects.push({ kind: "disconnected" });
    this.effects.push({ kind: "fatal", err, msg });
    this.switchState(XenbusState.Closing);
    this.set({ phase: "closed", pendingConnect: false });
  }
  freeChannels(): void {
    if (this.current.channels === undefined) return;
    this.effects.push({ kind: "freeChannels" });
    this.set({ channels: undefined });
  }
}

/** Advance the frontend by one event. Never throws on bad values: they become `fatal`. */
export function displfrontReduce(state: DisplfrontState, event: DisplfrontEvent): DisplfrontStep {
  const step = new FrontStep(state);
  try {
    switch (event.kind) {
      case "backendChanged":
        backendChanged(step, event.state, event.backendKeys, event.frontendKeys);
        break;
      case "channelsAllocated":
        channelsAllocated(step, event.channels);
        break;
      case "channelsAllocFailed":
        if (step.current.phase === "allocating") step.fatal(event.err, event.msg);
        break;
      case "deviceReleased":
        if (step.current.phase === "reconfiguring") {
          step.freeChannels();
          step.set({ phase: "idle", connection: undefined, pendingConnect: false });
          step.switchState(XenbusState.Initialising);
          if (step.current.backendState === XenbusState.InitWait) talk(step);
        }
        break;
      case "closeRequested":
        if (step.current.phase === "connected") step.effects.push({ kind: "disconnected" });
        if (step.current.state !== XenbusState.Closing && step.current.state !== XenbusState.Closed) {
          step.set({ phase: "closed", pendingConnect: false });
          step.switchState(XenbusState.Closing);
        }
        break;
    }
  } catch (e) {
    if (!(e instanceof DisplifKeyError)) throw e;
    step.fatal(e.errno, e.message);
  }
  return { state: step.current, effects: step.effects as DisplfrontEffect[] };
}

function backendFault(step: FrontStep): void {
  if (step.current.phase === "connected") {
    step.effects.push({ kind: "disconnected" });
    step.set({ phase: "reconfiguring", pendingConnect: false });
    step.switchState(XenbusState.Reconfiguring);
    return;
  }
  if (step.current.phase === "allocating" || step.current.phase === "initialised") {
    // Nothing was used yet: start over at once (the channels are freed once allocation answers).
    step.freeChannels();
    step.set({ phase: "idle", connection: undefined, pendingConnect: false });
    step.switchState(XenbusState.Initialising);
  }
}

function backendChanged(
  step: FrontStep,
  raw: number,
  backendKeys: XenstoreValues,
  frontendKeys: XenstoreValues,
): void {
  if (!isXenbusState(raw)) return;
  const prev = step.current.backendState;
  step.set({ backendState: raw, backendKeys, frontendKeys });
  switch (raw) {
    case XenbusState.InitWait:
      if (step.current.phase === "idle" && step.current.state === XenbusState.Initialising) talk(step);
      // A backend that re-probes while we use the device restarted: that is a fault.
      else if (prev !== XenbusState.InitWait && step.current.phase === "connected") backendFault(step);
      else if (step.current.phase === "initialised" && prev === XenbusState.Connected) backendFault(step);
      return;
    case XenbusState.Connected:
      if (step.current.state === XenbusState.Initialised && step.current.phase === "initialised")
        connect(step);
      else if (step.current.phase === "allocating") step.set({ pendingConnect: true });
      return;
    case XenbusState.Closing:
    case XenbusState.Closed:
    case XenbusState.Unknown:
      if (step.current.phase === "closed") {
        // We asked to close: the backend's Closing lets us go Closed (it then unmaps and goes
        // Closed itself, after which our grants can be ended).
        if (raw !== XenbusState.Closing) step.freeChannels();
        step.switchState(XenbusState.Closed);
        return;
      }
      backendFault(step);
      return;
    default:
      return;
  }
}

/** Linux displback_initwait: read the configuration, agree the version, ask for channels. */
function talk(step: FrontStep): void {
  const offered = parseVersions(step.current.backendKeys[XENDISPL_FIELD_BE_VERSIONS]);
  const version = negotiateVersion(offered, step.current.versions);
  if (version === undefined) {
    step.fatal(XenErrno.EOPNOTSUPP, `no common displif version (backend offers ${offered.join(",")})`);
    return;
  }
  const connectors = readConnectors(step.current.frontendKeys);
  const beAlloc = parseBeAlloc(step.current.frontendKeys[DisplifKey.beAlloc]);
  step.set({
    version,
    phase: "allocating",
    connection: { version, beAlloc, connectors, channels: [] },
    pendingConnect: false,
  });
  step.effects.push({ kind: "allocChannels", nrConnectors: connectors.length });
}

function channelsAllocated(step: FrontStep, channels: readonly ConnectorChannels[]): void {
  if (step.current.phase !== "allocating") {
    // Allocation answered after a fault restarted the handshake: give these back.
    step.set({ channels });
    step.freeChannels();
    if (step.current.phase === "idle" && step.current.backendState === XenbusState.InitWait) talk(step);
    return;
  }
  const conn = step.current.connection!;
  if (channels.length !== conn.connectors.length) {
    step.set({ channels });
    step.freeChannels();
    step.fatal(
      XenErrno.EINVAL,
      `allocated ${channels.length} channels for ${conn.connectors.length} connectors`,
    );
    return;
  }
  step.effects.push({ kind: "transaction", ops: transportKeys(conn.version, channels) });
  step.set({ channels, phase: "initialised", connection: { ...conn, channels } });
  step.switchState(XenbusState.Initialised);
  if (step.current.pendingConnect || step.current.backendState === XenbusState.Connected) connect(step);
}

function connect(step: FrontStep): void {
  step.set({ phase: "connected", pendingConnect: false });
  step.effects.push({ kind: "connected", connection: step.current.connection! });
  step.switchState(XenbusState.Connected);
}

// ---- backend -------------------------------------------------------------------------------------

export type DisplbackPhase = "created" | "initwait" | "mapping" | "connected" | "closing" | "closed";

export interface DisplbackState {
  readonly state: XenbusState;
  readonly phase: DisplbackPhase;
  readonly versions: readonly number[];
  readonly frontendState: XenbusState | undefined;
  readonly connection: DisplifConnection | undefined;
  /** The channels are mapped (unmapChannels owed). */
  readonly mapped: boolean;
}

export type DisplbackEvent =
  /** The device was found (XenbusProbe): advertise versions, → InitWait. */
  | { readonly kind: "probed" }
  | { readonly kind: "frontendChanged"; readonly state: number; readonly frontendKeys: XenstoreValues }
  | { readonly kind: "channelsMapped" }
  | { readonly kind: "channelsMapFailed"; readonly err: number; readonly msg: string };

export type DisplbackEffect =
  | DisplifCommonEffect
  /** Map each connector's request ring and event page, bind both event channels. */
  | { readonly kind: "mapChannels"; readonly connection: DisplifConnection }
  /** Destroy every buffer and framebuffer of the device, unmap the channels, unbind. */
  | { readonly kind: "unmapChannels" }
  | { readonly kind: "connected"; readonly connection: DisplifConnection };

export interface DisplbackStep {
  readonly state: DisplbackState;
  readonly effects: readonly DisplbackEffect[];
}

export function initialDisplbackState(versions: readonly number[] = DISPLIF_VERSIONS): DisplbackState {
  return {
    state: XenbusState.Initialising,
    phase: "created",
    versions,
    frontendState: undefined,
    connection: undefined,
    mapped: false,
  };
}

class BackStep extends StepBase<DisplbackState, DisplbackEffect> {
  unmap(): void {
    if (!this.current.mapped) return;
    this.effects.push({ kind: "unmapChannels" });
    this.set({ mapped: false });
  }
  fatal(err: number, msg: string): void {
    this.unmap();
    this.effects.push({ kind: "fatal", err, msg });
    this.switchState(XenbusState.Closing);
    this.set({ phase: "closing", connection: undefined });
  }
  initWait(): void {
    this.effects.push({ kind: "write", path: DisplifKey.versions, value: this.current.versions.join(",") });
    this.set({ phase: "initwait", connection: undefined });
    this.switchState(XenbusState.InitWait);
  }
}

export function displbackReduce(state: DisplbackState, event: DisplbackEvent): DisplbackStep {
  const step = new BackStep(state);
  try {
    switch (event.kind) {
      case "probed":
        if (step.current.phase === "created") step.initWait();
        break;
      case "frontendChanged":
        frontendChanged(step, event.state, event.frontendKeys);
        break;
      case "channelsMapped":
        if (step.current.phase === "mapping") {
          step.set({ phase: "connected" });
          step.effects.push({ kind: "connected", connection: step.current.connection! });
          step.switchState(XenbusState.Connected);
        }
        break;
      case "channelsMapFailed":
        if (step.current.phase === "mapping") step.fatal(event.err, event.msg);
        break;
    }
  } catch (e) {
    if (!(e instanceof DisplifKeyError)) throw e;
    step.fatal(e.errno, e.message);
  }
  return { state: step.current, effects: step.effects as DisplbackEffect[] };
}

function frontendChanged(step: BackStep, raw: number, keys: XenstoreValues): void {
  if (!isXenbusState(raw)) return;
  step.set({ frontendState: raw });
  switch (raw) {
    case XenbusState.Initialised:
      if (step.current.phase === "initwait") readConnection(step, keys);
      return;
    case XenbusState.Initialising:
      // The frontend starts over (after a fault on its side, or a reconnect after Closed).
      if (
        step.current.phase === "closed" ||
        step.current.phase === "closing" ||
        step.current.phase === "connected"
      ) {
        step.unmap();
        step.initWait();
      }
      return;
    case XenbusState.Closing:
      if (step.current.phase === "closed") return;
      step.unmap();
      step.set({ phase: "closing", connection: undefined });
      step.switchState(XenbusState.Closing);
      return;
    case XenbusState.Closed:
    case XenbusState.Unknown:
      step.unmap();
      step.set({ phase: "closed", connection: undefined });
      step.switchState(XenbusState.Closed);
      return;
    case XenbusState.Reconfiguring:
      // The frontend saw a fault of ours; it releases the device and comes back via Initialising.
      if (step.current.phase === "connected" || step.current.phase === "mapping") {
        step.unmap();
        step.initWait();
      }
      return;
    default:
      return;
  }
}

function readConnection(step: BackStep, keys: XenstoreValues): void {
  const version = parseU32(DisplifKey.version, keys[DisplifKey.version])!;
  if (!step.current.versions.includes(version))
    throw new DisplifKeyError(
      DisplifKey.version,
      String(version),
      XenErrno.EINVAL,
      `version ${version} not offered`,
    );
  const connectors = readConnectors(keys);
  const beAlloc = parseBeAlloc(keys[DisplifKey.beAlloc]);
  const channels = readChannels(keys, connectors.length);
  const connection: DisplifConnection = { version, beAlloc, connectors, channels };
  step.set({ phase: "mapping", connection, mapped: true });
  step.effects.push({ kind: "mapChannels", connection });
}
