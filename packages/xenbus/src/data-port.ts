// The one small port a split driver's data path uses (docs/data-plane.md, "The driver port"):
// publish is MemView.markWritten (the view carries what it must to other host processes), push is
// the ring macros, and the rest is here — kick and grant map/unmap. One adapter per placement
// implements it (@xensim/xenctrl's XenCtrl: atomics in the hypervisor's host process, the link in
// any other), so no driver branches on where its peer runs.
import type { XenbusHypervisor } from "./grant-rings.js";

export interface DataPlanePort<V = unknown> extends XenbusHypervisor<V> {
  /**
   * EVTCHNOP_send on `port`, synchronous (no promise per I/O): an atomic set of the peer's pending
   * bit, or a record on the link. rc 0 / -errno.
   */
  kick(port: number): number;
  /**
   * May the ring's "notify needed" check (RING_PUSH_*_AND_CHECK_NOTIFY) suppress a kick on `port`?
   * True when the port's peer receives in this host process, as in Xen. False when it is in another
   * host process: its req_event/rsp_event in this copy of the ring may be stale, so every push kicks
   * (the link coalesces kicks to one port per flush).
   */
  mayElideKick(port: number): boolean;
}
