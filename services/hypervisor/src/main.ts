// Entry point of the hypervisor service (worker thread of a host process, or a process of its own).
import { runServiceMain } from "@xensim/runtime";
import { hypervisorService } from "./service.js";

runServiceMain(hypervisorService);
