export { type PageServerConfig, PageServerConfigSchema } from "./config.js";
export { createWriterStore, type FetchReply, type Fetcher, PageServerCore, type Stats } from "./core.js";
export { pageServerService } from "./service.js";
