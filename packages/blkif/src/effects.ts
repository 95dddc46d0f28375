// Effects the handshake reducers return: data for a driver layer to execute in order.
// Paths are relative to the device's own directory.

import { type XenAbi, XenbusState } from "@xensim/abi";

export type XenstoreOp =
  | { readonly kind: "write"; readonly path: string; readonly value: string }
  | { readonly kind: "remove"; readonly path: string };

/** One ring (one queue): its grant refs in ring-ref order and its event channel. */
export interface BlkifQueueRing {
  readonly refs: readonly number[];
  readonly evtchn: number;
}

export type CommonEffect =
  | XenstoreOp
  /** Run these in one xenstore transaction, retried whole on EAGAIN. */
  | { readonly kind: "transaction"; readonly ops: readonly XenstoreOp[] }
  /** xenbus_switch_state: write `state` (only emitted when it changes). */
  | { readonly kind: "switchState"; readonly state: XenbusState }
  /**
   * xenbus_dev_fatal: write the `error` node ("<errno> <msg>", Linux puts it at
   * error/<device path>/error). The reducer emits the switchState(Closing) itself, right after.
   */
  | { readonly kind: "fatal"; readonly err: number; readonly msg: string };

/** The text Linux writes to the error node for a fatal effect. */
export function errorNodeValue(e: { readonly err: number; readonly msg: string }): string {
  return `${e.err} ${e.msg}`;
}

export interface NegotiatedRings {
  readonly abi: XenAbi;
  readonly ringPageOrder: number;
  /** The frontend named its refs ring-ref0.. (ring-page-order present) rather than ring-ref. */
  readonly multiRef: boolean;
  readonly queues: readonly BlkifQueueRing[];
  readonly persistent: boolean;
}

export function isXenbusState(n: number): n is XenbusState {
  return Number.isInteger(n) && n >= XenbusState.Unknown && n <= XenbusState.Reconfigured;
}
