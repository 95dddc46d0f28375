// Event-bus subjects of the hypervisor, named in one place (xenstored subscribes to the domain
// exception subject to fire @releaseDomain; receivers in other host processes to the wake subject).

import type { DomainExcEvent } from "@xensim/hypervisor";

export type { DomainExcEvent };

/** Subjects the hypervisor publishes on. */
export const HYPERVISOR_SUBJECTS = Object.freeze({
  /**
   * VIRQ_DOM_EXC as an event: a domain shut down, was destroyed (dying) or finally died; also a
   * soft reset done (state "soft_reset", published without the VIRQ).
   */
  domainExc: (domid: number): string => `hypervisor.domain.${domid}.exc`,
  /** Every domain's exception events (for a subscription). */
  domainExcAll: "hypervisor.domain.*.exc",
  /** An event-channel wake-up for a domain whose guest runs in another host process (a hint). */
  evtchnWake: (domid: number): string => `evtchn.${domid}`,
  /** Every domain's wake-ups. */
  evtchnWakeAll: "evtchn.*",
});

/** A replication fence: the receiver must have applied the writer's stream up to `seq`. */
export interface Fence {
  host: string;
  seq: number;
}

/** Body of `evtchn.<domid>` (JSON): rescan the pending bits of `vcpu`; `port` is informational. */
export interface EvtchnWakeEvent {
  domid: number;
  vcpu: number;
  port: number;
  fence?: Fence;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeJson(v: DomainExcEvent | EvtchnWakeEvent): Uint8Array {
  return enc.encode(JSON.stringify(v));
}

export function decodeDomainExc(data: Uint8Array): DomainExcEvent {
  return JSON.parse(dec.decode(data)) as DomainExcEvent;
}

export function decodeEvtchnWake(data: Uint8Array): EvtchnWakeEvent {
  return JSON.parse(dec.decode(data)) as EvtchnWakeEvent;
}
