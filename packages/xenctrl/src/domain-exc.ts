// The body of the hypervisor's domain exception events (VIRQ_DOM_EXC on the bus, on
// @xensim/subjects HYPERVISOR_SUBJECTS.domainExc): JSON, encoded and decoded in one place.

import type { DomainExcEvent } from "@xensim/hypervisor";

export type { DomainExcEvent };

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeDomainExc(v: DomainExcEvent): Uint8Array {
  return enc.encode(JSON.stringify(v));
}

export function decodeDomainExc(data: Uint8Array): DomainExcEvent {
  return JSON.parse(dec.decode(data)) as DomainExcEvent;
}
