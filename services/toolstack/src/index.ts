export { buildApi, type ApiOptions, OPENAPI } from "./api.js";
export { type ToolstackServiceConfig, ToolstackServiceConfigSchema } from "./config.js";
export { toolstackService } from "./service.js";
