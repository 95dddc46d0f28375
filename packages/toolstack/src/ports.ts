// What the toolstack is given: xenstore (XenstoreClient as dom0 satisfies it), the hypervisor
// (XenCtrl as dom0), optionally a guest runtime (a Guest gRPC client), a clock and a logger.
import type { XenbusStore } from "@xensim/xenbus";

export interface ToolstackStore extends XenbusStore {
  introduceDomain(domid: number, mfn: number, port: number): Promise<void>;
  releaseDomain(domid: number): Promise<void>;
}

export interface ToolstackDomainInfo {
  domid: number;
  state: "running" | "paused" | "shutdown" | "dying" | "dead" | "unknown";
  shutdownReason: number;
  vcpus: number;
  hvm: boolean;
  privileged: boolean;
  memoryMib: number;
}

/** The libxc calls the flows make (rc 0 / -errno as Xen). */
export interface ToolstackHypervisor {
  domainCreate(o: {
    memoryMib: number;
    vcpus?: number;
    hvm?: boolean;
    /** The host process the domain's kernel runs in (DomainCreate.home_host); absent = the hypervisor's. */
    homeHost?: string;
  }): Promise<{ rc: number; domid: number }>;
  domainPause(domid: number): Promise<number>;
  domainUnpause(domid: number): Promise<number>;
  domainShutdown(domid: number, reason: number): Promise<number>;
  domainDestroy(domid: number): Promise<number>;
  domainSoftReset(domid: number): Promise<number>;
  domainList(): Promise<{ rc: number; domains: ToolstackDomainInfo[] }>;
  domainInfo(domid: number): Promise<{ rc: number; info: ToolstackDomainInfo | undefined }>;
  hvmParamSet(domid: number, index: number, value: bigint | number): Promise<number>;
  evtchnAllocUnbound(dom: number, remoteDom: number): Promise<{ rc: number; port: number }>;
  /** For an interdomain port: `port` is the peer's port; `vcpu` the vCPU it notifies. */
  evtchnStatus(
    dom: number,
    port: number,
  ): Promise<{ rc: number; status: number; port: number; vcpu: number }>;
}

/** One disk as the guest runtime reports it (proto xensim.guest.v1 DiskStatus). */
export interface GuestDiskStatus {
  vdev: string;
  devid: number;
  state: string;
  ringPages: number;
  queues: number;
  persistent: boolean;
  indirectSegments: number;
  sectors: number;
  readonly: boolean;
  nbdUri: string;
}

export interface GuestStatus {
  domid: number;
  name: string;
  state: string;
  disks: GuestDiskStatus[];
  error: string;
}

/** A guest runtime (proto xensim.guest.v1 Guest). */
export interface GuestRuntime {
  boot(domid: number, name: string): Promise<{ rc: number; error: string }>;
  halt(domid: number): Promise<number>;
  list(): Promise<GuestStatus[]>;
}

export interface ToolstackClock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Wall-clock seconds since the epoch (start_time). */
  wallSeconds(): number;
  sleep(ms: number): Promise<void>;
}

/**
 * Spans around the flows and their steps (OpenTelemetry in the service; absent = none). `inSpan`
 * runs `fn` as the current span's child and ends the span with the outcome.
 */
export interface ToolstackSpans {
  inSpan<T>(name: string, attributes: Record<string, string | number>, fn: () => Promise<T>): Promise<T>;
}

/** pino-compatible. */
export interface ToolstackLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Thrown by the flows: `code` names the failure class (HTTP maps it to a status). */
export class ToolstackError extends Error {
  override readonly name = "ToolstackError";
  constructor(
    readonly code: "EINVAL" | "ENOENT" | "EEXIST" | "ENOMEM" | "ETIMEDOUT" | "EIO" | "EBUSY" | "EOPNOTSUPP",
    message: string,
  ) {
    super(message);
  }
}
