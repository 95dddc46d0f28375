// Entry point of the device-model service (worker thread of a host process, or a process of its own).
import { runServiceMain } from "@xensim/runtime";
import { deviceModelService } from "./service.js";

runServiceMain(deviceModelService);
