// Entry point of the xenstored service (worker thread of a host process, or a process of its own).
import { runServiceMain } from "@xensim/runtime";
import { xenstoredService } from "./service.js";

runServiceMain(xenstoredService);
