export { type DeviceModelConfig, DeviceModelConfigSchema } from "./config.js";
export { deviceModelService, DM_XS } from "./service.js";
