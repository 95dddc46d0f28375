export type { HypervisorConfig } from "./config.js";
export { HypervisorConfigSchema } from "./config.js";
export {
  type CreateDomainRequest,
  type DomainInfoView,
  type DomainRecord,
  type DomainStateName,
  Hypervisor,
  type HypervisorOptions,
} from "./core.js";
export { addHypervisorService, HYPERVISOR_METHODS } from "./grpc-api.js";
export { hypervisorService } from "./service.js";
