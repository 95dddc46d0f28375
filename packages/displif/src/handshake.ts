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
  constructor(public s: S) {}
  set(patch: Partial<S>): void {
    this.s = { ...this.s, ...patch };
  }
  switchState(state: XenbusState): void {
    if (this.s.state === state) return;
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
    if (this.s.phase === "connected") this.effects.push({ kind: "disconnected" });
    this.effects.push({ kind: "fatal", err, msg });
    this.switchState(XenbusState.Closing);
    this.set({ phase: "closed", pendingConnect: false });
  }
  freeChannels(): void {
    if (this.s.channels === undefined) return;
    this.effects.push({ kind: "freeChannels" });
    this.set({ channels: undefined });
  }
}

/** Advance the frontend by one event. Never throws on bad values: they become `fatal`. */
export function displfrontReduce(state: DisplfrontState, event: DisplfrontEvent): DisplfrontStep {
  const st = new FrontStep(state);
  try {
    switch (event.kind) {
      case "backendChanged":
        backendChanged(st, event.state, event.backendKeys, event.frontendKeys);
        break;
      case "channelsAllocated":
        channelsAllocated(st, event.channels);
        break;
      case "channelsAllocFailed":
        if (st.s.phase === "allocating") st.fatal(event.err, event.msg);
        break;
      case "deviceReleased":
        if (st.s.phase === "reconfiguring") {
          st.freeChannels();
          st.set({ phase: "idle", connection: undefined, pendingConnect: false });
          st.switchState(XenbusState.Initialising);
          if (st.s.backendState === XenbusState.InitWait) talk(st);
        }
        break;
      case "closeRequested":
        if (st.s.phase === "connected") st.effects.push({ kind: "disconnected" });
        if (st.s.state !== XenbusState.Closing && st.s.state !== XenbusState.Closed) {
          st.set({ phase: "closed", pendingConnect: false });
          st.switchState(XenbusState.Closing);
        }
        break;
    }
  } catch (e) {
    if (!(e instanceof DisplifKeyError)) throw e;
    st.fatal(e.errno, e.message);
  }
  return { state: st.s, effects: st.effects as DisplfrontEffect[] };
}

function backendFault(st: FrontStep): void {
  if (st.s.phase === "connected") {
    st.effects.push({ kind: "disconnected" });
    st.set({ phase: "reconfiguring", pendingConnect: false });
    st.switchState(XenbusState.Reconfiguring);
    return;
  }
  if (st.s.phase === "allocating" || st.s.phase === "initialised") {
    // Nothing was used yet: start over at once (the channels are freed once allocation answers).
    st.freeChannels();
    st.set({ phase: "idle", connection: undefined, pendingConnect: false });
    st.switchState(XenbusState.Initialising);
  }
}

function backendChanged(
  st: FrontStep,
  raw: number,
  backendKeys: XenstoreValues,
  frontendKeys: XenstoreValues,
): void {
  if (!isXenbusState(raw)) return;
  const prev = st.s.backendState;
  st.set({ backendState: raw, backendKeys, frontendKeys });
  switch (raw) {
    case XenbusState.InitWait:
      if (st.s.phase === "idle" && st.s.state === XenbusState.Initialising) talk(st);
      // A backend that re-probes while we use the device restarted: that is a fault.
      else if (prev !== XenbusState.InitWait && st.s.phase === "connected") backendFault(st);
      else if (st.s.phase === "initialised" && prev === XenbusState.Connected) backendFault(st);
      return;
    case XenbusState.Connected:
      if (st.s.state === XenbusState.Initialised && st.s.phase === "initialised") connect(st);
      else if (st.s.phase === "allocating") st.set({ pendingConnect: true });
      return;
    case XenbusState.Closing:
    case XenbusState.Closed:
    case XenbusState.Unknown:
      if (st.s.phase === "closed") {
        // We asked to close: the backend's Closing lets us go Closed (it then unmaps and goes
        // Closed itself, after which our grants can be ended).
        if (raw !== XenbusState.Closing) st.freeChannels();
        st.switchState(XenbusState.Closed);
        return;
      }
      backendFault(st);
      return;
    default:
      return;
  }
}

