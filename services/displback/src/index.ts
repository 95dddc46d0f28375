export { type DisplbackServiceConfig, DisplbackServiceConfigSchema } from "./config.js";
export { displbackService } from "./service.js";
