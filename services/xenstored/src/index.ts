export type { XenstoredConfig } from "./config.js";
export { XenstoredConfigSchema } from "./config.js";
export { xenstoredService } from "./service.js";
