// What blkback needs from the hypervisor, the clock and the log, as structural interfaces: the
// XenCtrl of @xensim/xenctrl satisfies BlkbackHypervisor as it is, so this protocol package never
// imports it (STYLE item 1: the shell injects the I/O).
import type { BlockStore } from "@xensim/blkif";
import type { MemView } from "@xensim/memory";
import type { XenbusHypervisor } from "@xensim/xenbus";

/** A registered event receiver (XenCtrl's EvtchnPort / RemoteEvtchnReceiver). */
export interface BlkbackEventReceiver {
  close(): void;
}

/**
 * The hypervisor calls of blkback. Ring mapping, event-channel binding and closing come from
 * XenbusHypervisor; the data path adds grant map/unmap of data pages (the same calls), the kick
 * and the receiver. Results are Xen's: rc 0 / -errno, GNTST_* statuses.
 */
export interface BlkbackHypervisor extends XenbusHypervisor<MemView> {
  /** EVTCHNOP_send (a promise; a call when not in-process). */
  evtchnSend(port: number): Promise<number>;
  /** The synchronous in-process send; used when `inProcess` is true. */
  evtchnNotify?(port: number): number;
  /**
   * Across host processes (XenCtrl.publishWrites): publish what was written through imported
   * views; `barrier` puts it in batches before anything published later.
   */
  publishWrites?(opts?: { barrier?: boolean }): Promise<unknown>;
  /** True when sends and grant maps are atomics on a shared buffer (XenCtrl.inProcess). */
  readonly inProcess?: boolean;
  /** EVTCHNOP_bind_vcpu: deliver `port` to `vcpu` (dom0's services each own a vCPU). */
  evtchnBindVcpu?(port: number, vcpu: number): Promise<number>;
  /** Receive `domid`'s events on `opts.vcpu`: `handler(port)` once per pending edge. */
  waitForEvents(
    domid: number,
    handler: (port: number) => void,
    opts?: { vcpu?: number; onError?: (err: unknown, port: number) => void },
  ): BlkbackEventReceiver;
  /**
   * The host's page store when the hypervisor shares the process: segments of mapped pages are
   * then handed to the block store as zero-copy byte ranges of `u8` (`view.frames` gives the frame).
   * Without it every segment goes through a bounce buffer and `MemView.read/write`.
   */
  readonly store?: { readonly u8: Uint8Array } | undefined;
}

/** Opens the storage named by the backend's `params` (read-only when `mode` is "r"). */
export type BlkbackStoreOpener = (params: string, mode: "r" | "w") => Promise<BlockStore>;

/** A pino-compatible logger (child loggers bound to {domid, devid, queue}). */
export interface BlkbackLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child?(bindings: Record<string, unknown>): BlkbackLogger;
}

/** A logger that drops everything. */
export const NULL_LOGGER: BlkbackLogger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
});

/** Monotonic milliseconds (performance.now in the service, a virtual clock in tests). */
export type BlkbackClock = () => number;

export function childLogger(log: BlkbackLogger, bindings: Record<string, unknown>): BlkbackLogger {
  return log.child ? log.child(bindings) : log;
}
