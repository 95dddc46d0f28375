// The toolstack's options, state and the JSON shapes its API returns.
import type { DomainConfig, XlAction } from "@xensim/xlcfg";
import type { DeviceModelRuntime } from "./device-model.js";
import type {
  GuestRuntime,
  ToolstackClock,
  ToolstackHypervisor,
  ToolstackLogger,
  ToolstackSpans,
  ToolstackStore,
} from "./ports.js";

export interface ToolstackOptions {
  xs: ToolstackStore;
  hv: ToolstackHypervisor;
  /** The guest runtime; absent = domains are built and unpaused with no kernel. */
  guest?: GuestRuntime;
  /**
   * The guest runtime's host id when it runs in another host process than the hypervisor: domains it
   * boots are created homed there (DomainCreate.home_host), so their memory and vCPU events live in
   * that host. Absent = the hypervisor's host.
   */
  guestHost?: string;
  clock: ToolstackClock;
  log: ToolstackLogger;
  /** A fresh RFC 4122 uuid (injected randomness). */
  newUuid: () => string;
  /** Memory the host has for domains, MiB (dom0 included in the sum). */
  hostMemoryMib: number;
  /** Backends reaching InitWait after create/attach (default 10 s). */
  backendTimeoutMs?: number;
  /** Frontends reaching Connected after attach when a guest runtime runs the domain (default 10 s). */
  frontendTimeoutMs?: number;
  /** The guest acting on control/shutdown (default 10 s). */
  shutdownTimeoutMs?: number;
  /** The closing handshake of a detach before forcing (default 10 s). */
  detachTimeoutMs?: number;
  /** The closing handshake of each device during destroy before forcing (default 2 s). */
  destroyDeviceTimeoutMs?: number;
  /** A destroyed domain disappearing from the domain list (default 10 s). */
  reapTimeoutMs?: number;
  /** Poll period of the waits on what xenstore does not show (default 20 ms). */
  pollMs?: number;
  /** Re-check period of the waits on xenstore watches, in case an event is lost (default 200 ms). */
  watchFallbackMs?: number;
  /** Spans of the flows and their steps (OpenTelemetry); absent = none. */
  spans?: ToolstackSpans;
  /** The device-model runtime: HVM domains get their emulators there (absent = none). */
  deviceModel?: DeviceModelRuntime;
  /** libxl's XEN_LIB_DIR, where a soft reset keeps qemu-save.<domid> (default /var/lib/xen). */
  libDir?: string;
  /** The device model reaching "running" (default 10 s). */
  deviceModelTimeoutMs?: number;
}

export interface ManagedDomain {
  domid: number;
  uuid: string;
  config: DomainConfig;
  /** clock.now() at creation. */
  createdAtMs: number;
  /** Set while an on_* action or a destroy is working on it. */
  busy: boolean;
  /** on_*=preserve left it shut down. */
  preserved: boolean;
  /** Booted on the guest runtime. */
  booted: boolean;
}

export interface DomainSummary {
  name: string;
  id: number;
  memMib: number;
  vcpus: number;
  /** xl list's six state letters, e.g. "r-----", "--p---", "---s--". */
  state: string;
  /** Seconds since creation (what this toolstack knows; 0 for domains it did not create). */
  time: number;
  uuid: string | undefined;
  type: "pv" | "hvm";
  shutdownReason: string | undefined;
}

export interface DiskSummary {
  vdev: string;
  devid: number;
  backendDomid: number;
  backendState: string;
  frontendState: string;
  params: string;
  mode: string;
  ringPages: number;
  queues: number;
  features: Record<string, string>;
  sectors: number | undefined;
  nbdUri: string | undefined;
}

/** A domain a restart lost (xenstore had it, the hypervisor did not), and what was done. */
export interface RecoveryRecord {
  domid: number;
  name: string;
  outcome: "cleaned" | "failed";
  error?: string;
}

export interface ActionRecord {
  domid: number;
  reason: string;
  action: XlAction | "none";
  /** restart: the new domain. */
  newDomid?: number;
  outcome: "ok" | "failed";
  error?: string;
  atMs: number;
}

/** A domain whose saved config survived in xenstore but that the hypervisor no longer knows. */
export interface LostDomain {
  domid: number;
  uuid: string;
  config: DomainConfig;
}

/** The options with their defaults filled in. */
export type ResolvedToolstackOptions = Required<Omit<ToolstackOptions, "guest" | "deviceModel" | "spans">> & {
  guest: GuestRuntime | undefined;
  deviceModel: DeviceModelRuntime | undefined;
  spans?: ToolstackSpans;
};

/** The toolstack's state the flows work on (the Toolstack class holds it and delegates to them). */
export interface ToolstackContext {
  readonly options: ResolvedToolstackOptions;
  /** The domains this toolstack manages (created or recovered, not yet destroyed). */
  readonly managed: Map<number, ManagedDomain>;
  /** Domains `recover` found lost with the hypervisor, for `recoverLost`. */
  readonly lost: LostDomain[];
  /** What the on_* handling did, newest last (bounded). */
  readonly actions: ActionRecord[];
  /** What the last start found: domains re-adopted (still running) and cleaned away (lost). */
  readonly recovery: { adopted: number[]; cleaned: RecoveryRecord[] };
  /** xl's domain-creation lock: one create at a time, so validation sees every earlier domain. */
  createLock: Promise<unknown>;
}
