export type { DomainExcEvent } from "./domain-exc.js";
export {
  type CreateDomainRequest,
  type DomainInfoView,
  type DomainRecord,
  type DomainStateName,
  Hypervisor,
  type HypervisorOptions,
} from "./hypervisor.js";
