export { type GuestServiceConfig, GuestServiceConfigSchema } from "./config.js";
export type { DiskStatusJson, GuestState, GuestStatusJson, WorkloadPhase } from "./guest.js";
export { guestService } from "./service.js";
