export { type LinkFaultConfig, type PageServerConfig, PageServerConfigSchema } from "./config.js";
export { type LinkAddress, LinkSockets } from "./link-sockets.js";
export { pageServerService } from "./service.js";
