// Entry point of the toolstack service (worker thread of a host process, or a process of its own).
import { runServiceMain } from "@xensim/runtime";
import { toolstackService } from "./service.js";

runServiceMain(toolstackService);
