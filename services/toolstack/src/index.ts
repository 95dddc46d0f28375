export { buildApi, type ApiOptions, OPENAPI } from "./api.js";
export { type ToolstackServiceConfig, ToolstackServiceConfigSchema } from "./config.js";
export { toolstackService } from "./service.js";
export { type DashboardOptions, type DomainPanelProvider, registerDashboard } from "./dashboard.js";
export { type DiskFigures, diskCounters, diskFigures } from "./dashboard-stats.js";
