// Entry point of the guest runtime (a worker thread of the hypervisor's host process).
import { runServiceMain } from "@xensim/runtime";
import { guestService } from "./service.js";

runServiceMain(guestService);
