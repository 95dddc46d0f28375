// What the device model's service thread and its ioreq thread (ioreq-thread.ts) exchange.
import type { MessagePort } from "node:worker_threads";
import type { EmulatorHandover, EmulatorRole, IrqLine } from "@xensim/devicemodel";
import type { TraceRecord } from "@xensim/trace";
import type { LinkPrincipal } from "@xensim/security";

/** Words of the control array the service and the thread share. */
export const CTL = Object.freeze({
  /** 1: leave the loop. */
  stop: 0,
  /** The trace mask the thread applies (TRACE_IOREQ or 0). */
  traceMask: 1,
  /** 1: the service waits for console output (the thread posts `tx` once, then clears it). */
  txWanted: 2,
  /** Synchronous requests answered, buffered requests handled (wrapping counters). */
  synchronous: 3,
  buffered: 4,
  /** 1: messages are waiting (set before the doorbell, cleared by the thread before it reads them). */
  mail: 5,
  words: 6,
} as const);

export interface IoreqThreadData {
  sab: SharedArrayBuffer;
  /** Our domain (dom0) and the vCPU our ports are bound to. */
  domid: number;
  vcpu: number;
  slowScanMs: number;
  ctl: Int32Array;
  port: MessagePort;
  /**
   * The hypervisor in another host process: our events arrive in this host's shadow shared_info
   * (`shadowFrame`, where the link thread delivers them and wakes our vCPU's word), kicks are SEND
   * records on this host's link, guest pages are mapped over it (a blocking mapcache).
   */
  remote?: { hypervisorHost: string; shadowFrame: number; linkTimeoutMs: number };
  /** The service's link principal: this thread's foreign maps over the link name the device model. */
  linkPrincipal?: LinkPrincipal;
}

export type ThreadRequest =
  | {
      kind: "add";
      id: number;
      key: string;
      role: EmulatorRole;
      handover: EmulatorHandover;
      state: Uint8Array;
    }
  | { kind: "remove"; id: number; key: string }
  | { kind: "save"; id: number; key: string }
  | { kind: "reset"; id: number; key: string }
  | { kind: "vgaText"; id: number; domid: number }
  | { kind: "output"; id: number; domid: number; serial: number; offset: number }
  | { kind: "input"; id: number; domid: number; serial: number; data: Uint8Array }
  | { kind: "list"; id: number };

export interface EmulatorFigures {
  synchronous: number;
  buffered: number;
  pciConfig: number;
  unhandled: number;
  serials: number;
  framebufferHash: string;
}

export type ThreadMessage =
  | { kind: "reply"; id: number; ok: boolean; error?: string; value?: unknown }
  /** An emulated device's interrupt line changed (the service issues the dm_op). */
  | { kind: "irq"; domid: number; line: IrqLine; level: 0 | 1 }
  | { kind: "tx" }
  | { kind: "trace"; record: TraceRecord }
  | { kind: "warn"; message: string; domid?: number };
