export { type DeviceModelConfig, DeviceModelConfigSchema } from "./config.js";
export { deviceModelService } from "./service.js";
