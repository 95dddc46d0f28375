export { SERVICE_PACKAGES, serviceEntry } from "./services.js";
