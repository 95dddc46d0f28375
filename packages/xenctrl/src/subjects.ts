// Event-bus subjects of the hypervisor, named in one place (xenstored subscribes to the domain
// exception subject to fire @releaseDomain).

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
});

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeJson(v: DomainExcEvent): Uint8Array {
  return enc.encode(JSON.stringify(v));
}

export function decodeDomainExc(data: Uint8Array): DomainExcEvent {
  return JSON.parse(dec.decode(data)) as DomainExcEvent;
}
