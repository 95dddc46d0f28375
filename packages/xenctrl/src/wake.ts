// In-process wake-ups. The wake word of a domain's vCPU is the Int32 at the start of its vcpu_info
// in shared_info (byte offset sharedInfoFrame * 4096 + vcpu * 64): its low byte is Xen's
// evtchn_upcall_pending, which the event-channel core sets 0 → 1 exactly when it calls `notify`.
// A receiver waits on that word while the byte is 0 (Atomics.wait / waitAsync with the value it
// read), so a set that happens between its check and its wait is never missed, and the kick is
// `Atomics.notify` on the same word. No state of our own: the flag Xen already has is the futex.
// A receiver in another host process is reached by the link instead (the evtchn core routes the
// event before set-pending; docs/data-plane.md).

import { type EventChannels, type NotifyFn, VCPU_INFO_SIZE, wakeWordIndex } from "@xensim/evtchn";
import type { PageStore } from "@xensim/memory";

export { VCPU_INFO_SIZE, wakeWordIndex };

export interface NotifyOptions {
  store: PageStore;
  /** The cores the notify hook is installed in (to find the domain's shared_info frame). */
  evtchn: () => EventChannels;
}

/** The event-channel `notify` hook: Atomics.notify on the receiver's wake word. */
export function makeNotify(options: NotifyOptions): NotifyFn {
  return (domid, vcpu) => {
    const frame = options.evtchn().sharedInfoFrame(domid);
    if (frame !== 0) Atomics.notify(options.store.i32, wakeWordIndex(frame, vcpu));
  };
}