/** Linux displback_initwait: read the configuration, agree the version, ask for channels. */
function talk(st: FrontStep): void {
  const offered = parseVersions(st.s.backendKeys[XENDISPL_FIELD_BE_VERSIONS]);
  const version = negotiateVersion(offered, st.s.versions);
  if (version === undefined) {
    st.fatal(XenErrno.EOPNOTSUPP, `no common displif version (backend offers ${offered.join(",")})`);
    return;
  }
  const connectors = readConnectors(st.s.frontendKeys);
  const beAlloc = parseBeAlloc(st.s.frontendKeys[DisplifKey.beAlloc]);
  st.set({
    version,
    phase: "allocating",
    connection: { version, beAlloc, connectors, channels: [] },
    pendingConnect: false,
  });
  st.effects.push({ kind: "allocChannels", nrConnectors: connectors.length });
}

function channelsAllocated(st: FrontStep, channels: readonly ConnectorChannels[]): void {
  if (st.s.phase !== "allocating") {
    // Allocation answered after a fault restarted the handshake: give these back.
    st.set({ channels });
    st.freeChannels();
    if (st.s.phase === "idle" && st.s.backendState === XenbusState.InitWait) talk(st);
    return;
  }
  const conn = st.s.connection!;
  if (channels.length !== conn.connectors.length) {
    st.set({ channels });
    st.freeChannels();
    st.fatal(
      XenErrno.EINVAL,
      `allocated ${channels.length} channels for ${conn.connectors.length} connectors`,
    );
    return;
  }
  st.effects.push({ kind: "transaction", ops: transportKeys(conn.version, channels) });
  st.set({ channels, phase: "initialised", connection: { ...conn, channels } });
  st.switchState(XenbusState.Initialised);
  if (st.s.pendingConnect || st.s.backendState === XenbusState.Connected) connect(st);
}

function connect(st: FrontStep): void {
  st.set({ phase: "connected", pendingConnect: false });
  st.effects.push({ kind: "connected", connection: st.s.connection! });
  st.switchState(XenbusState.Connected);
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
    if (!this.s.mapped) return;
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
    this.effects.push({ kind: "write", path: DisplifKey.versions, value: this.s.versions.join(",") });
    this.set({ phase: "initwait", connection: undefined });
    this.switchState(XenbusState.InitWait);
  }
}

export function displbackReduce(state: DisplbackState, event: DisplbackEvent): DisplbackStep {
  const st = new BackStep(state);
  try {
    switch (event.kind) {
      case "probed":
        if (st.s.phase === "created") st.initWait();
        break;
      case "frontendChanged":
        frontendChanged(st, event.state, event.frontendKeys);
        break;
      case "channelsMapped":
        if (st.s.phase === "mapping") {
          st.set({ phase: "connected" });
          st.effects.push({ kind: "connected", connection: st.s.connection! });
          st.switchState(XenbusState.Connected);
        }
        break;
      case "channelsMapFailed":
        if (st.s.phase === "mapping") st.fatal(event.err, event.msg);
        break;
    }
  } catch (e) {
    if (!(e instanceof DisplifKeyError)) throw e;
    st.fatal(e.errno, e.message);
  }
  return { state: st.s, effects: st.effects as DisplbackEffect[] };
}

function frontendChanged(st: BackStep, raw: number, keys: XenstoreValues): void {
  if (!isXenbusState(raw)) return;
  st.set({ frontendState: raw });
  switch (raw) {
    case XenbusState.Initialised:
      if (st.s.phase === "initwait") readConnection(st, keys);
      return;
    case XenbusState.Initialising:
      // The frontend starts over (after a fault on its side, or a reconnect after Closed).
      if (st.s.phase === "closed" || st.s.phase === "closing" || st.s.phase === "connected") {
        st.unmap();
        st.initWait();
      }
      return;
    case XenbusState.Closing:
      if (st.s.phase === "closed") return;
      st.unmap();
      st.set({ phase: "closing", connection: undefined });
      st.switchState(XenbusState.Closing);
      return;
    case XenbusState.Closed:
    case XenbusState.Unknown:
      st.unmap();
      st.set({ phase: "closed", connection: undefined });
      st.switchState(XenbusState.Closed);
      return;
    case XenbusState.Reconfiguring:
      // The frontend saw a fault of ours; it releases the device and comes back via Initialising.
      if (st.s.phase === "connected" || st.s.phase === "mapping") {
        st.unmap();
        st.initWait();
      }
      return;
    default:
      return;
  }
}

function readConnection(st: BackStep, keys: XenstoreValues): void {
  const version = parseU32(DisplifKey.version, keys[DisplifKey.version])!;
  if (!st.s.versions.includes(version))
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
  st.set({ phase: "mapping", connection, mapped: true });
  st.effects.push({ kind: "mapChannels", connection });
}
