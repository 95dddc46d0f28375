export { type BlkbackServiceConfig, BlkbackServiceConfigSchema } from "./config.js";
export { blkbackService, storeOpener } from "./service.js";
