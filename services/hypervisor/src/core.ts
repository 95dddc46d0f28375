// The hypervisor's logic lives in @xensim/hypervisor (a protocol package: no I/O); this service is
// its wiring. Re-exported here so files of the service keep one local import.
export {
  type CreateDomainRequest,
  type DomainExcEvent,
  type DomainInfoView,
  type DomainRecord,
  type DomainStateName,
  Hypervisor,
  type HypervisorOptions,
} from "@xensim/hypervisor";
