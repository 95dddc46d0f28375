// Events across hosts: EVTCHNOP_send executed in the hypervisor's host for a domain whose sender
// runs elsewhere, the events it routes to other hosts (with a fence when the sender writes a frame
// the receiver holds), and delivery into this host's shadow shared_info.

import { setPending, wakeWordIndex } from "@xensim/evtchn";
import { PAGE_SIZE } from "@xensim/memory";
import { type Fence } from "./codec.js";
import { type LinkState, type Peer } from "./state.js";

/** An EVENT for a domain whose events are delivered here; waits for its fence first. */
export function receiveEvent(
  link: LinkState,
  domid: number,
  vcpu: number,
  port: number,
  fence: Fence | undefined,
): void {
  if (fence && fence.writer !== link.hostId && !link.watermarks.reached(fence.writer, fence.seq)) {
    link.watermarks.park(fence.writer, fence.seq, { domid, vcpu, port });
    return;
  }
  deliverLocal(link, domid, vcpu, port);
}

/** Sets (domid, port) pending in this host's shadow shared_info and wakes its receiver. */
export function deliverLocal(link: LinkState, domid: number, vcpu: number, port: number): void {
  let sh = link.shadows.get(domid);
  if (!sh) {
    const frame = link.area.shadowOf(domid, true);
    sh = { frame, view: link.store.viewOfFrames([frame]) };
    link.shadows.set(domid, sh);
  }
  Atomics.store(link.u8, (sh.frame + 1) * PAGE_SIZE + (port & 4095), vcpu + 1);
  link.stats.eventsDelivered++;
  if (setPending(sh.view, vcpu, port)) Atomics.notify(link.i32, wakeWordIndex(sh.frame, vcpu));
}

/** After a resync: every port seen for `domid` may have missed an event (a spurious one is harmless). */
export function raiseAll(link: LinkState, domid: number): void {
  const frame = link.area.shadowOf(domid, false);
  if (!frame) return;
  const base = (frame + 1) * PAGE_SIZE;
  for (let port = 1; port < 4096; port++) {
    const v = Atomics.load(link.u8, base + port);
    if (v !== 0) deliverLocal(link, domid, v - 1, port);
  }
}

/** In the hypervisor's host: EVTCHNOP_send on behalf of a domain whose sender runs at `p`. */
export function executeSend(link: LinkState, p: Peer, caller: number, port: number, seq: number): void {
  const area = link.area;
  if (!area.isAuthority) {
    link.refuse(p, "SEND to a host without the hypervisor");
    return;
  }
  if (!link.actsFor(p, caller)) {
    link.refuse(p, `SEND for domain ${caller}, which does not run there`);
    return;
  }
  link.stats.sendsExecuted++;
  link.forwarding = { writer: p.host, seq };
  try {
    link.eventChannels().evtchnSend(caller, port);
  } finally {
    link.forwarding = undefined;
  }
}

/** The evtchn core routed an event to `peerIndex` (this thread's hook). */
export function forward(link: LinkState, peerIndex: number, domid: number, vcpu: number, port: number): void {
  const t = link.peerAt(peerIndex);
  if (!t) return;
  const f = link.forwarding;
  const fence = f && f.writer !== t.host && link.shares(f.writer, t.host) ? f : undefined;
  if (fence) t.builder.event(domid, vcpu, port, fence);
  else link.queueEvent(t, domid, vcpu, port);
  link.ensureConnected(t);
}
