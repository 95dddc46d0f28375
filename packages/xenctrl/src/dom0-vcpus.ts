// The dom0 vCPU of each dom0 service (services/hypervisor/README.md, "dom0 vCPUs"). dom0's services
// share its shared_info as Linux's CPUs do: each binds its ports to its own vCPU
// (EVTCHNOP_bind_vcpu) and its receiver consumes only the ports bound there, so two services'
// receivers never take each other's events.
export const DOM0_VCPU = Object.freeze({
  /** VIRQs and every port never moved (Xen's default notify vCPU). */
  default: 0,
  xenstored: 1,
  blkback: 2,
  deviceModel: 3,
  displback: 4,
  /** A second device-model service instance (another emulator of the same guests). */
  deviceModel2: 5,
  /** blkback's queue threads 1, 2, 3 (services/blkback queueThreads). */
  blkbackQueues: Object.freeze([6, 7, 8]),
} as const);
